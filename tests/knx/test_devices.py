"""The simulated devices' base and the installation file fields, on a real bus."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from custom_components.knx_secure.knx import cemi
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.bus import Bus
from custom_components.knx_secure.knx.cemi import APCI, LData, MessageCode
from custom_components.knx_secure.knx.devices import DEVICE_KINDS, SwitchActuator
from custom_components.knx_secure.knx.errors import InstallationError
from custom_components.knx_secure.knx.keyring import Keyring

PLAIN_WRITE = GroupAddress.parse("5/5/5")  # no key in the keyring
PLAIN_STATUS = GroupAddress.parse("5/5/6")
SENDER = IndividualAddress.parse("1.1.250")
DEVICE = IndividualAddress.parse("1.1.200")


class Spy:
    """A bus port that keeps every frame it receives."""

    def __init__(self) -> None:
        self.frames: list[LData] = []

    def deliver(self, frame: LData) -> None:
        self.frames.append(frame)


def _write(dst: GroupAddress, value: int) -> LData:
    return LData(
        code=MessageCode.L_DATA_IND, src=SENDER, dst=dst, tpdu=cemi.group_value_write(value)
    )


def test_a_switch_from_its_spec_switches_and_reports(keyring: Keyring) -> None:
    bus, spy = Bus(Counter()), Spy()
    spec = {"channels": [{"write": "5/5/5", "status": "5/5/6"}]}
    device = DEVICE_KINDS["switch"](DEVICE, keyring, bus, spec, status_delay=0)
    bus.attach(device)
    bus.attach(spy)
    bus.transmit(_write(PLAIN_WRITE, 1))
    assert isinstance(device, SwitchActuator)
    assert device.state(PLAIN_WRITE) is True
    reports = [f for f in spy.frames if f.src == DEVICE]
    assert [(f.dst, cemi.parse_group_apdu(f.tpdu).apci) for f in reports] == [
        (PLAIN_STATUS, APCI.GROUP_VALUE_WRITE)
    ]
    assert cemi.parse_group_apdu(reports[0].tpdu).value == 1


def test_a_device_refuses_a_plain_write_to_a_secured_address(keyring: Keyring) -> None:
    dropped: Counter[str] = Counter()
    bus = Bus(dropped)
    spec = {"channels": [{"write": "1/1/1", "status": "1/1/2"}]}
    device = DEVICE_KINDS["switch"](DEVICE, keyring, bus, spec, status_delay=0)
    bus.attach(device)
    bus.transmit(_write(GroupAddress.parse("1/1/1"), 1))
    assert isinstance(device, SwitchActuator)
    assert device.state(GroupAddress.parse("1/1/1")) is False
    assert dropped == Counter({"plain": 1})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "channels: a list"),
        ({"channels": []}, "channels: a list"),
        ({"channels": ["1/1/1"]}, "channels[0]: an object"),
        ({"channels": [{"status": "1/1/2"}]}, "write: missing"),
        ({"channels": [{"write": "1/1/1", "status": "x"}]}, "status: "),
        ({"channels": [{"write": True, "status": "1/1/2"}]}, "write: a group address is text"),
        (
            {"channels": [{"write": "1/1/1", "status": "1/1/2"}] * 2},
            "channels[1]: device 1.1.200 already switches on 1/1/1",
        ),
    ],
)
def test_a_bad_switch_spec_names_the_field(
    keyring: Keyring, spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(InstallationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        DEVICE_KINDS["switch"](DEVICE, keyring, Bus(Counter()), spec, status_delay=0)
