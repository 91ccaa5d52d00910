"""An interactive map of a plan (``map.html``): zones, gaps, built and proposed sites.

Built with folium (Leaflet). Four layers, each switchable, each feature with a popup of its
figures: *zones* shaded by their premium users, *coverage gaps* shaded by reason, *built
sites* sized by chargers, and *proposed new sites* for the zones out of reach. Zone outlines
are simplified as a coverage (shared borders stay shared) to keep the file small. Names from
the input files are HTML-escaped before folium writes them into popups and tooltips, and the
legend is the template ``outputs/templates/map_legend.html.j2``.

The page works offline: Leaflet 1.9.4 (BSD-2-Clause, ``outputs/vendor/``) is written into it,
script and styles, with its licence notice, instead of folium's links to CDNs (folium's other
libraries, jQuery, Bootstrap and Font Awesome, are not used by this map and left out). The
OpenStreetMap background is an optional layer, off when the page opens: switched on, it needs a
connection; the zones layer is the map without it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Figure

from chargeplan.outputs import formatting, pages
from chargeplan.outputs.map_furniture import NO_DATA_EDGE, NO_DATA_FACE, is_national, standard_map
from chargeplan.outputs.maps import GAP_COLOURS, PROPOSED_COLOUR, SITE_COLOUR
from chargeplan.results.gaps import GapAnalysis, GapSettings, analyse_gaps, zone_distances
from chargeplan.results.plan import Plan

#: Simplification tolerance of zone outlines, in metres of the analysis CRS.
SIMPLIFY_M = 1_500.0

#: Largest number of zones drawn in ``map.html``: beyond it the page grows to hundreds of MB
#: and a browser stalls (283,857 H3 cells gave 310 MB); such plans go to QGIS via plan.gpkg.
MAX_ZONES = 50_000

#: Fill of the zones layer by premium-user quintile: light greys, so the gaps stand out on top
#: and no zone reads as the blue of the built sites.
_USER_CLASSES = ("#F7F7F7", "#E4E4E4", "#CFCFCF", "#B7B7B7", "#9C9C9C")


def _label(frame: pd.DataFrame, column: str | None) -> pd.Series:
    if column and column in frame.columns:
        return frame[column].astype(str)
    return pd.Series(frame.index.astype(str), index=frame.index)


def _rounded(values: pd.Series, digits: int = 0) -> pd.Series:
    """Plain floats for JSON; NaN becomes None so a popup shows it empty."""
    out = values.astype(float).round(digits)
    return out.astype(object).where(np.isfinite(out), None)


def _user_classes(users: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Quintile class (0..4) of each zone's premium users, and the class upper bounds."""
    bounds = np.quantile(users.to_numpy(float), [0.2, 0.4, 0.6, 0.8, 1.0])
    classes = np.searchsorted(bounds, users.to_numpy(float), side="left")
    return np.clip(classes, 0, len(_USER_CLASSES) - 1), bounds


def _simplified(zones: gpd.GeoDataFrame, settings: GapSettings) -> gpd.GeoSeries:
    metric = zones.geometry.to_crs(settings.crs)
    try:
        simple = metric.simplify_coverage(SIMPLIFY_M)
    except Exception:  # not a valid coverage (overlaps): simplify each zone on its own
        simple = metric.simplify(SIMPLIFY_M, preserve_topology=True)
    return simple.to_crs("EPSG:4326").set_precision(1e-5)


def _popup(fields: Mapping[str, str]) -> folium.GeoJsonPopup:
    """A popup of a layer's ``fields`` (property -> label), the labels escaped as the values."""
    labels = [html.escape(label) for label in fields.values()]
    return folium.GeoJsonPopup(fields=list(fields), aliases=labels, localize=True)


