"""The management parts of ``report.html``: executive summary and charts by province and city.

Each function turns the plan and its gap analysis into formatted text (no HTML); the template
``outputs/templates/report.html.j2`` writes the sentences and bars, escaping every value. Every
figure comes from the plan's summary or tables: nothing is typed in the template.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chargeplan.outputs import formatting
from chargeplan.outputs.cities import city_table
from chargeplan.outputs.maps import GAP_COLOURS
from chargeplan.outputs.names import bilingual
from chargeplan.outputs.report_tables import REMEDIES, charger_types
from chargeplan.results.gaps import GAP_REASONS, GapAnalysis
from chargeplan.results.plan import Plan

#: Cities (zones of one name) in the coverage chart: those with the most premium users.
CITY_ROWS = 20

#: Provinces (regions) in the capex and stations chart; the rest are summed as "others".
PROVINCE_ROWS = 34


def report_date(date: dt.date | None = None) -> dt.date:
    """The report's date: ``date``, else ``SOURCE_DATE_EPOCH`` (reproducible builds), else today
    (UTC)."""
    if date is not None:
        return date
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class GapReason:
    """One reason users stay out of reach: its name, users, zones and what it takes."""

    reason: str
    users: str
    zones: str
    remedy: str
    colour: str


@dataclass(frozen=True)
class ExecutiveSummary:
    """The figures the executive summary's sentences are written from (formatted text)."""

    date: str
    premium_users: str
    zones: str
    regions: str
    stations: str
    candidates: str
    chargers: str
    chargers_by_type: str
    capex: str
    capex_per_user: str
    users_per_charger: str
    coverage: str
    unserved_users: str
    unserved_share: str
    zones_with_gaps: str
    reasons: tuple[GapReason, ...]
    worst_regions: str
    budget: str
    status: str


def executive_summary(
    plan: Plan, analysis: GapAnalysis, date: dt.date | None = None
) -> ExecutiveSummary:
    """The figures of the executive summary, from the plan's summary and its gap analysis."""
    s = plan.summary
    users = float(s.get("premium_users") or plan.zones["premium_users"].sum())
    unserved = float(s.get("unserved_users") or 0.0)
    zones = analysis.zones
    reasons = []
    for reason in GAP_REASONS:
        part = zones[zones["gap_reason"] == reason]
        if len(part):
            reasons.append(
                GapReason(
                    reason=reason.replace("_", " "),
                    users=formatting.count(part["unserved_users"].sum()),
                    zones=f"{len(part):,}",
                    remedy=REMEDIES[reason],
                    colour=GAP_COLOURS[reason],
                )
            )
    regions = analysis.regions
    worst = regions[regions["unserved_users"] > 0.5].sort_values(
        "unserved_users", ascending=False, kind="stable"
    )
    by_type = ", ".join(
        f"{s.get(f'chargers_{t}', 0):,} {t.replace('_', ' ')}" for t in charger_types(plan)
    )
    capex = float(s.get("capex_cny") or 0.0)
    per_charger = s.get("premium_users_per_charger")
    return ExecutiveSummary(
        date=report_date(date).isoformat(),
        premium_users=formatting.count(users),
        zones=f"{len(plan.zones):,}",
        regions=f"{len(regions):,}",
        stations=f"{int(s.get('sites_opened', 0)):,}",
        candidates=f"{int(s.get('candidate_sites', len(plan.sites))):,}",
        chargers=f"{int(s.get('chargers', 0)):,}",
        chargers_by_type=by_type,
        capex=formatting.cny(capex),
        capex_per_user=f"CNY {capex / users:,.0f}" if users else "n/a",
        users_per_charger=f"{per_charger:,.0f}" if per_charger else "n/a",
        coverage=formatting.share(s.get("coverage")),
        unserved_users=formatting.count(unserved),
        unserved_share=formatting.share(unserved / users if users else None),
        zones_with_gaps=f"{int(s.get('zones_with_gaps', 0)):,}",
        reasons=tuple(reasons),
        worst_regions=", ".join(
            f"{bilingual(str(name))} ({formatting.count(row['unserved_users'])})"
            for name, row in worst.head(3).iterrows()  # three rows
        ),
        budget=formatting.cny(s["budget_cny"]) if s.get("budget_cny") is not None else "",
        status=str(s.get("status", "n/a")),
    )


