"""The cover platform against the demo home's living room blind (1.1.4 on 1/3/1..1/3/6),
a simulated blind actuator behind the real virtual gateway: nothing of the connection is
mocked. The blind travels in 0.5 s, so a whole travel is a short wait for its reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from homeassistant.components.cover import (
    ATTR_CURRENT_POSITION,
    ATTR_CURRENT_TILT_POSITION,
    ATTR_POSITION,
    ATTR_TILT_POSITION,
    CoverEntityFeature,
    CoverState,
)
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_SUPPORTED_FEATURES,
    CONF_DEVICE_CLASS,
    CONF_NAME,
    STATE_UNAVAILABLE,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import mock_restore_cache

from custom_components.knx_secure.const import (
    CONF_ANGLE_ADDRESS,
    CONF_ANGLE_STATE_ADDRESS,
    CONF_INVERT_ANGLE,
    CONF_INVERT_POSITION,
    CONF_INVERT_UP_DOWN,
    CONF_POSITION_ADDRESS,
    CONF_POSITION_STATE_ADDRESS,
    CONF_STOP_ADDRESS,
    CONF_STOP_DPT,
    CONF_TRAVEL_TIME_DOWN,
    CONF_TRAVEL_TIME_UP,
    CONF_UP_DOWN_ADDRESS,
    SUBENTRY_COVER,
)
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.cemi import LData
from custom_components.knx_secure.knx.data_secure import is_secure_tpdu
from custom_components.knx_secure.knx.devices import DEVICE_KINDS, BlindActuator
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

BLIND = "1.1.4"
BLIND_SPEC = {
    "up_down": "1/3/1",
    "stop": "1/3/2",
    "position": "1/3/3",
    "position_status": "1/3/4",
    "slat": "1/3/5",
    "slat_status": "1/3/6",
    "travel_time": 0.5,
}
COVER_DATA: dict[str, Any] = {
    CONF_NAME: "Living room blind",
    CONF_UP_DOWN_ADDRESS: "1/3/1",
    CONF_STOP_ADDRESS: "1/3/2",
    CONF_STOP_DPT: "1.017",
    CONF_POSITION_ADDRESS: "1/3/3",
    CONF_POSITION_STATE_ADDRESS: "1/3/4",
    CONF_ANGLE_ADDRESS: "1/3/5",
    CONF_ANGLE_STATE_ADDRESS: "1/3/6",
    CONF_TRAVEL_TIME_DOWN: 0.5,
    CONF_TRAVEL_TIME_UP: 0.5,
    CONF_INVERT_UP_DOWN: False,
    CONF_INVERT_POSITION: False,
    CONF_INVERT_ANGLE: False,
    CONF_DEVICE_CLASS: "blind",
}
# The same cover without its status addresses: positions come from the travel estimate only.
WITHOUT_STATUS = {
    key: value
    for key, value in COVER_DATA.items()
    if key not in (CONF_POSITION_STATE_ADDRESS, CONF_ANGLE_STATE_ADDRESS)
}
# Plain addresses (main group 2 of the demo home has no keys) for a blind with a step object.
PLAIN_BLIND = "1.1.9"
PLAIN_SPEC = {
    "up_down": "2/3/1",
    "step": "2/3/2",
    "position": "2/3/3",
    "position_status": "2/3/4",
    "travel_time": 0.5,
}
PLAIN_DATA: dict[str, Any] = {
    CONF_NAME: "Garage door",
    CONF_UP_DOWN_ADDRESS: "2/3/1",
    CONF_STOP_ADDRESS: "2/3/2",
    CONF_STOP_DPT: "1.007",
    CONF_POSITION_STATE_ADDRESS: "2/3/4",
    CONF_TRAVEL_TIME_DOWN: 0.5,
    CONF_TRAVEL_TIME_UP: 0.5,
}


def add_blind(gateway: VirtualGateway, address: str, spec: dict[str, Any]) -> BlindActuator:
    """Attach a simulated blind actuator to the gateway's bus."""
    blind = DEVICE_KINDS["blind"](
        IndividualAddress.parse(address), gateway.keyring, gateway.bus, spec, status_delay=0.05
    )
    assert isinstance(blind, BlindActuator)
    gateway.add_device(blind)
    return blind


