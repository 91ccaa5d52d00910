"""The national station layer under the service standard: pairs by settlement type and the reach
graph's components, before any solve.

Prepares ``models/china-2030-stations.toml`` (or ``--scenario``) with the per-settlement
standard (``reach.standard.settlement_column = "settlement"``: urban 3 km, suburban 10 km,
rural 25 km) or, with ``--off``, as it is (one 3 km reach), builds the problem and splits it into
the connected components of its reach graph (:func:`chargeplan.solver.split.split_components`,
what ``decompose.by = "components"`` solves). Prints the preparation's seconds, cells,
candidates and pairs (in all and by the cell's settlement type), the number of components with
their median and 99th percentile of pairs, the twelve largest (cells, candidates, pairs, cells by
type) and this process's peak resident memory (``ru_maxrss``). Run by hand from the repository
root (a few minutes and about 3 GiB for the national layer)::

    PYTHONPATH=src nice .venv/bin/python benchmarks/standard_components.py
    PYTHONPATH=src nice .venv/bin/python benchmarks/standard_components.py --off
    PYTHONPATH=src nice .venv/bin/python benchmarks/standard_components.py \
        --set fine_zones.rural_h3_resolution=4
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KINDS = ("urban", "suburban", "rural")


def main() -> int:
    import numpy as np

    from chargeplan.config.scenario import load_scenario
    from chargeplan.inputs.prepare import prepare
    from chargeplan.inputs.problem import build_problem
    from chargeplan.solver.split import split_components

    sys.path.insert(0, str(Path(__file__).parent))
    from station_growth import parse_sets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=REPO / "models/china-2030-stations.toml")
    parser.add_argument("--off", action="store_true", help="the scenario's own reach")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a change, as TOML"
    )
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    if args.set:
        scenario = scenario.with_values(
            parse_sets(args.set), where="benchmarks/standard_components.py"
        )
    if not args.off:
        standard = {"reach.standard": {"settlement_column": "settlement"}}
        scenario = scenario.with_values(standard, where="benchmarks/standard_components.py")
    start = time.perf_counter()
    inputs = prepare(scenario)
    prepared = time.perf_counter()
    problem = build_problem(scenario, inputs)
    regions = split_components(problem)
    split = time.perf_counter()
    kind = inputs.zones["settlement"].to_numpy()
    sizes = np.array([len(r.pairs) for r in regions])
    print(f"prepare {prepared - start:.0f} s, problem and split {split - prepared:.0f} s")
    print(
        f"cells {len(problem.zone_ids):,}, candidates {len(problem.site_ids):,}, "
        f"pairs {len(problem.pair_zone):,}"
    )
    for name in KINDS:
        cells, pairs = int((kind == name).sum()), int((kind[problem.pair_zone] == name).sum())
        print(f"  {name}: cells {cells:,}, pairs {pairs:,}")
    print(
        f"components {len(regions):,}, pairs median {np.median(sizes):,.0f}, "
        f"99th percentile {np.quantile(sizes, 0.99):,.0f}"
    )
    for region in regions[:12]:
        by_kind = {name: int((kind[region.zones] == name).sum()) for name in KINDS}
        print(f"  {len(region.zones):,} / {len(region.sites):,} / {len(region.pairs):,} {by_kind}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak resident memory {peak:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
