r"""The model's variables, one function per block (symbols as in ``docs/model.md``).

Each ``define_*`` function appends one labelled block of columns to a
:class:`~chargeplan.model.sparse.SparseMILP` for the entries :func:`~chargeplan.model.index.
model_index` decided on; the block becomes the Pyomo ``Var`` of the same name (``tag``
appended: rollout periods). Bounds are set here, so that no row is spent on them. The labels
are handed over as functions (``functools.partial`` of :func:`~chargeplan.model.index.
block_labels`), made only when a Pyomo model is: the array path never names a column.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from chargeplan.model.index import ModelIndex, block_labels
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.sparse import BINARY, CONTINUOUS, INTEGER, SparseMILP
from chargeplan.model.targets import group_demand

__all__ = [
    "define_assignment_shares",
    "define_chargers",
    "define_designs",
    "define_grid_upgrades",
    "define_queues",
    "define_shortfalls",
    "define_site_openings",
    "define_unmet_shares",
    "define_variables",
]


def define_variables(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    """All blocks of one period, in column order: x, u, y, n, (m, b), g, (z), (s)."""
    define_assignment_shares(lp, problem, ix, tag)
    define_unmet_shares(lp, problem, ix, tag)
    define_site_openings(lp, problem, ix, tag)
    define_chargers(lp, problem, ix, tag)
    if problem.queue_levels is not None and not problem.designs:
        define_queues(lp, problem, ix, tag)
    define_grid_upgrades(lp, problem, ix, tag)
    if problem.designs:
        define_designs(lp, problem, ix, tag)
    if problem.target_names:
        define_shortfalls(lp, problem, ix, tag)


def _hostable(problem: FacilityProblem, ix: ModelIndex) -> np.ndarray:
    """Per assignment share: whether its site can hold a charger of its type (always without
    sizing)."""
    return ix.entry_of_x(problem) >= 0


def define_assignment_shares(
    lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str
) -> None:
    r"""``x[zone, site, type]``: :math:`x_{ijk} \in [0, 1]`, the share of zone i's type-k
    demand served by site j.

    One per reachable pair :math:`(i, j) \in P` and type with :math:`d_{ik} > 0` at a site
    that is not excluded; :math:`x_{ijk} = 0` (upper bound) where site j cannot hold a type-k
    charger. Single source (``problem.single_source``): :math:`x_{ijk} \in \{0, 1\}`, so the
    assignment row gives each zone and type one site (or none: unmet).
    """
    upper = np.where(_hostable(problem, ix), 1.0, 0.0) if problem.sizing else 1.0
    kind = BINARY if problem.single_source else CONTINUOUS
    labels = partial(block_labels, problem, ix, "x")  # made only for a Pyomo model
    lp.add_columns(f"x{tag}", len(ix.x_pair), 0.0, upper, kind, labels=labels)


def define_unmet_shares(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``u[zone, type]``: :math:`u_{ik} \in [0, 1]`, the unmet share of zone i's type-k
    demand, for :math:`d_{ik} > 0`.

    With ``hard_demand``, :math:`u_{ik} = 0` (upper bound) wherever a site in reach can serve
    the demand.
    """
    upper: float | np.ndarray = 1.0
    if problem.hard_demand:
        pair, kind = ix.x_pair, ix.x_type
        if problem.sizing:  # (without sizing every share is hostable)
            hostable = _hostable(problem, ix)
            pair, kind = pair[hostable], kind[hostable]
        reachable = np.zeros((len(problem.zone_ids), len(problem.types)), bool)
        reachable[problem.pair_zone[pair], kind] = True
        upper = np.where(reachable[ix.u_zone, ix.u_type], 0.0, 1.0)
    lp.add_columns(
        f"u{tag}", len(ix.u_zone), 0.0, upper, labels=partial(block_labels, problem, ix, "u")
    )


def define_site_openings(
    lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str
) -> None:
    r"""``y[site]``: :math:`y_j \in \{0, 1\}`, site j is open.

    For sites something can use (a reachable zone with demand, or required); fixed to 1
    (lower bound) for required sites and sites with existing chargers; absent for excluded
    sites.
    """
    lower = problem.must_open[ix.y_site].astype(float)
    lp.add_columns(
        f"y{tag}",
        len(ix.y_site),
        lower,
        1.0,
        BINARY,
        labels=partial(block_labels, problem, ix, "y"),
    )


def define_chargers(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``n[site, type]``: :math:`n_{jk} \in \mathbb{Z}`, :math:`E_{jk} \le n_{jk} \le
    M_{jk}`, type-k chargers at site j (existing ones included).

    With charger sizing, one per site and type that some zone could use there or that holds
    existing or minimum chargers; no columns without sizing.
    """
    lp.add_columns(
        f"n{tag}",
        len(ix.n_site),
        problem.existing_chargers[ix.n_site, ix.n_type],
        problem.max_chargers[ix.n_site, ix.n_type],
        INTEGER,
        labels=partial(block_labels, problem, ix, "n"),
    )


def define_queues(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""Queueing rule: ``m[site, type]`` and ``b[site, type, r]``.

    :math:`m_{jk} \in \mathbb{Z}`, :math:`0 \le m_{jk} \le \lfloor M_{jk} / S_k \rfloor`: full
    queues of :math:`S_k` chargers; :math:`b_{jkr} \in \{0, 1\}` for
    :math:`r = 1 .. \min(S_k - 1, M_{jk})`: one partial queue of r chargers.
    """
    assert problem.queue_levels is not None
    size = np.array([len(levels) - 1 for levels in problem.queue_levels])[ix.n_type]
    most = problem.max_chargers[ix.n_site, ix.n_type]
    lp.add_columns(
        f"m{tag}",
        len(ix.n_site),
        0.0,
        np.floor(most / size),
        INTEGER,
        labels=partial(block_labels, problem, ix, "m"),
    )
    lp.add_columns(
        f"b{tag}", len(ix.b_entry), 0.0, 1.0, BINARY, labels=partial(block_labels, problem, ix, "b")
    )


def define_grid_upgrades(
    lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str
) -> None:
    r"""``g[site]``: :math:`g_j \in \{0, 1\}`, site j's grid connection is upgraded.

    With charger sizing, for sites with a finite grid :math:`G_j` and an upgrade
    :math:`U_j > 0`.
    """
    lp.add_columns(
        f"g{tag}", len(ix.g_site), 0.0, 1.0, BINARY, labels=partial(block_labels, problem, ix, "g")
    )


def define_designs(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``z[site, design]``: :math:`z_{jd} \in \{0, 1\}`, site j gets station design d.

    With a design menu, for each usable site and each design whose stalls fit on top of the
    existing chargers (:math:`E_{jk} + s_{dk} \le M_{jk}` for every type k).
    """
    lp.add_columns(
        f"z{tag}", len(ix.z_site), 0.0, 1.0, BINARY, labels=partial(block_labels, problem, ix, "z")
    )


def define_shortfalls(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``s[group]``: :math:`0 \le s_g \le \tau_g D_g`, demand short of group g's coverage
    target (:func:`chargeplan.model.constraints.add_coverage_targets`).

    One per group with a target and demand in reach (``ix.s_group``).
    """
    upper = problem.target_share[ix.s_group] * group_demand(problem)[ix.s_group]
    lp.add_columns(
        f"s{tag}", len(ix.s_group), 0.0, upper, labels=partial(block_labels, problem, ix, "s")
    )
