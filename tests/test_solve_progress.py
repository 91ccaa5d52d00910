"""The decomposed solve's schedule and progress line: pieces start largest first, and the
stage's line says how many pieces and which share of the pairs are done, with an estimate of
the time left (``chargeplan.progress.count_text``, ``chargeplan.solver.decompose``)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from chargeplan import progress
from chargeplan.progress import count_text, duration_text
from chargeplan.solver.split import split_components, subproblem
from chargeplan.solver.tasks import (
    WORK_STEP_FACTOR,
    WORK_STEP_PAIRS,
    expected_work,
    solve_region,
    solve_tasks,
    start_order,
    work_share,
)

from .instances import EXACT, cluster_problem


def test_pieces_start_largest_first_ties_in_their_order() -> None:
    assert start_order([5, 9, 5, 12, 0, 9]).tolist() == [3, 1, 5, 0, 2, 4]
    assert start_order([]).tolist() == []
    # the same sizes give the same order, whatever came before
    assert start_order([7, 7, 7]).tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.4, "0 s"),
        (59.4, "59 s"),
        (59.6, "1 min 0 s"),
        (412.0, "6 min 52 s"),
        (7_260, "2 h 01 min"),
    ],
)
def test_durations_read_as_minutes_and_seconds(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


def test_the_line_of_a_sequence_of_finished_pieces() -> None:
    """Four pieces of 600, 200, 150 and 50 pairs (1,000 in all) finishing at 10, 32, 40 and
    44 s: the time left is the elapsed time times the pairs left over the pairs done."""
    pairs, finished = [600, 200, 150, 50], [10.0, 32.0, 40.0, 44.0]
    done = np.cumsum(pairs) / 1_000
    lines = [
        count_text(k + 1, 4, float(share), t, "the pairs")
        for k, (share, t) in enumerate(zip(done, finished, strict=True))
    ]
    assert lines == [
        "1 of 4; 60.0 % of the pairs; about 7 s left",  # 10 x 0.4 / 0.6 = 6.67 s
        "2 of 4; 80.0 % of the pairs; about 8 s left",  # 32 x 0.2 / 0.8 = 8 s
        "3 of 4; 95.0 % of the pairs; about 2 s left",  # 40 x 0.05 / 0.95 = 2.1 s
        "4 of 4; 100.0 % of the pairs",  # done: no estimate
    ]
    assert count_text(0, 4, 0.0, 5.0) == "0 of 4; 0.0 % of the work"  # nothing done: none
    assert count_text(3, 1_279) == "3 of 1,279"


def test_a_plain_display_shows_the_pieces_and_pairs_solved() -> None:
    """The three clusters solved as three tasks, in process: the results come back in task
    order (each the task's own solve), and the stage's line counts all pieces and pairs."""
    problem = cluster_problem()
    regions = split_components(problem)
    tasks = [(subproblem(problem, region), EXACT) for region in regions]
    stream = io.StringIO()
    with progress.show("plain", stream) as display:
        progress.step("solve regions")
        results = solve_tasks(map, tasks)
    assert [r.objective for r in results] == [solve_region(t).objective for t in tasks]
    # one line at the last piece (a plain display prints at most every 10 s), one at the end;
    # the pieces' own stages ("build model", "solve") are not shown
    assert [line.rsplit(" ", 2)[0] for line in display.lines] == [
        "  solve regions (3 of 3; 100.0 % of the estimated work)",
        "solve regions (3 of 3; 100.0 % of the estimated work):",
    ]


def test_the_work_done_counts_the_running_pieces_at_half() -> None:
    """Four pieces of work 8, 4, 2 and 1 (15 in all) in start order on two slots: when the
    second ends first, the third has started; the first and third run (half of 8 + 2 counted)
    and the share is (4 + 5) / 15 = 0.6. On a plain ``map`` nothing runs between results."""
    work = np.array([8.0, 4.0, 2.0, 1.0])
    assert work_share(work, np.array([False, True, False, False]), 3) == pytest.approx(0.6)
    assert work_share(work, np.array([True, True, False, False]), 4) == pytest.approx(13.5 / 15)
    assert work_share(work, np.array([True, False, False, False]), 1) == pytest.approx(8 / 15)
    assert work_share(work, np.ones(4, bool), 4) == 1.0
    assert work_share(np.zeros(2), np.array([True, False]), 2) == 0.0  # no work: none done
    assert work_share(np.zeros(2), np.ones(2, bool), 2) == 1.0


def test_a_piece_of_three_passes_weighs_more_per_pair() -> None:
    """A piece's expected work is its pairs, times 1.9 from 3,000 pairs on (where the later
    passes of windows run): 1,000 pairs weigh 1,000; 2,999 weigh 2,999; 3,000 weigh 5,700; and
    10,000 weigh 19,000, 19 times the first."""
    assert (WORK_STEP_PAIRS, WORK_STEP_FACTOR) == (3_000, 1.9)
    work = expected_work(np.array([1_000, 2_999, 3_000, 10_000]))
    assert work.tolist() == pytest.approx([1_000.0, 2_999.0, 5_700.0, 19_000.0])


def test_a_dask_cluster_counts_the_running_pieces() -> None:
    """Through the Dask executor (two single-thread workers: two slots) the three clusters'
    line reaches all of the work, and the results are each task's own solve."""
    from chargeplan.solver.distributed import dask_executor

    problem = cluster_problem()
    regions = split_components(problem)
    tasks = [(subproblem(problem, region), EXACT) for region in regions]
    stream = io.StringIO()
    with dask_executor(n_workers=2) as run:
        assert getattr(run, "slots", None) == 2
        with progress.show("plain", stream) as display:
            progress.step("solve regions")
            results = solve_tasks(run, tasks)
    assert [r.objective for r in results] == [solve_region(t).objective for t in tasks]
    assert display.lines[-1].startswith("solve regions (3 of 3; 100.0 % of the estimated work):")
