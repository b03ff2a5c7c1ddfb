"""routing_edge.py, router.py, routing_client.py: our client and our virtual router on a
multicast group on 127.0.0.1 (secure with the keyring's backbone key, and plain)."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from custom_components.knx_secure.knx import knxip
from custom_components.knx_secure.knx.address import IndividualAddress
from custom_components.knx_secure.knx.cemi import LData, MessageCode, group_value_write
from custom_components.knx_secure.knx.cli import build_parser, main
from custom_components.knx_secure.knx.drops import DropReason
from custom_components.knx_secure.knx.errors import NotConnectedError
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring
from custom_components.knx_secure.knx.multicast import multicast_socket
from custom_components.knx_secure.knx.router import VirtualRouter
from custom_components.knx_secure.knx.routing import PlainRouting, SecureRouting
from custom_components.knx_secure.knx.routing_client import RoutingClient
from custom_components.knx_secure.knx.routing_edge import RoutingEndpoint
from custom_components.knx_secure.knx.scenario import run_scenario
from custom_components.knx_secure.knx.session import WrapperCipher

from ..helpers import STATUS, SWITCH, virtual_gateway
from .conftest import SECURE_TEST

pytestmark = pytest.mark.timeout(60)

GROUP = "239.255.71.2"  # administratively scoped: never leaves this host in tests
WAIT = 5.0  # upper bound of every wait on an event below


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def without_backbone_key(keyring: Keyring) -> Keyring:
    """The keyring without its backbone key: plain routing (Data Secure stays)."""
    assert keyring.backbone is not None
    return dataclasses.replace(keyring, backbone=dataclasses.replace(keyring.backbone, key=None))


async def until(condition: Callable[[], bool]) -> None:
    """Wait (on the loop, no fixed sleep) until ``condition`` holds; fail after WAIT."""
    async with asyncio.timeout(WAIT):
        while not condition():  # noqa: ASYNC110 - counters moved by datagrams on real sockets
            await asyncio.sleep(0.005)


@dataclasses.dataclass
class Installation:
    gateway: VirtualGateway
    router: VirtualRouter
    port: int
    group: str = GROUP

    def client(self, keyring: Keyring | None = None) -> RoutingClient:
        return RoutingClient(
            keyring or self.gateway.keyring, group=self.group, port=self.port, interface="127.0.0.1"
        )

    def listener(self) -> socket.socket:
        """A plain multicast socket on the group: sees every datagram, sends raw ones."""
        return multicast_socket(self.group, self.port, "127.0.0.1")


async def start_installation(keyring: Keyring, group: str = GROUP) -> Installation:
    port = free_udp_port()
    gateway = virtual_gateway(keyring)
    router = VirtualRouter(gateway, group=group, port=port, interface="127.0.0.1")
    await router.start()
    return Installation(gateway, router, port, group)


@pytest.fixture
async def secure(keyring: Keyring) -> AsyncIterator[Installation]:
    installation = await start_installation(keyring)
    yield installation
    await installation.router.stop()


@pytest.fixture(params=["secure", "plain"])
async def installation(
    request: pytest.FixtureRequest, keyring: Keyring
) -> AsyncIterator[Installation]:
    used = keyring if request.param == "secure" else without_backbone_key(keyring)
    installation = await start_installation(used)
    yield installation
    await installation.router.stop()


async def switch_and_read(client: RoutingClient, on: bool) -> None:
    """Write ``on``, wait for the actuator's status, then read it back."""
    statuses = client.telegrams()
    await client.write(SWITCH, int(on))
    async with asyncio.timeout(WAIT):
        async for telegram in statuses:
            if telegram.dst == STATUS and telegram.value == int(on):
                assert telegram.secure  # Data Secure from the actuator through the router
                break
    answer = await client.read(STATUS, timeout=WAIT)
    assert answer.value == int(on)
    assert answer.secure


# --- our client and our router ----------------------------------------------------------------


async def test_our_client_switches_through_our_router(installation: Installation) -> None:
    client = installation.client()
    await client.connect()
    try:
        assert client.secure_routing is installation.router.secure
        for on in (True, False):
            await switch_and_read(client, on)
            assert installation.gateway.switch_state(SWITCH) is on
        assert not any(client.dropped.values())  # Data Secure accepted everything
    finally:
        await client.close()


