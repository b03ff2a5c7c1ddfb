"""Climate: a KNX room controller (current temperature, setpoint, modes, on/off).

Each function of the controller is a group object with a command address (where Home
Assistant writes) and a status address (where the controller reports); either may be
missing. Without a status address the entity follows the confirmed writes on the command
address. The target temperature is an absolute setpoint (9.001) or a setpoint shift (6.010
counts of the step, or 9.002 Kelvin): then the target status is the controller's current
setpoint, and its base is that minus the shift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.climate import ClimateEntity
from homeassistant.components.climate.const import (
    ATTR_CURRENT_TEMPERATURE,
    ATTR_HVAC_MODE,
    ATTR_PRESET_MODE,
    ClimateEntityFeature,
    HVACAction,
    HVACMode,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import ATTR_TEMPERATURE, PRECISION_TENTHS, UnitOfTemperature
from homeassistant.core import HomeAssistant, State, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .const import (
    CONF_CONTROLLER_MODE_ADDRESS,
    CONF_CONTROLLER_MODE_STATE_ADDRESS,
    CONF_CONTROLLER_MODES,
    CONF_HEAT_COOL_ADDRESS,
    CONF_HEAT_COOL_STATE_ADDRESS,
    CONF_INVERT,
    CONF_MAX_TEMP,
    CONF_MIN_TEMP,
    CONF_ON_OFF_ADDRESS,
    CONF_ON_OFF_STATE_ADDRESS,
    CONF_OPERATION_MODE_ADDRESS,
    CONF_OPERATION_MODE_STATE_ADDRESS,
    CONF_SETPOINT_SHIFT_ADDRESS,
    CONF_SETPOINT_SHIFT_DPT,
    CONF_SETPOINT_SHIFT_STATE_ADDRESS,
    CONF_TARGET_TEMPERATURE_ADDRESS,
    CONF_TARGET_TEMPERATURE_STATE_ADDRESS,
    CONF_TEMPERATURE_ADDRESS,
    CONF_TEMPERATURE_STEP,
    DOMAIN,
    SUBENTRY_CLIMATE,
)
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import KNXSecureSubentryEntity, async_add_subentry_entities
from .knx.address import GroupAddress
from .knx.dpt import DPT, DPTValue, get_dpt
from .knx.dpt.table import HVAC_MODES
from .subentries.climate import (
    DEFAULT_CONTROLLER_MODES,
    DEFAULT_MAX_TEMP,
    DEFAULT_MIN_TEMP,
    DEFAULT_TEMPERATURE_STEP,
)

PARALLEL_UPDATES = 0  # writes are serialized by the tunnel itself

TEMPERATURE: Final = get_dpt("9.001")
SWITCH: Final = get_dpt("1.001")
HEAT_COOL: Final = get_dpt("1.100")
OPERATION_MODE: Final = get_dpt("20.102")
CONTROLLER_MODE: Final = get_dpt("20.105")
SHIFT_COUNTS: Final = "6.010"
SHIFT_COUNT_RANGE: Final = (-128, 127)

# Home Assistant 2026.11 names the temperatures an entity gives in its own unit native_* and
# deprecates the old names (unsupported from 2027.11); 2025.x knows only the old ones.
_NATIVE_TEMPERATURES: Final = hasattr(ClimateEntity, "native_current_temperature")
_CURRENT_TEMPERATURE_ATTR: Final = (
    "_attr_native_current_temperature" if _NATIVE_TEMPERATURES else "_attr_current_temperature"
)
_TARGET_TEMPERATURE_ATTR: Final = (
    "_attr_native_target_temperature" if _NATIVE_TEMPERATURES else "_attr_target_temperature"
)

#: The presets are the operation modes of DPT 20.102, by their names.
PRESET_MODES: Final = list(HVAC_MODES.values())
#: HVAC mode -> the controller mode (DPT 20.105) written for it.
CONTROLLER_MODES: Final[dict[HVACMode, str]] = {
    HVACMode.HEAT: "heat",
    HVACMode.COOL: "cool",
    HVACMode.AUTO: "auto",
    HVACMode.OFF: "off",
    HVACMode.FAN_ONLY: "fan_only",
    HVACMode.DRY: "dehumidification",
}
#: A reported controller mode -> the HVAC mode shown (the special ones as the nearest).
REPORTED_CONTROLLER_MODES: Final[dict[str, HVACMode]] = {
    **{knx: mode for mode, knx in CONTROLLER_MODES.items()},
    "morning_warmup": HVACMode.HEAT,
    "emergency_heat": HVACMode.HEAT,
    "maximum_heating_mode": HVACMode.HEAT,
    "precool": HVACMode.COOL,
    "free_cool": HVACMode.COOL,
    "emergency_cool_mode": HVACMode.COOL,
    "night_purge": HVACMode.FAN_ONLY,
    "economic_heat_cool_mode": HVACMode.AUTO,
}

#: The action of a mode that says it by itself.
_MODE_ACTIONS: Final = {
    HVACMode.OFF: HVACAction.OFF,
    HVACMode.FAN_ONLY: HVACAction.FAN,
    HVACMode.DRY: HVACAction.DRYING,
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one climate entity per climate subentry."""
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_CLIMATE, KNXSecureClimate)


