"""A small sparse builder for MILPs: column blocks and row families as whole arrays.

Models are assembled here as numpy arrays (bounds, integrality, COO triplets per row family)
and only then turned into a Pyomo model (:meth:`SparseMILP.to_pyomo`), one ``LinearExpression``
per row with no operator overloading, or straight into a ``highspy`` model
(:meth:`SparseMILP.to_highs`) for benchmarks on the very same matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

CONTINUOUS, INTEGER, BINARY = 0, 1, 2


class InfeasibleRowError(ValueError):
    """A row without variables whose bounds exclude 0 (the model is infeasible as built)."""

    def __init__(self, family: str, row: int, lower: float, upper: float) -> None:
        super().__init__(
            f"row {row} of '{family}' has no variables but needs {lower} <= 0 <= {upper}"
        )
        self.family = family


@dataclass
class SparseMILP:
    """Columns in named blocks, rows in named families, objective as a dense vector."""

    blocks: dict[str, tuple[int, int]] = field(default_factory=dict)
    lower: list[np.ndarray] = field(default_factory=list)
    upper: list[np.ndarray] = field(default_factory=list)
    kind: list[np.ndarray] = field(default_factory=list)
    families: dict[str, tuple[sp.csr_matrix, np.ndarray, np.ndarray]] = field(default_factory=dict)
    objective: np.ndarray | None = None
    objective_offset: float = 0.0

    @property
    def n_cols(self) -> int:
        """Number of columns so far."""
        return sum(size for _, size in self.blocks.values())

    def add_columns(
        self,
        name: str,
        size: int,
        lower: float | np.ndarray,
        upper: float | np.ndarray,
        kind: int = CONTINUOUS,
    ) -> np.ndarray:
        """Append a block of ``size`` columns; return their positions."""
        start = self.n_cols
        self.blocks[name] = (start, size)
        self.lower.append(np.broadcast_to(np.asarray(lower, float), (size,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, float), (size,)).copy())
        self.kind.append(np.full(size, kind, np.int8))
        return start + np.arange(size)

    def columns(self, name: str) -> np.ndarray:
        """Positions of a block's columns."""
        start, size = self.blocks[name]
        return start + np.arange(size)

    def add_rows(
        self,
        name: str,
        n_rows: int,
        rows: np.ndarray,
        cols: np.ndarray,
        values: np.ndarray,
        lower: float | np.ndarray | None,
        upper: float | np.ndarray | None,
    ) -> None:
        """Add ``lower <= A x <= upper`` with ``A`` given as COO triplets (duplicates add up)."""
        if n_rows == 0:
            return
        matrix = sp.csr_matrix(
            (np.asarray(values, float), (np.asarray(rows), np.asarray(cols))),
            shape=(n_rows, self.n_cols),
        )
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        lo = np.broadcast_to(np.asarray(-np.inf if lower is None else lower, float), (n_rows,))
        hi = np.broadcast_to(np.asarray(np.inf if upper is None else upper, float), (n_rows,))
        self.families[name] = (matrix, lo.copy(), hi.copy())

    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Column lower and upper bounds and kinds, in column order."""
        return np.concatenate(self.lower), np.concatenate(self.upper), np.concatenate(self.kind)

    def matrix(self) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """All rows stacked: the matrix and its row bounds."""
        n = self.n_cols
        mats = []
        for m, _, _ in self.families.values():
            m = m.copy()
            m.resize((m.shape[0], n))  # columns added after this family keep zeros here
            mats.append(m)
        return (
            sp.vstack(mats, format="csr") if mats else sp.csr_matrix((0, n)),
            np.concatenate([lo for _, lo, _ in self.families.values()] or [np.empty(0)]),
            np.concatenate([hi for _, _, hi in self.families.values()] or [np.empty(0)]),
        )

    def to_pyomo(self, name: str = "chargeplan") -> tuple[pyo.ConcreteModel, list]:
        """A Pyomo model: one indexed Var per block, one indexed Constraint per family.

        Returns the model (objective ``obj``, minimised, without the constant
        ``model.objective_offset``) and the flat list of its variables in column order.
        """
        model = pyo.ConcreteModel(name=name)
        lower, upper, kind = self.bounds()
        domains = {CONTINUOUS: pyo.Reals, INTEGER: pyo.Integers, BINARY: pyo.Binary}
        columns: list = []
        for block, (start, size) in self.blocks.items():
            lo, hi = lower[start : start + size], upper[start : start + size]
            k = int(kind[start]) if size else CONTINUOUS
            var = pyo.Var(
                range(size),
                domain=domains[k],
                bounds=lambda _m, t, lo=lo, hi=hi: (
                    None if np.isinf(lo[t]) else float(lo[t]),
                    None if np.isinf(hi[t]) else float(hi[t]),
                ),
            )
            model.add_component(block, var)
            columns.extend(var.values())
        for family, (matrix, lo, hi) in self.families.items():
            data, indices, indptr = (
                matrix.data.tolist(),
                matrix.indices.tolist(),
                matrix.indptr.tolist(),
            )

            def rule(_m, r, lo=lo, hi=hi, data=data, indices=indices, indptr=indptr, family=family):
                if indptr[r] == indptr[r + 1]:  # an empty row: 0 must lie within its bounds
                    if lo[r] > 1e-9 or hi[r] < -1e-9:
                        raise InfeasibleRowError(family, r, lo[r], hi[r])
                    return pyo.Constraint.Skip
                expr = LinearExpression(
                    [
                        MonomialTermExpression((data[t], columns[indices[t]]))
                        for t in range(indptr[r], indptr[r + 1])
                    ]
                )
                return (
                    None if np.isinf(lo[r]) else float(lo[r]),
                    expr,
                    None if np.isinf(hi[r]) else float(hi[r]),
                )

            model.add_component(family, pyo.Constraint(range(matrix.shape[0]), rule=rule))
        weights = np.zeros(self.n_cols) if self.objective is None else self.objective
        model.objective_offset = self.objective_offset
        model.obj = pyo.Objective(expr=linear_expression(weights, columns), sense=pyo.minimize)
        model.columns = columns
        return model, columns

    def to_highs(self):
        """The same model as a ``highspy.Highs`` instance (for benchmarks)."""
        import highspy

        lower, upper, kind = self.bounds()
        matrix, row_lo, row_hi = self.matrix()
        csc = matrix.tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_cols, matrix.shape[0]
        weights = np.zeros(self.n_cols) if self.objective is None else self.objective
        lp.col_cost_ = weights
        lp.col_lower_, lp.col_upper_ = lower, upper
        lp.row_lower_, lp.row_upper_ = row_lo, row_hi
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr
        lp.a_matrix_.index_ = csc.indices
        lp.a_matrix_.value_ = csc.data
        lp.integrality_ = [
            highspy.HighsVarType.kContinuous if k == CONTINUOUS else highspy.HighsVarType.kInteger
            for k in kind
        ]
        highs = highspy.Highs()
        highs.passModel(lp)
        return highs


def linear_expression(coefficients: np.ndarray, columns: list) -> LinearExpression:
    """``sum_c coefficients[c] * columns[c]`` over the nonzero coefficients, built directly."""
    nz = np.flatnonzero(coefficients)
    return LinearExpression(
        [MonomialTermExpression((float(coefficients[c]), columns[c])) for c in nz]
    )
