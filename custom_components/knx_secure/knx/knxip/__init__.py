"""KNXnet/IP frames: header, structures (HPAI, CRI, CRD, DIBs) and every service we use.

A frame on the wire is ``06 10 <service(2)> <total length(2)> <body>``. Each service is a
frozen dataclass with ``SERVICE``, ``body()`` and ``from_body()``; `encode` adds the header and
`parse` checks it and dispatches on the service code. Parsing raises only FrameError (or
AddressError from an address, which never happens for 2-octet fields).
"""

from __future__ import annotations

from ..errors import FrameError
from .secure import (
    WRAPPER_ADDITIONAL_DATA,
    WRAPPER_NONCE,
    WRAPPER_OVERHEAD,
    WRAPPER_PAYLOAD_START,
    WRAPPER_PREFIX,
    WRAPPER_SEQUENCE,
    WRAPPER_SERIAL,
    WRAPPER_SESSION_ID,
    SecureWrapper,
    SessionAuthenticate,
    SessionRequest,
    SessionResponse,
    SessionStatus,
    TimerNotify,
)
from .services import (
    ConnectionStateRequest,
    ConnectionStateResponse,
    ConnectRequest,
    ConnectResponse,
    DescriptionRequest,
    DescriptionResponse,
    DisconnectRequest,
    DisconnectResponse,
    Frame,
    RoutingBusy,
    RoutingIndication,
    RoutingLostMessage,
    SearchRequest,
    SearchRequestExtended,
    SearchResponse,
    SearchResponseExtended,
    TunnellingAck,
    TunnellingFeatureGet,
    TunnellingFeatureInfo,
    TunnellingFeatureResponse,
    TunnellingFeatureSet,
    TunnellingRequest,
)
from .stream import DatagramFramer, Framer, StreamFramer
from .structures import (
    CRD,
    CRI,
    DIB,
    HPAI,
    DeviceInfoDIB,
    SecuredServiceFamiliesDIB,
    SupportedServiceFamiliesDIB,
    TunnellingInfoDIB,
    TunnelSlot,
    UnknownDIB,
    device_info,
    free_tunnel_addresses,
    parse_dibs,
    service_family_version,
    tunnelling_requires_secure,
)
from .wire import (
    HEADER,
    HEADER_LENGTH,
    HEADER_SERVICE,
    HEADER_START,
    HEADER_TOTAL_LENGTH,
    MAC_LENGTH,
    MAX_SEQUENCE,
    MAX_TOTAL_LENGTH,
    PORT,
    PROTOCOL_VERSION,
    PUBLIC_KEY_LENGTH,
    SEQUENCE_LENGTH,
    SERIAL_LENGTH,
    SYSTEM_MULTICAST_ADDRESS,
    TUNNELLING_TCP_VERSION,
    ConnectionType,
    DIBType,
    ErrorCode,
    HostProtocol,
    KNXMedium,
    ServiceFamily,
    ServiceType,
    SessionStatusCode,
    TunnellingFeatureId,
    TunnellingLayer,
    check_header,
    frame_length,
    service_of,
)

__all__ = [
    "CRD",
    "CRI",
    "DIB",
    "HEADER",
    "HEADER_LENGTH",
    "HEADER_SERVICE",
    "HEADER_START",
    "HEADER_TOTAL_LENGTH",
    "HPAI",
    "MAC_LENGTH",
    "MAX_SEQUENCE",
    "MAX_TOTAL_LENGTH",
    "PORT",
    "PROTOCOL_VERSION",
    "PUBLIC_KEY_LENGTH",
    "SEQUENCE_LENGTH",
    "SERIAL_LENGTH",
    "SYSTEM_MULTICAST_ADDRESS",
    "TUNNELLING_TCP_VERSION",
    "WRAPPER_ADDITIONAL_DATA",
    "WRAPPER_NONCE",
    "WRAPPER_OVERHEAD",
    "WRAPPER_PAYLOAD_START",
    "WRAPPER_PREFIX",
    "WRAPPER_SEQUENCE",
    "WRAPPER_SERIAL",
    "WRAPPER_SESSION_ID",
    "ConnectRequest",
    "ConnectResponse",
    "ConnectionStateRequest",
    "ConnectionStateResponse",
    "ConnectionType",
    "DIBType",
    "DatagramFramer",
    "DescriptionRequest",
    "DescriptionResponse",
    "DeviceInfoDIB",
    "DisconnectRequest",
    "DisconnectResponse",
    "ErrorCode",
    "Frame",
    "Framer",
    "HostProtocol",
    "KNXMedium",
    "RoutingBusy",
    "RoutingIndication",
    "RoutingLostMessage",
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
    "StreamFramer",
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
    "check_header",
    "device_info",
    "encode",
    "frame_length",
    "free_tunnel_addresses",
    "parse",
    "parse_dibs",
    "service_family_version",
    "service_of",
    "tunnelling_requires_secure",
]


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
        RoutingLostMessage,
        RoutingBusy,
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
    if total > MAX_TOTAL_LENGTH:
        raise FrameError(f"KNXnet/IP frame too long: {total} octets (max 65535)")
    return HEADER.pack(HEADER_LENGTH, PROTOCOL_VERSION, frame.SERVICE, total) + body


def parse(data: bytes) -> Frame:
    """Parse one whole frame (exactly; no trailing octets)."""
    if len(data) < HEADER_LENGTH:
        raise FrameError(f"KNXnet/IP frame too short: {len(data)} octets, the header needs 6")
    header_length, version, service, total = HEADER.unpack_from(data)
    if header_length != HEADER_LENGTH or version != PROTOCOL_VERSION or total < HEADER_LENGTH:
        check_header(header_length, version, total)  # raises the precise error
    if total != len(data):
        raise FrameError(f"KNXnet/IP header says {total} octets, frame has {len(data)}")
    frame_class = _FRAME_CLASSES.get(service)
    if frame_class is None:
        raise FrameError(f"KNXnet/IP service {service:#06x} is not supported")
    return frame_class.from_body(data[HEADER_LENGTH:])
