"""A small sparse builder for MILPs, and its hand-off to Pyomo and HiGHS at array speed.

Models are assembled as numpy arrays (:class:`SparseMILP`: columns in named blocks with
bound, integrality and label arrays, rows in named families as COO triplets) and only then
turned into something a solver reads:

- :meth:`SparseMILP.to_pyomo`: a labelled Pyomo model (:mod:`chargeplan.model.components`):
  per column block a ``Set`` of its labels and a ``Var`` over it (``model.y["SH-01"]``,
  ``model.x["Z3", "SH-01", "dc_fast"]``), per row family a
  :class:`~chargeplan.model.components.SparseConstraint` indexed by its row labels, and the
  objective, constant included, as a :class:`~chargeplan.model.components.SparseObjective`.
  Both keep the arrays they were built from;
- :class:`~chargeplan.solver.interface.SparseHighs` passes those arrays to ``highspy`` in one
  ``passModel`` call; anything else on the model goes through Pyomo's usual path;
- :meth:`SparseMILP.to_highs`: the same arrays passed to ``highspy`` with no Pyomo at all, the
  baseline the benchmarks compare against.

``docs/scale.md`` ("Fast model building") has the measurements behind this design.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from chargeplan.model.rows import CsrRows, InfeasibleRowError, stack_rows

if TYPE_CHECKING:  # Pyomo and SciPy are imported on use: the array path runs without them
    import pyomo.environ as pyo
    import scipy.sparse as sp

__all__ = [
    "BINARY",
    "CONTINUOUS",
    "INTEGER",
    "InfeasibleRowError",
    "Labels",
    "SparseMILP",
    "appearance_order",
    "pass_arrays",
    "renumber_columns",
]

CONTINUOUS, INTEGER, BINARY = 0, 1, 2

#: Labels of a block's columns or a family's rows: one array per dimension (zone ids, site
#: ids, types, ...), all of the block's length; the Pyomo index of element ``i`` is the tuple
#: of the arrays' ``i``-th entries (the entry itself for one array).
Labels = tuple[np.ndarray, ...]


@dataclass
class SparseMILP:
    """Columns in named blocks, rows in named families, objective as a dense vector.

    ``labels`` and ``row_labels`` name each block's columns and each family's rows (default:
    their positions); a family's labels can also be the name of a block with one column per
    row, whose labels it then shares (``assign`` rows are labelled like the ``u`` columns). A
    block's labels may be given as a function that makes them, called only when they are
    needed (:meth:`block_labels`: the Pyomo model): the array path never names a column.
    """

    blocks: dict[str, tuple[int, int]] = field(default_factory=dict)
    lower: list[np.ndarray] = field(default_factory=list)
    upper: list[np.ndarray] = field(default_factory=list)
    kind: list[np.ndarray] = field(default_factory=list)
    families: dict[str, tuple[CsrRows, np.ndarray, np.ndarray]] = field(default_factory=dict)
    objective: np.ndarray | None = None
    objective_offset: float = 0.0
    labels: dict[str, Labels | Callable[[], Labels]] = field(default_factory=dict)
    row_labels: dict[str, Labels | str] = field(default_factory=dict)
    #: HiGHS gets the integer columns first (:func:`appearance_order`; the rule:
    #: :func:`chargeplan.model.links.integers_first`).
    integers_first: bool = False

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
        labels: Labels | Callable[[], Labels] | None = None,
    ) -> np.ndarray:
        """Append a block of ``size`` columns; return their positions. ``labels``: the
        columns' labels, or a function making them (called when they are needed)."""
        start = self.n_cols
        self.blocks[name] = (start, size)
        self.lower.append(_filled(lower, size))
        self.upper.append(_filled(upper, size))
        self.kind.append(np.full(size, kind, np.int8))
        if labels is not None:
            self.labels[name] = labels if callable(labels) else _checked(labels, size, name)
        return start + np.arange(size)

    def block_labels(self, name: str) -> Labels:
        """The labels of block ``name`` (made now if they were given as a function)."""
        labels = self.labels[name]
        if callable(labels):
            labels = self.labels[name] = _checked(labels(), self.blocks[name][1], name)
        return labels

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
        labels: Labels | str | None = None,
    ) -> None:
        """Add ``lower <= A x <= upper`` with ``A`` given as COO triplets (duplicates add up).

        ``labels``: the rows' labels, or the name of a block of ``n_rows`` columns whose
        labels the rows share (default: row numbers).
        """
        if n_rows == 0:
            return
        matrix = CsrRows.from_triplets(rows, cols, values, (n_rows, self.n_cols))
        self.add_row_matrix(name, matrix, lower, upper, labels)

    def add_row_matrix(
        self,
        name: str,
        matrix: CsrRows,
        lower: float | np.ndarray | None,
        upper: float | np.ndarray | None,
        labels: Labels | str | None = None,
    ) -> None:
        """:meth:`add_rows` with ``A`` given as rows already (:class:`CsrRows`: columns sorted
        and distinct within each row, no zero stored), for a family whose rows are built in
        that form directly."""
        n_rows = matrix.shape[0]
        if n_rows == 0:
            return
        lo = _filled(-np.inf if lower is None else lower, n_rows)
        hi = _filled(np.inf if upper is None else upper, n_rows)
        self.families[name] = (matrix, lo, hi)
        if isinstance(labels, str):
            if self.blocks[labels][1] != n_rows:
                raise ValueError(f"family {name}: {n_rows} rows, block {labels} is not as long")
            self.row_labels[name] = labels
        elif labels is not None:
            self.row_labels[name] = _checked(labels, n_rows, name)

    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Column lower and upper bounds and kinds, in column order."""
        return np.concatenate(self.lower), np.concatenate(self.upper), np.concatenate(self.kind)

    def matrix(self) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """All rows stacked: SciPy's matrix and the row bounds."""
        rows, lower, upper = self.row_arrays()
        return rows.tocsr(), lower, upper

    def row_arrays(self) -> tuple[CsrRows, np.ndarray, np.ndarray]:
        """All rows stacked as numpy arrays (no SciPy), and their bounds."""
        return (
            # columns added after a family keep zeros in its rows: the stack is n_cols wide
            stack_rows([m for m, _, _ in self.families.values()], self.n_cols),
            np.concatenate([lo for _, lo, _ in self.families.values()] or [np.empty(0)]),
            np.concatenate([hi for _, _, hi in self.families.values()] or [np.empty(0)]),
        )

    def to_pyomo(self, name: str = "chargeplan") -> tuple[pyo.ConcreteModel, list]:
        """A Pyomo model: per block a labelled ``Var``, per family a ``SparseConstraint``.

        A labelled block ``y`` becomes the Set ``y_index`` of its labels and the Var ``y``
        over it; a family with its own labels gets the Set ``<family>_index``, one that shares
        a block's labels is indexed by that block's Set; unlabelled ones are indexed by
        position. The objective ``obj`` (a :class:`SparseObjective`, minimised) includes the
        constant ``objective_offset``. Returns the model and the flat list of its variables in
        column order (also ``model.columns``). Solve it with
        :class:`~chargeplan.solver.interface.SparseHighs` to hand the arrays to HiGHS
        directly; any other Pyomo solver interface works too, building each row's expression
        on the way.

        Raises
        ------
        InfeasibleRowError
            If a row has no variables and its bounds exclude 0.
        """
        import pyomo.environ as pyo
        from pyomo.common.gc_manager import PauseGC

        from chargeplan.model.components import (
            SparseConstraint,
            SparseObjective,
            add_variables,
            labelled_set,
        )

        domains = {CONTINUOUS: pyo.Reals, INTEGER: pyo.Integers, BINARY: pyo.Binary}
        model = pyo.ConcreteModel(name=name)
        lower, upper, kind = self.bounds()
        columns: list = []
        with PauseGC():  # millions of new objects, no cycles among them: skip the collector
            for block, (start, size) in self.blocks.items():
                domain = domains[int(kind[start])] if size else pyo.Reals
                keys: Sequence
                if block in self.labels:
                    labels = self.block_labels(block)
                    keys = _keys(labels)
                    index = labelled_set(dimen=len(labels))  # filled with the Var
                    model.add_component(f"{block}_index", index)
                else:
                    keys = range(size)
                    index = pyo.RangeSet(0, size - 1)
                var = pyo.Var(index, domain=domain, dense=False)
                model.add_component(block, var)
                span = slice(start, start + size)
                columns.extend(add_variables(var, keys, lower[span], upper[span]))
            for family, (matrix, lo, hi) in self.families.items():
                named = self.row_labels.get(family)
                if isinstance(named, str):
                    rows = model.component(f"{named}_index") if named in self.labels else None
                elif named is not None:
                    rows = labelled_set(_keys(named), len(named))
                    model.add_component(f"{family}_index", rows)
                else:
                    rows = None
                constraint = SparseConstraint(matrix.tocsr(), lo, hi, columns, index=rows)
                model.add_component(family, constraint)
        weights = np.zeros(self.n_cols) if self.objective is None else self.objective
        model.obj = SparseObjective(weights, columns, constant=self.objective_offset)
        model.columns = columns
        return model, columns

    def to_highs(self, pyomo_order: bool = False):
        """The same model as a ``highspy.Highs`` instance, no Pyomo involved (for benchmarks).

        ``pyomo_order``: pass the columns in the order :class:`SparseHighs` gives them to HiGHS
        (:meth:`highs_order`), so that HiGHS receives the very model of the Pyomo path and
        follows the same search; HiGHS's column ``c`` is then column ``highs_order()[c]``. The
        objective's constant is left out, as :class:`SparseHighs` leaves it out.
        """
        import highspy

        lower, upper, kind = self.bounds()
        matrix, row_lo, row_hi = self.row_arrays()
        weights = np.zeros(self.n_cols) if self.objective is None else self.objective
        if pyomo_order:
            order = appearance_order(matrix, weights, self.integer_mask(kind))
            matrix = renumber_columns(matrix, order, self.n_cols)
            lower, upper, kind, weights = lower[order], upper[order], kind[order], weights[order]
        highs = highspy.Highs()
        pass_arrays(highs, lower, upper, kind != CONTINUOUS, weights, matrix, row_lo, row_hi)
        return highs

    def highs_order(self) -> np.ndarray:
        """The columns in the order :class:`SparseHighs` passes them (unused ones left out)."""
        matrix, _, _ = self.row_arrays()
        weights = np.zeros(self.n_cols) if self.objective is None else self.objective
        return appearance_order(matrix, weights, self.integer_mask(self.bounds()[2]))

    def integer_mask(self, kind: np.ndarray) -> np.ndarray | None:
        """The integer columns for :func:`appearance_order` (``None``: the order as it comes)."""
        return kind != CONTINUOUS if self.integers_first else None


