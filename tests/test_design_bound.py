"""The Lagrangian bound of station-design models (``chargeplan.solver.design_bound``).

Tiny design instances of ``tests/test_designstart.py`` (4 zones on a line, 3 sites, a 3-design
menu) are solved by enumeration (every site closed or with one design, an assignment LP each):
the bound may never exceed that optimum, and from the LP's duals it may never fall below the
LP bound of the weak formulation (no ``x_ijk <= y_j`` rows). The one-site instance gives
values derived by hand.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from chargeplan.model.formulation import build_milp
from chargeplan.solver.design_bound import (
    STALL_STEPS,
    THETA,
    _evaluate,
    _pieces,
    lagrangian_applies,
    lagrangian_bound,
    lagrangian_value,
)
from chargeplan.solver.designstart import design_start
from chargeplan.solver.direct import load_arrays

from .design_instances import brute_force, line_instance, lp_relaxation, one_site


@pytest.mark.parametrize("seed", range(6))
def test_bound_between_weak_lp_and_brute_force_optimum(seed: int) -> None:
    p = dataclasses.replace(line_instance(seed), pair_links="never")
    best, _ = brute_force(p)
    weak, duals = lp_relaxation(p)
    lp, ix = build_milp(p)
    assert not ix.strong_links
    result = lagrangian_bound(p, lp, ix, target=best, multipliers=duals)
    assert result is not None
    assert result.first >= weak - 1e-6 * abs(weak)  # at the LP's duals: at least the LP
    assert weak - 1e-6 * abs(weak) <= result.bound <= best * (1 + 1e-9)
    # any multipliers give a bound, not only the best ones
    rng = np.random.default_rng(seed)
    for _ in range(5):
        lam = duals + rng.normal(0.0, 200.0, duals.size)
        assert lagrangian_value(p, lp, ix, lam) <= best * (1 + 1e-9)


def test_values_by_hand_on_one_site() -> None:
    """One zone (demand 30, unmet price 40 per unit: c_u = 1,200), one site, one design of
    usable capacity 30 at capex 1,000, no fixed or access cost.

    lambda = 0: the unmet share costs 1,200 >= 0 so u = 0; serving has reduced cost 0 - 0: no
    pair is worth taking, the site stays closed (0): L = 0. lambda = 1,200: sum lambda =
    1,200, u's reduced cost 0; the pair's reduced cost -1,200 fills the 30 of capacity, the
    design costs 1,000: the site's piece is min(0, 1,000 - 1,200) = -200; L = 1,000, the
    optimum. lambda = 2,000: 2,000 + (1,200 - 2,000) + min(0, 1,000 - 2,000) = 200.
    """
    p = one_site(30.0)
    lp, ix = build_milp(p)
    assert lagrangian_applies(p, lp)
    assert lagrangian_value(p, lp, ix, np.array([0.0])) == pytest.approx(0.0, abs=1e-9)
    assert lagrangian_value(p, lp, ix, np.array([1200.0])) == pytest.approx(1000.0)
    assert lagrangian_value(p, lp, ix, np.array([2000.0])) == pytest.approx(200.0)


def test_values_by_hand_with_the_capacity_cut_in_part() -> None:
    """Demand 150 (c_u = 6,000) at a 100-capacity station, lambda = 6,000: the pair's reduced
    cost -6,000 for the whole share fills 100 of 150 units, -4,000; the site's piece is
    1,000 - 4,000 = -3,000 and L = 6,000 + 0 - 3,000 = 3,000: the optimum (station, 50
    unmet: 1,000 + 50 x 40)."""
    p = one_site(150.0)
    lp, ix = build_milp(p)
    assert lagrangian_value(p, lp, ix, np.array([6000.0])) == pytest.approx(3000.0)


@pytest.mark.parametrize(("penalty", "seed"), [(18.0, 3), (20.0, 0), (20.0, 4), (25.0, 0)])
def test_bound_reaches_the_optimum_where_the_strong_lp_is_tight(penalty: float, seed: int) -> None:
    """With unmet demand at ``penalty`` per unit these instances open one or two stations and
    the LP with the strong rows equals the enumerated optimum (checked here; the weak LP is
    1.5-5.5 % below it); the Lagrangian bound from the weak LP's duals must reach it within
    1e-6."""
    p = dataclasses.replace(line_instance(seed), unmet_penalty=np.array([penalty, penalty]))
    best, _ = brute_force(p)
    strong, _ = lp_relaxation(dataclasses.replace(p, pair_links="always"))
    assert strong == pytest.approx(best, rel=1e-9)
    weak, duals = lp_relaxation(dataclasses.replace(p, pair_links="never"))
    assert weak < best * (1 - 1e-3)
    lp, ix = build_milp(dataclasses.replace(p, pair_links="never"))
    result = lagrangian_bound(p, lp, ix, target=best * 1.01, multipliers=duals, steps=2000)
    assert result is not None
    assert result.bound == pytest.approx(best, rel=1e-6)
    assert result.bound <= best * (1 + 1e-9)


def test_two_calls_give_the_same_bound() -> None:
    p = dataclasses.replace(line_instance(2), pair_links="never")
    best, _ = brute_force(p)
    _, duals = lp_relaxation(p)
    lp, ix = build_milp(p)
    a = lagrangian_bound(p, lp, ix, target=best, multipliers=duals)
    b = lagrangian_bound(p, lp, ix, target=best, multipliers=duals)
    assert a is not None and b is not None
    assert a.bound == b.bound and a.steps == b.steps
    assert np.array_equal(a.multipliers, b.multipliers) and np.array_equal(a.design, b.design)


def test_not_applied_with_a_budget_or_targets() -> None:
    p = line_instance(1)
    lp, ix = build_milp(dataclasses.replace(p, budget=1e9))
    assert lagrangian_bound(dataclasses.replace(p, budget=1e9), lp, ix, target=1.0) is None
    lp, ix = build_milp(dataclasses.replace(p, max_sites=2))
    assert not lagrangian_applies(dataclasses.replace(p, max_sites=2), lp)


@pytest.mark.parametrize("seed", range(3))
def test_design_start_reports_the_better_bound(seed: int) -> None:
    p = dataclasses.replace(line_instance(seed), pair_links="never")
    best, _ = brute_force(p)
    lp, ix = build_milp(p)
    highs, order = load_arrays(lp)
    start = design_start(p, lp, ix, highs, order, threads=1)
    assert start is not None
    assert start.bound == max(start.lp_bound, start.lagrange_bound)
    assert start.lagrange_bound > -np.inf
    assert start.bound <= best * (1 + 1e-9) and best <= start.objective * (1 + 1e-9)


def test_values_by_hand_with_existing_chargers() -> None:
    """The site already holds 2 chargers (capacity 2 x 25 = 50, so it cannot close); demand 80
    (c_u = 3,200). lambda = 3,200: the pair's reduced cost is -3,200 for the whole share. No
    design: 50 of 80 served, -2,000 at no cost; the design (usable capacity min(150, 80) = 80)
    serves all, 1,000 - 3,200 = -2,200. L = 3,200 + 0 - 2,200 = 1,000, the optimum (the
    design, nothing unmet; without it 30 x 40 = 1,200 unmet)."""
    p = dataclasses.replace(one_site(80.0), existing_chargers=np.array([[2.0]]))
    lp, ix = build_milp(p)
    assert lagrangian_applies(p, lp)
    assert lagrangian_value(p, lp, ix, np.array([3200.0])) == pytest.approx(1000.0)
    result = lagrangian_bound(p, lp, ix, target=1000.0, multipliers=np.zeros(1))
    assert result is not None and result.bound <= 1000.0 * (1 + 1e-9)


def test_design_start_without_steps_keeps_the_lp_bound() -> None:
    p = dataclasses.replace(line_instance(1), pair_links="never")
    lp, ix = build_milp(p)
    with_steps = design_start(p, lp, ix, *load_arrays(lp), threads=1)
    without = design_start(p, lp, ix, *load_arrays(lp), threads=1, lagrange_steps=0)
    assert with_steps is not None and without is not None
    assert without.lagrange_bound == -np.inf and without.bound == without.lp_bound
    assert with_steps.lp_bound == pytest.approx(without.lp_bound, rel=1e-12)
    assert with_steps.bound >= without.bound
    assert with_steps.objective <= without.objective


def _bound_evaluating_again(pieces, lam, target: float, steps: int) -> tuple:
    """The subgradient loop as it was before the best point was kept: ``L`` evaluated again
    (with the pairs' solution) at the best multipliers whenever ``theta`` is halved."""
    best, best_lam, best_design = -np.inf, lam, np.empty(0, np.int64)
    ceiling = np.where(pieces.u_upper >= 1.0, pieces.u_cost, np.inf)
    theta, stalled, done, resets = THETA, 0, 0, 0
    for done in range(1, steps + 1):  # noqa: B007
        point = _evaluate(pieces, lam)
        value = point.value
        if value > best:
            best, best_lam, best_design, stalled = value, lam, point.design, 0
        else:
            stalled += 1
            if stalled >= STALL_STEPS:
                theta, stalled, lam, resets = theta / 2.0, 0, best_lam, resets + 1
                point = _evaluate(pieces, lam)
                value = point.value
        norm = float(point.grad @ point.grad)
        if norm <= 1e-18 or value >= target:
            break
        lam = np.minimum(lam + theta * (target - value) / norm * point.grad, ceiling)
    return best, best_lam, best_design, done, resets


@pytest.mark.parametrize("seed", range(4))
def test_kept_best_point_gives_the_same_bound_as_evaluating_it_again(seed: int) -> None:
    """Halving ``theta`` restarts from the best point as it was evaluated, not evaluated
    again: the bound, multipliers, designs and step count are the same to the bit, on runs
    long enough to halve it several times (a target far above the optimum stalls them)."""
    p = dataclasses.replace(line_instance(seed), pair_links="never")
    best, _ = brute_force(p)
    _, duals = lp_relaxation(p)
    lp, ix = build_milp(p)
    found = lagrangian_bound(p, lp, ix, target=3.0 * best, multipliers=duals, steps=150)
    expected = _bound_evaluating_again(_pieces(p, lp, ix), duals, 3.0 * best, 150)
    assert found is not None and expected[4] >= 2  # theta halved at least twice
    assert found.bound == expected[0] and found.steps == expected[3]
    assert np.array_equal(found.multipliers, expected[1])
    assert np.array_equal(found.design, expected[2])


@pytest.mark.parametrize("seed", range(3))
def test_step_without_the_pairs_solution_is_the_same_point(seed: int) -> None:
    """``_evaluate(..., pairs=False)`` (the subgradient steps) gives the same bound,
    subgradient and designs as the full evaluation, only the pairs' solution left empty."""
    p = dataclasses.replace(line_instance(seed), pair_links="never")
    _, duals = lp_relaxation(p)
    lp, ix = build_milp(p)
    pieces = _pieces(p, lp, ix)
    full, lean = _evaluate(pieces, duals), _evaluate(pieces, duals, pairs=False)
    assert full.value == lean.value and not lean.item.size and not lean.x.size
    assert np.array_equal(full.grad, lean.grad) and np.array_equal(full.design, lean.design)
    assert np.array_equal(full.option, lean.option)


@pytest.mark.parametrize(("penalty", "seed"), [(18.0, 3), (20.0, 0), (20.0, 4), (25.0, 0)])
def test_averaged_openings_tend_to_the_optimum_where_the_relaxation_is_tight(
    penalty: float, seed: int
) -> None:
    """The instances of the test above (the relaxation's optimum is the enumerated plan):
    over the late half of the default 300 steps each site's piece opens exactly as the
    optimum does, and over every step within 0.05 of it (measured: the early steps are still
    far from the multipliers' optimum)."""
    p = dataclasses.replace(line_instance(seed), unmet_penalty=np.array([penalty, penalty]))
    best, choice = brute_force(p)
    _, duals = lp_relaxation(dataclasses.replace(p, pair_links="never"))
    lp, ix = build_milp(dataclasses.replace(p, pair_links="never"))
    result = lagrangian_bound(p, lp, ix, target=best * 1.01, multipliers=duals)
    assert result is not None and result.steps == 300
    built = (np.array(choice) >= 0).astype(float)
    assert np.array_equal(result.opened_late, built)
    assert np.abs(result.opened - built).max() <= 0.05
    assert ((result.opened >= 0) & (result.opened <= 1)).all()


def test_averaged_openings_of_a_single_step_are_that_steps_choice() -> None:
    """A target already met at the first multipliers stops after one step: both averages are
    that step's choice (lambda = 1,200 on the one-site instance opens its station, L = 1,000
    = the target)."""
    p = one_site(30.0)
    lp, ix = build_milp(p)
    result = lagrangian_bound(p, lp, ix, target=1000.0, multipliers=np.array([1200.0]))
    assert result is not None and result.steps == 1
    assert result.opened.tolist() == result.opened_late.tolist() == [1.0]
    closed = lagrangian_bound(p, lp, ix, target=0.0, multipliers=np.array([0.0]))
    assert closed is not None and closed.steps == 1
    assert closed.opened.tolist() == closed.opened_late.tolist() == [0.0]
