"""The fast writers of a national plan's outputs give what the plain ones gave.

- CSV text made column by column (:func:`chargeplan.outputs.csvtext.csv_bytes`) is byte for
  byte what ``DataFrame.to_csv(index=False)`` writes, on crafted values: NaN, infinities,
  ``-0.0``, the smallest subnormal, numbers either side of ``repr``'s switch to exponents
  (1e-5 / 1e-4, 1e15 / 1e16), huge integers, text with commas, quotes, line breaks, leading
  spaces, HTML and formula-looking text, missing text;
- :func:`chargeplan.outputs.files.neutralised` equals :func:`neutralise_cell` cell by cell;
- polygons drawn from whole arrays (:mod:`chargeplan.outputs.polygons`): the vertices, codes and
  offsets of a square with a hole, a two-part multipolygon and an empty polygon, derived by
  hand; the hole is left unfilled; the picture equals ``GeoSeries.plot``'s;
- ``plan.xlsx`` with its rows written as XML (:func:`chargeplan.outputs.xlsx.rows_xml`) is
  byte for byte the workbook openpyxl writes cell by cell;
- a city map's zones (:func:`chargeplan.outputs.city_map.zones_in_view`) are those of
  projecting every zone and cutting by the view.
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.path import Path as MplPath
from shapely.geometry import MultiPolygon, Point, Polygon, box

from chargeplan.outputs.city_map import zones_in_view
from chargeplan.outputs.csvtext import csv_bytes, field_text
from chargeplan.outputs.files import neutralise_cell, neutralised, write_csv
from chargeplan.outputs.polygons import draw_polygons, polygon_vertices
from chargeplan.outputs.xlsx import write_xlsx

REPO = Path(__file__).resolve().parents[1]

FLOATS = [
    np.nan,
    np.inf,
    -np.inf,
    -0.0,
    0.0,
    5e-324,
    1e-5,
    1e-4,
    0.1 + 0.2,
    -3.5,
    1e15,
    1e16,
    123456789012345.67,
    1.7976931348623157e308,
    2.0**53 + 2,
]
TEXTS = [
    "深圳市",
    "a,b",
    'say "hi"',
    "two\nlines",
    "cr\rhere",
    " leading space",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x")',
    "-3.5",
    "+86 10",
    "@SUM(A1)",
    "\tTab",
    None,
    "",
    "x",
]


def crafted() -> pd.DataFrame:
    """One column per type the outputs write; 15 rows."""
    n = len(FLOATS)
    return pd.DataFrame(
        {
            "float_kwh": FLOATS,
            "name": pd.Series(TEXTS, dtype=object),
            "name_str": pd.Series(TEXTS, dtype="str"),
            "count": np.arange(n, dtype=np.int64) * -(10**17),
            "small": np.arange(n, dtype=np.int32),
            "open": np.arange(n) % 2 == 0,
            "mixed": pd.Series([1, "a", 2.5, None, np.nan] * 3, dtype=object),
            "odd, name": np.linspace(0, 1, n),
        }
    )


def test_csv_text_is_what_pandas_writes() -> None:
    frame = crafted()
    expected = frame.to_csv(index=False).encode()
    pieces = csv_bytes(frame)
    assert pieces is not None
    assert b"".join(bytes(p) for p in pieces) == expected
    assert b'"a,b"' in expected and b'"say ""hi"""' in expected  # quoted, as csv does
    assert b"-0.0" in expected and b"5e-324" in expected and b"1e-05" in expected


def test_csv_text_of_concatenated_tables() -> None:
    """Text columns of ``pd.concat`` are Arrow arrays in chunks (a batch's runs, old and new)."""
    frame = pd.concat([crafted(), crafted()])
    pieces = csv_bytes(frame)
    assert pieces is not None
    assert b"".join(bytes(p) for p in pieces) == frame.to_csv(index=False).encode()


def test_csv_text_of_an_empty_table_is_its_header() -> None:
    frame = crafted().head(0)
    pieces = csv_bytes(frame)
    assert pieces is not None and b"".join(pieces) == frame.to_csv(index=False).encode()


def test_types_left_to_pandas() -> None:
    """Dates, categories, float32, nullable integers and one-column tables are not made here."""
    for column in (
        pd.to_datetime(["2030-01-01", "2030-01-02"]),
        pd.Categorical(["a", "b"]),
        np.array([0.1, 0.2], dtype=np.float32),
        pd.array([1, None], dtype="Int64"),
    ):
        assert csv_bytes(pd.DataFrame({"x": [1.0, 2.0], "y": column})) is None
    assert csv_bytes(pd.DataFrame({"x": [1.0, 2.0]})) is None


