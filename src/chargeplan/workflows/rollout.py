"""A scenario's multi-year rollout: each year's demand, one model over the years, the plan.

:func:`plan_rollout` prepares zones and sites once for the largest target, rescales each
year's demand with that year's premium users, solves the rollout model
(:mod:`chargeplan.solver.rollout`) and returns one plan with a ``year`` column and a table of
per-year figures.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from chargeplan.config.scenario import Scenario
from chargeplan.errors import InputError
from chargeplan.inputs.prepare import Inputs, prepare
from chargeplan.inputs.problem import build_problem
from chargeplan.inputs.years import year_zones
from chargeplan.model.rollout import RolloutProblem
from chargeplan.results.plan import Plan, make_plan
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.rollout import solve_rollout
from chargeplan.workflows.options import solver_options

log = logging.getLogger(__name__)


def plan_rollout(
    scenario: Scenario,
    *,
    inputs: Inputs | None = None,
    solver: SolverOptions | None = None,
) -> Plan:
    """Plan a multi-year rollout: one model over the years of ``scenario.rollout``.

    Zones, sites and pairs are prepared once for the largest target; each year's premium users
    are the same propensity shares of that year's target (whole users, largest remainder), and
    each zone's demand scales with its users (demand is linear in users). See
    :mod:`chargeplan.solver.rollout` for the model.

    Returns
    -------
    Plan
        ``sites``, ``zones`` and ``assignments`` of every year with a ``year`` column, a
        ``years`` table, and a summary of the whole rollout.
    """
    start = time.perf_counter()
    rollout = scenario.rollout
    if rollout is None:
        raise InputError(f"scenario {scenario.name} has no [rollout] section")
    problem, zone_tables, inputs = rollout_problem(scenario, inputs=inputs)
    years = problem.years
    result = solve_rollout(problem, solver or solver_options(scenario))
    plans = [
        make_plan(p, sol, z, inputs.sites, extra_summary={"scenario": scenario.name})
        for p, sol, z in zip(problem.periods, result.solutions, zone_tables, strict=True)
    ]
    table = _year_table(problem, plans)
    stacked = {
        name: pd.concat(
            [getattr(plan, name).assign(year=year) for year, plan in zip(years, plans, strict=True)]
        )
        for name in ("sites", "zones", "assignments")
    }
    summary = {
        **plans[-1].summary,
        "rollout_years": list(years),
        "status": result.status,
        "objective_value": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "rollout_method": result.method,
        "build_seconds": result.build_seconds,
        "solve_seconds": result.solve_seconds,
        "discount_rate": rollout.discount_rate,
        "capex_cny": float(table["capex_cny"].sum()),
        "discounted_cost_cny": result.objective,
        "opex_cny": float(table["opex_cny"].sum()),
        "total_seconds": time.perf_counter() - start,
    }
    log.info(
        "rollout plan %s: %s; final network %d sites, %d chargers; capex CNY %.3g bn",
        scenario.name,
        result.status,
        summary["sites_opened"],
        summary["chargers"],
        summary["capex_cny"] / 1e9,
    )
    return Plan(**stacked, summary=summary, years=table)


def rollout_problem(
    scenario: Scenario, *, inputs: Inputs | None = None
) -> tuple[RolloutProblem, list[pd.DataFrame], Inputs]:
    """The scenario's :class:`RolloutProblem`, each year's zone table and the inputs.

    Zones, sites and pairs are prepared once for the largest target (unless ``inputs`` are
    given); each year's demand follows that year's premium users (:func:`plan_rollout`).
    """
    rollout = scenario.rollout
    if rollout is None:
        raise InputError(f"scenario {scenario.name} has no [rollout] section")
    final = scenario.with_values(
        {"users.target_premium_users": max(rollout.targets.values()), "rollout": None}
    )
    inputs = inputs or prepare(final)
    periods, zone_tables = [], []
    for year in rollout.targets:
        demand, frame = year_zones(final, inputs.zones, rollout.targets[year])
        period = build_problem(final, inputs, demand=demand)
        periods.append(replace(period, budget=rollout.budget(year)))
        zone_tables.append(frame)
    problem = RolloutProblem(
        years=tuple(rollout.targets),
        periods=tuple(periods),
        discount_rate=rollout.discount_rate,
        site_opex=np.full(len(inputs.sites), rollout.site_opex_cny_per_year),
        charger_opex=np.array(
            [scenario.chargers[t].opex_cny_per_year for t in scenario.charger_types]
        ),
    )
    return problem, zone_tables, inputs


def _year_table(problem: RolloutProblem, plans: list[Plan]) -> pd.DataFrame:
    """Per-year figures: what was added and spent, the cumulative network, coverage."""
    rows = []
    previous_open = np.zeros(len(problem.periods[0].site_ids), bool)
    previous_chargers = problem.periods[0].existing_chargers.astype(np.int64)
    previous_upgrade = np.zeros(len(problem.periods[0].site_ids), bool)
    for year, p, plan, delta in zip(
        problem.years, problem.periods, plans, problem.discount, strict=True
    ):
        sites = plan.sites
        is_open = sites["open"].to_numpy(bool)
        chargers = np.column_stack([sites[f"chargers_{t}"].to_numpy() for t in p.types])
        upgrade = sites["grid_upgrade"].to_numpy(bool)
        added = chargers - previous_chargers
        capex = (
            float(p.fixed_cost @ (is_open & ~previous_open))
            + float((p.charger_cost * added).sum())
            + float(p.grid_upgrade_cost @ (upgrade & ~previous_upgrade))
        )
        opex = float(problem.site_opex @ is_open) + float((chargers @ problem.charger_opex).sum())
        s = plan.summary
        row = {
            "year": year,
            "premium_users": s.get("premium_users"),
            "sites_opened": int((is_open & ~previous_open).sum()),
            **{f"chargers_added_{t}": int(added[:, k].sum()) for k, t in enumerate(p.types)},
            "sites": int(is_open.sum()),
            **{f"chargers_{t}": int(chargers[:, k].sum()) for k, t in enumerate(p.types)},
            "chargers": int(chargers.sum()),
            "demand_kwh": s["demand_kwh"],
            "unmet_kwh": s["unmet_demand"],
            "coverage": s["coverage"],
            "capex_cny": capex,
            "opex_cny": opex,
            "discount_factor": float(delta),
            "budget_cny": p.budget,
        }
        rows.append(row)
        previous_open, previous_chargers, previous_upgrade = is_open, chargers, upgrade
    table = pd.DataFrame(rows)
    table["cumulative_capex_cny"] = table["capex_cny"].cumsum()
    return table
