"""The HiGHS solver interface: Pyomo's ``contrib.solver`` HiGHS, taught to pass arrays.

:class:`SparseHighs` is a Pyomo solver (``solve(model, time_limit=..., rel_gap=...)``, results
with ``incumbent_objective``, ``objective_bound`` and a solution loader) that recognises the
:class:`~chargeplan.model.components.SparseConstraint` and
:class:`~chargeplan.model.components.SparseObjective` components of a model and hands their
arrays to ``highspy`` in one ``passModel`` call; every other constraint, variable or objective
on the model goes through Pyomo's usual path, so a model extended the Pyomo way still solves::

    from chargeplan.solver.interface import SparseHighs
    results = SparseHighs().solve(model, rel_gap=0.001, time_limit=60)  # values loaded
    results.incumbent_objective  # the plan's cost, the objective's constant included

Any other Pyomo solver solves the same model (``pyo.SolverFactory("appsi_highs")``), building
one expression per row on the way. ``docs/model.md`` ("How the model is built") describes it.

**Pyomo versions.** :class:`SparseHighs` subclasses ``pyomo.contrib.solver.solvers.highs``,
which Pyomo calls a preview, and overrides some of its internals; it is tested with the Pyomo
versions in :data:`TESTED_PYOMO` (the ``pyomo`` pin of ``pyproject.toml``). With another
version it refuses to start (:class:`UntestedPyomoError`) unless the environment variable
``CHARGEPLAN_UNTESTED_PYOMO=1`` is set, which turns the refusal into a warning.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections import defaultdict
from operator import attrgetter

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.common.collections import ComponentMap
from pyomo.common.tee import TeeStream, capture_output
from pyomo.contrib.solver.common.util import (
    IncompatibleModelError,
    NoReducedCostsError,
    NoSolutionError,
    get_objective,
)

try:
    from pyomo.contrib.solver.solvers.highs import Highs
except ImportError as error:  # Pyomo before 6.9.2 has no contrib.solver HiGHS interface
    raise ImportError(
        'chargeplan needs Pyomo >= 6.9.2 (pip install "pyomo>=6.9.2,<6.11"): its HiGHS '
        "interface builds on pyomo.contrib.solver.solvers.highs"
    ) from error
from pyomo.core.expr.numvalue import value
from pyomo.core.staleflag import StaleFlagManager
from pyomo.repn.standard_repn import generate_standard_repn

from chargeplan.errors import SolveError
from chargeplan.model.components import SparseConstraint, SparseObjective
from chargeplan.model.links import integers_first
from chargeplan.model.sparse import appearance_order, pass_arrays

__all__ = [
    "TESTED_PYOMO",
    "SparseHighs",
    "UntestedPyomoError",
    "check_pyomo_version",
    "column_bounds",
]

log = logging.getLogger(__name__)

#: The Pyomo versions :class:`SparseHighs` is tested with: from the first to before the second
#: (6.9.2, the first with ``pyomo.contrib.solver``'s HiGHS interface, 6.9.5, 6.10.0, 6.10.1).
TESTED_PYOMO = ((6, 9, 2), (6, 11, 0))
#: Set to 1 to run :class:`SparseHighs` with an untested Pyomo (with a warning).
UNTESTED_PYOMO_VARIABLE = "CHARGEPLAN_UNTESTED_PYOMO"


class UntestedPyomoError(SolveError):
    """The installed Pyomo is not one :class:`SparseHighs` was tested with."""


def check_pyomo_version(version: tuple[int, ...] | None = None) -> None:
    """Refuse (or, with ``CHARGEPLAN_UNTESTED_PYOMO=1``, warn about) an untested Pyomo.

    Parameters
    ----------
    version
        ``(major, minor, ...)``; default the installed Pyomo's.

    Raises
    ------
    UntestedPyomoError
        If the version is not in :data:`TESTED_PYOMO` and the variable is not set.
    """
    if version is None:
        from pyomo.version import version_info

        version = tuple(version_info[:3])
    first, end = TESTED_PYOMO
    if first <= tuple(version[:3]) < end:
        return
    found = ".".join(str(v) for v in version)
    message = (
        f"chargeplan's HiGHS interface (SparseHighs) builds on internals of Pyomo's "
        f"pyomo.contrib.solver and is tested with Pyomo 6.9.2 to 6.10; found Pyomo {found}. "
        f'Install a tested one (pip install "pyomo>=6.9.2,<6.11"), or set '
        f"{UNTESTED_PYOMO_VARIABLE}=1 to try this one"
    )
    if os.environ.get(UNTESTED_PYOMO_VARIABLE) == "1":
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        return
    raise UntestedPyomoError(message)


try:  # Pyomo >= 6.10: HiGHS has its own loader, which takes the model
    from pyomo.contrib.solver.solvers.highs import HighsSolutionLoader as _Loader

    _LOADER_TAKES_MODEL = True
except ImportError:  # Pyomo 6.9
    from pyomo.contrib.solver.common.solution_loader import PersistentSolutionLoader as _Loader

    _LOADER_TAKES_MODEL = False


class _SparseSolutionLoader(_Loader):
    def __init__(self, solver: SparseHighs, model) -> None:
        if _LOADER_TAKES_MODEL:
            super().__init__(solver, model)
        else:
            super().__init__(solver)

    def load_vars(self, vars_to_load=None) -> None:
        self._assert_solution_still_valid()
        self._solver._load_vars(vars_to_load)


class SparseHighs(Highs):
    """Pyomo's ``contrib.solver`` HiGHS interface, with sparse families passed as arrays.

    Every active :class:`SparseConstraint` of the model (and a :class:`SparseObjective` that
    still holds its vector) goes to HiGHS in one ``passModel`` call, with bounds, domains and
    fixings read from the Pyomo variables; every other active constraint and objective goes
    through the parent class's usual path. Solutions are loaded back into the Pyomo variables
    in one pass.

    Each solve rebuilds the HiGHS model from the Pyomo model (``update()`` is
    ``set_instance()``): with arrays that costs about as much as the incremental bookkeeping
    it replaces, and any change to the model is picked up.

    HiGHS receives the columns in the order they first appear in the rows (then the
    objective's others), the order Pyomo's per-row path would create them in, so the same
    model always gives HiGHS the same problem. A :class:`SparseObjective`'s constant is not
    passed to HiGHS (its relative MIP gap is measured on the variable part, as without the
    constant) but added to ``incumbent_objective`` and ``objective_bound``; terms added to it
    with ``+=`` are read as an expression and added to the vector's costs; an objective
    written as a new Pyomo expression goes to HiGHS whole, constant included.

    Parameters
    ----------
    warm_start
        Pass the variables' current values (those that have one) to HiGHS as a starting
        solution, for example the plan of an earlier stage.

    Raises
    ------
    UntestedPyomoError
        If the installed Pyomo is not one it was tested with (:func:`check_pyomo_version`).
    """

    def __init__(self, warm_start: bool = False, **kwargs) -> None:
        check_pyomo_version()
        super().__init__(**kwargs)
        self._warm_start = warm_start
        self._columns: list = []
        self._objective_constant = 0.0

    def _reinit(self) -> None:
        # Pyomo's Highs._reinit re-runs __init__ with its own arguments only: keep ours.
        warm_start = self._warm_start
        super()._reinit()
        self._warm_start = warm_start

    def set_instance(self, model) -> None:
        """Load the model into a new ``highspy.Highs`` object."""
        families = [
            c
            for c in model.component_objects(pyo.Constraint, active=True, descend_into=True)
            if isinstance(c, SparseConstraint)
        ]
        objective = get_objective(model)
        sparse_objective = isinstance(objective, SparseObjective) and objective.weights is not None
        self._objective_constant = 0.0
        if not families and not sparse_objective:
            self._columns = []
            super().set_instance(model)
            return
        import highspy

        if self._last_results_object is not None:
            self._last_results_object.solution_loader.invalidate()
        with capture_output(TeeStream(*self._active_config.tee), capture_fd=True):
            self._reinit()
            self._model = model
            self._referenced_variables: defaultdict = defaultdict(lambda: [{}, {}, None])
            columns, positions = _union_columns(
                [f.columns for f in families] + ([objective.columns] if sparse_objective else [])
            )
            matrix, row_lo, row_hi, rows = _stack_families(families, len(columns), positions)
            cost = np.zeros(len(columns))
            if sparse_objective:
                where = positions[id(objective.columns)] if positions else slice(None)
                cost[where] = objective.weights
            lower, upper, integer = column_bounds(columns)
            origin = getattr(model, "chargeplan", None)  # integer columns first: as direct.py
            first = origin is not None and integers_first(origin.problem)
            order = appearance_order(matrix, cost, integer if first else None)
            lower, upper, integer = lower[order], upper[order], integer[order]
            rank = np.full(len(columns), -1, np.int64)
            rank[order] = np.arange(order.size)
            self._columns = [columns[i] for i in order.tolist()]
            self._solver_model = highspy.Highs()
            pass_arrays(
                self._solver_model,
                lower,
                upper,
                integer,
                cost[order],
                sp.csr_matrix(
                    (matrix.data, rank[matrix.indices], matrix.indptr),
                    shape=(matrix.shape[0], order.size),
                ),
                row_lo,
                row_hi,
                maximize=sparse_objective and not objective.is_minimizing(),
            )
            self._pyomo_con_to_solver_con_map.update((row, i) for i, row in enumerate(rows))
            self._solver_con_to_pyomo_con_map.update(enumerate(rows))
            others = _other_rows(model)
            if others:
                self._index_columns()
                self.add_constraints(others)
            if sparse_objective:
                self._objective = objective
                self._objective_sense = objective.sense
                self._vars_referenced_by_obj: list = []
                self._objective_constant = objective.constant
                if objective.extra is not None:
                    self._add_objective_terms(objective.extra, cost[order])
            else:
                self._index_columns()
                self.set_objective(objective)

    def _add_objective_terms(self, terms, cost: np.ndarray) -> None:
        """Add linear terms (a :class:`SparseObjective`'s ``extra``) to the costs passed."""
        repn = generate_standard_repn(terms, compute_values=True, quadratic=False)
        if repn.nonlinear_expr is not None:
            raise IncompatibleModelError(
                f"SparseHighs takes linear objective terms only, not {repn.nonlinear_expr}"
            )
        variables = list(repn.linear_vars)
        self._index_columns()
        self._check_for_new_vars(variables)  # a user's variable that no row holds
        index = self._pyomo_var_to_solver_var_map
        costs = np.zeros(self._solver_model.getNumCol())
        costs[: len(cost)] = cost
        for coef, var in zip(repn.linear_coefs, variables, strict=True):
            costs[index[id(var)]] += value(coef)
        self._solver_model.changeColsCost(costs.size, np.arange(costs.size, dtype=np.int32), costs)
        self._objective_constant += float(value(repn.constant))

    def _index_columns(self) -> None:
        """Fill Pyomo's variable-to-column map, which only the per-row path and lookups need."""
        index = self._pyomo_var_to_solver_var_map
        if len(index) < len(self._columns):
            index.update((id(v), i) for i, v in enumerate(self._columns))

    def update(self, timer=None) -> None:
        """Rebuild the HiGHS model from the Pyomo model."""
        self.set_instance(self._model)

    def update_parameters(self) -> None:
        """Rebuild the HiGHS model (mutable parameters are read afresh)."""
        self.set_instance(self._model)

    def _check_for_new_vars(self, variables: list) -> None:
        known = self._pyomo_var_to_solver_var_map
        super()._check_for_new_vars([v for v in variables if id(v) not in known])

    def _solve(self):
        if self._active_config.threads is not None:
            import highspy

            # HiGHS sizes one thread scheduler per process at its first solve; a later solve
            # asking for another thread count then stops without a plan unless it is reset.
            highspy.Highs.resetGlobalScheduler(True)
        if not self._warm_start:
            return super()._solve()
        start = time.perf_counter()
        self._pass_start()
        results = super()._solve()
        if self._start_misread():
            # HiGHS 1.16's presolve can map a MIP start into its reduced space with the wrong
            # objective, then stop "optimal" at that value and return the start unchanged
            # (tests/test_rollout.py has an instance). Solve again without presolve.
            log.warning(
                "HiGHS misread the starting plan's objective in presolve; solving again "
                "without presolve"
            )
            config = self._active_config
            if config.time_limit is not None:
                config.time_limit = max(config.time_limit - (time.perf_counter() - start), 1.0)
            self._solver_model.setOptionValue("presolve", "off")
            self._pass_start()
            results = super()._solve()
        return results

    def _start_misread(self) -> bool:
        """Whether HiGHS's objective differs from that of the solution it returns."""
        highs = self._solver_model
        solution = highs.getSolution()
        if not solution.value_valid:
            return False
        lp = highs.getLp()
        value = float(np.asarray(lp.col_cost_) @ np.asarray(solution.col_value)) + lp.offset_
        reported = highs.getInfo().objective_function_value
        return abs(value - reported) > 1e-7 * max(1.0, abs(reported))

    def _postsolve(self, *args):  # Pyomo 6.10 and 6.9.3+ pass the log stream, 6.9.2 nothing
        results = super()._postsolve(*args)
        if self._columns:
            results.solution_loader = _SparseSolutionLoader(self, self._model)
        constant = self._objective_constant
        if constant:
            if results.incumbent_objective is not None:
                results.incumbent_objective = float(results.incumbent_objective) + constant
            bound = results.objective_bound
            if bound is not None and np.isfinite(bound):
                results.objective_bound = float(bound) + constant
        return results

    def _pass_start(self) -> None:
        variables = self._all_variables()
        values = np.array([v.value for v in variables], dtype=float)  # None -> nan
        known = np.flatnonzero(~np.isnan(values)).astype(np.int32)
        if known.size:
            self._solver_model.setSolution(known.size, known, values[known])

    def _all_variables(self) -> list:
        """Every variable HiGHS holds, in its column order."""
        extra = sorted(
            (self._pyomo_var_to_solver_var_map[i], entry[0]) for i, entry in self._vars.items()
        )
        return self._columns + [v for _, v in extra]

    def _solver_values(self, vector: list, variables) -> list[tuple]:
        if variables is None:
            return list(zip(self._all_variables(), vector, strict=True))
        self._index_columns()
        index = self._pyomo_var_to_solver_var_map
        return [(v, vector[index[id(v)]]) for v in variables]

    def _load_vars(self, vars_to_load=None) -> None:
        if self._sol is None or not self._sol.value_valid:
            raise NoSolutionError()
        for var, val in self._solver_values(self._sol.col_value, vars_to_load):
            var.set_value(val, skip_validation=True)
        StaleFlagManager.mark_all_as_stale(delayed=True)

    def _get_primals(self, vars_to_load=None) -> ComponentMap:
        if self._sol is None or not self._sol.value_valid:
            raise NoSolutionError()
        return ComponentMap(self._solver_values(self._sol.col_value, vars_to_load))

    def _get_reduced_costs(self, vars_to_load=None) -> ComponentMap:
        if self._sol is None or not self._sol.dual_valid:
            raise NoReducedCostsError()
        return ComponentMap(self._solver_values(self._sol.col_dual, vars_to_load))


def _union_columns(lists: list[list]) -> tuple[list, dict[int, np.ndarray] | None]:
    """One column order for several column lists; ``None`` positions when they are one list."""
    distinct = list({id(c): c for c in lists}.values())
    if len(distinct) <= 1:
        return (distinct[0] if distinct else []), None
    order: dict[int, int] = {}
    columns: list = []
    for lst in distinct:
        for v in lst:
            if id(v) not in order:
                order[id(v)] = len(columns)
                columns.append(v)
    positions = {
        id(lst): np.fromiter((order[id(v)] for v in lst), np.int64, len(lst)) for lst in distinct
    }
    return columns, positions


def column_bounds(columns: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper bounds and integrality of Pyomo variables, as HiGHS needs them.

    Combines each variable's own bounds with its domain's (``Binary`` is ``[0, 1]``); a fixed
    variable gets its value as both bounds.
    """
    n = len(columns)
    lower = _bound_array(list(map(attrgetter("_lb"), columns)), -np.inf)
    upper = _bound_array(list(map(attrgetter("_ub"), columns)), np.inf)
    domains = list(map(attrgetter("_domain"), columns))
    ids = np.fromiter(map(id, domains), np.uint64, n)
    _, first, which = np.unique(ids, return_index=True, return_inverse=True)
    intervals = []
    for i in first.tolist():
        lo, hi, step = domains[i].get_interval()
        if step not in (0, 1):
            raise ValueError(f"unsupported domain step {step} (only continuous or integer)")
        intervals.append((-np.inf if lo is None else lo, np.inf if hi is None else hi, step))
    table = np.array(intervals, dtype=float).reshape(-1, 3)
    lower = np.maximum(lower, table[which, 0])
    upper = np.minimum(upper, table[which, 1])
    integer = table[which, 2] > 0
    fixed = np.flatnonzero(np.fromiter(map(attrgetter("_fixed"), columns), bool, n))
    if fixed.size:
        values = np.array([value(columns[i]) for i in fixed.tolist()], dtype=float)
        lower[fixed] = upper[fixed] = values
    return lower, upper, integer


def _bound_array(bounds: list, missing: float) -> np.ndarray:
    try:
        out = np.array(bounds, dtype=float)  # None -> nan
    except TypeError:  # mutable (Param) bounds: evaluate them now
        out = np.array([np.nan if b is None else value(b) for b in bounds], dtype=float)
    out[np.isnan(out)] = missing
    return out


def _stack_families(
    families: list[SparseConstraint], n_columns: int, positions: dict[int, np.ndarray] | None
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, list]:
    """The active rows of every sparse family as one matrix over the union of their columns.

    Returns the matrix, the row bounds and the Pyomo row objects, in family then row order.
    """
    blocks, row_lo, row_hi, rows = [], [], [], []
    for family in families:
        active, data = family.active_rows()
        matrix = family.matrix[active]
        if positions is not None:
            matrix = sp.csr_matrix(
                (matrix.data, positions[id(family.columns)][matrix.indices], matrix.indptr),
                shape=(matrix.shape[0], n_columns),
            )
        matrix.resize((matrix.shape[0], n_columns))
        blocks.append(matrix)
        row_lo.append(family.row_lower[active])
        row_hi.append(family.row_upper[active])
        rows.extend(data)
    stacked = sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, n_columns))
    return (
        stacked,
        np.concatenate(row_lo or [np.empty(0)]),
        np.concatenate(row_hi or [np.empty(0)]),
        rows,
    )


def _other_rows(model: pyo.ConcreteModel) -> list:
    """Active rows of the model's ordinary Pyomo constraints (a user's extension, say)."""
    return [
        data
        for c in model.component_objects(pyo.Constraint, active=True, descend_into=True)
        if not isinstance(c, SparseConstraint)
        for data in c.values()
        if data.active
    ]


class ReportingHighs(SparseHighs):
    """:class:`SparseHighs` with its costs scaled and its progress reported
    (:func:`chargeplan.solver.scaling.reporting`, as on the array path)."""

    def _solve(self):
        from chargeplan.solver.scaling import reporting

        with reporting(self._solver_model, self._objective_constant):
            return super()._solve()
