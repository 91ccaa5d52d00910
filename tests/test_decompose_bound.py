"""The Lagrangian decomposition: a valid bound of the FULL model, a feasible plan, determinism.

References are brute force (``tests/bruteforce.py`` for the sized instances A, B, C), the exact
monolithic solve (instances of ``tests/piece_instances.py``; the design instance is the one
``tests/test_designs.py`` checks by brute force) or derived by hand in the test's docstring.
``max_piece_pairs`` is set below the instances' size so that their single component is cut
into pieces that share copies of sites: the case where the bound needs the cost shares to be
valid. Every plan is checked feasible by recomputing its cost
(:func:`objective_value`) and the rows it must satisfy.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from chargeplan import FacilityProblem
from chargeplan.model.designs import design_of, station_capacity
from chargeplan.model.solution import Solution, objective_value
from chargeplan.solver.decompose import solve_decomposed
from chargeplan.solver.highs import solve
from chargeplan.solver.lagrange import solve_lagrange
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.pieces import make_pieces, project_simplex
from chargeplan.solver.shares import linear_rate

from .bruteforce import brute_clusters, brute_min_cost
from .instances import EXACT, SIZING, TOL, cluster_problem, to_problem
from .piece_instances import design_row, grid_problem, wide_problem


def _feasible(problem: FacilityProblem, plan: Solution) -> None:
    """Every zone's shares sum to 1, only open sites serve, chargers cover their load."""
    shares = np.zeros(problem.demand.shape)
    np.add.at(shares, problem.pair_zone, plan.served)
    assert np.allclose((shares + plan.unmet)[problem.demand > 0], 1.0, atol=TOL)
    assert not plan.served[~plan.open_site[problem.pair_site]].any()
    if problem.charger_capacity is not None and problem.queue_levels is None:
        load = np.zeros((len(problem.site_ids), len(problem.types)))
        np.add.at(load, problem.pair_site, plan.served * problem.demand[problem.pair_zone])
        assert np.all(load <= plan.chargers * problem.charger_capacity + 1e-6)


def _cost(problem: FacilityProblem, plan: Solution) -> float:
    return objective_value(problem, plan)["total_cost"]


