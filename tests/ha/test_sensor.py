"""Sensors: values of any numeric or text datapoint type from the demo home's sensor devices,
through the real secure tunnel and the virtual gateway (docs/DEMO.md: 1.1.6 on the Data Secure
1/5/1..1/5/6, 1.1.8 on the plain 2/5/1)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    CONF_DEVICE_CLASS,
    CONF_NAME,
    CONF_UNIT_OF_MEASUREMENT,
    EVENT_STATE_CHANGED,
    EVENT_STATE_REPORTED,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import mock_restore_cache_with_extra_data

from custom_components.knx_secure.const import (
    CONF_ALWAYS_RECORD,
    CONF_STATE_ADDRESS,
    CONF_STATE_CLASS,
    CONF_SYNC_STATE,
    CONF_VALUE_TYPE,
    SUBENTRY_SENSOR,
)
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.devices import DEVICE_KINDS, SensorDevice
from custom_components.knx_secure.sensor_types import SENSOR_TYPES, sensor_defaults

from ..helpers import wait_for
from .conftest import (
    DEMO_KEYRING_BYTES,
    DEMO_KEYRING_PASSWORD,
    FIXTURES,
    UploadFile,
    assert_gateway_dropped_nothing,
    async_add_gateway_entry,
    async_add_subentry,
    entity_id_for,
    state_of,
)

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway

# The demo home's outdoor sensors (1.1.6, Data Secure): type and value (each one DPT 9
# carries exactly).
OUTDOOR = {
    "1/5/1": ("9.001", 21.5),
    "1/5/2": ("9.007", 45.0),
    "1/5/3": ("9.004", 320.0),
    "1/5/4": ("9.005", 5.0),
    "1/5/5": ("14.056", 1234.5),
    "1/5/6": ("13.013", 5000),
}
# Device class, unit and state class of each type by default, and the state shown (Home
# Assistant shows wind speeds in km/h in its metric system).
EXPECTED = {
    "9.001": (SensorDeviceClass.TEMPERATURE, "°C", SensorStateClass.MEASUREMENT, "21.5"),
    "9.007": (SensorDeviceClass.HUMIDITY, "%", SensorStateClass.MEASUREMENT, "45.0"),
    "9.004": (SensorDeviceClass.ILLUMINANCE, "lx", SensorStateClass.MEASUREMENT, "320.0"),
    "9.005": (SensorDeviceClass.WIND_SPEED, "km/h", SensorStateClass.MEASUREMENT, "18.0"),
    "14.056": (SensorDeviceClass.POWER, "W", SensorStateClass.MEASUREMENT, "1234.5"),
    "13.013": (SensorDeviceClass.ENERGY, "kWh", SensorStateClass.TOTAL_INCREASING, "5000"),
}


def _spec(values: dict[str, tuple[str, Any]], **extra: float) -> dict[str, Any]:
    return {
        "values": [
            {"address": address, "dpt": dpt_id, "value": value, **extra}
            for address, (dpt_id, value) in values.items()
        ]
    }


def _attach(gateway: VirtualGateway, address: str, spec: dict[str, Any]) -> SensorDevice:
    """A sensor device of the demo home behind the gateway."""
    device = DEVICE_KINDS["sensor"](
        IndividualAddress.parse(address), gateway.keyring, gateway.bus, spec, status_delay=0.05
    )
    assert isinstance(device, SensorDevice)
    gateway.add_device(device)
    return device


def _data(address: str, dpt_id: str, **extra: Any) -> dict[str, Any]:
    return {
        CONF_NAME: f"Sensor {address}",
        CONF_STATE_ADDRESS: address,
        CONF_VALUE_TYPE: dpt_id,
        CONF_SYNC_STATE: True,
        CONF_ALWAYS_RECORD: False,
        **extra,
    }


async def _entry(hass: HomeAssistant, gateway: VirtualGateway, upload: UploadFile) -> ConfigEntry:
    return await async_add_gateway_entry(
        hass, gateway, upload, keyring_source=DEMO_KEYRING_BYTES, password=DEMO_KEYRING_PASSWORD
    )


async def _add(hass: HomeAssistant, entry: ConfigEntry, data: dict[str, Any]) -> str:
    """Add a sensor subentry; return its entity id."""
    subentry = await async_add_subentry(hass, entry, SUBENTRY_SENSOR, data)
    return entity_id_for(hass, entry, subentry, "sensor")


def _state(hass: HomeAssistant, entity_id: str) -> State:
    state = hass.states.get(entity_id)
    assert state is not None
    return state


async def test_secure_sensors_read_at_start_with_the_types_classes(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Every outdoor value is read at start over Data Secure and shown with the device
    class, unit and state class of its type."""
    device = _attach(demo_gateway, "1.1.6", _spec(OUTDOOR))
    entry = await _entry(hass, demo_gateway, upload_file)
    entities = {
        address: await _add(hass, entry, _data(address, dpt_id))
        for address, (dpt_id, _) in OUTDOOR.items()
    }
    for address, (dpt_id, _) in OUTDOOR.items():
        entity_id = entities[address]
        device_class, unit, state_class, shown = EXPECTED[dpt_id]
        await wait_for(lambda e=entity_id, v=shown: state_of(hass, e) == v, message=entity_id)
        attributes = _state(hass, entity_id).attributes
        assert attributes[ATTR_DEVICE_CLASS] == device_class
        assert attributes[ATTR_UNIT_OF_MEASUREMENT] == unit
        assert attributes["state_class"] == state_class
    assert set(device.reads_answered) == {GroupAddress.parse(a) for a in OUTDOOR}
    assert_gateway_dropped_nothing(demo_gateway)


