"""SecureTunnelClient against the real VirtualGateway on 127.0.0.1: tunnel choice, Data Secure
both ways, subscriptions, persistence, drops and a clean close."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from custom_components.knx_secure.knx import client as client_module
from custom_components.knx_secure.knx import crypto
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.cemi import APCI, LData, MessageCode, group_value_write
from custom_components.knx_secure.knx.client import (
    ConnectionEvent,
    ConnectionState,
    JsonFileStore,
    SecureTunnelClient,
    SecurityState,
    Telegram,
    TunnelChoice,
)
from custom_components.knx_secure.knx.data_secure import encrypt_tpdu, sequence_clock
from custom_components.knx_secure.knx.errors import (
    DataSecureError,
    DataSecureKeyMissingError,
    DataSecurePlainRejectedError,
    KeyringError,
    NotConnectedError,
)
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring

from ..helpers import FAST, STATUS, SWITCH, client_sockets, wait_for

PLAIN_GA = GroupAddress.parse("2/2/2")  # no key in the keyring
HOST = IndividualAddress.parse("1.1.0")
ACTUATOR = IndividualAddress.parse("1.1.1")
TUNNELS = {IndividualAddress.parse(f"1.1.{n}") for n in (252, 253, 254, 255)}

pytestmark = pytest.mark.timeout(15)


type ClientFactory = Callable[..., SecureTunnelClient]


@pytest.fixture
async def make_client(keyring: Keyring, gateway: VirtualGateway) -> AsyncIterator[ClientFactory]:
    clients: list[SecureTunnelClient] = []

    def make(**kwargs: object) -> SecureTunnelClient:
        host, port = gateway.address
        kwargs.setdefault("timeouts", FAST)
        client = SecureTunnelClient(keyring, host, port, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


# --- tunnel choice ---------------------------------------------------------------------------


async def test_connect_automatic(make_client: ClientFactory, gateway: VirtualGateway) -> None:
    client = make_client()
    events: list[ConnectionEvent] = []
    client.subscribe_state(events.append)
    await client.connect()
    assert client.state is ConnectionState.CONNECTED
    assert [e.state for e in events] == [ConnectionState.CONNECTING, ConnectionState.CONNECTED]
    assert client.individual_address in TUNNELS
    assert client.tunnel is not None
    assert client.tunnel.individual_address == client.individual_address
    assert client.description is not None
    assert client.description.individual_address == HOST
    assert set(gateway.tunnels_in_use.values()) == {client.individual_address}
    await client.connect()  # already connected: nothing happens
    assert len(events) == 2


async def test_automatic_choice_takes_the_next_free_tunnel(make_client: ClientFactory) -> None:
    first, second = make_client(), make_client()
    await first.connect()
    await second.connect()
    assert first.individual_address != second.individual_address


@pytest.mark.parametrize("address", ["1.1.252", "1.1.253", "1.1.255"])
async def test_connect_by_individual_address(make_client: ClientFactory, address: str) -> None:
    tunnel = IndividualAddress.parse(address)
    client = make_client(tunnel=TunnelChoice(individual_address=tunnel))
    await client.connect()
    assert client.individual_address == tunnel
    assert client.description is None  # no UDP needed when the tunnel is named


@pytest.mark.parametrize(("user_id", "address"), [(2, "1.1.255"), (3, "1.1.254"), (5, "1.1.252")])
async def test_connect_by_user_id(make_client: ClientFactory, user_id: int, address: str) -> None:
    client = make_client(tunnel=TunnelChoice(user_id=user_id))
    await client.connect()
    assert str(client.individual_address) == address
    assert client.tunnel is not None
    assert client.tunnel.user_id == user_id


async def test_tunnel_with_a_user_id_beyond_127_is_refused_or_skipped(
    keyring: Keyring, gateway: VirtualGateway
) -> None:
    """A keyring may carry such a user id; SESSION_AUTHENTICATE cannot, so the client says so
    for an explicit choice and skips that tunnel when choosing automatically."""
    odd = IndividualAddress.parse("1.1.255")
    changed = dataclasses.replace(
        keyring,
        interfaces=tuple(
            dataclasses.replace(i, user_id=200) if i.individual_address == odd else i
            for i in keyring.interfaces
        ),
    )
    host, port = gateway.address
    explicit = SecureTunnelClient(
        changed, host, port, tunnel=TunnelChoice(individual_address=odd), timeouts=FAST
    )
    with pytest.raises(KeyringError, match=r"1\.1\.255 has user id 200.*1\.\.127"):
        await explicit.connect()
    await explicit.close()
    automatic = SecureTunnelClient(changed, host, port, timeouts=FAST)
    try:
        await automatic.connect()
        assert automatic.individual_address in TUNNELS - {odd}
    finally:
        await automatic.close()


async def test_connect_with_explicit_host(make_client: ClientFactory) -> None:
    """The host override skips the UDP description (gateways that do not answer UDP)."""
    client = make_client(tunnel=TunnelChoice(host=HOST))
    await client.connect()
    assert client.individual_address in TUNNELS
    assert client.description is None


async def test_key_derivation_runs_off_the_loop(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []
    pbkdf2: Callable[[bytes, bytes], bytes] = getattr(crypto, "_pbkdf2")  # noqa: B009

    def recording(secret: bytes, salt: bytes) -> bytes:
        threads.append(threading.get_ident())
        return pbkdf2(secret, salt)

    monkeypatch.setattr(crypto, "_pbkdf2", recording)
    crypto.derive_user_password_key.cache_clear()  # derive it here, whatever ran before
    client = make_client(tunnel=TunnelChoice(user_id=4))
    await client.connect()
    assert threads
    assert threading.get_ident() not in threads


# --- telegrams ---------------------------------------------------------------------------------


async def test_write_and_read_round_trip(
    make_client: ClientFactory, gateway: VirtualGateway
) -> None:
    client = make_client()
    await client.connect()
    await client.write(SWITCH, 1)
    assert gateway.switch_state(SWITCH) is True
    telegram = await client.read(STATUS)
    assert telegram == Telegram(ACTUATOR, STATUS, APCI.GROUP_VALUE_RESPONSE, 1, True) or (
        telegram.apci is APCI.GROUP_VALUE_WRITE and telegram.value == 1 and telegram.secure
    )
    received: list[Telegram] = []
    client.subscribe(received.append)
    await client.write(SWITCH, 0)
    assert gateway.switch_state(SWITCH) is False
    # the spontaneous status of the actuator has passed: the read gets the response
    spontaneous = Telegram(ACTUATOR, STATUS, APCI.GROUP_VALUE_WRITE, 0, True)
    await wait_for(lambda: spontaneous in received, message="no status after the write")
    telegram = await client.read(STATUS)
    assert telegram == Telegram(ACTUATOR, STATUS, APCI.GROUP_VALUE_RESPONSE, 0, True)
    assert gateway.dropped.get("replay", 0) == 0
    assert gateway.dropped.get("mac", 0) == 0
    assert all(count == 0 for count in gateway.replays_rejected.values())
    assert sum(client.dropped.values()) == 0


async def test_respond_sends_a_secure_group_value_response(make_client: ClientFactory) -> None:
    """respond: a GroupValueResponse, Data Secure on a GA with a key; another tunnel gets it."""
    listener, responder = make_client(), make_client()
    await listener.connect()
    await responder.connect()
    received: list[Telegram] = []
    listener.subscribe(received.append)
    await responder.respond(SWITCH, 1)
    source = responder.individual_address
    assert source is not None
    expected = Telegram(source, SWITCH, APCI.GROUP_VALUE_RESPONSE, 1, True)
    await wait_for(lambda: expected in received, message=f"got {received}")
    await responder.respond(PLAIN_GA, b"\x0c\x33")
    plain = Telegram(source, PLAIN_GA, APCI.GROUP_VALUE_RESPONSE, b"\x0c\x33", False)
    await wait_for(lambda: plain in received, message=f"got {received}")


async def test_subscribe_and_iterator_deliver_the_status(make_client: ClientFactory) -> None:
    client = make_client()
    await client.connect()
    received: list[Telegram] = []
    unsubscribe = client.subscribe(received.append)
    stream = client.telegrams()
    await client.write(SWITCH, 1)
    async with asyncio.timeout(2):
        telegram = await anext(stream)
    assert telegram == Telegram(ACTUATOR, STATUS, APCI.GROUP_VALUE_WRITE, 1, True)
    assert received == [telegram]  # our own write is not an incoming telegram
    unsubscribe()
    await client.write(SWITCH, 0)
    async with asyncio.timeout(2):
        telegram = await anext(stream)
    assert telegram.value == 0
    assert received == [received[0]]  # unsubscribed
    await client.close()
    with pytest.raises(StopAsyncIteration):
        await anext(stream)  # the stream ends with the client


async def test_plain_telegrams(make_client: ClientFactory) -> None:
    client = make_client()
    await client.connect()
    with pytest.raises(DataSecurePlainRejectedError, match="1/1/1"):
        await client.send(SWITCH, APCI.GROUP_VALUE_WRITE, 1, secure=False)
    with pytest.raises(DataSecureKeyMissingError, match="2/2/2"):
        await client.send(PLAIN_GA, APCI.GROUP_VALUE_WRITE, 1, secure=True)
    await client.send(PLAIN_GA, APCI.GROUP_VALUE_WRITE, b"\x12\x34")  # plain is allowed here
    await client.send(SWITCH, APCI.GROUP_VALUE_RESPONSE, 1, secure=True)


async def test_not_connected(make_client: ClientFactory) -> None:
    client = make_client()
    with pytest.raises(NotConnectedError):
        await client.write(SWITCH, 1)
    with pytest.raises(NotConnectedError):
        await client.read(STATUS)


def _secure_frame(
    keyring: Keyring, src: IndividualAddress, ga: GroupAddress, sequence: int, value: int
) -> LData:
    key = keyring.group_key(ga)
    assert key is not None
    tpdu = encrypt_tpdu(
        key, src=src, dst=ga, tpci=0, sequence=sequence, apdu=group_value_write(value)
    )
    return LData(MessageCode.L_DATA_IND, src, ga, tpdu)


async def test_incoming_drops_are_counted(
    make_client: ClientFactory, gateway: VirtualGateway, keyring: Keyring
) -> None:
    client = make_client()
    await client.connect()
    received: list[Telegram] = []
    client.subscribe(received.append)
    sender = IndividualAddress.parse("1.1.77")
    good = _secure_frame(keyring, sender, STATUS, 1000, 1)
    gateway.inject(good)
    gateway.inject(good)  # repeated: dropped quietly as a replay
    gateway.inject(_secure_frame(keyring, sender, STATUS, 999, 0))  # older: replay
    forged = bytearray(_secure_frame(keyring, sender, STATUS, 1001, 1).tpdu)
    forged[-1] ^= 0xFF
    gateway.inject(LData(MessageCode.L_DATA_IND, sender, STATUS, bytes(forged)))
    gateway.inject(LData(MessageCode.L_DATA_IND, sender, STATUS, group_value_write(1)))  # plain
    other = _secure_frame(keyring, sender, STATUS, 1002, 1)
    gateway.inject(LData(MessageCode.L_DATA_IND, sender, PLAIN_GA, other.tpdu))  # no key
    gateway.inject(LData(MessageCode.L_DATA_IND, sender, PLAIN_GA, group_value_write(5)))
    await wait_for(lambda: len(received) >= 2 and sum(client.dropped.values()) >= 5)
    assert received == [
        Telegram(sender, STATUS, APCI.GROUP_VALUE_WRITE, 1, True),
        Telegram(sender, PLAIN_GA, APCI.GROUP_VALUE_WRITE, 5, False),
    ]
    assert dict(client.dropped) == {"no_key": 1, "mac": 1, "replay": 2, "malformed": 0, "plain": 1}
    assert dict(client.mac_failures) == {STATUS: 1}
    assert client.security_state.freshness["1.1.77"] == 1000


# --- persistence ------------------------------------------------------------------------------


async def test_json_file_store_persists_counters(
    make_client: ClientFactory, gateway: VirtualGateway, tmp_path: Path
) -> None:
    path = tmp_path / "counters.json"
    ahead = sequence_clock() + 10**9  # far ahead of the clock: only persistence can beat it
    path.write_text(json.dumps({"sequence_number": ahead, "freshness": {}}))
    first = make_client(store=JsonFileStore(path))
    await first.connect()
    await first.write(SWITCH, 1)
    await first.write(SWITCH, 0)
    stored = json.loads(path.read_text())
    first_last = stored["sequence_number"]
    assert first_last > ahead
    assert first.security_state.sequence_number == first_last
    await wait_for(lambda: "1.1.1" in json.loads(path.read_text())["freshness"])
    seen_from_actuator = json.loads(path.read_text())["freshness"]["1.1.1"]
    await first.close()

    second = make_client(store=JsonFileStore(path))
    assert second.security_state.freshness["1.1.1"] == seen_from_actuator
    await second.connect()
    await second.write(SWITCH, 1)
    assert json.loads(path.read_text())["sequence_number"] > first_last
    assert gateway.switch_state(SWITCH) is True
    assert all(count == 0 for count in gateway.replays_rejected.values())
    assert gateway.dropped.get("replay", 0) == 0
    assert not list(tmp_path.glob(".counters.json.*"))  # noqa: ASYNC240 - no temp file left


def test_client_serial_differs_from_any_gateway_serial(
    keyring: Keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sessions drop wrappers carrying their own serial as reflected: the client's serial
    must never be one a gateway uses (a keyring device's, or the virtual gateway's
    00fa0000 + address)."""
    device = dataclasses.replace(keyring.devices[0], serial_number="00FA12345678")
    with_serial = dataclasses.replace(keyring, devices=(device, *keyring.devices[1:]))
    draws = iter([0x00000101, 0x12345678, 0x9ABCDEF0])
    monkeypatch.setattr(client_module.random, "getrandbits", lambda _bits: next(draws))
    client = SecureTunnelClient(with_serial, "127.0.0.1")
    assert client._serial == bytes.fromhex("00fa9abcdef0")


