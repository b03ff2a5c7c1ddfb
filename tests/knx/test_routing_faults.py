"""Fault tests of routing on a multicast group on 127.0.0.1: the router goes away and comes
back on the same group and port, and the client's own socket dies or cannot send."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
from collections.abc import AsyncIterator

import pytest

from custom_components.knx_secure.knx.client_types import ConnectionEvent, ConnectionState
from custom_components.knx_secure.knx.errors import GatewayUnreachableError, NotConnectedError
from custom_components.knx_secure.knx.router import VirtualRouter
from custom_components.knx_secure.knx.routing import SYNC_LATENCY_FRACTION, SecureRouting
from custom_components.knx_secure.knx.routing_client import RoutingClient

from ..helpers import FAST, SWITCH
from .test_routing_edge import Installation, installation, secure, switch_and_read

__all__ = ["installation", "secure"]  # fixtures: a router on a free port (secure and plain)

pytestmark = pytest.mark.timeout(60)

#: Silence before the client probes the group: short, so that a test notices a router gone
#: within about a second plus the answer window (3.3 s at the keyring's latency of 1 s).
TIMEOUTS = dataclasses.replace(FAST, heartbeat=1.0, confirmation=3.0, read_response=3.0)
EVENT_WAIT = 15.0


class States:
    """The ConnectionEvents of a client, awaited in order (no polling)."""

    def __init__(self, client: RoutingClient) -> None:
        self.events: list[ConnectionEvent] = []
        self._changed = asyncio.Event()
        client.subscribe_state(self._record)

    def _record(self, event: ConnectionEvent) -> None:
        self.events.append(event)
        self._changed.set()

    async def next(self, state: ConnectionState) -> ConnectionEvent:
        """The first event of ``state`` from now on."""
        seen = len(self.events)
        async with asyncio.timeout(EVENT_WAIT):
            while True:
                for event in self.events[seen:]:
                    if event.state is state:
                        return event
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()


@contextlib.asynccontextmanager
async def started(installation: Installation) -> AsyncIterator[tuple[RoutingClient, States]]:
    client = installation.client()
    client.timeouts = TIMEOUTS
    states = States(client)
    await client.start()
    try:
        assert client.state is ConnectionState.CONNECTED
        yield client, states
    finally:
        await client.close()


async def restart_router(installation: Installation) -> VirtualRouter:
    """A new router for the same bus, on the same group and port."""
    router = VirtualRouter(installation.gateway, group=installation.group, port=installation.port)
    await router.start()
    installation.router = router
    return router


async def test_the_router_disappears_and_comes_back(installation: Installation) -> None:
    async with started(installation) as (client, states):
        await switch_and_read(client, True)
        await installation.router.stop()
        if installation.router.secure:
            # nobody answers the client's probe: the group is empty
            gone = await states.next(ConnectionState.DISCONNECTED)
            assert isinstance(gone.error, GatewayUnreachableError)
            assert "nobody on the routing group" in str(gone.error)
        router = await restart_router(installation)
        if router.secure:
            await states.next(ConnectionState.CONNECTED)  # the new router answered a probe
        # telegrams flow again both ways: the write reaches the actuator behind the new
        # router, its Data Secure status and the read's answer reach the client
        await switch_and_read(client, False)
        assert installation.gateway.switch_state(SWITCH) is False
        await switch_and_read(client, True)
        assert client.state is ConnectionState.CONNECTED
        if router.secure:
            ours, theirs = client.endpoint.node, router.endpoint.node  # type: ignore[union-attr]
            assert isinstance(ours, SecureRouting)
            assert isinstance(theirs, SecureRouting)
            now = asyncio.get_running_loop().time()
            tolerance = ours.latency_ms * SYNC_LATENCY_FRACTION
            assert abs(ours.timer(now) - theirs.timer(now)) <= tolerance  # one group timer
        assert not any(client.dropped.values())


async def test_a_socket_that_cannot_send_is_reopened(installation: Installation) -> None:
    async with started(installation) as (client, states):
        endpoint = client.endpoint
        driver = client._driver
        assert driver is not None
        sock = driver._transport.get_extra_info("socket")  # type: ignore[union-attr]
        # Linux marks an unconnected UDP socket as shut for sending (and says ENOTCONN):
        # every sendto from now on fails with EPIPE, as when the interface goes away
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
        with pytest.raises(NotConnectedError, match="routing"):
            await client.write(SWITCH, 1)
        lost = await states.next(ConnectionState.DISCONNECTED)
        assert isinstance(lost.error, NotConnectedError)
        assert "Broken pipe" in str(lost.error)
        await states.next(ConnectionState.CONNECTED)  # a new socket, after the backoff
        assert client.endpoint is not endpoint
        await switch_and_read(client, True)


async def test_a_socket_closed_under_the_client_is_reopened(installation: Installation) -> None:
    async with started(installation) as (client, states):
        driver = client._driver
        assert driver is not None
        driver.abort()  # the transport goes away, as when the event loop's socket dies
        lost = await states.next(ConnectionState.DISCONNECTED)
        assert isinstance(lost.error, NotConnectedError)
        await states.next(ConnectionState.CONNECTED)
        await switch_and_read(client, True)


async def test_a_closed_client_does_not_rejoin(installation: Installation) -> None:
    async with started(installation) as (client, states):
        pass
    assert client.state is ConnectionState.DISCONNECTED
    assert client._driver is None
    assert states.events[-1].state is ConnectionState.DISCONNECTED
    with pytest.raises(NotConnectedError):
        await client.write(SWITCH, 1)


async def test_a_client_that_joins_before_the_router_connects_once_it_starts(
    secure: Installation,
) -> None:
    """Home Assistant up before the router: nobody answers the join (the client keeps the
    group's time alone), the first probe goes unanswered, then the router answers."""
    await secure.router.stop()
    async with started(secure) as (client, states):
        gone = await states.next(ConnectionState.DISCONNECTED)
        assert isinstance(gone.error, GatewayUnreachableError)
        await restart_router(secure)
        await states.next(ConnectionState.CONNECTED)
        await switch_and_read(client, True)
