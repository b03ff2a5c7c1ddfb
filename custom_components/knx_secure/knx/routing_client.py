"""RoutingClient: our client on a KNXnet/IP routing group (secure or plain).

The same client as ``SecureTunnelClient`` (Data Secure, counters and their store, the inbox,
``read``/``write``/``subscribe``) with a routing node on the multicast group in place of the
tunnel: telegrams leave as ROUTING_INDICATIONs (L_Data.ind from our individual address) and
every ROUTING_INDICATION of the group is a telegram in. Secure routing uses the keyring's
backbone key and latency; a keyring without a backbone key routes in plain. There is no
L_Data.con in routing: ``send`` returns once the frame is on the wire (after the flow control).

Routing has no connection to lose, so the state says what the client can tell: CONNECTED
once joined; with secure routing DISCONNECTED (GatewayUnreachableError) while probes of the
group go unanswered (``timeouts.heartbeat`` of silence, then the synchronisation's answer
window: a router that went away), CONNECTED again when another node is heard. A socket that
dies (or fails to send) is DISCONNECTED at once, and ``start()`` opens a new one with
backoff as the tunnel client reconnects: a fresh node, which synchronises its timer again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Final

from . import cemi
from .address import GroupAddress, IndividualAddress
from .cemi import APCI, MessageCode
from .client import SecureTunnelClient
from .client_types import ConnectionState, Timeouts
from .drops import DropReason
from .errors import (
    ConfirmationTimeoutError,
    GatewayUnreachableError,
    KNXSecureError,
    NotConnectedError,
)
from .keyring import Keyring
from .multicast import DEFAULT_MULTICAST_GROUP, DEFAULT_MULTICAST_PORT
from .routing import DEFAULT_LATENCY_MS, NotifyDelays, RoutingNode, SecureRouting
from .routing_edge import RoutingDriver, RoutingEndpoint, open_routing, routing_node
from .security_store import SecurityStore

__all__ = ["DEFAULT_ROUTING_ADDRESS", "RoutingClient"]

_LOGGER = logging.getLogger(__name__)

#: The individual address of a routing client unless told otherwise (xknx's default too).
DEFAULT_ROUTING_ADDRESS: Final = IndividualAddress.parse("15.15.250")
#: Beyond the timer synchronisation's own window: time to open the socket and answer.
_SYNC_GRACE: Final = 1.0


class RoutingClient(SecureTunnelClient):
    """A KNX IP (Secure) routing client with KNX Data Secure for group telegrams."""

    def __init__(
        self,
        keyring: Keyring,
        *,
        group: str | None = None,
        port: int = DEFAULT_MULTICAST_PORT,
        interface: str = "127.0.0.1",
        individual_address: IndividualAddress = DEFAULT_ROUTING_ADDRESS,
        secure: bool | None = None,
        store: SecurityStore | None = None,
        timeouts: Timeouts = Timeouts(),  # noqa: B008 - frozen
    ) -> None:
        """``group`` defaults to the keyring's Backbone address; ``secure`` None routes
        securely exactly when the keyring has a backbone key (True insists on it)."""
        backbone = keyring.backbone
        group = group or (backbone.multicast_address if backbone else DEFAULT_MULTICAST_GROUP)
        super().__init__(keyring, group, port, store=store, timeouts=timeouts)
        has_key = backbone is not None and backbone.key is not None
        if secure and not has_key:
            raise NotConnectedError("secure routing needs the keyring's backbone key")
        self._secure_routing = has_key if secure is None else secure
        self._routing_interface = interface
        self._routing_address = individual_address
        self._data_secure.individual_address = individual_address
        self._endpoint: RoutingEndpoint | None = None
        self._driver: RoutingDriver | None = None

    def __repr__(self) -> str:
        return f"RoutingClient({self.address_text}, secure={self._secure_routing})"

    @property
    def individual_address(self) -> IndividualAddress:
        return self._routing_address

    @property
    def secure_routing(self) -> bool:
        return self._secure_routing

    @property
    def routing_dropped(self) -> Mapping[DropReason, int]:
        """Datagrams from the group not accepted (wrong key, stale timer, ...), by reason;
        ``dropped`` counts the telegrams that Data Secure refused."""
        return self._endpoint.dropped if self._endpoint is not None else {}

    @property
    def endpoint(self) -> RoutingEndpoint | None:
        return self._endpoint

    def _node(self) -> RoutingNode:
        return routing_node(self._keyring.backbone if self._secure_routing else None, self._serial)

    # --- connecting -------------------------------------------------------------------------

    async def connect(self) -> None:
        """Join the group and wait for its timer (secure); returns at once when joined."""
        async with self._connect_lock:
            if self._driver is not None and not self._driver.is_closing:
                return
            self._closing = False
            self._set_state(ConnectionState.CONNECTING)
            try:
                await self._join()
            except KNXSecureError as err:
                self._set_state(ConnectionState.DISCONNECTED, err)
                raise
            except BaseException:
                self._set_state(ConnectionState.DISCONNECTED)
                raise
            _LOGGER.info(
                "Joined routing group %s as %s", self.address_text, self.individual_address
            )
            self._set_state(ConnectionState.CONNECTED)

    async def _join(self) -> None:
        node = self._node()
        endpoint = RoutingEndpoint(
            node,
            self._on_cemi,
            presence_interval=self.timeouts.heartbeat,
            on_presence=self._on_presence,
            on_lost=lambda error: self._on_lost(endpoint, error),
        )
        driver = await open_routing(endpoint, self._host, self._port, self._routing_interface)
        latency = node.latency_ms if isinstance(node, SecureRouting) else DEFAULT_LATENCY_MS
        wait = NotifyDelays.for_latency(latency).synchronise + _SYNC_GRACE
        try:
            async with asyncio.timeout(wait):
                await endpoint.synchronised
        except BaseException:
            driver.abort()
            raise
        self._endpoint, self._driver = endpoint, driver

    def _open_connection(self) -> RoutingDriver | None:
        """What ``start()``'s supervisor watches: the socket on the group (a new one after it
        died, with backoff, as the tunnel client reconnects)."""
        driver = self._driver
        return driver if driver is not None and not driver.is_closing else None

    def _on_presence(self, present: bool) -> None:
        if self._closing or self._driver is None:
            return
        if present:
            if self._state is not ConnectionState.CONNECTED:
                _LOGGER.info("Routing group %s answers again", self.address_text)
                self._set_state(ConnectionState.CONNECTED)
            return
        error = GatewayUnreachableError(
            f"nobody on the routing group {self.address_text} answered for "
            f"{self.timeouts.heartbeat:g} s (is the KNX IP router there?)"
        )
        _LOGGER.warning("%s", error)
        self._set_state(ConnectionState.DISCONNECTED, error)

    def _on_lost(self, endpoint: RoutingEndpoint, error: NotConnectedError) -> None:
        if endpoint is not self._endpoint or self._driver is None:
            return  # a join that did not finish (connect() reports it), or closed
        self._driver = None  # the endpoint stays: its counters are still worth reading
        self._inbox.fail_reads(NotConnectedError(f"routing socket lost: {error}"))
        if not self._closing:
            _LOGGER.warning("Routing socket on %s lost: %s", self.address_text, error)
            self._set_state(ConnectionState.DISCONNECTED, error)

    async def close(self) -> None:
        """Leave the group and end every pending read and stream (idempotent)."""
        await self._stop_supervisor()
        driver, self._driver = self._driver, None
        if driver is not None:
            driver.close()
            await driver.closed
        self._inbox.fail_reads(NotConnectedError("the client was closed"))
        self._inbox.end_streams()
        if self._state is not ConnectionState.DISCONNECTED:
            self._set_state(ConnectionState.DISCONNECTED)

    # --- telegrams --------------------------------------------------------------------------

    async def send(
        self,
        ga: GroupAddress,
        apci: APCI,
        value: int | bytes | None = None,
        *,
        secure: bool | None = None,
    ) -> None:
        """Send a GroupValue Read/Response/Write to the group; returns once it is sent
        (``secure`` as in ``SecureTunnelClient.send``)."""
        if self._data_secure.requires_security(ga):
            await self._reserve_sequence_numbers()
        driver, endpoint = self._driver, self._endpoint
        if driver is None or endpoint is None or driver.is_closing:
            raise NotConnectedError(f"not joined to the routing group {self.address_text}")
        frame = self._frame(
            ga, apci, value, secure, self._routing_address, code=MessageCode.L_DATA_IND
        )
        future = endpoint.send_cemi(frame.encode(), driver.loop.time())
        try:
            async with asyncio.timeout(self.timeouts.confirmation):
                await future
        except TimeoutError as err:
            future.cancel()
            raise ConfirmationTimeoutError(
                f"the telegram to {ga} could not be sent within {self.timeouts.confirmation} s "
                "(routers kept the group busy)"
            ) from err

    def _on_cemi(self, data: bytes) -> None:
        self._inbox.receive(cemi.parse(data), self._routing_address)
