"""Tests for chargeplan.inputs.validate: input checks that run before any solve."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from chargeplan.errors import InputError
from chargeplan.inputs.validate import (
    InputWarning,
    check_sites_within_zones,
    validate_cost_table,
    validate_sites,
    validate_zones,
)

ZONES_SRC = "geodata/zones.gpkg"
SITES_SRC = "geodata/sites.gpkg"
COSTS_SRC = "geodata/costs.csv"
# every defect class is also run on its own (few examples each), so none is left to chance
EACH_DEFECT = settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------
# builders
# ---------------------------------------------------------------------------------------------


def squares(centres: list[tuple[float, float]], half: float = 0.05) -> list[shapely.Geometry]:
    return [shapely.box(x - half, y - half, x + half, y + half) for x, y in centres]


BEIJING = [(116.40, 39.90), (116.60, 39.95), (116.30, 40.10), (116.50, 39.70), (116.20, 39.80)]


def make_zones(
    *,
    points: bool = False,
    centres: list[tuple[float, float]] | None = None,
    crs: str | None = "EPSG:4326",
    ids: list[object] | None = None,
) -> gpd.GeoDataFrame:
    centres = centres or BEIJING
    n = len(centres)
    geometry = shapely.points(centres).tolist() if points else squares(centres)
    return gpd.GeoDataFrame(
        {
            "zone_code": ids if ids is not None else [110101 + i for i in range(n)],
            "pop_2020": np.linspace(1_000.0, 5_000.0, n),
            "note": ["a"] * n,
        },
        geometry=geometry,
        crs=crs,
        index=pd.RangeIndex(10, 10 + n),
    )


def make_sites(
    *, centres: list[tuple[float, float]] | None = None, crs: str | None = "EPSG:4326"
) -> gpd.GeoDataFrame:
    centres = centres or BEIJING[:3]
    n = len(centres)
    return gpd.GeoDataFrame(
        {
            "site_id": [f"S{i + 1}" for i in range(n)],
            "capex": [100.0 * (i + 1) for i in range(n)],
            "max_chargers": list(range(2, 2 + n)),
        },
        geometry=shapely.points(centres).tolist(),
        crs=crs,
    )


def zones_ok(frame: gpd.GeoDataFrame, source: str = ZONES_SRC) -> gpd.GeoDataFrame:
    return validate_zones(
        frame,
        source=source,
        id_column="zone_code",
        required_columns=("note",),
        nonnegative_columns=("pop_2020",),
    )


def sites_ok(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return validate_sites(
        frame, source=SITES_SRC, id_column="site_id", nonnegative_columns=("capex",)
    )


def raises_input_error(call: Callable[[], object], *fragments: str) -> str:
    """Assert ``call`` raises InputError whose one-line message contains every fragment."""
    with pytest.raises(InputError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def set_value(frame: pd.DataFrame, column: str, position: int, value: object) -> pd.DataFrame:
    out = frame.copy()
    values = out[column].astype(object).tolist()
    values[position] = value
    out[column] = pd.Series(values, index=out.index, dtype=object).infer_objects()
    return out


def set_geometry(
    frame: gpd.GeoDataFrame, position: int, geometry: shapely.Geometry | None
) -> gpd.GeoDataFrame:
    out = frame.copy()
    geoms = np.asarray(out.geometry.array, dtype=object).copy()
    geoms[position] = geometry
    out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=out.crs)
    return out


def swap_xy(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame.copy()
    out[out.geometry.name] = gpd.GeoSeries(
        shapely.transform(np.asarray(out.geometry.array), lambda c: c[:, ::-1]),
        index=out.index,
        crs=out.crs,
    )
    return out


# ---------------------------------------------------------------------------------------------
# zones and sites: valid inputs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("points", [False, True])
@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:32650"])
def test_valid_zones_pass_unchanged(points: bool, crs: str) -> None:
    zones = make_zones(points=points)
    if crs != "EPSG:4326":
        zones = zones.to_crs(crs)
    before = zones.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = zones_ok(zones)
    assert out is not zones
    assert out.index.equals(zones.index)
    assert out.crs == zones.crs
    assert_geodataframe_equal(out, zones)
    assert_geodataframe_equal(zones, before)


def test_valid_sites_pass_unchanged() -> None:
    sites = make_sites()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = sites_ok(sites)
    assert out.index.equals(sites.index)
    assert out.crs == sites.crs
    assert_geodataframe_equal(out, sites)


def test_nan_allowed_in_unlisted_column_and_string_ids() -> None:
    zones = make_zones(ids=["A", "B", "C", "D", "E"])
    zones["households"] = [1.0, np.nan, 3.0, 4.0, 5.0]
    out = zones_ok(zones)
    assert out["households"].isna().sum() == 1


def test_numbers_as_text_are_converted_in_the_copy() -> None:
    zones = make_zones()
    zones["pop_2020"] = ["1", "2.5", "3", "4", "5"]
    out = zones_ok(zones)
    assert out["pop_2020"].tolist() == [1.0, 2.5, 3.0, 4.0, 5.0]
    assert zones["pop_2020"].iloc[0] == "1"


def test_renamed_geometry_column_is_supported() -> None:
    zones = make_zones().rename_geometry("geom")
    assert_geodataframe_equal(zones_ok(zones), zones)


# ---------------------------------------------------------------------------------------------
# zones: each bad-input class
# ---------------------------------------------------------------------------------------------

BAD_ZONES: dict[str, tuple[Callable[[], object], tuple[str, ...]]] = {
    "empty": (lambda: make_zones().iloc[:0], ("no rows",)),
    "missing id column": (
        lambda: make_zones().rename(columns={"zone_code": "zone_cod"}),
        ("'zone_code' is missing", "did you mean 'zone_cod'", "set the scenario's id column"),
    ),
    "missing id": (
        lambda: set_value(make_zones(ids=["A", "B", "C", "D", "E"]), "zone_code", 1, None),
        ("1 missing id", "row 2", "give every row a unique id"),
    ),
    "blank id": (
        lambda: set_value(make_zones(ids=["A", "B", "C", "D", "E"]), "zone_code", 3, "  "),
        ("missing id", "row 4"),
    ),
    "duplicate id": (
        lambda: set_value(make_zones(), "zone_code", 3, 110101),
        ("duplicate ids 110101", "rows 1, 4", "make the ids unique"),
    ),
    "missing required column": (
        lambda: make_zones().drop(columns="note"),
        ("missing column 'note'", "'pop_2020'", "rename the column"),
    ),
    "misspelt value column": (
        lambda: make_zones().rename(columns={"pop_2020": "popu_2020"}),
        ("'pop_2020'", "did you mean 'popu_2020'"),
    ),
    "nan population": (
        lambda: set_value(make_zones(), "pop_2020", 2, np.nan),
        ("'pop_2020'", "1 missing value", "row 3", "id 110103", "fill them in"),
    ),
    "negative population": (
        lambda: set_value(make_zones(), "pop_2020", 4, -3.0),
        ("'pop_2020'", "1 negative value", "row 5", "id 110105", "fix or drop them"),
    ),
    "infinite population": (
        lambda: set_value(make_zones(), "pop_2020", 0, np.inf),
        ("'pop_2020'", "infinite", "id 110101", "finite numbers"),
    ),
    "infinite unlisted column": (
        lambda: make_zones().assign(area=[1.0, 2.0, -np.inf, 1.0, 1.0]),
        ("'area'", "infinite", "id 110103"),
    ),
    "text population": (
        lambda: set_value(make_zones(), "pop_2020", 1, "1,200"),
        ("'pop_2020' is not numeric", "id 110102", "'1,200'", "plain numbers"),
    ),
    "null geometry": (
        lambda: set_geometry(make_zones(), 1, None),
        ("null or empty geometry", "id 110102", "drop those rows"),
    ),
    "empty geometry": (
        lambda: set_geometry(make_zones(), 2, shapely.Polygon()),
        ("null or empty geometry", "id 110103"),
    ),
    "line geometry": (
        lambda: set_geometry(make_zones(), 0, shapely.LineString([(116, 39), (117, 40)])),
        ("LineString", "id 110101", "Polygon, MultiPolygon or Point"),
    ),
    "nan coordinate": (
        lambda: set_geometry(make_zones(points=True), 0, shapely.Point(np.nan, 39.0)),
        ("missing or infinite coordinates", "id 110101"),
    ),
    "missing crs": (
        lambda: make_zones(crs=None),
        ("has no CRS", 'set_crs("EPSG:4326")', ".prj", "look like lon/lat"),
    ),
    "projected coordinates labelled lon/lat": (
        lambda: make_zones().to_crs("EPSG:3857").set_crs("EPSG:4326", allow_override=True),
        ("outside lon [-180, 180] / lat [-90, 90]", "ids 110101", "allow_override=True"),
    ),
    "latitude out of range": (
        lambda: set_geometry(make_zones(points=True), 3, shapely.Point(116.0, 95.0)),
        ("outside lon", "row 4", "id 110104", "fix those coordinates"),
    ),
    "swapped china": (
        lambda: swap_xy(make_zones()),
        ("looks like swapped lon/lat", "ids 110101", "shapely.transform"),
    ),
    "swapped usa": (
        lambda: swap_xy(make_zones(centres=[(-118.2, 34.0), (-122.4, 37.8), (-104.9, 39.7)])),
        ("looks like swapped lon/lat", "ids 110101"),
    ),
    "duplicate column names": (
        lambda: pd.concat([make_zones(), make_zones()[["note"]]], axis=1),
        ("'note' appear more than once",),
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ZONES))
def test_bad_zones_raise_input_error(case: str) -> None:
    build, fragments = BAD_ZONES[case]
    frame = build()
    before = frame.copy()
    raises_input_error(lambda: zones_ok(frame), f"zones ({ZONES_SRC}):", *fragments)
    pd.testing.assert_frame_equal(pd.DataFrame(frame), pd.DataFrame(before))


def test_not_a_geodataframe_suggests_points_from_xy() -> None:
    table = pd.DataFrame({"zone_code": [1, 2], "lon": [116.0, 117.0], "lat": [39.0, 40.0]})
    raises_input_error(lambda: zones_ok(table), "has no geometry column", "points_from_xy")  # type: ignore[arg-type]


def test_label_source_and_long_lists_are_truncated() -> None:
    centres = [(100.0 + i, 30.0) for i in range(8)]
    zones = make_zones(centres=centres)
    zones["pop_2020"] = -1.0
    message = raises_input_error(
        lambda: zones_ok(zones, source="zones"),
        "zones: column 'pop_2020' has 8 negative values",
        "rows 1, 2, 3, 4, 5 and 3 more",
        "ids 110101, 110102, 110103, 110104, 110105 and 3 more",
    )
    assert "110106" not in message


def test_svalbard_must_be_projected_but_then_passes() -> None:
    svalbard = make_zones(centres=[(15.6, 78.2), (16.0, 78.3)])
    raises_input_error(lambda: zones_ok(svalbard), "swapped lon/lat", "Arctic")
    zones_ok(svalbard.to_crs("EPSG:25833"))


# ---------------------------------------------------------------------------------------------
# invalid polygons are repaired with a warning
# ---------------------------------------------------------------------------------------------


def test_bowtie_is_repaired_with_input_warning() -> None:
    zones = make_zones(crs="EPSG:32650", centres=[(500_000.0, 4_400_000.0), (520_000, 4_400_000)])
    bowtie = shapely.Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000), (0, 0)])
    zones = set_geometry(zones, 1, bowtie)
    before = zones.copy()
    with pytest.warns(InputWarning) as record:
        out = zones_ok(zones)
    message = str(record[0].message)
    assert ZONES_SRC in message and "id 110102" in message and "make_valid" in message
    repaired = out.geometry.iloc[1]
    assert repaired.is_valid
    assert repaired.geom_type == "MultiPolygon"
    assert repaired.area == pytest.approx(500_000.0)
    assert out.index.equals(zones.index) and out.crs == zones.crs
    assert out.geometry.iloc[0].equals(zones.geometry.iloc[0])
    assert_geodataframe_equal(zones, before)  # input untouched
    assert not zones.geometry.iloc[1].is_valid


def test_polygon_with_no_area_after_repair_raises() -> None:
    zones = set_geometry(make_zones(), 0, shapely.Polygon([(116, 39), (116.1, 39), (116, 39)]))
    raises_input_error(lambda: zones_ok(zones), ZONES_SRC, "no area left", "id 110101")


# ---------------------------------------------------------------------------------------------
# sites
# ---------------------------------------------------------------------------------------------


def test_polygon_sites_suggest_representative_point() -> None:
    sites = make_sites()
    sites = set_geometry(sites, 2, shapely.box(116.0, 39.0, 116.1, 39.1))
    raises_input_error(
        lambda: sites_ok(sites),
        f"sites ({SITES_SRC}):",
        "Polygon",
        "id S3",
        ".representative_point()",
    )


@pytest.mark.parametrize(
    ("mutate", "fragments"),
    [
        (lambda s: set_value(s, "capex", 1, -5.0), ("'capex'", "negative", "id S2")),
        (lambda s: set_value(s, "site_id", 2, "S1"), ("duplicate ids S1", "rows 1, 3")),
        (lambda s: s.set_crs(None, allow_override=True), ("has no CRS", "set_crs")),
        (lambda s: swap_xy(s), ("swapped lon/lat",)),
    ],
)
def test_bad_sites(mutate: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame], fragments) -> None:
    raises_input_error(lambda: sites_ok(mutate(make_sites())), SITES_SRC, *fragments)


# ---------------------------------------------------------------------------------------------
# cost tables
# ---------------------------------------------------------------------------------------------

ZONE_IDS = pd.Index([110101, 110102, 110103], dtype="int64")
SITE_IDS = pd.Index(["S1", "S2"], dtype="str")


def make_costs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "zone_id": [110101, 110101, 110102, 110103],
            "site_id": ["S1", "S2", "S1", "S2"],
            "cost": [1.5, 2.0, 0.0, 3.25],
        },
        index=pd.Index([7, 8, 9, 10]),
    )


def costs_ok(table: pd.DataFrame) -> pd.DataFrame:
    return validate_cost_table(table, source=COSTS_SRC, zone_ids=ZONE_IDS, site_ids=SITE_IDS)


def test_valid_cost_table_passes() -> None:
    table = make_costs()
    out = costs_ok(table)
    pd.testing.assert_frame_equal(out, table)


@pytest.mark.parametrize(
    "zone_column",
    [
        ["110101", "110101", "110102", "110103"],
        [110101.0, 110101.0, 110102.0, 110103.0],
        pd.array([110101, 110101, 110102, 110103], dtype="Int64"),
    ],
)
def test_cost_table_ids_of_other_dtypes_are_cast(zone_column: object) -> None:
    table = make_costs().assign(zone_id=zone_column)
    before = table.copy()
    out = costs_ok(table)
    assert out["zone_id"].dtype == ZONE_IDS.dtype
    assert out["zone_id"].tolist() == [110101, 110101, 110102, 110103]
    assert out.index.equals(table.index)
    pd.testing.assert_frame_equal(table, before)


def test_string_zone_ids_accept_integer_table_ids() -> None:
    table = make_costs()
    out = validate_cost_table(
        table, source=COSTS_SRC, zone_ids=ZONE_IDS.astype(str), site_ids=SITE_IDS
    )
    assert out["zone_id"].tolist() == ["110101", "110101", "110102", "110103"]
    assert out["zone_id"].dtype == ZONE_IDS.astype(str).dtype


BAD_COSTS: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], tuple[str, ...]]] = {
    "missing column": (
        lambda t: t.rename(columns={"cost": "travel_cost"}),
        ("missing column 'cost'", "'zone_id', 'site_id', 'travel_cost'", "rename"),
    ),
    "two missing columns": (
        lambda t: t.rename(columns={"zone_id": "zone", "site_id": "site"}),
        ("missing columns 'zone_id', 'site_id'", "it has columns 'zone', 'site', 'cost'"),
    ),
    "empty": (lambda t: t.iloc[:0], ("no rows",)),
    "unknown zone": (
        lambda t: set_value(t, "zone_id", 2, 999999),
        ("zone_id not in the zones: 999999", "row 3", "must match the zones' id column"),
    ),
    "unknown zone as text": (
        lambda t: t.assign(zone_id=["110101", "110101", "42", "110103"]),
        ("zone_id not in the zones: 42", "compared as text", "must match"),
    ),
    "unknown site": (
        lambda t: set_value(t, "site_id", 0, "S9"),
        ("site_id not in the sites: S9", "pair (110101, S9)", "must match the sites' id column"),
    ),
    "negative cost": (
        lambda t: set_value(t, "cost", 1, -1.0),
        ("'cost' has 1 negative value", "pair (110101, S2)", "fix or drop"),
    ),
    "nan cost": (
        lambda t: set_value(t, "cost", 3, np.nan),
        ("'cost' has 1 missing value", "row 4", "fill them in"),
    ),
    "text cost": (
        lambda t: set_value(t, "cost", 3, "3 km"),
        ("'cost' is not numeric", "'3 km'"),
    ),
    "duplicate pair": (
        lambda t: set_value(t, "site_id", 1, "S1"),
        ("repeat a (zone_id, site_id) pair", "(110101, S1)", "keep one row per pair"),
    ),
    "missing id": (
        lambda t: set_value(t, "site_id", 1, None),
        ("'site_id' has 1 missing id", "row 2"),
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_COSTS))
def test_bad_cost_tables(case: str) -> None:
    mutate, fragments = BAD_COSTS[case]
    raises_input_error(
        lambda: costs_ok(mutate(make_costs())), f"cost table ({COSTS_SRC}):", *fragments
    )


# ---------------------------------------------------------------------------------------------
# sites far from every zone
# ---------------------------------------------------------------------------------------------


def test_far_site_warns_with_its_id() -> None:
    zones = make_zones(points=True, centres=[(87.6, 43.8), (126.6, 45.8)])  # Urumqi, Harbin
    sites = make_sites(centres=[(87.6, 44.1), (126.6, 46.4), (105.0, 35.0)])
    # ~33 km, ~67 km and ~1,500 km from the nearest zone
    with pytest.warns(InputWarning) as record:
        check_sites_within_zones(sites, zones, source=SITES_SRC, id_column="site_id")
    message = str(record[0].message)
    assert SITES_SRC in message and "2 sites lie more than 50 km" in message
    assert "ids S2, S3" in message and "S1" not in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_sites_within_zones(sites.iloc[:2], zones, source=SITES_SRC, tolerance_m=80_000)


def test_far_site_check_in_projected_crs_and_mixed_crs() -> None:
    zones = make_zones().to_crs("EPSG:32650")
    sites = make_sites(centres=[(116.4, 39.9), (118.0, 39.9)]).set_index("site_id")
    with pytest.warns(InputWarning, match="id S2"):
        check_sites_within_zones(sites, zones, source=SITES_SRC)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_sites_within_zones(sites.iloc[:1], zones, source=SITES_SRC)


def test_far_site_check_rejects_bad_tolerance() -> None:
    raises_input_error(
        lambda: check_sites_within_zones(
            make_sites(), make_zones(), source=SITES_SRC, tolerance_m=-1
        ),
        SITES_SRC,
        "tolerance_m",
    )


# ---------------------------------------------------------------------------------------------
# property tests: injected defects always give InputError, clean inputs always pass
# ---------------------------------------------------------------------------------------------

ZONE_DEFECTS = [
    None,
    "nan_pop",
    "negative_pop",
    "duplicate_id",
    "empty_geometry",
    "missing_crs",
    "swapped",
]


@st.composite
def zone_frames(
    draw: st.DrawFn, defects: Sequence[str | None] = tuple(ZONE_DEFECTS)
) -> tuple[gpd.GeoDataFrame, str | None]:
    """A small valid zones frame (China, lon/lat or UTM 50N), then maybe one defect."""
    n = draw(st.integers(min_value=2, max_value=6))
    defect = draw(st.sampled_from(defects))
    projected = defect != "swapped" and draw(st.booleans())
    points = draw(st.booleans())
    lon = st.floats(min_value=74.0, max_value=134.0, allow_nan=False)
    lat = st.floats(min_value=19.0, max_value=52.0, allow_nan=False)
    centres = draw(st.lists(st.tuples(lon, lat), min_size=n, max_size=n))
    if draw(st.booleans()):
        ids: list[object] = draw(
            st.lists(st.integers(0, 999_999), min_size=n, max_size=n, unique=True)
        )
    else:
        ids = draw(
            st.lists(
                st.text("ABCxyz0123-", min_size=1, max_size=6).filter(lambda s: s.strip()),
                min_size=n,
                max_size=n,
                unique=True,
            )
        )
    pop = draw(
        st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=n, max_size=n)
    )
    geometry = shapely.points(centres).tolist() if points else squares(centres, half=0.2)
    frame = gpd.GeoDataFrame(
        {"zone_code": ids, "pop_2020": pop}, geometry=geometry, crs="EPSG:4326"
    )
    if projected:
        frame = frame.to_crs("EPSG:32650")
    row = draw(st.integers(min_value=0, max_value=n - 1))
    if defect == "nan_pop":
        frame = set_value(frame, "pop_2020", row, np.nan)
    elif defect == "negative_pop":
        frame = set_value(frame, "pop_2020", row, -draw(st.floats(1e-6, 1e6)))
    elif defect == "duplicate_id":
        other = (row + 1) % n
        frame = set_value(frame, "zone_code", row, frame["zone_code"].iloc[other])
    elif defect == "empty_geometry":
        frame = set_geometry(frame, row, draw(st.sampled_from([None, shapely.Polygon()])))
    elif defect == "missing_crs":
        frame = frame.set_crs(None, allow_override=True)
    elif defect == "swapped":
        frame = swap_xy(frame)
    return frame, defect


@PROPERTY
@given(case=zone_frames())
def test_property_zone_defects_raise_input_error(
    case: tuple[gpd.GeoDataFrame, str | None],
) -> None:
    _check_zone_case(case)


@pytest.mark.parametrize("defect", ZONE_DEFECTS)
@EACH_DEFECT
@given(data=st.data())
def test_property_zone_each_defect_raise_input_error(
    defect: str | None, data: st.DataObject
) -> None:
    _check_zone_case(data.draw(zone_frames([defect])))


def _check_zone_case(case: tuple[gpd.GeoDataFrame, str | None]) -> None:
    frame, defect = case
    event(f"defect={defect}")
    before = frame.copy()
    call = lambda: validate_zones(  # noqa: E731
        frame, source=ZONES_SRC, id_column="zone_code", nonnegative_columns=("pop_2020",)
    )
    if defect is None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = call()
        assert out.index.equals(frame.index) and out.crs == frame.crs
        assert_geodataframe_equal(out, frame)
    else:
        raises_input_error(call, ZONES_SRC)
    assert_geodataframe_equal(frame, before)


SITE_DEFECTS = [None, "negative_capex", "duplicate_id", "polygon", "missing_crs", "swapped"]


@st.composite
def site_frames(
    draw: st.DrawFn, defects: Sequence[str | None] = tuple(SITE_DEFECTS)
) -> tuple[gpd.GeoDataFrame, str | None]:
    n = draw(st.integers(min_value=2, max_value=6))
    defect = draw(st.sampled_from(defects))
    lon = st.floats(min_value=-125.0, max_value=-95.0, allow_nan=False)  # western USA
    lat = st.floats(min_value=25.0, max_value=49.0, allow_nan=False)
    centres = draw(st.lists(st.tuples(lon, lat), min_size=n, max_size=n))
    capex = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n))
    frame = gpd.GeoDataFrame(
        {"site_id": [f"S{i}" for i in range(n)], "capex": capex},
        geometry=shapely.points(centres).tolist(),
        crs="EPSG:4326",
    )
    row = draw(st.integers(min_value=0, max_value=n - 1))
    if defect == "negative_capex":
        frame = set_value(frame, "capex", row, -draw(st.integers(1, 10**6)))
    elif defect == "duplicate_id":
        frame = set_value(frame, "site_id", row, frame["site_id"].iloc[(row + 1) % n])
    elif defect == "polygon":
        x, y = centres[row]
        frame = set_geometry(frame, row, shapely.box(x, y, x + 0.01, y + 0.01))
    elif defect == "missing_crs":
        frame = frame.set_crs(None, allow_override=True)
    elif defect == "swapped":
        # |lon| > 95 everywhere, so every swapped point is out of range
        frame = swap_xy(frame)
    return frame, defect


@PROPERTY
@given(case=site_frames())
def test_property_site_defects_raise_input_error(
    case: tuple[gpd.GeoDataFrame, str | None],
) -> None:
    _check_site_case(case)


@pytest.mark.parametrize("defect", SITE_DEFECTS)
@EACH_DEFECT
@given(data=st.data())
def test_property_site_each_defect_raise_input_error(
    defect: str | None, data: st.DataObject
) -> None:
    _check_site_case(data.draw(site_frames([defect])))


def _check_site_case(case: tuple[gpd.GeoDataFrame, str | None]) -> None:
    frame, defect = case
    event(f"defect={defect}")
    call = lambda: validate_sites(  # noqa: E731
        frame, source=SITES_SRC, id_column="site_id", nonnegative_columns=("capex",)
    )
    if defect is None:
        assert_geodataframe_equal(call(), frame)
    else:
        raises_input_error(call, SITES_SRC)


JUNK = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), 10**6),
    st.text(max_size=4),
    st.none(),
)


def _acceptable(value: object) -> bool:
    """Oracle: a finite number >= 0, possibly written as text."""
    if value is None:
        return False
    try:
        number = float(value)  # type: ignore[arg-type]
    except ValueError:
        return False
    if isinstance(value, str) and pd.isna(pd.to_numeric(value, errors="coerce")):
        return False
    return math.isfinite(number) and number >= 0


@PROPERTY
@given(values=st.lists(JUNK, min_size=1, max_size=5))
def test_property_junk_values_raise_only_input_error(values: list[object]) -> None:
    centres = [(100.0 + i, 30.0) for i in range(len(values))]
    frame = make_zones(points=True, centres=centres)
    frame["pop_2020"] = pd.Series(values, index=frame.index, dtype=object)
    call = lambda: zones_ok(frame)  # noqa: E731
    if all(_acceptable(v) for v in values):
        out = call()
        assert np.isfinite(out["pop_2020"].to_numpy(dtype=float)).all()
    else:
        raises_input_error(call, ZONES_SRC, "'pop_2020'")


COST_DEFECTS = [
    None,
    "unknown_zone",
    "unknown_site",
    "negative_cost",
    "nan_cost",
    "duplicate_pair",
    "missing_column",
]


@st.composite
def cost_cases(
    draw: st.DrawFn, defects: Sequence[str | None] = tuple(COST_DEFECTS)
) -> tuple[pd.DataFrame, pd.Index, pd.Index, str | None]:
    zone_ids = pd.Index(
        draw(st.lists(st.integers(1, 10**6), min_size=1, max_size=5, unique=True)),
        dtype="int64",
    )
    if draw(st.booleans()):
        zone_ids = zone_ids.astype(str)
    site_ids = pd.Index(
        draw(st.lists(st.sampled_from(["A", "B", "C", "D"]), min_size=1, max_size=4, unique=True)),
        dtype="str",
    )
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(list(zone_ids)), st.sampled_from(list(site_ids))),
            min_size=1,
            max_size=8,
            unique=True,
        )
    )
    costs = draw(st.lists(st.floats(0, 1e6), min_size=len(pairs), max_size=len(pairs)))
    table = pd.DataFrame(
        {
            "zone_id": [z for z, _ in pairs],
            "site_id": [s for _, s in pairs],
            "cost": costs,
        }
    )
    # the table's ids may come in another dtype than the zones' (int vs text)
    if draw(st.booleans()):
        table["zone_id"] = table["zone_id"].astype(str)
    elif zone_ids.dtype != np.int64:
        table["zone_id"] = table["zone_id"].astype("int64")
    defect = draw(st.sampled_from(defects))
    row = draw(st.integers(0, len(table) - 1))
    if defect == "unknown_zone":
        table = set_value(table, "zone_id", row, type(table["zone_id"].iloc[0])(10**7 + 1))
    elif defect == "unknown_site":
        table = set_value(table, "site_id", row, "ZZ")
    elif defect == "negative_cost":
        table = set_value(table, "cost", row, -1.0)
    elif defect == "nan_cost":
        table = set_value(table, "cost", row, np.nan)
    elif defect == "duplicate_pair":
        table = pd.concat([table, table.iloc[[row]]], ignore_index=True)
    elif defect == "missing_column":
        table = table.drop(columns=draw(st.sampled_from(["zone_id", "site_id", "cost"])))
    return table, zone_ids, site_ids, defect


@PROPERTY
@given(case=cost_cases())
def test_property_cost_table_defects_raise_input_error(
    case: tuple[pd.DataFrame, pd.Index, pd.Index, str | None],
) -> None:
    _check_cost_case(case)


@pytest.mark.parametrize("defect", COST_DEFECTS)
@EACH_DEFECT
@given(data=st.data())
def test_property_cost_table_each_defect_raise_input_error(
    defect: str | None, data: st.DataObject
) -> None:
    _check_cost_case(data.draw(cost_cases([defect])))


def _check_cost_case(case: tuple[pd.DataFrame, pd.Index, pd.Index, str | None]) -> None:
    table, zone_ids, site_ids, defect = case
    event(f"defect={defect}")
    before = table.copy()
    call = lambda: validate_cost_table(  # noqa: E731
        table, source=COSTS_SRC, zone_ids=zone_ids, site_ids=site_ids
    )
    if defect is None:
        out = call()
        assert out["zone_id"].dtype == zone_ids.dtype
        assert out["site_id"].dtype == site_ids.dtype
        assert out["zone_id"].isin(zone_ids).all() and out["site_id"].isin(site_ids).all()
        assert out.index.equals(table.index)
        assert out["zone_id"].astype(str).tolist() == table["zone_id"].astype(str).tolist()
    else:
        raises_input_error(call, COSTS_SRC)
    pd.testing.assert_frame_equal(table, before)