async def test_values_from_the_bus_and_the_periodic_walk(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A local change on the device and its periodic sending both reach the sensor."""
    device = _attach(
        demo_gateway,
        "1.1.6",
        {
            "values": [
                {"address": "1/5/1", "dpt": "9.001", "value": 10},
                {"address": "1/5/5", "dpt": "14.056", "value": 500, "period": 0.02},
                {"address": "1/5/2", "dpt": "9.007", "value": 50, "period": 0.02, "variation": 5},
            ]
        },
    )
    entry = await _entry(hass, demo_gateway, upload_file)
    temperature = await _add(hass, entry, _data("1/5/1", "9.001"))
    humidity = await _add(hass, entry, _data("1/5/2", "9.007", **{CONF_SYNC_STATE: False}))
    await wait_for(lambda: state_of(hass, temperature) == "10.0")

    device.set_value(GroupAddress.parse("1/5/1"), -4.5)
    await wait_for(lambda: state_of(hass, temperature) == "-4.5")

    # Not read at start: the first value is one the device sent by itself; then it moves.
    await wait_for(lambda: state_of(hass, humidity) not in (STATE_UNKNOWN, STATE_UNAVAILABLE))
    first = state_of(hass, humidity)
    await wait_for(lambda: state_of(hass, humidity) != first)
    assert 0 <= float(_state(hass, humidity).state) <= 100
    assert device.reads_answered[GroupAddress.parse("1/5/2")] == 0
    assert_gateway_dropped_nothing(demo_gateway)


async def test_read_again_after_a_reconnect(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """The sensor reads its address again when the tunnel comes back (a gateway reset)."""
    device = _attach(demo_gateway, "1.1.6", _spec({"1/5/1": ("9.001", 20)}))
    entry = await _entry(hass, demo_gateway, upload_file)
    entity_id = await _add(hass, entry, _data("1/5/1", "9.001"))
    await wait_for(lambda: state_of(hass, entity_id) == "20.0")
    address = GroupAddress.parse("1/5/1")
    assert device.reads_answered[address] == 1

    await demo_gateway.disconnect_all()
    await wait_for(lambda: device.reads_answered[address] >= 2)
    await wait_for(lambda: state_of(hass, entity_id) == "20.0")
    assert_gateway_dropped_nothing(demo_gateway)


async def test_plain_sensor_text_and_enum(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """The garage's plain 2/5/1 works plain; a text and a state show as strings."""
    device = _attach(
        demo_gateway,
        "1.1.8",
        _spec(
            {
                "2/5/1": ("9.001", 12.5),
                "2/5/2": ("16.000", "Door open"),
                "2/5/3": ("20.102", "comfort"),
            }
        ),
    )
    entry = await _entry(hass, demo_gateway, upload_file)
    garage = await _add(hass, entry, _data("2/5/1", "9.001"))
    text = await _add(hass, entry, _data("2/5/2", "16.000"))
    mode = await _add(hass, entry, _data("2/5/3", "20.102"))
    await wait_for(lambda: state_of(hass, garage) == "12.5")
    await wait_for(lambda: state_of(hass, text) == "Door open")
    await wait_for(lambda: state_of(hass, mode) == "comfort")
    assert ATTR_UNIT_OF_MEASUREMENT not in _state(hass, text).attributes
    assert "state_class" not in _state(hass, text).attributes
    attributes = _state(hass, mode).attributes
    assert attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.ENUM
    assert attributes["options"] == [
        "auto",
        "comfort",
        "standby",
        "economy",
        "building_protection",
    ]

    device.set_value(GroupAddress.parse("2/5/3"), "economy")
    device.set_value(GroupAddress.parse("2/5/2"), "Door closed")
    await wait_for(lambda: state_of(hass, mode) == "economy")
    await wait_for(lambda: state_of(hass, text) == "Door closed")
    assert_gateway_dropped_nothing(demo_gateway)


async def test_always_record_writes_repeated_equal_values(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """With "always record" every equal value is a new state; without, it is only reported."""
    _attach(demo_gateway, "1.1.6", _spec({"1/5/5": ("14.056", 800)}, period=0.02))
    entry = await _entry(hass, demo_gateway, upload_file)
    always = await _add(hass, entry, _data("1/5/5", "14.056", **{CONF_ALWAYS_RECORD: True}))
    normal = await _add(hass, entry, _data("1/5/5", "14.056"))
    changed: list[str] = []
    reported: list[str] = []

    @callback
    def ours(data: Mapping[str, Any]) -> bool:
        new_state = data["new_state"]
        return new_state is not None and new_state.state == "800.0"

    def record(into: list[str]) -> Callable[[Event[Any]], None]:
        def add(event: Event[Any]) -> None:
            into.append(event.data["entity_id"])

        return add

    hass.bus.async_listen(EVENT_STATE_CHANGED, record(changed), ours)
    hass.bus.async_listen(EVENT_STATE_REPORTED, record(reported), ours)
    await wait_for(lambda: changed.count(always) >= 3)
    # Both listen to the same telegrams: the other one changed at most once (its first
    # value after subscribing) and reported the rest.
    assert changed.count(normal) <= 1
    assert reported.count(normal) >= 2
    assert reported.count(always) == 0


async def test_last_value_restored_until_the_bus_answers(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """After a restart the last value shows while nobody answers the read."""
    entry = await _entry(hass, demo_gateway, upload_file)
    entity_id = await _add(hass, entry, _data("1/5/1", "9.001"))  # no device answers
    await hass.config_entries.async_unload(entry.entry_id)
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(entity_id, "19.5"),
                {"native_value": 19.5, "native_unit_of_measurement": "°C"},
            )
        ],
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, entity_id) == "19.5"


