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
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from chargeplan.demand import allocate_premium_users, peak_demand
from chargeplan.errors import InputError
from chargeplan.geodata import read_sites, read_zones
from chargeplan.model import FacilityProblem
from chargeplan.plan import Plan, make_plan
from chargeplan.queueing import ServiceLevel, capacity_levels
from chargeplan.reach import (
    demand_centres,
    pairs_from_cost_table,
    pairs_within_radius,
    read_cost_table,
)
from chargeplan.scenario import Scenario
from chargeplan.solve import SolverOptions, solve
from chargeplan.stations import attach_own_stations, competitor_capture, read_stations

log = logging.getLogger(__name__)

#: Chargers sharing one queue when the scenario's sizing.chargers_per_queue omits a type.
DEFAULT_CHARGERS_PER_QUEUE = 20


@dataclass(frozen=True)
class Inputs:
    """Everything the model needs, as tables.

    Attributes
    ----------
    zones
        Demand zones with ``premium_users`` and ``peak_kwh_<type>`` (index = zone id).
    sites
        Candidate sites with ``fixed_cost_cny``, ``max_<type>`` and ``capex_cny_<type>``
        (index = site id).
    pairs
        Reachable zone-site pairs (see :mod:`chargeplan.reach`).
    """

    zones: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    pairs: pd.DataFrame


def prepare(
    scenario: Scenario,
    *,
    zones: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
) -> Inputs:
    """Read (or take) zones and sites, compute demand and the reachable pairs.

    Parameters
    ----------
    scenario
        A validated scenario.
    zones, sites
        Use these GeoDataFrames instead of the scenario's files (they are validated the same
        way; the id columns must be as the scenario says).

    Returns
    -------
    Inputs
    """
    zc, sc = scenario.zones, scenario.sites
    zone_columns = (zc.population_column, *scenario.users.propensity)
    zone_source = str(zc.file) if zones is None else "zones (GeoDataFrame)"
    if zones is None:
        zones = read_zones(
            zc.file,
            id_column=zc.id_column,
            required_columns=zone_columns,
            nonnegative_columns=(zc.population_column,),
        )
    else:
        zones = zones.set_index(zc.id_column, drop=False).rename_axis(None)
    site_source = str(sc.file) if sites is None else "sites (GeoDataFrame)"
    if sites is None:
        sites = read_sites(sc.file, id_column=sc.id_column)
    else:
        sites = sites.set_index(sc.id_column, drop=False).rename_axis(None)

    zones = allocate_premium_users(
        zones, scenario.users, population_column=zc.population_column, source=zone_source
    )
    zones = peak_demand(zones, scenario.demand, source=zone_source)
    sites = _site_parameters(sites, scenario, source=site_source)
    centres = demand_centres(
        zones, lon_column=zc.centre_lon_column, lat_column=zc.centre_lat_column
    )
    zones, sites = _existing_stations(scenario, zones, centres, sites)

    if scenario.reach.cost_table is not None:
        table = read_cost_table(scenario.reach.cost_table)
        pairs = pairs_from_cost_table(
            table, zones.index, sites.index, source=str(scenario.reach.cost_table)
        )
    else:
        pairs = pairs_within_radius(
            centres,
            sites.geometry,
            scenario.reach.service_radius_km,
            crs=scenario.reach.crs,
            zone_ids=zones.index,
            site_ids=sites.index,
        )
    log.info(
        "inputs: %d zones, %d candidate sites, %d pairs within reach; %s premium users, "
        "%.0f peak-hour kWh of public demand",
        len(zones),
        len(sites),
        len(pairs),
        f"{int(zones['premium_users'].sum()):,}",
        zones["peak_kwh"].sum(),
    )
    return Inputs(zones=zones, sites=sites, pairs=pairs)


