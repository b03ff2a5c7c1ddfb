"""A blind actuator: a motor that travels over time and reports where it is.

Group objects (KNX percent: 0 % is up / open, 100 % is down / closed):
- ``up_down`` (DPT 1.008, 1 = down): a long-time command, travel to an end;
- ``stop`` (DPT 1.017): stop; ``step`` (DPT 1.007, 1 = down): a short-time command, which
  stops a travelling blind and turns the slats of a standing one by one step;
- ``position`` (DPT 5.001): travel to a position; ``position_status`` reports the position
  while travelling (every ``report_interval``, on change) and where the travel ends;
- ``slat`` / ``slat_status`` (DPT 5.001): the slat angle; like a venetian blind, the slats
  close when it travels down and open when it travels up.

The travel follows the event loop's clock (``call_later``) with the same calculator as the
Home Assistant cover (``knx.travel``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..address import GroupAddress, IndividualAddress
from ..dpt import get_dpt
from ..errors import DPTError
from ..keyring import Keyring
from ..telegram import GroupValue
from ..travel import CLOSED, OPEN, Direction, Travel
from .base import SimulatedDevice
from .spec import Spec, group_address, number, optional_group_address

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = ["BlindActuator", "BlindSpec", "blind_from_spec"]

_UP_DOWN = get_dpt("1.008")
_TRIGGER = get_dpt("1.017")
_STEP = get_dpt("1.007")
_PERCENT = get_dpt("5.001")

#: Slat angle change of one short-time command on a standing blind (KNX percent).
SLAT_STEP = 20.0
#: Longest time between two position reports while travelling (s); a short travel reports
#: five times on its way.
REPORT_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class BlindSpec:
    """The group addresses and the travel of one blind channel (see the module docstring)."""

    up_down: GroupAddress
    position: GroupAddress
    position_status: GroupAddress
    stop: GroupAddress | None = None
    step: GroupAddress | None = None
    slat: GroupAddress | None = None
    slat_status: GroupAddress | None = None
    travel_time: float = 20.0  # s for the full travel, up or down
    start_position: float = OPEN
    start_slat: float = OPEN

    @property
    def addresses(self) -> tuple[GroupAddress, ...]:
        every = (
            self.up_down,
            self.position,
            self.position_status,
            self.stop,
            self.step,
            self.slat,
            self.slat_status,
        )
        return tuple(address for address in every if address is not None)


class BlindActuator(SimulatedDevice):
    """One simulated blind actuator channel (see the module docstring)."""

    kind = "blind"

    def __init__(
        self,
        address: IndividualAddress,
        keyring: Keyring,
        bus: Bus,
        spec: BlindSpec,
        *,
        status_delay: float = 0.0,
    ) -> None:
        super().__init__(address, keyring, bus, status_delay=status_delay)
        self.spec = spec
        self._travel = Travel(spec.travel_time, spec.travel_time)
        self._travel.set_position(spec.start_position, now=0.0)
        self._slat = spec.start_slat
        # Each travel or stop starts a new generation: ticks of an older one do nothing.
        self._generation = 0
        self._reported: int | None = None
        self.report_interval = min(REPORT_INTERVAL, spec.travel_time / 5)
        self.watch(spec.addresses)

    # --- state and local operation (buttons on the device) ------------------------------------

    @property
    def position(self) -> float:
        """Where the blind is now (KNX percent)."""
        position = self._travel.position(_now())
        assert position is not None  # the device always knows where it is
        return position

    @property
    def slat(self) -> float:
        return self._slat

    @property
    def moving(self) -> bool:
        return self._travel.is_moving(_now())

    def operate(self, down: bool) -> None:
        """A long press on the device's button: travel to an end."""
        self.move_to(CLOSED if down else OPEN)

    def move_to(self, target: float) -> None:
        """Travel to ``target`` (KNX percent), reporting on the way."""
        now = _now()
        self._travel.start(target, now)
        self._generation += 1
        arrival = self._travel.arrival()
        if arrival is None:
            return  # already there
        if self.spec.slat is not None:
            self._set_slat(CLOSED if self._travel.direction(now) is Direction.DOWN else OPEN)
        self._schedule_tick(arrival - now)

    def stop(self) -> None:
        """Stop where the blind is and report it."""
        if not self.moving:
            return
        self._travel.stop(_now())
        self._generation += 1
        self._report(final=True)

    def set_slat(self, angle: float) -> None:
        """Turn the slats to ``angle`` (KNX percent) and report it."""
        self._set_slat(angle)

    # --- the bus -----------------------------------------------------------------------------

    def on_write(self, address: GroupAddress, value: GroupValue) -> None:
        spec = self.spec
        try:
            if address == spec.up_down:
                self.operate(down=bool(_UP_DOWN.decode(value)))
            elif address == spec.stop:
                _TRIGGER.decode(value)  # any trigger value stops; a bad payload is ignored
                self.stop()
            elif address == spec.step:
                self._short_time(down=bool(_STEP.decode(value)))
            elif address == spec.position:
                self.move_to(_percent(value))
            elif address == spec.slat:
                self._set_slat(_percent(value))
        except DPTError:
            return  # not the object's type: a real actuator ignores it too

    def on_read(self, address: GroupAddress) -> GroupValue | None:
        if address == self.spec.position_status:
            return _PERCENT.encode(round(self.position))
        if address == self.spec.slat_status:
            return _PERCENT.encode(round(self._slat))
        return None

    # --- inside --------------------------------------------------------------------------------

    def _short_time(self, down: bool) -> None:
        """A short-time command stops a travel; on a standing blind it turns the slats."""
        if self.moving:
            self.stop()
        elif self.spec.slat is not None:
            step = SLAT_STEP if down else -SLAT_STEP
            self._set_slat(min(max(self._slat + step, OPEN), CLOSED))

    def _set_slat(self, angle: float) -> None:
        if angle == self._slat:
            return
        self._slat = angle
        if self.spec.slat_status is not None:
            self.send_write(self.spec.slat_status, _PERCENT.encode(round(angle)), delayed=True)

    def _schedule_tick(self, remaining: float) -> None:
        generation = self._generation
        self.call_later(min(self.report_interval, remaining), lambda: self._tick(generation))

    def _tick(self, generation: int) -> None:
        if generation != self._generation:
            return  # a newer command took over
        arrival = self._travel.arrival()
        now = _now()
        if arrival is not None and now < arrival:
            self._report(final=False)
            self._schedule_tick(arrival - now)
        else:
            self._report(final=True)

    def _rounded_target(self) -> int | None:
        target = self._travel.target
        return None if target is None else round(target)

    def _report(self, *, final: bool) -> None:
        """Send the position status: on change while travelling, always where it ends."""
        position = round(self.position)
        if not final and (position == self._reported or position == self._rounded_target()):
            return  # the end itself is reported on arrival, when the blind no longer moves
        self._reported = position
        self.send_write(self.spec.position_status, _PERCENT.encode(position), delayed=final)


