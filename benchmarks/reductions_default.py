"""The reductions on a scenario: plan it with and without them, compare time and objective.

Run: ``.venv/bin/python benchmarks/reductions_default.py [models/china-2030.toml] [--repeat 2]``
(about 1 minute for the default scenario). Prints what the reductions remove, then per run the
plan's time (solve and build as the plan reports them, and wall time of
``chargeplan.plan_network``), objective, gap, sites and chargers, alternating
``reduce=True`` / ``reduce=False`` so that drift hits both alike. The figures in
``docs/scale.md`` ("Reductions") come from this script.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import warnings

import pandas as pd

import chargeplan
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.reduce import reduce_problem


def main() -> None:
    """Plan the scenario with and without the reductions and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="models/china-2030.toml")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    scenario = chargeplan.load_scenario(args.scenario)
    inputs = chargeplan.prepare(scenario)
    problem = chargeplan.build_problem(scenario, inputs)
    reduction = reduce_problem(problem)
    print(
        f"{args.scenario}: {len(problem.zone_ids)} zones, {len(problem.site_ids)} sites, "
        f"{len(problem.pair_zone)} pairs; reductions merge {reduction.merged_zones} zones and "
        f"drop {reduction.dropped_sites} sites",
        flush=True,
    )
    base = SolverOptions(
        time_limit_s=scenario.solver.time_limit_s,
        mip_rel_gap=scenario.solver.mip_rel_gap,
        threads=scenario.solver.threads,
    )
    rows = []
    for run in range(args.repeat):
        for reduce in (True, False):
            options = dataclasses.replace(base, reduce=reduce)
            start = time.perf_counter()
            plan = chargeplan.plan_network(scenario, inputs=inputs, solver=options)
            seconds = time.perf_counter() - start
            summary = plan.summary
            rows.append(
                {
                    "run": run + 1,
                    "reduce": reduce,
                    "plan_s": round(seconds, 1),
                    "objective_cny": round(summary["total_cost_cny"]),
                    "gap_pct": round(100 * summary["gap"], 3),
                    "sites": summary["sites_opened"],
                    "chargers": summary["chargers"],
                }
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    best = table.groupby("reduce")["plan_s"].min()
    spread = table["objective_cny"].max() / table["objective_cny"].min() - 1
    print(
        f"\nbest plan time: {best[True]:.1f} s with, {best[False]:.1f} s without the "
        f"reductions; objectives differ by {100 * spread:.4f} % (MIP gap "
        f"{100 * base.mip_rel_gap:g} %)"
    )


if __name__ == "__main__":
    main()
