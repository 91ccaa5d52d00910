"""Pyomo components built from arrays: labelled sets and variables, and rows kept as CSR.

Each is an ordinary Pyomo component (printing, file writers, other solver interfaces and
``model.y["SH-01"]`` all work), created in one pass over numpy arrays instead of one rule call
per element:

- :func:`labelled_set`: an insertion-ordered ``Set`` of labels (site ids, ``(zone, site,
  type)`` triples, ...), filled in one dictionary update;
- :func:`add_variables`: an indexed ``Var`` over such a set (or over ``0..n-1``), one variable
  per label with its bounds, copied from a template;
- :class:`SparseConstraint`: one family of rows ``lower <= A @ columns <= upper`` that keeps
  its CSR matrix; a row's Pyomo expression is only built if something asks for it;
- :class:`SparseObjective`: ``weights @ columns + constant``, likewise.

Building costs one Python object per variable and per row, none per nonzero.
:class:`~chargeplan.solver.interface.SparseHighs` reads the arrays of the last two directly.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.common.gc_manager import PauseGC
from pyomo.core.base.constraint import ConstraintData, IndexedConstraint
from pyomo.core.base.objective import ScalarObjective
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import LinearExpression, SumExpression
from pyomo.core.expr.relational_expr import (
    EqualityExpression,
    InequalityExpression,
    RangedExpression,
)

from chargeplan.errors import InputError
from chargeplan.model.rows import InfeasibleRowError, check_empty_rows

__all__ = [
    "DuplicateLabelError",
    "InfeasibleRowError",
    "SparseConstraint",
    "SparseObjective",
    "add_variables",
    "labelled_set",
    "linear_expression",
]


class DuplicateLabelError(InputError, ValueError):
    """Two variables or rows would get the same label (ids that are not distinct)."""


def labelled_set(labels: Sequence | dict = (), dimen: int = 1) -> pyo.Set:
    """A constructed, insertion-ordered Pyomo ``Set`` holding ``labels`` in their order.

    ``labels``: hashable scalars (``dimen=1``) or tuples of length ``dimen``, all distinct,
    or a dict whose keys they are (its stored hashes are reused: about twice as fast). Pyomo's
    own ``Set(initialize=labels)`` checks every member's dimension on the way, which takes
    about three times as long; the members here come from unique ids, so one dictionary does.

    Raises
    ------
    DuplicateLabelError
        If a label occurs twice (two variables would share one name).
    """
    members = pyo.Set(dimen=dimen, ordered=pyo.Set.InsertionOrder)
    members.construct()
    values = dict.fromkeys(labels)
    if len(values) != len(labels):
        raise _duplicates(len(labels) - len(values))
    members._values = values
    members._ordered_values = None
    return members


def _duplicates(count: int) -> DuplicateLabelError:
    return DuplicateLabelError(
        f"{count} labels occur twice: give every zone, site and charger type a distinct id"
    )


def add_variables(
    var: pyo.Var, keys: Sequence, lower: np.ndarray, upper: np.ndarray
) -> list[VarData]:
    """Create the variables ``var[key]`` of a constructed, empty ``Var`` with these bounds.

    ``keys``: the index of each variable, in order; an empty labelled index set
    (:func:`labelled_set` without labels) gets them as its members. Pyomo's own dense
    construction walks the index set and copies a template variable per index; doing the copy
    here, with each variable's bounds set on the way (infinite means none, values as Pyomo
    would store them), takes about 40 % less time for the same objects. Returns the variables
    in the order of ``keys``.

    Raises
    ------
    DuplicateLabelError
        If a key occurs twice.
    """
    lo = lower.astype(object)
    lo[np.isinf(lower)] = None
    hi = upper.astype(object)
    hi[np.isinf(upper)] = None
    if lo.size == 0:
        return []
    template = var._getitem_when_not_present(keys[0])  # one variable as Pyomo makes it
    copy = VarData.copy
    data = []
    with PauseGC():  # millions of new objects, no cycles among them: skip the collector
        for key, a, b in zip(keys, lo.tolist(), hi.tolist(), strict=True):
            item = copy(template)
            item._index = key
            item._lb = a
            item._ub = b
            data.append(item)
        var._data.update(zip(keys, data, strict=True))
        if len(var._data) != len(keys):
            raise _duplicates(len(keys) - len(var._data))
        members = var.index_set()
        if isinstance(members, pyo.Set) and not isinstance(members, pyo.RangeSet):
            if not len(members):
                members._values = dict.fromkeys(var._data)  # reuses the hashes
                members._ordered_values = None
    return data


def linear_expression(
    coefficients: np.ndarray, columns: list, constant: float = 0.0
) -> LinearExpression:
    """``constant + sum_c coefficients[c] * columns[c]`` over the nonzero coefficients."""
    nz = np.flatnonzero(coefficients)
    return LinearExpression(
        constant=float(constant),
        linear_coefs=coefficients[nz].astype(float).tolist(),
        linear_vars=[columns[c] for c in nz.tolist()],
    )


class _SparseRowData(ConstraintData):
    """One row of a :class:`SparseConstraint`; its expression is built when asked for."""

    __slots__ = ("_row",)

    def __init__(self, component: weakref.ref, row: int, label: Any) -> None:
        # ConstraintData's slots (Pyomo declares them; mypy does not see them)
        self._component = component  # type: ignore[misc]
        self._active = True  # type: ignore[misc]
        self._index = label  # type: ignore[misc]
        self._row = row

    @property
    def _expr(self):
        # Shadows ConstraintData's slot: the row lives in the parent's arrays.
        return self.parent_component().row_expression(self._row)

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

    Indexed by ``index`` (a constructed Set whose members label the rows in order, e.g. the
    sites or the ``(site, type)`` pairs they belong to) or by row number. Rows without
    variables are left out (they are checked instead: 0 must lie within their bounds). Each
    row is a Pyomo ``ConstraintData`` (``body``, ``lower``, ``upper``, ``expr``,
    ``deactivate()`` work) whose expression is built from the arrays only when asked for.

    Parameters
    ----------
    matrix
        ``(rows, len(columns))`` coefficients.
    lower, upper
        Row bounds (``-inf``/``inf``: none).
    columns
        The variables, in the matrix's column order.
    index
        The row labels as a constructed ordered Set with one member per row (default: the
        row numbers).
    """

    def __init__(
        self,
        matrix: sp.spmatrix,
        lower: np.ndarray,
        upper: np.ndarray,
        columns: list,
        index: pyo.Set | None = None,
        **kwargs,
    ) -> None:
        self.matrix = sp.csr_matrix(matrix)
        self.matrix.sort_indices()
        self.row_lower = np.asarray(lower, float)
        self.row_upper = np.asarray(upper, float)
        self.columns = columns
        n_rows = self.matrix.shape[0]
        if index is None:
            index = pyo.RangeSet(0, n_rows - 1)
        elif len(index) != n_rows:
            raise ValueError(f"{len(index)} row labels for {n_rows} rows")
        self._labelled = not isinstance(index, pyo.RangeSet)
        super().__init__(index, **kwargs)

    _constructed: bool

    def construct(self, data=None) -> None:
        """Create one row object per nonempty row (no expressions)."""
        if self._constructed:
            return
        self._constructed = True
        for index_set in self._anonymous_sets or ():
            index_set.construct()
        check_empty_rows(self.local_name, self.matrix, self.row_lower, self.row_upper)
        empty = np.diff(self.matrix.indptr) == 0
        ref = weakref.ref(self)
        rows = np.flatnonzero(~empty).tolist()
        labels = self.index_set().ordered_data() if self._labelled else None
        with PauseGC():
            if labels is None:
                self._data = {r: _SparseRowData(ref, r, r) for r in rows}
            else:
                self._data = {labels[r]: _SparseRowData(ref, r, labels[r]) for r in rows}

    def row_expression(self, row: int):
        """The Pyomo relational expression of one row (by row number)."""
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

    def active_rows(self) -> tuple[np.ndarray, list]:
        """The rows that exist and are active: their numbers (ascending) and row objects."""
        data = list(self._data.values())
        rows = np.fromiter((d._row for d in data), np.int64, len(data))
        active = np.fromiter((d._active for d in data), bool, len(data))
        if active.all():
            return rows, data
        return rows[active], [d for d, on in zip(data, active.tolist(), strict=True) if on]


