"""The business case in ``report.html``: the network's NPV with and without state support, its
payback, what support is worth and which stations exist only because of it, the cities with the
highest NPV and a chart (issue 15 item 4).

Every network figure is the plan summary's (``npv_cny``, ``npv_without_support_cny``,
``payback_years``, ...), formatted; the city table is
:func:`chargeplan.outputs.economics.city_economics` (the rows of ``economics_cities.csv``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from chargeplan.config.scenario import Scenario
from chargeplan.outputs import formatting
from chargeplan.outputs.economics import city_economics, station_cashflows
from chargeplan.outputs.names import bilingual, latin
from chargeplan.outputs.report_tables import TOP_ROWS, Table, table
from chargeplan.results.plan import Plan

__all__ = ["EconomicsSection", "economics_section", "energy", "payback", "plot_economics"]

#: Cities in the report's table and chart (highest NPV first).
CITY_ROWS = 12


@dataclass(frozen=True)
class EconomicsSection:
    """The economics section's figures as text, its tables and its chart (a PNG data URI is
    added by :mod:`chargeplan.outputs.html`)."""

    npv: str
    npv_without_support: str
    support_worth: str
    payback: str
    payback_without_support: str
    stations: str
    stations_npv_positive: str
    viable_only_with_support: str
    revenue: str
    energy: str
    lifetime: str
    discount_rate: str
    own_network_share: str
    competitor_share: str
    cities: Table | None
    city_count: str
    supported: Table | None
    figure: Figure


def payback(years: Any) -> str:
    """A payback as a planner reads it: ``0.5 years``; ``not within the lifetime`` if none."""
    if years is None or not math.isfinite(float(years)):
        return "not within the lifetime"
    return f"{float(years):,.1f} years"


def energy(kwh: Any) -> str:
    """A year's energy: ``28.05 TWh`` from a billion kWh up, else as
    :func:`chargeplan.outputs.formatting.kwh` (``609.49 GWh``)."""
    if kwh is not None and math.isfinite(float(kwh)) and abs(float(kwh)) >= 1e9:
        return f"{float(kwh) / 1e9:,.2f} TWh"
    return formatting.kwh(kwh)


def economics_section(plan: Plan, scenario: Scenario | None) -> EconomicsSection | None:
    """The section's content; ``None`` for a plan without economics (no ``[economics]``)."""
    s = plan.summary
    if scenario is None or scenario.economics is None or "npv_cny" not in s:
        return None
    config = scenario.economics
    cashflows = station_cashflows(plan, scenario)  # computed once: the chart and the cities
    cities = city_economics(plan, scenario, cashflows)
    npv, without = float(s["npv_cny"]), float(s["npv_without_support_cny"])
    return EconomicsSection(
        npv=formatting.cny(npv),
        npv_without_support=formatting.cny(without),
        support_worth=formatting.cny(npv - without),
        payback=payback(s.get("payback_years")),
        payback_without_support=payback(s.get("payback_without_support_years")),
        stations=f"{int(s.get('sites_opened', 0)):,}",
        stations_npv_positive=f"{int(s.get('stations_npv_positive', 0)):,}",
        viable_only_with_support=f"{int(s.get('stations_viable_only_with_support', 0)):,}",
        revenue=formatting.cny(s.get("economics_revenue_cny_per_year")),
        energy=energy(s.get("economics_energy_kwh_per_year")),
        lifetime=f"{config.lifetime_years}",
        discount_rate=formatting.share(config.discount_rate),
        own_network_share=(
            formatting.share(s["own_network_share"]) if "own_network_share" in s else ""
        ),
        competitor_share=formatting.share(s["competitor_share"]) if "competitor_share" in s else "",
        cities=_city_table(cities),
        city_count=f"{int((cities['stations'] > 0).sum()):,}" if cities is not None else "0",
        supported=_supported(plan),
        figure=plot_economics(
            None if cashflows is None else cashflows.cashflows.sum(axis=0),
            None if cashflows is None else cashflows.cashflows_without_support.sum(axis=0),
            cities,
            first_year=config.first_year,
        ),
    )


def _city_table(cities: pd.DataFrame | None) -> Table | None:
    """The :data:`CITY_ROWS` cities with the highest NPV (with support)."""
    if cities is None or cities.empty:
        return None
    top = cities[cities["stations"] > 0].head(CITY_ROWS)
    third_parties = bool((cities["third_party_kwh_per_year"] > 0).any())
    columns: dict[str, Any] = {
        "city": top["city"].astype(str).map(bilingual),
        "stations": top["stations"].map(lambda v: f"{int(v):,}"),
        "capex": top["capex_cny"].map(formatting.cny),
        "NPV": top["npv_cny"].map(formatting.cny),
        "NPV without support": top["npv_without_support_cny"].map(formatting.cny),
        "support received (NPV)": top["support_npv_cny"].map(formatting.cny),
        "payback": top["payback_years"].map(payback),
        "users' public energy a year": top["public_demand_kwh_per_year"].map(energy),
        "own network": top["own_network_share"].map(formatting.share),
    }
    if third_parties:
        columns["third parties"] = top["competitor_share"].map(formatting.share)
    frame = pd.DataFrame(columns)
    return table(frame, numeric=[c for c in frame.columns if c != "city"])


