"""The sans-I/O routing nodes: secure routing's timer synchronisation, freshness and drops.

Nodes are joined by an in-memory multicast group with an injected clock; xknx's own
SecureSequenceTimer is the independent peer for the timer rules.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import pytest
from xknx.io.ip_secure import SecureSequenceTimer
from xknx.knxip import KNXIPFrame
from xknx.knxip import TimerNotify as XknxTimerNotify

from custom_components.knx_secure.knx import knxip
from custom_components.knx_secure.knx.errors import NotConnectedError
from custom_components.knx_secure.knx.routing import (
    BUSY_RANDOM_WAIT,
    BUSY_SLOW_DURATION,
    ROUTING_INDICATION_INTERVAL,
    NotifyDelays,
    PlainRouting,
    PresenceMonitor,
    RoutingDropped,
    RoutingEvent,
    RoutingFlowControl,
    RoutingFrame,
    RoutingSend,
    SecureRouting,
    TimerSynchronised,
)
from custom_components.knx_secure.knx.session import DropReason, encrypt_wrapper

KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
OTHER_KEY = bytes.fromhex("f0e0d0c0b0a090807060504030201000")
LATENCY = 1000
# a valid ROUTING_INDICATION: L_Data.ind GroupValueWrite ON from 1.1.1 to 1/1/1
INDICATION = knxip.encode(knxip.RoutingIndication(cemi=bytes.fromhex("2900bcd011010901010081")))


def serial(n: int) -> bytes:
    return bytes.fromhex("00fa00000000")[:5] + bytes([n])


def node(n: int, *, seed: int | None = None, initial_timer: int | None = None) -> SecureRouting:
    return SecureRouting(
        KEY,
        serial(n),
        latency_ms=LATENCY,
        rng=random.Random(seed if seed is not None else n),
        initial_timer=initial_timer,
    )


def sends(events: list[RoutingEvent]) -> list[bytes]:
    return [e.data for e in events if isinstance(e, RoutingSend)]


def frames(events: list[RoutingEvent]) -> list[RoutingFrame]:
    return [e for e in events if isinstance(e, RoutingFrame)]


def drops(events: list[RoutingEvent]) -> list[DropReason]:
    return [e.reason for e in events if isinstance(e, RoutingDropped)]


@dataclass
class Group:
    """A lossless multicast group on an injected clock: every datagram reaches every node."""

    nodes: list[SecureRouting]
    now: float = 0.0
    received: dict[int, list[RoutingFrame]] = field(default_factory=dict)
    synchronised: dict[int, list[TimerSynchronised]] = field(default_factory=dict)

    def start(self, index: int) -> None:
        self.deliver(index, self.nodes[index].start(self.now))

    def send(self, index: int, frame: bytes) -> None:
        self.deliver(index, [RoutingSend(self.nodes[index].send(frame, self.now))])

    def deliver(self, sender: int, events: list[RoutingEvent]) -> None:
        self._collect(sender, events)
        for data in sends(events):
            for index, peer in enumerate(self.nodes):
                if index != sender:
                    self.deliver(index, peer.receive(data, self.now))

    def run_until(self, end: float) -> None:
        while True:
            deadlines = [(n.next_deadline(), i) for i, n in enumerate(self.nodes)]
            due = [(d, i) for d, i in deadlines if d is not None and d <= end]
            if not due:
                self.now = end
                return
            self.now, index = min(due)
            self.deliver(index, self.nodes[index].tick(self.now))

    def _collect(self, index: int, events: list[RoutingEvent]) -> None:
        self.received.setdefault(index, []).extend(frames(events))
        self.synchronised.setdefault(index, []).extend(
            e for e in events if isinstance(e, TimerSynchronised)
        )


def test_delays_follow_the_latency_tolerance() -> None:
    delays = NotifyDelays.for_latency(1000)  # sync tolerance 100 ms
    assert delays.keeper_periodic == (10.0, pytest.approx(10.3))
    assert delays.follower_periodic == (pytest.approx(10.4), pytest.approx(11.4))
    assert delays.keeper_update == (0.1, pytest.approx(0.2))
    assert delays.follower_update == (pytest.approx(0.3), pytest.approx(1.3))
    assert delays.synchronise == pytest.approx(3.3)  # as xknx waits at 1000 ms


def test_a_node_alone_asks_for_the_timer_then_keeps_it() -> None:
    alone = node(1)
    (request,) = sends(alone.start(0.0))
    notify = knxip.parse(request)
    assert isinstance(notify, knxip.TimerNotify)
    assert notify.serial == serial(1)
    assert not alone.synchronised
    with pytest.raises(NotConnectedError):
        alone.send(INDICATION, 0.0)
    assert alone.tick(3.2) == []
    assert alone.tick(3.3) == [TimerSynchronised(timekeeper=True)]
    assert alone.synchronised
    assert alone.timekeeper


def test_a_joining_node_takes_the_timekeepers_timer() -> None:
    group = Group([node(1, initial_timer=3_600_000), node(2, initial_timer=5)])
    group.start(0)
    group.run_until(4.0)
    assert group.nodes[0].timekeeper
    group.start(1)
    group.run_until(4.5)  # the keeper answers after 0.1-0.2 s
    assert group.synchronised[1] == [TimerSynchronised(timekeeper=False)]
    assert not group.nodes[1].timekeeper
    assert abs(group.nodes[1].timer(group.now) - group.nodes[0].timer(group.now)) <= 1


def test_frames_flow_both_ways_and_replays_are_dropped() -> None:
    group = Group([node(1), node(2)])
    group.start(0)
    group.run_until(4.0)
    group.start(1)
    group.run_until(8.0)
    assert group.nodes[1].synchronised
    group.send(0, INDICATION)
    group.send(1, INDICATION)
    assert [f.frame for f in group.received[1]] == [INDICATION]
    assert [f.frame for f in group.received[0]] == [INDICATION]
    assert all(f.secure for f in group.received[0] + group.received[1])

    replayed = group.nodes[0].send(INDICATION, group.now)
    assert frames(group.nodes[1].receive(replayed, group.now))
    assert drops(group.nodes[1].receive(replayed, group.now)) == [DropReason.REPLAY]
    assert group.nodes[1].dropped == {DropReason.REPLAY: 1}


def test_the_replay_memory_holds_only_frames_inside_the_tolerance() -> None:
    """A frame leaves the memory once its timer is outside the latency tolerance (it fails
    the timer check from then on), so the memory stays small and costs O(1) per frame."""
    group = Group([node(1), node(2)])
    group.start(0)
    group.run_until(4.0)
    group.start(1)
    group.run_until(8.0)
    receiver = group.nodes[1]
    interval = 0.01
    most = 0
    for step in range(300):  # 3 s of frames 10 ms apart
        group.now = 8.0 + step * interval
        replayed = group.nodes[0].send(INDICATION, group.now)
        assert frames(receiver.receive(replayed, group.now))
        assert drops(receiver.receive(replayed, group.now)) == [DropReason.REPLAY]
        most = max(most, receiver.remembered)
    assert most <= LATENCY / 1000 / interval + 1


def test_a_probe_is_answered_by_the_group_and_its_echo_ignored() -> None:
    group = Group([node(1, initial_timer=3_600_000), node(2, initial_timer=5)])
    group.start(0)
    group.run_until(4.0)
    group.start(1)
    group.run_until(4.5)
    keeper, prober = group.nodes
    assert prober.last_heard is not None
    before = prober.last_heard
    group.run_until(6.0)
    (probe,) = sends(prober.probe(group.now))
    due = prober.next_deadline()
    assert prober.receive(probe, group.now) == []  # its own probe, looped back
    assert prober.next_deadline() == due  # owes itself nothing
    assert keeper.receive(probe, group.now) == []
    answer_due = keeper.next_deadline()
    assert answer_due is not None
    assert answer_due <= group.now + NotifyDelays.for_latency(LATENCY).keeper_update[1]
    group.run_until(answer_due)
    assert prober.last_heard == answer_due > before  # the keeper's answer under the probe's tag
    assert prober.synchronised
    assert not prober.timekeeper


def test_a_probe_before_synchronisation_sends_nothing() -> None:
    assert node(1).probe(0.0) == []
    assert PlainRouting().probe(0.0) == []


def test_presence_probes_after_silence_and_reports_absence_and_return() -> None:
    presence = PresenceMonitor(interval=10.0, answer_window=3.0, now=0.0, present=True)
    assert presence.tick(5.0) == (False, False)
    assert presence.heard(5.0) is False  # already present: no change
    assert presence.next_deadline() == 15.0
    assert presence.tick(15.0) == (True, False)  # probe
    assert presence.tick(18.0) == (False, True)  # unanswered: gone
    assert not presence.present
    assert presence.tick(28.0) == (True, False)  # probes again while absent
    assert presence.tick(31.0) == (False, False)  # still gone: no second report
    assert presence.heard(32.0) is True  # back
    assert presence.present
    assert presence.next_deadline() == 42.0


def test_presence_of_a_group_nobody_answered_is_probed_at_once() -> None:
    presence = PresenceMonitor(interval=10.0, answer_window=3.0, now=0.0, present=None)
    assert presence.tick(0.0) == (True, False)
    assert presence.tick(3.0) == (False, True)  # nobody there: reported once
    assert presence.tick(13.0) == (True, False)
    assert presence.tick(16.0) == (False, False)
    assert presence.heard(17.0) is True
    answered = PresenceMonitor(interval=10.0, answer_window=3.0, now=0.0, present=None)
    assert answered.heard(1.0) is True  # known from now on: present
    with pytest.raises(ValueError, match="positive"):
        PresenceMonitor(interval=0, answer_window=3.0, now=0.0, present=True)


def test_stale_forged_foreign_and_plain_frames_are_dropped() -> None:
    keeper = node(1, initial_timer=10_000_000)
    keeper.start(0.0)
    keeper.tick(3.3)
    now = 5.0
    local = keeper.timer(now)
    stale = encrypt_wrapper(
        KEY, session_id=0, sequence=local - LATENCY, serial=serial(9), tag=7, plain_frame=INDICATION
    )
    fresh = encrypt_wrapper(
        KEY, session_id=0, sequence=local - 50, serial=serial(9), tag=7, plain_frame=INDICATION
    )
    wrong_key = encrypt_wrapper(
        OTHER_KEY, session_id=0, sequence=local, serial=serial(9), tag=7, plain_frame=INDICATION
    )
    tampered = bytearray(fresh)
    tampered[-20] ^= 1
    session = encrypt_wrapper(
        KEY, session_id=3, sequence=local, serial=serial(9), tag=7, plain_frame=INDICATION
    )
    assert drops(keeper.receive(stale, now)) == [DropReason.REPLAY]
    assert drops(keeper.receive(wrong_key, now)) == [DropReason.MAC]
    assert drops(keeper.receive(bytes(tampered), now)) == [DropReason.MAC]
    assert drops(keeper.receive(session, now)) == [DropReason.SESSION_ID]
    assert drops(keeper.receive(INDICATION, now)) == [DropReason.UNEXPECTED]
    assert drops(keeper.receive(b"\x06\x10\x09", now)) == [DropReason.MALFORMED]
    assert frames(keeper.receive(fresh, now))  # within the tolerance: accepted
    # the stale sender is owed the current timer, under its own serial and tag
    due = keeper.next_deadline()
    assert due is not None
    assert due <= now + NotifyDelays.for_latency(LATENCY).keeper_update[1]
    (update,) = sends(keeper.tick(due))
    notify = knxip.parse(update)
    assert isinstance(notify, knxip.TimerNotify)
    assert (notify.serial, notify.tag) == (serial(9), 7)
    assert notify.timer >= local


def test_own_looped_back_frames_are_not_taken_for_others() -> None:
    keeper = node(1)
    keeper.start(0.0)
    keeper.tick(3.3)
    own = keeper.send(INDICATION, 4.0)
    assert drops(keeper.receive(own, 4.0)) == [DropReason.REFLECTED]


def test_frames_before_synchronisation_are_dropped() -> None:
    keeper, joining = node(1), node(2)
    keeper.start(0.0)
    keeper.tick(3.3)
    joining.start(4.0)
    assert drops(joining.receive(keeper.send(INDICATION, 4.0), 4.0)) == [DropReason.UNEXPECTED]


def test_a_node_far_behind_catches_up_without_losing_telegrams() -> None:
    ahead, behind = node(1, initial_timer=7_200_000), node(2, initial_timer=1_000)
    for n in (ahead, behind):
        n.start(0.0)
        n.tick(3.3)  # each alone: both keep their own time
    received = frames(behind.receive(ahead.send(INDICATION, 4.0), 4.0))
    assert received
    assert behind.timer(4.0) >= ahead.timer(4.0) - 1
    # and its own frames are now fresh for the node that was ahead
    assert frames(ahead.receive(behind.send(INDICATION, 4.1), 4.1))


def test_timer_notify_with_a_wrong_key_is_dropped() -> None:
    keeper = node(1)
    keeper.start(0.0)
    keeper.tick(3.3)
    stranger = SecureRouting(OTHER_KEY, serial(5), rng=random.Random(5))
    (request,) = sends(stranger.start(4.0))
    assert drops(keeper.receive(request, 4.0)) == [DropReason.MAC]


@pytest.mark.parametrize("seed", range(5))
def test_three_nodes_converge_on_one_timer_and_one_keeper(seed: int) -> None:
    rng = random.Random(seed)
    group = Group(
        [node(i, seed=seed * 10 + i, initial_timer=rng.randrange(1 << 40)) for i in range(3)]
    )
    for index in range(3):
        group.start(index)
        group.run_until(group.now + rng.uniform(0.0, 5.0))
    group.run_until(group.now + 60.0)
    timers = [n.timer(group.now) for n in group.nodes]
    assert max(timers) - min(timers) <= round(LATENCY * 0.1)
    assert sum(n.timekeeper for n in group.nodes) == 1
    for index in range(3):  # every node's frames reach the other two
        before = [len(group.received.get(i, [])) for i in range(3)]
        group.send(index, INDICATION)
        after = [len(group.received.get(i, [])) for i in range(3)]
        assert [a - b for a, b in zip(after, before, strict=True)] == [
            0 if i == index else 1 for i in range(3)
        ]


def test_outgoing_timers_strictly_increase() -> None:
    keeper = node(1)
    keeper.start(0.0)
    keeper.tick(3.3)
    timers = [knxip.parse(keeper.send(INDICATION, 4.0)) for _ in range(5)]
    values = [t.sequence for t in timers if isinstance(t, knxip.SecureWrapper)]
    assert values == sorted(set(values))
    assert len(values) == 5


def test_plain_routing_passes_frames_and_refuses_secure_ones() -> None:
    plain = PlainRouting()
    assert plain.start(0.0) == [TimerSynchronised(timekeeper=False)]
    assert plain.send(INDICATION, 0.0) == INDICATION
    # the group loops our own datagram back once: recognised; the same octets again are not ours
    assert drops(plain.receive(INDICATION, 0.0)) == [DropReason.REFLECTED]
    assert frames(plain.receive(INDICATION, 0.0)) == [RoutingFrame(INDICATION, secure=False)]
    keeper = node(1)
    (notify,) = sends(keeper.start(0.0))
    assert drops(plain.receive(notify, 0.0)) == [DropReason.UNEXPECTED]
    assert drops(plain.receive(b"\x00", 0.0)) == [DropReason.MALFORMED]


# --- xknx's SecureSequenceTimer as the independent peer ---------------------------------------


async def test_xknx_joins_our_timekeeper_and_takes_its_timer() -> None:
    """xknx sends TIMER_NOTIFY on joining; our keeper answers under xknx's tag; xknx adopts."""
    loop = asyncio.get_running_loop()
    ours = node(1, initial_timer=int(loop.time() * 1000) + 3_600_000)
    ours.start(loop.time())
    ours.tick(loop.time() + 3.3)

    def to_ours(frame: KNXIPFrame, _addr: object) -> None:
        for data in sends(ours.receive(frame.to_knx(), loop.time())):
            peer.handle_timer_notify(_xknx_notify(data))

    peer = SecureSequenceTimer(backbone_key=KEY, latency_ms=LATENCY, transport_send=to_ours)

    async def drive_ours() -> None:
        while True:
            due = ours.next_deadline()
            await asyncio.sleep(max((due or loop.time() + 1) - loop.time(), 0))
            for data in sends(ours.tick(loop.time())):
                peer.handle_timer_notify(_xknx_notify(data))

    driver = asyncio.create_task(drive_ours())
    try:
        async with asyncio.timeout(5):
            await peer.synchronize()
    finally:
        driver.cancel()
        peer.stop()
    assert not peer.timekeeper
    assert abs(peer.current_timer_value() - ours.timer(loop.time())) <= 20


