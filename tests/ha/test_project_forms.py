"""The imported ETS project in the subentry forms: every address field a searchable picker
of the project's addresses, a first step that pre-fills the form from an ETS function or an
address, and an empty name or type taken from the project at submit."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import selector

from custom_components.knx_secure.const import (
    CONF_STATE_ADDRESS,
    CONF_VALUE_TYPE,
    CONF_WRITE_ADDRESS,
    SUBENTRY_LIGHT,
    SUBENTRY_SENSOR,
    SUBENTRY_SWITCH,
)
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.project import Project
from custom_components.knx_secure.subentries import SUBENTRY_FLOWS
from custom_components.knx_secure.subentries.base import GroupAddressSubentryFlow, address_selector
from custom_components.knx_secure.subentries.project_entities import SUBENTRY_PROJECT_ENTITIES

from .conftest import UploadFile
from .demo_project import LIGHT_FUNCTION, async_add_demo_entry, async_give_project, demo_project

PLATFORMS = sorted(set(SUBENTRY_FLOWS) - {SUBENTRY_PROJECT_ENTITIES})


@pytest.fixture
async def entry(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> ConfigEntry:
    """The demo gateway's entry with the demo home's project."""
    entry = await async_add_demo_entry(hass, demo_gateway, upload_file)
    await async_give_project(hass, entry)
    return entry


async def _start(hass: HomeAssistant, entry: ConfigEntry, platform: str) -> dict[str, Any]:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, platform), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "from_project", result
    return dict(result)


async def _form(
    hass: HomeAssistant, entry: ConfigEntry, platform: str, source: str | None = None
) -> dict[str, Any]:
    """The platform's form, after the first step (started from source, or from nothing)."""
    result = await _start(hass, entry, platform)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {} if source is None else {"project_source": source}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user", result
    return dict(result)


async def _submit(
    hass: HomeAssistant, entry: ConfigEntry, platform: str, data: dict[str, Any]
) -> dict[str, Any]:
    """Skip the first step and submit the form with data: the next step."""
    result = await _form(hass, entry, platform)
    return dict(await hass.config_entries.subentries.async_configure(result["flow_id"], data))


def _field(result: dict[str, Any], key: str) -> tuple[Any, Any]:
    """A form field's marker and selector."""
    (marker,) = (marker for marker in result["data_schema"].schema if str(marker) == key)
    return marker, result["data_schema"].schema[marker]


def _suggested(result: dict[str, Any]) -> dict[str, Any]:
    return {
        str(marker): marker.description["suggested_value"]
        for marker in result["data_schema"].schema
        if marker.description and "suggested_value" in marker.description
    }


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_every_address_field_is_a_picker(
    hass: HomeAssistant, entry: ConfigEntry, platform: str
) -> None:
    """Every address field of every form picks from the project, sorted by address, and
    takes a typed address too; every field named like an address is one the flow checks."""
    result = await _form(hass, entry, platform)
    flow = SUBENTRY_FLOWS[platform]
    assert issubclass(flow, GroupAddressSubentryFlow)
    keys = (*flow.required_addresses, *flow.optional_addresses)
    assert keys
    named = {str(m) for m in result["data_schema"].schema if str(m).endswith("_address")}
    assert named == set(keys)
    for key in keys:
        _, picker = _field(result, key)
        assert isinstance(picker, selector.SelectSelector), key
        assert picker.config["custom_value"] is True
        options = picker.config["options"]
        values = [option["value"] for option in options]
        assert len(values) == 91
        assert values[:4] == ["1/1/1", "1/1/2", "1/2/1", "1/2/2"]
        # bus order: 1/2/11 after 1/2/4, main group 3 last
        assert values.index("1/2/11") == values.index("1/2/4") + 1
        assert values[-4:] == ["3/1/1", "3/1/2", "3/1/3", "3/1/4"]
        labels = {option["value"]: option["label"] for option in options}
        assert labels["1/2/1"] == "1/2/1 · Living room light switch · 1.001"
        assert labels["3/1/3"] == "3/1/3 · Garden spare (no type)"  # no type: none shown
        assert labels["3/1/4"] == "3/1/4 · Garden pump power · 14"


async def test_without_project_the_forms_stay_text_fields(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    entry = await async_add_demo_entry(hass, demo_gateway, upload_file)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_SWITCH), context={"source": SOURCE_USER}
    )
    assert result["step_id"] == "user"
    _, field = _field(dict(result), CONF_WRITE_ADDRESS)
    assert isinstance(field, selector.TextSelector)
    marker, _ = _field(dict(result), CONF_NAME)
    assert str(marker) == CONF_NAME
    assert type(marker).__name__ == "Required"


async def test_typed_addresses_are_still_accepted(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """An address outside the project, typed in any form, is saved as typed."""
    result = await _submit(
        hass,
        entry,
        SUBENTRY_SWITCH,
        {CONF_NAME: "Typed", CONF_WRITE_ADDRESS: "3/3/3", CONF_STATE_ADDRESS: "2/1/2"},
    )
    assert result["step_id"].startswith("confirm"), result
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (subentry,) = (s for s in entry.subentries.values() if s.title == "Typed")
    assert subentry.data[CONF_WRITE_ADDRESS] == "3/3/3"
    assert subentry.data[CONF_STATE_ADDRESS] == "2/1/2"
    # a wrong address is refused as before
    result = await _form(hass, entry, SUBENTRY_SWITCH)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Bad", CONF_WRITE_ADDRESS: "32/0/0"}
    )
    assert result["errors"] == {CONF_WRITE_ADDRESS: "invalid_group_address"}


