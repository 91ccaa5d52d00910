"""The chart and files of a target, budget or service-standard curve (``curve.png``,
``curve.csv``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from chargeplan.outputs import formatting
from chargeplan.outputs.service_chart import is_service_curve, plot_service_curve


def _unit(label: str, word: str) -> str:
    return f"{label}, {word}" if word else label


def _midpoints(x: np.ndarray) -> np.ndarray:
    return (x[1:] + x[:-1]) / 2


def plot_curve(curve: pd.DataFrame, path: str | Path | None = None, *, dpi: int = 130) -> Figure:
    """Chart a curve: chargers, cost, coverage and the marginal cost of each step.

    Parameters
    ----------
    curve
        :func:`target_curve` or :func:`budget_curve`.
    path
        Write a PNG here if given.
    dpi
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure
        A service-standard curve is charted by
        :func:`chargeplan.outputs.service_chart.plot_service_curve`.
    """
    if is_service_curve(curve):
        return plot_service_curve(curve, path, dpi=dpi)
    by_target = "target_premium_users" in curve.columns
    fig = Figure(figsize=(11, 7.2), layout="constrained")
    (ax_chargers, ax_cost), (ax_cover, ax_step) = fig.subplots(2, 2)
    x, xlabel = _x_axis(curve, by_target)
    _plot_chargers(ax_chargers, x, curve)
    _plot_capex(ax_cost, x, curve)
    _plot_coverage(ax_cover, x, curve)
    _plot_marginal(ax_step, x, curve, by_target)
    for ax in (ax_chargers, ax_cost, ax_cover, ax_step):
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        ax.set_xlim(0, x.max() * 1.05 if len(x) else 1)
    ax_chargers.set_ylim(bottom=0)
    m_div, _ = formatting.money_scale(float(curve["capex_cny"].max()))
    ax_cost.set_ylim(0, 1.12 * float(curve["capex_cny"].max()) / m_div)
    ax_step.set_ylim(bottom=0)
    name = "premium-user target" if by_target else "capex budget"
    scenario = curve["scenario"].iloc[0] if "scenario" in curve and len(curve) else ""
    fig.suptitle(f"{scenario}: charging network by {name}".lstrip(": "), fontsize=12)
    if path is not None:
        fig.savefig(path, dpi=dpi, format="png", metadata={"Software": None})
    return fig


def _x_axis(curve: pd.DataFrame, by_target: bool) -> tuple[np.ndarray, str]:
    """The curve's points along the x axis (premium users or budget, scaled) and its label."""
    if by_target:
        x_div, x_word = formatting.scale(float(curve["premium_users"].max()))
        return curve["premium_users"].to_numpy(float) / x_div, _unit("premium users", x_word)
    x_div, x_word = formatting.money_scale(float(curve["budget_cny"].max()))
    return curve["budget_cny"].to_numpy(float) / x_div, _unit("capex budget", x_word)


