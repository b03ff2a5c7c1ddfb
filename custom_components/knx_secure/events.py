"""Events for telegrams on registered group addresses (service ``event_register``).

Each telegram (not rejected) on a registered address fires ``knx_secure_event`` with the
group monitor's row: destination, source, direction, service, the value (decoded with the
type given at registration, else the entity configuration's), and whether it was Data
Secure. Registrations last until Home Assistant stops.
"""

from __future__ import annotations

from typing import Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .monitor import SECURITY_REJECTED, SIGNAL_TELEGRAM, MonitorRow
from .trigger import trigger_variables

EVENT_TELEGRAM: Final = f"{DOMAIN}_event"
#: Registered group address -> the datapoint type to decode with (None: the configured one).
REGISTERED: HassKey[dict[str, str | None]] = HassKey(f"{DOMAIN}_event_addresses")


@callback
def async_setup_events(hass: HomeAssistant) -> None:
    """Fire events for the telegrams of registered addresses (once per Home Assistant)."""
    registered = hass.data.setdefault(REGISTERED, {})

    @callback
    def fire(row: MonitorRow) -> None:
        if row["destination"] not in registered or row["security"] == SECURITY_REJECTED:
            return
        data = trigger_variables(row, registered[row["destination"]])
        hass.bus.async_fire(EVENT_TELEGRAM, data)

    async_dispatcher_connect(hass, SIGNAL_TELEGRAM, fire)


@callback
def async_register_addresses(
    hass: HomeAssistant, addresses: list[str], dpt_id: str | None, *, remove: bool
) -> None:
    """Add (or remove) addresses whose telegrams fire events."""
    registered = hass.data.setdefault(REGISTERED, {})
    for address in addresses:
        if remove:
            registered.pop(address, None)
        else:
            registered[address] = dpt_id