async def test_our_node_joins_an_xknx_timekeeper() -> None:
    """xknx keeps the time; our joining node's request is answered and we adopt xknx's timer."""
    loop = asyncio.get_running_loop()
    ours = node(2, initial_timer=5)
    answered: list[RoutingEvent] = []

    def to_ours(frame: KNXIPFrame, _addr: object) -> None:
        answered.extend(ours.receive(frame.to_knx(), loop.time()))

    peer = SecureSequenceTimer(backbone_key=KEY, latency_ms=LATENCY, transport_send=to_ours)
    peer.timekeeper = True
    peer.timer_authenticated = True
    peer.update(int(loop.time() * 1000) + 3_600_000)
    try:
        (request,) = sends(ours.start(loop.time()))
        peer.handle_timer_notify(_xknx_notify(request))  # ours is far behind: xknx answers
        async with asyncio.timeout(3):
            while not ours.synchronised:  # noqa: ASYNC110 - xknx answers from its own timer
                await asyncio.sleep(0.01)
    finally:
        peer.stop()
    assert TimerSynchronised(timekeeper=False) in answered
    assert abs(peer.current_timer_value() - ours.timer(loop.time())) <= 20


def _xknx_notify(data: bytes) -> XknxTimerNotify:
    frame, _ = KNXIPFrame.from_knx(data)
    assert isinstance(frame.body, XknxTimerNotify)
    return frame.body


