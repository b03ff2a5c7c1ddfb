"""Names from the imported ETS project: in the group monitor's rows (live and history, through
the websocket API), in the repairs' texts and in diagnostics; never a key next to them."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.knx_secure.const import DOMAIN
from custom_components.knx_secure.knx import cemi
from custom_components.knx_secure.knx.address import IndividualAddress
from custom_components.knx_secure.knx.cemi import LData, MessageCode
from custom_components.knx_secure.knx.data_secure import (
    DataSecure,
    FreshnessTable,
    SequenceCounter,
    unix_ms,
)
from custom_components.knx_secure.knx.drops import DropReason
from custom_components.knx_secure.knx.keyring import Keyring
from custom_components.knx_secure.knx.telegram import TelegramDropped
from custom_components.knx_secure.project import (
    Project,
    ProjectAddress,
    ProjectDevice,
    parse_project_file,
)
from custom_components.knx_secure.repairs import CAUSES, issue_id

from ..helpers import STATUS, SWITCH, wait_for
from .conftest import FIXTURES, KEYRING_PASSWORD, Setup, UploadFile
from .demo_project import async_add_demo_entry, async_give_project

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway

FOREIGN = IndividualAddress.parse("1.1.9")
PROJECT = Project(
    name="Secure Test home",
    addresses={
        "1/1/1": ProjectAddress("1/1/1", "Kitchen light switch", dpt="1.001", secure=True),
        "1/1/2": ProjectAddress("1/1/2", "Kitchen light status", dpt="1.001", secure=True),
        "3/1/7": ProjectAddress("3/1/7", "Outside temperature", dpt="9.001"),
    },
    devices={
        "1.1.1": ProjectDevice("1.1.1", "Kitchen actuator"),
        "1.1.9": ProjectDevice("1.1.9", "Hall push button"),
    },
)


async def _reload_with_project(hass: HomeAssistant, setup: Setup) -> None:
    await async_give_project(hass, setup.entry, PROJECT)


async def _toggle_on(hass: HomeAssistant, setup: Setup) -> None:
    await hass.services.async_call(
        "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: setup.switch}, blocking=True
    )


async def _result(client: Any) -> dict[str, Any]:
    """The next result (live rows of a subscription may come first)."""
    message: dict[str, Any] = await client.receive_json()
    while message["type"] == "event":
        message = await client.receive_json()
    assert message["success"], message
    return message


def _row(rows: list[dict[str, Any]], **fields: object) -> dict[str, Any]:
    for row in rows:
        if all(row.get(key) == value for key, value in fields.items()):
            return row
    raise AssertionError(f"no row with {fields} in {rows}")


# --- the group monitor ----------------------------------------------------------------------


async def test_live_and_history_rows_carry_the_projects_names(
    hass: HomeAssistant, setup: Setup, hass_ws_client: WebSocketGenerator
) -> None:
    await _reload_with_project(hass, setup)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "knx_secure/monitor/subscribe"})
    await _result(client)
    await _toggle_on(hass, setup)
    live: list[dict[str, Any]] = []
    while not any(r["destination"] == str(STATUS) for r in live):
        live.append((await client.receive_json())["event"])
    ours = _row(live, direction="outgoing", destination=str(SWITCH))
    # the project's name before the entities' ("Light · write")
    assert ours["destination_name"] == "Kitchen light switch"
    assert ours["source_name"] == "Home Assistant"  # our tunnel: no project name for it
    status = _row(live, direction="incoming", destination=str(STATUS))
    assert status["destination_name"] == "Kitchen light status"
    assert status["source_name"] == "Kitchen actuator"  # the project's device name

    await client.send_json_auto_id({"type": "knx_secure/monitor/history"})
    rows = (await _result(client))["result"]["rows"]
    status = _row(rows, direction="incoming", destination=str(STATUS))
    assert status["source_name"] == "Kitchen actuator"
    assert status["destination_name"] == "Kitchen light status"


async def test_rows_recorded_before_the_import_get_the_names_after_it(
    hass: HomeAssistant, setup: Setup, hass_ws_client: WebSocketGenerator
) -> None:
    await _toggle_on(hass, setup)
    monitor = setup.entry.runtime_data.monitor
    await wait_for(lambda: any(r["destination"] == str(STATUS) for r in monitor.rows))
    before = _row(list(monitor.rows), direction="incoming", destination=str(STATUS))
    assert before["destination_name"] == "Light · state, Light status · state"
    assert before["source_name"] is None  # the keyring knows no name of 1.1.1

    await _reload_with_project(hass, setup)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "knx_secure/monitor/history"})
    rows = (await _result(client))["result"]["rows"]
    after = _row(rows, direction="incoming", destination=str(STATUS), time=before["time"])
    assert after["destination_name"] == "Kitchen light status"
    assert after["source_name"] == "Kitchen actuator"
    ours = _row(rows, direction="outgoing", destination=str(SWITCH))
    assert ours["source_name"] == "Home Assistant"


async def test_the_info_lists_the_projects_addresses_with_name_and_type(
    hass: HomeAssistant, setup: Setup, hass_ws_client: WebSocketGenerator
) -> None:
    await _reload_with_project(hass, setup)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "knx_secure/monitor/info"})
    (entry,) = (await _result(client))["result"]["entries"]
    # an address no entity uses: the project's name and type, for the send form and filter
    assert entry["addresses"]["3/1/7"] == {"name": "Outside temperature", "dpt": "9.001"}
    assert entry["addresses"]["1/1/1"] == {"name": "Kitchen light switch", "dpt": "1.001"}


async def test_the_project_name_comes_first_the_entity_type_too(
    hass: HomeAssistant, setup: Setup
) -> None:
    project = Project(
        name="p",
        addresses={
            # a name only, and a type the entity's configuration contradicts
            "1/1/1": ProjectAddress("1/1/1", "Kitchen light switch", dpt="5.001"),
            "1/1/2": ProjectAddress("1/1/2", ""),  # unnamed in ETS: the entities' name stays
            "1/1/10": ProjectAddress("1/1/10", "Ten"),
            "1/1/9": ProjectAddress("1/1/9", "Nine"),
        },
    )
    await async_give_project(hass, setup.entry, project)
    monitor = setup.entry.runtime_data.monitor
    assert monitor.address_info(SWITCH) == {"name": "Kitchen light switch", "dpt": "1.001"}
    assert monitor.address_name(STATUS) == "Light · state, Light status · state"
    assert list(monitor.addresses()) == ["1/1/1", "1/1/2", "1/1/9", "1/1/10"]  # address order


# --- repairs ---------------------------------------------------------------------------------


def _mac_issue_placeholders(hass: HomeAssistant, setup: Setup) -> dict[str, str]:
    """The placeholders of the issue of MAC failures from FOREIGN on STATUS."""
    rejections = setup.entry.runtime_data.rejections
    for _ in range(CAUSES[DropReason.MAC].threshold):
        rejections.record(TelegramDropped(DropReason.MAC, STATUS, FOREIGN))
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, issue_id(setup.entry.entry_id, DropReason.MAC, FOREIGN, STATUS)
    )
    assert issue is not None
    return dict(issue.translation_placeholders)


async def test_a_rejection_issue_names_the_address_and_the_sender_device(
    hass: HomeAssistant, setup: Setup
) -> None:
    await _reload_with_project(hass, setup)
    placeholders = _mac_issue_placeholders(hass, setup)
    assert placeholders["address"] == "1/1/2 (Kitchen light status)"
    assert placeholders["sender"] == "1.1.9 (Hall push button)"


async def test_without_a_project_a_sender_is_its_address(hass: HomeAssistant, setup: Setup) -> None:
    placeholders = _mac_issue_placeholders(hass, setup)
    assert placeholders["address"] == "1/1/2 (Light · state, Light status · state)"
    assert placeholders["sender"] == "1.1.9"


# --- diagnostics -----------------------------------------------------------------------------


async def test_diagnostics_name_the_addresses_and_show_no_key(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup: Setup,
    knx_keyring: Keyring,
) -> None:
    await _reload_with_project(hass, setup)
    coordinator = setup.entry.runtime_data
    # two telegrams on 1/1/2 under another key than the keyring's: they fail their MAC
    forger = DataSecure.from_keyring(
        dataclasses.replace(knx_keyring, group_keys={**knx_keyring.group_keys, STATUS: bytes(16)}),
        counter=SequenceCounter.volatile(1, unix_ms()),
        freshness=FreshnessTable({}),
        individual_address=FOREIGN,
    )
    for _ in range(2):
        write = LData(
            code=MessageCode.L_DATA_IND, src=FOREIGN, dst=STATUS, tpdu=cemi.group_value_write(1)
        )
        setup.gateway.inject(forger.secure_outgoing(write))
    await wait_for(lambda: coordinator.mac_failures.get(STATUS, 0) >= 2)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, setup.entry)

    group_keys = diagnostics["keyring"]["group_keys"]
    assert group_keys["1/1/1"] == {"name": "Kitchen light switch", "key": "**REDACTED**"}
    assert group_keys["1/1/2"]["name"] == "Kitchen light status"
    failures = diagnostics["counters"]["mac_failures_by_group_address"]
    assert failures == {"1/1/2": {"name": "Kitchen light status", "count": 2}}
    (interface, *_) = diagnostics["keyring"]["interfaces"]
    assert interface["group_addresses"]["1/1/1"]["name"] == "Kitchen light switch"
    assert interface["group_addresses"]["1/1/1"]["senders"]

    text = json.dumps(diagnostics)
    leaked = [secret for secret in [*knx_keyring.secrets(), KEYRING_PASSWORD] if secret in text]
    assert not leaked


async def test_the_ets6_fixtures_names_in_the_monitor(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """The demo home's ETS 6 project (tests/fixtures/projects): the seed actuator's names."""
    project = await hass.async_add_executor_job(
        parse_project_file, FIXTURES / "projects" / "ets6.knxproj", None, None
    )
    entry = await async_add_demo_entry(hass, demo_gateway, upload_file)
    await async_give_project(hass, entry, project)
    await hass.services.async_call(
        DOMAIN, "send", {"address": "1/1/1", "value": True}, blocking=True
    )
    monitor = entry.runtime_data.monitor
    await wait_for(lambda: any(r["destination"] == str(STATUS) for r in monitor.rows))
    rows = list(monitor.rows)
    assert _row(rows, direction="outgoing")["destination_name"] == "Seed actuator switch"
    status = _row(rows, direction="incoming", destination=str(STATUS))
    assert status["destination_name"] == "Seed actuator status"
    assert status["source_name"] == "Seed actuator"
    await hass.config_entries.async_unload(entry.entry_id)
