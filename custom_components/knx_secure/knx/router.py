"""The virtual KNX IP router: the simulated devices of a ``VirtualGateway`` on multicast.

``VirtualRouter`` puts the gateway's simulated bus behind a routing node instead of the
tunnelling server: every telegram on the bus goes to the group as a ROUTING_INDICATION, and
every ROUTING_INDICATION from the group goes onto the bus. With the keyring's backbone key it
routes securely (SECURE_WRAPPER, multicast timer; ``routing.SecureRouting``), without one in
plain (``routing.PlainRouting``); Data Secure stays the devices' business either way. The
router starts the group's time itself: it is the installation's first node.

Like a real router, it cannot put frames onto its KNX subnetwork as fast as the group can
send them: frames from the group wait in a bounded queue (``routing.RouterQueue``) that the
simulated bus takes at ``service_time`` per frame (TP1 carries about 50 telegrams a second).
When the queue backs up the router announces ROUTING_BUSY, and what a full queue loses it
counts and reports with ROUTING_LOST_MESSAGE.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from typing import Final

from . import cemi
from .address import IndividualAddress
from .cemi import LData, MessageCode
from .data_secure import unix_ms
from .driver import DeadlineTimer, Driver
from .drops import DropReason
from .gateway import VirtualGateway
from .knxip import RoutingBusy
from .multicast import DEFAULT_MULTICAST_GROUP, DEFAULT_MULTICAST_PORT
from .routing import DEVICE_STATE_OK, Announce, RouterQueue, RoutingNode, Served
from .routing_edge import RoutingEndpoint, open_routing, routing_node

__all__ = ["DEFAULT_QUEUE_CAPACITY", "DEFAULT_SERVICE_TIME", "VirtualRouter"]

_LOGGER = logging.getLogger(__name__)

#: The simulated subnetwork takes one frame every 20 ms (TP1: about 50 telegrams a second).
DEFAULT_SERVICE_TIME: Final = 0.02
#: Frames from the group a router holds for its subnetwork before it loses them.
DEFAULT_QUEUE_CAPACITY: Final = 32


class VirtualRouter:
    """A KNX IP router (secure when the keyring has a backbone key) for a gateway's bus."""

    def __init__(
        self,
        gateway: VirtualGateway,
        *,
        group: str | None = None,
        port: int = DEFAULT_MULTICAST_PORT,
        interface: str = "127.0.0.1",
        service_time: float = DEFAULT_SERVICE_TIME,
        queue_capacity: int = DEFAULT_QUEUE_CAPACITY,
    ) -> None:
        """``group`` defaults to the keyring's Backbone multicast address (224.0.23.12);
        ``service_time`` per frame and ``queue_capacity`` shape the queue toward the bus."""
        backbone = gateway.keyring.backbone
        self._gateway = gateway
        self._group = group or (backbone.multicast_address if backbone else DEFAULT_MULTICAST_GROUP)
        self._port = port
        self._interface = interface
        self._driver: Driver | None = None
        self._endpoint: RoutingEndpoint | None = None
        #: Frames from the group on their way to the bus.
        self.queue: RouterQueue[LData] = RouterQueue(
            capacity=queue_capacity, service_time=service_time
        )
        self._queue_timer: DeadlineTimer | None = None

    def __repr__(self) -> str:
        return f"VirtualRouter({self.address}, secure={self.secure})"

    @property
    def address(self) -> str:
        return f"{self._group}:{self._port}"

    @property
    def individual_address(self) -> IndividualAddress:
        return self._gateway.host

    @property
    def secure(self) -> bool:
        backbone = self._gateway.keyring.backbone
        return backbone is not None and backbone.key is not None

    @property
    def dropped(self) -> Mapping[DropReason, int]:
        """Datagrams from the group that were not accepted, by reason."""
        return self._endpoint.dropped if self._endpoint is not None else {}

    @property
    def endpoint(self) -> RoutingEndpoint | None:
        return self._endpoint

    def _node(self) -> RoutingNode:
        # wall-clock milliseconds: far ahead of a joining node's timer, so that it asks
        return routing_node(
            self._gateway.keyring.backbone, self._gateway.serial, initial_timer=unix_ms()
        )

    async def start(self) -> None:
        """Join the group and keep its time; the bus is routed from now on."""
        if self._driver is not None:
            raise RuntimeError("the virtual router is already running")
        endpoint = RoutingEndpoint(self._node(), self._from_group, keep_time=True)
        self._queue_timer = DeadlineTimer(asyncio.get_running_loop(), self._serve)
        self._driver = await open_routing(endpoint, self._group, self._port, self._interface)
        self._endpoint = endpoint
        self._gateway.bus.attach(self)
        await endpoint.synchronised
        self._gateway.power_up_devices()
        _LOGGER.info("virtual KNX IP router %s on %s", self.individual_address, self.address)

    async def stop(self) -> None:
        driver, self._driver = self._driver, None
        self._gateway.bus.detach(self)
        if self._queue_timer is not None:
            self._queue_timer.cancel()
            self._queue_timer = None
        if driver is not None:
            driver.close()
            await driver.closed
        self._gateway.cancel_device_timers()

    def ready_line(self) -> dict[str, object]:
        """What the command line prints once routing (no secrets)."""
        backbone = self._gateway.keyring.backbone
        return {
            "routing": self.address,
            "secure": self.secure,
            "individual_address": str(self.individual_address),
            "interface": self._interface,
            "latency_ms": backbone.latency_ms if backbone and self.secure else None,
            "devices": self._gateway.device_list(),
        }

    def send_busy(self, wait_ms: int) -> None:
        """Tell the group to pause ``wait_ms`` (flow control, as a congested router does)."""
        if self._endpoint is not None and self._driver is not None:
            busy = RoutingBusy(device_state=DEVICE_STATE_OK, wait_time_ms=wait_ms)
            self._endpoint.send_frame(busy, self._driver.loop.time())

    # --- bus and group ------------------------------------------------------------------

    def deliver(self, frame: LData) -> None:
        """A telegram on the bus: to the group."""
        if self._endpoint is None or self._driver is None:
            return
        indication = dataclasses.replace(frame, code=MessageCode.L_DATA_IND)
        future = self._endpoint.send_cemi(indication.encode(), self._driver.loop.time())
        future.add_done_callback(_report_lost)

    def _from_group(self, data: bytes) -> None:
        """A ROUTING_INDICATION's cEMI frame: into the queue toward the bus (FrameError:
        counted by the edge)."""
        frame = cemi.parse(data)
        if self._driver is not None:
            self._act(self.queue.offer(frame, self._driver.loop.time()))

    def _serve(self, now: float) -> None:
        self._act(self.queue.tick(now))

    def _act(self, events: list[Served[LData] | Announce]) -> None:
        for event in events:
            match event:
                case Served(item):
                    self._gateway.bus.transmit(item, origin=self)
                case Announce(frame) if self._endpoint is not None and self._driver is not None:
                    self._endpoint.send_frame(frame, self._driver.loop.time())
                case Announce():
                    pass  # stopped: nobody to tell
        if self._queue_timer is not None:
            self._queue_timer.follow(self.queue.next_deadline())


def _report_lost(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        _LOGGER.warning("router: a telegram was not routed: %s", future.exception())
