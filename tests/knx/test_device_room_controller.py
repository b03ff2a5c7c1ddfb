"""The simulated room controller on a real bus: writes, status reports, reads, the room."""

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
from custom_components.knx_secure.knx.devices import DEVICE_KINDS, RoomController
from custom_components.knx_secure.knx.dpt import DPTValue, get_dpt
from custom_components.knx_secure.knx.errors import InstallationError
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring
from custom_components.knx_secure.knx.telegram import GroupValue

from ..helpers import wait_for

SENDER = IndividualAddress.parse("1.1.250")
DEVICE = IndividualAddress.parse("1.1.200")

# Plain addresses (no key in the test keyring): 5/4/x.
ADDRESSES = {
    "temperature": "5/4/1",
    "setpoint": "5/4/2",
    "setpoint_status": "5/4/3",
    "operation_mode": "5/4/4",
    "operation_mode_status": "5/4/5",
    "controller_mode": "5/4/6",
    "controller_mode_status": "5/4/7",
    "on_off": "5/4/8",
    "on_off_status": "5/4/9",
    "heat_cool": "5/4/10",
    "heat_cool_status": "5/4/11",
    "setpoint_shift": "5/4/12",
    "setpoint_shift_status": "5/4/13",
}


def ga(field: str) -> GroupAddress:
    return GroupAddress.parse(ADDRESSES[field])


class Spy:
    """A bus port that keeps every frame the device sends."""

    def __init__(self) -> None:
        self.frames: list[LData] = []

    def deliver(self, frame: LData) -> None:
        if frame.src == DEVICE:
            self.frames.append(frame)

    def reports(self, field: str, dpt: str) -> list[DPTValue]:
        """The values the device wrote or answered on the field's address, in order."""
        values = []
        for frame in self.frames:
            apdu = cemi.parse_group_apdu(frame.tpdu)
            if frame.dst == ga(field) and apdu.value is not None:
                values.append(get_dpt(dpt).decode(apdu.value))
        return values


def _frame(dst: GroupAddress, tpdu: bytes) -> LData:
    return LData(code=MessageCode.L_DATA_IND, src=SENDER, dst=dst, tpdu=tpdu)


def write(bus: Bus, field: str, dpt: str, value: object) -> None:
    payload: GroupValue = get_dpt(dpt).encode(value)
    bus.transmit(_frame(ga(field), cemi.group_value_write(payload)))


def read(bus: Bus, field: str) -> None:
    bus.transmit(_frame(ga(field), cemi.group_value_read()))


def controller(keyring: Keyring, **extra: Any) -> tuple[RoomController, Bus, Spy, Counter[str]]:
    dropped: Counter[str] = Counter()
    bus, spy = Bus(dropped), Spy()
    spec = {**ADDRESSES, **extra}
    device = DEVICE_KINDS["room_controller"](DEVICE, keyring, bus, spec, status_delay=0)
    assert isinstance(device, RoomController)
    bus.attach(device)
    bus.attach(spy)
    return device, bus, spy, dropped


def test_a_setpoint_write_is_reported_on_its_status(keyring: Keyring) -> None:
    device, bus, spy, _ = controller(keyring, start_setpoint=21)
    write(bus, "setpoint", "9.001", 22.5)
    assert device.setpoint == 22.5
    assert spy.reports("setpoint_status", "9.001") == [22.5]
    write(bus, "setpoint", "9.001", 22.5)  # no change: a status object stays silent
    assert spy.reports("setpoint_status", "9.001") == [22.5]


