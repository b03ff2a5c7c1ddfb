"""What an entry keeps of an imported ETS project: names, types and secure flags.

The ``.knxproj`` itself is parsed by ``xknxproject`` (``parse_project_file``, in the
executor); this module keeps only what the integration uses, so neither the file nor its
password is stored. One stored project per entry (``knx_secure.project.<entry_id>`` in
``.storage``).
"""

from __future__ import annotations

import re
import secrets
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from homeassistant.components.file_upload import process_uploaded_file
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .knx.address import GroupAddress
from .knx.errors import AddressError, KNXSecureError

if TYPE_CHECKING:
    from xknxproject.models.knxproject import DPTType, KNXProject, ProjectInfo, Space

    from .knx.keyring import Keyring

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


# --- reading a .knxproj (xknxproject) ---------------------------------------------------

# knx_master.xml's namespace ends with the schema version: 11 is ETS 4 (4.0 to 4.2), 12 to 20
# ETS 5, 21 and later ETS 6. ETS 3 wrote no .knxproj; a version that is not a number is one
# xknxproject cannot read either.
MIN_SCHEMA_VERSION: Final = 11
# The schema versions whose tool name the project file does not give.
_ETS_BY_SCHEMA: Final = ((21, "ETS6"), (12, "ETS5"), (MIN_SCHEMA_VERSION, "ETS4"))
_NAMESPACE_PATTERN: Final = re.compile(rb'xmlns="https?://knx\.org/xml/project/([^"]*)"')
_MASTER_FILE: Final = "knx_master.xml"
_MASTER_HEAD_BYTES: Final = 4096  # the namespace is on the first or second line


class ProjectImportError(KNXSecureError):
    """An ETS project that cannot be imported. Messages never hold the project password.

    ``translation_key`` is the config and options flows' error; ``field`` the form field it
    belongs to (the file, or the password).
    """

    translation_key: ClassVar[str] = "project_invalid_file"
    field: ClassVar[str] = "file"


class ProjectPasswordError(ProjectImportError):
    """The project is password protected and the password is missing or wrong."""

    translation_key = "project_invalid_password"
    field = "password"


class ProjectVersionError(ProjectImportError):
    """The project is of an ETS version we (or xknxproject) cannot read."""

    translation_key = "project_unsupported_version"


class ProjectFileError(ProjectImportError):
    """The file is not an ETS project (not a zip, no signature, unexpected content)."""

    translation_key = "project_invalid_file"


class ProjectKeyringMismatchError(ProjectImportError):
    """The project is of another installation than the keyring (no group address in common)."""

    translation_key = "project_other_installation"


def parse_project_file(path: Path, password: str | None, language: str | None) -> Project:
    """Parse a ``.knxproj`` with xknxproject and keep what the integration uses.

    Blocking (runs in the executor). Raises only ``ProjectImportError`` subclasses.
    """
    protected, schema = _inspect_archive(path)
    if schema < MIN_SCHEMA_VERSION:
        raise ProjectVersionError(
            f"project schema {schema} is older than ETS 4 (schema {MIN_SCHEMA_VERSION})"
        )
    if protected and not password:
        raise ProjectPasswordError("the project is password protected: enter its password")
    return project_from_knxproject(_run_xknxproject(path, password, language, protected=protected))


def _inspect_archive(path: Path) -> tuple[bool, int]:
    """Whether the project is password protected, and its schema version.

    Checked before xknxproject runs, so that each kind of bad file gets its own error.
    """
    names, head = _read_archive_head(path)
    signatures = [name for name in names if name.startswith("P-") and name.endswith(".signature")]
    if not signatures:
        raise ProjectFileError("not an ETS project: the archive has no project signature")
    if head is None:
        raise ProjectFileError(f"not an ETS project: the archive has no {_MASTER_FILE}")
    match = _NAMESPACE_PATTERN.search(head)
    if match is None:
        raise ProjectFileError(f"not an ETS project: {_MASTER_FILE} has no KNX namespace")
    version = match.group(1).decode("ascii", "replace")
    if not version.isdigit():
        raise ProjectVersionError(f"unknown project schema version {version!r}")
    protected = f"{signatures[0].removesuffix('.signature')}.zip" in names
    return protected, int(version)


