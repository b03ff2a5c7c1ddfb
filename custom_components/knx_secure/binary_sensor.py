"""Binary sensors: the DPT 1 value of a status group address."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_DEVICE_CLASS
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_STATE_ADDRESS, CONF_SYNC_STATE, SUBENTRY_BINARY_SENSOR
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import KNXSecureBooleanEntity, async_add_subentry_entities
from .knx.address import GroupAddress

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one binary sensor per binary sensor subentry."""
    async_add_subentry_entities(
        entry, async_add_entities, SUBENTRY_BINARY_SENSOR, KNXSecureBinarySensor
    )


class KNXSecureBinarySensor(KNXSecureBooleanEntity, BinarySensorEntity):
    """A KNX binary sensor on a status group address."""

    _device_model = "Binary sensor"

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize the binary sensor."""
        data = subentry.data
        address = GroupAddress.parse(data[CONF_STATE_ADDRESS])
        super().__init__(
            coordinator,
            subentry,
            listen_address=address,
            read_address=address if data.get(CONF_SYNC_STATE, True) else None,
        )
        if device_class := data.get(CONF_DEVICE_CLASS):
            self._attr_device_class = BinarySensorDeviceClass(device_class)
