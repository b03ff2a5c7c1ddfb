"""The group monitor: every telegram of a gateway entry as a row the panel shows.

A ``TelegramMonitor`` per config entry turns what the coordinator sees (telegrams received,
telegrams it sent, telegrams the library rejected) into JSON-ready rows: time, direction,
source and destination with their names, service, the value decoded with the address's
datapoint type where the entry's configuration knows it, and a security badge (Data Secure,
plain, rejected with the reason in plain words and the ETS step that fixes it). It keeps the
last rows (bounded) in Home Assistant's storage so that they survive a restart, and tells its
listeners (``SIGNAL_TELEGRAM``: the websocket API, the trigger) about each new row.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, Final, TypedDict

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store

from .const import ADDRESS_SUFFIX, CONF_VALUE_TYPE, DOMAIN
from .knx.address import GroupAddress, IndividualAddress
from .knx.dpt import DPT, get_dpt
from .knx.drops import DropReason
from .knx.errors import DPTError
from .knx.keyring import Keyring
from .knx.telegram import (
    GroupService,
    GroupValue,
    Telegram,
    TelegramDropped,
    group_value_to_json,
)
from .project import Project, ProjectAddress
from .weather_types import WEATHER_TYPES

_LOGGER = logging.getLogger(__name__)

#: Rows kept per entry by default ("the last few thousand telegrams").
DEFAULT_HISTORY_SIZE: Final = 3000
HISTORY_STORAGE_VERSION: Final = 1
#: Seconds between two writes of the history (a busy bus must not write on every telegram).
HISTORY_SAVE_DELAY: Final = 10.0
#: Dispatcher signal of every new row of every entry (the websocket API, the trigger).
SIGNAL_TELEGRAM: Final = f"{DOMAIN}_telegram"

DIRECTION_IN: Final = "incoming"
DIRECTION_OUT: Final = "outgoing"
SECURITY_SECURE: Final = "secure"
SECURITY_PLAIN: Final = "plain"
SECURITY_REJECTED: Final = "rejected"


class MonitorRow(TypedDict):
    """One telegram as the panel shows it (JSON-ready)."""

    time: float  # seconds since the epoch, with milliseconds
    entry_id: str
    direction: str  # DIRECTION_IN / DIRECTION_OUT
    source: str
    source_name: str | None
    destination: str
    destination_name: str | None
    service: str | None  # "write", "read", "response"; None when a rejected telegram had none
    payload: int | str | None  # the 6-bit value, hex octets, or None (a read)
    dpt: str | None
    value: Any  # decoded with dpt; None when unknown or undecodable
    unit: str | None
    security: str  # SECURITY_SECURE / _PLAIN / _REJECTED
    reason: str | None  # DropReason of a rejected telegram
    explanation: str | None  # the reason in plain words
    advice: str | None  # what to do in ETS


#: A rejected telegram's reason in plain words, and what fixes it (ETS steps).
REJECTION_TEXTS: Final[Mapping[DropReason, tuple[str, str]]] = {
    DropReason.MAC: (
        "Its check with the keyring's key failed: another key (the keyring is older than the "
        "last download to the devices) or a forged telegram.",
        "Export the keyring again in ETS (Project → Security → Export Keyring) after the last "
        "download, and upload it in the gateway's Reconfigure.",
    ),
    DropReason.REPLAY: (
        "Replayed: its sequence number is not newer than the last one accepted from this "
        "sender (a repeated frame, or a device whose counter went back).",
        "Repeated frames are normal on a KNX bus. If one sender keeps failing, download it "
        "again in ETS: the download resets its sequence counter state.",
    ),
    DropReason.PLAIN: (
        "Plain (not encrypted) although the keyring has a Data Secure key for this address.",
        "In ETS, check the address's Security setting and download the sender; or, if the "
        "address was made plain on purpose, export the keyring again and upload it.",
    ),
    DropReason.NO_KEY: (
        "Data Secure, but the keyring has no key for this address.",
        "Export the keyring again in ETS after the last download (it then has the key) and "
        "upload it in the gateway's Reconfigure.",
    ),
    DropReason.MALFORMED: (
        "Malformed: not a valid KNX telegram.",
        "Look for a faulty device or a foreign sender on the line of this address.",
    ),
    DropReason.UNEXPECTED: (
        "Not allowed in this state of the connection.",
        "Usually harmless; if it repeats, restart the gateway's connection.",
    ),
}
_OTHER_REJECTION: Final = (
    "Rejected by the connection's security check.",
    "If it repeats, check the gateway and export the keyring again.",
)


def rejection_text(reason: str) -> tuple[str, str]:
    """The plain-words explanation and the advice for a drop reason."""
    try:
        return REJECTION_TEXTS[DropReason(reason)]
    except (KeyError, ValueError):
        return _OTHER_REJECTION


# --- what the entry's configuration knows about addresses --------------------------------------


#: The datapoint type of an address role, by subentry type and field; a subentry may also say
#: it in its data (``<role>_dpt`` next to ``<role>_address``, or ``dpt`` for all of them).
def _with_status(types: Mapping[str, str]) -> dict[str, str]:
    """Each ``<role>_address`` type also for its ``<role>_state_address``."""
    return {
        **types,
        **{
            f"{key.removesuffix(ADDRESS_SUFFIX)}_state{ADDRESS_SUFFIX}": t
            for key, t in types.items()
        },
    }


ROLE_TYPES: Final[Mapping[str, Mapping[str, str]]] = {
    "switch": {"write_address": "1.001", "state_address": "1.001"},
    "binary_sensor": {"state_address": "1.001"},
    "date": {"write_address": "11.001", "state_address": "11.001"},
    "time": {"write_address": "10.001", "state_address": "10.001"},
    "datetime": {"write_address": "19.001", "state_address": "19.001"},
    "fan": _with_status({"switch_address": "1.001", "oscillation_address": "1.001"}),
    "climate": {
        "temperature_address": "9.001",
        **_with_status(
            {
                "target_temperature_address": "9.001",
                "operation_mode_address": "20.102",
                "controller_mode_address": "20.105",
                "on_off_address": "1.001",
                "heat_cool_address": "1.100",
            }
        ),
    },
    "weather": WEATHER_TYPES,
}


class AddressInfo(TypedDict):
    """What the panel shows for a group address: its name and type (both may be unknown)."""

    name: str | None
    dpt: str | None


def with_project(ours: AddressInfo | None, known: ProjectAddress | None) -> AddressInfo | None:
    """What the entities say about an address, and what the project says.

    Where both name an address, the project's name is the one shown: it is the name the
    installer gave the address in ETS (the same in ETS's own monitor and on every entity of
    the address), where ours only say which entity and role use it. The entity's type comes
    first: it is what the entity decodes the address with; the project's fills the rest.
    """
    if known is None:
        return ours
    return AddressInfo(
        name=known.name or (ours["name"] if ours else None),
        dpt=(ours["dpt"] if ours else None) or known.dpt,
    )


def address_book(entry: ConfigEntry) -> dict[GroupAddress, AddressInfo]:
    """Names and types of the addresses the entry's entities use (from their subentries)."""
    book: dict[GroupAddress, AddressInfo] = {}
    for subentry in entry.subentries.values():
        data = subentry.data
        for key, text in data.items():
            if not key.endswith(ADDRESS_SUFFIX) or not isinstance(text, str) or not text:
                continue
            try:
                address = GroupAddress.parse(text)
            except ValueError:
                continue
            role = key.removesuffix(ADDRESS_SUFFIX).replace("_", " ")
            role_key = key.removesuffix(ADDRESS_SUFFIX)
            dpt = (
                data.get(f"{role_key}_dpt")
                or data.get(f"{role_key.removesuffix('_state')}_dpt")
                or data.get("value_type")
                or data.get("dpt")
                or data.get(CONF_VALUE_TYPE)
                or ROLE_TYPES.get(subentry.subentry_type, {}).get(key)
            )
            known = book.get(address)
            name = f"{subentry.title} · {role}"
            book[address] = AddressInfo(
                name=name if known is None else f"{known['name']}, {name}",
                dpt=str(dpt) if dpt else (known["dpt"] if known else None),
            )
    return book


