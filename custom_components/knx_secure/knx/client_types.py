"""The client's value types: timeouts, telegrams, connection states and telegram streams."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Self

from .drops import DropReason
from .errors import KNXSecureError
from .telegram import Telegram

__all__ = [
    "STREAM_QUEUE_SIZE",
    "TELEGRAM_DROP_REASONS",
    "Connection",
    "ConnectionEvent",
    "ConnectionState",
    "TelegramStream",
    "Timeouts",
]

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


class Connection(StrEnum):
    """How the client reaches the gateway (the values are the command line's words)."""

    TUNNEL_SECURE = "tunnel-secure"  # KNXnet/IP Secure tunnelling over TCP
    TUNNEL_TCP = "tunnel-tcp"  # plain tunnelling over TCP (an interface without IP Secure)
    TUNNEL_UDP = "tunnel-udp"  # plain tunnelling over UDP (acks, repetition, NAT mode)

    @property
    def secure(self) -> bool:
        return self is Connection.TUNNEL_SECURE


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
