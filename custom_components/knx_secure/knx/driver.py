"""The connection driver: one asyncio edge under both roles and every transport.

Everything about frames lives in the sans-I/O core: a framer (``knxip.StreamFramer`` for
TCP, ``knxip.DatagramFramer`` for UDP) turns received bytes into whole frames, and the
machines (``SecureSession`` below, ``TunnelClient``/``TunnelServer`` above) turn frames and
time into bytes to send and events. This module only moves things between them:

- ``Driver`` is the asyncio protocol of one connection (stream or datagram): bytes in
  through the framer, frames out to its ``Endpoint``, bytes from the endpoint out to the
  transport, and one timer that follows the endpoint's next deadline.
- ``Pump`` is the one event pump between the machines: session events feed the tunnel
  machine, tunnel output goes through the session, and what is left (established, telegram,
  closed, ...) is returned to the role (client link or gateway connection).

No task runs per connection: frames are handled synchronously in ``data_received`` and the
machines' timers run from a single ``call_at`` handle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from typing import Protocol

from . import knxip
from .errors import FrameError, KNXSecureError
from .session import (
    FrameDropped,
    InnerFrame,
    OutgoingFrame,
    SecureSession,
    SessionEnded,
    SessionEstablished,
    SessionEvent,
)
from .tunnel import TunnelEvent

__all__ = ["DeadlineTimer", "Driver", "Endpoint", "Pump", "PumpEvent", "TunnelMachine"]

_LOGGER = logging.getLogger(__name__)

#: What the pump hands to the role: every machine event but the plumbing ones.
PumpEvent = SessionEstablished | SessionEnded | FrameDropped | TunnelEvent


class Endpoint(Protocol):
    """The role on top of a driver (client link, gateway connection)."""

    def opened(self, now: float) -> None:
        """The transport is up (the client starts its handshake here)."""

    def frame_received(self, frame: bytes, now: float) -> None:
        """One whole frame from the peer."""

    def tick(self, now: float) -> None:
        """The deadline from ``next_deadline`` has come."""

    def next_deadline(self) -> float | None:
        """When ``tick`` is next due (None: nothing scheduled)."""

    def stream_error(self, error: FrameError) -> None:
        """The peer sent bytes that are not KNXnet/IP frames."""

    def failed(self, error: KNXSecureError) -> None:
        """Handling a frame or a tick raised (a KNXSecureError, or an internal error)."""

    def lost(self, exc: Exception | None, now: float) -> None:
        """The transport is closed (by either side); the last call."""


class DeadlineTimer:
    """One ``call_at`` handle that follows a moving deadline; fires ``callback(now)``
    never before the deadline (call_at may run up to the clock resolution early)."""

    __slots__ = ("_callback", "_handle", "_loop", "_when")

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[[float], None]) -> None:
        self._loop = loop
        self._callback = callback
        self._handle: asyncio.TimerHandle | None = None
        self._when: float | None = None

    def follow(self, when: float | None) -> None:
        """Fire at ``when`` (None: never); a handle already due then is kept."""
        if when == self._when and self._handle is not None:
            return
        self.cancel()
        if when is not None:
            self._when = when
            self._handle = self._loop.call_at(when, self._fire)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._when = None

    def _fire(self) -> None:
        now = max(self._loop.time(), self._when or 0.0)
        self._handle = None
        self._when = None
        self._callback(now)


class Driver(asyncio.Protocol, asyncio.DatagramProtocol):
    """One connection's asyncio protocol: stream (TCP) or datagram (UDP, to ``remote``).

    Give it to ``create_connection``/``create_server``/``create_datagram_endpoint``; it
    feeds ``endpoint`` and writes what the endpoint gives to ``write``. A datagram driver
    without ``remote`` (multicast routing) hears every sender and sends to ``destination``.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        framer: knxip.Framer | None = None,
        remote: tuple[str, int] | None = None,
        destination: tuple[str, int] | None = None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.endpoint = endpoint
        self._framer: knxip.Framer = framer if framer is not None else knxip.StreamFramer()
        self._datagram = isinstance(self._framer, knxip.DatagramFramer)
        self._remote = remote
        self._destination = destination if destination is not None else remote
        self._transport: asyncio.BaseTransport | None = None
        self._closing = False
        self._timer = DeadlineTimer(self.loop, self._on_timer)
        self.peer = "?"
        #: Done once the transport is closed.
        self.closed: asyncio.Future[None] = self.loop.create_future()

    def __repr__(self) -> str:
        return f"Driver({self.peer}, {self._framer!r})"

    @property
    def is_closing(self) -> bool:
        return self._closing or self._transport is None or self._transport.is_closing()

    @property
    def has_transport(self) -> bool:
        """The transport is made and not yet lost."""
        return self._transport is not None

    @property
    def framer(self) -> knxip.Framer:
        return self._framer

    # --- asyncio callbacks ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        if self._closing:  # closed while the transport was being made: nothing to say
            transport.close()
            return
        sock = transport.get_extra_info("socket")
        if sock is not None and not self._datagram:
            with contextlib.suppress(OSError):  # frames are small and latency counts
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername") or self._destination
        if peer:
            self.peer = f"{peer[0]}:{peer[1]}"
        self._guarded(self.endpoint.opened, self.loop.time())
        self.update()

    def data_received(self, data: bytes) -> None:
        now = self.loop.time()
        self._framer.receive_data(data)
        self._drain(now)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        if self._remote is not None and (str(addr[0]), addr[1]) != self._remote:
            return  # not our peer
        self.data_received(data)

    def eof_received(self) -> bool:
        return False  # close our side too: connection_lost follows

    def error_received(self, exc: Exception) -> None:
        _LOGGER.debug("%s: %s", self, exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._timer.cancel()
        self._transport = None
        try:
            self.endpoint.lost(exc, self.loop.time())
        finally:
            if not self.closed.done():
                self.closed.set_result(None)

    # --- frames and time in ---------------------------------------------------------------

    def _drain(self, now: float) -> None:
        framer = self._framer
        while not self._closing:
            try:
                frame = framer.next_frame()
            except FrameError as err:
                self.endpoint.stream_error(err)
                if self._datagram:
                    continue  # one bad datagram; the next ones stand on their own
                break
            if frame is None:
                break
            self._guarded(self.endpoint.frame_received, frame, now)
        self.update()

    def _on_timer(self, now: float) -> None:
        if self._closing:
            return
        self._guarded(self.endpoint.tick, now)
        self.update()

    def _guarded[*A](self, handler: Callable[[*A], None], *args: *A) -> None:
        try:
            handler(*args)
        except KNXSecureError as err:
            self.endpoint.failed(err)
        except Exception as err:
            _LOGGER.exception("Unexpected error in %r", self)
            self.endpoint.failed(KNXSecureError(f"internal error handling a frame: {err!r}"))

    def update(self) -> None:
        """Follow the endpoint's next deadline (call after acting on its machines)."""
        if self._closing:
            self._timer.cancel()
        else:
            self._timer.follow(self.endpoint.next_deadline())

    # --- bytes out and the end ------------------------------------------------------------

    def write(self, data: bytes) -> None:
        transport = self._transport
        if not data or transport is None or transport.is_closing():
            return
        if self._datagram:
            assert isinstance(transport, asyncio.DatagramTransport)
            transport.sendto(data, self._destination)
        else:
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(data)

    def close(self) -> None:
        """Close after what is queued."""
        self._closing = True
        self._timer.cancel()
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Drop the connection at once."""
        self._closing = True
        self._timer.cancel()
        transport = self._transport
        if isinstance(transport, asyncio.WriteTransport | asyncio.DatagramTransport):
            transport.abort()
        elif transport is not None:
            transport.close()


class TunnelMachine(Protocol):
    """What the pump needs of ``TunnelClient`` and ``TunnelServer``."""

    def receive(self, frame: bytes | knxip.Frame, now: float) -> list[TunnelEvent]: ...

    def tick(self, now: float) -> list[TunnelEvent]: ...

    def next_deadline(self) -> float | None: ...


class Pump:
    """The one event pump between a connection's machines (sans-I/O).

    ``session`` (None for plain tunnelling) unwraps what arrives and wraps what leaves;
    ``tunnel`` (set by the role once it exists) gets the inner frames. Bytes go to ``send``
    as the machines produce them, in order; the returned events are the role's to act on.
    """

    __slots__ = ("_send", "session", "tunnel")

    def __init__(
        self,
        send: Callable[[bytes], None],
        session: SecureSession | None = None,
        tunnel: TunnelMachine | None = None,
    ) -> None:
        self._send = send
        self.session = session
        self.tunnel = tunnel

    def receive(self, frame: bytes, now: float) -> list[PumpEvent]:
        """One whole frame from the peer."""
        out: list[PumpEvent] = []
        if self.session is not None:
            self._session_events(self.session.receive(frame, now), now, out)
        elif self.tunnel is not None:
            self._tunnel_events(self.tunnel.receive(frame, now), now, out)
        return out

    def tick(self, now: float) -> list[PumpEvent]:
        out: list[PumpEvent] = []
        if self.session is not None:
            self._session_events(self.session.tick(now), now, out)
        if self.tunnel is not None:
            self._tunnel_events(self.tunnel.tick(now), now, out)
        return out

    def next_deadline(self) -> float | None:
        session = self.session.next_deadline() if self.session is not None else None
        tunnel = self.tunnel.next_deadline() if self.tunnel is not None else None
        if session is None:
            return tunnel
        return session if tunnel is None else min(session, tunnel)

    def tunnel_events(self, events: list[TunnelEvent], now: float) -> list[PumpEvent]:
        """Route events a tunnel machine returned to a command (its output is sent)."""
        out: list[PumpEvent] = []
        self._tunnel_events(events, now, out)
        return out

    def send(self, plain: bytes, now: float) -> None:
        """A plain frame to the peer, wrapped in the session if there is one (raises
        SessionError when the session cannot wrap: not authenticated, or closed)."""
        if plain:
            session = self.session
            self._send(plain if session is None else session.wrap(plain, now))

    def send_raw(self, data: bytes) -> None:
        """Bytes as they are (handshake and session close frames)."""
        if data:
            self._send(data)

    def _session_events(self, events: list[SessionEvent], now: float, out: list[PumpEvent]) -> None:
        for event in events:
            match event:
                case OutgoingFrame(data):
                    self._send(data)
                case InnerFrame(frame=inner):
                    if self.tunnel is not None:
                        self._tunnel_events(self.tunnel.receive(inner, now), now, out)
                case _:
                    out.append(event)

    def _tunnel_events(self, events: list[TunnelEvent], now: float, out: list[PumpEvent]) -> None:
        session = self.session
        for event in events:
            if isinstance(event, OutgoingFrame):
                if session is None:
                    self._send(event.data)
                elif session.is_authenticated:
                    self._send(session.wrap(event.data, now))
                # else: the session is gone, and with it the way to the peer
            else:
                out.append(event)
