"""An entry of 500 entities on the scale home, ours or Home Assistant's KNX (pytest, run by
bench/scale_bench.py in a child process, once per side).

Not a test of the suite. ``BENCH_SCALE_SIDE`` says which integration: ``ours`` (a config
entry of knx_secure with one subentry per entity) or ``knx`` (Home Assistant's built-in KNX
integration: a config entry as its config flow stores a secure tunnel with a keyring, the
keyring where that flow puts it, and the entities in its YAML configuration). Both connect to
the same running gateway (``BENCH_SCALE_PORT``, started by the runner in its own process), on
different tunnels. The entities are ``bench.scale.entities()`` plus a toggle pair (a switch
and a binary sensor on the status address of one more channel), found by their names.

Each run measures, in a fresh Home Assistant:
- set-up: from the set-up call to the last of the 500 entities' first state (the gateway's
  relays start in a pattern, so a state can only come from the status read), the longest
  the event loop did not get to run a 1 ms sleeper in that time (a stall), and the longest
  CPU time one callback, and one iteration, of the loop took (``LoopCallbacks``);
- toggles: from a ``switch.turn_on``/``turn_off`` call to the status binary sensor's new state;
- memory (the last run only, ``tracemalloc`` on): what the loaded entry holds after its
  first states, minus what was allocated before the set-up call (not timed: tracing slows
  everything down).
Results go to ``$BENCH_SCALE_OUT/<side>-<run>.json``.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import json
import os
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.const import EVENT_STATE_CHANGED, STATE_OFF, STATE_ON
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bench import scale
from bench.common import StallMonitor

SIDE = os.environ.get("BENCH_SCALE_SIDE", "ours")
KEYRING = Path(os.environ.get("BENCH_SCALE_KEYRING", "."))
PORT = int(os.environ.get("BENCH_SCALE_PORT", "0"))
OUT = Path(os.environ.get("BENCH_SCALE_OUT", "."))
RUNS = int(os.environ.get("BENCH_SCALE_RUNS", "3"))
PROFILE = os.environ.get("BENCH_SCALE_PROFILE")  # a file: cProfile of the first set-up
SLOWEST = bool(os.environ.get("BENCH_SCALE_SLOWEST"))  # list slow callbacks, largest files
TOGGLES = int(os.environ.get("BENCH_SCALE_TOGGLES", "20"))  # on and off each
TIMEOUT = 60.0
TICK = 0.001
TOGGLE_CHANNEL = scale.PLAN.switch_channels[-1]  # not one of the 500 (their states are checked)
TOGGLE_SWITCH = "Toggle switch"
TOGGLE_STATUS = "Toggle status"
TUNNEL_KNX = "1.1.242"  # the built-in integration's tunnel (ours chooses automatically)

pytestmark = pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")


@pytest.fixture
def verify_cleanup() -> Iterator[None]:
    """Replaces the plugin's check for threads left behind: the built-in integration runs
    its connection in threads of its own, and a benchmark checks nothing."""
    yield  # noqa: PT022 - replaces a yield fixture


def _entity_specs() -> list[scale.EntitySpec]:
    write, status = str(TOGGLE_CHANNEL.write_ga), str(TOGGLE_CHANNEL.status_ga)
    return [
        *scale.entities(),
        ("switch", TOGGLE_SWITCH, {"name": TOGGLE_SWITCH, "write_address": write}),
        (
            "binary_sensor",
            TOGGLE_STATUS,
            {"name": TOGGLE_STATUS, "state_address": status, "sync_state": False},
        ),
    ]


# --- the two sides: keyring file, entry, entities ---------------------------------------------


async def _setup_ours(hass: HomeAssistant) -> Callable[[], Any]:
    """Add our entry; return the call that sets it up."""
    from custom_components.knx_secure.const import DOMAIN  # noqa: PLC0415
    from custom_components.knx_secure.store import (  # noqa: PLC0415
        keyring_directory,
        write_pending_keyring,
    )

    content = await hass.async_add_executor_job(KEYRING.read_bytes)
    name = await hass.async_add_executor_job(
        write_pending_keyring, keyring_directory(hass), content
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=scale.PROJECT,
        unique_id=f"{scale.PROJECT}_{scale.GATEWAY}",
        data=scale.entry_data(name, PORT),
        subentries_data=scale.subentries_data(_entity_specs()),
    )
    entry.add_to_hass(hass)
    await async_setup_component(hass, "homeassistant", {})
    await hass.async_block_till_done()
    return lambda: hass.config_entries.async_setup(entry.entry_id)


#: Our sensors' value types -> the built-in integration's sensor types.
KNX_SENSOR_TYPES = {"9.001": "temperature", "16.000": "string"}


def _knx_item(platform: str, name: str, data: dict[str, object]) -> dict[str, object]:
    """One entity in the built-in integration's YAML schema (the fields the scale home's
    entities use)."""
    fields: dict[str, dict[str, str]] = {
        "switch": {"write_address": "address", "state_address": "state_address"},
        "binary_sensor": {"state_address": "state_address"},
        "light": {
            "switch_address": "address",
            "switch_state_address": "state_address",
            "brightness_address": "brightness_address",
            "brightness_state_address": "brightness_state_address",
        },
        "cover": {
            "up_down_address": "move_long_address",
            "stop_address": "stop_address",
            "position_address": "position_address",
            "position_state_address": "position_state_address",
            "travel_time_down": "travelling_time_down",
            "travel_time_up": "travelling_time_up",
        },
        "climate": {
            "temperature_address": "temperature_address",
            "target_temperature_address": "target_temperature_address",
            "target_temperature_state_address": "target_temperature_state_address",
            "on_off_address": "on_off_address",
        },
        "number": {"write_address": "address", "state_address": "state_address"},
        "select": {"write_address": "address", "state_address": "state_address"},
        "sensor": {"state_address": "state_address"},
    }[platform]
    item: dict[str, object] = {"name": name}
    item.update({theirs: data[ours] for ours, theirs in fields.items() if data.get(ours)})
    if "sync_state" in data:
        item["sync_state"] = bool(data["sync_state"])
    if platform == "number":
        item["type"] = "percent"
    elif platform == "select":
        item["payload_length"] = 1
        item["options"] = [
            {"option": label, "payload": value} for value, label in enumerate(scale.PROGRAMS)
        ]
    elif platform == "sensor":
        item["type"] = KNX_SENSOR_TYPES[str(data["value_type"])]
    return item


def _knx_yaml() -> dict[str, list[dict[str, object]]]:
    """The entities in the built-in integration's YAML schema."""
    config: dict[str, list[dict[str, object]]] = {}
    for platform, name, data in _entity_specs():
        config.setdefault(platform, []).append(_knx_item(platform, name, data))
    return config


