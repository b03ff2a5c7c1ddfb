"""The tunnelling server machine and its tunnel slots (sans-I/O)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace

from .. import cemi, knxip
from ..address import IndividualAddress
from ..cemi import LData, MessageCode
from ..errors import (
    FrameError,
    NotConnectedError,
)
from ..knxip import ErrorCode
from ..session import DropReason, OutgoingFrame
from .machine import (
    CONNECTION_TYPE_TUNNEL,
    DEFAULT_DISCONNECT_TIMEOUT,
    DEFAULT_SERVER_IDLE_TIMEOUT,
    MAX_CHANNEL_ID,
    NO_ADDRESS,
    TUNNEL_LINK_LAYER,
    CloseReason,
    ConnectRefused,
    TelegramReceived,
    TunnelClosed,
    TunnelConnected,
    TunnelEvent,
    TunnelMachineBase,
    TunnelState,
    as_frame,
    route_back,
)

_LOGGER = logging.getLogger(__name__)


# --- server ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TunnelSlotConfig:
    """One tunnel of the gateway: its address and the secure user it belongs to
    (None: a plain tunnel, for clients without a secure session)."""

    individual_address: IndividualAddress
    user_id: int | None = None


class TunnelSlots:
    """The gateway's tunnels and channel ids, shared by every connection's TunnelServer."""

    __slots__ = ("_by_channel", "_last_channel", "_open_to_plain", "_slots")

    def __init__(self, slots: Iterable[TunnelSlotConfig], *, open_to_plain: bool = False) -> None:
        """``open_to_plain``: plain clients may use every tunnel (an interface without
        IP Secure); secure users still get only their own."""
        self._slots = tuple(slots)
        self._open_to_plain = open_to_plain
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

    def plain_allowed(self, slot: TunnelSlotConfig) -> bool:
        """Whether a client without a secure session may use this tunnel."""
        return self._open_to_plain or slot.user_id is None

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
        allowed = [
            slot
            for slot in self._slots
            if slot.user_id == user_id or (user_id is None and self.plain_allowed(slot))
        ]
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
        for step in range(1, MAX_CHANNEL_ID + 1):
            channel = (self._last_channel + step - 1) % MAX_CHANNEL_ID + 1
            if channel not in self._by_channel:
                self._last_channel = channel
                return channel
        return None


class TunnelServer(TunnelMachineBase):
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
        "_data_endpoint",
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
        data_endpoint: knxip.HPAI | None = None,
    ) -> None:
        """``user_id``: the authenticated user of the secure session, None if plain.
        ``data_endpoint``: over UDP, the gateway's data endpoint named in CONNECT_RESPONSE
        (acks, one repetition and sequence checks then apply); None over TCP."""
        super().__init__(datagram=data_endpoint is not None)
        self._data_endpoint = data_endpoint if data_endpoint is not None else route_back()
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
            idle = self._last_heard + self._idle_timeout
            window = self._window_deadline()
            return idle if window is None else min(idle, window)
        if self._state is TunnelState.DISCONNECTING:
            return self._state_since + self._disconnect_timeout
        return None

    def expired(self, now: float) -> bool:
        """The idle timeout (or the disconnect timeout) has passed."""
        match self._state:
            case TunnelState.CONNECTED:
                return now >= self._last_heard + self._idle_timeout
            case TunnelState.DISCONNECTING:
                return now >= self._state_since + self._disconnect_timeout
            case _:
                return False

    # --- commands --------------------------------------------------------------------------------

    def indicate(self, frame: LData, now: float) -> bytes:
        """A TUNNELLING_REQUEST carrying ``frame`` as L_Data.ind for the client."""
        return self._tunnelling_request(replace(frame, code=MessageCode.L_DATA_IND), now)

    def confirm(self, request: LData, now: float, *, ok: bool = True) -> bytes:
        """The L_Data.con for a request from TelegramReceived."""
        return self._tunnelling_request(request.confirmation(ok), now)

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
        """The idle timeout (DISCONNECT_REQUEST + TunnelClosed), the disconnect timeout and,
        over UDP, the repetition of an unacknowledged request (twice unacked: closed)."""
        events: list[TunnelEvent] = []
        if self._state is TunnelState.CONNECTED:
            events, lost = self._tick_window(now)
            if lost:
                data = self.disconnect(now)
                return [OutgoingFrame(data), *self._close(CloseReason.ACK_TIMEOUT, now)]
        if not self.expired(now):
            return events
        if self._state is TunnelState.DISCONNECTING:
            return self._close(CloseReason.LOCAL, now)
        data = self.disconnect(now)
        return [OutgoingFrame(data), *self._close(CloseReason.IDLE_TIMEOUT, now)]

    def _tunnelling_request(self, frame: LData, now: float) -> bytes:
        if self._state is not TunnelState.CONNECTED or self._channel_id is None:
            raise NotConnectedError("no open tunnel to this client")
        return self._request_bytes(self._channel_id, frame.encode(), now)

    # --- receiving -------------------------------------------------------------------------------

    def receive(self, frame: bytes | knxip.Frame, now: float) -> list[TunnelEvent]:
        """Handle one plain frame from the client. Never raises for bad input."""
        parsed = as_frame(frame)
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
            case knxip.TunnellingAck() if self._state is TunnelState.CONNECTED:
                return self._receive_ack(parsed, now)
            case knxip.TunnellingAck():
                return []  # after the tunnel closed: harmless
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
        self._reset_sequences()
        self._last_heard = now
        self._enter(TunnelState.CONNECTED, now)
        response = knxip.ConnectResponse(
            channel_id=channel,
            status=ErrorCode.E_NO_ERROR,
            data=self._data_endpoint,
            crd=knxip.CRD(connection_type=CONNECTION_TYPE_TUNNEL, individual_address=address),
        )
        return [OutgoingFrame(knxip.encode(response)), TunnelConnected(channel, address)]

    def _receive_tunnelling_request(
        self, frame: knxip.TunnellingRequest, now: float
    ) -> list[TunnelEvent]:
        if self._state is not TunnelState.CONNECTED or frame.channel_id != self._channel_id:
            return self._drop(DropReason.CHANNEL)
        acks, new = self._admit(frame)
        if not new:
            return acks
        return acks + self._tunnelled_request(frame, now)

    def _tunnelled_request(self, frame: knxip.TunnellingRequest, now: float) -> list[TunnelEvent]:
        try:
            ldata = cemi.parse(frame.cemi)
        except FrameError:
            return self._drop(DropReason.MALFORMED)
        self._last_heard = now
        if ldata.code is not MessageCode.L_DATA_REQ:
            return self._drop(DropReason.UNEXPECTED)
        if ldata.src == NO_ADDRESS:
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
        self._window.clear()
        self._enter(TunnelState.IDLE, now)
        self._channel_id = None
        self._individual_address = None
        return [TunnelClosed(reason)]
