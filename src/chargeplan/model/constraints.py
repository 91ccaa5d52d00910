r"""The model's constraints, one function per family (names and symbols as in ``docs/model.md``).

Each ``add_*`` function assembles one family of rows as COO triplets with numpy index
arithmetic (no Python loop over pairs) and adds it to a
:class:`~chargeplan.model.sparse.SparseMILP` under its name (``tag`` appended: rollout
periods); the family becomes the Pyomo constraint of that name, its rows labelled by the
zone, site or ``(site, type)`` they belong to. The columns must exist already
(:mod:`chargeplan.model.variables`).
"""

from __future__ import annotations

import numpy as np

from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.rows import CsrRows
from chargeplan.model.sparse import SparseMILP
from chargeplan.model.targets import group_demand, reachable_demand

__all__ = [
    "add_assignment",
    "add_budget",
    "add_charger_capacity",
    "add_cover",
    "add_coverage_targets",
    "add_grid",
    "add_grid_upgrade_open",
    "add_min_chargers",
    "add_open_for_chargers",
    "add_pair_links",
    "add_queue_capacity",
    "add_queue_count",
    "add_queue_partial",
    "add_site_capacity",
    "add_site_limit",
    "add_stalls",
]


def _row_of_zone_type(problem: FacilityProblem, ix: ModelIndex) -> np.ndarray:
    """``(Z * K,)``: the ``u`` position (= assign or cover row) of each zone and type."""
    k = len(problem.types)
    out = np.full(len(problem.zone_ids) * k, -1)
    out[ix.u_zone * k + ix.u_type] = np.arange(len(ix.u_zone))
    return out


def _sites(problem: FacilityProblem, sites: np.ndarray) -> tuple[np.ndarray]:
    """Row labels of a family with one row per site."""
    return (np.asarray(problem.site_ids)[sites],)


def _queue_sizes(problem: FacilityProblem, ix: ModelIndex) -> np.ndarray:
    """``S_k`` of each sizing entry's type."""
    assert problem.queue_levels is not None
    return np.array([len(levels) - 1 for levels in problem.queue_levels])[ix.n_type]


