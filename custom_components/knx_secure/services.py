"""Services: send a group value, read a group value, register addresses for events."""

from __future__ import annotations

from typing import TYPE_CHECKING

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .const import (
    ATTR_ADDRESS,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_PAYLOAD,
    ATTR_REMOVE,
    ATTR_TYPE,
    ATTR_VALUE,
    DOMAIN,
    SERVICE_EVENT_REGISTER,
    SERVICE_READ,
    SERVICE_SEND,
)
from .events import async_register_addresses
from .knx.address import GroupAddress
from .knx.dpt import get_dpt
from .knx.errors import AddressError, DPTError, FrameError
from .knx.telegram import MAX_SMALL_VALUE, GroupValue, group_value_from_hex

if TYPE_CHECKING:
    from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator

SEND_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Required(ATTR_ADDRESS): cv.string,
            vol.Exclusive(ATTR_VALUE, "value"): vol.Any(
                bool, vol.All(vol.Coerce(int), vol.Range(min=0, max=MAX_SMALL_VALUE))
            ),
            vol.Exclusive(ATTR_PAYLOAD, "value"): cv.string,
            vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        }
    ),
    cv.has_at_least_one_key(ATTR_VALUE, ATTR_PAYLOAD),
)

READ_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_ADDRESS): cv.string,
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    }
)


EVENT_REGISTER_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_ADDRESS): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(ATTR_TYPE): cv.string,
        vol.Optional(ATTR_REMOVE, default=False): cv.boolean,
    }
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's services."""
    hass.services.async_register(
        DOMAIN, SERVICE_EVENT_REGISTER, _async_event_register, schema=EVENT_REGISTER_SCHEMA
    )
    hass.services.async_register(DOMAIN, SERVICE_SEND, _async_send, schema=SEND_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_READ,
        _async_read,
        schema=READ_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )


def _coordinator(call: ServiceCall) -> KNXSecureCoordinator:
    """Return the coordinator of the entry the call names, or of the only loaded entry."""
    return coordinator_of(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))


def coordinator_of(hass: HomeAssistant, entry_id: str | None) -> KNXSecureCoordinator:
    """The coordinator of the loaded entry ``entry_id``, or of the only loaded entry when
    None; ServiceValidationError saying what is wrong otherwise."""
    if entry_id:
        entry: KNXSecureConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="entry_not_found",
                translation_placeholders={"entry_id": entry_id},
            )
        if entry.state is not ConfigEntryState.LOADED:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="entry_not_loaded",
                translation_placeholders={"entry": entry.title},
            )
        return entry.runtime_data
    loaded: list[KNXSecureConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    if not loaded:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_loaded_entry")
    if len(loaded) > 1:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="multiple_entries")
    return loaded[0].runtime_data


def _group_address(call: ServiceCall) -> GroupAddress:
    text = call.data[ATTR_ADDRESS]
    try:
        return GroupAddress.parse(text)
    except AddressError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_group_address",
            translation_placeholders={"address": text},
        ) from err


def _value(call: ServiceCall) -> bool | GroupValue:
    if ATTR_VALUE in call.data:
        value: bool | int = call.data[ATTR_VALUE]
        return value
    text = call.data[ATTR_PAYLOAD]
    try:
        return group_value_from_hex(text)
    except FrameError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_payload",
            translation_placeholders={"payload": text},
        ) from err


async def _async_event_register(call: ServiceCall) -> None:
    """Fire knx_secure_event for telegrams on these addresses (or stop, with remove)."""
    addresses = []
    for text in call.data[ATTR_ADDRESS]:
        try:
            addresses.append(str(GroupAddress.parse(text)))
        except AddressError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_group_address",
                translation_placeholders={"address": text},
            ) from err
    dpt_id = None
    if type_text := call.data.get(ATTR_TYPE):
        try:
            dpt_id = get_dpt(type_text).id
        except DPTError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_type",
                translation_placeholders={"type": type_text},
            ) from err
    async_register_addresses(call.hass, addresses, dpt_id, remove=call.data[ATTR_REMOVE])


async def _async_send(call: ServiceCall) -> None:
    """Send a GroupValueWrite."""
    address = _group_address(call)
    value = _value(call)
    await _coordinator(call).async_write(address, value)


async def _async_read(call: ServiceCall) -> ServiceResponse:
    """Send a GroupValueRead and return the answer."""
    address = _group_address(call)
    telegram = await _coordinator(call).async_read(address)
    return {
        "address": str(address),
        "source": str(telegram.source),
        "secure": telegram.secure,
        "value": telegram.json_value,
    }
