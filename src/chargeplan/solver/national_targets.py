r"""National coverage targets over independent components: the target rows priced, not cut.

A decomposed plan whose pieces are the reach graph's components (``decompose.by =
"components"``) is exact only while nothing couples the components. A coverage target
(``[reach.targets]``) is one row per settlement type g over the whole country,

.. math:: \sum_{(i,k) \in R_g} d_{ik} u_{ik} - s_g \le (1 - \tau_g) D_g,
          \qquad s_g \ge 0, \qquad \text{cost } \sigma_g s_g,

and stating it in every component (``decompose.targets = "region"``) is a stricter model: each
component must meet the share by itself. With ``decompose.targets = "national"`` the row is
priced instead, as :mod:`chargeplan.solver.coverage` prices it for the Lagrangian pieces: for
multipliers :math:`0 \le \mu_g \le \sigma_g`,

.. math:: L(\mu) = \sum_r \underline{z}_r(\mu) + \Pi_0 - \sum_g \mu_g (1 - \tau_g) D_g
          \le OPT,

with :math:`z_r(\mu)` component (task) r's optimum when each unit of its unmet demand of
:math:`R_g` costs :math:`\mu_g` more (no target row), :math:`\underline{z}_r \le z_r` its
solver's bound and :math:`\Pi_0` the penalty of the zones in no component (proof in
``docs/decomposition.md``, "Coverage targets": the components share no zone, so the priced model
is their sum).

**Ascent instead of bisection.** :math:`z_r(\mu)` is nondecreasing in :math:`\mu` (every cost
only rises), so a bound found at :math:`\mu'` stays a bound at every :math:`\mu \ge \mu'`:
:math:`\underline{z}_r(\mu') \le z_r(\mu') \le z_r(\mu)`. The multipliers therefore only
rise, on a ladder :math:`\mu_g = \sigma_g 2^{l - m}` (:math:`l = 1 .. m`, ``steps`` = m):
start at :math:`\mu = 0` (every task solved without target rows), and while group g falls
short nationally raise :math:`\mu_g` one rung. After a raise, only the tasks whose plan leaves
unmet demand of a raised group are solved again: a task that serves all of it keeps its plan
(its cost is the same at the new prices) and its bound (valid, by the monotonicity). A task
solved again keeps the larger of its two bounds. So each rung re-solves the tasks that are
short, not the country, and every :math:`L(\mu)` on the way is a valid bound of the full
model; the best is reported.

**The plan** of each rung is the tasks' plans put together; its true cost is that of the full
model: the tasks' objectives without the price terms
(:math:`\sum_g \mu_g \sum_{R_g} d_{ik} u_{ik}`, at the price each task was solved at) plus
:math:`\sum_g \sigma_g s_g` of the national shortfall. The cheapest rung's plan is returned
(normally the first that meets every target). Nothing depends on timing: the rungs are a
function of the data, and each task is solved as the scenario's solver options say.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution
from chargeplan.model.targets import group_demand, target_penalty, unmet_in_reach
from chargeplan.solver.coverage import (
    dualised,
    signed_shortfall,
    target_constant,
    without_idle_targets,
)
from chargeplan.solver.split import Region, merge

__all__ = ["TargetRung", "priced_task", "solve_national_targets"]

#: A group is short when its signed shortfall exceeds this share of its demand in reach.
SHORT_SHARE = 1e-6


@dataclass(frozen=True)
class TargetRung:
    """One rung of the ascent: the prices, what the plan achieved and the bound.

    Attributes
    ----------
    prices
        :math:`\\mu_g` per target group (CNY per unit short).
    served_share
        Share of each group's demand in reach the rung's plan serves.
    cost, bound
        The plan's cost in the full model and :math:`L(\\mu)`.
    solved
        Tasks solved at this rung (all of them at the first).
    """

    prices: tuple[float, ...]
    served_share: tuple[float, ...]
    cost: float
    bound: float
    solved: int


def priced_task(task: FacilityProblem, mu: np.ndarray) -> FacilityProblem:
    r"""A task with its unmet demand of :math:`R_g` priced :math:`\mu_g` more (the target rows
    of :func:`chargeplan.solver.coverage.dualised`), and no target group where
    :math:`\mu_g = 0` or it holds none of the group's demand."""
    return without_idle_targets(dualised(task, mu))


def _left(task: FacilityProblem, solution: Solution) -> np.ndarray:
    """``(G,)`` the task's demand in reach left unmet by its plan, by group."""
    if not task.target_names:
        return np.zeros(0)
    return unmet_in_reach(task, solution.unmet)


