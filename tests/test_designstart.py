"""The design start (``chargeplan.solver.designstart``) and the tightened design capacity rows.

Tiny station-design instances (4 zones on a line, 3 sites, the 3-design menu of
``tests/piece_instances.py``) are solved three ways: by enumeration of every design at every
site (4^3 = 64 choices, each leaving an assignment LP solved here with
:func:`scipy.optimize.linprog`), by :func:`chargeplan.solve` (design start, then HiGHS), and by
the start alone. The solve must find the enumerated optimum, the start must be a feasible plan
costing at least that optimum, and the LP bound at most that.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

import chargeplan
from chargeplan.model.design_constraints import usable_capacity
from chargeplan.model.designs import design_of, station_capacity
from chargeplan.model.formulation import build_milp
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.sparse import BINARY, INTEGER
from chargeplan.solver.designstart import design_start
from chargeplan.solver.direct import load_arrays
from chargeplan.solver.options import SolverOptions

from .piece_instances import design_row

EXACT = SolverOptions(mip_rel_gap=0.0, threads=1)


def line_instance(seed: int) -> FacilityProblem:
    """4 zones and 3 sites on a line, every zone reaching the sites within 1.5 units, random
    demand (two types) and fixed costs; the design menu of :func:`design_row` (capacity 25 and
    6 per stall: small 2+1 stalls, medium 4+2, large 6+4) at capex 900, 1,500, 2,000."""
    rng = np.random.default_rng(seed)
    zone_x, site_x = np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.5, 1.5, 2.5])
    distance = np.abs(zone_x[:, None] - site_x[None, :])
    pair_zone, pair_site = np.nonzero(distance <= 1.5)
    demand = np.column_stack([rng.uniform(20, 110, 4), rng.uniform(2, 14, 4)]).round(1)
    return design_row(
        "linear",
        2,
        zone_ids=np.array(["a", "b", "c", "d"], object),
        demand=demand,
        pair_zone=pair_zone,
        pair_site=pair_site,
        pair_cost=(3.0 * distance[pair_zone, pair_site])[:, None] * demand[pair_zone],
        fixed_cost=rng.uniform(200, 600, 3).round(),
    )


def assignment_cost(p: FacilityProblem, capacity: np.ndarray) -> float:
    """min access + unmet penalty with each site's capacity (``(S, K)``) fixed."""
    n_zones, n_sites, k = len(p.zone_ids), len(p.site_ids), len(p.types)
    n_pairs = len(p.pair_zone)
    cost = np.concatenate([p.pair_cost.ravel(), (p.unmet_penalty * p.demand).ravel()])
    a_eq = np.zeros((n_zones * k, n_pairs * k + n_zones * k))
    a_ub = np.zeros((n_sites * k, n_pairs * k + n_zones * k))
    for q, t in itertools.product(range(n_pairs), range(k)):
        a_eq[p.pair_zone[q] * k + t, q * k + t] = 1.0
        a_ub[p.pair_site[q] * k + t, q * k + t] = p.demand[p.pair_zone[q], t]
    a_eq[np.arange(n_zones * k), n_pairs * k + np.arange(n_zones * k)] = 1.0
    res = linprog(cost, A_ub=a_ub, b_ub=capacity.ravel(), A_eq=a_eq, b_eq=np.ones(n_zones * k))
    assert res.status == 0
    return float(res.fun)


def brute_force(p: FacilityProblem) -> tuple[float, tuple[int, ...]]:
    """The optimum over every choice of no design (closed) or one design at each site."""
    _, capacity = station_capacity(p)
    scored = []
    for choice in itertools.product(range(-1, len(p.design_names)), repeat=len(p.site_ids)):
        chosen = np.array(choice)
        built = chosen >= 0
        capex = p.fixed_cost @ built + p.design_capex[chosen[built]].sum()
        cap = np.where(built[:, None], capacity[np.arange(len(chosen)), chosen], 0.0)
        scored.append((capex + assignment_cost(p, cap), choice))
    scored.sort()
    return scored[0]


@pytest.mark.parametrize("seed", range(6))
def test_solve_finds_the_brute_force_optimum(seed: int) -> None:
    p = line_instance(seed)
    best, choice = brute_force(p)
    solution = chargeplan.solve(p, EXACT)
    assert solution.objective == pytest.approx(best, rel=1e-7)
    assert tuple(design_of(p, solution.chargers)) == choice or solution.objective == (
        pytest.approx(best, rel=1e-7)  # an exact tie between two plans: either is optimal
    )
    assert solution.bound <= best * (1 + 1e-9)


def loaded(p: FacilityProblem):
    lp, ix = build_milp(p)
    highs, order = load_arrays(lp)
    return lp, ix, highs, order


