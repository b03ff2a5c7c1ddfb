"""The connection driver on its own: a recording endpoint over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket

from custom_components.knx_secure.knx import knxip
from custom_components.knx_secure.knx.driver import DeadlineTimer, Driver
from custom_components.knx_secure.knx.errors import FrameError, KNXSecureError

IO_TIMEOUT = 3.0
FRAME = knxip.encode(knxip.DescriptionRequest(knxip.HPAI.ROUTE_BACK_UDP))


class Recorder:
    """An endpoint that records what the driver hands it."""

    def __init__(self, *, fail_on: bytes | None = None) -> None:
        self.frames: list[bytes] = []
        self.errors: list[KNXSecureError] = []
        self.ticks: list[float] = []
        self.deadline: float | None = None
        self.fail_on = fail_on
        self.changed = asyncio.Event()
        self.gone = asyncio.Event()

    def opened(self, now: float) -> None:
        self.changed.set()

    def frame_received(self, frame: bytes, now: float) -> None:
        if frame == self.fail_on:
            raise RuntimeError("a bug in the endpoint")
        self.frames.append(frame)
        self.changed.set()

    def tick(self, now: float) -> None:
        self.ticks.append(now)
        self.deadline = None
        self.changed.set()

    def next_deadline(self) -> float | None:
        return self.deadline

    def stream_error(self, error: FrameError) -> None:
        self.errors.append(error)
        self.changed.set()

    def failed(self, error: KNXSecureError) -> None:
        self.errors.append(error)
        self.changed.set()

    def lost(self, exc: Exception | None, now: float) -> None:
        self.gone.set()

    async def until(self, done: object) -> None:
        async with asyncio.timeout(IO_TIMEOUT):
            while not callable(done) or not done():
                self.changed.clear()
                await self.changed.wait()


async def test_datagrams_are_frames_and_a_bad_one_spoils_only_itself() -> None:
    loop = asyncio.get_running_loop()
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer_address = peer.getsockname()
    recorder = Recorder()
    transport, driver = await loop.create_datagram_endpoint(
        lambda: Driver(recorder, framer=knxip.DatagramFramer(), remote=peer_address),
        local_addr=("127.0.0.1", 0),
        remote_addr=peer_address,
    )
    try:
        ours = transport.get_extra_info("sockname")
        peer.sendto(FRAME + b"\x00", ours)
        peer.sendto(FRAME, ours)
        await recorder.until(lambda: recorder.frames)
        assert recorder.frames == [FRAME]
        assert len(recorder.errors) == 1
        assert isinstance(recorder.errors[0], FrameError)
        driver.write(FRAME)
        peer.settimeout(IO_TIMEOUT)
        assert await loop.run_in_executor(None, peer.recv, 100) == FRAME
    finally:
        transport.close()
        peer.close()


async def test_stream_endpoint_bug_is_reported_and_the_stream_goes_on() -> None:
    recorder = Recorder(fail_on=FRAME)
    other = knxip.encode(knxip.DescriptionRequest(knxip.HPAI(knxip.HostProtocol.TCP)))
    loop = asyncio.get_running_loop()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(FRAME + other[:3])
        await writer.drain()
        writer.write(other[3:])
        await writer.drain()
        await reader.read()  # until the driver closes
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        transport, driver = await loop.create_connection(
            lambda: Driver(recorder), "127.0.0.1", port
        )
        await recorder.until(lambda: recorder.frames)
        assert recorder.frames == [other]
        assert "internal error" in str(recorder.errors[0])
        sock = transport.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        driver.close()
        async with asyncio.timeout(IO_TIMEOUT):
            await recorder.gone.wait()
        assert driver.closed.done()
    finally:
        server.close()
        await server.wait_closed()


async def test_the_timer_follows_the_endpoints_deadline() -> None:
    loop = asyncio.get_running_loop()
    fired: list[float] = []
    done = asyncio.Event()

    def fire(now: float) -> None:
        fired.append(now)
        done.set()

    timer = DeadlineTimer(loop, fire)
    far = loop.time() + 3600
    timer.follow(far)
    soon = loop.time() + 0.01
    timer.follow(soon)  # moves the one handle earlier
    async with asyncio.timeout(IO_TIMEOUT):
        await done.wait()
    assert fired == [max(fired[0], soon)]
    assert fired[0] >= soon  # never before the deadline
    timer.follow(None)
    timer.cancel()


async def test_a_driver_closed_before_its_transport_is_made_closes_it() -> None:
    loop = asyncio.get_running_loop()
    peer_closed = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the driver closes
        peer_closed.set()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    recorder = Recorder()
    driver = Driver(recorder)
    driver.close()  # e.g. the client was closed while connecting
    try:
        await loop.create_connection(lambda: driver, "127.0.0.1", port)
        async with asyncio.timeout(IO_TIMEOUT):
            await peer_closed.wait()
            await recorder.gone.wait()
        assert not recorder.changed.is_set()  # never opened: nothing was sent
    finally:
        server.close()
        await server.wait_closed()
