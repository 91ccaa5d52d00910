"""The exact windows' passes on national pieces: where the later passes' CPU goes, and HiGHS's
settings for the windows' MIPs.

``chargeplan run models/china-2030-stations.toml`` re-optimises each piece's plan window by
window (:mod:`chargeplan.solver.design_lns`), three passes by default, the later two only on
pieces still more than 2 % above their bound. This script solves a sample of the national
pieces (``--ranks``: positions in the pieces sorted largest first, default every fifth of the
150 largest; the pieces of ``benchmarks/national_pieces.py``, kept in ``--cache``) one by one,
single-threaded, in this process, once per run:

- the **first run** (the default settings) also logs every window through
  ``design_lns(watch=...)``: its pass, its CPU seconds (``WindowMIP.solve``), whether its plan
  was kept and what it saved, and whether the previous pass changed a site in its
  neighbourhood (a site of the window or one sharing a cell with it: its option or its load)
  or a site of the window itself. It prints per pass the windows, kept, saving and CPU, and for
  the later passes the same split by those two marks: what a rule "in a later pass, solve only
  the windows the previous pass touched" would save and lose; and the power law of a piece's
  CPU in its pairs (least squares on the logarithms, the exponent of the progress line's time
  left before session 16; ``benchmarks/progress_eta.py`` replays the model used now);
- each **further run** (``--highs LABEL='{"option": value, ...}'``, repeatable) sets HiGHS
  options on the windows' MIPs on top of the product's own, and prints its objective, gap and
  CPU with the ratios to the first run, measured in the same process.

Run from the repository root::

    PYTHONPATH=src nice .venv/bin/python benchmarks/window_passes.py --cache /tmp/national.pkl \\
        --highs 'presolve off={"presolve": "off"}' \\
        --highs 'first improving={"mip_max_improving_sols": 1}'
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from station_slice import prepared_pieces  # the pieces: one preparation

#: Columns of a window's log line.
LOG = ("pass", "touched_near", "touched_in", "kept", "saving", "cpu")


class WindowLog:
    """The ``watch`` of :func:`chargeplan.solver.design_lns.design_lns`: one line per window."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self.cpu = 0.0  # the last window's CPU seconds (set by the timed solve)
        self.plan: object = None

    def start(self, local) -> None:
        """A new piece's plan: the marks start again."""
        self.plan, self.current = local, 0
        n = len(local.option)
        self.previous, self.now = np.zeros(n, bool), np.zeros(n, bool)
        self.option, self.load, self.cost = local.option.copy(), local.load.copy(), local.cost

    def __call__(self, done: int, members: np.ndarray, kept: bool, local) -> None:
        if local is not self.plan:
            self.start(local)
        if done != self.current:  # a new pass: what the last one changed is "previous"
            self.previous, self.now = self.now, np.zeros(len(local.option), bool)
            self.current = done
        zones = np.unique(local.zones_of_site.gather(members))
        near = np.unique(np.r_[members, local.x_site[local.x_of_zone.gather(zones)]])
        touched_near = bool(self.previous[near].any()) if done else True
        touched_in = bool(self.previous[members].any()) if done else True
        moved = (self.option != local.option) | (np.abs(self.load - local.load).max(axis=1) > 1e-9)
        self.now |= moved
        saving = self.cost - local.cost
        self.option, self.load, self.cost = local.option.copy(), local.load.copy(), local.cost
        self.rows.append((done, touched_near, touched_in, kept, saving, self.cpu))


