"""KNXnet/IP tunnelling connections over TCP: client and server machines.

Sans-I/O like ``session.py``: whole plain KNXnet/IP frames (or frames already parsed,
e.g. ``InnerFrame.frame`` from a secure session) go in, bytes to send and events come
out, time is passed in as ``now``. Over a secure session, every byte string these
machines return goes through ``SecureSession.wrap`` before it is sent.

Over TCP the transport is reliable: TUNNELLING_ACK is neither sent nor required (an
ack that arrives is accepted and ignored), and incoming sequence numbers are not
checked (outgoing ones still count up per direction); each L_Data.req is confirmed by
the gateway's L_Data.con, matched to the request by its content (src, dst, TPDU).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Final

from . import cemi, knxip
from .address import IndividualAddress
from .cemi import LData, MessageCode
from .errors import (
    ConnectRefusedError,
    FrameError,
    KNXSecureError,
    NotConnectedError,
    ResponseTimeoutError,
    TunnelError,
)
from .knxip import ErrorCode
from .session import DropReason, FrameDropped, OutgoingFrame

_LOGGER = logging.getLogger(__name__)

__all__ = [
    "CONNECTION_TYPE_TUNNEL",
    "DEFAULT_CONFIRMATION_TIMEOUT",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_DISCONNECT_TIMEOUT",
    "DEFAULT_HEARTBEAT_ANSWER_TIMEOUT",
    "DEFAULT_HEARTBEAT_INTERVAL",
    "DEFAULT_HEARTBEAT_MISSES",
    "DEFAULT_SERVER_IDLE_TIMEOUT",
    "TUNNEL_LINK_LAYER",
    "CloseReason",
    "ConfirmationTimedOut",
    "ConnectRefused",
    "SentTelegram",
    "TelegramConfirmed",
    "TelegramReceived",
    "TunnelClient",
    "TunnelClosed",
    "TunnelConnected",
    "TunnelEvent",
    "TunnelServer",
    "TunnelSlotConfig",
    "TunnelSlots",
    "TunnelState",
]

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

_MAX_CHANNEL_ID: Final = 255
_NO_ADDRESS: Final = IndividualAddress(0)


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


def _route_back() -> knxip.HPAI:
    """Over TCP every HPAI is the route-back one: 08 02 00000000 0000."""
    return knxip.HPAI.ROUTE_BACK_TCP


def _as_frame(frame: bytes | knxip.Frame) -> knxip.Frame | None:
    if not isinstance(frame, bytes | bytearray | memoryview):
        return frame
    try:
        return knxip.parse(bytes(frame))
    except FrameError:
        return None


def _same_telegram(request: LData, confirmation: LData) -> bool:
    """Whether an L_Data.con confirms this L_Data.req (a gateway fills in source 0.0.0)."""
    return (
        confirmation.dst == request.dst
        and confirmation.tpdu == request.tpdu
        and request.src in (_NO_ADDRESS, confirmation.src)
    )


class _SendSequence:
    """Outgoing tunnelling sequence numbers (8 bit, wrapping). Incoming ones are not
    checked: over TCP nothing is lost or repeated, and some gateways always send 0."""

    __slots__ = ("_next",)

    def __init__(self) -> None:
        self._next = 0

    def take(self) -> int:
        sequence = self._next
        self._next = (sequence + 1) & 0xFF
        return sequence


class _TunnelMachine:
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
        self._sequences = _SendSequence()

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
        return knxip.encode(knxip.DisconnectRequest(channel_id=channel_id, control=_route_back()))


# --- client ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Pending:
    handle: int
    request: LData
    deadline: float


class TunnelClient(_TunnelMachine):
    """Client side of one tunnelling connection (single use: make a new one to reconnect).

    Drive it like this (the asyncio edge; "send" means through ``SecureSession.wrap``
    when the tunnel runs in a secure session):
    - ``send(connect(now))``; then feed every plain frame from the gateway to
      ``receive(frame, now)`` and act on the events: send ``OutgoingFrame.data``;
      ``TunnelConnected`` -> connected; ``TunnelClosed`` -> fail every waiter, done.
    - ``sent = send_telegram(ldata, now)``: send ``sent.data``, await the
      ``TelegramConfirmed``/``ConfirmationTimedOut`` with ``sent.handle``.
    - sleep until ``next_deadline()`` and handle ``tick(now)``'s events the same way
      (heartbeats, retries, timeouts).
    - ``probe(now)``: check the gateway right now (returns b"" if a check is running).
    - ``send(disconnect(now))`` to leave; ``connection_lost(now)`` if TCP went away.
    """

    __slots__ = (
        "_confirmation_timeout",
        "_connect_timeout",
        "_disconnect_timeout",
        "_heartbeat_answer_timeout",
        "_heartbeat_interval",
        "_heartbeat_misses",
        "_heartbeat_ok_at",
        "_heartbeat_sent_at",
        "_misses",
        "_next_handle",
        "_pending",
        "_requested_address",
    )

    def __init__(
        self,
        *,
        individual_address: IndividualAddress | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
        heartbeat_answer_timeout: float = DEFAULT_HEARTBEAT_ANSWER_TIMEOUT,
        heartbeat_misses: int = DEFAULT_HEARTBEAT_MISSES,
        confirmation_timeout: float = DEFAULT_CONFIRMATION_TIMEOUT,
        disconnect_timeout: float = DEFAULT_DISCONNECT_TIMEOUT,
    ) -> None:
        """``individual_address`` asks for that tunnel (extended CRI); None: any tunnel.
        The tunnel is lost after ``heartbeat_misses`` CONNECTIONSTATE_REQUESTs in a row
        went unanswered for ``heartbeat_answer_timeout`` each (1 = fail fast)."""
        super().__init__()
        if heartbeat_misses < 1:
            raise ValueError("heartbeat_misses must be at least 1")
        self._requested_address = individual_address
        self._connect_timeout = connect_timeout
        self._heartbeat_interval = heartbeat_interval
        self._heartbeat_answer_timeout = heartbeat_answer_timeout
        self._heartbeat_misses = heartbeat_misses
        self._confirmation_timeout = confirmation_timeout
        self._disconnect_timeout = disconnect_timeout
        self._pending: list[_Pending] = []
        self._next_handle = 1
        self._heartbeat_sent_at: float | None = None
        self._heartbeat_ok_at = 0.0
        self._misses = 0

    def __repr__(self) -> str:
        return (
            f"TunnelClient(state={self._state.value}, channel_id={self._channel_id}, "
            f"individual_address={self._individual_address})"
        )

    # --- queries ---------------------------------------------------------------------------------

    @property
    def pending_confirmations(self) -> int:
        return len(self._pending)

    def heartbeat_due(self, now: float) -> bool:
        """A CONNECTIONSTATE_REQUEST should go out (first one, or a retry)."""
        if self._state is not TunnelState.CONNECTED:
            return False
        if self._heartbeat_sent_at is not None:
            return now >= self._heartbeat_sent_at + self._heartbeat_answer_timeout
        return now >= self._heartbeat_ok_at + self._heartbeat_interval

    def next_deadline(self) -> float | None:
        """When ``tick`` has something to do next (None: nothing scheduled)."""
        match self._state:
            case TunnelState.CONNECTING:
                return self._state_since + self._connect_timeout
            case TunnelState.DISCONNECTING:
                return self._state_since + self._disconnect_timeout
            case TunnelState.CONNECTED:
                if self._heartbeat_sent_at is not None:
                    heartbeat = self._heartbeat_sent_at + self._heartbeat_answer_timeout
                else:
                    heartbeat = self._heartbeat_ok_at + self._heartbeat_interval
                return min([heartbeat, *(p.deadline for p in self._pending)])
            case _:
                return None

    # --- commands --------------------------------------------------------------------------------

    def connect(self, now: float) -> bytes:
        """The CONNECT_REQUEST (basic CRI, or extended CRI naming the requested address)."""
        if self._state is not TunnelState.IDLE:
            raise TunnelError(f"tunnel client already used (state {self._state.value})")
        cri = knxip.CRI(
            connection_type=CONNECTION_TYPE_TUNNEL,
            knx_layer=TUNNEL_LINK_LAYER,
            individual_address=self._requested_address,
        )
        self._enter(TunnelState.CONNECTING, now)
        return knxip.encode(
            knxip.ConnectRequest(control=_route_back(), data=_route_back(), cri=cri)
        )

    def send_telegram(self, frame: LData, now: float) -> SentTelegram:
        """A TUNNELLING_REQUEST carrying this L_Data.req; its confirmation is awaited."""
        if self._state is not TunnelState.CONNECTED or self._channel_id is None:
            raise NotConnectedError("no open tunnel to send the telegram on")
        if frame.code is not MessageCode.L_DATA_REQ:
            raise ValueError(f"a client sends L_Data.req, not {frame.code.name}")
        request = knxip.TunnellingRequest(
            channel_id=self._channel_id,
            sequence=self._sequences.take(),
            cemi=frame.encode(),
        )
        handle = self._next_handle
        self._next_handle += 1
        self._pending.append(_Pending(handle, frame, now + self._confirmation_timeout))
        return SentTelegram(handle, knxip.encode(request))

    def probe(self, now: float) -> bytes:
        """A CONNECTIONSTATE_REQUEST right now, to find a dead gateway quickly; b"" if one
        is already awaiting its answer or the tunnel is not connected."""
        if self._state is not TunnelState.CONNECTED or self._heartbeat_sent_at is not None:
            return b""
        return self._heartbeat_request(now)

    def disconnect(self, now: float) -> bytes:
        """The DISCONNECT_REQUEST to send (b"" if there is no open tunnel)."""
        if self._state is not TunnelState.CONNECTED or self._channel_id is None:
            if self._state is not TunnelState.DISCONNECTING:
                self._close_quietly(now)
            return b""
        self._pending.clear()
        return self._start_disconnect(self._channel_id, now)

    def connection_lost(self, now: float) -> list[TunnelEvent]:
        """The transport is gone: the tunnel is closed (TunnelClosed unless already)."""
        if self._state is TunnelState.CLOSED:
            return []
        return self._close(CloseReason.ABORTED, now)

    def tick(self, now: float) -> list[TunnelEvent]:
        """Timers: connect/disconnect timeouts, confirmations, heartbeat and its retries."""
        match self._state:
            case TunnelState.CONNECTING if now >= self._state_since + self._connect_timeout:
                return self._close(CloseReason.CONNECT_TIMEOUT, now)
            case TunnelState.DISCONNECTING if now >= self._state_since + self._disconnect_timeout:
                return self._close(CloseReason.LOCAL, now)
            case TunnelState.CONNECTED:
                return self._tick_connected(now)
            case _:
                return []

    def _tick_connected(self, now: float) -> list[TunnelEvent]:
        events: list[TunnelEvent] = []
        expired = [p for p in self._pending if now >= p.deadline]
        if expired:
            self._pending = [p for p in self._pending if now < p.deadline]
            events.extend(ConfirmationTimedOut(p.handle, p.request) for p in expired)
            # a missing confirmation may mean a dead gateway: check now, not in a minute
            probe = self.probe(now)
            if probe:
                events.append(OutgoingFrame(probe))
        if self.heartbeat_due(now):
            if self._heartbeat_sent_at is not None:
                self._misses += 1
                _LOGGER.debug("connection state unanswered (%d in a row)", self._misses)
                if self._misses >= self._heartbeat_misses:
                    return events + self._close(CloseReason.HEARTBEAT, now)
            events.append(OutgoingFrame(self._heartbeat_request(now)))
        return events

    def _heartbeat_request(self, now: float) -> bytes:
        assert self._channel_id is not None
        self._heartbeat_sent_at = now
        return knxip.encode(
            knxip.ConnectionStateRequest(channel_id=self._channel_id, control=_route_back())
        )

    # --- receiving -------------------------------------------------------------------------------

    def receive(self, frame: bytes | knxip.Frame, now: float) -> list[TunnelEvent]:
        """Handle one plain frame from the gateway. Never raises for bad input: anything
        wrong is dropped, counted in ``dropped`` and reported as FrameDropped."""
        parsed = _as_frame(frame)
        if parsed is None:
            return self._drop(DropReason.MALFORMED)
        match parsed:
            case knxip.ConnectResponse():
                return self._receive_connect_response(parsed, now)
            case knxip.TunnellingRequest():
                return self._receive_tunnelling_request(parsed)
            case knxip.ConnectionStateResponse():
                return self._receive_connection_state(parsed, now)
            case knxip.DisconnectRequest():
                return self._receive_disconnect_request(parsed, now)
            case knxip.DisconnectResponse():
                return self._receive_disconnect_response(parsed, now)
            case knxip.TunnellingAck():
                return []  # harmless over TCP
            case _:
                return self._drop(DropReason.UNEXPECTED)

    def _receive_connect_response(
        self, frame: knxip.ConnectResponse, now: float
    ) -> list[TunnelEvent]:
        if self._state is not TunnelState.CONNECTING:
            return self._drop(DropReason.UNEXPECTED)
        if frame.status is not ErrorCode.E_NO_ERROR:
            _LOGGER.debug("gateway refused the tunnel: %s", frame.status.name)
            return self._close(CloseReason.REFUSED, now, frame.status)
        if frame.crd is None or not 1 <= frame.channel_id <= _MAX_CHANNEL_ID:
            return self._drop(DropReason.MALFORMED)
        self._channel_id = frame.channel_id
        self._individual_address = frame.crd.individual_address
        self._heartbeat_ok_at = now
        self._enter(TunnelState.CONNECTED, now)
        return [TunnelConnected(frame.channel_id, frame.crd.individual_address)]

    def _receive_tunnelling_request(self, frame: knxip.TunnellingRequest) -> list[TunnelEvent]:
        if self._state is not TunnelState.CONNECTED:
            return self._drop(DropReason.UNEXPECTED)
        if frame.channel_id != self._channel_id:
            return self._drop(DropReason.CHANNEL)
        try:
            ldata = cemi.parse(frame.cemi)
        except FrameError:
            return self._drop(DropReason.MALFORMED)
        if ldata.code is MessageCode.L_DATA_IND:
            return [TelegramReceived(ldata)]
        if ldata.code is MessageCode.L_DATA_CON:
            return self._match_confirmation(ldata)
        return self._drop(DropReason.UNEXPECTED)

    def _match_confirmation(self, confirmation: LData) -> list[TunnelEvent]:
        for index, pending in enumerate(self._pending):
            if _same_telegram(pending.request, confirmation):
                del self._pending[index]
                return [TelegramConfirmed(pending.handle, pending.request, confirmation)]
        return self._drop(DropReason.UNEXPECTED)  # e.g. it came after its timeout

    def _receive_connection_state(
        self, frame: knxip.ConnectionStateResponse, now: float
    ) -> list[TunnelEvent]:
        if self._state is not TunnelState.CONNECTED or self._heartbeat_sent_at is None:
            return self._drop(DropReason.UNEXPECTED)
        if frame.channel_id != self._channel_id:
            return self._drop(DropReason.CHANNEL)
        if frame.status is ErrorCode.E_CONNECTION_ID:
            return self._close(CloseReason.HEARTBEAT, now, frame.status)
        if frame.status is not ErrorCode.E_NO_ERROR:
            # e.g. E_KNX_CONNECTION: the answer window runs on and counts it as a miss
            _LOGGER.debug("connection state: %s", frame.status.name)
            return []
        self._heartbeat_sent_at = None
        self._heartbeat_ok_at = now
        self._misses = 0
        return []

    def _receive_disconnect_request(
        self, frame: knxip.DisconnectRequest, now: float
    ) -> list[TunnelEvent]:
        if self._state not in (TunnelState.CONNECTED, TunnelState.DISCONNECTING):
            return self._drop(DropReason.UNEXPECTED)
        if frame.channel_id != self._channel_id:
            return self._drop(DropReason.CHANNEL)
        response = knxip.DisconnectResponse(
            channel_id=frame.channel_id, status=ErrorCode.E_NO_ERROR
        )
        return [OutgoingFrame(knxip.encode(response)), *self._close(CloseReason.PEER, now)]

    def _receive_disconnect_response(
        self, frame: knxip.DisconnectResponse, now: float
    ) -> list[TunnelEvent]:
        if self._state is not TunnelState.DISCONNECTING:
            return self._drop(DropReason.UNEXPECTED)
        if frame.channel_id != self._channel_id:
            return self._drop(DropReason.CHANNEL)
        return self._close(CloseReason.LOCAL, now)

    # --- helpers ---------------------------------------------------------------------------------

    def _close(
        self, reason: CloseReason, now: float, status: ErrorCode | None = None
    ) -> list[TunnelEvent]:
        self._close_quietly(now)
        return [TunnelClosed(reason, status)]

    def _close_quietly(self, now: float) -> None:
        self._pending.clear()
        self._heartbeat_sent_at = None
        self._enter(TunnelState.CLOSED, now)


# --- server ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TunnelSlotConfig:
    """One tunnel of the gateway: its address and the secure user it belongs to
    (None: a plain tunnel, for clients without a secure session)."""

    individual_address: IndividualAddress
    user_id: int | None = None


class TunnelSlots:
    """The gateway's tunnels and channel ids, shared by every connection's TunnelServer."""

    __slots__ = ("_by_channel", "_last_channel", "_slots")

    def __init__(self, slots: Iterable[TunnelSlotConfig]) -> None:
        self._slots = tuple(slots)
        addresses = [slot.individual_address for slot in self._slots]
        if len(set(addresses)) != len(addresses):
            raise ValueError("two tunnels have the same individual address")
        self._by_channel: dict[int, TunnelSlotConfig] = {}
        self._last_channel = 0

    def __repr__(self) -> str:
        return f"TunnelSlots({len(self._slots)} slots, {len(self._by_channel)} in use)"

    @property
    def slots(self) -> tuple[TunnelSlotConfig, ...]:
        return self._slots

    def is_free(self, address: IndividualAddress) -> bool:
        return all(slot.individual_address != address for slot in self._by_channel.values())

    def in_use(self) -> dict[int, IndividualAddress]:
        """Channel id -> tunnel address of every open tunnel."""
        return {channel: slot.individual_address for channel, slot in self._by_channel.items()}

    def allocate(
        self, cri: knxip.CRI, user_id: int | None
    ) -> tuple[int, IndividualAddress] | ErrorCode:
        """A channel id and tunnel address for this CRI and user (None: plain client),
        or the ErrorCode to refuse with."""
        if cri.connection_type != CONNECTION_TYPE_TUNNEL:
            return ErrorCode.E_CONNECTION_TYPE
        if cri.knx_layer != TUNNEL_LINK_LAYER:
            return ErrorCode.E_TUNNELLING_LAYER
        # over a secure session the user id selects the tunnel; plain clients get plain ones
        allowed = [slot for slot in self._slots if slot.user_id == user_id]
        if not allowed:
            return ErrorCode.E_AUTHORISATION_ERROR
        wanted = cri.individual_address
        if wanted is not None:
            if not any(slot.individual_address == wanted for slot in self._slots):
                return ErrorCode.E_NO_MORE_CONNECTIONS
            allowed = [slot for slot in allowed if slot.individual_address == wanted]
            if not allowed:
                return ErrorCode.E_AUTHORISATION_ERROR
        free = [slot for slot in allowed if self.is_free(slot.individual_address)]
        channel = self._free_channel()
        if not free or channel is None:
            return ErrorCode.E_NO_MORE_CONNECTIONS
        self._by_channel[channel] = free[0]
        return channel, free[0].individual_address

    def release(self, channel_id: int) -> None:
        self._by_channel.pop(channel_id, None)

    def _free_channel(self) -> int | None:
        # rotate, so a stale client of a closed channel does not hit a new one at once
        for step in range(1, _MAX_CHANNEL_ID + 1):
            channel = (self._last_channel + step - 1) % _MAX_CHANNEL_ID + 1
            if channel not in self._by_channel:
                self._last_channel = channel
                return channel
        return None


class TunnelServer(_TunnelMachine):
    """Server side of the tunnelling connection(s) of one TCP connection: at most one
    open channel at a time (a refused CONNECT_REQUEST may be retried).

    Drive it like this (the gateway edge; "send" means through the session's ``wrap``
    when the connection is secure):
    - ``receive(frame, now)`` for every plain frame of the client: send each
      ``OutgoingFrame.data``; ``TelegramReceived`` -> put the L_Data.req on the bus and
      ``send(confirm(frame, now))``; ``TunnelClosed`` -> the channel is gone.
    - ``send(indicate(ldata, now))`` for every bus telegram this tunnel should see.
    - sleep until ``next_deadline()``, handle ``tick(now)`` (idle timeout).
    - ``send(disconnect(now))`` to close the tunnel; ``connection_lost(now)`` when TCP closes
      (frees the slot).
    """

    __slots__ = (
        "_disconnect_timeout",
        "_idle_timeout",
        "_last_heard",
        "_slots",
        "_user_id",
    )

    def __init__(
        self,
        slots: TunnelSlots,
        *,
        user_id: int | None = None,
        idle_timeout: float = DEFAULT_SERVER_IDLE_TIMEOUT,
        disconnect_timeout: float = DEFAULT_DISCONNECT_TIMEOUT,
    ) -> None:
        """``user_id``: the authenticated user of the secure session, None if plain."""
        super().__init__()
        self._slots = slots
        self._user_id = user_id
        self._idle_timeout = idle_timeout
        self._disconnect_timeout = disconnect_timeout
        self._last_heard = 0.0

    def __repr__(self) -> str:
        return (
            f"TunnelServer(state={self._state.value}, channel_id={self._channel_id}, "
            f"individual_address={self._individual_address}, user_id={self._user_id})"
        )

    def next_deadline(self) -> float | None:
        if self._state is TunnelState.CONNECTED:
            return self._last_heard + self._idle_timeout
        if self._state is TunnelState.DISCONNECTING:
            return self._state_since + self._disconnect_timeout
        return None

    def expired(self, now: float) -> bool:
        deadline = self.next_deadline()
        return deadline is not None and now >= deadline

    # --- commands --------------------------------------------------------------------------------

    def indicate(self, frame: LData, now: float) -> bytes:
        """A TUNNELLING_REQUEST carrying ``frame`` as L_Data.ind for the client."""
        return self._tunnelling_request(replace(frame, code=MessageCode.L_DATA_IND))

    def confirm(self, request: LData, now: float, *, ok: bool = True) -> bytes:
        """The L_Data.con for a request from TelegramReceived."""
        return self._tunnelling_request(request.confirmation(ok))

    def disconnect(self, now: float) -> bytes:
        """The DISCONNECT_REQUEST to send (b"" if no tunnel is open); the slot is freed
        when the client answers or the disconnect timeout passes."""
        if self._state is not TunnelState.CONNECTED or self._channel_id is None:
            return b""
        return self._start_disconnect(self._channel_id, now)

    def connection_lost(self, now: float) -> list[TunnelEvent]:
        """The transport is gone: free the slot; TunnelClosed if a tunnel was open."""
        if self._state in (TunnelState.CONNECTED, TunnelState.DISCONNECTING):
            return self._close(CloseReason.ABORTED, now)
        return []

    def tick(self, now: float) -> list[TunnelEvent]:
        """The idle timeout (DISCONNECT_REQUEST + TunnelClosed) and the disconnect timeout."""
        if not self.expired(now):
            return []
        if self._state is TunnelState.DISCONNECTING:
            return self._close(CloseReason.LOCAL, now)
        data = self.disconnect(now)
        return [OutgoingFrame(data), *self._close(CloseReason.IDLE_TIMEOUT, now)]

    def _tunnelling_request(self, frame: LData) -> bytes:
        if self._state is not TunnelState.CONNECTED or self._channel_id is None:
            raise NotConnectedError("no open tunnel to this client")
        request = knxip.TunnellingRequest(
            channel_id=self._channel_id, sequence=self._sequences.take(), cemi=frame.encode()
        )
        return knxip.encode(request)

    # --- receiving -------------------------------------------------------------------------------

    def receive(self, frame: bytes | knxip.Frame, now: float) -> list[TunnelEvent]:
        """Handle one plain frame from the client. Never raises for bad input."""
        parsed = _as_frame(frame)
        if parsed is None:
            return self._drop(DropReason.MALFORMED)
        match parsed:
            case knxip.ConnectRequest():
                return self._receive_connect_request(parsed, now)
            case knxip.TunnellingRequest():
                return self._receive_tunnelling_request(parsed, now)
            case knxip.ConnectionStateRequest():
                return self._receive_connection_state(parsed, now)
            case knxip.DisconnectRequest():
                return self._receive_disconnect_request(parsed, now)
            case knxip.DisconnectResponse():
                return self._receive_disconnect_response(parsed, now)
            case knxip.TunnellingAck():
                return []
            case _:
                return self._drop(DropReason.UNEXPECTED)

    def _receive_connect_request(
        self, frame: knxip.ConnectRequest, now: float
    ) -> list[TunnelEvent]:
        wanted = frame.cri.individual_address
        if self._state is not TunnelState.IDLE:
            status = ErrorCode.E_NO_MORE_CONNECTIONS  # one tunnel per TCP connection
        else:
            allocation = self._slots.allocate(frame.cri, self._user_id)
            if not isinstance(allocation, ErrorCode):
                return self._accept(*allocation, now)
            status = allocation
        _LOGGER.debug("refusing tunnel (user %s): %s", self._user_id, status.name)
        response = knxip.ConnectResponse(channel_id=0, status=status, data=None, crd=None)
        return [OutgoingFrame(knxip.encode(response)), ConnectRefused(status, wanted)]

    def _accept(self, channel: int, address: IndividualAddress, now: float) -> list[TunnelEvent]:
        self._channel_id = channel
        self._individual_address = address
        self._sequences = _SendSequence()
        self._last_heard = now
        self._enter(TunnelState.CONNECTED, now)
        response = knxip.ConnectResponse(
            channel_id=channel,
            status=ErrorCode.E_NO_ERROR,
            data=_route_back(),
            crd=knxip.CRD(connection_type=CONNECTION_TYPE_TUNNEL, individual_address=address),
        )
        return [OutgoingFrame(knxip.encode(response)), TunnelConnected(channel, address)]

    def _receive_tunnelling_request(
        self, frame: knxip.TunnellingRequest, now: float
    ) -> list[TunnelEvent]:
        if self._state is not TunnelState.CONNECTED or frame.channel_id != self._channel_id:
            return self._drop(DropReason.CHANNEL)
        try:
            ldata = cemi.parse(frame.cemi)
        except FrameError:
            return self._drop(DropReason.MALFORMED)
        self._last_heard = now
        if ldata.code is not MessageCode.L_DATA_REQ:
            return self._drop(DropReason.UNEXPECTED)
        if ldata.src == _NO_ADDRESS:
            assert self._individual_address is not None
            ldata = replace(ldata, src=self._individual_address)
        return [TelegramReceived(ldata)]

    def _receive_connection_state(
        self, frame: knxip.ConnectionStateRequest, now: float
    ) -> list[TunnelEvent]:
        status = ErrorCode.E_CONNECTION_ID
        if self._state is TunnelState.CONNECTED and frame.channel_id == self._channel_id:
            status = ErrorCode.E_NO_ERROR
            self._last_heard = now
        response = knxip.ConnectionStateResponse(channel_id=frame.channel_id, status=status)
        return [OutgoingFrame(knxip.encode(response))]

    def _receive_disconnect_request(
        self, frame: knxip.DisconnectRequest, now: float
    ) -> list[TunnelEvent]:
        ours = (
            self._state in (TunnelState.CONNECTED, TunnelState.DISCONNECTING)
            and frame.channel_id == self._channel_id
        )
        status = ErrorCode.E_NO_ERROR if ours else ErrorCode.E_CONNECTION_ID
        response = knxip.DisconnectResponse(channel_id=frame.channel_id, status=status)
        events: list[TunnelEvent] = [OutgoingFrame(knxip.encode(response))]
        if ours:
            events.extend(self._close(CloseReason.PEER, now))
        return events

    def _receive_disconnect_response(
        self, frame: knxip.DisconnectResponse, now: float
    ) -> list[TunnelEvent]:
        if self._state is not TunnelState.DISCONNECTING or frame.channel_id != self._channel_id:
            return self._drop(DropReason.UNEXPECTED)
        return self._close(CloseReason.LOCAL, now)

    # --- helpers ---------------------------------------------------------------------------------

    def _close(self, reason: CloseReason, now: float) -> list[TunnelEvent]:
        if self._channel_id is not None:
            self._slots.release(self._channel_id)
        # back to IDLE: the client may open another tunnel on this connection
        self._enter(TunnelState.IDLE, now)
        self._channel_id = None
        self._individual_address = None
        return [TunnelClosed(reason)]
