r"""The national station plan's growth: one table at 1/4, 1/2, 1 and 2 times the default size.

For each resolution budget ``f`` (``--budgets``, default 0.25 0.5 1 2) the whole national
station plan of ``models/china-2030-stations.toml`` is made in a child process of its own, as
``chargeplan run models/china-2030-stations.toml --decompose components --workers 2`` makes it
(through the public API, in the child: :func:`chargeplan.prepare`, then
:func:`chargeplan.plan_network` with the regions on a local Dask cluster of ``--workers``
processes; ``--outputs DIR`` also writes the plan's files, without maps and report). The budget
divides both density thresholds, as ``benchmarks/national_layer.py`` does
(``fine_zones.urban_density_per_km2`` = 1,500 / f, ``suburban_density_per_km2`` = 300 / f): a
larger budget splits sparser base cells into fine cells. ``--regions`` keeps a slice
(``fine_zones.regions``, the national demand kept) for a small run. ``--set KEY=VALUE``
(repeatable, the value read as TOML) changes the scenario further, e.g. the service standard:
``--set 'reach.standard={settlement_column="settlement"}'``.

Recorded per budget: cells, candidates, pairs, the reach graph's components (and the largest
one's cells, candidates and pairs, from the tasks the run solves), wall seconds by stage
(``prepare``; ``solve``: problem, Dask cluster start (also shown alone) and the regions'
solves, up to the last region's plan; ``results``: the
product's own "results" stage, the plan's tables; ``outputs`` if written), the CPU seconds of
the solve (the child and its worker processes, read with psutil) against the seconds the
regions' solves report, summed (``build``: the model's arrays; ``HiGHS``: HiGHS's runs, the
design start's LPs included), peak memory (the child with all its descendants, sampled every
0.2 s by the parent; also the child's own ``ru_maxrss``: the largest reaped child's is left
out, as a forked child starts with its parent's resident size), objective,
bound (the sum of the components' bounds: a bound of the full model, the components share no
pair), gap, the regions HiGHS stopped before proving their gap, the served share of the
reachable demand (:func:`chargeplan.results.served.reachable_served_share`, from the plan's zone
table; also per settlement type, ``served_<type>``, and the plan's ``standard_*_share``
figures), stations and stations of the largest design, capex, chargers and the components'
pairs (count, median, 90th and 99th percentile, largest) in the JSON line.

**Fit.** Time and memory are fitted as power laws in *pairs*, :math:`t = a P^b` (least squares
on the logarithms). Pairs, not cells x candidates: the model's columns and rows are linear in
the pairs (one assignment column per pair and charger type), and the components solved are
made of pairs; cells x candidates counts the pairs of a model without a reach limit, which
this one never builds (at a fixed reach a cell's pairs depend on the candidates near it, not on
the national count). The target, 1 M cells x 100 k candidates, is given in cells and
candidates, so its pairs come from a second power law fitted on the same runs,
:math:`P = c (Z S)^e`; the time and memory there are :math:`a \hat P^b`. Both exponents are
printed. The ratios to the smallest budget's run (the reference, measured in the same script)
follow the table. Run by hand from the repository root (the national budgets take minutes
each; the machine is shared)::

    PYTHONPATH=src nice .venv/bin/python benchmarks/station_growth.py
    PYTHONPATH=src nice .venv/bin/python benchmarks/station_growth.py --budgets 0.5 1 \
        --regions 珠海市
    PYTHONPATH=src .venv/bin/python benchmarks/station_growth.py --rows growth.out  # reprint

Each budget's row is printed as one JSON line as soon as it is measured (keep the output:
``--rows`` prints the table and fit again from it); a budget whose child fails (say, out of
memory) is reported and left out of the table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "models" / "china-2030-stations.toml"
URBAN, SUBURBAN = 1_500.0, 300.0
#: The extrapolation's target (issue 12): 1 M demand cells x 100 k candidate stations.
TARGET_CELLS, TARGET_CANDIDATES = 1_000_000, 100_000
SAMPLE_S = 0.2
GIB = 2**30

#: Summary figures copied into the JSON line as they are.
PLAN_KEYS = (
    "capex_cny",
    "target_shortfall_penalty_cny",
    "chargers",
    "decompose_target_prices",
    "decompose_target_rungs",
    "decompose_target_tasks_solved",
    "decompose_bound_of",
    "decompose_cut_model_bound",
    "decompose_cut_pairs",
    "decompose_full_bound_first",
    "decompose_full_bound_steps",
    "decompose_full_bound_pairs",
    "decompose_full_bound_cross_pairs",
    "decompose_full_bound_seconds",
    "decompose_full_bound_target_multipliers",
)
#: The table's columns: key, header, format (``budget`` as a fraction, ``,`` thousands).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("budget", "budget", "budget"),
    ("cells", "cells", ","),
    ("candidates", "candidates", ","),
    ("pairs", "pairs", ","),
    ("components", "components", ","),
    ("largest", "largest component (cells / candidates / pairs)", "s"),
    ("prepare_s", "prepare, s", ".1f"),
    ("solve_s", "solve, s", ".1f"),
    ("dask_s", "of it Dask start, s", ".1f"),
    ("results_s", "results, s", ".1f"),
    ("outputs_s", "outputs, s", ".1f"),
    ("wall_s", "wall, s", ".1f"),
    ("solve_cpu_s", "solve CPU, s", ".1f"),
    ("build_s", "build, s", ".1f"),
    ("highs_s", "HiGHS, s", ".1f"),
    ("peak_gib", "peak, GiB", ".2f"),
    ("self_gib", "child alone, GiB", ".2f"),
    ("objective", "objective, CNY", ",.0f"),
    ("bound", "bound, CNY", ",.0f"),
    ("gap", "gap", ".2%"),
    ("stopped", "regions stopped", ","),
    ("served_reachable", "served of reachable", ".1%"),
    ("stations", "stations", ","),
    ("at_largest_design", "at largest design", ","),
)


# ---------------------------------------------------------------------------------------------
# the table and the fit (pure functions, tests/test_station_growth.py)
# ---------------------------------------------------------------------------------------------


def power_law(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Least-squares fit of :math:`y = a x^b` on the logarithms; ``(a, b)``.

    Raises
    ------
    ValueError
        With fewer than two distinct positive ``x`` or a value that is not positive.
    """
    import numpy as np

    xs, ys = np.asarray(x, float), np.asarray(y, float)
    if not (np.all(xs > 0) and np.all(ys > 0)):  # also refuses NaN
        raise ValueError(f"a power law needs positive values: x = {list(x)}, y = {list(y)}")
    lx, ly = np.log(xs), np.log(ys)
    if np.unique(lx).size < 2:
        raise ValueError(f"a power law needs two distinct x: {list(x)}")
    b, log_a = np.polyfit(lx, ly, 1)
    return float(np.exp(log_a)), float(b)


