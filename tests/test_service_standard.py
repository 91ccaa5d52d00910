"""The service standard (issue 12, item 4): settlement types, reach by type, coverage targets.

Every expected number is derived in the test's docstring or by brute force over all pairs or
all plans of a tiny instance.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from shapely.geometry import Point, box

import chargeplan
from chargeplan.config.service import ServiceStandard
from chargeplan.errors import InputError, ScenarioError
from chargeplan.inputs.reach import (
    pairs_from_travel_times,
    pairs_within_radius,
    pairs_within_zone_radius,
)
from chargeplan.inputs.settlement import classify_settlement, settlement_by_density
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import objective_value
from chargeplan.model.targets import coverage_summary, group_demand
from chargeplan.solver.decompose import solve_decomposed
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.reduce import merge_zones, reduce_problem
from chargeplan.solver.split import SHARED_FIELDS, ZONE_FIELDS, split_components, subproblem
from tests.conftest import SCENARIO, write_tiny_scenario

from .target_instances import STANDARD

METRIC = "EPSG:32651"  # UTM 51N, metres

# --------------------------------------------------------------------------------------------
# settlement types
# --------------------------------------------------------------------------------------------


def test_density_thresholds_follow_the_degree_of_urbanisation() -> None:
    """Urban from 1,500 people per km2, suburban from 300, rural below; the bounds included."""
    density = np.array([20_000.0, 1_500.0, 1_499.9, 300.0, 299.9, 0.0])
    assert settlement_by_density(density).tolist() == [
        "urban",
        "urban",
        "suburban",
        "suburban",
        "rural",
        "rural",
    ]


def test_zones_classified_by_their_own_density() -> None:
    """Squares of 2 km x 2 km = 4 km2: 8,000 people -> 2,000 /km2 (urban), 2,000 -> 500
    (suburban), 400 -> 100 (rural)."""
    squares = [box(x, 0, x + 2_000, 2_000) for x in (0, 10_000, 20_000)]
    zones = gpd.GeoDataFrame(
        {"zone_id": ["a", "b", "c"], "pop": [8_000.0, 2_000.0, 400.0]},
        geometry=squares,
        crs=METRIC,
    ).to_crs("EPSG:4326")
    out = classify_settlement(zones, population_column="pop", crs=METRIC)
    assert out["density_per_km2"].to_numpy() == pytest.approx([2_000.0, 500.0, 100.0], rel=1e-6)
    assert out["settlement"].tolist() == ["urban", "suburban", "rural"]
    assert "settlement" not in zones.columns  # a copy: the input is left as it was


def test_a_named_settlement_column_is_normalised_and_checked() -> None:
    zones = gpd.GeoDataFrame(
        {"zone_id": ["a", "b", "c"], "pop": [1.0, 1.0, 1.0], "kind": [" Urban", "RURAL", "city"]},
        geometry=[Point(0, 0), Point(1, 0), Point(2, 0)],
        crs=METRIC,
    )
    standard = ServiceStandard(settlement_column="kind")
    with pytest.raises(InputError) as error:
        classify_settlement(
            zones, population_column="pop", crs=METRIC, standard=standard, id_columns=("zone_id",)
        )
    message = str(error.value)
    assert "column 'kind'" in message and "row 3" in message and "id c" in message
    assert "'city'" in message and "urban, suburban or rural" in message
    zones.loc[2, "kind"] = "suburban"
    out = classify_settlement(zones, population_column="pop", crs=METRIC, standard=standard)
    assert out["settlement"].tolist() == ["urban", "rural", "suburban"]


def test_points_without_a_settlement_column_are_an_error() -> None:
    zones = gpd.GeoDataFrame({"zone_id": ["a"], "pop": [1.0]}, geometry=[Point(0, 0)], crs=METRIC)
    with pytest.raises(InputError, match=r"without area.*settlement_column"):
        classify_settlement(zones, population_column="pop", crs=METRIC, id_columns=("zone_id",))


# --------------------------------------------------------------------------------------------
# reach by settlement type
# --------------------------------------------------------------------------------------------


def _random_points(n: int, seed: int) -> gpd.GeoSeries:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 60_000, size=(n, 2))
    return gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=METRIC)


def test_zone_radius_pairs_match_brute_force() -> None:
    """Every (zone, site) pair with distance <= the zone's own radius, and no other, found by
    computing all 120 x 80 distances."""
    zones, sites = _random_points(120, 1), _random_points(80, 2)
    radius_km = np.random.default_rng(3).choice([3.0, 10.0, 25.0], size=len(zones))
    pairs = pairs_within_zone_radius(zones, sites, radius_km, crs=METRIC)
    zx, zy = zones.x.to_numpy(), zones.y.to_numpy()
    sx, sy = sites.x.to_numpy(), sites.y.to_numpy()
    distance_m = np.hypot(zx[:, None] - sx[None, :], zy[:, None] - sy[None, :])
    zone, site = np.nonzero(distance_m <= radius_km[:, None] * 1000.0)  # sorted by zone, site
    assert len(pairs) > 0 and len(pairs) < distance_m.size  # the radii cut something
    assert pairs["zone"].tolist() == zone.tolist()
    assert pairs["site"].tolist() == site.tolist()
    assert pairs["distance_km"].to_numpy() == pytest.approx(distance_m[zone, site] / 1000.0)
    assert pairs["cost"].to_numpy() == pytest.approx(pairs["distance_km"].to_numpy())


def test_one_radius_for_all_zones_is_the_single_radius_rule() -> None:
    zones, sites = _random_points(50, 4), _random_points(40, 5)
    single = pairs_within_radius(zones, sites, 12.0, crs=METRIC)
    per_zone = pairs_within_zone_radius(zones, sites, np.full(50, 12.0), crs=METRIC)
    pd.testing.assert_frame_equal(single, per_zone)


def test_travel_times_filtered_by_each_zones_limit() -> None:
    """Zone a (limit 10 min) keeps s1 (8 min), drops s2 (12); zone b (limit 30) keeps both."""
    table = pd.DataFrame(
        {
            "zone_id": ["a", "a", "b", "b"],
            "site_id": ["s1", "s2", "s1", "s2"],
            "minutes": [8.0, 12.0, 25.0, 30.0],
        }
    )
    pairs = pairs_from_travel_times(
        table, pd.Index(["a", "b"]), pd.Index(["s1", "s2"]), np.array([10.0, 30.0])
    )
    assert list(zip(pairs["zone_id"], pairs["site_id"], strict=True)) == [
        ("a", "s1"),
        ("b", "s1"),
        ("b", "s2"),
    ]
    assert pairs["cost"].tolist() == [8.0, 25.0, 30.0]


def test_travel_time_table_errors_name_the_column_and_row() -> None:
    ids = (pd.Index(["a"]), pd.Index(["s1"]))
    with pytest.raises(InputError, match="missing column 'minutes'"):
        pairs_from_travel_times(
            pd.DataFrame({"zone_id": ["a"], "site_id": ["s1"], "time": [3.0]}),
            *ids,
            np.array([10.0]),
            source="times.csv",
        )
    with pytest.raises(InputError, match=r"times.csv.*'minutes'.*negative.*row 1"):
        pairs_from_travel_times(
            pd.DataFrame({"zone_id": ["a"], "site_id": ["s1"], "minutes": [-3.0]}),
            *ids,
            np.array([10.0]),
            source="times.csv",
        )


# --------------------------------------------------------------------------------------------
# coverage targets in the model
# --------------------------------------------------------------------------------------------

EXACT = SolverOptions(mip_rel_gap=0.0, time_limit_s=60, threads=1)


def _three_zones(**changes: object) -> FacilityProblem:
    """Z1, Z2 urban, Z3 rural, 10 kWh each; site A (fixed 100) reaches Z1 and Z3, site B
    (fixed 300) reaches Z2; no access cost; unmet demand costs 12 per kWh. Urban target 90 %
    priced at 120 per kWh short (10 x the unmet price)."""
    values: dict[str, object] = {
        "zone_ids": np.array(["Z1", "Z2", "Z3"], dtype=object),
        "site_ids": np.array(["A", "B"], dtype=object),
        "types": ("dc",),
        "demand": np.array([[10.0], [10.0], [10.0]]),
        "pair_zone": np.array([0, 2, 1]),
        "pair_site": np.array([0, 0, 1]),
        "pair_cost": np.zeros((3, 1)),
        "fixed_cost": np.array([100.0, 300.0]),
        "site_capacity": np.full(2, np.inf),
        "charger_capacity": None,
        "charger_cost": np.zeros((2, 1)),
        "max_chargers": np.zeros((2, 1)),
        "unmet_penalty": np.array([12.0]),
        "target_group": np.array([0, 0, 1]),
        "target_names": ("urban", "rural"),
        "target_share": np.array([0.9, 0.0]),
        "target_price": np.array([120.0, 120.0]),
    }
    values.update(changes)
    return FacilityProblem(**values)  # type: ignore[arg-type]


def _brute_force(problem: FacilityProblem) -> tuple[float, tuple[bool, ...]]:
    """Cheapest plan over all open-site sets: a zone is served iff an open site reaches it
    (uncapacitated, no access cost); cost = fixed + 12 x unmet + price x shortfall."""
    best = (np.inf, ())
    reach = {(int(z), int(s)) for z, s in zip(problem.pair_zone, problem.pair_site, strict=True)}
    limit = problem.max_sites if problem.max_sites is not None else len(problem.site_ids)
    for open_ in itertools.product([False, True], repeat=len(problem.site_ids)):
        if sum(open_) > limit:
            continue
        served = np.array(
            [any(open_[s] and (z, s) in reach for s in range(len(open_))) for z in range(3)]
        )
        unmet = problem.demand[:, 0] * ~served
        short = 0.0
        for g in range(len(problem.target_names)):
            members = problem.target_group == g
            in_reach = group_demand(problem)[g]
            short += problem.target_price[g] * max(
                0.0, problem.target_share[g] * in_reach - (in_reach - unmet[members].sum())
            )
        cost = float(problem.fixed_cost @ np.array(open_)) + 12.0 * unmet.sum() + short
        if cost < best[0]:
            best = (cost, open_)
    return best


def test_without_a_target_site_b_stays_closed() -> None:
    """A saves 20 x 12 = 240 > 100: open; B saves 10 x 12 = 120 < 300: closed. Cost 100 + 120."""
    problem = _three_zones(target_share=np.array([0.0, 0.0]))
    plan = chargeplan.solve(problem, EXACT)
    assert plan.open_site.tolist() == [True, False]
    assert plan.objective == pytest.approx(220.0)


@pytest.mark.parametrize("reduce", [True, False])
def test_an_urban_target_opens_the_site_cost_alone_would_not(reduce: bool) -> None:
    """Urban demand in reach D = 20; 90 % = 18 needs Z2 served, so B opens: with A alone the
    shortfall is 18 - 10 = 8 kWh at 120 = 960 (plus 120 unmet) > B's 300. Cost 100 + 300 = 400,
    as the brute force over the four plans finds."""
    problem = _three_zones()
    plan = chargeplan.solve(problem, SolverOptions(mip_rel_gap=0.0, threads=1, reduce=reduce))
    assert plan.open_site.tolist() == [True, True]
    assert plan.objective == pytest.approx(400.0)
    assert _brute_force(problem) == (pytest.approx(400.0), (True, True))
    summary = coverage_summary(problem, plan.unmet)
    assert summary["standard_urban_served_share"] == pytest.approx(1.0)
    assert summary["standard_urban_shortfall_kwh"] == 0.0


def test_an_unreachable_target_leaves_a_priced_shortfall() -> None:
    """One site at most: A costs 100 + 12 x 10 (Z2 unmet) + 120 x 8 (urban 10 of 18) = 1,180;
    B costs 300 + 12 x 20 + 120 x 8 = 1,500. A is chosen, 8 kWh short, urban share 50 %."""
    problem = _three_zones(max_sites=1)
    plan = chargeplan.solve(problem, EXACT)
    assert plan.open_site.tolist() == [True, False]
    assert plan.objective == pytest.approx(1_180.0)
    assert _brute_force(problem) == (pytest.approx(1_180.0), (True, False))
    costs = objective_value(problem, plan)
    assert costs["target_shortfall_penalty"] == pytest.approx(960.0)
    assert costs["total_cost"] == pytest.approx(plan.objective)
    summary = coverage_summary(problem, plan.unmet, users=np.array([100.0, 200.0, 300.0]))
    assert summary["standard_urban_served_share"] == pytest.approx(0.5)
    assert summary["standard_urban_shortfall_kwh"] == pytest.approx(8.0)
    assert summary["standard_rural_served_share"] == pytest.approx(1.0)
    # users: Z1's 100 of the urban 300 are served (Z2's 200 are not)
    assert summary["standard_urban_users_in_reach"] == 300.0
    assert summary["standard_urban_users_served_share"] == pytest.approx(1 / 3)


def test_demand_with_no_candidate_in_reach_does_not_count() -> None:
    """A fourth urban zone Z4 (10 kWh) with no pair: D_urban stays 20, so the optimum is the
    same plan (400) plus Z4's unmet 120."""
    problem = _three_zones(
        zone_ids=np.array(["Z1", "Z2", "Z3", "Z4"], dtype=object),
        demand=np.array([[10.0], [10.0], [10.0], [10.0]]),
        target_group=np.array([0, 0, 1, 0]),
    )
    assert group_demand(problem).tolist() == [20.0, 10.0]
    plan = chargeplan.solve(problem, EXACT)
    assert plan.open_site.tolist() == [True, True]
    assert plan.objective == pytest.approx(520.0)


