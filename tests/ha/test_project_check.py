"""The imported ETS project against the keyring: each kind of finding is one repair issue
with the ETS step that fixes it, raised at set-up, gone once it no longer holds, never twice.

The projects are built here and saved before the entry is set up again (what an import
does: save, then reload).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from unittest.mock import AsyncMock

import pytest
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.knx_secure.const import (
    CONF_CONNECTION,
    CONF_INDIVIDUAL_ADDRESS,
    CONF_STATE_ADDRESS,
    CONF_SYNC_STATE,
    CONF_WRITE_ADDRESS,
    CONNECTION_ROUTING_SECURE,
    DOMAIN,
    SUBENTRY_BINARY_SENSOR,
    SUBENTRY_SWITCH,
)
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring
from custom_components.knx_secure.project import (
    Project,
    ProjectAddress,
    ProjectDevice,
    parse_project_file,
)
from custom_components.knx_secure.project_check import (
    FindingKind,
    ProjectFindings,
    check_project,
    entity_not_sendable,
    keys_not_in_project,
    secure_without_key,
)
from custom_components.knx_secure.repairs import (
    LISTED_ADDRESSES,
    address_list,
    project_issue_id,
    project_issue_placeholders,
)
from custom_components.knx_secure.subentries.base import senders_in_use

from .conftest import (
    FIXTURES,
    Setup,
    UploadFile,
    async_add_gateway_entry,
    async_add_subentry,
)
from .demo_project import async_add_demo_entry, async_give_project
from .test_translations import resolved_strings

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway

SECURE_TEST = FIXTURES / "SecureTest.knxkeys"  # gateway 5.0.0; tunnel 5.0.2 no sender of 0/4/0
SECURE_TEST_BYTES = SECURE_TEST.read_bytes()


def _project(*addresses: ProjectAddress, devices: tuple[ProjectDevice, ...] = ()) -> Project:
    return Project(
        name="Secure Test home",
        tool_version="ETS6 6.1.0",
        addresses={a.address: a for a in addresses},
        devices={d.individual_address: d for d in devices},
    )


#: The test keyring has the keys of 1/1/1 and 1/1/2; the project secures 1/1/3 too.
KITCHEN = ProjectAddress("1/1/1", "Kitchen light switch", dpt="1.001", secure=True)
KITCHEN_STATUS = ProjectAddress("1/1/2", "Kitchen light status", dpt="1.001", secure=True)
HALL = ProjectAddress("1/1/3", "Hall light", dpt="1.001", secure=True)
PLAIN = ProjectAddress("1/1/4", "Garden light", dpt="1.001")


def _issue(hass: HomeAssistant, entry: ConfigEntry, kind: FindingKind) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, project_issue_id(entry.entry_id, kind))


def _project_issues(hass: HomeAssistant, entry: ConfigEntry) -> list[str]:
    return sorted(
        issue_id
        for domain, issue_id in ir.async_get(hass).issues
        if domain == DOMAIN and issue_id.startswith(f"{entry.entry_id}_project_")
    )


def _text(kind: FindingKind, placeholders: Mapping[str, str]) -> str:
    """The issue's description as the repairs page shows it (every placeholder filled)."""
    issue = resolved_strings()["issues"][str(kind)]
    return f"{issue['title'].format(**placeholders)}\n{issue['description'].format(**placeholders)}"


# --- the pure check --------------------------------------------------------------------------


def test_a_secure_project_address_without_a_key_is_found(knx_keyring: Keyring) -> None:
    project = _project(KITCHEN, KITCHEN_STATUS, HALL, PLAIN)
    assert secure_without_key(project, knx_keyring) == [GroupAddress.parse("1/1/3")]
    assert keys_not_in_project(project, knx_keyring) == []


def test_a_key_for_an_address_the_project_no_longer_has_is_found(knx_keyring: Keyring) -> None:
    project = _project(KITCHEN, PLAIN)
    assert keys_not_in_project(project, knx_keyring) == [GroupAddress.parse("1/1/2")]
    assert secure_without_key(project, knx_keyring) == []


def test_project_and_keyring_that_agree_find_nothing(knx_keyring: Keyring) -> None:
    project = _project(KITCHEN, KITCHEN_STATUS, PLAIN)
    senders = [IndividualAddress.parse("1.1.252")]
    findings = check_project(project, knx_keyring, [], senders)
    assert not any(findings.kinds().values())


