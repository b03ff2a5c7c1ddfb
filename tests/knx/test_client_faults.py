"""SecureTunnelClient under faults: restarts, resets, garbage, silence, busy tunnels, impostors,
wrong passwords, closed ports.

Most tests run against the real VirtualGateway on 127.0.0.1; faults it cannot produce (a
gateway that goes silent, a server that sends garbage) use small servers written here on
top of the same sans-I/O machines.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import random
from collections.abc import AsyncIterator

import pytest

from custom_components.knx_secure.knx import knxip
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.client import (
    ConnectionEvent,
    ConnectionState,
    SecureTunnelClient,
    TunnelChoice,
)
from custom_components.knx_secure.knx.crypto import (
    derive_device_authentication_key,
    derive_user_password_key,
)
from custom_components.knx_secure.knx.errors import (
    AuthenticationError,
    ConfirmationTimeoutError,
    DeviceAuthenticationError,
    FrameError,
    GatewayUnreachableError,
    KNXSecureError,
    NoFreeTunnelError,
    NotConnectedError,
    ResponseTimeoutError,
    TunnelError,
)
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring
from custom_components.knx_secure.knx.session import (
    InnerFrame,
    OutgoingFrame,
    SecureSession,
    SessionEnded,
    SessionEstablished,
)
from custom_components.knx_secure.knx.tunnel import (
    TelegramReceived,
    TunnelConnected,
    TunnelServer,
    TunnelSlotConfig,
    TunnelSlots,
)

from ..helpers import FAST, STATUS, SWITCH, free_port, virtual_gateway, wait_for
from .conftest import SECURE_TEST

HOST = IndividualAddress.parse("1.1.0")
TUNNELS = [IndividualAddress.parse(f"1.1.{n}") for n in (252, 253, 254, 255)]

# --- a small gateway of our own (for faults the virtual gateway cannot produce) -------------


class MiniGateway:
    """A KNX IP Secure tunnelling server built from the sans-I/O machines.

    It confirms every telegram and nothing else; ``silent`` makes it stop answering
    anything (a gateway that hangs without closing TCP).
    """

    def __init__(self, keyring: Keyring) -> None:
        tunnels = keyring.tunnels_of_host(HOST)
        self.users = {
            t.user_id: derive_user_password_key(t.password or "")
            for t in tunnels
            if t.user_id is not None
        }
        code = tunnels[0].device_authentication or ""
        self.device_key = derive_device_authentication_key(code)
        self.slots = TunnelSlots(
            TunnelSlotConfig(t.individual_address, t.user_id)
            for t in tunnels
            if t.individual_address is not None
        )
        self.silent = False
        #: drop each connection right after its tunnel opened (a gateway that keeps
        #: accepting the tunnel and losing it at once)
        self.drop_tunnels = False
        self.accepted: list[float] = []  # loop time of every TCP connection
        self.received: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self._session_ids = iter(range(1, 1000))

    @property
    def port(self) -> int:
        assert self.server is not None
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        loop = asyncio.get_running_loop()
        self.accepted.append(loop.time())
        session = SecureSession.server(
            session_id=next(self._session_ids),
            users=self.users,
            device_authentication_key=self.device_key,
            serial=bytes.fromhex("00fa00000001"),
        )
        session.start(loop.time())
        tunnel: TunnelServer | None = None
        buffer = b""
        try:
            while data := await reader.read(4096):
                buffer += data
                while (length := knxip.frame_length(buffer)) is not None and len(buffer) >= length:
                    frame, buffer = buffer[:length], buffer[length:]
                    if self.silent:
                        continue
                    now = loop.time()
                    for event in session.receive(frame, now):
                        if isinstance(event, OutgoingFrame):
                            writer.write(event.data)
                        elif isinstance(event, SessionEstablished):
                            tunnel = TunnelServer(self.slots, user_id=event.user_id)
                        elif isinstance(event, SessionEnded):
                            writer.close()
                            return
                        elif isinstance(event, InnerFrame) and tunnel is not None:
                            for tevent in tunnel.receive(event.frame, now):
                                if isinstance(tevent, OutgoingFrame):
                                    writer.write(session.wrap(tevent.data, now))
                                elif isinstance(tevent, TunnelConnected) and self.drop_tunnels:
                                    await writer.drain()
                                    writer.close()
                                    return
                                elif isinstance(tevent, TelegramReceived):
                                    self.received.append(tevent.frame.tpdu)
                                    writer.write(
                                        session.wrap(tunnel.confirm(tevent.frame, now), now)
                                    )
        except (ConnectionError, KNXSecureError):
            pass
        finally:
            if tunnel is not None:
                tunnel.connection_lost(loop.time())
            writer.close()


@pytest.fixture
async def mini(keyring: Keyring) -> AsyncIterator[MiniGateway]:
    gateway = MiniGateway(keyring)
    await gateway.start()
    yield gateway
    await gateway.stop()


def events_of(client: SecureTunnelClient) -> list[ConnectionEvent]:
    events: list[ConnectionEvent] = []
    client.subscribe_state(events.append)
    return events


def reconnecting(client: SecureTunnelClient) -> bool:
    """Whether the client's background reconnect task (started by start()) still runs."""
    name = f"knx_secure tunnel {client.address_text}"
    return any(task.get_name() == name and not task.done() for task in asyncio.all_tasks())


