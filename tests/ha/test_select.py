"""Selects against the demo home's value actuator: options mapped to values of 20.102,
5.010 and 1.001, status from the bus, reads at start and after a reconnect, answers to
reads, Data Secure and plain addresses, the form and reconfigure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.components.select import ATTR_OPTION, ATTR_OPTIONS, SERVICE_SELECT_OPTION
from homeassistant.const import ATTR_ENTITY_ID, CONF_NAME, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from pytest_homeassistant_custom_component.common import mock_restore_cache

from custom_components.knx_secure.const import (
    CONF_OPTIONS,
    CONF_RESPOND_TO_READ,
    CONF_STATE_ADDRESS,
    CONF_VALUE_TYPE,
    CONF_WRITE_ADDRESS,
    SUBENTRY_SELECT,
)

from ..helpers import wait_for
from .conftest import UploadFile, assert_gateway_dropped_nothing, state_of
from .values_helpers import add_entity, attach_values, demo_entry, ga, reconfigure, submit_form

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway

HOT_WATER = [{"address": "1/6/5", "status": "1/6/6", "dpt": "20.102", "value": "comfort"}]
PROGRAM = [{"address": "1/6/7", "status": "1/6/8", "dpt": "5.010", "value": 1}]


def _data(**extra: Any) -> dict[str, Any]:
    return {
        CONF_NAME: "Fan program",
        CONF_WRITE_ADDRESS: "1/6/7",
        CONF_STATE_ADDRESS: "1/6/8",
        CONF_VALUE_TYPE: "5.010",
        CONF_OPTIONS: "Off = 0\nLow = 1\nHigh = 2\n",
        CONF_RESPOND_TO_READ: False,
        **extra,
    }


async def _select(hass: HomeAssistant, entity_id: str, option: str) -> None:
    await hass.services.async_call(
        "select",
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: entity_id, ATTR_OPTION: option},
        blocking=True,
    )


async def test_options_reach_the_device_and_the_status_follows(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    device = attach_values(demo_gateway, "1.1.9", PROGRAM)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_SELECT, _data())
    await wait_for(lambda: state_of(hass, entity_id) == "Low")  # read at start
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes[ATTR_OPTIONS] == ["Off", "Low", "High"]
    await _select(hass, entity_id, "High")
    assert device.received(ga("1/6/7")) == [2]
    await wait_for(lambda: state_of(hass, entity_id) == "High")
    device.set_value(ga("1/6/7"), 0)  # operated on the device
    await wait_for(lambda: state_of(hass, entity_id) == "Off")
    device.set_value(ga("1/6/7"), 9)  # a value no option maps to
    await wait_for(lambda: state_of(hass, entity_id) == STATE_UNKNOWN)
    await demo_gateway.disconnect_all()
    reads = device.reads_answered[ga("1/6/8")]
    await wait_for(lambda: device.reads_answered[ga("1/6/8")] > reads)
    assert_gateway_dropped_nothing(demo_gateway)


async def test_an_enumeration_offers_its_states_and_answers_reads(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """20.102 with no options lists the type's states; with "respond to read" a device's
    read of the write address gets the current option's value."""
    device = attach_values(demo_gateway, "1.1.9", HOT_WATER)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    data = _data(
        **{
            CONF_WRITE_ADDRESS: "1/6/5",
            CONF_STATE_ADDRESS: "1/6/6",
            CONF_VALUE_TYPE: "20.102",
            CONF_OPTIONS: "",
            CONF_RESPOND_TO_READ: True,
        }
    )
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_SELECT, data)
    await wait_for(lambda: state_of(hass, entity_id) == "comfort")
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes[ATTR_OPTIONS] == [
        "auto",
        "comfort",
        "standby",
        "economy",
        "building_protection",
    ]
    await _select(hass, entity_id, "economy")
    await wait_for(lambda: state_of(hass, entity_id) == "economy")
    device.read_value(ga("1/6/5"))
    await wait_for(lambda: device.received(ga("1/6/5")) == ["economy", "economy"])
    assert_gateway_dropped_nothing(demo_gateway)


async def test_plain_dpt_1_select(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    device = attach_values(
        demo_gateway, "1.1.11", [{"address": "2/6/1", "status": "2/6/2", "dpt": "1.001"}]
    )
    entry = await demo_entry(hass, demo_gateway, upload_file)
    data = _data(
        **{
            CONF_WRITE_ADDRESS: "2/6/1",
            CONF_STATE_ADDRESS: "2/6/2",
            CONF_VALUE_TYPE: "1.001",
            CONF_OPTIONS: "Stopped = off\nRunning = on",
        }
    )
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_SELECT, data)
    await _select(hass, entity_id, "Running")
    assert device.received(ga("2/6/1")) == [True]
    await wait_for(lambda: state_of(hass, entity_id) == "Running")
    assert_gateway_dropped_nothing(demo_gateway)


async def test_last_option_restored_until_the_bus_answers(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    entry = await demo_entry(hass, demo_gateway, upload_file)
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_SELECT, _data())
    await hass.config_entries.async_unload(entry.entry_id)
    mock_restore_cache(hass, [State(entity_id, "High")])
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, entity_id) == "High"


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_WRITE_ADDRESS: ""}, {CONF_WRITE_ADDRESS: "invalid_group_address"}),
        ({CONF_VALUE_TYPE: "232.600"}, {CONF_VALUE_TYPE: "invalid_value_type"}),
        ({CONF_OPTIONS: "Low = 1\nHigh = 256"}, {CONF_OPTIONS: "invalid_options"}),
        ({CONF_OPTIONS: "Low = 1\nLow = 2"}, {CONF_OPTIONS: "invalid_options"}),
        ({CONF_OPTIONS: "= 1"}, {CONF_OPTIONS: "invalid_options"}),
        ({CONF_OPTIONS: ""}, {CONF_OPTIONS: "invalid_options"}),  # 5.010 has no states
        (
            {CONF_VALUE_TYPE: "20.102", CONF_OPTIONS: "Hot = boiling"},
            {CONF_OPTIONS: "invalid_options"},
        ),
    ],
)
async def test_form_errors(
    hass: HomeAssistant,
    demo_gateway: VirtualGateway,
    upload_file: UploadFile,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    entry = await demo_entry(hass, demo_gateway, upload_file)
    result = await submit_form(hass, entry, SUBENTRY_SELECT, {**_data(), **changes})
    assert result["step_id"] == "user"
    assert result["errors"] == errors


async def test_reconfigure_keeps_the_entity(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    attach_values(demo_gateway, "1.1.9", PROGRAM)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    subentry_id, entity_id = await add_entity(hass, entry, SUBENTRY_SELECT, _data())
    await wait_for(lambda: state_of(hass, entity_id) == "Low")
    data = _data(**{CONF_OPTIONS: "Eco = 1\nBoost = 2", CONF_NAME: "Fan"})
    await reconfigure(hass, entry, SUBENTRY_SELECT, subentry_id, data)
    await wait_for(lambda: state_of(hass, entity_id) == "Eco")
