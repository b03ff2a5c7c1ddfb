"""The gateway device's connection sensors: connected since, address in use, counters."""

from __future__ import annotations

from datetime import datetime

import pytest
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.knx_secure import coordinator as coordinator_module
from custom_components.knx_secure.const import DOMAIN

from ..helpers import wait_for
from .conftest import Setup, state_of


def _sensor(hass: HomeAssistant, setup: Setup, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{setup.entry.entry_id}_{key}"
    )
    assert entity_id is not None, key
    return entity_id


@pytest.fixture(autouse=True)
def _fast_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coordinator_module, "STATS_INTERVAL", 0.05)


async def test_connection_sensors_follow_the_tunnel_and_count_telegrams(
    hass: HomeAssistant, setup: Setup
) -> None:
    since = state_of(hass, _sensor(hass, setup, "connected_since"))
    assert since is not None
    assert datetime.fromisoformat(since).tzinfo is not None
    assert state_of(hass, _sensor(hass, setup, "connection_type")) == "tunnel_secure"
    tunnels = {str(t.individual_address) for t in setup.gateway.tunnels}
    assert state_of(hass, _sensor(hass, setup, "individual_address")) in tunnels

    sent = _sensor(hass, setup, "telegrams_sent")
    received = _sensor(hass, setup, "telegrams_received")
    sent_before = int(state_of(hass, sent) or 0)
    received_before = int(state_of(hass, received) or 0)
    await hass.services.async_call(
        "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: setup.switch}, blocking=True
    )
    await wait_for(lambda: int(state_of(hass, sent) or 0) > sent_before)
    await wait_for(lambda: int(state_of(hass, received) or 0) > received_before)

    # the connection goes: its sensors are unavailable, the counters stay
    await setup.gateway.stop()
    await wait_for(
        lambda: state_of(hass, _sensor(hass, setup, "connected_since")) == STATE_UNAVAILABLE
    )
    assert state_of(hass, sent) != STATE_UNAVAILABLE
