r"""Candidate stations added where an urban cell has none within reach: the catchment rule.

The demand rule (:func:`~chargeplan.inputs.cellsites.station_sites_from_cells`) places an urban
candidate only where an H3 cluster's own demand fills a station, so urban cells in clusters
below that threshold can be left with no candidate within the urban reach :math:`r` (3 km).
:func:`catchment_picks` adds candidates for them, in rounds, judging a station by the demand
within its *catchment* (the disc of radius :math:`r` around it) rather than within its cluster.

Notation: :math:`U` the urban cells with people and no candidate within :math:`r` (the
*uncovered* cells; those still without one at the start of a round are *open*), :math:`d_c` a
cell's public demand (kWh a day), :math:`N(c) = \{c' : \lVert x_c - x_{c'} \rVert \le r\}` the
cells of any kind within reach of cell :math:`c` (itself included), :math:`T` the threshold
(``min_daily_kwh``: by default the smallest station design at the national pile average, the
demand rule's own threshold).

1. A station at an uncovered cell :math:`c` could serve the demand of its catchment,
   :math:`w_c = \sum_{c' \in N(c)} d_{c'}` (every cell within reach, covered or not, as the
   demand rule pools a whole cluster). Only cells with :math:`w_c \ge T` may host one.
2. Each round ranks the open hosts by the open demand a candidate there brings into reach,
   :math:`v_c = \sum_{c' \in N(c),\ c' \text{ open}} d_{c'}`, decreasing, ties by the order key
   (the H3 index). Each host ranked better than every other open host within :math:`2r`
   becomes a candidate. Two picks of a round are more than :math:`2r` apart, so their
   catchments are disjoint: each brings in exactly its :math:`v_c`, no demand is counted for
   two picks, and the round's best host (the one a one-at-a-time greedy rule would pick) is
   always among them.
3. The cells within :math:`r` of a pick are no longer open; repeat until no open cell is a
   host.

The open cells left at the end are **left out**: each has :math:`w_c < T`, so even all the
demand within its reach would not keep a station of the smallest design at the pile average.
Each round is vectorised (one KD-tree of the uncovered cells' centres, built once; sums and
minima over its pair list by ``numpy.bincount`` and ``numpy.minimum.at``); the loop runs over
rounds, not over cells or pairs. The result depends only on the inputs (no randomness, no
clock).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CatchmentPicks", "catchment_picks"]


@dataclass(frozen=True)
class CatchmentPicks:
    """What :func:`catchment_picks` adds and leaves out (positions in the cell arrays).

    Attributes
    ----------
    added
        Cells that become candidates, in the order they were picked (round by round, best
        first).
    catchment_kwh
        Each added candidate's catchment demand :math:`w_c`, kWh a day.
    open_kwh
        The open demand :math:`v_c` each added candidate brought into reach, kWh a day.
    uncovered
        The cells that had no candidate within reach before the rule, sorted.
    left_out
        The cells of ``uncovered`` still without a candidate within reach, sorted.
    rounds
        Rounds run.
    """

    added: np.ndarray
    catchment_kwh: np.ndarray
    open_kwh: np.ndarray
    uncovered: np.ndarray
    left_out: np.ndarray
    rounds: int


def catchment_picks(
    cell_xy: np.ndarray,
    demand: np.ndarray,
    targets: np.ndarray,
    site_xy: np.ndarray,
    *,
    radius_m: float,
    min_daily_kwh: float,
    order_key: np.ndarray,
) -> CatchmentPicks:
    """Cells to add as candidates so that the cells ``targets`` get one within ``radius_m``.

    The rule of the module docstring.

    Parameters
    ----------
    cell_xy
        ``(n, 2)`` cell centres in a metric CRS, metres.
    demand
        ``(n,)`` each cell's public demand, kWh a day.
    targets
        ``(n,)`` boolean: the cells that should have a candidate within reach (urban cells
        with people) and may host one.
    site_xy
        ``(m, 2)`` the candidates already placed, same CRS.
    radius_m
        The reach :math:`r`, metres.
    min_daily_kwh
        The threshold :math:`T`: the catchment demand :math:`w_c` a new candidate needs.
    order_key
        ``(n,)`` tie-break between equal catchments (smaller first), e.g. the H3 index.

    Returns
    -------
    CatchmentPicks
    """
    from scipy.spatial import cKDTree

    cell_xy = np.asarray(cell_xy, float).reshape(-1, 2)
    site_xy = np.asarray(site_xy, float).reshape(-1, 2)
    demand = np.asarray(demand, float)
    where = np.flatnonzero(np.asarray(targets, bool))
    if len(site_xy) and where.size:
        nearest, _ = cKDTree(site_xy).query(cell_xy[where], k=1)
        where = where[nearest > radius_m]
    n = where.size
    added: list[np.ndarray] = []
    gains: list[np.ndarray] = []
    open_ = np.ones(n, bool)
    rounds = 0
    catchment = _catchment(cell_xy, demand, where, radius_m)
    if n:
        # every pair of uncovered cells within 2r once (i < j), and whether it is within r
        a, b = cKDTree(cell_xy[where]).query_pairs(2.0 * radius_m, output_type="ndarray").T
        near = np.hypot(*(cell_xy[where[a]] - cell_xy[where[b]]).T) <= radius_m
        a_near, b_near = a[near], b[near]
        d = demand[where]
        key = np.asarray(order_key)[where]
        can_host = catchment >= min_daily_kwh
        while (open_ & can_host).any():
            rounds += 1
            gain = _open_catchment(d, open_, a_near, b_near)
            pick = _local_best(gain, key, open_ & can_host, a, b)
            added.append(pick)
            gains.append(gain[pick])
            picked = np.zeros(n, bool)
            picked[pick] = True
            open_[pick] = False
            open_[b_near[picked[a_near]]] = False
            open_[a_near[picked[b_near]]] = False
    chosen = np.concatenate(added) if added else np.zeros(0, np.int64)
    return CatchmentPicks(
        added=where[chosen],
        catchment_kwh=catchment[chosen],
        open_kwh=np.concatenate(gains) if gains else np.zeros(0),
        uncovered=where,
        left_out=where[open_],
        rounds=rounds,
    )


def _catchment(
    cell_xy: np.ndarray, demand: np.ndarray, where: np.ndarray, radius_m: float
) -> np.ndarray:
    """:math:`w_c` of the cells at positions ``where``: their own demand plus that of every
    other cell within ``radius_m`` (one KD-tree query of all cells)."""
    from scipy.spatial import cKDTree

    if not where.size:
        return np.zeros(0)
    found = cKDTree(cell_xy[where]).sparse_distance_matrix(
        cKDTree(cell_xy), radius_m, output_type="ndarray"
    )
    other = found["j"] != where[found["i"]]
    i, j = found["i"][other], found["j"][other]
    return demand[where] + np.bincount(i, weights=demand[j], minlength=where.size)


def _open_catchment(
    demand: np.ndarray, open_: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """:math:`v_c`: each cell's own open demand plus its open neighbours' (pairs ``a < b``
    within reach, listed once)."""
    n = demand.size
    mine = demand * open_
    return (
        mine
        + np.bincount(a, weights=mine[b], minlength=n)
        + np.bincount(b, weights=mine[a], minlength=n)
    )


def _local_best(
    value: np.ndarray, key: np.ndarray, host: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """The hosts ranked better (larger ``value``, then smaller ``key``) than every other
    host within :math:`2r` (pairs ``a < b``), in rank order."""
    order = np.lexsort((key, -value))
    rank = np.empty(value.size, np.int64)
    rank[order] = np.arange(value.size)
    both = host[a] & host[b]
    a, b = a[both], b[both]
    rival = np.full(value.size, value.size, np.int64)
    np.minimum.at(rival, a, rank[b])
    np.minimum.at(rival, b, rank[a])
    best = host & (rank < rival)
    return order[best[order]]
