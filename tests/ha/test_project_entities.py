"""Entities from the imported ETS project: the inference rules (``project_entities``, on
their own) and the "Add entities from the ETS project" flow, whose entities work against
the demo home's devices behind the virtual gateway and reconfigure like hand-made ones."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.const import CONF_DEVICE_CLASS, CONF_NAME, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.knx_secure.const import (
    CONF_STATE_ADDRESS,
    CONF_VALUE_TYPE,
    CONF_WRITE_ADDRESS,
    SUBENTRY_BINARY_SENSOR,
    SUBENTRY_CLIMATE,
    SUBENTRY_COVER,
    SUBENTRY_LIGHT,
    SUBENTRY_SCENE,
    SUBENTRY_SENSOR,
    SUBENTRY_SWITCH,
)
from custom_components.knx_secure.knx.devices import Dimmer
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.project import (
    Project,
    ProjectAddress,
    ProjectFunction,
    project_from_knxproject,
)
from custom_components.knx_secure.project_entities import (
    Suggestion,
    function_platform,
    suggest_entities,
    suggest_for_address,
    suggest_for_function,
)
from custom_components.knx_secure.subentries.project_entities import (
    SUBENTRY_PROJECT_ENTITIES,
    complete_data,
)

from ..helpers import wait_for
from .conftest import UploadFile, entity_id_for, state_of
from .demo_project import (
    BLIND_FUNCTION,
    COLOUR_LIGHT_FUNCTION,
    HEATING_FUNCTION,
    LIGHT_FUNCTION,
    async_add_demo_entry,
    async_give_project,
    demo_project,
)
from .test_light import demo_device, shows, turn_on
from .test_sensor import _attach as attach_sensor

# --- the inference rules ----------------------------------------------------------------


def _project(
    addresses: dict[str, tuple[str, str | None]],
    functions: tuple[ProjectFunction, ...] = (),
    writable: dict[str, bool] | None = None,
) -> Project:
    flags = writable or {}
    return Project(
        name="Rules",
        addresses={
            a: ProjectAddress(a, name, dpt=dpt, writable=flags.get(a))
            for a, (name, dpt) in addresses.items()
        },
        functions={f.identifier: f for f in functions},
    )


def _only(suggestions: list[Suggestion]) -> Suggestion:
    (suggestion,) = suggestions
    return suggestion


def test_the_ets6_projects_functions() -> None:
    """Each function of the ETS 6 fixture, read by the parser: FT-1 and FT-6 lights (the
    colour light's role-less addresses by their types), the FT-7 blind (roles first, then
    the role-less position and slat commands by type and name; 1.017 as the project types
    the stop), the FT-9 heating (role-less statuses by their names)."""
    project = demo_project()
    found = {
        identifier: [(s.platform, s.name, dict(s.data), s.unused) for s in suggestions]
        for identifier, function in project.functions.items()
        if (suggestions := suggest_for_function(project, function))
    }
    light, cover, climate = SUBENTRY_LIGHT, SUBENTRY_COVER, SUBENTRY_CLIMATE
    assert found == {
        "F-1": [
            (light, "Seed light", {"switch_address": "1/1/1", "switch_state_address": "1/1/2"}, ())
        ],
        "F-2": [
            (light, "Hall light", {"switch_address": "2/1/1", "switch_state_address": "2/1/2"}, ())
        ],
        LIGHT_FUNCTION: [
            (
                light,
                "Living room light",
                {
                    "switch_address": "1/2/1",
                    "switch_state_address": "1/2/2",
                    "brightness_address": "1/2/3",
                    "brightness_state_address": "1/2/4",
                },
                (),
            )
        ],
        BLIND_FUNCTION: [
            (
                cover,
                "Living room blind",
                {
                    "up_down_address": "1/3/1",
                    "stop_address": "1/3/2",
                    "stop_dpt": "1.017",
                    "position_state_address": "1/3/4",
                    "angle_state_address": "1/3/6",
                    "position_address": "1/3/3",
                    "angle_address": "1/3/5",
                },
                (),
            )
        ],
        HEATING_FUNCTION: [
            (
                climate,
                "Living room heating",
                {
                    "temperature_address": "1/4/1",
                    "target_temperature_address": "1/4/2",
                    "operation_mode_address": "1/4/4",
                    "target_temperature_state_address": "1/4/3",
                    "operation_mode_state_address": "1/4/5",
                },
                (),
            )
        ],
        COLOUR_LIGHT_FUNCTION: [
            (
                light,
                "Kitchen colour light",
                {
                    "switch_address": "1/2/11",
                    "switch_state_address": "1/2/12",
                    "brightness_address": "1/2/13",
                    "brightness_state_address": "1/2/14",
                    "color_address": "1/2/15",
                    "color_type": "232.600",
                    "color_state_address": "1/2/16",
                    "color_temperature_address": "1/2/17",
                    "color_temperature_type": "7.600",
                    "color_temperature_state_address": "1/2/18",
                },
                (),
            )
        ],
        "F-7": [
            (
                light,
                "Garden light",
                {"switch_address": "3/1/1", "switch_state_address": "3/1/2"},
                (),
            )
        ],
    }


def test_roles_win_and_what_fills_no_field_is_unused() -> None:
    """An ETS role beats a type guess; a second address for a taken field is unused."""
    project = _project({"0/0/1": ("A", "1.001"), "0/0/2": ("B", "1.001"), "0/0/3": ("C", "1.001")})
    function = ProjectFunction(
        "F-1",
        "Hall",
        "FT-1",
        addresses=(("", "0/0/1"), ("SwitchOnOff", "0/0/2"), ("", "0/0/3")),
    )
    light = _only(suggest_for_function(project, function))
    assert light.data == {"switch_address": "0/0/2"}
    assert light.unused == ("0/0/1", "0/0/3")


def test_switchable_and_old_dimmable_light() -> None:
    """FT-1 is a switched light; FT-2's one brightness address carries the status role
    (InfoDimmingValue) but is its value; relative dimming (DimmingControl) is unused."""
    project = _project(
        {"0/0/1": ("On", "1.001"), "0/0/2": ("Dim", "3.007"), "0/0/3": ("Value", "5.001")}
    )
    switched = ProjectFunction("F-1", "Hall", "FT-1", addresses=(("SwitchOnOff", "0/0/1"),))
    assert _only(suggest_for_function(project, switched)).data == {"switch_address": "0/0/1"}
    dimmable = ProjectFunction(
        "F-2",
        "Desk",
        "FT-2",
        addresses=(
            ("SwitchOnOff", "0/0/1"),
            ("DimmingControl", "0/0/2"),
            ("InfoDimmingValue", "0/0/3"),
        ),
    )
    light = _only(suggest_for_function(project, dimmable))
    assert light.data == {"switch_address": "0/0/1", "brightness_address": "0/0/3"}
    assert light.unused == ("0/0/2",)


def test_a_stop_role_without_a_stop_type_is_a_step() -> None:
    """ETS's stop/step role is typed 1.007 (a step) in its function types: without a
    project type of 1.017 the cover's stop address steps."""
    project = _project({"0/0/1": ("Move", "1.008"), "0/0/2": ("Stop", None)})
    blind = ProjectFunction(
        "F-1", "Blind", "FT-3", addresses=(("MoveUpDown", "0/0/1"), ("StopStepUpDown", "0/0/2"))
    )
    assert _only(suggest_for_function(project, blind)).data == {
        "up_down_address": "0/0/1",
        "stop_address": "0/0/2",
        "stop_dpt": "1.007",
    }


