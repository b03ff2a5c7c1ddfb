"""The simulated clock and display: date and time objects set by writes, reported on their
status address, answering reads; texts recorded; their installation file entries."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from custom_components.knx_secure.knx import cemi
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.bus import Bus
from custom_components.knx_secure.knx.cemi import APCI, LData, MessageCode
from custom_components.knx_secure.knx.devices import DEVICE_KINDS, ClockDevice, DisplayDevice
from custom_components.knx_secure.knx.dpt import get_dpt
from custom_components.knx_secure.knx.errors import DPTError, InstallationError
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring

from .test_device_sensor import DEVICE, SENDER, Spy, _read

DATE = GroupAddress.parse("5/6/1")
DATE_STATUS = GroupAddress.parse("5/6/2")
TIME = GroupAddress.parse("5/6/3")
TEXT = GroupAddress.parse("5/6/4")
OBJECTS: list[dict[str, Any]] = [
    {
        "write_address": "5/6/1",
        "status_address": "5/6/2",
        "dpt": "11.001",
        "value": {"year": 2026, "month": 12, "day": 3},
    },
    {"write_address": "5/6/3", "dpt": "10.001", "value": {"hour": 8, "minutes": 0, "seconds": 0}},
]


def _device(keyring: Keyring, kind: str, objects: list[dict[str, Any]]) -> tuple[Bus, Spy, Any]:
    bus, spy = Bus(Counter()), Spy()
    device = DEVICE_KINDS[kind](DEVICE, keyring, bus, {"objects": objects}, status_delay=0)
    bus.attach(device)
    bus.attach(spy)
    return bus, spy, device


def _write(dst: GroupAddress, dpt_id: str, value: object) -> LData:
    tpdu = cemi.group_value_write(get_dpt(dpt_id).encode(value))
    return LData(code=MessageCode.L_DATA_IND, src=SENDER, dst=dst, tpdu=tpdu)


def test_a_clock_answers_reads_on_the_status_or_the_write_address(keyring: Keyring) -> None:
    bus, spy, device = _device(keyring, "clock", OBJECTS)
    assert isinstance(device, ClockDevice)
    bus.transmit(_read(DATE_STATUS))
    bus.transmit(_read(TIME))
    bus.transmit(_read(DATE))  # the date's write address: its status address answers
    assert [(dst, apci) for dst, apci, _ in spy.sent] == [
        (DATE_STATUS, APCI.GROUP_VALUE_RESPONSE),
        (TIME, APCI.GROUP_VALUE_RESPONSE),
    ]
    assert spy.values(DATE_STATUS, "11.001") == [{"year": 2026, "month": 12, "day": 3}]
    assert device.reads_answered == Counter({DATE_STATUS: 1, TIME: 1})


def test_a_write_sets_the_clock_and_is_reported(keyring: Keyring) -> None:
    bus, spy, device = _device(keyring, "clock", OBJECTS)
    bus.transmit(_write(DATE, "11.001", {"year": 2030, "month": 1, "day": 2}))
    bus.transmit(_write(TIME, "10.001", {"hour": 9, "minutes": 1, "seconds": 2}))
    assert spy.values(DATE_STATUS, "11.001") == [{"year": 2030, "month": 1, "day": 2}]
    assert spy.values(TIME, "10.001") == []  # no status address: nothing to report on
    assert device.value(TIME)["hour"] == 9
    bus.transmit(LData(code=MessageCode.L_DATA_IND, src=SENDER, dst=TIME, tpdu=b"\x00\x80\x01"))
    assert device.value(TIME)["hour"] == 9  # not a 10.001 payload: ignored
    device.set_value(DATE, {"year": 2031, "month": 5, "day": 6})
    assert spy.values(DATE_STATUS, "11.001")[-1] == {"year": 2031, "month": 5, "day": 6}
    with pytest.raises(DPTError):
        device.set_value(DATE, {"year": 2031, "month": 13, "day": 6})


def test_a_display_records_the_texts_it_receives(keyring: Keyring) -> None:
    objects = [*OBJECTS, {"write_address": "5/6/4", "dpt": "16.001", "value": ""}]
    bus, _spy, device = _device(keyring, "display", objects)
    assert isinstance(device, DisplayDevice)
    for frame in ("Wäsche ist fer", "tig"):
        bus.transmit(_write(TEXT, "16.001", frame))
    assert device.texts(TEXT) == ["Wäsche ist fer", "tig"]


@pytest.mark.parametrize(
    ("kind", "objects", "message"),
    [
        ("clock", None, "objects: a list"),
        ("clock", [{"write_address": "5/6/1", "dpt": "9.001", "value": 1}], "objects\\[0\\]: dpt"),
        ("clock", [{"write_address": "5/6/1", "dpt": "16.000", "value": "x"}], "not one of"),
        ("clock", [{"write_address": "5/6/1", "dpt": "10.001"}], "value: missing"),
        ("clock", [{"dpt": "10.001", "value": {}}], "write_address: missing"),
        ("clock", [{**OBJECTS[0], "value": {"year": 1}}], "objects\\[0\\]"),
        ("display", [OBJECTS[1], OBJECTS[1]], "already has 5/6/3"),
        ("display", ["5/6/1"], "an object"),
    ],
)
def test_bad_installation_entries_are_named(
    keyring: Keyring, kind: str, objects: object, message: str
) -> None:
    spec = {} if objects is None else {"objects": objects}
    with pytest.raises(InstallationError, match=message):
        DEVICE_KINDS[kind](DEVICE, keyring, Bus(Counter()), spec, status_delay=0)


def test_the_demo_homes_display_follows_its_address_plan() -> None:
    """demo/installation.json's display builds on the plan's addresses, keyed where the
    demo keyring says: Data Secure on 1/6/x, plain on 2/6/x."""
    demo = Path(__file__).resolve().parents[2] / "demo"
    keyring = load_keyring(demo / "Demo Home.knxkeys", "demo")
    entries = json.loads((demo / "installation.json").read_text(encoding="utf-8"))["devices"]
    (entry,) = [e for e in entries if e["kind"] == "display"]
    address = IndividualAddress.parse(entry["address"])
    device = DEVICE_KINDS["display"](address, keyring, Bus(Counter()), entry, status_delay=0)
    assert str(device.address) == "1.1.12"
    watched = sorted(str(a) for a in device.watched)
    assert watched == [f"1/6/{n}" for n in range(30, 37)] + ["2/6/10", "2/6/11"]
    for group in device.watched:
        assert (keyring.group_key(group) is not None) == (group.main == 1)
