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
- **Lagrangian pieces** (``method = "lagrange"``, :mod:`chargeplan.solver.lagrange`): no pair
  is cut; large components are split into pieces that share copies of sites, and the bound is
  one of the *full* model (the region rule's bound above is only one of the cut model).
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
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from chargeplan.errors import InputError
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution
from chargeplan.model.targets import target_groups
from chargeplan.solver.full_bound import with_full_bound
from chargeplan.solver.lagrange import LagrangeRun, solve_lagrange
from chargeplan.solver.national_targets import solve_national_targets
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.pricing import PriceSearch, priced_problem, resource_usage
from chargeplan.solver.split import (
    DEFAULT_BUNDLE_PAIRS,
    Region,
    bundle,
    merge,
    split_components,
    subproblem,
)
from chargeplan.solver.tasks import Executor, solve_region, solve_tasks, start_order

__all__ = [
    "DEFAULT_BUNDLE_PAIRS",
    "Decomposition",
    "Region",
    "bundle",
    "merge",
    "solve_decomposed",
    "solve_region",
    "solve_tasks",
    "split_components",
    "start_order",
    "subproblem",
]

log = logging.getLogger(__name__)


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
    method
        ``"cut"`` (regions cut at their borders) or ``"lagrange"`` (pieces with copied sites,
        :mod:`chargeplan.solver.lagrange`).
    shared_sites, site_copies, lagrange_steps
        With ``"lagrange"``: sites held by several pieces, their copies, and the bound of each
        weight vector tried (of the last price with a budget).
    work_limited, work_limit_gap
        With ``"lagrange"``: the pieces whose solve stopped at the work limit
        (``decompose.piece_max_nodes``), and the sum of their own gaps (CNY) at the best
        weights: how much of the plan's gap the limit leaves open in them.
    target_prices
        With ``"lagrange"`` and coverage targets: the price of each national target row the
        plan was made at (CNY per kWh short; :mod:`chargeplan.solver.coverage`); with
        ``targets = "national"`` (:mod:`chargeplan.solver.national_targets`) the cheapest rung's.
    target_rungs, target_tasks_solved
        With ``targets = "national"``: rungs of the price ascent, and task solves over all of
        them (the first rung solves every task).
    full_bound
        With ``"cut"``: which model the plan's bound is of, the cut model's bound, and the
        full model's bound over the cut (:func:`chargeplan.solver.full_bound.with_full_bound`).
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
    method: str = "cut"
    shared_sites: int = 0
    site_copies: int = 0
    lagrange_steps: tuple[dict[str, float], ...] = ()
    work_limited: tuple[int, ...] = ()
    work_limit_gap: float = 0.0
    target_prices: tuple[float, ...] = ()
    target_rungs: int = 0
    target_tasks_solved: int = 0
    full_bound: tuple[tuple[str, Any], ...] = ()

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
            "decompose_method": self.method,
            "decompose_shared_sites": self.shared_sites,
            "decompose_site_copies": self.site_copies,
            "decompose_lagrange_steps": len(self.lagrange_steps),
            "decompose_work_limited_pieces": len(self.work_limited),
            "decompose_work_limited_piece_ids": " ".join(str(r) for r in self.work_limited),
            "decompose_work_limit_gap_cny": self.work_limit_gap,
            "decompose_target_prices": " ".join(f"{p:.6g}" for p in self.target_prices),
            "decompose_target_rungs": self.target_rungs,
            "decompose_target_tasks_solved": self.target_tasks_solved,
            **dict(self.full_bound),
        }