def test_every_status_answers_a_read(keyring: Keyring) -> None:
    _, bus, spy, _ = controller(keyring, start_temperature=18.5, start_setpoint=20)
    for field, dpt, expected in [
        ("temperature", "9.001", 18.5),
        ("setpoint_status", "9.001", 20.0),
        ("operation_mode_status", "20.102", "comfort"),
        ("controller_mode_status", "20.105", "heat"),
        ("on_off_status", "1.001", True),
        ("heat_cool_status", "1.100", True),
        ("setpoint_shift_status", "6.010", 0),
    ]:
        read(bus, field)
        assert spy.reports(field, dpt) == [expected], field
    responses = [cemi.parse_group_apdu(f.tpdu).apci for f in spy.frames]
    assert set(responses) == {APCI.GROUP_VALUE_RESPONSE}
    read(bus, "setpoint")  # a write object does not answer
    assert len(spy.frames) == len(responses)


@pytest.mark.parametrize(
    ("field", "status", "dpt", "value", "attribute"),
    [
        ("operation_mode", "operation_mode_status", "20.102", "economy", "operation_mode"),
        ("controller_mode", "controller_mode_status", "20.105", "cool", "controller_mode"),
        ("on_off", "on_off_status", "1.001", False, "on"),
        ("heat_cool", "heat_cool_status", "1.100", False, "heat"),
    ],
)
def test_mode_and_switch_writes_are_reported(
    keyring: Keyring, field: str, status: str, dpt: str, value: object, attribute: str
) -> None:
    device, bus, spy, _ = controller(keyring)
    write(bus, field, dpt, value)
    assert getattr(device.state, attribute) == value
    assert spy.reports(status, dpt) == [value]


def test_a_shift_in_counts_moves_the_setpoint_by_its_step(keyring: Keyring) -> None:
    device, bus, spy, _ = controller(keyring, start_setpoint=21, setpoint_shift_step=0.5)
    write(bus, "setpoint_shift", "6.010", -3)
    assert device.setpoint == 19.5
    assert spy.reports("setpoint_shift_status", "6.010") == [-3]
    assert spy.reports("setpoint_status", "9.001") == [19.5]
    write(bus, "setpoint", "9.001", 22)  # a new base keeps the shift
    assert spy.reports("setpoint_status", "9.001") == [19.5, 20.5]


def test_a_shift_in_kelvin(keyring: Keyring) -> None:
    device, bus, spy, _ = controller(keyring, start_setpoint=21, setpoint_shift_dpt="9.002")
    write(bus, "setpoint_shift", "9.002", 1.2)
    assert device.setpoint == 22.2
    assert spy.reports("setpoint_shift_status", "9.002") == [1.2]
    assert spy.reports("setpoint_status", "9.001") == [22.2]


def test_a_value_of_another_type_is_ignored(keyring: Keyring) -> None:
    device, bus, spy, _ = controller(keyring)
    bus.transmit(_frame(ga("operation_mode"), cemi.group_value_write(b"\x09")))  # no mode 9
    bus.transmit(_frame(ga("setpoint"), cemi.group_value_write(b"\x01")))  # one octet
    assert device.state.operation_mode == "comfort"
    assert device.setpoint == 21.0
    assert spy.frames == []


def test_the_room_drifts_toward_the_setpoint_and_back(keyring: Keyring) -> None:
    device, bus, spy, _ = controller(
        keyring, start_temperature=20, start_setpoint=20.5, drift_step=0.2
    )
    for _ in range(4):
        device.drift_once()
    # 20.2, 20.4, then the last 0.1 K: it never overshoots; at the setpoint it stays
    assert spy.reports("temperature", "9.001") == [20.2, 20.4, 20.5]
    write(bus, "on_off", "1.001", False)  # off: back toward the room without heating
    device.drift_once()
    assert device.state.temperature == 20.3
    write(bus, "on_off", "1.001", True)
    write(bus, "controller_mode", "20.105", "off")  # the controller mode off stops it too
    device.drift_once()
    assert device.state.temperature == 20.1
    assert spy.reports("temperature", "9.001")[-2:] == [20.3, 20.1]