class SparseObjective(ScalarObjective):
    """The objective ``weights @ columns + constant (+ extra)``, built as an expression only
    when asked for.

    ``pyo.value(objective)`` is the whole cost, constant included. Terms added the Pyomo way,
    ``obj.expr += term`` (or ``-=``), leave the vector in place and are kept apart as
    ``extra``, so that :class:`~chargeplan.solver.interface.SparseHighs` still passes the
    vector as an array and reads only the added terms as an expression. Any other new
    expression (``obj.expr = 2 * obj.expr``, a new sum) replaces the vector and the constant
    for good (``weights`` becomes ``None``; the new expression holds both).
    """

    def __init__(
        self,
        weights: np.ndarray,
        columns: list,
        constant: float = 0.0,
        sense=pyo.minimize,
        **kwargs,
    ) -> None:
        self.__dict__["_expression"] = None
        super().__init__(sense=sense, **kwargs)
        self.weights: np.ndarray | None = np.asarray(weights, float)
        self.constant = float(constant)
        self.columns = columns
        self.extra: SumExpression | None = None
        self._vector: LinearExpression | None = None
        self._expression = None

    @property
    def _args_(self):
        # Shadows ObjectiveData's slot: the expression is made from the vector on first use.
        if self._expression is None:
            self._vector = linear_expression(self.weights, self.columns, self.constant)
            self._expression = (self._vector,)
        return self._expression

    @_args_.setter
    def _args_(self, args) -> None:
        state = self.__dict__
        vector = state.get("_vector")
        extra = _added_terms(args[0], vector) if state.get("weights") is not None else None
        state["_expression"] = args
        if extra is None:
            state["weights"] = None
            state["extra"] = None
        else:
            state["extra"] = SumExpression(extra) if extra else None

    _constructed: bool

    def construct(self, data=None) -> None:
        """Mark constructed with its sense; no expression yet."""
        if self._constructed:
            return
        self._constructed = True
        self._data[None] = self
        self.set_sense(self._init_sense(self.parent_block(), None))


def _added_terms(expr, vector: LinearExpression | None) -> list | None:
    """The terms ``expr`` adds to ``vector`` if it is ``vector + terms``, else ``None``.

    Pyomo's ``+=`` on a sum appends to the sum's argument list in place (the longer sum shares
    the list, ``_args_``, with the shorter one) or makes a new sum whose first argument is the
    old one; both are recognised, anything else is not.
    """
    if vector is None or not isinstance(expr, SumExpression):
        return None
    if expr._args_ is vector._args_ and expr.nargs() >= vector.nargs():
        return list(expr.args[vector.nargs() :])
    if expr.nargs():
        head = _added_terms(expr.arg(0), vector)
        if head is not None:
            return head + list(expr.args[1:])
    return None
