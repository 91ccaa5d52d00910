"""What ``report.html`` shows, as formatted text: figures, tables and bars, not yet HTML.

Each function turns a plan (or its gap analysis, or its scenario) into plain strings the way a
planner reads them (``467 k``, ``CNY 7.18 bn``, ``97.4 %``); the template
``outputs/templates/report.html.j2`` lays them out and escapes them. A function returns
``None`` where the report says in words that there is nothing to show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from chargeplan.outputs import formatting
from chargeplan.outputs.maps import GAP_COLOURS
from chargeplan.outputs.names import bilingual
from chargeplan.results.gaps import GAP_REASONS, GapAnalysis, GapSettings, site_regions
from chargeplan.results.plan import Plan

#: Rows in each "top" table.
TOP_ROWS = 15

#: What each gap reason asks of the planner.
REMEDIES = {
    "unreachable": "no candidate site within reach: add candidate sites (see the proposals)",
    "capacity_limited": "a site in reach is at its charger limit: raise the limit or add a site",
    "budget_limited": "the budget or site limit binds: more money would serve it",
    "not_built": "too little demand to pay for a site at the unmet-demand penalty",
}


@dataclass(frozen=True)
class Table:
    """A table of formatted cells.

    Attributes
    ----------
    columns
        Column headings.
    rows
        The cells of each row, as text.
    numeric
        For each column, whether it holds figures (aligned right).
    swatches
        For each row, a colour shown as a swatch before its first cell (empty: no swatches).
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    swatches: tuple[str, ...] = ()


@dataclass(frozen=True)
class Card:
    """A headline figure: what it is, its value, and a line of detail."""

    key: str
    value: str
    detail: str


@dataclass(frozen=True)
class BarPart:
    """One reason's part of a region's bar: its label, width (% of the widest bar), colour."""

    label: str
    width_pct: str
    colour: str


@dataclass(frozen=True)
class RegionRow:
    """A region's row in the chart of users unserved by region."""

    region: str
    parts: tuple[BarPart, ...]
    unserved_users: str
    share_served: str
    zones_with_gaps: str
    sites: str
    chargers: str


@dataclass(frozen=True)
class SolverOutcome:
    """The solver's outcome: its status (``optimal`` or not), what that means, other figures."""

    status: str
    optimal: bool
    note: str
    rows: tuple[tuple[str, str], ...]


def table(frame: pd.DataFrame, numeric: Iterable[str] = (), swatches: Iterable[str] = ()) -> Table:
    """A :class:`Table` of ``frame``'s cells as text; ``numeric`` names the figure columns."""
    numeric = set(numeric)
    return Table(
        columns=tuple(str(c) for c in frame.columns),
        rows=tuple(
            tuple(str(v) for v in values)
            for values in frame.itertuples(index=False, name=None)  # a top-N table: short
        ),
        numeric=tuple(c in numeric for c in frame.columns),
        swatches=tuple(swatches),
    )


def charger_types(plan: Plan) -> list[str]:
    """Charger types of the plan: those with both chargers and served kWh per site."""
    columns = set(plan.sites.columns)
    return [
        c.removeprefix("chargers_")
        for c in plan.sites.columns
        if c.startswith("chargers_") and f"served_kwh_{c.removeprefix('chargers_')}" in columns
    ]


def summary_cards(plan: Plan) -> list[Card]:
    """The headline figures: users, demand, sites, chargers, capex, coverage, gaps, solver."""
    s = plan.summary
    by_type = ", ".join(
        f"{s.get(f'chargers_{t}', 0):,} {t.replace('_', ' ')}" for t in charger_types(plan)
    )
    reasons = ", ".join(
        f"{s.get(f'gap_zones_{r}', 0)} {r.replace('_', ' ')}"
        for r in GAP_REASONS
        if s.get(f"gap_zones_{r}", 0)
    )
    per_charger = s.get("premium_users_per_charger")
    cards = [
        Card(
            "premium users",
            formatting.count(s.get("premium_users")),
            "the target, spread over zones",
        ),
        Card(
            "peak-hour demand", formatting.kwh(s.get("demand_kwh")), "public charging, busiest hour"
        ),
        Card(
            "sites opened",
            f"{s['sites_opened']:,}",
            f"of {s.get('candidate_sites', len(plan.sites)):,} candidate sites",
        ),
        Card("chargers", f"{s['chargers']:,}", by_type),
        Card(
            "capex",
            formatting.cny(s.get("capex_cny")),
            f"sites {formatting.cny(s.get('fixed_cost_cny'))}, "
            f"chargers {formatting.cny(s.get('charger_cost_cny'))}",
        ),
        Card("premium users per charger", f"{per_charger:,.0f}" if per_charger else "n/a", ""),
        Card(
            "peak demand served",
            formatting.share(s.get("coverage")),
            f"{formatting.kwh(s.get('unmet_demand'))} unmet",
        ),
        Card(
            "users unserved",
            formatting.count(s.get("unserved_users")),
            "premium users whose peak demand is unmet",
        ),
        Card("zones with gaps", f"{s.get('zones_with_gaps', 0)}", reasons or "none"),
        Card(
            "solver",
            f"{s.get('status', 'n/a')}",
            f"gap {formatting.share(s.get('gap'), 2)}",
        ),
    ]
    if s.get("budget_cny") is not None:
        cards.append(Card("budget", formatting.cny(s["budget_cny"]), "capex limit"))
    return cards


