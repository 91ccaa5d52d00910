"""``report.html``: one self-contained page a planner can hand on.

The page holds the headline figures, the coverage gaps (by reason, by region, the largest
zones, the proposed new sites), the largest built sites, the maps and charts, the assumptions
of the scenario and the solver's outcome. It is a single file with no script and nothing to
fetch: styles are inline, pictures are PNG data URIs, the region chart is plain HTML, fonts
are the reader's own. It opens the same offline, in a mail attachment, or printed.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from chargeplan._version import __version__
from chargeplan.outputs import formatting
from chargeplan.outputs.maps import GAP_COLOURS, plot_plan
from chargeplan.results.gaps import (
    GAP_REASONS,
    GapAnalysis,
    GapSettings,
    analyse_gaps,
    site_regions,
)
from chargeplan.results.plan import Plan

if TYPE_CHECKING:
    from chargeplan.config.scenario import Scenario

#: Rows in each "top" table.
TOP_ROWS = 15

#: What each gap reason asks of the planner.
REMEDIES = {
    "unreachable": "no candidate site within reach: add candidate sites (see the proposals)",
    "capacity_limited": "a site in reach is at its charger limit: raise the limit or add a site",
    "budget_limited": "the budget or site limit binds: more money would serve it",
    "not_built": "too little demand to pay for a site at the unmet-demand penalty",
}

_CSS = """
body {font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang SC",
  "Microsoft YaHei", sans-serif; margin: 0; color: #1a1a1a; background: #fafafa;}
main {max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; background: #fff;}
h1 {font-size: 26px; margin: 0 0 4px;} h2 {font-size: 20px; margin: 36px 0 8px;
  border-bottom: 2px solid #0072B2; padding-bottom: 4px;} h3 {font-size: 16px; margin: 22px 0 6px;}
p.lead {color: #444; margin: 0 0 16px;} .muted {color: #666; font-size: 13px;}
.cards {display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px;}
.card {border: 1px solid #ddd; border-radius: 6px; padding: 10px 12px; background: #f7fafd;}
.card .k {font-size: 12px; color: #555; text-transform: uppercase; letter-spacing: .03em;}
.card .v {font-size: 22px; font-weight: 600; margin-top: 2px;} .card .d {font-size: 12px;
  color: #555; margin-top: 2px;}
table {border-collapse: collapse; font-size: 13px; margin: 6px 0 4px; width: 100%;}
th, td {padding: 4px 8px; border-bottom: 1px solid #e3e3e3; text-align: left;
  vertical-align: top;}
th {background: #f0f3f6; font-weight: 600;} td.n, th.n {text-align: right;
  font-variant-numeric: tabular-nums; white-space: nowrap;}
tr:nth-child(even) td {background: #fbfbfb;}
img {max-width: 100%; height: auto; border: 1px solid #eee;}
.swatch {display: inline-block; width: 11px; height: 11px; border-radius: 2px;
  margin-right: 5px; vertical-align: -1px;}
.bars td.bar {width: 45%;} .bar div {display: flex; height: 14px; background: #f2f2f2;}
.bar span {display: block; height: 100%;}
.legend span {margin-right: 14px; font-size: 13px;}
.status-ok {color: #1b7f3b; font-weight: 600;} .status-warn {color: #b35900; font-weight: 600;}
footer {margin-top: 40px; font-size: 12px; color: #777;}
@media print {body {background: #fff;} main {padding: 0;} h2 {break-after: avoid;}}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _png_uri(fig: Figure, dpi: int = 110) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _table(frame: pd.DataFrame, numeric: Iterable[str] = (), escape: bool = True) -> str:
    """An HTML table of already formatted cells; ``numeric`` columns align right."""
    numeric = set(numeric)
    head = "".join(
        f'<th class="n">{_e(c)}</th>' if c in numeric else f"<th>{_e(c)}</th>"
        for c in frame.columns
    )
    rows = []
    for values in frame.itertuples(index=False, name=None):  # formatted rows of a top-N table
        cells = "".join(
            f'<td class="n">{_e(v)}</td>' if c in numeric else f"<td>{_e(v) if escape else v}</td>"
            for c, v in zip(frame.columns, values, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cards(items: Sequence[tuple[str, str, str]]) -> str:
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="k">{_e(k)}</div><div class="v">{_e(v)}</div>'
            f'<div class="d">{_e(d)}</div></div>'
            for k, v, d in items
        )
        + "</div>"
    )


def _types(plan: Plan) -> list[str]:
    """Charger types of the plan: those with both chargers and served kWh per site."""
    columns = set(plan.sites.columns)
    return [
        c.removeprefix("chargers_")
        for c in plan.sites.columns
        if c.startswith("chargers_") and f"served_kwh_{c.removeprefix('chargers_')}" in columns
    ]


def _summary_cards(plan: Plan) -> str:
    s = plan.summary
    types = _types(plan)
    by_type = ", ".join(f"{s.get(f'chargers_{t}', 0):,} {t.replace('_', ' ')}" for t in types)
    reasons = ", ".join(
        f"{s.get(f'gap_zones_{r}', 0)} {r.replace('_', ' ')}"
        for r in GAP_REASONS
        if s.get(f"gap_zones_{r}", 0)
    )
    per_charger = s.get("premium_users_per_charger")
    items = [
        (
            "premium users",
            formatting.count(s.get("premium_users")),
            "the target, spread over zones",
        ),
        ("peak-hour demand", formatting.kwh(s.get("demand_kwh")), "public charging, busiest hour"),
        (
            "sites opened",
            f"{s['sites_opened']:,}",
            f"of {s.get('candidate_sites', len(plan.sites)):,} candidate sites",
        ),
        ("chargers", f"{s['chargers']:,}", by_type),
        (
            "capex",
            formatting.cny(s.get("capex_cny")),
            f"sites {formatting.cny(s.get('fixed_cost_cny'))}, "
            f"chargers {formatting.cny(s.get('charger_cost_cny'))}",
        ),
        (
            "premium users per charger",
            f"{per_charger:,.0f}" if per_charger else "n/a",
            "",
        ),
        (
            "peak demand served",
            formatting.share(s.get("coverage")),
            f"{formatting.kwh(s.get('unmet_demand'))} unmet",
        ),
        (
            "users unserved",
            formatting.count(s.get("unserved_users")),
            "premium users whose peak demand is unmet",
        ),
        ("zones with gaps", f"{s.get('zones_with_gaps', 0)}", reasons or "none"),
        (
            "solver",
            f"{s.get('status', 'n/a')}",
            f"gap {formatting.share(s.get('gap'), 2)}, "
            f"{s.get('solve_seconds', float('nan')):.1f} s",
        ),
    ]
    if s.get("budget_cny") is not None:
        items.append(("budget", formatting.cny(s["budget_cny"]), "capex limit"))
    return _cards(items)


def _reason_table(analysis: GapAnalysis) -> str:
    gaps = analysis.zones
    rows = []
    for reason in GAP_REASONS:
        part = gaps[gaps["gap_reason"] == reason]
        if len(part):
            swatch = f'<span class="swatch" style="background:{GAP_COLOURS[reason]}"></span>'
            rows.append(
                {
                    "reason": swatch + _e(reason.replace("_", " ")),
                    "zones": f"{len(part):,}",
                    "users unserved": formatting.count(part["unserved_users"].sum()),
                    "unmet peak demand": formatting.kwh(part["unmet_kwh"].sum()),
                    "what it takes": _e(REMEDIES[reason]),
                }
            )
    if not rows:
        return "<p>Every zone's peak demand is served.</p>"
    return _table(
        pd.DataFrame(rows), numeric=["zones", "users unserved", "unmet peak demand"], escape=False
    )


def _region_bars(analysis: GapAnalysis) -> str:
    """Users unserved per region, stacked by reason, as an HTML bar chart (no picture)."""
    regions = analysis.regions
    regions = regions[regions["unserved_users"] > 0.5].head(TOP_ROWS)
    if regions.empty:
        return "<p>No region has unserved users.</p>"
    widest = float(regions["unserved_users"].max())
    rows = []
    for name, row in regions.iterrows():  # at most TOP_ROWS regions
        spans = "".join(
            f'<span title="{_e(r.replace("_", " "))}: '
            f'{formatting.count(row[f"unserved_users_{r}"])}"'
            f' style="width:{100 * row[f"unserved_users_{r}"] / widest:.2f}%;'
            f'background:{GAP_COLOURS[r]}"></span>'
            for r in GAP_REASONS
            if row[f"unserved_users_{r}"] > 0
        )
        rows.append(
            f"<tr><td>{_e(name)}</td><td class='bar'><div>{spans}</div></td>"
            f"<td class='n'>{formatting.count(row['unserved_users'])}</td>"
            f"<td class='n'>{formatting.share(row['share_served'])}</td>"
            f"<td class='n'>{int(row['zones_with_gaps'])} of {int(row['zones'])}</td>"
            f"<td class='n'>{int(row['sites_opened']):,}</td>"
            f"<td class='n'>{int(row['chargers']):,}</td></tr>"
        )
    legend = "".join(
        f'<span><span class="swatch" style="background:{c}"></span>{_e(r.replace("_", " "))}</span>'
        for r, c in GAP_COLOURS.items()
    )
    return (
        f'<div class="legend">{legend}</div><table class="bars"><thead><tr><th>region</th>'
        '<th>users unserved, by reason</th><th class="n">users unserved</th>'
        '<th class="n">peak demand served</th><th class="n">zones with gaps</th>'
        '<th class="n">sites</th><th class="n">chargers</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _label(frame: pd.DataFrame, column: str | None) -> pd.Series:
    if column and column in frame.columns:
        return frame[column].astype(str)
    return pd.Series(frame.index.astype(str), index=frame.index)


def _top_gaps(plan: Plan, analysis: GapAnalysis) -> str:
    gaps = analysis.zones.sort_values("unserved_users", ascending=False).head(TOP_ROWS)
    if gaps.empty:
        return "<p>No zone has unmet demand.</p>"
    settings = analysis.settings
    site_names = _label(plan.sites, settings.site_name_column)
    nearest = gaps["nearest_open_site"].map(site_names).fillna("none")
    table = pd.DataFrame(
        {
            "zone": _label(gaps, settings.name_column),
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
    return _table(table, numeric=["users unserved", "unmet peak kWh", "served", "km"])


def _proposals(analysis: GapAnalysis) -> str:
    new = analysis.proposed_sites.head(TOP_ROWS)
    if new.empty:
        return "<p>No zone is out of reach of every candidate site.</p>"
    lonlat = new.geometry.to_crs("EPSG:4326")
    table = pd.DataFrame(
        {
            "proposed site": new.index.astype(str),
            "region": new["region"].astype(str),
            "zones it would reach": new["zone_names"].astype(str),
            "users out of reach": new["unserved_users"].map(formatting.count),
            "unmet peak kWh": new["unmet_kwh"].map(lambda v: f"{v:,.0f}"),
            "farthest zone, km": new["max_distance_km"].map(lambda v: f"{v:,.0f}"),
            "lon, lat": [f"{x:.3f}, {y:.3f}" for x, y in zip(lonlat.x, lonlat.y, strict=True)],
        }
    )
    return _table(
        table, numeric=["users out of reach", "unmet peak kWh", "farthest zone, km", "lon, lat"]
    )


def _top_sites(plan: Plan, settings: GapSettings) -> str:
    built = plan.sites[plan.sites["open"].to_numpy(bool)]
    if built.empty:
        return "<p>No site is opened.</p>"
    built = built.sort_values("chargers", ascending=False).head(TOP_ROWS)
    types = _types(plan)
    columns: dict[str, Any] = {
        "site": _label(built, settings.site_name_column),
        "region": site_regions(plan, settings).reindex(built.index),
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
    table = pd.DataFrame(columns)
    return _table(table, numeric=[c for c in table.columns if c not in ("site", "region")])


def _cost_chart(plan: Plan) -> Figure:
    """Cost parts (bars) and how chargers spread over built sites (histogram)."""
    s = plan.summary
    types = _types(plan)
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
    if len(chargers):
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


#: Order of the scenario's sections in the assumptions table (others follow).
_SECTIONS = ("users", "demand", "chargers", "sites", "reach", "model", "solver", "zones")


def _value(value: Any) -> str:
    if isinstance(value, Path):
        return value.name
    if isinstance(value, bool) or value is None:
        return "none" if value is None else str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value) or "none"
    return str(value)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    """Dotted keys of nested tables; a table of plain values stays one row."""
    for key, value in data.items():
        if isinstance(value, Mapping) and any(isinstance(v, Mapping) for v in value.values()):
            yield from _flatten(value, f"{prefix}{key}.")
        elif isinstance(value, Mapping) and prefix == "" and value:
            yield from _flatten(value, f"{key}.")
        else:
            yield f"{prefix}{key}", value


def _assumptions(scenario: Scenario | None) -> str:
    """Every value of the scenario, as validated (defaults included), by section."""
    if scenario is None:
        return "<p class='muted'>The scenario was not given to the report writer.</p>"
    data = scenario.model_dump()
    order = [s for s in _SECTIONS if s in data] + sorted(
        k for k in data if k not in _SECTIONS and isinstance(data[k], Mapping)
    )
    rows = []
    for section in order:
        for key, value in _flatten({section: data[section]}):
            if key.endswith(".description") or key.endswith("_column"):
                continue
            rows.append((section, key.removeprefix(f"{section}."), _value(value)))
    for name, charger in scenario.chargers.items():
        per_charger = getattr(charger, "peak_kwh_per_charger", None)
        if per_charger is not None:
            rows.append(("chargers", f"{name}: peak-hour kWh per charger", f"{per_charger:,.4g}"))
    files = [("charger_catalogue", scenario.charger_catalogue)]
    if scenario.source is not None:
        files.insert(0, ("scenario file", scenario.source))
    rows += [("files", key, _value(Path(value))) for key, value in files]
    return _table(pd.DataFrame(rows, columns=["section", "key", "value"]))


def _solver(plan: Plan) -> str:
    s = plan.summary
    status = s.get("status", "n/a")
    css = "status-ok" if status == "optimal" else "status-warn"
    note = (
        "optimal within the relative gap asked for"
        if status == "optimal"
        else "stopped before proving optimality: the plan is the best found, within the gap shown"
    )
    rows = [
        ("status", f'<span class="{css}">{_e(status)}</span>: {_e(note)}'),
        ("objective", _e(s.get("objective", "n/a")).replace("_", " ")),
        ("objective value", _e(f"{s.get('objective_value', float('nan')):,.6g}")),
        ("best bound", _e(f"{s.get('bound', float('nan')):,.6g}")),
        ("relative gap", _e(formatting.share(s.get("gap"), 3))),
        (
            "model build, solve",
            _e(f"{s.get('build_seconds', 0):.1f} s, {s.get('solve_seconds', 0):.1f} s"),
        ),
        (
            "size",
            _e(
                f"{s.get('zones', 0):,} zones, {s.get('candidate_sites', 0):,} candidate sites, "
                f"{s.get('pairs', 0):,} zone-site pairs in reach"
            ),
        ),
    ]
    return _table(pd.DataFrame(rows, columns=["", "value"]), escape=False)


def _files(files: Mapping[str, Path] | None) -> str:
    if not files:
        return ""
    links = "".join(
        f'<li><a href="{_e(name)}">{_e(name)}</a></li>' for name in sorted(files) if name
    )
    return f"<h2>Files of this run</h2><ul class='muted'>{links}</ul>"


def render_report(
    plan: Plan,
    *,
    scenario: Scenario | None = None,
    analysis: GapAnalysis | None = None,
    map_png: bytes | None = None,
    files: Mapping[str, Path] | None = None,
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

    Returns
    -------
    str
        A complete, self-contained HTML document.
    """
    settings = GapSettings.from_scenario(scenario) if scenario is not None else GapSettings()
    analysis = analysis or analyse_gaps(plan, settings)
    if map_png is None:
        fig = plot_plan(plan, proposed_sites=analysis.proposed_sites, crs=settings.crs)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
        map_png = buffer.getvalue()
    map_uri = "data:image/png;base64," + base64.b64encode(map_png).decode("ascii")
    s = plan.summary
    name = s.get("scenario") or (scenario.name if scenario is not None else "plan")
    description = scenario.description if scenario is not None else ""
    interactive = (
        ' An interactive version with popups is in <a href="map.html">map.html</a>.'
        if files and "map.html" in files
        else ""
    )
    body = f"""
<h1>Charging network plan: {_e(name)}</h1>
<p class="lead">{_e(description)}</p>
<h2>Summary</h2>
{_summary_cards(plan)}
<h2>Map</h2>
<img src="{map_uri}" alt="Built sites sized by chargers and coverage gaps shaded by reason">
<p class="muted">Zones are drawn from the input data (no background tiles). Blue discs: built
sites, area by chargers; shaded zones: unmet peak demand, by reason; diamonds: proposed new
candidate sites.{interactive}</p>
<h2>Coverage gaps</h2>
<h3>By reason</h3>
{_reason_table(analysis)}
<h3>By region (top {TOP_ROWS})</h3>
{_region_bars(analysis)}
<h3>Largest gaps (top {TOP_ROWS} zones by users unserved)</h3>
{_top_gaps(plan, analysis)}
<h3>Proposed new candidate sites</h3>
<p class="muted">For the zones out of reach of every candidate site: each at the demand-weighted
centre of a group of such zones, all within {settings.radius_km:g} km of it; listed where its
unmet demand would pay for a site at the unmet-demand penalty.</p>
{_proposals(analysis)}
<h2>Built sites</h2>
<h3>Largest sites (top {TOP_ROWS} by chargers)</h3>
{_top_sites(plan, settings)}
<img src="{_png_uri(_cost_chart(plan))}" alt="Cost parts and sizes of the built sites">
<h2>Assumptions</h2>
{_assumptions(scenario)}
<h2>Solver</h2>
{_solver(plan)}
{_files(files)}
<footer>Written by chargeplan {_e(__version__)}. Every figure is recomputed from the solver's
decisions; the tables of this run (sites, zones, gaps) hold all rows.</footer>
"""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>chargeplan: {_e(name)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body><main>{body}</main></body>\n</html>\n"
    )


def write_report(
    plan: Plan,
    path: str | Path,
    *,
    scenario: Scenario | None = None,
    analysis: GapAnalysis | None = None,
    map_png: bytes | None = None,
    files: Mapping[str, Path] | None = None,
) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8) and return the path."""
    text = render_report(plan, scenario=scenario, analysis=analysis, map_png=map_png, files=files)
    Path(path).write_text(text, encoding="utf-8")
    return Path(path)
