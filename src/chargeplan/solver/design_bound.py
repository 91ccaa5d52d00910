r"""A lower bound of a station-design model from the Lagrangian relaxation of its demand rows.

The LP relaxation of a large station-design model is weak: without the rows
:math:`x_{ijk} \le y_j` (left out above ``STRONG_LINK_LIMIT`` assignment columns) it buys a
fraction :math:`z_{jd} = \text{load}_j / Q_{jd}` of a station at every site, and with them the
LP is too slow at a city's size (``docs/stations.md``, "Solving a slice"). Dualising the
demand rows instead (Beasley 1988, "Lagrangean heuristics for location problems"; Cornuejols,
Sridharan & Thizy 1991 compare the relaxations of the capacitated facility-location problem)
splits the model by site, and each site's piece is solved exactly by sorting.

**Model** (symbols as in ``docs/model.md``; coefficients read from the model's own arrays, so
the bound is of the model actually solved): with :math:`r = (i, k)` a demand row,

.. math::

    \min\; & \sum_j \Big( c^y_j y_j + \sum_d c^z_{jd} z_{jd} + \sum_k c^n_{jk} n_{jk}
             + c^g_j g_j \Big) + \sum_{(i,j),k} c_{ijk} x_{ijk} + \sum_r c^u_r u_r + c_0 \\
    \text{s.t.}\; & \sum_{j \in P(i)} x_{ijk} + u_{ik} = 1 \quad (\lambda_{ik}),
    \qquad \sum_{i \in P(j)} d_{ik} x_{ijk} \le Q_{j0k} + \sum_d (Q_{jdk} - Q_{j0k}) z_{jd},
    \qquad \sum_d z_{jd} \le y_j,

plus :math:`n_{jk} = E_{jk} + \sum_d s_{dk} z_{jd}` and the rows on :math:`n` and the grid
(minimum chargers, stalls, grid connection with optional upgrade :math:`g_j`), with
:math:`Q` the tightened capacities of
:func:`~chargeplan.model.design_constraints.usable_capacity`.

**Relaxation.** With multipliers :math:`\lambda_r` (free: the rows are equalities)

.. math::

    L(\lambda) = c_0 + \sum_r \lambda_r + \sum_r \min_{u_r \in [l_r, h_r]} (c^u_r - \lambda_r)
    u_r + \sum_j \min_{o \in O_j} \Big( F_{jo} + \sum_k \kappa_{jk}(Q_{jok}) \Big),

where :math:`O_j` are site j's options -- *closed* (:math:`F = 0`, :math:`Q = 0`; only if
:math:`y_j` may be 0 and the site holds no chargers), *open without a design* and *open with
design d* (one per ``z`` column), each with its fixed cost :math:`F_{jo} = c^y_j + c^z_{jd} +
\sum_k c^n_{jk}(E_{jk} + s_{dk})` (+ :math:`c^g_j` if the chargers' power needs the grid
upgrade), options that break the rows on :math:`n` or the grid left out -- and

.. math:: \kappa_{jk}(Q) = \min \Big\{ \sum_{i} (c_{ijk} - \lambda_{ik}) x_{ijk} :
          \sum_i d_{ik} x_{ijk} \le Q,\ 0 \le x_{ijk} \le \bar x_{ijk} \Big\}

a continuous knapsack, solved by taking the pairs of negative reduced cost in increasing
reduced cost per unit of demand until :math:`Q` is full (the last one in part). Because
:math:`x` of a closed site, or beyond the chosen design's capacity, is 0 in every option, the
relaxation keeps :math:`x_{ijk} \le y_j` and :math:`x_{ijk} \le \ldots z_{jd}` implicitly: it is
at least as strong as the strong LP (the strong rows written), for *every* :math:`\lambda`
a valid lower bound of the integer optimum, and at the LP's duals at least the LP bound.
Dropped, so the bound stays valid but may be weaker: a finite site capacity :math:`C_j`
(``site_capacity`` rows) and integrality of :math:`x` (single source).

**Not handled** (:func:`lagrangian_applies` is false, the caller keeps the LP bound): an
objective other than ``min_cost``, no design menu, coverage targets, a budget, a site limit,
lazy links, or any row family or objective term the list above does not name (an
``extend`` hook's rows, for instance).

**Maximising** :math:`L` (concave, piecewise linear) by subgradient steps (Held, Wolfe &
Crowder 1974): the subgradient is :math:`g_r = 1 - \sum_j x_{ijk} - u_{ik}` at the
subproblems' solution, the step :math:`\lambda \leftarrow \lambda + \theta (\bar v -
L(\lambda)) / \lVert g \rVert^2\, g` with Polyak's target :math:`\bar v` (a plan's cost),
:math:`\theta` halved (and :math:`\lambda` reset to the best so far) after
:data:`STALL_STEPS` steps without a better :math:`L`, :math:`\lambda_r` kept at most
:math:`c^u_r` where :math:`h_r = 1` (beyond it :math:`L` only falls); a fixed
number of steps (:data:`STEPS`), no clock, so the bound depends only on the model and the
starting multipliers. Everything is numpy over the pairs: one ``lexsort`` by (site, type,
reduced cost per unit) and cumulative sums clipped at each option's capacity per step.
``cuts=True`` also dualises the catchment MIR cuts of :mod:`chargeplan.solver.design_cuts`
(off in the solver: no gain measured on the national pieces, ``docs/stations.md``); the
optimum of :math:`L` is the disjunctive LP of :mod:`chargeplan.solver.design_hull`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.sparse import SparseMILP
from chargeplan.solver.design_cuts import Cuts, catchment_mir_cuts
from chargeplan.solver.design_options import site_options
from chargeplan.solver.pair_order import (
    by_group_and_ratio,
    cheapest_per_site,
    group_bounds,
    running_sums,
)

__all__ = [
    "STALL_STEPS",
    "STEPS",
    "THETA",
    "LagrangeBound",
    "assign_row_offset",
    "catchment_cuts",
    "lagrangian_applies",
    "lagrangian_bound",
    "lagrangian_value",
]

#: Subgradient steps (fixed: the bound may not depend on the clock).
STEPS = 300
#: :math:`\theta` is halved after this many steps without a better bound.
STALL_STEPS = 20
#: The first step's :math:`\theta` (Held, Wolfe & Crowder 1974; measured: docs/stations.md).
THETA = 2.0

#: Row families the relaxation knows (each either dualised, kept in the site pieces, implied
#: by them, or dropped, which keeps the bound valid).
_KNOWN_ROWS = frozenset(
    {
        "assign",
        "design_choice",
        "design_chargers",
        "capacity",
        "open_for_chargers",
        "min_chargers",
        "stalls",
        "grid",
        "grid_upgrade_open",
        "site_capacity",
        "pair_link",
    }
)
_PRICED_BLOCKS = ("x", "u", "y", "n", "g", "z")


@dataclass(frozen=True)
class LagrangeBound:
    """The best Lagrangian bound found and what the site pieces chose there.

    Attributes
    ----------
    bound
        :math:`\\max L(\\lambda)` over the steps: a lower bound of the model's optimum.
    first
        :math:`L` at the starting multipliers.
    multipliers
        :math:`\\lambda` of the best bound, one per demand row (in ``u`` column order).
    design
        ``(S,)`` what each site's piece chose at the best bound: ``-2`` closed, ``-1`` open
        without a design, else the design's position in the menu.
    steps
        Subgradient steps taken.
    opened, opened_late
        ``(S,)`` the share of the steps at which each site's piece chose to open (any option
        but *closed*): over every step, and over the second half of :data:`STEPS` (every
        step if the steps stopped before it). These averages of the pieces' solutions tend to
        a solution of the relaxation's primal, the convex hull of the site pieces (Sherali &
        Choi 1996, "Recovery of primal solutions when using subgradient optimization methods
        to solve Lagrangian duals"): the design start rounds them (``designstart``, step 5).
    """

    bound: float
    first: float
    multipliers: np.ndarray
    design: np.ndarray
    steps: int
    opened: np.ndarray
    opened_late: np.ndarray


@dataclass(frozen=True)
class _Point:
    r""":math:`L(\lambda)`, its subgradient (one per demand row), each site's choice (design
    code, ``-2`` also where the site has no option) and the pieces' solution: the pairs
    (``item``, positions in :class:`_Pieces`) with their ``x`` and the chosen options' fixed
    costs and sites."""

    value: float
    grad: np.ndarray
    design: np.ndarray
    item: np.ndarray
    x: np.ndarray
    option_cost: np.ndarray
    option_site: np.ndarray
    option: np.ndarray
    unmet: np.ndarray


@dataclass(frozen=True)
class _Pieces:
    """The relaxation's data as arrays: pairs (``item_*``, x columns with an upper bound > 0),
    demand rows (``u_*``) and site options (``option_*``, sorted by site)."""

    item_row: np.ndarray
    item_group: np.ndarray
    item_weight: np.ndarray
    item_cost: np.ndarray
    item_upper: np.ndarray
    u_cost: np.ndarray
    u_lower: np.ndarray
    u_upper: np.ndarray
    u_demand: np.ndarray
    u_type: np.ndarray
    option_site: np.ndarray
    option_design: np.ndarray
    option_cost: np.ndarray
    option_capacity: np.ndarray
    n_types: int
    n_groups: int
    offset: float


def lagrangian_applies(problem: FacilityProblem, lp: SparseMILP) -> bool:
    """Whether the relaxation of the module docstring covers the model as built."""
    if lp.objective is None or not problem.designs or problem.objective != "min_cost":
        return False
    if problem.budget is not None or problem.max_sites is not None or problem.target_names:
        return False
    if problem.pair_links == "lazy" or not set(lp.families) <= _KNOWN_ROWS:
        return False
    priced = np.zeros(lp.n_cols, bool)
    for block in _PRICED_BLOCKS:
        if block in lp.blocks:
            priced[lp.columns(block)] = True
    return not np.any(lp.objective[~priced])


def assign_row_offset(lp: SparseMILP) -> int:
    """Position of the first ``assign`` row in :meth:`SparseMILP.row_arrays` (the rows of the
    demand, in ``u`` column order), e.g. to read their LP duals."""
    offset = 0
    for name, (_, lower, _) in lp.families.items():
        if name == "assign":
            return offset
        offset += len(lower)
    raise ValueError("the model has no assign rows")


def _pieces(problem: FacilityProblem, lp: SparseMILP, ix: ModelIndex) -> _Pieces:
    """Gather the relaxation's arrays from the model (module docstring)."""
    assert lp.objective is not None
    lower, upper, _ = lp.bounds()
    k, n_sites = len(problem.types), len(problem.site_ids)
    x_cols, u_cols = ix.cols("x"), ix.cols("u")
    row_of = np.full(len(problem.zone_ids) * k, -1)
    row_of[ix.u_zone * k + ix.u_type] = np.arange(len(u_cols))
    x_zone, x_site = problem.pair_zone[ix.x_pair], problem.pair_site[ix.x_pair]
    keep = upper[x_cols] > 0
    x_upper = upper[x_cols][keep]
    site, design, cost, capacity = site_options(problem, lp, ix, lower, upper)
    order = np.lexsort((design, site))
    return _Pieces(
        item_row=row_of[x_zone * k + ix.x_type][keep],
        item_group=(x_site * k + ix.x_type)[keep],
        item_weight=problem.demand[x_zone, ix.x_type][keep] * x_upper,
        item_cost=lp.objective[x_cols][keep] * x_upper,
        item_upper=x_upper,
        u_cost=lp.objective[u_cols],
        u_lower=lower[u_cols],
        u_upper=upper[u_cols],
        u_demand=problem.demand[ix.u_zone, ix.u_type],
        u_type=np.asarray(ix.u_type),
        option_site=site[order],
        option_design=design[order],
        option_cost=cost[order],
        option_capacity=capacity[order],
        n_types=k,
        n_groups=n_sites * k,
        offset=float(lp.objective_offset),
    )


