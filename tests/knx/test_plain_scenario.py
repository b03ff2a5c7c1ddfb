"""Plain tunnelling (no IP Secure) over TCP and UDP: our client runs the scenario against
``gateway --plain``, Data Secure on top; without ``--plain`` secure tunnels refuse plain
clients as before."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator

import pytest

from custom_components.knx_secure.knx.client import (
    Connection,
    ConnectionEvent,
    ConnectionState,
    SecureTunnelClient,
    Timeouts,
)
from custom_components.knx_secure.knx.errors import NoFreeTunnelError
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring
from custom_components.knx_secure.knx.scenario import run_scenario

from ..helpers import SWITCH, virtual_gateway
from .test_scenario import lines_of, parse, scenario_args, state_home

__all__ = ["state_home"]  # autouse: state files in a temporary home, never the real one

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def plain_gateway(keyring: Keyring) -> AsyncIterator[VirtualGateway]:
    virtual = virtual_gateway(keyring, plain=True)
    await virtual.start()
    yield virtual
    await virtual.stop()


async def run(gateway: VirtualGateway, *extra: str) -> list[dict[str, object]]:
    out = io.StringIO()
    await run_scenario(parse(scenario_args(gateway, *extra)), out)
    return lines_of(out.getvalue())


@pytest.mark.parametrize("connection", ["tunnel-tcp", "tunnel-udp"])
async def test_scenario_over_plain_tunnel(plain_gateway: VirtualGateway, connection: str) -> None:
    lines = await run(plain_gateway, "--connection", connection)
    assert lines[-1]["result"] == "ok", lines[-1]
    connect = next(line for line in lines if line.get("step") == "connect")
    assert connect["connection"] == connection
    assert connect["secure"] is False
    # Data Secure both ways over the plain tunnel
    assert all(line["secure"] for line in lines if line.get("step") in ("write", "status"))
    assert plain_gateway.sessions == 0
    assert not plain_gateway.switch_state(SWITCH)


async def test_secure_scenario_still_runs_against_plain_gateway(
    plain_gateway: VirtualGateway,
) -> None:
    lines = await run(plain_gateway)
    assert lines[-1]["result"] == "ok", lines[-1]
    assert next(line for line in lines if line.get("step") == "connect")["secure"] is True


@pytest.mark.parametrize("connection", [Connection.TUNNEL_TCP, Connection.TUNNEL_UDP])
async def test_secure_gateway_refuses_plain_tunnels(
    gateway: VirtualGateway, keyring: Keyring, connection: Connection
) -> None:
    client = SecureTunnelClient(keyring, *gateway.address, connection=connection)
    # real secure interfaces answer a plain CONNECT_REQUEST with E_NO_MORE_CONNECTIONS
    with pytest.raises(NoFreeTunnelError) as caught:
        await client.connect()
    # automatic choice: every tunnel was tried and is named
    for tunnel in ("1.1.252", "1.1.253", "1.1.254", "1.1.255"):
        assert tunnel in str(caught.value)
    assert gateway.tunnels_in_use == {}


async def test_scenario_default_connection_is_secure(plain_gateway: VirtualGateway) -> None:
    assert parse(scenario_args(plain_gateway)).connection == Connection.TUNNEL_SECURE
    assert json.dumps(str(Connection.TUNNEL_UDP)) == '"tunnel-udp"'


async def wait_for_disconnect(client: SecureTunnelClient) -> ConnectionEvent:
    """The client's next DISCONNECTED event (waits on the event, no polling)."""
    seen: asyncio.Queue[ConnectionEvent] = asyncio.Queue()
    client.subscribe_state(seen.put_nowait)
    async with asyncio.timeout(5):
        while (event := await seen.get()).state is not ConnectionState.DISCONNECTED:
            pass
    return event


async def test_udp_client_told_when_the_gateway_stops(keyring: Keyring) -> None:
    gateway = virtual_gateway(keyring, plain=True)
    await gateway.start()
    client = SecureTunnelClient(keyring, *gateway.address, connection=Connection.TUNNEL_UDP)
    try:
        await client.connect()
        disconnected = asyncio.ensure_future(wait_for_disconnect(client))
        await gateway.stop()  # graceful: DISCONNECT_REQUEST before the socket closes
        event = await disconnected
        assert "closed the tunnel" in str(event.error)
    finally:
        await client.close()


async def test_udp_heartbeat_of_a_forgotten_tunnel_is_refused(keyring: Keyring) -> None:
    gateway = virtual_gateway(keyring, plain=True)
    await gateway.start()
    timeouts = Timeouts(heartbeat=0.2)
    client = SecureTunnelClient(
        keyring, *gateway.address, connection=Connection.TUNNEL_UDP, timeouts=timeouts
    )
    try:
        await client.connect()
        disconnected = asyncio.ensure_future(wait_for_disconnect(client))
        await gateway.disconnect_all()  # a reset: the gateway forgets the tunnel silently
        event = await disconnected  # the next heartbeat is answered E_CONNECTION_ID
        assert "connection state check" in str(event.error)
    finally:
        await client.close()
        await gateway.stop()


async def test_refused_udp_client_leaves_nothing_behind(keyring: Keyring) -> None:
    gateway = virtual_gateway(keyring, plain=True)
    await gateway.start()
    clients = [
        SecureTunnelClient(keyring, *gateway.address, connection=Connection.TUNNEL_UDP)
        for _ in range(5)
    ]
    try:
        for client in clients[:4]:
            await client.connect()
        with pytest.raises(NoFreeTunnelError):  # four tunnels, all taken
            await clients[4].connect()
        assert gateway.connections == 4  # the refused client's connection is gone at once
    finally:
        for client in clients:
            await client.close()
        await gateway.stop()
