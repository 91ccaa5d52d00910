"""Compare queue-aware (Erlang C) and linear charger sizing on a scenario.

Run: ``python benchmarks/compare_sizing_rules.py [models/china-2030.toml]``. Prints chargers,
capex, coverage and run time under each rule (same inputs, same solver options), and the sites
whose charger counts differ most. The figures in docs/model.md come from this script.
"""

from __future__ import annotations

import sys
import time
import warnings

import pandas as pd

import chargeplan


def main(path: str = "models/china-2030.toml") -> None:
    """Solve the scenario under both sizing rules and print the comparison."""
    warnings.simplefilter("ignore")
    scenario = chargeplan.load_scenario(path)
    inputs = chargeplan.prepare(scenario)
    plans, rows = {}, []
    for rule in ("linear", "queue"):
        start = time.perf_counter()
        plan = chargeplan.plan_network(scenario.with_values({"sizing.rule": rule}), inputs=inputs)
        seconds = time.perf_counter() - start
        plans[rule] = plan
        s = plan.summary
        rows.append(
            {
                "rule": rule,
                "sites": s["sites_opened"],
                "dc_fast": s["chargers_dc_fast"],
                "ac_destination": s["chargers_ac_destination"],
                "chargers": s["chargers"],
                "capex_bn_cny": round(s["capex_cny"] / 1e9, 3),
                "coverage_pct": round(100 * s["coverage"], 2),
                "gap_pct": round(100 * s["gap"], 3),
                "seconds": round(seconds, 1),
            }
        )
    table = pd.DataFrame(rows).set_index("rule")
    print(table.to_string())
    ratio = table.loc["queue", "chargers"] / table.loc["linear", "chargers"]
    print(
        f"\nqueue / linear chargers: {ratio:.3f}; capex: "
        f"{table.loc['queue', 'capex_bn_cny'] / table.loc['linear', 'capex_bn_cny']:.3f}"
    )
    a, b = plans["linear"].sites, plans["queue"].sites
    diff = pd.DataFrame(
        {
            "name": a["name"],
            "dc_linear": a["chargers_dc_fast"],
            "dc_queue": b["chargers_dc_fast"],
            "ac_linear": a["chargers_ac_destination"],
            "ac_queue": b["chargers_ac_destination"],
            "util_dc_queue": b["utilisation_dc_fast"].round(3),
        }
    )
    diff["dc_added_pct"] = (100 * (diff["dc_queue"] / diff["dc_linear"] - 1)).round(1)
    opened = diff[(diff["dc_linear"] > 0) | (diff["dc_queue"] > 0)]
    print(f"\nsites open under one rule only: {int(((a['open']) != (b['open'])).sum())}")
    print("\nsmallest open DC sites (queueing adds most, relatively):")
    print(opened.sort_values("dc_queue").head(8).to_string())
    print("\nlargest DC sites:")
    print(opened.sort_values("dc_queue").tail(5).to_string())


if __name__ == "__main__":
    main(*sys.argv[1:])