def test_the_sender_rule_is_the_confirm_steps() -> None:
    """5.0.2 is no sender of 0/4/0 in SecureTest: a switch writing there is found; a
    binary sensor that does not read at start sends nothing and is not."""
    keyring = load_keyring(SECURE_TEST, "test")
    ga = GroupAddress.parse("0/4/0")
    tunnel = [IndividualAddress.parse("5.0.2")]
    switch = {CONF_NAME: "Secure", CONF_WRITE_ADDRESS: "0/4/0"}
    assert entity_not_sendable(SUBENTRY_SWITCH, switch, keyring, tunnel) == [ga]
    assert (
        entity_not_sendable(SUBENTRY_SWITCH, switch, keyring, [IndividualAddress.parse("5.0.1")])
        == []
    )
    listening = {CONF_NAME: "Sensor", CONF_STATE_ADDRESS: "0/4/0", CONF_SYNC_STATE: False}
    assert entity_not_sendable(SUBENTRY_BINARY_SENSOR, listening, keyring, tunnel) == []
    reading = {**listening, CONF_SYNC_STATE: True}
    assert entity_not_sendable(SUBENTRY_BINARY_SENSOR, reading, keyring, tunnel) == [ga]
    # damaged data is the entity's own set-up's problem, not a finding
    broken = {CONF_NAME: "Broken", CONF_WRITE_ADDRESS: "99/99/99"}
    assert entity_not_sendable(SUBENTRY_SWITCH, broken, keyring, tunnel) == []


def test_a_routing_entry_is_checked_with_its_own_address(knx_keyring: Keyring) -> None:
    routing = {CONF_CONNECTION: CONNECTION_ROUTING_SECURE, CONF_INDIVIDUAL_ADDRESS: "15.15.250"}
    senders = senders_in_use(routing, knx_keyring)
    assert senders == [IndividualAddress.parse("15.15.250")]
    switch = {CONF_NAME: "Light", CONF_WRITE_ADDRESS: "1/1/1"}
    assert entity_not_sendable(SUBENTRY_SWITCH, switch, knx_keyring, senders) == [
        GroupAddress.parse("1/1/1")
    ]
    listed = [IndividualAddress.parse("1.1.253")]  # a sender of 1/1/1 in the test keyring
    assert entity_not_sendable(SUBENTRY_SWITCH, switch, knx_keyring, listed) == []


def test_a_big_project_lists_a_bounded_number_of_addresses() -> None:
    addresses = [GroupAddress.parse(f"2/0/{n}") for n in range(LISTED_ADDRESSES + 5)]
    text = address_list(addresses, lambda a: f"Lamp {a.raw & 0xFF}")
    lines = text.splitlines()
    assert len(lines) == LISTED_ADDRESSES + 1
    assert lines[0] == "- 2/0/0 (Lamp 0)"
    assert lines[-1] == "- … (+5)"
    placeholders = project_issue_placeholders(
        ProjectFindings(secure_without_key=tuple(addresses)), lambda _a: None
    )
    assert placeholders[FindingKind.SECURE_WITHOUT_KEY]["count"] == str(len(addresses))


# --- the repair issues ------------------------------------------------------------------------


async def test_no_project_no_project_issue(hass: HomeAssistant, setup: Setup) -> None:
    assert _project_issues(hass, setup.entry) == []


async def test_secure_addresses_without_a_key_are_one_issue_with_names_and_the_ets_step(
    hass: HomeAssistant, setup: Setup, knx_keyring: Keyring
) -> None:
    await async_give_project(hass, setup.entry, _project(KITCHEN, KITCHEN_STATUS, HALL, PLAIN))
    issue = _issue(hass, setup.entry, FindingKind.SECURE_WITHOUT_KEY)
    assert issue is not None
    assert issue.is_fixable  # a new keyring, right from the repair
    placeholders = issue.translation_placeholders
    assert placeholders["addresses"] == "- 1/1/3 (Hall light)"
    assert placeholders["count"] == "1"
    text = _text(FindingKind.SECURE_WITHOUT_KEY, placeholders)
    assert "Hall light" in text
    assert "export the keyring again" in text
    assert "Secure Test home" in text
    assert not [secret for secret in knx_keyring.secrets() if secret in text]  # names, no keys
    # the other kinds hold not
    assert _project_issues(hass, setup.entry) == [
        project_issue_id(setup.entry.entry_id, FindingKind.SECURE_WITHOUT_KEY)
    ]


