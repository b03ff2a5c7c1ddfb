"""The switch subentry: a DPT 1.001 write address, an optional status address, the
"respond to read" option."""

from __future__ import annotations

import voluptuous as vol
from homeassistant.const import CONF_DEVICE_CLASS, CONF_NAME
from homeassistant.helpers import selector

from ..const import CONF_INVERT, CONF_RESPOND_TO_READ, CONF_STATE_ADDRESS, CONF_WRITE_ADDRESS
from .base import GroupAddressSubentryFlow, address_selector, device_class_selector

SWITCH_DEVICE_CLASSES = ["outlet", "switch"]


class SwitchSubentryFlowHandler(GroupAddressSubentryFlow):
    """Add or change a switch."""

    required_addresses = (CONF_WRITE_ADDRESS,)
    optional_addresses = (CONF_STATE_ADDRESS,)

    def _schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_NAME): selector.TextSelector(),
                vol.Required(CONF_WRITE_ADDRESS): address_selector(),
                vol.Optional(CONF_STATE_ADDRESS): address_selector(),
                vol.Required(CONF_INVERT, default=False): selector.BooleanSelector(),
                vol.Optional(CONF_DEVICE_CLASS): device_class_selector(
                    SWITCH_DEVICE_CLASSES, "switch_device_class"
                ),
                vol.Required(CONF_RESPOND_TO_READ, default=False): selector.BooleanSelector(),
            }
        )
