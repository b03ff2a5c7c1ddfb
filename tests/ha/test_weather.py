"""Weather: the demo home's weather station (1.1.14: Data Secure 1/6/50..1/6/60) as one
weather entity with a derived condition, through the real secure tunnel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.config_entries import SOURCE_RECONFIGURE
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.knx_secure.const import (
    CONF_AIR_PRESSURE_ADDRESS,
    CONF_BRIGHTNESS_EAST_ADDRESS,
    CONF_BRIGHTNESS_NORTH_ADDRESS,
    CONF_BRIGHTNESS_SOUTH_ADDRESS,
    CONF_BRIGHTNESS_WEST_ADDRESS,
    CONF_FROST_ALARM_ADDRESS,
    CONF_HUMIDITY_ADDRESS,
    CONF_RAIN_ALARM_ADDRESS,
    CONF_SYNC_STATE,
    CONF_TEMPERATURE_ADDRESS,
    CONF_WIND_DIRECTION_ADDRESS,
    CONF_WIND_SPEED_ADDRESS,
    SUBENTRY_WEATHER,
)
from custom_components.knx_secure.knx.address import GroupAddress
from custom_components.knx_secure.knx.devices import SensorDevice
from custom_components.knx_secure.knx.dpt import get_dpt
from custom_components.knx_secure.weather_types import derive_condition

from ..helpers import wait_for
from .conftest import (
    UploadFile,
    assert_gateway_dropped_nothing,
    async_add_subentry,
    entity_id_for,
    state_of,
)
from .test_clock import attach_device, demo_entry

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway

STATION = {
    "temperature": {"address": "1/6/50", "value": 12.5},
    "brightness_south": {"address": "1/6/51", "value": 24576},
    "brightness_west": {"address": "1/6/52", "value": 8000},
    "brightness_east": {"address": "1/6/53", "value": 3000},
    "brightness_north": {"address": "1/6/54", "value": 1500},
    "wind_speed": {"address": "1/6/55", "value": 3.5},
    "wind_direction": {"address": "1/6/56", "value": 270},
    "rain_alarm": {"address": "1/6/57", "value": False},
    "frost_alarm": {"address": "1/6/58", "value": False},
    "humidity": {"address": "1/6/59", "value": 60},
    "air_pressure": {"address": "1/6/60", "value": 101300},
}
DATA = {
    CONF_NAME: "Roof",
    CONF_TEMPERATURE_ADDRESS: "1/6/50",
    CONF_BRIGHTNESS_SOUTH_ADDRESS: "1/6/51",
    CONF_BRIGHTNESS_WEST_ADDRESS: "1/6/52",
    CONF_BRIGHTNESS_EAST_ADDRESS: "1/6/53",
    CONF_BRIGHTNESS_NORTH_ADDRESS: "1/6/54",
    CONF_WIND_SPEED_ADDRESS: "1/6/55",
    CONF_WIND_DIRECTION_ADDRESS: "1/6/56",
    CONF_RAIN_ALARM_ADDRESS: "1/6/57",
    CONF_FROST_ALARM_ADDRESS: "1/6/58",
    CONF_HUMIDITY_ADDRESS: "1/6/59",
    CONF_AIR_PRESSURE_ADDRESS: "1/6/60",
    CONF_SYNC_STATE: True,
}


def _attach(gateway: VirtualGateway, spec: dict[str, Any]) -> SensorDevice:
    return attach_device(gateway, "weather_station", SensorDevice, "1.1.14", spec)


def _attributes(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    state = hass.states.get(entity_id)
    assert state is not None
    return dict(state.attributes)


async def test_every_value_read_at_start_and_the_condition_follows(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """All eleven values are read over Data Secure at start; the condition moves with the
    station (sun, wind, rain, snow)."""
    device = _attach(demo_gateway, STATION)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    subentry = await async_add_subentry(hass, entry, SUBENTRY_WEATHER, DATA)
    weather = entity_id_for(hass, entry, subentry, "weather")
    await wait_for(lambda: state_of(hass, weather) == "sunny")
    await wait_for(lambda: _attributes(hass, weather).get("pressure") is not None)
    attributes = _attributes(hass, weather)
    assert attributes["temperature"] == 12.5
    assert attributes["humidity"] == 60
    assert attributes["wind_bearing"] == 270
    assert attributes["wind_speed"] == pytest.approx(12.6)  # 3.5 m/s in km/h
    carried = get_dpt("9.006").decode(get_dpt("9.006").encode(101300))
    assert isinstance(carried, float)
    assert attributes["pressure"] == pytest.approx(carried / 100)  # hPa in the metric system
    assert attributes["brightness_south"] == 24576  # DPT 9 carries it exactly
    assert attributes["rain_alarm"] is False
    assert set(device.reads_answered) == {
        GroupAddress.parse(v["address"]) for v in STATION.values()
    }

    device.set_value(GroupAddress.parse("1/6/51"), 6000)
    await wait_for(lambda: state_of(hass, weather) == "partlycloudy")
    device.set_value(GroupAddress.parse("1/6/55"), 12.0)
    await wait_for(lambda: state_of(hass, weather) == "windy")
    device.set_value(GroupAddress.parse("1/6/57"), True)
    await wait_for(lambda: state_of(hass, weather) == "rainy")
    device.set_value(GroupAddress.parse("1/6/58"), True)
    await wait_for(lambda: state_of(hass, weather) == "snowy-rainy")
    assert_gateway_dropped_nothing(demo_gateway)


async def test_periodic_values_and_reads_after_a_reconnect(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A value the station publishes by itself reaches the entity; the values are read
    again when the tunnel comes back."""
    spec = {
        "temperature": {"address": "1/6/50", "value": 5, "period": 0.02, "variation": 1},
        "brightness_south": {"address": "1/6/51", "value": 5},
    }
    device = _attach(demo_gateway, spec)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    data = {
        CONF_NAME: "Roof",
        CONF_TEMPERATURE_ADDRESS: "1/6/50",
        CONF_BRIGHTNESS_SOUTH_ADDRESS: "1/6/51",
        CONF_SYNC_STATE: True,
    }
    subentry = await async_add_subentry(hass, entry, SUBENTRY_WEATHER, data)
    weather = entity_id_for(hass, entry, subentry, "weather")
    await wait_for(lambda: state_of(hass, weather) == "clear-night")
    first = _attributes(hass, weather)["temperature"]
    await wait_for(lambda: _attributes(hass, weather)["temperature"] != first)

    address = GroupAddress.parse("1/6/51")
    before = device.reads_answered[address]
    await demo_gateway.disconnect_all()
    await wait_for(lambda: device.reads_answered[address] > before)
    assert_gateway_dropped_nothing(demo_gateway)


