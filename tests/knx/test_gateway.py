"""The virtual gateway with raw clients: sessions, tunnels, the bus, devices, replays.

The raw client drives our own sans-I/O machines over a real TCP socket so a test can send
exactly the bytes it wants (replays, forgeries, silence). xknx as an independent client is
in test_gateway_xknx.py, discovery over UDP in test_discovery.py, its command line in
test_cli_gateway.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from custom_components.knx_secure.knx import cemi, knxip
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.bus import default_device_address
from custom_components.knx_secure.knx.cemi import LData, MessageCode
from custom_components.knx_secure.knx.crypto import (
    derive_device_authentication_key,
    derive_user_password_key,
)
from custom_components.knx_secure.knx.data_secure import encrypt_tpdu, sequence_clock
from custom_components.knx_secure.knx.errors import KeyringError
from custom_components.knx_secure.knx.gateway import (
    SwitchSpec,
    VirtualGateway,
    default_switches,
    parse_switch,
)
from custom_components.knx_secure.knx.keyring import Keyring, KeyringInterface, load_keyring
from custom_components.knx_secure.knx.knxip import ErrorCode
from custom_components.knx_secure.knx.session import (
    EndReason,
    InnerFrame,
    OutgoingFrame,
    SecureSession,
    SessionEnded,
)
from custom_components.knx_secure.knx.tunnel import (
    TelegramConfirmed,
    TelegramReceived,
    TunnelClient,
    TunnelConnected,
    TunnelEvent,
)

from ..helpers import STATUS as STATUS_GA
from ..helpers import SWITCH as WRITE_GA
from ..helpers import virtual_gateway, wait_for
from .conftest import KEYRING_BY_NAME

# Sockets on 127.0.0.1 only (the plugin still refuses any other destination).

ACTUATOR = IndividualAddress.parse("1.1.1")
HOST = IndividualAddress.parse("1.1.0")
IO_TIMEOUT = 3.0  # every wait of a test is bounded
CLIENT_SERIAL = bytes.fromhex("00fa12345678")

H = bytes.fromhex


@pytest.fixture
async def gateway(keyring: Keyring) -> AsyncIterator[VirtualGateway]:
    gw = virtual_gateway(keyring, status_delay=0)
    await gw.start()
    try:
        yield gw
    finally:
        await gw.stop()


def tunnel_of(keyring: Keyring, user_id: int) -> KeyringInterface:
    tunnel = keyring.interface_by_user_id(HOST, user_id)
    assert tunnel is not None
    return tunnel


# --- a raw client on our machines ---------------------------------------------------------


class RawClient:
    """One TCP connection to the gateway; secure when a tunnel interface is given."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.session: SecureSession | None = None
        self.tunnel: TunnelClient | None = None
        self.written: list[bytes] = []  # every frame as sent (to replay them)
        self.telegrams: list[LData] = []  # L_Data.ind received

    @classmethod
    async def connect(cls, port: int) -> RawClient:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port), IO_TIMEOUT
        )
        return cls(reader, writer)

    @classmethod
    async def secure(
        cls,
        port: int,
        interface: KeyringInterface,
        *,
        password: str | None = None,
        open_tunnel: bool = True,
    ) -> RawClient:
        client = await cls.connect(port)
        try:
            await client._authenticate(interface, password, open_tunnel=open_tunnel)
        except BaseException:
            await client.close()
            raise
        return client

    async def _authenticate(
        self, interface: KeyringInterface, password: str | None, *, open_tunnel: bool
    ) -> None:
        client = self
        assert interface.user_id is not None
        assert interface.password is not None
        assert interface.device_authentication is not None
        client.session = SecureSession.client(
            user_id=interface.user_id,
            user_password_key=derive_user_password_key(password or interface.password),
            device_authentication_key=derive_device_authentication_key(
                interface.device_authentication
            ),
            serial=CLIENT_SERIAL,
        )
        client.write(client.session.start(client.now()))
        while not client.session.is_authenticated:
            events = client.session.receive(await client.read_frame(), client.now())
            for event in events:
                if isinstance(event, OutgoingFrame):
                    client.write(event.data)
                if isinstance(event, SessionEnded):
                    raise event.to_error()
        if open_tunnel:
            await client.open_tunnel()

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def write(self, data: bytes) -> None:
        self.written.append(data)
        self.writer.write(data)

    def send(self, plain: bytes) -> bytes:
        """Send a plain frame (wrapped in a secure session); returns the bytes sent."""
        data = self.session.wrap(plain, self.now()) if self.session else plain
        self.write(data)
        return data

    async def read_frame(self, seconds: float = IO_TIMEOUT) -> bytes:
        header = await asyncio.wait_for(self.reader.readexactly(6), seconds)
        size = knxip.frame_length(header)
        assert size is not None
        body = await asyncio.wait_for(self.reader.readexactly(size - 6), seconds)
        return header + body

    async def read_plain(self, seconds: float = IO_TIMEOUT) -> knxip.Frame | SessionEnded:
        """The next frame, unwrapped when the connection is secure (or the session's end)."""
        while True:
            data = await self.read_frame(seconds)
            if self.session is None:
                return knxip.parse(data)
            for event in self.session.receive(data, self.now()):
                if isinstance(event, InnerFrame):
                    return event.frame
                if isinstance(event, SessionEnded):
                    return event

    async def tunnel_events(self, seconds: float = IO_TIMEOUT) -> list[TunnelEvent]:
        assert self.tunnel is not None
        frame = await self.read_plain(seconds)
        assert not isinstance(frame, SessionEnded), frame
        events = self.tunnel.receive(frame, self.now())
        for event in events:
            if isinstance(event, OutgoingFrame):
                self.send(event.data)
            if isinstance(event, TelegramReceived):
                self.telegrams.append(event.frame)
        return events

    async def open_tunnel(self, address: IndividualAddress | None = None) -> TunnelConnected:
        self.tunnel = TunnelClient(individual_address=address)
        self.send(self.tunnel.connect(self.now()))
        events = await self.tunnel_events()
        connected = [e for e in events if isinstance(e, TunnelConnected)]
        assert connected, events
        return connected[0]

    async def send_telegram(self, frame: LData) -> bytes:
        """Send an L_Data.req, wait for its confirmation; returns the bytes sent."""
        assert self.tunnel is not None
        sent = self.tunnel.send_telegram(frame, self.now())
        data = self.send(sent.data)
        async with asyncio.timeout(IO_TIMEOUT):
            while True:
                events = await self.tunnel_events()
                if any(
                    isinstance(e, TelegramConfirmed) and e.handle == sent.handle for e in events
                ):
                    return data

    async def next_telegram(self, seconds: float = IO_TIMEOUT) -> LData:
        async with asyncio.timeout(seconds):
            while not self.telegrams:
                await self.tunnel_events()
        return self.telegrams.pop(0)

    async def expect_silence(self, seconds: float = 0.2) -> None:
        with pytest.raises(TimeoutError):
            await self.read_frame(seconds)

    async def closed_by_peer(self, seconds: float = IO_TIMEOUT) -> bool:
        try:
            while True:
                await self.read_frame(seconds)
        except asyncio.IncompleteReadError:
            return True

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, TimeoutError):
            await asyncio.wait_for(self.writer.wait_closed(), IO_TIMEOUT)