@dataclass(frozen=True)
class Bar:
    """One bar of an HTML bar chart: its label, value as text, width (% of the widest)."""

    label: str
    value: str
    width_pct: str
    colour: str = "#0072B2"


@dataclass(frozen=True)
class ProvinceRow:
    """A region's row in the chart of capex and stations by province."""

    region: str
    capex: Bar
    stations: Bar


def _widths(values: np.ndarray) -> np.ndarray:
    widest = float(values.max()) if len(values) else 0.0
    return 100 * values / widest if widest > 0 else np.zeros_like(values)


def province_bars(analysis: GapAnalysis) -> list[ProvinceRow]:
    """Capex and stations (built sites) by region, most capex first; the tail as "others"."""
    regions = analysis.regions[["capex_cny", "sites_opened"]].astype(float)
    regions = regions.sort_values(["capex_cny", "sites_opened"], ascending=False, kind="stable")
    if len(regions) > PROVINCE_ROWS:
        head = regions.head(PROVINCE_ROWS - 1)
        rest = (
            regions.iloc[PROVINCE_ROWS - 1 :].sum().to_frame(f"{len(regions) - len(head)} others")
        )
        regions = pd.concat([head, rest.T])
    capex = regions["capex_cny"].to_numpy(float)
    sites = regions["sites_opened"].to_numpy(float)
    return [
        ProvinceRow(
            region=bilingual(str(name)),
            capex=Bar(str(name), formatting.cny(c), f"{w:.2f}"),
            stations=Bar(str(name), f"{int(n):,}", f"{v:.2f}", "#56B4E9"),
        )
        for name, c, w, n, v in zip(  # at most PROVINCE_ROWS rows
            regions.index, capex, _widths(capex), sites, _widths(sites), strict=True
        )
    ]


@dataclass(frozen=True)
class CityRow:
    """A city's (zone's) row in the coverage chart: users, share served, gap reason."""

    city: str
    region: str
    premium_users: str
    served: Bar
    reason: str


def _served(share: float) -> str:
    """A share served as text; a gap that rounds to 100.0 % reads "> 99.9 %", not "100.0 %"."""
    text = formatting.share(share)
    return "> 99.9 %" if share < 1.0 and text == "100.0 %" else text


def city_coverage(plan: Plan, name_column: str | None, region_column: str | None) -> list[CityRow]:
    """Share of peak demand served in the :data:`CITY_ROWS` cities with the most premium users;
    the bar is coloured by the city's main gap reason (blue: fully served).

    A city is the zones of one name (``name_column``; without it each zone is its own): a
    station layer's city is many cells, and row by zone its table listed one city's cells
    eight times. Its share is its served over its demand kWh (``served_kwh``, ``demand_kwh``),
    else its zones' ``share_served`` weighted by their users; its reason is the one that leaves
    the most of its users unserved.
    """
    zones = plan.zones
    if not {"premium_users", "share_served", "gap_reason"} <= set(zones.columns):
        return []
    cities = city_table(zones, name_column, region_column)
    top = cities.sort_values("premium_users", ascending=False, kind="stable").head(CITY_ROWS)
    return [
        CityRow(
            city=bilingual(str(city)),
            region=bilingual(str(row["region"])),
            premium_users=formatting.count(float(row["premium_users"])),
            served=Bar(
                str(city),
                _served(float(row["served_share"])),
                f"{100 * row['served_share']:.2f}",
                GAP_COLOURS.get(row["reason"], "#0072B2"),
            ),
            reason=str(row["reason"]).replace("_", " ") or "served",
        )
        for city, row in top.iterrows()  # at most CITY_ROWS rows
    ]
