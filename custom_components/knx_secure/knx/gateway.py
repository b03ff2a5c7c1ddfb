"""The virtual KNX IP Secure gateway: a tunnelling server in front of a simulated bus.

A thin asyncio edge over the sans-I/O machines: ``SecureSession`` (server role) and
``TunnelServer`` decide everything about frames; this module moves bytes between sockets,
timers and those machines, and between the tunnels and the simulated bus (``bus.py``).
Each client's endpoint (secure session or plain tunnel) is a ``Connection``
(``gateway_connection.py``); this module keeps the server, its sockets and the bus.

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
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Final

from . import knxip
from .address import GroupAddress, IndividualAddress
from .bus import Bus, default_device_address
from .cemi import LData
from .crypto import derive_session_keys
from .devices import SimulatedDevice, SwitchActuator, SwitchSpec
from .discovery import DiscoveryResponder
from .driver import Driver
from .errors import KeyringError, SessionError
from .gateway_connection import Connection, PeerTransport
from .keyring import Keyring, KeyringInterface
from .knxip import ServiceFamily, ServiceType
from .session import (
    DEFAULT_SESSION_TIMEOUT,
    FrameDropped,
    OutgoingFrame,
    SecureSession,
)
from .tunnel import (
    TunnelServer,
    TunnelSlotConfig,
    TunnelSlots,
)

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_SESSION_TIMEOUT",
    "DEFAULT_STATUS_DELAY",
    "MAX_UNAUTHENTICATED_CONNECTIONS",
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

DEVICE_NAME: Final = "KNX Secure virtual gateway"
MAX_APDU_LENGTH: Final = 254
MULTICAST_ADDRESS: Final = knxip.SYSTEM_MULTICAST_ADDRESS
SECURITY_VERSION: Final = 1
_CORE_VERSION: Final = 2
_DEVICE_MANAGEMENT_VERSION: Final = 1
_TUNNELLING_VERSION: Final = knxip.TUNNELLING_TCP_VERSION
_SERIAL_PREFIX: Final = b"\x00\xfa"
_MAC_PREFIX: Final = b"\x02\x00"  # locally administered
_MAX_SESSION_ID: Final = 0xFFFF
_MANAGEMENT_USER: Final = 1

#: Connections not yet authenticated (no secure session, no open plain tunnel) a gateway
#: keeps at once; a new one beyond it closes the oldest of them.
MAX_UNAUTHENTICATED_CONNECTIONS: Final = 16


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
        max_unauthenticated: int = MAX_UNAUTHENTICATED_CONNECTIONS,
        plain: bool = False,
    ) -> None:
        """``user_passwords`` overrides tunnel passwords by user id and
        ``device_authentication`` the device authentication code (to simulate an
        installation that differs from the keyring, or an impostor).
        ``max_unauthenticated`` caps the connections not yet authenticated (the oldest
        is closed beyond it); ``session_timeout`` is also how long one may stay so.
        ``plain``: also an interface without IP Secure: every tunnel is open to plain
        tunnelling over TCP and UDP (same port); without it secure tunnels refuse plain
        clients, as real secure interfaces do."""
        self._keyring = keyring
        self._host = host if host is not None else _host_with_most_tunnels(keyring)
        self._tunnels = [
            t for t in keyring.tunnels_of_host(self._host) if t.individual_address is not None
        ]
        if not self._tunnels:
            raise KeyringError(f"the keyring has no tunnel of host {self._host}")
        self._slots = TunnelSlots(
            (
                TunnelSlotConfig(t.individual_address, t.user_id)
                for t in self._tunnels
                if t.individual_address is not None
            ),
            open_to_plain=plain,
        )
        self._plain = plain
        self._has_plain_slots = plain or any(t.user_id is None for t in self._tunnels)
        #: Plain UDP tunnels by the client's address (control and data endpoint at once).
        self._udp_peers: dict[tuple[str, int], Connection] = {}
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
        self._devices: dict[IndividualAddress, SimulatedDevice] = {}
        self._bus_powered = False
        self._switches: dict[GroupAddress, SwitchActuator] = {}
        for spec in switches:
            self._add_switch(spec, status_delay)
        self._users: dict[int, bytes] = {}
        self._device_key: bytes | None = None
        self._keys_ready = False
        self._server: asyncio.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._udp_closed: asyncio.Future[None] | None = None
        # in order of arrival: the cap closes the oldest unauthenticated connection
        self._connections: dict[Connection, None] = {}
        self._max_unauthenticated = max_unauthenticated
        self._responder = DiscoveryResponder(
            lambda extended: self.dibs(extended=extended),
            self.control_hpai,
            udp_tunnelling=plain,
        )
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
            self.add_device(device)
        if not isinstance(device, SwitchActuator):
            raise ValueError(  # noqa: TRY004 - a clash of the installation, like the others
                f"device {address} is a {device.kind}, not a switch actuator"
            )
        device.add_channel(SwitchSpec(spec.write_ga, spec.status_ga, address))
        self._switches[spec.write_ga] = device

    def add_device(self, device: SimulatedDevice) -> None:
        """Attach a simulated device (built on ``bus`` and ``keyring``) to the bus."""
        if device.address in self._devices:
            raise ValueError(f"there is already a device {device.address}")
        self._devices[device.address] = device
        self._bus.attach(device)
        if self._bus_powered:
            device.power_up()

    def power_up_devices(self) -> None:
        """The bus powers up, once (the gateway or its router starts): every device runs its
        start (reads at start, its own timers); a device added later powers up as it joins."""
        if self._bus_powered:
            return
        self._bus_powered = True
        for device in tuple(self._devices.values()):
            device.power_up()

    def device(self, address: IndividualAddress | str) -> SimulatedDevice:
        """The simulated device with this individual address (KeyError if none)."""
        ia = IndividualAddress.parse(address) if isinstance(address, str) else address
        return self._devices[ia]

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on TCP and UDP (``address`` then tells the port)."""
        if self._server is not None:
            raise RuntimeError("the virtual gateway is already running")
        if not self._keys_ready:
            self._users, self._device_key = await derive_session_keys(
                dict(self._passwords), self._device_code
            )
            self._keys_ready = True
        loop = asyncio.get_running_loop()
        # a restart listens where the clients knew it: the port of the first start
        wanted = self._port
        attempts = PORT_PICK_ATTEMPTS if wanted == 0 else 1
        for attempt in range(1, attempts + 1):
            server = await loop.create_server(self._accept, self._bind, wanted)
            port = int(server.sockets[0].getsockname()[1])
            udp_closed: asyncio.Future[None] = loop.create_future()
            try:
                self._udp, _ = await loop.create_datagram_endpoint(
                    functools.partial(
                        _DiscoveryEndpoint,
                        self._responder,
                        udp_closed,
                        self._udp_tunnel_datagram if self._plain else None,
                    ),
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
        self.power_up_devices()
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
        # UDP tunnels say goodbye through the shared socket: close it after them
        await self._close_connections(graceful=True)
        if udp is not None:
            udp.close()
        await server.wait_closed()
        if udp_closed is not None:
            await udp_closed
        self.cancel_device_timers()
        _LOGGER.info("virtual KNX IP Secure gateway %s stopped", self._host)

    def cancel_device_timers(self) -> None:
        """Drop the devices' pending status reports (the router stops them too)."""
        for device in self._devices.values():
            device.cancel_pending()

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
                connection.close()
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
        """Open TCP connections (secure, plain or not yet known) and plain UDP tunnels."""
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
        return tuple(
            spec
            for device in self._devices.values()
            if isinstance(device, SwitchActuator)
            for spec in device.channels
        )

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
            "devices": self.device_list(),
        }

    def device_list(self) -> list[dict[str, str | None]]:
        """The simulated devices for a ready line: address, kind and name."""
        return [
            {"address": str(address), "kind": device.kind, "name": device.name}
            for address, device in self._devices.items()
        ]

    # --- for the connections and the discovery endpoint --------------------------------------

    @property
    def bus(self) -> Bus:
        return self._bus

    @property
    def keyring(self) -> Keyring:
        return self._keyring

    @property
    def serial(self) -> bytes:
        """The serial number in the gateway's wrappers (and its router's, ``router.py``)."""
        return self._serial

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

    def _accept(self) -> Driver:
        return Connection(self).driver

    def _udp_tunnel_datagram(self, data: bytes, source: tuple[str, int]) -> None:
        """A plain tunnelling datagram: to the client's connection (a CONNECT_REQUEST from
        a new address makes one on the shared socket)."""
        connection = self._udp_peers.get(source)
        udp = self._udp
        if connection is None:
            if udp is None:
                return  # stopping
            if knxip.service_of(data) != ServiceType.CONNECT_REQUEST:
                self._answer_unknown_channel(udp, data, source)
                return
            connection = Connection(self, datagram_peer=source)
            self._udp_peers[source] = connection
            connection.driver.connection_made(PeerTransport(udp, source, connection.driver))
        connection.driver.datagram_received(data, source)

    def _answer_unknown_channel(
        self, udp: asyncio.DatagramTransport, data: bytes, source: tuple[str, int]
    ) -> None:
        """A datagram of no open tunnel (e.g. from before a reset): a tunnel server without
        a channel answers it (CONNECTIONSTATE and DISCONNECT get E_CONNECTION_ID, so the
        client learns at once) or drops it."""
        loop = asyncio.get_running_loop()
        for event in TunnelServer(self._slots).receive(data, loop.time()):
            if isinstance(event, OutgoingFrame):
                udp.sendto(event.data, source)
            elif isinstance(event, FrameDropped):
                self.count_drop(str(event.reason))

    def udp_peer_closed(self, source: tuple[str, int]) -> None:
        self._udp_peers.pop(source, None)

    def connection_opened(self, connection: Connection) -> None:
        self._connections[connection] = None
        self.enforce_unauthenticated_cap()

    def connection_closed(self, connection: Connection) -> None:
        self._connections.pop(connection, None)

    def enforce_unauthenticated_cap(self) -> None:
        """Close the oldest unauthenticated connections beyond the cap."""
        waiting = [c for c in self._connections if not c.accepted and not c.closing]
        for connection in waiting[: max(len(waiting) - self._max_unauthenticated, 0)]:
            _LOGGER.info(
                "closing %s: more than %d unauthenticated connections",
                connection.peer,
                self._max_unauthenticated,
            )
            connection.abort()

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
                authorised=self._slots.plain_allowed(slot),
            )
            for slot in self._slots.slots
        )
        dibs.append(knxip.TunnellingInfoDIB(MAX_APDU_LENGTH, slots))
        return tuple(dibs)

    def control_hpai(self) -> knxip.HPAI:
        host, port = self.address
        return knxip.HPAI(knxip.HostProtocol.UDP, host, port)


