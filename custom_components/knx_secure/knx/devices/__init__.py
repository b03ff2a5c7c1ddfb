"""Simulated KNX devices behind the virtual gateway or router.

``SimulatedDevice`` (``base.py``) is what every kind builds on; each kind has its own module
with its device class and a factory that builds it from its installation file entry
(``spec.py`` reads the fields). ``DEVICE_KINDS`` maps the file's ``"kind"`` to the factory:
adding a kind is a module and a line here.
"""

from __future__ import annotations

from typing import Final

from .base import SimulatedDevice
from .clock import (
    ClockDevice,
    ClockObjectSpec,
    DisplayDevice,
    clock_from_spec,
    display_from_spec,
)
from .dimmer import ColourLight, Dimmer, colour_light_from_spec, dimmer_from_spec
from .fan import FanActuator, FanSpec, fan_from_spec
from .room_controller import RoomController, RoomControllerSpec, room_controller_from_spec
from .sensor import SensorDevice, SensorValueSpec, sensor_from_spec
from .spec import DeviceFactory
from .switch import SwitchActuator, SwitchSpec, switch_from_spec
from .weather_station import WEATHER_STATION_TYPES, weather_station_from_spec

__all__ = [
    "DEVICE_KINDS",
    "WEATHER_STATION_TYPES",
    "ClockDevice",
    "ClockObjectSpec",
    "ColourLight",
    "DeviceFactory",
    "Dimmer",
    "DisplayDevice",
    "FanActuator",
    "FanSpec",
    "RoomController",
    "RoomControllerSpec",
    "SensorDevice",
    "SensorValueSpec",
    "SimulatedDevice",
    "SwitchActuator",
    "SwitchSpec",
]

DEVICE_KINDS: Final[dict[str, DeviceFactory]] = {
    "switch": switch_from_spec,
    "sensor": sensor_from_spec,
    "dimmer": dimmer_from_spec,
    "colour_light": colour_light_from_spec,
    "room_controller": room_controller_from_spec,
    "clock": clock_from_spec,
    "display": display_from_spec,
    "fan": fan_from_spec,
    "weather_station": weather_station_from_spec,
}
