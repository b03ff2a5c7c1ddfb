"""The one keyring form of the user, reauth and reconfigure steps.

After a password or file error the flow keeps the uploaded keyring: the form comes back as
``keyring_retry`` with the file optional, and a retry with only the password works.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import voluptuous as vol
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.knx_secure.const import (
    CONF_CONNECTION,
    CONF_KEYRING_FILE,
    CONF_KEYRING_PASSWORD,
    CONF_KEYRING_UPLOAD,
    CONF_TUNNEL,
    CONNECTION_TUNNEL_SECURE,
    DOMAIN,
    TUNNEL_AUTOMATIC,
)
from custom_components.knx_secure.knx import keyring as keyring_module

from .conftest import (
    FIXTURES,
    KEYRING_BYTES,
    KEYRING_PASSWORD,
    Setup,
    UploadFile,
    async_skip_project,
)

CONFIG_FLOW = (
    Path(__file__).resolve().parents[2] / "custom_components" / "knx_secure" / "config_flow.py"
)
TAMPERED = KEYRING_BYTES.replace(b'Project="Secure Test"', b'Project="Secure Tesx"')


def _fields(result: ConfigFlowResult) -> dict[str, bool]:
    """The form's fields, each with whether it is required."""
    return {str(key): isinstance(key, vol.Required) for key in result["data_schema"].schema}


async def _start(hass: HomeAssistant, source: str, entry: ConfigEntry | None) -> ConfigFlowResult:
    if entry is None:
        return await hass.config_entries.flow.async_init(DOMAIN, context={"source": source})
    return await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": source, "entry_id": entry.entry_id},
        data=entry.data if source == SOURCE_REAUTH else None,
    )


async def _submit(
    hass: HomeAssistant, flow_id: str, password: str, upload: str | None = None
) -> ConfigFlowResult:
    """Submit the keyring form: a password, and an uploaded file id when given."""
    data = {CONF_KEYRING_PASSWORD: password}
    if upload is not None:
        data[CONF_KEYRING_UPLOAD] = upload
    return await hass.config_entries.flow.async_configure(flow_id, data)


async def test_user_retry_with_only_the_password(
    hass: HomeAssistant, gateway, upload_file: UploadFile
) -> None:
    """Wrong password: the file is kept; the password alone then opens it."""
    result = await _start(hass, SOURCE_USER, None)
    assert result["step_id"] == "user"
    assert _fields(result) == {CONF_KEYRING_UPLOAD: True, CONF_KEYRING_PASSWORD: True}
    result = await _submit(hass, result["flow_id"], "wrong", await upload_file(KEYRING_BYTES))
    assert result["step_id"] == "keyring_retry"
    assert result["errors"] == {CONF_KEYRING_PASSWORD: "invalid_keyring_password"}
    # The file may stay empty now: the form holds the upload.
    assert _fields(result) == {CONF_KEYRING_UPLOAD: False, CONF_KEYRING_PASSWORD: True}

    result = await _submit(hass, result["flow_id"], KEYRING_PASSWORD)
    assert result["step_id"] == "connection"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CONNECTION: CONNECTION_TUNNEL_SECURE}
    )
    assert result["step_id"] == "manual"
    host, port = gateway.address
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host, CONF_PORT: port}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TUNNEL: TUNNEL_AUTOMATIC}
    )
    result = await async_skip_project(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    stored = Path(hass.config.path(".storage", DOMAIN, entry.data[CONF_KEYRING_FILE]))
    assert await hass.async_add_executor_job(stored.read_bytes) == KEYRING_BYTES


async def test_file_error_keeps_the_file_until_another_replaces_it(
    hass: HomeAssistant, gateway, upload_file: UploadFile
) -> None:
    """A modified keyring: the file error stays with the kept file; a new upload replaces it."""
    result = await _start(hass, SOURCE_USER, None)
    result = await _submit(hass, result["flow_id"], KEYRING_PASSWORD, await upload_file(TAMPERED))
    assert result["step_id"] == "keyring_retry"
    assert result["errors"] == {CONF_KEYRING_UPLOAD: "invalid_keyring_file"}
    result = await _submit(hass, result["flow_id"], KEYRING_PASSWORD)
    assert result["step_id"] == "keyring_retry"
    assert result["errors"] == {CONF_KEYRING_UPLOAD: "invalid_keyring_file"}
    result = await _submit(
        hass, result["flow_id"], KEYRING_PASSWORD, await upload_file(KEYRING_BYTES)
    )
    assert result["step_id"] == "connection"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CONNECTION: CONNECTION_TUNNEL_SECURE}
    )
    assert result["step_id"] == "manual"
    hass.config_entries.flow.async_abort(result["flow_id"])


