"""KNXnet/IP Secure: the SECURE_WRAPPER codec and the secure session state machine.

Sans-I/O: nothing here owns a socket, a task or a clock. Whole KNXnet/IP frames go
in (the asyncio edge splits the TCP stream with ``knxip.frame_length``), bytes to send
and events come out, and time is passed in as ``now`` (monotonic seconds).

One ``SecureSession`` class serves both ends of a unicast (tunnelling) session:
``SecureSession.client(...)`` for Home Assistant's side, ``SecureSession.server(...)``
for the virtual gateway.
"""

from __future__ import annotations

import hmac
import logging
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import Enum, IntEnum, StrEnum
from types import MappingProxyType
from typing import Final

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from . import crypto, knxip
from .drops import DropReason  # one vocabulary of drop reasons for every layer
from .errors import (
    AuthenticationError,
    DeviceAuthenticationError,
    FrameError,
    KNXSecureError,
    ResponseTimeoutError,
    SessionClosedError,
    SessionError,
    WrapperMacError,
)
from .knxip import SessionStatusCode

_LOGGER = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_HANDSHAKE_TIMEOUT",
    "DEFAULT_KEEPALIVE_INTERVAL",
    "DEFAULT_SESSION_TIMEOUT",
    "TUNNELLING_TAG",
    "WRAPPER_OVERHEAD",
    "DropReason",
    "EndReason",
    "FrameDropped",
    "InnerFrame",
    "OutgoingFrame",
    "Role",
    "SecureSession",
    "SessionEnded",
    "SessionEstablished",
    "SessionEvent",
    "SessionState",
    "WrapperCipher",
    "decrypt_wrapper",
    "encrypt_wrapper",
    "timer_notify_mac",
]

# --- wire constants ----------------------------------------------------------------------

_HEADER: Final = b"\x06\x10"  # header length 6, protocol version 1.0
_HEADER_LENGTH: Final = 6
_MAC_LENGTH: Final = 16
_SERIAL_LENGTH: Final = 6
_SEQUENCE_LENGTH: Final = 6
_MAX_SEQUENCE: Final = (1 << 48) - 1
_MAX_FRAME_LENGTH: Final = 0xFFFF
_CTR0_SUFFIX: Final = b"\xff\x00"  # ctr0 = nonce(14) || ff 00; B0 ends in len(P) instead
# header(6) up to its total length field: 06 10 09 50
_WRAPPER_PREFIX: Final = _HEADER + knxip.ServiceType.SECURE_WRAPPER.to_bytes(2)

#: header(6) + session id(2) + sequence(6) + serial(6) + tag(2) + MAC(16)
WRAPPER_OVERHEAD: Final = 38
#: Message tag of unicast (tunnelling) sessions; routing uses a random tag.
TUNNELLING_TAG: Final = 0x0000

_SESSION_RESPONSE_LENGTH: Final = 56
_SESSION_AUTHENTICATE_LENGTH: Final = 24
_TIMER_NOTIFY_LENGTH: Final = 36

# Services that never travel inside a wrapper: no nesting, no handshake frames.
_NOT_WRAPPABLE: Final = frozenset(
    {
        knxip.ServiceType.SECURE_WRAPPER,
        knxip.ServiceType.SESSION_REQUEST,
        knxip.ServiceType.SESSION_RESPONSE,
        knxip.ServiceType.TIMER_NOTIFY,
    }
)

DEFAULT_KEEPALIVE_INTERVAL: Final = 50.0
DEFAULT_SESSION_TIMEOUT: Final = 60.0
DEFAULT_HANDSHAKE_TIMEOUT: Final = 10.0

_FIRST_TUNNELLING_USER: Final = 2
_LAST_USER_ID: Final = 127


def _header(service: int, total_length: int) -> bytes:
    """The 6-octet KNXnet/IP header, also the first part of every MAC's additional data."""
    return _HEADER + service.to_bytes(2, "big") + total_length.to_bytes(2, "big")


def _check_serial(serial: bytes) -> bytes:
    if len(serial) != _SERIAL_LENGTH:
        raise ValueError(f"a KNX serial number has 6 octets, got {len(serial)}")
    return bytes(serial)


def _check_tag(tag: int) -> int:
    if not 0 <= tag <= 0xFFFF:
        raise ValueError(f"message tag {tag} does not fit in 2 octets")
    return tag


# --- wrapper codec ---------------------------------------------------------------------------


