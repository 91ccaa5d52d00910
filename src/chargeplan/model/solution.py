"""What a solve returns: the decisions as arrays (:class:`Solution`) and their cost parts.

:func:`objective_value` recomputes a plan's cost from its decisions alone, independently of the
solver's own sum; tests and the plan's summary use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chargeplan.model.problem import FacilityProblem


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


def objective_value(problem: FacilityProblem, solution: Solution) -> dict[str, float]:
    """Recompute the plan's cost parts from the decisions (independent of the solver's sum).

    Returns
    -------
    dict
        ``fixed_cost``, ``charger_cost`` (new chargers only), ``grid_upgrade_cost``, ``capex``,
        ``access_cost``, ``unmet_penalty``, ``total_cost``, ``unmet_demand``,
        ``served_demand``.
    """
    fixed = float(problem.fixed_cost @ solution.open_site)
    new_chargers = np.maximum(solution.chargers - problem.existing_chargers, 0)
    chargers = float((problem.charger_cost * new_chargers).sum())
    upgrades = float(problem.grid_upgrade_cost @ solution.grid_upgrade)
    access = float((problem.pair_cost * solution.served).sum())
    unmet_demand = float((problem.demand * solution.unmet).sum())
    penalty = float((problem.unmet_penalty * problem.demand * solution.unmet).sum())
    total_demand = float(problem.demand.sum())
    capex = fixed + chargers + upgrades
    return {
        "fixed_cost": fixed,
        "charger_cost": chargers,
        "grid_upgrade_cost": upgrades,
        "capex": capex,
        "access_cost": access,
        "unmet_penalty": penalty,
        "total_cost": capex + access + penalty,
        "unmet_demand": unmet_demand,
        "served_demand": total_demand - unmet_demand,
    }