def _read_archive_head(path: Path) -> tuple[set[str], bytes | None]:
    """The archive's member names and the start of its knx_master.xml (None: it has none)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if _MASTER_FILE not in names:
                return names, None
            with archive.open(_MASTER_FILE) as master:
                return names, master.read(_MASTER_HEAD_BYTES)
    except zipfile.BadZipFile as err:
        raise ProjectFileError(f"not an ETS project: not a zip archive ({err})") from None
    except Exception as err:  # a damaged archive fails in zipfile or zlib in many ways
        raise ProjectFileError(f"damaged project archive ({type(err).__name__})") from None


def _run_xknxproject(
    path: Path, password: str | None, language: str | None, *, protected: bool
) -> KNXProject:
    """xknxproject's parse, its errors (and anything a damaged file raises) made ours."""
    from xknxproject.exceptions import (  # noqa: PLC0415
        InvalidPasswordException,
        XknxProjectException,
    )
    from xknxproject.xknxproj import XKNXProj  # noqa: PLC0415 - large; only an import needs it

    try:
        return XKNXProj(path, password=password or None, language=language).parse()
    except InvalidPasswordException:
        raise ProjectPasswordError("the project password is wrong") from None
    except XknxProjectException as err:
        raise ProjectFileError(f"unexpected project content ({type(err).__name__})") from None
    except Exception as err:  # xknxproject reads untrusted XML and zips: anything may fail
        if protected:
            # A wrong password passes ZIP's one-byte (ETS 5) or two-byte (ETS 6) check now
            # and then; what follows is garbage that fails to inflate or to verify.
            raise ProjectPasswordError("the project password is wrong") from None
        raise ProjectFileError(f"unexpected project content ({type(err).__name__})") from None


def project_from_knxproject(knxproject: KNXProject) -> Project:
    """The part of xknxproject's output an entry keeps."""
    info = knxproject["info"]
    addresses: dict[str, ProjectAddress] = {}
    by_project_text: dict[str, str] = {}  # xknxproject's address text (project's style) -> ours
    writable = _writable_addresses(knxproject)
    for text, group_address in knxproject["group_addresses"].items():
        address = _three_level(group_address["raw_address"])
        if address is None:
            continue
        by_project_text[text] = address
        addresses[address] = ProjectAddress(
            address=address,
            name=group_address["name"] or "",
            description=group_address["description"] or "",
            dpt=_dpt_text(group_address["dpt"]),
            secure=bool(group_address["data_secure"]),
            writable=writable.get(text),
        )
    devices = {
        device["individual_address"]: ProjectDevice(
            device["individual_address"], device["name"] or "", device["description"] or ""
        )
        for device in knxproject["devices"].values()
    }
    space_names = dict(_space_names(knxproject["locations"].values()))
    functions = {
        identifier: ProjectFunction(
            identifier=identifier,
            name=function["name"] or "",
            function_type=function["function_type"] or "",
            space=space_names.get(function["space_id"], ""),
            addresses=tuple(
                (ref["role"] or "", by_project_text[text])
                for text, ref in function["group_addresses"].items()
                if text in by_project_text
            ),
        )
        for identifier, function in knxproject["functions"].items()
    }
    return Project(
        name=info["name"] or "",
        tool_version=_tool_version(info),
        addresses=addresses,
        devices=devices,
        functions=functions,
    )


def _writable_addresses(knxproject: KNXProject) -> dict[str, bool]:
    """By xknxproject's address text: whether a device's communication object linked to it
    has the write flag (an actuator's input, so a switch; only read or transmitted: a
    status). Addresses no object links are left out (unknown)."""
    writable: dict[str, bool] = {}
    for communication_object in knxproject["communication_objects"].values():
        writes = bool(communication_object["flags"]["write"])
        for text in communication_object["group_address_links"]:
            writable[text] = writable.get(text, False) or writes
    return writable


