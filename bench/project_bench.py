"""Import of a 2,000-address ETS project: ours next to Home Assistant's built-in KNX
integration, same file, one run (``scripts/bench project``).

1. writes the scale home's project (bench/project.py: 2,000 addresses, 300 devices, an ETS 6
   function per channel), plain and protected, to a temporary directory;
2. runs bench/project_ha_bench.py with pytest, ROUNDS times each side, alternating, both in
   ``.venv-haknx`` (bench/scale_bench.py makes it: this venv's Home Assistant and the pins of
   its ``knx`` manifest, our package installed editable). Both sides thus run the xknxproject
   Home Assistant pins, as they would in one Home Assistant; the ratio is about what each
   integration does around the parser, not about parser versions.

The import time is the median over the runs after the first of each process (which warms the
caches); the stall and the loop's CPU times are the longest over all runs (goal: no stall
over 50 ms; on a loaded machine the stall includes waiting for a CPU, the CPU times do not).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench import project, scale
from bench.common import Result, run_pytest_bench
from bench.scale_bench import STALL_GOAL_MS, knx_python

BENCH_FILE = Path(__file__).resolve().parent / "project_ha_bench.py"
ROUNDS = int(os.environ.get("BENCH_PROJECT_ROUNDS", "2"))
RUNS = int(os.environ.get("BENCH_PROJECT_RUNS", "3"))
TIMEOUT = 600.0  # seconds per side
FUNCTIONS = len(project.project_spec().functions)


def run_side(
    side: str, python: Path, path: Path, password: str | None, out: Path
) -> list[dict[str, object]]:
    run_pytest_bench(
        BENCH_FILE,
        {
            "BENCH_PROJECT_SIDE": side,
            "BENCH_PROJECT_FILE": str(path),
            "BENCH_PROJECT_KEYRING": str(path.parent / scale.FILE_NAME),
            "BENCH_PROJECT_PASSWORD": password or "",
            "BENCH_PROJECT_OUT": str(out),
            "BENCH_PROJECT_RUNS": str(RUNS),
        },
        timeout=TIMEOUT,
        python=python,
    )
    runs = [json.loads(p.read_text()) for p in out.glob(f"{side}-*.json")]
    if len(runs) != RUNS + 1:
        raise RuntimeError(f"expected {RUNS + 1} imports of {side}, got {len(runs)}")
    return runs


def _warm(runs: list[dict[str, object]]) -> list[float]:
    return [float(r["import_ms"]) for r in runs if int(r["run"]) > 0]  # type: ignore[arg-type,call-overload]


def _longest(runs: list[dict[str, object]], key: str) -> float:
    return max(float(r[key]) for r in runs)  # type: ignore[arg-type]


def results_for(
    label: str, ours: list[dict[str, object]], theirs: list[dict[str, object]]
) -> list[Result]:
    stall = _longest(ours, "longest_stall_ms")
    if stall > STALL_GOAL_MS:
        print(f"!! the event loop stalled {stall:.1f} ms during our import (goal: at most 50 ms)")
    count = len(_warm(ours))
    return [
        Result(
            f"project import, 2,000 GAs / 300 devices / {FUNCTIONS} functions, {label} "
            f"(median of {count})",
            "ms",
            statistics.median(_warm(ours)),
            statistics.median(_warm(theirs)),
        ),
        Result(
            f"project import, {label}: longest event-loop stall ({len(ours)} imports, goal <= 50)",
            "ms",
            stall,
            _longest(theirs, "longest_stall_ms"),
        ),
        Result(
            f"project import, {label}: stall floor, executor busy as long ({len(ours)} runs)",
            "ms",
            _longest(ours, "floor_stall_ms"),
            _longest(theirs, "floor_stall_ms"),
        ),
        Result(
            f"project import, {label}: longest loop callback, CPU time ({len(ours)} imports)",
            "ms",
            _longest(ours, "longest_callback_cpu_ms"),
            _longest(theirs, "longest_callback_cpu_ms"),
        ),
        Result(
            f"project import, {label}: longest loop iteration, CPU time ({len(ours)} imports)",
            "ms",
            _longest(ours, "longest_iteration_cpu_ms"),
            _longest(theirs, "longest_iteration_cpu_ms"),
        ),
    ]


def _describe(side: str, runs: list[dict[str, object]]) -> None:
    first = runs[0]
    ordered = sorted(runs, key=lambda r: int(r["run"]))  # type: ignore[call-overload]
    times = ", ".join(f"{float(r['import_ms']):.0f}" for r in ordered)  # type: ignore[arg-type]
    print(
        f"   {side}: {first['parser']} with xknxproject {first['xknxproject']}, "
        f"{first['addresses']} addresses; imports {times} ms",
        file=sys.stderr,
    )


def run() -> list[Result]:
    python = knx_python()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-project-") as directory:
        folder = Path(directory)
        scale.write(folder)  # the keyring our import step checks the project against
        files = (
            ("plain", project.write(folder), None),
            ("protected", project.write(folder, protected=True), project.PASSWORD),
        )
        for label, path, password in files:
            collected: dict[str, list[dict[str, object]]] = {"ours": [], "knx": []}
            for number in range(ROUNDS):
                for side in ("ours", "knx"):
                    out = folder / f"{label}-{side}-{number}"
                    out.mkdir()
                    collected[side].extend(run_side(side, python, path, password, out))
            for side, runs in collected.items():
                _describe(f"{label} {side}", runs)
            results += results_for(label, collected["ours"], collected["knx"])
    return results
