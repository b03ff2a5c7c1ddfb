"""Write ETS keyrings (.knxkeys): the inverse of ``keyring.load_keyring``.

Used for generated installations (the demo home, installations at scale) and for tests: the
output is signed and encrypted the way ETS does it, so ETS-compatible readers (ours, xknx) load
it. Secrets are encrypted with AES-128-CBC under the keyring password's PBKDF2 hash and the IV
of the Created attribute; passwords carry 8 random octets in front and PKCS#7-style padding; the
Signature is computed over the canonical stream of the written XML (one place: keyring.py).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping
from types import MappingProxyType
from xml.sax.saxutils import quoteattr

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .address import GroupAddress, IndividualAddress
from .crypto import derive_keyring_password_hash, sha256
from .errors import AddressError, KeyringFormatError
from .keyring import (
    KEYRING_NAMESPACE,
    REDACTED,
    Backbone,
    InterfaceType,
    Keyring,
    KeyringDevice,
    KeyringInterface,
    signature_of,
)

__all__ = ["keyring_from_summary", "write_keyring"]

_PASSWORD_PREFIX = 8
_BLOCK = 16


class _Encryptor:
    def __init__(self, password_hash: bytes, created: str, random_bytes: Callable[[int], bytes]):
        self._cipher = Cipher(
            algorithms.AES(password_hash), modes.CBC(sha256(created.encode("utf-8"))[:16])
        )
        self._random = random_bytes

    def key(self, key: bytes) -> str:
        if len(key) != _BLOCK:
            raise KeyringFormatError(f"a keyring key has 16 octets, got {len(key)}")
        return self._encrypt(key)

    def password(self, text: str) -> str:
        plain = self._random(_PASSWORD_PREFIX) + text.encode("utf-8")
        padding = _BLOCK - len(plain) % _BLOCK
        return self._encrypt(plain + bytes([padding]) * padding)

    def _encrypt(self, plain: bytes) -> str:
        encryptor = self._cipher.encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")


def _element(
    name: str, attributes: Mapping[str, str | None], children: list[str] | None = None
) -> str:
    text = " ".join(
        f"{key}={quoteattr(value)}" for key, value in attributes.items() if value is not None
    )
    head = f"<{name} {text}" if text else f"<{name}"
    if not children:
        return head + " />"
    return head + ">" + "".join(children) + f"</{name}>"


def _document(keyring: Keyring, enc: _Encryptor) -> bytes:
    parts: list[str] = []
    if keyring.backbone is not None:
        backbone = keyring.backbone
        parts.append(
            _element(
                "Backbone",
                {
                    "MulticastAddress": backbone.multicast_address,
                    "Latency": _number(backbone.latency_ms),
                    "Key": enc.key(backbone.key) if backbone.key is not None else None,
                },
            )
        )
    parts += [_interface(interface, enc) for interface in keyring.interfaces]
    if keyring.group_keys:
        parts.append(
            _element(
                "GroupAddresses",
                {},
                [
                    _element("Group", {"Address": str(ga.raw), "Key": enc.key(key)})
                    for ga, key in keyring.group_keys.items()
                ],
            )
        )
    if keyring.devices:
        parts.append(_element("Devices", {}, [_device(device, enc) for device in keyring.devices]))
    root = _element(
        "Keyring",
        {
            "Project": keyring.project,
            "CreatedBy": keyring.created_by,
            "Created": keyring.created,
            "xmlns": KEYRING_NAMESPACE,
        },
        parts,
    )
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + root + "\n").encode("utf-8")


def _interface(interface: KeyringInterface, enc: _Encryptor) -> str:
    return _element(
        "Interface",
        {
            "IndividualAddress": _text(interface.individual_address),
            "Type": interface.type.value,
            "Host": _text(interface.host),
            "UserID": _number(interface.user_id),
            "Password": _maybe(enc.password, interface.password),
            "Authentication": _maybe(enc.password, interface.device_authentication),
        },
        [
            _element(
                "Group",
                {"Address": str(ga.raw), "Senders": " ".join(str(s) for s in senders)},
            )
            for ga, senders in interface.group_senders.items()
        ],
    )


def _device(device: KeyringDevice, enc: _Encryptor) -> str:
    return _element(
        "Device",
        {
            "IndividualAddress": str(device.individual_address),
            "ToolKey": _maybe(enc.key, device.tool_key),
            "ManagementPassword": _maybe(enc.password, device.management_password),
            "Authentication": _maybe(enc.password, device.authentication),
            "SequenceNumber": _number(device.sequence_number),
            "FDSK": _maybe(enc.key, device.fdsk),
            "SerialNumber": device.serial_number,
        },
    )


def _maybe[T](encrypt: Callable[[T], str], value: T | None) -> str | None:
    return None if value is None else encrypt(value)


def _number(value: int | None) -> str | None:
    """An optional number attribute: absent (None) stays absent."""
    return None if value is None else str(value)


def _text(address: IndividualAddress | None) -> str | None:
    return None if address is None else str(address)


def write_keyring(
    keyring: Keyring,
    password: str,
    *,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> bytes:
    """The .knxkeys file of ``keyring``, encrypted and signed with ``password``.

    Slow (PBKDF2): call it from an executor. The Signature attribute of ``keyring`` is ignored;
    the written file carries the signature of its own content.
    """
    password_hash = derive_keyring_password_hash(password)
    enc = _Encryptor(password_hash, keyring.created, random_bytes)
    # Encrypting again would draw new random prefixes: sign the very bytes that are written,
    # then put the signature in (the signature stream leaves that attribute out).
    unsigned = _document(keyring, enc)
    signature = base64.b64encode(signature_of(unsigned, password_hash))
    marker = b' xmlns="'
    return unsigned.replace(marker, b' Signature="' + signature + b'"' + marker, 1)


# --- from the JSON summary (keyring FILE --show-secrets) ------------------------------------------


def keyring_from_summary(summary: Mapping[str, object]) -> Keyring:
    """A Keyring from the layout ``Keyring.summary(show_secrets=True)`` prints.

    Raises KeyringFormatError naming the field that is missing or invalid, or redacted.
    """
    try:
        backbone = summary.get("backbone")
        return Keyring(
            project=_str(summary, "project"),
            created=_str(summary, "created"),
            created_by=_str(summary, "created_by"),
            signature=b"",
            backbone=_backbone(backbone) if backbone is not None else None,
            interfaces=tuple(_summary_interface(i) for i in _list(summary, "interfaces")),
            group_keys=MappingProxyType(
                {
                    GroupAddress.parse(ga): _key(key, f"group_keys.{ga}")
                    for ga, key in _dict(summary, "group_keys").items()
                }
            ),
            devices=tuple(_summary_device(d) for d in _list(summary, "devices")),
        )
    except AddressError as err:
        raise KeyringFormatError(f"keyring summary: {err}") from None


def _str(data: Mapping[str, object], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise KeyringFormatError(f"keyring summary: {name} must be a string")
    return value


def _optional_str(data: Mapping[str, object], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise KeyringFormatError(f"keyring summary: {name} must be a string or null")
    return _shown(value, name)


def _list(data: Mapping[str, object], name: str) -> list[Mapping[str, object]]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise KeyringFormatError(f"keyring summary: {name} must be a list of objects")
    return value


def _dict(data: Mapping[str, object], name: str) -> Mapping[str, object]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise KeyringFormatError(f"keyring summary: {name} must be an object")
    return value


def _shown(value: str, where: str) -> str:
    """A secret as the summary shows it; a redacted one cannot be written back."""
    if value == REDACTED:
        raise KeyringFormatError(
            f"keyring summary: {where} is redacted (print the summary with --show-secrets)"
        )
    return value


def _key(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise KeyringFormatError(f"keyring summary: {where} must be a hex key")
    _shown(value, where)
    try:
        key = bytes.fromhex(value)
    except ValueError:
        raise KeyringFormatError(f"keyring summary: {where} is not hex") from None
    if len(key) != _BLOCK:
        raise KeyringFormatError(f"keyring summary: {where} is not a 16-octet key")
    return key


def _optional_key(data: Mapping[str, object], name: str, where: str) -> bytes | None:
    value = data.get(name)
    return None if value is None else _key(value, f"{where}.{name}")


def _int(data: Mapping[str, object], name: str, default: int | None = None) -> int | None:
    value = data.get(name, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise KeyringFormatError(f"keyring summary: {name} must be a non-negative integer")
    return value


def _address(data: Mapping[str, object], name: str) -> IndividualAddress | None:
    text = _optional_str(data, name)
    return None if text is None else IndividualAddress.parse(text)


def _backbone(value: object) -> Backbone:
    if not isinstance(value, dict):
        raise KeyringFormatError("keyring summary: backbone must be an object or null")
    return Backbone(
        multicast_address=_str(value, "multicast_address"),
        latency_ms=_int(value, "latency_ms"),
        key=_optional_key(value, "key", "backbone"),
    )


def _summary_interface(data: Mapping[str, object]) -> KeyringInterface:
    type_text = _str(data, "type")
    try:
        interface_type = InterfaceType(type_text)
    except ValueError:
        raise KeyringFormatError(f"keyring summary: interface type {type_text!r}") from None
    senders = _dict(data, "group_addresses")
    group_senders: dict[GroupAddress, tuple[IndividualAddress, ...]] = {}
    for ga, addresses in senders.items():
        if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
            raise KeyringFormatError(f"keyring summary: senders of {ga} must be a list")
        group_senders[GroupAddress.parse(ga)] = tuple(IndividualAddress.parse(a) for a in addresses)
    return KeyringInterface(
        type=interface_type,
        individual_address=_address(data, "individual_address"),
        host=_address(data, "host"),
        user_id=_int(data, "user_id"),
        password=_optional_str(data, "password"),
        device_authentication=_optional_str(data, "device_authentication"),
        group_senders=MappingProxyType(group_senders),
    )


def _summary_device(data: Mapping[str, object]) -> KeyringDevice:
    address = _address(data, "individual_address")
    if address is None:
        raise KeyringFormatError("keyring summary: a device needs its individual_address")
    where = f"device {address}"
    return KeyringDevice(
        individual_address=address,
        serial_number=_optional_str(data, "serial_number"),
        tool_key=_optional_key(data, "tool_key", where),
        management_password=_optional_str(data, "management_password"),
        authentication=_optional_str(data, "authentication"),
        sequence_number=_int(data, "sequence_number"),
        fdsk=_optional_key(data, "fdsk", where),
    )
