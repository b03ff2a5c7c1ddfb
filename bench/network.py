"""End-to-end benchmarks through a real secure tunnel: our client next to xknx.

The same round trips then run through plain UDP tunnels of a ``--plain`` gateway (tunnelling
acks and sequence counters, no IP Secure; Data Secure still end to end).

One VirtualGateway runs in this process on 127.0.0.1 (the actuator 1/1/1 -> 1/1/2 answers
at once: status_delay=0), and both clients talk to it over TCP with KNX IP Secure and
KNX Data Secure (1/1/1 and 1/1/2 have keys in the keyring). They take turns, never run
at the same time, and each uses its own tunnel (user 2 for ours, user 3 for xknx), so
neither sees the other's traffic. The gateway's share of the CPU is in both figures.

Fairness of the connect figure: both get the keyring already decrypted and the tunnel's
credentials (no keyring PBKDF2, no UDP description). xknx derives the user password key
and the device authentication key (PBKDF2, 65536 rounds each) on every connect; ours
caches them per process. So the first row clears our cache before every connect (both
pay the two PBKDF2), the second one memoises xknx's two derivations for the duration
(both skip them): the handshake itself, and what a reconnect of ours costs. The third
row is the longest the event loop was blocked during a cold connect (median over the
connects): xknx derives on the event loop, ours in the executor.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from xknx import XKNX
from xknx.dpt.payload import DPTBinary
from xknx.io import ConnectionConfig, ConnectionType, SecureConfig, ip_secure
from xknx.secure.data_secure import DataSecure as XknxDataSecure
from xknx.secure.keyring import Keyring as XknxKeyring
from xknx.secure.keyring import sync_load_keyring
from xknx.telegram import GroupAddress as XGroupAddress
from xknx.telegram import Telegram as XTelegram
from xknx.telegram.apci import GroupValueWrite as XGroupValueWrite

from bench.common import FIXTURES, KEYRINGS, Result, StallMonitor, median, percentile
from custom_components.knx_secure.knx import crypto
from custom_components.knx_secure.knx.address import GroupAddress
from custom_components.knx_secure.knx.cemi import APCI
from custom_components.knx_secure.knx.client import (
    Connection,
    SecureTunnelClient,
    SecurityState,
    Telegram,
    TunnelChoice,
)
from custom_components.knx_secure.knx.gateway import SwitchSpec, VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring, KeyringInterface, load_keyring

KEYRING_NAME = "Secure Test.knxkeys"
WRITE_GA = GroupAddress.parse("1/1/1")
STATUS_GA = GroupAddress.parse("1/1/2")

CONNECTS = 20  # per implementation and row
ROUND_TRIPS = 300  # per implementation, over ROUNDS rounds
WARMUP_ROUND_TRIPS = 20
ROUNDS = 4  # ours, xknx, ours, xknx, ...: drifts of the machine hit both
THROUGHPUT_SECONDS = 0.5  # per round and implementation (ROUNDS x 0.5 s = ~2 s each)
STEP_TIMEOUT = 5.0  # one connect, write or status wait
SECTION_TIMEOUT = 120.0


# --- the two implementations behind one small interface ------------------------------------


class Peer:
    """A connected client: write (returns on L_Data.con) and await a status value."""

    def __init__(self) -> None:
        self._waiter: tuple[bool, asyncio.Future[None]] | None = None

    def expect_status(self, on: bool) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiter = (on, future)
        return future

    def _status(self, on: bool) -> None:
        if self._waiter is not None and self._waiter[0] == on and not self._waiter[1].done():
            self._waiter[1].set_result(None)
            self._waiter = None

    async def write(self, on: bool) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class OurPeer(Peer):
    def __init__(self, client: SecureTunnelClient) -> None:
        super().__init__()
        self.client = client
        client.subscribe(self._on_telegram)

    def _on_telegram(self, telegram: Telegram) -> None:
        if (
            telegram.dst == STATUS_GA
            and telegram.apci is APCI.GROUP_VALUE_WRITE
            and isinstance(telegram.value, int)
        ):
            self._status(bool(telegram.value))

    async def write(self, on: bool) -> None:
        await self.client.write(WRITE_GA, int(on))

    async def close(self) -> None:
        await self.client.close()

    @property
    def sequence_number(self) -> int:
        return self.client.security_state.sequence_number


class XknxPeer(Peer):
    def __init__(self) -> None:
        super().__init__()
        self.xknx: XKNX | None = None
        self._status_ga = XGroupAddress(str(STATUS_GA))
        self._write_ga = XGroupAddress(str(WRITE_GA))

    def on_telegram(self, telegram: XTelegram) -> None:
        payload = telegram.payload
        if (
            telegram.destination_address == self._status_ga
            and isinstance(payload, XGroupValueWrite)
            and isinstance(payload.value, DPTBinary)
        ):
            self._status(bool(payload.value.value))

    async def write(self, on: bool) -> None:
        assert self.xknx is not None
        telegram = XTelegram(
            destination_address=self._write_ga, payload=XGroupValueWrite(DPTBinary(on))
        )
        # CEMIHandler.send_telegram returns once the L_Data.con came (or raises).
        await self.xknx.cemi_handler.send_telegram(telegram)

    async def close(self) -> None:
        assert self.xknx is not None
        await self.xknx.stop()

    @property
    def _data_secure(self) -> XknxDataSecure:
        assert self.xknx is not None
        data_secure = self.xknx.cemi_handler.data_secure
        assert data_secure is not None
        return data_secure

    @property
    def sequence_number(self) -> int:
        return self._data_secure._sequence_number_sending

    def continue_after(self, sequence_number: int) -> None:
        """What xknx's DataSecure(last_sequence_number_sending=...) does, which XKNX
        does not expose: send above the last sequence number of the previous client."""
        data_secure = self._data_secure
        data_secure._sequence_number_sending = max(
            data_secure._sequence_number_sending,
            sequence_number + 1,
        )


class CarriedCounter:
    """A SecurityStore that hands the previous client's sequence number to the next one
    (the integration persists it the same way; saving in memory costs nothing here)."""

    def __init__(self) -> None:
        self.state: SecurityState | None = None

    def load(self) -> SecurityState | None:
        return self.state

    def save(self, state: SecurityState) -> None:
        pass  # the bench reads the client's state when it closes

    async def flush(self) -> None:
        pass  # nothing is written


@dataclass
class Bench:
    gateway: VirtualGateway
    keyring: Keyring
    xknx_keyring: XknxKeyring
    ours_tunnel: KeyringInterface
    xknx_tunnel: KeyringInterface
    samples: dict[str, list[float]] = field(default_factory=dict)
    # A fresh client starts its Data Secure sequence number at the clock (ms); a round
    # sends faster than 1/ms, so the next client on the same tunnel would be behind the
    # actuator's freshness table (a replay): every client continues the previous one's.
    ours_counter: CarriedCounter = field(default_factory=CarriedCounter)
    xknx_sequence_number: int = 0
    #: Secure TCP tunnels, or plain UDP tunnels of ``gateway --plain`` (Data Secure on both).
    connection: Connection = Connection.TUNNEL_SECURE

    @property
    def port(self) -> int:
        return self.gateway.address[1]

    async def connect_ours(self) -> OurPeer:
        tunnel = self.ours_tunnel
        client = SecureTunnelClient(
            self.keyring,
            "127.0.0.1",
            self.port,
            tunnel=TunnelChoice(
                individual_address=tunnel.individual_address,
                user_id=tunnel.user_id,
                host=self.gateway.host,
            ),
            store=self.ours_counter,
            connection=self.connection,
        )
        peer = OurPeer(client)
        async with asyncio.timeout(STEP_TIMEOUT):
            await client.connect()
        return peer

    async def connect_xknx(self) -> XknxPeer:
        tunnel = self.xknx_tunnel
        peer = XknxPeer()
        if self.connection is Connection.TUNNEL_UDP:
            config = ConnectionConfig(
                connection_type=ConnectionType.TUNNELING,
                gateway_ip="127.0.0.1",
                gateway_port=self.port,
                local_ip="127.0.0.1",
                auto_reconnect=False,
                individual_address=str(tunnel.individual_address),
                secure_config=SecureConfig(keyring=self.xknx_keyring),  # Data Secure only
            )
        else:
            config = ConnectionConfig(
                connection_type=ConnectionType.TUNNELING_TCP_SECURE,
                gateway_ip="127.0.0.1",
                gateway_port=self.port,
                auto_reconnect=False,
                secure_config=SecureConfig(
                    user_id=tunnel.user_id,
                    user_password=tunnel.password,
                    device_authentication_password=tunnel.device_authentication,
                    keyring=self.xknx_keyring,  # Data Secure keys, decrypted once
                ),
            )
        xknx = XKNX(connection_config=config, telegram_received_cb=peer.on_telegram)
        peer.xknx = xknx
        try:
            async with asyncio.timeout(STEP_TIMEOUT):
                await xknx.start()
        except BaseException:
            await xknx.stop()
            raise
        peer.continue_after(self.xknx_sequence_number)
        return peer

    async def released(self) -> None:
        """Wait until the gateway has let go of every session (the tunnels are free)."""
        async with asyncio.timeout(STEP_TIMEOUT):
            while self.gateway.sessions or self.gateway.tunnels_in_use:  # noqa: ASYNC110
                await asyncio.sleep(0.001)  # no event to wait on: the gateway is polled

    @contextlib.asynccontextmanager
    async def connected(self, connect: Callable[[], Awaitable[Peer]]) -> AsyncIterator[Peer]:
        peer = await connect()
        try:
            yield peer
        finally:
            # a plain UDP tunnel is the gateway's first free one: both may send from the
            # same individual address, so each continues above the other's last number too
            if isinstance(peer, OurPeer | XknxPeer):
                last = max(self.xknx_sequence_number, peer.sequence_number)
                self.xknx_sequence_number = last
                self.ours_counter.state = SecurityState(last)
            await peer.close()
            await self.released()


# --- measurements ----------------------------------------------------------------------------


async def _time_connect(
    bench: Bench, connect: Callable[[], Awaitable[Peer]], stalls: list[float] | None = None
) -> float:
    async with StallMonitor().watching() as monitor:
        start = time.perf_counter()
        peer = await connect()
        elapsed = time.perf_counter() - start
    if stalls is not None:
        stalls.append(monitor.longest * 1000)
    await peer.close()
    await bench.released()
    return elapsed * 1000


def _clear_kdf_caches() -> None:
    crypto.derive_user_password_key.cache_clear()
    crypto.derive_device_authentication_key.cache_clear()


_XKNX_DERIVE_USER = functools.cache(ip_secure.derive_user_password)
_XKNX_DERIVE_DEVICE = functools.cache(ip_secure.derive_device_authentication_password)


@contextlib.contextmanager
def _xknx_keys_cached() -> Iterator[None]:
    """Memoise xknx's two PBKDF2 derivations (as ours are): a like-for-like handshake."""
    saved = ip_secure.derive_user_password, ip_secure.derive_device_authentication_password
    ip_secure.derive_user_password = _XKNX_DERIVE_USER
    ip_secure.derive_device_authentication_password = _XKNX_DERIVE_DEVICE
    try:
        yield
    finally:
        ip_secure.derive_user_password, ip_secure.derive_device_authentication_password = saved


