"""Catchment MIR cuts of the Lagrangian bound (``chargeplan.solver.design_cuts``).

Each cut is checked against every plan of tiny design instances (every site closed or with
one design, the assignment LP's unmet shares); the bound with the cuts dualised stays below
the brute-force optimum, and on an instance where the Lagrangian bound without them equals
the strong LP it rises above it. The cuts of the one-site instance are derived by hand.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from chargeplan.model.formulation import build_milp
from chargeplan.model.problem import FacilityProblem
from chargeplan.solver.design_bound import _catchment_cuts, _pieces, lagrangian_bound
from chargeplan.solver.design_cuts import catchment_mir_cuts
from chargeplan.solver.design_hull import disjunctive_bound

from .design_instances import (
    assignment_solution,
    brute_force,
    enumerate_plans,
    line_instance,
    lp_relaxation,
    one_site,
)


def unmet_shares(p: FacilityProblem, capacity: np.ndarray) -> np.ndarray:
    """``(Z, K)`` unmet shares of the least-cost assignment with each site's capacity fixed."""
    unmet_cost = p.unmet_penalty * p.demand
    res = assignment_solution(p, capacity, p.pair_cost, unmet_cost)
    n_zones, k = len(p.zone_ids), len(p.types)
    return res.x[len(p.pair_zone) * k :].reshape(n_zones, k)


@pytest.mark.parametrize("seed", range(4))
def test_every_cut_holds_at_every_plan(seed: int) -> None:
    """A w + B u >= h at each enumerated plan: w its options (a site without a design is
    closed), u the unmet shares of its least-cost assignment."""
    p = dataclasses.replace(line_instance(seed), pair_links="never")
    lp, ix = build_milp(p)
    pieces = _pieces(p, lp, ix)
    cuts = _catchment_cuts(pieces)
    assert cuts.count > 0
    for _, choice, capacity in enumerate_plans(p):
        code = np.where(np.array(choice) >= 0, choice, -2)
        w = (pieces.option_design == code[pieces.option_site]).astype(float)
        u = unmet_shares(p, capacity)[ix.u_zone, ix.u_type]
        assert np.all(cuts.options @ w + cuts.unmet @ u >= cuts.rhs - 1e-7)


def test_cuts_by_hand_on_one_site() -> None:
    """One zone of demand 150, one site whose design carries 100 (no existing chargers, so
    "open without a design" carries 0). The catchment: D = 150, largest coefficient 100.

    Divisor 1: f = 100, b = 1.5, rho = 0.5, G(1) = 0.5, unmet 150 / 100 = 1.5: 0.5 w + 1.5 u
    >= 1. Divisor 1.5: f = 66.7, b = 2.25, rho = 0.25, a = 1.5, G = 0.25 + 0.25 = 0.5, unmet
    2.25: 0.5 w + 2.25 u >= 0.75. Divisor 2.5: f = 40, b = 3.75, rho = 0.75, a = 2.5,
    G = 1.5 + 0.5 = 2: 2 w + 3.75 u >= 3. The plan (design, u = 1/3) meets the first with
    equality."""
    p = one_site(150.0)
    lp, ix = build_milp(p)
    pieces = _pieces(p, lp, ix)
    cuts = _catchment_cuts(pieces)
    design = np.flatnonzero(pieces.option_design == 0)
    assert cuts.count == 3
    assert cuts.options[:, design].toarray().ravel() == pytest.approx([0.5, 0.5, 2.0])
    assert cuts.unmet.toarray().ravel() == pytest.approx([1.5, 2.25, 3.75])
    assert cuts.rhs == pytest.approx([1.0, 0.75, 3.0])


