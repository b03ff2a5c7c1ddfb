"""Home Assistant: setting up a config entry of the integration (no xknx counterpart).

Runs bench/ha_setup_bench.py with pytest in a child process (the Home Assistant test
plugin patches sockets, the event loop policy and more: kept out of this process), one
fresh Home Assistant per setup, and reads back what each setup measured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import Result, median

ROOT = Path(__file__).resolve().parent.parent
BENCH_FILE = Path(__file__).resolve().parent / "ha_setup_bench.py"
RUNS = 6  # cold (PBKDF2 results forgotten); the first one also imports the platforms
WARM_RUNS = 3  # then with the derived keys cached, as on a reload of the entry
TIMEOUT = 150.0  # seconds for the whole pytest run
STALL_GOAL_MS = 50.0


def _measure(out: Path) -> list[dict[str, float]]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(BENCH_FILE),
        "-q",
        "-p",
        "no:cacheprovider",
        "--no-header",
        "-o",
        "addopts=",
        "-o",
        "asyncio_mode=auto",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        "-W",
        "ignore::DeprecationWarning",
    ]
    environment = {
        **os.environ,
        "BENCH_HA_OUT": str(out),
        "BENCH_HA_RUNS": str(RUNS),
        "BENCH_HA_WARM_RUNS": str(WARM_RUNS),
    }
    completed = subprocess.run(  # noqa: S603 - our own interpreter and file
        command,
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-4000:] + completed.stderr[-4000:])
        raise RuntimeError(f"the Home Assistant setup benchmark failed ({completed.returncode})")
    runs = [json.loads(path.read_text()) for path in out.glob("*.json")]
    return sorted(runs, key=lambda run: run["run"])


def run() -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="bench-ha-") as directory:
        runs = _measure(Path(directory))
    if len(runs) != RUNS + WARM_RUNS:
        raise RuntimeError(f"expected {RUNS + WARM_RUNS} setups, got {len(runs)}")
    first, cold, warm = runs[0], runs[1:RUNS], runs[RUNS:]
    stall = max(run["longest_stall_ms"] for run in runs)
    for run in runs:
        print(
            f"   setup {run['run']} ({'cold' if run['cold'] else 'warm'}): "
            f"async_setup {run['setup_ms']:.1f} ms, first state {run['first_state_ms']:.1f} ms, "
            f"longest stall {run['longest_stall_ms']:.1f} ms",
            file=sys.stderr,
        )
    if stall > STALL_GOAL_MS:
        print(f"!! the event loop stalled {stall:.1f} ms (goal: at most {STALL_GOAL_MS:.0f} ms)")
    return [
        Result(
            f"HA entry setup to first state, cold keys (median of {len(cold)})",
            "ms",
            median([run["first_state_ms"] for run in cold]),
            None,
        ),
        Result(
            f"HA entry setup to first state, keys cached (median of {len(warm)})",
            "ms",
            median([run["first_state_ms"] for run in warm]),
            None,
        ),
        Result(
            "HA first setup in the process (cold, imports)", "ms", first["first_state_ms"], None
        ),
        Result(
            f"HA longest event-loop stall in {len(runs)} setups (goal <= 50)", "ms", stall, None
        ),
    ]
