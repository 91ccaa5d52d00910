"""Lagrangian decomposition against the monolithic solve, on synthetic instances of growing size.

The instance (:func:`instance`): zones and candidate sites at random, at constant density, on a
square whose area grows with the size factor (1x: 1,000 zones and 250 sites on 100 km x 100 km),
pairs within 10 km, one charger type (50 kWh per charger in the peak hour, at most 8 per site,
CNY 1,000 each), fixed costs CNY 5,000-20,000, access CNY 2 per kWh and km, unmet demand CNY 500
per kWh. At constant density the reach graph is one component at every size, so the
decomposition must cut it into pieces that share sites: the case the bound is for.

For each size it prints, in the same run: the monolithic solve (HiGHS, one model; its time, plan
cost and bound, stopped at ``--gap`` or at ``--mono-limit`` seconds, whichever first) and the
Lagrangian decomposition (``chargeplan.solver.lagrange``: pieces of at most ``--piece-pairs``
pairs, ``--steps`` supergradient steps, no time limit, at most ``--piece-max-nodes``
branch-and-bound nodes per piece; polish in windows of ``--polish-pairs``; its time, plan cost,
bound of the full model and gap), then the ratios ``plan / monolithic plan``,
``bound / monolithic bound`` and ``time / monolithic time``. Both use one HiGHS thread; the
pieces run one after the other in this process (the Dask executor would run them side by side).

Run from the repository root (about 15 minutes on one idle core for the default sizes)::

    PYTHONPATH=src python benchmarks/decomposition_bound.py --sizes 0.25 0.5 1 2
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from random_square import random_square

from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import objective_value
from chargeplan.solver.highs import solve
from chargeplan.solver.lagrange import solve_lagrange
from chargeplan.solver.options import SolverOptions


def instance(size: float, seed: int = 0) -> tuple[FacilityProblem, np.ndarray]:
    """The synthetic instance at ``size`` (module docstring) and its zone coordinates (km)."""
    return random_square(
        int(1000 * size),
        int(250 * size),
        side_km=100 * np.sqrt(size),
        radius_km=10.0,
        access_cny_per_kwh_km=2.0,
        max_chargers=8.0,
        unmet_cny_per_kwh=500.0,
        seed=seed,
    )


def main() -> None:
    """Print one row per size (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.25, 0.5, 1.0, 2.0])
    parser.add_argument("--gap", type=float, default=0.01, help="MIP gap of every solve")
    parser.add_argument("--piece-pairs", type=int, default=1500)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--theta", type=float, default=0.25, help="first Polyak step factor")
    parser.add_argument(
        "--fixed-per-kwh", type=float, default=1.0, help="part of shared fixed costs per kWh"
    )
    parser.add_argument("--polish-pairs", type=int, default=None, help="default 4 x --piece-pairs")
    parser.add_argument(
        "--piece-max-nodes", type=int, default=1000, help="work limit per piece (0: none)"
    )
    parser.add_argument("--mono-limit", type=float, default=600.0, help="seconds")
    args = parser.parse_args()
    header = (
        f"{'size':>5} {'pairs':>7} {'pieces':>6} {'shared':>6} | {'mono s':>7} {'mono plan':>11} "
        f"{'mono bound':>11} | {'lagr s':>7} {'lagr plan':>11} {'lagr bound':>11} "
        f"{'gap %':>6} | {'plan/mono':>9} {'bound/mono':>10} {'time/mono':>9}"
    )
    print(header, flush=True)
    for size in args.sizes:
        problem, zone_xy = instance(size)
        mono_options = SolverOptions(mip_rel_gap=args.gap, threads=1, time_limit_s=args.mono_limit)
        start = time.perf_counter()
        mono = solve(problem, mono_options)
        mono_s = time.perf_counter() - start
        options = SolverOptions(mip_rel_gap=args.gap, threads=1)
        start = time.perf_counter()
        plan, run = solve_lagrange(
            problem,
            options,
            zone_xy=zone_xy,
            max_piece_pairs=args.piece_pairs,
            steps=args.steps,
            theta=args.theta,
            fixed_per_kwh=args.fixed_per_kwh,
            polish_pairs=args.polish_pairs,
            max_nodes=args.piece_max_nodes or None,
        )
        lagr_s = time.perf_counter() - start
        cost = objective_value(problem, plan)["total_cost"]
        print(
            f"{size:>5g} {len(problem.pair_zone):>7} {run.pieces:>6} {run.shared_sites:>6} | "
            f"{mono_s:>7.1f} {mono.objective:>11.0f} {mono.bound:>11.0f} | {lagr_s:>7.1f} "
            f"{cost:>11.0f} {plan.bound:>11.0f} {100 * plan.gap:>6.2f} | "
            f"{cost / mono.objective:>9.4f} {plan.bound / mono.bound:>10.4f} "
            f"{lagr_s / mono_s:>9.2f}",
            flush=True,
        )
        bounds = ", ".join(f"{step['bound']:.0f}" for step in run.steps)
        print(f"      L(w) at each weight vector: {bounds}", flush=True)
        print(f"      pieces stopped at the work limit: {list(run.work_limited)}", flush=True)


if __name__ == "__main__":
    main()
