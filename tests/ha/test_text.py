"""Texts against the demo home's value actuator (a display): 16.000 and 16.001, status
from the bus, reads at start and after a reconnect, answers to reads, the type's length
and charset, Data Secure and plain addresses, the form and reconfigure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.components.text import ATTR_MAX, ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.const import ATTR_ENTITY_ID, CONF_NAME
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import mock_restore_cache

from custom_components.knx_secure.const import (
    CONF_RESPOND_TO_READ,
    CONF_STATE_ADDRESS,
    CONF_VALUE_TYPE,
    CONF_WRITE_ADDRESS,
    SUBENTRY_TEXT,
)

from ..helpers import wait_for
from .conftest import UploadFile, assert_gateway_dropped_nothing, state_of
from .values_helpers import add_entity, attach_values, demo_entry, ga, reconfigure, submit_form

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway

DISPLAY = [{"address": "1/6/9", "status": "1/6/10", "dpt": "16.000", "value": "Welcome"}]


def _data(**extra: Any) -> dict[str, Any]:
    return {
        CONF_NAME: "Hall display",
        CONF_WRITE_ADDRESS: "1/6/9",
        CONF_STATE_ADDRESS: "1/6/10",
        CONF_VALUE_TYPE: "16.000",
        CONF_RESPOND_TO_READ: False,
        **extra,
    }


async def _set(hass: HomeAssistant, entity_id: str, value: str) -> None:
    await hass.services.async_call(
        "text", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: entity_id, ATTR_VALUE: value}, blocking=True
    )


async def test_text_reaches_the_display_and_the_status_follows(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    device = attach_values(demo_gateway, "1.1.9", DISPLAY)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_TEXT, _data())
    await wait_for(lambda: state_of(hass, entity_id) == "Welcome")
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes[ATTR_MAX] == 14
    await _set(hass, entity_id, "Door open")
    assert device.received(ga("1/6/9")) == ["Door open"]
    await wait_for(lambda: state_of(hass, entity_id) == "Door open")
    device.set_value(ga("1/6/9"), "Local")
    await wait_for(lambda: state_of(hass, entity_id) == "Local")
    reads = device.reads_answered[ga("1/6/10")]
    await demo_gateway.disconnect_all()
    await wait_for(lambda: device.reads_answered[ga("1/6/10")] > reads)
    assert_gateway_dropped_nothing(demo_gateway)


async def test_too_long_or_outside_the_charset_is_refused(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    device = attach_values(demo_gateway, "1.1.9", DISPLAY)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_TEXT, _data())
    with pytest.raises(ValueError, match="14"):
        await _set(hass, entity_id, "fifteen chars!!")
    with pytest.raises(ServiceValidationError):
        await _set(hass, entity_id, "Grüße")  # not ASCII: 16.000 cannot carry it
    assert device.received(ga("1/6/9")) == []


async def test_latin_1_text_answers_reads_on_a_plain_address(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    device = attach_values(demo_gateway, "1.1.11", [{"address": "2/6/3", "dpt": "16.001"}])
    entry = await demo_entry(hass, demo_gateway, upload_file)
    data = _data(**{CONF_WRITE_ADDRESS: "2/6/3", CONF_VALUE_TYPE: "16.001"})
    data[CONF_RESPOND_TO_READ] = True
    del data[CONF_STATE_ADDRESS]
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_TEXT, data)
    await _set(hass, entity_id, "Grüße")
    assert state_of(hass, entity_id) == "Grüße"
    device.read_value(ga("2/6/3"))
    await wait_for(lambda: device.received(ga("2/6/3")) == ["Grüße", "Grüße"])
    assert_gateway_dropped_nothing(demo_gateway)


async def test_last_text_restored_until_the_bus_answers(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    entry = await demo_entry(hass, demo_gateway, upload_file)
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_TEXT, _data())
    await hass.config_entries.async_unload(entry.entry_id)
    mock_restore_cache(hass, [State(entity_id, "Before")])
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, entity_id) == "Before"


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_STATE_ADDRESS: "1/6"}, {}),  # a 2-level address is an address
        ({CONF_STATE_ADDRESS: "1/6/x"}, {CONF_STATE_ADDRESS: "invalid_group_address"}),
        ({CONF_VALUE_TYPE: "9.001"}, {CONF_VALUE_TYPE: "invalid_value_type"}),
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
    result = await submit_form(hass, entry, SUBENTRY_TEXT, {**_data(), **changes})
    if errors:
        assert result["step_id"] == "user"
        assert result["errors"] == errors
    else:
        assert result["step_id"].startswith("confirm")
        hass.config_entries.subentries.async_abort(result["flow_id"])


async def test_reconfigure_keeps_the_entity(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    attach_values(demo_gateway, "1.1.9", DISPLAY)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    subentry_id, entity_id = await add_entity(hass, entry, SUBENTRY_TEXT, _data())
    await wait_for(lambda: state_of(hass, entity_id) == "Welcome")
    data = _data(**{CONF_VALUE_TYPE: "16.001", CONF_NAME: "Display"})
    await reconfigure(hass, entry, SUBENTRY_TEXT, subentry_id, data)
    assert entry.subentries[subentry_id].data[CONF_VALUE_TYPE] == "16.001"
    await wait_for(lambda: state_of(hass, entity_id) == "Welcome")
