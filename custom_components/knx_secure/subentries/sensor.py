"""The sensor subentry: a group address, its datapoint type, and how Home Assistant shows it.

The device class, unit and state class come from the type (``sensor_types``); the form can
override each, and refuses combinations Home Assistant would reject (a unit or state class
the device class does not allow, a unit for a text).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.components.sensor.const import (
    DEVICE_CLASS_STATE_CLASSES,
    DEVICE_CLASS_UNITS,
    SensorStateClass,
)
from homeassistant.const import CONF_DEVICE_CLASS, CONF_NAME, CONF_UNIT_OF_MEASUREMENT
from homeassistant.helpers import selector

from ..const import (
    CONF_ALWAYS_RECORD,
    CONF_STATE_ADDRESS,
    CONF_STATE_CLASS,
    CONF_SYNC_STATE,
    CONF_VALUE_TYPE,
)
from ..knx.address import GroupAddress
from ..knx.dpt import DPT, get_dpt
from ..knx.errors import DPTError
from ..sensor_types import SENSOR_TYPES, is_numeric_type, sensor_options
from .base import EMPTY_LIST, GroupAddressSubentryFlow, address_selector, device_class_selector

# Device classes a number can have (enum, date and timestamp are for other values), as
# Home Assistant 2025.4 knows them: each has its translation in strings.json, and newer
# versions keep them.
SENSOR_DEVICE_CLASSES = [
    *("apparent_power", "aqi", "area", "atmospheric_pressure", "battery"),
    *("blood_glucose_concentration", "carbon_dioxide", "carbon_monoxide", "conductivity"),
    *("current", "data_rate", "data_size", "distance", "duration", "energy"),
    *("energy_distance", "energy_storage", "frequency", "gas", "humidity", "illuminance"),
    *("irradiance", "moisture", "monetary", "nitrogen_dioxide", "nitrogen_monoxide"),
    *("nitrous_oxide", "ozone", "ph", "pm1", "pm10", "pm25", "power", "power_factor"),
    *("precipitation", "precipitation_intensity", "pressure", "reactive_power"),
    *("signal_strength", "sound_pressure", "speed", "sulphur_dioxide", "temperature"),
    *("volatile_organic_compounds", "volatile_organic_compounds_parts", "voltage", "volume"),
    *("volume_flow_rate", "volume_storage", "water", "weight", "wind_direction", "wind_speed"),
]
# measurement_angle is for wind directions only (and has no translation of its own).
SENSOR_STATE_CLASSES = [
    str(state_class)
    for state_class in (
        SensorStateClass.MEASUREMENT,
        SensorStateClass.TOTAL,
        SensorStateClass.TOTAL_INCREASING,
    )
]
# The fields that override what the type gives.
_OVERRIDES = (CONF_DEVICE_CLASS, CONF_UNIT_OF_MEASUREMENT, CONF_STATE_CLASS)


def _type_label(dpt: DPT) -> str:
    """How the type dropdown shows a type: "9.001 temperature (°C)"."""
    return f"{dpt.id} {dpt.name}" + (f" ({dpt.unit})" if dpt.unit else "")


def value_type_selector() -> selector.SelectSelector:
    """Every type a sensor can show; typing filters the list (a combo box)."""
    return selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=[
                selector.SelectOptionDict(value=dpt_id, label=_type_label(dpt))
                for dpt_id, dpt in SENSOR_TYPES.items()
            ],
            mode=selector.SelectSelectorMode.DROPDOWN,
            custom_value=True,  # the frontend then offers a searchable combo box
        )
    )


def sensor_type(text: object) -> DPT | None:
    """The sensor type a form value names ("9.001", "DPST-9-1", "temperature"), or None."""
    if not isinstance(text, str):
        return None
    try:
        dpt = get_dpt(text.strip())
    except DPTError:
        return None
    return dpt if dpt.id in SENSOR_TYPES else None


def override_errors(dpt: DPT, data: dict[str, Any]) -> dict[str, str]:
    """Form errors for overrides Home Assistant would reject with this type."""
    given = [key for key in _OVERRIDES if data.get(key)]
    if not is_numeric_type(dpt):
        return dict.fromkeys(given, "not_numeric")
    options = sensor_options(dpt, data)
    device_class = options.device_class
    if device_class is None:
        return {}
    errors: dict[str, str] = {}
    units = DEVICE_CLASS_UNITS.get(device_class)
    if units is not None and options.unit not in units:
        field = (
            CONF_UNIT_OF_MEASUREMENT if data.get(CONF_UNIT_OF_MEASUREMENT) else CONF_DEVICE_CLASS
        )
        errors[field] = "unit_not_for_device_class"
    state_classes = DEVICE_CLASS_STATE_CLASSES.get(device_class)
    if (
        options.state_class is not None
        and state_classes is not None
        and options.state_class not in state_classes
    ):
        errors[_changed(data, CONF_STATE_CLASS)] = "state_class_not_for_device_class"
    return errors


def _changed(data: dict[str, Any], key: str) -> str:
    """Where a clash with the device class shows: on key when the form overrides it, else
    on the device class (the override that made the type's default not fit)."""
    return key if data.get(key) else CONF_DEVICE_CLASS


class SensorSubentryFlowHandler(GroupAddressSubentryFlow):
    """Add or change a sensor."""

    required_addresses = (CONF_STATE_ADDRESS,)

    def _schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_NAME): selector.TextSelector(),
                vol.Required(CONF_STATE_ADDRESS): address_selector(),
                vol.Required(CONF_VALUE_TYPE): value_type_selector(),
                vol.Required(CONF_SYNC_STATE, default=True): selector.BooleanSelector(),
                vol.Required(CONF_ALWAYS_RECORD, default=False): selector.BooleanSelector(),
                vol.Optional(CONF_DEVICE_CLASS): device_class_selector(
                    SENSOR_DEVICE_CLASSES, "sensor_device_class"
                ),
                vol.Optional(CONF_UNIT_OF_MEASUREMENT): selector.TextSelector(),
                vol.Optional(CONF_STATE_CLASS): device_class_selector(
                    SENSOR_STATE_CLASSES, "sensor_state_class"
                ),
            }
        )

    def _validate(self, data: dict[str, Any]) -> dict[str, str]:
        """The type and the overrides (the base checks the address); saves the type's id
        and drops empty overrides (the type's defaults then apply)."""
        for key in _OVERRIDES:
            value = data.get(key)
            if isinstance(value, str):
                value = value.strip()
            if value in (None, ""):
                data.pop(key, None)
            else:
                data[key] = value
        dpt = sensor_type(data.get(CONF_VALUE_TYPE))
        if dpt is None:
            return {CONF_VALUE_TYPE: "invalid_value_type"}
        data[CONF_VALUE_TYPE] = dpt.id
        return override_errors(dpt, data)

    async def _async_security_check(self) -> tuple[str | None, dict[str, str]]:
        """The base's check, and how the sensor will show its values (type and overrides)."""
        warning, placeholders = await super()._async_security_check()
        dpt = get_dpt(self._data[CONF_VALUE_TYPE])
        options = sensor_options(dpt, self._data)
        placeholders[CONF_VALUE_TYPE] = _type_label(dpt)
        placeholders[CONF_DEVICE_CLASS] = options.device_class or EMPTY_LIST
        placeholders["unit"] = options.unit or EMPTY_LIST
        placeholders[CONF_STATE_CLASS] = options.state_class or EMPTY_LIST
        return warning, placeholders

    @classmethod
    def sent_addresses(
        cls, data: Mapping[str, Any], addresses: list[GroupAddress]
    ) -> list[GroupAddress]:
        """Only the read at start sends (when it is on): the sensor just listens else."""
        return addresses if data.get(CONF_SYNC_STATE, True) else []
