"""The values of a KNX weather station (their datapoint types) and the condition derived
from them. No Home Assistant entity code here: the weather platform and its subentry flow
share it, and tests check the rules directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .const import (
    ADDRESS_SUFFIX,
    CONF_BRIGHTNESS_EAST_ADDRESS,
    CONF_BRIGHTNESS_NORTH_ADDRESS,
    CONF_BRIGHTNESS_SOUTH_ADDRESS,
    CONF_BRIGHTNESS_WEST_ADDRESS,
    CONF_FROST_ALARM_ADDRESS,
    CONF_RAIN_ALARM_ADDRESS,
    CONF_TEMPERATURE_ADDRESS,
    CONF_WIND_SPEED_ADDRESS,
)
from .knx.devices import WEATHER_STATION_TYPES

#: The datapoint type of each address field of a weather subentry: the station's values
#: (``knx.devices.WEATHER_STATION_TYPES``, one table) with the address suffix.
WEATHER_TYPES: Final[Mapping[str, str]] = {
    f"{value}{ADDRESS_SUFFIX}": dpt_id for value, dpt_id in WEATHER_STATION_TYPES.items()
}
BRIGHTNESS_ADDRESSES: Final = (
    CONF_BRIGHTNESS_SOUTH_ADDRESS,
    CONF_BRIGHTNESS_WEST_ADDRESS,
    CONF_BRIGHTNESS_EAST_ADDRESS,
    CONF_BRIGHTNESS_NORTH_ADDRESS,
)

# Thresholds of the derived condition.
WINDY_SPEED: Final = 10.8  # m/s: Beaufort 6, a strong breeze
SUNNY_BRIGHTNESS: Final = 20_000.0  # lx: direct sun on one side of the station
PARTLY_CLOUDY_BRIGHTNESS: Final = 5_000.0  # lx
DAYLIGHT_BRIGHTNESS: Final = 10.0  # lx: below it, night


def derive_condition(values: Mapping[str, float | bool]) -> str | None:
    """The weather condition from the station's values (by address field), first rule that
    holds:

    1. rain alarm and (frost alarm or temperature at or below 0 °C): snowy-rainy
    2. rain alarm: rainy
    3. wind speed at or above 10.8 m/s: windy
    4. brightest direction at or above 20 000 lx: sunny
    5. at or above 5 000 lx: partly cloudy
    6. at or above 10 lx: cloudy
    7. below 10 lx: clear night (a station cannot tell clouds at night)
    8. no brightness known: None (unknown)
    """
    rain = values.get(CONF_RAIN_ALARM_ADDRESS) is True
    temperature = values.get(CONF_TEMPERATURE_ADDRESS)
    frost = values.get(CONF_FROST_ALARM_ADDRESS) is True or (
        isinstance(temperature, float | int) and temperature <= 0
    )
    if rain:
        return "snowy-rainy" if frost else "rainy"
    wind = values.get(CONF_WIND_SPEED_ADDRESS)
    if isinstance(wind, float | int) and not isinstance(wind, bool) and wind >= WINDY_SPEED:
        return "windy"
    brightness = [
        float(v)
        for key in BRIGHTNESS_ADDRESSES
        if isinstance(v := values.get(key), float | int) and not isinstance(v, bool)
    ]
    if not brightness:
        return None
    brightest = max(brightness)
    if brightest >= SUNNY_BRIGHTNESS:
        return "sunny"
    if brightest >= PARTLY_CLOUDY_BRIGHTNESS:
        return "partlycloudy"
    if brightest >= DAYLIGHT_BRIGHTNESS:
        return "cloudy"
    return "clear-night"
