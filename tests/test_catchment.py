"""The catchment rule: candidates added where urban cells have none within the urban reach.

First on cells along a line (kilometres on the x axis, the answer derived by hand in each
test), then on H3 cells through :func:`station_sites_from_cells`, with the cells' distances
measured in the test by pyproj and shapely (brute force over every cell pair).
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pytest

from chargeplan.inputs.catchment import CatchmentPicks, catchment_picks
from chargeplan.inputs.cellsites import station_sites_from_cells

# Cells on a line, x in km, and their public demand in kWh a day. Candidates stand at x = 0
# and x = 44; the reach is 3 km, so cells are within reach up to 3 km and rivals up to 6 km.
LINE_X_KM = [1, 5, 7, 9, 20, 22, 40, 60, 65, 42.5]
LINE_KWH = [50, 40, 70, 30, 60, 10, 20, 100, 90, 80]
# Cells 0 (1 km from x = 0) and 9 (1.5 km from x = 44) are covered, 1-8 are not. Catchments
# w (all demand within 3 km, the cell's own included) and open demand v at the start: 1: 40 +
# 70 = 110 (cell 3 is 4 km away, cell 0 too); 2: 40 + 70 + 30 = 140; 3: 70 + 30 = 100; 4 and
# 5: 60 + 10 = 70; 6: w = 20 + 80 (cell 9, covered) = 100 but v = 20; 7: 100 and 8: 90 (5 km
# apart: separate catchments, but rivals within 6 km).


def _line(min_daily_kwh: float, order: list[int] | None = None) -> CatchmentPicks:
    x = np.array(LINE_X_KM, float) * 1000.0
    return catchment_picks(
        np.column_stack([x, np.zeros_like(x)]),
        np.array(LINE_KWH, float),
        np.ones(len(x), bool),
        np.array([[0.0, 0.0], [44_000.0, 0.0]]),
        radius_m=3_000.0,
        min_daily_kwh=min_daily_kwh,
        order_key=np.arange(len(x)) if order is None else np.array(order),
    )


def test_rounds_pick_the_best_open_catchment_within_twice_the_reach() -> None:
    # T = 60: every uncovered cell may host (w >= 60). Round 1 ranks them by v: 2 (140),
    # 1 (110), 3 (100), 7 (100; ties by key: 3 first), 8 (90), 4 (70), 5 (70), 6 (20), and
    # picks those ranked above every other host within 6 km: 2 (beats 1 and 3), 7 (beats 8,
    # 5 km away), 4 (beats 5 on the key), 6 (no host within 6 km). They cover 1, 2, 3; 7; 4,
    # 5; 6. Round 2: 8 alone (5 km from 7: still open) is picked. Nothing is left out.
    picks = _line(60.0)
    assert picks.uncovered.tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    assert picks.added.tolist() == [2, 7, 4, 6, 8]
    assert picks.open_kwh.tolist() == [140, 100, 70, 20, 90]
    assert picks.catchment_kwh.tolist() == [140, 100, 70, 100, 90]
    assert picks.rounds == 2
    assert picks.left_out.size == 0


def test_the_threshold_on_the_whole_catchment_decides_what_is_left_out() -> None:
    # T = 100: hosts 1, 2, 3, 6 and 7 (w >= 100; 4 and 5 have 70, 8 has 90). Round 1 picks
    # 2 (beats 1 and 3), 7 (8 is no host, so no rival) and 6 (its own open demand is 20, but
    # 100 kWh a day lie within its reach). Then 4, 5 and 8 are open and none is a host: left
    # out.
    picks = _line(100.0)
    assert picks.added.tolist() == [2, 7, 6]
    assert picks.left_out.tolist() == [4, 5, 8]
    assert picks.rounds == 1
    # T = 0: every uncovered cell gets a candidate within reach, as with T = 60
    picks = _line(0.0)
    assert picks.added.tolist() == [2, 7, 4, 6, 8]
    assert picks.left_out.size == 0
    # above every catchment (140): nothing is added, every uncovered cell is left out
    picks = _line(141.0)
    assert picks.added.size == 0 and picks.rounds == 0
    assert picks.left_out.tolist() == picks.uncovered.tolist() == [1, 2, 3, 4, 5, 6, 7, 8]


def test_ties_go_to_the_smaller_key() -> None:
    # cells 4 and 5 tie at 70: with cell 5 given the smaller key, 5 is picked instead of 4
    order = list(range(len(LINE_X_KM)))
    order[4], order[5] = 5, 4
    assert _line(60.0, order).added.tolist() == [2, 7, 5, 6, 8]


def test_nothing_to_cover_adds_nothing() -> None:
    picks = catchment_picks(
        np.zeros((0, 2)),
        np.zeros(0),
        np.zeros(0, bool),
        np.zeros((0, 2)),
        radius_m=3_000.0,
        min_daily_kwh=0.0,
        order_key=np.zeros(0),
    )
    assert picks.added.size == picks.left_out.size == picks.uncovered.size == 0


def _clusters() -> gpd.GeoDataFrame:
    """Three res-7 clusters of 7 urban res-8 cells, 1,000 people each: A (30.20 N 120.00 E),
    B next to A's east side and C about 20 km away."""
    a = h3.latlng_to_cell(30.2, 120.0, 7)
    b = sorted(h3.grid_ring(a, 1))[0]
    c = h3.latlng_to_cell(30.35, 120.15, 7)
    ids = [cell for p in (a, b, c) for cell in sorted(h3.cell_to_children(p, 8))]
    latlng = np.array([h3.cell_to_latlng(cell) for cell in ids])
    return gpd.GeoDataFrame(
        {
            "zone_id": ids,
            "parent_id": "p0",
            "popu_2020": 1_000,
            "settlement": "urban",
            "centre_lon": latlng[:, 1],
            "centre_lat": latlng[:, 0],
        },
        geometry=gpd.points_from_xy(latlng[:, 1], latlng[:, 0]),
        crs="EPSG:4326",
    )


