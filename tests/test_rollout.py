"""The multi-year rollout model (:mod:`chargeplan.solver.rollout`) checked four ways.

1. Against single-year plans. With no discounting, no opex and no budget, the rollout's final
   network is a feasible single-year plan. So the single-year optimum for the final target is
   at most that network's capex plus its final-year unmet penalty (plus its final-year access
   cost when access costs are nonzero). When every year has the same target and the single-year
   optimum serves all demand at zero access cost, the rollout builds that network in year one.
   Zero access cost is needed for "at the same capex": with access costs, a larger network
   that saves access cost in each of the T years can beat the single-year optimum.
2. Against brute force on a tiny two-year instance. Every monotone schedule is enumerated:
   the year each site opens (year 1, year 2 or never, so a site can open with no chargers to
   use this year's budget) and the charger counts per year, with
   ``E <= n_1 <= n_2 <= M``. Each year's assignment LP is solved with
   :func:`scipy.optimize.linprog` (``AssignmentLP`` of ``tests/bruteforce.py``, which never
   touches chargeplan's model code). Costs are discounted as
   ``(1 + rate) ** -(year - first_year)`` and include opex, with annual budgets in some cases.
3. Monotonicity: open sites and chargers never decrease from one year to the next.
4. End to end: a scenario that ``extends`` the tiny scenario with a ``[rollout]`` section,
   through :func:`chargeplan.plan_network` and through ``chargeplan run``.

Every solve here first checks the column values HiGHS returned, before they are decoded
(``tests/solver_values.py``: shares in [0, 1], column bounds, integrality, every row of the
model); the decoded plans are then checked against the formulation by hand
(:func:`assert_year_feasible`, :func:`assert_monotone`). Section 5 shows that each of these
checks refuses a deliberately broken plan.

Tests marked ``xfail(strict=True, reason="BUG: ...")`` show bugs found in the rollout code.
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import re
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import chargeplan
from chargeplan.cli import main
from chargeplan.config.scenario import load_scenario
from chargeplan.errors import InputError
from chargeplan.model.formulation import decode
from chargeplan.model.index import model_index
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.rollout import RolloutProblem, build_rollout
from chargeplan.model.solution import Solution, objective_value
from chargeplan.solver import rollout_lp
from chargeplan.solver.highs import solve
from chargeplan.solver.interface import SparseHighs
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.rollout import solve_rollout, start_vector, year_by_year
from chargeplan.solver.rollout_lp import least_chargers, lp_guided_plan

from .bruteforce import UNIQUE_MARGIN, AssignmentLP
from .conftest import write_tiny_scenario
from .instances import INSTANCE_A, INSTANCE_C, Instance, to_problem
from .solver_values import assert_array_values_feasible, assert_values_feasible, check_every_solve

EXACT = SolverOptions(mip_rel_gap=0, time_limit_s=60)
#: Absolute tolerance on shares and demand units (solver feasibility tolerance is ~1e-7).
TOL = 1e-6
N = np.nan
YEARS3 = (2026, 2027, 2028)
#: Demand of each year as a share of the final year's.
GROWTH = (0.4, 0.7, 1.0)

# Queue-aware sizing for the same instances: the demand one queue of c = 0..S chargers serves.
# Convex (queues have economies of scale), as chargeplan.model.queueing.capacity_levels makes them.
QUEUE_A = (np.array([0.0, 20.1, 45.3, 72.6]), np.array([0.0, 15.2, 36.8]))
QUEUE_C = (np.array([0.0, 18.3, 40.2, 65.9]),)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def highs_values(monkeypatch: pytest.MonkeyPatch) -> list[np.ndarray]:
    """Every solve checks HiGHS's raw values before decoding (``tests/solver_values.py``);
    the values read so far in the test, in order."""
    return check_every_solve(monkeypatch)


def sized(inst: Instance, sizing: str, levels: tuple[np.ndarray, ...]) -> FacilityProblem:
    """The instance with linear sizing, or with queue levels and no linear charger capacity."""
    if sizing == "linear":
        return to_problem(inst)
    return to_problem(inst, charger_capacity=None, queue_levels=levels)


def without_access_costs(problem: FacilityProblem) -> FacilityProblem:
    return replace(problem, pair_cost=np.zeros_like(problem.pair_cost))


def with_year(
    problem: FacilityProblem, demand: np.ndarray, budget: float | None
) -> FacilityProblem:
    """The single-year problem with another year's demand and budget (pair costs rescaled)."""
    old = problem.demand[problem.pair_zone]
    ratio = np.divide(demand[problem.pair_zone], old, out=np.zeros_like(old), where=old > 0)
    return replace(problem, demand=demand, pair_cost=problem.pair_cost * ratio, budget=budget)


def growing(base: FacilityProblem, factors=GROWTH) -> tuple[FacilityProblem, ...]:
    return tuple(with_year(base, base.demand * f, None) for f in factors)


