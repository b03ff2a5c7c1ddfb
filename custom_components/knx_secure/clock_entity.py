"""What the date (11.001), time (10.001) and date-time (19.001) entities share.

Each writes its value to a group address and shows the value of its status address (or
of the write address without one); with "respond to read" it answers a GroupValueRead of
the write address with its value. KNX carries local wall-clock time without a zone: a
date-time is read and written in Home Assistant's time zone. The last value is restored
until the bus sends one (and answers reads after a restart).

A platform module is its entity class (with its ``ClockType``) and
``async_setup_entry = clock_setup_entry(subentry type, entity class)``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity
from homeassistant.util import dt as dt_util

from .const import CONF_RESPOND_TO_READ, CONF_STATE_ADDRESS, CONF_SYNC_STATE, CONF_WRITE_ADDRESS
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import KNXSecureSubentryEntity, async_add_subentry_entities
from .knx.address import GroupAddress
from .knx.dpt import DPT, DPTValue, get_dpt
from .read_answer import async_answer_reads

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


@dataclass(frozen=True, slots=True)
class ClockType[T: (date, time, datetime)]:
    """How an entity carries its value: the datapoint type, and the conversions to and
    from a value of that type and from a restored state."""

    dpt_id: str
    to_knx: Callable[[T], dict[str, Any]]
    from_knx: Callable[[DPTValue], T | None]
    from_state: Callable[[str], T | None]


DATE = ClockType[date](DATE_DPT, date_to_knx, date_from_knx, date_from_state)
TIME = ClockType[time](TIME_DPT, time_to_knx, time_from_knx, time_from_state)
DATETIME = ClockType[datetime](
    DATETIME_DPT, datetime_to_knx, datetime_from_knx, datetime_from_state
)


class KNXSecureClockEntity[T: (date, time, datetime)](KNXSecureSubentryEntity, RestoreEntity):
    """A date, time or date-time on a group address (see the module docstring)."""

    _clock_type: ClockType[T]
    if TYPE_CHECKING:
        # Only for the type checker: a class-level annotation would hide the cached-property
        # bookkeeping DateEntity, TimeEntity and DateTimeEntity attach to their own.
        _attr_native_value: T | None

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize from the subentry's addresses."""
        super().__init__(coordinator, subentry)
        data = subentry.data
        self._dpt: DPT = get_dpt(self._clock_type.dpt_id)
        self._write_address = GroupAddress.parse(data[CONF_WRITE_ADDRESS])
        self._state_address = (
            GroupAddress.parse(data[CONF_STATE_ADDRESS]) if data.get(CONF_STATE_ADDRESS) else None
        )
        self._sync_state: bool = data.get(CONF_SYNC_STATE, True)
        self._respond_to_read: bool = data.get(CONF_RESPOND_TO_READ, False)
        self._attr_native_value = None  # the platforms' base classes have no default

    async def async_added_to_hass(self) -> None:
        """Restore the last value, then follow the bus (and read the status at start);
        answer reads if so configured."""
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is not None and last.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE):
            self._attr_native_value = self._clock_type.from_state(last.state)
        listen = self._state_address or self._write_address
        self.async_on_remove(
            self.coordinator.async_add_dpt_listener(listen, self._dpt, self._handle_value)
        )
        if self._state_address is not None and self._sync_state:
            self.async_on_remove(self.coordinator.async_add_status_address(self._state_address))
        if self._respond_to_read:
            self.async_on_remove(
                async_answer_reads(
                    self.coordinator, self._write_address, self._dpt, self._knx_value
                )
            )

    def _knx_value(self) -> DPTValue | None:
        """The entity's value as a value of its type (None: it has none)."""
        value = self._attr_native_value
        return None if value is None else self._clock_type.to_knx(value)

    @callback
    def _handle_value(self, value: DPTValue) -> None:
        if (parsed := self._clock_type.from_knx(value)) is None:
            return
        self._attr_native_value = parsed
        self.async_write_ha_state()

    async def async_set_value(self, value: T) -> None:
        """Send value; the state follows the status address (or the confirmed write)."""
        knx_value = self._clock_type.to_knx(value)
        await self.coordinator.async_write_dpt(self._write_address, self._dpt, knx_value)


type PlatformSetup = Callable[
    [HomeAssistant, KNXSecureConfigEntry, AddConfigEntryEntitiesCallback],
    Coroutine[Any, Any, None],
]


def clock_setup_entry(
    subentry_type: str, entity_class: type[KNXSecureClockEntity[Any]]
) -> PlatformSetup:
    """The platform's ``async_setup_entry``: one entity per subentry of ``subentry_type``."""

    async def async_setup_entry(
        hass: HomeAssistant,
        entry: KNXSecureConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        async_add_subentry_entities(entry, async_add_entities, subentry_type, entity_class)

    return async_setup_entry