def add_assignment(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``assign[zone, type]``: every demand is served or unmet.

    .. math:: \sum_{j \in P(i)} x_{ijk} + u_{ik} = 1 \qquad \forall i, k: d_{ik} > 0
    """
    k = len(problem.types)
    nx, nu = len(ix.x_pair), len(ix.u_zone)
    zone_type = problem.pair_zone[ix.x_pair] * k + ix.x_type
    (x_start, _), (u_start, _) = ix.offsets["x"], ix.offsets["u"]
    if u_start == x_start + nx:  # u right after x (as define_variables lays them out)
        cols = np.arange(x_start, x_start + nx + nu)
    else:  # pragma: no cover - no model lays its blocks out otherwise
        cols = np.concatenate([ix.cols("x"), ix.cols("u")])
    lp.add_rows(
        f"assign{tag}",
        nu,
        np.concatenate([_row_of_zone_type(problem, ix)[zone_type], np.arange(nu)]),
        cols,
        np.ones(nx + nu),
        1.0,
        1.0,
        labels=f"u{tag}",
    )


def add_coverage_targets(
    lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str
) -> None:
    r"""``coverage_target[group]``: at least the share :math:`\tau_g` of group g's demand in
    reach is served (within its service standard), or the shortfall :math:`s_g` is paid for.

    .. math:: \sum_{(i,k) \in R_g} d_{ik} u_{ik} - s_g \le (1 - \tau_g) D_g
              \qquad \forall g: \tau_g > 0,\ D_g > 0

    with :math:`R_g` the zone-type demands of group g's zones that have a usable pair (a site
    in reach, not excluded, that can hold the type), :math:`D_g = \sum_{R_g} d_{ik}`
    (:mod:`chargeplan.model.targets`). Written with the unmet shares, since
    :math:`\sum_{j} x_{ijk} = 1 - u_{ik}` (``assign``); so it holds in the covering form
    too. The shortfall :math:`s_g \ge 0` costs :math:`\sigma_g` per unit in the objective
    (:func:`~chargeplan.model.objective.cost_vector`), on top of each unit's own unmet
    penalty: the target binds wherever a unit of the group's demand costs less than
    :math:`\pi_k + \sigma_g` to serve, and a target no plan can reach (budget, site limit,
    capacity) leaves a shortfall instead of an infeasible model.
    """
    groups = ix.s_group
    if not groups.size:
        return
    row_of_group = np.full(len(problem.target_names), -1)
    row_of_group[groups] = np.arange(groups.size)
    zone_group = problem.target_group[ix.u_zone]
    rows = np.where(zone_group >= 0, row_of_group[zone_group], -1)
    keep = (rows >= 0) & reachable_demand(problem)[ix.u_zone, ix.u_type]
    demand = problem.demand[ix.u_zone, ix.u_type]
    total = group_demand(problem)[groups]
    lp.add_rows(
        f"coverage_target{tag}",
        groups.size,
        np.concatenate([rows[keep], np.arange(groups.size)]),
        np.concatenate([ix.cols("u")[keep], ix.cols("s")]),
        np.concatenate([demand[keep], -np.ones(groups.size)]),
        None,
        (1.0 - problem.target_share[groups]) * total,
        labels=f"s{tag}",
    )


def add_charger_capacity(
    lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str
) -> None:
    r"""``capacity[site, type]`` (linear rule): chargers carry the demand they serve.

    .. math:: \sum_{i \in P(j)} d_{ik} x_{ijk} \le q_k n_{jk} \qquad \forall j, k
    """
    nn = len(ix.n_site)
    entry = ix.entry_of_x(problem)
    hosted = entry >= 0
    demand = problem.demand[problem.pair_zone[ix.x_pair], ix.x_type]
    assert problem.charger_capacity is not None
    lp.add_rows(
        f"capacity{tag}",
        nn,
        np.concatenate([entry[hosted], np.arange(nn)]),
        np.concatenate([ix.cols("x")[hosted], ix.cols("n")]),
        np.concatenate([demand[hosted], -problem.charger_capacity[ix.n_type]]),
        None,
        0.0,
        labels=f"n{tag}",
    )


def add_queue_capacity(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``capacity[site, type]`` (queueing rule): full queues and the partial one carry the
    demand.

    .. math:: \sum_{i \in P(j)} d_{ik} x_{ijk} \le L_k(S_k)\, m_{jk}
              + \sum_{r=1}^{S_k - 1} L_k(r)\, b_{jkr} \qquad \forall j, k
    """
    assert problem.queue_levels is not None
    nn = len(ix.n_site)
    entry = ix.entry_of_x(problem)
    hosted = entry >= 0
    demand = problem.demand[problem.pair_zone[ix.x_pair], ix.x_type]
    top = np.array([levels[-1] for levels in problem.queue_levels])[ix.n_type]
    levels = problem.queue_levels
    b_capacity = (
        np.array([levels[t][r] for t, r in zip(ix.n_type[ix.b_entry], ix.b_level, strict=True)])
        if len(ix.b_entry)
        else np.empty(0)
    )
    lp.add_rows(
        f"capacity{tag}",
        nn,
        np.concatenate([entry[hosted], np.arange(nn), ix.b_entry]),
        np.concatenate([ix.cols("x")[hosted], ix.cols("m"), ix.cols("b")]),
        np.concatenate([demand[hosted], -top, -b_capacity]),
        None,
        0.0,
        labels=f"n{tag}",
    )


