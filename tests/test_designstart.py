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

import numpy as np
import pytest

import chargeplan
from chargeplan.model.design_constraints import usable_capacity
from chargeplan.model.designs import design_of
from chargeplan.model.formulation import build_milp
from chargeplan.model.problem import FacilityProblem
from chargeplan.solver.designstart import design_start
from chargeplan.solver.direct import load_arrays

from .design_instances import EXACT, assert_feasible_plan, brute_force, line_instance, one_site


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
    assert_feasible_plan(p, v)
    assert start.objective == pytest.approx(lp.objective @ v + lp.objective_offset, rel=1e-9)
    assert start.lp_bound <= best * (1 + 1e-9)
    assert best <= start.objective * (1 + 1e-9)  # the searched start may reach the optimum


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
    assert solution.bound <= best * (1 + 1e-9) and best <= solution.objective * (1 + 1e-9)
    within = start.objective - start.bound <= 1e-9 * abs(start.objective)
    assert solution.status == ("optimal" if within else "iteration_limit")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("windows", [False, True])
def test_both_starts_never_cost_more_than_the_cheaper_start(seed: int, windows: bool) -> None:
    """Step 8: the search (or the windows) from the rounded and from the Lagrangian plan, the
    cheaper result kept: a feasible plan, never dearer than step 7 from the cheaper start
    alone, never below the enumerated optimum, the same on a second run."""
    from chargeplan.solver.design_lns import WindowSearch

    p = line_instance(seed)
    best, _ = brute_force(p)
    lns = WindowSearch(sites=2, min_pairs=0) if windows else None
    lp, ix, highs, order = loaded(p)
    one = design_start(p, lp, ix, highs, order, threads=1, lns=lns)
    runs = []
    for _ in range(2):
        lp, ix, highs, order = loaded(p)
        runs.append(
            design_start(p, lp, ix, highs, order, threads=1, lns=lns, both_starts_max_pairs=10**6)
        )
    two, again = runs
    assert one is not None and two is not None and again is not None
    assert_feasible_plan(p, two.values)
    assert two.objective == pytest.approx(lp.objective @ two.values + lp.objective_offset, rel=1e-9)
    assert best * (1 - 1e-9) <= two.objective <= one.objective * (1 + 1e-9)
    assert two.starts in (1, 2) and one.starts == 1
    assert np.array_equal(two.values, again.values) and two.objective == again.objective


@pytest.mark.parametrize(
    ("seed", "penalty", "without"),
    [(11, None, 4492.15), (10, 18.0, 5360.35), (4, 18.0, 5649.95), (0, None, None)],
)
def test_averaged_roundings_reach_the_optimum_the_best_bound_misses(
    monkeypatch: pytest.MonkeyPatch, seed: int, penalty: float | None, without: float | None
) -> None:
    """Step 5 with the roundings of the averaged openings (``AVERAGED_ROUNDINGS``), no search
    and no windows after it: on three instances the plan is the enumerated optimum, where step
    5 without them stops at a dearer plan (``without``, measured); on seed 0 both are the same
    plan. Never dearer than without them, never below the optimum."""
    import chargeplan.solver.designstart as ds

    p = dataclasses.replace(line_instance(seed), pair_links="never")
    if penalty is not None:
        p = dataclasses.replace(p, unmet_penalty=np.array([penalty, penalty]))
    best, _ = brute_force(p)
    found = {}
    for roundings in (ds.AVERAGED_ROUNDINGS, ()):
        monkeypatch.setattr(ds, "AVERAGED_ROUNDINGS", roundings)
        lp, ix, highs, order = loaded(p)
        start = design_start(p, lp, ix, highs, order, threads=1, search_trials=0)
        assert start is not None
        assert_feasible_plan(p, start.values)
        found[bool(roundings)] = start.objective
    assert best * (1 - 1e-9) <= found[True] <= found[False] * (1 + 1e-9)
    if without is None:
        assert found[True] == pytest.approx(found[False], rel=1e-9)
    else:
        assert found[True] == pytest.approx(best, rel=1e-9)
        assert found[False] == pytest.approx(without, rel=1e-9)


def test_averaged_roundings_skip_models_above_their_pair_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``AVERAGED_MAX_PAIRS`` below the instance's pairs: step 5 is the one without the
    roundings (seed 11: 4,492.15, above the optimum 4,127.95 the roundings reach)."""
    import chargeplan.solver.designstart as ds

    p = dataclasses.replace(line_instance(11), pair_links="never")
    assert ds.AVERAGED_MAX_PAIRS >= len(p.pair_zone)
    monkeypatch.setattr(ds, "AVERAGED_MAX_PAIRS", len(p.pair_zone) - 1)
    lp, ix, highs, order = loaded(p)
    start = design_start(p, lp, ix, highs, order, threads=1, search_trials=0)
    assert start is not None
    assert start.objective == pytest.approx(4492.15, rel=1e-9)
