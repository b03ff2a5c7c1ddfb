"""Switches, dates, times and date-times answer GroupValueRead with "respond to read": a
simulated device of the demo home reads the entity's group address (as devices do after a
bus voltage return) and gets the value Home Assistant holds, Data Secure on 1/6/x, plain on
2/6/x; without the option nobody answers. Devices (docs/DEMO.md): the value actuator 1.1.9
(door chime 1/6/11, ventilation level 1/6/1), the hall display 1.1.12 with its clock, and the
display 1.1.30 that reads the expose addresses."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_NAME,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_ON,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import mock_restore_cache

from custom_components.knx_secure.const import (
    CONF_EXPOSE_ADDRESS,
    CONF_EXPOSE_COOLDOWN,
    CONF_EXPOSE_ENTITY,
    CONF_EXPOSE_PERIOD,
    CONF_INVERT,
    CONF_RESPOND_TO_READ,
    CONF_STATE_ADDRESS,
    CONF_SYNC_STATE,
    CONF_VALUE_TYPE,
    CONF_WRITE_ADDRESS,
    DOMAIN,
    SUBENTRY_DATE,
    SUBENTRY_DATETIME,
    SUBENTRY_EXPOSE,
    SUBENTRY_NUMBER,
    SUBENTRY_SWITCH,
    SUBENTRY_TIME,
)
from custom_components.knx_secure.knx.devices import ClockDevice, ValueActuator
from custom_components.knx_secure.knx.dpt import DPTValue, get_dpt
from custom_components.knx_secure.knx.installation import read_installation

from ..helpers import wait_for
from .conftest import UploadFile, assert_gateway_dropped_nothing, async_add_subentry, state_of
from .test_clock import DATE, DATETIME, TIME, attach_display
from .values_helpers import add_entity, attach_values, demo_entry, ga

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway

INSTALLATION = Path(__file__).resolve().parents[2] / "demo" / "installation.json"
CHIME = "1/6/11"  # 1.001 on the value actuator 1.1.9, Data Secure
LEVEL = "1/6/1"  # 5.001 on the same device


def _switch(**extra: Any) -> dict[str, Any]:
    return {
        CONF_NAME: "Door chime",
        CONF_WRITE_ADDRESS: CHIME,
        CONF_INVERT: False,
        CONF_RESPOND_TO_READ: True,
        **extra,
    }


def _clock(kind: str, write: str, **extra: Any) -> dict[str, Any]:
    return {
        CONF_NAME: f"Hall {kind}",
        CONF_WRITE_ADDRESS: write,
        CONF_SYNC_STATE: True,
        CONF_RESPOND_TO_READ: True,
        **extra,
    }


async def _turn(hass: HomeAssistant, entity_id: str, on: bool) -> None:
    service = SERVICE_TURN_ON if on else SERVICE_TURN_OFF
    await hass.services.async_call("switch", service, {ATTR_ENTITY_ID: entity_id}, blocking=True)


def _answer(device: ClockDevice, address: str, dpt_id: str) -> DPTValue | None:
    """The device's last answer to its read of address, decoded (None: no answer)."""
    value = device.responses.get(ga(address))
    return None if value is None else get_dpt(dpt_id).decode(value)


async def test_switch_answers_reads_with_its_state(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A device reading the switch's address gets on after on, off after off (Data Secure:
    the device refuses plain telegrams on 1/6/11)."""
    device = attach_values(demo_gateway, "1.1.9", [{"address": CHIME, "dpt": "1.001"}])
    entry = await demo_entry(hass, demo_gateway, upload_file)
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_SWITCH, _switch())
    await _turn(hass, entity_id, True)
    assert device.received(ga(CHIME)) == [True]
    device.read_value(ga(CHIME))
    await wait_for(lambda: device.received(ga(CHIME)) == [True, True])
    await _turn(hass, entity_id, False)
    device.read_value(ga(CHIME))
    await wait_for(lambda: device.received(ga(CHIME)) == [True, True, False, False])
    assert_gateway_dropped_nothing(demo_gateway)


async def test_inverted_switch_answers_what_it_writes(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Inverted, on is off on the bus: the answer is the value the switch writes."""
    device = attach_values(demo_gateway, "1.1.9", [{"address": CHIME, "dpt": "1.001"}])
    entry = await demo_entry(hass, demo_gateway, upload_file)
    data = _switch(**{CONF_INVERT: True})
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_SWITCH, data)
    await _turn(hass, entity_id, True)
    assert state_of(hass, entity_id) == STATE_ON
    device.read_value(ga(CHIME))
    await wait_for(lambda: device.received(ga(CHIME)) == [False, False])


