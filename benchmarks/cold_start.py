"""Cold start: ``import chargeplan`` and a 50 x 50 solve, against raw highspy, fresh processes.

Run::

    PYTHONPATH=src nice .venv/bin/python benchmarks/cold_start.py            # 7 rounds
    PYTHONPATH=src nice .venv/bin/python benchmarks/cold_start.py --rounds 11 --profile

The instance is OR-Library's cap131 (``tests/data/orlib/cap/cap131.txt``): 50 warehouses,
50 customers, the capacitated facility-location problem, solved to a MIP gap of 0 with
HiGHS's default thread count. Each round starts two fresh Python processes, in alternating
order, and times each from ``subprocess`` start to exit (interpreter start included):

- **chargeplan**: ``import chargeplan``, ``FacilityProblem.from_cost_matrix`` on the arrays
  read with numpy, ``chargeplan.solve`` (reductions on, as by default);
- **raw highspy**: ``import highspy``, the same model built as numpy arrays by hand (the
  strong formulation chargeplan builds for this size: ``x_ij`` continuous in [0, 1], ``y_j``
  binary; ``sum_j x_ij = 1``, ``sum_i d_i x_ij <= C_j y_j``, ``x_ij <= y_j``), ``passModel``
  and ``run``.

Both must reach cap131's published optimum (``capopt.csv``), else the script exits with
status 1. It prints the median time of each and the ratio of the medians (issue 13, item 5:
at most 2), the worst round's ratio, and each side's own split (imports, build, solve) as
measured inside the child. ``--profile`` adds the 15 slowest imports of one chargeplan child
(``python -X importtime``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CAP131 = ROOT / "tests" / "data" / "orlib" / "cap" / "cap131.txt"

READ = """
tokens = open({path!r}).read().split()
m, n = int(tokens[0]), int(tokens[1])
head = np.array(tokens[2 : 2 + 2 * m], dtype=float).reshape(m, 2)
body = np.array(tokens[2 + 2 * m :], dtype=float).reshape(n, 1 + m)
capacity, fixed, demand, cost = head[:, 0], head[:, 1], body[:, 0], body[:, 1:]
"""

CHARGEPLAN = """
import time
t0 = time.perf_counter()
import numpy as np
import chargeplan
t1 = time.perf_counter()
{read}
problem = chargeplan.FacilityProblem.from_cost_matrix(demand, fixed, cost, capacity=capacity)
solution = chargeplan.solve(problem, chargeplan.SolverOptions(mip_rel_gap=0.0))
t2 = time.perf_counter()
import json, sys
heavy = [name for name in ("pandas", "pyomo", "geopandas", "scipy", "pydantic", "psutil",
    "numpy.ma") if name in sys.modules]
print(json.dumps({{"objective": solution.objective, "import": t1 - t0,
    "build_solve": t2 - t1, "build": solution.build_seconds, "solve": solution.solve_seconds,
    "loaded": heavy}}))
