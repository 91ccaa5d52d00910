"""The national station plan's speed-ups, each against the code it replaced, in one run.

1. **The Lagrangian step** (:func:`chargeplan.solver.design_bound._evaluate`): on the ``N``
   largest pieces of the national plan (``--largest``, prepared once and kept in ``--cache``
   as ``benchmarks/national_pieces.py`` keeps them), the multipliers of every subgradient
   step are recorded during the pieces' Lagrangian bound, then every step is evaluated by
   the plain numpy this branch replaced (:func:`reference_evaluate`: a three-key lexsort,
   binary searches per option, a sort of the options) and by the current code, alternately,
   the CPU seconds of each summed; every point must be the same to the bit (value, subgradient,
   designs, pairs and their shares).
2. **The schedule of the pieces on the workers** (``--pieces-csv``: the CSV that
   ``benchmarks/national_pieces.py --save`` writes, one row per piece largest first with its
   CPU seconds): the makespan of two schedules on ``--workers`` workers, simulated from those
   seconds (no Dask involved): *before*, the pieces scattered round robin over the workers
   and each worker solving its own in order (Dask runs a task where its scattered data is;
   work stealing, which could move some, is left out); *now*, every worker taking the next
   piece, largest first, when it is free (:class:`chargeplan.solver.distributed.DaskExecutor`).
   The lower bound of any schedule, ``max(total / workers, largest piece)``, is printed too.

Run from the repository root::

    PYTHONPATH=src nice .venv/bin/python benchmarks/national_speed.py \\
        --cache /tmp/natpieces.pkl --largest 6 --pieces-csv /tmp/pieces.csv
"""

from __future__ import annotations

import argparse
import heapq
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from station_slice import prepared_pieces  # the pieces: one preparation


