"""ETS keyring (.knxkeys): safe XML parsing, signature check, decryption and queries.

A keyring is XML in the namespace ``http://knx.org/xml/keyring/1``. Its secrets are
base64 AES-128-CBC blobs (key = PBKDF2 hash of the keyring password, IV =
SHA256(Created)[:16]); its Signature is SHA256 over a canonical stream of every element
and attribute plus the base64 password hash. Loading verifies the signature before any
secret is used and raises one distinct error per failure (see ``load_keyring``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import NoReturn
from xml.parsers import expat

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .address import GroupAddress, IndividualAddress
from .crypto import derive_keyring_password_hash, sha256
from .errors import (
    AddressError,
    KeyringError,
    KeyringFormatError,
    KeyringPasswordError,
    KeyringTamperedError,
    KeyringVersionError,
)

__all__ = [
    "KEYRING_NAMESPACE",
    "MAX_KEYRING_SIZE",
    "REDACTED",
    "Backbone",
    "InterfaceType",
    "Keyring",
    "KeyringDevice",
    "KeyringInterface",
    "load_keyring",
    "read_keyring_file",
]

_LOGGER = logging.getLogger(__name__)

KEYRING_NAMESPACE = "http://knx.org/xml/keyring/1"
_NAMESPACE_FAMILY = "http://knx.org/xml/keyring/"
REDACTED = "<redacted>"
#: Largest keyring file accepted (ETS exports kilobytes up to a few MiB); anything larger is
#: refused before it is read whole, so a huge or endless file cannot exhaust memory.
MAX_KEYRING_SIZE = 16 * 1024 * 1024

_KEY_LENGTH = 16
_PASSWORD_PREFIX = 8  # random octets in front of every encrypted password
_MAX_SEQUENCE = (1 << 48) - 1
_MAX_NUMBER_DIGITS = 15
_UTF8_BOM = b"\xef\xbb\xbf"
# Element and attribute names excluded from the signature stream.
_UNSIGNED_ATTRIBUTES = frozenset({"xmlns", "Signature"})
_START, _END = b"\x01", b"\x02"


class InterfaceType(StrEnum):
    """Interface@Type."""

    TUNNELING = "Tunneling"
    USB = "USB"
    BACKBONE = "Backbone"


@dataclass(frozen=True, slots=True)
class KeyringInterface:
    """One Interface element: a tunnel (or USB / backbone interface) of a host."""

    type: InterfaceType
    individual_address: IndividualAddress | None
    host: IndividualAddress | None
    user_id: int | None
    password: str | None = field(repr=False)
    device_authentication: str | None = field(repr=False)
    # GA -> senders this interface accepts telegrams of that GA from (file order).
    group_senders: Mapping[GroupAddress, tuple[IndividualAddress, ...]]


@dataclass(frozen=True, slots=True)
class KeyringDevice:
    """One Devices/Device element."""

    individual_address: IndividualAddress
    serial_number: str | None
    tool_key: bytes | None = field(repr=False)
    management_password: str | None = field(repr=False)
    authentication: str | None = field(repr=False)
    sequence_number: int | None  # None: the keyring has no SequenceNumber attribute
    fdsk: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Backbone:
    """The Backbone element (secure routing)."""

    multicast_address: str
    latency_ms: int | None  # None: the keyring has no Latency attribute
    key: bytes | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class Keyring:
    """A decrypted, signature-checked ETS keyring."""

    project: str
    created: str
    created_by: str
    signature: bytes
    backbone: Backbone | None
    interfaces: tuple[KeyringInterface, ...]
    group_keys: Mapping[GroupAddress, bytes] = field(repr=False)
    devices: tuple[KeyringDevice, ...]

    def hosts(self) -> list[IndividualAddress]:
        """Hosts that have tunnelling interfaces, in file order."""
        hosts: dict[IndividualAddress, None] = {}
        for interface in self.interfaces:
            if interface.type is InterfaceType.TUNNELING and interface.host is not None:
                hosts.setdefault(interface.host)
        return list(hosts)

    def tunnels_of_host(self, host: IndividualAddress) -> list[KeyringInterface]:
        """Tunnelling interfaces of `host`, ordered by user id (without one last)."""
        tunnels = [
            i for i in self.interfaces if i.type is InterfaceType.TUNNELING and i.host == host
        ]
        return sorted(tunnels, key=_tunnel_order)

    def interface(self, address: IndividualAddress) -> KeyringInterface | None:
        """The interface whose own individual address is `address`."""
        return next((i for i in self.interfaces if i.individual_address == address), None)

    def interface_by_user_id(
        self, host: IndividualAddress, user_id: int
    ) -> KeyringInterface | None:
        """The tunnel of `host` that belongs to `user_id`."""
        return next((i for i in self.tunnels_of_host(host) if i.user_id == user_id), None)

    def group_key(self, ga: GroupAddress) -> bytes | None:
        """The Data Secure key of `ga`, None for a plain group address."""
        return self.group_keys.get(ga)

    def senders(self, ga: GroupAddress) -> frozenset[IndividualAddress]:
        """Every address any interface lists as a sender of `ga`."""
        return frozenset(sender for i in self.interfaces for sender in i.group_senders.get(ga, ()))

    def device(self, address: IndividualAddress) -> KeyringDevice | None:
        """The device with individual address `address`."""
        return next((d for d in self.devices if d.individual_address == address), None)

    def sequence_number(self, address: IndividualAddress) -> int:
        """The keyring's sequence number of `address`, 0 if unknown (nothing sent yet)."""
        device = self.device(address)
        if device is None or device.sequence_number is None:
            return 0
        return device.sequence_number

    def sender_sequence_numbers(self) -> dict[IndividualAddress, int]:
        """Initial freshness of every known Data Secure sender.

        Devices start at their SequenceNumber, devices without one and addresses listed only
        under ``Group@Senders`` at 0.
        """
        table = {
            s: 0 for i in self.interfaces for senders in i.group_senders.values() for s in senders
        }
        table.update({d.individual_address: d.sequence_number or 0 for d in self.devices})
        return table

    def tool_key(self, address: IndividualAddress) -> bytes | None:
        """The tool key of device `address` (point-to-point Data Secure)."""
        device = self.device(address)
        return device.tool_key if device is not None else None

    def summary(self, show_secrets: bool = False) -> dict[str, object]:
        """JSON-ready content in the layout of tests/fixtures/*.expected.json."""
        return {
            "project": self.project,
            "created": self.created,
            "created_by": self.created_by,
            "signature": self.signature.hex(),
            "signature_valid": True,
            "backbone": _backbone_summary(self.backbone, show_secrets),
            "interfaces": [_interface_summary(i, show_secrets) for i in self.interfaces],
            "group_keys": {
                str(ga): _shown(key.hex(), show_secrets) for ga, key in self.group_keys.items()
            },
            "devices": [_device_summary(d, show_secrets) for d in self.devices],
        }

    def secrets(self) -> list[str]:
        """Every secret in each text form it could leak in (for leak tests).

        Passwords as they are; keys as lower and upper hex, base64 and bytes repr.
        Short passwords (like "dev") also match innocent words: filter as needed.
        """
        found: dict[str, None] = {}
        for text in self._secret_passwords():
            found.setdefault(text)
        for key in self._secret_keys():
            for form in (key.hex(), key.hex().upper(), base64.b64encode(key).decode(), repr(key)):
                found.setdefault(form)
        return list(found)

    def _secret_passwords(self) -> list[str]:
        texts = [t for i in self.interfaces for t in (i.password, i.device_authentication)]
        texts += [t for d in self.devices for t in (d.management_password, d.authentication)]
        return [t for t in texts if t]

    def _secret_keys(self) -> list[bytes]:
        keys = list(self.group_keys.values())
        keys += [k for d in self.devices for k in (d.tool_key, d.fdsk) if k]
        if self.backbone is not None and self.backbone.key:
            keys.append(self.backbone.key)
        return keys


