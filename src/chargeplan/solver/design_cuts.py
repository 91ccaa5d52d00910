r"""Valid inequalities for the Lagrangian bound of a station-design model: catchment MIR cuts.

The Lagrangian relaxation of :mod:`chargeplan.solver.design_bound` is as strong as the LP of
the disjunctive formulation (each site's choice of one option in its convex hull) and no
stronger: it buys :math:`1.3` stations where a neighbourhood's demand fills 1.3 stations,
while a plan builds two or leaves the rest unmet. The **aggregate capacity** inequalities of
Cornuejols, Sridharan & Thizy (1991), written for unmet demand and rounded by
mixed-integer rounding (Nemhauser & Wolsey 1988, II.1.7; Marchand & Wolsey 2001), cut that
off.

**Aggregate capacity of a catchment.** For site :math:`j` and type :math:`k` let
:math:`C = C_{jk}` be the demand rows of type :math:`k` with a pair at :math:`j` (its
catchment), :math:`D = \sum_{r \in C} d_r` their demand, :math:`w_o \in \{0, 1\}` the
indicator of site option :math:`o` (closed, open without a design, a design), with capacity
:math:`Q_{ok}`. A site :math:`j'` with option :math:`o` carries at most :math:`Q_{ok}` and
at most the demand of :math:`C` it can reach, :math:`M_{jj'} = \sum_{r \in C} d_r \bar
x_{rj'}`, so the demand rows (:math:`\sum_{j'} x_{rj'} + u_r = 1`) give

.. math:: \sum_o \min(Q_{ok}, M_{j\,s(o)})\, w_o + \sum_{r \in C} d_r u_r \ge D .

**Mixed-integer rounding.** Divided by :math:`f > 0` (here the largest coefficient, so that
:math:`a_o = \min(Q_{ok}, M_{j s(o)}) / f \le 1`), with :math:`b = D / f` and
:math:`\rho = b - \lfloor b \rfloor > 0`, the MIR inequality of :math:`\sum_o a_o w_o + s
\ge b` (:math:`w` integer, :math:`s \ge 0`) is

.. math:: \sum_o G(a_o)\, w_o + \sum_{r \in C} \frac{d_r}{f} u_r \ge \rho \lceil b \rceil,
          \qquad G(a) = \rho \lfloor a \rfloor + \min(a - \lfloor a \rfloor, \rho),

valid for every plan of the model, hence for every plan's :math:`(w, u)`. With one
station's worth of capacity per site (:math:`a = 1`) it reads :math:`s \ge \rho (\lceil b
\rceil - \sum w)`: the demand a fractional station would serve is either built whole or
paid as unmet.

The cuts are generated for every catchment at once as sparse matrix products (no loop over
pairs or sites): :math:`M = I^\top W` with :math:`W` the ``(rows, sites)`` matrix of the
pairs' :math:`d_r \bar x_{rj}` and :math:`I` its pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["MAX_STATIONS", "Cuts", "catchment_mir_cuts"]

#: Catchments whose demand exceeds this many of their largest station are left out: their
#: rounding gains at most :math:`\rho \le 1` station in :math:`b`, little against the rest.
MAX_STATIONS = 6.0
#: :math:`f` is the largest coefficient divided by each of these (one cut per divisor).
DIVISORS = (1.0, 1.5, 2.5)


@dataclass(frozen=True)
class Cuts:
    r"""Inequalities :math:`A w + B u \ge h` on the options' indicators :math:`w` and the
    unmet shares :math:`u` of the Lagrangian relaxation.

    Attributes
    ----------
    options
        ``(m, O)`` sparse :math:`A`, columns in the relaxation's option order.
    unmet
        ``(m, R)`` sparse :math:`B`, columns in ``u`` column order.
    rhs
        ``(m,)`` :math:`h`.
    """

    options: sp.csr_matrix
    unmet: sp.csr_matrix
    rhs: np.ndarray

    @property
    def count(self) -> int:
        """Number of inequalities."""
        return int(self.rhs.size)


def catchment_mir_cuts(
    item_row: np.ndarray,
    item_site: np.ndarray,
    item_weight: np.ndarray,
    row_demand: np.ndarray,
    row_type: np.ndarray,
    option_site: np.ndarray,
    option_capacity: np.ndarray,
    max_stations: float = MAX_STATIONS,
    divisors: tuple[float, ...] = DIVISORS,
) -> Cuts:
    r"""The catchment MIR cuts of the module docstring, one per site and type.

    Parameters
    ----------
    item_row, item_site, item_weight
        The pairs: demand row, site and :math:`d_r \bar x_{rj}` (kW the pair can carry).
    row_demand, row_type
        ``(R,)`` :math:`d_r` and the charger type of each demand row.
    option_site, option_capacity
        ``(O,)`` each option's site, ``(O, K)`` its capacity (``inf``: no capacity row).
    max_stations
        Catchments with :math:`b >` this are left out (:data:`MAX_STATIONS`).

    Returns
    -------
    Cuts
        The inequalities, :math:`\rho > 10^{-6}` only.
    """
    import scipy.sparse as sp

    n_rows, n_options = row_demand.size, option_site.size
    n_sites = int(max(item_site.max(initial=-1), option_site.max(initial=-1))) + 1
    weight = sp.csr_matrix((item_weight, (item_row, item_site)), shape=(n_rows, n_sites))
    pattern = weight.copy()
    pattern.data[:] = 1.0
    by_site = np.argsort(option_site, kind="stable")
    first = np.searchsorted(option_site[by_site], np.arange(n_sites), "left")
    count = np.searchsorted(option_site[by_site], np.arange(n_sites), "right") - first
    parts = []
    for kind in range(option_capacity.shape[1]):  # one pass per charger type and divisor
        rows = np.flatnonzero(row_type == kind)
        if not rows.size:
            continue
        for divisor in divisors:
            parts.append(
                _type_cuts(
                    pattern[rows].T.tocsr(),
                    weight[rows],
                    rows,
                    row_demand,
                    (by_site, first, count),
                    option_capacity[:, kind],
                    (divisor, max_stations),
                )
            )
    return _stack(parts, n_options, n_rows)


def _type_cuts(
    catchment: sp.csr_matrix,
    weight: sp.csr_matrix,
    rows: np.ndarray,
    row_demand: np.ndarray,
    options_of: tuple[np.ndarray, np.ndarray, np.ndarray],
    capacity: np.ndarray,
    limits: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The cuts of one charger type: ``(S, rows)`` catchment pattern, the rows' pair weights;
    returns the entries ``(cut, option, G)``, ``(cut, row, d/f)`` and the right-hand sides."""
    by_site, first, count = options_of
    divisor, max_stations = limits
    overlap = (catchment @ weight).tocoo()  # M[j, j']: catchment j's demand j' can carry
    total = catchment @ row_demand[rows]  # D of each catchment
    cut_site, reach_site, carry = overlap.row, overlap.col, overlap.data
    # one entry per (catchment, option of a site in reach)
    n = count[reach_site]
    entry = np.repeat(np.arange(cut_site.size), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    option = by_site[first[reach_site][entry] + offset]
    coefficient = np.minimum(capacity[option], carry[entry])
    site = cut_site[entry]
    scale = np.zeros(total.size)
    np.maximum.at(scale, site, coefficient)
    scale /= divisor
    b = np.divide(total, scale, out=np.zeros_like(total), where=scale > 0)
    rho = b - np.floor(b)
    keep_cut = (scale > 0) & (rho > 1e-6) & (b <= max_stations)
    cut_of = np.full(total.size, -1)
    cut_of[keep_cut] = np.arange(int(keep_cut.sum()))
    a = coefficient / np.where(scale[site] > 0, scale[site], 1.0)
    g = rho[site] * np.floor(a) + np.minimum(a - np.floor(a), rho[site])
    ok = (cut_of[site] >= 0) & (g > 0)
    # unmet: the catchment's rows, d_r / f
    pattern = catchment.tocoo()
    u_ok = cut_of[pattern.row] >= 0
    u_site = pattern.row[u_ok]
    return (
        cut_of[site[ok]],
        option[ok],
        g[ok],
        cut_of[u_site],
        rows[pattern.col[u_ok]],
        row_demand[rows[pattern.col[u_ok]]] / scale[u_site],
        (rho * np.ceil(b))[keep_cut],
    )


def _stack(parts: list, n_options: int, n_rows: int) -> Cuts:
    """One :class:`Cuts` of the types' entries, cut ids made consecutive."""
    import scipy.sparse as sp

    base = 0
    arrays: list[list[np.ndarray]] = [[] for _ in range(7)]
    for part in parts:
        for position, values in enumerate(part):
            arrays[position].append(values + base if position in (0, 3) else values)
        base += part[6].size
    cat = [np.concatenate(a) if a else np.zeros(0) for a in arrays]
    options = sp.csr_matrix(
        (cat[2], (cat[0].astype(np.int64), cat[1].astype(np.int64))), shape=(base, n_options)
    )
    unmet = sp.csr_matrix(
        (cat[5], (cat[3].astype(np.int64), cat[4].astype(np.int64))), shape=(base, n_rows)
    )
    return Cuts(options, unmet, cat[6].astype(float))
