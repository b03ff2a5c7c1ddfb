"""A value actuator: group objects of any datapoint type that keep what they are sent.

Each object has a write address, a datapoint type and an optional status address. A
GroupValueWrite on the write address stores the value (decoded with the type; a payload the
type cannot carry is ignored, as a real device does) and reports a change on the status
address after ``status_delay``; a GroupValueRead on the status address (or on the write
address of an object without one) is answered with the value. ``set_value`` is a local
operation (a knob on the device), reported like a bus write. ``read_value`` sends a
GroupValueRead on the write address, as devices that fetch their value at start do; the
answer is stored like a write. Numbers, selects, texts and buttons of Home Assistant are
tested against it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..address import GroupAddress, IndividualAddress
from ..dpt import DPT, DPTValue
from ..errors import DPTError, InstallationError
from ..keyring import Keyring
from ..telegram import GroupValue
from .base import SimulatedDevice
from .spec import Spec, add_objects, datapoint_type, group_address, optional_group_address

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = ["ValueActuator", "ValueObjectSpec", "value_actuator_from_spec"]


@dataclass(frozen=True, slots=True)
class ValueObjectSpec:
    """One group object: written on ``address`` as ``dpt``, reported on ``status`` (None:
    it answers reads on ``address``), holding ``value`` until something is written."""

    address: GroupAddress
    dpt: DPT
    value: DPTValue | None = None
    status: GroupAddress | None = None


@dataclass(slots=True)
class _Object:
    spec: ValueObjectSpec
    current: DPTValue | None
    received: list[DPTValue] = field(default_factory=list)


class ValueActuator(SimulatedDevice):
    """One simulated value actuator with its group objects (see the module docstring)."""

    kind = "value_actuator"

    def __init__(
        self, address: IndividualAddress, keyring: Keyring, bus: Bus, *, status_delay: float = 0.0
    ) -> None:
        super().__init__(address, keyring, bus, status_delay=status_delay)
        self._by_address: dict[GroupAddress, _Object] = {}
        self._by_status: dict[GroupAddress, _Object] = {}
        #: Reads answered, by group address (a client's reads at start show here).
        self.reads_answered: Counter[GroupAddress] = Counter()

    def add_object(self, spec: ValueObjectSpec) -> None:
        """One more group object (ValueError: its address is taken, or its start value
        does not fit its type)."""
        if spec.address in self._by_address:
            raise ValueError(f"device {self.address} already has an object on {spec.address}")
        current = None if spec.value is None else spec.dpt.decode(spec.dpt.encode(spec.value))
        entry = _Object(spec, current)
        self._by_address[spec.address] = entry
        self._by_status.setdefault(spec.status or spec.address, entry)
        self.watch((spec.address,) if spec.status is None else (spec.address, spec.status))

    @property
    def objects(self) -> tuple[ValueObjectSpec, ...]:
        return tuple(entry.spec for entry in self._by_address.values())

    def value(self, address: GroupAddress) -> DPTValue | None:
        """The value the object written on ``address`` holds (KeyError if none)."""
        return self._by_address[address].current

    def received(self, address: GroupAddress) -> list[DPTValue]:
        """Every value written to (or answered on) ``address``, oldest first."""
        return list(self._by_address[address].received)

    def set_value(self, address: GroupAddress, value: DPTValue) -> None:
        """A local operation: the object takes ``value`` and reports it (DPTError when the
        type cannot carry it, KeyError for an unknown address)."""
        entry = self._by_address[address]
        self._store(entry, entry.spec.dpt.decode(entry.spec.dpt.encode(value)), record=False)

    def read_value(self, address: GroupAddress) -> None:
        """Ask the bus for the object's value now (the answer is stored like a write)."""
        self.send_read(self._by_address[address].spec.address)

    def on_write(self, address: GroupAddress, value: GroupValue) -> None:
        if (entry := self._by_address.get(address)) is not None:
            self._take(entry, value)

    def on_response(self, address: GroupAddress, value: GroupValue) -> None:
        if (entry := self._by_address.get(address)) is not None:
            self._take(entry, value)

    def on_read(self, address: GroupAddress) -> GroupValue | None:
        entry = self._by_status.get(address)
        if entry is None or entry.current is None:
            return None
        self.reads_answered[address] += 1
        return entry.spec.dpt.encode(entry.current)

    def _take(self, entry: _Object, value: GroupValue) -> None:
        try:
            decoded = entry.spec.dpt.decode(value)
        except DPTError:
            return  # not of the object's type: a real device ignores it too
        self._store(entry, decoded, record=True)

    def _store(self, entry: _Object, value: DPTValue, *, record: bool) -> None:
        if record:
            entry.received.append(value)
        if value == entry.current:
            return
        entry.current = value
        if entry.spec.status is not None:
            self.send_write(entry.spec.status, entry.spec.dpt.encode(value), delayed=True)


def value_actuator_from_spec(
    address: IndividualAddress,
    keyring: Keyring,
    bus: Bus,
    spec: Spec,
    *,
    status_delay: float,
) -> ValueActuator:
    """A value actuator from ``{"objects": [{"address": GA, "dpt": "5.001", "status": GA,
    "value": V}, ...]}`` (``status`` and ``value`` optional)."""
    device = ValueActuator(address, keyring, bus, status_delay=status_delay)
    add_objects(
        spec,
        lambda entry: device.add_object(_object_spec(entry)),
        '{"address": GA, "dpt": ...} objects',
    )
    return device


def _object_spec(entry: Spec) -> ValueObjectSpec:
    """One entry of ``objects``."""
    dpt = datapoint_type(entry)
    value = entry.get("value")
    if value is not None:
        try:
            value = dpt.decode(dpt.encode(value))
        except DPTError as err:
            raise InstallationError(f"value: {err}") from None
    return ValueObjectSpec(
        address=group_address(entry, "address"),
        dpt=dpt,
        value=value,
        status=optional_group_address(entry, "status"),
    )
