"""The progress line's time left, replayed: how far each model of a piece's work is from the
truth over a decomposed solve.

``chargeplan run`` shows, while the pieces of a national plan are solved, the share of the
estimated work done and the time left (:func:`chargeplan.solver.tasks.work_share`, with each
piece's work from :func:`chargeplan.solver.tasks.expected_work`). This script takes the CPU
seconds of every piece (the CSV files of ``benchmarks/national_pieces.py --save``, one thread
each), replays the run's schedule (``--workers`` workers, the pieces started largest first, the
next one on the first worker free), and at each piece's end compares the time left each model
would print with the time actually left. Per model it prints the ratio estimate / truth after
the first piece and averaged over the quarters of the run, the largest error in seconds and
the mean absolute log ratio (0: always right).

Run from the repository root, after the two halves of the pieces were saved::

    PYTHONPATH=src .venv/bin/python benchmarks/national_pieces.py --cache /tmp/national.pkl \\
        --largest 60 --save /tmp/large.csv
    PYTHONPATH=src .venv/bin/python benchmarks/national_pieces.py --cache /tmp/national.pkl \\
        --skip 60 --save /tmp/small.csv
    PYTHONPATH=src .venv/bin/python benchmarks/progress_eta.py /tmp/large.csv /tmp/small.csv
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from chargeplan.solver.tasks import expected_work


def replay(cpu: np.ndarray, workers: int) -> tuple[np.ndarray, float]:
    """The pieces' end times and positions (in start order) on ``workers`` workers."""
    free = np.zeros(workers)
    ends = []
    for position, seconds in enumerate(cpu):
        worker = int(np.argmin(free))
        free[worker] += seconds
        ends.append((free[worker], position))
    ends.sort()
    return np.array(ends), float(free.max())


def time_left(work: np.ndarray, ends: np.ndarray, workers: int) -> np.ndarray:
    """At each piece's end: (elapsed, estimated time left) as the progress line computes it."""
    total, ended, rows = work.sum(), np.zeros(len(work), bool), []
    for count, (elapsed, position) in enumerate(ends, start=1):
        ended[int(position)] = True
        started = min(count + workers, len(work))
        running = ~ended[:started]
        share = (work[ended].sum() + 0.5 * work[:started][running].sum()) / total
        rows.append((elapsed, elapsed * (1 - share) / share))
    return np.array(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="+", help="national_pieces.py --save files")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    pieces = pd.concat([pd.read_csv(path) for path in args.csv])
    pieces = pieces.sort_values("pairs", ascending=False, kind="stable")
    pairs, cpu = pieces["pairs"].to_numpy(float), pieces["cpu_s"].to_numpy(float)
    ends, span = replay(cpu, args.workers)
    print(
        f"{len(pairs)} pieces, {cpu.sum():,.1f} s of CPU, {span:,.1f} s on {args.workers} workers"
    )
    models = {
        "pairs": pairs,
        "pairs^1.16 (session 15)": pairs**1.16,
        "expected_work (now)": expected_work(pairs),
        "the true CPU (a bound)": cpu,
    }
    for name, work in models.items():
        rows = time_left(work, ends, args.workers)
        truth = span - rows[:, 0]
        keep = truth > 30  # the last seconds: any ratio is noise
        ratio = rows[keep, 1] / truth[keep]
        at = rows[keep, 0] / span
        quarters = [ratio[(at >= a) & (at < a + 0.25)].mean() for a in (0, 0.25, 0.5, 0.75)]
        print(
            f"{name:26s} first {ratio[0]:.2f}; by quarter "
            + " ".join(f"{q:.2f}" for q in quarters)
            + f"; largest error {np.abs(rows[:, 1] - truth).max():.0f} s; "
            f"mean |log ratio| {np.abs(np.log(ratio)).mean():.3f}"
        )


if __name__ == "__main__":
    main()
