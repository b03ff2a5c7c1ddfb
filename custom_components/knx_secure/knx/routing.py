"""KNXnet/IP routing on a multicast group, secure and plain, sans-I/O.

A routing node takes datagrams received from the group and gives back events: the inner frames
to act on (ROUTING_INDICATION and the routing flow-control frames), the datagrams to send to the
group, and the frames it dropped with their reason. It owns no socket, task or clock: ``now``
(seconds, monotonic) is passed in and ``next_deadline`` says when ``tick`` is due.

Secure routing (AN159 §2.2.2) wraps every frame in a SECURE_WRAPPER with session id 0, the
backbone key, the node's serial number and a message tag random per node. Freshness comes from
the group's multicast timer: a 6-octet millisecond value that every node keeps in step with
TIMER_NOTIFY frames (§2.2.2.3):

- On joining, a node sends TIMER_NOTIFY with a fresh random tag and waits for the timekeeper to
  answer with its timer under that tag; until then it drops what it receives (an old frame could
  otherwise set its timer) and cannot send. Nobody answering means an empty group: it becomes
  the timekeeper itself, as real routers do.
- A received frame (wrapper or TIMER_NOTIFY) whose timer is ahead moves the local timer forward;
  one within the latency tolerance is accepted; an older one is dropped and answered, after a
  short random delay, with a TIMER_NOTIFY carrying the current timer so that its sender catches up.
- The timekeeper sends TIMER_NOTIFY periodically (about every 10 s); a follower that hears nothing
  for longer sends its own and becomes timekeeper. Delays are random within windows derived from
  the sync tolerance (a tenth of the latency tolerance), so that one node answers first.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Final

from . import knxip
from .errors import FrameError, NotConnectedError, WrapperMacError
from .session import DropReason, WrapperCipher

#: Backbone@Latency default of ETS (milliseconds).
DEFAULT_LATENCY_MS: Final = 1000
#: The sync tolerance is this fraction of the latency tolerance (AN159: 10 %).
SYNC_LATENCY_FRACTION: Final = 0.1
#: Earliest periodic TIMER_NOTIFY of the timekeeper, and earliest answer to a stale timer (s).
KEEPER_PERIODIC_NOTIFY: Final = 10.0
KEEPER_UPDATE_NOTIFY: Final = 0.1

#: Routing flow control (03.08.05 §2.3.5, 03.02.06 §2.1): at most one ROUTING_INDICATION per
#: 20 ms from a node; after ROUTING_BUSY a pause of its wait time, longer by up to 50 ms for each
#: further busy frame (counted when more than 10 ms apart) and a slow phase of 100 ms each, after
#: which the count fades by one every 5 ms.
ROUTING_INDICATION_INTERVAL: Final = 0.02
BUSY_COUNT_COOLDOWN: Final = 0.01
BUSY_RANDOM_WAIT: Final = 0.05
BUSY_SLOW_DURATION: Final = 0.1
BUSY_COUNT_DECAY: Final = 0.005

#: A router's queue toward its KNX subnetwork (03.08.05 §2.3.5): ROUTING_BUSY once what is
#: queued may take at least 100 ms to send, asking every node to pause for the time that
#: empties the queue, which the specification bounds to 20..100 ms: from that threshold on
#: always the 100 ms.
BUSY_QUEUE_TIME: Final = 0.1
BUSY_WAIT_MS: Final = 100
#: The device state of our ROUTING_BUSY and ROUTING_LOST_MESSAGE frames: no fault.
DEVICE_STATE_OK: Final = 0

_ROUTING_SESSION_ID: Final = 0
#: How many of its own recent datagrams a plain node recognises when the group loops them back.
_PLAIN_ECHO_MEMORY: Final = 64


@dataclass(frozen=True, slots=True)
class NotifyDelays:
    """The random delay windows (min, max seconds) of AN159's timer synchronisation."""

    keeper_periodic: tuple[float, float]
    follower_periodic: tuple[float, float]
    keeper_update: tuple[float, float]
    follower_update: tuple[float, float]
    #: How long a joining node waits for the timekeeper's answer before it takes the role.
    synchronise: float

    @classmethod
    def for_latency(cls, latency_ms: int) -> NotifyDelays:
        sync = round(latency_ms * SYNC_LATENCY_FRACTION) / 1000
        keeper_periodic = (KEEPER_PERIODIC_NOTIFY, KEEPER_PERIODIC_NOTIFY + 3 * sync)
        follower_periodic_min = keeper_periodic[1] + sync
        keeper_update = (KEEPER_UPDATE_NOTIFY, KEEPER_UPDATE_NOTIFY + sync)
        follower_update_min = keeper_update[1] + sync
        follower_update = (follower_update_min, follower_update_min + 10 * sync)
        return cls(
            keeper_periodic=keeper_periodic,
            follower_periodic=(follower_periodic_min, follower_periodic_min + 10 * sync),
            keeper_update=keeper_update,
            follower_update=follower_update,
            synchronise=follower_update[1] + 2 * latency_ms / 1000,
        )


# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoutingSend:
    """A datagram to send to the multicast group."""

    data: bytes


@dataclass(frozen=True, slots=True)
class RoutingFrame:
    """An accepted frame from the group: a whole KNXnet/IP frame (ROUTING_INDICATION, ...)."""

    frame: bytes
    secure: bool


@dataclass(frozen=True, slots=True)
class RoutingDropped:
    """A received datagram that was not accepted, and why."""

    reason: DropReason
    detail: str


@dataclass(frozen=True, slots=True)
class TimerSynchronised:
    """The node knows the group's timer now (answered, or it became the timekeeper)."""

    timekeeper: bool


type RoutingEvent = RoutingSend | RoutingFrame | RoutingDropped | TimerSynchronised
#: A routing node of either kind, as the asyncio edge (``routing_edge``) drives it.
type RoutingNode = PlainRouting | SecureRouting


class RoutingFlowControl:
    """When a node may send its next ROUTING_INDICATION, given the ROUTING_BUSY frames heard."""

    def __init__(
        self, *, rng: random.Random | None = None, interval: float = ROUTING_INDICATION_INTERVAL
    ) -> None:
        self._rng = rng if rng is not None else random.Random()  # jitter only: no secret
        self._interval = interval
        self._last_sent: float | None = None
        self._last_busy: float | None = None
        self._wait_end = 0.0  # the wait time asked for, without the random extension
        self._pause_end = 0.0
        self._count = 0  # busy frames in the moving window, as of _decay_start
        self._decay_start = 0.0

    def busy_count(self, now: float) -> int:
        """Busy frames still weighing on the pause (fading after the slow phase)."""
        if now <= self._decay_start:
            return self._count
        return max(self._count - int((now - self._decay_start) / BUSY_COUNT_DECAY), 0)

    def paused(self, now: float) -> bool:
        return now < self._pause_end

    def ready_at(self, now: float) -> float:
        """The earliest time the next ROUTING_INDICATION may leave (``now`` if it may now)."""
        earliest = now if self._last_sent is None else self._last_sent + self._interval
        return max(now, earliest, self._pause_end)

    def sent(self, now: float) -> None:
        self._last_sent = now

    def busy(self, wait_ms: int, now: float) -> None:
        """A ROUTING_BUSY asking every node to pause ``wait_ms`` milliseconds."""
        count = self.busy_count(now)
        pausing = self.paused(now)
        if pausing and self._last_busy is not None and now - self._last_busy > BUSY_COUNT_COOLDOWN:
            count += 1
        self._last_busy = now
        if pausing and self._wait_end - now >= wait_ms / 1000:
            self._count = count  # still pausing, so not fading yet
            return  # already pausing at least that long
        self._wait_end = now + wait_ms / 1000
        self._pause_end = self._wait_end + self._rng.random() * count * BUSY_RANDOM_WAIT
        self._count = count
        self._decay_start = self._pause_end + count * BUSY_SLOW_DURATION