async def connect_results(bench: Bench) -> list[Result]:
    samples: dict[str, list[float]] = {
        name: [] for name in ("ours cold", "xknx cold", "ours", "xknx", "ours stall", "xknx stall")
    }
    # one untimed connect each first: imports, first-use setup of both stacks
    await _time_connect(bench, bench.connect_ours)
    await _time_connect(bench, bench.connect_xknx)
    with _xknx_keys_cached():
        await _time_connect(bench, bench.connect_xknx)  # fills the cache
    for _ in range(CONNECTS):
        _clear_kdf_caches()
        samples["ours cold"].append(
            await _time_connect(bench, bench.connect_ours, samples["ours stall"])
        )
        samples["xknx cold"].append(
            await _time_connect(bench, bench.connect_xknx, samples["xknx stall"])
        )
        samples["ours"].append(await _time_connect(bench, bench.connect_ours))
        with _xknx_keys_cached():
            samples["xknx"].append(await _time_connect(bench, bench.connect_xknx))
    cold = "connect: TCP + session + auth + tunnel, PBKDF2 of the keys"
    return [
        Result(cold, "ms", median(samples["ours cold"]), median(samples["xknx cold"])),
        Result(
            "connect: same, derived keys cached",
            "ms",
            median(samples["ours"]),
            median(samples["xknx"]),
        ),
        Result(
            "connect (cold keys): longest event-loop stall",
            "ms",
            median(samples["ours stall"]),
            median(samples["xknx stall"]),
        ),
    ]


