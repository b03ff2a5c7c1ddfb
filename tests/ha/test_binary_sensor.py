"""Binary sensor: follows its status group address."""

from __future__ import annotations

from homeassistant.const import CONF_NAME, STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant

from custom_components.knx_secure.const import (
    CONF_INVERT,
    CONF_STATE_ADDRESS,
    CONF_SYNC_STATE,
    DOMAIN,
    SUBENTRY_BINARY_SENSOR,
)

from ..helpers import wait_for
from .conftest import (
    Setup,
    async_add_subentry,
    entity_id_for,
    state_of,
)


async def test_reads_state_at_start_and_follows(hass: HomeAssistant, setup: Setup) -> None:
    """The sensor reads 1/1/2 at start, then follows the actuator's reports."""
    await wait_for(lambda: state_of(hass, setup.binary_sensor) == STATE_OFF)
    await hass.services.async_call(
        DOMAIN, "send", {"address": "1/1/1", "value": True}, blocking=True
    )
    await wait_for(lambda: state_of(hass, setup.binary_sensor) == STATE_ON)
    await hass.services.async_call(
        DOMAIN, "send", {"address": "1/1/1", "value": False}, blocking=True
    )
    await wait_for(lambda: state_of(hass, setup.binary_sensor) == STATE_OFF)


async def test_inverted_and_without_initial_read(hass: HomeAssistant, setup: Setup) -> None:
    """Invert flips the value; without sync_state the sensor waits for a telegram."""
    inverted = entity_id_for(
        hass,
        setup.entry,
        await async_add_subentry(
            hass,
            setup.entry,
            SUBENTRY_BINARY_SENSOR,
            {
                CONF_NAME: "Inverted",
                CONF_STATE_ADDRESS: "1/1/2",
                CONF_INVERT: True,
                CONF_SYNC_STATE: True,
            },
        ),
        "binary_sensor",
    )
    passive = entity_id_for(
        hass,
        setup.entry,
        await async_add_subentry(
            hass,
            setup.entry,
            SUBENTRY_BINARY_SENSOR,
            {
                CONF_NAME: "Passive",
                CONF_STATE_ADDRESS: "4/4/4",
                CONF_INVERT: False,
                CONF_SYNC_STATE: False,
            },
        ),
        "binary_sensor",
    )
    await wait_for(lambda: state_of(hass, inverted) == STATE_ON)
    assert state_of(hass, passive) == STATE_UNKNOWN

    await hass.services.async_call(
        DOMAIN, "send", {"address": "1/1/1", "value": True}, blocking=True
    )
    await wait_for(lambda: state_of(hass, inverted) == STATE_OFF)

    # A telegram on 4/4/4 (here our own write) updates the passive sensor.
    await hass.services.async_call(
        DOMAIN, "send", {"address": "4/4/4", "value": True}, blocking=True
    )
    assert state_of(hass, passive) == STATE_ON
