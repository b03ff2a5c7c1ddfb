"""KNX Data Secure: the secure APDU codec, the key table and the cEMI-level DataSecure.

The sequence numbers (outgoing counter, freshness table, drops) live in
``data_secure_sequence``; their names are re-exported here so callers import one module.

Secure TPDU layout (APCI 0x3F1, "A_SecureService"):
``TPCI|03 F1 | SCF | seq(6) | [serial(6): sync.req] | enc(APDU) | enc(MAC4)``.
KNX cuts the CBC-MAC to 4 octets *before* the CTR encryption, so one keystream starting
at ctr0 covers ``MAC4 ‖ APDU`` and the APDU uses keystream octets S0[4..15], S1, ...
(not textbook CCM; a real device frame only verifies this way).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from .address import GroupAddress, IndividualAddress
from .cemi import LData
from .crypto import ccm_cipher
from .data_secure_sequence import (
    DEFAULT_COUNTER_MARGIN,
    DEFAULT_RESERVATION,
    MAX_SEQUENCE,
    SEQUENCE_EPOCH_MS,
    Dropped,
    FreshnessTable,
    SequenceCounter,
    sequence_clock,
    unix_ms,
)
from .drops import DropReason
from .errors import (
    DataSecureError,
    DataSecureMacError,
    FrameError,
)

if TYPE_CHECKING:
    from .keyring import Keyring

__all__ = [
    "APCI_SECURE",
    "DEFAULT_COUNTER_MARGIN",
    "DEFAULT_RESERVATION",
    "MAX_SEQUENCE",
    "SCF_GROUP",
    "SCF_TOOL_ACCESS",
    "SEQUENCE_EPOCH_MS",
    "DataSecure",
    "DecryptedApdu",
    "Dropped",
    "FreshnessTable",
    "SecureApdu",
    "SecureService",
    "SecurityControl",
    "SequenceCounter",
    "decrypt_secure_apdu",
    "decrypt_tpdu",
    "encrypt_tpdu",
    "is_secure_tpdu",
    "parse_secure_tpdu",
    "plain_apdu",
    "sequence_clock",
    "unix_ms",
]

_LOGGER = logging.getLogger(__name__)

APCI_SECURE = 0x3F1
SCF_GROUP = 0x10  # S-A_Data, authentication + confidentiality
SCF_TOOL_ACCESS = 0x90  # the same with the tool key (point-to-point management)

_SEQ_LENGTH = 6
_SERIAL_LENGTH = 6
_MAC_LENGTH = 4
_HEADER_LENGTH = 3  # TPCI/APCI octet, APCI octet, SCF
_SYNC_REQUEST_PAYLOAD = 6  # the challenge
_SYNC_RESPONSE_PAYLOAD = 12  # responder's and requester's next sequence numbers
_STANDARD_MAX_NPDU = 15
# The NPDU length is one octet (TPDU <= 256): header, seq and MAC take 13 of them.
_MAX_APDU = 256 - _HEADER_LENGTH - _SEQ_LENGTH - _MAC_LENGTH
_CTRL1_STANDARD = 0x80
_ADDRESS_TYPE_GROUP = 0x80
# B0: nonce(6) src(2) dst(2) 00 flags first-octet APCI-low 00 length; ctr0 shares its head
_BLOCK0 = struct.Struct(">6sHHxBBBxB")
_COUNTER0_HEAD = 10
# TPCI/APCI octet, APCI octet, SCF, the sequence field (6)
_SECURE_HEAD = struct.Struct(">BBB6s")
_COUNTER0_TAIL = b"\x00\x00\x00\x00\x01\x00"
_APCI_SECURE_HIGH = APCI_SECURE >> 8  # the low 2 bits of the TPDU's first octet
_APCI_SECURE_LOW = APCI_SECURE & 0xFF  # its second octet
_BODY_START = _HEADER_LENGTH + _SEQ_LENGTH
_MIN_SECURE_TPDU = _BODY_START + _MAC_LENGTH
# One-octet bytes objects: the associated data (the SCF) without building one per frame.
_OCTETS = tuple(bytes((value,)) for value in range(256))


class SecureService(IntEnum):
    """The S-AL service in the low 3 bits of the SCF."""

    DATA = 0  # S-A_Data
    SYNC_REQUEST = 2
    SYNC_RESPONSE = 3


class SecurityAlgorithm(IntEnum):
    """The SAI bits of the SCF."""

    AUTHENTICATION = 0  # authentication only (stacks disagree on it: not supported)
    AUTHENTICATION_CONFIDENTIALITY = 1


@dataclass(frozen=True, slots=True)
class SecurityControl:
    """The security control field (SCF) of a secure APDU."""

    tool_access: bool
    algorithm: SecurityAlgorithm
    system_broadcast: bool
    service: SecureService

    @classmethod
    def from_octet(cls, scf: int) -> SecurityControl:
        """Decode; FrameError on a reserved algorithm or service."""
        control = _CONTROLS.get(scf)
        return control if control is not None else cls._decode(scf)

    @classmethod
    def _decode(cls, scf: int) -> SecurityControl:
        """from_octet without the table of valid octets (builds it; raises for the rest)."""
        try:
            algorithm = SecurityAlgorithm((scf >> 4) & 0x07)
        except ValueError:
            raise FrameError(f"secure APDU with reserved algorithm in SCF {scf:#04x}") from None
        try:
            service = SecureService(scf & 0x07)
        except ValueError:
            raise FrameError(f"secure APDU with reserved service in SCF {scf:#04x}") from None
        return cls(bool(scf & 0x80), algorithm, bool(scf & 0x08), service)

    def to_octet(self) -> int:
        return (
            self.tool_access << 7 | self.algorithm << 4 | self.system_broadcast << 3 | self.service
        )


def _valid_controls() -> dict[int, SecurityControl]:
    # SCF: tool access (bit 7), algorithm (bits 6-4), system broadcast (bit 3), service.
    octets = (
        flags | algorithm << 4 | service
        for flags in (0x00, 0x08, 0x80, 0x88)
        for algorithm in SecurityAlgorithm
        for service in SecureService
    )
    return {scf: SecurityControl._decode(scf) for scf in octets}


# Every valid SCF decoded once: a frame needs its control several times.
_CONTROLS = _valid_controls()
# The SCFs DataSecure opens: S-A_Data with authentication + confidentiality, not a
# system broadcast, with or without tool access.
_HANDLED_SCF = frozenset(
    scf
    for scf, control in _CONTROLS.items()
    if control.service is SecureService.DATA
    and not control.system_broadcast
    and control.algorithm is SecurityAlgorithm.AUTHENTICATION_CONFIDENTIALITY
)


@dataclass(frozen=True, slots=True)
class SecureApdu:
    """The fields of a secure TPDU as sent (payload and MAC still encrypted)."""

    tpci: int  # the 6 TPCI bits of the first octet
    scf: int
    sequence: int  # for a sync.res: the challenge XOR the responder's random
    serial: bytes | None  # sync.req only
    encrypted_apdu: bytes
    mac: bytes  # 4 octets, encrypted

    @property
    def control(self) -> SecurityControl:
        return SecurityControl.from_octet(self.scf)


@dataclass(frozen=True, slots=True)
class DecryptedApdu:
    """A verified and decrypted secure APDU."""

    scf: int
    sequence: int  # as on the wire (see SecureApdu.sequence)
    apdu: bytes  # plain APDU (TPCI bits clear); sync.req: challenge; sync.res: two seqs
    serial: bytes | None = None

    @property
    def control(self) -> SecurityControl:
        return SecurityControl.from_octet(self.scf)


# --- TPDU codec ---------------------------------------------------------------------------


def is_secure_tpdu(tpdu: bytes) -> bool:
    """True if the TPDU carries A_SecureService (APCI 0x3F1)."""
    # the same as service_code(tpdu) == APCI_SECURE: 0x3F1 is a 10-bit code
    return len(tpdu) >= 2 and tpdu[1] == APCI_SECURE & 0xFF and tpdu[0] & 0x03 == APCI_SECURE >> 8


def plain_apdu(tpdu: bytes) -> bytes:
    """The APDU of a plain TPDU: the TPCI bits cleared (``00 81`` = write ON)."""
    if not tpdu:
        raise FrameError("empty TPDU has no APDU")
    return bytes((tpdu[0] & 0x03,)) + tpdu[1:]


def _payload_length(control: SecurityControl, available: int) -> int:
    if control.service is SecureService.SYNC_REQUEST:
        expected = _SERIAL_LENGTH + _SYNC_REQUEST_PAYLOAD
    elif control.service is SecureService.SYNC_RESPONSE:
        expected = _SYNC_RESPONSE_PAYLOAD
    else:
        if available < 1:
            raise FrameError("secure APDU is truncated: no payload between sequence and MAC")
        return available
    if available != expected:
        raise FrameError(
            f"secure {control.service.name} has {available} payload octets, expected {expected}"
        )
    return available


def parse_secure_tpdu(tpdu: bytes) -> SecureApdu:
    """Split a secure TPDU into its fields; FrameError if it is not one or is malformed."""
    _control, sequence, serial, body, mac = _split_secure_tpdu(tpdu)
    return SecureApdu(
        tpci=tpdu[0] >> 2,
        scf=tpdu[2],
        sequence=sequence,
        serial=serial,
        encrypted_apdu=bytes(body),
        mac=bytes(mac),
    )


# control, sequence, serial, encrypted APDU, encrypted MAC
type _SecureParts = tuple[SecurityControl, int, bytes | None, bytes, bytes]


def _split_secure_tpdu(tpdu: bytes) -> _SecureParts:
    """parse_secure_tpdu without building a SecureApdu (the receive path needs none):
    control, sequence, serial, encrypted APDU, encrypted MAC."""
    if not is_secure_tpdu(tpdu):
        raise FrameError("TPDU is not a secure APDU (APCI 0x3F1)")
    return _split_known_secure(tpdu)


def _split_known_secure(tpdu: bytes) -> _SecureParts:
    """_split_secure_tpdu of a TPDU known to carry A_SecureService."""
    if len(tpdu) < _MIN_SECURE_TPDU:
        raise FrameError(f"secure APDU is truncated: {len(tpdu)} octets")
    control = _CONTROLS.get(tpdu[2]) or SecurityControl.from_octet(tpdu[2])
    body = tpdu[_BODY_START:-_MAC_LENGTH]
    serial = None
    if control.service is SecureService.DATA:
        if not body:  # the common case, checked without _payload_length
            _payload_length(control, 0)
    else:
        _payload_length(control, len(body))
        if control.service is SecureService.SYNC_REQUEST:
            serial, body = bytes(body[:_SERIAL_LENGTH]), body[_SERIAL_LENGTH:]
    sequence = int.from_bytes(tpdu[_HEADER_LENGTH:_BODY_START])
    return control, sequence, serial, body, tpdu[-_MAC_LENGTH:]


def _blocks(
    nonce: bytes,
    src: IndividualAddress,
    dst: IndividualAddress | GroupAddress,
    *,
    frame_format: int,
    first_octet: int,
    length: int,
) -> tuple[bytes, bytes]:
    """B0 and ctr0 of a secure APDU's CCM: both are nonce ‖ src ‖ dst ‖ a tail."""
    # Of the control fields only ctrl2's address type and extended frame format are
    # protected; frame type, priority, repeat flag and hop count may change on the way.
    flags = (_ADDRESS_TYPE_GROUP if dst.__class__ is GroupAddress else 0) | (frame_format & 0x0F)
    block0 = _BLOCK0.pack(nonce, src.raw, dst.raw, flags, first_octet, _APCI_SECURE_LOW, length)
    return block0, block0[:_COUNTER0_HEAD] + _COUNTER0_TAIL


