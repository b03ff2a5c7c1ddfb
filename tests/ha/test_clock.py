"""Date, time and date-time entities against the demo home's hall display with its clock
(1.1.12: Data Secure 1/6/30..1/6/35, plain 2/6/11), through the real secure tunnel."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigEntry
from homeassistant.const import ATTR_ENTITY_ID, CONF_NAME, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import mock_restore_cache

from custom_components.knx_secure.clock_entity import datetime_from_knx, datetime_to_knx
from custom_components.knx_secure.const import (
    CONF_STATE_ADDRESS,
    CONF_SYNC_STATE,
    CONF_WRITE_ADDRESS,
    SUBENTRY_DATE,
    SUBENTRY_DATETIME,
    SUBENTRY_TIME,
)
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.devices import DEVICE_KINDS, ClockDevice, SimulatedDevice

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

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway

DATE = {"year": 2026, "month": 12, "day": 3}
TIME = {"hour": 7, "minutes": 30, "seconds": 15}
DATETIME = {"year": 2026, "month": 6, "day": 1, "hour": 12, "minutes": 0, "seconds": 5}
OBJECTS = [
    {"write_address": "1/6/30", "status_address": "1/6/31", "dpt": "11.001", "value": DATE},
    {"write_address": "1/6/32", "status_address": "1/6/33", "dpt": "10.001", "value": TIME},
    {"write_address": "1/6/34", "status_address": "1/6/35", "dpt": "19.001", "value": DATETIME},
    {"write_address": "2/6/11", "dpt": "10.001", "value": TIME},
]
# (subentry type, write address, status address, entity domain)
KINDS = {
    SUBENTRY_DATE: ("1/6/30", "1/6/31"),
    SUBENTRY_TIME: ("1/6/32", "1/6/33"),
    SUBENTRY_DATETIME: ("1/6/34", "1/6/35"),
}


def attach_device[D: SimulatedDevice](
    gateway: VirtualGateway, kind: str, cls: type[D], address: str, spec: dict[str, Any]
) -> D:
    """A simulated device of the demo home (installation file kind) behind the gateway."""
    device = DEVICE_KINDS[kind](
        IndividualAddress.parse(address), gateway.keyring, gateway.bus, spec, status_delay=0.05
    )
    assert isinstance(device, cls)
    gateway.add_device(device)
    return device


def attach_display(gateway: VirtualGateway, objects: list[dict[str, Any]] = OBJECTS) -> ClockDevice:
    """The demo home's hall display (1.1.12) as a clock with these objects."""
    return attach_device(gateway, "clock", ClockDevice, "1.1.12", {"objects": objects})


def _data(kind: str, **extra: Any) -> dict[str, Any]:
    write, status = KINDS[kind]
    return {
        CONF_NAME: f"Hall {kind}",
        CONF_WRITE_ADDRESS: write,
        CONF_STATE_ADDRESS: status,
        CONF_SYNC_STATE: True,
        **extra,
    }


async def demo_entry(
    hass: HomeAssistant, gateway: VirtualGateway, upload: UploadFile
) -> ConfigEntry:
    return await async_add_gateway_entry(
        hass, gateway, upload, keyring_source=DEMO_KEYRING_BYTES, password=DEMO_KEYRING_PASSWORD
    )


async def _add(hass: HomeAssistant, entry: ConfigEntry, kind: str, data: dict[str, Any]) -> str:
    subentry = await async_add_subentry(hass, entry, kind, data)
    return entity_id_for(hass, entry, subentry, kind)


