r"""One national plan with a certified lower bound of the *full* model: Lagrangian decomposition.

Notation as in ``docs/model.md``; the derivation, with the proof, is ``docs/decomposition.md``.
The zones are partitioned into pieces :math:`r = 1..R` (:mod:`chargeplan.solver.pieces`); piece
r keeps every pair of its zones :math:`I_r` and every site they reach, :math:`J_r`. A site
reached from several pieces is *copied* into each (Guignard & Kim 1987, variable splitting):
copy r of site j has its own decisions :math:`(y^r_j, n^r_{jk}, g^r_j, z^r_{jd})` and the full
capacity, and pays the share :math:`w_{rj}` of site j's capex, with

.. math:: w_{rj} \ge 0, \qquad \sum_{r: j \in J_r} w_{rj} = 1 .

Piece r solves :math:`z_r(w) = \min \sum_{i \in I_r} (\text{access} + \text{unmet penalty}) +
\sum_{j \in J_r} w_{rj}\, \text{capex}_j(y^r, n^r, g^r, z^r)` over the full model's rows
restricted to its zones and copies. **Bound**: any plan of the full model, copied into every
piece (each copy takes the site's decisions, each piece its zones' shares), is feasible in
every piece (a copy carries the full capacity and only part of the load) and costs
:math:`\sum_r` (its piece cost) :math:`=` its full cost, because the shares of each site sum to
1. So :math:`\sum_r z_r(w) \le OPT` for every :math:`w`, and with HiGHS's valid bound
:math:`\underline{z}_r(w) \le z_r(w)` of each piece,

.. math:: L(w) = \sum_r \underline{z}_r(w) + \text{penalty of zones in no piece} \le OPT .

At a shared site without existing chargers the charger (design) capex is first replaced by its
lower bound per kWh served, paid on the pairs (:mod:`chargeplan.solver.shares`): copies carry
the full capacity, so only a price on the load sees that the site's chargers must carry the
load of every piece; the re-priced model's optimum is at most :math:`OPT`, so the bound stays
valid. :math:`L` is concave in :math:`w`; a copy's full-price shared capex
:math:`\text{capex}_j(\cdot^r)` is a supergradient coordinate, projected onto
:math:`\sum_r \Delta w_{rj} = 0`. ``steps`` projected supergradient steps with
Polyak's step :math:`t = \theta (UB - L) / \|g\|^2` (Held, Wolfe & Crowder 1974; Fisher
1981), :math:`\theta` halved when :math:`L` does not improve, move :math:`w` towards
agreement; the best :math:`L` is reported.

**Plan** (upper bound): each shared site gets one *owner*, the piece whose copy serves the most
demand at it (else the piece whose zones reach it with the most demand; ties: the first
piece); every piece is re-solved with only the pairs to the sites it owns, at full price. The
pieces then share nothing, so the merged plan is feasible for the full model and its cost an
upper bound (Beasley 1993: a Lagrangian heuristic). Pieces that share no site (whole
components) are solved once and are exact.

**Determinism**: pieces, weights and owners are functions of the data; each piece is solved to
the MIP gap with *no* time limit (the scenario's ``time_limit_s`` does not apply: a wall-clock
limit would let the machine's load decide the plan) but with an optional *work* limit,
``max_nodes`` branch-and-bound nodes (HiGHS ``mip_max_nodes``): a piece that stops there returns
its plan and HiGHS's valid bound, after the same work on every machine, so the bound stays a
bound and the plan stays the same; results are merged in piece order. The same inputs and
thread count give the same plan.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from chargeplan.errors import InputError, SolveError
from chargeplan.model.designs import charger_capex
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution, objective_value
from chargeplan.solver.highs import solve
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.pieces import Pieces, make_pieces, project_simplex
from chargeplan.solver.shares import fixed_rate, linear_rate, shared_copy
from chargeplan.solver.split import Region, bundle, merge, split_components, subproblem

__all__ = ["LagrangeRun", "solve_lagrange"]

log = logging.getLogger(__name__)

Executor = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]


@dataclass(frozen=True)
class LagrangeRun:
    """How a Lagrangian decomposition went.

    Attributes
    ----------
    pieces, split_pieces
        Pieces solved (tasks), and those holding a copied site.
    components, largest_pairs
        Independent components of the reach graph the tasks hold; pairs of the largest task.
    shared_sites, copies
        Sites held by more than one piece, and their copies.
    steps
        One dict per weight vector tried: ``bound`` (:math:`L(w)`), ``theta``, ``disagreement``
        (:math:`\\|g\\|`, CNY).
    bound, plan_cost
        Best lower bound of the full model and the cost of the plan returned.
    work_limited
        Pieces (positions in ``pieces``) whose solve stopped at the work limit
        (``max_nodes``) in any round: their plan is feasible, their bound HiGHS's valid bound.
    work_limit_gap
        Sum over the pieces stopped at the work limit, at the best weights, of their own gap
        (plan minus bound, CNY): the part of ``plan_cost - bound`` the limit leaves open there.
    """

    pieces: int
    split_pieces: int
    components: int
    largest_pairs: int
    shared_sites: int
    copies: int
    steps: tuple[dict[str, float], ...]
    bound: float
    plan_cost: float
    work_limited: tuple[int, ...] = ()
    work_limit_gap: float = 0.0


def solve_piece(task: tuple[FacilityProblem, SolverOptions]) -> Solution:
    """Solve one piece (module level, so that Dask can ship it to a worker)."""
    problem, options = task
    if len(problem.site_ids) == 0:
        return _all_unmet(problem)
    return solve(problem, options)


def _all_unmet(problem: FacilityProblem, zones: np.ndarray | None = None) -> Solution:
    """The plan of a piece with no site (its ``zones``, default all): every zone unmet."""
    demand = problem.demand if zones is None else problem.demand[zones]
    unmet = (demand > 0).astype(float)
    cost = float((demand * problem.unmet_penalty).sum())
    k = len(problem.types)
    return Solution(
        open_site=np.zeros(0, bool),
        chargers=np.zeros((0, k), np.int64),
        served=np.zeros((0 if zones is not None else len(problem.pair_zone), k)),
        unmet=unmet,
        grid_upgrade=np.zeros(0, bool),
        status="optimal",
        objective=cost,
        bound=cost,
        gap=0.0,
        build_seconds=0.0,
        solve_seconds=0.0,
    )


def _site_capex(
    base: FacilityProblem,
    solution: Solution,
    linear: np.ndarray | None = None,
    fixed_part: np.ndarray | float = 0.0,
) -> np.ndarray:
    """``(S,)`` full-price capex of a piece's plan at each of its sites (without the chargers at
    the ``linear`` sites and the ``fixed_part`` of the fixed cost, which the pairs pay:
    :mod:`chargeplan.solver.shares`)."""
    chargers = charger_capex(base, solution.chargers)
    if linear is not None:
        chargers = np.where(linear, 0.0, chargers)
    return (
        base.fixed_cost * (1.0 - fixed_part) * solution.open_site
        + chargers
        + base.grid_upgrade_cost * solution.grid_upgrade
    )


def _site_load(base: FacilityProblem, solution: Solution) -> np.ndarray:
    """``(S,)`` demand a piece's plan serves at each of its sites."""
    load = (solution.served * base.demand[base.pair_zone]).sum(axis=1)
    return np.bincount(base.pair_site, weights=load, minlength=len(base.site_ids))