def _associated_data(scf: int, serial: bytes | None) -> bytes:
    return _OCTETS[scf] + serial if serial else _OCTETS[scf]


def _seal(
    key: bytes,
    *,
    nonce: bytes,
    field: bytes,
    src: IndividualAddress,
    dst: IndividualAddress | GroupAddress,
    frame_format: int,
    first_octet: int,
    scf: int,
    serial: bytes | None,
    apdu: bytes,
) -> bytes:
    """The secure TPDU of `apdu` (checked by the caller); `field` is what the wire carries
    in the sequence field (the nonce, or for a sync.res the nonce XOR the challenge)."""
    block0, counter0 = _blocks(
        nonce, src, dst, frame_format=frame_format, first_octet=first_octet, length=len(apdu)
    )
    sealed = ccm_cipher(key).seal(
        block0, counter0, _associated_data(scf, serial), apdu, _MAC_LENGTH
    )
    # sealed is enc(APDU) || enc(MAC4), the wire's order
    head = _SECURE_HEAD.pack(first_octet, _APCI_SECURE_LOW, scf, field)
    return head + serial + sealed if serial else head + sealed


def _unseal(
    key: bytes,
    *,
    nonce: bytes,
    src: IndividualAddress,
    dst: IndividualAddress | GroupAddress,
    frame_format: int,
    first_octet: int,
    scf: int,
    serial: bytes | None,
    sealed: bytes,
) -> bytes | None:
    """Verify and decrypt ``enc(APDU) ‖ enc(MAC4)`` (the wire's order): the plain APDU, None
    if the MAC does not verify (the caller checked the control field)."""
    length = max(len(sealed) - _MAC_LENGTH, 0)
    block0, counter0 = _blocks(
        nonce, src, dst, frame_format=frame_format, first_octet=first_octet, length=length
    )
    return ccm_cipher(key).open(
        block0, counter0, _associated_data(scf, serial), sealed, _MAC_LENGTH
    )


