"""Notify: messages to the demo home's hall display (1.1.12: Data Secure 1/6/36, plain
2/6/10), split into 14-character telegrams, through the real secure tunnel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.config_entries import SOURCE_RECONFIGURE
from homeassistant.const import ATTR_ENTITY_ID, CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError

from custom_components.knx_secure.const import CONF_VALUE_TYPE, CONF_WRITE_ADDRESS, SUBENTRY_NOTIFY
from custom_components.knx_secure.knx.address import GroupAddress
from custom_components.knx_secure.knx.devices import DisplayDevice
from custom_components.knx_secure.notify import split_message

from ..helpers import wait_for
from .conftest import (
    UploadFile,
    assert_gateway_dropped_nothing,
    async_add_subentry,
    entity_id_for,
)
from .test_clock import attach_device, demo_entry

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway

SECURE_TEXT = GroupAddress.parse("1/6/36")
PLAIN_TEXT = GroupAddress.parse("2/6/10")


def _attach(gateway: VirtualGateway) -> DisplayDevice:
    objects = [
        {"write_address": "1/6/36", "dpt": "16.001", "value": ""},
        {"write_address": "2/6/10", "dpt": "16.000", "value": ""},
    ]
    return attach_device(gateway, "display", DisplayDevice, "1.1.12", {"objects": objects})


def _data(address: str, dpt_id: str) -> dict[str, Any]:
    return {CONF_NAME: "Hall display", CONF_WRITE_ADDRESS: address, CONF_VALUE_TYPE: dpt_id}


async def _send(hass: HomeAssistant, entity_id: str, message: str) -> None:
    await hass.services.async_call(
        "notify", "send_message", {ATTR_ENTITY_ID: entity_id, "message": message}, blocking=True
    )


def test_split_message() -> None:
    assert split_message("") == [""]
    assert split_message("x" * 14) == ["x" * 14]
    assert split_message("Waschmaschine ist fertig") == ["Waschmaschine ", "ist fertig"]
    assert split_message("a" * 29) == ["a" * 14, "a" * 14, "a"]


async def test_long_message_in_frames_over_data_secure(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A Latin-1 message longer than a telegram reaches the display frame by frame, in order."""
    device = _attach(demo_gateway)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    subentry = await async_add_subentry(hass, entry, SUBENTRY_NOTIFY, _data("1/6/36", "16.001"))
    entity_id = entity_id_for(hass, entry, subentry, "notify")
    await wait_for(lambda: hass.states.get(entity_id) is not None)

    await _send(hass, entity_id, "Wäsche ist fertig, bitte abholen")
    await wait_for(lambda: len(device.texts(SECURE_TEXT)) == 3)
    assert device.texts(SECURE_TEXT) == ["Wäsche ist fer", "tig, bitte abh", "olen"]
    assert "".join(device.texts(SECURE_TEXT)) == "Wäsche ist fertig, bitte abholen"
    assert_gateway_dropped_nothing(demo_gateway)


async def test_plain_ascii_display_and_a_character_it_cannot_carry(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """The plain 2/6/10 works plain; a message ASCII cannot carry is refused as a whole."""
    device = _attach(demo_gateway)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    subentry = await async_add_subentry(hass, entry, SUBENTRY_NOTIFY, _data("2/6/10", "16.000"))
    entity_id = entity_id_for(hass, entry, subentry, "notify")
    await wait_for(lambda: hass.states.get(entity_id) is not None)

    await _send(hass, entity_id, "Door open")
    await wait_for(lambda: device.texts(PLAIN_TEXT) == ["Door open"])
    with pytest.raises(ServiceValidationError) as caught:
        await _send(hass, entity_id, "Garage offen: Tür")
    assert caught.value.translation_key == "invalid_value"
    assert device.texts(PLAIN_TEXT) == ["Door open"]  # not even the first frame
    assert_gateway_dropped_nothing(demo_gateway)


async def test_form_errors_and_reconfigure_keep_the_entity(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    device = _attach(demo_gateway)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_NOTIFY), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**_data("1/6/36", "16.001"), CONF_WRITE_ADDRESS: "display"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_WRITE_ADDRESS: "invalid_group_address"}

    subentry_id = await async_add_subentry(hass, entry, SUBENTRY_NOTIFY, _data("1/6/36", "16.001"))
    entity_id = entity_id_for(hass, entry, subentry_id, "notify")
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_NOTIFY),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _data("2/6/10", "16.000")
    )
    assert result["step_id"] == "confirm_plain_group_address"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entity_id_for(hass, entry, subentry_id, "notify") == entity_id
    await wait_for(lambda: hass.states.get(entity_id) is not None)
    await _send(hass, entity_id, "moved")
    await wait_for(lambda: device.texts(PLAIN_TEXT) == ["moved"])
