r"""The constraint families of station designs (symbols as in ``docs/model.md``, "Station designs").

With a design menu (:attr:`~chargeplan.model.problem.FacilityProblem.designs`) these replace the
charger-capacity rows of the linear and queueing rules and the grid rows on chargers
(:mod:`chargeplan.model.constraints`); the other sizing rows (chargers only at open sites,
minimum chargers, stalls) stay as they are. Data: stalls :math:`s_{dk}`, grid connection
:math:`V_d` (kVA), station capacity :math:`Q_{jdk}` and :math:`Q_{j0k}`
(:func:`~chargeplan.model.designs.station_capacity`).
"""

from __future__ import annotations

import numpy as np

from chargeplan.model.designs import station_capacity
from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.sparse import SparseMILP

__all__ = [
    "add_design_capacity",
    "add_design_chargers",
    "add_design_choice",
    "add_design_grid",
    "usable_capacity",
]


def _z_rows_by_entry(problem: FacilityProblem, ix: ModelIndex) -> tuple[np.ndarray, np.ndarray]:
    """For every ``(z column, type)`` with an ``n`` entry at its site: the ``n`` entry (row of a
    per-entry family) and the position in ``z``."""
    entry_of = np.full((len(problem.site_ids), len(problem.types)), -1)
    entry_of[ix.n_site, ix.n_type] = np.arange(len(ix.n_site))
    entry = entry_of[ix.z_site]  # (Zd, K)
    z_pos, kind = np.nonzero(entry >= 0)
    return entry[z_pos, kind], np.column_stack([z_pos, kind]).T


def usable_capacity(problem: FacilityProblem) -> tuple[np.ndarray, np.ndarray]:
    r"""``(S, K)`` :math:`Q_{j0k}` and ``(S, D, K)`` :math:`\min(Q_{jdk}, \max(D_{jk}, Q_{j0k}))`:
    station capacities (:func:`~chargeplan.model.designs.station_capacity`) cut to the demand
    :math:`D_{jk}` of the zones in reach of site j (the most the site can ever carry)."""
    base, design = station_capacity(problem)
    reach = np.zeros(base.shape)
    np.add.at(reach, problem.pair_site, problem.demand[problem.pair_zone])
    return base, np.minimum(design, np.maximum(reach, base)[:, None, :])


def add_design_choice(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``design_choice[site]``: at most one design, only at an open site.

    .. math:: \sum_d z_{jd} \le y_j \qquad \forall j

    An open site without a design keeps its existing chargers only (a site that holds none
    then serves nothing: never optimal unless it is required).
    """
    y_col = ix.column_of_site("y", len(problem.site_ids))
    ny = len(ix.y_site)
    row_of_site = np.full(len(problem.site_ids), -1)
    row_of_site[ix.y_site] = np.arange(ny)
    lp.add_rows(
        f"design_choice{tag}",
        ny,
        np.concatenate([row_of_site[ix.z_site], np.arange(ny)]),
        np.concatenate([ix.cols("z"), y_col[ix.y_site]]),
        np.concatenate([np.ones(len(ix.z_site)), -np.ones(ny)]),
        None,
        0.0,
        labels=f"y{tag}",
    )


def add_design_chargers(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``design_chargers[site, type]``: the chargers are the existing ones plus the design's.

    .. math:: n_{jk} = E_{jk} + \sum_d s_{dk} z_{jd} \qquad \forall j, k
    """
    assert problem.design_stalls is not None
    nn = len(ix.n_site)
    rows, (z_pos, kind) = _z_rows_by_entry(problem, ix)
    lp.add_rows(
        f"design_chargers{tag}",
        nn,
        np.concatenate([np.arange(nn), rows]),
        np.concatenate([ix.cols("n"), ix.cols("z")[z_pos]]),
        np.concatenate([np.ones(nn), -problem.design_stalls[ix.z_design[z_pos], kind]]),
        problem.existing_chargers[ix.n_site, ix.n_type],
        problem.existing_chargers[ix.n_site, ix.n_type],
        labels=f"n{tag}",
    )


def add_design_capacity(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``capacity[site, type]`` (designs): the station's one queue per type carries the demand.

    .. math:: \sum_{i \in P(j)} d_{ik} x_{ijk} \le Q_{j0k}
              + \sum_d (Q_{jdk} - Q_{j0k})\, z_{jd} \qquad \forall j, k

    Exact: with design d (at most one) the right-hand side is :math:`Q_{jdk}`, the capacity
    of the :math:`E_{jk} + s_{dk}` chargers as one queue; with none, :math:`Q_{j0k}`.

    The coefficients are tightened to the demand in reach (:func:`usable_capacity`): a design's
    capacity beyond :math:`D_{jk} = \sum_{i \in P(j)} d_{ik}` can never be used, so
    :math:`Q_{jdk}` is replaced by :math:`\min(Q_{jdk}, \max(D_{jk}, Q_{j0k}))`. Integer plans
    are the same (the load never exceeds :math:`D_{jk}`); the LP relaxation can no longer buy
    a fraction of a station larger than its catchment at the price per kW of a full one
    (``docs/stations.md``, "Solving a slice").
    """
    base, design = usable_capacity(problem)
    nn = len(ix.n_site)
    entry = ix.entry_of_x(problem)
    hosted = entry >= 0
    demand = problem.demand[problem.pair_zone[ix.x_pair], ix.x_type]
    rows, (z_pos, kind) = _z_rows_by_entry(problem, ix)
    site, chosen = ix.z_site[z_pos], ix.z_design[z_pos]
    gain = design[site, chosen, kind] - base[site, kind]
    lp.add_rows(
        f"capacity{tag}",
        nn,
        np.concatenate([entry[hosted], rows]),
        np.concatenate([ix.cols("x")[hosted], ix.cols("z")[z_pos]]),
        np.concatenate([demand[hosted], -gain]),
        None,
        base[ix.n_site, ix.n_type],
        labels=f"n{tag}",
    )


def add_design_grid(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> None:
    r"""``grid[site]`` (designs): the design's connection and the existing chargers' power
    within the site's grid, upgraded or not.

    .. math:: \sum_d V_d z_{jd} + \sum_k P_k E_{jk} \le G_j + U_j g_j
              \qquad \forall j: G_j < \infty

    A kVA of connection is counted as a kW of the site's grid (unit power factor).
    """
    assert problem.design_kva is not None
    grid_sites = ix.y_site[np.isfinite(problem.grid_kw[ix.y_site])]
    if not grid_sites.size:
        return
    row_of_site = np.full(len(problem.site_ids), -1)
    row_of_site[grid_sites] = np.arange(grid_sites.size)
    rows = row_of_site[ix.z_site]
    keep = rows >= 0
    existing_kw = problem.existing_chargers[grid_sites] @ problem.charger_power_kw
    lp.add_rows(
        f"grid{tag}",
        grid_sites.size,
        np.concatenate([rows[keep], row_of_site[ix.g_site]]),
        np.concatenate([ix.cols("z")[keep], ix.cols("g")]),
        np.concatenate(
            [problem.design_kva[ix.z_design[keep]], -problem.grid_upgrade_kw[ix.g_site]]
        ),
        None,
        problem.grid_kw[grid_sites] - existing_kw,
        labels=(np.asarray(problem.site_ids)[grid_sites],),
    )
