"""Diagnostic sensor: telegrams the secure tunnel rejected, by reason."""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import SensorEntity, SensorStateClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .connection_sensors import connection_sensors
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import KNXSecureEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the diagnostic sensors of the gateway."""
    coordinator = entry.runtime_data
    async_add_entities(
        [KNXSecureRejectedTelegramsSensor(coordinator), *connection_sensors(coordinator)]
    )


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
