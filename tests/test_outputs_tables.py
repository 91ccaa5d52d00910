"""The tables a planner acts on: stations, cities, unit-named columns, CSV, xlsx, GeoPackage.

The hand instance (:func:`one_station_plan`): two zones in two cities, one candidate site.

- zone ``z1`` (深圳市, 广东省; 100 premium users) asks 60 kWh of DC charging in the design
  hour and reaches site ``s``; zone ``z2`` (东莞市, 广东省; 50 users, 30 kWh) reaches nothing.
- the menu has one design, ``d4``: 4 DC stalls at CNY 1,000 each, a 630 kVA connection of
  CNY 5,000 and CNY 2,000 of civil works (capex CNY 11,000); the site costs CNY 300 to open;
  the linear rule gives a charger 25 kWh per design hour, so 4 stalls serve all 60 kWh.
- a session is 30 kWh over half an hour, a stall 120 kW; 10 % of a day's public energy is
  drawn in the design hour.

So the station has 2 arrivals per hour, an offered load of a = 2 x 0.5 = 1 erlang on n = 4
stalls, utilisation 1/4, and Erlang C

    C(4, 1) = (1^4/4! x 4/3) / (1 + 1 + 1/2 + 1/6 + 1^4/4! x 4/3) = (1/18) / (49/18) = 1/49,

a mean wait of C x 0.5 h / (4 - 1) = 1/294 h = 60/294 min; it delivers 60 / 0.1 = 600 kWh a
day, has 480 kW and costs 300 + 4,000 + 5,000 + 2,000 = CNY 11,300.
"""

from __future__ import annotations

import csv
import math
import re
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

import chargeplan
from chargeplan.model.problem import FacilityProblem
from chargeplan.outputs.columns import file_name, for_files
from chargeplan.outputs.provinces import harmonise_provinces
from chargeplan.outputs.write import write_plan
from chargeplan.results.plan import Plan, make_plan
from chargeplan.results.stations import (
    ChargerFigures,
    DesignCosts,
    StationSettings,
    city_table,
    station_table,
)

NAME = '=HYPERLINK("http://x")'
SITE = (114.06, 22.55)  # lon, lat


