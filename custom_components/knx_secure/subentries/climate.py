"""The climate subentry: a room controller's temperatures, setpoint, modes and on/off.

The target temperature is set one of two ways: an absolute setpoint (9.001) on the target
temperature address, or a setpoint shift (6.010 counts of the step, or 9.002 Kelvin) on the
setpoint shift address; then the target temperature status is the controller's current
setpoint (its base plus the shift) and is required to compute the shift.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector

from ..const import (
    CONF_CONTROLLER_MODE_ADDRESS,
    CONF_CONTROLLER_MODE_STATE_ADDRESS,
    CONF_CONTROLLER_MODES,
    CONF_HEAT_COOL_ADDRESS,
    CONF_HEAT_COOL_STATE_ADDRESS,
    CONF_INVERT,
    CONF_MAX_TEMP,
    CONF_MIN_TEMP,
    CONF_ON_OFF_ADDRESS,
    CONF_ON_OFF_STATE_ADDRESS,
    CONF_OPERATION_MODE_ADDRESS,
    CONF_OPERATION_MODE_STATE_ADDRESS,
    CONF_SETPOINT_SHIFT_ADDRESS,
    CONF_SETPOINT_SHIFT_DPT,
    CONF_SETPOINT_SHIFT_STATE_ADDRESS,
    CONF_TARGET_TEMPERATURE_ADDRESS,
    CONF_TARGET_TEMPERATURE_STATE_ADDRESS,
    CONF_TEMPERATURE_ADDRESS,
    CONF_TEMPERATURE_STEP,
)
from ..knx.address import GroupAddress
from .base import GroupAddressSubentryFlow, address_selector

SETPOINT_SHIFT_DPTS = ["6.010", "9.002"]
#: The HVAC modes a controller mode address (20.105) can offer.
CONTROLLER_MODE_CHOICES = ["heat", "cool", "auto", "off", "fan_only", "dry"]
DEFAULT_CONTROLLER_MODES = ["heat", "cool", "auto", "off"]
DEFAULT_MIN_TEMP = 7.0
DEFAULT_MAX_TEMP = 28.0
DEFAULT_TEMPERATURE_STEP = 0.5


def _number(minimum: float, maximum: float, step: float) -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=step,
            mode=selector.NumberSelectorMode.BOX,
            unit_of_measurement="°C",
        )
    )


def _select(
    options: list[str], translation_key: str, *, multiple: bool = False
) -> selector.SelectSelector:
    return selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=options,
            mode=selector.SelectSelectorMode.DROPDOWN,
            translation_key=translation_key,
            multiple=multiple,
        )
    )


def climate_errors(data: dict[str, Any]) -> dict[str, str]:
    """What is wrong with the combination of fields (the base checks each address)."""
    errors: dict[str, str] = {}
    if data.get(CONF_SETPOINT_SHIFT_ADDRESS):
        if data.get(CONF_TARGET_TEMPERATURE_ADDRESS):
            errors[CONF_SETPOINT_SHIFT_ADDRESS] = "target_or_shift"
        elif not data.get(CONF_TARGET_TEMPERATURE_STATE_ADDRESS):
            errors[CONF_TARGET_TEMPERATURE_STATE_ADDRESS] = "shift_needs_target_state"
    if float(data.get(CONF_MIN_TEMP, DEFAULT_MIN_TEMP)) >= float(
        data.get(CONF_MAX_TEMP, DEFAULT_MAX_TEMP)
    ):
        errors[CONF_MAX_TEMP] = "max_not_above_min"
    if data.get(CONF_CONTROLLER_MODE_ADDRESS) and not data.get(CONF_CONTROLLER_MODES):
        errors[CONF_CONTROLLER_MODES] = "controller_modes_required"
    return errors


class ClimateSubentryFlowHandler(GroupAddressSubentryFlow):
    """Add or change a climate entity (a room controller)."""

    required_addresses = (CONF_TEMPERATURE_ADDRESS,)
    optional_addresses = (
        CONF_TARGET_TEMPERATURE_ADDRESS,
        CONF_TARGET_TEMPERATURE_STATE_ADDRESS,
        CONF_SETPOINT_SHIFT_ADDRESS,
        CONF_SETPOINT_SHIFT_STATE_ADDRESS,
        CONF_OPERATION_MODE_ADDRESS,
        CONF_OPERATION_MODE_STATE_ADDRESS,
        CONF_CONTROLLER_MODE_ADDRESS,
        CONF_CONTROLLER_MODE_STATE_ADDRESS,
        CONF_ON_OFF_ADDRESS,
        CONF_ON_OFF_STATE_ADDRESS,
        CONF_HEAT_COOL_ADDRESS,
        CONF_HEAT_COOL_STATE_ADDRESS,
    )

    def _schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_NAME): selector.TextSelector(),
                vol.Required(CONF_TEMPERATURE_ADDRESS): address_selector(),
                vol.Optional(CONF_TARGET_TEMPERATURE_ADDRESS): address_selector(),
                vol.Optional(CONF_TARGET_TEMPERATURE_STATE_ADDRESS): address_selector(),
                vol.Optional(CONF_SETPOINT_SHIFT_ADDRESS): address_selector(),
                vol.Optional(CONF_SETPOINT_SHIFT_STATE_ADDRESS): address_selector(),
                vol.Required(CONF_SETPOINT_SHIFT_DPT, default="6.010"): _select(
                    SETPOINT_SHIFT_DPTS, "climate_setpoint_shift_dpt"
                ),
                vol.Required(CONF_MIN_TEMP, default=DEFAULT_MIN_TEMP): _number(-20, 80, 0.5),
                vol.Required(CONF_MAX_TEMP, default=DEFAULT_MAX_TEMP): _number(-20, 80, 0.5),
                vol.Required(CONF_TEMPERATURE_STEP, default=DEFAULT_TEMPERATURE_STEP): _number(
                    0.01, 2, 0.01
                ),
                vol.Optional(CONF_OPERATION_MODE_ADDRESS): address_selector(),
                vol.Optional(CONF_OPERATION_MODE_STATE_ADDRESS): address_selector(),
                vol.Optional(CONF_CONTROLLER_MODE_ADDRESS): address_selector(),
                vol.Optional(CONF_CONTROLLER_MODE_STATE_ADDRESS): address_selector(),
                vol.Optional(CONF_CONTROLLER_MODES, default=DEFAULT_CONTROLLER_MODES): _select(
                    CONTROLLER_MODE_CHOICES, "climate_controller_modes", multiple=True
                ),
                vol.Optional(CONF_ON_OFF_ADDRESS): address_selector(),
                vol.Optional(CONF_ON_OFF_STATE_ADDRESS): address_selector(),
                vol.Required(CONF_INVERT, default=False): selector.BooleanSelector(),
                vol.Optional(CONF_HEAT_COOL_ADDRESS): address_selector(),
                vol.Optional(CONF_HEAT_COOL_STATE_ADDRESS): address_selector(),
            }
        )

    def _validate(self, data: dict[str, Any]) -> dict[str, str]:
        """How the fields go together (the base checks each address)."""
        return climate_errors(data)

    @classmethod
    def sent_addresses(
        cls, data: Mapping[str, Any], addresses: list[GroupAddress]
    ) -> list[GroupAddress]:
        """Every address counts: the entity writes the command addresses and reads the
        temperature and every status address at start and after a reconnect."""
        return addresses
