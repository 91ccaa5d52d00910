"""Property tests: broken inputs on disk end ``chargeplan run`` with one clear line, never a
traceback, and never an output file.

Every bad-input class below is written into a fresh copy of the tiny scenario (zones, sites,
cost table, scenario or catalogue file) with hypothesis drawing the row, the value and the
kind of damage, then run through ``chargeplan.cli.main(["run", ...])``. Each must exit with
3 (scenario or catalogue file) or 4 (zones, sites, cost table), print a last line
``chargeplan: error: ...`` that names the file at fault, print no traceback, and leave neither
the output folder nor a staging folder behind.
"""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargeplan.cli import main

from .conftest import write_tiny_scenario

Defect = Callable[[Path, st.DataObject], None]

EXAMPLES = settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------
# editing the files of a tiny scenario folder
# ---------------------------------------------------------------------------------------------


def _zones(folder: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(folder / "zones.geojson")


def _sites(folder: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(folder / "sites.geojson")


def _save(frame: gpd.GeoDataFrame, folder: Path, name: str) -> None:
    frame.to_file(folder / name, driver="GeoJSON")


def _edit_scenario(folder: Path, old: str, new: str) -> None:
    path = folder / "tiny.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _set(frame: pd.DataFrame, column: str, row: int, value: object) -> pd.DataFrame:
    values = frame[column].astype(object).tolist()
    values[row] = value
    out = frame.copy()
    out[column] = pd.Series(values, index=frame.index, dtype=object).infer_objects()
    return out


def _set_geometry(frame: gpd.GeoDataFrame, row: int, geometry: object) -> gpd.GeoDataFrame:
    geoms = np.asarray(frame.geometry.array, dtype=object).copy()
    geoms[row] = geometry
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))