def wrapped_frames_sent(client: SecureTunnelClient) -> int:
    """Secure wrappers the client has sent in its current session (keepalives included)."""
    link = client._link
    return link.session.next_send_sequence if link is not None else 0


# --- tests against the mini gateway ---------------------------------------------------------


@pytest.mark.timeout(10)
async def test_mini_gateway_write_confirmed(keyring: Keyring, mini: MiniGateway) -> None:
    client = SecureTunnelClient(
        keyring, "127.0.0.1", mini.port, tunnel=TunnelChoice(host=HOST), timeouts=FAST
    )
    try:
        await client.connect()
        assert client.state is ConnectionState.CONNECTED
        assert client.individual_address in TUNNELS
        await client.write(SWITCH, 1)
        assert mini.received  # secure TPDU (APCI 0x3F1)
        assert mini.received[-1][:2] == b"\x03\xf1"
    finally:
        await client.close()


@pytest.mark.timeout(10)
async def test_silent_gateway_is_caught_by_the_heartbeat(
    keyring: Keyring, mini: MiniGateway
) -> None:
    timeouts = dataclasses.replace(FAST, heartbeat=0.3, heartbeat_answer=0.3)
    client = SecureTunnelClient(
        keyring, "127.0.0.1", mini.port, tunnel=TunnelChoice(host=HOST), timeouts=timeouts
    )
    events = events_of(client)
    try:
        await client.connect()
        mini.silent = True
        loop = asyncio.get_running_loop()
        started = loop.time()
        await wait_for(lambda: client.state is ConnectionState.DISCONNECTED, 3.0)
        # within one heartbeat window: interval + answer window (+ scheduling slack)
        assert loop.time() - started < 0.3 + 0.3 + 0.6
        error = events[-1].error
        assert isinstance(error, TunnelError)
        assert "connection state" in str(error)
        with pytest.raises(NotConnectedError):
            await client.write(SWITCH, 1)
    finally:
        await client.close()


@pytest.mark.timeout(10)
async def test_silent_gateway_write_times_out(keyring: Keyring, mini: MiniGateway) -> None:
    timeouts = dataclasses.replace(FAST, confirmation=0.2)
    client = SecureTunnelClient(
        keyring, "127.0.0.1", mini.port, tunnel=TunnelChoice(host=HOST), timeouts=timeouts
    )
    try:
        await client.connect()
        mini.silent = True
        with pytest.raises(ConfirmationTimeoutError, match="did not confirm"):
            await client.write(SWITCH, 1)
    finally:
        await client.close()


