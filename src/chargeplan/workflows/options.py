"""Solver options for a scenario run: the scenario's ``[solver]`` section as
:class:`~chargeplan.solver.options.SolverOptions` (the one place that maps one to the other)."""

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
    return SolverOptions(
        time_limit_s=scenario.solver.time_limit_s,
        mip_rel_gap=scenario.solver.mip_rel_gap,
        threads=scenario.solver.threads,
        log_to_stderr=log_to_stderr,
    )
