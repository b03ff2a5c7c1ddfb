"""The asyncio edge of KNXnet/IP routing: a routing node on a multicast group, on the driver.

``RoutingEndpoint`` is the ``driver.Endpoint`` of one routing node (``routing.SecureRouting``
or ``routing.PlainRouting``): datagrams from the group go through the node, the accepted
ROUTING_INDICATIONs go to ``on_cemi`` as cEMI bytes (a FrameError it raises is counted as
malformed), ROUTING_BUSY pauses the sender
(``routing.RoutingFlowControl``) and ROUTING_LOST_MESSAGE is counted. Outgoing cEMI frames
wait in a bounded queue for the flow control (at most one per 20 ms, none while a router
is busy) and for the node's timer synchronisation. With ``presence_interval`` a secure node
watches whether anybody else is on the group (``routing.PresenceMonitor``: probes after
that long in silence) and reports changes to ``on_presence``. ``open_routing`` puts an
endpoint on a ``Driver`` with a ``DatagramFramer`` over ``multicast.multicast_socket``: the
framing, timer and write paths are the driver's, as for every other transport; a send that
fails closes the socket (``on_lost`` hears why), for its owner to open a new one.

Both our virtual router (``router.py``) and our routing client (``routing_client.py``) are
such an endpoint.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Final

from . import knxip
from .driver import Driver
from .drops import DropReason
from .errors import FrameError, KNXSecureError, NotConnectedError
from .keyring import Backbone
from .multicast import multicast_socket
from .routing import (
    DEFAULT_LATENCY_MS,
    NotifyDelays,
    PlainRouting,
    PresenceMonitor,
    RoutingDropped,
    RoutingEvent,
    RoutingFlowControl,
    RoutingFrame,
    RoutingNode,
    RoutingSend,
    SecureRouting,
    TimerSynchronised,
)

__all__ = ["MAX_QUEUED_FRAMES", "RoutingDriver", "RoutingEndpoint", "open_routing", "routing_node"]

_LOGGER = logging.getLogger(__name__)

#: Outgoing frames kept while the flow control holds them; beyond that a send fails at once.
MAX_QUEUED_FRAMES: Final = 256


class RoutingEndpoint:
    """One routing node on the group (the driver's endpoint)."""

    def __init__(
        self,
        node: RoutingNode,
        on_cemi: Callable[[bytes], None],
        *,
        flow: RoutingFlowControl | None = None,
        max_queued: int = MAX_QUEUED_FRAMES,
        keep_time: bool = False,
        presence_interval: float | None = None,
        on_presence: Callable[[bool], None] = lambda present: None,
        on_lost: Callable[[NotConnectedError], None] = lambda error: None,
    ) -> None:
        """``keep_time``: the node starts the group's time (``SecureRouting.start``);
        ``presence_interval``: a secure node probes the group after that long without
        hearing anybody and calls ``on_presence`` when the group empties or fills again;
        ``on_lost``: the socket closed (the last call)."""
        self.node = node
        self._keep_time = keep_time
        self._presence_interval = presence_interval if isinstance(node, SecureRouting) else None
        self._on_presence = on_presence
        self._on_lost = on_lost
        #: Whether another node is on the group (None: not watched, or not yet known).
        self.presence: PresenceMonitor | None = None
        self._send_error: OSError | None = None
        self.flow = flow if flow is not None else RoutingFlowControl()
        self._on_cemi = on_cemi
        self._max_queued = max_queued
        self._queue: deque[tuple[bytes, asyncio.Future[None]]] = deque()
        self._send_at: float | None = None  # when the head of the queue may leave
        self._write: Callable[[bytes], None] = _nowhere
        self._update: Callable[[], None] = _still
        self._dropped: Counter[DropReason] = Counter()
        #: Frames ROUTING_LOST_MESSAGE said a router lost, and ROUTING_BUSY frames heard.
        self.lost_messages = 0
        self.busy_frames = 0
        #: Done once the node knows the group's timer (at once for plain routing).
        self.synchronised: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def __repr__(self) -> str:
        return f"RoutingEndpoint({self.node!r}, queued={len(self._queue)})"

    @property
    def dropped(self) -> Mapping[DropReason, int]:
        """Received datagrams not accepted, by reason (the node's and this edge's)."""
        counts = Counter(self.node.dropped)
        counts.update(self._dropped)
        return counts

    @property
    def queued(self) -> int:
        return len(self._queue)

    def attach(self, write: Callable[[bytes], None], update: Callable[[], None]) -> None:
        """Where datagrams for the group go (the driver's ``write``), and how the driver
        learns of a new deadline after a send from outside its callbacks (its ``update``)."""
        self._write = write
        self._update = update

    # --- sending ------------------------------------------------------------------------

    def send_cemi(self, cemi: bytes, now: float) -> asyncio.Future[None]:
        """Queue a ROUTING_INDICATION; the future is done once it is on the wire."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if len(self._queue) >= self._max_queued:
            future.set_exception(
                NotConnectedError(f"routing: {self._max_queued} frames wait for the flow control")
            )
            return future
        self._queue.append((knxip.encode(knxip.RoutingIndication(cemi)), future))
        self._flush(now)
        self._update()
        return future

    def send_frame(self, frame: knxip.Frame, now: float) -> None:
        """A routing service frame (ROUTING_BUSY, ...) at once, outside the indication queue."""
        if self.node.synchronised:
            self._write(self.node.send(knxip.encode(frame), now))
            self._update()

    def _flush(self, now: float) -> None:
        self._send_at = None
        while self._queue and self.node.synchronised:
            ready = self.flow.ready_at(now)
            if ready > now:
                self._send_at = ready
                return
            frame, future = self._queue.popleft()
            if future.done():  # the sender gave up waiting
                continue
            self._write(self.node.send(frame, now))
            self.flow.sent(now)
            if self._send_error is not None:  # that frame never left: the socket is closing
                future.set_exception(NotConnectedError(f"routing: {self._send_error}"))
                return
            future.set_result(None)

    def send_failed(self, error: OSError) -> None:
        """The socket could not send (the driver closes it; ``lost`` follows)."""
        self._send_error = error

    # --- driver endpoint ----------------------------------------------------------------

    def opened(self, now: float) -> None:
        self._handle(self.node.start(now, keep_time=self._keep_time), now)

    def frame_received(self, frame: bytes, now: float) -> None:
        heard = self.node.last_heard
        self._handle(self.node.receive(frame, now), now)
        presence = self.presence
        if presence is not None and self.node.last_heard != heard and presence.heard(now):
            self._on_presence(True)
        self._flush(now)

    def tick(self, now: float) -> None:
        self._handle(self.node.tick(now), now)
        if self.presence is not None:
            probe, gone = self.presence.tick(now)
            if probe:
                self._handle(self.node.probe(now), now)
            if gone:
                self._on_presence(False)
        self._flush(now)

    def next_deadline(self) -> float | None:
        due = [
            t
            for t in (
                self.node.next_deadline(),
                self._send_at,
                self.presence.next_deadline() if self.presence is not None else None,
            )
            if t is not None
        ]
        return min(due) if due else None

    def stream_error(self, error: FrameError) -> None:
        self._count(DropReason.MALFORMED, str(error))

    def failed(self, error: KNXSecureError) -> None:
        _LOGGER.warning("routing: %s", error)

    def lost(self, exc: Exception | None, now: float) -> None:
        error = NotConnectedError(f"routing socket closed: {exc or 'closed'}")
        while self._queue:
            _, future = self._queue.popleft()
            if not future.done():
                future.set_exception(error)
                future.exception()  # retrieved: the sender raises it or has gone
        if not self.synchronised.done():
            self.synchronised.set_exception(error)
            self.synchronised.exception()
        self._write, self._update = _nowhere, _still
        self.presence = None
        self._on_lost(error)

    # --- events -------------------------------------------------------------------------

    def _handle(self, events: list[RoutingEvent], now: float) -> None:
        for event in events:
            match event:
                case RoutingSend(data):
                    self._write(data)
                case RoutingFrame(frame=frame):
                    self._frame(frame, now)
                case RoutingDropped(reason, detail):
                    _LOGGER.debug("routing: dropped a datagram: %s (%s)", reason, detail)
                case TimerSynchronised(timekeeper):
                    self._watch_presence(timekeeper, now)
                    if not self.synchronised.done():
                        self.synchronised.set_result(timekeeper)

    def _frame(self, data: bytes, now: float) -> None:
        try:
            frame = knxip.parse(data)
        except FrameError as err:
            self._count(DropReason.MALFORMED, str(err))
            return
        match frame:
            case knxip.RoutingIndication(cemi):
                try:
                    self._on_cemi(cemi)
                except FrameError as err:  # the cEMI frame inside is malformed
                    self._count(DropReason.MALFORMED, str(err))
            case knxip.RoutingBusy(wait_time_ms=wait):
                self.busy_frames += 1
                self.flow.busy(wait, now)
            case knxip.RoutingLostMessage(lost_messages=lost):
                self.lost_messages += lost
            case _:
                pass  # search requests and the like share the group: not routing's business

    def _watch_presence(self, alone: bool, now: float) -> None:
        """From the synchronisation on (``alone``: nobody answered it)."""
        node = self.node
        if self._presence_interval is None or not isinstance(node, SecureRouting):
            return
        self.presence = PresenceMonitor(
            interval=self._presence_interval,
            answer_window=NotifyDelays.for_latency(node.latency_ms).synchronise,
            now=now,
            present=None if alone else True,
        )

    def _count(self, reason: DropReason, detail: str) -> None:
        self._dropped[reason] += 1
        _LOGGER.debug("routing: dropped a datagram: %s (%s)", reason, detail)


def routing_node(
    backbone: Backbone | None, serial: bytes, *, initial_timer: int | None = None
) -> RoutingNode:
    """Secure routing with the keyring's backbone key and latency, plain without a key."""
    if backbone is None or backbone.key is None:
        return PlainRouting()
    return SecureRouting(
        backbone.key,
        serial,
        latency_ms=backbone.latency_ms or DEFAULT_LATENCY_MS,
        initial_timer=initial_timer,
    )


def _nowhere(data: bytes) -> None:
    """Writes before the socket is open, or after it closed, go nowhere."""


def _still() -> None:
    """No driver, no timer to move."""


class RoutingDriver(Driver):
    """The driver of a multicast socket: a send that fails closes it.

    A datagram socket reports a failed ``sendto`` (the interface went away, a firewall, no
    route) through ``error_received`` and stays open; for routing such a socket is of no use
    any more, so it closes, and ``connection_lost`` carries the error to the endpoint.
    """

    def __init__(self, endpoint: RoutingEndpoint, destination: tuple[str, int]) -> None:
        super().__init__(endpoint, framer=knxip.DatagramFramer(), destination=destination)
        self._send_error: Exception | None = None
        #: When the socket was opened (the client's supervisor resets its backoff by it).
        self.connected_at: float | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.connected_at = self.loop.time()
        super().connection_made(transport)

    def error_received(self, exc: Exception) -> None:
        _LOGGER.warning("routing: sending to %s failed: %s", self.peer, exc)
        self._send_error = exc
        if isinstance(exc, OSError) and isinstance(self.endpoint, RoutingEndpoint):
            self.endpoint.send_failed(exc)
        self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc or self._send_error)


async def open_routing(
    endpoint: RoutingEndpoint, group: str, port: int, interface: str
) -> RoutingDriver:
    """Join ``group:port`` on ``interface`` and drive ``endpoint`` there (raises
    GatewayUnreachableError when the group cannot be joined)."""
    sock = multicast_socket(group, port, interface)
    driver = RoutingDriver(endpoint, (group, port))
    endpoint.attach(driver.write, driver.update)
    try:
        await asyncio.get_running_loop().create_datagram_endpoint(lambda: driver, sock=sock)
    except BaseException:
        sock.close()
        raise
    return driver
