"""Discovery over UDP: description and search against the virtual gateway on 127.0.0.1.

Multicast search cannot be tested here (no multicast, and tests only talk to 127.0.0.1):
``search_gateways(target=...)`` sends the same requests unicast to the gateway's port.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from xknx.io.self_description import request_description

from custom_components.knx_secure.knx import knxip
from custom_components.knx_secure.knx.address import IndividualAddress
from custom_components.knx_secure.knx.crypto import (
    derive_device_authentication_key,
    derive_user_password_key,
)
from custom_components.knx_secure.knx.discovery import (
    DiscoveryAnswer,
    DiscoveryResponder,
    GatewayDescriptor,
    _descriptors,
    describe_gateway,
    descriptor_from_dibs,
    search_gateways,
)
from custom_components.knx_secure.knx.errors import GatewayUnreachableError, ResponseTimeoutError
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring
from custom_components.knx_secure.knx.knxip import ErrorCode, ServiceFamily
from custom_components.knx_secure.knx.session import OutgoingFrame, SecureSession

from .conftest import KEYRING_BY_NAME

HOST = IndividualAddress.parse("1.1.0")
SLOTS = ["1.1.255", "1.1.254", "1.1.253", "1.1.252"]
TIMEOUT = 2.0


@pytest.fixture
async def gateway(keyring: Keyring) -> AsyncIterator[VirtualGateway]:
    gw = VirtualGateway(keyring)
    await gw.start()
    try:
        yield gw
    finally:
        await gw.stop()


def free_slots(descriptor: GatewayDescriptor) -> list[str]:
    return [str(s.individual_address) for s in descriptor.tunnel_slots if s.free and s.usable]


async def open_tunnel(port: int, keyring: Keyring, user_id: int) -> asyncio.StreamWriter:
    """A secure session with a tunnel on 127.0.0.1:port (our machines, minimal)."""
    tunnel = keyring.interface_by_user_id(HOST, user_id)
    assert tunnel is not None
    assert tunnel.password is not None
    assert tunnel.device_authentication is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    loop = asyncio.get_running_loop()
    session = SecureSession.client(
        user_id=user_id,
        user_password_key=derive_user_password_key(tunnel.password),
        device_authentication_key=derive_device_authentication_key(tunnel.device_authentication),
        serial=bytes(6),
    )
    writer.write(session.start(loop.time()))
    async with asyncio.timeout(TIMEOUT):
        while not session.is_authenticated:
            header = await reader.readexactly(6)
            body = await reader.readexactly(int.from_bytes(header[4:6], "big") - 6)
            for event in session.receive(header + body, loop.time()):
                if isinstance(event, OutgoingFrame):
                    writer.write(event.data)
        connect = knxip.ConnectRequest(
            knxip.HPAI.ROUTE_BACK_TCP, knxip.HPAI.ROUTE_BACK_TCP, knxip.CRI()
        )
        writer.write(session.wrap(knxip.encode(connect), loop.time()))
        await reader.readexactly(6)  # the wrapped CONNECT_RESPONSE is on its way
    return writer


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.frames: asyncio.Queue[knxip.Frame] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.frames.put_nowait(knxip.parse(data))


async def exchange(port: int, request: knxip.Frame, limit: float = 2.0) -> list[knxip.Frame]:
    """Send ``request`` to the gateway's UDP port, then a fence (a request of another kind that
    is always answered); return the answers that came before the fence's answer. The gateway
    answers the datagrams of one socket in order, so the fence's answer proves that every
    answer to ``request`` is there, and that none is coming when there is none."""
    if isinstance(request, knxip.DescriptionRequest):
        fence, fence_answer = knxip.SearchRequest(knxip.HPAI.ROUTE_BACK_UDP), knxip.SearchResponse
    else:
        fence = knxip.DescriptionRequest(knxip.HPAI.ROUTE_BACK_UDP)
        fence_answer = knxip.DescriptionResponse
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        _Datagrams, remote_addr=("127.0.0.1", port)
    )
    answers: list[knxip.Frame] = []
    try:
        transport.sendto(knxip.encode(request))
        transport.sendto(knxip.encode(fence))
        async with asyncio.timeout(limit):
            while not isinstance(answer := await protocol.frames.get(), fence_answer):
                answers.append(answer)
    finally:
        transport.close()
    return answers


# --- description ---------------------------------------------------------------------------


async def test_describe_gateway_tells_slots_and_security(
    gateway: VirtualGateway, keyring: Keyring
) -> None:
    port = gateway.address[1]
    descriptor = await describe_gateway("127.0.0.1", port, timeout=TIMEOUT)
    assert descriptor.ip == "127.0.0.1"
    assert descriptor.port == port
    assert descriptor.name == "KNX Secure virtual gateway"
    assert descriptor.individual_address == HOST
    assert descriptor.supports_tunnelling_tcp
    assert descriptor.supports_secure
    assert descriptor.tunnelling_requires_secure
    assert [str(s.individual_address) for s in descriptor.tunnel_slots] == SLOTS
    assert free_slots(descriptor) == SLOTS

    writer = await open_tunnel(port, keyring, user_id=3)
    try:
        busy = await describe_gateway("127.0.0.1", port, timeout=TIMEOUT)
        assert free_slots(busy) == ["1.1.255", "1.1.253", "1.1.252"]
    finally:
        writer.close()
        await writer.wait_closed()


async def test_description_dibs_on_the_wire(gateway: VirtualGateway, keyring: Keyring) -> None:
    (answer,) = await exchange(
        gateway.address[1], knxip.DescriptionRequest(knxip.HPAI.ROUTE_BACK_UDP)
    )
    assert isinstance(answer, knxip.DescriptionResponse)
    info = knxip.device_info(answer.dibs)
    assert info is not None
    assert info.serial == bytes.fromhex("00A207164012")  # the host device's, from the keyring
    assert info.multicast_address == "224.0.23.12"
    assert knxip.service_family_version(answer.dibs, ServiceFamily.CORE) == 2
    assert knxip.service_family_version(answer.dibs, ServiceFamily.TUNNELLING) == 2
    assert knxip.service_family_version(answer.dibs, ServiceFamily.SECURITY) == 1
    assert knxip.tunnelling_requires_secure(answer.dibs)
    assert [str(a) for a in knxip.free_tunnel_addresses(answer.dibs)] == SLOTS


async def test_xknx_reads_the_description(gateway: VirtualGateway) -> None:
    """xknx's own description client (DESCRIPTION_REQUEST, then SEARCH_REQUEST_EXTENDED)."""
    descriptor = await request_description("127.0.0.1", gateway.address[1])
    assert str(descriptor.individual_address) == "1.1.0"
    assert descriptor.core_version == 2
    assert descriptor.supports_tunnelling_tcp
    assert descriptor.supports_secure
    assert descriptor.tunnelling_requires_secure is True
    assert [str(ia) for ia, slot in descriptor.tunnelling_slots.items() if slot.free] == SLOTS


