"""Row blocks as numpy arrays (:class:`CsrRows`), and rows no plan can satisfy as built.

Kept apart from :mod:`chargeplan.model.components` and free of SciPy and Pyomo, so that the
array path (:mod:`chargeplan.solver.direct`) builds a model and hands it to HiGHS without
importing either (``benchmarks/cold_start.py``); :meth:`CsrRows.tocsr` gives SciPy's matrix
to whoever needs one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["SCIPY_FROM", "CsrRows", "InfeasibleRowError", "check_empty_rows", "stack_rows"]

#: Row blocks with more entries than this are converted by SciPy (:meth:`CsrRows.from_triplets`).
SCIPY_FROM = 50_000


@dataclass(frozen=True)
class CsrRows:
    """Rows in compressed sparse row form: ``data``, ``indices`` (columns), ``indptr``.

    Within a row the columns are sorted and distinct, and no stored value is 0 (as SciPy's
    ``csr_matrix`` after ``sum_duplicates`` and ``eliminate_zeros``).
    """

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]

    @classmethod
    def from_triplets(
        cls, rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]
    ) -> CsrRows:
        """Rows from COO triplets; duplicate entries add up, zeros are dropped.

        Above :data:`SCIPY_FROM` entries SciPy converts them (its counting sort is linear; a
        large model's build has SciPy's import time to spare); below, numpy alone does.
        """
        n_rows, n_cols = shape
        rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
        values = np.asarray(values, float)
        if values.shape != rows.shape:
            values = np.broadcast_to(values, rows.shape)
        if rows.size > SCIPY_FROM:
            import scipy.sparse as sp

            matrix = sp.csr_matrix((values, (rows, cols)), shape=shape)
            matrix.sum_duplicates()
            matrix.eliminate_zeros()
            return cls(matrix.data, matrix.indices, matrix.indptr, shape)
        key, given = rows * max(n_cols, 1) + cols, values
        if key.size and (key[1:] < key[:-1]).any():
            order = np.argsort(key, kind="stable")
            key, values, rows, cols = key[order], values[order], rows[order], cols[order]
        summed = values
        if key.size:
            repeated = key[1:] == key[:-1]
            if repeated.any():  # duplicates add up (most row blocks have none: skipped)
                first = np.flatnonzero(np.concatenate(([True], ~repeated)))
                summed = np.add.reduceat(values, first)
                rows, cols = rows[first], cols[first]
        keep = summed != 0
        if not keep.all():
            rows, cols, summed = rows[keep], cols[keep], summed[keep]
        if summed is given:  # nothing sorted, summed or dropped: not the caller's array
            summed = given.copy()
        indptr = np.searchsorted(rows, np.arange(n_rows + 1))
        return cls(summed, cols.astype(np.int32), indptr.astype(np.int32), (n_rows, n_cols))

    @property
    def nnz(self) -> int:
        """Number of stored entries."""
        return int(self.data.size)

    def tocsr(self, n_cols: int | None = None) -> sp.csr_matrix:
        """SciPy's ``csr_matrix`` of these rows (``n_cols``: widen to that many columns)."""
        import scipy.sparse as sp

        width = self.shape[1] if n_cols is None else n_cols
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=(self.shape[0], width))


def stack_rows(blocks: Sequence[CsrRows], n_cols: int) -> CsrRows:
    """Blocks of rows one below the other, ``n_cols`` wide."""
    if not blocks:
        return CsrRows(np.empty(0), np.empty(0, np.int32), np.zeros(1, np.int32), (0, n_cols))
    starts = np.cumsum([0] + [b.nnz for b in blocks])
    indptr = np.concatenate(
        [np.zeros(1, np.int64)] + [b.indptr[1:] + s for b, s in zip(blocks, starts, strict=False)]
    )
    return CsrRows(
        np.concatenate([b.data for b in blocks]),
        np.concatenate([b.indices for b in blocks]),
        indptr.astype(np.int32),
        (sum(b.shape[0] for b in blocks), n_cols),
    )


class InfeasibleRowError(ValueError):
    """A row without variables whose bounds exclude 0 (the model is infeasible as built)."""

    def __init__(self, family: str, row: int, lower: float, upper: float) -> None:
        super().__init__(
            f"row {row} of '{family}' has no variables but needs {lower} <= 0 <= {upper}"
        )
        self.family = family


def check_empty_rows(
    family: str, matrix: CsrRows | sp.csr_matrix, lower: np.ndarray, upper: np.ndarray
) -> None:
    """Raise :class:`InfeasibleRowError` for the first row with no entries that excludes 0."""
    empty = np.diff(matrix.indptr) == 0
    bad = np.flatnonzero(empty & ((lower > 1e-9) | (upper < -1e-9)))
    if bad.size:
        r = int(bad[0])
        raise InfeasibleRowError(family, r, lower[r], upper[r])
