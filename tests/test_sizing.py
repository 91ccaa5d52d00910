"""Queue-aware charger sizing with site limits, existing chargers and an existing network.

Four parts:

1. **Brute force.** Tiny instances (3 sites, 3-4 zones, 1-2 charger types) with Erlang-C queue
   levels, grid limits and upgrades, stall limits, existing and minimum chargers, required and
   excluded sites. Every design (charger counts per site and type, grid upgrades) within the
   limits is enumerated here; the assignment LP left by each design is solved with
   :func:`scipy.optimize.linprog` (the ``AssignmentLP`` of ``tests/bruteforce.py``, which never
   touches chargeplan's model). The optimum must be unique by a clear margin and chargeplan's
   exact solve must reproduce its objective, charger counts and upgrades.
2. **Properties** of plans: service levels, existing chargers, required/excluded sites, and the
   queueing rule against :func:`chargeplan.model.queueing.chargers_needed` and Erlang C.
3. **Infeasible inputs** refused before the solve by ``check_feasibility`` (and by the CLI:
   exit code 4, one line, naming the site).
4. **Existing networks** from the real AFDC station list for New York State (April 2025,
   ``tests/data/afdc_ev_stations_newyork_2025-04.csv``, see ``tests/data/SOURCES.md``).

The sizing rule checked (``docs/model.md``): with ``S`` chargers per queue and ``L`` the peak
kWh one queue of ``c = 0..S`` chargers serves at the service level, ``n`` chargers of a type at
a site serve at most ``L[S] * (n // S) + L[n % S]``.
"""

from __future__ import annotations

import functools
import itertools
import subprocess
import sys
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

import chargeplan
from chargeplan.cli import main
from chargeplan.config.scenario import ExistingConfig
from chargeplan.errors import InputError
from chargeplan.inputs.stations import read_stations
from chargeplan.model.feasibility import check_feasibility
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.queueing import (
    ServiceLevel,
    capacity_levels,
    chargers_needed,
    erlang_c,
)
from chargeplan.model.solution import Solution, objective_value
from chargeplan.results.plan import make_plan
from chargeplan.solver.highs import solve

from .bruteforce import AssignmentLP, allowed, unique_best
from .conftest import CATALOGUE, write_tiny_scenario
from .instances import EXACT, TOL, Instance

INF = np.inf
DATA = Path(__file__).resolve().parent / "data"
AFDC = DATA / "afdc_ev_stations_newyork_2025-04.csv"
#: Chargers per queue, session length (h) and energy (kWh) of the two charger types used here:
#: a 30-minute 25 kWh DC session in queues of 3, a one-hour 10 kWh AC session in queues of 2.
DC = (3, 0.5, 25.0)
AC = (2, 1.0, 10.0)
TYPES = ("dc_fast", "ac_destination")
#: Every site with chargers must meet this service level (tests of the queueing rule).
P_WAIT = 0.2
#: Absolute slack on kWh when comparing loads with queue capacities (solver tolerance).
KWH_TOL = 1e-5


def _a(rows) -> np.ndarray:
    return np.array(rows, dtype=float)


# --------------------------------------------------------------------------------------------
# instances: plain data, independent of chargeplan
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QInstance:
    """Tiny instance with queue-aware sizing. ``cost[i, j, k]``: NaN where i cannot reach j.

    ``queues[k] = (S_k, session hours, session kWh)``; the levels follow from ``p_wait``.
    Optional per-site arrays default to "no limit": no minimum or existing chargers, no stall
    or grid limit, nothing required or excluded.
    """

    demand: np.ndarray  # (Z, K) peak kWh
    cost: np.ndarray  # (Z, S, K) cost of serving all of zone i's type-k demand from j
    fixed: np.ndarray  # (S,)
    penalty: np.ndarray  # (K,) per unmet kWh
    charger_cost: np.ndarray  # (S, K)
    max_chargers: np.ndarray  # (S, K) int
    queues: tuple[tuple[int, float, float], ...]
    power: np.ndarray  # (K,) kW per charger
    p_wait: float = P_WAIT
    min_chargers: np.ndarray | None = None
    existing: np.ndarray | None = None
    max_stalls: np.ndarray | None = None
    grid_kw: np.ndarray | None = None
    upgrade_kw: np.ndarray | None = None
    upgrade_cost: np.ndarray | None = None
    required: np.ndarray | None = None
    excluded: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.cost.shape

    @property
    def levels(self) -> tuple[np.ndarray, ...]:
        """Peak kWh one queue of ``c = 0..S_k`` chargers serves (what the brief prescribes)."""
        level = ServiceLevel(max_wait_probability=self.p_wait)
        return tuple(capacity_levels(size, hours, level) * kwh for size, hours, kwh in self.queues)

    def site(self, name: str, j: int):
        """Site j's entry of an optional per-site array, or its "no limit" default."""
        s, k = self.fixed.shape[0], self.demand.shape[1]
        defaults = {
            "min_chargers": np.zeros((s, k), np.int64),
            "existing": np.zeros((s, k), np.int64),
            "max_stalls": np.full(s, INF),
            "grid_kw": np.full(s, INF),
            "upgrade_kw": np.zeros(s),
            "upgrade_cost": np.zeros(s),
            "required": np.zeros(s, bool),
            "excluded": np.zeros(s, bool),
        }
        value = getattr(self, name)
        return (defaults[name] if value is None else value)[j]


