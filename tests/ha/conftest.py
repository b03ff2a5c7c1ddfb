"""Fixtures of the Home Assistant layer tests.

Every test talks to a real VirtualGateway on 127.0.0.1 through the real secure tunnel
client: nothing of the connection is mocked. Only the multicast search is replaced (no
multicast in the sandbox); it finds nothing unless a test says otherwise.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest.mock import AsyncMock, patch

import aiohttp
import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.knx_secure.const import (
    CONF_CONNECTION,
    CONF_INDIVIDUAL_ADDRESS,
    CONF_INTERFACE,
    CONF_INVERT,
    CONF_KEYRING_PASSWORD,
    CONF_KEYRING_UPLOAD,
    CONF_MULTICAST_GROUP,
    CONF_STATE_ADDRESS,
    CONF_SYNC_STATE,
    CONF_TUNNEL,
    CONF_WRITE_ADDRESS,
    CONNECTION_TUNNEL_SECURE,
    DOMAIN,
    ROUTING_CONNECTIONS,
    SUBENTRY_BINARY_SENSOR,
    SUBENTRY_SWITCH,
    TUNNEL_AUTOMATIC,
)
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring

from ..helpers import FAST, virtual_gateway

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KEYRING_PATH = FIXTURES / "Secure Test.knxkeys"
KEYRING_PASSWORD = "passwordprogetto"
KEYRING_BYTES = KEYRING_PATH.read_bytes()
#: The demo home (docs/DEMO.md): a Data Secure address for every kind of entity.
DEMO_KEYRING_PATH = Path(__file__).resolve().parents[2] / "demo" / "Demo Home.knxkeys"
DEMO_KEYRING_PASSWORD = "demo"
DEMO_KEYRING_BYTES = DEMO_KEYRING_PATH.read_bytes()


type UploadFile = Callable[[bytes], Awaitable[str]]


@pytest.fixture(autouse=True)
def ha_test_setup(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Load custom integrations, give each test its own configuration folder (keyrings are
    written there), shorten the client timeouts (FAST).
    """
    request.getfixturevalue("enable_custom_integrations")
    hass: HomeAssistant = request.getfixturevalue("hass")
    hass.config.config_dir = str(tmp_path)
    from custom_components.knx_secure import coordinator  # noqa: PLC0415

    monkeypatch.setattr(coordinator, "CLIENT_TIMEOUTS", FAST)


@pytest.fixture
def mock_search() -> AsyncGenerator[AsyncMock]:
    """The multicast search (no multicast in the sandbox); finds nothing unless told."""
    with patch(
        "custom_components.knx_secure.config_flow.async_search_gateways",
        AsyncMock(return_value=[]),
    ) as search:
        yield search


@pytest.fixture(scope="session")
def knx_keyring() -> Keyring:
    """The test keyring, decrypted once."""
    return load_keyring(KEYRING_PATH, KEYRING_PASSWORD)


@pytest.fixture
async def gateway(
    socket_enabled: None, mock_search: AsyncMock, knx_keyring: Keyring
) -> AsyncGenerator[VirtualGateway]:
    """A running virtual KNX IP Secure gateway on 127.0.0.1."""
    virtual = virtual_gateway(knx_keyring)
    await virtual.start()
    yield virtual
    await virtual.stop()


@pytest.fixture(scope="session")
def demo_keyring() -> Keyring:
    """The demo home's keyring, decrypted once."""
    return load_keyring(DEMO_KEYRING_PATH, DEMO_KEYRING_PASSWORD)


@pytest.fixture
async def demo_gateway(
    socket_enabled: None, mock_search: AsyncMock, demo_keyring: Keyring
) -> AsyncGenerator[VirtualGateway]:
    """A running virtual gateway of the demo home with only the seed actuator (1/1/1 ->
    1/1/2): a test attaches the devices it needs (``add_device``) before adding the entry
    with ``async_add_gateway_entry(..., keyring_source=DEMO_KEYRING_BYTES,
    password=DEMO_KEYRING_PASSWORD)``."""
    virtual = virtual_gateway(demo_keyring)
    await virtual.start()
    yield virtual
    await virtual.stop()


