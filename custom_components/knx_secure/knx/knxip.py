"""KNXnet/IP frames: header, structures (HPAI, CRI, CRD, DIBs) and every service we use.

A frame on the wire is ``06 10 <service(2)> <total length(2)> <body>``. Each service is a
frozen dataclass with ``SERVICE``, ``body()`` and ``from_body()``; `encode` adds the header and
`parse` checks it and dispatches on the service code. Parsing raises only FrameError (or
AddressError from an address, which never happens for 2-octet fields).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Final, Self

from .address import IndividualAddress
from .errors import FrameError

__all__ = [
    "CRD",
    "CRI",
    "DIB",
    "HEADER_LENGTH",
    "HPAI",
    "PORT",
    "PROTOCOL_VERSION",
    "SYSTEM_MULTICAST_ADDRESS",
    "ConnectRequest",
    "ConnectResponse",
    "ConnectionStateRequest",
    "ConnectionStateResponse",
    "ConnectionType",
    "DIBType",
    "DescriptionRequest",
    "DescriptionResponse",
    "DeviceInfoDIB",
    "DisconnectRequest",
    "DisconnectResponse",
    "ErrorCode",
    "Frame",
    "HostProtocol",
    "KNXMedium",
    "RoutingIndication",
    "SearchRequest",
    "SearchRequestExtended",
    "SearchResponse",
    "SearchResponseExtended",
    "SecureWrapper",
    "SecuredServiceFamiliesDIB",
    "ServiceFamily",
    "ServiceType",
    "SessionAuthenticate",
    "SessionRequest",
    "SessionResponse",
    "SessionStatus",
    "SessionStatusCode",
    "SupportedServiceFamiliesDIB",
    "TimerNotify",
    "TunnelSlot",
    "TunnellingAck",
    "TunnellingFeatureGet",
    "TunnellingFeatureId",
    "TunnellingFeatureInfo",
    "TunnellingFeatureResponse",
    "TunnellingFeatureSet",
    "TunnellingInfoDIB",
    "TunnellingLayer",
    "TunnellingRequest",
    "UnknownDIB",
    "device_info",
    "encode",
    "frame_length",
    "free_tunnel_addresses",
    "parse",
    "parse_dibs",
    "service_family_version",
    "tunnelling_requires_secure",
]

HEADER_LENGTH = 6
PROTOCOL_VERSION = 0x10
#: The KNXnet/IP port (UDP search and description, TCP tunnelling) unless configured else.
PORT: Final = 3671
#: The KNXnet/IP system setup multicast address (search requests, routing).
SYSTEM_MULTICAST_ADDRESS: Final = "224.0.23.12"
_HEADER = struct.Struct(">BBHH")
_MAX_TOTAL_LENGTH = 0xFFFF


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


# --- HPAI ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HPAI:
    """Host protocol address information: protocol, IPv4 address and port (8 octets)."""

    protocol: HostProtocol = HostProtocol.TCP
    ip: str = "0.0.0.0"  # noqa: S104 (the "route back" address, not a bind address)
    port: int = 0

    LENGTH: ClassVar[int] = 8
    ROUTE_BACK_TCP: ClassVar[HPAI]
    ROUTE_BACK_UDP: ClassVar[HPAI]

    def encode(self) -> bytes:
        try:
            ip = socket.inet_pton(socket.AF_INET, self.ip)
        except (OSError, TypeError) as err:
            raise FrameError(f"HPAI address {self.ip!r} is not an IPv4 address") from err
        if self.protocol not in _HOST_PROTOCOLS:
            raise FrameError(f"HPAI host protocol {self.protocol} is not UDP or TCP")
        return bytes((8, self.protocol)) + ip + _uint(self.port, 2, "HPAI port")

    @classmethod
    def decode(cls, data: bytes, offset: int = 0) -> HPAI:
        """Decode the 8 octets at offset."""
        if len(data) < offset + 8:
            raise FrameError(f"HPAI truncated: {len(data) - offset} octets, needs 8")
        if data[offset] != 8:
            raise FrameError(f"HPAI length must be 8, is {data[offset]}")
        protocol = _HOST_PROTOCOLS.get(data[offset + 1])
        if protocol is None:
            raise FrameError(f"HPAI host protocol {data[offset + 1]:#04x} is not UDP or TCP")
        a, b, c, d = data[offset + 2 : offset + 6]
        port = (data[offset + 6] << 8) | data[offset + 7]
        return cls(protocol, f"{a}.{b}.{c}.{d}", port)


HPAI.ROUTE_BACK_TCP = HPAI(HostProtocol.TCP)
HPAI.ROUTE_BACK_UDP = HPAI(HostProtocol.UDP)


# --- CRI / CRD -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CRI:
    """Connection request information; an individual address makes it an extended CRI.

    Layouts: ``02 type`` (non-tunnel), ``04 type layer 00``, ``06 type layer 00 IA(2)``.
    """

    connection_type: int = ConnectionType.TUNNEL
    knx_layer: int = TunnellingLayer.LINK_LAYER
    individual_address: IndividualAddress | None = None

    def encode(self) -> bytes:
        kind = _u8(self.connection_type, "CRI connection type")
        layer = _u8(self.knx_layer, "CRI KNX layer")
        if self.individual_address is not None:
            return bytes((6, kind, layer, 0)) + self.individual_address.to_bytes()
        if kind == ConnectionType.TUNNEL or layer:
            return bytes((4, kind, layer, 0))
        return bytes((2, kind))

    @classmethod
    def decode(cls, data: bytes, offset: int = 0) -> tuple[CRI, int]:
        """Decode the CRI at offset; returns it and the offset after it."""
        size = _structure_length(data, offset, "CRI")
        kind = data[offset + 1]
        if size == 2:
            return cls(kind, 0), offset + 2
        if size == 4:
            return cls(kind, data[offset + 2]), offset + 4
        if size == 6:
            address = IndividualAddress((data[offset + 4] << 8) | data[offset + 5])
            return cls(kind, data[offset + 2], address), offset + 6
        raise FrameError(f"CRI length must be 2, 4 or 6, is {size}")


@dataclass(frozen=True, slots=True)
class CRD:
    """Connection response data of a tunnel: the tunnel's individual address."""

    connection_type: int
    individual_address: IndividualAddress

    def encode(self) -> bytes:
        kind = _u8(self.connection_type, "CRD connection type")
        return bytes((4, kind)) + self.individual_address.to_bytes()

    @classmethod
    def decode(cls, data: bytes, offset: int = 0) -> tuple[CRD, int]:
        size = _structure_length(data, offset, "CRD")
        if size != 4:
            raise FrameError(f"CRD length must be 4 (tunnel with address), is {size}")
        address = IndividualAddress((data[offset + 2] << 8) | data[offset + 3])
        return cls(data[offset + 1], address), offset + 4


