"""A weather station: a sensor device whose values have the types of a KNX weather station.

Each value is a field of its installation file entry: ``{"address": GA, "value": V,
"period": s, "variation": x}`` like a sensor's value, its type fixed by the field
(``WEATHER_STATION_TYPES``). The station publishes them periodically and answers reads
(``SensorDevice``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ..address import IndividualAddress
from ..errors import InstallationError
from ..keyring import Keyring
from .sensor import SensorDevice, started, value_spec
from .spec import Spec

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = ["WEATHER_STATION_TYPES", "weather_station_from_spec"]

#: The station's values and their datapoint types.
WEATHER_STATION_TYPES: Final = {
    "temperature": "9.001",  # °C
    "brightness_south": "9.004",  # lx
    "brightness_west": "9.004",
    "brightness_east": "9.004",
    "brightness_north": "9.004",
    "wind_speed": "9.005",  # m/s
    "wind_direction": "5.003",  # degrees
    "rain_alarm": "1.005",
    "frost_alarm": "1.005",
    "humidity": "9.007",  # %
    "air_pressure": "9.006",  # Pa
}


def weather_station_from_spec(
    address: IndividualAddress,
    keyring: Keyring,
    bus: Bus,
    spec: Spec,
    *,
    status_delay: float,
) -> SensorDevice:
    """A weather station from ``{"temperature": {"address": GA, "value": V, "period": s,
    "variation": x}, "rain_alarm": {...}, ...}`` (any of ``WEATHER_STATION_TYPES``)."""
    unknown = sorted(
        key for key in spec if key not in WEATHER_STATION_TYPES and key not in _ENTRY_KEYS
    )
    if unknown:
        raise InstallationError(f"{unknown[0]}: not a weather station value")
    device = SensorDevice(address, keyring, bus, status_delay=status_delay)
    for key, dpt_id in WEATHER_STATION_TYPES.items():
        if (value := spec.get(key)) is None:
            continue
        if not isinstance(value, dict):
            raise InstallationError(f'{key}: {{"address": GA, "value": V}}, not {value!r}')
        try:
            device.add_value(value_spec({**value, "dpt": dpt_id}))
        except ValueError as err:  # InstallationError and DPTError are ValueErrors too
            raise InstallationError(f"{key}: {err}") from None
    if not device.values:
        raise InstallationError("a weather station needs at least one value")
    return started(device)


# The fields every installation file entry has besides its kind's own.
_ENTRY_KEYS = frozenset({"kind", "address", "name"})
