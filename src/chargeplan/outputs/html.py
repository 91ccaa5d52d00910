"""``report.html``: one self-contained page a planner can hand on.

The page holds the headline figures, the coverage gaps (by reason, by region, the largest
zones, the proposed new sites), the largest built sites, the maps and charts, the assumptions
of the scenario and the solver's outcome. It is a single file with no script and nothing to
fetch: styles are inline, pictures are PNG data URIs, the region chart is plain HTML, fonts
are the reader's own. It opens the same offline, in a mail attachment, or printed.

The figures are formatted in :mod:`chargeplan.outputs.report_tables`; the page is the Jinja2
template ``outputs/templates/report.html.j2``, which escapes every value, so names read from
input files show as text.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from chargeplan._version import __version__
from chargeplan.outputs import formatting, pages
from chargeplan.outputs import report_tables as content
from chargeplan.outputs.maps import GAP_COLOURS, plot_plan
from chargeplan.outputs.report_tables import TOP_ROWS
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
        map_png = _png(plot_plan(plan, proposed_sites=analysis.proposed_sites, crs=settings.crs))
    return pages.render(
        "report.html.j2",
        name=plan.summary.get("scenario") or (scenario.name if scenario is not None else "plan"),
        description=scenario.description if scenario is not None else "",
        cards=content.summary_cards(plan),
        map_uri=_data_uri(map_png),
        links_map=bool(files and "map.html" in files),
        reasons=content.reason_table(analysis),
        regions=content.region_bars(analysis),
        gap_colours=[(r.replace("_", " "), c) for r, c in GAP_COLOURS.items()],
        top_gaps=content.top_gaps(plan, analysis),
        radius_km=f"{settings.radius_km:g}",
        proposals=content.proposals(analysis),
        top_sites=content.top_sites(plan, settings),
        cost_chart_uri=_data_uri(_png(_cost_chart(plan))),
        assumptions=content.assumptions(scenario),
        solver=content.solver_outcome(plan),
        files=sorted(name for name in files or {} if name),
        top_rows=TOP_ROWS,
        version=__version__,
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
