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
    progress by pieces and pairs (:func:`chargeplan.progress.count`); results in task order.

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
    total, pairs, done = len(tasks), max(int(sizes.sum()), 1), 0
    step = max(total // 10, 1)
    for count, (position, result) in enumerate(finished, start=1):
        results[order[position]] = result
        done += int(sizes[order[position]])
        progress.count(count, total, done / pairs, "the pairs")
        if count % step == 0 or count == total:
            log.info("decompose: %d of %d regions solved", count, total)
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]
