"""Repairs for rejected telegrams, grouped by cause and sender; the project against the
keyring; and their fix flow.

The coordinator tells ``RejectionIssues`` about each telegram the library rejected (its
reason is the cause that happened: a failed check, a replay, a plain telegram on a secured
address, a secure one without a key). Once telegrams from one sender on one address used by
an entity keep failing for the same cause, a repair issue says so, with the ETS step that
fixes it. Causes a new keyring fixes have a fix flow that takes the new keyring right there.

At set-up with an imported ETS project, ``project_check`` compares it with the keyring; each
kind of finding is one issue listing its addresses with their names (at most
``LISTED_ADDRESSES``: a big project must not flood the repairs page), raised once and deleted
once it no longer holds.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant import data_entry_flow
from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers import selector

from .const import (
    CONF_GATEWAY_ADDRESS,
    CONF_KEYRING_FILE,
    CONF_KEYRING_PASSWORD,
    CONF_KEYRING_UPLOAD,
    CONF_PROJECT,
    DOMAIN,
)
from .knx.address import GroupAddress, IndividualAddress
from .knx.drops import DropReason
from .knx.errors import KeyringError, KeyringPasswordError
from .knx.keyring import load_keyring
from .knx.telegram import TelegramDropped
from .store import keyring_directory, read_keyring_upload, write_pending_keyring

if TYPE_CHECKING:
    from .project_check import FindingKind, ProjectFindings

_LOGGER = logging.getLogger(__name__)

#: The most addresses one project issue lists; the rest are counted.
LISTED_ADDRESSES: Final = 20


class Cause:
    """How one drop reason becomes a repair issue."""

    def __init__(self, translation_key: str, threshold: int, *, new_keyring_fixes: bool) -> None:
        self.translation_key = translation_key
        self.threshold = threshold  # rejected telegrams before the issue is raised
        self.new_keyring_fixes = new_keyring_fixes


#: Replays are normal now and then (a repeated frame): only many of them are an issue.
CAUSES: Final[Mapping[DropReason, Cause]] = {
    DropReason.MAC: Cause("rejected_mac", 3, new_keyring_fixes=True),
    DropReason.PLAIN: Cause("rejected_plain", 3, new_keyring_fixes=True),
    DropReason.NO_KEY: Cause("rejected_no_key", 3, new_keyring_fixes=True),
    DropReason.REPLAY: Cause("rejected_replay", 10, new_keyring_fixes=False),
}


def issue_id(
    entry_id: str, reason: DropReason, sender: IndividualAddress, address: GroupAddress
) -> str:
    """The repair issue of one cause, sender and group address of an entry."""
    return f"{entry_id}_rejected_{reason}_{sender.raw}_{address.raw}"


class RejectionIssues:
    """Counts rejected telegrams per cause, sender and address; raises the repair issues."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        used: Callable[[], set[GroupAddress]],
        names: Callable[[GroupAddress], str | None],
        sender_names: Callable[[IndividualAddress], str | None] = lambda _sender: None,
    ) -> None:
        self.hass = hass
        self.entry = entry
        self._used = used
        self._names = names
        self._sender_names = sender_names
        self.counts: Counter[tuple[DropReason, IndividualAddress, GroupAddress]] = Counter()

    @callback
    def record(self, dropped: TelegramDropped) -> None:
        """Count a rejected telegram; raise (or update) its issue past the threshold."""
        cause = CAUSES.get(dropped.reason)
        if cause is None or dropped.address not in self._used():
            return
        key = (dropped.reason, dropped.source, dropped.address)
        self.counts[key] += 1
        count = self.counts[key]
        if count < cause.threshold:
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id(self.entry.entry_id, *key),
            is_fixable=cause.new_keyring_fixes,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=cause.translation_key,
            translation_placeholders={
                "sender": named(dropped.source, self._sender_names(dropped.source)),
                "address": named(dropped.address, self._names(dropped.address)),
                "count": str(count),
                "gateway": self.entry.title,
            },
            data={"entry_id": self.entry.entry_id},
        )


def named(address: GroupAddress | IndividualAddress, name: str | None) -> str:
    """An address with its name for an issue's text: "1/2/3 (Kitchen light)"."""
    return f"{address} ({name})" if name else str(address)


# --- the project against the keyring ----------------------------------------------------------


def project_issue_id(entry_id: str, kind: FindingKind) -> str:
    """The repair issue of one kind of project finding (it starts with the entry id:
    ``async_delete_issues`` removes it with the others)."""
    return f"{entry_id}_{kind}"


def address_list(
    addresses: Sequence[GroupAddress], names: Callable[[GroupAddress], str | None]
) -> str:
    """A Markdown list of addresses with their names, at most LISTED_ADDRESSES of them."""
    lines = [f"- {named(a, names(a))}" for a in addresses[:LISTED_ADDRESSES]]
    return "\n".join([*lines, *_more(len(addresses))])


def _more(count: int) -> list[str]:
    return [f"- … (+{count - LISTED_ADDRESSES})"] if count > LISTED_ADDRESSES else []


