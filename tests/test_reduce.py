"""Exact reductions (``chargeplan.solver.reduce``) and the covering form keep the optimum.

Every reduction is checked three ways: on a small instance whose reduced form is derived by
hand; against the unreduced model (``SolverOptions(reduce=False)``) on random instances built
to contain mergeable zones and dominated sites, comparing optima and checking that the expanded
plan is feasible for the original problem and costs what the solver reports; and, for maximal
covering, against brute force over every set of ``p`` sites.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chargeplan.model.problem import FacilityProblem, is_pure_covering
from chargeplan.model.solution import objective_value
from chargeplan.solver.highs import solve
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.reduce import dominated_sites, greedy_cover, merge_zones, reduce_problem

EXACT = SolverOptions(time_limit_s=30, mip_rel_gap=0)
PLAIN = SolverOptions(time_limit_s=30, mip_rel_gap=0, reduce=False)
TOL = 1e-6


def _problem(
    demand: np.ndarray,
    unit_cost: np.ndarray,
    fixed: np.ndarray,
    *,
    capacity: np.ndarray | None = None,
    sizing: bool = False,
    **kwargs,
) -> FacilityProblem:
    """Zones x sites instance; ``unit_cost[i, j]`` per unit of demand, NaN: out of reach."""
    z, s = unit_cost.shape
    k = demand.shape[1]
    pair_zone, pair_site = np.nonzero(~np.isnan(unit_cost))
    return FacilityProblem(
        zone_ids=np.arange(z),
        site_ids=np.arange(s),
        types=tuple(f"t{t}" for t in range(k)),
        demand=demand,
        pair_zone=pair_zone,
        pair_site=pair_site,
        pair_cost=unit_cost[pair_zone, pair_site][:, None] * demand[pair_zone],
        distance_km=unit_cost[pair_zone, pair_site],
        fixed_cost=fixed,
        site_capacity=np.full(s, np.inf) if capacity is None else capacity,
        charger_capacity=np.full(k, 7.0) if sizing else None,
        charger_cost=np.full((s, k), 13.0),
        max_chargers=np.full((s, k), 3.0),
        unmet_penalty=np.full(k, 50.0),
        **kwargs,
    )


def _check_plan(problem: FacilityProblem, solution) -> None:
    """The plan satisfies the original problem's rows (assignment, capacity, limits)."""
    d = problem.demand
    zone_sum = np.zeros_like(d)
    np.add.at(zone_sum, problem.pair_zone, solution.served)
    has = d > 0
    np.testing.assert_allclose((zone_sum + solution.unmet)[has], 1.0, atol=TOL)
    closed = ~solution.open_site[problem.pair_site]
    assert np.all(solution.served[closed] <= TOL)
    load = np.zeros((len(problem.site_ids), d.shape[1]))
    np.add.at(load, problem.pair_site, d[problem.pair_zone] * solution.served)
    assert np.all(load.sum(axis=1) <= problem.site_capacity * (1 + TOL) + TOL)
    if problem.charger_capacity is not None:
        assert np.all(load <= problem.charger_capacity * solution.chargers + TOL)
    if problem.max_sites is not None:
        assert solution.open_site.sum() <= problem.max_sites


def _same_optimum(problem: FacilityProblem) -> None:
    reduced, plain = solve(problem, EXACT), solve(problem, PLAIN)
    _check_plan(problem, reduced)
    assert reduced.objective == pytest.approx(plain.objective, rel=1e-6, abs=1e-6)
    mine, theirs = objective_value(problem, reduced), objective_value(problem, plain)
    if problem.objective == "min_cost":
        assert mine["total_cost"] == pytest.approx(reduced.objective, rel=1e-6)
    else:
        assert mine["unmet_demand"] == pytest.approx(reduced.objective, rel=1e-6, abs=1e-6)
        second = mine["capex"] + mine["access_cost"]
        assert second == pytest.approx(theirs["capex"] + theirs["access_cost"], rel=1e-6, abs=1e-6)


