"""MCLP at scale (:mod:`chargeplan.solver.covering`, issue 13 item 3), against brute force.

- the exact reductions the MCLP path runs first (:func:`~chargeplan.solver.reduce.reduce_problem`:
  zones with equal covering sets merged, dominated sites dropped) keep the optimum of every
  site limit p: the best cover over all p-subsets, enumerated here, is the same before and after,
  and the reduced optimum expands to a plan of the original that covers that much;
- :func:`~chargeplan.solver.covering.kick_search` never ends below its start's local optimum,
  keeps the number of open sites and the fixed sites, and is deterministic;
- the options in :data:`~chargeplan.solver.covering.HIGHS_OPTIONS` are HiGHS options (a
  misspelt name would be ignored with a warning, measuring nothing);
- the whole path (``chargeplan.solve``) covers the brute-force optimum on random instances with
  many equal covering sets (zones on a coarse lattice), and returns the same plan twice;
- with the defaults (the interior point root, and with no thread count in the options
  :data:`~chargeplan.solver.covering.THREADS` threads) the path proves the brute-force optimum
  on uniform random instances, one of them with a fractional LP relaxation, returns the same
  plan twice and the same plan as asking for that thread count; a thread count given in the
  options still proves the same optimum.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import chargeplan
from chargeplan.solver.covering import (
    HIGHS_OPTIONS,
    THREADS,
    coverage,
    kick_search,
    mclp_applies,
    reach_matrix,
    swap_search,
)
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.reduce import reduce_problem

from .covering_instances import brute_best, mclp_problem, random_mclp

EXACT = SolverOptions(mip_rel_gap=0.0, time_limit_s=120)


def lattice_mclp(seed: int, zones: int = 40, sites: int = 10, radius: float = 3.0):
    """Zones on the points of a 5 x 5 lattice (so many share a covering set), sites uniform on
    the 10 x 10 square, a few sites repeated (equal sets: one dominates the other), weights
    1..9, reach: distance <= radius."""
    rng = np.random.default_rng(seed)
    zone_xy = rng.integers(0, 5, (zones, 2)) * 2.5
    site_xy = rng.uniform(0, 10, (sites, 2))
    site_xy[-2:] = site_xy[:2]  # two duplicated sites
    weight = rng.integers(1, 10, zones).astype(float)
    reach = np.linalg.norm(zone_xy[:, None] - site_xy[None], axis=2) <= radius
    return reach, weight


@pytest.mark.parametrize("seed", range(4))
def test_reductions_keep_the_optimum_of_every_site_limit(seed):
    reach, weight = lattice_mclp(seed)
    for p in (1, 2, 3, 4):
        reduction = reduce_problem(mclp_problem(reach, weight, p))
        assert reduction.merged_zones > 0 and reduction.dropped_sites >= 1  # both apply
        small = reach_matrix(reduction.problem).toarray() > 0
        small_weight = reduction.problem.demand.sum(axis=1)
        assert small_weight.sum() == weight.sum()  # merged zones sum their weights
        best = brute_best(reach, weight, p)
        reduced_best = brute_best(small, small_weight, min(p, small.shape[1]))
        assert reduced_best == best
        # every reduced plan is a plan of the original covering exactly as much
        for chosen in itertools.combinations(range(small.shape[1]), min(p, small.shape[1])):
            plan = np.zeros(reach.shape[1], bool)
            plan[reduction.kept_sites[list(chosen)]] = True
            assert (
                weight[reach[:, plan].any(axis=1)].sum()
                == small_weight[small[:, list(chosen)].any(axis=1)].sum()
            )


def test_a_dominated_site_is_never_needed_under_a_site_limit():
    """Site 1 reaches zones {0, 1}, a subset of site 0's {0, 1, 2}: exchanging 1 for 0 keeps
    the site count and covers at least as much, so for every p some optimum leaves 1 closed
    and dropping it keeps the optimum."""
    reach = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [1, 0, 0, 1], [0, 0, 1, 1], [0, 0, 1, 0]], bool)
    weight = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    for p in (1, 2, 3):
        reduction = reduce_problem(mclp_problem(reach, weight, p))
        assert reduction.kept_sites.tolist() == [0, 2, 3]
        without = np.delete(reach, 1, axis=1)
        assert brute_best(without, weight, p) == brute_best(reach, weight, p)


@pytest.mark.parametrize("seed", range(5))
def test_kick_search_is_deterministic_and_never_worse_than_exchanges(seed):
    reach, weight = lattice_mclp(seed, zones=60, sites=16, radius=2.6)
    a = reach_matrix(mclp_problem(reach, weight, 4))
    start = np.zeros(16, bool)
    start[:4] = True
    local = swap_search(a, weight, start)
    got = kick_search(a, weight, start, kicks=40, patience=10)
    assert got.sum() == 4
    assert coverage(a, weight, got) >= coverage(a, weight, local)
    assert coverage(a, weight, got) <= brute_best(reach, weight, 4)
    assert kick_search(a, weight, start, kicks=40, patience=10).tolist() == got.tolist()


def test_kick_search_keeps_fixed_sites():
    reach, weight = lattice_mclp(1, zones=60, sites=16, radius=2.6)
    a = reach_matrix(mclp_problem(reach, weight, 4))
    start = np.zeros(16, bool)
    start[[3, 5, 7, 9]] = True
    fixed = np.zeros(16, bool)
    fixed[[3, 4]] = True  # 3 stays open, 4 stays closed
    got = kick_search(a, weight, start, fixed, kicks=40, patience=40)
    assert got[3] and not got[4] and got.sum() == 4


def test_highs_options_are_highs_options():
    import highspy

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    for name, value in HIGHS_OPTIONS.items():
        assert highs.setOptionValue(name, value) == highspy.HighsStatus.kOk, name
        assert highs.getOptionValue(name)[1] == value


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("p", [2, 3, 5])
def test_the_mclp_path_covers_the_brute_force_optimum(seed, p):
    reach, weight = lattice_mclp(seed, zones=50, sites=12, radius=3.0)
    problem = mclp_problem(reach, weight, p)
    assert mclp_applies(problem, EXACT)
    got = chargeplan.solve(problem, EXACT)
    assert got.status == "optimal" and "MCLP" in got.formulation
    assert got.open_site.sum() <= p
    best = brute_best(reach, weight, p)
    assert weight[reach[:, got.open_site].any(axis=1)].sum() == best
    assert got.objective == pytest.approx(weight.sum() - best)
    again = chargeplan.solve(problem, EXACT)
    assert again.open_site.tolist() == got.open_site.tolist()  # the same plan twice


def lp_bound(reach: np.ndarray, weight: np.ndarray, p: int) -> float:
    """The LP relaxation's most covered weight (scipy's HiGHS LP on the textbook model)."""
    from scipy.optimize import linprog

    zones, sites = reach.shape
    rows = np.c_[-reach.astype(float), np.eye(zones)]  # z_i - sum_{j in N(i)} y_j <= 0
    rows = np.r_[rows, np.r_[np.ones(sites), np.zeros(zones)][None]]  # sum_j y_j <= p
    result = linprog(
        np.r_[np.zeros(sites), -weight],
        A_ub=rows,
        b_ub=np.r_[np.zeros(zones), p],
        bounds=[(0, 1)] * (sites + zones),
    )
    return float(-result.fun)


@pytest.mark.parametrize("seed", range(3))
def test_the_default_threads_prove_the_brute_force_optimum(seed):
    """Uniform points, 4 of 14 sites: 1,001 subsets enumerated; with seed 2 the LP relaxation
    covers 105 and the optimum 103, so HiGHS must branch or cut."""
    reach, weight = random_mclp(seed, zones=40, sites=14, radius=2.2)
    problem = mclp_problem(reach, weight, 4)
    best = brute_best(reach, weight, 4)
    if seed == 2:
        assert (lp_bound(reach, weight, 4), best) == (pytest.approx(105.0), 103.0)
    default = chargeplan.solve(problem, EXACT)
    assert default.status == "optimal" and "MCLP" in default.formulation
    assert weight[reach[:, default.open_site].any(axis=1)].sum() == best
    assert default.objective == pytest.approx(weight.sum() - best)
    again = chargeplan.solve(problem, EXACT)
    assert again.open_site.tolist() == default.open_site.tolist()  # deterministic
    named = chargeplan.solve(problem, SolverOptions(mip_rel_gap=0.0, threads=THREADS))
    assert named.open_site.tolist() == default.open_site.tolist()
    two = chargeplan.solve(problem, SolverOptions(mip_rel_gap=0.0, threads=2))
    assert two.status == "optimal"
    assert weight[reach[:, two.open_site].any(axis=1)].sum() == best
