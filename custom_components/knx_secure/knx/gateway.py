"""The virtual KNX IP Secure gateway: a tunnelling server in front of a simulated bus.

A thin asyncio edge over the sans-I/O machines: ``SecureSession`` (server role) and
``TunnelServer`` decide everything about frames; this module moves bytes between sockets,
timers and those machines, and between the tunnels and the simulated bus (``bus.py``).

- TCP (``bind``:``port``): a connection whose first frame is SESSION_REQUEST is a secure
  session; anything else is plain tunnelling, refused for tunnels that require security.
- UDP on the same address and port: SEARCH_REQUEST(_EXTENDED) and DESCRIPTION_REQUEST.
- Configured from an ETS keyring: the host's tunnels, user ids, passwords and device
  authentication code; Data Secure keys and sequence numbers for the simulated devices.

It is the test peer, the demo default and a tool for users without hardware:
``python -m custom_components.knx_secure.knx gateway --keyring FILE --password PW`` (the
command line lives in ``cli.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import socket
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from types import MappingProxyType
from typing import Final

from . import knxip
from .address import GroupAddress, IndividualAddress
from .bus import Bus, SwitchActuator, SwitchSpec, default_device_address
from .cemi import LData
from .crypto import derive_device_authentication_key, derive_user_password_key
from .errors import FrameError, KeyringError, SessionError
from .keyring import Keyring, KeyringInterface
from .knxip import ErrorCode, ServiceFamily, ServiceType
from .session import (
    DEFAULT_SESSION_TIMEOUT,
    FrameDropped,
    InnerFrame,
    OutgoingFrame,
    SecureSession,
    SessionEnded,
    SessionEstablished,
    SessionEvent,
)
from .tunnel import (
    DEFAULT_SERVER_IDLE_TIMEOUT,
    ConnectRefused,
    TelegramReceived,
    TunnelClosed,
    TunnelConnected,
    TunnelEvent,
    TunnelServer,
    TunnelSlotConfig,
    TunnelSlots,
    TunnelState,
)

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_SESSION_TIMEOUT",
    "DEFAULT_STATUS_DELAY",
    "SwitchSpec",
    "VirtualGateway",
    "default_switches",
    "parse_switch",
]

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT: Final = knxip.PORT
DEFAULT_BIND: Final = "127.0.0.1"
DEFAULT_STATUS_DELAY: Final = 0.2
#: stop(): how long closing connections may take before they are aborted.
STOP_TIMEOUT: Final = 2.0
#: With port 0 the UDP port must equal the TCP port the system picked; retry if taken.
PORT_PICK_ATTEMPTS: Final = 5
#: A plain tunnel is dropped after this long without CONNECTIONSTATE_REQUEST or data.
TUNNEL_IDLE_TIMEOUT: Final = DEFAULT_SERVER_IDLE_TIMEOUT

DEVICE_NAME: Final = "KNX Secure virtual gateway"
MAX_APDU_LENGTH: Final = 254
MULTICAST_ADDRESS: Final = knxip.SYSTEM_MULTICAST_ADDRESS
SECURITY_VERSION: Final = 1
_CORE_VERSION: Final = 2
_DEVICE_MANAGEMENT_VERSION: Final = 1
_TUNNELLING_VERSION: Final = 2  # TCP tunnelling
_SERIAL_PREFIX: Final = b"\x00\xfa"
_MAC_PREFIX: Final = b"\x02\x00"  # locally administered
_MAX_SESSION_ID: Final = 0xFFFF
_MANAGEMENT_USER: Final = 1

# Search request parameter types (SEARCH_REQUEST_EXTENDED); bit 7 marks "mandatory".
_SRP_MANDATORY: Final = 0x80
_SRP_PROGRAMMING_MODE: Final = 0x01
_SRP_MAC_ADDRESS: Final = 0x02
_SRP_SERVICE: Final = 0x03
_SRP_REQUEST_DIBS: Final = 0x04


# --- configuration from the keyring ------------------------------------------------------


def _host_with_most_tunnels(keyring: Keyring) -> IndividualAddress:
    hosts = keyring.hosts()
    if not hosts:
        raise KeyringError("the keyring has no tunnelling interface: nothing to serve")
    return max(hosts, key=lambda host: len(keyring.tunnels_of_host(host)))


def _serial_of(keyring: Keyring, host: IndividualAddress) -> bytes:
    """The host device's KNX serial number from the keyring, else one made from its address."""
    device = keyring.device(host)
    text = device.serial_number if device is not None else None
    if text:
        with contextlib.suppress(ValueError):
            serial = bytes.fromhex(text)
            if len(serial) == 6:
                return serial
    return _SERIAL_PREFIX + bytes(2) + host.to_bytes()