def solve_decomposed(
    problem: FacilityProblem,
    options: SolverOptions | None = None,
    *,
    executor: Executor | None = None,
    zone_region: np.ndarray | None = None,
    site_region: np.ndarray | None = None,
    max_bundle_pairs: int = DEFAULT_BUNDLE_PAIRS,
    price_steps: int = 8,
    method: str = "cut",
    zone_xy: np.ndarray | None = None,
    max_piece_pairs: int = DEFAULT_BUNDLE_PAIRS,
    lagrange_steps: int = 3,
    fixed_per_kwh: float = 1.0,
    polish_pairs: int | None = None,
    piece_max_nodes: int | None = None,
    target_steps: int = 6,
    targets: str = "region",
    full_bound_steps: int = 0,
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
    method
        ``"cut"``: pairs across region borders are cut (the plan's bound is of the cut model
        only); ``"lagrange"``: no pair is cut, large components are split into pieces that
        share copies of sites, and the bound is of the full model
        (:func:`chargeplan.solver.lagrange.solve_lagrange`; ``site_region`` is not used, the
        time limit is ignored so that the plan does not depend on timing).
    zone_xy, max_piece_pairs, lagrange_steps, fixed_per_kwh, polish_pairs, piece_max_nodes
        With ``"lagrange"``: zone centres for the bisection, the largest piece, the
        supergradient steps on the copies' cost shares, the part of a shared site's fixed
        cost paid per kWh, the largest part polished and the work limit of each piece in
        branch-and-bound nodes (:func:`chargeplan.solver.lagrange.solve_lagrange`).
    target_steps
        With ``"lagrange"`` and coverage targets: bisection steps on the price of each
        national target row (:mod:`chargeplan.solver.coverage`). The ``"cut"`` method applies
        each target within each region (stricter than the national row), unless ``targets``
        is ``"national"``.
    targets
        With ``"cut"`` and coverage targets: ``"region"`` states each target row within each
        task (stricter than the national row: the bound is one of that stricter model);
        ``"national"`` prices the national rows by multipliers that only rise, re-solving the
        tasks still short (:mod:`chargeplan.solver.national_targets`; ``target_steps`` rungs),
        and the bound is one of the model with the national rows.
    full_bound_steps
        With ``"cut"`` and pairs cut by the region rule: subgradient steps of the full model's
        bound over the cut (:mod:`chargeplan.solver.cut_bound`), which then replaces the cut
        model's bound (0: the cut model's bound is kept, and the summary says so).

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
    if method == "lagrange":
        return _solve_lagrange(
            problem,
            options,
            executor=executor,
            zone_region=zone_region,
            zone_xy=zone_xy,
            max_piece_pairs=max_piece_pairs,
            max_bundle_pairs=max_bundle_pairs,
            steps=lagrange_steps,
            fixed_per_kwh=fixed_per_kwh,
            polish_pairs=polish_pairs,
            max_nodes=piece_max_nodes,
            target_steps=target_steps,
            price_steps=price_steps,
        )
    if method != "cut":
        raise InputError(f"decompose.method must be 'cut' or 'lagrange', not {method!r}")
    run = executor or map
    regions = bundle(
        split_components(problem, zone_region=zone_region, site_region=site_region),
        max_bundle_pairs,
    )
    parts = [subproblem(problem, region) for region in regions]
    info = _split_figures(problem, regions)
    region_options = dataclasses.replace(options, log_to_stderr=False)
    coordinate = functools.partial(  # the full model's bound over the cut (cut_bound)
        with_full_bound,
        problem,
        regions,
        cut_pairs=info["cut_pairs"],
        steps=full_bound_steps,
        mip_rel_gap=options.mip_rel_gap,
        executor=run,
    )
    if targets == "national" and target_groups(problem).size:
        return _national_targets(
            problem, regions, parts, run, region_options, info, start, target_steps, coordinate
        )
    if targets not in ("region", "national"):
        raise InputError(f"decompose.targets must be 'region' or 'national', not {targets!r}")
    resource = "capex" if problem.budget is not None else "sites"
    limit = problem.budget if problem.budget is not None else problem.max_sites

    def solve_at(price: float) -> Solution:
        tasks = [(priced_problem(part, price, resource), region_options) for part in parts]
        return merge(problem, regions, solve_tasks(run, tasks))

    plain = solve_at(0.0)
    if limit is None or resource_usage(problem, plain, resource) <= limit * (1 + 1e-9):
        plain, figures = coordinate(plain)
        return plain, Decomposition(
            **info, seconds=time.perf_counter() - start, full_bound=tuple(figures.items())
        )
    search = PriceSearch(problem, resource, float(limit), solve_at, plain)
    cost, price, plan = search.run(price_steps)
    gap = max(cost - search.dual, 0.0) / max(abs(cost), 1e-9)
    status = plan.status if gap <= options.mip_rel_gap * (1 + 1e-6) else "feasible"
    solution = dataclasses.replace(plan, objective=cost, bound=search.dual, gap=gap, status=status)
    decomposition = Decomposition(
        **info, price=price, price_steps=tuple(search.steps), seconds=time.perf_counter() - start
    )
    return solution, decomposition


