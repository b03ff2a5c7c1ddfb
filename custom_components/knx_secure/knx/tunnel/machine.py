"""Events, constants and the base shared by the tunnelling client and server machines."""

from __future__ import annotations

import logging
from collections import Counter
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


def route_back() -> knxip.HPAI:
    """Over TCP every HPAI is the route-back one: 08 02 00000000 0000."""
    return knxip.HPAI.ROUTE_BACK_TCP


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


class TunnelMachineBase:
    """What both machines share: the channel, its state, the send sequence and drop
    counting."""

    __slots__ = (
        "_channel_id",
        "_dropped",
        "_individual_address",
        "_sequences",
        "_state",
        "_state_since",
    )

    def __init__(self) -> None:
        self._dropped: Counter[str] = Counter()
        self._state = TunnelState.IDLE
        self._state_since = 0.0
        self._channel_id: int | None = None
        self._individual_address: IndividualAddress | None = None
        self._sequences = SendSequence()

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
        return knxip.encode(knxip.DisconnectRequest(channel_id=channel_id, control=route_back()))
