"""What a solve returns: the decisions as arrays (:class:`Solution`) and their cost parts.

:func:`decode` turns the model's column values back into decisions, :func:`read_solution` does
so for a solved Pyomo model (extended or not), and :func:`objective_value` recomputes a plan's
cost from its decisions alone, independently of the solver's own sum; tests and the plan's
summary use it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from chargeplan.model.designs import charger_capex
from chargeplan.model.index import ModelIndex, ModelOrigin
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.targets import target_penalty

if TYPE_CHECKING:
    import pyomo.environ as pyo

__all__ = [
    "Solution",
    "column_values",
    "decode",
    "objective_value",
    "read_solution",
    "stage_outcome",
]


@dataclass(frozen=True)
class Solution:
    """Decisions and solver outcome.

    Attributes
    ----------
    open_site
        ``(S,)`` bool, whether each site is opened.
    chargers
        ``(S, K)`` int, chargers of each type (zeros without sizing).
    served
        ``(P, K)`` share of each pair's zone demand of each type served over that pair.
    unmet
        ``(Z, K)`` unmet share of each zone's demand of each type.
    grid_upgrade
        ``(S,)`` bool, whether each site's grid connection is upgraded.
    status
        ``"optimal"`` (within the gap), ``"time_limit"`` (best plan found when time ran out)
        or another HiGHS termination reason with a feasible plan.
    objective, bound, gap
        The objective value of the plan, HiGHS's best bound and the relative gap
        ``|objective - bound| / max(|objective|, 1e-9)``. For ``max_coverage`` these are of the
        first (coverage) stage, in unmet demand units.
    build_seconds, solve_seconds
        Time to build the model and to solve it (hand-off to HiGHS included).
    """

    open_site: np.ndarray
    chargers: np.ndarray
    served: np.ndarray
    unmet: np.ndarray
    grid_upgrade: np.ndarray
    status: str
    objective: float
    bound: float
    gap: float
    build_seconds: float
    solve_seconds: float
    stages: tuple[dict, ...] = ()
    formulation: str = ""


def stage_outcome(stage: Mapping[str, Any], build_seconds: float) -> dict[str, Any]:
    """A solve's outcome as :class:`Solution`'s fields: the ``status``, ``objective``,
    ``bound``, ``gap`` and ``seconds`` (as ``solve_seconds``) of one HiGHS run (the dict
    :func:`~chargeplan.solver.highs.run_highs` returns), and ``build_seconds``."""
    return {
        "status": stage["status"],
        "objective": stage["objective"],
        "bound": stage["bound"],
        "gap": stage["gap"],
        "build_seconds": build_seconds,
        "solve_seconds": stage["seconds"],
    }


def objective_value(problem: FacilityProblem, solution: Solution) -> dict[str, float]:
    """Recompute the plan's cost parts from the decisions (independent of the solver's sum).

    Returns
    -------
    dict
        ``fixed_cost``, ``charger_cost`` (new chargers only; with designs, the designs'
        capex), ``grid_upgrade_cost``, ``capex``,
        ``access_cost``, ``unmet_penalty``, ``target_shortfall_penalty`` (coverage targets:
        :mod:`chargeplan.model.targets`), ``total_cost``, ``unmet_demand``, ``served_demand``.
    """
    fixed = float(problem.fixed_cost @ solution.open_site)
    chargers = float(charger_capex(problem, solution.chargers).sum())
    upgrades = float(problem.grid_upgrade_cost @ solution.grid_upgrade)
    access = float((problem.pair_cost * solution.served).sum())
    unmet_demand = float((problem.demand * solution.unmet).sum())
    penalty = float((problem.unmet_penalty * problem.demand * solution.unmet).sum())
    shortfall = target_penalty(problem, solution.unmet)
    total_demand = float(problem.demand.sum())
    capex = fixed + chargers + upgrades
    return {
        "fixed_cost": fixed,
        "charger_cost": chargers,
        "grid_upgrade_cost": upgrades,
        "capex": capex,
        "access_cost": access,
        "unmet_penalty": penalty,
        "target_shortfall_penalty": shortfall,
        "total_cost": capex + access + penalty + shortfall,
        "unmet_demand": unmet_demand,
        "served_demand": total_demand - unmet_demand,
    }


def decode(problem: FacilityProblem, ix: ModelIndex, values: np.ndarray) -> dict[str, np.ndarray]:
    """Turn a column vector back into decisions: open sites, chargers, shares, upgrades."""
    k = len(problem.types)
    s = len(problem.site_ids)
    open_site = np.zeros(s, bool)
    open_site[ix.y_site] = values[ix.span("y")] > 0.5
    chargers = np.zeros((s, k), np.int64)
    if ix.n_site.size:  # (no charger columns without sizing)
        chargers[ix.n_site, ix.n_type] = np.rint(values[ix.span("n")]).astype(np.int64)
    served = np.zeros((len(problem.pair_zone), k))
    served[ix.x_pair, ix.x_type] = _share(values[ix.span("x")])
    unmet = np.zeros((len(problem.zone_ids), k))
    unmet[ix.u_zone, ix.u_type] = _share(values[ix.span("u")])
    upgrade = np.zeros(s, bool)
    if ix.g_site.size:
        upgrade[ix.g_site] = values[ix.span("g")] > 0.5
    if ix.covering:  # served from the shares as HiGHS gave them (clipped only), then cleaned
        covered = np.ones((len(problem.zone_ids), k))
        covered[ix.u_zone, ix.u_type] -= np.clip(values[ix.span("u")], 0.0, 1.0)
        served = _nearest_open(problem, open_site, covered)
        served[served < 1e-9] = 0.0
    return {
        "open_site": open_site,
        "chargers": chargers,
        "served": served,
        "unmet": unmet,
        "grid_upgrade": upgrade,
    }


def _share(values: np.ndarray) -> np.ndarray:
    """Shares as reported: at most 1, and 0 below 1e-9 (the solver's feasibility tolerance
    leaves noise there; negative noise included), i.e. ``np.clip(values, 0, 1)`` with what is
    below 1e-9 then set to 0, in one pass."""
    return np.where(values < 1e-9, 0.0, np.minimum(values, 1.0))


def _nearest_open(problem: FacilityProblem, open_site: np.ndarray, share: np.ndarray) -> np.ndarray:
    """``(P, K)``: each zone's covered ``share`` served by its nearest open site in reach.

    For the covering form, where any open site in reach serves equally well (ties and unknown
    distances: the first pair).
    """
    k = len(problem.types)
    usable = (problem.demand[problem.pair_zone] > 0) & ~problem.excluded[problem.pair_site][:, None]
    usable &= open_site[problem.pair_site][:, None]
    pair, kind = np.nonzero(usable)
    zone = problem.pair_zone[pair]
    distance = np.nan_to_num(problem.distance_km[pair], nan=np.inf)
    order = np.lexsort((pair, distance, zone * k + kind))
    _, first = np.unique((zone * k + kind)[order], return_index=True)
    best = order[first]
    served = np.zeros((len(problem.pair_zone), k))
    served[pair[best], kind[best]] = share[zone[best], kind[best]]
    return served


def column_values(columns: list) -> np.ndarray:
    """The current values of variables, in order (no value: 0)."""
    return np.fromiter((v.value or 0.0 for v in columns), dtype=float, count=len(columns))


def read_solution(model: pyo.ConcreteModel) -> Solution:
    """The plan held in a solved model of :func:`chargeplan.build_model`, extended or not.

    Reads the values of the model's variables (after any Pyomo solver loaded them) and
    decodes them into decisions for the problem the model was built from.

    Parameters
    ----------
    model
        A model of :func:`chargeplan.model.formulation.build_model` whose variables hold a
        solution.

    Returns
    -------
    Solution
        The decisions; ``objective`` is the value of the model's active objective (constant
        included), ``status`` is ``"loaded"`` and ``bound`` and ``gap`` are NaN (the solver's
        outcome is its results object's to tell; :func:`chargeplan.solve_model` fills them).
    """
    import pyomo.environ as pyo

    origin = getattr(model, "chargeplan", None)
    if not isinstance(origin, ModelOrigin):
        raise TypeError("read_solution needs a model built by chargeplan.build_model")
    decisions: dict[str, Any] = decode(origin.problem, origin.index, column_values(model.columns))
    active = list(model.component_data_objects(pyo.Objective, active=True))
    objective = float(pyo.value(active[0])) if len(active) == 1 else math.nan
    return Solution(
        **decisions,
        status="loaded",
        objective=objective,
        bound=math.nan,
        gap=math.nan,
        build_seconds=0.0,
        solve_seconds=0.0,
    )
