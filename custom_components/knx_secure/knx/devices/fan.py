"""A fan actuator: on/off (1.001), speed as a percentage (5.001) or a step (5.010 up to
``max_step``), oscillation (1.001), each reporting on its status address.

Like a real fan actuator the speed and the relay go together: a speed above 0 switches on,
0 switches off; switching on returns to the last speed (full speed the first time),
switching off reports speed 0. ``press`` toggles the fan on the device itself (a local
button), ``set_speed`` changes the speed there. Reads of a status address are answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..address import GroupAddress, IndividualAddress
from ..dpt import decode_dpt1, encode_dpt1, get_dpt
from ..errors import DPTError, FrameError, InstallationError
from ..keyring import Keyring
from ..telegram import GroupValue
from .base import SimulatedDevice
from .spec import Spec, group_address, number, optional_group_address

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = ["FAN_SPEED_DPTS", "FanActuator", "FanSpec", "fan_from_spec"]

FAN_SPEED_DPTS = ("5.001", "5.010")


@dataclass(frozen=True, slots=True)
class FanSpec:
    """The fan's group addresses (speed and oscillation optional)."""

    switch: GroupAddress
    switch_status: GroupAddress
    speed: GroupAddress | None = None
    speed_status: GroupAddress | None = None
    speed_dpt: str = "5.001"
    max_step: int = 3
    oscillation: GroupAddress | None = None
    oscillation_status: GroupAddress | None = None

    @property
    def full_speed(self) -> int:
        return 100 if self.speed_dpt == "5.001" else self.max_step


class FanActuator(SimulatedDevice):
    """One simulated fan actuator (see the module docstring)."""

    kind = "fan"

    def __init__(
        self,
        address: IndividualAddress,
        keyring: Keyring,
        bus: Bus,
        spec: FanSpec,
        *,
        status_delay: float = 0.0,
    ) -> None:
        super().__init__(address, keyring, bus, status_delay=status_delay)
        self.spec = spec
        self._speed_dpt = get_dpt(spec.speed_dpt)
        self.on = False
        self.speed = 0  # percent or step; 0 while off
        self._last_speed = spec.full_speed
        self.oscillating = False
        self.watch(
            a
            for a in (
                spec.switch,
                spec.switch_status,
                spec.speed,
                spec.speed_status,
                spec.oscillation,
                spec.oscillation_status,
            )
            if a is not None
        )

    # --- local operation ---------------------------------------------------------------------

    def press(self) -> None:
        """The button on the device: toggles on and off, reported."""
        self._switch(not self.on)

    def set_speed(self, speed: int) -> None:
        """The speed set on the device (0 switches off), reported (DPTError if out of range)."""
        self._speed_dpt.encode(speed)
        if speed > self.spec.full_speed:
            raise DPTError(f"{self._speed_dpt.label}: speed {speed} above {self.spec.full_speed}")
        self._set_speed(speed)

    # --- the bus side ------------------------------------------------------------------------

    def on_write(self, address: GroupAddress, value: GroupValue) -> None:
        try:
            if address == self.spec.switch:
                self._switch(decode_dpt1(value))
            elif address == self.spec.speed:
                speed = self._speed_dpt.decode(value)
                if isinstance(speed, int):
                    self._set_speed(min(speed, self.spec.full_speed))
            elif address == self.spec.oscillation:
                self.oscillating = decode_dpt1(value)
                self._report_oscillation()
        except FrameError:  # DPTError too: not a value of the object's type, ignored
            return

    def on_read(self, address: GroupAddress) -> GroupValue | None:
        if address == self.spec.switch_status:
            return encode_dpt1(self.on)
        if address == self.spec.speed_status:
            return self._speed_dpt.encode(self.speed)
        if address == self.spec.oscillation_status:
            return encode_dpt1(self.oscillating)
        return None

    # --- behaviour -----------------------------------------------------------------------------

    def _switch(self, on: bool) -> None:
        self.on = on
        self.speed = self._last_speed if on else 0
        self._report()

    def _set_speed(self, speed: int) -> None:
        if speed > 0:
            self._last_speed = speed
        self.on = speed > 0
        self.speed = speed
        self._report()

    def _report(self) -> None:
        self.send_write(self.spec.switch_status, encode_dpt1(self.on), delayed=True)
        if self.spec.speed_status is not None:
            payload = self._speed_dpt.encode(self.speed)
            self.send_write(self.spec.speed_status, payload, delayed=True)

    def _report_oscillation(self) -> None:
        if self.spec.oscillation_status is not None:
            payload = encode_dpt1(self.oscillating)
            self.send_write(self.spec.oscillation_status, payload, delayed=True)


def fan_from_spec(
    address: IndividualAddress,
    keyring: Keyring,
    bus: Bus,
    spec: Spec,
    *,
    status_delay: float,
) -> FanActuator:
    """A fan actuator from ``{"switch": GA, "switch_status": GA, "speed": GA,
    "speed_status": GA, "speed_dpt": "5.001" | "5.010", "max_step": n, "oscillation": GA,
    "oscillation_status": GA}`` (speed and oscillation optional; max_step for 5.010)."""
    speed_dpt = spec.get("speed_dpt", "5.001")
    if speed_dpt not in FAN_SPEED_DPTS:
        raise InstallationError(f"speed_dpt: one of {', '.join(FAN_SPEED_DPTS)}, not {speed_dpt!r}")
    fan = FanSpec(
        switch=group_address(spec, "switch"),
        switch_status=group_address(spec, "switch_status"),
        speed=optional_group_address(spec, "speed"),
        speed_status=optional_group_address(spec, "speed_status"),
        speed_dpt=str(speed_dpt),
        max_step=int(number(spec, "max_step", 3, minimum=1, maximum=255)),
        oscillation=optional_group_address(spec, "oscillation"),
        oscillation_status=optional_group_address(spec, "oscillation_status"),
    )
    return FanActuator(address, keyring, bus, fan, status_delay=status_delay)
