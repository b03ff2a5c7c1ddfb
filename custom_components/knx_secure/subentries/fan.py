"""The fan subentry: on/off, speed as a percentage (5.001) or steps (5.010), oscillation;
each function with a command and an optional status address."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector

from ..const import (
    CONF_MAX_STEP,
    CONF_OSCILLATION_ADDRESS,
    CONF_OSCILLATION_STATE_ADDRESS,
    CONF_SPEED_ADDRESS,
    CONF_SPEED_DPT,
    CONF_SPEED_STATE_ADDRESS,
    CONF_SWITCH_ADDRESS,
    CONF_SWITCH_STATE_ADDRESS,
    CONF_SYNC_STATE,
)
from ..knx.devices.fan import FAN_SPEED_DPTS
from .base import GroupAddressSubentryFlow, address_selector

DEFAULT_MAX_STEP = 3


class FanSubentryFlowHandler(GroupAddressSubentryFlow):
    """Add or change a fan (every address is written or read at start: all count for the
    sender check)."""

    optional_addresses = (
        CONF_SWITCH_ADDRESS,
        CONF_SWITCH_STATE_ADDRESS,
        CONF_SPEED_ADDRESS,
        CONF_SPEED_STATE_ADDRESS,
        CONF_OSCILLATION_ADDRESS,
        CONF_OSCILLATION_STATE_ADDRESS,
    )

    def _schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_NAME): selector.TextSelector(),
                vol.Optional(CONF_SWITCH_ADDRESS): address_selector(),
                vol.Optional(CONF_SWITCH_STATE_ADDRESS): address_selector(),
                vol.Optional(CONF_SPEED_ADDRESS): address_selector(),
                vol.Optional(CONF_SPEED_STATE_ADDRESS): address_selector(),
                vol.Required(CONF_SPEED_DPT, default="5.001"): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=list(FAN_SPEED_DPTS),
                        mode=selector.SelectSelectorMode.DROPDOWN,
                        translation_key="fan_speed_dpt",
                    )
                ),
                vol.Required(CONF_MAX_STEP, default=DEFAULT_MAX_STEP): selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        min=1, max=255, step=1, mode=selector.NumberSelectorMode.BOX
                    )
                ),
                vol.Optional(CONF_OSCILLATION_ADDRESS): address_selector(),
                vol.Optional(CONF_OSCILLATION_STATE_ADDRESS): address_selector(),
                vol.Required(CONF_SYNC_STATE, default=True): selector.BooleanSelector(),
            }
        )

    def _validate(self, data: dict[str, Any]) -> dict[str, str]:
        """A fan is switched or has a speed; the step count is a whole number."""
        data[CONF_MAX_STEP] = int(data.get(CONF_MAX_STEP, DEFAULT_MAX_STEP))
        if not data.get(CONF_SWITCH_ADDRESS) and not data.get(CONF_SPEED_ADDRESS):
            return {CONF_SWITCH_ADDRESS: "switch_or_speed"}
        return {}
