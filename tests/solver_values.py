"""Checks on the column values HiGHS hands back, before chargeplan decodes them into a plan.

Why the raw values: :func:`chargeplan.model.formulation.decode` clips every assignment share
``x`` and unmet share ``u`` into ``[0, 1]``, zeroes shares below 1e-9 and rounds the charger
counts. A bound asserted on a decoded :class:`~chargeplan.model.solution.Solution` (say
``served.min() >= 0``) therefore holds whatever HiGHS returned: it cannot fail. On the values
HiGHS returned it can.

:func:`check_every_solve` wraps ``column_values`` (through which
:func:`chargeplan.solver.highs.solve` and :func:`chargeplan.solver.rollout.solve_rollout` read
HiGHS's answer), and :func:`chargeplan.solver.direct.read_values` (the array path, no Pyomo
model: checked from the arrays with :func:`assert_array_values_feasible`), so that each solve of
a test first checks, with :func:`assert_values_feasible`:

1. the shares, read from the model's ``x*`` and ``u*`` blocks, lie in ``[0, 1]`` (the
   formulation's bounds, stated here, not read from the model, so that a model built with wrong
   bounds is caught too);
2. every value lies within the bounds its column was given, and integer and binary columns hold
   integers (HiGHS and the hand-off to it, :class:`chargeplan.solver.interface.SparseHighs`,
   return values for the right columns);
3. every active row of the model holds: ``lower <= A @ values <= upper``;

each within :data:`FEASIBILITY_TOL` (HiGHS's own tolerances are 1e-7 on rows and bounds and 1e-6
on integrality), scaled by ``1 + |bound|`` for rows.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

import chargeplan.solver.direct
import chargeplan.solver.highs
import chargeplan.solver.rollout
from chargeplan.model.components import SparseConstraint
from chargeplan.model.sparse import BINARY, INTEGER, SparseMILP

#: Slack allowed on bounds, rows and integrality of HiGHS's values.
FEASIBILITY_TOL = 1e-6
#: Modules whose solves read HiGHS's values through their global ``column_values``.
_READERS = (chargeplan.solver.highs, chargeplan.solver.rollout)


def _block(variable) -> str:
    return variable.parent_component().local_name


def assert_values_feasible(columns: list, values: np.ndarray, tol: float = FEASIBILITY_TOL):
    """``values`` (one per Pyomo variable in ``columns``, in order) satisfy the shares' range,
    the columns' bounds and integrality and every active row of the variables' model."""
    values = np.asarray(values, float)
    assert values.shape == (len(columns),), "one value per column"
    if not columns:
        return
    blocks = np.array([_block(v) for v in columns])
    share = np.array([b in ("x", "u") or b.startswith(("x_", "u_")) for b in blocks])
    outside = share & ((values < -tol) | (values > 1 + tol))
    assert not outside.any(), (
        f"a share outside [0, 1]: {blocks[outside][:3]} = {values[outside][:3]}"
    )
    lower = np.array([-np.inf if v.lb is None else v.lb for v in columns], float)
    upper = np.array([np.inf if v.ub is None else v.ub for v in columns], float)
    broken = (values < lower - tol) | (values > upper + tol)
    assert not broken.any(), (
        f"values outside their column bounds: {blocks[broken][:3]} = {values[broken][:3]}, "
        f"bounds {lower[broken][:3]}..{upper[broken][:3]}"
    )
    integer = np.array([v.is_integer() or v.is_binary() for v in columns])
    fractional = integer & (np.abs(values - np.rint(values)) > tol)
    assert not fractional.any(), (
        f"fractional integer columns: {blocks[fractional][:3]} = {values[fractional][:3]}"
    )
    model = columns[0].model()
    position = {id(v): c for c, v in enumerate(columns)}
    families = list(model.component_objects(pyo.Constraint, active=True))
    others = [c.name for c in families if not isinstance(c, SparseConstraint)]
    assert not others, f"constraints this check does not read: {others}"
    for family in families:
        order = np.array([position[id(v)] for v in family.columns])
        matrix = family.matrix
        activity = matrix @ values[order[: matrix.shape[1]]]
        lo, hi = family.row_lower, family.row_upper
        low = activity < lo - tol * (1.0 + np.abs(np.where(np.isfinite(lo), lo, 0.0)))
        high = activity > hi + tol * (1.0 + np.abs(np.where(np.isfinite(hi), hi, 0.0)))
        rows = np.flatnonzero(low | high)
        assert not rows.size, (
            f"rows of '{family.local_name}' broken: {rows[:3]} with activity "
            f"{activity[rows[:3]]}, bounds {lo[rows[:3]]}..{hi[rows[:3]]}"
        )


def assert_array_values_feasible(lp: SparseMILP, values: np.ndarray, tol: float = FEASIBILITY_TOL):
    """:func:`assert_values_feasible` for the array path: the same three checks, with the
    blocks, bounds, kinds and rows read from the model's arrays."""
    values = np.asarray(values, float)
    assert values.shape == (lp.n_cols,), "one value per column"
    for name, (start, size) in lp.blocks.items():
        if name in ("x", "u") or name.startswith(("x_", "u_")):
            share = values[start : start + size]
            assert not ((share < -tol) | (share > 1 + tol)).any(), (
                f"a share outside [0, 1] in {name}"
            )
    lower, upper, kind = lp.bounds()
    broken = (values < lower - tol) | (values > upper + tol)
    assert not broken.any(), f"values outside their column bounds: {np.flatnonzero(broken)[:3]}"
    integer = (kind == INTEGER) | (kind == BINARY)
    fractional = integer & (np.abs(values - np.rint(values)) > tol)
    assert not fractional.any(), f"fractional integer columns: {np.flatnonzero(fractional)[:3]}"
    for family, (rows, lo, hi) in lp.families.items():
        activity = rows.tocsr() @ values[: rows.shape[1]]
        low = activity < lo - tol * (1.0 + np.abs(np.where(np.isfinite(lo), lo, 0.0)))
        high = activity > hi + tol * (1.0 + np.abs(np.where(np.isfinite(hi), hi, 0.0)))
        bad = np.flatnonzero(low | high)
        assert not bad.size, (
            f"rows of '{family}' broken: {bad[:3]} with activity {activity[bad[:3]]}"
        )


def check_every_solve(monkeypatch: pytest.MonkeyPatch) -> list[np.ndarray]:
    """Make every solve check HiGHS's values (:func:`assert_values_feasible`) before they are
    decoded; returns the list the values are recorded in, one array per read, in order."""
    seen: list[np.ndarray] = []
    real = chargeplan.solver.highs.column_values

    def checked(columns: list) -> np.ndarray:
        values = real(columns)
        assert_values_feasible(columns, values)
        seen.append(values)
        return values

    for module in _READERS:
        assert module.column_values is real, f"{module.__name__} reads values another way"
        monkeypatch.setattr(module, "column_values", checked)
    read = chargeplan.solver.direct.read_values

    def checked_arrays(lp: SparseMILP, highs, order: np.ndarray) -> np.ndarray:
        values = read(lp, highs, order)
        assert_array_values_feasible(lp, values)
        seen.append(values)
        return values

    monkeypatch.setattr(chargeplan.solver.direct, "read_values", checked_arrays)
    return seen
