"""A small sparse builder for MILPs, and its hand-off to HiGHS through Pyomo at array speed.

Models are assembled as numpy arrays (bounds, integrality, COO triplets per row family,
:class:`SparseMILP`) and only then turned into something a solver reads:

- :meth:`SparseMILP.to_pyomo`: a Pyomo model with one indexed ``Var`` per column block, one
  :class:`SparseConstraint` per row family and a :class:`SparseObjective`. Both keep their
  coefficients as the arrays they were built from; a row's (or the objective's) Pyomo
  expression is only built if something asks for it (printing it, a file writer, another
  solver interface). Building costs one Python object per variable and per row, none per
  nonzero.
- :class:`SparseHighs`: Pyomo's ``contrib.solver`` HiGHS interface, taught to recognise those
  components: their arrays go to ``highspy`` in one ``passModel`` call. Any other constraint or
  objective on the model goes through Pyomo's usual path (one standard representation per
  row), so the model stays an ordinary Pyomo model that can be extended and inspected.
- :meth:`SparseMILP.to_highs`: the same arrays passed to ``highspy`` with no Pyomo at all, the
  baseline the benchmarks compare against.

``docs/scale.md`` ("Fast model building") has the measurements behind this design.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.common.gc_manager import PauseGC
from pyomo.core.base.constraint import ConstraintData, IndexedConstraint
from pyomo.core.base.objective import ScalarObjective
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.core.expr.relational_expr import (
    EqualityExpression,
    InequalityExpression,
    RangedExpression,
)

CONTINUOUS, INTEGER, BINARY = 0, 1, 2

_DOMAINS = {CONTINUOUS: pyo.Reals, INTEGER: pyo.Integers, BINARY: pyo.Binary}


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
        """A Pyomo model: one indexed Var per block, one :class:`SparseConstraint` per family.

        Returns the model (objective ``obj``, a :class:`SparseObjective`, minimised, without the
        constant ``model.objective_offset``) and the flat list of its variables in column
        order (also ``model.columns``). Solve it with :class:`SparseHighs` to hand the arrays
        to HiGHS directly; any other Pyomo solver interface works too, building each row's
        expression on the way.

        Raises
        ------
        InfeasibleRowError
            If a row has no variables and its bounds exclude 0.
        """
        model = pyo.ConcreteModel(name=name)
        lower, upper, kind = self.bounds()
        columns: list = []
        with PauseGC():  # millions of new objects, no cycles among them: skip the collector
            for block, (start, size) in self.blocks.items():
                domain = _DOMAINS[int(kind[start])] if size else pyo.Reals
                var = pyo.Var(pyo.RangeSet(0, size - 1), domain=domain, dense=False)
                model.add_component(block, var)
                columns.extend(
                    _block_variables(var, lower[start : start + size], upper[start : start + size])
                )
            for family, (matrix, lo, hi) in self.families.items():
                model.add_component(family, SparseConstraint(matrix, lo, hi, columns))
        weights = np.zeros(self.n_cols) if self.objective is None else self.objective
        model.objective_offset = self.objective_offset
        model.obj = SparseObjective(weights, columns)
        model.columns = columns
        return model, columns

    def to_highs(self, pyomo_order: bool = False):
        """The same model as a ``highspy.Highs`` instance, no Pyomo involved (for benchmarks).

        ``pyomo_order``: pass the columns in the order :class:`SparseHighs` gives them to HiGHS
        (:meth:`highs_order`), so that HiGHS receives the very model of the Pyomo path and
        follows the same search; HiGHS's column ``c`` is then column ``highs_order()[c]``.
        """
        import highspy

        lower, upper, kind = self.bounds()
        matrix, row_lo, row_hi = self.matrix()
        weights = np.zeros(self.n_cols) if self.objective is None else self.objective
        if pyomo_order:
            order = appearance_order(matrix, weights)
            rank = np.full(self.n_cols, -1, np.int64)
            rank[order] = np.arange(order.size)
            matrix = sp.csr_matrix(
                (matrix.data, rank[matrix.indices], matrix.indptr),
                shape=(matrix.shape[0], order.size),
            )
            lower, upper, kind, weights = lower[order], upper[order], kind[order], weights[order]
        highs = highspy.Highs()
        pass_arrays(highs, lower, upper, kind != CONTINUOUS, weights, matrix, row_lo, row_hi)
        return highs

    def highs_order(self) -> np.ndarray:
        """The columns in the order :class:`SparseHighs` passes them (unused ones left out)."""
        matrix, _, _ = self.matrix()
        return appearance_order(
            matrix, np.zeros(self.n_cols) if self.objective is None else self.objective
        )


def pass_arrays(
    highs,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    integer: np.ndarray,
    cost: np.ndarray,
    matrix: sp.csr_matrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    maximize: bool = False,
) -> None:
    """Load a whole MILP into a ``highspy.Highs`` object: one ``passModel``, row-wise matrix."""
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(col_lower), matrix.shape[0]
    lp.col_cost_ = np.asarray(cost, float)
    lp.col_lower_, lp.col_upper_ = col_lower, col_upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    if maximize:
        lp.sense_ = highspy.ObjSense.kMaximize
    highs.passModel(lp)
    columns = np.flatnonzero(integer).astype(np.int32)
    if columns.size:
        highs.changeColsIntegrality(columns.size, columns, np.ones(columns.size, np.uint8))


def _block_variables(var: pyo.Var, lower: np.ndarray, upper: np.ndarray) -> list:
    """Create the variables of a constructed, empty ``Var`` over ``0..n-1`` with these bounds.

    Pyomo's own dense construction walks the index set and copies a template variable per
    index; doing the copy here, with each variable's bounds set on the way (infinite means
    none, values as Pyomo would store them), takes about 40 % less time for the same objects.
    """
    lo = lower.astype(object)
    lo[np.isinf(lower)] = None
    hi = upper.astype(object)
    hi[np.isinf(upper)] = None
    if lo.size == 0:
        return []
    template = var[0]
    copy = VarData.copy
    data = []
    for index, a, b in zip(range(lo.size), lo.tolist(), hi.tolist(), strict=True):
        item = copy(template)
        item._index = index
        item._lb = a
        item._ub = b
        data.append(item)
    var._data.update(enumerate(data))
    return data


def linear_expression(coefficients: np.ndarray, columns: list) -> LinearExpression:
    """``sum_c coefficients[c] * columns[c]`` over the nonzero coefficients, built directly."""
    nz = np.flatnonzero(coefficients)
    return LinearExpression(
        linear_coefs=coefficients[nz].astype(float).tolist(),
        linear_vars=[columns[c] for c in nz.tolist()],
    )


class _SparseRowData(ConstraintData):
    """One row of a :class:`SparseConstraint`; its expression is built when asked for."""

    __slots__ = ()

    def __init__(self, component: weakref.ref, row: int) -> None:
        self._component = component
        self._active = True
        self._index = row

    @property
    def _expr(self):
        # Shadows ConstraintData's slot: the row lives in the parent's arrays.
        return self.parent_component().row_expression(self._index)

    @_expr.setter
    def _expr(self, _value) -> None:  # restoring a pickled state: the arrays are the truth
        pass

    def set_value(self, expr) -> None:
        """Refuse: a row of a sparse family is fixed by its arrays."""
        raise TypeError(
            f"row {self.name} belongs to a SparseConstraint and cannot be changed: deactivate "
            "it and add an ordinary Constraint instead"
        )


class SparseConstraint(IndexedConstraint):
    """Rows ``lower <= A @ columns <= upper`` of one family, kept as CSR arrays.

    Indexed by row number; rows without variables are left out (they are checked instead:
    0 must lie within their bounds). Each row is a Pyomo ``ConstraintData`` (``body``,
    ``lower``, ``upper``, ``expr``, ``deactivate()`` work) whose expression is built from the
    arrays only when asked for.

    Parameters
    ----------
    matrix
        ``(rows, len(columns))`` coefficients.
    lower, upper
        Row bounds (``-inf``/``inf``: none).
    columns
        The variables, in the matrix's column order.
    """

    def __init__(
        self,
        matrix: sp.spmatrix,
        lower: np.ndarray,
        upper: np.ndarray,
        columns: list,
        **kwargs,
    ) -> None:
        self.matrix = sp.csr_matrix(matrix)
        self.matrix.sort_indices()
        self.row_lower = np.asarray(lower, float)
        self.row_upper = np.asarray(upper, float)
        self.columns = columns
        super().__init__(pyo.RangeSet(0, self.matrix.shape[0] - 1), **kwargs)

    def construct(self, data=None) -> None:
        """Create one row object per nonempty row (no expressions)."""
        if self._constructed:
            return
        self._constructed = True
        for index_set in self._anonymous_sets or ():
            index_set.construct()
        empty = np.diff(self.matrix.indptr) == 0
        bad = np.flatnonzero(empty & ((self.row_lower > 1e-9) | (self.row_upper < -1e-9)))
        if bad.size:
            r = int(bad[0])
            raise InfeasibleRowError(self.local_name, r, self.row_lower[r], self.row_upper[r])
        ref = weakref.ref(self)
        with PauseGC():
            self._data = {r: _SparseRowData(ref, r) for r in np.flatnonzero(~empty).tolist()}

    def row_expression(self, row: int):
        """The Pyomo relational expression of one row."""
        m = self.matrix
        start, end = m.indptr[row], m.indptr[row + 1]
        body = LinearExpression(
            linear_coefs=m.data[start:end].tolist(),
            linear_vars=[self.columns[c] for c in m.indices[start:end].tolist()],
        )
        lo, hi = float(self.row_lower[row]), float(self.row_upper[row])
        if lo == hi:
            return EqualityExpression((body, hi))
        if math.isinf(lo):
            return InequalityExpression((body, hi), False)
        if math.isinf(hi):
            return InequalityExpression((lo, body), False)
        return RangedExpression((lo, body, hi), False)

    def active_rows(self) -> np.ndarray:
        """Row numbers of the rows that exist and are active, ascending."""
        rows = np.fromiter(self._data.keys(), np.int64, len(self._data))
        active = np.fromiter((d._active for d in self._data.values()), bool, len(self._data))
        return rows if active.all() else rows[active]


class SparseObjective(ScalarObjective):
    """The objective ``weights @ columns``; its Pyomo expression is built when asked for.

    Assigning another expression (``obj.expr = ...``) replaces the vector for good
    (``weights`` becomes ``None``).
    """

    def __init__(self, weights: np.ndarray, columns: list, sense=pyo.minimize, **kwargs) -> None:
        self.__dict__["_expression"] = None
        super().__init__(sense=sense, **kwargs)
        self.weights: np.ndarray | None = np.asarray(weights, float)
        self.columns = columns
        self._expression = None

    @property
    def _args_(self):
        # Shadows ObjectiveData's slot: the expression is made from the vector on first use.
        if self._expression is None:
            self._expression = (linear_expression(self.weights, self.columns),)
        return self._expression

    @_args_.setter
    def _args_(self, args) -> None:
        self.__dict__["_expression"] = args
        self.__dict__["weights"] = None

    def construct(self, data=None) -> None:
        """Mark constructed with its sense; no expression yet."""
        if self._constructed:
            return
        self._constructed = True
        self._data[None] = self
        self.set_sense(self._init_sense(self.parent_block(), None))


def appearance_order(matrix: sp.csr_matrix, cost: np.ndarray) -> np.ndarray:
    """Columns in the order Pyomo's per-row path would create them in HiGHS.

    That is by first appearance in the rows, then the objective's other columns; columns used
    nowhere are left out. HiGHS then receives the very model the per-row path builds, so its
    results (down to tolerance-level noise) do not depend on which path was taken.
    """
    cols, first = np.unique(matrix.indices, return_index=True)
    in_rows = cols[np.argsort(first, kind="stable")]
    used = np.zeros(len(cost), bool)
    used[in_rows] = True
    return np.concatenate([in_rows, np.flatnonzero((cost != 0) & ~used)]).astype(np.int64)