# --- routing flow control ----------------------------------------------------------------------


def test_indications_are_spaced_by_the_send_interval() -> None:
    flow = RoutingFlowControl(rng=random.Random(1))
    assert flow.ready_at(1.0) == 1.0
    flow.sent(1.0)
    assert flow.ready_at(1.005) == pytest.approx(1.0 + ROUTING_INDICATION_INTERVAL)
    assert flow.ready_at(1.5) == 1.5


def test_routing_busy_pauses_for_its_wait_time() -> None:
    flow = RoutingFlowControl(rng=random.Random(1))
    flow.busy(100, 2.0)
    assert flow.paused(2.05)
    assert flow.ready_at(2.05) == pytest.approx(2.1)  # first busy: no random extension
    assert not flow.paused(2.1)
    assert flow.busy_count(2.2) == 0


def test_repeated_busy_frames_lengthen_the_pause_and_then_fade() -> None:
    flow = RoutingFlowControl(rng=random.Random(1))
    flow.busy(50, 0.0)
    flow.busy(20, 0.005)  # within 10 ms of the previous one: not counted; shorter: ignored
    assert flow.busy_count(0.006) == 0
    assert flow.ready_at(0.006) == pytest.approx(0.05)
    flow.busy(100, 0.03)  # counted, and longer than what remains: the pause restarts
    assert flow.busy_count(0.03) == 1
    end = flow.ready_at(0.03)
    assert 0.13 <= end <= 0.13 + BUSY_RANDOM_WAIT
    # the count holds through the slow phase (100 ms per busy frame), then fades every 5 ms
    assert flow.busy_count(end + 0.09) == 1
    assert flow.busy_count(end + BUSY_SLOW_DURATION + 0.006) == 0


