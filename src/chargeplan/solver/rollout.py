r"""Multi-year rollout: one model from today's users to the final target.

Years :math:`t = 1..T` with their own demand (from that year's premium-user target) share the
sites, pairs and charger types. Each year is a copy of the single-year model
(:func:`chargeplan.model.formulation.add_period`) and the years are linked:

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
from typing import Any, Literal

import numpy as np

from chargeplan.errors import InputError, SolveError
from chargeplan.model.formulation import (
    ModelIndex,
    decode,
)
from chargeplan.model.rollout import RolloutProblem, build_rollout
from chargeplan.model.solution import Solution, stage_outcome
from chargeplan.model.sparse import InfeasibleRowError
from chargeplan.solver.highs import column_values, run_highs, solve
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.rollout_lp import lp_guided_plan, set_chargers

log = logging.getLogger(__name__)


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
        set_chargers(start, p, ix, plan.chargers[ix.n_site, ix.n_type])
        start[ix.cols("g")] = plan.grid_upgrade[ix.g_site]
    return start


@dataclass(frozen=True)
class RolloutSolution:
    """Per-year decisions and the solver outcome of the whole rollout.

    ``method`` says what decided the plan: the LP-guided plan within the gap of the LP bound
    (no branch and bound), or HiGHS's branch and bound from a start (or none).
    """

    years: tuple[int, ...]
    solutions: tuple[Solution, ...]
    status: str
    objective: float
    bound: float
    gap: float
    build_seconds: float
    solve_seconds: float
    method: str = ""


#: Starting plans of :func:`solve_rollout`.
Start = Literal["lp", "year_by_year", "none"]


def solve_rollout(
    problem: RolloutProblem, options: SolverOptions | None = None, *, start: Start = "lp"
) -> RolloutSolution:
    """Build and solve the multi-year model.

    ``start``:

    - ``"lp"`` (default): the LP-guided plan (:func:`~chargeplan.solver.rollout_lp.
      lp_guided_plan`: the relaxation rounded, chargers sized, budgets kept, shares re-solved).
      If it is within ``options.mip_rel_gap`` of the LP relaxation's value, a lower bound of
      the rollout optimum, it is the result: no branch and bound, no time limit involved, the
      same plan on every run. Otherwise HiGHS starts from it and closes the gap (within the
      time limit); the bound is the better of HiGHS's and the LP's.
    - ``"year_by_year"``: HiGHS starts from the myopic schedule (:func:`year_by_year`, each
      year given a share of the time limit: the path before issue 13, kept for comparison;
      ``benchmarks/rollout.py``). A year that finds no plan in its share leaves HiGHS cold.
    - ``"none"``: HiGHS alone.

    One year is the single-year model: HiGHS alone, whatever ``start``.

    Returns
    -------
    RolloutSolution
        One :class:`~chargeplan.model.solution.Solution` per year (their objective fields hold the
        whole rollout's discounted objective, bound and gap).
    """
    options = options or SolverOptions()
    start_time = time.perf_counter()
    lp, index = build_rollout(problem)
    build_seconds = time.perf_counter() - start_time
    guided = None
    if start == "lp" and len(problem.years) > 1:
        guided = lp_guided_plan(problem, lp, index, options)
        if guided is None:
            log.info("rollout: the LP-guided plan failed; HiGHS starts cold")
        else:
            log.info(
                "rollout LP-guided plan (threshold %g): %.6g, LP bound %.6g, gap %.3f %% (%.1f s)",
                guided.threshold,
                guided.objective,
                guided.bound,
                100 * guided.gap,
                guided.seconds,
            )
        if guided is not None and guided.gap <= options.mip_rel_gap:
            stage = {
                "status": "optimal",
                "objective": guided.objective,
                "bound": guided.bound,
                "gap": guided.gap,
                "seconds": time.perf_counter() - start_time - build_seconds,
            }
            method = (
                f"LP-guided plan (threshold {guided.threshold:g}) within "
                f"{100 * options.mip_rel_gap:g} % of the LP bound: no branch and bound"
            )
            return _result(problem, index, guided.values, stage, build_seconds, method)
    try:
        model, columns = lp.to_pyomo("chargeplan-rollout")
    except InfeasibleRowError as error:
        raise SolveError(f"the rollout model is infeasible as built ({error.family})") from None
    build_seconds = time.perf_counter() - start_time - (guided.seconds if guided else 0.0)
    values = None
    if guided is not None:
        values, method = guided.values, "HiGHS branch and bound from the LP-guided plan"
    elif start == "year_by_year" and len(problem.years) > 1:
        values, options = _year_by_year_start(problem, index, lp.n_cols, options, start_time)
        method = "HiGHS branch and bound from the year-by-year plan"
        method += "" if values is not None else " (none found: cold)"
    else:
        method = "HiGHS branch and bound, cold"
    if values is not None:
        for var, value in zip(columns, values, strict=True):
            var.set_value(float(value), skip_validation=True)
    log.info(
        "rollout model: %d years, %d columns, %d rows; solving with HiGHS (time limit %g s)",
        len(problem.years),
        lp.n_cols,
        sum(m.shape[0] for m, _, _ in lp.families.values()),
        options.time_limit_s,
    )
    outcome = run_highs(model, options, warm_start=values is not None)
    if guided is not None and guided.bound > outcome["bound"]:  # both bounds are valid
        gap = abs(outcome["objective"] - guided.bound) / max(abs(outcome["objective"]), 1e-9)
        outcome = {**outcome, "bound": guided.bound, "gap": gap}
    if guided is not None:
        outcome["seconds"] += guided.seconds
    return _result(problem, index, column_values(columns), outcome, build_seconds, method)


def _year_by_year_start(
    problem: RolloutProblem,
    index: list[ModelIndex],
    n_cols: int,
    options: SolverOptions,
    start_time: float,
) -> tuple[np.ndarray | None, SolverOptions]:
    """The myopic start (half the time limit shared by the years) and the options with the
    time that is left."""
    # A feasible schedule to start from: HiGHS alone may spend its whole time limit on
    # the five-fold model without finding a plan better than "serve nobody".
    share = options.time_limit_s / (2 * len(problem.years))
    plans = year_by_year(
        problem,
        SolverOptions(max(share, 1.0), max(options.mip_rel_gap, 0.01), options.threads, False),
    )
    used = time.perf_counter() - start_time
    left = replace(options, time_limit_s=max(options.time_limit_s - used, 1.0))
    if plans is None:
        return None, left
    return start_vector(problem, index, n_cols, plans), left


def _result(
    problem: RolloutProblem,
    index: list[ModelIndex],
    values: np.ndarray,
    stage: dict[str, Any],
    build_seconds: float,
    method: str,
) -> RolloutSolution:
    """Decode every year's plan from the model's column values."""
    decoded: list[dict[str, Any]] = [
        decode(p, ix, values) for p, ix in zip(problem.periods, index, strict=True)
    ]
    fields = stage_outcome(stage, build_seconds)
    solutions = tuple(Solution(**decisions, **fields) for decisions in decoded)
    return RolloutSolution(years=problem.years, solutions=solutions, method=method, **fields)