def _metres(points: gpd.GeoSeries) -> np.ndarray:
    metric = points.to_crs("EPSG:32651")
    return np.column_stack([metric.x, metric.y])


@pytest.mark.parametrize("threshold", [0.0, 100.0, 300.0, 350.0, 1_000.0])
def test_every_urban_cell_ends_within_reach_of_a_candidate_or_is_left_out(
    threshold: float,
) -> None:
    # A pools 7 x 60 = 420 >= 390 (a candidate by the cluster rule); B 7 x 50 and C 7 x 50
    # do not. After the catchment rule, by brute force: a cell without a candidate within
    # 3 km is left out, so all the demand within 3 km of it is below T.
    cells = _clusters()
    demand = np.array([60.0] * 7 + [50.0] * 14)
    sites = station_sites_from_cells(
        cells,
        public_daily_kwh=demand,
        min_daily_kwh=390,
        cluster_resolution=7,
        catchment_km=3.0,
        catchment_min_daily_kwh=threshold,
        crs="EPSG:32651",
    )
    cell_xy, site_xy = _metres(cells.geometry), _metres(sites.geometry)
    distance = np.hypot(*(cell_xy[:, None, :] - site_xy[None, :, :]).transpose(2, 0, 1))
    reached = (distance <= 3_000.0).any(axis=1)
    # the cluster rule's candidate is A's busiest cell (ties by H3 index); the others are added
    assert sites["cell"].iloc[0] == min(cells["zone_id"][:7], key=h3.str_to_int)
    between = np.hypot(*(cell_xy[:, None, :] - cell_xy[None, :, :]).transpose(2, 0, 1))
    assert ((between[~reached] <= 3_000.0) @ demand < threshold).all()
    if threshold <= 50.0:  # every cell alone has 50 or 60: all are covered
        assert reached.all()
    # C is > 6 km from A and B, its 7 cells within 3 km of each other: with T <= 350 it gets
    # exactly one candidate (all tie at 350: its smallest H3 index), with T > 350 none
    in_c = sites["cell"].isin(cells["zone_id"][14:])
    if threshold <= 350.0:
        assert (between[14:, 14:] <= 3_000.0).all()
        assert sites.loc[in_c, "cell"].tolist() == [min(cells["zone_id"][14:], key=h3.str_to_int)]
    else:
        assert not in_c.any() and not reached[14:].any()


def test_the_rule_is_deterministic_and_does_not_depend_on_the_cells_order() -> None:
    cells = _clusters()
    demand = np.array([60.0] * 7 + [50.0] * 7 + [45.0] * 7)
    options = {
        "min_daily_kwh": 390,
        "cluster_resolution": 7,
        "catchment_km": 2.0,
        "catchment_min_daily_kwh": 100.0,
        "crs": "EPSG:32651",
    }
    runs = [station_sites_from_cells(cells, public_daily_kwh=demand, **options) for _ in range(2)]
    assert runs[0].equals(runs[1])
    order = np.random.default_rng(7).permutation(len(cells))
    shuffled = station_sites_from_cells(
        cells.iloc[order], public_daily_kwh=demand[order], **options
    )
    assert sorted(shuffled["cell"]) == sorted(runs[0]["cell"])
    assert len(runs[0]) > 1  # the rule added something at 2 km


def test_a_supplied_site_counts_as_a_candidate_already_in_reach() -> None:
    # a hub at C's first cell: C's 7 cells lie within 3 km of it (checked above), so with
    # T = 0 the rule adds candidates in B only (A has the cluster rule's), none in C
    cells = _clusters()
    hub = gpd.GeoDataFrame(
        {"site_id": ["hub"]}, geometry=[cells.geometry.iloc[14]], crs="EPSG:4326"
    )
    demand = np.array([60.0] * 7 + [50.0] * 14)
    options = {
        "min_daily_kwh": 390,
        "cluster_resolution": 7,
        "catchment_min_daily_kwh": 0.0,
        "crs": "EPSG:32651",
    }
    sites = station_sites_from_cells(
        cells, public_daily_kwh=demand, supplied=hub, catchment_km=3.0, **options
    )
    without = station_sites_from_cells(cells, public_daily_kwh=demand, catchment_km=3.0, **options)
    in_c = cells["zone_id"][14:]
    assert sites["site_id"].iloc[0] == "hub" and sites["cell"].iloc[0] == cells["zone_id"][14]
    assert not sites.loc[sites["source"] == "cell", "cell"].isin(in_c).any()
    assert without["cell"].isin(in_c).sum() == 1  # without the hub, C gets its own
    assert sites["cell"].iloc[1:].tolist() == [c for c in without["cell"] if c not in set(in_c)]