@pytest.mark.parametrize("seed", range(6))
def test_start_is_a_feasible_plan_between_the_bounds(seed: int) -> None:
    p = line_instance(seed)
    best, _ = brute_force(p)
    lp, ix, highs, order = loaded(p)
    start = design_start(p, lp, ix, highs, order, threads=1)
    assert start is not None
    v = start.values
    matrix, row_lo, row_hi = lp.matrix()
    activity = matrix @ v
    assert np.all(activity >= row_lo - 1e-6) and np.all(activity <= row_hi + 1e-6)
    lower, upper, kind = lp.bounds()
    assert np.all(v >= lower - 1e-9) and np.all(v <= upper + 1e-9)
    integral = np.isin(kind, [BINARY, INTEGER])
    assert np.allclose(v[integral], np.round(v[integral]), atol=1e-9)
    assert start.objective == pytest.approx(lp.objective @ v + lp.objective_offset, rel=1e-9)
    assert start.lp_bound <= best * (1 + 1e-9) <= start.objective * (1 + 1e-9)


def test_two_solves_give_identical_plans() -> None:
    p = line_instance(4)
    first, second = chargeplan.solve(p, EXACT), chargeplan.solve(p, EXACT)
    for name in ("open_site", "chargers", "served", "unmet"):
        assert np.array_equal(getattr(first, name), getattr(second, name)), name
    lp, ix, h1, order = loaded(p)
    a = design_start(p, lp, ix, h1, order, threads=1)
    _, _, h2, _ = loaded(p)
    b = design_start(p, lp, ix, h2, order, threads=1)
    assert a is not None and b is not None
    assert np.array_equal(a.values, b.values) and a.objective == b.objective


def test_start_switched_off_gives_the_same_optimum() -> None:
    p = line_instance(2)
    on = chargeplan.solve(p, EXACT)
    off = chargeplan.solve(p, dataclasses.replace(EXACT, design_start=False))
    assert on.objective == pytest.approx(off.objective, rel=1e-7)


def one_site(demand: float) -> FacilityProblem:
    """One zone, one site, one design of 4 stalls x 25 = capacity 100 at capex 1,000, no
    fixed cost, no access cost, unmet demand at 40 per unit."""
    return FacilityProblem(
        zone_ids=np.array(["z"], object),
        site_ids=np.array(["s"], object),
        types=("dc",),
        demand=np.array([[demand]]),
        pair_zone=np.array([0]),
        pair_site=np.array([0]),
        pair_cost=np.zeros((1, 1)),
        fixed_cost=np.zeros(1),
        site_capacity=np.full(1, np.inf),
        charger_capacity=np.array([25.0]),
        charger_cost=np.full((1, 1), 100.0),
        max_chargers=np.full((1, 1), 20.0),
        unmet_penalty=np.array([40.0]),
        design_names=("four",),
        design_stalls=np.array([[4.0]]),
        design_kva=np.array([300.0]),
        design_capex=np.array([1000.0]),
    )


def test_capacity_is_cut_to_the_demand_in_reach() -> None:
    """Demand 30 in reach of a 100-capacity station: the row's coefficient is 30, not 100.

    The LP relaxation then needs ``z = 1`` to serve all 30 (cost 1,000, cheaper than 30 x 40
    = 1,200 unmet): its value is the integer optimum 1,000. With the coefficient 100 it would
    take ``z = 0.3`` and cost 300.
    """
    p = one_site(30.0)
    base, design = usable_capacity(p)
    assert base[0, 0] == 0.0 and design[0, 0, 0] == 30.0
    lp, ix, highs, order = loaded(p)
    start = design_start(p, lp, ix, highs, order, threads=1)
    assert start is not None
    assert start.lp_bound == pytest.approx(1000.0)
    assert start.objective == pytest.approx(1000.0)
    assert chargeplan.solve(p, EXACT).objective == pytest.approx(1000.0)


def test_station_dearer_than_its_demand_stays_closed() -> None:
    """Demand 20: the station (1,000) costs more than leaving it unmet (20 x 40 = 800)."""
    p = one_site(20.0)
    solution = chargeplan.solve(p, EXACT)
    assert solution.objective == pytest.approx(800.0)
    assert not solution.open_site.any()


@pytest.mark.parametrize("seed", range(6))
def test_no_branch_and_bound_returns_the_start_with_its_bound(seed: int) -> None:
    """``design_max_nodes = 0``: the plan is the start's, its bound the start's, and the status
    says whether that is within the gap (no HiGHS search, so no clock can decide the plan)."""
    p = line_instance(seed)
    best, _ = brute_force(p)
    lp, ix, highs, order = loaded(p)
    start = design_start(p, lp, ix, highs, order, threads=1)
    assert start is not None
    solution = chargeplan.solve(p, dataclasses.replace(EXACT, design_max_nodes=0))
    assert solution.objective == pytest.approx(start.objective, rel=1e-9)
    assert solution.bound == pytest.approx(start.bound, rel=1e-9)
    assert solution.bound <= best * (1 + 1e-9) <= solution.objective * (1 + 1e-9)
    within = start.objective - start.bound <= 1e-9 * abs(start.objective)
    assert solution.status == ("optimal" if within else "iteration_limit")
