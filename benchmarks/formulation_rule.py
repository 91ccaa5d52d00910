"""Issue 13 item 1: the strong rows ``x_ij <= y_j`` against the aggregated capacity rows alone,
on OR-Library CFLP/UFLP instances and on generated 1,000 x 100 style instances, each side by
side with raw HiGHS on the strong formulation, in one run.

Per instance the script solves, to a proven optimum (MIP gap 0, one thread, same HiGHS):

- ``raw``: the strong CFLP formulation built directly with ``highspy`` (no chargeplan code):
  min sum_i f_i y_i + sum_ij c_ij x_ij, sum_i x_ij = 1 (all j), sum_j d_j x_ij <= C_i y_i
  (all i), x_ij <= y_i (all i, j), y binary, 0 <= x <= 1; columns y then x (x row-major);
- ``auto``: ``chargeplan.solve`` with ``pair_links="auto"`` (the default rule);
- ``weak``: ``pair_links="never"`` (the aggregated rows only);
- ``strong``: ``pair_links="always"``;
- ``lazy``: ``pair_links="lazy"`` (the cut loop of :mod:`chargeplan.solver.cuts`);
- ``raw_ylast``: raw with the columns x then y (the order chargeplan used before
  :func:`chargeplan.model.links.integers_first`);
- ``raw_scaled``: raw with the objective scale chargeplan sets (HiGHS's
  ``user_objective_scale``, a power of two: :mod:`chargeplan.solver.scaling`; 0 on the
  OR-Library files since 2026-11-30, whose costs reach 1.5e6 (-1 before: costs above 1e6 were
  scaled)): the same search, but HiGHS's own time changes with the scale, so ``auto`` over
  ``raw_scaled`` is chargeplan's fixed cost alone;
- ``model``: chargeplan's ``auto`` model as HiGHS receives it (``build_milp`` then
  ``SparseMILP.to_highs(pyomo_order=True)``), run by ``highspy``: its nodes and simplex
  iterations compare with raw's (the same numbers: the same search);

``--ways`` picks among them (default: ``auto weak strong``). The script prints seconds (build +
solve for chargeplan; build + load + solve for raw; on either side the ``Highs`` object freed
on the clock) divided by raw's in the same repeat (``/raw``: wall clock; ``/raw cpu``: the
process's CPU time, less sensitive to the other jobs of a shared machine), the objectives, and
each way's branch-and-bound nodes and simplex iterations (``_nodes``, ``_iters``; for
chargeplan from HiGHS's log of an extra, untimed solve, the cut loop's LP rounds left out: the
timed solves write no log, as raw's write none; with ``--timed-log`` chargeplan's timed solve
writes the log, as before 2026-11-30): these do not depend on the machine's load, and equal
counts mean HiGHS took the same search. With ``--repeat r`` every instance is solved r times
each way, interleaved (raw, then each way; the next repeat in the reverse order), and the table
gives the medians of the seconds and of the per-repeat ratios. Instances that raw HiGHS solves
in under a second get at least 5 repeats (their times are mostly fixed costs); a first
chargeplan solve, untimed, does the imports. A run that hits ``--time-limit`` (wall clock)
shows its status.

OR-Library instances: the ``cap`` files in tests/data (capacitated, CFLP) and, with
``--uflp``, the same files with the capacities ignored (UFLP, ``-u`` after the name: raw gets
``C_i`` = the total demand, chargeplan an infinite capacity, which it turns into the demand in
reach, the same number).

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
    PYTHONPATH=src .venv/bin/python benchmarks/formulation_rule.py --size 300x30 --only capc \
        --seeds 0 1 2 3 4 5 --ways raw_ylast model
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import statistics
import sys
import tempfile
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


def raw_highs(
    inst: dict[str, np.ndarray], time_limit: float, y_first: bool = True, scaled: bool = False
) -> dict:
    """The strong formulation straight into ``highspy`` (columns y then x, x row-major; x then
    y when not ``y_first``); ``scaled``: with chargeplan's objective scale
    (:func:`chargeplan.solver.scaling.objective_scale`, HiGHS's ``user_objective_scale``)."""
    import highspy
    from scipy import sparse

    start = time.perf_counter(), time.process_time()
    cost, demand, capacity = inst["cost"], inst["demand"], inst["capacity"]
    n, m = cost.shape
    nx = n * m
    customer, warehouse = np.divmod(np.arange(nx), m)
    x, y = (m + np.arange(nx), np.arange(m)) if y_first else (np.arange(nx), nx + np.arange(m))
    assign = (customer, x, np.ones(nx))
    cap = (n + warehouse, x, demand[customer])
    cap_y = (n + np.arange(m), y, -capacity)
    link = (n + m + np.arange(nx), x, np.ones(nx))
    link_y = (n + m + np.arange(nx), y[warehouse], -np.ones(nx))
    parts = [assign, cap, cap_y, link, link_y]
    rows, cols, vals = (np.concatenate([p[k] for p in parts]) for k in range(3))
    matrix = sparse.csc_matrix((vals, (rows, cols)), shape=(n + m + nx, m + nx))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m + nx, n + m + nx
    col_cost = np.zeros(m + nx)
    col_cost[y], col_cost[x] = inst["fixed"], cost.ravel()
    lp.col_cost_ = col_cost
    lp.col_lower_, lp.col_upper_ = np.zeros(m + nx), np.ones(m + nx)
    lp.row_lower_ = np.concatenate([np.ones(n), np.full(m + nx, -highspy.kHighsInf)])
    lp.row_upper_ = np.concatenate([np.ones(n), np.zeros(m + nx)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = matrix.indptr, matrix.indices
    lp.a_matrix_.value_ = matrix.data
    kinds = np.full(m + nx, highspy.HighsVarType.kContinuous, dtype=object)
    kinds[y] = highspy.HighsVarType.kInteger
    lp.integrality_ = kinds.tolist()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    if scaled:
        from chargeplan.solver.scaling import objective_scale

        highs.setOptionValue("user_objective_scale", objective_scale(col_cost))
    found = _run_highs(highs, time_limit)
    del highs  # freed on the clock, as chargeplan.solve frees its own (0.1 ms on cap71)
    return _stamped(found, start)


def model_highs(inst: dict[str, np.ndarray], time_limit: float) -> dict:
    """chargeplan's ``auto`` model as HiGHS receives it, run by ``highspy`` (build included)."""
    from chargeplan.model.formulation import build_milp

    problem = to_problem(inst, "auto")
    start = time.perf_counter(), time.process_time()
    lp, _ = build_milp(problem)
    highs = lp.to_highs(pyomo_order=True)
    highs.setOptionValue("output_flag", False)
    found = _run_highs(highs, time_limit)
    del highs
    return _stamped(found, start)


def _stamped(found: dict, start: tuple[float, float]) -> dict:
    """``found`` with the wall and CPU seconds since ``start``: stamped after the ``Highs``
    object is freed (before 2026-11-30 raw's clock stopped before, chargeplan's after)."""
    found["seconds"] = time.perf_counter() - start[0]
    found["cpu"] = time.process_time() - start[1]
    return found


def _run_highs(highs, time_limit: float) -> dict:
    """Solve the loaded model as ``chargeplan_run`` asks HiGHS to (gap 0, one thread)."""
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("time_limit", time_limit)
    highs.run()
    info = highs.getInfo()
    return {
        "objective": info.objective_function_value,
        "status": highs.modelStatusToString(highs.getModelStatus()).lower(),
        "nodes": info.mip_node_count,
        "iters": info.simplex_iteration_count,
    }


def chargeplan_run(
    inst: dict[str, np.ndarray],
    time_limit: float,
    pair_links: str,
    timed_log: bool = False,
    counts: bool = True,
) -> dict:
    """``chargeplan.solve`` from the problem's arrays (build + solve), gap 0, one thread; the
    ``FacilityProblem`` is made from the cost table before the clock starts, as raw HiGHS starts
    from the arrays.

    The timed solve writes no HiGHS log, as raw's does not (a log costs HiGHS's own time and
    file work, on either side); the nodes and iterations come from a second, untimed solve with
    a log file (the same search: same model, options and thread count), if ``counts`` (the
    first repeat). ``timed_log``: time the solve with the log file, as this script did before
    (``--timed-log``).
    """
    from chargeplan.solver.highs import solve
    from chargeplan.solver.options import SolverOptions

    problem = to_problem(inst, pair_links)
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "highs.log"
        logged = SolverOptions(mip_rel_gap=0, time_limit_s=time_limit, threads=1, log_file=str(log))
        options = logged if timed_log else dataclasses.replace(logged, log_file=None)
        start, cpu = time.perf_counter(), time.process_time()
        solution = solve(problem, options)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        if counts and not timed_log:
            solve(problem, logged)
        text = log.read_text() if log.exists() else ""
    return {
        "seconds": seconds,
        "cpu": cpu,
        "objective": solution.objective,
        "status": solution.status,
        "formulation": solution.formulation,
        **_search_counts(text),
    }


def _search_counts(log: str) -> dict:
    """HiGHS's branch-and-bound nodes and simplex iterations from its last solving report
    (``Nodes`` and ``LP iterations`` lines; the cut loop's LP rounds are left out)."""
    found = {}
    for key, label in (("nodes", "Nodes"), ("iters", "LP iterations")):
        hits = re.findall(rf"^\s*{label}\s+(\d+)\s*$", log, flags=re.MULTILINE)
        if hits:
            found[key] = int(hits[-1])
    return found


def instances(
    size: tuple[int, int], only: list[str] | None, seeds: list[int], uflp: bool
) -> dict[str, dict[str, np.ndarray]]:
    """The OR-Library files in tests/data (and their UFLP form with ``uflp``), then the
    generated families at ``size``, one instance per seed (``-s<seed>`` after the name but for
    seed 0)."""
    found = {p.stem: read_cap(p) for p in sorted((ORLIB / "cap").glob("cap*.txt"))}
    if uflp:
        for name, inst in list(found.items()):
            found[f"{name}-u"] = {**inst, "capacity": np.full_like(inst["capacity"], np.inf)}
    n, m = size
    for family in RATIOS:
        for seed in seeds:
            tag = f"-s{seed}" if seed else ""
            found[f"{family}-like {n}x{m}{tag}"] = beasley_like(family, n, m, seed)
    if only:
        found = {k: v for k, v in found.items() if any(k.startswith(o) for o in only)}
    return found


RUNNERS = {
    "raw": partial(raw_highs, y_first=True),
    "raw_ylast": partial(raw_highs, y_first=False),
    "raw_scaled": partial(raw_highs, scaled=True),
    "model": model_highs,
    "auto": partial(chargeplan_run, pair_links="auto"),
    "weak": partial(chargeplan_run, pair_links="never"),
    "strong": partial(chargeplan_run, pair_links="always"),
    "lazy": partial(chargeplan_run, pair_links="lazy"),
}

CHARGEPLAN_WAYS = ("auto", "weak", "strong", "lazy")


def measure(inst: dict[str, np.ndarray], ways: list[str], repeat: int, limit: float) -> dict:
    """Every way ``repeat`` times, interleaved with raw (module docstring); the medians.
    ``raw`` among ``ways`` is the reference itself, run once per repeat all the same."""
    ways = [way for way in dict.fromkeys(ways) if way != "raw"]
    runs: dict[str, list[dict]] = {way: [] for way in ["raw", *ways]}
    for r in range(repeat):
        for way in ["raw", *ways] if r % 2 == 0 else [*reversed(ways), "raw"]:
            given = _capped(inst) if way.startswith("raw") else inst
            first = {"counts": r == 0} if way in CHARGEPLAN_WAYS else {}  # counts: once
            runs[way].append(RUNNERS[way](given, limit, **first))
    raw = runs["raw"]
    row: dict = {"raw_s": statistics.median(run["seconds"] for run in raw)}
    row["raw_obj"], row["raw_nodes"], row["raw_iters"] = (
        raw[0][k] for k in ("objective", "nodes", "iters")
    )
    if raw[0]["status"] != "optimal":  # e.g. the time limit: the ratios are against it
        row["raw_status"] = raw[0]["status"]
    for way in ways:
        ratios = [
            run["seconds"] / base["seconds"] for run, base in zip(runs[way], raw, strict=True)
        ]
        first = runs[way][0]
        row[f"{way}/raw"] = statistics.median(ratios)
        cpu = [run["cpu"] / base["cpu"] for run, base in zip(runs[way], raw, strict=True)]
        row[f"{way}/raw cpu"] = statistics.median(cpu)
        row[f"{way}_obj"] = first["objective"]
        if first["status"] != "optimal":
            row[f"{way}_status"] = first["status"]
        for key in ("nodes", "iters", "formulation"):
            if key in first:
                row[f"{way}_{key}"] = first[key]
    return row


def _capped(inst: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Raw HiGHS needs a finite capacity row: the total demand where the capacity is infinite
    (UFLP; chargeplan's own rule gives the same number)."""
    if np.isfinite(inst["capacity"]).all():
        return inst
    total = inst["demand"].sum()
    return {**inst, "capacity": np.where(np.isfinite(inst["capacity"]), inst["capacity"], total)}


def main(argv: list[str]) -> int:
    """Solve every instance each way; print the table (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="500x50", help="generated customers x warehouses")
    parser.add_argument("--only", nargs="*", help="instance name prefixes (cap41, capa, ...)")
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--ways", nargs="*", default=["auto", "weak", "strong"], help="of these")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved runs per instance")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0], help="generator seeds")
    parser.add_argument("--uflp", action="store_true", help="also the cap files as UFLP")
    parser.add_argument(
        "--timed-log", action="store_true", help="time chargeplan with its HiGHS log file on"
    )
    args = parser.parse_args(argv)
    if args.timed_log:
        for way in CHARGEPLAN_WAYS:
            RUNNERS[way] = partial(RUNNERS[way], timed_log=True)
    n, m = (int(v) for v in args.size.split("x"))
    table = []
    chargeplan_run(read_cap(ORLIB / "cap" / "cap41.txt"), 60, "auto")  # imports: not timed
    for name, inst in instances((n, m), args.only, args.seeds, args.uflp).items():
        quick = RUNNERS["raw"](_capped(inst), args.time_limit)["seconds"] < 1
        repeat = max(args.repeat, 5) if quick else args.repeat
        row = {"instance": name, "repeats": repeat}
        row.update(measure(inst, args.ways, repeat, args.time_limit))
        table.append(row)
        print(pd.DataFrame([row]).to_string(index=False, float_format="{:.3f}".format), flush=True)
    print("\n" + pd.DataFrame(table).to_string(index=False, float_format="{:.3f}".format))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
