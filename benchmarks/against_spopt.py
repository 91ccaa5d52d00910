"""chargeplan against PySAL spopt on the same maximal covering location problem (MCLP).

Run (needs the ``bench`` extra: ``pip install -e ".[bench]"``)::

    .venv/bin/python benchmarks/against_spopt.py                  # about 1 minute on 2 cores
    .venv/bin/python benchmarks/against_spopt.py --radius 10 --p 30
    .venv/bin/python benchmarks/against_spopt.py --ablation       # what each reduction buys
    .venv/bin/python benchmarks/against_spopt.py --grid           # radius 6..12 x p 10..40
    .venv/bin/python benchmarks/against_spopt.py --mclp-ablation --radius 10 --p 20
    .venv/bin/python benchmarks/against_spopt.py --mclp-lagrange --radius 10 --p 30
    .venv/bin/python benchmarks/against_spopt.py --grid --zones 20000 --sites 2000 \
        --points 8:20,10:30 --cbc-limit 600                       # the large instance
    .venv/bin/python benchmarks/against_spopt.py --grid --zones 20000 --sites 2000 \
        --chargeplan-only --points 6:10,6:20                      # chargeplan's side alone
    .venv/bin/python benchmarks/against_spopt.py --grid --zones 20000 --sites 2000 \
        --spopt-only --points 8:30 --cbc-limit 900 --cbc-cpu      # spopt + CBC's side alone

The instance: 2,000 demand points and 400 candidate sites drawn uniformly on a 100 x 100
square (seed 0), demand weights 1..12, a site covers the points within the service radius
(spopt's rule: distance <= radius), open ``p`` sites to cover the most demand.

- spopt: ``MCLP.from_cost_matrix(distances, weights, radius, p)`` solved with PuLP's CBC
  (``PULP_CBC_CMD``, its defaults: proven optimal), then the same model with PuLP's HiGHS;
- chargeplan: the pairs within the radius as a cost table with zero costs,
  ``FacilityProblem.from_cost_table(..., objective="max_coverage", max_sites=p,
  unmet_penalty=1.0)`` (sites uncapacitated, no charger sizing, no fixed costs: exactly MCLP;
  ``max_sites`` is "at most p", which covers as much as "exactly p" since opening a site
  never uncovers anything), solved with ``chargeplan.solve`` (HiGHS, MIP gap 0, HiGHS's
  default threads: one HiGHS process holds one thread count), with and without the reductions.

Each side is timed from the distance matrix to the plan (model building included), the
median of ``--repeat`` runs (``--grid``: one run each side per point; CBC capped at
``--cbc-limit`` seconds if given, wall seconds as PuLP counts them by default or CBC's CPU
seconds with ``--cbc-cpu``, and a point where CBC did not prove its optimum says so).
Covered demand is recomputed from the open sites for every solver and must agree to 1e-6
relative, else the script exits with status 1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

import chargeplan
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.reduce import greedy_cover, reduce_problem


def instance(
    zones: int = 2000, sites: int = 400, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Demand points, candidate sites (on a 100 x 100 square) and demand weights."""
    rng = np.random.default_rng(seed)
    demand_xy = rng.uniform(0, 100, (zones, 2))
    site_xy = rng.uniform(0, 100, (sites, 2))
    weights = rng.integers(1, 13, zones).astype(float)
    return demand_xy, site_xy, weights


def covered(distances: np.ndarray, weights: np.ndarray, radius: float, open_site) -> float:
    """Demand within ``radius`` of an open site."""
    return float(weights[(distances[:, np.asarray(open_site, bool)] <= radius).any(axis=1)].sum())


def run_spopt(distances: np.ndarray, weights: np.ndarray, radius: float, p: int, solver):
    """spopt's MCLP with a PuLP solver; return (open sites, objective, proven optimal). A solver
    stopped at its limit without any plan (spopt raises "Model is not solved": CBC at radius 8,
    p 30 of the 20,000 x 2,000 instance after 900 CPU s) returns no open site, objective NaN."""
    from spopt.locate import MCLP

    model = MCLP.from_cost_matrix(distances, weights, service_radius=radius, p_facilities=p)
    try:
        model = model.solve(solver)
    except RuntimeError as error:
        print(f"spopt: {error}", flush=True)
        return np.zeros(distances.shape[1], bool), float("nan"), False
    open_site = np.array([v.value() > 0.5 for v in model.fac_vars])
    proven = getattr(model.problem, "sol_status", None) == 1  # PuLP: "Optimal Solution Found"
    return open_site, float(model.problem.objective.value()), proven


