"""A dimmer actuator and a colour light (a dimmer with RGB and colour temperature).

Like real dimmers they work in the 256 steps of DPT 5.001's octet: brightness 0 is off, a
switch ON brings back the last brightness, and every change is reported on the status
addresses (after ``status_delay``, later by ``dim_time`` for a dimmed change). The colour
light keeps its colour and its colour temperature (clamped to its Kelvin range) whether on
or off, and reports each on its status address.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ..address import GroupAddress, IndividualAddress
from ..dpt import DPT, get_dpt
from ..errors import DPTError, InstallationError
from ..keyring import Keyring
from ..telegram import GroupValue
from .base import SimulatedDevice
from .spec import Spec, group_address, number

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = [
    "ColourLight",
    "ColourLightSpec",
    "Dimmer",
    "DimmerSpec",
    "colour_light_from_spec",
    "dimmer_from_spec",
]

SWITCH: Final[DPT] = get_dpt("1.001")
# DPT 5.001's octet read unscaled: a dimmer has 256 steps, 0..100 % is only their label.
OCTET: Final[DPT] = get_dpt("5")
RGB: Final[DPT] = get_dpt("232.600")
KELVIN: Final[DPT] = get_dpt("7.600")

FULL = 255
DEFAULT_MIN_KELVIN = 2700
DEFAULT_MAX_KELVIN = 6500
WHITE: Final[dict[str, int]] = {"red": FULL, "green": FULL, "blue": FULL}


@dataclass(frozen=True, slots=True)
class DimmerSpec:
    """A dimmer's group addresses; ``dim_time``: seconds from 0 to 100 % (0: at once)."""

    switch: GroupAddress
    switch_status: GroupAddress
    brightness: GroupAddress
    brightness_status: GroupAddress
    dim_time: float = 0.0


@dataclass(frozen=True, slots=True)
class ColourLightSpec:
    """The colour part of a colour light (next to its ``DimmerSpec``)."""

    rgb: GroupAddress
    rgb_status: GroupAddress
    color_temperature: GroupAddress
    color_temperature_status: GroupAddress
    min_kelvin: int = DEFAULT_MIN_KELVIN
    max_kelvin: int = DEFAULT_MAX_KELVIN


class Dimmer(SimulatedDevice):
    """One dimmer channel: switch and brightness, each with a status address."""

    kind = "dimmer"

    def __init__(
        self,
        address: IndividualAddress,
        keyring: Keyring,
        bus: Bus,
        spec: DimmerSpec,
        *,
        status_delay: float = 0.0,
    ) -> None:
        super().__init__(address, keyring, bus, status_delay=status_delay)
        self.spec = spec
        self.brightness = 0  # the octet, 0..255; 0 is off
        self.last_brightness = FULL  # what a switch ON brings back
        self._reported_on = False
        self._dimming: asyncio.TimerHandle | None = None
        self.watch((spec.switch, spec.switch_status, spec.brightness, spec.brightness_status))

    @property
    def is_on(self) -> bool:
        return self.brightness > 0

    # --- local operation (a push button on the device) -------------------------------------

    def operate(self, on: bool) -> None:
        """Switch locally: reported like a bus write."""
        self._switch(on)

    def operate_brightness(self, brightness: int) -> None:
        """Dim locally to brightness (0..255): reported like a bus write."""
        self._dim_to(brightness)

    # --- the bus -----------------------------------------------------------------------------

    def on_write(self, address: GroupAddress, value: GroupValue) -> None:
        try:
            if address == self.spec.switch:
                self._switch(SWITCH.decode(value) is True)
            elif address == self.spec.brightness:
                self._dim_to(_whole(OCTET.decode(value)))
        except DPTError:
            return  # not a value of the object's type: a real actuator ignores it too

    def on_read(self, address: GroupAddress) -> GroupValue | None:
        if address == self.spec.switch_status:
            return SWITCH.encode(self.is_on)
        if address == self.spec.brightness_status:
            return OCTET.encode(self.brightness)
        return None

    def _switch(self, on: bool) -> None:
        self._dim_to(self.last_brightness if on else 0)

    def _dim_to(self, brightness: int) -> None:
        """Go to brightness now, or after the dimming time of the step (then report); a new
        command replaces a dimming under way."""
        if self._dimming is not None:
            self._dimming.cancel()
            self._dimming = None
        delay = self.spec.dim_time * abs(brightness - self.brightness) / FULL
        if delay > 0:
            self._dimming = self.call_later(delay, lambda: self._set_brightness(brightness))
        else:
            self._set_brightness(brightness)

    def _set_brightness(self, brightness: int) -> None:
        self._dimming = None
        if brightness > 0:
            self.last_brightness = brightness
        changed = brightness != self.brightness
        self.brightness = brightness
        if self._reported_on != self.is_on:
            self._reported_on = self.is_on
            self.send_write(self.spec.switch_status, SWITCH.encode(self.is_on), delayed=True)
        if changed:
            self.send_write(
                self.spec.brightness_status, OCTET.encode(self.brightness), delayed=True
            )


