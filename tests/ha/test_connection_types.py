"""Every connection type through the config flow, against the real virtual installation on
127.0.0.1: plain tunnels (UDP, TCP) to ``VirtualGateway(plain=True)``, secure and plain
routing to ``VirtualRouter`` on a 239.x group; errors, reconfigure, migration, diagnostics."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
from collections.abc import AsyncGenerator
from datetime import timedelta
from unittest.mock import AsyncMock, patch

import pytest
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_HOST,
    CONF_PORT,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.util.dt import utcnow
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.knx_secure import coordinator as coordinator_module
from custom_components.knx_secure.const import (
    CONF_CONNECTION,
    CONF_GATEWAY_ADDRESS,
    CONF_INDIVIDUAL_ADDRESS,
    CONF_INTERFACE,
    CONF_KEYRING_FILE,
    CONF_KEYRING_UPLOAD,
    CONF_MULTICAST_GROUP,
    CONF_TUNNEL,
    CONNECTION_ROUTING,
    CONNECTION_ROUTING_SECURE,
    CONNECTION_TUNNEL_SECURE,
    CONNECTION_TUNNEL_TCP,
    CONNECTION_TUNNEL_UDP,
    DOMAIN,
    ROUTING_COUNTER_INTERVAL,
    ROUTING_MAC_ISSUE_THRESHOLD,
    SUBENTRY_SWITCH,
    TUNNEL_AUTOMATIC,
)
from custom_components.knx_secure.knx.client import SecureTunnelClient
from custom_components.knx_secure.knx.discovery import describe_gateway
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring
from custom_components.knx_secure.knx.multicast import multicast_socket
from custom_components.knx_secure.knx.router import VirtualRouter
from custom_components.knx_secure.knx.routing_client import RoutingClient
from custom_components.knx_secure.store import keyring_directory, write_pending_keyring

from ..helpers import SWITCH, free_port, virtual_gateway, wait_for
from .conftest import (
    KEYRING_BYTES,
    KEYRING_PASSWORD,
    SWITCH_DATA,
    Routing,
    UploadFile,
    async_add_gateway_entry,
    async_add_subentry,
    async_skip_project,
    async_start_flow_to_connection,
    async_start_flow_to_manual,
    entity_id_for,
    form_options,
    gateway_device,
    state_of,
)

pytestmark = pytest.mark.timeout(60)

GROUP = "239.255.71.23"  # administratively scoped: never leaves this host in tests
SENDER = "1.1.255"  # a Data Secure sender of 1/1/1 and 1/1/2 in the test keyring, no device


def _free_udp_port() -> int:
    return free_port(socket.SOCK_DGRAM)


def _without_backbone_key(keyring: Keyring) -> Keyring:
    assert keyring.backbone is not None
    return dataclasses.replace(keyring, backbone=dataclasses.replace(keyring.backbone, key=None))


def _with_other_backbone_key(keyring: Keyring) -> Keyring:
    assert keyring.backbone is not None
    assert keyring.backbone.key is not None
    other = bytes(b ^ 0x5A for b in keyring.backbone.key)
    return dataclasses.replace(keyring, backbone=dataclasses.replace(keyring.backbone, key=other))


@dataclasses.dataclass
class Installation:
    """The virtual installation behind a routing group."""

    gateway: VirtualGateway
    router: VirtualRouter
    routing: Routing


async def _start_router(keyring: Keyring) -> Installation:
    gateway = virtual_gateway(keyring)
    port = _free_udp_port()
    router = VirtualRouter(gateway, group=GROUP, port=port, interface="127.0.0.1")
    await router.start()
    return Installation(gateway, router, Routing(GROUP, port, individual_address=SENDER))


@pytest.fixture
async def secure_router(
    socket_enabled: None, mock_search: AsyncMock, knx_keyring: Keyring
) -> AsyncGenerator[Installation]:
    """A virtual KNX IP Secure router (the keyring's backbone key) on GROUP."""
    async with _running_router(knx_keyring) as installation:
        yield installation


@pytest.fixture
async def plain_router(
    socket_enabled: None, mock_search: AsyncMock, knx_keyring: Keyring
) -> AsyncGenerator[Installation]:
    """A virtual KNX IP router without IP Secure (Data Secure still) on GROUP."""
    async with _running_router(_without_backbone_key(knx_keyring)) as installation:
        yield installation


@contextlib.asynccontextmanager
async def _running_router(keyring: Keyring) -> AsyncGenerator[Installation]:
    installation = await _start_router(keyring)
    try:
        yield installation
    finally:
        await installation.router.stop()


@pytest.fixture
async def plain_gateway(
    socket_enabled: None, mock_search: AsyncMock, knx_keyring: Keyring
) -> AsyncGenerator[VirtualGateway]:
    """A virtual interface that takes plain tunnels over UDP and TCP."""
    virtual = virtual_gateway(knx_keyring, plain=True)
    await virtual.start()
    yield virtual
    await virtual.stop()


async def _toggle_switch(hass: HomeAssistant, entry: ConfigEntry, gateway: VirtualGateway) -> None:
    """Add a switch 1/1/1 -> 1/1/2 and switch it on and off: the actuator and the state follow."""
    subentry = await async_add_subentry(hass, entry, SUBENTRY_SWITCH, SWITCH_DATA)
    entity_id = entity_id_for(hass, entry, subentry, "switch")
    await wait_for(lambda: state_of(hass, entity_id) == STATE_OFF)
    for on in (True, False):
        await hass.services.async_call(
            "switch",
            SERVICE_TURN_ON if on else SERVICE_TURN_OFF,
            {ATTR_ENTITY_ID: entity_id},
            blocking=True,
        )
        await wait_for(lambda on=on: gateway.switch_state(SWITCH) is on)  # type: ignore[misc]
        expected = STATE_ON if on else STATE_OFF
        await wait_for(lambda expected=expected: state_of(hass, entity_id) == expected)  # type: ignore[misc]


# --- plain tunnels -----------------------------------------------------------------------------


@pytest.mark.parametrize("connection", [CONNECTION_TUNNEL_UDP, CONNECTION_TUNNEL_TCP])
async def test_plain_tunnel_entry_switches(
    hass: HomeAssistant, plain_gateway: VirtualGateway, upload_file: UploadFile, connection: str
) -> None:
    """A tunnel without IP Secure (Data Secure on top): the entry's client tunnels plainly
    and the switch works through it."""
    entry = await async_add_gateway_entry(hass, plain_gateway, upload_file, connection=connection)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_CONNECTION] == connection
    client = entry.runtime_data.client
    assert type(client) is SecureTunnelClient
    assert client.tunnel is not None  # a tunnel of the keyring, opened without a session
    assert not plain_gateway.sessions
    assert gateway_device(hass, entry).model == coordinator_module.DEVICE_MODELS[connection]
    await _toggle_switch(hass, entry, plain_gateway)


