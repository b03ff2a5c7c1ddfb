"""Data Secure counters survive restarts: no sequence number is ever reused."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant

from custom_components.knx_secure.const import DOMAIN
from custom_components.knx_secure.knx.data_secure import sequence_clock
from custom_components.knx_secure.knx.security_store import RECOVERY_MARGIN_MS
from custom_components.knx_secure.store import HassSecurityStore, security_store_key

from ..helpers import SWITCH, wait_for
from .conftest import (
    Setup,
    assert_gateway_dropped_nothing,
)


async def _toggle(hass: HomeAssistant, times: int) -> None:
    for index in range(times):
        await hass.services.async_call(
            DOMAIN, "send", {"address": "1/1/1", "value": index % 2 == 0}, blocking=True
        )


def _stored(hass_storage: dict[str, Any], entry_id: str) -> dict[str, Any] | None:
    stored = hass_storage.get(security_store_key(entry_id))
    return stored["data"] if stored else None


async def test_restart_reuses_no_sequence_number(
    hass: HomeAssistant, setup: Setup, hass_storage: dict[str, Any]
) -> None:
    """Unload (flush) and set up again, twice: the gateway never sees a replay."""
    entry = setup.entry
    gateway = setup.gateway
    last = -1
    for _ in range(3):
        await _toggle(hass, 3)
        assert await hass.config_entries.async_unload(entry.entry_id)
        stored = _stored(hass_storage, entry.entry_id)
        assert stored is not None
        assert stored["sequence_number"] > last
        last = stored["sequence_number"]
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        await wait_for(lambda: entry.runtime_data.connected)

    await _toggle(hass, 1)
    assert gateway.switch_state(SWITCH) is True
    assert_gateway_dropped_nothing(gateway)


async def test_counters_saved_with_debounce_and_on_stop(
    hass: HomeAssistant, setup: Setup, hass_storage: dict[str, Any]
) -> None:
    """Counter changes are written after a short delay, and at once when HA stops.

    The outgoing sequence number is stored per reservation (written before use, see
    test_reservation_is_written_before_use); the freshness table changes with every secure
    status telegram the actuator sends back.
    """
    entry = setup.entry
    actuator = str(setup.gateway.devices[0])
    hass_storage.pop(security_store_key(entry.entry_id), None)
    await _toggle(hass, 2)
    assert _stored(hass_storage, entry.entry_id) is None  # not at once: debounced
    await wait_for(lambda: _stored(hass_storage, entry.entry_id) is not None, 3)
    first = _stored(hass_storage, entry.entry_id)
    assert first is not None
    assert actuator in first["freshness"]

    await _toggle(hass, 2)
    client = entry.runtime_data.client
    await wait_for(  # the actuator's status telegrams follow the writes
        lambda: client.security_state.freshness[actuator] > first["freshness"][actuator]
    )
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    second = _stored(hass_storage, entry.entry_id)
    assert second is not None
    assert second["freshness"][actuator] > first["freshness"][actuator]
    assert second["sequence_number"] >= first["sequence_number"]


async def test_reservation_is_written_before_use(
    hass: HomeAssistant, setup: Setup, hass_storage: dict[str, Any]
) -> None:
    """The first secure telegram after a restart waits until its reservation is stored:
    a crash right after it (before any debounced write) cannot reuse its number."""
    entry = setup.entry
    assert await hass.config_entries.async_unload(entry.entry_id)
    before = _stored(hass_storage, entry.entry_id)
    assert before is not None
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_for(lambda: entry.runtime_data.connected)
    await _toggle(hass, 1)
    # no time passed for the debounced write: what is stored was written by the flush
    stored = _stored(hass_storage, entry.entry_id)
    assert stored is not None
    assert stored["sequence_number"] > before["sequence_number"]
    assert stored["sequence_number"] >= entry.runtime_data.client.security_state.sequence_number


@pytest.mark.parametrize("sequence_number", [-5, True, 1 << 48, "12"])
async def test_invalid_stored_sequence_number_is_ignored(
    hass: HomeAssistant,
    setup: Setup,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    sequence_number: object,
) -> None:
    """A stored sequence number that is negative, boolean or beyond 48 bits is not used (one
    warning): the entry sets up and starts a day ahead of the clock, reusing nothing (the
    quick reloads of this test put the counter ahead of the clock)."""
    entry = setup.entry
    await _toggle(hass, 2)
    assert await hass.config_entries.async_unload(entry.entry_id)
    key = security_store_key(entry.entry_id)
    hass_storage[key]["data"]["sequence_number"] = sequence_number
    caplog.clear()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    warnings = [r for r in caplog.records if "Ignoring stored Data Secure counters" in r.message]
    assert len(warnings) == 1
    await wait_for(lambda: entry.runtime_data.connected)
    await _toggle(hass, 3)
    assert_gateway_dropped_nothing(setup.gateway)
    stored = _stored(hass_storage, entry.entry_id)
    assert stored is not None
    assert isinstance(stored["sequence_number"], int)
    assert not isinstance(stored["sequence_number"], bool)
    assert 0 < stored["sequence_number"] < 1 << 48


async def test_store_adapter_round_trip(hass: HomeAssistant, hass_storage: dict[str, Any]) -> None:
    """The adapter loads what it saved and ignores a stored value of another shape."""
    from custom_components.knx_secure.knx.client import SecurityState  # noqa: PLC0415

    store = HassSecurityStore(hass, "entry")
    await store.async_load()
    assert store.load() is None
    store.save(SecurityState(sequence_number=42, freshness={"1.1.1": 7}))
    await store.flush()
    assert _stored(hass_storage, "entry") == {"sequence_number": 42, "freshness": {"1.1.1": 7}}

    again = HassSecurityStore(hass, "entry")
    await again.async_load()
    state = again.load()
    assert state is not None
    assert state.sequence_number == 42
    assert state.freshness == {"1.1.1": 7}

    hass_storage[security_store_key("broken")] = {
        "version": 1,
        "minor_version": 1,
        "key": security_store_key("broken"),
        "data": {"sequence_number": "x"},
    }
    broken = HassSecurityStore(hass, "broken")
    await broken.async_load()
    recovered = broken.load()  # in use before, value lost: far ahead of the clock
    assert recovered is not None
    assert recovered.sequence_number >= sequence_clock() + RECOVERY_MARGIN_MS - 60_000
    await again.async_remove()
    assert security_store_key("entry") not in hass_storage


async def test_steady_traffic_does_not_postpone_the_write(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A change every half second (a busy bus) is still written within the debounce delay."""
    from datetime import timedelta  # noqa: PLC0415

    from homeassistant.util import dt as dt_util  # noqa: PLC0415
    from pytest_homeassistant_custom_component.common import (  # noqa: PLC0415
        async_fire_time_changed,
    )

    from custom_components.knx_secure.knx.client import SecurityState  # noqa: PLC0415

    store = HassSecurityStore(hass, "busy")
    await store.async_load()
    start = dt_util.utcnow()
    for step in range(1, 6):
        store.save(SecurityState(sequence_number=100 + step))
        async_fire_time_changed(hass, start + timedelta(seconds=0.5 * step))
        await hass.async_block_till_done()
    stored = _stored(hass_storage, "busy")
    assert stored is not None  # 2.5 s of steady changes: the 1 s write happened
    assert stored["sequence_number"] >= 102