async def _round_trip(peer: Peer, on: bool) -> float:
    start = time.perf_counter()
    status = peer.expect_status(on)
    async with asyncio.timeout(STEP_TIMEOUT):
        await peer.write(on)
        await status
    return (time.perf_counter() - start) * 1_000_000  # microseconds: sub-ms figures


async def _traffic(bench: Bench, peer: Peer, label: str) -> None:
    """Round trips (latency) then back-to-back confirmed writes (throughput)."""
    on = not bench.gateway.switch_state(WRITE_GA)
    for _ in range(WARMUP_ROUND_TRIPS):
        await _round_trip(peer, on)
        on = not on
    latencies = bench.samples.setdefault(f"{label} rtt", [])
    for _ in range(ROUND_TRIPS // ROUNDS):
        latencies.append(await _round_trip(peer, on))
        on = not on
    count = 0
    start = time.perf_counter()
    deadline = start + THROUGHPUT_SECONDS
    while (now := time.perf_counter()) < deadline:
        async with asyncio.timeout(STEP_TIMEOUT):
            await peer.write(on)
        on = not on
        count += 1
    bench.samples.setdefault(f"{label} rate", []).append(count / (now - start))


async def _take_turns(bench: Bench) -> None:
    """ROUNDS of traffic, ours and xknx in turn, each on a fresh connection."""
    for _ in range(ROUNDS):
        async with bench.connected(bench.connect_ours) as peer:
            await _traffic(bench, peer, "ours")
        async with bench.connected(bench.connect_xknx) as peer:
            await _traffic(bench, peer, "xknx")


async def traffic_results(bench: Bench) -> list[Result]:
    await _take_turns(bench)
    ours, theirs = bench.samples["ours rtt"], bench.samples["xknx rtt"]
    return [
        Result(
            "write -> status round trip p50 (Data Secure both ways)",
            "us",
            percentile(ours, 0.5),
            percentile(theirs, 0.5),
        ),
        Result(
            "write -> status round trip p99", "us", percentile(ours, 0.99), percentile(theirs, 0.99)
        ),
        Result(
            "confirmed writes through one tunnel (await L_Data.con)",
            "ops/s",
            max(bench.samples["ours rate"]),
            max(bench.samples["xknx rate"]),
        ),
    ]


@contextlib.contextmanager
def quiet_xknx() -> Iterator[None]:
    logger = logging.getLogger("xknx")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    try:
        yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate


async def udp_tunnel_results(bench: Bench) -> list[Result]:
    """Write -> status round trips through plain UDP tunnels of ``gateway --plain``."""
    await _take_turns(bench)
    ours, theirs = bench.samples["ours rtt"], bench.samples["xknx rtt"]
    return [
        Result(
            "plain UDP tunnel: write -> status round trip p50 (Data Secure both ways)",
            "us",
            percentile(ours, 0.5),
            percentile(theirs, 0.5),
        ),
        Result(
            "plain UDP tunnel: write -> status round trip p99",
            "us",
            percentile(ours, 0.99),
            percentile(theirs, 0.99),
        ),
    ]


async def _bench_gateway(
    keyring: Keyring,
    xknx_keyring: XknxKeyring,
    measure: Callable[[Bench], Awaitable[list[Result]]],
    connection: Connection,
) -> list[Result]:
    """One gateway (``--plain`` for plain tunnels) and the measurements on it."""
    gateway = VirtualGateway(
        keyring,
        switches=[SwitchSpec(WRITE_GA, STATUS_GA)],
        status_delay=0,
        port=0,
        plain=not connection.secure,
    )
    by_user = {t.user_id: t for t in gateway.tunnels}
    bench = Bench(
        gateway,
        keyring,
        xknx_keyring,
        ours_tunnel=by_user[2],
        xknx_tunnel=by_user[3],
        connection=connection,
    )
    async with asyncio.timeout(SECTION_TIMEOUT):
        await gateway.start()
        try:
            results = await measure(bench)
        finally:
            await gateway.stop()
    assert not any(gateway.dropped.values()), dict(gateway.dropped)
    assert not any(gateway.replays_rejected.values()), dict(gateway.replays_rejected)
    return results


async def _secure_tunnel_results(bench: Bench) -> list[Result]:
    return await connect_results(bench) + await traffic_results(bench)


async def run() -> list[Result]:
    password = KEYRINGS[KEYRING_NAME]
    path = FIXTURES / KEYRING_NAME
    keyring = load_keyring(path, password)
    xknx_keyring = sync_load_keyring(path, password)
    with quiet_xknx():
        results = await _bench_gateway(
            keyring, xknx_keyring, _secure_tunnel_results, Connection.TUNNEL_SECURE
        )
        results += await _bench_gateway(
            keyring, xknx_keyring, udp_tunnel_results, Connection.TUNNEL_UDP
        )
    return results
