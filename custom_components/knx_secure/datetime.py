"""Dates and times: a DPT 19.001 group address, optionally with a status address."""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.datetime import DateTimeEntity

from .clock_entity import DATETIME, KNXSecureClockEntity, clock_setup_entry
from .const import SUBENTRY_DATETIME

PARALLEL_UPDATES = 0


class KNXSecureDateTime(KNXSecureClockEntity[datetime], DateTimeEntity):
    """A KNX date and time (see clock_entity: local time of Home Assistant's zone)."""

    _device_model = "Date and time"
    _clock_type = DATETIME


async_setup_entry = clock_setup_entry(SUBENTRY_DATETIME, KNXSecureDateTime)
