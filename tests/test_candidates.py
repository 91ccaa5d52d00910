"""Candidate sites from several files (``sites.extra``), and existing stations extended.

The instances are the tiny scenario of ``conftest.py`` (four zones near Shanghai, sites s1-s3,
10 km apart in UTM 51N) with extra candidate files written next to it.
"""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

import chargeplan
from chargeplan.errors import InputError, ScenarioError
from chargeplan.inputs.prepare import prepare

from .conftest import SCENARIO, write_tiny_scenario

X0, Y0 = 350_000.0, 3_450_000.0  # the tiny scenario's origin, metres in EPSG:32651
UTM = "EPSG:32651"


def lonlat(x: float, y: float) -> tuple[float, float]:
    """WGS84 lon/lat of a point given in the tiny scenario's UTM metres."""
    point = gpd.GeoSeries([Point(x, y)], crs=UTM).to_crs("EPSG:4326").iloc[0]
    return point.x, point.y


def with_sites_extra(folder: Path, extra_toml: str, extra_sections: str = "") -> Path:
    """The tiny scenario with ``extra_toml`` added to its ``[sites]`` table (and sections)."""
    text = SCENARIO.replace(
        "fixed_cost_cny = 10000\n", f"fixed_cost_cny = 10000\n{textwrap.dedent(extra_toml)}"
    )
    return write_tiny_scenario(folder, text + textwrap.dedent(extra_sections))


def write_car_parks(folder: Path) -> Path:
    """A GeoParquet of two car parks (ids p1, s1: s1 clashes with the main file's id once
    unprefixed), with its own fixed cost for p1 only and a ``max_stalls`` column."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = gpd.GeoDataFrame(
        {
            "site_id": ["p1", "s1"],
            "name": ["mall car park", "office car park"],
            "fixed_cost_cny": [2_000.0, None],
            "max_stalls": [30, 8],
        },
        geometry=[Point(X0 + 15_000, Y0 + 5_000), Point(X0 + 35_000, Y0 + 5_000)],
        crs=UTM,
    ).to_crs("EPSG:4326")
    path = folder / "car_parks.parquet"
    frame.to_parquet(path)
    return path


def write_service_areas(folder: Path, rows: list[dict[str, object]] | None = None) -> Path:
    """A CSV of expressway service areas with lon/lat columns and per-row ``kind``."""
    folder.mkdir(parents=True, exist_ok=True)
    lon, lat = lonlat(X0 + 5_000, Y0 + 9_000)
    rows = rows or [
        {"id": "sa1", "lon": lon, "lat": lat, "grid_kw": 1_250, "kind": ""},
        {"id": "sa2", "lon": lon + 0.01, "lat": lat, "grid_kw": None, "kind": "fuel station"},
    ]
    path = folder / "service_areas.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


# (TOML 1.0: an inline table stays on one line)
EXTRA = """
extra = [
  "car_parks.parquet",
  { file = "service_areas.csv", id_column = "id", prefix = "sa", kind = "service area", \
fixed_cost_cny = 50_000, max_stalls = 16, grid_kw = 600, max_chargers = { dc_fast = 16 } },
]
"""


def test_extra_files_are_merged_with_unique_ids_and_their_attributes(tmp_path: Path) -> None:
    """Ids are prefixed by source (``car_parks:s1`` no longer clashes with the main file's
    ``s1``); each attribute comes from the file, else the file's table, else ``[sites]``."""
    write_car_parks(tmp_path / "tiny")
    write_service_areas(tmp_path / "tiny")
    scenario = chargeplan.load_scenario(with_sites_extra(tmp_path / "tiny", EXTRA))
    sites = prepare(scenario).sites
    main, parks, areas = ["s1", "s2", "s3"], ["car_parks:p1", "car_parks:s1"], ["sa:sa1", "sa:sa2"]
    assert sites.index.tolist() == [*main, *parks, *areas]
    assert sites.index.is_unique and (sites["site_id"] == sites.index).all()
    assert (
        sites["candidate_file"].tolist()
        == ["sites.geojson"] * 3 + ["car_parks.parquet"] * 2 + ["service_areas.csv"] * 2
    )
    # fixed cost: file (p1), else table (service areas), else [sites] (s*, car_parks:s1)
    fixed = [10_000, 10_000, 10_000, 2_000, 10_000, 50_000, 50_000]
    assert sites["fixed_cost_cny"].tolist() == fixed
    # max_stalls: file for car parks, table for service areas, unlimited for the main file
    assert sites["max_stalls"].tolist()[3:] == [30, 8, 16, 16]
    assert (sites["max_stalls"].iloc[:3] == float("inf")).all()
    # grid_kw: file where given (sa1), else the table's 600; no limit elsewhere
    assert sites.loc["sa:sa1", "grid_kw"] == 1_250 and sites.loc["sa:sa2", "grid_kw"] == 600
    assert sites.loc["car_parks:p1", "grid_kw"] == float("inf")
    # max chargers per type: the table's 16 DC for service areas; [sites] for the rest
    assert sites["max_dc_fast"].tolist() == [50, 50, 50, 50, 50, 16, 16]
    assert sites["max_ac_destination"].tolist() == [100] * 7
    kinds = ["candidate"] * 3 + ["car_parks"] * 2 + ["service area", "fuel station"]
    assert sites["kind"].tolist() == kinds
    assert sites.loc["car_parks:p1", "name"] == "mall car park"
    assert sites.crs == "EPSG:4326"
    assert sites.loc["sa:sa1"].geometry.distance(Point(*lonlat(X0 + 5_000, Y0 + 9_000))) < 1e-9


