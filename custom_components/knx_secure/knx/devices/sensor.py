"""A sensor device: measured values, each on its own group address, published over time.

Each value has a datapoint type (``knx.dpt``). The device sends it every ``period`` seconds
(after a random walk of at most ``variation`` within the type's range), sends it when it
changes locally (``set_value``: the measured quantity changed), and answers reads with the
current value. Like every simulated device it is Data Secure where the keyring says so.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..address import GroupAddress, IndividualAddress
from ..dpt import DPT, DPTValue
from ..errors import DPTError, InstallationError
from ..keyring import Keyring
from ..telegram import GroupValue
from .base import SimulatedDevice
from .spec import Spec, datapoint_type, group_address, number

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = ["SensorDevice", "SensorValueSpec", "sensor_from_spec", "started", "value_spec"]

# The value shapes (``DPT.describe()["value"]``) a random walk can move.
_NUMERIC_SHAPES = frozenset({"integer", "number"})


@dataclass(frozen=True, slots=True)
class SensorValueSpec:
    """One measured value: sent on ``address`` as ``dpt``, starting at ``value``; every
    ``period`` seconds (0: never by itself) after a random step of at most ``variation``."""

    address: GroupAddress
    dpt: DPT
    value: DPTValue
    period: float = 0.0
    variation: float = 0.0


@dataclass(slots=True)
class _Value:
    spec: SensorValueSpec
    current: DPTValue
    timer: asyncio.TimerHandle | None = None


def is_numeric(dpt: DPT) -> bool:
    """Whether values of this type are numbers (a random walk can move them)."""
    return dpt.codec.describe().get("value") in _NUMERIC_SHAPES


class SensorDevice(SimulatedDevice):
    """One simulated sensor device with its measured values (see the module docstring).

    ``rng`` makes the random walk reproducible in tests.
    """

    kind = "sensor"

    def __init__(
        self,
        address: IndividualAddress,
        keyring: Keyring,
        bus: Bus,
        *,
        status_delay: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(address, keyring, bus, status_delay=status_delay)
        self._values: dict[GroupAddress, _Value] = {}
        #: Reads answered, by group address (a client's reads at start show here).
        self.reads_answered: Counter[GroupAddress] = Counter()
        # not for secrets: it only moves simulated measurements
        self._rng = rng if rng is not None else random.Random()

    def add_value(self, spec: SensorValueSpec) -> None:
        """Measure one more value (ValueError: its address is taken, or the value, the
        variation or the period does not fit)."""
        if spec.address in self._values:
            raise ValueError(f"device {self.address} already sends on {spec.address}")
        if not all(0 <= x < math.inf for x in (spec.period, spec.variation)):
            raise ValueError("period and variation are finite numbers, 0 or more")
        if spec.variation and not is_numeric(spec.dpt):
            raise ValueError(f"{spec.dpt.label} is not a number: it cannot vary")
        spec.dpt.encode(spec.value)  # DPTError (a ValueError) when it cannot carry it
        self._values[spec.address] = _Value(spec, self._carried(spec.dpt, spec.value))
        self.watch((spec.address,))

    @property
    def values(self) -> tuple[SensorValueSpec, ...]:
        return tuple(value.spec for value in self._values.values())

    def value(self, address: GroupAddress) -> DPTValue:
        """The current value sent on ``address`` (KeyError if none)."""
        return self._values[address].current

    def set_value(self, address: GroupAddress, value: DPTValue) -> None:
        """The measured quantity changed locally: sent (after ``status_delay``) when the
        value the type carries differs (KeyError for an unknown address, DPTError for a
        value the type cannot carry)."""
        entry = self._values[address]
        carried = self._carried(entry.spec.dpt, value)
        if carried == entry.current:
            return
        entry.current = carried
        self.send_write(address, entry.spec.dpt.encode(carried), delayed=True)

    def power_up(self) -> None:
        """The bus powers up: the reads at start, then the periodic values."""
        super().power_up()
        self.start()

    def start(self) -> None:
        """Start sending the periodic values (on the running loop); idempotent, and again
        after ``cancel_pending`` (the gateway stopped)."""
        for entry in self._values.values():
            if entry.spec.period > 0 and (entry.timer is None or entry.timer.cancelled()):
                self._schedule(entry)

    def cancel_pending(self) -> None:
        super().cancel_pending()
        for entry in self._values.values():
            entry.timer = None

    def on_read(self, address: GroupAddress) -> GroupValue | None:
        entry = self._values.get(address)
        if entry is None:
            return None
        self.reads_answered[address] += 1
        return entry.spec.dpt.encode(entry.current)

    # --- the periodic sending ----------------------------------------------------------------

    def _schedule(self, entry: _Value) -> None:
        entry.timer = self.call_later(entry.spec.period, lambda: self._tick(entry))

    def _tick(self, entry: _Value) -> None:
        """Walk the value, send it (also when unchanged: a cyclic sender), come back later."""
        entry.current = self._walked(entry)
        self.send_write(entry.spec.address, entry.spec.dpt.encode(entry.current))
        self._schedule(entry)

    def _walked(self, entry: _Value) -> DPTValue:
        """The value after one random step within the type's range."""
        spec, current = entry.spec, entry.current
        if not spec.variation or not isinstance(current, int | float):
            return current
        shape = spec.dpt.codec.describe()
        low, high = _bound(shape.get("min")), _bound(shape.get("max"))
        step = self._rng.uniform(-spec.variation, spec.variation)
        moved: float = min(max(current + step, low), high)
        try:
            return self._carried(spec.dpt, round(moved) if shape["value"] == "integer" else moved)
        except DPTError:
            return current  # the nearest value it carries is beyond the type's range

    @staticmethod
    def _carried(dpt: DPT, value: DPTValue) -> DPTValue:
        """The value as the type carries it (21.567 -> 21.56 for DPT 9)."""
        return dpt.decode(dpt.encode(value))