def test_custom_functions_by_their_types() -> None:
    """FT-0 (custom): an up/down makes a cover, a switch with a brightness a light, a
    setpoint a climate; anything else its addresses one by one."""
    project = _project(
        {
            "0/0/1": ("Switch", "1.001"),
            "0/0/2": ("Brightness status", "5.001"),
            "0/0/3": ("Brightness", "5.001"),
            "0/1/1": ("Move", "1.008"),
            "0/2/1": ("Room temperature", "9.001"),
            "0/2/2": ("Setpoint", "9.001"),
            "0/3/1": ("Outside", "9.001"),
            "0/3/2": ("Wind", "9.005"),
        }
    )

    def custom(*addresses: str) -> ProjectFunction:
        return ProjectFunction("F-9", "Custom", "FT-0", addresses=tuple(("", a) for a in addresses))

    light = custom("0/0/1", "0/0/2", "0/0/3")
    assert function_platform(project, light) == SUBENTRY_LIGHT
    assert _only(suggest_for_function(project, light)).data == {
        "switch_address": "0/0/1",
        "brightness_state_address": "0/0/2",
        "brightness_address": "0/0/3",
    }
    assert function_platform(project, custom("0/1/1")) == SUBENTRY_COVER
    heating = _only(suggest_for_function(project, custom("0/2/1", "0/2/2")))
    assert heating.platform == SUBENTRY_CLIMATE
    assert heating.data == {
        "temperature_address": "0/2/1",
        "target_temperature_address": "0/2/2",
    }
    weather = suggest_for_function(project, custom("0/3/1", "0/3/2"))
    assert [(s.platform, s.name, s.data[CONF_VALUE_TYPE]) for s in weather] == [
        (SUBENTRY_SENSOR, "Outside", "9.001"),
        (SUBENTRY_SENSOR, "Wind", "9.005"),
    ]


