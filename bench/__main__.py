"""Benchmarks: our library next to xknx, same inputs, one run, reported as ratios.

Run with `scripts/bench` (all sections) or `scripts/bench library network routing ha scale project`.
Numbers are throughput (ops/s, higher is better) or latency (ms, lower is better);
the ratio column is always "how many times better ours is" (> 1 means ours wins).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

from bench.common import Result, print_results

SECTIONS: dict[str, Callable[[], list[Result]]] = {}


def _library() -> list[Result]:
    from bench import library  # noqa: PLC0415 - sections import their heavy deps lazily

    return library.run()


def _network() -> list[Result]:
    from bench import network  # noqa: PLC0415

    return asyncio.run(network.run())


def _routing() -> list[Result]:
    from bench import routing  # noqa: PLC0415

    return asyncio.run(routing.run())


def _ha() -> list[Result]:
    from bench import ha  # noqa: PLC0415

    return ha.run()


def _scale() -> list[Result]:
    from bench import scale_bench  # noqa: PLC0415

    return scale_bench.run()


def _project() -> list[Result]:
    from bench import project_bench  # noqa: PLC0415

    return project_bench.run()


SECTIONS.update(
    library=_library, network=_network, routing=_routing, ha=_ha, scale=_scale, project=_project
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("sections", nargs="*", default=list(SECTIONS))
    args = parser.parse_args(argv)
    results: list[Result] = []
    for name in args.sections:
        print(f"== {name}", file=sys.stderr, flush=True)
        section = SECTIONS[name]()
        print_results(section)
        results.extend(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