def group_write(ga: GroupAddress, on: bool) -> LData:
    return LData(MessageCode.L_DATA_REQ, IndividualAddress(0), ga, cemi.group_value_write(int(on)))


def group_read(ga: GroupAddress) -> LData:
    return LData(MessageCode.L_DATA_REQ, IndividualAddress(0), ga, cemi.group_value_read())


def secure_frame(
    keyring: Keyring, src: IndividualAddress, ga: GroupAddress, apdu: bytes, sequence: int
) -> LData:
    """A Data Secure L_Data.req with a chosen sequence number."""
    key = keyring.group_key(ga)
    assert key is not None
    tpdu = encrypt_tpdu(key, src=src, dst=ga, tpci=0, sequence=sequence, apdu=apdu)
    return LData(MessageCode.L_DATA_REQ, src, ga, tpdu)


def secure_write(
    keyring: Keyring, src: IndividualAddress, ga: GroupAddress, on: bool, sequence: int
) -> LData:
    return secure_frame(keyring, src, ga, bytes((0, 0x80 | int(on))), sequence)


def decrypt(keyring: Keyring, frame: LData) -> cemi.GroupApdu:
    from custom_components.knx_secure.knx.data_secure import decrypt_tpdu  # noqa: PLC0415

    assert isinstance(frame.dst, GroupAddress)
    key = keyring.group_key(frame.dst)
    assert key is not None
    plain = decrypt_tpdu(key, src=frame.src, dst=frame.dst, tpdu=frame.tpdu)
    return cemi.parse_group_apdu(plain.apdu)


