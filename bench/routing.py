"""Secure routing receive throughput: our routing client next to xknx on one multicast group.

A sender on 127.0.0.1 keeps the group's time (our ``SecureRouting`` node as timekeeper, so
that both receivers synchronise to it as they would to a router) and floods pre-built
SECURE_WRAPPER frames, each a ROUTING_INDICATION with a GroupValueWrite: every frame's timer
is one millisecond above the previous one, so each is fresh and none is a replay. The group is
the keyring's Backbone address (xknx takes it from there whatever it is told), on 127.0.0.1. The
receivers take turns (ours, xknx, ours, ...), never listen at the same time, and count the
group telegrams they deliver to their callback: decrypted, MAC verified, timer checked and
parsed. The sender sends a burst, then waits until the receiver delivered it (or stalls), so
the kernel's receive buffer never overflows and the figure is the receiver's own pace;
building the frames is outside the timing, sending them inside (the same for both).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

from xknx import XKNX
from xknx.io import ConnectionConfig, ConnectionType, SecureConfig
from xknx.io.transport.udp_transport import UDPTransport
from xknx.telegram import Telegram as XTelegram

from bench.common import FIXTURES, KEYRINGS, Result
from bench.network import quiet_xknx
from custom_components.knx_secure.knx import cemi, knxip
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring
from custom_components.knx_secure.knx.routing import SecureRouting
from custom_components.knx_secure.knx.routing_client import RoutingClient
from custom_components.knx_secure.knx.routing_edge import (
    RoutingEndpoint,
    open_routing,
    routing_node,
)

KEYRING_NAME = "Secure Test.knxkeys"
INTERFACE = "127.0.0.1"
#: A group address without a Data Secure key: the figure is routing's own (IP Secure).
TARGET_GA = GroupAddress.parse("0/0/5")
SENDER_ADDRESS = IndividualAddress.parse("1.1.10")
SENDER_SERIAL = bytes.fromhex("00fa00000b0b")

ROUNDS = 4  # ours, xknx, ours, xknx, ...: drifts of the machine hit both
FRAMES = 3000  # per round
BURST = 50  # datagrams per burst: far below the default receive buffer
STALL = 0.25  # a burst not delivered within this long counts its missing frames as lost
JOIN_TIMEOUT = 10.0  # both wait for the timekeeper's answer (about 0.3 s to 1.3 s)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((INTERFACE, 0))
        port: int = probe.getsockname()[1]
        return port


class Counter:
    """Telegrams delivered to a receiver's callback; wakes the sender at its target."""

    def __init__(self) -> None:
        self.count = 0
        self._target = 0
        self._reached = asyncio.Event()

    def delivered(self, *_: object) -> None:
        self.count += 1
        if self.count >= self._target:
            self._reached.set()

    async def wait_for(self, target: int) -> None:
        """Until ``target`` telegrams arrived, or until STALL passes without them."""
        self._target = target
        if self.count >= target:
            return
        self._reached.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STALL):
                await self._reached.wait()


class Sender:
    """The group's timekeeper, and the flood of frames it seals."""

    def __init__(self, keyring: Keyring, port: int) -> None:
        backbone = keyring.backbone
        assert backbone is not None
        self.group = backbone.multicast_address
        self.port = port
        self.node = routing_node(backbone, SENDER_SERIAL)
        assert isinstance(self.node, SecureRouting)  # the keyring has a backbone key
        self._endpoint = RoutingEndpoint(self.node, lambda _cemi: None, keep_time=True)
        self._flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._flood.setsockopt(
            socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(INTERFACE)
        )
        self._closers: list[Callable[[], Awaitable[None]]] = []

    async def start(self) -> None:
        driver = await open_routing(self._endpoint, self.group, self.port, INTERFACE)
        await self._endpoint.synchronised

        async def close() -> None:
            driver.close()
            await driver.closed

        self._closers.append(close)

    async def stop(self) -> None:
        for close in self._closers:
            await close()
        self._flood.close()

    def frames(self, count: int) -> list[bytes]:
        """``count`` sealed ROUTING_INDICATIONs with consecutive timers (not timed)."""
        telegram = cemi.LData(
            code=cemi.MessageCode.L_DATA_IND,
            src=SENDER_ADDRESS,
            dst=TARGET_GA,
            tpdu=cemi.group_value_write(1),
        )
        frame = knxip.encode(knxip.RoutingIndication(telegram.encode()))
        now = asyncio.get_running_loop().time()
        return [self.node.send(frame, now) for _ in range(count)]

    async def flood(self, frames: list[bytes], counter: Counter) -> float:
        """Send ``frames`` in bursts, each once the previous one was delivered; the rate."""
        destination = (self.group, self.port)
        sendto = self._flood.sendto
        first = counter.count
        start = time.perf_counter()
        for offset in range(0, len(frames), BURST):
            burst = frames[offset : offset + BURST]
            for data in burst:
                sendto(data, destination)
            await counter.wait_for(first + offset + len(burst))
        elapsed = time.perf_counter() - start
        return (counter.count - first) / elapsed


