"""The classic location families from GeoDataFrames: ``chargeplan.from_geodataframe``.

The door in for analysts who have demand points and candidate sites as GeoDataFrames and want
a p-median, p-center, set covering (LSCP) or maximal covering (MCLP) plan, as in PySAL spopt's
``from_geodataframe``: distances are Euclidean between the geometries (centroids for lines and
polygons) in the frames' projected CRS, the problem is
:func:`chargeplan.model.families.location_problem` and the solve :func:`chargeplan.solve`
(exact: MIP gap 0 unless ``options`` say otherwise).

The plan carries spopt's figures (``spopt.locate``'s ``mean_dist``, ``n_cli_uncov`` and
``perc_cov``) and their weighted versions:

- ``mean_distance``: :math:`\\sum_i w_i d_{i,a(i)} / \\sum_i w_i` over the zones assigned a site
  (:math:`a(i)`; shares weighted when a zone is split). For a p-median, where every zone is
  assigned, this is spopt's ``PMedian.mean_dist`` (objective / sum of weights);
- ``uncovered``: zones with no open site within ``radius`` (spopt's ``n_cli_uncov``; without a
  radius, zones with no site assigned), ``uncovered_share`` its share of all zones
  (spopt's ``perc_cov`` is ``100 * (1 - uncovered_share)``, kept as ``covered_percent``);
- ``uncovered_weight`` and ``uncovered_weight_share``: the same weighted by :math:`w_i`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from chargeplan.errors import InputError
from chargeplan.model.families import Family, location_problem

if TYPE_CHECKING:
    import geopandas as gpd

    from chargeplan.model.problem import FacilityProblem
    from chargeplan.model.solution import Solution
    from chargeplan.solver.options import SolverOptions

__all__ = ["LocationPlan", "from_geodataframe", "location_figures"]


@dataclass(frozen=True)
class LocationPlan:
    """A classic location plan, joined back onto the frames it came from.

    Attributes
    ----------
    demand
        The demand frame with ``site`` (id of the assigned facility, missing: none),
        ``distance`` (to it, CRS units; NaN: none) and ``covered`` (an open facility within the
        radius; without a radius: a site assigned).
    facilities
        The facilities frame with ``open``, ``zones_served`` and ``weight_served``.
    summary
        ``kind``, ``status``, ``objective`` (the solver's: ``mclp`` the uncovered weight,
        ``lscp`` the sites' cost, ``pmedian`` the weighted distance, ``pcenter`` the largest
        distance), ``open_sites``, ``mean_distance``, ``max_distance``, ``uncovered``,
        ``uncovered_share``, ``covered_percent``, ``covered_weight``, ``uncovered_weight``,
        ``uncovered_weight_share`` (module docstring).
    problem, solution
        What was solved and what HiGHS returned.
    """

    demand: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    summary: dict[str, Any]
    problem: FacilityProblem
    solution: Solution


def from_geodataframe(
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    kind: Family = "mclp",
    radius: float | None = None,
    p: int | None = None,
    weight: str | None = None,
    budget: float | None = None,
    fixed_cost: str | None = None,
    capacity: str | None = None,
    options: SolverOptions | None = None,
) -> LocationPlan:
    """Plan a p-median, p-center, set covering or maximal covering problem from GeoDataFrames.

    Parameters
    ----------
    demand, facilities
        Demand zones and candidate sites, in the same projected CRS (distances are in its
        units); their index gives the ids.
    kind
        ``"mclp"`` (most weight within ``radius`` of ``p`` sites or a ``budget``), ``"lscp"``
        (fewest sites, or least ``fixed_cost``, covering every zone within ``radius``),
        ``"pmedian"`` (least weighted distance with ``p`` sites) or ``"pcenter"`` (least
        largest distance with ``p`` sites).
    radius
        Service radius in CRS units (``mclp``, ``lscp``; optional for the others: pairs farther
        apart are not allowed).
    p
        Number of sites to open (at most ``p``: :mod:`chargeplan.model.families`).
    weight
        Column of ``demand`` with the zones' weights (default 1 each).
    budget, fixed_cost
        Capex limit and the column of ``facilities`` with each site's cost (``mclp``, ``lscp``).
    capacity
        Column of ``facilities`` with capacities in weight units (``pmedian``: the capacitated
        p-median, single source).
    options
        Solver options (default: MIP gap 0).

    Returns
    -------
    LocationPlan

    Raises
    ------
    InputError
        For frames without geometry or CRS, a geographic or differing CRS, missing columns,
        parameters the family needs, and (``lscp``) zones no site covers, named.
    """
    from chargeplan.solver.highs import solve
    from chargeplan.solver.options import SolverOptions

    distance = _distances(demand, facilities)
    problem = location_problem(
        kind,
        distance,
        weight=_column(demand, weight, "demand"),
        radius=radius,
        p=p,
        budget=budget,
        fixed_cost=_column(facilities, fixed_cost, "facilities"),
        capacity=_column(facilities, capacity, "facilities"),
        zone_ids=demand.index.to_numpy(),
        site_ids=facilities.index.to_numpy(),
    )
    solution = solve(problem, options or SolverOptions(mip_rel_gap=0.0))
    w = _weights(demand, weight)  # lscp's problem counts zones, its figures weigh them
    figures, site, assigned = location_figures(problem, solution, distance, radius, w)
    zones = demand.copy()
    zones["site"] = np.where(site >= 0, facilities.index.to_numpy()[np.maximum(site, 0)], None)
    zones["distance"] = assigned
    zones["covered"] = figures.pop("covered")
    sites = facilities.copy()
    sites["open"] = solution.open_site
    sites["zones_served"] = np.bincount(site[site >= 0], minlength=len(sites))
    sites["weight_served"] = np.bincount(site[site >= 0], w[site >= 0], minlength=len(sites))
    summary = {"kind": kind, "status": solution.status, "objective": solution.objective}
    summary.update(figures)
    return LocationPlan(zones, sites, summary, problem, solution)


def location_figures(
    problem: FacilityProblem,
    solution: Solution,
    distance: np.ndarray,
    radius: float | None,
    weight: np.ndarray | None = None,
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """spopt's figures of a plan of :func:`~chargeplan.model.families.location_problem`.

    ``weight``: ``(Z,)`` zone weights (default the problem's demand). Returns the figures
    (module docstring; ``covered`` is the ``(Z,)`` bool array), each zone's main site (``-1``:
    none) and the distance to it (NaN: none).
    """
    z = len(problem.zone_ids)
    w = problem.demand[:, 0] if weight is None else np.asarray(weight, float)
    share = solution.served[:, 0]
    if np.all(np.isinf(problem.site_capacity)):
        # uncapacitated: every served zone goes whole to its nearest open site in reach (the
        # p-center's optimum is indifferent among sites within its radius W; this one is
        # still optimal and what a reader expects)
        share = _nearest_open(problem, solution, distance)
    served = np.zeros(z)
    np.add.at(served, problem.pair_zone, share)
    trip = np.zeros(z)
    np.add.at(trip, problem.pair_zone, share * distance[problem.pair_zone, problem.pair_site])
    best = np.full(z, -1)
    order = np.lexsort((-share, problem.pair_zone))  # per zone, its largest share first
    zone_sorted = problem.pair_zone[order]
    first = order[np.r_[True, zone_sorted[1:] != zone_sorted[:-1]]] if order.size else order
    first = first[share[first] > 0]
    best[problem.pair_zone[first]] = problem.pair_site[first]
    assigned = served > 1e-9
    covered: np.ndarray = assigned
    if radius is not None:
        covered = np.asarray((distance[:, solution.open_site] <= radius).any(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = float((w * trip)[assigned].sum() / (w * served)[assigned].sum())
        to_site = np.where(assigned, trip / served, np.nan)
    total = float(w.sum())
    figures: dict[str, Any] = {
        "open_sites": int(solution.open_site.sum()),
        "mean_distance": mean,
        "max_distance": float(np.nanmax(to_site)) if assigned.any() else float("nan"),
        "uncovered": int((~covered).sum()),
        "uncovered_share": float((~covered).mean()) if z else 0.0,
        "covered_percent": 100.0 * float(covered.mean()) if z else 100.0,
        "covered_weight": float(w[covered].sum()),
        "uncovered_weight": float(w[~covered].sum()),
        "uncovered_weight_share": float(w[~covered].sum() / total) if total else 0.0,
        "covered": covered,
    }
    return figures, best, to_site


def _nearest_open(problem: FacilityProblem, solution: Solution, distance: np.ndarray) -> np.ndarray:
    """``(P,)`` shares: each served zone whole to its nearest open site among its pairs."""
    served = np.zeros(len(problem.zone_ids))
    np.add.at(served, problem.pair_zone, solution.served[:, 0])
    usable = solution.open_site[problem.pair_site] & (served[problem.pair_zone] > 1e-9)
    pair = np.flatnonzero(usable)
    order = pair[
        np.lexsort(
            (distance[problem.pair_zone[pair], problem.pair_site[pair]], problem.pair_zone[pair])
        )
    ]
    zone = problem.pair_zone[order]
    first = order[np.r_[True, zone[1:] != zone[:-1]]] if order.size else order
    share = np.zeros(len(problem.pair_zone))
    share[first] = 1.0
    return share


def _distances(demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame) -> np.ndarray:
    """``(Z, S)`` Euclidean distances between the frames' points (centroids), CRS units."""
    from scipy.spatial.distance import cdist

    from chargeplan.inputs.geometry import geometry_column

    points = []
    for frame, where in ((demand, "demand"), (facilities, "facilities")):
        geometry_column(frame, where)
        if frame.crs is None:
            raise InputError(f"{where}: has no CRS: set it (gdf.set_crs(...)), then project it")
        if frame.crs.is_geographic:
            raise InputError(
                f"{where}: CRS {frame.crs.to_string()} is geographic (degrees): project both "
                "frames to a metric CRS first, e.g. gdf.to_crs(gdf.estimate_utm_crs())"
            )
        if len(frame) == 0 or frame.geometry.is_empty.any() or frame.geometry.isna().any():
            raise InputError(f"{where}: needs at least one row and no empty geometry")
        geoms = frame.geometry
        geoms = geoms if (geoms.geom_type == "Point").all() else geoms.centroid
        points.append(np.column_stack([geoms.x.to_numpy(), geoms.y.to_numpy()]))
    if demand.crs != facilities.crs:
        raise InputError(
            f"demand is in {demand.crs.to_string()} but facilities in "
            f"{facilities.crs.to_string()}: bring them to one CRS, e.g. "
            "facilities.to_crs(demand.crs)"
        )
    return cdist(points[0], points[1])


def _column(frame: gpd.GeoDataFrame, name: str | None, where: str) -> np.ndarray | None:
    """A numeric column as floats (``None`` for no column), checked."""
    if name is None:
        return None
    if name not in frame.columns:
        raise InputError(f"{where}: no column {name!r}; the columns are {list(frame.columns)}")
    values = np.asarray(frame[name], dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        rows = ", ".join(str(v) for v in frame.index[bad][:5])
        raise InputError(f"{where}: column {name!r} must be finite and >= 0 (rows {rows})")
    return values


def _weights(demand: gpd.GeoDataFrame, weight: str | None) -> np.ndarray:
    values = _column(demand, weight, "demand")
    return np.ones(len(demand)) if values is None else values