async def test_plain_host_does_not_require_security() -> None:
    fixture = KEYRING_BY_NAME["SecureTest.knxkeys"]
    keyring = load_keyring(fixture.path, fixture.password)
    gw = VirtualGateway(keyring, host=IndividualAddress.parse("4.0.0"))
    await gw.start()
    try:
        descriptor = await describe_gateway("127.0.0.1", gw.address[1], timeout=TIMEOUT)
        assert not descriptor.tunnelling_requires_secure
        assert free_slots(descriptor) == ["4.0.1"]
        assert descriptor.tunnel_slots[0].authorised
    finally:
        await gw.stop()


async def test_describe_silent_or_absent_gateway() -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    try:
        with pytest.raises(ResponseTimeoutError, match="did not answer"):
            await describe_gateway("127.0.0.1", port, timeout=0.2)
    finally:
        silent.close()
    # nobody listens any more: the ICMP refusal ends the wait early
    with pytest.raises((GatewayUnreachableError, ResponseTimeoutError)):
        await describe_gateway("127.0.0.1", port, timeout=0.5)


# --- search --------------------------------------------------------------------------------


async def test_unicast_search_finds_the_gateway(gateway: VirtualGateway, keyring: Keyring) -> None:
    port = gateway.address[1]
    found = await search_gateways(TIMEOUT, target=("127.0.0.1", port))
    assert len(found) == 1
    (descriptor,) = found
    assert (descriptor.ip, descriptor.port) == ("127.0.0.1", port)
    assert descriptor.individual_address == HOST
    assert descriptor.tunnelling_requires_secure  # from the extended answer
    assert free_slots(descriptor) == SLOTS
    writer = await open_tunnel(port, keyring, user_id=2)
    try:
        (busy,) = await search_gateways(TIMEOUT, target=("127.0.0.1", port))
        assert free_slots(busy) == SLOTS[1:]
    finally:
        writer.close()
        await writer.wait_closed()


