"""Installation files (installation.py): each error named, the demo home's file, devices that
read at start, and nothing but InstallationError for any input (hypothesis)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.cemi import APCI
from custom_components.knx_secure.knx.client import SecureTunnelClient, Telegram
from custom_components.knx_secure.knx.devices import DEVICE_KINDS, SimulatedDevice, SwitchActuator
from custom_components.knx_secure.knx.errors import InstallationError
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.installation import (
    MAX_INSTALLATION_SIZE,
    DeviceEntry,
    Installation,
    install,
    parse_installation,
    read_installation,
)
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring
from custom_components.knx_secure.knx.router import VirtualRouter

from ..helpers import FAST, STATUS, SWITCH, virtual_gateway, wait_for
from .test_routing_edge import GROUP, free_udp_port
from .test_scenario import quiet_gateway

__all__ = ["quiet_gateway"]  # a fixture: a running gateway whose actuator reports at once

DEMO = Path(__file__).resolve().parents[2] / "demo"
DEMO_INSTALLATION = DEMO / "installation.json"
READER = IndividualAddress.parse("1.1.9")

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def demo_keyring() -> Keyring:
    return load_keyring(DEMO / "Demo Home.knxkeys", "demo")


def _switch(address: object = "1.1.9", **extra: object) -> dict[str, object]:
    return {
        "kind": "switch",
        "address": address,
        "channels": [{"write": "5/5/5", "status": "5/5/6"}],
        **extra,
    }


def _file(*devices: object) -> str:
    return json.dumps({"devices": list(devices)})


def _error(data: bytes | str) -> str:
    with pytest.raises(InstallationError) as caught:
        parse_installation(data)
    return str(caught.value)


# --- the file on its own -----------------------------------------------------------------------


def test_an_entry_is_read_with_its_common_fields_apart() -> None:
    entry = _switch(name="Hall", reads_at_start=["1/1/2", 2305])
    installation = parse_installation(_file(entry))
    assert installation == Installation(
        (
            DeviceEntry(
                index=0,
                kind="switch",
                address=READER,
                name="Hall",
                reads_at_start=(STATUS, GroupAddress.parse("1/1/1")),
                fields={"channels": [{"write": "5/5/5", "status": "5/5/6"}]},
            ),
        )
    )
    assert installation.devices[0].where == "devices[0] (1.1.9 switch)"


def test_an_empty_installation_and_a_byte_order_mark_are_fine() -> None:
    assert parse_installation(b'\xef\xbb\xbf{"devices": []}') == Installation(())


def test_an_unknown_kind_lists_the_known_kinds() -> None:
    message = _error(_file(_switch(), {**_switch("1.1.10"), "kind": "lamp"}))
    known = ", ".join(sorted(DEVICE_KINDS))
    assert message == f"devices[1]: kind: unknown 'lamp' (known kinds: {known})"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("[]", 'the installation file: a JSON object {"devices": [...]}, not a list'),
        ('"devices"', "the installation file: a JSON object"),
        ('{"devices": [], "device": []}', "unknown field 'device' (known: devices)"),
        ("{}", "devices: missing (a list of device objects)"),
        ('{"devices": {}}', "devices: not an object (a list of device objects)"),
        (_file("1.1.1"), "devices[0]: a device object, not text"),
        (_file({"address": "1.1.1"}), "devices[0]: kind: missing (known kinds: "),
        (_file({**_switch(), "kind": 7}), "devices[0]: kind: unknown 7"),
        (_file({"kind": "switch"}), "devices[0] (switch): address: missing"),
        (_file(_switch(address=1)), "devices[0] (switch): address: text like 1.1.4, not 1"),
        (_file(_switch(address="1/1/1")), "devices[0] (switch): address: "),
        (_file(_switch(address="16.0.1")), "devices[0] (switch): address: "),
        (_file(_switch(name="")), "devices[0] (1.1.9 switch): name: printable text, not ''"),
        (_file(_switch(name="a\nb")), "name: printable text"),
        (_file(_switch(name=["a"])), "name: printable text, not ['a']"),
        (_file(_switch(name="x" * 101)), "name: at most 100 characters, not 101"),
        (_file(_switch(reads_at_start="1/1/2")), "reads_at_start: a list of group addresses"),
        (
            _file(_switch(reads_at_start=["1/1/2", "1/1/99999"])),
            "devices[0] (1.1.9 switch): reads_at_start[1]: ",
        ),
        (_file(_switch(reads_at_start=[True])), "reads_at_start[0]: a group address is text"),
        (_file(_switch(read_period=5)), "read_period: only with reads_at_start"),
        (
            _file(_switch(reads_at_start=["1/1/2"], read_period=0)),
            "devices[0] (1.1.9 switch): read_period: 0 is outside 0.01..86400.0",
        ),
        (_file(_switch(reads_at_start=["1/1/2"], read_period="5")), "read_period: a number"),
        (
            _file(_switch("1.1.9"), _switch("1.1.10"), _switch("1.1.9")),
            "devices[2] (1.1.9 switch): address: 1.1.9 is already devices[0] (1.1.9 switch)",
        ),
    ],
)
def test_each_error_of_the_file_is_named(document: str, message: str) -> None:
    assert message in _error(document)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not JSON: Expecting value (line 1, column 1)"),
        (b'{"devices": [', "not JSON: "),
        (b'{"devices": [] /* comment */}', "not JSON: "),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b'{"devices": [], "devices": []}', "the field 'devices' appears twice in one object"),
        (_file(_switch(x=1, x2=2)).replace('"x2"', '"x"').encode(), "the field 'x' appears twice"),
        (b'{"devices": NaN}', "NaN is not a number JSON allows"),
        (b'{"devices": -Infinity}', "-Infinity is not a number JSON allows"),
        (b'{"devices": [1e999]}', "'1e999' is too large a number"),
        (b'{"devices": [' + b"9" * 5000 + b"]}", "the installation file: "),
        (b"[" * 100_000 + b"]" * 100_000, "the installation file: nested too deeply"),
    ],
    ids=[
        "empty",
        "cut",
        "comment",
        "not-utf8",
        "duplicate-top",
        "duplicate-field",
        "nan",
        "infinity",
        "huge-float",
        "huge-int",
        "deep",
    ],
)
def test_a_file_that_is_not_strict_json_is_refused(data: bytes, message: str) -> None:
    assert message in _error(data)


def test_a_file_above_the_limit_is_refused_before_it_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as file:
        file.write(b'{"devices": []}')
        file.write(b" " * MAX_INSTALLATION_SIZE)
    with pytest.raises(InstallationError, match="larger than 4096 KiB"):
        read_installation(path)


def test_a_file_that_cannot_be_read_is_an_installation_error(tmp_path: Path) -> None:
    with pytest.raises(InstallationError, match="cannot read the installation file"):
        read_installation(tmp_path)  # a directory
    with pytest.raises(InstallationError, match="cannot read the installation file"):
        read_installation(tmp_path / "missing.json")


def test_an_error_message_quotes_little_of_a_long_value() -> None:
    message = _error(_file({**_switch(), "kind": "k" * 10_000}))
    known = ", ".join(sorted(DEVICE_KINDS))  # the message lists the known kinds
    assert len(message) < 120 + len(known)
    assert message.startswith("devices[0]: kind: unknown 'kkkk")


# --- on a gateway ------------------------------------------------------------------------------


def _install(gateway: VirtualGateway, *devices: object) -> tuple[SimulatedDevice, ...]:
    return install(gateway, parse_installation(_file(*devices)), status_delay=0)


def test_devices_are_built_with_their_kind_and_name(keyring: Keyring) -> None:
    gateway = VirtualGateway(keyring)
    devices = _install(gateway, _switch(name="Hall"), _switch("1.1.10"))
    assert gateway.devices == (READER, IndividualAddress.parse("1.1.10"))
    assert devices == (gateway.device(READER), gateway.device("1.1.10"))
    assert isinstance(devices[0], SwitchActuator)
    assert gateway.device_list() == [
        {"address": "1.1.9", "kind": "switch", "name": "Hall"},
        {"address": "1.1.10", "kind": "switch", "name": None},
    ]
    assert gateway.ready_line()["devices"] == gateway.device_list()


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("1.1.0", "devices[1] (1.1.0 switch): address: 1.1.0 is the gateway's host"),
        ("1.1.253", "devices[1] (1.1.253 switch): address: 1.1.253 is a tunnel of the keyring"),
        (
            "1.1.1",
            "devices[1] (1.1.1 switch): address: 1.1.1 is already a device on the gateway (switch)",
        ),
    ],
)
def test_an_address_taken_on_the_gateway_is_refused_and_nothing_is_attached(
    keyring: Keyring, address: str, message: str
) -> None:
    gateway = virtual_gateway(keyring)  # the seed actuator 1.1.1
    with pytest.raises(InstallationError) as caught:
        _install(gateway, _switch(), _switch(address))
    assert str(caught.value) == message
    assert gateway.devices == (IndividualAddress.parse("1.1.1"),)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"channels": []}, "devices[1] (1.1.10 switch): channels: a list"),
        (
            {"channels": [{"write": "5/5/5", "status": "x"}]},
            "devices[1] (1.1.10 switch): channels[0]: status: ",
        ),
        (
            {"channels": [{"write": "5/5/5", "status": "5/5/6"}], "chanels": []},
            "devices[1] (1.1.10 switch): chanels: not a field of a switch (it reads channels)",
        ),
        (
            {"channels": [{"write": "5/5/5", "status": "5/5/6"}], "a\nb": 1},
            "devices[1] (1.1.10 switch): 'a\\nb': not a field of a switch",
        ),
    ],
)
def test_a_field_error_names_the_device_and_nothing_is_attached(
    keyring: Keyring, fields: dict[str, object], message: str
) -> None:
    gateway = VirtualGateway(keyring)
    with pytest.raises(InstallationError) as caught:
        _install(gateway, _switch(), {"kind": "switch", "address": "1.1.10", **fields})
    assert message in str(caught.value)
    assert gateway.devices == ()


def test_the_demo_home_loads_with_every_kind_it_names(demo_keyring: Keyring) -> None:
    installation = read_installation(DEMO_INSTALLATION)
    gateway = VirtualGateway(demo_keyring)
    devices = install(gateway, installation, status_delay=0)
    assert len(devices) == len(installation.devices) >= 2
    assert {entry.kind for entry in installation.devices} <= set(DEVICE_KINDS)
    seed = gateway.device("1.1.1")
    assert isinstance(seed, SwitchActuator)
    assert seed.channels[0].write_ga == SWITCH
    assert seed.channels[0].status_ga == STATUS
    assert all(entry["name"] for entry in gateway.device_list())


# --- reads at start ----------------------------------------------------------------------------


async def test_a_device_reads_at_start_and_keeps_the_answer(keyring: Keyring) -> None:
    gateway = virtual_gateway(keyring, status_delay=0)  # the seed actuator answers on 1/1/2
    (reader,) = _install(gateway, _switch(reads_at_start=["1/1/2"]))
    assert isinstance(reader, SwitchActuator)
    assert reader.reads_at_start == (STATUS,)
    assert reader.responses == {}
    await gateway.start()
    try:
        assert reader.responses == {STATUS: 0}  # Data Secure both ways, on the bus at start
        assert gateway.dropped == {}
    finally:
        await gateway.stop()


async def test_a_device_added_to_a_running_gateway_reads_and_a_client_answers(
    keyring: Keyring, quiet_gateway: VirtualGateway
) -> None:
    """What an expose needs (issue 12): the device's read reaches the tunnel, the answer the
    device, both Data Secure."""
    running = quiet_gateway
    client = SecureTunnelClient(keyring, *running.address, timeouts=FAST)
    reads: asyncio.Queue[Telegram] = asyncio.Queue()
    client.subscribe(lambda t: reads.put_nowait(t) if t.apci is APCI.GROUP_VALUE_READ else None)
    await client.connect()
    try:
        (reader,) = _install(running, _switch(reads_at_start=["1/1/1"]))
        read = await asyncio.wait_for(reads.get(), 5)
        assert (read.src, read.dst, read.secure) == (READER, SWITCH, True)
        await client.send(SWITCH, APCI.GROUP_VALUE_RESPONSE, 1)
        await wait_for(lambda: SWITCH in reader.responses)
        assert reader.responses == {SWITCH: 1}
        assert running.dropped == {}
    finally:
        await client.close()


async def test_a_device_reads_again_every_read_period(
    keyring: Keyring, quiet_gateway: VirtualGateway
) -> None:
    client = SecureTunnelClient(keyring, *quiet_gateway.address, timeouts=FAST)
    reads: list[Telegram] = []
    client.subscribe(lambda t: reads.append(t) if t.apci is APCI.GROUP_VALUE_READ else None)
    await client.connect()
    try:
        entry = _switch(reads_at_start=["1/1/2"], read_period=0.02)
        (reader,) = _install(quiet_gateway, entry)
        await wait_for(lambda: len(reads) >= 3)
        assert {(t.src, t.dst) for t in reads} == {(READER, STATUS)}
        assert reader.responses == {STATUS: 0}  # the seed actuator answered each time
    finally:
        await client.close()


async def test_a_restart_of_the_gateway_is_not_a_power_up(keyring: Keyring) -> None:
    gateway = virtual_gateway(keyring, status_delay=0)
    (reader,) = _install(gateway, _switch(reads_at_start=["1/1/2"]))
    await gateway.start()
    await gateway.stop()
    reader.responses.clear()
    await gateway.start()
    try:
        assert reader.responses == {}
    finally:
        await gateway.stop()


# --- anything else in: InstallationError or devices -------------------------------------------

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
_ADDRESSES = st.sampled_from(["1.1.9", "1.1.10", "1.1.0", "1.1.255", "0.0.0", "15.15.255", "x"])
_GROUP_ADDRESSES = st.sampled_from(["1/1/1", "1/1/2", "5/5/5", "0/0/0", "31/7/255", "1/1/99999"])


#: The demo home's entries: one of every kind, as they land.
_DEMO_ENTRIES: list[dict[str, Any]] = json.loads(DEMO_INSTALLATION.read_text())["devices"]


def _field_names() -> list[str]:
    """Every field the demo home's entries use."""
    return sorted({key for entry in _DEMO_ENTRIES for key in entry} | {"channels", "values"})


