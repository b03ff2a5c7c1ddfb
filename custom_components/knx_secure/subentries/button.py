"""The button subentry: the value a press writes, of a chosen type (default 1.001 on)."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector

from ..button import DEFAULT_BUTTON_PAYLOAD, DEFAULT_BUTTON_TYPE
from ..const import CONF_PAYLOAD, CONF_VALUE_TYPE, CONF_WRITE_ADDRESS
from ..knx.errors import DPTError
from ..value_types import SELECT_TYPES, format_value, parse_value
from .base import GroupAddressSubentryFlow, address_selector
from .value_fields import type_selector, validate_type


class ButtonSubentryFlowHandler(GroupAddressSubentryFlow):
    """Add or change a button."""

    required_addresses = (CONF_WRITE_ADDRESS,)

    def _schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_NAME): selector.TextSelector(),
                vol.Required(CONF_WRITE_ADDRESS): address_selector(),
                vol.Required(CONF_VALUE_TYPE, default=DEFAULT_BUTTON_TYPE): type_selector(
                    SELECT_TYPES
                ),
                vol.Required(CONF_PAYLOAD, default=DEFAULT_BUTTON_PAYLOAD): selector.TextSelector(),
            }
        )

    def _validate(self, data: dict[str, Any]) -> dict[str, str]:
        """The type, and a value of it (saved as the form writes it back)."""
        dpt = validate_type(data, SELECT_TYPES)
        if dpt is None:
            return {CONF_VALUE_TYPE: "invalid_value_type"}
        try:
            value = parse_value(dpt, str(data.get(CONF_PAYLOAD) or ""))
        except DPTError:
            return {CONF_PAYLOAD: "invalid_payload"}
        data[CONF_PAYLOAD] = format_value(value)
        return {}
