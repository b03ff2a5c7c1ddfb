"""What the number, select, button and text subentries share: a datapoint type chosen from
a list, and the flow of an entity with a write address, an optional status address, a type
and the "respond to read" option."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector

from ..const import CONF_RESPOND_TO_READ, CONF_STATE_ADDRESS, CONF_VALUE_TYPE, CONF_WRITE_ADDRESS
from ..knx.dpt import DPT, get_dpt
from ..knx.errors import DPTError
from ..value_types import type_label
from .base import GroupAddressSubentryFlow, address_selector


def type_selector(types: Mapping[str, DPT]) -> selector.SelectSelector:
    """A dropdown of types; typing filters the list (a combo box)."""
    return selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=[
                selector.SelectOptionDict(value=dpt_id, label=type_label(dpt))
                for dpt_id, dpt in types.items()
            ],
            mode=selector.SelectSelectorMode.DROPDOWN,
            custom_value=True,
        )
    )


def chosen_type(text: object, types: Mapping[str, DPT]) -> DPT | None:
    """The type of ``types`` a form value names ("9.001", "DPST-9-1", a name), or None."""
    if not isinstance(text, str):
        return None
    try:
        dpt = get_dpt(text.strip())
    except DPTError:
        return None
    return dpt if dpt.id in types else None


def validate_type(data: dict[str, Any], types: Mapping[str, DPT]) -> DPT | None:
    """The form's type, saved by its id (None: not one of ``types``)."""
    dpt = chosen_type(data.get(CONF_VALUE_TYPE), types)
    if dpt is not None:
        data[CONF_VALUE_TYPE] = dpt.id
    return dpt


class ValueSubentryFlow(GroupAddressSubentryFlow):
    """An entity holding one value: write address, optional status address, a type of
    ``types`` (``default_type`` first), the platform's own fields, "respond to read"."""

    required_addresses = (CONF_WRITE_ADDRESS,)
    optional_addresses = (CONF_STATE_ADDRESS,)
    types: Mapping[str, DPT]
    default_type: str

    def _fields(self) -> dict[vol.Marker, Any]:
        """The platform's own fields (after the type)."""
        return {}

    def _schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_NAME): selector.TextSelector(),
                vol.Required(CONF_WRITE_ADDRESS): address_selector(),
                vol.Optional(CONF_STATE_ADDRESS): address_selector(),
                vol.Required(CONF_VALUE_TYPE, default=self.default_type): type_selector(self.types),
                **self._fields(),
                vol.Required(CONF_RESPOND_TO_READ, default=False): selector.BooleanSelector(),
            }
        )

    def _validate(self, data: dict[str, Any]) -> dict[str, str]:
        dpt = validate_type(data, self.types)
        if dpt is None:
            return {CONF_VALUE_TYPE: "invalid_value_type"}
        return self._validate_value_fields(dpt, data)

    def _validate_value_fields(self, dpt: DPT, data: dict[str, Any]) -> dict[str, str]:
        """The platform's own checks, given the type."""
        return {}
