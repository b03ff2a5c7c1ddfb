"""Is anything listening where a KNX IP Secure gateway should be? (TCP, asyncio)

Secure tunnels run over TCP. A gateway that does not answer the UDP description request
may still accept them; this probe tells a wrong host or port from such a gateway. It opens
a TCP connection and closes it at once, before any KNXnet/IP frame, so the gateway has no
session to clean up and every tunnel stays free.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket

from .errors import GatewayUnreachableError

_LOGGER = logging.getLogger(__name__)

REACH_TIMEOUT = 3.0  # seconds for the TCP handshake (name resolution included)
MIN_PORT = 1
MAX_PORT = 65535


async def probe_tcp(
    host: str,
    port: int,
    timeout: float = REACH_TIMEOUT,  # noqa: ASYNC109 - the contract's time budget
) -> None:
    """Return once host:port accepted a TCP connection (closed again at once).

    Raises GatewayUnreachableError naming host, port and the reason: a port outside
    1..65535, a host name that cannot be resolved or encoded, a refusal, no answer within
    ``timeout`` seconds.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not MIN_PORT <= port <= MAX_PORT:
        raise GatewayUnreachableError(f"{port!r} is not a TCP port ({MIN_PORT}..{MAX_PORT})")
    try:
        # A name no resolver can take fails here, the same on every Python and resolver.
        host.encode("idna")
    except UnicodeError as err:
        raise GatewayUnreachableError(f"{host}:{port} is not a valid host name ({err})") from None
    try:
        async with asyncio.timeout(timeout):
            _reader, writer = await asyncio.open_connection(host, port)
    except TimeoutError as err:
        raise GatewayUnreachableError(
            f"{host}:{port} did not accept a TCP connection within {timeout} s"
        ) from err
    except (OSError, ValueError) as err:  # ValueError: UnicodeError of a name IDNA refuses
        raise GatewayUnreachableError(
            f"cannot open a TCP connection to {host}:{port}: {err}"
        ) from err
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:  # the peer reset the connection first: it was reachable all the same
        _LOGGER.debug("Error closing the probe of %s:%s", host, port, exc_info=True)


def check_local_interface(address: str) -> None:
    """Return when ``address`` is an IPv4 address of this host (a routing interface).

    Raises GatewayUnreachableError naming the address otherwise: not IPv4 text, or no
    interface of this host has it (a bind to it is refused). Nothing is sent.
    """
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        raise GatewayUnreachableError(f"{address!r} is not an IPv4 address") from None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError as err:
            raise GatewayUnreachableError(
                f"{address} is not an address of this host ({err.strerror or err})"
            ) from None
