"""Fans against the demo home's fan actuator (1.1.13: Data Secure 1/6/40..1/6/47), through
the real secure tunnel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_RECONFIGURE
from homeassistant.const import ATTR_ENTITY_ID, CONF_NAME, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import mock_restore_cache

from custom_components.knx_secure.const import (
    CONF_MAX_STEP,
    CONF_OSCILLATION_ADDRESS,
    CONF_OSCILLATION_STATE_ADDRESS,
    CONF_SPEED_ADDRESS,
    CONF_SPEED_DPT,
    CONF_SPEED_STATE_ADDRESS,
    CONF_SWITCH_ADDRESS,
    CONF_SWITCH_STATE_ADDRESS,
    CONF_SYNC_STATE,
    SUBENTRY_FAN,
)
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.devices import FanActuator

from ..helpers import wait_for
from .conftest import (
    UploadFile,
    assert_gateway_dropped_nothing,
    async_add_subentry,
    entity_id_for,
    state_of,
)
from .test_clock import attach_device, demo_entry

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway

PERCENT_FAN = {
    "switch": "1/6/40",
    "switch_status": "1/6/41",
    "speed": "1/6/42",
    "speed_status": "1/6/43",
    "oscillation": "1/6/44",
    "oscillation_status": "1/6/45",
}
STEP_FAN = {
    "switch": "1/6/40",
    "switch_status": "1/6/41",
    "speed": "1/6/46",
    "speed_status": "1/6/47",
    "speed_dpt": "5.010",
    "max_step": 4,
}
PERCENT_DATA = {
    CONF_NAME: "Bathroom fan",
    CONF_SWITCH_ADDRESS: "1/6/40",
    CONF_SWITCH_STATE_ADDRESS: "1/6/41",
    CONF_SPEED_ADDRESS: "1/6/42",
    CONF_SPEED_STATE_ADDRESS: "1/6/43",
    CONF_SPEED_DPT: "5.001",
    CONF_MAX_STEP: 3,
    CONF_OSCILLATION_ADDRESS: "1/6/44",
    CONF_OSCILLATION_STATE_ADDRESS: "1/6/45",
    CONF_SYNC_STATE: True,
}
STEP_DATA = {
    CONF_NAME: "Kitchen hood",
    CONF_SPEED_ADDRESS: "1/6/46",
    CONF_SPEED_STATE_ADDRESS: "1/6/47",
    CONF_SPEED_DPT: "5.010",
    CONF_MAX_STEP: 4,
    CONF_SYNC_STATE: True,
}


def _attach(gateway: VirtualGateway, spec: dict[str, Any]) -> FanActuator:
    return attach_device(gateway, "fan", FanActuator, "1.1.13", spec)


async def _call(hass: HomeAssistant, service: str, entity_id: str, **data: Any) -> None:
    await hass.services.async_call(
        "fan", service, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
    )


def _attr(hass: HomeAssistant, entity_id: str, name: str) -> Any:
    state = hass.states.get(entity_id)
    assert state is not None
    return state.attributes.get(name)


async def test_every_service_reaches_the_actuator(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """On, off, percentage and oscillation over Data Secure; the state follows the status."""
    device = _attach(demo_gateway, PERCENT_FAN)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    subentry = await async_add_subentry(hass, entry, SUBENTRY_FAN, PERCENT_DATA)
    fan = entity_id_for(hass, entry, subentry, "fan")
    await wait_for(lambda: state_of(hass, fan) == STATE_OFF)

    await _call(hass, "turn_on", fan)
    assert device.on
    await wait_for(lambda: state_of(hass, fan) == STATE_ON)
    await wait_for(lambda: _attr(hass, fan, "percentage") == 100)

    await _call(hass, "set_percentage", fan, percentage=40)
    assert device.speed == 40
    await wait_for(lambda: _attr(hass, fan, "percentage") == 40)

    await _call(hass, "oscillate", fan, oscillating=True)
    assert device.oscillating
    await wait_for(lambda: _attr(hass, fan, "oscillating") is True)

    await _call(hass, "turn_off", fan)
    assert not device.on
    await wait_for(lambda: state_of(hass, fan) == STATE_OFF)
    await wait_for(lambda: _attr(hass, fan, "percentage") == 0)

    await _call(hass, "turn_on", fan, percentage=70)
    assert (device.on, device.speed) == (True, 70)
    await wait_for(lambda: _attr(hass, fan, "percentage") == 70)
    assert_gateway_dropped_nothing(demo_gateway)


async def test_local_operation_and_reads_after_a_reconnect(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """The device's own button and speed reach the entity; the status is read again after a
    reconnect."""
    device = _attach(demo_gateway, PERCENT_FAN)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    subentry = await async_add_subentry(hass, entry, SUBENTRY_FAN, PERCENT_DATA)
    fan = entity_id_for(hass, entry, subentry, "fan")
    await wait_for(lambda: state_of(hass, fan) == STATE_OFF)

    device.press()
    await wait_for(lambda: state_of(hass, fan) == STATE_ON)
    device.set_speed(20)
    await wait_for(lambda: _attr(hass, fan, "percentage") == 20)

    await demo_gateway.disconnect_all()
    await wait_for(lambda: state_of(hass, fan) == "unavailable")
    device.set_speed(60)  # while Home Assistant is away
    await wait_for(lambda: _attr(hass, fan, "percentage") == 60)
    assert state_of(hass, fan) == STATE_ON
    assert_gateway_dropped_nothing(demo_gateway)


async def test_steps_without_a_switch_address(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """5.010 steps: a percentage is sent as its step; on and off are speeds."""
    device = _attach(demo_gateway, STEP_FAN)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    subentry = await async_add_subentry(hass, entry, SUBENTRY_FAN, STEP_DATA)
    fan = entity_id_for(hass, entry, subentry, "fan")
    await wait_for(lambda: state_of(hass, fan) == STATE_OFF)
    assert _attr(hass, fan, "percentage_step") == 25

    await _call(hass, "set_percentage", fan, percentage=50)
    assert device.speed == 2
    await wait_for(lambda: _attr(hass, fan, "percentage") == 50)
    await _call(hass, "turn_off", fan)
    assert device.speed == 0
    await wait_for(lambda: state_of(hass, fan) == STATE_OFF)
    await _call(hass, "turn_on", fan)  # back to the last speed
    assert device.speed == 2
    device.set_speed(4)
    await wait_for(lambda: _attr(hass, fan, "percentage") == 100)
    assert_gateway_dropped_nothing(demo_gateway)


async def test_restored_until_the_bus_answers(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    _attach(demo_gateway, PERCENT_FAN)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    mock_restore_cache(
        hass, [State("fan.bathroom_fan", STATE_ON, {"percentage": 30, "oscillating": True})]
    )
    data = {**PERCENT_DATA, CONF_SYNC_STATE: False}
    subentry = await async_add_subentry(hass, entry, SUBENTRY_FAN, data)
    fan = entity_id_for(hass, entry, subentry, "fan")
    assert fan == "fan.bathroom_fan"
    await wait_for(lambda: state_of(hass, fan) == STATE_ON)
    assert _attr(hass, fan, "percentage") == 30
    assert _attr(hass, fan, "oscillating") is True


async def test_form_errors_and_reconfigure_keep_the_entity(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """No on/off and no speed address, or a bad address, is a form error; reconfigure keeps
    the entity id."""
    _attach(demo_gateway, STEP_FAN)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_FAN), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Fan", CONF_OSCILLATION_ADDRESS: "1/6/44"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SWITCH_ADDRESS: "switch_or_speed"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**STEP_DATA, CONF_SPEED_STATE_ADDRESS: "1/6/x"}
    )
    assert result["errors"] == {CONF_SPEED_STATE_ADDRESS: "invalid_group_address"}

    subentry_id = await async_add_subentry(hass, entry, SUBENTRY_FAN, PERCENT_DATA)
    entity_id = entity_id_for(hass, entry, subentry_id, "fan")
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_FAN),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], STEP_DATA)
    assert result["step_id"] == "confirm"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entity_id_for(hass, entry, subentry_id, "fan") == entity_id
    await wait_for(lambda: _attr(hass, entity_id, "percentage_step") == 25)
    assert (
        GroupAddress.parse("1/6/46")
        in demo_gateway.device(IndividualAddress.parse("1.1.13")).watched
    )
