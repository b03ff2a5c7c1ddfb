"""Data Secure counters survive restarts: no sequence number is ever reused."""

from __future__ import annotations

from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant

from custom_components.knx_secure.const import DOMAIN
from custom_components.knx_secure.store import HassSecurityStore, security_store_key

from .conftest import SWITCH_GA, Setup, assert_gateway_dropped_nothing, async_wait_for


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
        await async_wait_for(lambda: entry.runtime_data.connected)

    await _toggle(hass, 1)
    assert gateway.switch_state(SWITCH_GA) is True
    assert_gateway_dropped_nothing(gateway)


async def test_counters_saved_with_debounce_and_on_stop(
    hass: HomeAssistant, setup: Setup, hass_storage: dict[str, Any]
) -> None:
    """Counter changes are written after a short delay, and at once when HA stops."""
    entry = setup.entry
    hass_storage.pop(security_store_key(entry.entry_id), None)
    await _toggle(hass, 2)
    assert _stored(hass_storage, entry.entry_id) is None  # not at once: debounced
    await async_wait_for(lambda: _stored(hass_storage, entry.entry_id) is not None, 3)
    first = _stored(hass_storage, entry.entry_id)
    assert first is not None

    await _toggle(hass, 2)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    second = _stored(hass_storage, entry.entry_id)
    assert second is not None
    assert second["sequence_number"] > first["sequence_number"]


async def test_store_adapter_round_trip(hass: HomeAssistant, hass_storage: dict[str, Any]) -> None:
    """The adapter loads what it saved and ignores a stored value of another shape."""
    from custom_components.knx_secure.knx.client import SecurityState  # noqa: PLC0415

    store = HassSecurityStore(hass, "entry")
    await store.async_load()
    assert store.load() is None
    store.save(SecurityState(sequence_number=42, freshness={"1.1.1": 7}))
    await store.async_flush()
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
    assert broken.load() is None
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
