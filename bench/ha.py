"""Home Assistant: setting up a config entry of the integration (no xknx counterpart).

Runs bench/ha_setup_bench.py with pytest in a child process (the Home Assistant test
plugin patches sockets, the event loop policy and more: kept out of this process), one
fresh Home Assistant per setup, and reads back what each setup measured.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from bench.common import Result, median, run_pytest_bench

ROOT = Path(__file__).resolve().parent.parent
BENCH_FILE = Path(__file__).resolve().parent / "ha_setup_bench.py"
RUNS = 6  # cold (PBKDF2 results forgotten); the first one also imports the platforms
WARM_RUNS = 3  # then with the derived keys cached, as on a reload of the entry
TIMEOUT = 150.0  # seconds for the whole pytest run
STALL_GOAL_MS = 50.0


def _measure(out: Path) -> list[dict[str, float]]:
    run_pytest_bench(
        BENCH_FILE,
        {
            "BENCH_HA_OUT": str(out),
            "BENCH_HA_RUNS": str(RUNS),
            "BENCH_HA_WARM_RUNS": str(WARM_RUNS),
        },
        timeout=TIMEOUT,
    )
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
