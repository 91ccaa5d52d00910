"""Rows that no plan can satisfy as built: :class:`InfeasibleRowError` (no Pyomo needed).

Kept apart from :mod:`chargeplan.model.components` so that the array path
(:mod:`chargeplan.solver.direct`) can raise and catch it without importing Pyomo.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["InfeasibleRowError", "check_empty_rows"]


class InfeasibleRowError(ValueError):
    """A row without variables whose bounds exclude 0 (the model is infeasible as built)."""

    def __init__(self, family: str, row: int, lower: float, upper: float) -> None:
        super().__init__(
            f"row {row} of '{family}' has no variables but needs {lower} <= 0 <= {upper}"
        )
        self.family = family


def check_empty_rows(
    family: str, matrix: sp.csr_matrix, lower: np.ndarray, upper: np.ndarray
) -> None:
    """Raise :class:`InfeasibleRowError` for the first row with no entries that excludes 0."""
    empty = np.diff(matrix.indptr) == 0
    bad = np.flatnonzero(empty & ((lower > 1e-9) | (upper < -1e-9)))
    if bad.size:
        r = int(bad[0])
        raise InfeasibleRowError(family, r, lower[r], upper[r])
