"""The facility-location model against brute force on instances small enough to enumerate.

The reference (``tests/bruteforce.py``) never touches chargeplan's model code. Every design
is enumerated: which sites open and, with charger sizing, how many chargers of each type (each
count from 0 to the site's limit). Fixing a design leaves a small linear program in the
assignment shares ``x`` and the unmet shares ``u``, written out there and solved with
:func:`scipy.optimize.linprog` (HiGHS). With sizing the design is the charger counts alone,
and a site is open when it has a charger. That loses nothing: an open site with no charger
serves no one and costs ``f_j >= 0``.

Why the optima are unique: the instances (``tests/instances.py`` and the CFLP data below) use
generic, non-round data (costs with one or two decimals drawn at random once and written out).
An exact tie between two designs is a coincidence, and the tests do not take it on trust: they
check that the runner-up design is worse by a clear margin (``UNIQUE_MARGIN``) before comparing
open sites and charger counts.
Two charger counts for the same open sites are never tied either, because every charger
costs ``p_jk > 0``.

Formulation checked (``chargeplan.model.formulation.build_model``):

    min  sum_j f_j y_j + sum_jk p_jk n_jk + sum_(i,j),k c_ijk x_ijk + sum_ik pi_k d_ik u_ik
    s.t. sum_j x_ijk + u_ik = 1;  sum_i d_ik x_ijk <= q_k n_jk;  n_jk <= M_jk y_j;
         sum_ik d_ik x_ijk <= C_j y_j;  [capex <= B];  [sum_j y_j <= N]

``max_coverage`` is lexicographic: first the least unmet demand ``sum d u``, then, among the
plans with that coverage, the least capex + access cost.

Every solve in this module also checks HiGHS's column values before they are decoded
(``tests/solver_values.py``): shares in [0, 1], column bounds, integrality and every row.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution, objective_value
from chargeplan.results.plan import make_plan
from chargeplan.solver.highs import solve

from .bruteforce import (
    UNIQUE_MARGIN,
    AssignmentLP,
    Design,
    brute_max_coverage,
    brute_min_cost,
    designs,
    unique_best,
)
from .instances import EXACT, INSTANCE_A, INSTANCE_C, SIZING, TOL, Instance, N, to_problem
from .solver_values import check_every_solve

# --------------------------------------------------------------------------------------------
# classic CFLP data (the sized instances A, B, C are in tests/instances.py)
# --------------------------------------------------------------------------------------------


def _a(rows) -> np.ndarray:
    return np.array(rows, dtype=float)


# Classic CFLP (no sizing): five zones, four sites with capacities; cost = serving all of the
# zone's demand. Capacities bind, so the optimal assignment splits a zone (objective 174.72...).
CFLP_ZONES = pd.DataFrame(
    {"zone_id": ["z0", "z1", "z2", "z3", "z4"], "demand": _a([17, 14, 12, 9, 9])}
)
CFLP_SITES = pd.DataFrame(
    {
        "site_id": ["s0", "s1", "s2", "s3"],
        "fixed_cost": _a([22, 45, 36, 58]),
        "capacity": _a([22, 21, 32, 20]),
    }
)
CFLP_COST = _a(
    [
        [9.5, 56.9, 62.8, 44.6],
        [42.7, 33.6, 52.8, 47.0],
        [6.1, N, 7.4, 36.6],
        [10.0, 31.7, 21.6, 13.9],
        [17.8, 5.4, 8.4, 25.6],
    ]
)


def cost_table(cost: np.ndarray, zone_ids, site_ids) -> pd.DataFrame:
    """Long ``zone_id, site_id, cost`` table of the non-NaN entries of a (Z, S) matrix."""
    zi, si = np.nonzero(~np.isnan(cost))
    return pd.DataFrame(
        {
            "zone_id": np.asarray(zone_ids)[zi],
            "site_id": np.asarray(site_ids)[si],
            "cost": cost[zi, si],
        }
    )


def cflp_instance(capacity: np.ndarray, penalty: float) -> Instance:
    return Instance(
        demand=CFLP_ZONES["demand"].to_numpy(float)[:, None],
        cost=CFLP_COST[:, :, None],
        fixed=CFLP_SITES["fixed_cost"].to_numpy(float),
        capacity=capacity,
        penalty=_a([penalty]),
    )


# --------------------------------------------------------------------------------------------
# chargeplan side
# --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _highs_values_are_feasible(monkeypatch: pytest.MonkeyPatch) -> list[np.ndarray]:
    """Every solve checks HiGHS's raw values before decoding (``tests/solver_values.py``)."""
    return check_every_solve(monkeypatch)


