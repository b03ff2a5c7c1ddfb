"""Routing flow control from the router's side: its bounded queue toward the bus.

``RouterQueue`` on an injected clock, then the virtual router on a multicast group on
127.0.0.1 with a slow bus: our client honours its ROUTING_BUSY and loses nothing, while a
node that ignores flow control overflows the queue and hears ROUTING_LOST_MESSAGE.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from custom_components.knx_secure.knx import knxip
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.cemi import LData, MessageCode, group_value_write
from custom_components.knx_secure.knx.client_types import Timeouts
from custom_components.knx_secure.knx.keyring import Keyring
from custom_components.knx_secure.knx.router import VirtualRouter
from custom_components.knx_secure.knx.routing import (
    BUSY_QUEUE_TIME,
    BUSY_WAIT_MS,
    Announce,
    RouterQueue,
    RoutingFlowControl,
    Served,
)
from custom_components.knx_secure.knx.routing_edge import RoutingEndpoint, open_routing

from ..helpers import virtual_gateway
from .test_routing_edge import GROUP, Installation, free_udp_port, until, without_backbone_key

pytestmark = pytest.mark.timeout(60)

#: A group address without a Data Secure key: the telegrams carry their index as payload.
TARGET = GroupAddress.parse("0/0/5")


def served(events: list[Served[int] | Announce]) -> list[int]:
    return [e.item for e in events if isinstance(e, Served)]


def announced(events: list[Served[int] | Announce]) -> list[knxip.Frame]:
    return [e.frame for e in events if isinstance(e, Announce)]


# --- the queue on an injected clock ---------------------------------------------------------


def test_an_idle_bus_takes_a_frame_at_once_then_one_per_service_time() -> None:
    queue: RouterQueue[int] = RouterQueue(capacity=8, service_time=0.02)
    assert served(queue.offer(1, 0.0)) == [1]
    assert served(queue.offer(2, 0.005)) == []  # the bus is still sending 1
    assert queue.next_deadline() == pytest.approx(0.02)
    assert served(queue.tick(0.02)) == [2]
    assert queue.next_deadline() is None
    assert served(queue.offer(3, 0.5)) == [3]  # idle again


def test_busy_once_the_backlog_takes_100_ms_and_again_after_its_wait() -> None:
    queue: RouterQueue[int] = RouterQueue(capacity=16, service_time=0.03)
    events: list[Served[int] | Announce] = []
    for item in range(3):  # 0 onto the bus at once (30 ms), 1 and 2 queued: 90 ms to go
        events += queue.offer(item, 0.0)
    assert not announced(events)
    (busy,) = announced(queue.offer(3, 0.0))  # 120 ms now
    assert isinstance(busy, knxip.RoutingBusy)
    assert busy.wait_time_ms == BUSY_WAIT_MS
    assert busy.device_state == 0
    assert BUSY_QUEUE_TIME * 1000 <= BUSY_WAIT_MS <= 100  # the specification's 20..100 ms
    # not again while the group is still pausing for it
    assert not announced(queue.offer(5, 0.05))
    # once the wait is over, a frame that finds the backlog still long brings another
    (again,) = announced(queue.offer(6, 0.1))
    assert isinstance(again, knxip.RoutingBusy)
    assert queue.busy_announced == 2


def test_a_full_queue_loses_frames_and_reports_them_once_per_burst() -> None:
    queue: RouterQueue[int] = RouterQueue(capacity=2, service_time=0.05)
    events: list[Served[int] | Announce] = []
    for item in range(6):  # 0 onto the bus, 1 and 2 queued, 3..5 lost
        events += queue.offer(item, 0.0)
    assert served(events) == [0]
    assert queue.lost == 3
    assert not [f for f in announced(events) if isinstance(f, knxip.RoutingLostMessage)]
    events = queue.tick(0.05)
    assert served(events) == [1]
    (report,) = [f for f in announced(events) if isinstance(f, knxip.RoutingLostMessage)]
    assert report.lost_messages == 3
    events = queue.tick(0.1)
    assert served(events) == [2]
    assert not announced(events)  # reported once
    assert len(queue) == 0


def test_the_queue_refuses_nonsense_shapes() -> None:
    with pytest.raises(ValueError, match="at least one frame"):
        RouterQueue(capacity=0, service_time=0.02)
    with pytest.raises(ValueError, match="must not be negative"):
        RouterQueue(capacity=4, service_time=-1)


# --- the virtual router with a slow bus -------------------------------------------------------


class BusSpy:
    """The payloads of the telegrams to TARGET that reach the simulated bus, in order."""

    def __init__(self) -> None:
        self.payloads: list[int] = []

    def deliver(self, frame: LData) -> None:
        if frame.dst == TARGET:
            self.payloads.append(frame.tpdu[-1])


@pytest.fixture(params=["secure", "plain"])
async def slow(
    request: pytest.FixtureRequest, keyring: Keyring
) -> AsyncIterator[tuple[Installation, BusSpy]]:
    """A router whose bus takes a frame every 50 ms and holds at most 8."""
    used = keyring if request.param == "secure" else without_backbone_key(keyring)
    port = free_udp_port()
    gateway = virtual_gateway(used)
    router = VirtualRouter(
        gateway, group=GROUP, port=port, interface="127.0.0.1", service_time=0.05, queue_capacity=8
    )
    spy = BusSpy()
    await router.start()
    gateway.bus.attach(spy)
    yield Installation(gateway, router, port), spy
    await router.stop()


async def test_our_client_backs_off_and_the_router_loses_nothing(
    slow: tuple[Installation, BusSpy],
) -> None:
    installation, spy = slow
    client = installation.client()
    client.timeouts = dataclasses.replace(Timeouts(), confirmation=30.0)
    await client.connect()
    try:
        count = 24  # sent 20 ms apart: 2.5 times what the bus takes
        await asyncio.gather(*(client.write(TARGET, bytes([n])) for n in range(count)))
        await until(lambda: len(spy.payloads) == count)
        assert spy.payloads == list(range(count))  # every one, in order
        assert installation.router.queue.lost == 0
        assert installation.router.queue.busy_announced >= 1
        assert client.endpoint is not None
        assert client.endpoint.busy_frames >= 1  # it heard them and paused
        assert client.endpoint.lost_messages == 0
    finally:
        await client.close()


class IgnoresBusy(RoutingFlowControl):
    """A node that sends as fast as it can and never pauses."""

    def ready_at(self, now: float) -> float:
        return now

    def busy(self, wait_ms: int, now: float) -> None:
        pass


async def test_a_node_ignoring_busy_overflows_the_queue_and_hears_the_loss(
    slow: tuple[Installation, BusSpy],
) -> None:
    installation, spy = slow
    listener = installation.client()  # ours, to hear what the router tells the group
    await listener.connect()
    rude = RoutingEndpoint(listener._node(), lambda cemi: None, flow=IgnoresBusy())
    driver = await open_routing(rude, installation.group, installation.port, "127.0.0.1")
    try:
        await asyncio.wait_for(rude.synchronised, 10)
        now = driver.loop.time()
        for n in range(30):
            rude.send_cemi(_write(n), now)
        lost = installation.router.queue
        await until(lambda: lost.lost > 0 and len(spy.payloads) == 30 - lost.lost)
        assert listener.endpoint is not None
        await until(lambda: listener.endpoint.lost_messages == lost.lost)  # type: ignore[union-attr]
        assert listener.endpoint.busy_frames >= 1
        assert spy.payloads == sorted(spy.payloads)  # what got through kept its order
    finally:
        driver.close()
        await driver.closed
        await listener.close()


def _write(n: int) -> bytes:
    frame = LData(
        code=MessageCode.L_DATA_IND,
        src=IndividualAddress.parse("15.15.2"),
        dst=TARGET,
        tpdu=group_value_write(bytes([n])),
    )
    return frame.encode()
