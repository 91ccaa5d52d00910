"""What Pyomo costs: chargeplan's build + solve against raw highspy on the very same matrix.

Run::

    .venv/bin/python benchmarks/build_overhead.py                 # about 2 minutes on 2 cores
    .venv/bin/python benchmarks/build_overhead.py --zones 5000 --sites 1000 --radius 90

The instances (seed 0): zones and candidate sites uniform on a 1000 x 1000 square, a zone
reaches the sites within the radius, demand gamma(2, 25) peak kWh per zone, one charger type
sized in modules of ``q = 50`` peak kWh per charger (CNY 1,000 each, at most 60 per site),
fixed cost CNY 5-20 k per site, access cost 0.5 per unit of demand and distance, unmet
demand at 5,000 per unit: the capacitated model with modular chargers (``x`` per pair, ``u``
per zone, ``y`` and integer ``n`` per site; the strong links ``x <= y`` as chargeplan adds them
by default, up to 50,000 pairs).

**To the solver's start**, on the large instance (``--zones 20000 --sites 4000 --radius 45.2``:
about 494,000 pairs), three ways from the problem's arrays to a model loaded in HiGHS:

- ``raw highspy``: :func:`chargeplan.model.formulation.build_milp` (numpy/scipy assembly), then the
arrays
  to ``highspy`` in one ``passModel`` (:meth:`chargeplan.model.sparse.SparseMILP.to_highs`, columns
  in the order the Pyomo path passes them, so HiGHS gets the identical model): the floor any
  Python front end can reach;
- ``chargeplan``: what :func:`chargeplan.solve` does before HiGHS runs: the same assembly, the
  labelled Pyomo model over the arrays (:func:`chargeplan.model.formulation.to_model`: Sets of
  site, zone and type ids, ``Var`` and rows indexed by them) and the
  :class:`chargeplan.solver.interface.SparseHighs` hand-off (``set_instance``);
- ``pyomo rules``: the textbook way, a ``Set``/``Var``/``Constraint`` model with one rule per
  row summing with ``quicksum``, handed to Pyomo's ``contrib.solver`` HiGHS interface
  (``set_instance``); skip it with ``--skip-rules``.

That instance takes HiGHS far longer than any front end to solve, so **build + solve** is
compared on a smaller instance of the same density that HiGHS solves to the gap
(``--solve-zones 2000 --solve-sites 400 --solve-radius 141``, about 49,000 pairs): raw
highspy (build, ``run()``, the solution read back as an array) against the public
``chargeplan.solve`` (build, hand-off, solve, solution loaded and decoded into the plan's
arrays) and the rule model solved through Pyomo; best of ``--repeat`` interleaved runs. Same
options: MIP gap ``--gap``, one thread; the objective values show that HiGHS did the same work.
"""

from __future__ import annotations

import argparse
import gc
import time
import warnings

import highspy  # noqa: F401  (imported before any timing: its import takes 0.1-0.2 s)
import numpy as np
import pandas as pd
import pyomo.environ as pyo
from random_square import random_square

import chargeplan
from chargeplan.model.formulation import build_milp, to_model
from chargeplan.model.problem import STRONG_LINK_LIMIT, FacilityProblem
from chargeplan.solver.options import SolverOptions


def capacitated_instance(
    zones: int = 20_000, sites: int = 4_000, radius: float = 45.2, seed: int = 0
) -> FacilityProblem:
    """The capacitated model with modular chargers on a random square (module docstring)."""
    problem, _ = random_square(
        zones,
        sites,
        side_km=1000.0,
        radius_km=radius,
        access_cny_per_kwh_km=0.5,
        max_chargers=60.0,
        unmet_cny_per_kwh=5000.0,
        seed=seed,
    )
    return problem


