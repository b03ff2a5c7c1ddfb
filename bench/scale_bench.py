"""Installations of real size (bench/scale.py's plan): keyring load, an entry of 500
entities, its memory, and toggle latency next to Home Assistant's built-in KNX integration.

One run of ``scripts/bench scale``:
1. writes the plan's keyring (2,000 group addresses, 300 devices, 8 tunnels) to a temporary
   directory and times loading it, ours against xknx's ``sync_load_keyring`` (alternating,
   our PBKDF2 cache cleared each time: both derive the password hash);
2. starts the plan's gateway in a process of its own (``python -m bench.scale serve``);
3. runs bench/ha_scale_bench.py with pytest against it, ROUNDS times each side, alternating:
   with our integration (this venv) and with Home Assistant's ``knx`` integration. That one
   pins an older xknx than the one the test suite uses as an oracle, so it runs in a venv of
   its own, ``.venv-haknx``, made here with uv: the Home Assistant of this venv and the
   requirements of its ``knx`` manifest (xknx, xknxproject, knx-frontend), pinned alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from bench import scale
from bench.common import ROOT, Result, run_pytest_bench
from custom_components.knx_secure.knx import crypto
from custom_components.knx_secure.knx.keyring import load_keyring

BENCH_FILE = Path(__file__).resolve().parent / "ha_scale_bench.py"
KNX_VENV = ROOT / ".venv-haknx"
LOADS = 7  # keyring loads per side, alternating
# Each side runs ROUNDS times, alternating (load from elsewhere hits both), with RUNS set-ups
# each; the first of a process also imports the integration and is left out of the medians.
ROUNDS = int(os.environ.get("BENCH_SCALE_ROUNDS", "2"))
RUNS = int(os.environ.get("BENCH_SCALE_RUNS", "3"))
TOGGLES = int(os.environ.get("BENCH_SCALE_TOGGLES", "20"))  # on + off per set-up
TIMEOUT = 600.0  # seconds per side
SETUP_GOAL_MS = 2000.0
STALL_GOAL_MS = 50.0


def keyring_load_results(path: Path) -> list[Result]:
    from xknx.secure.keyring import sync_load_keyring  # noqa: PLC0415 - xknx only here

    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(LOADS):
        crypto.derive_keyring_password_hash.cache_clear()
        start = time.perf_counter()
        load_keyring(path, scale.PASSWORD)
        ours.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        sync_load_keyring(path, scale.PASSWORD)
        theirs.append((time.perf_counter() - start) * 1000)
    return [
        Result(
            f"keyring load, 2,000 GAs / 300 devices / 8 tunnels (median of {LOADS})",
            "ms",
            statistics.median(ours),
            statistics.median(theirs),
        )
    ]


@contextmanager
def running_gateway(path: Path) -> Iterator[int]:
    """The plan's gateway in its own process; yields its port. Closing its stdin stops it."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.scale", "serve", str(path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
        yield int(str(ready["listening"]).rsplit(":", 1)[1])
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def knx_requirements() -> list[str]:
    """Home Assistant (this venv's version) and its knx integration's pinned requirements."""
    import homeassistant.components  # noqa: PLC0415 - knx itself needs what it pins

    components = Path(homeassistant.components.__file__).parent
    manifest = json.loads((components / "knx" / "manifest.json").read_text())
    return [
        f"homeassistant=={metadata.version('homeassistant')}",
        "pytest-homeassistant-custom-component=="
        + metadata.version("pytest-homeassistant-custom-component"),
        *manifest["requirements"],
    ]


def knx_python() -> Path:
    """The interpreter of .venv-haknx, made (or brought up to date) with uv first."""
    python = KNX_VENV / "bin" / "python"
    requirements = knx_requirements()
    stamp = KNX_VENV / ".bench-stamp"
    want = " ".join(requirements)
    if python.exists() and stamp.exists() and stamp.read_text() == want:
        return python
    print(f"   making {KNX_VENV.name}: {want}", file=sys.stderr, flush=True)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(KNX_VENV)], check=True)  # noqa: S603
    uv = Path(sys.executable).parent / "uv"
    subprocess.run(  # noqa: S603 - uv of this venv, fixed arguments
        [str(uv), "pip", "install", "-q", "--python", str(python), "-e", str(ROOT), *requirements],
        check=True,
        env={**os.environ, "VIRTUAL_ENV": str(KNX_VENV)},
    )
    stamp.write_text(want)
    return python


def run_side(
    side: str, python: Path, keyring: Path, port: int, out: Path
) -> list[dict[str, object]]:
    run_pytest_bench(
        BENCH_FILE,
        {
            "BENCH_SCALE_SIDE": side,
            "BENCH_SCALE_KEYRING": str(keyring),
            "BENCH_SCALE_PORT": str(port),
            "BENCH_SCALE_OUT": str(out),
            "BENCH_SCALE_RUNS": str(RUNS),
            "BENCH_SCALE_TOGGLES": str(TOGGLES),
        },
        timeout=TIMEOUT,
        python=python,
    )
    runs = [json.loads(path.read_text()) for path in out.glob(f"{side}-*.json")]
    if len(runs) != RUNS + 1:
        raise RuntimeError(f"expected {RUNS + 1} runs of {side}, got {len(runs)}")
    return sorted(runs, key=lambda run: int(run["run"]))


def _timed(runs: list[dict[str, object]]) -> list[dict[str, object]]:
    return [run for run in runs if "first_states_ms" in run]


