"""The optimised CCM of crypto.py (long-lived contexts, keystream windows) against a
straightforward reference built from AES-ECB one block at a time."""

from __future__ import annotations

import threading

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from custom_components.knx_secure.knx import crypto

keys = st.sampled_from([16, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n))
blocks = st.binary(min_size=16, max_size=16)
MAX_SEQUENCE = (1 << 48) - 1


def _aes(key: bytes, block: bytes) -> bytes:
    """One AES block with a fresh ECB context: no state shared with anything."""
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def reference_mac(key: bytes, block0: bytes, additional: bytes, payload: bytes) -> bytes:
    data = block0 + len(additional).to_bytes(2, "big") + additional + payload
    data += bytes(-len(data) % 16)
    chain = bytes(16)
    for start in range(0, len(data), 16):
        chain = _aes(key, _xor(chain, data[start : start + 16]))
    return chain


def reference_ctr(key: bytes, counter0: bytes, data: bytes) -> bytes:
    counter = int.from_bytes(counter0, "big")
    stream = b""
    while len(stream) < len(data):
        stream += _aes(key, counter.to_bytes(16, "big"))
        counter = (counter + 1) % (1 << 128)
    return _xor(data, stream[: len(data)])


def reference_encrypt(
    key: bytes, block0: bytes, counter0: bytes, additional: bytes, payload: bytes, mac_length: int
) -> bytes:
    """enc(MAC cut to mac_length ‖ P): KNX's CCM, MAC first."""
    mac = reference_mac(key, block0, additional, payload)[:mac_length]
    return reference_ctr(key, counter0, mac + payload)


@given(
    key=keys,
    block0=blocks,
    counter0=blocks,
    additional=st.binary(max_size=60),
    payload=st.binary(max_size=300),
    mac_length=st.sampled_from([4, 16]),
)
def test_ccm_equals_the_block_by_block_reference(
    key: bytes,
    block0: bytes,
    counter0: bytes,
    additional: bytes,
    payload: bytes,
    mac_length: int,
) -> None:
    expected = reference_encrypt(key, block0, counter0, additional, payload, mac_length)
    encrypted = crypto.ccm_encrypt(
        key,
        block0=block0,
        counter0=counter0,
        additional=additional,
        payload=payload,
        mac_length=mac_length,
    )
    assert encrypted == expected
    assert (
        crypto.ccm_decrypt(
            key,
            block0=block0,
            counter0=counter0,
            additional=additional,
            encrypted=encrypted,
            mac_length=mac_length,
        )
        == payload
    )
    # the wire order: enc(P) ‖ enc(MAC)
    cipher = crypto.ccm_cipher(key)
    sealed = cipher.seal(block0, counter0, additional, payload, mac_length)
    assert sealed == expected[mac_length:] + expected[:mac_length]
    assert cipher.open(block0, counter0, additional, sealed, mac_length) == payload


@given(
    key=keys,
    block0=blocks,
    counter0=blocks,
    payload=st.binary(min_size=1, max_size=40),
    flip=st.integers(min_value=0),
)
def test_any_flipped_bit_fails_the_mac(
    key: bytes, block0: bytes, counter0: bytes, payload: bytes, flip: int
) -> None:
    cipher = crypto.ccm_cipher(key)
    sealed = bytearray(cipher.seal(block0, counter0, b"ad", payload, 4))
    bit = flip % (8 * len(sealed))
    sealed[bit // 8] ^= 1 << (bit % 8)
    assert cipher.open(block0, counter0, b"ad", bytes(sealed), 4) is None


# Sequence numbers as a session sends them: mostly consecutive, sometimes a jump back or far
# ahead, some near the largest (a window must not reach past it), several senders per key.
sequences = st.lists(
    st.tuples(
        st.sampled_from([0, 1, 2]),  # sender
        st.one_of(
            st.integers(min_value=0, max_value=40),
            st.integers(min_value=MAX_SEQUENCE - 20, max_value=MAX_SEQUENCE),
        ),
    ),
    min_size=1,
    max_size=40,
)


@given(
    key=keys,
    senders=st.lists(st.binary(min_size=10, max_size=10), min_size=3, max_size=3),
    frames=sequences,
    length=st.integers(min_value=1, max_value=80),
)
def test_keystream_windows_equal_the_reference(
    key: bytes, senders: list[bytes], frames: list[tuple[int, int]], length: int
) -> None:
    cipher = crypto.CcmCipher(key)
    data = bytes(range(length))
    for sender, sequence in frames:
        counter0 = sequence.to_bytes(6, "big") + senders[sender]
        assert cipher.ctr(counter0, data) == reference_ctr(key, counter0, data)


def test_consecutive_frames_take_their_keystream_from_one_window() -> None:
    key = bytes(range(16))
    cipher = crypto.CcmCipher(key)
    calls = 0
    real = cipher._ecb

    class Counting:
        def update(self, data: bytes) -> bytes:
            nonlocal calls
            calls += 1
            return real.update(data)

    cipher._ecb = Counting()  # type: ignore[assignment]
    sender = bytes(8) + b"\xff\x00"
    for sequence in range(100, 108):
        counter0 = sequence.to_bytes(6, "big") + sender
        assert cipher.ctr(counter0, bytes(37)) == reference_ctr(key, counter0, bytes(37))
    assert calls == 1


def test_an_exception_inside_the_mac_restarts_the_chain() -> None:
    key = bytes(range(16))
    cipher = crypto.CcmCipher(key)
    cipher.mac(bytes(16), b"", b"first")

    class Failing:
        def update(self, data: bytes) -> bytes:
            raise MemoryError

    cipher._cbc = Failing()  # type: ignore[assignment]
    with pytest.raises(MemoryError):
        cipher.mac(bytes(16), b"", b"lost")
    block0 = bytes(range(16))
    assert cipher.mac(block0, b"a", b"next") == reference_mac(key, block0, b"a", b"next")


def test_each_thread_has_its_own_cipher() -> None:
    key = bytes(range(16))
    here = crypto.ccm_cipher(key)
    assert crypto.ccm_cipher(key) is here
    seen: list[crypto.CcmCipher] = []
    thread = threading.Thread(target=lambda: seen.append(crypto.ccm_cipher(key)))
    thread.start()
    thread.join()
    assert seen
    assert seen[0] is not here


def test_the_cipher_hides_its_key() -> None:
    assert "00010203" not in repr(crypto.CcmCipher(bytes(range(16))))