def assert_feasible(problem: FacilityProblem, solution: Solution) -> None:
    """The plan satisfies every constraint of the formulation (checked from the arrays).

    The shares' bounds ``0 <= x, u <= 1`` are not asserted here: decode clips the shares into
    [0, 1], so on a decoded plan they would hold whatever HiGHS returned. The module's
    autouse fixture checks them on HiGHS's raw values instead.
    """
    d = problem.demand
    z, k = d.shape
    share = np.zeros((z, k))
    np.add.at(share, problem.pair_zone, solution.served)
    has = d > 0
    np.testing.assert_allclose((share + solution.unmet)[has], 1.0, atol=TOL)
    load = np.zeros((len(problem.site_ids), k))
    np.add.at(load, problem.pair_site, solution.served * d[problem.pair_zone])
    # no service from a closed site
    assert np.all(load[~solution.open_site] <= TOL)
    finite = np.isfinite(problem.site_capacity)
    assert np.all(load.sum(axis=1)[finite] <= problem.site_capacity[finite] + TOL)
    if problem.sizing:
        assert np.all(load <= solution.chargers * problem.charger_capacity + TOL)
        assert np.all(solution.chargers <= problem.max_chargers * solution.open_site[:, None])
        assert np.all(solution.chargers >= 0)
    if problem.budget is not None:
        assert objective_value(problem, solution)["capex"] <= problem.budget + TOL
    if problem.max_sites is not None:
        assert solution.open_site.sum() <= problem.max_sites


# --------------------------------------------------------------------------------------------
# min_cost with charger sizing
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pair_links", ["always", "never"])
@pytest.mark.parametrize("name", sorted(SIZING))
def test_min_cost_with_sizing_matches_brute_force(name: str, pair_links: str) -> None:
    best_value, best = brute_min_cost(name)
    problem = to_problem(SIZING[name], pair_links=pair_links)
    solution = solve(problem, EXACT)
    assert solution.status == "optimal"
    assert_feasible(problem, solution)
    assert solution.objective == pytest.approx(best_value, rel=1e-6)
    assert objective_value(problem, solution)["total_cost"] == pytest.approx(best_value, rel=1e-6)
    np.testing.assert_array_equal(solution.open_site, best.open_site)
    np.testing.assert_array_equal(solution.chargers, best.chargers)


def test_sizing_instances_exercise_the_interesting_cases() -> None:
    """Guard against the data drifting into trivial optima."""
    _, a = brute_min_cost("A")
    assert a.min_unmet > 1.0  # even this design's best coverage leaves demand unmet
    assert a.open_site.all() and a.chargers.max() >= 2
    _, b = brute_min_cost("B")
    assert not b.open_site[2] and 0 < b.open_site.sum() < 3
    _, c = brute_min_cost("C")
    assert c.open_site.sum() == 2 and c.min_unmet == pytest.approx(0.0, abs=TOL)


@pytest.mark.parametrize(
    ("name", "budget", "max_sites"),
    [("A", None, 2), ("A", 250.05, None), ("C", 150.05, None), ("C", None, 1)],
)
def test_min_cost_with_budget_or_site_limit_matches_brute_force(name, budget, max_sites) -> None:
    best_value, best = brute_min_cost(name, budget, max_sites)
    unconstrained_value, _ = brute_min_cost(name)
    assert best_value > unconstrained_value * (1 + UNIQUE_MARGIN)  # the limit binds
    problem = to_problem(SIZING[name], budget=budget, max_sites=max_sites)
    solution = solve(problem, EXACT)
    assert_feasible(problem, solution)
    assert objective_value(problem, solution)["total_cost"] == pytest.approx(best_value, rel=1e-6)
    np.testing.assert_array_equal(solution.open_site, best.open_site)
    np.testing.assert_array_equal(solution.chargers, best.chargers)


