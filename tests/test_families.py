"""The classic location families (issue 13, item 2), exact, through the public API.

- OR-Library (``tests/data/orlib``, sources in its ``SOURCES.md``): the single-source CFLP
  ``p1`` and the capacitated p-median ``pmedcap01`` to their published optima with
  ``single_source=True``, and the p-median ``pmed1``;
- p-median, p-center, set covering (LSCP), maximal covering (MCLP, with ``p`` or a budget and
  no penalty) and the single-source CFLP against brute force on tiny random instances (every
  set of open sites, or every assignment, enumerated here without chargeplan's model code);
- LSCP with a zone nothing reaches: refused before any solve, the zone named;
- ``chargeplan.from_geodataframe`` on a line of four points whose figures are derived by hand.

Timings on the 2-core development machine (build + HiGHS, gap 0): p1 0.1 s, pmedcap01 2 s,
pmed1 1 s; nothing here is marked slow.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from scipy.sparse.csgraph import shortest_path
from scipy.spatial.distance import cdist

import chargeplan
from chargeplan.errors import InputError
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import objective_value
from chargeplan.solver.direct import solve_direct
from chargeplan.solver.options import SolverOptions

from .solver_values import check_every_solve

DATA = Path(__file__).parent / "data" / "orlib"
EXACT = SolverOptions(mip_rel_gap=0, time_limit_s=120)
SEEDS = range(4)


@pytest.fixture(autouse=True)
def _highs_values_are_feasible(monkeypatch: pytest.MonkeyPatch) -> list[np.ndarray]:
    """Every solve checks HiGHS's raw values before decoding (``tests/solver_values.py``)."""
    return check_every_solve(monkeypatch)


def full_table(cost: np.ndarray) -> pd.DataFrame:
    """Every (zone, site) pair of a ``(Z, S)`` cost matrix as a cost table."""
    zone, site = np.indices(cost.shape)
    return pd.DataFrame({"zone_id": zone.ravel(), "site_id": site.ravel(), "cost": cost.ravel()})


def assert_single_source(problem: FacilityProblem, solution: chargeplan.Solution) -> None:
    """Each zone is served whole by one open site, within every site's capacity."""
    share = solution.served[:, 0]
    assert np.all((share < 1e-6) | (share > 1 - 1e-6))
    per_zone = np.bincount(problem.pair_zone, share > 0.5, minlength=len(problem.zone_ids))
    assert np.all(per_zone == 1)
    load = np.bincount(
        problem.pair_site, share * problem.demand[problem.pair_zone, 0], len(problem.site_ids)
    )
    assert np.all(load <= problem.site_capacity + 1e-6)
    assert np.all(solution.open_site[problem.pair_site[share > 0.5]])


# --- OR-Library ---------------------------------------------------------------------------


def test_orlib_p1_single_source_reaches_the_published_optimum():
    """p1: 16 facilities of capacity 15000, 50 customers (cap71's data, single source)."""
    tokens = (DATA / "sscflp" / "p1").read_text().split()
    n_sites, n_zones = int(tokens[0]), int(tokens[1])
    head = np.array(tokens[2 : 2 + 2 * n_sites], float).reshape(n_sites, 2)
    rest = np.array(tokens[2 + 2 * n_sites :], float)
    demand, cost = rest[:n_zones], rest[n_zones:].reshape(n_sites, n_zones).T
    optimum = pd.read_csv(DATA / "sscflp_opt.csv").set_index("instance").loc["p1", "optimum"]
    zones = pd.DataFrame({"zone_id": np.arange(n_zones), "demand": demand})
    sites = pd.DataFrame(
        {"site_id": np.arange(n_sites), "fixed_cost": head[:, 1], "capacity": head[:, 0]}
    )
    problem = FacilityProblem.from_cost_table(zones, sites, full_table(cost), single_source=True)
    solution = chargeplan.solve(problem, EXACT)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(optimum, rel=1e-9)
    assert objective_value(problem, solution)["total_cost"] == pytest.approx(optimum, rel=1e-9)
    assert_single_source(problem, solution)


