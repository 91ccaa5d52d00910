"""Problem assembly: the prepared tables of a scenario turned into a
:class:`~chargeplan.model.problem.FacilityProblem` (pair costs, charger limits, queue levels)."""

from __future__ import annotations

from typing import Any

import numpy as np

from chargeplan.config.scenario import Scenario
from chargeplan.config.service import SETTLEMENT_TYPES
from chargeplan.inputs.prepare import Inputs
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.queueing import ServiceLevel, capacity_levels

#: Chargers sharing one queue when the scenario's sizing.chargers_per_queue omits a type.
DEFAULT_CHARGERS_PER_QUEUE = 20


def build_problem(
    scenario: Scenario, inputs: Inputs, *, demand: np.ndarray | None = None
) -> FacilityProblem:
    """Turn the prepared tables into the model's arrays.

    Pair cost: ``detour_cost_cny_per_kwh_km * cost_ij * d_ik`` where ``cost_ij`` is the
    distance in km (radius rule) or the cost-table value. ``demand`` (``(Z, K)``) replaces
    the zones' ``peak_kwh_<type>`` (a rollout year's demand).
    """
    types = tuple(scenario.charger_types)
    zones, sites, pairs = inputs.zones, inputs.sites, inputs.pairs
    if demand is None:
        demand = np.column_stack([zones[f"peak_kwh_{t}"].to_numpy(float) for t in types])
    pair_zone = pairs["zone"].to_numpy()
    pair_cost = (
        scenario.reach.detour_cost_cny_per_kwh_km
        * pairs["cost"].to_numpy(float)[:, None]
        * demand[pair_zone]
    )
    model = scenario.model
    chargers = [scenario.chargers[t] for t in types]

    def per_type(prefix: str) -> np.ndarray:
        return np.column_stack([sites[f"{prefix}_{t}"].to_numpy(float) for t in types])

    designs = design_arrays(scenario, types)
    queue_size = {
        t: scenario.sizing.chargers_per_queue.get(t, DEFAULT_CHARGERS_PER_QUEUE) for t in types
    }
    if designs:  # one station = one queue per type: levels up to the largest station
        largest = per_type("existing").max(axis=0, initial=0) + designs["design_stalls"].max(axis=0)
        queue_size = {t: max(int(n), 1) for t, n in zip(types, largest, strict=True)}
    queue_levels = None
    if scenario.sizing.rule == "queue":
        level = ServiceLevel(
            max_wait_probability=scenario.sizing.max_wait_probability,
            max_mean_wait_min=scenario.sizing.max_mean_wait_min,
        )
        queue_levels = tuple(
            capacity_levels(queue_size[t], c.session_hours, level) * c.session_kwh
            for t, c in zip(types, chargers, strict=True)
        )

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
        # max_npv: the least-cost problem of the service standard, turned into the NPV's by
        # chargeplan.workflows.economics.economic_objective (chargeplan.model.npv)
        objective="min_cost" if model.objective == "max_npv" else model.objective,
        budget=model.budget_cny,
        max_sites=model.max_sites,
        pair_links=model.pair_links,
        single_source=model.single_source,
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
        **designs,
        **target_arrays(scenario, inputs),
    )


def target_arrays(scenario: Scenario, inputs: Inputs) -> dict[str, Any]:
    """The ``target_*`` fields of the problem for a service standard (none: ``{}``).

    Groups are the settlement types (reported with or without ``[reach.targets]``); each
    group's shortfall costs ``shortfall_price_factor`` times the unmet-demand price per kWh
    (:class:`~chargeplan.config.service.CoverageTargets` says why).
    """
    if scenario.reach.standard is None:
        return {}
    targets = scenario.reach.targets
    shares = targets.shares() if targets is not None else dict.fromkeys(SETTLEMENT_TYPES, 0.0)
    factor = targets.shortfall_price_factor if targets is not None else 0.0
    group = {name: g for g, name in enumerate(SETTLEMENT_TYPES)}
    return {
        "target_group": inputs.zones["settlement"].map(group).to_numpy(np.int64),
        "target_names": SETTLEMENT_TYPES,
        "target_share": np.array([shares[t] for t in SETTLEMENT_TYPES]),
        "target_price": np.full(
            len(SETTLEMENT_TYPES), factor * scenario.model.unmet_penalty_cny_per_kwh
        ),
    }


def design_arrays(scenario: Scenario, types: tuple[str, ...]) -> dict[str, Any]:
    """The ``design_*`` fields of the problem for the scenario's ``sizing.designs`` (none:
    ``{}``): stalls of the types that carry demand, kVA, and capex computed from the catalogue
    (stalls of all types, grid connection, civil works)."""
    names = tuple(scenario.sizing.designs)
    if not names:
        return {}
    menu = [scenario.designs[name] for name in names]
    return {
        "design_names": names,
        "design_stalls": np.array([[d.stalls.get(t, 0) for t in types] for d in menu], float),
        "design_kva": np.array([d.grid_kva for d in menu], float),
        "design_capex": np.array([d.capex_cny(scenario.chargers) for d in menu], float),
    }