async def test_basic_search_answer_has_no_slots(gateway: VirtualGateway) -> None:
    answers = await exchange(gateway.address[1], knxip.SearchRequest(knxip.HPAI.ROUTE_BACK_UDP))
    (answer,) = answers
    assert isinstance(answer, knxip.SearchResponse)
    assert answer.control == knxip.HPAI(knxip.HostProtocol.UDP, *gateway.address)
    assert [type(d) for d in answer.dibs] == [
        knxip.DeviceInfoDIB,
        knxip.SupportedServiceFamiliesDIB,
    ]


def _srp(kind: int, data: bytes = b"") -> bytes:
    return bytes((len(data) + 2, kind)) + data


@pytest.mark.parametrize(
    ("srp", "answered"),
    [
        (b"", True),
        (_srp(0x04, bytes((1, 2, 6, 7))), True),  # request DIBs
        (_srp(0x83, bytes((0x04, 0x02))), True),  # tunnelling v2, mandatory
        (_srp(0x83, bytes((0x09, 0x01))), True),  # security v1
        (_srp(0x83, bytes((0x05, 0x01))), False),  # routing: not served
        (_srp(0x81), False),  # programming mode: never
        (_srp(0x82, bytes(6)), False),  # another MAC address
        (_srp(0xF0, b"\x01"), False),  # unknown and mandatory
        (_srp(0x70, b"\x01"), True),  # unknown, optional
    ],
)
async def test_extended_search_parameters(
    gateway: VirtualGateway, srp: bytes, answered: bool
) -> None:
    request = knxip.SearchRequestExtended(knxip.HPAI.ROUTE_BACK_UDP, srp)
    answers = await exchange(gateway.address[1], request)
    assert len(answers) == int(answered)
    if answered:
        assert isinstance(answers[0], knxip.SearchResponseExtended)
        assert knxip.free_tunnel_addresses(answers[0].dibs)


async def test_search_by_the_gateways_mac_address(gateway: VirtualGateway) -> None:
    (answer,) = await exchange(
        gateway.address[1], knxip.DescriptionRequest(knxip.HPAI.ROUTE_BACK_UDP)
    )
    assert isinstance(answer, knxip.DescriptionResponse)
    info = knxip.device_info(answer.dibs)
    assert info is not None
    request = knxip.SearchRequestExtended(knxip.HPAI.ROUTE_BACK_UDP, _srp(0x82, info.mac_address))
    assert len(await exchange(gateway.address[1], request)) == 1


async def test_udp_tunnelling_is_refused_at_once(gateway: VirtualGateway) -> None:
    request = knxip.ConnectRequest(
        knxip.HPAI.ROUTE_BACK_UDP, knxip.HPAI.ROUTE_BACK_UDP, knxip.CRI()
    )
    (answer,) = await exchange(gateway.address[1], request)
    assert answer == knxip.ConnectResponse(0, ErrorCode.E_CONNECTION_TYPE)


async def test_garbage_datagrams_are_ignored(gateway: VirtualGateway) -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, remote_addr=("127.0.0.1", gateway.address[1])
    )
    transport.sendto(b"\x06\x10\x02")
    transport.close()
    descriptor = await describe_gateway("127.0.0.1", gateway.address[1], timeout=TIMEOUT)
    assert descriptor.individual_address == HOST


# --- the responder, without sockets ----------------------------------------------------------

MAC = bytes.fromhex("0200aabbccdd")
CONTROL = knxip.HPAI(knxip.HostProtocol.UDP, "127.0.0.1", 3671)


def _responder(*, programming: bool = False) -> DiscoveryResponder:
    info = knxip.DeviceInfoDIB(
        individual_address=HOST, status=int(programming), mac_address=MAC, name="test"
    )
    families = knxip.SupportedServiceFamiliesDIB(((int(ServiceFamily.TUNNELLING), 2),))
    return DiscoveryResponder(lambda extended: (info, families), lambda: CONTROL)