def read_pmedcap() -> tuple[int, float, np.ndarray, np.ndarray, float]:
    """pmedcap01: medians p, capacity, demands, distances rounded down, best known value."""
    tokens = (DATA / "pmedcap" / "pmedcap01.txt").read_text().split()
    best, n, p, capacity = float(tokens[1]), int(tokens[2]), int(tokens[3]), float(tokens[4])
    body = np.array(tokens[5 : 5 + 4 * n], float).reshape(n, 4)
    distance = np.floor(cdist(body[:, 1:3], body[:, 1:3]))  # the instance's own rounding
    return p, capacity, body[:, 3], distance, best


def test_orlib_pmedcap01_single_source_reaches_713_and_the_split_relaxation_does_not():
    """Capacitated p-median: min sum d_ij x_ij, sum_i q_i x_ij <= Q y_j, sum y <= p = 5.

    With ``single_source=True`` the optimum is the published 713. Letting zones split (the
    relaxation the model solved before, silently) gives 706, below it: so the test fails if
    ``single_source`` is ignored, or if zone merging (inexact here) creeps back in.
    """
    p, capacity, demand, distance, best = read_pmedcap()
    n = len(demand)
    zones = pd.DataFrame({"zone_id": np.arange(n), "demand": demand})
    sites = pd.DataFrame({"site_id": np.arange(n), "fixed_cost": 0.0, "capacity": capacity})
    table = full_table(distance)
    single = FacilityProblem.from_cost_table(zones, sites, table, max_sites=p, single_source=True)
    solution = chargeplan.solve(single, EXACT)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(best)
    assert best == pd.read_csv(DATA / "pmedcapopt.csv").loc[0, "best_known"] == 713
    assert solution.open_site.sum() == p
    assert_single_source(single, solution)
    split = FacilityProblem.from_cost_table(zones, sites, table, max_sites=p)
    assert chargeplan.solve(split, EXACT).objective == pytest.approx(706)


def read_pmed1() -> tuple[int, np.ndarray]:
    """pmed1: p and the 100 x 100 shortest-path distances (a repeated edge: the last wins)."""
    tokens = (DATA / "pmed" / "pmed1.txt").read_text().split()
    n, m, p = int(tokens[0]), int(tokens[1]), int(tokens[2])
    graph = np.full((n, n), np.inf)
    for i, j, c in np.array(tokens[3 : 3 + 3 * m], float).reshape(m, 3):
        graph[int(i) - 1, int(j) - 1] = graph[int(j) - 1, int(i) - 1] = c
    np.fill_diagonal(graph, 0.0)
    return p, shortest_path(graph, method="FW", directed=False)


def test_orlib_pmed1_reaches_the_published_optimum():
    """pmed1 as a 5-median: 5819 (OR-Library's pmedopt)."""
    p, distance = read_pmed1()
    optimum = pd.read_csv(DATA / "pmedopt.csv").loc[0, "optimum"]
    solution = chargeplan.solve(chargeplan.location_problem("pmedian", distance, p=p), EXACT)
    assert solution.objective == pytest.approx(optimum) == 5819


def test_orlib_pmed1_as_a_p_center_reaches_the_published_optimum():
    """pmed1 as a vertex 5-center: 127 (Pullan 2008, ``pcenteropt.csv``), proven by bisection
    on the radius (``solver/pcenter.py``: about 10 set covers, 8 s on the loaded 2-core
    machine; the minimax MILP alone stops at 120 s with a 29 % gap)."""
    p, distance = read_pmed1()
    optimum = pd.read_csv(DATA / "pcenteropt.csv").loc[0, "optimum"]
    solution = chargeplan.solve(chargeplan.location_problem("pcenter", distance, p=p), EXACT)
    assert solution.status == "optimal"
    assert solution.objective == optimum == 127
    assert solution.open_site.sum() <= p
    assert distance[:, solution.open_site].min(axis=1).max() == 127


# --- brute force on tiny instances ----------------------------------------------------------


