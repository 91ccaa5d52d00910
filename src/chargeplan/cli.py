"""Command line: ``chargeplan run SCENARIO --out DIR``, ``chargeplan curve SCENARIO`` and
``chargeplan validate SCENARIO``.

Progress goes to stderr (``--quiet`` silences it); results go to files. Errors a user can fix
print one line ``chargeplan: error: ...`` and exit with a non-zero code:
2 usage or input, 3 scenario file, 4 zones/sites/cost table, 5 solver, 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from chargeplan import __version__
from chargeplan.errors import ChargeplanError

log = logging.getLogger("chargeplan")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chargeplan",
        description="Plan an EV charging network: sites, chargers, cost and coverage gaps.",
    )
    parser.add_argument("--version", action="version", version=f"chargeplan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="plan the network a scenario asks for and write the outputs")
    run.add_argument("scenario", type=Path, help="scenario TOML file, e.g. models/china-2030.toml")
    run.add_argument(
        "--out", type=Path, default=None, help="output folder (default: runs/<scenario name>)"
    )
    run.add_argument("--target", type=int, default=None, help="premium-user target (overrides)")
    run.add_argument("--budget", type=float, default=None, help="capex budget in CNY (overrides)")
    run.add_argument("--objective", choices=["min_cost", "max_coverage"], default=None)
    run.add_argument("--time-limit", type=float, default=None, help="solver time limit, s")
    run.add_argument("--gap", type=float, default=None, help="relative MIP gap, e.g. 0.001")
    run.add_argument("--threads", type=int, default=None, help="solver threads")
    run.add_argument("--no-map", action="store_true", help="skip the PNG map")
    run.add_argument(
        "--no-report", action="store_true", help="skip report.html and the interactive map.html"
    )
    run.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")

    curve = sub.add_parser(
        "curve",
        help="plan a list of targets (or budgets): chargers, cost and coverage of each step",
    )
    curve.add_argument("scenario", type=Path, help="scenario TOML file")
    what = curve.add_mutually_exclusive_group()
    what.add_argument(
        "--targets",
        help="premium-user targets, e.g. 2M,5M,10M,15M,20M (default: 10, 25, 50, 75 and "
        "100 %% of the scenario's target)",
    )
    what.add_argument("--budgets", help="capex budgets in CNY, e.g. 2bn,4bn,6bn (max coverage)")
    curve.add_argument("--out", type=Path, default=None, help="default: runs/<name>-curve")
    curve.add_argument("--time-limit", type=float, default=None, help="solver time limit, s")
    curve.add_argument("--gap", type=float, default=None, help="relative MIP gap, e.g. 0.001")
    curve.add_argument("--threads", type=int, default=None, help="solver threads")
    curve.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")

    validate = sub.add_parser("validate", help="check a scenario and its input files, no solve")
    validate.add_argument("scenario", type=Path)
    validate.add_argument("--quiet", "-q", action="store_true")
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    changes: dict[str, object] = {}
    if args.target is not None:
        changes["users.target_premium_users"] = args.target
    if args.budget is not None:
        changes["model.budget_cny"] = args.budget
    if args.objective is not None:
        changes["model.objective"] = args.objective
    if args.time_limit is not None:
        changes["solver.time_limit_s"] = args.time_limit
    if args.gap is not None:
        changes["solver.mip_rel_gap"] = args.gap
    if args.threads is not None:
        changes["solver.threads"] = args.threads
    return changes


def _run(args: argparse.Namespace) -> int:
    from chargeplan.pipeline import plan_network, prepare
    from chargeplan.report import write_plan
    from chargeplan.scenario import load_scenario
    from chargeplan.solve import SolverOptions

    start = time.perf_counter()
    scenario = load_scenario(args.scenario)
    changes = _overrides(args)
    if changes:
        scenario = scenario.with_values(changes)
    log.info("scenario %s (%s)", scenario.name, scenario.source)
    inputs = prepare(scenario)
    options = SolverOptions(
        time_limit_s=scenario.solver.time_limit_s,
        mip_rel_gap=scenario.solver.mip_rel_gap,
        threads=scenario.solver.threads,
        log_to_stderr=not args.quiet,
    )
    plan = plan_network(scenario, inputs=inputs, solver=options)
    out = args.out or Path("runs") / scenario.name
    written = write_plan(
        plan, out, map_png=not args.no_map, report=not args.no_report, scenario=scenario
    )
    s = plan.summary
    gap_note = "" if s["status"] == "optimal" else f" (stopped: {s['status']})"
    print(
        f"{scenario.name}: {s['status']}{gap_note}, gap {100 * s['gap']:.3f} %; "
        f"{s['sites_opened']} sites, {s['chargers']:,} chargers; capex CNY "
        f"{s['capex_cny'] / 1e9:,.2f} bn; {100 * s['coverage']:.1f} % of peak demand served; "
        f"{s['zones_with_gaps']} zones with gaps; {len(written)} files in {out} "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return 0


def _curve(args: argparse.Namespace) -> int:
    from chargeplan.curve import budget_curve, parse_amounts, target_curve, write_curve
    from chargeplan.scenario import load_scenario

    start = time.perf_counter()
    scenario = load_scenario(args.scenario)
    changes = {
        key: value
        for key, value in (
            ("solver.time_limit_s", args.time_limit),
            ("solver.mip_rel_gap", args.gap),
            ("solver.threads", args.threads),
        )
        if value is not None
    }
    if changes:
        scenario = scenario.with_values(changes)
    if args.budgets:
        curve = budget_curve(scenario, parse_amounts(args.budgets))
    else:
        target = scenario.users.target_premium_users
        targets = (
            parse_amounts(args.targets)
            if args.targets
            else [target * share for share in (0.1, 0.25, 0.5, 0.75, 1.0)]
        )
        curve = target_curve(scenario, targets)
    out = args.out or Path("runs") / f"{scenario.name}-curve"
    written = write_curve(curve, out)
    print(
        f"{scenario.name}: {len(curve)} plans; {', '.join(written)} in {out} "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return 0


def _validate(args: argparse.Namespace) -> int:
    from chargeplan.pipeline import build_problem, prepare
    from chargeplan.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    inputs = prepare(scenario)
    problem = build_problem(scenario, inputs)
    print(
        f"{args.scenario}: valid; {len(problem.zone_ids)} zones, {len(problem.site_ids)} sites, "
        f"{len(problem.pair_zone)} pairs, charger types {list(problem.types)}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chargeplan`` command."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    if args.quiet:
        warnings.simplefilter("ignore")
    else:
        warnings.formatwarning = lambda msg, cat, *_a, **_k: f"warning: {msg}\n"
    try:
        return {"run": _run, "curve": _curve, "validate": _validate}[args.command](args)
    except ChargeplanError as error:
        print(f"chargeplan: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("chargeplan: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