def _now() -> float:
    return asyncio.get_running_loop().time()


def _percent(value: GroupValue) -> float:
    decoded = _PERCENT.decode(value)
    assert isinstance(decoded, int)  # DPT 5.001 decodes to a whole percent
    return float(decoded)


def blind_from_spec(
    address: IndividualAddress,
    keyring: Keyring,
    bus: Bus,
    spec: Spec,
    *,
    status_delay: float,
) -> BlindActuator:
    """A blind actuator from its installation file entry (docs/DEMO.md lists the fields)."""
    blind = BlindSpec(
        up_down=group_address(spec, "up_down"),
        position=group_address(spec, "position"),
        position_status=group_address(spec, "position_status"),
        stop=optional_group_address(spec, "stop"),
        step=optional_group_address(spec, "step"),
        slat=optional_group_address(spec, "slat"),
        slat_status=optional_group_address(spec, "slat_status"),
        travel_time=number(spec, "travel_time", 20.0, minimum=0.1, maximum=3600),
        start_position=number(spec, "start_position", OPEN, minimum=OPEN, maximum=CLOSED),
        start_slat=number(spec, "start_slat", OPEN, minimum=OPEN, maximum=CLOSED),
    )
    return BlindActuator(address, keyring, bus, blind, status_delay=status_delay)