@pytest.mark.timeout(10)
async def test_garbage_server_gives_a_clear_error() -> None:
    keyring = load_keyring(SECURE_TEST.path, SECURE_TEST.password)
    rng = random.Random(4711)
    garbage = bytes([0x47]) + rng.randbytes(200)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(garbage)
        await writer.drain()
        await reader.read()  # until the client hangs up
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = SecureTunnelClient(
        keyring, "127.0.0.1", port, tunnel=TunnelChoice(host=HOST), timeouts=FAST
    )
    try:
        with pytest.raises(FrameError, match="not KNXnet/IP"):
            await client.connect()
        assert client.state is ConnectionState.DISCONNECTED
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


@pytest.mark.timeout(10)
async def test_garbage_with_a_valid_header_times_out() -> None:
    """A frame header that promises more than ever comes: the handshake times out."""
    keyring = load_keyring(SECURE_TEST.path, SECURE_TEST.password)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(bytes.fromhex("061009520038") + b"\x00" * 10)
        await writer.drain()
        await reader.read()  # until the client hangs up
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    timeouts = dataclasses.replace(FAST, session_response=0.3)
    client = SecureTunnelClient(
        keyring, "127.0.0.1", port, tunnel=TunnelChoice(host=HOST), timeouts=timeouts
    )
    try:
        with pytest.raises(ResponseTimeoutError, match="secure session request"):
            await client.connect()
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


@pytest.mark.timeout(10)
async def test_gateway_unreachable(keyring: Keyring) -> None:
    port = free_port()
    client = SecureTunnelClient(
        keyring, "127.0.0.1", port, tunnel=TunnelChoice(host=HOST), timeouts=FAST
    )
    events = events_of(client)
    with pytest.raises(GatewayUnreachableError, match=f"127.0.0.1:{port}"):
        await client.connect()
    assert [e.state for e in events] == [ConnectionState.CONNECTING, ConnectionState.DISCONNECTED]
    assert isinstance(events[-1].error, GatewayUnreachableError)
    await client.close()


@pytest.mark.timeout(10)
async def test_gateway_unreachable_automatic_choice(keyring: Keyring) -> None:
    """Automatic choice: the UDP description fails too, then TCP: unreachable."""
    port = free_port()
    client = SecureTunnelClient(keyring, "127.0.0.1", port, timeouts=FAST)
    with pytest.raises(GatewayUnreachableError):
        await client.connect()
    await client.close()


@pytest.mark.timeout(10)
async def test_unknown_tunnel_is_a_keyring_error(keyring: Keyring, mini: MiniGateway) -> None:
    from custom_components.knx_secure.knx.errors import KeyringError  # noqa: PLC0415

    client = SecureTunnelClient(
        keyring,
        "127.0.0.1",
        mini.port,
        tunnel=TunnelChoice(individual_address=IndividualAddress.parse("1.1.99")),
        timeouts=FAST,
    )
    with pytest.raises(KeyringError, match=r"1\.1\.99"):
        await client.connect()
    await client.close()


@pytest.mark.timeout(10)
async def test_start_retries_until_the_gateway_comes(keyring: Keyring) -> None:
    port = free_port()
    client = SecureTunnelClient(
        keyring, "127.0.0.1", port, tunnel=TunnelChoice(host=HOST), timeouts=FAST
    )
    events = events_of(client)
    gateway: MiniGateway | None = None
    try:
        await client.start()  # first attempt fails, the supervisor keeps trying
        assert client.state is ConnectionState.DISCONNECTED
        await wait_for(lambda: len(events) >= 4)
        gateway = MiniGateway(keyring)
        gateway.server = await asyncio.start_server(gateway._serve, "127.0.0.1", port)
        await wait_for(lambda: client.state is ConnectionState.CONNECTED)
        await client.write(SWITCH, 0)
    finally:
        await client.close()
        if gateway is not None:
            await gateway.stop()


