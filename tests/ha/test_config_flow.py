"""Config flow: every step and every error, against a real virtual gateway."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path
from unittest.mock import AsyncMock, patch

import pytest
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlowResult,
    SubentryFlowResult,
)
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from custom_components.knx_secure.const import (
    CONF_CONNECTION,
    CONF_GATEWAY,
    CONF_GATEWAY_ADDRESS,
    CONF_KEYRING_FILE,
    CONF_KEYRING_PASSWORD,
    CONF_KEYRING_UPLOAD,
    CONF_PROJECT,
    CONF_STATE_ADDRESS,
    CONF_SYNC_STATE,
    CONF_TUNNEL,
    CONF_WRITE_ADDRESS,
    CONNECTION_ROUTING,
    CONNECTION_ROUTING_SECURE,
    CONNECTION_TUNNEL_SECURE,
    DOMAIN,
    GATEWAY_MANUAL,
    SUBENTRY_BINARY_SENSOR,
    SUBENTRY_SWITCH,
    TUNNEL_AUTOMATIC,
)
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.errors import ResponseTimeoutError
from custom_components.knx_secure.knx.keyring import Keyring
from custom_components.knx_secure.subentries.base import EMPTY_LIST, may_send

from ..helpers import FAST, free_port, virtual_gateway
from .conftest import (
    BINARY_SENSOR_DATA,
    FIXTURES,
    KEYRING_BYTES,
    KEYRING_PASSWORD,
    SWITCH_DATA,
    Setup,
    UploadFile,
    async_add_gateway_entry,
    async_skip_project,
    async_start_flow_to_manual,
    form_options,
    gateway_device,
)

HOST_IA = IndividualAddress.parse("1.1.0")


async def _flow_to_tunnel(
    hass: HomeAssistant, upload_file: UploadFile, host: str, port: int
) -> str:
    flow_id = await async_start_flow_to_manual(hass, upload_file)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: host, CONF_PORT: port}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "tunnel"
    return flow_id


async def _reconfigure_keyring_kept(
    hass: HomeAssistant, entry: ConfigEntry, connection: str = CONNECTION_TUNNEL_SECURE
) -> ConfigFlowResult:
    """Start a reconfigure, keep the keyring and choose the connection type."""
    result = await _start(hass, entry, SOURCE_RECONFIGURE)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "connection"
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CONNECTION: connection}
    )


async def _start(hass: HomeAssistant, entry: ConfigEntry, source: str) -> ConfigFlowResult:
    return await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": source, "entry_id": entry.entry_id},
        data=entry.data if source == SOURCE_REAUTH else None,
    )


def _keyring_dir(hass: HomeAssistant) -> Path:
    return Path(hass.config.path(".storage", DOMAIN))


async def test_user_flow_manual_host(hass: HomeAssistant, gateway, upload_file: UploadFile) -> None:
    """Keyring, manual host (described over UDP), automatic tunnel, test, entry."""
    entry = await async_add_gateway_entry(hass, gateway, upload_file)

    host, port = gateway.address
    assert entry.state is ConfigEntryState.LOADED
    assert entry.unique_id == "Secure Test_1.1.0"
    assert entry.title.startswith("Secure Test (")
    assert entry.data[CONF_HOST] == host
    assert entry.data[CONF_PORT] == port
    assert entry.data[CONF_GATEWAY_ADDRESS] == "1.1.0"
    assert entry.data[CONF_TUNNEL] == TUNNEL_AUTOMATIC
    assert entry.data[CONF_PROJECT] == "Secure Test"
    # The keyring was adopted under the entry's id, readable only by its owner.
    assert entry.data[CONF_KEYRING_FILE] == f"{entry.entry_id}.knxkeys"
    path = _keyring_dir(hass) / f"{entry.entry_id}.knxkeys"
    assert path.read_bytes() == KEYRING_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in _keyring_dir(hass).iterdir()) == [path.name]
    assert entry.runtime_data.connected
    assert entry.runtime_data.client.individual_address is not None

    # Removing the entry removes its keyring.
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not path.exists()


async def test_user_flow_discovered_gateway(
    hass: HomeAssistant, gateway, upload_file: UploadFile, mock_search: AsyncMock
) -> None:
    """A gateway found by the search is matched to the keyring's host by its address."""
    from custom_components.knx_secure.knx.discovery import describe_gateway  # noqa: PLC0415

    host, port = gateway.address
    found = await describe_gateway(host, port)
    assert found.individual_address == HOST_IA
    stranger = dataclasses.replace(
        found, individual_address=IndividualAddress.parse("9.9.9"), port=port + 1
    )
    mock_search.return_value = [stranger, found]

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_KEYRING_UPLOAD: await upload_file(KEYRING_BYTES),
            CONF_KEYRING_PASSWORD: KEYRING_PASSWORD,
        },
    )
    assert result["step_id"] == "connection"
    # The search found the keyring's gateway with KNX IP Secure: the secure tunnel first.
    (key,) = result["data_schema"].schema
    assert key.default() == CONNECTION_TUNNEL_SECURE
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CONNECTION: CONNECTION_TUNNEL_SECURE}
    )
    assert result["step_id"] == "gateway"
    options = result["data_schema"].schema[CONF_GATEWAY].config["options"]
    values = [option["value"] for option in options]
    # The keyring's gateway comes first, then the stranger, then manual entry.
    assert values == [f"{host}:{port}", f"{host}:{port + 1}", GATEWAY_MANUAL]
    assert "🔒" in options[0]["label"] or not found.supports_secure

    # A gateway the keyring has no tunnels for is refused and named.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_GATEWAY: f"{host}:{port + 1}"}
    )
    assert result["errors"] == {"base": "host_not_in_keyring"}
    assert result["description_placeholders"]["address"] == "9.9.9"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_GATEWAY: f"{host}:{port}"}
    )
    assert result["step_id"] == "tunnel"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TUNNEL: TUNNEL_AUTOMATIC}
    )
    result = await async_skip_project(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_GATEWAY_ADDRESS] == "1.1.0"
    await hass.async_block_till_done()


