"""The number subentry: a write address, an optional status address, a numeric type, its
range, step and mode, and whether Home Assistant answers reads."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.components.number import NumberMode
from homeassistant.helpers import selector

from ..const import CONF_MAX, CONF_MIN, CONF_MODE, CONF_STEP
from ..knx.dpt import DPT
from ..value_types import NUMBER_TYPES, number_range
from .base import device_class_selector
from .value_fields import ValueSubentryFlow

NUMBER_MODES = [str(mode) for mode in NumberMode]
_LIMITS = (CONF_MIN, CONF_MAX, CONF_STEP)


def _number_field() -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(mode=selector.NumberSelectorMode.BOX, step="any")
    )


class NumberSubentryFlowHandler(ValueSubentryFlow):
    """Add or change a number."""

    types = NUMBER_TYPES
    default_type = "5.001"

    def _fields(self) -> dict[vol.Marker, Any]:
        return {
            vol.Optional(CONF_MIN): _number_field(),
            vol.Optional(CONF_MAX): _number_field(),
            vol.Optional(CONF_STEP): _number_field(),
            vol.Required(CONF_MODE, default=str(NumberMode.AUTO)): device_class_selector(
                NUMBER_MODES, "number_mode"
            ),
        }

    def _validate_value_fields(self, dpt: DPT, data: dict[str, Any]) -> dict[str, str]:
        """Limits within the type's range (empty ones: the type's)."""
        for key in _LIMITS:
            if data.get(key) in (None, ""):
                data.pop(key, None)
        limits = number_range(dpt)
        errors: dict[str, str] = {}
        for key in (CONF_MIN, CONF_MAX):
            if key in data and not limits.minimum <= data[key] <= limits.maximum:
                errors[key] = "outside_type_range"
        low, high = data.get(CONF_MIN, limits.minimum), data.get(CONF_MAX, limits.maximum)
        if not errors and high <= low:
            errors[CONF_MAX] = "max_not_above_min"
        if CONF_STEP in data and data[CONF_STEP] <= 0:
            errors[CONF_STEP] = "step_not_positive"
        return errors
