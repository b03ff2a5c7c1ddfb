"""Tunnel selection as pure logic: candidates, their order and the final error (no sockets)."""

from __future__ import annotations

import pytest

from custom_components.knx_secure.knx import knxip
from custom_components.knx_secure.knx.address import IndividualAddress
from custom_components.knx_secure.knx.discovery import GatewayDescriptor
from custom_components.knx_secure.knx.errors import (
    AuthenticationError,
    DeviceAuthenticationError,
    KeyringError,
    NoFreeTunnelError,
)
from custom_components.knx_secure.knx.keyring import Keyring, KeyringInterface
from custom_components.knx_secure.knx.tunnel_choice import (
    Attempt,
    TunnelChoice,
    TunnelRefusedError,
    candidates,
    final_error,
    needs_description,
)

HOST = IndividualAddress.parse("1.1.0")


def ia(text: str) -> IndividualAddress:
    return IndividualAddress.parse(text)


def describe(host: IndividualAddress, free: dict[str, bool]) -> GatewayDescriptor:
    slots = tuple(
        knxip.TunnelSlot(ia(address), usable=True, free=is_free, authorised=False)
        for address, is_free in free.items()
    )
    return GatewayDescriptor("127.0.0.1", 3671, "gw", host, True, True, True, slots)


def addresses(
    keyring: Keyring,
    choice: TunnelChoice | None = None,
    *,
    description: GatewayDescriptor | None = None,
    last: KeyringInterface | None = None,
) -> list[str]:
    found = candidates(keyring, choice or TunnelChoice(), description=description, last=last)
    return [str(t.individual_address) for t in found]


def test_only_an_automatic_choice_without_host_asks_the_gateway() -> None:
    assert needs_description(TunnelChoice())
    assert needs_description(TunnelChoice(user_id=3))
    assert not needs_description(TunnelChoice(host=HOST))
    assert not needs_description(TunnelChoice(individual_address=ia("1.1.254")))


def test_free_tunnels_first_then_unknown_then_busy(keyring: Keyring) -> None:
    description = describe(HOST, {"1.1.255": False, "1.1.253": True})
    order = addresses(keyring, description=description)
    assert order[0] == "1.1.253"  # free
    assert set(order[1:3]) == {"1.1.254", "1.1.252"}  # not described
    assert order[3] == "1.1.255"  # busy


def test_the_tunnel_used_last_comes_first_unless_busy(keyring: Keyring) -> None:
    last = keyring.interface(ia("1.1.252"))
    assert addresses(keyring, last=last)[0] == "1.1.252"
    busy = describe(HOST, {"1.1.252": False})
    assert addresses(keyring, last=last, description=busy)[-1] == "1.1.252"


def test_an_unknown_host_in_the_description_falls_back_to_every_host(keyring: Keyring) -> None:
    stranger = describe(ia("9.9.9"), {})
    assert len(addresses(keyring, description=stranger)) == 4


def test_user_and_address_choices(keyring: Keyring) -> None:
    assert addresses(keyring, TunnelChoice(user_id=3)) == ["1.1.254"]
    assert addresses(keyring, TunnelChoice(individual_address=ia("1.1.253"))) == ["1.1.253"]
    with pytest.raises(KeyringError, match="user 4, not to user 2"):
        candidates(keyring, TunnelChoice(individual_address=ia("1.1.253"), user_id=2))
    with pytest.raises(KeyringError, match="no tunnel of user 99"):
        candidates(keyring, TunnelChoice(user_id=99))
    with pytest.raises(KeyringError, match="not a tunnelling interface"):
        candidates(keyring, TunnelChoice(individual_address=ia("1.1.1")))
    with pytest.raises(KeyringError, match=r"no tunnels of host 2\.2\.0"):
        candidates(keyring, TunnelChoice(host=ia("2.2.0")))


def test_the_final_error_names_every_tunnel_tried(keyring: Keyring) -> None:
    one, two = (keyring.interface(ia(a)) for a in ("1.1.255", "1.1.254"))
    assert one is not None
    assert two is not None
    busy = Attempt(one, TunnelRefusedError("refused", "busy"))
    refused = Attempt(two, AuthenticationError("nope"))
    error = final_error([busy, refused])
    assert isinstance(error, NoFreeTunnelError)
    assert "1.1.255 (busy)" in str(error)
    assert "1.1.254 (authentication failed)" in str(error)
    both_auth = final_error([Attempt(one, AuthenticationError("a")), refused])
    assert isinstance(both_auth, AuthenticationError)
    assert "every tunnel tried" in str(both_auth)
    impostor = DeviceAuthenticationError("impostor")
    assert final_error([Attempt(one, impostor), Attempt(two, impostor)]) is impostor
    assert isinstance(final_error([busy]), NoFreeTunnelError)
    assert isinstance(final_error([]), KeyringError)