def _swap_xy(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    swapped = shapely.transform(np.asarray(frame.geometry.array), lambda c: c[:, ::-1])
    return frame.set_geometry(gpd.GeoSeries(swapped, index=frame.index, crs=frame.crs))


def _layer_defects(layer: str, ids: str, value_column: str) -> dict[str, Defect]:
    """Damage common to zones and sites files (``layer`` = ``"zones"`` or ``"sites"``)."""
    read = _zones if layer == "zones" else _sites
    name = f"{layer}.geojson"

    def row(folder: Path, data: st.DataObject) -> tuple[gpd.GeoDataFrame, int]:
        frame = read(folder)
        return frame, data.draw(st.integers(0, len(frame) - 1), label="row")

    def duplicate_id(folder: Path, data: st.DataObject) -> None:
        frame, r = row(folder, data)
        _save(_set(frame, ids, r, frame[ids].iloc[(r + 1) % len(frame)]), folder, name)

    def missing_id(folder: Path, data: st.DataObject) -> None:
        frame, r = row(folder, data)
        blank = data.draw(st.sampled_from([None, "", "  "]), label="blank")
        _save(_set(frame, ids, r, blank), folder, name)

    def null_geometry(folder: Path, data: st.DataObject) -> None:
        frame, r = row(folder, data)
        _save(_set_geometry(frame, r, None), folder, name)

    def line_geometry(folder: Path, data: st.DataObject) -> None:
        frame, r = row(folder, data)
        x, y = frame.geometry.iloc[r].centroid.coords[0]
        _save(_set_geometry(frame, r, shapely.LineString([(x, y), (x + 0.1, y)])), folder, name)

    def swapped_lonlat(folder: Path, data: st.DataObject) -> None:
        _save(_swap_xy(read(folder)), folder, name)

    def metres_labelled_degrees(folder: Path, data: st.DataObject) -> None:
        metric = read(folder).to_crs("EPSG:32651")
        _save(metric.set_crs("EPSG:4326", allow_override=True), folder, name)

    def missing_crs(folder: Path, data: st.DataObject) -> None:
        frame = read(folder).set_crs(None, allow_override=True)
        frame.to_parquet(folder / f"{layer}.parquet")
        _edit_scenario(folder, f'file = "{name}"', f'file = "{layer}.parquet"')

    def no_rows(folder: Path, data: st.DataObject) -> None:
        _save(read(folder).iloc[:0], folder, name)

    def not_a_vector_file(folder: Path, data: st.DataObject) -> None:
        junk = data.draw(st.binary(min_size=0, max_size=64), label="bytes")
        (folder / name).write_bytes(junk)

    def missing_id_column(folder: Path, data: st.DataObject) -> None:
        _save(read(folder).rename(columns={ids: ids + "x"}), folder, name)

    def text_in_number_column(folder: Path, data: st.DataObject) -> None:
        frame, r = row(folder, data)
        if value_column not in frame.columns:
            frame[value_column] = 1.0
        text = data.draw(st.sampled_from(["1,200", "n/a", "12 kW", "-"]), label="text")
        _save(_set(frame, value_column, r, text), folder, name)

    def negative_number(folder: Path, data: st.DataObject) -> None:
        frame, r = row(folder, data)
        if value_column not in frame.columns:
            frame[value_column] = 1.0
        value = -data.draw(st.floats(1e-6, 1e9), label="magnitude")
        _save(_set(frame, value_column, r, value), folder, name)

    return {
        f"{layer}: {fn.__name__.replace('_', ' ')}": fn
        for fn in (
            duplicate_id,
            missing_id,
            null_geometry,
            line_geometry,
            swapped_lonlat,
            metres_labelled_degrees,
            missing_crs,
            no_rows,
            not_a_vector_file,
            missing_id_column,
            text_in_number_column,
            negative_number,
        )
    }


def _zone_only_defects() -> dict[str, Defect]:
    def nan_population(folder: Path, data: st.DataObject) -> None:
        frame = _zones(folder)
        r = data.draw(st.integers(0, len(frame) - 1), label="row")
        _save(_set(frame, "pop", r, None), folder, "zones.geojson")

    def missing_population_column(folder: Path, data: st.DataObject) -> None:
        new = data.draw(st.sampled_from(["popu", "population", "Pop"]), label="name")
        _save(_zones(folder).rename(columns={"pop": new}), folder, "zones.geojson")

    def polygon_with_no_area(folder: Path, data: st.DataObject) -> None:
        frame = _zones(folder)
        r = data.draw(st.integers(0, len(frame) - 1), label="row")
        x0, y0, x1, y1 = frame.geometry.iloc[r].bounds
        flat = shapely.Polygon([(x0, y0), (x1, y1), (x0, y0), (x1, y1)])  # a line, no area
        _save(_set_geometry(frame, r, flat), folder, "zones.geojson")

    return {
        "zones: nan population": nan_population,
        "zones: missing population column": missing_population_column,
        "zones: invalid polygon with no area": polygon_with_no_area,
    }


def _site_only_defects() -> dict[str, Defect]:
    def polygon_site(folder: Path, data: st.DataObject) -> None:
        frame = _sites(folder)
        r = data.draw(st.integers(0, len(frame) - 1), label="row")
        x, y = frame.geometry.iloc[r].coords[0]
        _save(
            _set_geometry(frame, r, shapely.box(x, y, x + 0.01, y + 0.01)), folder, "sites.geojson"
        )

    def misspelt_charger_column(folder: Path, data: st.DataObject) -> None:
        column = data.draw(
            st.sampled_from(["max_dc_fsat", "capex_cny_ac_destinaton", "max_dcfast"]),
            label="column",
        )
        frame = _sites(folder)
        frame[column] = 5.0
        _save(frame, folder, "sites.geojson")

    def missing_limit_without_default(folder: Path, data: st.DataObject) -> None:
        frame = _sites(folder)
        r = data.draw(st.integers(0, len(frame) - 1), label="row")
        frame["max_dc_fast"] = 10.0
        _save(_set(frame, "max_dc_fast", r, None), folder, "sites.geojson")
        _edit_scenario(folder, "dc_fast = 50\n", "")

    return {
        "sites: polygon instead of point": polygon_site,
        "sites: charger column of an unknown type": misspelt_charger_column,
        "sites: missing charger limit and no default": missing_limit_without_default,
    }


def _cost_table_defects() -> dict[str, Defect]:
    """Damage to a valid ``zone_id, site_id, cost`` table of every zone-site pair."""

    def table(folder: Path) -> pd.DataFrame:
        _edit_scenario(folder, "[reach]\n", '[reach]\ncost_table = "costs.csv"\n')
        pairs = [(z, s) for z in ("z1", "z2", "z3", "z4") for s in ("s1", "s2", "s3")]
        return pd.DataFrame(
            {
                "zone_id": [z for z, _ in pairs],
                "site_id": [s for _, s in pairs],
                "cost": np.arange(1.0, len(pairs) + 1),
            }
        )

    def damage(edit: Callable[[pd.DataFrame, int, st.DataObject], pd.DataFrame]) -> Defect:
        def apply(folder: Path, data: st.DataObject) -> None:
            frame = table(folder)
            r = data.draw(st.integers(0, len(frame) - 1), label="row")
            edit(frame, r, data).to_csv(folder / "costs.csv", index=False)

        apply.__name__ = edit.__name__
        return apply

    def unknown_zone(frame: pd.DataFrame, r: int, data: st.DataObject) -> pd.DataFrame:
        return _set(frame, "zone_id", r, data.draw(st.sampled_from(["z9", "Z1", "z1 "])))

    def unknown_site(frame: pd.DataFrame, r: int, data: st.DataObject) -> pd.DataFrame:
        return _set(frame, "site_id", r, data.draw(st.sampled_from(["s0", "S2", "site 3"])))

    def negative_cost(frame: pd.DataFrame, r: int, data: st.DataObject) -> pd.DataFrame:
        return _set(frame, "cost", r, -data.draw(st.floats(1e-9, 1e9)))

    def missing_cost(frame: pd.DataFrame, r: int, data: st.DataObject) -> pd.DataFrame:
        return _set(frame, "cost", r, None)

    def text_cost(frame: pd.DataFrame, r: int, data: st.DataObject) -> pd.DataFrame:
        return _set(frame, "cost", r, data.draw(st.sampled_from(["1,5", "fast", "3 km"])))

    def duplicate_pair(frame: pd.DataFrame, r: int, data: st.DataObject) -> pd.DataFrame:
        return pd.concat([frame, frame.iloc[[r]]], ignore_index=True)

    def missing_column(frame: pd.DataFrame, r: int, data: st.DataObject) -> pd.DataFrame:
        return frame.drop(columns=data.draw(st.sampled_from(["zone_id", "site_id", "cost"])))

    def no_rows(frame: pd.DataFrame, r: int, data: st.DataObject) -> pd.DataFrame:
        return frame.iloc[:0]

    def not_a_table(folder: Path, data: st.DataObject) -> None:
        table(folder)
        junk = data.draw(st.binary(min_size=0, max_size=64), label="bytes")
        (folder / "costs.csv").write_bytes(junk)

    defects = {
        f"cost table: {edit.__name__.replace('_', ' ')}": damage(edit)
        for edit in (
            unknown_zone,
            unknown_site,
            negative_cost,
            missing_cost,
            text_cost,
            duplicate_pair,
            missing_column,
            no_rows,
        )
    }
    defects["cost table: not a table"] = not_a_table
    return defects


def _scenario_defects() -> dict[str, Defect]:
    """Damage to the scenario or charger-catalogue file (exit code 3)."""

    def edit(old: str, new: Callable[[st.DataObject], str]) -> Defect:
        def apply(folder: Path, data: st.DataObject) -> None:
            _edit_scenario(folder, old, new(data))

        return apply

    def truncated(folder: Path, data: st.DataObject) -> None:
        path = folder / "tiny.toml"
        text = path.read_text()
        cut = data.draw(st.integers(0, text.index("[model]")), label="cut")
        path.write_text(text[:cut])

    def catalogue(old: str, new: Callable[[st.DataObject], str]) -> Defect:
        def apply(folder: Path, data: st.DataObject) -> None:
            path = folder / "chargers.toml"
            path.write_text(path.read_text().replace(old, new(data), 1))

        return apply

    floats = st.floats
    return {
        "scenario: truncated file": truncated,
        "scenario: misspelt key": edit(
            "kwh_per_km =", lambda d: d.draw(st.sampled_from(["kwh_per_kn =", "kWh_per_km ="]))
        ),
        "scenario: text where a number belongs": edit(
            "target_premium_users = 1000", lambda d: 'target_premium_users = "1000 users"'
        ),
        "scenario: negative value": edit(
            "km_per_user_day = 50", lambda d: f"km_per_user_day = {-d.draw(floats(1e-6, 1e6))}"
        ),
        "scenario: share above 1": edit(
            "peak_hour_share = 0.1", lambda d: f"peak_hour_share = {d.draw(floats(1.001, 100))}"
        ),
        "scenario: radius in metres": edit(
            "service_radius_km = 30",
            lambda d: f"service_radius_km = {d.draw(st.integers(2_001, 200_000))}",
        ),
        "scenario: unknown charger type": edit(
            "[demand.charger_mix]\ndc_fast", lambda d: "[demand.charger_mix]\ndc_fsat"
        ),
        "scenario: charger mix not adding up to 1": edit(
            "ac_destination = 0.5",
            lambda d: f"ac_destination = {d.draw(floats(0, 0.49) | floats(0.51, 1))}",
        ),
        "scenario: zones file not found": edit(
            'file = "zones.geojson"', lambda d: 'file = "nowhere/zones.geojson"'
        ),
        "scenario: max_coverage without a budget": edit(
            "[model]\n", lambda d: '[model]\nobjective = "max_coverage"\n'
        ),
        "catalogue: negative power": catalogue(
            "power_kw = 100", lambda d: f"power_kw = {-d.draw(floats(0, 1e4))}"
        ),
        "catalogue: missing key": catalogue("capex_cny = 1000\n", lambda d: ""),
        "catalogue: not found": edit(
            'charger_catalogue = "chargers.toml"', lambda d: 'charger_catalogue = "gone.toml"'
        ),
    }


DATA_DEFECTS = {
    **_layer_defects("zones", "zone_id", "pop"),
    **_zone_only_defects(),
    **_layer_defects("sites", "site_id", "fixed_cost_cny"),
    **_site_only_defects(),
    **_cost_table_defects(),
}
SCENARIO_DEFECTS = _scenario_defects()
CASES = [(name, 4) for name in DATA_DEFECTS] + [(name, 3) for name in SCENARIO_DEFECTS]


# ---------------------------------------------------------------------------------------------
# the property
# ---------------------------------------------------------------------------------------------


def _file_named(message: str, name: str) -> bool:
    """Whether the message names the damaged file (or, for a missing one, the scenario)."""
    kind = name.split(":")[0]
    expected = {
        "zones": r"zones\.(geojson|parquet)",
        "sites": r"sites\.(geojson|parquet)",
        "cost table": r"costs\.csv",
        "scenario": r"tiny\.toml",
        "catalogue": r"(chargers|gone)\.toml",
    }[kind]
    return re.search(expected, message) is not None


@pytest.mark.parametrize(("name", "exit_code"), CASES, ids=[name for name, _ in CASES])
@EXAMPLES
@given(data=st.data())
def test_broken_input_ends_with_one_clear_line_and_no_output(
    name: str, exit_code: int, data: st.DataObject
) -> None:
    defect = DATA_DEFECTS.get(name) or SCENARIO_DEFECTS[name]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "tiny"
        scenario = write_tiny_scenario(folder)
        defect(folder, data)
        out = Path(tmp) / "out"
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = main(["run", str(scenario), "--out", str(out), "-q", "--no-map", "--no-report"])
        text = stderr.getvalue()
        lines = [line for line in text.splitlines() if line.strip()]
        assert code == exit_code, text
        assert "Traceback" not in text
        assert lines and lines[-1].startswith("chargeplan: error: "), text
        assert _file_named(lines[-1], name), lines[-1]
        assert not out.exists(), "an output folder was left behind"
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["tiny"], "staging left behind"
