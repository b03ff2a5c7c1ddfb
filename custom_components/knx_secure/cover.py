"""Covers: blinds, shutters, awnings moved by a KNX blind actuator.

Up/down (DPT 1.008), stop (1.017) or step (1.007), absolute position and slat angle (5.001)
with their statuses. While the cover travels its position is estimated from the travel
times (``knx.travel``, the loop's time passed in) and corrected by every position status.

Positions: on the bus 0 % is open and 100 % closed (KNX); Home Assistant has 100 for open.
Inside, ``Travel`` and the angle keep the KNX sense; the invert options flip what the
actuator's objects mean, and Home Assistant's numbers are converted at the edge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from homeassistant.components.cover import (
    ATTR_CURRENT_POSITION,
    ATTR_CURRENT_TILT_POSITION,
    ATTR_POSITION,
    ATTR_TILT_POSITION,
    CoverDeviceClass,
    CoverEntity,
    CoverEntityFeature,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_DEVICE_CLASS
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.restore_state import RestoreEntity

from .const import (
    CONF_ANGLE_ADDRESS,
    CONF_ANGLE_STATE_ADDRESS,
    CONF_INVERT_ANGLE,
    CONF_INVERT_POSITION,
    CONF_INVERT_UP_DOWN,
    CONF_POSITION_ADDRESS,
    CONF_POSITION_STATE_ADDRESS,
    CONF_STOP_ADDRESS,
    CONF_STOP_DPT,
    CONF_TRAVEL_TIME_DOWN,
    CONF_TRAVEL_TIME_UP,
    CONF_UP_DOWN_ADDRESS,
    DEFAULT_TRAVEL_TIME,
    DOMAIN,
    SUBENTRY_COVER,
)
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import KNXSecureSubentryEntity, async_add_subentry_entities
from .knx.address import GroupAddress
from .knx.dpt import DPT, DPTValue, get_dpt
from .knx.travel import CLOSED, OPEN, Direction, Travel

_LOGGER = logging.getLogger(__name__)

PARALLEL_UPDATES = 0  # writes are serialized by the tunnel itself

UP_DOWN = get_dpt("1.008")  # 1 = down
PERCENT = get_dpt("5.001")
#: Longest time between two state updates while the cover travels (s).
UPDATE_INTERVAL = 1.0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one cover per cover subentry."""
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_COVER, KNXSecureCover)


def _address(data: Mapping[str, Any], key: str) -> GroupAddress | None:
    return GroupAddress.parse(data[key]) if data.get(key) else None


def _flip(percent: float, invert: bool) -> float:
    """A percent in the other sense (0 <-> 100) when ``invert``."""
    return CLOSED - percent if invert else percent


def _percent(value: object) -> float | None:
    """A percent from the bus or a restored state; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if OPEN <= value <= CLOSED else None


def _home_assistant_percent(knx: float | None) -> int | None:
    """Home Assistant's position (100 open) of a KNX one (0 open)."""
    return None if knx is None else round(CLOSED - knx)


