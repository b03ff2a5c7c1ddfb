"""Events, constants and the base shared by the tunnelling client and server machines."""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Final

from .. import knxip
from ..address import IndividualAddress
from ..cemi import LData
from ..errors import (
    ConnectRefusedError,
    FrameError,
    KNXSecureError,
    NotConnectedError,
    ResponseTimeoutError,
    TunnelError,
)
from ..knxip import ErrorCode
from ..session import DropReason, FrameDropped, OutgoingFrame

_LOGGER = logging.getLogger(__name__)


CONNECTION_TYPE_TUNNEL: Final = knxip.ConnectionType.TUNNEL
TUNNEL_LINK_LAYER: Final = knxip.TunnellingLayer.LINK_LAYER

DEFAULT_CONNECT_TIMEOUT: Final = 10.0
DEFAULT_HEARTBEAT_INTERVAL: Final = 60.0
DEFAULT_HEARTBEAT_ANSWER_TIMEOUT: Final = 10.0
DEFAULT_HEARTBEAT_MISSES: Final = 4
DEFAULT_CONFIRMATION_TIMEOUT: Final = 3.0
DEFAULT_DISCONNECT_TIMEOUT: Final = 5.0
#: A server drops a tunnel whose client sent no CONNECTIONSTATE_REQUEST (nor data) this long.
DEFAULT_SERVER_IDLE_TIMEOUT: Final = 120.0
#: UDP: a TUNNELLING_REQUEST is repeated once if its TUNNELLING_ACK is not here after this.
TUNNELLING_REQUEST_TIMEOUT: Final = 1.0

MAX_CHANNEL_ID: Final = 255
NO_ADDRESS: Final = IndividualAddress(0)


# --- events ----------------------------------------------------------------------------------


class TunnelState(Enum):
    IDLE = "idle"
    CONNECTING = "connecting"  # client only
    CONNECTED = "connected"
    DISCONNECTING = "disconnecting"
    CLOSED = "closed"


class CloseReason(StrEnum):
    REFUSED = "refused"  # client: CONNECT_RESPONSE with an error status
    CONNECT_TIMEOUT = "connect_timeout"  # client: no CONNECT_RESPONSE in time
    HEARTBEAT = "heartbeat"  # client: CONNECTIONSTATE unanswered or refused
    PEER = "peer"  # the other side sent DISCONNECT_REQUEST
    LOCAL = "local"  # we disconnected (answered or not)
    IDLE_TIMEOUT = "idle_timeout"  # server: the client went silent
    ACK_TIMEOUT = "ack_timeout"  # UDP: a TUNNELLING_REQUEST unacknowledged after its repetition
    ABORTED = "aborted"  # connection_lost(): the transport is gone


@dataclass(frozen=True, slots=True)
class TunnelConnected:
    """The tunnel is open; ``individual_address`` is the tunnel's (source of telegrams)."""

    channel_id: int
    individual_address: IndividualAddress


@dataclass(frozen=True, slots=True)
class TelegramReceived:
    """Client: an L_Data.ind from the bus. Server: an L_Data.req of the client, whose
    source 0.0.0 was replaced by the tunnel address; answer it with ``confirm``."""

    frame: LData


@dataclass(frozen=True, slots=True)
class TelegramConfirmed:
    """Client: the gateway's L_Data.con for ``SentTelegram.handle``; ``ok`` False means the
    gateway could not send it on the bus."""

    handle: int
    request: LData
    confirmation: LData

    @property
    def ok(self) -> bool:
        return self.confirmation.confirmation_ok


@dataclass(frozen=True, slots=True)
class ConfirmationTimedOut:
    """Client: no L_Data.con within the confirmation timeout (a heartbeat probe follows)."""

    handle: int
    request: LData


@dataclass(frozen=True, slots=True)
class ConnectRefused:
    """Server: a CONNECT_REQUEST was refused with ``status`` (the response is in the same
    event list); the connection stays usable for another attempt."""

    status: ErrorCode
    requested_address: IndividualAddress | None


@dataclass(frozen=True, slots=True)
class TunnelClosed:
    """The tunnel is over (state CLOSED). Every pending confirmation is void."""

    reason: CloseReason
    status: ErrorCode | None = None

    def to_error(self) -> KNXSecureError:
        """The error an edge raises or reports for this end."""
        status = self.status.name if self.status is not None else None
        match self.reason:
            case CloseReason.REFUSED:
                return ConnectRefusedError(f"gateway refused the tunnel: {status}")
            case CloseReason.CONNECT_TIMEOUT:
                return ResponseTimeoutError("gateway did not answer CONNECT_REQUEST in time")
            case CloseReason.HEARTBEAT:
                detail = f" ({status})" if status else ""
                return TunnelError(f"tunnel lost: connection state check failed{detail}")
            case CloseReason.PEER:
                return TunnelError("the peer closed the tunnel")
            case CloseReason.IDLE_TIMEOUT:
                return TunnelError("tunnel closed: the client stopped its heartbeat")
            case CloseReason.ACK_TIMEOUT:
                return TunnelError(
                    "tunnel lost: a tunnelling request was not acknowledged, even repeated"
                )
            case _:
                return NotConnectedError(f"tunnel closed ({self.reason})")


