"""Which tunnels the client tries, in which order, and the error when all of them failed.

Pure logic over the keyring and what the gateway said about itself (``GatewayDescriptor``):
no sockets, no clock. ``SecureTunnelClient`` asks ``needs_description`` whether to ask the
gateway first, then ``candidates`` for the list, and ``final_error`` after the last failure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .address import IndividualAddress
from .discovery import GatewayDescriptor
from .errors import (
    AuthenticationError,
    ConnectRefusedError,
    DeviceAuthenticationError,
    KeyringError,
    KNXSecureError,
    NoFreeTunnelError,
)
from .keyring import InterfaceType, Keyring, KeyringInterface

__all__ = [
    "Attempt",
    "TunnelChoice",
    "TunnelRefusedError",
    "candidates",
    "final_error",
    "needs_description",
]

_LOGGER = logging.getLogger(__name__)

# SESSION_AUTHENTICATE carries user ids 1..127 (1 management, 2..127 tunnelling users).
_USER_IDS = range(1, 128)


class TunnelRefusedError(ConnectRefusedError):
    """CONNECT_RESPONSE with an error status; ``detail`` says why in a word or two."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class TunnelChoice:
    """Which tunnel to open.

    - ``individual_address``: exactly that tunnel of the keyring;
    - ``user_id``: the tunnel of that user (of ``host``, or of the gateway's host);
    - neither: automatic; every tunnel of the gateway's host, free ones first.

    ``host`` names the gateway's individual address in the keyring; without it the client
    asks the gateway (UDP description) and falls back to the keyring's hosts in order.
    """

    individual_address: IndividualAddress | None = None
    user_id: int | None = None
    host: IndividualAddress | None = None

    @property
    def automatic(self) -> bool:
        return self.individual_address is None and self.user_id is None


@dataclass(slots=True)
class Attempt:
    """One tunnel tried and why it failed."""

    interface: KeyringInterface
    error: KNXSecureError

    @property
    def reason(self) -> str:
        match self.error:
            case DeviceAuthenticationError():
                return "gateway failed device authentication"
            case AuthenticationError():
                return "authentication failed"
            case TunnelRefusedError(detail=detail):
                return detail
            case _:
                return str(self.error)

    def __str__(self) -> str:
        return f"{self.interface.individual_address} ({self.reason})"


def needs_description(choice: TunnelChoice) -> bool:
    """Whether the gateway's own description decides the host (no tunnel or host given)."""
    return choice.individual_address is None and choice.host is None


def candidates(
    keyring: Keyring,
    choice: TunnelChoice,
    *,
    description: GatewayDescriptor | None = None,
    last: KeyringInterface | None = None,
    gateway: str = "the gateway",
) -> list[KeyringInterface]:
    """The tunnels to try, in order (``last``: the tunnel used before, on a reconnect);
    KeyringError when the keyring has none that fits the choice."""
    if choice.individual_address is not None:
        return [_chosen_tunnel(keyring, choice, choice.individual_address)]
    hosts = _hosts(keyring, choice, description, last, gateway)
    tunnels = [t for host in hosts for t in keyring.tunnels_of_host(host)]
    if choice.user_id is not None:
        tunnels = [t for t in tunnels if t.user_id == choice.user_id]
        if not tunnels:
            raise KeyringError(
                f"the keyring has no tunnel of user {choice.user_id} for "
                f"{', '.join(map(str, hosts)) or 'any host'}"
            )
        return [_usable(t) for t in tunnels]
    tunnels = [t for t in tunnels if _is_secure_tunnel(t)]
    if not tunnels:
        raise KeyringError("the keyring holds no tunnel with a user id and password")
    return _ordered(tunnels, description, last)


def _chosen_tunnel(
    keyring: Keyring, choice: TunnelChoice, address: IndividualAddress
) -> KeyringInterface:
    interface = keyring.interface(address)
    if interface is None or interface.type is not InterfaceType.TUNNELING:
        raise KeyringError(f"tunnel {address} is not a tunnelling interface of the keyring")
    if choice.user_id is not None and interface.user_id != choice.user_id:
        raise KeyringError(
            f"tunnel {address} belongs to user {interface.user_id}, not to user {choice.user_id}"
        )
    return _usable(interface)


def _hosts(
    keyring: Keyring,
    choice: TunnelChoice,
    description: GatewayDescriptor | None,
    last: KeyringInterface | None,
    gateway: str,
) -> list[IndividualAddress]:
    """The gateway's host address if known (choice or description), else every host."""
    hosts = keyring.hosts()
    if choice.host is not None:
        if choice.host not in hosts:
            raise KeyringError(f"the keyring has no tunnels of host {choice.host}")
        return [choice.host]
    if description is not None:
        if description.individual_address in hosts:
            return [description.individual_address]
        _LOGGER.warning(
            "Gateway %s says it is %s, which has no tunnels in the keyring; trying %s",
            gateway,
            description.individual_address,
            ", ".join(map(str, hosts)),
        )
    if last is not None:
        # a reconnect: the host of the tunnel used before first
        hosts = sorted(hosts, key=lambda h: h != last.host)
    return hosts


def _ordered(
    tunnels: list[KeyringInterface],
    description: GatewayDescriptor | None,
    last: KeyringInterface | None,
) -> list[KeyringInterface]:
    """The tunnel used last first (a reconnect keeps its address), then free ones."""
    free: dict[IndividualAddress, bool] = {}
    if description is not None:
        free = {s.individual_address: s.free for s in description.tunnel_slots}

    def order(interface: KeyringInterface) -> tuple[int, int]:
        is_last = last is not None and interface == last
        slot_free = free.get(interface.individual_address) if interface.individual_address else None
        rank = 0 if slot_free is True else 2 if slot_free is False else 1
        return (0 if is_last and slot_free is not False else 1, rank)

    return sorted(tunnels, key=order)


def _is_secure_tunnel(interface: KeyringInterface) -> bool:
    return interface.user_id in _USER_IDS and interface.password is not None


def _usable(interface: KeyringInterface) -> KeyringInterface:
    if interface.user_id is not None and interface.user_id not in _USER_IDS:
        raise KeyringError(
            f"tunnel {interface.individual_address} has user id {interface.user_id} in the "
            "keyring, which is not a KNX IP Secure user id (1..127)"
        )
    if interface.user_id is None or interface.password is None:
        raise KeyringError(
            f"tunnel {interface.individual_address} has no user id or password in the keyring: "
            "it is not a secure tunnel"
        )
    return interface


def final_error(attempts: list[Attempt]) -> KNXSecureError:
    """The error once every candidate failed; it names each tunnel tried and why."""
    if not attempts:
        return KeyringError("the keyring holds no tunnel for this gateway")
    if len(attempts) == 1:
        error = attempts[0].error
        if isinstance(error, ConnectRefusedError):
            return NoFreeTunnelError(f"no free tunnel among {attempts[0]}")
        return error
    listing = ", ".join(map(str, attempts))
    if all(isinstance(a.error, DeviceAuthenticationError) for a in attempts):
        return attempts[0].error
    if all(isinstance(a.error, AuthenticationError | DeviceAuthenticationError) for a in attempts):
        return AuthenticationError(f"authentication failed on every tunnel tried: {listing}")
    return NoFreeTunnelError(f"no free tunnel among {listing}")