@pytest.mark.parametrize("fixed_per_kwh", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("name", ["A", "B", "C"])
def test_bound_below_brute_force_optimum_below_plan(name: str, fixed_per_kwh: float) -> None:
    """Pieces of at most 3 pairs (the single component cut in 3-4 pieces that share sites),
    shared fixed costs by shares, half per kWh or all per kWh: bound <= brute-force optimum <=
    plan cost, the plan feasible and its reported cost true."""
    problem = to_problem(SIZING[name])
    best, _ = brute_min_cost(name)
    plan, run = solve_lagrange(
        problem, EXACT, max_piece_pairs=3, steps=3, fixed_per_kwh=fixed_per_kwh
    )
    assert run.split_pieces >= 2 and run.shared_sites >= 1
    assert plan.bound <= best + TOL
    assert plan.objective == pytest.approx(_cost(problem, plan), rel=1e-9)
    assert _cost(problem, plan) >= best - TOL
    assert plan.gap == pytest.approx((plan.objective - plan.bound) / plan.objective, abs=1e-12)
    _feasible(problem, plan)


@pytest.mark.parametrize("name", ["A", "B", "C"])
def test_whole_components_give_the_monolithic_optimum(name: str) -> None:
    """Pieces as large as the component: no copy, the plan is the brute-force optimum and the
    bound closes the gap (pieces solved to gap 0)."""
    problem = to_problem(SIZING[name])
    best, design = brute_min_cost(name)
    plan, run = solve_lagrange(problem, EXACT, max_piece_pairs=10_000)
    assert run.shared_sites == 0
    assert _cost(problem, plan) == pytest.approx(best, rel=1e-6)
    assert plan.bound == pytest.approx(best, rel=1e-6)
    assert np.array_equal(plan.chargers, design.chargers)
    assert plan.status == "optimal"


def test_clusters_are_exact_pieces() -> None:
    """Three independent clusters: the pieces are the components, the plan and the bound the
    brute-force optimum, equal to the monolithic solve."""
    problem = cluster_problem()
    cost, sites = brute_clusters()
    plan, decomposition = solve_decomposed(problem, EXACT, method="lagrange", max_bundle_pairs=1)
    whole = solve(problem, EXACT)
    assert decomposition.method == "lagrange" and decomposition.regions == 3
    assert decomposition.shared_sites == 0
    assert plan.objective == pytest.approx(cost) == pytest.approx(whole.objective)
    assert plan.bound == pytest.approx(cost)
    assert frozenset(problem.site_ids[plan.open_site]) == sites
    assert np.array_equal(plan.open_site, whole.open_site)


def _border_problem() -> FacilityProblem:
    r"""Two provinces N and S; zone a (N) reaches N1 at 50 and S1 (across the border) at 5,
    zone b (S) reaches S1 at 5. Fixed costs 100, demand 1, unmet at 1000 per unit, no
    capacity limit.

    Full optimum: open S1 only, 100 + 5 + 5 = **110**. Cut at the border, a keeps only N1:
    100 + 50 + 100 + 5 = **255** (a unmet instead costs 1000), so the cut model's bound, 255,
    is above the full optimum. Lagrangian pieces {a} and {b} each hold a copy of S1 at half
    its fixed cost (demand shares 1:1): each piece pays 50 + 5, the bound is 110.
    """
    zones = pd.DataFrame({"zone_id": ["a", "b"], "demand": [1.0, 1.0]})
    sites = pd.DataFrame({"site_id": ["N1", "S1"], "fixed_cost": [100.0, 100.0]})
    costs = pd.DataFrame(
        [("a", "N1", 50.0), ("a", "S1", 5.0), ("b", "S1", 5.0)],
        columns=["zone_id", "site_id", "cost"],
    )
    return FacilityProblem.from_cost_table(zones, sites, costs, unmet_penalty=1000.0)


def test_cut_bound_was_invalid_lagrange_bound_is_valid() -> None:
    problem = _border_problem()
    zone_region, site_region = np.array(["N", "S"]), np.array(["N", "S"])
    cut, cut_info = solve_decomposed(
        problem, EXACT, zone_region=zone_region, site_region=site_region
    )
    assert cut_info.cut_pairs == 1
    assert cut.objective == pytest.approx(255.0) and cut.bound == pytest.approx(255.0)
    assert solve(problem, EXACT).objective == pytest.approx(110.0)  # the cut bound is > OPT
    plan, info = solve_decomposed(
        problem,
        EXACT,
        method="lagrange",
        zone_region=zone_region,
        site_region=site_region,
        max_piece_pairs=2,
    )
    assert info.regions == 2 and info.shared_sites == 1 and info.site_copies == 2
    assert plan.bound == pytest.approx(110.0)
    assert plan.objective == pytest.approx(110.0)
    assert problem.site_ids[plan.open_site].tolist() == ["S1"]


def test_two_runs_give_identical_plans() -> None:
    """Same inputs, same threads: byte-identical decisions, cost and bound."""
    problem, zone_xy = grid_problem()
    options = EXACT.__class__(mip_rel_gap=1e-4, threads=1)
    runs = [
        solve_lagrange(problem, options, zone_xy=zone_xy, max_piece_pairs=40, steps=2)
        for _ in range(2)
    ]
    (first, info), (second, _) = runs
    assert info.split_pieces >= 2
    for name in ("open_site", "chargers", "served", "unmet", "grid_upgrade"):
        assert getattr(first, name).tobytes() == getattr(second, name).tobytes()
    assert (first.objective, first.bound) == (second.objective, second.bound)
    monolithic = solve(problem, EXACT)
    assert first.bound <= monolithic.objective + TOL <= first.objective + 2 * TOL
    _feasible(problem, first)


@pytest.mark.parametrize("fixed_per_kwh", [0.0, 1.0])
@pytest.mark.parametrize("rule", ["linear", "queue"])
def test_station_designs_split_into_pieces(rule: str, fixed_per_kwh: float) -> None:
    """Designs (``tests/piece_instances.py``'s 3-zone row, whose optimum tests/test_designs.py
    checks by brute force; the middle site is shared by pieces of one zone each): bound <=
    monolithic optimum <= plan, every station one design of the menu serving within its
    capacity."""
    problem = design_row(rule)
    best = solve(problem, EXACT).objective
    plan, run = solve_lagrange(
        problem, EXACT, max_piece_pairs=3, steps=2, fixed_per_kwh=fixed_per_kwh
    )
    assert run.shared_sites >= 1
    assert plan.bound <= best * (1 + 1e-9)
    assert _cost(problem, plan) >= best * (1 - 1e-9)
    design = design_of(problem, plan.chargers)
    added = plan.chargers - problem.existing_chargers
    assert np.all((design >= 0) | (added == 0).all(axis=1))
    _, capacity = station_capacity(problem)
    load = np.zeros((3, 2))
    np.add.at(load, problem.pair_site, plan.served * problem.demand[problem.pair_zone])
    for j, d in enumerate(design):
        assert np.all(load[j] <= (capacity[j, d] if d >= 0 else 0.0) + 1e-6)


def test_pieces_keep_every_pair_and_copy_shared_sites() -> None:
    """Every live pair is in exactly one piece (its zone's), zones are partitioned, and a site
    is copied into exactly the pieces whose zones reach it."""
    problem, zone_xy = grid_problem()
    pieces = make_pieces(problem, max_pairs=40, max_bundle_pairs=40, zone_xy=zone_xy)
    pairs = np.concatenate([r.pairs for r in pieces.regions])
    assert np.array_equal(np.sort(pairs), np.flatnonzero(problem.live_pairs))
    zones = np.concatenate([r.zones for r in pieces.regions])
    assert len(zones) == len(set(zones.tolist()))
    assert max(len(r.pairs) for r in pieces.regions) <= 40
    for r, region in enumerate(pieces.regions):
        reached = set(problem.pair_site[region.pairs].tolist())
        assert set(region.sites.tolist()) == reached
        copied = set(pieces.copy_site[pieces.copy_piece == r].tolist())
        others = set().union(
            *(set(o.sites.tolist()) for q, o in enumerate(pieces.regions) if q != r)
        )
        assert copied == reached & others


def test_simplex_projection_by_brute_force() -> None:
    """Each group projected onto {w >= 0, sum w = 1}: the closest point found by a fine search
    over the simplex of two and of three entries."""
    values = np.array([0.9, 0.6, 0.2, 1.5, -0.3, 0.1])
    group = np.array([0, 0, 1, 1, 1, 2])
    got = project_simplex(values, group)
    assert np.allclose(np.bincount(group, weights=got), 1.0) and (got >= 0).all()
    grid = np.linspace(0, 1, 401)
    a = np.array([(x, 1 - x) for x in grid])
    best2 = a[np.argmin(((a - values[:2]) ** 2).sum(axis=1))]
    b = np.array([(x, y, 1 - x - y) for x in grid for y in grid if x + y <= 1 + 1e-12])
    best3 = b[np.argmin(((b - values[2:5]) ** 2).sum(axis=1))]
    assert np.allclose(got[:2], best2, atol=3e-3) and np.allclose(got[2:5], best3, atol=3e-3)
    assert got[5] == pytest.approx(1.0)


def test_charger_capex_per_kwh_lower_bounds() -> None:
    """Hand-derived rates: linear rule p / q = 100 / 25 = 4 CNY per kWh (not at a site with
    existing chargers); queueing rule with L = 0, 10, 30, 54 kWh for 0-3 chargers: the best
    kWh per charger is 54 / 3 = 18, so 100 / 18; designs (900, 1500, 2000 CNY for 2, 4, 6
    chargers of 25 kWh): min(900/50, 1500/100, 2000/150) = 13.33 CNY per kWh."""
    problem, _ = grid_problem()
    existing = np.zeros((12, 1))
    existing[5] = 1
    problem = dataclasses.replace(
        problem, charger_cost=np.full((12, 1), 100.0), charger_capacity=np.array([25.0])
    )
    rate, usable = linear_rate(dataclasses.replace(problem, existing_chargers=existing))
    assert usable.sum() == 11 and not usable[5]
    assert rate[usable] == pytest.approx(4.0) and rate[5, 0] == 0.0
    queued = dataclasses.replace(
        problem, charger_capacity=None, queue_levels=(np.array([0.0, 10.0, 30.0, 54.0]),)
    )
    assert linear_rate(queued)[0] == pytest.approx(100 / 18)
    one_type = design_row("linear", 1)
    rate, usable = linear_rate(one_type)
    assert usable.all() and rate == pytest.approx(2000 / 150)


def test_a_budget_is_priced_over_lagrangian_pieces() -> None:
    """The three clusters within a budget of 300 (brute force: A2 and B2, see
    tests/test_decompose.py): the priced Lagrangian plan keeps within it and its bound is
    below the optimum."""
    problem = cluster_problem(budget=300.0)
    best, sites = brute_clusters(budget=300.0)
    plan, info = solve_decomposed(problem, EXACT, method="lagrange", price_steps=12)
    assert objective_value(problem, plan)["capex"] <= 300.0 + 1e-6
    assert plan.bound <= best + 1e-6 <= plan.objective + 2e-6
    assert frozenset(problem.site_ids[plan.open_site]) == sites
    assert info.method == "lagrange" and info.price is not None


def test_scenario_with_method_lagrange(tiny_scenario) -> None:
    """The tiny scenario (two charger types, queue-free linear sizing) planned with
    decompose.method = 'lagrange': pieces as large as the component give the whole plan;
    pieces of 4 pairs share sites, and the reported bound stays below the whole optimum."""
    from chargeplan.config.scenario import load_scenario
    from chargeplan.workflows.network import plan_network

    scenario = load_scenario(tiny_scenario)
    whole = plan_network(scenario)
    settings = {"decompose.by": "region", "decompose.method": "lagrange", "decompose.workers": 1}
    exact = plan_network(scenario.with_values(settings))
    assert exact.summary["decompose_method"] == "lagrange"
    assert exact.summary["decompose_shared_sites"] == 0
    assert exact.sites["open"].tolist() == whole.sites["open"].tolist()
    assert exact.summary["objective_value"] == pytest.approx(
        whole.summary["objective_value"], rel=1e-9
    )
    split = plan_network(scenario.with_values({**settings, "decompose.max_piece_pairs": 4}))
    assert split.summary["decompose_shared_sites"] > 0
    assert split.summary["decompose_work_limited_pieces"] == 0  # default 1,000 nodes
    assert split.summary["bound"] <= whole.summary["objective_value"] * (1 + 1e-9)
    assert split.summary["objective_value"] >= whole.summary["bound"] * (1 - 1e-9)


def test_polish_never_raises_the_owner_plans_cost() -> None:
    """The polish replaces a part of the owner plan only by a cheaper plan of the same part:
    with it the plan costs at most the owner plan (polish_pairs = 0), and both are feasible
    plans of the full model, so no cheaper than its optimum."""
    problem, zone_xy = grid_problem()
    kwargs = {"zone_xy": zone_xy, "max_piece_pairs": 40, "steps": 0}
    owner, _ = solve_lagrange(problem, EXACT, polish_pairs=0, **kwargs)
    polished, _ = solve_lagrange(problem, EXACT, **kwargs)
    optimum = solve(problem, EXACT).objective
    assert optimum - TOL <= polished.objective <= owner.objective + TOL
    assert polished.bound == owner.bound
    _feasible(problem, owner)
    _feasible(problem, polished)


def test_the_ignored_time_limit_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Pieces solve to their gap without the time limit (determinism); the log says so."""
    problem, zone_xy = grid_problem()
    with caplog.at_level("INFO", logger="chargeplan.solver.lagrange"):
        solve_lagrange(
            problem,
            SolverOptions(mip_rel_gap=0.01, time_limit_s=7.0),
            zone_xy=zone_xy,
            max_piece_pairs=40,
            steps=0,
        )
    assert "without the time limit (7 s)" in caplog.text


def test_a_work_limit_that_bites_gives_the_same_plan_and_a_valid_bound() -> None:
    """Pieces stopped after one branch-and-bound node (``max_nodes=1``, at gap 0 both pieces
    of the wide instance need more): two runs give byte-identical decisions, cost and bound;
    the bound stays below the exact optimum (a stopped piece reports HiGHS's valid bound), the
    plan is feasible and no cheaper than it, and the run names the pieces that stopped."""
    problem, zone_xy = wide_problem()
    options = SolverOptions(mip_rel_gap=0.0, threads=1)
    kwargs = {"zone_xy": zone_xy, "max_piece_pairs": 150, "steps": 1, "max_nodes": 1}
    (first, info), (second, _) = [solve_lagrange(problem, options, **kwargs) for _ in range(2)]
    assert info.split_pieces == 2 and info.work_limited == (0, 1)
    assert info.work_limit_gap > 0
    for name in ("open_site", "chargers", "served", "unmet", "grid_upgrade"):
        assert getattr(first, name).tobytes() == getattr(second, name).tobytes()
    assert (first.objective, first.bound) == (second.objective, second.bound)
    optimum = solve(problem, EXACT).objective
    assert first.bound <= optimum + TOL <= _cost(problem, first) + 2 * TOL
    _feasible(problem, first)
    unlimited, free = solve_lagrange(problem, options, **{**kwargs, "max_nodes": None})
    assert free.work_limited == () and unlimited.bound <= optimum + TOL


@pytest.mark.parametrize("name", ["A", "B", "C"])
def test_work_limited_pieces_bound_the_brute_force_optimum(name: str) -> None:
    """Brute-force instances with every piece limited to one node: bound <= optimum <= plan."""
    problem = to_problem(SIZING[name])
    best, _ = brute_min_cost(name)
    plan, _ = solve_lagrange(problem, EXACT, max_piece_pairs=3, steps=3, max_nodes=1)
    assert plan.bound <= best + TOL <= _cost(problem, plan) + 2 * TOL
    _feasible(problem, plan)
