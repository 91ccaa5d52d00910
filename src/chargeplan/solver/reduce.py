r"""Exact reductions: a smaller facility-location problem with the same optimum, and the way back.

:func:`reduce_problem` shrinks a :class:`~chargeplan.model.problem.FacilityProblem` before it is
built; :meth:`Reduction.expand` turns the reduced problem's solution into a solution of the original
(every zone, site and pair in place), with the same objective. :func:`chargeplan.solver.highs.solve`
does both unless ``SolverOptions(reduce=False)``. Each reduction keeps the optimum exactly:

**Zones with identical reach are merged.** Zones i and i' whose pairs go to the same sites, with
the same cost per unit of demand :math:`c_{ijk} / d_{ik}` (to 12 significant digits: the
division rounds), demand of the same types and the same coverage-target group (so that each
group's demand in reach is kept) become one zone with demand :math:`d_{ik} + d_{i'k}`. Every
constraint and the objective see a zone only through :math:`d_{ik} x_{ijk}` (capacity, cost)
and through its assignment row (and coverage targets through :math:`d_{ik} u_{ik}` summed over
the group), so a plan of the original gives one of the merged problem at the same cost (shares
averaged with the demands as weights) and a merged plan gives one of the original (both zones
take the merged shares). Without sizing and with uncapacitated sites and zero pair costs (pure
covering) that is "zones covered by the same sites", which is common; with distance-based costs
it needs equal distances and rarely applies.

**Dominated sites are dropped** (only without charger sizing, for uncapacitated sites): site j
goes when another site j' that is not excluded reaches every zone j reaches, at no higher cost
for any of them (:math:`c_{ij'k} \le c_{ijk}`), with :math:`f_{j'} \le f_j`, and j is not
required. In any plan, closing j and opening j' (if it is not open) and moving j's zones to j'
keeps every row satisfied (j' is uncapacitated; the site count does not grow; capex does not
grow, so a budget still holds) and costs no more, and covers at least as much, so an optimum
without j exists. Of sites that dominate each other (same zones, same costs) the first is kept.
Sites that nothing can use (excluded, or no pair with demand and not required) are dropped too:
they have no variables anyway.

**Single source and p-center** (:mod:`chargeplan.model.families`). Zones are not merged for
single-source problems with finite capacities or charger sizing (:func:`merge_is_exact`: the
merged zone could not split between two sites as its parts could). Everything else stays
exact: uncapacitated single source assigns whole zones, so the exchange arguments above move
whole zones; the p-center rows read a zone's per-unit costs, which merged zones share and a
dominating site does not raise.

:func:`greedy_cover` gives a starting plan for covering with a site limit or budget (the classic
greedy: open the site that covers the most uncovered demand, until the limit).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from chargeplan.model.problem import SITE_FIELDS, FacilityProblem, is_pure_covering

if TYPE_CHECKING:
    from chargeplan.model.solution import Solution

__all__ = [
    "Reduction",
    "dominated_sites",
    "greedy_cover",
    "merge_is_exact",
    "merge_zones",
    "reduce_problem",
]


@dataclass(frozen=True)
class Reduction:
    """A reduced problem and how its zones, sites and pairs map back to the original.

    Attributes
    ----------
    original, problem
        The problem as given, and the reduced one (same objective value for every plan's image).
    zone_group
        ``(Z,)`` the reduced zone of each original zone.
    kept_sites
        ``(S',)`` the original position of each reduced site.
    pair_map
        ``(P,)`` the reduced pair of each original pair (``-1``: its site was dropped).
    """

    original: FacilityProblem
    problem: FacilityProblem
    zone_group: np.ndarray
    kept_sites: np.ndarray
    pair_map: np.ndarray

    @property
    def merged_zones(self) -> int:
        """How many zones fewer the reduced problem has."""
        return len(self.original.zone_ids) - len(self.problem.zone_ids)

    @property
    def dropped_sites(self) -> int:
        """How many sites were dropped."""
        return len(self.original.site_ids) - len(self.problem.site_ids)

    @property
    def changed(self) -> bool:
        """Whether anything was reduced."""
        return bool(self.merged_zones or self.dropped_sites)

    def expand(self, solution: Solution) -> Solution:
        """The reduced problem's solution as a solution of the original problem.

        Dropped sites stay closed; a merged zone's shares and unmet share go to each of its
        zones. Objective, bound, status and times are unchanged (the cost is the same).
        """
        s, k = len(self.original.site_ids), len(self.original.types)
        open_site = np.zeros(s, bool)
        open_site[self.kept_sites] = solution.open_site
        chargers = np.zeros((s, k), np.int64)
        chargers[self.kept_sites] = solution.chargers
        upgrade = np.zeros(s, bool)
        upgrade[self.kept_sites] = solution.grid_upgrade
        served = np.zeros((len(self.original.pair_zone), k))
        mapped = self.pair_map >= 0
        served[mapped] = solution.served[self.pair_map[mapped]]
        return dataclasses.replace(
            solution,
            open_site=open_site,
            chargers=chargers,
            grid_upgrade=upgrade,
            served=served,
            unmet=solution.unmet[self.zone_group],
        )


def reduce_problem(
    problem: FacilityProblem,
    keep_sites: np.ndarray | None = None,
    keep_zones: np.ndarray | None = None,
) -> Reduction:
    """Drop dominated and unusable sites, then merge zones with identical reach.

    Parameters
    ----------
    problem
        The instance.
    keep_sites, keep_zones
        ``(S,)`` and ``(Z,)`` bool: sites neither dropped nor used to drop another, zones not
        merged (default none). A constraint added to the model on these sites' or zones'
        variables then holds unchanged in the reduced problem (:func:`chargeplan.solve` with
        ``extend=``).

    Returns
    -------
    Reduction
        The reduced problem (the original itself when nothing applies) and the maps back.
    """
    if not merge_is_exact(problem):
        keep_zones = np.ones(len(problem.zone_ids), bool)
    drop = dominated_sites(problem, keep_sites)
    kept = np.flatnonzero(~drop)
    new_site = np.full(len(problem.site_ids), -1)
    new_site[kept] = np.arange(kept.size)
    pair_kept = ~drop[problem.pair_site]
    group = merge_zones(problem, pair_kept if kept.size < drop.size else None, keep_zones)
    n_groups = int(group.max()) + 1 if group.size else 0
    if kept.size == len(problem.site_ids) and n_groups == len(problem.zone_ids):
        identity = np.arange(len(problem.pair_zone))
        return Reduction(problem, problem, np.arange(n_groups), kept, identity)

    first = np.full(n_groups, len(problem.zone_ids))
    np.minimum.at(first, group, np.arange(len(problem.zone_ids)))
    is_first = np.zeros(len(problem.zone_ids), bool)
    is_first[first] = True
    demand = np.zeros((n_groups, len(problem.types)))
    np.add.at(demand, group, problem.demand)
    take = np.flatnonzero(pair_kept & is_first[problem.pair_zone])
    pair_zone = group[problem.pair_zone[take]]
    pair_site = new_site[problem.pair_site[take]]
    alone = (np.bincount(group, minlength=n_groups) == 1)[pair_zone]  # costs kept to the bit
    pair_cost = np.where(
        alone[:, None], problem.pair_cost[take], _unit_cost(problem)[take] * demand[pair_zone]
    )

    keys = pair_zone * max(kept.size, 1) + pair_site
    order = np.argsort(keys)
    wanted = group[problem.pair_zone] * max(kept.size, 1) + new_site[problem.pair_site]
    found = order[np.searchsorted(keys[order], wanted[pair_kept])]
    pair_map = np.full(len(problem.pair_zone), -1)
    pair_map[pair_kept] = found

    reduced = dataclasses.replace(
        problem,
        zone_ids=problem.zone_ids[first],
        demand=demand,
        target_group=problem.target_group[first],
        pair_zone=pair_zone,
        pair_site=pair_site,
        pair_cost=pair_cost,
        distance_km=problem.distance_km[take],
        **{name: getattr(problem, name)[kept] for name in SITE_FIELDS},
    )
    return Reduction(problem, reduced, group, kept, pair_map)


def merge_is_exact(problem: FacilityProblem) -> bool:
    """Whether merging zones keeps the optimum: always, except single source with a limit.

    Single source (binary shares) with finite site capacities or charger sizing: two zones
    that may split between two sites cannot, merged, and the optimum can rise (capacitated
    p-median, single-source CFLP). Uncapacitated, each zone takes its cheapest open site
    whole, the same for zones of identical reach, so merging stays exact.
    """
    limited = problem.sizing or not bool(np.all(np.isinf(problem.site_capacity)))
    return not (problem.single_source and limited)


def _unit_cost(problem: FacilityProblem) -> np.ndarray:
    """``(P, K)`` pair cost per unit of the zone's demand (0 where the zone has none)."""
    d = problem.demand[problem.pair_zone]
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = np.where(d > 0, problem.pair_cost / d, 0.0)
    return unit + 0.0  # -0.0 -> 0.0, so equal costs have equal bits


def dominated_sites(
    problem: FacilityProblem, keep: np.ndarray | None = None, *, screen: bool = True
) -> np.ndarray:
    """``(S,)`` bool: sites an optimal plan can do without (see the module docstring).

    Unusable sites (excluded, or no live pair and not required) always; dominated sites only
    without charger sizing, for uncapacitated sites. ``keep``: ``(S,)`` bool, sites that are
    neither dropped nor dominate another (the exchange argument touches both). ``screen``:
    first rule out, zone by zone, the sites no other site can dominate
    (:func:`_may_be_dominated`: exact, it never rules out a site the pairwise test would drop;
    ``False`` skips it, for the tests that check this), then compare only the sites left with
    every other site.
    """
    s = len(problem.site_ids)
    live = problem.live_pairs
    every = bool(live.all())  # (the usual case: no pair to leave out, no copies to make)
    used = np.zeros(s, bool)
    used[problem.pair_site if every else problem.pair_site[live]] = True
    must_open = problem.must_open
    drop = (problem.excluded | ~used) & ~must_open
    if keep is not None:
        drop &= ~keep
    if problem.sizing or not live.any():
        return drop

    free = np.isinf(problem.site_capacity)
    if keep is not None:
        free &= ~keep
    candidate = free & ~must_open & ~drop
    if not candidate.any():  # no site may be dominated (e.g. all capacitated): done
        return drop
    zone, site, cost = problem.pair_zone, problem.pair_site, problem.pair_cost
    if not every:
        zone, site, cost = zone[live], site[live], cost[live]
    dominator = free & ~drop
    if screen:
        candidate &= _may_be_dominated(problem, zone, site, cost, dominator)
        if not candidate.any():  # no site passes: none can be dominated
            return drop
    import scipy.sparse as sp  # here only: a solve with nothing to compare needs no SciPy

    z = len(problem.zone_ids)
    reach = sp.csr_matrix((np.ones(zone.size), (site, zone)), shape=(s, z))  # site x zone
    size = np.diff(reach.indptr)
    rows = np.flatnonzero(candidate)  # only candidates can be dominated: their rows alone
    overlap = (reach[rows] @ reach.T).tocoo()
    j, jj = rows[overlap.row], overlap.col
    ok = (
        (overlap.data == size[j])
        & (j != jj)
        & candidate[j]
        & dominator[jj]
        & (problem.fixed_cost[jj] <= problem.fixed_cost[j])
    )
    j, jj = j[ok], jj[ok]
    if j.size:
        # every zone i of j: c_ij'k <= c_ijk for each type with demand
        counts = size[j]
        which = np.repeat(np.arange(j.size), counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        zones = reach.indices[np.repeat(reach.indptr[j], counts) + within]
        key = site.astype(np.int64) * z + zone
        order = np.argsort(key)
        sorted_key = key[order]
        mine = order[np.searchsorted(sorted_key, j[which].astype(np.int64) * z + zones)]
        theirs = order[np.searchsorted(sorted_key, jj[which].astype(np.int64) * z + zones)]
        has = problem.demand[zone[mine]] > 0
        worse = ((cost[theirs] > cost[mine]) & has).any(axis=1)
        ok = np.bincount(which, weights=worse, minlength=j.size) == 0
        j, jj = j[ok], jj[ok]
    # Drop j if some j' dominates it strictly, or mutually with a smaller position.
    pair_key = j.astype(np.int64) * s + jj
    mutual = np.isin(jj.astype(np.int64) * s + j, pair_key)
    beaten = ~mutual | (jj < j)
    drop[j[beaten]] = True
    return drop


def _may_be_dominated(
    problem: FacilityProblem,
    zone: np.ndarray,
    site: np.ndarray,
    cost: np.ndarray,
    dominator: np.ndarray,
) -> np.ndarray:
    r"""``(S,)`` bool: sites that pass a necessary condition for being dominated.

    If site :math:`j'` dominates :math:`j`, then at every zone :math:`i` that :math:`j` reaches
    (a live pair) and every type :math:`k` with demand there, :math:`j'` reaches :math:`i` with
    :math:`c_{ij'k} \le c_{ijk}`; so the cheapest pair at :math:`(i, k)` among the dominating
    sites other than :math:`j` costs at most :math:`c_{ijk}`. That cheapest pair is the zone's
    cheapest dominator pair, or its second cheapest where :math:`j` holds the cheapest (ties
    give both the same cost). A site failing this at any of its pairs can be dominated by no
    site: the pairwise test would not drop it. That is: site :math:`j` fails at :math:`(i, k)`
    when its pair is the only dominator pair at zone :math:`i`'s least cost
    :math:`b_{ik} = \min_{j'} c_{ij'k}` (over dominator pairs). Per type one
    ``np.minimum.at`` over the pairs for :math:`b`, one ``np.bincount`` for the number of
    pairs at it, no sort (a ``lexsort`` per type before: 0.16 against 0.06 ms on cap71 as
    UFLP, docs/scale.md "The fixed cost") and no pairwise comparison; on the OR-Library files
    as UFLP (cap41, cap71, cap131) it leaves no site, so the pairwise test and SciPy are
    skipped. ``zone``, ``site``, ``cost``: the live pairs;
    costs are finite (:class:`FacilityProblem` checks), so every comparison is an ordinary one.
    """
    s, z = len(problem.site_ids), len(problem.zone_ids)
    theirs = dominator[site]  # the pairs of sites that may dominate
    every = bool(theirs.all())
    fails = np.zeros(zone.size, bool)
    for k in range(cost.shape[1]):  # types: a handful
        price = cost[:, k] if every else np.where(theirs, cost[:, k], np.inf)
        best = np.full(z, np.inf)
        np.minimum.at(best, zone, price)
        at_best = price == best[zone] if every else theirs & (price == best[zone])
        alone = np.bincount(zone[at_best], minlength=z) == 1  # one dominator pair at the best
        fails |= at_best & alone[zone] & (problem.demand[zone, k] > 0)
    may = np.ones(s, bool)
    may[site[fails]] = False
    return may


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a well-spread 64-bit hash of each value."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _rounded(unit: np.ndarray) -> np.ndarray:
    """Unit costs to 40 of 52 mantissa bits (12 significant digits), ``-0.0`` as ``0.0``: the
    precision at which :func:`merge_zones` compares them (``c / d`` of equal unit costs can
    differ in the last bits). Monotone: ``a <= b`` gives ``_rounded(a) <= _rounded(b)``."""
    mantissa, exponent = np.frexp(unit)
    return np.ldexp(np.round(mantissa * 2.0**40) / 2.0**40, exponent) + 0.0


def _cheapest_differ(problem: FacilityProblem, pair_kept: np.ndarray | None) -> bool:
    r"""Whether every two zones differ in their least rounded unit cost of the first type.

    Zones merged by :func:`merge_zones` have the same sites at the same rounded unit costs, so
    the same least one: :math:`\min_j r(c_{ij0} / d_{i0})` over the kept pairs, with
    :math:`r` = :func:`_rounded`, which is monotone, so that it is :math:`r` of the least
    unrounded unit cost (one ``np.minimum.at`` over the pairs, then :math:`r` of one value per
    zone). When these all differ no group can form. A screen in :math:`O(P)` without the
    sort and hashes of :func:`merge_zones` (on cap71 as UFLP, where every zone reaches every
    site: 0.15 against 0.07 ms, docs/scale.md "The fixed cost"); ties (zones without demand
    of the first type, or without pairs, or alike) leave the decision to the full test.
    """
    if not problem.pair_cost.shape[1]:
        return False
    zone, cost = problem.pair_zone, problem.pair_cost[:, 0]
    if pair_kept is not None:
        zone, cost = zone[pair_kept], cost[pair_kept]
    d = problem.demand[zone, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = np.where(d > 0, cost / d, 0.0)  # as _unit_cost
    least = np.full(len(problem.zone_ids), np.inf)
    np.minimum.at(least, zone, unit)
    least = np.sort(_rounded(least))
    return bool(np.all(least[1:] != least[:-1]))


def merge_zones(
    problem: FacilityProblem,
    pair_kept: np.ndarray | None = None,
    keep_zones: np.ndarray | None = None,
) -> np.ndarray:
    """``(Z,)`` group of each zone: zones in one group have identical reach (module docstring).

    Zones are grouped by a 64-bit hash of their (site, unit costs) pairs and demand pattern,
    then every zone is compared with its group's first zone pair by pair; a zone that differs
    (a hash collision) gets a group of its own, so grouping never merges distinct zones.
    ``pair_kept``: the pairs to consider (default all); ``keep_zones``: ``(Z,)`` bool, zones
    that each stay a group of their own.
    """
    z = len(problem.zone_ids)
    if z < 2 or _cheapest_differ(problem, pair_kept):  # no two zones alike: no group forms
        return np.arange(z)
    if pair_kept is None:
        pair_kept = np.ones(len(problem.pair_zone), bool)
    keep = np.flatnonzero(pair_kept)
    order = keep[np.lexsort((problem.pair_site[keep], problem.pair_zone[keep]))]
    zone, site = problem.pair_zone[order], problem.pair_site[order]
    # c / d of equal unit costs can differ in the last bits: compare to 40 of 52 mantissa bits
    # (12 significant digits), far below any cost's precision
    unit = _rounded(_unit_cost(problem)[order])
    with np.errstate(over="ignore"):
        h = _mix(site.astype(np.uint64) + np.uint64(1))
        for column in np.ascontiguousarray(unit).view(np.uint64).T:
            h = _mix(h ^ column)
        zone_hash = np.zeros(z, np.uint64)
        np.add.at(zone_hash, zone, h)
    if z < 2 or np.all(np.diff(np.sort(zone_hash)) != 0):  # distinct reach everywhere: done
        return np.arange(z)  # (distinct hashes, distinct signatures: every group a single zone)
    count = np.bincount(zone, minlength=z)
    pattern = ((problem.demand > 0) * (1 << np.arange(problem.demand.shape[1]))).sum(axis=1)
    # zones of different coverage-target groups never merge: each group's demand stays its own
    signature = np.column_stack([zone_hash.view(np.int64), count, pattern, problem.target_group])
    _, group = np.unique(signature, axis=0, return_inverse=True)
    group = group.ravel()

    # verify against each group's first zone; split off zones that differ
    first = np.full(group.max() + 1 if z else 0, z)
    np.minimum.at(first, group, np.arange(z))
    start = np.concatenate([[0], np.cumsum(count)])
    offset = np.arange(zone.size) - start[zone]
    twin = start[first[group[zone]]] + offset
    differs = (site != site[twin]) | (unit != unit[twin]).any(axis=1)
    # a mask, not np.unique / np.union1d: those import numpy.ma (30 ms of a cold start)
    odd_zone = np.zeros(z, bool)
    odd_zone[zone[differs]] = True
    if keep_zones is not None:
        odd_zone |= keep_zones
    odd = np.flatnonzero(odd_zone)
    if odd.size:
        group = group.copy()
        group[odd] = group.max() + 1 + np.arange(odd.size)
    # number the groups 0, 1, ... in the order of their first zone
    _, first_zone, group = np.unique(group, return_index=True, return_inverse=True)
    rank = np.empty(first_zone.size, np.int64)
    rank[np.argsort(first_zone)] = np.arange(first_zone.size)
    return rank[group.ravel()]


def greedy_cover(problem: FacilityProblem) -> np.ndarray | None:
    """``(S,)`` bool: a greedy covering plan within the site limit and budget, or ``None``.

    Only for pure covering (:func:`chargeplan.model.problem.is_pure_covering`) with a site limit or
    budget: starting from the sites that must open, repeatedly open the affordable site that
    covers the most uncovered demand. A good starting solution for the solver, not an optimum.
    """
    if not is_pure_covering(problem) or (problem.max_sites is None and problem.budget is None):
        return None
    import scipy.sparse as sp

    s, z = len(problem.site_ids), len(problem.zone_ids)
    live = problem.live_pairs
    reach = sp.csr_matrix(
        (np.ones(int(live.sum())), (problem.pair_site[live], problem.pair_zone[live])),
        shape=(s, z),
    )
    weight = problem.demand.sum(axis=1)
    chosen = problem.must_open.copy()
    covered = reach.T @ chosen.astype(float) > 0
    limit = s if problem.max_sites is None else problem.max_sites
    left = np.inf if problem.budget is None else problem.budget - problem.fixed_cost @ chosen
    while chosen.sum() < min(limit, s):  # (no site left after the reductions: no loop)
        gain = reach @ (weight * ~covered)
        gain[chosen | problem.excluded | (problem.fixed_cost > left)] = -1.0
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        chosen[best] = True
        left -= problem.fixed_cost[best]
        covered[reach.indices[reach.indptr[best] : reach.indptr[best + 1]]] = True
    return chosen