def to_start(problem: FacilityProblem, skip_rules: bool) -> dict[str, dict]:
    """Seconds from the arrays to a model loaded in HiGHS, three ways (module docstring)."""
    from pyomo.contrib.solver.solvers.highs import Highs

    from chargeplan.solver.interface import SparseHighs

    rows = {}
    gc.collect()
    start = time.perf_counter()
    lp, _ = build_milp(problem)
    lp.to_highs(pyomo_order=True)
    rows["raw highspy"] = {"build_s": time.perf_counter() - start, "handoff_s": 0.0}
    del lp
    gc.collect()
    start = time.perf_counter()
    lp, ix = build_milp(problem)
    model = to_model(lp, ix, problem)
    built = time.perf_counter()
    SparseHighs().set_instance(model)
    rows["chargeplan"] = {"build_s": built - start, "handoff_s": time.perf_counter() - built}
    del lp, model
    if not skip_rules:
        gc.collect()
        start = time.perf_counter()
        model = rule_model(problem)
        built = time.perf_counter()
        Highs().set_instance(model)
        rows["pyomo rules (quicksum)"] = {
            "build_s": built - start,
            "handoff_s": time.perf_counter() - built,
        }
        del model
    for row in rows.values():
        row["total_s"] = row["build_s"] + row["handoff_s"]
    return rows


def raw_highspy(problem: FacilityProblem, options: SolverOptions) -> dict:
    """Arrays straight into highspy: build, run, read the solution."""
    start = time.perf_counter()
    lp, _ = build_milp(problem)
    highs = lp.to_highs(pyomo_order=True)
    built = time.perf_counter()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", options.time_limit_s)
    highs.setOptionValue("mip_rel_gap", options.mip_rel_gap)
    highs.setOptionValue("threads", options.threads)
    highs.run()
    values = np.zeros(lp.n_cols)
    values[lp.highs_order()] = highs.getSolution().col_value
    end = time.perf_counter()
    return {
        "build_s": built - start,
        "solve_s": end - built,
        "total_s": end - start,
        "objective": highs.getInfo().objective_function_value + lp.objective_offset,
    }


def via_chargeplan(problem: FacilityProblem, options: SolverOptions) -> dict:
    """chargeplan's public path: ``chargeplan.solve``."""
    start = time.perf_counter()
    solution = chargeplan.solve(problem, options)
    end = time.perf_counter()
    return {
        "build_s": solution.build_seconds,
        "solve_s": solution.solve_seconds,
        "total_s": end - start,
        "objective": solution.objective,
    }


def rule_model(problem: FacilityProblem) -> pyo.ConcreteModel:
    """The same formulation written the textbook Pyomo way: sets, rules and ``quicksum``."""
    zones, sites = len(problem.zone_ids), len(problem.site_ids)
    zone_of = problem.pair_zone.tolist()
    by_zone = pd.Series(np.arange(len(zone_of))).groupby(problem.pair_zone).agg(list)
    by_site = pd.Series(np.arange(len(zone_of))).groupby(problem.pair_site).agg(list)
    cost, demand = problem.pair_cost[:, 0].tolist(), problem.demand[:, 0].tolist()
    q = float(problem.charger_capacity[0])
    limit = problem.max_chargers[:, 0].tolist()
    m = pyo.ConcreteModel()
    m.P = pyo.RangeSet(0, len(zone_of) - 1)
    m.I = pyo.RangeSet(0, zones - 1)
    m.J = pyo.RangeSet(0, sites - 1)
    m.x = pyo.Var(m.P, bounds=(0, 1))
    m.u = pyo.Var(m.I, bounds=(0, 1))
    m.y = pyo.Var(m.J, domain=pyo.Binary)
    m.n = pyo.Var(m.J, domain=pyo.NonNegativeIntegers, bounds=lambda m, j: (0, limit[j]))
    m.assign = pyo.Constraint(
        m.I, rule=lambda m, i: pyo.quicksum(m.x[p] for p in by_zone.get(i, [])) + m.u[i] == 1
    )
    m.capacity = pyo.Constraint(
        m.J,
        rule=lambda m, j: (
            pyo.quicksum(demand[zone_of[p]] * m.x[p] for p in by_site.get(j, [])) <= q * m.n[j]
        ),
    )
    m.open = pyo.Constraint(m.J, rule=lambda m, j: m.n[j] <= limit[j] * m.y[j])
    if len(zone_of) <= STRONG_LINK_LIMIT:  # chargeplan's pair_links = "auto"
        site_of = problem.pair_site.tolist()
        m.link = pyo.Constraint(m.P, rule=lambda m, p: m.x[p] <= m.y[site_of[p]])
    fixed, price = problem.fixed_cost.tolist(), problem.charger_cost[:, 0].tolist()
    penalty = float(problem.unmet_penalty[0])
    m.obj = pyo.Objective(
        expr=pyo.quicksum(fixed[j] * m.y[j] + price[j] * m.n[j] for j in m.J)
        + pyo.quicksum(cost[p] * m.x[p] for p in m.P)
        + pyo.quicksum(penalty * demand[i] * m.u[i] for i in m.I)
    )
    return m