async def test_the_scenario_runs_over_secure_routing(secure: Installation, tmp_path: Path) -> None:
    args = build_parser().parse_args(
        [
            "scenario",
            "--connection",
            "routing",
            "--keyring",
            str(SECURE_TEST.path),
            "--multicast-group",
            GROUP,
            "--port",
            str(secure.port),
            "--interface",
            "127.0.0.1",
            "--state",
            str(tmp_path / "state.json"),
        ]
    )
    args.password = SECURE_TEST.password
    out = io.StringIO()
    assert await run_scenario(args, out) == 0, out.getvalue()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[-1]["result"] == "ok", lines
    connect = next(line for line in lines if line.get("step") == "connect")
    assert connect["secure"] is True
    assert connect["tunnel"] == "15.15.250"
    assert [line["value"] for line in lines if line.get("step") == "status"] == [True, False]


def test_scenario_needs_a_gateway_unless_routing(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scenario", "--keyring", str(SECURE_TEST.path), "--password", "x"])
    assert code == 1
    assert "scenario needs --gateway HOST:PORT (or --connection routing)" in capsys.readouterr().err


# --- what the router drops and counts ------------------------------------------------------


def backbone_key(installation: Installation) -> bytes:
    backbone = installation.gateway.keyring.backbone
    assert backbone is not None
    assert backbone.key is not None
    return backbone.key


async def send_switch_wrapper(
    installation: Installation, key: bytes, timer: int, reason: DropReason
) -> None:
    """A secure routing frame switching SWITCH on, from another node: wait for its drop."""
    frame = knxip.encode(knxip.RoutingIndication(_switch_cemi()))
    wrapper = WrapperCipher(key).seal(
        session_id=0, sequence=timer, serial=b"\x00\xfa\x01\x02\x03\x04", tag=7, plain_frame=frame
    )
    sock = installation.listener()
    try:
        sock.sendto(wrapper, (installation.group, installation.port))
        await until(lambda: installation.router.dropped.get(reason, 0) == 1)
    finally:
        sock.close()
    assert installation.gateway.switch_state(SWITCH) is False


async def test_a_wrong_backbone_key_is_dropped_and_counted(secure: Installation) -> None:
    wrong = bytes(b ^ 0xFF for b in backbone_key(secure))
    node = secure.router.endpoint.node  # type: ignore[union-attr]
    assert isinstance(node, SecureRouting)
    now = node.timer(asyncio.get_running_loop().time())
    await send_switch_wrapper(secure, wrong, now, DropReason.MAC)


async def test_a_client_with_a_wrong_backbone_key_switches_nothing(secure: Installation) -> None:
    """Its TIMER_NOTIFY and its wrapper fail the router's MAC check: both counted, no switch.
    (Nobody it can verify answers, so it keeps its own time: a short latency keeps that short.)"""
    keyring = secure.gateway.keyring
    assert keyring.backbone is not None
    wrong = dataclasses.replace(
        keyring.backbone,
        key=bytes(b ^ 0x55 for b in backbone_key(secure)),
        latency_ms=100,
    )
    client = secure.client(dataclasses.replace(keyring, backbone=wrong))
    await client.connect()
    try:
        assert client.endpoint is not None
        assert client.endpoint.synchronised.result() is True  # timekeeper of its own group
        await until(lambda: secure.router.dropped.get(DropReason.MAC, 0) >= 1)
        before = secure.router.dropped.get(DropReason.MAC, 0)
        await client.write(SWITCH, 1)
        await until(lambda: secure.router.dropped.get(DropReason.MAC, 0) > before)
        assert secure.gateway.switch_state(SWITCH) is False
    finally:
        await client.close()


async def test_a_replayed_routing_frame_is_dropped_and_counted(secure: Installation) -> None:
    sock = secure.listener()
    sock.setblocking(False)
    client = secure.client()
    await client.connect()
    try:
        loop = asyncio.get_running_loop()
        await client.write(SWITCH, 1)
        await until(lambda: secure.gateway.switch_state(SWITCH))
        captured = await _first_wrapper_from(loop, sock, client.endpoint.node.serial)  # type: ignore[union-attr]
        secure.gateway.set_switch(SWITCH, False)
        sock.sendto(captured, (secure.group, secure.port))  # the same datagram again
        await until(lambda: secure.router.dropped.get(DropReason.REPLAY, 0) == 1)
        assert secure.gateway.switch_state(SWITCH) is False  # not switched on again
    finally:
        await client.close()
        sock.close()


async def test_a_frame_with_a_stale_timer_is_dropped_and_counted(secure: Installation) -> None:
    node = secure.router.endpoint.node  # type: ignore[union-attr]
    assert isinstance(node, SecureRouting)
    stale = node.timer(asyncio.get_running_loop().time()) - node.latency_ms - 1000
    await send_switch_wrapper(secure, backbone_key(secure), stale, DropReason.REPLAY)


async def test_routing_busy_pauses_our_client(installation: Installation) -> None:
    client = installation.client()
    await client.connect()
    arrivals: list[float] = []
    loop = asyncio.get_running_loop()

    class Spy:
        def deliver(self, frame: LData) -> None:
            if frame.dst == SWITCH:
                arrivals.append(loop.time())

    installation.gateway.bus.attach(Spy())
    try:
        endpoint = client.endpoint
        assert endpoint is not None
        installation.router.send_busy(300)
        await until(lambda: endpoint.busy_frames == 1)
        heard = loop.time()
        assert endpoint.flow.paused(heard)
        pause_end = endpoint.flow.ready_at(heard)  # 300 ms after the client heard it
        await client.write(SWITCH, 1)  # returns once the pause is over and it is sent
        await until(lambda: bool(arrivals))
        assert arrivals[0] >= pause_end  # the router saw nothing before the pause was over
    finally:
        await client.close()


async def test_routing_lost_message_is_counted(installation: Installation) -> None:
    client = installation.client()
    await client.connect()
    try:
        endpoint = installation.router.endpoint
        assert endpoint is not None
        lost = knxip.RoutingLostMessage(device_state=0, lost_messages=3)
        endpoint.send_frame(lost, asyncio.get_running_loop().time())
        assert client.endpoint is not None
        await until(lambda: client.endpoint is not None and client.endpoint.lost_messages == 3)
    finally:
        await client.close()


def _switch_cemi() -> bytes:
    frame = LData(
        code=MessageCode.L_DATA_IND,
        src=IndividualAddress.parse("15.15.1"),
        dst=SWITCH,
        tpdu=group_value_write(1),
    )
    return frame.encode()


async def _first_wrapper_from(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, serial: bytes
) -> bytes:
    """The first SECURE_WRAPPER on the group that ``serial`` sent."""
    async with asyncio.timeout(WAIT):
        while True:
            data = await loop.sock_recv(sock, 2048)
            parsed = knxip.parse(data)
            if isinstance(parsed, knxip.SecureWrapper) and parsed.serial == serial:
                return data


# --- the endpoint on an injected clock ------------------------------------------------------


async def test_the_send_queue_follows_the_flow_control_and_is_bounded() -> None:
    sent: list[bytes] = []
    endpoint = RoutingEndpoint(PlainRouting(), lambda cemi: None, max_queued=2)
    endpoint.attach(sent.append, lambda: None)
    endpoint.opened(0.0)
    busy = knxip.encode(knxip.RoutingBusy(device_state=0, wait_time_ms=100))
    endpoint.frame_received(busy, 0.0)
    first = endpoint.send_cemi(_switch_cemi(), 0.01)
    second = endpoint.send_cemi(_switch_cemi(), 0.01)
    third = endpoint.send_cemi(_switch_cemi(), 0.01)
    with pytest.raises(NotConnectedError, match="2 frames wait for the flow control"):
        third.result()
    assert sent == []  # paused by ROUTING_BUSY
    deadline = endpoint.next_deadline()
    assert deadline == pytest.approx(0.1)
    endpoint.tick(deadline)
    assert first.done()
    assert not second.done()  # one ROUTING_INDICATION per 20 ms
    deadline = endpoint.next_deadline()
    assert deadline == pytest.approx(0.12)
    endpoint.tick(deadline)
    assert second.done()
    assert len(sent) == 2
    endpoint.lost(None, 0.2)
