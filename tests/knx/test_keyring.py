"""keyring.py: every fixture keyring decodes to its expected JSON; errors; xknx as a peer."""

from __future__ import annotations

import base64
import hashlib
import re
import time
import tracemalloc
import xml.sax
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from xknx.secure.keyring import InterfaceType as XknxInterfaceType
from xknx.secure.keyring import sync_load_keyring

from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.errors import (
    KeyringError,
    KeyringFormatError,
    KeyringPasswordError,
    KeyringTamperedError,
    KeyringVersionError,
    KNXSecureError,
)
from custom_components.knx_secure.knx.keyring import (
    MAX_KEYRING_SIZE,
    InterfaceType,
    Keyring,
    load_keyring,
)
from custom_components.knx_secure.knx.keyring_writer import keyring_from_summary, write_keyring

from .conftest import KEYRING_BY_NAME, KEYRINGS, KeyringFixture

IA = IndividualAddress.parse
GA = GroupAddress.parse
WRONG_PASSWORD = "definitely-not-the-password"
SECRET_FIELDS = (
    "password",
    "device_authentication",
    "tool_key",
    "management_password",
    "authentication",
)


def load(kr: KeyringFixture) -> Keyring:
    return load_keyring(kr.path, kr.password)


def redacted(expected: dict[str, Any]) -> dict[str, Any]:
    """The expected JSON with every non-null secret replaced, as summary() shows it."""

    def hide(value: Any) -> Any:
        return None if value is None else "<redacted>"

    result = dict(expected)
    if expected["backbone"] is not None:
        result["backbone"] = {**expected["backbone"], "key": hide(expected["backbone"]["key"])}
    result["interfaces"] = [
        {k: hide(v) if k in SECRET_FIELDS else v for k, v in i.items()}
        for i in expected["interfaces"]
    ]
    result["devices"] = [
        {k: hide(v) if k in SECRET_FIELDS else v for k, v in d.items()} for d in expected["devices"]
    ]
    result["group_keys"] = {ga: hide(key) for ga, key in expected["group_keys"].items()}
    return result


