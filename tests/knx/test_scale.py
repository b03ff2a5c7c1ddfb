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


def test_the_entry_has_500_entities_on_secure_addresses_of_their_own() -> None:
    specs = scale.entities()
    assert len(specs) == 500
    assert sum(count for count, _build in scale.ENTITY_MIX.values()) == 500
    assert Counter(platform for platform, _name, _data in specs) == {
        platform: count for platform, (count, _build) in scale.ENTITY_MIX.items()
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
    secure = {a.ga for a in scale.PLAN.addresses if a.secure}
    assert set(used) <= secure
    assert set(scale.expected_first_states()) == set(names)
    assert set(scale.expected_first_states().values()) == {True, False}


def test_the_gateway_simulates_every_channel_with_its_relay_set(ours: Keyring) -> None:
    gateway = scale.gateway(ours)
    assert set(gateway.switches) == set(scale.PLAN.switch_channels)
    for spec in scale.PLAN.switch_channels:
        assert gateway.switch_state(spec.write_ga) is scale.relay_on(spec)
