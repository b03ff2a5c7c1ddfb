"""A clock: date (11.001), time (10.001) and date-time (19.001) objects that answer reads;
a display: a clock whose objects may also be texts (16.000, 16.001), recording what it gets.

Each object holds a value of its type. A write to its write address sets it (a clock being
set); the value is reported on its status address after ``status_delay`` and a read of
the status address (or of the write address when there is none) is answered with it.
``set_value`` changes it locally (the clock ticked, somebody set it on the device) and
reports it. Every value written to an object is recorded in ``received`` (a display shows
the 14-character frames of a longer message one after the other).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..address import GroupAddress, IndividualAddress
from ..dpt import DPT, DPTValue, get_dpt
from ..errors import DPTError, InstallationError
from ..keyring import Keyring
from ..telegram import GroupValue
from .base import SimulatedDevice
from .spec import Spec, add_objects, group_address, optional_group_address

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = [
    "CLOCK_DPTS",
    "DISPLAY_DPTS",
    "ClockDevice",
    "ClockObjectSpec",
    "DisplayDevice",
    "clock_from_spec",
    "display_from_spec",
]

#: The types a clock object may have.
CLOCK_DPTS = ("10.001", "11.001", "19.001")
#: The types a display object may have.
DISPLAY_DPTS = (*CLOCK_DPTS, "16.000", "16.001")


@dataclass(frozen=True, slots=True)
class ClockObjectSpec:
    """One object: set on ``write_address``, reported on ``status_address`` (None: reads of
    the write address are answered), starting at ``value`` of type ``dpt``."""

    write_address: GroupAddress
    dpt: DPT
    value: DPTValue
    status_address: GroupAddress | None = None


@dataclass(slots=True)
class _Object:
    spec: ClockObjectSpec
    value: DPTValue

    @property
    def read_address(self) -> GroupAddress:
        return self.spec.status_address or self.spec.write_address


class ClockDevice(SimulatedDevice):
    """One simulated clock with its date and time objects (see the module docstring)."""

    kind = "clock"
    dpts: tuple[str, ...] = CLOCK_DPTS

    def __init__(
        self, address: IndividualAddress, keyring: Keyring, bus: Bus, *, status_delay: float = 0.0
    ) -> None:
        super().__init__(address, keyring, bus, status_delay=status_delay)
        self._by_write: dict[GroupAddress, _Object] = {}
        self._by_read: dict[GroupAddress, _Object] = {}
        #: Reads answered, by group address.
        self.reads_answered: Counter[GroupAddress] = Counter()
        #: Every value written to an object, by write address, oldest first.
        self.received: dict[GroupAddress, list[DPTValue]] = {}

    def add_object(self, spec: ClockObjectSpec) -> None:
        """One more object (ValueError: an address is taken or the value does not fit)."""
        if spec.write_address in self._by_write:
            raise ValueError(f"device {self.address} already has {spec.write_address}")
        if spec.dpt.id not in self.dpts:
            raise ValueError(f"{spec.dpt.label} is not one of {', '.join(self.dpts)}")
        carried = spec.dpt.decode(spec.dpt.encode(spec.value))  # DPTError is a ValueError
        entry = _Object(spec, carried)
        self._by_write[spec.write_address] = entry
        self._by_read[entry.read_address] = entry
        self.watch({spec.write_address, entry.read_address})

    def value(self, write_address: GroupAddress) -> DPTValue:
        """The current value of the object set on write_address (KeyError if none)."""
        return self._by_write[write_address].value

    def set_value(self, write_address: GroupAddress, value: DPTValue) -> None:
        """Change the object's value locally and report it (DPTError if it does not fit)."""
        entry = self._by_write[write_address]
        entry.value = entry.spec.dpt.decode(entry.spec.dpt.encode(value))
        self._report(entry)

    def on_write(self, address: GroupAddress, value: GroupValue) -> None:
        entry = self._by_write.get(address)
        if entry is None:
            return
        try:
            entry.value = entry.spec.dpt.decode(value)
        except DPTError:
            return  # not of the object's type: a real device ignores it too
        self.received.setdefault(address, []).append(entry.value)
        if entry.spec.status_address is not None:
            self._report(entry)

    def on_read(self, address: GroupAddress) -> GroupValue | None:
        entry = self._by_read.get(address)
        if entry is None:
            return None
        self.reads_answered[address] += 1
        return entry.spec.dpt.encode(entry.value)

    def _report(self, entry: _Object) -> None:
        self.send_write(entry.read_address, entry.spec.dpt.encode(entry.value), delayed=True)


class DisplayDevice(ClockDevice):
    """A wall display: a clock whose objects may also be texts (see the module docstring)."""

    kind = "display"
    dpts = DISPLAY_DPTS

    def texts(self, write_address: GroupAddress) -> list[str]:
        """The texts received on write_address, oldest first."""
        return [str(value) for value in self.received.get(write_address, [])]


def clock_from_spec(
    address: IndividualAddress,
    keyring: Keyring,
    bus: Bus,
    spec: Spec,
    *,
    status_delay: float,
) -> ClockDevice:
    """A clock from ``{"objects": [{"write_address": GA, "status_address": GA, "dpt":
    "10.001", "value": {...}}, ...]}`` (status_address is optional)."""
    return _with_objects(ClockDevice(address, keyring, bus, status_delay=status_delay), spec)


def display_from_spec(
    address: IndividualAddress,
    keyring: Keyring,
    bus: Bus,
    spec: Spec,
    *,
    status_delay: float,
) -> DisplayDevice:
    """A display from the same fields as a clock; objects may also be 16.000 / 16.001."""
    return _with_objects(DisplayDevice(address, keyring, bus, status_delay=status_delay), spec)


def _with_objects[D: ClockDevice](device: D, spec: Spec) -> D:
    add_objects(
        spec,
        lambda entry: device.add_object(_object_spec(entry)),
        '{"write_address": GA, "dpt": ..., ...}',
    )
    return device


def _object_spec(entry: Spec) -> ClockObjectSpec:
    dpt_id = entry.get("dpt")
    if dpt_id not in DISPLAY_DPTS:
        raise InstallationError(f"dpt: one of {', '.join(DISPLAY_DPTS)}, not {dpt_id!r}")
    if "value" not in entry:
        raise InstallationError("value: missing (the date or time to start with)")
    dpt = get_dpt(str(dpt_id))
    return ClockObjectSpec(
        write_address=group_address(entry, "write_address"),
        dpt=dpt,
        value=dpt.decode(dpt.encode(entry["value"])),  # DPTError: it does not fit the type
        status_address=optional_group_address(entry, "status_address"),
    )