def _check_sequence(value: int, what: str) -> None:
    if not 0 <= value <= MAX_SEQUENCE:
        raise DataSecureError(f"{what} {value} does not fit in 48 bits")


def encrypt_tpdu(
    key: bytes,
    *,
    src: IndividualAddress,
    dst: IndividualAddress | GroupAddress,
    tpci: int,
    sequence: int,
    apdu: bytes,
    scf: int = SCF_GROUP,
    frame_format: int = 0,
    serial: bytes | None = None,
    challenge: int | None = None,
) -> bytes:
    """A secure TPDU carrying `apdu` (authentication + confidentiality).

    `tpci` is the 6-bit TPCI of the frame; `frame_format` the extended frame format
    nibble of ctrl2 (0 for standard and ordinary extended frames: the frame type bit
    is not protected). Sync services: a sync.req needs the target's `serial` (zeros
    for point-to-point) and `apdu` = challenge(6); a sync.res takes `sequence` as the
    responder's random, `challenge` from the request and `apdu` = two sequences (12).
    """
    control = SecurityControl.from_octet(scf)
    if control.algorithm is not SecurityAlgorithm.AUTHENTICATION_CONFIDENTIALITY:
        raise DataSecureError("only authentication + confidentiality (SAI 1) is supported")
    if not 0 <= tpci <= 0x3F:
        raise DataSecureError(f"TPCI {tpci} does not fit in 6 bits")
    _check_sequence(sequence, "sequence number")
    if not 1 <= len(apdu) <= _MAX_APDU:
        raise DataSecureError(f"APDU of {len(apdu)} octets cannot be secured")
    serial = _sync_serial(control, serial)
    _payload_length(control, len(apdu) + (len(serial) if serial else 0))
    nonce = sequence.to_bytes(_SEQ_LENGTH)
    field = nonce
    if control.service is SecureService.SYNC_RESPONSE:
        if challenge is None:
            raise DataSecureError("a sync.res needs the challenge of its sync.req")
        _check_sequence(challenge, "challenge")
        field = (sequence ^ challenge).to_bytes(_SEQ_LENGTH)
    return _seal(
        key,
        nonce=nonce,
        field=field,
        src=src,
        dst=dst,
        frame_format=frame_format,
        first_octet=tpci << 2 | _APCI_SECURE_HIGH,
        scf=scf,
        serial=serial,
        apdu=apdu,
    )


