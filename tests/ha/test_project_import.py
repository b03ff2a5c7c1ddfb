"""Import of the ETS project (.knxproj): the config flow's optional step (add, reconfigure),
the options flow (import, replace, remove), what ends up in ``coordinator.project``, every
error, and that the project password goes nowhere.

The project files are the fixtures of ``tests/fixtures/projects`` (see its INDEX.md: our own
ETS 4/5/6 files of the demo home), imported through the real flows against the virtual
gateway of the demo home's keyring.
"""

from __future__ import annotations

import io
import json
import logging
import random
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.knx_secure import config_flow
from custom_components.knx_secure.config_flow import (
    CONF_PROJECT_PASSWORD,
    CONF_PROJECT_UPLOAD,
    CONF_SKIP_PROJECT,
)
from custom_components.knx_secure.const import (
    CONF_CONNECTION,
    CONF_TUNNEL,
    CONNECTION_TUNNEL_SECURE,
    DOMAIN,
    TUNNEL_AUTOMATIC,
)
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.project import (
    CONF_PENDING_PROJECT,
    Project,
    ProjectAddress,
    ProjectImportError,
    ProjectPasswordError,
    async_remove_entry_project,
    async_save_pending_project,
    async_save_project,
    parse_project_content,
    project_store_key,
)

from .conftest import (
    DEMO_KEYRING_BYTES,
    DEMO_KEYRING_PASSWORD,
    UploadFile,
    async_start_flow_to_manual,
)

PROJECTS = Path(__file__).resolve().parents[1] / "fixtures" / "projects"
ETS5_PASSWORD = "knx-secure-5"
ETS6_PASSWORD = "Grüße aus ETS 6!"
PASSWORDS = {"ets5-protected.knxproj": ETS5_PASSWORD, "ets6-protected.knxproj": ETS6_PASSWORD}


def _project_bytes(name: str) -> bytes:
    return (PROJECTS / name).read_bytes()


async def _configure(hass: HomeAssistant, flow_id: str, user_input: dict[str, Any]) -> Any:
    return await hass.config_entries.flow.async_configure(flow_id, user_input)


async def _flow_to_project_step(
    hass: HomeAssistant, gateway: VirtualGateway, upload_file: UploadFile
) -> str:
    """The user flow with the demo keyring up to the project step (connection tested)."""
    flow_id = await async_start_flow_to_manual(
        hass, upload_file, keyring_source=DEMO_KEYRING_BYTES, password=DEMO_KEYRING_PASSWORD
    )
    host, port = gateway.address
    result = await _configure(hass, flow_id, {CONF_HOST: host, CONF_PORT: port})
    assert result["step_id"] == "tunnel", result
    result = await _configure(hass, flow_id, {CONF_TUNNEL: TUNNEL_AUTOMATIC})
    assert result["type"] is FlowResultType.FORM, result
    assert result["step_id"] == "project", result
    assert result["description_placeholders"] == {"project": "Demo Home"}
    return flow_id


async def _submit_project(
    hass: HomeAssistant,
    configure: Any,
    flow_id: str,
    user_input: dict[str, Any],
) -> Any:
    """Submit a project form; when the parse starts, wait for it behind its progress
    indication and return what follows."""
    result = await configure(flow_id, user_input)
    if result["type"] is FlowResultType.SHOW_PROGRESS:
        assert result["progress_action"] == "parse_project"
        await hass.async_block_till_done()
        result = await configure(flow_id)
    return result


async def _project_input(
    upload_file: UploadFile, name: str, password: str | None = None
) -> dict[str, Any]:
    user_input: dict[str, Any] = {CONF_PROJECT_UPLOAD: await upload_file(_project_bytes(name))}
    password = password if password is not None else PASSWORDS.get(name)
    if password is not None:
        user_input[CONF_PROJECT_PASSWORD] = password
    return user_input


