"""Dates: a DPT 11.001 group address, optionally with a status address."""

from __future__ import annotations

from datetime import date

from homeassistant.components.date import DateEntity

from .clock_entity import DATE, KNXSecureClockEntity, clock_setup_entry
from .const import SUBENTRY_DATE

PARALLEL_UPDATES = 0


class KNXSecureDate(KNXSecureClockEntity[date], DateEntity):
    """A KNX date (see clock_entity)."""

    _device_model = "Date"
    _clock_type = DATE


async_setup_entry = clock_setup_entry(SUBENTRY_DATE, KNXSecureDate)
