"""SecureTunnelClient: a KNX IP Secure tunnelling client on asyncio.

The client of the library: it picks tunnels (``tunnel_choice``), opens one ``link.Link``
(secure session + tunnel on a ``driver.Driver``) and keeps it up with backoff, turns group
values into frames (Data Secure when the keyring has a key) and delivers the telegrams it
receives. Every protocol rule lives in the sans-I/O machines below the link.

No task runs per connection; the only task a client owns is the optional supervisor of
``start()`` that reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Final, Protocol

from . import knxip
from .address import GroupAddress, IndividualAddress
from .cemi import (
    APCI,
    LData,
    MessageCode,
    group_value_read,
    group_value_response,
    group_value_write,
)
from .client_types import (
    TELEGRAM_DROP_REASONS,
    Connection,
    ConnectionEvent,
    ConnectionState,
    TelegramStream,
    Timeouts,
)
from .connector import MACHINE_GRACE, Connector
from .data_secure import DataSecure, FreshnessTable, SequenceCounter, unix_ms
from .discovery import GatewayDescriptor
from .drops import DropReason
from .errors import (
    AuthenticationError,
    ConfirmationTimeoutError,
    DataSecureError,
    DataSecureKeyMissingError,
    DataSecurePlainRejectedError,
    DeviceAuthenticationError,
    FrameError,
    KNXSecureError,
    NotConnectedError,
    ResponseTimeoutError,
)
from .inbox import Inbox
from .keyring import Keyring, KeyringInterface
from .link import Link
from .security_store import JsonFileStore, SecurityState, SecurityStore
from .telegram import Telegram, TelegramDropped
from .tunnel_choice import TunnelChoice

__all__ = [
    "DEFAULT_PORT",
    "TELEGRAM_DROP_REASONS",
    "Connection",
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
# The serial number a client puts in its SECURE_WRAPPERs: KNX Association's manufacturer
# code 00fa and four random octets per client.
_SERIAL_PREFIX: Final = b"\x00\xfa"
_JITTER: Final = 0.2
_AUTOMATIC: Final = TunnelChoice()
_DEFAULT_TIMEOUTS: Final = Timeouts()


# --- the client --------------------------------------------------------------------------------


class OpenConnection(Protocol):
    """An open connection as the supervisor of ``start()`` watches it (a link, a socket)."""

    @property
    def closed(self) -> asyncio.Future[Any]: ...

    @property
    def connected_at(self) -> float | None: ...


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
        tunnel: TunnelChoice = _AUTOMATIC,
        store: SecurityStore | None = None,
        timeouts: Timeouts = _DEFAULT_TIMEOUTS,
        connection: Connection = Connection.TUNNEL_SECURE,
    ) -> None:
        """``connection``: secure tunnelling (default) or plain tunnelling over TCP or UDP
        for an interface without IP Secure; Data Secure applies the same on every one."""
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
        self._link: Link | None = None
        self._interface: KeyringInterface | None = None
        self._individual_address: IndividualAddress | None = None
        self._connect_lock = asyncio.Lock()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False

        self._state_subscribers: list[Callable[[ConnectionEvent], None]] = []
        self._inbox = Inbox(self._data_secure, self._save)
        self._connector = Connector(
            keyring,
            (host, port),
            tunnel,
            timeouts,
            serial=self._serial,
            connection=connection,
            on_telegram=self._on_ldata,
            on_closed=self._on_link_closed,
        )

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
        return self._connector.description

    @property
    def dropped(self) -> Mapping[DropReason, int]:
        """Incoming telegrams not delivered, by reason (see TELEGRAM_DROP_REASONS)."""
        return self._inbox.dropped

    @property
    def mac_failures(self) -> Mapping[GroupAddress, int]:
        """Data Secure MAC failures per group address (a GA that keeps failing: wrong key)."""
        return self._inbox.mac_failures

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
        return self._inbox.subscribe(callback)

    def subscribe_drops(self, callback: Callable[[TelegramDropped], None]) -> Callable[[], None]:
        """Call ``callback`` with every incoming telegram that is dropped (``dropped`` and
        ``mac_failures`` already count it); returns the unsubscribe function."""
        return self._inbox.subscribe_drops(callback)

    def subscribe_state(self, callback: Callable[[ConnectionEvent], None]) -> Callable[[], None]:
        """Call ``callback`` with every ConnectionEvent; returns the unsubscribe function."""
        self._state_subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._state_subscribers.remove(callback)

        return unsubscribe

    def telegrams(self) -> AsyncIterator[Telegram]:
        """An async iterator of incoming telegrams from now on; ends on close()."""
        return self._inbox.telegrams()

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
                link = await self._connector.establish(last=self._interface)
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
            connection = self._open_connection()
            if connection is not None:
                await asyncio.wait([connection.closed])
                connected_at = connection.connected_at
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

    def _open_connection(self) -> OpenConnection | None:
        """What the supervisor watches: the open link (routing: its socket), or None."""
        link = self._link
        return link if link is not None and link.is_open else None

    # --- closing -------------------------------------------------------------------------------

    async def close(self) -> None:
        """Disconnect cleanly and stop everything this client started (idempotent)."""
        await self._stop_supervisor()
        self._connector.abort_attempts()
        link, self._link = self._link, None
        if link is not None:
            await link.close(self.timeouts.disconnect)
        self._inbox.fail_reads(NotConnectedError("the client was closed"))
        self._inbox.end_streams()
        if self._state is not ConnectionState.DISCONNECTED:
            self._set_state(ConnectionState.DISCONNECTED)

    async def _stop_supervisor(self) -> None:
        """From now on closing: end the supervisor of ``start()``, if any."""
        self._closing = True
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None and not supervisor.done():
            supervisor.cancel()
        if supervisor is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor

    def _on_link_closed(self, link: Link, error: KNXSecureError | None) -> None:
        if link is not self._link:
            return  # an attempt: connect() reports its outcome
        self._link = None
        self._inbox.fail_reads(NotConnectedError(f"connection lost: {error or 'closed'}"))
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

    async def respond(self, ga: GroupAddress, value: int | bytes) -> None:
        """GroupValueResponse (Data Secure if the GA has a key): the answer to a read of a
        value this client owns (an expose); returns like ``write``."""
        await self.send(ga, APCI.GROUP_VALUE_RESPONSE, value)

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
        address = link.tunnel.individual_address
        assert address is not None
        frame = self._frame(ga, apci, value, secure, address)
        future = link.send_telegram(frame)
        try:
            async with asyncio.timeout(self.timeouts.confirmation + MACHINE_GRACE):
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
        source: IndividualAddress,
        *,
        code: MessageCode = MessageCode.L_DATA_REQ,
    ) -> LData:
        """The telegram from ``source`` (Data Secure exactly when ``secure`` allows and the
        GA has a key); tunnels send an L_Data.req, routing an L_Data.ind (``code``)."""
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
        frame = LData(code=code, src=source, dst=ga, tpdu=tpdu)
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
        with self._inbox.answer_of(ga) as answer:
            try:
                async with asyncio.timeout(wait):
                    await self.send(ga, APCI.GROUP_VALUE_READ)
                    return await answer
            except TimeoutError as err:
                raise ResponseTimeoutError(
                    f"no response to the read of {ga} within {wait} s: no device answered (is "
                    f"the status object's read flag set, and is tunnel "
                    f"{self._individual_address} allowed to talk to this group address?)"
                ) from err

    def _on_ldata(self, link: Link, frame: LData) -> None:
        self._inbox.receive(frame, link.tunnel.individual_address)

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