def test_a_light_without_a_switch_is_no_light() -> None:
    project = _project({"0/0/3": ("Brightness", "5.001")})
    function = ProjectFunction("F-1", "Half", "FT-6", addresses=(("DimmingValue", "0/0/3"),))
    assert suggest_for_function(project, function) == []


@pytest.mark.parametrize(
    ("name", "dpt", "writable", "platform", "data"),
    [
        (
            "Outside",
            "9.001",
            None,
            SUBENTRY_SENSOR,
            {CONF_STATE_ADDRESS: "0/0/1", CONF_VALUE_TYPE: "9.001"},
        ),
        (
            "Meter",
            "13.013",
            None,
            SUBENTRY_SENSOR,
            {CONF_STATE_ADDRESS: "0/0/1", CONF_VALUE_TYPE: "13.013"},
        ),
        ("Hall light", "1.001", None, SUBENTRY_SWITCH, {CONF_WRITE_ADDRESS: "0/0/1"}),
        ("Hall light", "1", None, SUBENTRY_SWITCH, {CONF_WRITE_ADDRESS: "0/0/1"}),
        ("Hall light status", "1.001", None, SUBENTRY_BINARY_SENSOR, {CONF_STATE_ADDRESS: "0/0/1"}),
        ("Hall light", "1.001", False, SUBENTRY_BINARY_SENSOR, {CONF_STATE_ADDRESS: "0/0/1"}),
        ("Hall light status", "1.001", True, SUBENTRY_SWITCH, {CONF_WRITE_ADDRESS: "0/0/1"}),
        (
            "Window",
            "1.019",
            None,
            SUBENTRY_BINARY_SENSOR,
            {CONF_STATE_ADDRESS: "0/0/1", CONF_DEVICE_CLASS: "window"},
        ),
        ("Alarm", "1.005", None, SUBENTRY_BINARY_SENSOR, {CONF_STATE_ADDRESS: "0/0/1"}),
        ("Blind", "1.008", None, SUBENTRY_COVER, {"up_down_address": "0/0/1"}),
        ("Scene", "17.001", None, SUBENTRY_SCENE, {"scene_address": "0/0/1", "scene_number": 1}),
        ("Clock", "10.001", None, "time", {CONF_WRITE_ADDRESS: "0/0/1"}),
    ],
)
def test_lone_addresses(
    name: str, dpt: str, writable: bool | None, platform: str, data: dict[str, Any]
) -> None:
    """A lone 9.001 is a sensor; a lone 1.001 a switch, or a binary sensor when no device
    writes it (the project's flags) or, without flags, when its name says status."""
    project = _project(
        {"0/0/1": (name, dpt)}, writable={"0/0/1": writable} if writable is not None else None
    )
    suggestion = suggest_for_address(project, "0/0/1")
    assert suggestion is not None
    assert (suggestion.platform, dict(suggestion.data), suggestion.name) == (platform, data, name)