def _tunnel_order(interface: KeyringInterface) -> tuple[int, int]:
    user_id = interface.user_id if interface.user_id is not None else 1 << 16
    address = interface.individual_address.raw if interface.individual_address else 0
    return user_id, address


def _shown(value: str | None, show_secrets: bool) -> str | None:
    if value is None or show_secrets:
        return value
    return REDACTED


def _address_text(address: IndividualAddress | None) -> str | None:
    return None if address is None else str(address)


def _backbone_summary(backbone: Backbone | None, show: bool) -> dict[str, object] | None:
    if backbone is None:
        return None
    return {
        "multicast_address": backbone.multicast_address,
        "latency_ms": backbone.latency_ms,
        "key": _shown(backbone.key.hex() if backbone.key else None, show),
    }


def _interface_summary(interface: KeyringInterface, show: bool) -> dict[str, object]:
    return {
        "type": interface.type.value,
        "individual_address": _address_text(interface.individual_address),
        "host": _address_text(interface.host),
        "user_id": interface.user_id,
        "password": _shown(interface.password, show),
        "device_authentication": _shown(interface.device_authentication, show),
        "group_addresses": {
            str(ga): [str(s) for s in senders] for ga, senders in interface.group_senders.items()
        },
    }


def _device_summary(device: KeyringDevice, show: bool) -> dict[str, object]:
    return {
        "individual_address": str(device.individual_address),
        "sequence_number": device.sequence_number,
        "tool_key": _shown(device.tool_key.hex() if device.tool_key else None, show),
        "management_password": _shown(device.management_password, show),
        "authentication": _shown(device.authentication, show),
    }