async def _setup_knx(hass: HomeAssistant) -> Callable[[], Any]:
    """Add the built-in integration's entry as its config flow stores a secure tunnel with a
    keyring (manual tunnel, keyring upload, tunnel chosen); return the set-up call."""
    from homeassistant.components.knx.config_flow import DEFAULT_ENTRY_DATA  # noqa: PLC0415
    from homeassistant.components.knx.storage.keyring import (  # noqa: PLC0415
        DEFAULT_KNX_KEYRING_FILENAME,
    )

    storage = Path(hass.config.path(".storage", "knx"))

    def copy_keyring() -> None:
        storage.mkdir(parents=True, exist_ok=True)
        (storage / DEFAULT_KNX_KEYRING_FILENAME).write_bytes(KEYRING.read_bytes())

    await hass.async_add_executor_job(copy_keyring)
    entry = MockConfigEntry(
        domain="knx",
        title=f"Secure Tunneling @ {TUNNEL_KNX}",
        data={
            **DEFAULT_ENTRY_DATA,
            "connection_type": "tunneling_tcp_secure",
            "host": "127.0.0.1",
            "port": PORT,
            "route_back": False,
            "local_ip": None,
            "tunnel_endpoint_ia": TUNNEL_KNX,
            "user_id": None,
            "user_password": None,
            "device_authentication": None,
            "knxkeys_filename": f"knx/{DEFAULT_KNX_KEYRING_FILENAME}",
            "knxkeys_password": scale.PASSWORD,
            "backbone_key": None,
            "sync_latency_tolerance": None,
        },
    )
    entry.add_to_hass(hass)
    await async_setup_component(hass, "homeassistant", {})
    await hass.async_block_till_done()
    return lambda: async_setup_component(hass, "knx", {"knx": _knx_yaml()})


# --- measuring ------------------------------------------------------------------------------


class StateWatch:
    """Follows state changes by friendly name (no polling: the loop is what is measured)."""

    def __init__(self, hass: HomeAssistant, expected: dict[str, scale.FirstState]) -> None:
        self.hass = hass
        self.pending = dict(expected)
        self.done: asyncio.Future[None] = hass.loop.create_future()
        self.entity_ids: dict[str, str] = {}
        self.waiting: tuple[str, str, asyncio.Future[None]] | None = None
        self._remove = hass.bus.async_listen(EVENT_STATE_CHANGED, self._changed)
        if not self.pending:
            self.done.set_result(None)

    @callback
    def _changed(self, event: Event[Any]) -> None:
        state = event.data["new_state"]
        if state is None:
            return
        name = state.attributes.get("friendly_name")
        self.entity_ids[name] = state.entity_id
        first = self.pending.get(name)
        if first is not None and first.seen_in(state.state, state.attributes):
            del self.pending[name]
            if not self.pending and not self.done.done():
                self.done.set_result(None)
        waiting = self.waiting
        if waiting and waiting[:2] == (name, state.state) and not waiting[2].done():
            waiting[2].set_result(None)

    def expect(self, name: str, value: str) -> asyncio.Future[None]:
        future: asyncio.Future[None] = self.hass.loop.create_future()
        self.waiting = (name, value, future)
        return future

    def close(self) -> None:
        self._remove()