async def _set(hass: HomeAssistant, domain: str, entity_id: str, **data: Any) -> None:
    await hass.services.async_call(
        domain, "set_value", {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
    )


def _local(value: dict[str, int]) -> str:
    moment = datetime(
        value["year"],
        value["month"],
        value["day"],
        value["hour"],
        value["minutes"],
        value["seconds"],
        tzinfo=dt_util.get_default_time_zone(),
    )
    return dt_util.as_utc(moment).isoformat()


async def test_read_at_start_set_and_local_change(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Each entity reads its status at start, sets the clock over Data Secure, and follows
    a change made on the device."""
    device = attach_display(demo_gateway)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    day = await _add(hass, entry, SUBENTRY_DATE, _data(SUBENTRY_DATE))
    clock = await _add(hass, entry, SUBENTRY_TIME, _data(SUBENTRY_TIME))
    moment = await _add(hass, entry, SUBENTRY_DATETIME, _data(SUBENTRY_DATETIME))
    await wait_for(lambda: state_of(hass, day) == "2026-12-03")
    await wait_for(lambda: state_of(hass, clock) == "07:30:15")
    await wait_for(lambda: state_of(hass, moment) == _local(DATETIME))

    await _set(hass, "date", day, date="2027-01-31")
    await _set(hass, "time", clock, time="23:59:58")
    new_moment = datetime(2027, 3, 4, 5, 6, 7, tzinfo=dt_util.get_default_time_zone())
    await _set(hass, "datetime", moment, datetime=new_moment)
    await wait_for(lambda: state_of(hass, day) == "2027-01-31")
    await wait_for(lambda: state_of(hass, clock) == "23:59:58")
    await wait_for(lambda: state_of(hass, moment) == dt_util.as_utc(new_moment).isoformat())
    assert device.value(GroupAddress.parse("1/6/30")) == {"year": 2027, "month": 1, "day": 31}
    assert device.value(GroupAddress.parse("1/6/32")) == {
        "hour": 23,
        "minutes": 59,
        "seconds": 58,
        "day": "no_day",
    }
    written = device.value(GroupAddress.parse("1/6/34"))
    assert isinstance(written, dict)
    assert (written["year"], written["hour"], written["day_of_week"]) == (2027, 5, "thursday")

    device.set_value(GroupAddress.parse("1/6/30"), {"year": 2028, "month": 2, "day": 29})
    await wait_for(lambda: state_of(hass, day) == "2028-02-29")
    assert_gateway_dropped_nothing(demo_gateway)


async def test_read_again_after_a_reconnect(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """The status address is read again when the tunnel comes back; without sync_state it
    is never read."""
    device = attach_display(demo_gateway)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    day = await _add(hass, entry, SUBENTRY_DATE, _data(SUBENTRY_DATE))
    await _add(hass, entry, SUBENTRY_TIME, _data(SUBENTRY_TIME, **{CONF_SYNC_STATE: False}))
    await wait_for(lambda: state_of(hass, day) == "2026-12-03")
    status = GroupAddress.parse("1/6/31")
    await wait_for(lambda: device.reads_answered[status] >= 1)
    before = device.reads_answered[status]

    await demo_gateway.disconnect_all()
    await wait_for(lambda: device.reads_answered[status] > before)
    assert device.reads_answered[GroupAddress.parse("1/6/33")] == 0
    assert_gateway_dropped_nothing(demo_gateway)


async def test_plain_time_without_status_follows_the_write(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A plain address of main group 2 works plain; without a status address the entity
    shows what it wrote (confirmed by the gateway)."""
    device = attach_display(demo_gateway)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    data = {CONF_NAME: "Garage clock", CONF_WRITE_ADDRESS: "2/6/11", CONF_SYNC_STATE: True}
    clock = await _add(hass, entry, SUBENTRY_TIME, data)
    await wait_for(lambda: state_of(hass, clock) == STATE_UNKNOWN)
    await _set(hass, "time", clock, time="06:00:00")
    assert state_of(hass, clock) == "06:00:00"
    assert device.received[GroupAddress.parse("2/6/11")][-1] == {
        "hour": 6,
        "minutes": 0,
        "seconds": 0,
        "day": "no_day",
    }
    assert_gateway_dropped_nothing(demo_gateway)


async def test_restored_until_the_bus_answers(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """The last date is shown at start when no status address is read."""
    attach_display(demo_gateway)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    mock_restore_cache(hass, [State("date.hall_date", "2025-05-05")])
    day = await _add(hass, entry, SUBENTRY_DATE, _data(SUBENTRY_DATE, **{CONF_SYNC_STATE: False}))
    assert day == "date.hall_date"
    await wait_for(lambda: state_of(hass, day) == "2025-05-05")


async def test_form_errors_and_reconfigure_keep_the_entity(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A bad address is a form error; reconfigure changes the addresses, not the entity id."""
    device = attach_display(demo_gateway)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TIME), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**_data(SUBENTRY_TIME), CONF_WRITE_ADDRESS: "1/6/999"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_WRITE_ADDRESS: "invalid_group_address"}

    subentry_id = await async_add_subentry(hass, entry, SUBENTRY_TIME, _data(SUBENTRY_TIME))
    entity_id = entity_id_for(hass, entry, subentry_id, "time")
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TIME),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    assert result["step_id"] == SOURCE_RECONFIGURE
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_NAME: "Garage clock", CONF_WRITE_ADDRESS: "2/6/11", CONF_SYNC_STATE: True},
    )
    assert result["step_id"] == "confirm_plain_group_address"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entity_id_for(hass, entry, subentry_id, "time") == entity_id
    await _set(hass, "time", entity_id, time="01:02:03")
    assert device.received[GroupAddress.parse("2/6/11")]


def test_datetime_conversions_in_the_home_zone() -> None:
    """19.001 carries local time: written and read in Home Assistant's zone; 24:00 is the
    next day's midnight; an invalid time or a fault shows nothing."""
    zone = dt_util.get_default_time_zone()
    moment = datetime(2026, 12, 3, 9, 8, 7, tzinfo=zone)
    assert datetime_from_knx(datetime_to_knx(moment)) == moment
    midnight = {**DATETIME, "hour": 24, "minutes": 0, "seconds": 0}
    assert datetime_from_knx(midnight) == datetime(2026, 6, 2, tzinfo=zone)
    assert datetime_from_knx({**DATETIME, "hour": None}) is None
    assert datetime_from_knx({**DATETIME, "fault": True}) is None
    assert datetime_from_knx({**DATETIME, "day": 31, "month": 2}) is None
