"""The tunnelling client machine (sans-I/O)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .. import cemi, knxip
from ..address import IndividualAddress
from ..cemi import LData, MessageCode
from ..errors import (
    FrameError,
    NotConnectedError,
    TunnelError,
)
from ..knxip import ErrorCode
from ..session import DropReason, OutgoingFrame
from .machine import (
    CONNECTION_TYPE_TUNNEL,
    DEFAULT_CONFIRMATION_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DISCONNECT_TIMEOUT,
    DEFAULT_HEARTBEAT_ANSWER_TIMEOUT,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_HEARTBEAT_MISSES,
    MAX_CHANNEL_ID,
    TUNNEL_LINK_LAYER,
    CloseReason,
    ConfirmationTimedOut,
    SentTelegram,
    TelegramConfirmed,
    TelegramReceived,
    TunnelClosed,
    TunnelConnected,
    TunnelEvent,
    TunnelMachineBase,
    TunnelState,
    as_frame,
    route_back,
    same_telegram,
)

_LOGGER = logging.getLogger(__name__)


# --- client ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Pending:
    handle: int
    request: LData
    deadline: float


class TunnelClient(TunnelMachineBase):
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
        datagram: bool = False,
    ) -> None:
        """``individual_address`` asks for that tunnel (extended CRI); None: any tunnel.
        The tunnel is lost after ``heartbeat_misses`` CONNECTIONSTATE_REQUESTs in a row
        went unanswered for ``heartbeat_answer_timeout`` each (1 = fail fast).
        ``datagram``: over UDP (acks, one repetition, sequence checks; every HPAI in NAT
        mode, so the gateway answers wherever our datagrams come from)."""
        super().__init__(datagram=datagram)
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
                window = self._window_deadline()
                extra = [] if window is None else [window]
                return min([heartbeat, *extra, *(p.deadline for p in self._pending)])
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
        hpai = route_back(self._datagram)
        return knxip.encode(knxip.ConnectRequest(control=hpai, data=hpai, cri=cri))

    def send_telegram(self, frame: LData, now: float) -> SentTelegram:
        """A TUNNELLING_REQUEST carrying this L_Data.req; its confirmation is awaited."""
        if self._state is not TunnelState.CONNECTED or self._channel_id is None:
            raise NotConnectedError("no open tunnel to send the telegram on")
        if frame.code is not MessageCode.L_DATA_REQ:
            raise ValueError(f"a client sends L_Data.req, not {frame.code.name}")
        data = self._request_bytes(self._channel_id, frame.encode(), now)
        handle = self._next_handle
        self._next_handle += 1
        self._pending.append(_Pending(handle, frame, now + self._confirmation_timeout))
        return SentTelegram(handle, data)

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
        events, lost = self._tick_window(now)
        if lost:
            return self._close(CloseReason.ACK_TIMEOUT, now)
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
            knxip.ConnectionStateRequest(
                channel_id=self._channel_id, control=route_back(self._datagram)
            )
        )

    # --- receiving -------------------------------------------------------------------------------

    def receive(self, frame: bytes | knxip.Frame, now: float) -> list[TunnelEvent]:
        """Handle one plain frame from the gateway. Never raises for bad input: anything
        wrong is dropped, counted in ``dropped`` and reported as FrameDropped."""
        parsed = as_frame(frame)
        if parsed is None:
            return self._drop(DropReason.MALFORMED)
        match parsed:
            case knxip.ConnectResponse():
                return self._receive_connect_response(parsed, now)
            case knxip.TunnellingRequest():
                return self._receive_tunnelling_request(parsed)
            case knxip.TunnellingAck() if self._state is TunnelState.CONNECTED:
                return self._receive_ack(parsed, now)
            case knxip.ConnectionStateResponse():
                return self._receive_connection_state(parsed, now)
            case knxip.DisconnectRequest():
                return self._receive_disconnect_request(parsed, now)
            case knxip.DisconnectResponse():
                return self._receive_disconnect_response(parsed, now)
            case knxip.TunnellingAck():
                return []  # after the tunnel closed: harmless
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
        if frame.crd is None or not 1 <= frame.channel_id <= MAX_CHANNEL_ID:
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
        acks, new = self._admit(frame)
        if not new:
            return acks
        return acks + self._tunnelled_telegram(frame)

    def _tunnelled_telegram(self, frame: knxip.TunnellingRequest) -> list[TunnelEvent]:
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
            if same_telegram(pending.request, confirmation):
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
        self._window.clear()
        self._heartbeat_sent_at = None
        self._enter(TunnelState.CLOSED, now)
