r"""The pieces of a Lagrangian decomposition solved at given cost shares and target prices.

:class:`PieceSearch` holds the pieces of one problem (:mod:`chargeplan.solver.pieces`) and
solves them: at copy weights :math:`w` (:meth:`PieceSearch.at`: each copy pays its share, shared
charger and fixed capex per kWh, :mod:`chargeplan.solver.shares`) for the bound, and with every
shared site given to one owner (:meth:`PieceSearch.plan`) for a plan of the full model. With
coverage targets both run at the multipliers :attr:`PieceSearch.mu`
(:mod:`chargeplan.solver.coverage`). The mathematics, with the proof that the bound is valid, is
in :mod:`chargeplan.solver.lagrange` and ``docs/decomposition.md``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from chargeplan.errors import SolveError
from chargeplan.model.designs import charger_capex
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution, objective_value
from chargeplan.solver.coverage import dualised, target_constant, without_idle_targets
from chargeplan.solver.highs import solve
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.pieces import Pieces
from chargeplan.solver.shares import fixed_rate, linear_rate, shared_copy
from chargeplan.solver.split import Region, merge, subproblem

__all__ = ["WORK_LIMIT", "Executor", "PieceSearch", "site_capex", "solve_piece"]

log = logging.getLogger(__name__)

Executor = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]

#: Status of a solve HiGHS stopped at ``mip_max_nodes`` (:mod:`chargeplan.solver.direct`).
WORK_LIMIT = "iteration_limit"


def solve_piece(task: tuple[FacilityProblem, SolverOptions]) -> Solution:
    """Solve one piece (module level, so that Dask can ship it to a worker)."""
    problem, options = task
    if len(problem.site_ids) == 0:
        return all_unmet(problem)
    return solve(without_idle_targets(problem), options)


def solve_part(task: tuple[FacilityProblem, SolverOptions]) -> Solution | None:
    """Solve one polish part; ``None`` when HiGHS finds no plan within the work limit (the
    part then keeps the plan it has: it is only ever an improvement)."""
    try:
        return solve_piece(task)
    except SolveError as error:
        log.info("lagrange: a polish part kept its plan: %s", error)
        return None


def all_unmet(problem: FacilityProblem, zones: np.ndarray | None = None) -> Solution:
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


def site_capex(
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


def site_load(base: FacilityProblem, solution: Solution) -> np.ndarray:
    """``(S,)`` demand a piece's plan serves at each of its sites."""
    load = (solution.served * base.demand[base.pair_zone]).sum(axis=1)
    return np.bincount(base.pair_site, weights=load, minlength=len(base.site_ids))


def reach_demand(problem: FacilityProblem, pieces: Pieces) -> np.ndarray:
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


def normalised(amount: np.ndarray, group: np.ndarray) -> np.ndarray:
    """``amount`` divided by its group's total (equal shares where the total is 0)."""
    _, where, size = np.unique(group, return_inverse=True, return_counts=True)
    total = np.bincount(where, weights=amount)
    return np.where(total[where] > 0, amount / np.maximum(total[where], 1e-300), 1 / size[where])


def centred(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """``values`` minus their group's mean (the projection onto zero-sum changes per site)."""
    _, where, size = np.unique(group, return_inverse=True, return_counts=True)
    return values - (np.bincount(where, weights=values) / size)[where]


class PieceSearch:
    """The pieces of one problem, their solves at given weights and target prices, and the
    bookkeeping (module docstring)."""

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
        self.whole: dict[int, Solution] = {}  # pieces that share no site, solved at self.mu
        self.mu: np.ndarray | None = None  # target multipliers (coverage targets)
        self.wholes: dict[bytes, dict[int, Solution]] = {b"": self.whole}  # by multipliers
        self.solved_at: dict[tuple[bytes, bytes], list[Solution]] = {}  # by (mu, weights)
        self.empty: dict[int, Solution] = {}
        self.limited: set[int] = set()  # pieces stopped at the work limit

    def solve_tasks(
        self, tasks: dict[int, FacilityProblem], pieces: bool = True
    ) -> dict[int, Solution]:
        """Solve ``tasks`` (number: problem) through the executor, in number order, and note
        the pieces stopped at the work limit. Polish parts (``pieces=False``) that find no plan
        are left out of the result."""
        order = sorted(tasks)
        solver = solve_piece if pieces else solve_part
        results = self.run(solver, [(tasks[r], self.options) for r in order])
        solved = {r: s for r, s in zip(order, results, strict=True) if s is not None}
        order = [r for r in order if r in solved]
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

    def set_mu(self, mu: np.ndarray | None) -> None:
        """Price the targets at ``mu`` ``(G,)`` from now on (:mod:`chargeplan.solver.coverage`)."""
        self.mu = None if mu is None else np.array(mu, float)
        self.whole = self.wholes.setdefault(self._key(), {})

    def _key(self) -> bytes:
        return b"" if self.mu is None else self.mu.tobytes()

    def at(self, weights: np.ndarray) -> list[Solution]:
        """Every piece solved with its copies paying ``weights`` ``(C,)`` (targets at ``mu``;
        the pieces' plans of the last 16 calls are kept, so a repeated call solves nothing)."""
        key = (self._key(), weights.tobytes())
        if key in self.solved_at:
            return self.solved_at[key]
        tasks: dict[int, FacilityProblem] = {}
        for r, full in enumerate(self.bases):
            base = dualised(full, self.mu)
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
        solved = self.solve_tasks(tasks)
        self.whole.update({r: s for r, s in solved.items() if not self.pieces.split[r]})
        out = [self.whole.get(r) or solved[r] for r in range(len(self.bases))]
        if len(self.solved_at) >= 16:  # memory: keep the last 16 (a bisection and steps)
            self.solved_at.pop(next(iter(self.solved_at)))
        self.solved_at[key] = out
        return out

    def bound(self, solutions: list[Solution]) -> float:
        """:math:`L(w, \\mu)`: the pieces' bounds, the zones in no piece, the targets' constant."""
        constant = target_constant(self.problem, self.mu)
        return sum(s.bound for s in solutions) + self.penalty - constant

    def unmet(self, solutions: list[Solution]) -> np.ndarray:
        """``(Z, K)`` unmet shares of the pieces' plans put together (zones in no piece: all)."""
        out = (self.problem.demand > 0).astype(float)
        for region, solution in zip(self.pieces.regions, solutions, strict=True):
            out[region.zones] = solution.unmet
        return out

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
            capex[mine] = site_capex(self.bases[r], solutions[r], linear, part)[slots]
            load[mine] = site_load(self.bases[r], solutions[r])[slots]
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
                tasks[r] = dualised(subproblem(problem, regions[-1]), self.mu)
            else:  # every site it reaches is owned by other pieces
                self.empty[r] = all_unmet(problem, region.zones)
        try:
            solved = {**self.empty, **self.solve_tasks(tasks)}
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
