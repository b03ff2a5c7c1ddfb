"""Scenes: activating one writes its scene number (DPT 17.001, 1..64) to a group address."""

from __future__ import annotations

from typing import Any

from homeassistant.components.scene import Scene
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_SCENE_ADDRESS, CONF_SCENE_NUMBER, SUBENTRY_SCENE
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import KNXSecureSubentryEntity, async_add_subentry_entities
from .knx.address import GroupAddress
from .knx.dpt import get_dpt

PARALLEL_UPDATES = 0

SCENE_NUMBER = get_dpt("17.001")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one scene per scene subentry."""
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_SCENE, KNXSecureScene)


class KNXSecureScene(KNXSecureSubentryEntity, Scene):
    """A KNX scene (Home Assistant keeps the time of its last activation as its state)."""

    _device_model = "Scene"

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize the scene from its subentry."""
        super().__init__(coordinator, subentry)
        self._address = GroupAddress.parse(subentry.data[CONF_SCENE_ADDRESS])
        self._scene_number = int(subentry.data[CONF_SCENE_NUMBER])

    async def async_activate(self, **kwargs: Any) -> None:
        """Write the scene number."""
        await self.coordinator.async_write_dpt(self._address, SCENE_NUMBER, self._scene_number)