def _structure_length(data: bytes, offset: int, what: str) -> int:
    """Length octet of a length-prefixed structure at offset, checked against the data."""
    if len(data) < offset + 2:
        raise FrameError(f"{what} truncated: {len(data) - offset} octets")
    size = data[offset]
    if size < 2:
        raise FrameError(f"{what} length {size} is too small")
    if len(data) < offset + size:
        raise FrameError(f"{what} says {size} octets, only {len(data) - offset} left")
    return size


# --- DIBs ------------------------------------------------------------------------------


class DIB:
    """Base of the description information blocks."""

    __slots__ = ()

    def encode(self) -> bytes:
        raise NotImplementedError


def _dib(dib_type: int, payload: bytes) -> bytes:
    if len(payload) > 0xFF - 2:
        raise FrameError(f"DIB {dib_type:#04x} too long: {len(payload) + 2} octets")
    return bytes((len(payload) + 2, dib_type)) + payload


_DEVICE_INFO_LENGTH = 54
_NAME_LENGTH = 30
_NO_ADDRESS = IndividualAddress(0)


@dataclass(frozen=True, slots=True)
class DeviceInfoDIB(DIB):
    """DIB 0x01: device information (54 octets)."""

    medium: int = KNXMedium.TP1
    status: int = 0  # bit 0: programming mode
    individual_address: IndividualAddress = _NO_ADDRESS
    project_installation_id: int = 0
    serial: bytes = bytes(6)
    multicast_address: str = SYSTEM_MULTICAST_ADDRESS
    mac_address: bytes = bytes(6)
    name: str = ""

    TYPE: ClassVar[DIBType] = DIBType.DEVICE_INFO

    def encode(self) -> bytes:
        try:
            multicast = socket.inet_pton(socket.AF_INET, self.multicast_address)
            name = self.name.encode("latin-1")
        except (OSError, TypeError, UnicodeEncodeError) as err:
            raise FrameError(f"device info DIB cannot be encoded: {err}") from err
        if len(name) > _NAME_LENGTH:
            raise FrameError(f"device name {self.name!r} is longer than {_NAME_LENGTH} octets")
        payload = b"".join(
            (
                bytes((_u8(self.medium, "medium"), _u8(self.status, "device status"))),
                self.individual_address.to_bytes(),
                _uint(self.project_installation_id, 2, "project installation id"),
                _fixed(self.serial, 6, "serial number"),
                multicast,
                _fixed(self.mac_address, 6, "MAC address"),
                name.ljust(_NAME_LENGTH, b"\x00"),
            )
        )
        return _dib(DIBType.DEVICE_INFO, payload)

    @classmethod
    def from_payload(cls, payload: bytes) -> DeviceInfoDIB:
        if len(payload) != _DEVICE_INFO_LENGTH - 2:
            raise FrameError(f"device info DIB must be 54 octets, is {len(payload) + 2}")
        a, b, c, d = payload[12:16]
        # The name is NUL padded; anything after the first NUL is padding.
        name = payload[22:52].split(b"\x00", 1)[0].decode("latin-1")
        return cls(
            medium=payload[0],
            status=payload[1],
            individual_address=IndividualAddress((payload[2] << 8) | payload[3]),
            project_installation_id=(payload[4] << 8) | payload[5],
            serial=bytes(payload[6:12]),
            multicast_address=f"{a}.{b}.{c}.{d}",
            mac_address=bytes(payload[16:22]),
            name=name,
        )