class KNXSecureCover(KNXSecureSubentryEntity, CoverEntity, RestoreEntity):
    """A KNX cover (see the module docstring)."""

    _device_model = "Cover"

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize from the subentry's data."""
        super().__init__(coordinator, subentry)
        data = subentry.data
        self._up_down = GroupAddress.parse(data[CONF_UP_DOWN_ADDRESS])
        self._stop = _address(data, CONF_STOP_ADDRESS)
        self._stop_dpt = get_dpt(data.get(CONF_STOP_DPT) or "1.017")
        self._position = _address(data, CONF_POSITION_ADDRESS)
        self._position_state = _address(data, CONF_POSITION_STATE_ADDRESS)
        self._angle = _address(data, CONF_ANGLE_ADDRESS)
        self._angle_state = _address(data, CONF_ANGLE_STATE_ADDRESS)
        self._invert_up_down: bool = data.get(CONF_INVERT_UP_DOWN, False)
        self._invert_position: bool = data.get(CONF_INVERT_POSITION, False)
        self._invert_angle: bool = data.get(CONF_INVERT_ANGLE, False)
        self._travel = Travel(
            data.get(CONF_TRAVEL_TIME_DOWN, DEFAULT_TRAVEL_TIME),
            data.get(CONF_TRAVEL_TIME_UP, DEFAULT_TRAVEL_TIME),
        )
        self._slat: float | None = None  # KNX percent, 0 open
        self._cancel_update: CALLBACK_TYPE | None = None
        # Set position without a position address: stop when the estimate gets there.
        self._stop_at_target = False
        self._attr_supported_features = self._features()
        if device_class := data.get(CONF_DEVICE_CLASS):
            self._attr_device_class = CoverDeviceClass(device_class)

    def _features(self) -> CoverEntityFeature:
        features = CoverEntityFeature.OPEN | CoverEntityFeature.CLOSE
        if self._stop is not None:
            features |= CoverEntityFeature.STOP
        if self._position is not None or self._stop is not None:
            features |= CoverEntityFeature.SET_POSITION
        if self._angle is not None:
            features |= (
                CoverEntityFeature.OPEN_TILT
                | CoverEntityFeature.CLOSE_TILT
                | CoverEntityFeature.SET_TILT_POSITION
            )
            if self._stop is not None:
                features |= CoverEntityFeature.STOP_TILT
        return features

    # --- state ----------------------------------------------------------------------------

    def _now(self) -> float:
        return self.hass.loop.time()

    @property
    def current_cover_position(self) -> int | None:
        """Return where the cover is (100 open), estimated while it travels."""
        return _home_assistant_percent(self._travel.position(self._now()))

    @property
    def current_cover_tilt_position(self) -> int | None:
        """Return the slat angle (100 open)."""
        return _home_assistant_percent(self._slat)

    @property
    def is_closed(self) -> bool | None:
        """Return whether the cover is fully closed (None: not known)."""
        position = self._travel.position(self._now())
        return None if position is None else position == CLOSED

    @property
    def is_opening(self) -> bool:
        """Return whether the cover travels up."""
        return self._travel.direction(self._now()) is Direction.UP

    @property
    def is_closing(self) -> bool:
        """Return whether the cover travels down."""
        return self._travel.direction(self._now()) is Direction.DOWN

    # --- the bus in ---------------------------------------------------------------------------

    async def async_added_to_hass(self) -> None:
        """Restore the last position and angle, then follow every address of the cover."""
        await super().async_added_to_hass()
        if (last_state := await self.async_get_last_state()) is not None:
            attributes = last_state.attributes
            if (position := _percent(attributes.get(ATTR_CURRENT_POSITION))) is not None:
                self._travel.set_position(CLOSED - position, self._now())
            if (tilt := _percent(attributes.get(ATTR_CURRENT_TILT_POSITION))) is not None:
                self._slat = CLOSED - tilt
        self._listen(self._up_down, UP_DOWN, self._on_up_down)
        self._listen(self._stop, self._stop_dpt, self._on_stop)
        self._listen(self._position, PERCENT, self._on_position)
        self._listen(self._position_state, PERCENT, self._on_position_state)
        self._listen(self._angle, PERCENT, self._on_angle)
        self._listen(self._angle_state, PERCENT, self._on_angle)
        for status in (self._position_state, self._angle_state):
            if status is not None:
                self.async_on_remove(self.coordinator.async_add_status_address(status))
        self.async_on_remove(self._cancel_updates)

    def _listen(
        self, address: GroupAddress | None, dpt: DPT, handle: Callable[[DPTValue], None]
    ) -> None:
        """Take every value on address (ours confirmed, and anybody else's)."""
        if address is not None:
            self.async_on_remove(self.coordinator.async_add_dpt_listener(address, dpt, handle))

    @callback
    def _on_up_down(self, value: DPTValue) -> None:
        self._stop_at_target = False
        down = bool(value) != self._invert_up_down
        self._travel.start(CLOSED if down else OPEN, self._now())
        self._changed()

    @callback
    def _on_stop(self, value: DPTValue) -> None:
        self._stop_at_target = False
        self._travel.stop(self._now())
        self._changed()

    @callback
    def _on_position(self, value: DPTValue) -> None:
        if (percent := _percent(value)) is not None:
            self._stop_at_target = False
            self._travel.start(_flip(percent, self._invert_position), self._now())
            self._changed()

    @callback
    def _on_position_state(self, value: DPTValue) -> None:
        if (percent := _percent(value)) is not None:
            self._travel.set_position(_flip(percent, self._invert_position), self._now())
            self._changed()

    @callback
    def _on_angle(self, value: DPTValue) -> None:
        if (percent := _percent(value)) is not None:
            self._slat = _flip(percent, self._invert_angle)
            self.async_write_ha_state()

    # --- the estimate over time ------------------------------------------------------------

    @callback
    def _changed(self, _now: datetime | None = None) -> None:
        """Write the state; while travelling, again a little later and where it ends."""
        self._cancel_updates()
        self.async_write_ha_state()
        arrival = self._travel.arrival()
        now = self._now()
        if arrival is not None and now < arrival:
            delay = min(UPDATE_INTERVAL, arrival - now)
            self._cancel_update = async_call_later(self.hass, delay, self._changed)
        elif self._stop_at_target:
            self._stop_at_target = False
            self.coordinator.entry.async_create_background_task(
                self.hass, self._async_stop_at_target(), f"{self.entity_id} stop at target"
            )

    @callback
    def _cancel_updates(self) -> None:
        if self._cancel_update is not None:
            self._cancel_update()
            self._cancel_update = None

    # --- services -----------------------------------------------------------------------------

    async def _async_move(self, down: bool) -> None:
        await self.coordinator.async_write_dpt(self._up_down, UP_DOWN, down != self._invert_up_down)

    async def async_open_cover(self, **kwargs: Any) -> None:
        """Move up."""
        await self._async_move(down=False)

    async def async_close_cover(self, **kwargs: Any) -> None:
        """Move down."""
        await self._async_move(down=True)

    async def async_stop_cover(self, **kwargs: Any) -> None:
        """Stop (a stop trigger, or a short-time step, which stops too)."""
        assert self._stop is not None  # STOP is supported only with a stop address
        await self.coordinator.async_write_dpt(self._stop, self._stop_dpt, True)

    async def _async_stop_at_target(self) -> None:
        try:
            await self.async_stop_cover()
        except HomeAssistantError as err:
            _LOGGER.warning("%s did not stop at its position: %s", self.entity_id, err)

    async def async_set_cover_position(self, **kwargs: Any) -> None:
        """Move to a position (Home Assistant's 100 is open): with the position address, or
        else up or down and stop where the travel estimate says the cover is there."""
        knx = CLOSED - kwargs[ATTR_POSITION]
        if self._position is not None:
            await self.coordinator.async_write_dpt(
                self._position, PERCENT, round(_flip(knx, self._invert_position))
            )
            return
        if knx in (OPEN, CLOSED):  # an end stops the motor by itself
            await self._async_move(down=knx == CLOSED)
            return
        current = self._travel.position(self._now())
        if current is None:  # no direction to go in
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="cover_position_unknown",
                translation_placeholders={"entity_id": self.entity_id},
            )
        if knx == current:
            return
        await self._async_move(down=knx > current)
        self._travel.start(knx, self._now())
        self._stop_at_target = True
        self._changed()

    async def async_open_cover_tilt(self, **kwargs: Any) -> None:
        """Open the slats."""
        await self._async_set_angle(OPEN)

    async def async_close_cover_tilt(self, **kwargs: Any) -> None:
        """Close the slats."""
        await self._async_set_angle(CLOSED)

    async def async_set_cover_tilt_position(self, **kwargs: Any) -> None:
        """Turn the slats to an angle (Home Assistant's 100 is open)."""
        await self._async_set_angle(CLOSED - kwargs[ATTR_TILT_POSITION])

    async def async_stop_cover_tilt(self, **kwargs: Any) -> None:
        """Stop the slats: the actuator's one stop."""
        await self.async_stop_cover()

    async def _async_set_angle(self, knx: float) -> None:
        assert self._angle is not None  # tilt features only with an angle address
        await self.coordinator.async_write_dpt(
            self._angle, PERCENT, round(_flip(knx, self._invert_angle))
        )
