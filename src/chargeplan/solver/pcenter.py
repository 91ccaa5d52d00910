r"""The p-center by bisection on the radius: exact, and far faster than its minimax MILP.

The minimax formulation (:func:`chargeplan.model.families.add_worst_cost`) has a weak LP bound:
OR-Library's pmed1 as a 5-center (100 nodes) stops at a 120 s limit with a 29 % gap. For the
plain p-center (no charger sizing, every site uncapacitated, no budget) there is a classic
exact alternative (Minieka 1970): the optimum :math:`W^*` is one of the per-unit pair costs
:math:`r_1 < r_2 < \dots < r_m` (the distances), and

.. math:: W^* \le r \iff \min \Bigl\{ \sum_j y_j : \sum_{j : c_{ij} \le r} y_j \ge 1 \;\forall i
          \Bigr\} \le p

(open sites covering every zone within r, the must-open sites included). So :math:`W^*` is the
smallest :math:`r_k` whose set cover needs at most p sites: a bisection over k with
:math:`\lceil \log_2 m \rceil` set covering solves (:func:`chargeplan.solve`, covering form),
each small and quick. The plan is that cover, each zone served by its cheapest open site.

:func:`chargeplan.solver.highs.solve` uses it for ``objective="min_max_cost"`` when
:func:`bisection_applies`; the labelled model (``chargeplan.build_model``) keeps the minimax
rows, and ``tests/test_families.py`` checks both against brute force.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from chargeplan.errors import SolveError
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution
from chargeplan.solver.options import SolverOptions

__all__ = ["bisection_applies", "solve_by_bisection"]


def bisection_applies(problem: FacilityProblem) -> bool:
    """The plain p-center: minimax objective, one type, no sizing, no capacities, no budget,
    no coverage targets, demand that must be served."""
    return (
        problem.objective == "min_max_cost"
        and len(problem.types) == 1
        and not problem.sizing
        and bool(np.all(np.isinf(problem.site_capacity)))
        and problem.budget is None
        and problem.max_sites is not None
        and problem.hard_demand
        and not problem.target_names  # coverage targets price unmet demand: not a set cover
    )


def solve_by_bisection(
    problem: FacilityProblem,
    options: SolverOptions,
    solve: Callable[[FacilityProblem, SolverOptions], Solution],
) -> Solution:
    """The p-center's optimum and plan by bisection on the radius (module docstring).

    ``solve`` solves each set covering problem (:func:`chargeplan.solve`).
    """
    start = time.perf_counter()
    live = problem.live_pairs
    demand = problem.demand[problem.pair_zone, 0]
    unit = np.where(demand > 0, problem.pair_cost[:, 0] / np.where(demand > 0, demand, 1.0), 0.0)
    radii = np.unique(unit[live])
    p = problem.max_sites
    assert p is not None
    lo, hi = 0, len(radii) - 1  # invariant: radii[hi] is feasible (checked first)
    best = _cover(problem, unit <= radii[hi], options, solve) if radii.size else None
    if best is None or best.open_site.sum() > p:
        raise SolveError(
            f"no {p} sites reach every zone that some site reaches (the fewest that do: "
            f"{'none' if best is None else int(best.open_site.sum())}): the p-center is "
            "infeasible; raise p or allow more pairs (a larger radius)"
        )
    stages = list(best.stages)
    while lo < hi:
        mid = (lo + hi) // 2
        cover = _cover(problem, unit <= radii[mid], options, solve)
        stages.extend(cover.stages if cover is not None else ())
        if cover is not None and cover.open_site.sum() <= p:
            hi, best = mid, cover
        else:
            lo = mid + 1
    served = _nearest(problem, best.open_site, unit)
    worst = float(unit[served[:, 0] > 0].max()) if served.any() else 0.0
    return dataclasses.replace(
        best,
        served=served,
        objective=worst,
        bound=worst,
        gap=0.0,
        status="optimal" if all(s["status"] == "optimal" for s in stages) else "time_limit",
        stages=tuple(stages),
        build_seconds=0.0,
        solve_seconds=time.perf_counter() - start,
        formulation=f"p-center by bisection on the radius ({len(stages)} set covering solves)",
    )


def _cover(
    problem: FacilityProblem,
    within: np.ndarray,
    options: SolverOptions,
    solve: Callable[[FacilityProblem, SolverOptions], Solution],
) -> Solution | None:
    """The fewest sites covering every zone with pairs ``within`` (``None``: a zone has none)."""
    keep = np.flatnonzero(within)
    reached = np.zeros(len(problem.zone_ids), bool)
    reached[problem.pair_zone[keep[problem.live_pairs[keep]]]] = True
    if np.any((problem.demand[:, 0] > 0) & ~reached & _reachable(problem)):
        return None  # a zone that some pair reaches is out of this radius: infeasible
    covering = dataclasses.replace(
        problem,
        pair_zone=problem.pair_zone[keep],
        pair_site=problem.pair_site[keep],
        pair_cost=np.zeros((keep.size, 1)),
        distance_km=problem.distance_km[keep],
        fixed_cost=np.ones(len(problem.site_ids)),
        objective="min_cost",
        max_sites=None,
        single_source=False,
    )
    solution = solve(covering, dataclasses.replace(options, mip_rel_gap=0.0))
    return dataclasses.replace(solution, served=np.zeros((len(problem.pair_zone), 1)))


def _reachable(problem: FacilityProblem) -> np.ndarray:
    """``(Z,)`` bool: zones with at least one usable pair."""
    reached = np.zeros(len(problem.zone_ids), bool)
    reached[problem.pair_zone[problem.live_pairs]] = True
    return reached


def _nearest(problem: FacilityProblem, open_site: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """``(P, 1)``: each zone served whole by its cheapest open site (ties: the first pair)."""
    usable = np.flatnonzero(problem.live_pairs & open_site[problem.pair_site])
    order = usable[np.lexsort((usable, unit[usable], problem.pair_zone[usable]))]
    zone = problem.pair_zone[order]
    first = order[np.r_[True, zone[1:] != zone[:-1]]] if order.size else order
    served = np.zeros((len(problem.pair_zone), 1))
    served[first, 0] = 1.0
    return served