def _as_text(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The layer with every text property and feature id HTML-escaped (numbers as they are).

    folium's popups and tooltips write property values into the page as HTML (``innerHTML``):
    a zone named ``<img src=x onerror=...>`` in an input file would run as code. Escaped, it
    shows as the text it is; names without ``<>&'"`` are unchanged. Feature ids (the index)
    only key the styles, but are escaped too, so that the page holds no raw markup at all.
    """

    def escaped(value: object) -> object:
        return html.escape(value) if isinstance(value, str) else value

    def textual(values: pd.Index | pd.Series) -> bool:
        return pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)

    out = layer.copy()
    if textual(out.index):
        out.index = out.index.map(escaped)
    for column in out.columns:
        if column != out.geometry.name and textual(out[column]):
            out[column] = out[column].map(escaped)
    return out


#: Popup fields of the zones layer: property -> label.
ZONE_POPUP = {
    "zone": "zone",
    "region": "region",
    "premium_users": "premium users",
    "demand_kwh": "peak demand, kWh",
    "served_pct": "served, %",
    "unserved_users": "users unserved",
    "gap_reason": "gap",
    "nearest_site": "nearest open site",
    "nearest_open_km": "its distance, km",
}

#: Popup fields of the coverage-gaps layer.
GAP_POPUP = {
    "zone": "zone",
    "region": "region",
    "gap_reason": "reason",
    "unserved_users": "users unserved",
    "unmet_kwh": "unmet peak kWh",
    "served_pct": "served, %",
    "sites_in_reach": "candidate sites in reach",
    "nearest_open_site": "nearest open site",
    "nearest_open_km": "its distance, km",
    "nearest_candidate_km": "nearest candidate site, km",
    "proposed_site": "proposed new site",
}

#: Popup fields of the proposed-sites layer.
PROPOSED_POPUP = {
    "proposed_site": "proposed site",
    "zones": "zones it would reach",
    "zone_names": "which",
    "region": "region",
    "unserved_users": "users out of reach",
    "unmet_kwh": "unmet peak kWh",
    "max_distance_km": "farthest zone, km",
}


def interactive_map(plan: Plan, analysis: GapAnalysis | None = None) -> folium.Map:
    """Build the interactive map of a plan.

    Parameters
    ----------
    plan
        A plan.
    analysis
        Its gap analysis (default: :func:`chargeplan.results.gaps.analyse_gaps` with default
        settings).

    Returns
    -------
    folium.Map
        Save it with ``.save("map.html")`` or show it in a notebook.
    """
    analysis = analysis or analyse_gaps(plan)
    settings = analysis.settings
    zones = zone_distances(plan, settings)
    outlines = _simplified(zones, settings)
    minx, miny, maxx, maxy = outlines.total_bounds
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    # no links to CDNs: Leaflet itself is written into the page (offline), the rest is unused
    fmap.default_js = []
    fmap.default_css = []
    root = cast(Figure, fmap.get_root())  # a folium.Map's root is always a branca Figure
    root.header.add_child(folium.Element(leaflet_inline()), name="leaflet")
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    folium.TileLayer(
        "OpenStreetMap", name="background map (OpenStreetMap, online)", overlay=True, show=False
    ).add_to(fmap)
    if is_national(zones):
        _add_no_data(fmap)
    bounds = _add_zones(fmap, zones, outlines, settings)
    if len(analysis.zones):
        _add_gaps(fmap, analysis.zones, outlines, settings)
    built = plan.sites[plan.sites["open"].to_numpy(bool)]
    if len(built):
        _add_built_sites(fmap, built, settings)
    if len(analysis.proposed_sites):
        _add_proposed_sites(fmap, analysis.proposed_sites)
    folium.LayerControl(collapsed=False).add_to(fmap)
    root.html.add_child(folium.Element(_legend(plan, bounds)))
    return fmap


def leaflet_inline() -> str:
    """Leaflet's script and styles as inline ``<script>`` and ``<style>`` (licence kept)."""
    vendor = resources.files("chargeplan.outputs") / "vendor"
    script = (vendor / "leaflet.js").read_text(encoding="utf-8")
    styles = (vendor / "leaflet.css").read_text(encoding="utf-8")
    notice = (
        "/* Leaflet 1.9.4, BSD-2-Clause, (c) 2010-2023 Volodymyr Agafonkin, (c) 2010-2011 "
        "CloudMade; https://leafletjs.com */"
    )
    return f"<style>\n{notice}\n{styles}\n</style>\n<script>\n{script}\n</script>"


def _add_no_data(fmap: folium.Map) -> None:
    """The standard map's units without data (Taiwan), grey, as a layer that says so."""
    units = standard_map()
    no_data = units[units["kind"] == "taiwan"][["name", "geometry"]].copy()
    no_data["note"] = "no data: not in the census layers of this plan"
    folium.GeoJson(
        no_data,
        name="no data (Taiwan)",
        style_function=lambda f: {
            "fillColor": NO_DATA_FACE,
            "color": NO_DATA_EDGE,
            "weight": 0.8,
            "dashArray": "4 3",
            "fillOpacity": 0.8,
        },
        tooltip=folium.GeoJsonTooltip(fields=["note"], labels=False),
    ).add_to(fmap)


def _add_zones(
    fmap: folium.Map, zones: gpd.GeoDataFrame, outlines: gpd.GeoSeries, settings: GapSettings
) -> np.ndarray:
    """Draw every zone, shaded by its premium-user quintile; return the quintile bounds."""
    user_class, bounds = _user_classes(zones["premium_users"])
    layer = gpd.GeoDataFrame(
        {
            "zone": _label(zones, settings.name_column),
            "region": _label(zones, settings.region_column),
            "premium_users": _rounded(zones["premium_users"]),
            "demand_kwh": _rounded(zones["demand_kwh"], 1),
            "served_pct": _rounded(100 * zones["share_served"], 1),
            "unserved_users": _rounded(zones["unserved_users"]),
            "gap_reason": zones["gap_reason"].replace("", "none"),
            "nearest_open_km": _rounded(zones["nearest_open_site_km"], 1),
            "nearest_site": zones["nearest_open_site"].astype(str),
            "fill": np.asarray(_USER_CLASSES, dtype=object)[user_class],
        },
        geometry=outlines.values,
        crs="EPSG:4326",
    )
    folium.GeoJson(
        _as_text(layer),
        name="zones, by premium users",
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": "#888888",
            "weight": 0.5,
            "fillOpacity": 0.7,
        },
        highlight_function=lambda f: {"weight": 2, "color": "#333333"},
        popup=_popup(ZONE_POPUP),
        tooltip=folium.GeoJsonTooltip(fields=["zone"], labels=False),
    ).add_to(fmap)
    return bounds


