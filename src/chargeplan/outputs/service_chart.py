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

#: Colours (Okabe-Ito, as the other charts): NPV with and without support, capex, coverage.
_NPV, _NPV_WITHOUT, _CAPEX, _COVER, _STEP = "#0072B2", "#D55E00", "#999999", "#009E73", "#CC79A7"


def _reach_column(curve: pd.DataFrame) -> str | None:
    return next((c for c in ("urban_reach_km", "urban_reach_minutes") if c in curve.columns), None)


def is_service_curve(curve: pd.DataFrame) -> bool:
    """Whether ``curve`` is a service-standard curve (it has an ``urban_reach_*`` column)."""
    return _reach_column(curve) is not None


def plot_service_curve(
    curve: pd.DataFrame, path: str | Path | None = None, *, dpi: int = 130
) -> Figure:
    """Chart a service-standard curve: network NPV (with and without support) and capex,
    the peak demand served, and the marginal capex of each extra point of coverage, each
    against the urban reach.

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
    (ax_money, ax_cover), (ax_step, ax_chargers) = fig.subplots(2, 2)
    _plot_money(ax_money, x, curve)
    _plot_coverage(ax_cover, x, curve)
    _plot_step(ax_step, x, curve)
    _plot_chargers(ax_chargers, x, curve)
    for ax in (ax_money, ax_cover, ax_step, ax_chargers):
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    scenario = str(curve["scenario"].iloc[0]).split(" urban=")[0].split(" reach=")[0]
    fig.suptitle(f"{scenario}: the network against the service standard", fontsize=12)
    if path is not None:
        fig.savefig(path, dpi=dpi, format="png", metadata={"Software": None})
    return fig


def _plot_money(ax: Axes, x: np.ndarray, curve: pd.DataFrame) -> None:
    """Capex (bars) and the network's NPV with and without support (lines), one scale."""
    series = [curve["capex_cny"].to_numpy(float)]
    has_npv = "npv_cny" in curve and bool(curve["npv_cny"].notna().any())
    if has_npv:
        series += [curve[c].to_numpy(float) for c in ("npv_cny", "npv_without_support_cny")]
    divisor, word = formatting.money_scale(float(np.nanmax(np.abs(np.concatenate(series)))))
    width = 0.35 * float(np.min(np.diff(x), initial=max(float(x.max()), 1.0)))
    bars = ax.bar(x, series[0] / divisor, width=width, color=_CAPEX, label="capex")
    ax.bar_label(bars, labels=[f"{v:,.2f}" for v in series[0] / divisor], fontsize=8)
    if has_npv:
        ax.plot(x, series[1] / divisor, "o-", color=_NPV, label="NPV with support")
        ax.plot(x, series[2] / divisor, "s--", color=_NPV_WITHOUT, label="NPV without support")
        for xi, yi in zip(x, series[1] / divisor, strict=True):
            ax.annotate(f"{yi:,.2f}", (xi, yi), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=8, color=_NPV)  # fmt: skip
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.set_ylabel(word)
    ax.set_title("Network NPV and capex" if has_npv else "Capex", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.margins(y=0.15)


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
    ax.set_ylabel(f"{word} per extra point of peak demand served")
    ax.set_title("What each extra point of coverage costs (capex)", fontsize=10)
    ax.margins(y=0.15)


def _plot_chargers(ax: Axes, x: np.ndarray, curve: pd.DataFrame) -> None:
    """Stations opened and chargers (twin axes)."""
    ax.plot(x, curve["sites_opened"], "o-", color=_NPV, label="stations")
    ax.set_ylabel("stations opened", color=_NPV)
    ax.set_ylim(bottom=0)
    twin = ax.twinx()
    divisor, word = formatting.scale(float(curve["chargers"].max()))
    twin.plot(x, curve["chargers"] / divisor, "s--", color=_NPV_WITHOUT, label="chargers")
    twin.set_ylabel(f"chargers, {word}".rstrip(", "), color=_NPV_WITHOUT)
    twin.set_ylim(bottom=0)
    twin.tick_params(labelsize=8)
    ax.set_title("Stations and chargers", fontsize=10)
