"""Find KNX IP interfaces over UDP (multicast search, unicast description), and answer.

Both sides of discovery: ``search_gateways`` / ``describe_gateway`` are a thin asyncio edge
over the frame codec in knxip (search never raises on network trouble: it returns what it
found); ``DiscoveryResponder`` is the sans-I/O answering side a gateway puts behind its UDP
socket (datagram in, answer and destination out).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from . import knxip
from .address import IndividualAddress
from .errors import FrameError, GatewayUnreachableError, ResponseTimeoutError

_LOGGER = logging.getLogger(__name__)

MULTICAST_GROUP = knxip.SYSTEM_MULTICAST_ADDRESS
KNX_PORT = knxip.PORT
SEARCH_TIMEOUT = 2.0
DESCRIPTION_TIMEOUT = 2.0

# Search request parameter types (SEARCH_REQUEST_EXTENDED); bit 7 marks "mandatory".
_SRP_MANDATORY: Final = 0x80
_SRP_PROGRAMMING_MODE: Final = 0x01
_SRP_MAC_ADDRESS: Final = 0x02
_SRP_SERVICE: Final = 0x03
_SRP_REQUEST_DIBS: Final = 0x04
_SRP_HEADER_LENGTH: Final = 2
# DeviceInfoDIB status bit 0: the device is in programming mode.
_PROGRAMMING_MODE: Final = 0x01

# Service family ids of DIB 0x02 / 0x06 (names kept for callers; the values live in knxip).
FAMILY_TUNNELLING = knxip.ServiceFamily.TUNNELLING
FAMILY_SECURITY = knxip.ServiceFamily.SECURITY
TUNNELLING_TCP_VERSION = knxip.TUNNELLING_TCP_VERSION


@dataclass(frozen=True, slots=True)
class GatewayDescriptor:
    """What a KNX IP interface says about itself."""

    ip: str
    port: int
    name: str
    individual_address: IndividualAddress
    supports_tunnelling_tcp: bool
    supports_secure: bool
    tunnelling_requires_secure: bool
    tunnel_slots: tuple[knxip.TunnelSlot, ...]


def descriptor_from_dibs(
    ip: str, port: int, dibs: tuple[knxip.DIB, ...]
) -> GatewayDescriptor | None:
    """Build a descriptor; None when the device info DIB is missing (not a usable answer)."""
    info = next((d for d in dibs if isinstance(d, knxip.DeviceInfoDIB)), None)
    if info is None:
        return None
    families: tuple[tuple[int, int], ...] = ()
    slots: tuple[knxip.TunnelSlot, ...] = ()
    for dib in dibs:
        if isinstance(dib, knxip.SupportedServiceFamiliesDIB):
            families = dib.families
        elif isinstance(dib, knxip.TunnellingInfoDIB):
            slots = dib.slots
    tunnelling_versions = [v for f, v in families if f == FAMILY_TUNNELLING]
    return GatewayDescriptor(
        ip=ip,
        port=port,
        name=info.name,
        individual_address=info.individual_address,
        supports_tunnelling_tcp=any(v >= TUNNELLING_TCP_VERSION for v in tunnelling_versions),
        supports_secure=any(f == FAMILY_SECURITY for f, _ in families),
        tunnelling_requires_secure=knxip.tunnelling_requires_secure(dibs),
        tunnel_slots=slots,
    )


class _Collector(asyncio.DatagramProtocol):
    """Collects parsed answers; ignores anything that is not a well-formed frame."""

    def __init__(self) -> None:
        self.answers: list[tuple[tuple[str, int], knxip.Frame]] = []
        self.arrived = asyncio.Event()
        self.error: OSError | None = None

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        try:
            frame = knxip.parse(data)
        except FrameError:
            _LOGGER.debug("Ignoring malformed discovery answer from %s", addr[0])
            return
        self.answers.append(((str(addr[0]), int(str(addr[1]))), frame))
        self.arrived.set()

    def error_received(self, exc: Exception) -> None:
        # e.g. ICMP port unreachable on a connected socket: nobody listens there
        if isinstance(exc, OSError):
            self.error = exc
            self.arrived.set()


def _search_socket(local_ip: str | None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setblocking(False)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 16)
    if local_ip:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(local_ip))
    sock.bind((local_ip or "", 0))
    return sock


def _search_hpai(local_ip: str | None, port: int) -> knxip.HPAI:
    """Where answers go: our address when known, else route back (0.0.0.0:0, "NAT"): a
    wildcard address with a real port would name no host at all."""
    if local_ip:
        return knxip.HPAI(knxip.HostProtocol.UDP, local_ip, port)
    return knxip.HPAI.ROUTE_BACK_UDP


def _descriptors(
    answers: list[tuple[tuple[str, int], knxip.Frame]],
) -> list[GatewayDescriptor]:
    """One descriptor per gateway; an extended answer (with DIBs 0x06/0x07) wins over a
    basic one from the same gateway, whatever order they arrived in."""
    found: dict[tuple[str, int], tuple[bool, GatewayDescriptor]] = {}
    for (ip, _), answer in answers:
        if not isinstance(answer, knxip.SearchResponse | knxip.SearchResponseExtended):
            continue
        control = answer.control
        answer_ip = ip if control.ip in ("0.0.0.0", "") else control.ip  # noqa: S104
        descriptor = descriptor_from_dibs(answer_ip, control.port or KNX_PORT, answer.dibs)
        if descriptor is None:
            continue
        extended = isinstance(answer, knxip.SearchResponseExtended)
        key = (descriptor.ip, descriptor.port)
        if key not in found or extended or not found[key][0]:
            found[key] = (extended, descriptor)
    return [descriptor for _, descriptor in found.values()]


async def _collect(collector: _Collector, seconds: float, *, stop_early: bool) -> None:
    """Wait ``seconds``, or only until an extended answer when ``stop_early``."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                await collector.arrived.wait()
                collector.arrived.clear()
                if stop_early and any(
                    isinstance(frame, knxip.SearchResponseExtended)
                    for _, frame in collector.answers
                ):
                    return