class ColourLight(Dimmer):
    """A dimmer with an RGB colour and a colour temperature in Kelvin, each with status."""

    kind = "colour_light"

    def __init__(
        self,
        address: IndividualAddress,
        keyring: Keyring,
        bus: Bus,
        spec: DimmerSpec,
        colour: ColourLightSpec,
        *,
        status_delay: float = 0.0,
    ) -> None:
        super().__init__(address, keyring, bus, spec, status_delay=status_delay)
        self.colour = colour
        self.rgb: dict[str, int] = dict(WHITE)
        self.kelvin = colour.max_kelvin
        self.watch(
            (
                colour.rgb,
                colour.rgb_status,
                colour.color_temperature,
                colour.color_temperature_status,
            )
        )

    def on_write(self, address: GroupAddress, value: GroupValue) -> None:
        try:
            if address == self.colour.rgb:
                self.set_rgb(_rgb(RGB.decode(value)))
            elif address == self.colour.color_temperature:
                self.set_kelvin(_whole(KELVIN.decode(value)))
            else:
                super().on_write(address, value)
        except DPTError:
            return

    def on_read(self, address: GroupAddress) -> GroupValue | None:
        if address == self.colour.rgb_status:
            return RGB.encode(self.rgb)
        if address == self.colour.color_temperature_status:
            return KELVIN.encode(self.kelvin)
        return super().on_read(address)

    def set_rgb(self, rgb: dict[str, int]) -> None:
        """Take a colour (also a local operation): reported when it changed."""
        if rgb != self.rgb:
            self.rgb = dict(rgb)
            self.send_write(self.colour.rgb_status, RGB.encode(self.rgb), delayed=True)

    def set_kelvin(self, kelvin: int) -> None:
        """Take a colour temperature, clamped to the light's range; the status reports the
        temperature the light actually has."""
        clamped = min(max(kelvin, self.colour.min_kelvin), self.colour.max_kelvin)
        if clamped != self.kelvin:
            self.kelvin = clamped
            self.send_write(
                self.colour.color_temperature_status, KELVIN.encode(clamped), delayed=True
            )


def _whole(value: object) -> int:
    """An integer-valued DPT's value (its codec only returns ints)."""
    if not isinstance(value, int):
        raise DPTError(f"expected a whole number, got {value!r}")
    return value


def _rgb(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        raise DPTError(f"expected an RGB colour, got {value!r}")
    return {part: _whole(value[part]) for part in ("red", "green", "blue")}


def _dimmer_spec(spec: Spec) -> DimmerSpec:
    return DimmerSpec(
        switch=group_address(spec, "switch"),
        switch_status=group_address(spec, "switch_status"),
        brightness=group_address(spec, "brightness"),
        brightness_status=group_address(spec, "brightness_status"),
        dim_time=number(spec, "dim_time", 0.0, minimum=0, maximum=3600),
    )


def dimmer_from_spec(
    address: IndividualAddress,
    keyring: Keyring,
    bus: Bus,
    spec: Spec,
    *,
    status_delay: float,
) -> Dimmer:
    """A dimmer from ``{"switch", "switch_status", "brightness", "brightness_status": GA,
    "dim_time": s}``."""
    return Dimmer(address, keyring, bus, _dimmer_spec(spec), status_delay=status_delay)


def colour_light_from_spec(
    address: IndividualAddress,
    keyring: Keyring,
    bus: Bus,
    spec: Spec,
    *,
    status_delay: float,
) -> ColourLight:
    """A colour light from the dimmer's fields plus ``rgb``, ``rgb_status``,
    ``color_temperature``, ``color_temperature_status`` and ``min_kelvin``/``max_kelvin``."""
    dimmer = _dimmer_spec(spec)
    min_kelvin = int(number(spec, "min_kelvin", DEFAULT_MIN_KELVIN, minimum=1, maximum=65535))
    max_kelvin = int(number(spec, "max_kelvin", DEFAULT_MAX_KELVIN, minimum=1, maximum=65535))
    if min_kelvin >= max_kelvin:
        raise InstallationError(f"min_kelvin: {min_kelvin} is not below max_kelvin {max_kelvin}")
    colour = ColourLightSpec(
        rgb=group_address(spec, "rgb"),
        rgb_status=group_address(spec, "rgb_status"),
        color_temperature=group_address(spec, "color_temperature"),
        color_temperature_status=group_address(spec, "color_temperature_status"),
        min_kelvin=min_kelvin,
        max_kelvin=max_kelvin,
    )
    return ColourLight(address, keyring, bus, dimmer, colour, status_delay=status_delay)
