"""Build the outline of China's standard map from Apache ECharts 4.9's ``map/json/china.json``.

Run from the repository root, with the npm package unpacked somewhere::

    npm pack echarts@4.9.0 && tar xzf echarts-4.9.0.tgz package/map/json/china.json
    python geodata/build_standard_map.py --source package/map/json/china.json

Writes ``src/chargeplan/outputs/basemap/china_standard_map.parquet`` (package data, so an
installed chargeplan draws it) (GeoParquet, EPSG:4326): the 34 provincial units
of ECharts' China map (the 31 mainland provinces, Hong Kong, Macao and Taiwan) and the South
China Sea islands inset (``南海诸岛``), one row each, with ``adcode`` (6-digit admin code as
text; empty for the inset), ``name`` (Chinese) and ``kind``: ``province``, ``taiwan`` or
``south_china_sea_inset``. The inset is ECharts' schematic (see :data:`NANHAI_FRAME`): its
coordinates place it beside the mainland, as ECharts draws it, and are not geographic. The
static map (``chargeplan.outputs.maps``) draws the units under the zones, so the territory
shown is the standard one, marks the units the census data does not cover (Taiwan) as "no
data", and draws the inset in a frame of its own.

ECharts stores the coordinates compressed (``"UTF8Encoding": true``): each ring is a string of
characters, two per vertex; a character's code minus 64 is a zig-zag encoded delta (``(v >> 1)
^ -(v & 1)``) from the previous vertex, starting at the ring's ``encodeOffsets``, in units of
1/``UTF8Scale`` degree (1024 by default). This is ECharts' own ``decodePolygon``
(``src/coord/geo/parseGeoJson.js``), written out in Python.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.ops import unary_union
from shapely.validation import make_valid

OUT = (
    Path(__file__).resolve().parents[1]
    / "src/chargeplan/outputs/basemap/china_standard_map.parquet"
)


def decode_ring(text: str, offset: list[int], scale: float) -> list[tuple[float, float]]:
    """The vertices (lon, lat) of one ECharts-encoded ring."""
    x_prev, y_prev = offset
    ring = []
    for i in range(0, len(text), 2):
        x = ord(text[i]) - 64
        y = ord(text[i + 1]) - 64
        x = (x >> 1) ^ -(x & 1)
        y = (y >> 1) ^ -(y & 1)
        x_prev, y_prev = x + x_prev, y + y_prev
        ring.append((x_prev / scale, y_prev / scale))
    return ring


def decode_geometry(geometry: dict, scale: float) -> Polygon | MultiPolygon:
    """A feature's geometry with its rings decoded (Polygon or MultiPolygon)."""
    offsets = geometry["encodeOffsets"]
    if geometry["type"] == "Polygon":
        rings = [
            decode_ring(r, o, scale) for r, o in zip(geometry["coordinates"], offsets, strict=True)
        ]
        coordinates: list = rings
    else:
        coordinates = [
            [decode_ring(r, o, scale) for r, o in zip(polygon, polygon_offsets, strict=True)]
            for polygon, polygon_offsets in zip(geometry["coordinates"], offsets, strict=True)
        ]
    valid = make_valid(shape({"type": geometry["type"], "coordinates": coordinates}))
    if isinstance(valid, Polygon | MultiPolygon):
        return valid
    # make_valid may return a collection with slivers as lines: keep the polygons
    parts = [g for g in getattr(valid, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    return unary_union(parts)


#: The South China Sea islands inset as ECharts 4.9 draws it (``src/coord/geo/fix/nanhai.js``):
#: the dashed line's ten dashes, the coasts at the bottom of the frame and the frame itself, in
#: the frame's units (x right, y down), placed by ECharts at 126 E, 25 N at 1/10.5 degree per unit
#: (y squeezed by 0.75). A schematic, as on China's standard maps: not to geographic scale.
NANHAI_FRAME = [
    [
        [0, 3.5],
        [7, 11.2],
        [15, 11.9],
        [30, 7],
        [42, 0.7],
        [52, 0.7],
        [56, 7.7],
        [59, 0.7],
        [64, 0.7],
        [64, 0],
        [5, 0],
        [0, 3.5],
    ],
    [[13, 16.1], [19, 14.7], [16, 21.7], [11, 23.1], [13, 16.1]],
    [[12, 32.2], [14, 38.5], [15, 38.5], [13, 32.2], [12, 32.2]],
    [[16, 47.6], [12, 53.2], [13, 53.2], [18, 47.6], [16, 47.6]],
    [[6, 64.4], [8, 70], [9, 70], [8, 64.4], [6, 64.4]],
    [[23, 82.6], [29, 79.8], [30, 79.8], [25, 82.6], [23, 82.6]],
    [[37, 70.7], [43, 62.3], [44, 62.3], [39, 70.7], [37, 70.7]],
    [[48, 51.1], [51, 45.5], [53, 45.5], [50, 51.1], [48, 51.1]],
    [[51, 35], [51, 28.7], [53, 28.7], [53, 35], [51, 35]],
    [[52, 22.4], [55, 17.5], [56, 17.5], [53, 22.4], [52, 22.4]],
    [[58, 12.6], [62, 7], [63, 7], [60, 12.6], [58, 12.6]],
]
NANHAI_ORIGIN = (126.0, 25.0)


def nanhai_inset() -> MultiPolygon:
    """The schematic South China Sea islands inset (dashes and coasts), without its frame."""
    x0, y0 = NANHAI_ORIGIN
    polygons = [
        Polygon([(x0 + x / 10.5, y0 - y * 0.75 / 10.5) for x, y in ring]) for ring in NANHAI_FRAME
    ]
    return MultiPolygon(polygons)


def build(source: Path) -> gpd.GeoDataFrame:
    data = json.loads(source.read_text(encoding="utf-8"))
    scale = float(data.get("UTF8Scale", 1024))
    rows = []
    for feature in data["features"]:
        name = feature["properties"]["name"]
        adcode = str(feature["properties"].get("id") or feature.get("id") or "")
        kind = "province"
        if name == "台湾":
            kind = "taiwan"
        rows.append(
            {
                "adcode": adcode,
                "name": name,
                "kind": kind,
                "geometry": decode_geometry(feature["geometry"], scale),
            }
        )
    rows.append(
        {
            "adcode": "",
            "name": "南海诸岛",
            "kind": "south_china_sea_inset",
            "geometry": nanhai_inset(),
        }
    )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="ECharts 4.x china.json")
    args = parser.parse_args()
    frame = build(args.source)
    frame.to_parquet(OUT, index=False)
    print(f"{OUT.name}: {len(frame)} features, {frame['kind'].value_counts().to_dict()}")


if __name__ == "__main__":
    main()
