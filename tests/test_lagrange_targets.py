"""National coverage targets under the Lagrangian decomposition, and the windowed polish.

References: the brute force over every set of open sites (uncapacitated instances whose access
costs never exceed the unmet price, so that an optimal plan serves every zone an open site
reaches, at its cheapest open site), the exact monolithic solve, or numbers derived by hand in
the test's docstring.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest

from chargeplan import FacilityProblem
from chargeplan.model.solution import objective_value
from chargeplan.model.targets import group_demand, shortfall
from chargeplan.solver.coverage import dualised, signed_shortfall, target_constant
from chargeplan.solver.highs import solve
from chargeplan.solver.lagrange import solve_lagrange
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.windows import window_part

from .instances import TOL
from .piece_instances import design_row, grid_problem
from .target_instances import row_instance, three_zones, whole_and_split

EXACT = SolverOptions(mip_rel_gap=0.0, threads=1)


def test_a_target_met_without_a_price_is_the_monolithic_plan() -> None:
    """Urban 50 %: A alone serves Z1 (10 of 20 kWh), so the pieces meet the national row at
    mu = 0 and no bisection runs: plan 100 + 12 x 10 = 220 = the monolithic optimum, bound 220
    (a region-by-region target would open B: tests/test_service_standard.py)."""
    problem = three_zones(0.5)
    plan, run = solve_lagrange(problem, EXACT, max_bundle_pairs=1)
    assert run.shared_sites == 0 and run.multipliers == (0.0, 0.0)
    assert plan.objective == pytest.approx(220.0) == solve(problem, EXACT).objective
    assert plan.bound == pytest.approx(220.0)
    assert plan.open_site.tolist() == [True, False]


def test_a_binding_target_is_priced_by_bisection() -> None:
    r"""Urban 90 % (18 of 20 kWh): B must open. With multiplier mu on unmet urban demand the
    pieces are A's (A opens: it saves 240 > 100) and B's (B opens iff 10 (12 + mu) > 300, i.e.
    mu > 18), and L(mu) = 100 + min(300, 120 + 10 mu) - mu (1 - 0.9) 20: 220 + 8 mu below 18,
    400 - 2 mu above. Bisection on [0, 120] (6 steps) tries 60, 30, 15, 22.5, 18.75, 16.875;
    the best bound is L(18.75) = 362.5 <= OPT = 400, the plan is priced at 18.75 (B open,
    target met): 400, the monolithic optimum."""
    problem = three_zones(0.9)
    plan, run = solve_lagrange(problem, EXACT, max_bundle_pairs=1, target_steps=6)
    tried = [step["mu"] for step in run.target_steps]
    assert tried == pytest.approx([0.0, 60.0, 30.0, 15.0, 22.5, 18.75, 16.875])
    assert run.multipliers == pytest.approx((18.75, 0.0))
    assert plan.bound == pytest.approx(362.5)
    assert plan.objective == pytest.approx(400.0) == solve(problem, EXACT).objective
    assert shortfall(problem, plan.unmet).sum() == 0.0


def _brute_force(problem: FacilityProblem) -> float:
    """Cheapest plan over all open-site sets: every zone an open site reaches is served at its
    cheapest open site (access never costs more than unmet demand, module docstring)."""
    best = np.inf
    s = len(problem.site_ids)
    for open_ in itertools.product([False, True], repeat=s):
        is_open = np.array(open_)
        cost = np.where(is_open[problem.pair_site], problem.pair_cost[:, 0], np.inf)
        cheapest = np.full(len(problem.zone_ids), np.inf)
        np.minimum.at(cheapest, problem.pair_zone, cost)
        served = np.isfinite(cheapest)
        unmet = (~served).astype(float)[:, None]
        plan_cost = (
            float(problem.fixed_cost @ is_open)
            + float(cheapest[served].sum())
            + float((problem.demand[:, 0] * problem.unmet_penalty[0] * ~served).sum())
            + float(problem.target_price @ shortfall(problem, unmet))
        )
        best = min(best, plan_cost)
    return best


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_targets_over_pieces_that_share_sites_by_brute_force(seed: int) -> None:
    """Pieces of at most 6 pairs (the line cut into pieces that share sites) with a national
    urban target: bound <= brute-force optimum <= plan cost, the plan's reported cost true,
    its urban share at the target."""
    problem = row_instance(seed)
    best = _brute_force(problem)
    plan, run = solve_lagrange(problem, EXACT, max_piece_pairs=6, steps=2)
    assert run.shared_sites >= 1
    assert plan.bound <= best + TOL
    cost = objective_value(problem, plan)["total_cost"]
    assert plan.objective == pytest.approx(cost, rel=1e-9)
    assert cost >= best - TOL
    assert shortfall(problem, plan.unmet).sum() == 0.0


def test_the_dualised_piece_prices_unmet_target_demand() -> None:
    """A piece priced at mu = 50 for urban demand: the target row becomes share 1 at price 50
    (cost 50 per unmet urban kWh in reach), the constant is mu (1 - tau) D = 50 x 0.1 x 20 =
    100, and the signed shortfall of 'Z2 unmet' is 18 - 10 = 8."""
    problem = three_zones(0.9)
    mu = np.array([50.0, 0.0])
    priced = dualised(problem, mu)
    assert priced.target_share.tolist() == [1.0, 0.0]
    assert priced.target_price.tolist() == [50.0, 0.0]
    assert target_constant(problem, mu) == pytest.approx(100.0)
    assert group_demand(problem).tolist() == [20.0, 10.0]
    unmet = np.array([[0.0], [1.0], [0.0]])
    assert signed_shortfall(problem, unmet).tolist() == [8.0, 0.0]
    plain = solve(dataclasses.replace(priced, fixed_cost=np.array([100.0, 1000.0])), EXACT)
    assert plain.objective == pytest.approx(100.0 + 10 * (12.0 + 50.0))


def test_a_window_keeps_loaded_sites_fixed_and_solves_the_residual() -> None:
    """The 3-zone row (zone i reaches sites i-1..i+1). Plan: a gets 3/4 from s1 and 1/4 from
    s2, b all from s3, c all from s2. Window {a, b}: s2 serves c (outside), so it stays fixed
    with a's 1/4; s1 and s3 serve only the window: free. The window's demand is 3/4 of a's and
    all of b's, a's pair cost to s1 scaled by 3/4; sites free here are taken for the pass.
    Window {c}: s2 and s3 serve a and b, nothing is free."""
    problem = design_row("linear", 1)
    served = np.zeros((len(problem.pair_zone), 1))
    pairs = list(zip(problem.pair_zone.tolist(), problem.pair_site.tolist(), strict=True))
    for pair, share in (((0, 0), 0.75), ((0, 1), 0.25), ((1, 2), 1.0), ((2, 1), 1.0)):
        served[pairs.index(pair)] = share
    decisions = {"served": served}
    taken = np.zeros(3, bool)
    part = window_part(problem, decisions, np.array([0, 1]), taken)
    assert part is not None
    assert part.region.sites.tolist() == [0, 2] and taken.tolist() == [True, False, True]
    assert part.region.zones.tolist() == [0, 1]
    assert part.residual[:, 0] == pytest.approx([0.75, 1.0])
    assert part.problem.demand[:, 0] == pytest.approx([0.75 * 50.0, 120.0])
    a_s1 = pairs.index((0, 0))
    assert part.problem.pair_cost[0, 0] == pytest.approx(0.75 * problem.pair_cost[a_s1, 0])
    assert [pairs[p] for p in part.region.pairs] == [(0, 0), (1, 0), (1, 2)]
    assert window_part(problem, decisions, np.array([2])) is None


def test_windowed_polish_never_raises_the_owner_plans_cost() -> None:
    """Polish in windows of at most 30 pairs (the candidate component is larger): the plan is
    feasible, at most the owner plan's cost and no cheaper than the exact optimum."""
    problem, zone_xy = grid_problem()
    kwargs = {"zone_xy": zone_xy, "max_piece_pairs": 40, "steps": 0}
    owner, _ = solve_lagrange(problem, EXACT, polish_pairs=0, **kwargs)
    windowed, _ = solve_lagrange(problem, EXACT, polish_pairs=30, **kwargs)
    optimum = solve(problem, EXACT).objective
    assert optimum - TOL <= windowed.objective <= owner.objective + TOL
    assert windowed.objective == pytest.approx(
        objective_value(problem, windowed)["total_cost"], rel=1e-9
    )
    shares = np.zeros(problem.demand.shape)
    np.add.at(shares, problem.pair_zone, windowed.served)
    assert np.allclose(shares + windowed.unmet, 1.0, atol=1e-6)
    load = np.zeros((len(problem.site_ids), 1))
    np.add.at(load, problem.pair_site, windowed.served * problem.demand[problem.pair_zone])
    assert np.all(load <= windowed.chargers * problem.charger_capacity + 1e-6)
    assert not windowed.served[~windowed.open_site[problem.pair_site]].any()


def test_a_scenario_target_is_met_under_the_lagrangian_method(tmp_path: Path) -> None:
    """tests/test_service_standard.py's sized instance (unmet demand at 10 CNY per kWh: no
    station pays by itself; an urban target of 100 % priced at 10,000 per kWh short opens the
    urban zone's site s2) planned with decompose.method = 'lagrange': the same station, the
    urban demand in reach served in full, no shortfall, the same cost as the whole model, and
    a positive target price (the row binds)."""
    whole, split = whole_and_split(
        tmp_path, {"decompose.by": "components", "decompose.method": "lagrange"}
    )
    assert split.summary["decompose_method"] == "lagrange"
    assert split.sites.index[split.sites["open"]].tolist() == ["s2"]
    assert split.summary["standard_urban_served_share"] == pytest.approx(1.0)
    assert split.summary["target_shortfall_penalty_cny"] == 0.0
    assert split.summary["objective_value"] == pytest.approx(
        whole.summary["objective_value"], rel=1e-9
    )
    assert float(split.summary["decompose_target_prices"].split()[0]) > 0
    assert split.summary["bound"] <= whole.summary["objective_value"] * (1 + 1e-9)
