"""Charts of plans over time: the multi-year rollout."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure


def plot_rollout(
    years: pd.DataFrame, path: str | Path | None = None, *, title: str = "", dpi: int = 150
) -> Figure:
    """Premium users vs chargers vs cumulative capex, year by year.

    Parameters
    ----------
    years
        The ``years`` table of a rollout plan (:attr:`chargeplan.results.plan.Plan.years`).
    path
        Write a PNG here if given.
    title
        Figure title.
    dpi
        Resolution of the PNG.
    """
    fig = Figure(figsize=(13, 4.2), layout="constrained")  # no pyplot: no global state
    axes = fig.subplots(1, 3)
    x = years["year"].astype(int).astype(str)
    axes[0].bar(x, years["premium_users"] / 1e6, color="#0072B2")
    axes[0].set_title("premium users (M)")
    bottom = None
    chargers = [
        c for c in years.columns if c.startswith("chargers_") and not c.startswith("chargers_added")
    ]
    for column, colour in zip(chargers, ["#D55E00", "#009E73", "#CC79A7", "#E69F00"], strict=False):
        values = years[column] / 1e3
        axes[1].bar(
            x,
            values,
            bottom=bottom,
            color=colour,
            label=column.removeprefix("chargers_").replace("_", " "),
        )
        bottom = values if bottom is None else bottom + values
    axes[1].set_title("chargers in the network (thousands)")
    axes[1].legend(fontsize=8, loc="upper left")
    axes[2].plot(
        x,
        years["cumulative_capex_cny"] / 1e9,
        marker="o",
        color="#000000",
        label="cumulative capex",
    )
    axes[2].bar(x, years["capex_cny"] / 1e9, color="#BBBBBB", label="capex in the year")
    if years["budget_cny"].notna().any():
        axes[2].plot(
            x, years["budget_cny"] / 1e9, linestyle="--", color="#D55E00", label="annual budget"
        )
    axes[2].set_title("capex (CNY bn)")
    axes[2].legend(fontsize=8, loc="upper left")
    for ax, column in zip(axes, ["premium_users", None, None], strict=True):
        ax.spines[["top", "right"]].set_visible(False)
        if column:
            for xi, value in zip(x, years[column] / 1e6, strict=True):
                ax.annotate(f"{value:g}", (xi, value), ha="center", va="bottom", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    if path is not None:
        fig.savefig(path, dpi=dpi, format="png")
    return fig
