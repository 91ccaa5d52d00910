"""How far the Lagrangian bound of a station-design piece is from what it converges to.

For national pieces (ranked by pairs, largest first, as ``national_pieces.py`` ranks them;
the pieces are read from its ``--cache``), one thread, prints: the design start's plan
without the Lagrangian steps, the weak LP bound, the Lagrangian bound after each number of
``--steps`` (from the weak LP's duals, the plan's cost as Polyak's target) without and with
the catchment MIR cuts dualised, the disjunctive LP (``chargeplan.solver.design_hull``: the
Lagrangian dual's optimum) with its CPU seconds, and how many catchment MIR cuts its optimum
violates. ``--branch-seconds S`` also solves the piece with the strong rows
(``pair_links = "always"``), the design start and HiGHS's branch and bound for S seconds (a
diagnosis: the clock decides that plan). ``--cluster-sites`` and ``--cluster-nodes`` print
the bound over clusters of sites (``chargeplan.solver.design_clusters``) at the multipliers of
the first ``--steps`` without cuts, for every cluster size and node limit, with its CPU
seconds; ``--no-cuts`` and ``--no-hull`` leave out the cuts and the disjunctive LP. Every
bound is printed with its gap to the plan. Run from the repository root::

    PYTHONPATH=src nice .venv/bin/python benchmarks/design_bound_gap.py \\
        --cache /tmp/natpieces-dbound.pkl --ranks 60 110 175
    PYTHONPATH=src nice .venv/bin/python benchmarks/design_bound_gap.py \\
        --cache /tmp/natpieces-cbound.pkl --ranks 175 110 60 25 --steps 300 --no-cuts \\
        --no-hull --cluster-sites 4 8 16 --cluster-nodes 1 50
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from station_slice import prepared_pieces  # the pieces: one preparation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="pickle of the prepared pieces")
    parser.add_argument("--ranks", type=int, nargs="+", default=[60])
    parser.add_argument("--steps", type=int, nargs="+", default=[300, 3000])
    parser.add_argument("--method", default="ipm", help="HiGHS's method for the LP")
    parser.add_argument("--branch-seconds", type=float, default=0.0)
    parser.add_argument("--cluster-sites", type=int, nargs="*", default=[])
    parser.add_argument("--cluster-nodes", type=int, nargs="+", default=[50])
    parser.add_argument("--no-cuts", action="store_true", help="no run with the cuts")
    parser.add_argument("--no-hull", action="store_true", help="no disjunctive LP")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from chargeplan.model.formulation import build_milp
    from chargeplan.solver.design_bound import assign_row_offset, catchment_cuts, lagrangian_bound
    from chargeplan.solver.design_hull import disjunctive_bound
    from chargeplan.solver.designstart import design_start
    from chargeplan.solver.direct import load_arrays

    pieces = prepared_pieces({}, args.cache)
    order = sorted(range(len(pieces)), key=lambda i: -len(pieces[i].pair_zone))
    for rank in args.ranks:
        p = pieces[order[rank]]
        lp, ix = build_milp(p)
        start = design_start(p, lp, ix, *load_arrays(lp), threads=1, lagrange_steps=0)
        assert start is not None
        plan = start.objective
        highs, _ = load_arrays(lp)
        highs.setOptionValue("solve_relaxation", True)
        highs.setOptionValue("threads", 1)
        highs.run()
        offset = assign_row_offset(lp)
        duals = np.asarray(highs.getSolution().row_dual)[offset : offset + len(ix.u_zone)]

        def gap(bound: float, plan: float = plan) -> str:
            return f"{bound:,.0f} ({100 * (plan - bound) / plan:.2f} %)"

        print(
            f"rank {rank}: {len(p.pair_zone):,} pairs, {len(p.site_ids):,} sites; plan "
            f"{plan:,.0f}; weak LP {gap(start.lp_bound)}",
            flush=True,
        )
        multipliers = None
        for steps in args.steps:
            for cuts in (False,) if args.no_cuts else (False, True):
                cpu = time.process_time()
                found = lagrangian_bound(p, lp, ix, plan, duals, steps, cuts=cuts)
                cpu = time.process_time() - cpu
                assert found is not None
                if multipliers is None:
                    multipliers = found.multipliers
                print(
                    f"  {steps:5d} steps, cuts {cuts!s:5}: {gap(found.bound)}, CPU {cpu:.1f} s",
                    flush=True,
                )
        if multipliers is not None:
            _clusters(p, lp, ix, multipliers, args, gap)
        if args.no_hull:
            continue
        cpu = time.process_time()
        hull = disjunctive_bound(p, lp, ix, method=args.method)
        cpu = time.process_time() - cpu
        if hull is None:
            print("  disjunctive LP: not optimal")
            continue
        if args.branch_seconds > 0:
            _branch(p, args.branch_seconds, plan)
        cuts = catchment_cuts(p, lp, ix)
        violation = cuts.rhs - cuts.options @ hull.options - cuts.unmet @ hull.unmet
        print(
            f"  disjunctive LP ({hull.columns:,} columns): {gap(hull.lp_value)}, L at its duals "
            f"{hull.bound:,.0f}, CPU {cpu:.1f} s; catchment cuts {cuts.count}, violated by "
            f"more than 1e-6: {(violation > 1e-6).sum()}",
            flush=True,
        )


def _clusters(p, lp, ix, multipliers, args, gap) -> None:
    """The bound over clusters of sites at ``multipliers``, for each size and node limit."""
    from chargeplan.solver.design_clusters import cluster_bound

    for size in args.cluster_sites:
        for nodes in args.cluster_nodes:
            cpu = time.process_time()
            found = cluster_bound(p, lp, ix, multipliers, size, nodes)
            cpu = time.process_time() - cpu
            assert found is not None
            print(
                f"  clusters of {size:3d} sites, {nodes:4d} nodes: {gap(found.bound)}, "
                f"{100 * (found.bound - found.site_bound) / found.site_bound:+.3f} % on L; "
                f"{found.clusters} clusters, {found.shared_rows:,} of {multipliers.size:,} rows "
                f"dualised, {found.raised} raised, {found.nodes} nodes, CPU {cpu:.1f} s",
                flush=True,
            )


def _branch(piece: object, seconds: float, plan: float) -> None:
    """The piece with the strong rows, the design start and branch and bound for ``seconds``."""
    import dataclasses

    from chargeplan.solver.highs import solve
    from chargeplan.solver.options import SolverOptions

    options = SolverOptions(
        time_limit_s=seconds, mip_rel_gap=0.005, threads=1, design_max_nodes=100_000
    )
    cpu = time.process_time()
    s = solve(dataclasses.replace(piece, pair_links="always"), options)
    cpu = time.process_time() - cpu
    print(
        f"  strong rows, branch and bound {seconds:.0f} s: plan {s.objective:,.0f} "
        f"({100 * (plan - s.objective) / plan:.2f} % below the start's), bound {s.bound:,.0f}, "
        f"CPU {cpu:.1f} s, {s.status}",
        flush=True,
    )


if __name__ == "__main__":
    main()
