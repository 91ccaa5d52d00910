"""Solve a :class:`~chargeplan.model.problem.FacilityProblem` with HiGHS through Pyomo.

:func:`solve` builds the model, hands it to HiGHS (Pyomo's ``contrib.solver`` interface) with
the time limit, relative MIP gap and threads asked for, and returns a :class:`Solution`: the
decisions as arrays plus status, objective, bound and gap. A solve that stops at its time limit
with a plan returns that plan with ``status == "time_limit"`` and its gap; one that stops with
no plan at all raises :class:`~chargeplan.errors.SolveError`.

For ``max_coverage`` the solve is lexicographic: first the most demand covered within the
budget/site limit, then the cheapest plan (capex + access) that covers that much.

Unless ``SolverOptions(reduce=False)``, the problem is first reduced exactly
(:mod:`chargeplan.solver.reduce`: zones with identical reach merged, dominated sites dropped), the
reduced problem solved and its plan expanded back to every zone, site and pair; pure covering
problems (:func:`chargeplan.model.problem.is_pure_covering`) use the covering form without
assignment variables and start from the greedy plan. ``docs/scale.md`` ("Reductions") has the
measurements.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import sys
import time

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

from chargeplan.errors import SolveError
from chargeplan.model.formulation import (
    ModelIndex,
    build_milp,
    cost_vector,
    decode,
    unmet_vector,
)
from chargeplan.model.limits import check_model_size
from chargeplan.model.problem import FacilityProblem, is_pure_covering
from chargeplan.model.solution import Solution
from chargeplan.model.sparse import (
    InfeasibleRowError,
    SparseConstraint,
    SparseObjective,
)
from chargeplan.solver.interface import SparseHighs
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.reduce import greedy_cover, reduce_problem

log = logging.getLogger(__name__)


_STATUS = {
    TerminationCondition.convergenceCriteriaSatisfied: "optimal",
    TerminationCondition.maxTimeLimit: "time_limit",
    TerminationCondition.iterationLimit: "iteration_limit",
    TerminationCondition.interrupted: "interrupted",
}


def run_highs(model: pyo.ConcreteModel, options: SolverOptions, warm_start: bool = False) -> dict:
    """Solve with HiGHS; ``warm_start``: start from the variables' current values."""
    solver = SparseHighs(warm_start=warm_start)
    if not solver.available():
        raise SolveError("HiGHS is not available: install highspy (pip install highspy)")
    kwargs = {
        "time_limit": options.time_limit_s,
        "rel_gap": options.mip_rel_gap,
        "load_solutions": False,
        "raise_exception_on_nonoptimal_result": False,
        "tee": [sys.stderr] if options.log_to_stderr else False,
    }
    if options.threads is not None:
        kwargs["threads"] = options.threads
    start = time.perf_counter()
    results = solver.solve(model, **kwargs)
    seconds = time.perf_counter() - start
    has_plan = results.solution_status in (SolutionStatus.feasible, SolutionStatus.optimal)
    tc = results.termination_condition
    if tc in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded):
        raise SolveError(
            "HiGHS found the model infeasible: the hard limits contradict each other "
            "(required sites, budget, max_sites or charger limits); relax them"
        )
    if not has_plan:
        raise SolveError(
            f"HiGHS stopped ({tc.name}) after {seconds:.1f} s without any plan: raise "
            "solver.time_limit_s or make the instance smaller (fewer pairs or sites)"
        )
    results.solution_loader.load_vars()
    offset = getattr(model, "objective_offset", 0.0)
    objective = float(results.incumbent_objective) + offset
    bound = results.objective_bound
    bound = objective if bound is None or not math.isfinite(bound) else float(bound) + offset
    if tc == TerminationCondition.convergenceCriteriaSatisfied:
        status = "optimal"
    else:
        status = _STATUS.get(tc, tc.name)
    gap = abs(objective - bound) / max(abs(objective), 1e-9)
    return {
        "status": status,
        "objective": objective,
        "bound": bound,
        "gap": gap,
        "seconds": seconds,
    }


def column_values(variables: list) -> np.ndarray:
    return np.fromiter((v.value or 0.0 for v in variables), dtype=float, count=len(variables))


