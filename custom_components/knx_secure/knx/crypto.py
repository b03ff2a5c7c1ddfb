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
    "CcmCipher",
    "X25519PrivateKey",
    "cbc_mac",
    "ccm_cipher",
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
# Keystream windows (CcmCipher): ctr0 = sequence number (48 bits) ‖ sender (80 bits).
_SEQUENCE_SHIFT = 80
_SENDER_MASK = (1 << _SEQUENCE_SHIFT) - 1
_AHEAD_FRAMES = 8  # sequence numbers per window
_AHEAD_BLOCKS = 4  # keystream blocks per sequence number: MAC(16) + 48 octets
_AHEAD_STREAM = _AHEAD_BLOCKS * BLOCK_SIZE
_WINDOW_BLOCKS = _AHEAD_FRAMES * _AHEAD_BLOCKS
_WINDOW_SIZE = _WINDOW_BLOCKS * BLOCK_SIZE
_MAX_WINDOW_SEQUENCE = (1 << 48) - _AHEAD_FRAMES
_MAX_WINDOWS = 16  # senders per key
# Added to ctr0 repeated in every block, makes block (frame f, block b) ctr0 + f << 80 + b.
# No sum carries out of its block (the caller checks the sender and sequence).
_WINDOW_OFFSETS = sum(
    ((k // _AHEAD_BLOCKS) << _SEQUENCE_SHIFT | k % _AHEAD_BLOCKS)
    << (BLOCK_SIZE * 8 * (_WINDOW_BLOCKS - 1 - k))
    for k in range(_WINDOW_BLOCKS)
)
_BAD_COUNTER0 = "counter0 must be 16 octets"

# One CcmCipher per key and per thread (see CcmCipher on why not shared).
_local = threading.local()


class CcmCipher:
    """KNX's CCM bound to one AES key: CBC-MAC and CTR on two long-lived contexts.

    A `cryptography` context costs ~1 us to create and ~0.8 us per update() call, whatever
    the length (AES itself is ~1 ns an octet): the number of calls is the cost, so both
    contexts live as long as this object and each message takes as few calls as it can.

    - ``_cbc`` is a CBC encryptor started with a zero IV and never reset: its chaining value
      is the last block it output, kept in ``_chain``. XORing ``_chain`` into the first
      block of the next message cancels it, so one update() over a whole message is CBC-MAC
      with a zero IV. Every message is whole blocks, so the chain stays aligned.
    - ``_ecb`` is an ECB encryptor: ECB keeps no state between calls, so one update() over
      counter blocks is a CTR keystream. In both KNX layers ctr0 starts with the 48-bit
      sequence number and the next frame of a sender usually carries the next one (a
      tunnelling session counts each direction up by one), so a keystream is made for
      ``_AHEAD_FRAMES`` sequence numbers at once (one call) and kept per sender (the other
      80 bits of ctr0) in ``_windows``; the following frames then take theirs without a call.
      A window is an exact memo of AES over named counter blocks: a frame whose ctr0 is not
      in one simply makes a new window.

    Thread rule: an instance is not safe to share between threads (``_chain`` is read and
    written around each update). Take it from ``ccm_cipher(key)``, which keeps one per key
    and per thread (HA decrypts keyrings in executor threads while the loop handles frames),
    and do not keep it beyond the call that uses it.

    Callers pass B0 and ctr0 of exactly 16 octets (they build them from fixed-size parts);
    the module functions below check them.
    """

    __slots__ = ("_algorithm", "_cbc", "_chain", "_ecb", "_windows")

    def __init__(self, key: bytes) -> None:
        if len(key) not in AES_KEY_SIZES:
            raise ValueError("AES key must be 16 or 32 octets")
        self._algorithm = algorithms.AES(key)
        self._ecb: CipherContext = Cipher(self._algorithm, modes.ECB()).encryptor()  # noqa: S305
        # the rest of ctr0 (sender) -> (first sequence number, keystream of _AHEAD_FRAMES)
        self._windows: dict[int, tuple[int, bytes]] = {}
        self._restart_chain()

    def __repr__(self) -> str:
        return "CcmCipher(<key hidden>)"

    def _restart_chain(self) -> None:
        self._cbc: CipherContext = Cipher(self._algorithm, modes.CBC(_ZERO_BLOCK)).encryptor()
        self._chain = 0

    def mac(self, block0: bytes, additional: bytes, payload: bytes) -> bytes:
        """CBC-MAC with a zero IV over ``B0 ‖ len(A)(2) ‖ A ‖ P``, zero-padded: the last block."""
        return self._mac(block0, additional, payload).to_bytes(BLOCK_SIZE)

    def _mac(self, block0: bytes, additional: bytes, payload: bytes) -> int:
        """mac() as an integer (also the new chaining value)."""
        size = len(additional)
        data = b"".join(
            (
                # cancels the chaining value the context kept from its last message
                (int.from_bytes(block0) ^ self._chain).to_bytes(BLOCK_SIZE),
                size.to_bytes(2),
                additional,
                payload,
                _PADDING[-(2 + size + len(payload)) % BLOCK_SIZE],
            )
        )
        try:
            last = self._cbc.update(data)[-BLOCK_SIZE:]
        except BaseException:
            self._restart_chain()  # the context may hold part of the message
            raise
        chain = self._chain = int.from_bytes(last)
        return chain

    def ctr(self, counter0: bytes, data: bytes) -> bytes:
        """XOR `data` with the CTR keystream from `counter0` (encrypts and decrypts)."""
        length = len(data)
        if not length:
            return b""
        stream = self.keystream(counter0, length)
        return (int.from_bytes(data) ^ int.from_bytes(stream)).to_bytes(length)

    def keystream(self, counter0: bytes, length: int) -> bytes:
        """`length` (>= 1) octets of the CTR keystream from `counter0`."""
        value = int.from_bytes(counter0)
        window = self._windows.get(value & _SENDER_MASK)
        if window is not None and length <= _AHEAD_STREAM:
            index = (value >> _SEQUENCE_SHIFT) - window[0]
            if 0 <= index < _AHEAD_FRAMES:
                start = index * _AHEAD_STREAM
                return window[1][start : start + length]
        return self._new_keystream(counter0, value, length)

    def _new_keystream(self, counter0: bytes, value: int, length: int) -> bytes:
        sender = value & _SENDER_MASK
        sequence = value >> _SEQUENCE_SHIFT
        if (
            length > _AHEAD_STREAM
            or sender > _SENDER_MASK - _AHEAD_BLOCKS + 1  # a counter would carry into the seq
            or sequence > _MAX_WINDOW_SEQUENCE
        ):
            blocks = -(-length // BLOCK_SIZE)
            counters = counter0 if blocks == 1 else _counter_blocks(counter0, blocks)
            return self._ecb.update(counters)[:length]
        # every counter block of the window as one integer: no Python loop
        window = int.from_bytes(counter0 * _WINDOW_BLOCKS) + _WINDOW_OFFSETS
        stream = self._ecb.update(window.to_bytes(_WINDOW_SIZE))
        if len(self._windows) >= _MAX_WINDOWS:
            self._windows.clear()
        self._windows[sender] = (sequence, stream)
        return stream[:length]

    def seal(
        self, block0: bytes, counter0: bytes, additional: bytes, payload: bytes, mac_length: int
    ) -> bytes:
        """KNX's CCM as both layers send it: ``enc(P) ‖ enc(MAC cut to mac_length)``.

        One keystream from ctr0 covers ``MAC ‖ P`` (MAC first); the wire carries it last.
        """
        cut = 8 * (BLOCK_SIZE - mac_length)
        mac = self._mac(block0, additional, payload) >> cut
        total = mac_length + len(payload)
        stream = self.keystream(counter0, total)
        # int(P ‖ MAC) XOR int(S[ml:] ‖ S[:ml]): both rotated the same way, one XOR
        key = int.from_bytes(stream[mac_length:] + stream[:mac_length])
        return ((int.from_bytes(payload) << (8 * mac_length) | mac) ^ key).to_bytes(total)

    def open(
        self, block0: bytes, counter0: bytes, additional: bytes, sealed: bytes, mac_length: int
    ) -> bytes | None:
        """The inverse of seal: `sealed` is ``enc(P) ‖ enc(MAC)``; P, or None when the MAC
        does not verify. `block0` must already carry len(P) = len(sealed) - mac_length."""
        total = len(sealed)
        size = total - mac_length
        if size < 0 or not total:
            return None
        stream = self.keystream(counter0, total)
        key = int.from_bytes(stream[mac_length:] + stream[:mac_length])
        plain = (int.from_bytes(sealed) ^ key).to_bytes(total)
        payload = plain[:size]
        expected = self._mac(block0, additional, payload) >> 8 * (BLOCK_SIZE - mac_length)
        if not hmac.compare_digest(plain[size:], expected.to_bytes(mac_length)):
            return None
        return payload


def ccm_cipher(key: bytes) -> CcmCipher:
    """This thread's CcmCipher of `key` (kept per key and thread; ValueError for a key that
    is not 16 or 32 octets)."""
    try:
        cache: dict[bytes, CcmCipher] = _local.ciphers
    except AttributeError:
        cache = _local.ciphers = {}
    cipher = cache.get(key)
    if cipher is None:
        cipher = CcmCipher(key)
        if len(cache) >= _MAX_CACHED_KEYS:
            cache.clear()
        cache[key] = cipher
    return cipher


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
    return ccm_cipher(key).mac(block0, additional, payload)


def ctr_xor(key: bytes, counter0: bytes, data: bytes) -> bytes:
    """XOR `data` with one AES-CTR stream that starts at `counter0` (encrypts and decrypts)."""
    if not data:
        return b""
    if len(counter0) != BLOCK_SIZE:
        raise ValueError(_BAD_COUNTER0)
    return ccm_cipher(key).ctr(counter0, data)


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

    Returns the encrypted ``MAC ‖ P`` (CcmCipher.seal gives the wire order, MAC last).
    """
    if len(block0) != BLOCK_SIZE:
        raise ValueError(_BAD_BLOCK0)
    if len(counter0) != BLOCK_SIZE:
        raise ValueError(_BAD_COUNTER0)
    sealed = ccm_cipher(key).seal(block0, counter0, additional, payload, mac_length)
    return sealed[-mac_length:] + sealed[:-mac_length] if mac_length else sealed


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
    sealed = encrypted[mac_length:] + encrypted[:mac_length]
    return ccm_cipher(key).open(block0, counter0, additional, sealed, mac_length)


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
