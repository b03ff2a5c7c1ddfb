"""The cover subentry: up/down, stop or step, position and slat angle with their statuses,
travel times and the invert options."""

from __future__ import annotations

import voluptuous as vol
from homeassistant.const import CONF_DEVICE_CLASS, CONF_NAME
from homeassistant.helpers import selector

from ..const import (
    CONF_ANGLE_ADDRESS,
    CONF_ANGLE_STATE_ADDRESS,
    CONF_INVERT_ANGLE,
    CONF_INVERT_POSITION,
    CONF_INVERT_UP_DOWN,
    CONF_POSITION_ADDRESS,
    CONF_POSITION_STATE_ADDRESS,
    CONF_STOP_ADDRESS,
    CONF_STOP_DPT,
    CONF_TRAVEL_TIME_DOWN,
    CONF_TRAVEL_TIME_UP,
    CONF_UP_DOWN_ADDRESS,
    DEFAULT_TRAVEL_TIME,
)
from .base import GroupAddressSubentryFlow, address_selector, device_class_selector

COVER_DEVICE_CLASSES = [
    "awning",
    "blind",
    "curtain",
    "damper",
    "door",
    "garage",
    "gate",
    "shade",
    "shutter",
    "window",
]
#: What the stop address takes: a stop trigger, or a short-time step (which stops too).
STOP_DPTS = ["1.017", "1.007"]


def _travel_time_selector() -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=0.1,
            max=600,
            step=0.1,
            unit_of_measurement="s",
            mode=selector.NumberSelectorMode.BOX,
        )
    )


class CoverSubentryFlowHandler(GroupAddressSubentryFlow):
    """Add or change a cover.

    Every address counts for the sender check (the default ``sent_addresses``): Home
    Assistant writes the commands and reads both status addresses at start.
    """

    required_addresses = (CONF_UP_DOWN_ADDRESS,)
    optional_addresses = (
        CONF_STOP_ADDRESS,
        CONF_POSITION_ADDRESS,
        CONF_POSITION_STATE_ADDRESS,
        CONF_ANGLE_ADDRESS,
        CONF_ANGLE_STATE_ADDRESS,
    )

    def _schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_NAME): selector.TextSelector(),
                vol.Required(CONF_UP_DOWN_ADDRESS): address_selector(),
                vol.Optional(CONF_STOP_ADDRESS): address_selector(),
                vol.Required(CONF_STOP_DPT, default=STOP_DPTS[0]): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=STOP_DPTS,
                        mode=selector.SelectSelectorMode.DROPDOWN,
                        translation_key="cover_stop_dpt",
                    )
                ),
                vol.Optional(CONF_POSITION_ADDRESS): address_selector(),
                vol.Optional(CONF_POSITION_STATE_ADDRESS): address_selector(),
                vol.Optional(CONF_ANGLE_ADDRESS): address_selector(),
                vol.Optional(CONF_ANGLE_STATE_ADDRESS): address_selector(),
                vol.Required(
                    CONF_TRAVEL_TIME_DOWN, default=DEFAULT_TRAVEL_TIME
                ): _travel_time_selector(),
                vol.Required(
                    CONF_TRAVEL_TIME_UP, default=DEFAULT_TRAVEL_TIME
                ): _travel_time_selector(),
                vol.Required(CONF_INVERT_UP_DOWN, default=False): selector.BooleanSelector(),
                vol.Required(CONF_INVERT_POSITION, default=False): selector.BooleanSelector(),
                vol.Required(CONF_INVERT_ANGLE, default=False): selector.BooleanSelector(),
                vol.Optional(CONF_DEVICE_CLASS): device_class_selector(
                    COVER_DEVICE_CLASSES, "cover_device_class"
                ),
            }
        )