async def test_manual_host_not_in_keyring(
    hass: HomeAssistant, gateway, upload_file: UploadFile
) -> None:
    """A gateway that describes itself with an address the keyring lacks is an error."""
    from custom_components.knx_secure.knx.discovery import describe_gateway  # noqa: PLC0415

    host, port = gateway.address
    real = await describe_gateway(host, port)
    flow_id = await async_start_flow_to_manual(hass, upload_file)
    with patch(
        "custom_components.knx_secure.config_flow.async_describe_gateway",
        AsyncMock(
            return_value=dataclasses.replace(
                real, individual_address=IndividualAddress.parse("2.2.0")
            )
        ),
    ):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_HOST: host, CONF_PORT: port}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "host_not_in_keyring"}
    assert result["description_placeholders"]["address"] == "2.2.0"
    assert result["description_placeholders"]["hosts"] == "1.1.0"
    hass.config_entries.flow.async_abort(flow_id)


async def test_manual_host_without_description(
    hass: HomeAssistant, gateway, upload_file: UploadFile
) -> None:
    """No UDP description: the user picks the keyring's host, and the rest works."""
    host, port = gateway.address
    flow_id = await async_start_flow_to_manual(hass, upload_file)
    with patch(
        "custom_components.knx_secure.config_flow.async_describe_gateway",
        AsyncMock(side_effect=ResponseTimeoutError("silent")),
    ):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_HOST: host, CONF_PORT: port}
        )
    assert result["step_id"] == "keyring_host"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_GATEWAY_ADDRESS: "1.1.0"}
    )
    assert result["step_id"] == "tunnel"
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_TUNNEL: "1.1.253"})
    result = await async_skip_project(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.data[CONF_TUNNEL] == "1.1.253"
    assert str(entry.runtime_data.client.individual_address) == "1.1.253"


async def test_tunnel_options(hass: HomeAssistant, gateway, upload_file: UploadFile) -> None:
    """Automatic first, then each tunnel with its address, user id and secure GA count."""
    host, port = gateway.address
    flow_id = await _flow_to_tunnel(hass, upload_file, host, port)
    result = hass.config_entries.flow.async_get(flow_id)
    assert result["step_id"] == "tunnel"
    # Read the form again to inspect its options.
    result = await hass.config_entries.flow.async_configure(flow_id, None)
    options = result["data_schema"].schema[CONF_TUNNEL].config["options"]
    assert [o["value"] for o in options] == [
        TUNNEL_AUTOMATIC,
        "1.1.255",
        "1.1.254",
        "1.1.253",
        "1.1.252",
    ]
    assert options[1]["label"] == "1.1.255 · user ID 2 · 2 Data Secure group addresses"
    hass.config_entries.flow.async_abort(flow_id)


@pytest.mark.parametrize(
    ("content", "password", "field", "error"),
    [
        (KEYRING_BYTES, "wrong password", CONF_KEYRING_PASSWORD, "invalid_keyring_password"),
        (
            KEYRING_BYTES.replace(b'Project="Secure Test"', b'Project="Secure Tesx"'),
            KEYRING_PASSWORD,
            CONF_KEYRING_UPLOAD,
            "invalid_keyring_file",
        ),
        (b"this is not a keyring", KEYRING_PASSWORD, CONF_KEYRING_UPLOAD, "invalid_keyring_file"),
        (
            b'<?xml version="1.0"?><Keyring xmlns="http://knx.org/xml/keyring/2"/>',
            KEYRING_PASSWORD,
            CONF_KEYRING_UPLOAD,
            "invalid_keyring_file",
        ),
    ],
    ids=["wrong_password", "tampered", "not_a_keyring", "other_version"],
)
async def test_keyring_errors(
    hass: HomeAssistant,
    gateway,
    upload_file: UploadFile,
    content: bytes,
    password: str,
    field: str,
    error: str,
) -> None:
    """Keyring errors show on the form; the flow then goes on with a good keyring."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_KEYRING_UPLOAD: await upload_file(content), CONF_KEYRING_PASSWORD: password},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "keyring_retry"  # the upload is held
    assert result["errors"] == {field: error}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_KEYRING_UPLOAD: await upload_file(KEYRING_BYTES),
            CONF_KEYRING_PASSWORD: KEYRING_PASSWORD,
        },
    )
    assert result["step_id"] == "connection"
    hass.config_entries.flow.async_abort(result["flow_id"])
    # Nothing was stored for a flow that did not finish.
    assert not _keyring_dir(hass).exists() or not any(_keyring_dir(hass).iterdir())


async def test_keyring_without_tunnels(
    hass: HomeAssistant, upload_file: UploadFile, knx_keyring: Keyring
) -> None:
    """A keyring without tunnelling interfaces offers routing only."""
    without_tunnels = dataclasses.replace(knx_keyring, interfaces=())
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    with patch(
        "custom_components.knx_secure.config_flow.load_keyring", return_value=without_tunnels
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                CONF_KEYRING_UPLOAD: await upload_file(KEYRING_BYTES),
                CONF_KEYRING_PASSWORD: KEYRING_PASSWORD,
            },
        )
    assert result["step_id"] == "connection"
    assert form_options(result) == [CONNECTION_ROUTING_SECURE, CONNECTION_ROUTING]
    hass.config_entries.flow.async_abort(result["flow_id"])


def _suggested(result: ConfigFlowResult) -> dict[str, object]:
    """The suggested values of a form's fields."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


async def test_cannot_connect(
    hass: HomeAssistant,
    socket_enabled: None,
    mock_search: AsyncMock,
    upload_file: UploadFile,
    knx_keyring: Keyring,
) -> None:
    """Nothing listens on host:port: the manual form again, with the input kept."""
    port = free_port()
    flow_id = await async_start_flow_to_manual(hass, upload_file)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: port}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "manual"
    assert result["errors"] == {"base": "cannot_connect"}
    assert _suggested(result) == {CONF_HOST: "127.0.0.1", CONF_PORT: port}
    assert not hass.config_entries.async_entries(DOMAIN)

    # The user corrects the port on the same form and goes on.
    virtual = virtual_gateway(knx_keyring)
    await virtual.start()
    try:
        host, port = virtual.address
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_HOST: host, CONF_PORT: port}
        )
        assert result["step_id"] == "tunnel"
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_TUNNEL: TUNNEL_AUTOMATIC}
        )
        result = await async_skip_project(hass, result)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        await hass.config_entries.async_unload(result["result"].entry_id)
    finally:
        await virtual.stop()


