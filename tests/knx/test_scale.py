"""The installation of real size (bench/scale.py): its plan, its keyring read the same by us
and by xknx, the same bytes on every run, its 500 entities and its gateway."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from xknx.secure.keyring import Keyring as XknxKeyring
from xknx.secure.keyring import sync_load_keyring

from bench import scale
from custom_components.knx_secure.knx.address import GroupAddress
from custom_components.knx_secure.knx.devices import BlindActuator, Dimmer, ValueActuator
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring

from .test_keyring_writer import xknx_content


@pytest.fixture(scope="module")
def keyring_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scale.write(tmp_path_factory.mktemp("scale"))


@pytest.fixture(scope="module")
def ours(keyring_path: Path) -> Keyring:
    return load_keyring(keyring_path, scale.PASSWORD)


@pytest.fixture(scope="module")
def theirs(keyring_path: Path) -> XknxKeyring:
    return sync_load_keyring(keyring_path, scale.PASSWORD)


def test_the_plan_has_2000_addresses_300_devices_and_8_tunnels(ours: Keyring) -> None:
    addresses = [a.ga for a in scale.PLAN.addresses]
    assert len(set(addresses)) == len(addresses) == 2000
    assert len(ours.devices) == 300
    tunnels = ours.tunnels_of_host(scale.GATEWAY)
    assert [t.individual_address for t in tunnels] == list(scale.TUNNELS)
    assert len({t.user_id for t in tunnels}) == 8
    secure = {a.ga for a in scale.PLAN.addresses if a.secure}
    assert set(ours.group_keys) == secure
    assert len(secure) > 1500  # most are Data Secure


def test_every_tunnel_receives_each_secure_address_from_its_device(ours: Keyring) -> None:
    device_of = {a.ga: a.device for a in scale.PLAN.addresses if a.secure}
    for tunnel in ours.tunnels_of_host(scale.GATEWAY):
        assert dict(tunnel.group_senders) == {ga: (device,) for ga, device in device_of.items()}


def _in_xknx_layout(keyring: Keyring) -> dict[str, Any]:
    """Our reading of a keyring in the layout of test_keyring_writer.xknx_content."""
    return {
        "project": (keyring.project, keyring.created, keyring.created_by),
        "backbone": None,
        "interfaces": [
            (
                i.type.value,
                i.individual_address.raw if i.individual_address else None,
                i.host.raw if i.host else None,
                i.user_id,
                i.password,
                i.device_authentication,
                {ga.raw: [s.raw for s in senders] for ga, senders in i.group_senders.items()},
            )
            for i in keyring.interfaces
        ],
        "group_keys": {ga.raw: key for ga, key in keyring.group_keys.items()},
        "devices": [
            (
                d.individual_address.raw,
                d.tool_key,
                d.management_password,
                d.authentication,
                d.sequence_number,
            )
            for d in keyring.devices
        ],
    }


def test_xknx_reads_the_same_content(ours: Keyring, theirs: XknxKeyring) -> None:
    assert ours.backbone is None
    assert xknx_content(theirs) == _in_xknx_layout(ours)


def test_the_file_is_the_same_on_every_run(keyring_path: Path) -> None:
    assert scale.keyring_bytes() == keyring_path.read_bytes()


def test_the_entry_has_500_entities_across_the_platforms_on_addresses_of_their_own() -> None:
    specs = scale.entities()
    assert len(specs) == 500
    assert sum(row.count for row in scale.ENTITY_MIX.values()) == 500
    assert Counter(platform for platform, _name, _data in specs) == {
        "switch": 120,
        "binary_sensor": 80,
        "light": 50,
        "cover": 49,
        "climate": 50,
        "number": 40,
        "select": 30,
        "sensor": 81,
    }
    names = [name for _platform, name, _data in specs]
    assert len(set(names)) == len(names)
    used = [
        GroupAddress.parse(str(value))
        for _platform, _name, data in specs
        for key, value in data.items()
        if key.endswith("_address")
    ]
    assert len(set(used)) == len(used)
    assert set(used) <= {a.ga for a in scale.PLAN.addresses}
    assert set(scale.expected_first_states()) == set(names)


def test_the_first_states_come_in_patterns() -> None:
    """Each platform's first states differ between its entities: none is a default."""
    by_platform: dict[str, set[object]] = {}
    firsts = scale.expected_first_states()
    for platform, name, _data in scale.entities():
        by_platform.setdefault(platform, set()).add(firsts[name].value)
    assert all(len(values) > 1 for values in by_platform.values()), by_platform


def test_a_first_state_is_seen_as_text_or_as_a_number() -> None:
    assert scale.FirstState("on").seen_in("on", {})
    assert not scale.FirstState("on").seen_in("off", {})
    assert scale.FirstState(40.0).seen_in("40", {})
    assert not scale.FirstState(40.0).seen_in("unknown", {})
    temperature = scale.FirstState(19.5, "current_temperature")
    assert temperature.seen_in("heat", {"current_temperature": 19.5})
    assert not temperature.seen_in("heat", {"current_temperature": None})


async def test_the_gateway_simulates_every_device_in_its_start_pattern(ours: Keyring) -> None:
    gateway = scale.gateway(ours)
    await gateway.start()
    try:
        _assert_start_patterns(gateway)
    finally:
        await gateway.stop()


def _assert_start_patterns(gateway: VirtualGateway) -> None:
    assert set(gateway.switches) == set(scale.PLAN.switch_channels)
    for spec in scale.PLAN.switch_channels:
        assert gateway.switch_state(spec.write_ga) is scale.relay_on(spec)
    assert set(gateway.devices) >= set(scale.PLAN.devices)
    for number, device in enumerate(scale.PLAN.of_kind["dimmer"]):
        dimmer = gateway.device(device.address)
        assert isinstance(dimmer, Dimmer)
        assert dimmer.is_on is scale.dimmer_on(number)
    for number, device in enumerate(scale.PLAN.of_kind["blind"]):
        blind = gateway.device(device.address)
        assert isinstance(blind, BlindActuator)
        assert blind.position == (100.0 if scale.blind_closed(number) else 0.0)
    for number, device in enumerate(scale.PLAN.of_kind["value"]):
        values = gateway.device(device.address)
        assert isinstance(values, ValueActuator)
        assert values.value(device.groups[4]) == scale.text_value(number)


def test_the_keyring_keeps_each_address_and_each_sender_map_once(ours: Keyring) -> None:
    """Eight tunnels receive the same 1,796 addresses from the same senders: one mapping of
    them, and one object per group address across the tunnels and the group keys (a copy
    each took 1.5 MB of the loaded entry)."""
    tunnels = ours.tunnels_of_host(scale.GATEWAY)
    assert len({id(tunnel.group_senders) for tunnel in tunnels}) == 1
    keys = {id(ga) for ga in ours.group_keys}
    assert {id(ga) for tunnel in tunnels for ga in tunnel.group_senders} == keys