async def test_start_from_an_address_fills_address_name_and_type(
    hass: HomeAssistant, entry: ConfigEntry
) -> None:
    result = await _form(hass, entry, SUBENTRY_SENSOR, "1/5/1")
    assert _suggested(result) == {
        CONF_NAME: "Outdoor temperature",
        CONF_STATE_ADDRESS: "1/5/1",
        CONF_VALUE_TYPE: "9.001",
    }
    # a typed address the project does not have: the main address, nothing else
    result = await _form(hass, entry, SUBENTRY_SWITCH, "3/3/3")
    assert _suggested(result) == {CONF_WRITE_ADDRESS: "3/3/3"}
    result = await _form(hass, entry, SUBENTRY_SWITCH, "not an address")
    assert _suggested(result) == {}
    # an address another platform would make (a switch's address in the sensor form):
    # the address and its name, and its type only when the type list holds it
    result = await _form(hass, entry, SUBENTRY_SENSOR, "2/1/1")
    assert _suggested(result) == {
        CONF_NAME: "Hall light switch (plain)",
        CONF_STATE_ADDRESS: "2/1/1",
    }
    result = await _form(hass, entry, SUBENTRY_SWITCH, "2/1/2")
    assert _suggested(result) == {
        CONF_NAME: "Hall light status (plain)",
        CONF_WRITE_ADDRESS: "2/1/2",
    }


async def test_start_from_a_function_fills_every_role(
    hass: HomeAssistant, entry: ConfigEntry
) -> None:
    """The light form offers the light functions (not the blind or the heating), sorted by
    name, and fills all roles."""
    result = await _start(hass, entry, SUBENTRY_LIGHT)
    _, picker = _field(result, "project_source")
    labels = [option["label"] for option in picker.config["options"]]
    assert labels[:6] == [  # functions first, then the addresses
        "Garden light · Outside",
        "Hall light · Hall",
        "Kitchen colour light · Kitchen",
        "Living room light · Living room",
        "Seed light · Hall",
        "1/1/1 · Seed actuator switch · 1.001",
    ]
    result = await _form(hass, entry, SUBENTRY_LIGHT, LIGHT_FUNCTION)
    assert _suggested(result) == {
        CONF_NAME: "Living room light",
        "switch_address": "1/2/1",
        "switch_state_address": "1/2/2",
        "brightness_address": "1/2/3",
        "brightness_state_address": "1/2/4",
    }


async def test_empty_name_and_type_come_from_the_project(
    hass: HomeAssistant, entry: ConfigEntry
) -> None:
    """With a project the name and the sensor's type may be left empty: the project
    gives them at submit; an address without a type in the project asks for one."""
    result = await _form(hass, entry, SUBENTRY_SENSOR)
    marker, _ = _field(result, CONF_VALUE_TYPE)
    assert type(marker).__name__ == "Optional"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_STATE_ADDRESS: "1/5/2"}
    )
    assert result["step_id"].startswith("confirm"), result
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    (subentry,) = (s for s in entry.subentries.values() if s.subentry_type == SUBENTRY_SENSOR)
    assert subentry.title == "Outdoor humidity"
    assert subentry.data[CONF_VALUE_TYPE] == "9.007"
    result = await _submit(hass, entry, SUBENTRY_SENSOR, {CONF_STATE_ADDRESS: "3/1/3"})
    assert result["errors"] == {CONF_VALUE_TYPE: "invalid_value_type"}
    # a typed address the project does not know: the name stays required
    result = await _submit(
        hass, entry, SUBENTRY_SENSOR, {CONF_STATE_ADDRESS: "3/3/3", CONF_VALUE_TYPE: "9.001"}
    )
    assert result["errors"] == {CONF_NAME: "name_required"}


async def test_reconfigure_shows_the_picker_with_the_saved_address(
    hass: HomeAssistant, entry: ConfigEntry
) -> None:
    subentry_id = await _add_switch_by_hand(hass, entry)
    result = await start_reconfigure(hass, entry, SUBENTRY_SWITCH, subentry_id)
    assert result["step_id"] == SOURCE_RECONFIGURE
    assert _suggested(dict(result))[CONF_WRITE_ADDRESS] == "2/1/1"
    _, picker = _field(dict(result), CONF_WRITE_ADDRESS)
    assert isinstance(picker, selector.SelectSelector)


async def start_reconfigure(
    hass: HomeAssistant, entry: ConfigEntry, platform: str, subentry_id: str
) -> dict[str, Any]:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, platform),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    return dict(result)


async def _add_switch_by_hand(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """Skip the first step and fill the form as without a project."""
    result = await _submit(
        hass, entry, SUBENTRY_SWITCH, {CONF_NAME: "Hall", CONF_WRITE_ADDRESS: "2/1/1"}
    )
    before = set(entry.subentries)
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (subentry_id,) = set(entry.subentries) - before
    return subentry_id


async def test_hand_made_subentries_still_work_with_a_project(
    hass: HomeAssistant, entry: ConfigEntry
) -> None:
    """A project does not change what a hand-filled form saves."""
    subentry_id = await _add_switch_by_hand(hass, entry)
    assert dict(entry.subentries[subentry_id].data) == {
        CONF_NAME: "Hall",
        CONF_WRITE_ADDRESS: "2/1/1",
        "invert": False,
        "respond_to_read": False,
    }


def test_the_picker_is_built_once_per_project() -> None:
    """A form's two dozen address fields, and every form of the entry, share the options a
    project of thousands of addresses sorts once; an imported project gets its own."""
    project = demo_project()
    picker = address_selector(project)
    assert address_selector(project) is picker
    reimported = Project.from_dict(project.as_dict())
    assert address_selector(reimported) is not picker
    assert address_selector(reimported).config == picker.config
    assert isinstance(address_selector(None), selector.TextSelector)
