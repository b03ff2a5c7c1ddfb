"""One tunnel connection of the client: secure session + tunnel on a driver.

``Link`` is the client's endpoint of a ``driver.Driver``: it starts the handshake when the
transport is up, opens the tunnel once the session is authenticated (at once for plain
tunnelling, which has no session; over UDP its driver carries datagrams), and turns what the
machines report into futures (the handshake phases, each telegram's confirmation) and two
callbacks to its owner (``on_telegram``, ``on_closed``). It knows nothing of keyrings,
Data Secure or reconnecting: that is the client's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from . import knxip
from .cemi import LData
from .driver import Driver, Pump, PumpEvent
from .errors import (
    AuthenticationError,
    ConfirmationTimeoutError,
    DeviceAuthenticationError,
    FrameError,
    GatewayUnreachableError,
    KNXSecureError,
    NotConnectedError,
    SessionClosedError,
    SessionError,
    TunnelError,
)
from .keyring import KeyringInterface
from .knxip import ErrorCode
from .session import (
    EndReason,
    FrameDropped,
    SecureSession,
    SessionEnded,
    SessionEstablished,
    SessionState,
)
from .tunnel import (
    CloseReason,
    ConfirmationTimedOut,
    TelegramConfirmed,
    TelegramReceived,
    TunnelClient,
    TunnelClosed,
    TunnelConnected,
    TunnelState,
)
from .tunnel_choice import TunnelRefusedError

__all__ = ["Link"]

_LOGGER = logging.getLogger(__name__)

# Session states from which the gateway has answered the SESSION_REQUEST.
_ANSWERED = frozenset({SessionState.WAIT_STATUS, SessionState.AUTHENTICATED})


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _fail_future[T](future: asyncio.Future[T], error: BaseException) -> None:
    """Fail a waiter; marked retrieved, since nobody may be awaiting this phase."""
    if not future.done():
        future.set_exception(error)
        future.exception()


class Link:
    """One connection: secure session (None: plain tunnelling) + tunnel, fed by its driver."""

    def __init__(
        self,
        interface: KeyringInterface,
        session: SecureSession | None,
        tunnel: TunnelClient,
        *,
        address_text: str,
        confirmation_timeout: float,
        on_telegram: Callable[[Link, LData], None],
        on_closed: Callable[[Link, KNXSecureError | None], None],
        datagram_to: tuple[str, int] | None = None,
    ) -> None:
        """``datagram_to``: plain tunnelling over UDP with the gateway at that address."""
        if datagram_to is None:
            self.driver = Driver(self)
        else:
            self.driver = Driver(self, framer=knxip.DatagramFramer(), remote=datagram_to)
        self._transport_name = "TCP connection" if datagram_to is None else "UDP socket"
        loop = self.loop = self.driver.loop
        self.interface = interface
        self.session = session
        self.tunnel = tunnel
        self._pump = Pump(self.driver.write, session, tunnel)
        self._address_text = address_text
        self._confirmation_timeout = confirmation_timeout
        self._on_telegram = on_telegram
        self._on_closed = on_closed
        self.response_received: asyncio.Future[None] = loop.create_future()
        self.established: asyncio.Future[None] = loop.create_future()
        self.tunnel_connected: asyncio.Future[None] = loop.create_future()
        self.tunnel_closed: asyncio.Future[None] = loop.create_future()
        #: The link is over; its result is the error that ended it (None: closed by us).
        self.closed: asyncio.Future[KNXSecureError | None] = loop.create_future()
        self.confirmations: dict[int, asyncio.Future[None]] = {}
        self.connected_at: float | None = None

    def __repr__(self) -> str:
        return f"Link({self.interface.individual_address}, {self.session!r}, {self.tunnel!r})"

    @property
    def is_open(self) -> bool:
        return not self.closed.done()

    @property
    def is_connected(self) -> bool:
        return self.is_open and self.tunnel.state is TunnelState.CONNECTED

    # --- the driver's endpoint ------------------------------------------------------------

    def opened(self, now: float) -> None:
        if self.session is None:
            # plain tunnelling: no session phases, the tunnel opens at once
            _resolve(self.response_received)
            _resolve(self.established)
            self._pump.send(self.tunnel.connect(now), now)
            return
        self._pump.send_raw(self.session.start(now))

    def frame_received(self, frame: bytes, now: float) -> None:
        self._handle(self._pump.receive(frame, now), now)
        if self.session is not None and self.session.state in _ANSWERED:
            _resolve(self.response_received)

    def tick(self, now: float) -> None:
        self._handle(self._pump.tick(now), now)

    def next_deadline(self) -> float | None:
        return self._pump.next_deadline() if self.is_open else None

    def stream_error(self, error: FrameError) -> None:
        self.fail(
            FrameError(
                f"{self._address_text} sent data that is not KNXnet/IP ({error}): "
                "is it a KNX IP gateway?"
            )
        )

    def failed(self, error: KNXSecureError) -> None:
        self.fail(error)

    def lost(self, exc: Exception | None, now: float) -> None:
        self.tunnel.connection_lost(now)
        if exc is None:
            error: KNXSecureError = SessionClosedError(
                f"the {self._transport_name} to {self._address_text} was closed"
            )
        else:
            error = GatewayUnreachableError(
                f"the {self._transport_name} to {self._address_text} was lost: {exc}"
            )
        self.fail(error)

    # --- events ---------------------------------------------------------------------------

    def _handle(self, events: list[PumpEvent], now: float) -> None:
        for event in events:
            if not self.is_open:
                return
            match event:
                case SessionEstablished():
                    _resolve(self.response_received)
                    _resolve(self.established)
                    self._pump.send(self.tunnel.connect(now), now)
                case SessionEnded():
                    self.fail(self._session_error(event))
                case TunnelConnected():
                    self.connected_at = now
                    _resolve(self.tunnel_connected)
                case TelegramReceived(frame):
                    self._on_telegram(self, frame)
                case TelegramConfirmed(handle=handle):
                    self._confirmed(event)
                case ConfirmationTimedOut(handle=handle, request=request):
                    future = self.confirmations.pop(handle, None)
                    if future is not None:
                        _fail_future(
                            future,
                            ConfirmationTimeoutError(
                                f"the gateway did not confirm the telegram to {request.dst} "
                                f"within {self._confirmation_timeout} s"
                            ),
                        )
                case FrameDropped(reason):
                    _LOGGER.debug("%s dropped a frame of the gateway: %s", self, reason)
                case TunnelClosed():
                    _resolve(self.tunnel_closed)
                    if event.reason is not CloseReason.LOCAL:
                        self.fail(self._tunnel_error(event))
                case _:
                    pass

    def _confirmed(self, event: TelegramConfirmed) -> None:
        future = self.confirmations.pop(event.handle, None)
        if future is None or future.done():
            return
        if event.ok:
            future.set_result(None)
        else:
            future.set_exception(
                TunnelError(
                    f"the gateway could not send the telegram to {event.request.dst} on the "
                    "bus (negative confirmation)"
                )
            )

    def _session_error(self, event: SessionEnded) -> KNXSecureError:
        interface = self.interface
        match event.reason:
            case EndReason.AUTHENTICATION_FAILED:
                return AuthenticationError(
                    f"gateway refused tunnel {interface.individual_address} "
                    f"(user {interface.user_id}): authentication failed; check that the "
                    "keyring is the current one for this gateway"
                )
            case EndReason.DEVICE_AUTHENTICATION_FAILED:
                return DeviceAuthenticationError(
                    f"the gateway at {self._address_text} failed its device "
                    f"authentication for {interface.host}: its SESSION_RESPONSE does not "
                    "verify with the keyring's device authentication code; possibly an "
                    "impostor (or the keyring is outdated): session refused"
                )
            case _:
                return event.to_error()

    def _tunnel_error(self, event: TunnelClosed) -> KNXSecureError:
        if event.reason is CloseReason.REFUSED:
            if event.status is ErrorCode.E_NO_MORE_CONNECTIONS:
                detail = "busy"
            elif event.status is ErrorCode.E_AUTHORISATION_ERROR:
                detail = "not authorised for this user"
            else:
                detail = event.status.name if event.status is not None else "refused"
            return TunnelRefusedError(
                f"gateway refused tunnel {self.interface.individual_address}: {detail}", detail
            )
        if event.reason is CloseReason.HEARTBEAT:
            return TunnelError(
                f"tunnel {self.tunnel.individual_address} lost: the gateway "
                f"{self._address_text} did not answer the connection state check"
            )
        return event.to_error()

    # --- telegrams out --------------------------------------------------------------------

    def send_telegram(self, frame: LData) -> asyncio.Future[None]:
        """Send an L_Data.req; the future completes on its confirmation."""
        if not self.is_connected or self.driver.is_closing:
            raise NotConnectedError("no open tunnel to send the telegram on")
        now = self.loop.time()
        sent = self.tunnel.send_telegram(frame, now)
        future: asyncio.Future[None] = self.loop.create_future()
        self.confirmations[sent.handle] = future
        try:
            self._pump.send(sent.data, now)
        except SessionError as err:
            self.confirmations.pop(sent.handle, None)
            raise NotConnectedError(f"the secure session is closed: {err}") from err
        self.driver.update()
        return future

    # --- the end --------------------------------------------------------------------------

    def fail(self, error: KNXSecureError | None) -> None:
        """End the link now (idempotent): fail every waiter, close the transport."""
        if self.closed.done():
            return
        phase_error = error or NotConnectedError("the client was closed")
        for phase in (self.response_received, self.established, self.tunnel_connected):
            _fail_future(phase, phase_error)
        _resolve(self.tunnel_closed)
        waiter_error = NotConnectedError(
            f"connection lost before the gateway confirmed the telegram: {phase_error}"
        )
        for future in self.confirmations.values():
            _fail_future(future, waiter_error)
        self.confirmations.clear()
        if isinstance(error, FrameError):
            self.driver.abort()  # not a KNXnet/IP peer: nothing more to say to it
        else:
            # leave the session properly (a refused tunnel, a lost heartbeat): the gateway
            # frees it at once instead of waiting for its timeout
            self._leave_session()
            self.driver.close()
        self.closed.set_result(error)
        self._on_closed(self, error)

    async def close(self, disconnect_timeout: float) -> None:
        """Leave cleanly: DISCONNECT_REQUEST (brief wait), SESSION_STATUS close, TCP close."""
        if self.is_open and not self.driver.is_closing:
            now = self.loop.time()
            try:
                if self.tunnel.state is TunnelState.CONNECTED:
                    self._pump.send(self.tunnel.disconnect(now), now)
                    self.driver.update()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(disconnect_timeout):
                            await asyncio.shield(self.tunnel_closed)
                if self.is_open:
                    self._leave_session()
            except KNXSecureError as err:
                _LOGGER.debug("Error while leaving the session: %s", err)
        self.fail(None)
        await self._wait_transport_closed(disconnect_timeout)

    def _leave_session(self) -> None:
        """SESSION_STATUS close (nothing for plain tunnelling)."""
        if self.session is not None:
            with contextlib.suppress(KNXSecureError):
                self._pump.send_raw(self.session.close(self.loop.time()))

    async def _wait_transport_closed(self, limit: float) -> None:
        transport_closed = self.driver.closed
        if transport_closed.done() or not self.driver.has_transport:
            return
        try:
            async with asyncio.timeout(limit):
                await asyncio.shield(transport_closed)
        except TimeoutError:
            self.driver.abort()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(limit):
                    await asyncio.shield(transport_closed)
