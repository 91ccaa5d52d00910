"""The national station layer (models/china-2030-stations.toml): size and cost of preparing it.

For each resolution budget ``f`` in 1/4, 1/2, 1 and 2 the scenario is prepared (cells, demand,
candidate stations, pairs within reach: :func:`chargeplan.inputs.prepare.prepare`, no solve)
with both density thresholds divided by ``f`` (``fine_zones.urban_density_per_km2`` = 1,500 /
f, ``suburban_density_per_km2`` = 300 / f): a larger budget lowers the density from which a
base cell is split into fine cells. A last run takes budget 1 with urban cells at resolution 7
(5.2 km2) instead of 8. Each run in a child process of its own, so that
its peak resident memory (``ru_maxrss``) is its own; the times and sizes are also printed as
ratios to the budget-1 run. Run by hand from the repository root (a few minutes)::

    PYTHONPATH=src nice .venv/bin/python benchmarks/national_layer.py
    PYTHONPATH=src nice .venv/bin/python benchmarks/national_layer.py --runs 1:8   # one run
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "models" / "china-2030-stations.toml"
URBAN, SUBURBAN = 1_500.0, 300.0


def _one(budget: float, urban_resolution: int) -> dict[str, float]:
    """Prepare the scenario at one budget and urban resolution in this process; sizes,
    seconds and peak memory."""
    import warnings

    from chargeplan.config.scenario import load_scenario
    from chargeplan.inputs.prepare import prepare

    warnings.simplefilter("ignore")
    scenario = load_scenario(SCENARIO).with_values(
        {
            "fine_zones.urban_density_per_km2": URBAN / budget,
            "fine_zones.suburban_density_per_km2": SUBURBAN / budget,
            "fine_zones.urban_h3_resolution": urban_resolution,
            "fine_zones.candidate_h3_resolution": urban_resolution - 1,
        },
        where="benchmarks/national_layer.py",
    )
    start = time.perf_counter()
    inputs = prepare(scenario)
    seconds = time.perf_counter() - start
    settlement = inputs.zones["settlement"].value_counts()
    return {
        "budget": budget,
        "urban_res": urban_resolution,
        "cells": len(inputs.zones),
        "urban_cells": int(settlement.get("urban", 0)),
        "candidates": len(inputs.sites),
        "pairs": len(inputs.pairs),
        "prepare_s": round(seconds, 1),
        "peak_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs",
        nargs="+",
        default=["0.25:8", "0.5:8", "1:8", "2:8", "1:7"],
        help="budget:urban resolution pairs",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        budget, resolution = args.one.split(":")
        print(json.dumps(_one(float(budget), int(resolution))))
        return 0
    rows = []
    for run in args.runs:
        done = subprocess.run(
            [sys.executable, __file__, "--one", run],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    reference = next((r for r in rows if (r["budget"], r["urban_res"]) == (1.0, 8)), rows[0])
    head = (
        "budget",
        "urban_res",
        "cells",
        "urban_cells",
        "candidates",
        "pairs",
        "prepare_s",
        "peak_gib",
    )
    print("\n| " + " | ".join(head) + " | x cells | x pairs | x time | x memory |")
    print("|" + "---|" * (len(head) + 4))
    for row in rows:
        ratios = [row[k] / reference[k] for k in ("cells", "pairs", "prepare_s", "peak_gib")]
        values = [f"{row[k]:g}" if k == "budget" else f"{row[k]:,}" for k in head]
        print("| " + " | ".join(values + [f"{r:.2f}" for r in ratios]) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
