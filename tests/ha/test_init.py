"""Setup, unload, reconnect, reauth at runtime and repair issues."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from pathlib import Path

import pytest
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component

from custom_components.knx_secure.const import DOMAIN, SUBENTRY_SWITCH
from custom_components.knx_secure.knx.address import IndividualAddress
from custom_components.knx_secure.knx.drops import DropReason
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring
from custom_components.knx_secure.repairs import issue_id as rejected_issue_id

from ..helpers import STATUS, SWITCH, client_sockets, virtual_gateway, wait_for
from .conftest import (
    DEMO_KEYRING_BYTES,
    DEMO_KEYRING_PASSWORD,
    KEYRING_BYTES,
    KEYRING_PASSWORD,
    SWITCH_DATA,
    Setup,
    UploadFile,
    assert_gateway_dropped_nothing,
    async_add_gateway_entry,
    async_add_subentry,
    entity_id_for,
    gateway_device,
    state_of,
)

CHANGED_PASSWORDS = dict.fromkeys(range(2, 6), "changed in ETS")


def _integration_tasks() -> list[asyncio.Task]:
    """Running tasks whose coroutine comes from the integration or its library."""
    tasks = []
    for task in asyncio.all_tasks():
        coro = task.get_coro()
        code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
        if code is not None and "knx_secure" in code.co_filename and not task.done():
            tasks.append(task)
    return tasks


async def test_setup_creates_gateway_device(hass: HomeAssistant, setup: Setup) -> None:
    """The gateway is a device; the entities and the diagnostic sensor belong to it."""
    device = gateway_device(hass, setup.entry)
    assert device.model_id == "1.1.0"
    assert setup.entry.runtime_data.connected
    await wait_for(lambda: state_of(hass, setup.binary_sensor) == STATE_OFF)


async def test_unload_leaves_nothing_behind(hass: HomeAssistant, setup: Setup) -> None:
    """Unload closes the tunnel and ends every task of the integration."""
    port = setup.gateway.address[1]
    assert client_sockets(port)
    assert await hass.config_entries.async_unload(setup.entry.entry_id)
    await hass.async_block_till_done()
    assert setup.entry.state is ConfigEntryState.NOT_LOADED
    await wait_for(lambda: not _integration_tasks(), message="tasks left")
    gc.collect()
    assert not client_sockets(port)
    assert state_of(hass, setup.switch) == STATE_UNAVAILABLE


async def test_setup_retry_when_gateway_is_down(hass: HomeAssistant, setup: Setup) -> None:
    """No gateway at setup: ConfigEntryNotReady (Home Assistant retries later)."""
    await hass.config_entries.async_unload(setup.entry.entry_id)
    await setup.gateway.stop()
    assert not await hass.config_entries.async_setup(setup.entry.entry_id)
    assert setup.entry.state is ConfigEntryState.SETUP_RETRY


async def test_reconnect_after_gateway_restart(
    hass: HomeAssistant, setup: Setup, knx_keyring: Keyring
) -> None:
    """Gateway stop: entities unavailable. Start again on the same port: they come back."""
    await wait_for(lambda: state_of(hass, setup.binary_sensor) == STATE_OFF)
    port = setup.gateway.address[1]
    await setup.gateway.stop()
    await wait_for(lambda: state_of(hass, setup.switch) == STATE_UNAVAILABLE)
    assert state_of(hass, setup.binary_sensor) == STATE_UNAVAILABLE

    again = virtual_gateway(knx_keyring, port=port)
    # Someone switched the light on while Home Assistant had no tunnel.
    again.set_switch(SWITCH, True)
    await again.start()
    try:
        await wait_for(lambda: state_of(hass, setup.switch) != STATE_UNAVAILABLE, 10)
        # The status group address was read again after the reconnect.
        await wait_for(lambda: state_of(hass, setup.binary_sensor) == STATE_ON)
        assert state_of(hass, setup.switch) == STATE_ON
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": setup.switch}, blocking=True
        )
        assert not again.switch_state(SWITCH)
        await wait_for(lambda: state_of(hass, setup.binary_sensor) == STATE_OFF)
    finally:
        await hass.config_entries.async_unload(setup.entry.entry_id)
        await again.stop()


async def test_reauth_when_gateway_rejects_credentials(
    hass: HomeAssistant, setup: Setup, knx_keyring: Keyring
) -> None:
    """At runtime the gateway refuses the tunnel password: a reauth flow starts.

    With the right gateway back, the reauth recovers the entry without a restart.
    """
    port = setup.gateway.address[1]
    await setup.gateway.stop()
    strict = virtual_gateway(knx_keyring, port=port, user_passwords=CHANGED_PASSWORDS)
    await strict.start()
    try:
        await wait_for(
            lambda: any(
                flow["context"]["source"] == SOURCE_REAUTH
                for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            ),
            10,
            "no reauth flow",
        )
    finally:
        await strict.stop()
    good = virtual_gateway(knx_keyring, port=port)
    await good.start()
    try:
        (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        result = await hass.config_entries.flow.async_configure(
            flow["flow_id"], {"keyring_password": "passwordprogetto"}
        )
        assert result["reason"] == "reauth_successful"
        await hass.async_block_till_done()
        assert setup.entry.state is ConfigEntryState.LOADED
        await wait_for(lambda: setup.entry.runtime_data.connected)
        await wait_for(lambda: state_of(hass, setup.switch) != STATE_UNAVAILABLE)
    finally:
        await hass.config_entries.async_unload(setup.entry.entry_id)
        await good.stop()


async def test_auth_failure_at_setup_starts_reauth(
    hass: HomeAssistant, setup: Setup, knx_keyring: Keyring
) -> None:
    """Setup with refused credentials fails with ConfigEntryAuthFailed (reauth flow)."""
    port = setup.gateway.address[1]
    await hass.config_entries.async_unload(setup.entry.entry_id)
    await setup.gateway.stop()
    strict = virtual_gateway(knx_keyring, port=port, user_passwords=CHANGED_PASSWORDS)
    await strict.start()
    try:
        assert not await hass.config_entries.async_setup(setup.entry.entry_id)
        assert setup.entry.state is ConfigEntryState.SETUP_ERROR
        flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    finally:
        await strict.stop()


async def test_mac_failures_raise_repair_issue(
    hass: HomeAssistant, setup: Setup, knx_keyring: Keyring
) -> None:
    """Status telegrams under a wrong key fail their MAC; 3 on a used GA raise an issue."""
    coordinator = setup.entry.runtime_data
    port = setup.gateway.address[1]
    await hass.config_entries.async_unload(setup.entry.entry_id)
    await setup.gateway.stop()
    # The actuator answers on 1/1/2 with another key than the keyring's.
    other_keys = dict(knx_keyring.group_keys)
    other_keys[STATUS] = bytes(16)
    forger = virtual_gateway(dataclasses.replace(knx_keyring, group_keys=other_keys), port=port)
    await forger.start()
    try:
        assert await hass.config_entries.async_setup(setup.entry.entry_id)
        await hass.async_block_till_done()
        coordinator = setup.entry.runtime_data
        for value in (True, False, True):
            await hass.services.async_call(
                DOMAIN, "send", {"address": "1/1/1", "value": value}, blocking=True
            )
        await wait_for(lambda: coordinator.mac_failures.get(STATUS, 0) >= 3)
        # no time passes: the client tells the coordinator about each drop (no polling)
        await hass.async_block_till_done()
        issue_id = rejected_issue_id(
            setup.entry.entry_id, DropReason.MAC, IndividualAddress.parse("1.1.1"), STATUS
        )
        issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        placeholders = issue.translation_placeholders
        assert placeholders["address"] == "1/1/2 (Light · state, Light status · state)"
        assert placeholders["sender"] == "1.1.1"
        assert issue.is_fixable

        sensor_id = er.async_get(hass).async_get_entity_id(
            "sensor", DOMAIN, f"{setup.entry.entry_id}_rejected_telegrams"
        )
        assert sensor_id is not None
        sensor = hass.states.get(sensor_id)
        assert sensor is not None
        assert int(sensor.state) >= 3
        assert sensor.attributes["mac"] >= 3
        assert sensor.attributes["mac_failures_by_group_address"]["1/1/2"] >= 3

        # Removing the entry removes its issues.
        await hass.config_entries.async_remove(setup.entry.entry_id)
        assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    finally:
        await forger.stop()


async def test_config_entry_only(hass: HomeAssistant) -> None:
    """YAML configuration is not supported; the services exist after setup."""
    assert await async_setup_component(hass, DOMAIN, {})
    assert hass.services.has_service(DOMAIN, "send")
    assert hass.services.has_service(DOMAIN, "read")


@pytest.mark.parametrize("damage", ["tampered", "missing"])
async def test_damaged_keyring_file_starts_reauth(
    hass: HomeAssistant, setup: Setup, upload_file: UploadFile, damage: str
) -> None:
    """A stored keyring that was changed or deleted: reauth, and a new upload recovers."""
    entry = setup.entry
    await hass.config_entries.async_unload(entry.entry_id)
    path = Path(hass.config.path(".storage", DOMAIN, f"{entry.entry_id}.knxkeys"))
    if damage == "missing":
        await hass.async_add_executor_job(path.unlink)
    else:
        await hass.async_add_executor_job(
            path.write_bytes, KEYRING_BYTES.replace(b"Secure Test", b"Secure Tesx")
        )
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH

    # Without a new upload the stored file is still no good.
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"keyring_password": KEYRING_PASSWORD}
    )
    assert result["errors"] == {
        "keyring_upload": "keyring_file_missing" if damage == "missing" else "invalid_keyring_file"
    }
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"],
        {"keyring_upload": await upload_file(KEYRING_BYTES), "keyring_password": KEYRING_PASSWORD},
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.async_add_executor_job(path.read_bytes) == KEYRING_BYTES


async def test_tunnel_gone_from_keyring_falls_back_to_automatic(
    hass: HomeAssistant, setup: Setup
) -> None:
    """A configured tunnel the keyring no longer has: the entry connects automatically."""
    entry = setup.entry
    await hass.config_entries.async_unload(entry.entry_id)
    hass.config_entries.async_update_entry(entry, data={**entry.data, "tunnel": "1.1.99"})
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.runtime_data.connected
    assert str(entry.runtime_data.client.individual_address).startswith("1.1.25")


async def test_the_demo_home_entry_loads_with_the_seed_switch(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """The demo keyring works through the whole flow: a switch on its seed actuator."""
    entry = await async_add_gateway_entry(
        hass,
        demo_gateway,
        upload_file,
        keyring_source=DEMO_KEYRING_BYTES,
        password=DEMO_KEYRING_PASSWORD,
    )
    subentry = await async_add_subentry(hass, entry, SUBENTRY_SWITCH, SWITCH_DATA)
    switch = entity_id_for(hass, entry, subentry, "switch")
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    await wait_for(lambda: demo_gateway.switch_state("1/1/1"))
    assert_gateway_dropped_nothing(demo_gateway)