def test_no_cut_where_the_catchment_fits_one_station() -> None:
    """Demand 80 at a site whose design carries 100: the largest coefficient is
    min(100, 80) = 80, b = 1 with divisor 1 (no rounding to gain); divisors 1.5 and 2.5 give
    b = 1.5 and 2.5."""
    p = one_site(80.0)
    lp, ix = build_milp(p)
    pieces = _pieces(p, lp, ix)
    cuts = catchment_mir_cuts(
        pieces.item_row,
        pieces.item_group,
        pieces.item_weight,
        pieces.u_demand,
        pieces.u_type,
        pieces.option_site,
        pieces.option_capacity,
        divisors=(1.0,),
    )
    assert cuts.count == 0
    assert _catchment_cuts(pieces).rhs == pytest.approx([0.5 * 2, 0.5 * 3])


@pytest.mark.parametrize("seed", range(6))
def test_bound_with_cuts_below_the_brute_force_optimum(seed: int) -> None:
    p = dataclasses.replace(line_instance(seed), pair_links="never")
    best, _ = brute_force(p)
    _, duals = lp_relaxation(p)
    lp, ix = build_milp(p)
    result = lagrangian_bound(p, lp, ix, target=best, multipliers=duals, steps=2000, cuts=True)
    assert result is not None
    assert result.bound <= best * (1 + 1e-9)


def test_cuts_lift_the_bound_above_the_strong_lp() -> None:
    """line_instance(3): the optimum 4,576.5 (enumerated), the strong LP 4,133.5, which the
    Lagrangian bound without cuts reaches and does not pass; with the catchment cuts it
    reaches 4,411.5 (measured, 2,000 steps), at least 4,350 asserted."""
    p = dataclasses.replace(line_instance(3), pair_links="never")
    best, _ = brute_force(p)
    strong, _ = lp_relaxation(dataclasses.replace(p, pair_links="always"))
    _, duals = lp_relaxation(p)
    lp, ix = build_milp(p)
    plain = lagrangian_bound(p, lp, ix, target=best, multipliers=duals, steps=2000)
    cut = lagrangian_bound(p, lp, ix, target=best, multipliers=duals, steps=2000, cuts=True)
    assert plain is not None and cut is not None
    assert plain.bound <= strong * (1 + 1e-6)
    assert 4350.0 <= cut.bound <= best * (1 + 1e-9)
    again = lagrangian_bound(p, lp, ix, target=best, multipliers=duals, steps=2000, cuts=True)
    assert again is not None and again.bound == cut.bound


@pytest.mark.parametrize("seed", range(6))
def test_disjunctive_lp_between_strong_lp_and_optimum(seed: int) -> None:
    """The disjunctive LP is at least the strong LP and at most the enumerated optimum; its
    duals give L equal to its value (strong duality: the Lagrangian dual's optimum), and
    2,000 subgradient steps from the weak LP's duals stay at or below it."""
    p = dataclasses.replace(line_instance(seed), pair_links="never")
    best, _ = brute_force(p)
    strong, _ = lp_relaxation(dataclasses.replace(p, pair_links="always"))
    _, duals = lp_relaxation(p)
    lp, ix = build_milp(p)
    hull = disjunctive_bound(p, lp, ix)
    assert hull is not None
    assert strong * (1 - 1e-9) <= hull.lp_value <= best * (1 + 1e-9)
    assert hull.bound == pytest.approx(hull.lp_value, rel=1e-7)
    steps = lagrangian_bound(p, lp, ix, target=best, multipliers=duals, steps=2000)
    assert steps is not None and steps.bound <= hull.lp_value * (1 + 1e-7)


def test_disjunctive_lp_by_hand_on_one_site() -> None:
    """Demand 150 (c_u = 6,000) at one site whose design carries 100 at capex 1,000: the
    plan (design, 50 unmet) costs 3,000, and so does the LP (w = 1 is optimal: the design
    saves 4,000 of unmet price for its 1,000)."""
    p = one_site(150.0)
    lp, ix = build_milp(p)
    hull = disjunctive_bound(p, lp, ix, method="ipm")
    assert hull is not None
    assert hull.lp_value == pytest.approx(3000.0, rel=1e-6)
    assert hull.bound == pytest.approx(3000.0, rel=1e-6)