# --------------------------------------------------------------------------------------------
# max_coverage (lexicographic)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "budget", "max_sites"),
    [
        ("A", 200.05, None),  # two designs reach the best coverage: the second stage decides
        ("A", None, 1),
        ("A", 200.05, 1),
        ("B", 150.05, None),
        ("C", 150.05, None),  # two designs reach the best coverage
        ("C", None, 2),  # full coverage within the site limit; the cheaper of two designs
    ],
)
def test_max_coverage_matches_brute_force(name, budget, max_sites) -> None:
    least_unmet, least_cost, best = brute_max_coverage(name, budget, max_sites)
    problem = to_problem(SIZING[name], objective="max_coverage", budget=budget, max_sites=max_sites)
    solution = solve(problem, EXACT)
    assert solution.status == "optimal"
    assert_feasible(problem, solution)
    parts = objective_value(problem, solution)
    # first stage: the most demand covered
    assert solution.objective == pytest.approx(least_unmet, abs=TOL)
    assert parts["unmet_demand"] == pytest.approx(least_unmet, abs=TOL)
    # second stage: the cheapest plan (capex + access) with that coverage
    assert parts["capex"] + parts["access_cost"] == pytest.approx(least_cost, rel=1e-6)
    np.testing.assert_array_equal(solution.open_site, best.open_site)
    np.testing.assert_array_equal(solution.chargers, best.chargers)


def test_max_coverage_limits_bind() -> None:
    """The budgets and site limits above do cost coverage (else the test would be weak)."""
    free, _, _ = brute_max_coverage("A")
    for budget, max_sites in [(200.05, None), (None, 1)]:
        limited, _, _ = brute_max_coverage("A", budget, max_sites)
        assert limited > free + 1.0
    free_c, _, _ = brute_max_coverage("C")
    assert brute_max_coverage("C", 150.05)[0] > free_c + 1.0


# --------------------------------------------------------------------------------------------
# classic CFLP from a cost table
# --------------------------------------------------------------------------------------------


def brute_cflp(inst: Instance, *, allow_unmet: bool) -> tuple[float, np.ndarray]:
    lp = AssignmentLP(inst)
    scored = []
    for y, n, capex in designs(inst):
        value = lp.solve(y, n, "cost" if allow_unmet else "access", allow_unmet=allow_unmet)
        if value is not None:
            scored.append((capex + value, Design(y, n, capex)))
    value, design = unique_best(scored)
    return value, design.open_site


def cflp_problem(capacity: bool = True, **kwargs) -> FacilityProblem:
    sites = CFLP_SITES if capacity else CFLP_SITES.drop(columns="capacity")
    costs = cost_table(CFLP_COST, CFLP_ZONES["zone_id"], CFLP_SITES["site_id"])
    return FacilityProblem.from_cost_table(CFLP_ZONES, sites, costs, cost_basis="total", **kwargs)


@pytest.mark.parametrize("pair_links", ["always", "never"])
def test_classic_cflp_matches_brute_force(pair_links: str) -> None:
    """Default penalty, every zone reachable: all demand served, as in the classic CFLP."""
    value, open_site = brute_cflp(
        cflp_instance(CFLP_SITES["capacity"].to_numpy(float), np.nan), allow_unmet=False
    )
    assert value == pytest.approx(174.72222222222223, rel=1e-9)  # splits a zone: not integral
    problem = cflp_problem(pair_links=pair_links)
    solution = solve(problem, EXACT)
    assert_feasible(problem, solution)
    assert solution.unmet.max() == pytest.approx(0.0, abs=TOL)
    assert solution.objective == pytest.approx(value, rel=1e-6)
    assert objective_value(problem, solution)["total_cost"] == pytest.approx(value, rel=1e-6)
    np.testing.assert_array_equal(solution.open_site, open_site)
    assert 0 < solution.served.max() and np.any(
        (solution.served > TOL) & (solution.served < 1 - TOL)
    )


