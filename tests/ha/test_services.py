"""Services knx_secure.send and knx_secure.read."""

from __future__ import annotations

import pytest
import voluptuous as vol
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.knx_secure.const import (
    CONF_KEYRING_FILE,
    CONF_TUNNEL,
    DOMAIN,
    TUNNEL_AUTOMATIC,
)
from custom_components.knx_secure.store import keyring_directory, write_pending_keyring

from ..helpers import SWITCH, wait_for
from .conftest import (
    KEYRING_BYTES,
    Setup,
    state_of,
)


async def _send(hass: HomeAssistant, **data: object) -> None:
    await hass.services.async_call(DOMAIN, "send", data, blocking=True)


async def _read(hass: HomeAssistant, **data: object) -> dict:
    response = await hass.services.async_call(
        DOMAIN, "read", data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


async def test_send_values(hass: HomeAssistant, setup: Setup) -> None:
    """A bool, a small int and a raw payload are sent; the actuator and entities follow."""
    await _send(hass, address="1/1/1", value=True)
    assert setup.gateway.switch_state(SWITCH) is True
    await wait_for(lambda: state_of(hass, setup.binary_sensor) == STATE_ON)
    await _send(hass, address="1/257", value=0)
    assert setup.gateway.switch_state(SWITCH) is False
    # A plain group address (no key in the keyring) with data octets.
    await _send(hass, address="5/5/5", payload="0a1b")


async def test_read(hass: HomeAssistant, setup: Setup) -> None:
    """Read returns the actuator's answer (Data Secure, from the actuator 1.1.1)."""
    await _send(hass, address="1/1/1", value=True)
    response = await _read(hass, address="1/1/2")
    assert response == {"address": "1/1/2", "source": "1.1.1", "secure": True, "value": 1}


async def test_read_timeout(hass: HomeAssistant, setup: Setup) -> None:
    """Nobody answers: a translated error."""
    with pytest.raises(HomeAssistantError) as err:
        await _read(hass, address="6/6/6")
    assert err.value.translation_key == "read_timeout"
    assert err.value.translation_placeholders == {"address": "6/6/6"}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"address": "1/1/999", "value": True}, "invalid_group_address"),
        ({"address": "1/1/1", "payload": "zz"}, "invalid_payload"),
        ({"address": "1/1/1", "payload": ""}, "invalid_payload"),
        ({"address": "1/1/1", "value": True, "config_entry_id": "nope"}, "entry_not_found"),
    ],
)
async def test_send_validation(hass: HomeAssistant, setup: Setup, data: dict, key: str) -> None:
    """Bad input raises translated validation errors."""
    with pytest.raises(ServiceValidationError) as err:
        await _send(hass, **data)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key


@pytest.mark.parametrize(
    "data",
    [
        {"address": "1/1/1"},
        {"address": "1/1/1", "value": 64},
        {"address": "1/1/1", "value": True, "payload": "01"},
    ],
)
async def test_send_schema(hass: HomeAssistant, setup: Setup, data: dict) -> None:
    """A value or a payload, not both; small values fit 6 bits."""
    with pytest.raises(vol.Invalid):
        await _send(hass, **data)


async def test_several_entries(hass: HomeAssistant, setup: Setup) -> None:
    """With two gateways the call must name one."""
    name = await hass.async_add_executor_job(
        write_pending_keyring, keyring_directory(hass), KEYRING_BYTES
    )
    second = MockConfigEntry(
        domain=DOMAIN,
        unique_id="second",
        title="Second",
        data={**setup.entry.data, CONF_KEYRING_FILE: name, CONF_TUNNEL: TUNNEL_AUTOMATIC},
    )
    second.add_to_hass(hass)
    assert await hass.config_entries.async_setup(second.entry_id)
    await hass.async_block_till_done()

    with pytest.raises(ServiceValidationError) as err:
        await _send(hass, address="1/1/1", value=True)
    assert err.value.translation_key == "multiple_entries"

    await _send(hass, address="1/1/1", value=True, config_entry_id=second.entry_id)
    assert setup.gateway.switch_state(SWITCH) is True
    response = await _read(hass, address="1/1/2", config_entry_id=setup.entry.entry_id)
    assert response["value"] == 1

    await hass.config_entries.async_unload(second.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _send(hass, address="1/1/1", value=True, config_entry_id=second.entry_id)
    assert err.value.translation_key == "entry_not_loaded"


async def test_no_loaded_entry(hass: HomeAssistant, setup: Setup) -> None:
    """Without a loaded gateway there is nothing to send through."""
    await hass.config_entries.async_unload(setup.entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _send(hass, address="1/1/1", value=True)
    assert err.value.translation_key == "no_loaded_entry"


async def test_tunnel_down(hass: HomeAssistant, setup: Setup) -> None:
    """While the tunnel is down sending fails with a translated error."""
    await setup.gateway.stop()
    await wait_for(lambda: not setup.entry.runtime_data.connected)
    with pytest.raises(HomeAssistantError) as err:
        await _send(hass, address="1/1/1", value=True)
    assert err.value.translation_key in ("not_connected", "write_failed")
