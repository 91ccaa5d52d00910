"""Measure the memory of building and solving a model, to calibrate :mod:`chargeplan.model.limits`.

Each case runs in a fresh process: build a random charging-network instance, read the resident
memory (psutil), then build the Pyomo model under ``tracemalloc`` (Python's share) and solve it
with HiGHS for a few seconds; the peak resident memory (``resource.getrusage``) minus the memory
before the build is the model's cost. The script prints one JSON line per case and the
least-squares constants ``bytes = a * nonzeros + b * variables + c * rows``.

    .venv/bin/python benchmarks/model_memory.py            # about 2 minutes on 2 cores
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys

import numpy as np

CASES = [
    # zones, sites, radius (of a 1000 x 1000 square), pair_links
    (300, 60, 120, "always"),
    (1000, 150, 100, "never"),
    (1000, 150, 100, "always"),
    (3000, 300, 80, "never"),
    (3000, 300, 80, "always"),
    (6000, 400, 90, "never"),
    (6000, 400, 70, "always"),
    (12000, 600, 70, "never"),
    (20000, 800, 60, "never"),
]


def random_problem(zones: int, sites: int, radius: float, seed: int = 0, pair_links: str = "auto"):
    """A random two-type charging instance on a 1000 x 1000 square (pairs within ``radius``)."""
    from scipy.spatial import cKDTree

    from chargeplan.model.problem import FacilityProblem

    rng = np.random.default_rng(seed)
    zxy = rng.uniform(0, 1000, (zones, 2))
    sxy = rng.uniform(0, 1000, (sites, 2))
    near = cKDTree(sxy).query_ball_point(zxy, r=radius)
    pair_zone = np.repeat(np.arange(zones), [len(n) for n in near])
    pair_site = np.concatenate([np.asarray(n, dtype=np.int64) for n in near])
    dist = np.linalg.norm(zxy[pair_zone] - sxy[pair_site], axis=1)
    demand = rng.gamma(2.0, 25.0, (zones, 2))
    return FacilityProblem(
        zone_ids=np.array([f"z{i}" for i in range(zones)], dtype=object),
        site_ids=np.array([f"s{j}" for j in range(sites)], dtype=object),
        types=("dc", "ac"),
        demand=demand,
        pair_zone=pair_zone,
        pair_site=pair_site,
        pair_cost=0.5 * dist[:, None] * demand[pair_zone],
        distance_km=dist,
        fixed_cost=rng.uniform(5e4, 2e5, sites),
        site_capacity=np.full(sites, np.inf),
        charger_capacity=np.array([50.0, 10.0]),
        charger_cost=np.tile([1000.0, 100.0], (sites, 1)),
        max_chargers=np.tile([60.0, 300.0], (sites, 1)),
        unmet_penalty=np.array([5000.0, 5000.0]),
        pair_links=pair_links,
    )


def measure(zones: int, sites: int, radius: float, pair_links: str) -> dict:
    """One case, in this process (call it in a fresh one).

    Peak resident memory is measured over a full :func:`chargeplan.solver.highs.solve` (3 s limit)
    first, without ``tracemalloc`` (which would inflate it); then the Pyomo build is repeated
    under ``tracemalloc`` for Python's share.
    """
    import resource
    import tracemalloc

    import psutil

    from chargeplan.errors import SolveError
    from chargeplan.model.formulation import build_milp
    from chargeplan.model.limits import estimate_model_size
    from chargeplan.solver.highs import solve
    from chargeplan.solver.options import SolverOptions

    problem = random_problem(zones, sites, radius, pair_links=pair_links)
    estimate = estimate_model_size(problem)
    before = psutil.Process().memory_info().rss
    with contextlib.suppress(SolveError):  # no plan within 3 s: the memory is still used
        solve(problem, SolverOptions(time_limit_s=3.0, mip_rel_gap=1e-4, threads=1))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    lp, _ = build_milp(problem)
    matrix, _, _ = lp.matrix()
    objective = 0 if lp.objective is None else int(np.count_nonzero(lp.objective))
    tracemalloc.start()
    lp.to_pyomo()
    python_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "case": [zones, sites, radius, pair_links],
        "variables": lp.n_cols,
        "rows": int(matrix.shape[0]),
        "nonzeros": int(matrix.nnz) + objective,
        "estimate": {
            "variables": estimate.variables,
            "rows": estimate.rows,
            "nonzeros": estimate.nonzeros,
        },
        "pyomo_python_bytes": python_peak,
        "peak_bytes": peak - before,
    }


def main() -> None:
    """Run every case in its own process and fit the constants."""
    results = []
    for case in CASES:
        code = (
            "import json, sys; sys.path.insert(0, 'benchmarks'); import model_memory as m; "
            f"print(json.dumps(m.measure(*{case!r})))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(result), flush=True)
        results.append(result)
    from scipy.optimize import nnls

    features = np.array([[r["nonzeros"], r["variables"], r["rows"], 1] for r in results], float)
    for target in ("peak_bytes", "pyomo_python_bytes"):
        y = np.array([r[target] for r in results], float)
        coef, _ = nnls(features, y)  # nonnegative least squares, with a fixed part
        error = np.abs(features @ coef - y) / y
        print(
            f"{target}: {coef[0]:.0f} B/nonzero, {coef[1]:.0f} B/variable, {coef[2]:.0f} B/row "
            f"+ {coef[3] / 1e6:.0f} MB (relative errors {np.round(error, 2).tolist()})"
        )
        per_nnz = y / features[:, 0]
        print(f"{target} per nonzero alone: {per_nnz.min():.0f} to {per_nnz.max():.0f} B")


if __name__ == "__main__":
    main()
