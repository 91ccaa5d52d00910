r"""Solve a national plan as independent regions, in parallel, and merge the plans.

Without a budget or site limit, the facility-location model couples a zone only with the sites
in its reach, so it falls apart into the connected components of the *reach graph* (zones and
sites as nodes, one edge per reachable pair with demand): each component is an independent
model, and the optimum of the whole is the sum of the components' optima. Splitting is then
**exact** (:func:`split_components`). Zones in no component (nothing in reach) are unmet, as the
monolithic model leaves them.

Two refinements make national instances fit:

- **Region boundary rule** (optional, ``decompose.by = "region"``): a zone is served only by
  sites of its own region (province in the default data; a site's region is that of the zone
  it lies in, else of the nearest demand centre). Pairs across a region border are *cut* before
  the components are taken; this restricts the model, so its plan is feasible for the full
  model and its cost an upper bound on the full optimum. The number of cut pairs and the demand
  of the zones that lose a site in reach are reported.
- **Bundles**: small components are packed into tasks of up to ``max_bundle_pairs`` pairs (a
  bundle of independent components is still solved exactly), the large ones go alone, and
  tasks are dispatched largest first.

A national **budget** :math:`B` (or site limit :math:`N`) couples the regions. It is priced:
each region solves :math:`\min\; cost_r + \lambda\, capex_r` (capex costs scaled by
:math:`1 + \lambda`; for a site limit, :math:`\mu` is added to every fixed cost), and
:math:`\lambda` is found by bisection so that total capex is at most :math:`B`. The plan
returned is the cheapest plan within the budget among those found; every price also gives
the Lagrangian lower bound :math:`L(\lambda) = \sum_r \underline{z}_r(\lambda) - \lambda B \le
OPT` (with :math:`\underline{z}_r` the solver's bound of region r), and the best one is the
plan's ``bound``, so the reported gap is the true remaining duality (and MIP) gap, not a
guess. Integer steps leave a gap: capex jumps as sites open and close. Each price step is one
solve of every region.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from chargeplan.errors import InputError
from chargeplan.model.problem import SITE_FIELDS, FacilityProblem
from chargeplan.model.solution import Solution, objective_value
from chargeplan.solver.highs import solve
from chargeplan.solver.options import SolverOptions

if TYPE_CHECKING:
    pass


log = logging.getLogger(__name__)
__all__ = [
    "DEFAULT_BUNDLE_PAIRS",
    "Decomposition",
    "Region",
    "bundle",
    "merge",
    "solve_decomposed",
    "solve_region",
    "split_components",
    "subproblem",
]

#: Pack components into tasks of up to this many zone-site pairs (the largest go alone).
DEFAULT_BUNDLE_PAIRS = 20_000

Executor = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]

# Every field of FacilityProblem, by the axis it runs along (chargeplan.model.problem.SITE_FIELDS
# for the sites; a new field must be added to one of the lists:
# tests/test_decompose.py checks that the lists cover the dataclass).
ZONE_FIELDS = ("zone_ids", "demand")
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


@dataclass(frozen=True)
class Decomposition:
    """How a problem was split and, with a budget, how the price search went.

    Attributes
    ----------
    regions, components
        Tasks solved and independent components they hold.
    largest_region_pairs, largest_region_zones, largest_region_sites
        Pairs, zones and sites of the largest task (by pairs).
    cut_pairs, cut_zone_demand
        Pairs dropped by the region boundary rule, and the demand of the zones that lost at
        least one site in reach through it (0 without the rule).
    unreachable_zones
        Zones with demand and no pair (left unmet without a model).
    price, price_steps
        The capex price ``lambda`` (or site price ``mu``) of the plan returned, and one dict per
        price tried (``price``, ``usage``, ``limit``, ``cost``, ``dual_bound``).
    seconds
        Wall time of split, solves and merge.
    """

    regions: int
    components: int
    largest_region_pairs: int
    largest_region_zones: int = 0
    largest_region_sites: int = 0
    cut_pairs: int = 0
    cut_zone_demand: float = 0.0
    unreachable_zones: int = 0
    price: float | None = None
    price_steps: tuple[dict[str, float], ...] = ()
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """Figures for a plan's summary, keys prefixed ``decompose_``."""
        return {
            "decompose_regions": self.regions,
            "decompose_components": self.components,
            "decompose_largest_region_pairs": self.largest_region_pairs,
            "decompose_largest_region_zones": self.largest_region_zones,
            "decompose_largest_region_sites": self.largest_region_sites,
            "decompose_cut_pairs": self.cut_pairs,
            "decompose_cut_zone_demand_kwh": self.cut_zone_demand,
            "decompose_unreachable_zones": self.unreachable_zones,
            "decompose_price": self.price,
            "decompose_price_steps": len(self.price_steps),
            "decompose_seconds": self.seconds,
        }


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


