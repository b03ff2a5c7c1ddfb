"""What the date (11.001), time (10.001) and date-time (19.001) entities share.

Each writes its value to a group address and shows the value of its status address (or
of the write address without one). KNX carries local wall-clock time without a zone:
a date-time is read and written in Home Assistant's time zone. The last value is
restored until the bus sends one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import callback
from homeassistant.helpers.restore_state import RestoreEntity
from homeassistant.util import dt as dt_util

from .const import CONF_STATE_ADDRESS, CONF_SYNC_STATE, CONF_WRITE_ADDRESS
from .coordinator import KNXSecureCoordinator
from .entity import KNXSecureSubentryEntity
from .knx.address import GroupAddress
from .knx.dpt import DPT, DPTValue, get_dpt

DATE_DPT = "11.001"
TIME_DPT = "10.001"
DATETIME_DPT = "19.001"


def date_to_knx(value: date) -> dict[str, Any]:
    return {"year": value.year, "month": value.month, "day": value.day}


def date_from_knx(value: DPTValue) -> date | None:
    """The date of an 11.001 value (None: not a date)."""
    if not isinstance(value, dict):
        return None
    try:
        return date(int(value["year"]), int(value["month"]), int(value["day"]))  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        return None  # 31 February: the type's ranges allow it, the calendar does not


def time_to_knx(value: time) -> dict[str, Any]:
    return {"hour": value.hour, "minutes": value.minute, "seconds": value.second}


def time_from_knx(value: DPTValue) -> time | None:
    """The time of a 10.001 value (its weekday is not shown)."""
    if not isinstance(value, dict):
        return None
    try:
        return time(int(value["hour"]), int(value["minutes"]), int(value["seconds"]))  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        return None


def datetime_to_knx(value: datetime) -> dict[str, Any]:
    """A 19.001 value of value in Home Assistant's time zone (KNX carries local time)."""
    local = dt_util.as_local(value)
    return {
        "year": local.year,
        "month": local.month,
        "day": local.day,
        "hour": local.hour,
        "minutes": local.minute,
        "seconds": local.second,
        "day_of_week": local.strftime("%A").lower(),
        "dst": bool(local.dst()),
    }


def datetime_from_knx(value: DPTValue) -> datetime | None:
    """The moment of a 19.001 value read as Home Assistant's local time (None when the
    clock marks its date or time invalid, or flags a fault)."""
    if not isinstance(value, dict) or value.get("fault"):
        return None
    day = date_from_knx(value)
    if day is None or value.get("hour") is None:
        return None
    hour = int(value["hour"])  # type: ignore[arg-type]
    try:
        clock = time(0 if hour == 24 else hour, int(value["minutes"]), int(value["seconds"]))  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        return None
    moment = datetime.combine(day, clock, tzinfo=dt_util.get_default_time_zone())
    return moment + timedelta(days=1) if hour == 24 else moment  # 24:00:00 ends the day


def date_from_state(state: str) -> date | None:
    try:
        return date.fromisoformat(state)
    except ValueError:
        return None


def time_from_state(state: str) -> time | None:
    try:
        return time.fromisoformat(state)
    except ValueError:
        return None


def datetime_from_state(state: str) -> datetime | None:
    return dt_util.parse_datetime(state)


class KNXSecureClockEntity[T: (date, time, datetime)](KNXSecureSubentryEntity, RestoreEntity):
    """A date, time or date-time on a group address (see the module docstring)."""

    _dpt_id: str
    if TYPE_CHECKING:
        # Only for the type checker: a class-level annotation would hide the cached-property
        # bookkeeping DateEntity, TimeEntity and DateTimeEntity attach to their own.
        _attr_native_value: T | None

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize from the subentry's addresses."""
        super().__init__(coordinator, subentry)
        data = subentry.data
        self._dpt: DPT = get_dpt(self._dpt_id)
        self._write_address = GroupAddress.parse(data[CONF_WRITE_ADDRESS])
        self._state_address = (
            GroupAddress.parse(data[CONF_STATE_ADDRESS]) if data.get(CONF_STATE_ADDRESS) else None
        )
        self._sync_state: bool = data.get(CONF_SYNC_STATE, True)
        self._attr_native_value = None  # the platforms' base classes have no default

    # The subclass's conversions (static: plain functions of this module).
    _to_knx: Callable[[T], dict[str, Any]]
    _from_knx: Callable[[DPTValue], T | None]
    _from_state: Callable[[str], T | None]

    async def async_added_to_hass(self) -> None:
        """Restore the last value, then follow the bus (and read the status at start)."""
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is not None and last.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE):
            self._attr_native_value = self._from_state(last.state)
        listen = self._state_address or self._write_address
        self.async_on_remove(
            self.coordinator.async_add_dpt_listener(listen, self._dpt, self._handle_value)
        )
        if self._state_address is not None and self._sync_state:
            self.async_on_remove(self.coordinator.async_add_status_address(self._state_address))

    @callback
    def _handle_value(self, value: DPTValue) -> None:
        if (parsed := self._from_knx(value)) is None:
            return
        self._attr_native_value = parsed
        self.async_write_ha_state()

    async def async_set_value(self, value: T) -> None:
        """Send value; the state follows the status address (or the confirmed write)."""
        await self.coordinator.async_write_dpt(self._write_address, self._dpt, self._to_knx(value))
