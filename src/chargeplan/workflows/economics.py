"""A plan's station economics, as its scenario's ``[economics]`` asks: tables read and checked
before the solve (:func:`read_economics`), the objective the scenario asks for
(:func:`economic_objective`: ``max_npv``, or construction support in the least-cost objective),
NPV and payback per station computed after the solve and the network's figures added to the
summary (:func:`add_economics`)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from chargeplan.config.scenario import Scenario
from chargeplan.errors import InputError
from chargeplan.inputs.economics_tables import read_support, read_tariffs
from chargeplan.inputs.npv_terms import construction_support, npv_terms
from chargeplan.inputs.prepare import Inputs
from chargeplan.inputs.support import net_capex
from chargeplan.model.npv import (
    ConstructionSupport,
    NpvTerms,
    construction_extension,
    npv_of_decisions,
    npv_problem,
)
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution
from chargeplan.results.economics import station_economics
from chargeplan.results.plan import Plan

__all__ = [
    "EconomicObjective",
    "EconomicsTables",
    "add_economics",
    "economic_objective",
    "plan_npv",
    "read_economics",
    "support_in_capex",
]


@dataclasses.dataclass(frozen=True)
class EconomicsTables:
    """The checked tariff and support tables of a scenario (``support``: ``None`` if none)."""

    tariffs: pd.DataFrame
    support: pd.DataFrame | None


def read_economics(scenario: Scenario, sites: pd.DataFrame) -> EconomicsTables | None:
    """Read and check the ``[economics]`` tables, and that the sites have the region columns
    the tables are matched on; ``None`` for a scenario without ``[economics]``.

    Raises
    ------
    InputError
        Naming the file, row and column of a bad table row, or the missing site column.
    """
    config = scenario.economics
    if config is None:
        return None
    missing = [c for c in config.region_columns if c not in sites.columns]
    if missing:
        raise InputError(
            f"economics: the sites ({scenario.sites.file.name}) have no columns {missing} that "
            "economics.region_columns names: set it to the sites' region columns (province, "
            f"city); they have {[str(c) for c in sites.columns]}"
        )
    support = (
        None if config.support is None else read_support(config.support, config.support_version)
    )
    return EconomicsTables(read_tariffs(config.tariffs), support)


def _construction(
    inputs: Inputs, scenario: Scenario, tables: EconomicsTables | None
) -> ConstructionSupport | None:
    """Construction support per charger and station caps at the inputs' sites (``None``: no
    support table)."""
    config = scenario.economics
    if config is None or tables is None or tables.support is None:
        return None
    chargers = {t: scenario.chargers[t] for t in scenario.charger_types}
    return construction_support(
        inputs.sites,
        chargers,
        tables.support,
        region_columns=config.region_columns,
        year=config.first_year,
    )


def support_in_capex(inputs: Inputs, scenario: Scenario, tables: EconomicsTables | None) -> Inputs:
    """The inputs with the chargers' capex net of construction support where the scenario asks
    for it (``economics.support_in_capex``, ``min_cost``): at the sites without a station cap,
    without station designs (the others: :func:`economic_objective`); otherwise the inputs as
    they are."""
    config = scenario.economics
    if config is None or not config.support_in_capex or tables is None or tables.support is None:
        return inputs
    if scenario.model.objective == "max_npv" or scenario.sizing.designs:
        return inputs
    support = _construction(inputs, scenario, tables)
    assert support is not None
    sites = net_capex(
        inputs.sites,
        scenario.chargers,
        tables.support,
        region_columns=config.region_columns,
        year=config.first_year,
        where=~support.capped,
    )
    return dataclasses.replace(inputs, sites=sites)


@dataclasses.dataclass(frozen=True)
class EconomicObjective:
    """What is solved for a scenario's objective.

    Attributes
    ----------
    problem
        The problem to solve (``max_npv``: :func:`chargeplan.model.npv.npv_problem`'s).
    extension
        The ``extend`` hook of :func:`chargeplan.solver.highs.solve` (``None``: none).
    terms
        ``max_npv``: the NPV's coefficients (:class:`chargeplan.model.npv.NpvTerms`).
    offset
        ``max_npv``: the solved objective is ``-NPV + penalties + offset``.
    """

    problem: FacilityProblem
    extension: Any = None
    terms: NpvTerms | None = None
    offset: float = 0.0


def economic_objective(
    scenario: Scenario, inputs: Inputs, problem: FacilityProblem, tables: EconomicsTables | None
) -> EconomicObjective:
    """The problem to solve and its extension for the scenario's objective.

    ``max_npv``: the most NPV subject to the service standard (:mod:`chargeplan.model.npv`);
    ``min_cost`` with ``economics.support_in_capex``: construction support where
    :func:`support_in_capex` could not take it off the capex (station caps, designs);
    otherwise ``problem`` as it is.
    """
    config = scenario.economics
    if config is None or tables is None:
        return EconomicObjective(problem)
    if scenario.model.objective == "max_npv":
        terms = npv_terms(
            inputs.sites,
            {t: scenario.chargers[t] for t in problem.types},
            config,
            tables.tariffs,
            tables.support,
            peak_hour_share=scenario.demand.peak_hour_share,
            design_kva=problem.design_kva,
        )
        npv = npv_problem(problem, terms)
        return EconomicObjective(npv.problem, npv.extension, terms, npv.offset)
    if scenario.model.objective != "min_cost" or not config.support_in_capex:
        return EconomicObjective(problem)
    support = _construction(inputs, scenario, tables)
    if support is None:
        return EconomicObjective(problem)
    rest = support.capped[:, None] | bool(scenario.sizing.designs)
    carried = ConstructionSupport(np.where(rest, support.per_charger, 0.0), support.cap)
    return EconomicObjective(problem, construction_extension(problem.site_ids, carried))


def plan_npv(plan: Plan) -> float | None:
    """The network NPV of a plan with its economics (``npv_cny`` of its summary, state support
    included), ``None`` for a plan without ``[economics]``: the figure other workflows (a curve
    of NPV against the service standard) read."""
    value = plan.summary.get("npv_cny")
    return None if value is None else float(value)


def add_economics(
    plan: Plan,
    scenario: Scenario,
    tables: EconomicsTables | None,
    objective: EconomicObjective | None = None,
    solved: tuple[FacilityProblem, Solution] | None = None,
) -> Plan:
    """The plan with its ``economics`` table and the network's economic figures in its summary.

    Adds ``npv_cny``, ``npv_without_support_cny``, ``payback_years``,
    ``payback_without_support_years``, ``stations_npv_positive``,
    ``stations_viable_only_with_support`` and ``economics_*`` figures
    (:meth:`chargeplan.results.economics.StationEconomics.summary`). Without tables (no
    ``[economics]``): the plan as it is. A ``max_npv`` plan (``objective`` with its terms,
    ``solved``: the least-cost problem and the plan's decisions) adds ``objective =
    "max_npv"`` and ``npv_model_cny``, the NPV the model maximised
    (:func:`chargeplan.model.npv.npv_of_decisions`), and ``npv_objective_cny``, the same read
    off the solver's objective; both equal ``npv_cny`` (tests/test_npv.py).
    """
    if tables is None or scenario.economics is None:
        return plan
    economics = station_economics(
        plan.sites,
        scenario.chargers,
        scenario.economics,
        tables.tariffs,
        tables.support,
        peak_hour_share=scenario.demand.peak_hour_share,
    )
    named: dict[str, Any] = {
        key if key.startswith(("npv", "payback", "stations_")) else f"economics_{key}": value
        for key, value in economics.summary().items()
    }
    if objective is not None and objective.terms is not None and solved is not None:
        named["objective"] = "max_npv"
        named["npv_model_cny"] = npv_of_decisions(solved[0], objective.terms, solved[1])
        penalties = plan.summary["unmet_penalty_cny"] + plan.summary["target_shortfall_penalty_cny"]
        # the solver's objective is -NPV + penalties + offset (chargeplan.model.npv)
        named["npv_objective_cny"] = -(solved[1].objective - penalties - objective.offset)
    return dataclasses.replace(
        plan, economics=economics.stations, summary={**plan.summary, **named}
    )
