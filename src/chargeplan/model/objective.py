r"""The objective's parts as column weights and a constant (symbols as in ``docs/model.md``).

``min_cost`` minimises capex + access + unmet penalty, with capex net of the existing chargers
(a constant); ``max_coverage`` minimises unmet demand (the second, cost stage is
:func:`access_and_capex`). Each function returns dense weights over the model's columns, so
that a rollout can weigh and add the parts of several periods.
"""

from __future__ import annotations

import numpy as np

from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem

__all__ = ["access_and_capex", "capex_vector", "cost_vector", "objective_of", "unmet_vector"]


def _end(ix: ModelIndex) -> int:
    return max(start + size for start, size in ix.offsets.values())


def capex_vector(
    problem: FacilityProblem, ix: ModelIndex, n_cols: int | None = None
) -> tuple[np.ndarray, float]:
    r"""Coefficients and constant of capex: fixed costs, new chargers and grid upgrades.

    .. math:: \sum_j f_j y_j + \sum_{jk} p_{jk} (n_{jk} - E_{jk}) + \sum_j a_j g_j

    Existing chargers carry no capex: their cost :math:`\sum_{jk} p_{jk} E_{jk}` is the
    (negative) constant. With station designs the chargers' part is :math:`\sum_{jd} F_d z_{jd}`
    (a design's capex: stalls, grid connection, civil works). ``n_cols``: the model's total
    number of columns (default: the end of this period's last block).
    """
    weights = np.zeros(n_cols or _end(ix))
    weights[ix.span("y")] = problem.fixed_cost[ix.y_site]
    price = problem.charger_cost[ix.n_site, ix.n_type]
    weights[ix.span("n")] = price
    weights[ix.span("g")] = problem.grid_upgrade_cost[ix.g_site]
    if problem.design_capex is not None:
        weights[ix.span("n")] = 0.0
        share = problem.design_capex_share[ix.z_site]
        weights[ix.span("z")] = problem.design_capex[ix.z_design] * share
        return weights, 0.0
    offset = -float(price @ problem.existing_chargers[ix.n_site, ix.n_type])
    return weights, offset


def cost_vector(
    problem: FacilityProblem, ix: ModelIndex, n_cols: int | None = None
) -> tuple[np.ndarray, float]:
    r"""Coefficients and constant of the full cost (``min_cost``).

    .. math:: \text{capex} + \sum_{(i,j) \in P, k} c_{ijk} x_{ijk} + \sum_{ik} \pi_k d_{ik} u_{ik}
              + \sum_g \sigma_g s_g

    (the last term with coverage targets: :mod:`chargeplan.model.targets`).
    """
    weights, offset = capex_vector(problem, ix, n_cols)
    weights[ix.span("x")] = problem.pair_cost[ix.x_pair, ix.x_type]
    weights[ix.span("u")] = problem.unmet_penalty[ix.u_type] * problem.demand[ix.u_zone, ix.u_type]
    if "s" in ix.offsets:
        weights[ix.span("s")] = problem.target_price[ix.s_group]
    return weights, offset


def unmet_vector(problem: FacilityProblem, ix: ModelIndex, n_cols: int | None = None) -> np.ndarray:
    r"""Coefficients of unmet demand, in demand units (``max_coverage``).

    .. math:: \sum_{ik} d_{ik} u_{ik} + \sum_g \frac{\sigma_g}{\max_k \pi_k} s_g

    With coverage targets a unit of shortfall weighs as many units of unmet demand as its
    price is a multiple of the unmet penalty.
    """
    weights = np.zeros(n_cols or _end(ix))
    weights[ix.span("u")] = problem.demand[ix.u_zone, ix.u_type]
    if "s" in ix.offsets:
        top = float(problem.unmet_penalty.max(initial=0.0))
        weights[ix.span("s")] = problem.target_price[ix.s_group] / top if top > 0 else 1.0
    return weights


def access_and_capex(problem: FacilityProblem, ix: ModelIndex) -> tuple[np.ndarray, float]:
    """Capex + access, without the unmet penalty: the second stage of ``max_coverage``."""
    weights, offset = cost_vector(problem, ix)
    weights[ix.span("u")] = 0.0
    if "s" in ix.offsets:
        weights[ix.span("s")] = 0.0
    return weights, offset


def objective_of(problem: FacilityProblem, ix: ModelIndex) -> tuple[np.ndarray, float]:
    """The problem's objective (``problem.objective``) as weights and constant."""
    if problem.objective == "min_cost":
        return cost_vector(problem, ix)
    return unmet_vector(problem, ix), 0.0
