"""The end-to-end path: scenario -> inputs -> demand -> reach -> problem -> solve -> plan.

Each step is a public function, so a notebook can stop after any of them and look::

    import chargeplan
    scenario = chargeplan.load_scenario("models/china-2030.toml")
    inputs = chargeplan.prepare(scenario)          # zones with demand, sites, pairs
    plan = chargeplan.plan_network(scenario)       # or plan_network(scenario, inputs=inputs)
    plan.sites[plan.sites.open]                    # GeoDataFrame of built sites
"""

from __future__ import annotations

import logging
import time

import numpy as np

from chargeplan import progress
from chargeplan.config.scenario import Scenario
from chargeplan.errors import ScenarioError
from chargeplan.inputs.prepare import Inputs, prepare
from chargeplan.inputs.problem import build_problem
from chargeplan.inputs.reach import demand_centres
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution
from chargeplan.results.plan import Plan, make_plan
from chargeplan.results.stations import StationSettings
from chargeplan.solver.decompose import Executor
from chargeplan.solver.highs import solve
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.polish import close_idle_sites
from chargeplan.workflows.economics import (
    add_economics,
    economic_objective,
    read_economics,
    support_in_capex,
)
from chargeplan.workflows.options import solver_options
from chargeplan.workflows.regions import solve_scenario_regions
from chargeplan.workflows.rollout import plan_rollout

log = logging.getLogger(__name__)


def plan_network(
    scenario: Scenario,
    *,
    inputs: Inputs | None = None,
    solver: SolverOptions | None = None,
    executor: Executor | None = None,
) -> Plan:
    """Plan the charging network a scenario asks for.

    Parameters
    ----------
    scenario
        A validated scenario (:func:`chargeplan.load_scenario`).
    inputs
        Prepared inputs to reuse (default: :func:`prepare` them).
    solver
        Override the scenario's solver options.
    executor
        With ``decompose.by`` other than ``"none"``: a ``map``-like callable that solves the
        regions (e.g. from :func:`chargeplan.solver.distributed.dask_executor`) instead of the one
        ``decompose.scheduler``/``workers`` ask for.

    Returns
    -------
    Plan
        Sites and zones as GeoDataFrames, assignments and a summary; for a scenario with a
        ``[rollout]`` section the multi-year plan of :func:`plan_rollout`. A decomposed plan's
        summary adds the ``decompose_*`` figures (:meth:`chargeplan.solver.decompose.Decomposition.
        summary`).

    Notes
    -----
    In a Jupyter notebook the stages and the solver's progress are shown as they come
    (:func:`chargeplan.progress.in_notebook_default`).
    """
    with progress.in_notebook_default():
        return _plan_network(scenario, inputs, solver, executor)


def _plan_network(
    scenario: Scenario,
    inputs: Inputs | None,
    solver: SolverOptions | None,
    executor: Executor | None,
) -> Plan:
    """:func:`plan_network`."""
    start = time.perf_counter()
    if scenario.rollout is not None:
        return plan_rollout(scenario, inputs=inputs, solver=solver)
    inputs = inputs or prepare(scenario)
    economics = read_economics(scenario, inputs.sites)  # checked before the solve
    inputs = support_in_capex(inputs, scenario, economics)
    problem = build_problem(scenario, inputs)
    objective = economic_objective(scenario, inputs, problem, economics)
    options = solver or solver_options(scenario)
    extra: dict[str, object] = {"scenario": scenario.name}
    nothing = _nothing_to_serve(problem)
    if nothing is not None:
        solution = nothing
    elif scenario.decompose.by == "none":
        solution = solve(objective.problem, options, extend=objective.extension)
    else:
        if objective.extension is not None:
            raise ScenarioError(
                "economics.support_in_capex with station caps or station designs is solved as "
                "one model: set decompose.by = 'none'"
            )
        zc = scenario.zones
        centres = demand_centres(
            inputs.zones, lon_column=zc.centre_lon_column, lat_column=zc.centre_lat_column
        )
        progress.step("solve regions")
        solution, figures = solve_scenario_regions(
            scenario,
            problem,
            inputs.zones,
            inputs.sites,
            options,
            centres=centres,
            executor=executor,
        )
        extra.update(figures)
    progress.step("results")
    if objective.extension is None:  # the polish knows the problem's costs, not a hook's
        solution = close_idle_sites(objective.problem, solution)
    plan = make_plan(
        problem,
        solution,
        inputs.zones,
        inputs.sites,
        extra_summary=extra,
        stations=StationSettings.from_scenario(scenario),
    )
    plan = add_economics(plan, scenario, economics, objective, (problem, solution))
    plan.summary["total_seconds"] = time.perf_counter() - start
    log.info(
        "plan: %s, %d sites, %d chargers, capex CNY %.3g bn, coverage %.1f %% (gap %.2g %%)",
        plan.summary["status"],
        plan.summary["sites_opened"],
        plan.summary["chargers"],
        plan.summary["capex_cny"] / 1e9,
        100 * plan.summary["coverage"],
        100 * plan.summary["gap"],
    )
    return plan


def _nothing_to_serve(problem: FacilityProblem) -> Solution | None:
    """The plan of an instance with no demand and no site or charger forced: nothing built.

    Every cost is >= 0 and no demand can go unmet, so building nothing is optimal at objective
    0. HiGHS is not asked: its presolve empties such a model and it reports no plan (a
    ``[competition] target_own_share = 0`` scenario, docs/competition.md). ``None`` otherwise.
    """
    if problem.demand.any() or problem.must_open.any() or problem.min_chargers.any():
        return None
    s, k = problem.max_chargers.shape
    return Solution(
        open_site=np.zeros(s, bool),
        chargers=np.zeros((s, k), np.int64),
        served=np.zeros((len(problem.pair_zone), k)),
        unmet=np.zeros(problem.demand.shape),
        grid_upgrade=np.zeros(s, bool),
        status="optimal",
        objective=0.0,
        bound=0.0,
        gap=0.0,
        build_seconds=0.0,
        solve_seconds=0.0,
    )
