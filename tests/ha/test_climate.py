"""Climate: a room controller of the demo home (1.1.5, 1/4/1..1/4/9) behind the virtual
gateway, driven through the real secure tunnel; heat/cool and the setpoint shift on plain
addresses of main group 2."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from homeassistant.components.climate.const import (
    ATTR_CURRENT_TEMPERATURE,
    ATTR_HVAC_ACTION,
    ATTR_HVAC_MODE,
    ATTR_HVAC_MODES,
    ATTR_PRESET_MODE,
    ATTR_PRESET_MODES,
    SERVICE_SET_HVAC_MODE,
    SERVICE_SET_PRESET_MODE,
    SERVICE_SET_TEMPERATURE,
    ClimateEntityFeature,
    HVACAction,
    HVACMode,
)
from homeassistant.components.climate.const import DOMAIN as CLIMATE
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_SUPPORTED_FEATURES,
    ATTR_TEMPERATURE,
    CONF_NAME,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import mock_restore_cache

from custom_components.knx_secure.const import (
    CONF_CONTROLLER_MODE_ADDRESS,
    CONF_CONTROLLER_MODE_STATE_ADDRESS,
    CONF_CONTROLLER_MODES,
    CONF_HEAT_COOL_ADDRESS,
    CONF_HEAT_COOL_STATE_ADDRESS,
    CONF_INVERT,
    CONF_MAX_TEMP,
    CONF_MIN_TEMP,
    CONF_ON_OFF_ADDRESS,
    CONF_ON_OFF_STATE_ADDRESS,
    CONF_OPERATION_MODE_ADDRESS,
    CONF_OPERATION_MODE_STATE_ADDRESS,
    CONF_SETPOINT_SHIFT_ADDRESS,
    CONF_SETPOINT_SHIFT_DPT,
    CONF_SETPOINT_SHIFT_STATE_ADDRESS,
    CONF_TARGET_TEMPERATURE_ADDRESS,
    CONF_TARGET_TEMPERATURE_STATE_ADDRESS,
    CONF_TEMPERATURE_ADDRESS,
    CONF_TEMPERATURE_STEP,
    SUBENTRY_CLIMATE,
)
from custom_components.knx_secure.knx.address import IndividualAddress
from custom_components.knx_secure.knx.devices import DEVICE_KINDS, RoomController
from custom_components.knx_secure.knx.gateway import VirtualGateway

from ..helpers import wait_for
from .conftest import (
    DEMO_KEYRING_BYTES,
    DEMO_KEYRING_PASSWORD,
    UploadFile,
    assert_gateway_dropped_nothing,
    async_add_gateway_entry,
    async_add_subentry,
    entity_id_for,
    state_of,
)

CONTROLLER = IndividualAddress.parse("1.1.5")
#: The demo home's room controller (docs/DEMO.md) plus heat/cool and a setpoint shift on
#: plain addresses (no key in the demo keyring).
DEVICE_SPEC: dict[str, Any] = {
    "temperature": "1/4/1",
    "setpoint": "1/4/2",
    "setpoint_status": "1/4/3",
    "operation_mode": "1/4/4",
    "operation_mode_status": "1/4/5",
    "controller_mode": "1/4/6",
    "controller_mode_status": "1/4/7",
    "on_off": "1/4/8",
    "on_off_status": "1/4/9",
    "heat_cool": "2/4/1",
    "heat_cool_status": "2/4/2",
    "setpoint_shift": "2/4/3",
    "setpoint_shift_status": "2/4/4",
    "start_temperature": 19.0,
    "start_setpoint": 21.0,
    "drift": 3600,  # the room stays put unless a test says otherwise
}
CLIMATE_DATA: dict[str, Any] = {
    CONF_NAME: "Living room",
    CONF_TEMPERATURE_ADDRESS: "1/4/1",
    CONF_TARGET_TEMPERATURE_ADDRESS: "1/4/2",
    CONF_TARGET_TEMPERATURE_STATE_ADDRESS: "1/4/3",
    CONF_OPERATION_MODE_ADDRESS: "1/4/4",
    CONF_OPERATION_MODE_STATE_ADDRESS: "1/4/5",
    CONF_CONTROLLER_MODE_ADDRESS: "1/4/6",
    CONF_CONTROLLER_MODE_STATE_ADDRESS: "1/4/7",
    CONF_CONTROLLER_MODES: ["heat", "cool", "auto"],
    CONF_ON_OFF_ADDRESS: "1/4/8",
    CONF_ON_OFF_STATE_ADDRESS: "1/4/9",
    CONF_INVERT: False,
    CONF_MIN_TEMP: 10,
    CONF_MAX_TEMP: 30,
    CONF_TEMPERATURE_STEP: 0.5,
}
#: Heat/cool and on/off only (heat/cool plain): the HVAC modes heat, cool and off.
HEAT_COOL_DATA: dict[str, Any] = {
    CONF_NAME: "Heat and cool",
    CONF_TEMPERATURE_ADDRESS: "1/4/1",
    CONF_TARGET_TEMPERATURE_ADDRESS: "1/4/2",
    CONF_TARGET_TEMPERATURE_STATE_ADDRESS: "1/4/3",
    CONF_HEAT_COOL_ADDRESS: "2/4/1",
    CONF_HEAT_COOL_STATE_ADDRESS: "2/4/2",
    CONF_ON_OFF_ADDRESS: "1/4/8",
    CONF_ON_OFF_STATE_ADDRESS: "1/4/9",
    CONF_INVERT: False,
}
SHIFT_DATA: dict[str, Any] = {
    CONF_NAME: "Shifted",
    CONF_TEMPERATURE_ADDRESS: "1/4/1",
    CONF_TARGET_TEMPERATURE_STATE_ADDRESS: "1/4/3",
    CONF_SETPOINT_SHIFT_ADDRESS: "2/4/3",
    CONF_SETPOINT_SHIFT_STATE_ADDRESS: "2/4/4",
    CONF_SETPOINT_SHIFT_DPT: "6.010",
    CONF_TEMPERATURE_STEP: 0.5,
}


@dataclass
class Home:
    """The gateway entry of the demo home with the room controller attached."""

    entry: ConfigEntry
    gateway: VirtualGateway
    device: RoomController


async def _home(
    hass: HomeAssistant,
    gateway: VirtualGateway,
    upload_file: UploadFile,
    **device_spec: Any,
) -> Home:
    device = DEVICE_KINDS["room_controller"](
        CONTROLLER,
        gateway.keyring,
        gateway.bus,
        {**DEVICE_SPEC, **device_spec},
        status_delay=0.05,
    )
    assert isinstance(device, RoomController)
    gateway.add_device(device)
    entry = await async_add_gateway_entry(
        hass,
        gateway,
        upload_file,
        keyring_source=DEMO_KEYRING_BYTES,
        password=DEMO_KEYRING_PASSWORD,
    )
    await _loaded(hass, entry)
    return Home(entry, gateway, device)


async def _loaded(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Wait until the entry is set up. On a machine too busy for the tests' one-second
    client timeouts a (re)load can fail to connect; Home Assistant retries it by itself
    (after about 5 s), and the test goes on from there."""
    await wait_for(lambda: entry.state is ConfigEntryState.LOADED, limit=30)
    await hass.async_block_till_done()


