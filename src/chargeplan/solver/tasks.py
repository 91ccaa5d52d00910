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

#: A piece's expected work (for the time left on the progress line) is its pairs, times
#: :data:`WORK_STEP_FACTOR` from :data:`WORK_STEP_PAIRS` pairs on. Measured on all 279 national
#: pieces solved one by one (session 16, ``benchmarks/national_pieces.py --save``): 0.58 ms of
#: CPU a pair below 3,000 pairs (179 pieces, gap 0.48 % after the first pass of windows, so the
#: later passes rarely run), 1.05-1.13 ms above (100 pieces, gaps of 4-4.6 %: all three passes
#: run). Replaying the run's schedule (two workers, largest first) from those CPU seconds, the
#: time left is within 6 % of the truth on average (the mean absolute log ratio 0.053) against
#: 0.218 for pairs to the power 1.16 (session 15's fit on 30 of the larger pieces: 20 % short at
#: the start, 33 % long near the end) and 0.50 for pairs alone (docs/stations.md, "Where the time
#: goes").
WORK_STEP_PAIRS = 3_000
WORK_STEP_FACTOR = 1.9


def expected_work(sizes: np.ndarray) -> np.ndarray:
    """Each piece's expected work from its pairs (:data:`WORK_STEP_PAIRS`,
    :data:`WORK_STEP_FACTOR`), in the units of a pair of a small piece."""
    sizes = np.asarray(sizes, dtype=float)
    return sizes * np.where(sizes >= WORK_STEP_PAIRS, WORK_STEP_FACTOR, 1.0)


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
    work = expected_work(sizes[order])  # in start order
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
        ``(T,)`` each piece's expected work (:func:`expected_work`), in the order the pieces
        start.
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
