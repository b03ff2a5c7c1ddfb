"""Buttons against the demo home's value actuator: a press sends the chosen value of the
chosen type (default 1.001 on), Data Secure and plain, the form and reconfigure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID, CONF_NAME
from homeassistant.core import HomeAssistant

from custom_components.knx_secure.const import (
    CONF_PAYLOAD,
    CONF_VALUE_TYPE,
    CONF_WRITE_ADDRESS,
    SUBENTRY_BUTTON,
)

from ..helpers import wait_for
from .conftest import UploadFile, assert_gateway_dropped_nothing
from .values_helpers import add_entity, attach_values, demo_entry, ga, reconfigure, submit_form

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway

CHIME = [{"address": "1/6/11", "dpt": "1.001"}]


async def _press(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        "button", SERVICE_PRESS, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def test_default_press_sends_on_data_secure(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Type and value left at their defaults: DPT 1.001 on."""
    device = attach_values(demo_gateway, "1.1.9", CHIME)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    subentry_id, entity_id = await add_entity(
        hass, entry, SUBENTRY_BUTTON, {CONF_NAME: "Chime", CONF_WRITE_ADDRESS: "1/6/11"}
    )
    data = entry.subentries[subentry_id].data
    assert (data[CONF_VALUE_TYPE], data[CONF_PAYLOAD]) == ("1.001", "on")
    await _press(hass, entity_id)
    await _press(hass, entity_id)
    await wait_for(lambda: device.received(ga("1/6/11")) == [True, True])
    assert_gateway_dropped_nothing(demo_gateway)


@pytest.mark.parametrize(
    ("dpt_id", "payload", "saved", "received"),
    [
        ("5.001", " 75 ", "75", 75),
        ("9.001", "21.5", "21.5", 21.5),
        ("20.102", "economy", "economy", "economy"),
        ("1.001", "OFF", "off", False),
        ("16.000", "Hello", "Hello", "Hello"),
    ],
)
async def test_a_chosen_value_of_a_chosen_type_on_a_plain_address(
    hass: HomeAssistant,
    demo_gateway: VirtualGateway,
    upload_file: UploadFile,
    dpt_id: str,
    payload: str,
    saved: str,
    received: Any,
) -> None:
    device = attach_values(demo_gateway, "1.1.11", [{"address": "2/6/5", "dpt": dpt_id}])
    entry = await demo_entry(hass, demo_gateway, upload_file)
    data = {
        CONF_NAME: "Send",
        CONF_WRITE_ADDRESS: "2/6/5",
        CONF_VALUE_TYPE: dpt_id,
        CONF_PAYLOAD: payload,
    }
    subentry_id, entity_id = await add_entity(hass, entry, SUBENTRY_BUTTON, data)
    assert entry.subentries[subentry_id].data[CONF_PAYLOAD] == saved
    await _press(hass, entity_id)
    await wait_for(lambda: device.received(ga("2/6/5")) == [received])
    assert_gateway_dropped_nothing(demo_gateway)


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_WRITE_ADDRESS: "1/6/x"}, {CONF_WRITE_ADDRESS: "invalid_group_address"}),
        ({CONF_VALUE_TYPE: "232.600"}, {CONF_VALUE_TYPE: "invalid_value_type"}),
        ({CONF_PAYLOAD: "maybe"}, {CONF_PAYLOAD: "invalid_payload"}),
        ({CONF_VALUE_TYPE: "5.001", CONF_PAYLOAD: "101"}, {CONF_PAYLOAD: "invalid_payload"}),
        ({CONF_VALUE_TYPE: "5.001", CONF_PAYLOAD: "1.5"}, {CONF_PAYLOAD: "invalid_payload"}),
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
    data = {CONF_NAME: "Chime", CONF_WRITE_ADDRESS: "1/6/11", **changes}
    result = await submit_form(hass, entry, SUBENTRY_BUTTON, data)
    assert result["step_id"] == "user"
    assert result["errors"] == errors


async def test_reconfigure_keeps_the_entity(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    device = attach_values(demo_gateway, "1.1.9", CHIME)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    data = {CONF_NAME: "Chime", CONF_WRITE_ADDRESS: "1/6/11"}
    subentry_id, entity_id = await add_entity(hass, entry, SUBENTRY_BUTTON, data)
    await reconfigure(hass, entry, SUBENTRY_BUTTON, subentry_id, {**data, CONF_PAYLOAD: "off"})
    await _press(hass, entity_id)
    await wait_for(lambda: device.received(ga("1/6/11")) == [False])