def test_a_local_operation_is_reported(keyring: Keyring) -> None:
    device, _, spy, _ = controller(keyring)
    device.operate(base_setpoint=23.0, operation_mode="standby")
    assert spy.reports("setpoint_status", "9.001") == [23.0]
    assert spy.reports("operation_mode_status", "20.102") == ["standby"]


def test_a_plain_write_to_a_secured_setpoint_is_refused(keyring: Keyring) -> None:
    device, bus, _, dropped = controller(keyring, setpoint="1/1/1")
    bus.transmit(_frame(GroupAddress.parse("1/1/1"), cemi.group_value_write(b"\x0c\x33")))
    assert device.setpoint == 21.0
    assert dropped == Counter({"plain": 1})


async def test_the_room_drifts_on_its_own_and_reports(keyring: Keyring) -> None:
    device, _, spy, _ = controller(keyring, start_temperature=20, drift=0.01, drift_step=0.5)
    await wait_for(lambda: device.state.temperature == 21.0)
    assert spy.reports("temperature", "9.001") == [20.5, 21.0]
    device.cancel_pending()  # the gateway stops: no more steps scheduled
    assert device._drift_handle is not None
    assert device._drift_handle.cancelled()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"temperature": None}, "temperature: missing"),
        ({"setpoint_status": "x/y"}, "setpoint_status: "),
        ({"on_off": True}, "on_off: a group address is text"),
        ({"setpoint_shift_dpt": "9.001"}, "setpoint_shift_dpt: 6.010 or 9.002"),
        ({"drift": 0}, "drift: 0 is outside"),
        ({"start_setpoint": "warm"}, "start_setpoint: a number"),
    ],
)
def test_a_bad_room_controller_spec_names_the_field(
    keyring: Keyring, change: dict[str, Any], message: str
) -> None:
    spec = {**ADDRESSES, **change}
    with pytest.raises(InstallationError, match=message):
        DEVICE_KINDS["room_controller"](DEVICE, keyring, Bus(Counter()), spec, status_delay=0)


def test_the_demo_home_controller_builds_and_watches_its_addresses() -> None:
    """demo/installation.json's room controller: every address of the plan's 1/4/x."""
    demo = Path(__file__).resolve().parents[2] / "demo"
    keyring = load_keyring(demo / "Demo Home.knxkeys", "demo")
    installation = json.loads((demo / "installation.json").read_text(encoding="utf-8"))
    (entry,) = [d for d in installation["devices"] if d["kind"] == "room_controller"]
    device = DEVICE_KINDS["room_controller"](
        IndividualAddress.parse(entry["address"]), keyring, Bus(Counter()), entry, status_delay=0
    )
    assert device.watched == {GroupAddress.parse(f"1/4/{n}") for n in range(1, 10)}
    assert all(keyring.group_key(address) is not None for address in device.watched)


def test_a_setpoint_beyond_its_type_is_not_reported(keyring: Keyring) -> None:
    """A base near 9.001's top plus a shift cannot be sent: no report, no error."""
    device, bus, spy, _ = controller(keyring, setpoint_shift_step=0.5)
    write(bus, "setpoint", "9.001", 670433.28)  # the top of 9.001
    write(bus, "setpoint_shift", "6.010", 127)
    assert device.setpoint == 670433.28 + 63.5
    assert spy.reports("setpoint_status", "9.001") == [670433.28]
    assert spy.reports("setpoint_shift_status", "6.010") == [127]
    read(bus, "setpoint_status")  # no answer either
    assert spy.reports("setpoint_status", "9.001") == [670433.28]


def test_a_room_temperature_beyond_its_type_is_not_reported(keyring: Keyring) -> None:
    device, _, spy, _ = controller(keyring, drift_step=10)
    device.operate(base_setpoint=670433.28, shift=127, temperature=670430.0)
    before = spy.reports("temperature", "9.001")
    device.drift_once()  # 670440: beyond 9.001's top
    assert device.state.temperature == 670440.0
    assert spy.reports("temperature", "9.001") == before
