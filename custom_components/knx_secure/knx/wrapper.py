"""The SECURE_WRAPPER codec of KNXnet/IP Secure: KNX's CCM over the wrapper layout.

``WrapperCipher`` is bound to one key (a session's, or a routing group's) and seals and
opens whole SECURE_WRAPPER frames by the layout in ``knxip`` (offsets and lengths live
there once). Pure functions of their inputs; the session machine (``session.py``) drives it.
"""

from __future__ import annotations

import struct
from typing import Final

from . import crypto, knxip
from .errors import FrameError, WrapperMacError

__all__ = [
    "MAX_SEQUENCE",
    "TIMER_NOTIFY_LENGTH",
    "TUNNELLING_TAG",
    "WRAPPER_OVERHEAD",
    "WrapperCipher",
    "check_serial",
    "check_tag",
    "decrypt_wrapper",
    "encrypt_wrapper",
    "mac_header",
    "timer_notify_mac",
]

# --- wire constants ----------------------------------------------------------------------

_HEADER: Final = knxip.HEADER_START  # header length 6, protocol version 1.0
_HEADER_LENGTH: Final = knxip.HEADER_LENGTH
_MAC_LENGTH: Final = knxip.MAC_LENGTH
_SERIAL_LENGTH: Final = knxip.SERIAL_LENGTH
_SEQUENCE_LENGTH: Final = knxip.SEQUENCE_LENGTH
MAX_SEQUENCE: Final = knxip.MAX_SEQUENCE
_MAX_FRAME_LENGTH: Final = knxip.MAX_TOTAL_LENGTH
_CTR0_SUFFIX: Final = b"\xff\x00"  # ctr0 = nonce(14) || ff 00; B0 ends in len(P) instead
_WRAPPER_PREFIX: Final = knxip.WRAPPER_PREFIX
_ADDITIONAL_DATA: Final = knxip.WRAPPER_ADDITIONAL_DATA
_NONCE: Final = knxip.WRAPPER_NONCE
_PAYLOAD_START: Final = knxip.WRAPPER_PAYLOAD_START
_NONCE_LENGTH: Final = _PAYLOAD_START - _ADDITIONAL_DATA.stop
# header 06 10 09 50 + total length + session id: the MAC's additional data
_HEAD: Final = struct.Struct(f">{len(_WRAPPER_PREFIX)}sHH")
# B0 = nonce (sequence as 16 + 32 bits, serial, tag) + the frame's length
_BLOCK0: Final = struct.Struct(">HI6sHH")

#: header(6) + session id(2) + sequence(6) + serial(6) + tag(2) + MAC(16)
WRAPPER_OVERHEAD: Final = knxip.WRAPPER_OVERHEAD
#: Message tag of unicast (tunnelling) sessions; routing uses a random tag.
TUNNELLING_TAG: Final = 0x0000
#: A TIMER_NOTIFY: header(6) timer(6) serial(6) tag(2) MAC(16).
TIMER_NOTIFY_LENGTH: Final = 36


def mac_header(service: int, total_length: int) -> bytes:
    """The 6-octet KNXnet/IP header, also the first part of every MAC's additional data."""
    return _HEADER + service.to_bytes(2, "big") + total_length.to_bytes(2, "big")


def check_serial(serial: bytes) -> bytes:
    if len(serial) != _SERIAL_LENGTH:
        raise ValueError(f"a KNX serial number has 6 octets, got {len(serial)}")
    return bytes(serial)


def check_tag(tag: int) -> int:
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
        if not 0 <= sequence <= MAX_SEQUENCE:
            raise ValueError("sequence number does not fit in 6 octets")
        if len(serial) != _SERIAL_LENGTH:  # struct would pad or cut it silently
            raise ValueError(f"a KNX serial number has 6 octets, got {len(serial)}")
        try:
            head = _HEAD.pack(_WRAPPER_PREFIX, total, session_id)
            block0 = _BLOCK0.pack(sequence >> 32, sequence & 0xFFFFFFFF, serial, tag, length)
        except struct.error as err:
            raise ValueError("session id and message tag must fit in 2 octets") from err
        nonce = block0[:_NONCE_LENGTH]
        # the cipher's (thread's) contexts are taken per call: see crypto.CcmCipher
        sealed = crypto.ccm_cipher(self._key).seal(
            block0, nonce + _CTR0_SUFFIX, head, plain_frame, _MAC_LENGTH
        )
        return head + nonce + sealed  # sealed is enc(frame) || enc(MAC), the wire's order

    def open_parts(
        self, head: bytes, nonce: bytes, encrypted_frame: bytes, encrypted_mac: bytes
    ) -> bytes:
        """Decrypt and verify; ``head`` is header + session id, ``nonce`` seq + serial + tag.

        Raises WrapperMacError when the MAC does not verify.
        """
        return self._open(head, _nonce(nonce), encrypted_frame + encrypted_mac)

    def _open(self, head: bytes, nonce: bytes, sealed: bytes) -> bytes:
        """open_parts of ``sealed`` = enc(frame) || enc(MAC), as the wire carries them."""
        plain = crypto.ccm_cipher(self._key).open(
            nonce + max(len(sealed) - _MAC_LENGTH, 0).to_bytes(2),
            nonce + _CTR0_SUFFIX,
            head,
            sealed,
            _MAC_LENGTH,
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
            nonce = _nonce(
                wrapper.sequence.to_bytes(_SEQUENCE_LENGTH)
                + wrapper.serial
                + wrapper.tag.to_bytes(2)
            )
            sealed = wrapper.encrypted_frame + wrapper.mac
        else:
            wrapper = _parse_wrapper(frame)
            # parsing checked the header: the wire octets are what re-encoding would give
            head, nonce = frame[_ADDITIONAL_DATA], frame[_NONCE]
            sealed = frame[_PAYLOAD_START:]
        return wrapper, self._open(head, nonce, sealed)

    def timer_notify_mac(self, *, timer: int, serial: bytes, tag: int) -> bytes:
        """The encrypted MAC of a TIMER_NOTIFY (empty payload)."""
        nonce = timer.to_bytes(_SEQUENCE_LENGTH, "big") + serial + tag.to_bytes(2, "big")
        head = mac_header(knxip.ServiceType.TIMER_NOTIFY, TIMER_NOTIFY_LENGTH)
        mac = self.cbc_mac(nonce + b"\x00\x00", head, b"")
        return self.ctr(nonce + _CTR0_SUFFIX, mac)[0]


def _nonce(nonce: bytes) -> bytes:
    """`nonce` (sequence + serial + tag) after checking its length: the CCM blocks are built
    from it, and a block of the wrong size would be a caller's bug, not a wire error."""
    if len(nonce) != _NONCE_LENGTH:
        raise ValueError(f"a SECURE_WRAPPER nonce has {_NONCE_LENGTH} octets, got {len(nonce)}")
    return nonce


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
        serial=check_serial(serial),
        tag=check_tag(tag),
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
        timer=timer, serial=check_serial(serial), tag=check_tag(tag)
    )