def renumber_columns(matrix: CsrRows, order: np.ndarray, n_cols: int) -> CsrRows:
    """The rows with column ``order[c]`` renamed ``c`` (columns not in ``order`` must be unused)."""
    rank = np.full(n_cols, -1, np.int64)
    rank[order] = np.arange(order.size)
    indices = rank[matrix.indices].astype(matrix.indices.dtype)
    return CsrRows(matrix.data, indices, matrix.indptr, (matrix.shape[0], order.size))


def _filled(value: float | np.ndarray, size: int) -> np.ndarray:
    """``(size,)`` float64, a new array: ``value`` repeated (a number) or copied (an array)."""
    if isinstance(value, (int, float)):
        return np.full(size, value, float)
    array = np.array(value, float)  # a copy
    return array if array.shape == (size,) else np.broadcast_to(array, (size,)).copy()


def _checked(labels: Labels, size: int, name: str) -> Labels:
    labels = tuple(np.asarray(a) for a in labels)
    if not labels or any(a.shape != (size,) for a in labels):
        raise ValueError(f"{name}: give one label array of length {size} per dimension")
    return labels


def _keys(labels: Labels) -> list:
    """The Pyomo indices of labelled elements: plain Python scalars, or tuples of them."""
    if len(labels) == 1:
        return labels[0].tolist()
    return list(zip(*(a.tolist() for a in labels), strict=True))


