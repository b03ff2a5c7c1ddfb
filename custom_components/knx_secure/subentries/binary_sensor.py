"""The binary sensor subentry: the DPT 1 value of a status address."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.const import CONF_DEVICE_CLASS, CONF_NAME
from homeassistant.helpers import selector

from ..const import CONF_INVERT, CONF_STATE_ADDRESS, CONF_SYNC_STATE
from ..knx.address import GroupAddress
from .base import GroupAddressSubentryFlow, address_selector, device_class_selector

BINARY_SENSOR_DEVICE_CLASSES = [
    "battery",
    "battery_charging",
    "carbon_monoxide",
    "cold",
    "connectivity",
    "door",
    "garage_door",
    "gas",
    "heat",
    "light",
    "lock",
    "moisture",
    "motion",
    "moving",
    "occupancy",
    "opening",
    "plug",
    "power",
    "presence",
    "problem",
    "running",
    "safety",
    "smoke",
    "sound",
    "tamper",
    "update",
    "vibration",
    "window",
]


class BinarySensorSubentryFlowHandler(GroupAddressSubentryFlow):
    """Add or change a binary sensor."""

    required_addresses = (CONF_STATE_ADDRESS,)

    def _schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_NAME): selector.TextSelector(),
                vol.Required(CONF_STATE_ADDRESS): address_selector(),
                vol.Required(CONF_INVERT, default=False): selector.BooleanSelector(),
                vol.Required(CONF_SYNC_STATE, default=True): selector.BooleanSelector(),
                vol.Optional(CONF_DEVICE_CLASS): device_class_selector(
                    BINARY_SENSOR_DEVICE_CLASSES, "binary_sensor_device_class"
                ),
            }
        )

    @classmethod
    def sent_addresses(
        cls, data: Mapping[str, Any], addresses: list[GroupAddress]
    ) -> list[GroupAddress]:
        """Only the read at start sends (when it is on): the sensor just listens else."""
        return addresses if data.get(CONF_SYNC_STATE, True) else []
