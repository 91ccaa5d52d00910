"""Solve a :class:`~chargeplan.model.problem.FacilityProblem` with HiGHS through Pyomo.

:func:`solve` builds the model, hands it to HiGHS (:class:`~chargeplan.solver.interface.
SparseHighs`, Pyomo's ``contrib.solver`` interface passing arrays) with the time limit,
relative MIP gap and threads asked for, and returns a :class:`Solution`: the decisions as
arrays plus status, objective, bound and gap. A solve that stops at its time limit with a plan
returns that plan with ``status == "time_limit"`` and its gap; one that stops with no plan at
all raises :class:`~chargeplan.errors.SolveError`.

For ``max_coverage`` the solve is lexicographic: first the most demand covered within the
budget/site limit, then the cheapest plan (capex + access) that covers that much.

Unless ``SolverOptions(reduce=False)``, the problem is first reduced exactly
(:mod:`chargeplan.solver.reduce`: zones with identical reach merged, dominated sites dropped),
the reduced problem solved and its plan expanded back to every zone, site and pair; pure
covering problems (:func:`chargeplan.model.problem.is_pure_covering`) use the covering form
without assignment variables and start from the greedy plan; maximal covering with a site
limit goes to :mod:`chargeplan.solver.covering` (a swap-search start, HiGHS as arrays).
``docs/scale.md`` ("Reductions", "Against spopt") has the measurements.

``solve(problem, options, extend=fn)`` lets ``fn(model, problem)`` add constraints, variables
or objective terms to the Pyomo model before it is solved (:mod:`chargeplan.solver.extend`
says which reductions then still apply); :func:`solve_model` solves a model the caller built
(:func:`chargeplan.build_model`) and extended.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import sys
import time
from typing import TYPE_CHECKING

import numpy as np

from chargeplan import progress
from chargeplan.errors import SolveError
from chargeplan.model.formulation import build_milp, to_model
from chargeplan.model.index import ModelIndex, ModelOrigin, model_index
from chargeplan.model.limits import check_model_size
from chargeplan.model.objective import access_and_capex, unmet_vector
from chargeplan.model.problem import FacilityProblem, is_pure_covering
from chargeplan.model.rows import InfeasibleRowError
from chargeplan.model.solution import Solution, column_values, read_solution
from chargeplan.model.targets import shortfall
from chargeplan.solver.advice import time_limit_advice
from chargeplan.solver.covering import mclp_applies, solve_mclp
from chargeplan.solver.direct import direct_applies, solve_direct
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.pcenter import bisection_applies, solve_by_bisection
from chargeplan.solver.reduce import greedy_cover, reduce_problem

if TYPE_CHECKING:  # Pyomo is imported when a Pyomo model is built: the array path needs none
    import pyomo.environ as pyo

    from chargeplan.solver.extend import Extension
    from chargeplan.solver.interface import SparseHighs

__all__ = ["column_values", "run_highs", "solve", "solve_model"]

log = logging.getLogger(__name__)


def run_highs(model: pyo.ConcreteModel, options: SolverOptions, warm_start: bool = False) -> dict:
    """Solve with HiGHS; ``warm_start``: start from the variables' current values.

    Costs are scaled for HiGHS and its progress reported
    (:func:`chargeplan.solver.scaling.reporting`). HiGHS's log goes to standard error with
    ``options.log_to_stderr`` and is appended to ``options.log_file`` if set (a file that
    cannot be opened is skipped with a log message).
    """
    from chargeplan.solver.interface import ReportingHighs

    solver = ReportingHighs(warm_start=warm_start)
    if not solver.available():
        raise SolveError("HiGHS is not available: install highspy (pip install highspy)")
    with contextlib.ExitStack() as stack:
        tee: list = [sys.stderr] if options.log_to_stderr else []
        if options.log_file is not None:
            try:
                tee.append(stack.enter_context(open(options.log_file, "a", encoding="utf-8")))
            except OSError as error:
                log.info("solver log not written to %s: %s", options.log_file, error)
        return _run(solver, model, options, tee)


def _run(solver: SparseHighs, model: pyo.ConcreteModel, options: SolverOptions, tee: list) -> dict:
    """:func:`run_highs` once its log streams are open."""
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

    names = {
        TerminationCondition.convergenceCriteriaSatisfied: "optimal",
        TerminationCondition.maxTimeLimit: "time_limit",
        TerminationCondition.iterationLimit: "iteration_limit",
        TerminationCondition.interrupted: "interrupted",
    }
    progress.step("solve")
    kwargs = {
        "time_limit": options.time_limit_s,
        "rel_gap": options.mip_rel_gap,
        "load_solutions": False,
        "raise_exception_on_nonoptimal_result": False,
        "tee": tee or False,
    }
    if options.threads is not None:
        kwargs["threads"] = options.threads
    work = {} if options.mip_max_nodes is None else {"mip_max_nodes": int(options.mip_max_nodes)}
    start = time.perf_counter()
    results = solver.solve(model, **kwargs, solver_options=work)  # work: the same on any machine
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
    objective = float(results.incumbent_objective)  # constant included (SparseHighs adds it)
    bound = results.objective_bound
    # No finite bound: HiGHS stopped before its root LP ended. Then nothing is proved; the
    # gap is infinite (not 0, which would claim the incumbent optimal).
    bound = -math.inf if bound is None or not math.isfinite(bound) else float(bound)
    if tc == TerminationCondition.convergenceCriteriaSatisfied:
        status = "optimal"
    else:
        status = names.get(tc, tc.name)
    gap = abs(objective - bound) / max(abs(objective), 1e-9)
    return {
        "status": status,
        "objective": objective,
        "bound": bound,
        "gap": gap,
        "seconds": seconds,
    }


def solve(
    problem: FacilityProblem,
    options: SolverOptions | None = None,
    *,
    extend: Extension | None = None,
) -> Solution:
    """Build and solve the model; return the plan's decisions and the solver outcome.

    Parameters
    ----------
    problem
        The instance.
    options
        Time limit, gap, threads and whether to reduce the problem first.
    extend
        ``extend(model, problem)``: adds constraints, variables or objective terms to the
        labelled Pyomo model (:func:`chargeplan.build_model`) before it is solved, the Pyomo
        way (``model.y["SH-01"]``, ``model.n[site, type]``, ...). The plan is read from the
        extended model. It may be called more than once (on the model of the problem as
        given, then on that of the reduced problem); reductions that would change what it
        touches are switched off (:mod:`chargeplan.solver.extend`).

    Returns
    -------
    Solution

    Raises
    ------
    SolveError
        If HiGHS proves the model infeasible or finds no plan within the time limit.
    """
    options = options or SolverOptions()
    if extend is not None:
        return _solve_extended(problem, options, extend)
    if bisection_applies(problem):  # the plain p-center: set covers, not the minimax MILP
        return solve_by_bisection(problem, options, solve)
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


def solve_model(model: pyo.ConcreteModel, options: SolverOptions | None = None) -> Solution:
    """Solve a model of :func:`chargeplan.build_model`, extended or not, and read its plan.

    The model is solved as it stands (no reductions: it is built already). For
    ``max_coverage`` with the objective as built, the second, cost stage follows (within the
    model's own constraints, the user's included); an objective the caller changed is solved
    once. The variables keep the plan's values.

    Parameters
    ----------
    model
        A model of :func:`chargeplan.build_model`.
    options
        Time limit, gap and threads (``reduce`` does not apply).

    Returns
    -------
    Solution

    Raises
    ------
    SolveError
        If HiGHS proves the model infeasible or finds no plan within the time limit.
    """
    return _solve_model(model, options or SolverOptions(), build_seconds=0.0)


def _build(problem: FacilityProblem, covering: bool) -> pyo.ConcreteModel:
    """The labelled model (size checked first, infeasible rows as a :class:`SolveError`)."""
    progress.step("build model")
    check_model_size(problem)  # refuse a model that cannot fit in memory before building it
    lp, ix = build_milp(problem, covering=covering)
    try:
        return to_model(lp, ix, problem)
    except InfeasibleRowError as error:
        raise SolveError(
            f"the model is infeasible as built ({error.family}): no site variable can satisfy "
            "it; check max_sites, the budget and the required sites"
        ) from None


def _solve(problem: FacilityProblem, options: SolverOptions) -> Solution:
    """Build and solve as given (covering form and greedy start if ``options.reduce``).

    One-stage problems without a starting plan go to HiGHS as arrays, without Pyomo
    (:mod:`chargeplan.solver.direct`: the same model, columns and options, so the same plan).
    """
    covering = options.reduce and is_pure_covering(problem)
    if covering and mclp_applies(problem, options):  # MCLP: swap-search start, lean branching
        solution = solve_mclp(problem, options)
        if solution is not None:
            if solution.status == "time_limit":
                total = float(problem.demand.sum())
                coverage = (total - solution.objective, total - solution.bound)
                words = solution.formulation
                advice = time_limit_advice(
                    problem,
                    model_index(problem),
                    options,
                    solution.gap,
                    words,
                    covering=True,
                    coverage=coverage,
                )
                log.warning(advice)
            return solution
    if direct_applies(problem, covering, options):
        solution = solve_direct(problem, options)
        if solution is not None:
            if solution.status == "time_limit":
                ix = model_index(problem)
                advice = time_limit_advice(problem, ix, options, solution.gap, solution.formulation)
                log.warning(advice)
            return solution
    start = time.perf_counter()
    model = _build(problem, covering)
    build_seconds = time.perf_counter() - start
    start_plan = greedy_cover(problem) if covering else None
    if start_plan is not None:
        _set_cover_start(problem, model.chargeplan.index, model.columns, start_plan)
    return _solve_model(model, options, build_seconds, warm_start=start_plan is not None)


def _solve_extended(
    problem: FacilityProblem, options: SolverOptions, extend: Extension
) -> Solution:
    """:func:`solve` with ``extend``: the model as given, or a reduced one where that is exact.

    The model of the problem as given is built and extended first; what the extension touched
    decides what may be reduced (:func:`chargeplan.solver.extend.extend_model`). If something
    is, that model is let go (only one model is held at a time), the reduced model is built and
    extended too, and solved when the extension added the same thing to it (compared by label);
    otherwise the model of the problem as given is built and extended again and solved.
    """
    from chargeplan.solver.extend import extend_model

    start = time.perf_counter()
    model: pyo.ConcreteModel | None = _build(problem, covering=False)
    extension = extend_model(model, extend)
    if options.reduce:
        reduction = reduce_problem(problem, extension.sites, extension.zones)
        covering = is_pure_covering(problem) and not extension.assignment
        if reduction.changed or covering:
            model = None
            smaller = _build(reduction.problem, covering)
            try:
                again = extend_model(smaller, extend)
            except Exception as error:  # the extension assumed the problem as given
                log.info("extension failed on the reduced problem (%s): not reducing", error)
                again = None
            if again is not None and again.signature == extension.signature:
                log.info(
                    "reduced with the extension: %d zones merged, %d sites dropped%s",
                    reduction.merged_zones,
                    reduction.dropped_sites,
                    ", covering form" if covering else "",
                )
                seconds = time.perf_counter() - start
                return reduction.expand(_solve_model(smaller, options, seconds))
            if again is not None:
                log.info("the extension differs on the reduced problem: not reducing")
            del smaller
            model = _build(problem, covering=False)
            extend_model(model, extend)
    assert model is not None
    return _solve_model(model, options, time.perf_counter() - start)


def _objective_as_built(model: pyo.ConcreteModel) -> bool:
    """Whether the model's only active objective is ``model.obj``, its vector alone."""
    import pyomo.environ as pyo

    from chargeplan.model.components import SparseObjective

    active = list(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    obj = model.component("obj")
    return (
        active == [obj]
        and isinstance(obj, SparseObjective)
        and obj.weights is not None
        and obj.extra is None
    )


def _solve_model(
    model: pyo.ConcreteModel,
    options: SolverOptions,
    build_seconds: float,
    warm_start: bool = False,
) -> Solution:
    """Run HiGHS on a built model (two stages for ``max_coverage``) and read the plan."""
    import pyomo.environ as pyo

    from chargeplan.model.components import SparseConstraint

    origin = getattr(model, "chargeplan", None)
    if not isinstance(origin, ModelOrigin):
        raise TypeError("solve_model needs a model built by chargeplan.build_model")
    problem, ix = origin.problem, origin.index
    nx, nu, ny, nn = ix.sizes
    log.info(
        "model: %d assignment, %d unmet, %d site and %d charger variables, %d rows; solving "
        "with HiGHS (time limit %g s, gap %g)",
        nx,
        nu,
        ny,
        nn,
        sum(
            c.matrix.shape[0]
            for c in model.component_objects(pyo.Constraint, active=True)
            if isinstance(c, SparseConstraint)
        ),
        options.time_limit_s,
        options.mip_rel_gap,
    )
    two_stages = problem.objective == "max_coverage" and _objective_as_built(model)
    from chargeplan.solver.modelstart import first_stage

    first, formulation = first_stage(model, options, warm_start, run_highs)
    stages = [first]
    if two_stages:
        second = _cost_stage(model, problem, ix, options, first["seconds"])
        if second is not None:
            stages.append(second)
    worst = max(stages, key=lambda s: (s["status"] != "optimal", s["gap"]))
    if worst["status"] == "time_limit":
        log.warning(time_limit_advice(problem, ix, options, worst["gap"]))
    return dataclasses.replace(
        read_solution(model),
        formulation=formulation,
        status=worst["status"],
        objective=first["objective"],
        bound=first["bound"],
        gap=first["gap"],
        build_seconds=build_seconds,
        solve_seconds=sum(s["seconds"] for s in stages),
        stages=tuple(stages),
    )


def _cost_stage(
    model: pyo.ConcreteModel,
    problem: FacilityProblem,
    ix: ModelIndex,
    options: SolverOptions,
    used_seconds: float,
) -> dict | None:
    """``max_coverage``'s second stage: the cheapest plan covering what the first one did.

    Adds the row ``coverage_floor`` and the objective ``cost_obj`` (capex + access) for the
    solve, then removes them and restores ``obj``; the variables keep the second stage's plan.
    ``None`` when every plan costs the same (no capex or access cost).
    """
    import scipy.sparse as sp

    from chargeplan.model.components import SparseConstraint, SparseObjective

    columns = model.columns
    unmet = unmet_vector(problem, ix)
    covered_unmet = float(column_values(columns) @ unmet)
    slack = max(1e-9 * max(problem.demand.sum(), 1.0), 1e-7)
    weights, constant = access_and_capex(problem, ix)
    if not np.any(weights):  # every plan covering that much costs the same: done
        return None
    model.coverage_floor = SparseConstraint(
        sp.csr_matrix(unmet[None, :]),
        np.array([-np.inf]),
        np.array([covered_unmet + slack]),
        columns,
    )
    model.obj.deactivate()
    model.cost_obj = SparseObjective(weights, columns, constant=constant)
    remaining = max(options.time_limit_s - used_seconds, 1.0)
    try:
        return run_highs(
            model,
            dataclasses.replace(options, time_limit_s=remaining),
            warm_start=True,  # the first stage's plan is feasible here
        )
    finally:
        model.del_component("cost_obj")
        model.del_component("coverage_floor")
        model.obj.activate()


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
    if "s" in ix.offsets:  # coverage targets: the start's shortfall, so that it is feasible
        unmet = np.zeros(problem.demand.shape)
        unmet[ix.u_zone, ix.u_type] = values[ix.cols("u")]
        values[ix.cols("s")] = shortfall(problem, unmet)[ix.s_group]
    for variable, value in zip(columns, values.tolist(), strict=True):
        variable.set_value(value, skip_validation=True)