# --- configuration --------------------------------------------------------------------------


def test_serves_the_host_with_most_tunnels(keyring: Keyring) -> None:
    gw = VirtualGateway(keyring)
    assert gw.host == HOST
    assert gw.ready_line()["tunnels"] == [
        {"individual_address": "1.1.255", "user_id": 2},
        {"individual_address": "1.1.254", "user_id": 3},
        {"individual_address": "1.1.253", "user_id": 4},
        {"individual_address": "1.1.252", "user_id": 5},
    ]
    secure_test = load_keyring(
        KEYRING_BY_NAME["SecureTest.knxkeys"].path, KEYRING_BY_NAME["SecureTest.knxkeys"].password
    )
    assert str(VirtualGateway(secure_test).host) == "5.0.0"
    other = VirtualGateway(secure_test, host=IndividualAddress.parse("4.0.0"))
    assert [t.user_id for t in other.tunnels] == [None]
    with pytest.raises(KeyringError, match=r"no tunnel of host 9\.9\.9"):
        VirtualGateway(secure_test, host=IndividualAddress.parse("9.9.9"))


def test_default_device_of_a_switch(keyring: Keyring) -> None:
    """A device among the status GA's senders, else a keyring device, else a free one."""
    gw = VirtualGateway(keyring, switches=[SwitchSpec(WRITE_GA, STATUS_GA)])
    assert gw.switches == (SwitchSpec(WRITE_GA, STATUS_GA, ACTUATOR),)
    assert gw.devices == (ACTUATOR,)
    explicit = VirtualGateway(
        keyring, switches=[SwitchSpec(WRITE_GA, STATUS_GA, IndividualAddress.parse("1.1.9"))]
    )
    assert explicit.devices == (IndividualAddress.parse("1.1.9"),)
    bare = replace(keyring, devices=())
    assert str(default_device_address(bare, STATUS_GA, HOST)) == "1.1.1"
    assert str(default_device_address(bare, STATUS_GA, HOST, [ACTUATOR])) == "1.1.2"


def test_switch_text_and_defaults(keyring: Keyring) -> None:
    assert parse_switch("1/1/1:1/1/2") == SwitchSpec(WRITE_GA, STATUS_GA)
    assert parse_switch("1/1/1:1/1/2@1.1.7") == SwitchSpec(
        WRITE_GA, STATUS_GA, IndividualAddress.parse("1.1.7")
    )
    with pytest.raises(ValueError, match="WRITE_GA:STATUS_GA"):
        parse_switch("1/1/1")
    with pytest.raises(ValueError, match="nonsense"):
        parse_switch("1/1/1:nonsense")
    assert default_switches(keyring) == [SwitchSpec(WRITE_GA, STATUS_GA)]


# --- secure sessions and tunnels --------------------------------------------------------------