async def test_keys_the_project_no_longer_has_are_one_issue(
    hass: HomeAssistant, setup: Setup
) -> None:
    await async_give_project(hass, setup.entry, _project(KITCHEN, PLAIN))
    issue = _issue(hass, setup.entry, FindingKind.KEY_NOT_IN_PROJECT)
    assert issue is not None
    assert not issue.is_fixable  # a new keyring or a new project: the text says which
    # not in the project: the entities' name of the address is shown
    assert issue.translation_placeholders["addresses"] == (
        "- 1/1/2 (Light · state, Light status · state)"
    )
    text = _text(FindingKind.KEY_NOT_IN_PROJECT, issue.translation_placeholders)
    assert "export the keyring again" in text
    assert "import it" in text


async def test_an_issue_goes_once_its_finding_no_longer_holds_and_never_doubles(
    hass: HomeAssistant, setup: Setup
) -> None:
    entry = setup.entry
    await async_give_project(hass, entry, _project(KITCHEN, HALL))  # both kinds
    raised = _project_issues(hass, entry)
    assert len(raised) == 2
    # a reload with the same project: the same issues, not two of each
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert _project_issues(hass, entry) == raised
    # a project that agrees with the keyring (a new one was imported): both gone
    await async_give_project(hass, entry, _project(KITCHEN, KITCHEN_STATUS, PLAIN))
    assert _project_issues(hass, entry) == []


async def test_the_check_brings_the_issues_up_to_date_without_a_reload(
    hass: HomeAssistant, setup: Setup, knx_keyring: Keyring
) -> None:
    """Raised once per kind, deleted when it no longer holds (the function set-up runs)."""
    from custom_components.knx_secure.project_check import async_check_project  # noqa: PLC0415

    entry = setup.entry
    names = entry.runtime_data.monitor.address_name
    async_check_project(hass, entry, _project(KITCHEN, KITCHEN_STATUS, HALL), knx_keyring, names)
    async_check_project(hass, entry, _project(KITCHEN, KITCHEN_STATUS, HALL), knx_keyring, names)
    assert len(_project_issues(hass, entry)) == 1
    async_check_project(hass, entry, _project(KITCHEN, KITCHEN_STATUS), knx_keyring, names)
    assert _project_issues(hass, entry) == []
    async_check_project(hass, entry, _project(KITCHEN), knx_keyring, names)
    assert _issue(hass, entry, FindingKind.KEY_NOT_IN_PROJECT) is not None
    async_check_project(hass, entry, None, knx_keyring, names)
    assert _project_issues(hass, entry) == []


async def test_an_entity_the_tunnel_may_not_send_for_is_one_issue(
    hass: HomeAssistant, socket_enabled: None, mock_search: AsyncMock, upload_file: UploadFile
) -> None:
    from custom_components.knx_secure.knx.gateway import VirtualGateway  # noqa: PLC0415

    keyring = await hass.async_add_executor_job(load_keyring, SECURE_TEST, "test")
    virtual = VirtualGateway(keyring)
    await virtual.start()
    entry: ConfigEntry | None = None
    try:
        entry = await async_add_gateway_entry(
            hass,
            virtual,
            upload_file,
            tunnel="5.0.2",
            keyring_source=SECURE_TEST_BYTES,
            password="test",
        )
        await async_add_subentry(
            hass, entry, SUBENTRY_SWITCH, {CONF_NAME: "Secure", CONF_WRITE_ADDRESS: "0/4/0"}
        )
        await hass.async_block_till_done()
        # the project names every address the keyring has a key of, secure as ETS says
        project = _project(
            *(ProjectAddress(str(ga), f"Secured {ga}", secure=True) for ga in keyring.group_keys)
        )
        await async_give_project(hass, entry, project)
        assert _project_issues(hass, entry) == [
            project_issue_id(entry.entry_id, FindingKind.NOT_SENDER)
        ]
        issue = _issue(hass, entry, FindingKind.NOT_SENDER)
        assert issue is not None
        assert issue.is_fixable
        placeholders = issue.translation_placeholders
        assert placeholders["entities"] == "- Secure: 0/4/0 (Secured 0/4/0)"
        assert placeholders["senders"] == "5.0.2"
        text = _text(FindingKind.NOT_SENDER, placeholders)
        assert "add the tunnel" in text
        assert "Secured 0/4/0" in text
    finally:
        if entry is not None:
            await hass.config_entries.async_unload(entry.entry_id)
        await virtual.stop()


