"""cEMI L_Data frames (the payload of TUNNELLING_REQUEST and ROUTING_INDICATION).

Layout: ``code(1) add_info_len(1) add_info ctrl1 ctrl2 src(2) dst(2) len(1) tpdu`` where
``len`` is the NPDU length: the octets of the TPDU after its first (TPCI) octet.

ctrl1: bit 7 frame type (1 standard, 0 extended), bit 5 do-not-repeat, bit 4 broadcast,
bits 3-2 priority, bit 1 ack request, bit 0 confirm error (L_Data.con only).
ctrl2: bit 7 address type (1 group), bits 6-4 hop count, bits 3-0 extended frame format.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from enum import IntEnum

from .address import GroupAddress, IndividualAddress
from .errors import FrameError

__all__ = [
    "APCI",
    "GroupApdu",
    "LData",
    "MessageCode",
    "group_value_read",
    "group_value_response",
    "group_value_write",
    "parse",
    "parse_group_apdu",
]


class MessageCode(IntEnum):
    """cEMI message codes of the L_Data service (the only ones this module handles)."""

    L_DATA_REQ = 0x11
    L_DATA_CON = 0x2E
    L_DATA_IND = 0x29


class APCI(IntEnum):
    """Application layer services (10-bit codes; 4-bit services have their low 6 bits clear)."""

    GROUP_VALUE_READ = 0x000
    GROUP_VALUE_RESPONSE = 0x040
    GROUP_VALUE_WRITE = 0x080
    INDIVIDUAL_ADDRESS_WRITE = 0x0C0
    INDIVIDUAL_ADDRESS_READ = 0x100
    INDIVIDUAL_ADDRESS_RESPONSE = 0x140
    ADC_READ = 0x180
    ADC_RESPONSE = 0x1C0
    MEMORY_READ = 0x200
    MEMORY_RESPONSE = 0x240
    MEMORY_WRITE = 0x280
    USER_MEMORY_READ = 0x2C0
    USER_MEMORY_RESPONSE = 0x2C1
    USER_MEMORY_WRITE = 0x2C2
    USER_MANUFACTURER_INFO_READ = 0x2C5
    USER_MANUFACTURER_INFO_RESPONSE = 0x2C6
    FUNCTION_PROPERTY_COMMAND = 0x2C7
    FUNCTION_PROPERTY_STATE_READ = 0x2C8
    FUNCTION_PROPERTY_STATE_RESPONSE = 0x2C9
    DEVICE_DESCRIPTOR_READ = 0x300
    DEVICE_DESCRIPTOR_RESPONSE = 0x340
    RESTART = 0x380
    AUTHORIZE_REQUEST = 0x3D1
    AUTHORIZE_RESPONSE = 0x3D2
    KEY_WRITE = 0x3D3
    KEY_RESPONSE = 0x3D4
    PROPERTY_VALUE_READ = 0x3D5
    PROPERTY_VALUE_RESPONSE = 0x3D6
    PROPERTY_VALUE_WRITE = 0x3D7
    PROPERTY_DESCRIPTION_READ = 0x3D8
    PROPERTY_DESCRIPTION_RESPONSE = 0x3D9
    INDIVIDUAL_ADDRESS_SERIAL_NUMBER_READ = 0x3DC
    INDIVIDUAL_ADDRESS_SERIAL_NUMBER_RESPONSE = 0x3DD
    INDIVIDUAL_ADDRESS_SERIAL_NUMBER_WRITE = 0x3DE
    SECURE_SERVICE = 0x3F1


# ctrl2 octet, src, dst, NPDU length (ctrl1 is handled on its own: encode may change it).
_BODY = struct.Struct(">BHHB")
_TPDU_OFFSET = 1 + _BODY.size  # ctrl1, then ctrl2 src dst len
_MIN_BODY = _TPDU_OFFSET + 1  # ... and at least the TPCI octet

_CODES = {code.value: code for code in MessageCode}
_GROUP_APCIS = {
    APCI.GROUP_VALUE_READ.value: APCI.GROUP_VALUE_READ,
    APCI.GROUP_VALUE_RESPONSE.value: APCI.GROUP_VALUE_RESPONSE,
    APCI.GROUP_VALUE_WRITE.value: APCI.GROUP_VALUE_WRITE,
}

# Address objects by raw value: a bus carries few distinct addresses, and building a
# validated dataclass costs more than the rest of parse. Cleared when it grows too big.
_INDIVIDUAL_ADDRESSES: dict[int, IndividualAddress] = {}
_GROUP_ADDRESSES: dict[int, GroupAddress] = {}
_MAX_CACHED_ADDRESSES = 4096

_CTRL1_STANDARD = 0x80
_CTRL1_CONFIRM_ERROR = 0x01
_CTRL2_GROUP = 0x80
_STANDARD_MAX_NPDU = 15
_MAX_TPDU = 256  # NPDU length is one octet
_MAX_SMALL_VALUE = 0x3F
# The TPCI octet of T_Data_Group (group telegrams): all TPCI bits clear.
_TPCI_DATA_GROUP = 0x00
_TPCI_CONTROL = 0x80
# 4-bit APCI blocks whose low 6 bits are part of a 10-bit service code, not data.
_TEN_BIT_BLOCKS = frozenset({0x2C0, 0x3C0})
# In the ADC_Response block, codes with low bits >= 8 are 10-bit services (0x1C8..0x1FE).
_ADC_RESPONSE_BLOCK = 0x1C0
_ADC_CHANNEL_LIMIT = 0x08


def service_code(tpdu: bytes) -> int:
    """The APCI service code of a TPDU: 4-bit services without their data bits, else 10 bits."""
    raw = ((tpdu[0] & 0x03) << 8) | (tpdu[1] if len(tpdu) > 1 else 0)
    block = raw & 0x3C0
    if block in _TEN_BIT_BLOCKS:
        return raw
    if block == _ADC_RESPONSE_BLOCK and raw & 0x3F >= _ADC_CHANNEL_LIMIT:
        return raw
    return block


@dataclass(frozen=True, slots=True)
class LData:
    """One L_Data.req, .con or .ind frame."""

    code: MessageCode
    src: IndividualAddress
    dst: IndividualAddress | GroupAddress
    tpdu: bytes  # from the TPCI octet on; NPDU length octet = len(tpdu) - 1
    ctrl1: int = 0xBC  # standard frame, do not repeat, broadcast, low priority
    hop_count: int = 6
    add_info: bytes = b""

    @property
    def is_group(self) -> bool:
        return isinstance(self.dst, GroupAddress)

    @property
    def is_extended(self) -> bool:
        """True if encode() writes an L_Data extended frame (ctrl1 bit 7 clear)."""
        return not self.ctrl1 & _CTRL1_STANDARD or len(self.tpdu) - 1 > _STANDARD_MAX_NPDU

    @property
    def tpci(self) -> int:
        """The 6 TPCI bits of the first TPDU octet."""
        return self.tpdu[0] >> 2 if self.tpdu else 0

    @property
    def apci(self) -> int:
        """The APCI service code (see service_code); 0 for an empty TPDU."""
        return service_code(self.tpdu) if self.tpdu else 0

    @property
    def confirmation_ok(self) -> bool:
        """For an L_Data.con: the gateway sent the frame (ctrl1 confirm bit clear)."""
        return not self.ctrl1 & _CTRL1_CONFIRM_ERROR

    def encode(self) -> bytes:
        """The cEMI frame; extended frame type whenever the NPDU exceeds 15 octets."""
        tpdu = self.tpdu
        npdu_length = len(tpdu) - 1
        _check_encodable(self, npdu_length)
        ctrl1 = self.ctrl1
        if npdu_length > _STANDARD_MAX_NPDU:
            ctrl1 &= ~_CTRL1_STANDARD
        ctrl2 = (_CTRL2_GROUP if isinstance(self.dst, GroupAddress) else 0) | self.hop_count << 4
        return b"".join(
            (
                bytes((self.code, len(self.add_info))),
                self.add_info,
                bytes((ctrl1,)),
                _BODY.pack(ctrl2, self.src.raw, self.dst.raw, npdu_length),
                tpdu,
            )
        )

    def confirmation(self, ok: bool = True) -> LData:
        """The L_Data.con a gateway returns for this L_Data.req."""
        ctrl1 = self.ctrl1 & ~_CTRL1_CONFIRM_ERROR
        if not ok:
            ctrl1 |= _CTRL1_CONFIRM_ERROR
        return replace(self, code=MessageCode.L_DATA_CON, ctrl1=ctrl1)

    def with_tpdu(self, tpdu: bytes) -> LData:
        return replace(self, tpdu=tpdu)


def _individual_address(raw: int) -> IndividualAddress:
    address = _INDIVIDUAL_ADDRESSES.get(raw)
    if address is None:
        if len(_INDIVIDUAL_ADDRESSES) >= _MAX_CACHED_ADDRESSES:
            _INDIVIDUAL_ADDRESSES.clear()
        address = _INDIVIDUAL_ADDRESSES[raw] = IndividualAddress(raw)
    return address


def _group_address(raw: int) -> GroupAddress:
    address = _GROUP_ADDRESSES.get(raw)
    if address is None:
        if len(_GROUP_ADDRESSES) >= _MAX_CACHED_ADDRESSES:
            _GROUP_ADDRESSES.clear()
        address = _GROUP_ADDRESSES[raw] = GroupAddress(raw)
    return address


def _check_encodable(frame: LData, npdu_length: int) -> None:
    if frame.code not in _CODES:
        raise FrameError(f"cEMI message code {frame.code:#04x} is not an L_Data code")
    if not 0 <= npdu_length < _MAX_TPDU:
        raise FrameError(f"TPDU must have 1..{_MAX_TPDU} octets, has {len(frame.tpdu)}")
    if len(frame.add_info) > 0xFF:
        raise FrameError(f"cEMI additional info too long: {len(frame.add_info)} octets (max 255)")
    if not 0 <= frame.ctrl1 <= 0xFF:
        raise FrameError(f"ctrl1 {frame.ctrl1} does not fit in one octet")
    if not 0 <= frame.hop_count <= 7:
        raise FrameError(f"hop count {frame.hop_count} is out of range 0..7")


def parse(data: bytes) -> LData:
    """Parse a cEMI L_Data frame; FrameError on anything else or anything malformed."""
    length = len(data)
    if length < 2:
        raise FrameError(f"cEMI frame too short: {length} octets")
    code = _CODES.get(data[0])
    if code is None:
        raise FrameError(f"cEMI message code {data[0]:#04x} is not L_Data (.req/.con/.ind)")
    start = 2 + data[1]  # skip the additional info
    if length < start + _MIN_BODY:
        raise FrameError(
            f"cEMI L_Data too short: {length} octets with {data[1]} octets of additional info"
        )
    ctrl1 = data[start]
    ctrl2, src, dst, npdu_length = _BODY.unpack_from(data, start + 1)
    tpdu = data[start + _TPDU_OFFSET :]
    if len(tpdu) != npdu_length + 1:
        raise FrameError(
            f"cEMI NPDU length says {npdu_length} octets after the TPCI, frame has {len(tpdu) - 1}"
        )
    if ctrl2 & 0x0F:
        # LTE zone addressing: the address fields mean something else entirely.
        raise FrameError(f"cEMI extended frame format {ctrl2 & 0x0F:#x} (LTE) is not supported")
    # Receivers tolerate any frame type bit (3/6/3 §4.1.5.2.3), so ctrl1 is kept as sent.
    return LData(
        code,
        _individual_address(src),
        _group_address(dst) if ctrl2 & _CTRL2_GROUP else _individual_address(dst),
        bytes(tpdu),
        ctrl1,
        (ctrl2 >> 4) & 0x07,  # hop count
        bytes(data[2:start]),  # add_info
    )


# --- group APDUs ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupApdu:
    """A decoded group service: value is None (read), a 6-bit int or the data octets."""

    apci: APCI
    value: int | bytes | None


def _group_tpdu(apci: APCI, value: int | bytes) -> bytes:
    if isinstance(value, int):
        if not 0 <= value <= _MAX_SMALL_VALUE:
            raise FrameError(f"small group value {value} does not fit in 6 bits (0..63)")
        return bytes((_TPCI_DATA_GROUP | apci >> 8, (apci & 0xFF) | value))
    if not value:
        raise FrameError("group value octets are empty: pass an int for a 6-bit value")
    if len(value) > _MAX_TPDU - 2:
        raise FrameError(f"group value too long: {len(value)} octets (max {_MAX_TPDU - 2})")
    return bytes((_TPCI_DATA_GROUP | apci >> 8, apci & 0xFF)) + value


def group_value_write(value: int | bytes) -> bytes:
    """TPDU of a GroupValueWrite; an int is a 6-bit value inside the APCI octet."""
    return _group_tpdu(APCI.GROUP_VALUE_WRITE, value)


def group_value_response(value: int | bytes) -> bytes:
    """TPDU of a GroupValueResponse; an int is a 6-bit value inside the APCI octet."""
    return _group_tpdu(APCI.GROUP_VALUE_RESPONSE, value)


def group_value_read() -> bytes:
    """TPDU of a GroupValueRead."""
    return b"\x00\x00"


def parse_group_apdu(tpdu: bytes) -> GroupApdu:
    """Decode GroupValue Read/Response/Write; TPCI bits are ignored (plain APDU works too)."""
    if len(tpdu) < 2:
        raise FrameError(f"group APDU too short: {len(tpdu)} octets, needs 2")
    if tpdu[0] & _TPCI_CONTROL:
        raise FrameError(f"TPDU {tpdu[0]:#04x} is a transport control frame, not a group APDU")
    apci = _GROUP_APCIS.get(((tpdu[0] & 0x03) << 8) | (tpdu[1] & 0xC0))
    if apci is None:
        raise FrameError(f"APCI {service_code(tpdu):#05x} is not a GroupValue service")
    if apci is APCI.GROUP_VALUE_READ:
        if len(tpdu) != 2:
            raise FrameError(f"GroupValueRead carries data: {len(tpdu)} octets, expected 2")
        return GroupApdu(apci, None)
    if len(tpdu) == 2:
        return GroupApdu(apci, tpdu[1] & _MAX_SMALL_VALUE)
    return GroupApdu(apci, bytes(tpdu[2:]))