def test_a_busy_frame_with_a_shorter_wait_does_not_shorten_the_pause() -> None:
    flow = RoutingFlowControl(rng=random.Random(1))
    flow.busy(500, 0.0)
    flow.busy(10, 0.1)
    assert flow.ready_at(0.1) >= 0.5


def test_a_joining_node_ignores_its_own_timer_request_looped_back() -> None:
    """The multicast loop hands a node its own TIMER_NOTIFY (its serial, its fresh tag): that
    is not the timekeeper's answer, and adopting it would keep the node's own timer."""
    joining = node(2)
    (request,) = sends(joining.start(5.0))
    assert joining.receive(request, 5.001) == []
    assert not joining.synchronised
    keeper = node(1, initial_timer=10**9)
    keeper.start(0.0)
    keeper.tick(3.3)
    assert keeper.timekeeper
    assert keeper.receive(request, 5.002) == []  # far behind: the keeper owes an update
    deadline = keeper.next_deadline()
    assert deadline is not None
    (answer,) = sends(keeper.tick(deadline))
    assert joining.receive(answer, deadline) == [TimerSynchronised(timekeeper=False)]
    assert joining.timer(deadline) == keeper.timer(deadline)


def test_a_node_that_starts_the_group_keeps_the_time_at_once() -> None:
    router = node(1)
    assert router.start(0.0, keep_time=True) == [TimerSynchronised(timekeeper=True)]
    assert router.synchronised
    assert router.timekeeper


def test_timer_stops_at_the_wire_maximum() -> None:
    """The 6-octet timer field ends at knxip.MAX_SEQUENCE: a node there sends one frame more,
    then refuses instead of wrapping around to timers every peer takes for replays."""
    ours = node(1, initial_timer=knxip.MAX_SEQUENCE - 10_000)  # 10 s before the end
    ours.start(0.0)
    assert ours.tick(10.0) == [TimerSynchronised(timekeeper=True)]  # alone: it keeps the time
    assert ours.timer(10.0) == knxip.MAX_SEQUENCE
    ours.send(INDICATION, 10.0)
    with pytest.raises(NotConnectedError, match="timer has run out"):
        ours.send(INDICATION, 10.0)
