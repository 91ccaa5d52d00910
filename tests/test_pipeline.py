"""End to end: the tiny scenario's plan derived by hand, and the default scenario's invariants."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import chargeplan
from chargeplan.model.queueing import ServiceLevel, capacity_levels
from chargeplan.outputs.write import write_plan

from .conftest import DEFAULT_SCENARIO


def test_tiny_plan_matches_hand_derivation(tiny_scenario: Path) -> None:
    """Derivation.

    Each premium user drives 50 km x 0.2 kWh/km = 10 kWh/day, all in public (every household
    is an apartment without home charging), 10 % in the peak hour: 1 peak kWh per user, half
    DC, half AC. Users by propensity pop x car: z1 500, z2 1000, z3 1000, z4 200 of 2700
    -> 185.19, 370.37, 370.37, 74.07 -> largest remainder: 185, 371, 370, 74 (z2 wins the tie
    by position). z4 is 200 km from every site: unreachable. Site s2 sits at z2's centre and
    within 30 km of z1 and z3 (20 km each); opening s1 or s3 as well costs 10,000 and saves
    at most 20 km x 370 kWh x 1 CNY = 7,400 of access: so only s2 opens. It serves 463 DC kWh
    -> ceil(463/50) = 10 DC chargers, and 463 AC kWh -> ceil(463/10) = 47 AC chargers.
    Capex = 10,000 + 10 x 1,000 + 47 x 100 = 24,700; access = 20 x 185 + 20 x 370 = 11,100;
    penalty = 74 x 5,000 = 370,000.
    """
    scenario = chargeplan.load_scenario(tiny_scenario)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan = chargeplan.plan_network(scenario)
    zones, sites, s = plan.zones, plan.sites, plan.summary
    assert zones["premium_users"].tolist() == [185, 371, 370, 74]
    assert sites["open"].tolist() == [False, True, False]
    assert sites.loc["s2", "chargers_dc_fast"] == 10
    assert sites.loc["s2", "chargers_ac_destination"] == 47
    assert s["capex_cny"] == pytest.approx(24_700)
    assert s["access_cost_cny"] == pytest.approx(11_100, rel=1e-4)
    assert s["unmet_penalty_cny"] == pytest.approx(370_000)
    assert s["total_cost_cny"] == pytest.approx(s["objective_value"], rel=1e-9)
    assert zones.loc["z4", "gap_reason"] == "unreachable"
    assert (zones.loc[["z1", "z2", "z3"], "gap_reason"] == "").all()
    assert s["coverage"] == pytest.approx(926 / 1000)
    assert s["status"] == "optimal"


def test_tiny_budget_and_coverage_objective(tiny_scenario: Path) -> None:
    """With max_coverage and one site, s2 still covers the most (926 kWh); a budget of 12,000
    buys the site and 2,000 of chargers: 2 DC (100 kWh) or 20 AC (200 kWh) -> the best mix is
    20 AC chargers at s2 (200 kWh) since AC carries more kWh per CNY (10 vs 0.05 per CNY)."""
    scenario = chargeplan.load_scenario(tiny_scenario).with_values(
        {"model.objective": "max_coverage", "model.budget_cny": 12_000}
    )
    plan = chargeplan.plan_network(scenario)
    assert plan.summary["served_demand"] == pytest.approx(200)
    assert plan.summary["capex_cny"] <= 12_000 + 1e-6
    assert plan.sites.loc["s2", "chargers_ac_destination"] == 20
    assert plan.sites["chargers_dc_fast"].sum() == 0
    reasons = set(plan.zones["gap_reason"])
    assert "budget_limited" in reasons and "unreachable" in reasons


def test_tiny_outputs_written(tiny_scenario: Path, tmp_path: Path) -> None:
    plan = chargeplan.plan_network(chargeplan.load_scenario(tiny_scenario))
    written = write_plan(plan, tmp_path / "out")
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert set(written) == names  # nothing else (no temporary files) is left behind
    for name in ("sites.parquet", "zones.parquet", "plan.gpkg", "summary.json", "map.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert (tmp_path / "out" / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def charger_capacity_kwh(scenario: chargeplan.Scenario, name: str, n: np.ndarray) -> np.ndarray:
    """Peak-hour kWh that ``n`` chargers of type ``name`` serve at one site, by the sizing rule
    the scenario asks for (``docs/model.md``).

    ``linear``: ``n`` x ``peak_kwh_per_charger`` (energy per busy hour x maximum utilisation).
    ``queue``: the chargers form ``n // S`` full queues of ``S`` (``chargers_per_queue``) and
    one partial queue of ``n % S``; a queue of ``c`` chargers serves
    ``L[c] = capacity_levels(S, session_hours, service level)[c] x session_kwh`` (the peak
    arrival rate at which at most ``max_wait_probability`` of drivers wait, in kWh), so
    ``capacity = (n // S) L[S] + L[n % S]``.
    """
    charger = scenario.chargers[name]
    if scenario.sizing.rule == "linear":
        return n * charger.peak_kwh_per_charger
    size = scenario.sizing.chargers_per_queue[name]
    level = ServiceLevel(
        max_wait_probability=scenario.sizing.max_wait_probability,
        max_mean_wait_min=scenario.sizing.max_mean_wait_min,
    )
    levels = capacity_levels(size, charger.session_hours, level) * charger.session_kwh
    return (n // size) * levels[size] + levels[n % size]


def test_default_scenario_invariants(default_plan: chargeplan.Plan) -> None:
    plan, s = default_plan, default_plan.summary
    zones, sites = plan.zones, plan.sites
    assert s["status"] in {"optimal", "time_limit"}
    assert len(zones) == 369 and len(sites) == 400
    # total premium users equal the target, in whole users
    assert zones["premium_users"].sum() == 20_000_000
    assert s["premium_users"] == 20_000_000
    # every zone: served + unmet = demand
    np.testing.assert_allclose(
        zones["served_kwh"] + zones["unmet_kwh"], zones["demand_kwh"], rtol=1e-7, atol=1e-6
    )
    # per site and type: the chargers carry the served demand, by the scenario's sizing rule
    scenario = chargeplan.load_scenario(DEFAULT_SCENARIO)
    for name in scenario.charger_types:
        capacity = charger_capacity_kwh(scenario, name, sites[f"chargers_{name}"].to_numpy())
        served = sites[f"served_kwh_{name}"].to_numpy()
        assert np.all(served <= capacity * (1 + 1e-9) + 1e-6), name
        assert (sites[f"chargers_{name}"] <= sites[f"max_{name}"]).all()
    # only open sites hold chargers
    assert (sites.loc[~sites["open"], "chargers"] == 0).all()
    # reported costs equal the sum of their parts
    assert s["capex_cny"] == pytest.approx(sites["capex_cny"].sum())
    assert s["capex_cny"] == pytest.approx(s["fixed_cost_cny"] + s["charger_cost_cny"])
    assert s["total_cost_cny"] == pytest.approx(
        s["capex_cny"] + s["access_cost_cny"] + s["unmet_penalty_cny"]
    )
    assert s["total_cost_cny"] == pytest.approx(s["objective_value"], rel=1e-6)
    assert s["chargers"] == sum(s[f"chargers_{t}"] for t in scenario.charger_types)
    # zones without any candidate in reach are reported as unreachable
    unreachable = zones["sites_in_reach"] == 0
    assert (zones.loc[unreachable & (zones["demand_kwh"] > 0), "gap_reason"] == "unreachable").all()
    assert 0.5 < s["coverage"] <= 1.0


def test_default_plan_is_sized_by_queueing_not_the_linear_rule(
    default_plan: chargeplan.Plan,
) -> None:
    """The capacity check above is not trivially met, and only the queueing rule makes it so.

    The default scenario sizes chargers by Erlang C (``sizing.rule = "queue"``, at most 20 %
    of drivers wait, queues of 12 DC / 20 AC chargers). A full DC queue serves 438.7 peak kWh,
    36.6 per charger, below the linear rule's 41.1 (30 kWh sessions of 35 min at 80 %
    utilisation); a full AC queue 77.3 kWh, 3.86 per charger, below the linear 4.5 (15 kWh
    sessions of 3 h at 90 %). So queueing needs more chargers than the linear rule, and a check
    by the linear rule would accept one charger fewer at every site: it could not see a
    missing one.
    """
    scenario = chargeplan.load_scenario(DEFAULT_SCENARIO)
    assert scenario.sizing.rule == "queue"
    sites, s = default_plan.sites, default_plan.summary
    for name in scenario.charger_types:
        q = scenario.chargers[name].peak_kwh_per_charger
        size = scenario.sizing.chargers_per_queue[name]
        per_charger = charger_capacity_kwh(scenario, name, np.array([size]))[0] / size
        assert per_charger < q, name  # a full queue serves less per charger than the linear q
        n = sites[f"chargers_{name}"].to_numpy()
        served = sites[f"served_kwh_{name}"].to_numpy()
        capacity = charger_capacity_kwh(scenario, name, n)
        # the busiest site's load fills its queues (within 1 %): the check binds there
        busiest = int(np.argmax(served))
        assert served[busiest] >= 0.99 * capacity[busiest], name
        # one charger fewer: the queue rule refuses it at most sites, the linear rule nowhere
        fewer = np.maximum(n - 1, 0)
        built = n > 0
        queue_short = built & (served > charger_capacity_kwh(scenario, name, fewer) + 1e-6)
        linear_short = built & (served > fewer * q)
        assert queue_short.sum() > 0.8 * built.sum(), name
        assert not linear_short.any(), name
        # the linear rule's count for the same loads: what the summary reports, and fewer
        linear = np.ceil(served / q - 1e-9)
        assert int(linear.sum()) == s[f"chargers_linear_rule_{name}"] < s[f"chargers_{name}"]
