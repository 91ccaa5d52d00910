"""What a printed map needs besides its data: scale bar, north arrow, the standard map of China.

A national map of China is drawn on the standard territory: the provincial units of Apache
ECharts 4.9's China map (``outputs/basemap/china_standard_map.parquet``, Apache-2.0, built by
``geodata/build_standard_map.py``; see ``geodata/SOURCES.md``) under the zones, Taiwan (which
the census data does not cover) hatched as "no data", and the South China Sea islands in an
inset. The scale bar and north arrow are measured in the map's projected CRS.
"""

from __future__ import annotations

import functools
import math
from importlib import resources

import geopandas as gpd
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Patch, Rectangle
from pyproj import Transformer

#: Fill and hatch of areas without data (Taiwan in the census layers).
NO_DATA_FACE = "#E6E6E6"
NO_DATA_EDGE = "#8C8C8C"
NO_DATA_HATCH = "////"

#: Plans whose zones span at least this many degrees of longitude are national maps: they are
#: drawn on the standard map of China with its inset (a city plan is not).
NATIONAL_SPAN_DEG = 20.0


@functools.cache
def standard_map() -> gpd.GeoDataFrame:
    """China's standard map: provincial units (``kind`` province or taiwan) and the inset.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``adcode``, ``name``, ``kind`` (``province``, ``taiwan``,
        ``south_china_sea_inset``), EPSG:4326; the inset's coordinates are schematic.
    """
    source = resources.files("chargeplan.outputs") / "basemap" / "china_standard_map.parquet"
    with resources.as_file(source) as path:
        return gpd.read_parquet(path)


def is_national(zones: gpd.GeoDataFrame) -> bool:
    """Whether ``zones`` make a national map of China (lon span >= :data:`NATIONAL_SPAN_DEG`,
    centre inside the standard map's frame)."""
    lonlat = zones if zones.crs is not None and zones.crs.equals("EPSG:4326") else None
    minx, miny, maxx, maxy = (
        lonlat if lonlat is not None else zones.to_crs("EPSG:4326")
    ).total_bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    return maxx - minx >= NATIONAL_SPAN_DEG and 73 <= cx <= 136 and 18 <= cy <= 54


def draw_standard_map(ax: Axes, crs: str) -> list[Patch]:
    """Draw the provincial units under the zones and Taiwan hatched; frame the mainland.

    Returns
    -------
    list of matplotlib.patches.Patch
        The legend entry of the "no data" areas.
    """
    units = standard_map()
    land = units[units["kind"] != "south_china_sea_inset"].to_crs(crs)
    land.plot(ax=ax, color="#F7F7F7", edgecolor="#C8C8C8", linewidth=0.3, zorder=0)
    no_data = land[land["kind"] == "taiwan"]
    no_data.plot(
        ax=ax,
        facecolor=NO_DATA_FACE,
        edgecolor=NO_DATA_EDGE,
        hatch=NO_DATA_HATCH,
        linewidth=0.4,
        zorder=2,
    )
    minx, miny, maxx, maxy = land.total_bounds
    pad = 0.02 * (maxx - minx)
    # room in the lower right (open sea) for the South China Sea inset
    ax.set_xlim(minx - pad, maxx + 0.08 * (maxx - minx))
    ax.set_ylim(miny - 0.16 * (maxy - miny), maxy + pad)
    return [
        Patch(
            facecolor=NO_DATA_FACE,
            edgecolor=NO_DATA_EDGE,
            hatch=NO_DATA_HATCH,
            label="no data (Taiwan: not in the census layers)",
        )
    ]


def draw_south_china_sea_inset(ax: Axes) -> Axes:
    """The South China Sea islands inset in the lower right corner of ``ax``.

    ECharts' schematic (the dashed line and the coasts, in degrees beside the mainland), drawn
    in a frame of its own: as on China's standard maps, not to the main map's scale.

    Returns
    -------
    matplotlib.axes.Axes
        The inset's axes (a map with it has one more axes than without).
    """
    units = standard_map()
    inset = units[units["kind"] == "south_china_sea_inset"]
    box = ax.inset_axes((0.855, 0.0, 0.145, 0.25))
    inset.plot(ax=box, color="#9E9E9E", edgecolor="#6E6E6E", linewidth=0.4)
    minx, miny, maxx, maxy = inset.total_bounds
    box.set_xlim(minx - 0.15, maxx + 0.15)
    box.set_ylim(miny - 0.5, maxy + 0.1)
    box.set_xticks([])
    box.set_yticks([])
    box.set_xlabel("")
    box.set_ylabel("")
    for spine in box.spines.values():
        spine.set_edgecolor("#555555")
        spine.set_linewidth(0.8)
    box.set_facecolor("white")
    box.text(0.5, 0.03, "South China Sea Islands", transform=box.transAxes, ha="center", fontsize=6)
    return box


def nice_length(value: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``value`` (``value`` > 0)."""
    power = 10 ** math.floor(math.log10(value))
    return float(max(step * power for step in (1, 2, 5) if step * power <= value))


def draw_scale_bar(ax: Axes, *, fraction: float = 0.2) -> float:
    """A scale bar in the lower left: about ``fraction`` of the map's width, a round length.

    The axes' units are metres (a projected CRS); an equal-area projection keeps distances
    true to a few percent across China, which the bar's round length hides anyway.

    Returns
    -------
    float
        The bar's length in km.
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length_m = nice_length(fraction * (x1 - x0))
    left, bottom = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    height = 0.008 * (y1 - y0)
    half = length_m / 2
    for i, colour in enumerate(("#222222", "#FFFFFF")):
        ax.add_patch(
            Rectangle(
                (left + i * half, bottom),
                half,
                height,
                facecolor=colour,
                edgecolor="#222222",
                linewidth=0.6,
                zorder=6,
            )
        )
    km = length_m / 1000
    for x, text in ((left, "0"), (left + length_m, f"{km:,.0f} km")):
        ax.text(x, bottom + 2 * height, text, ha="center", va="bottom", fontsize=7, zorder=6)
    return km


def draw_north_arrow(ax: Axes, crs: str, *, right: bool = False) -> float:
    """A north arrow in the upper left (or right), pointing to true north at that spot.

    Returns
    -------
    float
        The arrow's angle from the map's vertical, degrees (positive: north leans right).
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x, y = x0 + (0.95 if right else 0.05) * (x1 - x0), y1 - 0.14 * (y1 - y0)
    to_map = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
    nx, ny = to_map.transform(lon, min(lat + 0.1, 89.9))
    angle = math.atan2(nx - x, ny - y)
    size = 0.07 * (y1 - y0)
    dx, dy = size * math.sin(angle), size * math.cos(angle)
    ax.annotate(
        "",
        xy=(x + dx, y + dy),
        xytext=(x, y),
        arrowprops={"arrowstyle": "-|>", "color": "#222222", "linewidth": 1.2},
        zorder=6,
    )
    ax.text(
        x + 1.25 * dx,
        y + 1.25 * dy,
        "N",
        ha="center",
        va="bottom",
        fontsize=9,
        fontweight="bold",
        zorder=6,
    )
    return float(np.degrees(angle))
