"""A plan's station economics, as its scenario's ``[economics]`` asks: tables read and checked
before the solve (:func:`read_economics`), NPV and payback per station computed after it and
the network's figures added to the summary (:func:`add_economics`)."""

from __future__ import annotations

import dataclasses

import pandas as pd

from chargeplan.config.scenario import Scenario
from chargeplan.errors import InputError
from chargeplan.inputs.economics_tables import read_support, read_tariffs
from chargeplan.inputs.prepare import Inputs
from chargeplan.inputs.support import net_capex
from chargeplan.results.economics import station_economics
from chargeplan.results.plan import Plan

__all__ = ["EconomicsTables", "add_economics", "read_economics", "support_in_capex"]


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


def support_in_capex(inputs: Inputs, scenario: Scenario, tables: EconomicsTables | None) -> Inputs:
    """The inputs with the chargers' capex net of construction support where the scenario asks
    for it (``economics.support_in_capex``); otherwise the inputs as they are."""
    config = scenario.economics
    if config is None or not config.support_in_capex or tables is None or tables.support is None:
        return inputs
    sites = net_capex(
        inputs.sites,
        scenario.chargers,
        tables.support,
        region_columns=config.region_columns,
        year=config.first_year,
    )
    return dataclasses.replace(inputs, sites=sites)


def add_economics(plan: Plan, scenario: Scenario, tables: EconomicsTables | None) -> Plan:
    """The plan with its ``economics`` table and the network's economic figures in its summary.

    Adds ``npv_cny``, ``npv_without_support_cny``, ``payback_years``,
    ``payback_without_support_years``, ``stations_npv_positive``,
    ``stations_viable_only_with_support`` and ``economics_*`` figures
    (:meth:`chargeplan.results.economics.StationEconomics.summary`). Without tables (no
    ``[economics]``): the plan as it is.
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
    named = {
        key if key.startswith(("npv", "payback", "stations_")) else f"economics_{key}": value
        for key, value in economics.summary().items()
    }
    return dataclasses.replace(
        plan, economics=economics.stations, summary={**plan.summary, **named}
    )
