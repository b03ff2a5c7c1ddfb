"""The Data Secure stores and the durability of sequence number reservations."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from custom_components.knx_secure.knx.client import SecureTunnelClient
from custom_components.knx_secure.knx.data_secure import MAX_SEQUENCE, SEQUENCE_EPOCH_MS
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring
from custom_components.knx_secure.knx.security_store import (
    RECOVERY_MARGIN_MS,
    JsonFileStore,
    SecurityState,
    recovered_security_state,
    security_state_from_json,
    security_state_to_json,
)

from ..helpers import SWITCH
from .test_client import FAST  # the same short timeouts as the client tests

pytestmark = pytest.mark.timeout(20)


# --- JSON documents -------------------------------------------------------------------------


@pytest.mark.parametrize("sequence", [-5, True, False, MAX_SEQUENCE + 1, "7", 1.5, None])
def test_unusable_stored_sequence_numbers_count_as_nothing_stored(sequence: object) -> None:
    assert security_state_from_json({"sequence_number": sequence, "freshness": {}}) is None


def test_json_documents_round_trip_and_drop_bad_freshness() -> None:
    state = SecurityState(MAX_SEQUENCE, {"1.1.1": 7})
    assert security_state_from_json(security_state_to_json(state)) == state
    loaded = security_state_from_json(
        {"sequence_number": 3, "freshness": {"1.1.1": -1, "1.1.2": True, "1.1.3": 4}}
    )
    assert loaded == SecurityState(3, {"1.1.3": 4})
    assert security_state_from_json([3]) is None
    assert security_state_from_json({"sequence_number": 3, "freshness": []}) is None


# --- JsonFileStore ------------------------------------------------------------------------------

_KILLED_SAVE = textwrap.dedent(
    """
    import os, sys
    from custom_components.knx_secure.knx import security_store
    from custom_components.knx_secure.knx.security_store import JsonFileStore, SecurityState

    # The process dies between creating the temp file and renaming it (kill -9).
    security_store.os.replace = lambda *_args: os._exit(9)
    JsonFileStore(sys.argv[1]).save(SecurityState(int(sys.argv[2])))
    """
)


def _killed_save(path: Path, value: int) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _KILLED_SAVE, str(path), str(value)],
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert result.returncode == 9


def test_json_file_store_removes_temp_files_of_killed_saves(tmp_path: Path) -> None:
    path = tmp_path / "counters.json"
    JsonFileStore(path).save(SecurityState(5))
    other = tmp_path / ".other.json.tmp"
    other.write_text("not ours")
    for value in (6, 7, 8):
        _killed_save(path, value)
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".counters.json.")]
    assert len(leftovers) == 3  # what three killed saves leave behind
    assert JsonFileStore(path).load() == SecurityState(5)  # the last complete save
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.json.tmp", "counters.json"]


async def test_json_file_store_flush_returns_after_a_write_through(tmp_path: Path) -> None:
    store = JsonFileStore(tmp_path / "counters.json")
    store.save(SecurityState(9, {"1.1.1": 2}))
    await store.flush()
    assert JsonFileStore(tmp_path / "counters.json").load() == SecurityState(9, {"1.1.1": 2})


# --- reservations are durable before use -------------------------------------------------------


class DebouncedStore:
    """A store that writes only when flushed, and only once ``release`` is set: ``disk``
    is what survives a crash, ``memory`` what a debounced write would take later."""

    def __init__(self, disk: SecurityState | None = None, *, released: bool = True) -> None:
        self.disk = disk
        self.memory: SecurityState | None = None
        self.release = asyncio.Event()
        if released:
            self.release.set()
        self.flushing = asyncio.Event()

    def load(self) -> SecurityState | None:
        return self.disk

    def save(self, state: SecurityState) -> None:
        self.memory = SecurityState(state.sequence_number, dict(state.freshness))

    async def flush(self) -> None:
        self.flushing.set()
        await self.release.wait()
        self.disk = self.memory


def _client(keyring: Keyring, gateway: VirtualGateway, store: DebouncedStore) -> SecureTunnelClient:
    host, port = gateway.address
    return SecureTunnelClient(keyring, host, port, store=store, timeouts=FAST)


async def test_nothing_is_sent_before_the_reservation_is_written(
    keyring: Keyring, gateway: VirtualGateway
) -> None:
    """A slow store: the secure write waits for the reservation's flush; a crash while it
    waits sends nothing, and the restarted client reuses nothing."""
    store = DebouncedStore(released=False)
    client = _client(keyring, gateway, store)
    await client.connect()
    write = asyncio.create_task(client.write(SWITCH, 1))
    await store.flushing.wait()
    assert store.disk is None  # the reservation is not written yet...
    # ... and the process dies: the write never completes.
    write.cancel()
    with pytest.raises(asyncio.CancelledError):
        await write
    await client.close()  # returns once the gateway handled all the client sent
    assert gateway.switch_state(SWITCH) is False  # nothing reached the bus

    restarted = _client(keyring, gateway, DebouncedStore(store.disk))
    try:
        await restarted.connect()
        await restarted.write(SWITCH, 1)
        assert gateway.switch_state(SWITCH) is True
    finally:
        await restarted.close()
    assert gateway.dropped.get("replay", 0) == 0


async def test_restart_after_a_crash_reuses_no_sequence_number(
    keyring: Keyring, gateway: VirtualGateway
) -> None:
    """Telegrams sent, freshness saved but never written, crash: the next client starts past
    every value the first one used (the gateway's actuator would drop a reused one)."""
    store = DebouncedStore()
    first = _client(keyring, gateway, store)
    await first.connect()
    for value in (1, 0, 1):
        await first.write(SWITCH, value)
    used_up_to = first.security_state.sequence_number
    assert store.disk is not None
    assert store.disk.sequence_number == used_up_to  # the reservation was written first
    await first.close()  # a crash: only ``disk`` survives

    second = _client(keyring, gateway, DebouncedStore(store.disk))
    try:
        await second.connect()
        for value in (0, 1):
            await second.write(SWITCH, value)
        assert second.security_state.sequence_number > used_up_to
    finally:
        await second.close()
    assert gateway.switch_state(SWITCH) is True
    assert gateway.dropped.get("replay", 0) == 0


async def test_a_reservation_covers_many_telegrams(
    keyring: Keyring, gateway: VirtualGateway
) -> None:
    """One durable write per block of sequence numbers, not one per telegram."""
    flushes = 0

    class CountingStore(DebouncedStore):
        async def flush(self) -> None:
            nonlocal flushes
            flushes += 1
            await super().flush()

    client = _client(keyring, gateway, CountingStore())
    try:
        await client.connect()
        for index in range(20):
            await client.write(SWITCH, index % 2)
    finally:
        await client.close()
    assert flushes == 1


def test_an_unusable_document_recovers_a_day_ahead_of_the_clock() -> None:
    now_ms = SEQUENCE_EPOCH_MS + 5_000
    recovered = recovered_security_state(
        {"sequence_number": -5, "freshness": {"1.1.1": 3, "1.1.2": -1}}, now_ms
    )
    assert recovered == SecurityState(5_000 + RECOVERY_MARGIN_MS, {"1.1.1": 3})
    assert recovered_security_state("garbage", now_ms).freshness == {}
