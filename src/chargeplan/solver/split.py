"""Splitting a facility-location problem into independent regions, and merging their plans.

:func:`split_components` cuts the reach graph into its connected components (optionally after
cutting the pairs across region borders), :func:`bundle` packs small components into tasks,
:func:`subproblem` slices a region's own instance out of the national arrays and :func:`merge`
puts the regions' solutions back together. The method, and why it is exact, is in
:mod:`chargeplan.solver.decompose`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from chargeplan.errors import InputError
from chargeplan.model.problem import SITE_FIELDS, FacilityProblem
from chargeplan.model.solution import Solution

if TYPE_CHECKING:
    pass


#: Pack components into tasks of up to this many zone-site pairs (the largest go alone).
DEFAULT_BUNDLE_PAIRS = 20_000

# Every field of FacilityProblem, by the axis it runs along (chargeplan.model.problem.SITE_FIELDS
# for the sites; a new field must be added to one of the lists:
# tests/test_decompose.py checks that the lists cover the dataclass).
ZONE_FIELDS = ("zone_ids", "demand", "target_group")
PAIR_FIELDS = ("pair_zone", "pair_site", "pair_cost", "distance_km")
SHARED_FIELDS = (
    "types",
    "charger_capacity",
    "unmet_penalty",
    "objective",
    "pair_links",
    "queue_levels",
    "charger_power_kw",
    "hard_demand",
    "session_kwh",
    "session_hours",
    "design_names",
    "design_stalls",
    "design_kva",
    "design_capex",
    # coverage targets hold per region in a decomposed plan (stricter than one national row)
    "target_names",
    "target_share",
    "target_price",
)
COUPLING_FIELDS = ("budget", "max_sites")


@dataclass(frozen=True)
class Region:
    """A piece of the national problem: positions of its zones, sites and pairs.

    Attributes
    ----------
    zones, sites, pairs
        Sorted positions in the national problem's zone, site and pair arrays; every pair's
        zone and site are in the region.
    components
        Independent components it bundles.
    """

    zones: np.ndarray
    sites: np.ndarray
    pairs: np.ndarray
    components: int = 1

    @property
    def size(self) -> int:
        """Pairs plus sites: the measure tasks are packed by."""
        return len(self.pairs) + len(self.sites)


def _groups(labels: np.ndarray, members: np.ndarray) -> dict[int, np.ndarray]:
    """Positions ``members`` grouped by ``labels[members]`` (sorted within each group)."""
    if members.size == 0:
        return {}
    keys = labels[members]
    order = np.lexsort((members, keys))
    keys, members = keys[order], members[order]
    cuts = np.flatnonzero(np.diff(keys)) + 1
    return {
        int(k[0]): m for k, m in zip(np.split(keys, cuts), np.split(members, cuts), strict=True)
    }


def split_components(
    problem: FacilityProblem,
    *,
    zone_region: np.ndarray | None = None,
    site_region: np.ndarray | None = None,
) -> list[Region]:
    """The connected components of the reach graph, each an independent model.

    Parameters
    ----------
    problem
        The national instance.
    zone_region, site_region
        Optional region labels (``(Z,)`` and ``(S,)``): pairs whose zone and site lie in
        different regions are cut first (the boundary rule of the module docstring).

    Returns
    -------
    list[Region]
        One per component holding a zone with demand in reach of a site, or a site that must
        open (required, or holding chargers); largest first. Zones with demand and no pair are
        in none of them.
    """
    z, s = len(problem.zone_ids), len(problem.site_ids)
    kept = problem.live_pairs
    if (zone_region is None) != (site_region is None):
        raise InputError("give both zone_region and site_region, or neither")
    if zone_region is not None:
        kept &= (
            np.asarray(zone_region)[problem.pair_zone] == np.asarray(site_region)[problem.pair_site]
        )
    pairs = np.flatnonzero(kept)
    pz, ps = problem.pair_zone[pairs], problem.pair_site[pairs]
    graph = coo_matrix((np.ones(len(pairs)), (pz, z + ps)), shape=(z + s, z + s))
    _, label = connected_components(graph, directed=False)
    zones_in = np.unique(pz)
    sites_in = np.union1d(ps, np.flatnonzero(problem.must_open & ~problem.excluded))
    by_zone = _groups(label, zones_in)
    by_site = _groups(label, z + sites_in)
    by_pair = _groups(label[pz], np.arange(len(pairs)))
    empty = np.empty(0, np.int64)
    regions = [
        Region(
            zones=by_zone.get(key, empty),
            sites=members - z,
            pairs=pairs[by_pair[key]] if key in by_pair else empty,
        )
        for key, members in by_site.items()
    ]
    regions.sort(key=lambda r: (-r.size, int(r.sites[0])))
    return regions


def bundle(regions: list[Region], max_pairs: int = DEFAULT_BUNDLE_PAIRS) -> list[Region]:
    """Pack regions into tasks of at most ``max_pairs`` (pairs + sites); largest first.

    Regions larger than ``max_pairs`` stay alone; the others fill tasks in decreasing size
    (next fit), so the number of tasks is about ``total / max_pairs`` plus the large ones.
    """
    ordered = sorted(regions, key=lambda r: -r.size)
    groups: list[list[Region]] = []
    room = 0
    for region in ordered:
        if not groups or region.size > room:
            groups.append([region])
            room = max_pairs - region.size
        else:
            groups[-1].append(region)
            room -= region.size
    out = [
        Region(
            zones=np.sort(np.concatenate([r.zones for r in group])),
            sites=np.sort(np.concatenate([r.sites for r in group])),
            pairs=np.sort(np.concatenate([r.pairs for r in group])),
            components=sum(r.components for r in group),
        )
        for group in groups
    ]
    out.sort(key=lambda r: -r.size)
    return out


def subproblem(problem: FacilityProblem, region: Region) -> FacilityProblem:
    """The region's own instance: every zone-, site- and pair-axis array sliced consistently.

    Type-axis data are shared; the budget and site limit are dropped (they couple regions:
    see :func:`solve_decomposed`).
    """
    zone_pos = np.full(len(problem.zone_ids), -1, np.int64)
    zone_pos[region.zones] = np.arange(len(region.zones))
    site_pos = np.full(len(problem.site_ids), -1, np.int64)
    site_pos[region.sites] = np.arange(len(region.sites))
    values: dict[str, Any] = {name: getattr(problem, name) for name in SHARED_FIELDS}
    values.update({name: getattr(problem, name)[region.zones] for name in ZONE_FIELDS})
    values.update({name: getattr(problem, name)[region.sites] for name in SITE_FIELDS})
    values["pair_zone"] = zone_pos[problem.pair_zone[region.pairs]]
    values["pair_site"] = site_pos[problem.pair_site[region.pairs]]
    values["pair_cost"] = problem.pair_cost[region.pairs]
    values["distance_km"] = problem.distance_km[region.pairs]
    if len(region.pairs) and (values["pair_zone"].min() < 0 or values["pair_site"].min() < 0):
        raise InputError("region pairs must have their zone and site inside the region")
    return FacilityProblem(**values, budget=None, max_sites=None)


def _unreached_penalty(problem: FacilityProblem, regions: list[Region]) -> float:
    """Penalty of the demand of zones in no region (they are unmet)."""
    covered = np.zeros(len(problem.zone_ids), bool)
    for region in regions:
        covered[region.zones] = True
    return float((problem.demand[~covered] * problem.unmet_penalty).sum())


def merge(problem: FacilityProblem, regions: list[Region], solutions: list[Solution]) -> Solution:
    """Put the regions' solutions back together as one national :class:`Solution`.

    Zones in no region are unmet; sites in none stay closed. Objective and bound are the sums
    of the regions' plus the penalty of the unmet zones in no region; status is the worst.
    """
    s, k = len(problem.site_ids), len(problem.types)
    open_site = np.zeros(s, bool)
    chargers = np.zeros((s, k), np.int64)
    served = np.zeros((len(problem.pair_zone), k))
    unmet = (problem.demand > 0).astype(float)
    upgrade = np.zeros(s, bool)
    for region, solution in zip(regions, solutions, strict=True):
        open_site[region.sites] = solution.open_site
        chargers[region.sites] = solution.chargers
        served[region.pairs] = solution.served
        unmet[region.zones] = solution.unmet
        upgrade[region.sites] = solution.grid_upgrade
    penalty = _unreached_penalty(problem, regions)
    objective = sum(sol.objective for sol in solutions) + penalty
    bound = sum(sol.bound for sol in solutions) + penalty
    worst = max(solutions, key=lambda sol: sol.status != "optimal", default=None)
    return Solution(
        open_site=open_site,
        chargers=chargers,
        served=served,
        unmet=unmet,
        grid_upgrade=upgrade,
        status="optimal" if worst is None else worst.status,
        objective=objective,
        bound=bound,
        gap=abs(objective - bound) / max(abs(objective), 1e-9),
        build_seconds=sum(sol.build_seconds for sol in solutions),
        solve_seconds=sum(sol.solve_seconds for sol in solutions),
    )
