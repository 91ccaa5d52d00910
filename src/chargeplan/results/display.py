"""A plan in a notebook: its headline figures as a table (``Plan._repr_html_``) and an
interactive map (``Plan.explore``)."""

from __future__ import annotations

from html import escape
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["explore", "headline", "plan_html"]


class Plan(Protocol):
    """What these functions read of a :class:`chargeplan.results.plan.Plan` (named here, not
    imported: ``plan.py`` calls this module)."""

    @property
    def sites(self) -> gpd.GeoDataFrame: ...
    @property
    def zones(self) -> gpd.GeoDataFrame: ...
    @property
    def summary(self) -> dict[str, Any]: ...
    @property
    def years(self) -> pd.DataFrame | None: ...
    def final(self) -> Plan: ...


def headline(plan: Plan) -> list[tuple[str, str]]:
    """The plan's headline figures as ``(label, text)`` rows (what a notebook shows)."""
    s = plan.final().summary
    rows = [("scenario", str(s.get("scenario", ""))), ("status", str(s.get("status", "")))]
    if "gap" in s:
        rows.append(("MIP gap", f"{100 * float(s['gap']):.3f} %"))
    figures = (
        ("sites opened", "sites_opened", "{:,.0f}"),
        ("chargers", "chargers", "{:,.0f}"),
        *(
            (f"  {k.removeprefix('chargers_')}", k, "{:,.0f}")
            for k in s
            if k.startswith("chargers_")
            and not k.startswith("chargers_linear")
            and not k.startswith("chargers_added")
        ),
        ("capex, CNY bn", "capex_cny", "{:,.2f}"),
        ("peak demand served", "coverage", "{:.1%}"),
        ("premium users", "premium_users", "{:,.0f}"),
        ("zones with gaps", "zones_with_gaps", "{:,.0f}"),
    )
    for label, key, form in figures:
        if key in s and s[key] is not None:
            value = float(s[key]) / 1e9 if key == "capex_cny" else float(s[key])
            rows.append((label, form.format(value)))
    return rows


def plan_html(plan: Plan) -> str:
    """The plan as a summary table in a notebook (not its tables: ``plan.sites`` has them)."""
    body = "".join(
        f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
        for k, v in headline(plan)
    )
    years = "" if plan.years is None else f" ({len(plan.years)} years; final year shown)"
    return (
        f"<div><b>chargeplan Plan</b>{escape(years)}<table>{body}</table>"
        "<small>plan.sites, plan.zones, plan.gaps, plan.summary; plan.explore() for a "
        "map</small></div>"
    )


def explore(plan: Plan, **kwargs: Any) -> Any:
    """:meth:`Plan.explore`: an interactive map (folium, through GeoPandas' ``explore``):
    zones shaded by the share of their demand served, open sites sized by their chargers.

    Parameters
    ----------
    **kwargs
        Passed to the zones' ``explore`` (e.g. ``tiles="CartoDB positron"``).

    Returns
    -------
    folium.Map
    """
    final = plan.final()
    zones = final.zones
    shown = [c for c in ("name", "premium_users", "share_served", "gap_reason") if c in zones]
    options: dict[str, Any] = {
        "column": "share_served",
        "cmap": "RdYlGn",
        "vmin": 0.0,
        "vmax": 1.0,
        "tooltip": shown,
        "style_kwds": {"weight": 0.3, "fillOpacity": 0.5},
        "name": "zones",
    }
    m = zones[[*shown, zones.geometry.name]].explore(**{**options, **kwargs})
    built = final.sites[final.sites["open"].astype(bool)]
    if len(built):
        columns = [c for c in ("name", "chargers", "capex_cny") if c in built]
        size = 3 + 12 * np.sqrt(built["chargers"] / max(float(built["chargers"].max()), 1.0))
        points = built[[*columns, built.geometry.name]].assign(radius=size.to_numpy())
        points.explore(
            m=m,
            color="#08306b",
            tooltip=columns,
            marker_kwds={"radius": 4},
            style_kwds={"style_function": _site_style},
            name="open sites",
        )
    import folium

    folium.LayerControl().add_to(m)
    return m


def _site_style(feature: dict[str, Any]) -> dict[str, Any]:
    """A site marker's radius from its ``radius`` property (chargers)."""
    return {"radius": feature["properties"]["radius"]}


def closing_words(s: dict[str, Any], stations: bool) -> str:
    """The run's last line without its files: status and gap, stations or sites, chargers, capex,
    served shares, gaps and the split.

    A plan of station designs counts *stations* and adds the served share of the demand that has
    a candidate within its reach; a status other than ``optimal`` says that the gap is against a
    valid bound (a design start or a work limit), so a planner does not read it as a failure.

    Parameters
    ----------
    s
        The plan's summary (``Plan.summary``).
    stations
        Whether the plan's sites carry station designs (a ``design`` column).

    Returns
    -------
    str
        E.g. ``"iteration_limit, gap 4.375 % against a bound of the full model; 11,526 stations,
        312,060 chargers; ..."``.
    """
    status = s["status"]
    gap = f"gap {100 * s['gap']:.3f} %"
    head = f"optimal, {gap}" if status == "optimal" else f"{status}, {gap} against its bound"
    where = "stations" if stations else "sites"
    served = f"{100 * s['coverage']:.1f} % of peak demand served"
    if stations and "served_share_reachable" in s:
        served += f" ({100 * s['served_share_reachable']:.1f} % of the demand in reach)"
    split = (
        f"; {s['decompose_regions']:,} regions solved apart ({s['decompose_by']})"
        if "decompose_regions" in s
        else ""
    )
    return (
        f"{head}; {s['sites_opened']:,} {where}, {s['chargers']:,} chargers; capex CNY "
        f"{s['capex_cny'] / 1e9:,.2f} bn; {served}; {s['zones_with_gaps']:,} zones with gaps"
        f"{split}"
    )