def _device_authentication_code(
    keyring: Keyring, host: IndividualAddress, tunnels: Sequence[KeyringInterface]
) -> str | None:
    for tunnel in tunnels:
        if tunnel.device_authentication:
            return tunnel.device_authentication
    device = keyring.device(host)
    return device.authentication if device is not None else None


def default_switches(keyring: Keyring) -> list[SwitchSpec]:
    """One switch per pair of the keyring's secure group addresses (write, status), in file
    order; an odd last one reports on its own address. Empty without secure GAs."""
    keyed = list(keyring.group_keys)
    pairs = [keyed[i : i + 2] for i in range(0, len(keyed), 2)]
    return [SwitchSpec(pair[0], pair[-1]) for pair in pairs]


def parse_switch(text: str) -> SwitchSpec:
    """``WRITE_GA:STATUS_GA[@DEVICE_IA]``, e.g. ``1/1/1:1/1/2@1.1.1``."""
    gas, _, device = text.partition("@")
    write, separator, status = gas.partition(":")
    if not separator:
        raise ValueError(f"switch {text!r} is not WRITE_GA:STATUS_GA[@DEVICE_IA]")
    return SwitchSpec(
        GroupAddress.parse(write.strip()),
        GroupAddress.parse(status.strip()),
        IndividualAddress.parse(device.strip()) if device else None,
    )


def _derive_keys(
    passwords: Mapping[int, str], device_code: str | None
) -> tuple[dict[int, bytes], bytes | None]:
    """PBKDF2 of every user password and the device code (slow: run off the event loop)."""
    users = {user_id: derive_user_password_key(pw) for user_id, pw in passwords.items()}
    device_key = derive_device_authentication_key(device_code) if device_code else None
    return users, device_key


