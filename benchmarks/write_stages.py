"""CPU seconds of ``write_plan``'s stages on one thread, and are two output folders the same?

Run::

    # a finished run's plan, pickled with its scenario (as ``chargeplan report`` reads it)
    PYTHONPATH=src .venv/bin/python benchmarks/write_stages.py --pickle RUN_DIR /tmp/plan.pkl
    # the stages: each function's thread CPU (the main thread's; the GeoPackage and the
    # regions' shapes are written by threads of their own), and the files into OUT
    PYTHONPATH=src nice .venv/bin/python benchmarks/write_stages.py --plan /tmp/plan.pkl OUT
    # byte for byte: every file of two folders (report.html's assumptions table aside: its
    # sources are read from the scenario files, which may have changed in between)
    .venv/bin/python benchmarks/write_stages.py --same DIR_A DIR_B

Prints one line per stage (seconds, calls, name) or per file (``same`` / ``DIFF``); ``--same``
exits 1 if a file differs.
"""

from __future__ import annotations

import argparse
import collections
import functools
import hashlib
import importlib
import pickle
import re
import sys
import time
from pathlib import Path
from typing import Any

#: (module, function) timed: the stages of ``write_plan`` and what they call.
STAGES = (
    [
        ("chargeplan.outputs.write", f)
        for f in ("_station_tables", "_lines", "_write_tables", "write_xlsx", "write_economics")
    ]
    + [("chargeplan.outputs.write", f) for f in ("_write_map", "_write_layers", "_write_pages")]
    + [("chargeplan.results.gaps", f) for f in ("analyse_gaps", "zone_distances", "site_regions")]
    + [
        ("chargeplan.outputs.write", "write_csv"),
        ("chargeplan.outputs.maps", "draw_polygons"),
        ("chargeplan.outputs.html", "_png"),
        ("chargeplan.outputs.fonts", "embedded_font"),
        ("chargeplan.outputs.report_tables", "top_sites"),
        ("chargeplan.outputs.economics", "city_economics"),
    ]
)


def _timed(module: Any, name: str, spent: dict[str, list[float]]) -> None:
    function = getattr(module, name)

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name][0] += 1
            spent[name][1] += time.thread_time() - start

    setattr(module, name, timed)


def stages(plan_file: Path, out: Path) -> None:
    """Write the pickled plan into ``out``, timing :data:`STAGES`."""
    with plan_file.open("rb") as handle:
        plan, scenario = pickle.load(handle)
    spent: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
    for module, name in STAGES:
        _timed(importlib.import_module(module), name, spent)
    from chargeplan.outputs.write import write_plan

    wall, cpu, main = time.perf_counter(), time.process_time(), time.thread_time()
    write_plan(plan, out, map_png=True, report=True, scenario=scenario)
    print(
        f"wall {time.perf_counter() - wall:.1f} s, CPU {time.process_time() - cpu:.1f} s, "
        f"main thread {time.thread_time() - main:.1f} s"
    )
    for name, (calls, seconds) in sorted(spent.items(), key=lambda kv: -kv[1][1]):
        print(f"{seconds:7.2f} s {int(calls):3d}x {name}")


def same(a: Path, b: Path) -> bool:
    """Print whether each file of ``a`` and ``b`` holds the same bytes."""
    assumptions = re.compile(rb'<table class="assumptions">.*?</table>', re.S)
    ok = True
    for name in sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()}):
        left, right = a / name, b / name
        if not (left.is_file() and right.is_file()):
            print(f"MISSING {name}")
            ok = False
            continue
        one, two = left.read_bytes(), right.read_bytes()
        if name == "report.html":
            one, two = assumptions.sub(b"", one), assumptions.sub(b"", two)
        equal = hashlib.sha256(one).digest() == hashlib.sha256(two).digest()
        print(f"{'same' if equal else 'DIFF'} {name}")
        ok &= equal
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pickle", nargs=2, type=Path, metavar=("RUN_DIR", "PLAN"))
    parser.add_argument("--plan", nargs=2, type=Path, metavar=("PLAN", "OUT"))
    parser.add_argument("--same", nargs=2, type=Path, metavar=("DIR_A", "DIR_B"))
    args = parser.parse_args()
    if args.pickle:
        from chargeplan.outputs.runs import read_run, run_scenario_of

        run, plan_file = args.pickle
        with plan_file.open("wb") as handle:
            pickle.dump((read_run(run), run_scenario_of(run)), handle, protocol=5)
    elif args.plan:
        stages(*args.plan)
    elif args.same:
        sys.exit(0 if same(*args.same) else 1)
    else:
        parser.error("give --pickle, --plan or --same")


if __name__ == "__main__":
    main()
