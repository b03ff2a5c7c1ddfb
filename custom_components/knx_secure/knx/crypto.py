"""Cryptographic primitives of KNX Secure: KNX's CCM flavour, key derivations, X25519.

Everything here is a pure function of its inputs. AES keys are 16 octets (AES-128) on
the wire; 32-octet keys work as well because one published vector uses one.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import threading
from collections.abc import Callable, Mapping
from typing import NamedTuple

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
    "ccm_decrypt",
    "ccm_encrypt",
    "ctr_xor",
    "derive_device_authentication_key",
    "derive_keyring_password_hash",
    "derive_session_keys",
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
# One-octet bytes objects: the last octet of a counter block without a carry.
_OCTETS = tuple(bytes((value,)) for value in range(256))
# The zero padding that makes n octets whole blocks, by n % 16 (CBC-MAC).
_PADDING = tuple(bytes(size) for size in range(BLOCK_SIZE))
_BAD_BLOCK0 = "block0 must be 16 octets"
_BAD_COUNTER0 = "counter0 must be 16 octets"

# Contexts per key and per thread: a context is not safe to share between threads (HA
# decrypts keyrings in executor threads while the loop handles frames), and creating one
# costs several times what encrypting a few blocks does.
_local = threading.local()


class _Contexts:
    """The AES contexts of one key in one thread.

    ``cbc`` is a CBC encryptor created with a zero IV that is never reset: its chaining
    value is the last block it output, kept here in ``chain``. XORing ``chain`` into the
    first block of a message cancels it, so one update() over the whole message yields
    CBC-MAC with a zero IV (one call instead of one ECB call per block).
    """

    __slots__ = ("cbc", "chain", "ecb")

    def __init__(self, key: bytes) -> None:
        if len(key) not in AES_KEY_SIZES:
            raise ValueError("AES key must be 16 or 32 octets")
        algorithm = algorithms.AES(key)
        # ECB on whole counter blocks is the keystream of CTR below.
        self.ecb: CipherContext = Cipher(algorithm, modes.ECB()).encryptor()  # noqa: S305
        self.cbc: CipherContext = Cipher(algorithm, modes.CBC(_ZERO_BLOCK)).encryptor()
        self.chain = 0


def _take(key: bytes) -> tuple[dict[bytes, _Contexts], _Contexts]:
    """This thread's contexts of `key`, taken out of its cache while they are in use (the
    caller puts them back): an exception half way through a MAC then cannot leave a stale
    ``chain`` behind."""
    cache: dict[bytes, _Contexts] | None = getattr(_local, "contexts", None)
    if cache is None:
        cache = _local.contexts = {}
    contexts = cache.pop(key, None)
    if contexts is None:
        contexts = _Contexts(key)
        if len(cache) >= _MAX_CACHED_KEYS:
            cache.clear()
    return cache, contexts


def _cbc_mac(contexts: _Contexts, block0: bytes, additional: bytes, payload: bytes) -> bytes:
    # The first block cancels the chaining value the CBC context kept from its last use.
    first = (int.from_bytes(block0) ^ contexts.chain).to_bytes(BLOCK_SIZE)
    padding = _PADDING[-(2 + len(additional) + len(payload)) % BLOCK_SIZE]
    data = b"".join((first, len(additional).to_bytes(2), additional, payload, padding))
    mac = contexts.cbc.update(data)[-BLOCK_SIZE:]
    contexts.chain = int.from_bytes(mac)
    return mac


def _ctr_xor(contexts: _Contexts, counter0: bytes, data: bytes) -> bytes:
    length = len(data)
    if length <= BLOCK_SIZE:
        if not length:
            return b""
        blocks = counter0  # the common short APDU: one block, no counter to build
    else:
        blocks = _counter_blocks(counter0, -(-length // BLOCK_SIZE))
    stream = contexts.ecb.update(blocks)
    return (int.from_bytes(data) ^ int.from_bytes(stream[:length])).to_bytes(length)


def _counter_blocks(counter0: bytes, count: int) -> bytes:
    """`count` counter blocks from `counter0` (128-bit increment)."""
    low = counter0[-1]
    if low + count <= len(_OCTETS):
        # no carry out of the last octet: prefix o0 prefix o1 ... without a Python loop
        prefix = counter0[:-1]
        return prefix + prefix.join(_OCTETS[low : low + count])
    start = int.from_bytes(counter0)
    return b"".join(((start + index) & _BLOCK_MASK).to_bytes(BLOCK_SIZE) for index in range(count))


def cbc_mac(key: bytes, block0: bytes, additional: bytes, payload: bytes) -> bytes:
    """CBC-MAC with a zero IV over `B0 ‖ len(A)(2) ‖ A ‖ P`, zero-padded: the last block."""
    if len(block0) != BLOCK_SIZE:
        raise ValueError(_BAD_BLOCK0)
    cache, contexts = _take(key)
    mac = _cbc_mac(contexts, block0, additional, payload)
    cache[key] = contexts
    return mac


def ctr_xor(key: bytes, counter0: bytes, data: bytes) -> bytes:
    """XOR `data` with one AES-CTR stream that starts at `counter0` (encrypts and decrypts)."""
    if not data:
        return b""
    if len(counter0) != BLOCK_SIZE:
        raise ValueError(_BAD_COUNTER0)
    cache, contexts = _take(key)
    out = _ctr_xor(contexts, counter0, data)
    cache[key] = contexts
    return out


def ccm_encrypt(
    key: bytes,
    *,
    block0: bytes,
    counter0: bytes,
    additional: bytes,
    payload: bytes,
    mac_length: int = BLOCK_SIZE,
) -> bytes:
    """KNX's CCM: CBC-MAC cut to `mac_length`, then one CTR stream over ``MAC ‖ P``.

    Returns the encrypted ``MAC ‖ P``; both KNX Secure layers place its parts themselves.
    """
    if len(block0) != BLOCK_SIZE:
        raise ValueError(_BAD_BLOCK0)
    if len(counter0) != BLOCK_SIZE:
        raise ValueError(_BAD_COUNTER0)
    cache, contexts = _take(key)
    mac = _cbc_mac(contexts, block0, additional, payload)
    out = _ctr_xor(contexts, counter0, mac[:mac_length] + payload)
    cache[key] = contexts
    return out


def ccm_decrypt(
    key: bytes,
    *,
    block0: bytes,
    counter0: bytes,
    additional: bytes,
    encrypted: bytes,
    mac_length: int = BLOCK_SIZE,
) -> bytes | None:
    """The inverse of ccm_encrypt: `encrypted` is ``enc(MAC ‖ P)``; P, or None when the
    MAC does not verify. `block0` must already carry len(P) = len(encrypted) - mac_length.
    """
    # checked in the order of the work: CTR first, then the MAC
    if len(counter0) != BLOCK_SIZE:
        raise ValueError(_BAD_COUNTER0)
    if len(block0) != BLOCK_SIZE:
        raise ValueError(_BAD_BLOCK0)
    cache, contexts = _take(key)
    plain = _ctr_xor(contexts, counter0, encrypted)
    payload = plain[mac_length:]
    expected = _cbc_mac(contexts, block0, additional, payload)
    cache[key] = contexts
    if not hmac.compare_digest(plain[:mac_length], expected[:mac_length]):
        return None
    return payload


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


class _Memo:
    """A bounded memo of one slow derivation (PBKDF2 costs tens of milliseconds): a process
    derives each secret once (a keyring is loaded repeatedly, a session reconnects often).
    ``peek`` answers without deriving, so callers on the event loop know when to go off it."""

    __slots__ = ("__dict__", "_derive", "_hits", "_misses", "_values")

    def __init__(self, derive: Callable[[str], bytes]) -> None:
        self._derive = derive
        self._values: dict[str, bytes] = {}
        self._hits = self._misses = 0
        functools.update_wrapper(self, derive)

    def __call__(self, secret: str) -> bytes:
        value = self._values.get(secret)
        if value is not None:
            self._hits += 1
        else:
            self._misses += 1
            value = self._derive(secret)
            if len(self._values) >= _KDF_CACHE_SIZE:
                self._values.clear()
            self._values[secret] = value
        return value

    def peek(self, secret: str) -> bytes | None:
        return self._values.get(secret)

    def cache_clear(self) -> None:
        self._values.clear()

    def cache_info(self) -> CacheInfo:
        """Like ``functools.lru_cache``'s (``peek`` counts as neither hit nor miss)."""
        return CacheInfo(self._hits, self._misses, _KDF_CACHE_SIZE, len(self._values))


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    maxsize: int
    currsize: int


