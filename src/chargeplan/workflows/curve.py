"""Target, budget and service-standard curves: what each extra million users, each extra yuan
or each extra point of coverage costs.

:func:`target_curve` plans the network for a list of premium-user targets, :func:`budget_curve`
for a list of capex budgets (``max_coverage``: the most demand served within each budget),
:func:`service_curve` for a list of service standards (the urban reach, every other reach
scaled with it: :func:`scaled_reach`). Each point is a full plan, solved exactly as
``chargeplan run`` would solve it (station economics included), summarised in one row;
consecutive rows give the marginal figures:

- per target: ``capex_cny_per_extra_million_users = (capex_b - capex_a) / (users_b - users_a)
  * 1e6``, and the same for chargers: the answer to "what does each extra million users cost?";
- per budget: ``users_served_per_extra_bn_cny``, what each extra billion yuan buys;
- per service standard: ``capex_cny_per_extra_coverage_point = (capex_b - capex_a) /
  (100 coverage_b - 100 coverage_a)``, and the same for the NPV: what each extra percentage
  point of the peak demand served costs.

Demand depends on the target, so each target point prepares its inputs afresh from the
scenario (reading the inputs takes well under a second, solving takes seconds to minutes);
budget points share one set of prepared inputs.

:func:`run_curve` is ``chargeplan curve``: it checks and locks the output folder before any
solve, keeps each finished point in ``.<folder>.points/`` beside the output folder
(:class:`PointStore`) so that a killed curve resumes where it stopped, and publishes
``curve.csv``, ``curve.png`` and ``manifest.json`` together as one folder
(:func:`chargeplan.outputs.files.atomic_dir`): all three or none. A rerun of a complete curve
with the same inputs solves nothing.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from chargeplan.config.scenario import Scenario
from chargeplan.config.service import SETTLEMENT_TYPES
from chargeplan.errors import ScenarioError
from chargeplan.inputs.demand import DemandWarning
from chargeplan.inputs.prepare import Inputs, prepare
from chargeplan.outputs import formatting
from chargeplan.outputs.curve_chart import write_curve
from chargeplan.outputs.files import atomic_dir, atomic_path, remove_stale_staging
from chargeplan.outputs.folder import output_folder
from chargeplan.outputs.manifest import (
    build_manifest,
    input_files,
    inputs_digest,
    read_manifest,
    sha256_file,
    verify,
    write_manifest,
)
from chargeplan.results.plan import Plan
from chargeplan.solver.options import SolverOptions
from chargeplan.workflows.network import plan_network
from chargeplan.workflows.options import solver_options
from chargeplan.workflows.standards import reach_unit, scaled_reach

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
    "npv_cny",
    "npv_without_support_cny",
    "payback_years",
    "payback_without_support_years",
    "stations_viable_only_with_support",
    "own_network_share",
    "competitor_share",
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
    row = {key: math.nan if s.get(key) is None else s[key] for key in SUMMARY_COLUMNS}
    for name in types:
        row[f"chargers_{name}"] = s.get(f"chargers_{name}", math.nan)
    row["users_served"] = s.get("premium_users", math.nan) - s.get("unserved_users", math.nan)
    for key in sorted(k for k in s if k.startswith("standard_") and k.endswith("_served_share")):
        row[key] = s[key]  # the share served within each settlement type's standard
    return row


@dataclass
class PointStore:
    """Finished curve points kept on disk, one JSON file per point, so a rerun resumes.

    A point's key is the digest of its scenario and solver options
    (:func:`chargeplan.outputs.manifest.inputs_digest`): a point is reused only for the same
    inputs. ``seconds`` collects the solve time of the points solved now, for the manifest.
    """

    folder: Path
    seconds: dict[str, float] = field(default_factory=dict)
    _file_hashes: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def key(self, scenario: Scenario, solver: SolverOptions | None) -> str:
        options = solver if solver is not None else solver_options(scenario)
        if not self._file_hashes:  # the points share their files: hash them once
            self._file_hashes.update(
                {
                    role: {"sha256": sha256_file(path)}
                    for role, path in input_files(scenario).items()
                    if path.is_file()
                }
            )
        return inputs_digest(
            scenario, solver=options, options={"curve_point": 2}, file_hashes=self._file_hashes
        )

    def load(self, key: str) -> dict[str, Any] | None:
        try:
            row = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return {k: math.nan if v is None else v for k, v in row.items()}

    def save(self, key: str, row: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        plain = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        with atomic_path(self.folder / f"{key}.json") as tmp:
            tmp.write_text(json.dumps(plain, default=_number) + "\n", encoding="utf-8")

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _number(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a curve point")


def _solve_points(
    scenarios: Iterable[tuple[float, Scenario]],
    *,
    inputs: Inputs | None,
    solver: SolverOptions | None,
    store: PointStore | None = None,
) -> list[dict[str, Any]]:
    rows = []
    for point, (value, scenario) in enumerate(scenarios):  # one MILP per point
        key = store.key(scenario, solver) if store is not None else ""
        row = store.load(key) if store is not None else None
        if row is not None:
            log.info("curve point %s: done in an earlier run", f"{value:,.0f}")
            rows.append(row)
            continue
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
        row = _row(plan, scenario.charger_types)
        if store is not None:
            store.save(key, row)
            store.seconds[f"{value:g}"] = float(plan.summary.get("solve_seconds") or 0.0)
        rows.append(row)
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
    store: PointStore | None = None,
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
    store
        Where finished points are kept and found again (default: nowhere).

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
    rows = _solve_points(points, inputs=None, solver=solver, store=store)
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
    store: PointStore | None = None,
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
        Prepared inputs to share between the points (default: prepared once here, unless every
        point is in ``store``).
    store
        Where finished points are kept and found again (default: nowhere).

    Returns
    -------
    pandas.DataFrame
        One row per budget: ``budget_cny``, the summary figures, ``users_served`` and the
        marginal ``users_served_per_extra_bn_cny`` and ``coverage_per_extra_bn_cny``.
    """
    values = sorted({float(b) for b in budgets})
    points = [
        (b, scenario.with_values({"model.objective": "max_coverage", "model.budget_cny": b}))
        for b in values
    ]
    if inputs is None and not (
        store is not None and all(store.load(store.key(p, solver)) for _, p in points)
    ):
        inputs = prepare(scenario)
    curve = pd.DataFrame(_solve_points(points, inputs=inputs, solver=solver, store=store))
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


