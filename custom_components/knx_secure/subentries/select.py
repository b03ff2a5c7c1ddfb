"""The select subentry: options mapped to values of a chosen type, a write address, an
optional status address, and whether Home Assistant answers reads."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.helpers import selector

from ..const import CONF_OPTIONS
from ..knx.dpt import DPT
from ..knx.errors import DPTError
from ..value_types import SELECT_TYPES, parse_options
from .value_fields import ValueSubentryFlow


class SelectSubentryFlowHandler(ValueSubentryFlow):
    """Add or change a select."""

    types = SELECT_TYPES
    default_type = "5.010"

    def _fields(self) -> dict[vol.Marker, Any]:
        return {
            vol.Optional(CONF_OPTIONS): selector.TextSelector(
                selector.TextSelectorConfig(multiline=True)
            )
        }

    def _validate_value_fields(self, dpt: DPT, data: dict[str, Any]) -> dict[str, str]:
        """Options that are values of the type."""
        data[CONF_OPTIONS] = str(data.get(CONF_OPTIONS) or "").strip()
        try:
            parse_options(dpt, data[CONF_OPTIONS])
        except DPTError:
            return {CONF_OPTIONS: "invalid_options"}
        return {}
