"""Persistence of the Home Assistant layer.

Two things live below ``<config>/.storage``:

* ``knx_secure/<entry_id>.knxkeys``: the ETS keyring of a config entry (mode 0600). A
  config flow does not know the entry id yet, so it writes the upload as
  ``knx_secure/<random>.pending.knxkeys`` and ``async_setup_entry`` adopts it (atomic
  rename) under the entry's name. A reauth or reconfigure with a new keyring does the same,
  so the old keyring is replaced only once the new one passed the connection test.
* ``knx_secure.<entry_id>.security`` (a ``helpers.storage.Store``): the outgoing Data Secure
  sequence number and the incoming freshness table, so that no sequence number is reused
  after a restart.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from homeassistant.components.file_upload import process_uploaded_file
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import STORAGE_DIR, Store

from .const import (
    DOMAIN,
    KEYRING_DIRECTORY,
    KEYRING_SUFFIX,
    PENDING_KEYRING_SUFFIX,
    STORAGE_SAVE_DELAY,
    STORAGE_VERSION,
)
from .knx import keyring as keyring_file
from .knx.data_secure import unix_ms
from .knx.keyring import Keyring, load_keyring
from .knx.security_store import (
    SecurityState,
    recovered_security_state,
    security_state_from_json,
    security_state_to_json,
)

_LOGGER = logging.getLogger(__name__)


# --- keyring files ---------------------------------------------------------------


def keyring_directory(hass: HomeAssistant) -> Path:
    """Return the directory that holds the keyrings of every entry."""
    return Path(hass.config.path(STORAGE_DIR, KEYRING_DIRECTORY))


def keyring_file_name(entry_id: str) -> str:
    """Return the file name of an entry's adopted keyring."""
    return f"{entry_id}{KEYRING_SUFFIX}"


def _checked_path(directory: Path, name: str) -> Path:
    """Return directory/name, refusing anything that is not a plain file name."""
    if not name or Path(name).name != name or name.startswith("."):
        raise ValueError("invalid keyring file name")
    return directory / name


def write_pending_keyring(directory: Path, content: bytes) -> str:
    """Write an uploaded keyring under a fresh pending name (mode 0600); return the name.

    Runs in the executor.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}{PENDING_KEYRING_SUFFIX}"
    path = _checked_path(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
    return name


def adopt_keyring(directory: Path, current_name: str, entry_id: str) -> str:
    """Move a pending keyring to the entry's own name; return the name now in use.

    Idempotent: a keyring already under the entry's name stays. Runs in the executor.
    """
    final_name = keyring_file_name(entry_id)
    final = _checked_path(directory, final_name)
    if current_name != final_name:
        os.replace(_checked_path(directory, current_name), final)
    os.chmod(final, 0o600)
    return final_name


def adopt_and_load_keyring(
    directory: Path, name: str, entry_id: str, password: str
) -> tuple[str, Keyring]:
    """Adopt a pending keyring under the entry's name and decrypt it (PBKDF2).

    Runs in the executor. Returns the file name now in use and the keyring.
    """
    name = adopt_keyring(directory, name, entry_id)
    return name, load_keyring(read_keyring_file(directory, name), password)


def read_keyring_file(directory: Path, name: str) -> bytes:
    """Return the bytes of a stored keyring. Runs in the executor."""
    return _checked_path(directory, name).read_bytes()


def remove_keyring_files(directory: Path, names: list[str]) -> None:
    """Remove stored keyrings (missing ones are fine). Runs in the executor."""
    for name in names:
        with contextlib.suppress(FileNotFoundError, ValueError):
            _checked_path(directory, name).unlink()


# --- Data Secure counters -------------------------------------------------------------


def security_store_key(entry_id: str) -> str:
    """Return the Store key of an entry's Data Secure counters."""
    return f"{DOMAIN}.{entry_id}.security"


class HassSecurityStore:
    """The library's ``SecurityStore`` over a Home Assistant ``Store``.

    The client calls ``load`` and ``save`` synchronously: ``async_load`` must run before the
    client is built. ``save`` only schedules a debounced write; ``flush`` writes now and
    returns once it is written (the client awaits it before it uses a new sequence number
    reservation; the coordinator on unload and on Home Assistant stop).
    """

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Initialize the adapter."""
        self._hass = hass
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, security_store_key(entry_id), private=True, atomic_writes=True
        )
        self._data: dict[str, Any] | None = None
        self._dirty = False
        self._flushed: dict[str, Any] | None = None

    async def async_load(self) -> None:
        """Read the stored state; must complete before ``load`` is called."""
        stored = await self._store.async_load()
        state = security_state_from_json(stored) if stored is not None else None
        if stored is not None and state is None:
            # The counter was in use but its value is lost: start far enough ahead of the
            # clock to be past it (the clock alone may be behind a counter that ran ahead).
            _LOGGER.warning(
                "Ignoring stored Data Secure counters: unexpected content; the outgoing "
                "sequence number restarts ahead of the clock"
            )
            state = recovered_security_state(stored, unix_ms())
        self._data = security_state_to_json(state) if state is not None else None
        self._flushed = self._data

    def load(self) -> SecurityState | None:
        """Return the state read by ``async_load`` (None when nothing usable was stored)."""
        return security_state_from_json(self._data) if self._data is not None else None

    def save(self, state: SecurityState) -> None:
        """Remember the state and schedule a debounced write."""
        data = security_state_to_json(state)
        if self._hass.loop_thread_id == threading.get_ident():
            self._async_schedule(data)
        else:
            self._hass.loop.call_soon_threadsafe(self._async_schedule, data)

    @callback
    def _async_schedule(self, data: dict[str, Any]) -> None:
        self._data = data
        if self._dirty:
            # A write is already due and will take the newest data. Scheduling again would
            # push it back: under steady traffic nothing would ever be written.
            return
        self._dirty = True
        self._store.async_delay_save(self._data_to_save, STORAGE_SAVE_DELAY)

    @callback
    def _data_to_save(self) -> dict[str, Any]:
        self._dirty = False
        assert self._data is not None
        return self._data

    async def flush(self) -> None:
        """Write the newest state now; return once it is written.

        A debounced write that already started may still be running, so "not dirty" does
        not mean "written": only what this method wrote counts as flushed.
        """
        data = self._data
        if data is None or data is self._flushed:
            return
        self._dirty = False
        await self._store.async_save(data)
        self._flushed = data

    async def async_remove(self) -> None:
        """Remove the stored state (entry removed)."""
        await self._store.async_remove()


def read_keyring_upload(hass: HomeAssistant, file_id: str) -> bytes:
    """The content of an uploaded keyring (file_upload deletes it). Runs in the executor."""
    with process_uploaded_file(hass, file_id) as path:
        return keyring_file.read_keyring_file(path)  # bounded: no keyring is that large
