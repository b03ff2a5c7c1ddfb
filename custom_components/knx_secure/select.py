"""Selects: options, each mapped to a value of the subentry's datapoint type, written to a
group address; optionally followed on a status address and answering reads."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .const import CONF_OPTIONS, SUBENTRY_SELECT
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import async_add_subentry_entities
from .knx.dpt import DPTValue
from .value_entity import KNXSecureValueEntity
from .value_types import parse_options

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one select per select subentry."""
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_SELECT, KNXSecureSelect)


class KNXSecureSelect(KNXSecureValueEntity, SelectEntity, RestoreEntity):
    """A KNX select: the option whose value the bus reports; a value no option maps to
    leaves the state unknown. The last option is restored until the bus answers."""

    _device_model = "Select"

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize the options from the subentry."""
        super().__init__(coordinator, subentry)
        self._values = dict(parse_options(self._dpt, subentry.data.get(CONF_OPTIONS, "")))
        self._attr_options = list(self._values)
        self._attr_current_option = None

    async def async_added_to_hass(self) -> None:
        """Restore the last option, then follow the bus."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_state()) is not None and last.state in self._values:
            self._attr_current_option = last.state

    def _take_value(self, value: DPTValue) -> None:
        self._attr_current_option = next(
            (label for label, known in self._values.items() if known == value), None
        )

    def _current_value(self) -> DPTValue | None:
        option = self._attr_current_option
        return None if option is None else self._values[option]

    async def async_select_option(self, option: str) -> None:
        """Write the option's value."""
        await self._async_send_value(self._values[option])