def tiny(seed: int, zones: int = 8, sites: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Random points on a 10 x 10 square: ``(Z, S)`` distances and weights 1..9."""
    rng = np.random.default_rng(seed)
    distance = cdist(rng.uniform(0, 10, (zones, 2)), rng.uniform(0, 10, (sites, 2)))
    return distance, rng.integers(1, 10, zones).astype(float)


def site_sets(n_sites: int, most: int):
    """Every nonempty set of at most ``most`` sites, as index arrays."""
    for size in range(1, most + 1):
        for chosen in itertools.combinations(range(n_sites), size):
            yield np.array(chosen)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("p", [1, 2, 3])
def test_pmedian_and_pcenter_match_brute_force(seed, p):
    """p-median: min over site sets of sum_i w_i min_j d_ij; p-center: of max_i min_j d_ij."""
    distance, weight = tiny(seed)
    median = min(weight @ distance[:, s].min(axis=1) for s in site_sets(6, p))
    center = min(distance[:, s].min(axis=1).max() for s in site_sets(6, p))
    got = chargeplan.solve(
        chargeplan.location_problem("pmedian", distance, weight=weight, p=p), EXACT
    )
    assert got.objective == pytest.approx(median, rel=1e-9)
    assert got.open_site.sum() <= p
    for reduce in (True, False):  # the reductions stay exact for the p-center rows
        options = SolverOptions(mip_rel_gap=0, reduce=reduce)
        got = chargeplan.solve(
            chargeplan.location_problem("pcenter", distance, weight=weight, p=p), options
        )
        assert got.objective == pytest.approx(center, rel=1e-9)
        assert distance[:, got.open_site].min(axis=1).max() == pytest.approx(center, rel=1e-9)
    # the minimax MILP (the labelled model, solve_model) agrees
    model = chargeplan.build_model(chargeplan.location_problem("pcenter", distance, p=p))
    milp = chargeplan.solve_model(model, EXACT)
    assert milp.objective == pytest.approx(center, rel=1e-6)  # HiGHS's row tolerance
    assert distance[:, milp.open_site].min(axis=1).max() == pytest.approx(center, rel=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_lscp_matches_brute_force(seed):
    """Fewest sites covering every zone within the radius (chosen so that a cover exists)."""
    distance, _ = tiny(seed)
    radius = 1.05 * distance.min(axis=1).max()  # every zone has a site within the radius
    fewest = min(len(s) for s in site_sets(6, 6) if (distance[:, s] <= radius).any(axis=1).all())
    got = chargeplan.solve(chargeplan.location_problem("lscp", distance, radius=radius), EXACT)
    assert got.open_site.sum() == fewest == got.objective
    assert (distance[:, got.open_site] <= radius).any(axis=1).all()


def test_lscp_with_a_zone_nothing_reaches_names_it_before_solving():
    """Zone "far" is 50 from every site, the radius 3: set covering is infeasible."""
    distance = np.array([[1.0, 2.0], [50.0, 60.0], [2.0, 1.0]])
    with pytest.raises(InputError, match=r"reaches zones far: widen the radius"):
        chargeplan.location_problem(
            "lscp", distance, radius=3.0, zone_ids=np.array(["a", "far", "b"])
        )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("p", [1, 2])
def test_mclp_with_p_and_no_penalty_matches_brute_force(seed, p):
    """Most weight within the radius of at most p sites; no unmet penalty given anywhere."""
    distance, weight = tiny(seed)
    radius = 3.0
    best = max(weight[(distance[:, s] <= radius).any(axis=1)].sum() for s in site_sets(6, p))
    problem = chargeplan.location_problem("mclp", distance, weight=weight, radius=radius, p=p)
    got = chargeplan.solve(problem, EXACT)
    covered = weight[(distance[:, got.open_site] <= radius).any(axis=1)].sum()
    assert covered == pytest.approx(best)
    assert got.objective == pytest.approx(weight.sum() - best)  # first stage: unmet weight


@pytest.mark.parametrize("seed", SEEDS)
def test_mclp_with_a_budget_through_from_cost_table_matches_brute_force(seed):
    """``from_cost_table(objective="max_coverage", budget=B)`` with no unmet penalty.

    It used to make all reachable demand hard (the default for min_cost), so the budget made
    the model infeasible and the error blamed the sites. Site costs 1..4, budget 5.
    """
    distance, weight = tiny(seed)
    fixed = np.random.default_rng(100 + seed).integers(1, 5, 6).astype(float)
    within = distance <= 3.0
    zones = pd.DataFrame({"zone_id": np.arange(8), "demand": weight})
    sites = pd.DataFrame({"site_id": np.arange(6), "fixed_cost": fixed})
    zone, site = np.nonzero(within)
    table = pd.DataFrame({"zone_id": zone, "site_id": site, "cost": 0.0})
    problem = FacilityProblem.from_cost_table(
        zones, sites, table, objective="max_coverage", budget=5.0
    )
    best = max(
        weight[within[:, s].any(axis=1)].sum() for s in site_sets(6, 6) if fixed[s].sum() <= 5.0
    )
    got = chargeplan.solve(problem, EXACT)
    assert weight[within[:, got.open_site].any(axis=1)].sum() == pytest.approx(best)
    assert fixed @ got.open_site <= 5.0


def brute_single_source(fixed, capacity, demand, cost) -> float:
    """Cheapest assignment of each zone to one site within capacities (every one tried)."""
    best = np.inf
    zones = np.arange(len(demand))
    for choice in itertools.product(range(len(fixed)), repeat=len(demand)):
        site = np.array(choice)
        load = np.bincount(site, demand, minlength=len(fixed))
        if np.all(load <= capacity):
            best = min(best, fixed[np.unique(site)].sum() + cost[zones, site].sum())
    return float(best)


@pytest.mark.parametrize("seed", range(6))
def test_single_source_cflp_matches_brute_force(seed):
    """7 zones, 3 sites with tight capacities: all 3^7 assignments enumerated."""
    rng = np.random.default_rng(seed)
    demand = rng.integers(2, 9, 7).astype(float)
    capacity = np.full(3, np.ceil(demand.sum() / 2.5))
    fixed = rng.uniform(5, 20, 3).round(2)
    cost = (demand[:, None] * rng.uniform(1, 4, (7, 3))).round(2)
    zones = pd.DataFrame({"zone_id": np.arange(7), "demand": demand})
    sites = pd.DataFrame({"site_id": np.arange(3), "fixed_cost": fixed, "capacity": capacity})
    problem = FacilityProblem.from_cost_table(zones, sites, full_table(cost), single_source=True)
    got = chargeplan.solve(problem, EXACT)
    assert got.objective == pytest.approx(brute_single_source(fixed, capacity, demand, cost))
    assert_single_source(problem, got)


def test_single_source_does_not_merge_twin_zones():
    """Two zones of demand 6 with identical costs, two sites of capacity 6 (fixed 10, cost 1).

    Single source: one zone per site, 10 + 10 + 1 + 1 = 22. The twins have identical reach,
    which the reductions would merge into one zone of 12 that no site can take whole
    (infeasible): merging must stay off here.
    """
    zones = pd.DataFrame({"zone_id": ["A", "B"], "demand": [6.0, 6.0]})
    sites = pd.DataFrame({"site_id": ["S1", "S2"], "fixed_cost": 10.0, "capacity": 6.0})
    table = pd.DataFrame(
        {"zone_id": ["A", "A", "B", "B"], "site_id": ["S1", "S2"] * 2, "cost": 1.0}
    )
    problem = FacilityProblem.from_cost_table(zones, sites, table, single_source=True)
    assert chargeplan.solve(problem, EXACT).objective == pytest.approx(22.0)


def test_the_labelled_model_holds_the_families():
    """Single source makes ``x`` binary; the p-center adds ``worst`` and ``worst_cost`` rows."""
    distance = np.array([[1.0, 4.0], [3.0, 2.0]])
    model = chargeplan.build_model(
        chargeplan.location_problem(
            "pcenter", distance, p=1, single_source=True, zone_ids=np.array(["a", "b"])
        )
    )
    assert model.x["a", 0, "demand"].domain is pyo.Binary
    assert set(model.worst_cost.index_set()) == {("a", "demand"), ("b", "demand")}
    # brute force: site 0 -> max(1, 3) = 3; site 1 -> max(4, 2) = 4
    assert chargeplan.solve_model(model, EXACT).objective == pytest.approx(3.0)


# --- from_geodataframe ----------------------------------------------------------------------


@pytest.fixture
def line() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Zones at x = 0, 1, 10, 11 (weights 1, 2, 3, 4); sites A at 0.5, B at 10.5, C at 5."""
    demand = gpd.GeoDataFrame(
        {"users": [1.0, 2.0, 3.0, 4.0]},
        geometry=gpd.points_from_xy([0, 1, 10, 11], [0, 0, 0, 0]),
        crs="EPSG:32650",
        index=["z0", "z1", "z10", "z11"],
    )
    facilities = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([0.5, 10.5, 5.0], [0, 0, 0]),
        crs="EPSG:32650",
        index=["A", "B", "C"],
    )
    return demand, facilities


