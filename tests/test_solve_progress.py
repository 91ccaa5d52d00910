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
from chargeplan.solver.tasks import solve_region, solve_tasks, start_order

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
        "  solve regions (3 of 3; 100.0 % of the pairs)",
        "solve regions (3 of 3; 100.0 % of the pairs):",
    ]
