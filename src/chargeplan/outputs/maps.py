"""Static maps of a plan, drawn from the zones themselves (no internet tiles).

Figures are built with :class:`matplotlib.figure.Figure` directly, not through pyplot, so they
need no GUI backend, leave no open figures behind in long batch runs, and still show inline
when a notebook displays the returned figure.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from chargeplan.config.defaults import DEFAULT_CRS
from chargeplan.outputs import fonts, formatting, map_furniture
from chargeplan.outputs.names import latin
from chargeplan.outputs.polygons import draw_polygons
from chargeplan.results.plan import Plan

#: Colours of the gap reasons (colour-blind safe, Okabe-Ito). "not built" is the bluish green,
#: not the sky blue: it must not read as the blue of the built sites.
GAP_COLOURS = {
    "unreachable": "#D55E00",
    "capacity_limited": "#E69F00",
    "budget_limited": "#CC79A7",
    "not_built": "#009E73",
}
SITE_COLOUR = "#0072B2"
PROPOSED_COLOUR = "#000000"


#: Above this many zones, zones are drawn without outlines.
MAX_OUTLINED_ZONES = 5_000

#: Built sites labelled by name on the static map (the largest by chargers).
LABELLED_SITES = 8


def _nice(value: float) -> int:
    """The largest 1, 2 or 5 times a power of ten not above ``value`` (at least 1)."""
    if value < 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return int(max(step * power for step in (1, 2, 5) if step * power <= value))


#: Ink of the built sites' discs, points^2: at most about 13 % of an 11 x 8 inch map's axes. A
#: city-level plan (a few hundred hubs) stays below it and keeps its discs; a plan of thousands
#: of stations gets dots, so the gaps between them still show.
SITE_INK = 60_000.0

#: The smallest disc, points^2 (about 1 point across: a dot at 150 dpi).
MIN_SITE_AREA = 1.0


def _marker_area(chargers: np.ndarray | float, largest: float) -> np.ndarray:
    """Marker area (points^2): 8 for an empty site, 408 for the largest; area ~ sqrt(chargers)."""
    return 8 + 400 * np.sqrt(np.asarray(chargers, dtype=float) / max(largest, 1.0))


def site_marker_areas(chargers: np.ndarray, ink: float = SITE_INK) -> tuple[np.ndarray, float]:
    """The built sites' disc areas (points^2) and the factor they were scaled by.

    :func:`_marker_area` of each site, all scaled by one factor so that their sum is at most
    ``ink`` (never enlarged), each at least :data:`MIN_SITE_AREA`: with 18,708 national stations
    the unscaled discs (110 km across on a map of China) painted the east of the country over.

    Parameters
    ----------
    chargers
        ``(S,)`` chargers of each built site.
    ink
        The most the discs may cover together, points^2.

    Returns
    -------
    tuple
        ``(S,)`` areas and the scale factor (1 when nothing was scaled).
    """
    chargers = np.asarray(chargers, dtype=float)
    if not chargers.size:
        return np.zeros(0), 1.0
    area = _marker_area(chargers, float(chargers.max()))
    scale = min(1.0, ink / float(area.sum()))
    return np.maximum(area * scale, MIN_SITE_AREA), scale


def plot_plan(
    plan: Plan,
    path: str | Path | None = None,
    *,
    proposed_sites: gpd.GeoDataFrame | None = None,
    crs: str = DEFAULT_CRS,
    title: str | None = None,
    dpi: int = 150,
    label_column: str | None = "name",
) -> Figure:
    """Draw zones (base), gaps shaded by reason, built sites sized by chargers, new sites.

    A gap zone's colour says why its demand is unmet, its strength how much of it: from pale
    (nearly all served) to strong (none served). The :data:`LABELLED_SITES` largest built
    sites are labelled by name; a scale bar and a north arrow are drawn. A national plan of
    China is drawn on the standard map (:mod:`chargeplan.outputs.map_furniture`): the
    provinces under the zones, Taiwan hatched as "no data", the South China Sea islands in an
    inset (a second axes).

    Parameters
    ----------
    plan
        The plan to draw.
    path
        Write a PNG here if given.
    proposed_sites
        Proposed new candidate sites (:func:`chargeplan.results.gaps.propose_sites`), drawn as
        diamonds.
    crs
        Map projection (equal-area Albers for China by default).
    title
        Figure title (default: from the summary).
    dpi
        Resolution of the PNG.
    label_column
        Column of the site names for the labels (Latin script by default; a Chinese name is
        drawn with the CJK font, :func:`chargeplan.outputs.fonts.figure_family`); the site id
        where missing.

    Returns
    -------
    matplotlib.figure.Figure
    """
    zones = plan.zones.to_crs(crs)
    sites = plan.sites[plan.sites["open"].to_numpy(bool)].to_crs(crs)
    national = map_furniture.is_national(plan.zones)  # lon, lat as given: no reprojection
    fig = Figure(figsize=(11, _height(zones)), layout="constrained")
    ax = fig.subplots()
    handles: list[Patch | Line2D] = []
    if national:
        handles += map_furniture.draw_standard_map(ax, crs)
    # thousands of fine cells: outlines would paint the map grey, so draw fills only
    edge = 0.3 if len(zones) <= MAX_OUTLINED_ZONES else 0.0
    draw_polygons(ax, zones.geometry, facecolor="#F2F2F2", edgecolor="#BBBBBB", linewidth=edge)
    handles = _draw_gaps(ax, zones, edge) + handles
    if len(sites):
        handles += _draw_sites(ax, sites)
        # a station layer's sites carry their city's name: at most one name per two sites
        if (
            label_column
            and label_column in sites
            and 2 * sites[label_column].nunique() <= len(sites)
        ):
            label_cities(ax, sites, label_column, LABELLED_SITES)
        else:
            label_sites(ax, sites, label_column, LABELLED_SITES)
    if proposed_sites is not None and len(proposed_sites):
        handles += _draw_proposed_sites(ax, proposed_sites.to_crs(crs))
    ax.set_aspect("equal")
    map_furniture.draw_scale_bar(ax)
    map_furniture.draw_north_arrow(ax, crs)
    if national:
        map_furniture.draw_south_china_sea_inset(ax)
    fig.suptitle(title if title is not None else _title(plan), fontsize=11)
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(3, max(len(handles), 1)),
        fontsize=8,
        frameon=False,
        title="gaps: the stronger the shade, the more demand unmet",
        title_fontsize=8,
    )
    ax.set_axis_off()
    if path is not None:
        fig.savefig(path, dpi=dpi, format="png")
    return fig


def _height(zones: gpd.GeoDataFrame) -> float:
    """Figure height, inches: as tall as the region's shape asks, within limits, plus room for
    title and legend."""
    minx, miny, maxx, maxy = zones.total_bounds
    return float(np.clip(9.5 * (maxy - miny) / max(maxx - minx, 1e-9), 3.0, 8.0)) + 1.6


def _draw_gaps(ax: Axes, zones: gpd.GeoDataFrame, edge: float) -> list[Patch | Line2D]:
    """Shade the gap zones by reason, stronger the more is unmet; one legend entry a reason."""
    handles: list[Patch | Line2D] = []
    for reason, colour in GAP_COLOURS.items():
        part = zones[zones["gap_reason"] == reason]
        if not len(part):
            continue
        # the larger the unmet share, the stronger the shade: a zone 99 % served stays pale
        unmet = 1 - part["share_served"].to_numpy(float) if "share_served" in part else 1.0
        rgba = np.tile(to_rgba(colour), (len(part), 1))
        rgba[:, 3] = np.clip(0.15 + 0.7 * unmet, 0.15, 0.85)
        draw_polygons(ax, part.geometry, facecolor=rgba, edgecolor="#888888", linewidth=edge)
        users = part["unserved_users"].sum() if "unserved_users" in part else math.nan
        handles.append(
            Patch(
                color=colour,
                alpha=0.75,
                label=f"{reason.replace('_', ' ')}: {len(part)} zone{'s' * (len(part) != 1)}, "
                f"{formatting.count(users)} users unserved",
            )
        )
    return handles


def _draw_sites(ax: Axes, sites: gpd.GeoDataFrame) -> list[Patch | Line2D]:
    """Built sites as discs sized by chargers; legend discs for the median and largest site."""
    chargers = sites["chargers"].to_numpy(float)
    largest = float(chargers.max())
    area, scale = site_marker_areas(chargers)
    ax.scatter(
        sites.geometry.x,
        sites.geometry.y,
        s=area,
        color=SITE_COLOUR,
        alpha=0.6,
        edgecolor="white",
        linewidth=0.5 if scale == 1.0 else 0.0,  # a white rim would hide a dot
        zorder=3,
    )
    crowded = " (dots: many sites)" if scale < 1.0 else ""
    return [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color=SITE_COLOUR,
            alpha=0.6,
            # a legend dot no smaller than 3 points, so it can be seen
            markersize=max(math.sqrt(max(float(_marker_area(ref, largest)) * scale, 1.0)), 3.0),
            label=f"built site, {ref:,} chargers{crowded}",
        )
        for ref in sorted({_nice(float(np.quantile(chargers, q))) for q in (0.5, 1.0)})
    ]


def _draw_proposed_sites(ax: Axes, new: gpd.GeoDataFrame) -> list[Patch | Line2D]:
    """Proposed new candidate sites as open diamonds, smaller when there are many."""
    # many proposals (fine cells) get smaller diamonds, so they do not hide the map
    area = 40.0 * min(1.0, math.sqrt(200 / len(new)))
    ax.scatter(
        new.geometry.x,
        new.geometry.y,
        s=max(area, 3.0),
        marker="D",
        facecolor="none",
        edgecolor=PROPOSED_COLOUR,
        linewidth=1.0 if area >= 20 else 0.4,
        zorder=4,
    )
    label = (
        f"proposed new site: {len(new)}, for "
        f"{formatting.count(new['unserved_users'].sum())} users out of reach"
    )
    return [
        Line2D(
            [],
            [],
            marker="D",
            linestyle="",
            markerfacecolor="none",
            markeredgecolor=PROPOSED_COLOUR,
            label=label,
        )
    ]


def label_cities(ax: Axes, sites: gpd.GeoDataFrame, column: str, count: int) -> None:
    """Label the ``count`` names with the most chargers over their built sites, each at the
    chargers-weighted centre of its sites: a station layer's sites carry their city's name, and
    its largest stations (all of the largest design) were an arbitrary few. Names in Latin
    script (:func:`chargeplan.outputs.names.latin`), as the map's legend."""
    chargers = sites["chargers"].to_numpy(float)
    weight = np.maximum(chargers, 1e-9)
    frame = pd.DataFrame(
        {
            "name": sites[column].astype(str).to_numpy(),
            "chargers": chargers,
            "wx": sites.geometry.x.to_numpy() * weight,
            "wy": sites.geometry.y.to_numpy() * weight,
            "w": weight,
        }
    )
    cities = frame.groupby("name", sort=False).sum()
    top = cities.sort_values("chargers", ascending=False, kind="stable").head(count)
    for name, row in top.iterrows():  # at most ``count`` labels
        _annotate(ax, latin(str(name)), row["wx"] / row["w"], row["wy"] / row["w"])


