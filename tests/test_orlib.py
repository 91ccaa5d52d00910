"""OR-Library capacitated facility-location instances (cap41, cap71, cap131) against their
published optima, through the public API only.

Files and sources: ``tests/data/orlib/SOURCES.md``. Each file is ``m n``; then m lines
``capacity fixed_cost``; then per customer ``demand`` followed by m costs, the cost of serving
ALL of that customer's demand from warehouse i. Numbers wrap across lines, so the parser reads
whitespace-separated tokens. Demand may be split (``x_ij`` in [0, 1]); the objective is
``sum f_i y_i + sum c_ij x_ij``, which is ``from_cost_table(..., cost_basis="total")``.

The uncapacitated optimum of cap41 is not in ``uncapopt.csv``; it is computed here by brute
force over all 2^16 - 1 sets of open warehouses (each customer then takes its cheapest open
warehouse), and the same brute force is checked to reproduce the published uncapacitated
optimum of cap71. (cap41 and cap71 differ only in their capacities, 5000 against 58268 = the
total demand, so the two uncapacitated problems coincide; a test states that too.) Only cap41
has binding capacities: for cap71 and cap131 the capacitated and uncapacitated optima agree.

Timings on the 2-core development machine (build + HiGHS, gap 0): each instance, capacitated
or not, solves in under 0.3 s (cap131: 50 x 50, about 0.3 s), so nothing here is marked slow.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import objective_value
from chargeplan.solver.highs import solve
from chargeplan.solver.options import SolverOptions

from .orlib import CAPOPT, UNCAPOPT, CapInstance, instance_path, read_cap, to_problem

EXACT = SolverOptions(mip_rel_gap=0, time_limit_s=120)
REL = 1e-6  # the published optima are given to three decimals


def uflp_brute_force(fixed: np.ndarray, cost: np.ndarray) -> tuple[float, np.ndarray]:
    """Uncapacitated optimum over every non-empty set of open warehouses.

    ``best[s]`` is, for the set with bit mask ``s``, every customer's cheapest open warehouse;
    the sets whose highest bit is b are the sets below ``2**b`` plus warehouse b, so the table
    is filled one warehouse at a time with vectorised minima (2^m x n values).
    """
    m = len(fixed)
    best = np.full((1 << m, cost.shape[0]), np.inf)
    fixed_sum = np.zeros(1 << m)
    for b in range(m):
        low = 1 << b
        best[low : 2 * low] = np.minimum(best[:low], cost[:, b])
        fixed_sum[low : 2 * low] = fixed_sum[:low] + fixed[b]
    total = fixed_sum[1:] + best[1:].sum(axis=1)
    s = int(np.argmin(total)) + 1
    return float(total[s - 1]), (s >> np.arange(m)) & 1 == 1


def solve_and_check(problem: FacilityProblem, inst: CapInstance, capacitated: bool):
    start = time.perf_counter()
    solution = solve(problem, EXACT)
    seconds = time.perf_counter() - start
    assert solution.status == "optimal"
    # a feasible CFLP plan: all demand served, only from open warehouses, within capacity
    assert solution.unmet.max() == pytest.approx(0.0, abs=1e-6)
    n, m = inst.cost.shape
    share = np.zeros(n)
    np.add.at(share, problem.pair_zone, solution.served[:, 0])
    np.testing.assert_allclose(share, 1.0, atol=1e-6)
    load = np.bincount(
        problem.pair_site,
        weights=solution.served[:, 0] * inst.demand[problem.pair_zone],
        minlength=m,
    )
    assert np.all(load[~solution.open_site] <= 1e-6)
    if capacitated:
        assert np.all(load <= inst.capacity + 1e-6 * inst.capacity)
    return solution, seconds


def test_parser_reads_the_files() -> None:
    for name, m, n in [("cap41", 16, 50), ("cap71", 16, 50), ("cap131", 50, 50)]:
        inst = read_cap(instance_path(name))
        assert inst.cost.shape == (n, m)
        assert np.all(inst.demand > 0) and np.all(inst.cost >= 0) and np.all(inst.fixed >= 0)
    cap41 = read_cap(instance_path("cap41"))
    np.testing.assert_array_equal(cap41.capacity, 5000.0)
    assert cap41.demand[:3].tolist() == [146.0, 87.0, 672.0]
    assert cap41.cost[0, 0] == 6739.725 and cap41.cost[0, 15] == 6051.7


@pytest.mark.parametrize("name", ["cap41", "cap71", "cap131"])
def test_capacitated_optimum(name: str) -> None:
    inst = read_cap(instance_path(name))
    problem = to_problem(inst, "given")
    solution, seconds = solve_and_check(problem, inst, capacitated=True)
    optimum = float(CAPOPT.loc[name, "optimum"])
    assert objective_value(problem, solution)["total_cost"] == pytest.approx(optimum, rel=REL)
    assert solution.objective == pytest.approx(optimum, rel=REL)
    print(f"{name} capacitated: {seconds:.2f} s")


@pytest.mark.parametrize("capacity", ["omit", "inf"])
@pytest.mark.parametrize("name", ["cap71", "cap131"])
def test_uncapacitated_optimum(name: str, capacity: str) -> None:
    inst = read_cap(instance_path(name))
    problem = to_problem(inst, capacity)
    assert np.isinf(problem.site_capacity).all()
    solution, seconds = solve_and_check(problem, inst, capacitated=False)
    optimum = float(UNCAPOPT.loc[name, "optimum"])
    assert objective_value(problem, solution)["total_cost"] == pytest.approx(optimum, rel=REL)
    assert solution.objective == pytest.approx(optimum, rel=REL)
    print(f"{name} uncapacitated ({capacity}): {seconds:.2f} s")


def test_brute_force_reproduces_published_uncapacitated_cap71() -> None:
    inst = read_cap(instance_path("cap71"))
    value, _ = uflp_brute_force(inst.fixed, inst.cost)
    assert value == pytest.approx(float(UNCAPOPT.loc["cap71", "optimum"]), rel=REL)


def test_uncapacitated_cap41_matches_brute_force() -> None:
    assert "cap41" not in UNCAPOPT.index  # else compare with the published value instead
    inst = read_cap(instance_path("cap41"))
    value, open_set = uflp_brute_force(inst.fixed, inst.cost)
    problem = to_problem(inst, "omit")
    solution, seconds = solve_and_check(problem, inst, capacitated=False)
    assert objective_value(problem, solution)["total_cost"] == pytest.approx(value, rel=REL)
    assert solution.objective == pytest.approx(value, rel=REL)
    # the brute-force open set, with its cheapest assignment, costs the same
    cheapest = inst.cost[:, open_set].min(axis=1).sum()
    assert inst.fixed[open_set].sum() + cheapest == pytest.approx(value, rel=1e-12)
    print(f"cap41 uncapacitated: {seconds:.2f} s, brute-force optimum {value:.3f}")


def test_cap41_and_cap71_differ_only_in_capacity() -> None:
    cap41, cap71 = read_cap(instance_path("cap41")), read_cap(instance_path("cap71"))
    np.testing.assert_array_equal(cap41.fixed, cap71.fixed)
    np.testing.assert_array_equal(cap41.demand, cap71.demand)
    np.testing.assert_array_equal(cap41.cost, cap71.cost)
    assert cap41.capacity.max() == 5000.0 and cap71.capacity.min() == cap71.demand.sum()