def _encode_families(dib_type: int, families: tuple[tuple[int, int], ...]) -> bytes:
    payload = bytearray()
    for family, version in families:
        payload.append(_u8(family, "service family"))
        payload.append(_u8(version, "service family version"))
    return _dib(dib_type, bytes(payload))


def _decode_families(payload: bytes, what: str) -> tuple[tuple[int, int], ...]:
    if len(payload) % 2:
        raise FrameError(f"{what} DIB has an odd length {len(payload) + 2}")
    return tuple(zip(payload[0::2], payload[1::2], strict=True))


@dataclass(frozen=True, slots=True)
class _ServiceFamiliesDIB(DIB):
    """(family, version) pairs: the layout DIB 0x02 and DIB 0x06 share."""

    families: tuple[tuple[int, int], ...]

    TYPE: ClassVar[DIBType]
    _WHAT: ClassVar[str]  # names the DIB in error messages

    def encode(self) -> bytes:
        return _encode_families(self.TYPE, self.families)

    @classmethod
    def from_payload(cls, payload: bytes) -> Self:
        return cls(_decode_families(payload, cls._WHAT))


@dataclass(frozen=True, slots=True)
class SupportedServiceFamiliesDIB(_ServiceFamiliesDIB):
    """DIB 0x02: (family, version) pairs the device supports."""

    TYPE: ClassVar[DIBType] = DIBType.SUPPORTED_SERVICE_FAMILIES
    _WHAT: ClassVar[str] = "supported service families"


@dataclass(frozen=True, slots=True)
class SecuredServiceFamiliesDIB(_ServiceFamiliesDIB):
    """DIB 0x06: (family, version) pairs that require KNXnet/IP Secure."""

    TYPE: ClassVar[DIBType] = DIBType.SECURED_SERVICE_FAMILIES
    _WHAT: ClassVar[str] = "secured service families"


_SLOT_USABLE = 0x04
_SLOT_AUTHORISED = 0x02
_SLOT_FREE = 0x01


@dataclass(frozen=True, slots=True)
class TunnelSlot:
    """One tunnel of a TUNNELLING_INFO DIB."""

    individual_address: IndividualAddress
    usable: bool
    free: bool
    authorised: bool


@dataclass(frozen=True, slots=True)
class TunnellingInfoDIB(DIB):
    """DIB 0x07: max APDU length, then per slot IA(2) and status(2: usable/authorised/free)."""

    max_apdu_length: int
    slots: tuple[TunnelSlot, ...]

    TYPE: ClassVar[DIBType] = DIBType.TUNNELLING_INFO

    def encode(self) -> bytes:
        parts = [_uint(self.max_apdu_length, 2, "max APDU length")]
        for slot in self.slots:
            flags = (
                (_SLOT_USABLE if slot.usable else 0)
                | (_SLOT_AUTHORISED if slot.authorised else 0)
                | (_SLOT_FREE if slot.free else 0)
            )
            parts.append(slot.individual_address.to_bytes() + bytes((0, flags)))
        return _dib(self.TYPE, b"".join(parts))

    @classmethod
    def from_payload(cls, payload: bytes) -> TunnellingInfoDIB:
        if len(payload) < 2 or len(payload) % 4 != 2:
            raise FrameError(f"tunnelling info DIB length {len(payload) + 2} is not 4 + 4 per slot")
        slots = tuple(
            TunnelSlot(
                individual_address=IndividualAddress((payload[i] << 8) | payload[i + 1]),
                usable=bool(payload[i + 3] & _SLOT_USABLE),
                free=bool(payload[i + 3] & _SLOT_FREE),
                authorised=bool(payload[i + 3] & _SLOT_AUTHORISED),
            )
            for i in range(2, len(payload), 4)
        )
        return cls((payload[0] << 8) | payload[1], slots)


@dataclass(frozen=True, slots=True)
class UnknownDIB(DIB):
    """Any other DIB, kept as its type and payload (after the length and type octets)."""

    dib_type: int
    data: bytes

    def encode(self) -> bytes:
        return _dib(_u8(self.dib_type, "DIB type"), self.data)


