"""The array path: a one-stage problem handed to ``highspy`` without building a Pyomo model.

:func:`chargeplan.solve` builds every model as arrays first
(:func:`~chargeplan.model.formulation.build_milp`). When nothing needs the Pyomo model (no
``extend=`` hook, one stage: not ``max_coverage``, no starting plan: not the covering form)
those arrays go straight to HiGHS: the columns in the order
:class:`~chargeplan.solver.interface.SparseHighs` passes them (first appearance in the rows,
a facility-location model's integer columns first:
:func:`~chargeplan.model.sparse.appearance_order`), the same bounds, integrality, rows and
costs, and the same options (time limit, MIP gap, threads). HiGHS therefore receives the very
model of the Pyomo path and returns the same plan (``tests/test_families.py`` compares both),
but a process that solves this way imports neither Pyomo nor, through it, all of SciPy:
a cold start (``benchmarks/cold_start.py``) saves seconds.

HiGHS's log asked for on standard error (``log_to_stderr``, the CLI's ``-v``) is streamed there
from HiGHS's logging callback; it does not change the path, so ``-v`` never changes the plan.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from chargeplan import progress
from chargeplan.errors import SolveError
from chargeplan.model.formulation import build_milp
from chargeplan.model.index import ModelIndex
from chargeplan.model.limits import check_model_size
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.rows import InfeasibleRowError, check_empty_rows
from chargeplan.model.solution import Solution, decode, stage_outcome
from chargeplan.model.sparse import (
    CONTINUOUS,
    SparseMILP,
    appearance_order,
    pass_arrays,
    renumber_columns,
)
from chargeplan.solver.design_lp import quiet_highs
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.scaling import reporting

if TYPE_CHECKING:
    from chargeplan.solver.designstart import DesignStart

__all__ = [
    "after_start_options",
    "design_start_applies",
    "direct_applies",
    "load_arrays",
    "read_values",
    "solve_direct",
    "start_as_plan",
    "start_words",
    "with_start",
]


def direct_applies(problem: FacilityProblem, covering: bool, options: SolverOptions) -> bool:
    """Whether :func:`solve_direct` gives the plan of the Pyomo path: one stage, no start
    (``options.log_to_stderr`` does not matter: the log is streamed from here too)."""
    return problem.objective != "max_coverage" and not covering


def solve_direct(problem: FacilityProblem, options: SolverOptions) -> Solution | None:
    """Build the problem's arrays, solve them with ``highspy`` and decode the plan.

    ``None`` for a model with no rows or no columns (the Pyomo path handles those).

    Raises
    ------
    SolveError
        As :func:`chargeplan.solver.highs.run_highs`: a model infeasible as built or proven
        infeasible by HiGHS, or no plan within the time limit.
    InputError
        For ids that are not distinct (they would name two variables alike).
    """
    progress.step("build model")
    start = time.perf_counter()
    check_model_size(problem)
    _check_distinct(problem)
    lp, ix = build_milp(problem)
    if lp.n_cols == 0 or not lp.families:
        return None
    highs, order = _load(lp)
    build_seconds = time.perf_counter() - start
    formulation, start = ix.formulation, time.perf_counter()
    if problem.pair_links == "lazy" and len(ix.x_pair):  # the LP rounds count as solve time
        formulation = _lazy_links(highs, problem, ix, order, lp.n_cols)
    if design_start_applies(problem, options):
        values, stage, formulation = _from_design_start(problem, lp, ix, highs, order, options)
    else:
        if problem.designs and options.design_start:  # lazy links: the start needs every row
            formulation += "; no design start: model.pair_links = 'lazy'"
            _say_no_start(formulation)
        stage = _run(highs, options, lp.objective_offset, lp.objective)
        values = read_values(lp, highs, order)
    stage["seconds"] = time.perf_counter() - start
    decisions: dict[str, Any] = decode(problem, ix, values)
    return Solution(
        **decisions,
        **stage_outcome(stage, build_seconds),
        stages=(stage,),
        formulation=formulation,
    )


def design_start_applies(problem: FacilityProblem, options: SolverOptions) -> bool:
    """Whether a station-design model starts from its rounded LP (:mod:`chargeplan.solver.
    designstart`): a design menu, ``min_cost``, links not lazy, and ``options.design_start``."""
    return (
        options.design_start
        and problem.designs
        and problem.objective == "min_cost"
        and problem.pair_links != "lazy"
    )


def _from_design_start(
    problem: FacilityProblem,
    lp: SparseMILP,
    ix: ModelIndex,
    highs: Any,
    order: np.ndarray,
    options: SolverOptions,
) -> tuple[np.ndarray, dict, str]:
    """The rounded LP (:func:`~chargeplan.solver.designstart.design_start`, on a copy of the
    model), returned as it is when it is within ``options.mip_rel_gap`` of the LP bound, else
    handed to HiGHS as its first plan, HiGHS stopped by a node limit
    (``options.design_max_nodes``) rather than by its clock alone.

    Returns the column values, the stage record (objective, bound: the larger of the LP's and
    HiGHS's, gap, status) and the formulation in words.
    """
    from chargeplan.solver.design_lns import WindowSearch
    from chargeplan.solver.designstart import design_start

    progress.step("design start")
    copy, _ = _load(lp)
    begun = design_start(
        problem,
        lp,
        ix,
        copy,
        order,
        options.threads,
        options.design_lagrange_steps,
        options.design_search_moves,
        options.design_lp_iterations,
        options.design_cluster_sites,
        WindowSearch.from_options(options),
        options.design_both_starts_max_pairs,
    )
    del copy
    if begun is None:
        words = f"{ix.formulation}; no design start: an LP of the rounding was not optimal"
        _say_no_start(words)
        stage = _run(highs, options, lp.objective_offset, lp.objective)
        return read_values(lp, highs, order), stage, words
    words = f"{ix.formulation}; {start_words(begun)}"
    as_plan = start_as_plan(begun, options)
    if as_plan is not None:
        return begun.values, as_plan, words
    import highspy

    solution = highspy.HighsSolution()
    solution.col_value = begun.values[order].tolist()
    highs.setSolution(solution)
    stage = _run(highs, after_start_options(options), lp.objective_offset, lp.objective)
    values = read_values(lp, highs, order)
    if not with_start(stage, begun):
        values = begun.values
    return values, stage, words


def after_start_options(options: SolverOptions) -> SolverOptions:
    """HiGHS's options after a design start: stopped at ``design_max_nodes`` nodes (or a
    decomposition's tighter ``mip_max_nodes``), a work limit rather than the clock alone."""
    nodes = options.design_max_nodes
    if options.mip_max_nodes is not None:  # a decomposition's work limit: the tighter one
        nodes = min(nodes, options.mip_max_nodes)
    return dataclasses.replace(options, mip_max_nodes=nodes)


def with_start(stage: dict, begun: DesignStart) -> bool:
    """Merge the start into HiGHS's stage record after it: the better plan (HiGHS keeps its
    start, guarded all the same) and the larger bound, with their gap. Whether HiGHS's plan is
    kept (``False``: the start's values are the plan)."""
    kept = stage["objective"] <= begun.objective
    if not kept:
        stage["objective"] = begun.objective
    stage["bound"] = max(stage["bound"], begun.bound)
    stage["gap"] = abs(stage["objective"] - stage["bound"]) / max(abs(stage["objective"]), 1e-9)
    return kept


def start_words(begun: DesignStart) -> str:
    """The design start in words, for a solution's formulation (every path says it alike)."""
    return (
        f"design start: LP rounded in {begun.rounds} rounds ({begun.lps} LPs), "
        f"{100 * begun.gap:.2f} % above "
        + ("the Lagrangian bound" if begun.lagrange_bound > begun.lp_bound else "the LP bound")
        + ("; the Lagrangian heuristic's plan" if begun.from_lagrange else "")
        + (
            f"; local search: {begun.moves} moves in {begun.trials} LPs"
            if begun.unsearched == begun.unsearched  # not nan: searched
            else ""
        )
        + (
            f"; exact windows: {begun.windows_kept} of {begun.windows} kept"
            if begun.unwindowed == begun.unwindowed  # not nan: windows solved
            else ""
        )
    )


def start_as_plan(begun: DesignStart, options: SolverOptions) -> dict | None:
    """The stage record of the start returned as the plan (within ``mip_rel_gap``, or no
    branch and bound asked for: ``design_max_nodes = 0``); ``None`` when HiGHS goes on from it.
    A start outside the gap stops at the work limit (no clock decides it)."""
    if begun.gap > options.mip_rel_gap and options.design_max_nodes != 0:
        return None
    return {
        "status": "optimal" if begun.gap <= options.mip_rel_gap else "iteration_limit",
        "objective": begun.objective,
        "bound": begun.bound,
        "gap": begun.gap,
    }


def _say_no_start(formulation: str) -> None:
    """Warn that a station-design model is solved by HiGHS alone, and why (``formulation``)."""
    import logging

    logging.getLogger(__name__).warning("station designs solved by HiGHS alone: %s", formulation)


def _lazy_links(
    highs: Any, problem: FacilityProblem, ix: ModelIndex, order: np.ndarray, n_cols: int
) -> str:
    """Run the cut loop (:mod:`chargeplan.solver.cuts`) on the loaded model; its formulation in
    words. HiGHS's column ``c`` is ``lp`` column ``order[c]``; columns HiGHS never received
    (in no row) have no link to add."""
    from chargeplan.solver.cuts import add_lazy_links

    position = np.full(n_cols, -1)
    position[order] = np.arange(order.size)
    y_col = ix.column_of_site("y", len(problem.site_ids))[problem.pair_site[ix.x_pair]]
    x_col = ix.cols("x")
    x_pos = position[x_col]
    y_pos = np.where(y_col >= 0, position[np.maximum(y_col, 0)], -1)
    keep = (x_pos >= 0) & (y_pos >= 0)
    progress.step("lazy links")
    done = add_lazy_links(highs, x_pos[keep], y_pos[keep])
    state = "" if done.converged else ", stopped before none was violated"
    return (
        f"lazy links: {done.rows:,} of {len(ix.x_pair):,} rows x_ijk <= y_j added in "
        f"{done.rounds} LP rounds{state}"
    )


def _check_distinct(problem: FacilityProblem) -> None:
    """The Pyomo path's label check: zone ids, site ids and types each distinct."""
    from chargeplan.errors import InputError

    for name, ids in (
        ("zone_ids", problem.zone_ids),
        ("site_ids", problem.site_ids),
        ("types", problem.types),
    ):
        values = np.asarray(ids, dtype=object)
        if len(set(values.tolist())) != len(values):
            raise InputError(
                f"FacilityProblem.{name} holds the same id twice: ids name the model's "
                "variables and must be distinct"
            )


def load_arrays(lp: SparseMILP) -> tuple[Any, np.ndarray]:
    """A quiet ``highspy.Highs`` holding ``lp`` and the column order it was given (HiGHS's
    column ``c`` is ``lp`` column ``order[c]``): :func:`solve_direct`'s loading, for solvers
    that drive HiGHS themselves (:mod:`chargeplan.solver.rollout_lp`)."""
    return _load(lp)


def _load(lp: SparseMILP) -> tuple[Any, np.ndarray]:
    """A ``highspy.Highs`` holding the model, columns in the Pyomo path's order.

    Rows without variables whose bounds exclude 0 are looked for once in the stacked rows (a
    row is empty there exactly when it is in its family); only when one is found are the
    families searched, to name it."""
    matrix, row_lo, row_hi = lp.row_arrays()
    empty = matrix.indptr[1:] == matrix.indptr[:-1]
    if (empty & ((row_lo > 1e-9) | (row_hi < -1e-9))).any():
        for family, (rows, lo, hi) in lp.families.items():
            try:
                check_empty_rows(family, rows, lo, hi)
            except InfeasibleRowError as error:
                raise SolveError(
                    f"the model is infeasible as built ({error.family}): no site variable can "
                    "satisfy it; check max_sites, the budget and the required sites"
                ) from None
    lower, upper, kind = lp.bounds()
    weights = np.zeros(lp.n_cols) if lp.objective is None else lp.objective
    order = appearance_order(matrix, weights, lp.integer_mask(kind))
    highs = quiet_highs()
    pass_arrays(
        highs,
        lower[order],
        upper[order],
        kind[order] != CONTINUOUS,
        weights[order],
        renumber_columns(matrix, order, lp.n_cols),
        row_lo,
        row_hi,
    )
    return highs, order


def read_values(lp: SparseMILP, highs: Any, order: np.ndarray) -> np.ndarray:
    """HiGHS's column values in ``lp``'s column order (what the Pyomo path reads with
    :func:`~chargeplan.model.solution.column_values`; ``tests/solver_values.py`` checks both).

    Columns HiGHS never saw (in no row and not in the objective) read 0, as the unset Pyomo
    variables of the Pyomo path do.
    """
    values = np.zeros(lp.n_cols)
    values[order] = np.asarray(highs.getSolution().col_value, dtype=float)
    return values


@contextlib.contextmanager
def _logged(highs: Any, log_file: str | None) -> Iterator[None]:
    """Append HiGHS's log of the solve inside to ``log_file`` (nothing if ``None``), as the
    Pyomo path does: HiGHS's own ``log_file`` option starts the file afresh, so the log goes to
    a temporary file first. A file that cannot be written is skipped with a log message."""
    if log_file is None:
        yield
        return
    if not os.path.exists(log_file) or os.path.getsize(log_file) == 0:
        yield from _logged_afresh(highs, log_file)  # nothing to append to: HiGHS writes it
        return
    import tempfile  # here only: it loads random, shutil and their compressors (cold start)

    with tempfile.TemporaryDirectory(prefix="chargeplan-highs-") as folder:
        scratch = os.path.join(folder, "highs.log")
        try:
            with _highs_writes(highs, scratch):
                yield
        finally:
            _append(scratch, log_file)


@contextlib.contextmanager
def _highs_writes(highs: Any, path: str) -> Iterator[None]:
    """HiGHS writes its log of the solve inside to ``path`` (not to the console)."""
    highs.setOptionValue("output_flag", True)
    highs.setOptionValue("log_to_console", False)
    highs.setOptionValue("log_file", path)
    try:
        yield
    finally:
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("log_file", "")


@contextlib.contextmanager
def _to_stderr(highs: Any, wanted: bool) -> Iterator[None]:
    """Stream HiGHS's log of the solve inside to standard error (``wanted``), from its logging
    callback: what the Pyomo path's tee shows with ``-v``, without leaving this path."""
    if not wanted:
        yield
        return

    def write(event: Any) -> None:
        sys.stderr.write(event.message)

    highs.setOptionValue("output_flag", True)
    highs.setOptionValue("log_to_console", False)
    highs.cbLogging.subscribe(write)
    try:
        yield
    finally:
        highs.cbLogging.unsubscribe(write)
        sys.stderr.flush()


def _logged_afresh(highs: Any, log_file: str) -> Iterator[None]:
    """:func:`_logged` for a log file that is new or empty: HiGHS writes it itself (starting
    it afresh loses nothing), without the temporary folder and the copy. A file that cannot be
    opened is skipped with a log message, as :func:`_append` skips it."""
    try:
        open(log_file, "a", encoding="utf-8").close()  # can it be written at all?
    except OSError as error:
        import logging

        logging.getLogger(__name__).info("solver log not written to %s: %s", log_file, error)
        yield
        return
    with _highs_writes(highs, log_file):
        yield


def _append(source: str, target: str) -> None:
    """Copy ``source``'s text to the end of ``target`` (skipped, with a log message, on error)."""
    import logging

    try:
        with open(source, encoding="utf-8", errors="replace") as text:
            content = text.read()
        with open(target, "a", encoding="utf-8") as out:
            out.write(content)
    except OSError as error:
        logging.getLogger(__name__).info("solver log not written to %s: %s", target, error)


@functools.cache
def _status_names() -> dict[Any, str]:
    """HiGHS's model statuses that have a name of ours (made once: highspy is imported late)."""
    import highspy

    state = highspy.HighsModelStatus
    return {
        state.kOptimal: "optimal",
        state.kTimeLimit: "time_limit",
        state.kIterationLimit: "iteration_limit",
        getattr(state, "kSolutionLimit", state.kIterationLimit): "iteration_limit",
        state.kInterrupt: "interrupted",
    }


def _run(
    highs: Any, options: SolverOptions, offset: float, costs: np.ndarray | None = None
) -> dict:
    """Run HiGHS with the options the Pyomo path sets; the stage record (objective and bound
    with the constant ``offset``, as :class:`SparseHighs` reports them) and column values.
    ``costs``: the model's objective vector, for its scale (:func:`reporting`)."""
    import highspy

    if options.threads is not None:
        highspy.Highs.resetGlobalScheduler(True)  # as SparseHighs: a new thread count
        highs.setOptionValue("threads", options.threads)
    highs.setOptionValue("time_limit", float(options.time_limit_s))
    highs.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
    if options.mip_max_nodes is not None:  # a work limit: the same plan on every machine
        highs.setOptionValue("mip_max_nodes", int(options.mip_max_nodes))
    progress.step("solve")
    start = time.perf_counter()
    with _logged(highs, options.log_file), _to_stderr(highs, options.log_to_stderr):
        with reporting(highs, offset, costs):
            highs.run()
    seconds = time.perf_counter() - start
    status = highs.getModelStatus()
    info = highs.getInfo()
    state = highspy.HighsModelStatus
    if status in (state.kInfeasible, state.kUnboundedOrInfeasible):
        raise SolveError(
            "HiGHS found the model infeasible: the hard limits contradict each other "
            "(required sites, budget, max_sites or charger limits); relax them"
        )
    if info.primal_solution_status != 2:  # 2: a feasible solution
        raise SolveError(
            f"HiGHS stopped ({highs.modelStatusToString(status)}) after {seconds:.1f} s without "
            "any plan: raise solver.time_limit_s or make the instance smaller (fewer pairs or "
            "sites)"
        )
    objective = float(info.objective_function_value) + offset
    if info.mip_node_count == -1:  # solved as an LP: no MIP bound
        bound = objective
    else:
        bound = float(info.mip_dual_bound) + offset
        bound = -np.inf if not np.isfinite(bound) else bound  # no bound yet: nothing proved
    name = _status_names().get(status)
    stage = {
        "status": highs.modelStatusToString(status) if name is None else name,
        "objective": objective,
        "bound": bound,
        "gap": abs(objective - bound) / max(abs(objective), 1e-9),
        "seconds": seconds,
    }
    return stage
