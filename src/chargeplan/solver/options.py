"""How HiGHS is run: time limit, MIP gap, threads, logging, reductions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SolverOptions:
    """HiGHS options: time limit (s), relative MIP gap, threads (None: HiGHS's default).

    ``reduce``: solve an exactly reduced problem (:mod:`chargeplan.solver.reduce`, the covering form
    and a greedy start for pure covering) and expand its plan; ``False`` builds the problem as
    given.
    """

    time_limit_s: float = 600.0
    mip_rel_gap: float = 1e-3
    threads: int | None = None
    log_to_stderr: bool = False
    reduce: bool = True