def _annotate(ax: Axes, name: str, x: float, y: float) -> None:
    """A map label beside the point (x, y), in the CJK font where the name needs it."""
    ax.annotate(
        name,
        (x, y),
        xytext=(6, 4),
        textcoords="offset points",
        fontsize=7,
        fontfamily=fonts.figure_family(name),  # Chinese names: the CJK font
        color="#1A1A1A",
        zorder=5,
        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.7, "lw": 0},
    )


def label_sites(ax: Axes, sites: gpd.GeoDataFrame, column: str | None, count: int) -> None:
    """Label the ``count`` built sites with the most chargers by name, beside their discs."""
    largest = sites.sort_values("chargers", ascending=False, kind="stable").head(count)
    names = (
        largest[column].astype(str)
        if column and column in largest
        else largest.index.astype(str).to_series(index=largest.index)
    )
    for x, y, name in zip(largest.geometry.x, largest.geometry.y, names, strict=True):
        _annotate(ax, name, x, y)


def _title(plan: Plan) -> str:
    s = plan.summary
    users = s.get("premium_users")
    head = f"{s.get('scenario', 'plan')}: " + (
        f"{formatting.count(users)} premium users, " if users else ""
    )
    return head + (
        f"{s['sites_opened']:,} site{'s' * (s['sites_opened'] != 1)}, {s['chargers']:,} chargers, "
        f"capex {formatting.cny(s['capex_cny'])}, {formatting.share(s['coverage'])} of peak "
        "demand served"
    )