def test_from_geodataframe_mclp_figures(line):
    """p = 1, radius 1: B covers z10 and z11 (weight 7 of 10); z0 and z1 stay uncovered."""
    plan = chargeplan.from_geodataframe(*line, kind="mclp", radius=1.0, p=1, weight="users")
    s = plan.summary
    assert plan.facilities["open"].tolist() == [False, True, False]
    assert (s["uncovered"], s["uncovered_share"], s["covered_percent"]) == (2, 0.5, 50.0)
    assert (s["covered_weight"], s["uncovered_weight"]) == (7.0, 3.0)
    assert s["uncovered_weight_share"] == pytest.approx(0.3)
    assert s["mean_distance"] == pytest.approx(0.5)  # both covered zones are 0.5 from B
    assert plan.demand["site"].isna().tolist() == [True, True, False, False]
    assert plan.demand["site"].iloc[2:].tolist() == ["B", "B"]
    assert plan.demand["covered"].tolist() == [False, False, True, True]


def test_from_geodataframe_pmedian_pcenter_lscp(line):
    """By hand: weighted distance from A 72, from B 10.5 + 19 + 1.5 + 2 = 33, from C 52, so
    the 1-median is B with mean distance 33 / 10 = 3.3; the farthest zone is 10.5 from A or B
    and 6 from C, so the 1-center is C; radius 1 needs A and B to cover all."""
    median = chargeplan.from_geodataframe(*line, kind="pmedian", p=1, weight="users")
    assert median.facilities["open"].tolist() == [False, True, False]
    assert median.summary["objective"] == pytest.approx(33.0)
    assert median.summary["mean_distance"] == pytest.approx(3.3)
    center = chargeplan.from_geodataframe(*line, kind="pcenter", p=1)
    assert center.facilities["open"].tolist() == [False, False, True]
    assert center.summary["objective"] == pytest.approx(6.0)
    assert center.summary["max_distance"] == pytest.approx(6.0)
    cover = chargeplan.from_geodataframe(*line, kind="lscp", radius=1.0, weight="users")
    assert cover.facilities["open"].tolist() == [True, True, False]
    assert cover.summary["uncovered"] == 0
    assert cover.summary["covered_weight"] == 10.0  # weighed, though lscp counts zones
    assert cover.facilities["zones_served"].tolist() == [2, 2, 0]
    assert cover.facilities["weight_served"].tolist() == [3.0, 7.0, 0.0]