def reason_table(analysis: GapAnalysis) -> Table | None:
    """Zones, users unserved and unmet demand by gap reason, with what each reason asks."""
    gaps = analysis.zones
    rows, colours = [], []
    for reason in GAP_REASONS:
        part = gaps[gaps["gap_reason"] == reason]
        if len(part):
            colours.append(GAP_COLOURS[reason])
            rows.append(
                {
                    "reason": reason.replace("_", " "),
                    "zones": f"{len(part):,}",
                    "users unserved": formatting.count(part["unserved_users"].sum()),
                    "unmet peak demand": formatting.kwh(part["unmet_kwh"].sum()),
                    "what it takes": REMEDIES[reason],
                }
            )
    if not rows:
        return None
    return table(
        pd.DataFrame(rows),
        numeric=["zones", "users unserved", "unmet peak demand"],
        swatches=colours,
    )


def region_bars(analysis: GapAnalysis) -> list[RegionRow]:
    """Users unserved per region (the :data:`TOP_ROWS` most), each bar stacked by reason."""
    regions = analysis.regions
    regions = regions[regions["unserved_users"] > 0.5].head(TOP_ROWS)
    if regions.empty:
        return []
    widest = float(regions["unserved_users"].max())
    return [
        RegionRow(
            region=bilingual(str(name)),
            parts=tuple(
                BarPart(
                    label=f"{r.replace('_', ' ')}: {formatting.count(row[f'unserved_users_{r}'])}",
                    width_pct=f"{100 * row[f'unserved_users_{r}'] / widest:.2f}",
                    colour=GAP_COLOURS[r],
                )
                for r in GAP_REASONS
                if row[f"unserved_users_{r}"] > 0
            ),
            unserved_users=formatting.count(row["unserved_users"]),
            share_served=formatting.share(row["share_served"]),
            zones_with_gaps=f"{int(row['zones_with_gaps'])} of {int(row['zones'])}",
            sites=f"{int(row['sites_opened']):,}",
            chargers=f"{int(row['chargers']):,}",
        )
        for name, row in regions.iterrows()  # at most TOP_ROWS regions
    ]


def _label(frame: pd.DataFrame, column: str | None) -> pd.Series:
    """Names of ``column`` (the index where missing), Chinese ones with their Latin form; a
    ``<column>_zh`` column (a site's Chinese name beside its Latin one) is added after."""
    if column and column in frame.columns:
        names = frame[column].astype(str).map(bilingual)
        if f"{column}_zh" in frame.columns:
            names = names + " " + frame[f"{column}_zh"].fillna("").astype(str)
        return names.str.strip()
    return pd.Series(frame.index.astype(str), index=frame.index)


def _told_apart(names: pd.Series) -> pd.Series:
    """``names`` with the index (the id) added to each that repeats in the table: a station
    layer's cells and stations carry their county's or city's name."""
    repeated = names.duplicated(keep=False).to_numpy()
    ids = pd.Series(names.index.astype(str), index=names.index)
    return names.where(~repeated, names + " (" + ids + ")")


def top_gaps(plan: Plan, analysis: GapAnalysis) -> Table | None:
    """The :data:`TOP_ROWS` zones with the most users unserved, why, and the nearest site."""
    gaps = analysis.zones.sort_values("unserved_users", ascending=False).head(TOP_ROWS)
    if gaps.empty:
        return None
    settings = analysis.settings
    site_names = _label(plan.sites, settings.site_name_column)
    nearest = gaps["nearest_open_site"].map(site_names).fillna("none")
    frame = pd.DataFrame(
        {
            "zone": _told_apart(_label(gaps, settings.name_column)),
            "region": _label(gaps, settings.region_column),
            "reason": gaps["gap_reason"].str.replace("_", " "),
            "users unserved": gaps["unserved_users"].map(formatting.count),
            "unmet peak kWh": gaps["unmet_kwh"].map(lambda v: f"{v:,.0f}"),
            "served": gaps["share_served"].map(formatting.share),
            "nearest open site": nearest,
            "km": gaps["nearest_open_site_km"].map(lambda v: f"{v:,.0f}"),
            "proposed site": gaps["proposed_site"].replace("", "-"),
        }
    )
    return table(frame, numeric=["users unserved", "unmet peak kWh", "served", "km"])


