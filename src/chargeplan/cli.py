"""Command line: ``chargeplan run SCENARIO --out DIR``, ``chargeplan batch SCENARIO... --out DIR``,
``chargeplan curve SCENARIO`` and ``chargeplan validate SCENARIO``.

Progress goes to stderr (``--quiet`` silences it); results go to files. Errors a user can fix
print one line ``chargeplan: error: ...`` and exit with a non-zero code (:data:`EXIT_CODES`):
2 usage or input, 3 scenario file, 4 zones/sites/cost table, 5 solver (including a model too
large for memory), 6 output folder (checked before anything is solved), 7 a plan that serves
nothing (not written unless ``--allow-empty-plan``), 128 + N a batch job killed by signal N
(134: a crash of native code, SIGABRT), 130 interrupted
(Ctrl-C), 143 terminated (SIGTERM). An interrupted or terminated run removes its staging folder
and leaves its output folder as it was.

The flags that change a scenario key (``--target``, ``--time-limit``, ...) are listed once, in
:data:`SCENARIO_FLAGS`, with the commands that take them; ``validate`` takes the same flags as
``run``, so that it checks the plan ``run`` would make.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from chargeplan import progress
from chargeplan._version import __version__
from chargeplan.cli_flags import _SOLVING, SCENARIO_FLAGS, add_quiet, add_scenario_flags
from chargeplan.cli_inspect import add_compare, add_report, compare_command, report_command
from chargeplan.errors import ChargeplanError

if TYPE_CHECKING:
    from chargeplan.config.scenario import Scenario
    from chargeplan.inputs.prepare import Inputs
    from chargeplan.model.limits import ModelSize
    from chargeplan.model.problem import FacilityProblem

log = logging.getLogger("chargeplan")

#: Exit codes, as ``chargeplan --help`` lists them (the module docstring says more).
EXIT_CODES = (
    "exit codes: 0 success; 2 usage or input; 3 scenario or charger-catalogue file; 4 zones, "
    "sites or cost-table data; 5 solver; 6 output folder (not writable, disk full, in use by "
    "another run, holding the run's inputs or files that are not a chargeplan run); 7 a plan "
    "that serves nothing (not written; --allow-empty-plan writes it); 128+N a batch job killed "
    "by signal N (134: native code crashed); 130 interrupted; 143 terminated; 1 a bug in "
    "chargeplan (a traceback: please report it)"
)

_EMPTY_HELP = (
    "write a plan that serves none of its demand (by default it is an error, exit 7, and "
    "the output folder is left as it was)"
)

_FORCE_HELP = (
    "write into a non-empty folder that is not a chargeplan run, keeping its other files "
    "(files named like outputs are replaced); run: also replace the run of another scenario "
    "file"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chargeplan",
        description="Plan an EV charging network: sites, chargers, cost and coverage gaps.",
        epilog=EXIT_CODES,
    )
    parser.add_argument("--version", action="version", version=f"chargeplan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub)
    _add_curve(sub)
    _add_batch(sub)
    _add_validate(sub)
    add_compare(sub)
    add_report(sub)
    return parser


def _add_quiet(parser: argparse.ArgumentParser) -> None:
    add_quiet(parser)
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="show the solver's log and every step on stderr (it is always in solver.log)",
    )


def _add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a scenario key, e.g. --set users.target_premium_users=20M (amounts "
        "such as 20M and 4bn are read as numbers); repeat for several keys",
    )


def _add_run(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="plan the network a scenario asks for and write the outputs")
    run.add_argument("scenario", type=Path, help="scenario TOML file, e.g. models/china-2030.toml")
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: runs/<scenario name>, made a safe folder name)",
    )
    run.add_argument("--force", action="store_true", help=_FORCE_HELP)
    run.add_argument("--allow-empty-plan", action="store_true", help=_EMPTY_HELP)
    add_scenario_flags(run, "run")
    _add_set(run)
    run.add_argument("--no-map", action="store_true", help="skip the PNG map")
    run.add_argument(
        "--no-report", action="store_true", help="skip report.html and the interactive map.html"
    )
    _add_quiet(run)


def _add_curve(sub: argparse._SubParsersAction) -> None:
    curve = sub.add_parser(
        "curve",
        help="plan a list of targets, budgets or service standards: chargers, cost, NPV and "
        "coverage of each step",
    )
    curve.add_argument("scenario", type=Path, help="scenario TOML file")
    what = curve.add_mutually_exclusive_group()
    what.add_argument(
        "--targets",
        help="premium-user targets, e.g. 2M,5M,10M,15M,20M (default: 10, 25, 50, 75 and "
        "100 %% of the scenario's target)",
    )
    what.add_argument("--budgets", help="capex budgets in CNY, e.g. 2bn,4bn,6bn (max coverage)")
    what.add_argument(
        "--service-standards",
        metavar="KM",
        help="service standards as the urban reach, e.g. 2,3,5 (km; minutes for a travel-time "
        "standard): suburban and rural reach scale with it; without [reach.standard] each "
        "value is every zone's reach (docs/economics.md)",
    )
    curve.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default: runs/<name>-curve; a rerun resumes the points already planned",
    )
    curve.add_argument("--force", action="store_true", help=_FORCE_HELP)
    add_scenario_flags(curve, "curve")
    _add_quiet(curve)


def _add_batch(sub: argparse._SubParsersAction) -> None:
    batch = sub.add_parser(
        "batch",
        help="run several scenarios or variants into sub-folders of one folder; a rerun "
        "resumes, skipping the runs already complete",
    )
    batch.add_argument("scenarios", type=Path, nargs="+", help="scenario TOML files")
    batch.add_argument("--out", type=Path, required=True, help="batch folder")
    batch.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE[,VALUE...]",
        help="change a scenario key, e.g. users.target_premium_users=1e7,2e7; several values "
        "make one variant each, several --set the grid of all combinations",
    )
    add_scenario_flags(batch, "batch")
    batch.add_argument("--no-map", action="store_true", help="skip the PNG maps")
    batch.add_argument("--no-report", action="store_true", help="skip the HTML reports")
    batch.add_argument(
        "--no-resume", action="store_true", help="rerun every job, even those complete"
    )
    batch.add_argument(
        "--force", action="store_true", help="use a batch folder that holds other files"
    )
    batch.add_argument("--allow-empty-plan", action="store_true", help=_EMPTY_HELP)
    _add_quiet(batch)


def _add_validate(sub: argparse._SubParsersAction) -> None:
    validate = sub.add_parser("validate", help="check a scenario and its input files, no solve")
    validate.add_argument("scenario", type=Path, help="scenario TOML file")
    add_scenario_flags(validate, "validate")
    _add_set(validate)
    _add_quiet(validate)


def _changes(args: argparse.Namespace) -> dict[str, object]:
    """The scenario keys the command line sets (:data:`SCENARIO_FLAGS`, and ``--set`` for the
    commands that take one value per key) and their values."""
    given = vars(args)
    changes = {f.key: given[f.key] for f in SCENARIO_FLAGS if given.get(f.key) is not None}
    if args.command in _SOLVING and args.sets:
        from chargeplan.cli_variants import variants

        grid = variants(args.sets)
        if len(grid) > 1:
            raise ChargeplanError(
                f"{args.command} --set takes one value per key; several values make several "
                "plans: use 'chargeplan batch' (same --set syntax)"
            )
        changes |= grid[0][1]
    return changes


def _scenario(args: argparse.Namespace) -> Scenario:
    """The scenario ``args.scenario`` with the command line's changes."""
    from chargeplan.config.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    changes = _changes(args)
    if changes:
        scenario = scenario.with_values(changes, where="set on the command line")
    pieces = {"decompose.workers", "decompose.scheduler"} & changes.keys()
    if scenario.decompose.by == "none" and pieces:
        raise ChargeplanError(
            f"--workers and --scheduler solve the pieces of a decomposed plan, but scenario "
            f"{scenario.name} is solved whole (decompose.by = 'none'): add --decompose "
            "components (exact) or --decompose region, or set decompose.by in the scenario"
        )
    return scenario