def test_addresses_that_make_nothing() -> None:
    project = _project({"0/0/1": ("Spare", None), "0/0/2": ("Dimming", "3.007")})
    assert suggest_for_address(project, "0/0/1") is None  # no type
    assert suggest_for_address(project, "0/0/2") is None  # relative dimming: no platform
    assert suggest_for_address(project, "9/9/9") is None  # not in the project


def test_picked_addresses_of_a_picked_function_add_nothing() -> None:
    suggestions = suggest_entities(
        demo_project(), [LIGHT_FUNCTION, "F-404"], ["1/2/1", "1/5/1", "3/1/3"]
    )
    assert [(s.platform, s.source) for s in suggestions] == [
        (SUBENTRY_LIGHT, LIGHT_FUNCTION),
        (SUBENTRY_SENSOR, "1/5/1"),
    ]


def test_suggestions_complete_to_what_the_forms_save() -> None:
    """The flow gives each suggestion the form's defaults and checks (a switch gets its
    invert option; the light its colour defaults)."""
    project = demo_project()
    (switch,) = suggest_entities(project, [], ["2/1/1"])
    assert complete_data(switch) == {
        CONF_NAME: "Hall light switch (plain)",
        CONF_WRITE_ADDRESS: "2/1/1",
        "invert": False,
        "respond_to_read": False,
    }
    light = complete_data(_only(suggest_for_function(project, project.functions[LIGHT_FUNCTION])))
    assert light is not None
    assert light["color_temperature_type"] == "7.600"
    # a suggestion the form would refuse (a light state without its address) is dropped
    refused = Suggestion(SUBENTRY_LIGHT, "Bad", {"switch_state_address": "1/2/2"}, "x")
    assert complete_data(refused) is None


# --- the flow ---------------------------------------------------------------------------


@pytest.fixture
async def dimmer(demo_gateway: VirtualGateway) -> Dimmer:
    """The living room dimmer of the demo home behind the gateway."""
    dimmer = demo_device(demo_gateway, "1.1.2")
    assert isinstance(dimmer, Dimmer)
    dimmer.spec = replace(dimmer.spec, dim_time=0)  # no waiting for the dimming in tests
    return dimmer


@pytest.fixture
async def entry(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile, dimmer: Dimmer
) -> ConfigEntry:
    """The demo gateway with the living room dimmer and the outdoor temperature sensor,
    and the entry with the demo home's project."""
    attach_sensor(
        demo_gateway,
        "1.1.6",
        {"values": [{"address": "1/5/1", "dpt": "9.001", "value": 8.5}]},
    )
    entry = await async_add_demo_entry(hass, demo_gateway, upload_file)
    await async_give_project(hass, entry)
    return entry


async def _start(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, Any]:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_PROJECT_ENTITIES), context={"source": SOURCE_USER}
    )
    return dict(result)


async def _review(
    hass: HomeAssistant, entry: ConfigEntry, functions: list[str], addresses: list[str]
) -> dict[str, Any]:
    result = await _start(hass, entry)
    assert result["step_id"] == "user"
    result = dict(
        await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"functions": functions, "addresses": addresses}
        )
    )
    assert result["step_id"] == "review", result
    return result


