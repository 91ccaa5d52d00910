"""Issue 13 item 1: the strong rows ``x_ij <= y_j`` against the aggregated capacity rows alone,
on OR-Library CFLP/UFLP instances and on generated 1,000 x 100 style instances, each side by
side with raw HiGHS on the strong formulation, in one run.

Per instance the script solves, to a proven optimum (MIP gap 0, one thread, same HiGHS):

- ``raw``: the strong CFLP formulation built directly with ``highspy`` (no chargeplan code):
  min sum_i f_i y_i + sum_ij c_ij x_ij, sum_i x_ij = 1 (all j), sum_j d_j x_ij <= C_i y_i
  (all i), x_ij <= y_i (all i, j), y binary, 0 <= x <= 1;
- ``auto``: ``chargeplan.solve`` with ``pair_links="auto"`` (the default rule);
- ``weak``: ``pair_links="never"`` (the aggregated rows only);
- ``strong``: ``pair_links="always"``;
- ``lazy``: ``pair_links="lazy"`` (the cut loop of :mod:`chargeplan.solver.cuts`); ``--ways``
  picks among the four (default: the first three).

and prints seconds (build + solve for chargeplan; build + load + solve for raw), each divided
by raw's, and the objectives. Instances that raw HiGHS solves in under a second are timed best
of 3 (their times are mostly fixed costs); a first chargeplan solve, untimed, does the imports.
A run that hits ``--time-limit`` shows its status.

Generated instances (``beasley_like``): Beasley (1988, EJOR 33, 314-325) generated the
OR-Library capa/capb/capc sets with 1,000 customers and 100 candidate warehouses, one fixed
cost and capacity per warehouse and a cost of serving each customer's whole demand from each
warehouse; the three sets differ in how tight the capacities are. This generator follows that
structure; the distributions below are this script's own choice (not copied from the paper):
customers and warehouses uniform on a 1,000 x 1,000 square, integer demand U{1..100}, cost
``d_j * distance_ij / 10``, fixed cost U[7,500, 17,500]; every warehouse has the same capacity
``C = ratio * total demand / m`` with ``ratio`` 6 (``capa``-like), 3 (``capb``) and 1.5
(``capc``). Seeded with ``numpy.random.default_rng(seed)``: the same seed gives the same file.

Run from the repository root (``--size 1000x100`` takes several minutes per solve on 2 loaded
cores; the default 500 x 50 about a minute or two)::

    PYTHONPATH=src .venv/bin/python benchmarks/formulation_rule.py
    PYTHONPATH=src .venv/bin/python benchmarks/formulation_rule.py --size 1000x100 --only capa
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ORLIB = ROOT / "tests" / "data" / "orlib"
RATIOS = {"capa": 6.0, "capb": 3.0, "capc": 1.5}


def read_cap(path: Path) -> dict[str, np.ndarray]:
    """An OR-Library ``cap`` file (format in ``tests/test_orlib.py``) as arrays."""
    tokens = path.read_text().split()
    m, n = int(tokens[0]), int(tokens[1])
    head = np.array(tokens[2 : 2 + 2 * m], dtype=float).reshape(m, 2)
    body = np.array(tokens[2 + 2 * m :], dtype=float).reshape(n, 1 + m)
    return {"capacity": head[:, 0], "fixed": head[:, 1], "demand": body[:, 0], "cost": body[:, 1:]}


def beasley_like(family: str, n: int, m: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A capa/capb/capc-style instance of ``n`` customers and ``m`` warehouses (module text)."""
    rng = np.random.default_rng(seed)
    customers = rng.uniform(0, 1000, (n, 2))
    warehouses = rng.uniform(0, 1000, (m, 2))
    demand = rng.integers(1, 101, n).astype(float)
    distance = np.linalg.norm(customers[:, None, :] - warehouses[None, :, :], axis=2)
    capacity = np.full(m, np.ceil(RATIOS[family] * demand.sum() / m))
    fixed = rng.uniform(7_500, 17_500, m).round()
    return {
        "capacity": capacity,
        "fixed": fixed,
        "demand": demand,
        "cost": demand[:, None] * distance / 10,
    }


def to_problem(inst: dict[str, np.ndarray], pair_links: str):
    """The instance as a chargeplan problem (``cost_basis="total"``: whole-demand costs)."""
    from chargeplan.model.problem import FacilityProblem

    n, m = inst["cost"].shape
    zones = pd.DataFrame({"zone_id": [f"c{j}" for j in range(n)], "demand": inst["demand"]})
    sites = pd.DataFrame(
        {
            "site_id": [f"w{i}" for i in range(m)],
            "fixed_cost": inst["fixed"],
            "capacity": inst["capacity"],
        }
    )
    customer, warehouse = np.divmod(np.arange(n * m), m)
    costs = pd.DataFrame(
        {
            "zone_id": zones["zone_id"].to_numpy()[customer],
            "site_id": sites["site_id"].to_numpy()[warehouse],
            "cost": inst["cost"].ravel(),
        }
    )
    return FacilityProblem.from_cost_table(
        zones, sites, costs, cost_basis="total", pair_links=pair_links
    )