def test_a_plan_can_open_a_site_of_an_extra_file(tmp_path: Path) -> None:
    """A car park at z2's centre with fixed cost 2,000 (the main file's s2, also there, costs
    10,000) is the site the tiny plan opens instead of s2: all else equal, 8,000 cheaper."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    gpd.GeoDataFrame(
        {"site_id": ["p1"], "fixed_cost_cny": [2_000.0]},
        geometry=[Point(X0 + 25_000, Y0 + 5_000)],
        crs=UTM,
    ).to_file(folder / "parks.geojson", driver="GeoJSON")
    scenario = chargeplan.load_scenario(with_sites_extra(folder, 'extra = ["parks.geojson"]\n'))
    plan = chargeplan.plan_network(scenario)
    assert plan.sites.index[plan.sites["open"]].tolist() == ["parks:p1"]
    assert plan.summary["capex_cny"] == pytest.approx(24_700 - 8_000)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [{"id": "a", "lon": 121.0, "lat": 31.0, "max_stalls": "ten"}],
            r"service_areas\.csv\): column 'max_stalls' is not numeric.*row 1; id a",
        ),
        (
            [
                {"id": "a", "lon": 121.0, "lat": 31.0, "max_stalls": 4},
                {"id": "b", "lon": 121.0, "lat": 31.0, "max_stalls": -4},
            ],
            r"service_areas\.csv\): column 'max_stalls' has 1 negative value \(row 2; id b\)",
        ),
        (
            [{"id": "a", "lon": 121.0, "lat": None}, {"id": "b", "lon": 121.0, "lat": 31.0}],
            r"service_areas\.csv\): column 'lat' has 1 missing value \(row 1; id a\)",
        ),
        (
            [{"id": "a", "lon": 31.0, "lat": 121.0}],
            r"service_areas\.csv\).*(lat|swapped)",
        ),
        (
            [{"id": "a", "lon": 121.0, "lat": 31.0}, {"id": "a", "lon": 121.1, "lat": 31.0}],
            r"service_areas\.csv\): id column 'id' has duplicate ids a \(rows 1, 2",
        ),
        (
            [{"ident": "a", "lon": 121.0, "lat": 31.0}],
            r"service_areas\.csv\): id column 'id' not found",
        ),
        (
            [{"id": "a", "x": 121.0, "lat": 31.0}],
            r"service_areas\.csv\): missing column 'lon'",
        ),
    ],
)
def test_a_bad_extra_file_is_refused_naming_file_row_and_column(
    tmp_path: Path, rows: list[dict[str, object]], expected: str
) -> None:
    write_service_areas(tmp_path / "tiny", rows)
    path = with_sites_extra(
        tmp_path / "tiny", 'extra = [{ file = "service_areas.csv", id_column = "id" }]\n'
    )
    with pytest.raises(InputError, match=expected):
        prepare(chargeplan.load_scenario(path))


def test_an_extra_file_without_charger_limits_is_refused(tmp_path: Path) -> None:
    """The scenario gives no ``max_chargers`` default here, so an extra file must."""
    folder = tmp_path / "tiny"
    write_service_areas(folder)
    text = SCENARIO.replace("[sites.max_chargers]\ndc_fast = 50\nac_destination = 100\n", "")
    text = text.replace(
        "fixed_cost_cny = 10000\n",
        'fixed_cost_cny = 10000\nextra = [{ file = "service_areas.csv", id_column = "id" }]\n',
    )
    path = write_tiny_scenario(folder, text)
    sites = gpd.read_file(folder / "sites.geojson")
    sites["max_dc_fast"], sites["max_ac_destination"] = 5, 5
    sites.to_file(folder / "sites.geojson", driver="GeoJSON")
    with pytest.raises(InputError, match=r"service_areas\.csv\): no column 'max_dc_fast'"):
        prepare(chargeplan.load_scenario(path))


def test_extra_files_sharing_a_prefix_or_missing_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    write_car_parks(folder)
    twice = with_sites_extra(folder, 'extra = ["car_parks.parquet", "sub/car_parks.parquet"]\n')
    (folder / "sub").mkdir()
    write_car_parks(folder / "sub")
    with pytest.raises(ScenarioError, match=r"share the id prefix \['car_parks'\]"):
        chargeplan.load_scenario(twice)
    missing = with_sites_extra(folder, 'extra = ["nowhere.csv"]\n')
    with pytest.raises(ScenarioError, match=r"sites.extra.*entry 1.*file not found.*nowhere"):
        chargeplan.load_scenario(missing)


OWN_STATIONS = """
[existing]
stations = "stations.csv"
port_columns = { dc_fast = "dc", ac_destination = "ac" }
own_networks = ["Brand"]
own_match_km = 1.0
"""


@pytest.mark.parametrize("how", ["own station list", "candidate file column"])
def test_an_existing_own_station_is_extended(tmp_path: Path, how: str) -> None:
    """Derivation (see ``test_pipeline.test_tiny_plan_matches_hand_derivation``).

    Without existing chargers the tiny plan opens s2 alone, with 10 DC chargers (463 DC kWh at
    50 kWh each) and 47 AC chargers: capex 10,000 + 10 x 1,000 + 47 x 100 = 24,700. Now the
    brand already runs 4 DC chargers at z2's centre: either as its own station within 1 km of
    s2 (joined to s2) or as site ``own:e1`` of an extra candidate file at s2's point. Its fixed
    cost is sunk and its 4 chargers are kept at no capex, so the plan opens that site and
    extends it to the same 10 DC chargers: 6 new ones. s1 and s3 still do not pay (10,000 to
    open against at most 7,400 of access saved). Capex = 6 x 1,000 + 47 x 100 = 10,700; access
    and penalty are unchanged (11,100 and 370,000).
    """
    folder = tmp_path / "tiny"
    lon, lat = lonlat(X0 + 25_000, Y0 + 5_300)  # 300 m from s2
    if how == "own station list":
        path = with_sites_extra(folder, "", OWN_STATIONS)
        stations = {"ID": [7], "Longitude": [lon], "Latitude": [lat], "EV Network": ["Brand"]}
        pd.DataFrame({**stations, "dc": [4], "ac": [0]}).to_csv(folder / "stations.csv")
        expected_site = "s2"
    else:
        path = with_sites_extra(folder, 'extra = [{ file = "own.csv", prefix = "own" }]\n')
        lon, lat = lonlat(X0 + 25_000, Y0 + 5_000)  # at s2, z2's centre
        own = {"site_id": ["e1"], "lon": [lon], "lat": [lat], "existing_dc_fast": [4]}
        pd.DataFrame(own).to_csv(folder / "own.csv", index=False)
        expected_site = "own:e1"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan = chargeplan.plan_network(chargeplan.load_scenario(path))
    sites, summary = plan.sites, plan.summary
    assert sites.index[sites["open"]].tolist() == [expected_site]
    assert sites.loc[expected_site, "existing_dc_fast"] == 4
    assert sites.loc[expected_site, "fixed_cost_cny"] == 0
    assert sites.loc[expected_site, "chargers_dc_fast"] == 10  # more than the 4 it had
    assert sites.loc[expected_site, "chargers_ac_destination"] == 47
    assert summary["existing_chargers_kept"] == 4
    assert summary["new_chargers"] == 6 + 47
    assert summary["capex_cny"] == pytest.approx(10_700)
    assert summary["access_cost_cny"] == pytest.approx(11_100, rel=1e-4)
    assert summary["unmet_penalty_cny"] == pytest.approx(370_000)
