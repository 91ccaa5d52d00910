r"""The LP the Lagrangian bound of a station-design model converges to: the disjunctive LP.

:mod:`chargeplan.solver.design_bound` dualises the demand rows; each site then chooses one
option (closed, open without a design, a design) and fills a continuous knapsack. By
Geoffrion's theorem (1974) the best multipliers give the value of the LP in which each site's
set is replaced by its convex hull, written disjunctively (Balas 1979): one copy
:math:`t_{ro}` of every pair's share per option :math:`o` of its site,

.. math::

    \min\; & c_0 + \sum_o F_o w_o + \sum_{r,o} c_r\, t_{ro} + \sum_r c^u_r u_r \\
    \text{s.t.}\; & \sum_{o} \bar x_{r} t_{ro} + u_r = 1 \quad \forall \text{ demand rows } r
      \quad (\lambda_r), \qquad \sum_{o \in O_j} w_o = 1 \quad \forall j, \\
    & \sum_{r \in (j, k)} d_r \bar x_r t_{ro} \le Q_{ok} w_o, \qquad
      0 \le t_{ro} \le w_o, \qquad u_r \in [l_r, h_r],

(symbols of :mod:`chargeplan.solver.design_bound`; a pair's share is :math:`x = \bar x t`).
It is at least as strong as the strong LP (:math:`x_{ijk} \le y_j` written) and is what no
choice of subgradient steps can pass. This module builds it as arrays and solves it with
HiGHS, **to measure** how far the subgradient steps stop from it (``benchmarks/
design_bound_gap.py``): on a city piece it has about 15 times the assignment columns and is
far slower than the steps (``docs/stations.md``). The bound it returns is
:math:`L(\lambda)` at the LP's duals of the demand rows, valid for any :math:`\lambda`, so
an inexact LP can only make it weaker, never invalid.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.sparse import SparseMILP
from chargeplan.solver.design_bound import _evaluate, _Pieces, _pieces, lagrangian_applies
from chargeplan.solver.design_lp import colwise_lp, quiet_highs

__all__ = ["HullBound", "disjunctive_bound"]


@dataclass(frozen=True)
class HullBound:
    """The disjunctive LP of a station-design model solved.

    Attributes
    ----------
    lp_value
        The LP's objective as HiGHS reports it.
    bound
        :math:`L(\\lambda)` at the LP's duals of the demand rows: a valid lower bound.
    multipliers
        Those duals, in ``u`` column order.
    options, unmet
        The LP's :math:`w` (in the relaxation's option order, as the cuts of
        :func:`~chargeplan.solver.design_bound.catchment_cuts` number them) and :math:`u`.
    columns, rows
        The LP's size.
    seconds
        HiGHS's wall time.
    """

    lp_value: float
    bound: float
    multipliers: np.ndarray
    options: np.ndarray
    unmet: np.ndarray
    columns: int
    rows: int
    seconds: float


def disjunctive_bound(
    problem: FacilityProblem,
    lp: SparseMILP,
    ix: ModelIndex,
    method: str = "simplex",
    threads: int = 1,
) -> HullBound | None:
    """Solve the disjunctive LP (module docstring) with HiGHS (``method``: ``"simplex"`` or
    ``"ipm"``; no time limit); ``None`` where the Lagrangian relaxation does not apply
    (:func:`~chargeplan.solver.design_bound.lagrangian_applies`) or the LP is not optimal."""
    import highspy

    if not lagrangian_applies(problem, lp):
        return None
    pieces = _pieces(problem, lp, ix)
    cost, lower, upper, matrix, row_lower, row_upper = _hull_arrays(pieces)
    highs = quiet_highs()
    highs.setOptionValue("threads", threads)
    highs.setOptionValue("solver", method)
    model = colwise_lp(cost, lower, upper, matrix, row_lower, row_upper)
    highs.passModel(model)
    start = time.perf_counter()
    highs.run()
    seconds = time.perf_counter() - start
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    duals = np.asarray(highs.getSolution().row_dual, float)[: pieces.u_cost.size]
    primal = np.asarray(highs.getSolution().col_value, float)
    value = float(highs.getInfo().objective_function_value) + pieces.offset
    bound = _evaluate(pieces, duals).value
    n_opt, n_rows = pieces.option_site.size, pieces.u_cost.size
    return HullBound(
        value,
        bound,
        duals,
        primal[:n_opt],
        primal[cost.size - n_rows :],
        int(cost.size),
        int(row_lower.size),
        seconds,
    )


def _hull_arrays(p: _Pieces) -> tuple:
    """Costs, column bounds, the CSC matrix and row bounds of the disjunctive LP; columns
    ``w`` (options), ``t`` (pair x option of its site with capacity), ``u`` (demand rows)."""
    import scipy.sparse as sp

    k, n_opt, n_rows = p.n_types, p.option_site.size, p.u_cost.size
    item_site = p.item_group // max(k, 1)
    by_site = np.argsort(item_site, kind="stable")
    first = np.searchsorted(item_site[by_site], p.option_site, "left")
    count = np.searchsorted(item_site[by_site], p.option_site, "right") - first
    option = np.repeat(np.arange(n_opt), count)
    within = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    item = by_site[np.repeat(first, count) + within]  # each option's site's pairs
    kind = p.item_group[item] % max(k, 1)
    keep = p.option_capacity[option, kind] > 0
    option, item, kind = option[keep], item[keep], kind[keep]
    nt = option.size
    t_col = n_opt + np.arange(nt)
    sites, site_row = np.unique(p.option_site, return_inverse=True)
    finite = np.isfinite(p.option_capacity.ravel())
    knap_of = np.full(n_opt * k, -1)
    knap_of[finite] = np.arange(int(finite.sum()))
    knap = knap_of[option * k + kind]
    hosted = knap >= 0
    # row blocks: demand (n_rows), choice (sites), knapsack (finite), link (nt)
    r_choice, r_knap = n_rows, n_rows + sites.size
    r_link = r_knap + int(finite.sum())
    rows = [p.item_row[item], np.arange(n_rows), r_choice + site_row, r_knap + knap[hosted]]
    rows += [r_knap + np.arange(int(finite.sum())), r_link + np.arange(nt), r_link + np.arange(nt)]
    cols = [t_col, n_opt + nt + np.arange(n_rows), np.arange(n_opt), t_col[hosted]]
    cols += [np.repeat(np.arange(n_opt), k)[finite], t_col, option]
    vals = [p.item_upper[item], np.ones(n_rows), np.ones(n_opt), p.item_weight[item][hosted]]
    vals += [-p.option_capacity.ravel()[finite], np.ones(nt), -np.ones(nt)]
    n_all = r_link + nt
    matrix = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_all, n_opt + nt + n_rows),
    )
    cost = np.concatenate([p.option_cost, p.item_cost[item], p.u_cost])
    lower = np.concatenate([np.zeros(n_opt + nt), p.u_lower])
    upper = np.concatenate([np.ones(n_opt + nt), p.u_upper])
    row_lower = np.concatenate([np.ones(n_rows + sites.size), np.full(n_all - r_knap, -np.inf)])
    row_upper = np.concatenate([np.ones(n_rows + sites.size), np.zeros(n_all - r_knap)])
    return cost, lower, upper, matrix, row_lower, row_upper