@dataclass(frozen=True, slots=True)
class GroupObject:
    """One function of the controller: its command and status address and its type."""

    write: GroupAddress | None
    state: GroupAddress | None
    dpt: DPT

    @property
    def listen(self) -> GroupAddress:
        """Where its value is heard: the status, else the confirmed writes."""
        address = self.state or self.write
        assert address is not None  # one of the two, by construction
        return address


def group_object(
    data: Mapping[str, Any], write_key: str, state_key: str, dpt: DPT
) -> GroupObject | None:
    """The group object of the subentry's two fields; None when both are empty."""
    write, state = _address(data, write_key), _address(data, state_key)
    if write is None and state is None:
        return None
    return GroupObject(write, state, dpt)


def _address(data: Mapping[str, Any], key: str) -> GroupAddress | None:
    return GroupAddress.parse(data[key]) if data.get(key) else None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class KNXSecureClimate(KNXSecureSubentryEntity, ClimateEntity, RestoreEntity):
    """A KNX room controller (see the module docstring)."""

    _device_model = "Room controller"
    _attr_translation_key = "room_controller"
    if _NATIVE_TEMPERATURES:
        _attr_native_temperature_unit = UnitOfTemperature.CELSIUS
    else:
        _attr_temperature_unit = UnitOfTemperature.CELSIUS
    _attr_precision = PRECISION_TENTHS

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize the group objects and the features they allow."""
        super().__init__(coordinator, subentry)
        data = subentry.data
        self._temperature = GroupObject(
            None, GroupAddress.parse(data[CONF_TEMPERATURE_ADDRESS]), TEMPERATURE
        )
        self._target = group_object(
            data,
            CONF_TARGET_TEMPERATURE_ADDRESS,
            CONF_TARGET_TEMPERATURE_STATE_ADDRESS,
            TEMPERATURE,
        )
        self._shift_counts = data.get(CONF_SETPOINT_SHIFT_DPT, SHIFT_COUNTS) == SHIFT_COUNTS
        self._shift = group_object(
            data,
            CONF_SETPOINT_SHIFT_ADDRESS,
            CONF_SETPOINT_SHIFT_STATE_ADDRESS,
            get_dpt(SHIFT_COUNTS if self._shift_counts else "9.002"),
        )
        self._operation_mode = group_object(
            data, CONF_OPERATION_MODE_ADDRESS, CONF_OPERATION_MODE_STATE_ADDRESS, OPERATION_MODE
        )
        self._controller_mode = group_object(
            data, CONF_CONTROLLER_MODE_ADDRESS, CONF_CONTROLLER_MODE_STATE_ADDRESS, CONTROLLER_MODE
        )
        self._on_off = group_object(data, CONF_ON_OFF_ADDRESS, CONF_ON_OFF_STATE_ADDRESS, SWITCH)
        self._heat_cool = group_object(
            data, CONF_HEAT_COOL_ADDRESS, CONF_HEAT_COOL_STATE_ADDRESS, HEAT_COOL
        )
        self._invert: bool = data.get(CONF_INVERT, False)
        self._attr_min_temp = float(data.get(CONF_MIN_TEMP, DEFAULT_MIN_TEMP))
        self._attr_max_temp = float(data.get(CONF_MAX_TEMP, DEFAULT_MAX_TEMP))
        self._attr_target_temperature_step = float(
            data.get(CONF_TEMPERATURE_STEP, DEFAULT_TEMPERATURE_STEP)
        )
        self._attr_hvac_modes = self._offered_hvac_modes(
            data.get(CONF_CONTROLLER_MODES, DEFAULT_CONTROLLER_MODES)
        )
        self._attr_supported_features = self._features()
        if self._operation_mode is not None:
            self._attr_preset_modes = PRESET_MODES
        # What the bus said last (None: not yet).
        self._current_temperature: float | None = None
        self._target_temperature: float | None = None
        self._attr_preset_mode = None
        self._shift_value: float | None = None
        self._mode: str | None = None  # the controller mode (20.105)
        self._on: bool | None = None
        self._heat: bool | None = None
        self._last_on_mode: HVACMode | None = None
        self._restored_hvac_mode: HVACMode | None = None

    def _offered_hvac_modes(self, controller_modes: list[str]) -> list[HVACMode]:
        """The HVAC modes: the chosen controller modes, else heat and cool with a heat/cool
        address, else heat; plus off where on/off can do it."""
        if self._controller_mode is not None:
            modes = [HVACMode(mode) for mode in controller_modes]
        elif self._heat_cool is not None:
            modes = [HVACMode.HEAT, HVACMode.COOL]
        else:
            modes = [HVACMode.HEAT]
        if self._on_off is not None and HVACMode.OFF not in modes:
            modes.append(HVACMode.OFF)
        return modes

    def _features(self) -> ClimateEntityFeature:
        features = ClimateEntityFeature(0)
        if self._target is not None or self._shift is not None:
            features |= ClimateEntityFeature.TARGET_TEMPERATURE
        if self._operation_mode is not None:
            features |= ClimateEntityFeature.PRESET_MODE
        if HVACMode.OFF in self._attr_hvac_modes:
            features |= ClimateEntityFeature.TURN_ON | ClimateEntityFeature.TURN_OFF
        return features

    # --- from the bus ------------------------------------------------------------------------

    async def async_added_to_hass(self) -> None:
        """Restore the last state, then follow the bus and read every status address."""
        await super().async_added_to_hass()
        self._restore(await self.async_get_last_state())
        # In this order the status reads go out: the shift before the setpoint it is in.
        for group, take in (
            (self._temperature, self._take_temperature),
            (self._shift, self._take_shift),
            (self._target, self._take_target),
            (self._operation_mode, self._take_operation_mode),
            (self._controller_mode, self._take_controller_mode),
            (self._on_off, self._take_on_off),
            (self._heat_cool, self._take_heat_cool),
        ):
            if group is None:
                continue
            self.async_on_remove(
                self.coordinator.async_add_dpt_listener(group.listen, group.dpt, take)
            )
            if group.state is not None:
                self.async_on_remove(self.coordinator.async_add_status_address(group.state))

    def _restore(self, last: State | None) -> None:
        """Show the last state until the bus answers."""
        if last is None:
            return
        attributes = last.attributes
        self._show_current_temperature(_number(attributes.get(ATTR_CURRENT_TEMPERATURE)))
        self._show_target_temperature(_number(attributes.get(ATTR_TEMPERATURE)))
        if self._operation_mode is not None and attributes.get(ATTR_PRESET_MODE) in PRESET_MODES:
            self._attr_preset_mode = attributes[ATTR_PRESET_MODE]
        if last.state in self._attr_hvac_modes:
            self._restored_hvac_mode = HVACMode(last.state)

    @callback
    def _take_temperature(self, value: DPTValue) -> None:
        self._show_current_temperature(_number(value))
        self.async_write_ha_state()

    @callback
    def _take_target(self, value: DPTValue) -> None:
        self._show_target_temperature(_number(value))
        self.async_write_ha_state()

    @callback
    def _take_shift(self, value: DPTValue) -> None:
        self._shift_value = _number(value)
        self.async_write_ha_state()

    @callback
    def _take_operation_mode(self, value: DPTValue) -> None:
        self._attr_preset_mode = value if isinstance(value, str) else None
        self.async_write_ha_state()

    @callback
    def _take_controller_mode(self, value: DPTValue) -> None:
        self._mode = value if isinstance(value, str) else None
        mode = REPORTED_CONTROLLER_MODES.get(self._mode or "")
        if mode not in (None, HVACMode.OFF):
            self._last_on_mode = mode
        self.async_write_ha_state()

    @callback
    def _take_on_off(self, value: DPTValue) -> None:
        self._on = value != self._invert
        self.async_write_ha_state()

    @callback
    def _take_heat_cool(self, value: DPTValue) -> None:
        self._heat = value is True
        self.async_write_ha_state()

    # --- what it shows -----------------------------------------------------------------------

    def _show_current_temperature(self, value: float | None) -> None:
        self._current_temperature = value
        setattr(self, _CURRENT_TEMPERATURE_ATTR, value)

    def _show_target_temperature(self, value: float | None) -> None:
        self._target_temperature = value
        setattr(self, _TARGET_TEMPERATURE_ATTR, value)

    @property
    def hvac_mode(self) -> HVACMode | None:
        """Off when switched off, else the controller mode, else heat or cool."""
        mode = self._hvac_mode_from_bus()
        return mode if mode is not None else self._restored_hvac_mode

    def _hvac_mode_from_bus(self) -> HVACMode | None:
        if self._on is False:
            return HVACMode.OFF
        if self._controller_mode is not None:
            return REPORTED_CONTROLLER_MODES.get(self._mode) if self._mode is not None else None
        if self._heat_cool is not None:
            return None if self._heat is None else (HVACMode.HEAT if self._heat else HVACMode.COOL)
        if self._on_off is not None and self._on is None:
            return None
        return HVACMode.HEAT

    @property
    def hvac_action(self) -> HVACAction | None:
        """What the controller does, derived from its mode and the two temperatures."""
        mode = self.hvac_mode
        if mode is None or mode in _MODE_ACTIONS:
            return _MODE_ACTIONS.get(mode) if mode is not None else None
        current, target = self._current_temperature, self._target_temperature
        if current is None or target is None:
            return None
        heating = self._heating(mode)
        if heating is not False and current < target:
            return HVACAction.HEATING
        if heating is not True and current > target:
            return HVACAction.COOLING
        return HVACAction.IDLE

    def _heating(self, mode: HVACMode) -> bool | None:
        """Whether it heats (True), cools (False) or may do either (None: auto)."""
        if mode == HVACMode.HEAT:
            return True
        if mode == HVACMode.COOL:
            return False
        return self._heat

    # --- to the bus --------------------------------------------------------------------------

    async def async_set_temperature(self, **kwargs: Any) -> None:
        """Write the setpoint, or the shift that brings the setpoint there."""
        if (hvac_mode := kwargs.get(ATTR_HVAC_MODE)) is not None:
            await self.async_set_hvac_mode(hvac_mode)
        if (temperature := kwargs.get(ATTR_TEMPERATURE)) is None:
            return
        if self._shift is not None:
            await self._async_write(self._shift, self._shift_for(float(temperature)))
        else:
            await self._async_write(self._target, float(temperature))

    def _shift_for(self, temperature: float) -> float:
        """The shift that brings the controller's setpoint to temperature: its base is the
        current setpoint minus the current shift."""
        target, value = self._target_temperature, self._shift_value
        if target is None or value is None:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="climate_setpoint_unknown",
                translation_placeholders={"entity_id": self.entity_id},
            )
        step = self.target_temperature_step or DEFAULT_TEMPERATURE_STEP
        base = target - (value * step if self._shift_counts else value)
        kelvin = temperature - base
        if self._shift_counts:
            low, high = SHIFT_COUNT_RANGE
            return max(low, min(high, round(kelvin / step)))
        return round(kelvin, 2)

    async def async_set_preset_mode(self, preset_mode: str) -> None:
        """Write the operation mode (DPT 20.102) of the preset."""
        await self._async_write(self._operation_mode, preset_mode)

    async def async_set_hvac_mode(self, hvac_mode: HVACMode) -> None:
        """Off: switch off (on/off, else the controller mode off). Another mode: the
        controller mode, else heat/cool; then switch on if it was off."""
        if hvac_mode == HVACMode.OFF and self._writable(self._on_off):
            await self._async_switch(on=False)
            return
        if self._writable(self._controller_mode):
            await self._async_write(self._controller_mode, CONTROLLER_MODES[hvac_mode])
        elif self._writable(self._heat_cool) and hvac_mode in (HVACMode.HEAT, HVACMode.COOL):
            await self._async_write(self._heat_cool, hvac_mode == HVACMode.HEAT)
        elif not self._writable(self._on_off):
            raise self._not_writable()
        if hvac_mode != HVACMode.OFF and self._writable(self._on_off) and self._on is not True:
            await self._async_switch(on=True)

    async def async_turn_on(self) -> None:
        """Switch on (on/off), else back to the last controller mode that was not off."""
        if self._writable(self._on_off):
            await self._async_switch(on=True)
            return
        on_modes = [mode for mode in self.hvac_modes if mode != HVACMode.OFF]
        if self._last_on_mode is None and not on_modes:
            raise self._not_writable()
        await self.async_set_hvac_mode(self._last_on_mode or on_modes[0])

    async def async_turn_off(self) -> None:
        """Switch off."""
        await self.async_set_hvac_mode(HVACMode.OFF)

    async def _async_switch(self, *, on: bool) -> None:
        await self._async_write(self._on_off, on != self._invert)

    async def _async_write(self, group: GroupObject | None, value: DPTValue) -> None:
        """Write value to the group object's command address (the user's error if the
        subentry has none)."""
        if group is None or group.write is None:
            raise self._not_writable()
        await self.coordinator.async_write_dpt(group.write, group.dpt, value)

    @staticmethod
    def _writable(group: GroupObject | None) -> bool:
        return group is not None and group.write is not None

    def _not_writable(self) -> ServiceValidationError:
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="climate_not_writable",
            translation_placeholders={"entity_id": self.entity_id},
        )