@pytest.mark.parametrize(
    ("values", "condition"),
    [
        ({}, None),
        ({CONF_TEMPERATURE_ADDRESS: 20.0}, None),
        ({CONF_RAIN_ALARM_ADDRESS: True}, "rainy"),
        ({CONF_RAIN_ALARM_ADDRESS: True, CONF_TEMPERATURE_ADDRESS: -1.0}, "snowy-rainy"),
        ({CONF_RAIN_ALARM_ADDRESS: True, CONF_FROST_ALARM_ADDRESS: True}, "snowy-rainy"),
        ({CONF_FROST_ALARM_ADDRESS: True, CONF_BRIGHTNESS_EAST_ADDRESS: 30000.0}, "sunny"),
        ({CONF_WIND_SPEED_ADDRESS: 10.8, CONF_BRIGHTNESS_SOUTH_ADDRESS: 50000.0}, "windy"),
        ({CONF_WIND_SPEED_ADDRESS: 10.7, CONF_BRIGHTNESS_NORTH_ADDRESS: 20000.0}, "sunny"),
        ({CONF_BRIGHTNESS_WEST_ADDRESS: 5000.0}, "partlycloudy"),
        ({CONF_BRIGHTNESS_WEST_ADDRESS: 4999.0, CONF_BRIGHTNESS_SOUTH_ADDRESS: 10.0}, "cloudy"),
        ({CONF_BRIGHTNESS_SOUTH_ADDRESS: 9.9}, "clear-night"),
    ],
)
def test_condition_rules(values: dict[str, float | bool], condition: str | None) -> None:
    assert derive_condition(values) == condition


async def test_form_errors_and_reconfigure_keep_the_entity(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A bad address is a form error; a plain address of main group 2 is shown as plain;
    reconfigure keeps the entity id."""
    _attach(demo_gateway, STATION)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_WEATHER), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**DATA, CONF_TEMPERATURE_ADDRESS: "roof"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_TEMPERATURE_ADDRESS: "invalid_group_address"}

    subentry_id = await async_add_subentry(hass, entry, SUBENTRY_WEATHER, DATA)
    entity_id = entity_id_for(hass, entry, subentry_id, "weather")
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_WEATHER),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**DATA, CONF_HUMIDITY_ADDRESS: "2/6/12"}
    )
    assert result["step_id"] == "confirm_plain_group_address"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entity_id_for(hass, entry, subentry_id, "weather") == entity_id
