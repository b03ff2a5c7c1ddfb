"""xknx 4.0.0 as an independent client of the virtual gateway.

Its secure session, tunnel, Data Secure and description code were written by others: when
they work against our gateway, the gateway speaks the protocol, not just our own dialect.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from xknx import XKNX
from xknx.dpt.payload import DPTBinary
from xknx.exceptions import CommunicationError
from xknx.io import ConnectionConfig, ConnectionType, SecureConfig
from xknx.telegram import GroupAddress as XknxGroupAddress
from xknx.telegram import IndividualAddress as XknxIndividualAddress
from xknx.telegram import Telegram
from xknx.telegram.apci import GroupValueResponse, GroupValueWrite
from xknx.tools import read_group_value

from custom_components.knx_secure.knx.address import GroupAddress
from custom_components.knx_secure.knx.gateway import SwitchSpec, VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring, KeyringInterface, load_keyring

from ..helpers import wait_for
from .conftest import KEYRING_BY_NAME, KEYRINGS, KeyringFixture

TIMEOUT = 5.0
SECURE_TEST = KEYRING_BY_NAME["Secure Test.knxkeys"]
PLAIN_WRITE_GA = GroupAddress.parse("1/1/1")
PLAIN_STATUS_GA = GroupAddress.parse("1/1/2")


def _tunnels_with_credentials(keyring: Keyring, host: object) -> list[KeyringInterface]:
    return [
        t
        for t in keyring.tunnels_of_host(host)  # type: ignore[arg-type]
        if t.user_id is not None and t.password is not None
    ]


def _keyrings_with_credentials() -> list[KeyringFixture]:
    usable = []
    for fixture in KEYRINGS:
        keyring = load_keyring(fixture.path, fixture.password)
        if any(_tunnels_with_credentials(keyring, h) for h in keyring.hosts()):
            usable.append(fixture)
    return usable


def scenario_addresses(keyring: Keyring, tunnel: KeyringInterface) -> SwitchSpec:
    """Write to a GA with a key that lists the tunnel as a sender if there is one, else
    any GA with a key; report on another GA with a key (or the same); plain GAs when the
    keyring has no key at all."""
    keyed = list(keyring.group_keys)
    if not keyed:
        return SwitchSpec(PLAIN_WRITE_GA, PLAIN_STATUS_GA)
    write = next((ga for ga in keyed if tunnel.individual_address in keyring.senders(ga)), keyed[0])
    status = next((ga for ga in keyed if ga != write), write)
    return SwitchSpec(write, status)


@dataclass
class Peer:
    """A running xknx and what it received."""

    xknx: XKNX
    telegrams: list[Telegram]

    async def write(self, ga: GroupAddress, on: bool) -> None:
        """GroupValueWrite; returns once the gateway confirmed it (L_Data.con)."""
        telegram = Telegram(
            destination_address=XknxGroupAddress(str(ga)), payload=GroupValueWrite(DPTBinary(on))
        )
        await self.xknx.cemi_handler.send_telegram(telegram)

    async def read(self, ga: GroupAddress) -> object:
        return await read_group_value(self.xknx, str(ga))

    async def wait_for(self, check: Callable[[Telegram], bool]) -> Telegram:
        async with asyncio.timeout(TIMEOUT):
            while True:
                for telegram in self.telegrams:
                    if check(telegram):
                        return telegram
                await asyncio.sleep(0.01)


@asynccontextmanager
async def xknx_peer(port: int, secure_config: SecureConfig) -> AsyncIterator[Peer]:
    received: list[Telegram] = []
    xknx = XKNX(
        connection_config=ConnectionConfig(
            connection_type=ConnectionType.TUNNELING_TCP_SECURE,
            gateway_ip="127.0.0.1",
            gateway_port=port,
            auto_reconnect=False,
            secure_config=secure_config,
        ),
        telegram_received_cb=received.append,
    )
    await asyncio.wait_for(xknx.start(), TIMEOUT)
    try:
        yield Peer(xknx, received)
    finally:
        await xknx.stop()


def credentials(tunnel: KeyringInterface, fixture: KeyringFixture | None = None) -> SecureConfig:
    """User credentials for the tunnel; with ``fixture`` also its keyring (Data Secure)."""
    return SecureConfig(
        user_id=tunnel.user_id,
        user_password=tunnel.password,
        device_authentication_password=tunnel.device_authentication,
        knxkeys_file_path=fixture.path if fixture else None,
        knxkeys_password=fixture.password if fixture else None,
    )


@asynccontextmanager
async def running(gateway: VirtualGateway) -> AsyncIterator[VirtualGateway]:
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop()


def _messages(error: BaseException) -> str:
    texts = []
    current: BaseException | None = error
    while current is not None:
        texts.append(str(current))
        current = current.__cause__ or current.__context__
    return " | ".join(texts)


def _status_write(ga: GroupAddress, value: int) -> Callable[[Telegram], bool]:
    def check(telegram: Telegram) -> bool:
        return str(telegram.destination_address) == str(ga) and telegram.payload == (
            GroupValueWrite(DPTBinary(value))
        )

    return check


@pytest.mark.parametrize("fixture", _keyrings_with_credentials(), ids=str)
async def test_xknx_secure_tunnel_and_data_secure_scenario(fixture: KeyringFixture) -> None:
    """Write ON, read the status ON, write OFF, read OFF; Data Secure where the GA has a key."""
    keyring = load_keyring(fixture.path, fixture.password)
    probe = VirtualGateway(keyring)
    tunnel = _tunnels_with_credentials(keyring, probe.host)[0]
    spec = scenario_addresses(keyring, tunnel)
    secure = keyring.group_key(spec.status_ga) is not None
    gateway = VirtualGateway(keyring, switches=[spec], status_delay=0.02)
    async with (
        running(gateway),
        xknx_peer(gateway.address[1], credentials(tunnel, fixture)) as peer,
    ):
        assert str(peer.xknx.current_address) == str(tunnel.individual_address)
        # The actuator's status object changes when it reports (status_delay later), as a real
        # one does: read after the report, or a read in between gets the old status.
        await peer.write(spec.write_ga, True)
        assert gateway.switch_state(spec.write_ga) is True
        status = await peer.wait_for(_status_write(spec.status_ga, 1))
        assert status.data_secure is secure
        assert await peer.read(spec.status_ga) == 1
        await peer.write(spec.write_ga, False)
        assert gateway.switch_state(spec.write_ga) is False
        await peer.wait_for(_status_write(spec.status_ga, 0))
        assert await peer.read(spec.status_ga) == 0
        responses = [t for t in peer.telegrams if isinstance(t.payload, GroupValueResponse)]
        assert responses
        assert all(t.data_secure is secure for t in responses)
        assert str(responses[0].source_address) == str(gateway.switches[0].device)
        assert gateway.dropped == {}


async def test_xknx_wrong_password_gets_authentication_failed() -> None:
    keyring = load_keyring(SECURE_TEST.path, SECURE_TEST.password)
    gateway = VirtualGateway(keyring)
    tunnel = gateway.tunnels[0]
    config = credentials(tunnel)
    config.user_password = "not the password"
    async with running(gateway):
        with pytest.raises(CommunicationError) as info:
            async with xknx_peer(gateway.address[1], config):
                pass
        assert "authentication failed" in _messages(info.value).lower()
        assert gateway.sessions == 0


async def test_xknx_detects_an_impostor_gateway() -> None:
    """A gateway that does not know the keyring's device code fails xknx's check."""
    keyring = load_keyring(SECURE_TEST.path, SECURE_TEST.password)
    gateway = VirtualGateway(keyring, device_authentication="impostor")
    async with running(gateway):
        with pytest.raises(CommunicationError) as info:
            async with xknx_peer(gateway.address[1], credentials(gateway.tunnels[0])):
                pass
        assert "MAC verification failed" in _messages(info.value)


async def test_xknx_plain_tcp_tunnelling_is_refused() -> None:
    keyring = load_keyring(SECURE_TEST.path, SECURE_TEST.password)
    gateway = VirtualGateway(keyring)
    async with running(gateway):
        xknx = XKNX(
            connection_config=ConnectionConfig(
                connection_type=ConnectionType.TUNNELING_TCP,
                gateway_ip="127.0.0.1",
                gateway_port=gateway.address[1],
                auto_reconnect=False,
            )
        )
        with pytest.raises(CommunicationError) as info:
            await asyncio.wait_for(xknx.start(), TIMEOUT)
        assert "E_NO_MORE_CONNECTIONS" in _messages(info.value)
        await xknx.stop()
        assert not gateway.tunnels_in_use


async def test_xknx_keyring_mode_picks_a_free_tunnel_from_the_description() -> None:
    """Only the keyring: xknx asks the description over UDP, skips the busy first slot."""
    keyring = load_keyring(SECURE_TEST.path, SECURE_TEST.password)
    gateway = VirtualGateway(
        keyring, switches=[SwitchSpec(PLAIN_WRITE_GA, PLAIN_STATUS_GA)], status_delay=0
    )
    keyring_only = SecureConfig(
        knxkeys_file_path=SECURE_TEST.path, knxkeys_password=SECURE_TEST.password
    )
    async with running(gateway):
        async with xknx_peer(gateway.address[1], keyring_only) as first:
            assert str(first.xknx.current_address) == "1.1.255"
            async with xknx_peer(gateway.address[1], keyring_only) as second:
                assert str(second.xknx.current_address) == "1.1.254"
                assert sorted(map(str, gateway.tunnels_in_use.values())) == ["1.1.254", "1.1.255"]
                await second.write(PLAIN_WRITE_GA, True)
                assert gateway.switch_state(PLAIN_WRITE_GA) is True
        # the gateway handles a client's close after it left
        await wait_for(lambda: gateway.sessions == 0, TIMEOUT)


async def test_two_xknx_clients_see_each_others_secure_telegrams() -> None:
    keyring = load_keyring(SECURE_TEST.path, SECURE_TEST.password)
    gateway = VirtualGateway(
        keyring, switches=[SwitchSpec(PLAIN_WRITE_GA, PLAIN_STATUS_GA)], status_delay=0
    )
    one, two = gateway.tunnels[0], gateway.tunnels[1]
    async with (
        running(gateway),
        xknx_peer(gateway.address[1], credentials(one, SECURE_TEST)) as first,
        xknx_peer(gateway.address[1], credentials(two, SECURE_TEST)) as second,
    ):
        await first.write(PLAIN_WRITE_GA, True)
        seen = await second.wait_for(
            lambda t: t.source_address == XknxIndividualAddress(str(one.individual_address))
        )
        assert seen.data_secure is True
        assert seen.payload == GroupValueWrite(DPTBinary(1))
        status = await first.wait_for(lambda t: str(t.destination_address) == "1/1/2")
        assert status.data_secure is True
        assert not [
            t
            for t in first.telegrams
            if t.source_address == XknxIndividualAddress(str(one.individual_address))
        ]