def _search(srp: bytes, discovery: knxip.HPAI = knxip.HPAI.ROUTE_BACK_UDP) -> bytes:
    return knxip.encode(knxip.SearchRequestExtended(discovery, srp))


@pytest.mark.parametrize(
    ("srp", "programming", "answered"),
    [
        (_srp(0x81), False, False),  # programming mode asked, device not in it
        (_srp(0x81), True, True),
        (_srp(0x82, MAC), False, True),
        (_srp(0x82, bytes(6)), False, False),
        (_srp(0x83, bytes((int(ServiceFamily.TUNNELLING), 2))), False, True),
        (_srp(0x83, bytes((int(ServiceFamily.TUNNELLING), 3))), False, False),  # too new
        (_srp(0xF0), False, False),  # unknown and mandatory
        (_srp(0x70), False, True),  # unknown, optional
    ],
)
def test_responder_matches_search_parameters_against_its_dibs(
    srp: bytes, programming: bool, answered: bool
) -> None:
    answer = _responder(programming=programming).receive_datagram(_search(srp), ("10.0.0.9", 5))
    assert (answer is not None) == answered


def test_responder_answers_the_hpai_or_routes_back() -> None:
    responder = _responder()
    to_hpai = knxip.HPAI(knxip.HostProtocol.UDP, "10.0.0.7", 4000)
    answer = responder.receive_datagram(_search(b"", to_hpai), ("10.0.0.9", 5))
    assert answer is not None
    assert answer.target == ("10.0.0.7", 4000)
    assert isinstance(knxip.parse(answer.data), knxip.SearchResponseExtended)
    routed = responder.receive_datagram(_search(b""), ("10.0.0.9", 5))
    assert routed is not None
    assert routed.target == ("10.0.0.9", 5)


def test_responder_ignores_garbage_and_what_is_not_discovery() -> None:
    responder = _responder()
    assert responder.receive_datagram(b"\x06\x10\x02", ("10.0.0.9", 5)) is None
    ack = knxip.encode(knxip.TunnellingAck(1, 0, ErrorCode.E_NO_ERROR))
    assert responder.receive_datagram(ack, ("10.0.0.9", 5)) is None
    request = knxip.encode(
        knxip.ConnectRequest(knxip.HPAI.ROUTE_BACK_UDP, knxip.HPAI.ROUTE_BACK_UDP, knxip.CRI())
    )
    refusal = responder.receive_datagram(request, ("10.0.0.9", 5))
    assert refusal == DiscoveryAnswer(
        knxip.encode(knxip.ConnectResponse(0, ErrorCode.E_CONNECTION_TYPE)), ("10.0.0.9", 5)
    )


# --- parsing ---------------------------------------------------------------------------------


def test_descriptor_needs_device_info() -> None:
    assert descriptor_from_dibs("10.0.0.1", 3671, ()) is None
    families = knxip.SupportedServiceFamiliesDIB(((4, 1),))
    descriptor = descriptor_from_dibs("10.0.0.1", 3671, (knxip.DeviceInfoDIB(), families))
    assert descriptor is not None
    assert not descriptor.supports_tunnelling_tcp  # tunnelling v1 is UDP only
    assert not descriptor.supports_secure
    assert not descriptor.tunnelling_requires_secure
    assert descriptor.tunnel_slots == ()


def test_extended_answer_wins_whatever_the_order(keyring: Keyring) -> None:
    gw = VirtualGateway(keyring)
    control = knxip.HPAI(knxip.HostProtocol.UDP, "0.0.0.0", 3671)
    basic = knxip.SearchResponse(control, gw.dibs(extended=False))
    extended = knxip.SearchResponseExtended(control, gw.dibs())
    source = ("192.0.2.7", 3671)
    for answers in ([basic, extended], [extended, basic]):
        (descriptor,) = _descriptors([(source, frame) for frame in answers])
        assert descriptor.ip == "192.0.2.7"  # control endpoint 0.0.0.0: the sender's address
        assert descriptor.tunnelling_requires_secure
        assert len(descriptor.tunnel_slots) == 4