#: Datagrams of an open plain UDP tunnel (the rest is the discovery responder's).
_TUNNELLING_SERVICES: Final = frozenset(
    {
        ServiceType.CONNECT_REQUEST,
        ServiceType.CONNECTIONSTATE_REQUEST,
        ServiceType.DISCONNECT_REQUEST,
        ServiceType.DISCONNECT_RESPONSE,
        ServiceType.TUNNELLING_REQUEST,
        ServiceType.TUNNELLING_ACK,
    }
)


class _DiscoveryEndpoint(asyncio.DatagramProtocol):
    """UDP: the discovery responder's socket (search, description); plain tunnelling
    datagrams go to ``tunnels`` when the gateway serves them, else UDP tunnels are refused."""

    def __init__(
        self,
        responder: DiscoveryResponder,
        closed: asyncio.Future[None],
        tunnels: Callable[[bytes, tuple[str, int]], None] | None = None,
    ) -> None:
        self._tunnels = tunnels
        self._responder = responder
        self._closed = closed
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self._transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        source = (str(addr[0]), int(str(addr[1])))
        if self._tunnels is not None and knxip.service_of(data) in _TUNNELLING_SERVICES:
            self._tunnels(data, source)
            return
        answer = self._responder.receive_datagram(data, source)
        if answer is None or self._transport is None:
            return
        _LOGGER.debug("datagram from %s:%s answered", *source)
        try:
            self._transport.sendto(answer.data, answer.target)
        except OSError as err:
            _LOGGER.debug("cannot answer %s:%s: %s", *answer.target, err)

    def error_received(self, exc: Exception) -> None:
        _LOGGER.debug("discovery endpoint: %s", exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if not self._closed.done():
            self._closed.set_result(None)