def _bilingual_list(names: str) -> str:
    """A comma-separated list of names, each Chinese one with its Latin form, each name once
    in the order of its first place, with its count where it repeats (a station layer's zones
    of one county share its name: "Lingao County 临高县 (40 zones)")."""
    counts = Counter(name.strip() for name in names.split(","))  # in the order of first place
    return ", ".join(
        bilingual(name) + (f" ({n} zones)" if n > 1 else "") for name, n in counts.items()
    )


def proposals(analysis: GapAnalysis) -> Table | None:
    """The first :data:`TOP_ROWS` proposed new candidate sites and the zones they would reach."""
    new = analysis.proposed_sites.head(TOP_ROWS)
    if new.empty:
        return None
    lonlat = new.geometry.to_crs("EPSG:4326")
    frame = pd.DataFrame(
        {
            "proposed site": new.index.astype(str),
            "region": new["region"].astype(str).map(bilingual),
            "zones it would reach": new["zone_names"].astype(str).map(_bilingual_list),
            "users out of reach": new["unserved_users"].map(formatting.count),
            "unmet peak kWh": new["unmet_kwh"].map(lambda v: f"{v:,.0f}"),
            "farthest zone, km": new["max_distance_km"].map(lambda v: f"{v:,.0f}"),
            "lon, lat": [f"{x:.3f}, {y:.3f}" for x, y in zip(lonlat.x, lonlat.y, strict=True)],
        }
    )
    return table(
        frame, numeric=["users out of reach", "unmet peak kWh", "farthest zone, km", "lon, lat"]
    )


def top_sites(plan: Plan, settings: GapSettings, regions: pd.Series | None = None) -> Table | None:
    """The :data:`TOP_ROWS` built sites with the most chargers: chargers, capex, utilisation;
    their regions from ``regions`` (the built sites' regions of the gap analysis) if given."""
    built = plan.sites[plan.sites["open"].to_numpy(bool)]
    if built.empty:
        return None
    built = built.sort_values("chargers", ascending=False).head(TOP_ROWS)
    types = charger_types(plan)
    columns: dict[str, Any] = {
        "site": _told_apart(_label(built, settings.site_name_column)),
        "region": (regions if regions is not None else site_regions(plan, settings, built=True))
        .reindex(built.index)
        .astype(str)
        .map(bilingual),
        "chargers": built["chargers"].map(lambda v: f"{int(v):,}"),
    }
    for t in types:
        columns[t.replace("_", " ")] = built[f"chargers_{t}"].map(lambda v: f"{int(v):,}")
    columns["capex"] = built["capex_cny"].map(formatting.cny)
    columns["served peak kWh"] = built["served_kwh"].map(lambda v: f"{v:,.0f}")
    for t in types:
        if f"utilisation_{t}" in built:
            columns[f"utilisation {t.replace('_', ' ')}"] = built[f"utilisation_{t}"].map(
                formatting.share
            )
    frame = pd.DataFrame(columns)
    return table(frame, numeric=[c for c in frame.columns if c not in ("site", "region")])


def solver_outcome(plan: Plan) -> SolverOutcome:
    """Status, objective, bound, gap, times and size of the solve."""
    s = plan.summary
    status = str(s.get("status", "n/a"))
    optimal = status == "optimal"
    note = (
        "optimal within the relative gap asked for"
        if optimal
        else "stopped before proving optimality: the plan is the best found, within the gap shown"
    )
    rows = (
        ("objective", str(s.get("objective", "n/a")).replace("_", " ")),
        ("objective value", f"{s.get('objective_value', float('nan')):,.6g}"),
        ("best bound", f"{s.get('bound', float('nan')):,.6g}"),
        ("relative gap", formatting.share(s.get("gap"), 3)),
        ("model build, solve", "times in manifest.json (they vary from run to run)"),
        (
            "size",
            f"{s.get('zones', 0):,} zones, {s.get('candidate_sites', 0):,} candidate sites, "
            f"{s.get('pairs', 0):,} zone-site pairs in reach",
        ),
    )
    return SolverOutcome(status=status, optimal=optimal, note=note, rows=rows)