def _supported(plan: Plan) -> Table | None:
    """The stations whose NPV is positive only with support, most support first."""
    economics = plan.economics
    if economics is None or "viable_only_with_support" not in economics:
        return None
    rows = economics[economics["viable_only_with_support"].to_numpy(bool)]
    if rows.empty:
        return None
    rows = rows.sort_values("support_npv_cny", ascending=False, kind="stable").head(TOP_ROWS)
    empty = pd.Series("", index=rows.index)

    def text(frame: pd.DataFrame | None, column: str) -> pd.Series | None:
        if frame is None or column not in frame:
            return None
        return frame[column].reindex(rows.index).fillna("").astype(str)

    names = next(
        (s for s in (text(plan.stations, "name"), text(plan.sites, "name")) if s is not None),
        empty,
    )
    city = text(plan.stations, "city")
    cities = names if city is None else city
    # a station layer's stations carry their city's name: the id tells them apart
    label = [
        f"{bilingual(n)} ({i})" if n and n != c else str(i)
        for i, n, c in zip(rows.index, names, cities, strict=True)
    ]
    frame = pd.DataFrame(
        {
            "station": label,
            "city": cities.map(bilingual),
            "NPV": rows["npv_cny"].map(formatting.cny),
            "NPV without support": rows["npv_without_support_cny"].map(formatting.cny),
            "support (NPV)": rows["support_npv_cny"].map(formatting.cny),
        }
    )
    return table(frame, numeric=["NPV", "NPV without support", "support (NPV)"])


def plot_economics(
    cashflows: np.ndarray | None,
    cashflows_without_support: np.ndarray | None,
    cities: pd.DataFrame | None,
    *,
    first_year: int,
) -> Figure:
    """The network's cumulative cash flow by year, with and without support (left), and the
    NPV of the :data:`CITY_ROWS` cities with the highest NPV, with and without support (right).

    Parameters
    ----------
    cashflows, cashflows_without_support
        The network's cash flows, CNY, year 0 (the capex) first (``None``: left panel empty).
    cities
        :func:`chargeplan.outputs.economics.city_economics` (``None``: right panel empty).
    first_year
        The calendar year of the first year of operation (year 1).
    """
    fig = Figure(figsize=(10.5, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.1])
    if cashflows is not None and cashflows_without_support is not None:
        both = np.concatenate([np.cumsum(cashflows), np.cumsum(cashflows_without_support)])
        divisor, unit = formatting.money_scale(float(np.abs(both).max()))
        years = first_year - 1 + np.arange(len(cashflows))
        left.plot(
            years, np.cumsum(cashflows) / divisor, "o-", color="#0072B2", label="with support"
        )
        left.plot(
            years,
            np.cumsum(cashflows_without_support) / divisor,
            "s--",
            color="#D55E00",
            label="without support",
        )
        left.axhline(0, color="#333333", linewidth=0.8)
        left.set_ylabel(f"cumulative cash flow, {unit}".rstrip(", "))
        left.legend(fontsize=8, loc="upper left")
    left.set_title("The network's cumulative cash flow (undiscounted)", fontsize=10)
    left.grid(alpha=0.3)
    top = None if cities is None else cities[cities["stations"] > 0].head(CITY_ROWS)
    if top is not None and len(top):
        values = top[["npv_cny", "npv_without_support_cny"]].to_numpy(float)
        divisor, unit = formatting.money_scale(float(np.abs(values).max()))
        y = np.arange(len(top))[::-1]
        names = [latin(str(c)) for c in top["city"]]  # the chart's font has no CJK
        right.barh(y + 0.2, values[:, 0] / divisor, 0.4, color="#0072B2", label="with support")
        right.barh(y - 0.2, values[:, 1] / divisor, 0.4, color="#D55E00", label="without")
        right.set_yticks(y, names, fontsize=8)
        right.axvline(0, color="#333333", linewidth=0.8)
        right.set_xlabel(f"NPV, {unit}".rstrip(", "))
        right.legend(fontsize=8, loc="lower right")
    right.set_title(f"NPV of the {CITY_ROWS} cities with the highest NPV", fontsize=10)
    right.grid(alpha=0.3, axis="x")
    for ax in (left, right):
        ax.tick_params(labelsize=8)
    return fig
