"""The base of every simulated bus device: one individual address, Data Secure like a real
device, group objects by group address, delayed reports.

A subclass says which group addresses it watches (``watch``) and what a write or a read
does (``on_write``, ``on_read``); it sends with ``send_write`` / ``send_response`` and
schedules its own behaviour over time with ``call_later`` (cancelled when the gateway
stops). Values on the bus are raw group values; a device decodes them with the datapoint
type of its group object (``knx.dpt``).

``power_up`` runs when the bus powers up (the gateway or its router starts, or the device
joins a running one): the device sends its reads at start there (``read_at_start``; the
answers land in ``responses``), and a kind that changes by itself over time starts its timers
there, so that building a device never needs a running event loop.

Like a real device it keeps one Data Secure freshness table and one outgoing sequence
counter for its whole life, checks every secure telegram it receives, and refuses plain
telegrams to group addresses that have a key (counted in the bus's drop counter).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .. import cemi
from ..address import GroupAddress, IndividualAddress
from ..cemi import APCI, LData, MessageCode
from ..data_secure import DataSecure, Dropped, FreshnessTable, SequenceCounter, unix_ms
from ..drops import DropReason
from ..errors import FrameError
from ..keyring import Keyring
from ..telegram import GroupValue

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = ["SimulatedDevice"]

_LOGGER = logging.getLogger(__name__)


class SimulatedDevice:
    """One simulated KNX device on the bus (see the module docstring)."""

    #: What the device is, for ``repr`` and the installation file ("switch", "dimmer").
    kind = "device"
    #: A name from the installation file (None: unnamed), for the ready line and logs.
    name: str | None = None

    def __init__(
        self,
        address: IndividualAddress,
        keyring: Keyring,
        bus: Bus,
        *,
        status_delay: float = 0.0,
    ) -> None:
        self.address = address
        self.replays_rejected = 0
        self.status_delay = status_delay
        self._bus = bus
        self._watched: set[GroupAddress] = set()
        self._pending: set[asyncio.TimerHandle] = set()
        self._reads_at_start: dict[GroupAddress, None] = {}
        self._read_period: float | None = None
        #: The last GroupValueResponse heard on each watched address (answers to its reads).
        self.responses: dict[GroupAddress, GroupValue] = {}
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
        return f"{type(self).__name__}({self.address}, addresses={len(self._watched)})"

    # --- for subclasses ----------------------------------------------------------------------

    def watch(self, addresses: Iterable[GroupAddress]) -> None:
        """Receive writes and reads on these group addresses."""
        self._watched.update(addresses)

    @property
    def watched(self) -> frozenset[GroupAddress]:
        return frozenset(self._watched)

    def on_write(self, address: GroupAddress, value: GroupValue) -> None:
        """A GroupValueWrite to a watched address (already opened if it was secure)."""

    def on_read(self, address: GroupAddress) -> GroupValue | None:
        """The value to answer a GroupValueRead with; None: the device does not answer."""
        return None

    def send_write(
        self, address: GroupAddress, value: GroupValue, *, delayed: bool = False
    ) -> None:
        """Send a GroupValueWrite now, or after ``status_delay`` when ``delayed`` (a status
        object reporting a change)."""
        tpdu = cemi.group_value_write(value)
        if delayed and self.status_delay > 0:
            self.call_later(self.status_delay, lambda: self._send(address, tpdu))
        else:
            self._send(address, tpdu)

    def send_response(self, address: GroupAddress, value: GroupValue) -> None:
        self._send(address, cemi.group_value_response(value))

    def send_read(self, address: GroupAddress) -> None:
        """Send a GroupValueRead (the answer lands in ``responses`` if the address is watched)."""
        self._send(address, cemi.group_value_read())

    def read_at_start(
        self, addresses: Iterable[GroupAddress], *, period: float | None = None
    ) -> None:
        """Read these addresses when the bus powers up (``power_up``), like a device that asks
        for the values it needs after a bus voltage return, and with ``period`` again every
        ``period`` seconds until the gateway stops (a display that polls); the answers are
        kept in ``responses``."""
        addresses = tuple(addresses)
        self._reads_at_start.update(dict.fromkeys(addresses))
        self.watch(addresses)
        if period is not None:
            self._read_period = period

    @property
    def reads_at_start(self) -> tuple[GroupAddress, ...]:
        return tuple(self._reads_at_start)

    def power_up(self) -> None:
        """The bus powers up: send the reads at start. A kind that changes by itself over
        time extends it to start its timers (calling this too)."""
        self._send_reads()

    def _send_reads(self) -> None:
        for address in self._reads_at_start:
            self.send_read(address)
        if self._read_period is not None:
            self.call_later(self._read_period, self._send_reads)

    def on_response(self, address: GroupAddress, value: GroupValue) -> None:
        """A GroupValueResponse to a watched address (already kept in ``responses``)."""

    def call_later(self, delay: float, action: Callable[[], None]) -> asyncio.TimerHandle:
        """Run action after delay seconds on the running loop, unless the gateway stops
        first (``cancel_pending``)."""
        loop = asyncio.get_running_loop()

        def due() -> None:
            self._pending.discard(handle)
            action()

        handle = loop.call_later(delay, due)
        self._pending.add(handle)
        return handle

    def cancel_pending(self) -> None:
        """Forget everything scheduled and not done yet (the gateway stops)."""
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()

    # --- the bus side ------------------------------------------------------------------------

    def deliver(self, frame: LData) -> None:
        dst = frame.dst
        if not isinstance(dst, GroupAddress) or dst not in self._watched:
            return
        plain = self._open(frame)
        if plain is None:
            return
        try:
            apdu = cemi.parse_group_apdu(plain.tpdu)
        except FrameError:
            return  # not a GroupValue service: nothing for a simulated device
        if apdu.apci is APCI.GROUP_VALUE_WRITE and apdu.value is not None:
            self.on_write(dst, apdu.value)
        elif apdu.apci is APCI.GROUP_VALUE_READ and (value := self.on_read(dst)) is not None:
            self.send_response(dst, value)
        elif apdu.apci is APCI.GROUP_VALUE_RESPONSE and apdu.value is not None:
            self.responses[dst] = apdu.value
            self.on_response(dst, apdu.value)

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

    def _send(self, dst: GroupAddress, tpdu: bytes) -> None:
        frame = LData(code=MessageCode.L_DATA_IND, src=self.address, dst=dst, tpdu=tpdu)
        self._bus.transmit(self._secure.secure_outgoing(frame), origin=self)
