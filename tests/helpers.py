"""Helpers shared by both test trees (tests/knx and tests/ha).

Only the library and the standard library are imported here, never Home Assistant:
tests/knx must keep running where Home Assistant is not installed.
"""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import Callable

from custom_components.knx_secure.knx.address import GroupAddress
from custom_components.knx_secure.knx.client_types import Timeouts
from custom_components.knx_secure.knx.gateway import SwitchSpec, VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring

#: The Data Secure actuator of "Secure Test.knxkeys": switched by SWITCH, reports on STATUS.
SWITCH = GroupAddress.parse("1/1/1")
STATUS = GroupAddress.parse("1/1/2")

#: Short client timeouts: every test stays bounded in time, and a test that waits for a
#: timeout does not wait long. Tests that need another value use dataclasses.replace.
FAST = Timeouts(
    tcp_connect=1.0,
    session_response=1.0,
    authenticate=1.0,
    connect_response=1.0,
    confirmation=1.0,
    read_response=1.0,
    heartbeat=5.0,
    heartbeat_answer=1.0,
    backoff_initial=0.05,
    backoff_max=0.3,
    description=0.5,
    disconnect=0.5,
)


def virtual_gateway(
    keyring: Keyring, port: int = 0, *, status_delay: float = 0.05, **kwargs: object
) -> VirtualGateway:
    """A virtual gateway of ``keyring`` on 127.0.0.1 with the actuator SWITCH -> STATUS."""
    return VirtualGateway(
        keyring,
        switches=[SwitchSpec(SWITCH, STATUS)],
        status_delay=status_delay,
        port=port,
        **kwargs,  # type: ignore[arg-type]
    )


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    """A port of 127.0.0.1 nothing listens on (TCP, or UDP with ``socket.SOCK_DGRAM``)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def client_sockets(port: int) -> list[socket.socket]:
    """Open sockets of this process connected to ``port`` of a peer."""
    found = []
    for obj in gc.get_objects():
        if isinstance(obj, socket.socket) and obj.fileno() != -1:
            try:
                peer = obj.getpeername()
            except OSError:
                continue
            if isinstance(peer, tuple) and peer[1] == port:
                found.append(obj)
    return found


async def wait_for(condition: Callable[[], bool], limit: float = 5.0, message: str = "") -> None:
    """Wait until ``condition()`` holds: state that real sockets and timers reach in their own
    time and that no event signals. The short sleep only paces the poll of a positive
    condition; it never proves that something did not happen."""
    try:
        async with asyncio.timeout(limit):
            while not condition():  # noqa: ASYNC110 - polling real sockets and timers
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(message or f"condition not reached within {limit} s") from None