def chargeplan_problem(distances: np.ndarray, weights: np.ndarray, radius: float, p: int):
    """The same MCLP through chargeplan's public API."""
    zone, site = np.nonzero(distances <= radius)
    return chargeplan.FacilityProblem.from_cost_table(
        pd.DataFrame({"zone_id": np.arange(len(weights)), "demand": weights}),
        pd.DataFrame({"site_id": np.arange(distances.shape[1]), "fixed_cost": 0.0}),
        pd.DataFrame({"zone_id": zone, "site_id": site, "cost": 0.0}),
        objective="max_coverage",
        max_sites=p,
        unmet_penalty=1.0,
    )


def run_chargeplan(
    distances: np.ndarray,
    weights: np.ndarray,
    radius: float,
    p: int,
    reduce: bool,
    time_limit_s: float = 600.0,
):
    """Build and solve with chargeplan; return (open sites, covered demand it reports)."""
    problem = chargeplan_problem(distances, weights, radius, p)
    options = SolverOptions(time_limit_s=time_limit_s, mip_rel_gap=0.0, reduce=reduce)
    solution = chargeplan.solve(problem, options)
    assert solution.status == "optimal", f"chargeplan stopped: {solution.status}"
    return solution.open_site, float(weights.sum() - solution.objective)


def ablation(distances: np.ndarray, weights: np.ndarray, radius: float, p: int) -> None:
    """What each reduction buys: the pair and covering forms, as given and reduced."""
    from chargeplan.model.formulation import build_milp
    from chargeplan.solver.highs import _solve

    problem = chargeplan_problem(distances, weights, radius, p)
    reduced = reduce_problem(problem).problem
    rows = []
    for label, instance_, covering in (
        ("pair form, as given (reduce=False)", problem, False),
        ("pair form, merged and dropped", reduced, False),
        ("covering form + greedy start, as given", problem, True),
        ("covering form + greedy start, merged and dropped", reduced, True),
    ):
        lp, _ = build_milp(instance_, covering=covering)
        matrix, _, _ = lp.matrix()
        options = SolverOptions(time_limit_s=600, mip_rel_gap=0.0, reduce=covering)
        seconds, solution = timed(
            lambda i=instance_, o=options: _solve(i, o), 1 if not covering else 3
        )
        rows.append(
            {
                "model": label,
                "columns": lp.n_cols,
                "rows": matrix.shape[0],
                "nonzeros": matrix.nnz,
                "seconds": round(seconds, 2),
                "unmet_demand": solution.objective,
            }
        )
    print(pd.DataFrame(rows).set_index("model").to_string())


GRID_RADII = (6.0, 8.0, 10.0, 12.0)
GRID_P = (10, 20, 30, 40)