@pytest.mark.parametrize("penalty", [2.0, 3.5])
def test_cflp_with_explicit_penalty_matches_brute_force(penalty: float) -> None:
    """A low penalty per unit makes leaving demand unmet part of the optimum."""
    inst = cflp_instance(CFLP_SITES["capacity"].to_numpy(float), penalty)
    value, open_site = brute_cflp(inst, allow_unmet=True)
    problem = cflp_problem(unmet_penalty=penalty)
    solution = solve(problem, EXACT)
    assert_feasible(problem, solution)
    assert objective_value(problem, solution)["total_cost"] == pytest.approx(value, rel=1e-6)
    np.testing.assert_array_equal(solution.open_site, open_site)
    if penalty == 2.0:
        assert objective_value(problem, solution)["unmet_demand"] > 1.0


def test_uncapacitated_cflp_matches_cheapest_open_site() -> None:
    """No capacity column: each zone goes wholly to its cheapest open site (no LP needed)."""
    cost = CFLP_COST
    fixed = CFLP_SITES["fixed_cost"].to_numpy(float)
    scored = []
    for bits in itertools.product((False, True), repeat=cost.shape[1]):
        y = np.array(bits)
        if not y.any():
            continue
        cheapest = np.nanmin(np.where(y, cost, np.inf), axis=1)
        if np.isfinite(cheapest).all():
            scored.append((float(fixed @ y + cheapest.sum()), Design(y, np.zeros((4, 1)), 0.0)))
    value, best = unique_best(scored)
    problem = cflp_problem(capacity=False)
    assert np.isinf(problem.site_capacity).all()
    solution = solve(problem, EXACT)
    assert_feasible(problem, solution)
    assert objective_value(problem, solution)["total_cost"] == pytest.approx(value, rel=1e-6)
    np.testing.assert_array_equal(solution.open_site, best.open_site)


def test_default_penalty_serves_all_reachable_demand() -> None:
    """Classic CFLP: site a (fixed 100) can take 19.9 of the 20 units, b (fixed 150) all.

    The CFLP optimum opens b alone: 150 + 2 = 152. With the default penalty (161 per unit)
    chargeplan opens a and leaves 0.1 unmet: 100 + 1.99 + 16.1 = 118.09.
    """
    zones = pd.DataFrame({"zone_id": ["z0", "z1"], "demand": [10.0, 10.0]})
    sites = pd.DataFrame(
        {"site_id": ["a", "b"], "fixed_cost": [100.0, 150.0], "capacity": [19.9, 100.0]}
    )
    costs = pd.DataFrame(
        {"zone_id": ["z0", "z0", "z1", "z1"], "site_id": ["a", "b", "a", "b"], "cost": 1.0}
    )
    problem = FacilityProblem.from_cost_table(zones, sites, costs, cost_basis="total")
    solution = solve(problem, EXACT)
    assert objective_value(problem, solution)["unmet_demand"] == pytest.approx(0.0, abs=TOL)
    assert objective_value(problem, solution)["total_cost"] == pytest.approx(152.0, rel=1e-6)


def test_zero_demand_zone_changes_nothing() -> None:
    zones = pd.concat(
        [CFLP_ZONES, pd.DataFrame({"zone_id": ["empty"], "demand": [0.0]})], ignore_index=True
    )
    costs = pd.concat(
        [
            cost_table(CFLP_COST, CFLP_ZONES["zone_id"], CFLP_SITES["site_id"]),
            pd.DataFrame({"zone_id": ["empty"], "site_id": ["s1"], "cost": [3.0]}),
        ],
        ignore_index=True,
    )
    value, open_site = brute_cflp(
        cflp_instance(CFLP_SITES["capacity"].to_numpy(float), np.nan), allow_unmet=False
    )
    problem = FacilityProblem.from_cost_table(zones, CFLP_SITES, costs, cost_basis="total")
    solution = solve(problem, EXACT)
    assert objective_value(problem, solution)["total_cost"] == pytest.approx(value, rel=1e-6)
    np.testing.assert_array_equal(solution.open_site, open_site)