def solve_region(task: tuple[FacilityProblem, SolverOptions]) -> Solution:
    """Solve one region (module level, so that Dask can ship it to a worker)."""
    problem, options = task
    return solve(problem, options)


def _priced(problem: FacilityProblem, price: float, resource: str) -> FacilityProblem:
    if price == 0:
        return problem
    if resource == "capex":
        scale = 1.0 + price
        return dataclasses.replace(
            problem,
            fixed_cost=problem.fixed_cost * scale,
            charger_cost=problem.charger_cost * scale,
            grid_upgrade_cost=problem.grid_upgrade_cost * scale,
        )
    return dataclasses.replace(problem, fixed_cost=problem.fixed_cost + price)


def _usage(problem: FacilityProblem, solution: Solution, resource: str) -> float:
    if resource == "capex":
        return objective_value(problem, solution)["capex"]
    return float(solution.open_site.sum())


def _progress(results: Iterable[Solution], total: int) -> Iterator[Solution]:
    step = max(total // 10, 1)
    for count, result in enumerate(results, start=1):
        if count % step == 0 or count == total:
            log.info("decompose: %d of %d regions solved", count, total)
        yield result


def solve_decomposed(
    problem: FacilityProblem,
    options: SolverOptions | None = None,
    *,
    executor: Executor | None = None,
    zone_region: np.ndarray | None = None,
    site_region: np.ndarray | None = None,
    max_bundle_pairs: int = DEFAULT_BUNDLE_PAIRS,
    price_steps: int = 8,
) -> tuple[Solution, Decomposition]:
    """Split, solve the regions (in parallel through ``executor``) and merge.

    Parameters
    ----------
    problem
        The national instance (objective ``min_cost``).
    options
        Solver options for every region (time limit and gap apply to each region).
    executor
        ``map``-like callable (default: the builtin :func:`map`, in this process); e.g.
        :func:`chargeplan.solver.distributed.dask_executor`.
    zone_region, site_region
        Region labels for the boundary rule (see :func:`split_components`).
    max_bundle_pairs
        Task size for :func:`bundle`.
    price_steps
        With a budget or site limit: bisection steps on the price after it is bracketed.

    Returns
    -------
    tuple[Solution, Decomposition]
        The merged plan (``objective`` its true cost, ``bound`` a valid lower bound for the
        split model, ``status`` ``"feasible"`` when a priced plan's gap exceeds the MIP gap)
        and how it was obtained.

    Raises
    ------
    InputError
        For ``max_coverage`` or a budget together with a site limit.
    """
    start = time.perf_counter()
    options = options or SolverOptions()
    _check_decomposable(problem)
    run = executor or map
    regions = bundle(
        split_components(problem, zone_region=zone_region, site_region=site_region),
        max_bundle_pairs,
    )
    parts = [subproblem(problem, region) for region in regions]
    info = _split_figures(problem, regions)
    region_options = dataclasses.replace(options, log_to_stderr=False)
    resource = "capex" if problem.budget is not None else "sites"
    limit = problem.budget if problem.budget is not None else problem.max_sites

    def solve_at(price: float) -> Solution:
        tasks = [(_priced(part, price, resource), region_options) for part in parts]
        return merge(problem, regions, list(_progress(run(solve_region, tasks), len(tasks))))

    plain = solve_at(0.0)
    if limit is None or _usage(problem, plain, resource) <= limit * (1 + 1e-9):
        return plain, Decomposition(**info, seconds=time.perf_counter() - start)
    search = _PriceSearch(problem, resource, float(limit), solve_at, plain)
    cost, price, plan = search.run(price_steps)
    gap = max(cost - search.dual, 0.0) / max(abs(cost), 1e-9)
    status = plan.status if gap <= options.mip_rel_gap * (1 + 1e-6) else "feasible"
    solution = dataclasses.replace(plan, objective=cost, bound=search.dual, gap=gap, status=status)
    decomposition = Decomposition(
        **info, price=price, price_steps=tuple(search.steps), seconds=time.perf_counter() - start
    )
    return solution, decomposition


def _check_decomposable(problem: FacilityProblem) -> None:
    """Refuse what the price search cannot handle, and contradictory hard limits."""
    from chargeplan.model.feasibility import check_feasibility

    if problem.objective != "min_cost":
        raise InputError(
            "a decomposed plan supports objective 'min_cost' (with or without a budget) only: "
            "set decompose.by = 'none' for max_coverage"
        )
    if problem.budget is not None and problem.max_sites is not None:
        raise InputError(
            "a decomposed plan can price a budget or a site limit, not both: drop one of "
            "model.budget_cny and model.max_sites, or set decompose.by = 'none'"
        )
    check_feasibility(problem)


def _split_figures(problem: FacilityProblem, regions: list[Region]) -> dict[str, Any]:
    """How the split went: tasks, components, the largest task, pairs cut by the region rule."""
    empty = np.empty(0, np.int64)
    largest = max(regions, key=lambda r: len(r.pairs), default=Region(empty, empty, empty))
    live = problem.live_pairs
    in_region = np.zeros(len(problem.pair_zone), bool)
    for region in regions:
        in_region[region.pairs] = True
    cut = live & ~in_region
    lost = np.zeros(len(problem.zone_ids), bool)
    lost[problem.pair_zone[cut]] = True
    has_pair = np.zeros(len(problem.zone_ids), bool)
    has_pair[problem.pair_zone[live]] = True
    info: dict[str, Any] = {
        "regions": len(regions),
        "components": sum(r.components for r in regions),
        "largest_region_pairs": len(largest.pairs),
        "largest_region_zones": len(largest.zones),
        "largest_region_sites": len(largest.sites),
        "cut_pairs": int(cut.sum()),
        "cut_zone_demand": float(problem.demand[lost].sum()),
        "unreachable_zones": int(((problem.demand.sum(axis=1) > 0) & ~has_pair).sum()),
    }
    log.info(
        "decompose: %d tasks holding %d independent components (largest %d pairs); %d pairs cut "
        "by the region rule",
        info["regions"],
        info["components"],
        info["largest_region_pairs"],
        info["cut_pairs"],
    )
    return info


class _PriceSearch:
    """Bisection on the price of the coupling resource (capex or sites), keeping the cheapest
    plan within the limit and the best Lagrangian bound ``sum_r z_r(price) - price * limit``."""

    def __init__(
        self,
        problem: FacilityProblem,
        resource: str,
        limit: float,
        solve_at: Callable[[float], Solution],
        plain: Solution,
    ) -> None:
        self.problem, self.resource, self.limit = problem, resource, limit
        self.solve_at, self.plain = solve_at, plain
        self.steps: list[dict[str, float]] = []
        self.best: tuple[float, float, Solution] | None = None  # (cost, price, plan)
        self.dual = plain.bound

    def evaluate(self, price: float) -> float:
        """Plan at ``price``; record it; return its use of the resource."""
        priced = self.plain if price == 0 else self.solve_at(price)
        usage = _usage(self.problem, priced, self.resource)
        cost = objective_value(self.problem, priced)["total_cost"]
        self.dual = max(self.dual, priced.bound - price * self.limit)
        self.steps.append(
            {"price": price, "usage": usage, "limit": self.limit, "cost": cost, "dual": self.dual}
        )
        log.info(
            "decompose: price %.4g -> %s %.4g of %.4g, cost %.4g, best bound %.4g",
            price,
            self.resource,
            usage,
            self.limit,
            cost,
            self.dual,
        )
        if usage <= self.limit * (1 + 1e-9) and (self.best is None or cost < self.best[0]):
            self.best = (cost, price, priced)
        return usage

    def run(self, price_steps: int) -> tuple[float, float, Solution]:
        """Bracket the price, then bisect ``price_steps`` times; the best (cost, price, plan)."""
        limit = self.limit
        self.evaluate(0.0)
        low = 0.0
        high = 1.0 if self.resource == "capex" else float(np.mean(self.problem.fixed_cost) or 1.0)
        while self.evaluate(high) > limit * (1 + 1e-9):
            low, high = high, high * 4
            if high > 1e12:
                raise InputError(
                    f"no price brings the plan within {self.resource} limit {limit:g}: the "
                    "sites that must open exceed it"
                )
        for _ in range(price_steps):
            middle = (low + high) / 2
            usage = self.evaluate(middle)
            if usage > limit * (1 + 1e-9):
                low = middle
            else:
                high = middle
                if usage >= limit * (1 - 1e-3):
                    break
        assert self.best is not None
        return self.best