# --- safe XML: a small element tree plus the signature stream in one expat pass ---------


@dataclass(slots=True)
class _Element:
    name: str
    attributes: dict[str, str]
    children: list[_Element] = field(default_factory=list)


class _Rejected(Exception):  # noqa: N818 - internal signal out of an expat callback
    """Raised inside an expat handler to abort parsing."""


class _TreeBuilder:
    """Builds the element tree and the canonical signature stream (without password)."""

    def __init__(self) -> None:
        self.root: _Element | None = None
        self.stream = bytearray()
        self._stack: list[_Element] = []

    def start(self, name: str, attributes: dict[str, str]) -> None:
        element = _Element(name, attributes)
        if self._stack:
            self._stack[-1].children.append(element)
        elif self.root is None:
            self.root = element
        self._stack.append(element)
        self.stream += _START
        _append_string(self.stream, name.encode("utf-8"))
        for attribute in sorted(attributes):
            if attribute not in _UNSIGNED_ATTRIBUTES:
                _append_string(self.stream, attribute.encode("utf-8"))
                _append_string(self.stream, attributes[attribute].encode("utf-8"))

    def end(self, _name: str) -> None:
        self._stack.pop()
        self.stream += _END


def _append_string(stream: bytearray, value: bytes) -> None:
    # One length octet, as ETS, Calimero and xknx write it (longer values wrap).
    stream.append(len(value) & 0xFF)
    stream += value


def _reject_dtd(*_args: object) -> NoReturn:
    # No DTD means no entity declarations: nothing can expand or reach the network.
    raise _Rejected("the keyring contains a DTD (not allowed)")


def _parse_xml(data: bytes) -> tuple[_Element, bytes]:
    """Parse with expat, rejecting any DTD: the root and the signature stream."""
    builder = _TreeBuilder()
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _reject_dtd
    parser.EntityDeclHandler = _reject_dtd
    parser.ExternalEntityRefHandler = _reject_dtd
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    try:
        parser.Parse(data, True)
    except _Rejected as exc:
        raise KeyringFormatError(f"not a usable keyring: {exc}") from None
    except (expat.ExpatError, ValueError, LookupError) as exc:
        # ExpatError names only position and kind, never content.
        raise KeyringFormatError(f"the keyring is not valid XML ({exc})") from None
    if builder.root is None:
        raise KeyringFormatError("the keyring is not valid XML (no root element)")
    return builder.root, bytes(builder.stream)


# --- attribute readers ----------------------------------------------------------------------


def _required(element: _Element, name: str) -> str:
    value = element.attributes.get(name)
    if value is None:
        raise KeyringFormatError(f"{element.name} element without the {name} attribute")
    return value


def _number(element: _Element, name: str, maximum: int) -> int | None:
    text = element.attributes.get(name)
    if text is None:
        return None
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_NUMBER_DIGITS:
        raise KeyringFormatError(f"{element.name}@{name} is not a number")
    value = int(text)
    if value > maximum:
        raise KeyringFormatError(f"{element.name}@{name} is out of range 0..{maximum}")
    return value


def _individual_address(element: _Element, name: str) -> IndividualAddress | None:
    text = element.attributes.get(name)
    if text is None:
        return None
    try:
        return IndividualAddress.parse(text)
    except AddressError as exc:
        raise KeyringFormatError(f"{element.name}@{name}: {exc}") from None


