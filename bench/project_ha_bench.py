"""Import of the scale home's ETS project in Home Assistant, ours or the built-in KNX
integration's (pytest, run by bench/project_bench.py in a child process, once per side).

Not a test of the suite. ``BENCH_PROJECT_SIDE`` says which: ``ours`` uploads the file through
Home Assistant's file upload and runs our import step as the flows do (the upload read and
``project.parse_project_file`` in the executor, the check against the keyring, the store);
``knx`` uploads it the same way and calls the built-in integration's
``KNXProject.process_project_file`` (parse in the executor, store, load). Each of
``BENCH_PROJECT_RUNS`` imports (plus a first one, left out by the runner: it warms the caches)
measures the time from the call to the stored project, the longest the event loop did not get
to run a 1 ms sleeper in that time (a stall: on a loaded machine mostly the time the process
waited for a CPU), and the longest CPU time one callback, and one iteration, of the loop took
(what the import itself held the loop for). Results go to ``$BENCH_PROJECT_OUT/<side>-<run>.json``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from bench import scale
from bench.common import StallMonitor
from bench.ha_scale_bench import LoopCallbacks
from custom_components.knx_secure import project as ours  # before Home Assistant's loader runs
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring

SIDE = os.environ.get("BENCH_PROJECT_SIDE", "ours")
PROJECT_FILE = Path(os.environ.get("BENCH_PROJECT_FILE", "."))
KEYRING = Path(os.environ.get("BENCH_PROJECT_KEYRING", "."))  # the scale keyring (ours checks)
PASSWORD = os.environ.get("BENCH_PROJECT_PASSWORD") or None
OUT = Path(os.environ.get("BENCH_PROJECT_OUT", "."))
RUNS = int(os.environ.get("BENCH_PROJECT_RUNS", "3"))
LABEL = os.environ.get("BENCH_PROJECT_LABEL", "plain")
TICK = 0.001

pytestmark = pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")

type Upload = Callable[[], Any]


@pytest.fixture
def verify_cleanup() -> Iterator[None]:
    """Replaces the plugin's check for threads left behind (a benchmark checks nothing)."""
    yield  # noqa: PT022 - replaces a yield fixture


@pytest.fixture
async def upload(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Upload:
    """Upload the project through Home Assistant's file upload endpoint; returns its id."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    assert await async_setup_component(hass, "file_upload", {})
    client = await hass_client()
    content = await hass.async_add_executor_job(PROJECT_FILE.read_bytes)

    async def _upload() -> str:
        form = aiohttp.FormData()
        form.add_field("file", content, filename=PROJECT_FILE.name)
        response = await client.post("/api/file_upload", data=form)
        assert response.status == 200, await response.text()
        file_id: str = (await response.json())["file_id"]
        return file_id

    return _upload


async def import_ours(hass: HomeAssistant, file_id: str) -> dict[str, object]:
    """Our import step as the config and options flows run it: the upload read and parsed
    in the executor, checked against the entry's keyring, stored for the entry."""
    content = await hass.async_add_executor_job(ours.read_project_upload, hass, file_id)
    project = await hass.async_add_executor_job(
        ours.parse_project_content, content, PASSWORD, hass.config.language
    )
    ours.check_project_against_keyring(project, await _keyring(hass))
    await ours.async_save_project(hass, "bench-entry", project)
    return {"parser": "project.parse_project_file", "addresses": len(project.addresses)}


_KEYRINGS: dict[str, Keyring] = {}


async def _keyring(hass: HomeAssistant) -> Keyring:
    """The scale keyring, loaded once before the first import (the flow holds it already)."""
    if "scale" not in _KEYRINGS:
        _KEYRINGS["scale"] = await hass.async_add_executor_job(
            load_keyring, KEYRING, scale.PASSWORD
        )
    return _KEYRINGS["scale"]


async def import_knx(hass: HomeAssistant, file_id: str) -> dict[str, object]:
    from homeassistant.components.knx.project import KNXProject  # noqa: PLC0415
    from xknx import XKNX  # noqa: PLC0415

    entry = MockConfigEntry(domain="knx")
    entry.add_to_hass(hass)
    project = KNXProject(hass, entry)
    await project.process_project_file(XKNX(), file_id, PASSWORD or "")
    return {"parser": "KNXProject.process_project_file", "addresses": len(project.group_addresses)}


def _busy(seconds: float) -> None:
    """Pure Python work in a thread: the interpreter hands the loop the GIL every 5 ms."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def _floor_stall_ms(hass: HomeAssistant, seconds: float) -> float:
    """The stall while the executor only burns CPU in Python: this machine's floor (its load,
    the GIL's switch interval), to read the import's stall against."""
    monitor = StallMonitor(TICK)
    async with monitor.watching():
        await hass.async_add_executor_job(_busy, seconds)
    return monitor.longest * 1000


async def test_import_the_project(hass: HomeAssistant, upload: Upload) -> None:
    from xknxproject.__version__ import __version__ as xknxproject_version  # noqa: PLC0415

    runner = import_ours if SIDE == "ours" else import_knx
    for run in range(RUNS + 1):
        file_id = await upload()
        monitor = StallMonitor(TICK)
        callbacks = LoopCallbacks()
        try:
            async with monitor.watching():
                start = time.perf_counter()
                facts = await runner(hass, file_id)
                elapsed = time.perf_counter() - start
        finally:
            callbacks.close()
        result = {
            "side": SIDE,
            "run": run,
            "label": LABEL,
            "import_ms": elapsed * 1000,
            "longest_stall_ms": monitor.longest * 1000,
            "longest_callback_cpu_ms": callbacks.longest_ms,
            "longest_iteration_cpu_ms": callbacks.longest_iteration_ms,
            "xknxproject": xknxproject_version,
            **facts,
            "floor_stall_ms": await _floor_stall_ms(hass, elapsed),
        }
        (OUT / f"{SIDE}-{run}.json").write_text(json.dumps(result))