async def _form(hass: HomeAssistant, entry: ConfigEntry, data: dict[str, Any]) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_SENSOR), context={"source": SOURCE_USER}
    )
    return await hass.config_entries.subentries.async_configure(result["flow_id"], data)


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_STATE_ADDRESS: "1/5/x"}, {CONF_STATE_ADDRESS: "invalid_group_address"}),
        ({CONF_VALUE_TYPE: "nonsense"}, {CONF_VALUE_TYPE: "invalid_value_type"}),
        ({CONF_VALUE_TYPE: "1.001"}, {CONF_VALUE_TYPE: "invalid_value_type"}),  # binary
        ({CONF_VALUE_TYPE: "232.600"}, {CONF_VALUE_TYPE: "invalid_value_type"}),  # a dict
        (
            {CONF_VALUE_TYPE: "16.000", CONF_UNIT_OF_MEASUREMENT: "°C"},
            {CONF_UNIT_OF_MEASUREMENT: "not_numeric"},
        ),
        (
            {CONF_VALUE_TYPE: "20.102", CONF_DEVICE_CLASS: "temperature"},
            {CONF_DEVICE_CLASS: "not_numeric"},
        ),
        ({CONF_UNIT_OF_MEASUREMENT: "W"}, {CONF_UNIT_OF_MEASUREMENT: "unit_not_for_device_class"}),
        ({CONF_DEVICE_CLASS: "power"}, {CONF_DEVICE_CLASS: "unit_not_for_device_class"}),
        (
            {CONF_VALUE_TYPE: "13.013", CONF_STATE_CLASS: "measurement"},
            {CONF_STATE_CLASS: "state_class_not_for_device_class"},
        ),
        (
            {
                CONF_VALUE_TYPE: "14.056",
                CONF_DEVICE_CLASS: "energy",
                CONF_UNIT_OF_MEASUREMENT: "Wh",
            },
            {CONF_DEVICE_CLASS: "state_class_not_for_device_class"},
        ),
    ],
)
async def test_form_errors(
    hass: HomeAssistant,
    demo_gateway: VirtualGateway,
    upload_file: UploadFile,
    changes: dict[str, str],
    errors: dict[str, str],
) -> None:
    """Addresses, the type and overrides that do not fit the type are refused."""
    entry = await _entry(hass, demo_gateway, upload_file)
    result = await _form(hass, entry, {**_data("1/5/1", "9.001"), **changes})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == errors