def _review_options(result: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The review's entities (value: label) and the ones ticked."""
    (marker,) = result["data_schema"].schema
    options = result["data_schema"].schema[marker].config["options"]
    return {o["value"]: o["label"] for o in options}, list(marker.default())


async def test_light_and_sensor_created_in_one_go_work(
    hass: HomeAssistant, entry: ConfigEntry, dimmer: Dimmer
) -> None:
    """Pick the dimmer's function and the outdoor temperature: one light with all four
    addresses and one 9.001 sensor, both working against the devices."""
    result = await _review(hass, entry, [LIGHT_FUNCTION], ["1/5/1"])
    options, ticked = _review_options(result)
    assert list(options.values()) == [
        "light · Living room light · switch 1/2/1, switch status 1/2/2, brightness 1/2/3,"
        " brightness status 1/2/4",
        "sensor · Outdoor temperature · state 1/5/1",
    ]
    assert ticked == list(options)
    result = dict(
        await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"entities": ticked}
        )
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entities_created"
    assert result["description_placeholders"] == {
        "count": "2",
        "names": "Living room light, Outdoor temperature",
    }
    await hass.async_block_till_done()
    subentries = {s.subentry_type: s for s in entry.subentries.values()}
    assert set(subentries) == {SUBENTRY_LIGHT, SUBENTRY_SENSOR}
    assert subentries[SUBENTRY_SENSOR].data[CONF_VALUE_TYPE] == "9.001"
    light = entity_id_for(hass, entry, subentries[SUBENTRY_LIGHT].subentry_id, "light")
    sensor = entity_id_for(hass, entry, subentries[SUBENTRY_SENSOR].subentry_id, "sensor")
    await wait_for(lambda: state_of(hass, sensor) == "8.5")
    await wait_for(lambda: state_of(hass, light) not in (None, STATE_UNAVAILABLE))
    await turn_on(hass, light, brightness=77)
    assert dimmer.brightness == 77
    await wait_for(lambda: shows(hass, light, "on", brightness=77))