_FIELD_VALUES = (
    _GROUP_ADDRESSES
    | _JSON
    | st.lists(
        st.fixed_dictionaries(
            {}, optional=dict.fromkeys(("write", "status", "address"), _GROUP_ADDRESSES | _JSON)
        ),
        max_size=3,
    )
)
_ENTRIES = st.dictionaries(
    st.sampled_from(_field_names()) | st.text(max_size=5), _FIELD_VALUES, max_size=8
).flatmap(
    lambda fields: st.fixed_dictionaries(
        {"kind": st.sampled_from(sorted(DEVICE_KINDS)) | _JSON, "address": _ADDRESSES | _JSON}
    ).map(lambda common: {**fields, **common})
)


_REMOVED = object()


def _changed(entry: dict[str, Any], changes: dict[str, object]) -> dict[str, Any]:
    changed = {**entry, **changes}
    return {key: value for key, value in changed.items() if value is not _REMOVED}


#: A demo entry with a few fields replaced, removed or added: deep into each kind's checks.
_CHANGED_DEMO_ENTRIES = st.sampled_from(_DEMO_ENTRIES).flatmap(
    lambda entry: st.dictionaries(
        st.sampled_from(sorted(entry)) | st.sampled_from(_field_names()),
        _FIELD_VALUES | st.just(_REMOVED),
        min_size=1,
        max_size=3,
    ).map(lambda changes: _changed(entry, changes))
)