async def _demo_entry(
    hass: HomeAssistant, gateway: VirtualGateway, upload_file: UploadFile
) -> ConfigEntry:
    """The demo home's gateway entry, through the whole flow."""
    return await async_add_gateway_entry(
        hass,
        gateway,
        upload_file,
        keyring_source=DEMO_KEYRING_BYTES,
        password=DEMO_KEYRING_PASSWORD,
    )


class BusSpy:
    """A port on the gateway's bus: for each group address, whether its telegrams were
    Data Secure (True), plain (False), or both (two entries)."""

    def __init__(self) -> None:
        self.seen: dict[GroupAddress, set[bool]] = {}

    def deliver(self, frame: LData) -> None:
        if isinstance(frame.dst, GroupAddress):
            self.seen.setdefault(frame.dst, set()).add(is_secure_tpdu(frame.tpdu))


@dataclass
class CoverSetup:
    entry: ConfigEntry
    gateway: VirtualGateway
    blind: BlindActuator
    subentry: str
    cover: str  # entity id


async def _setup(
    hass: HomeAssistant,
    gateway: VirtualGateway,
    upload_file: UploadFile,
    spec: dict[str, Any] = BLIND_SPEC,
    data: dict[str, Any] = COVER_DATA,
) -> CoverSetup:
    blind = add_blind(gateway, BLIND, spec)
    entry = await _demo_entry(hass, gateway, upload_file)
    subentry = await async_add_subentry(hass, entry, SUBENTRY_COVER, data)
    cover = entity_id_for(hass, entry, subentry, "cover")
    return CoverSetup(entry, gateway, blind, subentry, cover)