async def test_secure_tunnel_write_read_and_status(
    gateway: VirtualGateway, keyring: Keyring
) -> None:
    """Write ON (Data Secure), the actuator reports and answers reads, all encrypted."""
    client = await RawClient.secure(gateway.address[1], tunnel_of(keyring, 2))
    try:
        assert gateway.sessions == 1
        assert gateway.tunnels_in_use == {1: IndividualAddress.parse("1.1.255")}
        sequence = sequence_clock()
        await client.send_telegram(
            secure_write(keyring, IndividualAddress.parse("1.1.255"), WRITE_GA, True, sequence)
        )
        assert gateway.switch_state(WRITE_GA) is True
        status = await client.next_telegram()
        assert (status.src, status.dst, status.code) == (
            ACTUATOR,
            STATUS_GA,
            MessageCode.L_DATA_IND,
        )
        assert decrypt(keyring, status) == cemi.GroupApdu(cemi.APCI.GROUP_VALUE_WRITE, 1)
        # the device sends above the keyring's sequence number and above the clock
        secure_sequence = int.from_bytes(status.tpdu[3:9], "big")
        assert secure_sequence > max(keyring.sequence_number(ACTUATOR), sequence - 60_000)

        tunnel_ia = IndividualAddress.parse("1.1.255")
        await client.send_telegram(
            secure_frame(keyring, tunnel_ia, STATUS_GA, b"\x00\x00", sequence + 1)
        )
        response = await client.next_telegram()
        assert decrypt(keyring, response) == cemi.GroupApdu(cemi.APCI.GROUP_VALUE_RESPONSE, 1)
        assert int.from_bytes(response.tpdu[3:9], "big") > secure_sequence
        assert gateway.dropped == {}
    finally:
        await client.close()


async def test_plain_telegram_to_secure_ga_is_refused_by_the_device(
    gateway: VirtualGateway, keyring: Keyring
) -> None:
    client = await RawClient.secure(gateway.address[1], tunnel_of(keyring, 3))
    try:
        await client.send_telegram(group_write(WRITE_GA, True))  # confirmed: it is on the bus
        assert gateway.switch_state(WRITE_GA) is False
        assert gateway.dropped == {"plain": 1}
    finally:
        await client.close()


async def test_plain_group_addresses_work_plain(keyring: Keyring) -> None:
    """A switch on GAs without a key takes plain telegrams."""
    write, status = GroupAddress.parse("2/0/1"), GroupAddress.parse("2/0/2")
    gw = VirtualGateway(keyring, switches=[SwitchSpec(write, status)], status_delay=0)
    await gw.start()
    client = await RawClient.secure(gw.address[1], tunnel_of(keyring, 2))
    try:
        await client.send_telegram(group_write(write, True))
        report = await client.next_telegram()
        assert report.tpdu == cemi.group_value_write(1)
        await client.send_telegram(group_read(status))
        assert (await client.next_telegram()).tpdu == cemi.group_value_response(1)
    finally:
        await client.close()
        await gw.stop()


async def test_status_is_sent_after_the_delay_and_only_on_change(keyring: Keyring) -> None:
    write, status = GroupAddress.parse("2/0/1"), GroupAddress.parse("2/0/2")
    gw = VirtualGateway(keyring, switches=[SwitchSpec(write, status)], status_delay=0.3)
    await gw.start()
    client = await RawClient.secure(gw.address[1], tunnel_of(keyring, 2))
    try:
        started = asyncio.get_running_loop().time()
        await client.send_telegram(group_write(write, True))
        await client.next_telegram(seconds=2.0)
        assert asyncio.get_running_loop().time() - started >= 0.25
        await client.send_telegram(group_write(write, True))  # no change: no status
        await client.expect_silence(0.5)
        await client.send_telegram(group_write(write, False))
        await client.send_telegram(group_read(status))  # the relay answers at once
        assert (await client.next_telegram()).tpdu == cemi.group_value_response(0)
    finally:
        await client.close()
        await gw.stop()


async def test_wrong_password_is_refused(gateway: VirtualGateway, keyring: Keyring) -> None:
    with pytest.raises(Exception, match="authentication failed"):
        await RawClient.secure(gateway.address[1], tunnel_of(keyring, 2), password="wrong")
    assert gateway.sessions == 0


async def test_installation_passwords_override_the_keyring(keyring: Keyring) -> None:
    gw = VirtualGateway(keyring, user_passwords={2: "changed"})
    await gw.start()
    try:
        with pytest.raises(Exception, match="authentication failed"):
            await RawClient.secure(gw.address[1], tunnel_of(keyring, 2))
        client = await RawClient.secure(gw.address[1], tunnel_of(keyring, 2), password="changed")
        await client.close()
    finally:
        await gw.stop()


async def test_impostor_fails_device_authentication(keyring: Keyring) -> None:
    gw = VirtualGateway(keyring, device_authentication="not the keyring's code")
    await gw.start()
    try:
        with pytest.raises(Exception, match="device authentication code"):
            await RawClient.secure(gw.address[1], tunnel_of(keyring, 2))
    finally:
        await gw.stop()