def test_the_labelled_model_has_the_target_row() -> None:
    """coverage_target['urban']: 10 u[Z1] + 10 u[Z2] - s[urban] <= (1 - 0.9) x 20 = 2."""
    model = chargeplan.build_model(_three_zones())
    row = model.coverage_target["urban"]
    assert pyo.value(row.upper) == pytest.approx(2.0)
    assert list(model.s.keys()) == ["urban"]
    assert "rural" not in model.coverage_target  # no target, no row


def test_reduction_never_merges_zones_of_different_groups() -> None:
    """Z1 and Z3 both reach only A at no cost: the same reach, but urban and rural."""
    problem = _three_zones()
    group = merge_zones(problem)
    assert group[0] != group[2]
    same = _three_zones(target_group=np.array([0, 0, 0]))
    assert merge_zones(same)[0] == merge_zones(same)[2]
    reduced = reduce_problem(same).problem
    assert len(reduced.zone_ids) == 2
    assert group_demand(reduced).tolist() == group_demand(same).tolist()  # [30, 0]


def test_regions_carry_their_zones_groups() -> None:
    problem = _three_zones()
    assert "target_group" in ZONE_FIELDS and "target_share" in SHARED_FIELDS
    regions = split_components(problem)
    parts = [subproblem(problem, r) for r in regions]
    assert sorted(p.target_group.tolist() for p in parts) == [[0], [0, 1]]


