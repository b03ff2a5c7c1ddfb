"""Times of day: a DPT 10.001 group address, optionally with a status address."""

from __future__ import annotations

from datetime import time

from homeassistant.components.time import TimeEntity

from .clock_entity import TIME, KNXSecureClockEntity, clock_setup_entry
from .const import SUBENTRY_TIME

PARALLEL_UPDATES = 0


class KNXSecureTime(KNXSecureClockEntity[time], TimeEntity):
    """A KNX time of day (see clock_entity); written without a weekday ("no day")."""

    _device_model = "Time"
    _clock_type = TIME


async_setup_entry = clock_setup_entry(SUBENTRY_TIME, KNXSecureTime)