def _run(args: argparse.Namespace) -> int:
    from chargeplan.outputs.folder import safe_folder_name
    from chargeplan.outputs.runs import check_same_scenario
    from chargeplan.workflows.batch import run_scenario
    from chargeplan.workflows.options import solver_options

    start = time.perf_counter()
    scenario = _scenario(args)
    log.info("scenario %s (%s)", scenario.name, scenario.source)
    out = args.out if args.out is not None else Path("runs") / safe_folder_name(scenario.name)
    check_same_scenario(out, scenario, force=args.force)
    plan, manifest = run_scenario(
        scenario,
        out,
        solver=solver_options(scenario, log_to_stderr=args.verbose),
        map_png=not args.no_map,
        report=not args.no_report,
        command=["chargeplan", *(args.argv or [])],
        force=args.force,
        allow_empty=args.allow_empty_plan,
    )
    progress.finish()
    written = [*manifest["outputs"], "manifest.json"]
    from chargeplan.results.display import closing_words

    words = closing_words(plan.summary, "design" in plan.sites.columns)
    print(
        f"{scenario.name}: {words}; {len(written)} files in {out} "
        f"({time.perf_counter() - start:.1f} s)"
    )
    print(f"Report: {out / 'report.html'}" if "report.html" in written else f"Folder: {out}")
    return 0


