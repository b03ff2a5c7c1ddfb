"""Bytes in, whole frames out: the framers of a stream (TCP) and of datagrams (UDP).

Sans-I/O in the shape of h11: ``receive_data(data)`` as bytes arrive, then
``next_frame()`` until it returns None. A framer never raises anything but FrameError (a
peer that does not speak KNXnet/IP); what it has buffered stays untouched by that.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from ..errors import FrameError
from .wire import frame_length

__all__ = ["DatagramFramer", "Framer", "StreamFramer"]


class Framer(Protocol):
    """What a driver needs of a framer, whatever the transport."""

    def receive_data(self, data: bytes) -> None:
        """Bytes as they arrived (a piece of a stream, or one datagram)."""
        ...

    def next_frame(self) -> bytes | None:
        """The next whole frame, or None until more data arrives."""
        ...

    @property
    def buffered(self) -> int:
        """Octets received but not yet returned as a frame."""
        ...


class StreamFramer:
    """Splits a TCP stream into frames by the header's total length.

    Linear however the bytes arrive: received octets are appended to one buffer and read
    from an offset; the consumed front is dropped only once it is at least half the
    buffer, so every octet is copied a bounded number of times (``copied`` counts them).
    A frame that arrives in one read is handed on without any copy.
    """

    __slots__ = ("_buffer", "_start", "_whole", "copied")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._start = 0
        # one read that may be exactly one frame, kept as it is (no copy) until asked
        self._whole: bytes | None = None
        #: Octets copied inside the framer so far (buffering, frames taken out, compaction).
        self.copied = 0

    def __repr__(self) -> str:
        return f"StreamFramer(buffered={self.buffered})"

    @property
    def buffered(self) -> int:
        whole = len(self._whole) if self._whole is not None else 0
        return whole + len(self._buffer) - self._start

    def receive_data(self, data: bytes) -> None:
        if self._whole is None and not self._buffer:
            self._whole = data
            return
        self._spill()
        self._buffer += data
        self.copied += len(data)

    def next_frame(self) -> bytes | None:
        whole = self._whole
        if whole is not None:
            if frame_length(whole) == len(whole):
                self._whole = None
                return whole  # the usual case: one read, one frame
            self._spill()
        buffer, start = self._buffer, self._start
        size = frame_length(buffer, start)
        if size is None or len(buffer) - start < size:
            self._compact()
            return None
        end = start + size
        frame = bytes(buffer[start:end])
        self.copied += size
        if end == len(buffer):
            buffer.clear()
            self._start = 0
        else:
            self._start = end
        return frame

    def _spill(self) -> None:
        """Move the kept read into the buffer (it is not exactly one frame)."""
        whole, self._whole = self._whole, None
        if whole is not None:
            self._buffer += whole
            self.copied += len(whole)

    def _compact(self) -> None:
        # drop the consumed front only when it is at least half the buffer: amortised
        # linear, where dropping it on every call would re-copy a slow frame's octets
        start = self._start
        if start and start * 2 >= len(self._buffer):
            del self._buffer[:start]
            self.copied += len(self._buffer)
            self._start = 0


class DatagramFramer:
    """Datagrams (UDP): each one must be exactly one frame; a malformed one is an error
    of that datagram only (the next ones are still read)."""

    __slots__ = ("_frames",)

    def __init__(self) -> None:
        self._frames: deque[bytes] = deque()

    @property
    def buffered(self) -> int:
        return sum(map(len, self._frames))

    def receive_data(self, data: bytes) -> None:
        self._frames.append(data)

    def next_frame(self) -> bytes | None:
        if not self._frames:
            return None
        data = self._frames.popleft()
        size = frame_length(data)
        if size != len(data):
            raise FrameError(
                f"datagram of {len(data)} octets is not one KNXnet/IP frame (header says {size})"
            )
        return data
