"""Exact windows after the local search (``chargeplan.solver.design_lns``).

The instances are ``tests/design_instances.py``'s line (4 zones, 3 sites, 3 designs; the brute
force tries all 4^3 = 64 choices, each an assignment LP by :func:`scipy.optimize.linprog`). On
the seeds of :data:`MISSED` the start and the local search stop above the optimum (both costs
measured, the optimum recomputed by the brute force); the windows must reach it, never be
dearer than the searched plan, and give the same plan in every run and with any thread count.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import chargeplan
from chargeplan.model.formulation import build_milp
from chargeplan.model.problem import FacilityProblem
from chargeplan.solver.design_lns import (
    LNS_LARGE_PAIRS,
    LNS_LARGE_SITES,
    LNS_MIN_GAP,
    LNS_MIN_PAIRS,
    LNS_MORE_GAP,
    LNS_NODES,
    LNS_PASSES,
    LNS_REPLACES_SEARCH,
    LNS_SITES,
    WindowSearch,
    windows,
)
from chargeplan.solver.designstart import DesignStart, design_start
from chargeplan.solver.direct import load_arrays
from chargeplan.solver.options import SolverOptions
from chargeplan.workflows.options import solver_options

from .conftest import REPO
from .design_instances import EXACT, assert_feasible_plan, brute_force, line_instance, plan_cost
from .piece_instances import design_row

#: Seeds whose searched plan is dearer than the optimum: (searched, optimum), measured.
MISSED = {
    6: (4_807.90, 4_739.40),
    11: (4_492.15, 4_127.95),
    13: (6_911.50, 6_663.05),
    17: (4_948.90, 4_870.80),
    46: (5_080.10, 5_013.40),
    54: (4_612.30, 4_539.90),
}


#: the windows start from the plans :data:`MISSED` was measured on
pytestmark = pytest.mark.usefixtures("step_five_as_measured")


def started(
    p: FacilityProblem,
    threads: int | None = 1,
    sites: int = 3,
    nodes: int = 50,
    passes: int = 2,
    replaces_search: bool = False,
) -> DesignStart:
    """The design start with the local search (none with ``replaces_search``) and ``passes``
    passes of windows of ``sites`` sites (on every piece, however small, and every pass
    however near the plan is to its bound)."""
    lp, ix = build_milp(p)
    highs, order = load_arrays(lp)
    lns = WindowSearch(sites, nodes, 0, passes, replaces_search, more_gap=0.0)
    begun = design_start(p, lp, ix, highs, order, threads=threads, lns=lns)
    assert begun is not None
    return begun


def side_by_side(first: int, second: int) -> FacilityProblem:
    """Two line instances (seeds ``first``, ``second``) as one piece of two reach components:
    zones a-d and sites s1-s3 of the first, zones e-h and sites s4-s6 of the second."""
    a, b = line_instance(first), line_instance(second)
    return design_row(
        "linear",
        2,
        zone_ids=np.array(list("abcdefgh"), object),
        site_ids=np.array([f"s{j}" for j in range(1, 7)], object),
        demand=np.vstack([a.demand, b.demand]),
        pair_zone=np.concatenate([a.pair_zone, b.pair_zone + 4]),
        pair_site=np.concatenate([a.pair_site, b.pair_site + 3]),
        pair_cost=np.vstack([a.pair_cost, b.pair_cost]),
        fixed_cost=np.concatenate([a.fixed_cost, b.fixed_cost]),
        site_capacity=np.full(6, np.inf),
        charger_cost=np.full((6, 2), 100.0),
        max_chargers=np.full((6, 2), 20.0),
    )


@pytest.mark.parametrize("seed", sorted(MISSED))
def test_windows_reach_the_brute_force_optimum(seed: int) -> None:
    """A window of the piece's 3 sites is the whole MIP: from the searched plan (above the
    optimum on these seeds) it reaches the brute-force optimum, a feasible plan priced as
    the brute force prices it."""
    p = line_instance(seed)
    best, _ = brute_force(p)
    searched_cost, optimum = MISSED[seed]
    windowed = started(p)
    assert best == pytest.approx(optimum, abs=0.01)
    assert windowed.unwindowed == pytest.approx(searched_cost, abs=0.01)
    assert windowed.unwindowed > best + 1.0  # the start and the search alone are not optimal
    assert windowed.objective == pytest.approx(best, rel=1e-9)
    assert windowed.windows == 2 and windowed.windows_kept == 1  # one window a pass
    assert_feasible_plan(p, windowed.values)
    assert plan_cost(p, windowed.values) == pytest.approx(windowed.objective, rel=1e-7)


@pytest.mark.parametrize("seed", sorted(MISSED))
def test_windows_instead_of_the_search_reach_the_brute_force_optimum(seed: int) -> None:
    """``replaces_search``: no local search (no move, no LP of it), the windows start from the
    rounded or Lagrangian plan and, a window being the whole MIP, reach the optimum."""
    p = line_instance(seed)
    best, _ = brute_force(p)
    windowed = started(p, replaces_search=True)
    assert np.isnan(windowed.unsearched) and windowed.moves == windowed.trials == 0
    assert windowed.unwindowed >= best - 0.01
    assert windowed.objective == pytest.approx(best, rel=1e-9)
    assert_feasible_plan(p, windowed.values)
    assert plan_cost(p, windowed.values) == pytest.approx(windowed.objective, rel=1e-7)


@pytest.mark.parametrize("seed", range(12))
def test_windows_instead_of_the_search_are_never_dearer_than_the_start(seed: int) -> None:
    """Windows of 2 sites, one node, no search: feasible, priced as the brute force prices it,
    between the optimum and the plan before the windows; the same plan in a second run."""
    p = line_instance(seed)
    best, _ = brute_force(p)
    a = started(p, sites=2, nodes=1, replaces_search=True)
    b = started(p, sites=2, nodes=1, replaces_search=True)
    assert best * (1 - 1e-9) <= a.objective <= a.unwindowed * (1 + 1e-12)
    assert_feasible_plan(p, a.values)
    assert plan_cost(p, a.values) == pytest.approx(a.objective, rel=1e-7)
    assert np.array_equal(a.values, b.values) and a.objective == b.objective


def test_windows_leave_a_plan_within_the_least_gap() -> None:
    """``WindowSearch.applies``: a plan within ``LNS_MIN_GAP`` (0.1 %) of its bound gets no
    windows, one above it does; too few pairs or no sites never."""
    p = line_instance(11)  # 10 pairs
    lns = WindowSearch(3, 1, 0)
    assert lns.applies(p) and lns.applies(p, 2 * LNS_MIN_GAP)
    assert not lns.applies(p, LNS_MIN_GAP) and not lns.applies(p, 0.0)
    assert not WindowSearch(3, 1, 11).applies(p) and not WindowSearch(0, 1, 0).applies(p)


def test_windows_smaller_than_the_piece_reach_the_optimum() -> None:
    """Seed 13: windows of 2 of the 3 sites, the third kept with its load reserved, reach the
    optimum in two passes (6,911.50 -> 6,663.05; one pass, {s1, s2} then {s3}, keeps nothing)."""
    p = line_instance(13)
    best, _ = brute_force(p)
    one, two = started(p, sites=2, passes=1), started(p, sites=2)
    assert one.unwindowed == pytest.approx(MISSED[13][0], abs=0.01)
    assert one.objective == one.unwindowed and one.windows == 2 and one.windows_kept == 0
    assert two.objective == pytest.approx(best, rel=1e-9)
    assert two.windows == 4 and two.windows_kept == 1
    assert_feasible_plan(p, two.values)


def test_windows_of_a_piece_of_two_components() -> None:
    """Seeds 11 and 13 side by side: the optimum is the sum of theirs (the components share
    no pair), 4,127.95 + 6,663.05 = 10,791.00; windows of 3 sites are the components, each
    solved exactly, and the plan reaches that sum from the searched plan above it."""
    p = side_by_side(11, 13)
    optimum = brute_force(line_instance(11))[0] + brute_force(line_instance(13))[0]
    assert optimum == pytest.approx(10_791.00, abs=0.01)
    found = windows(p, build_milp(p)[1], 3, 1)
    assert [w.tolist() for w in found] == [[0, 1, 2], [3, 4, 5]]
    windowed = started(p, passes=1)
    assert windowed.windows == 2
    assert windowed.unwindowed > optimum + 1.0
    assert windowed.objective == pytest.approx(optimum, rel=1e-9)
    assert_feasible_plan(p, windowed.values)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("sites", [1, 2])
def test_windows_are_never_dearer_than_the_search(seed: int, sites: int) -> None:
    """Small windows and one node: the plan is feasible, priced as the brute force prices it,
    between the optimum and the searched plan."""
    p = line_instance(seed)
    best, _ = brute_force(p)
    windowed = started(p, sites=sites, nodes=1)
    assert best * (1 - 1e-9) <= windowed.objective <= windowed.unwindowed * (1 + 1e-12)
    assert_feasible_plan(p, windowed.values)
    assert plan_cost(p, windowed.values) == pytest.approx(windowed.objective, rel=1e-7)


@pytest.mark.parametrize("threads", [2, None, 1])
def test_windows_give_the_same_plan_whatever_the_thread_count(threads: int | None) -> None:
    """HiGHS's scheduler is global to the process: the windows' MIPs must not ask for another
    thread count than the piece's HiGHS, and the plan must not depend on it."""
    p = side_by_side(11, 13)
    reference = started(p, threads=1, sites=2)
    windowed = started(p, threads=threads, sites=2)
    assert windowed.windows_kept >= 1
    assert np.array_equal(windowed.values, reference.values)
    assert windowed.objective == reference.objective


