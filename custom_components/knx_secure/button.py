"""Buttons: pressing one writes a chosen value of a chosen type (default: DPT 1.001 on)."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_PAYLOAD, CONF_VALUE_TYPE, CONF_WRITE_ADDRESS, SUBENTRY_BUTTON
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import KNXSecureSubentryEntity, async_add_subentry_entities
from .knx.address import GroupAddress
from .knx.dpt import get_dpt
from .value_types import parse_value

PARALLEL_UPDATES = 0

DEFAULT_BUTTON_TYPE = "1.001"
DEFAULT_BUTTON_PAYLOAD = "on"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one button per button subentry."""
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_BUTTON, KNXSecureButton)


class KNXSecureButton(KNXSecureSubentryEntity, ButtonEntity):
    """A KNX button (Home Assistant keeps the time of its last press as its state)."""

    _device_model = "Button"

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize the button from its subentry (the form checked the value)."""
        super().__init__(coordinator, subentry)
        data = subentry.data
        self._address = GroupAddress.parse(data[CONF_WRITE_ADDRESS])
        self._dpt = get_dpt(data.get(CONF_VALUE_TYPE, DEFAULT_BUTTON_TYPE))
        self._value = parse_value(self._dpt, data.get(CONF_PAYLOAD, DEFAULT_BUTTON_PAYLOAD))

    async def async_press(self) -> None:
        """Write the button's value."""
        await self.coordinator.async_write_dpt(self._address, self._dpt, self._value)
