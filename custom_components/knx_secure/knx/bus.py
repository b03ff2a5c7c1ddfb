"""The simulated KNX bus behind the virtual gateway, and its simulated devices.

A ``Bus`` carries cEMI L_Data frames (as values, never re-encoded) between whatever is
attached to it: the gateway's open tunnels and the simulated devices. Delivery is FIFO
and causal: a frame a device sends while it handles another one is delivered after every
receiver saw the first one. Frames travel as sent; only a device opens Data Secure.

A ``SwitchActuator`` is one device (one individual address) with one or more switch
channels (``SwitchSpec``). Like a real actuator it keeps one Data Secure freshness table
and one outgoing sequence counter for its whole life, checks every secure telegram it
receives, and refuses plain telegrams to group addresses that have a key.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Protocol

from . import cemi
from .address import GroupAddress, IndividualAddress
from .cemi import APCI, LData, MessageCode
from .data_secure import DataSecure, Dropped, FreshnessTable, SequenceCounter, unix_ms
from .dpt import decode_dpt1, encode_dpt1
from .drops import DropReason
from .errors import FrameError
from .keyring import Keyring

__all__ = [
    "Bus",
    "BusPort",
    "SwitchActuator",
    "SwitchSpec",
    "default_device_address",
]

_LOGGER = logging.getLogger(__name__)

_LAST_DEVICE_NUMBER: Final = 255


@dataclass(frozen=True, slots=True)
class SwitchSpec:
    """A switch actuator channel: relay driven by ``write_ga``, state reported on
    ``status_ga``; ``device`` is its individual address (None: chosen from the keyring)."""

    write_ga: GroupAddress
    status_ga: GroupAddress
    device: IndividualAddress | None = None


class BusPort(Protocol):
    """Anything attached to the bus: it receives every frame it did not send itself."""

    def deliver(self, frame: LData) -> None: ...


class Bus:
    """A shared KNX line: every frame reaches every attached port except its sender."""

    __slots__ = ("_draining", "_ports", "_queue", "dropped")

    def __init__(self, dropped: Counter[str]) -> None:
        """``dropped`` is the gateway's drop counter; devices add their refusals to it."""
        self.dropped = dropped
        self._ports: list[BusPort] = []
        self._queue: deque[tuple[LData, BusPort | None]] = deque()
        self._draining = False

    def attach(self, port: BusPort) -> None:
        if port not in self._ports:
            self._ports.append(port)

    def detach(self, port: BusPort) -> None:
        if port in self._ports:
            self._ports.remove(port)

    def transmit(self, frame: LData, origin: BusPort | None = None) -> None:
        """Put ``frame`` on the bus (``origin``: its sender, None for an injected frame)."""
        self._queue.append((frame, origin))
        if self._draining:
            return  # a delivery in progress sent it: it goes out after the current frame
        self._draining = True
        try:
            while self._queue:
                current, sender = self._queue.popleft()
                for port in tuple(self._ports):
                    if port is not sender:
                        self._deliver(port, current)
        finally:
            self._draining = False

    @staticmethod
    def _deliver(port: BusPort, frame: LData) -> None:
        # one faulty receiver must not stop the bus for the others
        try:
            port.deliver(frame)
        except Exception:
            _LOGGER.exception("bus delivery of %s -> %s failed", frame.src, frame.dst)


def default_device_address(
    keyring: Keyring,
    status_ga: GroupAddress,
    host: IndividualAddress,
    taken: Iterable[IndividualAddress] = (),
) -> IndividualAddress:
    """The actuator's address when a switch names none: a keyring device that sends on the
    status GA, else the first keyring device that is not the host, else a free address on
    the host's line (ETS lists the real actuator among the status GA's senders, and the
    peers' freshness tables know the keyring's devices)."""
    tunnels = {t.individual_address for t in keyring.interfaces if t.individual_address}
    candidates = [
        d.individual_address
        for d in keyring.devices
        if d.individual_address != host and d.individual_address not in tunnels
    ]
    senders = keyring.senders(status_ga)
    for address in candidates:
        if address in senders:
            return address
    if candidates:
        return candidates[0]
    used = {host, *tunnels, *taken}
    line = host.raw & 0xFF00
    for number in range(1, _LAST_DEVICE_NUMBER + 1):
        address = IndividualAddress(line | number)
        if address not in used:
            return address
    raise ValueError(f"no free individual address on the line of {host}")


@dataclass(slots=True)
class _Channel:
    spec: SwitchSpec
    state: bool = False


