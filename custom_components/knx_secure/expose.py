"""Exposes: Home Assistant values on the bus, and answers to the reads of them.

An expose subentry names a group address, a datapoint type and where the value comes from:
an entity's state or one of its attributes, or, without an entity, Home Assistant's clock
(10.001 time, 11.001 date, 19.001 date and time: a KNX time server). The value is written
when it changes (at most once per cool-down, the last value wins), written again every
period if one is set, and sent as the GroupValueResponse to every GroupValueRead of the
address. The coordinator encodes and sends (Data Secure when the address has a key);
nothing here touches bytes. Exposes have no entity of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import (
    async_call_later,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from .const import (
    CONF_EXPOSE_ADDRESS,
    CONF_EXPOSE_ATTRIBUTE,
    CONF_EXPOSE_COOLDOWN,
    CONF_EXPOSE_ENTITY,
    CONF_EXPOSE_PERIOD,
    CONF_VALUE_TYPE,
    DOMAIN,
    SUBENTRY_EXPOSE,
)
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .knx.address import GroupAddress
from .knx.dpt import DPT, REGISTRY, DPTValue, FieldValue, get_dpt
from .knx.errors import DPTError

_LOGGER = logging.getLogger(__name__)

TIME_TYPE: Final = "10.001"
DATE_TYPE: Final = "11.001"
DATE_TIME_TYPE: Final = "19.001"
#: The types a clock expose (no entity) can send: what each says of the current moment.
CLOCK_TYPES: Final = (TIME_TYPE, DATE_TYPE, DATE_TIME_TYPE)
# Value shapes (``DPT.describe()["value"]``) a state or attribute converts to.
_SCALAR_SHAPES: Final = frozenset({"bool", "integer", "number", "string", "enum"})
# States that mean on / off for DPT 1 (besides the type's own names, e.g. "up", "open").
_TRUE_STATES: Final = frozenset({"on", "home", "open", "true", "1"})
_FALSE_STATES: Final = frozenset({"off", "not_home", "closed", "false", "0"})
_WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def expose_types() -> dict[str, DPT]:
    """Every type an expose can send: scalar values and the three clock types."""
    return {
        dpt_id: dpt
        for dpt_id, dpt in REGISTRY.items()
        if dpt.sub is not None
        and (dpt.describe()["value"] in _SCALAR_SHAPES or dpt_id in CLOCK_TYPES)
    }


def expose_type(text: object) -> DPT | None:
    """The expose type a form value names ("9.001", "temperature"), or None."""
    if not isinstance(text, str):
        return None
    try:
        dpt = get_dpt(text.strip())
    except DPTError:
        return None
    return dpt if dpt.id in expose_types() else None


def clock_value(dpt_id: str, now: datetime) -> DPTValue:
    """What a clock expose of this type sends at local time now."""
    day = _WEEKDAYS[now.weekday()]
    time_of_day: dict[str, FieldValue] = {
        "hour": now.hour,
        "minutes": now.minute,
        "seconds": now.second,
    }
    calendar_day: dict[str, FieldValue] = {"year": now.year, "month": now.month, "day": now.day}
    if dpt_id == TIME_TYPE:
        return {**time_of_day, "day": day}
    if dpt_id == DATE_TYPE:
        return calendar_day
    dst = bool(now.dst())
    return {
        **calendar_day,
        **time_of_day,
        "day_of_week": day,
        "dst": dst,
        "external_sync": False,
        "source_reliable": True,
    }


def state_value(dpt: DPT, raw: Any) -> DPTValue | None:
    """The value of a state or attribute as dpt takes it; None when there is none (unknown,
    unavailable) or it does not convert (logged)."""
    if raw is None or raw in (STATE_UNKNOWN, STATE_UNAVAILABLE):
        return None
    try:
        return _convert(dpt, raw)
    except (TypeError, ValueError) as err:
        _LOGGER.warning("Cannot send %r as DPT %s: %s", raw, dpt.id, err)
        return None


def _convert(dpt: DPT, raw: Any) -> DPTValue:
    shape = dpt.describe()["value"]
    if shape == "bool":
        return _as_bool(raw)
    if shape == "integer":
        return round(float(raw))
    if shape == "number":
        return float(raw)
    if dpt.id in CLOCK_TYPES:
        return clock_value(dpt.id, _as_datetime(dpt.id, raw))
    return str(raw)  # texts and named states (enums)


def _as_bool(raw: Any) -> DPTValue:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float):
        return raw != 0
    text = str(raw).strip().lower()
    if text in _TRUE_STATES:
        return True
    if text in _FALSE_STATES:
        return False
    return text  # the type's own names ("up", "open", "start"): the codec checks them


def _as_datetime(dpt_id: str, raw: Any) -> datetime:
    """A local date and time from a datetime, date or time value or its text (an input
    datetime's state, "2024-02-29 12:30:00", "12:30:00" or "2024-02-29")."""
    if isinstance(raw, datetime):
        return dt_util.as_local(raw) if raw.tzinfo else raw
    if isinstance(raw, date):
        return datetime.combine(raw, time())
    if isinstance(raw, time):
        return datetime.combine(dt_util.now().date(), raw)
    text = str(raw).strip()
    if (moment := dt_util.parse_datetime(text)) is not None:
        return _as_datetime(dpt_id, moment)
    if dpt_id != DATE_TYPE and (clock := dt_util.parse_time(text)) is not None:
        return _as_datetime(dpt_id, clock)
    if (day := dt_util.parse_date(text)) is not None:
        return _as_datetime(dpt_id, day)
    raise ValueError(f"{text!r} is not a date or time")


@dataclass(frozen=True, slots=True)
class ExposeConfig:
    """One expose subentry's settings."""

    name: str
    address: GroupAddress
    dpt: DPT
    entity_id: str | None  # None: the clock
    attribute: str | None
    cooldown: float
    period: float  # 0: no periodic resend

    @classmethod
    def from_subentry(cls, subentry: ConfigSubentry) -> ExposeConfig:
        data: Mapping[str, Any] = subentry.data
        return cls(
            name=subentry.title,
            address=GroupAddress.parse(data[CONF_EXPOSE_ADDRESS]),
            dpt=get_dpt(data[CONF_VALUE_TYPE]),
            entity_id=data.get(CONF_EXPOSE_ENTITY) or None,
            attribute=data.get(CONF_EXPOSE_ATTRIBUTE) or None,
            cooldown=float(data.get(CONF_EXPOSE_COOLDOWN) or 0),
            period=float(data.get(CONF_EXPOSE_PERIOD) or 0),
        )


class Expose:
    """Send one Home Assistant value to its group address and answer reads of it."""

    def __init__(
        self, hass: HomeAssistant, coordinator: KNXSecureCoordinator, config: ExposeConfig
    ) -> None:
        self.hass = hass
        self.coordinator = coordinator
        self.config = config
        self._last_sent: DPTValue | None = None  # the last value written
        self._pending: DPTValue | None = None  # a change waiting for the cool-down
        self._cooldown_until = 0.0
        self._cooldown_timer: CALLBACK_TYPE | None = None
        self._unsubscribe: list[CALLBACK_TYPE] = []

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Follow the source, answer reads, resend periodically; return the stop callback."""
        config = self.config
        add = self._unsubscribe.append
        add(self.coordinator.async_add_read_listener(config.address, self._handle_read))
        if config.entity_id is not None:
            add(
                async_track_state_change_event(
                    self.hass, [config.entity_id], self._handle_state_change
                )
            )
        if config.period > 0:
            add(
                async_track_time_interval(
                    self.hass, self._handle_period, timedelta(seconds=config.period)
                )
            )
        add(self.coordinator.async_add_availability_listener(self._handle_availability))
        self._handle_availability()
        return self.async_stop

    @callback
    def async_stop(self) -> None:
        while self._unsubscribe:
            self._unsubscribe.pop()()
        self._cancel_cooldown_timer()

    def current_value(self) -> DPTValue | None:
        """The value now: the clock's, or the entity's state or attribute (None: none)."""
        config = self.config
        if config.entity_id is None:
            return clock_value(config.dpt.id, dt_util.now())
        state = self.hass.states.get(config.entity_id)
        return self._value_of(state)

    def _value_of(self, state: State | None) -> DPTValue | None:
        if state is None:
            return None
        if self.config.attribute is None:
            raw: Any = state.state
        else:
            raw = state.attributes.get(self.config.attribute)
        return state_value(self.config.dpt, raw)

    # --- triggers ---------------------------------------------------------------------------

    @callback
    def _handle_read(self) -> None:
        """A device asks for the value: answer with the current one (if there is one)."""
        if (value := self.current_value()) is None:
            return
        self._send(value, respond=True)

    @callback
    def _handle_state_change(self, event: Event[EventStateChangedData]) -> None:
        """The entity changed: send its new value (once the cool-down is over)."""
        value = self._value_of(event.data["new_state"])
        if value is None:
            return
        self._pending = value
        self._send_when_cooled_down()

    @callback
    def _handle_period(self, _now: datetime) -> None:
        if (value := self.current_value()) is not None:
            self._send(value)

    @callback
    def _handle_availability(self) -> None:
        """Connected: a clock sends the time at once (devices set their clocks)."""
        if self.coordinator.connected and self.config.entity_id is None:
            self._handle_period(dt_util.now())

    # --- sending ----------------------------------------------------------------------------

    @callback
    def _send_when_cooled_down(self) -> None:
        """Send the pending value now, or when the cool-down ends (the last value wins)."""
        if self._cooldown_timer is not None:
            return  # the timer sends whatever is pending then
        wait = self._cooldown_until - self.hass.loop.time()
        if wait > 0:
            self._cooldown_timer = async_call_later(self.hass, wait, self._handle_cooled_down)
            return
        self._send_pending()

    @callback
    def _handle_cooled_down(self, _now: datetime) -> None:
        self._cooldown_timer = None
        self._send_pending()

    @callback
    def _send_pending(self) -> None:
        """Send the entity's latest value unless the bus has it already."""
        value, self._pending = self._pending, None
        if value is not None and value != self._last_sent:
            self._send(value)

    @callback
    def _cancel_cooldown_timer(self) -> None:
        if self._cooldown_timer is not None:
            self._cooldown_timer()
            self._cooldown_timer = None

    @callback
    def _send(self, value: DPTValue, *, respond: bool = False) -> None:
        if not respond:
            self._last_sent = value
            self._cooldown_until = self.hass.loop.time() + self.config.cooldown
        self.coordinator.entry.async_create_background_task(
            self.hass, self._async_send(value, respond), f"{DOMAIN} expose {self.config.address}"
        )

    async def _async_send(self, value: DPTValue, respond: bool) -> None:
        address, dpt = self.config.address, self.config.dpt
        try:
            if respond:
                await self.coordinator.async_respond(address, dpt, value)
            else:
                await self.coordinator.async_write_dpt(address, dpt, value)
        except HomeAssistantError as err:
            # Not connected, or a value the type cannot carry: the next change tries again.
            _LOGGER.warning("Expose %s could not send to %s: %s", self.config.name, address, err)


@callback
def async_setup_exposes(hass: HomeAssistant, entry: KNXSecureConfigEntry) -> None:
    """Start one expose per expose subentry of the entry; they stop when it unloads."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type != SUBENTRY_EXPOSE:
            continue
        expose = Expose(hass, entry.runtime_data, ExposeConfig.from_subentry(subentry))
        entry.async_on_unload(expose.async_start())
