"""The national station layer (models/china-2030-stations.toml): size and cost of preparing it.

For each resolution budget ``f`` in 1/4, 1/2, 1 and 2 the scenario is prepared (cells, demand,
candidate stations, pairs within reach: :func:`chargeplan.inputs.prepare.prepare`, no solve)
with both density thresholds divided by ``f`` (``fine_zones.urban_density_per_km2`` = 1,500 /
f, ``suburban_density_per_km2`` = 300 / f): a larger budget lowers the density from which a
base cell is split into fine cells. A last run takes budget 1 with urban cells at resolution 7
(5.2 km2) instead of 8, and one at budget 1 with the demand rule alone
(``fine_zones.cell_sites = "demand"``, the rule before the catchment rule: a run
``budget:resolution:rule`` names its rule; without one the scenario's). Each run in a child
process of its own, so that its peak resident memory (``ru_maxrss``) is its own; the times and
sizes are also printed as ratios to the budget-1 run. Besides the sizes, each run counts the
urban cells with people that have no candidate within reach (no pair) and their share of the
peak demand, and the largest connected component of the reach graph (cells and candidates
joined by their pairs; the largest by pairs): a decomposed solve can split the model no finer.
Run by hand from the repository root (a few minutes)::

    PYTHONPATH=src nice .venv/bin/python benchmarks/national_layer.py
    PYTHONPATH=src nice .venv/bin/python benchmarks/national_layer.py --runs 1:8 1:8:demand
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "models" / "china-2030-stations.toml"
URBAN, SUBURBAN = 1_500.0, 300.0


def _one(budget: float, urban_resolution: int, rule: str) -> dict[str, float | str]:
    """Prepare the scenario at one budget, urban resolution and candidate rule (``""``: the
    scenario's) in this process; sizes, cells out of reach, the largest component, seconds
    and peak memory."""
    import warnings

    from chargeplan.config.scenario import load_scenario
    from chargeplan.inputs.prepare import prepare

    warnings.simplefilter("ignore")
    values: dict[str, object] = {
        "fine_zones.urban_density_per_km2": URBAN / budget,
        "fine_zones.suburban_density_per_km2": SUBURBAN / budget,
        "fine_zones.urban_h3_resolution": urban_resolution,
        "fine_zones.candidate_h3_resolution": urban_resolution - 1,
    }
    if rule:
        values["fine_zones.cell_sites"] = rule
    scenario = load_scenario(SCENARIO).with_values(values, where="benchmarks/national_layer.py")
    start = time.perf_counter()
    inputs = prepare(scenario)
    seconds = time.perf_counter() - start
    zones, pairs = inputs.zones, inputs.pairs
    settlement = zones["settlement"].value_counts()
    in_reach = np.zeros(len(zones), bool)
    in_reach[pairs["zone"].to_numpy()] = True
    out = ((zones["settlement"] == "urban") & (zones["popu_2020"] > 0)).to_numpy() & ~in_reach
    peak = zones["peak_kwh"].to_numpy(float)
    component = _largest_component(pairs, len(zones), len(inputs.sites))
    assert scenario.fine_zones is not None
    return {
        "budget": budget,
        "urban_res": urban_resolution,
        "rule": scenario.fine_zones.cell_sites,
        "cells": len(zones),
        "urban_cells": int(settlement.get("urban", 0)),
        "candidates": len(inputs.sites),
        "pairs": len(pairs),
        "urban_out_of_reach": int(out.sum()),
        "out_of_reach_pct": round(100 * peak[out].sum() / peak.sum(), 2),
        **component,
        "prepare_s": round(seconds, 1),
        "peak_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }


def _largest_component(pairs: pd.DataFrame, n_zones: int, n_sites: int) -> dict[str, int]:
    """Cells, candidates and pairs of the reach graph's connected component with the most
    pairs (nodes: cells and candidates; edges: pairs)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    zone, site = pairs["zone"].to_numpy(), pairs["site"].to_numpy() + n_zones
    n = n_zones + n_sites
    graph = coo_matrix((np.ones(zone.size), (zone, site)), shape=(n, n))
    count, label = connected_components(graph, directed=False)
    biggest = int(np.bincount(label[zone], minlength=count).argmax())
    return {
        "comp_cells": int((label[:n_zones] == biggest).sum()),
        "comp_candidates": int((label[n_zones:] == biggest).sum()),
        "comp_pairs": int((label[zone] == biggest).sum()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs",
        nargs="+",
        default=["0.25:8", "0.5:8", "1:8", "2:8", "1:7", "1:8:demand"],
        help="budget:urban resolution[:candidate rule] runs",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        budget, resolution, rule = (args.one + "::").split(":")[:3]
        print(json.dumps(_one(float(budget), int(resolution), rule)))
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
        "rule",
        "cells",
        "urban_cells",
        "candidates",
        "pairs",
        "urban_out_of_reach",
        "out_of_reach_pct",
        "comp_cells",
        "comp_candidates",
        "comp_pairs",
        "prepare_s",
        "peak_gib",
    )
    print("\n| " + " | ".join(head) + " | x cells | x pairs | x time | x memory |")
    print("|" + "---|" * (len(head) + 4))
    for row in rows:
        ratios = [row[k] / reference[k] for k in ("cells", "pairs", "prepare_s", "peak_gib")]
        values = [
            f"{row[k]:g}" if k == "budget" else row[k] if k == "rule" else f"{row[k]:,}"
            for k in head
        ]
        print("| " + " | ".join(values + [f"{r:.2f}" for r in ratios]) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
