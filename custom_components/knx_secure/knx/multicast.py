"""UDP sockets on a KNXnet/IP multicast group (routing, and the search of discovery).

One socket both receives the group's datagrams and sends to the group from one chosen
interface. Several nodes on one host share the port (SO_REUSEADDR/SO_REUSEPORT), and the
multicast loop is on so that they hear each other: a routing node recognises and drops its
own datagrams. Tests and the demo use the interface 127.0.0.1 (Linux carries multicast on
loopback when the sending socket's multicast interface is 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Final

from .errors import GatewayUnreachableError

#: KNXnet/IP's system setup multicast address and port (the keyring's Backbone may differ).
DEFAULT_MULTICAST_GROUP: Final = "224.0.23.12"
DEFAULT_MULTICAST_PORT: Final = 3671
#: KNXnet/IP routing sends with a time to live of 16 (03.08.05 §2.1).
MULTICAST_TTL: Final = 16


def multicast_socket(group: str, port: int, interface: str) -> socket.socket:
    """A non-blocking UDP socket joined to ``group:port`` on ``interface``, sending from it.

    Raises GatewayUnreachableError with the reason when the group cannot be joined.
    """
    group_address = _ipv4(group, "multicast group")
    if not group_address.is_multicast:
        raise GatewayUnreachableError(f"{group} is not a multicast address (224.0.0.0/4)")
    interface_address = _ipv4(interface, "interface")
    if not 0 <= port <= 0xFFFF:
        raise GatewayUnreachableError(f"port {port} is out of range 0..65535")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        # Bound to the group, the socket receives that group's datagrams only.
        sock.bind((str(group_address), port))
        membership = group_address.packed + interface_address.packed
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, interface_address.packed)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, MULTICAST_TTL)
        sock.setblocking(False)
    except OSError as err:
        sock.close()
        raise GatewayUnreachableError(
            f"cannot join multicast group {group}:{port} on {interface}: {err.strerror or err}"
        ) from None
    return sock


def _ipv4(text: str, what: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(text)
    except ValueError:
        raise GatewayUnreachableError(f"{what} {text!r} is not an IPv4 address") from None
