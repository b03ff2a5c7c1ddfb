"""Dates: a DPT 11.001 group address, optionally with a status address."""

from __future__ import annotations

from datetime import date

from homeassistant.components.date import DateEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .clock_entity import (
    DATE_DPT,
    KNXSecureClockEntity,
    date_from_knx,
    date_from_state,
    date_to_knx,
)
from .const import SUBENTRY_DATE
from .coordinator import KNXSecureConfigEntry
from .entity import async_add_subentry_entities

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one date per date subentry."""
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_DATE, KNXSecureDate)


class KNXSecureDate(KNXSecureClockEntity[date], DateEntity):
    """A KNX date (see clock_entity)."""

    _device_model = "Date"
    _dpt_id = DATE_DPT
    _to_knx = staticmethod(date_to_knx)
    _from_knx = staticmethod(date_from_knx)
    _from_state = staticmethod(date_from_state)
