"""Station-design instances and their brute-force references, shared by the design tests.

``line_instance`` (4 zones and 3 sites on a line, the 3-design menu of
:func:`tests.piece_instances.design_row`), its brute force over every design at every site
(each choice leaves an assignment LP, solved with :func:`scipy.optimize.linprog`), the LP
relaxation with its duals of the demand rows, the one-site instance, and a tiny scenario with
a 2-design menu.
"""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linprog

from chargeplan.model.designs import station_capacity
from chargeplan.model.formulation import build_milp
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.sparse import BINARY, INTEGER
from chargeplan.solver.design_bound import assign_row_offset
from chargeplan.solver.design_search import CLOSED, plan_options
from chargeplan.solver.direct import load_arrays
from chargeplan.solver.options import SolverOptions

from . import conftest
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


def lp_relaxation(p: FacilityProblem) -> tuple[float, np.ndarray]:
    """The LP relaxation's value and its duals of the demand rows."""
    lp, ix = build_milp(p)
    highs, _ = load_arrays(lp)
    highs.setOptionValue("solve_relaxation", True)
    highs.setOptionValue("threads", 1)
    highs.run()
    start = assign_row_offset(lp)
    duals = np.asarray(highs.getSolution().row_dual)[start : start + len(ix.u_zone)]
    return float(highs.getInfo().objective_function_value) + lp.objective_offset, duals


def assignment_lp(
    p: FacilityProblem, capacity: np.ndarray, pair_cost: np.ndarray, unmet_cost: np.ndarray
) -> float:
    """min pair_cost . x + unmet_cost . u over the assignment with each site's capacity
    (``(S, K)``) fixed: every zone's demand of every type assigned or unmet."""
    return float(assignment_solution(p, capacity, pair_cost, unmet_cost).fun)


def assignment_solution(
    p: FacilityProblem, capacity: np.ndarray, pair_cost: np.ndarray, unmet_cost: np.ndarray
) -> Any:
    """:func:`assignment_lp`'s ``scipy.optimize.linprog`` result: columns ``x`` (pair x type)
    then ``u`` (zone x type)."""
    n_zones, n_sites, k = len(p.zone_ids), len(p.site_ids), len(p.types)
    n_pairs = len(p.pair_zone)
    cost = np.concatenate([np.ravel(pair_cost), np.ravel(unmet_cost)])
    a_eq = np.zeros((n_zones * k, n_pairs * k + n_zones * k))
    a_ub = np.zeros((n_sites * k, n_pairs * k + n_zones * k))
    for q, t in itertools.product(range(n_pairs), range(k)):
        a_eq[p.pair_zone[q] * k + t, q * k + t] = 1.0
        a_ub[p.pair_site[q] * k + t, q * k + t] = p.demand[p.pair_zone[q], t]
    a_eq[np.arange(n_zones * k), n_pairs * k + np.arange(n_zones * k)] = 1.0
    res = linprog(cost, A_ub=a_ub, b_ub=capacity.ravel(), A_eq=a_eq, b_eq=np.ones(n_zones * k))
    assert res.status == 0
    return res


def assignment_cost(p: FacilityProblem, capacity: np.ndarray) -> float:
    """min access + unmet penalty with each site's capacity (``(S, K)``) fixed."""
    return assignment_lp(p, capacity, p.pair_cost, p.unmet_penalty * p.demand)


def least_unmet(p: FacilityProblem, capacity: np.ndarray) -> float:
    """min sum_ik d_ik u_ik (``max_coverage``'s first stage) with each site's capacity fixed."""
    return assignment_lp(p, capacity, np.zeros(p.pair_cost.shape), p.demand)


def enumerate_plans(p: FacilityProblem, allowed=lambda chosen: True) -> list[tuple]:
    """Every choice of no design (-1) or one design at each site that ``allowed`` keeps, as
    ``(capex, choice, capacity (S, K))``."""
    _, capacity = station_capacity(p)
    plans = []
    for choice in itertools.product(range(-1, len(p.design_names)), repeat=len(p.site_ids)):
        chosen = np.array(choice)
        if not allowed(chosen):
            continue
        built = chosen >= 0
        capex = float(p.fixed_cost @ built + p.design_capex[chosen[built]].sum())
        cap = np.where(built[:, None], capacity[np.arange(len(chosen)), chosen], 0.0)
        plans.append((capex, choice, cap))
    return plans


def brute_force(p: FacilityProblem) -> tuple[float, tuple[int, ...]]:
    """The optimum over every choice of no design (closed) or one design at each site."""
    scored = [
        (capex + assignment_cost(p, cap), choice) for capex, choice, cap in enumerate_plans(p)
    ]
    return min(scored)


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


DESIGNS = """
[designs.d2]
stalls = { dc_fast = 2, ac_destination = 2 }
grid_kva = 300
grid_connection_cny = 50000
civil_works_cny = 20000

[designs.d4]
stalls = { dc_fast = 4, ac_destination = 4 }
grid_kva = 600
grid_connection_cny = 90000
civil_works_cny = 30000
"""


def write_design_scenario(folder: Path) -> Path:
    scenario = conftest.SCENARIO.replace(
        'rule = "linear"', 'rule = "queue"\nmax_wait_probability = 0.2\ndesigns = ["d2", "d4"]'
    )
    path = conftest.write_tiny_scenario(folder, scenario)
    with (folder / "chargers.toml").open("a") as f:
        f.write(textwrap.dedent(DESIGNS))
    return path


def assert_feasible_plan(p: FacilityProblem, values: np.ndarray) -> None:
    """Every row and bound holds and the integer columns are whole."""
    lp, _ = build_milp(p)
    matrix, row_lo, row_hi = lp.matrix()
    activity = matrix @ values
    assert np.all(activity >= row_lo - 1e-6) and np.all(activity <= row_hi + 1e-6)
    lower, upper, kind = lp.bounds()
    assert np.all(values >= lower - 1e-9) and np.all(values <= upper + 1e-9)
    integral = np.isin(kind, [BINARY, INTEGER])
    assert np.allclose(values[integral], np.round(values[integral]), atol=1e-9)


def plan_cost(p: FacilityProblem, values: np.ndarray) -> float:
    """The plan's capex plus its assignment LP (brute force's pricing) for its designs."""
    _, ix = build_milp(p)
    option = plan_options(p, ix, values)
    _, capacity = station_capacity(p)
    built = option >= 0
    design = ix.z_design[np.maximum(option, 0)]
    cap = np.where(built[:, None], capacity[np.arange(len(option)), design], 0.0)
    capex = p.fixed_cost @ (option != CLOSED) + p.design_capex[design[built]].sum()
    return float(capex + assignment_cost(p, cap))