def test_from_geodataframe_refuses_degrees_and_missing_parameters(line):
    demand, facilities = line
    with pytest.raises(InputError, match="geographic"):
        chargeplan.from_geodataframe(
            demand.to_crs("EPSG:4326"), facilities.to_crs("EPSG:4326"), kind="pmedian", p=1
        )
    with pytest.raises(InputError, match="needs radius="):
        chargeplan.from_geodataframe(demand, facilities, kind="mclp", p=1)
    with pytest.raises(InputError, match="no column 'people'"):
        chargeplan.from_geodataframe(demand, facilities, kind="pmedian", p=1, weight="people")
    far = demand.assign(geometry=gpd.points_from_xy([0, 1, 10, 40], [0, 0, 0, 0]))
    with pytest.raises(InputError, match="reaches zones z11"):
        chargeplan.from_geodataframe(far, facilities, kind="lscp", radius=2.0)


# --- the array path (no Pyomo) gives the Pyomo path's plan -----------------------------------


@pytest.mark.parametrize("kind", ["pmedian", "pcenter", "lscp", "cflp"])
def test_the_array_path_returns_the_plan_of_the_pyomo_path(kind):
    """``solve`` hands one-stage models to highspy as arrays (``solver/direct.py``); the
    labelled Pyomo model solved with ``solve_model`` must give the same plan, bit for bit (the
    p-center here as its minimax MILP, which ``solve`` would replace by bisection)."""
    distance, weight = tiny(7, zones=30, sites=12)
    if kind == "cflp":
        capacity = np.full(12, weight.sum() / 4)
        problem = FacilityProblem.from_cost_matrix(
            weight, np.full(12, 20.0), weight[:, None] * distance, capacity=capacity
        )
    else:
        radius = 1.05 * distance.min(axis=1).max()
        problem = chargeplan.location_problem(kind, distance, weight=weight, radius=radius, p=4)
    options = SolverOptions(mip_rel_gap=0, reduce=False, threads=1)
    direct = solve_direct(problem, options)
    assert direct is not None
    pyomo_path = chargeplan.solve_model(chargeplan.build_model(problem), options)
    assert direct.objective == pyomo_path.objective
    assert direct.bound == pyomo_path.bound
    np.testing.assert_array_equal(direct.open_site, pyomo_path.open_site)
    np.testing.assert_array_equal(direct.served, pyomo_path.served)
    np.testing.assert_array_equal(direct.unmet, pyomo_path.unmet)
    assert direct.formulation == pyomo_path.formulation


