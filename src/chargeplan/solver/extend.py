r"""Extending the model: what a user's extension touches, and which reductions stay exact.

``chargeplan.solve(problem, options, extend=fn)`` builds the labelled Pyomo model
(:func:`chargeplan.build_model`) and calls ``fn(model, problem)``, which adds to it the Pyomo
way: ordinary ``pyo.Constraint`` components and expressions over ``model.y[site]``,
``model.n[site, type]``, ``model.x[zone, site, type]``, ``model.u[zone, type]``, ...; new
variables; objective terms (``model.obj.expr += ...``); changed bounds or fixings;
deactivated rows. :func:`extend_model` calls it and records its footprint
(:class:`ExtensionFootprint`): the columns it *touches*, namely

- the variables of every constraint that is not one of the model's own families,
- the variables of every row of the model's own families that it deactivated,
- the variables whose bounds, domain or fixing it changed,
- the variables whose objective coefficient it changed (all of them if it changed the sense
  or left other than one active objective),

and, from them, the sites (of touched ``y``, ``n``, ``m``, ``b``, ``g`` and ``x``) and the zones
(of touched ``u`` and ``x``) the extension depends on.

**The reductions with an extension** (``SolverOptions(reduce=True)``, the default):

- *Zone merging* merges only zones the extension does not touch: merging maps plans to plans
  without changing any other zone's ``u`` or ``x`` or any site's variables, so every added
  row and objective term keeps its value.
- *Site dropping* neither drops a touched site nor lets one stand in for a dropped site: the
  exchange that proves dropping exact (close j, open j' instead, move j's zones) then changes
  no variable the extension involves.
- *The covering form* (pure covering problems) is used only if the extension touches no
  assignment share ``x`` (which it removes); constraints on ``y`` and ``u`` keep it exact, as
  it is the projection of the model onto ``(y, u)``.
- *The greedy start* of the covering form is not used (it ignores the extension's rows).
- *The two-stage* ``max_coverage`` *solve* keeps the extension's rows in both stages; if the
  extension changed the objective, the model is solved once, for that objective.

When something is still reduced, the reduced problem's model is built and ``fn`` is called on
it as well (with the reduced problem, whose kept zones and sites have their original ids). Its
footprint must match the first one label for label (:attr:`ExtensionFootprint.signature`: the
same rows over the same labelled variables with the same coefficients and bounds, the same
bound changes and objective changes); if it does not, or ``fn`` fails there, the model of the
problem as given is built and extended again, and solved (one model is held at a time, so
``fn`` may be called three times). So ``fn`` should add by label (site and zone ids), not by
position, to benefit from the reductions; it is never wrong either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.visitor import identify_variables
from pyomo.repn.standard_repn import generate_standard_repn

from chargeplan.model.components import SparseConstraint, SparseObjective
from chargeplan.model.index import ModelOrigin
from chargeplan.model.problem import FacilityProblem
from chargeplan.solver.interface import column_bounds

__all__ = ["Extension", "ExtensionFootprint", "extend_model"]

#: ``fn(model, problem)``: adds to the Pyomo model of ``problem`` (returns nothing).
Extension = Callable[[pyo.ConcreteModel, FacilityProblem], None]


@dataclass(frozen=True)
class ExtensionFootprint:
    """What an extension changed in a model (module docstring).

    Attributes
    ----------
    sites, zones
        ``(S,)`` and ``(Z,)`` bool: sites and zones whose variables it touched.
    assignment
        Whether it touched an assignment share ``x``.
    objective
        Whether it changed the objective.
    signature
        What it added and changed, by label (sorted text), to compare two models' extensions.
    """

    sites: np.ndarray
    zones: np.ndarray
    assignment: bool
    objective: bool
    signature: tuple[str, ...]


@dataclass(frozen=True)
class _Before:
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    fixed: np.ndarray
    weights: np.ndarray
    sense: object


def extend_model(model: pyo.ConcreteModel, extend: Extension) -> ExtensionFootprint:
    """Call ``extend(model, problem)`` on a model of :func:`chargeplan.build_model` and
    return its footprint.
    """
    origin: ModelOrigin = model.chargeplan
    columns = model.columns
    lower, upper, integer = column_bounds(columns)
    obj = model.component("obj")
    if not isinstance(obj, SparseObjective) or obj.weights is None:
        raise TypeError("extend_model needs a model fresh from chargeplan.build_model")
    before = _Before(lower, upper, integer, _fixed(columns), obj.weights.copy(), obj.sense)
    extend(model, origin.problem)
    return _footprint(model, origin, before)


def _fixed(columns: list) -> np.ndarray:
    return np.fromiter((v.fixed for v in columns), bool, len(columns))


def _footprint(
    model: pyo.ConcreteModel, origin: ModelOrigin, before: _Before
) -> ExtensionFootprint:
    columns = model.columns
    position = {id(v): i for i, v in enumerate(columns)}
    touched = np.zeros(len(columns), bool)
    signature: list[str] = []

    def touch(variables) -> None:
        for v in variables:
            where = position.get(id(v))
            if where is not None:
                touched[where] = True

    # rows the extension added
    for con in model.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        if isinstance(con.parent_component(), SparseConstraint):
            continue
        touch(identify_variables(con.body, include_fixed=True))
        signature.append(f"row {_canonical(con.body)} in [{con.lower}, {con.upper}]")
    # rows of the model's own families it deactivated
    for family in model.component_objects(pyo.Constraint, descend_into=True):
        if not isinstance(family, SparseConstraint):
            continue
        off = [d for d in family.values() if not (d.active and family.active)]
        for row in off:
            m = family.matrix
            start, end = m.indptr[row._row], m.indptr[row._row + 1]
            touch(family.columns[c] for c in m.indices[start:end].tolist())
            signature.append(f"off {row.name}")
    # bounds, domains and fixings it changed
    lower, upper, integer = column_bounds(columns)
    fixed = _fixed(columns)
    changed = (
        (lower != before.lower)
        | (upper != before.upper)
        | (integer != before.integer)
        | (fixed != before.fixed)
    )
    touched |= changed
    for c in np.flatnonzero(changed).tolist():
        signature.append(f"bounds {columns[c].name} [{lower[c]!r}, {upper[c]!r}] {integer[c]}")
    # the objective
    objective = _objective_changes(model, before, position, touched, signature)

    ix, problem = origin.index, origin.problem
    site, zone = ix.sites_and_zones(problem, len(columns))
    sites = np.zeros(len(problem.site_ids), bool)
    sites[site[touched & (site >= 0)]] = True
    zones = np.zeros(len(problem.zone_ids), bool)
    zones[zone[touched & (zone >= 0)]] = True
    return ExtensionFootprint(
        sites=sites,
        zones=zones,
        assignment=bool(touched[ix.cols("x")].any()),
        objective=objective,
        signature=tuple(sorted(signature)),
    )


def _objective_changes(
    model: pyo.ConcreteModel,
    before: _Before,
    position: dict[int, int],
    touched: np.ndarray,
    signature: list[str],
) -> bool:
    """Mark the columns whose objective coefficient changed; return whether any did."""
    active = list(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    obj = model.obj
    if len(active) != 1 or active[0].sense != before.sense:
        touched[:] = True
        signature.append(f"objectives {len(active)} {[o.sense for o in active]}")
        return True
    if active[0] is obj and obj.weights is not None:  # the vector, perhaps with terms added
        if obj.extra is None:
            return False
        expression, base = obj.extra, np.zeros(len(before.weights))
    else:
        expression, base = active[0].expr, before.weights
    repn = generate_standard_repn(expression, compute_values=True, quadratic=False)
    weights = np.zeros(len(before.weights))
    other = []
    for coef, v in zip(repn.linear_coefs, repn.linear_vars, strict=True):
        where = position.get(id(v))
        if where is None:
            other.append(f"{v.name}:{float(coef)!r}")
        else:
            weights[where] += float(coef)
    if repn.nonlinear_expr is not None:
        touch = identify_variables(repn.nonlinear_expr, include_fixed=True)
        for v in touch:
            where = position.get(id(v))
            if where is not None:
                touched[where] = True
        other.append(f"nonlinear {repn.nonlinear_expr}")
    delta = weights - base
    moved = np.flatnonzero(delta != 0)
    touched[moved] = True
    columns = model.columns
    signature.append(
        "objective "
        + " ".join(sorted([f"{columns[c].name}:{delta[c]!r}" for c in moved.tolist()] + other))
    )
    return True


def _canonical(body) -> str:
    """A row's body as text independent of term order: sorted ``name:coefficient`` terms."""
    repn = generate_standard_repn(body, compute_values=True, quadratic=False)
    terms: dict[str, float] = {}
    for coef, v in zip(repn.linear_coefs, repn.linear_vars, strict=True):
        terms[v.name] = terms.get(v.name, 0.0) + float(coef)
    text = " ".join(f"{name}:{coef!r}" for name, coef in sorted(terms.items()))
    if repn.nonlinear_expr is not None:
        text += f" nonlinear {repn.nonlinear_expr}"
    return f"{text} + {float(repn.constant)!r}"
