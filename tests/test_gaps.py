"""Gap analysis: distances to the nearest sites, totals per region, proposed new sites.

The tiny scenario's plan is derived in tests/test_pipeline.py: only s2 opens (57 chargers,
capex 24,700); z4 (74 users, 74 peak kWh) lies 200 km beyond the last site and is unreachable.
In its UTM zone the demand centres are the squares' centres: z1 at x0 + 5 km, z2 at x0 + 25 km,
z3 at x0 + 45 km, z4 at x0 + 245 km; the sites s1, s2, s3 sit at the first three.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chargeplan
from chargeplan.results.gaps import (
    GapSettings,
    analyse_gaps,
    cover_points,
    propose_sites,
    region_gaps,
    site_regions,
    zone_distances,
    zone_gaps,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[chargeplan.Plan, GapSettings]:
    from .conftest import write_tiny_scenario

    scenario = chargeplan.load_scenario(write_tiny_scenario(tmp_path_factory.mktemp("tiny")))
    return chargeplan.plan_network(scenario), GapSettings.from_scenario(scenario)


def test_settings_follow_the_scenario(tiny_scenario: Path) -> None:
    scenario = chargeplan.load_scenario(tiny_scenario)
    gap_settings = GapSettings.from_scenario(scenario)
    assert gap_settings.crs == "EPSG:32651"
    assert gap_settings.radius_km == 30
    assert gap_settings.region_column == "region"
    assert gap_settings.centre_lon_column is None  # "" in the file: use a point in the zone
    # a site is worth its fixed cost from 10,000 / 5,000 = 2 unmet peak kWh on
    assert gap_settings.min_site_kwh == pytest.approx(2.0)


def test_distances_to_nearest_open_and_candidate_site(tiny) -> None:
    plan, gap_settings = tiny
    zones = zone_distances(plan, gap_settings)
    assert zones["nearest_open_site"].tolist() == ["s2"] * 4
    np.testing.assert_allclose(zones["nearest_open_site_km"], [20, 0, 20, 220], atol=0.05)
    assert zones["nearest_candidate_site"].tolist() == ["s1", "s2", "s3", "s3"]
    np.testing.assert_allclose(zones["nearest_candidate_site_km"], [0, 0, 0, 200], atol=0.05)


def test_zone_gaps_lists_only_the_unserved_zone(tiny) -> None:
    plan, gap_settings = tiny
    gaps = zone_gaps(plan, gap_settings)
    assert gaps.index.tolist() == ["z4"]
    z4 = gaps.loc["z4"]
    assert z4["gap_reason"] == "unreachable"
    assert z4["unserved_users"] == pytest.approx(74)
    assert z4["unmet_kwh"] == pytest.approx(74)
    assert z4["sites_in_reach"] == 0
    # unreachable: even the nearest candidate is beyond the 30 km radius
    assert z4["nearest_candidate_site_km"] > gap_settings.radius_km
    assert gaps.crs == plan.zones.crs  # GeoDataFrame in, same CRS out


def test_region_totals(tiny) -> None:
    """Regions: a = z1 + z2 (185 + 371 users, s2 lies in z2), b = z3 + z4 (370 + 74)."""
    plan, gap_settings = tiny
    regions = region_gaps(plan, gap_settings)
    assert regions.index.tolist() == ["b", "a"]  # most unserved users first
    b, a = regions.loc["b"], regions.loc["a"]
    assert (b["zones"], b["premium_users"], b["unserved_users"]) == (2, 444, pytest.approx(74))
    assert b["zones_with_gaps"] == 1 and b["gap_zones_unreachable"] == 1
    assert b["unserved_users_unreachable"] == pytest.approx(74)
    assert b["unserved_users_capacity_limited"] == 0
    assert b["share_served"] == pytest.approx(370 / 444)
    assert (b["sites_opened"], b["chargers"], b["capex_cny"]) == (0, 0, 0)
    assert (a["premium_users"], a["unserved_users"], a["share_served"]) == (556, 0, 1)
    assert (a["sites_opened"], a["chargers"]) == (1, 57)
    assert a["capex_cny"] == pytest.approx(24_700)
    assert regions["premium_users"].sum() == 1000
    # geometry: the union of each region's zones (z1 and z2 are 10 km squares, 100 km2 each)
    assert regions.to_crs("EPSG:32651").area.loc["a"] == pytest.approx(200e6, rel=1e-3)


def test_built_sites_regions_are_those_of_every_site(tiny) -> None:
    """s1, s2, s3 lie in z1, z2 (region a) and z3 (region b); only s2 is built. The built
    sites' regions (searched alone) are those of the search over every candidate, and the
    analysis keeps them for the report's table of the largest sites."""
    plan, gap_settings = tiny
    every = site_regions(plan, gap_settings)
    assert every.to_dict() == {"s1": "a", "s2": "a", "s3": "b"}
    built = site_regions(plan, gap_settings, built=True)
    assert built.to_dict() == {"s2": "a"}
    analysis = analyse_gaps(plan, gap_settings)
    assert analysis.built_regions is not None
    assert analysis.built_regions.to_dict() == {"s2": "a"}
    assert region_gaps(plan, gap_settings, built_regions=built).equals(
        region_gaps(plan, gap_settings)
    )