def _reach_demand(problem: FacilityProblem, pieces: Pieces) -> np.ndarray:
    """``(C,)`` demand of each copy's piece's zones in reach of the copied site."""
    zone_piece = np.full(len(problem.zone_ids), -1, np.int64)
    for position, region in enumerate(pieces.regions):
        zone_piece[region.zones] = position
    live = problem.live_pairs
    key = zone_piece[problem.pair_zone[live]] * len(problem.site_ids) + problem.pair_site[live]
    amount = problem.demand[problem.pair_zone[live]].sum(axis=1)
    keys, where = np.unique(key, return_inverse=True)
    totals = np.bincount(where, weights=amount)
    wanted = pieces.copy_piece * len(problem.site_ids) + pieces.copy_site
    found = np.clip(np.searchsorted(keys, wanted), 0, max(len(keys) - 1, 0))
    return np.where(keys[found] == wanted, totals[found], 0.0) if len(keys) else wanted * 0.0


def _normalised(amount: np.ndarray, group: np.ndarray) -> np.ndarray:
    """``amount`` divided by its group's total (equal shares where the total is 0)."""
    _, where, size = np.unique(group, return_inverse=True, return_counts=True)
    total = np.bincount(where, weights=amount)
    return np.where(total[where] > 0, amount / np.maximum(total[where], 1e-300), 1 / size[where])


