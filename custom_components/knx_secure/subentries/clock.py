"""The date, time and date-time subentries: a write address, an optional status address,
the "respond to read" option."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector

from ..const import CONF_RESPOND_TO_READ, CONF_STATE_ADDRESS, CONF_SYNC_STATE, CONF_WRITE_ADDRESS
from ..knx.address import GroupAddress
from .base import GroupAddressSubentryFlow, address_selector


class ClockSubentryFlowHandler(GroupAddressSubentryFlow):
    """Add or change a date, a time or a date-time (the type is the subentry's)."""

    required_addresses = (CONF_WRITE_ADDRESS,)
    optional_addresses = (CONF_STATE_ADDRESS,)

    def _schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_NAME): selector.TextSelector(),
                vol.Required(CONF_WRITE_ADDRESS): address_selector(),
                vol.Optional(CONF_STATE_ADDRESS): address_selector(),
                vol.Required(CONF_SYNC_STATE, default=True): selector.BooleanSelector(),
                vol.Required(CONF_RESPOND_TO_READ, default=False): selector.BooleanSelector(),
            }
        )

    @classmethod
    def sent_addresses(
        cls, data: Mapping[str, Any], addresses: list[GroupAddress]
    ) -> list[GroupAddress]:
        """The write address, and the status address when it is read at start."""
        sent = [GroupAddress.parse(data[CONF_WRITE_ADDRESS])]
        if data.get(CONF_STATE_ADDRESS) and data.get(CONF_SYNC_STATE, True):
            sent.append(GroupAddress.parse(data[CONF_STATE_ADDRESS]))
        return [a for a in addresses if a in sent]