def pass_arrays(
    highs,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    integer: np.ndarray,
    cost: np.ndarray,
    matrix: CsrRows | sp.csr_matrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    maximize: bool = False,
) -> None:
    """Load a whole MILP into a ``highspy.Highs`` object: one ``passModel``, row-wise matrix.

    The arrays go through highspy's pointer form of ``passModel`` (column count, row count,
    nonzeros, matrix format, sense, offset, then the numpy arrays, integrality included), which
    copies each buffer once in C++. Filling a ``highspy.HighsLp`` attribute by attribute instead
    converts every element through Python (0.6 ms for cap41's 866 columns, 1.6 ms for cap131's
    2,600: ``docs/scale.md``, "The fixed cost per solve"); HiGHS receives the same model either
    way (``tests/test_direct_fixed_cost.py`` compares the two).
    """
    import highspy

    n_cols, n_rows = len(col_lower), matrix.shape[0]
    data = np.ascontiguousarray(matrix.data, dtype=np.float64)
    status = highs.passModel(
        n_cols,
        n_rows,
        data.size,
        int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize),
        0.0,
        np.ascontiguousarray(cost, dtype=np.float64),
        np.ascontiguousarray(col_lower, dtype=np.float64),
        np.ascontiguousarray(col_upper, dtype=np.float64),
        np.ascontiguousarray(row_lower, dtype=np.float64),
        np.ascontiguousarray(row_upper, dtype=np.float64),
        np.ascontiguousarray(matrix.indptr, dtype=np.int32),
        np.ascontiguousarray(matrix.indices, dtype=np.int32),
        data,
        np.asarray(integer, dtype=bool).astype(np.int32),  # HighsVarType: 0 continuous, 1 integer
    )
    if status == highspy.HighsStatus.kError:
        raise ValueError(f"HiGHS refused the model ({n_cols} columns, {n_rows} rows)")