async def _off_loop[T](work: Callable[[], T]) -> T:
    """Run CPU-bound ``work`` in a short-lived thread of our own (gone when it returns)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            result = work()
        except BaseException as err:  # handed to the awaiting coroutine
            loop.call_soon_threadsafe(_set_exception, future, err)
        else:
            loop.call_soon_threadsafe(_set_result, future, result)

    thread = threading.Thread(target=run, name="knx-gateway-kdf", daemon=True)
    thread.start()
    result = await future
    thread.join()  # it has already handed over its result: returns at once
    return result


def _set_result[T](future: asyncio.Future[T], result: T) -> None:
    if not future.done():
        future.set_result(result)


def _set_exception[T](future: asyncio.Future[T], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


# --- the gateway ----------------------------------------------------------------------------


class VirtualGateway:
    """A KNX IP Secure interface with every tunnel of one keyring host, and a simulated bus
    with switch actuators. ``start()`` listens, ``stop()`` closes everything; the devices
    (relays, Data Secure freshness and counters) live as long as this object."""

    def __init__(
        self,
        keyring: Keyring,
        *,
        host: IndividualAddress | None = None,
        switches: Sequence[SwitchSpec] = (),
        status_delay: float = DEFAULT_STATUS_DELAY,
        bind: str = DEFAULT_BIND,
        port: int = 0,
        session_timeout: float = DEFAULT_SESSION_TIMEOUT,
        user_passwords: Mapping[int, str] | None = None,
        device_authentication: str | None = None,
    ) -> None:
        """``user_passwords`` overrides tunnel passwords by user id and
        ``device_authentication`` the device authentication code (to simulate an
        installation that differs from the keyring, or an impostor)."""
        self._keyring = keyring
        self._host = host if host is not None else _host_with_most_tunnels(keyring)
        self._tunnels = [
            t for t in keyring.tunnels_of_host(self._host) if t.individual_address is not None
        ]
        if not self._tunnels:
            raise KeyringError(f"the keyring has no tunnel of host {self._host}")
        self._slots = TunnelSlots(
            TunnelSlotConfig(t.individual_address, t.user_id)
            for t in self._tunnels
            if t.individual_address is not None
        )
        self._has_plain_slots = any(t.user_id is None for t in self._tunnels)
        self._passwords = self._user_passwords(user_passwords or {})
        self._device_code = device_authentication or _device_authentication_code(
            keyring, self._host, self._tunnels
        )
        self._serial = _serial_of(keyring, self._host)
        self._bind = bind
        self._port = port
        self._session_timeout = session_timeout
        self._dropped: Counter[str] = Counter()
        self._bus = Bus(self._dropped)
        self._devices: dict[IndividualAddress, SwitchActuator] = {}
        self._switches: dict[GroupAddress, SwitchActuator] = {}
        for spec in switches:
            self._add_switch(spec, status_delay)
        self._users: dict[int, bytes] = {}
        self._device_key: bytes | None = None
        self._keys_ready = False
        self._server: asyncio.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._udp_closed: asyncio.Future[None] | None = None
        self._connections: set[_Connection] = set()
        self._last_session_id = 0

    def __repr__(self) -> str:
        return (
            f"VirtualGateway(host={self._host}, address={self.address}, "
            f"tunnels={len(self._tunnels)}, devices={len(self._devices)})"
        )

    def _user_passwords(self, overrides: Mapping[int, str]) -> dict[int, str]:
        passwords = {t.user_id: t.password for t in self._tunnels if t.user_id and t.password}
        device = self._keyring.device(self._host)
        if device is not None and device.management_password:
            passwords.setdefault(_MANAGEMENT_USER, device.management_password)
        passwords.update(overrides)
        return passwords

    def _add_switch(self, spec: SwitchSpec, status_delay: float) -> None:
        address = spec.device or default_device_address(
            self._keyring, spec.status_ga, self._host, self._devices
        )
        device = self._devices.get(address)
        if device is None:
            device = SwitchActuator(address, self._keyring, self._bus, status_delay=status_delay)
            self._devices[address] = device
            self._bus.attach(device)
        device.add_channel(SwitchSpec(spec.write_ga, spec.status_ga, address))
        self._switches[spec.write_ga] = device

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on TCP and UDP (``address`` then tells the port)."""
        if self._server is not None:
            raise RuntimeError("the virtual gateway is already running")
        if not self._keys_ready:
            passwords, code = dict(self._passwords), self._device_code
            self._users, self._device_key = await _off_loop(lambda: _derive_keys(passwords, code))
            self._keys_ready = True
        loop = asyncio.get_running_loop()
        # a restart listens where the clients knew it: the port of the first start
        wanted = self._port
        attempts = PORT_PICK_ATTEMPTS if wanted == 0 else 1
        for attempt in range(1, attempts + 1):
            server = await loop.create_server(lambda: _Connection(self), self._bind, wanted)
            port = int(server.sockets[0].getsockname()[1])
            udp_closed: asyncio.Future[None] = loop.create_future()
            try:
                self._udp, _ = await loop.create_datagram_endpoint(
                    functools.partial(_DiscoveryEndpoint, self, udp_closed),
                    local_addr=(self._bind, port),
                )
            except OSError:
                server.close()
                await server.wait_closed()
                if attempt == attempts:
                    raise
                continue
            self._server, self._port, self._udp_closed = server, port, udp_closed
            break
        _LOGGER.info(
            "virtual KNX IP Secure gateway %s listening on %s:%s (TCP and UDP), %d tunnels",
            self._host,
            self._bind,
            self._port,
            len(self._tunnels),
        )

    async def stop(self) -> None:
        """Close every connection, the listening sockets and pending device timers."""
        server, udp, udp_closed = self._server, self._udp, self._udp_closed
        self._server = self._udp = self._udp_closed = None
        if server is None:
            return
        server.close()
        if udp is not None:
            udp.close()
        await self._close_connections(graceful=True)
        await server.wait_closed()
        if udp_closed is not None:
            await udp_closed
        for device in self._devices.values():
            device.cancel_pending()
        _LOGGER.info("virtual KNX IP Secure gateway %s stopped", self._host)

    async def disconnect_all(self, *, graceful: bool = False) -> None:
        """Drop every client connection, like a gateway reset (``graceful``: send
        DISCONNECT_REQUEST and SESSION_STATUS close first). Keeps listening."""
        await self._close_connections(graceful=graceful)

    async def _close_connections(self, *, graceful: bool) -> None:
        connections = list(self._connections)
        if not connections:
            return
        for connection in connections:
            connection.close(graceful=graceful)
        _done, pending = await asyncio.wait([c.closed for c in connections], timeout=STOP_TIMEOUT)
        if pending:
            for connection in connections:
                connection.abort()
            await asyncio.wait(pending, timeout=STOP_TIMEOUT)

    # --- queries ----------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        """The TCP (and UDP) address; the port is the real one once started."""
        return self._bind, self._port

    @property
    def host(self) -> IndividualAddress:
        return self._host

    @property
    def tunnels(self) -> tuple[KeyringInterface, ...]:
        """The tunnels served (keyring interfaces of the host)."""
        return tuple(self._tunnels)

    @property
    def dropped(self) -> Mapping[str, int]:
        """Dropped frames and telegrams by reason, over every layer: secure wrappers and
        Data Secure telegrams alike ("replay", "mac", "malformed"), wrappers of another
        session ("session_id"), our own wrappers sent back ("reflected"), frames not
        allowed now ("unexpected"), other channels ("channel"), plain telegrams to a GA
        with a key ("plain"), secure ones to a GA without ("no_key"). Data Secure replays
        are also counted per device in ``replays_rejected``."""
        return MappingProxyType(self._dropped)

    @property
    def sessions(self) -> int:
        """Secure sessions authenticated right now."""
        return sum(1 for c in self._connections if c.authenticated)

    @property
    def connections(self) -> int:
        """Open TCP connections (secure, plain or not yet known)."""
        return len(self._connections)

    @property
    def tunnels_in_use(self) -> dict[int, IndividualAddress]:
        """Channel id -> tunnel address of every open tunnel."""
        return self._slots.in_use()

    @property
    def devices(self) -> tuple[IndividualAddress, ...]:
        """Addresses of the simulated devices."""
        return tuple(self._devices)

    @property
    def switches(self) -> tuple[SwitchSpec, ...]:
        """The simulated switch channels, each with its device's address."""
        return tuple(spec for device in self._devices.values() for spec in device.channels)

    @property
    def replays_rejected(self) -> Mapping[IndividualAddress, int]:
        """Per device: secure telegrams refused for a sequence number that was not newer."""
        return {address: d.replays_rejected for address, d in self._devices.items()}

    def switch_state(self, write_ga: GroupAddress | str) -> bool:
        """The relay of the switch driven by ``write_ga`` (KeyError if there is none)."""
        ga = GroupAddress.parse(write_ga) if isinstance(write_ga, str) else write_ga
        return self._switches[ga].state(ga)

    def set_switch(self, write_ga: GroupAddress | str, on: bool) -> None:
        """Operate the switch on the device itself: the status is sent as after a write."""
        ga = GroupAddress.parse(write_ga) if isinstance(write_ga, str) else write_ga
        self._switches[ga].operate(ga, on)

    def inject(self, frame: LData) -> None:
        """Put a raw telegram on the bus, as if another bus device sent it: every tunnel and
        every simulated device receives it."""
        self._bus.transmit(frame)

    def ready_line(self) -> dict[str, object]:
        """What the command line prints once listening (no secrets)."""
        host, port = self.address
        return {
            "listening": f"{host}:{port}",
            "host": str(self._host),
            "tunnels": [
                {"individual_address": str(t.individual_address), "user_id": t.user_id}
                for t in self._tunnels
            ],
        }

    # --- for the connections and the discovery endpoint --------------------------------------

    @property
    def bus(self) -> Bus:
        return self._bus

    @property
    def slots(self) -> TunnelSlots:
        return self._slots

    @property
    def has_plain_slots(self) -> bool:
        return self._has_plain_slots

    @property
    def session_timeout(self) -> float:
        return self._session_timeout

    def count_drop(self, reason: str) -> None:
        self._dropped[reason] += 1

    def connection_opened(self, connection: _Connection) -> None:
        self._connections.add(connection)

    def connection_closed(self, connection: _Connection) -> None:
        self._connections.discard(connection)

    def new_session(self) -> SecureSession | None:
        """A server session machine for a SESSION_REQUEST; None without a device
        authentication code (then no secure session is possible)."""
        if self._device_key is None:
            return None
        return SecureSession.server(
            session_id=self._new_session_id(),
            users=self._users,
            device_authentication_key=self._device_key,
            serial=self._serial,
            timeout=self._session_timeout,
        )

    def _new_session_id(self) -> int:
        in_use = {c.session_id for c in self._connections}
        for _ in range(_MAX_SESSION_ID):
            self._last_session_id = self._last_session_id % _MAX_SESSION_ID + 1
            if self._last_session_id not in in_use:
                return self._last_session_id
        raise SessionError("no free secure session id")

    # --- discovery -----------------------------------------------------------------------------

    def _supported_families(self) -> tuple[tuple[int, int], ...]:
        families = [
            (ServiceFamily.CORE, _CORE_VERSION),
            (ServiceFamily.DEVICE_MANAGEMENT, _DEVICE_MANAGEMENT_VERSION),
            (ServiceFamily.TUNNELLING, _TUNNELLING_VERSION),
        ]
        if self._device_key is not None or self._device_code:
            families.append((ServiceFamily.SECURITY, SECURITY_VERSION))
        return tuple((int(f), v) for f, v in families)

    def _mac_address(self) -> bytes:
        return _MAC_PREFIX + self._serial[2:]

    def dibs(self, *, extended: bool = True) -> tuple[knxip.DIB, ...]:
        """Device info and service families; ``extended`` adds the secured service
        families and the tunnel slots (free or in use right now)."""
        info = knxip.DeviceInfoDIB(
            medium=knxip.KNXMedium.TP1,
            status=0,
            individual_address=self._host,
            project_installation_id=0,
            serial=self._serial,
            multicast_address=MULTICAST_ADDRESS,
            mac_address=self._mac_address(),
            name=DEVICE_NAME,
        )
        dibs: list[knxip.DIB] = [
            info,
            knxip.SupportedServiceFamiliesDIB(self._supported_families()),
        ]
        if not extended:
            return tuple(dibs)
        if not self._has_plain_slots:
            secured = ((int(ServiceFamily.TUNNELLING), SECURITY_VERSION),)
            dibs.append(knxip.SecuredServiceFamiliesDIB(secured))
        slots = tuple(
            knxip.TunnelSlot(
                individual_address=slot.individual_address,
                usable=True,
                free=self._slots.is_free(slot.individual_address),
                # whether the asking client (plain UDP, not authenticated) may use it as is
                authorised=slot.user_id is None,
            )
            for slot in self._slots.slots
        )
        dibs.append(knxip.TunnellingInfoDIB(MAX_APDU_LENGTH, slots))
        return tuple(dibs)

    def control_hpai(self) -> knxip.HPAI:
        host, port = self.address
        return knxip.HPAI(knxip.HostProtocol.UDP, host, port)

    def answer_datagram(self, frame: knxip.Frame) -> tuple[bytes, knxip.HPAI | None] | None:
        """The UDP answer to a discovery frame and the HPAI it names, or None."""
        match frame:
            case knxip.SearchRequestExtended():
                if not self._search_parameters_match(frame.srp):
                    return None
                answer: knxip.Frame = knxip.SearchResponseExtended(self.control_hpai(), self.dibs())
                return knxip.encode(answer), frame.discovery
            case knxip.SearchRequest():
                answer = knxip.SearchResponse(self.control_hpai(), self.dibs(extended=False))
                return knxip.encode(answer), frame.discovery
            case knxip.DescriptionRequest():
                return knxip.encode(knxip.DescriptionResponse(self.dibs())), frame.control
            case knxip.ConnectRequest():
                # tunnelling is served over TCP only: refuse at once instead of letting the
                # client wait for its timeout
                refusal = knxip.ConnectResponse(0, ErrorCode.E_CONNECTION_TYPE)
                return knxip.encode(refusal), frame.control
            case _:
                return None

    def _search_parameters_match(self, srp: bytes) -> bool:
        """Whether the SEARCH_REQUEST_EXTENDED parameters select this device."""
        offset = 0
        while offset + 2 <= len(srp):
            size, kind = srp[offset], srp[offset + 1]
            data = srp[offset + 2 : offset + size]
            selector = kind & ~_SRP_MANDATORY
            if selector == _SRP_PROGRAMMING_MODE:
                return False  # never in programming mode
            if selector == _SRP_MAC_ADDRESS and data != self._mac_address():
                return False
            if selector == _SRP_SERVICE and not self._supports_service(data):
                return False
            if selector > _SRP_REQUEST_DIBS and kind & _SRP_MANDATORY:
                return False  # a mandatory parameter we do not know
            offset += max(size, 2)
        return True

    def _supports_service(self, data: bytes) -> bool:
        if len(data) < 2:
            return False
        return any(f == data[0] and v >= data[1] for f, v in self._supported_families())


