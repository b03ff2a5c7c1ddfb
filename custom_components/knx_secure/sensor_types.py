"""Which datapoint types a sensor can show, and the device class, unit and state class each
gets by default (the sensor subentry can override every one of them).

A sensor shows a number (integer or float types), a text (4.x, 16.x) or a named state
(enumerations, 20.x: device class ``enum`` with the type's names as options). Booleans are
binary sensors, and structured values (dicts: colours, dates, controls) are not offered.
The unit is the type's own unless ``_DEFAULTS`` spells it as Home Assistant does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import CONF_DEVICE_CLASS, CONF_UNIT_OF_MEASUREMENT

from .const import CONF_STATE_CLASS
from .knx.dpt import DPT, REGISTRY

# The value shapes of ``DPT.describe()`` a sensor shows.
_NUMBER_SHAPES: Final = frozenset({"integer", "number"})
_TEXT_SHAPE: Final = "string"
_ENUM_SHAPE: Final = "enum"

_M = SensorStateClass.MEASUREMENT
_TOTAL = SensorStateClass.TOTAL_INCREASING


@dataclass(frozen=True, slots=True)
class SensorDefaults:
    """What a sensor of one datapoint type gets unless its subentry says otherwise."""

    device_class: SensorDeviceClass | None = None
    unit: str | None = None
    state_class: SensorStateClass | None = None
    options: tuple[str, ...] | None = None  # the states of an enum sensor


@dataclass(frozen=True, slots=True)
class _Row:
    device_class: SensorDeviceClass | None
    state_class: SensorStateClass | None = _M
    unit: str | None = None  # None: the type's own unit


_D = SensorDeviceClass
# Types of durations (time periods, delta times, times).
_DURATIONS: Final = (
    *("7.002", "7.003", "7.004", "7.005", "7.006", "7.007"),
    *("8.002", "8.003", "8.004", "8.005", "8.006", "8.007"),
    *("9.010", "9.011", "12.100", "12.101", "12.102", "13.100", "14.074"),
)
# DPT id -> device class, state class (and the unit where Home Assistant spells it
# differently). Numeric types not listed: no device class, measurement, the type's unit.
_DEFAULTS: Final[dict[str, _Row]] = {
    # counts, codes and identifiers: no statistics
    "5.005": _Row(None, None),
    "5.006": _Row(None, None),
    "7.010": _Row(None, None),
    "17.001": _Row(None, None),
    **dict.fromkeys(_DURATIONS, _Row(_D.DURATION)),
    "7.011": _Row(_D.DISTANCE),
    "7.012": _Row(_D.CURRENT),
    "7.013": _Row(_D.ILLUMINANCE),
    "8.012": _Row(_D.DISTANCE),
    "9.001": _Row(_D.TEMPERATURE),
    "9.004": _Row(_D.ILLUMINANCE),
    "9.005": _Row(_D.WIND_SPEED),
    "9.006": _Row(_D.PRESSURE),
    "9.007": _Row(_D.HUMIDITY),
    "9.009": _Row(_D.VOLUME_FLOW_RATE),
    "9.020": _Row(_D.VOLTAGE),
    "9.021": _Row(_D.CURRENT),
    "9.022": _Row(_D.IRRADIANCE),
    "9.024": _Row(_D.POWER),
    "9.026": _Row(_D.PRECIPITATION, unit="mm"),  # 1 L/m² is 1 mm
    "9.027": _Row(_D.TEMPERATURE),
    "9.028": _Row(_D.WIND_SPEED),
    # meters: counters that only grow
    "12.001": _Row(None, _TOTAL),
    "12.1200": _Row(_D.VOLUME, _TOTAL),
    "12.1201": _Row(_D.VOLUME, _TOTAL),
    "13.002": _Row(_D.VOLUME_FLOW_RATE),
    "13.010": _Row(_D.ENERGY, _TOTAL),
    "13.013": _Row(_D.ENERGY, _TOTAL),
    "13.016": _Row(_D.ENERGY, _TOTAL),
    "14.010": _Row(_D.AREA),
    "14.019": _Row(_D.CURRENT),
    "14.027": _Row(_D.VOLTAGE),
    "14.028": _Row(_D.VOLTAGE),
    "14.030": _Row(_D.VOLTAGE),
    "14.031": _Row(_D.ENERGY, _TOTAL),
    "14.033": _Row(_D.FREQUENCY),
    "14.036": _Row(_D.POWER),
    "14.037": _Row(_D.ENERGY, _TOTAL),
    "14.039": _Row(_D.DISTANCE),
    "14.051": _Row(_D.WEIGHT),
    "14.056": _Row(_D.POWER),
    "14.057": _Row(_D.POWER_FACTOR),
    "14.058": _Row(_D.PRESSURE),
    "14.065": _Row(_D.SPEED),
    "14.068": _Row(_D.TEMPERATURE),
    "14.069": _Row(_D.TEMPERATURE),
    "14.076": _Row(_D.VOLUME, _TOTAL),
    "14.079": _Row(_D.ENERGY, _TOTAL),
    "14.080": _Row(_D.APPARENT_POWER),
    "14.1200": _Row(_D.VOLUME_FLOW_RATE),
    "29.010": _Row(_D.ENERGY, _TOTAL),
}


def _shape(dpt: DPT) -> object:
    return dpt.codec.describe().get("value")


def is_sensor_type(dpt: DPT) -> bool:
    """Whether a sensor can show values of this type (a number, a text or a state)."""
    shape = _shape(dpt)
    return shape in _NUMBER_SHAPES or shape in (_TEXT_SHAPE, _ENUM_SHAPE)


def is_numeric_type(dpt: DPT) -> bool:
    """Whether values of this type are numbers (units and state classes apply)."""
    return _shape(dpt) in _NUMBER_SHAPES


def sensor_defaults(dpt: DPT) -> SensorDefaults:
    """The device class, unit and state class a sensor of this type gets by default."""
    shape = _shape(dpt)
    if shape == _ENUM_SHAPE:
        choices = dpt.codec.describe().get("choices")
        names = tuple(str(name) for name in choices) if isinstance(choices, list) else ()
        return SensorDefaults(device_class=SensorDeviceClass.ENUM, options=names)
    if shape not in _NUMBER_SHAPES:
        return SensorDefaults()  # a text
    row = _DEFAULTS.get(dpt.id, _Row(None))
    return SensorDefaults(row.device_class, row.unit or dpt.unit, row.state_class)


def sensor_options(dpt: DPT, data: Mapping[str, Any]) -> SensorDefaults:
    """The type's defaults with a subentry's overrides (a field left empty keeps the
    type's)."""
    options = sensor_defaults(dpt)
    if device_class := data.get(CONF_DEVICE_CLASS):
        options = replace(options, device_class=SensorDeviceClass(device_class), options=None)
    if unit := data.get(CONF_UNIT_OF_MEASUREMENT):
        options = replace(options, unit=unit)
    if state_class := data.get(CONF_STATE_CLASS):
        options = replace(options, state_class=SensorStateClass(state_class))
    return options


#: Every type a sensor can show, by id, in the table's order.
SENSOR_TYPES: Final[dict[str, DPT]] = {
    dpt_id: dpt for dpt_id, dpt in REGISTRY.items() if is_sensor_type(dpt)
}
