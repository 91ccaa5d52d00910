"""The exact windows (``chargeplan.solver.design_lns``) on national pieces chosen by rank.

Prepares the pieces as ``benchmarks/national_pieces.py`` does (``--cache``), then for each
rank (0: the largest piece) runs the design start with its local search and the windows of
``--sites`` sites, ``--passes`` passes and ``--nodes`` nodes (on every piece, whatever its
size), single-threaded, and prints the searched plan's cost, the cost after the windows and
the saving, the gap against the start's bound, the windows solved and kept, the CPU seconds of
the whole start and of the windows' MIPs alone (summed around each MIP's solve). Run from the
repository root::

    PYTHONPATH=src nice .venv/bin/python benchmarks/design_lns_windows.py \\
        --cache /tmp/natpieces-lns.pkl --ranks 25 60 110 175 --sites 4 --passes 1 --nodes 1
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from station_slice import prepared_pieces  # the pieces: one preparation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="pickle of the prepared pieces")
    parser.add_argument("--ranks", type=int, nargs="+", default=[25, 60, 110, 175])
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--nodes", type=int, default=1)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from chargeplan.model.formulation import build_milp
    from chargeplan.solver import design_lns
    from chargeplan.solver.designstart import design_start
    from chargeplan.solver.direct import load_arrays

    mip_cpu = [0.0]
    solve = design_lns.WindowMIP._run

    def timed(self, model, start, max_nodes):  # the windows' MIPs alone, timed
        begun = time.process_time()
        found = solve(self, model, start, max_nodes)
        mip_cpu[0] += time.process_time() - begun
        return found

    design_lns.WindowMIP._run = timed
    pieces = prepared_pieces({}, args.cache)
    order = sorted(range(len(pieces)), key=lambda i: -len(pieces[i].pair_zone))
    lns = design_lns.WindowSearch(args.sites, args.nodes, 0, args.passes)
    for rank in args.ranks:
        p = pieces[order[rank]]
        lp, ix = build_milp(p)
        highs, columns = load_arrays(lp)
        mip_cpu[0], cpu = 0.0, time.process_time()
        b = design_start(p, lp, ix, highs, columns, threads=1, lns=lns)
        cpu = time.process_time() - cpu
        assert b is not None
        print(
            f"rank {rank} pairs {len(p.pair_zone):,} sites {len(p.site_ids):,} "
            f"windows of {args.sites}, {args.passes} passes, {args.nodes} nodes: searched "
            f"{b.unwindowed:,.0f} windows {b.objective:,.0f} "
            f"({100 * (1 - b.objective / b.unwindowed):.2f} % less) gap {100 * b.gap:.2f} % "
            f"windows {b.windows} kept {b.windows_kept} cpu {cpu:.1f} s, MIPs {mip_cpu[0]:.1f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