async def _import_in_config_flow(
    hass: HomeAssistant,
    upload_file: UploadFile,
    flow_id: str,
    name: str,
    password: str | None = None,
) -> Any:
    """Upload a fixture at the config flow's project step and submit it."""
    user_input = await _project_input(upload_file, name, password)
    return await _submit_project(
        hass, hass.config_entries.flow.async_configure, flow_id, user_input
    )


async def _add_entry_with_project(
    hass: HomeAssistant,
    gateway: VirtualGateway,
    upload_file: UploadFile,
    name: str,
) -> ConfigEntry:
    flow_id = await _flow_to_project_step(hass, gateway, upload_file)
    result = await _import_in_config_flow(hass, upload_file, flow_id, name)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    return entry


def _files(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


def _project(entry: ConfigEntry) -> Project | None:
    project: Project | None = entry.runtime_data.project
    return project


# --- adding a gateway ------------------------------------------------------------------------

LIVING_ROOM_BRIGHTNESS = ProjectAddress(
    "1/2/3", "Living room light brightness", "Living room dimmer", "5.001", secure=True
)


@pytest.mark.parametrize(
    ("name", "tool_version", "addresses", "secure", "devices", "functions"),
    [
        ("ets4.knxproj", "ETS4 4.2.1395.0", 8, 6, 3, 0),
        ("ets5.knxproj", "ETS5 5.7.1093.38570", 91, 78, 17, 0),
        ("ets5-protected.knxproj", "ETS5 5.7.1093.38570", 91, 78, 17, 0),
        ("ets6.knxproj", "ETS6 6.1.5686.0", 91, 78, 17, 7),
        ("ets6-protected.knxproj", "ETS6 6.1.5686.0", 91, 78, 17, 7),
    ],
)
async def test_add_gateway_imports_each_project(
    hass: HomeAssistant,
    demo_gateway: VirtualGateway,
    upload_file: UploadFile,
    hass_storage: dict[str, Any],
    name: str,
    tool_version: str,
    addresses: int,
    secure: int,
    devices: int,
    functions: int,
) -> None:
    """Each ETS version, plain and protected: names, types, secure flags, devices and
    functions end up in the coordinator's project, stored under the entry."""
    entry = await _add_entry_with_project(hass, demo_gateway, upload_file, name)

    project = _project(entry)
    assert project is not None
    assert project.tool_version == tool_version
    assert project.name.startswith("Demo Home (ETS ")
    assert len(project.addresses) == addresses
    assert sum(address.secure for address in project.addresses.values()) == secure
    assert len(project.devices) == devices
    assert len(project.functions) == functions
    # ETS 4's two-level 1/515 is 1/2/3 here too: one address form throughout.
    assert project.addresses["1/2/3"] == LIVING_ROOM_BRIGHTNESS
    assert project.addresses["2/1/1"].secure is False
    assert project.device_name("1.1.2") == "Living room dimmer"
    # The entry's own store holds it; the pending copy of the flow is gone.
    assert CONF_PENDING_PROJECT not in entry.data
    assert not [key for key in hass_storage if "pending" in key]
    assert Project.from_dict(hass_storage[project_store_key(entry.entry_id)]["data"]) == project


async def test_types_and_functions_of_the_ets6_project(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A type without its sub number, an address without a type, ETS 6 functions with
    their room and every address by role (roles ETS leaves empty included)."""
    entry = await _add_entry_with_project(hass, demo_gateway, upload_file, "ets6.knxproj")
    project = _project(entry)
    assert project is not None

    assert project.addresses["3/1/4"].dpt == "14"
    assert project.addresses["3/1/3"].dpt is None
    assert project.addresses["1/7/1"].secure is True
    assert project.addresses["3/1/1"].description == "Garden actuator"
    light = project.functions["F-3"]
    assert (light.name, light.function_type, light.space) == (
        "Living room light",
        "FT-6",
        "Living room",
    )
    assert light.addresses == (
        ("SwitchOnOff", "1/2/1"),
        ("InfoOnOff", "1/2/2"),
        ("DimmingValue", "1/2/3"),
        ("InfoDimmingValue", "1/2/4"),
    )
    blind = project.functions["F-4"]
    assert ("", "1/3/3") in blind.addresses
    assert project.functions["F-7"].space == "Outside"


async def test_skip_is_one_click(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """An empty project form saves the entry without a project."""
    flow_id = await _flow_to_project_step(hass, demo_gateway, upload_file)
    result = await _configure(hass, flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert _project(entry) is None
    assert CONF_PENDING_PROJECT not in entry.data


@pytest.mark.parametrize(
    ("name", "password", "field", "error"),
    [
        ("ets6-protected.knxproj", "wrong", CONF_PROJECT_PASSWORD, "project_invalid_password"),
        ("ets5-protected.knxproj", "wrong", CONF_PROJECT_PASSWORD, "project_invalid_password"),
        ("ets6-protected.knxproj", "", CONF_PROJECT_PASSWORD, "project_invalid_password"),
        ("old-schema.knxproj", None, CONF_PROJECT_UPLOAD, "project_unsupported_version"),
        ("not-a-project.knxproj", None, CONF_PROJECT_UPLOAD, "project_invalid_file"),
        ("other-installation.knxproj", None, CONF_PROJECT_UPLOAD, "project_other_installation"),
    ],
)
async def test_each_error_then_retry_keeps_the_upload(
    hass: HomeAssistant,
    demo_gateway: VirtualGateway,
    upload_file: UploadFile,
    name: str,
    password: str | None,
    field: str,
    error: str,
) -> None:
    """Each error on its field; the retry form keeps the upload (an empty file field), so a
    corrected password alone is enough, and a new upload replaces it."""
    flow_id = await _flow_to_project_step(hass, demo_gateway, upload_file)
    configure = hass.config_entries.flow.async_configure
    result = await _import_in_config_flow(hass, upload_file, flow_id, name, password)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "project_retry"
    assert result["errors"] == {field: error}
    fields = {str(key): key for key in result["data_schema"].schema}
    assert set(fields) == {CONF_PROJECT_UPLOAD, CONF_PROJECT_PASSWORD, CONF_SKIP_PROJECT}
    assert isinstance(fields[CONF_PROJECT_UPLOAD], vol.Optional)  # empty: the held upload

    if field == CONF_PROJECT_PASSWORD:  # the same file with the right password
        retry = {CONF_PROJECT_PASSWORD: PASSWORDS[name]}
    else:  # another file
        retry = await _project_input(upload_file, "ets5.knxproj")
    result = await _submit_project(hass, configure, flow_id, retry)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    project = _project(result["result"])
    assert project is not None
    assert project.addresses["1/2/3"] == LIVING_ROOM_BRIGHTNESS


async def test_a_file_that_is_no_zip_and_an_unknown_upload(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Bytes that are no zip at all, and an upload id file_upload does not know."""
    flow_id = await _flow_to_project_step(hass, demo_gateway, upload_file)
    configure = hass.config_entries.flow.async_configure
    result = await _submit_project(
        hass, configure, flow_id, {CONF_PROJECT_UPLOAD: await upload_file(b"<KNX/>")}
    )
    assert result["errors"] == {CONF_PROJECT_UPLOAD: "project_invalid_file"}
    result = await _configure(
        hass, flow_id, {CONF_PROJECT_UPLOAD: "0123456789abcdef0123456789abcdef"}
    )
    assert result["errors"] == {CONF_PROJECT_UPLOAD: "project_invalid_file"}
    hass.config_entries.flow.async_abort(flow_id)


async def test_skip_after_an_error(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """After an error the retry form still lets the user go on without a project."""
    flow_id = await _flow_to_project_step(hass, demo_gateway, upload_file)
    result = await _import_in_config_flow(hass, upload_file, flow_id, "other-installation.knxproj")
    assert result["step_id"] == "project_retry"
    result = await _configure(hass, flow_id, {CONF_SKIP_PROJECT: True})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert _project(result["result"]) is None


async def test_parse_runs_in_the_executor_and_the_upload_is_deleted(
    hass: HomeAssistant,
    demo_gateway: VirtualGateway,
    upload_file: UploadFile,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parse never runs on the event loop; file_upload's file is gone after the read
    and no copy of the project is left behind."""
    threads: list[int] = []

    def parse(content: bytes, password: str | None, language: str | None) -> Project:
        threads.append(threading.get_ident())
        return parse_project_content(content, password, language)

    monkeypatch.setattr(config_flow, "parse_project_content", parse)
    entry = await _add_entry_with_project(hass, demo_gateway, upload_file, "ets6-protected.knxproj")
    assert _project(entry) is not None
    assert threads
    assert hass.loop_thread_id not in threads
    assert not _files(tmp_path / "tmp")  # file_upload's folder
    assert not [path for path in _files(tmp_path) if path.suffix == ".knxproj"]


# --- reconfigure, options, restart ---------------------------------------------------------


async def test_reconfigure_imports_the_project(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Reconfigure offers the project step after the connection test; the entry is
    reloaded with the project. Skipping there keeps the project it has."""
    flow_id = await _flow_to_project_step(hass, demo_gateway, upload_file)
    result = await _configure(hass, flow_id, {})
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    assert _project(entry) is None

    configure = hass.config_entries.flow.async_configure
    for name, expected in (("ets6.knxproj", 7), (None, 7)):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
        )
        result = await _configure(hass, result["flow_id"], {})  # keep the stored keyring
        result = await _configure(
            hass, result["flow_id"], {CONF_CONNECTION: CONNECTION_TUNNEL_SECURE}
        )
        host, port = demo_gateway.address
        result = await _configure(hass, result["flow_id"], {CONF_HOST: host, CONF_PORT: port})
        result = await _configure(hass, result["flow_id"], {CONF_TUNNEL: TUNNEL_AUTOMATIC})
        assert result["step_id"] == "project"
        user_input = await _project_input(upload_file, name) if name else {}
        result = await _submit_project(hass, configure, result["flow_id"], user_input)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        project = _project(entry)
        assert project is not None
        assert len(project.functions) == expected


async def _options(hass: HomeAssistant, entry: ConfigEntry) -> Any:
    return await hass.config_entries.options.async_init(entry.entry_id)


async def test_options_import_replace_remove(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Options: import (the form at once when there is none), replace (a menu), remove;
    each reloads the entry."""
    flow_id = await _flow_to_project_step(hass, demo_gateway, upload_file)
    entry: ConfigEntry = (await _configure(hass, flow_id, {}))["result"]
    await hass.async_block_till_done()
    configure = hass.config_entries.options.async_configure

    result = await _options(hass, entry)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "project"
    with pytest.raises(InvalidData):  # the options' import asks for a file
        await configure(result["flow_id"], {})
    result = await _submit_project(
        hass, configure, result["flow_id"], await _project_input(upload_file, "ets5.knxproj")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    project = _project(entry)
    assert project is not None
    assert project.name == "Demo Home (ETS 5)"

    result = await _options(hass, entry)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["project", "remove_project"]
    assert result["description_placeholders"] == {
        "project": "Demo Home (ETS 5)",
        "tool_version": "ETS5 5.7.1093.38570",
        "addresses": "91",
        "functions": "0",
    }
    result = await configure(result["flow_id"], {"next_step_id": "project"})
    result = await _submit_project(
        hass,
        configure,
        result["flow_id"],
        await _project_input(upload_file, "ets6-protected.knxproj"),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    project = _project(entry)
    assert project is not None
    assert project.name == "Demo Home (ETS 6)"
    assert len(project.functions) == 7

    result = await _options(hass, entry)
    result = await configure(result["flow_id"], {"next_step_id": "remove_project"})
    assert result["step_id"] == "remove_project"
    assert result["description_placeholders"]["project"] == "Demo Home (ETS 6)"
    result = await configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert _project(entry) is None


async def test_options_errors_keep_the_project(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A failed import in the options changes nothing: the entry keeps its project; the
    retry form keeps the upload."""
    entry = await _add_entry_with_project(hass, demo_gateway, upload_file, "ets5.knxproj")
    configure = hass.config_entries.options.async_configure
    result = await _options(hass, entry)
    result = await configure(result["flow_id"], {"next_step_id": "project"})
    for name, password, error in (
        ("other-installation.knxproj", None, {CONF_PROJECT_UPLOAD: "project_other_installation"}),
        ("ets6-protected.knxproj", "wrong", {CONF_PROJECT_PASSWORD: "project_invalid_password"}),
    ):
        result = await _submit_project(
            hass, configure, result["flow_id"], await _project_input(upload_file, name, password)
        )
        assert result["step_id"] == "project_retry"
        assert result["errors"] == error
    fields = {str(key) for key in result["data_schema"].schema}
    assert fields == {CONF_PROJECT_UPLOAD, CONF_PROJECT_PASSWORD}
    hass.config_entries.options.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    project = _project(entry)
    assert project is not None
    assert project.name == "Demo Home (ETS 5)"


async def test_options_check_against_the_stored_keyring_of_an_unloaded_entry(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """An entry that is not loaded still checks the project against its stored keyring."""
    flow_id = await _flow_to_project_step(hass, demo_gateway, upload_file)
    entry: ConfigEntry = (await _configure(hass, flow_id, {}))["result"]
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    configure = hass.config_entries.options.async_configure
    result = await _options(hass, entry)
    result = await _submit_project(
        hass,
        configure,
        result["flow_id"],
        await _project_input(upload_file, "other-installation.knxproj"),
    )
    assert result["errors"] == {CONF_PROJECT_UPLOAD: "project_other_installation"}
    hass.config_entries.options.async_abort(result["flow_id"])


async def test_restart_keeps_the_project(
    hass: HomeAssistant,
    demo_gateway: VirtualGateway,
    upload_file: UploadFile,
    hass_storage: dict[str, Any],
) -> None:
    """Unloaded and set up again (as after a restart), the entry has the same project from
    its store; a project saved under the entry before set-up is loaded too."""
    entry = await _add_entry_with_project(hass, demo_gateway, upload_file, "ets6.knxproj")
    before = _project(entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert project_store_key(entry.entry_id) in hass_storage
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert _project(entry) == before

    smaller = Project("Saved before set-up", addresses={"1/1/1": ProjectAddress("1/1/1", "Seed")})
    assert await hass.config_entries.async_unload(entry.entry_id)
    await async_save_project(hass, entry.entry_id, smaller)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert _project(entry) == smaller


async def test_removing_the_entry_removes_its_project(
    hass: HomeAssistant,
    demo_gateway: VirtualGateway,
    upload_file: UploadFile,
    hass_storage: dict[str, Any],
) -> None:
    entry = await _add_entry_with_project(hass, demo_gateway, upload_file, "ets5.knxproj")
    assert project_store_key(entry.entry_id) in hass_storage
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert project_store_key(entry.entry_id) not in hass_storage


async def test_a_pending_project_goes_with_an_entry_removed_before_its_set_up(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """The flow's pending copy is removed with the entry even if no set-up adopted it."""
    token = await async_save_pending_project(hass, Project("Never set up"))
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_PENDING_PROJECT: token})
    entry.add_to_hass(hass)
    assert [key for key in hass_storage if key.endswith(token)]
    await async_remove_entry_project(hass, entry)
    assert not [key for key in hass_storage if key.endswith(token)]


# --- diagnostics and secrets ----------------------------------------------------------------


async def test_diagnostics_summary_and_no_project_password_anywhere(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    demo_gateway: VirtualGateway,
    upload_file: UploadFile,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A wrong password, then the right one, at DEBUG: the project password is in no log
    line, no stored data, no entry data and not in the diagnostics, which summarise the
    project (name, tool, counts)."""
    caplog.set_level(logging.DEBUG)
    flow_id = await _flow_to_project_step(hass, demo_gateway, upload_file)
    configure = hass.config_entries.flow.async_configure
    wrong = "not-the-Grüße-password"
    result = await _import_in_config_flow(
        hass, upload_file, flow_id, "ets6-protected.knxproj", wrong
    )
    assert result["errors"] == {CONF_PROJECT_PASSWORD: "project_invalid_password"}
    result = await _submit_project(hass, configure, flow_id, {CONF_PROJECT_PASSWORD: ETS6_PASSWORD})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["project"] == {
        "name": "Demo Home (ETS 6)",
        "tool_version": "ETS6 6.1.5686.0",
        "addresses": 91,
        "secure_addresses": 78,
        "devices": 17,
        "functions": 7,
    }
    places = {
        "log": caplog.text,
        "diagnostics": json.dumps(diagnostics),
        "storage": json.dumps(hass_storage),
        "entry": json.dumps(dict(entry.data)),
    }
    for password in (ETS6_PASSWORD, wrong):
        leaked = [place for place, text in places.items() if password in text]
        assert not leaked, password


def test_error_messages_hold_no_password() -> None:
    """Our errors of a wrong password say so without the password."""
    for name in PASSWORDS:
        with pytest.raises(ProjectPasswordError) as caught:
            parse_project_content(_project_bytes(name), "secret-Grüße-42", None)
        assert "secret-Grüße-42" not in str(caught.value)
        assert "secret-Grüße-42" not in repr(caught.value.args)


# --- damaged files: only our errors ---------------------------------------------------------


def _damaged(content: bytes, rng: random.Random) -> bytes:
    """A copy with a few bytes changed, cut short, or a stretch removed."""
    kind = rng.randrange(3)
    if kind == 0:
        damaged = bytearray(content)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        return bytes(damaged)
    if kind == 1:
        return content[: rng.randrange(len(content))]
    start = rng.randrange(len(content))
    return content[:start] + content[start + rng.randint(1, 64) :]


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("ets5.knxproj", 150),
        ("ets6.knxproj", 150),
        ("ets5-protected.knxproj", 100),
        ("ets6-protected.knxproj", 25),  # each try derives the ETS 6 key (PBKDF2)
        ("ets4.knxproj", 75),
    ],
)
def test_damaged_projects_raise_only_our_errors(name: str, count: int) -> None:
    """Damaged copies of each fixture either parse or fail with a ProjectImportError."""
    content = _project_bytes(name)
    rng = random.Random(f"{name} 14")
    outcomes: set[str] = set()
    for _ in range(count):
        try:
            parse_project_content(_damaged(content, rng), PASSWORDS.get(name), None)
        except ProjectImportError as err:
            outcomes.add(err.translation_key)
        else:
            outcomes.add("parsed")
    assert outcomes - {"parsed"}  # the damage was seen


def _rezip(content: bytes, change: Any) -> bytes:
    """The project archive rewritten with one member changed (``change(name, data)``)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = change(info.filename, source.read(info))
            if data is not None:
                target.writestr(info.filename, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda name, data: None if name == "knx_master.xml" else data, "project_invalid_file"),
        (
            lambda name, data: (
                data.replace(b"/project/22", b"/project/10") if name == "knx_master.xml" else data
            ),
            "project_unsupported_version",
        ),
        (
            lambda name, data: data[: len(data) // 2] if name.endswith("0.xml") else data,
            "project_invalid_file",
        ),
        (
            lambda name, data: b"\x00" * len(data) if name.endswith("project.xml") else data,
            "project_invalid_file",
        ),
        (
            lambda name, data: (
                data.replace(b"<GroupAddress ", b"<GroupAddress Address='x' ")
                if name.endswith("0.xml")
                else data
            ),
            "project_invalid_file",
        ),
    ],
)
def test_unexpected_content_is_our_error(change: Any, error: str) -> None:
    """Well-formed zips with a missing master file, an older schema, cut or broken XML."""
    damaged = _rezip(_project_bytes("ets6.knxproj"), change)
    with pytest.raises(ProjectImportError) as caught:
        parse_project_content(damaged, None, None)
    assert caught.value.translation_key == error