async def test_one_tunnel_per_slot(gateway: VirtualGateway, keyring: Keyring) -> None:
    """A second session of the same user gets no tunnel while the first holds it."""
    first = await RawClient.secure(gateway.address[1], tunnel_of(keyring, 4))
    second = await RawClient.secure(gateway.address[1], tunnel_of(keyring, 4), open_tunnel=False)
    try:
        second.tunnel = TunnelClient()
        second.send(second.tunnel.connect(second.now()))
        answer = await second.read_plain()
        assert isinstance(answer, knxip.ConnectResponse)
        assert answer.status is ErrorCode.E_NO_MORE_CONNECTIONS
        # another user's tunnel cannot be asked for by address
        second.tunnel = TunnelClient(individual_address=IndividualAddress.parse("1.1.255"))
        second.send(second.tunnel.connect(second.now()))
        answer = await second.read_plain()
        assert isinstance(answer, knxip.ConnectResponse)
        assert answer.status is ErrorCode.E_AUTHORISATION_ERROR
    finally:
        await first.close()
        await second.close()


async def test_two_clients_see_each_others_telegrams(
    gateway: VirtualGateway, keyring: Keyring
) -> None:
    one = await RawClient.secure(gateway.address[1], tunnel_of(keyring, 2))
    two = await RawClient.secure(gateway.address[1], tunnel_of(keyring, 3))
    try:
        frame = secure_write(
            keyring, IndividualAddress.parse("1.1.255"), WRITE_GA, True, sequence_clock()
        )
        await one.send_telegram(frame)
        seen = await two.next_telegram()
        assert (seen.src, seen.dst, seen.tpdu) == (frame.src, WRITE_GA, frame.tpdu)
        assert seen.code is MessageCode.L_DATA_IND
        status = await two.next_telegram()
        assert (status.src, status.dst) == (ACTUATOR, STATUS_GA)
        # the sender gets the status, not its own telegram back
        assert (await one.next_telegram()).src == ACTUATOR
        assert not one.telegrams
    finally:
        await one.close()
        await two.close()


async def test_injected_telegram_and_local_operation_reach_every_tunnel(
    gateway: VirtualGateway, keyring: Keyring
) -> None:
    client = await RawClient.secure(gateway.address[1], tunnel_of(keyring, 2))
    try:
        wall_switch = IndividualAddress.parse("1.1.50")
        gateway.inject(
            LData(
                MessageCode.L_DATA_IND,
                wall_switch,
                GroupAddress.parse("3/0/0"),
                cemi.group_value_write(1),
            )
        )
        injected = await client.next_telegram()
        assert (injected.src, str(injected.dst)) == (wall_switch, "3/0/0")
        gateway.set_switch("1/1/1", True)
        status = await client.next_telegram()
        assert decrypt(keyring, status) == cemi.GroupApdu(cemi.APCI.GROUP_VALUE_WRITE, 1)
        assert gateway.switch_state("1/1/1") is True
    finally:
        await client.close()


# --- replays, forgeries, timeouts ---------------------------------------------------------------


async def test_replayed_and_forged_wrappers_are_dropped(
    gateway: VirtualGateway, keyring: Keyring
) -> None:
    client = await RawClient.secure(gateway.address[1], tunnel_of(keyring, 2))
    try:
        assert client.tunnel is not None
        assert client.tunnel.channel_id is not None
        state_request = knxip.encode(
            knxip.ConnectionStateRequest(client.tunnel.channel_id, knxip.HPAI.ROUTE_BACK_TCP)
        )
        captured = client.send(state_request)
        answer = await client.read_plain()
        assert isinstance(answer, knxip.ConnectionStateResponse)

        client.write(captured)  # the same wrapper again
        forged = bytearray(client.session.wrap(state_request, client.now()))  # type: ignore[union-attr]
        forged[-1] ^= 0x01
        client.write(bytes(forged))
        other_session = bytearray(client.session.wrap(state_request, client.now()))  # type: ignore[union-attr]
        other_session[6] ^= 0x01
        client.write(bytes(other_session))
        await client.expect_silence()
        assert gateway.dropped == {"replay": 1, "mac": 1, "session_id": 1}
        assert gateway.replays_rejected == {ACTUATOR: 0}
        # the session survives: the next good frame is answered
        client.send(state_request)
        assert isinstance(await client.read_plain(), knxip.ConnectionStateResponse)
    finally:
        await client.close()