def test_write_csv_writes_pandas_bytes_neutralised(tmp_path: Path) -> None:
    """write_csv through the fast path and through pandas (a second option forces it) give the
    same file; formula-looking text gets its apostrophe, the number -3.5 as text does not."""
    frame = crafted()
    write_csv(frame, tmp_path / "fast.csv", index=False)
    write_csv(frame, tmp_path / "pandas.csv", index=False, sep=",")
    fast = (tmp_path / "fast.csv").read_bytes()
    assert fast == (tmp_path / "pandas.csv").read_bytes()
    assert fast.startswith(b"\xef\xbb\xbf")
    assert "'=HYPERLINK" in fast.decode("utf-8-sig") and ",-3.5," in fast.decode("utf-8-sig")


def test_neutralised_equals_neutralise_cell() -> None:
    for column in (
        pd.Series(TEXTS, dtype=object),
        pd.Series(TEXTS, dtype="str"),
        pd.Series([1, "=1+1", 2.5, None, "-x"], dtype=object),
    ):
        got = neutralised(column)
        want = [neutralise_cell(v) for v in column.tolist()]
        assert [str(v) for v in got.tolist()] == [str(v) for v in want]
    plain = pd.Series(["a", "b"], dtype=object)
    assert neutralised(plain) is plain  # nothing to change: the same column


def test_field_text_quotes_as_csv_does() -> None:
    assert field_text("plain") == "plain"
    assert field_text('a"b') == '"a""b"'
    assert field_text("a\nb") == '"a\nb"'


# polygons ------------------------------------------------------------------------------------

SQUARE_WITH_HOLE = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (1, 3), (3, 3), (3, 1)]])
TWO_SQUARES = MultiPolygon([box(10, 0, 11, 1), box(12, 0, 13, 1)])


def test_polygon_vertices_by_hand() -> None:
    """Square with hole: 2 rings of 5 vertices; two squares: 2 rings of 5; empty: none. So
    offsets 0, 10, 20, 20; each ring MOVETO, 3 LINETO, CLOSEPOLY; the exterior counter-
    clockwise and the hole clockwise (signed areas +16 and -4)."""
    vertices, codes, starts = polygon_vertices([SQUARE_WITH_HOLE, TWO_SQUARES, Polygon()])
    assert starts.tolist() == [0, 10, 20, 20]
    ring = [MplPath.MOVETO, MplPath.LINETO, MplPath.LINETO, MplPath.LINETO, MplPath.CLOSEPOLY]
    assert codes.tolist() == ring * 4

    def area(xy: np.ndarray) -> float:
        x, y = xy[:, 0], xy[:, 1]
        return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))

    assert [area(vertices[i : i + 5]) for i in (0, 5, 10, 15)] == [16.0, -4.0, 1.0, 1.0]


def test_hole_stays_empty() -> None:
    """The square (0..4) with a hole (1..3) drawn red at 50 dpi, 3 in, view -1..9: the hole's
    centre (2, 2) is white, the ring at (0.5, 0.5) red."""
    pixels = _pixels(lambda ax: draw_polygons(ax, [SQUARE_WITH_HOLE], facecolor="red"))

    def at(x: float, y: float) -> list[int]:
        return pixels[round(150 * (9 - y) / 10), round(150 * (x + 1) / 10), :3].tolist()

    assert at(2, 2) == [255, 255, 255] and at(0.5, 0.5) == [255, 0, 0]


def _pixels(draw: object) -> np.ndarray:
    fig = Figure(figsize=(3, 3))
    ax = fig.subplots()
    draw(ax)  # type: ignore[operator]
    ax.set_xlim(-1, 9)
    ax.set_ylim(-1, 9)
    ax.set_axis_off()
    ax.set_position((0, 0, 1, 1))  # the axes fill the picture: pixel = data / 10 * 150
    buffer = io.BytesIO()
    fig.savefig(buffer, format="rgba", dpi=50)
    return np.frombuffer(buffer.getvalue(), dtype=np.uint8).reshape(150, 150, 4).astype(int)


def test_same_picture_as_geoseries_plot() -> None:
    """A 6 x 6 grid of unit squares, one colour, and the same squares each shaded: every pixel
    within 3 levels of what GeoSeries.plot draws (anti-aliased seams aside)."""
    squares = gpd.GeoSeries([box(i, j, i + 1, j + 1) for i in range(6) for j in range(6)])
    rgba = np.tile([0.8, 0.4, 0.0, 1.0], (36, 1))
    rgba[:, 3] = np.linspace(0.15, 0.85, 36)
    for colour in ("#F2F2F2", rgba):
        old = _pixels(lambda ax, c=colour: squares.plot(ax=ax, color=c, linewidth=0))
        new = _pixels(lambda ax, c=colour: draw_polygons(ax, squares, facecolor=c))
        inside = np.s_[20:130, 20:130]  # away from the grid's outer edge
        assert np.abs(old - new)[inside].max() <= 3 + 60 * (old[inside] != new[inside]).mean()
        assert np.median(np.abs(old - new)) == 0