@pytest.fixture
async def setup(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> CoverSetup:
    """The demo gateway with the living room blind (open) and its cover entity."""
    return await _setup(hass, demo_gateway, upload_file)


def attribute(hass: HomeAssistant, entity_id: str, name: str) -> Any:
    state = hass.states.get(entity_id)
    return None if state is None else state.attributes.get(name)


async def _call(hass: HomeAssistant, service: str, entity_id: str, **data: Any) -> None:
    await hass.services.async_call(
        "cover", service, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
    )


def _record(hass: HomeAssistant, entity_id: str) -> list[State]:
    """Every new state of entity_id from now on."""
    states: list[State] = []

    def take(event: Event[EventStateChangedData]) -> None:
        if event.data["entity_id"] == entity_id and event.data["new_state"] is not None:
            states.append(event.data["new_state"])

    hass.bus.async_listen("state_changed", take)
    return states


async def test_close_and_open_travel_over_time(hass: HomeAssistant, setup: CoverSetup) -> None:
    """Close: the blind travels down, the cover is closing with a position that moves, then
    closed at 0 with closed slats; open brings it back. Every telegram Data Secure."""
    cover, blind = setup.cover, setup.blind
    await wait_for(lambda: state_of(hass, cover) == CoverState.OPEN)  # read at start: 0 % (KNX)
    assert attribute(hass, cover, ATTR_CURRENT_POSITION) == 100
    states = _record(hass, cover)

    await _call(hass, "close_cover", cover)
    assert state_of(hass, cover) == CoverState.CLOSING
    assert blind.moving
    await wait_for(lambda: state_of(hass, cover) == CoverState.CLOSED)
    assert attribute(hass, cover, ATTR_CURRENT_POSITION) == 0
    assert blind.position == 100
    await wait_for(lambda: attribute(hass, cover, ATTR_CURRENT_TILT_POSITION) == 0)
    on_the_way = [
        s.attributes[ATTR_CURRENT_POSITION]
        for s in states
        if s.state == CoverState.CLOSING and s.attributes.get(ATTR_CURRENT_POSITION) is not None
    ]
    assert any(0 < position < 100 for position in on_the_way), on_the_way
    assert on_the_way == sorted(on_the_way, reverse=True)

    await _call(hass, "open_cover", cover)
    assert state_of(hass, cover) == CoverState.OPENING
    await wait_for(lambda: state_of(hass, cover) == CoverState.OPEN)
    await wait_for(lambda: attribute(hass, cover, ATTR_CURRENT_POSITION) == 100)
    assert blind.position == 0
    await wait_for(lambda: attribute(hass, cover, ATTR_CURRENT_TILT_POSITION) == 100)
    assert_gateway_dropped_nothing(setup.gateway)


async def test_stop_halts_the_blind_where_it_is(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A slower blind (2 s), so that it is surely on its way when the stop arrives."""
    setup = await _setup(
        hass,
        demo_gateway,
        upload_file,
        {**BLIND_SPEC, "travel_time": 2.0},
        {**COVER_DATA, CONF_TRAVEL_TIME_DOWN: 2.0, CONF_TRAVEL_TIME_UP: 2.0},
    )
    cover, blind = setup.cover, setup.blind
    await wait_for(lambda: state_of(hass, cover) == CoverState.OPEN)
    await _call(hass, "close_cover", cover)
    await wait_for(lambda: blind.position > 10)
    await _call(hass, "stop_cover", cover)
    assert not blind.moving
    stopped = 100 - round(blind.position)
    assert 0 < stopped < 100
    # The blind's last report brings the estimate to where it stopped.
    await wait_for(lambda: attribute(hass, cover, ATTR_CURRENT_POSITION) == stopped)
    assert state_of(hass, cover) == CoverState.OPEN  # partly open, standing
    assert_gateway_dropped_nothing(setup.gateway)


async def test_position_and_slat_angle(hass: HomeAssistant, setup: CoverSetup) -> None:
    """Home Assistant's 30 % open is the blind's 70 % (KNX: 0 % open), both ways."""
    cover, blind = setup.cover, setup.blind
    await wait_for(lambda: state_of(hass, cover) == CoverState.OPEN)
    await _call(hass, "set_cover_position", cover, **{ATTR_POSITION: 30})
    assert state_of(hass, cover) == CoverState.CLOSING
    await wait_for(lambda: not blind.moving and round(blind.position) == 70)
    await wait_for(lambda: attribute(hass, cover, ATTR_CURRENT_POSITION) == 30)
    await wait_for(lambda: state_of(hass, cover) == CoverState.OPEN)

    await _call(hass, "set_cover_tilt_position", cover, **{ATTR_TILT_POSITION: 40})
    await wait_for(lambda: blind.slat == 60)
    assert attribute(hass, cover, ATTR_CURRENT_TILT_POSITION) == 40
    await _call(hass, "close_cover_tilt", cover)
    await wait_for(lambda: blind.slat == 100)
    await _call(hass, "open_cover_tilt", cover)
    await wait_for(lambda: blind.slat == 0)
    await wait_for(lambda: attribute(hass, cover, ATTR_CURRENT_TILT_POSITION) == 100)

    await _call(hass, "close_cover", cover)
    await wait_for(lambda: blind.position > 10)
    await _call(hass, "stop_cover_tilt", cover)  # the actuator's one stop
    assert not blind.moving
    assert_gateway_dropped_nothing(setup.gateway)


async def test_the_blind_operated_on_site_shows_in_home_assistant(
    hass: HomeAssistant, setup: CoverSetup
) -> None:
    """Its position status and slat status reach the cover while it travels."""
    cover, blind = setup.cover, setup.blind
    await wait_for(lambda: state_of(hass, cover) == CoverState.OPEN)
    states = _record(hass, cover)
    blind.operate(down=True)
    await wait_for(lambda: state_of(hass, cover) == CoverState.CLOSED)
    assert attribute(hass, cover, ATTR_CURRENT_POSITION) == 0
    assert any(0 < s.attributes.get(ATTR_CURRENT_POSITION, 0) < 100 for s in states)
    await wait_for(lambda: attribute(hass, cover, ATTR_CURRENT_TILT_POSITION) == 0)

    blind.set_slat(25)
    await wait_for(lambda: attribute(hass, cover, ATTR_CURRENT_TILT_POSITION) == 75)
    assert_gateway_dropped_nothing(setup.gateway)


async def test_status_is_read_at_start_and_after_a_reconnect(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """The blind stands at 40 % with slats at 20 % when Home Assistant starts; later both
    status addresses are read again after the tunnel comes back."""
    spec = {**BLIND_SPEC, "start_position": 40, "start_slat": 20}
    setup = await _setup(hass, demo_gateway, upload_file, spec)
    cover = setup.cover
    await wait_for(lambda: attribute(hass, cover, ATTR_CURRENT_POSITION) == 60)
    await wait_for(lambda: attribute(hass, cover, ATTR_CURRENT_TILT_POSITION) == 80)

    reads = Counter[GroupAddress]()
    devices = {IndividualAddress.parse(BLIND)}

    class Spy:
        def deliver(self, frame: LData) -> None:
            if frame.src not in devices and isinstance(frame.dst, GroupAddress):
                reads[frame.dst] += 1  # from the tunnel: a status read (or a command)

    demo_gateway.bus.attach(Spy())
    await demo_gateway.disconnect_all()
    await wait_for(lambda: state_of(hass, cover) != STATE_UNAVAILABLE)
    status = (GroupAddress.parse("1/3/4"), GroupAddress.parse("1/3/6"))
    await wait_for(lambda: all(reads[address] >= 1 for address in status))
    assert attribute(hass, cover, ATTR_CURRENT_POSITION) == 60
    assert_gateway_dropped_nothing(demo_gateway)


async def test_a_change_while_the_tunnel_was_down_is_read_after_the_reconnect(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    setup = await _setup(hass, demo_gateway, upload_file)
    cover = setup.cover
    await wait_for(lambda: attribute(hass, cover, ATTR_CURRENT_POSITION) == 100)
    await demo_gateway.stop()
    await wait_for(lambda: state_of(hass, cover) == STATE_UNAVAILABLE)
    setup.blind.move_to(90)  # on site, while Home Assistant has no tunnel
    await wait_for(lambda: not setup.blind.moving)
    await demo_gateway.start()  # the same port
    await wait_for(lambda: attribute(hass, cover, ATTR_CURRENT_POSITION) == 10, 10)
    assert state_of(hass, cover) == CoverState.OPEN


async def test_inverted_cover(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """An actuator whose objects mean the other way round: 0 % closed, 1 = up."""
    inverted = {
        **COVER_DATA,
        CONF_INVERT_UP_DOWN: True,
        CONF_INVERT_POSITION: True,
        CONF_INVERT_ANGLE: True,
    }
    setup = await _setup(hass, demo_gateway, upload_file, data=inverted)
    cover, blind = setup.cover, setup.blind
    await wait_for(lambda: state_of(hass, cover) == CoverState.CLOSED)  # the blind's 0 %
    assert attribute(hass, cover, ATTR_CURRENT_POSITION) == 0

    await _call(hass, "open_cover", cover)  # writes down (1) to the blind
    assert state_of(hass, cover) == CoverState.OPENING
    await wait_for(lambda: not blind.moving and blind.position == 100)
    await wait_for(lambda: state_of(hass, cover) == CoverState.OPEN)
    assert attribute(hass, cover, ATTR_CURRENT_POSITION) == 100

    await _call(hass, "set_cover_position", cover, **{ATTR_POSITION: 30})
    await wait_for(lambda: not blind.moving and round(blind.position) == 30)
    await _call(hass, "set_cover_tilt_position", cover, **{ATTR_TILT_POSITION: 40})
    await wait_for(lambda: blind.slat == 40)
    await wait_for(lambda: attribute(hass, cover, ATTR_CURRENT_TILT_POSITION) == 40)
    assert_gateway_dropped_nothing(setup.gateway)


async def test_a_plain_cover_with_a_step_object(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Main group 2 is plain: the confirm step says so and the telegrams go plain. Stop is
    a short-time step; without a position address a position is reached by travel time."""
    spy = BusSpy()
    demo_gateway.bus.attach(spy)
    blind = add_blind(demo_gateway, PLAIN_BLIND, PLAIN_SPEC)
    entry = await _demo_entry(hass, demo_gateway, upload_file)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_COVER), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], PLAIN_DATA)
    assert result["step_id"] == "confirm_plain_group_address"
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["plain_addresses"] == "2/3/1, 2/3/2, 2/3/4"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (subentry,) = entry.subentries
    cover = entity_id_for(hass, entry, subentry, "cover")
    await wait_for(lambda: state_of(hass, cover) == CoverState.OPEN)
    features = attribute(hass, cover, ATTR_SUPPORTED_FEATURES)
    assert features == (
        CoverEntityFeature.OPEN
        | CoverEntityFeature.CLOSE
        | CoverEntityFeature.STOP
        | CoverEntityFeature.SET_POSITION  # by travel time, then stop
    )

    await _call(hass, "close_cover", cover)
    await wait_for(lambda: blind.position > 10)
    await _call(hass, "stop_cover", cover)
    assert not blind.moving
    assert state_of(hass, cover) == CoverState.OPEN
    await wait_for(lambda: GroupAddress.parse("2/3/4") in spy.seen)  # the report of the stop
    assert spy.seen == {GroupAddress.parse(a): {False} for a in ("2/3/1", "2/3/2", "2/3/4")}
    assert_gateway_dropped_nothing(demo_gateway)
    assert not any(entry.runtime_data.dropped.values())