def test_zones_with_identical_reach_are_merged_and_expanded() -> None:
    """Zones 0 and 2 reach sites 0 and 1 at 1.0 and 2.0 per unit: one zone of demand 3 + 5."""
    n = np.nan
    unit = np.array([[1.0, 2.0, n], [1.0, n, 3.0], [1.0, 2.0, n], [n, n, 3.0]])
    demand = np.array([[3.0], [4.0], [5.0], [6.0]])
    problem = _problem(demand, unit, np.array([10.0, 20.0, 30.0]), capacity=np.full(3, 9.0))
    np.testing.assert_array_equal(merge_zones(problem), [0, 1, 0, 2])
    reduction = reduce_problem(problem)
    assert reduction.merged_zones == 1 and reduction.dropped_sites == 0
    merged = reduction.problem
    np.testing.assert_allclose(merged.demand[:, 0], [8.0, 4.0, 6.0])
    first = (merged.pair_zone == 0) & (merged.pair_site == 1)
    assert merged.pair_cost[first, 0] == pytest.approx(2.0 * 8.0)
    solution = solve(problem, EXACT)
    _check_plan(problem, solution)
    # capacity 9 per site: sites 0 and 2 (fixed 10 + 30) serve all 18 units, zone 3 and 3 units
    # of zone 1 from site 2 (9 * 3.0), zones 0 and 2 and 1 unit of zone 1 from site 0 (9 * 1.0)
    np.testing.assert_array_equal(solution.open_site, [True, False, True])
    assert solution.objective == pytest.approx(10 + 30 + 27 + 9)
    assert solution.unmet.sum() == 0
    assert solution.objective == pytest.approx(solve(problem, PLAIN).objective, rel=1e-9)


def test_different_unit_costs_or_demand_types_keep_zones_apart() -> None:
    unit = np.array([[1.0, 2.0], [1.0, 2.5], [1.0, 2.0]])
    demand = np.array([[3.0, 1.0], [3.0, 1.0], [3.0, 0.0]])
    problem = _problem(demand, unit, np.array([1.0, 1.0]))
    assert len(np.unique(merge_zones(problem))) == 3


def test_dominated_and_unusable_sites_are_dropped() -> None:
    """Covering: site 1 reaches a subset of site 0's zones at no lower cost; site 3 duplicates
    site 2 (kept: 2, the first); site 4 reaches nobody; site 5 is cheaper, so stays."""
    n = np.nan
    zero = np.array(
        [
            [0, 0, n, n, n, 0],
            [0, 0, 0, 0, n, n],
            [0, n, 0, 0, n, 0],
        ],
        dtype=float,
    )
    problem = _problem(
        np.ones((3, 1)), zero, np.array([5.0, 5.0, 4.0, 4.0, 1.0, 1.0]), objective="max_coverage"
    )
    np.testing.assert_array_equal(dominated_sites(problem), [0, 1, 0, 1, 1, 0])
    required = _problem(
        np.ones((3, 1)), zero, np.full(6, 5.0), required=np.array([0, 1, 0, 0, 0, 0], bool)
    )
    assert not dominated_sites(required)[1]  # required sites stay
    sized = _problem(np.ones((3, 1)), zero, np.full(6, 5.0), sizing=True)
    np.testing.assert_array_equal(dominated_sites(sized), [0, 0, 0, 0, 1, 0])  # unusable only


def _random_instance(seed: int, kind: str) -> FacilityProblem:
    """Zones with copies (same reach, same unit costs) and sites with weaker twins."""
    rng = np.random.default_rng(seed)
    z0, s0 = int(rng.integers(3, 6)), int(rng.integers(2, 5))
    k = 2 if kind == "sized" else 1
    reach = rng.random((z0, s0)) < 0.6
    unit = np.where(reach, 0.0 if kind == "cover" else rng.uniform(1, 9, (z0, s0)).round(2), np.nan)
    # a weaker twin of each site: a subset of its zones, higher unit costs, same fixed cost
    twin = np.where(rng.random((z0, s0)) < 0.7, unit * (1 + rng.integers(0, 2, (z0, s0))), np.nan)
    unit = np.hstack([unit, twin])
    copies = rng.integers(0, z0, int(rng.integers(1, 5)))
    unit = np.vstack([unit, unit[copies]])
    z = unit.shape[0]
    demand = rng.uniform(1, 9, (z, k)).round(1)
    fixed = np.tile(rng.uniform(5, 30, s0).round(1), 2)
    kwargs = {}
    if kind == "cover":
        kwargs = {"objective": "max_coverage", "max_sites": int(rng.integers(1, 3))}
    elif kind == "capacitated":
        kwargs = {"capacity": rng.uniform(5, 20, 2 * s0).round(1)}
    return _problem(demand, unit, fixed, sizing=kind == "sized", **kwargs)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(["cover", "uflp", "capacitated"]))
@example(seed=45652, kind="cover")  # every site dropped by the reductions: greedy_cover has none
def test_reduced_optimum_equals_unreduced(seed: int, kind: str) -> None:
    _same_optimum(_random_instance(seed, kind))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_reduced_optimum_equals_unreduced_with_sizing(seed: int) -> None:
    problem = _random_instance(seed, "sized")
    assert reduce_problem(problem).merged_zones > 0
    _same_optimum(problem)