class SwitchActuator:
    """One simulated switch actuator device with its switch channels.

    GroupValueWrite (DPT 1) on a channel's write GA sets its relay; a change is reported
    on the status GA after ``status_delay`` as GroupValueWrite (a status object sends on
    change); GroupValueRead on the status GA is answered with GroupValueResponse.
    """

    __slots__ = (
        "_bus",
        "_by_status",
        "_by_write",
        "_pending",
        "_secure",
        "_status_delay",
        "address",
        "replays_rejected",
    )

    def __init__(
        self,
        address: IndividualAddress,
        keyring: Keyring,
        bus: Bus,
        *,
        status_delay: float,
    ) -> None:
        self.address = address
        self.replays_rejected = 0
        self._bus = bus
        self._status_delay = status_delay
        self._by_write: dict[GroupAddress, _Channel] = {}
        self._by_status: dict[GroupAddress, _Channel] = {}
        self._pending: set[asyncio.TimerHandle] = set()
        # Sends above the keyring's SequenceNumber and above the clock (SequenceCounter);
        # accepts only fresher sequence numbers than the keyring / last telegram per sender.
        self._secure = DataSecure.from_keyring(
            keyring,
            # a simulated device forgets its counter with the process (starts at the clock)
            counter=SequenceCounter.volatile(keyring.sequence_number(address), unix_ms()),
            freshness=FreshnessTable(keyring.sender_sequence_numbers()),
            individual_address=address,
        )

    def __repr__(self) -> str:
        return f"SwitchActuator({self.address}, channels={len(self._by_write)})"

    def add_channel(self, spec: SwitchSpec) -> None:
        if spec.write_ga in self._by_write:
            raise ValueError(f"device {self.address} already switches on {spec.write_ga}")
        channel = _Channel(spec)
        self._by_write[spec.write_ga] = channel
        self._by_status.setdefault(spec.status_ga, channel)

    @property
    def channels(self) -> tuple[SwitchSpec, ...]:
        return tuple(channel.spec for channel in self._by_write.values())

    def state(self, write_ga: GroupAddress) -> bool:
        """The relay of the channel switched by ``write_ga`` (KeyError if none)."""
        return self._by_write[write_ga].state

    def operate(self, write_ga: GroupAddress, on: bool) -> None:
        """Switch the relay locally (a button on the device): reported like a bus write."""
        self._apply(self._by_write[write_ga], on)

    def cancel_pending(self) -> None:
        """Forget status telegrams not sent yet (the gateway stops)."""
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()

    # --- receiving ---------------------------------------------------------------------------

    def deliver(self, frame: LData) -> None:
        dst = frame.dst
        if dst not in self._by_write and dst not in self._by_status:
            return
        plain = self._open(frame)
        if plain is None:
            return
        try:
            apdu = cemi.parse_group_apdu(plain.tpdu)
        except FrameError:
            return  # not a GroupValue service: nothing for a switch
        assert isinstance(dst, GroupAddress)
        if apdu.apci is APCI.GROUP_VALUE_WRITE and dst in self._by_write:
            self._receive_write(self._by_write[dst], apdu.value)
        elif apdu.apci is APCI.GROUP_VALUE_READ and dst in self._by_status:
            channel = self._by_status[dst]
            self._send(dst, cemi.group_value_response(encode_dpt1(channel.state)))

    def _open(self, frame: LData) -> LData | None:
        """The plain frame, or None when the device refuses it (counted)."""
        opened = self._secure.open_incoming(frame)
        if not isinstance(opened, Dropped):
            return opened
        if opened.reason is DropReason.REPLAY:
            self.replays_rejected += 1
        self._bus.dropped[opened.reason] += 1
        _LOGGER.debug(
            "device %s refused a telegram from %s: %s (%s)",
            self.address,
            frame.src,
            opened.reason,
            opened.detail,
        )
        return None

    def _receive_write(self, channel: _Channel, value: int | bytes | None) -> None:
        if value is None:
            return
        try:
            on = decode_dpt1(value)
        except FrameError:
            _LOGGER.debug("device %s: %s is not a DPT 1 value", self.address, value)
            return
        self._apply(channel, on)

    def _apply(self, channel: _Channel, on: bool) -> None:
        if channel.state == on:
            return
        channel.state = on
        self._report(channel.spec.status_ga, on)

    # --- sending -----------------------------------------------------------------------------

    def _report(self, status_ga: GroupAddress, on: bool) -> None:
        tpdu = cemi.group_value_write(encode_dpt1(on))
        if self._status_delay <= 0:
            self._send(status_ga, tpdu)
            return
        loop = asyncio.get_running_loop()

        def due() -> None:
            self._pending.discard(handle)
            self._send(status_ga, tpdu)

        handle = loop.call_later(self._status_delay, due)
        self._pending.add(handle)

    def _send(self, dst: GroupAddress, tpdu: bytes) -> None:
        frame = LData(code=MessageCode.L_DATA_IND, src=self.address, dst=dst, tpdu=tpdu)
        self._bus.transmit(self._secure.secure_outgoing(frame), origin=self)
