"""The TCP reachability probe: accepted, refused, unresolvable, silent, and frame-free."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from custom_components.knx_secure.knx.errors import GatewayUnreachableError, KNXSecureError
from custom_components.knx_secure.knx.reachability import check_local_interface, probe_tcp

from ..helpers import free_port


class _Listener:
    """A TCP server on 127.0.0.1 that records what each connection sent before closing."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.closed = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.received.append(await reader.read())  # until the probe closes its side
        writer.close()
        self.closed.set()

    @property
    def port(self) -> int:
        assert self.server is not None
        port: int = self.server.sockets[0].getsockname()[1]
        return port


@pytest.fixture
async def listener() -> AsyncIterator[_Listener]:
    listening = _Listener()
    listening.server = await asyncio.start_server(listening.handle, "127.0.0.1", 0)
    yield listening
    listening.server.close()
    await listening.server.wait_closed()


async def test_probe_connects_and_closes_before_any_frame(listener: _Listener) -> None:
    await probe_tcp("127.0.0.1", listener.port)
    async with asyncio.timeout(5):
        await listener.closed.wait()
    assert listener.received == [b""]


async def test_refused_port_is_unreachable() -> None:
    port = free_port()
    with pytest.raises(GatewayUnreachableError, match=f"127.0.0.1:{port}"):
        await probe_tcp("127.0.0.1", port)


@pytest.mark.parametrize("port", [0, -1, 65536, True, "3671"])
async def test_invalid_port_is_our_error(port: object) -> None:
    with pytest.raises(GatewayUnreachableError, match="is not a TCP port"):
        await probe_tcp("127.0.0.1", port)  # type: ignore[arg-type]


async def test_host_name_idna_refuses_is_our_error() -> None:
    # "bad..host" has an empty label: refused before any lookup, whatever the resolver.
    with pytest.raises(KNXSecureError, match=r"bad\.\.host:3671"):
        await probe_tcp("bad..host", 3671)


async def test_silent_host_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """A handshake that never completes ends after the timeout with our error."""
    never = asyncio.Event()

    async def hang(host: str, port: int) -> tuple[object, object]:
        await never.wait()
        raise AssertionError("unreachable")

    monkeypatch.setattr(asyncio, "open_connection", hang)
    with pytest.raises(GatewayUnreachableError, match=r"within 0\.01 s"):
        await probe_tcp("192.0.2.1", 3671, timeout=0.01)


# --- the local interface check of routing -----------------------------------------------------


def test_a_local_address_is_an_interface() -> None:
    check_local_interface("127.0.0.1")  # returns: loopback is on every host


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("198.51.100.77", "198.51.100.77 is not an address of this host"),  # TEST-NET-2
        ("eth0", "'eth0' is not an IPv4 address"),
        ("::1", "'::1' is not an IPv4 address"),
    ],
)
def test_an_address_of_no_interface_is_named(address: str, reason: str) -> None:
    with pytest.raises(GatewayUnreachableError, match=f"^{reason}"):
        check_local_interface(address)