def service_curve(
    scenario: Scenario,
    standards: Sequence[float],
    *,
    solver: SolverOptions | None = None,
    store: PointStore | None = None,
) -> pd.DataFrame:
    """Plan the network for each service standard (the urban reach: :func:`scaled_reach`).

    Parameters
    ----------
    scenario
        The scenario; only its reach changes from point to point. A wider reach only adds
        pairs, so it never raises the least-cost objective of the same demand (with
        ``[competition]`` the demand changes too: third parties' share depends on the reach,
        ``docs/competition.md``).
    standards
        Urban reaches, in km (minutes for a travel-time standard), sorted ascending in the
        result.
    solver
        Solver options for every point (default: the scenario's).
    store
        Where finished points are kept and found again (default: nowhere).

    Returns
    -------
    pandas.DataFrame
        One row per standard: ``urban_reach_km`` (or ``_minutes``), ``suburban_reach_<unit>``,
        ``rural_reach_<unit>``, the summary figures (:data:`SUMMARY_COLUMNS`, with the NPVs of
        a scenario with ``[economics]`` and ``standard_<type>_served_share`` with a standard),
        ``users_served``, and the marginal ``capex_cny_per_extra_coverage_point`` and
        ``npv_cny_per_extra_coverage_point`` (from the previous, narrower standard, per
        percentage point of the peak demand served; empty on the first row and where the
        coverage does not change).
    """
    values = sorted({float(v) for v in standards})
    scenarios = [scenario.with_values(scaled_reach(scenario, v)) for v in values]
    rows = _solve_points(
        list(zip(values, scenarios, strict=True)), inputs=None, solver=solver, store=store
    )
    curve = pd.DataFrame(rows)
    unit = reach_unit(scenario)
    for settlement in reversed(SETTLEMENT_TYPES):
        curve.insert(
            0,
            f"{settlement}_reach_{unit}",
            [
                p.reach.standard.reach(settlement)
                if p.reach.standard
                else p.reach.service_radius_km
                for p in scenarios
            ],
        )
    curve.insert(0, "curve", "service")
    points = curve["coverage"] * 100
    step = points.diff().where(lambda d: d.abs() > 1e-9)  # no change: no marginal cost
    for y, name in (
        ("capex_cny", "capex_cny_per_extra_coverage_point"),
        ("npv_cny", "npv_cny_per_extra_coverage_point"),
    ):
        curve[name] = curve[y].diff() / step
    return curve


