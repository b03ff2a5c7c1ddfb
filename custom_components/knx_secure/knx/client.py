"""SecureTunnelClient: a KNX IP Secure tunnelling client on asyncio.

A thin edge over the sans-I/O machines: ``session.SecureSession`` (the KNXnet/IP Secure
session), ``tunnel.TunnelClient`` (the tunnelling connection) and ``data_secure.DataSecure``
(group telegrams). This module only moves bytes between one TCP connection, timers and
those machines; every protocol rule lives in them.

One TCP connection (``_Link``) is an ``asyncio.Protocol``: received bytes are split into
frames and fed to the machines synchronously, and one ``call_at`` timer wakes the machines
at their ``next_deadline()``. No task runs per connection; the only task a client owns is
the optional supervisor of ``start()`` that reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Self

from . import knxip
from .address import GroupAddress, IndividualAddress
from .cemi import (
    APCI,
    LData,
    MessageCode,
    group_value_read,
    group_value_response,
    group_value_write,
    parse_group_apdu,
)
from .crypto import derive_device_authentication_key, derive_user_password_key
from .data_secure import (
    DataSecure,
    Dropped,
    FreshnessTable,
    SequenceCounter,
    is_secure_tpdu,
    unix_ms,
)
from .discovery import GatewayDescriptor, describe_gateway
from .drops import DropReason
from .errors import (
    AuthenticationError,
    ConfirmationTimeoutError,
    ConnectRefusedError,
    DataSecureError,
    DataSecureKeyMissingError,
    DataSecurePlainRejectedError,
    DeviceAuthenticationError,
    FrameError,
    GatewayUnreachableError,
    KeyringError,
    KNXSecureError,
    NoFreeTunnelError,
    NotConnectedError,
    ResponseTimeoutError,
    SessionClosedError,
    SessionError,
    TunnelError,
)
from .keyring import InterfaceType, Keyring, KeyringInterface
from .knxip import ErrorCode
from .security_store import JsonFileStore, SecurityState, SecurityStore
from .session import (
    EndReason,
    FrameDropped,
    InnerFrame,
    OutgoingFrame,
    SecureSession,
    SessionEnded,
    SessionEstablished,
    SessionEvent,
    SessionState,
)
from .telegram import Telegram, TelegramDropped
from .tunnel import (
    CloseReason,
    ConfirmationTimedOut,
    TelegramConfirmed,
    TelegramReceived,
    TunnelClient,
    TunnelClosed,
    TunnelConnected,
    TunnelEvent,
    TunnelState,
)

__all__ = [
    "DEFAULT_PORT",
    "TELEGRAM_DROP_REASONS",
    "ConnectionEvent",
    "ConnectionState",
    "JsonFileStore",
    "SecureTunnelClient",
    "SecurityState",
    "SecurityStore",
    "Telegram",
    "TelegramDropped",
    "TelegramStream",
    "Timeouts",
    "TunnelChoice",
]

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT: Final = knxip.PORT
#: Keys of ``SecureTunnelClient.dropped``: why an incoming telegram was not delivered.
TELEGRAM_DROP_REASONS: Final = (
    DropReason.NO_KEY,
    DropReason.MAC,
    DropReason.REPLAY,
    DropReason.MALFORMED,
    DropReason.PLAIN,
)
#: Telegrams an unread ``telegrams()`` stream keeps before it drops the oldest.
STREAM_QUEUE_SIZE: Final = 1024
# Extra time the machines get over the edge's own phase timeouts, so that the edge's
# clearer messages win a tie.
_MACHINE_GRACE: Final = 1.0
# The serial number a client puts in its SECURE_WRAPPERs: KNX Association's manufacturer
# code 00fa and four random octets per client.
_SERIAL_PREFIX: Final = b"\x00\xfa"
_JITTER: Final = 0.2


# --- public value types --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Every timeout of the client, in seconds (overridable; tests shorten them)."""

    tcp_connect: float = 5.0  # TCP connection to the gateway
    session_response: float = 10.0  # SESSION_REQUEST -> SESSION_RESPONSE
    authenticate: float = 10.0  # SESSION_AUTHENTICATE -> SESSION_STATUS
    connect_response: float = 10.0  # CONNECT_REQUEST -> CONNECT_RESPONSE
    confirmation: float = 3.0  # L_Data.req -> L_Data.con
    read_response: float = 5.0  # GroupValueRead -> GroupValueResponse (default of read())
    keepalive: float = 50.0  # session keepalive after this long without sending
    heartbeat: float = 60.0  # CONNECTIONSTATE_REQUEST interval
    heartbeat_answer: float = 10.0  # answer window of a CONNECTIONSTATE_REQUEST
    backoff_initial: float = 1.0  # first reconnect delay
    backoff_max: float = 60.0  # reconnect delay cap (doubles up to it)
    description: float = 1.0  # UDP DESCRIPTION_REQUEST (automatic tunnel choice)
    disconnect: float = 1.0  # DISCONNECT_REQUEST -> DISCONNECT_RESPONSE on close()
    #: CONNECTIONSTATE_REQUESTs that may go unanswered in a row before the tunnel is
    #: lost. Over TCP nothing is lost on the way, so one miss means a dead gateway: it
    #: is caught within heartbeat + heartbeat_answer.
    heartbeat_misses: int = 1


@dataclass(frozen=True, slots=True)
class TunnelChoice:
    """Which tunnel to open.

    - ``individual_address``: exactly that tunnel of the keyring;
    - ``user_id``: the tunnel of that user (of ``host``, or of the gateway's host);
    - neither: automatic; every tunnel of the gateway's host, free ones first.

    ``host`` names the gateway's individual address in the keyring; without it the client
    asks the gateway (UDP description) and falls back to the keyring's hosts in order.
    """

    individual_address: IndividualAddress | None = None
    user_id: int | None = None
    host: IndividualAddress | None = None

    @property
    def automatic(self) -> bool:
        return self.individual_address is None and self.user_id is None


