"""An installation file: the simulated devices behind the virtual gateway, in JSON.

    {"devices": [{"kind": "switch", "address": "1.1.1", "name": "Seed actuator",
                  "reads_at_start": ["1/4/2"], "channels": [...]}, ...]}

Every entry has ``kind`` (a key of ``devices.DEVICE_KINDS``), ``address`` (its individual
address), an optional ``name`` and an optional ``reads_at_start`` (group addresses the device
reads when the bus powers up, and every ``read_period`` seconds if given); the other fields
are the kind's (docs/DEMO.md lists them).

Two steps, both strict and raising nothing but ``InstallationError``:
``parse_installation`` / ``read_installation`` check the file on its own (JSON, size, shape,
kinds, addresses unique); ``install`` checks it against a gateway (no device on the gateway's
host, a tunnel or an existing device), builds every device with its kind's factory (a field the
kind does not read is an error too: a typo must not pass silently) and only then attaches them
all, so a bad file leaves the gateway as it was. Each error names the entry:
``devices[3] (1.1.4 blind): position: ...``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final, NoReturn

from .address import GroupAddress, IndividualAddress
from .devices import DEVICE_KINDS
from .devices.spec import group_address_value, number
from .errors import AddressError, InstallationError
from .gateway import DEFAULT_STATUS_DELAY

if TYPE_CHECKING:
    from .devices import SimulatedDevice
    from .gateway import VirtualGateway

__all__ = [
    "COMMON_FIELDS",
    "MAX_INSTALLATION_SIZE",
    "DeviceEntry",
    "Installation",
    "install",
    "parse_installation",
    "read_installation",
]

#: Larger files are refused before they are read whole (300 devices take about 100 KiB).
MAX_INSTALLATION_SIZE: Final = 4 * 1024 * 1024
#: The fields of every entry; the rest belong to the kind.
COMMON_FIELDS: Final = frozenset({"kind", "address", "name", "reads_at_start", "read_period"})
MAX_NAME_LENGTH: Final = 100
#: Bounds of ``read_period`` (s): faster floods the bus, slower is a typo.
MIN_READ_PERIOD: Final = 0.01
MAX_READ_PERIOD: Final = 86_400.0
_TOP_LEVEL_FIELDS: Final = frozenset({"devices"})
#: An error message quotes at most this much of what the file holds.
_SHOWN_LENGTH: Final = 60
_MESSAGE_LENGTH: Final = 300


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    """One checked entry of the file; ``fields`` are the kind's (common fields removed)."""

    index: int
    kind: str
    address: IndividualAddress
    name: str | None = None
    reads_at_start: tuple[GroupAddress, ...] = ()
    read_period: float | None = None
    fields: Mapping[str, object] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """How errors name this entry: ``devices[3] (1.1.4 blind)``."""
        return f"devices[{self.index}] ({self.address} {self.kind})"

    def build(self, gateway: VirtualGateway, *, status_delay: float) -> SimulatedDevice:
        """The device, built on the gateway's bus and keyring (not attached)."""
        spec = _ReadFields(self.fields)
        try:
            device = DEVICE_KINDS[self.kind](
                self.address, gateway.keyring, gateway.bus, spec, status_delay=status_delay
            )
        except InstallationError as err:
            _fail(self.where, str(err))
        if unread := spec.unread():
            unknown = _field_name(unread[0])
            _fail(self.where, f"{unknown}: not a field of a {self.kind} ({_kind_fields(spec)})")
        device.name = self.name
        device.read_at_start(self.reads_at_start, period=self.read_period)
        return device


@dataclass(frozen=True, slots=True)
class Installation:
    """The devices of an installation file, in file order."""

    devices: tuple[DeviceEntry, ...] = ()


# --- the file on its own ---------------------------------------------------------------------


def read_installation(path: Path | str) -> Installation:
    """Read and check the installation file at ``path`` (refused above the size limit before
    it is read whole; a file that cannot be read is an ``InstallationError`` too)."""
    try:
        with Path(path).open("rb") as file:
            data = file.read(MAX_INSTALLATION_SIZE + 1)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise InstallationError(f"cannot read the installation file: {reason}") from None
    return parse_installation(data)


def parse_installation(data: bytes | str) -> Installation:
    """Check an installation file's content (UTF-8 JSON) on its own."""
    document = _json(data)
    if not isinstance(document, dict):
        _fail("the installation file", f'a JSON object {{"devices": [...]}}, not {_kind(document)}')
    if unknown := sorted(document.keys() - _TOP_LEVEL_FIELDS):
        _fail("the installation file", f"unknown field {_shown(unknown[0])} (known: devices)")
    devices = document.get("devices")
    if not isinstance(devices, list):
        what = "missing" if devices is None else f"not {_kind(devices)}"
        _fail("devices", f"{what} (a list of device objects)")
    entries = tuple(_entry(index, item) for index, item in enumerate(devices))
    _check_unique(entries)
    return Installation(entries)


def _json(data: bytes | str) -> object:
    if len(data) > MAX_INSTALLATION_SIZE:
        _fail("the installation file", f"larger than {MAX_INSTALLATION_SIZE // 1024} KiB")
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        return json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_no_constant,
            parse_float=_finite_float,
        )
    except UnicodeDecodeError:
        _fail("the installation file", "not UTF-8 text")
    except json.JSONDecodeError as err:
        where = f"line {err.lineno}, column {err.colno}"
        _fail("the installation file", f"not JSON: {err.msg} ({where})")
    except RecursionError:
        _fail("the installation file", "nested too deeply")
    except ValueError as err:  # our hooks, and integers too long to convert
        _fail("the installation file", str(err))


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    document: dict[str, object] = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"the field {_shown(key)} appears twice in one object")
        document[key] = value
    return document


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{_shown(text)} is too large a number")
    return value