async def test_gateway_reachable(gateway, knx_keyring: Keyring) -> None:
    """The TCP probe of the manual step: a gateway, a closed port, a host name IDNA refuses."""
    from custom_components.knx_secure.config_flow import (  # noqa: PLC0415
        async_gateway_reachable,
    )

    host, port = gateway.address
    assert await async_gateway_reachable(host, port)
    assert not await async_gateway_reachable("127.0.0.1", free_port())
    # asyncio raises UnicodeError (a ValueError) for a name IDNA refuses, like "bad..host"
    # (the tests' resolver refuses every name, so the error is simulated).
    with patch("asyncio.open_connection", AsyncMock(side_effect=UnicodeError("label empty"))):
        assert not await async_gateway_reachable("bad..host", port)
    # The probe left the gateway usable (it closed its connection before any frame).
    from custom_components.knx_secure.knx.client import SecureTunnelClient  # noqa: PLC0415

    client = SecureTunnelClient(knx_keyring, host, port, timeouts=FAST)
    try:
        await client.connect()
    finally:
        await client.close()


async def test_tunnel_cannot_connect(
    hass: HomeAssistant, socket_enabled: None, mock_search: AsyncMock, upload_file: UploadFile
) -> None:
    """The tunnel test itself cannot connect: cannot_connect on the tunnel form."""
    port = free_port()
    flow_id = await async_start_flow_to_manual(hass, upload_file)
    with patch(
        "custom_components.knx_secure.config_flow.async_gateway_reachable",
        AsyncMock(return_value=True),
    ):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: port}
        )
    assert result["step_id"] == "keyring_host"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_GATEWAY_ADDRESS: "1.1.0"}
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_TUNNEL: TUNNEL_AUTOMATIC}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "tunnel"
    assert result["errors"] == {"base": "cannot_connect"}
    assert not hass.config_entries.async_entries(DOMAIN)
    hass.config_entries.flow.async_abort(flow_id)