def _address_order(text: str) -> tuple[int, ...]:
    """Sort key of a three-level address text ("1/2/10" after "1/2/9")."""
    try:
        return tuple(map(int, text.split("/")))
    except ValueError:
        return (1 << 16,)  # not an address: last


def _decode(dpt_id: str | None, payload: GroupValue | None) -> tuple[Any, str | None]:
    """The value of payload as dpt_id and its unit; (None, None) when unknown or invalid."""
    if dpt_id is None or payload is None:
        return None, None
    try:
        dpt: DPT = get_dpt(dpt_id)
        return dpt.decode(payload), dpt.unit
    except DPTError:
        return None, None


def _history_store(hass: HomeAssistant, entry_id: str) -> Store[list[MonitorRow]]:
    return Store(hass, HISTORY_STORAGE_VERSION, f"{DOMAIN}.telegrams.{entry_id}")


async def async_remove_telegram_history(hass: HomeAssistant, entry_id: str) -> None:
    """Delete an entry's stored telegram rows (the entry is removed)."""
    await _history_store(hass, entry_id).async_remove()


class TelegramMonitor:
    """The telegram rows of one gateway entry: bounded, stored, followed live."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        keyring: Keyring,
        *,
        size: int = DEFAULT_HISTORY_SIZE,
    ) -> None:
        """Initialize (no I/O: ``async_load`` reads the stored rows)."""
        self.hass = hass
        self.entry = entry
        self.keyring = keyring
        self.rows: deque[MonitorRow] = deque(maxlen=size)
        self.project: Project | None = None
        self.book = address_book(entry)
        self._store = _history_store(hass, entry.entry_id)
        self.own_addresses: set[IndividualAddress] = set()

    def use_project(self, project: Project | None) -> None:
        """Name addresses and devices as the imported ETS project does (before async_load:
        the stored rows get its names too). Nothing is parsed here: a project of thousands
        of addresses is looked up by each address's text when a telegram comes."""
        self.project = project

    def address_info(self, address: GroupAddress) -> AddressInfo | None:
        """The name and type of a group address (see ``with_project``); None: unknown."""
        known = self.project.addresses.get(str(address)) if self.project else None
        return with_project(self.book.get(address), known)

    def address_name(self, address: GroupAddress) -> str | None:
        """The name of a group address: the project's, else the entities' (None: unknown)."""
        info = self.address_info(address)
        return info["name"] if info else None

    def addresses(self) -> dict[str, AddressInfo]:
        """Every address the entities or the project know, as text, in address order."""
        return dict(sorted(self._infos_by_text().items(), key=lambda item: _address_order(item[0])))

    def _infos_by_text(self) -> dict[str, AddressInfo]:
        ours = {str(address): info for address, info in self.book.items()}
        known = self.project.addresses if self.project else {}
        merged: dict[str, AddressInfo] = {}
        for text in ours.keys() | known.keys():
            if (info := with_project(ours.get(text), known.get(text))) is not None:
                merged[text] = info
        return merged

    def source_name(self, source: IndividualAddress) -> str | None:
        """The name of a sender: Home Assistant itself, the project's name of the device,
        else what the keyring says it is (a KNX IP interface or one of its tunnels).

        Our own address first: it is a fact of this connection, and the project does not
        know which tunnel Home Assistant got. The project's device name before the keyring's:
        the keyring knows only the kind of device ("KNX IP interface"), ETS its name.
        """
        if source in self.own_addresses:
            return "Home Assistant"
        if name := self._project_device_name(str(source)):
            return name
        if source in self.keyring.hosts():
            return "KNX IP interface"
        interface = self.keyring.interface(source)
        if interface is not None:
            return f"Tunnel of {interface.host}" if interface.host else "KNX IP interface"
        return None

    async def async_load(self) -> None:
        """Read the rows of the previous runs (a damaged file starts an empty history)."""
        try:
            stored = await self._store.async_load()
        except (ValueError, OSError) as err:
            _LOGGER.warning("The telegram history of %s is not readable: %s", self.entry.title, err)
            return
        if isinstance(stored, list):
            names = self._infos_by_text()
            self.rows.extend(self._named(row, names) for row in stored if isinstance(row, dict))

    def _named(self, row: MonitorRow, names: Mapping[str, AddressInfo]) -> MonitorRow:
        """A stored row with today's names where they are known: a project imported since
        the row was recorded names it too (looked up by text: nothing to parse in thousands
        of rows). Our own rows keep "Home Assistant"."""
        info = names.get(str(row.get("destination")))
        if info is not None and info["name"]:
            row["destination_name"] = info["name"]
        own = row.get("direction") == DIRECTION_OUT
        if not own and (name := self._project_device_name(str(row.get("source")))):
            row["source_name"] = name
        return row

    def _project_device_name(self, text: str) -> str | None:
        return self.project.device_name(text) if self.project is not None else None

    async def async_save(self) -> None:
        """Write the rows now (unload, stop)."""
        await self._store.async_save(list(self.rows))

    @callback
    def clear(self) -> None:
        """Forget every row (stored too, at the next save)."""
        self.rows.clear()
        self._store.async_delay_save(lambda: list(self.rows), HISTORY_SAVE_DELAY)

    # --- recording ----------------------------------------------------------------------------

    @callback
    def record_received(self, telegram: Telegram) -> None:
        """A telegram received from the bus (verified; ``secure``: it was Data Secure)."""
        self._record(
            DIRECTION_IN,
            telegram.src,
            telegram.dst,
            telegram.service,
            telegram.value if telegram.carries_value else None,
            secure=telegram.secure,
        )

    @callback
    def record_sent(
        self,
        source: IndividualAddress,
        address: GroupAddress,
        service: GroupService,
        value: GroupValue | None,
        *,
        secure: bool,
    ) -> None:
        """A telegram Home Assistant sent from ``source`` (its tunnel or routing address)."""
        self.own_addresses.add(source)
        self._record(DIRECTION_OUT, source, address, service, value, secure=secure)

    def _record(
        self,
        direction: str,
        source: IndividualAddress,
        address: GroupAddress,
        service: GroupService,
        value: GroupValue | None,
        *,
        secure: bool,
    ) -> None:
        info = self.address_info(address)
        dpt = info["dpt"] if info else None
        decoded, unit = _decode(dpt, value)
        self._add(
            MonitorRow(
                time=round(time.time(), 3),
                entry_id=self.entry.entry_id,
                direction=direction,
                source=str(source),
                source_name=self.source_name(source),
                destination=str(address),
                destination_name=info["name"] if info else None,
                service=str(service),
                payload=group_value_to_json(value),
                dpt=dpt,
                value=decoded,
                unit=unit,
                security=SECURITY_SECURE if secure else SECURITY_PLAIN,
                reason=None,
                explanation=None,
                advice=None,
            )
        )

    @callback
    def record_drop(self, dropped: TelegramDropped) -> None:
        """A telegram the library rejected (why, from whom, to which address)."""
        info = self.address_info(dropped.address)
        explanation, advice = rejection_text(dropped.reason)
        self._add(
            MonitorRow(
                time=round(time.time(), 3),
                entry_id=self.entry.entry_id,
                direction=DIRECTION_IN,
                source=str(dropped.source),
                source_name=self.source_name(dropped.source),
                destination=str(dropped.address),
                destination_name=info["name"] if info else None,
                service=None,
                payload=None,
                dpt=info["dpt"] if info else None,
                value=None,
                unit=None,
                security=SECURITY_REJECTED,
                reason=str(dropped.reason),
                explanation=explanation,
                advice=advice,
            )
        )

    def _add(self, row: MonitorRow) -> None:
        self.rows.append(row)
        self._store.async_delay_save(lambda: list(self.rows), HISTORY_SAVE_DELAY)
        async_dispatcher_send(self.hass, SIGNAL_TELEGRAM, row)