def main() -> None:
    import chargeplan.solver.design_improve as improve
    import chargeplan.solver.design_lns as lns
    from chargeplan.solver.options import SolverOptions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="pickle of the prepared pieces")
    parser.add_argument("--ranks", type=int, nargs="+", default=list(range(0, 150, 5)))
    parser.add_argument("--highs", action="append", default=[], help="LABEL=JSON of options")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    pieces = prepared_pieces({}, args.cache)
    order = sorted(range(len(pieces)), key=lambda i: -len(pieces[i].pair_zone))
    chosen = [pieces[order[r]] for r in args.ranks]
    options = SolverOptions(
        time_limit_s=600, mip_rel_gap=0.02, threads=1, design_max_nodes=0, design_lagrange_steps=300
    )
    log = WindowLog()
    runs = [("the product's settings", {})] + [_run_spec(text) for text in args.highs]
    original, quiet, solve_window = improve.design_lns, lns.quiet_highs, lns.WindowMIP.solve

    def timed(self, sites, max_nodes):
        begun = time.process_time()
        found = solve_window(self, sites, max_nodes)
        log.cpu = time.process_time() - begun
        return found

    sums = []
    for n, (label, extra) in enumerate(runs):
        improve.design_lns = functools.partial(original, watch=log) if n == 0 else original
        lns.quiet_highs = functools.partial(_with_options, quiet, extra)
        lns.WindowMIP.solve = timed
        try:
            sums.append(_solved(chosen, options))
        finally:
            improve.design_lns, lns.quiet_highs, lns.WindowMIP.solve = original, quiet, solve_window
        objective, bound, cpu = sums[-1]
        print(
            f"{label}: {len(chosen)} pieces, objective {objective:,.0f}, bound {bound:,.0f}, "
            f"gap {100 * (objective - bound) / objective:.3f} %, CPU {cpu:.1f} s"
            + (
                f"; ratios to the first run: objective {objective / sums[0][0]:.5f}, "
                f"CPU {cpu / sums[0][2]:.3f}"
                if n
                else ""
            ),
            flush=True,
        )
        if n == 0:
            _passes(np.array(log.rows, float))


def _run_spec(text: str) -> tuple[str, dict]:
    """``LABEL=JSON`` -> (label, options)."""
    label, _, given = text.partition("=")
    return label, json.loads(given)


def _with_options(quiet, extra: dict):
    """A quiet HiGHS with ``extra`` set, which the product's own settings do not override."""
    highs = quiet()
    real = highs.setOptionValue
    for name, value in extra.items():
        real(name, value)

    def guarded(name, value):
        return None if name in extra else real(name, value)

    highs.setOptionValue = guarded
    return highs


def _solved(chosen: list, options) -> tuple[float, float, float]:
    """Objective, bound and CPU seconds summed over the pieces; prints the power law of a
    piece's CPU in its pairs (the progress line's model before session 16)."""
    from chargeplan.solver.highs import solve

    objective = bound = 0.0
    cpu = []
    for p in chosen:
        begun = time.process_time()
        s = solve(p, options)
        cpu.append(time.process_time() - begun)
        objective, bound = objective + s.objective, bound + s.bound
    pairs = np.array([len(p.pair_zone) for p in chosen], float)
    if len(chosen) > 1:
        slope, level = np.polyfit(np.log(pairs), np.log(cpu), 1)
        print(f"  a piece's CPU = {np.exp(level):.3g} pairs^{slope:.3f} s (least squares on logs)")
    return objective, bound, float(sum(cpu))


def _passes(rows: np.ndarray) -> None:
    """Per pass: windows, kept, saving, CPU; the later passes split by the marks."""
    col = {name: i for i, name in enumerate(LOG)}

    def line(label: str, m: np.ndarray) -> None:
        print(
            f"  {label}: windows {int(m.sum()):,}, kept {int(rows[m, col['kept']].sum()):,}, "
            f"saving {rows[m, col['saving']].sum():,.0f}, CPU {rows[m, col['cpu']].sum():.1f} s"
        )

    for p in np.unique(rows[:, col["pass"]]).astype(int).tolist():
        in_pass = rows[:, col["pass"]] == p
        line(f"pass {p}", in_pass)
        if p == 0:
            continue
        for mark in ("touched_near", "touched_in"):
            for value in (1, 0):
                line(f"  {mark} = {value}", in_pass & (rows[:, col[mark]] == value))


if __name__ == "__main__":
    main()