async def test_invalid_auth(
    hass: HomeAssistant,
    socket_enabled: None,
    mock_search: AsyncMock,
    upload_file: UploadFile,
    knx_keyring: Keyring,
) -> None:
    """The gateway knows other tunnel passwords: invalid_auth names the tunnel."""
    virtual = virtual_gateway(knx_keyring, user_passwords={4: "not the password"})
    await virtual.start()
    try:
        host, port = virtual.address
        flow_id = await _flow_to_tunnel(hass, upload_file, host, port)
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_TUNNEL: "1.1.253"})
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "invalid_auth"}
        assert result["description_placeholders"]["tunnel"] == "1.1.253 (user ID 4)"
        assert not hass.config_entries.async_entries(DOMAIN)
        hass.config_entries.flow.async_abort(flow_id)
    finally:
        await virtual.stop()


async def test_gateway_authentication_failed(
    hass: HomeAssistant,
    socket_enabled: None,
    mock_search: AsyncMock,
    upload_file: UploadFile,
    knx_keyring: Keyring,
) -> None:
    """A gateway that cannot prove the device authentication code may be an impostor."""
    impostor = virtual_gateway(knx_keyring, device_authentication="someone else")
    await impostor.start()
    try:
        host, port = impostor.address
        flow_id = await _flow_to_tunnel(hass, upload_file, host, port)
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_TUNNEL: TUNNEL_AUTOMATIC}
        )
        assert result["errors"] == {"base": "gateway_authentication_failed"}
        hass.config_entries.flow.async_abort(flow_id)
    finally:
        await impostor.stop()


async def test_no_free_tunnel(
    hass: HomeAssistant, gateway, upload_file: UploadFile, knx_keyring: Keyring
) -> None:
    """All four tunnels are taken by other clients."""
    from custom_components.knx_secure.knx.client import SecureTunnelClient  # noqa: PLC0415

    host, port = gateway.address
    others = [SecureTunnelClient(knx_keyring, host, port, timeouts=FAST) for _ in range(4)]
    try:
        for other in others:
            await other.connect()
        flow_id = await _flow_to_tunnel(hass, upload_file, host, port)
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_TUNNEL: TUNNEL_AUTOMATIC}
        )
        assert result["errors"] == {"base": "no_free_tunnel"}

        # One tunnel frees up: the same form now succeeds.
        await others.pop().close()
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_TUNNEL: TUNNEL_AUTOMATIC}
        )
        result = await async_skip_project(hass, result)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        assert result["result"].state is ConfigEntryState.LOADED
    finally:
        for other in others:
            await other.close()


async def test_already_configured(
    hass: HomeAssistant, setup: Setup, upload_file: UploadFile
) -> None:
    """The same gateway of the same project cannot be added twice."""
    host, port = setup.gateway.address
    flow_id = await async_start_flow_to_manual(hass, upload_file)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: host, CONF_PORT: port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth(hass: HomeAssistant, setup: Setup, upload_file: UploadFile) -> None:
    """Reauth asks for a keyring or a password, tests, updates and reloads the entry."""
    entry = setup.entry
    result = await _start(hass, entry, SOURCE_REAUTH)
    assert result["step_id"] == "reauth_confirm"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEYRING_PASSWORD: "wrong"}
    )
    assert result["errors"] == {CONF_KEYRING_PASSWORD: "invalid_keyring_password"}

    # The stored keyring with its right password.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEYRING_PASSWORD: KEYRING_PASSWORD}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.connected

    # A new keyring upload replaces the stored file under the entry's name.
    result = await _start(hass, entry, SOURCE_REAUTH)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_KEYRING_UPLOAD: await upload_file(KEYRING_BYTES),
            CONF_KEYRING_PASSWORD: KEYRING_PASSWORD,
        },
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_KEYRING_FILE] == f"{entry.entry_id}.knxkeys"
    assert [p.name for p in _keyring_dir(hass).iterdir()] == [f"{entry.entry_id}.knxkeys"]


