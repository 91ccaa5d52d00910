"""Static maps of a plan, drawn from the zones themselves (no internet tiles)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from chargeplan.plan import Plan

#: Colours of the gap reasons (colour-blind safe, Okabe-Ito).
GAP_COLOURS = {
    "unreachable": "#D55E00",
    "capacity_limited": "#E69F00",
    "budget_limited": "#CC79A7",
    "not_built": "#56B4E9",
}


def plot_plan(
    plan: Plan,
    path: str | Path | None = None,
    *,
    crs: str = "ESRI:102025",
    title: str | None = None,
    dpi: int = 150,
) -> plt.Figure:
    """Draw zones (base), gaps shaded by reason, and built sites sized by chargers.

    Parameters
    ----------
    plan
        The plan to draw.
    path
        Write a PNG here if given.
    crs
        Map projection (equal-area Albers for China by default).
    title
        Figure title (default: from the summary).
    dpi
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    zones = plan.zones.to_crs(crs)
    sites = plan.sites[plan.sites["open"]].to_crs(crs)
    fig, ax = plt.subplots(figsize=(11, 8.5), layout="constrained")
    zones.plot(ax=ax, color="#F2F2F2", edgecolor="#BBBBBB", linewidth=0.3)
    handles = []
    for reason, colour in GAP_COLOURS.items():
        part = zones[zones["gap_reason"] == reason]
        if len(part):
            part.plot(ax=ax, color=colour, alpha=0.75, edgecolor="#888888", linewidth=0.3)
            users = part["unserved_users"].sum() if "unserved_users" in part else np.nan
            handles.append(
                Patch(
                    color=colour,
                    alpha=0.75,
                    label=f"{reason.replace('_', ' ')}: {len(part)} zones, "
                    f"{users / 1e3:,.0f} k users unserved",
                )
            )
    if len(sites):
        chargers = sites["chargers"].to_numpy(float)
        size = 8 + 400 * np.sqrt(chargers / max(chargers.max(), 1))
        ax.scatter(
            sites.geometry.x,
            sites.geometry.y,
            s=size,
            color="#0072B2",
            alpha=0.6,
            edgecolor="white",
            linewidth=0.5,
            zorder=3,
        )
        for ref in sorted({int(np.quantile(chargers, q)) for q in (0.5, 0.99)} - {0}):
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="",
                    color="#0072B2",
                    alpha=0.6,
                    markersize=np.sqrt(8 + 400 * np.sqrt(ref / max(chargers.max(), 1))),
                    label=f"built site, {ref:,} chargers",
                )
            )
    s = plan.summary
    if title is None:
        users = s.get("premium_users")
        title = (
            f"{s.get('scenario', 'plan')}: {users / 1e6:,.1f} M premium users, "
            if users
            else f"{s.get('scenario', 'plan')}: "
        ) + (
            f"{s['sites_opened']} sites, {s['chargers']:,} chargers, "
            f"capex CNY {s['capex_cny'] / 1e9:,.2f} bn, {100 * s['coverage']:.1f} % of peak "
            "demand served"
        )
    ax.set_title(title, fontsize=11)
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=True)
    ax.set_axis_off()
    if path is not None:
        fig.savefig(path, dpi=dpi, format="png")
        plt.close(fig)
    return fig