def _group_address(element: _Element, shared: dict[str, GroupAddress]) -> GroupAddress:
    """The element's group address; the same text gives the same object within one keyring
    (``shared``: every interface repeats the addresses of the group keys)."""
    text = _required(element, "Address")
    if (address := shared.get(text)) is not None:
        return address
    try:
        address = shared[text] = GroupAddress.parse(text)
    except AddressError as exc:
        raise KeyringFormatError(f"{element.name}@Address: {exc}") from None
    return address


def _senders(element: _Element) -> tuple[IndividualAddress, ...]:
    try:
        return _sender_list(element.attributes.get("Senders", ""))
    except AddressError as exc:
        raise KeyringFormatError(f"{element.name}@Senders: {exc}") from None


@lru_cache(maxsize=4096)
def _sender_list(text: str) -> tuple[IndividualAddress, ...]:
    """The senders of a Senders attribute; the same text gives the same tuple, made of the
    same address objects (a keyring repeats them for every interface: shared, not copied)."""
    return tuple(_shared_address(sender) for sender in text.split())


@lru_cache(maxsize=65536)  # every individual address there is, at most
def _shared_address(text: str) -> IndividualAddress:
    return IndividualAddress.parse(text)


def _blob(element: _Element, name: str) -> bytes | None:
    text = element.attributes.get(name)
    if text is None:
        return None
    try:
        data = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringFormatError(f"{element.name}@{name} is not base64") from None
    if not data or len(data) % 16:
        raise KeyringFormatError(f"{element.name}@{name} has an invalid length")
    return data


def _children(element: _Element, name: str) -> list[_Element]:
    return [child for child in element.children if child.name == name]


# --- structure without decryption -------------------------------------------------------------


@dataclass(slots=True)
class _RawInterface:
    type: InterfaceType
    individual_address: IndividualAddress | None
    host: IndividualAddress | None
    user_id: int | None
    password: bytes | None
    authentication: bytes | None
    group_senders: dict[GroupAddress, tuple[IndividualAddress, ...]]


@dataclass(slots=True)
class _RawDevice:
    individual_address: IndividualAddress
    serial_number: str | None
    tool_key: bytes | None
    management_password: bytes | None
    authentication: bytes | None
    sequence_number: int | None
    fdsk: bytes | None


@dataclass(slots=True)
class _RawKeyring:
    project: str
    created: str
    created_by: str
    signature: bytes
    backbone: tuple[str, int | None, bytes | None] | None
    interfaces: list[_RawInterface]
    group_keys: dict[GroupAddress, bytes]
    devices: list[_RawDevice]

    def password_blobs(self) -> list[bytes]:
        blobs = [b for i in self.interfaces for b in (i.password, i.authentication)]
        blobs += [b for d in self.devices for b in (d.management_password, d.authentication)]
        return [b for b in blobs if b is not None]


def _check_root(root: _Element) -> None:
    namespace = root.attributes.get("xmlns")
    if namespace is not None and namespace != KEYRING_NAMESPACE:
        if namespace.startswith(_NAMESPACE_FAMILY):
            raise KeyringVersionError(
                f"keyring format {namespace} is not supported (only {KEYRING_NAMESPACE}):"
                " export the keyring again with a supported ETS version"
            )
        raise KeyringFormatError(f"not an ETS keyring (namespace {namespace})")
    if root.name != "Keyring":
        raise KeyringFormatError(f"not an ETS keyring (root element {root.name})")
    if namespace is None:
        raise KeyringFormatError("not an ETS keyring (the keyring namespace is missing)")