class FailingStore:
    """A SecurityStore on a full disk: save raises OSError while ``failing``."""

    def __init__(self) -> None:
        self.failing = True
        self.saved: list[SecurityState] = []

    def load(self) -> SecurityState | None:
        return None

    def save(self, state: SecurityState) -> None:
        if self.failing:
            raise OSError(28, "No space left on device")
        self.saved.append(state)

    async def flush(self) -> None:
        """Nothing to do: save writes through."""


async def test_unsaved_sequence_number_is_never_used(
    make_client: ClientFactory, gateway: VirtualGateway
) -> None:
    """Persist before use: a store that cannot save fails the write with a clear error and no
    telegram goes out (the failure used to be logged and the value used anyway)."""
    store = FailingStore()
    client = make_client(store=store)
    await client.connect()
    with pytest.raises(DataSecureError, match="cannot persist the Data Secure sequence number"):
        await client.write(SWITCH, 1)
    # a confirmed plain telegram behind it on the same stream: the gateway has handled
    # anything the client sent before, so the refused telegram would have switched by now
    await client.send(PLAIN_GA, APCI.GROUP_VALUE_WRITE, 1)
    assert gateway.switch_state(SWITCH) is False  # nothing reached the bus
    refused = client.security_state.sequence_number
    # the disk has room again: the next write persists a newer value first, then sends it
    store.failing = False
    await client.write(SWITCH, 1)
    assert gateway.switch_state(SWITCH) is True
    assert store.saved[0].sequence_number > refused
    assert client.state is ConnectionState.CONNECTED


