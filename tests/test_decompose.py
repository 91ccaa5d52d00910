"""Decomposition: independent components solved apart give the monolithic optimum; the region
rule and the priced budget are checked against brute force.

The instance (``tests/instances.py``, :func:`cluster_problem`): three clusters of zones and
sites that share no pair (components A, B, C) and one zone with no site in reach. Sites are
uncapacitated and demand may go unmet at ``CLUSTER_PENALTY`` per unit, so for a set of open
sites every zone takes the cheaper of its best open pair and the penalty: the optimum is found
by enumerating the 2^6 site sets (``tests/bruteforce.py``, :func:`brute_clusters`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from chargeplan import FacilityProblem
from chargeplan.config.scenario import load_scenario
from chargeplan.errors import InputError
from chargeplan.model.problem import SITE_FIELDS
from chargeplan.model.solution import objective_value
from chargeplan.solver.decompose import solve_decomposed
from chargeplan.solver.highs import solve
from chargeplan.solver.split import (
    COUPLING_FIELDS,
    PAIR_FIELDS,
    SHARED_FIELDS,
    ZONE_FIELDS,
    bundle,
    split_components,
    subproblem,
)
from chargeplan.workflows.network import plan_network

from .bruteforce import brute_clusters
from .instances import CLUSTER_COSTS, EXACT, cluster_problem


def _open(problem: FacilityProblem, solution) -> frozenset[str]:
    return frozenset(problem.site_ids[solution.open_site].tolist())


def test_every_problem_field_is_sliced_or_shared() -> None:
    listed = [*ZONE_FIELDS, *SITE_FIELDS, *PAIR_FIELDS, *SHARED_FIELDS, *COUPLING_FIELDS]
    assert len(listed) == len(set(listed))
    assert set(listed) == {f.name for f in dataclasses.fields(FacilityProblem)}


def test_components_are_the_clusters() -> None:
    problem = cluster_problem()
    regions = split_components(problem)
    members = sorted(
        (sorted(problem.zone_ids[r.zones]), sorted(problem.site_ids[r.sites])) for r in regions
    )
    assert members == [
        (["a1", "a2", "a3"], ["A1", "A2"]),
        (["b1", "b2"], ["B1", "B2", "B3"]),
        (["c1"], ["C1"]),
    ]
    assert sorted(len(r.pairs) for r in regions) == [1, 4, 6]
    # a region's own instance maps its pairs back to the same zone and site ids
    for region in regions:
        part = subproblem(problem, region)
        assert (
            part.zone_ids[part.pair_zone] == problem.zone_ids[problem.pair_zone[region.pairs]]
        ).all()
        assert (
            part.site_ids[part.pair_site] == problem.site_ids[problem.pair_site[region.pairs]]
        ).all()
    # packing: all three fit one task of 20 pairs + sites; with room for 1 each goes alone
    assert [r.components for r in bundle(regions, 20)] == [3]
    assert len(bundle(regions, 1)) == 3


def test_decomposed_optimum_is_the_monolithic_optimum() -> None:
    problem = cluster_problem()
    cost, sites = brute_clusters()
    whole = solve(problem, EXACT)
    split, info = solve_decomposed(problem, EXACT, max_bundle_pairs=1)
    assert info.regions == 3 and info.components == 3 and info.cut_pairs == 0
    assert info.unreachable_zones == 1
    assert whole.objective == pytest.approx(cost, rel=1e-9)
    assert split.objective == pytest.approx(cost, rel=1e-9)
    assert objective_value(problem, split)["total_cost"] == pytest.approx(cost, rel=1e-9)
    assert _open(problem, split) == _open(problem, whole) == sites
    # the zone with nothing in reach is unmet, as in the monolithic model
    lonely = list(problem.zone_ids).index("lonely")
    assert split.unmet[lonely, 0] == 1.0
    assert split.status == "optimal" and split.bound == pytest.approx(cost, rel=1e-9)
    bundled, info = solve_decomposed(problem, EXACT)
    assert info.regions == 1 and bundled.objective == pytest.approx(cost, rel=1e-9)


def test_region_rule_cuts_the_pairs_across_borders() -> None:
    """a3 lies in region 'south' with A2, a1, a2 and A1 in 'north': pairs a2-A2, a1-A2 and
    a3-A1 cross the border and are cut; the plan is the optimum without them."""
    problem = cluster_problem()
    zone_region = np.array(["north", "north", "south", "b", "b", "c", "c"])
    site_region = np.array(["north", "south", "b", "b", "b", "c"])
    split, info = solve_decomposed(problem, EXACT, zone_region=zone_region, site_region=site_region)
    kept = CLUSTER_COSTS[
        ~CLUSTER_COSTS.apply(
            lambda r: (r.zone_id, r.site_id) in {("a2", "A2"), ("a1", "A2"), ("a3", "A1")}, axis=1
        )
    ]
    cost, sites = brute_clusters(kept)
    assert info.cut_pairs == 3
    # a1, a2 and a3 each lost a site in reach: 10 + 7 + 12 units of demand
    assert info.cut_zone_demand == pytest.approx(29.0)
    assert split.objective == pytest.approx(cost, rel=1e-9)
    assert _open(problem, split) == sites
    assert split.objective >= brute_clusters()[0] - 1e-9  # an upper bound on the full optimum


def test_a_budget_is_priced_within_budget_with_a_valid_bound() -> None:
    """Unpriced, the plan opens A2, B2 and C1 (capex 405: C1 serves c1 for 240 + 33.3 instead
    of its 500 penalty); within 300 the best is A2 and B2 (adding A1 would fit but saves a1
    only 42.5)."""
    budget = 300.0
    problem = cluster_problem(budget=budget)
    best, sites = brute_clusters(budget=budget)
    assert sites == {"A2", "B2"} and brute_clusters()[1] == {"A2", "B2", "C1"}
    whole = solve(problem, EXACT)
    assert whole.objective == pytest.approx(best, rel=1e-9)
    unconstrained = objective_value(problem, solve(cluster_problem(), EXACT))["capex"]
    assert unconstrained > budget  # the budget binds

    plan, info = solve_decomposed(problem, EXACT, max_bundle_pairs=1, price_steps=12)
    costs = objective_value(problem, plan)
    assert costs["capex"] <= budget + 1e-6
    assert plan.objective == pytest.approx(costs["total_cost"], rel=1e-9)
    assert plan.objective >= best - 1e-6  # feasible, so no cheaper than the optimum
    assert plan.bound <= best + 1e-6  # Lagrangian bound: below the optimum
    assert plan.gap == pytest.approx((plan.objective - plan.bound) / plan.objective)
    assert _open(problem, plan) == sites  # here the price finds the optimum itself
    assert info.price is not None and info.price > 0
    assert len(info.price_steps) >= 2
    assert all(s["dual"] <= best + 1e-6 for s in info.price_steps)


def test_a_site_limit_is_priced() -> None:
    problem = cluster_problem(max_sites=2)
    best, _ = brute_clusters(max_sites=2)
    plan, info = solve_decomposed(problem, EXACT, price_steps=12)
    assert plan.open_site.sum() <= 2
    assert best - 1e-6 <= plan.objective and plan.bound <= best + 1e-6
    assert info.price is not None


def test_max_coverage_and_two_couplings_are_refused() -> None:
    with pytest.raises(InputError, match="min_cost"):
        solve_decomposed(cluster_problem(objective="max_coverage", budget=100.0), EXACT)
    with pytest.raises(InputError, match="budget or a site limit, not both"):
        solve_decomposed(cluster_problem(budget=100.0, max_sites=1), EXACT)


def test_scenario_decomposed_by_components_equals_the_whole_plan(tiny_scenario: Path) -> None:
    """The tiny scenario (sized chargers, two types): exact by components."""
    scenario = load_scenario(tiny_scenario)
    whole = plan_network(scenario)
    split = plan_network(
        scenario.with_values({"decompose.by": "components", "decompose.workers": 1})
    )
    assert split.summary["objective_value"] == pytest.approx(
        whole.summary["objective_value"], rel=1e-9
    )
    assert split.summary["chargers"] == whole.summary["chargers"] == 57
    assert split.sites["open"].tolist() == whole.sites["open"].tolist()
    assert split.summary["decompose_regions"] == 1
    assert split.summary["decompose_cut_pairs"] == 0
    assert split.summary["decompose_unreachable_zones"] == 1  # z4, 200 km from every site
    # region rule: z3 (region b) loses s1 and s2 (region a) but keeps s3, its nearest
    region = plan_network(scenario.with_values({"decompose.by": "region", "decompose.workers": 1}))
    assert region.summary["decompose_cut_pairs"] > 0
    assert region.summary["objective_value"] >= whole.summary["objective_value"] - 1e-6
