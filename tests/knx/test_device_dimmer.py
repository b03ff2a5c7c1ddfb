"""The simulated dimmer and colour light on a real bus (plain addresses of Secure Test)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from custom_components.knx_secure.knx import cemi
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.bus import Bus
from custom_components.knx_secure.knx.cemi import APCI, LData, MessageCode
from custom_components.knx_secure.knx.devices import DEVICE_KINDS, ColourLight, Dimmer
from custom_components.knx_secure.knx.dpt import get_dpt
from custom_components.knx_secure.knx.errors import InstallationError
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring
from custom_components.knx_secure.knx.telegram import GroupValue

SENDER = IndividualAddress.parse("1.1.250")
DEVICE = IndividualAddress.parse("1.1.200")
# Plain addresses (no key in Secure Test.knxkeys).
DIMMER = {
    "switch": "5/2/1",
    "switch_status": "5/2/2",
    "brightness": "5/2/3",
    "brightness_status": "5/2/4",
}
COLOUR = {
    **DIMMER,
    "rgb": "5/2/5",
    "rgb_status": "5/2/6",
    "color_temperature": "5/2/7",
    "color_temperature_status": "5/2/8",
    "min_kelvin": 2000,
    "max_kelvin": 6000,
}


def ga(text: str) -> GroupAddress:
    return GroupAddress.parse(text)


class Spy:
    """A bus port that keeps every value the device sends, by address."""

    def __init__(self) -> None:
        self.sent: list[tuple[GroupAddress, APCI, GroupValue | None]] = []
        self.arrived = asyncio.Event()

    def deliver(self, frame: LData) -> None:
        if frame.src == DEVICE:
            assert isinstance(frame.dst, GroupAddress)
            apdu = cemi.parse_group_apdu(frame.tpdu)
            self.sent.append((frame.dst, apdu.apci, apdu.value))
            self.arrived.set()

    def values(self, address: str, dpt: str) -> list[Any]:
        return [
            get_dpt(dpt).decode(v) for a, _, v in self.sent if a == ga(address) and v is not None
        ]


def _frame(dst: str, tpdu: bytes) -> LData:
    return LData(code=MessageCode.L_DATA_IND, src=SENDER, dst=ga(dst), tpdu=tpdu)


def write(bus: Bus, dst: str, dpt: str, value: object) -> None:
    bus.transmit(_frame(dst, cemi.group_value_write(get_dpt(dpt).encode(value))))


def read(bus: Bus, spy: Spy, dst: str, dpt: str) -> Any:
    spy.sent.clear()
    bus.transmit(_frame(dst, cemi.group_value_read()))
    ((address, apci, value),) = spy.sent
    assert (address, apci) == (ga(dst), APCI.GROUP_VALUE_RESPONSE)
    assert value is not None
    return get_dpt(dpt).decode(value)


def build(keyring: Keyring, kind: str, spec: dict[str, Any]) -> tuple[Bus, Spy, Any]:
    bus, spy = Bus(Counter()), Spy()
    device = DEVICE_KINDS[kind](DEVICE, keyring, bus, spec, status_delay=0)
    bus.attach(device)
    bus.attach(spy)
    return bus, spy, device


def test_brightness_turns_on_and_zero_turns_off(keyring: Keyring) -> None:
    bus, spy, dimmer = build(keyring, "dimmer", DIMMER)
    assert isinstance(dimmer, Dimmer)
    write(bus, "5/2/3", "5", 128)
    assert (dimmer.is_on, dimmer.brightness) == (True, 128)
    assert spy.values("5/2/2", "1.001") == [True]
    assert spy.values("5/2/4", "5.001") == [50]
    write(bus, "5/2/3", "5.001", 0)
    assert dimmer.is_on is False
    assert spy.values("5/2/2", "1.001") == [True, False]
    assert read(bus, spy, "5/2/4", "5") == 0


def test_switch_on_restores_the_last_brightness(keyring: Keyring) -> None:
    bus, spy, dimmer = build(keyring, "dimmer", DIMMER)
    write(bus, "5/2/1", "1.001", True)
    assert dimmer.brightness == 255  # never dimmed: full
    write(bus, "5/2/3", "5", 77)
    write(bus, "5/2/1", "1.001", False)
    assert (dimmer.is_on, dimmer.brightness) == (False, 0)
    write(bus, "5/2/1", "1.001", True)
    assert (dimmer.is_on, dimmer.brightness) == (True, 77)
    assert read(bus, spy, "5/2/2", "1.001") is True
    assert read(bus, spy, "5/2/4", "5") == 77


def test_unchanged_values_are_not_reported_again(keyring: Keyring) -> None:
    bus, spy, _ = build(keyring, "dimmer", DIMMER)
    write(bus, "5/2/3", "5", 100)
    write(bus, "5/2/3", "5", 100)
    write(bus, "5/2/1", "1.001", True)
    assert len(spy.sent) == 2  # one switch status, one brightness status


def test_local_operation_is_reported(keyring: Keyring) -> None:
    _, spy, dimmer = build(keyring, "dimmer", DIMMER)
    dimmer.operate_brightness(30)
    dimmer.operate(False)
    assert spy.values("5/2/4", "5") == [30, 0]
    assert spy.values("5/2/2", "1.001") == [True, False]


def test_a_value_of_the_wrong_type_is_ignored(keyring: Keyring) -> None:
    bus, spy, dimmer = build(keyring, "colour_light", COLOUR)
    write(bus, "5/2/3", "7.600", 3000)  # two octets on a one-octet object
    write(bus, "5/2/5", "5", 3)
    write(bus, "5/2/7", "1.001", True)
    assert (dimmer.brightness, spy.sent) == (0, [])


async def test_dim_time_reports_when_the_light_gets_there(keyring: Keyring) -> None:
    bus, spy, dimmer = build(keyring, "dimmer", {**DIMMER, "dim_time": 0.05})
    write(bus, "5/2/3", "5", 255)
    assert (dimmer.brightness, spy.sent) == (0, [])  # dimming: not there yet
    await asyncio.wait_for(spy.arrived.wait(), 2)
    assert dimmer.brightness == 255
    assert spy.values("5/2/4", "5") == [255]


async def test_a_new_command_replaces_a_dimming_under_way(keyring: Keyring) -> None:
    bus, spy, dimmer = build(keyring, "dimmer", {**DIMMER, "dim_time": 0.5})
    write(bus, "5/2/3", "5", 50)  # due after 0.1 s
    write(bus, "5/2/3", "5", 255)  # due after 0.5 s: the 50 never comes
    await asyncio.wait_for(spy.arrived.wait(), 2)
    assert spy.values("5/2/4", "5") == [255]
    assert dimmer.brightness == 255


def test_colour_light_takes_rgb_and_clamps_kelvin(keyring: Keyring) -> None:
    bus, spy, light = build(keyring, "colour_light", COLOUR)
    assert isinstance(light, ColourLight)
    assert read(bus, spy, "5/2/6", "232.600") == {"red": 255, "green": 255, "blue": 255}
    assert read(bus, spy, "5/2/8", "7.600") == 6000
    spy.sent.clear()
    write(bus, "5/2/5", "232.600", {"red": 255, "green": 10, "blue": 0})
    write(bus, "5/2/7", "7.600", 1000)
    write(bus, "5/2/7", "7.600", 9000)
    write(bus, "5/2/7", "7.600", 4000)
    assert spy.values("5/2/6", "232.600") == [{"red": 255, "green": 10, "blue": 0}]
    assert spy.values("5/2/8", "7.600") == [2000, 6000, 4000]
    assert light.is_on is False  # colour and temperature do not switch
    light.set_rgb({"red": 1, "green": 2, "blue": 3})
    assert read(bus, spy, "5/2/6", "232.600") == {"red": 1, "green": 2, "blue": 3}
    write(bus, "5/2/1", "1.001", True)
    assert read(bus, spy, "5/2/4", "5") == 255


@pytest.mark.parametrize(
    ("kind", "spec", "message"),
    [
        ("dimmer", {}, "switch: missing"),
        ("dimmer", {**DIMMER, "brightness_status": "x/y"}, "brightness_status: "),
        ("dimmer", {**DIMMER, "dim_time": -1}, "dim_time: -1 is outside"),
        ("dimmer", {**DIMMER, "dim_time": "slow"}, "dim_time: a number"),
        ("colour_light", DIMMER, "rgb: missing"),
        ("colour_light", {**COLOUR, "color_temperature_status": True}, "color_temperature_status"),
        ("colour_light", {**COLOUR, "min_kelvin": 0}, "min_kelvin: 0 is outside"),
        ("colour_light", {**COLOUR, "max_kelvin": 1500}, "min_kelvin: 2000 is not below"),
    ],
)
def test_a_bad_light_spec_names_the_field(
    keyring: Keyring, kind: str, spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(InstallationError, match=message.replace("[", r"\[")):
        DEVICE_KINDS[kind](DEVICE, keyring, Bus(Counter()), spec, status_delay=0)


def test_the_demo_homes_lights_follow_its_address_plan() -> None:
    """demo/installation.json's dimmer and colour light build, on the plan's addresses."""
    demo = Path(__file__).resolve().parents[2] / "demo"
    keyring = load_keyring(demo / "Demo Home.knxkeys", "demo")
    entries = json.loads((demo / "installation.json").read_text(encoding="utf-8"))["devices"]
    lights = {
        entry["address"]: DEVICE_KINDS[entry["kind"]](
            IndividualAddress.parse(entry["address"]),
            keyring,
            Bus(Counter()),
            entry,
            status_delay=0,
        )
        for entry in entries
        if entry["kind"] in ("dimmer", "colour_light")
    }
    assert set(lights) == {"1.1.2", "1.1.3"}
    assert isinstance(lights["1.1.2"], Dimmer)
    assert isinstance(lights["1.1.3"], ColourLight)
    assert lights["1.1.2"].watched == {ga(f"1/2/{n}") for n in range(1, 5)}
    assert lights["1.1.3"].watched == {ga(f"1/2/{n}") for n in range(11, 19)}
    for address in (*lights["1.1.2"].watched, *lights["1.1.3"].watched):
        assert keyring.group_key(address) is not None  # all Data Secure, as the plan says
    assert (lights["1.1.3"].colour.min_kelvin, lights["1.1.3"].colour.max_kelvin) == (2700, 6500)
