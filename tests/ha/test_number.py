"""Numbers against the demo home's value actuator through the real secure tunnel and the
virtual gateway: set, status from the bus, reads at start and after a reconnect, answers to
reads, Data Secure and plain addresses, the form and reconfigure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.components.number import (
    ATTR_MAX,
    ATTR_MIN,
    ATTR_MODE,
    ATTR_STEP,
    ATTR_VALUE,
    SERVICE_SET_VALUE,
)
from homeassistant.const import ATTR_ENTITY_ID, ATTR_UNIT_OF_MEASUREMENT, CONF_NAME
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import mock_restore_cache_with_extra_data

from custom_components.knx_secure.const import (
    CONF_MAX,
    CONF_MIN,
    CONF_MODE,
    CONF_RESPOND_TO_READ,
    CONF_STATE_ADDRESS,
    CONF_STEP,
    CONF_VALUE_TYPE,
    CONF_WRITE_ADDRESS,
    DOMAIN,
    SUBENTRY_NUMBER,
)

from ..helpers import wait_for
from .conftest import UploadFile, assert_gateway_dropped_nothing, state_of
from .values_helpers import (
    add_entity,
    attach_values,
    demo_entry,
    ga,
    reconfigure,
    submit_form,
)

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway

LEVEL = [{"address": "1/6/1", "status": "1/6/2", "dpt": "5.001", "value": 30}]
BOILER = [{"address": "1/6/3", "status": "1/6/4", "dpt": "9.001", "value": 55.0}]


def _data(**extra: Any) -> dict[str, Any]:
    return {
        CONF_NAME: "Ventilation",
        CONF_WRITE_ADDRESS: "1/6/1",
        CONF_STATE_ADDRESS: "1/6/2",
        CONF_VALUE_TYPE: "5.001",
        CONF_MODE: "slider",
        CONF_RESPOND_TO_READ: False,
        **extra,
    }


async def _set(hass: HomeAssistant, entity_id: str, value: float) -> None:
    await hass.services.async_call(
        "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: entity_id, ATTR_VALUE: value}, blocking=True
    )


async def test_set_status_and_read_at_start_on_data_secure_addresses(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """The status is read at start; a set value reaches the device and comes back on the
    status address; a local change on the device shows; the type's range is the default."""
    device = attach_values(demo_gateway, "1.1.9", LEVEL)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_NUMBER, _data())
    await wait_for(lambda: state_of(hass, entity_id) == "30.0")
    state = hass.states.get(entity_id)
    assert state is not None
    assert (state.attributes[ATTR_MIN], state.attributes[ATTR_MAX]) == (0, 100)
    assert state.attributes[ATTR_STEP] == 1
    assert state.attributes[ATTR_MODE] == "slider"
    assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == "%"

    await _set(hass, entity_id, 75)
    assert device.received(ga("1/6/1")) == [75]
    await wait_for(lambda: state_of(hass, entity_id) == "75.0")

    device.set_value(ga("1/6/1"), 10)  # the knob on the device
    await wait_for(lambda: state_of(hass, entity_id) == "10.0")
    assert_gateway_dropped_nothing(demo_gateway)
    # the number has its own device, under the gateway
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert any(device.model == "Number" for device in devices)
    assert all(ident[0] == DOMAIN for device in devices for ident in device.identifiers)


async def test_read_again_after_a_reconnect(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """The status address is read at start and again when the tunnel comes back."""
    device = attach_values(demo_gateway, "1.1.9", BOILER)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    data = _data(**{CONF_WRITE_ADDRESS: "1/6/3", CONF_STATE_ADDRESS: "1/6/4"})
    data[CONF_VALUE_TYPE] = "9.001"
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_NUMBER, data)
    await wait_for(lambda: state_of(hass, entity_id) == "55.0")
    assert device.reads_answered[ga("1/6/4")] == 1
    await demo_gateway.disconnect_all()
    await wait_for(lambda: device.reads_answered[ga("1/6/4")] >= 2)
    await wait_for(lambda: state_of(hass, entity_id) == "55.0")
    assert_gateway_dropped_nothing(demo_gateway)


async def test_answers_reads_with_its_value_when_asked_to(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """With "respond to read" a device reading the write address at start gets the value
    (Data Secure, from the tunnel); without it nobody answers."""
    device = attach_values(demo_gateway, "1.1.9", [{"address": "1/6/1", "dpt": "5.001"}])
    entry = await demo_entry(hass, demo_gateway, upload_file)
    data = _data(**{CONF_RESPOND_TO_READ: True})
    del data[CONF_STATE_ADDRESS]
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_NUMBER, data)
    await _set(hass, entity_id, 42)
    assert state_of(hass, entity_id) == "42.0"  # the confirmed write (no status address)
    device.read_value(ga("1/6/1"))
    await wait_for(lambda: device.received(ga("1/6/1")) == [42, 42])
    assert_gateway_dropped_nothing(demo_gateway)


