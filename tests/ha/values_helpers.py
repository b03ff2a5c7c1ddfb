"""Helpers of the number, select, scene, button and text tests: the demo home's value and
scene actuators (docs/DEMO.md: 1.1.9 on the Data Secure 1/6/x, 1.1.10 scenes on 1/6/21,
1.1.11 on the plain 2/6/x) behind the virtual gateway, the gateway entry, and the forms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.devices import DEVICE_KINDS, SceneActuator, ValueActuator

from .conftest import (
    DEMO_KEYRING_BYTES,
    DEMO_KEYRING_PASSWORD,
    UploadFile,
    async_add_gateway_entry,
    async_add_subentry,
    entity_id_for,
)

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway


def ga(text: str) -> GroupAddress:
    return GroupAddress.parse(text)


def attach_values(
    gateway: VirtualGateway, address: str, objects: list[dict[str, Any]]
) -> ValueActuator:
    """A value actuator with these objects behind the gateway."""
    device = DEVICE_KINDS["value_actuator"](
        IndividualAddress.parse(address),
        gateway.keyring,
        gateway.bus,
        {"objects": objects},
        status_delay=0.05,
    )
    assert isinstance(device, ValueActuator)
    gateway.add_device(device)
    return device


def attach_scenes(gateway: VirtualGateway, scene: str = "1/6/21") -> SceneActuator:
    device = DEVICE_KINDS["scene_actuator"](
        IndividualAddress.parse("1.1.10"),
        gateway.keyring,
        gateway.bus,
        {"scene": scene},
        status_delay=0.05,
    )
    assert isinstance(device, SceneActuator)
    gateway.add_device(device)
    return device


async def demo_entry(
    hass: HomeAssistant, gateway: VirtualGateway, upload: UploadFile
) -> ConfigEntry:
    return await async_add_gateway_entry(
        hass, gateway, upload, keyring_source=DEMO_KEYRING_BYTES, password=DEMO_KEYRING_PASSWORD
    )


async def add_entity(
    hass: HomeAssistant, entry: ConfigEntry, subentry_type: str, data: dict[str, Any]
) -> tuple[str, str]:
    """Add a subentry through its flow; return its id and its entity's id."""
    subentry_id = await async_add_subentry(hass, entry, subentry_type, data)
    return subentry_id, entity_id_for(hass, entry, subentry_id, subentry_type)


async def submit_form(
    hass: HomeAssistant, entry: ConfigEntry, subentry_type: str, data: dict[str, Any]
) -> Any:
    """The subentry form submitted once: the form again with errors, or a confirm step."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, subentry_type), context={"source": SOURCE_USER}
    )
    return await hass.config_entries.subentries.async_configure(result["flow_id"], data)


async def reconfigure(
    hass: HomeAssistant,
    entry: ConfigEntry,
    subentry_type: str,
    subentry_id: str,
    data: dict[str, Any],
) -> None:
    """Change a subentry through its reconfigure flow; the entity keeps its unique id."""
    entity_id = entity_id_for(hass, entry, subentry_id, subentry_type)
    before = er.async_get(hass).async_get(entity_id)
    assert before is not None
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, subentry_type),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], data)
    assert result["step_id"].startswith("confirm"), result
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entity_id_for(hass, entry, subentry_id, subentry_type) == entity_id
    after = er.async_get(hass).async_get(entity_id)
    assert after is not None
    assert after.unique_id == before.unique_id
