"""Where the client's incoming group telegrams go.

``Inbox.receive`` verifies and decrypts an L_Data.ind (``DataSecure``), counts a drop with
its reason or delivers the telegram: first to a pending ``read()`` of its group address,
then to every callback and every ``telegrams()`` stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from types import MappingProxyType

from .address import GroupAddress, IndividualAddress
from .cemi import APCI, LData, parse_group_apdu
from .client_types import DROP_REASONS, Telegram, TelegramStream
from .data_secure import DataSecure, is_secure_tpdu
from .errors import (
    DataSecureError,
    DataSecureKeyMissingError,
    DataSecureMacError,
    DataSecurePlainRejectedError,
    DataSecureReplayError,
    FrameError,
    KNXSecureError,
)

__all__ = ["Inbox"]

_LOGGER = logging.getLogger(__name__)

# What a read() waits for: the answer, or a write that carries the value anyway.
_ANSWERS = (APCI.GROUP_VALUE_RESPONSE, APCI.GROUP_VALUE_WRITE)


class Inbox:
    """Incoming telegrams: verification, drop counting and delivery."""

    def __init__(self, data_secure: DataSecure, on_fresh: Callable[[], None]) -> None:
        """``on_fresh`` runs after a secure telegram moved the freshness table (persist it)."""
        self._data_secure = data_secure
        self._on_fresh = on_fresh
        self._subscribers: list[Callable[[Telegram], None]] = []
        self._streams: set[TelegramStream] = set()
        self._read_waiters: dict[GroupAddress, list[asyncio.Future[Telegram]]] = {}
        self._dropped: Counter[str] = Counter(dict.fromkeys(DROP_REASONS, 0))
        self._mac_failures: Counter[GroupAddress] = Counter()

    @property
    def dropped(self) -> Mapping[str, int]:
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
        try:
            plain = self._data_secure.open_incoming(frame)
        except DataSecureKeyMissingError:
            self._drop("no_key", frame)
            return
        except DataSecureMacError:
            self._mac_failures[dst] += 1
            self._drop("mac", frame)
            return
        except DataSecureReplayError as err:
            self._drop("replay", frame, err)
            return
        except DataSecurePlainRejectedError:
            self._drop("plain", frame)
            return
        except (DataSecureError, FrameError) as err:
            self._drop("malformed", frame, err)
            return
        if secure:
            self._on_fresh()
        try:
            apdu = parse_group_apdu(plain.tpdu)
        except FrameError as err:
            self._drop("malformed", frame, err)
            return
        self._deliver(Telegram(frame.src, dst, apdu.apci, apdu.value, secure))

    def _drop(self, reason: str, frame: LData, detail: Exception | None = None) -> None:
        self._dropped[reason] += 1
        _LOGGER.debug(
            "Dropped telegram %s -> %s: %s%s",
            frame.src,
            frame.dst,
            reason,
            f" ({detail})" if detail else "",
        )

    def _deliver(self, telegram: Telegram) -> None:
        if telegram.apci in _ANSWERS:
            assert isinstance(telegram.dst, GroupAddress)
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
