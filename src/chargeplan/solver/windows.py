r"""Polish of a Lagrangian plan: parts re-solved on the candidate sites, large ones in windows.

The plan of :class:`~chargeplan.solver.piecesolve.PieceSearch` (the owner plan) is feasible for
the full model. The full model restricted to the *candidate* sites (those open in the owner
plan or in any piece's solution; the others excluded) falls apart into components much smaller
than the full reach graph. :func:`polish` improves the plan part by part:

- a component of at most ``max_pairs`` pairs is solved whole (components bundled);
- a larger one is cut into **windows**: its zones are bisected
  (:func:`chargeplan.solver.pieces.bisect_zones`) into groups :math:`W` of at most ``max_pairs``
  pairs. A window's *free* sites :math:`J_W` are the candidate sites its zones reach that serve
  no zone outside :math:`W` in the current plan (closed ones, and those only :math:`W` uses),
  less those free in an earlier window of the same pass. Every other site stays as the plan
  has it, and so do the flows of :math:`W`'s zones to it (its load is *reserved*): each zone
  keeps the share :math:`1 - r_{ik}` it gets from fixed sites, and the window solves the
  problem of zones :math:`W` with the *residual* demand :math:`r_{ik} d_{ik}` (pair costs scaled
  alike), sites :math:`J_W` and the pairs between them. Its plan, written back as
  :math:`x_{ijk} = r_{ik} x'_{ijk}`, :math:`u_{ik} = r_{ik} u'_{ik}`, keeps every row of the full
  model: free sites carry loads of :math:`W` only, fixed sites the same loads as before, and
  each zone's shares still sum to 1.

A part's new plan replaces the old one when it costs less on what it changes (capex of its
sites, access of its pairs, penalty of its zones, and the national shortfall cost of coverage
targets): the merged plan stays feasible and never costs more. Windows of one pass touch
disjoint free sites and zones (a window changes only flows of its zones to its free sites), so
they are solved side by side and accepted in window order. A second
pass cuts the same components along rotated axes (:math:`x + y`, :math:`x - y`), so that the
sites on the first pass's window borders are re-optimised too. Everything is a function of the
data and the plan: the order is deterministic.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution, objective_value
from chargeplan.model.targets import target_penalty
from chargeplan.solver.coverage import dualised
from chargeplan.solver.pieces import bisect_zones
from chargeplan.solver.piecesolve import PieceSearch, site_capex
from chargeplan.solver.split import Region, bundle, split_components, subproblem

__all__ = ["DECISIONS", "polish", "window_part"]

log = logging.getLogger(__name__)

DECISIONS = ("open_site", "chargers", "served", "unmet", "grid_upgrade")

#: Window passes over a large component: along x/y, then along the diagonals.
PASSES = 2


@dataclass(frozen=True)
class Part:
    """A part of the plan to re-solve: its region of the national problem, the problem solved
    (residual demand for a window) and ``residual`` ``(len(region.zones), K)`` :math:`r_{ik}`."""

    region: Region
    problem: FacilityProblem
    residual: np.ndarray


def window_part(
    narrow: FacilityProblem,
    decisions: dict[str, Any],
    zones: np.ndarray,
    taken: np.ndarray | None = None,
) -> Part | None:
    """The window of ``zones`` (module docstring) on the candidate problem ``narrow``, at the
    plan ``decisions``; ``None`` if it has no free site or no residual demand there.

    ``taken`` ``(S,)``: sites free in an earlier window of the same pass (they stay fixed
    here); the window's free sites are added to it in place.
    """
    live = narrow.live_pairs
    inside = np.zeros(len(narrow.zone_ids), bool)
    inside[zones] = True
    mine = live & inside[narrow.pair_zone]
    others = ~inside[narrow.pair_zone]
    load = (decisions["served"][others] * narrow.demand[narrow.pair_zone[others]]).sum(axis=1)
    loaded = np.bincount(narrow.pair_site[others], weights=load, minlength=len(narrow.site_ids))
    reached = np.zeros(len(narrow.site_ids), bool)
    reached[narrow.pair_site[mine]] = True
    free = reached & (loaded <= 0) & (True if taken is None else ~taken)
    pairs = np.flatnonzero(mine & free[narrow.pair_site])
    if not pairs.size:
        return None
    kept = inside[narrow.pair_zone] & ~free[narrow.pair_site]
    fixed = np.zeros(narrow.demand.shape)
    np.add.at(fixed, narrow.pair_zone[kept], decisions["served"][kept])
    used = np.unique(narrow.pair_zone[pairs])
    residual = np.clip(1.0 - fixed[used], 0.0, 1.0)
    residual[residual < 1e-9] = 0.0
    region = Region(zones=used, sites=np.flatnonzero(free), pairs=pairs)
    part = subproblem(narrow, region)
    part = dataclasses.replace(
        part,
        demand=part.demand * residual,
        pair_cost=part.pair_cost * residual[part.pair_zone],
    )
    if not part.live_pairs.any():  # every zone served in full from fixed sites
        return None
    if taken is not None:
        taken |= free
    return Part(region, part, residual)


def _windows(
    narrow: FacilityProblem, component: Region, max_pairs: int, xy: np.ndarray, rotated: bool
) -> list[np.ndarray]:
    """Zone groups of one large component, bisected along x/y or along the diagonals."""
    count = np.bincount(narrow.pair_zone[component.pairs], minlength=len(narrow.zone_ids))
    here = xy[component.zones]
    if rotated:
        here = np.column_stack([here[:, 0] + here[:, 1], here[:, 0] - here[:, 1]])
    return bisect_zones(component.zones, count[component.zones], here, max_pairs)


def _cost(problem: FacilityProblem, part: Part, decisions: dict[str, Any], capex: float) -> float:
    """What a plan costs on a part: capex of its sites, access of its pairs, penalty of its
    zones, and the national shortfall cost of the targets."""
    region = part.region
    access = float((problem.pair_cost[region.pairs] * decisions["served"][region.pairs]).sum())
    unmet = decisions["unmet"]
    demand = problem.demand[region.zones]
    penalty = float((problem.unmet_penalty * demand * unmet[region.zones]).sum())
    return capex + access + penalty + target_penalty(problem, unmet)


def _apply(
    problem: FacilityProblem,
    plan: Solution,
    decisions: dict[str, Any],
    part: Part,
    new: Solution,
) -> bool:
    """Write ``new`` (the part's plan) into ``decisions`` (of ``plan``'s shape) if it is
    cheaper there (in place)."""
    region = part.region
    capex_now = site_capex(problem, dataclasses.replace(plan, **decisions))[region.sites]
    old = _cost(problem, part, decisions, float(capex_now.sum()))
    trial = {name: decisions[name] for name in DECISIONS}
    trial["served"] = decisions["served"].copy()
    trial["served"][region.pairs] = part.residual[part.problem.pair_zone] * new.served
    trial["unmet"] = decisions["unmet"].copy()
    trial["unmet"][region.zones] = np.where(
        part.problem.demand > 0, part.residual * new.unmet, decisions["unmet"][region.zones]
    )
    capex = float(site_capex(part.problem, new).sum())
    if _cost(problem, part, trial, capex) >= old - 1e-9 * abs(old):
        return False
    decisions["served"], decisions["unmet"] = trial["served"], trial["unmet"]
    decisions["open_site"][region.sites] = new.open_site
    decisions["chargers"][region.sites] = new.chargers
    decisions["grid_upgrade"][region.sites] = new.grid_upgrade
    return True


def _solve_parts(
    search: PieceSearch, plan: Solution, decisions: dict[str, Any], parts: list[Part]
) -> tuple[int, int]:
    """Solve ``parts`` side by side and accept each in order; (improved, solved)."""
    tasks = {t: dualised(part.problem, search.mu) for t, part in enumerate(parts)}
    solved = search.solve_tasks(tasks, pieces=False)
    better = sum(
        _apply(search.problem, plan, decisions, part, solved[t])
        for t, part in enumerate(parts)
        if t in solved  # a part without a plan at the work limit keeps the plan it has
    )
    return better, len(parts)


def polish(
    search: PieceSearch,
    plan: Solution,
    candidates: np.ndarray,
    max_pairs: int,
    zone_xy: np.ndarray | None = None,
) -> Solution:
    """``plan`` improved on the sites ``candidates`` ``(S,)`` (module docstring).

    Parameters
    ----------
    search
        The pieces' search (its problem, executor, options and target multipliers).
    plan
        A feasible plan of ``search.problem`` that only opens candidate sites.
    candidates
        ``(S,)`` bool: the sites the polish may open.
    max_pairs
        Largest part solved: components up to it whole, larger ones in windows of it.
    zone_xy
        ``(Z, 2)`` zone centres for the windows (default: zones in position order).

    Returns
    -------
    Solution
        The polished plan, never costlier than ``plan``; ``objective`` its full cost.
    """
    problem = search.problem
    narrow = dataclasses.replace(problem, excluded=problem.excluded | ~candidates)
    components = split_components(narrow)
    decisions = {name: getattr(plan, name).copy() for name in DECISIONS}
    whole = bundle([r for r in components if len(r.pairs) <= max_pairs], max_pairs)
    k = len(problem.types)
    parts = [Part(r, subproblem(narrow, r), np.ones((len(r.zones), k))) for r in whole]
    large = [r for r in components if len(r.pairs) > max_pairs]
    if zone_xy is None:
        xy = np.column_stack([np.arange(len(problem.zone_ids)), np.zeros(len(problem.zone_ids))])
    else:
        xy = np.asarray(zone_xy, float)
    better, tried = 0, 0
    for rotated in [False, True][: PASSES if large else 1]:
        windows = [w for r in large for w in _windows(narrow, r, max_pairs, xy, rotated)]
        taken = np.zeros(len(problem.site_ids), bool)
        for zones in windows:
            part = window_part(narrow, decisions, zones, taken)
            parts += [] if part is None else [part]
        improved, solved = _solve_parts(search, plan, decisions, parts)
        better, tried, parts = better + improved, tried + solved, []
    log.info(
        "lagrange: polish improved %d of %d parts (%d components in windows)",
        better,
        tried,
        len(large),
    )
    polished = dataclasses.replace(plan, **decisions)
    return dataclasses.replace(polished, objective=objective_value(problem, polished)["total_cost"])