@pytest.fixture
async def home(hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile) -> Home:
    return await _home(hass, demo_gateway, upload_file)


async def _add(hass: HomeAssistant, home: Home, data: dict[str, Any]) -> str:
    subentry = await async_add_subentry(hass, home.entry, SUBENTRY_CLIMATE, data)
    await _loaded(hass, home.entry)
    return entity_id_for(hass, home.entry, subentry, CLIMATE)


def _attribute(hass: HomeAssistant, entity_id: str, name: str) -> Any:
    state = hass.states.get(entity_id)
    return None if state is None else state.attributes.get(name)


async def _call(hass: HomeAssistant, service: str, entity_id: str, **data: Any) -> None:
    await hass.services.async_call(
        CLIMATE, service, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
    )


def _dropped_nothing(home: Home) -> None:
    """Neither the gateway and its devices nor the client rejected anything."""
    assert_gateway_dropped_nothing(home.gateway)
    assert not any(home.entry.runtime_data.dropped.values())


async def test_reads_every_status_at_start(hass: HomeAssistant, home: Home) -> None:
    """Nobody reports by itself: the values come from the reads at start (Data Secure)."""
    entity_id = await _add(hass, home, CLIMATE_DATA)
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_PRESET_MODE) == "comfort")
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.HEAT)
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_CURRENT_TEMPERATURE) == 19.0)
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_TEMPERATURE) == 21.0)
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes[ATTR_HVAC_ACTION] == HVACAction.HEATING  # 19 < 21
    assert state.attributes["friendly_name"] == "Living room"  # its device's name
    assert state.attributes[ATTR_HVAC_MODES] == ["heat", "cool", "auto", "off"]
    assert state.attributes[ATTR_PRESET_MODES] == [
        "auto",
        "comfort",
        "standby",
        "economy",
        "building_protection",
    ]
    assert state.attributes["min_temp"] == 10
    assert state.attributes["max_temp"] == 30
    assert state.attributes["target_temp_step"] == 0.5
    assert state.attributes[ATTR_SUPPORTED_FEATURES] == (
        ClimateEntityFeature.TARGET_TEMPERATURE
        | ClimateEntityFeature.PRESET_MODE
        | ClimateEntityFeature.TURN_ON
        | ClimateEntityFeature.TURN_OFF
    )
    _dropped_nothing(home)