def appearance_order(
    matrix: CsrRows | sp.csr_matrix, cost: np.ndarray, integer: np.ndarray | None = None
) -> np.ndarray:
    r"""Columns in the order Pyomo's per-row path would create them in HiGHS.

    That is by first appearance in the rows, then the objective's other columns; columns used
    nowhere are left out. HiGHS then receives the very model the per-row path builds, so its
    results (down to tolerance-level noise) do not depend on which path was taken.

    ``integer`` (a mask over the columns, for a model whose :attr:`SparseMILP.integers_first`
    is set): the integer columns first, then the others, each part in the order above.

    Mathematics: with :math:`e = 0, \dots, E-1` the stored entries in row order and
    :math:`c(e)` their columns, column :math:`c` first appears at
    :math:`p_c = \min \{e : c(e) = c\}` (``np.minimum.at``; :math:`p_c = E` for a column in
    no row). The :math:`p_c < E` are distinct, so placing column :math:`c` at slot :math:`p_c`
    and reading the filled slots in order sorts the columns by first appearance in
    :math:`O(E)`, without a sort (``np.unique`` with ``return_index`` sorted the entries: 0.18
    against 0.07 ms on cap71 as UFLP, docs/scale.md "The fixed cost").
    """
    columns = np.asarray(matrix.indices)
    n, nnz = len(cost), columns.size
    first = np.full(n, nnz, np.int64)
    np.minimum.at(first, columns, np.arange(nnz))
    slot = np.full(nnz + 1, -1, np.int64)
    slot[first] = np.arange(n)  # the p_c < E are distinct; columns in no row all hit slot E
    in_rows = slot[:nnz][slot[:nnz] >= 0]
    others = np.flatnonzero((cost != 0) & (first == nnz))
    order = np.concatenate([in_rows, others]) if others.size else in_rows
    if integer is not None:
        part = np.asarray(integer, bool)[order]
        order = np.concatenate([order[part], order[~part]])
    return order