def erlang_c(c: int, a: float) -> float:
    """Textbook Erlang C (not chargeplan's recursion)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


SETTINGS = StationSettings(
    chargers={
        "dc": ChargerFigures(power_kw=120, session_kwh=30, session_hours=0.5, capex_cny=1000)
    },
    designs={"d4": DesignCosts(grid_kva=630, grid_connection_cny=5000, civil_works_cny=2000)},
    peak_hour_share=0.1,
)


def one_station_plan() -> Plan:
    problem = FacilityProblem(
        zone_ids=np.array(["z1", "z2"], object),
        site_ids=np.array(["s"], object),
        types=("dc",),
        demand=np.array([[60.0], [30.0]]),
        pair_zone=np.array([0]),
        pair_site=np.array([0]),
        pair_cost=np.array([[6.0]]),
        distance_km=np.array([1.5]),
        fixed_cost=np.array([300.0]),
        site_capacity=np.array([np.inf]),
        charger_capacity=np.array([25.0]),
        charger_cost=np.array([[1000.0]]),
        max_chargers=np.array([[20.0]]),
        unmet_penalty=np.array([1000.0]),
        design_names=("d4",),
        design_stalls=np.array([[4.0]]),
        design_kva=np.array([630.0]),
        design_capex=np.array([11_000.0]),
        session_kwh=np.array([30.0]),
        session_hours=np.array([0.5]),
    )
    zones = gpd.GeoDataFrame(
        {
            "zone_id": ["z1", "z2"],
            "city": ["深圳市", "东莞市"],
            "province": ["广东省", "广东省"],
            "premium_users": [100.0, 50.0],
        },
        geometry=[box(113.9, 22.4, 114.3, 22.8), box(113.5, 22.8, 113.9, 23.1)],
        crs="EPSG:4326",
        index=["z1", "z2"],
    )
    sites = gpd.GeoDataFrame(
        {"site_id": ["s"], "name": [NAME], "province": ["Guangdong"]},
        geometry=[Point(*SITE)],
        crs="EPSG:4326",
        index=["s"],
    )
    solution = chargeplan.solve(problem)
    return make_plan(problem, solution, zones, sites, stations=SETTINGS)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return one_station_plan()


@pytest.fixture(scope="module")
def out(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("run") / "out"
    write_plan(plan, folder, map_png=False, report=False)
    return folder


def test_station_figures_by_hand(plan: Plan) -> None:
    assert plan.stations is not None and len(plan.stations) == 1
    row = plan.stations.iloc[0]
    expected = {
        "site_id": "s",
        "name": NAME,
        "city": "深圳市",
        "province": "广东省",
        "design": "d4",
        "chargers_dc": 4,
        "existing_chargers_dc": 0,
        "new_chargers_dc": 4,
        "kw_dc": 480.0,
        "kw": 480.0,
        "grid_kva": 630.0,
        "peak_served_kwh_dc": 60.0,
        "peak_served_kwh": 60.0,
        "peak_sessions_dc": 2.0,
        "utilisation_dc": 0.25,
        "p_wait_dc": 1 / 49,
        "mean_wait_min_dc": 60 / 294,
        "daily_served_kwh": 600.0,
        "capex_site_cny": 300.0,
        "capex_chargers_cny": 4000.0,
        "capex_grid_cny": 5000.0,
        "capex_civil_cny": 2000.0,
        "capex_cny": 11_300.0,
    }
    for column, value in expected.items():
        assert row[column] == (pytest.approx(value) if isinstance(value, float) else value), column
    assert erlang_c(4, 1.0) == pytest.approx(1 / 49)  # the hand value, by the textbook formula
    assert (row["lon"], row["lat"]) == pytest.approx(SITE)


def test_station_without_design_or_share_is_custom(plan: Plan) -> None:
    """Without a menu a station is ``custom`` with no grid kVA; without the peak-hour share the
    daily energy is unknown (empty), not guessed."""
    sites = plan.sites.drop(columns=["design", "design_kva"])
    bare = StationSettings(chargers=SETTINGS.chargers)
    row = station_table(sites, bare).iloc[0]
    assert row["design"] == "custom"
    assert np.isnan(row["grid_kva"]) and np.isnan(row["daily_served_kwh"])
    assert row["capex_chargers_cny"] == 11_000.0  # the design's whole capex, not split
    assert row["city"] == "all"  # no zones given


def test_p_wait_is_one_queue_of_exactly_the_stalls(plan: Plan) -> None:
    """3 arrivals an hour of 1 h each on 4 stalls: C(4, 3) = 0.5094..., from the textbook."""
    settings = StationSettings(chargers={"dc": ChargerFigures(120, 20, 1.0, 1000)})
    sites = plan.sites.assign(served_kwh_dc=60.0)  # 60 / 20 = 3 sessions an hour
    row = station_table(sites, settings).iloc[0]
    assert row["utilisation_dc"] == pytest.approx(0.75)
    assert row["p_wait_dc"] == pytest.approx(erlang_c(4, 3.0))
    assert row["p_wait_dc"] == pytest.approx((81 / 24 * 4) / (1 + 3 + 4.5 + 4.5 + 81 / 24 * 4))


def test_city_roll_up_by_hand(plan: Plan) -> None:
    assert plan.stations is not None
    cities = city_table(plan.stations, plan.zones, SETTINGS).set_index("city")
    assert list(cities.index) == ["深圳市", "东莞市"]  # most premium users first
    sz, dg = cities.loc["深圳市"], cities.loc["东莞市"]
    assert (sz["stations"], sz["chargers_dc"], sz["chargers"]) == (1, 4, 4)
    assert (sz["kw"], sz["capex_cny"]) == (480.0, 11_300.0)
    assert (sz["premium_users"], sz["served_users"]) == (100.0, 100.0)
    assert (sz["peak_demand_kwh"], sz["peak_served_kwh"], sz["coverage"]) == (60.0, 60.0, 1.0)
    assert (dg["stations"], dg["chargers"], dg["capex_cny"]) == (0, 0, 0.0)
    assert (dg["premium_users"], dg["served_users"], dg["coverage"]) == (50.0, 0.0, 0.0)


def test_file_names_carry_units_and_drop_the_inputs_twin() -> None:
    assert file_name("served_kwh") == "peak_served_kwh"
    assert file_name("served_kwh_dc_fast") == "peak_served_kwh_dc_fast"
    assert file_name("share_served") == "coverage"
    assert file_name("capex_cny") == "capex_cny"
    zones = pd.DataFrame({"peak_kwh": [1.0], "demand_kwh": [2.0], "unmet_kwh_dc": [0.5]})
    assert for_files(zones).to_dict("list") == {
        "peak_demand_kwh": [2.0],
        "peak_unmet_kwh_dc": [0.5],
    }


def test_provinces_in_one_script() -> None:
    frame = pd.DataFrame(
        {
            "province": ["Anhui", "广东省", "Nei Mongol", "xinjiang uygur", ""],
            "region": list("abcde"),
        }
    )
    out = harmonise_provinces(frame, ("province", "region"))
    assert out["province"].tolist() == ["安徽省", "广东省", "内蒙古自治区", "新疆维吾尔自治区", ""]
    assert out["province_pinyin"].tolist() == ["Anhui", "Guangdong", "Nei Mongol", "Xinjiang", ""]
    assert list(out.columns) == ["province", "province_pinyin", "region"]  # "a".."e" stay
    assert frame["province"][0] == "Anhui"  # the input is not changed


def test_csv_files_have_a_bom_units_and_coordinates(out: Path) -> None:
    for path in sorted(out.glob("*.csv")):
        assert path.read_bytes()[:3] == b"\xef\xbb\xbf", path.name
    stations = pd.read_csv(out / "stations.csv", encoding="utf-8-sig")
    assert stations.loc[0, "name"] == "'" + NAME  # neutralised, as in every CSV
    assert stations.loc[0, "province_pinyin"] == "Guangdong"
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert (sites.loc[0, "lon"], sites.loc[0, "lat"]) == pytest.approx(SITE)
    assert sites.loc[0, "province"] == "广东省"  # the site file's pinyin, in the zones' script
    assert sites.loc[0, "peak_served_kwh"] == pytest.approx(60.0)
    zones = pd.read_csv(out / "zones.csv", encoding="utf-8-sig").set_index("zone_id")
    assert zones.loc["z2", "peak_unmet_kwh"] == pytest.approx(30.0)
    assert zones.loc["z1", "coverage"] == pytest.approx(1.0)
    cities = pd.read_csv(out / "cities.csv", encoding="utf-8-sig")
    assert cities["city"].tolist() == ["深圳市", "东莞市"]
    lines = pd.read_csv(out / "assignments.csv", encoding="utf-8-sig")
    assert lines[["zone_id", "site_id", "peak_served_kwh", "distance_km"]].values.tolist() == [
        ["z1", "s", 60.0, 1.5]
    ]


def test_xlsx_sheets_frozen_units_text_and_numbers(out: Path) -> None:
    from openpyxl import load_workbook

    book = load_workbook(out / "plan.xlsx")
    assert book.sheetnames[:3] == ["summary", "stations", "cities"]
    assert {"sites", "zones", "gaps", "regions", "assignment_lines", "assignments"} <= set(
        book.sheetnames
    )
    sheet = book["stations"]
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    assert {"capex_cny", "peak_served_kwh", "kw", "grid_kva", "daily_served_kwh"} <= set(header)
    row = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert row["name"].value == NAME and row["name"].data_type == "s"  # text, never a formula
    assert row["capex_cny"].value == 11_300 and row["capex_cny"].data_type == "n"
    assert row["p_wait_dc"].value == pytest.approx(1 / 49)
    assert sheet.column_dimensions["B"].width >= len(NAME)


def test_geopackage_layers_lines_and_qgis_styles(out: Path) -> None:
    import pyogrio

    path = out / "plan.gpkg"
    layers = dict(pyogrio.list_layers(path).tolist())
    assert {"sites", "stations", "zones", "assignment_lines", "gaps", "regions"} <= set(layers)
    lines = gpd.read_file(path, layer="assignment_lines")
    assert lines["peak_served_kwh"].tolist() == pytest.approx([60.0])
    start, end = lines.geometry.iloc[0].coords
    assert end == pytest.approx(SITE)
    centre = box(113.9, 22.4, 114.3, 22.8).representative_point()
    assert start == pytest.approx((centre.x, centre.y))
    with sqlite3.connect(path) as db:
        geometry = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        styles = db.execute(
            "SELECT f_table_name, f_geometry_column, useAsDefault, styleQML FROM layer_styles"
        ).fetchall()
    assert {name for name, *_ in styles} == set(geometry)  # one default style per layer
    for name, column, default, qml in styles:
        assert column == geometry[name] and default == 1
        renderer = ET.fromstring(qml.split("\n", 1)[1]).find("renderer-v2")
        assert renderer is not None
        attr = renderer.get("attr")  # the column a graduated style reads exists in the layer
        if attr:
            assert attr in gpd.read_file(path, layer=name, rows=0).columns, (name, attr)
    stations_qml = next(qml for name, _, _, qml in styles if name == "stations")
    assert 'type="graduatedSymbol" attr="chargers"' in stations_qml


def _documented() -> set[str]:
    text = (Path(__file__).parents[1] / "docs" / "outputs.md").read_text(encoding="utf-8")
    return set(re.findall(r"`([a-z_<>]+)`", text))


def test_every_written_column_is_documented(tiny_scenario: Path, tmp_path: Path) -> None:
    """docs/outputs.md names every column of every CSV of a tiny run (types as ``<type>``);
    the zone and site files' own columns (``pop``, ``car``, ...) are the user's."""
    from chargeplan.cli import main

    assert main(["run", str(tiny_scenario), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    documented = _documented()
    own = {"pop", "car", "apartments", "region"}
    for path in sorted((tmp_path / "o").glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle))
        generic = {
            re.sub(r"(dc_fast|ac_destination)$", "<type>", c) for c in header if c not in own
        }
        generic = {
            re.sub(r"_(unreachable|capacity_limited|budget_limited|not_built)$", "_<reason>", c)
            for c in generic
        }
        assert generic <= documented | {"key", "value"}, (path.name, generic - documented)


def test_xlsx_leaves_out_long_tables_and_says_so(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from chargeplan.outputs.xlsx import write_xlsx

    short, long = pd.DataFrame({"a": [1]}), pd.DataFrame({"b": [1.0, 2.0, float("inf")]})
    write_xlsx({"short": short, "long": long}, tmp_path / "t.xlsx", max_rows=2)
    book = load_workbook(tmp_path / "t.xlsx")
    assert book.sheetnames == ["short", "notes"]
    notes = [[cell.value for cell in row] for row in book["notes"].iter_rows()]
    assert notes == [["left_out_table", "rows", "find_it_in"], ["long", 3, "long.csv"]]
    write_xlsx({"long": long.assign(c=["x", "y", "z"])}, tmp_path / "all.xlsx")
    rows = load_workbook(tmp_path / "all.xlsx")["long"].iter_rows(values_only=True)
    assert list(rows) == [("b", "c"), (1.0, "x"), (2.0, "y"), (None, "z")]  # inf: empty cell


def test_a_plan_that_builds_nothing_has_no_stations_and_empty_cities(plan: Plan) -> None:
    closed = plan.sites.assign(open=False)
    stations = station_table(closed, SETTINGS, plan.zones)
    assert len(stations) == 0 and "p_wait_dc" in stations.columns
    zones = plan.zones.assign(served_kwh=0.0, unserved_users=plan.zones["premium_users"])
    cities = city_table(stations, zones, SETTINGS)
    assert cities[["city", "stations", "capex_cny", "coverage"]].values.tolist() == [
        ["深圳市", 0, 0.0, 0.0],
        ["东莞市", 0, 0.0, 0.0],
    ]