def add_queue_count(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``queue_count[site, type]``: the chargers are the full queues plus the partial one.

    .. math:: n_{jk} = S_k m_{jk} + \sum_{r=1}^{S_k - 1} r\, b_{jkr} \qquad \forall j, k
    """
    nn = len(ix.n_site)
    lp.add_rows(
        f"queue_count{tag}",
        nn,
        np.concatenate([np.arange(nn), np.arange(nn), ix.b_entry]),
        np.concatenate([ix.cols("n"), ix.cols("m"), ix.cols("b")]),
        np.concatenate([np.ones(nn), -_queue_sizes(problem, ix), -ix.b_level.astype(float)]),
        0.0,
        0.0,
        labels=f"n{tag}",
    )


def add_queue_partial(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``queue_partial[site, type]``: at most one partial queue, only at an open site.

    .. math:: \sum_{r=1}^{S_k - 1} b_{jkr} \le y_j \qquad \forall j, k
    """
    nn = len(ix.n_site)
    y_col = ix.column_of_site("y", len(problem.site_ids))
    lp.add_rows(
        f"queue_partial{tag}",
        nn,
        np.concatenate([ix.b_entry, np.arange(nn)]),
        np.concatenate([ix.cols("b"), y_col[ix.n_site]]),
        np.concatenate([np.ones(len(ix.b_entry)), -np.ones(nn)]),
        None,
        0.0,
        labels=f"n{tag}",
    )


def add_open_for_chargers(
    lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str
) -> None:
    r"""``open_for_chargers[site, type]``: chargers only at an open site.

    .. math:: n_{jk} \le M_{jk} y_j \qquad \forall j, k
    """
    nn = len(ix.n_site)
    y_col = ix.column_of_site("y", len(problem.site_ids))
    lp.add_rows(
        f"open_for_chargers{tag}",
        nn,
        np.tile(np.arange(nn), 2),
        np.concatenate([ix.cols("n"), y_col[ix.n_site]]),
        np.concatenate([np.ones(nn), -problem.max_chargers[ix.n_site, ix.n_type]]),
        None,
        0.0,
        labels=f"n{tag}",
    )


def add_min_chargers(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``min_chargers[site, type]``: an open site gets at least its minimum.

    .. math:: \underline{n}_{jk} y_j \le n_{jk} \qquad \forall j, k: \underline{n}_{jk} > 0
    """
    least = problem.min_chargers[ix.n_site, ix.n_type]
    rows = np.flatnonzero(least > 0)
    y_col = ix.column_of_site("y", len(problem.site_ids))
    sites, types = np.asarray(problem.site_ids), np.asarray(problem.types, dtype=object)
    lp.add_rows(
        f"min_chargers{tag}",
        len(rows),
        np.tile(np.arange(len(rows)), 2),
        np.concatenate([y_col[ix.n_site[rows]], ix.cols("n")[rows]]),
        np.concatenate([least[rows], -np.ones(len(rows))]),
        None,
        0.0,
        labels=(sites[ix.n_site[rows]], types[ix.n_type[rows]]),
    )


def add_stalls(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``stalls[site]``: all chargers of a site within its stalls.

    .. math:: \sum_k n_{jk} \le T_j y_j \qquad \forall j: T_j < \infty
    """
    stall_sites = np.flatnonzero(np.isfinite(problem.max_stalls[ix.y_site]))
    if not stall_sites.size:
        return
    row_of_site = np.full(len(problem.site_ids), -1)
    row_of_site[ix.y_site[stall_sites]] = np.arange(stall_sites.size)
    rows = row_of_site[ix.n_site]
    keep = rows >= 0
    lp.add_rows(
        f"stalls{tag}",
        stall_sites.size,
        np.concatenate([rows[keep], np.arange(stall_sites.size)]),
        np.concatenate([ix.cols("n")[keep], ix.cols("y")[stall_sites]]),
        np.concatenate([np.ones(int(keep.sum())), -problem.max_stalls[ix.y_site[stall_sites]]]),
        None,
        0.0,
        labels=_sites(problem, ix.y_site[stall_sites]),
    )


def _grid_sites(problem: FacilityProblem, ix: ModelIndex) -> np.ndarray:
    return ix.y_site[np.isfinite(problem.grid_kw[ix.y_site])]


def add_grid(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``grid[site]``: the chargers' power within the grid connection, upgraded or not.

    .. math:: \sum_k P_k n_{jk} \le G_j + U_j g_j \qquad \forall j: G_j < \infty
    """
    grid_sites = _grid_sites(problem, ix)
    if not grid_sites.size:
        return
    row_of_site = np.full(len(problem.site_ids), -1)
    row_of_site[grid_sites] = np.arange(grid_sites.size)
    rows = row_of_site[ix.n_site]
    keep = rows >= 0
    lp.add_rows(
        f"grid{tag}",
        grid_sites.size,
        np.concatenate([rows[keep], row_of_site[ix.g_site]]),
        np.concatenate([ix.cols("n")[keep], ix.cols("g")]),
        np.concatenate(
            [problem.charger_power_kw[ix.n_type[keep]], -problem.grid_upgrade_kw[ix.g_site]]
        ),
        None,
        problem.grid_kw[grid_sites],
        labels=_sites(problem, grid_sites),
    )


def add_grid_upgrade_open(
    lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str
) -> None:
    r"""``grid_upgrade_open[site]``: only an open site's grid is upgraded.

    .. math:: g_j \le y_j \qquad \forall j \text{ with } g_j
    """
    if not _grid_sites(problem, ix).size:
        return
    ng = len(ix.g_site)
    y_col = ix.column_of_site("y", len(problem.site_ids))
    lp.add_rows(
        f"grid_upgrade_open{tag}",
        ng,
        np.tile(np.arange(ng), 2),
        np.concatenate([ix.cols("g"), y_col[ix.g_site]]),
        np.concatenate([np.ones(ng), -np.ones(ng)]),
        None,
        0.0,
        labels=f"g{tag}",
    )


def add_site_capacity(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``site_capacity[site]``: a site serves at most its capacity, and only when open.

    .. math:: \sum_{i \in P(j), k} d_{ik} x_{ijk} \le C_j y_j
              \qquad \forall j: C_j < \infty \text{ or no sizing}

    Without sizing an infinite :math:`C_j` is replaced by the demand in reach of j
    (uncapacitated facility location: the row then only says "served only when open").
    """
    s = len(problem.site_ids)
    x_site = problem.pair_site[ix.x_pair]
    x_demand = problem.demand[problem.pair_zone[ix.x_pair], ix.x_type]
    capacity = problem.site_capacity[ix.y_site].astype(float)
    if problem.sizing:
        cap_sites = np.flatnonzero(np.isfinite(capacity))
    else:
        reach_demand = np.bincount(x_site, weights=x_demand, minlength=s)
        capacity = np.where(np.isfinite(capacity), capacity, reach_demand[ix.y_site])
        cap_sites = np.arange(len(ix.y_site))
    if not cap_sites.size:
        return
    row_of_site = np.full(s, -1)
    row_of_site[ix.y_site[cap_sites]] = np.arange(cap_sites.size)
    rows, x_cols, y_cols = row_of_site[x_site], ix.cols("x"), ix.cols("y")
    if cap_sites.size < len(ix.y_site):  # only the capacitated sites' rows (with sizing)
        keep = rows >= 0
        rows, x_cols, x_demand = rows[keep], x_cols[keep], x_demand[keep]
        y_cols, capacity = y_cols[cap_sites], capacity[cap_sites]
    lp.add_rows(
        f"site_capacity{tag}",
        cap_sites.size,
        np.concatenate([rows, np.arange(cap_sites.size)]),
        np.concatenate([x_cols, y_cols]),
        np.concatenate([x_demand, -capacity]),
        None,
        0.0,
        labels=_sites(problem, ix.y_site[cap_sites]),
    )


def add_pair_links(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``pair_link[zone, site, type]`` (strong links, when ``ix.strong_links``): a zone is
    served only by an open site.

    .. math:: x_{ijk} \le y_j \qquad \forall (i, j) \in P, k

    Implied by the capacity rows for integer plans; they tighten the LP relaxation.
    """
    nx = len(ix.x_pair)
    if not (ix.strong_links and nx):
        return
    y_col = ix.column_of_site("y", len(problem.site_ids))
    x, y = ix.cols("x"), y_col[problem.pair_site[ix.x_pair]]
    values = np.tile([1.0, -1.0], nx)
    if np.all(x < y):  # as the blocks lie (x before y): the rows as they are, (x, y) each
        matrix = CsrRows(
            values,
            np.column_stack([x, y]).ravel().astype(np.int32),
            np.arange(0, 2 * nx + 1, 2, dtype=np.int32),
            (nx, lp.n_cols),
        )
    else:  # pragma: no cover - no model lays its blocks out so
        matrix = CsrRows.from_triplets(
            np.repeat(np.arange(nx), 2), np.column_stack([x, y]).ravel(), values, (nx, lp.n_cols)
        )
    lp.add_row_matrix(f"pair_link{tag}", matrix, None, 0.0, labels=f"x{tag}")


def add_cover(
    lp: SparseMILP,
    problem: FacilityProblem,
    ix: ModelIndex,
    tag: str,
    pairs: tuple[np.ndarray, np.ndarray],
) -> None:
    r"""``cover[zone, type]`` (covering form): demand is covered when a site in reach is open.

    .. math:: u_{ik} + \sum_{j \in P(i)} y_j \ge 1 \qquad \forall i, k: d_{ik} > 0

    ``pairs``: ``(pair, type)`` rows of the assignment shares the covering form projects out.
    """
    k = len(problem.types)
    nu = len(ix.u_zone)
    pair, kind = pairs
    y_col = ix.column_of_site("y", len(problem.site_ids))
    lp.add_rows(
        f"cover{tag}",
        nu,
        np.concatenate(
            [np.arange(nu), _row_of_zone_type(problem, ix)[problem.pair_zone[pair] * k + kind]]
        ),
        np.concatenate([ix.cols("u"), y_col[problem.pair_site[pair]]]),
        np.ones(nu + len(pair)),
        1.0,
        None,
        labels=f"u{tag}",
    )


def add_budget(
    lp: SparseMILP, capex: np.ndarray, capex_constant: float, budget: float, name: str = "budget"
) -> None:
    r"""``budget``: capex within the budget.

    .. math:: \sum_j f_j y_j + \sum_{jk} p_{jk} (n_{jk} - E_{jk}) + \sum_j a_j g_j \le B

    ``capex``, ``capex_constant``: the capex as column weights and constant
    (:func:`~chargeplan.model.objective.capex_vector`).
    """
    used = np.flatnonzero(capex)
    lp.add_rows(
        name,
        1,
        np.zeros(len(used), np.int64),
        used,
        capex[used],
        None,
        budget - capex_constant,
    )


def add_site_limit(lp: SparseMILP, ix: ModelIndex, max_sites: int, name: str = "max_sites") -> None:
    r"""``max_sites``: at most N open sites.

    .. math:: \sum_j y_j \le N
    """
    y = ix.cols("y")
    lp.add_rows(
        name,
        1,
        np.zeros(len(y), np.int64),
        y,
        np.ones(len(y)),
        None,
        float(max_sites),
    )
