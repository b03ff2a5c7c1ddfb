"""Switches: a DPT 1.001 write group address, optionally with a status group address, and
with "respond to read" the answer to a GroupValueRead of the write address."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchDeviceClass, SwitchEntity
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_DEVICE_CLASS
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_RESPOND_TO_READ, CONF_STATE_ADDRESS, CONF_WRITE_ADDRESS, SUBENTRY_SWITCH
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import KNXSecureBooleanEntity, async_add_subentry_entities
from .knx.address import GroupAddress
from .knx.dpt import get_dpt
from .read_answer import async_answer_reads

SWITCH_DPT = get_dpt("1.001")

PARALLEL_UPDATES = 0  # writes are serialized by the tunnel itself


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one switch per switch subentry."""
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_SWITCH, KNXSecureSwitch)


class KNXSecureSwitch(KNXSecureBooleanEntity, SwitchEntity):
    """A KNX switch.

    Its state follows the status group address when there is one, else the write group
    address (our own confirmed writes and anybody else's). With "respond to read" a read of
    the write address is answered with the value the switch would write for its state.
    """

    _device_model = "Switch"

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize the switch."""
        data = subentry.data
        self._write_address = GroupAddress.parse(data[CONF_WRITE_ADDRESS])
        state_address = (
            GroupAddress.parse(data[CONF_STATE_ADDRESS]) if data.get(CONF_STATE_ADDRESS) else None
        )
        super().__init__(
            coordinator,
            subentry,
            listen_address=state_address or self._write_address,
            read_address=state_address,
        )
        if device_class := data.get(CONF_DEVICE_CLASS):
            self._attr_device_class = SwitchDeviceClass(device_class)
        self._respond_to_read: bool = data.get(CONF_RESPOND_TO_READ, False)

    async def async_added_to_hass(self) -> None:
        """Follow the bus (see the base); answer reads if so configured."""
        await super().async_added_to_hass()
        if self._respond_to_read:
            self.async_on_remove(
                async_answer_reads(
                    self.coordinator, self._write_address, SWITCH_DPT, self._bus_value
                )
            )

    def _bus_value(self) -> bool | None:
        """The value of the state on the bus (inverted if so configured; None: unknown)."""
        return None if self.is_on is None else self.is_on != self._invert

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Write ON (OFF when inverted)."""
        await self.coordinator.async_write(self._write_address, not self._invert)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Write OFF (ON when inverted)."""
        await self.coordinator.async_write(self._write_address, self._invert)