def charger_capacity(problem: FacilityProblem, chargers: np.ndarray) -> np.ndarray:
    """``(S, K)`` demand the chargers serve: ``q_k n`` or full queues plus one partial queue."""
    if problem.queue_levels is None:
        return chargers * problem.charger_capacity
    out = np.zeros(chargers.shape)
    for k, levels in enumerate(problem.queue_levels):
        size = len(levels) - 1
        out[:, k] = (chargers[:, k] // size) * levels[-1] + levels[chargers[:, k] % size]
    return out


def site_load(problem: FacilityProblem, solution: Solution) -> np.ndarray:
    """``(S, K)`` demand each site serves of each type."""
    load = np.zeros((len(problem.site_ids), len(problem.types)))
    np.add.at(load, problem.pair_site, solution.served * problem.demand[problem.pair_zone])
    return load


def assert_year_feasible(problem: FacilityProblem, solution: Solution) -> None:
    """One year's decided plan satisfies the single-year rows, checked by hand from the arrays.

    Checked: the assignment rows, open sites (required ones, and no service from closed ones),
    charger capacity by the problem's sizing rule, charger limits and existing chargers, and
    finite site capacities. Not here: the budget (checked by hand in the tests that have one),
    stall and grid limits and minimum chargers (no instance of this module has them;
    ``test_sizing`` checks them), and the shares' bounds ``0 <= x, u <= 1``: decode clips the
    shares into [0, 1], so on a decoded plan they hold whatever HiGHS returned. They are
    checked on HiGHS's raw values instead (the autouse fixture ``highs_values``).
    """
    d = problem.demand
    share = np.zeros_like(d)
    np.add.at(share, problem.pair_zone, solution.served)
    np.testing.assert_allclose(
        (share + solution.unmet)[d > 0], 1.0, atol=TOL, err_msg="served + unmet shares != 1"
    )
    load = site_load(problem, solution)
    open_site, chargers = solution.open_site, solution.chargers
    assert np.all(open_site[problem.must_open]), "a required site (or one with chargers) is closed"
    assert np.all(load[~open_site] <= TOL), "a closed site serves demand"
    capacity = charger_capacity(problem, chargers)
    assert np.all(load <= capacity + TOL), f"load above charger capacity: {load} > {capacity}"
    assert np.all(chargers <= problem.max_chargers * open_site[:, None]), (
        "more chargers than a site's limit (zero at a closed site)"
    )
    assert np.all(chargers >= problem.existing_chargers), "existing chargers removed"
    finite = np.isfinite(problem.site_capacity)
    assert np.all(load.sum(axis=1)[finite] <= problem.site_capacity[finite] + TOL), (
        "load above a site's capacity"
    )


def assert_monotone(solutions) -> None:
    """A site once opened stays open; chargers are only added.

    (Grid upgrades must be kept too, but no instance of this module has an upgradeable site,
    so a check on them could not fail here; the raw-value check reads the rollout's
    ``keep_g`` rows wherever they exist.)
    """
    for before, after in itertools.pairwise(solutions):
        assert np.all(after.open_site >= before.open_site), (
            f"a site closed: {before.open_site} -> {after.open_site}"
        )
        assert np.all(after.chargers >= before.chargers), (
            f"chargers removed: {before.chargers} -> {after.chargers}"
        )


def yearly_capex(periods, solutions) -> list[float]:
    """Capex of each year from the decisions: newly opened sites and added chargers.

    As in the model, ``y_0 = 0`` and ``n_0 = E``: a site with existing chargers pays its fixed
    cost in the first year (the single-year model does the same).
    """
    out = []
    was_open = np.zeros(len(periods[0].site_ids), bool)
    had = periods[0].existing_chargers
    for p, s in zip(periods, solutions, strict=True):
        out.append(
            float(p.fixed_cost @ (s.open_site & ~was_open))
            + float((p.charger_cost * (s.chargers - had)).sum())
        )
        was_open, had = s.open_site, s.chargers
    return out


def discounted_cost(problem: RolloutProblem, solutions) -> float:
    """The rollout objective recomputed from the decisions."""
    years = np.asarray(problem.years, float)
    delta = (1.0 + problem.discount_rate) ** -(years - years[0])
    total = 0.0
    capex = yearly_capex(problem.periods, solutions)
    for t, (p, s) in enumerate(zip(problem.periods, solutions, strict=True)):
        parts = objective_value(p, s)
        opex = float(problem.site_opex @ s.open_site) + float(
            (s.chargers @ problem.charger_opex).sum()
        )
        total += delta[t] * (capex[t] + opex + parts["access_cost"] + parts["unmet_penalty"])
    return total


def fixed_network(problem: FacilityProblem, open_site, chargers) -> FacilityProblem:
    """The single-year problem with the sites and charger counts fixed to a given network."""
    n = np.asarray(chargers, float)
    return replace(
        problem,
        required=np.asarray(open_site, bool).copy(),
        excluded=~np.asarray(open_site, bool),
        min_chargers=n,
        max_chargers=n,
    )


# --------------------------------------------------------------------------------------------
# 1. bounds against single-year plans
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("access", ["zero_access", "with_access"])
@pytest.mark.parametrize("sizing", ["linear", "queue"])
def test_single_year_optimum_is_bounded_by_the_final_network(sizing: str, access: str) -> None:
    """No discounting, opex or budget; 5 zones x 3 sites x 2 types, demand growing 3 years."""
    base = sized(INSTANCE_A, sizing, QUEUE_A)
    if access == "zero_access":
        base = without_access_costs(base)
    periods = growing(base)
    result = solve_rollout(RolloutProblem(YEARS3, periods), EXACT)
    assert result.status == "optimal"
    assert_monotone(result.solutions)
    final_p, final = periods[-1], result.solutions[-1]

    # the final network is a feasible single-year plan (capacity rows checked by hand) ...
    assert_year_feasible(final_p, final)
    parts = objective_value(final_p, final)
    if access == "zero_access":  # pair costs are all zero, so is the access cost
        bound = parts["capex"] + parts["unmet_penalty"]  # the wording
    else:
        assert parts["access_cost"] > 0.0
        bound = parts["capex"] + parts["unmet_penalty"] + parts["access_cost"]
    # ... and the single-year model with y and n fixed to it accepts it at exactly that cost
    refit = solve(fixed_network(final_p, final.open_site, final.chargers), EXACT)
    assert refit.objective == pytest.approx(bound, rel=1e-6)

    single = solve(final_p, EXACT)
    assert single.status == "optimal"
    assert single.objective <= bound + 1e-6 * abs(bound)

    # the objective is the final network's capex plus every year's access and penalty
    running = sum(
        objective_value(p, s)["access_cost"] + objective_value(p, s)["unmet_penalty"]
        for p, s in zip(periods, result.solutions, strict=True)
    )
    assert result.objective == pytest.approx(parts["capex"] + running, rel=1e-6)
    assert result.objective == pytest.approx(
        discounted_cost(RolloutProblem(YEARS3, periods), result.solutions), rel=1e-6
    )
    # and no worse than building the single-year optimum in year one
    single_capex = objective_value(final_p, single)["capex"]
    build_first = single_capex + sum(
        solve(fixed_network(p, single.open_site, single.chargers), EXACT).objective - single_capex
        for p in periods
    )
    assert result.objective <= build_first + 1e-6 * abs(build_first)
    # the bound is not vacuous: demand stays unmet in the final year
    assert parts["unmet_penalty"] > 0.0


@pytest.mark.parametrize("sizing", ["linear", "queue"])
def test_same_target_every_year_builds_everything_in_year_one(sizing: str) -> None:
    """Zero access costs (see the module docstring); 5 zones x 4 sites x 1 type."""
    base = without_access_costs(sized(INSTANCE_C, sizing, QUEUE_C))
    single = solve(base, EXACT)
    single_parts = objective_value(base, single)
    assert single_parts["unmet_demand"] == pytest.approx(0.0, abs=TOL)  # premise: serves all

    problem = RolloutProblem(YEARS3, (base, base, base))
    result = solve_rollout(problem, EXACT)
    assert result.status == "optimal"
    assert_monotone(result.solutions)
    first, final = result.solutions[0], result.solutions[-1]
    np.testing.assert_array_equal(first.chargers, final.chargers)
    np.testing.assert_array_equal(first.open_site, final.open_site)
    capex = yearly_capex(problem.periods, result.solutions)
    assert sum(capex) == pytest.approx(single_parts["capex"], rel=1e-6)
    assert capex[0] == pytest.approx(single_parts["capex"], rel=1e-6)
    assert capex[1:] == [0.0, 0.0]
    for p, s in zip(problem.periods, result.solutions, strict=True):
        assert_year_feasible(p, s)
        assert objective_value(p, s)["unmet_demand"] == pytest.approx(0.0, abs=TOL)
    assert result.objective == pytest.approx(single.objective, rel=1e-6)


@pytest.mark.parametrize("sizing", ["linear", "queue"])
def test_one_year_rollout_is_the_single_year_model(sizing: str) -> None:
    base = sized(INSTANCE_A, sizing, QUEUE_A)
    result = solve_rollout(RolloutProblem((2030,), (base,), discount_rate=0.1), EXACT)
    single = solve(base, EXACT)
    assert result.objective == pytest.approx(single.objective, rel=1e-6)
    assert objective_value(base, result.solutions[0])["total_cost"] == pytest.approx(
        single.objective, rel=1e-6
    )


# --------------------------------------------------------------------------------------------
# 2. brute force on a tiny two-year instance
# --------------------------------------------------------------------------------------------

# Three zones, two sites, two charger types. Zone 0 cannot reach site 1; zone 2 has no type-1
# demand in the first year (a new area). Pair cost = distance-like unit cost x demand.
BF_DEMAND = (
    np.array([[14.9, 8.8], [12.1, 7.4], [12.7, 0.0]]),
    np.array([[26.1, 20.3], [21.1, 21.2], [39.6, 29.0]]),
)
BF_UNIT = np.array([[0.11, N], [1.26, 1.2], [0.17, 0.39]])
BF_FIXED = np.array([72.5, 51.6])
BF_PRICE = np.array([[15.5, 9.5], [10.2, 14.0]])
BF_Q = np.array([31.4, 28.1])
BF_PENALTY = np.array([3.21, 4.73])
BF_MAX = np.array([[2, 2], [2, 1]])
BF_RATE = 0.1
BF_SITE_OPEX = np.array([5.0, 6.0])
BF_CHARGER_OPEX = np.array([1.5, 0.8])
NO_EXISTING = ((0, 0), (0, 0))

BF_INSTANCES = tuple(
    Instance(
        demand=d,
        cost=BF_UNIT[:, :, None] * d[:, None, :],
        fixed=BF_FIXED,
        capacity=np.full(2, np.inf),
        penalty=BF_PENALTY,
        q=BF_Q,
        charger_cost=BF_PRICE,
        max_chargers=BF_MAX,
    )
    for d in BF_DEMAND
)

# (name, years, annual budgets, existing chargers)
BF_CASES = {
    # discounting over a two-year gap, opex on sites and chargers, no budget
    "discounted_opex": ((2026, 2028), (None, None), NO_EXISTING),
    # year one affords site 1 alone, without chargers: it opens empty to free year two's budget
    "annual_budget": ((2026, 2027), (60.05, 150.05), NO_EXISTING),
    # an existing charger at site 1 (kept, no capex, site open from year one); with its price
    # wrongly counted as capex, year one's plan (65.6) would break the 70.05 budget
    "existing_chargers": ((2026, 2027), (70.05, 60.05), ((0, 0), (1, 0))),
}


@functools.cache
def _assignment_lps() -> tuple[AssignmentLP, ...]:
    return tuple(AssignmentLP(inst) for inst in BF_INSTANCES)


@functools.cache
def _year_value(t: int, open_site: tuple[int, ...], chargers: tuple[int, ...]) -> float:
    """Access cost + unmet penalty of year t's best assignment for a fixed network."""
    value = _assignment_lps()[t].solve(
        np.array(open_site, bool), np.array(chargers).reshape(BF_MAX.shape), "cost"
    )
    assert value is not None
    return value


def _site_schedules(max_row: np.ndarray, existing_row: np.ndarray):
    """(y_1, y_2, n_1, n_2) of one site: open in year 1, year 2 or never; E <= n_1 <= n_2 <= M."""
    k = len(max_row)
    if not existing_row.any():
        yield 0, 0, (0,) * k, (0,) * k
        for n2 in itertools.product(*(range(m + 1) for m in max_row)):
            yield 0, 1, (0,) * k, n2
    steps = [
        [(a, b) for a in range(e, m + 1) for b in range(a, m + 1)]
        for m, e in zip(max_row, existing_row, strict=True)
    ]
    for pairs in itertools.product(*steps):
        yield 1, 1, tuple(a for a, _ in pairs), tuple(b for _, b in pairs)


@functools.cache
def brute_rollout(years, budgets, existing) -> list[tuple[float, np.ndarray, np.ndarray, list]]:
    """Every feasible monotone schedule as (discounted cost, y (T, S), n (T, S, K), capex),
    cheapest first."""
    existing = np.array(existing)
    delta = (1.0 + BF_RATE) ** -(np.array(years, float) - years[0])
    per_site = [list(_site_schedules(BF_MAX[j], existing[j])) for j in range(len(BF_FIXED))]
    out = []
    for combo in itertools.product(*per_site):
        y = np.array([[c[0] for c in combo], [c[1] for c in combo]])
        n = np.array([[c[2] for c in combo], [c[3] for c in combo]])
        was_open, had = np.zeros(len(BF_FIXED)), existing
        total, capexes = 0.0, []
        for t in range(2):
            capex = float(BF_FIXED @ (y[t] - was_open) + (BF_PRICE * (n[t] - had)).sum())
            capexes.append(capex)
            if budgets[t] is not None and capex > budgets[t]:
                break
            opex = float(BF_SITE_OPEX @ y[t] + (n[t] @ BF_CHARGER_OPEX).sum())
            running = _year_value(t, tuple(y[t]), tuple(n[t].ravel()))
            total += delta[t] * (capex + opex + running)
            was_open, had = y[t], n[t]
        else:
            out.append((total, y.astype(bool), n, capexes))
    return sorted(out, key=lambda row: row[0])


def bf_problem(years, budgets, existing) -> RolloutProblem:
    periods = tuple(
        to_problem(inst, budget=b, existing_chargers=np.array(existing, float))
        for inst, b in zip(BF_INSTANCES, budgets, strict=True)
    )
    return RolloutProblem(
        years=years,
        periods=periods,
        discount_rate=BF_RATE,
        site_opex=BF_SITE_OPEX,
        charger_opex=BF_CHARGER_OPEX,
    )


@pytest.mark.parametrize("case", sorted(BF_CASES))
def test_two_year_rollout_matches_brute_force(case: str) -> None:
    years, budgets, existing = BF_CASES[case]
    schedules = brute_rollout(years, budgets, existing)
    (value, y, n, _), runner_up = schedules[0], schedules[1]
    margin = (runner_up[0] - value) / max(abs(value), 1.0)
    assert margin > UNIQUE_MARGIN, f"optimum not unique: runner-up within {margin:.2e}"

    problem = bf_problem(years, budgets, existing)
    result = solve_rollout(problem, EXACT)
    assert result.status == "optimal"
    # a feasible rollout on its own terms (before comparing it with the enumerated optimum,
    # whose schedules satisfy all of this by construction) ...
    for p, s in zip(problem.periods, result.solutions, strict=True):
        assert_year_feasible(p, s)
    assert_monotone(result.solutions)
    for spent, budget in zip(yearly_capex(problem.periods, result.solutions), budgets, strict=True):
        assert budget is None or spent <= budget, f"capex {spent} above the budget {budget}"
    assert result.objective == pytest.approx(discounted_cost(problem, result.solutions), rel=1e-6)
    # ... and the enumerated optimum
    assert result.objective == pytest.approx(value, rel=1e-6)
    for t, s in enumerate(result.solutions):
        np.testing.assert_array_equal(s.open_site, y[t], err_msg=f"open sites, year {t + 1}")
        np.testing.assert_array_equal(s.chargers, n[t], err_msg=f"chargers, year {t + 1}")


def test_brute_force_cases_exercise_the_interesting_cases() -> None:
    """Guard against the data drifting into trivial optima."""
    for case, (years, budgets, existing) in BF_CASES.items():
        schedules = brute_rollout(years, budgets, existing)
        _, y, n, _ = schedules[0]
        assert (n[1] > n[0]).any(), case  # something is added in year two
        if any(b is not None for b in budgets):
            # no schedule's capex sits within rounding distance of a budget ...
            for _, _, _, capex in brute_rollout(years, (None, None), existing):
                for spent, budget in zip(capex, budgets, strict=True):
                    assert budget is None or abs(spent - budget) > 1e-3, case
            # ... and the budgets bind
            free = brute_rollout(years, (None, None), existing)[0][0]
            assert schedules[0][0] > free * (1 + UNIQUE_MARGIN), case
    _, y, n, _ = brute_rollout(*BF_CASES["annual_budget"])[0]
    assert y[0, 1] and n[0, 1].sum() == 0  # a site opened in year one without chargers
    _, y, n, _ = brute_rollout(*BF_CASES["discounted_opex"])[0]
    assert n[0].sum() > 0 and y[1].sum() > y[0].sum()  # builds now and opens a site later


# --------------------------------------------------------------------------------------------
# 3. monotonicity when it costs: demand falls back in the last year, opex is high
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sizing", ["linear", "queue"])
def test_network_never_shrinks_when_demand_falls(sizing: str) -> None:
    base = sized(INSTANCE_A, sizing, QUEUE_A)
    problem = RolloutProblem(
        YEARS3,
        growing(base, (0.5, 1.0, 0.1)),
        discount_rate=0.05,
        site_opex=np.full(3, 40.0),
        charger_opex=np.array([12.0, 12.0]),
    )
    result = solve_rollout(problem, EXACT)
    assert result.status == "optimal"
    assert_monotone(result.solutions)
    # the link binds: in the last year some charger is idle (one fewer would carry its site's
    # load), so a model free to shrink would save its opex
    final_p, final = problem.periods[-1], result.solutions[-1]
    load = np.zeros(final.chargers.shape)
    np.add.at(load, final_p.pair_site, final.served * final_p.demand[final_p.pair_zone])
    fewer = charger_capacity(final_p, np.maximum(final.chargers - 1, 0))
    assert np.any((final.chargers > 0) & (load <= fewer + TOL))
    assert result.objective == pytest.approx(discounted_cost(problem, result.solutions), rel=1e-6)


# --------------------------------------------------------------------------------------------
# 3b. the year-by-year starting plan
# --------------------------------------------------------------------------------------------


def _start_cases() -> dict[str, RolloutProblem]:
    cases = {
        f"{sizing}, growing": RolloutProblem(YEARS3, growing(sized(INSTANCE_A, sizing, QUEUE_A)))
        for sizing in ("linear", "queue")
    }
    for case, (years, budgets, existing) in BF_CASES.items():
        cases[f"brute force {case}"] = bf_problem(years, budgets, existing)
    return cases


@pytest.mark.parametrize("case", sorted(_start_cases()))
def test_year_by_year_start_is_a_feasible_rollout_and_never_beats_the_optimum(case: str) -> None:
    """The schedule handed to HiGHS as its start satisfies every row, bound and integrality of
    the rollout model; the rollout optimum is at most its cost (and equal with no start)."""
    problem = _start_cases()[case]
    plans = year_by_year(problem, EXACT)
    assert plans is not None
    assert_monotone(plans)
    lp, index = build_rollout(problem)
    start = start_vector(problem, index, lp.n_cols, plans)
    model, columns = lp.to_pyomo()
    assert_values_feasible(columns, start)
    start_cost = float(lp.objective @ start) + lp.objective_offset
    assert start_cost == pytest.approx(discounted_cost(problem, plans), rel=1e-6)
    # HiGHS receives the start and accepts it (its log says so)
    for var, value in zip(columns, start, strict=True):
        var.set_value(float(value), skip_validation=True)
    log = io.StringIO()
    SparseHighs(warm_start=True).solve(
        model, tee=[log], load_solutions=False, raise_exception_on_nonoptimal_result=False
    )
    assert "MIP start solution is feasible" in log.getvalue()
    warm = solve_rollout(problem, EXACT, start="year_by_year")
    cold = solve_rollout(problem, EXACT, start="none")
    assert warm.objective == pytest.approx(cold.objective, rel=1e-6)
    assert warm.objective <= start_cost + 1e-6 * abs(start_cost)


# --------------------------------------------------------------------------------------------
# 4. end to end: scenario API and CLI
# --------------------------------------------------------------------------------------------

ROLLOUT_TOML = """\
extends = "tiny.toml"

[rollout]
targets = { 2026 = 300, 2027 = 600, 2028 = 1000 }
discount_rate = 0.05
"""
TARGETS = {2026: 300, 2027: 600, 2028: 1000}
TYPES = ("dc_fast", "ac_destination")


@pytest.fixture(scope="module")
def rollout_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rollout")
    write_tiny_scenario(folder)
    path = folder / "tiny-rollout.toml"
    path.write_text(ROLLOUT_TOML)
    return path


@pytest.fixture(scope="module")
def rollout_plan(rollout_scenario: Path) -> chargeplan.Plan:
    return chargeplan.plan_network(load_scenario(rollout_scenario))


def test_rollout_scenario_extends_the_base(rollout_scenario: Path) -> None:
    scenario = load_scenario(rollout_scenario)
    assert scenario.name == "tiny-rollout"
    assert scenario.rollout is not None and scenario.rollout.targets == TARGETS
    assert scenario.rollout.discount_rate == 0.05
    assert scenario.model.unmet_penalty_cny_per_kwh == 5000  # inherited from tiny.toml


def test_rollout_plan_years_table(rollout_plan: chargeplan.Plan) -> None:
    years = rollout_plan.years
    assert years is not None and len(years) == 3
    assert list(years["year"]) == list(TARGETS)
    assert list(years["premium_users"]) == list(TARGETS.values())
    np.testing.assert_allclose(years["cumulative_capex_cny"], years["capex_cny"].cumsum())
    np.testing.assert_allclose(years["discount_factor"], 1.05 ** -np.arange(3.0))
    assert rollout_plan.summary["status"] == "optimal"
    assert rollout_plan.summary["rollout_years"] == list(TARGETS)
    assert rollout_plan.summary["capex_cny"] == pytest.approx(years["capex_cny"].sum())


def test_rollout_plan_stacked_tables(rollout_plan: chargeplan.Plan) -> None:
    sites, zones = rollout_plan.sites, rollout_plan.zones
    assert "year" in sites.columns and "year" in zones.columns
    assert sites.groupby("year")["site_id"].apply(sorted).to_dict() == {
        year: ["s1", "s2", "s3"] for year in TARGETS
    }
    assert zones.groupby("year")["zone_id"].apply(sorted).to_dict() == {
        year: ["z1", "z2", "z3", "z4"] for year in TARGETS
    }
    assert zones.groupby("year")["premium_users"].sum().to_dict() == TARGETS
    # one public peak-hour kWh per premium user in the tiny scenario: each year's zone demand
    # follows that year's users
    np.testing.assert_allclose(zones["demand_kwh"], zones["premium_users"], rtol=1e-9)
    assert "year" in rollout_plan.assignments.columns


def _by_year(sites: pd.DataFrame) -> list[pd.DataFrame]:
    return [sites[sites["year"] == year].set_index("site_id").sort_index() for year in TARGETS]


def test_rollout_plan_capex_from_the_sites_table(rollout_plan: chargeplan.Plan) -> None:
    """Each year's capex = fixed cost of newly opened sites + cost of the added chargers."""
    frames = _by_year(rollout_plan.sites)
    was_open = pd.Series(False, index=frames[0].index)
    had = pd.DataFrame(0, index=frames[0].index, columns=list(TYPES))
    expected = []
    for frame in frames:
        is_open = frame["open"].astype(bool)
        new = is_open & ~was_open
        # fixed_cost_cny of an open site's row is its full fixed cost
        capex = float(frame.loc[new, "fixed_cost_cny"].sum())
        chargers = pd.DataFrame({t: frame[f"chargers_{t}"] for t in TYPES})
        for t in TYPES:
            capex += float(((chargers[t] - had[t]) * frame[f"capex_cny_{t}"]).sum())
        expected.append(capex)
        was_open, had = is_open, chargers
    np.testing.assert_allclose(rollout_plan.years["capex_cny"], expected, rtol=1e-9)
    assert expected[0] > 0 and sum(expected[1:]) > 0
    # added chargers by type and opened sites in the years table agree with the sites table
    for t in TYPES:
        totals = [int(f[f"chargers_{t}"].sum()) for f in frames]
        assert list(rollout_plan.years[f"chargers_{t}"]) == totals
        assert list(rollout_plan.years[f"chargers_added_{t}"]) == list(np.diff([0, *totals]))


def test_rollout_plan_never_shrinks(rollout_plan: chargeplan.Plan) -> None:
    frames = _by_year(rollout_plan.sites)
    for before, after in itertools.pairwise(frames):
        assert (after["open"].astype(int) >= before["open"].astype(int)).all()
        for t in TYPES:
            assert (after[f"chargers_{t}"] >= before[f"chargers_{t}"]).all()


def test_rollout_plan_objective_from_the_tables(rollout_plan: chargeplan.Plan) -> None:
    """The discounted objective = sum over years of discount x (capex + access + penalty)."""
    years = rollout_plan.years
    assert (years["opex_cny"] == 0).all()  # no opex in this scenario
    total = 0.0
    for row in years.itertuples():
        moves = rollout_plan.assignments[rollout_plan.assignments["year"] == row.year]
        access = 1.0 * float((moves["distance_km"] * moves["served_kwh"]).sum())  # detour 1.0
        zones = rollout_plan.zones[rollout_plan.zones["year"] == row.year]
        penalty = 5000.0 * float(zones["unmet_kwh"].sum())
        total += row.discount_factor * (row.capex_cny + access + penalty)
    assert rollout_plan.summary["objective_value"] == pytest.approx(total, rel=1e-6)


@pytest.fixture(scope="module")
def cli_run(rollout_scenario: Path, tmp_path_factory: pytest.TempPathFactory):
    """``chargeplan run`` on the rollout scenario: (exit code or the exception, out folder)."""
    out = tmp_path_factory.mktemp("cli") / "out"
    try:
        outcome = main(["run", str(rollout_scenario), "--out", str(out), "-q"])
    except Exception as error:  # shown by the tests that need the run
        outcome = error
    return outcome, out


def _ran(cli_run) -> Path:
    outcome, out = cli_run
    if isinstance(outcome, Exception):
        raise outcome
    assert outcome == 0
    return out


def test_cli_runs_a_rollout_scenario(cli_run) -> None:
    out = _ran(cli_run)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rollout_years"] == list(TARGETS)
    assert summary["premium_users"] == TARGETS[2028]
    sites_csv = pd.read_csv(out / "sites.csv")
    assert sorted(set(sites_csv["year"])) == list(TARGETS)
    assert len(sites_csv) == 3 * len(TARGETS)
    sites_parquet = gpd.read_parquet(out / "sites.parquet")
    assert sorted(set(sites_parquet["year"])) == list(TARGETS)


def test_cli_writes_the_years_table(cli_run, rollout_plan: chargeplan.Plan) -> None:
    out = _ran(cli_run)
    years = pd.read_csv(out / "years.csv")
    assert list(years["year"]) == list(TARGETS)
    assert list(years["premium_users"]) == list(TARGETS.values())
    np.testing.assert_allclose(years["capex_cny"], rollout_plan.years["capex_cny"], rtol=1e-9)


def test_cli_writes_every_years_stations_and_the_final_cities(
    cli_run, rollout_plan: chargeplan.Plan
) -> None:
    """``stations.csv`` holds each year's open sites; ``cities.csv`` sums the final year's."""
    out = _ran(cli_run)
    stations = pd.read_csv(out / "stations.csv", encoding="utf-8-sig")
    sites = rollout_plan.sites
    opened = sites[sites["open"]].groupby("year").size()
    assert stations.groupby("year").size().to_dict() == opened.to_dict()
    final = stations[stations["year"] == max(TARGETS)]
    cities = pd.read_csv(out / "cities.csv", encoding="utf-8-sig")
    assert cities["stations"].sum() == len(final)
    assert cities["capex_cny"].sum() == pytest.approx(final["capex_cny"].sum())


# --------------------------------------------------------------------------------------------
# 5. the checks themselves: each refuses a deliberately broken plan
# --------------------------------------------------------------------------------------------


@functools.cache
def _optimal_plan(sizing: str) -> tuple[FacilityProblem, Solution]:
    """Instance A's single-year optimum (every site opens, some demand stays unmet)."""
    problem = sized(INSTANCE_A, sizing, QUEUE_A)
    return problem, solve(problem, EXACT)


def _needed_charger(problem: FacilityProblem, plan: Solution) -> tuple[int, int]:
    """A site and type whose load one charger fewer could not carry (every charger of an
    optimum is needed, else dropping it would save its price)."""
    fewer = charger_capacity(problem, np.maximum(plan.chargers - 1, 0))
    needed = np.argwhere((plan.chargers > 0) & (site_load(problem, plan) > fewer + TOL))
    assert len(needed), "no charger of the optimum is needed"
    return tuple(needed[0])


def _broken_share(problem, plan):
    served = plan.served.copy()
    served[np.unravel_index(np.argmax(served), served.shape)] += 0.1
    return problem, replace(plan, served=served)


def _required_site_closed(problem, plan):
    j = int(np.argmax(plan.open_site))
    required = np.zeros(len(problem.site_ids), bool)
    required[j] = True
    open_site = plan.open_site.copy()
    open_site[j] = False
    return replace(problem, required=required), replace(plan, open_site=open_site)


def _busy_site_closed(problem, plan):
    open_site = plan.open_site.copy()
    open_site[int(np.argmax(site_load(problem, plan).sum(axis=1)))] = False
    return problem, replace(plan, open_site=open_site)


def _charger_short(problem, plan):
    chargers = plan.chargers.copy()
    chargers[_needed_charger(problem, plan)] -= 1
    return problem, replace(plan, chargers=chargers)


def _charger_over_limit(problem, plan):
    chargers = plan.chargers.copy()
    j = int(np.argmax(plan.open_site))
    chargers[j, 0] = problem.max_chargers[j, 0] + 1
    return problem, replace(plan, chargers=chargers)


def _existing_removed(problem, plan):
    existing = np.zeros_like(problem.existing_chargers)
    j = int(np.argmax(plan.open_site))
    existing[j, 0] = plan.chargers[j, 0] + 1
    return replace(problem, existing_chargers=existing), plan


def _site_over_capacity(problem, plan):
    load = site_load(problem, plan).sum(axis=1)
    capacity = problem.site_capacity.copy()
    capacity[int(np.argmax(load))] = load.max() - 1.0
    return replace(problem, site_capacity=capacity), plan


BREAKS = {
    "served + unmet shares != 1": _broken_share,
    "a required site (or one with chargers) is closed": _required_site_closed,
    "a closed site serves demand": _busy_site_closed,
    "load above charger capacity": _charger_short,
    "more chargers than a site's limit": _charger_over_limit,
    "existing chargers removed": _existing_removed,
    "load above a site's capacity": _site_over_capacity,
}


@pytest.mark.parametrize("sizing", ["linear", "queue"])
@pytest.mark.parametrize("message", list(BREAKS))
def test_year_check_refuses_a_broken_plan(message: str, sizing: str) -> None:
    """Each check of :func:`assert_year_feasible` is the first to fail on its broken plan."""
    problem, plan = _optimal_plan(sizing)
    assert_year_feasible(problem, plan)
    broken_problem, broken_plan = BREAKS[message](problem, plan)
    with pytest.raises(AssertionError, match=re.escape(message)):
        assert_year_feasible(broken_problem, broken_plan)


def test_monotone_check_refuses_a_shrinking_network() -> None:
    _, plan = _optimal_plan("linear")
    assert_monotone([plan, plan])
    closed = plan.open_site.copy()
    closed[0] = False
    with pytest.raises(AssertionError, match="a site closed"):
        assert_monotone([plan, replace(plan, open_site=closed)])
    fewer = plan.chargers.copy()
    fewer[np.unravel_index(np.argmax(fewer), fewer.shape)] -= 1
    with pytest.raises(AssertionError, match="chargers removed"):
        assert_monotone([plan, replace(plan, chargers=fewer)])


def _decoded(problem: FacilityProblem, ix, values: np.ndarray) -> Solution:
    return Solution(
        **decode(problem, ix, values),
        status="optimal",
        objective=0.0,
        bound=0.0,
        gap=0.0,
        build_seconds=0.0,
        solve_seconds=0.0,
    )


def test_raw_value_check_refuses_what_decoding_hides(highs_values: list[np.ndarray]) -> None:
    """HiGHS's answer is checked before decode, because decode hides broken shares.

    The old check ``served.min() >= 0 and unmet.min() >= 0`` ran on decoded plans, whose
    shares decode clips into [0, 1]: it could not fail. A zone served 1.2 over one pair with
    unmet share -0.2 keeps its assignment row (1.2 - 0.2 = 1) and decodes to the valid
    1.0 / 0.0, which every check on the decoded plan accepts; the raw values are refused.
    """
    base = to_problem(INSTANCE_A)
    problem = RolloutProblem((2030,), (base,))
    solve_rollout(problem, EXACT)
    assert len(highs_values) == 1  # one year: no year-by-year start, one read of the values
    raw = highs_values[0]
    lp, (ix,) = build_rollout(problem)
    _, columns = lp.to_pyomo()
    assert_values_feasible(columns, raw)
    x, n = raw[ix.cols("x")], raw[ix.cols("n")]

    # decode clips: shares far outside [0, 1] come out inside, so their bounds cannot fail
    wild = raw.copy()
    wild[ix.cols("x")] = np.where(x > 0.5, 7.0, -5.0)
    wild[ix.cols("u")] = -3.0
    clipped = _decoded(base, ix, wild)
    assert clipped.served.min() >= 0 and clipped.unmet.min() >= 0
    assert clipped.served.max() <= 1 and clipped.unmet.max() <= 1

    # a zone wholly served over one pair: x = 1.2, u = -0.2
    full = int(np.flatnonzero(x > 1 - TOL)[0])
    zone, kind = base.pair_zone[ix.x_pair[full]], ix.x_type[full]
    row = int(np.flatnonzero((ix.u_zone == zone) & (ix.u_type == kind))[0])
    hidden = raw.copy()
    hidden[ix.cols("x")[full]] += 0.2
    hidden[ix.cols("u")[row]] -= 0.2
    assert_year_feasible(base, _decoded(base, ix, hidden))  # decoded, nothing shows
    with pytest.raises(AssertionError, match=r"a share outside \[0, 1\]"):
        assert_values_feasible(columns, hidden)

    # within [0, 1] but above a column's bound, fractional, or breaking a row
    entry = int(np.flatnonzero(n < base.max_chargers[ix.n_site, ix.n_type] - 0.5)[0])
    above = raw.copy()
    above[ix.cols("n")[entry]] = base.max_chargers[ix.n_site[entry], ix.n_type[entry]] + 1
    with pytest.raises(AssertionError, match="outside their column bounds"):
        assert_values_feasible(columns, above)
    half = raw.copy()
    half[ix.cols("n")[entry]] += 0.5
    with pytest.raises(AssertionError, match="fractional integer columns"):
        assert_values_feasible(columns, half)
    short = raw.copy()
    short[ix.cols("x")[full]] -= 0.3
    with pytest.raises(AssertionError, match="rows of 'assign_2030' broken"):
        assert_values_feasible(columns, short)


# --------------------------------------------------------------------------------------------
# bugs found
# --------------------------------------------------------------------------------------------


def test_required_site_is_paid_once_under_annual_budgets() -> None:
    base = to_problem(INSTANCE_A)
    required = np.array([True, False, False])
    periods = (
        replace(with_year(base, base.demand * 0.6, 150.0), required=required),
        replace(base, budget=50.0, required=required),
    )
    problem = RolloutProblem((2026, 2027), periods)
    result = solve_rollout(problem, EXACT)
    assert all(s.open_site[0] for s in result.solutions)
    capex = yearly_capex(periods, result.solutions)
    assert capex[0] <= 150.0 and capex[1] <= 50.0


@pytest.mark.parametrize("field", ["fixed_cost", "charger_cost"])
def test_year_dependent_prices_are_refused(field: str) -> None:
    """The rollout prices every year's additions at one set of prices (its objective
    telescopes capex over the years), so prices that change by year are refused, not
    silently priced at the first year's."""
    base = to_problem(INSTANCE_A)
    periods = (
        with_year(base, base.demand * 0.6, None),
        replace(base, **{field: getattr(base, field) * 0.5}),
    )
    with pytest.raises(InputError, match=f"year 2027 has another {field} than year 2026"):
        RolloutProblem((2026, 2027), periods)


def test_every_years_users_carry_demand(tmp_path: Path) -> None:
    write_tiny_scenario(tmp_path)
    path = tmp_path / "alabama.toml"
    path.write_text('extends = "tiny.toml"\n\n[rollout]\ntargets = { 2026 = 6, 2027 = 7 }\n')
    plan = chargeplan.plan_network(load_scenario(path))
    assert list(plan.years["premium_users"]) == [6, 7]
    # one public peak-hour kWh per premium user in the tiny scenario
    np.testing.assert_allclose(plan.zones["demand_kwh"], plan.zones["premium_users"], rtol=1e-9)
    np.testing.assert_allclose(plan.years["demand_kwh"], [6.0, 7.0], rtol=1e-9)


# --------------------------------------------------------------------------------------------
# 6. the LP-guided plan (chargeplan.solver.rollout_lp): the default path of solve_rollout
# --------------------------------------------------------------------------------------------


def test_least_chargers_by_hand() -> None:
    """Queue levels of INSTANCE_C (S = 3: one queue carries 18.3, 40.2 or 65.9) and the linear
    rule of INSTANCE_A (q = 32.6 and 23.5 per charger), worked out by hand."""
    queue = sized(INSTANCE_C, "queue", QUEUE_C)
    ix = model_index(queue)
    loads = np.array([0.0, 18.3, 18.4, 40.2, 65.9, 66.0, 65.9 + 40.2, 65.9 + 40.3])
    entries = replace(ix, n_site=np.zeros(8, np.int64), n_type=np.zeros(8, np.int64))
    # 0; 1 (L(1) = 18.3); 2; 2; one full queue; a full queue and one charger; 3 + 2; 3 + 3
    np.testing.assert_array_equal(least_chargers(queue, entries, loads), [0, 1, 2, 2, 3, 4, 5, 6])
    linear = to_problem(INSTANCE_A)
    entries = replace(
        model_index(linear), n_site=np.zeros(4, np.int64), n_type=np.array([0, 0, 1, 1])
    )
    np.testing.assert_array_equal(
        least_chargers(linear, entries, np.array([32.6, 32.7, 47.0, 47.1])), [1, 2, 2, 3]
    )


def _guided(problem: RolloutProblem):
    lp, index = build_rollout(problem)
    return lp, index, lp_guided_plan(problem, lp, index)


@pytest.mark.parametrize("case", sorted(BF_CASES))
def test_lp_bound_is_never_above_the_brute_force_optimum(case: str) -> None:
    """The LP relaxation's value, the bound of the default path, is at most the enumerated
    optimum; a guided plan is a feasible rollout (every row, bound and integrality of the
    model, checked on its raw values) and costs what its decisions cost."""
    years, budgets, existing = BF_CASES[case]
    value = brute_rollout(years, budgets, existing)[0][0]
    problem = bf_problem(years, budgets, existing)
    lp, index, guided = _guided(problem)
    relaxed = lp.to_highs()
    relaxed.setOptionValue("output_flag", False)
    relaxed.setOptionValue("solve_relaxation", True)
    relaxed.run()
    lp_value = relaxed.getInfo().objective_function_value + lp.objective_offset
    assert lp_value <= value + 1e-9 * abs(value)
    if guided is None:  # a budget the rounding cannot keep: solve_rollout hands over to HiGHS
        assert any(b is not None for b in budgets)
        return
    assert guided.bound == pytest.approx(lp_value, rel=1e-9)
    assert guided.bound <= value <= guided.objective + 1e-9 * abs(value)
    assert_array_values_feasible(lp, guided.values)
    plans = [_decoded(p, ix, guided.values) for p, ix in zip(problem.periods, index, strict=True)]
    assert guided.objective == pytest.approx(discounted_cost(problem, plans), rel=1e-9)


def test_guided_plan_decides_and_equals_the_brute_force_optimum() -> None:
    """On ``discounted_opex`` the guided plan is the enumerated optimum, 11.0 % above the LP
    bound: with a 12 % gap target it is the result (no branch and bound), with 10 % HiGHS
    takes over from it and proves it optimal."""
    years, budgets, existing = BF_CASES["discounted_opex"]
    value, y, n, _ = brute_rollout(years, budgets, existing)[0]
    problem = bf_problem(years, budgets, existing)
    loose = solve_rollout(problem, SolverOptions(mip_rel_gap=0.12, time_limit_s=60))
    assert "no branch and bound" in loose.method
    assert loose.status == "optimal" and loose.gap == pytest.approx(0.1101, abs=1e-4)
    assert loose.bound < value == pytest.approx(loose.objective, rel=1e-9)
    for t, s in enumerate(loose.solutions):
        np.testing.assert_array_equal(s.open_site, y[t])
        np.testing.assert_array_equal(s.chargers, n[t])
    tight = solve_rollout(problem, SolverOptions(mip_rel_gap=0.10, time_limit_s=60))
    assert tight.method == "HiGHS branch and bound from the LP-guided plan"
    assert tight.objective == pytest.approx(value, rel=1e-9) and tight.bound <= value * (1 + 1e-9)


@pytest.mark.parametrize("sizing", ["linear", "queue"])
def test_guided_plan_is_the_exact_optimum_on_growing_demand(sizing: str) -> None:
    """Instance A over three years of growing demand: the guided plan costs the exact optimum
    (HiGHS with no gap) and is returned as is once the gap target admits its LP gap."""
    problem = RolloutProblem(YEARS3, growing(sized(INSTANCE_A, sizing, QUEUE_A)))
    exact = solve_rollout(problem, EXACT, start="none")
    _, _, guided = _guided(problem)
    assert guided is not None
    assert guided.objective == pytest.approx(exact.objective, rel=1e-9)
    assert guided.bound <= exact.objective
    result = solve_rollout(problem, SolverOptions(mip_rel_gap=0.02, time_limit_s=60))
    assert "no branch and bound" in result.method
    assert result.objective == pytest.approx(exact.objective, rel=1e-9)
    assert_monotone(result.solutions)


def test_two_runs_give_identical_plans() -> None:
    """Deterministic: no time limit decides the guided plan (nor HiGHS's, which stops on its gap
    long before its limit here)."""
    problem = RolloutProblem(YEARS3, growing(sized(INSTANCE_A, "queue", QUEUE_A)))
    for options in (SolverOptions(mip_rel_gap=0.01, time_limit_s=60), EXACT):
        first, second = (solve_rollout(problem, options) for _ in range(2))
        assert first.method == second.method and first.objective == second.objective
        for a, b in zip(first.solutions, second.solutions, strict=True):
            np.testing.assert_array_equal(a.open_site, b.open_site)
            np.testing.assert_array_equal(a.chargers, b.chargers)
            np.testing.assert_array_equal(a.served, b.served)


def test_tight_budgets_are_kept_with_a_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Instance C, linear rule, three growing years, CNY 87.37 a year: rounding up breaks a
    budget with the relaxation as it is and with its budgets 1 % tighter; 2 % tighter gives a
    plan that keeps the real budgets (every row checked on its raw values), and the bound is
    still the untightened relaxation's, below the exact optimum."""
    periods = tuple(replace(p, budget=87.37) for p in growing(sized(INSTANCE_C, "linear", QUEUE_C)))
    problem = RolloutProblem(YEARS3, periods)
    lp, index, guided = _guided(problem)
    assert guided is not None
    assert_array_values_feasible(lp, guided.values)
    exact = solve_rollout(problem, EXACT, start="none")
    assert guided.bound <= exact.objective <= guided.objective * (1 + 1e-9)
    tried = []
    real = rollout_lp._best_rounding

    def recording(*args):
        found = real(*args)
        tried.append((args[-1], found is not None))
        return found

    monkeypatch.setattr(rollout_lp, "_best_rounding", recording)
    assert rollout_lp.lp_guided_plan(problem, lp, index) is not None
    assert tried == [(0.0, False), (0.01, False), (0.02, True)]
    monkeypatch.setattr(rollout_lp, "BUDGET_MARGINS", ())
    assert rollout_lp.lp_guided_plan(problem, lp, index) is None


@pytest.mark.slow
def test_default_rollout_stops_on_the_gap_without_branch_and_bound() -> None:
    """``models/china-rollout-2026-2030.toml``: the guided plan is within its 0.5 % of the LP
    bound (0.28 % measured), so no time limit decides the plan; a second run gives it again."""
    scenario = load_scenario(Path(__file__).parents[1] / "models" / "china-rollout-2026-2030.toml")
    first, second = (chargeplan.plan_network(scenario) for _ in range(2))
    summary = first.summary
    assert summary["status"] == "optimal" and summary["gap"] <= 0.005
    assert "no branch and bound" in summary["rollout_method"]
    assert summary["bound"] <= summary["objective_value"]
    pd.testing.assert_frame_equal(first.years, second.years)
    columns = ["site_id", "year", "open", "chargers_dc_fast", "chargers_ac_destination"]
    pd.testing.assert_frame_equal(first.sites[columns], second.sites[columns])