async def test_entities_created_in_one_go_reload_the_entry_once(
    hass: HomeAssistant, entry: ConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each added subentry calls the entry's update listener (eagerly, inside the add):
    one reload must take them all, not one reload (a reconnect) per entity."""
    reloads: list[str] = []
    reload = hass.config_entries.async_reload

    async def counting_reload(entry_id: str) -> bool:
        reloads.append(entry_id)
        return await reload(entry_id)

    monkeypatch.setattr(hass.config_entries, "async_reload", counting_reload)
    result = await _review(hass, entry, [LIGHT_FUNCTION, BLIND_FUNCTION], ["1/5/1", "2/1/1"])
    _, ticked = _review_options(result)
    assert len(ticked) == 4
    result = dict(
        await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"entities": ticked}
        )
    )
    assert result["reason"] == "entities_created"
    await hass.async_block_till_done()
    assert len(entry.subentries) == 4
    assert reloads == [entry.entry_id]


async def test_created_light_reconfigures_like_a_hand_made_one(
    hass: HomeAssistant, entry: ConfigEntry
) -> None:
    result = await _review(hass, entry, [LIGHT_FUNCTION], [])
    result = dict(
        await hass.config_entries.subentries.async_configure(result["flow_id"], {"entities": ["0"]})
    )
    assert result["reason"] == "entities_created"
    await hass.async_block_till_done()
    (subentry,) = entry.subentries.values()
    result = dict(
        await hass.config_entries.subentries.async_init(
            (entry.entry_id, SUBENTRY_LIGHT),
            context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id},
        )
    )
    assert result["step_id"] == SOURCE_RECONFIGURE
    data = {**subentry.data, CONF_NAME: "Ceiling", "brightness_state_address": "1/2/3"}
    result = dict(await hass.config_entries.subentries.async_configure(result["flow_id"], data))
    assert result["step_id"].startswith("confirm"), result
    result = dict(await hass.config_entries.subentries.async_configure(result["flow_id"], {}))
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.subentries[subentry.subentry_id].title == "Ceiling"
    assert entry.subentries[subentry.subentry_id].data["brightness_state_address"] == "1/2/3"


async def test_review_unticks_what_is_configured_and_needs_a_tick(
    hass: HomeAssistant, entry: ConfigEntry
) -> None:
    result = await _review(hass, entry, [LIGHT_FUNCTION], ["1/5/1"])
    result = dict(
        await hass.config_entries.subentries.async_configure(result["flow_id"], {"entities": ["1"]})
    )
    assert result["reason"] == "entities_created"
    await hass.async_block_till_done()
    result = await _review(hass, entry, [LIGHT_FUNCTION], ["1/5/1"])
    _, ticked = _review_options(result)
    assert ticked == ["0"]  # the sensor exists already
    result = dict(
        await hass.config_entries.subentries.async_configure(result["flow_id"], {"entities": []})
    )
    assert result["errors"] == {"base": "nothing_chosen"}


async def test_pick_errors(hass: HomeAssistant, entry: ConfigEntry) -> None:
    result = await _start(hass, entry)
    result = dict(await hass.config_entries.subentries.async_configure(result["flow_id"], {}))
    assert result["errors"] == {"base": "nothing_picked"}
    result = dict(
        await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"addresses": ["3/1/3"]}
        )
    )
    assert result["errors"] == {"base": "nothing_inferred"}


async def test_without_project_the_flow_says_how_to_get_one(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    entry = await async_add_demo_entry(hass, demo_gateway, upload_file)
    result = await _start(hass, entry)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_project"


# --- the project's flags ----------------------------------------------------------------


def _object(links: list[str], *, write: bool) -> dict[str, Any]:
    flags = dict.fromkeys(("read", "communication", "transmit", "update", "read_on_init"), True)
    return {"group_address_links": links, "flags": {**flags, "write": write}}


def _address(raw: int, name: str) -> dict[str, Any]:
    return {
        "raw_address": raw,
        "name": name,
        "description": "",
        "dpt": {"main": 1, "sub": 1},
        "data_secure": False,
    }


def test_flags_of_the_linked_objects_tell_switch_from_status() -> None:
    """An address a device's object can write is an actuator's input (a switch); one
    only read or transmitted is a status (a binary sensor, whatever its name); without
    linked objects the name decides. Stored projects keep the flag."""
    knxproject: Any = {
        "info": {"name": "Flags", "created_by": "ETS6", "schema_version": "22", "tool_version": ""},
        "group_addresses": {
            "0/0/1": _address(1, "Lamp"),
            "0/0/2": _address(2, "Lamp feedback"),
            "0/0/3": _address(3, "Lamp"),
            "0/0/4": _address(4, "Lamp status"),
        },
        "communication_objects": {
            "1.1.1/O-1": _object(["0/0/1", "0/0/2"], write=True),  # the actuator's input
            "1.1.1/O-2": _object(["0/0/2", "0/0/3"], write=False),  # its status object
        },
        "devices": {},
        "locations": {},
        "functions": {},
    }
    project = project_from_knxproject(knxproject)
    writable = {a.address: a.writable for a in project.addresses.values()}
    assert writable == {"0/0/1": True, "0/0/2": True, "0/0/3": False, "0/0/4": None}
    platforms = {a: s.platform for a in writable if (s := suggest_for_address(project, a))}
    assert platforms == {
        "0/0/1": SUBENTRY_SWITCH,
        "0/0/2": SUBENTRY_SWITCH,  # its name says feedback, its flags say switch
        "0/0/3": SUBENTRY_BINARY_SENSOR,
        "0/0/4": SUBENTRY_BINARY_SENSOR,
    }
    assert Project.from_dict(project.as_dict()) == project
    # a project stored before the flag was kept reads as "not known"
    old = project.as_dict()
    old["addresses"] = [row[:5] for row in old["addresses"]]
    assert {a.writable for a in Project.from_dict(old).addresses.values()} == {None}
