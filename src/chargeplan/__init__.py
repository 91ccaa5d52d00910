"""chargeplan: plan electric-vehicle charging networks.

Where to build chargers, how many of each kind, what it costs, and which demand stays out of
reach. The public API returns GeoDataFrames::

    import chargeplan
    scenario = chargeplan.load_scenario("models/china-2030.toml")
    plan = chargeplan.plan_network(scenario.with_values({"users.target_premium_users": 10_000_000}))
    plan.sites[plan.sites.open], plan.gaps, plan.summary

The package is laid out as the data flows (``docs/architecture.md``): ``config`` ->
``inputs`` -> ``model`` -> ``solver`` -> ``results`` -> ``outputs`` -> ``workflows`` -> ``cli``.
The names below are re-exported lazily: ``import chargeplan`` loads none of Pyomo, GeoPandas,
Dask, folium or matplotlib until one of them is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from chargeplan._version import __version__

#: Public name -> the module that defines it.
_EXPORTS = {
    "ChargeplanError": "chargeplan.errors",
    "InputError": "chargeplan.errors",
    "ScenarioError": "chargeplan.errors",
    "SolveError": "chargeplan.errors",
    "Scenario": "chargeplan.config.scenario",
    "load_catalogue": "chargeplan.config.scenario",
    "load_scenario": "chargeplan.config.scenario",
    "Inputs": "chargeplan.inputs.prepare",
    "prepare": "chargeplan.inputs.prepare",
    "build_problem": "chargeplan.inputs.problem",
    "FacilityProblem": "chargeplan.model.problem",
    "Solution": "chargeplan.model.solution",
    "build_model": "chargeplan.model.formulation",
    "read_solution": "chargeplan.model.solution",
    "SolverOptions": "chargeplan.solver.options",
    "solve": "chargeplan.solver.highs",
    "solve_model": "chargeplan.solver.highs",
    "Plan": "chargeplan.results.plan",
    "make_plan": "chargeplan.results.plan",
    "station_economics": "chargeplan.results.economics",
    "plan_network": "chargeplan.workflows.network",
}

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
    "__version__",
    "build_model",
    "build_problem",
    "load_catalogue",
    "load_scenario",
    "make_plan",
    "plan_network",
    "prepare",
    "read_solution",
    "solve",
    "solve_model",
    "station_economics",
]

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ imports on use
    from chargeplan.config.scenario import Scenario, load_catalogue, load_scenario
    from chargeplan.errors import ChargeplanError, InputError, ScenarioError, SolveError
    from chargeplan.inputs.prepare import Inputs, prepare
    from chargeplan.inputs.problem import build_problem
    from chargeplan.model.formulation import build_model
    from chargeplan.model.problem import FacilityProblem
    from chargeplan.model.solution import Solution, read_solution
    from chargeplan.results.economics import station_economics
    from chargeplan.results.plan import Plan, make_plan
    from chargeplan.solver.highs import solve, solve_model
    from chargeplan.solver.options import SolverOptions
    from chargeplan.workflows.network import plan_network


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'chargeplan' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
