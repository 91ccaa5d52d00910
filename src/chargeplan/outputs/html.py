"""``report.html``: the plan as a document a planner hands to management.

The page opens with a dated executive summary (what was planned, for how many users, what it
costs, who stays out of reach and why) and what a station, a zone and a region are; then the
map and zoomed maps of the largest cities, capex and stations by province, coverage by city,
the business case (with ``[economics]``: NPV with and without state support, payback, the cities
with the highest NPV; :mod:`chargeplan.outputs.report_economics`), the gaps with their reasons,
the largest stations, and in appendices the assumptions (grouped, with units and sources) and
the solver's outcome. It is a single file with no script and nothing to fetch: styles are
inline, pictures are PNG data URIs, charts are plain HTML, and the Chinese characters it uses
are embedded as a font subset (:mod:`chargeplan.outputs.fonts`), so any browser shows them;
every Chinese name has its Latin transliteration beside it. It prints on A4.

The figures are formatted in :mod:`chargeplan.outputs.report_tables`,
:mod:`~chargeplan.outputs.report_summary` and :mod:`~chargeplan.outputs.report_appendix`; the
page is the Jinja2 template ``outputs/templates/report.html.j2``, which escapes every value, so
names read from input files show as text.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from markupsafe import Markup
from matplotlib.figure import Figure

from chargeplan._version import __version__
from chargeplan.outputs import (
    fonts,
    formatting,
    pages,
    report_appendix,
    report_economics,
    report_summary,
)
from chargeplan.outputs import report_tables as content
from chargeplan.outputs.cities import city_names
from chargeplan.outputs.maps import GAP_COLOURS, plot_plan
from chargeplan.results.gaps import GapAnalysis, GapSettings, analyse_gaps
from chargeplan.results.plan import Plan

if TYPE_CHECKING:
    from chargeplan.config.scenario import Scenario


def _png(fig: Figure, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _cost_chart(plan: Plan) -> Figure:
    """Cost parts (bars) and how chargers spread over built sites (histogram)."""
    s = plan.summary
    types = content.charger_types(plan)
    built = plan.sites[plan.sites["open"].to_numpy(bool)]
    parts = {"site fixed costs": s.get("fixed_cost_cny", 0.0)}
    for t in types:
        charger_cost = (
            (built[f"chargers_{t}"] * built[f"capex_cny_{t}"]).sum()
            if (f"capex_cny_{t}" in built)
            else np.nan
        )
        parts[f"{t.replace('_', ' ')} chargers"] = charger_cost
    parts["access (detours)"] = s.get("access_cost_cny", 0.0)
    parts["unmet-demand penalty"] = s.get("unmet_penalty_cny", 0.0)
    labels = [k for k, v in parts.items() if np.isfinite(v)]
    values = np.array([parts[k] for k in labels], dtype=float)
    divisor, unit = formatting.money_scale(float(np.nanmax(values)) if len(values) else 0.0)
    values = values / divisor
    fig = Figure(figsize=(10.5, 3.4), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1.1, 1])
    colours = ["#0072B2"] * (len(labels) - 2) + ["#999999", "#D55E00"]
    bars = left.barh(labels[::-1], values[::-1], color=colours[::-1])
    left.bar_label(bars, labels=[f"{v:,.2f}" for v in values[::-1]], padding=3, fontsize=8)
    left.set_xlabel(f"{unit} (capex in blue; the penalty is a modelling price, not spent)")
    left.set_title("What the plan costs", fontsize=10)
    left.margins(x=0.18)
    chargers = built["chargers"].to_numpy(float)
    sizes, counts = np.unique(chargers, return_counts=True)
    if 0 < len(sizes) <= SIZE_BARS:  # station designs: a bar for each size
        bars = right.bar([f"{s:,.0f}" for s in sizes], counts, color="#0072B2")
        right.bar_label(bars, labels=[f"{c:,}" for c in counts], padding=2, fontsize=8)
        right.set_xlabel("chargers at a built site")
    elif len(chargers):
        bins = np.unique(np.geomspace(1, max(chargers.max(), 2), 20).round())
        right.hist(np.maximum(chargers, 1), bins=bins, color="#0072B2", edgecolor="white")
        right.set_xscale("log")
        right.set_xlabel("chargers at a built site (log scale)")
    right.set_ylabel("sites")
    right.set_title(f"Size of the {len(built):,} built sites", fontsize=10)
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=8)
    return fig


#: Built sites of at most this many distinct sizes (a menu of station designs) get a bar per
#: size in the report's chart; more get a histogram on a log scale.
SIZE_BARS = 12


#: Zoomed city maps in the report: the cities with the most premium users.
CITY_MAPS = 2

#: The least half-width of a report's city map, km: a 24 km square, the core of a large city
#: (a prefecture-level zone, larger than that, keeps its own bounds).
CITY_VIEW_KM = 12.0


def largest_cities(zones: pd.DataFrame, name_column: str | None, count: int) -> list[str]:
    """The ids of the zones the report's city maps centre on: of the ``count`` cities (zones
    grouped by ``name_column``) with the most premium users, each city's zone of the densest
    premium users (per unit of its area).

    Counted zone by zone, a station layer's large rural cells (250 km2) outranked every city
    cell (0.74 km2): the national plan's two maps both showed Karamay. A plan of one zone per
    city (prefectures) gets its largest zones, as before. Ties keep the zones' order.

    Parameters
    ----------
    zones
        The plan's zones (``premium_users``, a geometry; ``name_column`` if given).
    name_column
        The city's name; without it every zone is its own city.
    count
        How many cities.

    Returns
    -------
    list of str
        Zone ids, the city with the most users first.
    """
    city = city_names(zones, name_column)
    totals = pd.Series(zones["premium_users"].to_numpy(float)).groupby(city, sort=False).sum()
    top = totals.sort_values(ascending=False, kind="stable").index[:count]
    with warnings.catch_warnings():  # lon/lat areas: enough to rank cells within one city
        warnings.simplefilter("ignore", UserWarning)
        area = zones.geometry.area.to_numpy(float) if "geometry" in zones else np.ones(len(zones))
    density = zones["premium_users"].to_numpy(float) / np.where(area > 0, area, np.inf)
    chosen = []
    for name in top:
        inside = np.flatnonzero(city == name)
        chosen.append(str(zones.index[inside[np.argmax(density[inside])]]))
    return chosen


def _city_maps(
    plan: Plan, cities: Sequence[str] | None, settings: GapSettings
) -> list[tuple[str, str]]:
    """(title, PNG data URI) of each zoomed city map; default: the :data:`CITY_MAPS` zones with
    the most premium users (a national plan only: a city plan is its own zoomed map)."""
    from chargeplan.outputs.city_map import find_zone, plot_city
    from chargeplan.outputs.map_furniture import is_national
    from chargeplan.outputs.names import bilingual

    if cities is None:
        if not is_national(plan.zones) or "premium_users" not in plan.zones:
            return []
        cities = largest_cities(plan.zones, settings.name_column, CITY_MAPS)
    maps = []
    for city in cities:
        label = find_zone(plan.zones, city, settings.name_column)
        name = (
            str(plan.zones.loc[label, settings.name_column])
            if settings.name_column in plan.zones
            else str(label)
        )
        fig = plot_city(
            plan,
            str(label),
            radius_km=settings.radius_km,
            name_column=settings.name_column,
            site_name_column=settings.site_name_column,
            view_km=CITY_VIEW_KM,
        )
        maps.append((bilingual(name), _data_uri(_png(fig, dpi=100))))
    return maps


def render_report(
    plan: Plan,
    *,
    scenario: Scenario | None = None,
    analysis: GapAnalysis | None = None,
    map_png: bytes | None = None,
    files: Mapping[str, Path] | None = None,
    date: dt.date | None = None,
    cities: Sequence[str] | None = None,
) -> str:
    """The report as one HTML string.

    Parameters
    ----------
    plan
        The plan.
    scenario
        Its scenario, for the assumptions and gap settings (optional).
    analysis
        Its gap analysis (default: computed with the scenario's settings).
    map_png
        The static map as PNG bytes (default: drawn with :func:`chargeplan.outputs.maps.plot_plan`).
    files
        Other outputs of the run, linked by relative name (``map.html`` is linked from the map).
    date
        The report's date (default: ``SOURCE_DATE_EPOCH`` if set, else today, UTC).
    cities
        Zones (ids, names or Latin names) to draw zoomed maps of (default: the
        :data:`CITY_MAPS` zones with the most premium users of a national plan).

    Returns
    -------
    str
        A complete, self-contained HTML document.
    """
    settings = GapSettings.from_scenario(scenario) if scenario is not None else GapSettings()
    analysis = analysis or analyse_gaps(plan, settings)
    if map_png is None:
        map_png = _png(plot_plan(plan, proposed_sites=analysis.proposed_sites, crs=settings.crs))
    economics = report_economics.economics_section(plan, scenario)
    values = {
        "name": plan.summary.get("scenario") or (scenario.name if scenario is not None else "plan"),
        "description": scenario.description if scenario is not None else "",
        "summary": report_summary.executive_summary(plan, analysis, date),
        "region_column": settings.region_column or "region",
        "cards": content.summary_cards(plan),
        "map_uri": _data_uri(map_png),
        "city_maps": _city_maps(plan, cities, settings),
        "links_map": bool(files and "map.html" in files),
        "provinces": report_summary.province_bars(analysis),
        "cities": report_summary.city_coverage(plan, settings.name_column, settings.region_column),
        "reasons": content.reason_table(analysis),
        "regions": content.region_bars(analysis),
        "gap_colours": [(r.replace("_", " "), c) for r, c in GAP_COLOURS.items()],
        "top_gaps": content.top_gaps(plan, analysis),
        "radius_km": f"{settings.radius_km:g}",
        "proposals": content.proposals(analysis),
        "top_sites": content.top_sites(plan, settings, analysis.built_regions),
        "cost_chart_uri": _data_uri(_png(_cost_chart(plan))),
        "economics": economics,
        "economics_chart_uri": _data_uri(_png(economics.figure)) if economics else "",
        "appendix": report_appendix.assumptions(scenario),
        "solver": content.solver_outcome(plan),
        "files": sorted(name for name in files or {} if name),
        "top_rows": content.TOP_ROWS,
        "version": __version__,
    }
    page = pages.render("report.html.j2", font_css="", **values)
    # the page's own Chinese characters, embedded as a font: rendered once more with it
    font = fonts.embedded_font(page)
    if font is None:
        return page
    return pages.render("report.html.j2", font_css=Markup(font.css), **values)


def write_report(
    plan: Plan,
    path: str | Path,
    *,
    scenario: Scenario | None = None,
    analysis: GapAnalysis | None = None,
    map_png: bytes | None = None,
    files: Mapping[str, Path] | None = None,
    date: dt.date | None = None,
    cities: Sequence[str] | None = None,
) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8) and return the path."""
    text = render_report(
        plan,
        scenario=scenario,
        analysis=analysis,
        map_png=map_png,
        files=files,
        date=date,
        cities=cities,
    )
    Path(path).write_text(text, encoding="utf-8")
    return Path(path)