_DIB_CLASSES: dict[
    int,
    type[DeviceInfoDIB]
    | type[SupportedServiceFamiliesDIB]
    | type[SecuredServiceFamiliesDIB]
    | type[TunnellingInfoDIB],
] = {
    DIBType.DEVICE_INFO: DeviceInfoDIB,
    DIBType.SUPPORTED_SERVICE_FAMILIES: SupportedServiceFamiliesDIB,
    DIBType.SECURED_SERVICE_FAMILIES: SecuredServiceFamiliesDIB,
    DIBType.TUNNELLING_INFO: TunnellingInfoDIB,
}


def _decode_dibs(data: bytes, offset: int) -> tuple[DIB, ...]:
    dibs: list[DIB] = []
    while offset < len(data):
        size = _structure_length(data, offset, "DIB")
        dib_type = data[offset + 1]
        payload = bytes(data[offset + 2 : offset + size])
        known = _DIB_CLASSES.get(dib_type)
        dibs.append(known.from_payload(payload) if known else UnknownDIB(dib_type, payload))
        offset += size
    return tuple(dibs)


def _encode_dibs(dibs: tuple[DIB, ...]) -> bytes:
    return b"".join(dib.encode() for dib in dibs)


def parse_dibs(data: bytes) -> tuple[DIB, ...]:
    """Parse a sequence of DIBs (as in a description or search response body)."""
    return _decode_dibs(data, 0)


def device_info(dibs: Iterable[DIB]) -> DeviceInfoDIB | None:
    """The device info DIB, if present."""
    return next((dib for dib in dibs if isinstance(dib, DeviceInfoDIB)), None)


def service_family_version(dibs: Iterable[DIB], family: int) -> int | None:
    """Highest supported version of a service family (from DIB 0x02), None if absent."""
    versions = [
        version
        for dib in dibs
        if isinstance(dib, SupportedServiceFamiliesDIB)
        for fam, version in dib.families
        if fam == family
    ]
    return max(versions) if versions else None


def tunnelling_requires_secure(dibs: Iterable[DIB]) -> bool:
    """True if DIB 0x06 lists tunnelling: the gateway only tunnels inside a secure session."""
    return any(
        family == ServiceFamily.TUNNELLING
        for dib in dibs
        if isinstance(dib, SecuredServiceFamiliesDIB)
        for family, _version in dib.families
    )


def free_tunnel_addresses(dibs: Iterable[DIB]) -> list[IndividualAddress]:
    """Addresses of tunnel slots (DIB 0x07) that are usable and free, in DIB order."""
    return [
        slot.individual_address
        for dib in dibs
        if isinstance(dib, TunnellingInfoDIB)
        for slot in dib.slots
        if slot.usable and slot.free
    ]


# --- frames ---------------------------------------------------------------------------