async def test_every_service_reaches_the_controller(hass: HomeAssistant, home: Home) -> None:
    entity_id = await _add(hass, home, CLIMATE_DATA)
    device = home.device
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.HEAT)

    await _call(hass, SERVICE_SET_TEMPERATURE, entity_id, **{ATTR_TEMPERATURE: 22.5})
    assert device.setpoint == 22.5
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_TEMPERATURE) == 22.5)

    await _call(hass, SERVICE_SET_PRESET_MODE, entity_id, **{ATTR_PRESET_MODE: "economy"})
    assert device.state.operation_mode == "economy"
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_PRESET_MODE) == "economy")

    await _call(hass, SERVICE_SET_HVAC_MODE, entity_id, **{ATTR_HVAC_MODE: HVACMode.COOL})
    assert device.state.controller_mode == "cool"
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.COOL)
    assert _attribute(hass, entity_id, ATTR_HVAC_ACTION) == HVACAction.IDLE  # 19 < 22.5

    await _call(hass, SERVICE_TURN_OFF, entity_id)
    assert device.state.on is False
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.OFF)
    assert _attribute(hass, entity_id, ATTR_HVAC_ACTION) == HVACAction.OFF
    assert device.state.controller_mode == "cool"  # off is the on/off object's

    await _call(hass, SERVICE_TURN_ON, entity_id)
    assert device.state.on is True
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.COOL)

    await _call(hass, SERVICE_SET_HVAC_MODE, entity_id, **{ATTR_HVAC_MODE: HVACMode.OFF})
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.OFF)
    # Another mode while off: the controller mode, then on.
    await _call(hass, SERVICE_SET_HVAC_MODE, entity_id, **{ATTR_HVAC_MODE: HVACMode.AUTO})
    assert (device.state.controller_mode, device.state.on) == ("auto", True)
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.AUTO)
    assert _attribute(hass, entity_id, ATTR_HVAC_ACTION) == HVACAction.HEATING

    # A temperature together with a mode: both reach the controller.
    await _call(
        hass,
        SERVICE_SET_TEMPERATURE,
        entity_id,
        **{ATTR_TEMPERATURE: 18, ATTR_HVAC_MODE: HVACMode.HEAT},
    )
    assert (device.setpoint, device.state.controller_mode) == (18.0, "heat")
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_HVAC_ACTION) == HVACAction.IDLE)
    _dropped_nothing(home)


async def test_the_controller_changes_by_itself(hass: HomeAssistant, home: Home) -> None:
    """Its buttons and the room's temperature reach the entity as status telegrams."""
    entity_id = await _add(hass, home, CLIMATE_DATA)
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.HEAT)

    home.device.operate(base_setpoint=23.0, operation_mode="standby", controller_mode="auto")
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_TEMPERATURE) == 23.0)
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_PRESET_MODE) == "standby")
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.AUTO)
    home.device.operate(on=False)
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.OFF)
    _dropped_nothing(home)


async def test_the_room_warms_up_to_the_setpoint(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    home = await _home(hass, demo_gateway, upload_file, drift=0.02, drift_step=0.5)
    entity_id = await _add(hass, home, CLIMATE_DATA)
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_CURRENT_TEMPERATURE) == 21.0)
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_HVAC_ACTION) == HVACAction.IDLE)
    _dropped_nothing(home)