@dataclass(frozen=True, slots=True)
class SentTelegram:
    """What ``TunnelClient.send`` returns: the frame to send and the handle its
    TelegramConfirmed / ConfirmationTimedOut will carry."""

    handle: int
    data: bytes


TunnelEvent = (
    OutgoingFrame
    | FrameDropped
    | TunnelConnected
    | TelegramReceived
    | TelegramConfirmed
    | ConfirmationTimedOut
    | ConnectRefused
    | TunnelClosed
)


# --- shared helpers --------------------------------------------------------------------------


def route_back(datagram: bool = False) -> knxip.HPAI:
    """The route-back HPAI: over TCP always (08 02 00000000 0000); over UDP the NAT mode
    (08 01 00000000 0000: "answer to the address this came from")."""
    return knxip.HPAI.ROUTE_BACK_UDP if datagram else knxip.HPAI.ROUTE_BACK_TCP


def as_frame(frame: bytes | knxip.Frame) -> knxip.Frame | None:
    if not isinstance(frame, bytes | bytearray | memoryview):
        return frame
    try:
        return knxip.parse(bytes(frame))
    except FrameError:
        return None


def same_telegram(request: LData, confirmation: LData) -> bool:
    """Whether an L_Data.con confirms this L_Data.req (a gateway fills in source 0.0.0)."""
    return (
        confirmation.dst == request.dst
        and confirmation.tpdu == request.tpdu
        and request.src in (NO_ADDRESS, confirmation.src)
    )


class SendSequence:
    """Outgoing tunnelling sequence numbers (8 bit, wrapping). Incoming ones are not
    checked: over TCP nothing is lost or repeated, and some gateways always send 0."""

    __slots__ = ("_next",)

    def __init__(self) -> None:
        self._next = 0

    def take(self) -> int:
        sequence = self._next
        self._next = (sequence + 1) & 0xFF
        return sequence


class Delivery(Enum):
    """What to do with an incoming UDP TUNNELLING_REQUEST, by its sequence number."""

    NEW = "new"  # the expected one: acknowledge and handle
    REPEATED = "repeated"  # the previous one again (our ack was lost): acknowledge only
    OUT_OF_ORDER = "out_of_order"  # anything else: drop, no ack


class ReceiveSequence:
    """UDP: the sequence number expected of the peer's next TUNNELLING_REQUEST."""

    __slots__ = ("_expected",)

    def __init__(self) -> None:
        self._expected = 0

    def classify(self, sequence: int) -> Delivery:
        if sequence == self._expected:
            self._expected = (sequence + 1) & 0xFF
            return Delivery.NEW
        if sequence == (self._expected - 1) & 0xFF:
            return Delivery.REPEATED
        return Delivery.OUT_OF_ORDER


@dataclass(slots=True)
class _InFlight:
    sequence: int
    data: bytes
    sent_at: float
    repeated: bool = False


class AckWindow:
    """UDP: one TUNNELLING_REQUEST in flight at a time; the others wait their turn.

    ``submit`` returns the bytes to send now (b"" if queued); an ack of the one in flight
    releases the next; ``tick`` repeats it once after ``timeout`` and reports the loss
    (None) when the repetition is not acknowledged either."""

    __slots__ = ("_in_flight", "_queue", "_timeout")

    def __init__(self, timeout: float = TUNNELLING_REQUEST_TIMEOUT) -> None:
        self._timeout = timeout
        self._queue: deque[tuple[int, bytes]] = deque()
        self._in_flight: _InFlight | None = None

    @property
    def waiting(self) -> int:
        """Requests sent or queued and not yet acknowledged."""
        return len(self._queue) + (self._in_flight is not None)

    def submit(self, sequence: int, data: bytes, now: float) -> bytes:
        if self._in_flight is None:
            self._in_flight = _InFlight(sequence, data, now)
            return data
        self._queue.append((sequence, data))
        return b""

    def acknowledge(self, sequence: int, now: float) -> bytes | None:
        """The next request to send (b"" if none); None if no request waits for this ack."""
        if self._in_flight is None or self._in_flight.sequence != sequence:
            return None
        self._in_flight = None
        if not self._queue:
            return b""
        return self.submit(*self._queue.popleft(), now)

    def next_deadline(self) -> float | None:
        flight = self._in_flight
        return None if flight is None else flight.sent_at + self._timeout

    def tick(self, now: float) -> bytes | None:
        """The repetition to send (b"" if nothing is due); None: the repetition was lost."""
        flight = self._in_flight
        if flight is None or now < flight.sent_at + self._timeout:
            return b""
        if flight.repeated:
            return None
        flight.repeated = True
        flight.sent_at = now
        return flight.data

    def clear(self) -> None:
        self._queue.clear()
        self._in_flight = None


