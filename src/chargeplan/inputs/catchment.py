r"""Candidate stations added where an urban cell has none within reach: the catchment rule.

The demand rule (:func:`~chargeplan.inputs.cellsites.station_sites_from_cells`) places an urban
candidate only where an H3 cluster's own demand fills a station, so urban cells in clusters
below that threshold can be left with no candidate within the urban reach :math:`r` (3 km).
:func:`catchment_picks` adds candidates for them, in rounds, judging a station by the demand
within its *catchment* (the disc of radius :math:`r` around it) rather than within its cluster.

Notation: :math:`U` the urban cells with people and no candidate within :math:`r` (at the
start of a round, the *open* cells), :math:`d_c` a cell's public demand (kWh a day),
:math:`N(c) = \{c' : \lVert x_c - x_{c'} \rVert \le r\}` the cells within reach of cell
:math:`c` (itself included), :math:`T` the threshold (``min_daily_kwh``: by default the
smallest station design at the national pile average, the demand rule's own threshold).

1. The catchment demand of an open cell :math:`c` is the open demand a candidate at its
   centre brings into reach, :math:`v_c = \sum_{c' \in N(c) \cap U} d_{c'}`.
2. The open cells with :math:`v_c \ge T` are ranked by :math:`v_c`, decreasing, ties by the
   order key (the H3 index). Each one whose rank is better than that of every other such
   cell within :math:`2r` becomes a candidate. Two picks of a round are then more than
   :math:`2r` apart, so their catchments are disjoint: each brings in exactly its
   :math:`v_c \ge T`, no demand is counted for two picks, and the round's best cell (the one
   a one-at-a-time greedy rule would pick) is always among them.
3. The cells within :math:`r` of a pick are no longer open; repeat until no open cell has
   :math:`v_c \ge T`.

The open cells left at the end are **left out**: no centre of an open cell gathers :math:`T`
of open demand, so a station there could not live on the demand it brings into reach (it
might by taking demand from candidates already in reach of it; the rule does not count that).
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
        catchment first).
    catchment_kwh
        Each added candidate's catchment demand :math:`v_c` when it was picked, kWh a day.
    uncovered
        The cells that had no candidate within reach before the rule, sorted.
    left_out
        The cells of ``uncovered`` still without a candidate within reach, sorted.
    rounds
        Rounds run.
    """

    added: np.ndarray
    catchment_kwh: np.ndarray
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
        The threshold :math:`T`: the catchment demand a new candidate needs.
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
    values: list[np.ndarray] = []
    open_ = np.ones(n, bool)
    rounds = 0
    if n:
        # every pair of uncovered cells within 2r once (i < j), and whether it is within r
        a, b = cKDTree(cell_xy[where]).query_pairs(2.0 * radius_m, output_type="ndarray").T
        near = np.hypot(*(cell_xy[where[a]] - cell_xy[where[b]]).T) <= radius_m
        a_near, b_near = a[near], b[near]
        d = demand[where]
        key = np.asarray(order_key)[where]
        while True:
            value = _open_catchment(d, open_, a_near, b_near)
            host = open_ & (value >= min_daily_kwh)
            if not host.any():
                break
            rounds += 1
            pick = _local_best(value, key, host, a, b)
            added.append(where[pick])
            values.append(value[pick])
            picked = np.zeros(n, bool)
            picked[pick] = True
            open_[pick] = False
            open_[b_near[picked[a_near]]] = False
            open_[a_near[picked[b_near]]] = False
    return CatchmentPicks(
        added=np.concatenate(added) if added else np.zeros(0, np.int64),
        catchment_kwh=np.concatenate(values) if values else np.zeros(0),
        uncovered=where,
        left_out=where[open_],
        rounds=rounds,
    )


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
