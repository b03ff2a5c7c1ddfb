"""Diagnostics, and no secret in diagnostics or in the log."""

from __future__ import annotations

import json
import logging

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.knx_secure.knx.keyring import Keyring

from .conftest import KEYRING_PASSWORD, Setup, UploadFile, async_add_gateway_entry


def _secrets(keyring: Keyring) -> list[str]:
    return [*keyring.secrets(), KEYRING_PASSWORD]


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup: Setup,
    knx_keyring: Keyring,
) -> None:
    """Connection, tunnel, counters and the keyring summary; nothing secret."""
    await hass.services.async_call(
        "knx_secure", "send", {"address": "1/1/1", "value": True}, blocking=True
    )
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, setup.entry)

    connection = diagnostics["connection"]
    assert connection["connected"] is True
    assert connection["gateway_address"] == "1.1.0"
    assert connection["tunnel_setting"] == "automatic"
    assert connection["tunnel_address"] in {"1.1.252", "1.1.253", "1.1.254", "1.1.255"}
    assert isinstance(diagnostics["counters"]["rejected_telegrams"], dict)
    keyring = diagnostics["keyring"]
    assert keyring["project"] == "Secure Test"
    assert sorted(keyring["group_keys"]) == ["1/1/1", "1/1/2"]
    assert diagnostics["entry"]["data"]["keyring_password"] == "**REDACTED**"

    text = json.dumps(diagnostics)
    leaked = [secret for secret in _secrets(knx_keyring) if secret in text]
    assert not leaked


async def test_no_secret_in_log(
    hass: HomeAssistant,
    gateway,
    upload_file: UploadFile,
    knx_keyring: Keyring,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A whole session at DEBUG (flow, setup, writes, reads, unload) logs no secret."""
    caplog.set_level(logging.DEBUG)
    entry = await async_add_gateway_entry(hass, gateway, upload_file)
    await hass.services.async_call(
        "knx_secure", "send", {"address": "1/1/1", "value": True}, blocking=True
    )
    await hass.services.async_call(
        "knx_secure", "read", {"address": "1/1/2"}, blocking=True, return_response=True
    )
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert "knx_secure" in caplog.text
    leaked = [secret for secret in _secrets(knx_keyring) if secret in caplog.text]
    assert not leaked