class ConnectionState(StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    """A change of the connection: the new state and, when it failed, why."""

    state: ConnectionState
    error: KNXSecureError | None = None


class TelegramStream:
    """Async iterator over incoming telegrams (``SecureTunnelClient.telegrams()``).

    It receives telegrams from the moment it was created; it ends when the client is
    closed or when ``aclose()`` is called. An unread stream keeps the newest
    ``STREAM_QUEUE_SIZE`` telegrams.
    """

    def __init__(self, detach: Callable[[TelegramStream], None]) -> None:
        self._items: deque[Telegram] = deque(maxlen=STREAM_QUEUE_SIZE)
        self._wakeup = asyncio.Event()
        self._ended = False
        self._detach = detach

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Telegram:
        while not self._items:
            if self._ended:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._items.popleft()

    async def aclose(self) -> None:
        """Stop receiving; iteration ends after the telegrams already queued."""
        self._end()

    def _put(self, telegram: Telegram) -> None:
        if not self._ended:
            self._items.append(telegram)
            self._wakeup.set()

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self._detach(self)
            self._wakeup.set()


# --- one TCP connection ------------------------------------------------------------------------


def _mark_retrieved(future: asyncio.Future[None]) -> None:
    """Silence "exception was never retrieved" for a phase nobody awaited."""
    if future.done() and not future.cancelled():
        future.exception()


class _Link(asyncio.Protocol):
    """One TCP connection: secure session + tunnel, fed from data_received and a timer."""

    def __init__(
        self,
        client: SecureTunnelClient,
        interface: KeyringInterface,
        session: SecureSession,
        tunnel: TunnelClient,
    ) -> None:
        loop = asyncio.get_running_loop()
        self.loop = loop
        self.client = client
        self.interface = interface
        self.session = session
        self.tunnel = tunnel
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.response_received: asyncio.Future[None] = loop.create_future()
        self.established: asyncio.Future[None] = loop.create_future()
        self.tunnel_connected: asyncio.Future[None] = loop.create_future()
        self.tunnel_closed: asyncio.Future[None] = loop.create_future()
        self.transport_closed: asyncio.Future[None] = loop.create_future()
        #: The link is over; its result is the error that ended it (None: closed by us).
        self.closed: asyncio.Future[KNXSecureError | None] = loop.create_future()
        self.confirmations: dict[int, asyncio.Future[None]] = {}
        self.connected_at: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when: float | None = None

    def __repr__(self) -> str:
        return f"_Link({self.interface.individual_address}, {self.session!r}, {self.tunnel!r})"

    @property
    def is_open(self) -> bool:
        return not self.closed.done()

    @property
    def is_connected(self) -> bool:
        return self.is_open and self.tunnel.state is TunnelState.CONNECTED

    # --- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._write(self.session.start(self.loop.time()))
        self._arm()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            while self.is_open:
                length = knxip.frame_length(bytes(self.buffer[: knxip.HEADER_LENGTH]))
                if length is None or len(self.buffer) < length:
                    break
                frame = bytes(self.buffer[:length])
                del self.buffer[:length]
                self._on_frame(frame)
        except FrameError as err:
            self.fail(
                FrameError(
                    f"{self.client.address_text} sent data that is not KNXnet/IP ({err}): "
                    "is it a KNX IP gateway?"
                )
            )
        except KNXSecureError as err:
            self.fail(err)
        except Exception as err:
            _LOGGER.exception("Unexpected error handling a frame from the gateway")
            self.fail(KNXSecureError(f"internal error handling a frame: {err!r}"))
        self._arm()

    def eof_received(self) -> bool:
        return False  # close the transport: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.transport_closed.done():
            self.transport_closed.set_result(None)
        now = self.loop.time()
        self.tunnel.connection_lost(now)
        if exc is None:
            error: KNXSecureError = SessionClosedError(
                f"the gateway {self.client.address_text} closed the TCP connection"
            )
        else:
            error = GatewayUnreachableError(
                f"the TCP connection to {self.client.address_text} was lost: {exc}"
            )
        self.fail(error)

    # --- frames in -----------------------------------------------------------------------------

    def _on_frame(self, frame: bytes) -> None:
        now = self.loop.time()
        before = self.session.state
        events = self.session.receive(frame, now)
        if before is SessionState.WAIT_RESPONSE and self.session.state is SessionState.WAIT_STATUS:
            _resolve(self.response_received)
        self._handle_session_events(events)

    def _handle_session_events(self, events: list[SessionEvent]) -> None:
        for event in events:
            if not self.is_open:
                return
            match event:
                case OutgoingFrame(data):
                    self._write(data)
                case SessionEstablished():
                    _resolve(self.response_received)
                    _resolve(self.established)
                    self._send_inner(self.tunnel.connect(self.loop.time()))
                case InnerFrame(frame=inner):
                    self._handle_tunnel_events(self.tunnel.receive(inner, self.loop.time()))
                case FrameDropped(reason):
                    _LOGGER.debug("%s dropped a frame of the gateway: %s", self, reason)
                case SessionEnded():
                    self.fail(self._session_error(event))

    def _handle_tunnel_events(self, events: list[TunnelEvent]) -> None:
        for event in events:
            if not self.is_open:
                return
            match event:
                case OutgoingFrame(data):
                    self._send_inner(data)
                case TunnelConnected():
                    self.connected_at = self.loop.time()
                    _resolve(self.tunnel_connected)
                case TelegramReceived(frame):
                    self.client._on_ldata(self, frame)
                case TelegramConfirmed(handle=handle):
                    future = self.confirmations.pop(handle, None)
                    if future is not None and not future.done():
                        if event.ok:
                            future.set_result(None)
                        else:
                            future.set_exception(
                                TunnelError(
                                    f"the gateway could not send the telegram to "
                                    f"{event.request.dst} on the bus (negative confirmation)"
                                )
                            )
                case ConfirmationTimedOut(handle=handle, request=request):
                    future = self.confirmations.pop(handle, None)
                    if future is not None and not future.done():
                        future.set_exception(
                            ConfirmationTimeoutError(
                                f"the gateway did not confirm the telegram to {request.dst} "
                                f"within {self.client.timeouts.confirmation} s"
                            )
                        )
                case FrameDropped(reason):
                    _LOGGER.debug("%s: tunnel dropped a frame: %s", self, reason)
                case TunnelClosed():
                    _resolve(self.tunnel_closed)
                    if event.reason is not CloseReason.LOCAL:
                        self.fail(self._tunnel_error(event))

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
                    f"the gateway at {self.client.address_text} failed its device "
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
            return _TunnelRefusedError(
                f"gateway refused tunnel {self.interface.individual_address}: {detail}", detail
            )
        if event.reason is CloseReason.HEARTBEAT:
            return TunnelError(
                f"tunnel {self.tunnel.individual_address} lost: the gateway "
                f"{self.client.address_text} did not answer the connection state check"
            )
        return event.to_error()

    # --- frames out ----------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _send_inner(self, data: bytes) -> None:
        if data:
            self._write(self.session.wrap(data, self.loop.time()))

    def send_telegram(self, frame: LData) -> asyncio.Future[None]:
        """Send an L_Data.req; the future completes on its confirmation."""
        if not self.is_connected or self.transport is None or self.transport.is_closing():
            raise NotConnectedError("no open tunnel to send the telegram on")
        now = self.loop.time()
        sent = self.tunnel.send_telegram(frame, now)
        future: asyncio.Future[None] = self.loop.create_future()
        self.confirmations[sent.handle] = future
        try:
            self._send_inner(sent.data)
        except SessionError as err:
            self.confirmations.pop(sent.handle, None)
            raise NotConnectedError(f"the secure session is closed: {err}") from err
        self._arm()
        return future

    # --- timers ----------------------------------------------------------------------------------

    def _arm(self) -> None:
        if not self.is_open:
            self._cancel_timer()
            return
        deadlines = [
            d for d in (self.session.next_deadline(), self.tunnel.next_deadline()) if d is not None
        ]
        when = min(deadlines, default=None)
        if when == self._timer_when and self._timer is not None:
            return
        self._cancel_timer()
        if when is not None:
            self._timer_when = when
            self._timer = self.loop.call_at(when, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._timer_when = None

    def _on_timer(self) -> None:
        # call_at may fire up to the clock resolution early: never tick before the deadline
        now = max(self.loop.time(), self._timer_when or 0.0)
        self._timer = None
        self._timer_when = None
        try:
            self._handle_session_events(self.session.tick(now))
            if self.is_open:
                self._handle_tunnel_events(self.tunnel.tick(now))
        except KNXSecureError as err:
            self.fail(err)
        except Exception as err:
            _LOGGER.exception("Unexpected error in the tunnel timers")
            self.fail(KNXSecureError(f"internal error in the tunnel timers: {err!r}"))
        self._arm()

    # --- the end -------------------------------------------------------------------------------

    def fail(self, error: KNXSecureError | None) -> None:
        """End the link now (idempotent): fail every waiter, close the transport."""
        if self.closed.done():
            return
        self._cancel_timer()
        phase_error = error or NotConnectedError("the client was closed")
        for phase in (self.response_received, self.established, self.tunnel_connected):
            if not phase.done():
                phase.set_exception(phase_error)
                _mark_retrieved(phase)
        _resolve(self.tunnel_closed)
        waiter_error = NotConnectedError(
            f"connection lost before the gateway confirmed the telegram: {phase_error}"
        )
        for future in self.confirmations.values():
            if not future.done():
                future.set_exception(waiter_error)
                _mark_retrieved(future)
        self.confirmations.clear()
        if self.transport is not None:
            if isinstance(error, FrameError):
                self.transport.abort()  # not a KNXnet/IP peer: nothing more to say to it
            else:
                # leave the session properly (a refused tunnel, a lost heartbeat): the
                # gateway frees it at once instead of waiting for its timeout
                with contextlib.suppress(KNXSecureError):
                    self._write(self.session.close(self.loop.time()))
                self.transport.close()
        self.closed.set_result(error)
        self.client._on_link_closed(self, error)

    async def close(self, disconnect_timeout: float) -> None:
        """Leave cleanly: DISCONNECT_REQUEST (brief wait), SESSION_STATUS close, TCP close."""
        if self.is_open and self.transport is not None:
            now = self.loop.time()
            try:
                if self.tunnel.state is TunnelState.CONNECTED:
                    self._send_inner(self.tunnel.disconnect(now))
                    self._arm()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(disconnect_timeout):
                            await asyncio.shield(self.tunnel_closed)
                if self.is_open:
                    self._write(self.session.close(self.loop.time()))
            except KNXSecureError as err:
                _LOGGER.debug("Error while leaving the session: %s", err)
        self.fail(None)
        if not self.transport_closed.done() and self.transport is not None:
            try:
                async with asyncio.timeout(disconnect_timeout):
                    await asyncio.shield(self.transport_closed)
            except TimeoutError:
                if self.transport is not None:
                    self.transport.abort()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(disconnect_timeout):
                        await asyncio.shield(self.transport_closed)


class _TunnelRefusedError(ConnectRefusedError):
    """CONNECT_RESPONSE with an error status; ``detail`` says why in a word or two."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


# --- the client --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Attempt:
    interface: KeyringInterface
    error: KNXSecureError

    @property
    def reason(self) -> str:
        match self.error:
            case DeviceAuthenticationError():
                return "gateway failed device authentication"
            case AuthenticationError():
                return "authentication failed"
            case _TunnelRefusedError(detail=detail):
                return detail
            case _:
                return str(self.error)

    def __str__(self) -> str:
        return f"{self.interface.individual_address} ({self.reason})"


class SecureTunnelClient:
    """A KNX IP Secure tunnelling client with KNX Data Secure for group telegrams.

    ``connect()`` opens one tunnel (or raises the specific error); ``start()`` keeps it up
    (reconnecting with backoff); ``close()`` leaves cleanly. Telegrams go out with
    ``write``/``read``/``send`` and come in through ``subscribe`` and ``telegrams()``.
    """

    def __init__(
        self,
        keyring: Keyring,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        tunnel: TunnelChoice = TunnelChoice(),
        store: SecurityStore | None = None,
        timeouts: Timeouts = Timeouts(),
    ) -> None:
        self._keyring = keyring
        self._host = host
        self._port = port
        self._choice = tunnel
        self._store = store
        self.timeouts = timeouts
        self._serial = _client_serial(keyring)

        state = store.load() if store is not None else None
        self._sequence_number = state.sequence_number if state is not None else 0
        # With a store, values are used only from reservations it confirmed written
        # (_reserve_sequence_numbers); without one, nothing is persisted at all.
        self._counter = (
            SequenceCounter(self._sequence_number, unix_ms())
            if store is not None
            else SequenceCounter.volatile(self._sequence_number, unix_ms())
        )
        self._reservation_lock = asyncio.Lock()
        freshness = FreshnessTable.from_snapshot(
            state.freshness if state is not None else {}, keyring.sender_sequence_numbers()
        )
        self._data_secure = DataSecure.from_keyring(
            keyring, counter=self._counter, freshness=freshness
        )
        if store is not None:
            # Ask for the first reservation at once, so that a store that writes soon has
            # it written by the first send (which still waits for store.flush()).
            self._sequence_number = self._counter.reserve(unix_ms())
            self._save()

        self._state = ConnectionState.DISCONNECTED
        self._link: _Link | None = None
        self._attempting: set[_Link] = set()
        self._interface: KeyringInterface | None = None
        self._individual_address: IndividualAddress | None = None
        self._description: GatewayDescriptor | None = None
        self._description_failed = False
        self._connect_lock = asyncio.Lock()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._derived: dict[tuple[str, str], bytes] = {}

        self._subscribers: list[Callable[[Telegram], None]] = []
        self._state_subscribers: list[Callable[[ConnectionEvent], None]] = []
        self._streams: set[TelegramStream] = set()
        self._read_waiters: dict[GroupAddress, list[asyncio.Future[Telegram]]] = {}
        self._dropped: Counter[DropReason] = Counter(dict.fromkeys(TELEGRAM_DROP_REASONS, 0))
        self._mac_failures: Counter[GroupAddress] = Counter()
        self._drop_subscribers: list[Callable[[TelegramDropped], None]] = []

    def __repr__(self) -> str:
        return (
            f"SecureTunnelClient({self.address_text}, state={self._state}, "
            f"tunnel={self._individual_address})"
        )

    # --- properties ------------------------------------------------------------------------------

    @property
    def address_text(self) -> str:
        """``host:port`` of the gateway."""
        return f"{self._host}:{self._port}"

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def individual_address(self) -> IndividualAddress | None:
        """The tunnel's individual address (from CONNECT_RESPONSE); the last one known."""
        return self._individual_address

    @property
    def tunnel(self) -> KeyringInterface | None:
        """The keyring's tunnel interface in use (the last one connected)."""
        return self._interface

    @property
    def description(self) -> GatewayDescriptor | None:
        """What the gateway said about itself over UDP (automatic tunnel choice), if known."""
        return self._description

    @property
    def dropped(self) -> Mapping[DropReason, int]:
        """Incoming telegrams not delivered, by reason (see TELEGRAM_DROP_REASONS)."""
        return MappingProxyType(self._dropped)

    @property
    def mac_failures(self) -> Mapping[GroupAddress, int]:
        """Data Secure MAC failures per group address (a GA that keeps failing: wrong key)."""
        return MappingProxyType(self._mac_failures)

    @property
    def security_state(self) -> SecurityState:
        """Snapshot of what the store keeps: outgoing counter and freshness table."""
        return SecurityState(
            sequence_number=self._sequence_number,
            freshness=self._data_secure.freshness.snapshot(),
        )

    # --- subscriptions -------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[Telegram], None]) -> Callable[[], None]:
        """Call ``callback`` with every incoming telegram; returns the unsubscribe function."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def subscribe_drops(self, callback: Callable[[TelegramDropped], None]) -> Callable[[], None]:
        """Call ``callback`` with every incoming telegram that is dropped (``dropped`` and
        ``mac_failures`` already count it); returns the unsubscribe function."""
        self._drop_subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._drop_subscribers.remove(callback)

        return unsubscribe

    def subscribe_state(self, callback: Callable[[ConnectionEvent], None]) -> Callable[[], None]:
        """Call ``callback`` with every ConnectionEvent; returns the unsubscribe function."""
        self._state_subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._state_subscribers.remove(callback)

        return unsubscribe

    def telegrams(self) -> AsyncIterator[Telegram]:
        """An async iterator of incoming telegrams from now on; ends on close()."""
        stream = TelegramStream(self._streams.discard)
        self._streams.add(stream)
        return stream

    # --- connecting -----------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open one tunnel, trying the candidate tunnels in order; raises the specific error.

        Returns at once when already connected.
        """
        async with self._connect_lock:
            if self._link is not None and self._link.is_connected:
                return
            self._closing = False
            self._set_state(ConnectionState.CONNECTING)
            try:
                link = await self._establish()
            except KNXSecureError as err:
                if not self._closing:
                    self._set_state(ConnectionState.DISCONNECTED, err)
                raise
            except BaseException:
                self._set_state(ConnectionState.DISCONNECTED)
                raise
            if self._closing:
                await link.close(self.timeouts.disconnect)
                raise NotConnectedError("the client was closed while connecting")
            self._link = link
            self._interface = link.interface
            self._individual_address = link.tunnel.individual_address
            self._data_secure.individual_address = self._individual_address
            _LOGGER.info(
                "Connected to %s: tunnel %s (user %s)",
                self.address_text,
                self._individual_address,
                link.interface.user_id,
            )
            self._set_state(ConnectionState.CONNECTED)

    async def start(self) -> None:
        """Connect (unless connected), then keep the connection up in the background.

        Raises AuthenticationError / DeviceAuthenticationError of the first attempt
        (credentials do not fix themselves); other errors are reported through
        ``subscribe_state`` while the client retries with backoff.
        """
        if self._supervisor is not None and not self._supervisor.done():
            return
        self._closing = False
        if self._state is not ConnectionState.CONNECTED:
            try:
                await self.connect()
            except (AuthenticationError, DeviceAuthenticationError):
                raise
            except KNXSecureError as err:
                _LOGGER.warning("Cannot connect to %s, will retry: %s", self.address_text, err)
        if self._closing:
            return
        self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(), name=f"knx_secure tunnel {self.address_text}"
        )

    async def _supervise(self) -> None:
        """Reconnect with backoff. ``backoff`` is the delay before the next attempt; it
        doubles after every attempt (up to backoff_max), whether connect() failed or the
        link it opened died again. Only a link that stayed up for max(backoff_max,
        heartbeat) (60 s by default) resets it: a gateway that accepts the tunnel and drops
        it at once is not hammered."""
        backoff = self.timeouts.backoff_initial
        loop = asyncio.get_running_loop()
        while not self._closing:
            link = self._link
            if link is not None and link.is_open:
                await asyncio.wait([link.closed])
                connected_at = link.connected_at
                if connected_at is not None and loop.time() - connected_at >= max(
                    self.timeouts.backoff_max, self.timeouts.heartbeat
                ):
                    backoff = self.timeouts.backoff_initial
                continue
            delay = backoff * random.uniform(1.0 - _JITTER, 1.0 + _JITTER)
            _LOGGER.debug("Reconnecting to %s in %.2f s", self.address_text, delay)
            await asyncio.sleep(delay)
            if self._closing:
                return
            # grows on success too: the link must prove itself stable to reset it (above)
            backoff = min(backoff * 2, self.timeouts.backoff_max)
            try:
                await self.connect()
            except (AuthenticationError, DeviceAuthenticationError) as err:
                _LOGGER.warning(
                    "Gateway %s refused the credentials, not retrying: %s", self.address_text, err
                )
                return
            except KNXSecureError as err:
                _LOGGER.debug("Reconnect to %s failed: %s", self.address_text, err)

    async def _establish(self) -> _Link:
        candidates = await self._candidates()
        attempts: list[_Attempt] = []
        refused_hosts: set[IndividualAddress | None] = set()
        for interface in candidates:
            if interface.host in refused_hosts:
                continue
            try:
                return await self._attempt(interface)
            except (AuthenticationError, ConnectRefusedError) as err:
                _LOGGER.debug("Tunnel %s: %s", interface.individual_address, err)
                attempts.append(_Attempt(interface, err))
            except DeviceAuthenticationError as err:
                # every tunnel of that host shares the device authentication code
                _LOGGER.warning("%s", err)
                attempts.append(_Attempt(interface, err))
                refused_hosts.add(interface.host)
        raise _final_error(attempts)

    async def _candidates(self) -> list[KeyringInterface]:
        """The tunnels to try, in order."""
        keyring = self._keyring
        choice = self._choice
        if choice.individual_address is not None:
            interface = keyring.interface(choice.individual_address)
            if interface is None or interface.type is not InterfaceType.TUNNELING:
                raise KeyringError(
                    f"tunnel {choice.individual_address} is not a tunnelling interface of the "
                    "keyring"
                )
            if choice.user_id is not None and interface.user_id != choice.user_id:
                raise KeyringError(
                    f"tunnel {choice.individual_address} belongs to user {interface.user_id}, "
                    f"not to user {choice.user_id}"
                )
            return [_usable(interface)]
        hosts = await self._hosts()
        tunnels = [t for host in hosts for t in keyring.tunnels_of_host(host)]
        if choice.user_id is not None:
            tunnels = [t for t in tunnels if t.user_id == choice.user_id]
            if not tunnels:
                raise KeyringError(
                    f"the keyring has no tunnel of user {choice.user_id} for "
                    f"{', '.join(map(str, hosts)) or 'any host'}"
                )
            return [_usable(t) for t in tunnels]
        tunnels = [t for t in tunnels if _is_secure_tunnel(t)]
        if not tunnels:
            raise KeyringError("the keyring holds no tunnel with a user id and password")
        return self._ordered(tunnels)

    async def _hosts(self) -> list[IndividualAddress]:
        """The gateway's host address if known (choice or description), else every host."""
        keyring = self._keyring
        hosts = keyring.hosts()
        if self._choice.host is not None:
            if self._choice.host not in hosts:
                raise KeyringError(f"the keyring has no tunnels of host {self._choice.host}")
            return [self._choice.host]
        description = await self._describe()
        if description is not None:
            if description.individual_address in hosts:
                return [description.individual_address]
            _LOGGER.warning(
                "Gateway %s says it is %s, which has no tunnels in the keyring; trying %s",
                self.address_text,
                description.individual_address,
                ", ".join(map(str, hosts)),
            )
        if last := self._interface:
            # a reconnect: the host of the tunnel used before first
            hosts = sorted(hosts, key=lambda h: h != last.host)
        return hosts

    async def _describe(self) -> GatewayDescriptor | None:
        if self._description_failed and self._description is None:
            return None  # it did not answer UDP before: do not wait for it again
        try:
            self._description = await describe_gateway(
                self._host, self._port, timeout=self.timeouts.description
            )
        except KNXSecureError as err:
            _LOGGER.debug("No description from %s: %s", self.address_text, err)
            self._description_failed = True
            return None
        except OSError as err:
            _LOGGER.debug("No description from %s: %s", self.address_text, err)
            self._description_failed = True
            return None
        return self._description

    def _ordered(self, tunnels: list[KeyringInterface]) -> list[KeyringInterface]:
        """The tunnel used last first (a reconnect keeps its address), then free ones."""
        free: dict[IndividualAddress, bool] = {}
        if self._description is not None:
            free = {s.individual_address: s.free for s in self._description.tunnel_slots}
        last = self._interface

        def order(interface: KeyringInterface) -> tuple[int, int]:
            is_last = last is not None and interface == last
            slot_free = (
                free.get(interface.individual_address) if interface.individual_address else None
            )
            rank = 0 if slot_free is True else 2 if slot_free is False else 1
            return (0 if is_last and slot_free is not False else 1, rank)

        return sorted(tunnels, key=order)

    async def _key(self, kind: str, secret: str) -> bytes:
        """A PBKDF2 key, derived in the executor (never on the event loop) once per client."""
        cached = self._derived.get((kind, secret))
        if cached is None:
            derive = (
                derive_user_password_key if kind == "user" else derive_device_authentication_key
            )
            cached = await asyncio.get_running_loop().run_in_executor(None, derive, secret)
            self._derived[(kind, secret)] = cached
        return cached

    async def _attempt(self, interface: KeyringInterface) -> _Link:
        """One TCP connection, handshake and tunnel for ``interface``."""
        assert interface.user_id is not None
        assert interface.password is not None
        timeouts = self.timeouts
        device_key = None
        if interface.device_authentication is not None:
            # Both PBKDF2 runs release the GIL: derive them side by side in the executor.
            user_key, device_key = await asyncio.gather(
                self._key("user", interface.password),
                self._key("device", interface.device_authentication),
            )
        else:
            user_key = await self._key("user", interface.password)
            _LOGGER.warning(
                "The keyring has no device authentication code for %s: the gateway at %s "
                "cannot be authenticated",
                interface.host,
                self.address_text,
            )
        session = SecureSession.client(
            user_id=interface.user_id,
            user_password_key=user_key,
            device_authentication_key=device_key,
            serial=self._serial,
            keepalive_interval=timeouts.keepalive,
            handshake_timeout=max(timeouts.session_response, timeouts.authenticate)
            + _MACHINE_GRACE,
        )
        tunnel = TunnelClient(
            connect_timeout=timeouts.connect_response + _MACHINE_GRACE,
            heartbeat_interval=timeouts.heartbeat,
            heartbeat_answer_timeout=timeouts.heartbeat_answer,
            heartbeat_misses=timeouts.heartbeat_misses,
            confirmation_timeout=timeouts.confirmation,
            disconnect_timeout=timeouts.disconnect,
        )
        link = _Link(self, interface, session, tunnel)
        self._attempting.add(link)
        try:
            await self._open_tcp(link)
            await self._phase(
                link.response_received,
                timeouts.session_response,
                f"the gateway {self.address_text} did not answer the secure session request "
                f"within {timeouts.session_response} s (is it a KNX IP Secure gateway?)",
            )
            await self._phase(
                link.established,
                timeouts.authenticate,
                f"the gateway {self.address_text} did not answer the authentication of user "
                f"{interface.user_id} within {timeouts.authenticate} s",
            )
            await self._phase(
                link.tunnel_connected,
                timeouts.connect_response,
                f"the gateway {self.address_text} did not answer the tunnel connect request "
                f"within {timeouts.connect_response} s",
            )
        except BaseException:
            await link.close(timeouts.disconnect)
            raise
        finally:
            self._attempting.discard(link)
        address = link.tunnel.individual_address
        if address != interface.individual_address:
            _LOGGER.warning(
                "Gateway gave tunnel %s to user %s, the keyring says %s",
                address,
                interface.user_id,
                interface.individual_address,
            )
        return link

    async def _open_tcp(self, link: _Link) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeouts.tcp_connect):
                await loop.create_connection(lambda: link, self._host, self._port)
        except TimeoutError as err:
            raise GatewayUnreachableError(
                f"the gateway {self.address_text} did not accept a TCP connection within "
                f"{self.timeouts.tcp_connect} s"
            ) from err
        except OSError as err:
            reason = err.strerror or str(err)
            raise GatewayUnreachableError(
                f"cannot reach the gateway at {self.address_text} over TCP: {reason}"
            ) from err

    @staticmethod
    async def _phase(future: asyncio.Future[None], limit: float, message: str) -> None:
        try:
            async with asyncio.timeout(limit):
                await asyncio.shield(future)
        except TimeoutError as err:
            if future.done():
                future.result()  # the link failed at the same moment: its error
            raise ResponseTimeoutError(message) from err

    # --- closing -------------------------------------------------------------------------------

    async def close(self) -> None:
        """Disconnect cleanly and stop everything this client started (idempotent)."""
        self._closing = True
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None and not supervisor.done():
            supervisor.cancel()
        if supervisor is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        for attempt in list(self._attempting):
            attempt.fail(None)
        link, self._link = self._link, None
        if link is not None:
            await link.close(self.timeouts.disconnect)
        self._fail_reads(NotConnectedError("the client was closed"))
        for stream in list(self._streams):
            stream._end()
        if self._state is not ConnectionState.DISCONNECTED:
            self._set_state(ConnectionState.DISCONNECTED)

    def _on_link_closed(self, link: _Link, error: KNXSecureError | None) -> None:
        if link is not self._link:
            return  # an attempt: connect() reports its outcome
        self._link = None
        self._fail_reads(NotConnectedError(f"connection lost: {error or 'closed'}"))
        if not self._closing:
            _LOGGER.warning("Connection to %s lost: %s", self.address_text, error)
            self._set_state(ConnectionState.DISCONNECTED, error)

    def _set_state(self, state: ConnectionState, error: KNXSecureError | None = None) -> None:
        self._state = state
        event = ConnectionEvent(state, error)
        for callback in list(self._state_subscribers):
            try:
                callback(event)
            except Exception:
                _LOGGER.exception("Error in a connection state callback")

    # --- sending -------------------------------------------------------------------------------

    async def write(self, ga: GroupAddress, value: int | bytes) -> None:
        """GroupValueWrite (Data Secure if the GA has a key); returns on L_Data.con."""
        await self.send(ga, APCI.GROUP_VALUE_WRITE, value)

    async def send(
        self,
        ga: GroupAddress,
        apci: APCI,
        value: int | bytes | None = None,
        *,
        secure: bool | None = None,
    ) -> None:
        """Send a GroupValue Read/Response/Write; returns when the gateway confirmed it.

        ``value``: int = 6-bit small payload, bytes = data octets, None for a read.
        ``secure``: None sends Data Secure exactly when the GA has a key; True insists on
        it (DataSecureKeyMissingError without a key); False insists on a plain telegram,
        impossible for a GA with a key (DataSecurePlainRejectedError).
        """
        if self._data_secure.requires_security(ga):
            await self._reserve_sequence_numbers()
        link = self._link
        if link is None or not link.is_connected or self._individual_address is None:
            raise NotConnectedError(f"not connected to the gateway {self.address_text}")
        frame = self._frame(ga, apci, value, secure, link)
        future = link.send_telegram(frame)
        try:
            async with asyncio.timeout(self.timeouts.confirmation + _MACHINE_GRACE):
                await future
        except TimeoutError as err:
            raise ConfirmationTimeoutError(
                f"the gateway did not confirm the telegram to {ga} within "
                f"{self.timeouts.confirmation} s"
            ) from err

    def _frame(
        self,
        ga: GroupAddress,
        apci: APCI,
        value: int | bytes | None,
        secure: bool | None,
        link: _Link,
    ) -> LData:
        if apci is APCI.GROUP_VALUE_READ:
            if value is not None:
                raise FrameError("a GroupValueRead carries no value")
            tpdu = group_value_read()
        elif value is None:
            raise FrameError(f"{apci.name} needs a value")
        elif apci is APCI.GROUP_VALUE_WRITE:
            tpdu = group_value_write(value)
        elif apci is APCI.GROUP_VALUE_RESPONSE:
            tpdu = group_value_response(value)
        else:
            raise FrameError(f"{apci.name} is not a group value service")
        address = link.tunnel.individual_address
        assert address is not None
        frame = LData(code=MessageCode.L_DATA_REQ, src=address, dst=ga, tpdu=tpdu)
        has_key = self._data_secure.requires_security(ga)
        if secure is False and has_key:
            raise DataSecurePlainRejectedError(
                f"{ga} has a Data Secure key: its devices drop plain telegrams, so it is "
                "always sent secure"
            )
        if secure is True and not has_key:
            raise DataSecureKeyMissingError(f"no Data Secure key for group address {ga}")
        if has_key:
            frame = self._data_secure.secure_outgoing(frame)
        return frame

    async def read(
        self,
        ga: GroupAddress,
        timeout: float | None = None,  # noqa: ASYNC109 - the contract's name
    ) -> Telegram:
        """GroupValueRead; the first GroupValueResponse (or Write) for ``ga`` that follows."""
        wait = self.timeouts.read_response if timeout is None else timeout
        future: asyncio.Future[Telegram] = asyncio.get_running_loop().create_future()
        waiters = self._read_waiters.setdefault(ga, [])
        waiters.append(future)
        try:
            async with asyncio.timeout(wait):
                await self.send(ga, APCI.GROUP_VALUE_READ)
                return await future
        except TimeoutError as err:
            raise ResponseTimeoutError(
                f"no response to the read of {ga} within {wait} s: no device answered (is "
                f"the status object's read flag set, and is tunnel {self._individual_address} "
                "allowed to talk to this group address?)"
            ) from err
        finally:
            with contextlib.suppress(ValueError):
                waiters.remove(future)
            if not waiters and self._read_waiters.get(ga) is waiters:
                del self._read_waiters[ga]

    def _fail_reads(self, error: KNXSecureError) -> None:
        for waiters in self._read_waiters.values():
            for future in waiters:
                if not future.done():
                    future.set_exception(error)
                    future.exception()  # retrieved: read() raises it or has returned

    # --- receiving -----------------------------------------------------------------------------

    def _on_ldata(self, link: _Link, frame: LData) -> None:
        """An L_Data.ind from the gateway: verify, decrypt and deliver (or count a drop)."""
        if frame.src == link.tunnel.individual_address:
            return  # our own telegram repeated by the gateway
        dst = frame.dst
        if not isinstance(dst, GroupAddress):
            _LOGGER.debug("Ignoring point-to-point frame %s -> %s", frame.src, dst)
            return
        secure = is_secure_tpdu(frame.tpdu)
        plain = self._data_secure.open_incoming(frame)
        if isinstance(plain, Dropped):
            self._drop(plain, frame.src, dst)
            return
        if secure:
            self._save()
        try:
            apdu = parse_group_apdu(plain.tpdu)
        except FrameError as err:
            self._drop(Dropped(DropReason.MALFORMED, str(err)), frame.src, dst)
            return
        self._deliver(Telegram(frame.src, dst, apdu.apci, apdu.value, secure))

    def _drop(self, dropped: Dropped, src: IndividualAddress, dst: GroupAddress) -> None:
        """Count a telegram that is not delivered and tell the drop subscribers."""
        reason = dropped.reason
        self._dropped[reason] += 1
        if reason is DropReason.MAC:
            self._mac_failures[dst] += 1
        _LOGGER.debug("Dropped telegram %s -> %s: %s (%s)", src, dst, reason, dropped.detail)
        event = TelegramDropped(reason, dst, src)
        for callback in list(self._drop_subscribers):
            try:
                callback(event)
            except Exception:
                _LOGGER.exception("Error in a drop callback")

    def _deliver(self, telegram: Telegram) -> None:
        if telegram.carries_value:
            for future in self._read_waiters.get(telegram.dst, ()):
                if not future.done():
                    future.set_result(telegram)
                    break
        for callback in list(self._subscribers):
            try:
                callback(telegram)
            except Exception:
                _LOGGER.exception("Error in a telegram callback")
        for stream in list(self._streams):
            stream._put(telegram)

    # --- persistence ---------------------------------------------------------------------------

    async def _reserve_sequence_numbers(self) -> None:
        """Make sure a confirmed sequence number reservation has a value left: reserve a
        block and wait until the store wrote it. If it cannot, the telegram is not sent (a
        restart could otherwise reuse the values)."""
        counter = self._counter
        while not counter.available:
            async with self._reservation_lock:
                if counter.available:
                    return  # another sender's reservation was confirmed meanwhile
                ceiling = counter.pending
                if ceiling is None:
                    ceiling = counter.reserve(unix_ms())
                    self._sequence_number = ceiling
                try:
                    if self._store is not None:
                        self._store.save(self.security_state)
                        await self._store.flush()
                except Exception as err:
                    counter.withdraw()
                    raise DataSecureError(
                        f"cannot persist the Data Secure sequence number, telegram not sent: {err}"
                    ) from err
                counter.confirm(ceiling)

    def _save(self) -> None:
        """Persist the freshness table; a failure only costs replay protection across a
        restart, so it is logged and reception goes on."""
        if self._store is None:
            return
        try:
            self._store.save(self.security_state)
        except Exception:
            _LOGGER.exception("Cannot save the Data Secure counters")


