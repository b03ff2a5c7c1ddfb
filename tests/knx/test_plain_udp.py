"""Plain tunnelling over UDP, sans-I/O: TUNNELLING_ACK with sequence counters both ways, one
repetition after 1 s, the tunnel lost when the repetition is not acknowledged either, NAT
(route-back) HPAIs, and the heartbeat. Frames are checked against literal bytes."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.knx_secure.knx import knxip
from custom_components.knx_secure.knx.knxip import ErrorCode
from custom_components.knx_secure.knx.session import DropReason, FrameDropped
from custom_components.knx_secure.knx.tunnel import (
    CloseReason,
    TelegramConfirmed,
    TelegramReceived,
    TunnelClient,
    TunnelConnected,
    TunnelEvent,
    TunnelServer,
    TunnelState,
)
from custom_components.knx_secure.knx.tunnel.machine import AckWindow

from .test_tunnel import (
    CEMI_WRITE_ON_REQ,
    IA,
    closed_by,
    outgoing,
    single,
    slots,
    state_of,
    tunnelling_request,
    write_on,
)

H = bytes.fromhex
NAT = "0801000000000000"  # UDP, 0.0.0.0:0: "answer where this came from"
DATA_ENDPOINT = knxip.HPAI(knxip.HostProtocol.UDP, "127.0.0.1", 3671)


def ack(channel: int, sequence: int) -> bytes:
    return H("06100421000a04") + bytes((channel, sequence, 0))


def udp_pair(now: float = 0.0) -> tuple[TunnelClient, TunnelServer]:
    client = TunnelClient(datagram=True)
    server = TunnelServer(slots(), user_id=None, data_endpoint=DATA_ENDPOINT)
    response = single(server.receive(client.connect(now), now))
    events = client.receive(response, now)
    assert isinstance(events[0], TunnelConnected), events
    return client, server


def of_type[T](events: Sequence[TunnelEvent], kind: type[T]) -> list[T]:
    return [e for e in events if isinstance(e, kind)]


# --- connect: NAT mode and the data endpoint ------------------------------------------------


def test_udp_client_asks_in_nat_mode() -> None:
    client = TunnelClient(datagram=True)
    assert client.connect(0.0) == H("06100205001a" + NAT + NAT + "04040200")


def test_udp_server_names_its_data_endpoint() -> None:
    client = TunnelClient(datagram=True)
    server = TunnelServer(slots(), user_id=None, data_endpoint=DATA_ENDPOINT)
    response = knxip.parse(single(server.receive(client.connect(0.0), 0.0)))
    assert isinstance(response, knxip.ConnectResponse)
    assert response.status is ErrorCode.E_NO_ERROR
    assert response.data == DATA_ENDPOINT


def test_udp_heartbeat_and_disconnect_use_nat_hpai() -> None:
    client, _ = udp_pair()
    heartbeat = single(client.tick(60.0))
    assert heartbeat == H("06100207001001000801000000000000")
    client, _ = udp_pair()
    assert client.disconnect(1.0) == H("06100209001001000801000000000000")


# --- acknowledging incoming requests ----------------------------------------------------------


def test_incoming_request_acknowledged_with_its_sequence() -> None:
    _client, server = udp_pair()
    request = tunnelling_request(1, 0, CEMI_WRITE_ON_REQ)
    events = server.receive(request, 0.1)
    assert outgoing(events)[0] == ack(1, 0)
    assert len(of_type(events, TelegramReceived)) == 1


def test_repeated_request_acknowledged_again_but_handled_once() -> None:
    _, server = udp_pair()
    request = tunnelling_request(1, 0, CEMI_WRITE_ON_REQ)
    server.receive(request, 0.1)
    again = server.receive(request, 1.1)  # our ack was lost: the client repeats
    assert outgoing(again) == [ack(1, 0)]
    assert of_type(again, TelegramReceived) == []


def test_out_of_order_request_dropped_without_ack() -> None:
    _, server = udp_pair()
    events = server.receive(tunnelling_request(1, 5, CEMI_WRITE_ON_REQ), 0.1)
    assert outgoing(events) == []
    assert events == [FrameDropped(DropReason.UNEXPECTED)]
    # the expected one still goes through
    assert outgoing(server.receive(tunnelling_request(1, 0, CEMI_WRITE_ON_REQ), 0.2))[0] == ack(
        1, 0
    )


def test_sequence_counter_wraps() -> None:
    _, server = udp_pair()
    for sequence in [*range(256), 0]:
        events = server.receive(tunnelling_request(1, sequence, CEMI_WRITE_ON_REQ), 0.1)
        assert outgoing(events)[0] == ack(1, sequence)
        assert len(of_type(events, TelegramReceived)) == 1


# --- acks of our own requests -----------------------------------------------------------------


def test_one_request_in_flight_the_next_waits_for_its_ack() -> None:
    client, _ = udp_pair()
    first = client.send_telegram(write_on(), 0.1)
    second = client.send_telegram(write_on(value=0), 0.1)
    assert knxip.parse(first.data) == knxip.TunnellingRequest(1, 0, write_on().encode())
    assert second.data == b""  # queued
    released = client.receive(ack(1, 0), 0.2)
    assert outgoing(released) == [
        knxip.encode(knxip.TunnellingRequest(1, 1, write_on(value=0).encode()))
    ]


def test_repeated_once_after_one_second() -> None:
    client, _ = udp_pair()
    sent = client.send_telegram(write_on(), 0.0)
    assert client.next_deadline() == 1.0
    assert outgoing(client.tick(0.999)) == []
    assert outgoing(client.tick(1.0)) == [sent.data]  # same sequence number
    client.receive(ack(1, 0), 1.5)
    assert state_of(client) is TunnelState.CONNECTED


def test_repetition_unacknowledged_loses_the_tunnel() -> None:
    client, _ = udp_pair()
    client.send_telegram(write_on(), 0.0)
    client.tick(1.0)
    assert state_of(client) is TunnelState.CONNECTED
    events = client.tick(2.0)
    assert closed_by(events).reason is CloseReason.ACK_TIMEOUT
    assert "not acknowledged" in str(closed_by(events).to_error())


def test_ack_of_another_sequence_dropped() -> None:
    client, _ = udp_pair()
    client.send_telegram(write_on(), 0.0)
    assert client.receive(ack(1, 7), 0.1) == [FrameDropped(DropReason.UNEXPECTED)]
    assert client.receive(ack(2, 0), 0.1) == [FrameDropped(DropReason.CHANNEL)]


def test_server_queues_indication_behind_confirmation_and_repeats() -> None:
    _client, server = udp_pair()
    request = write_on(src="1.1.255")
    confirmation = server.confirm(request, 0.0)
    assert confirmation
    assert server.indicate(request, 0.0) == b""  # behind the unacknowledged confirmation
    assert outgoing(server.tick(1.0)) == [confirmation]
    events = server.receive(ack(1, 0), 1.1)
    indication = knxip.parse(single(events))
    assert isinstance(indication, knxip.TunnellingRequest)
    assert indication.sequence == 1


def test_server_closes_the_tunnel_when_the_repetition_is_lost() -> None:
    _, server = udp_pair()
    server.indicate(write_on(src="1.1.9"), 0.0)
    server.tick(1.0)
    events = server.tick(2.0)
    assert closed_by(events).reason is CloseReason.ACK_TIMEOUT
    assert outgoing(events) == [H("06100209001001000801000000000000")]
    assert server.state is TunnelState.IDLE


def test_client_and_server_talk_through_acks() -> None:
    client, server = udp_pair()
    sent = client.send_telegram(write_on(), 0.0)
    at_server = server.receive(sent.data, 0.0)
    (received,) = of_type(at_server, TelegramReceived)
    assert received.frame.src == IA("1.1.255")
    client.receive(single(at_server), 0.0)  # the ack
    confirmation = server.confirm(received.frame, 0.0)
    at_client = client.receive(confirmation, 0.0)
    assert len(of_type(at_client, TelegramConfirmed)) == 1
    server.receive(single(at_client), 0.0)  # the client's ack releases the server
    assert server.next_deadline() == 120.0  # only the idle timeout left


def test_tcp_sends_no_acks_and_ignores_them() -> None:
    client = TunnelClient()
    server = TunnelServer(slots(), user_id=None)
    client.receive(single(server.receive(client.connect(0.0), 0.0)), 0.0)
    events = server.receive(tunnelling_request(1, 9, CEMI_WRITE_ON_REQ), 0.1)
    assert outgoing(events) == []
    assert client.receive(ack(1, 0), 0.1) == []


def test_ack_window_rules() -> None:
    window = AckWindow(timeout=1.0)
    assert window.acknowledge(0, 0.0) is None  # nothing in flight
    assert window.submit(0, b"a", 0.0) == b"a"
    assert window.submit(1, b"b", 0.0) == b""
    assert window.waiting == 2
    assert window.tick(0.5) == b""
    assert window.acknowledge(0, 0.6) == b"b"
    assert window.next_deadline() == 1.6
    assert window.acknowledge(1, 0.7) == b""
    assert window.waiting == 0
    assert window.next_deadline() is None


# --- bad input over UDP -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.builds(
                lambda channel, sequence, status: (
                    bytes.fromhex("06100421000a04") + bytes((channel, sequence, status))
                ),
                st.integers(0, 255),
                st.integers(0, 255),
                st.integers(0, 255),
            ),
            st.builds(
                lambda channel, sequence: tunnelling_request(channel, sequence, CEMI_WRITE_ON_REQ),
                st.integers(0, 3),
                st.integers(0, 255),
            ),
        ),
        max_size=20,
    )
)
def test_udp_machines_take_any_datagrams(datagrams: list[bytes]) -> None:
    """Acks, requests with any channel and sequence, noise: events only, never an error;
    each side stays open or closes the tunnel, nothing else."""
    client, server = udp_pair()
    client.send_telegram(write_on(), 0.0)
    server.indicate(write_on(src="1.1.9"), 0.0)
    for step, datagram in enumerate(datagrams):
        now = step * 0.3
        for machine in (client, server):
            machine.receive(datagram, now)
            machine.tick(now)
    assert state_of(client) in (TunnelState.CONNECTED, TunnelState.CLOSED)
    assert state_of(server) in (TunnelState.CONNECTED, TunnelState.IDLE)