def test_proposal_for_the_unreachable_zone(tiny) -> None:
    plan, gap_settings = tiny
    analysis = analyse_gaps(plan, gap_settings)
    new = analysis.proposed_sites
    assert new.index.tolist() == ["new-1"]
    row = new.loc["new-1"]
    assert (row["zones"], row["zone_ids"], row["region"]) == (1, "z4", "b")
    assert row["unserved_users"] == pytest.approx(74)
    assert row["unmet_kwh"] == pytest.approx(74)
    assert row["max_distance_km"] == pytest.approx(0, abs=1e-6)
    # at z4's centre: 220 km east of s2
    point = new.to_crs("EPSG:32651").geometry.iloc[0]
    s2 = plan.sites.to_crs("EPSG:32651").geometry.loc["s2"]
    assert point.distance(s2) == pytest.approx(220_000, abs=50)
    lonlat = new.geometry.iloc[0]  # the zones' CRS, WGS84
    assert (row["lon"], row["lat"]) == pytest.approx((lonlat.x, lonlat.y), abs=1e-6)
    assert analysis.zones.loc["z4", "proposed_site"] == "new-1"


def test_no_proposal_below_the_demand_that_pays_for_a_site(tiny) -> None:
    plan, gap_settings = tiny
    strict = dataclasses.replace(gap_settings, min_site_kwh=100)  # z4 has 74 unmet kWh
    analysis = analyse_gaps(plan, strict)
    assert analysis.proposed_sites.empty
    assert analysis.zones.loc["z4", "proposed_site"] == ""


def test_no_gaps_give_empty_tables(tiny) -> None:
    plan, gap_settings = tiny
    served = dataclasses.replace(plan, zones=plan.zones.assign(gap_reason=""))
    analysis = analyse_gaps(served, gap_settings)
    assert analysis.zones.empty and analysis.proposed_sites.empty
    assert list(analysis.proposed_sites.columns)[:3] == ["zones", "zone_ids", "zone_names"]
    assert propose_sites(served.zones, gap_settings).crs == plan.zones.crs


def test_cover_points_chain_is_one_group_at_its_weighted_centre() -> None:
    labels, centres = cover_points(np.array([[0, 0], [10, 0], [20, 0]]), np.ones(3), 15)
    assert labels.tolist() == [0, 0, 0]
    np.testing.assert_allclose(centres, [[10, 0]])
    labels, centres = cover_points(np.array([[0, 0], [10, 0]]), np.array([3.0, 1.0]), 15)
    np.testing.assert_allclose(centres, [[2.5, 0]])  # (3 x 0 + 1 x 10) / 4


def test_cover_points_far_apart_are_separate() -> None:
    labels, centres = cover_points(np.array([[0, 0], [100, 0]]), np.array([1.0, 0.0]), 15)
    assert sorted(labels.tolist()) == [0, 1]
    np.testing.assert_allclose(centres[labels], [[0, 0], [100, 0]])


def test_cover_points_ring_falls_back_to_members() -> None:
    """12 points on a 30 km circle, 15.5 km apart: linked into one group whose weighted centre
    is the circle's centre, 30 km from everyone; the group is centred on its heaviest member,
    which then reaches itself and its two neighbours."""
    angle = np.arange(12) * 2 * np.pi / 12
    ring = 30 * np.column_stack([np.cos(angle), np.sin(angle)])
    weight = np.ones(12)
    weight[0] = 2.0
    labels, centres = cover_points(ring, weight, 16)
    assert np.all(np.hypot(*(ring - centres[labels]).T) <= 16 + 1e-9)
    assert labels[11] == labels[0] == labels[1]
    np.testing.assert_allclose(centres[labels[0]], ring[0])
    assert 1 < len(centres) <= 12


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 500, allow_nan=False),
            st.floats(0, 500, allow_nan=False),
            st.floats(0, 10, allow_nan=False),
        ),
        min_size=1,
        max_size=40,
    ),
    st.floats(5, 200),
)
def test_cover_points_every_point_is_within_reach_of_its_centre(points, radius) -> None:
    xy = np.array([p[:2] for p in points])
    weight = np.array([p[2] for p in points])
    labels, centres = cover_points(xy, weight, radius)
    assert labels.shape == (len(xy),)
    assert sorted(set(labels.tolist())) == list(range(len(centres)))
    assert np.all(np.hypot(*(xy - centres[labels]).T) <= radius * (1 + 1e-9) + 1e-9)