async def test_without_status_the_position_is_estimated_from_the_travel_times(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """No status address: unknown at start; a close reaches closed after the travel time."""
    setup = await _setup(hass, demo_gateway, upload_file, data=WITHOUT_STATUS)
    cover = setup.cover
    await wait_for(lambda: state_of(hass, cover) == "unknown")
    await _call(hass, "close_cover", cover)
    assert state_of(hass, cover) == CoverState.CLOSING
    assert attribute(hass, cover, ATTR_CURRENT_POSITION) is None  # from where is not known
    await wait_for(lambda: state_of(hass, cover) == CoverState.CLOSED)
    assert attribute(hass, cover, ATTR_CURRENT_POSITION) == 0

    states = _record(hass, cover)
    await _call(hass, "set_cover_position", cover, **{ATTR_POSITION: 50})
    assert state_of(hass, cover) == CoverState.OPENING
    await wait_for(lambda: state_of(hass, cover) == CoverState.OPEN)
    assert attribute(hass, cover, ATTR_CURRENT_POSITION) == 50
    on_the_way = [
        s.attributes[ATTR_CURRENT_POSITION] for s in states if s.state == CoverState.OPENING
    ]
    assert on_the_way == sorted(on_the_way)


async def test_without_status_the_last_position_and_angle_are_restored(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    setup = await _setup(hass, demo_gateway, upload_file, data=WITHOUT_STATUS)
    await hass.config_entries.async_unload(setup.entry.entry_id)
    mock_restore_cache(
        hass,
        [
            State(
                setup.cover,
                CoverState.OPEN,
                {ATTR_CURRENT_POSITION: 35, ATTR_CURRENT_TILT_POSITION: 60},
            )
        ],
    )
    assert await hass.config_entries.async_setup(setup.entry.entry_id)
    await hass.async_block_till_done()
    await wait_for(lambda: state_of(hass, setup.cover) == CoverState.OPEN)
    assert attribute(hass, setup.cover, ATTR_CURRENT_POSITION) == 35
    assert attribute(hass, setup.cover, ATTR_CURRENT_TILT_POSITION) == 60


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({CONF_UP_DOWN_ADDRESS: "1/x"}, {CONF_UP_DOWN_ADDRESS: "invalid_group_address"}),
        ({CONF_UP_DOWN_ADDRESS: ""}, {CONF_UP_DOWN_ADDRESS: "invalid_group_address"}),
        ({CONF_POSITION_ADDRESS: "32/0/0"}, {CONF_POSITION_ADDRESS: "invalid_group_address"}),
        ({CONF_ANGLE_STATE_ADDRESS: "abc"}, {CONF_ANGLE_STATE_ADDRESS: "invalid_group_address"}),
        ({CONF_NAME: "  "}, {CONF_NAME: "name_required"}),
    ],
)
async def test_the_form_names_each_bad_field(
    hass: HomeAssistant,
    demo_gateway: VirtualGateway,
    upload_file: UploadFile,
    change: dict[str, str],
    errors: dict[str, str],
) -> None:
    entry = await _demo_entry(hass, demo_gateway, upload_file)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_COVER), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**COVER_DATA, **change}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == errors


