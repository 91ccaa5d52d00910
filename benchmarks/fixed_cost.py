"""chargeplan's fixed cost per solve on the OR-Library files, against raw HiGHS's, in one run.

Issue 13 item 1 asks that ``chargeplan.solve`` reach a proven optimum in at most 1.1x the time
of raw HiGHS on the strong formulation (``benchmarks/formulation_rule.py`` compares the two).
On the OR-Library files HiGHS's own solve takes 12-40 ms of CPU, so what chargeplan does
around it matters. This script splits each side's CPU time (``time.process_time``, medians of
``--repeat`` interleaved runs, one thread, MIP gap 0, no HiGHS log on either side):

- ``solve``: ``chargeplan.solve(problem)`` (reductions, build, load, HiGHS, decoding);
- ``run``: the CPU time inside HiGHS's ``run()`` during that very solve (``highspy.Highs.run``
  wrapped by a timer);
- ``fixed = solve - run``, per solve: chargeplan's fixed cost;
- ``raw``: raw HiGHS as ``formulation_rule.py`` runs it (build with numpy/SciPy, ``passModel``
  of a ``HighsLp``, ``run()``), ``raw_run`` inside its ``run()``, and ``raw fixed = raw -
  raw_run``: raw's own fixed cost (building and loading the arrays);
- ``fixed / raw``: chargeplan's fixed cost as a share of raw's whole time (the issue's 10 %),
  ``run / raw_run``: HiGHS's own time on chargeplan's model over raw's model (the same nodes
  and iterations; on these files chargeplan's costs were scaled by 2^-1 until 2026-11-30,
  now by 1, as raw's: ``solver.scaling.SCALE_ABOVE``).

The ``FacilityProblem`` is made from the cost table before the clock starts, as raw HiGHS
starts from the arrays. Run from the repository root (about a minute)::

    PYTHONPATH=src .venv/bin/python benchmarks/fixed_cost.py --repeat 30

With ``PYTHONPATH`` pointing at another checkout's ``src`` it measures that code (the
``before`` column of ``docs/scale.md``, "The fixed cost per solve").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import formulation_rule as fr  # the instances and raw HiGHS: one definition


def _cpu(work) -> tuple[float, float]:
    """CPU seconds of ``work()`` in all, and of the ``highspy.Highs.run`` calls inside it."""
    import highspy

    inside = [0.0]
    original = highspy.Highs.run

    def timed_run(self):
        start = time.process_time()
        try:
            return original(self)
        finally:
            inside[0] += time.process_time() - start

    highspy.Highs.run = timed_run
    try:
        start = time.process_time()
        work()
        return time.process_time() - start, inside[0]
    finally:
        highspy.Highs.run = original


def measure(name: str, inst, repeat: int) -> dict:
    """The medians of every figure (module docstring) over ``repeat`` interleaved runs."""
    from chargeplan.solver.highs import solve
    from chargeplan.solver.options import SolverOptions

    options = SolverOptions(mip_rel_gap=0, time_limit_s=60, threads=1)
    problem = fr.to_problem(inst, "auto")
    capped = fr._capped(inst)
    mine, raw = [], []
    for _ in range(repeat):
        mine.append(_cpu(lambda: solve(problem, options)))
        raw.append(_cpu(lambda: fr.raw_highs(capped, 60.0)))
    fixed = [total - run for total, run in mine]
    raw_fixed = [total - run for total, run in raw]
    pairs = list(zip(mine, raw, strict=True))
    return {
        "instance": name,
        "solve ms": 1000 * statistics.median(t for t, _ in mine),
        "run ms": 1000 * statistics.median(r for _, r in mine),
        "fixed ms": 1000 * statistics.median(fixed),
        "raw ms": 1000 * statistics.median(t for t, _ in raw),
        "raw_run ms": 1000 * statistics.median(r for _, r in raw),
        "raw fixed ms": 1000 * statistics.median(raw_fixed),
        "fixed / raw": statistics.median((a[0] - a[1]) / b[0] for a, b in pairs),
        "run / raw_run": statistics.median(a[1] / b[1] for a, b in pairs),
        "solve / raw": statistics.median(a[0] / b[0] for a, b in pairs),
    }


def main(argv: list[str]) -> int:
    """Every OR-Library file, capacitated and as UFLP; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="interleaved runs per file")
    parser.add_argument("--only", nargs="*", help="instance name prefixes (cap41, cap131-u)")
    args = parser.parse_args(argv)
    found = {p.stem: fr.read_cap(p) for p in sorted((fr.ORLIB / "cap").glob("cap*.txt"))}
    for name, inst in list(found.items()):
        found[f"{name}-u"] = {**inst, "capacity": inst["capacity"] * float("inf")}
    if args.only:
        found = {k: v for k, v in found.items() if any(k.startswith(o) for o in args.only)}
    fr.chargeplan_run(found[next(iter(found))], 60, "auto")  # imports: not timed
    table = [measure(name, inst, args.repeat) for name, inst in found.items()]
    print(pd.DataFrame(table).to_string(index=False, float_format="{:.3f}".format))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