def _existing_stations(
    scenario: Scenario,
    zones: gpd.GeoDataFrame,
    centres: gpd.GeoSeries,
    sites: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Attach the brand's own stations to sites and let competitors capture demand."""
    config = scenario.existing
    if config.stations is None:
        return zones, sites
    types = scenario.charger_types
    stations = read_stations(config.stations, config, types)
    sites = attach_own_stations(
        sites,
        stations,
        types,
        match_km=config.own_match_km,
        crs=scenario.reach.crs,
        id_column=scenario.sites.id_column,
    )
    sites = _site_parameters(sites, scenario, source=str(config.stations))
    zones = competitor_capture(
        zones,
        centres,
        stations,
        types,
        share=config.competitor_capture_share,
        radius_km=config.competitor_radius_km,
        crs=scenario.reach.crs,
    )
    log.info(
        "existing stations: %d own (%d chargers kept), %d competitors capturing %.0f peak kWh",
        int(stations["own"].sum()),
        int(sites[[f"existing_{t}" for t in types]].to_numpy().sum()),
        int((~stations["own"]).sum()),
        float(zones[[f"captured_kwh_{t}" for t in types]].to_numpy().sum()),
    )
    return zones, sites


_FLAG_TRUE = {"1", "true", "yes", "y", "t"}


def _flags(
    sites: gpd.GeoDataFrame, column: str, listed: tuple[str, ...], source: str
) -> np.ndarray:
    """A boolean site flag from a column (true/false/1/0) and/or a list of ids."""
    flag = np.zeros(len(sites), bool)
    if column in sites.columns:
        values = sites[column]
        if values.dtype == bool:
            flag |= values.fillna(False).to_numpy(bool)
        else:
            flag |= values.astype(str).str.strip().str.lower().isin(_FLAG_TRUE).to_numpy()
    unknown = sorted(set(listed) - set(sites.index.astype(str)))
    if unknown:
        raise InputError(
            f"sites.{column} names unknown site ids {unknown[:5]}; ids must match {source}"
        )
    flag |= sites.index.astype(str).isin(listed)
    return flag


def _site_parameters(
    sites: gpd.GeoDataFrame, scenario: Scenario, *, source: str
) -> gpd.GeoDataFrame:
    """Fill per-site costs, limits, existing chargers and flags from file or scenario."""
    out = sites.copy()
    sc = scenario.sites
    defaults: dict[str, float] = {
        "fixed_cost_cny": sc.fixed_cost_cny,
        "max_stalls": np.inf if sc.max_stalls is None else float(sc.max_stalls),
        "grid_kw": np.inf if sc.grid_kw is None else sc.grid_kw,
        "grid_upgrade_kw": sc.grid_upgrade_kw,
        "grid_upgrade_cost_cny": sc.grid_upgrade_cost_cny,
    }
    for name, charger in scenario.chargers.items():
        defaults[f"capex_cny_{name}"] = charger.capex_cny
        defaults[f"min_{name}"] = 0.0
        defaults[f"existing_{name}"] = 0.0
        if name in scenario.sites.max_chargers:
            defaults[f"max_{name}"] = scenario.sites.max_chargers[name]
    for name in scenario.charger_types:
        column = f"max_{name}"
        if column not in out.columns and column not in defaults:
            raise InputError(
                f"{source}: no column '{column}' and no scenario default "
                f"sites.max_chargers.{name}: give one of them"
            )
    for column, value in defaults.items():
        if column not in out.columns:
            out[column] = value
        values = pd.to_numeric(out[column], errors="coerce")
        missing = values.isna()
        if missing.any():
            values = values.where(~missing, value)
        if (values < 0).any():
            bad = out.index[values < 0][:5].tolist()
            raise InputError(f"{source}: column '{column}' is negative for sites {bad}: fix it")
        out[column] = values.astype(float)
    out["required"] = _flags(out, "required", sc.required, source)
    out["excluded"] = _flags(out, "excluded", sc.excluded, source)
    return out


def build_problem(scenario: Scenario, inputs: Inputs) -> FacilityProblem:
    """Turn the prepared tables into the model's arrays.

    Pair cost: ``detour_cost_cny_per_kwh_km * cost_ij * d_ik`` where ``cost_ij`` is the
    distance in km (radius rule) or the cost-table value.
    """
    types = tuple(scenario.charger_types)
    zones, sites, pairs = inputs.zones, inputs.sites, inputs.pairs
    demand = np.column_stack([zones[f"peak_kwh_{t}"].to_numpy(float) for t in types])
    pair_zone = pairs["zone"].to_numpy()
    pair_cost = (
        scenario.reach.detour_cost_cny_per_kwh_km
        * pairs["cost"].to_numpy(float)[:, None]
        * demand[pair_zone]
    )
    model = scenario.model
    chargers = [scenario.chargers[t] for t in types]
    queue_levels = None
    if scenario.sizing.rule == "queue":
        level = ServiceLevel(
            max_wait_probability=scenario.sizing.max_wait_probability,
            max_mean_wait_min=scenario.sizing.max_mean_wait_min,
        )
        queue_levels = tuple(
            capacity_levels(
                scenario.sizing.chargers_per_queue.get(t, DEFAULT_CHARGERS_PER_QUEUE),
                c.session_hours,
                level,
            )
            * c.session_kwh
            for t, c in zip(types, chargers, strict=True)
        )

    def per_type(prefix: str) -> np.ndarray:
        return np.column_stack([sites[f"{prefix}_{t}"].to_numpy(float) for t in types])

    return FacilityProblem(
        zone_ids=zones.index.to_numpy(dtype=object),
        site_ids=sites.index.to_numpy(dtype=object),
        types=types,
        demand=demand,
        pair_zone=pair_zone,
        pair_site=pairs["site"].to_numpy(),
        pair_cost=pair_cost,
        distance_km=pairs["distance_km"].to_numpy(float),
        fixed_cost=sites["fixed_cost_cny"].to_numpy(float),
        site_capacity=np.full(len(sites), np.inf),
        charger_capacity=np.array([scenario.chargers[t].peak_kwh_per_charger for t in types]),
        charger_cost=per_type("capex_cny"),
        max_chargers=per_type("max"),
        unmet_penalty=np.full(len(types), model.unmet_penalty_cny_per_kwh),
        objective=model.objective,
        budget=model.budget_cny,
        max_sites=model.max_sites,
        pair_links=model.pair_links,
        queue_levels=queue_levels,
        min_chargers=per_type("min"),
        existing_chargers=per_type("existing"),
        max_stalls=sites["max_stalls"].to_numpy(float),
        charger_power_kw=np.array([c.power_kw for c in chargers]),
        grid_kw=sites["grid_kw"].to_numpy(float),
        grid_upgrade_kw=sites["grid_upgrade_kw"].to_numpy(float),
        grid_upgrade_cost=sites["grid_upgrade_cost_cny"].to_numpy(float),
        required=sites["required"].to_numpy(bool),
        excluded=sites["excluded"].to_numpy(bool),
        session_kwh=np.array([c.session_kwh for c in chargers]),
        session_hours=np.array([c.session_hours for c in chargers]),
    )


def plan_network(
    scenario: Scenario,
    *,
    inputs: Inputs | None = None,
    solver: SolverOptions | None = None,
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

    Returns
    -------
    Plan
        Sites and zones as GeoDataFrames, assignments and a summary.
    """
    start = time.perf_counter()
    inputs = inputs or prepare(scenario)
    problem = build_problem(scenario, inputs)
    options = solver or SolverOptions(
        time_limit_s=scenario.solver.time_limit_s,
        mip_rel_gap=scenario.solver.mip_rel_gap,
        threads=scenario.solver.threads,
    )
    solution = solve(problem, options)
    plan = make_plan(
        problem,
        solution,
        inputs.zones,
        inputs.sites,
        extra_summary={"scenario": scenario.name},
    )
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