async def test_reauth_retry_uses_the_kept_upload(
    hass: HomeAssistant, setup: Setup, upload_file: UploadFile
) -> None:
    """Reauth after the stored keyring vanished: upload, wrong password, then the password."""
    entry = setup.entry
    stored = Path(hass.config.path(".storage", DOMAIN, entry.data[CONF_KEYRING_FILE]))
    await hass.async_add_executor_job(stored.unlink)  # only the upload can succeed now
    result = await _start(hass, SOURCE_REAUTH, entry)
    assert result["step_id"] == "reauth_confirm"
    assert _fields(result) == {CONF_KEYRING_UPLOAD: False, CONF_KEYRING_PASSWORD: True}
    result = await _submit(hass, result["flow_id"], "wrong", await upload_file(KEYRING_BYTES))
    assert result["step_id"] == "keyring_retry"
    assert result["errors"] == {CONF_KEYRING_PASSWORD: "invalid_keyring_password"}
    assert result["description_placeholders"]["gateway"].startswith("1.1.0 (")

    result = await _submit(hass, result["flow_id"], KEYRING_PASSWORD)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    adopted = Path(hass.config.path(".storage", DOMAIN, entry.data[CONF_KEYRING_FILE]))
    assert await hass.async_add_executor_job(adopted.read_bytes) == KEYRING_BYTES


async def test_reauth_connection_error_keeps_the_upload(
    hass: HomeAssistant, setup: Setup, upload_file: UploadFile
) -> None:
    """The keyring opened but the gateway is down: the error shows on the kept-file form."""
    await setup.gateway.stop()
    result = await _start(hass, SOURCE_REAUTH, setup.entry)
    result = await _submit(
        hass, result["flow_id"], KEYRING_PASSWORD, await upload_file(KEYRING_BYTES)
    )
    assert result["step_id"] == "keyring_retry"
    assert result["errors"] == {"base": "cannot_connect"}
    assert result["description_placeholders"]["tunnel"] == "1.1.255, 1.1.254, 1.1.253, 1.1.252"
    hass.config_entries.flow.async_abort(result["flow_id"])
    await hass.async_block_till_done()


async def test_reconfigure_retry_with_only_the_password(
    hass: HomeAssistant, setup: Setup, upload_file: UploadFile
) -> None:
    """Reconfigure: a new upload with a wrong password is kept for the retry."""
    result = await _start(hass, SOURCE_RECONFIGURE, setup.entry)
    assert result["step_id"] == "reconfigure"
    assert _fields(result) == {CONF_KEYRING_UPLOAD: False, CONF_KEYRING_PASSWORD: False}
    result = await _submit(hass, result["flow_id"], "wrong", await upload_file(KEYRING_BYTES))
    assert result["step_id"] == "keyring_retry"
    assert result["errors"] == {CONF_KEYRING_PASSWORD: "invalid_keyring_password"}
    assert result["description_placeholders"]["project"] == "Secure Test"
    result = await _submit(hass, result["flow_id"], KEYRING_PASSWORD)
    assert result["step_id"] == "connection"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CONNECTION: CONNECTION_TUNNEL_SECURE}
    )
    assert result["step_id"] == "manual"
    hass.config_entries.flow.async_abort(result["flow_id"])
    await hass.async_block_till_done()


def test_config_flow_holds_no_client_and_probes_no_socket() -> None:
    """Reachability is a library call; the flow never touches the running entry's client."""
    tree = ast.parse(CONFIG_FLOW.read_text(encoding="utf-8"))
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert "runtime_data" not in attributes
    assert "open_connection" not in attributes
    assert "probe_tcp" in attributes  # knx.reachability


async def test_unknown_upload_is_a_file_error(hass: HomeAssistant, upload_file: UploadFile) -> None:
    """A file id file_upload does not know (expired, never uploaded): the file field's error."""
    result = await _start(hass, SOURCE_USER, None)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_KEYRING_UPLOAD: "0123456789abcdef0123456789abcdef",
            CONF_KEYRING_PASSWORD: KEYRING_PASSWORD,
        },
    )
    assert result["step_id"] == "user"  # nothing to hold
    assert result["errors"] == {CONF_KEYRING_UPLOAD: "invalid_keyring_file"}
    hass.config_entries.flow.async_abort(result["flow_id"])


async def test_reauth_with_another_projects_keyring_names_the_gateway(
    hass: HomeAssistant, setup: Setup, upload_file: UploadFile
) -> None:
    """A keyring without tunnels for the entry's gateway: the error names that gateway."""
    other = await hass.async_add_executor_job((FIXTURES / "testcase.knxkeys").read_bytes)
    result = await _start(hass, SOURCE_REAUTH, setup.entry)
    result = await _submit(hass, result["flow_id"], "password", await upload_file(other))
    assert result["step_id"] == "keyring_retry"
    assert result["errors"] == {"base": "host_not_in_keyring"}
    assert result["description_placeholders"]["address"] == "1.1.0"
    assert result["description_placeholders"]["hosts"] not in ("1.1.0", "-")
    hass.config_entries.flow.async_abort(result["flow_id"])
    await hass.async_block_till_done()


async def test_oversized_upload_is_refused_before_it_is_read_whole(
    hass: HomeAssistant, upload_file: UploadFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upload is read with the library's bound: above it, a file error, not a read."""
    monkeypatch.setattr(keyring_module, "MAX_KEYRING_SIZE", len(KEYRING_BYTES) - 1)
    result = await _start(hass, SOURCE_USER, None)
    result = await _submit(
        hass, result["flow_id"], KEYRING_PASSWORD, await upload_file(KEYRING_BYTES)
    )
    assert result["step_id"] == "user"  # nothing to hold
    assert result["errors"] == {CONF_KEYRING_UPLOAD: "invalid_keyring_file"}
    hass.config_entries.flow.async_abort(result["flow_id"])