@pytest.mark.parametrize(
    "penalty",
    [1e8, 1e10],
)
def test_large_penalty_keeps_the_optimum(penalty: float) -> None:
    """A penalty that never binds must not change the plan, however large it is."""
    value, open_site = brute_cflp(
        cflp_instance(CFLP_SITES["capacity"].to_numpy(float), np.nan), allow_unmet=False
    )
    problem = cflp_problem(unmet_penalty=penalty)
    solution = solve(problem, EXACT)
    assert objective_value(problem, solution)["total_cost"] == pytest.approx(value, rel=1e-6)
    np.testing.assert_array_equal(solution.open_site, open_site)


# --------------------------------------------------------------------------------------------
# unmet demand is a variable: a zone with no pair
# --------------------------------------------------------------------------------------------


def test_zone_without_any_pair_is_unmet_and_penalised() -> None:
    """Instance C with zone 4 cut off from every site: the rest is solved as before."""
    cost = INSTANCE_C.cost.copy()
    cost[4] = np.nan
    inst = replace(INSTANCE_C, cost=cost)
    lp = AssignmentLP(inst)
    scored = [
        (capex + lp.solve(y, n, "cost"), Design(y, n, capex)) for y, n, capex in designs(inst)
    ]
    value, best = unique_best(scored)
    problem = to_problem(inst)
    solution = solve(problem, EXACT)
    assert_feasible(problem, solution)
    assert solution.unmet[4, 0] == pytest.approx(1.0, abs=TOL)
    assert not np.any(problem.pair_zone == 4)
    parts = objective_value(problem, solution)
    cut_off_penalty = inst.penalty[0] * inst.demand[4, 0]
    assert parts["unmet_penalty"] >= cut_off_penalty - TOL
    assert parts["total_cost"] == pytest.approx(value, rel=1e-6)
    assert solution.objective == pytest.approx(value, rel=1e-6)
    np.testing.assert_array_equal(solution.chargers, best.chargers)


def test_cost_table_zone_without_rows_is_unmet() -> None:
    """A zone missing from the cost table gets no pair; its whole demand is penalised."""
    zones = pd.concat(
        [CFLP_ZONES, pd.DataFrame({"zone_id": ["lonely"], "demand": [6.0]})], ignore_index=True
    )
    costs = cost_table(CFLP_COST, CFLP_ZONES["zone_id"], CFLP_SITES["site_id"])
    penalty = 1000.0
    problem = FacilityProblem.from_cost_table(
        zones, CFLP_SITES, costs, cost_basis="total", unmet_penalty=penalty
    )
    solution = solve(problem, EXACT)
    assert_feasible(problem, solution)
    value, _ = brute_cflp(
        cflp_instance(CFLP_SITES["capacity"].to_numpy(float), np.nan), allow_unmet=False
    )
    assert solution.unmet[5, 0] == pytest.approx(1.0, abs=TOL)
    assert solution.unmet[:5].max() == pytest.approx(0.0, abs=TOL)
    parts = objective_value(problem, solution)
    assert parts["unmet_penalty"] == pytest.approx(penalty * 6.0, rel=1e-9)
    assert parts["total_cost"] == pytest.approx(value + penalty * 6.0, rel=1e-6)
    assert solution.objective == pytest.approx(value + penalty * 6.0, rel=1e-6)


def test_every_zone_unreachable_solves_to_all_unmet() -> None:
    inst = replace(INSTANCE_C, cost=np.full_like(INSTANCE_C.cost, np.nan))
    problem = to_problem(inst)
    solution = solve(problem, EXACT)
    np.testing.assert_allclose(solution.unmet, 1.0)
    assert not solution.open_site.any() and solution.chargers.sum() == 0
    expected = float((inst.penalty * inst.demand).sum())
    assert solution.objective == pytest.approx(expected, rel=1e-6)


def test_every_zone_unreachable_with_site_limit() -> None:
    inst = replace(INSTANCE_C, cost=np.full_like(INSTANCE_C.cost, np.nan))
    solution = solve(to_problem(inst, max_sites=2), EXACT)
    np.testing.assert_allclose(solution.unmet, 1.0)