@pytest.mark.timeout(10)
async def test_link_dropped_right_after_connect_backs_off(
    keyring: Keyring, mini: MiniGateway
) -> None:
    """A gateway that accepts the tunnel and drops it at once: every connect() succeeds, yet
    the reconnect delay keeps doubling (it used to stay at backoff_initial forever)."""
    mini.drop_tunnels = True
    timeouts = dataclasses.replace(FAST, backoff_initial=0.05, backoff_max=0.8)
    client = SecureTunnelClient(
        keyring, "127.0.0.1", mini.port, tunnel=TunnelChoice(host=HOST), timeouts=timeouts
    )
    events = events_of(client)
    try:
        await client.start()
        # delays 0.05, 0.1, 0.2, 0.4 (+-20 %): five connections within about a second
        await wait_for(lambda: len(mini.accepted) >= 5, 4.0)
        gaps = [b - a for a, b in itertools.pairwise(mini.accepted)]
        # a sleep never ends early: each gap is at least its delay less the jitter
        for k, gap in enumerate(gaps[:4]):
            assert gap >= 0.05 * 2**k * 0.8, gaps
        connected = [e for e in events if e.state is ConnectionState.CONNECTED]
        assert len(connected) >= 4  # each reconnect did succeed
    finally:
        await client.close()


@pytest.mark.timeout(10)
async def test_close_while_connecting(keyring: Keyring) -> None:
    """close() during a handshake that never completes ends it at once."""
    asked = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        asked.set()  # the client is in the handshake, waiting for the session response
        await reader.read()  # never answers; until the client hangs up
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = SecureTunnelClient(
        keyring,
        "127.0.0.1",
        port,
        tunnel=TunnelChoice(host=HOST),
        timeouts=dataclasses.replace(FAST, session_response=5.0),
    )
    try:
        task = asyncio.create_task(client.connect())
        await asyncio.wait_for(asked.wait(), 2.0)
        await client.close()
        with pytest.raises(NotConnectedError):
            await task
        assert client.state is ConnectionState.DISCONNECTED
    finally:
        server.close()
        await server.wait_closed()


# --- tests against the virtual gateway --------------------------------------------------------


@pytest.mark.timeout(15)
async def test_gateway_restart_mid_session(keyring: Keyring) -> None:
    port = free_port()
    gateway = virtual_gateway(keyring, port)
    await gateway.start()
    client = SecureTunnelClient(keyring, "127.0.0.1", port, timeouts=FAST)
    events = events_of(client)
    try:
        await client.start()
        await client.write(SWITCH, 1)
        tunnel = client.individual_address
        await gateway.stop()
        await wait_for(lambda: client.state is not ConnectionState.CONNECTED)
        with pytest.raises(NotConnectedError):
            await client.write(SWITCH, 0)
        await gateway.start()  # same port
        await wait_for(lambda: client.state is ConnectionState.CONNECTED)
        assert client.individual_address == tunnel  # a reconnect keeps its tunnel
        await client.write(SWITCH, 0)
        assert gateway.switch_state(SWITCH) is False
        assert all(count == 0 for count in gateway.replays_rejected.values())
        lost = [e for e in events if e.state is ConnectionState.DISCONNECTED]
        assert lost
        assert isinstance(lost[0].error, KNXSecureError)
    finally:
        await client.close()
        await gateway.stop()


@pytest.mark.timeout(15)
async def test_tcp_reset_reconnects(keyring: Keyring, gateway: VirtualGateway) -> None:
    host, port = gateway.address
    client = SecureTunnelClient(keyring, host, port, timeouts=FAST)
    events = events_of(client)
    try:
        await client.start()
        await gateway.disconnect_all(graceful=False)  # abort: RST / EOF on the client
        await wait_for(lambda: any(e.state is ConnectionState.DISCONNECTED for e in events))
        await wait_for(lambda: client.state is ConnectionState.CONNECTED)
        await client.write(SWITCH, 1)
        assert gateway.switch_state(SWITCH) is True
    finally:
        await client.close()


@pytest.mark.timeout(15)
async def test_status_never_arrives(keyring: Keyring, gateway: VirtualGateway) -> None:
    host, port = gateway.address
    client = SecureTunnelClient(keyring, host, port, timeouts=FAST)
    try:
        await client.connect()
        nobody = GroupAddress.parse("3/3/3")
        with pytest.raises(ResponseTimeoutError, match=r"no response to the read of 3/3/3 within"):
            await client.read(nobody, timeout=0.3)
        # the client is still fine afterwards
        assert (await client.read(STATUS)).value == 0
    finally:
        await client.close()


