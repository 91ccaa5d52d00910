r"""The strong rows ``x_ijk <= y_j`` added lazily, in rounds (``pair_links = "lazy"``).

The model is built with the aggregated rows only
(:math:`\sum_{i,k} d_{ik} x_{ijk} \le C_j y_j`). Then, on the model loaded in HiGHS:

1. solve the LP relaxation;
2. find every assignment variable with :math:`x_{ijk} - y_j > \varepsilon` (one vectorised
   comparison) and add :math:`x_{ijk} - y_j \le 0` for exactly those;
3. repeat until none is violated by more than :math:`\varepsilon` (or after ``max_rounds``);

then the MIP is solved with the rows found. Every added row is valid for every integer plan
(it is one of the strong rows), so the optimum is that of either formulation; the LP bound at
the end of the loop is that of the strong formulation (up to :math:`\varepsilon`). No wall
clock decides anything: the rounds depend only on the LP solutions, so the same model and
thread count give the same rows and the same plan.

Only the array path (:mod:`chargeplan.solver.direct`) runs the loop; the Pyomo path (an
``extend`` hook, the covering form, a HiGHS log on standard error) builds ``"lazy"`` as
``"never"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["LazyLinks", "add_lazy_links", "violated_links"]

#: Violation below which a link row is not added (HiGHS's primal feasibility tolerance is 1e-7).
EPSILON = 1e-6
#: Most rounds of LP + separation; each round adds every violated row, so few are needed.
MAX_ROUNDS = 50


@dataclass(frozen=True)
class LazyLinks:
    """What the cut loop did.

    Attributes
    ----------
    rows
        Link rows added, in total.
    rounds
        LP relaxations solved.
    converged
        Whether the last LP violated no link by more than the tolerance.
    """

    rows: int
    rounds: int
    converged: bool


def violated_links(
    values: np.ndarray, x_cols: np.ndarray, y_cols: np.ndarray, epsilon: float = EPSILON
) -> np.ndarray:
    """Positions ``p`` (into ``x_cols``) with ``values[x_cols[p]] - values[y_cols[p]] > epsilon``.

    Parameters
    ----------
    values
        Column values of an LP solution.
    x_cols, y_cols
        Column of each assignment variable and of its site's ``y``.
    epsilon
        Tolerance.

    Returns
    -------
    numpy.ndarray
        Sorted positions of the violated links.
    """
    return np.flatnonzero(values[x_cols] - values[y_cols] > epsilon)


def add_lazy_links(
    highs: Any,
    x_cols: np.ndarray,
    y_cols: np.ndarray,
    epsilon: float = EPSILON,
    max_rounds: int = MAX_ROUNDS,
) -> LazyLinks:
    """Run the loop of the module docstring on ``highs`` (a loaded ``highspy.Highs``).

    Parameters
    ----------
    highs
        The model with the aggregated rows; on return it holds the added rows and is set to
        solve the MIP again.
    x_cols, y_cols
        HiGHS column of each assignment variable and of its site's ``y``.
    epsilon, max_rounds
        Tolerance and most rounds.

    Returns
    -------
    LazyLinks
    """
    added = np.zeros(len(x_cols), bool)
    rows = rounds = 0
    converged = False
    highs.setOptionValue("solve_relaxation", True)
    try:
        while rounds < max_rounds:
            highs.run()
            rounds += 1
            values = np.asarray(highs.getSolution().col_value, dtype=float)
            if values.size == 0:  # no LP solution (infeasible): the MIP solve reports it
                break
            new = violated_links(values, x_cols, y_cols, epsilon)
            new = new[~added[new]]  # cannot happen for an exact LP; guards against loops
            if not new.size:
                converged = True
                break
            added[new] = True
            rows += new.size
            _add_rows(highs, x_cols[new], y_cols[new])
    finally:
        highs.setOptionValue("solve_relaxation", False)
    return LazyLinks(rows=rows, rounds=rounds, converged=converged)


def _add_rows(highs: Any, x_cols: np.ndarray, y_cols: np.ndarray) -> None:
    """``x - y <= 0`` for each pair of columns, in one ``addRows`` call (row-wise triplets)."""
    n = len(x_cols)
    index = np.column_stack([x_cols, y_cols]).ravel().astype(np.int32)
    value = np.tile([1.0, -1.0], n)
    starts = (2 * np.arange(n)).astype(np.int32)
    highs.addRows(n, np.full(n, -np.inf), np.zeros(n), 2 * n, starts, index, value)
