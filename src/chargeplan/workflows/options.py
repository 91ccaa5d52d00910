"""Solver options for a scenario run: the scenario's ``[solver]`` section as
:class:`~chargeplan.solver.options.SolverOptions`, and the solver log of a run."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from chargeplan.config.scenario import Scenario
from chargeplan.solver.options import SolverOptions

#: The solver's log in a run folder: HiGHS's output of every solve of the run, in order.
SOLVER_LOG = "solver.log"


def solver_options(scenario: Scenario, *, log_to_stderr: bool = False) -> SolverOptions:
    """The :class:`~chargeplan.solver.options.SolverOptions` a scenario asks for.

    Parameters
    ----------
    scenario
        A validated scenario; its ``[solver]`` section gives the time limit, gap and threads.
    log_to_stderr
        Show HiGHS's log on standard error.
    """
    return SolverOptions.from_config(scenario.solver, log_to_stderr=log_to_stderr)


@contextlib.contextmanager
def logged(options: SolverOptions) -> Iterator[tuple[SolverOptions, Path]]:
    """``options`` with HiGHS's log appended to a new temporary file, and that file.

    A run's folder is written only at its end (:func:`chargeplan.outputs.files.atomic_dir`),
    after the solve; the log waits in the temporary file until :func:`publish_log` copies it
    into the staging folder. The file is removed when the block ends.
    """
    handle, name = tempfile.mkstemp(prefix="chargeplan-", suffix=f"-{SOLVER_LOG}")
    os.close(handle)
    path = Path(name)
    try:
        yield dataclasses.replace(options, log_file=str(path)), path
    finally:
        path.unlink(missing_ok=True)


def publish_log(log: Path, folder: Path) -> Path:
    """Copy the run's solver log into ``folder`` as :data:`SOLVER_LOG`; return its path."""
    target = folder / SOLVER_LOG
    shutil.copyfile(log, target)
    return target
