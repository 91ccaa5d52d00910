"""chargeplan: plan electric-vehicle charging networks.

Where to build chargers, how many of each kind, what it costs, and which demand stays out of
reach. The public API returns GeoDataFrames::

    import chargeplan
    scenario = chargeplan.load_scenario("models/china-2030.toml")
    plan = chargeplan.plan_network(scenario.with_values({"users.target_premium_users": 10_000_000}))
    plan.sites[plan.sites.open], plan.gaps, plan.summary
"""

from chargeplan.errors import ChargeplanError, InputError, ScenarioError, SolveError
from chargeplan.model import FacilityProblem, build_model
from chargeplan.pipeline import Inputs, build_problem, plan_network, prepare
from chargeplan.plan import Plan, make_plan
from chargeplan.scenario import Scenario, load_catalogue, load_scenario
from chargeplan.solve import Solution, SolverOptions, solve

__version__ = "0.1.0"

__all__ = [
    "ChargeplanError",
    "FacilityProblem",
    "InputError",
    "Inputs",
    "Plan",
    "Scenario",
    "ScenarioError",
    "Solution",
    "SolveError",
    "SolverOptions",
    "build_model",
    "build_problem",
    "load_catalogue",
    "load_scenario",
    "make_plan",
    "plan_network",
    "prepare",
    "solve",
]