class TunnelMachineBase:
    """What both machines share: the channel, its state, the send sequence, drop counting
    and, over UDP (``datagram``), the TUNNELLING_ACK rules of both directions."""

    __slots__ = (
        "_channel_id",
        "_datagram",
        "_dropped",
        "_individual_address",
        "_received",
        "_sequences",
        "_state",
        "_state_since",
        "_window",
    )

    def __init__(self, *, datagram: bool = False) -> None:
        self._dropped: Counter[str] = Counter()
        self._state = TunnelState.IDLE
        self._state_since = 0.0
        self._channel_id: int | None = None
        self._individual_address: IndividualAddress | None = None
        self._datagram = datagram
        self._reset_sequences()

    def _reset_sequences(self) -> None:
        self._sequences = SendSequence()
        self._received = ReceiveSequence()
        self._window = AckWindow()

    @property
    def datagram(self) -> bool:
        """Over UDP: requests are acknowledged, repeated once, and checked in sequence."""
        return self._datagram

    # --- UDP acknowledgement rules (no-ops over TCP) ------------------------------------------

    def _request_bytes(self, channel_id: int, cemi: bytes, now: float) -> bytes:
        """A TUNNELLING_REQUEST to send now (over UDP b"" while another awaits its ack)."""
        request = knxip.TunnellingRequest(
            channel_id=channel_id, sequence=self._sequences.take(), cemi=cemi
        )
        data = knxip.encode(request)
        return self._window.submit(request.sequence, data, now) if self._datagram else data

    def _admit(self, frame: knxip.TunnellingRequest) -> tuple[list[TunnelEvent], bool]:
        """Over UDP: the ack to send and whether the request is new (to be handled)."""
        if not self._datagram:
            return [], True
        delivery = self._received.classify(frame.sequence)
        if delivery is Delivery.OUT_OF_ORDER:
            return self._drop(DropReason.UNEXPECTED), False
        ack = knxip.TunnellingAck(channel_id=frame.channel_id, sequence=frame.sequence)
        return [OutgoingFrame(knxip.encode(ack))], delivery is Delivery.NEW

    def _receive_ack(self, frame: knxip.TunnellingAck, now: float) -> list[TunnelEvent]:
        if not self._datagram:
            return []  # harmless over TCP
        if frame.channel_id != self._channel_id:
            return self._drop(DropReason.CHANNEL)
        following = self._window.acknowledge(frame.sequence, now)
        if following is None:
            return self._drop(DropReason.UNEXPECTED)  # a late ack of a repeated request
        return [OutgoingFrame(following)] if following else []

    def _window_deadline(self) -> float | None:
        return self._window.next_deadline() if self._datagram else None

    def _tick_window(self, now: float) -> tuple[list[TunnelEvent], bool]:
        """The repetition due now, and whether the tunnel is lost (repetition unacked)."""
        if not self._datagram:
            return [], False
        repeat = self._window.tick(now)
        if repeat is None:
            _LOGGER.debug("tunnel %s: request unacknowledged twice", self._channel_id)
            return [], True
        return ([OutgoingFrame(repeat)] if repeat else []), False

    @property
    def dropped(self) -> Mapping[str, int]:
        """Dropped frames by ``DropReason`` value (read-only view)."""
        return MappingProxyType(self._dropped)

    @property
    def state(self) -> TunnelState:
        return self._state

    @property
    def channel_id(self) -> int | None:
        return self._channel_id

    @property
    def individual_address(self) -> IndividualAddress | None:
        """The tunnel's individual address (None while no tunnel is open)."""
        return self._individual_address

    def _drop(self, reason: DropReason) -> list[TunnelEvent]:
        self._dropped[reason] += 1
        _LOGGER.debug("%s: dropped a frame: %s", type(self).__name__, reason)
        return [FrameDropped(reason)]

    def _enter(self, state: TunnelState, now: float) -> None:
        _LOGGER.debug("tunnel %s: %s -> %s", self._channel_id, self._state.value, state.value)
        self._state = state
        self._state_since = now

    def _start_disconnect(self, channel_id: int, now: float) -> bytes:
        """Enter DISCONNECTING; the DISCONNECT_REQUEST for ``channel_id`` to send."""
        self._enter(TunnelState.DISCONNECTING, now)
        self._window.clear()
        request = knxip.DisconnectRequest(channel_id=channel_id, control=route_back(self._datagram))
        return knxip.encode(request)
