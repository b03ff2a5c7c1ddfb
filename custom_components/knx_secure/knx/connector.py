"""Opening one tunnel: candidates in order, keys, TCP, handshake phases, each with its timeout.

``Connector.establish`` asks the gateway to describe itself when the choice needs it, tries
the tunnels ``tunnel_choice`` lists until one opens, and returns the connected ``Link``;
when none does, the error names every tunnel tried. The client owns the result.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final

from . import tunnel_choice
from .address import IndividualAddress
from .cemi import LData
from .client_types import Connection, Timeouts
from .crypto import derive_session_keys
from .discovery import GatewayDescriptor, describe_gateway
from .errors import (
    AuthenticationError,
    ConnectRefusedError,
    DeviceAuthenticationError,
    GatewayUnreachableError,
    KNXSecureError,
    ResponseTimeoutError,
)
from .keyring import Keyring, KeyringInterface
from .link import Link
from .session import SecureSession
from .tunnel import TunnelClient
from .tunnel_choice import Attempt, TunnelChoice

__all__ = ["MACHINE_GRACE", "Connector"]

_LOGGER = logging.getLogger(__name__)

# Extra time the machines get over the edge's own phase timeouts, so that the edge's
# clearer messages win a tie.
MACHINE_GRACE: Final = 1.0


class Connector:
    """Opens links to one gateway for one client (its keyring, choice, timeouts, serial)."""

    def __init__(
        self,
        keyring: Keyring,
        address: tuple[str, int],
        choice: TunnelChoice,
        timeouts: Timeouts,
        *,
        serial: bytes,
        connection: Connection = Connection.TUNNEL_SECURE,
        on_telegram: Callable[[Link, LData], None],
        on_closed: Callable[[Link, KNXSecureError | None], None],
    ) -> None:
        self._connection = connection
        self._keyring = keyring
        self._address = address
        self._address_text = f"{address[0]}:{address[1]}"
        self._choice = choice
        self._timeouts = timeouts
        self._serial = serial
        self._on_telegram = on_telegram
        self._on_closed = on_closed
        self._attempting: set[Link] = set()
        self._description: GatewayDescriptor | None = None
        self._description_failed = False

    @property
    def description(self) -> GatewayDescriptor | None:
        """What the gateway said about itself over UDP, if it was asked and answered."""
        return self._description

    def abort_attempts(self) -> None:
        """End every link still opening (the client is closing)."""
        for attempt in list(self._attempting):
            attempt.fail(None)

    async def establish(self, last: KeyringInterface | None = None) -> Link:
        """A connected link: the candidate tunnels in order until one opens (``last``: the
        tunnel used before, tried first); the error naming every tunnel tried."""
        description = None
        if tunnel_choice.needs_description(self._choice):
            description = await self._describe()
        candidates = tunnel_choice.candidates(
            self._keyring,
            self._choice,
            description=description,
            last=last,
            gateway=self._address_text,
        )
        attempts: list[Attempt] = []
        refused_hosts: set[IndividualAddress | None] = set()
        for interface in candidates:
            if interface.host in refused_hosts:
                continue
            try:
                return await self._attempt(interface)
            except (AuthenticationError, ConnectRefusedError) as err:
                _LOGGER.debug("Tunnel %s: %s", interface.individual_address, err)
                attempts.append(Attempt(interface, err))
            except DeviceAuthenticationError as err:
                # every tunnel of that host shares the device authentication code
                _LOGGER.warning("%s", err)
                attempts.append(Attempt(interface, err))
                refused_hosts.add(interface.host)
        raise tunnel_choice.final_error(attempts)

    async def _describe(self) -> GatewayDescriptor | None:
        if self._description_failed and self._description is None:
            return None  # it did not answer UDP before: do not wait for it again
        try:
            self._description = await describe_gateway(
                *self._address, timeout=self._timeouts.description
            )
        except (KNXSecureError, OSError) as err:
            _LOGGER.debug("No description from %s: %s", self._address_text, err)
            self._description_failed = True
            return None
        return self._description

    async def _attempt(self, interface: KeyringInterface) -> Link:
        """One connection, (handshake) and tunnel for ``interface``."""
        timeouts = self._timeouts
        plain = not self._connection.secure
        session = None if plain else await self._secure_session(interface)
        tunnel = TunnelClient(
            # a plain client names the tunnel it wants; a secure user's tunnel is its own
            individual_address=interface.individual_address if plain else None,
            connect_timeout=timeouts.connect_response + MACHINE_GRACE,
            heartbeat_interval=timeouts.heartbeat,
            heartbeat_answer_timeout=timeouts.heartbeat_answer,
            heartbeat_misses=timeouts.heartbeat_misses,
            confirmation_timeout=timeouts.confirmation,
            disconnect_timeout=timeouts.disconnect,
            datagram=self._connection is Connection.TUNNEL_UDP,
        )
        link = Link(
            interface,
            session,
            tunnel,
            address_text=self._address_text,
            confirmation_timeout=timeouts.confirmation,
            on_telegram=self._on_telegram,
            on_closed=self._on_closed,
            datagram_to=self._address if tunnel.datagram else None,
        )
        self._attempting.add(link)
        try:
            if tunnel.datagram:
                await self._open_udp(link)
            else:
                await self._open_tcp(link)
            await self._handshake(link, interface)
        except BaseException:
            await link.close(timeouts.disconnect)
            raise
        finally:
            self._attempting.discard(link)
        address = link.tunnel.individual_address
        if address != interface.individual_address:
            _LOGGER.warning(
                "Gateway gave tunnel %s to user %s, the keyring says %s",
                address,
                interface.user_id,
                interface.individual_address,
            )
        return link

    async def _secure_session(self, interface: KeyringInterface) -> SecureSession:
        """The client session machine for ``interface`` (its keys derived off the loop)."""
        assert interface.user_id is not None
        assert interface.password is not None
        timeouts = self._timeouts
        if interface.device_authentication is None:
            _LOGGER.warning(
                "The keyring has no device authentication code for %s: the gateway at %s "
                "cannot be authenticated",
                interface.host,
                self._address_text,
            )
        users, device_key = await derive_session_keys(
            {interface.user_id: interface.password}, interface.device_authentication
        )
        return SecureSession.client(
            user_id=interface.user_id,
            user_password_key=users[interface.user_id],
            device_authentication_key=device_key,
            serial=self._serial,
            keepalive_interval=timeouts.keepalive,
            handshake_timeout=max(timeouts.session_response, timeouts.authenticate) + MACHINE_GRACE,
        )

    async def _handshake(self, link: Link, interface: KeyringInterface) -> None:
        """Wait for each phase in turn; each has its own timeout and message."""
        timeouts = self._timeouts
        await self._phase(
            link.response_received,
            timeouts.session_response,
            f"the gateway {self._address_text} did not answer the secure session request "
            f"within {timeouts.session_response} s (is it a KNX IP Secure gateway?)",
        )
        await self._phase(
            link.established,
            timeouts.authenticate,
            f"the gateway {self._address_text} did not answer the authentication of user "
            f"{interface.user_id} within {timeouts.authenticate} s",
        )
        await self._phase(
            link.tunnel_connected,
            timeouts.connect_response,
            f"the gateway {self._address_text} did not answer the tunnel connect request "
            f"within {timeouts.connect_response} s",
        )

    async def _open_tcp(self, link: Link) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeouts.tcp_connect):
                await loop.create_connection(lambda: link.driver, *self._address)
        except TimeoutError as err:
            raise GatewayUnreachableError(
                f"the gateway {self._address_text} did not accept a TCP connection within "
                f"{self._timeouts.tcp_connect} s"
            ) from err
        except OSError as err:
            reason = err.strerror or str(err)
            raise GatewayUnreachableError(
                f"cannot reach the gateway at {self._address_text} over TCP: {reason}"
            ) from err

    async def _open_udp(self, link: Link) -> None:
        """A UDP socket towards the gateway (its port the data and control endpoint)."""
        loop = asyncio.get_running_loop()
        try:
            await loop.create_datagram_endpoint(lambda: link.driver, remote_addr=self._address)
        except OSError as err:
            reason = err.strerror or str(err)
            raise GatewayUnreachableError(
                f"cannot reach the gateway at {self._address_text} over UDP: {reason}"
            ) from err

    @staticmethod
    async def _phase(future: asyncio.Future[None], limit: float, message: str) -> None:
        try:
            async with asyncio.timeout(limit):
                await asyncio.shield(future)
        except TimeoutError as err:
            if future.done():
                future.result()  # the link failed at the same moment: its error
            raise ResponseTimeoutError(message) from err