@pytest.mark.timeout(15)
async def test_every_tunnel_busy(keyring: Keyring, gateway: VirtualGateway) -> None:
    host, port = gateway.address
    others = [SecureTunnelClient(keyring, host, port, timeouts=FAST) for _ in range(4)]
    client = SecureTunnelClient(keyring, host, port, timeouts=FAST)
    try:
        for other in others:
            await other.connect()
        assert len(gateway.tunnels_in_use) == 4
        with pytest.raises(NoFreeTunnelError) as caught:
            await client.connect()
        message = str(caught.value)
        for tunnel in TUNNELS:
            assert f"{tunnel} (busy)" in message
        # one frees up: the next attempt gets exactly that one
        freed = others[1].individual_address
        await others[1].close()
        await client.connect()
        assert client.individual_address == freed
    finally:
        await client.close()
        for other in others:
            await other.close()


@pytest.mark.timeout(15)
async def test_explicit_tunnel_busy(keyring: Keyring, gateway: VirtualGateway) -> None:
    host, port = gateway.address
    choice = TunnelChoice(individual_address=TUNNELS[1])
    first = SecureTunnelClient(keyring, host, port, tunnel=choice, timeouts=FAST)
    second = SecureTunnelClient(keyring, host, port, tunnel=choice, timeouts=FAST)
    try:
        await first.connect()
        with pytest.raises(NoFreeTunnelError, match=r"1\.1\.253 \(busy\)"):
            await second.connect()
    finally:
        await first.close()
        await second.close()


@pytest.mark.timeout(15)
@pytest.mark.parametrize("choice", [TunnelChoice(), TunnelChoice(user_id=3)], ids=["auto", "user"])
async def test_impostor_gateway_is_refused(keyring: Keyring, choice: TunnelChoice) -> None:
    impostor = virtual_gateway(keyring, device_authentication="wrong")
    await impostor.start()
    host, port = impostor.address
    client = SecureTunnelClient(keyring, host, port, tunnel=choice, timeouts=FAST)
    events = events_of(client)
    try:
        with pytest.raises(DeviceAuthenticationError, match="possibly an impostor"):
            await client.connect()
        assert isinstance(events[-1].error, DeviceAuthenticationError)
        assert impostor.sessions == 0  # we never authenticated to it
        assert client.state is ConnectionState.DISCONNECTED
    finally:
        await client.close()
        await impostor.stop()


@pytest.mark.timeout(15)
async def test_wrong_tunnel_password_names_the_tunnel(keyring: Keyring) -> None:
    gateway = virtual_gateway(keyring, user_passwords={2: "not the password"})
    await gateway.start()
    host, port = gateway.address
    client = SecureTunnelClient(keyring, host, port, tunnel=TunnelChoice(user_id=2), timeouts=FAST)
    automatic = SecureTunnelClient(keyring, host, port, timeouts=FAST)
    try:
        with pytest.raises(AuthenticationError, match=r"1\.1\.255 \(user 2\)"):
            await client.connect()
        # automatic choice moves on to the next tunnel
        await automatic.connect()
        assert automatic.individual_address != TUNNELS[3]
        assert automatic.individual_address in TUNNELS
    finally:
        await client.close()
        await automatic.close()
        await gateway.stop()


@pytest.mark.timeout(15)
async def test_every_password_wrong(keyring: Keyring) -> None:
    wrong = dict.fromkeys((2, 3, 4, 5), "wrong")
    gateway = virtual_gateway(keyring, user_passwords=wrong)
    await gateway.start()
    host, port = gateway.address
    client = SecureTunnelClient(keyring, host, port, timeouts=FAST)
    try:
        with pytest.raises(AuthenticationError) as caught:
            await client.connect()
        for tunnel in TUNNELS:
            assert f"{tunnel} (authentication failed)" in str(caught.value)
    finally:
        await client.close()
        await gateway.stop()


