"""KNX Data Secure sequence numbers: the outgoing counter and the freshness of incoming ones.

The outgoing counter hands out values only from durable reservations; the freshness table
keeps the last accepted value per sender. Both are sans-I/O: the edge passes the time in
Unix milliseconds and does the persisting. ``data_secure`` re-exports every public name.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from .address import IndividualAddress
from .drops import DropReason
from .errors import (
    AddressError,
    DataSecureError,
    DataSecureKeyMissingError,
    DataSecureMacError,
    DataSecurePlainRejectedError,
    DataSecureReplayError,
)

__all__ = [
    "DEFAULT_COUNTER_MARGIN",
    "DEFAULT_RESERVATION",
    "MAX_SEQUENCE",
    "SEQUENCE_EPOCH_MS",
    "Dropped",
    "FreshnessTable",
    "SequenceCounter",
    "sequence_clock",
    "unix_ms",
]

_LOGGER = logging.getLogger(__name__)

#: The highest sequence number (6 octets on the wire).
MAX_SEQUENCE = (1 << 48) - 1
# 2018-01-05T00:00:00Z in Unix milliseconds: the origin of the sequence clock.
SEQUENCE_EPOCH_MS = 1_515_110_400_000
# Added to a persisted counter at start: reservations are written before use, but a store
# may lose its last write (no fsync) and older versions saved after use. Above the block.
DEFAULT_COUNTER_MARGIN = 10_000
# Sequence numbers one reservation holds: one durable write per this many secure telegrams.
DEFAULT_RESERVATION = 1_000


@dataclass(frozen=True, slots=True)
class Dropped:
    """A received secure telegram that is not accepted: why, and a detail for the log (no
    key or plain payload in it)."""

    reason: DropReason
    detail: str

    def to_error(self) -> DataSecureError:
        """The error of this drop, for APIs that raise (tools looking at one frame)."""
        return _DROP_ERRORS.get(self.reason, DataSecureError)(self.detail)


_DROP_ERRORS: Final[dict[DropReason, type[DataSecureError]]] = {
    DropReason.MAC: DataSecureMacError,
    DropReason.NO_KEY: DataSecureKeyMissingError,
    DropReason.PLAIN: DataSecurePlainRejectedError,
    DropReason.REPLAY: DataSecureReplayError,
}


# --- sequence numbers ------------------------------------------------------------------------


def unix_ms() -> int:
    """The wall clock in Unix milliseconds: what an edge passes as `now_ms`."""
    return time.time_ns() // 1_000_000


def sequence_clock(now_ms: int | None = None) -> int:
    """Milliseconds since 2018-01-05T00:00Z (`now_ms`: Unix time in ms, default: now)."""
    return (unix_ms() if now_ms is None else now_ms) - SEQUENCE_EPOCH_MS


class SequenceCounter:
    """The outgoing Data Secure sequence number of this client: strictly increasing.

    Sans-I/O: the edge passes the time (`now_ms`, Unix ms) and does the persisting. Values
    are handed out only from a *confirmed reservation*: ``reserve()`` names the highest
    value of a new block, the edge writes it durably and then calls ``confirm()``. A
    restart starts at max(persisted + margin, sequence clock): past every reserved value,
    whether the clock was set back or the counter ran ahead of it. ``volatile()`` makes a
    counter whose every value counts as reserved (simulated devices, tools).
    """

    __slots__ = ("_asked", "_limit", "_next", "_pending")

    def __init__(
        self,
        persisted: int,
        now_ms: int,
        *,
        margin: int = DEFAULT_COUNTER_MARGIN,
    ) -> None:
        if persisted < 0 or margin < 0:
            raise ValueError("persisted counter and margin must not be negative")
        self._next = max(persisted + margin, sequence_clock(now_ms), 1)
        self._limit = self._next - 1  # nothing reserved yet
        self._asked = self._limit  # the highest value any reservation asked for
        self._pending: tuple[int, int] | None = None

    @classmethod
    def volatile(
        cls, persisted: int, now_ms: int, *, margin: int = DEFAULT_COUNTER_MARGIN
    ) -> SequenceCounter:
        """A counter that persists nothing: everything up to MAX_SEQUENCE is reserved."""
        counter = cls(persisted, now_ms, margin=margin)
        counter._limit = MAX_SEQUENCE
        return counter

    @property
    def upcoming(self) -> int:
        """The value the next call of next() returns."""
        return self._next

    @property
    def available(self) -> int:
        """How many values next() hands out before a new reservation is needed."""
        return max(self._limit - self._next + 1, 0)

    @property
    def reserved(self) -> int:
        """The highest value of the confirmed reservations."""
        return self._limit

    def reserve(self, now_ms: int, count: int = DEFAULT_RESERVATION) -> int:
        """Ask for up to `count` more values; returns the highest one, which the edge must
        persist durably before it calls ``confirm`` with it. The block starts after every
        block asked for before (confirmed or not), or at the clock if that is ahead (the
        counter keeps close to the clock)."""
        if count < 1:
            raise ValueError("a reservation holds at least one value")
        start = max(self._next, self._asked + 1, sequence_clock(now_ms))
        if start > MAX_SEQUENCE:
            raise _exhausted()
        ceiling = min(start + count - 1, MAX_SEQUENCE)
        self._pending = (start, ceiling)
        self._asked = ceiling
        return ceiling

    @property
    def pending(self) -> int | None:
        """The highest value of the reservation asked for and not confirmed yet, if any."""
        return self._pending[1] if self._pending is not None else None

    def withdraw(self) -> None:
        """The pending reservation could not be written: forget it (its values are never
        handed out; the next reservation starts past them all the same)."""
        self._pending = None

    def confirm(self, ceiling: int) -> None:
        """The reservation up to `ceiling` is written: its values may be used (a stale or
        unknown confirmation is ignored)."""
        pending = self._pending
        if pending is None or pending[1] != ceiling:
            return
        self._pending = None
        start, ceiling = pending
        if ceiling > self._limit:
            self._next = max(self._next, start)
            self._limit = ceiling

    def next(self) -> int:
        """Hand out the next sequence number of the confirmed reservation."""
        value = self._next
        if value > self._limit:
            if value > MAX_SEQUENCE:
                raise _exhausted()
            raise DataSecureError(
                "no confirmed sequence number reservation: the counter must be reserved and "
                "written before a secure telegram is sent"
            )
        self._next = value + 1
        return value


def _exhausted() -> DataSecureError:
    return DataSecureError(
        "Data Secure sequence numbers are exhausted: the devices' security tables"
        " must be reset with ETS"
    )


class FreshnessTable:
    """Last accepted sequence number per sender; only newer ones pass.

    Unknown senders start at 0. Update with accept() only after the MAC verified.
    """

    __slots__ = ("_last",)

    def __init__(self, initial: Mapping[IndividualAddress, int] | None = None) -> None:
        # keyed by the address's raw int: hashing an int is cheaper than a dataclass
        self._last: dict[int, int] = {src.raw: value for src, value in (initial or {}).items()}

    @classmethod
    def from_snapshot(
        cls,
        snapshot: Mapping[str, int],
        initial: Mapping[IndividualAddress, int] | None = None,
    ) -> FreshnessTable:
        """Merge a persisted snapshot() with initial values (the higher one wins per sender)."""
        table = cls(initial)
        for text, value in snapshot.items():
            try:
                address = IndividualAddress.parse(text)
            except AddressError:
                _LOGGER.debug("Ignoring invalid address %r in a freshness snapshot", text)
                continue
            if isinstance(value, int) and 0 <= value <= MAX_SEQUENCE:
                table.accept(address, value)
        return table

    def last(self, src: IndividualAddress) -> int:
        """The last accepted sequence number of `src` (0 if none)."""
        return self._last.get(src.raw, 0)

    def check(self, src: IndividualAddress, sequence: int) -> Dropped | None:
        """None if `sequence` is newer than the last accepted one, else the drop (REPLAY:
        its detail tells a repeated frame, normal on a bus, from an older one)."""
        last = self._last.get(src.raw, 0)
        if sequence > last:
            return None
        if sequence == last:
            return Dropped(
                DropReason.REPLAY,
                f"repeated Data Secure telegram from {src} (sequence number {sequence})",
            )
        return Dropped(
            DropReason.REPLAY,
            f"Data Secure sequence number {sequence} from {src} is older than {last}",
        )

    def admit(self, src: IndividualAddress, sequence: int) -> Dropped | None:
        """check() and, if fresh, accept() in one look-up: None when admitted. Only for a
        sequence number whose MAC verified."""
        last = self._last.get(src.raw, 0)
        if sequence > last:
            self._last[src.raw] = sequence
            return None
        return self.check(src, sequence)

    def accept(self, src: IndividualAddress, sequence: int) -> None:
        """Record a verified sequence number (never lowers the stored one)."""
        if sequence > self._last.get(src.raw, 0):
            self._last[src.raw] = sequence

    def snapshot(self) -> dict[str, int]:
        """JSON-ready copy for persistence: address text -> last sequence number.

        Taken for the store after every accepted secure telegram: with hundreds of senders,
        formatting each address again was most of a telegram's cost (the texts are cached).
        """
        return {_address_text(raw): value for raw, value in self._last.items()}


@functools.cache
def _address_text(raw: int) -> str:
    """The text ("1.1.5") of a raw individual address (at most 65,536 of them)."""
    return str(IndividualAddress(raw))
