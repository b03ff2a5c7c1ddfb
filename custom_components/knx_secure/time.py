"""Times of day: a DPT 10.001 group address, optionally with a status address."""

from __future__ import annotations

from datetime import time

from homeassistant.components.time import TimeEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .clock_entity import (
    TIME_DPT,
    KNXSecureClockEntity,
    time_from_knx,
    time_from_state,
    time_to_knx,
)
from .const import SUBENTRY_TIME
from .coordinator import KNXSecureConfigEntry
from .entity import async_add_subentry_entities

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one time per time subentry."""
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_TIME, KNXSecureTime)


class KNXSecureTime(KNXSecureClockEntity[time], TimeEntity):
    """A KNX time of day (see clock_entity); written without a weekday ("no day")."""

    _device_model = "Time"
    _dpt_id = TIME_DPT
    _to_knx = staticmethod(time_to_knx)
    _from_knx = staticmethod(time_from_knx)
    _from_state = staticmethod(time_from_state)