@dataclass(frozen=True, slots=True)
class Served[T]:
    """The head of a router's queue goes onto the KNX subnetwork now."""

    item: T


@dataclass(frozen=True, slots=True)
class Announce:
    """A flow-control frame (ROUTING_BUSY, ROUTING_LOST_MESSAGE) for the group, at once."""

    frame: knxip.RoutingBusy | knxip.RoutingLostMessage


class RouterQueue[T]:
    """A router's bounded queue from the group toward its KNX subnetwork, sans-I/O.

    The subnetwork takes one frame per ``service_time``. When what is queued would take at
    least ``BUSY_QUEUE_TIME`` to send, the router announces ROUTING_BUSY (``BUSY_WAIT_MS``),
    again at the next arrival that finds it so once that wait is over; a
    frame that finds the queue full is lost, and ROUTING_LOST_MESSAGE tells the group how
    many with the next frame served (one report per burst of losses, not one per frame).
    """

    def __init__(self, *, capacity: int, service_time: float) -> None:
        if capacity < 1:
            raise ValueError(f"a router queue holds at least one frame, not {capacity}")
        if service_time < 0:
            raise ValueError(f"service time must not be negative, got {service_time}")
        self._capacity = capacity
        self._service_time = service_time
        self._queue: deque[T] = deque()
        self._free_at = 0.0  # when the subnetwork takes the next frame
        self._busy_until = 0.0  # the wait of our last ROUTING_BUSY
        self._unreported = 0  # lost since the last ROUTING_LOST_MESSAGE
        #: Frames lost to a full queue, and ROUTING_BUSY frames announced, since the start.
        self.lost = 0
        self.busy_announced = 0

    def __len__(self) -> int:
        return len(self._queue)

    def offer(self, item: T, now: float) -> list[Served[T] | Announce]:
        """A frame from the group for the subnetwork."""
        if len(self._queue) >= self._capacity:
            self.lost += 1
            self._unreported += 1
            return self.tick(now)
        self._queue.append(item)
        events = self.tick(now)
        backlog = self._backlog(now)
        if backlog >= BUSY_QUEUE_TIME and now >= self._busy_until:
            self._busy_until = now + BUSY_WAIT_MS / 1000
            self.busy_announced += 1
            busy = knxip.RoutingBusy(device_state=DEVICE_STATE_OK, wait_time_ms=BUSY_WAIT_MS)
            events.append(Announce(busy))
        return events

    def tick(self, now: float) -> list[Served[T] | Announce]:
        """Serve what the subnetwork has taken by ``now``."""
        events: list[Served[T] | Announce] = []
        while self._queue and now >= self._free_at:
            events.append(Served(self._queue.popleft()))
            self._free_at = max(self._free_at, now) + self._service_time
            if self._unreported:
                lost, self._unreported = self._unreported, 0
                report = knxip.RoutingLostMessage(device_state=DEVICE_STATE_OK, lost_messages=lost)
                events.append(Announce(report))
        return events

    def next_deadline(self) -> float | None:
        return self._free_at if self._queue else None

    def _backlog(self, now: float) -> float:
        """How long until the subnetwork has sent everything queued now."""
        return max(self._free_at - now, 0.0) + len(self._queue) * self._service_time


