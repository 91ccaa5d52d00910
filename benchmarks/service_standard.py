"""A service standard on a scenario: one radius vs reach by settlement type vs coverage targets.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/service_standard.py
[models/shenzhen-2030.toml] [--threads N] [--east-of-m X] [--time-limit S]`` (three plans, each
within the time limit: the scenario's unless given). ``--east-of-m``: only the zones whose
demand centre lies east of X metres in the scenario's CRS and the sites east of X - 10 km (so
that edge zones keep their sites), with the users scaled by their share of the population (as
``tests/test_shenzhen.py`` cuts central Shenzhen); Shenzhen's suburban zones lie mostly in the
east, e.g. ``--east-of-m 515000``. Prints, per variant, the pairs, the plan's time (build,
solve, wall time of preparing and planning), status, gap, objective, sites opened, coverage and the
share served within the standard per settlement type, with each variant's time as a ratio of
the first (the scenario as it is). The figures in ``docs/service.md`` come from this script.
"""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Any

import geopandas as gpd

import chargeplan
from chargeplan.solver.options import SolverOptions

STANDARD = {"urban_km": 3, "suburban_km": 10, "rural_km": 25}


def variants(scenario: chargeplan.Scenario) -> dict[str, chargeplan.Scenario]:
    """The scenario as is, with the standard (no target), and with an urban 90 % target."""
    return {
        "one radius": scenario,
        "standard": scenario.with_values({"reach.standard": STANDARD}),
        "standard + urban 90 %": scenario.with_values(
            {"reach.standard": STANDARD, "reach.targets": {"urban": 0.9}}
        ),
    }


def east_part(
    scenario: chargeplan.Scenario, east_of_m: float
) -> tuple[chargeplan.Scenario, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The zones east of ``east_of_m`` (scenario CRS), the sites east of it less 10 km, and the
    scenario with the users scaled by the zones' share of the population."""
    zones = gpd.read_parquet(scenario.zones.file)
    sites = gpd.read_parquet(scenario.sites.file)
    crs = scenario.reach.crs
    x = zones.geometry.representative_point().to_crs(crs).x
    population = scenario.zones.population_column
    share = zones.loc[x >= east_of_m, population].sum() / zones[population].sum()
    zones = zones[x >= east_of_m]
    sites = sites[sites.geometry.to_crs(crs).x >= east_of_m - 10_000]
    users = round(scenario.users.target_premium_users * share)
    return scenario.with_values({"users.target_premium_users": users}), zones, sites


def main() -> None:
    """Plan each variant and print one line per plan."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="models/shenzhen-2030.toml")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--east-of-m", type=float, default=None)
    parser.add_argument("--time-limit", type=float, default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    base = chargeplan.load_scenario(args.scenario)
    zones = sites = None
    if args.east_of_m is not None:
        base, zones, sites = east_part(base, args.east_of_m)
        print(f"east of {args.east_of_m:.0f} m: {len(zones)} zones, {len(sites)} sites")
    reference: float | None = None
    for name, scenario in variants(base).items():
        options = SolverOptions(
            time_limit_s=args.time_limit or scenario.solver.time_limit_s,
            mip_rel_gap=scenario.solver.mip_rel_gap,
            threads=args.threads,
        )
        start = time.perf_counter()
        inputs = chargeplan.prepare(scenario, zones=zones, sites=sites)
        plan = chargeplan.plan_network(scenario, inputs=inputs, solver=options)
        wall = time.perf_counter() - start
        reference = reference or wall
        s: dict[str, Any] = plan.summary
        shares = {t: s.get(f"standard_{t}_served_share") for t in ("urban", "suburban", "rural")}
        shown = ", ".join(f"{t} {v:.3f}" for t, v in shares.items() if v == v and v is not None)
        print(
            f"{name:24s} pairs {s['pairs']:6d}  build {s['build_seconds']:5.1f} s  solve "
            f"{s['solve_seconds']:5.1f} s  wall {wall:5.1f} s ({wall / reference:.2f}x)  "
            f"{s['status']} gap {100 * s['gap']:.2f} %  objective {s['objective_value']:.4g}  "
            f"sites {s['sites_opened']}  coverage {s['coverage']:.4f}  served within standard: "
            f"{shown or '-'}",
            flush=True,
        )


if __name__ == "__main__":
    main()