async def test_reads_again_after_a_reconnect(hass: HomeAssistant, home: Home) -> None:
    entity_id = await _add(hass, home, CLIMATE_DATA)
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_TEMPERATURE) == 21.0)
    # Changes nobody reports (as if made while the tunnel was down): only a read finds them.
    state = home.device.state
    state.base_setpoint, state.temperature, state.operation_mode = 24.0, 20.5, "economy"
    await home.gateway.disconnect_all()
    await wait_for(lambda: state_of(hass, entity_id) == STATE_UNAVAILABLE)
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_TEMPERATURE) == 24.0)
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_CURRENT_TEMPERATURE) == 20.5)
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_PRESET_MODE) == "economy")
    _dropped_nothing(home)


async def test_inverted_on_off(hass: HomeAssistant, home: Home) -> None:
    """Inverted: the controller's on is shown as off, and turning on writes off."""
    entity_id = await _add(hass, home, {**CLIMATE_DATA, CONF_INVERT: True})
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.OFF)
    await _call(hass, SERVICE_TURN_ON, entity_id)
    assert home.device.state.on is False
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.HEAT)
    await _call(hass, SERVICE_TURN_OFF, entity_id)
    assert home.device.state.on is True
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.OFF)


async def test_heat_cool_on_a_plain_address(hass: HomeAssistant, home: Home) -> None:
    """Without a controller mode the HVAC modes are heat and cool (1.100) and off; the
    heat/cool addresses of main group 2 have no key and work plain."""
    entity_id = await _add(hass, home, HEAT_COOL_DATA)
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.HEAT)
    assert _attribute(hass, entity_id, ATTR_HVAC_MODES) == ["heat", "cool", "off"]
    await _call(hass, SERVICE_SET_HVAC_MODE, entity_id, **{ATTR_HVAC_MODE: HVACMode.COOL})
    assert home.device.state.heat is False
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.COOL)
    await _call(hass, SERVICE_SET_HVAC_MODE, entity_id, **{ATTR_HVAC_MODE: HVACMode.OFF})
    assert home.device.state.on is False
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.OFF)
    await _call(hass, SERVICE_SET_HVAC_MODE, entity_id, **{ATTR_HVAC_MODE: HVACMode.HEAT})
    assert (home.device.state.heat, home.device.state.on) == (True, True)
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.HEAT)
    _dropped_nothing(home)


@pytest.mark.parametrize(("shift_dpt", "written"), [("6.010", 3), ("9.002", 1.5)])
async def test_the_target_through_a_setpoint_shift(
    hass: HomeAssistant,
    demo_gateway: VirtualGateway,
    upload_file: UploadFile,
    shift_dpt: str,
    written: float,
) -> None:
    """21 °C with no shift: 22.5 °C is a shift of 3 steps of 0.5 K, or of 1.5 K."""
    home = await _home(
        hass, demo_gateway, upload_file, setpoint_shift_dpt=shift_dpt, setpoint_shift_step=0.5
    )
    entity_id = await _add(hass, home, {**SHIFT_DATA, CONF_SETPOINT_SHIFT_DPT: shift_dpt})
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_TEMPERATURE) == 21.0)
    await _call(hass, SERVICE_SET_TEMPERATURE, entity_id, **{ATTR_TEMPERATURE: 22.5})
    assert home.device.state.shift == written
    assert home.device.state.base_setpoint == 21.0
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_TEMPERATURE) == 22.5)
    # From there, down to 20 °C: the base is still 21.
    await wait_for(lambda: home.device.setpoint == 22.5)
    await _call(hass, SERVICE_SET_TEMPERATURE, entity_id, **{ATTR_TEMPERATURE: 20})
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_TEMPERATURE) == 20.0)
    assert home.device.setpoint == 20.0
    _dropped_nothing(home)


async def test_a_shift_needs_the_current_setpoint(hass: HomeAssistant, home: Home) -> None:
    """Without the current setpoint yet, the shift cannot be computed: a clear error."""
    entity_id = await _add(
        hass, home, {**SHIFT_DATA, CONF_TARGET_TEMPERATURE_STATE_ADDRESS: "3/4/3"}
    )
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.HEAT)
    with pytest.raises(HomeAssistantError) as raised:
        await _call(hass, SERVICE_SET_TEMPERATURE, entity_id, **{ATTR_TEMPERATURE: 22})
    assert raised.value.translation_key == "climate_setpoint_unknown"
    assert home.device.state.shift == 0


