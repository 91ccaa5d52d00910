"""The default rollout: the path before issue 13 against the LP-guided plan, in one run.

Both solve ``models/china-rollout-2026-2030.toml`` (369 zones, 400 sites, five years, CNY 4 bn a
year) as one multi-year model (``chargeplan.solver.rollout.solve_rollout``), with the
scenario's 0.5 % gap:

- **before**: ``start="year_by_year"``: each year planned on its own within a share of the time
  limit (the myopic start), then HiGHS on the whole model for the rest of ``--before-limit``
  seconds;
- **now**: ``start="lp"`` (the default): the LP-guided plan of ``chargeplan.solver.rollout_lp``,
  certified by the LP relaxation's bound; HiGHS only if that gap is above 0.5 %. It runs twice,
  to show the plan does not change.

For each it prints the time to a plan within 0.5 % of a valid bound (for "before": HiGHS's log
read at the first line with a gap of 0.5 % or less, plus the time before HiGHS started; "not
reached" if none), the wall and CPU seconds of the whole solve (CPU: this process, all
threads), objective, bound, gap, status, then the ratios before / now. Wall seconds depend on
the machine's load, printed with them (the 2-core machine is shared); CPU seconds less so.

Run from the repository root (the "before" path takes its whole limit: about 10 minutes)::

    PYTHONPATH=src python benchmarks/rollout.py

``--budgets 3e9 2.5e9 0`` instead prints, for each annual budget (0: none), the LP-guided plan
alone (``chargeplan.solver.rollout_lp.lp_guided_plan``): its cost, the LP bound, the gap and the
CPU seconds (no "before" path).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chargeplan.config.scenario import load_scenario
from chargeplan.model.rollout import RolloutProblem, build_rollout
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.rollout import RolloutSolution, Start, solve_rollout
from chargeplan.solver.rollout_lp import lp_guided_plan
from chargeplan.workflows.rollout import rollout_problem

SCENARIO = Path(__file__).parents[1] / "models" / "china-rollout-2026-2030.toml"
#: A B&B line of HiGHS's log: ... gap %, cuts, in LP, conflicts, LP iterations, time.
_LOG_LINE = re.compile(r"([\d.]+)%\s+\d+\s+\d+\s+\d+\s+\d+\s+([\d.]+)s\s*$")


@dataclass(frozen=True)
class Run:
    """One solve's figures."""

    name: str
    result: RolloutSolution
    wall: float
    cpu: float
    to_gap: float | None


def _first_within(log: str, gap_pct: float) -> float | None:
    """Seconds into HiGHS's run of the first log line with a gap of at most ``gap_pct``."""
    for line in log.splitlines():
        found = _LOG_LINE.search(line)
        if found and float(found.group(1)) <= gap_pct:
            return float(found.group(2))
    return None


def _solve(name: str, problem: RolloutProblem, options: SolverOptions, start: Start) -> Run:
    with tempfile.TemporaryDirectory() as folder:
        log_file = os.path.join(folder, "highs.log")
        wall, cpu = time.perf_counter(), time.process_time()
        logged = dataclasses.replace(options, log_file=log_file)
        result = solve_rollout(problem, logged, start=start)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        log = Path(log_file).read_text() if os.path.exists(log_file) else ""
    target = 100 * options.mip_rel_gap
    if "no branch and bound" in result.method:
        to_gap: float | None = wall
    else:  # HiGHS ran last, for solve_seconds; what came before it counts too
        within = _first_within(log, target)
        to_gap = None if within is None else wall - result.solve_seconds + within
    return Run(name, result, wall, cpu, to_gap)


def _row(run: Run) -> str:
    r = run.result
    reached = "not reached" if run.to_gap is None else f"{run.to_gap:.1f}"
    return (
        f"| {run.name} | {reached} | {run.wall:.1f} | {run.cpu:.1f} | {r.objective / 1e9:.4f} | "
        f"{r.bound / 1e9:.4f} | {100 * r.gap:.2f} % | {r.status} |"
    )


def main() -> None:
    """Print the table of the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before-limit", type=float, default=600.0, help="seconds (scenario's)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--budgets", type=float, nargs="+", help="annual budgets, CNY (0: none)")
    args = parser.parse_args()
    scenario = load_scenario(SCENARIO)
    problem, _, _ = rollout_problem(scenario)
    if args.budgets:
        _budget_variants(problem, args.budgets)
        return
    gap = scenario.solver.mip_rel_gap
    print(f"{SCENARIO.name}: mip_rel_gap {gap}, load average {os.getloadavg()[0]:.1f}")
    now = [
        _solve(f"now (run {i})", problem, SolverOptions(600.0, gap, args.threads), "lp")
        for i in (1, 2)
    ]
    before_options = SolverOptions(args.before_limit, gap, args.threads)
    before = _solve("before", problem, before_options, "year_by_year")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(
        "| path | time to 0.5 % (s) | wall (s) | CPU (s) | objective (CNY bn) | bound (CNY bn) |"
        " gap | status |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for run in (before, *now):
        print(_row(run))
    same = all(
        np.array_equal(a.chargers, b.chargers) and np.array_equal(a.open_site, b.open_site)
        for a, b in zip(now[0].result.solutions, now[1].result.solutions, strict=True)
    )
    print(f"now: the two runs give the same plan: {same} ({now[0].result.method})")
    first = now[0]
    if before.to_gap is None:
        print(f"time to 0.5 %: before not reached in {before.wall:.0f} s; now {first.to_gap:.1f} s")
    else:
        assert first.to_gap is not None
        print(f"time to 0.5 %: before / now = {before.to_gap / first.to_gap:.1f}x")
    print(f"CPU: before / now = {before.cpu / first.cpu:.1f}x")
    print(f"objective: now / before = {first.result.objective / before.result.objective:.4f}")


def _budget_variants(problem: RolloutProblem, budgets: list[float]) -> None:
    """The LP-guided plan alone for each annual budget (module docstring)."""
    print(
        "| annual budget (CNY bn) | plan (CNY bn) | LP bound (CNY bn) | gap | threshold | CPU (s) |"
    )
    print("|---|---|---|---|---|---|")
    for budget in budgets:
        periods = tuple(dataclasses.replace(p, budget=budget or None) for p in problem.periods)
        variant = dataclasses.replace(problem, periods=periods)
        lp, index = build_rollout(variant)
        cpu = time.process_time()
        plan = lp_guided_plan(variant, lp, index)
        cpu = time.process_time() - cpu
        name = f"{budget / 1e9:g}" if budget else "none"
        if plan is None:
            print(f"| {name} | no plan | | | | {cpu:.1f} |")
            continue
        print(
            f"| {name} | {plan.objective / 1e9:.4f} | {plan.bound / 1e9:.4f} | "
            f"{100 * plan.gap:.2f} % | {plan.threshold:g} | {cpu:.1f} |"
        )


if __name__ == "__main__":
    main()