def _centred(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """``values`` minus their group's mean (the projection onto zero-sum changes per site)."""
    _, where, size = np.unique(group, return_inverse=True, return_counts=True)
    return values - (np.bincount(where, weights=values) / size)[where]


class _Search:
    """The pieces of one problem, their solves at given weights and the bookkeeping."""

    def __init__(
        self,
        problem: FacilityProblem,
        pieces: Pieces,
        options: SolverOptions,
        run: Executor,
        fixed_part: float,
    ) -> None:
        self.problem, self.pieces, self.options, self.run = problem, pieces, options, run
        self.per_kwh_fixed = fixed_rate(problem)
        self.fixed_part = np.where(self.per_kwh_fixed > 0, fixed_part, 0.0)
        self.bases = [subproblem(problem, region) for region in pieces.regions]
        covered = np.zeros(len(problem.zone_ids), bool)
        for region in pieces.regions:
            covered[region.zones] = True
        self.penalty = float((problem.demand[~covered] * problem.unmet_penalty).sum())
        self.rate, self.linear = linear_rate(problem)
        self.whole: dict[int, Solution] = {}
        self.empty: dict[int, Solution] = {}
        self.limited: set[int] = set()  # pieces stopped at the work limit

    def _solve(self, tasks: dict[int, FacilityProblem], pieces: bool = True) -> dict[int, Solution]:
        order = sorted(tasks)
        results = self.run(solve_piece, [(tasks[r], self.options) for r in order])
        solved = dict(zip(order, results, strict=True))
        stopped = [r for r in order if solved[r].status == WORK_LIMIT]
        if pieces:
            self.limited.update(stopped)
        if stopped:
            log.info(
                "lagrange: %d of %d %s stopped at the work limit (%s nodes): %s",
                len(stopped),
                len(order),
                "pieces" if pieces else "polish parts",
                self.options.mip_max_nodes,
                ", ".join(str(r) for r in stopped[:20]) + (", ..." if len(stopped) > 20 else ""),
            )
        return solved

    def at(self, weights: np.ndarray) -> list[Solution]:
        """Every piece solved with its copies paying ``weights`` ``(C,)``."""
        tasks: dict[int, FacilityProblem] = {}
        for r, base in enumerate(self.bases):
            if not self.pieces.split[r]:
                if r not in self.whole:
                    tasks[r] = base
                continue
            share = np.ones(len(base.site_ids))
            linear = np.zeros(len(base.site_ids), bool)
            mine = self.pieces.copy_piece == r
            share[self.pieces.copy_slot[mine]] = weights[mine]
            linear[self.pieces.copy_slot[mine]] = self.linear[self.pieces.copy_site[mine]]
            sites = self.pieces.regions[r].sites
            part = np.zeros(len(base.site_ids))
            part[self.pieces.copy_slot[mine]] = self.fixed_part[self.pieces.copy_site[mine]]
            tasks[r] = shared_copy(
                base, share, linear, self.rate[sites], part, self.per_kwh_fixed[sites]
            )
        solved = self._solve(tasks)
        self.whole.update({r: s for r, s in solved.items() if not self.pieces.split[r]})
        return [self.whole.get(r) or solved[r] for r in range(len(self.bases))]

    def bound(self, solutions: list[Solution]) -> float:
        return sum(s.bound for s in solutions) + self.penalty

    def work_limit_gap(self, solutions: list[Solution]) -> float:
        """Sum of the own gaps (plan minus bound) of the pieces stopped at the work limit."""
        return sum(s.objective - s.bound for s in solutions if s.status == WORK_LIMIT)

    def copy_figures(self, solutions: list[Solution]) -> tuple[np.ndarray, np.ndarray]:
        """``(C,)`` full-price capex and load of every copy in ``solutions``."""
        capex, load = np.zeros(len(self.pieces.copy_site)), np.zeros(len(self.pieces.copy_site))
        for r in np.unique(self.pieces.copy_piece):
            mine = self.pieces.copy_piece == r
            slots = self.pieces.copy_slot[mine]
            linear = np.zeros(len(self.bases[r].site_ids), bool)
            linear[slots] = self.linear[self.pieces.copy_site[mine]]
            part = np.zeros(len(self.bases[r].site_ids))
            part[slots] = self.fixed_part[self.pieces.copy_site[mine]]
            capex[mine] = _site_capex(self.bases[r], solutions[r], linear, part)[slots]
            load[mine] = _site_load(self.bases[r], solutions[r])[slots]
        return capex, load

    def plan(self, solutions: list[Solution], preference: np.ndarray) -> Solution:
        """The owner plan (module docstring): ``preference`` ``(C,)`` ranks the copies."""
        pieces, problem = self.pieces, self.problem
        group = pieces.copy_site
        best = np.ones(len(group), bool)
        if len(group):
            order = np.lexsort((pieces.copy_piece, -preference, group))
            first = np.r_[True, group[order][1:] != group[order][:-1]]
            best[:] = False
            best[order[first]] = True
        dropped = np.zeros(len(problem.site_ids), bool)
        regions: list[Region] = []
        self.empty = {}
        tasks: dict[int, FacilityProblem] = {}
        for r, region in enumerate(pieces.regions):
            if not pieces.split[r]:
                regions.append(region)
                continue
            mine = pieces.copy_piece == r
            dropped[:] = False
            dropped[pieces.copy_site[mine & ~best]] = True
            keep = ~dropped[problem.pair_site[region.pairs]]
            regions.append(
                Region(region.zones, region.sites[~dropped[region.sites]], region.pairs[keep])
            )
            if len(regions[-1].sites):
                tasks[r] = subproblem(problem, regions[-1])
            else:  # every site it reaches is owned by other pieces
                self.empty[r] = _all_unmet(problem, region.zones)
        try:
            solved = {**self.empty, **self._solve(tasks)}
        except SolveError as error:
            raise SolveError(
                f"the Lagrangian plan's pieces (each site owned by one piece) have no feasible "
                f"plan ({error}): with hard demand a zone may lose every site it can use; set "
                "decompose.method = 'cut' or raise decompose.max_piece_pairs"
            ) from None
        merged = merge(
            problem,
            regions,
            [self.whole[r] if r in self.whole else solved[r] for r in range(len(regions))],
        )
        cost = objective_value(problem, merged)["total_cost"]
        return dataclasses.replace(merged, objective=cost)

    def polished(self, plan: Solution, candidates: np.ndarray, max_pairs: int) -> Solution:
        """``plan`` improved on the sites ``candidates`` ``(S,)`` (module docstring, "polish")."""
        problem = self.problem
        narrow = dataclasses.replace(problem, excluded=problem.excluded | ~candidates)
        parts = [r for r in split_components(narrow) if len(r.pairs) <= max_pairs]
        tasks = bundle(parts, max_pairs)
        parts_problems = {t: subproblem(narrow, region) for t, region in enumerate(tasks)}
        solved = self._solve(parts_problems, pieces=False)
        fields = {name: getattr(plan, name).copy() for name in _DECISIONS}
        capex = _site_capex(problem, plan)
        better = 0
        for t, region in enumerate(tasks):
            new = solved[t]
            new_capex = _site_capex(subproblem(problem, region), new)
            old = _part_cost(problem, region, plan, capex[region.sites])
            if _part_cost(problem, region, new, new_capex, local=True) < old - 1e-9 * abs(old):
                better += 1
                fields["open_site"][region.sites] = new.open_site
                fields["chargers"][region.sites] = new.chargers
                fields["grid_upgrade"][region.sites] = new.grid_upgrade
                fields["served"][region.pairs] = new.served
                fields["unmet"][region.zones] = new.unmet
        log.info("lagrange: polish improved %d of %d parts", better, len(tasks))
        polished = dataclasses.replace(plan, **fields)
        return dataclasses.replace(
            polished, objective=objective_value(problem, polished)["total_cost"]
        )


_DECISIONS = ("open_site", "chargers", "served", "unmet", "grid_upgrade")

#: Status of a solve HiGHS stopped at ``mip_max_nodes`` (:mod:`chargeplan.solver.direct`).
WORK_LIMIT = "iteration_limit"


def _part_cost(
    problem: FacilityProblem,
    region: Region,
    plan: Solution,
    site_capex: np.ndarray,
    *,
    local: bool = False,
) -> float:
    """Cost of a plan on a region: its sites' capex, its pairs' access, its zones' penalty.

    ``local``: ``plan`` is the region's own solution (arrays in region order)."""
    served = plan.served if local else plan.served[region.pairs]
    unmet = plan.unmet if local else plan.unmet[region.zones]
    access = float((problem.pair_cost[region.pairs] * served).sum())
    penalty = float((problem.unmet_penalty * problem.demand[region.zones] * unmet).sum())
    return float(site_capex.sum()) + access + penalty


def _plan(
    search: _Search, solutions: list[Solution], reach: np.ndarray, polish_pairs: int
) -> Solution:
    """The owner plan of ``solutions``, polished on the sites any piece opened."""
    _, load = search.copy_figures(solutions)
    plan = search.plan(solutions, load + 1e-9 * reach)
    if polish_pairs <= 0 or not search.pieces.split.any():
        return plan
    candidates = plan.open_site.copy()
    for region, solution in zip(search.pieces.regions, solutions, strict=True):
        candidates[region.sites[solution.open_site]] = True
    return search.polished(plan, candidates, polish_pairs)


def solve_lagrange(
    problem: FacilityProblem,
    options: SolverOptions | None = None,
    *,
    executor: Executor | None = None,
    zone_region: np.ndarray | None = None,
    zone_xy: np.ndarray | None = None,
    max_piece_pairs: int = 20_000,
    max_bundle_pairs: int = 20_000,
    steps: int = 3,
    theta: float = 0.25,
    polish: bool = True,
    polish_pairs: int | None = None,
    fixed_per_kwh: float = 1.0,
    max_nodes: int | None = None,
) -> tuple[Solution, LagrangeRun]:
    """Plan and lower bound of the full model by Lagrangian decomposition (module docstring).

    Parameters
    ----------
    problem
        The national instance (``min_cost``, no budget or site limit: price those first,
        :func:`chargeplan.solver.decompose.solve_decomposed`).
    options
        Gap and threads of every piece; its time limit is ignored (determinism).
    executor
        ``map``-like callable (default :func:`map`); e.g. a Dask executor.
    zone_region, zone_xy
        ``(Z,)`` region labels and ``(Z, 2)`` zone centres for cutting large components
        (:func:`chargeplan.solver.pieces.make_pieces`).
    max_piece_pairs, max_bundle_pairs
        Largest component kept whole (and piece size); size of bundles of whole components.
    steps
        Supergradient steps on the copy weights after the first solve (0: demand shares only).
    theta
        First Polyak step factor (halved when the bound does not improve).
    polish, polish_pairs
        Re-solve the plan on the sites any piece opened (module docstring), in independent
        parts of at most ``polish_pairs`` pairs (default ``4 * max_piece_pairs``).
    fixed_per_kwh
        Part of a shared site's fixed cost paid per kWh served at its lower-bound rate
        (:func:`chargeplan.solver.shares.fixed_rate`) instead of shared by the copies.
    max_nodes
        Deterministic work limit of every piece and polish part: HiGHS's branch and bound stops
        after this many nodes (``mip_max_nodes``) with its plan and its valid bound, so the
        bound stays valid and the plan the same on every machine (``None``: none; pieces
        then run until they close to ``options.mip_rel_gap``).

    Returns
    -------
    tuple[Solution, LagrangeRun]
        The plan (``objective`` its full cost, ``bound`` the best :math:`L(w)`, ``gap``
        between them, ``status`` ``"optimal"`` within ``options.mip_rel_gap`` else
        ``"feasible"``) and how the search went.
    """
    options = options or SolverOptions()
    if np.any(problem.target_share > 0):
        raise SolveError(
            "coverage targets ([reach.targets]) are rows over the whole country: the pieces "
            "would each enforce them on their own zones, a restriction, and the bound would not "
            "be valid; solve without [decompose] or with decompose.method = 'cut' (its gap is "
            "against the cut model)"
        )
    if max_nodes is not None and max_nodes < 1:
        raise InputError(
            f"decompose.piece_max_nodes = {max_nodes}: HiGHS returns no plan without a node; "
            "give at least 1, or 0 in the scenario for no work limit"
        )
    polish_pairs = 4 * max_piece_pairs if polish_pairs is None else polish_pairs
    if math.isfinite(options.time_limit_s):
        log.info(
            "decompose.method = 'lagrange' solves every piece to mip_rel_gap %.4g without the "
            "time limit (%.0f s): a wall-clock limit would decide the plan; make the pieces "
            "smaller (decompose.max_piece_pairs) or limit their work "
            "(decompose.piece_max_nodes) to make it faster",
            options.mip_rel_gap,
            options.time_limit_s,
        )
    piece_options = dataclasses.replace(
        options, time_limit_s=math.inf, log_to_stderr=False, mip_max_nodes=max_nodes
    )
    pieces = make_pieces(
        problem,
        max_pairs=max_piece_pairs,
        max_bundle_pairs=max_bundle_pairs,
        zone_region=zone_region,
        zone_xy=zone_xy,
    )
    search = _Search(problem, pieces, piece_options, executor or map, fixed_per_kwh)
    reach = _reach_demand(problem, pieces)
    weights = _normalised(reach, pieces.copy_site)
    solutions = first = search.at(weights)
    bound = search.bound(solutions)
    capex, _ = search.copy_figures(solutions)
    plan = _plan(search, solutions, reach, polish_pairs if polish else 0)
    history = [{"bound": bound, "theta": theta, "disagreement": 0.0}]
    best_bound, best_solutions = bound, solutions
    for _ in range(steps if pieces.split.any() else 0):
        gradient = _centred(capex, pieces.copy_site)
        norm = float(gradient @ gradient)
        history[-1]["disagreement"] = math.sqrt(norm)
        if norm == 0 or plan.objective <= best_bound:
            break
        step = theta * (plan.objective - bound) / norm
        weights = project_simplex(weights + step * gradient, pieces.copy_site)
        solutions = search.at(weights)
        bound = search.bound(solutions)
        capex, _ = search.copy_figures(solutions)
        history.append({"bound": bound, "theta": theta, "disagreement": 0.0})
        log.info("lagrange: bound %.6g (best %.6g), plan %.6g", bound, best_bound, plan.objective)
        if bound > best_bound:
            best_bound, best_solutions = bound, solutions
        else:
            theta /= 2
    if best_solutions is not first:
        other = _plan(search, best_solutions, reach, polish_pairs if polish else 0)
        plan = other if other.objective < plan.objective else plan
    gap = max(plan.objective - best_bound, 0.0) / max(abs(plan.objective), 1e-9)
    status = "optimal" if gap <= options.mip_rel_gap * (1 + 1e-6) + 1e-9 else "feasible"
    solution = dataclasses.replace(plan, bound=best_bound, gap=gap, status=status)
    run = LagrangeRun(
        pieces=len(pieces.regions),
        split_pieces=int(pieces.split.sum()),
        components=sum(r.components for r in pieces.regions),
        largest_pairs=max((len(r.pairs) for r in pieces.regions), default=0),
        shared_sites=pieces.shared_sites,
        copies=len(pieces.copy_site),
        steps=tuple(history),
        bound=best_bound,
        plan_cost=plan.objective,
        work_limited=tuple(sorted(search.limited)),
        work_limit_gap=search.work_limit_gap(best_solutions),
    )
    return solution, run
