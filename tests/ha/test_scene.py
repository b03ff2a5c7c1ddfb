"""Scenes against the demo home's scene actuator (1.1.10 on the Data Secure 1/6/21):
activation sends the scene number, the form and reconfigure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.const import ATTR_ENTITY_ID, CONF_NAME, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import InvalidData

from custom_components.knx_secure.const import (
    CONF_SCENE_ADDRESS,
    CONF_SCENE_NUMBER,
    CONF_STATE_ADDRESS,
    CONF_VALUE_TYPE,
    CONF_WRITE_ADDRESS,
    SUBENTRY_NUMBER,
    SUBENTRY_SCENE,
)
from custom_components.knx_secure.knx.address import GroupAddress
from custom_components.knx_secure.monitor import address_book

from ..helpers import wait_for
from .conftest import UploadFile, assert_gateway_dropped_nothing
from .values_helpers import add_entity, attach_scenes, demo_entry, reconfigure, submit_form

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway


def _data(number: float = 5, **extra: Any) -> dict[str, Any]:
    return {CONF_NAME: "Evening", CONF_SCENE_ADDRESS: "1/6/21", CONF_SCENE_NUMBER: number, **extra}


async def _activate(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        "scene", SERVICE_TURN_ON, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def test_activation_sends_the_scene_number_data_secure(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    device = attach_scenes(demo_gateway)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    subentry_id, entity_id = await add_entity(hass, entry, SUBENTRY_SCENE, _data(5))
    # the type is saved for the group monitor's names
    assert entry.subentries[subentry_id].data[CONF_VALUE_TYPE] == "17.001"
    _other, last = await add_entity(hass, entry, SUBENTRY_SCENE, _data(64.0))
    await _activate(hass, entity_id)
    await _activate(hass, last)
    await wait_for(lambda: device.scenes == [5, 64])
    assert entry.subentries[_other].data[CONF_SCENE_NUMBER] == 64
    assert_gateway_dropped_nothing(demo_gateway)


async def test_plain_scene_address(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    device = attach_scenes(demo_gateway, "2/6/9")
    entry = await demo_entry(hass, demo_gateway, upload_file)
    result = await submit_form(hass, entry, SUBENTRY_SCENE, _data(1, scene_address="2/6/9"))
    assert result["step_id"] == "confirm_plain_group_address"
    hass.config_entries.subentries.async_abort(result["flow_id"])
    _subentry, entity_id = await add_entity(
        hass, entry, SUBENTRY_SCENE, _data(1, scene_address="2/6/9")
    )
    await _activate(hass, entity_id)
    await wait_for(lambda: device.scenes == [1])
    assert_gateway_dropped_nothing(demo_gateway)


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_SCENE_ADDRESS: "x"}, {CONF_SCENE_ADDRESS: "invalid_group_address"}),
        ({CONF_SCENE_NUMBER: 2.5}, {CONF_SCENE_NUMBER: "invalid_scene_number"}),
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
    result = await submit_form(hass, entry, SUBENTRY_SCENE, {**_data(), **changes})
    assert result["step_id"] == "user"
    assert result["errors"] == errors


@pytest.mark.parametrize("number", [0, 65])
async def test_the_form_refuses_numbers_outside_1_to_64(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile, number: int
) -> None:
    entry = await demo_entry(hass, demo_gateway, upload_file)
    with pytest.raises(InvalidData):
        await submit_form(hass, entry, SUBENTRY_SCENE, _data(number))


async def test_reconfigure_keeps_the_entity(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    device = attach_scenes(demo_gateway)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    subentry_id, entity_id = await add_entity(hass, entry, SUBENTRY_SCENE, _data(5))
    await reconfigure(hass, entry, SUBENTRY_SCENE, subentry_id, _data(12))
    await _activate(hass, entity_id)
    await wait_for(lambda: device.scenes == [12])


async def test_the_group_monitor_names_and_types_the_addresses(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Scenes, numbers, selects, texts and buttons save their type where the monitor looks."""
    entry = await demo_entry(hass, demo_gateway, upload_file)
    await add_entity(hass, entry, SUBENTRY_SCENE, _data(3))
    await add_entity(
        hass,
        entry,
        SUBENTRY_NUMBER,
        {
            CONF_NAME: "Level",
            CONF_WRITE_ADDRESS: "1/6/1",
            CONF_STATE_ADDRESS: "1/6/2",
            CONF_VALUE_TYPE: "5.001",
        },
    )
    book = address_book(entry)
    assert book[GroupAddress.parse("1/6/21")] == {"name": "Evening · scene", "dpt": "17.001"}
    assert book[GroupAddress.parse("1/6/2")] == {"name": "Level · state", "dpt": "5.001"}