def test_windows_are_deterministic() -> None:
    p = side_by_side(6, 17)
    a, b = started(p, sites=2, nodes=5), started(p, sites=2, nodes=5)
    assert np.array_equal(a.values, b.values)
    assert (a.objective, a.windows, a.windows_kept) == (b.objective, b.windows, b.windows_kept)


def test_windows_of_two_passes() -> None:
    """Two lines side by side, windows of 2 sites. On a line, s1 and s2 share 3 zones (a, b,
    c), s1 and s3 share 2 (b, c), s2 and s3 share 3 (b, c, d). Pass 0, seeds by position:
    s1 grows to {s1, s2}, then {s3}, {s4, s5}, {s6}; pass 1, seeds in reverse: {s5, s6}, {s4},
    {s2, s3}, {s1}: each pass cuts every site into disjoint windows, the second across the
    first's borders."""
    p = side_by_side(0, 1)
    found = windows(p, build_milp(p)[1], 2, 2)
    expected = [[0, 1], [2], [3, 4], [5], [4, 5], [3], [1, 2], [0]]
    assert [w.tolist() for w in found] == expected


def test_solve_takes_the_windows_on_large_enough_pieces() -> None:
    """``design_lns_min_pairs``: the line (10 pairs) gets the windows at 0 and reaches the
    optimum of seed 11 (4,127.95; its root node alone does not, 50 nodes do); at the default
    1,500 it keeps the searched plan (4,492.15). The optimum stays more than 2 % above this
    piece's Lagrangian bound, so the three default passes all run (one window each) and only
    the first one's is kept."""
    p = line_instance(11)
    options = dataclasses.replace(
        EXACT, design_max_nodes=0, design_lns_sites=3, design_lns_nodes=50
    )
    on = chargeplan.solve(p, dataclasses.replace(options, design_lns_min_pairs=0))
    off = chargeplan.solve(p, options)
    assert on.objective == pytest.approx(MISSED[11][1], abs=0.01)
    assert off.objective == pytest.approx(MISSED[11][0], abs=0.01)
    assert "exact windows: 1 of 3 kept" in on.formulation
    assert "exact windows" not in off.formulation
    shares = np.zeros_like(p.demand)
    np.add.at(shares, p.pair_zone, on.served)
    assert np.allclose(shares + on.unmet, 1.0)


