r"""An LP-guided plan for the multi-year rollout, certified by the rollout's LP bound.

The rollout model (:mod:`chargeplan.model.rollout`) of the default scenario has 72,000 columns,
55,000 of them binary (sites and partial queues in five years), and its LP relaxation is
tight: within 0.3 % of the best plans known. What HiGHS lacks on it is a good plan: its own
heuristics find little better than "serve nobody" before its time limit (README, "Multi-year
rollout"). :func:`lp_guided_plan` builds one from the relaxation in a few LP solves, all
deterministic (dual simplex, no time limit):

1. **Relax.** Solve the LP relaxation of the whole rollout. Its value :math:`z_{LP}` is a lower
   bound of the rollout optimum :math:`z^*` (every plan of the rollout is a point of the
   relaxation), so any plan of cost :math:`z` is within :math:`(z - z_{LP}) / z` of optimal.
2. **Round the sites.** For a threshold :math:`\theta`, open site j from the first year t with
   :math:`\bar y_{jt} \ge \theta` (the relaxation's :math:`\bar y_{jt}` never decrease over
   the years, by the ``keep_y`` rows, so the rounded :math:`y_{jt}` do not either); likewise the
   grid upgrades. Fix them and solve the LP again: the loads and the charger build-up follow
   the rounded network.
3. **Round the chargers.** At each site, type and year, the fewest chargers whose capacity
   carries the re-solved load :math:`\ell_{jkt}` (queueing rule:
   :math:`n = S_k \lfloor \ell / L_k(S_k) \rfloor + \min\{r : L_k(r) \ge \ell \bmod L_k(S_k)\}`;
   linear rule: :math:`\lceil \ell / q_k \rceil`), at least last year's, the site's minimum and
   the existing ones, at most :math:`M_{jk}`.
4. **Pre-build within the budgets.** Rounding up adds capex; where year t's capex exceeds
   :math:`B_t`, the largest additions of year t at sites open in year t - 1 are built a year
   earlier (whole chargers, just enough), latest year first. A year one over its budget, or
   one with too little to move, leaves this threshold without a plan.
5. **Re-assign.** Fix every integer column (sites, chargers, queues, upgrades) and solve the LP
   over the shares: the cheapest assignment for that network. HiGHS checks every row on the
   way (an infeasible LP leaves the threshold without a plan), so the plan is feasible for
   the rollout model.

The thresholds of :data:`ROUNDING_THRESHOLDS` are tried in order; the cheapest plan is kept
(ties: the first). If none keeps the budgets (rounding up spends more than the relaxation, and
tight budgets leave no year to build ahead in), steps 2-5 are repeated on the relaxation with
every budget tightened by the shares of :data:`BUDGET_MARGINS` in turn; the plan is still
checked against the real budgets, and the bound is still the untightened :math:`z_{LP}`.

Measured on the default rollout (``benchmarks/rollout.py``): 0.28 % above
:math:`z_{LP}` at :math:`\theta = 0.1`, against 0.85-2.1 % at 0.15-0.5.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.rollout import RolloutProblem
from chargeplan.model.sparse import CONTINUOUS, SparseMILP
from chargeplan.solver import direct
from chargeplan.solver.options import SolverOptions

__all__ = [
    "BUDGET_MARGINS",
    "ROUNDING_THRESHOLDS",
    "GuidedPlan",
    "least_chargers",
    "lp_guided_plan",
    "set_chargers",
]

log = logging.getLogger(__name__)

#: Thresholds :math:`\theta` tried in step 2, in order (module docstring).
ROUNDING_THRESHOLDS = (0.1, 0.05, 0.25, 0.5)

#: Budget tightenings tried in turn when no threshold keeps the budgets (shares of each budget).
BUDGET_MARGINS = (0.01, 0.02, 0.04, 0.08)

#: Relative slack on a load before chargers are rounded up to carry it (LP noise).
_LOAD_TOL = 1e-9


@dataclass(frozen=True)
class GuidedPlan:
    """A rollout plan from :func:`lp_guided_plan` and the bound that certifies it.

    Attributes
    ----------
    values
        Column values of the rollout model (``build_rollout``'s column order).
    objective
        Its discounted cost, constant included.
    bound
        The LP relaxation's value: a lower bound of the rollout optimum.
    threshold
        The rounding threshold :math:`\\theta` that gave the plan.
    seconds
        Time of the LP solves and roundings.
    """

    values: np.ndarray
    objective: float
    bound: float
    threshold: float
    seconds: float

    @property
    def gap(self) -> float:
        """Relative gap to the LP bound, as HiGHS reports gaps."""
        return abs(self.objective - self.bound) / max(abs(self.objective), 1e-9)


def least_chargers(problem: FacilityProblem, ix: ModelIndex, load: np.ndarray) -> np.ndarray:
    """The fewest chargers of each sizing entry (site and type) that carry ``load``.

    Queueing rule: full queues of :math:`S_k` chargers carry :math:`L_k(S_k)` each, the partial
    queue the least level :math:`r` with :math:`L_k(r)` at least the rest; linear rule:
    :math:`\\lceil \\ell / q_k \\rceil`. ``load``: ``(len(ix.n_site),)`` demand per entry.
    """
    load = np.maximum(load * (1.0 - _LOAD_TOL) - _LOAD_TOL, 0.0)
    out = np.zeros(len(load), np.int64)
    if problem.queue_levels is None:
        assert problem.charger_capacity is not None  # a sized problem has one rule
        return np.ceil(load / problem.charger_capacity[ix.n_type]).astype(np.int64)
    for k, levels in enumerate(problem.queue_levels):
        mine = ix.n_type == k
        size, top = len(levels) - 1, levels[-1]
        full = np.floor(load[mine] / top)
        partial = np.searchsorted(levels, load[mine] - full * top, side="left")
        out[mine] = (full * size + partial).astype(np.int64)
    return out


def lp_guided_plan(
    problem: RolloutProblem,
    lp: SparseMILP,
    index: list[ModelIndex],
    options: SolverOptions | None = None,
) -> GuidedPlan | None:
    """Steps 1-5 of the module docstring on the rollout model ``lp`` (``build_rollout``).

    If no threshold gives a plan and the years have budgets, steps 2-5 are repeated on the
    relaxation with every budget tightened by :data:`BUDGET_MARGINS` in turn (rounding up
    costs capex the relaxation did not spend); the bound stays the untightened relaxation's.

    Returns
    -------
    GuidedPlan or None
        The cheapest plan over :data:`ROUNDING_THRESHOLDS`; ``None`` if the relaxation is not
        solved to optimality or no threshold (and no margin) gives a plan.
    """
    start = time.perf_counter()
    highs, order = direct.load_arrays(lp)
    highs.setOptionValue("solve_relaxation", True)
    if options is not None and options.threads is not None:
        highs.setOptionValue("threads", options.threads)
    relaxed = _solve_lp(highs, lp, order)
    if relaxed is None:
        return None
    bound = relaxed[1]
    budgets = _budget_rows(lp, problem)
    best = _best_rounding(problem, lp, index, relaxed[0], highs, order, budgets, 0.0)
    for margin in BUDGET_MARGINS if budgets[0].size else ():
        if best is not None:
            break
        _set_budgets(highs, budgets, margin)
        tightened = _solve_lp(highs, lp, order)
        if tightened is not None:
            best = _best_rounding(problem, lp, index, tightened[0], highs, order, budgets, margin)
        log.info(
            "rollout LP-guided plan, budgets %g %% tighter: %s", 100 * margin, best is not None
        )
    if best is None:
        return None
    # the chosen plan once more (real budgets), its values read as every solver's values are read
    theta, _, integers = best
    _set_budgets(highs, budgets, 0.0)
    fixed = _integer_columns(lp, order)
    _fix(highs, fixed[1], integers[fixed[0]], integers[fixed[0]])
    if _solve_lp(highs, lp, order) is None:
        return None
    values = direct.read_values(lp, highs, order)
    assert lp.objective is not None  # build_rollout sets it
    objective = float(lp.objective @ values) + lp.objective_offset
    return GuidedPlan(values, objective, bound, theta, time.perf_counter() - start)


def _integer_columns(lp: SparseMILP, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The integer columns HiGHS holds: their ``lp`` positions and HiGHS positions."""
    _, _, kind = lp.bounds()
    position = np.full(lp.n_cols, -1)
    position[order] = np.arange(order.size)
    columns = np.flatnonzero(kind != CONTINUOUS)
    columns = columns[position[columns] >= 0]
    return columns, position[columns]


def _best_rounding(
    problem: RolloutProblem,
    lp: SparseMILP,
    index: list[ModelIndex],
    relaxed: np.ndarray,
    highs: Any,
    order: np.ndarray,
    budgets: tuple[np.ndarray, np.ndarray, np.ndarray],
    margin: float,
) -> tuple[float, float, np.ndarray] | None:
    """Steps 2-5 for every threshold: (threshold, cost, column values) of the cheapest plan.

    Sites and chargers are rounded with the budgets ``margin`` tighter; the re-assignment
    (step 5) checks the plan against the real budgets.
    """
    lower, upper, _ = lp.bounds()
    columns, fixed = _integer_columns(lp, order)
    best = None
    for theta in ROUNDING_THRESHOLDS:
        integers = _rounded(problem, lp, index, relaxed, highs, order, theta)
        if integers is not None:
            _set_budgets(highs, budgets, 0.0)
            _fix(highs, fixed, integers[columns], integers[columns])
            solved = _solve_lp(highs, lp, order)
            if solved is not None and (best is None or solved[1] < best[1]):
                best = (theta, solved[1], integers)
            log.info("rollout LP-guided plan, threshold %g: %s", theta, solved and solved[1])
            _set_budgets(highs, budgets, margin)
        _fix(highs, fixed, lower[columns], upper[columns])
    return best


def _budget_rows(
    lp: SparseMILP, problem: RolloutProblem
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HiGHS's rows of the yearly budgets, their upper bounds and the budgets themselves."""
    first_row, rows, upper, amount = 0, [], [], []
    budget_of = {
        f"budget_{year}": p.budget for year, p in zip(problem.years, problem.periods, strict=True)
    }
    for name, (matrix, _, hi) in lp.families.items():
        if name in budget_of and budget_of[name] is not None:
            rows.append(first_row)
            upper.append(float(hi[0]))
            amount.append(float(budget_of[name]))  # type: ignore[arg-type]
        first_row += matrix.shape[0]
    return np.array(rows, np.int32), np.array(upper), np.array(amount)


def _set_budgets(
    highs: Any, budgets: tuple[np.ndarray, np.ndarray, np.ndarray], margin: float
) -> None:
    """Each year's budget row with ``margin`` of its budget taken off (0: the real budgets)."""
    rows, upper, amount = budgets
    if rows.size:
        lower = np.full(rows.size, -np.inf)
        highs.changeRowsBounds(rows.size, rows, lower, upper - margin * amount)


def _solve_lp(highs: Any, lp: SparseMILP, order: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Solve the loaded LP; its column values (``lp``'s order) and objective, or ``None``."""
    import highspy

    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    values = np.zeros(lp.n_cols)
    values[order] = np.asarray(highs.getSolution().col_value, dtype=float)
    return values, float(highs.getInfo().objective_function_value) + lp.objective_offset


def _fix(highs: Any, columns: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
    """Set the bounds of HiGHS's ``columns``."""
    highs.changeColsBounds(
        len(columns), columns.astype(np.int32), np.asarray(lower, float), np.asarray(upper, float)
    )


def _rounded(
    problem: RolloutProblem,
    lp: SparseMILP,
    index: list[ModelIndex],
    relaxed: np.ndarray,
    highs: Any,
    order: np.ndarray,
    theta: float,
) -> np.ndarray | None:
    """Steps 2-4: a column vector whose integer columns hold the rounded plan (or ``None``)."""
    position = np.full(lp.n_cols, -1)
    position[order] = np.arange(order.size)
    opened = _monotone(np.stack([relaxed[ix.cols("y")] for ix in index]) >= theta)
    upgraded = _monotone(np.stack([relaxed[ix.cols("g")] for ix in index]) >= theta)
    values = relaxed.copy()
    for t, ix in enumerate(index):
        values[ix.cols("y")], values[ix.cols("g")] = opened[t], upgraded[t]
    lower, upper, _ = lp.bounds()
    sites = np.concatenate([np.concatenate([ix.cols("y"), ix.cols("g")]) for ix in index])
    sites = sites[position[sites] >= 0]
    _fix(highs, position[sites], values[sites], values[sites])
    reassigned = _solve_lp(highs, lp, order)
    _fix(highs, position[sites], lower[sites], upper[sites])
    if reassigned is None:
        return None
    chargers = _chargers(problem, index, reassigned[0], opened, upgraded)
    if chargers is None:
        return None
    for p, ix, n in zip(problem.periods, index, chargers, strict=True):
        set_chargers(values, p, ix, n)
    return values


def set_chargers(
    values: np.ndarray, problem: FacilityProblem, ix: ModelIndex, n: np.ndarray
) -> None:
    """Write the chargers ``n`` (one per ``n`` entry) into ``values``, with the queueing rule's
    columns that follow from them: ``n = S m + r`` with ``r < S`` chargers in one partial queue
    (``m`` full queues, binary ``b`` at level ``r``)."""
    values[ix.cols("n")] = n
    if problem.queue_levels is not None:
        size = np.array([len(levels) - 1 for levels in problem.queue_levels])[ix.n_type]
        full, partial = np.divmod(n, size)
        values[ix.cols("m")] = full
        values[ix.cols("b")] = ix.b_level == partial[ix.b_entry]


def _monotone(open_by_year: np.ndarray) -> np.ndarray:
    """``(T, E)``: open from the first year it is open on."""
    return np.logical_or.accumulate(open_by_year, axis=0).astype(float)


def _chargers(
    problem: RolloutProblem,
    index: list[ModelIndex],
    values: np.ndarray,
    opened: np.ndarray,
    upgraded: np.ndarray,
) -> list[np.ndarray] | None:
    """Step 3 and 4: whole chargers per year (``n`` entry order), within the budgets."""
    first, ix0 = problem.periods[0], index[0]
    if not first.sizing:
        return [np.zeros(0) for _ in index]
    existing = first.existing_chargers[ix0.n_site, ix0.n_type].astype(np.int64)
    previous, chargers = existing, []
    for t, (p, ix) in enumerate(zip(problem.periods, index, strict=True)):
        entry = ix.entry_of_x(p)
        hosted = entry >= 0
        demand = p.demand[p.pair_zone[ix.x_pair], ix.x_type]
        load = np.bincount(
            entry[hosted], weights=(demand * values[ix.cols("x")])[hosted], minlength=len(ix.n_site)
        )[: len(ix.n_site)]
        site_open = opened[t][np.searchsorted(ix.y_site, ix.n_site)] > 0.5
        least = p.min_chargers[ix.n_site, ix.n_type] * site_open
        n = np.maximum.reduce([least_chargers(p, ix, load), least, previous])
        n = np.minimum(n, np.maximum(p.max_chargers[ix.n_site, ix.n_type], previous))
        chargers.append(n.astype(np.int64))
        previous = chargers[-1]
    site_capex = first.fixed_cost[ix0.y_site] @ np.diff(opened, axis=0, prepend=0.0).T
    site_capex += first.grid_upgrade_cost[ix0.g_site] @ np.diff(upgraded, axis=0, prepend=0.0).T
    return _prebuild(problem, ix0, opened, site_capex, chargers, existing)


def _prebuild(
    problem: RolloutProblem,
    ix: ModelIndex,
    opened: np.ndarray,
    site_capex: np.ndarray,
    chargers: list[np.ndarray],
    existing: np.ndarray,
) -> list[np.ndarray] | None:
    """Step 4: build the largest additions of an over-budget year a year earlier.

    ``site_capex``: ``(T,)`` fixed costs and grid upgrades of each year's rounded plan.
    """
    price = problem.periods[0].charger_cost[ix.n_site, ix.n_type].astype(float)
    was_open = opened[:, np.searchsorted(ix.y_site, ix.n_site)] > 0.5
    n = [c.copy() for c in chargers]

    def capex(t: int) -> float:
        before = existing if t == 0 else n[t - 1]
        return float(site_capex[t] + price @ (n[t] - before))

    for t in range(len(n) - 1, 0, -1):
        budget = problem.periods[t].budget
        excess = -np.inf if budget is None else capex(t) - budget
        if excess <= 0:
            continue
        movable = np.where(was_open[t - 1], n[t] - n[t - 1], 0)
        ranked = np.argsort(-movable * price, kind="stable")
        worth = np.cumsum(movable[ranked] * price[ranked])
        whole = int(np.searchsorted(worth, excess))  # entries moved whole before the last one
        if whole >= len(ranked) or movable[ranked[whole]] == 0:
            return None
        n[t - 1][ranked[:whole]] = n[t][ranked[:whole]]
        rest = excess - (worth[whole - 1] if whole else 0.0)
        last = ranked[whole]
        n[t - 1][last] += int(np.ceil(rest / price[last] - 1e-9))
    budget = problem.periods[0].budget
    if budget is not None and capex(0) > budget:
        return None
    return n
