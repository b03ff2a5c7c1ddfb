"""Weather: one entity from a KNX weather station's values, with a derived condition
(weather_types.derive_condition). Each value is read at start and after every reconnect
(with "read at start") and follows what the station sends."""

from __future__ import annotations

from functools import partial
from typing import Any

from homeassistant.components.weather import WeatherEntity
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import UnitOfPressure, UnitOfSpeed, UnitOfTemperature
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import (
    CONF_AIR_PRESSURE_ADDRESS,
    CONF_HUMIDITY_ADDRESS,
    CONF_SYNC_STATE,
    CONF_TEMPERATURE_ADDRESS,
    CONF_WIND_DIRECTION_ADDRESS,
    CONF_WIND_SPEED_ADDRESS,
    SUBENTRY_WEATHER,
)
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import KNXSecureSubentryEntity, async_add_subentry_entities
from .knx.address import GroupAddress
from .knx.dpt import DPTValue, get_dpt
from .weather_types import WEATHER_TYPES, derive_condition

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one weather entity per weather subentry."""
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_WEATHER, KNXSecureWeather)


class KNXSecureWeather(KNXSecureSubentryEntity, WeatherEntity):
    """A KNX weather station (see the module docstring); brightness by direction and the
    alarms are attributes."""

    _device_model = "Weather station"
    _attr_native_temperature_unit = UnitOfTemperature.CELSIUS
    _attr_native_pressure_unit = UnitOfPressure.PA
    _attr_native_wind_speed_unit = UnitOfSpeed.METERS_PER_SECOND

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize from the subentry's addresses."""
        super().__init__(coordinator, subentry)
        data = subentry.data
        self._addresses = {
            key: GroupAddress.parse(data[key]) for key in WEATHER_TYPES if data.get(key)
        }
        self._sync_state: bool = data.get(CONF_SYNC_STATE, True)
        self._values: dict[str, float | bool] = {}

    async def async_added_to_hass(self) -> None:
        """Follow the station's values (and read them at start)."""
        await super().async_added_to_hass()
        for key, address in self._addresses.items():
            dpt = get_dpt(WEATHER_TYPES[key])
            self.async_on_remove(
                self.coordinator.async_add_dpt_listener(
                    address, dpt, partial(self._handle_value, key)
                )
            )
            if self._sync_state:
                self.async_on_remove(self.coordinator.async_add_status_address(address))

    @callback
    def _handle_value(self, key: str, value: DPTValue) -> None:
        if not isinstance(value, bool | int | float):
            return
        self._values[key] = value
        self.async_write_ha_state()

    def _number(self, key: str) -> float | None:
        value = self._values.get(key)
        return None if value is None or isinstance(value, bool) else float(value)

    @property
    def condition(self) -> str | None:
        """Derived from rain, frost, wind and brightness (see derive_condition)."""
        return derive_condition(self._values)

    @property
    def native_temperature(self) -> float | None:
        return self._number(CONF_TEMPERATURE_ADDRESS)

    @property
    def humidity(self) -> float | None:
        return self._number(CONF_HUMIDITY_ADDRESS)

    @property
    def native_pressure(self) -> float | None:
        return self._number(CONF_AIR_PRESSURE_ADDRESS)

    @property
    def native_wind_speed(self) -> float | None:
        return self._number(CONF_WIND_SPEED_ADDRESS)

    @property
    def wind_bearing(self) -> float | None:
        return self._number(CONF_WIND_DIRECTION_ADDRESS)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Brightness by direction (lx) and the rain and frost alarms, where known."""
        return {
            key.removesuffix("_address"): value
            for key, value in self._values.items()
            if key.startswith("brightness_") or key.endswith("_alarm_address")
        }