def _sync_serial(control: SecurityControl, serial: bytes | None) -> bytes | None:
    if control.service is not SecureService.SYNC_REQUEST:
        if serial is not None:
            raise DataSecureError("only a sync.req carries a serial number")
        return None
    serial = bytes(_SERIAL_LENGTH) if serial is None else serial
    if len(serial) != _SERIAL_LENGTH:
        raise DataSecureError("a serial number has 6 octets")
    return serial


def decrypt_tpdu(
    key: bytes,
    *,
    src: IndividualAddress,
    dst: IndividualAddress | GroupAddress,
    tpdu: bytes,
    frame_format: int = 0,
    challenge: int | None = None,
) -> DecryptedApdu:
    """Verify and decrypt a secure TPDU.

    FrameError if malformed, DataSecureMacError if the MAC does not verify,
    DataSecureError for authentication-only APDUs or a sync.res without `challenge`.
    """
    secure = parse_secure_tpdu(tpdu)
    return decrypt_secure_apdu(
        key, secure, src=src, dst=dst, frame_format=frame_format, challenge=challenge
    )


def decrypt_secure_apdu(
    key: bytes,
    secure: SecureApdu,
    *,
    src: IndividualAddress,
    dst: IndividualAddress | GroupAddress,
    frame_format: int = 0,
    challenge: int | None = None,
) -> DecryptedApdu:
    """decrypt_tpdu for an already parsed secure APDU."""
    control = secure.control
    if control.algorithm is not SecurityAlgorithm.AUTHENTICATION_CONFIDENTIALITY:
        raise DataSecureError("authentication-only secure APDUs are not supported")
    nonce_value = secure.sequence
    if control.service is SecureService.SYNC_RESPONSE:
        if challenge is None:
            raise DataSecureError("a sync.res can only be verified with its sync.req's challenge")
        _check_sequence(challenge, "challenge")
        nonce_value ^= challenge
    apdu = _unseal(
        key,
        nonce=nonce_value.to_bytes(_SEQ_LENGTH),
        src=src,
        dst=dst,
        frame_format=frame_format,
        first_octet=secure.tpci << 2 | _APCI_SECURE_HIGH,
        scf=secure.scf,
        serial=secure.serial,
        sealed=secure.encrypted_apdu + secure.mac,
    )
    if apdu is None:
        raise DataSecureMacError(f"Data Secure MAC mismatch on {src} -> {dst}")
    return DecryptedApdu(secure.scf, secure.sequence, apdu, secure.serial)


