"""One cold setup of a config entry, in a fresh Home Assistant (pytest, run by bench/ha.py).

Not a test of the suite (the suite collects tests/ only): ``bench/ha.py`` runs this file
with pytest, once per measurement, and reads back the JSON files written to
``$BENCH_HA_OUT``. Each test gets its own ``hass`` (the plugin's fixture), a running
VirtualGateway on 127.0.0.1 with the actuator 1/1/1 -> 1/1/2, and one entry with a binary
sensor on 1/1/2 that reads its state at start.

Measured: from ``async_setup(entry_id)`` to the binary sensor's first state (keyring file
read and decrypted, tunnel opened, platforms set up, status read answered), with every
PBKDF2 result of the library forgotten first; and the longest the event loop did not get
to run a 1 ms sleeper in that time (a stall).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bench.common import FIXTURES, KEYRINGS, StallMonitor
from custom_components.knx_secure.const import (
    CONF_GATEWAY_ADDRESS,
    CONF_GATEWAY_NAME,
    CONF_INVERT,
    CONF_KEYRING_FILE,
    CONF_KEYRING_PASSWORD,
    CONF_PROJECT,
    CONF_STATE_ADDRESS,
    CONF_SYNC_STATE,
    CONF_TUNNEL,
    DOMAIN,
    SUBENTRY_BINARY_SENSOR,
    TUNNEL_AUTOMATIC,
)
from custom_components.knx_secure.knx import crypto
from custom_components.knx_secure.knx.address import GroupAddress
from custom_components.knx_secure.knx.gateway import SwitchSpec, VirtualGateway
from custom_components.knx_secure.knx.keyring import load_keyring
from custom_components.knx_secure.store import keyring_directory, write_pending_keyring

KEYRING_NAME = "Secure Test.knxkeys"
KEYRING_PASSWORD = KEYRINGS[KEYRING_NAME]
RUNS = int(os.environ.get("BENCH_HA_RUNS", "6"))  # the first one also pays the imports
WARM_RUNS = int(os.environ.get("BENCH_HA_WARM_RUNS", "3"))  # after them, derived keys kept
OUT = Path(os.environ.get("BENCH_HA_OUT", "."))
TIMEOUT = 30.0
TICK = 0.001

pytestmark = pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")


def _forget_derived_keys() -> None:
    """Cold: the keyring, user and device keys are derived again (PBKDF2, 3 times)."""
    for name in dir(crypto):
        member = getattr(crypto, name)
        cache_clear = getattr(member, "cache_clear", None)
        if callable(cache_clear) and not isinstance(member, type):  # caches, not their class
            cache_clear()


@pytest.mark.parametrize("run", range(RUNS + WARM_RUNS))
async def test_setup_to_first_state(hass: HomeAssistant, tmp_path: Path, run: int) -> None:
    cold = run < RUNS
    # Home Assistant runs without asyncio debug mode (the plugin turns it on; it slows
    # every callback down and is not what users run).
    asyncio.get_running_loop().set_debug(False)
    hass.config.config_dir = str(tmp_path)
    path = FIXTURES / KEYRING_NAME
    keyring = await hass.async_add_executor_job(load_keyring, path, KEYRING_PASSWORD)
    gateway = VirtualGateway(
        keyring,
        switches=[SwitchSpec(GroupAddress.parse("1/1/1"), GroupAddress.parse("1/1/2"))],
        status_delay=0,
    )
    # The relay is on: an "on" state can only come from the status read of the setup.
    gateway.set_switch(GroupAddress.parse("1/1/1"), True)
    await gateway.start()
    try:
        content = await hass.async_add_executor_job(path.read_bytes)
        name = await hass.async_add_executor_job(
            write_pending_keyring, keyring_directory(hass), content
        )
        host, port = gateway.address
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Secure Test",
            unique_id=f"Secure Test_{gateway.host}",
            data={
                CONF_KEYRING_FILE: name,
                CONF_KEYRING_PASSWORD: KEYRING_PASSWORD,
                CONF_PROJECT: keyring.project,
                CONF_HOST: host,
                CONF_PORT: port,
                CONF_GATEWAY_ADDRESS: str(gateway.host),
                CONF_GATEWAY_NAME: "",
                CONF_TUNNEL: TUNNEL_AUTOMATIC,
            },
            subentries_data=[
                {
                    "data": {
                        CONF_NAME: "Light status",
                        CONF_STATE_ADDRESS: "1/1/2",
                        CONF_INVERT: False,
                        CONF_SYNC_STATE: True,
                    },
                    "subentry_type": SUBENTRY_BINARY_SENSOR,
                    "title": "Light status",
                    "unique_id": None,
                }
            ],
        )
        entry.add_to_hass(hass)
        (subentry_id,) = entry.subentries
        registry = er.async_get(hass)
        unique_id = f"{entry.entry_id}_{subentry_id}"

        def first_state() -> bool:
            entity_id = registry.async_get_entity_id("binary_sensor", DOMAIN, unique_id)
            state = hass.states.get(entity_id) if entity_id else None
            return state is not None and state.state == STATE_ON

        await hass.async_block_till_done()
        if cold:
            _forget_derived_keys()
        async with asyncio.timeout(TIMEOUT), StallMonitor(TICK).watching() as monitor:
            start = time.perf_counter()
            assert await hass.config_entries.async_setup(entry.entry_id)
            setup = time.perf_counter() - start
            while not first_state():  # noqa: ASYNC110 - an entity's state has no event here
                await asyncio.sleep(TICK)
            total = time.perf_counter() - start
        assert entry.state is ConfigEntryState.LOADED
        assert not any(gateway.dropped.values()), dict(gateway.dropped)
        document = {
            "run": run,
            "cold": cold,
            "setup_ms": setup * 1000,
            "first_state_ms": total * 1000,
            "longest_stall_ms": monitor.longest * 1000,
        }
        await hass.async_add_executor_job((OUT / f"{run}.json").write_text, json.dumps(document))
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    finally:
        await gateway.stop()
