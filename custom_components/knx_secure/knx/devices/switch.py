"""A switch actuator: relays driven by DPT 1 writes, each reporting on a status address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..address import GroupAddress, IndividualAddress
from ..dpt import decode_dpt1, encode_dpt1
from ..errors import FrameError, InstallationError
from ..keyring import Keyring
from ..telegram import GroupValue
from .base import SimulatedDevice
from .spec import Spec, group_address

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = ["SwitchActuator", "SwitchSpec", "switch_from_spec"]


@dataclass(frozen=True, slots=True)
class SwitchSpec:
    """A switch actuator channel: relay driven by ``write_ga``, state reported on
    ``status_ga``; ``device`` is its individual address (None: chosen from the keyring)."""

    write_ga: GroupAddress
    status_ga: GroupAddress
    device: IndividualAddress | None = None


@dataclass(slots=True)
class _Channel:
    spec: SwitchSpec
    state: bool = False


class SwitchActuator(SimulatedDevice):
    """One simulated switch actuator device with its switch channels.

    GroupValueWrite (DPT 1) on a channel's write GA sets its relay; a change is reported
    on the status GA after ``status_delay`` as GroupValueWrite (a status object sends on
    change); GroupValueRead on the status GA is answered with GroupValueResponse.
    """

    kind = "switch"

    def __init__(
        self, address: IndividualAddress, keyring: Keyring, bus: Bus, *, status_delay: float = 0.0
    ) -> None:
        super().__init__(address, keyring, bus, status_delay=status_delay)
        self._by_write: dict[GroupAddress, _Channel] = {}
        self._by_status: dict[GroupAddress, _Channel] = {}

    def add_channel(self, spec: SwitchSpec) -> None:
        if spec.write_ga in self._by_write:
            raise ValueError(f"device {self.address} already switches on {spec.write_ga}")
        channel = _Channel(spec)
        self._by_write[spec.write_ga] = channel
        self._by_status.setdefault(spec.status_ga, channel)
        self.watch((spec.write_ga, spec.status_ga))

    @property
    def channels(self) -> tuple[SwitchSpec, ...]:
        return tuple(channel.spec for channel in self._by_write.values())

    def state(self, write_ga: GroupAddress) -> bool:
        """The relay of the channel switched by ``write_ga`` (KeyError if none)."""
        return self._by_write[write_ga].state

    def operate(self, write_ga: GroupAddress, on: bool) -> None:
        """Switch the relay locally (a button on the device): reported like a bus write."""
        self._apply(self._by_write[write_ga], on)

    def on_write(self, address: GroupAddress, value: GroupValue) -> None:
        channel = self._by_write.get(address)
        if channel is None:
            return
        try:
            on = decode_dpt1(value)
        except FrameError:
            return  # not a DPT 1 value: a real relay ignores it too
        self._apply(channel, on)

    def on_read(self, address: GroupAddress) -> GroupValue | None:
        channel = self._by_status.get(address)
        return None if channel is None else encode_dpt1(channel.state)

    def _apply(self, channel: _Channel, on: bool) -> None:
        if channel.state == on:
            return
        channel.state = on
        self.send_write(channel.spec.status_ga, encode_dpt1(on), delayed=True)


def switch_from_spec(
    address: IndividualAddress,
    keyring: Keyring,
    bus: Bus,
    spec: Spec,
    *,
    status_delay: float,
) -> SwitchActuator:
    """A switch actuator from ``{"channels": [{"write": GA, "status": GA}, ...]}``."""
    channels = spec.get("channels")
    if not isinstance(channels, list) or not channels:
        raise InstallationError('channels: a list of {"write": GA, "status": GA} objects')
    device = SwitchActuator(address, keyring, bus, status_delay=status_delay)
    for number, channel in enumerate(channels):  # JSON indices, as devices[n]
        if not isinstance(channel, dict):
            raise InstallationError(f"channels[{number}]: an object, not {channel!r}")
        write = group_address(channel, "write")
        try:
            device.add_channel(SwitchSpec(write, group_address(channel, "status"), address))
        except ValueError as err:
            raise InstallationError(f"channels[{number}]: {err}") from None
    return device