class PresenceMonitor:
    """Whether any other node is on the group, from what a node hears, sans-I/O.

    Routing has no connection to lose: a router that goes away just falls silent. After
    ``interval`` without hearing another node, the node probes (``SecureRouting.probe``);
    no answer within ``answer_window`` means nobody is there (``present`` turns False), and
    it probes again every ``interval`` until someone is heard (``present`` turns True).
    ``present`` None: not known yet (nobody answered the node's synchronisation), probed at
    once.
    """

    def __init__(
        self, *, interval: float, answer_window: float, now: float, present: bool | None
    ) -> None:
        if interval <= 0 or answer_window <= 0:
            raise ValueError("presence interval and answer window must be positive")
        self._interval = interval
        self._window = answer_window
        self.present = present
        self._probing = False
        self._due = now + interval if present else now

    def heard(self, now: float) -> bool:
        """Another node spoke; True when that makes the group present (again)."""
        self._probing = False
        self._due = now + self._interval
        back, self.present = self.present is not True, True
        return back

    def tick(self, now: float) -> tuple[bool, bool]:
        """``(probe now, the group is found absent)``: each change reported once."""
        if now < self._due:
            return False, False
        if not self._probing:
            self._probing = True
            self._due = now + self._window
            return True, False
        self._probing = False  # unanswered
        self._due = now + self._interval
        gone, self.present = self.present is not False, False
        return False, gone

    def next_deadline(self) -> float:
        return self._due


class _Phase(Enum):
    SYNCHRONISING = "synchronising"
    RUNNING = "running"


@dataclass(frozen=True, slots=True)
class _Update:
    """A TIMER_NOTIFY owed to a node whose timer is behind: it carries that node's tag/serial."""

    serial: bytes
    tag: int


class _CountsDrops:
    """What both routing nodes share: the drop counters, by reason."""

    def __init__(self) -> None:
        self._dropped: dict[DropReason, int] = {}

    @property
    def dropped(self) -> dict[DropReason, int]:
        return dict(self._dropped)

    def _drop(self, reason: DropReason, detail: str) -> RoutingDropped:
        self._dropped[reason] = self._dropped.get(reason, 0) + 1
        return RoutingDropped(reason, detail)


class PlainRouting(_CountsDrops):
    """Routing without IP Secure: frames pass as they are (Data Secure still applies above)."""

    secure: Final = False

    def __init__(self) -> None:
        super().__init__()
        # plain frames carry no sender tag: our own come back from the group byte for byte
        self._sent: deque[bytes] = deque(maxlen=_PLAIN_ECHO_MEMORY)
        #: When a frame from another node last arrived (None: never).
        self.last_heard: float | None = None

    @property
    def synchronised(self) -> bool:
        return True

    def probe(self, now: float) -> list[RoutingEvent]:
        """Nothing in plain routing makes another node answer."""
        return []

    def start(self, now: float, *, keep_time: bool = False) -> list[RoutingEvent]:
        return [TimerSynchronised(timekeeper=keep_time)]

    def send(self, frame: bytes, now: float) -> bytes:
        self._sent.append(bytes(frame))
        return frame

    def receive(self, data: bytes, now: float) -> list[RoutingEvent]:
        if data in self._sent:
            self._sent.remove(data)
            return [self._drop(DropReason.REFLECTED, "our own frame, looped back")]
        try:
            parsed = knxip.parse(data)
        except FrameError as err:
            return [self._drop(DropReason.MALFORMED, str(err))]
        if isinstance(parsed, knxip.SecureWrapper | knxip.TimerNotify):
            # a secure router on the same group: nothing here can open it
            return [self._drop(DropReason.UNEXPECTED, f"{parsed.SERVICE.name} on a plain node")]
        self.last_heard = now
        return [RoutingFrame(frame=bytes(data), secure=False)]

    def tick(self, now: float) -> list[RoutingEvent]:
        return []

    def next_deadline(self) -> float | None:
        return None