def test_paths_are_the_constructors() -> None:
    """The per-geometry paths made without the constructor (``polygons._paths``) equal
    ``MplPath(vertices[a:b], codes[a:b])`` in everything the drawing reads: vertices, codes,
    simplification (off: a ring ends in CLOSEPOLY, also with 128 vertices and more),
    interpolation, read-only; on a square with a hole, a two-part multipolygon, an empty
    polygon and a 200-vertex disc, and the PNG is the same bytes."""
    from chargeplan.outputs.polygons import _paths

    shapes = [
        Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (1, 2), (2, 2), (2, 1)]]),
        MultiPolygon([box(5, 0, 6, 1), box(7, 0, 8, 1)]),
        Polygon(),
        Point(2, 8).buffer(1.5, quad_segs=50),
    ]
    vertices, codes, starts = polygon_vertices(shapes)
    fast = _paths(vertices, codes, starts)
    made = [MplPath(vertices[a:b], codes[a:b]) for a, b in itertools.pairwise(starts)]
    assert len(fast[3].vertices) > 128
    for one, other in zip(fast, made, strict=True):
        np.testing.assert_array_equal(one.vertices, other.vertices)
        np.testing.assert_array_equal(one.codes, other.codes)
        assert one.codes.dtype == other.codes.dtype == MplPath.code_type
        assert (one.should_simplify, one.simplify_threshold) == (
            other.should_simplify,
            other.simplify_threshold,
        )
        assert one._interpolation_steps == other._interpolation_steps
        assert one.readonly == other.readonly

    def png(paths: list[MplPath]) -> bytes:
        from matplotlib.collections import PathCollection

        fig = Figure(figsize=(2, 2))
        ax = fig.add_subplot()
        ax.add_collection(PathCollection(paths, facecolors=np.tile([0.8, 0.4, 0, 1], (4, 1))))
        ax.set_xlim(-1, 9)
        ax.set_ylim(-1, 10)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()

    assert png(fast) == png(made)


def test_zones_in_view_equal_projecting_all() -> None:
    """Shanghai's view, 48 km around the prefecture, in its UTM zone: the same zones, in the
    same order, as projecting all 369 prefectures and cutting by the view."""
    zones = gpd.read_parquet(REPO / "geodata" / "china_prefectures.parquet")
    crs = zones[zones["name"] == "上海市"].estimate_utm_crs()
    minx, miny, maxx, maxy = zones[zones["name"] == "上海市"].to_crs(crs).total_bounds
    view = (minx - 48_000, miny - 48_000, maxx + 48_000, maxy + 48_000)
    want = zones.to_crs(crs).cx[view[0] : view[2], view[1] : view[3]]
    got = zones_in_view(zones, view, crs)
    assert got.index.tolist() == want.index.tolist() and len(got) > 1
    assert got.geometry.geom_equals_exact(want.geometry, tolerance=0).all()


@pytest.mark.parametrize("value", ["=1", "+x", "-x", "@a", "\tx", "\rx"])
def test_every_formula_start_is_neutralised(value: str) -> None:
    assert neutralised(pd.Series([value, "ok"], dtype=object)).tolist() == ["'" + value, "ok"]


# plan.xlsx -----------------------------------------------------------------------------------


def test_xlsx_rows_are_openpyxls_bytes(tmp_path: Path) -> None:
    """The workbook whose rows are written as XML directly is byte for byte the one openpyxl
    writes cell by cell: numbers (NaN and infinities as empty cells, -0.0, 2^53 + 2, integers
    past 1e16), booleans, text with &, <, >, quotes, leading or only spaces, empty text,
    formula-like and HTML text, text past Excel's 32,767 characters, missing values, a mixed
    column, a row with no values, and a second sheet."""
    frame = crafted()
    frame["long"] = ["x" * 40_000] + ["a & b <c> 'd'"] * (len(frame) - 1)
    empty_row = pd.DataFrame({"a": [1.0, np.nan], "b": ["x", None]})
    tables = {"crafted": frame, "second": empty_row}
    write_xlsx(tables, tmp_path / "fast.xlsx")
    write_xlsx(tables, tmp_path / "openpyxl.xlsx", fast=False)
    assert (tmp_path / "fast.xlsx").read_bytes() == (tmp_path / "openpyxl.xlsx").read_bytes()


def test_xlsx_text_xml_cannot_hold_is_refused_as_by_openpyxl(tmp_path: Path) -> None:
    """A control character (BEL) in a text cell: openpyxl's IllegalCharacterError, no file."""
    from openpyxl.utils.exceptions import IllegalCharacterError

    frame = pd.DataFrame({"a": [1.0], "b": ["bell\x07"]})
    with pytest.raises(IllegalCharacterError):
        write_xlsx({"t": frame}, tmp_path / "t.xlsx")
    assert list(tmp_path.iterdir()) == []