def _bound(limit: object) -> float:
    """A range limit of ``DPT.describe()`` as a float (unbounded when missing)."""
    return float(limit) if isinstance(limit, int | float) else float("inf")


def sensor_from_spec(
    address: IndividualAddress,
    keyring: Keyring,
    bus: Bus,
    spec: Spec,
    *,
    status_delay: float,
) -> SensorDevice:
    """A sensor device from ``{"values": [{"address": GA, "dpt": "9.001", "value": V,
    "period": s, "variation": x}, ...]}``; it starts sending when built on a running loop
    (else ``start()`` does)."""
    values = spec.get("values")
    if not isinstance(values, list) or not values:
        raise InstallationError('values: a list of {"address": GA, "dpt": ..., "value": ...}')
    device = SensorDevice(address, keyring, bus, status_delay=status_delay)
    for index, value in enumerate(values):
        try:
            device.add_value(value_spec(value))
        except ValueError as err:  # InstallationError and DPTError are ValueErrors too
            raise InstallationError(f"values[{index}]: {err}") from None
    return started(device)


def started(device: SensorDevice) -> SensorDevice:
    """The device, sending its periodic values if built on a running loop (else ``start()``
    does later)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return device
    device.start()
    return device


def value_spec(value: object) -> SensorValueSpec:
    """One entry of ``values``."""
    if not isinstance(value, dict):
        raise InstallationError(f"an object, not {value!r}")
    dpt = datapoint_type(value)
    if "value" not in value:
        raise InstallationError("value: missing (the value to start with)")
    try:
        start = dpt.decode(dpt.encode(value["value"]))
    except DPTError as err:
        raise InstallationError(f"value: {err}") from None
    return SensorValueSpec(
        address=group_address(value, "address"),
        dpt=dpt,
        value=start,
        period=number(value, "period", 0, minimum=0),
        variation=number(value, "variation", 0, minimum=0),
    )
