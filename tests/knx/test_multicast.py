"""multicast.py: nodes on one host share a group on 127.0.0.1 and hear each other."""

from __future__ import annotations

import asyncio
import socket

import pytest

from custom_components.knx_secure.knx.errors import GatewayUnreachableError
from custom_components.knx_secure.knx.multicast import multicast_socket

from ..helpers import free_port

GROUP = "239.255.71.1"  # administratively scoped: never leaves this host in tests


async def test_two_nodes_on_one_port_hear_each_other_and_themselves() -> None:
    port = free_port(socket.SOCK_DGRAM)
    loop = asyncio.get_running_loop()
    first, second = (multicast_socket(GROUP, port, "127.0.0.1") for _ in range(2))
    try:
        await loop.sock_sendto(first, b"from first", (GROUP, port))
        async with asyncio.timeout(2):
            assert (await loop.sock_recv(second, 64)) == b"from first"
            assert (await loop.sock_recv(first, 64)) == b"from first"  # the loop is on
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize(
    ("group", "port", "interface", "message"),
    [
        ("192.168.1.1", 3671, "127.0.0.1", "not a multicast address"),
        ("nonsense", 3671, "127.0.0.1", "not an IPv4 address"),
        (GROUP, 70000, "127.0.0.1", "out of range"),
        (GROUP, 3671, "eth0", "interface 'eth0' is not an IPv4 address"),
    ],
)
def test_bad_arguments_are_refused_clearly(
    group: str, port: int, interface: str, message: str
) -> None:
    with pytest.raises(GatewayUnreachableError, match=message):
        multicast_socket(group, port, interface)


def test_an_interface_this_host_does_not_have_is_refused() -> None:
    port = free_port(socket.SOCK_DGRAM)
    with pytest.raises(GatewayUnreachableError, match="cannot join multicast group"):
        multicast_socket(GROUP, port, "203.0.113.7")  # TEST-NET-3: never local
