"""Run many scenarios or scenario variants into sub-folders of one folder, and resume.

:func:`run_scenario` is one complete run: prepare, plan, write the outputs and the manifest
into a staging folder that becomes the run folder only when everything is written
(:func:`chargeplan.outputs.files.atomic_dir`). ``chargeplan run`` uses it.

:func:`run_batch` runs :class:`Job` s (a name and a scenario) into ``out_dir/<name>/``::

    from chargeplan.workflows.batch import Job, run_batch
    base = chargeplan.load_scenario("models/china-2030.toml")
    jobs = [Job(f"target-{t}", base.with_values({"users.target_premium_users": t}))
            for t in (10_000_000, 20_000_000, 30_000_000)]
    table = run_batch(jobs, "runs/targets")

Resume: a job whose folder holds a complete manifest (every listed file present and
hash-equal, :func:`chargeplan.outputs.manifest.verify`) with the same ``inputs_sha256`` (same input
files, scenario, solver and output options) is skipped; any other job runs, replacing what its
folder held. So a batch killed at any point is restarted with the same command and goes on where
it stopped. The results table is also written to ``out_dir/batch.csv`` after every job.

Executors: ``executor`` is any ``map``-like callable ``executor(function, tasks) -> results``
(results in task order; an iterator is consumed as results arrive). The default runs one job
after the other, each in a child process (:func:`run_task_isolated`): a crash of native code
(HiGHS aborting with SIGABRT, a segmentation fault) or a job killed from outside is recorded as
that job's failure (``error`` names the signal, ``exit_code`` is 128 + its number) and the batch
goes on. A parallel executor (processes, a Dask
cluster: ``lambda f, xs: client.gather(client.map(f, xs))``) receives the module-level
function :func:`run_task` and picklable :class:`Task` s; each task writes only into its own
folder, and only this process writes ``batch.csv``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from chargeplan import progress
from chargeplan.config.scenario import Scenario
from chargeplan.errors import ChargeplanError, OutputError
from chargeplan.inputs.prepare import prepare
from chargeplan.outputs.files import atomic_dir, os_error_line, remove_stale_staging, write_csv
from chargeplan.outputs.folder import check_output_folder, lock_folder, output_folder
from chargeplan.outputs.manifest import (
    build_manifest,
    input_files,
    inputs_digest,
    is_complete,
    read_manifest,
    verify,
    write_manifest,
)
from chargeplan.outputs.write import write_plan
from chargeplan.results.plan import Plan
from chargeplan.solver.options import SolverOptions
from chargeplan.workflows.batch_progress import with_stage_lines
from chargeplan.workflows.isolate import ChildDied, call_in_child
from chargeplan.workflows.network import plan_network
from chargeplan.workflows.options import SOLVER_LOG, logged, publish_log, solver_options
from chargeplan.workflows.useful import check_useful_plan

log = logging.getLogger(__name__)

__all__ = [
    "RESULT_COLUMNS",
    "Executor",
    "Job",
    "Task",
    "run_batch",
    "run_scenario",
    "run_task",
    "run_task_isolated",
    "solver_options",
]

#: A ``map``-like callable: ``executor(function, tasks)`` -> results in task order.
Executor = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]

#: Columns of :func:`run_batch`'s table and of ``batch.csv``.
RESULT_COLUMNS = (
    "name",
    "status",
    "folder",
    "plan_status",
    "gap",
    "objective_value",
    "seconds",
    "exit_code",
    "error",
    "inputs_sha256",
)

_NAME = re.compile(r"^[\w=+,@%-][\w.=+,@%-]*$")


@dataclass(frozen=True)
class Job:
    """One run of a batch: its name (the sub-folder it writes) and its scenario."""

    name: str
    scenario: Scenario


@dataclass(frozen=True)
class Task:
    """A job as shipped to an executor: everything :func:`run_task` needs, picklable."""

    name: str
    scenario: Scenario
    folder: Path
    map_png: bool
    report: bool
    inputs_sha256: str
    allow_empty: bool = False


def _output_options(map_png: bool, report: bool) -> dict[str, bool]:
    return {"map_png": map_png, "report": report}


def run_scenario(
    scenario: Scenario,
    out_dir: str | Path,
    *,
    solver: SolverOptions | None = None,
    map_png: bool = True,
    report: bool = True,
    command: list[str] | None = None,
    force: bool = False,
    allow_empty: bool = False,
) -> tuple[Plan, dict[str, Any]]:
    """Plan a scenario and write its outputs and manifest into ``out_dir``, all or nothing.

    The folder is checked, probed and locked before anything is solved
    (:func:`chargeplan.outputs.folder.output_folder`): one holding the scenario's inputs, a
    non-empty folder that is no chargeplan run (unless ``force``), one that cannot be written
    or one in use by another run is refused at once with an
    :class:`~chargeplan.errors.OutputError`.

    Parameters
    ----------
    scenario
        A validated scenario.
    out_dir
        The run folder. It receives the outputs only once all are written (with
        ``manifest.json`` last); a run killed earlier leaves it as it was.
    solver
        Solver options (default: the scenario's, :func:`solver_options`).
    map_png, report
        Write ``map.png``; write ``map.html`` and ``report.html``.
    command
        The command line, recorded in the manifest.
    force
        Write into a non-empty folder that is no chargeplan run, keeping its other files.
    allow_empty
        Write a plan that serves none of its demand; by default it is an
        :class:`~chargeplan.errors.EmptyPlanError` and nothing is written
        (:mod:`chargeplan.workflows.useful`).

    Returns
    -------
    tuple[chargeplan.results.plan.Plan, dict]
        The plan and its manifest.
    """
    solver = solver if solver is not None else solver_options(scenario)
    with output_folder(out_dir, inputs=input_files(scenario).values(), force=force) as final:
        options = _output_options(map_png, report)
        return _plan_and_publish(
            scenario,
            final,
            solver=solver,
            options=options,
            command=command,
            force=force,
            allow_empty=allow_empty,
        )


def _plan_and_publish(
    scenario: Scenario,
    final: Path,
    *,
    solver: SolverOptions,
    options: dict[str, bool],
    command: list[str] | None,
    force: bool,
    allow_empty: bool,
) -> tuple[Plan, dict[str, Any]]:
    """:func:`run_scenario` once its folder is checked and locked."""
    start = time.perf_counter()
    with logged(solver) as (logged_solver, log_file):
        inputs = prepare(scenario)
        prepared = time.perf_counter()
        plan = plan_network(scenario, inputs=inputs, solver=logged_solver)
        planned = time.perf_counter()
        if not allow_empty:
            check_useful_plan(plan.summary, scenario)
        progress.step("write outputs")
        with atomic_dir(final, force=force) as stage:
            written = write_plan(plan, stage, **options, scenario=scenario)
            written[SOLVER_LOG] = publish_log(log_file, stage)
            timings: dict[str, Any] = {
                "prepare_s": prepared - start,
                "build_s": plan.summary.get("build_seconds"),
                "solve_s": plan.summary.get("solve_seconds"),
                "plan_s": planned - prepared,
                "write_s": time.perf_counter() - planned,
            }
            timings["total_s"] = time.perf_counter() - start
            manifest = build_manifest(
                scenario,
                stage,
                written,
                summary=plan.summary,
                solver=solver,
                options=options,
                timings=timings,
                command=command,
            )
            write_manifest(manifest, stage)
    return plan, manifest


def run_task(task: Task) -> dict[str, Any]:
    """Run one task; return its row of the results table (errors become a ``failed`` row)."""
    start = time.perf_counter()
    row: dict[str, Any] = {"name": task.name, "folder": str(task.folder)}
    try:
        plan, manifest = run_scenario(
            task.scenario,
            task.folder,
            map_png=task.map_png,
            report=task.report,
            command=None,
            allow_empty=task.allow_empty,
        )
    except ChargeplanError as error:
        row.update(status="failed", exit_code=error.exit_code, error=str(error))
    except Exception as error:  # a bug in one job must not lose the others
        log.exception("batch: %s failed with an unexpected error", task.name)
        row.update(status="failed", exit_code=1, error=_one_line(error))
    else:
        row.update(
            status="done",
            plan_status=plan.summary.get("status"),
            gap=plan.summary.get("gap"),
            objective_value=plan.summary.get("objective_value"),
            exit_code=0,
            inputs_sha256=manifest["inputs_sha256"],
        )
    row["seconds"] = time.perf_counter() - start
    return row


def run_task_isolated(task: Task, shown: bool = False) -> dict[str, Any]:
    """:func:`run_task` in a child process (:func:`~.isolate.call_in_child`; ``shown``: its stage
    lines on stderr, :mod:`~.batch_progress`): a child that dies becomes a ``failed`` row."""
    start = time.perf_counter()
    try:
        return call_in_child(with_stage_lines, (run_task, task, shown))
    except ChildDied as death:
        return {
            "name": task.name,
            "folder": str(task.folder),
            "status": "failed",
            "exit_code": death.exit_code,
            "error": f"{task.name}: {death}; its folder is left as it was",
            "seconds": time.perf_counter() - start,
        }


def _one_line(error: Exception, limit: int = 300) -> str:
    """An unexpected error as one short line (its first line, cut at ``limit`` characters)."""
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0] if lines else ''}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_names(jobs: Sequence[Job]) -> None:
    seen: set[str] = set()
    for job in jobs:
        if not _NAME.match(job.name) or job.name in {".", ".."}:
            raise ChargeplanError(
                f"batch job name {job.name!r} cannot be a folder name: use letters, digits and "
                "._=+,@%- only, not starting with a dot (chargeplan.outputs.folder."
                "safe_folder_name makes one)"
            )
        if job.name in seen:
            raise ChargeplanError(
                f"two batch jobs are named {job.name!r} and would write the same folder: "
                "give them different names (e.g. different scenario names)"
            )
        seen.add(job.name)


def _skipped_row(task: Task, manifest: dict[str, Any]) -> dict[str, Any]:
    result = manifest.get("result", {})
    return {
        "name": task.name,
        "status": "skipped",
        "folder": str(task.folder),
        "plan_status": result.get("status"),
        "gap": result.get("gap"),
        "objective_value": result.get("objective_value"),
        "seconds": 0.0,
        "exit_code": 0,
        "inputs_sha256": task.inputs_sha256,
    }


def _write_table(
    rows: list[dict[str, Any]], out_dir: Path, earlier: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Write ``batch.csv``: this batch's rows, then the ``earlier`` batches' still complete."""
    table = pd.DataFrame(rows).reindex(columns=list(RESULT_COLUMNS))
    whole = table if earlier is None or earlier.empty else pd.concat([table, earlier])
    try:
        write_csv(whole, out_dir / "batch.csv", index=False)
    except OSError as error:
        raise OutputError(os_error_line(error, out_dir)) from None
    return table


def _earlier_rows(out_dir: Path, names: set[str]) -> pd.DataFrame | None:
    """Rows of an earlier ``batch.csv`` for runs this batch does not name whose folder still
    holds a complete run, so that ``batch.csv`` lists every run in the folder."""
    try:
        earlier = pd.read_csv(out_dir / "batch.csv").reindex(columns=list(RESULT_COLUMNS))
    except (OSError, ValueError):
        return None
    keep = [
        str(row.name) not in names
        and isinstance(row.folder, str)
        and Path(row.folder).parent == out_dir
        and is_complete(row.folder)
        for row in earlier.itertuples(index=False)
    ]
    return earlier[keep]


def _batch_folder(out_dir: Path, jobs: Sequence[Job], force: bool) -> Path:
    """Check the batch folder like a run folder (:func:`check_output_folder`); it may hold a
    previous batch (``batch.csv`` and run folders) but nothing else unless ``force``."""
    inputs = [path for job in jobs for path in input_files(job.scenario).values()]
    final = check_output_folder(out_dir, inputs=inputs, force=True)
    if final.is_dir() and not force and not (final / "batch.csv").is_file():
        entries = sorted(entry.name for entry in final.iterdir())
        if entries:
            shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
            raise OutputError(
                f"batch folder {out_dir} holds files that are not a chargeplan batch ({shown}; "
                "no batch.csv): choose a new or empty folder, or pass --force to add the runs "
                "beside them"
            )
    return final


def run_batch(
    jobs: Iterable[Job | tuple[str, Scenario]],
    out_dir: str | Path,
    *,
    executor: Executor | None = None,
    resume: bool = True,
    quiet: bool = False,
    map_png: bool = True,
    report: bool = True,
    force: bool = False,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Run every job into ``out_dir/<name>/``, skipping those already complete.

    The batch folder is checked (as :func:`run_scenario` checks a run folder; it may hold a
    previous batch) and locked for the whole batch: a second batch into it stops at once with
    an :class:`~chargeplan.errors.OutputError`.

    Parameters
    ----------
    jobs
        :class:`Job` s or ``(name, scenario)`` pairs; names must be unique folder names.
    out_dir
        The batch folder (created if missing); it also receives ``batch.csv``.
    executor
        A ``map``-like callable (see the module docstring); default: one job after the other,
        each in a child process, so that a crash costs that job only.
    resume
        Skip jobs whose folder holds a complete run of the same inputs; ``False`` reruns all.
    quiet
        No progress lines on the ``chargeplan.workflows.batch`` logger nor jobs' stage lines.
    map_png, report
        Output options of every run (they are part of the inputs hash).
    force
        Use a batch folder that holds other files (they are kept).
    allow_empty
        Write plans that serve nothing (else such a job fails, as :func:`run_scenario`).

    Returns
    -------
    pandas.DataFrame
        One row per job, in job order, columns :data:`RESULT_COLUMNS`: ``status`` is
        ``"done"``, ``"skipped"`` (complete from an earlier run) or ``"failed"`` (``error``
        holds the one-line message and ``exit_code`` its exit code). ``batch.csv`` holds the
        same table as it stands, with ``"pending"`` for jobs not run yet, followed by the rows
        of earlier batches into the same folder whose runs this batch does not name and whose
        folders still hold a complete run.
    """
    checked = [job if isinstance(job, Job) else Job(*job) for job in jobs]
    _check_names(checked)
    final = _batch_folder(Path(out_dir), checked, force)
    try:
        final.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(os_error_line(error, Path(out_dir))) from None
    with lock_folder(final, Path(out_dir)):
        return _run_jobs(
            checked,
            final,
            executor=executor,
            resume=resume,
            quiet=quiet,
            options=_output_options(map_png, report),
            allow_empty=allow_empty,
        )


def _run_jobs(
    checked: list[Job],
    out_dir: Path,
    *,
    executor: Executor | None,
    resume: bool,
    quiet: bool,
    options: dict[str, bool],
    allow_empty: bool,
) -> pd.DataFrame:
    """:func:`run_batch` once its folder is checked and locked."""
    remove_stale_staging(out_dir)
    say = (lambda *a: None) if quiet else log.info
    rows: dict[str, dict[str, Any]] = {}
    pending: list[Task] = []
    for job in checked:
        task = Task(
            name=job.name,
            scenario=job.scenario,
            folder=out_dir / job.name,
            **options,
            inputs_sha256=inputs_digest(
                job.scenario, solver=solver_options(job.scenario), options=options
            ),
            allow_empty=allow_empty,
        )
        manifest = read_manifest(task.folder) if resume else None
        if (
            manifest is not None
            and manifest.get("inputs_sha256") == task.inputs_sha256
            and not verify(task.folder, manifest)
        ):
            rows[job.name] = _skipped_row(task, manifest)
            say("batch: %s skipped: complete from an earlier run (%s)", job.name, task.folder)
        else:
            pending.append(task)
            rows[job.name] = {
                "name": job.name,
                "status": "pending",
                "folder": str(task.folder),
                "inputs_sha256": task.inputs_sha256,
            }
    say("batch: %d of %d jobs to run into %s", len(pending), len(checked), out_dir)

    earlier = _earlier_rows(out_dir, set(rows))

    def table() -> pd.DataFrame:
        return _write_table([rows[job.name] for job in checked], out_dir, earlier)

    table()
    execute = executor or (lambda _, tasks: (run_task_isolated(t, not quiet) for t in tasks))
    results = execute(run_task, pending)
    for count, row in enumerate(results, start=1):
        rows[row["name"]] = row
        table()
        where = (row["name"], count, len(pending))
        if row["status"] == "done":
            done = (row["plan_status"], 100 * (row["gap"] or 0.0), row["seconds"])
            say("batch: %s done [%d/%d]: %s, gap %.3g %%, %.1f s", *where, *done)
        else:
            log.error("batch: %s failed [%d/%d]: %s", *where, row["error"])
    remove_stale_staging(out_dir)  # a killed batch's child may outlive the first sweep
    return table().reset_index(drop=True)
