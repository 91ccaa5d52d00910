"""The default scenario solved with and without the objective scaling of ``run_highs``.

Run::

    PYTHONPATH=src nice .venv/bin/python benchmarks/objective_scale.py            # ~2 x 30 s
    PYTHONPATH=src nice .venv/bin/python benchmarks/objective_scale.py --threads 1

``chargeplan.solver.scaling.objective_scale`` hands HiGHS its costs multiplied by ``2**k``
(``user_objective_scale``) so that none exceeds 1e6 (the default scenario's costs reach
2.7e9 CNY per unit of unmet demand: ``k = -12``); HiGHS then no longer warns that the model is
"badly scaled". The reference run sets the limit to infinity (``k = 0``: costs in CNY, as
before). Both solve the same model, with the scenario's gap (0.2 %) and time limit; the script
prints each run's objective, bound, gap, solve seconds (wall clock and this process's CPU) and
the HiGHS warnings counted in its log, then the ratio scaled / reference.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
import warnings
from pathlib import Path

import chargeplan
from chargeplan.solver import scaling
from chargeplan.solver.options import SolverOptions

SCENARIO = Path(__file__).resolve().parents[1] / "models" / "china-2030.toml"


def _solve(problem: chargeplan.FacilityProblem, options: SolverOptions, limit: float) -> dict:
    scaling.MAX_SCALED_COST = limit
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "solver.log"
        wall, cpu = time.perf_counter(), time.process_time()
        solution = chargeplan.solve(
            problem, SolverOptions(**{**options.__dict__, "log_file": str(log)})
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        text = log.read_text()
    return {
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "chargers": int(solution.chargers.sum()),
        "wall_s": wall,
        "cpu_s": cpu,
        "warnings": text.count("WARNING"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    scenario = chargeplan.load_scenario(SCENARIO)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        problem = chargeplan.build_problem(scenario, chargeplan.prepare(scenario))
    options = SolverOptions.from_config(scenario.solver)
    if args.threads is not None:
        options = SolverOptions(**{**options.__dict__, "threads": args.threads})
    default_limit = scaling.MAX_SCALED_COST
    runs = {"reference (CNY)": _solve(problem, options, math.inf)}
    runs["scaled (2**k)"] = _solve(problem, options, default_limit)
    for name, run in runs.items():
        print(
            f"{name:16} objective {run['objective']:,.0f}  bound {run['bound']:,.0f}  "
            f"gap {100 * run['gap']:.3f} %  chargers {run['chargers']:,}  "
            f"solve {run['wall_s']:.1f} s wall, {run['cpu_s']:.1f} s CPU  "
            f"HiGHS warnings {run['warnings']}"
        )
    ref, new = runs["reference (CNY)"], runs["scaled (2**k)"]
    print(
        f"ratio scaled / reference: objective {new['objective'] / ref['objective']:.6f}, "
        f"wall {new['wall_s'] / ref['wall_s']:.2f}, CPU {new['cpu_s'] / ref['cpu_s']:.2f}"
    )


if __name__ == "__main__":
    main()
