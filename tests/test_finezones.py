"""Fine zones: prefectures split into H3 cells, population spread and kept, cell-centre sites.

The instances are squares of a few tens of kilometres near Hangzhou, drawn in UTM 51N and
handed over in lon/lat, with whole-number populations; at H3 resolution 6 a cell is about
36 km2, so a 30 km square holds about 25 cells.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from chargeplan.config.scenario import load_scenario
from chargeplan.errors import InputError
from chargeplan.inputs.cellsites import candidate_sites_from_cells
from chargeplan.inputs.finezones import fine_zones, grouped_largest_remainder
from chargeplan.inputs.prepare import prepare
from chargeplan.workflows.network import plan_network

from .cell_instances import X0, Y0, places_at, square_zones
from .conftest import SCENARIO, write_tiny_scenario


def _zones(
    squares: list[tuple[float, float, float]],
    population: list[float],
    urban: list[float],
) -> gpd.GeoDataFrame:
    """Square zones (``tests/cell_instances.py``) with a car-owning share rising over them."""
    return square_zones(
        squares, population, urban, car_hh_share=np.linspace(0.3, 0.5, len(squares))
    )


def test_grouped_largest_remainder_keeps_each_group_total() -> None:
    # group 0: 1.5 + 1.5 + 1.0 = 4 -> floors 1, 1, 1 and one more to the first 0.5 (ties by
    # position); group 1: 0.6 + 0.6 + 0.8 = 2 -> floors 0 and the two largest remainders
    exact = np.array([1.5, 1.5, 1.0, 0.6, 0.6, 0.8])
    groups = np.array([0, 0, 0, 1, 1, 1])
    assert grouped_largest_remainder(exact, groups).tolist() == [2, 1, 1, 1, 0, 1]


def test_population_is_kept_exactly_per_prefecture_and_cells_follow_the_centre_rule() -> None:
    # odd totals: urban 12,345.5 rounds to 12,346 (half away from even: numpy rounds to even,
    # 12,346), so the rural part is 50,001 - 12,346 = 37,655
    zones = _zones(
        [(0, 0, 30), (30, 0, 30), (0, 30, 40)], [50_001, 1_234_567, 98_765], [12_345.5, 1e6, 0]
    )
    places = places_at([(15, 15), (45, 10), (50, 20)], [20_000, 900_000, 100_000])
    cells = fine_zones(zones, places, resolution=6)

    by_parent = cells.groupby("parent_id")[["popu_2020", "popu_urban_2020", "rural_population"]]
    totals = by_parent.sum()
    assert totals.loc[["p0", "p1", "p2"], "popu_2020"].tolist() == [50_001, 1_234_567, 98_765]
    assert totals.loc[["p0", "p1", "p2"], "popu_urban_2020"].tolist() == [12_346, 1_000_000, 0]
    assert (cells["popu_2020"] == cells["popu_urban_2020"] + cells["rural_population"]).all()
    assert cells["zone_id"].is_unique and (cells["h3_resolution"] == 6).all()

    for zone in zones.itertuples():
        # exactly the cells whose centres lie in the prefecture (h3's own polygon fill)
        expected = set(h3.geo_to_cells(zone.geometry, 6))
        assert set(cells.loc[cells.parent_id == zone.zone_id, "zone_id"]) == expected
        mine = cells[cells.parent_id == zone.zone_id]
        centres = shapely.points(mine["centre_lon"], mine["centre_lat"])
        assert shapely.contains(zone.geometry, centres).all()
    # the cells' indicators are their prefecture's
    assert cells.groupby("parent_id")["car_hh_share"].nunique().eq(1).all()


def test_rural_population_follows_area_and_urban_population_the_place() -> None:
    # p0 has no urban population: its 100,000 people go by cell area, within one person of
    # 100,000 * area / total area
    zones = _zones([(0, 0, 30), (40, 0, 30)], [100_000, 500_000], [0, 500_000])
    places = places_at([(55, 15)], [2_000_000])
    cells = fine_zones(zones, places, resolution=6)
    rural = cells[cells.parent_id == "p0"]
    share = rural["area_km2"] / rural["area_km2"].sum()
    assert np.abs(rural["popu_2020"] - 100_000 * share).max() <= 1.0
    # p1 is all urban around its one place: the nearer the cell, the more people per km2
    urban = cells[cells.parent_id == "p1"]
    place = np.array([h3.latlng_to_cell(*_lat_lon(places.geometry.iloc[0]), 6)])
    distance = np.array([h3.grid_distance(place[0], cell) for cell in urban["zone_id"]])
    density = (urban["popu_2020"] / urban["area_km2"]).to_numpy()
    assert density[distance == 0].min() > density[distance > 0].max()
    for ring in range(1, int(distance.max())):
        assert density[distance == ring].mean() > density[distance == ring + 1].mean()


def _lat_lon(point: Point) -> tuple[float, float]:
    return point.y, point.x


def test_a_prefecture_smaller_than_a_cell_keeps_its_population() -> None:
    """Macao (30 km2) holds no cell centre at resolution 6: it gets the finer cell at its centre."""
    big = _zones([(0, 0, 30)], [1_000_000], [800_000])
    # a 1 km square placed half-way between two cell centres of the big zone's neighbourhood
    tiny_centre = Point(X0 + 45_000, Y0 + 15_000)
    tiny = gpd.GeoDataFrame(
        {
            "zone_id": ["macao"],
            "name": ["Macao"],
            "province": ["b"],
            "popu_2020": [682_300.0],
            "popu_urban_2020": [np.nan],
            "car_hh_share": [np.nan],
        },
        geometry=[tiny_centre.buffer(500, cap_style="square")],
        crs="EPSG:32651",
    ).to_crs("EPSG:4326")
    assert not h3.geo_to_cells(tiny.geometry.iloc[0], 6), "the tiny zone must hold no centre"
    zones = pd.concat([big, tiny], ignore_index=True)
    places = places_at([(15, 15)], [900_000])
    cells = fine_zones(zones, places, resolution=6)
    macao = cells[cells.parent_id == "macao"]
    assert len(macao) == 1
    assert macao["popu_2020"].iloc[0] == 682_300
    # no urban figure at all (Hong Kong and Macao in the census): all of it counts as urban
    assert macao["popu_urban_2020"].iloc[0] == 682_300
    assert macao["h3_resolution"].iloc[0] == 8
    lat, lon = _lat_lon(tiny.to_crs("EPSG:4326").geometry.iloc[0].centroid)
    assert macao["zone_id"].iloc[0] == h3.latlng_to_cell(lat, lon, 8)
    assert cells["popu_2020"].sum() == 1_682_300


def test_bad_inputs_are_one_clear_error() -> None:
    zones = _zones([(0, 0, 30)], [-5], [0])
    places = places_at([(15, 15)], [1])
    with pytest.raises(InputError, match=r"popu_2020.*missing or negative"):
        fine_zones(zones, places, resolution=6)
    with pytest.raises(InputError, match="resolution 14 is out of range"):
        fine_zones(zones, places, resolution=14)
    with pytest.raises(InputError, match="places: missing column 'POP_MAX'"):
        fine_zones(zones, places, place_population_column="POP_MAX")


def _cells_table() -> gpd.GeoDataFrame:
    """Five cells in two prefectures with hand-picked populations."""
    ids = [h3.latlng_to_cell(30.2, 120.0 + 0.1 * i, 6) for i in range(5)]
    lat_lon = [h3.cell_to_latlng(c) for c in ids]
    return gpd.GeoDataFrame(
        {
            "zone_id": ids,
            "parent_id": ["p", "p", "p", "q", "q"],
            "name": ["P", "P", "P", "Q", "Q"],
            "popu_2020": [120_000, 2_500, 40_000, 9_000, 31_000],
            "centre_lon": [lon for _, lon in lat_lon],
            "centre_lat": [lat for lat, _ in lat_lon],
        },
        geometry=gpd.points_from_xy([lon for _, lon in lat_lon], [lat for lat, _ in lat_lon]),
        crs="EPSG:4326",
    )


def test_candidate_sites_are_each_prefectures_most_populous_cells() -> None:
    cells = _cells_table()
    sites = candidate_sites_from_cells(
        cells,
        sites_per_zone=2,
        min_population=3_000,
        people_per_charger={"dc_fast": 1_000, "ac_destination": 200},
        max_chargers_floor={"dc_fast": 20, "ac_destination": 50},
    )
    # p: 120,000 and 40,000 (2,500 is below the minimum anyway); q: 31,000 and 9,000
    assert sites["cell"].tolist() == [
        cells.zone_id[0],
        cells.zone_id[2],
        cells.zone_id[3],
        cells.zone_id[4],
    ]
    assert sites["site_id"].tolist() == ["c" + c for c in sites["cell"]]
    assert sites["pop_max"].tolist() == [120_000, 40_000, 9_000, 31_000]
    # max_t = max(floor(pop / people per charger), floor): 120, 40, 20 (floor), 31 DC
    assert sites["max_dc_fast"].tolist() == [120, 40, 20, 31]
    assert sites["max_ac_destination"].tolist() == [600, 200, 50, 155]
    assert (sites["source"] == "cell").all()


def test_a_supplied_site_stands_for_its_cell() -> None:
    cells = _cells_table()
    lat, lon = h3.cell_to_latlng(cells.zone_id[0])
    supplied = gpd.GeoDataFrame(
        {"site_id": ["hub"], "max_dc_fast": [999]},
        geometry=[Point(lon + 0.001, lat)],
        crs="EPSG:4326",
    )
    sites = candidate_sites_from_cells(cells, sites_per_zone=1, supplied=supplied)
    # the hub takes cell 0, so p's generated site is its next most populous cell (40,000)
    assert sites["site_id"].tolist() == ["hub", "c" + cells.zone_id[2], "c" + cells.zone_id[4]]
    assert sites["source"].tolist() == ["supplied", "cell", "cell"]
    assert sites["max_dc_fast"].iloc[0] == 999 and sites["max_dc_fast"].iloc[1:].isna().all()


def test_a_supplied_id_that_a_generated_site_takes_is_refused() -> None:
    # the hub takes cell 0, so cell 2 gets the generated site c<cell 2>: the hub's own id
    cells = _cells_table()
    lat, lon = h3.cell_to_latlng(cells.zone_id[0])
    taken_id = "c" + cells.zone_id[2]
    supplied = gpd.GeoDataFrame(
        {"site_id": [taken_id]}, geometry=[Point(lon + 0.001, lat)], crs="EPSG:4326"
    )
    with pytest.raises(InputError, match=f"supplied site ids \\['{taken_id}'\\] clash"):
        candidate_sites_from_cells(cells, sites_per_zone=1, supplied=supplied)


FINE = """
[fine_zones]
h3_resolution = 7
places_file = "places.geojson"
place_population_column = "pop_max"
urban_population_column = "urban"
cell_sites_per_zone = 2
cell_site_min_population = 1
keep_scenario_sites = false

