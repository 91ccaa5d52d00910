"""Errors that chargeplan raises for problems a user can fix.

Every message says what is wrong, where (file, row or column, scenario key) and what to do.
The CLI prints ``str(error)`` on one line and exits with :attr:`ChargeplanError.exit_code`.
"""

from __future__ import annotations


class ChargeplanError(Exception):
    """Base class of every error a user can act on (never a bug in chargeplan)."""

    exit_code = 2


class ScenarioError(ChargeplanError):
    """A scenario or charger-catalogue file is missing, malformed or holds impossible values."""

    exit_code = 3


class InputError(ChargeplanError):
    """A zones, sites or cost-table input is malformed (geometry, CRS, ids, values)."""

    exit_code = 4


class SolveError(ChargeplanError):
    """The solver could not produce a plan (infeasible inputs, no incumbent within the limit)."""

    exit_code = 5


class OutputError(ChargeplanError):
    """The output folder cannot take the run's files: not writable, full, in use by another
    run, holding the run's inputs or someone else's files."""

    exit_code = 6


class EmptyPlanError(SolveError):
    """The solver returned a plan that serves none of a positive demand (stopped by its time
    limit before anything better, or every kWh cheaper unserved): not published as a result
    unless asked for (``--allow-empty-plan``)."""

    exit_code = 7
