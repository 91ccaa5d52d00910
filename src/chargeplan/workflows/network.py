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

from chargeplan.config.scenario import Scenario
from chargeplan.inputs.prepare import Inputs, prepare
from chargeplan.inputs.problem import build_problem
from chargeplan.inputs.reach import demand_centres
from chargeplan.results.plan import Plan, make_plan
from chargeplan.solver.decompose import Executor
from chargeplan.solver.highs import solve
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.polish import close_idle_sites
from chargeplan.workflows.economics import add_economics, read_economics, support_in_capex
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
    """
    start = time.perf_counter()
    if scenario.rollout is not None:
        return plan_rollout(scenario, inputs=inputs, solver=solver)
    inputs = inputs or prepare(scenario)
    economics = read_economics(scenario, inputs.sites)  # checked before the solve
    inputs = support_in_capex(inputs, scenario, economics)
    problem = build_problem(scenario, inputs)
    options = solver or solver_options(scenario)
    extra: dict[str, object] = {"scenario": scenario.name}
    if scenario.decompose.by == "none":
        solution = solve(problem, options)
    else:
        zc = scenario.zones
        centres = demand_centres(
            inputs.zones, lon_column=zc.centre_lon_column, lat_column=zc.centre_lat_column
        )
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
    solution = close_idle_sites(problem, solution)
    plan = make_plan(problem, solution, inputs.zones, inputs.sites, extra_summary=extra)
    plan = add_economics(plan, scenario, economics)
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