def _read_structure(root: _Element) -> _RawKeyring:
    _check_root(root)
    signature_text = _required(root, "Signature")
    try:
        signature = base64.b64decode(signature_text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringFormatError("Keyring@Signature is not base64") from None
    if len(signature) != 16:
        raise KeyringFormatError("Keyring@Signature has an invalid length")
    backbones = _children(root, "Backbone")
    if len(backbones) > 1:
        raise KeyringFormatError("the keyring has more than one Backbone element")
    addresses: dict[str, GroupAddress] = {}
    return _RawKeyring(
        project=_required(root, "Project"),
        created=_required(root, "Created"),
        created_by=_required(root, "CreatedBy"),
        signature=signature,
        backbone=_read_backbone(backbones[0]) if backbones else None,
        interfaces=[_read_interface(e, addresses) for e in _children(root, "Interface")],
        group_keys=_read_group_keys(root, addresses),
        devices=[
            _read_device(e) for g in _children(root, "Devices") for e in _children(g, "Device")
        ],
    )


def _read_backbone(element: _Element) -> tuple[str, int | None, bytes | None]:
    address = _required(element, "MulticastAddress").strip()
    try:
        multicast = ipaddress.IPv4Address(address)
    except ValueError:
        raise KeyringFormatError("Backbone@MulticastAddress is not an IPv4 address") from None
    if not multicast.is_multicast:
        raise KeyringFormatError("Backbone@MulticastAddress is not a multicast address")
    latency = _number(element, "Latency", 0xFFFF)
    return str(multicast), latency, _key_blob(element, "Key")


def _key_blob(element: _Element, name: str) -> bytes | None:
    blob = _blob(element, name)
    if blob is not None and len(blob) != _KEY_LENGTH:
        raise KeyringFormatError(f"{element.name}@{name} is not a 16-octet key")
    return blob


def _read_interface(element: _Element, addresses: dict[str, GroupAddress]) -> _RawInterface:
    type_text = _required(element, "Type")
    try:
        interface_type = InterfaceType(type_text)
    except ValueError:
        raise KeyringFormatError(f"Interface@Type {type_text!r} is unknown") from None
    group_senders: dict[GroupAddress, tuple[IndividualAddress, ...]] = {}
    for group in _children(element, "Group"):
        group_senders[_group_address(group, addresses)] = _senders(group)
    individual_address = _individual_address(element, "IndividualAddress")
    # Loaded as ETS wrote it (0..255): a keyring stays readable; the client refuses a tunnel
    # whose user id SESSION_AUTHENTICATE cannot carry (see client.usable_tunnel).
    user_id = _number(element, "UserID", 0xFF)
    return _RawInterface(
        type=interface_type,
        individual_address=individual_address,
        host=_individual_address(element, "Host"),
        user_id=user_id,
        password=_blob(element, "Password"),
        authentication=_blob(element, "Authentication"),
        group_senders=group_senders,
    )


def _read_group_keys(
    root: _Element, addresses: dict[str, GroupAddress]
) -> dict[GroupAddress, bytes]:
    keys: dict[GroupAddress, bytes] = {}
    for groups in _children(root, "GroupAddresses"):
        for group in _children(groups, "Group"):
            address = _group_address(group, addresses)
            if address in keys:
                raise KeyringFormatError(f"group address {address} has two keys")
            key = _key_blob(group, "Key")
            if key is None:
                raise KeyringFormatError(f"group address {address} has no Key attribute")
            keys[address] = key
    return keys


def _read_device(element: _Element) -> _RawDevice:
    address = _individual_address(element, "IndividualAddress")
    if address is None:
        raise KeyringFormatError("Device element without the IndividualAddress attribute")
    serial = element.attributes.get("SerialNumber")
    return _RawDevice(
        individual_address=address,
        serial_number=serial.strip() if serial is not None else None,
        tool_key=_key_blob(element, "ToolKey"),
        management_password=_blob(element, "ManagementPassword"),
        authentication=_blob(element, "Authentication"),
        sequence_number=_number(element, "SequenceNumber", _MAX_SEQUENCE),
        fdsk=_key_blob(element, "FDSK"),
    )


# --- decryption -------------------------------------------------------------------------------


class _Decryptor:
    """AES-128-CBC with the keyring password hash and the IV of the Created attribute."""

    def __init__(self, password_hash: bytes, created: str) -> None:
        self._cipher = Cipher(
            algorithms.AES(password_hash), modes.CBC(sha256(created.encode("utf-8"))[:16])
        )

    def decrypt(self, blob: bytes) -> bytes:
        decryptor = self._cipher.decryptor()
        return decryptor.update(blob) + decryptor.finalize()

    def password(self, blob: bytes) -> str | None:
        """The password in `blob`, None when its padding is invalid."""
        return _password_text(self.decrypt(blob))


def _padding_length(plain: bytes) -> int | None:
    """Length of the PKCS#7-style padding of a decrypted password, None if invalid."""
    padding = plain[-1]
    if not 1 <= padding <= len(plain) - _PASSWORD_PREFIX:
        return None
    if plain[-padding:] != bytes([padding]) * padding:
        return None
    return padding


def _password_text(plain: bytes) -> str | None:
    padding = _padding_length(plain)
    if padding is None:
        return None
    text = plain[_PASSWORD_PREFIX:-padding]
    # ETS writes UTF-8 (as xknx reads it); latin-1 keeps any other octets readable.
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        return text.decode("latin-1")


def _signature_error(raw: _RawKeyring, decryptor: _Decryptor) -> KeyringError:
    """Tell a wrong password from a modified file after a signature mismatch.

    Heuristic: with the right password every encrypted password field decrypts to
    valid PKCS#7-style padding preceded by text octets; with a wrong password a field
    looks like that by chance with a probability below 1/256. So if most password
    fields look right, the password is right and the signed content was changed.
    Only the last cipher block is judged: it decrypts correctly even when the Created
    attribute (the IV) was modified. A flip inside one password field garbles only
    that field, which the majority rule tolerates.
    """
    blobs = raw.password_blobs()
    if not blobs:
        return KeyringPasswordError(
            "keyring signature does not match: the password is wrong or the file was modified"
        )
    plausible = sum(1 for blob in blobs if _looks_decrypted(decryptor.decrypt(blob)))
    if plausible * 2 > len(blobs):
        return KeyringTamperedError(
            "keyring signature does not match although the password is right:"
            " the file was modified; export it from ETS again"
        )
    return KeyringPasswordError("the keyring password is wrong")


def _looks_decrypted(plain: bytes) -> bool:
    last_block = len(plain) - 16
    padding = plain[-1]
    if not 1 <= padding <= len(plain) - _PASSWORD_PREFIX:
        return False
    if plain[max(last_block, len(plain) - padding) :] != bytes([padding]) * min(padding, 16):
        return False
    tail = plain[max(_PASSWORD_PREFIX, last_block) : len(plain) - padding]
    # Text octets: no control characters (UTF-8 continuation octets are >= 0x80).
    return all(octet >= 0x20 and octet != 0x7F for octet in tail)


def _decrypted_password(decryptor: _Decryptor, blob: bytes | None, where: str) -> str | None:
    if blob is None:
        return None
    password = decryptor.password(blob)
    if password is None:
        raise KeyringFormatError(f"{where} cannot be decrypted (invalid padding)")
    return password


def _decrypted_key(decryptor: _Decryptor, blob: bytes | None) -> bytes | None:
    return None if blob is None else decryptor.decrypt(blob)


def _build(raw: _RawKeyring, decryptor: _Decryptor) -> Keyring:
    backbone = None
    if raw.backbone is not None:
        address, latency, key = raw.backbone
        backbone = Backbone(address, latency, _decrypted_key(decryptor, key))
    return Keyring(
        project=raw.project,
        created=raw.created,
        created_by=raw.created_by,
        signature=raw.signature,
        backbone=backbone,
        interfaces=_build_interfaces(raw.interfaces, decryptor),
        group_keys=MappingProxyType(
            {ga: decryptor.decrypt(key) for ga, key in raw.group_keys.items()}
        ),
        devices=tuple(_build_device(d, decryptor) for d in raw.devices),
    )


def _build_interfaces(
    raws: list[_RawInterface], decryptor: _Decryptor
) -> tuple[KeyringInterface, ...]:
    """The interfaces; those that receive the same addresses from the same senders (a
    gateway's tunnels, mostly) share one mapping of them instead of a copy each."""
    distinct: list[Mapping[GroupAddress, tuple[IndividualAddress, ...]]] = []
    interfaces: list[KeyringInterface] = []
    for raw in raws:
        senders = next((known for known in distinct if known == raw.group_senders), None)
        if senders is None:
            senders = MappingProxyType(dict(raw.group_senders))
            distinct.append(senders)
        interfaces.append(_build_interface(raw, decryptor, senders))
    return tuple(interfaces)


def _build_interface(
    raw: _RawInterface,
    decryptor: _Decryptor,
    senders: Mapping[GroupAddress, tuple[IndividualAddress, ...]],
) -> KeyringInterface:
    where = f"Interface {raw.individual_address}"
    return KeyringInterface(
        type=raw.type,
        individual_address=raw.individual_address,
        host=raw.host,
        user_id=raw.user_id,
        password=_decrypted_password(decryptor, raw.password, f"{where} Password"),
        device_authentication=_decrypted_password(
            decryptor, raw.authentication, f"{where} Authentication"
        ),
        group_senders=senders,
    )


def _build_device(raw: _RawDevice, decryptor: _Decryptor) -> KeyringDevice:
    where = f"Device {raw.individual_address}"
    return KeyringDevice(
        individual_address=raw.individual_address,
        serial_number=raw.serial_number,
        tool_key=_decrypted_key(decryptor, raw.tool_key),
        management_password=_decrypted_password(
            decryptor, raw.management_password, f"{where} ManagementPassword"
        ),
        authentication=_decrypted_password(
            decryptor, raw.authentication, f"{where} Authentication"
        ),
        sequence_number=raw.sequence_number,
        fdsk=_decrypted_key(decryptor, raw.fdsk),
    )


# --- loading ----------------------------------------------------------------------------------


def _read_source(source: bytes | str | os.PathLike[str]) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        _check_size(len(data), "the keyring")
        return data
    return read_keyring_file(source)


def read_keyring_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a keyring file, refused above ``MAX_KEYRING_SIZE`` before it is read whole.

    A regular file is judged by its size; anything else (a pipe, ``/dev/zero``) by reading at
    most one octet more than the limit. Raises KeyringFormatError (too large) or KeyringError
    (cannot be read).
    """
    where = Path(path)
    try:
        with where.open("rb") as file:
            status = os.fstat(file.fileno())
            if stat.S_ISREG(status.st_mode):
                _check_size(status.st_size, f"keyring file {where}")
            data = file.read(MAX_KEYRING_SIZE + 1)
    except OSError as exc:
        raise KeyringError(f"cannot read keyring file {where}: {exc.strerror or exc}") from None
    _check_size(len(data), f"keyring file {where}")
    return data


def _check_size(size: int, what: str) -> None:
    if size > MAX_KEYRING_SIZE:
        raise KeyringFormatError(
            f"{what} is larger than {MAX_KEYRING_SIZE // (1024 * 1024)} MiB: not an ETS keyring"
        )


def _check_password(password: str) -> None:
    # Text from the command line or the environment may carry undecodable octets (as lone
    # surrogates): they have no UTF-8 form, so no keyring can have been exported with them.
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise KeyringPasswordError(
            "the keyring password is not valid UTF-8 text (check the terminal's or the"
            " environment's encoding)"
        ) from None


def load_keyring(source: bytes | str | os.PathLike[str], password: str) -> Keyring:
    """Load an ETS keyring from its bytes or a path, verify its signature and decrypt it.

    Raises KeyringFormatError (not XML, not a keyring, missing or invalid attributes,
    a DTD, larger than ``MAX_KEYRING_SIZE``), KeyringVersionError (another keyring
    namespace), KeyringPasswordError (wrong password, or one that is not UTF-8 text),
    KeyringTamperedError (right password, modified content), or KeyringError (the file
    cannot be read). Slow (PBKDF2): call it from an executor.
    """
    _check_password(password)
    data = _read_source(source)
    root, stream = _parse_xml(data.removeprefix(_UTF8_BOM))
    raw = _read_structure(root)
    password_hash = derive_keyring_password_hash(password)
    decryptor = _Decryptor(password_hash, raw.created)
    if not hmac.compare_digest(_signature(stream, password_hash), raw.signature):
        raise _signature_error(raw, decryptor)
    keyring = _build(raw, decryptor)
    _LOGGER.debug(
        "Loaded keyring %r: %d interfaces, %d group keys, %d devices",
        keyring.project,
        len(keyring.interfaces),
        len(keyring.group_keys),
        len(keyring.devices),
    )
    return keyring


def signature_of(data: bytes, password_hash: bytes) -> bytes:
    """The Signature a keyring file's content must carry (for writers: ``keyring_writer``)."""
    _, stream = _parse_xml(data.removeprefix(_UTF8_BOM))
    return _signature(stream, password_hash)


def _signature(stream: bytes, password_hash: bytes) -> bytes:
    """SHA-256 of the canonical stream followed by the base64 password hash, first 16 octets."""
    signed = bytearray(stream)
    _append_string(signed, base64.b64encode(password_hash))
    return sha256(bytes(signed))[:16]