class SecureRouting(_CountsDrops):
    """One node of a secure routing group (both a router and a client are such a node)."""

    secure: Final = True

    def __init__(
        self,
        backbone_key: bytes,
        serial: bytes,
        *,
        latency_ms: int = DEFAULT_LATENCY_MS,
        rng: random.Random | None = None,
        initial_timer: int | None = None,
    ) -> None:
        if len(serial) != 6:
            raise ValueError(f"a KNX serial number has 6 octets, got {len(serial)}")
        if latency_ms <= 0:
            raise ValueError(f"latency tolerance must be positive, got {latency_ms} ms")
        super().__init__()
        self._cipher = WrapperCipher(backbone_key)
        self._serial = bytes(serial)
        self._rng = rng if rng is not None else random.SystemRandom()
        self._tag = self._rng.getrandbits(16)
        self._latency = latency_ms
        self._sync_tolerance = round(latency_ms * SYNC_LATENCY_FRACTION)
        self._delays = NotifyDelays.for_latency(latency_ms)
        self._initial_timer = initial_timer
        self._offset = 0  # timer (ms) = int(now * 1000) + offset
        self._last_sent = -1
        self._phase = _Phase.SYNCHRONISING
        self._sync_tag = 0
        self._sync_request = -1  # the timer of our TIMER_NOTIFY asking for the group's
        self._probe: tuple[int, int] | None = None  # (tag, timer) of our last probe
        #: When an authentic, fresh frame from another node last arrived (None: never).
        self.last_heard: float | None = None
        self._sync_deadline: float | None = None
        self._timekeeper = False
        self._notify_at: float | None = None
        self._update: _Update | None = None
        # (serial, tag, timer) of accepted wrappers still inside the tolerance: replays of them
        self._seen: set[tuple[bytes, int, int]] = set()
        self._seen_order: deque[tuple[bytes, int, int]] = deque()  # the same, as they came

    def __repr__(self) -> str:
        return (
            f"SecureRouting(serial={self._serial.hex()}, tag={self._tag:04x}, "
            f"{self._phase.value}, timekeeper={self._timekeeper})"
        )

    # --- state -------------------------------------------------------------------------------

    @property
    def serial(self) -> bytes:
        return self._serial

    @property
    def tag(self) -> int:
        return self._tag

    @property
    def latency_ms(self) -> int:
        return self._latency

    @property
    def synchronised(self) -> bool:
        return self._phase is _Phase.RUNNING

    @property
    def timekeeper(self) -> bool:
        return self._timekeeper

    @property
    def remembered(self) -> int:
        """Accepted frames held for the replay check (those still inside the tolerance)."""
        return len(self._seen)

    def timer(self, now: float) -> int:
        """The group's timer as this node sees it (ms)."""
        return int(now * 1000) + self._offset

    def next_deadline(self) -> float | None:
        deadlines = [t for t in (self._sync_deadline, self._notify_at) if t is not None]
        return min(deadlines) if deadlines else None

    # --- inputs ------------------------------------------------------------------------------

    def start(self, now: float, *, keep_time: bool = False) -> list[RoutingEvent]:
        """Join the group: ask for the timer with a fresh tag and wait for the answer.

        ``keep_time``: the node knows it is the group's first (a router that starts the
        installation) and keeps the time at once instead of waiting for nobody to answer.
        """
        if self._initial_timer is not None:
            self._offset = self._initial_timer - int(now * 1000)
        self._phase = _Phase.SYNCHRONISING
        self._timekeeper = False
        self._notify_at = None
        self._update = None
        if keep_time:
            self._sync_deadline = now
            return self.tick(now)  # TimerSynchronised(timekeeper=True); nothing is due yet
        self._sync_tag = self._rng.getrandbits(16)
        self._sync_deadline = now + self._delays.synchronise
        self._sync_request = self.timer(now)
        return [RoutingSend(self._timer_notify(self._sync_request, self._serial, self._sync_tag))]

    def probe(self, now: float) -> list[RoutingEvent]:
        """Ask whoever is on the group to answer, without leaving the running phase.

        A TIMER_NOTIFY under a fresh tag whose timer is older than the latency tolerance:
        every node in step owes such a node its timer (E4) and answers under that tag, as
        it answers a node that has just joined; the answer sets ``last_heard``.
        """
        if self._phase is not _Phase.RUNNING:
            return []
        tag = self._rng.getrandbits(16)
        while tag == self._tag:
            tag = self._rng.getrandbits(16)
        timer = max(self.timer(now) - 2 * self._latency, 0)
        self._probe = (tag, timer)
        return [RoutingSend(self._timer_notify(timer, self._serial, tag))]

    def send(self, frame: bytes, now: float) -> bytes:
        """The SECURE_WRAPPER datagram carrying ``frame`` (a whole KNXnet/IP frame)."""
        if self._phase is not _Phase.RUNNING:
            raise NotConnectedError("secure routing: the group's timer is not synchronised yet")
        timer = self._next_send_timer(now)
        if self._update is None:  # the wrapper tells the group our timer: E9
            self._schedule(now, periodic=True)
        return self._cipher.seal(
            session_id=_ROUTING_SESSION_ID,
            sequence=timer,
            serial=self._serial,
            tag=self._tag,
            plain_frame=frame,
        )

    def receive(self, data: bytes, now: float) -> list[RoutingEvent]:
        try:
            parsed = knxip.parse(data)
        except FrameError as err:
            return [self._drop(DropReason.MALFORMED, str(err))]
        if isinstance(parsed, knxip.TimerNotify):
            return self._receive_timer_notify(parsed, now)
        if isinstance(parsed, knxip.SecureWrapper):
            return self._receive_wrapper(parsed, now)
        return [self._drop(DropReason.UNEXPECTED, f"plain {parsed.SERVICE.name} on secure routing")]

    def tick(self, now: float) -> list[RoutingEvent]:
        events: list[RoutingEvent] = []
        if self._sync_deadline is not None and now >= self._sync_deadline:
            # nobody answered: an empty group, this node keeps the time from now on
            self._sync_deadline = None
            self._phase = _Phase.RUNNING
            self._timekeeper = True
            self._schedule(now, periodic=True)
            events.append(TimerSynchronised(timekeeper=True))
        if self._notify_at is not None and now >= self._notify_at:
            update, self._update = self._update, None
            serial, tag = (update.serial, update.tag) if update else (self._serial, self._tag)
            events.append(RoutingSend(self._timer_notify(self._next_send_timer(now), serial, tag)))
            # nobody spoke for a whole period (or a stale node needs us): we keep the time
            self._timekeeper = True
            self._schedule(now, periodic=True)
        return events

    # --- receiving ---------------------------------------------------------------------------

    def _receive_timer_notify(self, notify: knxip.TimerNotify, now: float) -> list[RoutingEvent]:
        expected = self._cipher.timer_notify_mac(
            timer=notify.timer, serial=notify.serial, tag=notify.tag
        )
        if expected != notify.mac:
            return [self._drop(DropReason.MAC, "TIMER_NOTIFY MAC does not verify")]
        if self._phase is _Phase.SYNCHRONISING:
            if notify.serial == self._serial and notify.tag == self._sync_tag:
                if notify.timer == self._sync_request:
                    return []  # our own request, looped back by the multicast socket
                return self._synchronised(notify.timer, now)  # E11: the answer to our request
            return []  # only the answer bound to our fresh tag may set a new node's timer
        if notify.serial == self._serial and (
            notify.tag == self._tag or (notify.tag, notify.timer) == self._probe
        ):
            return []  # our own notify or probe, looped back by the multicast socket
        local = self.timer(now)
        if notify.timer > local - self._latency:
            self.last_heard = now  # another node, in step (an answer to a probe among them)
        if notify.timer > local - self._sync_tolerance:  # E1-E2: someone else keeps the time
            self._offset += max(notify.timer - local, 0)
            self._timekeeper = False
            self._schedule(now, periodic=True)
        elif notify.timer <= local - self._latency:  # E4: that node is behind: tell it
            self._owe_update(notify.serial, notify.tag, now)
        return []

    def _receive_wrapper(self, wrapper: knxip.SecureWrapper, now: float) -> list[RoutingEvent]:
        if wrapper.session_id != _ROUTING_SESSION_ID:
            return [self._drop(DropReason.SESSION_ID, f"session id {wrapper.session_id}")]
        if wrapper.serial == self._serial and wrapper.tag == self._tag:
            return [self._drop(DropReason.REFLECTED, "our own frame, looped back")]
        try:
            _, inner = self._cipher.open(wrapper)
        except WrapperMacError as err:
            return [self._drop(DropReason.MAC, str(err))]
        if self._phase is _Phase.SYNCHRONISING:
            return [self._drop(DropReason.UNEXPECTED, "received before the timer is synchronised")]
        local = self.timer(now)
        timer = wrapper.sequence
        key = (wrapper.serial, wrapper.tag, timer)
        if timer <= local - self._latency:  # E8: too old, and its sender needs our timer
            self._owe_update(wrapper.serial, wrapper.tag, now)
            return [self._drop(DropReason.REPLAY, f"timer {timer} is {local - timer} ms old")]
        if key in self._seen:
            return [self._drop(DropReason.REPLAY, f"timer {timer} from this node seen before")]
        if timer > local - self._sync_tolerance:  # E5-E6: in step (or ahead: catch up)
            self._offset += max(timer - local, 0)
            if self._update is None:
                self._schedule(now, periodic=True)
        self._remember(key, self.timer(now))
        self.last_heard = now
        return [RoutingFrame(frame=inner, secure=True)]

    def _synchronised(self, timer: int, now: float) -> list[RoutingEvent]:
        self._offset = timer - int(now * 1000)
        self.last_heard = now
        self._phase = _Phase.RUNNING
        self._sync_deadline = None
        self._timekeeper = False
        self._schedule(now, periodic=True)
        return [TimerSynchronised(timekeeper=False)]

    # --- helpers -----------------------------------------------------------------------------

    def _next_send_timer(self, now: float) -> int:
        """The timer for an outgoing frame: strictly increasing, so no two frames share one."""
        timer = self.timer(now)
        if timer <= self._last_sent:
            self._offset += self._last_sent + 1 - timer
            timer = self._last_sent + 1
        if timer > knxip.MAX_SEQUENCE:
            raise NotConnectedError("secure routing: the group's timer has run out")
        self._last_sent = timer
        return timer

    def _remember(self, key: tuple[bytes, int, int], local: int) -> None:
        """Keep ``key`` for the replay check while it is inside the latency tolerance.

        Older ones fail the timer check anyway; they leave roughly in the order they came
        (timers of one group differ by less than the tolerance), so forgetting costs O(1)
        per frame at any rate."""
        self._seen.add(key)
        order = self._seen_order
        order.append(key)
        horizon = local - self._latency
        while order and order[0][2] <= horizon:
            self._seen.discard(order.popleft())

    def _owe_update(self, serial: bytes, tag: int, now: float) -> None:
        if self._update is None:
            self._update = _Update(serial, tag)
            self._schedule(now, periodic=False)

    def _schedule(self, now: float, *, periodic: bool) -> None:
        if periodic:
            low, high = (
                self._delays.keeper_periodic if self._timekeeper else self._delays.follower_periodic
            )
        else:
            low, high = (
                self._delays.keeper_update if self._timekeeper else self._delays.follower_update
            )
        self._notify_at = now + self._rng.uniform(low, high)

    def _timer_notify(self, timer: int, serial: bytes, tag: int) -> bytes:
        mac = self._cipher.timer_notify_mac(timer=timer, serial=serial, tag=tag)
        return knxip.encode(knxip.TimerNotify(timer=timer, serial=serial, tag=tag, mac=mac))