# --- the ETS project fixtures (tests/fixtures/projects/INDEX.md) against the demo keyring -----

PROJECTS = FIXTURES / "projects"
#: INDEX.md's passwords of the protected fixtures.
PROJECT_PASSWORDS = {"ets5-protected": "knx-secure-5", "ets6-protected": "Grüße aus ETS 6!"}
#: INDEX.md: the plan's secure addresses the ETS 4 file has (the demo keyring has 77 keys).
ETS4_SECURE = {"1/1/1", "1/1/2", "1/2/1", "1/2/2", "1/2/3", "1/2/4"}


def _parsed(name: str) -> Project:
    return parse_project_file(
        PROJECTS / f"{name}.knxproj", PROJECT_PASSWORDS.get(name), language=None
    )


@pytest.mark.parametrize("name", ["ets5", "ets6", "ets5-protected", "ets6-protected"])
def test_ets5_and_6_fixtures_find_the_terrace_light_without_a_key(
    name: str, demo_keyring: Keyring
) -> None:
    project = _parsed(name)
    assert secure_without_key(project, demo_keyring) == [GroupAddress.parse("1/7/1")]
    assert keys_not_in_project(project, demo_keyring) == []


def test_the_ets4_fixture_lacks_the_keys_of_71_addresses(demo_keyring: Keyring) -> None:
    project = _parsed("ets4")
    assert secure_without_key(project, demo_keyring) == []
    missing = {str(address) for address in keys_not_in_project(project, demo_keyring)}
    assert len(missing) == 71
    assert not missing & ETS4_SECURE
    assert missing | ETS4_SECURE == {str(address) for address in demo_keyring.group_keys}


def test_another_installations_project_has_none_of_the_keys(demo_keyring: Keyring) -> None:
    project = _parsed("other-installation")
    assert len(keys_not_in_project(project, demo_keyring)) == 77
    # 5/1/1 is secure there and no key of this keyring either
    assert secure_without_key(project, demo_keyring) == [GroupAddress.parse("5/1/1")]


async def test_a_newer_project_replaces_the_findings_of_the_older_one(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """ETS 4's project is older than the keyring (71 keys it lacks, listed 20 with names and
    the rest counted); the ETS 6 project imported next has them all and secures 1/7/1, which
    the keyring has no key of: the first issue goes, the other comes."""
    entry = await async_add_demo_entry(hass, demo_gateway, upload_file)
    await async_give_project(hass, entry, await hass.async_add_executor_job(_parsed, "ets4"))
    assert _project_issues(hass, entry) == [
        project_issue_id(entry.entry_id, FindingKind.KEY_NOT_IN_PROJECT)
    ]
    issue = _issue(hass, entry, FindingKind.KEY_NOT_IN_PROJECT)
    assert issue is not None
    placeholders = issue.translation_placeholders
    assert placeholders["count"] == "71"
    lines = placeholders["addresses"].splitlines()
    assert len(lines) == LISTED_ADDRESSES + 1
    assert lines[-1] == f"- … (+{71 - LISTED_ADDRESSES})"

    await async_give_project(hass, entry, await hass.async_add_executor_job(_parsed, "ets6"))
    assert _project_issues(hass, entry) == [
        project_issue_id(entry.entry_id, FindingKind.SECURE_WITHOUT_KEY)
    ]
    issue = _issue(hass, entry, FindingKind.SECURE_WITHOUT_KEY)
    assert issue is not None
    assert issue.translation_placeholders["addresses"] == (
        "- 1/7/1 (Terrace light switch (secure, no key in the keyring))"
    )
    await hass.config_entries.async_unload(entry.entry_id)
