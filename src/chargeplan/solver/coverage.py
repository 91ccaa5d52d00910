r"""National coverage targets under a Lagrangian decomposition: one multiplier per target row.

The full model's target row of group g (:func:`chargeplan.model.constraints.add_coverage_targets`)

.. math:: \sum_{(i,k) \in R_g} d_{ik} u_{ik} - s_g \le (1 - \tau_g) D_g, \qquad s_g \ge 0,
          \qquad \text{cost } \sigma_g s_g

runs over the whole country and so over every piece. It is dualised with a multiplier
:math:`0 \le \mu_g \le \sigma_g`: for every plan of the full model,

.. math:: \sigma_g s_g \ge \mu_g s_g
          \ge \mu_g \Big(\sum_{R_g} d_{ik} u_{ik} - (1 - \tau_g) D_g\Big),

so its cost is at least that of the plan priced with :math:`\mu_g d_{ik}` on every unmet unit of
:math:`R_g` and no target row, minus the constant :math:`\sum_g \mu_g (1 - \tau_g) D_g`
(:func:`target_constant`). That priced model is separable over the pieces: each zone lies in one
piece, and a piece keeps every pair of its zones, so its part of :math:`R_g` is :math:`R_g`
restricted to its zones. A piece states the price with the model's own rows
(:func:`dualised`): a target of share 1 at price :math:`\mu_g`, whose row
:math:`\sum_{R_g} d_{ik} u_{ik} - s_g \le 0` makes the cheapest :math:`s_g` exactly
:math:`\sum_{R_g} d_{ik} u_{ik}`, at cost :math:`\mu_g` per unit. :math:`\mu_g > \sigma_g` would
make :math:`s_g` unbounded below in the relaxation, hence the cap.

The dual function :math:`L(\mu)` is concave; its supergradient in :math:`\mu_g` is
:func:`signed_shortfall` of the pieces' plans, :math:`\tau_g D_g - \text{served}_g`. A
bisection on its sign (:func:`next_multipliers`) moves :math:`\mu` towards the maximiser of
:math:`L` and towards plans that just meet the target.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from chargeplan.model.problem import FacilityProblem
from chargeplan.model.targets import group_demand, target_groups, unmet_in_reach

__all__ = [
    "dualised",
    "next_multipliers",
    "signed_shortfall",
    "target_constant",
    "without_idle_targets",
]


def dualised(problem: FacilityProblem, mu: np.ndarray | None) -> FacilityProblem:
    r"""``problem`` (a piece or a part of the national one) with its target rows replaced by
    the price :math:`\mu_g` per unmet unit of each group's demand in reach (module docstring):
    share 1 at price :math:`\mu_g` where :math:`\mu_g > 0`, no row elsewhere.

    Parameters
    ----------
    problem
        A problem carrying the national target groups (``target_group``, ``target_names``).
    mu
        ``(G,)`` multipliers; ``None`` or all zero: the targets are dropped.
    """
    if not problem.target_names:
        return problem
    price = np.zeros(len(problem.target_names)) if mu is None else np.asarray(mu, float)
    return dataclasses.replace(
        problem, target_share=(price > 0).astype(float), target_price=price.copy()
    )


def target_constant(problem: FacilityProblem, mu: np.ndarray | None) -> float:
    r""":math:`\sum_g \mu_g (1 - \tau_g) D_g` over the groups with a target row, to subtract
    from the pieces' bounds (module docstring)."""
    if mu is None or not problem.target_names:
        return 0.0
    rows = target_groups(problem)
    total = group_demand(problem)
    return float((np.asarray(mu)[rows] * (1.0 - problem.target_share[rows]) * total[rows]).sum())


def signed_shortfall(problem: FacilityProblem, unmet: np.ndarray) -> np.ndarray:
    r"""``(G,)`` :math:`\tau_g D_g - \text{served}_g` of a national plan's ``unmet`` ``(Z, K)``
    (negative: above the target); 0 for groups without a target row. The supergradient of
    the dual function in :math:`\mu` (module docstring)."""
    out = np.zeros(len(problem.target_names))
    rows = target_groups(problem)
    if rows.size:
        total = group_demand(problem)
        served = total - unmet_in_reach(problem, unmet)
        out[rows] = (problem.target_share * total - served)[rows]
    return out


def next_multipliers(
    low: np.ndarray, high: np.ndarray, mu: np.ndarray, short: np.ndarray, tolerance: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    r"""One bisection step of each group's multiplier on the sign of its shortfall at ``mu``:
    short of the target (``short > tolerance``), :math:`\mu_g` was too low; otherwise too high.

    Returns
    -------
    tuple[np.ndarray, np.ndarray]
        The new bracket ``(low, high)``; the next multipliers are its middle.
    """
    below = short > tolerance
    return np.where(below, mu, low), np.where(below, high, mu)


def without_idle_targets(problem: FacilityProblem) -> FacilityProblem:
    """``problem`` without its target groups when none of them gets a row (no share, or no
    demand in reach): the same model, and the design menu's Lagrangian bound
    (:mod:`chargeplan.solver.design_bound`), which does not cover target rows, applies."""
    if not problem.target_names or target_groups(problem).size:
        return problem
    return dataclasses.replace(
        problem,
        target_names=(),
        target_group=np.full(len(problem.zone_ids), -1, np.int64),
        target_share=np.zeros(0),
        target_price=np.zeros(0),
    )
