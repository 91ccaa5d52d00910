"""The tasks of a decomposition solved through an executor, largest first, with progress.

A task is one region's (or piece's) model with its solver options. :func:`solve_tasks` starts
them in :func:`start_order` on an executor (a Dask cluster's ``completed`` or a plain ``map``)
and returns their solutions in task order; :func:`solve_region` is the function shipped to a
worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from chargeplan import progress
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution
from chargeplan.solver.coverage import without_idle_targets
from chargeplan.solver.highs import solve
from chargeplan.solver.options import SolverOptions

log = logging.getLogger("chargeplan.solver.decompose")

Executor = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]

#: A piece's solve time grows as its pairs to this power (for the time left on the progress
#: line): on 30 national pieces of 2,560-67,500 pairs (``benchmarks/window_passes.py``, the
#: CPU of each) the least-squares fit of log CPU on log pairs gives 1.16, and that law summed
#: over all 279 pieces gives 1,931 s against the 2,018 s of solve CPU of the national run
#: (docs/stations.md, "Where the time goes"). Counting pairs alone (exponent 1) the estimate
#: was about 40 % too long half way through the national solve.
WORK_EXPONENT = 1.16


def solve_region(task: tuple[FacilityProblem, SolverOptions]) -> Solution:
    """Solve one region (module level, so that Dask can ship it to a worker)."""
    problem, options = task
    return solve(without_idle_targets(problem), options)


def solve_region_quietly(task: tuple[FacilityProblem, SolverOptions]) -> Solution:
    """:func:`solve_region`, its own stages ("build model", "solve") off the run's display
    (in this process they would replace the "solve regions" line, one line per piece)."""
    with progress.show("off"):
        return solve_region(task)


def start_order(sizes: Iterable[int]) -> np.ndarray:
    """The order in which tasks of these sizes (pairs) start: largest first, equal sizes in
    their given order (a stable sort, so the order depends on the sizes only).

    Started in this order on workers that each take the next task when free (the longest
    processing time rule, Graham 1969), the largest piece -- the Pearl River Delta, a fifth of
    the national plan's solve -- starts at once instead of waiting behind smaller ones, and the
    last tasks to finish are the smallest, so no worker idles long at the end.
    """
    return np.argsort(-np.asarray(list(sizes), np.int64), kind="stable")


def solve_tasks(
    run: Executor, tasks: list[tuple[FacilityProblem, SolverOptions]]
) -> list[Solution]:
    """Solve the tasks through ``run``, largest first (:func:`start_order`), showing the
    progress by pieces and by their estimated work (:func:`work_share`, which the time left of
    :func:`chargeplan.progress.count` scales by); results in task order.

    An executor with a ``completed(function, items)`` method yielding ``(position, result)``
    as the items finish (:class:`chargeplan.solver.distributed.DaskExecutor`) reports each
    piece when it is done; a plain ``map`` in order.
    """
    sizes = np.array([len(problem.pair_zone) for problem, _ in tasks], np.int64)
    order = start_order(sizes)
    ordered = [tasks[i] for i in order]
    completed = getattr(run, "completed", None)
    finished = (
        completed(solve_region_quietly, ordered)
        if completed is not None
        else enumerate(run(solve_region_quietly, ordered))
    )
    results: list[Solution | None] = [None] * len(tasks)
    total = len(tasks)
    work = sizes[order].astype(float) ** WORK_EXPONENT  # in start order
    slots = int(getattr(run, "slots", 1)) if completed is not None else 0
    ended = np.zeros(total, bool)
    step = max(total // 10, 1)
    for count, (position, result) in enumerate(finished, start=1):
        results[order[position]] = result
        ended[position] = True
        share = work_share(work, ended, min(count + slots, total))
        progress.count(count, total, share, "the estimated work")
        if count % step == 0 or count == total:
            log.info("decompose: %d of %d regions solved", count, total)
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def work_share(work: np.ndarray, ended: np.ndarray, started: int) -> float:
    """The share of the work done: the pieces ended, and half of those running.

    Parameters
    ----------
    work
        ``(T,)`` each piece's expected work (pairs to the power :data:`WORK_EXPONENT`), in the
        order the pieces start.
    ended
        ``(T,)`` which have ended.
    started
        How many have started (the first ``started`` in order): those not ended are running,
        on average half done.
    """
    total = float(work.sum())
    if total <= 0.0:
        return 1.0 if ended.all() else 0.0
    running = ~ended[:started]
    return float(work[ended].sum() + 0.5 * work[:started][running].sum()) / total