[fine_zones.people_per_charger]
dc_fast = 10
ac_destination = 5
"""


def _fine_tiny(folder: Path, extra: str = FINE) -> Path:
    path = write_tiny_scenario(folder, SCENARIO + textwrap.dedent(extra))
    zones = gpd.read_file(folder / "zones.geojson")
    zones["urban"] = zones["pop"] * 0.5
    zones.to_file(folder / "zones.geojson", driver="GeoJSON")
    # one town in the middle of each of the four 10 km squares
    _towns = gpd.GeoDataFrame(
        {"pop_max": [5_000, 9_000, 3_000, 1_000]},
        geometry=zones.to_crs("EPSG:32651").geometry.centroid.values,
        crs="EPSG:32651",
    )
    _towns.to_crs("EPSG:4326").to_file(folder / "places.geojson", driver="GeoJSON")
    return path


def test_a_fine_scenario_plans_on_cells(tmp_path: Path) -> None:
    scenario = load_scenario(_fine_tiny(tmp_path / "fine"))
    inputs = prepare(scenario)
    zones, sites = inputs.zones, inputs.sites
    # the cells whose centres lie in the four 10 km squares tile about their 400 km2
    assert zones["parent_id"].nunique() == 4
    assert zones["area_km2"].sum() == pytest.approx(400, rel=0.15)
    assert zones.groupby("parent_id")["pop"].sum().to_dict() == {
        "z1": 1000,
        "z2": 2000,
        "z3": 1000,
        "z4": 500,
    }
    assert zones["premium_users"].sum() == 1000
    assert zones.index.tolist() == zones["zone_id"].tolist()
    # two cell sites per prefecture, the most populous cells, limits pop / 10 and pop / 5
    assert len(sites) == 8 and sites.groupby("parent_id").size().eq(2).all()
    top = zones.sort_values("pop", ascending=False).groupby("parent_id").head(2)
    assert set(sites["cell"]) == set(top["zone_id"])
    assert (sites["max_dc_fast"] == np.floor(sites["pop_max"] / 10)).all()
    plan = plan_network(scenario, inputs=inputs)
    assert plan.summary["status"] == "optimal"
    assert plan.summary["zones"] == len(zones) and plan.summary["candidate_sites"] == 8
    # every cell of z4 (200 km from the others) can reach its own cell sites now
    assert plan.summary["gap_zones_unreachable"] == 0