def test_json_file_store_roundtrip_and_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = JsonFileStore(path)
    assert store.load() is None
    store.save(SecurityState(42, {"1.1.1": 7}))
    assert json.loads(path.read_text()) == {"sequence_number": 42, "freshness": {"1.1.1": 7}}
    assert JsonFileStore(path).load() == SecurityState(42, {"1.1.1": 7})
    path.write_text("not json")
    assert JsonFileStore(path).load() is None
    path.write_text('{"sequence_number": "x"}')
    assert JsonFileStore(path).load() is None


# --- closing ----------------------------------------------------------------------------------


async def test_close_leaves_nothing_behind(
    make_client: ClientFactory, gateway: VirtualGateway
) -> None:
    before = asyncio.all_tasks()
    client = make_client()
    await client.start()
    assert client.state is ConnectionState.CONNECTED
    await client.write(SWITCH, 1)
    await client.read(STATUS)
    assert gateway.connections == 1
    assert len(client_sockets(gateway.address[1])) == 1
    await client.close()
    assert asyncio.all_tasks() == before
    assert client_sockets(gateway.address[1]) == []
    state: ConnectionState = client.state
    assert state is ConnectionState.DISCONNECTED
    await wait_for(lambda: gateway.connections == 0 and not gateway.tunnels_in_use, 2.0)
    assert gateway.dropped.get("unexpected", 0) == 0
    await client.close()  # idempotent


async def test_secrets_never_logged(
    make_client: ClientFactory, keyring: Keyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.knx_secure.knx")
    client = make_client()
    await client.connect()
    await client.write(SWITCH, 1)
    await client.read(STATUS)
    await client.close()
    text = caplog.text
    assert text
    for secret in keyring.secrets():
        assert secret not in text


async def test_start_value_is_reserved_before_any_write(keyring: Keyring, tmp_path: Path) -> None:
    """A crash right after start (no write yet) must not make the next start reuse values."""
    store = JsonFileStore(tmp_path / "counters.json")
    clock_before = sequence_clock()
    first = SecureTunnelClient(keyring, "127.0.0.1", 1, store=store, timeouts=FAST)
    reserved = store.load()
    assert reserved is not None
    assert reserved.sequence_number >= clock_before
    # "Crash": the first client never sends. The second one starts past the reservation.
    second = SecureTunnelClient(keyring, "127.0.0.1", 1, store=store, timeouts=FAST)
    again = store.load()
    assert again is not None
    assert again.sequence_number > reserved.sequence_number
    await first.close()
    await second.close()
