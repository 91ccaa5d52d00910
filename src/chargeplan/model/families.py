r"""The classic location families as :class:`~chargeplan.model.problem.FacilityProblem` instances.

Each family is the general model (:func:`chargeplan.model.formulation.build_model`) with some
parts switched off, plus, for the p-center, one column and one row family of its own
(:func:`add_worst_cost`). :func:`location_problem` builds any of them from a dense distance
matrix; ``chargeplan.from_geodataframe`` builds that matrix from GeoDataFrames.

Symbols: zones :math:`i` with weight :math:`w_i`, candidate sites :math:`j`, distance
:math:`d_{ij}`, service radius :math:`R` (site j *covers* zone i when :math:`d_{ij} \le R`,
spopt's rule), :math:`N_i = \{j : d_{ij} \le R\}`, open sites :math:`y_j \in \{0,1\}`,
assignment :math:`x_{ij}`, unmet share :math:`u_i`.

``pmedian`` (Hakimi 1964; ReVelle & Swain 1970)
    .. math:: \min \sum_{ij} w_i d_{ij} x_{ij} \quad\text{s.t.}\quad \sum_j x_{ij} = 1,\;
              x_{ij} \le y_j,\; \sum_j y_j \le p

    The model's ``max_sites`` row is "at most p": opening a further site never lengthens a
    trip, so "at most" and "exactly" have the same optimum (when there are p candidates).
    With a radius, only pairs within it exist and zones out of every site's reach stay unmet
    (reported, not in the objective). Capacitated p-median (Osman & Christofides 1994):
    :math:`\sum_i w_i x_{ij} \le C_j y_j` and single source, :math:`x_{ij} \in \{0, 1\}`.

``pcenter`` (Hakimi 1965)
    .. math:: \min W \quad\text{s.t.}\quad W \ge \sum_j d_{ij} x_{ij}\;\forall i,\;
              \sum_j x_{ij} = 1,\; x_{ij} \le y_j,\; \sum_j y_j \le p

    The objective ``min_max_cost`` with per-unit pair costs :math:`d_{ij}`. One row per zone
    (the tighter form: :math:`W \ge d_{ij} x_{ij}` per pair is implied and weaker in the LP).
    Unweighted, as spopt's ``PCenter``: weights only decide which zones count (:math:`w_i > 0`).
    :func:`chargeplan.solve` solves the plain p-center by bisection on the radius instead
    (:mod:`chargeplan.solver.pcenter`: the same optimum, far fewer nodes).

``lscp`` (Toregas et al. 1971): location set covering
    .. math:: \min \sum_j f_j y_j \quad\text{s.t.}\quad \sum_{j \in N_i} y_j \ge 1 \;\forall i

    with :math:`f_j = 1` (fewest sites) unless fixed costs are given. Every zone must be
    covered, so a zone no site covers makes it infeasible: :func:`check_coverable` refuses it
    before any model is built, naming the zones (this module's choice: a plan that silently
    leaves a zone out is not a set cover).

``mclp`` (Church & ReVelle 1974): maximal covering
    .. math:: \max \sum_i w_i (1 - u_i) \quad\text{s.t.}\quad u_i + \sum_{j \in N_i} y_j \ge 1,
              \; \sum_j y_j \le p \text{ and/or } \sum_j f_j y_j \le B

    The objective ``max_coverage``; no unmet penalty is involved (nor needed): the coverage
    stage minimises :math:`\sum_i w_i u_i`, and the second stage the capex of that coverage.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from chargeplan.errors import InputError
from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem, Objective
from chargeplan.model.sparse import CONTINUOUS, SparseMILP

__all__ = [
    "FAMILIES",
    "Family",
    "add_worst_cost",
    "check_coverable",
    "location_problem",
]

Family = Literal["pmedian", "pcenter", "lscp", "mclp"]
FAMILIES: tuple[Family, ...] = ("pmedian", "pcenter", "lscp", "mclp")
_OBJECTIVE: dict[str, Objective] = {
    "pmedian": "min_cost",
    "pcenter": "min_max_cost",
    "lscp": "min_cost",
    "mclp": "max_coverage",
}


def add_worst_cost(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex) -> np.ndarray:
    r"""The p-center's column ``worst`` and rows ``worst_cost``; returns the objective weights.

    .. math:: W \ge \sum_{j \in P(i)} \frac{c_{ijk}}{d_{ik}}\, x_{ijk}
              \quad \forall i, k: d_{ik} > 0 \qquad \text{(worst\_cost)}

    :math:`c_{ijk} / d_{ik}` is the per-unit cost of the pair (the distance, for
    :func:`location_problem`), so :math:`W` is at least the per-unit cost of every zone's
    service and ``min W`` is the minimax (p-center) objective, ``"min_max_cost"``. A zone left
    unmet (:math:`u_{ik} = 1`, only without ``hard_demand``) does not bind :math:`W`. Rows are
    labelled like the ``u`` columns (``model.worst_cost[zone, type]``).
    """
    worst = lp.add_columns("worst", 1, 0.0, np.inf, CONTINUOUS)[0]
    d = problem.demand[problem.pair_zone[ix.x_pair], ix.x_type]
    unit = problem.pair_cost[ix.x_pair, ix.x_type] / d
    row_of = np.full((len(problem.zone_ids), len(problem.types)), -1)
    row_of[ix.u_zone, ix.u_type] = np.arange(len(ix.u_zone))
    x_rows = row_of[problem.pair_zone[ix.x_pair], ix.x_type]
    n_rows = len(ix.u_zone)
    lp.add_rows(
        "worst_cost",
        n_rows,
        np.concatenate([np.arange(n_rows), x_rows]),
        np.concatenate([np.full(n_rows, worst), ix.cols("x")]),
        np.concatenate([np.ones(n_rows), -unit]),
        0.0,
        None,
        labels="u",
    )
    weights = np.zeros(lp.n_cols)
    weights[worst] = 1.0
    return weights


def check_coverable(problem: FacilityProblem) -> None:
    """Refuse, before any model is built, zones with demand that no usable site reaches.

    Raises
    ------
    InputError
        Naming the first zones nothing reaches (and how many), with the fixes.
    """
    reached = np.zeros(len(problem.zone_ids), bool)
    live = problem.live_pairs
    reached[problem.pair_zone[live]] = True
    alone = (problem.demand.sum(axis=1) > 0) & ~reached
    if alone.any():
        shown = ", ".join(str(v) for v in np.asarray(problem.zone_ids)[alone][:10])
        more = int(alone.sum()) - min(int(alone.sum()), 10)
        raise InputError(
            f"set covering (lscp) is infeasible: no candidate site reaches zones {shown}"
            + (f" and {more} more" if more else "")
            + ": widen the radius, add candidate sites near them, or drop those zones "
            "(kind='mclp' covers what it can instead)"
        )


def location_problem(
    kind: Family,
    distance: np.ndarray,
    *,
    weight: np.ndarray | None = None,
    radius: float | None = None,
    p: int | None = None,
    budget: float | None = None,
    fixed_cost: np.ndarray | None = None,
    capacity: np.ndarray | None = None,
    single_source: bool | None = None,
    zone_ids: np.ndarray | None = None,
    site_ids: np.ndarray | None = None,
) -> FacilityProblem:
    """A classic location problem from a dense ``(Z, S)`` distance matrix (module docstring).

    Parameters
    ----------
    kind
        ``"pmedian"``, ``"pcenter"``, ``"lscp"`` or ``"mclp"``.
    distance
        ``(Z, S)`` distances :math:`d_{ij}`, finite and >= 0.
    weight
        ``(Z,)`` zone weights :math:`w_i` (default 1). ``lscp`` covers every zone whatever
        its weight.
    radius
        Service radius: pairs with ``distance <= radius`` (needed by ``lscp`` and ``mclp``;
        optional for ``pmedian`` and ``pcenter``: default all pairs).
    p
        Most sites to open (needed by ``pmedian`` and ``pcenter``; ``mclp`` needs ``p`` or
        ``budget``).
    budget, fixed_cost
        ``mclp``/``lscp``: capex limit and ``(S,)`` cost per site (default 1 per site).
    capacity
        ``(S,)`` site capacities in weight units (``pmedian``: the capacitated p-median).
    single_source
        One site per zone (default: True with capacities, else False, where the optimum
        assigns each zone to one site anyway).
    zone_ids, site_ids
        Labels (default positions).

    Raises
    ------
    InputError
        For a parameter the family needs and lacks, bad shapes or values, and (``lscp``) zones
        no site covers (:func:`check_coverable`).
    """
    distance = np.asarray(distance, dtype=float)
    if distance.ndim != 2 or not np.all(np.isfinite(distance)) or np.any(distance < 0):
        raise InputError("location_problem: distance must be a (zones, sites) array, finite, >= 0")
    z, s = distance.shape
    w = np.ones(z) if weight is None else np.asarray(weight, dtype=float)
    _check_family(kind, w, z, radius, p, budget)
    demand = np.ones(z) if kind == "lscp" else w
    within = np.ones_like(distance, bool) if radius is None else distance <= radius
    pair_zone, pair_site = np.nonzero(within)
    covering = kind in ("lscp", "mclp")
    pair_cost = (
        np.zeros(len(pair_zone)) if covering else demand[pair_zone] * distance[within]
    )  # total basis: serving all of zone i from j costs w_i d_ij
    fixed = np.asarray(
        fixed_cost if fixed_cost is not None else np.ones(s) if covering else np.zeros(s), float
    )
    cap = np.full(s, np.inf) if capacity is None else np.asarray(capacity, dtype=float)
    problem = FacilityProblem(
        zone_ids=np.arange(z) if zone_ids is None else np.asarray(zone_ids),
        site_ids=np.arange(s) if site_ids is None else np.asarray(site_ids),
        types=("demand",),
        demand=demand[:, None],
        pair_zone=pair_zone,
        pair_site=pair_site,
        pair_cost=pair_cost[:, None],
        distance_km=distance[within],
        fixed_cost=fixed,
        site_capacity=cap,
        charger_capacity=None,
        charger_cost=np.zeros((s, 1)),
        max_chargers=np.zeros((s, 1)),
        unmet_penalty=np.zeros(1),  # only zones out of every site's reach stay unmet
        objective=_OBJECTIVE[kind],
        budget=budget,
        max_sites=p,
        hard_demand=kind != "mclp",
        single_source=bool(capacity is not None if single_source is None else single_source),
    )
    if kind == "lscp":
        check_coverable(problem)
    return problem


def _check_family(
    kind: str, w: np.ndarray, z: int, radius: float | None, p: int | None, budget: float | None
) -> None:
    """The parameters each family needs (:func:`location_problem`)."""
    if kind not in FAMILIES:
        raise InputError(f"kind must be one of {', '.join(FAMILIES)}, not {kind!r}")
    if w.shape != (z,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InputError(f"weight must hold {z} finite values >= 0, one per demand zone")
    if kind in ("lscp", "mclp") and radius is None:
        raise InputError(f"kind={kind!r} needs radius= (a site covers zones within it)")
    if kind in ("pmedian", "pcenter") and p is None:
        raise InputError(f"kind={kind!r} needs p= (the number of sites to open)")
    if kind == "mclp" and p is None and budget is None:
        raise InputError("kind='mclp' needs p= or budget= (else every site opens)")
    if p is not None and p < 1:
        raise InputError(f"p must be at least 1, not {p}")
