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
from typing import Any

import pandas as pd

from chargeplan.config.scenario import Scenario
from chargeplan.errors import ScenarioError
from chargeplan.inputs.demand import DemandWarning
from chargeplan.inputs.prepare import Inputs, prepare
from chargeplan.outputs import formatting
from chargeplan.results.plan import Plan
from chargeplan.solver.options import SolverOptions
from chargeplan.workflows.network import plan_network

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
            formatting.cny(plan.summary.get("capex_cny")),
            formatting.share(plan.summary.get("coverage")),
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
