"""Lights: on/off, brightness, colour temperature, colour (RGB, RGBW, xyY) or colour channels.

Every value of a light is a part of its subentry (``subentries/light.py``): a write address
and an optional status address; the state follows the status address, else the write
address (our confirmed writes and anybody else's). The parts given decide the colour modes
as Home Assistant's rules want them: one colour mode (xy, RGBW or RGB) and/or colour
temperature; else brightness; ONOFF only alone.

Brightness travels as DPT 5.001, whose octet has 256 steps: Home Assistant's brightness
0..255 is that octet itself (read unscaled, DPT 5), so a value read back is exactly the one
written and repeated reads never drift (a detour through whole percent would: 1 reads back
as 0 %).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_COLOR_MODE,
    ATTR_COLOR_TEMP_KELVIN,
    ATTR_RGB_COLOR,
    ATTR_RGBW_COLOR,
    ATTR_XY_COLOR,
    LightEntity,
)
from homeassistant.components.light.const import ColorMode
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .const import (
    CONF_COLOR_TEMPERATURE_TYPE,
    CONF_COLOR_TYPE,
    CONF_LIGHT_BRIGHTNESS,
    CONF_LIGHT_COLOR,
    CONF_LIGHT_COLOR_TEMPERATURE,
    CONF_LIGHT_SWITCH,
    CONF_MAX_KELVIN,
    CONF_MIN_KELVIN,
    DEFAULT_MAX_KELVIN,
    DEFAULT_MIN_KELVIN,
    LIGHT_CHANNELS,
    SUBENTRY_LIGHT,
)
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import KNXSecureSubentryEntity, async_add_subentry_entities
from .knx.address import GroupAddress
from .knx.dpt import DPT, DPTValue, FieldValue, get_dpt
from .subentries.light import channel_part, state_key, write_key

PARALLEL_UPDATES = 0  # writes are serialized by the tunnel itself

SWITCH: Final = get_dpt("1.001")
# DPT 5.001's octet read unscaled (see the module docstring).
OCTET: Final = get_dpt("5")
KELVIN: Final = get_dpt("7.600")
RELATIVE_COLOR_TEMPERATURE = "5.001"
FULL = 255
COLOR_MODES: Final = {
    "232.600": ColorMode.RGB,
    "251.600": ColorMode.RGBW,
    "242.600": ColorMode.XY,
}
RGBW_KEYS: Final = ("red", "green", "blue", "white")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one light per light subentry."""
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_LIGHT, KNXSecureLight)


@dataclass(frozen=True, slots=True)
class Part:
    """One value of the light: where it is written and where it is reported."""

    write: GroupAddress
    state: GroupAddress | None

    @property
    def listen(self) -> GroupAddress:
        return self.state or self.write


def light_part(data: Mapping[str, Any], part: str) -> Part | None:
    """The part's addresses in a subentry's data; None when the light has no such part."""
    if not (write := data.get(write_key(part))):
        return None
    state = data.get(state_key(part))
    return Part(GroupAddress.parse(write), GroupAddress.parse(state) if state else None)


def kelvin_to_octet(kelvin: int, low: int, high: int) -> int:
    """Relative colour temperature: the step of low..high (0..255) nearest to kelvin."""
    return min(max(round((kelvin - low) * FULL / (high - low)), 0), FULL)


def octet_to_kelvin(octet: int, low: int, high: int) -> int:
    return low + round(octet * (high - low) / FULL)


def scaled(values: tuple[int, ...], brightness: int) -> tuple[int, ...]:
    """A colour at full brightness dimmed to brightness (0..255)."""
    return tuple(round(v * brightness / FULL) for v in values)


