"""Automation trigger "a telegram on a group address" (``knx_secure.telegram``).

    triggers:
      - trigger: knx_secure.telegram
        destination: ["1/2/3"]        # optional: any address when absent
        source: ["1.1.7"]             # optional
        group_value_write: true       # services (all true by default)
        group_value_response: true
        group_value_read: false
        incoming: true                # directions (both by default)
        outgoing: false
        type: "9.001"                 # optional: decode the value with this datapoint type

Rejected telegrams never fire it. The trigger variables are the group monitor's row
(``trigger.destination``, ``trigger.value``, ``trigger.secure``, ...). The same filters
are the device trigger of the gateway device (``device_trigger.py``).
"""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol
from homeassistant.const import CONF_PLATFORM, CONF_TYPE
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .knx.address import GroupAddress, IndividualAddress
from .knx.dpt import get_dpt
from .knx.errors import AddressError, DPTError, FrameError
from .knx.telegram import GroupValue, group_value_from_hex
from .monitor import DIRECTION_IN, SECURITY_REJECTED, SECURITY_SECURE, SIGNAL_TELEGRAM, MonitorRow

TRIGGER_TELEGRAM: Final = "telegram"
PLATFORM_TELEGRAM: Final = f"{DOMAIN}.{TRIGGER_TELEGRAM}"
CONF_DESTINATION: Final = "destination"
CONF_SOURCE: Final = "source"
CONF_WRITE: Final = "group_value_write"
CONF_RESPONSE: Final = "group_value_response"
CONF_READ: Final = "group_value_read"
CONF_INCOMING: Final = "incoming"
CONF_OUTGOING: Final = "outgoing"
CONF_ENTRY_ID: Final = "config_entry_id"
CONF_DPT: Final = "dpt"


def _group_address(value: Any) -> str:
    try:
        return str(GroupAddress.parse(str(value)))
    except AddressError as err:
        raise vol.Invalid(str(err)) from err


def _individual_address(value: Any) -> str:
    try:
        return str(IndividualAddress.parse(str(value)))
    except AddressError as err:
        raise vol.Invalid(str(err)) from err


def dpt_id(value: Any) -> str:
    """A datapoint type's id (``9.001``) from any form ``get_dpt`` takes."""
    try:
        return get_dpt(str(value)).id
    except DPTError as err:
        raise vol.Invalid(str(err)) from err


#: The filters, shared with the device trigger.
FILTER_SCHEMA: Final[dict[vol.Marker, Any]] = {
    vol.Optional(CONF_DESTINATION): vol.All(cv.ensure_list, [_group_address]),
    vol.Optional(CONF_SOURCE): vol.All(cv.ensure_list, [_individual_address]),
    vol.Optional(CONF_WRITE, default=True): cv.boolean,
    vol.Optional(CONF_RESPONSE, default=True): cv.boolean,
    vol.Optional(CONF_READ, default=True): cv.boolean,
    vol.Optional(CONF_INCOMING, default=True): cv.boolean,
    vol.Optional(CONF_OUTGOING, default=True): cv.boolean,
}

TRIGGER_SCHEMA: Final = cv.TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_PLATFORM): PLATFORM_TELEGRAM,
        **FILTER_SCHEMA,
        # "type" as the built-in KNX integration names it (the device trigger says "dpt":
        # "type" is the kind of device trigger there)
        vol.Optional(CONF_TYPE): dpt_id,
    }
)

_SERVICE_KEYS: Final = {"write": CONF_WRITE, "response": CONF_RESPONSE, "read": CONF_READ}


async def async_validate_trigger_config(hass: HomeAssistant, config: ConfigType) -> ConfigType:
    """Validate a telegram trigger."""
    validated: ConfigType = TRIGGER_SCHEMA(config)
    return validated


def row_matches(row: MonitorRow, config: ConfigType) -> bool:
    """Whether a monitor row passes the trigger's filters (rejected rows never do)."""
    if row["security"] == SECURITY_REJECTED or row["service"] is None:
        return False
    if not config.get(_SERVICE_KEYS[row["service"]], True):
        return False
    incoming = row["direction"] == DIRECTION_IN
    if not config.get(CONF_INCOMING if incoming else CONF_OUTGOING, True):
        return False
    # A device trigger follows its gateway's entry (None: a device that is none: nothing).
    if CONF_ENTRY_ID in config and row["entry_id"] != config[CONF_ENTRY_ID]:
        return False
    if (destinations := config.get(CONF_DESTINATION)) and row["destination"] not in destinations:
        return False
    return not ((sources := config.get(CONF_SOURCE)) and row["source"] not in sources)


def trigger_variables(row: MonitorRow, decode_as: str | None) -> dict[str, Any]:
    """The row as trigger variables; ``decode_as`` decodes the value with another type."""
    variables: dict[str, Any] = {**row, "secure": row["security"] == SECURITY_SECURE}
    if decode_as is not None and (value := _payload(row["payload"])) is not None:
        dpt = get_dpt(decode_as)
        try:
            variables.update(value=dpt.decode(value), dpt=dpt.id, unit=dpt.unit)
        except DPTError:
            variables.update(value=None, dpt=dpt.id, unit=dpt.unit)
    return variables


def _payload(json_value: int | str | None) -> GroupValue | None:
    if json_value is None or isinstance(json_value, int):
        return json_value
    try:
        return group_value_from_hex(json_value)
    except FrameError:
        return None


@callback
def async_follow_rows(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
    decode_as: str | None,
) -> CALLBACK_TYPE:
    """Run action for every monitor row that matches config (trigger and device trigger);
    ``decode_as``: a datapoint type that decodes the value instead of the configured one."""
    job = HassJob(action, f"{DOMAIN} telegram trigger {trigger_info}")
    trigger_data = trigger_info["trigger_data"]

    @callback
    def handle(row: MonitorRow) -> None:
        if row_matches(row, config):
            variables = {**trigger_data, **trigger_variables(row, decode_as)}
            hass.async_run_hass_job(job, {"trigger": variables})

    return async_dispatcher_connect(hass, SIGNAL_TELEGRAM, handle)


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Listen for telegrams that match the trigger."""
    return async_follow_rows(hass, config, action, trigger_info, config.get(CONF_TYPE))
