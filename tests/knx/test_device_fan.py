"""The simulated fan actuator: on/off, speed (percent or steps) and oscillation with their
status, local operation, reads, and its installation file entry (no Home Assistant)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from custom_components.knx_secure.knx.address import GroupAddress
from custom_components.knx_secure.knx.bus import Bus
from custom_components.knx_secure.knx.cemi import APCI
from custom_components.knx_secure.knx.devices import DEVICE_KINDS, FanActuator
from custom_components.knx_secure.knx.errors import DPTError, InstallationError
from custom_components.knx_secure.knx.keyring import Keyring

from .test_device_clock import _write
from .test_device_sensor import DEVICE, Spy, _read

SWITCH, SWITCH_STATUS = GroupAddress.parse("5/7/1"), GroupAddress.parse("5/7/2")
SPEED, SPEED_STATUS = GroupAddress.parse("5/7/3"), GroupAddress.parse("5/7/4")
OSC, OSC_STATUS = GroupAddress.parse("5/7/5"), GroupAddress.parse("5/7/6")
SPEC: dict[str, Any] = {
    "switch": "5/7/1",
    "switch_status": "5/7/2",
    "speed": "5/7/3",
    "speed_status": "5/7/4",
    "oscillation": "5/7/5",
    "oscillation_status": "5/7/6",
}


def _fan(keyring: Keyring, spec: dict[str, Any]) -> tuple[Bus, Spy, FanActuator]:
    bus, spy = Bus(Counter()), Spy()
    device = DEVICE_KINDS["fan"](DEVICE, keyring, bus, spec, status_delay=0)
    assert isinstance(device, FanActuator)
    bus.attach(device)
    bus.attach(spy)
    return bus, spy, device


def test_speed_and_switch_go_together(keyring: Keyring) -> None:
    bus, spy, fan = _fan(keyring, SPEC)
    bus.transmit(_write(SWITCH, "1.001", True))
    assert (fan.on, fan.speed) == (True, 100)  # full speed the first time
    bus.transmit(_write(SPEED, "5.001", 40))
    bus.transmit(_write(SWITCH, "1.001", False))
    assert (fan.on, fan.speed) == (False, 0)
    bus.transmit(_write(SWITCH, "1.001", True))
    assert fan.speed == 40  # back to the last speed
    assert spy.values(SWITCH_STATUS, "1.001") == [True, True, False, True]
    assert spy.values(SPEED_STATUS, "5.001") == [100, 40, 0, 40]
    bus.transmit(_write(SPEED, "5.001", 0))
    assert not fan.on


def test_oscillation_local_operation_and_reads(keyring: Keyring) -> None:
    bus, spy, fan = _fan(keyring, SPEC)
    bus.transmit(_write(OSC, "1.001", True))
    assert spy.values(OSC_STATUS, "1.001") == [True]
    fan.press()
    fan.set_speed(30)
    assert (fan.on, fan.speed) == (True, 30)
    spy.sent.clear()
    for address in (SWITCH_STATUS, SPEED_STATUS, OSC_STATUS, SWITCH):
        bus.transmit(_read(address))
    assert [(dst, apci) for dst, apci, _ in spy.sent] == [
        (SWITCH_STATUS, APCI.GROUP_VALUE_RESPONSE),
        (SPEED_STATUS, APCI.GROUP_VALUE_RESPONSE),
        (OSC_STATUS, APCI.GROUP_VALUE_RESPONSE),
    ]
    with pytest.raises(DPTError):
        fan.set_speed(101)


def test_steps_are_capped_at_the_step_count(keyring: Keyring) -> None:
    bus, spy, fan = _fan(keyring, {**SPEC, "speed_dpt": "5.010", "max_step": 3})
    bus.transmit(_write(SPEED, "5.010", 9))
    assert fan.speed == 3
    bus.transmit(_write(SWITCH, "1.001", False))
    bus.transmit(_write(SWITCH, "1.001", True))
    assert spy.values(SPEED_STATUS, "5.010") == [3, 0, 3]
    with pytest.raises(DPTError):
        fan.set_speed(4)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "switch: missing"),
        ({**SPEC, "speed_dpt": "9.001"}, "speed_dpt: one of"),
        ({**SPEC, "max_step": 0}, "max_step"),
        ({**SPEC, "speed": "5/7/300"}, "speed"),
    ],
)
def test_bad_installation_entries_are_named(
    keyring: Keyring, spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(InstallationError, match=message):
        DEVICE_KINDS["fan"](DEVICE, keyring, Bus(Counter()), spec, status_delay=0)