def grid(args) -> int:
    """Every (radius, p) of the grid: spopt + CBC against chargeplan, one run each side."""
    import pulp

    demand_xy, site_xy, weights = instance(args.zones, args.sites, args.seed)
    distances = cdist(demand_xy, site_xy)
    points = [(r, p) for r in GRID_RADII for p in GRID_P]
    if args.points:
        points = [(float(a), int(b)) for a, b in (x.split(":") for x in args.points.split(","))]
    rows = []
    load_before = os.getloadavg()
    for r, p in points:
        mode = "cpu" if args.cbc_cpu else "elapsed"  # PuLP's default: wall seconds
        cbc = pulp.PULP_CBC_CMD(msg=False, timeLimit=args.cbc_limit, timeMode=mode)
        cpu = cpu_seconds()
        cbc_s, (cbc_open, _, cbc_proven) = timed(
            lambda r=r, p=p, cbc=cbc: run_spopt(distances, weights, r, p, cbc), 1
        )
        cbc_cpu = cpu_seconds() - cpu
        if args.spopt_only:
            print(
                f"radius {r:g}, p {p}: spopt + CBC {cbc_s:.2f} s, {cbc_cpu:.2f} CPU s, covered "
                f"{covered(distances, weights, r, cbc_open):g}, proven optimal {cbc_proven}; "
                f"load average {os.getloadavg()}",
                flush=True,
            )
            continue
        cpu = cpu_seconds()
        ours_s, (our_open, reported) = timed(
            lambda r=r, p=p: run_chargeplan(distances, weights, r, p, True, args.time_limit), 1
        )
        our_cpu = cpu_seconds() - cpu
        theirs, ours = (
            covered(distances, weights, r, cbc_open),
            covered(distances, weights, r, our_open),
        )
        capped = not cbc_proven  # CBC stopped at --cbc-limit (its own time, not spopt's build)
        rows.append(
            {
                "radius": r,
                "p": p,
                "pairs": int((distances <= r).sum()),
                "spopt_cbc_s": round(cbc_s, 2),
                "cbc_capped": "yes" if capped else "no",
                "chargeplan_s": round(ours_s, 2),
                "ratio": round(cbc_s / ours_s, 1),
                "spopt_cbc_cpu_s": round(cbc_cpu, 2),
                "chargeplan_cpu_s": round(our_cpu, 2),
                "cpu_ratio": round(cbc_cpu / our_cpu, 1),
                "covered_cbc": theirs,
                "covered_chargeplan": ours,
                "equal": "yes" if np.isclose(theirs, ours, rtol=1e-9) else "no",
                "reported_ok": bool(np.isclose(reported, ours, rtol=1e-9)),
            }
        )
        print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
    if args.spopt_only:
        return 0
    table = pd.DataFrame(rows)
    print(
        f"\n{args.zones} x {args.sites}, seed {args.seed}; load average (1, 5, 15 min) at the "
        f"start {load_before}, at the end {os.getloadavg()} on {os.cpu_count()} cores"
    )
    print(markdown(table))
    for column, what in (("ratio", "seconds"), ("cpu_ratio", "CPU seconds")):
        ratios = table[column]
        print(
            f"\nspopt + CBC / chargeplan ({what}): median {ratios.median():.1f}x, least "
            f"{ratios.min():.1f}x (targets: median >= 10x, least >= 3x)"
        )
    print(f"covered demand equal on {(table['equal'] == 'yes').sum()} of {len(table)}")
    # a capped CBC run may stop short of the optimum: chargeplan then covers at least as much
    ok = ((table["equal"] == "yes") | (table["cbc_capped"] == "yes")).all()
    ok &= bool((table["covered_chargeplan"] >= table["covered_cbc"] - 1e-9).all())
    return 0 if ok and table["reported_ok"].all() else 1


def grid_chargeplan(args) -> int:
    """Every (radius, p) of the grid, chargeplan's side alone (``--chargeplan-only``): the size
    after the reductions and where the CPU seconds go (reductions, then the whole solve)."""
    demand_xy, site_xy, weights = instance(args.zones, args.sites, args.seed)
    distances = cdist(demand_xy, site_xy)
    points = [(r, p) for r in GRID_RADII for p in GRID_P]
    if args.points:
        points = [(float(a), int(b)) for a, b in (x.split(":") for x in args.points.split(","))]
    rows, load_before = [], os.getloadavg()
    for r, p in points:
        problem = chargeplan_problem(distances, weights, r, p)
        cpu = cpu_seconds()
        reduced = reduce_problem(problem).problem
        reduce_cpu = cpu_seconds() - cpu
        cpu, clock = cpu_seconds(), time.perf_counter()
        options = SolverOptions(time_limit_s=args.time_limit, mip_rel_gap=0.0)
        solution = chargeplan.solve(problem, options)
        our_cpu, ours_s = cpu_seconds() - cpu, time.perf_counter() - clock
        rows.append(
            {
                "radius": r,
                "p": p,
                "pairs": int((distances <= r).sum()),
                "zones_x_sites_reduced": f"{len(reduced.zone_ids)} x {len(reduced.site_ids)}",
                "reduce_cpu_s": round(reduce_cpu, 2),
                "chargeplan_s": round(ours_s, 2),
                "chargeplan_cpu_s": round(our_cpu, 2),
                "highs_s": round(solution.solve_seconds, 2),
                "status": solution.status,
                "covered": covered(distances, weights, r, solution.open_site),
            }
        )
        print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
    print(
        f"\n{args.zones} x {args.sites}, seed {args.seed}; load average at the start "
        f"{load_before}, at the end {os.getloadavg()} on {os.cpu_count()} cores"
    )
    print(markdown(pd.DataFrame(rows)))
    return 0 if all(row["status"] == "optimal" for row in rows) else 1