@pytest.mark.parametrize(
    ("large_sites", "large_pairs", "objective", "windows"),
    [(3, 10, 4_127.95, "1 of 1"), (3, 11, 4_492.15, "0 of 3"), (0, 10, 4_492.15, "0 of 3")],
)
def test_large_pieces_take_their_own_window_size(
    large_sites: int, large_pairs: int, objective: float, windows: str
) -> None:
    """``design_lns_large_sites``/``_pairs``: the line of seed 11 has 10 pairs and 3 sites.
    Windows of 1 site keep its searched plan (4,492.15: 3 windows, none kept); one window of
    its 3 sites, 50 nodes, reaches its optimum (4,127.95). The line takes the large size when
    its 10 pairs reach ``large_pairs`` (10, not 11), and never when ``large_sites`` is 0. One
    pass, so the window counts are one pass's."""
    p = line_instance(11)
    options = dataclasses.replace(
        EXACT,
        design_max_nodes=0,
        design_lns_sites=1,
        design_lns_large_sites=large_sites,
        design_lns_large_pairs=large_pairs,
        design_lns_nodes=50,
        design_lns_min_pairs=0,
        design_lns_passes=1,
    )
    found = chargeplan.solve(p, options)
    assert found.objective == pytest.approx(objective, abs=0.01)
    assert f"exact windows: {windows} kept" in found.formulation
    search = WindowSearch.from_options(options)
    assert search.sites_for(p) == (large_sites if large_pairs <= 10 and large_sites else 1)


