"""Interop with xknx 4.0.0 as an independent peer (its primitives and its session logic).

Ours -> theirs: our SECURE_WRAPPERs and handshake MACs verify with xknx's code.
Theirs -> ours: xknx-made wrappers and MACs verify in our codec and our machines.
"""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from xknx.io.ip_secure import COUNTER_0_HANDSHAKE, _IPSecureTransportLayer
from xknx.io.ip_secure import SecureSession as XSecureSession
from xknx.knxip import (
    HPAI as XHPAI,
)
from xknx.knxip import (
    ConnectionStateRequest as XConnectionStateRequest,
)
from xknx.knxip import (
    KNXIPFrame,
)
from xknx.knxip import (
    SecureWrapper as XSecureWrapper,
)
from xknx.knxip import (
    SessionAuthenticate as XSessionAuthenticate,
)
from xknx.knxip import (
    SessionResponse as XSessionResponse,
)
from xknx.knxip import (
    SessionStatus as XSessionStatus,
)
from xknx.knxip.knxip_enum import HostProtocol, SecureSessionStatusCode
from xknx.secure.security_primitives import (
    calculate_message_authentication_code_cbc,
    decrypt_ctr,
    derive_device_authentication_password,
    derive_user_password,
    encrypt_data_ctr,
    generate_ecdh_key_pair,
)
from xknx.secure.util import bytes_xor, sha256_hash

from custom_components.knx_secure.knx import crypto, knxip
from custom_components.knx_secure.knx.errors import WrapperMacError
from custom_components.knx_secure.knx.session import (
    EndReason,
    InnerFrame,
    OutgoingFrame,
    SecureSession,
    SessionEnded,
    SessionEstablished,
    decrypt_wrapper,
    encrypt_wrapper,
    timer_notify_mac,
)

H = bytes.fromhex
XKNX_SERIAL = H("0000786b6e78")  # the serial xknx puts in every wrapper
CONNECTIONSTATE_REQUEST = H("06100207001005000802000000000000")
USER_PASSWORD = "s3cr3t-üser"
DEVICE_CODE = "trustme"


class XknxWrapperPeer(_IPSecureTransportLayer):
    """xknx's own wrapper code (encrypt_frame / decrypt_frame) on a given key."""

    def __init__(self, key: bytes, session_id: int) -> None:
        self._key = key
        self.session_id = session_id
        self._sequence = 0

    def get_sequence_information(self) -> bytes:
        sequence = self._sequence.to_bytes(6, "big")
        self._sequence += 1
        return sequence

    def get_message_tag(self) -> bytes:
        return b"\x00\x00"

    def wrap(self, plain: bytes) -> bytes:
        frame, _ = KNXIPFrame.from_knx(plain)
        return bytes(self.encrypt_frame(frame).to_knx())

    def unwrap(self, data: bytes) -> bytes:
        frame, _ = KNXIPFrame.from_knx(data)
        return bytes(self.decrypt_frame(frame).to_knx())


def xknx_decrypt(key: bytes, data: bytes) -> tuple[XSecureWrapper, bytes]:
    """Decrypt and verify with xknx's primitives only."""
    frame, _ = KNXIPFrame.from_knx(data)
    body = frame.body
    assert isinstance(body, XSecureWrapper)
    nonce = body.sequence_information + body.serial_number + body.message_tag
    plain, mac = decrypt_ctr(
        key, nonce + b"\xff\x00", body.message_authentication_code, body.encrypted_data
    )
    expected = calculate_message_authentication_code_cbc(
        key,
        additional_data=data[:6] + body.secure_session_id.to_bytes(2, "big"),
        payload=plain,
        block_0=nonce + len(plain).to_bytes(2, "big"),
    )
    assert mac == expected, "xknx does not verify the MAC"
    return body, plain


# --- wrapper codec -----------------------------------------------------------------------------


@pytest.mark.parametrize("key_length", [16, 32])
@pytest.mark.parametrize("plain_length", [8, 16, 17, 40, 255])
def test_our_wrapper_decrypts_with_xknx_primitives(key_length: int, plain_length: int) -> None:
    key = os.urandom(key_length)
    plain = H("0610") + b"\x02\x07" + plain_length.to_bytes(2, "big") + os.urandom(plain_length - 6)
    data = encrypt_wrapper(
        key, session_id=0x1234, sequence=0x0102030405, serial=H("00fa12345678"), tag=0xBEEF,
        plain_frame=plain,
    )  # fmt: skip
    body, decrypted = xknx_decrypt(key, data)
    assert decrypted == plain
    assert body.secure_session_id == 0x1234
    assert body.sequence_information == H("000102030405")
    assert body.serial_number == H("00fa12345678")
    assert body.message_tag == H("beef")


