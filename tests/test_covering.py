"""Maximal covering with a site limit (:mod:`chargeplan.solver.covering`), against brute force.

- ``chargeplan.solve`` on small random MCLPs (12 zones, 9 sites, p = 1..4) routes them to
  :func:`~chargeplan.solver.covering.solve_mclp` and covers exactly the best weight over every
  set of at most p sites, enumerated here;
- the swap search ends in a plan no one-for-one exchange improves (every exchange tried here)
  and never covers less than its start; required and excluded sites keep their state;
- what :func:`~chargeplan.solver.covering.mclp_applies` leaves to the general path.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

import chargeplan
from chargeplan.solver.covering import coverage, mclp_applies, reach_matrix, swap_search
from chargeplan.solver.options import SolverOptions

from .covering_instances import brute_best, mclp_problem, random_mclp

EXACT = SolverOptions(mip_rel_gap=0.0, time_limit_s=120)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("p", [1, 2, 3, 4])
def test_mclp_optimum_equals_brute_force_over_all_p_subsets(seed, p):
    reach, weight = random_mclp(seed)
    problem = mclp_problem(reach, weight, p)
    assert mclp_applies(problem, EXACT)
    got = chargeplan.solve(problem, EXACT)
    best = brute_best(reach, weight, p)
    assert got.open_site.sum() <= p
    assert weight[reach[:, got.open_site].any(axis=1)].sum() == best
    assert got.objective == pytest.approx(weight.sum() - best)  # the unmet weight
    assert got.status == "optimal"
    assert "MCLP" in got.formulation  # solved by chargeplan.solver.covering


@pytest.mark.parametrize("seed", range(5))
def test_swap_search_ends_where_no_exchange_improves(seed):
    """Every (open j, closed k) exchange of the result, tried here, covers no more."""
    reach, weight = random_mclp(seed, zones=30, sites=12, radius=2.5)
    a = reach_matrix(mclp_problem(reach, weight, 4))
    start = np.zeros(12, bool)
    start[:4] = True  # a poor start: the first four sites
    got = swap_search(a, weight, start)
    value = coverage(a, weight, got)
    assert got.sum() == 4
    assert value >= coverage(a, weight, start)
    assert value == weight[reach[:, got].any(axis=1)].sum()
    for j in np.flatnonzero(got):
        for k in np.flatnonzero(~got):
            other = got.copy()
            other[j], other[k] = False, True
            assert weight[reach[:, other].any(axis=1)].sum() <= value


def test_swap_search_keeps_fixed_sites():
    """Zone weights 5, 1, 1, 3, each reached by one site: 1, 2, 0, 3. From sites {0, 2} with
    site 0 fixed open and site 1 fixed closed, the one exchange that pays is 2 -> 3 (+3 - 1);
    2 -> 1 would pay more (+5 - 1) but site 1 is fixed."""
    reach = np.zeros((4, 4), bool)
    reach[[0, 1, 2, 3], [1, 2, 0, 3]] = True
    weight = np.array([5.0, 1.0, 1.0, 3.0])
    a = reach_matrix(mclp_problem(reach, weight, 2))
    fixed = np.array([True, True, False, False])
    got = swap_search(a, weight, np.array([True, False, True, False]), fixed=fixed)
    assert got.tolist() == [True, False, False, True]
    assert swap_search(a, weight, got).tolist() == [False, True, False, True]  # unfixed: 0 -> 1


def test_required_site_stays_open_and_the_rest_is_optimal():
    """With site 0 required, the best plan of p sites containing it (enumerated)."""
    reach, weight = random_mclp(7)
    required = np.arange(9) == 0
    problem = dataclasses.replace(mclp_problem(reach, weight, 3), required=required)
    assert mclp_applies(problem, EXACT)
    got = chargeplan.solve(problem, EXACT)
    best = max(
        weight[reach[:, [0, *s]].any(axis=1)].sum() for s in itertools.combinations(range(1, 9), 2)
    )
    assert got.open_site[0]
    assert weight[reach[:, got.open_site].any(axis=1)].sum() == best


def test_mclp_applies_only_to_plain_mclp():
    """A budget, site costs (a second, cost stage) or no site limit: the general path; HiGHS's
    log on standard error (``-v``) is streamed on this path and does not leave it."""
    reach, weight = random_mclp(0)
    plain = mclp_problem(reach, weight, 2)
    assert mclp_applies(plain, EXACT)
    assert not mclp_applies(mclp_problem(reach, weight, 2, fixed_cost=1.0), EXACT)
    assert not mclp_applies(dataclasses.replace(plain, max_sites=None, budget=3.0), EXACT)
    assert mclp_applies(plain, SolverOptions(log_to_stderr=True))
