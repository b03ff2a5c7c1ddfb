"""The virtual gateway's endpoint of one client: a TCP connection or a plain UDP tunnel.

Split from ``gateway.py`` (which keeps the server, its sockets and the simulated bus): a
``Connection`` sits on a ``Driver`` and decides, from its first frame, between a secure session
and plain tunnelling, then moves telegrams between its tunnel and the gateway's bus.
"""

from __future__ import annotations

import asyncio
import logging
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

from . import knxip
from .cemi import LData
from .driver import Driver, Pump, PumpEvent
from .errors import FrameError, KNXSecureError
from .knxip import ErrorCode, ServiceType
from .session import FrameDropped, SessionEnded, SessionEstablished
from .tunnel import (
    DEFAULT_SERVER_IDLE_TIMEOUT,
    ConnectRefused,
    TelegramReceived,
    TunnelClosed,
    TunnelConnected,
    TunnelServer,
    TunnelState,
)

if TYPE_CHECKING:
    from .gateway import VirtualGateway

__all__ = ["TUNNEL_IDLE_TIMEOUT", "Connection", "PeerTransport"]

_LOGGER = logging.getLogger(__name__)

#: A plain tunnel is dropped after this long without CONNECTIONSTATE_REQUEST or data.
TUNNEL_IDLE_TIMEOUT: Final = DEFAULT_SERVER_IDLE_TIMEOUT