@pytest.mark.parametrize("sequence", [0, 1, 2**47 + 5])
def test_xknx_wrapper_decrypts_in_ours(sequence: int) -> None:
    key = os.urandom(16)
    peer = XknxWrapperPeer(key, session_id=9)
    peer._sequence = sequence
    data = peer.wrap(CONNECTIONSTATE_REQUEST)
    wrapper, plain = decrypt_wrapper(key, data)
    assert plain == CONNECTIONSTATE_REQUEST
    assert (wrapper.session_id, wrapper.sequence, wrapper.serial, wrapper.tag) == (
        9,
        sequence,
        XKNX_SERIAL,
        0,
    )
    with pytest.raises(WrapperMacError):
        decrypt_wrapper(os.urandom(16), data)


def test_our_wrapper_decrypts_in_xknx_session_code() -> None:
    key = os.urandom(16)
    data = encrypt_wrapper(
        key, session_id=9, sequence=4, serial=H("00fa00000001"), tag=0,
        plain_frame=CONNECTIONSTATE_REQUEST,
    )  # fmt: skip
    assert XknxWrapperPeer(key, session_id=9).unwrap(data) == CONNECTIONSTATE_REQUEST


def test_timer_notify_mac_matches_xknx_primitives() -> None:
    key = os.urandom(16)
    serial, tag, timer = H("00fa12345678"), 0x4242, 123456789
    nonce = timer.to_bytes(6, "big") + serial + tag.to_bytes(2, "big")
    mac_cbc = calculate_message_authentication_code_cbc(
        key, additional_data=H("061009550024"), block_0=nonce + b"\x00\x00"
    )
    _, expected = encrypt_data_ctr(key, nonce + b"\xff\x00", mac_cbc)
    assert timer_notify_mac(key, timer=timer, serial=serial, tag=tag) == expected


# --- our server against xknx's client session logic ---------------------------------------------


def our_server_and_xknx_client(
    session_id: int, password: str
) -> tuple[SecureSession, XSecureSession]:
    """Our server (user 4 knows USER_PASSWORD) and an xknx client of user 4 with ``password``,
    its ECDH key pair made."""
    server = SecureSession.server(
        session_id=session_id,
        users={4: crypto.derive_user_password_key(USER_PASSWORD)},
        device_authentication_key=crypto.derive_device_authentication_key(DEVICE_CODE),
        serial=H("00fa00000099"),
    )
    xclient = XSecureSession(
        remote_addr=("127.0.0.1", 3671),
        user_id=4,
        user_password=password,
        device_authentication_password=DEVICE_CODE,
    )
    xclient._private_key, xclient.public_key = generate_ecdh_key_pair()
    return server, xclient


def test_our_server_with_xknx_client_session() -> None:
    """xknx's SecureSession.handshake verifies our SESSION_RESPONSE MAC and computes the
    SESSION_AUTHENTICATE MAC our server checks; then wrappers flow both ways."""
    server, xclient = our_server_and_xknx_client(0x0123, USER_PASSWORD)
    request = H("06100951002e0802000000000000") + xclient.public_key

    server.start(0.0)
    (response_event,) = server.receive(request, 0.0)
    assert isinstance(response_event, OutgoingFrame)
    response, _ = KNXIPFrame.from_knx(response_event.data)
    assert isinstance(response.body, XSessionResponse)
    # raises IPSecureError if our device authentication MAC does not verify
    authenticate_mac = xclient.handshake(response.body)
    xclient.initialized = True

    authenticate = KNXIPFrame.init_from_body(
        XSessionAuthenticate(user_id=4, message_authentication_code=authenticate_mac)
    )
    wrapped = bytes(xclient.encrypt_frame(authenticate).to_knx())
    events = server.receive(wrapped, 0.1)
    assert SessionEstablished(session_id=0x0123, user_id=4) in events
    status_data = [e.data for e in events if isinstance(e, OutgoingFrame)]
    status, _ = KNXIPFrame.from_knx(status_data[0])
    status_plain = xclient.decrypt_frame(status)
    assert isinstance(status_plain.body, XSessionStatus)
    assert status_plain.body.status is SecureSessionStatusCode.STATUS_AUTHENTICATION_SUCCESS

    # data both ways
    frame = KNXIPFrame.init_from_body(
        XConnectionStateRequest(
            communication_channel_id=5, control_endpoint=XHPAI(protocol=HostProtocol.IPV4_TCP)
        )
    )
    events = server.receive(bytes(xclient.encrypt_frame(frame).to_knx()), 0.2)
    assert [e.data for e in events if isinstance(e, InnerFrame)] == [CONNECTIONSTATE_REQUEST]
    reply = server.wrap(H("0610020800080500"), 0.3)
    reply_frame, _ = KNXIPFrame.from_knx(reply)
    assert bytes(xclient.decrypt_frame(reply_frame).to_knx()) == H("0610020800080500")
    # xknx's close
    close = KNXIPFrame.init_from_body(XSessionStatus(SecureSessionStatusCode.STATUS_CLOSE))
    events = server.receive(bytes(xclient.encrypt_frame(close).to_knx()), 0.4)
    assert events == [SessionEnded(EndReason.CLOSE, by_peer=True, user_id=4)]


