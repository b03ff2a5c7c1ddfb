"""The group monitor's websocket API (admins only): info, history, live rows, send, clear."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.decorators import (
    async_response,
    require_admin,
    websocket_command,
)
from homeassistant.components.websocket_api.messages import event_message
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .const import DOMAIN
from .knx.address import GroupAddress
from .knx.dpt import REGISTRY, get_dpt
from .knx.errors import AddressError, DPTError, FrameError
from .knx.telegram import group_value_from_hex
from .monitor import SIGNAL_TELEGRAM, MonitorRow
from .services import coordinator_of

if TYPE_CHECKING:
    from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator

PREFIX: Final = f"{DOMAIN}/monitor"
SERVICE_WRITE: Final = "write"
SERVICE_READ: Final = "read"


@callback
def async_register_commands(hass: HomeAssistant) -> None:
    """Register the commands (once, whatever the number of entries)."""
    for command in (ws_info, ws_history, ws_subscribe, ws_send, ws_clear):
        async_register_command(hass, command)


def _loaded(hass: HomeAssistant) -> list[KNXSecureConfigEntry]:
    entries: list[KNXSecureConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    return entries


@require_admin
@websocket_command({vol.Required("type"): f"{PREFIX}/info"})
@callback
def ws_info(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The loaded gateways with their known addresses, and the datapoint types for sending."""
    entries = [
        {
            "entry_id": entry.entry_id,
            "title": entry.title,
            "connected": entry.runtime_data.connected,
            "addresses": {
                text: dict(info) for text, info in entry.runtime_data.monitor.addresses().items()
            },
        }
        for entry in _loaded(hass)
    ]
    dpts = [
        {"id": dpt.id, "name": dpt.name, "unit": dpt.unit}
        for dpt in sorted(set(REGISTRY.values()), key=lambda d: (d.main, d.sub or 0))
    ]
    connection.send_result(msg["id"], {"entries": entries, "dpts": dpts})


@require_admin
@websocket_command({vol.Required("type"): f"{PREFIX}/history", vol.Optional("entry_id"): str})
@callback
def ws_history(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The stored and recent rows of every loaded entry (or one), oldest first."""
    rows: list[MonitorRow] = []
    for entry in _loaded(hass):
        if msg.get("entry_id") in (None, entry.entry_id):
            rows.extend(entry.runtime_data.monitor.rows)
    rows.sort(key=lambda row: row["time"])
    connection.send_result(msg["id"], {"rows": rows})


@require_admin
@websocket_command({vol.Required("type"): f"{PREFIX}/subscribe"})
@callback
def ws_subscribe(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Every new row of every entry, as events of this subscription."""

    @callback
    def forward(row: MonitorRow) -> None:
        connection.send_message(event_message(msg["id"], row))

    connection.subscriptions[msg["id"]] = async_dispatcher_connect(hass, SIGNAL_TELEGRAM, forward)
    connection.send_result(msg["id"])


@require_admin
@websocket_command(
    {
        vol.Required("type"): f"{PREFIX}/send",
        vol.Optional("entry_id"): str,
        vol.Required("address"): str,
        vol.Required("service"): vol.In([SERVICE_WRITE, SERVICE_READ]),
        vol.Optional("dpt"): str,
        vol.Optional("value"): vol.Any(bool, int, float, str, dict),
        vol.Optional("payload"): str,
    }
)
@async_response
async def ws_send(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Send a GroupValueWrite (a value of a type, or raw hex octets) or a GroupValueRead."""
    try:
        coordinator = coordinator_of(hass, msg.get("entry_id"))
        address = GroupAddress.parse(msg["address"])
        if msg["service"] == SERVICE_READ:
            telegram = await coordinator.async_read(address)
            connection.send_result(msg["id"], {"source": str(telegram.source)})
            return
        await _async_write(coordinator, address, msg)
    except AddressError as err:
        connection.send_error(msg["id"], "invalid_address", str(err))
    except (DPTError, FrameError, ServiceValidationError) as err:
        connection.send_error(msg["id"], "invalid_value", str(err))
    except HomeAssistantError as err:
        connection.send_error(msg["id"], "send_failed", str(err))
    else:
        connection.send_result(msg["id"])


async def _async_write(
    coordinator: KNXSecureCoordinator, address: GroupAddress, msg: dict[str, Any]
) -> None:
    if "payload" in msg:
        await coordinator.async_write(address, group_value_from_hex(msg["payload"]))
        return
    if "dpt" not in msg or "value" not in msg:
        raise FrameError("a write needs a datapoint type and a value, or a payload in hex")
    await coordinator.async_write_dpt(address, get_dpt(msg["dpt"]), msg["value"])


@require_admin
@websocket_command({vol.Required("type"): f"{PREFIX}/clear", vol.Optional("entry_id"): str})
@callback
def ws_clear(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Forget the rows of every loaded entry (or one)."""
    for entry in _loaded(hass):
        if msg.get("entry_id") in (None, entry.entry_id):
            entry.runtime_data.monitor.clear()
    connection.send_result(msg["id"])