def pyomo_rules(problem: FacilityProblem, options: SolverOptions) -> dict:
    """Build the rule model and solve it through Pyomo's HiGHS interface."""
    from pyomo.contrib.solver.solvers.highs import Highs

    start = time.perf_counter()
    model = rule_model(problem)
    built = time.perf_counter()
    results = Highs().solve(
        model,
        time_limit=options.time_limit_s,
        rel_gap=options.mip_rel_gap,
        threads=options.threads,
        load_solutions=True,
        raise_exception_on_nonoptimal_result=False,
    )
    end = time.perf_counter()
    return {
        "build_s": built - start,
        "solve_s": end - built,
        "total_s": end - start,
        "objective": results.incumbent_objective,
    }


def describe(problem: FacilityProblem, label: str) -> None:
    """One line: size of the instance and of its model."""
    lp, _ = build_milp(problem)
    matrix, _, _ = lp.matrix()
    print(
        f"{label}: {len(problem.zone_ids):,} zones x {len(problem.site_ids):,} sites, "
        f"{len(problem.pair_zone):,} pairs; {lp.n_cols:,} columns, {matrix.shape[0]:,} rows, "
        f"{matrix.nnz:,} nonzeros",
        flush=True,
    )


def main() -> None:
    """Run both comparisons and print the tables and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zones", type=int, default=20_000)
    parser.add_argument("--sites", type=int, default=4_000)
    parser.add_argument("--radius", type=float, default=45.2)
    parser.add_argument("--solve-zones", type=int, default=2_000)
    parser.add_argument("--solve-sites", type=int, default=400)
    parser.add_argument("--solve-radius", type=float, default=141.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gap", type=float, default=0.01)
    parser.add_argument("--skip-rules", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="build + solve runs (best kept)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    large = capacitated_instance(args.zones, args.sites, args.radius, args.seed)
    describe(large, "to the solver's start")
    table = pd.DataFrame(to_start(large, args.skip_rules)).T
    print(table.round(2).to_string())
    raw = table.loc["raw highspy", "total_s"]
    print(f"chargeplan / raw highspy: {table.loc['chargeplan', 'total_s'] / raw:.2f}x")
    if not args.skip_rules:
        rules = table.loc["pyomo rules (quicksum)", "total_s"]
        print(f"pyomo rules / raw highspy: {rules / raw:.1f}x")
    del large

    small = capacitated_instance(args.solve_zones, args.solve_sites, args.solve_radius, args.seed)
    describe(small, f"\nbuild + solve (MIP gap {args.gap:g}, one thread)")
    options = SolverOptions(time_limit_s=600.0, mip_rel_gap=args.gap, threads=1)
    cases = {"raw highspy": raw_highspy, "chargeplan": via_chargeplan}
    if not args.skip_rules:
        cases["pyomo rules (quicksum)"] = pyomo_rules
    runs = {name: [] for name in cases}
    for _ in range(args.repeat):  # interleaved, so that drift hits every case alike
        for name, run in cases.items():
            gc.collect()
            runs[name].append(run(small, options))
    rows = {name: min(found, key=lambda row: row["total_s"]) for name, found in runs.items()}
    table = pd.DataFrame(rows).T
    print(table.round(3).to_string())
    ratio = rows["chargeplan"]["total_s"] / rows["raw highspy"]["total_s"]
    print(f"chargeplan / raw highspy: {ratio:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
