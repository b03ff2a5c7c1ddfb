"""The base of number, select and text entities: one value of a datapoint type, written to
a group address, followed on the status address (or the write address), and, with
"respond to read", the answer to a GroupValueRead of the write address.

Platforms say how a value from the bus becomes their state (``_take_value``) and which value
the entity holds now (``_current_value``); sending goes through ``_async_send_value``.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import callback

from .const import CONF_RESPOND_TO_READ, CONF_STATE_ADDRESS, CONF_VALUE_TYPE, CONF_WRITE_ADDRESS
from .coordinator import KNXSecureCoordinator
from .entity import KNXSecureSubentryEntity
from .knx.address import GroupAddress
from .knx.dpt import DPTValue, get_dpt
from .read_answer import async_answer_reads


class KNXSecureValueEntity(KNXSecureSubentryEntity):
    """One value of the subentry's datapoint type on its group addresses."""

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize the addresses and the type from the subentry."""
        super().__init__(coordinator, subentry)
        data = subentry.data
        self._dpt = get_dpt(data[CONF_VALUE_TYPE])
        self._write_address = GroupAddress.parse(data[CONF_WRITE_ADDRESS])
        self._state_address = (
            GroupAddress.parse(data[CONF_STATE_ADDRESS]) if data.get(CONF_STATE_ADDRESS) else None
        )
        self._respond_to_read: bool = data.get(CONF_RESPOND_TO_READ, False)

    def _take_value(self, value: DPTValue) -> None:
        """Make a value from the bus the entity's state."""
        raise NotImplementedError

    def _current_value(self) -> DPTValue | None:
        """The value the entity holds (None: none yet, reads are not answered)."""
        raise NotImplementedError

    async def async_added_to_hass(self) -> None:
        """Follow the bus (and read the status at start); answer reads if so configured."""
        await super().async_added_to_hass()
        listen = self._state_address or self._write_address
        self.async_on_remove(
            self.coordinator.async_add_dpt_listener(listen, self._dpt, self._handle_value)
        )
        if self._state_address is not None:
            self.async_on_remove(self.coordinator.async_add_status_address(self._state_address))
        if self._respond_to_read:
            self.async_on_remove(
                async_answer_reads(
                    self.coordinator, self._write_address, self._dpt, self._current_value
                )
            )

    @callback
    def _handle_value(self, value: DPTValue) -> None:
        self._take_value(value)
        self.async_write_ha_state()

    async def _async_send_value(self, value: DPTValue) -> None:
        """Write value; the state follows the status address when there is one, else the
        confirmed write (the coordinator hands it to the write address's listeners)."""
        await self.coordinator.async_write_dpt(self._write_address, self._dpt, value)
