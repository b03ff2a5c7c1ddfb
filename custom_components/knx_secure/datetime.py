"""Dates and times: a DPT 19.001 group address, optionally with a status address."""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.datetime import DateTimeEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .clock_entity import (
    DATETIME_DPT,
    KNXSecureClockEntity,
    datetime_from_knx,
    datetime_from_state,
    datetime_to_knx,
)
from .const import SUBENTRY_DATETIME
from .coordinator import KNXSecureConfigEntry
from .entity import async_add_subentry_entities

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one date-time per date-time subentry."""
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_DATETIME, KNXSecureDateTime)


class KNXSecureDateTime(KNXSecureClockEntity[datetime], DateTimeEntity):
    """A KNX date and time (see clock_entity: local time of Home Assistant's zone)."""

    _device_model = "Date and time"
    _dpt_id = DATETIME_DPT
    _to_knx = staticmethod(datetime_to_knx)
    _from_knx = staticmethod(datetime_from_knx)
    _from_state = staticmethod(datetime_from_state)
