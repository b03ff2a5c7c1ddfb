"""Cryptographic primitives of KNX Secure: KNX's CCM flavour, key derivations, X25519.

Everything here is a pure function of its inputs. AES keys are 16 octets (AES-128) on
the wire; 32-octet keys work as well because one published vector uses one.
"""

from __future__ import annotations

import functools
import hashlib
import threading

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from .errors import SessionError

__all__ = [
    "BLOCK_SIZE",
    "HANDSHAKE_COUNTER0",
    "X25519PrivateKey",
    "cbc_mac",
    "ctr_xor",
    "derive_device_authentication_key",
    "derive_keyring_password_hash",
    "derive_user_password_key",
    "generate_key_pair",
    "handshake_mac",
    "public_key_bytes",
    "session_key",
    "sha256",
    "xor_bytes",
]

BLOCK_SIZE = 16
AES_KEY_SIZES = frozenset({16, 32})
# ctr0 of the handshake MACs (SESSION_RESPONSE, SESSION_AUTHENTICATE): 14x00 ff 00.
HANDSHAKE_COUNTER0 = bytes(14) + b"\xff\x00"

PBKDF2_ITERATIONS = 65536
KEY_LENGTH = 16
USER_PASSWORD_SALT = b"user-password.1.secure.ip.knx.org"
DEVICE_AUTHENTICATION_SALT = b"device-authentication-code.1.secure.ip.knx.org"
KEYRING_PASSWORD_SALT = b"1.keyring.ets.knx.org"

_ZERO_BLOCK = bytes(BLOCK_SIZE)
_BLOCK_MASK = (1 << 128) - 1
_MAX_CACHED_KEYS = 256
_KDF_CACHE_SIZE = 64

# One ECB context per key and per thread: a context is not safe to share between
# threads (HA decrypts keyrings in executor threads while the loop handles frames),
# and creating one costs about four times the encryption of a few blocks.
_local = threading.local()


def _ecb(key: bytes) -> CipherContext:
    """The cached AES-ECB encryptor of this thread for `key` (raw block encryption)."""
    cache: dict[bytes, CipherContext] | None = getattr(_local, "ecb", None)
    if cache is None:
        cache = {}
        _local.ecb = cache
    context = cache.get(key)
    if context is None:
        if len(key) not in AES_KEY_SIZES:
            raise ValueError("AES key must be 16 or 32 octets")
        if len(cache) >= _MAX_CACHED_KEYS:
            cache.clear()
        # ECB on single blocks is the building block of CBC-MAC and CTR below.
        context = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305
        cache[key] = context
    return context


def _pad(data: bytes) -> bytes:
    """Zero-pad to a multiple of the block size (no padding when already aligned)."""
    remainder = len(data) % BLOCK_SIZE
    return data + bytes(BLOCK_SIZE - remainder) if remainder else data


def cbc_mac(key: bytes, block0: bytes, additional: bytes, payload: bytes) -> bytes:
    """CBC-MAC with a zero IV over `B0 ‖ len(A)(2) ‖ A ‖ P`, zero-padded: the last block."""
    if len(block0) != BLOCK_SIZE:
        raise ValueError("block0 must be 16 octets")
    ecb = _ecb(key)
    data = _pad(block0 + len(additional).to_bytes(2, "big") + additional + payload)
    state = 0
    for offset in range(0, len(data), BLOCK_SIZE):
        block = int.from_bytes(data[offset : offset + BLOCK_SIZE], "big") ^ state
        state = int.from_bytes(ecb.update(block.to_bytes(BLOCK_SIZE, "big")), "big")
    return state.to_bytes(BLOCK_SIZE, "big")


def _keystream(key: bytes, counter0: bytes, length: int) -> bytes:
    """AES-CTR keystream of `length` octets from `counter0` (128-bit increment)."""
    if len(counter0) != BLOCK_SIZE:
        raise ValueError("counter0 must be 16 octets")
    start = int.from_bytes(counter0, "big")
    blocks = b"".join(
        ((start + index) & _BLOCK_MASK).to_bytes(BLOCK_SIZE, "big")
        for index in range(-(-length // BLOCK_SIZE))
    )
    return _ecb(key).update(blocks)[:length]


def ctr_xor(key: bytes, counter0: bytes, data: bytes) -> bytes:
    """XOR `data` with one AES-CTR stream that starts at `counter0` (encrypts and decrypts)."""
    if not data:
        return b""
    stream = _keystream(key, counter0, len(data))
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(data), "big")


def xor_bytes(a: bytes, b: bytes) -> bytes:
    """Octet-wise XOR of two equally long byte strings."""
    if len(a) != len(b):
        raise ValueError("xor_bytes needs operands of equal length")
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def handshake_mac(key: bytes, additional: bytes) -> bytes:
    """The MAC as sent in SESSION_RESPONSE / SESSION_AUTHENTICATE (CBC-MAC, then CTR)."""
    return ctr_xor(key, HANDSHAKE_COUNTER0, cbc_mac(key, _ZERO_BLOCK, additional, b""))


def sha256(data: bytes) -> bytes:
    """SHA-256 digest."""
    return hashlib.sha256(data).digest()


def _pbkdf2(secret: bytes, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", secret, salt, PBKDF2_ITERATIONS, KEY_LENGTH)


# Each derivation costs tens of milliseconds: cache per password, so a process derives
# each one once (a keyring is loaded repeatedly, a session reconnects often).
@functools.lru_cache(maxsize=_KDF_CACHE_SIZE)
def derive_user_password_key(password: str) -> bytes:
    """Key of a tunnelling user password (PBKDF2-HMAC-SHA256, latin-1 text)."""
    return _pbkdf2(_latin1(password), USER_PASSWORD_SALT)


@functools.lru_cache(maxsize=_KDF_CACHE_SIZE)
def derive_device_authentication_key(code: str) -> bytes:
    """Key of a device authentication code (PBKDF2-HMAC-SHA256, latin-1 text)."""
    return _pbkdf2(_latin1(code), DEVICE_AUTHENTICATION_SALT)


@functools.lru_cache(maxsize=_KDF_CACHE_SIZE)
def derive_keyring_password_hash(password: str) -> bytes:
    """Hash of an ETS keyring password (PBKDF2-HMAC-SHA256, utf-8 text)."""
    return _pbkdf2(password.encode("utf-8"), KEYRING_PASSWORD_SALT)


def _latin1(text: str) -> bytes:
    # KNX defines these passwords as latin-1; a character outside it cannot be typed
    # into a device either, so encode it as utf-8 rather than fail.
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def generate_key_pair() -> tuple[X25519PrivateKey, bytes]:
    """A fresh X25519 key pair: the private key and the 32-octet raw public key."""
    private = X25519PrivateKey.generate()
    return private, public_key_bytes(private)


def public_key_bytes(private: X25519PrivateKey) -> bytes:
    """Raw 32-octet public key of `private`."""
    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def session_key(private: X25519PrivateKey, peer_public: bytes) -> bytes:
    """Session key: the first 16 octets of SHA256(X25519 shared secret)."""
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(peer_public))
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SessionError("the peer's public key is not a usable X25519 key") from exc
    return sha256(shared)[:KEY_LENGTH]
