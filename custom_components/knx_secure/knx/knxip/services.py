"""KNXnet/IP service frames: search, description, connection and tunnelling services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from ..errors import FrameError
from .structures import (
    CRD,
    CRI,
    DIB,
    HPAI,
    _decode_dibs,
    _encode_dibs,
    _structure_length,
)
from .wire import (
    ErrorCode,
    ServiceType,
    _error_code,
    _expect_at_least,
    _expect_length,
    _u8,
    _uint,
)

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


#: The structure length octet that opens ROUTING_BUSY and ROUTING_LOST_MESSAGE bodies.
_ROUTING_BUSY_LENGTH = 6
_ROUTING_LOST_LENGTH = 4


@dataclass(frozen=True, slots=True)
class RoutingBusy(Frame):
    """A router's input queue is filling: every node pauses ``wait_time_ms`` (flow control)."""

    device_state: int
    wait_time_ms: int
    control: int = 0

    SERVICE: ClassVar[ServiceType] = ServiceType.ROUTING_BUSY

    def body(self) -> bytes:
        return (
            bytes((_ROUTING_BUSY_LENGTH, _u8(self.device_state, "device state")))
            + _uint(self.wait_time_ms, 2, "routing busy wait time")
            + _uint(self.control, 2, "routing busy control field")
        )

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_length(body, _ROUTING_BUSY_LENGTH, "ROUTING_BUSY")
        if body[0] != _ROUTING_BUSY_LENGTH:
            raise FrameError(f"ROUTING_BUSY structure length {body[0]}, expected 6")
        return cls(body[1], int.from_bytes(body[2:4], "big"), int.from_bytes(body[4:6], "big"))


@dataclass(frozen=True, slots=True)
class RoutingLostMessage(Frame):
    """A router lost ``lost_messages`` frames (input queue overflow) since its last report."""

    device_state: int
    lost_messages: int

    SERVICE: ClassVar[ServiceType] = ServiceType.ROUTING_LOST_MESSAGE

    def body(self) -> bytes:
        return bytes((_ROUTING_LOST_LENGTH, _u8(self.device_state, "device state"))) + _uint(
            self.lost_messages, 2, "lost message count"
        )

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_length(body, _ROUTING_LOST_LENGTH, "ROUTING_LOST_MESSAGE")
        if body[0] != _ROUTING_LOST_LENGTH:
            raise FrameError(f"ROUTING_LOST_MESSAGE structure length {body[0]}, expected 4")
        return cls(body[1], int.from_bytes(body[2:4], "big"))