def reference_evaluate(p: Any, lam: np.ndarray) -> tuple:
    """The Lagrangian step as it was before this branch (``design_bound._evaluate`` at
    commit 90822fe), returning the same fields as the current one."""
    value = p.item_cost - lam[p.item_row] * p.item_upper
    taken = np.flatnonzero(value < 0.0)
    ratio = value[taken] / p.item_weight[taken]
    order = taken[np.lexsort((taken, ratio, p.item_group[taken]))]
    group = p.item_group[order]
    weight, gain = p.item_weight[order], value[order]
    cum_weight = np.concatenate([[0.0], np.cumsum(weight)])
    cum_gain = np.concatenate([[0.0], np.cumsum(gain)])
    groups = p.option_site[:, None] * p.n_types + np.arange(p.n_types)[None, :]
    first = np.searchsorted(group, groups, side="left")
    last = np.searchsorted(group, groups, side="right")
    filled = cum_weight[first] + p.option_capacity
    full = np.clip(np.searchsorted(cum_weight, filled, side="right") - 1, first, last)
    part = full < last
    nxt = np.minimum(full, max(order.size - 1, 0))
    fraction = np.zeros(full.shape)
    knapsack = cum_gain[full] - cum_gain[first]
    if order.size:
        fraction = np.where(part, np.clip((filled - cum_weight[full]) / weight[nxt], 0.0, 1.0), 0.0)
        knapsack += fraction * np.where(part, gain[nxt], 0.0)
    total = p.option_cost + knapsack.sum(axis=1)
    best = np.lexsort((np.arange(total.size), total, p.option_site))
    lead = np.r_[True, p.option_site[best][1:] != p.option_site[best][:-1]]
    chosen = best[lead]
    level = np.full(p.n_groups, -1.0)
    level_of = full + fraction
    level[groups[chosen].ravel()] = level_of[chosen].ravel()
    share = np.clip(level[group] - np.arange(order.size), 0.0, 1.0)
    share = np.where(level[group] >= 0.0, share, 0.0)
    served = np.bincount(p.item_row[order], weights=share * p.item_upper[order], minlength=lam.size)
    reduced = p.u_cost - lam
    unmet = np.where(reduced < 0.0, p.u_upper, p.u_lower)
    bound = p.offset + lam.sum() + (reduced * unmet).sum() + total[chosen].sum()
    design = np.full(p.n_groups // max(p.n_types, 1), -2)
    design[p.option_site[chosen]] = p.option_design[chosen]
    used = share > 0.0
    return (
        float(bound),
        1.0 - served - unmet,
        design,
        order[used],
        (share * p.item_upper[order])[used],
    )


def recorded_steps(piece: Any) -> tuple[Any, list[np.ndarray]]:
    """Solve one piece as the national run does and record its Lagrangian relaxation's
    arrays and the multipliers of every step."""
    import chargeplan.solver.design_bound as design_bound
    from chargeplan.solver.highs import solve
    from chargeplan.solver.options import SolverOptions

    steps: list[np.ndarray] = []
    found: list[Any] = []
    evaluate, gather = design_bound._evaluate, design_bound._pieces

    def recording(pieces: Any, lam: np.ndarray, pairs: bool = True) -> Any:
        steps.append(lam.copy())
        return evaluate(pieces, lam, pairs)

    def gathering(*args: Any) -> Any:
        found.append(gather(*args))
        return found[-1]

    design_bound._evaluate, design_bound._pieces = recording, gathering
    try:  # no local search: its LPs are not what is measured here
        options = SolverOptions(
            time_limit_s=600,
            mip_rel_gap=0.02,
            threads=1,
            design_max_nodes=0,
            design_search_moves=0,
        )
        solve(piece, options)
    finally:
        design_bound._evaluate, design_bound._pieces = evaluate, gather
    return found[0], steps


def compare_steps(pieces: list[Any], largest: int) -> None:
    """Part 1 of the module docstring."""
    from chargeplan.solver.design_bound import _evaluate

    order = sorted(range(len(pieces)), key=lambda i: -len(pieces[i].pair_zone))[:largest]
    before = after = 0.0
    for rank, index in enumerate(order):
        relaxation, steps = recorded_steps(pieces[index])
        old_s = new_s = 0.0
        for lam in steps:
            t0 = time.process_time()
            old = reference_evaluate(relaxation, lam)
            t1 = time.process_time()
            new = _evaluate(relaxation, lam)
            t2 = time.process_time()
            old_s, new_s = old_s + t1 - t0, new_s + t2 - t1
            same = old[0] == new.value and all(
                np.array_equal(a, b)
                for a, b in zip(old[1:], (new.grad, new.design, new.item, new.x), strict=True)
            )
            if not same:
                raise SystemExit(f"piece {rank}: a step differs from the reference")
        before, after = before + old_s, after + new_s
        print(
            f"piece {rank}: {len(pieces[index].pair_zone):,} pairs, {len(steps)} steps: "
            f"before {old_s:.2f} s, now {new_s:.2f} s of CPU, ratio {old_s / new_s:.2f}, "
            "every step the same to the bit",
            flush=True,
        )
    print(
        f"Lagrangian steps, {len(order)} largest pieces: before {before:.1f} s, now "
        f"{after:.1f} s of CPU, ratio {before / after:.2f}"
    )


def makespans(seconds: np.ndarray, workers: int) -> tuple[float, float, float]:
    """(round robin in order, the next largest to the first free worker, lower bound)."""
    robin = max(seconds[w::workers].sum() for w in range(workers))
    free = [0.0] * workers
    for s in np.sort(seconds)[::-1]:
        heapq.heappush(free, heapq.heappop(free) + float(s))
    bound = max(seconds.sum() / workers, seconds.max())
    return float(robin), max(free), float(bound)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="pickle of the prepared pieces")
    parser.add_argument("--largest", type=int, default=6, help="pieces of part 1 (0: skip)")
    parser.add_argument("--pieces-csv", type=Path, help="national_pieces.py --save CSV")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.largest:
        compare_steps(prepared_pieces({}, args.cache), args.largest)
    if args.pieces_csv:
        table = np.loadtxt(args.pieces_csv, delimiter=",", skiprows=1, ndmin=2)
        pairs, seconds = table[:, 0], table[:, 3]
        order = np.argsort(-pairs, kind="stable")  # the bundles' order: largest first
        robin, free, bound = makespans(seconds[order], args.workers)
        print(
            f"schedule of {len(seconds)} pieces ({seconds.sum():.0f} s of CPU) on {args.workers} "
            f"workers, simulated: round robin {robin:.0f} s, next largest to the free worker "
            f"{free:.0f} s (ratio {robin / free:.2f}), lower bound {bound:.0f} s"
        )


if __name__ == "__main__":
    main()