async def test_data_secure_replay_is_rejected_by_the_device(
    gateway: VirtualGateway, keyring: Keyring
) -> None:
    tunnel_ia = IndividualAddress.parse("1.1.255")
    client = await RawClient.secure(gateway.address[1], tunnel_of(keyring, 2))
    try:
        sequence = sequence_clock()
        await client.send_telegram(secure_write(keyring, tunnel_ia, WRITE_GA, True, sequence))
        assert gateway.switch_state(WRITE_GA) is True
        await client.send_telegram(secure_write(keyring, tunnel_ia, WRITE_GA, False, sequence))
        await client.send_telegram(secure_write(keyring, tunnel_ia, WRITE_GA, False, sequence - 5))
        assert gateway.switch_state(WRITE_GA) is True
        assert gateway.replays_rejected == {ACTUATOR: 2}
        assert gateway.dropped == {"replay": 2}
        forged = secure_write(keyring, tunnel_ia, WRITE_GA, False, sequence + 1)
        forged = replace(forged, tpdu=forged.tpdu[:-1] + bytes((forged.tpdu[-1] ^ 1,)))
        await client.send_telegram(forged)
        assert gateway.dropped == {"replay": 2, "mac": 1}
        # a forgery does not move the device's window: the real sequence + 1 still works
        await client.send_telegram(secure_write(keyring, tunnel_ia, WRITE_GA, False, sequence + 1))
        assert gateway.switch_state(WRITE_GA) is False
    finally:
        await client.close()


async def test_device_freshness_survives_reconnects_and_restarts(keyring: Keyring) -> None:
    """A new session (an HA restart) or a gateway restart does not reset the devices."""
    tunnel_ia = IndividualAddress.parse("1.1.255")
    gw = virtual_gateway(keyring, status_delay=0)
    sequence = sequence_clock()
    await gw.start()
    try:
        client = await RawClient.secure(gw.address[1], tunnel_of(keyring, 2))
        await client.send_telegram(secure_write(keyring, tunnel_ia, WRITE_GA, True, sequence))
        await client.close()
        port = gw.address[1]
        await gw.stop()
        await gw.start()
        assert gw.address[1] == port  # a restart listens where the clients knew it
        client = await RawClient.secure(gw.address[1], tunnel_of(keyring, 2))
        await client.send_telegram(secure_write(keyring, tunnel_ia, WRITE_GA, False, sequence))
        await client.close()
        assert gw.switch_state(WRITE_GA) is True
        assert gw.replays_rejected == {ACTUATOR: 1}
    finally:
        await gw.stop()


async def test_silent_session_times_out(keyring: Keyring) -> None:
    gw = VirtualGateway(keyring, session_timeout=0.3)
    await gw.start()
    try:
        client = await RawClient.secure(gw.address[1], tunnel_of(keyring, 2))
        assert gw.sessions == 1
        assert gw.tunnels_in_use
        ended = await client.read_plain(seconds=2.0)
        assert isinstance(ended, SessionEnded)
        assert ended.reason is EndReason.TIMEOUT
        assert await client.closed_by_peer()
        await client.close()
        await wait_for(lambda: gw.connections == 0, 2.0, "the gateway kept the connection")
        assert gw.sessions == 0
        assert not gw.tunnels_in_use
    finally:
        await gw.stop()


async def test_silent_connections_are_closed(keyring: Keyring) -> None:
    """No frame at all, or a session request and then nothing: closed after the timeout."""
    gw = VirtualGateway(keyring, session_timeout=0.2)
    await gw.start()
    try:
        quiet = await RawClient.connect(gw.address[1])
        handshake_only = await RawClient.connect(gw.address[1])
        session = SecureSession.client(
            user_id=2,
            user_password_key=bytes(16),
            device_authentication_key=None,
            serial=CLIENT_SERIAL,
        )
        handshake_only.write(session.start(handshake_only.now()))
        assert isinstance(knxip.parse(await handshake_only.read_frame()), knxip.SessionResponse)
        assert await quiet.closed_by_peer()
        assert await handshake_only.closed_by_peer()
        await quiet.close()
        await handshake_only.close()
    finally:
        await gw.stop()