def solve_national_targets(
    problem: FacilityProblem,
    regions: Sequence[Region],
    tasks: Sequence[FacilityProblem],
    solve_all: Callable[[list[FacilityProblem]], list[Solution]],
    *,
    steps: int = 6,
) -> tuple[Solution, tuple[float, ...], tuple[TargetRung, ...]]:
    """The plan of ``problem`` (with national target rows) from its independent ``tasks``.

    Parameters
    ----------
    problem
        The national instance, its target rows national (``target_share`` > 0 somewhere).
    regions, tasks
        The components (or bundles of them) and their own instances
        (:func:`chargeplan.solver.split.subproblem`, carrying the national target groups).
    solve_all
        Solves a list of instances (in parallel, in order) and returns their solutions.
    steps
        Rungs of the ladder :math:`\\sigma_g 2^{l - m}` (module docstring); 0: the plan at
        :math:`\\mu = 0` only, its shortfall priced at :math:`\\sigma_g`.

    Returns
    -------
    tuple[Solution, tuple[float, ...], tuple[TargetRung, ...]]
        The cheapest rung's plan (``objective`` its cost in the full model, ``bound`` the best
        :math:`L(\\mu)`), its prices, and every rung.
    """
    groups = len(problem.target_names)
    sigma = np.asarray(problem.target_price, float)
    total = group_demand(problem)
    tolerance = SHORT_SHARE * np.maximum(total, 1e-12)
    mu, level = np.zeros(groups), np.zeros(groups, np.int64)
    paid = [np.zeros(groups) for _ in tasks]  # the prices each task's plan was solved at
    solutions = solve_all([priced_task(t, mu) for t in tasks])
    bounds = [s.bound for s in solutions]
    rungs: list[TargetRung] = []
    best: tuple[float, Solution, np.ndarray] | None = None
    solved = len(tasks)
    while True:
        plan, rung = _rung(problem, regions, tasks, solutions, bounds, paid, mu, solved)
        rungs.append(rung)
        if best is None or rung.cost < best[0]:
            best = (rung.cost, plan, mu.copy())
        short = signed_shortfall(problem, plan.unmet) > tolerance
        short &= level < steps
        if not short.any():
            break
        level = level + short
        raised = np.where(short, sigma * 2.0 ** (level - steps), mu)
        again = [
            r
            for r, (task, sol) in enumerate(zip(tasks, solutions, strict=True))
            if task.target_names and np.any((_left(task, sol) > 0) & short)
        ]
        mu = raised
        fresh = solve_all([priced_task(tasks[r], mu) for r in again])
        for r, sol in zip(again, fresh, strict=True):
            bounds[r] = max(bounds[r], sol.bound)
            solutions[r], paid[r] = sol, mu.copy()
        solved = len(again)
    cost, plan, prices = best
    bound = max(r.bound for r in rungs)
    gap = max(cost - bound, 0.0) / max(abs(cost), 1e-9)
    plan = dataclasses.replace(plan, objective=cost, bound=bound, gap=gap)
    return plan, tuple(float(p) for p in prices), tuple(rungs)


def _rung(
    problem: FacilityProblem,
    regions: Sequence[Region],
    tasks: Sequence[FacilityProblem],
    solutions: Sequence[Solution],
    bounds: Sequence[float],
    paid: Sequence[np.ndarray],
    mu: np.ndarray,
    solved: int,
) -> tuple[Solution, TargetRung]:
    """The tasks' plans put together, their cost in the full model and :math:`L(\\mu)`."""
    kept = [dataclasses.replace(s, bound=b) for s, b in zip(solutions, bounds, strict=True)]
    plan = merge(problem, list(regions), kept)
    price_terms = sum(
        float(p @ _left(t, s)) if t.target_names else 0.0
        for t, s, p in zip(tasks, solutions, paid, strict=True)
    )
    cost = plan.objective - price_terms + target_penalty(problem, plan.unmet)
    bound = plan.bound - target_constant(problem, mu)
    total = group_demand(problem)
    served = 1.0 - unmet_in_reach(problem, plan.unmet) / np.where(total > 0, total, 1.0)
    rung = TargetRung(
        prices=tuple(float(m) for m in mu),
        served_share=tuple(float(s) for s in served),
        cost=float(cost),
        bound=float(bound),
        solved=solved,
    )
    return plan, rung