def _entity_list(findings: ProjectFindings, names: Callable[[GroupAddress], str | None]) -> str:
    """One line per entity with the addresses it cannot send to; LISTED_ADDRESSES in all."""
    lines: list[str] = []
    left = LISTED_ADDRESSES
    for entity in findings.not_sender:
        shown = entity.addresses[: max(left, 0)]
        if not shown:
            break
        lines.append(f"- {entity.title}: {', '.join(named(a, names(a)) for a in shown)}")
        left -= len(shown)
    total = sum(len(entity.addresses) for entity in findings.not_sender)
    return "\n".join([*lines, *_more(total)])


def project_issue_placeholders(
    findings: ProjectFindings, names: Callable[[GroupAddress], str | None]
) -> dict[FindingKind, dict[str, str]]:
    """Each kind's placeholders (only the kinds with findings)."""
    from .project_check import FindingKind  # noqa: PLC0415 - its subentries import us

    placeholders: dict[FindingKind, dict[str, str]] = {}
    if findings.secure_without_key:
        placeholders[FindingKind.SECURE_WITHOUT_KEY] = {
            "count": str(len(findings.secure_without_key)),
            "addresses": address_list(findings.secure_without_key, names),
        }
    if findings.key_not_in_project:
        placeholders[FindingKind.KEY_NOT_IN_PROJECT] = {
            "count": str(len(findings.key_not_in_project)),
            "addresses": address_list(findings.key_not_in_project, names),
        }
    if findings.not_sender:
        placeholders[FindingKind.NOT_SENDER] = {
            "count": str(len(findings.not_sender)),
            "entities": _entity_list(findings, names),
            "senders": ", ".join(str(sender) for sender in findings.senders),
        }
    return placeholders


@callback
def async_update_project_issues(
    hass: HomeAssistant,
    entry: ConfigEntry,
    project_name: str,
    findings: ProjectFindings,
    names: Callable[[GroupAddress], str | None],
) -> None:
    """Raise one issue per kind of finding and delete the kinds that no longer hold."""
    from .project_check import FindingKind  # noqa: PLC0415 - its subentries import us

    placeholders = project_issue_placeholders(findings, names)
    for kind in FindingKind:
        issue = project_issue_id(entry.entry_id, kind)
        if kind not in placeholders:
            ir.async_delete_issue(hass, DOMAIN, issue)
            continue
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue,
            # A new keyring is the last ETS step of both; an address the project lost may
            # need the project imported again instead: no single fix.
            is_fixable=kind is not FindingKind.KEY_NOT_IN_PROJECT,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=str(kind),
            translation_placeholders={
                **placeholders[kind],
                "gateway": entry.title,
                "project": project_name,
            },
            data={"entry_id": entry.entry_id},
        )


@callback
def async_delete_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the repair issues of an entry (set-up again, or removed)."""
    registry = ir.async_get(hass)
    for domain, issue in list(registry.issues):
        if domain == DOMAIN and issue.startswith(f"{entry_id}_"):
            ir.async_delete_issue(hass, DOMAIN, issue)


# --- the fix flow: a new keyring from the repair -------------------------------------------------


class NewKeyringFlow(RepairsFlow):
    """Upload the keyring exported after the last download; the entry reloads with it."""

    def __init__(self, entry_id: str) -> None:
        self._entry_id = entry_id

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> data_entry_flow.FlowResult:
        """The flow starts with the issue's data: go to the keyring form."""
        return await self.async_step_keyring()

    async def async_step_keyring(
        self, user_input: dict[str, str] | None = None
    ) -> data_entry_flow.FlowResult:
        """Ask for the new keyring and its password; store it and reload the entry."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await self._async_take(entry, user_input)
            if not errors:
                return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="keyring",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_KEYRING_UPLOAD): selector.FileSelector(
                        selector.FileSelectorConfig(accept=".knxkeys")
                    ),
                    vol.Required(CONF_KEYRING_PASSWORD): selector.TextSelector(
                        selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
                    ),
                }
            ),
            errors=errors,
            description_placeholders={"gateway": entry.title},
        )

    async def _async_take(self, entry: ConfigEntry, user_input: dict[str, str]) -> dict[str, str]:
        """Check the new keyring, store it for the entry and reload; form errors else."""
        try:
            content = await self.hass.async_add_executor_job(
                read_keyring_upload, self.hass, user_input[CONF_KEYRING_UPLOAD]
            )
            keyring = await self.hass.async_add_executor_job(
                load_keyring, content, user_input[CONF_KEYRING_PASSWORD]
            )
        except KeyringPasswordError:
            return {CONF_KEYRING_PASSWORD: "invalid_keyring_password"}
        except (KeyringError, OSError, ValueError) as err:
            _LOGGER.debug("Keyring from the repair rejected: %s", err)
            return {CONF_KEYRING_UPLOAD: "invalid_keyring_file"}
        if keyring.project != entry.data[CONF_PROJECT]:
            return {"base": "other_project"}
        if IndividualAddress.parse(entry.data[CONF_GATEWAY_ADDRESS]) not in keyring.hosts():
            return {"base": "host_not_in_keyring"}
        name = await self.hass.async_add_executor_job(
            write_pending_keyring, keyring_directory(self.hass), content
        )
        self.hass.config_entries.async_update_entry(
            entry,
            data={
                **entry.data,
                CONF_KEYRING_FILE: name,
                CONF_KEYRING_PASSWORD: user_input[CONF_KEYRING_PASSWORD],
            },
        )
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return {}


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The fix flow of a rejected-telegram or project issue: a new keyring."""
    assert data is not None
    return NewKeyringFlow(str(data["entry_id"]))