async def test_switch_without_the_option_does_not_answer(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """The device reads the switch's address, then a number's that answers: when the
    number's answer is in, the switch's (sent first, if at all) would be too."""
    device = attach_values(
        demo_gateway,
        "1.1.9",
        [{"address": CHIME, "dpt": "1.001"}, {"address": LEVEL, "dpt": "5.001"}],
    )
    entry = await demo_entry(hass, demo_gateway, upload_file)
    _subentry, switch = await add_entity(
        hass, entry, SUBENTRY_SWITCH, _switch(**{CONF_RESPOND_TO_READ: False})
    )
    number_data = {
        CONF_NAME: "Ventilation",
        CONF_WRITE_ADDRESS: LEVEL,
        CONF_VALUE_TYPE: "5.001",
        CONF_RESPOND_TO_READ: True,
    }
    _subentry, number = await add_entity(hass, entry, SUBENTRY_NUMBER, number_data)
    await _turn(hass, switch, True)
    await hass.services.async_call(
        "number", "set_value", {ATTR_ENTITY_ID: number, "value": 40}, blocking=True
    )
    device.read_value(ga(CHIME))
    device.read_value(ga(LEVEL))
    await wait_for(lambda: device.received(ga(LEVEL)) == [40, 40])
    assert device.received(ga(CHIME)) == [True]  # the write only, no answer
    assert_gateway_dropped_nothing(demo_gateway)


async def test_date_time_and_date_time_answer_reads_on_data_secure_addresses(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Each entity answers a read of its write address with the value it shows (read from
    its status address at start), encrypted: the display refuses plain on 1/6/x."""
    device = attach_display(demo_gateway)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    kinds = (
        (SUBENTRY_DATE, "1/6/30", "1/6/31", "11.001", "2026-12-03"),
        (SUBENTRY_TIME, "1/6/32", "1/6/33", "10.001", "07:30:15"),
        (SUBENTRY_DATETIME, "1/6/34", "1/6/35", "19.001", None),
    )
    for kind, write, status, _dpt, shown in kinds:
        data = _clock(kind, write, **{CONF_STATE_ADDRESS: status})
        _subentry, entity_id = await add_entity(hass, entry, kind, data)
        await wait_for(lambda e=entity_id, s=shown: state_of(hass, e) not in (None, "unknown"))
        if shown is not None:
            assert state_of(hass, entity_id) == shown
    for _kind, write, _status, _dpt, _shown in kinds:
        device.send_read(ga(write))
    await wait_for(lambda: all(ga(k[1]) in device.responses for k in kinds))
    assert _answer(device, "1/6/30", "11.001") == DATE
    answered_time = _answer(device, "1/6/32", "10.001")
    assert isinstance(answered_time, dict)
    assert {key: answered_time[key] for key in TIME} == TIME
    answered_moment = _answer(device, "1/6/34", "19.001")
    assert isinstance(answered_moment, dict)
    assert {key: answered_moment[key] for key in DATETIME} == DATETIME
    assert_gateway_dropped_nothing(demo_gateway)


async def test_plain_time_answers_and_a_date_without_the_option_does_not(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A time on the plain 2/6/11 answers with what it wrote; a date without the option
    gets no answer (read first: the time's answer, read second, comes after it)."""
    device = attach_display(demo_gateway)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    _subentry, clock = await add_entity(hass, entry, SUBENTRY_TIME, _clock("time", "2/6/11"))
    date_data = _clock("date", "1/6/30", **{CONF_RESPOND_TO_READ: False})
    _subentry, day = await add_entity(hass, entry, SUBENTRY_DATE, date_data)
    await hass.services.async_call(
        "time", "set_value", {ATTR_ENTITY_ID: clock, "time": "06:05:04"}, blocking=True
    )
    await hass.services.async_call(
        "date", "set_value", {ATTR_ENTITY_ID: day, "date": "2027-01-02"}, blocking=True
    )
    device.send_read(ga("1/6/30"))
    device.send_read(ga("2/6/11"))
    await wait_for(lambda: ga("2/6/11") in device.responses)
    answered = _answer(device, "2/6/11", "10.001")
    assert isinstance(answered, dict)
    assert (answered["hour"], answered["minutes"], answered["seconds"]) == (6, 5, 4)
    assert ga("1/6/30") not in device.responses
    assert_gateway_dropped_nothing(demo_gateway)


async def test_a_restored_date_answers_after_a_restart(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Before the bus sent anything, the last value of the last run is the answer."""
    device = attach_display(demo_gateway)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    mock_restore_cache(hass, [State("date.hall_date", "2025-05-05")])
    data = _clock("date", "1/6/30", **{CONF_STATE_ADDRESS: "1/6/31", CONF_SYNC_STATE: False})
    _subentry, day = await add_entity(hass, entry, SUBENTRY_DATE, data)
    assert day == "date.hall_date"
    await wait_for(lambda: state_of(hass, day) == "2025-05-05")
    device.send_read(ga("1/6/30"))
    await wait_for(lambda: ga("1/6/30") in device.responses)
    assert _answer(device, "1/6/30", "11.001") == {"year": 2025, "month": 5, "day": 5}


@pytest.mark.parametrize(
    "subentry_type", [SUBENTRY_SWITCH, SUBENTRY_DATE, SUBENTRY_TIME, SUBENTRY_DATETIME]
)
async def test_the_forms_offer_the_option_off_by_default(
    hass: HomeAssistant,
    demo_gateway: VirtualGateway,
    upload_file: UploadFile,
    subentry_type: str,
) -> None:
    entry = await demo_entry(hass, demo_gateway, upload_file)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, subentry_type), context={"source": SOURCE_USER}
    )
    (marker,) = (key for key in result["data_schema"].schema if key == CONF_RESPOND_TO_READ)
    assert marker.default() is False


async def test_the_demo_display_gets_the_expose_and_its_reads_are_answered(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """The demo home's 1.1.30, built from demo/installation.json: it reads the expose
    addresses as it joins the bus (nobody answers yet), receives the input number's value
    from the expose, gets the current value when it reads again, and answers Home
    Assistant's own read with what it received; Data Secure on 1/6/201."""
    (spec,) = [e for e in read_installation(INSTALLATION).devices if str(e.address) == "1.1.30"]
    display = spec.build(demo_gateway, status_delay=0)
    assert isinstance(display, ValueActuator)
    demo_gateway.add_device(display)  # on a running bus: its reads at start go out now
    outdoor = ga("1/6/201")
    assert display.received(outdoor) == []
    assert await async_setup_component(
        hass, "input_number", {"input_number": {"outdoor": {"min": -30, "max": 50, "step": 0.5}}}
    )
    entry = await demo_entry(hass, demo_gateway, upload_file)
    expose = {
        CONF_NAME: "Outdoor for the display",
        CONF_EXPOSE_ADDRESS: "1/6/201",
        CONF_VALUE_TYPE: "9.001",
        CONF_EXPOSE_ENTITY: "input_number.outdoor",
        CONF_EXPOSE_COOLDOWN: 0,
        CONF_EXPOSE_PERIOD: 0,
    }
    await async_add_subentry(hass, entry, SUBENTRY_EXPOSE, expose)
    await hass.services.async_call(
        "input_number", "set_value", {ATTR_ENTITY_ID: "input_number.outdoor", "value": 7.5}
    )
    await wait_for(lambda: display.received(outdoor) == [7.5])
    display.read_value(outdoor)  # its periodic read
    await wait_for(lambda: display.received(outdoor) == [7.5, 7.5])
    answer = await hass.services.async_call(
        DOMAIN, "read", {"address": "1/6/201"}, blocking=True, return_response=True
    )
    assert answer is not None
    assert (answer["source"], answer["secure"]) == ("1.1.30", True)
    assert_gateway_dropped_nothing(demo_gateway)