def test_uncapacitated_instance_is_reduced() -> None:
    """The random instances really exercise both reductions."""
    reduction = reduce_problem(_random_instance(7, "uflp"))
    assert reduction.merged_zones > 0 and reduction.dropped_sites > 0


def _covering(seed: int, zones: int = 14, sites: int = 7) -> tuple[FacilityProblem, np.ndarray]:
    rng = np.random.default_rng(seed)
    zxy, sxy = rng.uniform(0, 10, (zones, 2)), rng.uniform(0, 10, (sites, 2))
    near = np.linalg.norm(zxy[:, None] - sxy[None], axis=2) <= 3.5
    weight = rng.integers(1, 10, zones).astype(float)
    zone, site = np.nonzero(near)
    problem = FacilityProblem.from_cost_table(
        pd.DataFrame({"zone_id": np.arange(zones), "demand": weight}),
        pd.DataFrame({"site_id": np.arange(sites), "fixed_cost": 0.0}),
        pd.DataFrame({"zone_id": zone, "site_id": site, "cost": 0.0}),
        objective="max_coverage",
        max_sites=3,
        unmet_penalty=1.0,
    )
    return problem, near


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_maximal_covering_against_brute_force(seed: int) -> None:
    """Every set of 3 of 7 sites: the best covered demand is the solver's, reduced or not."""
    problem, near = _covering(seed)
    weight = problem.demand[:, 0]
    best = max(
        weight[near[:, list(chosen)].any(axis=1)].sum()
        for chosen in itertools.combinations(range(near.shape[1]), 3)
    )
    assert is_pure_covering(problem)
    for options in (EXACT, PLAIN):
        solution = solve(problem, options)
        _check_plan(problem, solution)
        covered = weight @ (1 - solution.unmet[:, 0])
        assert covered == pytest.approx(best, abs=1e-6)
        assert problem.demand.sum() - solution.objective == pytest.approx(best, abs=1e-6)
        assert weight[near[:, solution.open_site].any(axis=1)].sum() == pytest.approx(best)


def test_covering_form_serves_each_covered_zone_from_its_nearest_open_site() -> None:
    problem, _ = _covering(4)
    solution = solve(problem, EXACT)
    served = solution.served[:, 0]
    assert np.all(served[~solution.open_site[problem.pair_site]] == 0)
    per_zone = np.bincount(problem.pair_zone, weights=served, minlength=len(problem.zone_ids))
    np.testing.assert_allclose(per_zone + solution.unmet[:, 0], 1.0)
    # the pair used is the shortest open one
    open_pair = solution.open_site[problem.pair_site]
    for zone in np.flatnonzero(per_zone > 0):
        mine = (problem.pair_zone == zone) & open_pair
        used = np.flatnonzero((problem.pair_zone == zone) & (served > 0))
        assert (
            problem.distance_km[used[0]] == problem.distance_km[mine].min()
            or np.isnan(problem.distance_km[mine]).all()
        )


def test_greedy_cover_respects_the_site_limit_and_budget() -> None:
    problem, near = _covering(5)
    chosen = greedy_cover(problem)
    assert chosen.sum() == 3
    # the first pick covers the most demand alone
    weight = problem.demand[:, 0]
    alone = weight @ near
    assert chosen[np.argmax(alone)]
    costly = FacilityProblem(
        **{**problem.__dict__, "fixed_cost": np.arange(1.0, 8.0), "max_sites": None, "budget": 5}
    )
    picked = greedy_cover(costly)
    assert costly.fixed_cost @ picked <= 5


def test_sparse_highs_passes_the_warm_start() -> None:
    """With no time to search, HiGHS returns the start it was given (and nothing without it).

    Pyomo rebuilds the interface object on every set_instance; the start must survive that.
    """
    from chargeplan.model.sparse import BINARY, SparseMILP
    from chargeplan.solver.interface import SparseHighs

    def incumbent(warm_start: bool) -> float | None:
        lp = SparseMILP()
        lp.add_columns("y", 3, 0.0, 1.0, BINARY)
        lp.add_rows("pick_two", 1, np.zeros(3, int), np.arange(3), np.ones(3), None, 2.0)
        lp.objective = np.array([-1.0, -2.0, -3.0])
        model, columns = lp.to_pyomo()
        for variable, value in zip(columns, [1.0, 1.0, 0.0], strict=True):
            variable.set_value(value)
        results = SparseHighs(warm_start=warm_start).solve(
            model, time_limit=0.0, load_solutions=False, raise_exception_on_nonoptimal_result=False
        )
        return results.incumbent_objective

    assert incumbent(True) == pytest.approx(-3.0)  # the start: y = (1, 1, 0)
    assert incumbent(False) is None