def _warm(runs: list[dict[str, object]]) -> list[dict[str, object]]:
    return [run for run in _timed(runs) if int(run["run"]) > 0]  # type: ignore[call-overload]


def _memory(runs: list[dict[str, object]]) -> float:
    return statistics.median(float(run["memory_mb"]) for run in runs if "memory_mb" in run)  # type: ignore[arg-type]


def _values(runs: list[dict[str, object]], key: str) -> list[float]:
    return [float(run[key]) for run in runs]  # type: ignore[arg-type]


def _toggles(runs: list[dict[str, object]]) -> list[float]:
    return [float(t) for run in _timed(runs) for t in run["toggle_ms"]]  # type: ignore[attr-defined]


def _print_runs(side: str, runs: list[dict[str, object]]) -> None:
    for run in _timed(runs):
        toggles = run["toggle_ms"]
        assert isinstance(toggles, list)
        print(
            f"   {side} set-up {run['run']}: call {run['setup_call_ms']:.0f} ms, all first states "
            f"{run['first_states_ms']:.0f} ms; sleeper stall {run['longest_stall_ms']:.1f} ms "
            f"(wall clock) against the loop's own CPU time: callback "
            f"{run['longest_callback_cpu_ms']:.1f} ms, iteration "
            f"{run['longest_iteration_cpu_ms']:.1f} ms; preempted {run['involuntary_switches']}"
            f" times; load average {run['load_average']:.1f}; "
            f"toggle median {statistics.median(toggles):.2f} ms",
            file=sys.stderr,
        )


def _print_load(runs: list[dict[str, object]]) -> None:
    """The machine's load beside the stalls: the sleeper's stall counts the time the process
    waited for a CPU, the loop's CPU times do not."""
    loads = _values(_timed(runs), "load_average")
    print(
        f"   load average (1 min) at the set-ups' start: {min(loads):.1f} to {max(loads):.1f}"
        f" on {os.cpu_count()} CPUs",
        file=sys.stderr,
    )


def entry_results(ours: list[dict[str, object]], theirs: list[dict[str, object]]) -> list[Result]:
    """Medians over the set-ups after the first of each process (which also imports)."""
    ours_timed, theirs_timed = _warm(ours), _warm(theirs)
    count = len(ours_timed)
    setup = statistics.median(_values(ours_timed, "first_states_ms"))
    stall = max(_values(_timed(ours), "longest_stall_ms"))
    if setup > SETUP_GOAL_MS:
        print(f"!! set-up to all first states took {setup:.0f} ms (goal: under 2000 ms)")
    if stall > STALL_GOAL_MS:
        print(
            f"!! the 1 ms sleeper overshot by {stall:.1f} ms (goal: at most "
            f"{STALL_GOAL_MS:.0f} ms); the loop's own longest iteration took "
            f"{max(_values(_timed(ours), 'longest_iteration_cpu_ms')):.1f} ms of CPU"
        )
    return [
        Result(
            f"500-entity entry: set-up to all first states (median of {count})",
            "ms",
            setup,
            statistics.median(_values(theirs_timed, "first_states_ms")),
        ),
        Result(
            f"500-entity entry: longest sleeper stall, wall clock incl. waiting for a CPU "
            f"({len(_timed(ours))} set-ups, goal <= 50)",
            "ms",
            stall,
            max(_values(_timed(theirs), "longest_stall_ms")),
        ),
        Result(
            f"500-entity entry: longest loop callback, CPU time ({len(_timed(ours))} set-ups)",
            "ms",
            max(_values(_timed(ours), "longest_callback_cpu_ms")),
            max(_values(_timed(theirs), "longest_callback_cpu_ms")),
        ),
        Result(
            f"500-entity entry: longest loop iteration, CPU time ({len(_timed(ours))} set-ups)",
            "ms",
            max(_values(_timed(ours), "longest_iteration_cpu_ms")),
            max(_values(_timed(theirs), "longest_iteration_cpu_ms")),
        ),
        Result(
            f"500-entity entry: median sleeper stall, wall clock ({count} set-ups)",
            "ms",
            statistics.median(_values(ours_timed, "longest_stall_ms")),
            statistics.median(_values(theirs_timed, "longest_stall_ms")),
        ),
        Result(
            "500-entity entry: memory after first states (tracemalloc, median)",
            "MB",
            _memory(ours),
            _memory(theirs),
        ),
        Result(
            f"toggle: switch.turn_on/off -> status entity ({len(_toggles(ours))}, median)",
            "ms",
            statistics.median(_toggles(ours)),
            statistics.median(_toggles(theirs)),
        ),
        Result(
            "toggle: 90th percentile",
            "ms",
            statistics.quantiles(_toggles(ours), n=10)[-1],
            statistics.quantiles(_toggles(theirs), n=10)[-1],
        ),
    ]


def run() -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as directory:
        folder = Path(directory)
        keyring = scale.write(folder)
        results = keyring_load_results(keyring)
        knx = knx_python()
        ours: list[dict[str, object]] = []
        theirs: list[dict[str, object]] = []
        sides = (("ours", Path(sys.executable), ours), ("knx", knx, theirs))
        with running_gateway(keyring) as port:
            for number in range(ROUNDS):
                for side, python, collected in sides:
                    out = folder / f"{side}-{number}"
                    out.mkdir()
                    collected.extend(run_side(side, python, keyring, port, out))
    _print_runs("ours", ours)
    _print_runs("knx", theirs)
    _print_load(ours + theirs)
    return results + entry_results(ours, theirs)