def queue_capacity(levels: np.ndarray, n: int) -> float:
    """Peak kWh ``n`` chargers serve: full queues of ``S`` plus one partial queue."""
    size = len(levels) - 1
    return float(levels[size] * (n // size) + levels[n % size])


# One type (DC, 3 per queue: 10, 37.0, 69.6 kWh for 1, 2, 3 chargers), four zones, three sites.
# Site 0 already has 2 chargers (open, fixed cost sunk) and at most 6 stalls; site 1's grid
# holds 3 chargers (160 kW) and an upgrade (+150 kW, 15.7) 6; site 2 opens with at least 2.
# Zone 1 (130 kWh) is far beyond one queue. Drawn at random once and written out. 250 designs.
# Optimum: 5 chargers at site 0 (2 kept + 3 new: a full queue and a partial one of 2), 6 at
# site 1 with the upgrade (two full queues), 3 at site 2.
Q1 = QInstance(
    demand=_a([[47.4], [130.0], [67.0], [56.3]]),
    cost=_a(
        [
            [[7.92], [np.nan], [49.01]],
            [[50.44], [22.62], [np.nan]],
            [[24.12], [48.91], [18.02]],
            [[10.64], [34.68], [44.2]],
        ]
    ),
    fixed=_a([0.0, 47.3, 39.7]),
    penalty=_a([4.09]),
    charger_cost=_a([[17.2], [16.3], [17.2]]),
    max_chargers=np.array([[7], [7], [5]]),
    queues=(DC,),
    power=_a([50.0]),
    min_chargers=np.array([[0], [0], [2]]),
    existing=np.array([[2], [0], [0]]),
    max_stalls=_a([6, INF, INF]),
    grid_kw=_a([INF, 160.0, INF]),
    upgrade_kw=_a([0.0, 150.0, 0.0]),
    upgrade_cost=_a([0.0, 15.7, 0.0]),
)

# Two types (DC as above; AC 2 per queue: 2.0 and 7.4 kWh for 1 and 2 chargers), three zones,
# three sites. Site 0 is excluded although it is cheap to open and close to every zone; site
# 1 is required, needs a DC charger when open and has 5 stalls; site 2's grid (120 kW) holds
# DC 50 kW and AC 10 kW chargers up to 120 kW, or 220 kW after an upgrade costing 8.9.
# Drawn at random once and written out. 338 designs.
# Optimum: site 1 with 4 DC (queues of 3 + 1) and 1 AC (all 5 stalls), site 2 upgraded with
# 3 DC and 3 AC (AC queues of 2 + 1).
Q2 = QInstance(
    demand=_a([[79.9, 3.5], [31.3, 7.4], [57.7, 5.4]]),
    cost=_a(
        [
            [[7.27, 0.32], [19.42, 0.85], [50.5, 2.21]],
            [[0.97, 0.23], [9.01, 2.13], [5.38, 1.27]],
            [[3.52, 0.33], [5.83, 0.55], [43.45, 4.07]],
        ]
    ),
    fixed=_a([5.0, 78.5, 29.0]),
    penalty=_a([4.17, 3.84]),
    charger_cost=_a([[13.3, 3.3], [15.1, 4.8], [28.6, 3.2]]),
    max_chargers=np.array([[2, 2], [4, 3], [3, 3]]),
    queues=(DC, AC),
    power=_a([50.0, 10.0]),
    min_chargers=np.array([[0, 0], [1, 0], [0, 0]]),
    max_stalls=_a([INF, 5, INF]),
    grid_kw=_a([INF, INF, 120.0]),
    upgrade_kw=_a([0.0, 0.0, 100.0]),
    upgrade_cost=_a([0.0, 0.0, 8.9]),
    required=np.array([False, True, False]),
    excluded=np.array([True, False, False]),
)

# Q2 with at least 2 AC chargers at site 1 when open: the minimum binds (it had 1) and, with
# the 5 stalls, costs site 1 a DC charger. 130 designs.
Q2_MIN = replace(Q2, min_chargers=np.array([[0, 0], [1, 2], [0, 0]]))

INSTANCES = {"Q1": Q1, "Q2": Q2, "Q2_MIN": Q2_MIN}


# --------------------------------------------------------------------------------------------
# the brute-force reference
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QDesign:
    """One design: open sites, chargers, grid upgrades, its capex and queue capacities."""

    open_site: np.ndarray
    chargers: np.ndarray
    upgrade: np.ndarray
    capex: float
    capacity: np.ndarray  # (S, K) peak kWh the chargers serve at the service level


def site_options(q: QInstance, j: int) -> list[tuple[bool, np.ndarray, bool, float, np.ndarray]]:
    """Every (open, chargers, upgrade, capex, capacity) site j allows on its own.

    A site is open when it must be (required, holding chargers) or has a charger; an open site
    with no charger that need not be open serves no one and only costs ``f_j``, so leaving it
    closed loses nothing.
    """
    k = q.demand.shape[1]
    existing = q.site("existing", j)
    least = q.site("min_chargers", j)
    grid, extra = q.site("grid_kw", j), q.site("upgrade_kw", j)
    must = bool(q.site("required", j) or existing.sum() > 0)
    levels = q.levels
    out = []
    counts = [range(int(existing[t]), int(q.max_chargers[j, t]) + 1) for t in range(k)]
    for combo in itertools.product(*counts):
        n = np.array(combo, np.int64)
        is_open = must or n.sum() > 0
        if is_open and q.site("excluded", j):
            continue
        if is_open and np.any(n < least):
            continue
        if n.sum() > q.site("max_stalls", j):
            continue
        power = float(q.power @ n)
        for upgrade in (False, True):
            if upgrade and not (is_open and np.isfinite(grid) and extra > 0):
                continue
            if power > grid + extra * upgrade + 1e-9:
                continue
            capex = (
                q.fixed[j] * is_open
                + float(q.charger_cost[j] @ (n - existing))
                + q.site("upgrade_cost", j) * upgrade
            )
            capacity = np.array([queue_capacity(levels[t], int(n[t])) for t in range(k)])
            out.append((is_open, n, upgrade, capex, capacity))
    return out


def assignment_lp(q: QInstance) -> AssignmentLP:
    """The LP of ``x`` and ``u`` for a fixed design; its charger rows get rhs = capacity.

    ``AssignmentLP`` writes ``sum_i d_ik x_ijk <= q_k n_jk``; with ``q_k = 1`` and the queue
    capacity passed for ``n_jk`` that is the queueing rule's capacity row.
    """
    s, k = q.fixed.shape[0], q.demand.shape[1]
    inst = Instance(
        demand=q.demand,
        cost=q.cost,
        fixed=q.fixed,
        capacity=np.full(s, INF),
        penalty=q.penalty,
        q=np.ones(k),
        charger_cost=q.charger_cost,
        max_chargers=q.max_chargers,
    )
    return AssignmentLP(inst)


class BruteForce:
    """All designs of an instance, their LP values computed lazily and cached.

    The min-cost search visits designs by increasing capex and stops once capex alone reaches
    the second-best total found so far (access and penalty are >= 0), so the best and the
    runner-up are exact without solving an LP for every design.
    """

    def __init__(self, q: QInstance) -> None:
        self.q = q
        self.lp = assignment_lp(q)
        s = q.fixed.shape[0]
        self.designs = []
        for combo in itertools.product(*(site_options(q, j) for j in range(s))):
            self.designs.append(
                QDesign(
                    np.array([c[0] for c in combo]),
                    np.array([c[1] for c in combo]),
                    np.array([c[2] for c in combo]),
                    float(sum(c[3] for c in combo)),
                    np.array([c[4] for c in combo]),
                )
            )
        self.designs.sort(key=lambda d: d.capex)
        self._cost: dict[int, float] = {}
        self._unmet: dict[int, float] = {}

    def cost(self, i: int) -> float:
        """Capex plus the least access cost and penalty of design i."""
        if i not in self._cost:
            d = self.designs[i]
            self._cost[i] = d.capex + self.lp.solve(d.open_site, d.capacity, "cost")
        return self._cost[i]

    def unmet(self, i: int) -> float:
        """Least unmet demand design i allows."""
        if i not in self._unmet:
            d = self.designs[i]
            self._unmet[i] = self.lp.solve(d.open_site, d.capacity, "unmet")
        return self._unmet[i]

    def feasible(self, budget=None, max_sites=None) -> list[int]:
        return [i for i, d in enumerate(self.designs) if allowed(d, budget, max_sites)]

    def min_cost(self, budget=None, max_sites=None) -> tuple[float, QDesign]:
        """Best total cost and design, after checking the runner-up is clearly worse."""
        top: list[tuple[float, int]] = []
        for i in self.feasible(budget, max_sites):
            if len(top) == 2 and self.designs[i].capex >= top[1][0]:
                break
            top = sorted([*top, (self.cost(i), i)])[:2]
        value, best = unique_best([(v, self.designs[i]) for v, i in top])
        return value, best

    def max_coverage(self, budget=None, max_sites=None) -> tuple[float, float, QDesign]:
        """(least unmet demand, least capex + access at that coverage, the design)."""
        feasible = self.feasible(budget, max_sites)
        least_unmet = min(self.unmet(i) for i in feasible)
        level = least_unmet + 1e-7
        second = []
        for i in feasible:
            if self.unmet(i) <= level:
                d = self.designs[i]
                access = self.lp.solve(d.open_site, d.capacity, "access", unmet_cap=level)
                second.append((d.capex + access, d))
        cost, design = unique_best(second)
        return least_unmet, cost, design


@functools.cache
def brute(name: str) -> BruteForce:
    return BruteForce(INSTANCES[name])


def brute_min_cost(name: str, budget=None, max_sites=None) -> tuple[float, QDesign]:
    return brute(name).min_cost(budget, max_sites)


def brute_max_coverage(name: str, budget=None, max_sites=None) -> tuple[float, float, QDesign]:
    return brute(name).max_coverage(budget, max_sites)


# --------------------------------------------------------------------------------------------
# chargeplan side
# --------------------------------------------------------------------------------------------


def to_problem(q: QInstance, **kwargs) -> FacilityProblem:
    """The instance as a FacilityProblem with queue levels (pairs zone-major)."""
    z, s, k = q.shape
    pair_zone, pair_site = np.nonzero(~np.isnan(q.cost[:, :, 0]))

    def opt(name, dtype=float):
        value = getattr(q, name)
        return None if value is None else np.asarray(value, dtype)

    fields = {
        "zone_ids": np.array([f"z{i}" for i in range(z)], dtype=object),
        "site_ids": np.array([f"s{j}" for j in range(s)], dtype=object),
        "types": TYPES[:k],
        "demand": q.demand,
        "pair_zone": pair_zone,
        "pair_site": pair_site,
        "pair_cost": q.cost[pair_zone, pair_site, :],
        "fixed_cost": q.fixed,
        "site_capacity": np.full(s, INF),
        "charger_capacity": None,
        "charger_cost": q.charger_cost,
        "max_chargers": q.max_chargers.astype(float),
        "unmet_penalty": q.penalty,
        "queue_levels": q.levels,
        "min_chargers": opt("min_chargers"),
        "existing_chargers": opt("existing"),
        "max_stalls": opt("max_stalls"),
        "charger_power_kw": q.power,
        "grid_kw": opt("grid_kw"),
        "grid_upgrade_kw": opt("upgrade_kw"),
        "grid_upgrade_cost": opt("upgrade_cost"),
        "required": opt("required", bool),
        "excluded": opt("excluded", bool),
        "session_kwh": np.array([kwh for _, _, kwh in q.queues]),
        "session_hours": np.array([hours for _, hours, _ in q.queues]),
    }
    fields.update(kwargs)
    return FacilityProblem(**fields)


def site_load(problem: FacilityProblem, solution: Solution) -> np.ndarray:
    """``(S, K)`` peak kWh each site serves of each type."""
    load = np.zeros((len(problem.site_ids), len(problem.types)))
    np.add.at(load, problem.pair_site, solution.served * problem.demand[problem.pair_zone])
    return load


def assert_feasible(problem: FacilityProblem, solution: Solution) -> None:
    """Every constraint of the queue-aware formulation, checked from the arrays."""
    d = problem.demand
    z, k = d.shape
    share = np.zeros((z, k))
    np.add.at(share, problem.pair_zone, solution.served)
    np.testing.assert_allclose((share + solution.unmet)[d > 0], 1.0, atol=TOL)
    load = site_load(problem, solution)
    n, y = solution.chargers, solution.open_site
    assert np.all(load[~y] <= TOL), "a closed site serves demand"
    for j, t in itertools.product(range(len(y)), range(k)):
        capacity = queue_capacity(problem.queue_levels[t], int(n[j, t]))
        assert load[j, t] <= capacity + KWH_TOL, (j, t, load[j, t], capacity)
    assert np.all(n <= problem.max_chargers * y[:, None])
    assert np.all(n >= problem.existing_chargers)
    assert np.all(n >= problem.min_chargers * y[:, None])
    assert np.all(n.sum(axis=1) <= problem.max_stalls)
    grid = problem.grid_kw + problem.grid_upgrade_kw * solution.grid_upgrade
    assert np.all(n @ problem.charger_power_kw <= grid + 1e-9)
    assert np.all(~solution.grid_upgrade | y)
    assert np.all(y[problem.required | problem.has_existing])
    assert not np.any(y[problem.excluded])
    if problem.budget is not None:
        assert objective_value(problem, solution)["capex"] <= problem.budget + TOL
    if problem.max_sites is not None:
        assert y.sum() <= problem.max_sites


def assert_same_design(solution: Solution, design: QDesign) -> None:
    np.testing.assert_array_equal(solution.open_site, design.open_site)
    np.testing.assert_array_equal(solution.chargers, design.chargers)
    np.testing.assert_array_equal(solution.grid_upgrade, design.upgrade)


# --------------------------------------------------------------------------------------------
# 1. brute force
# --------------------------------------------------------------------------------------------


def test_queue_levels_are_the_prescribed_ones() -> None:
    """The levels the instances use, and the step capacity they give (hand-checkable)."""
    dc, ac = Q2.levels
    np.testing.assert_allclose(dc, [0.0, 10.0, 37.01562119, 69.64377576], rtol=1e-8)
    np.testing.assert_allclose(ac, [0.0, 2.0, 7.40312424], rtol=1e-8)
    # one charger at P(wait) <= 0.2: lambda * s <= 0.2 (Erlang C of one server is its load)
    assert dc[1] == pytest.approx(0.2 / DC[1] * DC[2], rel=1e-9)
    assert [queue_capacity(dc, n) for n in range(8)] == pytest.approx(
        [0, 10, 37.0156, 69.6438, 79.6438, 106.6594, 139.2876, 149.2876], abs=1e-4
    )
    assert [queue_capacity(ac, n) for n in range(6)] == pytest.approx(
        [0, 2, 7.4031, 9.4031, 14.8062, 16.8062], abs=1e-4
    )


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_min_cost_queue_sizing_matches_brute_force(name: str) -> None:
    best_value, best = brute_min_cost(name)
    problem = to_problem(INSTANCES[name])
    solution = solve(problem, EXACT)
    assert solution.status == "optimal"
    assert_feasible(problem, solution)
    assert solution.objective == pytest.approx(best_value, rel=1e-6)
    assert objective_value(problem, solution)["total_cost"] == pytest.approx(best_value, rel=1e-6)
    assert_same_design(solution, best)


def test_brute_force_instances_exercise_the_limits() -> None:
    """Guard against the data drifting into optima that test nothing."""
    _, q1 = brute_min_cost("Q1")
    assert q1.chargers[:, 0].tolist() == [5, 6, 3]
    assert q1.chargers[0, 0] > Q1.existing[0, 0]  # existing site extended
    assert (q1.chargers > DC[0]).sum() == 2  # two sites run more than one queue
    assert q1.upgrade.tolist() == [False, True, False]  # needed: 6 x 50 kW > 160 kW
    _, q2 = brute_min_cost("Q2")
    assert q2.chargers.tolist() == [[0, 0], [4, 1], [3, 3]]
    assert q2.chargers[1].sum() == Q2.max_stalls[1]  # the stall limit binds
    assert q2.upgrade.tolist() == [False, False, True]  # 3 x 50 + 3 x 10 kW > 120 kW
    assert q2.chargers[1, 0] > DC[0] and q2.chargers[2, 1] > AC[0]  # DC and AC beyond a queue
    _, q2_min = brute_min_cost("Q2_MIN")
    assert q2_min.chargers.tolist() == [[0, 0], [3, 2], [3, 3]]
    assert q2_min.chargers[1, 1] == Q2_MIN.min_chargers[1, 1]  # the minimum binds
    # the stall and grid limits bind: without them the plan is cheaper and breaks one of them
    problem = to_problem(Q2)
    free = solve(replace(problem, max_stalls=np.full(3, INF), grid_kw=np.full(3, INF)), EXACT)
    assert free.objective < brute_min_cost("Q2")[0] - 1.0
    stalls = free.chargers.sum(axis=1) > problem.max_stalls
    grid = free.chargers @ problem.charger_power_kw > problem.grid_kw + problem.grid_upgrade_kw
    assert stalls.any() or grid.any()


@pytest.mark.parametrize(
    ("name", "budget", "max_sites"),
    [("Q1", 150.05, None), ("Q1", None, 2), ("Q2", 160.05, None)],
)
def test_min_cost_with_budget_or_site_limit_matches_brute_force(name, budget, max_sites) -> None:
    best_value, best = brute_min_cost(name, budget, max_sites)
    assert best_value > brute_min_cost(name)[0] + 1.0  # the limit binds
    problem = to_problem(INSTANCES[name], budget=budget, max_sites=max_sites)
    solution = solve(problem, EXACT)
    assert solution.status == "optimal"
    assert_feasible(problem, solution)
    assert objective_value(problem, solution)["total_cost"] == pytest.approx(best_value, rel=1e-6)
    assert_same_design(solution, best)


@pytest.mark.parametrize(
    ("name", "budget", "max_sites"),
    [("Q1", 180.05, None), ("Q1", 200.05, 1), ("Q2", 200.05, None)],
)
def test_max_coverage_queue_sizing_matches_brute_force(name, budget, max_sites) -> None:
    least_unmet, least_cost, best = brute_max_coverage(name, budget, max_sites)
    # the limits bind: the unlimited min-cost plan alone leaves less demand unmet
    _, free = brute_min_cost(name)
    position = next(i for i, d in enumerate(brute(name).designs) if d is free)
    assert least_unmet > brute(name).unmet(position) + 1.0
    problem = to_problem(
        INSTANCES[name], objective="max_coverage", budget=budget, max_sites=max_sites
    )
    solution = solve(problem, EXACT)
    assert solution.status == "optimal"
    assert_feasible(problem, solution)
    parts = objective_value(problem, solution)
    assert solution.objective == pytest.approx(least_unmet, abs=TOL)
    assert parts["unmet_demand"] == pytest.approx(least_unmet, abs=TOL)
    assert parts["capex"] + parts["access_cost"] == pytest.approx(least_cost, rel=1e-6)
    assert_same_design(solution, best)


# --------------------------------------------------------------------------------------------
# 2. properties
# --------------------------------------------------------------------------------------------

#: Hypothesis examples per property: each example is one or two exact solves (~0.1 s each).
FEW = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Three zones, two sites; zone 0 reaches only site 0, zones 1 and 2 only site 1.
ONE_SITE_EACH = np.array([[1.0, np.nan], [np.nan, 1.0], [np.nan, 1.0]])


def fixed_assignment(demand: np.ndarray, p_wait: float) -> QInstance:
    """Every zone reaches one site and the penalty is high: all demand is served where it is.

    High enough that the smallest excess the rounded demands can leave (0.01 kWh, which
    hypothesis found) costs more unmet (100) than a site and a charger (40 + 22)."""
    cost = (ONE_SITE_EACH[:, :, None] * demand[:, None, :]) * 0.3
    return QInstance(
        demand=demand,
        cost=cost,
        fixed=_a([30.0, 40.0]),
        penalty=_a([10_000.0, 10_000.0]),
        charger_cost=_a([[20.0, 5.0], [22.0, 6.0]]),
        max_chargers=np.array([[15, 15], [15, 15]]),
        queues=(DC, AC),
        power=_a([50.0, 10.0]),
        p_wait=p_wait,
    )


def fewest_chargers(levels: np.ndarray, load: float, most: int) -> int:
    """Fewest chargers whose queues serve ``load`` peak kWh (within the solver's tolerance)."""
    for n in range(most + 1):
        if queue_capacity(levels, n) >= load - KWH_TOL:
            return n
    raise AssertionError(f"{most} chargers cannot serve {load} kWh")


demands = st.tuples(
    st.floats(5.0, 100.0), st.floats(1.0, 12.0), st.floats(5.0, 100.0), st.floats(1.0, 12.0)
).map(lambda v: np.round(np.array([[v[0], v[1]], [v[2], v[3]], [v[2] / 2, v[3] / 3]]), 2))
levels_of_service = st.lists(
    st.sampled_from([0.1, 0.2, 0.35, 0.5, 0.8]), min_size=2, max_size=2, unique=True
).map(sorted)


def test_tightening_the_service_level_adds_chargers_on_a_concrete_instance() -> None:
    demand = _a([[41.3, 6.2], [77.9, 10.4], [38.95, 3.47]])
    plans = []
    for p in (0.8, 0.5, 0.35, 0.2, 0.1):
        problem = to_problem(fixed_assignment(demand, p))
        solution = solve(problem, EXACT)
        assert objective_value(problem, solution)["unmet_demand"] == pytest.approx(0.0, abs=TOL)
        plans.append(solution.chargers)
    for looser, tighter in itertools.pairwise(plans):
        assert np.all(tighter >= looser)
    assert plans[-1].sum() > plans[0].sum()
    # the first and last plans, by hand from the levels: fewest chargers per site and type
    for p, chargers in ((0.8, plans[0]), (0.1, plans[-1])):
        q = fixed_assignment(demand, p)
        load = np.array([demand[0], demand[1] + demand[2]])
        expected = [
            [fewest_chargers(q.levels[t], load[j, t], 15) for t in range(2)] for j in range(2)
        ]
        assert chargers.tolist() == expected


@FEW
@given(demand=demands, pair=levels_of_service)
@example(demand=np.array([[5.0, 1.01], [5.0, 1.0], [2.5, 0.33]]), pair=[0.1, 0.2])
def test_tightening_the_service_level_never_reduces_chargers(demand, pair) -> None:
    """Theorem here: each zone has one site and all demand is served, so each site's chargers
    are the fewest whose queues carry a fixed load, and tighter levels only shrink ``L``."""
    loose, tight = (to_problem(fixed_assignment(demand, p)) for p in reversed(pair))
    a, b = solve(loose, EXACT), solve(tight, EXACT)
    for problem, solution in ((loose, a), (tight, b)):
        assert objective_value(problem, solution)["unmet_demand"] == pytest.approx(0.0, abs=TOL)
    assert np.all(b.chargers >= a.chargers), (pair, a.chargers, b.chargers)
    assert b.chargers.sum() >= a.chargers.sum()


def test_tightening_can_reduce_chargers_when_sites_compete() -> None:
    """Not a theorem in general: a tighter level can make one pooled site beat two small ones.

    Two zones of 25.9 DC kWh; sites 0 and 1 each reach one zone at no access cost, site 2
    reaches both at 12.5 each. Fixed 10, charger 10. At P(wait) <= 0.2 one zone needs 2
    chargers (L = 10, 37.0) and both together 3 (69.6): two small sites cost 20 + 40 = 60, the
    pooled one 10 + 30 + 25 = 65. At 0.1 (L = 5, 25.0, 52.0) one zone needs 3 and both 3: two
    sites cost 20 + 60 = 80, the pooled one still 65. Chargers: 4 at 0.2, 3 at 0.1.
    """
    cost = np.array([[0.0, np.nan, 12.5], [np.nan, 0.0, 12.5]])[:, :, None]
    totals = {}
    for p in (0.2, 0.1):
        q = QInstance(
            demand=_a([[25.9], [25.9]]),
            cost=cost,
            fixed=_a([10.0, 10.0, 10.0]),
            penalty=_a([100.0]),
            charger_cost=_a([[10.0], [10.0], [10.0]]),
            max_chargers=np.array([[4], [4], [4]]),
            queues=(DC,),
            power=_a([50.0]),
            p_wait=p,
        )
        value, best = BruteForce(q).min_cost()
        solution = solve(to_problem(q), EXACT)
        assert solution.objective == pytest.approx(value, rel=1e-6)
        assert_same_design(solution, best)
        totals[p] = int(solution.chargers.sum())
    assert totals == {0.2: 4, 0.1: 3}


def test_existing_chargers_do_not_raise_the_cost_on_a_concrete_instance() -> None:
    """Q1 keeps 2 chargers at site 0 (fixed cost sunk): without them the plan costs more."""
    with_existing = to_problem(Q1)
    without = to_problem(replace(Q1, existing=None))
    a, b = solve(with_existing, EXACT), solve(without, EXACT)
    kept, built = objective_value(with_existing, a), objective_value(without, b)
    assert kept["total_cost"] == pytest.approx(brute_min_cost("Q1")[0], rel=1e-6)
    assert kept["total_cost"] < built["total_cost"] - 1.0
    # the kept chargers carry no capex: only the 3 new ones at site 0 are paid for
    new = a.chargers - Q1.existing
    assert new[0, 0] == 3
    assert kept["charger_cost"] == pytest.approx(float((Q1.charger_cost * new).sum()), rel=1e-12)
    # the difference is the two chargers Q1 does not buy (same design here)
    np.testing.assert_array_equal(a.chargers, b.chargers)
    assert built["total_cost"] - kept["total_cost"] == pytest.approx(2 * 17.2, rel=1e-9)


#: Q2 without exclusions, stall or grid limits: existing chargers then cannot collide with them.
Q2_OPEN = replace(Q2, excluded=None, required=None, max_stalls=None, grid_kw=None)


@FEW
@given(
    existing=st.lists(st.integers(0, 3), min_size=6, max_size=6).map(
        lambda v: np.minimum(np.array(v).reshape(3, 2), Q2.max_chargers)
    )
)
def test_adding_existing_chargers_never_raises_total_cost(existing) -> None:
    """Kept chargers are free and their site's fixed cost is sunk (as the pipeline sets it), so
    the old plan topped up to the kept chargers stays feasible and costs no more."""
    sunk = np.where(existing.sum(axis=1) > 0, 0.0, Q2_OPEN.fixed)
    base = replace(Q2_OPEN, fixed=sunk)
    before = to_problem(base)
    after = to_problem(replace(base, existing=existing))
    a, b = solve(before, EXACT), solve(after, EXACT)
    assert np.all(b.chargers >= existing)
    assert b.open_site[existing.sum(axis=1) > 0].all()
    total_before = objective_value(before, a)["total_cost"]
    total_after = objective_value(after, b)["total_cost"]
    assert total_after <= total_before * (1 + 1e-7) + 1e-7
    # no capex for kept chargers
    charged = float((Q2.charger_cost * (b.chargers - existing)).sum())
    assert objective_value(after, b)["charger_cost"] == pytest.approx(charged, rel=1e-12, abs=1e-9)


def test_excluded_site_stays_closed_even_when_cheapest() -> None:
    """Q2 without its exclusion opens site 0 and costs less; with it, site 0 stays closed."""
    free_problem = to_problem(replace(Q2, excluded=None))
    free = solve(free_problem, EXACT)
    assert free.open_site[0] and free.chargers[0].sum() > 0
    # the cheaper plan is real: its design's cost, recomputed by the brute-force LP
    lp = assignment_lp(Q2)
    capacity = np.array(
        [
            [queue_capacity(Q2.levels[t], int(free.chargers[j, t])) for t in range(2)]
            for j in range(3)
        ]
    )
    value = objective_value(free_problem, free)["capex"] + lp.solve(
        free.open_site, capacity, "cost"
    )
    assert value == pytest.approx(free.objective, rel=1e-6)
    assert value < brute_min_cost("Q2")[0] - 1.0
    solution = solve(to_problem(Q2), EXACT)
    assert not solution.open_site[0] and solution.chargers[0].sum() == 0
    assert site_load(to_problem(Q2), solution)[0].sum() == 0.0


def test_required_site_opens_even_when_not_worth_it() -> None:
    """Q2 with site 2 costing 300 to open: left closed unless required."""
    problem = to_problem(replace(Q2, required=None, fixed=_a([5.0, 78.5, 300.0])))
    free = solve(problem, EXACT)
    assert not free.open_site[2]
    required = replace(problem, required=np.array([False, False, True]))
    forced = solve(required, EXACT)
    assert_feasible(required, forced)
    assert forced.open_site[2]
    assert forced.objective > free.objective


site_roles = st.lists(st.sampled_from(["free", "required", "excluded"]), min_size=3, max_size=3)


@FEW
@given(roles=site_roles)
def test_required_open_and_excluded_closed(roles) -> None:
    roles = np.array(roles)
    problem = to_problem(replace(Q2, required=roles == "required", excluded=roles == "excluded"))
    solution = solve(problem, EXACT)
    assert_feasible(problem, solution)
    assert solution.open_site[roles == "required"].all()
    assert not solution.open_site[roles == "excluded"].any()
    assert solution.chargers[roles == "excluded"].sum() == 0
    assert not solution.grid_upgrade[roles == "excluded"].any()
    assert site_load(problem, solution)[roles == "excluded"].sum() == 0.0


def plan_of(problem: FacilityProblem, solution: Solution) -> chargeplan.Plan:
    """``make_plan`` on point zones and sites (geometry plays no part in queue figures)."""
    zones = gpd.GeoDataFrame(
        {"zone_id": problem.zone_ids},
        geometry=[Point(-73.98 + 0.01 * i, 40.75) for i in range(len(problem.zone_ids))],
        crs="EPSG:4326",
    )
    sites = gpd.GeoDataFrame(
        {"site_id": problem.site_ids},
        geometry=[Point(-73.98 + 0.01 * j, 40.76) for j in range(len(problem.site_ids))],
        crs="EPSG:4326",
    )
    return make_plan(problem, solution, zones, sites)


def assert_queueing_rule(problem: FacilityProblem, solution: Solution, p_wait: float) -> None:
    """Every open site meets the service level queue by queue, with no charger to spare.

    A site's ``n`` type-k chargers are ``n // S`` full queues and one of ``n % S``; arrivals
    split over them in proportion to each queue's capacity (as ``queue_metrics`` reports).
    """
    level = ServiceLevel(max_wait_probability=p_wait)
    load = site_load(problem, solution)
    sites = plan_of(problem, solution).sites
    for k, name in enumerate(problem.types):
        levels = problem.queue_levels[k]
        size = len(levels) - 1
        hours, kwh = float(problem.session_hours[k]), float(problem.session_kwh[k])
        slack = KWH_TOL / kwh  # arrivals per hour
        reported = sites[f"p_wait_{name}"].to_numpy()
        for j in np.flatnonzero(solution.open_site):
            n = int(solution.chargers[j, k])
            arrivals = load[j, k] / kwh
            assert reported[j] <= p_wait + 1e-9, (name, j, reported[j])
            queues = [(size, n // size), (n % size, 1)]
            queues = [(c, count) for c, count in queues if c > 0 and count > 0]
            total = sum(count * levels[c] for c, count in queues)
            for c, _ in queues:
                rate = arrivals * levels[c] / total if total > 0 else 0.0
                # chargers_needed at the queue's arrivals (less the solver's tolerance)
                assert chargers_needed(max(rate - slack, 0.0), hours, level) <= c
                if rate > 0:
                    assert erlang_c(c, rate * hours) <= p_wait + 1e-9
            # pooling the site's queues could only need fewer chargers
            assert chargers_needed(max(arrivals - slack, 0.0), hours, level) <= n
            # and no more are built than the load, the kept and the minimum chargers need
            floor = max(
                fewest_chargers(levels, load[j, k], n),
                int(problem.existing_chargers[j, k]),
                int(problem.min_chargers[j, k]),
            )
            assert n == floor, (name, j, n, floor, load[j, k])


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_queueing_rule_on_the_brute_force_instances(name: str) -> None:
    problem = to_problem(INSTANCES[name])
    assert_queueing_rule(problem, solve(problem, EXACT), P_WAIT)


@FEW
@given(demand=demands, p_wait=st.sampled_from([0.1, 0.2, 0.5]))
def test_queueing_rule_meets_the_service_level(demand, p_wait) -> None:
    q = fixed_assignment(demand, p_wait)
    # let zones 1 and 2 also reach site 0 (at a higher access cost): the split is the solver's
    cost = q.cost.copy()
    cost[1:, 0, :] = q.demand[1:] * 0.9
    problem = to_problem(replace(q, cost=cost))
    assert_queueing_rule(problem, solve(problem, EXACT), p_wait)


# --------------------------------------------------------------------------------------------
# 3. infeasible inputs, refused before the solve with the site named
# --------------------------------------------------------------------------------------------

INFEASIBLE = {
    # site 2 required with 3 DC + 3 AC (180 kW) but 120 kW + a 50 kW upgrade
    "grid": (
        replace(
            Q2,
            required=np.array([False, True, True]),
            min_chargers=np.array([[0, 0], [1, 0], [3, 3]]),
            upgrade_kw=_a([0.0, 0.0, 50.0]),
        ),
        {},
        ("s2", "180 kW", "170 kW"),
    ),
    # 8 chargers kept at site 0 where at most 7 fit
    "existing_above_max": (replace(Q1, existing=np.array([[8], [0], [0]])), {}, ("s0", "max_")),
    # site 0 both excluded and required
    "required_and_excluded": (replace(Q2, required=np.array([True, True, False])), {}, ("s0",)),
    # site 0 (2 kept chargers) and site 2 (required) must open, but one site at most
    "max_sites": (replace(Q1, required=np.array([False, False, True])), {"max_sites": 1}, ()),
    # site 1 required: 78.5 to open + one DC charger at 15.1 = 93.6 > 90
    "budget": (Q2, {"budget": 90.0}, ("CNY 94", "CNY 90")),
}


@pytest.mark.parametrize("case", sorted(INFEASIBLE))
def test_contradictory_limits_refused_before_the_solve(case: str) -> None:
    q, kwargs, words = INFEASIBLE[case]
    problem = to_problem(q, **kwargs)
    with pytest.raises(InputError) as error:
        check_feasibility(problem)
    message = str(error.value)
    assert "\n" not in message
    for word in words:
        assert word in message, (word, message)
    with pytest.raises(InputError):  # solve refuses it too, before HiGHS is called
        solve(problem, EXACT)


@pytest.mark.parametrize(
    ("case", "sites"),
    [
        pytest.param(
            "max_sites",
            ("s0", "s2"),
        ),
        pytest.param(
            "budget",
            ("s1",),
        ),
        ("grid", ("s2",)),
        ("existing_above_max", ("s0",)),
        ("required_and_excluded", ("s0",)),
    ],
)
def test_refusal_names_the_sites(case: str, sites: tuple[str, ...]) -> None:
    """docs/model.md: check_feasibility refuses contradictory limits 'with a message naming the
    sites'."""
    q, kwargs, _ = INFEASIBLE[case]
    with pytest.raises(InputError) as error:
        check_feasibility(to_problem(q, **kwargs))
    for site in sites:
        assert site in str(error.value), (site, str(error.value))


MUST_OPEN_OVER_BUDGET = {
    # site 0 holds 2 chargers (so must open) and costs 120 to open: budget 100
    "existing_site_fixed_cost": (replace(Q1, fixed=_a([120.0, 47.3, 39.7])), 100.0),
    # site 0 holds 2 chargers and must have at least 6 when open: 4 new x 17.2 = 68.8 > 50
    "existing_site_min_chargers": (replace(Q1, min_chargers=np.array([[6], [0], [2]])), 50.0),
    # site 2 required with 3 DC (150 kW > 120 kW): the forced upgrade costs 8.9 on top of
    # 29.0 + 3 x 28.6 = 114.8; the budget 120 covers 114.8 but not 123.7
    "forced_grid_upgrade": (
        replace(
            Q2,
            required=np.array([False, False, True]),
            min_chargers=np.array([[0, 0], [1, 0], [3, 0]]),
        ),
        120.0,
    ),
}


@pytest.mark.parametrize("case", sorted(MUST_OPEN_OVER_BUDGET))
def test_must_open_capex_above_budget_refused(case: str) -> None:
    q, budget = MUST_OPEN_OVER_BUDGET[case]
    problem = to_problem(q, budget=budget)
    # the reference: no design within the limits fits the budget
    assert BruteForce(q).feasible(budget) == []
    with pytest.raises(InputError, match=r"\bs[0-2]\b"):
        solve(problem, EXACT)


def tiny_with_site_columns(folder: Path, **columns) -> Path:
    """The tiny scenario (tests/conftest.py) with per-site columns added to its sites file."""
    path = write_tiny_scenario(folder)
    sites = gpd.read_file(folder / "sites.geojson")
    for name, values in columns.items():
        sites[name] = values
    sites.to_file(folder / "sites.geojson", driver="GeoJSON")
    return path


def test_cli_refuses_required_site_beyond_its_grid(tmp_path: Path) -> None:
    """s1 must open with 2 DC chargers (2 x 100 kW) on a 150 kW connection: exit 4, one line."""
    path = tiny_with_site_columns(
        tmp_path / "tiny",
        required=[True, False, False],
        grid_kw=[150.0, np.nan, np.nan],
        min_dc_fast=[2, 0, 0],
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "chargeplan.cli", "run", str(path), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("chargeplan: error: sites s1")
    assert "200 kW" in lines[0] and "150 kW" in lines[0]
    assert not out.exists()


def test_site_columns_reach_the_model(tmp_path: Path) -> None:
    """The same columns with a grid that holds them: s1 opens with >= 2 DC within 250 kW."""
    path = tiny_with_site_columns(
        tmp_path / "tiny",
        required=[True, False, False],
        grid_kw=[250.0, np.nan, np.nan],
        min_dc_fast=[2, 0, 0],
    )
    plan = chargeplan.plan_network(chargeplan.load_scenario(path))
    s1 = plan.sites.loc["s1"]
    assert s1["open"] and s1["chargers_dc_fast"] >= 2
    assert 100 * s1["chargers_dc_fast"] + 10 * s1["chargers_ac_destination"] <= 250
    assert plan.sites.loc["s2", "open"]  # still the best site for the rest


def test_cli_validate_refuses_required_site_beyond_its_grid(tmp_path: Path, capsys) -> None:
    path = tiny_with_site_columns(
        tmp_path / "tiny",
        required=[True, False, False],
        grid_kw=[150.0, np.nan, np.nan],
        min_dc_fast=[2, 0, 0],
    )
    assert main(["validate", str(path), "-q"]) == 4
    assert "s1" in capsys.readouterr().err


def test_numeric_required_flag_with_blanks(tmp_path: Path) -> None:
    path = tiny_with_site_columns(tmp_path / "tiny", required=[1, None, None])
    sites = chargeplan.prepare(chargeplan.load_scenario(path)).sites
    assert sites["required"].tolist() == [True, False, False]


def test_existing_chargers_column_sinks_the_fixed_cost(tmp_path: Path) -> None:
    path = tiny_with_site_columns(tmp_path / "tiny", existing_dc_fast=[3, 0, 0])
    plan = chargeplan.plan_network(chargeplan.load_scenario(path))
    s1 = plan.sites.loc["s1"]
    assert s1["open"] and s1["chargers_dc_fast"] >= 3  # kept
    assert s1["fixed_cost_cny"] == 0.0


# --------------------------------------------------------------------------------------------
# 4. existing networks: the real AFDC station list for New York State
# --------------------------------------------------------------------------------------------

#: The brand's own network in these tests ("Tesla Destination" is a different network).
OWN = ("Tesla",)


@pytest.fixture(scope="module")
def afdc() -> pd.DataFrame:
    return pd.read_csv(AFDC, low_memory=False)


def test_read_stations_counts_the_real_file(afdc: pd.DataFrame) -> None:
    stations = read_stations(AFDC, ExistingConfig(own_networks=OWN), list(TYPES))
    assert len(stations) == len(afdc) == 4736
    assert stations.crs == "EPSG:4326"
    assert stations["station_id"].tolist() == afdc["ID"].astype(str).tolist()
    np.testing.assert_allclose(stations.geometry.x, afdc["Longitude"])
    np.testing.assert_allclose(stations.geometry.y, afdc["Latitude"])
    # ports per type: AFDC's DC fast and Level 2 columns, blanks are 0
    dc = afdc["EV DC Fast Count"].fillna(0)
    ac = afdc["EV Level2 EVSE Num"].fillna(0)
    assert stations["ports_dc_fast"].sum() == dc.sum() == 2161
    assert stations["ports_ac_destination"].sum() == ac.sum() == 14626
    np.testing.assert_array_equal(stations["ports_dc_fast"], dc.astype(int))
    np.testing.assert_array_equal(stations["ports_ac_destination"], ac.astype(int))
    # own network: exact names only
    own = afdc["EV Network"] == "Tesla"
    assert int(stations["own"].sum()) == int(own.sum()) == 105
    assert not stations.loc[afdc["EV Network"].eq("Tesla Destination").to_numpy(), "own"].any()
    assert stations.loc[stations["own"], "ports_dc_fast"].sum() == dc[own].sum() == 1026
    assert stations.loc[stations["own"], "ports_ac_destination"].sum() == ac[own].sum() == 0
    assert stations.loc[~stations["own"], "ports_dc_fast"].sum() == dc[~own].sum()


# Manhattan: five square zones with explicit demand centres (lat, lon) and populations whose
# shares of the 3,000 premium users are whole numbers (1,000, 800, 600, 400, 200 users): every
# user needs 1 peak kWh (see the scenario below), half of it DC, half AC.
NY_ZONES = {
    "uws": ((40.7870, -73.9754), 5000.0),
    "midtown": ((40.7549, -73.9840), 4000.0),
    "les": ((40.7180, -73.9870), 3000.0),
    "fidi": ((40.7075, -74.0113), 2000.0),
    "harlem": ((40.8116, -73.9465), 1000.0),
}
# Candidates near two Manhattan Tesla superchargers (W 75th St, E 47th St) and one in Harlem.
NY_SITES = {
    "c-uws": (40.7830, -73.9790),
    "c-midtown": (40.7560, -73.9740),
    "c-harlem": (40.8100, -73.9480),
}
NY_SCENARIO = """
name = "new-york"
charger_catalogue = "chargers.toml"

[zones]
file = "zones.geojson"
id_column = "zone_id"
population_column = "pop"
region_column = "region"
centre_lon_column = "centre_lon"
centre_lat_column = "centre_lat"

[sites]
file = "sites.geojson"
id_column = "site_id"
fixed_cost_cny = 10000

[sites.max_chargers]
dc_fast = 50
ac_destination = 100

[users]
target_premium_users = 3000
[users.propensity]
car = 1.0

[demand]
km_per_user_day = 50
kwh_per_km = 0.2
apartment_share_column = "apartments"
home_charging_access_house = 1.0
home_charging_access_apartment = 0.0
public_share_with_home_charging = 0.0
public_share_without_home_charging = 1.0
peak_hour_share = 0.1

[demand.charger_mix]
dc_fast = 0.5
ac_destination = 0.5

[reach]
service_radius_km = 3
crs = "EPSG:32618"
detour_cost_cny_per_kwh_km = 1.0

[sizing]
rule = "queue"
max_wait_probability = 0.2

[sizing.chargers_per_queue]
dc_fast = 4
ac_destination = 4

[existing]
stations = "{stations}"
own_networks = ["Tesla"]
own_match_km = 1.0
competitor_capture_share = 0.3
competitor_radius_km = 1.0

[model]
unmet_penalty_cny_per_kwh = 5000

[solver]
time_limit_s = 60
mip_rel_gap = 0.0
"""
SHARE, RADIUS_M, MATCH_M = 0.3, 1000.0, 1000.0
UTM = "EPSG:32618"


def write_new_york(folder: Path) -> Path:
    """The Manhattan scenario above, written to ``folder``; stations: the AFDC file."""
    folder.mkdir(parents=True, exist_ok=True)
    half = 0.006  # degrees: squares of about 1 km
    zones = gpd.GeoDataFrame(
        {
            "zone_id": list(NY_ZONES),
            "pop": [pop for _, pop in NY_ZONES.values()],
            "car": 1.0,
            "apartments": 1.0,
            "region": "new-york",
            "centre_lon": [lon for (_, lon), _ in NY_ZONES.values()],
            "centre_lat": [lat for (lat, _), _ in NY_ZONES.values()],
        },
        geometry=[
            box(lon - half, lat - half, lon + half, lat + half)
            for (lat, lon), _ in NY_ZONES.values()
        ],
        crs="EPSG:4326",
    )
    sites = gpd.GeoDataFrame(
        {"site_id": list(NY_SITES), "name": list(NY_SITES)},
        geometry=[Point(lon, lat) for lat, lon in NY_SITES.values()],
        crs="EPSG:4326",
    )
    zones.to_file(folder / "zones.geojson", driver="GeoJSON")
    sites.to_file(folder / "sites.geojson", driver="GeoJSON")
    (folder / "chargers.toml").write_text(textwrap.dedent(CATALOGUE))
    path = folder / "new-york.toml"
    path.write_text(textwrap.dedent(NY_SCENARIO).replace("{stations}", AFDC.as_posix()))
    return path


@pytest.fixture(scope="module")
def new_york(tmp_path_factory) -> tuple[chargeplan.Scenario, chargeplan.Plan]:
    scenario = chargeplan.load_scenario(write_new_york(tmp_path_factory.mktemp("ny")))
    return scenario, chargeplan.plan_network(scenario)


def expected_own_sites(afdc: pd.DataFrame) -> tuple[dict[str, int], dict[str, int]]:
    """(DC ports joining each candidate, DC ports of each new 'own-<ID>' site), by geopandas."""
    own = afdc[afdc["EV Network"].isin(OWN)]
    points = gpd.GeoDataFrame(
        own, geometry=gpd.points_from_xy(own["Longitude"], own["Latitude"]), crs="EPSG:4326"
    ).to_crs(UTM)
    candidates = gpd.GeoDataFrame(
        {"site_id": list(NY_SITES)},
        geometry=[Point(lon, lat) for lat, lon in NY_SITES.values()],
        crs="EPSG:4326",
    ).to_crs(UTM)
    nearest = gpd.sjoin_nearest(points, candidates, how="left", distance_col="metres")
    ports = nearest["EV DC Fast Count"].fillna(0).astype(int)
    joined = nearest["metres"] <= MATCH_M
    at_candidates = ports[joined].groupby(nearest.loc[joined, "site_id"]).sum().to_dict()
    new_sites = dict(
        zip("own-" + nearest.loc[~joined, "ID"].astype(str), ports[~joined], strict=True)
    )
    return at_candidates, new_sites


def test_own_stations_become_existing_chargers(new_york, afdc: pd.DataFrame) -> None:
    _, plan = new_york
    sites = plan.sites
    at_candidates, new_sites = expected_own_sites(afdc)
    # W 75th St (4 DC) joins c-uws, E 47th St (4 DC) c-midtown; the other 103 are new sites
    assert at_candidates == {"c-midtown": 4, "c-uws": 4}
    assert len(new_sites) == 103 and "own-149300" in new_sites  # Atlantic Center, Brooklyn
    assert set(sites.index) == set(NY_SITES) | set(new_sites)
    expected = pd.Series({**dict.fromkeys(NY_SITES, 0), **at_candidates, **new_sites})
    holding = sites["existing_chargers_dc_fast"] > 0
    np.testing.assert_array_equal(
        sites["existing_chargers_dc_fast"], expected.reindex(sites.index).to_numpy()
    )
    assert (sites["existing_chargers_ac_destination"] == 0).all()
    # kept: open, at least what they hold, no capex for what they hold, fixed cost sunk
    assert sites.loc[holding, "open"].all()
    kept = sites.loc[holding]
    assert (kept["chargers_dc_fast"] >= kept["existing_chargers_dc_fast"]).all()
    np.testing.assert_array_equal(
        kept["new_chargers_dc_fast"],
        kept["chargers_dc_fast"] - kept["existing_chargers_dc_fast"],
    )
    new_capex = 1000 * sites["new_chargers_dc_fast"] + 100 * sites["new_chargers_ac_destination"]
    np.testing.assert_allclose(sites["charger_cost_cny"], new_capex)
    assert (kept["fixed_cost_cny"] == 0).all()
    assert (sites.loc[sites["open"] & ~holding, "fixed_cost_cny"] == 10_000).all()
    # own sites far from every zone keep exactly what they have
    idle = kept["served_kwh"] == 0
    assert idle.sum() > 90
    assert (kept.loc[idle, "new_chargers_dc_fast"] == 0).all()
    # the summary counts every kept charger: all of Tesla's DC ports in the state
    tesla = afdc["EV Network"].isin(OWN)
    ports = afdc.loc[tesla, ["EV DC Fast Count", "EV Level2 EVSE Num"]].fillna(0).to_numpy()
    assert plan.summary["existing_chargers_kept"] == int(ports.sum()) == 1026
    assert plan.summary["new_chargers"] == int(sites["new_chargers_dc_fast"].sum()) + int(
        sites["new_chargers_ac_destination"].sum()
    )
    assert plan.summary["chargers"] == 1026 + plan.summary["new_chargers"]


def test_competitors_capture_their_share_of_nearby_demand(new_york, afdc: pd.DataFrame) -> None:
    _, plan = new_york
    zones = plan.zones
    users = pd.Series({"uws": 1000, "midtown": 800, "les": 600, "fidi": 400, "harlem": 200})
    assert zones["premium_users"].to_dict() == users.to_dict()
    before = users * 1.0 * 0.5  # peak kWh per type before capture: 1 kWh per user, half each
    centres = gpd.GeoSeries(
        [Point(lon, lat) for (lat, lon), _ in NY_ZONES.values()],
        index=list(NY_ZONES),
        crs="EPSG:4326",
    ).to_crs(UTM)
    rivals = afdc[~afdc["EV Network"].isin(OWN)]
    rival_points = gpd.GeoSeries(
        gpd.points_from_xy(rivals["Longitude"], rivals["Latitude"]), crs="EPSG:4326"
    ).to_crs(UTM)
    columns = {"dc_fast": "EV DC Fast Count", "ac_destination": "EV Level2 EVSE Num"}
    near = {}
    for name, column in columns.items():
        has_ports = rivals[column].fillna(0).to_numpy() > 0
        points = rival_points[has_ports]
        near[name] = pd.Series(
            {z: bool((points.distance(c) <= RADIUS_M).any()) for z, c in centres.items()}
        )
        expected = before * (1 - SHARE * near[name])
        np.testing.assert_allclose(zones[f"peak_kwh_{name}"], expected[zones.index], rtol=1e-12)
        np.testing.assert_allclose(
            zones[f"captured_kwh_{name}"], (SHARE * before * near[name])[zones.index], rtol=1e-12
        )
    # a DC competitor within 1 km of midtown and the Lower East Side only; AC ones everywhere
    assert near["dc_fast"][near["dc_fast"]].index.tolist() == ["midtown", "les"]
    assert near["ac_destination"].all()
    np.testing.assert_allclose(
        zones["demand_kwh"],
        (zones["peak_kwh_dc_fast"] + zones["peak_kwh_ac_destination"]).to_numpy(),
    )
    expected_total = sum(float((before * (1 - SHARE * near[t])).sum()) for t in columns)
    assert plan.summary["demand_kwh"] == pytest.approx(expected_total, rel=1e-12)


def test_own_sites_take_the_scenario_charger_limits(new_york) -> None:
    _, plan = new_york
    own = plan.sites[plan.sites.index.str.startswith("own-")]
    np.testing.assert_array_equal(
        own["max_dc_fast"], np.maximum(50, own["existing_chargers_dc_fast"])
    )
    assert (own["max_ac_destination"] == 100).all()


def test_chargers_added_by_queueing_leaves_out_kept_chargers(new_york) -> None:
    _, plan = new_york
    summary = plan.summary
    assert summary["chargers_added_by_queueing"] <= summary["new_chargers"]
