"""xknx 4.0.0 in secure routing mode against our virtual router: its timer synchronisation,
SECURE_WRAPPER and Data Secure code were written by others, so the router speaks AN159, not
only our dialect. Group and port are a free one on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable

import pytest
from xknx import XKNX
from xknx.dpt.payload import DPTBinary
from xknx.io import ConnectionConfig, ConnectionType, SecureConfig
from xknx.io.transport.udp_transport import UDPTransport
from xknx.telegram import GroupAddress as XknxGroupAddress
from xknx.telegram import Telegram
from xknx.telegram.apci import GroupValueWrite
from xknx.tools import read_group_value

from custom_components.knx_secure.knx.address import IndividualAddress
from custom_components.knx_secure.knx.keyring import Keyring
from custom_components.knx_secure.knx.routing import SYNC_LATENCY_FRACTION, SecureRouting
from custom_components.knx_secure.knx.routing_client import RoutingClient

from ..helpers import STATUS, SWITCH
from .conftest import SECURE_TEST
from .test_plain_xknx import Received
from .test_routing_edge import WAIT, Installation, start_installation, until

pytestmark = pytest.mark.timeout(60)

LOOPBACK = "127.0.0.1"
XKNX_ADDRESS = "15.15.249"


@pytest.fixture(autouse=True)
def _xknx_sends_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """xknx sends to the group from a plain socket bound to ``local_ip`` without choosing
    the multicast interface: the kernel routes 239.x by the default route (eth0 here), where
    nobody on 127.0.0.1 hears it. On a real LAN local_ip is that interface; here the test
    sets IP_MULTICAST_IF to 127.0.0.1 on xknx's sending socket once it is open."""
    connect = UDPTransport.connect

    async def connect_on_loopback(self: UDPTransport) -> None:
        await connect(self)
        if self.multicast and self.transport is not None:
            sock = self.transport.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(LOOPBACK))

    monkeypatch.setattr(UDPTransport, "connect", connect_on_loopback)


@pytest.fixture
async def secure(keyring: Keyring) -> AsyncIterator[Installation]:
    # xknx takes the group from the keyring's Backbone (224.0.23.12), whatever it is told;
    # the port is a free one and every socket is on 127.0.0.1
    assert keyring.backbone is not None
    installation = await start_installation(keyring, keyring.backbone.multicast_address)
    yield installation
    await installation.router.stop()


def xknx_routing(installation: Installation, received: Callable[[Telegram], None]) -> XKNX:
    backbone = installation.gateway.keyring.backbone
    assert backbone is not None
    assert backbone.key is not None
    return XKNX(
        connection_config=ConnectionConfig(
            connection_type=ConnectionType.ROUTING_SECURE,
            individual_address=XKNX_ADDRESS,
            local_ip="127.0.0.1",
            multicast_group=installation.group,
            multicast_port=installation.port,
            auto_reconnect=False,
            secure_config=SecureConfig(
                backbone_key=backbone.key.hex(),
                latency_ms=backbone.latency_ms,
                knxkeys_file_path=SECURE_TEST.path,
                knxkeys_password=SECURE_TEST.password,
            ),
        ),
        telegram_received_cb=received,
    )


async def test_xknx_runs_the_scenario_over_secure_routing(secure: Installation) -> None:
    """Write ON, read ON, write OFF, read OFF: Data Secure both ways through the router."""
    received: list[Telegram] = []
    xknx = xknx_routing(secure, received.append)
    await asyncio.wait_for(xknx.start(), WAIT + 10)  # xknx waits for the group's timer
    try:
        for on in (True, False):
            write = Telegram(
                destination_address=XknxGroupAddress(str(SWITCH)),
                payload=GroupValueWrite(DPTBinary(on)),
            )
            since = len(received)
            await xknx.cemi_handler.send_telegram(write)
            await until(lambda on=on, since=since: reported(received[since:], on))  # type: ignore[misc]
            assert secure.gateway.switch_state(SWITCH) is on
            assert await asyncio.wait_for(read_group_value(xknx, str(STATUS)), WAIT) == int(on)
        from_actuator = [t for t in received if str(t.destination_address) == str(STATUS)]
        assert from_actuator
        assert all(t.data_secure for t in from_actuator)  # xknx verified and decrypted them
        assert secure.gateway.dropped == {}  # the devices accepted xknx's Data Secure
        assert not any(
            count for reason, count in secure.router.dropped.items() if reason != "reflected"
        )
    finally:
        await xknx.stop()


def reported(telegrams: list[Telegram], on: bool) -> bool:
    """The actuator's status report ``on`` is among ``telegrams`` (before reading it back)."""
    expected = GroupValueWrite(DPTBinary(on))
    return any(
        str(t.destination_address) == str(STATUS) and t.payload == expected for t in telegrams
    )


def xknx_timer(xknx: XKNX) -> int:
    """xknx's view of the group's timer (its SecureGroup's SecureSequenceTimer)."""
    transport = xknx.knxip_interface._interface.transport  # type: ignore[union-attr]
    return int(transport.secure_timer.current_timer_value())


async def test_our_client_and_xknx_exchange_telegrams_on_one_timer(secure: Installation) -> None:
    """Our routing client and xknx on the group of our router: Data Secure group telegrams
    from each reach the other, and the three nodes keep one timer (two of ours and xknx)."""
    received = Received()
    xknx = xknx_routing(secure, received.append)
    await asyncio.wait_for(xknx.start(), WAIT + 10)
    # xknx opens Data Secure only from the keyring's individual addresses: ours is one
    client = RoutingClient(
        secure.gateway.keyring,
        group=secure.group,
        port=secure.port,
        interface=LOOPBACK,
        individual_address=IndividualAddress.parse("1.1.254"),
    )
    await client.connect()
    try:
        ours = client.telegrams()
        # ours -> xknx: secure routing and Data Secure opened by xknx
        await client.write(SWITCH, 1)
        from_ours = await received.wait_for(
            lambda t: (
                str(t.source_address) == str(client.individual_address)
                and str(t.destination_address) == str(SWITCH)
            )
        )
        assert from_ours.data_secure
        assert from_ours.payload == GroupValueWrite(DPTBinary(1))
        # xknx -> ours
        off = Telegram(
            destination_address=XknxGroupAddress(str(SWITCH)),
            payload=GroupValueWrite(DPTBinary(0)),
        )
        await xknx.cemi_handler.send_telegram(off)
        async with asyncio.timeout(WAIT):
            async for telegram in ours:
                if str(telegram.src) == XKNX_ADDRESS and telegram.dst == SWITCH:
                    assert telegram.value == 0
                    assert telegram.secure
                    break
        assert not any(client.dropped.values())
        assert not any(
            count for reason, count in client.routing_dropped.items() if reason != "reflected"
        )
        # one timer: the router's, our client's and xknx's agree within the sync tolerance
        router, node = secure.router.endpoint.node, client.endpoint.node  # type: ignore[union-attr]
        assert isinstance(router, SecureRouting)
        assert isinstance(node, SecureRouting)
        now = asyncio.get_running_loop().time()
        timers = [router.timer(now), node.timer(now), xknx_timer(xknx)]
        assert max(timers) - min(timers) <= router.latency_ms * SYNC_LATENCY_FRACTION
    finally:
        await client.close()
        await xknx.stop()