def _national_targets(
    problem: FacilityProblem,
    regions: list[Region],
    parts: list[FacilityProblem],
    run: Executor,
    options: SolverOptions,
    info: dict[str, Any],
    start: float,
    steps: int,
    coordinate: Callable[..., tuple[Solution, dict[str, Any]]],
) -> tuple[Solution, Decomposition]:
    """The ``"cut"`` tasks under national coverage targets, priced
    (:func:`chargeplan.solver.national_targets.solve_national_targets`)."""
    if problem.budget is not None or problem.max_sites is not None:
        raise InputError(
            "decompose.targets = 'national' prices the coverage targets, not also a budget or "
            "site limit: drop model.budget_cny / model.max_sites, or use targets = 'region'"
        )

    def solve_all(tasks: list[FacilityProblem]) -> list[Solution]:
        return solve_tasks(run, [(task, options) for task in tasks])

    plan, prices, rungs = solve_national_targets(problem, regions, parts, solve_all, steps=steps)
    plan, figures = coordinate(plan, target_multipliers=np.asarray(prices, float))
    status = plan.status if plan.gap <= options.mip_rel_gap * (1 + 1e-6) else "feasible"
    for rung in rungs:
        log.info(
            "national targets: prices %s, served %s, cost %.6g, bound %.6g, %d tasks solved",
            rung.prices,
            tuple(round(s, 4) for s in rung.served_share),
            rung.cost,
            rung.bound,
            rung.solved,
        )
    decomposition = Decomposition(
        **info,
        seconds=time.perf_counter() - start,
        target_prices=prices,
        target_rungs=len(rungs),
        target_tasks_solved=sum(r.solved for r in rungs),
        full_bound=tuple(figures.items()),
    )
    return dataclasses.replace(plan, status=status), decomposition


def _solve_lagrange(
    problem: FacilityProblem, options: SolverOptions, *, price_steps: int, **kwargs: Any
) -> tuple[Solution, Decomposition]:
    """The ``"lagrange"`` method, under a price when a budget or site limit couples pieces."""
    start = time.perf_counter()
    resource = "capex" if problem.budget is not None else "sites"
    limit = problem.budget if problem.budget is not None else problem.max_sites
    runs: list[LagrangeRun] = []

    def solve_at(price: float) -> Solution:
        plan, run = solve_lagrange(priced_problem(problem, price, resource), options, **kwargs)
        runs.append(run)
        return plan

    plain = solve_at(0.0)
    solution, price = plain, None
    steps: tuple[dict[str, float], ...] = ()
    if limit is not None and resource_usage(problem, plain, resource) > limit * (1 + 1e-9):
        search = PriceSearch(problem, resource, float(limit), solve_at, plain)
        cost, price, plan = search.run(price_steps)
        gap = max(cost - search.dual, 0.0) / max(abs(cost), 1e-9)
        status = "optimal" if gap <= options.mip_rel_gap * (1 + 1e-6) + 1e-9 else "feasible"
        solution = dataclasses.replace(plan, objective=cost, bound=search.dual, gap=gap)
        solution = dataclasses.replace(solution, status=status)
        steps = tuple(search.steps)
    last = runs[-1]
    decomposition = Decomposition(
        regions=last.pieces,
        components=last.components,
        largest_region_pairs=last.largest_pairs,
        unreachable_zones=_unreachable_zones(problem),
        price=price,
        price_steps=steps,
        seconds=time.perf_counter() - start,
        method="lagrange",
        shared_sites=last.shared_sites,
        site_copies=last.copies,
        lagrange_steps=last.steps,
        work_limited=tuple(sorted(set().union(*(r.work_limited for r in runs)))),
        work_limit_gap=last.work_limit_gap,
        target_prices=last.multipliers,
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


def _unreachable_zones(problem: FacilityProblem) -> int:
    """Zones with demand and no live pair (left unmet without a model)."""
    has_pair = np.zeros(len(problem.zone_ids), bool)
    has_pair[problem.pair_zone[problem.live_pairs]] = True
    return int(((problem.demand.sum(axis=1) > 0) & ~has_pair).sum())


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
    info: dict[str, Any] = {
        "regions": len(regions),
        "components": sum(r.components for r in regions),
        "largest_region_pairs": len(largest.pairs),
        "largest_region_zones": len(largest.zones),
        "largest_region_sites": len(largest.sites),
        "cut_pairs": int(cut.sum()),
        "cut_zone_demand": float(problem.demand[lost].sum()),
        "unreachable_zones": _unreachable_zones(problem),
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
