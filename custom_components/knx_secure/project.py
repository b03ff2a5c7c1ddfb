"""What an entry keeps of an imported ETS project: names, types and secure flags.

The ``.knxproj`` itself is parsed by ``xknxproject`` (in the executor); this module keeps only
what the integration uses, so neither the file nor its password is stored. One stored
project per entry (``knx_secure.project.<entry_id>`` in ``.storage``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN

PROJECT_STORE_VERSION: Final = 1


def project_store_key(entry_id: str) -> str:
    return f"{DOMAIN}.project.{entry_id}"


@dataclass(frozen=True, slots=True)
class ProjectAddress:
    """A group address as the project names and types it."""

    address: str  # "1/2/3" (the three-level form, as our GroupAddress prints it)
    name: str
    description: str = ""
    dpt: str | None = None  # "9.001", or "1" when the project knows only the main number
    secure: bool = False  # ETS marks it Data Secure
    # Whether a device's communication object linked to it has the write flag (an actuator's
    # input: a switch, not a status); None when the project has no devices to tell.
    writable: bool | None = None


@dataclass(frozen=True, slots=True)
class ProjectDevice:
    """A device of the project's topology."""

    individual_address: str  # "1.1.7"
    name: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class ProjectFunction:
    """An ETS 6 function (a room's light, blind, heating...) with its addresses by role."""

    identifier: str
    name: str
    function_type: str  # ETS's type, e.g. "FT-1" (switchable light), "FT-6" (dimmable light)
    space: str = ""  # the name of the room or part of the building that holds it
    addresses: tuple[tuple[str, str], ...] = ()  # (role as ETS names it, "1/2/3")


@dataclass(frozen=True, slots=True)
class Project:
    """The part of an ETS project an entry keeps."""

    name: str
    tool_version: str = ""  # e.g. "ETS6 6.1.0"; for the diagnostics and the options form
    addresses: Mapping[str, ProjectAddress] = field(default_factory=dict)
    devices: Mapping[str, ProjectDevice] = field(default_factory=dict)
    functions: Mapping[str, ProjectFunction] = field(default_factory=dict)

    def address_name(self, address: str) -> str | None:
        """The project's name of a group address, if it has one."""
        known = self.addresses.get(address)
        return known.name if known is not None and known.name else None

    def device_name(self, individual_address: str) -> str | None:
        known = self.devices.get(individual_address)
        return known.name if known is not None and known.name else None

    def as_dict(self) -> dict[str, Any]:
        """JSON for the store."""
        return {
            "name": self.name,
            "tool_version": self.tool_version,
            "addresses": [
                [a.address, a.name, a.description, a.dpt, a.secure, a.writable]
                for a in self.addresses.values()
            ],
            "devices": [
                [d.individual_address, d.name, d.description] for d in self.devices.values()
            ],
            "functions": [
                [f.identifier, f.name, f.function_type, f.space, [list(r) for r in f.addresses]]
                for f in self.functions.values()
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Project:
        """The inverse of ``as_dict``; raises ``ValueError`` for stored data it can't read."""
        try:
            addresses = {
                row[0]: ProjectAddress(
                    row[0], row[1], row[2], row[3], bool(row[4]), row[5] if len(row) > 5 else None
                )
                for row in data["addresses"]
            }
            devices = {row[0]: ProjectDevice(row[0], row[1], row[2]) for row in data["devices"]}
            functions = {
                row[0]: ProjectFunction(
                    row[0], row[1], row[2], row[3], tuple((r[0], r[1]) for r in row[4])
                )
                for row in data["functions"]
            }
            return cls(
                name=data["name"],
                tool_version=data.get("tool_version", ""),
                addresses=addresses,
                devices=devices,
                functions=functions,
            )
        except (KeyError, IndexError, TypeError) as err:
            raise ValueError(f"stored project is damaged: {type(err).__name__}") from err


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, PROJECT_STORE_VERSION, project_store_key(entry_id))


async def async_load_project(hass: HomeAssistant, entry_id: str) -> Project | None:
    """The entry's stored project, or None when none was imported (or it is unreadable)."""
    data = await _store(hass, entry_id).async_load()
    if data is None:
        return None
    try:
        return Project.from_dict(data)
    except ValueError:
        return None


async def async_save_project(hass: HomeAssistant, entry_id: str, project: Project) -> None:
    await _store(hass, entry_id).async_save(project.as_dict())


async def async_remove_project(hass: HomeAssistant, entry_id: str) -> None:
    await _store(hass, entry_id).async_remove()