def _add_gaps(
    fmap: folium.Map, gaps: gpd.GeoDataFrame, outlines: gpd.GeoSeries, settings: GapSettings
) -> None:
    """Draw the zones with unmet demand, coloured by the reason (:data:`GAP_COLOURS`)."""
    layer = gpd.GeoDataFrame(
        {
            "zone": _label(gaps, settings.name_column),
            "region": _label(gaps, settings.region_column),
            "gap_reason": gaps["gap_reason"],
            "unserved_users": _rounded(gaps["unserved_users"]),
            "unmet_kwh": _rounded(gaps["unmet_kwh"], 1),
            "served_pct": _rounded(100 * gaps["share_served"], 1),
            "sites_in_reach": gaps["sites_in_reach"].astype(int),
            "nearest_open_site": gaps["nearest_open_site"].astype(str),
            "nearest_open_km": _rounded(gaps["nearest_open_site_km"], 1),
            "nearest_candidate_km": _rounded(gaps["nearest_candidate_site_km"], 1),
            "proposed_site": gaps["proposed_site"].astype(str),
        },
        geometry=outlines.reindex(gaps.index).values,
        crs="EPSG:4326",
    )
    folium.GeoJson(
        _as_text(layer),
        name="coverage gaps, by reason",
        style_function=lambda f: {
            "fillColor": GAP_COLOURS.get(f["properties"]["gap_reason"], "#999999"),
            "color": "#555555",
            "weight": 0.8,
            "fillOpacity": 0.75,
        },
        highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
        popup=_popup(GAP_POPUP),
        tooltip=folium.GeoJsonTooltip(fields=["zone", "gap_reason"], labels=False),
    ).add_to(fmap)