def test_a_decomposed_plan_meets_each_target_per_region() -> None:
    """Urban target 50 %: one row over Z1 and Z2 (D = 20) is met by A alone (Z1's 10 kWh), cost
    100 + 12 x 10 = 220. Solved as two regions, {A, Z1, Z3} and {B, Z2}, each region meets its
    own 50 %: in B's region 5 of Z2's 10 kWh would be short (5 x 120 = 600), more than opening
    B costs net (300 - 120), so B opens: 400, the documented upper bound (docs/service.md)."""
    problem = _three_zones(target_share=np.array([0.5, 0.0]))
    whole = chargeplan.solve(problem, EXACT)
    assert whole.objective == pytest.approx(220.0)
    split, report = solve_decomposed(problem, EXACT, max_bundle_pairs=1)
    assert report.regions == 2
    assert split.open_site.tolist() == [True, True]
    assert split.objective == pytest.approx(400.0)


# --------------------------------------------------------------------------------------------
# scenario keys
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[reach.standard]\nurban_km = -3\n", r"reach\.standard\.urban_km.*give a number > 0"),
        (
            "[reach.standard]\n[reach.targets]\nurban = 1.2\n",
            r"reach\.targets\.urban.*between 0 and 1",
        ),
        (
            "[reach.standard]\n[reach.targets]\nperiurban = 0.5\n",
            r"reach\.targets.*'periurban'.*urban, suburban or rural",
        ),
        ("[reach.targets]\nurban = 0.9\n", r"needs \[reach\.standard\].*add it"),
        (
            "[reach.standard]\nurban_min_per_km2 = 200\n",
            r"suburban_min_per_km2 \(300\) must be below urban_min_per_km2",
        ),
    ],
)
def test_scenario_errors_name_the_key_and_the_fix(tmp_path: Path, text: str, expected: str) -> None:
    path = write_tiny_scenario(tmp_path, SCENARIO + text)
    with pytest.raises(ScenarioError, match=expected) as error:
        chargeplan.load_scenario(path)
    assert str(path) in str(error.value)