async def _assert_closed_while_sending(keyring: Keyring, first: bytes, again: bytes) -> None:
    """A peer sends ``first``, then ``again`` every 50 ms for 10 s (far beyond the timeout):
    the gateway closes it after the timeout, while it is still sending."""
    timeout = 0.3
    gw = VirtualGateway(keyring, session_timeout=timeout)
    await gw.start()
    client = await RawClient.connect(gw.address[1])
    loop = asyncio.get_running_loop()

    async def send() -> None:
        client.write(first)
        with contextlib.suppress(ConnectionError):
            for _ in range(200):
                await asyncio.sleep(0.05)
                client.write(again)

    sending = asyncio.create_task(send())
    try:
        started = loop.time()
        assert await client.closed_by_peer(seconds=4 * timeout)
        assert loop.time() - started < 4 * timeout
        assert not sending.done()  # the peer was still sending when it was closed
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
        await client.close()
        await gw.stop()


async def test_trickled_partial_frame_does_not_keep_a_connection(keyring: Keyring) -> None:
    """Octets of a frame that never completes are no sign of life: a peer trickling them
    slowly is closed after the timeout (each octet used to restart it)."""
    # a CONNECT_REQUEST header announcing 1024 octets, then one octet at a time
    await _assert_closed_while_sending(keyring, H("061002050400"), b"\x00")


async def test_malformed_frames_do_not_keep_an_unauthenticated_connection(
    keyring: Keyring,
) -> None:
    """A peer that never authenticates but sends a well-delimited, unusable frame again and
    again is closed after the timeout (each whole frame used to count as life)."""
    unusable = H("0610ffff0006")  # a header of an unknown service, no body
    await _assert_closed_while_sending(keyring, unusable, unusable)


async def test_unauthenticated_connections_are_capped(keyring: Keyring) -> None:
    """Beyond the cap, a new unauthenticated connection closes the oldest one; an
    authenticated connection does not count."""
    gw = VirtualGateway(keyring, max_unauthenticated=2)
    await gw.start()
    clients: list[RawClient] = []
    try:
        secure = await RawClient.secure(gw.address[1], tunnel_of(keyring, 2))
        clients.append(secure)
        for _ in range(3):
            clients.append(await RawClient.connect(gw.address[1]))
        oldest, second, newest = clients[1:]
        assert await oldest.closed_by_peer()
        assert secure.tunnel is not None
        assert gw.sessions == 1
        assert gw.tunnels_in_use  # the authenticated client keeps its tunnel
        # the two newer unauthenticated ones are still served
        for client in (second, newest):
            client.write(H("0610ffff0006"))
        assert gw.connections == 3
    finally:
        for client in clients:
            await client.close()
        await gw.stop()


async def test_garbage_stream_is_dropped(gateway: VirtualGateway) -> None:
    client = await RawClient.connect(gateway.address[1])
    client.write(b"GET / HTTP/1.1\r\n\r\n")
    assert await client.closed_by_peer()
    await client.close()
    assert gateway.dropped["malformed"] == 1


# --- plain tunnelling -------------------------------------------------------------------------


def plain_connect(address: IndividualAddress | None = None) -> bytes:
    cri = knxip.CRI(individual_address=address)
    return knxip.encode(
        knxip.ConnectRequest(knxip.HPAI.ROUTE_BACK_TCP, knxip.HPAI.ROUTE_BACK_TCP, cri)
    )


async def test_plain_tunnelling_is_refused_for_secure_slots(gateway: VirtualGateway) -> None:
    client = await RawClient.connect(gateway.address[1])
    try:
        client.write(plain_connect())
        answer = knxip.parse(await client.read_frame())
        assert answer == knxip.ConnectResponse(0, ErrorCode.E_NO_MORE_CONNECTIONS)
        client.write(plain_connect(IndividualAddress.parse("1.1.255")))
        answer = knxip.parse(await client.read_frame())
        assert answer == knxip.ConnectResponse(0, ErrorCode.E_NO_MORE_CONNECTIONS)
        assert not gateway.tunnels_in_use
    finally:
        await client.close()