def expected_secrets(expected: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Passwords and hex keys of an expected JSON."""
    passwords = [
        value
        for entry in expected["interfaces"] + expected["devices"]
        for key, value in entry.items()
        if key in ("password", "device_authentication", "management_password", "authentication")
        and value
    ]
    keys = [d["tool_key"] for d in expected["devices"] if d["tool_key"]]
    keys += list(expected["group_keys"].values())
    if expected["backbone"] and expected["backbone"]["key"]:
        keys.append(expected["backbone"]["key"])
    return passwords, keys


def flip_inside(data: bytes, marker: bytes, offset: int = 0) -> bytes:
    """Change one ASCII letter/digit inside the attribute value after `marker`."""
    index = data.index(marker) + len(marker) + offset
    original = data[index : index + 1]
    replacement = b"B" if original != b"B" else b"C"
    if original.isdigit():
        replacement = b"7" if original != b"7" else b"8"
    return data[:index] + replacement + data[index + 1 :]


# --- content ------------------------------------------------------------------------------


@pytest.mark.parametrize("kr", KEYRINGS, ids=str)
def test_keyring_decodes_to_expected_json(kr: KeyringFixture) -> None:
    assert load(kr).summary(show_secrets=True) == kr.expected()


@pytest.mark.parametrize("kr", KEYRINGS, ids=str)
def test_summary_redacts_secrets_by_default(kr: KeyringFixture) -> None:
    summary = load(kr).summary()
    assert summary == redacted(kr.expected())
    text = repr(summary)
    passwords, keys = expected_secrets(kr.expected())
    for secret in keys + [p for p in passwords if len(p) >= 6]:
        assert secret not in text


@pytest.mark.parametrize("kr", KEYRINGS, ids=str)
def test_secrets_lists_every_secret_in_each_form(kr: KeyringFixture) -> None:
    secrets = set(load(kr).secrets())
    passwords, keys = expected_secrets(kr.expected())
    assert set(passwords) <= secrets
    for key in keys:
        raw = bytes.fromhex(key)
        assert {key, key.upper(), base64.b64encode(raw).decode(), repr(raw)} <= secrets


@pytest.mark.parametrize("kr", KEYRINGS, ids=str)
def test_repr_shows_no_secret(kr: KeyringFixture) -> None:
    keyring = load(kr)
    text = repr(keyring) + repr(keyring.interfaces) + repr(keyring.devices) + repr(keyring.backbone)
    for secret in keyring.secrets():
        if len(secret) >= 6:
            assert secret not in text
        assert repr(secret) not in text  # quoted, as a str field would show it


def test_fdsk_is_decrypted_and_secret() -> None:
    keyring = load(KEYRING_BY_NAME["Secure Test.knxkeys"])
    device = keyring.device(IA("1.1.0"))
    assert device is not None
    assert device.serial_number == "00A207164012"
    assert device.fdsk is not None
    assert len(device.fdsk) == 16
    assert device.fdsk.hex() in keyring.secrets()


@pytest.mark.parametrize("kr", KEYRINGS, ids=str)
def test_same_content_as_xknx(kr: KeyringFixture) -> None:
    ours = load(kr)
    theirs = sync_load_keyring(kr.path, kr.password)
    assert (ours.project, ours.created, ours.created_by) == (
        theirs.project_name,
        theirs.created,
        theirs.created_by,
    )
    assert ours.signature == theirs.signature
    if theirs.backbone is None:
        assert ours.backbone is None
    else:
        assert ours.backbone is not None
        assert ours.backbone.multicast_address == theirs.backbone.multicast_address
        assert ours.backbone.latency_ms == theirs.backbone.latency
        assert ours.backbone.key == theirs.backbone.decrypted_key
    assert len(ours.interfaces) == len(theirs.interfaces)
    for mine, other in zip(ours.interfaces, theirs.interfaces, strict=True):
        assert mine.type.value == other.type.value
        assert mine.individual_address is not None
        assert mine.individual_address.raw == other.individual_address.raw
        assert (mine.host.raw if mine.host else None) == (other.host.raw if other.host else None)
        assert mine.user_id == other.user_id
        assert mine.password == other.decrypted_password
        assert mine.device_authentication == other.decrypted_authentication
        assert {ga.raw: [s.raw for s in senders] for ga, senders in mine.group_senders.items()} == {
            ga.raw: [s.raw for s in senders] for ga, senders in other.group_addresses.items()
        }
    assert {ga.raw: key for ga, key in ours.group_keys.items()} == {
        ga.address.raw: ga.decrypted_key for ga in theirs.group_addresses
    }
    for mine_d, other_d in zip(ours.devices, theirs.devices, strict=True):
        assert mine_d.individual_address.raw == other_d.individual_address.raw
        assert mine_d.tool_key == other_d.decrypted_tool_key
        assert mine_d.management_password == other_d.decrypted_management_password
        assert mine_d.authentication == other_d.decrypted_authentication
        # xknx shows 0 for a missing SequenceNumber; we keep it absent and query it as 0
        assert mine_d.sequence_number in (other_d.sequence_number, None)
        assert ours.sequence_number(mine_d.individual_address) == other_d.sequence_number
    # xknx's derived tables agree with our queries
    assert {ia.raw: seq for ia, seq in ours.sender_sequence_numbers().items()} == {
        ia.raw: seq for ia, seq in theirs.get_data_secure_senders().items()
    }
    for host in ours.hosts():
        xknx_tunnels = [
            t
            for t in theirs.interfaces
            if t.type is XknxInterfaceType.TUNNELING and t.host and t.host.raw == host.raw
        ]
        assert {t.individual_address.raw for t in xknx_tunnels} == {
            t.individual_address.raw for t in ours.tunnels_of_host(host) if t.individual_address
        }


# --- queries ------------------------------------------------------------------------------


def test_queries_on_keyring_knxkeys() -> None:
    keyring = load(KEYRING_BY_NAME["keyring.knxkeys"])
    assert keyring.hosts() == [IA("1.1.0"), IA("1.1.11"), IA("1.1.10")]
    tunnels = keyring.tunnels_of_host(IA("1.1.0"))
    assert [t.user_id for t in tunnels] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert [str(t.individual_address) for t in tunnels] == [
        "1.1.4",
        "1.1.6",
        "1.1.7",
        "1.1.2",
        "1.1.1",
        "1.1.3",
        "1.1.8",
        "1.1.5",
    ]
    assert all(t.type is InterfaceType.TUNNELING for t in tunnels)
    tunnel = keyring.interface(IA("1.1.12"))
    assert tunnel is not None
    assert tunnel.host == IA("1.1.11")
    assert tunnel.user_id is None
    assert tunnel.password is None
    by_user = keyring.interface_by_user_id(IA("1.1.0"), 9)
    assert by_user is not None
    assert by_user.individual_address == IA("1.1.5")
    assert by_user.password == "q,Aa89cS"
    assert keyring.interface_by_user_id(IA("1.1.0"), 1) is None
    assert keyring.interface_by_user_id(IA("1.1.11"), 9) is None
    assert keyring.interface(IA("9.9.9")) is None
    assert keyring.group_key(GA("1/1/1")) == bytes.fromhex("e14343050f4377e3159b90afe0228216")
    assert keyring.group_key(GA("1/1/2")) is None
    assert keyring.senders(GA("1/1/1")) == frozenset({IA("1.1.1"), IA("1.1.12")})
    assert keyring.senders(GA("1/1/2")) == frozenset()
    assert keyring.sequence_number(IA("1.1.0")) == 108
    assert keyring.sequence_number(IA("1.1.10")) == 0
    assert keyring.sequence_number(IA("7.7.7")) == 0
    assert keyring.tool_key(IA("1.1.0")) == bytes.fromhex("aeac47c4653ed0b25249b4ab3f474479")
    assert keyring.tool_key(IA("7.7.7")) is None
    assert keyring.device(IA("7.7.7")) is None


def test_queries_on_secure_test() -> None:
    keyring = load(KEYRING_BY_NAME["Secure Test.knxkeys"])
    assert keyring.hosts() == [IA("1.1.0")]
    assert [str(t.individual_address) for t in keyring.tunnels_of_host(IA("1.1.0"))] == [
        "1.1.255",
        "1.1.254",
        "1.1.253",
        "1.1.252",
    ]
    assert keyring.senders(GA("1/1/2")) == frozenset(
        {IA("1.1.1"), IA("1.1.252"), IA("1.1.253"), IA("1.1.254"), IA("1.1.255")}
    )
    tunnel = keyring.interface(IA("1.1.253"))
    assert tunnel is not None
    assert tunnel.group_senders[GA("1/1/1")] == (
        IA("1.1.1"),
        IA("1.1.252"),
        IA("1.1.254"),
        IA("1.1.255"),
    )
    assert keyring.backbone is not None
    assert keyring.backbone.latency_ms == 2000


# --- sources ------------------------------------------------------------------------------


def test_bytes_str_and_path_sources_agree(tmp_path: Path) -> None:
    kr = KEYRING_BY_NAME["SecureTest.knxkeys"]
    data = kr.path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    by_path = load_keyring(kr.path, kr.password)
    assert load_keyring(str(kr.path), kr.password) == by_path
    assert load_keyring(data, kr.password) == by_path
    without_bom = tmp_path / "nobom.knxkeys"
    without_bom.write_bytes(data[3:])
    assert load_keyring(without_bom, kr.password) == by_path


def test_bom_is_tolerated() -> None:
    kr = KEYRING_BY_NAME["keyring.knxkeys"]
    data = kr.path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert load_keyring(b"\xef\xbb\xbf" + data, kr.password) == load(kr)


def test_unreadable_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.knxkeys"
    with pytest.raises(KeyringError, match="cannot read keyring file") as info:
        load_keyring(missing, "pwd")
    assert type(info.value) is KeyringError
    with pytest.raises(KeyringError):
        load_keyring(tmp_path, "pwd")  # a directory


def _peak_allocation(work: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        work()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def _refused_as_too_large(source: bytes | Path) -> None:
    with pytest.raises(KeyringFormatError, match="larger than 16 MiB: not an ETS keyring"):
        load_keyring(source, "pwd")


def test_file_above_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.knxkeys"
    with huge.open("wb") as file:
        file.truncate(100 * 1024 * 1024)  # sparse: 100 MiB that cost no disk
    assert _peak_allocation(lambda: _refused_as_too_large(huge)) < 1024 * 1024


def test_keyring_with_trailing_blanks_beyond_the_limit_is_refused(tmp_path: Path) -> None:
    kr = KEYRING_BY_NAME["keyring.knxkeys"]
    data = kr.path.read_bytes()
    padded = tmp_path / "padded.knxkeys"
    padded.write_bytes(data + b" " * (MAX_KEYRING_SIZE + 1 - len(data)))
    _refused_as_too_large(padded)
    _refused_as_too_large(padded.read_bytes())  # bytes (an upload) get the same limit
    padded.write_bytes(data + b" " * (MAX_KEYRING_SIZE - len(data)))
    assert load_keyring(padded, kr.password) == load(kr)  # exactly the limit still loads


def test_endless_device_file_is_read_only_up_to_the_limit() -> None:
    """/dev/zero has no size: at most limit + 1 octets are read, then it is refused."""
    peak = _peak_allocation(lambda: _refused_as_too_large(Path("/dev/zero")))
    assert peak < 3 * MAX_KEYRING_SIZE


@pytest.mark.parametrize("password", ["\udcff\udcfe", "ok-then-\udc80", "\ud800"])
def test_password_that_is_not_utf8_text_is_a_password_error(password: str) -> None:
    """Undecodable octets of argv or the environment arrive as lone surrogates."""
    kr = KEYRING_BY_NAME["keyring.knxkeys"]
    with pytest.raises(KeyringPasswordError, match="not valid UTF-8") as info:
        load_keyring(kr.path, password)
    assert password not in str(info.value)


# --- password and tampering ---------------------------------------------------------------


@pytest.mark.parametrize("kr", KEYRINGS, ids=str)
def test_wrong_password(kr: KeyringFixture) -> None:
    with pytest.raises(KeyringPasswordError) as info:
        load_keyring(kr.path, WRONG_PASSWORD)
    assert WRONG_PASSWORD not in str(info.value)
    assert "password" in str(info.value)


@pytest.mark.parametrize("kr", KEYRINGS, ids=str)
def test_flipped_byte_in_project_is_tampering(kr: KeyringFixture) -> None:
    with pytest.raises(KeyringTamperedError) as info:
        load_keyring(flip_inside(kr.path.read_bytes(), b'Project="'), kr.password)
    assert "modified" in str(info.value)


@pytest.mark.parametrize(
    ("marker", "offset"),
    [
        (b'SequenceNumber="', 1),
        (b'Senders="', 4),
        (b'Latency="', 0),
        (b'UserID="', 0),
        (b'Created="', 3),  # also the IV: first blocks garble, the last ones still decrypt
    ],
)
def test_other_modified_attributes_are_detected(marker: bytes, offset: int) -> None:
    kr = KEYRING_BY_NAME["keyring.knxkeys"]
    with pytest.raises(KeyringTamperedError):
        load_keyring(flip_inside(kr.path.read_bytes(), marker, offset), kr.password)


def test_removed_element_is_tampering() -> None:
    kr = KEYRING_BY_NAME["keyring.knxkeys"]
    data = re.sub(rb'\s*<Device IndividualAddress="1\.1\.11"[^>]*/>', b"", kr.path.read_bytes())
    with pytest.raises(KeyringTamperedError):
        load_keyring(data, kr.password)


def test_one_modified_password_field_is_still_tampering() -> None:
    kr = KEYRING_BY_NAME["SecureTest.knxkeys"]
    data = kr.path.read_bytes()
    marker = b'Password="sQZMSoHR/gBjj1guSY2gh4Sziv8cAiwar9F1amBRfE4='
    assert marker in data
    # garble the last cipher block of one of 20 password fields
    data = data.replace(marker, marker[:-12] + b"AAAAAAAAAAA=")
    with pytest.raises(KeyringTamperedError):
        load_keyring(data, kr.password)


def test_modified_file_without_password_fields_cannot_tell() -> None:
    kr = KEYRING_BY_NAME["keyring.knxkeys"]
    data = re.sub(
        rb' (Password|Authentication|ManagementPassword)="[^"]*"', b"", kr.path.read_bytes()
    )
    with pytest.raises(KeyringPasswordError, match="wrong or the file was modified"):
        load_keyring(data, kr.password)


# --- not a (supported) keyring ------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02garbage",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b"not xml at all",
        b"<Keyring",
        b"\xef\xbb\xbf",
        b'<?xml version="1.0" encoding="utf-16"?><a/>',
    ],
)
def test_non_xml_is_a_format_error(data: bytes) -> None:
    with pytest.raises(KeyringFormatError, match="not valid XML"):
        load_keyring(data, "pwd")


@pytest.mark.parametrize(
    "data",
    [
        b"<root/>",
        b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
        b'<Keyring xmlns="http://example.com/keyring" Project="x" Created="x" CreatedBy="x"'
        b' Signature="AAAAAAAAAAAAAAAAAAAAAA=="/>',
        b'<Keyring Project="x" Created="x" CreatedBy="x" Signature="AAAAAAAAAAAAAAAAAAAAAA=="/>',
        b'<KeyringX xmlns="http://knx.org/xml/keyring/1"/>',
    ],
)
def test_other_xml_is_a_format_error(data: bytes) -> None:
    with pytest.raises(KeyringFormatError, match="not an ETS keyring"):
        load_keyring(data, "pwd")


def test_truncated_keyring_is_a_format_error() -> None:
    data = KEYRING_BY_NAME["SecureTest.knxkeys"].path.read_bytes()
    with pytest.raises(KeyringFormatError):
        load_keyring(data[: len(data) // 2], "test")


@pytest.mark.parametrize("kr", KEYRINGS, ids=str)
def test_future_namespace_is_a_version_error(kr: KeyringFixture) -> None:
    data = kr.path.read_bytes().replace(
        b"http://knx.org/xml/keyring/1", b"http://knx.org/xml/keyring/2"
    )
    with pytest.raises(KeyringVersionError, match="keyring/2"):
        load_keyring(data, kr.password)


def test_dtd_and_entities_are_rejected_fast() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i else b"&lol;") * 10)
            for i in range(1, 10)
        )
        + b']><Keyring xmlns="http://knx.org/xml/keyring/1" Project="&lol9;"/>'
    )
    external = (
        b'<?xml version="1.0"?><!DOCTYPE k [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Keyring xmlns="http://knx.org/xml/keyring/1" Project="&x;"/>'
    )
    parameter = b'<?xml version="1.0"?><!DOCTYPE k SYSTEM "http://127.0.0.1:9/evil.dtd"><Keyring/>'
    start = time.monotonic()
    for data in (laughs, external, parameter):
        with pytest.raises(KeyringFormatError, match="DTD"):
            load_keyring(data, "pwd")
    assert time.monotonic() - start < 1.0
    # an undeclared entity is plain malformed XML
    with pytest.raises(KeyringFormatError):
        load_keyring(b'<Keyring xmlns="http://knx.org/xml/keyring/1" Project="&x;"/>', "pwd")


def test_dtd_inside_a_real_keyring_is_rejected() -> None:
    kr = KEYRING_BY_NAME["keyring.knxkeys"]
    data = kr.path.read_bytes().replace(b"?>", b"?><!DOCTYPE Keyring>", 1)
    with pytest.raises(KeyringFormatError, match="DTD"):
        load_keyring(data, kr.password)


@pytest.mark.parametrize(
    ("pattern", "replacement", "message"),
    [
        (rb' Created="[^"]*"', b"", "Created"),
        (rb' Signature="[^"]*"', b"", "Signature"),
        (rb' Project="[^"]*"', b"", "Project"),
        (rb'Signature="[^"]*"', b'Signature="%%%"', "base64"),
        (rb'Signature="[^"]*"', b'Signature="AAAA"', "length"),
        (rb'IndividualAddress="1\.1\.1"', b'IndividualAddress="1.1.300"', "IndividualAddress"),
        (rb'Host="1\.1\.0"', b'Host="x"', "Host"),
        (rb'Type="Tunneling"', b'Type="Carrier pigeon"', "Type"),
        (rb'SequenceNumber="108"', b'SequenceNumber="-1"', "SequenceNumber"),
        (rb'SequenceNumber="108"', b'SequenceNumber="281474976710656"', "SequenceNumber"),
        (rb'UserID="6"', b'UserID="six"', "UserID"),
        (rb'UserID="6"', b'UserID="256"', "UserID"),
        (rb'Latency="1000"', b'Latency="1e3"', "Latency"),
        (rb'MulticastAddress="[^"]*"', b'MulticastAddress="10.0.0.1"', "multicast"),
        (rb'MulticastAddress="[^"]*"', b'MulticastAddress="knx"', "MulticastAddress"),
        (
            rb'<Group Address="2305" Senders="1\.1\.12" />',
            b'<Group Address="99999" Senders="1.1.12" />',
            "Address",
        ),
        (rb'Senders="1\.1\.12"', b'Senders="1.1.12 nonsense"', "Senders"),
        (rb'<Group Address="2305" Key="[^"]*" />', b'<Group Address="2305" />', "Key"),
        (rb'<Device IndividualAddress="1\.1\.0" ', b"<Device ", "IndividualAddress"),
    ],
)
def test_missing_or_invalid_attributes(pattern: bytes, replacement: bytes, message: str) -> None:
    kr = KEYRING_BY_NAME["keyring.knxkeys"]
    data, count = re.subn(pattern, replacement, kr.path.read_bytes(), count=1)
    assert count == 1
    with pytest.raises(KeyringFormatError, match=message):
        load_keyring(data, kr.password)


def _b64(length: int) -> bytes:
    return base64.b64encode(bytes(range(length)))


@pytest.mark.parametrize(
    ("pattern", "length"),
    [
        (rb'(<Group Address="2305" Key=")[^"]*', 32),  # a key of 32 octets
        (rb'(<Group Address="2305" Key=")[^"]*', 8),
        (rb'( ToolKey=")[^"]*', 24),
        (rb'( Key=")[^"]*', 15),  # backbone key
        (rb'( Password=")[^"]*', 24),  # not a whole number of blocks
        (rb'( Authentication=")[^"]*', 0),
        (rb'( ManagementPassword=")[^"]*', 1),
    ],
)
def test_secrets_of_wrong_length_are_format_errors(pattern: bytes, length: int) -> None:
    kr = KEYRING_BY_NAME["keyring.knxkeys"]
    data, count = re.subn(
        pattern, lambda m: m.group(1) + _b64(length), kr.path.read_bytes(), count=1
    )
    assert count == 1
    with pytest.raises(KeyringFormatError, match=r"length|key"):
        load_keyring(data, kr.password)


def test_non_base64_secret_is_a_format_error() -> None:
    kr = KEYRING_BY_NAME["keyring.knxkeys"]
    data = re.sub(rb'( ToolKey=")[^"]*', rb"\1not base64!", kr.path.read_bytes(), count=1)
    with pytest.raises(KeyringFormatError, match="base64"):
        load_keyring(data, kr.password)


def test_errors_are_our_own() -> None:
    for error in (
        KeyringFormatError,
        KeyringPasswordError,
        KeyringTamperedError,
        KeyringVersionError,
    ):
        assert issubclass(error, KeyringError)
        assert issubclass(error, KNXSecureError)


# --- synthetic keyrings signed by an independent implementation ---------------------------

SYNTHETIC_PASSWORD = "synthetic-keyring"
CREATED = "2024-05-01T10:00:00"


def _hash(password: str) -> bytes:
    return hashlib.pbkdf2_hmac(
        "sha256", password.encode("utf-8"), b"1.keyring.ets.knx.org", 65536, 16
    )


def _encrypt(plain: bytes, password: str = SYNTHETIC_PASSWORD) -> str:
    iv = hashlib.sha256(CREATED.encode("utf-8")).digest()[:16]
    encryptor = Cipher(algorithms.AES(_hash(password)), modes.CBC(iv)).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def encrypted_password(text: str) -> str:
    data = b"\x5a" * 8 + text.encode("utf-8")
    total = max(32, (len(data) // 16 + 1) * 16)
    return _encrypt(data + bytes([total - len(data)]) * (total - len(data)))


class _Signer(ContentHandler):
    """Builds the signature stream with xml.sax (independent of keyring.py)."""

    def __init__(self) -> None:
        super().__init__()
        self.stream = bytearray()

    def _add(self, value: bytes) -> None:
        self.stream.append(len(value))
        self.stream.extend(value)

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        self.stream.append(1)
        self._add(name.encode())
        for key in sorted(attrs.keys()):
            if key not in ("xmlns", "Signature"):
                self._add(key.encode())
                self._add(attrs[key].encode())

    def endElement(self, name: str) -> None:
        self.stream.append(2)


def signed(body: str, password: str = SYNTHETIC_PASSWORD) -> bytes:
    document = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<Keyring Project="Synthetic" CreatedBy="test" Created="{CREATED}" Signature="SIG" '
        f'xmlns="http://knx.org/xml/keyring/1">{body}</Keyring>'
    )
    signer = _Signer()
    xml.sax.parseString(document.encode(), signer)
    signer._add(base64.b64encode(_hash(password)))
    signature = base64.b64encode(hashlib.sha256(bytes(signer.stream)).digest()[:16]).decode()
    return document.replace('Signature="SIG"', f'Signature="{signature}"').encode()


def test_synthetic_keyring_round_trip() -> None:
    key = bytes(range(16))
    body = (
        f'<Interface Type="USB" Password="{encrypted_password("pässwörd")}" />'
        f'<Interface Type="Tunneling" IndividualAddress="2.2.5" Host="2.2.0" UserID="2" '
        f'Password="{encrypted_password("")}" Authentication="{encrypted_password("x" * 40)}">'
        '<Group Address="4096" />'
        "</Interface>"
        '<Unknown Thing="kept in the signature" />'
        f'<GroupAddresses><Group Address="1/0/1" Key="{_encrypt(key)}" /></GroupAddresses>'
        '<Devices><Device IndividualAddress="2.2.0" /></Devices>'
        '<Backbone MulticastAddress="224.0.23.12" />'
    )
    keyring = load_keyring(signed(body), SYNTHETIC_PASSWORD)
    usb, tunnel = keyring.interfaces
    assert usb.type is InterfaceType.USB
    assert usb.individual_address is None
    assert usb.password == "pässwörd"
    assert tunnel.password == ""
    assert tunnel.device_authentication == "x" * 40
    assert tunnel.group_senders == {GA("2/0/0"): ()}
    assert keyring.group_keys == {GA("1/0/1"): key}
    assert keyring.devices[0].sequence_number is None
    assert keyring.sequence_number(IA("2.2.0")) == 0
    assert keyring.devices[0].tool_key is None
    assert keyring.backbone is not None
    assert keyring.backbone.key is None
    assert keyring.backbone.latency_ms is None
    assert keyring.hosts() == [IA("2.2.0")]
    summary: dict[str, Any] = keyring.summary()
    assert summary["interfaces"][1]["password"] == "<redacted>"  # an empty password is a secret too
    assert summary["backbone"] == {
        "multicast_address": "224.0.23.12",
        "latency_ms": None,
        "key": None,
    }


def test_absent_optional_attributes_stay_null_in_the_summary() -> None:
    """Every optional attribute of every element, left out: null, never a real-looking 0."""
    body = (
        '<Backbone MulticastAddress="224.0.23.12" />'
        '<Interface Type="Tunneling"><Group Address="1/0/1" /></Interface>'
        '<Devices><Device IndividualAddress="1.1.1" /></Devices>'
    )
    keyring = load_keyring(signed(body), SYNTHETIC_PASSWORD)
    assert keyring.summary(show_secrets=True) == {
        "project": "Synthetic",
        "created": keyring.created,
        "created_by": keyring.created_by,
        "signature": keyring.signature.hex(),
        "signature_valid": True,
        "backbone": {"multicast_address": "224.0.23.12", "latency_ms": None, "key": None},
        "interfaces": [
            {
                "type": "Tunneling",
                "individual_address": None,
                "host": None,
                "user_id": None,
                "password": None,
                "device_authentication": None,
                "group_addresses": {"1/0/1": []},
            }
        ],
        "group_keys": {},
        "devices": [
            {
                "individual_address": "1.1.1",
                "sequence_number": None,
                "tool_key": None,
                "management_password": None,
                "authentication": None,
            }
        ],
    }
    assert keyring.devices[0].serial_number is None
    assert keyring.sender_sequence_numbers() == {IA("1.1.1"): 0}
    # written back (from the keyring or its summary), the absent attributes stay absent
    for again in (keyring, keyring_from_summary(keyring.summary(show_secrets=True))):
        written = write_keyring(again, SYNTHETIC_PASSWORD)
        assert b"None" not in written
        reloaded = load_keyring(written, SYNTHETIC_PASSWORD)
        assert reloaded.summary(show_secrets=True) == {
            **keyring.summary(show_secrets=True),
            "created": reloaded.created,
            "signature": reloaded.signature.hex(),
        }


@pytest.mark.parametrize(
    "plain",
    [
        b"Z" * 8 + b"abc" + bytes([0]) * 21,  # no padding octet count
        b"Z" * 8 + b"abc" + bytes([33]) * 21,  # longer than the blob
        b"Z" * 8 + b"abc" + bytes([25]) * 21,  # reaches into the random prefix
        b"Z" * 8 + b"abc" + bytes([3]) * 20 + bytes([4]),  # inconsistent padding octets
    ],
)
def test_signed_keyring_with_undecryptable_password(plain: bytes) -> None:
    body = f'<Interface Type="Tunneling" Password="{_encrypt(plain)}" />'
    with pytest.raises(KeyringFormatError, match="cannot be decrypted"):
        load_keyring(signed(body), SYNTHETIC_PASSWORD)


def test_signed_keyring_with_duplicate_group_key() -> None:
    key = _encrypt(bytes(16))
    body = (
        f'<GroupAddresses><Group Address="1" Key="{key}" />'
        f'<Group Address="0/0/1" Key="{key}" /></GroupAddresses>'
    )
    with pytest.raises(KeyringFormatError, match="two keys"):
        load_keyring(signed(body), SYNTHETIC_PASSWORD)


def test_majority_rule_with_three_password_fields() -> None:
    fields = [encrypted_password(p) for p in ("one-password", "two-password", "three-password")]
    body = "".join(f'<Interface Type="Tunneling" Password="{f}" />' for f in fields)
    document = signed(body)
    assert load_keyring(document, SYNTHETIC_PASSWORD).interfaces[2].password == "three-password"
    # replace the last password field with garbage of the right shape: the file is modified
    garbage = base64.b64encode(bytes(range(100, 132))).decode()
    with pytest.raises(KeyringTamperedError):
        load_keyring(document.replace(fields[2].encode(), garbage.encode()), SYNTHETIC_PASSWORD)
    with pytest.raises(KeyringPasswordError):
        load_keyring(document, WRONG_PASSWORD)


@pytest.mark.parametrize("user_id", [0, 128, 200, 255])
def test_tunnel_with_user_id_outside_1_to_127_still_loads(user_id: int) -> None:
    """The keyring stays readable as ETS wrote it; the client refuses such a tunnel."""
    body = (
        f'<Interface Type="Tunneling" IndividualAddress="2.2.5" Host="2.2.0" UserID="{user_id}" '
        f'Password="{encrypted_password("tunnel")}" />'
    )
    keyring = load_keyring(signed(body), SYNTHETIC_PASSWORD)
    assert keyring.interfaces[0].user_id == user_id


@pytest.mark.parametrize("user_id", [1, 2, 127])
def test_tunnel_user_ids_at_the_limits_load(user_id: int) -> None:
    body = (
        f'<Interface Type="Tunneling" IndividualAddress="2.2.5" Host="2.2.0" UserID="{user_id}" '
        f'Password="{encrypted_password("tunnel")}" />'
        '<Interface Type="USB" UserID="200" />'  # not a tunnel: its UserID is not used
    )
    keyring = load_keyring(signed(body), SYNTHETIC_PASSWORD)
    assert keyring.interfaces[0].user_id == user_id
