"""Numbers: a value of any numeric datapoint type written to a group address, with its
range, step and mode; optionally followed on a status address and answering reads."""

from __future__ import annotations

from homeassistant.components.number import NumberMode, RestoreNumber
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_MAX, CONF_MIN, CONF_MODE, CONF_STEP, SUBENTRY_NUMBER
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import async_add_subentry_entities
from .knx.dpt import DPTValue
from .sensor_types import sensor_defaults
from .value_entity import KNXSecureValueEntity
from .value_types import is_integer_type, number_range

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one number per number subentry."""
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_NUMBER, KNXSecureNumber)


class KNXSecureNumber(KNXSecureValueEntity, RestoreNumber):
    """A KNX number: the last value is restored until the bus sends or answers one.

    Minimum, maximum and step default to the type's range and resolution; the unit and
    device class are the type's (as a sensor of the type shows them).
    """

    _device_model = "Number"

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize the number from its subentry."""
        super().__init__(coordinator, subentry)
        data = subentry.data
        limits = number_range(self._dpt)
        self._attr_native_min_value = float(data.get(CONF_MIN, limits.minimum))
        self._attr_native_max_value = float(data.get(CONF_MAX, limits.maximum))
        self._attr_native_step = float(data.get(CONF_STEP) or limits.step or 0.1)
        self._attr_mode = NumberMode(data.get(CONF_MODE, NumberMode.AUTO))
        defaults = sensor_defaults(self._dpt)
        self._attr_native_unit_of_measurement = defaults.unit
        self._attr_native_value = None

    async def async_added_to_hass(self) -> None:
        """Restore the last value, then follow the bus."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_number_data()) is not None:
            self._attr_native_value = last.native_value

    def _take_value(self, value: DPTValue) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            self._attr_native_value = float(value)

    def _current_value(self) -> DPTValue | None:
        value = self._attr_native_value
        if value is None:
            return None
        return round(value) if is_integer_type(self._dpt) else value

    async def async_set_native_value(self, value: float) -> None:
        """Write the value (a whole number for an integer type)."""
        await self._async_send_value(round(value) if is_integer_type(self._dpt) else value)