class PeerTransport(asyncio.DatagramTransport):
    """One UDP client's view of the gateway's shared socket: what the client's ``Driver``
    writes goes to that client; closing it ends only this client's connection."""

    def __init__(
        self, shared: asyncio.DatagramTransport, peer: tuple[str, int], protocol: Driver
    ) -> None:
        super().__init__({"peername": peer})
        self._shared = shared
        self._peer = peer
        self._protocol = protocol
        self._closing = False

    def sendto(self, data: Any, addr: Any = None) -> None:
        if not self._closing and not self._shared.is_closing():
            self._shared.sendto(data, self._peer)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            asyncio.get_running_loop().call_soon(self._protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()


# --- one TCP connection (or plain UDP tunnel) ---------------------------------------------------


class _Mode(Enum):
    UNDECIDED = "undecided"  # no frame yet
    SECURE = "secure"  # first frame was SESSION_REQUEST
    PLAIN = "plain"


class Connection:
    """One TCP client, the gateway's endpoint of a ``Driver``: its first frame decides
    between a secure session and plain tunnelling; attached to the bus while its tunnel is
    open. Until it is accepted (session authenticated, or plain tunnel open) it has
    ``session_timeout`` from its start, whatever it sends: only accepted frames are life."""

    def __init__(
        self, gateway: VirtualGateway, *, datagram_peer: tuple[str, int] | None = None
    ) -> None:
        """``datagram_peer``: a plain UDP tunnel of the client at that address."""
        self._gateway = gateway
        self._datagram_peer = datagram_peer
        if datagram_peer is None:
            self.driver = Driver(self)
        else:
            framer = knxip.DatagramFramer()
            self.driver = Driver(self, framer=framer, remote=datagram_peer)
        self._pump = Pump(self.driver.write)
        self._mode = _Mode.UNDECIDED
        #: Since when it is unauthenticated (None while accepted).
        self._waiting_since: float | None = self.driver.loop.time()
        self.closed = self.driver.closed

    def __repr__(self) -> str:
        return f"Connection({self.peer}, {self._mode.value}, session={self.session_id})"

    @property
    def peer(self) -> str:
        return self.driver.peer

    @property
    def session_id(self) -> int | None:
        session = self._pump.session
        return session.session_id if session is not None else None

    @property
    def authenticated(self) -> bool:
        session = self._pump.session
        return session is not None and session.is_authenticated

    @property
    def accepted(self) -> bool:
        """Authenticated (secure), or a plain tunnel is open."""
        return self._waiting_since is None

    @property
    def closing(self) -> bool:
        return self.driver.is_closing

    @property
    def _tunnel(self) -> TunnelServer | None:
        tunnel = self._pump.tunnel
        assert tunnel is None or isinstance(tunnel, TunnelServer)
        return tunnel

    # --- the driver's endpoint ------------------------------------------------------------

    def opened(self, now: float) -> None:
        self._waiting_since = now
        self._gateway.connection_opened(self)
        _LOGGER.info("connection from %s", self.peer)

    def frame_received(self, frame: bytes, now: float) -> None:
        if self._mode is _Mode.UNDECIDED:
            self._choose_mode(frame, now)
        if self._mode is _Mode.PLAIN and self._refuses_plain(frame):
            return
        if not self.driver.is_closing:
            self._handle(self._pump.receive(frame, now), now)

    def tick(self, now: float) -> None:
        waiting = self._waiting_since
        if waiting is not None and now >= waiting + self._gateway.session_timeout:
            _LOGGER.info(
                "closing %s: not authenticated within %s s",
                self.peer,
                self._gateway.session_timeout,
            )
            self.close()
            return
        self._handle(self._pump.tick(now), now)

    def next_deadline(self) -> float | None:
        deadline = self._pump.next_deadline()
        waiting = self._waiting_since
        if waiting is None:
            return deadline
        limit = waiting + self._gateway.session_timeout
        return limit if deadline is None else min(deadline, limit)

    def stream_error(self, error: FrameError) -> None:
        self._gateway.count_drop("malformed")
        _LOGGER.info("closing %s: not a KNXnet/IP stream (%s)", self.peer, error)
        self.abort()

    def failed(self, error: KNXSecureError) -> None:
        _LOGGER.info("closing %s: %s", self.peer, error)
        self.abort()

    def lost(self, exc: Exception | None, now: float) -> None:
        tunnel = self._tunnel
        if tunnel is not None:
            self._handle(self._pump.tunnel_events(tunnel.connection_lost(now), now), now)
        self._gateway.bus.detach(self)
        self._gateway.connection_closed(self)
        if self._datagram_peer is not None:
            self._gateway.udp_peer_closed(self._datagram_peer)
        _LOGGER.info("connection from %s closed", self.peer)

    # --- frames ---------------------------------------------------------------------------

    def _choose_mode(self, frame: bytes, now: float) -> None:
        if knxip.service_of(frame) == ServiceType.SESSION_REQUEST:
            session = self._gateway.new_session()
            if session is None:
                _LOGGER.warning("refusing a secure session from %s: no device code", self.peer)
                self.abort()
                return
            session.start(now)
            self._pump.session = session
            self._mode = _Mode.SECURE
            _LOGGER.info("secure session %s requested by %s", session.session_id, self.peer)
        else:
            self._pump.tunnel = self._new_tunnel(user_id=None)
            self._mode = _Mode.PLAIN

    def _new_tunnel(self, user_id: int | None) -> TunnelServer:
        return TunnelServer(
            self._gateway.slots,
            user_id=user_id,
            idle_timeout=TUNNEL_IDLE_TIMEOUT,
            # over UDP the gateway's one port is control and data endpoint
            data_endpoint=self._gateway.control_hpai() if self._datagram_peer else None,
        )

    def _refuses_plain(self, frame: bytes) -> bool:
        if knxip.service_of(frame) != ServiceType.CONNECT_REQUEST or self._gateway.has_plain_slots:
            return False
        # Every tunnel needs a secure session. Real secure interfaces (MDT, Weinzierl) answer
        # a plain CONNECT_REQUEST with E_NO_MORE_CONNECTIONS: no tunnel is free *for this
        # client*; the secured service families DIB told it why.
        _LOGGER.info("refusing plain tunnelling from %s: tunnels require security", self.peer)
        refusal = knxip.ConnectResponse(0, ErrorCode.E_NO_MORE_CONNECTIONS)
        self._pump.send_raw(knxip.encode(refusal))
        return True

    def _handle(self, events: list[PumpEvent], now: float) -> None:
        for event in events:
            match event:
                case SessionEstablished():
                    self._pump.tunnel = self._new_tunnel(event.user_id)
                    self._accept(now)
                    _LOGGER.info(
                        "secure session %s: user %s authenticated (%s)",
                        event.session_id,
                        event.user_id,
                        self.peer,
                    )
                case SessionEnded():
                    _LOGGER.info(
                        "secure session %s of user %s ended: %s%s",
                        self.session_id,
                        event.user_id,
                        event.reason,
                        " (by the client)" if event.by_peer else "",
                    )
                    self.close()
                case TelegramReceived():
                    # confirm first (the frame is on the bus), then deliver it to the others
                    tunnel = self._tunnel
                    assert tunnel is not None
                    self._send(tunnel.confirm(event.frame, now), now)
                    self._gateway.bus.transmit(event.frame, origin=self)
                case TunnelConnected():
                    self._gateway.bus.attach(self)
                    self._accept(now)
                    _LOGGER.info(
                        "tunnel %s opened on channel %s (%s, user %s)",
                        event.individual_address,
                        event.channel_id,
                        self.peer,
                        self._pump.session.user_id if self._pump.session else None,
                    )
                case TunnelClosed():
                    self._gateway.bus.detach(self)
                    if self._datagram_peer is not None:
                        self.close()  # a UDP client's connection is its tunnel
                    elif self._mode is _Mode.PLAIN:
                        self._waiting_since = now  # no tunnel, no session: waiting again
                    _LOGGER.info("tunnel of %s closed: %s", self.peer, event.reason)
                case ConnectRefused():
                    _LOGGER.info("tunnel refused to %s: %s", self.peer, event.status.name)
                    if self._datagram_peer is not None:
                        self.close()  # over UDP nothing is kept for a refused client
                case FrameDropped():
                    self._gateway.count_drop(str(event.reason))
                case _:
                    pass

    def _accept(self, now: float) -> None:
        if self._waiting_since is not None:
            self._waiting_since = None
            _LOGGER.debug("%s accepted at %.3f", self.peer, now)

    # --- bus ------------------------------------------------------------------------------

    def deliver(self, frame: LData) -> None:
        """A telegram from the bus: an L_Data.ind for this client."""
        tunnel = self._tunnel
        if self.driver.is_closing or tunnel is None or tunnel.state is not TunnelState.CONNECTED:
            return
        now = self.driver.loop.time()
        self._send(tunnel.indicate(frame, now), now)
        self.driver.update()

    # --- sending and closing --------------------------------------------------------------

    def _send(self, plain: bytes, now: float) -> None:
        """A plain KNXnet/IP frame to the client, wrapped when the connection is secure."""
        session = self._pump.session
        if self.driver.is_closing or (session is not None and not session.is_authenticated):
            return
        self._pump.send(plain, now)

    def close(self, *, graceful: bool = False) -> None:
        """Close after the queued frames (``graceful``: say goodbye first)."""
        if self.driver.is_closing:
            return
        if graceful:
            now = self.driver.loop.time()
            tunnel, session = self._tunnel, self._pump.session
            if tunnel is not None and tunnel.state is TunnelState.CONNECTED:
                self._send(tunnel.disconnect(now), now)
            if session is not None:
                self._pump.send_raw(session.close(now))
        self.driver.close()

    def abort(self) -> None:
        """Drop the connection at once (a reset)."""
        self.driver.abort()
