"""Plain UDP tunnelling through a lossy path: a relay between our client and
``gateway --plain`` drops every n-th datagram in each direction, and the scenario still
passes thanks to the ack/repeat rules (repetition after 1 s, repeated requests acknowledged
again but handled once, so Data Secure sees no replay)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest

from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.scenario import run_scenario

from .test_plain_scenario import plain_gateway
from .test_scenario import lines_of, parse, scenario_args, state_home

__all__ = ["plain_gateway", "state_home"]  # fixtures (state files in a temporary home)

pytestmark = pytest.mark.timeout(60)


class _Side(asyncio.DatagramProtocol):
    """One socket of the relay; hands every datagram to ``relay``."""

    def __init__(self, relay: LossyRelay, upstream: bool) -> None:
        self._relay = relay
        self._upstream = upstream

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._relay.received(data, (str(addr[0]), int(addr[1])), upstream=self._upstream)


class LossyRelay:
    """UDP relay on 127.0.0.1 that drops every ``every``-th datagram of each direction."""

    def __init__(self, gateway: tuple[str, int], every: int) -> None:
        self._gateway = gateway
        self._every = every
        self._client: tuple[str, int] | None = None
        self._front: asyncio.DatagramTransport | None = None
        self._back: asyncio.DatagramTransport | None = None
        self.passed = {"to_gateway": 0, "to_client": 0}
        self.dropped = {"to_gateway": 0, "to_client": 0}

    async def start(self) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        self._front, _ = await loop.create_datagram_endpoint(
            lambda: _Side(self, upstream=False), local_addr=("127.0.0.1", 0)
        )
        self._back, _ = await loop.create_datagram_endpoint(
            lambda: _Side(self, upstream=True), remote_addr=self._gateway
        )
        host, port = self._front.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def close(self) -> None:
        for transport in (self._front, self._back):
            if transport is not None:
                transport.close()

    def received(self, data: bytes, source: tuple[str, int], *, upstream: bool) -> None:
        direction = "to_client" if upstream else "to_gateway"
        if not upstream:
            self._client = source
        if (self.passed[direction] + self.dropped[direction] + 1) % self._every == 0:
            self.dropped[direction] += 1
            return
        self.passed[direction] += 1
        if upstream and self._front is not None and self._client is not None:
            self._front.sendto(data, self._client)
        elif not upstream and self._back is not None:
            self._back.sendto(data)


@pytest.fixture
async def lossy(plain_gateway: VirtualGateway) -> AsyncIterator[tuple[LossyRelay, str]]:
    # Every 10th: about 30 datagrams, so losses on both sides. Not a small n: a request and
    # its repetition both lost end the tunnel by the rules (as with every 11th, where the lost
    # ack and the repetition of the same request fall in step).
    relay = LossyRelay(plain_gateway.address, every=10)
    host, port = await relay.start()
    yield relay, f"{host}:{port}"
    relay.close()


async def test_scenario_survives_a_lossy_udp_tunnel(
    lossy: tuple[LossyRelay, str], plain_gateway: VirtualGateway
) -> None:
    relay, address = lossy
    # the relay's address replaces the gateway's (the last --gateway wins)
    args = parse(scenario_args(plain_gateway, "--gateway", address, "--connection", "tunnel-udp"))
    out = io.StringIO()
    await run_scenario(args, out)
    lines = lines_of(out.getvalue())
    assert lines[-1]["result"] == "ok", lines
    # datagrams were really lost both ways, and nothing was handled twice
    assert relay.dropped["to_gateway"] >= 1
    assert relay.dropped["to_client"] >= 1
    assert "replay" not in plain_gateway.dropped
    assert not lines[-1]["dropped"]