def _curve(args: argparse.Namespace) -> int:
    from chargeplan.outputs.folder import safe_folder_name
    from chargeplan.workflows.curve import parse_amounts, run_curve
    from chargeplan.workflows.options import solver_options
    from chargeplan.workflows.standards import parse_standards

    start = time.perf_counter()
    scenario = _scenario(args)
    budgets = targets = standards = None
    if args.budgets:
        budgets = parse_amounts(args.budgets)
    elif args.service_standards:
        standards = parse_standards(args.service_standards)
    else:
        target = scenario.users.target_premium_users
        targets = (
            parse_amounts(args.targets)
            if args.targets
            else [target * share for share in (0.1, 0.25, 0.5, 0.75, 1.0)]
        )
    out = (
        args.out
        if args.out is not None
        else Path("runs") / safe_folder_name(f"{scenario.name}-curve")
    )
    result = run_curve(
        scenario,
        out,
        targets=targets,
        budgets=budgets,
        standards=standards,
        solver=solver_options(scenario, log_to_stderr=args.verbose),
        force=args.force,
        command=["chargeplan", *(args.argv or [])],
    )
    progress.finish()
    note = " (complete from an earlier run)" if result.resumed else ""
    print(
        f"{scenario.name}: {len(result.curve)} plans{note}; {', '.join(result.files)} "
        f"in {out} ({time.perf_counter() - start:.1f} s)"
    )
    return 0


def _batch(args: argparse.Namespace) -> int:
    from chargeplan.cli_variants import variants as set_variants
    from chargeplan.config.scenario import load_scenario
    from chargeplan.outputs.folder import safe_folder_name
    from chargeplan.workflows.batch import Job, run_batch

    start = time.perf_counter()
    flags = _changes(args)
    variants = set_variants(args.sets)
    jobs = []
    for path in args.scenarios:
        base = load_scenario(path)
        for suffix, changes in variants:
            scenario = (
                base.with_values({**flags, **changes}, where="set on the command line")
                if flags or changes
                else base
            )
            jobs.append(Job(safe_folder_name(base.name + suffix), scenario))
    table = run_batch(
        jobs,
        args.out,
        resume=not args.no_resume,
        quiet=args.quiet,
        map_png=not args.no_map,
        report=not args.no_report,
        force=args.force,
        allow_empty=args.allow_empty_plan,
    )
    progress.finish()
    for row in table.itertuples(index=False):
        detail = (
            f"{row.plan_status}, gap {100 * row.gap:.3f} %"
            if row.status in ("done", "skipped")
            else row.error
        )
        print(f"{row.name}: {row.status}: {detail}")
    failed = table[table["status"] == "failed"]
    print(
        f"batch: {int((table['status'] == 'done').sum())} done, "
        f"{int((table['status'] == 'skipped').sum())} skipped (complete), {len(failed)} failed; "
        f"{args.out / 'batch.csv'} ({time.perf_counter() - start:.1f} s)"
    )
    if len(failed):
        first = failed.iloc[0]
        raise _BatchFailed(
            f"{len(failed)} of {len(table)} batch jobs failed; first {first['name']}: "
            f"{first['error']}",
            int(first["exit_code"]),
        )
    return 0


