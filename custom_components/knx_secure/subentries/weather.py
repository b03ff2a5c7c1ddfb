"""The weather subentry: a weather station's group addresses (types fixed per value)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector

from ..const import CONF_SYNC_STATE, CONF_TEMPERATURE_ADDRESS
from ..knx.address import GroupAddress
from ..weather_types import WEATHER_TYPES
from .base import GroupAddressSubentryFlow, address_selector


class WeatherSubentryFlowHandler(GroupAddressSubentryFlow):
    """Add or change a weather entity."""

    required_addresses = (CONF_TEMPERATURE_ADDRESS,)
    optional_addresses = tuple(key for key in WEATHER_TYPES if key != CONF_TEMPERATURE_ADDRESS)

    def _schema(self) -> vol.Schema:
        fields: dict[vol.Marker, object] = {
            vol.Required(CONF_NAME): selector.TextSelector(),
            vol.Required(CONF_TEMPERATURE_ADDRESS): address_selector(),
        }
        for key in self.optional_addresses:
            fields[vol.Optional(key)] = address_selector()
        fields[vol.Required(CONF_SYNC_STATE, default=True)] = selector.BooleanSelector()
        return vol.Schema(fields)

    @classmethod
    def sent_addresses(
        cls, data: Mapping[str, Any], addresses: list[GroupAddress]
    ) -> list[GroupAddress]:
        """Only the reads at start send (when on): the entity never writes."""
        return addresses if data.get(CONF_SYNC_STATE, True) else []