async def test_a_status_only_setpoint_cannot_be_written(hass: HomeAssistant, home: Home) -> None:
    data = {k: v for k, v in CLIMATE_DATA.items() if k != CONF_TARGET_TEMPERATURE_ADDRESS}
    entity_id = await _add(hass, home, data)
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_TEMPERATURE) == 21.0)
    with pytest.raises(ServiceValidationError) as raised:
        await _call(hass, SERVICE_SET_TEMPERATURE, entity_id, **{ATTR_TEMPERATURE: 22})
    assert raised.value.translation_key == "climate_not_writable"
    assert home.device.setpoint == 21.0


async def test_minimal_climate_has_only_heat(hass: HomeAssistant, home: Home) -> None:
    """Only a temperature: heat, no features, the temperature read at start."""
    entity_id = await _add(
        hass, home, {CONF_NAME: "Thermometer", CONF_TEMPERATURE_ADDRESS: "1/4/1"}
    )
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_CURRENT_TEMPERATURE) == 19.0)
    assert state_of(hass, entity_id) == HVACMode.HEAT
    assert _attribute(hass, entity_id, ATTR_HVAC_MODES) == ["heat"]
    assert _attribute(hass, entity_id, ATTR_SUPPORTED_FEATURES) == 0
    assert _attribute(hass, entity_id, ATTR_HVAC_ACTION) is None  # no target to compare


async def test_last_state_restored_until_the_bus_answers(hass: HomeAssistant, home: Home) -> None:
    """Addresses nobody answers (3/4/x): the last state stays after a restart."""
    silent = {
        CONF_NAME: "Silent",
        CONF_TEMPERATURE_ADDRESS: "3/4/1",
        CONF_TARGET_TEMPERATURE_ADDRESS: "3/4/2",
        CONF_TARGET_TEMPERATURE_STATE_ADDRESS: "3/4/3",
        CONF_OPERATION_MODE_ADDRESS: "3/4/4",
        CONF_CONTROLLER_MODE_STATE_ADDRESS: "3/4/7",
        CONF_CONTROLLER_MODES: ["heat", "cool"],
        CONF_ON_OFF_ADDRESS: "3/4/8",
    }
    entity_id = await _add(hass, home, silent)
    await hass.config_entries.async_unload(home.entry.entry_id)
    mock_restore_cache(
        hass,
        [
            State(
                entity_id,
                HVACMode.COOL,
                {
                    ATTR_CURRENT_TEMPERATURE: 23.5,
                    ATTR_TEMPERATURE: 22.0,
                    ATTR_PRESET_MODE: "standby",
                },
            )
        ],
    )
    assert await hass.config_entries.async_setup(home.entry.entry_id)
    await hass.async_block_till_done()
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == HVACMode.COOL
    assert state.attributes[ATTR_CURRENT_TEMPERATURE] == 23.5
    assert state.attributes[ATTR_TEMPERATURE] == 22.0
    assert state.attributes[ATTR_PRESET_MODE] == "standby"
    assert state.attributes[ATTR_HVAC_ACTION] == HVACAction.COOLING


async def _form(hass: HomeAssistant, home: Home, data: dict[str, Any]) -> dict[str, str]:
    result = await hass.config_entries.subentries.async_init(
        (home.entry.entry_id, SUBENTRY_CLIMATE), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], data)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    errors: dict[str, str] = result["errors"]
    return errors


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (
            {CONF_TEMPERATURE_ADDRESS: "1/4/1/2"},
            {CONF_TEMPERATURE_ADDRESS: "invalid_group_address"},
        ),
        ({CONF_TEMPERATURE_ADDRESS: ""}, {CONF_TEMPERATURE_ADDRESS: "invalid_group_address"}),
        ({CONF_ON_OFF_STATE_ADDRESS: "x"}, {CONF_ON_OFF_STATE_ADDRESS: "invalid_group_address"}),
        ({CONF_NAME: " "}, {CONF_NAME: "name_required"}),
        ({CONF_SETPOINT_SHIFT_ADDRESS: "2/4/3"}, {CONF_SETPOINT_SHIFT_ADDRESS: "target_or_shift"}),
        (
            {
                CONF_SETPOINT_SHIFT_ADDRESS: "2/4/3",
                CONF_TARGET_TEMPERATURE_ADDRESS: "",
                CONF_TARGET_TEMPERATURE_STATE_ADDRESS: "",
            },
            {CONF_TARGET_TEMPERATURE_STATE_ADDRESS: "shift_needs_target_state"},
        ),
        ({CONF_MIN_TEMP: 25, CONF_MAX_TEMP: 25}, {CONF_MAX_TEMP: "max_not_above_min"}),
        ({CONF_CONTROLLER_MODES: []}, {CONF_CONTROLLER_MODES: "controller_modes_required"}),
    ],
)
async def test_form_errors(
    hass: HomeAssistant, home: Home, change: dict[str, Any], errors: dict[str, str]
) -> None:
    assert await _form(hass, home, {**CLIMATE_DATA, **change}) == errors


