r"""Multi-year rollout: one model from today's users to the final target.

Years :math:`t = 1..T` with their own demand (from that year's premium-user target) share the
sites, pairs and charger types. Each year is a copy of the single-year model
(:func:`chargeplan.model.add_period`) and the years are linked:

.. math::

    y_{j,t-1} \le y_{jt}, \qquad n_{jk,t-1} \le n_{jkt}, \qquad g_{j,t-1} \le g_{jt}

(a site once opened stays open, chargers are only added, an upgrade stays). With discount
factors :math:`\delta_t = (1 + \rho)^{-(\text{year}_t - \text{year}_1)}` the objective is

.. math::

    \min \sum_t \delta_t \Big[ \sum_j f_j (y_{jt} - y_{j,t-1})
        + \sum_{jk} p_{jk} (n_{jkt} - n_{jk,t-1}) + \sum_j a_j (g_{jt} - g_{j,t-1})
        + \sum_j o_j y_{jt} + \sum_{jk} o_k n_{jkt}
        + \sum_{(i,j),k} c_{ijkt} x_{ijkt} + \sum_{ik} \pi_k d_{ikt} u_{ikt} \Big]

with :math:`y_{j0} = 0`, :math:`n_{jk0} = E_{jk}` (existing chargers), :math:`g_{j0} = 0`,
site and charger operating costs :math:`o_j`, :math:`o_k` per year, and, if given, an annual
capex budget :math:`\sum_j f_j (y_{jt} - y_{j,t-1}) + \sum_{jk} p_{jk} (n_{jkt} - n_{jk,t-1})
+ \sum_j a_j (g_{jt} - g_{j,t-1}) \le B_t`. Capex terms telescope: the coefficient of
:math:`y_{jt}` is :math:`f_j (\delta_t - \delta_{t+1}) + \delta_t o_j` with
:math:`\delta_{T+1} = 0`, and likewise for :math:`n` and :math:`g`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np

from chargeplan._lp import InfeasibleRowError, SparseMILP
from chargeplan.errors import InputError, SolveError
from chargeplan.model import (
    FacilityProblem,
    ModelIndex,
    add_period,
    capex_vector,
    check_feasibility,
    cost_vector,
    decode,
)
from chargeplan.solve import Solution, SolverOptions, _run, _values, solve

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RolloutProblem:
    """A multi-year instance: one :class:`FacilityProblem` per year, same sites and pairs.

    Attributes
    ----------
    years
        Calendar years, increasing.
    periods
        One problem per year; their ``budget`` is that year's capex budget (``None``: none).
    discount_rate
        Yearly rate :math:`\\rho` for discounting costs to the first year.
    site_opex
        ``(S,)`` operating cost per open site and year.
    charger_opex
        ``(K,)`` operating cost per charger and year.
    """

    years: tuple[int, ...]
    periods: tuple[FacilityProblem, ...]
    discount_rate: float = 0.0
    site_opex: np.ndarray | None = None
    charger_opex: np.ndarray | None = None

    def __post_init__(self) -> None:
        if len(self.years) != len(self.periods) or not self.periods:
            raise InputError("rollout: give one problem per year, at least one year")
        if any(b <= a for a, b in zip(self.years, self.years[1:], strict=False)):
            raise InputError(f"rollout: years must increase, got {list(self.years)}")
        first = self.periods[0]
        for year, p in zip(self.years, self.periods, strict=True):
            if (
                not np.array_equal(p.site_ids, first.site_ids)
                or not np.array_equal(p.pair_zone, first.pair_zone)
                or not np.array_equal(p.pair_site, first.pair_site)
                or p.types != first.types
            ):
                raise InputError(f"rollout: year {year} has other sites, pairs or types")
            if p.objective != "min_cost":
                raise InputError("rollout: only the min_cost objective is supported")
            for name in ("fixed_cost", "charger_cost", "grid_upgrade_cost", "existing_chargers"):
                if not np.array_equal(getattr(p, name), getattr(first, name)):
                    raise InputError(
                        f"rollout: year {year} has another {name} than year {self.years[0]}: "
                        "prices and existing chargers must be the same in every year"
                    )
        s, k = len(first.site_ids), len(first.types)
        if self.site_opex is None:
            object.__setattr__(self, "site_opex", np.zeros(s))
        if self.charger_opex is None:
            object.__setattr__(self, "charger_opex", np.zeros(k))

    @property
    def discount(self) -> np.ndarray:
        """Discount factor of each year relative to the first."""
        years = np.asarray(self.years, float)
        return (1.0 + self.discount_rate) ** -(years - years[0])


def build_rollout(problem: RolloutProblem) -> tuple[SparseMILP, list[ModelIndex]]:
    """Assemble the multi-year model as sparse arrays: periods, links, budgets, objective."""
    # Required sites open in the first year and are paid from its budget only.
    check_feasibility(problem.periods[0])
    for p in problem.periods[1:]:
        check_feasibility(replace(p, budget=None))
    pattern = np.max(np.stack([p.demand for p in problem.periods]), axis=0)
    lp = SparseMILP()
    index = [
        add_period(lp, p, tag=f"_{year}", pattern=pattern)
        for year, p in zip(problem.years, problem.periods, strict=True)
    ]
    n_cols = lp.n_cols
    delta = problem.discount
    nxt = np.append(delta[1:], 0.0)
    objective = np.zeros(n_cols)
    offset = 0.0
    for t, (p, ix) in enumerate(zip(problem.periods, index, strict=True)):
        year_cost, _ = cost_vector(p, ix, n_cols)
        capex, _ = capex_vector(p, ix, n_cols)
        running = year_cost - capex  # access and unmet penalty of this year
        objective += delta[t] * running + (delta[t] - nxt[t]) * capex
        objective[ix.cols("y")] += delta[t] * problem.site_opex[ix.y_site]
        objective[ix.cols("n")] += delta[t] * problem.charger_opex[ix.n_type]
        if t == 0:
            existing = p.existing_chargers[ix.n_site, ix.n_type]
            offset -= delta[0] * float(p.charger_cost[ix.n_site, ix.n_type] @ existing)
        if t > 0:
            before = index[t - 1]
            for block in ("y", "n", "g"):
                now, then = ix.cols(block), before.cols(block)
                rows = np.arange(len(now))
                lp.add_rows(
                    f"keep_{block}_{problem.years[t]}",
                    len(now),
                    np.tile(rows, 2),
                    np.concatenate([now, then]),
                    np.concatenate([np.ones(len(now)), -np.ones(len(now))]),
                    0.0,
                    None,
                )
        if p.budget is not None:
            used = np.flatnonzero(capex)
            values = capex[used]
            rhs = p.budget
            if t > 0:
                prev_capex, _ = capex_vector(problem.periods[t - 1], index[t - 1], n_cols)
                prev = np.flatnonzero(prev_capex)
                used = np.concatenate([used, prev])
                values = np.concatenate([values, -prev_capex[prev]])
            else:
                existing = p.existing_chargers[ix.n_site, ix.n_type]
                rhs += float(p.charger_cost[ix.n_site, ix.n_type] @ existing)
            lp.add_rows(
                f"budget_{problem.years[t]}",
                1,
                np.zeros(len(used), np.int64),
                used,
                values,
                None,
                rhs,
            )
        if p.max_sites is not None:
            y = ix.cols("y")
            lp.add_rows(
                f"max_sites_{problem.years[t]}",
                1,
                np.zeros(len(y), np.int64),
                y,
                np.ones(len(y)),
                None,
                float(p.max_sites),
            )
    lp.objective, lp.objective_offset = objective, offset
    return lp, index


def year_by_year(
    problem: RolloutProblem, options: SolverOptions | None = None
) -> tuple[Solution, ...] | None:
    """Plan the years one after the other, each extending the last: a feasible rollout.

    Year t solves the single-year model with that year's demand and budget, the network of year
    t - 1 as existing chargers (no capex), its sites required and their fixed costs sunk, and
    its grid upgrades kept. The schedule obeys every rollout constraint (sites stay open,
    chargers are only added, each year's new capex within its budget) but it is myopic: it
    ignores discounting, operating costs and later years' demand. :func:`solve_rollout` hands
    it to HiGHS as a starting plan, so the rollout is never worse than it.

    Returns
    -------
    tuple[Solution, ...] or None
        One plan per year; ``None`` if a year found no plan within its time.
    """
    options = options or SolverOptions()
    first = problem.periods[0]
    opened = np.zeros(len(first.site_ids), bool)
    chargers = first.existing_chargers.astype(float)
    upgraded = np.zeros(len(first.site_ids), bool)
    plans = []
    for year, p in zip(problem.years, problem.periods, strict=True):
        step = replace(
            p,
            existing_chargers=np.maximum(p.existing_chargers, chargers),
            required=p.required | opened,
            fixed_cost=np.where(opened, 0.0, p.fixed_cost),
            grid_kw=np.where(upgraded, p.grid_kw + p.grid_upgrade_kw, p.grid_kw),
            grid_upgrade_kw=np.where(upgraded, 0.0, p.grid_upgrade_kw),
        )
        try:
            plan = solve(step, options)
        except (SolveError, InputError) as error:
            log.info("year-by-year start: %d found no plan (%s)", year, error)
            return None
        log.info(
            "year-by-year start: %d, %d sites, %d chargers (%s)",
            year,
            int(plan.open_site.sum()),
            int(plan.chargers.sum()),
            plan.status,
        )
        opened |= plan.open_site
        chargers = plan.chargers.astype(float)
        upgraded |= plan.grid_upgrade
        plans.append(replace(plan, grid_upgrade=upgraded.copy()))
    return tuple(plans)


def start_vector(
    problem: RolloutProblem, index: list[ModelIndex], n_cols: int, plans: tuple[Solution, ...]
) -> np.ndarray:
    """The rollout model's column values for a schedule of yearly plans."""
    start = np.zeros(n_cols)
    for p, ix, plan in zip(problem.periods, index, plans, strict=True):
        k = len(p.types)
        x = plan.served[ix.x_pair, ix.x_type]
        start[ix.cols("x")] = x
        # unmet closes each zone's assignment row (also where this year has no demand)
        served = np.zeros(len(p.zone_ids) * k)
        np.add.at(served, p.pair_zone[ix.x_pair] * k + ix.x_type, x)
        start[ix.cols("u")] = np.clip(1.0 - served[ix.u_zone * k + ix.u_type], 0.0, 1.0)
        start[ix.cols("y")] = plan.open_site[ix.y_site]
        n = plan.chargers[ix.n_site, ix.n_type]
        start[ix.cols("n")] = n
        if p.queue_levels is not None:
            # n = S m + r with r < S chargers in one partial queue (binary b at level r)
            size = np.array([len(levels) - 1 for levels in p.queue_levels])[ix.n_type]
            full, partial = np.divmod(n, size)
            start[ix.cols("m")] = full
            start[ix.cols("b")] = ix.b_level == partial[ix.b_entry]
        start[ix.cols("g")] = plan.grid_upgrade[ix.g_site]
    return start


@dataclass(frozen=True)
class RolloutSolution:
    """Per-year decisions and the solver outcome of the whole rollout."""

    years: tuple[int, ...]
    solutions: tuple[Solution, ...]
    status: str
    objective: float
    bound: float
    gap: float
    build_seconds: float
    solve_seconds: float


def solve_rollout(
    problem: RolloutProblem, options: SolverOptions | None = None, *, start_plan: bool = True
) -> RolloutSolution:
    """Build and solve the multi-year model with HiGHS.

    With ``start_plan`` (default) HiGHS starts from the year-by-year schedule
    (:func:`year_by_year`, given up to half the time limit), so the result is never worse than
    planning each year on its own; the rest of the time limit goes to the whole model.

    Returns
    -------
    RolloutSolution
        One :class:`~chargeplan.solve.Solution` per year (their objective fields hold the whole
        rollout's discounted objective, bound and gap).
    """
    options = options or SolverOptions()
    start = time.perf_counter()
    lp, index = build_rollout(problem)
    try:
        model, columns = lp.to_pyomo("chargeplan-rollout")
    except InfeasibleRowError as error:
        raise SolveError(f"the rollout model is infeasible as built ({error.family})") from None
    build_seconds = time.perf_counter() - start
    warm = False
    if start_plan and len(problem.years) > 1:
        # A feasible schedule to start from: HiGHS alone may spend its whole time limit on
        # the five-fold model without finding a plan better than "serve nobody".
        share = options.time_limit_s / (2 * len(problem.years))
        plans = year_by_year(
            problem,
            SolverOptions(max(share, 1.0), max(options.mip_rel_gap, 0.01), options.threads, False),
        )
        if plans is not None:
            for var, value in zip(
                columns, start_vector(problem, index, lp.n_cols, plans), strict=True
            ):
                var.set_value(float(value), skip_validation=True)
            warm = True
        used = time.perf_counter() - start - build_seconds
        options = replace(options, time_limit_s=max(options.time_limit_s - used, 1.0))
    log.info(
        "rollout model: %d years, %d columns, %d rows; solving with HiGHS (time limit %g s)",
        len(problem.years),
        lp.n_cols,
        sum(m.shape[0] for m, _, _ in lp.families.values()),
        options.time_limit_s,
    )
    outcome = _run(model, options, warm_start=warm)
    values = _values(columns)
    solutions = tuple(
        Solution(
            **decode(p, ix, values),
            status=outcome["status"],
            objective=outcome["objective"],
            bound=outcome["bound"],
            gap=outcome["gap"],
            build_seconds=build_seconds,
            solve_seconds=outcome["seconds"],
        )
        for p, ix in zip(problem.periods, index, strict=True)
    )
    return RolloutSolution(
        years=problem.years,
        solutions=solutions,
        status=outcome["status"],
        objective=outcome["objective"],
        bound=outcome["bound"],
        gap=outcome["gap"],
        build_seconds=build_seconds,
        solve_seconds=outcome["seconds"],
    )


def with_year(
    problem: FacilityProblem, demand: np.ndarray, budget: float | None
) -> FacilityProblem:
    """The single-year problem with another year's demand and budget (pair costs rescaled)."""
    old = problem.demand[problem.pair_zone]
    ratio = np.divide(demand[problem.pair_zone], old, out=np.zeros_like(old), where=old > 0)
    return replace(problem, demand=demand, pair_cost=problem.pair_cost * ratio, budget=budget)
