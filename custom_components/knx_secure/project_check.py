"""The imported ETS project against the keyring: what disagrees, and what fixes it in ETS.

Pure functions (no I/O, no Home Assistant state): the project, the keyring, the entry's
entities (subentries) and the addresses it sends from in, findings out;
``async_check_project`` runs them at set-up and ``repairs.py`` turns the findings into repair
issues. Three kinds:

- the project marks an address Data Secure but the keyring has no key for it: the keyring is
  older than the last download;
- the keyring has a key for an address the project no longer has: the keyring (or the
  project) is from another state of the installation;
- an entity sends to a Data Secure address whose senders (in ETS) lack the tunnel or routing
  address in use: the devices drop what Home Assistant sends there (the confirm step of the
  entity's form warns of the same, with the same rule: ``subentries.base.not_sendable``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant, callback

from .knx.address import GroupAddress, IndividualAddress
from .knx.errors import AddressError
from .knx.keyring import Keyring
from .project import Project
from .repairs import async_update_project_issues
from .subentries import SUBENTRY_FLOWS
from .subentries.base import GroupAddressSubentryFlow, not_sendable, senders_in_use


class FindingKind(StrEnum):
    """What disagrees; each kind is one repair issue of an entry (its translation key)."""

    SECURE_WITHOUT_KEY = "project_secure_without_key"
    KEY_NOT_IN_PROJECT = "project_key_not_in_project"
    NOT_SENDER = "project_not_sender"


@dataclass(frozen=True, slots=True)
class EntityNotSender:
    """An entity and the Data Secure addresses it sends to that a sender in use may not."""

    title: str
    addresses: tuple[GroupAddress, ...]


@dataclass(frozen=True, slots=True)
class ProjectFindings:
    """Everything the check found, per kind (all empty: project and keyring agree)."""

    secure_without_key: tuple[GroupAddress, ...] = ()
    key_not_in_project: tuple[GroupAddress, ...] = ()
    not_sender: tuple[EntityNotSender, ...] = ()
    senders: tuple[IndividualAddress, ...] = ()  # the addresses in use

    def kinds(self) -> dict[FindingKind, bool]:
        """Whether each kind has a finding (the issues to raise, and to delete)."""
        return {
            FindingKind.SECURE_WITHOUT_KEY: bool(self.secure_without_key),
            FindingKind.KEY_NOT_IN_PROJECT: bool(self.key_not_in_project),
            FindingKind.NOT_SENDER: bool(self.not_sender),
        }


def secure_without_key(project: Project, keyring: Keyring) -> list[GroupAddress]:
    """Addresses the project marks Data Secure that have no key in the keyring.

    Compared as text (the project keeps "1/2/3" as GroupAddress prints it): only what is
    found is parsed, not the thousands of addresses of a big project."""
    keyed = {str(address) for address in keyring.group_keys}
    found = []
    for text, known in project.addresses.items():
        if known.secure and text not in keyed:
            try:
                found.append(GroupAddress.parse(text))
            except AddressError:
                continue  # not ours to guess: the parser keeps the three-level form
    return sorted(found)


def keys_not_in_project(project: Project, keyring: Keyring) -> list[GroupAddress]:
    """Addresses the keyring has a key for that the project does not have."""
    return sorted(
        address for address in keyring.group_keys if str(address) not in project.addresses
    )


def entity_not_sendable(
    subentry_type: str,
    data: Mapping[str, Any],
    keyring: Keyring,
    senders: Sequence[IndividualAddress],
) -> list[GroupAddress]:
    """The Data Secure addresses one entity sends to that a sender in use may not send to
    (which addresses it sends to is its form's rule: a listening sensor sends nothing)."""
    flow = SUBENTRY_FLOWS.get(subentry_type)
    if flow is None or not issubclass(flow, GroupAddressSubentryFlow):
        return []
    try:
        addresses = flow.addresses_of(data)
        return not_sendable(keyring, senders, flow.sent_addresses(data, addresses))
    except (KeyError, ValueError):
        return []  # damaged data: the entity's own set-up reports it


def entities_not_sendable(
    subentries: Iterable[ConfigSubentry],
    keyring: Keyring,
    senders: Sequence[IndividualAddress],
) -> list[EntityNotSender]:
    """Every entity with addresses it cannot send to, in the entry's order."""
    found = []
    for subentry in subentries:
        missing = entity_not_sendable(subentry.subentry_type, subentry.data, keyring, senders)
        if missing:
            found.append(EntityNotSender(subentry.title, tuple(missing)))
    return found


def check_project(
    project: Project,
    keyring: Keyring,
    subentries: Iterable[ConfigSubentry],
    senders: Sequence[IndividualAddress],
) -> ProjectFindings:
    """The project against the keyring and the entities; cheap (no I/O)."""
    return ProjectFindings(
        secure_without_key=tuple(secure_without_key(project, keyring)),
        key_not_in_project=tuple(keys_not_in_project(project, keyring)),
        not_sender=tuple(entities_not_sendable(subentries, keyring, senders)),
        senders=tuple(senders),
    )


@callback
def async_check_project(
    hass: HomeAssistant,
    entry: ConfigEntry,
    project: Project | None,
    keyring: Keyring,
    names: Callable[[GroupAddress], str | None],
) -> ProjectFindings:
    """Check the entry's project (none: nothing to find) and bring its repair issues up to
    date: raised once per kind, deleted once the kind no longer holds."""
    findings = (
        ProjectFindings()
        if project is None
        else check_project(
            project, keyring, entry.subentries.values(), senders_in_use(entry.data, keyring)
        )
    )
    async_update_project_issues(hass, entry, project.name if project else "", findings, names)
    return findings