def _client_serial(keyring: Keyring) -> bytes:
    """The serial number of our wrappers: 00fa + 4 random octets, never a serial the gateway
    may use, since a session drops every wrapper carrying its own serial as reflected. Real
    gateways use their device serial (in the keyring, checked here), xknx 0000786b6e78, and
    the virtual gateway without a keyring serial 00fa0000 + its address (so the random part
    never starts with 0000)."""
    taken = {d.serial_number.lower() for d in keyring.devices if d.serial_number}
    while True:
        serial = _SERIAL_PREFIX + random.getrandbits(32).to_bytes(4, "big")
        if serial[2:4] != b"\x00\x00" and serial.hex() not in taken:
            return serial


# SESSION_AUTHENTICATE carries user ids 1..127 (1 management, 2..127 tunnelling users).
_USER_IDS = range(1, 128)


def _is_secure_tunnel(interface: KeyringInterface) -> bool:
    return interface.user_id in _USER_IDS and interface.password is not None


def _usable(interface: KeyringInterface) -> KeyringInterface:
    if interface.user_id is not None and interface.user_id not in _USER_IDS:
        raise KeyringError(
            f"tunnel {interface.individual_address} has user id {interface.user_id} in the "
            "keyring, which is not a KNX IP Secure user id (1..127)"
        )
    if interface.user_id is None or interface.password is None:
        raise KeyringError(
            f"tunnel {interface.individual_address} has no user id or password in the keyring: "
            "it is not a secure tunnel"
        )
    return interface


def _final_error(attempts: list[_Attempt]) -> KNXSecureError:
    """The error once every candidate failed; it names each tunnel tried and why."""
    if not attempts:
        return KeyringError("the keyring holds no tunnel for this gateway")
    if len(attempts) == 1:
        error = attempts[0].error
        if isinstance(error, ConnectRefusedError):
            return NoFreeTunnelError(f"no free tunnel among {attempts[0]}")
        return error
    listing = ", ".join(map(str, attempts))
    if all(isinstance(a.error, DeviceAuthenticationError) for a in attempts):
        return attempts[0].error
    if all(isinstance(a.error, AuthenticationError | DeviceAuthenticationError) for a in attempts):
        return AuthenticationError(f"authentication failed on every tunnel tried: {listing}")
    return NoFreeTunnelError(f"no free tunnel among {listing}")