async def test_plain_tunnel_refused_by_a_secure_only_gateway(
    hass: HomeAssistant, gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A secure-only interface answers a plain tunnel "busy": the form says to choose the
    secure tunnel, not that the tunnels are taken."""
    host, port = gateway.address
    flow_id = await async_start_flow_to_manual(hass, upload_file, connection=CONNECTION_TUNNEL_UDP)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: host, CONF_PORT: port}
    )
    assert result["step_id"] == "tunnel"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_TUNNEL: TUNNEL_AUTOMATIC}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "plain_tunnel_refused"}
    hass.config_entries.flow.async_abort(flow_id)


# --- routing -----------------------------------------------------------------------------------


async def test_connection_options_follow_the_keyring(
    hass: HomeAssistant, gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """The test keyring has tunnels and a backbone key: every type is offered, secure first."""
    flow_id = await async_start_flow_to_connection(hass, upload_file)
    result = await hass.config_entries.flow.async_configure(flow_id)
    (key,) = result["data_schema"].schema
    assert form_options(result) == [
        CONNECTION_TUNNEL_SECURE,
        CONNECTION_ROUTING_SECURE,
        CONNECTION_TUNNEL_TCP,
        CONNECTION_TUNNEL_UDP,
        CONNECTION_ROUTING,
    ]
    assert key.default() == CONNECTION_TUNNEL_SECURE
    hass.config_entries.flow.async_abort(flow_id)


async def test_secure_routing_entry_switches(
    hass: HomeAssistant, secure_router: Installation, upload_file: UploadFile
) -> None:
    """Secure routing: the form suggests the keyring's backbone, the entry joins the
    group with the backbone key and the switch works through the router."""
    flow_id = await async_start_flow_to_connection(hass, upload_file)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_CONNECTION: CONNECTION_ROUTING_SECURE}
    )
    assert result["step_id"] == "routing"
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description
    }
    assert suggested[CONF_MULTICAST_GROUP] == "224.0.23.12"  # the keyring's backbone
    assert suggested[CONF_PORT] == 3671
    assert suggested[CONF_INDIVIDUAL_ADDRESS] == "15.15.250"
    # 1.1.255 sends to every secure group address: saved without a warning.
    result = await hass.config_entries.flow.async_configure(flow_id, secure_router.routing.form())
    result = await async_skip_project(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    assert entry.data[CONF_CONNECTION] == CONNECTION_ROUTING_SECURE
    assert entry.data[CONF_HOST] == GROUP
    assert entry.data[CONF_INTERFACE] == "127.0.0.1"
    assert CONF_GATEWAY_ADDRESS not in entry.data
    assert entry.title == f"Secure Test (routing {GROUP}:{secure_router.routing.port})"
    client = entry.runtime_data.client
    assert isinstance(client, RoutingClient)
    assert client.secure_routing
    assert str(client.individual_address) == SENDER
    device = gateway_device(hass, entry)
    assert device.model == "KNX IP Secure router"
    assert device.model_id == SENDER
    await _toggle_switch(hass, entry, secure_router.gateway)
    assert not any(entry.runtime_data.dropped.values()), entry.runtime_data.dropped
    # the connection sensors say what this is: secure routing, its timer in step
    registry = er.async_get(hass)
    kind = registry.async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}_connection_type")
    timer = registry.async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}_routing_timer")
    assert kind is not None
    assert timer is not None
    assert state_of(hass, kind) == CONNECTION_ROUTING_SECURE
    assert state_of(hass, timer) in ("synchronised", "timekeeper")


async def test_plain_routing_entry_switches(
    hass: HomeAssistant, plain_router: Installation, upload_file: UploadFile
) -> None:
    """Routing without IP Secure: Data Secure still protects 1/1/1 and 1/1/2."""
    entry = await async_add_gateway_entry(
        hass, plain_router.routing, upload_file, connection=CONNECTION_ROUTING
    )
    client = entry.runtime_data.client
    assert isinstance(client, RoutingClient)
    assert not client.secure_routing
    assert gateway_device(hass, entry).model == "KNX IP router"
    await _toggle_switch(hass, entry, plain_router.gateway)


async def test_routing_address_not_a_sender_is_a_warning(
    hass: HomeAssistant, secure_router: Installation, upload_file: UploadFile
) -> None:
    """15.15.250 is no Data Secure sender in the keyring: the confirm step names the
    group addresses; saving anyway works. A subentry then warns about the same address."""
    flow_id = await async_start_flow_to_connection(hass, upload_file)
    await hass.config_entries.flow.async_configure(
        flow_id, {CONF_CONNECTION: CONNECTION_ROUTING_SECURE}
    )
    routing = dataclasses.replace(secure_router.routing, individual_address="15.15.250")
    result = await hass.config_entries.flow.async_configure(flow_id, routing.form())
    assert result["step_id"] == "routing_confirm"
    assert result["description_placeholders"] == {
        "address": "15.15.250",
        "missing": "1/1/1, 1/1/2",
        "count": "2",
    }
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    result = await async_skip_project(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]

    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_SWITCH), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], SWITCH_DATA)
    assert result["step_id"] == "confirm_tunnel_not_sender"
    assert result["description_placeholders"]["tunnel"] == "15.15.250"
    assert result["description_placeholders"]["not_sender_addresses"] == "1/1/1, 1/1/2"
    hass.config_entries.subentries.async_abort(result["flow_id"])


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        (CONF_INTERFACE, "198.51.100.77", "interface_not_local"),
        (CONF_INTERFACE, "not-an-address", "interface_not_local"),
        (CONF_MULTICAST_GROUP, "192.168.1.1", "invalid_multicast_group"),
        (CONF_INDIVIDUAL_ADDRESS, "1.1.1", "individual_address_is_a_device"),
        (CONF_INDIVIDUAL_ADDRESS, "16.0.0", "invalid_individual_address"),
    ],
)
async def test_routing_form_errors(
    hass: HomeAssistant,
    socket_enabled: None,
    mock_search: AsyncMock,
    upload_file: UploadFile,
    field: str,
    value: str,
    error: str,
) -> None:
    """Each wrong routing field is named on the form before anything joins the group."""
    flow_id = await async_start_flow_to_connection(hass, upload_file)
    await hass.config_entries.flow.async_configure(flow_id, {CONF_CONNECTION: CONNECTION_ROUTING})
    form = {**Routing(GROUP, _free_udp_port()).form(), field: value}
    result = await hass.config_entries.flow.async_configure(flow_id, form)
    assert result["step_id"] == "routing"
    assert result["errors"] == {field: error}
    hass.config_entries.flow.async_abort(flow_id)


async def test_wrong_backbone_key_is_named(
    hass: HomeAssistant,
    socket_enabled: None,
    mock_search: AsyncMock,
    knx_keyring: Keyring,
    upload_file: UploadFile,
) -> None:
    """The routers use another backbone key: nobody answers our timer request with ours,
    and what they send fails its MAC; the form says so instead of saving an entry that
    hears nothing."""
    installation = await _start_router(_with_other_backbone_key(knx_keyring))
    stop = asyncio.Event()

    async def chatter() -> None:
        # Routers speak now and then (timer notifications, telegrams): make them speak
        # while the flow's test waits for its timer.
        while not stop.is_set():
            installation.router.send_busy(0)
            try:
                await asyncio.wait_for(stop.wait(), 0.2)
            except TimeoutError:
                continue

    chatter_task = asyncio.create_task(chatter())
    try:
        flow_id = await async_start_flow_to_connection(hass, upload_file)
        await hass.config_entries.flow.async_configure(
            flow_id, {CONF_CONNECTION: CONNECTION_ROUTING_SECURE}
        )
        result = await hass.config_entries.flow.async_configure(
            flow_id, installation.routing.form()
        )
        assert result["step_id"] == "routing"
        assert result["errors"] == {"base": "backbone_key_mismatch"}
        hass.config_entries.flow.async_abort(flow_id)
    finally:
        stop.set()
        await chatter_task
        await installation.router.stop()


async def test_secure_routing_needs_a_backbone_key(
    hass: HomeAssistant,
    socket_enabled: None,
    mock_search: AsyncMock,
    knx_keyring: Keyring,
    upload_file: UploadFile,
) -> None:
    """A keyring without backbone key does not offer secure routing."""
    without = _without_backbone_key(knx_keyring)
    with patch("custom_components.knx_secure.config_flow.load_keyring", return_value=without):
        flow_id = await async_start_flow_to_connection(hass, upload_file)
    result = await hass.config_entries.flow.async_configure(flow_id)
    options = form_options(result)
    assert CONNECTION_ROUTING_SECURE not in options
    assert CONNECTION_ROUTING in options
    hass.config_entries.flow.async_abort(flow_id)


# --- reconfigure, migration, diagnostics, counters -----------------------------------------


async def test_reconfigure_from_tunnel_to_routing_and_back(
    hass: HomeAssistant,
    gateway: VirtualGateway,
    secure_router: Installation,
    upload_file: UploadFile,
) -> None:
    """Reconfigure changes the type: the tunnel's data goes, the routing data comes (and the
    other way round); entities stay and work over the new connection."""
    entry = await async_add_gateway_entry(hass, gateway, upload_file)
    subentries = dict(entry.subentries)

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "connection"
    (key,) = result["data_schema"].schema
    assert key.default() == CONNECTION_TUNNEL_SECURE  # the entry's type
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CONNECTION: CONNECTION_ROUTING_SECURE}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], secure_router.routing.form()
    )
    result = await async_skip_project(hass, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_CONNECTION] == CONNECTION_ROUTING_SECURE
    assert CONF_TUNNEL not in entry.data
    assert CONF_KEYRING_FILE in entry.data
    assert entry.unique_id == f"Secure Test_routing_{GROUP}:{secure_router.routing.port}"
    assert isinstance(entry.runtime_data.client, RoutingClient)
    assert dict(entry.subentries) == subentries
    await _toggle_switch(hass, entry, secure_router.gateway)

    # And back: the routing entry's form suggests its own group; the tunnel comes back.
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    (key,) = result["data_schema"].schema
    assert key.default() == CONNECTION_ROUTING_SECURE
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CONNECTION: CONNECTION_TUNNEL_SECURE}
    )
    host, port = gateway.address
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host, CONF_PORT: port}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TUNNEL: TUNNEL_AUTOMATIC}
    )
    result = await async_skip_project(hass, result)
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_CONNECTION] == CONNECTION_TUNNEL_SECURE
    assert CONF_INDIVIDUAL_ADDRESS not in entry.data
    assert entry.unique_id == "Secure Test_1.1.0"
    assert type(entry.runtime_data.client) is SecureTunnelClient


async def test_entry_without_connection_type_is_migrated_to_a_secure_tunnel(
    hass: HomeAssistant, gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """An entry of version 1.1 (before the type was stored) sets up as a secure tunnel."""
    made = await async_add_gateway_entry(hass, gateway, upload_file)
    data = {key: value for key, value in made.data.items() if key != CONF_CONNECTION}
    await hass.config_entries.async_remove(made.entry_id)
    await hass.async_block_till_done()
    # The removal deleted the keyring file: store it again under the old entry's data.
    data[CONF_KEYRING_FILE] = await hass.async_add_executor_job(
        write_pending_keyring, keyring_directory(hass), KEYRING_BYTES
    )
    old = MockConfigEntry(
        domain=DOMAIN,
        version=1,
        minor_version=1,
        unique_id="Secure Test_1.1.0",
        title="Secure Test (1.1.0)",
        data=data,
    )
    old.add_to_hass(hass)
    assert await hass.config_entries.async_setup(old.entry_id)
    await hass.async_block_till_done()
    assert old.state is ConfigEntryState.LOADED
    assert old.minor_version == 2
    assert old.data[CONF_CONNECTION] == CONNECTION_TUNNEL_SECURE
    assert type(old.runtime_data.client) is SecureTunnelClient
    assert old.runtime_data.client.tunnel is not None


async def test_routing_diagnostics_hold_no_secret(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    secure_router: Installation,
    upload_file: UploadFile,
    knx_keyring: Keyring,
) -> None:
    """Diagnostics of a secure routing entry: the group, the timer state and the counters;
    no password, no backbone key, no Data Secure key."""
    entry = await async_add_gateway_entry(
        hass, secure_router.routing, upload_file, connection=CONNECTION_ROUTING_SECURE
    )
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    connection = diagnostics["connection"]
    assert connection["type"] == CONNECTION_ROUTING_SECURE
    assert connection["host"] == GROUP
    assert connection["individual_address"] == SENDER
    assert connection["secure_routing"] is True
    assert connection["timer_synchronised"] is True
    assert connection["timekeeper"] is False  # the router keeps the time
    assert knx_keyring.backbone is not None
    assert knx_keyring.backbone.key is not None
    text = json.dumps(diagnostics)
    secrets = [*knx_keyring.secrets(), knx_keyring.backbone.key.hex(), KEYRING_PASSWORD]
    assert not [secret for secret in secrets if secret in text]


async def test_routing_drops_are_counted_and_a_wrong_key_raises_an_issue(
    hass: HomeAssistant,
    secure_router: Installation,
    upload_file: UploadFile,
    knx_keyring: Keyring,
) -> None:
    """Frames with another backbone key on the group: the rejected-telegram counters name
    them (routing_mac) and, past the threshold, a repair issue names the group."""
    entry = await async_add_gateway_entry(
        hass, secure_router.routing, upload_file, connection=CONNECTION_ROUTING_SECURE
    )
    coordinator = entry.runtime_data
    intruder = VirtualRouter(
        virtual_gateway(_with_other_backbone_key(knx_keyring)),
        group=GROUP,
        port=secure_router.routing.port,
        interface="127.0.0.1",
    )
    await intruder.start()
    try:
        for _ in range(ROUTING_MAC_ISSUE_THRESHOLD):
            intruder.send_busy(0)
        await wait_for(
            lambda: coordinator.dropped.get("routing_mac", 0) >= ROUTING_MAC_ISSUE_THRESHOLD
        )
    finally:
        await intruder.stop()
    async_fire_time_changed(hass, utcnow() + timedelta(seconds=ROUTING_COUNTER_INTERVAL + 1))
    await hass.async_block_till_done()
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, coordinator_module.routing_issue_id(entry.entry_id)
    )
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["group"] == f"{GROUP}:{secure_router.routing.port}"
    assert "routing_reflected" not in coordinator.dropped  # our own frames are not drops
    # The rejected-telegram sensor took the routing counters at that look.
    sensor = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}_rejected_telegrams"
    )
    assert sensor is not None
    state = hass.states.get(sensor)
    assert state is not None
    assert int(state.state) >= ROUTING_MAC_ISSUE_THRESHOLD
    assert state.attributes["routing_mac"] >= ROUTING_MAC_ISSUE_THRESHOLD

    # Any other refused frame shows at the next look too (here: not KNXnet/IP at all).
    with multicast_socket(GROUP, secure_router.routing.port, "127.0.0.1") as raw:
        raw.sendto(b"not a frame", (GROUP, secure_router.routing.port))
        await wait_for(lambda: coordinator.dropped.get("routing_malformed", 0) == 1)
    async_fire_time_changed(hass, utcnow() + timedelta(seconds=2 * ROUTING_COUNTER_INTERVAL + 2))
    await hass.async_block_till_done()
    state = hass.states.get(sensor)
    assert state is not None
    assert state.attributes["routing_malformed"] == 1


async def test_reauth_of_a_routing_entry_tests_its_group(
    hass: HomeAssistant,
    secure_router: Installation,
    upload_file: UploadFile,
    knx_keyring: Keyring,
) -> None:
    """Reauth of a secure routing entry: a keyring without backbone key is refused with the
    reason; the entry's own keyring passes the test on its group and reloads it."""
    entry = await async_add_gateway_entry(
        hass, secure_router.routing, upload_file, connection=CONNECTION_ROUTING_SECURE
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_REAUTH, "entry_id": entry.entry_id},
        data=entry.data,
    )
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["gateway"] == (
        f"{GROUP}:{secure_router.routing.port} ({SENDER})"
    )
    without = _without_backbone_key(knx_keyring)
    with patch("custom_components.knx_secure.config_flow.load_keyring", return_value=without):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_KEYRING_UPLOAD: await upload_file(KEYRING_BYTES), "keyring_password": "x"},
        )
    assert result["errors"] == {"base": "keyring_has_no_backbone_key"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"keyring_password": KEYRING_PASSWORD}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_CONNECTION] == CONNECTION_ROUTING_SECURE
    assert isinstance(entry.runtime_data.client, RoutingClient)