class WrapperCipher:
    """CCM of KNXnet/IP Secure bound to one key: built once per session (or routing
    group) so the per-frame path neither re-validates nor re-derives anything."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) not in (16, 32):
            raise ValueError(f"an AES key has 16 or 32 octets, got {len(key)}")
        self._key = bytes(key)

    def __repr__(self) -> str:
        return "WrapperCipher(<key hidden>)"

    def cbc_mac(self, block0: bytes, additional: bytes, payload: bytes) -> bytes:
        """KNX CBC-MAC: AES-CBC (zero IV) over B0 || len(A) || A || P, zero padded."""
        return crypto.cbc_mac(self._key, block0, additional, payload)

    def ctr(self, counter0: bytes, mac: bytes, payload: bytes = b"") -> tuple[bytes, bytes]:
        """One CTR stream from counter0: the 16-octet MAC first, then the payload."""
        stream = crypto.ctr_xor(self._key, counter0, mac + payload)
        return stream[:_MAC_LENGTH], stream[_MAC_LENGTH:]

    def seal(
        self, *, session_id: int, sequence: int, serial: bytes, tag: int, plain_frame: bytes
    ) -> bytes:
        """The whole SECURE_WRAPPER frame carrying ``plain_frame``."""
        length = len(plain_frame)
        total = WRAPPER_OVERHEAD + length
        if total > _MAX_FRAME_LENGTH:
            raise FrameError(f"frame of {length} octets is too long to wrap")
        if not 0 <= sequence <= _MAX_SEQUENCE:
            raise ValueError("sequence number does not fit in 6 octets")
        head = _WRAPPER_PREFIX + total.to_bytes(2) + session_id.to_bytes(2)
        nonce = sequence.to_bytes(_SEQUENCE_LENGTH) + serial + tag.to_bytes(2)
        stream = crypto.ccm_encrypt(
            self._key,
            block0=nonce + length.to_bytes(2),
            counter0=nonce + _CTR0_SUFFIX,
            additional=head,
            payload=plain_frame,
        )
        # the stream is enc(MAC) || enc(frame); the wire carries the MAC last
        return head + nonce + stream[_MAC_LENGTH:] + stream[:_MAC_LENGTH]

    def open_parts(
        self, head: bytes, nonce: bytes, encrypted_frame: bytes, encrypted_mac: bytes
    ) -> bytes:
        """Decrypt and verify; ``head`` is header + session id, ``nonce`` seq + serial + tag.

        Raises WrapperMacError when the MAC does not verify.
        """
        encrypted = encrypted_mac + encrypted_frame
        plain = crypto.ccm_decrypt(
            self._key,
            block0=nonce + max(len(encrypted) - _MAC_LENGTH, 0).to_bytes(2),
            counter0=nonce + _CTR0_SUFFIX,
            additional=head,
            encrypted=encrypted,
        )
        if plain is None:
            raise WrapperMacError("SECURE_WRAPPER MAC does not verify (wrong key or forged frame)")
        return plain

    def open(self, frame: bytes | knxip.SecureWrapper) -> tuple[knxip.SecureWrapper, bytes]:
        """Parse, decrypt and verify a SECURE_WRAPPER; returns it and the plain frame."""
        if isinstance(frame, knxip.SecureWrapper):
            wrapper = frame
            total = WRAPPER_OVERHEAD + len(wrapper.encrypted_frame)
            head = _WRAPPER_PREFIX + total.to_bytes(2) + wrapper.session_id.to_bytes(2)
            nonce = (
                wrapper.sequence.to_bytes(_SEQUENCE_LENGTH)
                + wrapper.serial
                + wrapper.tag.to_bytes(2)
            )
        else:
            wrapper = _parse_wrapper(frame)
            # parsing checked the header: the wire octets are what re-encoding would give
            head, nonce = bytes(frame[:8]), bytes(frame[8:22])
        plain = self.open_parts(head, nonce, wrapper.encrypted_frame, wrapper.mac)
        return wrapper, plain

    def timer_notify_mac(self, *, timer: int, serial: bytes, tag: int) -> bytes:
        """The encrypted MAC of a TIMER_NOTIFY (empty payload)."""
        nonce = timer.to_bytes(_SEQUENCE_LENGTH, "big") + serial + tag.to_bytes(2, "big")
        head = _header(knxip.ServiceType.TIMER_NOTIFY, _TIMER_NOTIFY_LENGTH)
        mac = self.cbc_mac(nonce + b"\x00\x00", head, b"")
        return self.ctr(nonce + _CTR0_SUFFIX, mac)[0]


def _parse_wrapper(frame: bytes) -> knxip.SecureWrapper:
    parsed = knxip.parse(frame)
    if not isinstance(parsed, knxip.SecureWrapper):
        raise FrameError(f"expected a SECURE_WRAPPER, got {parsed.SERVICE.name}")
    return parsed


def encrypt_wrapper(
    key: bytes, *, session_id: int, sequence: int, serial: bytes, tag: int, plain_frame: bytes
) -> bytes:
    """The whole SECURE_WRAPPER frame for ``plain_frame`` (a complete KNXnet/IP frame)."""
    return WrapperCipher(key).seal(
        session_id=session_id,
        sequence=sequence,
        serial=_check_serial(serial),
        tag=_check_tag(tag),
        plain_frame=plain_frame,
    )


def decrypt_wrapper(
    key: bytes, frame: bytes | knxip.SecureWrapper
) -> tuple[knxip.SecureWrapper, bytes]:
    """Verify and decrypt; FrameError if malformed, WrapperMacError if the MAC fails."""
    return WrapperCipher(key).open(frame)


def timer_notify_mac(key: bytes, *, timer: int, serial: bytes, tag: int) -> bytes:
    """The MAC field of a TIMER_NOTIFY (routing) frame, as sent."""
    return WrapperCipher(key).timer_notify_mac(
        timer=timer, serial=_check_serial(serial), tag=_check_tag(tag)
    )


# --- handshake MACs ----------------------------------------------------------------------------


def _session_response_mac(key: bytes, session_id: int, public_xor: bytes) -> bytes:
    head = _header(knxip.ServiceType.SESSION_RESPONSE, _SESSION_RESPONSE_LENGTH)
    return crypto.handshake_mac(key, head + session_id.to_bytes(2, "big") + public_xor)


def _session_authenticate_mac(key: bytes, user_id: int, public_xor: bytes) -> bytes:
    head = _header(knxip.ServiceType.SESSION_AUTHENTICATE, _SESSION_AUTHENTICATE_LENGTH)
    return crypto.handshake_mac(key, head + b"\x00" + bytes((user_id,)) + public_xor)


def _status_frame(status: SessionStatusCode) -> bytes:
    return knxip.encode(knxip.SessionStatus(status=status))


# --- events --------------------------------------------------------------------------------------


class Role(StrEnum):
    CLIENT = "client"
    SERVER = "server"


class SessionState(Enum):
    """Where a session is. Client: IDLE -> WAIT_RESPONSE -> WAIT_STATUS -> AUTHENTICATED.
    Server: IDLE -> WAIT_AUTHENTICATE -> AUTHENTICATED. Both end in CLOSED."""

    IDLE = "idle"
    WAIT_RESPONSE = "wait_response"
    WAIT_STATUS = "wait_status"
    WAIT_AUTHENTICATE = "wait_authenticate"
    AUTHENTICATED = "authenticated"
    CLOSED = "closed"


class EndReason(StrEnum):
    """Why a session ended (see ``SessionEnded.by_peer`` for who ended it)."""

    CLOSE = "close"
    TIMEOUT = "timeout"
    UNAUTHENTICATED = "unauthenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    DEVICE_AUTHENTICATION_FAILED = "device_authentication_failed"


_END_BY_STATUS: Final = {
    SessionStatusCode.AUTHENTICATION_FAILED: EndReason.AUTHENTICATION_FAILED,
    SessionStatusCode.UNAUTHENTICATED: EndReason.UNAUTHENTICATED,
    SessionStatusCode.TIMEOUT: EndReason.TIMEOUT,
    SessionStatusCode.CLOSE: EndReason.CLOSE,
}


@dataclass(frozen=True, slots=True)
class OutgoingFrame:
    """Bytes the machine wants sent to the peer, in order, as they are."""

    data: bytes


@dataclass(frozen=True, slots=True)
class SessionEstablished:
    """The session is authenticated; from now on ``wrap`` works both ways."""

    session_id: int
    user_id: int


@dataclass(frozen=True, slots=True)
class InnerFrame:
    """A verified, decrypted frame for the layer above (tunnel machine)."""

    frame: knxip.Frame
    data: bytes


@dataclass(frozen=True, slots=True)
class FrameDropped:
    """A received frame was dropped and counted; nothing to do but maybe log."""

    reason: DropReason


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """The session is over (state CLOSED); close the TCP connection."""

    reason: EndReason
    by_peer: bool
    user_id: int | None = None

    def to_error(self) -> KNXSecureError:
        """The error an edge raises or reports for this end."""
        who = "the gateway" if self.by_peer else "the session"
        match self.reason:
            case EndReason.AUTHENTICATION_FAILED:
                return AuthenticationError(
                    f"gateway refused user {self.user_id}: authentication failed "
                    "(check the tunnel's user password in the keyring)"
                )
            case EndReason.DEVICE_AUTHENTICATION_FAILED:
                return DeviceAuthenticationError(
                    "gateway did not prove the keyring's device authentication code: "
                    "it may be an impostor or the keyring is outdated"
                )
            case EndReason.TIMEOUT if not self.by_peer:
                return ResponseTimeoutError("secure session timed out")
            case _:
                return SessionClosedError(f"secure session closed by {who}: {self.reason}")


SessionEvent = OutgoingFrame | SessionEstablished | InnerFrame | FrameDropped | SessionEnded


class _Timer(IntEnum):
    """Index of what ``next_deadline`` waits for (internal)."""

    HANDSHAKE = 0
    KEEPALIVE = 1
    SILENCE = 2


# --- the session machine -------------------------------------------------------------------------


class SecureSession:
    """KNXnet/IP Secure unicast session, client or server role.

    Drive it like this (the asyncio edge):
    - client: ``send(start(now))`` after TCP connect; server: ``start(now)`` on accept.
    - on every complete frame from TCP: ``for ev in receive(frame, now)``: send each
      ``OutgoingFrame.data``, hand ``InnerFrame`` to the tunnel machine, stop on
      ``SessionEnded``.
    - to send a plain frame once authenticated: ``send(wrap(frame, now))``.
    - sleep until ``next_deadline()`` (None = nothing scheduled), then handle ``tick(now)``
      like ``receive``'s events (keepalive frames, timeouts).
    - to leave: ``send(close(now))`` (may be empty) then close TCP.
    """

    __slots__ = (
        "_cipher",
        "_device_authentication_key",
        "_dropped",
        "_handshake_timeout",
        "_keepalive_interval",
        "_last_received",
        "_last_sent",
        "_peer_public_key",
        "_private_key",
        "_public_key",
        "_receive_sequence",
        "_role",
        "_send_sequence",
        "_serial",
        "_session_id",
        "_state",
        "_state_since",
        "_tag",
        "_timeout",
        "_tunnelling_users",
        "_user_id",
        "_user_password_key",
        "_users",
    )

    def __init__(
        self,
        *,
        role: Role,
        serial: bytes,
        tag: int,
        private_key: X25519PrivateKey | None,
        device_authentication_key: bytes | None,
        user_id: int | None = None,
        user_password_key: bytes | None = None,
        session_id: int | None = None,
        users: Mapping[int, bytes] | None = None,
        tunnelling_users: Collection[int] | None = None,
        keepalive_interval: float = DEFAULT_KEEPALIVE_INTERVAL,
        timeout: float = DEFAULT_SESSION_TIMEOUT,
        handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
    ) -> None:
        """Prefer ``SecureSession.client`` / ``SecureSession.server``."""
        if private_key is None:
            private_key, public_key = crypto.generate_key_pair()
        else:
            public_key = crypto.public_key_bytes(private_key)
        self._role = role
        self._serial = _check_serial(serial)
        self._tag = _check_tag(tag)
        self._private_key = private_key
        self._public_key = public_key
        self._peer_public_key = b""
        self._device_authentication_key = device_authentication_key
        self._user_id = user_id
        self._user_password_key = user_password_key
        self._session_id = session_id
        self._users: Mapping[int, bytes] = dict(users or {})
        self._tunnelling_users = frozenset(
            tunnelling_users
            if tunnelling_users is not None
            else (u for u in self._users if u >= _FIRST_TUNNELLING_USER)
        )
        self._keepalive_interval = keepalive_interval
        self._timeout = timeout
        self._handshake_timeout = handshake_timeout
        self._cipher: WrapperCipher | None = None
        self._send_sequence = 0
        self._receive_sequence = -1  # so that the peer's first sequence number 0 is accepted
        self._state = SessionState.IDLE
        self._state_since: float | None = None
        self._last_sent: float | None = None
        self._last_received: float | None = None
        self._dropped: Counter[str] = Counter()

    @classmethod
    def client(
        cls,
        *,
        user_id: int,
        user_password_key: bytes,
        device_authentication_key: bytes | None,
        serial: bytes,
        tag: int = TUNNELLING_TAG,
        private_key: X25519PrivateKey | None = None,
        keepalive_interval: float = DEFAULT_KEEPALIVE_INTERVAL,
        handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
    ) -> SecureSession:
        """A client session. Without a device authentication key the gateway is not
        authenticated at all: pass the keyring's whenever there is one."""
        if not 1 <= user_id <= _LAST_USER_ID:
            # the user id comes from keyring data: our own error, not a ValueError
            raise SessionError(
                f"user id {user_id} is not a KNX IP Secure user id (1..{_LAST_USER_ID})"
            )
        return cls(
            role=Role.CLIENT,
            serial=serial,
            tag=tag,
            private_key=private_key,
            device_authentication_key=device_authentication_key,
            user_id=user_id,
            user_password_key=user_password_key,
            keepalive_interval=keepalive_interval,
            handshake_timeout=handshake_timeout,
        )

    @classmethod
    def server(
        cls,
        *,
        session_id: int,
        users: Mapping[int, bytes],
        device_authentication_key: bytes,
        serial: bytes,
        tunnelling_users: Collection[int] | None = None,
        tag: int = TUNNELLING_TAG,
        private_key: X25519PrivateKey | None = None,
        timeout: float = DEFAULT_SESSION_TIMEOUT,
    ) -> SecureSession:
        """A server session. ``users`` maps user id -> user password key;
        ``tunnelling_users`` defaults to every user id from 2 on."""
        if not 1 <= session_id <= 0xFFFF:
            raise ValueError("a unicast session id is 1..65535 (0 is for routing)")
        return cls(
            role=Role.SERVER,
            serial=serial,
            tag=tag,
            private_key=private_key,
            device_authentication_key=device_authentication_key,
            session_id=session_id,
            users=users,
            tunnelling_users=tunnelling_users,
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return (
            f"SecureSession(role={self._role}, state={self._state.value}, "
            f"session_id={self._session_id}, user_id={self._user_id})"
        )

    # --- queries ---------------------------------------------------------------------------------

    @property
    def role(self) -> Role:
        return self._role

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def session_id(self) -> int | None:
        """The server's session id (client: known once SESSION_RESPONSE arrived)."""
        return self._session_id

    @property
    def user_id(self) -> int | None:
        """Client: the configured user; server: the authenticated user (else None)."""
        return self._user_id

    @property
    def is_authenticated(self) -> bool:
        return self._state is SessionState.AUTHENTICATED

    @property
    def is_tunnelling_user(self) -> bool:
        """Server: whether the authenticated user may open tunnels."""
        return self._user_id is not None and self._user_id in self._tunnelling_users

    @property
    def public_key(self) -> bytes:
        return self._public_key

    @property
    def dropped(self) -> Mapping[str, int]:
        """Dropped frames by ``DropReason`` value (read-only view)."""
        return MappingProxyType(self._dropped)

    @property
    def next_send_sequence(self) -> int:
        return self._send_sequence

    @property
    def last_received_sequence(self) -> int:
        """The last accepted sequence number from the peer, -1 before the first."""
        return self._receive_sequence

    def keepalive_due(self, now: float) -> bool:
        """Client: nothing was sent for the keepalive interval."""
        deadline = self._deadline(_Timer.KEEPALIVE)
        return deadline is not None and now >= deadline

    def expired(self, now: float) -> bool:
        """Server: the client was silent too long; client: the handshake took too long."""
        for timer in (_Timer.SILENCE, _Timer.HANDSHAKE):
            deadline = self._deadline(timer)
            if deadline is not None and now >= deadline:
                return True
        return False

    def next_deadline(self) -> float | None:
        """When ``tick`` has something to do next (None: nothing scheduled)."""
        deadlines = [d for d in map(self._deadline, _Timer) if d is not None]
        return min(deadlines, default=None)

    def _deadline(self, timer: _Timer) -> float | None:
        state = self._state
        if timer is _Timer.HANDSHAKE:
            if self._role is Role.CLIENT and state in (
                SessionState.WAIT_RESPONSE,
                SessionState.WAIT_STATUS,
            ):
                assert self._state_since is not None
                return self._state_since + self._handshake_timeout
            return None
        if timer is _Timer.KEEPALIVE:
            if self._role is Role.CLIENT and state is SessionState.AUTHENTICATED:
                assert self._last_sent is not None
                return self._last_sent + self._keepalive_interval
            return None
        if self._role is Role.SERVER and state is not SessionState.CLOSED:
            if self._last_received is None:
                return None
            return self._last_received + self._timeout
        return None

    # --- commands --------------------------------------------------------------------------------

    def start(self, now: float) -> bytes:
        """Client: the SESSION_REQUEST to send. Server: arms the silence timer, returns b""."""
        if self._state is not SessionState.IDLE:
            raise SessionError(f"session already started (state {self._state.value})")
        if self._role is Role.SERVER:
            self._last_received = now
            return b""
        self._enter(SessionState.WAIT_RESPONSE, now)
        self._last_sent = now
        return knxip.encode(
            knxip.SessionRequest(control=knxip.HPAI.ROUTE_BACK_TCP, public_key=self._public_key)
        )

    def wrap(self, plain_frame: bytes, now: float) -> bytes:
        """The SECURE_WRAPPER carrying ``plain_frame``; only once authenticated."""
        if self._state is not SessionState.AUTHENTICATED:
            if self._state is SessionState.CLOSED:
                raise SessionClosedError("secure session is closed")
            raise SessionError(f"secure session is not authenticated ({self._state.value})")
        return self._seal(plain_frame, now)

    def keepalive(self, now: float) -> bytes:
        """A wrapped SESSION_STATUS(KEEPALIVE)."""
        return self.wrap(_status_frame(SessionStatusCode.KEEPALIVE), now)

    def close(self, now: float) -> bytes:
        """Ends the session: the wrapped SESSION_STATUS(CLOSE) to send, or b"" if there is no
        session key yet or the session is already closed."""
        if self._state is SessionState.CLOSED:
            return b""
        data = b""
        if self._cipher is not None:
            data = self._seal(_status_frame(SessionStatusCode.CLOSE), now)
        self._enter(SessionState.CLOSED, now)
        return data

    def tick(self, now: float) -> list[SessionEvent]:
        """Timers: keepalive (client), handshake timeout (client), silence timeout (server)."""
        if self._state is SessionState.CLOSED:
            return []
        if self.expired(now):
            events: list[SessionEvent] = []
            if self._role is Role.SERVER and self._cipher is not None:
                # tell the client why, if it can still read us
                events.append(
                    OutgoingFrame(self._seal(_status_frame(SessionStatusCode.TIMEOUT), now))
                )
            self._enter(SessionState.CLOSED, now)
            events.append(SessionEnded(EndReason.TIMEOUT, by_peer=False, user_id=self._user_id))
            return events
        if self.keepalive_due(now):
            return [OutgoingFrame(self.keepalive(now))]
        return []

    # --- receiving -------------------------------------------------------------------------------

    def receive(self, frame: bytes, now: float) -> list[SessionEvent]:
        """Handle one complete KNXnet/IP frame from the peer. Never raises for bad input:
        anything wrong is dropped, counted in ``dropped`` and reported as FrameDropped."""
        if self._state is SessionState.CLOSED:
            return self._drop(DropReason.UNEXPECTED)
        if len(frame) < _HEADER_LENGTH or frame[:2] != _HEADER:
            return self._drop(DropReason.MALFORMED)
        if self._role is Role.SERVER and self._last_received is None:
            self._last_received = now  # server used without start(): arm on first frame
        service = int.from_bytes(frame[2:4], "big")
        if service == knxip.ServiceType.SECURE_WRAPPER:
            return self._receive_wrapper(frame, now)
        if self._role is Role.CLIENT and service == knxip.ServiceType.SESSION_RESPONSE:
            return self._receive_session_response(frame, now)
        if self._role is Role.SERVER and service == knxip.ServiceType.SESSION_REQUEST:
            return self._receive_session_request(frame, now)
        return self._drop(DropReason.UNEXPECTED)

    def _receive_session_request(self, frame: bytes, now: float) -> list[SessionEvent]:
        if self._state is not SessionState.IDLE:
            return self._drop(DropReason.UNEXPECTED)
        parsed = _parse_as(frame, knxip.SessionRequest)
        if parsed is None:
            return self._drop(DropReason.MALFORMED)
        if not self._agree_key(parsed.public_key):
            return self._drop(DropReason.MALFORMED)
        assert self._session_id is not None
        assert self._device_authentication_key is not None
        mac = _session_response_mac(
            self._device_authentication_key, self._session_id, self._public_xor()
        )
        response = knxip.SessionResponse(
            session_id=self._session_id, public_key=self._public_key, mac=mac
        )
        self._last_received = now
        self._enter(SessionState.WAIT_AUTHENTICATE, now)
        return [OutgoingFrame(knxip.encode(response))]

    def _receive_session_response(self, frame: bytes, now: float) -> list[SessionEvent]:
        if self._state is not SessionState.WAIT_RESPONSE:
            return self._drop(DropReason.UNEXPECTED)
        parsed = _parse_as(frame, knxip.SessionResponse)
        if parsed is None or parsed.session_id == 0:
            return self._drop(DropReason.MALFORMED)
        public_xor = crypto.xor_bytes(self._public_key, parsed.public_key)
        if self._device_authentication_key is not None:
            expected = _session_response_mac(
                self._device_authentication_key, parsed.session_id, public_xor
            )
            if not hmac.compare_digest(expected, parsed.mac):
                _LOGGER.warning("SESSION_RESPONSE MAC does not verify: refusing the gateway")
                self._enter(SessionState.CLOSED, now)
                return [
                    SessionEnded(
                        EndReason.DEVICE_AUTHENTICATION_FAILED, by_peer=True, user_id=self._user_id
                    )
                ]
        if not self._agree_key(parsed.public_key):
            return self._drop(DropReason.MALFORMED)
        self._session_id = parsed.session_id
        assert self._user_id is not None
        assert self._user_password_key is not None
        authenticate = knxip.SessionAuthenticate(
            user_id=self._user_id,
            mac=_session_authenticate_mac(self._user_password_key, self._user_id, public_xor),
        )
        self._last_received = now
        self._enter(SessionState.WAIT_STATUS, now)
        return [OutgoingFrame(self._seal(knxip.encode(authenticate), now))]

    def _agree_key(self, peer_public_key: bytes) -> bool:
        """Derive the session key; False for a peer key X25519 rejects (low order point)."""
        try:
            key = crypto.session_key(self._private_key, peer_public_key)
        except (ValueError, KNXSecureError):
            return False
        self._peer_public_key = bytes(peer_public_key)
        self._cipher = WrapperCipher(key)
        return True

    def _public_xor(self) -> bytes:
        return crypto.xor_bytes(self._public_key, self._peer_public_key)

    def _receive_wrapper(self, frame: bytes, now: float) -> list[SessionEvent]:
        cipher = self._cipher
        if cipher is None:
            return self._drop(DropReason.UNEXPECTED)
        if len(frame) < WRAPPER_OVERHEAD or int.from_bytes(frame[4:6], "big") != len(frame):
            return self._drop(DropReason.MALFORMED)
        if int.from_bytes(frame[6:8], "big") != self._session_id:
            return self._drop(DropReason.SESSION_ID)
        if frame[14:20] == self._serial:
            # Both directions of a unicast session share key and session id, so a wrapper we
            # sent verifies for us too: a man in the middle could reflect our own
            # SESSION_STATUS(CLOSE) or keepalives back to us. The serial number is the only
            # field that tells the sender (the message tag is 0000 both ways in tunnelling:
            # xknx and real gateways send 0000, so it cannot tell the direction). Peers use
            # their own serial: a gateway its device serial, xknx 0000786b6e78, our client
            # 00fa + 4 random octets chosen to differ from the keyring's devices. So a
            # wrapper carrying our serial is one of ours, whatever its sequence number.
            return self._drop(DropReason.REFLECTED)
        sequence = int.from_bytes(frame[8:14], "big")
        if sequence <= self._receive_sequence:
            return self._drop(DropReason.REPLAY)
        try:
            plain = cipher.open_parts(frame[:8], frame[8:22], frame[22:-16], frame[-16:])
        except WrapperMacError:
            return self._drop(DropReason.MAC)
        # only a verified frame moves the window and proves the peer alive
        self._receive_sequence = sequence
        self._last_received = now
        return self._receive_inner(plain, now)

    def _receive_inner(self, plain: bytes, now: float) -> list[SessionEvent]:
        try:
            inner = knxip.parse(plain)
        except FrameError:
            return self._drop(DropReason.MALFORMED)
        if inner.SERVICE in _NOT_WRAPPABLE:
            return self._drop(DropReason.UNEXPECTED)
        if isinstance(inner, knxip.SessionStatus):
            return self._receive_status(inner.status, now)
        if isinstance(inner, knxip.SessionAuthenticate):
            return self._receive_authenticate(inner, now)
        if self._state is SessionState.AUTHENTICATED:
            return [InnerFrame(inner, plain)]
        if self._role is Role.SERVER:
            return self._refuse_unauthenticated(now)
        return self._drop(DropReason.UNEXPECTED)

    def _receive_authenticate(
        self, frame: knxip.SessionAuthenticate, now: float
    ) -> list[SessionEvent]:
        if self._role is not Role.SERVER:
            return self._drop(DropReason.UNEXPECTED)
        if self._state is not SessionState.WAIT_AUTHENTICATE:
            return self._drop(DropReason.UNEXPECTED)
        key = self._users.get(frame.user_id)
        expected = (
            _session_authenticate_mac(key, frame.user_id, self._public_xor())
            if key is not None
            else None
        )
        if expected is None or not hmac.compare_digest(expected, frame.mac):
            # one try per session: a client guessing passwords pays a full handshake each time
            _LOGGER.info(
                "session %s: user %s failed to authenticate", self._session_id, frame.user_id
            )
            data = self._seal(_status_frame(SessionStatusCode.AUTHENTICATION_FAILED), now)
            self._enter(SessionState.CLOSED, now)
            return [
                OutgoingFrame(data),
                SessionEnded(EndReason.AUTHENTICATION_FAILED, by_peer=False, user_id=frame.user_id),
            ]
        self._user_id = frame.user_id
        data = self._seal(_status_frame(SessionStatusCode.AUTHENTICATION_SUCCESS), now)
        self._enter(SessionState.AUTHENTICATED, now)
        assert self._session_id is not None
        return [OutgoingFrame(data), SessionEstablished(self._session_id, frame.user_id)]

    def _refuse_unauthenticated(self, now: float) -> list[SessionEvent]:
        """Server: a wrapped frame other than SESSION_AUTHENTICATE before authentication."""
        data = self._seal(_status_frame(SessionStatusCode.UNAUTHENTICATED), now)
        self._enter(SessionState.CLOSED, now)
        return [OutgoingFrame(data), SessionEnded(EndReason.UNAUTHENTICATED, by_peer=False)]

    def _receive_status(self, status: SessionStatusCode, now: float) -> list[SessionEvent]:
        if status is SessionStatusCode.KEEPALIVE:
            if self._state is SessionState.AUTHENTICATED:
                return []  # receiving it already refreshed the silence timer
            if self._role is Role.SERVER:
                return self._refuse_unauthenticated(now)
            return self._drop(DropReason.UNEXPECTED)
        if (
            self._role is Role.CLIENT
            and self._state is SessionState.WAIT_STATUS
            and status is SessionStatusCode.AUTHENTICATION_SUCCESS
        ):
            self._enter(SessionState.AUTHENTICATED, now)
            assert self._session_id is not None
            assert self._user_id is not None
            return [SessionEstablished(self._session_id, self._user_id)]
        reason = _END_BY_STATUS.get(status)
        if reason is None:
            # AUTHENTICATION_SUCCESS outside the handshake, or sent by a client
            return self._drop(DropReason.UNEXPECTED)
        if reason is EndReason.AUTHENTICATION_FAILED and not (
            self._role is Role.CLIENT and self._state is SessionState.WAIT_STATUS
        ):
            return self._drop(DropReason.UNEXPECTED)
        self._enter(SessionState.CLOSED, now)
        return [SessionEnded(reason, by_peer=True, user_id=self._user_id)]

    # --- helpers ---------------------------------------------------------------------------------

    def _seal(self, plain_frame: bytes, now: float) -> bytes:
        assert self._cipher is not None
        assert self._session_id is not None
        sequence = self._send_sequence
        if sequence > _MAX_SEQUENCE:
            raise SessionError("session sequence number exhausted: open a new session")
        data = self._cipher.seal(
            session_id=self._session_id,
            sequence=sequence,
            serial=self._serial,
            tag=self._tag,
            plain_frame=plain_frame,
        )
        self._send_sequence = sequence + 1
        self._last_sent = now
        return data

    def _enter(self, state: SessionState, now: float) -> None:
        _LOGGER.debug(
            "session %s (%s): %s -> %s",
            self._session_id,
            self._role,
            self._state.value,
            state.value,
        )
        self._state = state
        self._state_since = now

    def _drop(self, reason: DropReason) -> list[SessionEvent]:
        self._dropped[reason] += 1
        _LOGGER.debug("session %s (%s): dropped a frame: %s", self._session_id, self._role, reason)
        return [FrameDropped(reason)]


def _parse_as[F: knxip.Frame](data: bytes, kind: type[F]) -> F | None:
    """Parse a whole frame expecting ``kind``; None if malformed or something else."""
    try:
        frame = knxip.parse(data)
    except FrameError:
        return None
    return frame if isinstance(frame, kind) else None
