"""The simulated weather station: a sensor device whose values have a station's types,
built from its installation file entry (no Home Assistant)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.bus import Bus
from custom_components.knx_secure.knx.devices import (
    DEVICE_KINDS,
    WEATHER_STATION_TYPES,
    SensorDevice,
)
from custom_components.knx_secure.knx.errors import InstallationError
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring

from .test_device_sensor import DEVICE, Spy, _read


def _station(keyring: Keyring, spec: dict[str, Any]) -> tuple[Bus, Spy, SensorDevice]:
    bus, spy = Bus(Counter()), Spy()
    device = DEVICE_KINDS["weather_station"](DEVICE, keyring, bus, spec, status_delay=0)
    assert isinstance(device, SensorDevice)
    bus.attach(device)
    bus.attach(spy)
    return bus, spy, device


def test_each_field_has_the_stations_type(keyring: Keyring) -> None:
    spec = {
        "kind": "weather_station",
        "name": "Roof",
        "temperature": {"address": "5/6/1", "value": -2.5},
        "rain_alarm": {"address": "5/6/2", "value": True},
        "wind_direction": {"address": "5/6/3", "value": 360},
    }
    bus, spy, device = _station(keyring, spec)
    assert {v.dpt.id for v in device.values} == {"9.001", "1.005", "5.003"}
    for address in ("5/6/1", "5/6/2", "5/6/3"):
        bus.transmit(_read(GroupAddress.parse(address)))
    assert spy.values(GroupAddress.parse("5/6/1"), "9.001") == [-2.5]
    assert spy.values(GroupAddress.parse("5/6/2"), "1.005") == [True]
    assert spy.values(GroupAddress.parse("5/6/3"), "5.003") == [360]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "at least one value"),
        ({"sunshine": {"address": "5/6/1", "value": 1}}, "sunshine: not a weather station value"),
        ({"temperature": "5/6/1"}, "temperature: "),
        ({"humidity": {"address": "5/6/1", "value": 1e9}}, "humidity: value: "),
        ({"temperature": {"value": 1}}, "temperature: address: missing"),
    ],
)
def test_bad_installation_entries_are_named(
    keyring: Keyring, spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(InstallationError, match=message):
        DEVICE_KINDS["weather_station"](DEVICE, keyring, Bus(Counter()), spec, status_delay=0)


def test_the_demo_homes_station_follows_its_address_plan() -> None:
    """demo/installation.json's weather station: every value of the plan's 1/6/50..1/6/60,
    each Data Secure in the demo keyring."""
    demo = Path(__file__).resolve().parents[2] / "demo"
    keyring = load_keyring(demo / "Demo Home.knxkeys", "demo")
    entries = json.loads((demo / "installation.json").read_text(encoding="utf-8"))["devices"]
    (entry,) = [e for e in entries if e["kind"] == "weather_station"]
    device = DEVICE_KINDS["weather_station"](
        IndividualAddress.parse(entry["address"]), keyring, Bus(Counter()), entry, status_delay=0
    )
    assert isinstance(device, SensorDevice)
    assert str(device.address) == "1.1.14"
    assert sorted(str(v.address) for v in device.values) == [f"1/6/{n}" for n in range(50, 61)]
    assert len(device.values) == len(WEATHER_STATION_TYPES)
    assert all(keyring.group_key(v.address) is not None for v in device.values)