async def test_search_of_only_plain_interfaces_suggests_a_plain_tunnel(
    hass: HomeAssistant,
    plain_gateway: VirtualGateway,
    upload_file: UploadFile,
    mock_search: AsyncMock,
) -> None:
    """The search found the keyring's gateway without KNX IP Secure: the form suggests its
    plain tunnel (TCP, which it supports) instead of a secure tunnel it would refuse."""
    host, port = plain_gateway.address
    found = await describe_gateway(host, port)
    mock_search.return_value = [
        dataclasses.replace(
            found, supports_secure=False, tunnelling_requires_secure=False, tunnel_slots=()
        )
    ]
    flow_id = await async_start_flow_to_connection(hass, upload_file)
    result = await hass.config_entries.flow.async_configure(flow_id)
    (key,) = result["data_schema"].schema
    assert found.supports_tunnelling_tcp
    assert key.default() == CONNECTION_TUNNEL_TCP
    hass.config_entries.flow.async_abort(flow_id)


async def test_routing_entry_whose_interface_is_gone_retries_setup(
    hass: HomeAssistant, secure_router: Installation, upload_file: UploadFile
) -> None:
    """The interface address of a routing entry is no longer this machine's: the setup
    fails with the reason (the group and the library's error) and Home Assistant retries."""
    entry = await async_add_gateway_entry(
        hass, secure_router.routing, upload_file, connection=CONNECTION_ROUTING_SECURE
    )
    await hass.config_entries.async_unload(entry.entry_id)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_INTERFACE: "198.51.100.77"}
    )
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert f"{GROUP}:{secure_router.routing.port}" in entry.reason
    assert "198.51.100.77" in entry.reason
