"""Timing helpers shared by the benchmark sections."""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"

# Keyring file -> password (tests/fixtures/INDEX.md).
KEYRINGS = {
    "Secure Test.knxkeys": "passwordprogetto",
    "SecureTest.knxkeys": "test",
    "keyring.knxkeys": "pwd",
    "testcase.knxkeys": "password",
    "special_chars_secure_tunnel.knxkeys": "test",
}


@dataclass(frozen=True, slots=True)
class Result:
    """One measured figure for both implementations."""

    name: str
    unit: str  # "ops/s" (higher is better) or "ms" (lower is better)
    ours: float
    xknx: float | None

    @property
    def ratio(self) -> float | None:
        if self.xknx in (None, 0) or self.ours == 0:
            return None
        assert self.xknx is not None
        return self.ours / self.xknx if self.unit == "ops/s" else self.xknx / self.ours


def _rate(operation: Callable[[], object], seconds: float) -> float:
    count = 0
    batch = 1
    start = time.perf_counter()
    deadline = start + seconds
    while (now := time.perf_counter()) < deadline:
        for _ in range(batch):
            operation()
        count += batch
        batch = min(batch * 2, 4096)
    return count / (now - start)


def paired_ops_per_second(
    ours: Callable[[], object], theirs: Callable[[], object], *, seconds: float = 1.0
) -> tuple[float, float]:
    """Best of five alternating rounds each: a load spike hits both sides, not one."""
    rounds = 5
    best_ours = best_theirs = 0.0
    for _ in range(rounds):
        best_ours = max(best_ours, _rate(ours, seconds / rounds))
        best_theirs = max(best_theirs, _rate(theirs, seconds / rounds))
    return best_ours, best_theirs


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def print_results(results: list[Result]) -> None:
    width = max((len(r.name) for r in results), default=10)
    print(f"{'benchmark':<{width}}  {'ours':>12}  {'xknx':>12}  unit    ratio (ours better by)")
    for r in results:
        xknx = f"{r.xknx:12.1f}" if r.xknx is not None else f"{'-':>12}"
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        print(f"{r.name:<{width}}  {r.ours:12.1f}  {xknx}  {r.unit:<6}  {ratio}", flush=True)


class StallMonitor:
    """Sleeps ``tick`` seconds in a loop on the running event loop; the longest overshoot
    is the longest time the loop could not run anything else (a stall)."""

    def __init__(self, tick: float = 0.001) -> None:
        self.tick = tick
        self.longest = 0.0  # seconds
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.tick)
            self.longest = max(self.longest, time.perf_counter() - start - self.tick)

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[StallMonitor]:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await asyncio.sleep(0)  # running before the measured work starts
        try:
            yield self
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def run_pytest_bench(
    bench_file: Path,
    environment: dict[str, str],
    *,
    timeout: float,
    python: Path | None = None,
) -> None:
    """Run a pytest benchmark file (bench/ha_*.py) in a child process: the Home Assistant test
    plugin patches sockets, the event loop policy and more, kept out of this process. The
    file writes what it measured where ``environment`` tells it; RuntimeError if it fails."""
    command = [
        str(python or sys.executable),
        "-m",
        "pytest",
        str(bench_file),
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
    completed = subprocess.run(  # noqa: S603 - an interpreter and file of ours
        command,
        cwd=ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-4000:] + completed.stderr[-4000:])
        raise RuntimeError(f"{bench_file.name} failed ({completed.returncode})")
