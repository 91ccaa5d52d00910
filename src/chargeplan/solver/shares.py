r"""What a piece of a Lagrangian decomposition pays for a site it shares with other pieces.

Copy r of a shared site j pays the share :math:`w_{rj}` of the site's fixed and upgrade costs
(and of its charger or design capex where that is not linearised), see
:mod:`chargeplan.solver.lagrange`. Charger capacity is *additive* over the pieces (the site's
chargers must carry the load of every piece), which copies that each carry the full capacity
cannot see; so at a shared site with no existing chargers the charger capex is replaced by its
lower bound per kWh served, paid on the pairs (each pair lies in one piece, so these costs add
up over the pieces exactly as the load does):

- linear rule: :math:`p_{jk} (n_{jk}) \ge (p_{jk} / q_k) \sum_i d_{ik} x_{ijk}` since
  :math:`q_k n_{jk} \ge` load;
- queueing rule: a queue of :math:`c` chargers serves :math:`L_k(c) \le \rho_k c` with
  :math:`\rho_k = \max_{c \ge 1} L_k(c) / c`, so :math:`p_{jk} n_{jk} \ge (p_{jk}/\rho_k)` load;
- station designs: :math:`F_d \ge \beta_j \sum_k Q_{jdk} \ge \beta_j \sum_k` load with
  :math:`\beta_j = \min_d F_d / \sum_k Q_{jdk}`.

A part :math:`\alpha` of the fixed cost can be priced the same way: :math:`f_j y_j \ge
(f_j / \bar C_j)` load, with :math:`\bar C_j` an upper bound of what site j can serve
(:func:`fixed_rate`). Every plan of the full model costs at least as much under these prices,
so a lower bound of the re-priced model is one of the full model.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from chargeplan.model.designs import station_capacity
from chargeplan.model.problem import FacilityProblem

__all__ = ["fixed_rate", "linear_rate", "shared_copy"]


def _rho(problem: FacilityProblem) -> np.ndarray:
    """``(K,)`` most kWh one charger serves: ``q_k``, or ``max_c L_k(c) / c`` when queueing."""
    if problem.queue_levels is not None:
        return np.array(
            [float(np.max(lv[1:] / np.arange(1, len(lv)))) for lv in problem.queue_levels]
        )
    assert problem.charger_capacity is not None
    return np.asarray(problem.charger_capacity, float)


def linear_rate(problem: FacilityProblem) -> tuple[np.ndarray, np.ndarray]:
    """``(S, K)`` capex per kWh served that bounds each site's charger capex from below, and
    ``(S,)`` where that bound applies (sized sites without existing chargers)."""
    s, k = len(problem.site_ids), len(problem.types)
    if not problem.sizing:
        return np.zeros((s, k)), np.zeros(s, bool)
    usable = ~problem.has_existing
    if problem.designs:
        assert problem.design_capex is not None
        _, design = station_capacity(problem)
        total = design.sum(axis=2)  # (S, D)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_kwh = np.where(total > 0, problem.design_capex[None, :] / total, np.inf)
        beta = per_kwh.min(axis=1) * problem.design_capex_share
        usable &= np.isfinite(beta)
        return np.repeat(np.where(usable, beta, 0.0)[:, None], k, axis=1), usable
    rho = _rho(problem)
    rate = problem.charger_cost / np.where(rho > 0, rho, np.inf)
    return np.where(usable[:, None], rate, 0.0), usable


def fixed_rate(problem: FacilityProblem) -> np.ndarray:
    r"""``(S,)`` fixed cost per kWh served that bounds :math:`f_j y_j` from below (module
    docstring): :math:`\bar C_j` is the site capacity and, with sizing, the most the site's
    chargers serve (:math:`\sum_k \rho_k M_{jk}`, or the largest design's
    :math:`\sum_k Q_{jdk}`); 0 where nothing bounds it."""
    capacity = np.asarray(problem.site_capacity, float).copy()
    if problem.sizing and problem.designs:
        _, design = station_capacity(problem)
        capacity = np.minimum(capacity, design.sum(axis=2).max(axis=1))
    elif problem.sizing:
        capacity = np.minimum(capacity, problem.max_chargers @ _rho(problem))
    ok = np.isfinite(capacity) & (capacity > 0)
    return np.where(ok, problem.fixed_cost / np.where(ok, capacity, 1.0), 0.0)


def shared_copy(
    base: FacilityProblem,
    share: np.ndarray,
    linear: np.ndarray,
    rate: np.ndarray,
    fixed_part: np.ndarray,
    per_kwh_fixed: np.ndarray,
) -> FacilityProblem:
    """A piece whose sites pay ``share`` ``(S,)`` of their capex; at the ``linear`` ``(S,)``
    sites the charger (design) capex is paid per kWh at ``rate`` ``(S, K)`` on the pairs
    instead, and the part ``fixed_part`` ``(S,)`` of the fixed cost at ``per_kwh_fixed``
    ``(S,)`` (module docstring)."""
    keep = np.where(linear, 0.0, share)
    site = base.pair_site
    pair_rate = np.where(linear[site, None], rate[site], 0.0)
    pair_rate = pair_rate + (fixed_part * per_kwh_fixed)[site, None]
    return dataclasses.replace(
        base,
        fixed_cost=base.fixed_cost * share * (1.0 - fixed_part),
        charger_cost=base.charger_cost * keep[:, None],
        grid_upgrade_cost=base.grid_upgrade_cost * share,
        design_capex_share=base.design_capex_share * keep,
        pair_cost=base.pair_cost + pair_rate * base.demand[base.pair_zone],
    )
