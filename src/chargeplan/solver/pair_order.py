"""The array steps of a Lagrangian relaxation's site pieces, each the same to the bit as the
plainer numpy it replaces, only faster.

Every subgradient step of :mod:`chargeplan.solver.design_bound` sorts the pairs of negative
reduced cost by (site and charger type, reduced cost per unit of demand), ties in their
given order (:func:`by_group_and_ratio`; the lexsort it replaces was about half of the step
on the national pieces), finds where each group's pairs start and end in that order
(:func:`group_bounds`), sums them up (:func:`running_sums`) and picks each site's cheapest
option (:func:`cheapest_per_site`). Measured in ``benchmarks/national_speed.py``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["by_group_and_ratio", "cheapest_per_site", "group_bounds", "running_sums"]


def by_group_and_ratio(group: np.ndarray, ratio: np.ndarray, n_groups: int) -> np.ndarray:
    """The positions that sort ``(group, ratio)`` pairs by group, then ratio, ties in their
    given order: the permutation of ``np.lexsort((ratio, group))``, to the last position.

    **One sort on one key.** With finite ratios in :math:`[r_0, r_1]` and the span
    :math:`S = 2 (r_1 - r_0) + 1`, the key :math:`k = r + g S` puts every group in a range of
    its own, in group order, and within a group rounding the sum can only merge distinct
    ratios, never swap them (adding the same number is monotone in floating point). So
    after one (unstable, fast) argsort on :math:`k`, only the runs of equal keys can be out of
    the lexsort's order, and they are sorted again exactly by (ratio, position); the runs are
    the ties and a few near-ties. Ratios that are not all finite (``inf``, NaN) take two
    stable sorts -- by ratio, then by group, as 16-bit integers where they fit, which numpy
    sorts by radix -- or, for more groups, the lexsort itself.

    Parameters
    ----------
    group
        ``(P,)`` integer group of each pair, ``0 <= group < n_groups``.
    ratio
        ``(P,)`` the sort key within a group (any floats; NaN last, as numpy sorts them).
    n_groups
        How many groups there may be.

    Returns
    -------
    numpy.ndarray
        ``(P,)`` positions, as ``np.lexsort((ratio, group))`` gives them.
    """
    if not ratio.size:
        return np.zeros(0, np.int64)
    low, high = float(ratio.min()), float(ratio.max())  # NaN if any is NaN
    span = 2.0 * (high - low) + 1.0
    if np.isfinite(low) and np.isfinite(high) and np.isfinite(span * (n_groups + 1)):
        key = ratio + group * span
        order = np.argsort(key)
        ordered = key[order]
        same = ordered[1:] == ordered[:-1]
        if same.any():  # the runs of equal keys, each sorted by (ratio, position)
            members = np.flatnonzero(np.r_[False, same] | np.r_[same, False])
            run = np.cumsum(np.r_[True, ~same])[members]
            at = order[members]
            order[members] = at[np.lexsort((at, ratio[at], run))]
        return order
    if n_groups > 1 << 16:
        return np.lexsort((ratio, group))
    by_ratio = np.argsort(ratio, kind="stable")
    return by_ratio[np.argsort(group[by_ratio].astype(np.uint16), kind="stable")]


def group_bounds(
    group: np.ndarray, n_groups: int, wanted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where each group of ``wanted`` starts and ends in the sorted ``group``: the
    ``np.searchsorted(group, wanted, side="left")`` and ``side="right"`` positions, read off
    the groups' counts in one pass instead of two binary searches per entry.

    ``group`` is sorted, with values in ``[0, n_groups)``; so are ``wanted``'s entries.
    """
    counts = np.bincount(group, minlength=n_groups)
    ends = np.cumsum(counts)
    return (ends - counts)[wanted], ends[wanted]


def running_sums(*columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each column's running sum with a 0 in front (``np.concatenate([[0.0],
    np.cumsum(c)])``, the same additions in the same order), written in place."""
    out = []
    for column in columns:
        total = np.zeros(column.size + 1)
        np.cumsum(column, out=total[1:])
        out.append(total)
    return tuple(out)


def cheapest_per_site(total: np.ndarray, site: np.ndarray) -> np.ndarray:
    """Each site's cheapest option, ties to the first: the options of
    ``np.lexsort((np.arange(n), total, site))`` that lead their site, for options sorted by
    site, found by a minimum per site (``np.minimum.reduceat``) instead of a sort.

    Parameters
    ----------
    total
        ``(O,)`` each option's cost.
    site
        ``(O,)`` each option's site, sorted.

    Returns
    -------
    numpy.ndarray
        The chosen options' positions, one per site present, in site order.
    """
    if not total.size:
        return np.zeros(0, np.int64)
    if np.isnan(total).any():  # the sort places NaN last: keep its exact order
        best = np.lexsort((np.arange(total.size), total, site))
        return best[np.r_[True, site[best][1:] != site[best][:-1]]]
    starts = np.flatnonzero(np.r_[True, site[1:] != site[:-1]])
    lowest = np.minimum.reduceat(total, starts)
    counts = np.diff(np.r_[starts, total.size])
    at_lowest = np.flatnonzero(total == np.repeat(lowest, counts))
    return at_lowest[np.r_[True, site[at_lowest][1:] != site[at_lowest][:-1]]]