async def test_form_normalizes_the_type_and_keeps_only_overrides(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A type given by name is stored by id; empty overrides are not stored; an override
    that fits replaces the type's default."""
    _attach(demo_gateway, "1.1.6", _spec({"1/5/2": ("9.007", 60)}))
    entry = await _entry(hass, demo_gateway, upload_file)
    data = _data(
        "1/5/2",
        " humidity ",
        **{CONF_DEVICE_CLASS: "moisture", CONF_UNIT_OF_MEASUREMENT: ""},
    )
    entity_id = await _add(hass, entry, data)
    (subentry,) = (s for s in entry.subentries.values() if s.subentry_type == SUBENTRY_SENSOR)
    assert subentry.data[CONF_VALUE_TYPE] == "9.007"
    assert CONF_UNIT_OF_MEASUREMENT not in subentry.data
    assert CONF_STATE_CLASS not in subentry.data
    await wait_for(lambda: state_of(hass, entity_id) == "60.0")
    attributes = _state(hass, entity_id).attributes
    assert attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.MOISTURE
    assert attributes[ATTR_UNIT_OF_MEASUREMENT] == "%"


async def test_confirm_step_counts_only_the_read_at_start(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A plain address warns; the step also tells how the sensor will show its values."""
    entry = await _entry(hass, demo_gateway, upload_file)
    result = await _form(hass, entry, _data("2/5/1", "9.001"))
    assert result["step_id"] == "confirm_plain_group_address"
    assert result["description_placeholders"]["plain_addresses"] == "2/5/1"
    hass.config_entries.subentries.async_abort(result["flow_id"])
    result = await _form(hass, entry, _data("1/5/1", "9.001"))
    assert result["step_id"] == "confirm"
    placeholders = result["description_placeholders"]
    assert placeholders["secure_addresses"] == "1/5/1"
    # ... and how the sensor will show its values: the type's classes, or the form's.
    assert placeholders[CONF_VALUE_TYPE] == "9.001 temperature (°C)"
    assert placeholders[CONF_DEVICE_CLASS] == "temperature"
    assert placeholders["unit"] == "°C"
    assert placeholders[CONF_STATE_CLASS] == "measurement"
    hass.config_entries.subentries.async_abort(result["flow_id"])
    result = await _form(hass, entry, _data("1/5/1", "16.000", **{CONF_SYNC_STATE: False}))
    assert result["step_id"] == "confirm"
    placeholders = result["description_placeholders"]
    assert (placeholders[CONF_DEVICE_CLASS], placeholders["unit"]) == ("—", "—")
    assert placeholders[CONF_STATE_CLASS] == "—"
    hass.config_entries.subentries.async_abort(result["flow_id"])


async def test_reconfigure_keeps_the_entity(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Another type and name: same entity id and unique id, the new type's unit."""
    _attach(demo_gateway, "1.1.6", _spec({"1/5/1": ("9.001", 21)}))
    entry = await _entry(hass, demo_gateway, upload_file)
    subentry_id = await async_add_subentry(hass, entry, SUBENTRY_SENSOR, _data("1/5/1", "9.001"))
    entity_id = entity_id_for(hass, entry, subentry_id, "sensor")
    before = er.async_get(hass).async_get(entity_id)
    assert before is not None

    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_SENSOR),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**_data("1/5/1", "9.002"), CONF_NAME: "Outdoor"}
    )
    assert result["step_id"] == "confirm"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    after = er.async_get(hass).async_get(entity_id)
    assert after is not None
    assert after.unique_id == before.unique_id
    await wait_for(lambda: state_of(hass, entity_id) == "21.0")
    attributes = _state(hass, entity_id).attributes
    assert attributes[ATTR_UNIT_OF_MEASUREMENT] == "K"
    assert ATTR_DEVICE_CLASS not in attributes
    assert attributes["friendly_name"] == "Outdoor"


