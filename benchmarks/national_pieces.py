"""The national station plan's pieces solved one by one: where the time and the gap are.

``chargeplan run models/china-2030-stations.toml`` splits the national model into the reach
graph's connected components (bundled into pieces of up to ``decompose.max_bundle_pairs``
pairs) and solves them on Dask workers. This script prepares the same pieces once (kept in
``--cache``), then solves them largest first, single-threaded, in this process, with the
solver settings given, and prints per piece its size, gap, served share of the reachable
demand and CPU seconds, then the sums (objective, bound: the sum of the pieces' bounds, a bound
of the full model since the components share no pair) by piece size. ``--menu`` replaces the
design menu (names from the scenario's catalogue), ``--links`` the pieces' ``pair_links``,
``--lagrange-steps`` the subgradient steps of the Lagrangian bound: two runs with different
settings compare them on the same pieces. Run from the repository root::

    PYTHONPATH=src nice .venv/bin/python benchmarks/national_pieces.py --cache /tmp/national.pkl
    PYTHONPATH=src nice .venv/bin/python benchmarks/national_pieces.py --cache /tmp/n3.pkl \\
        --menu dc4_ac4 dc8_ac8 dc12_ac8 --lagrange-steps 0
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from station_slice import prepared_pieces  # the pieces: one preparation

CLASSES = ((0, 3_000), (3_000, 10_000), (10_000, 30_000), (30_000, 10**9))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="pickle of the prepared pieces")
    parser.add_argument("--menu", nargs="+", help="design names replacing sizing.designs")
    parser.add_argument("--links", default=None, help="pair_links of every piece")
    parser.add_argument("--lagrange-steps", type=int, default=300)
    parser.add_argument("--max-nodes", type=int, default=0, help="design_max_nodes")
    parser.add_argument("--largest", type=int, default=None, help="only the N largest pieces")
    parser.add_argument("--skip", type=int, default=0, help="leave out the N largest pieces")
    parser.add_argument("--save", type=Path, help="CSV of every piece's figures")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from chargeplan.model.solution import objective_value
    from chargeplan.solver.highs import solve
    from chargeplan.solver.options import SolverOptions

    pieces = prepared_pieces({"sizing.designs": args.menu} if args.menu else {}, args.cache)
    if args.links:
        pieces = [dataclasses.replace(p, pair_links=args.links) for p in pieces]
    options = SolverOptions(
        time_limit_s=600,
        mip_rel_gap=0.02,
        threads=1,
        design_max_nodes=args.max_nodes,
        design_lagrange_steps=args.lagrange_steps,
    )
    order = sorted(range(len(pieces)), key=lambda i: -len(pieces[i].pair_zone))
    order = order[args.skip :][: args.largest]
    rows = []
    for n, i in enumerate(order):
        p = pieces[i]
        cpu = time.process_time()
        s = solve(p, options)
        cpu = time.process_time() - cpu
        reach = np.zeros(len(p.zone_ids), bool)
        reach[p.pair_zone] = True
        served = objective_value(p, s)["served_demand"]
        rows.append((len(p.pair_zone), s.objective, s.bound, cpu, served, p.demand[reach].sum()))
        if n < 12 or n % 25 == 0:
            print(
                f"{n:4d} pairs {len(p.pair_zone):7,} zones {len(p.zone_ids):6,} sites "
                f"{len(p.site_ids):5,} gap {100 * (s.objective - s.bound) / s.objective:6.2f} % "
                f"served {100 * served / max(rows[-1][5], 1e-12):6.2f} % cpu {cpu:6.1f} s "
                f"stations {int(s.open_site.sum())}",
                flush=True,
            )
    a = np.array(rows, float)
    if args.save:
        header = "pairs,objective,bound,cpu_s,served,reachable"
        np.savetxt(args.save, a, delimiter=",", header=header, comments="", fmt="%.6f")
    total = a[:, 1].sum()
    print(
        f"{len(rows)} pieces, {a[:, 0].sum():,.0f} pairs: objective {total:,.0f}, bound "
        f"{a[:, 2].sum():,.0f}, gap {100 * (total - a[:, 2].sum()) / total:.2f} %, served of "
        f"the reachable demand {100 * a[:, 4].sum() / a[:, 5].sum():.2f} %, "
        f"CPU {a[:, 3].sum():.0f} s"
    )
    for lo, hi in CLASSES:
        m = (a[:, 0] >= lo) & (a[:, 0] < hi)
        if not m.any():
            continue
        obj = max(a[m, 1].sum(), 1e-12)
        print(
            f"  pieces of [{lo:,}, {hi:,}) pairs: {m.sum()}, CPU {a[m, 3].sum():.0f} s, objective "
            f"{obj:,.0f}, gap {100 * (obj - a[m, 2].sum()) / obj:.2f} %"
        )


if __name__ == "__main__":
    main()