async def test_confirm_lists_the_plain_addresses(hass: HomeAssistant, home: Home) -> None:
    result = await hass.config_entries.subentries.async_init(
        (home.entry.entry_id, SUBENTRY_CLIMATE), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], HEAT_COOL_DATA)
    assert result["step_id"] == "confirm_plain_group_address"
    placeholders = result["description_placeholders"]
    assert placeholders["plain_addresses"] == "2/4/1, 2/4/2"
    assert placeholders["secure_addresses"] == "1/4/1, 1/4/2, 1/4/3, 1/4/8, 1/4/9"


async def test_reconfigure_keeps_the_entity(hass: HomeAssistant, home: Home) -> None:
    entity_id = await _add(hass, home, CLIMATE_DATA)
    (subentry_id,) = home.entry.subentries
    before = er.async_get(hass).async_get(entity_id)
    assert before is not None
    result = await hass.config_entries.subentries.async_init(
        (home.entry.entry_id, SUBENTRY_CLIMATE),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**HEAT_COOL_DATA, CONF_NAME: "Living room"}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    await _loaded(hass, home.entry)

    after = er.async_get(hass).async_get(entity_id)
    assert after is not None
    assert after.unique_id == before.unique_id
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_HVAC_MODES) == ["heat", "cool", "off"])
    assert _attribute(hass, entity_id, ATTR_PRESET_MODES) is None


async def test_off_through_the_controller_mode(hass: HomeAssistant, home: Home) -> None:
    """Without on/off, off is the controller mode off; turning on goes back to the last
    mode the controller reported that was not off."""
    data = {
        CONF_NAME: "Modes only",
        CONF_TEMPERATURE_ADDRESS: "1/4/1",
        CONF_CONTROLLER_MODE_ADDRESS: "1/4/6",
        CONF_CONTROLLER_MODE_STATE_ADDRESS: "1/4/7",
        CONF_CONTROLLER_MODES: ["heat", "cool", "off"],
    }
    entity_id = await _add(hass, home, data)
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.HEAT)
    await _call(hass, SERVICE_SET_HVAC_MODE, entity_id, **{ATTR_HVAC_MODE: HVACMode.COOL})
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.COOL)
    await _call(hass, SERVICE_TURN_OFF, entity_id)
    assert (home.device.state.controller_mode, home.device.state.on) == ("off", True)
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.OFF)
    await _call(hass, SERVICE_TURN_ON, entity_id)
    assert home.device.state.controller_mode == "cool"
    await wait_for(lambda: state_of(hass, entity_id) == HVACMode.COOL)
    _dropped_nothing(home)


async def test_turn_on_with_nothing_to_turn_on_to(hass: HomeAssistant, home: Home) -> None:
    """Only the controller mode off offered and no other mode heard: turning on is the
    user's error, and nothing is written."""
    data = {
        CONF_NAME: "Off only",
        CONF_TEMPERATURE_ADDRESS: "1/4/1",
        CONF_CONTROLLER_MODE_ADDRESS: "3/4/6",  # nobody answers there
        CONF_CONTROLLER_MODES: ["off"],
    }
    entity_id = await _add(hass, home, data)
    await wait_for(lambda: _attribute(hass, entity_id, ATTR_CURRENT_TEMPERATURE) == 19.0)
    with pytest.raises(ServiceValidationError) as raised:
        await _call(hass, SERVICE_TURN_ON, entity_id)
    assert raised.value.translation_key == "climate_not_writable"