def _parse_and_install(data: bytes | str, keyring: Keyring) -> None:
    gateway = VirtualGateway(keyring)
    try:
        install(gateway, parse_installation(data), status_delay=0)
    except InstallationError:
        assert gateway.devices == ()  # all or nothing


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(devices=st.lists(_ENTRIES, max_size=4))
def test_any_device_entries_give_devices_or_an_installation_error(
    demo_keyring: Keyring, devices: list[dict[str, object]]
) -> None:
    _parse_and_install(_file(*devices), demo_keyring)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entry=_CHANGED_DEMO_ENTRIES)
def test_a_changed_demo_entry_gives_a_device_or_an_installation_error(
    demo_keyring: Keyring, entry: dict[str, object]
) -> None:
    _parse_and_install(_file(entry), demo_keyring)


@settings(max_examples=300, deadline=None)
@given(document=_JSON)
def test_any_json_document_gives_an_installation_error_or_devices(
    demo_keyring: Keyring, document: object
) -> None:
    _parse_and_install(json.dumps(document), demo_keyring)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200), cut=st.integers(min_value=0))
def test_any_bytes_in_the_demo_file_give_an_installation_error_or_devices(
    demo_keyring: Keyring, data: bytes, cut: int
) -> None:
    original = DEMO_INSTALLATION.read_bytes()
    at = cut % (len(original) + 1)
    _parse_and_install(original[:at] + data + original[at + len(data) :], demo_keyring)


async def test_a_device_behind_the_router_reads_once_the_group_is_synchronised(
    keyring: Keyring,
) -> None:
    gateway = virtual_gateway(keyring, status_delay=0)
    (reader,) = _install(gateway, _switch(reads_at_start=["1/1/2"]))
    router = VirtualRouter(gateway, group=GROUP, port=free_udp_port())
    await router.start()
    try:
        assert reader.responses == {STATUS: 0}
        assert router.ready_line()["devices"] == gateway.device_list()
    finally:
        await router.stop()