@_Memo
def derive_user_password_key(password: str) -> bytes:
    """Key of a tunnelling user password (PBKDF2-HMAC-SHA256, latin-1 text)."""
    return _pbkdf2(_latin1(password), USER_PASSWORD_SALT)


@_Memo
def derive_device_authentication_key(code: str) -> bytes:
    """Key of a device authentication code (PBKDF2-HMAC-SHA256, latin-1 text)."""
    return _pbkdf2(_latin1(code), DEVICE_AUTHENTICATION_SALT)


@_Memo
def derive_keyring_password_hash(password: str) -> bytes:
    """Hash of an ETS keyring password (PBKDF2-HMAC-SHA256, utf-8 text)."""
    return _pbkdf2(password.encode("utf-8"), KEYRING_PASSWORD_SALT)


async def derive_session_keys[K](
    user_passwords: Mapping[K, str], device_code: str | None
) -> tuple[dict[K, bytes], bytes | None]:
    """The keys of a secure session's handshake, for both roles: every user password key
    and the device authentication key. Never on the event loop: each derivation not yet
    known runs in a short-lived thread of its own, side by side (PBKDF2 releases the GIL),
    and the thread is gone when this returns (no executor threads left behind)."""
    jobs: list[tuple[_Memo, str]] = [(derive_user_password_key, p) for p in user_passwords.values()]
    if device_code is not None:
        jobs.append((derive_device_authentication_key, device_code))
    keys = await asyncio.gather(*(_derive_off_loop(memo, secret) for memo, secret in jobs))
    users = dict(zip(user_passwords, keys, strict=False))
    return users, keys[-1] if device_code is not None else None


async def _derive_off_loop(memo: _Memo, secret: str) -> bytes:
    known = memo.peek(secret)
    if known is not None:
        return known
    loop = asyncio.get_running_loop()
    future: asyncio.Future[bytes] = loop.create_future()

    def run() -> None:
        try:
            key = memo(secret)
        except BaseException as err:  # handed to the awaiting coroutine
            loop.call_soon_threadsafe(_settle, future, None, err)
        else:
            loop.call_soon_threadsafe(_settle, future, key, None)

    thread = threading.Thread(target=run, name="knx-secure-kdf", daemon=True)
    thread.start()
    key = await future
    thread.join()  # it has handed over its result: returns at once
    return key


def _settle(future: asyncio.Future[bytes], key: bytes | None, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert key is not None
        future.set_result(key)


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
