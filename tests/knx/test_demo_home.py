"""The demo home's keyring (demo/make_home.py): what the plan says, read by us and by xknx."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from xknx.secure.keyring import sync_load_keyring

from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.keyring import load_keyring

DEMO = Path(__file__).resolve().parents[2] / "demo"


def _plan() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_home", DEMO / "make_home.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PLAN = _plan()


def test_every_secure_address_of_the_plan_has_a_key_and_the_tunnels_may_send() -> None:
    keyring = load_keyring(PLAN.OUT, PLAN.PASSWORD)
    tunnels = [IndividualAddress.parse(t) for t in PLAN.TUNNELS]
    for ga_text, _name, _dpt, device in PLAN.ADDRESSES:
        ga = GroupAddress.parse(ga_text)
        if ga_text.startswith("1/"):
            assert keyring.group_key(ga) is not None, ga
            for tunnel in tunnels:
                interface = keyring.interface(tunnel)
                assert interface is not None
                others = {t for t in tunnels if t != tunnel}
                assert set(interface.group_senders[ga]) == {
                    IndividualAddress.parse(device),
                    *others,
                }
        else:
            assert keyring.group_key(ga) is None, ga
    assert {str(d.individual_address) for d in keyring.devices} >= set(PLAN.DEVICES)


def test_xknx_reads_the_same_group_keys() -> None:
    ours = load_keyring(PLAN.OUT, PLAN.PASSWORD)
    theirs = sync_load_keyring(PLAN.OUT, PLAN.PASSWORD)
    assert {ga.address.raw: ga.decrypted_key for ga in theirs.group_addresses} == {
        ga.raw: key for ga, key in ours.group_keys.items()
    }
    assert theirs.project_name == "Demo Home"
