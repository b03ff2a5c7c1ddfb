"""KNXnet/IP Secure frames and the SECURE_WRAPPER layout (the session codec slices by it)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Final, Self

from ..errors import FrameError
from .services import Frame
from .structures import HPAI
from .wire import (
    _SESSION_STATUS_CODES,
    HEADER_LENGTH,
    HEADER_START,
    MAC_LENGTH,
    PUBLIC_KEY_LENGTH,
    SERIAL_LENGTH,
    ServiceType,
    SessionStatusCode,
    _expect_at_least,
    _expect_length,
    _fixed,
    _u8,
    _uint,
)

# --- KNXnet/IP Secure ------------------------------------------------------------------

# SECURE_WRAPPER, offsets in the whole frame: header(6) session id(2) sequence(6) serial(6)
# tag(2) encrypted frame(n) MAC(16). Header + session id are the MAC's additional data;
# sequence + serial + tag the CCM nonce.
WRAPPER_SESSION_ID: Final = slice(6, 8)
WRAPPER_SEQUENCE: Final = slice(8, 14)
WRAPPER_SERIAL: Final = slice(14, 20)
WRAPPER_ADDITIONAL_DATA: Final = slice(0, 8)
WRAPPER_NONCE: Final = slice(8, 22)
WRAPPER_PAYLOAD_START: Final = 22
#: header(6) + session id(2) + sequence(6) + serial(6) + tag(2) + MAC(16)
WRAPPER_OVERHEAD: Final = WRAPPER_PAYLOAD_START + MAC_LENGTH
#: The octets of a whole wrapper up to its total length: 06 10 09 50.
WRAPPER_PREFIX: Final = HEADER_START + ServiceType.SECURE_WRAPPER.to_bytes(2, "big")
_WRAPPER_FIXED = WRAPPER_OVERHEAD - HEADER_LENGTH
_WRAPPER_HEAD = WRAPPER_PAYLOAD_START - HEADER_LENGTH
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
                _fixed(self.serial, SERIAL_LENGTH, "serial number"),
                _uint(self.tag, 2, "message tag"),
                self.encrypted_frame,
                _fixed(self.mac, MAC_LENGTH, "MAC"),
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
            bytes(body[_WRAPPER_HEAD:-MAC_LENGTH]),  # encrypted_frame
            bytes(body[-MAC_LENGTH:]),  # mac
        )


@dataclass(frozen=True, slots=True)
class SessionRequest(Frame):
    """0x0951: control endpoint (route back over TCP) and the client's X25519 public key."""

    control: HPAI
    public_key: bytes

    SERVICE: ClassVar[ServiceType] = ServiceType.SESSION_REQUEST

    def body(self) -> bytes:
        return self.control.encode() + _fixed(self.public_key, PUBLIC_KEY_LENGTH, "public key")

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_length(body, HPAI.LENGTH + PUBLIC_KEY_LENGTH, "SESSION_REQUEST")
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
                _fixed(self.public_key, PUBLIC_KEY_LENGTH, "public key"),
                _fixed(self.mac, MAC_LENGTH, "MAC"),
            )
        )

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_length(body, 2 + PUBLIC_KEY_LENGTH + MAC_LENGTH, "SESSION_RESPONSE")
        return cls(int.from_bytes(body[0:2], "big"), bytes(body[2:34]), bytes(body[34:]))


@dataclass(frozen=True, slots=True)
class SessionAuthenticate(Frame):
    """0x0953: reserved 00, user id, MAC keyed with the user password."""

    user_id: int
    mac: bytes

    SERVICE: ClassVar[ServiceType] = ServiceType.SESSION_AUTHENTICATE

    def body(self) -> bytes:
        user = bytes((0, _u8(self.user_id, "user id")))
        return user + _fixed(self.mac, MAC_LENGTH, "MAC")

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_length(body, 2 + MAC_LENGTH, "SESSION_AUTHENTICATE")
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
                _fixed(self.serial, SERIAL_LENGTH, "serial number"),
                _uint(self.tag, 2, "message tag"),
                _fixed(self.mac, MAC_LENGTH, "MAC"),
            )
        )

    @classmethod
    def from_body(cls, body: bytes) -> Self:
        _expect_length(body, 6 + SERIAL_LENGTH + 2 + MAC_LENGTH, "TIMER_NOTIFY")
        return cls(
            timer=int.from_bytes(body[0:6], "big"),
            serial=bytes(body[6:12]),
            tag=int.from_bytes(body[12:14], "big"),
            mac=bytes(body[14:]),
        )