def _three_level(raw: int) -> str | None:
    try:
        return str(GroupAddress(raw))
    except AddressError:
        return None


def _dpt_text(dpt: DPTType | None) -> str | None:
    """The type as "9.001" (the sub number padded to three digits), or "1" (main only)."""
    if dpt is None:
        return None
    sub = dpt["sub"]
    return f"{dpt['main']}" if sub is None else f"{dpt['main']}.{sub:03d}"


def _space_names(spaces: Iterable[Space]) -> Iterator[tuple[str, str]]:
    """(identifier, name) of every space of the building, nested ones included."""
    for space in spaces:
        yield space["identifier"], space["name"]
        yield from _space_names(space["spaces"].values())


def _tool_version(info: ProjectInfo) -> str:
    """The tool that wrote the project and its version, e.g. "ETS6 6.1.5686.0"."""
    tool, schema = info["created_by"], info["schema_version"]
    if not tool and schema.isdigit():
        tool = next((name for least, name in _ETS_BY_SCHEMA if int(schema) >= least), "")
    return " ".join(part for part in (tool, info["tool_version"]) if part)


def check_project_against_keyring(project: Project, keyring: Keyring) -> None:
    """Refuse a project of another installation than the keyring: when the keyring names
    group addresses (its Data Secure ones) and the project has none of them.

    A keyring without group addresses (no Data Secure) says nothing about the project.
    """
    keyring_addresses = {str(address) for address in keyring.group_keys}
    if keyring_addresses and keyring_addresses.isdisjoint(project.addresses):
        raise ProjectKeyringMismatchError(
            f"the project {project.name!r} has none of the {len(keyring_addresses)} group "
            f"addresses of the keyring of {keyring.project!r}: it is another installation"
        )


def parse_project_content(content: bytes, password: str | None, language: str | None) -> Project:
    """``parse_project_file`` of an upload held in memory (a private temporary copy, removed
    afterwards: xknxproject reads a path). Blocking (runs in the executor)."""
    with tempfile.TemporaryDirectory(prefix=f"{DOMAIN}_project_") as directory:
        path = Path(directory) / "upload.knxproj"
        path.write_bytes(content)
        return parse_project_file(path, password, language)


def read_project_upload(hass: HomeAssistant, file_id: str) -> bytes:
    """The content of an uploaded project (file_upload deletes its file). Runs in the
    executor; raises ``ValueError`` for an unknown upload."""
    with process_uploaded_file(hass, file_id) as path:
        return path.read_bytes()


# --- a project imported while adding a gateway --------------------------------------------

# The entry data key of a project parsed before the entry existed (the config flow stores it
# under this token; the entry's first set-up moves it to the entry's own store).
CONF_PENDING_PROJECT: Final = "pending_project"


def _pending_store(hass: HomeAssistant, token: str) -> Store[dict[str, Any]]:
    return Store(hass, PROJECT_STORE_VERSION, f"{DOMAIN}.project.pending_{token}")


async def async_save_pending_project(hass: HomeAssistant, project: Project) -> str:
    """Store a project for an entry that does not exist yet; return the token that names it."""
    token = secrets.token_hex(16)
    await _pending_store(hass, token).async_save(project.as_dict())
    return token


async def async_load_entry_project(hass: HomeAssistant, entry: ConfigEntry) -> Project | None:
    """The entry's project, adopting the one its config flow left pending (set-up)."""
    token = entry.data.get(CONF_PENDING_PROJECT)
    if token is not None:
        pending = _pending_store(hass, token)
        if (data := await pending.async_load()) is not None:
            await _store(hass, entry.entry_id).async_save(data)
        await pending.async_remove()
        hass.config_entries.async_update_entry(
            entry, data={k: v for k, v in entry.data.items() if k != CONF_PENDING_PROJECT}
        )
    return await async_load_project(hass, entry.entry_id)


async def async_remove_entry_project(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Remove the entry's project, and one still pending (entry removed before set-up)."""
    if (token := entry.data.get(CONF_PENDING_PROJECT)) is not None:
        await _pending_store(hass, token).async_remove()
    await async_remove_project(hass, entry.entry_id)
