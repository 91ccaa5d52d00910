r"""Each site's options in the Lagrangian relaxation of a station-design model
(:mod:`chargeplan.solver.design_bound`): *closed*, *open without a design* and *open with
design d*, each with its fixed cost and capacity, read from the model's own arrays.

An option's fixed cost is :math:`F_{jo} = c^y_j + c^z_{jd} + \sum_k c^n_{jk}(E_{jk} + s_{dk})`,
plus the grid upgrade's cost :math:`c^g_j` where the chargers' power needs it; options that
break the rows on :math:`n` (minimum chargers, charger limits, stalls) or the grid row are left
out, and *closed* exists only where :math:`y_j` may be 0 and the site holds no chargers.
"""

from __future__ import annotations

import numpy as np

from chargeplan.model.design_constraints import usable_capacity
from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.sparse import SparseMILP

__all__ = ["site_options"]


def _site_array(ix: ModelIndex, block: str, values: np.ndarray, n_sites: int) -> np.ndarray:
    """``(S,)``: ``values`` of a per-site block (``y`` or ``g``) by site, 0 where none."""
    out = np.zeros(n_sites)
    out[ix.y_site if block == "y" else ix.g_site] = values[ix.cols(block)]
    return out


def site_options(
    problem: FacilityProblem, lp: SparseMILP, ix: ModelIndex, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every site's options in the relaxation (module docstring).

    Parameters
    ----------
    problem, lp, ix
        The model (:func:`~chargeplan.model.formulation.build_milp`).
    lower, upper
        Its column bounds (``lp.bounds()``): fixed ``y`` decide which options exist.

    Returns
    -------
    tuple of numpy.ndarray
        Per option: its site, its design (``-2`` closed, ``-1`` none, else the menu position),
        its fixed cost :math:`F_{jo}` and its capacity ``(O, K)`` (``inf`` where the site has no
        capacity row of that type).
    """
    assert lp.objective is not None and problem.design_stalls is not None
    n_sites, k = len(problem.site_ids), len(problem.types)
    objective = lp.objective
    y_cost = _site_array(ix, "y", objective, n_sites)
    n_cost = np.zeros((n_sites, k))
    n_cost[ix.n_site, ix.n_type] = objective[ix.cols("n")]
    has_row = np.zeros((n_sites, k), bool)
    has_row[ix.n_site, ix.n_type] = True
    base, design = usable_capacity(problem)
    base = np.where(has_row, base, np.inf)
    design = np.where(has_row[:, None, :], design, np.inf)
    existing = problem.existing_chargers.astype(float)
    sites = ix.y_site
    # open without a design, then one option per z column
    site = np.concatenate([sites, ix.z_site])
    chosen = np.concatenate([np.full(sites.size, -1), ix.z_design])
    stalls = np.vstack([np.zeros((sites.size, k)), problem.design_stalls[ix.z_design]])
    kva = np.concatenate([np.zeros(sites.size), _design_kva(problem)[ix.z_design]])
    chargers = existing[site] + stalls
    cost = y_cost[site] + (n_cost[site] * chargers).sum(axis=1)
    cost[sites.size :] += objective[ix.cols("z")]
    fits, upgrade_cost = _sizing_rows(problem, ix, site, chargers, kva, objective)
    capacity = np.vstack([base[sites], design[ix.z_site, ix.z_design]])
    y_upper = _site_array(ix, "y", upper, n_sites)
    fits &= y_upper[site] >= 0.5
    cost = cost + upgrade_cost
    site, chosen, cost, capacity = site[fits], chosen[fits], cost[fits], capacity[fits]
    y_lower = _site_array(ix, "y", lower, n_sites)
    closable = sites[(y_lower[sites] < 0.5) & ~(existing[sites] > 0).any(axis=1)]
    return (
        np.concatenate([closable, site]),
        np.concatenate([np.full(closable.size, -2), chosen]),
        np.concatenate([np.zeros(closable.size), cost]),
        np.vstack([np.zeros((closable.size, k)), capacity]),
    )


def _design_kva(problem: FacilityProblem) -> np.ndarray:
    """:math:`V_d`, zeros if the menu has no connection sizes."""
    assert problem.design_stalls is not None
    if problem.design_kva is None:
        return np.zeros(len(problem.design_stalls))
    return np.asarray(problem.design_kva, float)


def _sizing_rows(
    problem: FacilityProblem,
    ix: ModelIndex,
    site: np.ndarray,
    chargers: np.ndarray,
    kva: np.ndarray,
    objective: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Which open options satisfy the rows on :math:`n` (minimum chargers, charger limits,
    stalls) and the grid row, and the upgrade cost :math:`c^g_j` of those needing it."""
    n_sites = len(problem.site_ids)
    fits = (chargers >= problem.min_chargers[site] - 1e-9).all(axis=1)
    fits &= (chargers <= problem.max_chargers[site] + 1e-9).all(axis=1)
    fits &= chargers.sum(axis=1) <= problem.max_stalls[site] + 1e-9
    power = kva + problem.existing_chargers[site] @ problem.charger_power_kw
    grid = problem.grid_kw[site]
    has_upgrade = np.zeros(n_sites, bool)
    has_upgrade[ix.g_site] = True
    upgrade = np.where(has_upgrade, problem.grid_upgrade_kw, 0.0)[site]
    within = power <= grid + 1e-9
    upgraded = ~within & (power <= grid + upgrade + 1e-9)
    g_cost = _site_array(ix, "g", objective, n_sites)[site]
    return fits & (within | upgraded), np.where(upgraded, g_cost, 0.0)
