r"""Coverage targets by settlement group: which demand counts, and what a plan achieves.

A :class:`~chargeplan.model.problem.FacilityProblem` may carry *target groups* (settlement
types: urban, suburban, rural): ``target_group`` gives each zone's group (``-1``: none),
``target_share`` the share :math:`\tau_g` of the group's demand in reach that must be served,
``target_price`` the price :math:`\sigma_g` per unit of demand left short of it.

Definitions (symbols as in :func:`chargeplan.model.constraints.add_coverage_targets`):

- :math:`R_g`, the demand *in reach* of group g: the zone-type demands :math:`(i, k)` of the
  group's zones with :math:`d_{ik} > 0` and at least one pair to a site that is not excluded
  and can hold a type-k charger. Every pair is within the zone's service standard (the pairs
  *are* the standard: :mod:`chargeplan.inputs.reach`), so "served" means "served within the
  standard". Demand with no candidate in reach cannot count against a target: no plan of the
  candidates can serve it (it is reported as a gap instead).
- :math:`D_g = \sum_{(i,k) \in R_g} d_{ik}`, and the share served
  :math:`1 - \sum_{(i,k) \in R_g} d_{ik} u_{ik} / D_g`.
- the shortfall :math:`s_g = \max(0,\; \tau_g D_g - \text{served}_g)`, in demand units.

Everything here is vectorised over pairs and zones; nothing is solved.
"""

from __future__ import annotations

import numpy as np

from chargeplan.model.problem import FacilityProblem

__all__ = [
    "coverage_summary",
    "group_demand",
    "reachable_demand",
    "shortfall",
    "target_groups",
    "target_penalty",
]


def reachable_demand(problem: FacilityProblem) -> np.ndarray:
    """``(Z, K)`` bool: demand with a usable pair (site not excluded, can hold the type)."""
    live = (problem.demand[problem.pair_zone] > 0) & ~problem.excluded[problem.pair_site][:, None]
    if problem.sizing:
        live &= problem.max_chargers[problem.pair_site] > 0
    out = np.zeros(problem.demand.shape, bool)
    pair, kind = np.nonzero(live)
    out[problem.pair_zone[pair], kind] = True
    return out


def group_demand(problem: FacilityProblem, reachable: np.ndarray | None = None) -> np.ndarray:
    r"""``(G,)`` demand in reach of each target group, :math:`D_g`."""
    reach = reachable_demand(problem) if reachable is None else reachable
    groups = len(problem.target_names)
    member = problem.target_group >= 0
    weights = (problem.demand * reach).sum(axis=1)[member]
    return np.bincount(problem.target_group[member], weights=weights, minlength=groups)


def target_groups(problem: FacilityProblem) -> np.ndarray:
    r"""Groups that get a target row: :math:`\tau_g > 0` and :math:`D_g > 0`."""
    if not problem.target_names:
        return np.empty(0, np.int64)
    return np.flatnonzero((problem.target_share > 0) & (group_demand(problem) > 0))


def unmet_in_reach(problem: FacilityProblem, unmet: np.ndarray) -> np.ndarray:
    """``(G,)`` demand in reach of each group left unmet by the plan (``unmet``: ``(Z, K)``)."""
    reach = reachable_demand(problem)
    member = problem.target_group >= 0
    left = (problem.demand * unmet * reach).sum(axis=1)[member]
    return np.bincount(
        problem.target_group[member], weights=left, minlength=len(problem.target_names)
    )


def shortfall(problem: FacilityProblem, unmet: np.ndarray) -> np.ndarray:
    r"""``(G,)`` shortfall :math:`s_g = \max(0, \tau_g D_g - \text{served}_g)` of a plan."""
    total = group_demand(problem)
    served = total - unmet_in_reach(problem, unmet)
    short = problem.target_share * total - served
    return np.where(short > 1e-9 * np.maximum(total, 1.0), short, 0.0)


def target_penalty(problem: FacilityProblem, unmet: np.ndarray) -> float:
    r"""The plan's shortfall cost :math:`\sum_g \sigma_g s_g`."""
    if not problem.target_names:
        return 0.0
    return float(problem.target_price @ shortfall(problem, unmet))


def coverage_summary(
    problem: FacilityProblem, unmet: np.ndarray, users: np.ndarray | None = None
) -> dict[str, float]:
    """Summary figures per group: demand in reach, share served within the standard, target
    and shortfall (keys ``standard_<group>_...``; empty without groups).

    ``users`` (``(Z,)`` premium users per zone) adds the users of the group's zones with demand
    in reach and the share of them served, each zone's users counted served in the share its
    demand in reach is (``standard_<group>_users_in_reach``, ``..._users_served_share``).
    """
    if not problem.target_names:
        return {}
    total = group_demand(problem)
    left = unmet_in_reach(problem, unmet)
    short = shortfall(problem, unmet)
    out: dict[str, float] = {}
    for g, name in enumerate(problem.target_names):
        out[f"standard_{name}_demand_in_reach_kwh"] = float(total[g])
        out[f"standard_{name}_served_share"] = (
            float(1.0 - left[g] / total[g]) if total[g] > 0 else float("nan")
        )
        out[f"standard_{name}_target_share"] = float(problem.target_share[g])
        out[f"standard_{name}_shortfall_kwh"] = float(short[g])
    if users is not None:
        out.update(_users_summary(problem, unmet, np.asarray(users, float)))
    return out


def _users_summary(
    problem: FacilityProblem, unmet: np.ndarray, users: np.ndarray
) -> dict[str, float]:
    """Premium users of each group's zones with demand in reach, and the share served."""
    reach = reachable_demand(problem)
    demand = (problem.demand * reach).sum(axis=1)
    left = (problem.demand * unmet * reach).sum(axis=1)
    served = np.divide(demand - left, demand, out=np.zeros_like(demand), where=demand > 0)
    member = (problem.target_group >= 0) & (demand > 0)
    group = problem.target_group[member]
    groups = len(problem.target_names)
    in_reach = np.bincount(group, weights=users[member], minlength=groups)
    served_users = np.bincount(group, weights=(users * served)[member], minlength=groups)
    out: dict[str, float] = {}
    for g, name in enumerate(problem.target_names):
        out[f"standard_{name}_users_in_reach"] = float(in_reach[g])
        out[f"standard_{name}_users_served_share"] = (
            float(served_users[g] / in_reach[g]) if in_reach[g] > 0 else float("nan")
        )
    return out