def growth_fit(
    rows: Sequence[Mapping[str, Any]],
    cells: float = TARGET_CELLS,
    candidates: float = TARGET_CANDIDATES,
    keys: Sequence[str] = ("wall_s", "solve_s", "peak_gib"),
) -> dict[str, float]:
    """Pairs as a power law in cells x candidates, each of ``keys`` as one in pairs, and
    their values extrapolated to ``cells`` x ``candidates`` (module docstring).

    Returns
    -------
    dict
        ``pairs_c``, ``pairs_e`` (:math:`P = c (Z S)^e`), ``target_pairs``; for each key
        ``<key>_a``, ``<key>_b`` (:math:`a P^b`) and ``target_<key>``.
    """
    product = [float(r["cells"]) * float(r["candidates"]) for r in rows]
    pairs = [float(r["pairs"]) for r in rows]
    c, e = power_law(product, pairs)
    target_pairs = c * (float(cells) * float(candidates)) ** e
    out = {"pairs_c": c, "pairs_e": e, "target_pairs": target_pairs}
    for key in keys:
        a, b = power_law(pairs, [float(r[key]) for r in rows])
        out.update({f"{key}_a": a, f"{key}_b": b, f"target_{key}": a * target_pairs**b})
    return out


def ratios(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
    """Each run against the reference, the first (smallest budget) run: pairs, solve, wall and
    peak memory as multiples of the reference's, and the solve's CPU over HiGHS's seconds."""
    ref = rows[0]

    def over(a: float | None, b: float | None) -> float:
        return float(a) / float(b) if a is not None and b else math.nan

    return [
        {
            "budget": r["budget"],
            "x_pairs": over(r["pairs"], ref["pairs"]),
            "x_solve": over(r["solve_s"], ref["solve_s"]),
            "x_wall": over(r["wall_s"], ref["wall_s"]),
            "x_peak": over(r["peak_gib"], ref["peak_gib"]),
            "cpu_over_highs": over(r["solve_cpu_s"], r["highs_s"]),
        }
        for r in rows
    ]


def cell_text(value: Any, spec: str) -> str:
    """One table cell: ``budget`` as a fraction (``1/4``), missing values as ``-``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if spec == "budget":
        return str(Fraction(value).limit_denominator(16))
    return format(value, spec)


def markdown_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str, str]] = COLUMNS
) -> str:
    """The rows as one markdown table, a column per ``(key, header, format)``."""
    lines = [
        "| " + " | ".join(header for _, header, _ in columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for row in rows:
        cells = [cell_text(row.get(key), spec) for key, _, spec in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def read_rows(text: str) -> list[dict[str, Any]]:
    """The rows a run printed (one JSON object a line, among the other lines), by budget."""
    rows = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return sorted(rows, key=lambda r: r["budget"])


def stage_seconds(lines: Sequence[str], stage: str) -> float | None:
    """Seconds of the last ``stage`` a progress display reported (``"results: 1.2 s"``)."""
    found = None
    for line in lines:
        match = re.match(rf"{re.escape(stage)}: ([0-9.]+) s\b", line)
        if match:
            found = float(match.group(1))
    return found


# ---------------------------------------------------------------------------------------------
# one run, in the child process
# ---------------------------------------------------------------------------------------------


def tree_cpu_s() -> float:
    """CPU seconds (user + system) of this process, its finished children and its live
    descendants (the Dask workers while the cluster runs)."""
    import psutil

    me = psutil.Process()
    t = me.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            c = child.cpu_times()
            total += c.user + c.system
    return total


@dataclass
class TaskLog:
    """What the regions' executor saw: each task's components and each region's solution."""

    components: list[tuple[int, int, int]] = field(default_factory=list)
    solutions: list[dict[str, Any]] = field(default_factory=list)
    count_s: float = 0.0
    solved_at: float | None = None
    solved_cpu: float | None = None

    def wrap(self, run: Callable[..., Iterable[Any]]) -> Callable[..., Iterator[Any]]:
        """``run`` (a ``map``-like executor) that also records the tasks and their plans."""
        from chargeplan.solver.split import split_components

        def executor(func: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
            tasks = list(items)
            if getattr(func, "__name__", "") == "_group_arrays":  # the full bound's groups
                yield from run(func, tasks)
                return
            if not self.components:  # a budget's price search calls again: same tasks
                start = time.perf_counter()
                for problem, _ in tasks:
                    for r in split_components(problem):
                        self.components.append((len(r.zones), len(r.sites), len(r.pairs)))
                self.count_s = time.perf_counter() - start
            for solution in run(func, tasks):
                self.solutions.append(
                    {
                        "status": solution.status,
                        "build_s": solution.build_seconds,
                        "solve_s": solution.solve_seconds,
                    }
                )
                yield solution
            self.solved_at, self.solved_cpu = time.perf_counter(), tree_cpu_s()

        return executor


def parse_sets(items: Sequence[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` items as dotted scenario changes, each value read as TOML (a table
    in braces, e.g. ``reach.standard={settlement_column="settlement"}``).

    Raises
    ------
    ValueError
        For an item without ``=`` or a value TOML cannot read.
    """
    import tomllib

    changes: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set {item!r}: write KEY=VALUE, e.g. decompose.workers=2")
        try:
            changes[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"--set {item!r}: the value is not TOML ({error})") from None
    return changes


def _scenario(
    budget: float, regions: Sequence[str], workers: int, sets: Mapping[str, Any] | None = None
) -> Any:
    from chargeplan.config.scenario import load_scenario

    changes: dict[str, Any] = {
        "fine_zones.urban_density_per_km2": URBAN / budget,
        "fine_zones.suburban_density_per_km2": SUBURBAN / budget,
        "decompose.by": "components",
        "decompose.workers": workers,
    }
    if regions:
        changes["fine_zones.regions"] = list(regions)
    changes.update(sets or {})
    return load_scenario(SCENARIO).with_values(changes, where="benchmarks/station_growth.py")


def _executor(workers: int) -> contextlib.AbstractContextManager[Any]:
    from chargeplan.solver.distributed import dask_executor

    return dask_executor(None, workers) if workers > 1 else contextlib.nullcontext(map)


def one_run(
    budget: float,
    regions: Sequence[str],
    workers: int,
    outputs: Path | None,
    sets: Mapping[str, Any] | None = None,
) -> dict:
    """The whole plan at one budget in this process: the row of the table (module docstring)."""
    import resource
    import warnings

    from chargeplan import progress
    from chargeplan.inputs.prepare import prepare
    from chargeplan.workflows.network import plan_network
    from chargeplan.workflows.options import solver_options
    from chargeplan.workflows.regions import one_thread_per_worker

    warnings.simplefilter("ignore")
    scenario = _scenario(budget, regions, workers, sets)
    solver = solver_options(scenario)
    if workers > 1:
        solver = one_thread_per_worker(solver)
    log = TaskLog()
    outputs_s = None
    with progress.show("off") as display:
        start = time.perf_counter()
        inputs = prepare(scenario)
        prepared, cpu = time.perf_counter(), tree_cpu_s()
        with _executor(workers) as run:
            started = time.perf_counter()
            # one HiGHS thread per worker, as chargeplan run on its local cluster (a given
            # executor keeps HiGHS's own count, which spins two threads per worker)
            plan = plan_network(scenario, inputs=inputs, executor=log.wrap(run), solver=solver)
        progress.finish()
        planned = time.perf_counter()
        if outputs is not None:
            from chargeplan.outputs.write import write_plan

            folder = outputs / f"budget-{budget:g}"
            write_plan(plan, folder, map_png=False, report=False, scenario=scenario)
            outputs_s = time.perf_counter() - planned
    assert log.solved_at is not None and log.solved_cpu is not None
    row = {
        "budget": budget,
        "regions": " ".join(regions),
        "workers": workers,
        "prepare_s": prepared - start,
        "dask_s": started - prepared,
        "solve_s": log.solved_at - prepared - log.count_s,
        "results_s": stage_seconds(display.lines, "results"),
        "outputs_s": outputs_s,
        "wall_s": planned - start - log.count_s,
        "solve_cpu_s": log.solved_cpu - cpu - log.count_s,
        "build_s": sum(s["build_s"] for s in log.solutions),
        "highs_s": sum(s["solve_s"] for s in log.solutions),
        "stopped": sum(s["status"] != "optimal" for s in log.solutions),
        "self_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB,
    }
    return row | plan_figures(plan, scenario, log.components)


def plan_figures(plan: Any, scenario: Any, components: Sequence[tuple[int, int, int]]) -> dict:
    """Sizes and outcome of a plan: the table's other columns."""
    from chargeplan.results.served import reachable_served_share

    s = plan.summary
    largest = max(components, key=lambda c: (c[2], c[0], c[1]), default=(0, 0, 0))
    designs = scenario.sizing.designs
    biggest = max(designs, key=lambda d: sum(scenario.designs[d].stalls.values()), default="")
    return {
        "cells": s["zones"],
        "candidates": s["candidate_sites"],
        "pairs": s["pairs"],
        "components": len(components),
        "tasks": s.get("decompose_regions"),
        "largest": " / ".join(f"{n:,}" for n in largest),
        "largest_pairs": largest[2],
        "objective": s["objective_value"],
        "bound": s["bound"],
        "gap": s["gap"],
        "status": s["status"],
        "served_reachable": reachable_served_share(plan),
        "coverage": s["coverage"],
        "stations": s["sites_opened"],
        "largest_design": biggest,
        "at_largest_design": s.get(f"stations_{biggest}", 0),
        **{k: v for k, v in s.items() if k.startswith("standard_") and k.endswith("_share")},
        **{k: s[k] for k in PLAN_KEYS if k in s},
        "component_pairs": _size_quantiles([c[2] for c in components]),
        **served_by_settlement(plan.final().zones),
    }


def served_by_settlement(zones: Any) -> dict[str, float]:
    """Served share of the reachable design-hour demand per ``settlement`` type of the plan's
    zone table (``served_<type>``; the figure of :func:`chargeplan.results.served.
    zones_reachable_served_share` on the type's zones), empty without the column."""
    from chargeplan.results.served import zones_reachable_served_share

    if "settlement" not in zones.columns:
        return {}
    return {
        f"served_{kind}": zones_reachable_served_share(zones[zones["settlement"] == kind])
        for kind in ("urban", "suburban", "rural")
    }


def _size_quantiles(sizes: Sequence[int]) -> dict[str, float]:
    """The components' pairs: count, median, 90th and 99th percentile, largest and the pairs in
    components of more than 20,000 pairs."""
    import numpy as np

    if not sizes:
        return {}
    a = np.asarray(sizes, float)
    return {
        "count": float(a.size),
        "median": float(np.median(a)),
        "p90": float(np.quantile(a, 0.9)),
        "p99": float(np.quantile(a, 0.99)),
        "largest": float(a.max()),
        "pairs_in_over_20k": float(a[a > 20_000].sum()),
    }


# ---------------------------------------------------------------------------------------------
# the parent: one child per budget, memory sampled, table, ratios and fit
# ---------------------------------------------------------------------------------------------


def _tree_rss(process: Any) -> int:
    """Resident bytes of a process and all its descendants (0 for those already gone)."""
    import psutil

    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += member.memory_info().rss
    return total


def measure(budget: float, args: argparse.Namespace) -> dict:
    """One budget in a child process; its row with the sampled peak memory of its tree."""
    import psutil

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "row.json"
        command = [sys.executable, __file__, "--one", str(budget), "--json", str(out)]
        command += ["--workers", str(args.workers)]
        if args.regions:
            command += ["--regions", *args.regions]
        if args.outputs is not None:
            command += ["--outputs", str(args.outputs)]
        for item in args.set:
            command += ["--set", item]
        child = psutil.Popen(command, cwd=REPO)
        peak = 0
        while child.poll() is None:
            peak = max(peak, _tree_rss(child))
            time.sleep(SAMPLE_S)
        if child.returncode != 0:
            raise RuntimeError(f"budget {budget:g}: the child exited with {child.returncode}")
        row = json.loads(out.read_text())
    return row | {"peak_gib": peak / GIB}


def print_report(rows: Sequence[Mapping[str, Any]], sliced: bool = False) -> None:
    """The table, the ratios to the first run and, with two runs or more, the fit (of no
    meaning for a slice: its preparation and memory are the national layer's)."""
    print("\n" + markdown_table(rows))
    print(f"\nratios to budget {cell_text(rows[0]['budget'], 'budget')} (reference):")
    ratio_columns = (
        ("budget", "budget", "budget"),
        ("x_pairs", "x pairs", ".2f"),
        ("x_solve", "x solve", ".2f"),
        ("x_wall", "x wall", ".2f"),
        ("x_peak", "x peak memory", ".2f"),
        ("cpu_over_highs", "solve CPU / HiGHS s", ".2f"),
    )
    print(markdown_table(ratios(rows), ratio_columns))
    if len({r["pairs"] for r in rows}) < 2:
        print("\nfit: needs two runs of different sizes")
        return
    fit = growth_fit(rows)
    if sliced:
        print("\na slice: each run prepares the national layer; this fit is no growth figure")
    print(
        f"\nfit (least squares on logs, {len(rows)} runs): pairs = {fit['pairs_c']:.3g} "
        f"(cells x candidates)^{fit['pairs_e']:.3f}; wall = {fit['wall_s_a']:.3g} "
        f"pairs^{fit['wall_s_b']:.3f}; solve = {fit['solve_s_a']:.3g} "
        f"pairs^{fit['solve_s_b']:.3f}; peak memory = {fit['peak_gib_a']:.3g} "
        f"pairs^{fit['peak_gib_b']:.3f} GiB"
    )
    print(
        f"extrapolated to {TARGET_CELLS:,} cells x {TARGET_CANDIDATES:,} candidates: "
        f"{fit['target_pairs']:,.0f} pairs, wall {fit['target_wall_s']:,.0f} s, solve "
        f"{fit['target_solve_s']:,.0f} s, peak memory {fit['target_peak_gib']:.2f} GiB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", nargs="+", type=float, default=[0.25, 0.5, 1.0, 2.0])
    parser.add_argument("--regions", nargs="+", default=[], help="fine_zones.regions: a slice")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    parser.add_argument("--outputs", type=Path, help="also write each plan's files here")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a scenario change, the value as TOML, e.g. "
        "'reach.standard={settlement_column=\"settlement\"}' (repeatable)",
    )
    parser.add_argument(
        "--rows", type=Path, help="print the report of rows saved from a run's output instead"
    )
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        row = one_run(args.one, args.regions, args.workers, args.outputs, parse_sets(args.set))
        args.json.write_text(json.dumps(row, default=lambda v: v.item()))
        return 0
    if args.rows is not None:
        rows = read_rows(args.rows.read_text(encoding="utf-8"))
        print_report(rows, sliced=any(r.get("regions") for r in rows))
        return 0
    rows = []
    for budget in sorted(args.budgets):
        try:
            rows.append(measure(budget, args))
        except RuntimeError as error:  # e.g. out of memory: the other budgets still count
            print(error, file=sys.stderr, flush=True)
            continue
        print(json.dumps(rows[-1]), flush=True)
    if rows:
        print_report(rows, sliced=bool(args.regions))
    return 0 if len(rows) == len(args.budgets) else 1


if __name__ == "__main__":
    sys.exit(main())