# --- cEMI level -------------------------------------------------------------------------------


def _with_frame_type(frame: LData, tpdu: bytes, src: IndividualAddress | None = None) -> LData:
    """`frame` carrying `tpdu` (and from `src`), with the frame type bit that fits its length."""
    if len(tpdu) - 1 > _STANDARD_MAX_NPDU:
        ctrl1 = frame.ctrl1 & ~_CTRL1_STANDARD
    else:
        ctrl1 = frame.ctrl1 | _CTRL1_STANDARD
    # direct construction: dataclasses.replace costs several times as much per frame
    return LData(
        frame.code,
        frame.src if src is None else src,
        frame.dst,
        tpdu,
        ctrl1,
        frame.hop_count,
        frame.add_info,
    )


class DataSecure:
    """Data Secure for cEMI L_Data frames: GA keys and device tool keys from a keyring.

    Outgoing group telegrams to a GA with a key are secured with `counter`; incoming
    secure telegrams are verified, checked for freshness and decrypted. Point-to-point
    frames are opened with the tool key of the sender (or receiver) and have their own
    freshness table; outgoing point-to-point frames stay plain.
    """

    __slots__ = (
        "_counter",
        "_freshness",
        "_group_keys",
        "_individual_address",
        "_tool_freshness",
        "_tool_keys",
    )

    def __init__(
        self,
        *,
        group_keys: Mapping[GroupAddress, bytes],
        counter: SequenceCounter,
        freshness: FreshnessTable,
        tool_keys: Mapping[IndividualAddress, bytes] | None = None,
        tool_freshness: FreshnessTable | None = None,
        individual_address: IndividualAddress | None = None,
    ) -> None:
        # keyed by the GA's raw int (cheaper to hash than the dataclass)
        self._group_keys = {ga.raw: key for ga, key in group_keys.items()}
        self._tool_keys = dict(tool_keys or {})
        self._counter = counter
        self._freshness = freshness
        self._tool_freshness = tool_freshness if tool_freshness is not None else FreshnessTable()
        self._individual_address = individual_address

    @classmethod
    def from_keyring(
        cls,
        keyring: Keyring,
        *,
        counter: SequenceCounter,
        freshness: FreshnessTable,
        tool_freshness: FreshnessTable | None = None,
        individual_address: IndividualAddress | None = None,
    ) -> DataSecure:
        """Keys of `keyring`.

        `freshness` is usually ``FreshnessTable(keyring.sender_sequence_numbers())``.
        """
        return cls(
            group_keys=keyring.group_keys,
            tool_keys={
                d.individual_address: d.tool_key for d in keyring.devices if d.tool_key is not None
            },
            counter=counter,
            freshness=freshness,
            tool_freshness=tool_freshness,
            individual_address=individual_address,
        )

    @property
    def individual_address(self) -> IndividualAddress | None:
        """Our source address (the tunnel's, from CONNECT_RESPONSE); it is inside the MAC."""
        return self._individual_address

    @individual_address.setter
    def individual_address(self, address: IndividualAddress | None) -> None:
        self._individual_address = address

    @property
    def freshness(self) -> FreshnessTable:
        return self._freshness

    def requires_security(self, dst: IndividualAddress | GroupAddress) -> bool:
        """True if telegrams to `dst` must be secure (a GA with a key)."""
        return dst.__class__ is GroupAddress and dst.raw in self._group_keys

    def secure_outgoing(self, frame: LData) -> LData:
        """Secure a plain frame whose destination has a key; others pass unchanged."""
        dst = frame.dst
        tpdu = frame.tpdu
        key = self._group_keys.get(dst.raw) if dst.__class__ is GroupAddress else None
        if key is None or not tpdu or is_secure_tpdu(tpdu):
            return frame
        if len(tpdu) > _MAX_APDU:
            raise DataSecureError(f"APDU of {len(tpdu)} octets cannot be secured")
        src = self._outgoing_source(frame.src)
        nonce = self._counter.next().to_bytes(_SEQ_LENGTH)
        first = tpdu[0]
        secured = _seal(
            key,
            nonce=nonce,
            field=nonce,
            src=src,
            dst=dst,
            frame_format=0,
            first_octet=(first & 0xFC) | _APCI_SECURE_HIGH,
            scf=SCF_GROUP,
            serial=None,
            apdu=_OCTETS[first & 0x03] + tpdu[1:],  # plain_apdu() of a non-empty TPDU
        )
        return _with_frame_type(frame, secured, src)

    def _outgoing_source(self, src: IndividualAddress) -> IndividualAddress:
        # The gateway fills in 0.0.0 after the MAC was computed: it must be ours already.
        own = self._individual_address
        if src.raw == 0:
            if own is None:
                raise DataSecureError(
                    "a secure telegram needs the tunnel's individual address as source"
                )
            return own
        if own is not None and src.raw != own.raw:  # raw: cheaper than dataclass ==
            raise DataSecureError(
                f"a secure telegram from {src} would not verify: the tunnel's address is {own}"
            )
        return src

    def open_incoming(self, frame: LData) -> LData | Dropped:
        """The plain frame when accepted, else why it is dropped (never raises).

        Secure frames are verified, checked for freshness and decrypted; plain frames pass
        unless their GA has a key (PLAIN).
        """
        tpdu = frame.tpdu
        if not is_secure_tpdu(tpdu):
            if self.requires_security(frame.dst):
                return Dropped(
                    DropReason.PLAIN,
                    f"plain telegram from {frame.src} to {frame.dst}: the GA has a key",
                )
            return frame
        try:
            fields = _split_known_secure(tpdu)
        except FrameError as err:
            return Dropped(DropReason.MALFORMED, str(err))
        opened = self._open(frame, fields)
        if isinstance(opened, Dropped):
            return opened
        plain, control, sequence, _apdu = opened
        table = self._tool_freshness if control.tool_access else self._freshness
        return table.admit(frame.src, sequence) or plain

    def decrypt(self, frame: LData) -> tuple[LData, DecryptedApdu]:
        """Verify and decrypt a secure S-A_Data frame without any freshness check (a tool's
        view of one frame): raises FrameError or the DataSecureError of the drop."""
        opened = self._open(frame, _split_secure_tpdu(frame.tpdu))
        if isinstance(opened, Dropped):
            raise opened.to_error()
        plain, _control, sequence, apdu = opened
        return plain, DecryptedApdu(frame.tpdu[2], sequence, apdu)

    def _open(
        self, frame: LData, parts: _SecureParts
    ) -> tuple[LData, SecurityControl, int, bytes] | Dropped:
        """Verify and decrypt the parts of a secure TPDU: plain frame, control, sequence,
        plain APDU; or the drop."""
        control, sequence, serial, body, mac = parts
        src, dst = frame.src, frame.dst
        tpdu = frame.tpdu
        if tpdu[2] not in _HANDLED_SCF:
            return Dropped(
                DropReason.MALFORMED,
                f"secure {control.service.name} ({control.algorithm.name}) from {src} is not"
                " handled",
            )
        # the common case without a call: a group telegram to a GA with a key
        key = (
            self._group_keys.get(dst.raw)
            if tpdu[2] == SCF_GROUP and dst.__class__ is GroupAddress
            else None
        ) or self._key(src, dst, tool_access=control.tool_access)
        if isinstance(key, Dropped):
            return key
        apdu = _unseal(
            key,
            nonce=tpdu[_HEADER_LENGTH:_BODY_START],
            src=src,
            dst=dst,
            frame_format=0,
            first_octet=tpdu[0],
            scf=tpdu[2],
            serial=serial,
            sealed=body + mac,
        )
        if apdu is None:
            return Dropped(DropReason.MAC, f"Data Secure MAC mismatch on {src} -> {dst}")
        plain_tpdu = bytes(((tpdu[0] & 0xFC) | (apdu[0] & 0x03),)) + apdu[1:]
        return _with_frame_type(frame, plain_tpdu), control, sequence, apdu

    def key_for(
        self,
        src: IndividualAddress,
        dst: IndividualAddress | GroupAddress,
        *,
        tool_access: bool,
    ) -> bytes:
        """The key of a secure frame: the GA key, or a device tool key point-to-point
        (raises the DataSecureError of the drop when there is none)."""
        key = self._key(src, dst, tool_access=tool_access)
        if isinstance(key, Dropped):
            raise key.to_error()
        return key

    def _key(
        self,
        src: IndividualAddress,
        dst: IndividualAddress | GroupAddress,
        *,
        tool_access: bool,
    ) -> bytes | Dropped:
        if isinstance(dst, GroupAddress):
            if tool_access:
                return Dropped(
                    DropReason.MALFORMED, f"group telegram {src} -> {dst} with tool access"
                )
            key = self._group_keys.get(dst.raw)
            if key is None:
                return Dropped(DropReason.NO_KEY, f"no Data Secure key for group address {dst}")
            return key
        if not tool_access:
            return Dropped(DropReason.NO_KEY, f"no point-to-point key for {src} -> {dst}")
        key = self._tool_keys.get(src) or self._tool_keys.get(dst)
        if key is None:
            return Dropped(DropReason.NO_KEY, f"no tool key for {src} or {dst} in the keyring")
        return key
