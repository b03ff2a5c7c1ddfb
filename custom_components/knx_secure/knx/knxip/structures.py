"""KNXnet/IP structures: HPAI, CRI, CRD and the description information blocks (DIBs)."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Self

from ..address import IndividualAddress
from ..errors import FrameError
from .wire import (
    _HOST_PROTOCOLS,
    SYSTEM_MULTICAST_ADDRESS,
    ConnectionType,
    DIBType,
    HostProtocol,
    KNXMedium,
    ServiceFamily,
    TunnellingLayer,
    _fixed,
    _u8,
    _uint,
)

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
