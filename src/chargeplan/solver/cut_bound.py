r"""A lower bound of the *full* model for a plan made on a cut: Lagrangian coordination.

A region cut (``decompose.by = "region"``, :func:`~chargeplan.solver.split.split_components`
with region labels) drops every pair whose zone and site lie in different regions. Its plan is
feasible for the full model (a cut only removes pairs), but the sum of its tasks' bounds is a
bound of the *cut* model only: the full model, with the cross pairs, may be cheaper. This module
bounds the full model instead, with the design Lagrangian of
:mod:`chargeplan.solver.design_bound` evaluated on **all** the full model's pairs.

**Why it separates by piece.** Dualising every demand row :math:`\sum_j x_{ijk} + u_{ik} = 1`
with a multiplier :math:`\lambda_r`, :math:`r = (i, k)`, leaves (Geoffrion 1974, "Lagrangean
relaxation for integer programming"; as in :mod:`~chargeplan.solver.design_bound`)

.. math::

    L(\lambda, \mu) = c_0 + \sum_r \lambda_r
        + \sum_r \min_{u_r \in [l_r, h_r]} \big(c^u_r + \mu_{g(r)} d_r [r \in R_{g(r)}]
        - \lambda_r\big) u_r
        + \sum_j \min_{o \in O_j} \Big( F_{jo} + \sum_k \kappa_{jk}(Q_{jok}; \lambda) \Big)
        - \sum_g \mu_g (1 - \tau_g) D_g,

a sum of one term per demand row and one per **site** (the site's options and its continuous
knapsacks :math:`\kappa_{jk}` over *all* the pairs :math:`(i, j)` of the full model, whatever
region zone i is in). So the sites are grouped by the task (prefecture, or bundle) they belong
to in the cut, each group gets its sites' full pair lists, the *cross pairs* to zones of other
regions included, and each row its multiplier: :math:`L` is the sum of the groups' site terms
plus the row terms counted once. The sites in no task (reached only across a border, or by
nobody) form one more group. For every :math:`\lambda` and every :math:`0 \le \mu_g \le
\sigma_g` it is a lower bound of the full model's optimum: this is the Lagrangian coordination
of a spatial decomposition, the pieces evaluated separately and coupled only through the prices
of the rows they share.

**Targets** (``[reach.targets]``, national rows :math:`\sum_{R_g} d_r u_r - s_g \le (1 -
\tau_g) D_g`, :math:`s_g \ge 0` at cost :math:`\sigma_g`): dualised with :math:`\mu_g \ge 0`
as in :mod:`chargeplan.solver.coverage`: every unmet unit of :math:`R_g` costs :math:`\mu_g`
more, the constant :math:`\mu_g (1 - \tau_g) D_g` is subtracted and :math:`\min_{s \ge 0}
(\sigma_g - \mu_g) s_g = 0` needs :math:`\mu_g \le \sigma_g`. (Written with the served shares,
:math:`u_r = 1 - \sum_j x_{rj}`, each pair of a type-g cell gains :math:`-\mu_g d_r` and the
constant is :math:`+\mu_g \tau_g D_g`: the same function.)

**Ascent.** Subgradient steps on the full model (Held, Wolfe & Crowder 1974) from the starting
multipliers, with Polyak's target the plan's cost: :math:`g_r = 1 - \sum_j x_{rj} - u_r` over
all groups' sites (each group's knapsacks give their :math:`x`, reduced per row with
``numpy.bincount``), :math:`g_\mu = \sum_{R_g} d_r u_r - (1 - \tau_g) D_g`, :math:`\theta`
halved after :data:`~chargeplan.solver.design_bound.STALL_STEPS` steps without a better
:math:`L`; a fixed number of steps, no clock. The start is the better of two:
:func:`plan_multipliers`, each row's share of the cut plan's cost (its assignment costs, its
sites' cheapest fitting option in proportion to the load it brings, its unmet cost), and
:func:`capacity_multipliers`, each row's cheapest cost of service at the weak LP's price of
capacity; both capped at the unmet price (the tasks' own LP duals are not kept by their
solves); the target
multipliers start at the national targets' prices (:mod:`chargeplan.solver.national_targets`).
Everything is numpy over the pairs (one ``lexsort`` per step inside
:func:`~chargeplan.solver.design_bound.lagrangian_value`'s evaluation); the loops are over
groups (to build them) and steps.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution
from chargeplan.model.targets import group_demand, reachable_demand, target_groups
from chargeplan.solver.coverage import dualised, without_idle_targets
from chargeplan.solver.design_bound import STALL_STEPS, THETA, _evaluate, _Pieces, _pieces
from chargeplan.solver.split import Region, subproblem

__all__ = [
    "CutBound",
    "FullModel",
    "capacity_multipliers",
    "cut_bound",
    "full_model",
    "full_value",
    "plan_multipliers",
    "site_groups",
]

log = logging.getLogger(__name__)

Executor = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]

#: Subgradient steps of the full model's bound by default (fixed: no clock).
STEPS = 100


@dataclass(frozen=True)
class CutBound:
    """The full model's Lagrangian bound over a cut (module docstring).

    Attributes
    ----------
    bound
        The best :math:`L(\\lambda, \\mu)`: a lower bound of the full model's optimum.
    first
        :math:`L` at the starting multipliers.
    steps
        Subgradient steps taken.
    groups, pairs, cross_pairs
        Site groups, pairs of the full model evaluated, and of them the pairs the cut left out.
    multipliers, target_multipliers
        :math:`\\lambda` (one per row of the full model, in ``u`` order: the (zone, type)
        pairs with demand, row-major) and :math:`\\mu` (one per target group) of the best bound.
    """

    bound: float
    first: float
    steps: int
    groups: int
    pairs: int
    cross_pairs: int
    multipliers: np.ndarray
    target_multipliers: np.ndarray


@dataclass(frozen=True)
class FullModel:
    """The full model's relaxation as one set of arrays: :class:`design_bound._Pieces` over
    every group's sites with the full model's rows (``u`` order of the full problem: the
    (zone, type) cells with demand, row-major, ``row_zone`` and ``row_type``), the target
    rows' data and each pair's position (``item_pair``, ``item_type``) in the full problem."""

    pieces: _Pieces
    item_pair: np.ndarray
    item_type: np.ndarray
    row_zone: np.ndarray
    row_type: np.ndarray
    row_group: np.ndarray
    group_total: np.ndarray
    target_share: np.ndarray
    target_price: np.ndarray
    groups: int


def site_groups(problem: FacilityProblem, regions: list[Region]) -> list[Region]:
    """Every site of ``problem`` in exactly one group, each group with **all** the live pairs
    of its sites (cross pairs included) and their zones: one group per region (its sites), then
    one of the sites in no region (if any)."""
    owner = np.full(len(problem.site_ids), len(regions), np.int64)
    for position, region in enumerate(regions):
        owner[region.sites] = position
    live = np.flatnonzero(problem.live_pairs)
    pair_owner = owner[problem.pair_site[live]]
    order = np.argsort(pair_owner, kind="stable")
    cuts = np.searchsorted(pair_owner[order], np.arange(len(regions) + 2))
    groups = []
    for position in range(len(regions) + 1):
        sites = np.flatnonzero(owner == position)
        pairs = np.sort(live[order[cuts[position] : cuts[position + 1]]])
        if sites.size:
            zones = np.unique(problem.pair_zone[pairs])
            groups.append(Region(zones=zones, sites=sites, pairs=pairs))
    return groups


def _group_arrays(task: tuple[FacilityProblem, Region]) -> dict[str, np.ndarray] | None:
    """One group's relaxation (:func:`design_bound._pieces` of its own model), its pairs,
    rows, sites and options numbered as in the full problem (``n_types`` = K); ``None`` where
    the design Lagrangian does not cover the model (module level: Dask ships it)."""
    from chargeplan.model.formulation import build_milp
    from chargeplan.solver.design_bound import lagrangian_applies

    sub, group = task
    lp, ix = build_milp(sub)
    if not lagrangian_applies(sub, lp):
        return None
    pieces = _pieces(sub, lp, ix)
    _, upper, _ = lp.bounds()
    keep = upper[ix.cols("x")] > 0
    k = pieces.n_types
    row_zone = group.zones[ix.u_zone]
    return {
        "item_row": (row_zone * k + ix.u_type)[pieces.item_row],  # zone x type, global
        "item_group": group.sites[pieces.item_group // k] * k + pieces.item_group % k,
        "item_weight": pieces.item_weight,
        "item_cost": pieces.item_cost,
        "item_upper": pieces.item_upper,
        "item_pair": group.pairs[ix.x_pair[keep]],
        "item_type": np.asarray(ix.x_type)[keep],
        "row": row_zone * k + ix.u_type,
        "u_upper": pieces.u_upper,
        "option_site": group.sites[pieces.option_site],
        "option_design": pieces.option_design,
        "option_cost": pieces.option_cost,
        "option_capacity": pieces.option_capacity,
        "offset": np.array([pieces.offset]),
    }


def full_model(
    problem: FacilityProblem, regions: list[Region], executor: Executor | None = None
) -> FullModel | None:
    """The full model's relaxation gathered group by group (:func:`site_groups`; each group's
    model built through ``executor``, a ``map``-like callable), or ``None`` where the design
    Lagrangian does not cover it (no design menu, a budget, an ``extend`` row family...)."""
    untargeted = without_idle_targets(dualised(problem, None))
    groups = site_groups(untargeted, regions)
    tasks = [(subproblem(untargeted, g), g) for g in groups]
    parts = list((executor or map)(_group_arrays, tasks))
    if any(part is None for part in parts):
        return None
    found = [p for p in parts if p is not None]

    def joined(name: str) -> np.ndarray:
        return np.concatenate([p[name] for p in found])

    k = len(problem.types)
    u_zone, u_type = np.nonzero(problem.demand > 0)
    row_of = np.full(len(problem.zone_ids) * k, -1, np.int64)
    row_of[u_zone * k + u_type] = np.arange(u_zone.size)
    u_upper = np.ones(u_zone.size)
    np.minimum.at(u_upper, row_of[joined("row")], joined("u_upper"))
    pieces = _Pieces(
        item_row=row_of[joined("item_row")],
        item_group=joined("item_group"),
        item_weight=joined("item_weight"),
        item_cost=joined("item_cost"),
        item_upper=joined("item_upper"),
        u_cost=problem.unmet_penalty[u_type] * problem.demand[u_zone, u_type],
        u_lower=np.zeros(u_zone.size),
        u_upper=u_upper,
        u_demand=problem.demand[u_zone, u_type],
        u_type=u_type,
        option_site=joined("option_site"),
        option_design=joined("option_design"),
        option_cost=joined("option_cost"),
        option_capacity=np.vstack([p["option_capacity"] for p in found]),
        n_types=k,
        n_groups=len(problem.site_ids) * k,
        offset=float(joined("offset").sum()),
    )
    return FullModel(
        pieces,
        joined("item_pair"),
        joined("item_type"),
        u_zone,
        u_type,
        *_targets(problem),
        len(found),
    )


def _targets(
    problem: FacilityProblem,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row's target group (``-1``: none, or not in reach, or a group without a target
    row), :math:`D_g`, :math:`\\tau_g` and :math:`\\sigma_g` of every target group."""
    u_zone, u_type = np.nonzero(problem.demand > 0)
    row_group = np.full(u_zone.size, -1, np.int64)
    if not problem.target_names:
        return row_group, np.zeros(0), np.zeros(0), np.zeros(0)
    rows = target_groups(problem)
    group = problem.target_group[u_zone]
    counted = np.isin(group, rows) & reachable_demand(problem)[u_zone, u_type]
    row_group[counted] = group[counted]
    share = np.asarray(problem.target_share, float)
    return row_group, group_demand(problem), share, np.asarray(problem.target_price, float)