@dataclass(frozen=True)
class CurveRun:
    """What :func:`run_curve` made: the curve, its files, and whether it was complete already."""

    curve: pd.DataFrame
    folder: Path
    files: tuple[str, ...]
    manifest: dict[str, Any]
    resumed: bool


def run_curve(
    scenario: Scenario,
    out_dir: str | Path,
    *,
    targets: Sequence[float] | None = None,
    budgets: Sequence[float] | None = None,
    standards: Sequence[float] | None = None,
    solver: SolverOptions | None = None,
    force: bool = False,
    command: list[str] | None = None,
) -> CurveRun:
    """Plan a target curve (a budget curve if ``budgets``, a service-standard curve if
    ``standards``: :func:`service_curve`) into ``out_dir``, resumably.

    The folder is checked and locked first (:func:`chargeplan.outputs.folder.output_folder`);
    points finished by an earlier, killed run of the same inputs are reused
    (:class:`PointStore`, ``.<folder>.points/`` beside it, removed once the curve is
    published); ``curve.csv``, ``curve.png`` and ``manifest.json`` are published together. A
    folder holding a complete curve of the same inputs is left as it is.
    """
    solver = solver if solver is not None else solver_options(scenario)
    kind, values = (
        ("budget", budgets)
        if budgets is not None
        else ("service", standards)
        if standards is not None
        else ("target", targets)
    )
    options = {"curve": kind, "values": sorted(float(v) for v in values or ())}
    digest = inputs_digest(scenario, solver=solver, options=options)
    with output_folder(out_dir, inputs=input_files(scenario).values(), force=force) as final:
        done = read_manifest(final)
        if done is not None and done.get("inputs_sha256") == digest and not verify(final, done):
            curve = pd.read_csv(final / "curve.csv")
            return CurveRun(curve, final, tuple(done["outputs"]), done, resumed=True)
        store = PointStore(final.parent / f".{final.name}.points")
        remove_stale_staging(store.folder)
        start = time.perf_counter()
        if kind == "budget":
            curve = budget_curve(scenario, values or (), solver=solver, store=store)
        elif kind == "service":
            curve = service_curve(scenario, values or (), solver=solver, store=store)
        else:
            curve = target_curve(scenario, values or (), solver=solver, store=store)
        timings = {"total_s": time.perf_counter() - start, "point_solve_s": store.seconds}
        with atomic_dir(final, force=force) as stage:
            written = write_curve(curve, stage)
            manifest = build_manifest(
                scenario,
                stage,
                written,
                summary={},
                solver=solver,
                options=options,
                timings=timings,  # type: ignore[arg-type]
                command=command,
            )
            write_manifest(manifest, stage)
        store.clear()
    return CurveRun(curve, final, tuple(written), manifest, resumed=False)
