"""chargeplan's fixed cost per solve on one OR-Library file, step by step, in real solves.

``benchmarks/fixed_cost.py`` gives the fixed cost of ``chargeplan.solve`` as a whole (its CPU
time minus that inside HiGHS's ``run()``); this script splits it. It wraps the steps of the
array path (the reductions, the memory check, ``build_milp`` and its parts, the load and its
parts, ``_run`` around HiGHS's own ``run()``, reading and decoding the plan) with a CPU timer
(``time.process_time_ns``: inclusive, nested steps inside their callers), solves the file
``--repeat`` times through ``chargeplan.solve`` as ``fixed_cost.py`` does (one thread, gap 0,
the same problem object) and prints each step's mean CPU microseconds per solve. The steps run
as they do in a solve, between HiGHS runs (colder caches than a loop over one step); the timers
add about a microsecond per wrapped call. Run from the repository root::

    PYTHONPATH=src .venv/bin/python benchmarks/fixed_cost_steps.py --only cap71-u --repeat 400

With ``PYTHONPATH`` at another checkout's ``src`` it measures that code (steps missing there
are left out).
"""

from __future__ import annotations

import argparse
import collections
import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import formulation_rule as fr  # the instances: one definition

#: (module, function) pairs wrapped, in the order printed; a module's own name for the function
#: (``chargeplan.solver.direct`` calls ``build_milp`` by the name it imported).
STEPS = (
    ("chargeplan.solver.highs", "reduce_problem"),
    ("chargeplan.solver.reduce", "dominated_sites"),
    ("chargeplan.solver.reduce", "merge_zones"),
    ("chargeplan.solver.direct", "check_model_size"),
    ("chargeplan.solver.direct", "build_milp"),
    ("chargeplan.model.formulation", "check_feasibility"),
    ("chargeplan.model.formulation", "model_index"),
    ("chargeplan.model.formulation", "define_variables"),
    ("chargeplan.model.formulation", "add_assignment"),
    ("chargeplan.model.formulation", "add_site_capacity"),
    ("chargeplan.model.formulation", "add_pair_links"),
    ("chargeplan.model.formulation", "objective_of"),
    ("chargeplan.solver.direct", "_load"),
    ("chargeplan.solver.direct", "appearance_order"),
    ("chargeplan.solver.direct", "quiet_highs"),
    ("chargeplan.solver.direct", "pass_arrays"),
    ("chargeplan.solver.direct", "_run"),
    ("chargeplan.solver.direct", "read_values"),
    ("chargeplan.solver.direct", "decode"),
)


def _wrap(spent: collections.Counter, owner: object, name: str) -> object | None:
    """Replace ``owner.name`` (a module's function or a class's method) by a timed call adding
    its CPU nanoseconds to ``spent[name]``; the original, or None if ``owner`` has no ``name``."""
    if not hasattr(owner, name):
        return None
    function = getattr(owner, name)

    def timed(*args, **kwargs):
        start = time.process_time_ns()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] += time.process_time_ns() - start

    setattr(owner, name, timed)
    return function


def measure(name: str, repeat: int) -> list[tuple[str, float]]:
    """Mean CPU microseconds per solve: the solve, HiGHS's ``run()``, the fixed cost, each step."""
    import highspy

    from chargeplan.solver.highs import solve
    from chargeplan.solver.options import SolverOptions

    inst = fr.read_cap(fr.ORLIB / "cap" / f"{name.removesuffix('-u')}.txt")
    if name.endswith("-u"):
        inst = {**inst, "capacity": inst["capacity"] * float("inf")}
    problem = fr.to_problem(inst, "auto")
    options = SolverOptions(mip_rel_gap=0, time_limit_s=60, threads=1)
    spent: collections.Counter = collections.Counter()
    for module_name, step in STEPS:
        _wrap(spent, importlib.import_module(module_name), step)
    original = _wrap(spent, highspy.Highs, "run")
    try:
        for _ in range(10):  # imports, first allocations: not counted
            solve(problem, options)
        spent.clear()
        start = time.process_time_ns()
        for _ in range(repeat):
            solve(problem, options)
        total = time.process_time_ns() - start
    finally:
        highspy.Highs.run = original
    rows = [("solve", total), ("Highs.run", spent["run"])]
    rows.append(("fixed = solve - Highs.run", total - spent["run"]))
    rows.append(("_run - Highs.run", spent["_run"] - spent["run"]))
    rows += [(step, spent[step]) for _, step in STEPS if step in spent]
    return [(label, ns / repeat / 1e3) for label, ns in rows]


def main(argv: list[str]) -> int:
    """Print the steps of one file (``--only``, default cap71-u)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="cap71-u", help="cap41, cap71-u, ...")
    parser.add_argument("--repeat", type=int, default=400, help="solves timed")
    args = parser.parse_args(argv)
    for label, micro in measure(args.only, args.repeat):
        print(f"{label:28s} {micro:9.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