@contextlib.asynccontextmanager
async def ours(keyring: Keyring, sender: Sender, counter: Counter) -> AsyncIterator[None]:
    client = RoutingClient(
        keyring, group=sender.group, port=sender.port, interface=INTERFACE, secure=True
    )
    client.subscribe(counter.delivered)
    async with asyncio.timeout(JOIN_TIMEOUT):
        await client.connect()
    try:
        yield
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def theirs(keyring: Keyring, sender: Sender, counter: Counter) -> AsyncIterator[None]:
    backbone = keyring.backbone
    assert backbone is not None
    assert backbone.key is not None

    def received(_telegram: XTelegram) -> None:
        counter.delivered()

    xknx = XKNX(
        connection_config=ConnectionConfig(
            connection_type=ConnectionType.ROUTING_SECURE,
            individual_address="15.15.249",
            local_ip=INTERFACE,
            multicast_group=sender.group,
            multicast_port=sender.port,
            auto_reconnect=False,
            secure_config=SecureConfig(
                backbone_key=backbone.key.hex(),
                latency_ms=backbone.latency_ms,
                knxkeys_file_path=FIXTURES / KEYRING_NAME,
                knxkeys_password=KEYRINGS[KEYRING_NAME],
            ),
        ),
        telegram_received_cb=received,
    )
    try:
        async with asyncio.timeout(JOIN_TIMEOUT):
            await xknx.start()
        yield
    finally:
        await xknx.stop()


@contextlib.contextmanager
def _xknx_sends_on_loopback() -> Iterator[None]:
    """xknx does not choose the multicast interface of its sending socket: the kernel would
    send 239.x by the default route, where nobody on 127.0.0.1 hears it (on a real LAN its
    local_ip is that interface). Set IP_MULTICAST_IF once its transport is open."""
    connect = UDPTransport.connect

    async def connect_on_loopback(self: UDPTransport) -> None:
        await connect(self)
        if self.multicast and self.transport is not None:
            sock = self.transport.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(INTERFACE))

    UDPTransport.connect = connect_on_loopback  # type: ignore[method-assign]
    try:
        yield
    finally:
        UDPTransport.connect = connect  # type: ignore[method-assign]


Receiver = Callable[[Keyring, Sender, Counter], contextlib.AbstractAsyncContextManager[None]]


async def _round(sender: Sender, keyring: Keyring, receiver: Receiver) -> tuple[float, int]:
    counter = Counter()
    async with receiver(keyring, sender, counter):
        frames = sender.frames(FRAMES)
        rate = await sender.flood(frames, counter)
    return rate, FRAMES - counter.count


async def run() -> list[Result]:
    keyring = load_keyring(FIXTURES / KEYRING_NAME, KEYRINGS[KEYRING_NAME])
    sender = Sender(keyring, _free_udp_port())
    rates: dict[str, list[float]] = {"ours": [], "xknx": []}
    lost = {"ours": 0, "xknx": 0}
    with quiet_xknx(), _xknx_sends_on_loopback():
        await sender.start()
        try:
            for _ in range(ROUNDS):
                for name, receiver in (("ours", ours), ("xknx", theirs)):
                    rate, missing = await _round(sender, keyring, receiver)
                    rates[name].append(rate)
                    lost[name] += missing
        finally:
            await sender.stop()
    results = [
        Result(
            "secure routing receive: group telegrams decrypted + verified",
            "ops/s",
            max(rates["ours"]),
            max(rates["xknx"]),
        )
    ]
    if any(lost.values()):
        results.append(
            Result("secure routing receive: frames not delivered", "count", *lost.values())
        )
    return results
