"""The Lagrangian step's pair order (``chargeplan.solver.pair_order``) is the lexsort's, to the
last position: ties (equal ratios in a group) stay in their given order, so the cumulative
sums of the knapsacks, and the bound, are the same to the bit."""

from __future__ import annotations

import numpy as np
import pytest

from chargeplan.solver.pair_order import (
    by_group_and_ratio,
    cheapest_per_site,
    group_bounds,
    running_sums,
)


@pytest.mark.parametrize("n_groups", [1, 7, 3_616, 1 << 16, (1 << 16) + 5])
@pytest.mark.parametrize("finite", [True, False])
def test_the_order_is_the_lexsorts_with_ties_and_infinities(n_groups: int, finite: bool) -> None:
    rng = np.random.default_rng(n_groups)
    size = 5_000
    group = rng.integers(0, n_groups, size)
    ratio = -rng.integers(1, 40, size).astype(float) / 8.0  # many exact ties within a group
    if not finite:
        ratio[rng.integers(0, size, 50)] = -np.inf  # a pair of zero demand and negative cost
        ratio[rng.integers(0, size, 5)] = np.nan
    order = by_group_and_ratio(group, ratio, n_groups)
    assert np.array_equal(order, np.lexsort((ratio, group)))


def test_ratios_that_merge_in_the_key_keep_their_order() -> None:
    """Ratios one unit in the last place apart, in a group far from 0 whose offset swallows
    the difference: equal keys, sorted again by ratio, then position."""
    near = np.nextafter(-1.0, 0.0)  # just above -1
    ratio = np.array([near, -1.0, near, -1.0, -2.0, -1.0])
    group = np.array([9_000, 9_000, 9_000, 9_000, 0, 9_000])
    order = by_group_and_ratio(group, ratio, 10_000)
    assert order.tolist() == [4, 1, 3, 5, 0, 2]
    assert np.array_equal(order, np.lexsort((ratio, group)))


def test_a_small_case_by_hand() -> None:
    group = np.array([1, 0, 1, 0, 1])
    ratio = np.array([-2.0, -1.0, -3.0, -1.0, -2.0])
    # group 0: positions 1 and 3 tie at -1 (given order); group 1: -3 (2), then -2 (0, 4)
    assert by_group_and_ratio(group, ratio, 2).tolist() == [1, 3, 2, 0, 4]
    assert by_group_and_ratio(group[:0], ratio[:0], 2).tolist() == []


def test_group_bounds_are_the_binary_searches() -> None:
    rng = np.random.default_rng(3)
    group = np.sort(rng.integers(0, 40, 2_000))
    wanted = rng.integers(0, 50, (300, 2))  # groups 40-49 hold no pair
    first, last = group_bounds(group, 50, wanted)
    assert np.array_equal(first, np.searchsorted(group, wanted, side="left"))
    assert np.array_equal(last, np.searchsorted(group, wanted, side="right"))
    first, last = group_bounds(group[:0], 50, wanted)
    assert not first.any() and not last.any()


def test_running_sums_are_the_cumulative_sums_to_the_bit() -> None:
    values = np.random.default_rng(4).normal(size=10_001) * 1e6
    (sums,) = running_sums(values)
    assert np.array_equal(sums, np.concatenate([[0.0], np.cumsum(values)]))


@pytest.mark.parametrize("nan", [False, True])
def test_the_cheapest_option_of_each_site_ties_to_the_first(nan: bool) -> None:
    rng = np.random.default_rng(5)
    site = np.sort(rng.integers(0, 300, 2_000))
    total = rng.integers(0, 6, site.size).astype(float)  # many ties
    total[rng.integers(0, site.size, 30)] = -np.inf
    if nan:
        total[rng.integers(0, site.size, 30)] = np.nan
    best = np.lexsort((np.arange(total.size), total, site))
    expected = best[np.r_[True, site[best][1:] != site[best][:-1]]]
    assert np.array_equal(cheapest_per_site(total, site), expected)
    # by hand: site 0 options cost 3, 1, 1 -> the second; site 2 costs 5 -> its only one
    assert cheapest_per_site(np.array([3.0, 1.0, 1.0, 5.0]), np.array([0, 0, 0, 2])).tolist() == [
        1,
        3,
    ]
    assert cheapest_per_site(total[:0], site[:0]).tolist() == []
