"""Switch: writes DPT 1.001 through the secure tunnel; state from the status GA."""

from __future__ import annotations

from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_NAME,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import mock_restore_cache

from custom_components.knx_secure.const import (
    CONF_INVERT,
    CONF_WRITE_ADDRESS,
    DOMAIN,
    SUBENTRY_SWITCH,
)

from ..helpers import SWITCH, wait_for
from .conftest import (
    SWITCH_DATA,
    Setup,
    assert_gateway_dropped_nothing,
    async_add_subentry,
    entity_id_for,
    state_of,
)


async def _turn(hass: HomeAssistant, entity_id: str, on: bool) -> None:
    await hass.services.async_call(
        "switch",
        SERVICE_TURN_ON if on else SERVICE_TURN_OFF,
        {ATTR_ENTITY_ID: entity_id},
        blocking=True,
    )


async def test_turn_on_and_off(hass: HomeAssistant, setup: Setup) -> None:
    """The actuator follows, and so do the switch and the binary sensor on 1/1/2."""
    gateway = setup.gateway
    await wait_for(lambda: state_of(hass, setup.switch) == STATE_OFF)

    await _turn(hass, setup.switch, True)
    assert gateway.switch_state(SWITCH) is True
    await wait_for(lambda: state_of(hass, setup.switch) == STATE_ON)
    await wait_for(lambda: state_of(hass, setup.binary_sensor) == STATE_ON)

    await _turn(hass, setup.switch, False)
    assert gateway.switch_state(SWITCH) is False
    await wait_for(lambda: state_of(hass, setup.switch) == STATE_OFF)
    await wait_for(lambda: state_of(hass, setup.binary_sensor) == STATE_OFF)
    assert_gateway_dropped_nothing(gateway)


async def test_switch_without_status_follows_confirmed_write(
    hass: HomeAssistant, setup: Setup
) -> None:
    """Without a status GA the state is the last write the gateway confirmed."""
    subentry = await async_add_subentry(
        hass,
        setup.entry,
        SUBENTRY_SWITCH,
        {CONF_NAME: "Plain write", CONF_WRITE_ADDRESS: "1/1/1", CONF_INVERT: False},
    )
    entity_id = entity_id_for(hass, setup.entry, subentry, "switch")
    await wait_for(lambda: state_of(hass, entity_id) not in (None, "unavailable"))
    assert state_of(hass, entity_id) == "unknown"

    await _turn(hass, entity_id, True)
    assert state_of(hass, entity_id) == STATE_ON
    assert setup.gateway.switch_state(SWITCH) is True
    # The other switch on the same actuator follows its status GA.
    await wait_for(lambda: state_of(hass, setup.switch) == STATE_ON)

    await _turn(hass, entity_id, False)
    assert state_of(hass, entity_id) == STATE_OFF


async def test_inverted_switch(hass: HomeAssistant, setup: Setup) -> None:
    """An inverted switch writes OFF for on and shows on when the status says OFF."""
    subentry = await async_add_subentry(
        hass,
        setup.entry,
        SUBENTRY_SWITCH,
        {**SWITCH_DATA, CONF_NAME: "Inverted", CONF_INVERT: True},
    )
    entity_id = entity_id_for(hass, setup.entry, subentry, "switch")
    await wait_for(lambda: state_of(hass, entity_id) == STATE_ON)  # actuator is off

    await _turn(hass, entity_id, False)
    assert setup.gateway.switch_state(SWITCH) is True
    await wait_for(lambda: state_of(hass, entity_id) == STATE_OFF)
    await wait_for(lambda: state_of(hass, setup.switch) == STATE_ON)


async def test_state_restored_until_first_answer(hass: HomeAssistant, setup: Setup) -> None:
    """After a restart the last state shows until the bus answers."""
    subentry = await async_add_subentry(
        hass,
        setup.entry,
        SUBENTRY_SWITCH,
        {CONF_NAME: "Silent", CONF_WRITE_ADDRESS: "3/3/3", CONF_INVERT: False},
    )
    entity_id = entity_id_for(hass, setup.entry, subentry, "switch")
    await hass.config_entries.async_unload(setup.entry.entry_id)
    mock_restore_cache(hass, [State(entity_id, STATE_ON)])
    assert await hass.config_entries.async_setup(setup.entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, entity_id) == STATE_ON

    await _turn(hass, entity_id, False)
    assert state_of(hass, entity_id) == STATE_OFF


async def test_entity_naming(hass: HomeAssistant, setup: Setup) -> None:
    """has_entity_name: the switch is its subentry's device and takes its name."""
    entry = er.async_get(hass).async_get(setup.switch)
    assert entry is not None
    assert entry.has_entity_name
    assert entry.original_name is None  # the main feature of its device
    assert entry.platform == DOMAIN
    device = dr.async_get(hass).async_get(entry.device_id)
    assert device is not None
    assert device.name == "Light"
    state = hass.states.get(setup.switch)
    assert state is not None
    assert state.attributes["friendly_name"] == "Light"
