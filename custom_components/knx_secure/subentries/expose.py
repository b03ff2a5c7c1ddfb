"""The expose subentry: a Home Assistant entity's state or attribute (or the clock), a group
address and its datapoint type, an optional cool-down and periodic resend.

Home Assistant sends on the address (writes and answers to reads), so the confirm step's
sender check covers it.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector

from ..const import (
    CONF_EXPOSE_ADDRESS,
    CONF_EXPOSE_ATTRIBUTE,
    CONF_EXPOSE_COOLDOWN,
    CONF_EXPOSE_ENTITY,
    CONF_EXPOSE_PERIOD,
    CONF_VALUE_TYPE,
    EXPOSE_CLOCK_PERIOD,
)
from ..expose import CLOCK_TYPES, expose_type, expose_types
from .base import GroupAddressSubentryFlow, address_selector
from .sensor import _type_label as type_label

# The longest cool-down and period the form takes: one day.
_MAX_SECONDS = 86400


def expose_type_selector() -> selector.SelectSelector:
    """Every type an expose can send; typing filters the list (a combo box)."""
    return selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=[
                selector.SelectOptionDict(value=dpt_id, label=type_label(dpt))
                for dpt_id, dpt in expose_types().items()
            ],
            mode=selector.SelectSelectorMode.DROPDOWN,
            custom_value=True,  # the frontend then offers a searchable combo box
        )
    )


def _seconds_selector() -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=0,
            max=_MAX_SECONDS,
            step=1,
            mode=selector.NumberSelectorMode.BOX,
            unit_of_measurement="s",
        )
    )


class ExposeSubentryFlowHandler(GroupAddressSubentryFlow):
    """Add or change an expose."""

    required_addresses = (CONF_EXPOSE_ADDRESS,)

    def _schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_NAME): selector.TextSelector(),
                vol.Required(CONF_EXPOSE_ADDRESS): address_selector(),
                vol.Required(CONF_VALUE_TYPE): expose_type_selector(),
                vol.Optional(CONF_EXPOSE_ENTITY): selector.EntitySelector(),
                vol.Optional(CONF_EXPOSE_ATTRIBUTE): selector.TextSelector(),
                vol.Required(CONF_EXPOSE_COOLDOWN, default=0): _seconds_selector(),
                vol.Required(CONF_EXPOSE_PERIOD, default=0): _seconds_selector(),
            }
        )

    def _validate(self, data: dict[str, Any]) -> dict[str, str]:
        """The type, and an entity unless the type is a clock's; saves the type's id, drops
        empty fields, and gives a clock without a period the hourly one."""
        for key in (CONF_EXPOSE_ENTITY, CONF_EXPOSE_ATTRIBUTE):
            value = str(data.get(key) or "").strip()
            if value:
                data[key] = value
            else:
                data.pop(key, None)
        dpt = expose_type(data.get(CONF_VALUE_TYPE))
        if dpt is None:
            return {CONF_VALUE_TYPE: "invalid_value_type"}
        data[CONF_VALUE_TYPE] = dpt.id
        entity = data.get(CONF_EXPOSE_ENTITY)
        if entity is None and dpt.id not in CLOCK_TYPES:
            return {CONF_EXPOSE_ENTITY: "entity_required"}
        if entity is None and CONF_EXPOSE_ATTRIBUTE in data:
            return {CONF_EXPOSE_ATTRIBUTE: "attribute_without_entity"}
        if entity is None and not data.get(CONF_EXPOSE_PERIOD):
            data[CONF_EXPOSE_PERIOD] = EXPOSE_CLOCK_PERIOD
        return {}
