"""The scene subentry: a scene number 1..64 (DPT 17.001) on a group address."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector

from ..const import CONF_SCENE_ADDRESS, CONF_SCENE_NUMBER, CONF_VALUE_TYPE
from .base import GroupAddressSubentryFlow, address_selector

SCENE_TYPE = "17.001"


class SceneSubentryFlowHandler(GroupAddressSubentryFlow):
    """Add or change a scene."""

    required_addresses = (CONF_SCENE_ADDRESS,)

    def _schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_NAME): selector.TextSelector(),
                vol.Required(CONF_SCENE_ADDRESS): address_selector(),
                vol.Required(CONF_SCENE_NUMBER, default=1): selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        min=1, max=64, step=1, mode=selector.NumberSelectorMode.BOX
                    )
                ),
            }
        )

    def _validate(self, data: dict[str, Any]) -> dict[str, str]:
        """A whole scene number 1..64; the type is saved for the group monitor's names."""
        number = data.get(CONF_SCENE_NUMBER)
        if not isinstance(number, int | float) or number != int(number) or not 1 <= number <= 64:
            return {CONF_SCENE_NUMBER: "invalid_scene_number"}
        data[CONF_SCENE_NUMBER] = int(number)
        data[CONF_VALUE_TYPE] = SCENE_TYPE
        return {}
