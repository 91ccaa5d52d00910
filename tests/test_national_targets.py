"""National coverage targets over independent components (``decompose.targets = "national"``,
:mod:`chargeplan.solver.national_targets`): the price ascent, its bound and its plan.

References: numbers derived by hand in the test's docstring, or the exact monolithic solve of
the same instance (HiGHS to a zero gap), the optimum the split must bound.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from chargeplan import FacilityProblem
from chargeplan.model.solution import objective_value
from chargeplan.model.targets import group_demand, shortfall, unmet_in_reach
from chargeplan.solver.coverage import without_idle_targets
from chargeplan.solver.decompose import solve_decomposed
from chargeplan.solver.highs import solve
from chargeplan.solver.national_targets import priced_task
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.split import split_components

from .target_instances import (
    line_problem,
    row_instance,
    three_zones,
    whole_and_split,
)

EXACT = SolverOptions(mip_rel_gap=0.0, threads=1)


def test_a_binding_national_target_is_met_by_the_price_ascent() -> None:
    r"""Urban 90 % of Z1 + Z2 (18 of 20 kWh): B must open. Components {A, Z1, Z3} and {B, Z2}.
    With mu on unmet urban demand, B opens iff 10 (12 + mu) > 300, i.e. mu > 18; A's component
    serves its urban zone at every mu (A saves 240 > 100), so only B's is solved again.
    L(mu) = 100 + min(300, 120 + 10 mu) - mu (1 - 0.9) 20.

    Rungs (sigma = 120, 6 steps: mu = 120 x 2^(l - 6)): mu = 0 (plan 100 + 120 + 120 x 8 short
    = 1,180; L = 220), 3.75 (L = 100 + 157.5 - 7.5 = 250), 7.5 (280), 15 (340), 30 (B opens:
    plan 400, target met; L = 100 + 300 - 60 = 340). Plan 400 = the monolithic optimum, bound
    340, prices (30, 0), 2 + 1 + 1 + 1 + 1 = 6 task solves."""
    problem = three_zones(0.9)
    plan, report = solve_decomposed(
        problem, EXACT, max_bundle_pairs=1, targets="national", target_steps=6
    )
    assert report.regions == 2
    assert report.target_rungs == 5 and report.target_tasks_solved == 6
    assert report.target_prices == pytest.approx((30.0, 0.0))
    assert plan.objective == pytest.approx(400.0) == solve(problem, EXACT).objective
    assert plan.bound == pytest.approx(340.0)
    assert plan.open_site.tolist() == [True, True]
    assert shortfall(problem, plan.unmet).sum() == 0.0


def test_a_target_met_at_price_zero_is_one_solve_and_the_national_optimum() -> None:
    """Urban 50 %: A alone serves Z1 (10 of 20 kWh), so the untargeted plan meets the national
    row: 100 + 12 x 10 = 220 = the monolithic optimum, bound 220, one rung; the region-by-region
    rule opens B instead (400, tests/test_service_standard.py)."""
    problem = three_zones(0.5)
    plan, report = solve_decomposed(problem, EXACT, max_bundle_pairs=1, targets="national")
    assert report.target_rungs == 1 and report.target_tasks_solved == 2
    assert plan.objective == pytest.approx(220.0) == solve(problem, EXACT).objective
    assert plan.bound == pytest.approx(220.0)
    region, _ = solve_decomposed(problem, EXACT, max_bundle_pairs=1)
    assert region.objective == pytest.approx(400.0)


def test_no_rung_means_the_shortfall_is_priced_in_full() -> None:
    """``target_steps = 0``: the plan at mu = 0 only (B closed, 8 kWh short at 120): 1,180, and
    its bound L(0) = 220 (the untargeted optimum)."""
    plan, report = solve_decomposed(
        three_zones(0.9), EXACT, max_bundle_pairs=1, targets="national", target_steps=0
    )
    assert report.target_rungs == 1
    assert plan.objective == pytest.approx(1180.0)
    assert plan.bound == pytest.approx(220.0)


def _islands(seed: int) -> FacilityProblem:
    """Three islands 100 km apart (so three components or more), each 3 zones and 2 sites on a
    12 km line, pairs within 8 km; access 0.5 per kWh and km, unmet 8 per kWh, fixed costs
    60-160, uncapacitated; the first two islands urban, the third rural; targets urban 95 % and
    rural 80 % at 40 per kWh short."""
    rng = np.random.default_rng(100 + seed)
    zone_x = np.concatenate([100 * i + np.sort(rng.uniform(0, 12, 3)) for i in range(3)])
    site_x = np.concatenate([100 * i + np.sort(rng.uniform(0, 12, 2)) for i in range(3)])
    demand = np.round(rng.uniform(2, 12, (9, 1)), 1)
    fixed = np.round(rng.uniform(60, 160, 6))
    return line_problem(
        zone_x, site_x, 8.0, demand, fixed, zone_x >= 200, (0.95, 0.8), (40.0, 40.0)
    )


@pytest.mark.parametrize("make", [row_instance, _islands])
@pytest.mark.parametrize("seed", range(8))
def test_the_split_bounds_the_monolithic_optimum_and_its_plan_costs_what_it_says(
    make: Callable[[int], FacilityProblem], seed: int
) -> None:
    """Random line instances (several components, an urban 95 % target at 80 per kWh short):
    the sum of the components' bounds minus the price constant is at most the exact optimum of
    the whole model, the plan's reported objective is its cost recomputed from its decisions in
    the whole model (shortfall included), at least the optimum; served + unmet = 1 for every
    zone and type with demand, and the groups' served + unmet demand in reach = their demand
    in reach."""
    problem = make(seed)
    optimum = solve(problem, EXACT).objective
    plan, report = solve_decomposed(
        problem, EXACT, max_bundle_pairs=1, targets="national", target_steps=6
    )
    assert plan.bound <= optimum + 1e-6
    assert plan.objective >= optimum - 1e-6
    assert plan.objective == pytest.approx(objective_value(problem, plan)["total_cost"])
    share = np.zeros(problem.demand.shape)
    np.add.at(share, problem.pair_zone, plan.served)
    has = problem.demand > 0
    assert share[has] + plan.unmet[has] == pytest.approx(np.ones(has.sum()))
    served = group_demand(problem) - unmet_in_reach(problem, plan.unmet)
    assert np.all(served >= -1e-9) and np.all(served <= group_demand(problem) + 1e-9)
    assert report.components == len(split_components(problem))


def test_a_task_with_no_target_row_drops_its_groups_and_keeps_its_model() -> None:
    """Rural share 0 and urban price 0: no row anywhere, so the groups go (the design menu's
    Lagrangian bound then applies) and the plan is the same; a priced group stays."""
    problem = three_zones(0.0)
    idle = without_idle_targets(problem)
    assert idle.target_names == () and idle.target_group.tolist() == [-1, -1, -1]
    assert solve(idle, EXACT).objective == pytest.approx(solve(problem, EXACT).objective)
    priced = priced_task(problem, np.array([5.0, 0.0]))
    assert priced.target_names == ("urban", "rural")
    assert priced.target_share.tolist() == [1.0, 0.0]
    assert priced_task(problem, np.zeros(2)).target_names == ()


def test_national_targets_refuse_a_budget() -> None:
    """A budget and national targets would need two prices at once: refused, with the fix."""
    problem = dataclasses.replace(three_zones(0.9), budget=500.0)
    with pytest.raises(Exception, match="budget"):
        solve_decomposed(problem, EXACT, max_bundle_pairs=1, targets="national")


def test_a_scenario_target_is_met_with_national_targets_over_components(tmp_path: Path) -> None:
    """tests/test_lagrange_targets.py's scenario (unmet demand at 10 CNY per kWh: no station
    pays by itself; an urban target of 100 % priced at 10,000 per kWh short opens the urban
    zone's site s2) planned with decompose.by = 'components', targets = 'national': the same
    station and cost as the whole model, no shortfall, a positive price, a valid bound."""
    whole, split = whole_and_split(
        tmp_path, {"decompose.by": "components", "decompose.targets": "national"}
    )
    assert split.sites.index[split.sites["open"]].tolist() == ["s2"]
    assert split.summary["standard_urban_served_share"] == pytest.approx(1.0)
    assert split.summary["target_shortfall_penalty_cny"] == 0.0
    assert split.summary["objective_value"] == pytest.approx(
        whole.summary["objective_value"], rel=1e-9
    )
    assert float(split.summary["decompose_target_prices"].split()[0]) > 0
    assert split.summary["decompose_target_rungs"] >= 2
    assert split.summary["bound"] <= whole.summary["objective_value"] * (1 + 1e-9)
