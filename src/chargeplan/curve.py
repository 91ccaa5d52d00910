"""Target and budget curves: what each extra million users (or each extra yuan) buys.

:func:`target_curve` plans the network for a list of premium-user targets, :func:`budget_curve`
for a list of capex budgets (``max_coverage``: the most demand served within each budget). Each
point is a full plan, solved exactly as ``chargeplan run`` would solve it, summarised in one
row; consecutive rows give the marginal figures:

- per target: ``capex_cny_per_extra_million_users = (capex_b - capex_a) / (users_b - users_a)
  * 1e6``, and the same for chargers: the answer to "what does each extra million users cost?";
- per budget: ``users_served_per_extra_bn_cny``, what each extra billion yuan buys.

Demand depends on the target, so each target point prepares its inputs afresh from the
scenario (reading the inputs takes well under a second, solving takes seconds to minutes);
budget points share one set of prepared inputs.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from chargeplan import _format
from chargeplan.demand import DemandWarning
from chargeplan.errors import ScenarioError
from chargeplan.pipeline import Inputs, plan_network, prepare
from chargeplan.plan import Plan
from chargeplan.scenario import Scenario
from chargeplan.solve import SolverOptions

log = logging.getLogger(__name__)

#: Summary figures copied into each row of a curve (missing ones are left empty).
SUMMARY_COLUMNS = (
    "scenario",
    "status",
    "gap",
    "premium_users",
    "unserved_users",
    "coverage",
    "demand_kwh",
    "sites_opened",
    "chargers",
    "capex_cny",
    "fixed_cost_cny",
    "charger_cost_cny",
    "access_cost_cny",
    "unmet_penalty_cny",
    "zones_with_gaps",
    "solve_seconds",
)

_SUFFIXES = {"": 1.0, "k": 1e3, "m": 1e6, "bn": 1e9, "b": 1e9}


def parse_amounts(text: str) -> list[float]:
    """Read a comma-separated list of amounts: ``"2M, 5M, 10M"``, ``"1.5bn,3e9"``, ``"500k"``.

    Suffixes (any case): ``k`` thousand, ``M`` million, ``bn`` or ``B`` billion.

    Raises
    ------
    ScenarioError
        For anything that is not a positive number, naming it.
    """
    amounts = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        match = re.fullmatch(r"([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z]*)", item.lower())
        if not match or match.group(2) not in _SUFFIXES:
            raise ScenarioError(
                f"'{item}' is not an amount: write numbers such as 2000000, 2e6, 2M, 1.5bn"
            )
        value = float(match.group(1)) * _SUFFIXES[match.group(2)]
        if not value > 0:
            raise ScenarioError(f"'{item}': amounts must be positive")
        amounts.append(value)
    if not amounts:
        raise ScenarioError(f"no amounts in '{text}': give a comma-separated list such as 2M,5M")
    return amounts


def _row(plan: Plan, types: Sequence[str]) -> dict[str, Any]:
    s = plan.summary
    row = {key: s.get(key, math.nan) for key in SUMMARY_COLUMNS}
    for name in types:
        row[f"chargers_{name}"] = s.get(f"chargers_{name}", math.nan)
    row["users_served"] = s.get("premium_users", math.nan) - s.get("unserved_users", math.nan)
    return row


def _solve_points(
    scenarios: Iterable[tuple[float, Scenario]],
    *,
    inputs: Inputs | None,
    solver: SolverOptions | None,
) -> list[dict[str, Any]]:
    rows = []
    for point, (value, scenario) in enumerate(scenarios):  # one MILP per point
        with warnings.catch_warnings():
            if point:  # the first point has warned about filled inputs already
                warnings.simplefilter("ignore", DemandWarning)
            plan = plan_network(scenario, inputs=inputs or prepare(scenario), solver=solver)
        log.info(
            "curve point %s: %s, capex %s, %s served",
            f"{value:,.0f}",
            plan.summary.get("status"),
            _format.cny(plan.summary.get("capex_cny")),
            _format.share(plan.summary.get("coverage")),
        )
        rows.append(_row(plan, scenario.charger_types))
    return rows


def _marginals(
    curve: pd.DataFrame, x: str, ys: Sequence[tuple[str, str]], per: float
) -> pd.DataFrame:
    """Add ``<y>_per_extra_<unit>`` columns: the slope from the previous row, times ``per``."""
    dx = curve[x].diff()
    for y, name in ys:
        curve[name] = curve[y].diff() / dx * per
    return curve


def target_curve(
    scenario: Scenario,
    targets: Sequence[float],
    *,
    solver: SolverOptions | None = None,
) -> pd.DataFrame:
    """Plan the network for each premium-user target.

    Parameters
    ----------
    scenario
        The scenario; only ``users.target_premium_users`` changes from point to point.
    targets
        Premium-user targets (sorted ascending in the result).
    solver
        Solver options for every point (default: the scenario's).

    Returns
    -------
    pandas.DataFrame
        One row per target: ``target_premium_users``, the summary figures
        (:data:`SUMMARY_COLUMNS`, ``chargers_<type>``), ``users_served`` and the marginal
        ``capex_cny_per_extra_million_users``, ``chargers_per_extra_million_users`` (from the
        previous, smaller target; empty on the first row) and ``capex_cny_per_user``.
    """
    values = sorted({round(float(t)) for t in targets})
    points = [(t, scenario.with_values({"users.target_premium_users": t})) for t in values]
    rows = _solve_points(points, inputs=None, solver=solver)
    curve = pd.DataFrame(rows)
    curve.insert(0, "target_premium_users", values)
    curve.insert(0, "curve", "target")
    curve["capex_cny_per_user"] = curve["capex_cny"] / curve["premium_users"]
    return _marginals(
        curve,
        "premium_users",
        [
            ("capex_cny", "capex_cny_per_extra_million_users"),
            ("chargers", "chargers_per_extra_million_users"),
        ],
        per=1e6,
    )


def budget_curve(
    scenario: Scenario,
    budgets: Sequence[float],
    *,
    solver: SolverOptions | None = None,
    inputs: Inputs | None = None,
) -> pd.DataFrame:
    """Plan the most coverage for each capex budget (objective ``max_coverage``).

    Parameters
    ----------
    scenario
        The scenario; ``model.objective`` becomes ``max_coverage`` and ``model.budget_cny``
        changes from point to point.
    budgets
        Capex budgets in CNY (sorted ascending in the result).
    solver
        Solver options for every point (default: the scenario's).
    inputs
        Prepared inputs to share between the points (default: prepared once here).

    Returns
    -------
    pandas.DataFrame
        One row per budget: ``budget_cny``, the summary figures, ``users_served`` and the
        marginal ``users_served_per_extra_bn_cny`` and ``coverage_per_extra_bn_cny``.
    """
    values = sorted({float(b) for b in budgets})
    inputs = inputs or prepare(scenario)
    points = [
        (b, scenario.with_values({"model.objective": "max_coverage", "model.budget_cny": b}))
        for b in values
    ]
    curve = pd.DataFrame(_solve_points(points, inputs=inputs, solver=solver))
    curve.insert(0, "budget_cny", values)
    curve.insert(0, "curve", "budget")
    return _marginals(
        curve,
        "budget_cny",
        [
            ("users_served", "users_served_per_extra_bn_cny"),
            ("coverage", "coverage_per_extra_bn_cny"),
        ],
        per=1e9,
    )


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
    """
    by_target = "target_premium_users" in curve.columns
    fig = Figure(figsize=(11, 7.2), layout="constrained")
    (ax_chargers, ax_cost), (ax_cover, ax_step) = fig.subplots(2, 2)
    if by_target:
        x_div, x_word = _format.scale(float(curve["premium_users"].max()))
        x = curve["premium_users"].to_numpy(float) / x_div
        xlabel = _unit("premium users", x_word)
    else:
        x_div, x_word = _format.money_scale(float(curve["budget_cny"].max()))
        x = curve["budget_cny"].to_numpy(float) / x_div
        xlabel = _unit("capex budget", x_word)
    c_div, c_word = _format.scale(float(curve["chargers"].max()))
    m_div, m_word = _format.money_scale(float(curve["capex_cny"].max()))
    u_div, u_word = _format.scale(float(curve["unserved_users"].max()))
    types = [c for c in curve.columns if c.startswith("chargers_") and "_per_" not in c]
    bottom = np.zeros(len(curve))
    for column, colour in zip(types, ("#0072B2", "#56B4E9", "#009E73", "#F0E442"), strict=False):
        values = curve[column].to_numpy(float) / c_div
        ax_chargers.fill_between(
            x,
            bottom,
            bottom + values,
            color=colour,
            alpha=0.8,
            label=column.removeprefix("chargers_").replace("_", " "),
        )
        bottom = bottom + values
    ax_chargers.plot(x, curve["chargers"] / c_div, "o-", color="#333333", label="all chargers")
    ax_chargers.set_ylabel(_unit("chargers", c_word))
    ax_chargers.set_title("Chargers", fontsize=10)
    ax_chargers.legend(fontsize=8, loc="upper left")

    parts = [("fixed_cost_cny", "sites", "#999999"), ("charger_cost_cny", "chargers", "#0072B2")]
    bottom = np.zeros(len(curve))
    for column, label, colour in parts:
        values = curve[column].to_numpy(float) / m_div
        ax_cost.fill_between(x, bottom, bottom + values, color=colour, alpha=0.8, label=label)
        bottom = bottom + values
    ax_cost.plot(x, curve["capex_cny"] / m_div, "o-", color="#333333", label="capex")
    for xi, yi in zip(x, curve["capex_cny"].to_numpy(float) / m_div, strict=True):
        ax_cost.annotate(
            f"{yi:,.2f}",
            (xi, yi),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=8,
        )
    ax_cost.set_ylabel(_unit("capex", m_word))
    ax_cost.set_title("Capex", fontsize=10)
    ax_cost.legend(fontsize=8, loc="upper left")

    ax_cover.plot(x, 100 * curve["coverage"], "o-", color="#009E73", label="peak demand served")
    ax_cover.set_ylabel("peak demand served, %", color="#009E73")
    ax_cover.set_ylim(min(80.0, float(100 * curve["coverage"].min()) - 2), 100.5)
    twin = ax_cover.twinx()
    twin.bar(
        x,
        curve["unserved_users"] / u_div,
        width=0.35 * np.min(np.diff(x), initial=x.max()),
        color="#D55E00",
        alpha=0.35,
    )
    twin.set_ylabel(_unit("users unserved", u_word), color="#D55E00")
    ax_cover.set_zorder(twin.get_zorder() + 1)
    ax_cover.patch.set_visible(False)
    ax_cover.set_title("Coverage", fontsize=10)

    if by_target:
        step = curve["capex_cny_per_extra_million_users"].to_numpy(float)[1:] / 1e6
        ylabel = "CNY per user (= CNY M per million users)"
        title = "What each extra million users costs (capex)"
        average = curve["capex_cny_per_user"].to_numpy(float)
        ax_step.plot(x, average, "o--", color="#333333", label="average: capex per user, CNY")
    else:
        step = curve["users_served_per_extra_bn_cny"].to_numpy(float)[1:] / 1e6
        ylabel = "million users served per extra CNY bn"
        title = "What each extra billion yuan buys"
    if len(x) > 1:
        mids = _midpoints(x)
        bars = ax_step.bar(
            mids,
            step,
            width=0.6 * np.diff(x),
            color="#CC79A7",
            alpha=0.85,
            label="marginal, between points",
        )
        ax_step.bar_label(
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
    ax_step.set_ylabel(ylabel)
    ax_step.set_title(title, fontsize=10)
    ax_step.legend(fontsize=8, loc="upper left")
    ax_step.margins(y=0.15)
    for ax in (ax_chargers, ax_cost, ax_cover, ax_step):
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        ax.set_xlim(0, x.max() * 1.05 if len(x) else 1)
    ax_chargers.set_ylim(bottom=0)
    ax_cost.set_ylim(0, 1.12 * float(curve["capex_cny"].max()) / m_div)
    ax_step.set_ylim(bottom=0)
    name = "premium-user target" if by_target else "capex budget"
    scenario = curve["scenario"].iloc[0] if "scenario" in curve and len(curve) else ""
    fig.suptitle(f"{scenario}: charging network by {name}".lstrip(": "), fontsize=12)
    if path is not None:
        fig.savefig(path, dpi=dpi, format="png", metadata={"Software": None})
    return fig


def write_curve(curve: pd.DataFrame, out_dir: str | Path) -> dict[str, Path]:
    """Write ``curve.csv`` and ``curve.png`` into ``out_dir`` (each atomically).

    Returns
    -------
    dict[str, pathlib.Path]
        What was written, by name.
    """
    from chargeplan.report import atomic_path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "curve.csv") as tmp:
        curve.to_csv(tmp, index=False)
    with atomic_path(out / "curve.png") as tmp:
        plot_curve(curve, tmp)
    return {"curve.csv": out / "curve.csv", "curve.png": out / "curve.png"}
