r"""The design start on a Pyomo model: the same rounded LP as the array path, on every path.

The array path (:mod:`chargeplan.solver.direct`) starts a station-design model from its LP
relaxation rounded to a plan (:mod:`chargeplan.solver.designstart`). A model solved through
Pyomo (a user's ``extend=`` hook, :func:`chargeplan.solve_model`, ``max_coverage``'s first
stage) gets the same start here, computed on **the model as HiGHS receives it**: the rows and
columns an extension added included, so every LP of the start honours them and its plan is a
plan of the extended model. Columns are numbered as the model's own (``model.columns``, the
order of :class:`~chargeplan.model.sparse.SparseMILP`), an extension's columns after them.

When it applies (:func:`start_blocker` returns ``None``), with :math:`\bar v` the start's cost
and :math:`\underline v` its LP bound:

* :math:`(\bar v - \underline v)/\bar v \le` ``mip_rel_gap``: the start is the plan (status
  ``optimal``: within the gap), as on the array path;
* else HiGHS starts from it (``setSolution``) and stops at ``design_max_nodes`` nodes, the gap
  or the time limit; the plan is never worse than the start and the bound is the larger of
  :math:`\underline v` and HiGHS's.

It is exact in the sense the start is on the array path: :math:`\underline v` is the LP
relaxation of the model as solved (a valid bound), and the start is feasible for it because
every one of its LPs holds every row (``max_coverage``'s budget row, a user's rows) and its
integer columns are whole (``y``, ``z``, and ``n`` through the ``design_chargers`` rows). It
does **not** apply, and the solution's formulation and a log warning say why, when an
extension adds integer columns of its own (the rounding fixes only ``y`` and ``z``), the
objective is maximised, the links are lazy, or an LP of the rounding is not optimal (a rounded
design breaks a row, e.g. a budget too small for the designs the LP leaned to).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from chargeplan import progress
from chargeplan.model.index import ModelOrigin
from chargeplan.model.sparse import SparseMILP
from chargeplan.solver.direct import after_start_options, start_as_plan, start_words, with_start

if TYPE_CHECKING:
    import pyomo.environ as pyo

    from chargeplan.solver.designstart import DesignStart
    from chargeplan.solver.options import SolverOptions

__all__ = [
    "first_stage",
    "load_start",
    "model_design_start",
    "start_blocker",
    "start_wanted",
]

log = logging.getLogger(__name__)


def first_stage(
    model: pyo.ConcreteModel,
    options: SolverOptions,
    warm_start: bool,
    run_highs: Callable[..., dict],
) -> tuple[dict, str]:
    """The model's (first) HiGHS run and the formulation in words. A station-design model
    starts from its design start (module docstring): the start is the plan within
    ``mip_rel_gap``, else HiGHS starts from it and stops at ``design_max_nodes`` nodes. Where
    the start cannot apply, a warning says why.

    ``warm_start``: the variables hold a plan already (the covering form's greedy start),
    which HiGHS starts from instead. ``run_highs``: :func:`chargeplan.solver.highs.run_highs`
    (passed in: that module calls this one), whose stage record this returns.
    """
    formulation = model.chargeplan.index.formulation
    if warm_start or not start_wanted(model, options):
        return run_highs(model, options, warm_start=warm_start), formulation
    progress.step("design start")
    begun, words, columns = model_design_start(model, options)
    if begun is None:
        log.warning("station designs solved by HiGHS alone, %s", words)
        return run_highs(model, options), f"{formulation}; {words}"
    stage = start_as_plan(begun, options)  # within the gap: the plan; no clock decides it
    if stage is not None:
        return {**stage, "seconds": begun.seconds}, f"{formulation}; {words}"
    stage = run_highs(model, after_start_options(options), warm_start=True)
    if not with_start(stage, begun):
        load_start(columns, begun)
    return stage, f"{formulation}; {words}"


def start_wanted(model: pyo.ConcreteModel, options: SolverOptions) -> bool:
    """Whether the model is a station-design model whose solve should try the design start
    (a design menu and ``options.design_start``)."""
    origin = getattr(model, "chargeplan", None)
    return isinstance(origin, ModelOrigin) and bool(origin.problem.designs) and options.design_start


def start_blocker(model: pyo.ConcreteModel) -> str | None:
    """Why the design start cannot apply to ``model`` as it stands (``None``: it can).

    The checks that need no solve: a covering form, lazy links, an objective other than one
    minimised; the extension's columns are checked once HiGHS holds the model
    (:func:`model_design_start`).
    """
    origin: ModelOrigin = model.chargeplan
    problem, ix = origin.problem, origin.index
    if ix.covering:
        return "the covering form has no designs to round"
    if problem.pair_links == "lazy":
        return "model.pair_links = 'lazy' (the start rounds the model with every link row)"
    import pyomo.environ as pyo

    active = list(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    if len(active) != 1:
        return f"the model has {len(active)} active objectives, not one"
    if active[0].sense != pyo.minimize:
        return "the objective is maximised (the start's bound is a lower bound)"
    return None


def model_design_start(
    model: pyo.ConcreteModel, options: SolverOptions
) -> tuple[DesignStart | None, str, list]:
    """The design start of a built (and possibly extended) model, loaded into its variables.

    Parameters
    ----------
    model
        A model of :func:`chargeplan.build_model` with a design menu.
    options
        ``threads`` for HiGHS.

    Returns
    -------
    (DesignStart or None, str, list)
        The start, the words for the solution's formulation (with ``None``: why it does not
        apply) and the Pyomo variables its ``values`` belong to (the model's columns, then an
        extension's). With a start, every one of them holds its value (:func:`load_start`).
    """
    reason = start_blocker(model)
    if reason is not None:
        return None, f"no design start: {reason}", []
    from chargeplan.solver.design_lns import WindowSearch
    from chargeplan.solver.designstart import design_start
    from chargeplan.solver.interface import SparseHighs

    solver = SparseHighs()
    solver.set_instance(model)  # the model as HiGHS receives it, extension included
    highs = solver._solver_model
    highs.setOptionValue("output_flag", False)
    variables = solver._all_variables()
    bounds, order, extra = _as_arrays(model, highs, variables)
    if bounds is None:
        return None, f"no design start: {extra}", []
    origin: ModelOrigin = model.chargeplan
    milp = _model_arrays(model, bounds, len(extra), solver._objective_constant)
    problem, ix, steps = origin.problem, origin.index, options.design_lagrange_steps
    begun = design_start(
        problem,
        milp,
        ix,
        highs,
        order,
        options.threads,
        steps,
        options.design_search_moves,
        options.design_lp_iterations,
        options.design_cluster_sites,
        WindowSearch.from_options(options),
        options.design_both_starts_max_pairs,
    )
    del solver, highs
    if begun is None:
        why = "an LP of the rounding was not optimal (a rounded design breaks a row, "
        why += "such as a budget)"
        return None, f"no design start: {why}", []
    columns = list(model.columns) + extra
    load_start(columns, begun)
    return begun, start_words(begun), columns


def load_start(columns: list, begun: DesignStart) -> None:
    """Give the variables ``columns`` (:func:`model_design_start`'s) the start's values."""
    for variable, value in zip(columns, begun.values.tolist(), strict=True):
        variable.set_value(value, skip_validation=True)


def _as_arrays(
    model: pyo.ConcreteModel, highs: Any, variables: list
) -> tuple[tuple[np.ndarray, np.ndarray] | None, np.ndarray, Any]:
    """The bounds of the columns HiGHS holds (a user's fixings included; the model's columns
    first, an extension's after them), HiGHS's column order in that numbering, and the
    extension's variables; ``None`` and a reason if an extension column is integer."""
    own = {id(v): i for i, v in enumerate(model.columns)}
    extra = [v for v in variables if id(v) not in own]
    n_own = len(own)
    position = own | {id(v): n_own + k for k, v in enumerate(extra)}
    order = np.fromiter((position[id(v)] for v in variables), np.int64, len(variables))
    lp = highs.getLp()
    integer = np.zeros(len(variables), bool)
    if len(lp.integrality_):
        integer = np.asarray([int(t) for t in lp.integrality_]) != 0
    if integer[order >= n_own].any():
        return None, order, "the extension adds integer variables (the start rounds y and z only)"
    n = n_own + len(extra)
    lower, upper = np.zeros(n), np.zeros(n)
    lower[order] = np.asarray(lp.col_lower_, dtype=float)
    upper[order] = np.asarray(lp.col_upper_, dtype=float)
    return (lower, upper), order, extra


def _model_arrays(
    model: pyo.ConcreteModel, bounds: tuple[np.ndarray, np.ndarray], n_extra: int, constant: float
) -> SparseMILP:
    """The model's arrays (:func:`~chargeplan.model.formulation.build_milp`: the rows HiGHS
    holds first, in that order) with HiGHS's bounds, an extension's columns as a block of
    their own, and the objective's constant as HiGHS's. Its objective is dropped (``None``:
    no Lagrangian bound, which prices the arrays' objective and rows) unless the model is as
    built: an extension's rows and terms are known to HiGHS only."""
    from chargeplan.model.formulation import build_milp

    built, _ = build_milp(model.chargeplan.problem)
    if n_extra:
        built.add_columns("extension", n_extra, 0.0, 0.0)
    lower, upper = bounds
    objective = built.objective if not n_extra and _as_built(model) else None
    return dataclasses.replace(
        built, lower=[lower], upper=[upper], objective=objective, objective_offset=constant
    )


def _as_built(model: pyo.ConcreteModel) -> bool:
    """Whether the model is :func:`chargeplan.build_model`'s as built: its one objective the
    vector it was built with, no row but the array-built families."""
    import pyomo.environ as pyo

    from chargeplan.model.components import SparseConstraint, SparseObjective

    obj = model.component("obj")
    if not (isinstance(obj, SparseObjective) and obj.active and obj.weights is not None):
        return False
    if obj.extra is not None:
        return False
    return all(
        isinstance(c, SparseConstraint)
        for c in model.component_objects(pyo.Constraint, active=True, descend_into=True)
    )