def test_a_capacitated_solve_imports_neither_pyomo_nor_scipy():
    """The cold-start path (issue 13, item 5): ``import chargeplan``, a CFLP from arrays and
    its solve load no Pyomo and no SciPy (``benchmarks/cold_start.py`` times it)."""
    import subprocess
    import sys

    code = (
        "import numpy as np, sys, chargeplan\n"
        "d = np.array([3.0, 4.0, 5.0]); c = np.array([[1.0, 9.0], [2.0, 2.0], [9.0, 1.0]])\n"
        "p = chargeplan.FacilityProblem.from_cost_matrix(d, np.array([5.0, 6.0]), c,\n"
        "    capacity=np.array([8.0, 9.0]))\n"
        "s = chargeplan.solve(p)\n"
        "print(s.objective, sorted({m.split('.')[0] for m in sys.modules} & {'pyomo', 'scipy'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # by hand: both sites open (demand 12 > either capacity): 5 + 6 + 1 + 2 + 1 = 15, the
    # middle zone going to either site at cost 2
    assert done.stdout.split() == ["15.0", "[]"]


def test_scenario_key_model_single_source(tiny_scenario):
    """``model.single_source = true`` reaches the problem and makes every assignment share of
    the model binary (continuous without it); the plan serves each zone and type from one site."""
    base = chargeplan.load_scenario(tiny_scenario)
    split = chargeplan.build_problem(base, chargeplan.prepare(base))
    scenario = base.with_values({"model.single_source": True})
    problem = chargeplan.build_problem(scenario, chargeplan.prepare(scenario))
    assert problem.single_source and not split.single_source
    assert all(v.is_binary() for v in chargeplan.build_model(problem).x.values())
    assert not any(v.is_binary() for v in chargeplan.build_model(split).x.values())
    sites_per_zone = np.zeros_like(problem.demand)
    served = chargeplan.solve(problem, SolverOptions(mip_rel_gap=0, time_limit_s=60)).served
    np.add.at(sites_per_zone, problem.pair_zone, served > 1e-9)
    assert sites_per_zone.max() == 1


@pytest.mark.parametrize("entries", [0, 7, 5_000, 60_000])
def test_row_blocks_add_duplicates_and_drop_zeros_like_a_dense_sum(entries):
    """``CsrRows.from_triplets`` (numpy below ``SCIPY_FROM`` entries, SciPy above) against a
    dense matrix summed entry by entry: duplicates add up, cancelled entries vanish, columns
    sorted within each row."""
    from chargeplan.model.rows import SCIPY_FROM, CsrRows

    assert 5_000 < SCIPY_FROM < 60_000
    rng = np.random.default_rng(entries)
    shape = (40, 30)
    rows, cols = rng.integers(0, 40, entries), rng.integers(0, 30, entries)
    values = rng.integers(-2, 3, entries).astype(float)  # many exact cancellations
    dense = np.zeros(shape)
    np.add.at(dense, (rows, cols), values)
    block = CsrRows.from_triplets(rows, cols, values, shape)
    np.testing.assert_array_equal(block.tocsr().toarray(), dense)
    assert block.nnz == np.count_nonzero(dense)
    for r in range(shape[0]):
        assert np.all(np.diff(block.indices[block.indptr[r] : block.indptr[r + 1]]) > 0)
