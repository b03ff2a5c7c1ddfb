"""The KNXnet/IP wire format's constants, codes and encoding helpers (one place for each).

A frame on the wire is ``06 10 <service(2)> <total length(2)> <body>``.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import Final

from ..errors import FrameError

HEADER_LENGTH = 6
PROTOCOL_VERSION = 0x10
#: The KNXnet/IP port (UDP search and description, TCP tunnelling) unless configured else.
PORT: Final = 3671
#: The KNXnet/IP system setup multicast address (search requests, routing).
SYSTEM_MULTICAST_ADDRESS: Final = "224.0.23.12"
#: The header ``06 10 <service(2)> <total length(2)>``, and where its fields lie.
HEADER = struct.Struct(">BBHH")
HEADER_START: Final = bytes((HEADER_LENGTH, PROTOCOL_VERSION))
HEADER_SERVICE: Final = slice(2, 4)
HEADER_TOTAL_LENGTH: Final = slice(4, 6)
MAX_TOTAL_LENGTH = 0xFFFF
#: Lengths shared by several structures (KNXnet/IP Secure).
MAC_LENGTH: Final = 16
PUBLIC_KEY_LENGTH: Final = 32
SERIAL_LENGTH: Final = 6
SEQUENCE_LENGTH: Final = 6
#: The highest value of that 6-octet field: a wrapper's sequence number, a routing timer.
MAX_SEQUENCE: Final = (1 << 8 * SEQUENCE_LENGTH) - 1
#: Version of the tunnelling service family that tunnels over TCP (KNXnet/IP 2.0).
TUNNELLING_TCP_VERSION: Final = 2


# --- codes -------------------------------------------------------------------------


class ServiceType(IntEnum):
    """KNXnet/IP service type identifiers."""

    SEARCH_REQUEST = 0x0201
    SEARCH_RESPONSE = 0x0202
    DESCRIPTION_REQUEST = 0x0203
    DESCRIPTION_RESPONSE = 0x0204
    CONNECT_REQUEST = 0x0205
    CONNECT_RESPONSE = 0x0206
    CONNECTIONSTATE_REQUEST = 0x0207
    CONNECTIONSTATE_RESPONSE = 0x0208
    DISCONNECT_REQUEST = 0x0209
    DISCONNECT_RESPONSE = 0x020A
    SEARCH_REQUEST_EXTENDED = 0x020B
    SEARCH_RESPONSE_EXTENDED = 0x020C
    TUNNELLING_REQUEST = 0x0420
    TUNNELLING_ACK = 0x0421
    TUNNELLING_FEATURE_GET = 0x0422
    TUNNELLING_FEATURE_RESPONSE = 0x0423
    TUNNELLING_FEATURE_SET = 0x0424
    TUNNELLING_FEATURE_INFO = 0x0425
    ROUTING_INDICATION = 0x0530
    ROUTING_LOST_MESSAGE = 0x0531
    ROUTING_BUSY = 0x0532
    SECURE_WRAPPER = 0x0950
    SESSION_REQUEST = 0x0951
    SESSION_RESPONSE = 0x0952
    SESSION_AUTHENTICATE = 0x0953
    SESSION_STATUS = 0x0954
    TIMER_NOTIFY = 0x0955


class ErrorCode(IntEnum):
    """Status / error codes of responses and acks. Unknown codes become UNKNOWN_0x.. members."""

    E_NO_ERROR = 0x00
    E_HOST_PROTOCOL_TYPE = 0x01
    E_VERSION_NOT_SUPPORTED = 0x02
    E_SEQUENCE_NUMBER = 0x04
    E_CONNECTION_ID = 0x21
    E_CONNECTION_TYPE = 0x22
    E_CONNECTION_OPTION = 0x23
    E_NO_MORE_CONNECTIONS = 0x24
    E_NO_MORE_UNIQUE_CONNECTIONS = 0x25
    E_DATA_CONNECTION = 0x26
    E_KNX_CONNECTION = 0x27
    E_AUTHORISATION_ERROR = 0x28
    E_TUNNELLING_LAYER = 0x29

    @classmethod
    def _missing_(cls, value: object) -> ErrorCode | None:
        # A vendor's code we do not know must not make the whole response unparseable:
        # keep it as a pseudo-member so the caller can report it.
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFF:
            member = int.__new__(cls, value)
            member._name_ = f"UNKNOWN_{value:#04x}"
            member._value_ = value
            return member
        return None


class SessionStatusCode(IntEnum):
    """SESSION_STATUS codes."""

    AUTHENTICATION_SUCCESS = 0x00
    AUTHENTICATION_FAILED = 0x01
    UNAUTHENTICATED = 0x02
    TIMEOUT = 0x03
    KEEPALIVE = 0x04
    CLOSE = 0x05


class HostProtocol(IntEnum):
    """HPAI host protocol."""

    UDP = 0x01
    TCP = 0x02


class ConnectionType(IntEnum):
    """CRI/CRD connection types."""

    DEVICE_MANAGEMENT = 0x03
    TUNNEL = 0x04
    REMOTE_LOGGING = 0x06
    REMOTE_CONFIGURATION = 0x07
    OBJECT_SERVER = 0x08


class TunnellingLayer(IntEnum):
    """CRI KNX layer of a tunnel connection."""

    LINK_LAYER = 0x02
    RAW = 0x04
    BUSMONITOR = 0x80


class DIBType(IntEnum):
    """Description information block types."""

    DEVICE_INFO = 0x01
    SUPPORTED_SERVICE_FAMILIES = 0x02
    IP_CONFIG = 0x03
    IP_CURRENT_CONFIG = 0x04
    KNX_ADDRESSES = 0x05
    SECURED_SERVICE_FAMILIES = 0x06
    TUNNELLING_INFO = 0x07
    EXTENDED_DEVICE_INFO = 0x08
    MANUFACTURER_DATA = 0xFE


class ServiceFamily(IntEnum):
    """Service family ids inside the service family DIBs."""

    CORE = 0x02
    DEVICE_MANAGEMENT = 0x03
    TUNNELLING = 0x04
    ROUTING = 0x05
    REMOTE_LOGGING = 0x06
    REMOTE_CONFIGURATION = 0x07
    OBJECT_SERVER = 0x08
    SECURITY = 0x09


class KNXMedium(IntEnum):
    """Device info DIB medium codes."""

    TP1 = 0x02
    PL110 = 0x04
    RF = 0x10
    IP = 0x20


class TunnellingFeatureId(IntEnum):
    """Interface feature ids of the TUNNELLING_FEATURE services."""

    SUPPORTED_EMI_TYPE = 0x01
    DEVICE_DESCRIPTOR_TYPE_0 = 0x02
    BUS_CONNECTION_STATUS = 0x03
    MANUFACTURER_CODE = 0x04
    ACTIVE_EMI_TYPE = 0x05
    INDIVIDUAL_ADDRESS = 0x06
    MAX_APDU_LENGTH = 0x07
    INFO_SERVICE_ENABLE = 0x08


# Plain dict lookups: cheaper than Enum.__call__ on every frame.
_ERROR_CODES = {code.value: code for code in ErrorCode}
_SESSION_STATUS_CODES = {code.value: code for code in SessionStatusCode}
_HOST_PROTOCOLS = {protocol.value: protocol for protocol in HostProtocol}


def _error_code(value: int) -> ErrorCode:
    code = _ERROR_CODES.get(value)
    return code if code is not None else ErrorCode(value)


# --- encoding helpers (explicit range checks: encode never raises struct.error) -------


def _u8(value: int, what: str) -> int:
    if not 0 <= value <= 0xFF:
        raise FrameError(f"{what} {value} does not fit in one octet")
    return value


def _uint(value: int, size: int, what: str) -> bytes:
    if not 0 <= value < 1 << (8 * size):
        raise FrameError(f"{what} {value} does not fit in {size} octets")
    return value.to_bytes(size, "big")


def _fixed(value: bytes, size: int, what: str) -> bytes:
    if len(value) != size:
        raise FrameError(f"{what} must be {size} octets, is {len(value)}")
    return value


def _expect_length(body: bytes, size: int, what: str) -> None:
    if len(body) != size:
        raise FrameError(f"{what} body must be {size} octets, is {len(body)}")


def _expect_at_least(body: bytes, size: int, what: str) -> None:
    if len(body) < size:
        raise FrameError(f"{what} body too short: {len(body)} octets, needs at least {size}")


# --- the header ------------------------------------------------------------------------


def check_header(header_length: int, version: int, total: int) -> None:
    """Raise the precise FrameError for a header that is not ``06 10 .. .. >=6``."""
    if header_length != HEADER_LENGTH:
        raise FrameError(f"KNXnet/IP header length must be 6, is {header_length}")
    if version != PROTOCOL_VERSION:
        raise FrameError(f"KNXnet/IP protocol version must be 0x10, is {version:#04x}")
    if total < HEADER_LENGTH:
        raise FrameError(f"KNXnet/IP total length {total} is shorter than the header")


def frame_length(buffer: bytes | bytearray | memoryview, offset: int = 0) -> int | None:
    """Total length of the frame starting at ``offset`` of a stream buffer; None if fewer
    than 6 octets are there. Reads the header in place (no copy)."""
    if len(buffer) - offset < HEADER_LENGTH:
        return None
    header_length, version, _service, total = HEADER.unpack_from(buffer, offset)
    if header_length != HEADER_LENGTH or version != PROTOCOL_VERSION or total < HEADER_LENGTH:
        check_header(header_length, version, total)
    return int(total)


def service_of(frame: bytes) -> int:
    """The service code in a frame's header (the caller checked it has one)."""
    return int.from_bytes(frame[HEADER_SERVICE], "big")