class _BatchFailed(ChargeplanError):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _validate(args: argparse.Namespace) -> int:
    from chargeplan.inputs.prepare import prepare
    from chargeplan.inputs.problem import build_problem
    from chargeplan.model.feasibility import check_feasibility
    from chargeplan.model.limits import check_model_size
    from chargeplan.workflows.economics import read_economics

    scenario = _scenario(args)
    inputs = prepare(scenario)
    read_economics(scenario, inputs.sites)  # the [economics] tables, checked
    problem = build_problem(scenario, inputs)
    check_feasibility(problem)
    pieces = ""
    if scenario.decompose.by == "none":
        size = check_model_size(problem)
    else:  # run checks each piece when it solves it, never the whole model (issue 12)
        count, size = _check_pieces(scenario, problem, inputs)
        pieces = f" (decompose.by = '{scenario.decompose.by}': {count:,} pieces, the largest)"
    progress.finish()
    print(
        f"{args.scenario}: valid; {len(problem.zone_ids)} zones, {len(problem.site_ids)} sites, "
        f"{len(problem.pair_zone)} pairs, charger types {list(problem.types)}; model{pieces} "
        f"about {size.variables:,} variables, {size.rows:,} rows, {size.bytes / 1e6:,.0f} MB"
    )
    return 0


def _check_pieces(
    scenario: Scenario, problem: FacilityProblem, inputs: Inputs
) -> tuple[int, ModelSize]:
    """The memory check of a decomposed run, on each of its pieces: their count, the largest."""
    from chargeplan.inputs.reach import demand_centres
    from chargeplan.workflows.regions import check_region_sizes

    zc = scenario.zones
    centres = demand_centres(
        inputs.zones, lon_column=zc.centre_lon_column, lat_column=zc.centre_lat_column
    )
    return check_region_sizes(scenario, problem, inputs.zones, inputs.sites, centres=centres)


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that cleanup (``finally`` blocks) runs."""


def _on_sigterm(signum: int, _frame: object) -> None:
    raise _Terminated(signum)


#: Loggers whose progress messages show without ``-v`` (a curve's points, a batch's jobs).
_PROGRESS_LOGGERS = ("chargeplan.workflows.curve", "chargeplan.workflows.batch")


def _setup_output(quiet: bool, verbose: bool) -> None:
    """Logging and warnings on stderr (:class:`chargeplan.progress.LogHandler`): warnings, each
    data warning once as ``warning: ...``, and a curve's or batch's progress; with ``verbose``
    every step with its time. Matplotlib draws off-screen (Agg) and keeps its font-cache
    message to itself."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    handler = progress.LogHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(message)s" if verbose else "%(message)s", "%H:%M:%S")
    )
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])
    for noisy in ("pyogrio", "distributed", "matplotlib", "fontTools", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # Dask's chatter, font caches
    if not quiet:
        for name in _PROGRESS_LOGGERS:
            logging.getLogger(name).setLevel(logging.INFO)
        warnings.formatwarning = lambda msg, cat, *_a, **_k: f"warning: {msg}"
        logging.captureWarnings(True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chargeplan`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    quiet, verbose = getattr(args, "quiet", False), getattr(args, "verbose", False)
    _setup_output(quiet, verbose)
    commands = {
        "run": _run,
        "batch": _batch,
        "curve": _curve,
        "validate": _validate,
        "compare": compare_command,
        "report": report_command,
    }
    # the solver's log (-v) writes to stderr itself: plain progress lines then, not a live line
    mode: progress.Mode = "off" if quiet or args.command == "compare" else "auto"
    if verbose and mode == "auto":
        mode = "plain"
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        with warnings.catch_warnings(), progress.show(mode):
            warnings.simplefilter("ignore" if quiet else "once")
            return commands[args.command](args)
    except ChargeplanError as error:
        print(f"chargeplan: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("chargeplan: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print("chargeplan: terminated", file=sys.stderr)
        return 143
    finally:
        logging.captureWarnings(False)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