async def test_plain_address_of_main_group_2(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    device = attach_values(
        demo_gateway, "1.1.11", [{"address": "2/6/1", "status": "2/6/2", "dpt": "5.001"}]
    )
    entry = await demo_entry(hass, demo_gateway, upload_file)
    data = _data(**{CONF_WRITE_ADDRESS: "2/6/1", CONF_STATE_ADDRESS: "2/6/2"})
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_NUMBER, data)
    await _set(hass, entity_id, 5)
    assert device.received(ga("2/6/1")) == [5]
    await wait_for(lambda: state_of(hass, entity_id) == "5.0")
    assert_gateway_dropped_nothing(demo_gateway)


async def test_a_value_outside_the_range_is_refused(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    attach_values(demo_gateway, "1.1.9", LEVEL)
    entry = await demo_entry(hass, demo_gateway, upload_file)
    data = _data(**{CONF_MIN: 10, CONF_MAX: 50, CONF_STEP: 5})
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_NUMBER, data)
    with pytest.raises(ServiceValidationError):
        await _set(hass, entity_id, 60)


async def test_last_value_restored_until_the_bus_answers(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    entry = await demo_entry(hass, demo_gateway, upload_file)
    _subentry, entity_id = await add_entity(hass, entry, SUBENTRY_NUMBER, _data())
    await hass.config_entries.async_unload(entry.entry_id)
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(entity_id, "33.0"),
                {
                    "native_value": 33.0,
                    "native_unit_of_measurement": "%",
                    "native_min_value": 0,
                    "native_max_value": 100,
                    "native_step": 1,
                },
            )
        ],
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, entity_id) == "33.0"


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_WRITE_ADDRESS: "1/6/x"}, {CONF_WRITE_ADDRESS: "invalid_group_address"}),
        ({CONF_STATE_ADDRESS: "99/1/1"}, {CONF_STATE_ADDRESS: "invalid_group_address"}),
        ({CONF_VALUE_TYPE: "16.000"}, {CONF_VALUE_TYPE: "invalid_value_type"}),
        ({CONF_VALUE_TYPE: "nonsense"}, {CONF_VALUE_TYPE: "invalid_value_type"}),
        ({CONF_MIN: -5}, {CONF_MIN: "outside_type_range"}),
        ({CONF_MAX: 101}, {CONF_MAX: "outside_type_range"}),
        ({CONF_MIN: 50, CONF_MAX: 50}, {CONF_MAX: "max_not_above_min"}),
        ({CONF_STEP: 0}, {CONF_STEP: "step_not_positive"}),
        ({CONF_NAME: " "}, {CONF_NAME: "name_required"}),
    ],
)
async def test_form_errors(
    hass: HomeAssistant,
    demo_gateway: VirtualGateway,
    upload_file: UploadFile,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    entry = await demo_entry(hass, demo_gateway, upload_file)
    result = await submit_form(hass, entry, SUBENTRY_NUMBER, {**_data(), **changes})
    assert result["step_id"] == "user"
    assert result["errors"] == errors


async def test_confirm_step_shows_secure_and_plain_addresses(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    entry = await demo_entry(hass, demo_gateway, upload_file)
    result = await submit_form(hass, entry, SUBENTRY_NUMBER, _data())
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"]["secure_addresses"] == "1/6/1, 1/6/2"
    hass.config_entries.subentries.async_abort(result["flow_id"])
    data = _data(**{CONF_WRITE_ADDRESS: "2/6/1", CONF_STATE_ADDRESS: "2/6/2"})
    result = await submit_form(hass, entry, SUBENTRY_NUMBER, data)
    assert result["step_id"] == "confirm_plain_group_address"
    assert result["description_placeholders"]["plain_addresses"] == "2/6/1, 2/6/2"
    hass.config_entries.subentries.async_abort(result["flow_id"])


async def test_reconfigure_keeps_the_entity(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    attach_values(demo_gateway, "1.1.9", [*LEVEL, *BOILER])
    entry = await demo_entry(hass, demo_gateway, upload_file)
    subentry_id, entity_id = await add_entity(hass, entry, SUBENTRY_NUMBER, _data())
    await wait_for(lambda: state_of(hass, entity_id) == "30.0")
    data = _data(**{CONF_WRITE_ADDRESS: "1/6/3", CONF_STATE_ADDRESS: "1/6/4"})
    data.update({CONF_VALUE_TYPE: " temperature ", CONF_NAME: "Boiler"})
    await reconfigure(hass, entry, SUBENTRY_NUMBER, subentry_id, data)
    await wait_for(lambda: state_of(hass, entity_id) == "55.0")
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == "°C"
    assert state.attributes["friendly_name"] == "Boiler"
    assert entry.subentries[subentry_id].data[CONF_VALUE_TYPE] == "9.001"
