"""Simulated KNX devices behind the virtual gateway or router.

``SimulatedDevice`` (``base.py``) is what every kind builds on; each kind has its own module
with its device class and a factory that builds it from its installation file entry
(``spec.py`` reads the fields). ``DEVICE_KINDS`` maps the file's ``"kind"`` to the factory:
adding a kind is a module and a line here.
"""

from __future__ import annotations

from typing import Final

from .base import SimulatedDevice
from .room_controller import RoomController, RoomControllerSpec, room_controller_from_spec
from .scene_actuator import SceneActuator, scene_actuator_from_spec
from .sensor import SensorDevice, SensorValueSpec, sensor_from_spec
from .spec import DeviceFactory
from .switch import SwitchActuator, SwitchSpec, switch_from_spec
from .value_actuator import ValueActuator, ValueObjectSpec, value_actuator_from_spec

__all__ = [
    "DEVICE_KINDS",
    "DeviceFactory",
    "RoomController",
    "RoomControllerSpec",
    "SceneActuator",
    "SensorDevice",
    "SensorValueSpec",
    "SimulatedDevice",
    "SwitchActuator",
    "SwitchSpec",
    "ValueActuator",
    "ValueObjectSpec",
]

DEVICE_KINDS: Final[dict[str, DeviceFactory]] = {
    "switch": switch_from_spec,
    "sensor": sensor_from_spec,
    "room_controller": room_controller_from_spec,
    "value_actuator": value_actuator_from_spec,
    "scene_actuator": scene_actuator_from_spec,
}
