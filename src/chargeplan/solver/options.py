"""How HiGHS is run: time limit, MIP gap, threads, logging, reductions.

:class:`SolverOptions` is defined once, in :mod:`chargeplan.config.solver`, next to the
scenario's ``[solver]`` section it extends; it is importable from here, where the solver uses it.
"""

from __future__ import annotations

from chargeplan.config.solver import SolverOptions

__all__ = ["SolverOptions"]
