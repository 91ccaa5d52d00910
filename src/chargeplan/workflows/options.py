"""Solver options for a scenario run: the scenario's ``[solver]`` section as
:class:`~chargeplan.solver.options.SolverOptions`."""

from __future__ import annotations

from chargeplan.config.scenario import Scenario
from chargeplan.solver.options import SolverOptions


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
