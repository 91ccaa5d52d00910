"""How much of the windows' CPU a rule could save at the national plan's 2 % gap, at best.

``chargeplan run models/china-2030-stations.toml`` improves each piece's plan by exact windows
(:mod:`chargeplan.solver.design_lns`), three passes, the later two on pieces still more than
2 % above their bound. This script replays that on the national pieces (the cache of
``benchmarks/national_pieces.py``) in two steps:

- ``log``: solve the pieces at ``--ranks`` (positions largest first) one by one, one thread,
  with the product's settings, and store every window (its pass, CPU seconds, the piece's cost
  after it) and every piece (pairs, CPU, objective, bound, the bound the windows compare with,
  the cost before the windows) in ``--out`` (``.npz``). Two processes on two cores take the
  even and the odd ranks.
- ``replay``: read the logs (``--logs``) and print, for the whole set, the saving and CPU of
  each pass, the CPU of the windows that saved nothing (skipping them would leave every plan
  as it is, if a rule could tell them in advance), rules that stop a piece's later passes early
  (once it is within a gap; once a pass saved less than a threshold per window), and the
  *oracle* that drops the later passes with the least saving per CPU second, knowing them in
  advance: the most CPU any rule over whole passes can save at a given national gap; and the
  product's own rule (``design_lns_passes``, ``design_lns_more_gap``) at other settings, exact
  when the log ran every pass on every piece (``--lns-more-gap 0``).
  ``--constant``: the unmet price of the zones in no piece (the run's objective less the
  pieces' sum; in both objective and bound).

``log`` takes ``--unmet-price`` (CNY per unmet design-hour kWh, every type, in place of the
pieces' own), ``--lns-passes`` and ``--lns-more-gap``. The default's rule was chosen on the log
at the service target's price (session 19; the constant there: the run's bound less the
pieces' bounds, CNY 320,057,500)::

    for k in 0 1; do PYTHONPATH=src .venv/bin/python benchmarks/window_oracle.py log \\
        --cache /tmp/national.pkl --out /tmp/w$k.npz --ranks $(seq $k 2 278) \\
        --unmet-price 100000 --lns-more-gap 0 & done; wait
    PYTHONPATH=src .venv/bin/python benchmarks/window_oracle.py replay --logs /tmp/w0.npz \\
        /tmp/w1.npz --constant 320057500

Run from the repository root (the cache: ``national_pieces.py --cache /tmp/national.pkl``)::

    PYTHONPATH=src .venv/bin/python benchmarks/window_oracle.py log --cache /tmp/national.pkl \\
        --out /tmp/w0.npz --ranks $(seq 0 2 278) &
    PYTHONPATH=src .venv/bin/python benchmarks/window_oracle.py log --cache /tmp/national.pkl \\
        --out /tmp/w1.npz --ranks $(seq 1 2 278); wait
    PYTHONPATH=src .venv/bin/python benchmarks/window_oracle.py replay --logs /tmp/w0.npz \\
        /tmp/w1.npz --constant 61783471
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from station_slice import at_unmet_price, prepared_pieces  # the pieces: one preparation

PIECE_COLUMNS = ("rank", "pairs", "cpu", "objective", "bound", "windows_bound", "start_cost")


def log(
    cache: Path,
    out: Path,
    ranks: list[int],
    unmet_price: float | None = None,
    passes: int = 3,
    more_gap: float = 0.02,
) -> None:
    """Solve the pieces at ``ranks`` and store every window and piece in ``out``.

    ``unmet_price`` (CNY per unmet design-hour kWh, every type) replaces the pieces' own;
    ``passes`` and ``more_gap`` are ``design_lns_passes`` and ``design_lns_more_gap`` (with
    ``more_gap`` 0 every pass runs on every piece, and :func:`replay` can then try any
    threshold exactly: a piece's windows up to a pass do not depend on what follows).
    """
    import chargeplan.solver.design_improve as improve
    import chargeplan.solver.design_lns as lns
    from chargeplan.solver.highs import solve
    from chargeplan.solver.options import SolverOptions

    warnings.simplefilter("ignore")
    pieces = prepared_pieces({}, cache)
    pieces = sorted(pieces, key=lambda p: -len(p.pair_zone))
    pieces = at_unmet_price(pieces, unmet_price)
    options = SolverOptions(
        time_limit_s=600,
        mip_rel_gap=0.02,
        threads=1,
        design_max_nodes=0,
        design_lagrange_steps=300,
        design_lns_passes=passes,
        design_lns_more_gap=more_gap,
    )
    windows: list[tuple] = []
    rows: list[tuple] = []
    state: dict = {}
    original, solve_window = improve.design_lns, lns.WindowMIP.solve

    def watch(done: int, members: np.ndarray, kept: bool, local) -> None:
        windows.append((state["rank"], done, state["cpu"], local.cost))

    def logged(*args, **kwargs):
        state["bound"] = kwargs.get("bound", np.nan)
        return original(*args, watch=watch, **kwargs)

    def timed(self, sites, max_nodes):
        if np.isnan(state["start"]):
            state["start"] = self.local.cost
        begun = time.process_time()
        found = solve_window(self, sites, max_nodes)
        state["cpu"] = time.process_time() - begun
        return found

    improve.design_lns, lns.WindowMIP.solve = logged, timed
    try:
        for rank in ranks:
            state.update(rank=rank, bound=np.nan, start=np.nan)
            begun = time.process_time()
            solution = solve(pieces[rank], options)
            cpu = time.process_time() - begun
            piece = (rank, len(pieces[rank].pair_zone), cpu, solution.objective, solution.bound)
            rows.append((*piece, state["bound"], state["start"]))
            print(
                ", ".join(f"{n} {v:,.6g}" for n, v in zip(PIECE_COLUMNS, rows[-1], strict=True)),
                flush=True,
            )
            np.savez(out, windows=np.array(windows, float), pieces=np.array(rows, float))
    finally:
        improve.design_lns, lns.WindowMIP.solve = original, solve_window


def replay(logs: list[Path], constant: float, target: float = 0.02) -> None:
    """Print the passes, the windows that saved nothing and the rules' figures (module
    docstring) from the logs of :func:`log`."""
    data = [np.load(path) for path in logs]
    windows = np.vstack([d["windows"] for d in data])
    pieces = np.vstack([d["pieces"] for d in data])
    rank, _, cpu, objective, bound, windows_bound, start = pieces.T
    total_obj, total_bound, total_cpu = (
        objective.sum() + constant,
        bound.sum() + constant,
        cpu.sum(),
    )

    def gap(lost: float) -> float:
        return 100 * (total_obj + lost - total_bound) / (total_obj + lost)

    print(f"{len(pieces)} pieces: gap {gap(0):.3f} %, CPU {total_cpu:.0f} s")
    # per window: what it saved (the cost before it less the cost after it)
    saved = np.zeros(len(windows))
    blocks = {}  # (rank, pass) -> (saving, CPU, windows)
    for r, first in zip(rank, start, strict=True):
        at = np.flatnonzero(windows[:, 0] == r)
        if at.size:
            costs = windows[at, 3]
            saved[at] = np.r_[first, costs[:-1]] - costs
            for p in np.unique(windows[at, 1]):
                mine = at[windows[at, 1] == p]
                blocks[int(r), int(p)] = (saved[mine].sum(), windows[mine, 2].sum(), mine.size)
    print("| pass | windows | saving, CNY M | CPU, s | windows that saved nothing | their CPU, s |")
    print("|---|---|---|---|---|---|")
    for p in range(int(windows[:, 1].max()) + 1):
        m = windows[:, 1] == p
        z = m & (saved <= 0)
        print(
            f"| {p} | {m.sum():,} | {saved[m].sum() / 1e6:,.1f} | {windows[m, 2].sum():.0f} | "
            f"{z.sum():,} | {windows[z, 2].sum():.0f} ({windows[z, 2].sum() / total_cpu:.1%} "
            "of all) |"
        )
    margin = (target * total_obj - (total_obj - total_bound)) / (1 - target)
    print(f"saving that may be given up at a {target:.0%} national gap: CNY {margin / 1e6:.1f} M")
    _rules(windows, saved, blocks, rank, windows_bound, gap, total_cpu)
    _more_gap(windows, rank, windows_bound, start, gap, total_cpu)
    _oracle(blocks, gap, total_cpu)


def _rules(windows, saved, blocks, rank, windows_bound, gap, total_cpu) -> None:
    """Stop a piece's later passes once its plan is within ``g`` of its bound (checked after
    every window, not every pass), or skip pass 2 where pass 1 saved little per window."""
    for g in (0.02, 0.015, 0.01):
        lost = cut = 0.0
        for r, b in zip(rank, windows_bound, strict=True):
            at = np.flatnonzero((windows[:, 0] == r) & (windows[:, 1] > 0))
            cost = windows[at, 3]
            near = np.flatnonzero(cost - b <= g * np.abs(cost))
            if near.size:
                rest = at[near[0] + 1 :]
                lost += saved[rest].sum()
                cut += windows[rest, 2].sum()
        rule = f"later passes stop once the piece is within {g:.1%}"
        print(f"{rule}: gap {gap(lost):.3f} %, CPU saved {cut / total_cpu:.1%}")
    for per_window in (1e4, 3e4, 1e5):
        lost = cut = 0.0
        for r in np.unique(rank):
            one, two = blocks.get((int(r), 1)), blocks.get((int(r), 2))
            if one and two and one[0] / one[2] < per_window:
                lost, cut = lost + two[0], cut + two[1]
        print(
            f"pass 2 only where pass 1 saved CNY {per_window:,.0f} a window or more: "
            f"gap {gap(lost):.3f} %, CPU saved {cut / total_cpu:.1%}"
        )


def _more_gap(windows, rank, windows_bound, start, gap, total_cpu) -> None:
    """The product's own rule at other settings: ``passes`` passes, each after the first only
    on pieces still more than ``more_gap`` above their bound after the pass before (exact when
    the log ran every pass on every piece, ``--lns-more-gap 0``)."""
    print("| passes | more_gap | national gap | CPU, share of the log's |")
    print("|---|---|---|---|")
    for passes in (1, 2, 3):
        for more_gap in (0.0, 0.02, 0.05, 0.08, 0.09, 0.1, 0.12):
            if passes == 1 and more_gap > 0:
                continue
            lost = cut = 0.0
            for r, b, first in zip(rank, windows_bound, start, strict=True):
                at = np.flatnonzero(windows[:, 0] == r)
                cost, stop = first, None
                for p in range(int(windows[at, 1].max()) + 1 if at.size else 0):
                    mine = at[windows[at, 1] == p]
                    if p >= passes or (p > 0 and cost - b <= more_gap * abs(cost)):
                        stop = p
                        break
                    if mine.size:
                        cost = windows[mine[-1], 3]
                if stop is not None:
                    rest = at[windows[at, 1] >= stop]
                    kept = windows[at[windows[at, 1] < stop], 3]
                    lost += (kept[-1] if kept.size else first) - windows[at[-1], 3]
                    cut += windows[rest, 2].sum()
            print(
                f"| {passes} | {more_gap:.0%} | {gap(lost):.3f} % | "
                f"{(total_cpu - cut) / total_cpu:.2f} |"
            )


def _oracle(blocks, gap, total_cpu) -> None:
    """Drop later passes with the least saving per CPU second first (a piece's pass 2 before
    its pass 1), knowing each pass's saving: the CPU saved at each national gap."""
    lost = cut = 0.0
    options = []
    for (r, p), (saving, seconds, _) in blocks.items():
        if p == 2:
            options.append((saving / max(seconds, 1e-9), r, 2))
        elif p == 1:
            two = blocks.get((r, 2), (0.0, 0.0, 0))
            both = (saving + two[0]) / max(seconds + two[1], 1e-9)
            options.append((both, r, 1))
    dropped: set[tuple[int, int]] = set()
    print("| oracle: later passes dropped | national gap | CPU saved |")
    print("|---|---|---|")
    shown = 0.0
    for _, r, p in sorted(options):
        if p == 1 and (r, 2) not in dropped and (r, 2) in blocks:
            continue  # a pass 1 goes only after its piece's pass 2
        saving, seconds, _ = blocks[r, p]
        dropped.add((r, p))
        lost, cut = lost + saving, cut + seconds
        if cut / total_cpu >= shown + 0.05:
            shown = cut / total_cpu
            print(f"| {len(dropped)} | {gap(lost):.3f} % | {shown:.1%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("log", "replay"))
    parser.add_argument("--cache", type=Path, help="pickle of the prepared pieces (log)")
    parser.add_argument("--out", type=Path, help="the log to write (log)")
    parser.add_argument("--ranks", type=int, nargs="+", default=list(range(279)))
    parser.add_argument("--logs", type=Path, nargs="+", help="the logs to read (replay)")
    parser.add_argument("--constant", type=float, default=0.0)
    parser.add_argument("--unmet-price", type=float, default=None, help="CNY per unmet kWh (log)")
    parser.add_argument("--lns-passes", type=int, default=3, help="design_lns_passes (log)")
    parser.add_argument("--lns-more-gap", type=float, default=0.02, help="design_lns_more_gap, log")
    args = parser.parse_args()
    if args.step == "log":
        log(args.cache, args.out, args.ranks, args.unmet_price, args.lns_passes, args.lns_more_gap)
    else:
        replay(args.logs, args.constant)


if __name__ == "__main__":
    main()