class Frame:
    """Base of every KNXnet/IP service frame."""

    __slots__ = ()

    SERVICE: ClassVar[ServiceType]

    def body(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class SearchRequest(Frame):
    discovery: HPAI

    SERVICE: ClassVar[ServiceType] = ServiceType.SEARCH_REQUEST

    def body(self) -> bytes:
        return self.discovery.encode()

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_length(body, HPAI.LENGTH, "SEARCH_REQUEST")
        return cls(HPAI.decode(body))


def _check_srps(data: bytes) -> None:
    """Search request parameters: a chain of ``len type data`` blocks, len >= 2."""
    offset = 0
    while offset < len(data):
        offset += _structure_length(data, offset, "search request parameter")


@dataclass(frozen=True, slots=True)
class SearchRequestExtended(Frame):
    discovery: HPAI
    srp: bytes = b""  # the search request parameters, as sent

    SERVICE: ClassVar[ServiceType] = ServiceType.SEARCH_REQUEST_EXTENDED

    def body(self) -> bytes:
        _check_srps(self.srp)
        return self.discovery.encode() + self.srp

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        discovery = HPAI.decode(body)
        srp = bytes(body[HPAI.LENGTH :])
        _check_srps(srp)
        return cls(discovery, srp)


@dataclass(frozen=True, slots=True)
class _ControlAndDIBs(Frame):
    """Body of both search responses: the control endpoint, then the DIBs."""

    control: HPAI
    dibs: tuple[DIB, ...]

    def body(self) -> bytes:
        return self.control.encode() + _encode_dibs(self.dibs)

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        return cls(HPAI.decode(body), _decode_dibs(body, HPAI.LENGTH))


@dataclass(frozen=True, slots=True)
class SearchResponse(_ControlAndDIBs):
    SERVICE: ClassVar[ServiceType] = ServiceType.SEARCH_RESPONSE


@dataclass(frozen=True, slots=True)
class SearchResponseExtended(_ControlAndDIBs):
    SERVICE: ClassVar[ServiceType] = ServiceType.SEARCH_RESPONSE_EXTENDED


@dataclass(frozen=True, slots=True)
class DescriptionRequest(Frame):
    control: HPAI

    SERVICE: ClassVar[ServiceType] = ServiceType.DESCRIPTION_REQUEST

    def body(self) -> bytes:
        return self.control.encode()

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_length(body, HPAI.LENGTH, "DESCRIPTION_REQUEST")
        return cls(HPAI.decode(body))


@dataclass(frozen=True, slots=True)
class DescriptionResponse(Frame):
    dibs: tuple[DIB, ...]

    SERVICE: ClassVar[ServiceType] = ServiceType.DESCRIPTION_RESPONSE

    def body(self) -> bytes:
        return _encode_dibs(self.dibs)

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        return cls(_decode_dibs(body, 0))


@dataclass(frozen=True, slots=True)
class ConnectRequest(Frame):
    control: HPAI
    data: HPAI
    cri: CRI

    SERVICE: ClassVar[ServiceType] = ServiceType.CONNECT_REQUEST

    def body(self) -> bytes:
        return self.control.encode() + self.data.encode() + self.cri.encode()

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        control = HPAI.decode(body, 0)
        data = HPAI.decode(body, HPAI.LENGTH)
        cri, end = CRI.decode(body, 2 * HPAI.LENGTH)
        _expect_length(body, end, "CONNECT_REQUEST")
        return cls(control, data, cri)


@dataclass(frozen=True, slots=True)
class ConnectResponse(Frame):
    """Channel id and status; data endpoint and CRD are present on success."""

    channel_id: int
    status: ErrorCode
    data: HPAI | None = None
    crd: CRD | None = None

    SERVICE: ClassVar[ServiceType] = ServiceType.CONNECT_RESPONSE

    def body(self) -> bytes:
        head = bytes((_u8(self.channel_id, "channel id"), _u8(self.status, "status")))
        if self.data is None and self.crd is None:
            if self.status == ErrorCode.E_NO_ERROR:
                raise FrameError("a successful CONNECT_RESPONSE needs the data endpoint and CRD")
            return head
        if self.data is None or self.crd is None:
            raise FrameError(
                "CONNECT_RESPONSE needs both the data endpoint and the CRD, or neither"
            )
        return head + self.data.encode() + self.crd.encode()

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_at_least(body, 2, "CONNECT_RESPONSE")
        status = _error_code(body[1])
        if len(body) == 2:
            if status == ErrorCode.E_NO_ERROR:
                raise FrameError("CONNECT_RESPONSE reports success but carries no CRD")
            return cls(body[0], status)
        try:
            data = HPAI.decode(body, 2)
            crd, end = CRD.decode(body, 2 + HPAI.LENGTH)
            _expect_length(body, end, "CONNECT_RESPONSE")
        except FrameError:
            # An error response only needs channel and status; some gateways pad the rest.
            if status == ErrorCode.E_NO_ERROR:
                raise
            return cls(body[0], status)
        return cls(body[0], status, data, crd)


@dataclass(frozen=True, slots=True)
class _ChannelRequest(Frame):
    """Body of CONNECTIONSTATE_ and DISCONNECT_REQUEST: channel id, reserved, control HPAI."""

    channel_id: int
    control: HPAI

    def body(self) -> bytes:
        return bytes((_u8(self.channel_id, "channel id"), 0)) + self.control.encode()

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_length(body, 2 + HPAI.LENGTH, cls.SERVICE.name)
        return cls(body[0], HPAI.decode(body, 2))


@dataclass(frozen=True, slots=True)
class _ChannelResponse(Frame):
    """Body of CONNECTIONSTATE_ and DISCONNECT_RESPONSE: channel id and status."""

    channel_id: int
    status: ErrorCode = ErrorCode.E_NO_ERROR

    def body(self) -> bytes:
        return bytes((_u8(self.channel_id, "channel id"), _u8(self.status, "status")))

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_length(body, 2, cls.SERVICE.name)
        return cls(body[0], _error_code(body[1]))


@dataclass(frozen=True, slots=True)
class ConnectionStateRequest(_ChannelRequest):
    SERVICE: ClassVar[ServiceType] = ServiceType.CONNECTIONSTATE_REQUEST


@dataclass(frozen=True, slots=True)
class ConnectionStateResponse(_ChannelResponse):
    SERVICE: ClassVar[ServiceType] = ServiceType.CONNECTIONSTATE_RESPONSE


@dataclass(frozen=True, slots=True)
class DisconnectRequest(_ChannelRequest):
    SERVICE: ClassVar[ServiceType] = ServiceType.DISCONNECT_REQUEST


@dataclass(frozen=True, slots=True)
class DisconnectResponse(_ChannelResponse):
    SERVICE: ClassVar[ServiceType] = ServiceType.DISCONNECT_RESPONSE


# Connection header of the tunnelling services: length(4) channel sequence status/reserved.
_CONNECTION_HEADER_LENGTH = 4


def _connection_header(channel_id: int, sequence: int, last: int) -> bytes:
    return bytes(
        (
            _CONNECTION_HEADER_LENGTH,
            _u8(channel_id, "channel id"),
            _u8(sequence, "sequence counter"),
            _u8(last, "connection header status"),
        )
    )


def _check_connection_header(body: bytes, minimum: int, what: str) -> None:
    _expect_at_least(body, minimum, what)
    if body[0] != _CONNECTION_HEADER_LENGTH:
        raise FrameError(f"{what} connection header length must be 4, is {body[0]}")


@dataclass(frozen=True, slots=True)
class TunnellingRequest(Frame):
    channel_id: int
    sequence: int
    cemi: bytes

    SERVICE: ClassVar[ServiceType] = ServiceType.TUNNELLING_REQUEST

    def body(self) -> bytes:
        if not self.cemi:
            raise FrameError("TUNNELLING_REQUEST needs a cEMI frame")
        return _connection_header(self.channel_id, self.sequence, 0) + self.cemi

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _check_connection_header(body, 5, "TUNNELLING_REQUEST")
        return cls(body[1], body[2], bytes(body[4:]))


@dataclass(frozen=True, slots=True)
class TunnellingAck(Frame):
    channel_id: int
    sequence: int
    status: ErrorCode = ErrorCode.E_NO_ERROR

    SERVICE: ClassVar[ServiceType] = ServiceType.TUNNELLING_ACK

    def body(self) -> bytes:
        return _connection_header(self.channel_id, self.sequence, self.status)

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _check_connection_header(body, 4, "TUNNELLING_ACK")
        _expect_length(body, 4, "TUNNELLING_ACK")
        return cls(body[1], body[2], _error_code(body[3]))


@dataclass(frozen=True, slots=True)
class TunnellingFeatureGet(Frame):
    channel_id: int
    sequence: int
    feature_id: int

    SERVICE: ClassVar[ServiceType] = ServiceType.TUNNELLING_FEATURE_GET

    def body(self) -> bytes:
        header = _connection_header(self.channel_id, self.sequence, 0)
        return header + bytes((_u8(self.feature_id, "feature id"), 0))

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _check_connection_header(body, 6, "TUNNELLING_FEATURE_GET")
        _expect_length(body, 6, "TUNNELLING_FEATURE_GET")
        return cls(body[1], body[2], body[4])


@dataclass(frozen=True, slots=True)
class TunnellingFeatureResponse(Frame):
    channel_id: int
    sequence: int
    feature_id: int
    return_code: int
    value: bytes = b""

    SERVICE: ClassVar[ServiceType] = ServiceType.TUNNELLING_FEATURE_RESPONSE

    def body(self) -> bytes:
        header = _connection_header(self.channel_id, self.sequence, 0)
        feature = bytes((_u8(self.feature_id, "feature id"), _u8(self.return_code, "return code")))
        return header + feature + self.value

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _check_connection_header(body, 6, "TUNNELLING_FEATURE_RESPONSE")
        return cls(body[1], body[2], body[4], body[5], bytes(body[6:]))


@dataclass(frozen=True, slots=True)
class TunnellingFeatureSet(Frame):
    channel_id: int
    sequence: int
    feature_id: int
    value: bytes

    SERVICE: ClassVar[ServiceType] = ServiceType.TUNNELLING_FEATURE_SET

    def body(self) -> bytes:
        return _feature_value_body(self.channel_id, self.sequence, self.feature_id, self.value)

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        return cls(*_decode_feature_value(body, "TUNNELLING_FEATURE_SET"))


@dataclass(frozen=True, slots=True)
class TunnellingFeatureInfo(Frame):
    channel_id: int
    sequence: int
    feature_id: int
    value: bytes

    SERVICE: ClassVar[ServiceType] = ServiceType.TUNNELLING_FEATURE_INFO

    def body(self) -> bytes:
        return _feature_value_body(self.channel_id, self.sequence, self.feature_id, self.value)

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        return cls(*_decode_feature_value(body, "TUNNELLING_FEATURE_INFO"))


def _feature_value_body(channel_id: int, sequence: int, feature_id: int, value: bytes) -> bytes:
    if not value:
        raise FrameError("tunnelling feature set/info needs a value")
    header = _connection_header(channel_id, sequence, 0)
    return header + bytes((_u8(feature_id, "feature id"), 0)) + value


def _decode_feature_value(body: bytes, what: str) -> tuple[int, int, int, bytes]:
    _check_connection_header(body, 7, what)
    return body[1], body[2], body[4], bytes(body[6:])


@dataclass(frozen=True, slots=True)
class RoutingIndication(Frame):
    cemi: bytes

    SERVICE: ClassVar[ServiceType] = ServiceType.ROUTING_INDICATION

    def body(self) -> bytes:
        if not self.cemi:
            raise FrameError("ROUTING_INDICATION needs a cEMI frame")
        return self.cemi

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_at_least(body, 1, "ROUTING_INDICATION")
        return cls(bytes(body))


# --- KNXnet/IP Secure ------------------------------------------------------------------

_MAC_LENGTH = 16
_PUBLIC_KEY_LENGTH = 32
_SERIAL_LENGTH = 6
# session id(2) sequence(6) serial(6) tag(2) ... MAC(16)
_WRAPPER_FIXED = 2 + 6 + _SERIAL_LENGTH + 2 + _MAC_LENGTH
_WRAPPER_HEAD = 2 + 6 + _SERIAL_LENGTH + 2
# session id, sequence (high 16 and low 32 bits), serial, tag: one unpack per frame
_WRAPPER_FIELDS = struct.Struct(">HHI6sH")


@dataclass(frozen=True, slots=True)
class SecureWrapper(Frame):
    """0x0950: an encrypted KNXnet/IP frame (at least a header) and its encrypted MAC."""

    session_id: int
    sequence: int  # 48 bit
    serial: bytes  # 6 octets
    tag: int  # 16 bit
    encrypted_frame: bytes
    mac: bytes  # 16 octets

    SERVICE: ClassVar[ServiceType] = ServiceType.SECURE_WRAPPER

    def body(self) -> bytes:
        if len(self.encrypted_frame) < HEADER_LENGTH:
            raise FrameError("SECURE_WRAPPER must carry at least a KNXnet/IP header")
        return b"".join(
            (
                _uint(self.session_id, 2, "session id"),
                _uint(self.sequence, 6, "sequence number"),
                _fixed(self.serial, _SERIAL_LENGTH, "serial number"),
                _uint(self.tag, 2, "message tag"),
                self.encrypted_frame,
                _fixed(self.mac, _MAC_LENGTH, "MAC"),
            )
        )

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_at_least(body, _WRAPPER_FIXED + HEADER_LENGTH, "SECURE_WRAPPER")
        session_id, sequence_high, sequence_low, serial, tag = _WRAPPER_FIELDS.unpack_from(body)
        return cls(
            session_id,
            sequence_high << 32 | sequence_low,
            serial,
            tag,
            bytes(body[_WRAPPER_HEAD:-_MAC_LENGTH]),  # encrypted_frame
            bytes(body[-_MAC_LENGTH:]),  # mac
        )


@dataclass(frozen=True, slots=True)
class SessionRequest(Frame):
    """0x0951: control endpoint (route back over TCP) and the client's X25519 public key."""

    control: HPAI
    public_key: bytes

    SERVICE: ClassVar[ServiceType] = ServiceType.SESSION_REQUEST

    def body(self) -> bytes:
        return self.control.encode() + _fixed(self.public_key, _PUBLIC_KEY_LENGTH, "public key")

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_length(body, HPAI.LENGTH + _PUBLIC_KEY_LENGTH, "SESSION_REQUEST")
        return cls(HPAI.decode(body), bytes(body[HPAI.LENGTH :]))


@dataclass(frozen=True, slots=True)
class SessionResponse(Frame):
    """0x0952: session id, the server's public key and the device authentication MAC."""

    session_id: int
    public_key: bytes
    mac: bytes

    SERVICE: ClassVar[ServiceType] = ServiceType.SESSION_RESPONSE

    def body(self) -> bytes:
        return b"".join(
            (
                _uint(self.session_id, 2, "session id"),
                _fixed(self.public_key, _PUBLIC_KEY_LENGTH, "public key"),
                _fixed(self.mac, _MAC_LENGTH, "MAC"),
            )
        )

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_length(body, 2 + _PUBLIC_KEY_LENGTH + _MAC_LENGTH, "SESSION_RESPONSE")
        return cls(int.from_bytes(body[0:2], "big"), bytes(body[2:34]), bytes(body[34:]))


@dataclass(frozen=True, slots=True)
class SessionAuthenticate(Frame):
    """0x0953: reserved 00, user id, MAC keyed with the user password."""

    user_id: int
    mac: bytes

    SERVICE: ClassVar[ServiceType] = ServiceType.SESSION_AUTHENTICATE

    def body(self) -> bytes:
        user = bytes((0, _u8(self.user_id, "user id")))
        return user + _fixed(self.mac, _MAC_LENGTH, "MAC")

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_length(body, 2 + _MAC_LENGTH, "SESSION_AUTHENTICATE")
        return cls(body[1], bytes(body[2:]))


@dataclass(frozen=True, slots=True)
class SessionStatus(Frame):
    """0x0954: status and a reserved octet."""

    status: SessionStatusCode

    SERVICE: ClassVar[ServiceType] = ServiceType.SESSION_STATUS

    def body(self) -> bytes:
        if self.status not in _SESSION_STATUS_CODES:
            raise FrameError(f"session status {self.status} is not a known code")
        return bytes((self.status, 0))

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_length(body, 2, "SESSION_STATUS")
        status = _SESSION_STATUS_CODES.get(body[0])
        if status is None:
            raise FrameError(f"session status {body[0]:#04x} is not a known code (0..5)")
        return cls(status)


@dataclass(frozen=True, slots=True)
class TimerNotify(Frame):
    """0x0955: timer value(6) serial(6) tag(2) MAC(16)."""

    timer: int
    serial: bytes
    tag: int
    mac: bytes

    SERVICE: ClassVar[ServiceType] = ServiceType.TIMER_NOTIFY

    def body(self) -> bytes:
        return b"".join(
            (
                _uint(self.timer, 6, "timer value"),
                _fixed(self.serial, _SERIAL_LENGTH, "serial number"),
                _uint(self.tag, 2, "message tag"),
                _fixed(self.mac, _MAC_LENGTH, "MAC"),
            )
        )

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_length(body, 6 + _SERIAL_LENGTH + 2 + _MAC_LENGTH, "TIMER_NOTIFY")
        return cls(
            timer=int.from_bytes(body[0:6], "big"),
            serial=bytes(body[6:12]),
            tag=int.from_bytes(body[12:14], "big"),
            mac=bytes(body[14:]),
        )


# --- whole frames ------------------------------------------------------------------------

_FRAME_CLASSES: dict[int, type[Frame]] = {
    cls.SERVICE.value: cls
    for cls in (
        SearchRequest,
        SearchResponse,
        DescriptionRequest,
        DescriptionResponse,
        ConnectRequest,
        ConnectResponse,
        ConnectionStateRequest,
        ConnectionStateResponse,
        DisconnectRequest,
        DisconnectResponse,
        SearchRequestExtended,
        SearchResponseExtended,
        TunnellingRequest,
        TunnellingAck,
        TunnellingFeatureGet,
        TunnellingFeatureResponse,
        TunnellingFeatureSet,
        TunnellingFeatureInfo,
        RoutingIndication,
        SecureWrapper,
        SessionRequest,
        SessionResponse,
        SessionAuthenticate,
        SessionStatus,
        TimerNotify,
    )
}


def encode(frame: Frame) -> bytes:
    """The whole frame: header ``06 10 service length`` and the body."""
    body = frame.body()
    total = HEADER_LENGTH + len(body)
    if total > _MAX_TOTAL_LENGTH:
        raise FrameError(f"KNXnet/IP frame too long: {total} octets (max 65535)")
    return _HEADER.pack(HEADER_LENGTH, PROTOCOL_VERSION, frame.SERVICE, total) + body


def _check_header(header_length: int, version: int, total: int) -> None:
    if header_length != HEADER_LENGTH:
        raise FrameError(f"KNXnet/IP header length must be 6, is {header_length}")
    if version != PROTOCOL_VERSION:
        raise FrameError(f"KNXnet/IP protocol version must be 0x10, is {version:#04x}")
    if total < HEADER_LENGTH:
        raise FrameError(f"KNXnet/IP total length {total} is shorter than the header")


def parse(data: bytes) -> Frame:
    """Parse one whole frame (exactly; no trailing octets)."""
    if len(data) < HEADER_LENGTH:
        raise FrameError(f"KNXnet/IP frame too short: {len(data)} octets, the header needs 6")
    header_length, version, service, total = _HEADER.unpack_from(data)
    if header_length != HEADER_LENGTH or version != PROTOCOL_VERSION or total < HEADER_LENGTH:
        _check_header(header_length, version, total)  # raises the precise error
    if total != len(data):
        raise FrameError(f"KNXnet/IP header says {total} octets, frame has {len(data)}")
    frame_class = _FRAME_CLASSES.get(service)
    if frame_class is None:
        raise FrameError(f"KNXnet/IP service {service:#06x} is not supported")
    return frame_class.from_body(data[HEADER_LENGTH:])


def frame_length(buffer: bytes) -> int | None:
    """Total length of the frame at the start of a TCP stream buffer; None if < 6 octets."""
    if len(buffer) < HEADER_LENGTH:
        return None
    header_length, version, _service, total = _HEADER.unpack_from(buffer)
    _check_header(header_length, version, total)
    return int(total)