def test_passes_reach_the_solver() -> None:
    """``design_lns_passes``: the line of seed 11 cut into windows of 1 site, once (3 windows)
    and twice (6); none is kept either way, so the plan stays the searched one."""
    p = line_instance(11)
    options = dataclasses.replace(
        EXACT, design_max_nodes=0, design_lns_sites=1, design_lns_min_pairs=0, design_lns_more_gap=0
    )
    for passes, tried in ((1, 3), (2, 6)):
        found = chargeplan.solve(p, dataclasses.replace(options, design_lns_passes=passes))
        assert f"exact windows: 0 of {tried} kept" in found.formulation
        assert found.objective == pytest.approx(MISSED[11][0], abs=0.01)


def test_a_second_pass_runs_only_while_the_plan_is_far_from_its_bound() -> None:
    """``design_lns_more_gap``: the second pass's 3 windows run where the plan after the first
    pass is more than that (relative) above its bound, and not where it is within it; the
    plan's gap after one pass is the threshold's pivot, so both sides are tried."""
    p = line_instance(11)
    options = dataclasses.replace(
        EXACT, design_max_nodes=0, design_lns_sites=1, design_lns_min_pairs=0, design_lns_passes=2
    )
    once = chargeplan.solve(p, dataclasses.replace(options, design_lns_passes=1))
    gap = (once.objective - once.bound) / once.objective
    assert 0.01 < gap < 0.5  # a plan the bound does not prove: a second pass may still pay
    for more_gap, tried in ((0.0, 6), (gap * 0.99, 6), (gap * 1.01, 3), (1.0, 3)):
        found = chargeplan.solve(p, dataclasses.replace(options, design_lns_more_gap=more_gap))
        assert f"exact windows: 0 of {tried} kept" in found.formulation
        assert found.objective == pytest.approx(once.objective, abs=1e-6)


def test_solver_options_repeat_the_module_defaults() -> None:
    """``SolverOptions`` (config, which cannot import the solver) repeats the defaults."""
    assert WindowSearch.from_options(SolverOptions()) == WindowSearch()
    assert (LNS_SITES, LNS_NODES, LNS_MIN_PAIRS) == (6, 1, 1_500)
    assert (LNS_LARGE_SITES, LNS_LARGE_PAIRS) == (4, 10_000)
    assert LNS_REPLACES_SEARCH and LNS_MIN_GAP == 1e-3
    assert (LNS_PASSES, LNS_MORE_GAP) == (3, 0.02)


def test_a_scenario_sets_the_passes() -> None:
    """``[solver] design_lns_passes`` and ``design_lns_more_gap`` are scenario keys: they reach
    the windows of every piece, and a negative count is refused before any solve, naming the
    key."""
    scenario = chargeplan.load_scenario(REPO / "models" / "china-2030-stations.toml")
    assert (scenario.solver.design_lns_passes, scenario.solver.design_lns_more_gap) == (2, 0.08)
    faster = scenario.with_values({"solver.design_lns_passes": 1, "solver.design_lns_more_gap": 0})
    search = WindowSearch.from_options(solver_options(faster))
    assert (search.passes, search.more_gap) == (1, 0.0)
    with pytest.raises(chargeplan.ScenarioError, match=r"solver\.design_lns_passes"):
        scenario.with_values({"solver.design_lns_passes": -1})


def test_a_watch_sees_every_window_and_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """``design_lns(watch=...)``, the hook of ``benchmarks/window_passes.py``: called once per
    window, in the order :func:`windows` cuts them, with the pass and whether the window's
    plan was kept; the plan is the one without a watch, to the bit. On seed 6 the one window
    (the line's 3 sites) reaches the optimum in pass 0 and keeps nothing in pass 1."""
    import functools

    import chargeplan.solver.design_improve as improve

    p = line_instance(6)
    unwatched = started(p)
    seen: list[tuple[int, list[int], bool]] = []
    watched_lns = functools.partial(
        improve.design_lns,
        watch=lambda done, members, kept, local: seen.append((done, members.tolist(), kept)),
    )
    monkeypatch.setattr(improve, "design_lns", watched_lns)
    watched = started(p)
    assert np.array_equal(watched.values, unwatched.values)
    assert watched.objective == unwatched.objective
    assert [w.tolist() for w in windows(p, build_milp(p)[1], 3, 2)] == [[0, 1, 2]] * 2
    assert seen == [(0, [0, 1, 2], True), (1, [0, 1, 2], False)]
    assert (watched.windows, watched.windows_kept) == (2, 1)
