"""The notify subentry: a display's text group address and its text type."""

from __future__ import annotations

import voluptuous as vol
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector

from ..const import CONF_VALUE_TYPE, CONF_WRITE_ADDRESS
from .base import GroupAddressSubentryFlow, address_selector

#: DPT 16.000 carries ASCII, 16.001 Latin-1 (umlauts, accents).
TEXT_DPTS = ["16.000", "16.001"]


class NotifySubentryFlowHandler(GroupAddressSubentryFlow):
    """Add or change a notify entity (every address is written: the sender check counts
    them all)."""

    required_addresses = (CONF_WRITE_ADDRESS,)

    def _schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_NAME): selector.TextSelector(),
                vol.Required(CONF_WRITE_ADDRESS): address_selector(),
                vol.Required(CONF_VALUE_TYPE, default="16.001"): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=TEXT_DPTS,
                        mode=selector.SelectSelectorMode.DROPDOWN,
                        translation_key="notify_value_type",
                    )
                ),
            }
        )