@pytest.mark.timeout(15)
async def test_mixed_failures_are_listed(keyring: Keyring) -> None:
    """Some tunnels busy, the others refuse the password: every one is named with its reason."""
    gateway = virtual_gateway(keyring, user_passwords={2: "wrong", 3: "wrong"})
    await gateway.start()
    host, port = gateway.address
    holders = [
        SecureTunnelClient(keyring, host, port, tunnel=TunnelChoice(user_id=u), timeouts=FAST)
        for u in (4, 5)
    ]
    client = SecureTunnelClient(keyring, host, port, timeouts=FAST)
    try:
        for holder in holders:
            await holder.connect()
        with pytest.raises(NoFreeTunnelError) as caught:
            await client.connect()
        message = str(caught.value)
        assert message.startswith("no free tunnel among ")
        assert "1.1.255 (authentication failed)" in message
        assert "1.1.254 (authentication failed)" in message
        assert "1.1.253 (busy)" in message
        assert "1.1.252 (busy)" in message
    finally:
        await client.close()
        for holder in holders:
            await holder.close()
        await gateway.stop()


@pytest.mark.timeout(15)
async def test_reconnect_stops_on_authentication_error(keyring: Keyring) -> None:
    port = free_port()
    gateway = virtual_gateway(keyring, port)
    await gateway.start()
    client = SecureTunnelClient(
        keyring, "127.0.0.1", port, tunnel=TunnelChoice(user_id=2), timeouts=FAST
    )
    events = events_of(client)
    changed = virtual_gateway(keyring, port, user_passwords={2: "changed"})
    try:
        await client.start()
        assert reconnecting(client)
        await gateway.stop()
        await changed.start()  # the installer changed the password: credentials are stale
        await wait_for(lambda: any(isinstance(e.error, AuthenticationError) for e in events))
        final = events[-1]
        assert final.state is ConnectionState.DISCONNECTED
        assert isinstance(final.error, AuthenticationError)
        count = len(events)
        # the task that reconnects has ended: nothing is left that could retry
        await wait_for(lambda: not reconnecting(client), 2.0, "the client still reconnects")
        assert len(events) == count
        assert client.state is ConnectionState.DISCONNECTED
    finally:
        await client.close()
        await changed.stop()


@pytest.mark.timeout(15)
@pytest.mark.parametrize(
    ("keepalive", "heartbeat"), [(0.1, 30.0), (30.0, 0.1)], ids=["keepalive", "heartbeat"]
)
async def test_session_kept_alive(keyring: Keyring, keepalive: float, heartbeat: float) -> None:
    """A gateway with a short session timeout keeps the session: keepalives (or heartbeats,
    which are wrapped frames too) go out on time."""
    gateway = virtual_gateway(keyring, session_timeout=0.4)
    await gateway.start()
    host, port = gateway.address
    timeouts = dataclasses.replace(FAST, keepalive=keepalive, heartbeat=heartbeat)
    client = SecureTunnelClient(keyring, host, port, timeouts=timeouts)
    events = events_of(client)
    try:
        await client.connect()
        # twelve keepalives (or heartbeats) later, three session timeouts of the gateway
        # have passed however slow the machine: the session must still be there
        sent = wrapped_frames_sent(client)
        await wait_for(
            lambda: (
                wrapped_frames_sent(client) >= sent + 12
                or client.state is not ConnectionState.CONNECTED
            )
        )
        assert client.state is ConnectionState.CONNECTED
        assert len(events) == 2
        await client.write(SWITCH, 1)
        assert gateway.switch_state(SWITCH) is True
    finally:
        await client.close()
        await gateway.stop()


@pytest.mark.timeout(15)
async def test_refused_tunnel_leaves_no_session_behind(
    keyring: Keyring, gateway: VirtualGateway
) -> None:
    host, port = gateway.address
    choice = TunnelChoice(individual_address=TUNNELS[0])
    holder = SecureTunnelClient(keyring, host, port, tunnel=choice, timeouts=FAST)
    client = SecureTunnelClient(keyring, host, port, tunnel=choice, timeouts=FAST)
    try:
        await holder.connect()
        with pytest.raises(NoFreeTunnelError):
            await client.connect()
        await wait_for(lambda: gateway.connections == 1 and gateway.sessions == 1, 2.0)
    finally:
        await holder.close()
        await client.close()
