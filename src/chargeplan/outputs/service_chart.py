"""The chart of a service-standard curve (``curve.png`` of ``chargeplan curve
--service-standards``): network NPV and capex, coverage, and what each extra point of coverage
costs, against the service standard (the urban reach;
:func:`chargeplan.workflows.curve.service_curve`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from chargeplan.outputs import formatting

__all__ = ["is_service_curve", "plot_service_curve"]

#: Colours (Okabe-Ito, as the other charts): NPV with and without support (chargers' capex),
#: site capex, coverage, marginal cost.
_NPV, _NPV_WITHOUT, _CAPEX, _COVER, _STEP = "#0072B2", "#D55E00", "#999999", "#009E73", "#CC79A7"


def _reach_column(curve: pd.DataFrame) -> str | None:
    return next((c for c in ("urban_reach_km", "urban_reach_minutes") if c in curve.columns), None)


def is_service_curve(curve: pd.DataFrame) -> bool:
    """Whether ``curve`` is a service-standard curve (it has an ``urban_reach_*`` column)."""
    return _reach_column(curve) is not None


def plot_service_curve(
    curve: pd.DataFrame, path: str | Path | None = None, *, dpi: int = 130
) -> Figure:
    """Chart a service-standard curve: network NPV (with and without support), capex (with the
    stations opened), the peak demand served, and the marginal capex of each extra point of
    coverage, each against the urban reach.

    Parameters
    ----------
    curve
        :func:`chargeplan.workflows.curve.service_curve`.
    path
        Write a PNG here if given.
    dpi
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    column = _reach_column(curve)
    if column is None:
        raise ValueError("not a service-standard curve: no urban_reach_km column")
    x = curve[column].to_numpy(float)
    unit = column.rsplit("_", 1)[-1]
    scaled = any(
        f"{t}_reach_{unit}" in curve and not np.allclose(curve[f"{t}_reach_{unit}"], x)
        for t in ("suburban", "rural")
    )
    xlabel = f"urban reach, {unit}" + (" (suburban and rural scaled with it)" if scaled else "")
    if not scaled and unit == "km":
        xlabel = "reach of every zone, km"
    fig = Figure(figsize=(11, 7.2), layout="constrained")
    (ax_npv, ax_capex), (ax_cover, ax_step) = fig.subplots(2, 2)
    _plot_npv(ax_npv, x, curve)
    _plot_capex(ax_capex, x, curve)
    _plot_coverage(ax_cover, x, curve)
    _plot_step(ax_step, x, curve)
    for ax in (ax_npv, ax_capex, ax_cover, ax_step):
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    scenario = str(curve["scenario"].iloc[0]).split(" urban=")[0].split(" reach=")[0]
    fig.suptitle(f"{scenario}: the network against the service standard", fontsize=12)
    if path is not None:
        fig.savefig(path, dpi=dpi, format="png", metadata={"Software": None})
    return fig


def _plot_npv(ax: Axes, x: np.ndarray, curve: pd.DataFrame) -> None:
    """The network's NPV with and without state support."""
    if "npv_cny" not in curve or not curve["npv_cny"].notna().any():
        ax.text(0.5, 0.5, "no [economics] in the scenario", ha="center", transform=ax.transAxes)
        ax.set_title("Network NPV", fontsize=10)
        return
    values = curve[["npv_cny", "npv_without_support_cny"]].to_numpy(float)
    divisor, word = formatting.money_scale(float(np.nanmax(np.abs(values))))
    ax.plot(x, values[:, 0] / divisor, "o-", color=_NPV, label="with state support")
    ax.plot(x, values[:, 1] / divisor, "s--", color=_NPV_WITHOUT, label="without")
    for xi, yi in zip(x, values[:, 0] / divisor, strict=True):
        ax.annotate(f"{yi:,.2f}", (xi, yi), textcoords="offset points", xytext=(0, 7),
                    ha="center", fontsize=8, color=_NPV)  # fmt: skip
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.set_ylabel(f"NPV, {word}")
    ax.set_title("Network NPV", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.margins(y=0.2)


def _plot_capex(ax: Axes, x: np.ndarray, curve: pd.DataFrame) -> None:
    """Capex, stacked as sites and chargers, each point labelled with its stations."""
    divisor, word = formatting.money_scale(float(curve["capex_cny"].max()))
    width = 0.4 * float(np.min(np.diff(x), initial=max(float(x.max()), 1.0)))
    bottom = np.zeros(len(curve))
    for column, label, colour in (
        ("fixed_cost_cny", "sites", _CAPEX),
        ("charger_cost_cny", "chargers", _NPV),
    ):
        values = curve[column].fillna(0.0).to_numpy(float) / divisor
        bars = ax.bar(x, values, width=width, bottom=bottom, color=colour, label=label)
        bottom = bottom + values
    labels = [
        f"{c / divisor:,.2f}\n{int(n):,} station{'s' * (int(n) != 1)}"
        for c, n in zip(curve["capex_cny"], curve["sites_opened"], strict=True)
    ]
    ax.bar_label(bars, labels=labels, fontsize=8)
    ax.set_ylabel(f"capex, {word}")
    ax.set_title("Capex", fontsize=10)
    ax.set_ylim(0, 1.45 * float(curve["capex_cny"].max()) / divisor)  # room for the legend
    ax.legend(fontsize=8, loc="upper left", ncols=2)


def _plot_coverage(ax: Axes, x: np.ndarray, curve: pd.DataFrame) -> None:
    """Share of the peak demand served, in all and within each settlement type's standard."""
    ax.plot(x, 100 * curve["coverage"], "o-", color=_COVER, linewidth=2, label="all peak demand")
    for settlement, style in (("urban", ":"), ("suburban", "-."), ("rural", "--")):
        column = f"standard_{settlement}_served_share"
        if column in curve and curve[column].notna().any():
            ax.plot(x, 100 * curve[column], style, color="#333333", label=f"{settlement}, in reach")
    for xi, yi in zip(x, 100 * curve["coverage"].to_numpy(float), strict=True):
        ax.annotate(f"{yi:.1f}", (xi, yi), textcoords="offset points", xytext=(0, -13),
                    ha="center", fontsize=8, color=_COVER)  # fmt: skip
    ax.set_ylabel("peak demand served, %")
    ax.set_title("Coverage", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.margins(y=0.15)


def _plot_step(ax: Axes, x: np.ndarray, curve: pd.DataFrame) -> None:
    """Capex per extra percentage point of coverage between consecutive standards."""
    step = curve["capex_cny_per_extra_coverage_point"].to_numpy(float)[1:]
    finite = step[np.isfinite(step)]
    divisor, word = formatting.money_scale(float(np.abs(finite).max()) if len(finite) else 0.0)
    if len(x) > 1:
        middle = (x[1:] + x[:-1]) / 2
        bars = ax.bar(middle, np.nan_to_num(step / divisor), width=0.6 * np.diff(x), color=_STEP)
        labels = ["no change" if not np.isfinite(v) else f"{v:,.2f}" for v in step / divisor]
        ax.bar_label(bars, labels=labels, fontsize=8)
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.set_ylabel(f"{word} per extra point served")
    ax.set_title("What each extra point of coverage costs (capex)", fontsize=10)
    ax.margins(y=0.15)