async def search_gateways(
    timeout: float = SEARCH_TIMEOUT,  # noqa: ASYNC109 - the contract's time budget
    *,
    local_ip: str | None = None,
    target: tuple[str, int] | None = None,
) -> list[GatewayDescriptor]:
    """SEARCH_REQUEST_EXTENDED and SEARCH_REQUEST to the KNX multicast group (or to a
    unicast ``target`` (host, port), which returns as soon as it answered) and the
    gateways that answered within ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    try:
        sock = _search_socket(local_ip)
        transport, collector = await loop.create_datagram_endpoint(_Collector, sock=sock)
    except Exception as err:  # any socket trouble means "found nothing"
        _LOGGER.debug("KNX search not possible here: %s", err)
        return []
    destination = target or (MULTICAST_GROUP, KNX_PORT)
    try:
        hpai = _search_hpai(local_ip, int(sock.getsockname()[1]))
        requests: tuple[knxip.Frame, ...] = (
            knxip.SearchRequestExtended(hpai),
            knxip.SearchRequest(hpai),
        )
        for request in requests:
            with contextlib.suppress(OSError):
                transport.sendto(knxip.encode(request), destination)
        await _collect(collector, timeout, stop_early=target is not None)
    finally:
        transport.close()
    return _descriptors(collector.answers)


async def describe_gateway(
    host: str,
    port: int = KNX_PORT,
    timeout: float = DESCRIPTION_TIMEOUT,  # noqa: ASYNC109 - the contract's time budget
) -> GatewayDescriptor:
    """Unicast DESCRIPTION_REQUEST; raises ResponseTimeoutError when the gateway stays silent."""
    loop = asyncio.get_running_loop()
    try:
        transport, collector = await loop.create_datagram_endpoint(
            _Collector, remote_addr=(host, port)
        )
    except OSError as err:
        raise GatewayUnreachableError(f"cannot reach {host}:{port} over UDP: {err}") from err
    try:
        local_ip, local_port = transport.get_extra_info("sockname")[:2]
        request = knxip.DescriptionRequest(knxip.HPAI(knxip.HostProtocol.UDP, local_ip, local_port))
        transport.sendto(knxip.encode(request))
        async with asyncio.timeout(timeout):
            while True:
                await collector.arrived.wait()
                collector.arrived.clear()
                if collector.error is not None:
                    raise GatewayUnreachableError(
                        f"{host}:{port} refused the description request: {collector.error}"
                    )
                for _, frame in collector.answers:
                    if isinstance(frame, knxip.DescriptionResponse):
                        descriptor = descriptor_from_dibs(host, port, frame.dibs)
                        if descriptor is not None:
                            return descriptor
    except TimeoutError as err:
        raise ResponseTimeoutError(
            f"{host}:{port} did not answer a KNXnet/IP description request within {timeout} s"
        ) from err
    finally:
        transport.close()


# --- answering: the gateway's side -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiscoveryAnswer:
    """A datagram to send and where to."""

    data: bytes
    target: tuple[str, int]


class DiscoveryResponder:
    """Sans-I/O answers to SEARCH_REQUEST(_EXTENDED) and DESCRIPTION_REQUEST.

    ``dibs(extended)`` gives the device's DIBs as they are now (tunnel slots change) and
    ``control`` its control endpoint; search parameters are matched against those DIBs. A
    plain CONNECT_REQUEST over UDP gets an immediate refusal when ``udp_tunnelling`` is off,
    so that a client does not wait for its timeout.
    """

    def __init__(
        self,
        dibs: Callable[[bool], tuple[knxip.DIB, ...]],
        control: Callable[[], knxip.HPAI],
        *,
        udp_tunnelling: bool = False,
    ) -> None:
        self._dibs = dibs
        self._control = control
        self._udp_tunnelling = udp_tunnelling

    def receive_datagram(self, data: bytes, source: tuple[str, int]) -> DiscoveryAnswer | None:
        """The answer to one datagram, or None (malformed, not ours to answer, filtered)."""
        try:
            frame = knxip.parse(data)
        except FrameError:
            _LOGGER.debug("ignoring a malformed datagram from %s:%s", *source)
            return None
        answer = self.answer(frame)
        if answer is None:
            return None
        data_out, hpai = answer
        return DiscoveryAnswer(data_out, reply_target(hpai, source))

    def answer(self, frame: knxip.Frame) -> tuple[bytes, knxip.HPAI] | None:
        """The encoded answer to a parsed frame and the HPAI it names, or None."""
        match frame:
            case knxip.SearchRequestExtended():
                dibs = self._dibs(True)
                if not search_parameters_match(frame.srp, dibs):
                    return None
                extended = knxip.SearchResponseExtended(self._control(), dibs)
                return knxip.encode(extended), frame.discovery
            case knxip.SearchRequest():
                basic = knxip.SearchResponse(self._control(), self._dibs(False))
                return knxip.encode(basic), frame.discovery
            case knxip.DescriptionRequest():
                return knxip.encode(knxip.DescriptionResponse(self._dibs(True))), frame.control
            case knxip.ConnectRequest() if not self._udp_tunnelling:
                refusal = knxip.ConnectResponse(0, knxip.ErrorCode.E_CONNECTION_TYPE)
                return knxip.encode(refusal), frame.control
            case _:
                return None


def search_parameters_match(srp: bytes, dibs: tuple[knxip.DIB, ...]) -> bool:
    """Whether SEARCH_REQUEST_EXTENDED parameters select the device these DIBs describe."""
    info = knxip.device_info(dibs)
    offset = 0
    while offset + _SRP_HEADER_LENGTH <= len(srp):
        size, kind = srp[offset], srp[offset + 1]
        data = srp[offset + _SRP_HEADER_LENGTH : offset + size]
        selector = kind & ~_SRP_MANDATORY
        if selector == _SRP_PROGRAMMING_MODE and not (
            info is not None and info.status & _PROGRAMMING_MODE
        ):
            return False
        if selector == _SRP_MAC_ADDRESS and (info is None or data != info.mac_address):
            return False
        if selector == _SRP_SERVICE and not _supports_service(data, dibs):
            return False
        if selector > _SRP_REQUEST_DIBS and kind & _SRP_MANDATORY:
            return False  # a mandatory parameter we do not know
        offset += max(size, _SRP_HEADER_LENGTH)
    return True


def _supports_service(data: bytes, dibs: tuple[knxip.DIB, ...]) -> bool:
    if len(data) < 2:
        return False
    version = knxip.service_family_version(dibs, data[0])
    return version is not None and version >= data[1]


def reply_target(hpai: knxip.HPAI | None, source: tuple[str, int]) -> tuple[str, int]:
    """Where a UDP answer goes: the HPAI's endpoint, or the sender's (route back / NAT)."""
    if hpai is None or hpai.ip == "0.0.0.0" or hpai.port == 0:  # noqa: S104
        return source
    return hpai.ip, hpai.port
