"""The LP relaxation of a station-design model in HiGHS, its binaries fixed and freed in place.

The design start (:mod:`chargeplan.solver.designstart`) and the local search
(:mod:`chargeplan.solver.design_search`) solve a sequence of LPs of one model, each with some
``y`` and ``z`` fixed, warm-started from the last basis. :class:`Relaxation` holds that model;
an LP that ends anywhere but at its optimum is solved again from scratch (:data:`RETRIES`), a
fixed sequence of work: no clock decides whether, or how, an LP is solved.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from chargeplan.model.sparse import SparseMILP
from chargeplan.solver.design_bound import assign_row_offset

__all__ = ["RETRIES", "Relaxation", "colwise_lp", "quiet_highs"]

#: An LP that is not optimal is solved again from scratch with these HiGHS options, in turn
#: (the simplex iteration limit lifted): the same, then primal simplex without presolve.
RETRIES: tuple[dict[str, Any], ...] = ({}, {"presolve": "off", "simplex_strategy": 4})
_NO_LIMIT = 2**31 - 1


class Relaxation:
    """The model's LP relaxation in a ``highspy.Highs`` of its own, bounds changed in place."""

    def __init__(
        self,
        lp: SparseMILP,
        highs: Any,
        order: np.ndarray,
        threads: int | None,
        iteration_limit: int | None = None,
    ):
        import highspy

        self.lp, self.highs, self.order = lp, highs, order
        self.position = np.full(lp.n_cols, -1)
        self.position[order] = np.arange(order.size)
        if threads is not None:
            highspy.Highs.resetGlobalScheduler(True)
            highs.setOptionValue("threads", threads)
        highs.setOptionValue("solve_relaxation", True)
        highs.setOptionValue("time_limit", float("inf"))  # the plan may not depend on timing
        self.iteration_limit = _NO_LIMIT if iteration_limit is None else iteration_limit
        highs.setOptionValue("simplex_iteration_limit", self.iteration_limit)
        self.lps = self.retries = 0
        self.first_try = {
            name: _option(highs, name) for name in sorted({k for r in RETRIES for k in r})
        }

    def fix(self, columns: np.ndarray, value: float) -> None:
        """Fix ``columns`` (model order) to ``value``; columns HiGHS never received are 0."""
        cols = self.position[columns]
        cols = cols[cols >= 0].astype(np.int32)
        if cols.size:
            bound = np.full(cols.size, value)
            self.highs.changeColsBounds(cols.size, cols, bound, bound)

    def free(self, columns: np.ndarray) -> None:
        """Give binary ``columns`` (model order) their bounds ``[0, 1]`` back."""
        cols = self.position[columns]
        cols = cols[cols >= 0].astype(np.int32)
        if cols.size:
            self.highs.changeColsBounds(cols.size, cols, np.zeros(cols.size), np.ones(cols.size))

    def solve(self) -> tuple[np.ndarray, float] | None:
        """Column values (model order) and objective, ``None`` if the LP is not optimal."""
        value = self.value()
        if value is None:
            return None
        return self.values(), value

    def value(self) -> float | None:
        """Solve the LP; its objective (constant included), ``None`` if it is not optimal.

        A warm-started LP that ends anywhere but at its optimum (numerical trouble, an
        iteration limit) is solved again from scratch, and then once more without presolve by
        the primal simplex (:data:`RETRIES`): each a fixed sequence of work, no clock.
        """
        import highspy

        for attempt in range(1 + len(RETRIES)):
            if attempt:
                self.retries += 1
                self.highs.clearSolver()  # no basis: start afresh
                for name, setting in RETRIES[attempt - 1].items():
                    self.highs.setOptionValue(name, setting)
                self.highs.setOptionValue("simplex_iteration_limit", _NO_LIMIT)
            self.highs.run()
            self.lps += 1
            if self.highs.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                break
        self._restore()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return float(self.highs.getInfo().objective_function_value) + self.lp.objective_offset

    def _restore(self) -> None:
        """The options of the first attempt back (after a retry)."""
        if self.retries:
            for name, setting in self.first_try.items():
                self.highs.setOptionValue(name, setting)
            self.highs.setOptionValue("simplex_iteration_limit", self.iteration_limit)

    def values(self) -> np.ndarray:
        """The last LP's column values (model order)."""
        values = np.zeros(self.lp.n_cols)
        values[self.order] = np.asarray(self.highs.getSolution().col_value, dtype=float)
        return values

    def reduced_costs(self) -> np.ndarray:
        """The last LP's reduced costs (model order; 0 for columns HiGHS never received)."""
        reduced = np.zeros(self.lp.n_cols)
        reduced[self.order] = np.asarray(self.highs.getSolution().col_dual, dtype=float)
        return reduced

    def demand_duals(self) -> np.ndarray:
        """The last LP's duals of the ``assign`` rows (in ``u`` column order)."""
        start = assign_row_offset(self.lp)
        size = len(self.lp.families["assign"][1])
        return np.asarray(self.highs.getSolution().row_dual, dtype=float)[start : start + size]


def _option(highs: Any, name: str) -> Any:
    """A HiGHS option's value (``getOptionValue`` returns ``(status, value)`` in some
    versions of highspy and the value alone in others)."""
    got = highs.getOptionValue(name)
    return got[1] if isinstance(got, tuple) else got


#: Whether a ``highspy.Highs`` was made here already: HiGHS prints its banner on file
#: descriptor 1 when the process's first ``Highs`` object is made, never again
#: (``tests/test_direct_fixed_cost.py`` checks that in a fresh process).
_BANNER_SHOWN = False


def quiet_highs() -> Any:
    """A ``highspy.Highs`` with its output off and its banner (printed when the process makes
    its first one, on file descriptor 1) sent to ``os.devnull``, as
    ``chargeplan.solver.direct`` makes its own. Once one is made, the next ones are made
    without redirecting descriptor 1 (0.1 ms a solve: docs/scale.md, "The fixed cost")."""
    import highspy

    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        return highs
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            highs = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _BANNER_SHOWN = True
    highs.setOptionValue("output_flag", False)
    return highs


def colwise_lp(
    cost: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    matrix: Any,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
) -> Any:
    """A ``highspy.HighsLp`` of ``min cost x`` s.t. ``row_lower <= matrix x <= row_upper``,
    ``lower <= x <= upper``, from a SciPy CSC ``matrix`` (its arrays passed as they are)."""
    import highspy

    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = cost.size, row_lower.size
    model.col_cost_, model.col_lower_, model.col_upper_ = cost, lower, upper
    model.row_lower_, model.row_upper_ = row_lower, row_upper
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = matrix.indptr
    model.a_matrix_.index_ = matrix.indices
    model.a_matrix_.value_ = matrix.data
    return model