async def test_reauth_aborted_restores_entry(
    hass: HomeAssistant, setup: Setup, knx_keyring: Keyring
) -> None:
    """The connection test pauses the entry; a flow closed without saving sets it up again."""
    entry = setup.entry
    port = setup.gateway.address[1]
    await setup.gateway.stop()
    result = await _start(hass, entry, SOURCE_REAUTH)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEYRING_PASSWORD: KEYRING_PASSWORD}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    assert entry.state is ConfigEntryState.NOT_LOADED  # paused for the test

    again = virtual_gateway(knx_keyring, port=port)
    await again.start()
    try:
        hass.config_entries.flow.async_abort(result["flow_id"])
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        assert entry.runtime_data.connected
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await again.stop()


async def test_reconfigure_tunnel(hass: HomeAssistant, setup: Setup) -> None:
    """Change the tunnel: the entry reloads on it; entities keep their unique ids."""
    entry = setup.entry
    ent_reg = er.async_get(hass)
    unique_ids = {
        e.entity_id: e.unique_id for e in er.async_entries_for_config_entry(ent_reg, entry.entry_id)
    }
    host, port = setup.gateway.address

    result = await _reconfigure_keyring_kept(hass, entry)
    assert result["step_id"] == "manual"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host, CONF_PORT: port}
    )
    assert result["step_id"] == "tunnel"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TUNNEL: "1.1.254"}
    )
    result = await async_skip_project(hass, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_TUNNEL] == "1.1.254"
    assert str(entry.runtime_data.client.individual_address) == "1.1.254"
    assert {
        e.entity_id: e.unique_id for e in er.async_entries_for_config_entry(ent_reg, entry.entry_id)
    } == unique_ids


async def test_reconfigure_keyring(
    hass: HomeAssistant, setup: Setup, upload_file: UploadFile
) -> None:
    """A new keyring in reconfigure: wrong password first, then it replaces the old file."""
    entry = setup.entry
    host, port = setup.gateway.address
    result = await _start(hass, entry, SOURCE_RECONFIGURE)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_KEYRING_UPLOAD: await upload_file(KEYRING_BYTES), CONF_KEYRING_PASSWORD: "wrong"},
    )
    assert result["errors"] == {CONF_KEYRING_PASSWORD: "invalid_keyring_password"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_KEYRING_UPLOAD: await upload_file(KEYRING_BYTES),
            CONF_KEYRING_PASSWORD: KEYRING_PASSWORD,
        },
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CONNECTION: CONNECTION_TUNNEL_SECURE}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host, CONF_PORT: port}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TUNNEL: TUNNEL_AUTOMATIC}
    )
    result = await async_skip_project(hass, result)
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert [p.name for p in _keyring_dir(hass).iterdir()] == [f"{entry.entry_id}.knxkeys"]


# --- subentries ------------------------------------------------------------------------------


async def test_subentry_switch_and_binary_sensor(hass: HomeAssistant, setup: Setup) -> None:
    """The fixture added both through their flows; their entities exist."""
    ent_reg = er.async_get(hass)
    switch = ent_reg.async_get(setup.switch)
    sensor = ent_reg.async_get(setup.binary_sensor)
    assert switch is not None
    assert sensor is not None
    assert switch.unique_id == f"{setup.entry.entry_id}_{setup.switch_subentry}"
    assert switch.config_subentry_id == setup.switch_subentry
    assert sensor.config_subentry_id == setup.binary_sensor_subentry
    # Each subentry has its own device, connected through the gateway's device.
    dev_reg = dr.async_get(hass)
    gateway = gateway_device(hass, setup.entry)
    assert (gateway.manufacturer, gateway.model) == ("KNX", "KNX IP Secure gateway")
    for entity, model in ((switch, "Switch"), (sensor, "Binary sensor")):
        assert entity.device_id is not None
        device = dev_reg.async_get(entity.device_id)
        assert device is not None
        assert device.via_device_id == gateway.id
        assert (device.manufacturer, device.model) == ("KNX", model)
    assert switch.device_id != sensor.device_id