"""

RAW = """
import time
t0 = time.perf_counter()
import numpy as np
import highspy
t1 = time.perf_counter()
{read}
nx = n * m
zone = np.repeat(np.arange(n), m)
site = np.tile(np.arange(m), n)
# rows: assign (n), capacity (m), links (nx); columns: x (nx, zone-major), y (m)
rows = np.concatenate([zone, n + site, n + m + np.arange(nx), n + m + np.arange(nx)])
cols = np.concatenate([np.arange(nx), np.arange(nx), np.arange(nx), nx + site])
vals = np.concatenate([np.ones(nx), demand[zone], np.ones(nx), -np.ones(nx)])
rows = np.concatenate([rows, n + np.arange(m)])
cols = np.concatenate([cols, nx + np.arange(m)])
vals = np.concatenate([vals, -capacity])
order = np.lexsort((cols, rows))
rows, cols, vals = rows[order], cols[order], vals[order]
lp = highspy.HighsLp()
lp.num_col_, lp.num_row_ = nx + m, n + m + nx
lp.col_cost_ = np.concatenate([cost.ravel(), fixed])
lp.col_lower_ = np.zeros(nx + m)
lp.col_upper_ = np.ones(nx + m)
lp.row_lower_ = np.concatenate([np.ones(n), np.full(m + nx, -highspy.kHighsInf)])
lp.row_upper_ = np.concatenate([np.ones(n), np.zeros(m + nx)])
lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
lp.a_matrix_.start_ = np.searchsorted(rows, np.arange(lp.num_row_ + 1)).astype(np.int32)
lp.a_matrix_.index_ = cols.astype(np.int32)
lp.a_matrix_.value_ = vals
lp.integrality_ = [highspy.HighsVarType.kContinuous] * nx + [highspy.HighsVarType.kInteger] * m
highs = highspy.Highs()
highs.setOptionValue("output_flag", False)
highs.setOptionValue("mip_rel_gap", 0.0)
highs.passModel(lp)
t2 = time.perf_counter()
highs.run()
t3 = time.perf_counter()
import json
print(json.dumps({{"objective": highs.getInfo().objective_function_value, "import": t1 - t0,
    "build_solve": t3 - t1, "build": t2 - t1, "solve": t3 - t2}}))
"""


def run_child(code: str) -> tuple[float, dict]:
    """Run ``code`` in a fresh interpreter; its wall-clock time and the JSON it printed."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=False
    )
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"child failed:\n{done.stderr}")
    return seconds, json.loads(done.stdout.strip().splitlines()[-1])


def slowest_imports(code: str, count: int = 15) -> list[tuple[int, str]]:
    """The ``count`` largest cumulative import times (microseconds) of one fresh child."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True
    )
    found = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            found.append((int(parts[1]), parts[2].rstrip()))
    return sorted(found, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="fresh-process pairs (>= 5)")
    parser.add_argument("--profile", action="store_true", help="slowest imports of chargeplan")
    args = parser.parse_args()
    read = READ.format(path=str(CAP131))
    codes = {"chargeplan": CHARGEPLAN.format(read=read), "raw highspy": RAW.format(read=read)}
    optimum = 1_000_000.0  # placeholder, replaced below
    import csv

    with open(CAP131.parent.parent / "capopt.csv") as f:
        optimum = float(next(r for r in csv.DictReader(f) if r["instance"] == "cap131")["optimum"])
    times: dict[str, list[float]] = {name: [] for name in codes}
    inner: dict[str, list[dict]] = {name: [] for name in codes}
    for round_ in range(args.rounds):
        names = list(codes) if round_ % 2 == 0 else list(codes)[::-1]
        for name in names:
            seconds, report = run_child(codes[name])
            if abs(report["objective"] - optimum) > 1e-6 * optimum:
                sys.exit(f"{name}: objective {report['objective']} is not cap131's {optimum}")
            times[name].append(seconds)
            inner[name].append(report)
    print(f"cap131 (50 x 50), {args.rounds} rounds of fresh processes; optimum {optimum:,.3f}")
    for name in codes:
        parts = {
            k: statistics.median(r[k] for r in inner[name]) for k in ("import", "build", "solve")
        }
        print(
            f"  {name:12s} median {statistics.median(times[name]):.3f} s (min "
            f"{min(times[name]):.3f}, max {max(times[name]):.3f}); inside: imports "
            f"{parts['import']:.3f} s, build {parts['build']:.3f} s, solve {parts['solve']:.3f} s"
        )
    ratio = statistics.median(times["chargeplan"]) / statistics.median(times["raw highspy"])
    worst = max(a / b for a, b in zip(times["chargeplan"], times["raw highspy"], strict=True))
    print(f"ratio of medians chargeplan / raw highspy: {ratio:.2f} (worst round {worst:.2f})")
    print(f"heavy modules loaded by chargeplan: {inner['chargeplan'][-1]['loaded']}")
    if args.profile:
        print("slowest imports of one chargeplan child (cumulative microseconds):")
        for micros, name in slowest_imports(codes["chargeplan"]):
            print(f"  {micros:>9,d}  {name}")


if __name__ == "__main__":
    main()