async def test_frames_in_pieces_and_several_in_one_read(gateway: VirtualGateway) -> None:
    client = await RawClient.connect(gateway.address[1])
    try:
        request = plain_connect()
        for piece in (request[:3], request[3:10], request[10:]):
            client.write(piece)
            await client.writer.drain()
            await asyncio.sleep(0.02)
        client.write(request + request + request[:5])
        client.write(request[5:])
        refusal = knxip.ConnectResponse(0, ErrorCode.E_NO_MORE_CONNECTIONS)
        for _ in range(4):
            assert knxip.parse(await client.read_frame()) == refusal
    finally:
        await client.close()


async def test_plain_slot_takes_plain_clients() -> None:
    """SecureTest.knxkeys host 4.0.0 has one tunnel without user: plain tunnelling works,
    and it sees the bus."""
    fixture = KEYRING_BY_NAME["SecureTest.knxkeys"]
    keyring = load_keyring(fixture.path, fixture.password)
    gw = VirtualGateway(keyring, host=IndividualAddress.parse("4.0.0"))
    await gw.start()
    client = await RawClient.connect(gw.address[1])
    try:
        connected = await client.open_tunnel()
        assert str(connected.individual_address) == "4.0.1"
        gw.inject(
            LData(
                MessageCode.L_DATA_IND,
                IndividualAddress.parse("4.0.20"),
                GroupAddress.parse("1/0/0"),
                cemi.group_value_write(1),
            )
        )
        assert str((await client.next_telegram()).src) == "4.0.20"
        descriptor_dibs = gw.dibs()
        assert not knxip.tunnelling_requires_secure(descriptor_dibs)
    finally:
        await client.close()
        await gw.stop()


# --- life cycle -------------------------------------------------------------------------------


async def test_stop_closes_everything(keyring: Keyring) -> None:
    before = asyncio.all_tasks()
    gw = virtual_gateway(keyring, status_delay=5)
    await gw.start()
    port = gw.address[1]
    client = await RawClient.secure(port, tunnel_of(keyring, 2))
    await client.send_telegram(
        secure_write(keyring, IndividualAddress.parse("1.1.255"), WRITE_GA, True, sequence_clock())
    )  # leaves a status telegram pending for 5 s
    await gw.stop()
    # the client was told: DISCONNECT_REQUEST, then the session's close
    frame = await client.read_plain()
    assert isinstance(frame, knxip.DisconnectRequest)
    assert await client.closed_by_peer()
    await client.close()
    assert gw.connections == 0
    assert gw.sessions == 0
    assert asyncio.all_tasks() == before
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    await gw.stop()  # twice is harmless


async def test_disconnect_all_keeps_listening(gateway: VirtualGateway, keyring: Keyring) -> None:
    client = await RawClient.secure(gateway.address[1], tunnel_of(keyring, 2))
    await gateway.disconnect_all()
    assert await client.closed_by_peer()
    await client.close()
    assert gateway.connections == 0
    assert not gateway.tunnels_in_use
    again = await RawClient.secure(gateway.address[1], tunnel_of(keyring, 2))
    assert gateway.tunnels_in_use
    await again.close()


async def test_start_twice_is_an_error(gateway: VirtualGateway) -> None:
    with pytest.raises(RuntimeError):
        await gateway.start()


async def test_no_secret_is_logged(keyring: Keyring, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    gw = virtual_gateway(keyring, status_delay=0)
    await gw.start()
    try:
        client = await RawClient.secure(gw.address[1], tunnel_of(keyring, 2))
        await client.send_telegram(
            secure_write(
                keyring, IndividualAddress.parse("1.1.255"), WRITE_GA, True, sequence_clock()
            )
        )
        await client.close()
        with pytest.raises(Exception, match="authentication failed"):
            await RawClient.secure(gw.address[1], tunnel_of(keyring, 3), password="nope")
    finally:
        await gw.stop()
    assert "authenticated" in caplog.text
    leaked = [s for s in keyring.secrets() if len(s) >= 6 and s in caplog.text]
    assert leaked == []