def solve(problem: FacilityProblem, options: SolverOptions | None = None) -> Solution:
    """Build and solve the model; return the plan's decisions and the solver outcome.

    Parameters
    ----------
    problem
        The instance.
    options
        Time limit, gap and threads.

    Returns
    -------
    Solution

    Raises
    ------
    SolveError
        If HiGHS proves the model infeasible or finds no plan within the time limit.
    """
    options = options or SolverOptions()
    if not options.reduce:
        return _solve(problem, options)
    start = time.perf_counter()
    reduction = reduce_problem(problem)
    seconds = time.perf_counter() - start
    if not reduction.changed:
        solution = _solve(problem, options)
    else:
        log.info(
            "reduced: %d zones merged, %d sites dropped",
            reduction.merged_zones,
            reduction.dropped_sites,
        )
        solution = reduction.expand(_solve(reduction.problem, options))
    return dataclasses.replace(solution, build_seconds=solution.build_seconds + seconds)


def _solve(problem: FacilityProblem, options: SolverOptions) -> Solution:
    """Build and solve as given (covering form and greedy start if ``options.reduce``)."""
    check_model_size(problem)  # refuse a model that cannot fit in memory before building it
    start = time.perf_counter()
    covering = options.reduce and is_pure_covering(problem)
    lp, ix = build_milp(problem, covering=covering)
    try:
        model, columns = lp.to_pyomo()
    except InfeasibleRowError as error:
        raise SolveError(
            f"the model is infeasible as built ({error.family}): no site variable can satisfy "
            "it; check max_sites, the budget and the required sites"
        ) from None
    build_seconds = time.perf_counter() - start
    nx, nu, ny, nn = ix.sizes
    log.info(
        "model: %d assignment, %d unmet, %d site and %d charger variables, %d rows; solving "
        "with HiGHS (time limit %g s, gap %g)",
        nx,
        nu,
        ny,
        nn,
        sum(m.shape[0] for m, _, _ in lp.families.values()),
        options.time_limit_s,
        options.mip_rel_gap,
    )
    start_plan = greedy_cover(problem) if covering else None
    if start_plan is not None:
        _set_cover_start(problem, ix, columns, start_plan)
    first = run_highs(model, options, warm_start=start_plan is not None)
    stages = [first]
    if problem.objective == "max_coverage":
        unmet = unmet_vector(problem, ix)
        covered_unmet = float(column_values(columns) @ unmet)
        slack = max(1e-9 * max(problem.demand.sum(), 1.0), 1e-7)
        weights, offset = _access_capex(problem, ix)
        if np.any(weights):  # else every plan covering that much costs the same: done
            model.coverage_floor = SparseConstraint(
                sp.csr_matrix(unmet[None, :]), [-np.inf], [covered_unmet + slack], columns
            )
            model.obj.deactivate()
            model.objective_offset = offset
            model.cost_obj = SparseObjective(weights, columns)
            remaining = max(options.time_limit_s - first["seconds"], 1.0)
            stages.append(
                run_highs(
                    model,
                    dataclasses.replace(options, time_limit_s=remaining),
                    warm_start=True,  # the first stage's plan is feasible here
                )
            )
    solution = decode(problem, ix, column_values(columns))
    worst = max(stages, key=lambda s: (s["status"] != "optimal", s["gap"]))
    return Solution(
        **solution,
        status=worst["status"],
        objective=first["objective"],
        bound=first["bound"],
        gap=first["gap"],
        build_seconds=build_seconds,
        solve_seconds=sum(s["seconds"] for s in stages),
        stages=tuple(stages),
    )


def _set_cover_start(
    problem: FacilityProblem, ix: ModelIndex, columns: list, open_site: np.ndarray
) -> None:
    """Give the covering form's variables the values of a plan that opens ``open_site``."""
    values = np.zeros(len(columns))
    values[ix.cols("y")] = open_site[ix.y_site]
    covered = np.zeros(len(problem.zone_ids), bool)
    live = open_site[problem.pair_site] & ~problem.excluded[problem.pair_site]
    covered[problem.pair_zone[live]] = True
    values[ix.cols("u")] = ~covered[ix.u_zone]
    for variable, value in zip(columns, values.tolist(), strict=True):
        variable.set_value(value, skip_validation=True)


def _access_capex(problem: FacilityProblem, ix: ModelIndex) -> tuple[np.ndarray, float]:
    """Cost vector without the unmet penalty (capex + access), for the second stage."""
    weights, offset = cost_vector(problem, ix)
    weights[ix.cols("u")] = 0.0
    return weights, offset
