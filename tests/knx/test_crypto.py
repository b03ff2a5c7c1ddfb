"""crypto.py against the published vectors (AN159, xknx) and against `cryptography` itself."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from custom_components.knx_secure.knx import crypto
from custom_components.knx_secure.knx.errors import KNXSecureError, SessionError

from .conftest import TIMER_NOTIFY_IDS, get_vector

h = bytes.fromhex


def _cbc_last_block(key: bytes, data: bytes) -> bytes:
    """Independent CBC-MAC: AES-CBC (zero IV) of zero-padded data, last block."""
    padded = data + bytes(-len(data) % 16)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    return (encryptor.update(padded) + encryptor.finalize())[-16:]


def _ctr(key: bytes, counter0: bytes, data: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CTR(counter0)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


# --- key derivations ------------------------------------------------------------------


@pytest.mark.parametrize("vector_id", ["an159.kdf.user_password", "kdf_user_password"])
def test_user_password_key_vectors(vector_id: str) -> None:
    v = get_vector(vector_id)
    inputs = v["input"] if "input" in v else v["inputs"]
    expected = v["expected"] if isinstance(v["expected"], str) else v["expected"]["key"]
    assert crypto.derive_user_password_key(inputs["password"]) == h(expected)


@pytest.mark.parametrize("vector_id", ["an159.kdf.device_auth", "kdf_device_authentication_code"])
def test_device_authentication_key_vectors(vector_id: str) -> None:
    v = get_vector(vector_id)
    inputs = v["input"] if "input" in v else v["inputs"]
    expected = v["expected"] if isinstance(v["expected"], str) else v["expected"]["key"]
    assert crypto.derive_device_authentication_key(inputs["password"]) == h(expected)


def test_keyring_password_hash_matches_pbkdf2() -> None:
    expected = hashlib.pbkdf2_hmac("sha256", b"pwd", b"1.keyring.ets.knx.org", 65536, 16)
    assert crypto.derive_keyring_password_hash("pwd") == expected


def test_keyring_password_hash_is_utf8_and_user_password_latin1() -> None:
    # Differently encoded text must give the keys of the respective encodings.
    expected_keyring = hashlib.pbkdf2_hmac(
        "sha256", "pä".encode(), b"1.keyring.ets.knx.org", 65536, 16
    )
    expected_user = hashlib.pbkdf2_hmac(
        "sha256", "pä".encode("latin-1"), b"user-password.1.secure.ip.knx.org", 65536, 16
    )
    assert crypto.derive_keyring_password_hash("pä") == expected_keyring
    assert crypto.derive_user_password_key("pä") == expected_user


def test_kdfs_are_cached_per_password() -> None:
    crypto.derive_device_authentication_key("trustme")
    before = crypto.derive_device_authentication_key.cache_info()
    again = crypto.derive_device_authentication_key("trustme")
    after = crypto.derive_device_authentication_key.cache_info()
    assert again == h("e158e4012047bd6cc41aafbc5c04c1fc")
    assert after.hits == before.hits + 1
    assert after.misses == before.misses


# --- CBC-MAC and CTR ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "vector_id", ["cbc_mac_session_response", "cbc_mac_secure_wrapper_routing_indication"]
)
def test_cbc_mac_vectors(vector_id: str) -> None:
    inputs: dict[str, Any] = get_vector(vector_id)["inputs"]
    mac = crypto.cbc_mac(
        h(inputs["key"]), h(inputs["block_0"]), h(inputs["additional_data"]), h(inputs["payload"])
    )
    assert mac == h(get_vector(vector_id)["expected"]["mac_cbc"])


def test_ctr_vector_mac_first_then_payload_in_one_stream() -> None:
    v = get_vector("ctr_encrypt_secure_wrapper_routing_indication")
    inputs = v["inputs"]
    out = crypto.ctr_xor(
        h(inputs["key"]), h(inputs["counter_0"]), h(inputs["mac_cbc"]) + h(inputs["payload"])
    )
    assert out[:16] == h(v["expected"]["encrypted_mac"])
    assert out[16:] == h(v["expected"]["encrypted_payload"])


def test_an159_routing_wrapper_parts() -> None:
    v = get_vector("an159.routing_wrapper")
    inputs = v["input"]
    key = h(inputs["backbone_key"])
    seq, serial, tag = h(inputs["timer(seq)"]), h(inputs["serial"]), h(inputs["tag"])
    plain = h(inputs["inner_routing_indication"])
    block0 = seq + serial + tag + len(plain).to_bytes(2, "big")
    mac = crypto.cbc_mac(key, block0, h(inputs["header+sid"]), plain)
    assert mac == h(v["expected"]["mac_cbc"])
    out = crypto.ctr_xor(key, seq + serial + tag + b"\xff\x00", mac + plain)
    assert out[:16] == h(v["expected"]["encrypted_mac"])
    assert out[16:] == h(v["expected"]["encrypted_inner"])
    # decryption is the same operation
    assert crypto.ctr_xor(key, seq + serial + tag + b"\xff\x00", out) == mac + plain


@pytest.mark.parametrize("vector_id", TIMER_NOTIFY_IDS)
def test_timer_notify_mac_with_32_octet_key(vector_id: str) -> None:
    v = get_vector(vector_id)
    inputs = v["inputs"]
    key = h(inputs["backbone_key"])
    assert len(key) == 32
    prefix = (
        inputs["timer_value"].to_bytes(6, "big")
        + h(inputs["serial_number"])
        + h(inputs["message_tag"])
    )
    mac = crypto.cbc_mac(key, prefix + b"\x00\x00", h("061009550024"), b"")
    assert crypto.ctr_xor(key, prefix + b"\xff\x00", mac) == h(v["expected"]["mac"])


def test_handshake_mac_session_response() -> None:
    v = get_vector("an159.session")
    key = crypto.derive_device_authentication_key(v["input"]["device_authentication_password"])
    additional = h(v["derived"]["session_response_mac_additional_data"])
    assert crypto.cbc_mac(key, bytes(16), additional, b"") == h(v["expected"]["mac_cbc"])
    assert crypto.handshake_mac(key, additional) == h(v["expected"]["mac_encrypted"])
    # and it is the MAC at the end of the quoted SESSION_RESPONSE frame
    assert h(v["session_response_frame"])[-16:] == crypto.handshake_mac(key, additional)


def test_handshake_mac_session_authenticate() -> None:
    v = get_vector("an159.session_authenticate")
    inputs = v["input"]
    key = crypto.derive_user_password_key("secret")
    assert key == h(inputs["user_password_key"])
    additional = h("06100953001800") + bytes([inputs["user_id"]]) + h(inputs["pub_xor"])
    frame = h(v["session_authenticate"])
    assert crypto.handshake_mac(key, additional) == frame[-16:]


# --- X25519 / session key ------------------------------------------------------------------


def test_sha256_vector() -> None:
    v = get_vector("sha256")
    digest = crypto.sha256(h(v["inputs"]["data"]))
    assert digest == h(v["expected"]["sha256"])
    assert digest[:16] == h(v["expected"]["session_key"])


def test_an159_session_key_and_public_key() -> None:
    v = get_vector("an159.session")
    private = X25519PrivateKey.from_private_bytes(h(v["input"]["client_private_key"]))
    server_public = h(v["input"]["server_public_key"])
    assert crypto.public_key_bytes(private) == h(v["derived"]["client_public_key"])
    assert crypto.session_key(private, server_public) == h(v["derived"]["session_key"])
    pub_xor = crypto.xor_bytes(crypto.public_key_bytes(private), server_public)
    assert pub_xor == h(v["expected"]["pub_xor_in_a_data"])


def test_generated_key_pairs_agree_on_the_session_key() -> None:
    client, client_public = crypto.generate_key_pair()
    server, server_public = crypto.generate_key_pair()
    assert len(client_public) == 32
    assert client_public == crypto.public_key_bytes(client)
    assert client_public != server_public
    key = crypto.session_key(client, server_public)
    assert key == crypto.session_key(server, client_public)
    # an independent computation of the same key
    shared = server.exchange(X25519PublicKey.from_public_bytes(client_public))
    assert key == hashlib.sha256(shared).digest()[:16]


@pytest.mark.parametrize("peer", [b"", bytes(31), bytes(32)])
def test_session_key_rejects_bad_peer_keys(peer: bytes) -> None:
    private, _ = crypto.generate_key_pair()
    with pytest.raises(SessionError):
        crypto.session_key(private, peer)
    assert issubclass(SessionError, KNXSecureError)


# --- helpers and edge cases ---------------------------------------------------------------


def test_xor_bytes() -> None:
    assert crypto.xor_bytes(h("00ff0f"), h("0f0fff")) == h("0ff0f0")
    assert crypto.xor_bytes(b"", b"") == b""
    with pytest.raises(ValueError, match="equal length"):
        crypto.xor_bytes(b"\x00", b"")


def test_ctr_counter_wraps_at_128_bits() -> None:
    key = bytes(range(16))
    counter0 = b"\xff" * 16
    data = bytes(40)
    assert crypto.ctr_xor(key, counter0, data) == _ctr(key, counter0, data)


def test_ctr_of_empty_data() -> None:
    assert crypto.ctr_xor(bytes(16), bytes(16), b"") == b""


@pytest.mark.parametrize("length", [0, 8, 15, 24, 33])
def test_wrong_key_lengths_are_rejected(length: int) -> None:
    with pytest.raises(ValueError, match="16 or 32"):
        crypto.cbc_mac(bytes(length), bytes(16), b"", b"x")
    with pytest.raises(ValueError, match="16 or 32"):
        crypto.ctr_xor(bytes(length), bytes(16), b"x")


def test_wrong_block_lengths_are_rejected() -> None:
    with pytest.raises(ValueError, match="block0"):
        crypto.cbc_mac(bytes(16), bytes(15), b"", b"")
    with pytest.raises(ValueError, match="counter0"):
        crypto.ctr_xor(bytes(16), bytes(17), b"x")


keys = st.sampled_from([16, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n))


@given(
    key=keys,
    block0=st.binary(min_size=16, max_size=16),
    a=st.binary(max_size=70),
    p=st.binary(max_size=70),
)
def test_cbc_mac_equals_aes_cbc_last_block(key: bytes, block0: bytes, a: bytes, p: bytes) -> None:
    expected = _cbc_last_block(key, block0 + len(a).to_bytes(2, "big") + a + p)
    assert crypto.cbc_mac(key, block0, a, p) == expected


@given(key=keys, counter0=st.binary(min_size=16, max_size=16), data=st.binary(max_size=100))
def test_ctr_xor_equals_aes_ctr(key: bytes, counter0: bytes, data: bytes) -> None:
    assert crypto.ctr_xor(key, counter0, data) == _ctr(key, counter0, data)
