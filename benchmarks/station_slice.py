"""Slices of the national station layer solved by HiGHS alone and from the design start.

For each slice (``fine_zones.regions`` of ``models/china-2030-stations.toml``, the national
demand kept) the scenario is prepared once and split into the pieces a decomposed run solves
(:func:`chargeplan.workflows.regions.region_problems`: components of the reach graph, small ones
bundled). Every piece is solved twice, single-threaded, with the same time limit and a 2 % gap:

- ``highs``: today's path before the design start (``SolverOptions(design_start=False)``; the
  capacity rows are the tightened ones in both, as HiGHS's presolve tightens them anyway);
- ``start``: the LP relaxation rounded to a plan (:mod:`chargeplan.solver.designstart`),
  returned if within the gap, else handed to HiGHS, which stops at ``design_max_nodes`` nodes;
  the LP bound only (``design_lagrange_steps=0``), as before the Lagrangian bound;
- ``lagrange``: the same with the Lagrangian bound and heuristic
  (:mod:`chargeplan.solver.design_bound`, the default ``design_lagrange_steps``).

Per slice it prints the sum over its pieces of the objective and of the bound (each piece's
bound is a valid lower bound of that piece, so their sum is one of the slice's), the gap, the
share of the design-hour demand served among the cells that have a candidate in reach, wall
and CPU seconds (the machine is shared: CPU seconds of this process are the steadier figure),
and the ratios start / highs. Run by hand from the repository root::

    PYTHONPATH=src nice .venv/bin/python benchmarks/station_slice.py
    PYTHONPATH=src nice .venv/bin/python benchmarks/station_slice.py --regions 珠海市 --cache /tmp/s
    PYTHONPATH=src nice .venv/bin/python benchmarks/station_slice.py --regions 广东省 --only start
    PYTHONPATH=src nice .venv/bin/python benchmarks/station_slice.py --ways start lagrange

``--cache DIR`` keeps each slice's prepared pieces in ``DIR`` (a pickle per slice, written by
this script and read back only by it) so that a second run skips the minute of preparation.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import pickle
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "models" / "china-2030-stations.toml"
WAYS = ["highs", "start", "lagrange"]


def pieces_of(region: str, cache: Path | None) -> list:
    """The slice's pieces (``FacilityProblem``), prepared or read from ``cache``."""
    stored = cache / f"{region}.pkl" if cache is not None else None
    return prepared_pieces({"fine_zones.regions": [region]}, stored)


def prepared_pieces(values: dict, stored: Path | None) -> list:
    """The pieces a decomposed run of the stations scenario with ``values`` changed solves
    (``FacilityProblem``), prepared, or read from the pickle ``stored`` (written if missing)."""
    if stored is not None and stored.exists():
        with stored.open("rb") as handle:
            return pickle.load(handle)
    from chargeplan.config.scenario import load_scenario
    from chargeplan.inputs.prepare import prepare
    from chargeplan.inputs.problem import build_problem
    from chargeplan.workflows.economics import read_economics, support_in_capex
    from chargeplan.workflows.regions import region_problems

    scenario = load_scenario(SCENARIO).with_values(values)
    inputs = prepare(scenario)
    inputs = support_in_capex(inputs, scenario, read_economics(scenario, inputs.sites))
    problem = build_problem(scenario, inputs)
    pieces = region_problems(scenario, problem, inputs.zones, inputs.sites)
    if stored is not None:
        stored.parent.mkdir(parents=True, exist_ok=True)
        with stored.open("wb") as handle:
            pickle.dump(pieces, handle)
    return pieces


def at_unmet_price(pieces: list, price: float | None) -> list:
    """``pieces`` with every zone's unmet demand of every type priced at ``price`` (CNY per
    design-hour kWh) in place of their own; ``None``: ``pieces`` as they are."""
    if price is None:
        return pieces
    return [
        dataclasses.replace(p, unmet_penalty=np.full_like(p.unmet_penalty, price)) for p in pieces
    ]


def solve_slice(pieces: list, way: str, time_limit: float) -> dict[str, float]:
    """Solve every piece one way; sums over the pieces."""
    from chargeplan.model.solution import objective_value
    from chargeplan.solver.highs import solve
    from chargeplan.solver.options import SolverOptions

    options = SolverOptions(
        time_limit_s=time_limit, mip_rel_gap=0.02, threads=1, design_start=way != "highs"
    )
    if way == "start":
        options = dataclasses.replace(options, design_lagrange_steps=0)
    total = {"objective": 0.0, "bound": 0.0, "served": 0.0, "reachable": 0.0, "stations": 0}
    wall, cpu = time.perf_counter(), time.process_time()
    statuses = []
    for piece in pieces:
        solution = solve(piece, options)
        reachable = np.zeros(len(piece.zone_ids), bool)
        reachable[piece.pair_zone] = True
        total["objective"] += solution.objective
        total["bound"] += solution.bound
        total["served"] += objective_value(piece, solution)["served_demand"]
        total["reachable"] += float(piece.demand[reachable].sum())
        total["stations"] += int(solution.open_site.sum())
        statuses.append(solution.status)
        if len(piece.pair_zone) == max(len(q.pair_zone) for q in pieces):
            total["largest_objective"] = solution.objective
    total["wall_s"] = time.perf_counter() - wall
    total["cpu_s"] = time.process_time() - cpu
    total["gap"] = (total["objective"] - total["bound"]) / total["objective"]
    total["served_share"] = total["served"] / max(total["reachable"], 1e-12)
    total["optimal"] = statuses.count("optimal")
    total["pieces"] = len(pieces)
    return total


