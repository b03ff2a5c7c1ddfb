"""Fans: on/off (1.001), speed as a percentage (5.001) or steps (5.010), oscillation (1.001).

Each function has a command address and an optional status address (read at start and
after every reconnect); without the status address the entity follows the command address
(its own confirmed writes and anybody else's). Without an on/off address the fan is on
while its speed is above 0; with one, on/off comes from it.
"""

from __future__ import annotations

import math
from typing import Any

from homeassistant.components.fan import FanEntity, FanEntityFeature
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity
from homeassistant.util.percentage import (
    percentage_to_ranged_value,
    ranged_value_to_percentage,
)

from .const import (
    CONF_MAX_STEP,
    CONF_OSCILLATION_ADDRESS,
    CONF_OSCILLATION_STATE_ADDRESS,
    CONF_SPEED_ADDRESS,
    CONF_SPEED_DPT,
    CONF_SPEED_STATE_ADDRESS,
    CONF_SWITCH_ADDRESS,
    CONF_SWITCH_STATE_ADDRESS,
    CONF_SYNC_STATE,
    SUBENTRY_FAN,
)
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import KNXSecureSubentryEntity, async_add_subentry_entities
from .knx.address import GroupAddress
from .knx.dpt import DPTValue, get_dpt

PARALLEL_UPDATES = 0
_SWITCH = get_dpt("1.001")


def _address(data: Any, key: str) -> GroupAddress | None:
    return GroupAddress.parse(data[key]) if data.get(key) else None


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one fan per fan subentry."""
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_FAN, KNXSecureFan)


class KNXSecureFan(KNXSecureSubentryEntity, FanEntity, RestoreEntity):
    """A KNX fan (see the module docstring)."""

    _device_model = "Fan"

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize from the subentry's addresses."""
        super().__init__(coordinator, subentry)
        data = subentry.data
        self._switch = _address(data, CONF_SWITCH_ADDRESS)
        self._switch_state = _address(data, CONF_SWITCH_STATE_ADDRESS)
        self._speed = _address(data, CONF_SPEED_ADDRESS)
        self._speed_state = _address(data, CONF_SPEED_STATE_ADDRESS)
        self._oscillation = _address(data, CONF_OSCILLATION_ADDRESS)
        self._oscillation_state = _address(data, CONF_OSCILLATION_STATE_ADDRESS)
        self._sync_state: bool = data.get(CONF_SYNC_STATE, True)
        self._speed_dpt = get_dpt(data.get(CONF_SPEED_DPT, "5.001"))
        # Steps (5.010) count 1..max_step; a percentage (5.001) has no steps of its own.
        self._steps: int | None = (
            int(data.get(CONF_MAX_STEP, 3)) if self._speed_dpt.id == "5.010" else None
        )
        self._is_on: bool | None = None
        self._last_percentage = 100  # what turning on without a switch address sets
        self._attr_percentage = None
        self._attr_oscillating = None
        features = FanEntityFeature.TURN_ON | FanEntityFeature.TURN_OFF
        if self._speed is not None:
            features |= FanEntityFeature.SET_SPEED
        if self._oscillation is not None:
            features |= FanEntityFeature.OSCILLATE
        self._attr_supported_features = features

    @property
    def speed_count(self) -> int:
        """The number of steps (5.010), else 100."""
        return self._steps if self._steps is not None else 100

    @property
    def is_on(self) -> bool | None:
        """On/off from the switch address, else whether the speed is above 0."""
        if self._switch is not None:
            return self._is_on
        return None if self.percentage is None else self.percentage > 0

    async def async_added_to_hass(self) -> None:
        """Restore the last state, then follow the bus (and read the status at start)."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_state()) is not None:
            if last.state in (STATE_ON, "off"):
                self._is_on = last.state == STATE_ON
            self._attr_percentage = last.attributes.get("percentage")
            self._attr_oscillating = last.attributes.get("oscillating")
        for command, state, dpt, handler in (
            (self._switch, self._switch_state, _SWITCH, self._handle_switch),
            (self._speed, self._speed_state, self._speed_dpt, self._handle_speed),
            (self._oscillation, self._oscillation_state, _SWITCH, self._handle_oscillation),
        ):
            if command is None:
                continue
            listen = state or command
            self.async_on_remove(self.coordinator.async_add_dpt_listener(listen, dpt, handler))
            if state is not None and self._sync_state:
                self.async_on_remove(self.coordinator.async_add_status_address(state))

    @callback
    def _handle_switch(self, value: DPTValue) -> None:
        self._is_on = bool(value)
        self.async_write_ha_state()

    @callback
    def _handle_speed(self, value: DPTValue) -> None:
        if not isinstance(value, int):
            return
        if self._steps is None:
            percentage = value
        else:
            step = min(value, self._steps)
            percentage = 0 if step == 0 else ranged_value_to_percentage((1, self._steps), step)
        self._attr_percentage = percentage
        if percentage > 0:
            self._last_percentage = percentage
        self.async_write_ha_state()

    @callback
    def _handle_oscillation(self, value: DPTValue) -> None:
        self._attr_oscillating = bool(value)
        self.async_write_ha_state()

    def _speed_value(self, percentage: int) -> int:
        """What the speed address gets for percentage: itself, or the step it falls in."""
        if self._steps is None or percentage == 0:
            return percentage
        return math.ceil(percentage_to_ranged_value((1, self._steps), percentage))

    async def async_turn_on(
        self,
        percentage: int | None = None,
        preset_mode: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Switch on (and set the speed if given); without a switch address, set the
        last speed (full speed the first time)."""
        if self._switch is not None:
            await self.coordinator.async_write_dpt(self._switch, _SWITCH, True)
            if percentage is not None:
                await self.async_set_percentage(percentage)
            return
        await self.async_set_percentage(
            percentage if percentage is not None else self._last_percentage
        )

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch off (speed 0 without a switch address)."""
        if self._switch is not None:
            await self.coordinator.async_write_dpt(self._switch, _SWITCH, False)
        else:
            await self.async_set_percentage(0)

    async def async_set_percentage(self, percentage: int) -> None:
        """Write the speed (0 switches off)."""
        if self._speed is None:
            if self._switch is not None:
                await self.coordinator.async_write_dpt(self._switch, _SWITCH, percentage > 0)
            return
        value = self._speed_value(percentage)
        await self.coordinator.async_write_dpt(self._speed, self._speed_dpt, value)

    async def async_oscillate(self, oscillating: bool) -> None:
        """Write the oscillation."""
        if self._oscillation is not None:
            await self.coordinator.async_write_dpt(self._oscillation, _SWITCH, oscillating)
