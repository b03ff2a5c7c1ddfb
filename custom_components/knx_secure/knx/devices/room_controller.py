"""A room controller (thermostat): a setpoint, modes, on/off, and a room that follows it.

The room's temperature drifts toward the controller's setpoint while the controller works
(on, and its controller mode is not "off"), and back toward the start temperature (the
room without heating) while it does not: one ``drift_step`` every ``drift`` seconds,
reported on the temperature address. The setpoint in force is the base setpoint plus the
setpoint shift (when the controller has one): the setpoint status reports that sum, as
real controllers report their current setpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ..address import GroupAddress, IndividualAddress
from ..dpt import DPT, get_dpt
from ..errors import DPTError, InstallationError
from ..keyring import Keyring
from ..telegram import GroupValue
from .base import SimulatedDevice
from .spec import Spec, group_address, number, optional_group_address

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = ["RoomController", "RoomControllerSpec", "room_controller_from_spec"]

TEMPERATURE: Final = get_dpt("9.001")
SWITCH: Final = get_dpt("1.001")
HEAT_COOL: Final = get_dpt("1.100")
OPERATION_MODE: Final = get_dpt("20.102")
CONTROLLER_MODE: Final = get_dpt("20.105")
#: The two kinds of setpoint shift: counts of ``setpoint_shift_step`` K, or Kelvin.
SHIFT_DPTS: Final = {"6.010": get_dpt("6.010"), "9.002": get_dpt("9.002")}

DEFAULT_DRIFT: Final = 30.0  # seconds between two steps of the room temperature
DEFAULT_DRIFT_STEP: Final = 0.1  # K per step
DEFAULT_SHIFT_STEP: Final = 0.5  # K per count of a 6.010 setpoint shift


@dataclass(frozen=True, slots=True)
class RoomControllerSpec:
    """The group addresses and the start of one room controller (None: not present)."""

    temperature: GroupAddress
    setpoint: GroupAddress
    setpoint_status: GroupAddress
    operation_mode: GroupAddress | None = None
    operation_mode_status: GroupAddress | None = None
    controller_mode: GroupAddress | None = None
    controller_mode_status: GroupAddress | None = None
    on_off: GroupAddress | None = None
    on_off_status: GroupAddress | None = None
    heat_cool: GroupAddress | None = None
    heat_cool_status: GroupAddress | None = None
    setpoint_shift: GroupAddress | None = None
    setpoint_shift_status: GroupAddress | None = None
    setpoint_shift_dpt: str = "6.010"
    setpoint_shift_step: float = DEFAULT_SHIFT_STEP
    start_temperature: float = 19.0
    start_setpoint: float = 21.0
    drift: float = DEFAULT_DRIFT
    drift_step: float = DEFAULT_DRIFT_STEP


@dataclass(slots=True)
class RoomState:
    """What the controller and its room are at now."""

    temperature: float
    ambient: float  # where the room goes while the controller does not work
    base_setpoint: float
    shift: float = 0.0  # the shift's DPT value: counts (6.010) or K (9.002)
    operation_mode: str = "comfort"
    controller_mode: str = "heat"
    on: bool = True
    heat: bool = True  # 1.100: heating (True) or cooling (False)


@dataclass(frozen=True, slots=True)
class _Object:
    """A group object that receives writes: its datapoint type and the change it makes."""

    dpt: DPT
    apply: Callable[[RoomState, object], None]


class RoomController(SimulatedDevice):
    """One simulated room controller (see the module docstring).

    Writes to the setpoint, the shift, the operation mode, the controller mode, on/off and
    heat/cool change the controller; each status address reports its value after
    ``status_delay`` when it changed, and answers reads.
    """

    kind = "room_controller"

    def __init__(
        self,
        address: IndividualAddress,
        keyring: Keyring,
        bus: Bus,
        spec: RoomControllerSpec,
        *,
        status_delay: float = 0.0,
    ) -> None:
        super().__init__(address, keyring, bus, status_delay=status_delay)
        if spec.setpoint_shift_dpt not in SHIFT_DPTS:
            raise ValueError(f"setpoint shift type {spec.setpoint_shift_dpt} is not 6.010 or 9.002")
        self.spec = spec
        self.state = RoomState(
            temperature=spec.start_temperature,
            base_setpoint=spec.start_setpoint,
            ambient=spec.start_temperature,
        )
        self._shift_dpt = SHIFT_DPTS[spec.setpoint_shift_dpt]
        self._writes = self._write_objects()
        self._reports = self._status_objects()
        self.watch((*self._writes, *self._reports))
        self._drift_handle: asyncio.TimerHandle | None = None
        self._keep_drifting()

    # --- what the controller is at -----------------------------------------------------------

    @property
    def setpoint(self) -> float:
        """The setpoint in force: the base setpoint plus the shift."""
        shift = self.state.shift
        if self.spec.setpoint_shift_dpt == "6.010":
            shift *= self.spec.setpoint_shift_step
        return round(self.state.base_setpoint + shift, 2)

    @property
    def working(self) -> bool:
        """Whether the controller heats or cools: on, and its controller mode is not off."""
        return self.state.on and self.state.controller_mode != "off"

    # --- the group objects -------------------------------------------------------------------

    def _write_objects(self) -> dict[GroupAddress, _Object]:
        spec = self.spec
        objects = {
            spec.setpoint: _Object(TEMPERATURE, _set("base_setpoint")),
            spec.operation_mode: _Object(OPERATION_MODE, _set("operation_mode")),
            spec.controller_mode: _Object(CONTROLLER_MODE, _set("controller_mode")),
            spec.on_off: _Object(SWITCH, _set("on")),
            spec.heat_cool: _Object(HEAT_COOL, _set("heat")),
            spec.setpoint_shift: _Object(self._shift_dpt, _set("shift")),
        }
        return {address: o for address, o in objects.items() if address is not None}

    def _status_objects(self) -> dict[GroupAddress, tuple[DPT, Callable[[], object]]]:
        spec, state = self.spec, self.state
        reports: dict[GroupAddress | None, tuple[DPT, Callable[[], object]]] = {
            spec.temperature: (TEMPERATURE, lambda: state.temperature),
            spec.setpoint_status: (TEMPERATURE, lambda: self.setpoint),
            spec.operation_mode_status: (OPERATION_MODE, lambda: state.operation_mode),
            spec.controller_mode_status: (CONTROLLER_MODE, lambda: state.controller_mode),
            spec.on_off_status: (SWITCH, lambda: state.on),
            spec.heat_cool_status: (HEAT_COOL, lambda: state.heat),
            spec.setpoint_shift_status: (self._shift_dpt, lambda: state.shift),
        }
        return {address: r for address, r in reports.items() if address is not None}

    def on_write(self, address: GroupAddress, value: GroupValue) -> None:
        target = self._writes.get(address)
        if target is None:
            return
        try:
            decoded = target.dpt.decode(value)
        except DPTError:
            return  # not a value of the object's type: a real device ignores it too
        self._change(lambda state: target.apply(state, decoded))

    def on_read(self, address: GroupAddress) -> GroupValue | None:
        report = self._reports.get(address)
        if report is None:
            return None
        self._keep_drifting()
        return self._encoded(address)

    def operate(self, **changes: object) -> None:
        """Change the controller locally (its buttons: ``base_setpoint=22``,
        ``operation_mode="economy"``, ``on=False``...): reported like a bus write."""

        def apply(state: RoomState) -> None:
            for name, value in changes.items():
                _set(name)(state, value)

        self._change(apply)

    def _change(self, apply: Callable[[RoomState], None]) -> None:
        """Apply a change and report every status value it changed (after status_delay)."""
        before = self._status_values()
        apply(self.state)
        for address, value in self._status_values().items():
            if value != before[address] and (payload := self._encoded(address)) is not None:
                self.send_write(address, payload, delayed=True)
        self._keep_drifting()

    def _status_values(self) -> dict[GroupAddress, object]:
        return {address: value() for address, (_, value) in self._reports.items()}

    def _encoded(self, address: GroupAddress) -> GroupValue | None:
        """The status value of address as its type carries it; None when it cannot (a base
        setpoint and a shift that add up beyond 9.001's range): nothing is sent then."""
        dpt, value = self._reports[address]
        try:
            return dpt.encode(value())
        except DPTError:
            return None

    # --- the room ----------------------------------------------------------------------------

    def drift_once(self) -> None:
        """Move the room temperature one step toward where it goes; report a change."""
        goal = self.setpoint if self.working else self.state.ambient
        temperature = self.state.temperature
        step = min(self.spec.drift_step, abs(goal - temperature))
        if step <= 0:
            return
        self.state.temperature = round(temperature + (step if goal > temperature else -step), 2)
        if (payload := self._encoded(self.spec.temperature)) is not None:
            self.send_write(self.spec.temperature, payload)

    def _keep_drifting(self) -> None:
        """Schedule the next drift step unless one is scheduled (the gateway's stop cancels
        it; the next telegram starts it again). Outside an event loop (a device built or
        driven synchronously) the room moves only by ``drift_once``."""
        handle = self._drift_handle
        if (handle is not None and not handle.cancelled()) or not _loop_running():
            return
        self._drift_handle = self.call_later(self.spec.drift, self._drift_tick)

    def _drift_tick(self) -> None:
        self._drift_handle = None
        self.drift_once()
        self._keep_drifting()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _set(name: str) -> Callable[[RoomState, object], None]:
    """A change of one field of the state (the value already decoded and checked)."""

    def apply(state: RoomState, value: object) -> None:
        setattr(state, name, value)

    return apply


def room_controller_from_spec(
    address: IndividualAddress,
    keyring: Keyring,
    bus: Bus,
    spec: Spec,
    *,
    status_delay: float,
) -> RoomController:
    """A room controller from its installation file entry (fields: docs/DEMO.md)."""
    shift_dpt = spec.get("setpoint_shift_dpt", "6.010")
    if not isinstance(shift_dpt, str) or shift_dpt not in SHIFT_DPTS:
        raise InstallationError(f"setpoint_shift_dpt: 6.010 or 9.002, not {shift_dpt!r}")

    def optional(key: str) -> GroupAddress | None:
        return optional_group_address(spec, key)

    controller_spec = RoomControllerSpec(
        temperature=group_address(spec, "temperature"),
        setpoint=group_address(spec, "setpoint"),
        setpoint_status=group_address(spec, "setpoint_status"),
        operation_mode=optional("operation_mode"),
        operation_mode_status=optional("operation_mode_status"),
        controller_mode=optional("controller_mode"),
        controller_mode_status=optional("controller_mode_status"),
        on_off=optional("on_off"),
        on_off_status=optional("on_off_status"),
        heat_cool=optional("heat_cool"),
        heat_cool_status=optional("heat_cool_status"),
        setpoint_shift=optional("setpoint_shift"),
        setpoint_shift_status=optional("setpoint_shift_status"),
        setpoint_shift_dpt=shift_dpt,
        setpoint_shift_step=number(spec, "setpoint_shift_step", DEFAULT_SHIFT_STEP, minimum=0.01),
        start_temperature=number(spec, "start_temperature", 19.0, minimum=-30, maximum=60),
        start_setpoint=number(spec, "start_setpoint", 21.0, minimum=-30, maximum=60),
        drift=number(spec, "drift", DEFAULT_DRIFT, minimum=0.001),
        drift_step=number(spec, "drift_step", DEFAULT_DRIFT_STEP, minimum=0.01, maximum=10),
    )
    return RoomController(address, keyring, bus, controller_spec, status_delay=status_delay)