def test_a_standard_plan_end_to_end(tmp_path: Path) -> None:
    """The tiny scenario's zones are 100 km2 with 1,000 / 2,000 / 1,000 / 500 people: 10, 20,
    10 and 5 per km2, so with thresholds 15 and 5: suburban, urban, suburban, suburban. A 3 km
    standard leaves each zone only the site at its centre (the others are 20 km away; z4 has
    none): 3 pairs. Every reachable zone is served (unmet costs 5,000 per kWh), so each type's
    share in reach is 1 and there is no shortfall."""
    path = write_tiny_scenario(tmp_path, SCENARIO + STANDARD + "[reach.targets]\nurban = 0.9\n")
    scenario = chargeplan.load_scenario(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = chargeplan.plan_network(scenario)
    assert plan.zones["settlement"].tolist() == ["suburban", "urban", "suburban", "suburban"]
    assert plan.summary["pairs"] == 3
    assert plan.summary["standard_urban_served_share"] == pytest.approx(1.0)
    assert plan.summary["standard_urban_target_share"] == 0.9
    assert plan.summary["standard_urban_shortfall_kwh"] == 0.0
    assert plan.summary["standard_suburban_served_share"] == pytest.approx(1.0)
    assert plan.summary["standard_rural_demand_in_reach_kwh"] == 0.0


def test_a_target_opens_a_station_with_charger_sizing(tmp_path: Path) -> None:
    """With unmet demand at 10 CNY per kWh no station pays (a site's fixed cost is 10,000 CNY
    for at most 371 kWh), so the plan serves nobody: 1,000 kWh x 10 = 10,000. An urban target of
    100 % priced at 1,000 x 10 per kWh short opens the urban zone z2's own site s2 with its
    chargers and serves z2 in full, while the suburban zones stay unserved: objective = capex
    + access + 10 x (1,000 - 371)."""
    cheap = (SCENARIO + STANDARD).replace(
        "unmet_penalty_cny_per_kwh = 5000", "unmet_penalty_cny_per_kwh = 10"
    )
    targets = "[reach.targets]\nurban = 1.0\nshortfall_price_factor = 1000\n"
    plans = []
    for number, text in enumerate((cheap, cheap + targets)):
        path = write_tiny_scenario(tmp_path / str(number), text)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            plans.append(chargeplan.plan_network(chargeplan.load_scenario(path)))
    without, with_target = (p.summary for p in plans)
    assert without["sites_opened"] == 0
    assert without["objective_value"] == pytest.approx(10_000.0)
    assert without["standard_urban_served_share"] == 0.0
    assert with_target["standard_urban_demand_in_reach_kwh"] == pytest.approx(371.0)
    assert plans[1].sites.index[plans[1].sites["open"]].tolist() == ["s2"]
    assert with_target["standard_urban_served_share"] == pytest.approx(1.0)
    assert with_target["standard_suburban_served_share"] == 0.0
    assert with_target["standard_urban_users_served_share"] == pytest.approx(1.0)
    assert with_target["standard_suburban_users_served_share"] == 0.0
    assert with_target["target_shortfall_penalty_cny"] == 0.0
    assert with_target["objective_value"] == pytest.approx(
        with_target["capex_cny"] + with_target["access_cost_cny"] + 10 * (1_000 - 371)
    )


def test_travel_time_standard_end_to_end(tmp_path: Path) -> None:
    """A travel-time table instead of distances: z1 reaches s1 in 5 min and s2 in 25, z2 s2 in
    12, z3 s3 in 4 (z4 nothing). Standard: urban (z2) 15 min, suburban (z1, z3, z4) 10: the
    pairs are z1-s1 (5 <= 10), z2-s2 (12 <= 15), z3-s3 (4 <= 10); z1-s2 (25 > 10) is dropped."""
    folder = tmp_path / "tt"
    times = "zone_id,site_id,minutes\nz1,s1,5\nz1,s2,25\nz2,s2,12\nz3,s3,4\n"
    standard = STANDARD.replace(
        "rural_km = 3\n",
        "rural_km = 3\nurban_minutes = 15\nsuburban_minutes = 10\nrural_minutes = 10\n",
    )
    text = SCENARIO.replace("[sizing]", 'travel_time_table = "times.csv"\n\n[sizing]') + standard
    path = write_tiny_scenario(folder, text)
    (folder / "times.csv").write_text(times)
    scenario = chargeplan.load_scenario(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inputs = chargeplan.prepare(scenario)
    pairs = list(zip(inputs.pairs["zone_id"], inputs.pairs["site_id"], strict=True))
    assert pairs == [("z1", "s1"), ("z2", "s2"), ("z3", "s3")]
    assert inputs.pairs["cost"].tolist() == [5.0, 12.0, 4.0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[reach.standard]\nurban_minutes = 10\nsuburban_minutes = 20\nrural_minutes = 30\n",
            r"gives minutes but no reach\.travel_time_table",
        ),
        ("[reach.standard]\nurban_minutes = 10\n", r"urban_minutes, suburban_minutes and rural"),
    ],
)
def test_a_travel_time_standard_needs_its_table(tmp_path: Path, text: str, expected: str) -> None:
    path = write_tiny_scenario(tmp_path, SCENARIO + text)
    with pytest.raises(ScenarioError, match=expected):
        chargeplan.load_scenario(path)