def at_full(values: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """A colour split into the colour at full brightness and its brightness (its largest
    part): how Home Assistant shows a light whose colour also carries its brightness."""
    brightness = max(values)
    if brightness == 0:
        return values, 0  # black: no colour to tell
    return tuple(round(v * FULL / brightness) for v in values), brightness


@dataclass(slots=True)
class Channel:
    """A colour channel of its own: brightness (and optionally a switch) per colour."""

    brightness: Part
    switch: Part | None
    value: int | None = None
    on: bool | None = None

    @property
    def level(self) -> int | None:
        """What the channel shows: its brightness, 0 while switched off."""
        return 0 if self.on is False else self.value


class KNXSecureLight(KNXSecureSubentryEntity, LightEntity, RestoreEntity):
    """A KNX light built from the parts of its subentry (see the module docstring)."""

    _device_model = "Light"

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize the parts and the colour modes they give."""
        super().__init__(coordinator, subentry)
        data = subentry.data
        self._switch = light_part(data, CONF_LIGHT_SWITCH)
        self._brightness = light_part(data, CONF_LIGHT_BRIGHTNESS)
        self._color_temperature = light_part(data, CONF_LIGHT_COLOR_TEMPERATURE)
        self._relative = data.get(CONF_COLOR_TEMPERATURE_TYPE) == RELATIVE_COLOR_TEMPERATURE
        self._min_kelvin = int(data.get(CONF_MIN_KELVIN, DEFAULT_MIN_KELVIN))
        self._max_kelvin = int(data.get(CONF_MAX_KELVIN, DEFAULT_MAX_KELVIN))
        self._color = light_part(data, CONF_LIGHT_COLOR)
        self._color_dpt = get_dpt(data.get(CONF_COLOR_TYPE) or "232.600")
        self._channels: dict[str, Channel] = {}
        for colour in LIGHT_CHANNELS:
            if brightness := light_part(data, channel_part(colour, CONF_LIGHT_BRIGHTNESS)):
                switch = light_part(data, channel_part(colour, CONF_LIGHT_SWITCH))
                self._channels[colour] = Channel(brightness, switch)
        self._resume: tuple[int, ...] | None = None  # channel levels at the last turn off
        self._colour_mode = self._configured_colour_mode()
        modes: set[ColorMode] = set()
        if self._colour_mode is not None:
            modes.add(self._colour_mode)
        if self._color_temperature is not None:
            modes.add(ColorMode.COLOR_TEMP)
            self._attr_min_color_temp_kelvin = self._min_kelvin
            self._attr_max_color_temp_kelvin = self._max_kelvin
        if not modes:
            modes.add(ColorMode.ONOFF if self._brightness is None else ColorMode.BRIGHTNESS)
        self._attr_supported_color_modes = modes
        self._attr_color_mode = self._colour_mode or next(iter(modes))
        self._attr_is_on = None

    def _configured_colour_mode(self) -> ColorMode | None:
        if self._color is not None:
            return COLOR_MODES[self._color_dpt.id]
        if not self._channels:
            return None
        return ColorMode.RGBW if "white" in self._channels else ColorMode.RGB

    @property
    def _colour_carries_brightness(self) -> bool:
        """Whether brightness lives in the colour (no brightness address of its own)."""
        return self._brightness is None and self._colour_mode is not None

    @property
    def _brightness_tells_on(self) -> bool:
        """Without a switch status, a brightness from the bus also says on (> 0) or off."""
        return self._switch is None or self._switch.state is None

    # --- from the bus ------------------------------------------------------------------------

    async def async_added_to_hass(self) -> None:
        """Restore the last state, then follow the bus."""
        await super().async_added_to_hass()
        if (last_state := await self.async_get_last_state()) is not None:
            self._restore(last_state.state, last_state.attributes)
        for part, dpt, handler in self._listened_parts():
            self.async_on_remove(self.coordinator.async_add_dpt_listener(part.listen, dpt, handler))
            if part.state is not None:
                self.async_on_remove(self.coordinator.async_add_status_address(part.state))

    def _listened_parts(self) -> list[tuple[Part, DPT, Callable[[DPTValue], None]]]:
        parts: list[tuple[Part, DPT, Callable[[DPTValue], None]]] = []
        if self._switch is not None:
            parts.append((self._switch, SWITCH, self._take_switch))
        if self._brightness is not None:
            parts.append((self._brightness, OCTET, self._take_brightness))
        if self._color_temperature is not None:
            dpt = OCTET if self._relative else KELVIN
            parts.append((self._color_temperature, dpt, self._take_color_temperature))
        if self._color is not None:
            parts.append((self._color, self._color_dpt, self._take_color))
        for channel in self._channels.values():
            parts.append((channel.brightness, OCTET, self._channel_taker(channel, OCTET)))
            if channel.switch is not None:
                parts.append((channel.switch, SWITCH, self._channel_taker(channel, SWITCH)))
        return parts

    def _restore(self, state: str, attributes: Mapping[str, Any]) -> None:
        """Show the last known state until the bus answers."""
        if state in (STATE_ON, STATE_OFF):
            self._attr_is_on = state == STATE_ON
        self._attr_brightness = attributes.get(ATTR_BRIGHTNESS)
        self._attr_color_temp_kelvin = attributes.get(ATTR_COLOR_TEMP_KELVIN)
        if (rgb := attributes.get(ATTR_RGB_COLOR)) is not None:
            self._attr_rgb_color = (rgb[0], rgb[1], rgb[2])
        if (rgbw := attributes.get(ATTR_RGBW_COLOR)) is not None:
            self._attr_rgbw_color = (rgbw[0], rgbw[1], rgbw[2], rgbw[3])
        if (xy := attributes.get(ATTR_XY_COLOR)) is not None:
            self._attr_xy_color = (xy[0], xy[1])
        mode = attributes.get(ATTR_COLOR_MODE)
        if isinstance(mode, str) and mode in (self._attr_supported_color_modes or ()):
            self._attr_color_mode = ColorMode(mode)

    @callback
    def _take_switch(self, value: DPTValue) -> None:
        self._attr_is_on = value is True
        self.async_write_ha_state()

    @callback
    def _take_brightness(self, value: DPTValue) -> None:
        assert isinstance(value, int)
        if value > 0:
            self._attr_brightness = value
        if self._brightness_tells_on:
            self._attr_is_on = value > 0
        self.async_write_ha_state()

    @callback
    def _take_color_temperature(self, value: DPTValue) -> None:
        assert isinstance(value, int)
        if self._relative:
            value = octet_to_kelvin(value, self._min_kelvin, self._max_kelvin)
        self._take_mode(ColorMode.COLOR_TEMP, value != self._attr_color_temp_kelvin)
        self._attr_color_temp_kelvin = value
        self.async_write_ha_state()

    @callback
    def _take_color(self, value: DPTValue) -> None:
        assert isinstance(value, dict)
        if self._colour_mode is ColorMode.XY:
            self._take_xyy(value)
        else:
            keys = RGBW_KEYS if self._colour_mode is ColorMode.RGBW else RGBW_KEYS[:3]
            known = self._colour_values()
            parts = tuple(
                part if isinstance(part := value.get(key), int) else known[index]
                for index, key in enumerate(keys)
            )
            self._take_colour_values(parts)
        self.async_write_ha_state()

    def _take_xyy(self, value: Mapping[str, Any]) -> None:
        x, y, brightness = value.get("x_axis"), value.get("y_axis"), value.get("brightness")
        if x is not None and y is not None:
            self._take_mode(ColorMode.XY, (x, y) != self._attr_xy_color)
            self._attr_xy_color = (x, y)
        if brightness is not None and self._brightness is None:
            if brightness > 0:
                self._attr_brightness = brightness
            if self._brightness_tells_on:
                self._attr_is_on = brightness > 0

    def _colour_values(self) -> tuple[int, ...]:
        """The colour as it travels (RGB or RGBW), dimmed when it carries the brightness."""
        colour: tuple[int, ...] | None = (
            self._attr_rgbw_color if self._colour_mode is ColorMode.RGBW else self._attr_rgb_color
        )
        if colour is None:
            colour = (FULL,) * (4 if self._colour_mode is ColorMode.RGBW else 3)
        if self._colour_carries_brightness:
            return scaled(colour, self._attr_brightness or FULL)
        return colour

    def _take_colour_values(self, values: tuple[int, ...]) -> None:
        """A colour as it travels (RGB or RGBW) from the bus."""
        if self._colour_carries_brightness:
            values, brightness = at_full(values)
            if self._brightness_tells_on:
                self._attr_is_on = brightness > 0
            if brightness == 0:
                return  # dark: the colour and brightness to come back to stay
            self._attr_brightness = brightness
        rgbw = self._colour_mode is ColorMode.RGBW
        assert self._colour_mode is not None
        known = self._attr_rgbw_color if rgbw else self._attr_rgb_color
        self._take_mode(self._colour_mode, values != known)
        if rgbw:
            self._attr_rgbw_color = (values[0], values[1], values[2], values[3])
        else:
            self._attr_rgb_color = (values[0], values[1], values[2])

    def _channel_taker(self, channel: Channel, dpt: DPT) -> Callable[[DPTValue], None]:
        @callback
        def take(value: DPTValue) -> None:
            if dpt is SWITCH:
                channel.on = value is True
            else:
                assert isinstance(value, int)
                channel.value = value
            levels = [c.level for c in self._channels.values()]
            if all(level is not None for level in levels):
                self._take_colour_values(tuple(level or 0 for level in levels))
            self.async_write_ha_state()

        return take

    def _take_mode(self, mode: ColorMode, changed: bool) -> None:
        """A light with colour and colour temperature shows the one that changed last."""
        if changed:
            self._attr_color_mode = mode

    # --- to the bus --------------------------------------------------------------------------

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Write what was asked; switch on unless a write did (or the light is on)."""
        brightness: int | None = kwargs.get(ATTR_BRIGHTNESS)
        kelvin: int | None = kwargs.get(ATTR_COLOR_TEMP_KELVIN)
        colour = kwargs.get(ATTR_RGBW_COLOR) or kwargs.get(ATTR_RGB_COLOR)
        xy = kwargs.get(ATTR_XY_COLOR)
        switched_on = False
        if kelvin is not None and self._color_temperature is not None:
            await self._write_color_temperature(kelvin)
        if self._brightness is not None and brightness is not None:
            await self.coordinator.async_write_dpt(self._brightness.write, OCTET, brightness)
            switched_on = brightness > 0
        carried = brightness if self._colour_carries_brightness else None
        if self._colour_mode is ColorMode.XY:
            if xy is not None or carried is not None:
                switched_on |= await self._write_xyy(xy, carried)
        elif colour is not None or carried is not None:
            switched_on |= await self._write_colour(colour, carried)
        asked = kelvin is not None or brightness is not None or colour or xy
        if not switched_on and (not self.is_on or not asked):
            await self._switch_on()

    async def _switch_on(self) -> None:
        if self._switch is not None:
            await self.coordinator.async_write_dpt(self._switch.write, SWITCH, True)
        elif self._resume is not None:
            await self._write_levels(self._resume)  # as the light was when switched off
        else:
            await self._write_colour(None, None)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch off (the colour channels one by one when there is no switch)."""
        if self._switch is not None:
            await self.coordinator.async_write_dpt(self._switch.write, SWITCH, False)
            return
        # The channels report one by one on the way down, each showing a colour the light
        # never had: keep the levels to come back to.
        levels = tuple(channel.level for channel in self._channels.values())
        if any(levels) and None not in levels:
            self._resume = tuple(level or 0 for level in levels)
        for channel in self._channels.values():
            if channel.switch is not None:
                await self.coordinator.async_write_dpt(channel.switch.write, SWITCH, False)
            else:
                await self.coordinator.async_write_dpt(channel.brightness.write, OCTET, 0)

    async def _write_color_temperature(self, kelvin: int) -> None:
        assert self._color_temperature is not None
        kelvin = min(max(kelvin, self._min_kelvin), self._max_kelvin)
        if self._relative:
            octet = kelvin_to_octet(kelvin, self._min_kelvin, self._max_kelvin)
            await self.coordinator.async_write_dpt(self._color_temperature.write, OCTET, octet)
        else:
            await self.coordinator.async_write_dpt(self._color_temperature.write, KELVIN, kelvin)

    async def _write_xyy(self, xy: tuple[float, float] | None, brightness: int | None) -> bool:
        """Write x and y and/or the brightness in one xyY value; True if it switches on."""
        assert self._color is not None
        value: dict[str, Any] = {}
        if xy is not None:
            value["x_axis"], value["y_axis"] = round(xy[0], 5), round(xy[1], 5)
        if brightness is not None:
            value["brightness"] = brightness
        await self.coordinator.async_write_dpt(self._color.write, self._color_dpt, value)
        return bool(brightness)

    async def _write_colour(self, colour: tuple[int, ...] | None, brightness: int | None) -> bool:
        """Write an RGB(W) colour (None: the current one) to the colour address or the
        channels, dimmed to brightness when the colour carries it; True if it switches on."""
        rgbw = self._colour_mode is ColorMode.RGBW
        if colour is None:
            colour = (self._attr_rgbw_color if rgbw else self._attr_rgb_color) or (
                (FULL,) * (4 if rgbw else 3)
            )
        if self._colour_carries_brightness:
            colour = scaled(colour, brightness or self._attr_brightness or FULL)
        if self._color is not None:
            keys = RGBW_KEYS if rgbw else RGBW_KEYS[:3]
            value: dict[str, FieldValue] = dict(zip(keys, colour, strict=True))
            await self.coordinator.async_write_dpt(self._color.write, self._color_dpt, value)
        else:
            await self._write_levels(colour)
        return self._colour_carries_brightness and any(colour)

    async def _write_levels(self, levels: tuple[int, ...]) -> None:
        """Write each colour channel's brightness."""
        for channel, level in zip(self._channels.values(), levels, strict=True):
            await self.coordinator.async_write_dpt(channel.brightness.write, OCTET, level)
