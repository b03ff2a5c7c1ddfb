"""The light subentry: switch, brightness, colour temperature, colour, colour channels.

Each value of the light is a part with a write address ``<part>_address`` and an optional
status address ``<part>_state_address``. Which parts are given decides the light's colour
modes (``light.py``); this form checks that they make one light.
"""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector

from ..const import (
    ADDRESS_SUFFIX,
    CONF_COLOR_TEMPERATURE_TYPE,
    CONF_COLOR_TYPE,
    CONF_LIGHT_BRIGHTNESS,
    CONF_LIGHT_COLOR,
    CONF_LIGHT_COLOR_TEMPERATURE,
    CONF_LIGHT_SWITCH,
    CONF_MAX_KELVIN,
    CONF_MIN_KELVIN,
    DEFAULT_MAX_KELVIN,
    DEFAULT_MIN_KELVIN,
    LIGHT_CHANNELS,
)
from .base import GroupAddressSubentryFlow, address_selector

__all__ = [
    "COLOR_TEMPERATURE_TYPES",
    "COLOR_TYPES",
    "LIGHT_PARTS",
    "LightSubentryFlowHandler",
    "channel_part",
    "state_key",
    "write_key",
]

# Datapoint type choices by id; their labels name the type (hassfest allows no dots in
# translated option keys, and a type's id is what the data keeps).
COLOR_TEMPERATURE_TYPES: Final = {
    "7.600": "Kelvin (DPT 7.600)",
    "5.001": "Percent from warmest to coldest (DPT 5.001)",
}
COLOR_TYPES: Final = {
    "232.600": "RGB (DPT 232.600)",
    "251.600": "RGBW (DPT 251.600)",
    "242.600": "xyY (DPT 242.600)",
}
RGB_CHANNELS: Final = LIGHT_CHANNELS[:3]


def channel_part(colour: str, part: str) -> str:
    """The part of a colour channel: "red_brightness", "white_switch"."""
    return f"{colour}_{part}"


LIGHT_PARTS: Final = (
    CONF_LIGHT_SWITCH,
    CONF_LIGHT_BRIGHTNESS,
    CONF_LIGHT_COLOR_TEMPERATURE,
    CONF_LIGHT_COLOR,
    *(
        channel_part(colour, part)
        for colour in LIGHT_CHANNELS
        for part in (CONF_LIGHT_BRIGHTNESS, CONF_LIGHT_SWITCH)
    ),
)


def write_key(part: str) -> str:
    return f"{part}{ADDRESS_SUFFIX}"


def state_key(part: str) -> str:
    return f"{part}_state{ADDRESS_SUFFIX}"


def _kelvin_selector() -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=1000,
            max=20000,
            step=100,
            mode=selector.NumberSelectorMode.BOX,
            unit_of_measurement="K",
        )
    )


def _type_selector(types: dict[str, str]) -> selector.SelectSelector:
    return selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=[
                selector.SelectOptionDict(value=id_, label=label) for id_, label in types.items()
            ],
            mode=selector.SelectSelectorMode.DROPDOWN,
        )
    )


def light_errors(data: dict[str, Any]) -> dict[str, str]:
    """What keeps these parts from being one light (field -> error key)."""
    given = {part for part in LIGHT_PARTS if str(data.get(write_key(part)) or "").strip()}
    errors = {
        state_key(part): "state_without_address"
        for part in LIGHT_PARTS
        if str(data.get(state_key(part)) or "").strip() and part not in given
    }
    channels = {c for c in LIGHT_CHANNELS if channel_part(c, CONF_LIGHT_BRIGHTNESS) in given}
    switched = {c for c in LIGHT_CHANNELS if channel_part(c, CONF_LIGHT_SWITCH) in given}
    if channels or switched:
        for colour in RGB_CHANNELS:
            if colour not in channels:
                errors[write_key(channel_part(colour, CONF_LIGHT_BRIGHTNESS))] = (
                    "channels_incomplete"
                )
        for colour in switched - channels:
            errors[write_key(channel_part(colour, CONF_LIGHT_BRIGHTNESS))] = "channels_incomplete"
        if CONF_LIGHT_COLOR in given:
            errors[write_key(CONF_LIGHT_COLOR)] = "color_and_channels"
    elif CONF_LIGHT_SWITCH not in given:
        errors[write_key(CONF_LIGHT_SWITCH)] = "switch_required"
    if data.get(CONF_MIN_KELVIN, DEFAULT_MIN_KELVIN) >= data.get(
        CONF_MAX_KELVIN, DEFAULT_MAX_KELVIN
    ):
        errors[CONF_MAX_KELVIN] = "kelvin_range"
    return errors


class LightSubentryFlowHandler(GroupAddressSubentryFlow):
    """Add or change a light.

    Every address of a light is sent on (written, or read at start as a status address),
    so the base's sender check over all of them is the right one.
    """

    optional_addresses = tuple(
        key for part in LIGHT_PARTS for key in (write_key(part), state_key(part))
    )

    def _schema(self) -> vol.Schema:
        fields: dict[vol.Marker, Any] = {vol.Required(CONF_NAME): selector.TextSelector()}
        for part in LIGHT_PARTS:
            fields[vol.Optional(write_key(part))] = address_selector()
            fields[vol.Optional(state_key(part))] = address_selector()
            if part == CONF_LIGHT_COLOR_TEMPERATURE:
                fields |= {
                    vol.Required(CONF_COLOR_TEMPERATURE_TYPE, default="7.600"): _type_selector(
                        COLOR_TEMPERATURE_TYPES
                    ),
                    vol.Required(CONF_MIN_KELVIN, default=DEFAULT_MIN_KELVIN): _kelvin_selector(),
                    vol.Required(CONF_MAX_KELVIN, default=DEFAULT_MAX_KELVIN): _kelvin_selector(),
                }
            elif part == CONF_LIGHT_COLOR:
                fields[vol.Required(CONF_COLOR_TYPE, default="232.600")] = _type_selector(
                    COLOR_TYPES
                )
        return vol.Schema(fields)

    def _validate(self, data: dict[str, Any]) -> dict[str, str]:
        """The parts must make one light (next to the base's address checks)."""
        return light_errors(data)