def _reply_target(hpai: knxip.HPAI | None, source: tuple[str, int]) -> tuple[str, int]:
    """Where a UDP answer goes: the HPAI's endpoint, or the sender's (route back / NAT)."""
    if hpai is None or hpai.ip == "0.0.0.0" or hpai.port == 0:  # noqa: S104
        return source
    return hpai.ip, hpai.port


class _DiscoveryEndpoint(asyncio.DatagramProtocol):
    """UDP: search and description (and a quick refusal of UDP tunnelling)."""

    def __init__(self, gateway: VirtualGateway, closed: asyncio.Future[None]) -> None:
        self._gateway = gateway
        self._closed = closed
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self._transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        source = (str(addr[0]), int(str(addr[1])))
        try:
            frame = knxip.parse(data)
        except FrameError:
            _LOGGER.debug("ignoring a malformed datagram from %s:%s", *source)
            return
        answer = self._gateway.answer_datagram(frame)
        if answer is None or self._transport is None:
            return
        data_out, hpai = answer
        target = _reply_target(hpai, source)
        _LOGGER.debug("%s from %s:%s answered", frame.SERVICE.name, *source)
        try:
            self._transport.sendto(data_out, target)
        except OSError as err:
            _LOGGER.debug("cannot answer %s:%s: %s", *target, err)

    def error_received(self, exc: Exception) -> None:
        _LOGGER.debug("discovery endpoint: %s", exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if not self._closed.done():
            self._closed.set_result(None)


# --- one TCP connection ----------------------------------------------------------------------


class _Mode(Enum):
    UNDECIDED = "undecided"  # no frame yet
    SECURE = "secure"  # first frame was SESSION_REQUEST
    PLAIN = "plain"


class _Connection(asyncio.Protocol):
    """One TCP client: splits the stream into frames and drives its session and tunnel
    machines; attached to the bus while its tunnel is open."""

    def __init__(self, gateway: VirtualGateway) -> None:
        self._gateway = gateway
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._mode = _Mode.UNDECIDED
        self._session: SecureSession | None = None
        self._tunnel: TunnelServer | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self._last_heard = self._loop.time()
        self._closing = False
        self._peer = "?"
        self.closed: asyncio.Future[None] = self._loop.create_future()

    def __repr__(self) -> str:
        return f"_Connection({self._peer}, {self._mode.value}, session={self.session_id})"

    @property
    def session_id(self) -> int | None:
        return self._session.session_id if self._session is not None else None

    @property
    def authenticated(self) -> bool:
        return self._session is not None and self._session.is_authenticated

    # --- transport callbacks ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername")
        if peer:
            self._peer = f"{peer[0]}:{peer[1]}"
        self._gateway.connection_opened(self)
        _LOGGER.info("connection from %s", self._peer)
        self._reschedule()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._cancel_timer()
        if self._tunnel is not None:
            self._tunnel_events(self._tunnel.connection_lost(self._loop.time()))
        self._gateway.bus.detach(self)
        self._gateway.connection_closed(self)
        _LOGGER.info("connection from %s closed", self._peer)
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self._closing:
            return
        now = self._loop.time()
        if self._buffer:  # the rest of a frame that came in pieces
            self._buffer += data
            data = bytes(self._buffer)
            self._buffer.clear()
        used = self._receive_frames(data, now)
        if used < len(data) and not self._closing:
            self._buffer += data[used:]
        if used:
            # only a whole frame counts as life: a peer trickling the octets of one frame
            # slowly must not hold the connection open forever
            self._last_heard = now
        self._reschedule()

    def _receive_frames(self, data: bytes, now: float) -> int:
        """Handle every whole frame in ``data``; the number of octets used."""
        offset = 0
        while not self._closing:
            try:
                size = knxip.frame_length(data[offset : offset + knxip.HEADER_LENGTH])
            except FrameError as err:
                self._gateway.count_drop("malformed")
                _LOGGER.info("closing %s: not a KNXnet/IP stream (%s)", self._peer, err)
                self.abort()
                break
            if size is None or offset + size > len(data):
                break
            # one read is usually one frame: pass it on without a copy
            whole = offset == 0 and size == len(data)
            self._receive(data if whole else data[offset : offset + size], now)
            offset += size
        return offset

    def eof_received(self) -> bool | None:
        return None  # close our side too

    # --- frames -------------------------------------------------------------------------------

    def _receive(self, frame: bytes, now: float) -> None:
        if self._mode is _Mode.UNDECIDED:
            self._choose_mode(frame, now)
        if self._session is not None:
            self._session_events(self._session.receive(frame, now), now)
        elif self._tunnel is not None:
            self._receive_plain(frame, now)

    def _choose_mode(self, frame: bytes, now: float) -> None:
        if _service(frame) == ServiceType.SESSION_REQUEST:
            session = self._gateway.new_session()
            if session is None:
                _LOGGER.warning("refusing a secure session from %s: no device code", self._peer)
                self.abort()
                return
            session.start(now)
            self._session = session
            self._mode = _Mode.SECURE
            _LOGGER.info("secure session %s requested by %s", session.session_id, self._peer)
        else:
            self._tunnel = self._new_tunnel(user_id=None)
            self._mode = _Mode.PLAIN

    def _new_tunnel(self, user_id: int | None) -> TunnelServer:
        return TunnelServer(self._gateway.slots, user_id=user_id, idle_timeout=TUNNEL_IDLE_TIMEOUT)

    def _receive_plain(self, frame: bytes, now: float) -> None:
        assert self._tunnel is not None
        if _service(frame) == ServiceType.CONNECT_REQUEST and not self._gateway.has_plain_slots:
            self._refuse_plain_connect()
            return
        self._tunnel_events(self._tunnel.receive(frame, now), now)

    def _refuse_plain_connect(self) -> None:
        # Every tunnel needs a secure session. Real secure interfaces (MDT, Weinzierl) answer
        # a plain CONNECT_REQUEST with E_NO_MORE_CONNECTIONS: no tunnel is free *for this
        # client*; the secured service families DIB told it why.
        _LOGGER.info("refusing plain tunnelling from %s: tunnels require security", self._peer)
        refusal = knxip.ConnectResponse(0, ErrorCode.E_NO_MORE_CONNECTIONS)
        self._write(knxip.encode(refusal))

    def _session_events(self, events: list[SessionEvent], now: float) -> None:
        for event in events:
            match event:
                case OutgoingFrame():
                    self._write(event.data)
                case InnerFrame():
                    if self._tunnel is not None:
                        self._tunnel_events(self._tunnel.receive(event.frame, now), now)
                case SessionEstablished():
                    self._tunnel = self._new_tunnel(event.user_id)
                    _LOGGER.info(
                        "secure session %s: user %s authenticated (%s)",
                        event.session_id,
                        event.user_id,
                        self._peer,
                    )
                case FrameDropped():
                    self._gateway.count_drop(str(event.reason))
                case SessionEnded():
                    _LOGGER.info(
                        "secure session %s of user %s ended: %s%s",
                        self.session_id,
                        event.user_id,
                        event.reason,
                        " (by the client)" if event.by_peer else "",
                    )
                    self.close()

    def _tunnel_events(self, events: list[TunnelEvent], now: float | None = None) -> None:
        tunnel = self._tunnel
        assert tunnel is not None
        when = self._loop.time() if now is None else now
        for event in events:
            match event:
                case OutgoingFrame():
                    self._send(event.data, when)
                case TelegramReceived():
                    # confirm first (the frame is on the bus), then deliver it to the others
                    self._send(tunnel.confirm(event.frame, when), when)
                    self._gateway.bus.transmit(event.frame, origin=self)
                case TunnelConnected():
                    self._gateway.bus.attach(self)
                    _LOGGER.info(
                        "tunnel %s opened on channel %s (%s, user %s)",
                        event.individual_address,
                        event.channel_id,
                        self._peer,
                        self._session.user_id if self._session else None,
                    )
                case TunnelClosed():
                    self._gateway.bus.detach(self)
                    _LOGGER.info("tunnel of %s closed: %s", self._peer, event.reason)
                case ConnectRefused():
                    _LOGGER.info("tunnel refused to %s: %s", self._peer, event.status.name)
                case FrameDropped():
                    self._gateway.count_drop(str(event.reason))

    # --- bus ------------------------------------------------------------------------------------

    def deliver(self, frame: LData) -> None:
        """A telegram from the bus: an L_Data.ind for this client."""
        tunnel = self._tunnel
        if self._closing or tunnel is None or tunnel.state is not TunnelState.CONNECTED:
            return
        now = self._loop.time()
        self._send(tunnel.indicate(frame, now), now)

    # --- sending and closing --------------------------------------------------------------------

    def _send(self, plain: bytes, now: float) -> None:
        """A plain KNXnet/IP frame to the client, wrapped when the connection is secure."""
        if not plain or self._closing:
            return
        session = self._session
        if session is None:
            self._write(plain)
        elif session.is_authenticated:
            self._write(session.wrap(plain, now))

    def _write(self, data: bytes) -> None:
        if data and self._transport is not None and not self._closing:
            self._transport.write(data)

    def close(self, *, graceful: bool = False) -> None:
        """Close after the queued frames (``graceful``: say goodbye first)."""
        if self._closing or self._transport is None:
            return
        if graceful:
            now = self._loop.time()
            tunnel, session = self._tunnel, self._session
            if tunnel is not None and tunnel.state is TunnelState.CONNECTED:
                self._send(tunnel.disconnect(now), now)
            if session is not None:
                self._write(session.close(now))
        self._closing = True
        self._cancel_timer()
        self._transport.close()

    def abort(self) -> None:
        """Drop the connection at once (a reset)."""
        self._closing = True
        self._cancel_timer()
        if self._transport is not None:
            self._transport.abort()

    # --- timers ---------------------------------------------------------------------------------

    def _deadline(self) -> float | None:
        deadlines: list[float] = []
        if self._session is not None:
            session_deadline = self._session.next_deadline()
            if session_deadline is not None:
                deadlines.append(session_deadline)
        tunnel = self._tunnel
        if tunnel is not None:
            tunnel_deadline = tunnel.next_deadline()
            if tunnel_deadline is not None:
                deadlines.append(tunnel_deadline)
        if self._session is None and (tunnel is None or tunnel.state is TunnelState.IDLE):
            # nothing else watches a connection that has no session and no open tunnel
            deadlines.append(self._last_heard + self._gateway.session_timeout)
        return min(deadlines, default=None)

    def _reschedule(self) -> None:
        if self._closing:
            return
        deadline = self._deadline()
        if deadline is None:
            self._cancel_timer()
            return
        if self._timer is not None and self._timer_at <= deadline:
            return  # fires earlier; it reschedules when it finds nothing to do
        self._cancel_timer()
        self._timer = self._loop.call_at(deadline, self._on_timer)
        self._timer_at = deadline

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = math.inf

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = math.inf
        if self._closing:
            return
        now = self._loop.time()
        if self._session is not None:
            self._session_events(self._session.tick(now), now)
        if self._tunnel is not None and not self._closing:
            self._tunnel_events(self._tunnel.tick(now), now)
        if (
            not self._closing
            and self._session is None
            and (self._tunnel is None or self._tunnel.state is TunnelState.IDLE)
            and now >= self._last_heard + self._gateway.session_timeout
        ):
            _LOGGER.info("closing %s: silent for %s s", self._peer, self._gateway.session_timeout)
            self.close()
        self._reschedule()


def _service(frame: bytes) -> int:
    return int.from_bytes(frame[2:4], "big")
