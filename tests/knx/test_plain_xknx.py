"""xknx 4.0.0's plain tunnelling clients (UDP and TCP) against ``gateway --plain``.

xknx's tunnel, sequence/ack handling and Data Secure were written by others: when its plain
clients switch the Data Secure actuator and read its encrypted status through our gateway,
the gateway's plain tunnelling speaks the protocol, not our own dialect.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from xknx import XKNX
from xknx.dpt.payload import DPTBinary
from xknx.io import ConnectionConfig, ConnectionType, SecureConfig
from xknx.telegram import GroupAddress as XknxGroupAddress
from xknx.telegram import Telegram
from xknx.telegram.apci import GroupValueWrite

from custom_components.knx_secure.knx.gateway import VirtualGateway

from ..helpers import STATUS, SWITCH
from .conftest import SECURE_TEST
from .test_plain_scenario import plain_gateway

__all__ = ["plain_gateway"]  # the fixture, shared with the scenario tests

pytestmark = pytest.mark.timeout(30)
TIMEOUT = 5.0


class Received:
    """The telegrams xknx delivered; ``wait_for`` wakes on each new one (no polling)."""

    def __init__(self) -> None:
        self.telegrams: list[Telegram] = []
        self._changed = asyncio.Event()

    def append(self, telegram: Telegram) -> None:
        self.telegrams.append(telegram)
        self._changed.set()

    async def wait_for(self, check: Callable[[Telegram], bool]) -> Telegram:
        async with asyncio.timeout(TIMEOUT):
            while True:
                found = next((t for t in self.telegrams if check(t)), None)
                if found is not None:
                    return found
                self._changed.clear()
                await self._changed.wait()


@asynccontextmanager
async def plain_xknx(
    gateway: VirtualGateway, connection_type: ConnectionType
) -> AsyncIterator[tuple[XKNX, Received]]:
    received = Received()
    xknx = XKNX(
        connection_config=ConnectionConfig(
            connection_type=connection_type,
            gateway_ip="127.0.0.1",
            gateway_port=gateway.address[1],
            local_ip="127.0.0.1",
            auto_reconnect=False,
            # the keyring only for Data Secure: no IP Secure on this connection
            secure_config=SecureConfig(
                knxkeys_file_path=SECURE_TEST.path, knxkeys_password=SECURE_TEST.password
            ),
        ),
        telegram_received_cb=received.append,
    )
    await asyncio.wait_for(xknx.start(), TIMEOUT)
    try:
        yield xknx, received
    finally:
        await xknx.stop()


def is_status(value: bool) -> Callable[[Telegram], bool]:
    def check(telegram: Telegram) -> bool:
        payload = getattr(telegram.payload, "value", None)
        return (
            str(telegram.destination_address) == str(STATUS)
            and isinstance(payload, DPTBinary)
            and payload.value == int(value)
        )

    return check


@pytest.mark.parametrize(
    "connection_type", [ConnectionType.TUNNELING, ConnectionType.TUNNELING_TCP]
)
async def test_xknx_plain_tunnel_runs_the_scenario(
    plain_gateway: VirtualGateway, connection_type: ConnectionType
) -> None:
    async with plain_xknx(plain_gateway, connection_type) as (xknx, received):
        assert plain_gateway.sessions == 0
        assert len(plain_gateway.tunnels_in_use) == 1
        for value in (True, False):
            telegram = Telegram(
                destination_address=XknxGroupAddress(str(SWITCH)),
                payload=GroupValueWrite(DPTBinary(value)),
            )
            await xknx.cemi_handler.send_telegram(telegram)  # returns on the L_Data.con
            status = await received.wait_for(is_status(value))
            assert plain_gateway.switch_state(SWITCH) is value
            # Data Secure both ways: the actuator accepted xknx's secure write and xknx
            # decrypted the actuator's secure status
            assert status.data_secure is True
    assert not plain_gateway.dropped