def test_our_server_refuses_xknx_client_with_wrong_password() -> None:
    server, xclient = our_server_and_xknx_client(1, "wrong")
    (response_event,) = server.receive(H("06100951002e0802000000000000") + xclient.public_key, 0)
    assert isinstance(response_event, OutgoingFrame)
    response, _ = KNXIPFrame.from_knx(response_event.data)
    assert isinstance(response.body, XSessionResponse)
    mac = xclient.handshake(response.body)
    authenticate = KNXIPFrame.init_from_body(XSessionAuthenticate(4, mac))
    events = server.receive(bytes(xclient.encrypt_frame(authenticate).to_knx()), 0.1)
    assert events[-1] == SessionEnded(EndReason.AUTHENTICATION_FAILED, by_peer=False, user_id=4)
    status, _ = KNXIPFrame.from_knx(events[0].data)  # type: ignore[union-attr]
    body = xclient.decrypt_frame(status).body
    assert isinstance(body, XSessionStatus)
    assert body.status is SecureSessionStatusCode.STATUS_AUTHENTICATION_FAILED


# --- our client against a server built from xknx's primitives -------------------------------------


def xknx_session_response(
    session_id: int, client_public: bytes, device_code: str
) -> tuple[bytes, bytes, bytes]:
    """(SESSION_RESPONSE bytes, session key, public xor) made with xknx's code only."""
    private, public = generate_ecdh_key_pair()
    pub_xor = bytes_xor(client_public, public)
    device_key = derive_device_authentication_password(device_code)
    mac_cbc = calculate_message_authentication_code_cbc(
        device_key, additional_data=H("061009520038") + session_id.to_bytes(2, "big") + pub_xor
    )
    _, mac = encrypt_data_ctr(device_key, COUNTER_0_HANDSHAKE, mac_cbc)
    frame = KNXIPFrame.init_from_body(XSessionResponse(session_id, public, mac))
    shared = private.exchange(X25519PublicKey.from_public_bytes(client_public))
    return bytes(frame.to_knx()), sha256_hash(shared)[:16], pub_xor


def test_our_client_with_xknx_built_server() -> None:
    client = SecureSession.client(
        user_id=4,
        user_password_key=crypto.derive_user_password_key(USER_PASSWORD),
        device_authentication_key=crypto.derive_device_authentication_key(DEVICE_CODE),
        serial=H("00fa00000001"),
    )
    request = client.start(0.0)
    client_public = request[-32:]
    response, session_key, pub_xor = xknx_session_response(0x0042, client_public, DEVICE_CODE)

    (event,) = client.receive(response, 0.0)  # our client verified xknx's MAC
    assert isinstance(event, OutgoingFrame)
    peer = XknxWrapperPeer(session_key, session_id=0x0042)
    authenticate, _ = KNXIPFrame.from_knx(peer.unwrap(event.data))
    body = authenticate.body
    assert isinstance(body, XSessionAuthenticate)
    assert body.user_id == 4
    # our SESSION_AUTHENTICATE MAC checked with xknx's primitives
    user_key = derive_user_password(USER_PASSWORD)
    mac_cbc = calculate_message_authentication_code_cbc(
        user_key, additional_data=H("061009530018") + b"\x00\x04" + pub_xor
    )
    _, expected = encrypt_data_ctr(user_key, COUNTER_0_HANDSHAKE, mac_cbc)
    assert body.message_authentication_code == expected

    success = peer.wrap(H("0610095400080000"))
    assert client.receive(success, 0.1) == [SessionEstablished(session_id=0x0042, user_id=4)]
    events = client.receive(peer.wrap(CONNECTIONSTATE_REQUEST), 0.2)
    assert [e.data for e in events if isinstance(e, InnerFrame)] == [CONNECTIONSTATE_REQUEST]
    assert knxip.parse(peer.unwrap(client.keepalive(0.3))) == knxip.SessionStatus(
        knxip.SessionStatusCode.KEEPALIVE
    )


def test_our_client_refuses_xknx_server_with_other_device_code() -> None:
    client = SecureSession.client(
        user_id=4,
        user_password_key=crypto.derive_user_password_key(USER_PASSWORD),
        device_authentication_key=crypto.derive_device_authentication_key(DEVICE_CODE),
        serial=H("00fa00000001"),
    )
    request = client.start(0.0)
    response, _, _ = xknx_session_response(0x0042, request[-32:], "not-the-code")
    assert client.receive(response, 0.0) == [
        SessionEnded(EndReason.DEVICE_AUTHENTICATION_FAILED, by_peer=True, user_id=4)
    ]