@pytest.mark.parametrize("seconds", [0, -1, 601])
async def test_a_travel_time_outside_the_range_is_refused(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile, seconds: float
) -> None:
    entry = await _demo_entry(hass, demo_gateway, upload_file)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_COVER), context={"source": SOURCE_USER}
    )
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.subentries.async_configure(
            result["flow_id"], {**COVER_DATA, CONF_TRAVEL_TIME_UP: seconds}
        )
    assert CONF_TRAVEL_TIME_UP in err.value.schema_errors


async def test_reconfigure_keeps_the_entity_id(hass: HomeAssistant, setup: CoverSetup) -> None:
    ent_reg = er.async_get(hass)
    before = ent_reg.async_get(setup.cover)
    assert before is not None
    result = await hass.config_entries.subentries.async_init(
        (setup.entry.entry_id, SUBENTRY_COVER),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": setup.subentry},
    )
    assert result["step_id"] == "reconfigure"
    changed = {**COVER_DATA, CONF_DEVICE_CLASS: "shutter"}
    del changed[CONF_ANGLE_ADDRESS]
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], changed)
    assert result["step_id"] == "confirm"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    after = ent_reg.async_get(setup.cover)
    assert after is not None
    assert after.id == before.id
    assert entity_id_for(hass, setup.entry, setup.subentry, "cover") == setup.cover
    await wait_for(lambda: attribute(hass, setup.cover, "device_class") == "shutter")
    features = attribute(hass, setup.cover, ATTR_SUPPORTED_FEATURES)
    assert not features & CoverEntityFeature.SET_TILT_POSITION


