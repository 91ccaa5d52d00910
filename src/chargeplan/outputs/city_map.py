"""A zoomed map of one city: its stations and the reach standard drawn around them.

The city (a zone, found by name or id) is drawn with its neighbours within the service radius,
in the city's own UTM zone (true distances), with each built station's disc sized by chargers
and a dashed circle of the service radius around it: the reach standard a zone's demand centre
must lie within to be served by that station. Demand centres show where each zone's users are
counted; a zone's shade says why its demand is unmet (the colours of the national map).

A city of a station layer is many small cells: ``view_km`` widens the view to the city around
its cell, and above :data:`MAX_REACH_CIRCLES` stations in view the reach standard is drawn as
the area within the radius of any station (one outline) instead of a circle each.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch

from chargeplan.errors import InputError
from chargeplan.outputs import formatting, map_furniture
from chargeplan.outputs.cities import city_table
from chargeplan.outputs.maps import SITE_COLOUR, _draw_gaps, label_sites, site_marker_areas
from chargeplan.outputs.names import latin
from chargeplan.results.plan import Plan

#: Above this many stations in view, the reach standard is drawn as one area, not circles.
MAX_REACH_CIRCLES = 40


def find_zone(zones: gpd.GeoDataFrame, city: str, name_column: str | None) -> object:
    """The index label of the zone ``city`` names: its id, its name, or its name's Latin form.

    Raises
    ------
    InputError
        No zone is called so; the message lists a few names to choose from.
    """
    if city in zones.index.astype(str):
        return zones.index[zones.index.astype(str) == city][0]
    if name_column and name_column in zones:
        names = zones[name_column].astype(str)
        for candidates in (names, names.map(latin)):
            hit = candidates.str.casefold() == city.casefold()
            if hit.any():
                return zones.index[hit.to_numpy()][0]
    examples = ", ".join(zones[name_column].astype(str).head(5)) if name_column else ""
    raise InputError(
        f"city map: no zone is called {city!r} (by id, name or its Latin form); "
        f"give one of the zones' ids or names, e.g. {examples}"
    )


def plot_city(
    plan: Plan,
    city: str,
    path: str | Path | None = None,
    *,
    radius_km: float = 80.0,
    name_column: str | None = "name",
    site_name_column: str | None = "name",
    dpi: int = 150,
    view_km: float = 0.0,
) -> Figure:
    """Draw the zone ``city``, its neighbours, built stations and their reach circles.

    Parameters
    ----------
    plan
        The plan.
    city
        The city's zone: id, name (``上海市``) or the name's Latin form (``Shanghai``).
    path
        Write a PNG here if given.
    radius_km
        The reach standard (the scenario's ``reach.service_radius_km``): the circle drawn around
        each station and the margin shown around the city.
    name_column, site_name_column
        Columns of the zone and site names.
    dpi
        Resolution of the PNG.
    view_km
        The least half-width of the view around the zone's centre, km (0: the zone and the
        margin alone; a cell of 0.74 km2 then shows a few streets).

    Returns
    -------
    matplotlib.figure.Figure
    """
    label = find_zone(plan.zones, city, name_column)
    crs = plan.zones.loc[[label]].estimate_utm_crs()
    focus = plan.zones.loc[[label]].to_crs(crs)
    minx, miny, maxx, maxy = focus.total_bounds
    margin = 0.6 * radius_km * 1000
    box = (minx - margin, miny - margin, maxx + margin, maxy + margin)
    cx, cy, half = (minx + maxx) / 2, (miny + maxy) / 2, view_km * 1000
    box = (
        min(box[0], cx - half),
        min(box[1], cy - half),
        max(box[2], cx + half),
        max(box[3], cy + half),
    )
    near = zones_in_view(plan.zones, box, crs)
    sites = plan.sites[plan.sites["open"].to_numpy(bool)].to_crs(crs)
    sites = sites.cx[box[0] : box[2], box[1] : box[3]]
    fig = Figure(figsize=(7.5, 7.2), layout="constrained")
    ax = fig.subplots()
    near.plot(ax=ax, color="#F2F2F2", edgecolor="#BBBBBB", linewidth=0.5, zorder=1)
    handles = _draw_gaps(ax, near, 0.5)
    focus.boundary.plot(ax=ax, color="#1A1A1A", linewidth=1.6, zorder=4)
    handles += _draw_reach(ax, sites, radius_km)
    _draw_centres(ax, near)
    handles.append(
        Line2D([], [], marker=".", linestyle="", color="#333333", label="zone demand centre")
    )
    ax.set_xlim(box[0], box[2])
    ax.set_ylim(box[1], box[3])
    ax.set_aspect("equal")
    ax.set_axis_off()
    map_furniture.draw_scale_bar(ax, fraction=0.25)
    map_furniture.draw_north_arrow(ax, crs.to_string(), right=True)
    name = str(focus[name_column].iloc[0]) if name_column in focus else str(label)
    served = _city_served(plan.zones, focus, name_column, name)
    fig.suptitle(
        f"{latin(name)}: {len(sites)} station{'s' * (len(sites) != 1)} in view, "
        f"{formatting.share(served)} of the city's peak demand served",
        fontsize=10,
    )
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=7, frameon=False)
    if site_name_column and site_name_column in sites:
        # a station layer's sites carry their city's name: label only names that tell apart
        names = sites[site_name_column].astype(str)
        own = names.map(names.value_counts()) == 1
        label_sites(ax, sites[own.to_numpy() & (names != name).to_numpy()], site_name_column, 6)
    if path is not None:
        fig.savefig(path, dpi=dpi, format="png")
    return fig


def zones_in_view(
    zones: gpd.GeoDataFrame, box: tuple[float, float, float, float], crs: object
) -> gpd.GeoDataFrame:
    """The zones that meet ``box`` (in ``crs``), projected to ``crs``: ``zones.to_crs(crs).cx``
    over the box, with only the zones near it projected.

    The box's outline, densified, is carried into the zones' own CRS; its bounds there, widened
    by :data:`VIEW_MARGIN_DEG` degrees (or metres), hold every zone that meets the box (a point
    of the box maps inside the image of its outline), so projecting those zones alone and
    cutting them by the box gives the same zones.
    """
    import shapely

    outline = gpd.GeoSeries(
        [shapely.segmentize(shapely.box(*box), (box[2] - box[0]) / 64)], crs=crs
    )
    minx, miny, maxx, maxy = outline.to_crs(zones.crs).total_bounds
    pad = VIEW_MARGIN_DEG if zones.crs is not None and zones.crs.is_geographic else 1_000.0
    candidates = zones.cx[minx - pad : maxx + pad, miny - pad : maxy + pad]
    return candidates.to_crs(crs).cx[box[0] : box[2], box[1] : box[3]]


#: Margin of the zones looked at around a city map's view, in degrees (the view's outline is
#: densified to 64 points a side, far closer than this to the true curve).
VIEW_MARGIN_DEG = 0.05


def _draw_reach(ax: Axes, sites: gpd.GeoDataFrame, radius_km: float) -> list[Patch | Line2D]:
    """Built stations as discs sized by chargers, each with its dashed reach circle (above
    :data:`MAX_REACH_CIRCLES` stations: the outline of the area within the radius of any)."""
    if sites.empty:
        return []
    chargers = sites["chargers"].to_numpy(float)
    many = len(sites) > MAX_REACH_CIRCLES
    if many:  # one area: the points within the radius of some station
        reach = sites.geometry.buffer(radius_km * 1000, 32).union_all()
        gpd.GeoSeries([reach], crs=sites.crs).boundary.plot(
            ax=ax, color=SITE_COLOUR, linestyle="--", linewidth=0.9, zorder=2
        )
    else:
        for x, y in zip(sites.geometry.x, sites.geometry.y, strict=True):  # stations in view
            ax.add_patch(
                Circle(
                    (x, y),
                    radius_km * 1000,
                    facecolor="none",
                    edgecolor=SITE_COLOUR,
                    linestyle="--",
                    linewidth=0.9,
                    zorder=2,
                )
            )
    ax.scatter(
        sites.geometry.x,
        sites.geometry.y,
        s=site_marker_areas(chargers)[0],
        color=SITE_COLOUR,
        alpha=0.75,
        edgecolor="white",
        linewidth=0.6,
        zorder=5,
    )
    return [
        Line2D([], [], marker="o", linestyle="", color=SITE_COLOUR, label="built station"),
        Line2D(
            [],
            [],
            linestyle="--",
            color=SITE_COLOUR,
            label=f"reach standard: {radius_km:g} km around a station"
            + (" (the edge of the area within it)" if many else ""),
        ),
    ]


def _draw_centres(ax: Axes, zones: gpd.GeoDataFrame) -> None:
    """Zone demand centres (``centre_lon``/``centre_lat``), else the zones' inner points."""
    if {"centre_lon", "centre_lat"} <= set(zones.columns):
        points = gpd.GeoSeries(
            gpd.points_from_xy(zones["centre_lon"], zones["centre_lat"]), crs="EPSG:4326"
        ).to_crs(zones.crs)
    else:
        points = zones.representative_point()
    ax.scatter(points.x, points.y, s=6, color="#333333", zorder=3)


def _city_served(
    zones: gpd.GeoDataFrame, focus: gpd.GeoDataFrame, name_column: str | None, name: str
) -> float:
    """The served share of the peak demand of the city: every zone of its name
    (:func:`chargeplan.outputs.cities.city_table`; a station layer's city is many cells), else
    the zone's own ``share_served``."""
    if {"premium_users", "share_served", "gap_reason"} <= set(zones.columns):
        cities = city_table(zones, name_column)
        if name in cities.index:
            return float(cities.loc[name, "served_share"])
    return float(focus["share_served"].iloc[0]) if "share_served" in focus else np.nan