def cpu_seconds() -> float:
    """CPU seconds of this process (all its threads: HiGHS's too) and of its finished children
    (PuLP's CBC runs as a child process): what a side costs on a shared machine, whose wall
    clock depends on the other jobs."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def markdown(table: pd.DataFrame) -> str:
    """The table as Markdown (for docs/scale.md; no ``tabulate`` needed)."""
    lines = ["| " + " | ".join(map(str, table.columns)) + " |"]
    lines.append("|" + "---|" * len(table.columns))
    lines += [
        "| " + " | ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in row) + " |"
        for row in table.itertuples(index=False)
    ]
    return "\n".join(lines)


BEFORE_OPTIONS = {"mip_pscost_minreliable": 0}
"""``solver.covering.HIGHS_OPTIONS`` before branch ``mclp`` (docs/scale.md, the first grid)."""


def mclp_ablation(distances: np.ndarray, weights: np.ndarray, radius: float, p: int) -> None:
    """What each choice of :mod:`chargeplan.solver.covering` buys, on the reduced problem."""
    from chargeplan.solver.covering import HIGHS_OPTIONS, solve_mclp

    problem = reduce_problem(chargeplan_problem(distances, weights, radius, p)).problem
    options = SolverOptions(time_limit_s=3600, mip_rel_gap=0.0)
    rows = []
    for start, highs_options in (
        ("none", {}),
        ("swap", {}),
        ("swap", BEFORE_OPTIONS),
        ("greedy", HIGHS_OPTIONS),
        ("swap", HIGHS_OPTIONS),
        ("kicks", HIGHS_OPTIONS),
        ("swap", {**HIGHS_OPTIONS, "presolve": "choose"}),
        ("swap", {**HIGHS_OPTIONS, "mip_heuristic_effort": 0.05}),
    ):
        clock, cpu = time.perf_counter(), time.process_time()
        solution = solve_mclp(problem, options, start=start, highs_options=highs_options)
        assert solution is not None and solution.status == "optimal"
        label = "HiGHS defaults"
        if highs_options == HIGHS_OPTIONS:
            label = "HIGHS_OPTIONS"
        elif highs_options == BEFORE_OPTIONS:
            label = str(BEFORE_OPTIONS)
        elif highs_options:
            changed = {k: v for k, v in highs_options.items() if HIGHS_OPTIONS[k] != v}
            label = f"HIGHS_OPTIONS but {changed}"
        rows.append(
            {
                "start": start,
                "highs_options": label,
                "seconds": round(time.perf_counter() - clock, 2),
                "cpu_seconds": round(time.process_time() - cpu, 2),
                "unmet": round(solution.objective, 6),
            }
        )
        print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
    clock, cpu = time.perf_counter(), time.process_time()
    solution = general_path(problem, options)
    rows.append(
        {
            "start": "greedy",
            "highs_options": "general path: Pyomo covering form (before solver.covering)",
            "seconds": round(time.perf_counter() - clock, 2),
            "cpu_seconds": round(time.process_time() - cpu, 2),
            "unmet": round(solution.objective, 6),
        }
    )
    print(markdown(pd.DataFrame(rows)))


def lagrangian_fixing(
    distances: np.ndarray, weights: np.ndarray, radius: float, p: int, iterations: int = 5000
) -> None:
    r"""Lever 2 of issue 13 item 3, measured: a Lagrangian relaxation of the coverage rows and
    the sites it fixes, given the proven optimum as the incumbent (the most it could fix).

    With multipliers :math:`0 \le \lambda_i \le w_i` on :math:`z_i \le \sum_{j \in N(i)}
    y_j`, :math:`L(\lambda) = \sum_i (w_i - \lambda_i) + \text{top}_p(c)`, :math:`c_j =
    \sum_{i: j \in N(i)} \lambda_i` (the p largest positive :math:`c_j`), an upper bound on the
    cover for every :math:`\lambda`; forcing site j open (out of the top p) lowers it to
    :math:`L - c_{(p)} + c_j`, forcing it closed (in the top p) to :math:`L - c_j + c_{(p+1)}`.
    A site whose bound with it forced open is below the optimum + 1 (integer weights) is closed
    in every better plan: fixable. Subgradient steps (Polyak, the optimum as target, the step
    halved after 100 steps without a better bound); every iterate's bounds count.
    """
    from chargeplan.solver.covering import reach_matrix, solve_mclp

    problem = reduce_problem(chargeplan_problem(distances, weights, radius, p)).problem
    solution = solve_mclp(problem, SolverOptions(time_limit_s=3600, mip_rel_gap=0.0))
    assert solution is not None and solution.status == "optimal"
    w = problem.demand.sum(axis=1)
    optimum = float(w.sum() - solution.objective)
    a = reach_matrix(problem).tocsr()
    at = a.T.tocsr()
    clock, cpu = time.perf_counter(), time.process_time()
    lam, step, best, stale = w / 2, 2.0, np.inf, 0
    forced_open = np.full(a.shape[1], np.inf)
    forced_closed = np.full(a.shape[1], np.inf)
    for _ in range(iterations):
        c = at @ lam
        order = np.argsort(-c, kind="stable")
        top = np.zeros(a.shape[1], bool)
        top[order[:p]] = c[order[:p]] > 0
        bound = float((w - lam).sum() + c[top].sum())
        kth, next_ = max(c[order[p - 1]], 0.0), max(c[order[p]], 0.0)
        forced_open = np.minimum(forced_open, np.where(top, bound, bound - kth + c.clip(0)))
        forced_closed = np.minimum(forced_closed, np.where(top, bound - c + next_, bound))
        best, stale = (bound, 0) if bound < best - 1e-6 else (best, stale + 1)
        if stale >= 100:
            step, stale = step / 2, 0
        g = (a @ top.astype(float)) - 1.0
        lam = np.clip(lam - step * (bound - optimum) / max(float(g @ g), 1.0) * g, 0, w)
    print(
        f"radius {radius:g}, p {p}: {a.shape[0]} zones x {a.shape[1]} sites after the reductions;"
        f" optimum {optimum:g}, Lagrangian bound {best:.1f} after {iterations} subgradient steps"
        f" ({time.process_time() - cpu:.2f} CPU s, {time.perf_counter() - clock:.2f} s); "
        f"sites fixable closed {int((forced_open < optimum + 1).sum())}, open "
        f"{int((forced_closed < optimum + 1).sum())}"
    )


def general_path(problem, options: SolverOptions):
    """What ``chargeplan.solve`` did with an MCLP before :mod:`chargeplan.solver.covering`: the
    Pyomo model of the covering form, started from the greedy plan."""
    from chargeplan.solver.highs import _build, _set_cover_start, _solve_model

    model = _build(problem, covering=True)
    plan = greedy_cover(problem)
    _set_cover_start(problem, model.chargeplan.index, model.columns, plan)
    return _solve_model(model, options, 0.0, warm_start=True)


def timed(function, repeat: int):
    """Median seconds over ``repeat`` calls and the last result."""
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), result


def main() -> int:
    """Run both sides and print times, ratios and covered demand."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zones", type=int, default=2000)
    parser.add_argument("--sites", type=int, default=400)
    parser.add_argument("--radius", type=float, default=8.0)
    parser.add_argument("--p", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-unreduced", action="store_true", help="skip the slow reference")
    parser.add_argument(
        "--ablation", action="store_true", help="only: what each reduction buys (no spopt)"
    )
    parser.add_argument(
        "--mclp-ablation", action="store_true", help="only: the MCLP solver's choices (no spopt)"
    )
    parser.add_argument(
        "--mclp-lagrange", action="store_true", help="only: Lagrangian bound and fixing (no spopt)"
    )
    parser.add_argument("--grid", action="store_true", help="the radius x p grid, one run each")
    parser.add_argument(
        "--time-limit", type=float, default=3600.0, help="with --grid: chargeplan's limit (s)"
    )
    parser.add_argument("--points", help="with --grid: only these, e.g. 10:30,12:40")
    parser.add_argument(
        "--cbc-limit", type=float, default=None, help="with --grid: CBC's time limit (s)"
    )
    parser.add_argument(
        "--cbc-cpu", action="store_true", help="with --cbc-limit: CBC's CPU seconds, not wall"
    )
    parser.add_argument(
        "--chargeplan-only", action="store_true", help="with --grid: chargeplan's side alone"
    )
    parser.add_argument(
        "--spopt-only", action="store_true", help="with --grid: spopt + CBC's side alone"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.grid and args.chargeplan_only:
        return grid_chargeplan(args)
    if args.grid:
        return grid(args)
    if args.mclp_lagrange:
        demand_xy, site_xy, weights = instance(args.zones, args.sites, args.seed)
        lagrangian_fixing(cdist(demand_xy, site_xy), weights, args.radius, args.p)
        return 0
    if args.mclp_ablation:
        demand_xy, site_xy, weights = instance(args.zones, args.sites, args.seed)
        mclp_ablation(cdist(demand_xy, site_xy), weights, args.radius, args.p)
        return 0
    demand_xy, site_xy, weights = instance(args.zones, args.sites, args.seed)
    distances = cdist(demand_xy, site_xy)
    r, p = args.radius, args.p
    if args.ablation:
        ablation(distances, weights, r, p)
        return 0
    import pulp

    pairs = int((distances <= r).sum())
    reduction = reduce_problem(chargeplan_problem(distances, weights, r, p))
    print(
        f"MCLP: {args.zones} demand points, {args.sites} sites, radius {r:g} on a 100 x 100 "
        f"square, p = {p}, seed {args.seed}: {pairs} pairs within reach; chargeplan's "
        f"reductions merge {reduction.merged_zones} zones and drop "
        f"{reduction.dropped_sites} sites"
    )
    cases = {
        "spopt + CBC": lambda: run_spopt(distances, weights, r, p, pulp.PULP_CBC_CMD(msg=False)),
        "spopt + HiGHS (PuLP)": lambda: run_spopt(distances, weights, r, p, pulp.HiGHS(msg=False)),
        "chargeplan": lambda: run_chargeplan(distances, weights, r, p, True),
    }
    if not args.skip_unreduced:
        cases["chargeplan, reduce=False"] = lambda: run_chargeplan(distances, weights, r, p, False)
    rows = []
    for name, case in cases.items():
        repeat = 1 if name.endswith("reduce=False") else args.repeat
        seconds, (open_site, reported, *_) = timed(case, repeat)
        rows.append(
            {
                "solver": name,
                "seconds": round(seconds, 3),
                "sites_open": int(np.sum(open_site)),
                "covered_demand": covered(distances, weights, r, open_site),
                "reported": reported,
            }
        )
    table = pd.DataFrame(rows).set_index("solver")
    reference = table.loc["spopt + CBC"]
    table["spopt_cbc_over_this"] = (reference["seconds"] / table["seconds"]).round(2)
    print(table.to_string())
    ok = np.allclose(table["covered_demand"], reference["covered_demand"], rtol=1e-6, atol=0)
    ok &= np.allclose(table["reported"], table["covered_demand"], rtol=1e-6, atol=0)
    ratio = reference["seconds"] / table.loc["chargeplan", "seconds"]
    print(
        f"\nchargeplan is {ratio:.1f}x faster than spopt + CBC (target >= 10x); covered demand "
        f"{'equal' if ok else 'DIFFERS'} ({table.loc['chargeplan', 'covered_demand']:g} vs "
        f"{reference['covered_demand']:g})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