@pytest.fixture
async def upload_file(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> UploadFile:
    """Upload a file through Home Assistant's real file upload endpoint; return its id.

    Diagnostics registers its HTTP views here too: the test client freezes the router.
    file_upload keeps its files in one fixed folder below the temporary directory and
    deletes it at start and stop: each test gets its own temporary directory, so that
    test runs in parallel (other checkouts, CI) do not delete each other's uploads.
    """
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    assert await async_setup_component(hass, "file_upload", {})
    assert await async_setup_component(hass, "diagnostics", {})
    # The integration registers its panel's files and websocket API at setup: before the
    # client, which freezes the router.
    assert await async_setup_component(hass, DOMAIN, {})
    assert await async_setup_component(hass, "repairs", {})
    client = await hass_client()

    async def _upload(content: bytes) -> str:
        form = aiohttp.FormData()
        form.add_field("file", content, filename="upload.knxkeys")
        response = await client.post("/api/file_upload", data=form)
        assert response.status == 200, await response.text()
        file_id: str = (await response.json())["file_id"]
        return file_id

    return _upload


async def async_start_flow_to_connection(
    hass: HomeAssistant,
    upload_file: UploadFile,
    *,
    keyring_source: bytes = KEYRING_BYTES,
    password: str = KEYRING_PASSWORD,
) -> str:
    """Start the user flow and give the keyring: returns the flow id, at the connection
    type's form."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_KEYRING_UPLOAD: await upload_file(keyring_source),
            CONF_KEYRING_PASSWORD: password,
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "connection", result
    flow_id: str = result["flow_id"]
    return flow_id


async def async_start_flow_to_manual(
    hass: HomeAssistant,
    upload_file: UploadFile,
    *,
    keyring_source: bytes = KEYRING_BYTES,
    password: str = KEYRING_PASSWORD,
    connection: str = CONNECTION_TUNNEL_SECURE,
) -> str:
    """Start the user flow, give the keyring and choose a tunnel type: returns the flow id,
    at the manual form."""
    flow_id = await async_start_flow_to_connection(
        hass, upload_file, keyring_source=keyring_source, password=password
    )
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_CONNECTION: connection})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "manual", result
    return flow_id


@dataclass(frozen=True)
class Routing:
    """Where a routing entry joins: the virtual router's group and port on 127.0.0.1."""

    group: str
    port: int
    individual_address: str = "15.15.250"
    interface: str = "127.0.0.1"

    def form(self) -> dict[str, Any]:
        """The routing form's input."""
        return {
            CONF_MULTICAST_GROUP: self.group,
            CONF_PORT: self.port,
            CONF_INTERFACE: self.interface,
            CONF_INDIVIDUAL_ADDRESS: self.individual_address,
        }


async def async_add_gateway_entry(
    hass: HomeAssistant,
    gateway: VirtualGateway | Routing,
    upload_file: UploadFile,
    *,
    tunnel: str = TUNNEL_AUTOMATIC,
    keyring_source: bytes = KEYRING_BYTES,
    password: str = KEYRING_PASSWORD,
    connection: str = CONNECTION_TUNNEL_SECURE,
) -> ConfigEntry:
    """Run the whole user flow (keyring, connection type, then manual host, tunnel and test;
    or the routing form, test and the sender warning if shown) and return the entry."""
    if connection in ROUTING_CONNECTIONS:
        assert isinstance(gateway, Routing)
        return await _async_add_routing_entry(
            hass, gateway, upload_file, keyring_source, password, connection
        )
    assert not isinstance(gateway, Routing)
    host, port = gateway.address
    flow_id = await async_start_flow_to_manual(
        hass,
        upload_file,
        keyring_source=keyring_source,
        password=password,
        connection=connection,
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: host, CONF_PORT: port}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "tunnel"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TUNNEL: tunnel}
    )
    result = await async_skip_project(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    return entry


async def async_skip_project(hass: HomeAssistant, result: Any) -> Any:
    """At the optional ETS project step (after the connection test): skip it (an empty
    form); returns the flow's next result."""
    assert result["type"] is FlowResultType.FORM, result
    assert result["step_id"] == "project", result
    return await hass.config_entries.flow.async_configure(result["flow_id"], {})


async def _async_add_routing_entry(
    hass: HomeAssistant,
    routing: Routing,
    upload_file: UploadFile,
    keyring_source: bytes,
    password: str,
    connection: str,
) -> ConfigEntry:
    flow_id = await async_start_flow_to_connection(
        hass, upload_file, keyring_source=keyring_source, password=password
    )
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_CONNECTION: connection})
    assert result["step_id"] == "routing", result
    result = await hass.config_entries.flow.async_configure(flow_id, routing.form())
    if result["step_id"] == "routing_confirm":
        result = await hass.config_entries.flow.async_configure(flow_id, {})
    result = await async_skip_project(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    return entry


async def async_add_subentry(
    hass: HomeAssistant, entry: ConfigEntry, subentry_type: str, data: dict[str, Any]
) -> str:
    """Add a subentry through its flow (form, then confirm); return its id."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, subentry_type), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], data)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"].startswith("confirm")  # with or without a warning
    before = set(entry.subentries)
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (subentry_id,) = set(entry.subentries) - before
    return subentry_id


SWITCH_DATA = {
    CONF_NAME: "Light",
    CONF_WRITE_ADDRESS: "1/1/1",
    CONF_STATE_ADDRESS: "1/1/2",
    CONF_INVERT: False,
}
BINARY_SENSOR_DATA = {
    CONF_NAME: "Light status",
    CONF_STATE_ADDRESS: "1/1/2",
    CONF_INVERT: False,
    CONF_SYNC_STATE: True,
}


def form_options(result: Any) -> list[str]:
    """The values a form of one list field offers."""
    (key,) = result["data_schema"].schema
    return [option["value"] for option in result["data_schema"].schema[key].config["options"]]


def entity_id_for(hass: HomeAssistant, entry: ConfigEntry, subentry_id: str, domain: str) -> str:
    """The entity id of a subentry's entity (looked up by its unique id)."""
    entity_id = er.async_get(hass).async_get_entity_id(
        domain, DOMAIN, f"{entry.entry_id}_{subentry_id}"
    )
    assert entity_id is not None
    return entity_id


@dataclass
class Setup:
    """A loaded gateway entry with a switch 1/1/1 -> 1/1/2 and a binary sensor on 1/1/2."""

    entry: ConfigEntry
    gateway: VirtualGateway
    switch_subentry: str
    binary_sensor_subentry: str
    switch: str  # entity ids
    binary_sensor: str


@pytest.fixture
async def setup(hass: HomeAssistant, gateway: VirtualGateway, upload_file: UploadFile) -> Setup:
    """Add the gateway entry through its flow, then a switch and a binary sensor."""
    entry = await async_add_gateway_entry(hass, gateway, upload_file)
    switch = await async_add_subentry(hass, entry, SUBENTRY_SWITCH, SWITCH_DATA)
    sensor = await async_add_subentry(hass, entry, SUBENTRY_BINARY_SENSOR, BINARY_SENSOR_DATA)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return Setup(
        entry=entry,
        gateway=gateway,
        switch_subentry=switch,
        binary_sensor_subentry=sensor,
        switch=entity_id_for(hass, entry, switch, "switch"),
        binary_sensor=entity_id_for(hass, entry, sensor, "binary_sensor"),
    )


def assert_gateway_dropped_nothing(gateway: VirtualGateway) -> None:
    """The gateway and its devices accepted every frame and telegram (no replay, no MAC)."""
    assert not any(gateway.replays_rejected.values()), dict(gateway.replays_rejected)
    assert not any(gateway.dropped.values()), dict(gateway.dropped)


def gateway_device(hass: HomeAssistant, entry: ConfigEntry) -> dr.DeviceEntry:
    """The gateway's device of an entry."""
    (device,) = (
        device
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if (DOMAIN, entry.entry_id) in device.identifiers
    )
    return device


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    """The state string of an entity, None if it has none."""
    state = hass.states.get(entity_id)
    return state.state if state is not None else None
