"""Device trigger of the gateway device: a telegram on a group address (the UI editor's way to
the ``knx_secure.telegram`` trigger, limited to this gateway's telegrams)."""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol
from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.const import CONF_DEVICE_ID, CONF_DOMAIN, CONF_PLATFORM, CONF_TYPE
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import selector
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .trigger import (
    CONF_DESTINATION,
    CONF_DPT,
    CONF_ENTRY_ID,
    CONF_INCOMING,
    CONF_OUTGOING,
    CONF_READ,
    CONF_RESPONSE,
    CONF_SOURCE,
    CONF_WRITE,
    FILTER_SCHEMA,
    TRIGGER_TELEGRAM,
    async_follow_rows,
    dpt_id,
)

TRIGGER_TYPES: Final = {TRIGGER_TELEGRAM}

TRIGGER_SCHEMA: Final = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_TYPE): vol.In(TRIGGER_TYPES),
        **FILTER_SCHEMA,
        vol.Optional(CONF_DPT): vol.Any(None, "", dpt_id),
    }
)


def _gateway_entry_id(hass: HomeAssistant, device_id: str) -> str | None:
    """The config entry whose gateway device this is (None for other devices)."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        return None
    for domain, identifier in device.identifiers:
        if domain == DOMAIN and identifier in device.config_entries:
            return identifier
    return None


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, Any]]:
    """The telegram trigger, on gateway devices only."""
    if _gateway_entry_id(hass, device_id) is None:
        return []
    return [
        {
            CONF_PLATFORM: "device",
            CONF_DOMAIN: DOMAIN,
            CONF_DEVICE_ID: device_id,
            CONF_TYPE: TRIGGER_TELEGRAM,
        }
    ]


async def async_get_trigger_capabilities(
    hass: HomeAssistant, config: ConfigType
) -> dict[str, vol.Schema]:
    """The filters, as fields of the UI editor."""
    text_list = selector.TextSelector(selector.TextSelectorConfig(multiple=True))
    return {
        "extra_fields": vol.Schema(
            {
                vol.Optional(CONF_DESTINATION): text_list,
                vol.Optional(CONF_SOURCE): text_list,
                vol.Optional(CONF_WRITE, default=True): selector.BooleanSelector(),
                vol.Optional(CONF_RESPONSE, default=True): selector.BooleanSelector(),
                vol.Optional(CONF_READ, default=True): selector.BooleanSelector(),
                vol.Optional(CONF_INCOMING, default=True): selector.BooleanSelector(),
                vol.Optional(CONF_OUTGOING, default=True): selector.BooleanSelector(),
                vol.Optional(CONF_DPT): selector.TextSelector(),
            }
        )
    }


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Follow the telegrams of the device's gateway entry."""
    config = TRIGGER_SCHEMA(config)
    entry_id = _gateway_entry_id(hass, config[CONF_DEVICE_ID])
    return async_follow_rows(
        hass,
        {**config, CONF_ENTRY_ID: entry_id},
        action,
        trigger_info,
        config.get(CONF_DPT) or None,
    )
