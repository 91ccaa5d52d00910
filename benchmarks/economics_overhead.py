"""What economics and competition cost: the plan with them against the plan without, one run.

Run from the repository root (2 cores: about 10 minutes with the slice, 4 without)::

    PYTHONPATH=src python benchmarks/economics_overhead.py
    PYTHONPATH=src python benchmarks/economics_overhead.py --skip-slice --repeat 2

Issue 15's target: the plan with economics within 1.5x the time of the plan without. Each
variant is a whole :func:`chargeplan.plan_network` (inputs, solve, results, economics), timed
wall-clock in this process; ratios are against ``without`` of the same scenario, measured in
the same run (the variants interleaved, best of ``--repeat``). The plans are the scenario's
own (its gap, threads and time limit), so a ratio also carries any change of the plan.

Default scenario (``models/china-2030.toml``):

- ``without``: ``[economics]`` removed;
- ``economics``: as shipped (tables read before the solve, NPV and payback per station after);
- ``support in capex``: ``economics.support_in_capex = true`` (construction support in the
  least-cost objective: the one economics setting the solve sees);
- ``competition``: ``models/china-2030-competition.toml`` (economics and the national
  third-party layer, ``docs/competition.md``).

Station slice (``models/china-2030-stations.toml`` with ``fine_zones.regions = [REGION]``):
``without``, ``economics`` and ``competition`` (the national layer spread over the slice's H3
cells by population, with the Shenzhen scenario's station-scale choice model: own station at
the 3 km reach, NIO's 4.7 DC and 7.5 AC piles, ``own_preference = 60``).
"""

from __future__ import annotations

import argparse
import gc
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import chargeplan
from chargeplan.workflows.economics import add_economics, read_economics

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
FIGURES = ["status", "gap", "sites_opened", "chargers", "capex_cny", "npv_cny", "own_network_share"]


def default_variants() -> dict[str, Callable[[], chargeplan.Scenario]]:
    """The default scenario's variants (module docstring), loaded when run."""
    default = MODELS / "china-2030.toml"
    return {
        "without": lambda: chargeplan.load_scenario(default).with_values({"economics": None}),
        "economics": lambda: chargeplan.load_scenario(default),
        "support in capex": lambda: chargeplan.load_scenario(default).with_values(
            {"economics.support_in_capex": True}
        ),
        "competition": lambda: chargeplan.load_scenario(MODELS / "china-2030-competition.toml"),
    }


def slice_variants(region: str) -> dict[str, Callable[[], chargeplan.Scenario]]:
    """The station slice's variants (module docstring)."""

    def stations() -> chargeplan.Scenario:
        return chargeplan.load_scenario(MODELS / "china-2030-stations.toml").with_values(
            {"fine_zones.regions": [region]}
        )

    competition = {
        "region_chargers": str(MODELS / "public-chargers-cn-2024.csv"),
        "region_chargers_column": "city_code",
        "own_piles": {"dc_fast": 4.7, "ac_destination": 7.5},
        "own_preference": 60.0,
    }
    return {
        "without": lambda: stations().with_values({"economics": None}),
        "economics": stations,
        "competition": lambda: stations().with_values({"competition": competition}),
    }


def time_plan(scenario: chargeplan.Scenario) -> tuple[float, chargeplan.Plan]:
    """Seconds of one whole plan, and the plan."""
    gc.collect()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = chargeplan.plan_network(scenario)
    return time.perf_counter() - start, plan


def economics_seconds(scenario: chargeplan.Scenario, plan: chargeplan.Plan) -> float:
    """Best of 3: the economics stages alone on a finished plan (the tables read and checked,
    NPV and payback per station added); the solve does not change with them."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        add_economics(plan, scenario, read_economics(scenario, plan.sites))
        best = min(best, time.perf_counter() - start)
    return best


def run(
    title: str,
    variants: dict[str, Callable[[], chargeplan.Scenario]],
    repeat: int,
    warmup: bool,
) -> None:
    """Time every variant ``repeat`` times, interleaved, after an untimed plan of the first
    (imports, file caches), and print the table."""
    best: dict[str, float] = {}
    summaries: dict[str, dict[str, object]] = {}
    stages: dict[str, float] = {}
    scenarios = {name: make() for name, make in variants.items()}
    if warmup:
        time_plan(next(iter(scenarios.values())))
    for _ in range(repeat):
        for name, scenario in scenarios.items():
            seconds, plan = time_plan(scenario)
            summaries[name] = plan.summary
            best[name] = min(seconds, best.get(name, float("inf")))
            if scenario.economics is not None:
                stages[name] = min(economics_seconds(scenario, plan), stages.get(name, 1e9))
    print(f"\n{title} (best of {repeat})")
    print(f"{'variant':18s} {'seconds':>8s} {'ratio':>6s} {'econ s':>7s}  " + "  ".join(FIGURES))
    for name, seconds in best.items():
        s = summaries[name]
        cells = [
            str(s.get("status")),
            f"{float(s.get('gap', 0.0)):.4f}",
            str(s.get("sites_opened")),
            f"{s.get('chargers'):,}",
            f"{float(s.get('capex_cny', 0.0)) / 1e9:.3f} bn",
            f"{float(s['npv_cny']) / 1e9:.2f} bn" if "npv_cny" in s else "-",
            f"{float(s['own_network_share']):.4f}" if "own_network_share" in s else "-",
        ]
        ratio = seconds / best["without"]
        econ = f"{stages[name]:7.2f}" if name in stages else f"{'-':>7s}"
        print(f"{name:18s} {seconds:8.1f} {ratio:6.2f} {econ}  " + "  ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--region", default="珠海市", help="the station slice's prefecture")
    parser.add_argument("--skip-slice", action="store_true")
    parser.add_argument("--skip-default", action="store_true")
    parser.add_argument("--no-warmup", action="store_true", help="time the first plan too")
    args = parser.parse_args()
    warmup = not args.no_warmup
    if not args.skip_default:
        run("default scenario (china-2030.toml)", default_variants(), args.repeat, warmup)
    if not args.skip_slice:
        run(
            f"station slice (china-2030-stations.toml, {args.region})",
            slice_variants(args.region),
            args.repeat,
            warmup,
        )


if __name__ == "__main__":
    main()