async def test_subentry_invalid_addresses(hass: HomeAssistant, setup: Setup) -> None:
    """Group addresses are checked; 3-level, 2-level and free notation are accepted."""
    result = await hass.config_entries.subentries.async_init(
        (setup.entry.entry_id, SUBENTRY_SWITCH), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_NAME: "Bad", CONF_WRITE_ADDRESS: "1/1/999", CONF_STATE_ADDRESS: "x"},
    )
    assert result["errors"] == {
        CONF_WRITE_ADDRESS: "invalid_group_address",
        CONF_STATE_ADDRESS: "invalid_group_address",
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_NAME: "Two level", CONF_WRITE_ADDRESS: "1/257", CONF_STATE_ADDRESS: "2306"},
    )
    assert result["step_id"] == "confirm"
    placeholders = result["description_placeholders"]
    # 1/257 is 1/1/1 and 2306 is 1/1/2: both have keys in the keyring.
    assert placeholders["secure_addresses"] == "1/1/1, 1/1/2"
    assert not result["errors"]
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def _confirm_form(
    hass: HomeAssistant, entry: ConfigEntry, subentry_type: str, data: dict[str, object]
) -> SubentryFlowResult:
    """Fill a subentry's form; return its confirm step."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, subentry_type), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], data)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"].startswith("confirm")
    assert not result["errors"]  # warnings never block: they are in the description
    return result


async def test_subentry_confirm_without_warning(hass: HomeAssistant, setup: Setup) -> None:
    """Secure Test: the tunnels are senders of 1/1/1 and 1/1/2; nothing to warn about."""
    entry = setup.entry
    for subentry_type, data in (
        (SUBENTRY_SWITCH, SWITCH_DATA),
        (SUBENTRY_BINARY_SENSOR, BINARY_SENSOR_DATA),
    ):
        result = await _confirm_form(hass, entry, subentry_type, data)
        assert result["step_id"] == "confirm"
        placeholders = result["description_placeholders"]
        assert placeholders[CONF_NAME] == data[CONF_NAME]
        # Automatic: every tunnel of the gateway is a candidate, and each may send.
        assert placeholders["tunnel"] == "1.1.255, 1.1.254, 1.1.253, 1.1.252"
        assert placeholders["secure_addresses"] == (
            "1/1/1, 1/1/2" if subentry_type == SUBENTRY_SWITCH else "1/1/2"
        )
        hass.config_entries.subentries.async_abort(result["flow_id"])


async def test_subentry_confirm_warns_plain(hass: HomeAssistant, setup: Setup) -> None:
    """A group address without a key in the keyring: a warning; saving still works."""
    result = await _confirm_form(
        hass,
        setup.entry,
        SUBENTRY_SWITCH,
        {CONF_NAME: "Half plain", CONF_WRITE_ADDRESS: "1/1/1", CONF_STATE_ADDRESS: "3/3/3"},
    )
    assert result["step_id"] == "confirm_plain_group_address"
    placeholders = result["description_placeholders"]
    assert placeholders["secure_addresses"] == "1/1/1"
    assert placeholders["plain_addresses"] == "3/3/3"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY

    result = await _confirm_form(
        hass,
        setup.entry,
        SUBENTRY_BINARY_SENSOR,
        {**BINARY_SENSOR_DATA, CONF_STATE_ADDRESS: "3/3/4"},
    )
    assert result["step_id"] == "confirm_plain_group_address"
    assert result["description_placeholders"]["secure_addresses"] == EMPTY_LIST
    hass.config_entries.subentries.async_abort(result["flow_id"])


async def test_subentry_confirm_warns_not_sender(
    hass: HomeAssistant, socket_enabled: None, mock_search: AsyncMock, upload_file: UploadFile
) -> None:
    """SecureTest keyring, gateway 5.0.0: tunnel 5.0.2 is no Data Secure sender of 0/4/0.

    Its tunnel 5.0.1 is (the automatic choice): no warning there.
    """
    from custom_components.knx_secure.knx.gateway import VirtualGateway  # noqa: PLC0415
    from custom_components.knx_secure.knx.keyring import load_keyring  # noqa: PLC0415

    path = FIXTURES / "SecureTest.knxkeys"
    keyring = await hass.async_add_executor_job(load_keyring, path, "test")
    ga = GroupAddress.parse("0/4/0")
    assert keyring.group_key(ga) is not None
    assert not may_send(keyring, IndividualAddress.parse("5.0.2"), ga)
    assert may_send(keyring, IndividualAddress.parse("5.0.1"), ga)
    virtual = VirtualGateway(keyring)
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
        assert str(entry.runtime_data.client.individual_address) == "5.0.2"

        result = await _confirm_form(
            hass, entry, SUBENTRY_SWITCH, {CONF_NAME: "Secure", CONF_WRITE_ADDRESS: "0/4/0"}
        )
        assert result["step_id"] == "confirm_tunnel_not_sender"
        placeholders = result["description_placeholders"]
        assert placeholders["not_sender_addresses"] == "0/4/0"
        assert placeholders["not_sender_tunnels"] == "5.0.2"
        # A warning, not a refusal: the switch can be saved.
        result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()

        # Both problems at once: a plain status address beside the write address.
        result = await _confirm_form(
            hass,
            entry,
            SUBENTRY_SWITCH,
            {CONF_NAME: "Both", CONF_WRITE_ADDRESS: "0/4/0", CONF_STATE_ADDRESS: "0/4/9"},
        )
        assert result["step_id"] == "confirm_plain_and_not_sender"
        assert result["description_placeholders"]["plain_addresses"] == "0/4/9"
        hass.config_entries.subentries.async_abort(result["flow_id"])

        # A binary sensor sends only its read at start.
        sensor = {**BINARY_SENSOR_DATA, CONF_STATE_ADDRESS: "0/4/0"}
        result = await _confirm_form(hass, entry, SUBENTRY_BINARY_SENSOR, sensor)
        assert result["step_id"] == "confirm_tunnel_not_sender"
        hass.config_entries.subentries.async_abort(result["flow_id"])
        result = await _confirm_form(
            hass, entry, SUBENTRY_BINARY_SENSOR, {**sensor, CONF_SYNC_STATE: False}
        )
        assert result["step_id"] == "confirm"
        hass.config_entries.subentries.async_abort(result["flow_id"])

        # Automatic connects to 5.0.1, a sender of 0/4/0, but may end up on 5.0.2 after a
        # reconnect: the warning names 5.0.2.
        result = await _reconfigure_keyring_kept(hass, entry)
        host, port = virtual.address
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: host, CONF_PORT: port}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_TUNNEL: TUNNEL_AUTOMATIC}
        )
        result = await async_skip_project(hass, result)
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        assert str(entry.runtime_data.client.individual_address) == "5.0.1"
        result = await _confirm_form(
            hass, entry, SUBENTRY_SWITCH, {CONF_NAME: "Secure", CONF_WRITE_ADDRESS: "0/4/0"}
        )
        assert result["step_id"] == "confirm_tunnel_not_sender"
        placeholders = result["description_placeholders"]
        assert placeholders["tunnel"].startswith("5.0.1, 5.0.2, ")
        assert "5.0.1" not in placeholders["not_sender_tunnels"]
        assert "5.0.2" in placeholders["not_sender_tunnels"]
        hass.config_entries.subentries.async_abort(result["flow_id"])
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await virtual.stop()


async def test_subentry_reconfigure(hass: HomeAssistant, setup: Setup) -> None:
    """Reconfiguring a switch keeps its entity and unique id and applies the change."""
    entry = setup.entry
    ent_reg = er.async_get(hass)
    before = ent_reg.async_get(setup.switch)
    assert before is not None

    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_SWITCH),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": setup.switch_subentry},
    )
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**SWITCH_DATA, CONF_NAME: "Ceiling", CONF_WRITE_ADDRESS: "1/1/1"}
    )
    assert result["step_id"] == "confirm"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    assert entry.subentries[setup.switch_subentry].title == "Ceiling"
    after = ent_reg.async_get(setup.switch)
    assert after is not None
    assert after.unique_id == before.unique_id
    assert entry.state is ConfigEntryState.LOADED
    state = hass.states.get(setup.switch)
    assert state is not None
    assert state.attributes["friendly_name"] == "Ceiling"


async def test_second_entry_coexists(
    hass: HomeAssistant, setup: Setup, upload_file: UploadFile
) -> None:
    """A gateway of another project is a second entry beside the first."""
    from custom_components.knx_secure.knx.gateway import VirtualGateway  # noqa: PLC0415
    from custom_components.knx_secure.knx.keyring import load_keyring  # noqa: PLC0415

    path = FIXTURES / "testcase.knxkeys"
    content = path.read_bytes()
    other = VirtualGateway(await hass.async_add_executor_job(load_keyring, path, "password"))
    await other.start()
    try:
        entry = await async_add_gateway_entry(
            hass, other, upload_file, keyring_source=content, password="password"
        )
        assert entry.state is ConfigEntryState.LOADED
        assert len(hass.config_entries.async_entries(DOMAIN)) == 2
        assert entry.unique_id != setup.entry.unique_id
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await other.stop()


def test_keyring_files_stay_private() -> None:
    """write_pending_keyring creates the file with 0600 in a 0700 folder."""
    import tempfile  # noqa: PLC0415

    from custom_components.knx_secure.store import (  # noqa: PLC0415
        adopt_keyring,
        write_pending_keyring,
    )

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "knx_secure"
        name = write_pending_keyring(directory, b"data")
        assert stat.S_IMODE(os.stat(directory / name).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
        assert adopt_keyring(directory, name, "entry") == "entry.knxkeys"
        assert adopt_keyring(directory, "entry.knxkeys", "entry") == "entry.knxkeys"
        assert (directory / "entry.knxkeys").read_bytes() == b"data"
        with pytest.raises(ValueError, match="invalid keyring file name"):
            adopt_keyring(directory, "../escape.knxkeys", "entry")


async def test_subentry_while_entry_not_loaded(hass: HomeAssistant, setup: Setup) -> None:
    """Subentries can be added to an unloaded entry: the keyring is read from its file."""
    entry = setup.entry
    await hass.config_entries.async_unload(entry.entry_id)
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_TUNNEL: "1.1.253"})

    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_SWITCH), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: " ", CONF_WRITE_ADDRESS: " "}
    )
    assert result["errors"] == {
        CONF_NAME: "name_required",
        CONF_WRITE_ADDRESS: "invalid_group_address",
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Unloaded", CONF_WRITE_ADDRESS: "1/1/1"}
    )
    placeholders = result["description_placeholders"]
    assert placeholders["tunnel"] == "1.1.253"  # the configured tunnel
    assert placeholders["secure_addresses"] == "1/1/1"
    assert result["step_id"] == "confirm"  # 1.1.253 is a sender of 1/1/1
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.state is ConfigEntryState.NOT_LOADED

    # Automatic: every tunnel of the gateway is a candidate.
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_TUNNEL: TUNNEL_AUTOMATIC}
    )
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_BINARY_SENSOR), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], BINARY_SENSOR_DATA
    )
    assert result["description_placeholders"]["tunnel"] == "1.1.255, 1.1.254, 1.1.253, 1.1.252"
    assert result["step_id"] == "confirm"  # each of them is a sender of 1/1/2
    hass.config_entries.subentries.async_abort(result["flow_id"])

    # Without a readable keyring nothing can be checked: a warning says so.
    (_keyring_dir(hass) / entry.data[CONF_KEYRING_FILE]).unlink()
    result = await _confirm_form(hass, entry, SUBENTRY_SWITCH, SWITCH_DATA)
    assert result["step_id"] == "confirm_keyring_unavailable"
    assert result["description_placeholders"]["secure_addresses"] == EMPTY_LIST
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_reconfigure_onto_another_entrys_gateway(hass: HomeAssistant, setup: Setup) -> None:
    """Reconfiguring an entry onto a gateway another entry has is refused."""
    from pytest_homeassistant_custom_component.common import MockConfigEntry  # noqa: PLC0415

    from custom_components.knx_secure.store import (  # noqa: PLC0415
        keyring_directory,
        write_pending_keyring,
    )

    name = await hass.async_add_executor_job(
        write_pending_keyring, keyring_directory(hass), KEYRING_BYTES
    )
    other = MockConfigEntry(
        domain=DOMAIN,
        unique_id="Secure Test_1.2.0",
        data={**setup.entry.data, CONF_KEYRING_FILE: name, CONF_GATEWAY_ADDRESS: "1.2.0"},
    )
    other.add_to_hass(hass)
    host, port = setup.gateway.address
    result = await _reconfigure_keyring_kept(hass, other)
    assert result["step_id"] == "manual"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host, CONF_PORT: port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reconfigure_keeps_current_tunnel_as_default(
    hass: HomeAssistant, setup: Setup
) -> None:
    """The tunnel form of a reconfigure preselects the entry's tunnel."""
    entry = setup.entry
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_TUNNEL: "1.1.252"})
    host, port = setup.gateway.address
    result = await _reconfigure_keyring_kept(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host, CONF_PORT: port}
    )
    assert result["step_id"] == "tunnel"
    (key,) = result["data_schema"].schema
    assert key.default() == "1.1.252"
    hass.config_entries.flow.async_abort(result["flow_id"])