def full_value(full: FullModel, lam: np.ndarray, mu: np.ndarray | None = None) -> float:
    """:math:`L(\\lambda, \\mu)` of the module docstring: a lower bound of the full model's
    optimum for every :math:`\\lambda` (one per row) and :math:`0 \\le \\mu \\le \\sigma`."""
    return _point(full, np.asarray(lam, float), _mu(full, mu))[0]


def _mu(full: FullModel, mu: np.ndarray | None) -> np.ndarray:
    return np.zeros(full.group_total.size) if mu is None else np.asarray(mu, float)


def _point(
    full: FullModel, lam: np.ndarray, mu: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """:math:`L(\\lambda, \\mu)` and its subgradients in :math:`\\lambda` and :math:`\\mu`."""
    p, counted = full.pieces, full.row_group >= 0
    extra = np.zeros(lam.size)
    extra[counted] = mu[full.row_group[counted]] * p.u_demand[counted]
    constant = float((mu * (1.0 - full.target_share) * full.group_total).sum())
    point = _evaluate(dataclasses.replace(p, u_cost=p.u_cost + extra), lam)
    grad_mu = (
        np.bincount(
            full.row_group[counted],
            weights=p.u_demand[counted] * point.unmet[counted],
            minlength=mu.size,
        )
        - (1.0 - full.target_share) * full.group_total
    )
    return point.value - constant, point.grad, grad_mu


def plan_multipliers(full: FullModel, plan: Solution) -> np.ndarray:
    r"""Each row's share of ``plan``'s cost (module docstring), capped at the unmet price:
    :math:`\lambda_r = \sum_j x_{rj}\,(c_{rj} + F_j\, d_r x_{rj} / \ell_j) + c^u_r u_r`, with
    :math:`\ell_j` the load of site j and :math:`F_j` its cheapest option that holds it."""
    p = full.pieces
    share = plan.served[full.item_pair, full.item_type] / np.maximum(p.item_upper, 1e-12)
    share = np.clip(share, 0.0, 1.0)
    load = np.bincount(p.item_group, weights=share * p.item_weight, minlength=p.n_groups)
    load = load.reshape(-1, max(p.n_types, 1))
    fits = (p.option_capacity >= load[p.option_site] - 1e-6).all(axis=1)
    cheapest = np.full(load.shape[0], np.inf)
    np.minimum.at(cheapest, p.option_site[fits], p.option_cost[fits])
    site_load = load.sum(axis=1)
    fixed = np.where(np.isfinite(cheapest) & (site_load > 0), cheapest, 0.0)
    site = p.item_group // max(p.n_types, 1)
    per_unit = fixed[site] / np.where(site_load[site] > 0, site_load[site], 1.0)
    cost = share * (p.item_cost + per_unit * p.item_weight)
    unmet = plan.unmet[full.row_zone, full.row_type]
    lam = np.bincount(p.item_row, weights=cost, minlength=p.u_cost.size) + unmet * p.u_cost
    return np.minimum(lam, np.where(p.u_upper >= 1.0, p.u_cost, np.inf))


def capacity_multipliers(full: FullModel) -> np.ndarray:
    r"""Each row's cheapest cost of being served as the weak LP prices it, capped at the unmet
    price: :math:`\lambda_r = \min_j (c_{rj} + d_r \rho_j)`, with :math:`\rho_j = \min_o
    F_{jo} / \sum_k Q_{jok}` site j's cheapest capacity per unit of demand (the weak LP buys
    a station in proportion to its load)."""
    p = full.pieces
    capacity = np.where(np.isfinite(p.option_capacity), p.option_capacity, 0.0).sum(axis=1)
    usable = capacity > 0
    rate = np.full(p.n_groups // max(p.n_types, 1), np.inf)
    np.minimum.at(rate, p.option_site[usable], p.option_cost[usable] / capacity[usable])
    rate = np.where(np.isfinite(rate), rate, 0.0)
    upper = np.maximum(p.item_upper, 1e-12)
    whole = (p.item_cost + p.item_weight * rate[p.item_group // max(p.n_types, 1)]) / upper
    lam = np.full(p.u_cost.size, np.inf)
    np.minimum.at(lam, p.item_row, whole)
    return np.minimum(lam, p.u_cost)


def cut_bound(
    problem: FacilityProblem,
    regions: list[Region],
    plan: Solution,
    *,
    steps: int = STEPS,
    executor: Executor | None = None,
    multipliers: np.ndarray | None = None,
    target_multipliers: np.ndarray | None = None,
) -> CutBound | None:
    """The full model's bound for a plan made on the cut ``regions`` (module docstring).

    Parameters
    ----------
    problem
        The full (national) problem.
    regions
        The cut's tasks (:func:`~chargeplan.solver.split.split_components` with region labels,
        bundled).
    plan
        The cut's plan, feasible for the full model: its cost is Polyak's target and its cost
        shares one of the starting :math:`\\lambda` (:func:`plan_multipliers`).
    steps
        Subgradient steps (0: :math:`L` at the start only).
    executor
        ``map``-like callable building the groups' models (e.g. on Dask).
    multipliers, target_multipliers
        Starting :math:`\\lambda` (one per row, ``u`` order of ``problem``) and :math:`\\mu`
        (default: the better of :func:`plan_multipliers` and :func:`capacity_multipliers`, and
        zeros).

    Returns
    -------
    CutBound or None
        ``None`` where the design Lagrangian does not cover the model.
    """
    full = full_model(problem, regions, executor)
    if full is None:
        return None
    mu = np.clip(_mu(full, target_multipliers), 0.0, full.target_price)
    if multipliers is None:  # the better of the two starts
        starts = [plan_multipliers(full, plan), capacity_multipliers(full)]
        lam = max(starts, key=lambda start: _point(full, start, mu)[0])
    else:
        lam = np.asarray(multipliers, float)
    best, best_lam, best_mu, first, done = _ascend(full, lam, mu, plan.objective, steps)
    in_cut = np.zeros(len(problem.pair_zone), bool)
    for region in regions:
        in_cut[region.pairs] = True
    pairs = np.unique(full.item_pair)
    return CutBound(
        bound=best,
        first=first,
        steps=done,
        groups=full.groups,
        pairs=int(pairs.size),
        cross_pairs=int((~in_cut[pairs]).sum()),
        multipliers=best_lam,
        target_multipliers=best_mu,
    )


def _ascend(
    full: FullModel, lam: np.ndarray, mu: np.ndarray, target: float, steps: int
) -> tuple[float, np.ndarray, np.ndarray, float, int]:
    """Subgradient steps on :math:`(\\lambda, \\mu)` (module docstring): the best value, its
    multipliers, the first value and the steps taken."""
    p = full.pieces
    value, grad, grad_mu = _point(full, lam, mu)
    first, best, best_lam, best_mu = value, value, lam, mu
    theta, stalled, done = THETA, 0, 0
    for done in range(1, steps + 1):  # noqa: B007 (the count is reported)
        grad_mu = np.where(
            ((mu <= 0.0) & (grad_mu < 0.0)) | ((mu >= full.target_price) & (grad_mu > 0.0)),
            0.0,
            grad_mu,
        )
        norm = float(grad @ grad + grad_mu @ grad_mu)
        if norm <= 1e-18 or value >= target:
            break
        step = theta * (target - value) / norm
        mu = np.clip(mu + step * grad_mu, 0.0, full.target_price)
        ceiling = np.where(p.u_upper >= 1.0, p.u_cost, np.inf)
        counted = full.row_group >= 0
        ceiling[counted] += mu[full.row_group[counted]] * p.u_demand[counted]
        lam = np.minimum(lam + step * grad, ceiling)
        value, grad, grad_mu = _point(full, lam, mu)
        if value > best:
            best, best_lam, best_mu, stalled = value, lam, mu, 0
        else:
            stalled += 1
            if stalled >= STALL_STEPS:  # shorter steps, from the best multipliers so far
                theta, stalled, lam, mu = theta / 2.0, 0, best_lam, best_mu
                value, grad, grad_mu = _point(full, lam, mu)
    return float(best), best_lam, best_mu, float(first), done
