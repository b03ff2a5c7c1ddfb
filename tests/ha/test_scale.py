"""Entries of real size: 500 entities on the scale home (bench/scale.py) against its gateway,
status reads that do not wait for each other, entities added in batches."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_NAME, EVENT_STATE_CHANGED, STATE_ON
from homeassistant.core import Event, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bench import scale
from custom_components.knx_secure import entity
from custom_components.knx_secure.const import (
    CONF_INVERT,
    CONF_STATE_ADDRESS,
    CONF_SYNC_STATE,
    DOMAIN,
    SUBENTRY_BINARY_SENSOR,
)
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring
from custom_components.knx_secure.store import keyring_directory, write_pending_keyring

from .conftest import KEYRING_BYTES, KEYRING_PASSWORD, assert_gateway_dropped_nothing

TIMEOUT = 60.0


@pytest.fixture(scope="module")
def scale_keyring_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return scale.write(tmp_path_factory.mktemp("scale")).read_bytes()


@pytest.fixture(scope="module")
def scale_keyring(scale_keyring_bytes: bytes) -> Keyring:
    return load_keyring(scale_keyring_bytes, scale.PASSWORD)


@pytest.fixture
async def scale_gateway(
    socket_enabled: None, scale_keyring: Keyring
) -> AsyncGenerator[VirtualGateway]:
    gateway = scale.gateway(scale_keyring)
    await gateway.start()
    yield gateway
    await gateway.stop()


async def _add_entry(
    hass: HomeAssistant,
    keyring: bytes,
    data: dict[str, object],
    subentries: list[dict[str, object]],
) -> MockConfigEntry:
    name = await hass.async_add_executor_job(
        write_pending_keyring, keyring_directory(hass), keyring
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Scale",
        data={**data, "keyring_file": name},
        subentries_data=subentries,
    )
    entry.add_to_hass(hass)
    return entry


async def _add_secure_test_entry(
    hass: HomeAssistant, gateway: VirtualGateway, subentries: list[dict[str, object]]
) -> MockConfigEntry:
    """An entry of the seed keyring's gateway (tests/ha/conftest.py's ``gateway``)."""
    _host, port = gateway.address
    data = {
        **scale.entry_data("", port),
        "keyring_password": KEYRING_PASSWORD,
        "project": "Secure Test",
        "gateway_address": str(gateway.host),
    }
    return await _add_entry(hass, KEYRING_BYTES, data, subentries)


def _binary_sensor(name: str, address: str, *, sync_state: bool = True) -> scale.EntitySpec:
    data = {CONF_NAME: name, CONF_STATE_ADDRESS: address, CONF_INVERT: False}
    return (SUBENTRY_BINARY_SENSOR, name, {**data, CONF_SYNC_STATE: sync_state})


class FirstStates:
    """Waits (on state events, no polling) until the named entities have these states."""

    def __init__(self, hass: HomeAssistant, expected: dict[str, scale.FirstState]) -> None:
        self.pending = dict(expected)
        self.done = asyncio.Event()
        self.ticks: dict[str, int] = {}  # name -> loop iteration of its first state
        self._tick = 0
        self._loop = hass.loop
        self._loop.call_soon(self._count)
        self.close = hass.bus.async_listen(EVENT_STATE_CHANGED, self._changed)

    def _count(self) -> None:
        self._tick += 1
        if not self.done.is_set():
            self._loop.call_soon(self._count)

    @callback
    def _changed(self, event: Event[Any]) -> None:
        state = event.data["new_state"]
        name = state.attributes.get("friendly_name") if state is not None else None
        if name is None:
            return
        self.ticks.setdefault(name, self._tick)
        first = self.pending.get(name)
        if first is not None and first.seen_in(state.state, state.attributes):
            del self.pending[name]
            if not self.pending:
                self.done.set()


async def test_500_entities_all_take_their_first_state_from_the_bus(
    hass: HomeAssistant, scale_gateway: VirtualGateway, scale_keyring_bytes: bytes
) -> None:
    """Every entity of the scale entry (switches, binary sensors, lights, covers, climate,
    numbers, selects, sensors) reads its status at start; the gateway's devices start in
    patterns, so each first state can only come from its read."""
    _host, port = scale_gateway.address
    entry = await _add_entry(
        hass,
        scale_keyring_bytes,
        scale.entry_data("", port),
        scale.subentries_data(scale.entities()),
    )
    watch = FirstStates(hass, scale.expected_first_states())
    assert await hass.config_entries.async_setup(entry.entry_id)
    async with asyncio.timeout(TIMEOUT):
        await watch.done.wait()
    watch.close()
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    names = {state.attributes.get("friendly_name") for state in hass.states.async_all()}
    assert names >= {name for _platform, name, _data in scale.entities()}
    assert_gateway_dropped_nothing(scale_gateway)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_entities_are_added_in_batches_with_the_loop_running_between(
    hass: HomeAssistant,
    gateway: VirtualGateway,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Beyond ADD_BATCH, an entry's entities come in later loop iterations (each takes
    Home Assistant about a millisecond: hundreds at once would stall the loop)."""
    monkeypatch.setattr(entity, "ADD_BATCH", 2)
    names = [f"Sensor {n}" for n in range(5)]
    entry = await _add_secure_test_entry(
        hass,
        gateway,
        scale.subentries_data([_binary_sensor(name, "1/1/2", sync_state=False) for name in names]),
    )
    watch = FirstStates(hass, {})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    watch.done.set()
    watch.close()
    assert set(watch.ticks) >= set(names)
    ticks = [watch.ticks[name] for name in names]
    assert ticks == sorted(ticks)
    assert len(set(ticks)) == 3  # 2 + 2 + 1, each batch in a loop iteration of its own


async def test_an_address_nobody_answers_does_not_hold_up_the_other_status_reads(
    hass: HomeAssistant,
    gateway: VirtualGateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The first status address has no device (its read times out after 1 s); the next
    read goes out meanwhile and brings its state before that timeout."""
    caplog.set_level(logging.DEBUG, logger="custom_components.knx_secure.coordinator")
    gateway.set_switch("1/1/1", True)
    entry = await _add_secure_test_entry(
        hass,
        gateway,
        scale.subentries_data(
            [_binary_sensor("Silent", "3/3/3"), _binary_sensor("Light status", "1/1/2")]
        ),
    )
    watch = FirstStates(hass, {"Light status": scale.FirstState(STATE_ON)})
    assert await hass.config_entries.async_setup(entry.entry_id)
    async with asyncio.timeout(TIMEOUT):
        await watch.done.wait()
    watch.close()
    assert "No answer to the status read of 3/3/3" not in caplog.text
    assert await hass.config_entries.async_unload(entry.entry_id)