def served_floor_bound(piece, share: float) -> float:
    """The LP bound of ``piece`` with the row "at least ``share`` of the demand of the cells
    with a candidate in reach is served": a lower bound of every plan that serves that much.
    Above a plan's cost, it proves that the optimum serves less."""
    import highspy

    from chargeplan.model.formulation import build_milp
    from chargeplan.model.sparse import pass_arrays

    lp, ix = build_milp(piece)
    reachable = np.zeros(len(piece.zone_ids), bool)
    reachable[piece.pair_zone] = True
    demand = piece.demand[ix.u_zone, ix.u_type]
    unmet_allowed = demand.sum() - share * float(piece.demand[reachable].sum())
    u = ix.cols("u")
    lp.add_rows("served_floor", 1, np.zeros(u.size, int), u, demand, None, unmet_allowed)
    matrix, lo, hi = lp.row_arrays()
    lower, upper, _ = lp.bounds()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    no_integers = np.zeros(lp.n_cols, bool)
    pass_arrays(highs, lower, upper, no_integers, lp.objective, matrix, lo, hi)
    highs.run()
    return float(highs.getInfo().objective_function_value) + lp.objective_offset


def lagrange_steps_bound(piece, steps: int) -> dict[str, float]:
    """The design start of ``piece`` with ``steps`` subgradient steps: its plan's cost, the LP
    and the Lagrangian bound, and the CPU seconds of the whole start."""
    from chargeplan.model.formulation import build_milp
    from chargeplan.solver.designstart import design_start
    from chargeplan.solver.direct import load_arrays

    lp, ix = build_milp(piece)
    highs, order = load_arrays(lp)
    cpu = time.process_time()
    start = design_start(piece, lp, ix, highs, order, threads=1, lagrange_steps=steps)
    assert start is not None
    return {
        "objective": start.objective,
        "lp": start.lp_bound,
        "lagrange": start.lagrange_bound,
        "cpu_s": time.process_time() - cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", nargs="+", default=["珠海市", "深圳市", "上海市"])
    parser.add_argument("--time-limit", type=float, default=60.0, help="per piece, seconds")
    parser.add_argument("--only", choices=WAYS, help="one way only")
    parser.add_argument("--ways", nargs="+", choices=WAYS, help="these ways (default: all)")
    parser.add_argument("--cache", type=Path, help="folder for the prepared pieces")
    parser.add_argument(
        "--served-floor",
        type=float,
        help="also print the LP bound of the largest piece with this share served (e.g. 0.95)",
    )
    parser.add_argument(
        "--lagrange-steps",
        type=int,
        nargs="+",
        help="also print the largest piece's start with these numbers of subgradient steps",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    ways = [args.only] if args.only else (args.ways or WAYS)
    print(
        f"{'slice':<8} {'way':<6} {'pieces':>6} {'pairs':>7} {'objective':>14} {'bound':>14} "
        f"{'gap %':>6} {'served %':>8} {'stations':>8} {'wall s':>7} {'cpu s':>7}"
    )
    for region in args.regions:
        pieces = pieces_of(region, args.cache)
        pairs = sum(len(p.pair_zone) for p in pieces)
        results = {}
        for way in ways:
            r = solve_slice(pieces, way, args.time_limit)
            results[way] = r
            print(
                f"{region:<8} {way:<6} {r['pieces']:>6} {pairs:>7,} {r['objective']:>14,.0f} "
                f"{r['bound']:>14,.0f} {100 * r['gap']:>6.2f} {100 * r['served_share']:>8.2f} "
                f"{r['stations']:>8} {r['wall_s']:>7.1f} {r['cpu_s']:>7.1f}",
                flush=True,
            )
        if args.served_floor:
            largest = max(pieces, key=lambda p: len(p.pair_zone))
            bound = served_floor_bound(largest, args.served_floor)
            print(
                f"{region:<8} largest piece ({len(largest.pair_zone):,} pairs): LP bound with "
                f">= {100 * args.served_floor:g} % served: {bound:,.0f}; its plans cost "
                + ", ".join(f"{w} {r['largest_objective']:,.0f}" for w, r in results.items()),
                flush=True,
            )
        for steps in args.lagrange_steps or []:
            largest = max(pieces, key=lambda p: len(p.pair_zone))
            r = lagrange_steps_bound(largest, steps)
            print(
                f"{region:<8} largest piece, {steps} steps: plan {r['objective']:,.0f}, LP bound "
                f"{r['lp']:,.0f}, Lagrangian bound {r['lagrange']:,.0f}, gap "
                f"{100 * (r['objective'] - max(r['lp'], r['lagrange'])) / r['objective']:.2f} %, "
                f"start {r['cpu_s']:.1f} s CPU",
                flush=True,
            )
        for new, old in itertools.combinations(ways[::-1], 2):
            a, b = results[new], results[old]
            print(
                f"{region:<8} ratio {new}/{old}: objective {a['objective'] / b['objective']:.3f}, "
                f"gap {a['gap'] / max(b['gap'], 1e-12):.3f}, served "
                f"{a['served_share'] / max(b['served_share'], 1e-12):.3f}, wall "
                f"{a['wall_s'] / b['wall_s']:.3f}, cpu {a['cpu_s'] / b['cpu_s']:.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
