"""Persistence of the Data Secure counters: what must survive a restart, and its stores.

A store keeps a ``SecurityState``: the outgoing sequence number reservation and the
freshness table. ``save`` may delay its write (the freshness table changes with every
secure telegram received); ``flush`` returns only once everything saved so far is written.
The client flushes before it sends under a new sequence number reservation, so a crash
can never make it reuse a number, whatever the store delays.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .data_secure import MAX_SEQUENCE, sequence_clock

__all__ = [
    "RECOVERY_MARGIN_MS",
    "JsonFileStore",
    "SecurityState",
    "SecurityStore",
    "recovered_security_state",
    "security_state_from_json",
    "security_state_to_json",
]

_LOGGER = logging.getLogger(__name__)

#: How far ahead of the sequence clock a recovered counter starts: a counter runs ahead of
#: the clock by its start margin on every quick restart and by bursts over 1 telegram/ms,
#: and a day of milliseconds covers far more of that than a real installation sees.
RECOVERY_MARGIN_MS = 86_400_000


@dataclass(slots=True)
class SecurityState:
    """What must survive a restart for Data Secure."""

    # Upper end of the outgoing sequence numbers reserved so far: no value above it was
    # ever sent, so the next start lies past it.
    sequence_number: int = 0
    freshness: dict[str, int] = field(default_factory=dict)  # sender IA -> last accepted seq


class SecurityStore(Protocol):
    """Persistence of the Data Secure counters."""

    def load(self) -> SecurityState | None:
        """The stored state (None when there is none or it is unusable); sync, called once
        when the client is built."""
        ...

    def save(self, state: SecurityState) -> None:
        """Remember the newest state; the store decides when it really writes."""
        ...

    async def flush(self) -> None:
        """Return once every state saved so far is written (raise if it cannot be)."""
        ...


def _is_sequence(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SEQUENCE


def security_state_from_json(document: object) -> SecurityState | None:
    """The state in a stored JSON document, or None when its shape or sequence number is
    not usable (negative, boolean, beyond 48 bits): the caller then starts as with nothing
    stored. Unusable freshness entries are left out."""
    if not isinstance(document, dict):
        return None
    sequence = document.get("sequence_number")
    freshness = document.get("freshness", {})
    if not _is_sequence(sequence) or not isinstance(freshness, dict):
        return None
    assert isinstance(sequence, int)
    return SecurityState(
        sequence_number=sequence,
        freshness={str(k): v for k, v in freshness.items() if _is_sequence(v)},
    )


def recovered_security_state(document: object, now_ms: int) -> SecurityState:
    """The state to start from when a stored document exists but is unusable: the counter
    was in use, and its value is unknown, so it starts a day ahead of the sequence clock
    (never behind a counter that ran ahead of the clock); usable freshness entries stay."""
    freshness = document.get("freshness") if isinstance(document, dict) else None
    return SecurityState(
        sequence_number=max(sequence_clock(now_ms), 0) + RECOVERY_MARGIN_MS,
        freshness={str(k): v for k, v in (freshness or {}).items() if _is_sequence(v)}
        if isinstance(freshness, dict)
        else {},
    )


def security_state_to_json(state: SecurityState) -> dict[str, object]:
    """The JSON document of a state (``security_state_from_json`` reads it back)."""
    return {
        "sequence_number": int(state.sequence_number),
        "freshness": {str(key): int(value) for key, value in state.freshness.items()},
    }


class JsonFileStore:
    """A SecurityStore in one JSON file, written through on every change.

    ``{"sequence_number": int, "freshness": {"1.1.1": int}}``, replaced atomically (temp
    file in the same directory + os.replace). A process killed between the two leaves its
    temp file behind: ``load`` removes such leftovers. No fsync: the client's counter
    margin (``data_secure.DEFAULT_COUNTER_MARGIN``) covers a write the OS lost.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._last: str | None = None

    def __repr__(self) -> str:
        return f"JsonFileStore({str(self.path)!r})"

    @property
    def _temporary_prefix(self) -> str:
        return f".{self.path.name}."

    def load(self) -> SecurityState | None:
        self._remove_leftovers()
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as err:
            _LOGGER.warning("Cannot read the Data Secure counters %s: %s", self.path, err)
            return None
        try:
            document = json.loads(text)
        except ValueError:
            _LOGGER.warning("Ignoring %s: not JSON", self.path)
            return None
        state = security_state_from_json(document)
        if state is None:
            _LOGGER.warning("Ignoring %s: unexpected content", self.path)
        else:
            self._last = text
        return state

    def _remove_leftovers(self) -> None:
        """Delete temp files of saves that never reached their rename (killed process)."""
        prefix = self._temporary_prefix
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.path.parent):
                if entry.name.startswith(prefix) and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)

    def save(self, state: SecurityState) -> None:
        text = json.dumps(security_state_to_json(state), sort_keys=True)
        if text == self._last:
            return
        fd, temporary = tempfile.mkstemp(prefix=self._temporary_prefix, dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        self._last = text

    async def flush(self) -> None:
        """Nothing to do: ``save`` writes through."""
