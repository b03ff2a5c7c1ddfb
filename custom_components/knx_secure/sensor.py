"""Sensors: the value of a group address as any numeric or text datapoint type, and the
gateway's diagnostic sensor of the telegrams the secure tunnel rejected, by reason."""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import RestoreSensor, SensorEntity, SensorStateClass
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .connection_sensors import connection_sensors
from .const import (
    CONF_ALWAYS_RECORD,
    CONF_STATE_ADDRESS,
    CONF_SYNC_STATE,
    CONF_VALUE_TYPE,
    SUBENTRY_SENSOR,
)
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import KNXSecureEntity, KNXSecureSubentryEntity, async_add_subentry_entities
from .knx.address import GroupAddress
from .knx.dpt import DPTValue, get_dpt
from .sensor_types import sensor_options

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the diagnostic sensors of the gateway and one sensor per sensor subentry."""
    coordinator = entry.runtime_data
    async_add_entities(
        [KNXSecureRejectedTelegramsSensor(coordinator), *connection_sensors(coordinator)]
    )
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_SENSOR, KNXSecureSensor)


class KNXSecureSensor(KNXSecureSubentryEntity, RestoreSensor):
    """The value of a group address, decoded with the subentry's datapoint type.

    Device class, unit and state class come from the type unless the subentry overrides
    them. The last value is restored until the bus sends or answers one. With "always
    record" every value received is written, also when it equals the last one (force
    update: a new state in the history and the recorder); without it an equal value only
    moves the state's last reported time.
    """

    _device_model = "Sensor"

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize the sensor from its subentry."""
        super().__init__(coordinator, subentry)
        data = subentry.data
        self._address = GroupAddress.parse(data[CONF_STATE_ADDRESS])
        self._dpt = get_dpt(data[CONF_VALUE_TYPE])
        self._sync_state: bool = data.get(CONF_SYNC_STATE, True)
        self._attr_force_update = data.get(CONF_ALWAYS_RECORD, False)
        options = sensor_options(self._dpt, data)
        self._attr_device_class = options.device_class
        self._attr_native_unit_of_measurement = options.unit
        self._attr_state_class = options.state_class
        if options.options is not None:
            self._attr_options = list(options.options)

    async def async_added_to_hass(self) -> None:
        """Restore the last value, then follow the bus (and read at start)."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_sensor_data()) is not None:
            self._attr_native_value = last.native_value
        self.async_on_remove(
            self.coordinator.async_add_dpt_listener(self._address, self._dpt, self._handle_value)
        )
        if self._sync_state:
            self.async_on_remove(self.coordinator.async_add_status_address(self._address))

    @callback
    def _handle_value(self, value: DPTValue) -> None:
        """Take a value from the bus: a number, a text or a state's name."""
        if isinstance(value, dict):
            return  # a structured type: the form never offers one
        self._attr_native_value = value
        self.async_write_ha_state()


class KNXSecureRejectedTelegramsSensor(KNXSecureEntity, SensorEntity):
    """How many telegrams failed Data Secure (MAC, replay, missing key, ...).

    The state is the total since the entry was set up; the attributes give each reason and
    the MAC failures per group address. Replays are normal on a KNX bus (repeated frames)
    and are only counted here.
    """

    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_state_class = SensorStateClass.TOTAL_INCREASING
    _attr_translation_key = "rejected_telegrams"

    def __init__(self, coordinator: KNXSecureCoordinator) -> None:
        """Initialize the sensor."""
        super().__init__(coordinator)
        self._attr_unique_id = f"{coordinator.entry.entry_id}_rejected_telegrams"

    @property
    def available(self) -> bool:
        """Counters stay meaningful while the tunnel is down."""
        return True

    @property
    def native_value(self) -> int:
        """Return the total of rejected telegrams."""
        return sum(self.coordinator.dropped.values())

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the counters by reason and the MAC failures by group address."""
        attributes: dict[str, Any] = dict(sorted(self.coordinator.dropped.items()))
        if mac_failures := self.coordinator.mac_failures:
            attributes["mac_failures_by_group_address"] = {
                str(address): count for address, count in sorted(mac_failures.items())
            }
        return attributes

    async def async_added_to_hass(self) -> None:
        """Update when the counters change."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_counter_listener(self.async_write_ha_state))