class LoopCallbacks:
    """Times every callback and every iteration of the event loop in CPU time
    (time.thread_time): what the code held the loop for, without the time the process waited
    for a CPU (the stall monitor counts that too, and on a loaded machine it dominates).
    Threads of their own (the built-in integration's connection) are not counted."""

    def __init__(self) -> None:
        self.longest_ms = 0.0
        self.longest_iteration_ms = 0.0  # all callbacks of one loop iteration together
        self.slowest: list[tuple[float, str]] = []  # (ms, callback) above 5 ms, for SLOWEST
        self._original = asyncio.Handle._run
        original = self._original
        loop_thread = threading.get_ident()
        self._loop: Any = asyncio.get_running_loop()
        run_once = self._loop._run_once

        def timed_iteration() -> None:
            start = time.thread_time()  # waiting in select() takes no CPU time
            run_once()
            elapsed = (time.thread_time() - start) * 1000
            self.longest_iteration_ms = max(self.longest_iteration_ms, elapsed)

        self._loop._run_once = timed_iteration

        def timed(handle: asyncio.Handle) -> None:
            if threading.get_ident() != loop_thread:
                original(handle)
                return
            start = time.thread_time()
            original(handle)
            elapsed = (time.thread_time() - start) * 1000
            self.longest_ms = max(self.longest_ms, elapsed)
            if SLOWEST and elapsed > 5:
                self.slowest.append((elapsed, repr(handle)[:300]))

        asyncio.Handle._run = timed  # type: ignore[method-assign]

    def close(self) -> None:
        asyncio.Handle._run = self._original  # type: ignore[method-assign]
        del self._loop._run_once


async def _toggle(hass: HomeAssistant, watch: StateWatch, service: str, value: str) -> float:
    switch = watch.entity_ids[TOGGLE_SWITCH]
    arrived = watch.expect(TOGGLE_STATUS, value)
    start = time.perf_counter()
    await hass.services.async_call("switch", service, {"entity_id": switch}, blocking=False)
    await asyncio.wait_for(arrived, 10)
    return (time.perf_counter() - start) * 1000


async def _toggle_ready(hass: HomeAssistant, watch: StateWatch) -> None:
    """The toggle pair exists and its status is known (off: the gateway starts it so)."""
    await hass.async_block_till_done()  # the last batch of entities is added
    status = watch.entity_ids[TOGGLE_STATUS]
    state = hass.states.get(status)
    if state is None or state.state != STATE_OFF:
        # The status sensor does not read at start: set it with a round trip.
        await _toggle(hass, watch, "turn_on", STATE_ON)
        await _toggle(hass, watch, "turn_off", STATE_OFF)


@pytest.mark.parametrize("run", range(RUNS + 1))
async def test_scale(hass: HomeAssistant, run: int, tmp_path: Path) -> None:
    memory_run = run == RUNS
    asyncio.get_running_loop().set_debug(False)  # users do not run in debug mode
    hass.config.config_dir = str(tmp_path)
    setup = await (_setup_ours(hass) if SIDE == "ours" else _setup_knx(hass))
    watch = StateWatch(hass, scale.expected_first_states())
    gc.collect()
    if memory_run:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
    profiler = cProfile.Profile() if PROFILE and run == 0 else None
    callbacks = None if memory_run else LoopCallbacks()
    async with asyncio.timeout(TIMEOUT), StallMonitor(TICK).watching() as monitor:
        if profiler is not None:
            profiler.enable()
        start = time.perf_counter()
        assert await setup()
        setup_call = time.perf_counter() - start
        await watch.done
        first_states = time.perf_counter() - start
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(PROFILE)
    if callbacks is not None:
        callbacks.close()
    document: dict[str, object] = {"side": SIDE, "run": run}
    if callbacks is not None:
        document["longest_callback_cpu_ms"] = callbacks.longest_ms
        document["longest_iteration_cpu_ms"] = callbacks.longest_iteration_ms
        if SLOWEST:
            document["slowest_callbacks"] = sorted(callbacks.slowest, reverse=True)[:8]
    if memory_run:
        gc.collect()
        document["memory_mb"] = (tracemalloc.get_traced_memory()[0] - before) / 1e6
        if SLOWEST:  # and where the memory is: by file, and by line
            snapshot = tracemalloc.take_snapshot()
            for key, count in (("filename", 15), ("lineno", 40)):
                top = snapshot.statistics(key)[:count]
                document[f"memory_by_{key}"] = [
                    (stat.size / 1e6, stat.count, str(stat.traceback)) for stat in top
                ]
        tracemalloc.stop()
    else:
        document.update(
            setup_call_ms=setup_call * 1000,
            first_states_ms=first_states * 1000,
            longest_stall_ms=monitor.longest * 1000,
        )
        await _toggle_ready(hass, watch)
        toggles: list[float] = []
        for _ in range(TOGGLES):
            toggles.append(await _toggle(hass, watch, "turn_on", STATE_ON))
            toggles.append(await _toggle(hass, watch, "turn_off", STATE_OFF))
        document["toggle_ms"] = toggles
    watch.close()
    await hass.async_add_executor_job((OUT / f"{SIDE}-{run}.json").write_text, json.dumps(document))
    for entry in hass.config_entries.async_entries():
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
