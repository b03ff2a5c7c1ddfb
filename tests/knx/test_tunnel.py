"""Tunnelling machines: client against server in memory, frames checked against literal bytes
and against xknx's parser (an independent implementation)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xknx.knxip import ConnectRequest as XConnectRequest
from xknx.knxip import ConnectResponse as XConnectResponse
from xknx.knxip import KNXIPFrame
from xknx.knxip import TunnellingRequest as XTunnellingRequest

from custom_components.knx_secure.knx import knxip
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.cemi import LData, MessageCode
from custom_components.knx_secure.knx.errors import (
    ConnectRefusedError,
    NotConnectedError,
    ResponseTimeoutError,
    TunnelError,
)
from custom_components.knx_secure.knx.knxip import ErrorCode
from custom_components.knx_secure.knx.session import (
    DropReason,
    FrameDropped,
    InnerFrame,
    OutgoingFrame,
    SecureSession,
    SessionEstablished,
)
from custom_components.knx_secure.knx.tunnel import (
    CloseReason,
    ConfirmationTimedOut,
    ConnectRefused,
    TelegramConfirmed,
    TelegramReceived,
    TunnelClient,
    TunnelClosed,
    TunnelConnected,
    TunnelEvent,
    TunnelServer,
    TunnelSlotConfig,
    TunnelSlots,
    TunnelState,
)

H = bytes.fromhex
IA = IndividualAddress.parse
GA = GroupAddress.parse

ROUTE_BACK = "0802000000000000"
CONNECT_REQUEST_BASIC = H("06100205001a" + ROUTE_BACK + ROUTE_BACK + "04040200")
CONNECT_REQUEST_1_1_254 = H("06100205001c" + ROUTE_BACK + ROUTE_BACK + "0604020011fe")
# GroupValueWrite ON 0.0.0 -> 1/1/1 as L_Data.req (standard frame, hop count 6)
CEMI_WRITE_ON_REQ = H("1100bce00000090101" + "0081")


def tunnelling_request(channel: int, sequence: int, cemi: bytes) -> bytes:
    """TUNNELLING_REQUEST laid out by hand from the spec (not by our encoder)."""
    length = 6 + 4 + len(cemi)
    return H("06100420") + length.to_bytes(2, "big") + bytes((4, channel, sequence, 0)) + cemi


def slots() -> TunnelSlots:
    return TunnelSlots(
        [
            TunnelSlotConfig(IA("1.1.253"), user_id=2),
            TunnelSlotConfig(IA("1.1.254"), user_id=3),
            TunnelSlotConfig(IA("1.1.255")),  # plain
            TunnelSlotConfig(IA("1.1.250")),  # plain
        ]
    )


def outgoing(events: Sequence[object]) -> list[bytes]:
    return [e.data for e in events if isinstance(e, OutgoingFrame)]


def closed_by(events: Sequence[object]) -> TunnelClosed:
    """The TunnelClosed that must end this event list."""
    assert isinstance(events[-1], TunnelClosed), events
    return events[-1]


def state_of(machine: TunnelClient | TunnelServer) -> TunnelState:
    return machine.state  # a call, so that mypy does not narrow across steps


def single(events: Sequence[object]) -> bytes:
    frames = outgoing(events)
    assert len(frames) == 1, events
    return frames[0]


def write_on(src: str = "0.0.0", dst: str = "1/1/1", value: int = 1) -> LData:
    return LData(
        code=MessageCode.L_DATA_REQ, src=IA(src), dst=GA(dst), tpdu=bytes((0x00, 0x80 | value))
    )


def connect(
    client: TunnelClient, server: TunnelServer, now: float = 0.0
) -> tuple[list[TunnelEvent], list[TunnelEvent]]:
    server_events = server.receive(client.connect(now), now)
    client_events = client.receive(single(server_events), now)
    return server_events, client_events


def connected_pair(
    *,
    the_slots: TunnelSlots | None = None,
    user_id: int | None = 2,
    address: str | None = None,
    now: float = 0.0,
    **client_options: float,
) -> tuple[TunnelClient, TunnelServer]:
    client = TunnelClient(
        individual_address=IA(address) if address else None,
        **client_options,  # type: ignore[arg-type]
    )
    server = TunnelServer(the_slots or slots(), user_id=user_id)
    _, client_events = connect(client, server, now)
    assert isinstance(client_events[0], TunnelConnected), client_events
    return client, server


# --- connect -------------------------------------------------------------------------------------


def test_connect_basic_cri() -> None:
    client = TunnelClient()
    server = TunnelServer(slots(), user_id=2)
    request = client.connect(0.0)
    assert request == CONNECT_REQUEST_BASIC
    assert client.state is TunnelState.CONNECTING

    server_events = server.receive(request, 0.0)
    response = single(server_events)
    # xknx reads our response: success, channel, tunnel address in the CRD
    parsed, _ = KNXIPFrame.from_knx(response)
    assert isinstance(parsed.body, XConnectResponse)
    assert parsed.body.status_code.value == 0
    assert str(parsed.body.crd.individual_address) == "1.1.253"
    assert parsed.body.data_endpoint.route_back
    channel = parsed.body.communication_channel
    assert TunnelConnected(channel, IA("1.1.253")) in server_events

    assert client.receive(response, 0.1) == [TunnelConnected(channel, IA("1.1.253"))]
    assert state_of(client) is TunnelState.CONNECTED
    assert client.channel_id == channel
    assert client.individual_address == IA("1.1.253")
    assert server.individual_address == IA("1.1.253")


def test_connect_extended_cri() -> None:
    client = TunnelClient(individual_address=IA("1.1.254"))
    request = client.connect(0.0)
    assert request == CONNECT_REQUEST_1_1_254
    parsed, _ = KNXIPFrame.from_knx(request)
    assert isinstance(parsed.body, XConnectRequest)
    assert str(parsed.body.cri.individual_address) == "1.1.254"

    server = TunnelServer(slots(), user_id=3)
    server_events = server.receive(request, 0.0)
    events = client.receive(single(server_events), 0.0)
    assert events == [TunnelConnected(server.channel_id or 0, IA("1.1.254"))]


def test_plain_client_gets_a_plain_tunnel_and_can_pick_one() -> None:
    the_slots = slots()
    client, _ = connected_pair(the_slots=the_slots, user_id=None)
    assert client.individual_address == IA("1.1.255")
    client, _ = connected_pair(the_slots=the_slots, user_id=None)
    assert client.individual_address == IA("1.1.250")
    assert sorted(str(a) for a in the_slots.in_use().values()) == ["1.1.250", "1.1.255"]


def test_busy_slot_refused_with_no_more_connections() -> None:
    the_slots = slots()
    connected_pair(the_slots=the_slots, user_id=2)
    client = TunnelClient()
    server = TunnelServer(the_slots, user_id=2)
    server_events, client_events = connect(client, server)
    assert ConnectRefused(ErrorCode.E_NO_MORE_CONNECTIONS, None) in server_events
    assert single(server_events) == H("0610020600080024")
    assert client_events == [TunnelClosed(CloseReason.REFUSED, ErrorCode.E_NO_MORE_CONNECTIONS)]
    assert client.state is TunnelState.CLOSED
    error = closed_by(client_events).to_error()
    assert isinstance(error, ConnectRefusedError)
    assert "E_NO_MORE_CONNECTIONS" in str(error)
    assert server.state is TunnelState.IDLE  # the client may try again


@pytest.mark.parametrize(
    ("user_id", "request_frame", "status"),
    [
        # user 3 asks for user 2's tunnel
        (3, H("06100205001c" + ROUTE_BACK + ROUTE_BACK + "0604020011fd"), "E_AUTHORISATION_ERROR"),
        # management user 1 owns no tunnel
        (1, CONNECT_REQUEST_BASIC, "E_AUTHORISATION_ERROR"),
        # a plain client asks for a secure tunnel
        (
            None,
            H("06100205001c" + ROUTE_BACK + ROUTE_BACK + "0604020011fd"),
            "E_AUTHORISATION_ERROR",
        ),
        # an address that is no tunnel at all
        (2, H("06100205001c" + ROUTE_BACK + ROUTE_BACK + "060402001101"), "E_NO_MORE_CONNECTIONS"),
        # device management connection instead of a tunnel
        (2, H("061002050018" + ROUTE_BACK + ROUTE_BACK + "0203"), "E_CONNECTION_TYPE"),
        # busmonitor layer
        (2, H("06100205001a" + ROUTE_BACK + ROUTE_BACK + "04048000"), "E_TUNNELLING_LAYER"),
        # raw layer
        (2, H("06100205001a" + ROUTE_BACK + ROUTE_BACK + "04040400"), "E_TUNNELLING_LAYER"),
    ],
)
def test_connect_refusals(user_id: int | None, request_frame: bytes, status: str) -> None:
    server = TunnelServer(slots(), user_id=user_id)
    events = server.receive(request_frame, 0.0)
    response = knxip.parse(single(events))
    assert isinstance(response, knxip.ConnectResponse)
    assert response.status.name == status
    assert response.crd is None
    assert server.state is TunnelState.IDLE


def test_second_connect_on_the_same_connection_refused() -> None:
    _, server = connected_pair()
    events = server.receive(TunnelClient().connect(1.0), 1.0)
    assert ConnectRefused(ErrorCode.E_NO_MORE_CONNECTIONS, None) in events
    assert server.state is TunnelState.CONNECTED


def test_connect_timeout() -> None:
    client = TunnelClient(connect_timeout=15.0)
    client.connect(1.0)
    assert client.next_deadline() == 16.0
    assert client.tick(15.9) == []
    events = client.tick(16.0)
    assert events == [TunnelClosed(CloseReason.CONNECT_TIMEOUT)]
    assert isinstance(closed_by(events).to_error(), ResponseTimeoutError)


def test_connect_twice_raises() -> None:
    client = TunnelClient()
    client.connect(0.0)
    with pytest.raises(TunnelError):
        client.connect(0.0)


# --- connection state ----------------------------------------------------------------------------


def test_heartbeat_answered() -> None:
    client, server = connected_pair(heartbeat_interval=60.0)
    channel = client.channel_id
    assert client.next_deadline() == 60.0
    assert client.tick(59.0) == []
    request = single(client.tick(60.0))
    assert request == H(f"061002070010{channel:02x}00" + ROUTE_BACK)
    response = single(server.receive(request, 60.0))
    assert response == H(f"061002080008{channel:02x}00")
    assert client.receive(response, 60.1) == []
    assert client.next_deadline() == 120.1
    assert server.next_deadline() == 180.0  # idle timeout counts from the last heartbeat


def test_heartbeat_unknown_channel_closes_the_tunnel() -> None:
    client, server = connected_pair()
    server.connection_lost(1.0)  # e.g. the gateway restarted and forgot the channel
    response = single(server.receive(client.probe(2.0), 2.0))
    assert knxip.parse(response) == knxip.ConnectionStateResponse(
        client.channel_id or 0, ErrorCode.E_CONNECTION_ID
    )
    assert client.receive(response, 2.1) == [
        TunnelClosed(CloseReason.HEARTBEAT, ErrorCode.E_CONNECTION_ID)
    ]


def test_dead_gateway_detected_after_the_allowed_misses() -> None:
    client, _ = connected_pair(
        heartbeat_interval=60.0, heartbeat_answer_timeout=10.0, heartbeat_misses=4
    )
    sent: list[float] = []
    now = 0.0
    closed: list[TunnelEvent] = []
    while not closed:
        deadline = client.next_deadline()
        assert deadline is not None
        now = deadline
        events = client.tick(now)
        sent += [now for _ in outgoing(events)]
        closed = [e for e in events if isinstance(e, TunnelClosed)]
    assert sent == [60.0, 70.0, 80.0, 90.0]
    assert now == 100.0
    assert closed == [TunnelClosed(CloseReason.HEARTBEAT)]
    assert isinstance(closed_by(closed).to_error(), TunnelError)


def test_fail_fast_probe_with_one_miss() -> None:
    client, _ = connected_pair(heartbeat_misses=1, heartbeat_answer_timeout=3.0)
    assert client.probe(5.0)
    assert client.probe(5.5) == b""  # one at a time
    assert client.next_deadline() == 8.0
    assert client.tick(8.0) == [TunnelClosed(CloseReason.HEARTBEAT)]


def test_heartbeat_error_status_counts_as_miss() -> None:
    client, _ = connected_pair(heartbeat_misses=2, heartbeat_answer_timeout=10.0)
    channel = client.channel_id or 0
    client.probe(0.0)
    knx_error = H(f"061002080008{channel:02x}27")  # E_KNX_CONNECTION
    assert client.receive(knx_error, 1.0) == []
    assert outgoing(client.tick(10.0))  # first miss: retry
    assert client.tick(20.0) == [TunnelClosed(CloseReason.HEARTBEAT)]


def test_unsolicited_connection_state_response_dropped() -> None:
    client, _ = connected_pair()
    channel = client.channel_id or 0
    assert client.receive(H(f"061002080008{channel:02x}00"), 1.0) == [
        FrameDropped(DropReason.UNEXPECTED)
    ]


def test_connection_state_for_unknown_channel() -> None:
    server = TunnelServer(slots(), user_id=2)
    response = single(server.receive(H("061002070010" + "2a00" + ROUTE_BACK), 0.0))
    assert response == H("0610020800082a21")
    _, server = connected_pair()
    other = (server.channel_id or 0) + 1
    response = single(server.receive(H(f"061002070010{other:02x}00" + ROUTE_BACK), 0.0))
    assert response == H(f"061002080008{other:02x}21")


# --- data ----------------------------------------------------------------------------------------


def test_send_telegram_and_match_confirmation() -> None:
    client, server = connected_pair()
    channel = client.channel_id or 0
    sent = client.send_telegram(write_on(), 1.0)
    assert sent.data == tunnelling_request(channel, 0, CEMI_WRITE_ON_REQ)
    parsed, _ = KNXIPFrame.from_knx(sent.data)
    assert isinstance(parsed.body, XTunnellingRequest)
    assert parsed.body.raw_cemi == CEMI_WRITE_ON_REQ

    events = server.receive(sent.data, 1.0)
    assert len(events) == 1
    assert isinstance(events[0], TelegramReceived)
    request = events[0].frame
    assert request.src == IA("1.1.253")  # the gateway fills in the tunnel address
    assert request.dst == GA("1/1/1")
    assert request.tpdu == b"\x00\x81"

    confirmation = server.confirm(request, 1.1)
    # L_Data.con with the tunnel address as source, ctrl1 confirm bit clear
    assert confirmation[10:] == H("2e00bce011fd09010100" + "81")
    events = client.receive(confirmation, 1.2)
    assert len(events) == 1
    assert isinstance(events[0], TelegramConfirmed)
    assert events[0].handle == sent.handle
    assert events[0].request == write_on()
    assert events[0].ok
    assert client.pending_confirmations == 0


def test_negative_confirmation() -> None:
    client, server = connected_pair()
    sent = client.send_telegram(write_on(src="1.1.253"), 1.0)
    (received,) = server.receive(sent.data, 1.0)
    assert isinstance(received, TelegramReceived)
    (event,) = client.receive(server.confirm(received.frame, 1.0, ok=False), 1.0)
    assert isinstance(event, TelegramConfirmed)
    assert event.handle == sent.handle
    assert not event.ok


def test_confirmations_match_by_content_not_order() -> None:
    client, server = connected_pair()
    first = client.send_telegram(write_on(dst="1/1/1"), 1.0)
    second = client.send_telegram(write_on(dst="1/1/2", value=0), 1.0)
    requests = [
        e.frame
        for data in (first.data, second.data)
        for e in server.receive(data, 1.0)
        if isinstance(e, TelegramReceived)
    ]
    events = client.receive(server.confirm(requests[1], 1.1), 1.1)
    assert [(e.handle, e.request.dst) for e in events if isinstance(e, TelegramConfirmed)] == [
        (second.handle, GA("1/1/2"))
    ]
    events = client.receive(server.confirm(requests[0], 1.2), 1.2)
    assert [e.handle for e in events if isinstance(e, TelegramConfirmed)] == [first.handle]


def test_confirmation_of_another_telegram_is_not_taken() -> None:
    client, server = connected_pair()
    sent = client.send_telegram(write_on(), 1.0)
    server.receive(sent.data, 1.0)
    stranger = server.confirm(write_on(src="1.1.253", value=0), 1.1)  # other TPDU
    assert client.receive(stranger, 1.1) == [FrameDropped(DropReason.UNEXPECTED)]
    assert client.pending_confirmations == 1


def test_confirmation_timeout_probes_the_gateway() -> None:
    client, _ = connected_pair(confirmation_timeout=3.0)
    sent = client.send_telegram(write_on(), 1.0)
    assert client.next_deadline() == 4.0
    assert client.tick(3.9) == []
    events = client.tick(4.0)
    assert events[0] == ConfirmationTimedOut(sent.handle, write_on())
    probe = knxip.parse(single(events))
    assert isinstance(probe, knxip.ConnectionStateRequest)
    assert client.pending_confirmations == 0


def test_indication_to_client() -> None:
    client, server = connected_pair()
    from_bus = LData(
        code=MessageCode.L_DATA_IND, src=IA("1.1.1"), dst=GA("1/1/2"), tpdu=b"\x00\x41"
    )
    data = server.indicate(from_bus, 2.0)
    assert data[10:] == H("2900bce01101090201" + "0041")
    assert client.receive(data, 2.0) == [TelegramReceived(from_bus)]


def test_sequence_numbers_count_per_direction() -> None:
    client, server = connected_pair()
    seqs = [client.send_telegram(write_on(), 1.0).data[8] for _ in range(3)]
    assert seqs == [0, 1, 2]
    bus = LData(MessageCode.L_DATA_IND, IA("1.1.1"), GA("1/1/2"), b"\x00\x80")
    assert [server.indicate(bus, 1.0)[8] for _ in range(2)] == [0, 1]


def test_sequence_number_wraps_after_255() -> None:
    client, _ = connected_pair()
    seqs = [client.send_telegram(write_on(), 1.0).data[8] for _ in range(258)]
    assert seqs[254:] == [254, 255, 0, 1]


def test_incoming_sequence_numbers_not_checked_over_tcp() -> None:
    """Some gateways send sequence 0 in every TUNNELLING_REQUEST over TCP: all are taken."""
    client, server = connected_pair()
    channel = client.channel_id or 0
    ind = H("2900bce01101090101" + "0081")
    for _ in range(3):
        events = client.receive(tunnelling_request(channel, 0, ind), 1.0)
        assert [type(e) for e in events] == [TelegramReceived]
    for sequence in (0, 0, 7):
        events = server.receive(tunnelling_request(channel, sequence, CEMI_WRITE_ON_REQ), 1.0)
        assert [type(e) for e in events] == [TelegramReceived]
    assert not client.dropped
    assert not server.dropped


def test_tunnelling_ack_accepted_and_ignored() -> None:
    client, server = connected_pair()
    channel = client.channel_id or 0
    ack = H(f"06100421000a04{channel:02x}0000")
    assert client.receive(ack, 1.0) == []
    assert server.receive(ack, 1.0) == []
    assert not client.dropped
    assert not server.dropped


def test_tunnelling_request_for_unknown_channel_dropped() -> None:
    client, server = connected_pair()
    other = (client.channel_id or 0) ^ 0x40
    frame = tunnelling_request(other, 0, CEMI_WRITE_ON_REQ)
    assert server.receive(frame, 1.0) == [FrameDropped(DropReason.CHANNEL)]
    assert client.receive(frame, 1.0) == [FrameDropped(DropReason.CHANNEL)]
    idle = TunnelServer(slots(), user_id=2)
    assert idle.receive(frame, 1.0) == [FrameDropped(DropReason.CHANNEL)]


def test_malformed_and_unexpected_frames_dropped() -> None:
    client, server = connected_pair()
    channel = client.channel_id or 0
    assert client.receive(b"\x06\x10\x04", 1.0) == [FrameDropped(DropReason.MALFORMED)]
    assert server.receive(b"garbage", 1.0) == [FrameDropped(DropReason.MALFORMED)]
    # a cEMI that is not L_Data (M_PropRead.req 0xFC)
    bad_cemi = tunnelling_request(channel, 0, H("fc000b01011001"))
    assert server.receive(bad_cemi, 1.0) == [FrameDropped(DropReason.MALFORMED)]
    # the client sends an L_Data.ind instead of .req
    ind = tunnelling_request(channel, 1, H("2900bce00000090101" + "0081"))
    assert server.receive(ind, 1.0) == [FrameDropped(DropReason.UNEXPECTED)]
    # a CONNECT_RESPONSE out of the blue
    assert client.receive(H("0610020600080124"), 1.0) == [FrameDropped(DropReason.UNEXPECTED)]
    assert client.state is TunnelState.CONNECTED


def test_send_requires_connection_and_a_request() -> None:
    client = TunnelClient()
    with pytest.raises(NotConnectedError):
        client.send_telegram(write_on(), 0.0)
    client, _ = connected_pair()
    with pytest.raises(ValueError, match=r"L_Data\.req"):
        client.send_telegram(LData(MessageCode.L_DATA_IND, IA("0.0.0"), GA("1/1/1"), b"\0\x81"), 0)
    idle = TunnelServer(slots())
    with pytest.raises(NotConnectedError):
        idle.indicate(write_on(), 0.0)


# --- disconnect ----------------------------------------------------------------------------------


def test_client_disconnects() -> None:
    the_slots = slots()
    client, server = connected_pair(the_slots=the_slots)
    channel = client.channel_id or 0
    client.send_telegram(write_on(), 1.0)
    request = client.disconnect(2.0)
    assert request == H(f"061002090010{channel:02x}00" + ROUTE_BACK)
    assert client.state is TunnelState.DISCONNECTING
    assert client.pending_confirmations == 0
    server_events = server.receive(request, 2.0)
    assert single(server_events) == H(f"0610020a0008{channel:02x}00")
    assert TunnelClosed(CloseReason.PEER) in server_events
    assert the_slots.is_free(IA("1.1.253"))
    assert client.receive(single(server_events), 2.1) == [TunnelClosed(CloseReason.LOCAL)]
    assert state_of(client) is TunnelState.CLOSED
    # the slot can be used again
    connected_pair(the_slots=the_slots)


def test_client_disconnect_unanswered() -> None:
    client, _ = connected_pair()
    client.disconnect(2.0)
    assert client.next_deadline() == 7.0
    assert client.tick(7.0) == [TunnelClosed(CloseReason.LOCAL)]


def test_server_disconnects() -> None:
    the_slots = slots()
    client, server = connected_pair(the_slots=the_slots)
    channel = client.channel_id or 0
    request = server.disconnect(3.0)
    assert knxip.parse(request) == knxip.DisconnectRequest(channel, knxip.HPAI.ROUTE_BACK_TCP)
    assert not the_slots.is_free(IA("1.1.253"))  # until the client answered
    client_events = client.receive(request, 3.0)
    assert client_events[-1] == TunnelClosed(CloseReason.PEER)
    assert isinstance(client_events[-1].to_error(), TunnelError)
    response = single(client_events)
    assert response == H(f"0610020a0008{channel:02x}00")
    assert server.receive(response, 3.1) == [TunnelClosed(CloseReason.LOCAL)]
    assert the_slots.is_free(IA("1.1.253"))
    assert server.state is TunnelState.IDLE


def test_disconnect_for_unknown_channel() -> None:
    server = TunnelServer(slots(), user_id=2)
    response = single(server.receive(H("061002090010" + "0900" + ROUTE_BACK), 0.0))
    assert response == H("0610020a00080921")


def test_server_idle_timeout_and_connection_lost() -> None:
    the_slots = slots()
    client, server = connected_pair(the_slots=the_slots, now=0.0)
    assert server.next_deadline() == 120.0
    assert server.tick(119.0) == []
    events = server.tick(120.0)
    assert events[-1] == TunnelClosed(CloseReason.IDLE_TIMEOUT)
    assert isinstance(knxip.parse(single(events)), knxip.DisconnectRequest)
    assert the_slots.is_free(IA("1.1.253"))

    client, server = connected_pair(the_slots=the_slots)
    assert server.connection_lost(1.0) == [TunnelClosed(CloseReason.ABORTED)]
    assert the_slots.is_free(IA("1.1.253"))
    assert client.connection_lost(1.0) == [TunnelClosed(CloseReason.ABORTED)]
    assert client.connection_lost(1.0) == []


def test_channel_ids_are_not_reused_at_once() -> None:
    the_slots = TunnelSlots([TunnelSlotConfig(IA("1.1.255"))])
    channels = []
    for _ in range(3):
        client, server = connected_pair(the_slots=the_slots, user_id=None)
        channels.append(client.channel_id)
        server.connection_lost(0.0)
    assert len(set(channels)) == 3


def test_duplicate_slot_addresses_rejected() -> None:
    with pytest.raises(ValueError, match="same individual address"):
        TunnelSlots([TunnelSlotConfig(IA("1.1.1")), TunnelSlotConfig(IA("1.1.1"), 2)])


# --- tunnel inside a secure session --------------------------------------------------------------


def test_tunnel_over_secure_session() -> None:
    """The whole stack in memory: session handshake, then connect, data, disconnect wrapped."""
    user_key, device_key = bytes(range(16)), bytes(range(16, 32))
    s_client = SecureSession.client(
        user_id=3, user_password_key=user_key, device_authentication_key=device_key,
        serial=H("00fa00000001"),
    )  # fmt: skip
    s_server = SecureSession.server(
        session_id=1, users={3: user_key}, device_authentication_key=device_key,
        serial=H("00fa00000002"),
    )  # fmt: skip
    now = 0.0
    s_server.start(now)
    pending = [(s_server, s_client.start(now))]
    established: list[object] = []
    while pending:
        target, data = pending.pop(0)
        for event in target.receive(data, now):
            peer = s_client if target is s_server else s_server
            if isinstance(event, OutgoingFrame):
                pending.append((peer, event.data))
            elif isinstance(event, SessionEstablished):
                established.append(event)
    assert len(established) == 2
    assert s_server.user_id == 3

    t_client = TunnelClient()
    t_server = TunnelServer(slots(), user_id=s_server.user_id)

    def to_server(data: bytes) -> list[TunnelEvent]:
        (event,) = s_server.receive(s_client.wrap(data, now), now)
        assert isinstance(event, InnerFrame)
        return t_server.receive(event.frame, now)

    def to_client(data: bytes) -> list[TunnelEvent]:
        (event,) = s_client.receive(s_server.wrap(data, now), now)
        assert isinstance(event, InnerFrame)
        return t_client.receive(event.frame, now)

    server_events = to_server(t_client.connect(now))
    assert to_client(single(server_events)) == [
        TunnelConnected(t_server.channel_id or 0, IA("1.1.254"))
    ]
    sent = t_client.send_telegram(write_on(), now)
    (received,) = to_server(sent.data)
    assert isinstance(received, TelegramReceived)
    assert received.frame.src == IA("1.1.254")
    (confirmed,) = to_client(t_server.confirm(received.frame, now))
    assert isinstance(confirmed, TelegramConfirmed)
    assert confirmed.handle == sent.handle
    server_events = to_server(t_client.disconnect(now))
    assert to_client(single(server_events)) == [TunnelClosed(CloseReason.LOCAL)]
    assert not s_client.dropped
    assert not s_server.dropped


# --- property tests: arbitrary input never raises ----------------------------------------------

TUNNEL_SERVICES = [0x0205, 0x0206, 0x0207, 0x0208, 0x0209, 0x020A, 0x0420, 0x0421, 0x0422, 0xFFFF]
TUNNEL_EVENT_TYPES = (
    OutgoingFrame,
    FrameDropped,
    TunnelConnected,
    TelegramReceived,
    TelegramConfirmed,
    ConfirmationTimedOut,
    ConnectRefused,
    TunnelClosed,
)


def framed(service: int, body: bytes) -> bytes:
    return b"\x06\x10" + service.to_bytes(2, "big") + (6 + len(body)).to_bytes(2, "big") + body


def tunnel_in(state: str) -> TunnelClient | TunnelServer:
    role, _, phase = state.partition("_")
    if phase == "idle":
        return TunnelClient() if role == "client" else TunnelServer(slots(), user_id=2)
    if phase == "connecting":
        client = TunnelClient()
        client.connect(0.0)
        return client
    client, server = connected_pair()
    client.send_telegram(write_on(), 0.5)
    if phase == "disconnecting":
        client.disconnect(0.5)
    return client if role == "client" else server


TUNNEL_STATES = [
    "client_idle",
    "client_connecting",
    "client_connected",
    "client_disconnecting",
    "server_idle",
    "server_connected",
]

arbitrary_tunnel_frames = st.one_of(
    st.binary(max_size=60),
    st.builds(framed, st.sampled_from(TUNNEL_SERVICES), st.binary(max_size=40)),
    # well-formed TUNNELLING_REQUEST on channels 0..3 with an arbitrary cEMI
    st.builds(tunnelling_request, st.integers(0, 3), st.integers(0, 255), st.binary(max_size=30)),
)


@settings(max_examples=150, deadline=None)
@given(state=st.sampled_from(TUNNEL_STATES), frames=st.lists(arbitrary_tunnel_frames, max_size=4))
def test_tunnel_receive_arbitrary_bytes_never_raises(state: str, frames: list[bytes]) -> None:
    machine = tunnel_in(state)
    for frame in frames:
        before = sum(machine.dropped.values())
        events = machine.receive(frame, 1.0)
        assert all(isinstance(e, TUNNEL_EVENT_TYPES) for e in events)
        assert sum(machine.dropped.values()) == before + sum(
            isinstance(e, FrameDropped) for e in events
        )
    machine.tick(1000.0)