def _plot_chargers(ax: Axes, x: np.ndarray, curve: pd.DataFrame) -> None:
    """Chargers of each type, stacked, and their total."""
    c_div, c_word = formatting.scale(float(curve["chargers"].max()))
    types = [c for c in curve.columns if c.startswith("chargers_") and "_per_" not in c]
    bottom = np.zeros(len(curve))
    for column, colour in zip(types, ("#0072B2", "#56B4E9", "#009E73", "#F0E442"), strict=False):
        values = curve[column].to_numpy(float) / c_div
        ax.fill_between(
            x,
            bottom,
            bottom + values,
            color=colour,
            alpha=0.8,
            label=column.removeprefix("chargers_").replace("_", " "),
        )
        bottom = bottom + values
    ax.plot(x, curve["chargers"] / c_div, "o-", color="#333333", label="all chargers")
    ax.set_ylabel(_unit("chargers", c_word))
    ax.set_title("Chargers", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")


def _plot_capex(ax: Axes, x: np.ndarray, curve: pd.DataFrame) -> None:
    """Capex, stacked as sites and chargers, each point labelled with its total."""
    m_div, m_word = formatting.money_scale(float(curve["capex_cny"].max()))
    parts = [("fixed_cost_cny", "sites", "#999999"), ("charger_cost_cny", "chargers", "#0072B2")]
    bottom = np.zeros(len(curve))
    for column, label, colour in parts:
        values = curve[column].to_numpy(float) / m_div
        ax.fill_between(x, bottom, bottom + values, color=colour, alpha=0.8, label=label)
        bottom = bottom + values
    ax.plot(x, curve["capex_cny"] / m_div, "o-", color="#333333", label="capex")
    for xi, yi in zip(x, curve["capex_cny"].to_numpy(float) / m_div, strict=True):
        ax.annotate(
            f"{yi:,.2f}",
            (xi, yi),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=8,
        )
    ax.set_ylabel(_unit("capex", m_word))
    ax.set_title("Capex", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")


def _plot_coverage(ax: Axes, x: np.ndarray, curve: pd.DataFrame) -> None:
    """Share of peak demand served (line) and users unserved (bars, on a twin axis)."""
    u_div, u_word = formatting.scale(float(curve["unserved_users"].max()))
    ax.plot(x, 100 * curve["coverage"], "o-", color="#009E73", label="peak demand served")
    ax.set_ylabel("peak demand served, %", color="#009E73")
    ax.set_ylim(min(80.0, float(100 * curve["coverage"].min()) - 2), 100.5)
    twin = ax.twinx()
    twin.bar(
        x,
        curve["unserved_users"] / u_div,
        width=0.35 * np.min(np.diff(x), initial=x.max()),
        color="#D55E00",
        alpha=0.35,
    )
    twin.set_ylabel(_unit("users unserved", u_word), color="#D55E00")
    ax.set_zorder(twin.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.set_title("Coverage", fontsize=10)


def _plot_marginal(ax: Axes, x: np.ndarray, curve: pd.DataFrame, by_target: bool) -> None:
    """What each step between points costs (by target) or buys (by budget), as bars."""
    if by_target:
        step = curve["capex_cny_per_extra_million_users"].to_numpy(float)[1:] / 1e6
        ylabel = "CNY per user (= CNY M per million users)"
        title = "What each extra million users costs (capex)"
        average = curve["capex_cny_per_user"].to_numpy(float)
        ax.plot(x, average, "o--", color="#333333", label="average: capex per user, CNY")
    else:
        step = curve["users_served_per_extra_bn_cny"].to_numpy(float)[1:] / 1e6
        ylabel = "million users served per extra CNY bn"
        title = "What each extra billion yuan buys"
    if len(x) > 1:
        bars = ax.bar(
            _midpoints(x),
            step,
            width=0.6 * np.diff(x),
            color="#CC79A7",
            alpha=0.85,
            label="marginal, between points",
        )
        ax.bar_label(
            bars,
            labels=[
                (
                    ""
                    if not v > 0.08 * np.nanmax(step)
                    else f"{v:,.0f}"
                    if by_target
                    else f"{v:,.2f}"
                )
                for v in step
            ],
            label_type="center",
            color="white",
            fontsize=9,
            fontweight="bold",
        )
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.margins(y=0.15)


def write_curve(curve: pd.DataFrame, out_dir: str | Path) -> dict[str, Path]:
    """Write ``curve.csv`` and ``curve.png`` into ``out_dir`` (each atomically; formula-like
    text neutralised in the CSV, :func:`chargeplan.outputs.files.write_csv`).

    ``chargeplan curve`` writes them into a staging folder published as a whole
    (:func:`chargeplan.workflows.curve.run_curve`).

    Returns
    -------
    dict[str, pathlib.Path]
        What was written, by name.
    """
    from chargeplan.outputs.files import atomic_path, write_csv

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(curve, out / "curve.csv", index=False)
    with atomic_path(out / "curve.png") as tmp:
        plot_curve(curve, tmp)
    return {"curve.csv": out / "curve.csv", "curve.png": out / "curve.png"}