# --------------------------------------------------------------------------------------------
# plan accounting
# --------------------------------------------------------------------------------------------


def test_plan_accounting() -> None:
    """Instance A with zone 3 cut off from every site, joined back onto GeoDataFrames."""
    cost = INSTANCE_A.cost.copy()
    cost[3] = np.nan
    inst = replace(INSTANCE_A, cost=cost)
    problem = to_problem(inst)
    solution = solve(problem, EXACT)
    z, s, _ = inst.shape
    zones = gpd.GeoDataFrame(
        {"zone_id": problem.zone_ids, "premium_users": np.arange(1, z + 1) * 100.0},
        geometry=[Point(121.0 + 0.05 * i, 31.0) for i in range(z)],
        crs="EPSG:4326",
    )
    sites = gpd.GeoDataFrame(
        {"site_id": problem.site_ids},
        geometry=[Point(121.0 + 0.07 * j, 31.1) for j in range(s)],
        crs="EPSG:4326",
    )
    plan = make_plan(problem, solution, zones, sites)

    pz, ps = plan.zones, plan.sites
    np.testing.assert_allclose(pz["demand_kwh"], inst.demand.sum(axis=1))
    np.testing.assert_allclose(pz["served_kwh"] + pz["unmet_kwh"], pz["demand_kwh"], atol=TOL)
    for t, name in enumerate(problem.types):
        np.testing.assert_allclose(
            pz[f"served_kwh_{name}"] + pz[f"unmet_kwh_{name}"], inst.demand[:, t], atol=TOL
        )
        capacity = ps[f"chargers_{name}"].to_numpy() * inst.q[t]
        assert np.all(capacity >= ps[f"served_kwh_{name}"].to_numpy() - TOL)
    np.testing.assert_array_equal(ps["open"], solution.open_site)
    np.testing.assert_allclose(ps["served_kwh"].sum(), pz["served_kwh"].sum(), atol=TOL)
    # assignments add up to what each zone is served
    by_zone = plan.assignments.groupby("zone_id")["served_kwh"].sum()
    np.testing.assert_allclose(
        by_zone.reindex(problem.zone_ids, fill_value=0.0).to_numpy(), pz["served_kwh"], atol=TOL
    )

    sm = plan.summary
    parts = ["fixed_cost_cny", "charger_cost_cny", "access_cost_cny", "unmet_penalty_cny"]
    assert sm["total_cost_cny"] == pytest.approx(sum(sm[p] for p in parts), rel=1e-12)
    assert sm["total_cost_cny"] == pytest.approx(solution.objective, rel=1e-6)
    assert sm["capex_cny"] == pytest.approx(ps["capex_cny"].sum(), rel=1e-12)
    assert sm["fixed_cost_cny"] == pytest.approx(ps["fixed_cost_cny"].sum(), rel=1e-12)
    assert sm["charger_cost_cny"] == pytest.approx(ps["charger_cost_cny"].sum(), rel=1e-12)
    assert sm["chargers"] == int(solution.chargers.sum()) == int(ps["chargers"].sum())
    assert sm["unmet_demand"] == pytest.approx(pz["unmet_kwh"].sum(), abs=TOL)
    assert sm["coverage"] == pytest.approx(pz["served_kwh"].sum() / inst.demand.sum(), rel=1e-9)

    assert pz["gap_reason"].iloc[3] == "unreachable"
    assert pz["sites_in_reach"].iloc[3] == 0 and pz["served_kwh"].iloc[3] == 0
    assert sm["gap_zones_unreachable"] == 1
    gaps = pz["gap_reason"].to_numpy()
    has_gap = pz["unmet_kwh"].to_numpy() > 1e-6 * pz["demand_kwh"].to_numpy()
    assert set(gaps[~has_gap]) <= {""}
    assert set(gaps[has_gap]) <= {"unreachable", "capacity_limited", "budget_limited", "not_built"}
    assert sm["zones_with_gaps"] == int(has_gap.sum())
    assert list(plan.gaps["zone_id"]).count("z3") == 1
