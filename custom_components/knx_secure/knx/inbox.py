"""Where the client's incoming group telegrams go.

``Inbox.receive`` verifies and decrypts an L_Data.ind (``DataSecure``), counts a drop with
its reason or delivers the telegram: first to a pending ``read()`` of its group address,
then to every callback and every ``telegrams()`` stream; a drop goes to ``subscribe_drops``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from types import MappingProxyType

from .address import GroupAddress, IndividualAddress
from .cemi import LData, parse_group_apdu
from .client_types import TELEGRAM_DROP_REASONS, TelegramStream
from .data_secure import DataSecure, Dropped, is_secure_tpdu
from .drops import DropReason
from .errors import FrameError, KNXSecureError
from .telegram import Telegram, TelegramDropped

__all__ = ["Inbox"]

_LOGGER = logging.getLogger(__name__)


class Inbox:
    """Incoming telegrams: verification, drop counting and delivery."""

    def __init__(self, data_secure: DataSecure, on_fresh: Callable[[], None]) -> None:
        """``on_fresh`` runs after a secure telegram moved the freshness table (persist it)."""
        self._data_secure = data_secure
        self._on_fresh = on_fresh
        self._subscribers: list[Callable[[Telegram], None]] = []
        self._streams: set[TelegramStream] = set()
        self._read_waiters: dict[GroupAddress, list[asyncio.Future[Telegram]]] = {}
        self._dropped: Counter[DropReason] = Counter(dict.fromkeys(TELEGRAM_DROP_REASONS, 0))
        self._mac_failures: Counter[GroupAddress] = Counter()
        self._drop_subscribers: list[Callable[[TelegramDropped], None]] = []

    @property
    def dropped(self) -> Mapping[DropReason, int]:
        return MappingProxyType(self._dropped)

    @property
    def mac_failures(self) -> Mapping[GroupAddress, int]:
        return MappingProxyType(self._mac_failures)

    # --- who listens ----------------------------------------------------------------------

    def subscribe(self, callback: Callable[[Telegram], None]) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def subscribe_drops(self, callback: Callable[[TelegramDropped], None]) -> Callable[[], None]:
        self._drop_subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._drop_subscribers.remove(callback)

        return unsubscribe

    def telegrams(self) -> AsyncIterator[Telegram]:
        stream = TelegramStream(self._streams.discard)
        self._streams.add(stream)
        return stream

    @contextlib.contextmanager
    def answer_of(self, ga: GroupAddress) -> Iterator[asyncio.Future[Telegram]]:
        """A future for the next answer on ``ga`` while the block runs (a read)."""
        future: asyncio.Future[Telegram] = asyncio.get_running_loop().create_future()
        waiters = self._read_waiters.setdefault(ga, [])
        waiters.append(future)
        try:
            yield future
        finally:
            with contextlib.suppress(ValueError):
                waiters.remove(future)
            if not waiters and self._read_waiters.get(ga) is waiters:
                del self._read_waiters[ga]

    def fail_reads(self, error: KNXSecureError) -> None:
        for waiters in self._read_waiters.values():
            for future in waiters:
                if not future.done():
                    future.set_exception(error)
                    future.exception()  # retrieved: read() raises it or has returned

    def end_streams(self) -> None:
        for stream in list(self._streams):
            stream._end()

    # --- telegrams in ---------------------------------------------------------------------

    def receive(self, frame: LData, own_address: IndividualAddress | None) -> None:
        """An L_Data.ind from the gateway: verify, decrypt and deliver (or count a drop)."""
        if frame.src == own_address:
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
            self._on_fresh()
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