def lagrangian_value(
    problem: FacilityProblem, lp: SparseMILP, ix: ModelIndex, multipliers: np.ndarray
) -> float:
    """:math:`L(\\lambda)` (module docstring) at ``multipliers`` (one per demand row, in ``u``
    column order): a lower bound of the model's optimum whatever they are."""
    return _evaluate(_pieces(problem, lp, ix), np.asarray(multipliers, float)).value


def _evaluate(pieces: _Pieces, lam: np.ndarray, pairs: bool = True) -> _Point:
    r""":math:`L(\lambda)` and the site pieces' solution there (:class:`_Point`); without
    ``pairs`` its ``item`` and ``x`` are left empty (the subgradient steps do not read them)."""
    p = pieces
    value = p.item_cost - lam[p.item_row] * p.item_upper  # reduced cost of the whole share
    taken = np.flatnonzero(value < 0.0)
    ratio = value[taken] / p.item_weight[taken]
    order = taken[by_group_and_ratio(p.item_group[taken], ratio, p.n_groups)]
    group = p.item_group[order]
    weight, gain = p.item_weight[order], value[order]
    cum_weight, cum_gain = running_sums(weight, gain)
    # per option and type: the knapsack of group (site, type) filled up to the capacity
    groups = p.option_site[:, None] * p.n_types + np.arange(p.n_types)[None, :]
    first, last = group_bounds(group, p.n_groups, groups)
    filled = cum_weight[first] + p.option_capacity  # inf: the whole group fits
    full = np.clip(np.searchsorted(cum_weight, filled, side="right") - 1, first, last)
    part = full < last
    nxt = np.minimum(full, max(order.size - 1, 0))
    fraction = np.zeros(full.shape)
    knapsack = cum_gain[full] - cum_gain[first]
    if order.size:  # the first pair that does not fit whole, in part
        fraction = np.where(part, np.clip((filled - cum_weight[full]) / weight[nxt], 0.0, 1.0), 0.0)
        knapsack += fraction * np.where(part, gain[nxt], 0.0)
    total = p.option_cost + knapsack.sum(axis=1)
    chosen = cheapest_per_site(total, p.option_site)
    # the subproblems' x: share of each sorted pair below its group's fill level
    level = np.full(p.n_groups, -1.0)
    level_of = full + fraction
    level[groups[chosen].ravel()] = level_of[chosen].ravel()
    at = level[group]
    share = np.where(at >= 0.0, np.clip(at - np.arange(order.size), 0.0, 1.0), 0.0)
    served = np.bincount(p.item_row[order], weights=share * p.item_upper[order], minlength=lam.size)
    reduced = p.u_cost - lam
    unmet = np.where(reduced < 0.0, p.u_upper, p.u_lower)
    bound = p.offset + lam.sum() + (reduced * unmet).sum() + total[chosen].sum()
    design = np.full(p.n_groups // max(p.n_types, 1), -2)
    design[p.option_site[chosen]] = p.option_design[chosen]
    used = np.flatnonzero(share > 0.0) if pairs else np.zeros(0, np.int64)
    return _Point(
        float(bound),
        1.0 - served - unmet,
        design,
        order[used],
        share[used] * p.item_upper[order[used]],
        p.option_cost[chosen],
        p.option_site[chosen],
        chosen,
        unmet,
    )


def lagrangian_bound(
    problem: FacilityProblem,
    lp: SparseMILP,
    ix: ModelIndex,
    target: float,
    multipliers: np.ndarray | None = None,
    steps: int = STEPS,
    cuts: bool = False,
) -> LagrangeBound | None:
    r"""Maximise :math:`L(\lambda)` by subgradient steps (module docstring).

    Parameters
    ----------
    problem, lp, ix
        The model (:func:`~chargeplan.model.formulation.build_milp`).
    target
        Polyak's target :math:`\bar v`: the cost of a plan (an upper bound of the optimum).
    multipliers
        Starting :math:`\lambda`, one per demand row in ``u`` column order (e.g. the LP
        relaxation's duals of the ``assign`` rows); default: the unmet prices :math:`c^u_r`.
    steps
        Subgradient steps.
    cuts
        Also dualise the catchment MIR cuts (:mod:`chargeplan.solver.design_cuts`) with
        multipliers :math:`\mu \ge 0` starting at 0 ("relax and cut").

    Returns
    -------
    LagrangeBound or None
        ``None`` where the relaxation does not cover the model (:func:`lagrangian_applies`).
    """
    if not lagrangian_applies(problem, lp):
        return None
    pieces = _pieces(problem, lp, ix)
    found = _catchment_cuts(pieces) if cuts else None
    lam = np.array(pieces.u_cost if multipliers is None else multipliers, dtype=float)
    best, best_lam, best_mu = -np.inf, lam, (mu := np.zeros(0 if found is None else found.count))
    best_at: tuple[_Point, np.ndarray] | None = None  # the best point: no evaluation again
    # above the unmet price a multiplier only lowers L (module docstring): steps stop there
    ceiling = np.where(pieces.u_upper >= 1.0, pieces.u_cost, np.inf)
    first, theta, stalled, done = None, THETA, 0, 0
    opened = np.zeros((2, len(problem.site_ids)))  # per site: every step; the late ones
    for done in range(1, steps + 1):
        point, grad_mu = _evaluate_with(pieces, lam, mu, found)
        value = point.value
        first = value if first is None else first
        if value > best:
            best, best_lam, best_mu, best_at, stalled = value, lam, mu, (point, grad_mu), 0
        else:
            stalled += 1
            if stalled >= STALL_STEPS:  # shorter steps, from the best multipliers so far
                theta, stalled, lam, mu = theta / 2.0, 0, best_lam, best_mu
                point, grad_mu = best_at or _evaluate_with(pieces, lam, mu, found)  # as then
                value = point.value
        opened[:, point.design >= -1] += [[1.0], [float(2 * done > steps)]]
        grad_mu = np.where((mu <= 0.0) & (grad_mu < 0.0), 0.0, grad_mu)
        norm = float(point.grad @ point.grad + grad_mu @ grad_mu)
        if norm <= 1e-18 or value >= target:  # the pieces' x is a plan, or the bound met it
            break
        step = theta * (target - value) / norm
        lam = np.minimum(lam + step * point.grad, ceiling)
        mu = np.maximum(mu + step * grad_mu, 0.0)
    design = np.empty(0, np.int64) if best_at is None else best_at[0].design
    late = opened[1] / (done - steps // 2) if 2 * done > steps else opened[0] / max(done, 1)
    averaged = (opened[0] / max(done, 1), late)
    return LagrangeBound(float(best), float(first or best), best_lam, design, done, *averaged)


def catchment_cuts(problem: FacilityProblem, lp: SparseMILP, ix: ModelIndex) -> Cuts:
    """The catchment MIR cuts of the model (:mod:`chargeplan.solver.design_cuts`), options
    numbered as in the relaxation (e.g. to check them at a point of the disjunctive LP)."""
    return _catchment_cuts(_pieces(problem, lp, ix))


def _catchment_cuts(pieces: _Pieces) -> Cuts:
    """The catchment MIR cuts (:func:`~chargeplan.solver.design_cuts.catchment_mir_cuts`) of
    the relaxation's pairs and options."""
    return catchment_mir_cuts(
        pieces.item_row,
        pieces.item_group // max(pieces.n_types, 1),
        pieces.item_weight,
        pieces.u_demand,
        pieces.u_type,
        pieces.option_site,
        pieces.option_capacity,
    )


def _evaluate_with(
    pieces: _Pieces, lam: np.ndarray, mu: np.ndarray, cuts: Cuts | None
) -> tuple[_Point, np.ndarray]:
    r""":math:`L(\lambda, \mu)` with the cuts :math:`A w + B u \ge h` dualised: the options'
    fixed costs lowered by :math:`A^\top \mu`, the unmet prices by :math:`B^\top \mu`,
    :math:`\mu^\top h` added; and the cuts' subgradient :math:`h - A w - B u` there."""
    if cuts is None or not cuts.count:
        return _evaluate(pieces, lam, pairs=False), np.zeros(0)
    shifted = dataclasses.replace(
        pieces,
        option_cost=pieces.option_cost - cuts.options.T @ mu,
        u_cost=pieces.u_cost - cuts.unmet.T @ mu,
        offset=pieces.offset + float(mu @ cuts.rhs),
    )
    point = _evaluate(shifted, lam, pairs=False)
    chosen = np.zeros(pieces.option_site.size)
    chosen[point.option] = 1.0
    return point, cuts.rhs - cuts.options @ chosen - cuts.unmet @ point.unmet
