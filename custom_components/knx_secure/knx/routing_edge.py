"""The asyncio edge of KNXnet/IP routing: a routing node on a multicast group, on the driver.

``RoutingEndpoint`` is the ``driver.Endpoint`` of one routing node (``routing.SecureRouting``
or ``routing.PlainRouting``): datagrams from the group go through the node, the accepted
ROUTING_INDICATIONs go to ``on_cemi`` as cEMI bytes (a FrameError it raises is counted as
malformed), ROUTING_BUSY pauses the sender
(``routing.RoutingFlowControl``) and ROUTING_LOST_MESSAGE is counted. Outgoing cEMI frames
wait in a bounded queue for the flow control (at most one per 20 ms, none while a router
is busy) and for the node's timer synchronisation. ``open_routing`` puts an endpoint on a
``Driver`` with a ``DatagramFramer`` over ``multicast.multicast_socket``: the framing,
timer and write paths are the driver's, as for every other transport.

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
    PlainRouting,
    RoutingDropped,
    RoutingEvent,
    RoutingFlowControl,
    RoutingFrame,
    RoutingNode,
    RoutingSend,
    SecureRouting,
    TimerSynchronised,
)

__all__ = ["MAX_QUEUED_FRAMES", "RoutingEndpoint", "open_routing", "routing_node"]

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
    ) -> None:
        """``keep_time``: the node starts the group's time (``SecureRouting.start``)."""
        self.node = node
        self._keep_time = keep_time
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
            future.set_result(None)

    # --- driver endpoint ----------------------------------------------------------------

    def opened(self, now: float) -> None:
        self._handle(self.node.start(now, keep_time=self._keep_time), now)

    def frame_received(self, frame: bytes, now: float) -> None:
        self._handle(self.node.receive(frame, now), now)
        self._flush(now)

    def tick(self, now: float) -> None:
        self._handle(self.node.tick(now), now)
        self._flush(now)

    def next_deadline(self) -> float | None:
        node = self.node.next_deadline()
        if self._send_at is None:
            return node
        return self._send_at if node is None else min(node, self._send_at)

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


async def open_routing(endpoint: RoutingEndpoint, group: str, port: int, interface: str) -> Driver:
    """Join ``group:port`` on ``interface`` and drive ``endpoint`` there (raises
    GatewayUnreachableError when the group cannot be joined)."""
    sock = multicast_socket(group, port, interface)
    driver = Driver(endpoint, framer=knxip.DatagramFramer(), destination=(group, port))
    endpoint.attach(driver.write, driver.update)
    try:
        await asyncio.get_running_loop().create_datagram_endpoint(lambda: driver, sock=sock)
    except BaseException:
        sock.close()
        raise
    return driver
