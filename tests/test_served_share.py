"""The share of the reachable demand a plan serves (issue 12's ">= 95 %" figure).

The three-cluster instance (:mod:`tests.instances`): zones a1, a2, a3 (demand 10, 7, 12) reach
sites A1, A2; b1, b2 (9, 11) reach B1, B2, B3; c1 (5) reaches C1; "lonely" (4) reaches none.
The hand-made plan opens A1 and B3 and serves a1 and a2 whole, half of a3 and all of b2 from
them; b1 and c1 stay unmet (their sites are closed), lonely too (nothing in reach).

- demand of the zones with a candidate in reach: 10 + 7 + 12 + 9 + 11 + 5 = 54;
- served: 10 + 7 + 6 + 11 = 34, so the reachable share is 34 / 54 = 17 / 27;
- the plan's coverage counts lonely: 34 / 58.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from chargeplan.model.solution import Solution
from chargeplan.results.plan import Plan, make_plan
from chargeplan.results.served import reachable_served_share, zones_reachable_served_share

from .instances import cluster_problem

#: Served share of each pair in the hand-made plan (the other pairs serve nothing).
SERVED = {("a1", "A1"): 1.0, ("a2", "A1"): 1.0, ("a3", "A1"): 0.5, ("b2", "B3"): 1.0}


def _hand_made_plan() -> Plan:
    problem = cluster_problem()
    pairs = zip(
        problem.zone_ids[problem.pair_zone], problem.site_ids[problem.pair_site], strict=True
    )
    served = np.array([[SERVED.get((z, s), 0.0)] for z, s in pairs])
    zone_served = np.bincount(problem.pair_zone, weights=served[:, 0], minlength=7)
    solution = Solution(
        open_site=np.isin(problem.site_ids, ["A1", "B3"]),
        chargers=np.zeros((6, 1), np.int64),
        served=served,
        unmet=(1.0 - zone_served)[:, None],
        grid_upgrade=np.zeros(6, bool),
        status="optimal",
        objective=0.0,
        bound=0.0,
        gap=0.0,
        build_seconds=0.0,
        solve_seconds=0.0,
    )
    zones = gpd.GeoDataFrame(
        {"zone_id": problem.zone_ids},
        geometry=[Point(i, 0) for i in range(7)],
        crs="EPSG:4326",
    )
    sites = gpd.GeoDataFrame(
        {"site_id": problem.site_ids},
        geometry=[Point(i, 1) for i in range(6)],
        crs="EPSG:4326",
    )
    return make_plan(problem, solution, zones, sites)


def test_reachable_share_leaves_out_the_zone_with_nothing_in_reach() -> None:
    plan = _hand_made_plan()
    zones = plan.zones.set_index("zone_id")
    assert zones.loc["lonely", "sites_in_reach"] == 0
    assert zones["served_kwh"].sum() == pytest.approx(34)
    assert reachable_served_share(plan) == pytest.approx(17 / 27)
    assert plan.summary["served_share_reachable"] == pytest.approx(17 / 27)
    assert plan.summary["coverage"] == pytest.approx(34 / 58)


def test_zone_table_share_by_hand() -> None:
    """Three zones: 40 kWh with 2 candidates (30 served), 10 kWh with 1 (0 served), 50 kWh
    with none (0 served): 30 / 50 = 0.6 of the reachable demand; no reachable demand: 1."""
    zones = pd.DataFrame(
        {
            "demand_kwh": [40.0, 10.0, 50.0],
            "served_kwh": [30.0, 0.0, 0.0],
            "sites_in_reach": [2, 1, 0],
        }
    )
    assert zones_reachable_served_share(zones) == pytest.approx(0.6)
    assert zones_reachable_served_share(zones.iloc[[2]]) == 1.0


def test_rollout_plan_takes_its_last_year() -> None:
    """A rollout's zones hold every year's rows: the figure is the last year's (served 5 of 10,
    against 10 of 10 in the first year)."""
    single = _hand_made_plan()
    zones = gpd.GeoDataFrame(
        {
            "year": [2026, 2030],
            "demand_kwh": [10.0, 10.0],
            "served_kwh": [10.0, 5.0],
            "sites_in_reach": [1, 1],
        },
        geometry=[Point(0, 0), Point(0, 0)],
        crs="EPSG:4326",
    )
    sites = single.sites.assign(year=2030)
    assignments = single.assignments.assign(year=2030)
    years = pd.DataFrame({"year": [2026, 2030]})
    plan = Plan(sites=sites, zones=zones, assignments=assignments, years=years)
    assert reachable_served_share(plan) == pytest.approx(0.5)
