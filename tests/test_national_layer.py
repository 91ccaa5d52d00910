"""The national layer at station scale: cells whose resolution follows the density, candidate
stations by demand, the scenario keys that drive them.

The instances are squares of a few tens of kilometres near Hangzhou, drawn in UTM 51N and
handed over in lon/lat, with whole-number populations. Where a zone has no urban people its
rural people are spread by area, so every base cell has the zone's density ``R / A`` exactly:
the resolution each cell gets is then known from the thresholds alone.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from chargeplan.config.scenario import load_scenario
from chargeplan.errors import ChargeplanError, InputError
from chargeplan.inputs.cellpeople import SpreadOptions
from chargeplan.inputs.cellsites import station_sites_from_cells
from chargeplan.inputs.finezones import fine_zones
from chargeplan.inputs.h3bits import cell_children, cell_parents, cell_resolutions
from chargeplan.inputs.multires import multires_cells
from chargeplan.inputs.prepare import prepare
from chargeplan.inputs.stationlayer import spread_options, urban_reach_km

from .cell_instances import places_at, square_zones
from .conftest import SCENARIO, write_tiny_scenario


def _ints(labels) -> np.ndarray:
    return np.array([h3.str_to_int(c) for c in labels], np.uint64)


def test_parents_and_children_by_arithmetic_match_h3() -> None:
    hexagons = [h3.latlng_to_cell(30.2, 120.0, 6), h3.latlng_to_cell(39.9, 116.4, 6)]
    children, parent = cell_children(_ints(hexagons), 6, 8)
    expected = [sorted(_ints(h3.cell_to_children(c, 8)).tolist()) for c in hexagons]
    assert children.tolist() == expected[0] + expected[1]  # 49 each, grouped by parent
    assert parent.tolist() == [0] * 49 + [1] * 49
    assert cell_resolutions(children).tolist() == [8] * 98
    parents = cell_parents(children, 8, 5)
    assert set(parents.tolist()) == {h3.str_to_int(h3.cell_to_parent(c, 5)) for c in hexagons}
    # a pentagon has 6 children per step, not 7: h3 gives them
    pentagon = h3.get_pentagons(5)[0]
    children, _ = cell_children(_ints([pentagon]), 5, 7)
    assert sorted(children.tolist()) == sorted(_ints(h3.cell_to_children(pentagon, 7)).tolist())


def test_population_is_kept_exactly_per_prefecture_at_every_resolution() -> None:
    # p0: a city of 2 M at its centre (scale sqrt(2e6 / (2 pi 15,000)) = 4.6 km): its core is
    # far above 1,500 people per km2; p1: 50,001 rural people on 900 km2 (56 per km2)
    zones = square_zones([(0, 0, 30), (30, 0, 30)], [2_500_001, 50_001], [2_000_000, 0])
    cells = multires_cells(zones, places_at([(15, 15)], [2_000_000]), crs="EPSG:32651")
    by_zone = cells.groupby("parent_id")[["popu_2020", "popu_urban_2020", "rural_population"]]
    assert by_zone.sum().to_dict("index") == {
        "p0": {"popu_2020": 2_500_001, "popu_urban_2020": 2_000_000, "rural_population": 500_001},
        "p1": {"popu_2020": 50_001, "popu_urban_2020": 0, "rural_population": 50_001},
    }
    res = cells.groupby(["parent_id", "settlement"])["h3_resolution"].agg(set).to_dict()
    assert res[("p0", "urban")] == {8}
    assert set(res) <= {("p0", "urban"), ("p0", "suburban"), ("p0", "rural"), ("p1", "rural")}
    assert res[("p1", "rural")] <= {5, 6}
    assert (cells["popu_2020"] > 0).all()  # drop_empty
    assert np.allclose(cells["density_per_km2"], cells["popu_2020"] / cells["area_km2"], atol=1e-3)
    # the city's core is urban: the cell holding the place is a fine cell
    core = h3.latlng_to_cell(*places_at([(15, 15)], [1]).geometry.iloc[0].coords[0][::-1], 8)
    assert cells.set_index("zone_id").loc[core, "settlement"] == "urban"


def _uniform():
    """One 60 km square of rural people only, ~2,500 per km2 (9 M on ~3,600 km2 of cells),
    and its base cells at resolution 6 (about 100)."""
    zones = square_zones([(0, 0, 60)], [9_000_000], [0])
    places = places_at([(30, 30)], [1])
    base = fine_zones(zones, places, resolution=6, crs="EPSG:32651")
    assert 2_000 < 9_000_000 / base["area_km2"].sum() < 3_000
    return zones, places, base


@pytest.mark.parametrize(
    ("urban_density", "suburban_density", "expected"),
    [(2_000, 300, "urban"), (5_000, 1_000, "suburban"), (10_000, 5_000, "rural")],
)
def test_resolution_follows_the_density_thresholds(
    urban_density: float, suburban_density: float, expected: str
) -> None:
    zones, places, base = _uniform()
    cells = multires_cells(
        zones,
        places,
        urban_density_per_km2=urban_density,
        suburban_density_per_km2=suburban_density,
        crs="EPSG:32651",
    )
    assert set(cells["settlement"]) == {expected}
    base_ids = set(base["zone_id"])
    if expected == "urban":  # every base cell split into its 7^2 = 49 children at res 8
        want = {k for c in base_ids for k in h3.cell_to_children(c, 8)}
    elif expected == "suburban":  # kept at the base resolution
        want = base_ids
    else:  # merged into the res-5 parent where all 7 of its children are base cells
        full = {
            p
            for p in {h3.cell_to_parent(c, 5) for c in base_ids}
            if set(h3.cell_to_children(p, 6)) <= base_ids
        }
        want = full | {c for c in base_ids if h3.cell_to_parent(c, 5) not in full}
        assert full  # the instance does merge some
    assert set(cells["zone_id"]) == want
    assert cells["popu_2020"].sum() == 9_000_000


def test_the_same_inputs_give_the_same_cells_and_candidates() -> None:
    zones = square_zones([(0, 0, 30), (30, 0, 30)], [2_500_001, 50_001], [2_000_000, 0])
    places = places_at([(15, 15)], [2_000_000])
    runs = [multires_cells(zones, places, crs="EPSG:32651") for _ in range(2)]
    pd.testing.assert_frame_equal(runs[0], runs[1])
    demand = runs[0]["popu_2020"].to_numpy(float) * 0.01
    sites = [station_sites_from_cells(r, public_daily_kwh=demand, min_daily_kwh=50) for r in runs]
    pd.testing.assert_frame_equal(sites[0], sites[1])


def test_candidates_are_urban_cells_with_demand_and_populated_coarse_cells() -> None:
    urban = sorted(h3.cell_to_children(h3.latlng_to_cell(30.2, 120.0, 6), 8))[:4]
    rural = [h3.latlng_to_cell(31.0, 121.0, 5), h3.latlng_to_cell(32.0, 121.0, 5)]
    ids = urban + rural
    latlng = np.array([h3.cell_to_latlng(c) for c in ids])
    cells = gpd.GeoDataFrame(
        {
            "zone_id": ids,
            "parent_id": ["p0"] * 4 + ["p1"] * 2,
            "name": ["city"] * 4 + ["county"] * 2,
            "province": ["a"] * 4 + ["b"] * 2,
            "popu_2020": [5_000, 6_000, 7_000, 8_000, 5, 0],
            "settlement": ["urban"] * 4 + ["rural"] * 2,
            "h3_resolution": [8] * 4 + [5] * 2,
            "centre_lon": latlng[:, 1],
            "centre_lat": latlng[:, 0],
        },
        geometry=gpd.points_from_xy(latlng[:, 1], latlng[:, 0]),
        crs="EPSG:4326",
    )
    # urban cells by demand >= 390 kWh a day: cells 1 (390) and 2 (391), not 0 (100) or 3 (0);
    # rural cells with people: cell 4 (5 people), not cell 5 (nobody); a supplied hub in
    # cell 2 stands for it
    hub = gpd.GeoDataFrame(
        {"site_id": ["hub"]},
        geometry=[Point(latlng[2, 1], latlng[2, 0])],
        crs="EPSG:4326",
    )
    sites = station_sites_from_cells(
        cells,
        public_daily_kwh=np.array([100, 390, 391, 0, 0, 0], float),
        min_daily_kwh=390,
        supplied=hub,
        people_per_charger={"dc_fast": 1_000},
        max_chargers_floor={"dc_fast": 4},
    )
    assert sites["site_id"].tolist() == ["hub", "c" + ids[1], "c" + ids[4]]
    assert sites["cell"].tolist() == [ids[2], ids[1], ids[4]]
    assert sites["settlement"].tolist() == ["urban", "urban", "rural"]
    assert sites["parent_id"].tolist() == ["p0", "p0", "p1"]  # the hub's from its cell
    assert sites["province"].tolist()[1:] == ["a", "b"]
    assert sites["h3_resolution"].tolist() == [8, 8, 5]
    assert sites["lon"].tolist() == pytest.approx(latlng[[2, 1, 4], 1], abs=1e-6)
    assert sites["lat"].tolist() == pytest.approx(latlng[[2, 1, 4], 0], abs=1e-6)
    # max_dc_fast = max(floor(6,000 / 1,000), 4) = 6 and max(floor(5 / 1,000), 4) = 4
    assert sites["max_dc_fast"].tolist()[1:] == [6, 4]
    assert sites["source"].tolist() == ["supplied", "cell", "cell"]
    # the same hub named after the site cell 1 gets (c<cell 1>): refused, naming the id
    hub["site_id"] = "c" + ids[1]
    with pytest.raises(InputError, match=f"supplied site ids \\['c{ids[1]}'\\] clash"):
        station_sites_from_cells(
            cells,
            public_daily_kwh=np.array([100, 390, 391, 0, 0, 0], float),
            min_daily_kwh=390,
            supplied=hub,
        )


def test_urban_clusters_pool_their_demand_and_get_one_candidate_at_their_busiest_cell() -> None:
    # two res-7 parents with their 7 res-8 children each; cluster A pools 7 x 60 = 420 >= 390
    # kWh a day (no single cell does): one candidate at its busiest cell (60 each: ties by H3
    # index, so its smallest); cluster B pools 7 x 50 = 350 < 390: none, even though nothing
    # blocks it
    parents = [h3.latlng_to_cell(30.2, 120.0, 7), h3.latlng_to_cell(30.4, 120.2, 7)]
    ids = [c for p in parents for c in sorted(h3.cell_to_children(p, 8))]
    latlng = np.array([h3.cell_to_latlng(c) for c in ids])
    cells = gpd.GeoDataFrame(
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
    demand = np.array([60.0] * 7 + [50.0] * 7)
    sites = station_sites_from_cells(
        cells, public_daily_kwh=demand, min_daily_kwh=390, cluster_resolution=7
    )
    assert sites["cell"].tolist() == [min(ids[:7], key=h3.str_to_int)]
    demand[3] = 61.0  # now cell 3 is cluster A's busiest
    sites = station_sites_from_cells(
        cells, public_daily_kwh=demand, min_daily_kwh=390, cluster_resolution=7
    )
    assert sites["cell"].tolist() == [ids[3]]
    # cell by cell (no cluster) none of them reaches 390
    assert station_sites_from_cells(cells, public_daily_kwh=demand, min_daily_kwh=390).empty


DESIGNS = """
[designs.pair]
stalls = { dc_fast = 1, ac_destination = 1 }
grid_kva = 200
grid_connection_cny = 1000
civil_works_cny = 1000
"""

STATIONS = """
[fine_zones]
h3_resolution = 6
urban_h3_resolution = 8
rural_h3_resolution = 5
places_file = "places.geojson"
place_population_column = "pop_max"
urban_population_column = "urban"
cell_sites = "demand"
kwh_per_stall_day = {kwh}
keep_scenario_sites = false
regions = {regions}
"""


def _stations_tiny(folder: Path, kwh: float = 30.0, regions: str = "[]") -> Path:
    """The tiny scenario with z1 at 400,000 people (~4,000 per km2: urban) and nobody urban
    (people spread by area), and a design of 2 stalls."""
    text = SCENARIO + textwrap.dedent(STATIONS).format(kwh=kwh, regions=regions)
    path = write_tiny_scenario(folder, text)
    with (folder / "chargers.toml").open("a") as catalogue:
        catalogue.write(DESIGNS)
    zones = gpd.read_file(folder / "zones.geojson")
    zones["pop"] = [400_000.0, 2_000.0, 1_000.0, 500.0]
    zones["urban"] = 0.0
    zones.to_file(folder / "zones.geojson", driver="GeoJSON")
    middle = zones.to_crs("EPSG:32651").geometry.centroid.to_crs("EPSG:4326")
    towns = gpd.GeoDataFrame(geometry=middle.values, crs="EPSG:4326")
    towns["pop_max"] = 1_000
    towns.to_file(folder / "places.geojson", driver="GeoJSON")
    return path


def test_the_scenario_names_the_columns_and_kernel_both_cell_layers_spread_with(
    tmp_path: Path,
) -> None:
    # conftest's [zones]: population "pop", centre columns "" (none: a point inside each
    # zone); [reach] crs EPSG:32651; STATIONS: places' "pop_max", urban "urban"; the kernel's
    # core density is left at its default
    scenario = load_scenario(_stations_tiny(tmp_path))
    assert spread_options(scenario) == SpreadOptions(
        population_column="pop",
        urban_column="urban",
        place_population_column="pop_max",
        centre_lon_column=None,
        centre_lat_column=None,
        crs="EPSG:32651",
        core_density_per_km2=15_000.0,
    )


def test_a_station_scenario_makes_its_candidates_from_demand(tmp_path: Path) -> None:
    # z1's share of the 1,000 users: propensity pop * car = 200,000 of 200,000 + 1,000 +
    # 1,000 + 200, so 989 users, all urban-dense: every base cell of z1 (~2,800 people per
    # km2 over its cells) is split into 49 res-8 cells, and whole users spread evenly give each
    # 5 or 6 users at 10 kWh a day (50 km x 0.2 kWh, all public): 50 or 60 kWh a day. The
    # design has 2 stalls: at 25 kWh per stall-day (50 a day) every z1 cell is a candidate, at
    # 35 (70 a day) none is. z2-z4 (10-20 people per km2) are rural: one candidate per cell.
    inputs = prepare(load_scenario(_stations_tiny(tmp_path / "a", kwh=25)))
    zones, sites = inputs.zones, inputs.sites
    z1 = zones["parent_id"] == "z1"
    assert set(zones.loc[z1, "settlement"]) == {"urban"} and z1.sum() % 49 == 0
    assert set(zones.loc[~z1, "settlement"]) == {"rural"}
    assert set(zones.loc[z1, "premium_users"]) == {5, 6}
    assert set(zones.loc[z1, "public_daily_kwh"].round(9)) == {50.0, 60.0}
    assert len(sites) == len(zones)  # every cell: urban ones by demand, rural by people
    assert set(sites["cell"]) == set(zones.index)
    fewer = prepare(load_scenario(_stations_tiny(tmp_path / "b", kwh=35))).sites
    assert set(fewer["cell"]) == set(zones.index[~z1])
    # a slice keeps its share of the national target (z3 and z4 are region "b")
    sliced = prepare(load_scenario(_stations_tiny(tmp_path / "c", kwh=25, regions='["b"]')))
    in_b = zones["parent_id"].isin(["z3", "z4"])
    assert set(sliced.zones.index) == set(zones.index[in_b])
    assert sliced.zones["premium_users"].sum() == zones.loc[in_b, "premium_users"].sum() < 20
    assert set(sliced.sites["cell"]) <= set(sliced.zones.index)


def test_a_catchment_scenario_puts_a_candidate_within_reach_of_every_urban_cell(
    tmp_path: Path,
) -> None:
    # At 35 kWh per stall-day the demand rule gives z1's urban cells (50 or 60 kWh a day) no
    # candidate (above). The catchment rule adds them at uncovered cells whose 3 km disc holds
    # 70 kWh a day, which any two cells do (and each z1 cell has dozens within 3 km): every z1
    # cell ends within 3 km of one
    path = _stations_tiny(tmp_path, kwh=35)
    path.write_text(
        path.read_text().replace(
            'cell_sites = "demand"', 'cell_sites = "catchment"\ncatchment_km = 3'
        )
    )
    scenario = load_scenario(path)
    assert urban_reach_km(scenario) == 3.0
    inputs = prepare(scenario)
    zones, sites = inputs.zones, inputs.sites
    z1 = (zones["parent_id"] == "z1").to_numpy()
    added = sites["cell"].isin(zones.index[z1])
    assert added.any() and set(sites.loc[~added, "cell"]) == set(zones.index[~z1])
    centres = gpd.GeoSeries(
        gpd.points_from_xy(zones["centre_lon"], zones["centre_lat"]), crs="EPSG:4326"
    ).to_crs("EPSG:32651")
    points = sites.geometry.to_crs("EPSG:32651")
    gap = np.hypot(
        centres.x.to_numpy()[:, None] - points.x.to_numpy()[None, :],
        centres.y.to_numpy()[:, None] - points.y.to_numpy()[None, :],
    ).min(axis=1)
    assert (gap[z1] <= 3_000.0).all()
    # without catchment_km the rule fills the scenario's reach (30 km), or the urban one
    path.write_text(path.read_text().replace("catchment_km = 3\n", ""))
    assert urban_reach_km(load_scenario(path)) == 30.0
    path.write_text(path.read_text() + "\n[reach.standard]\nurban_km = 2.5\n")
    assert urban_reach_km(load_scenario(path)) == 2.5


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ("urban_h3_resolution = 5", "fine_zones.urban_h3_resolution"),
        ("rural_h3_resolution = 7", "fine_zones.rural_h3_resolution"),
        ("suburban_density_per_km2 = 2000", "fine_zones.suburban_density_per_km2"),
        ("urban_density_per_km2 = -1", "fine_zones.urban_density_per_km2"),
        ("kwh_per_stall_day = 0", "fine_zones.kwh_per_stall_day"),
        ("cell_sites = 'nearest'", "fine_zones.cell_sites"),
        ("candidate_h3_resolution = 9", "fine_zones.candidate_h3_resolution"),
        ("catchment_km = 0", "fine_zones.catchment_km"),
        ("catchment_min_daily_kwh = -1", "fine_zones.catchment_min_daily_kwh"),
    ],
)
def test_bad_scenario_values_are_errors_naming_the_key(
    tmp_path: Path, change: str, key: str
) -> None:
    path = _stations_tiny(tmp_path / "bad")
    text = path.read_text()
    name = change.split(" = ")[0]
    lines = [line for line in text.splitlines() if not line.startswith(f"{name} =")]
    at = lines.index("[fine_zones]") + 1
    path.write_text("\n".join([*lines[:at], change, *lines[at:]]) + "\n")
    with pytest.raises(ChargeplanError, match=key.replace(".", r"\.")):
        load_scenario(path)


def test_a_demand_layer_without_designs_or_regions_that_match_nothing_is_an_error(
    tmp_path: Path,
) -> None:
    path = _stations_tiny(tmp_path / "nodesigns")
    (tmp_path / "nodesigns" / "chargers.toml").write_text(
        (tmp_path / "nodesigns" / "chargers.toml").read_text().replace(DESIGNS, "")
    )
    with pytest.raises(InputError, match=r"fine_zones\.cell_sites = 'demand' needs station"):
        prepare(load_scenario(path))
    path = _stations_tiny(tmp_path / "nowhere", regions='["c"]')
    with pytest.raises(InputError, match=r"fine_zones\.regions names \['c'\]"):
        prepare(load_scenario(path))


def test_the_stations_scenario_reads_and_leaves_the_default_alone() -> None:
    repo = Path(__file__).resolve().parents[1]
    stations = load_scenario(repo / "models" / "china-2030-stations.toml")
    config = stations.fine_zones
    assert config is not None and config.cell_sites == "catchment"
    assert config.catchment_km is None and config.catchment_min_daily_kwh is None
    assert urban_reach_km(stations) == 3.0  # the rule fills the 3 km urban reach
    assert (config.rural_h3_resolution, config.h3_resolution, config.urban_h3_resolution) == (
        5,
        6,
        8,
    )
    # the smallest design of the menu has 8 stalls: a city cell needs 8 x 48.7 kWh a day
    assert stations.sizing.designs == (
        "dc4_ac4",
        "dc8_ac8",
        "dc12_ac8",
        "dc20_ac8",
        "dc4_ac16",
        "dc8_ac24",
        "dc12_ac24",
    )
    # solved exactly by components, each piece's plan the design start (no clock decides it)
    assert stations.decompose.by == "components" and stations.solver.design_max_nodes == 0
    assert stations.model.pair_links == "never"
    assert stations.reach.service_radius_km == 3
    # issue 12's 95 % service target's price, five times the city-level plan's
    default = load_scenario(repo / "models" / "china-2030.toml")
    assert stations.model.unmet_penalty_cny_per_kwh == 100_000
    assert default.model.unmet_penalty_cny_per_kwh == 20_000 and default.fine_zones is None


def test_the_standard_variant_changes_only_the_reach_the_rural_candidates_and_the_split() -> None:
    """models/china-2030-stations-standard.toml: the stations scenario with the per-settlement
    standard (3 / 10 / 25 km by the cells' own settlement type), one rural candidate per
    resolution-4 parent, cut at prefecture borders with the full model's bound; cells, the
    other candidates, designs and solver as the stations scenario (the default untouched)."""
    repo = Path(__file__).resolve().parents[1]
    stations = load_scenario(repo / "models" / "china-2030-stations.toml")
    variant = load_scenario(repo / "models" / "china-2030-stations-standard.toml")
    standard = variant.reach.standard
    assert stations.reach.standard is None and standard is not None
    assert (standard.urban_km, standard.suburban_km, standard.rural_km) == (3, 10, 25)
    assert standard.settlement_column == "settlement"
    assert variant.zones.region_column == "name" and variant.decompose.by == "region"
    assert variant.decompose.full_bound_steps > 0
    assert stations.fine_zones is not None and variant.fine_zones is not None
    assert stations.fine_zones.rural_candidate_h3_resolution is None
    assert variant.fine_zones.rural_candidate_h3_resolution == 4
    assert variant.fine_zones == stations.fine_zones.model_copy(
        update={"rural_candidate_h3_resolution": 4}
    )
    assert variant.sizing == stations.sizing and variant.solver == stations.solver
    assert variant.model == stations.model