def _add_built_sites(fmap: folium.Map, built: gpd.GeoDataFrame, settings: GapSettings) -> None:
    """Draw the built sites as discs, their area growing with the number of chargers."""
    chargers = built["chargers"].to_numpy(float)
    layer = gpd.GeoDataFrame(
        {
            "site": _label(built, settings.site_name_column),
            "site_id": built.index.astype(str),
            "chargers": built["chargers"].astype(int),
            **{
                c: built[c].astype(int)
                for c in built.columns
                if c.startswith("chargers_") and c != "chargers"
            },
            "capex_cny": _rounded(built["capex_cny"]),
            "served_kwh": _rounded(built["served_kwh"], 1),
            "radius": np.round(3 + 22 * np.sqrt(chargers / max(chargers.max(), 1)), 1),
        },
        geometry=built.geometry.to_crs("EPSG:4326").values,
        crs="EPSG:4326",
    )
    type_fields = {c: c.replace("chargers_", "") for c in layer if "chargers_" in c}
    popup = {
        "site": "site",
        "site_id": "id",
        "chargers": "chargers",
        **type_fields,
        "capex_cny": "capex, CNY",
        "served_kwh": "served peak kWh",
    }
    folium.GeoJson(
        _as_text(layer),
        name="built sites, sized by chargers",
        marker=folium.CircleMarker(fill=True),
        style_function=lambda f: {
            "radius": f["properties"]["radius"],
            "color": "#FFFFFF",
            "weight": 1,
            "fillColor": SITE_COLOUR,
            "fillOpacity": 0.65,
        },
        popup=_popup(popup),
        tooltip=folium.GeoJsonTooltip(fields=["site", "chargers"], labels=False),
    ).add_to(fmap)


def _add_proposed_sites(fmap: folium.Map, proposed: gpd.GeoDataFrame) -> None:
    """Draw the proposed new candidate sites as rings."""
    layer = gpd.GeoDataFrame(
        {
            "proposed_site": proposed.index.astype(str),
            "zones": proposed["zones"].astype(int),
            "zone_names": proposed["zone_names"].astype(str),
            "region": proposed["region"].astype(str),
            "unserved_users": _rounded(proposed["unserved_users"]),
            "unmet_kwh": _rounded(proposed["unmet_kwh"], 1),
            "max_distance_km": _rounded(proposed["max_distance_km"], 1),
        },
        geometry=proposed.geometry.to_crs("EPSG:4326").values,
        crs="EPSG:4326",
    )
    folium.GeoJson(
        _as_text(layer),
        name="proposed new sites",
        marker=folium.CircleMarker(fill=True),
        style_function=lambda f: {
            "radius": 6,
            "color": PROPOSED_COLOUR,
            "weight": 2,
            "fillColor": "#FFFFFF",
            "fillOpacity": 0.9,
        },
        popup=_popup(PROPOSED_POPUP),
        tooltip=folium.GeoJsonTooltip(fields=["proposed_site", "zone_names"], labels=False),
    ).add_to(fmap)


def _legend(plan: Plan, bounds: np.ndarray) -> str:
    """A fixed legend box: gap colours, site marker, user classes, headline figures."""
    s = plan.summary
    return pages.render(
        "map_legend.html.j2",
        head=f"{s.get('scenario', 'plan')}: {s.get('sites_opened', 0)} sites, "
        f"{s.get('chargers', 0):,} chargers, {formatting.share(s.get('coverage'))} served",
        gap_colours=[(r.replace("_", " "), c) for r, c in GAP_COLOURS.items()],
        user_colours=_USER_CLASSES,
        most_users=formatting.count(bounds[-1]),
        site_colour=SITE_COLOUR,
        proposed_colour=PROPOSED_COLOUR,
    )


_FOLIUM_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def write_interactive_map(
    plan: Plan, path: str | Path, analysis: GapAnalysis | None = None
) -> Path:
    """Write :func:`interactive_map` to an HTML file.

    folium names every element with a random id; they are renumbered in order of appearance
    so that the same plan gives the same file.
    """
    text = interactive_map(plan, analysis).get_root().render()
    ids: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        return ids.setdefault(match.group(0), f"{len(ids):032x}")

    Path(path).write_text(_FOLIUM_ID.sub(renumber, text), encoding="utf-8")
    return Path(path)
