"""The national station plan's pieces solved one by one: where the time and the gap are.

``chargeplan run models/china-2030-stations.toml`` splits the national model into the reach
graph's connected components (bundled into pieces of up to ``decompose.max_bundle_pairs``
pairs) and solves them on Dask workers. This script prepares the same pieces once (kept in
``--cache``), then solves them largest first, single-threaded, in this process, with the
solver settings given, and prints per piece its size, gap, served share of the reachable
demand and CPU seconds, then the sums (objective, bound: the sum of the pieces' bounds, a bound
of the full model since the components share no pair) by piece size. ``--menu`` replaces the
design menu (names from the scenario's catalogue), ``--links`` the pieces' ``pair_links``,
``--lagrange-steps`` the subgradient steps of the Lagrangian bound, ``--cluster-sites`` the
sites per cluster of the bound over clusters (``chargeplan.solver.design_clusters``): two runs
with different settings compare them on the same pieces. ``--search-moves 0 200`` solves every
piece without and with the local search (:mod:`chargeplan.solver.design_search`) and prints
both sums and their ratios; ``--lns-sites 0 16`` likewise without and with the exact windows
(:mod:`chargeplan.solver.design_lns`; ``--lns-nodes``, ``--lns-min-pairs`` their settings;
``--lns-after-search`` runs the windows after the local search instead of in its place;
``--lns-passes``, ``--lns-more-gap`` the passes and the gap above which passes after the first run;
``--both-starts-max-pairs N`` improves the pieces of at most N pairs from both the rounded and
the Lagrangian plan, :mod:`chargeplan.solver.designstart` step 8). Run
from the repository root::

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
from station_slice import at_unmet_price, prepared_pieces  # the pieces: one preparation

CLASSES = ((0, 3_000), (3_000, 10_000), (10_000, 30_000), (30_000, 10**9))


def main() -> None:
    from chargeplan.solver.options import SolverOptions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="pickle of the prepared pieces")
    parser.add_argument("--menu", nargs="+", help="design names replacing sizing.designs")
    parser.add_argument("--links", default=None, help="pair_links of every piece")
    parser.add_argument("--lagrange-steps", type=int, default=300)
    parser.add_argument("--max-nodes", type=int, default=0, help="design_max_nodes")
    parser.add_argument("--largest", type=int, default=None, help="only the N largest pieces")
    parser.add_argument("--skip", type=int, default=0, help="leave out the N largest pieces")
    parser.add_argument("--save", type=Path, help="CSV of every piece's figures")
    parser.add_argument(
        "--unmet-price", type=float, default=None, help="CNY per unmet design-hour kWh, every type"
    )
    parser.add_argument(
        "--part",
        default="0/1",
        help="K/N: every N-th piece from the K-th (N processes side by side)",
    )
    parser.add_argument(
        "--search-moves",
        type=int,
        nargs="+",
        default=[250],
        help="design_search_moves (0: no local search); several: each piece solved with each",
    )
    parser.add_argument(
        "--lns-sites",
        type=int,
        nargs="+",
        default=[SolverOptions.design_lns_sites],
        help="design_lns_sites (0: no exact windows); several: each piece solved with each",
    )
    parser.add_argument("--lns-nodes", type=int, default=SolverOptions.design_lns_nodes)
    parser.add_argument(
        "--lns-passes", type=int, default=SolverOptions.design_lns_passes, help="design_lns_passes"
    )
    parser.add_argument(
        "--lns-more-gap",
        type=float,
        default=SolverOptions.design_lns_more_gap,
        help="design_lns_more_gap: passes after the first only above this gap",
    )
    parser.add_argument("--lns-min-pairs", type=int, default=SolverOptions.design_lns_min_pairs)
    parser.add_argument(
        "--lns-after-search",
        action="store_true",
        help="the windows after the local search (design_lns_replaces_search = False)",
    )
    parser.add_argument(
        "--both-starts-max-pairs",
        type=int,
        default=SolverOptions.design_both_starts_max_pairs,
        help="design_both_starts_max_pairs: pieces of at most this many pairs improved from both "
        "the rounded and the Lagrangian plan (0: the cheaper start only)",
    )
    parser.add_argument("--every", action="store_true", help="print every piece's line")
    parser.add_argument(
        "--cluster-sites", type=int, default=0, help="design_cluster_sites (0: no cluster bound)"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    pieces = prepared_pieces({"sizing.designs": args.menu} if args.menu else {}, args.cache)
    if args.links:
        pieces = [dataclasses.replace(p, pair_links=args.links) for p in pieces]
    pieces = at_unmet_price(pieces, args.unmet_price)
    options = SolverOptions(
        time_limit_s=600,
        mip_rel_gap=0.02,
        threads=1,
        design_max_nodes=args.max_nodes,
        design_lagrange_steps=args.lagrange_steps,
        design_cluster_sites=args.cluster_sites,
        design_lns_nodes=args.lns_nodes,
        design_lns_passes=args.lns_passes,
        design_lns_more_gap=args.lns_more_gap,
        design_lns_min_pairs=args.lns_min_pairs,
        design_lns_replaces_search=not args.lns_after_search,
        design_both_starts_max_pairs=args.both_starts_max_pairs,
    )
    order = sorted(range(len(pieces)), key=lambda i: -len(pieces[i].pair_zone))
    order = order[args.skip :][: args.largest]
    part, parts = (int(x) for x in args.part.split("/"))
    order = order[part::parts]
    runs = [(m, w) for m in args.search_moves for w in args.lns_sites]
    rows: dict[tuple[int, int], list] = {run: [] for run in runs}
    for n, i in enumerate(order):
        done: dict[tuple[int, int], tuple] = {}  # a piece too small for windows: solved once
        for moves, sites in runs:
            small = len(pieces[i].pair_zone) < args.lns_min_pairs
            key = (moves, 0 if small else sites)
            if key not in done:
                chosen = dataclasses.replace(
                    options, design_search_moves=moves, design_lns_sites=key[1]
                )
                say = args.every or n < 12 or n % 25 == 0
                done[key] = _solved(n, pieces[i], chosen, say)
            rows[moves, sites].append(done[key])
    for (moves, sites), found in rows.items():
        print(f"design_search_moves = {moves}, design_lns_sites = {sites}:")
        _sums(np.array(found, float))
        if args.save:
            tag = f".{moves}.{sites}.csv"
            name = args.save if len(rows) == 1 else args.save.with_suffix(tag)
            header = "pairs,objective,bound,cpu_s,served,reachable,stations,capex"
            np.savetxt(
                name, np.array(found, float), delimiter=",", header=header, comments="", fmt="%.6f"
            )
    first, *others = runs
    for run in others:
        a, b = np.array(rows[first], float), np.array(rows[run], float)
        print(
            f"ratios {run} / {first} (moves, sites): objective "
            f"{b[:, 1].sum() / a[:, 1].sum():.4f}, "
            f"CPU {b[:, 3].sum() / a[:, 3].sum():.3f} (+{b[:, 3].sum() - a[:, 3].sum():.0f} s)"
        )


def _solved(n: int, p, options, say: bool) -> tuple:
    """Solve one piece: (pairs, objective, bound, CPU s, served, reachable demand, stations,
    capex)."""
    from chargeplan.model.solution import objective_value
    from chargeplan.solver.highs import solve

    cpu = time.process_time()
    s = solve(p, options)
    cpu = time.process_time() - cpu
    reach = np.zeros(len(p.zone_ids), bool)
    reach[p.pair_zone] = True
    parts = objective_value(p, s)
    served = parts["served_demand"]
    row = (len(p.pair_zone), s.objective, s.bound, cpu, served, p.demand[reach].sum())
    row = (*row, int(s.open_site.sum()), parts["capex"])
    if say:
        print(
            f"{n:4d} pairs {len(p.pair_zone):7,} zones {len(p.zone_ids):6,} sites "
            f"{len(p.site_ids):5,} search {options.design_search_moves:4d} windows "
            f"{options.design_lns_sites:3d} objective "
            f"{s.objective:15,.0f} gap {100 * (s.objective - s.bound) / s.objective:6.2f} % "
            f"served {100 * served / max(row[5], 1e-12):6.2f} % cpu {cpu:6.1f} s "
            f"stations {int(s.open_site.sum())}",
            flush=True,
        )
    return row


def _sums(a: np.ndarray) -> None:
    """The sums over the pieces, and by piece size."""
    total = a[:, 1].sum()
    print(
        f"{len(a)} pieces, {a[:, 0].sum():,.0f} pairs: objective {total:,.0f}, bound "
        f"{a[:, 2].sum():,.0f}, gap {100 * (total - a[:, 2].sum()) / total:.2f} %, served of "
        f"the reachable demand {100 * a[:, 4].sum() / a[:, 5].sum():.2f} %, "
        f"CPU {a[:, 3].sum():.0f} s, {a[:, 6].sum():,.0f} stations, capex "
        f"CNY {a[:, 7].sum() / 1e9:.2f} bn"
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