def _entry(index: int, item: object) -> DeviceEntry:
    where = f"devices[{index}]"
    if not isinstance(item, dict):
        _fail(where, f"a device object, not {_kind(item)}")
    kind = item.get("kind")
    if not isinstance(kind, str) or kind not in DEVICE_KINDS:
        known = ", ".join(sorted(DEVICE_KINDS))
        what = "missing" if kind is None else f"unknown {_shown(kind)}"
        _fail(where, f"kind: {what} (known kinds: {known})")
    where = f"{where} ({kind})"
    address = _individual_address(item.get("address"), where)
    where = f"devices[{index}] ({address} {kind})"
    return DeviceEntry(
        index=index,
        kind=kind,
        address=address,
        name=_name(item.get("name"), where),
        reads_at_start=_reads_at_start(item.get("reads_at_start", []), where),
        read_period=_read_period(item, where),
        fields={key: value for key, value in item.items() if key not in COMMON_FIELDS},
    )


def _individual_address(value: object, where: str) -> IndividualAddress:
    if not isinstance(value, str):
        what = "missing" if value is None else f"text like 1.1.4, not {_shown(value)}"
        _fail(where, f"address: {what}")
    try:
        return IndividualAddress.parse(value)
    except AddressError as err:
        _fail(where, f"address: {err}")


def _name(value: object, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        _fail(where, f"name: printable text, not {_shown(value)}")
    if len(value) > MAX_NAME_LENGTH:
        _fail(where, f"name: at most {MAX_NAME_LENGTH} characters, not {len(value)}")
    return value


def _reads_at_start(value: object, where: str) -> tuple[GroupAddress, ...]:
    if not isinstance(value, list):
        _fail(where, f"reads_at_start: a list of group addresses, not {_shown(value)}")
    try:
        return tuple(
            group_address_value(item, f"reads_at_start[{n}]") for n, item in enumerate(value)
        )
    except InstallationError as err:
        _fail(where, str(err))


def _read_period(item: Mapping[str, object], where: str) -> float | None:
    if "read_period" not in item:
        return None
    if not item.get("reads_at_start"):
        _fail(where, "read_period: only with reads_at_start (what to read again)")
    try:
        return number(item, "read_period", 0, minimum=MIN_READ_PERIOD, maximum=MAX_READ_PERIOD)
    except InstallationError as err:
        _fail(where, str(err))


def _check_unique(entries: tuple[DeviceEntry, ...]) -> None:
    first: dict[IndividualAddress, DeviceEntry] = {}
    for entry in entries:
        if (earlier := first.setdefault(entry.address, entry)) is not entry:
            _fail(entry.where, f"address: {entry.address} is already {earlier.where}")


# --- on a gateway ----------------------------------------------------------------------------


def install(
    gateway: VirtualGateway,
    installation: Installation,
    *,
    status_delay: float = DEFAULT_STATUS_DELAY,
) -> tuple[SimulatedDevice, ...]:
    """Build the installation's devices on the gateway's bus and keyring and attach them
    (all or, on the first error, none)."""
    reserved = _reserved_addresses(gateway)
    for entry in installation.devices:
        if (what := reserved.get(entry.address)) is not None:
            _fail(entry.where, f"address: {entry.address} is {what}")
    devices = tuple(
        entry.build(gateway, status_delay=status_delay) for entry in installation.devices
    )
    for device in devices:
        gateway.add_device(device)
    return devices


def _reserved_addresses(gateway: VirtualGateway) -> dict[IndividualAddress, str]:
    """Addresses a simulated device must not take, with what they are."""
    reserved = {
        interface.individual_address: "a tunnel of the keyring"
        for interface in gateway.keyring.interfaces
        if interface.individual_address is not None
    }
    reserved[gateway.host] = "the gateway's host"
    for address in gateway.devices:
        reserved[address] = f"already a device on the gateway ({gateway.device(address).kind})"
    return reserved


# --- helpers -----------------------------------------------------------------------------------


class _ReadFields(Mapping[str, object]):
    """A kind's fields that remember which ones the factory read (to refuse the others)."""

    def __init__(self, fields: Mapping[str, object]) -> None:
        self._fields = fields
        self._read: set[str] = set()

    def __getitem__(self, key: str) -> object:
        self._read.add(key)
        return self._fields[key]

    def __iter__(self) -> Iterator[str]:
        self._read.update(self._fields)  # a factory that walks every field reads them all
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def unread(self) -> list[str]:
        return sorted(self._fields.keys() - self._read)

    def read_fields(self) -> list[str]:
        return sorted(self._read)


def _kind_fields(spec: _ReadFields) -> str:
    fields = [name for name in spec.read_fields() if name not in COMMON_FIELDS]
    return "it reads " + ", ".join(fields) if fields else "it reads none"


def _fail(where: str, detail: str) -> NoReturn:
    message = f"{where}: {detail}"
    if len(message) > _MESSAGE_LENGTH:
        message = message[: _MESSAGE_LENGTH - 3] + "..."
    raise InstallationError(message) from None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 3] + "..."


def _field_name(key: str) -> str:
    """A field name from the file for a message: as it is when short and printable."""
    return key if key.isprintable() and len(key) <= _SHOWN_LENGTH else _shown(key)


def _kind(value: object) -> str:
    """What a JSON value is, for a message."""
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")