def test_every_default_is_one_home_assistant_accepts() -> None:
    """Each type's device class allows its unit and state class; texts have neither."""
    from homeassistant.components.sensor.const import (  # noqa: PLC0415
        DEVICE_CLASS_STATE_CLASSES,
        DEVICE_CLASS_UNITS,
    )

    for dpt_id, dpt in SENSOR_TYPES.items():
        defaults = sensor_defaults(dpt)
        if defaults.device_class is None or defaults.device_class is SensorDeviceClass.ENUM:
            continue
        assert defaults.unit in DEVICE_CLASS_UNITS[defaults.device_class], dpt_id
        assert defaults.state_class in DEVICE_CLASS_STATE_CLASSES[defaults.device_class], dpt_id
    assert "1.001" not in SENSOR_TYPES
    assert "232.600" not in SENSOR_TYPES
    assert sensor_defaults(SENSOR_TYPES["16.000"]).unit is None


async def test_only_the_read_at_start_needs_sender_rights(
    hass: HomeAssistant, socket_enabled: None, mock_search: Any, upload_file: UploadFile
) -> None:
    """SecureTest keyring: tunnel 5.0.2 is no Data Secure sender of 0/4/0. A sensor that
    reads it at start gets the warning; one that only listens does not."""
    from custom_components.knx_secure.knx.gateway import VirtualGateway  # noqa: PLC0415
    from custom_components.knx_secure.knx.keyring import load_keyring  # noqa: PLC0415

    path = FIXTURES / "SecureTest.knxkeys"
    virtual = VirtualGateway(await hass.async_add_executor_job(load_keyring, path, "test"))
    await virtual.start()
    try:
        entry = await async_add_gateway_entry(
            hass,
            virtual,
            upload_file,
            tunnel="5.0.2",
            keyring_source=path.read_bytes(),
            password="test",
        )
        result = await _form(hass, entry, _data("0/4/0", "9.001"))
        assert result["step_id"] == "confirm_tunnel_not_sender"
        assert result["description_placeholders"]["not_sender_addresses"] == "0/4/0"
        hass.config_entries.subentries.async_abort(result["flow_id"])
        result = await _form(hass, entry, _data("0/4/0", "9.001", **{CONF_SYNC_STATE: False}))
        assert result["step_id"] == "confirm"
        hass.config_entries.subentries.async_abort(result["flow_id"])
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await virtual.stop()