async def test_without_a_position_address_a_position_is_reached_by_travel_time(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Down, then the step object stops the blind where the estimate reaches the target."""
    blind = add_blind(demo_gateway, PLAIN_BLIND, {**PLAIN_SPEC, "travel_time": 2.0})
    entry = await _demo_entry(hass, demo_gateway, upload_file)
    data = {**PLAIN_DATA, CONF_TRAVEL_TIME_DOWN: 2.0, CONF_TRAVEL_TIME_UP: 2.0}
    subentry = await async_add_subentry(hass, entry, SUBENTRY_COVER, data)
    cover = entity_id_for(hass, entry, subentry, "cover")
    await wait_for(lambda: attribute(hass, cover, ATTR_CURRENT_POSITION) == 100)

    await _call(hass, "set_cover_position", cover, **{ATTR_POSITION: 40})
    assert state_of(hass, cover) == CoverState.CLOSING
    await wait_for(lambda: state_of(hass, cover) == CoverState.OPEN)
    await wait_for(lambda: not blind.moving)
    # Stopped by Home Assistant near 60 % (KNX), a little late by the telegram's way there.
    assert 55 <= blind.position <= 70, blind.position
    await wait_for(
        lambda: attribute(hass, cover, ATTR_CURRENT_POSITION) == 100 - round(blind.position)
    )

    await _call(hass, "set_cover_position", cover, **{ATTR_POSITION: 100})  # an end: no stop
    await wait_for(lambda: not blind.moving and blind.position == 0)
    assert_gateway_dropped_nothing(demo_gateway)


async def test_a_position_by_travel_time_needs_a_known_start(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    entry = await _demo_entry(hass, demo_gateway, upload_file)
    data = {k: v for k, v in PLAIN_DATA.items() if k != CONF_POSITION_STATE_ADDRESS}
    subentry = await async_add_subentry(hass, entry, SUBENTRY_COVER, data)
    cover = entity_id_for(hass, entry, subentry, "cover")
    await wait_for(lambda: state_of(hass, cover) == "unknown")
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "set_cover_position", cover, **{ATTR_POSITION: 40})
    assert err.value.translation_key == "cover_position_unknown"


async def test_every_address_travels_data_secure(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Commands, status reads, reports: on each of the six addresses only Data Secure
    telegrams, and neither side dropped one."""
    spy = BusSpy()
    demo_gateway.bus.attach(spy)
    setup = await _setup(hass, demo_gateway, upload_file, {**BLIND_SPEC, "travel_time": 2.0})
    cover, blind = setup.cover, setup.blind
    await wait_for(lambda: state_of(hass, cover) == CoverState.OPEN)
    await _call(hass, "close_cover", cover)
    await wait_for(lambda: blind.position > 10)
    await _call(hass, "stop_cover", cover)
    await _call(hass, "set_cover_position", cover, **{ATTR_POSITION: 80})
    await _call(hass, "set_cover_tilt_position", cover, **{ATTR_TILT_POSITION: 50})
    await wait_for(lambda: not blind.moving)
    await wait_for(lambda: len(spy.seen) == len(BLIND_SPEC) - 1)  # every address but travel
    assert spy.seen == {
        GroupAddress.parse(address): {True}
        for address in BLIND_SPEC.values()
        if isinstance(address, str)
    }
    assert_gateway_dropped_nothing(demo_gateway)
    assert not any(setup.entry.runtime_data.dropped.values())
