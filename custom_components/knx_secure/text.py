"""Texts: up to 14 characters (DPT 16.000 ASCII or 16.001 Latin-1) written to a group
address; optionally followed on a status address and answering reads."""

from __future__ import annotations

from homeassistant.components.text import TextEntity
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .const import SUBENTRY_TEXT
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import async_add_subentry_entities
from .knx.dpt import DPTValue
from .value_entity import KNXSecureValueEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one text per text subentry."""
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_TEXT, KNXSecureText)


class KNXSecureText(KNXSecureValueEntity, TextEntity, RestoreEntity):
    """A KNX text: as long as the type allows (14 characters); a character the type's
    charset lacks is refused with the type's reason. Restored until the bus answers."""

    _device_model = "Text"

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize the text from its subentry."""
        super().__init__(coordinator, subentry)
        length = self._dpt.codec.describe().get("max_length")
        self._attr_native_max = length if isinstance(length, int) else 14
        self._attr_native_value = None

    async def async_added_to_hass(self) -> None:
        """Restore the last text, then follow the bus."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_state()) is not None and last.state not in (
            STATE_UNAVAILABLE,
            STATE_UNKNOWN,
        ):
            self._attr_native_value = last.state

    def _take_value(self, value: DPTValue) -> None:
        if isinstance(value, str):
            self._attr_native_value = value

    def _current_value(self) -> DPTValue | None:
        return self._attr_native_value

    async def async_set_value(self, value: str) -> None:
        """Write the text."""
        await self._async_send_value(value)