def raw_highs(inst: dict[str, np.ndarray], time_limit: float) -> dict:
    """The strong formulation straight into ``highspy`` (columns: y then x, x row-major)."""
    import highspy
    from scipy import sparse

    start = time.perf_counter()
    cost, demand, capacity = inst["cost"], inst["demand"], inst["capacity"]
    n, m = cost.shape
    nx = n * m
    customer, warehouse = np.divmod(np.arange(nx), m)
    x = m + np.arange(nx)
    assign = (customer, x, np.ones(nx))
    cap = (n + warehouse, x, demand[customer])
    cap_y = (n + np.arange(m), np.arange(m), -capacity)
    link = (n + m + np.arange(nx), x, np.ones(nx))
    link_y = (n + m + np.arange(nx), warehouse, -np.ones(nx))
    parts = [assign, cap, cap_y, link, link_y]
    rows, cols, vals = (np.concatenate([p[k] for p in parts]) for k in range(3))
    matrix = sparse.csc_matrix((vals, (rows, cols)), shape=(n + m + nx, m + nx))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m + nx, n + m + nx
    lp.col_cost_ = np.concatenate([inst["fixed"], cost.ravel()])
    lp.col_lower_, lp.col_upper_ = np.zeros(m + nx), np.ones(m + nx)
    lp.row_lower_ = np.concatenate([np.ones(n), np.full(m + nx, -highspy.kHighsInf)])
    lp.row_upper_ = np.concatenate([np.ones(n), np.zeros(m + nx)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = matrix.indptr, matrix.indices
    lp.a_matrix_.value_ = matrix.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * m + [highspy.HighsVarType.kContinuous] * nx
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("time_limit", time_limit)
    highs.passModel(lp)
    highs.run()
    status = highs.modelStatusToString(highs.getModelStatus())
    objective = highs.getInfo().objective_function_value
    return {"seconds": time.perf_counter() - start, "objective": objective, "status": status}


def best_of(run, repeats: int) -> dict:
    """The fastest of ``repeats`` calls of ``run()`` (same model each time: same result)."""
    return min((run() for _ in range(repeats)), key=lambda r: r["seconds"])


def chargeplan_run(inst: dict[str, np.ndarray], pair_links: str, time_limit: float) -> dict:
    """``chargeplan.solve`` from the problem's arrays (build + solve), gap 0, one thread; the
    ``FacilityProblem`` is made from the cost table before the clock starts, as raw HiGHS starts
    from the arrays."""
    from chargeplan.solver.highs import solve
    from chargeplan.solver.options import SolverOptions

    problem = to_problem(inst, pair_links)
    start = time.perf_counter()
    solution = solve(problem, SolverOptions(mip_rel_gap=0, time_limit_s=time_limit, threads=1))
    return {
        "seconds": time.perf_counter() - start,
        "objective": solution.objective,
        "status": solution.status,
        "formulation": solution.formulation,
    }


def instances(size: tuple[int, int], only: list[str] | None) -> dict[str, dict[str, np.ndarray]]:
    """The OR-Library files in tests/data, then the generated families at ``size``."""
    found = {p.stem: read_cap(p) for p in sorted((ORLIB / "cap").glob("cap*.txt"))}
    n, m = size
    for family in RATIOS:
        found[f"{family}-like {n}x{m}"] = beasley_like(family, n, m)
    if only:
        found = {k: v for k, v in found.items() if any(k.startswith(o) for o in only)}
    return found


def main(argv: list[str]) -> int:
    """Solve every instance each way; print the table (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="500x50", help="generated customers x warehouses")
    parser.add_argument("--only", nargs="*", help="instance name prefixes (cap41, capa, ...)")
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--ways", nargs="*", default=["auto", "weak", "strong"], help="of these")
    args = parser.parse_args(argv)
    n, m = (int(v) for v in args.size.split("x"))
    ways = args.ways
    links = {"auto": "auto", "weak": "never", "strong": "always", "lazy": "lazy"}
    table = []
    chargeplan_run(read_cap(ORLIB / "cap" / "cap41.txt"), "auto", 60)  # imports: not timed
    for name, inst in instances((n, m), args.only).items():
        raw = raw_highs(inst, args.time_limit)
        repeats = 3 if raw["seconds"] < 1 else 1  # best of 3 for sub-second solves
        if repeats > 1:
            raw = best_of(partial(raw_highs, inst, args.time_limit), repeats)
        row = {"instance": name, "raw_s": raw["seconds"], "raw_obj": raw["objective"]}
        if raw["status"] != "Optimal":  # e.g. the time limit: the ratios are against it
            row["raw_status"] = raw["status"]
        for way in ways:
            run = best_of(partial(chargeplan_run, inst, links[way], args.time_limit), repeats)
            row[f"{way}/raw"] = run["seconds"] / raw["seconds"]
            row[f"{way}_obj"] = run["objective"]
            if run["status"] != "optimal":
                row[f"{way}_status"] = run["status"]
            if way in ("auto", "lazy"):
                row[f"{way}_form"] = run["formulation"]
        table.append(row)
        print(pd.DataFrame([row]).to_string(index=False, float_format="{:.3f}".format), flush=True)
    print("\n" + pd.DataFrame(table).to_string(index=False, float_format="{:.3f}".format))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
