"""The command-line flags that set one scenario key each (``--target``, ``--time-limit``, ...),
listed once in :data:`SCENARIO_FLAGS` with the commands that take them (a helper of
:mod:`chargeplan.cli`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["SCENARIO_FLAGS", "ScenarioFlag", "add_quiet", "add_scenario_flags"]


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """``--quiet`` / ``-q``: no progress on stderr (every command that runs for more than a few
    seconds takes it: ``run``, ``validate``, ``curve``, ``batch``, ``report``)."""
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")


def _positive_int(text: str) -> int:
    """Argument type of ``--workers``: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _amount(text: str) -> int | float:
    """Argument type of ``--target`` and ``--budget``: ``20M``, ``4bn``, ``2e7``, ``500k``."""
    from chargeplan.cli_variants import amount

    value = amount(text)
    if value is None:
        raise argparse.ArgumentTypeError(
            f"expected an amount such as 20000000, 2e7, 20M or 4bn, got {text!r}"
        )
    return value


@dataclass(frozen=True)
class ScenarioFlag:
    """A command-line flag that sets one scenario key, for the commands that take it."""

    flag: str
    key: str
    help: str
    commands: tuple[str, ...]
    type: Callable[[str], object] = str
    choices: tuple[str, ...] | None = None
    metavar: str | None = None


_SOLVING = ("run", "validate")  # validate takes run's flags: it checks what run would solve
_EVERY = ("run", "validate", "curve", "batch")

#: The one map from command-line flags to scenario keys: ``run``, ``curve``, ``batch`` and
#: ``validate`` each take the flags that name them and apply them with
#: :meth:`~chargeplan.config.scenario.Scenario.with_values` (validated like the file).
SCENARIO_FLAGS = (
    ScenarioFlag(
        "--target",
        "users.target_premium_users",
        "premium-user target, e.g. 20M (overrides)",
        _SOLVING,
        _amount,
    ),
    ScenarioFlag(
        "--budget",
        "model.budget_cny",
        "capex budget in CNY, e.g. 4bn (overrides)",
        _SOLVING,
        _amount,
    ),
    ScenarioFlag(
        "--objective",
        "model.objective",
        "what to optimise (overrides model.objective)",
        _SOLVING,
        choices=("min_cost", "max_coverage", "max_npv"),
    ),
    ScenarioFlag("--time-limit", "solver.time_limit_s", "solver time limit, s", _EVERY, float),
    ScenarioFlag("--gap", "solver.mip_rel_gap", "relative MIP gap, e.g. 0.001", _EVERY, float),
    ScenarioFlag("--threads", "solver.threads", "solver threads", _EVERY, int),
    ScenarioFlag(
        "--decompose",
        "decompose.by",
        "solve as independent pieces: 'components' of the reach graph (exact) or "
        "'region' (zones served within their region only); overrides decompose.by",
        _SOLVING,
        choices=("none", "components", "region"),
    ),
    ScenarioFlag(
        "--workers",
        "decompose.workers",
        "Dask worker processes for a decomposed plan (1: in this process; default: one per "
        "core this process may use); overrides decompose.workers",
        _SOLVING,
        _positive_int,
        metavar="N",
    ),
    ScenarioFlag(
        "--scheduler",
        "decompose.scheduler",
        "solve the regions on an existing Dask cluster, e.g. tcp://10.0.0.5:8786; "
        "overrides decompose.scheduler",
        _SOLVING,
        metavar="ADDRESS",
    ),
)


def add_scenario_flags(parser: argparse.ArgumentParser, command: str) -> None:
    """The :data:`SCENARIO_FLAGS` of ``command``; each is stored under its scenario key."""
    for flag in SCENARIO_FLAGS:
        if command in flag.commands:
            parser.add_argument(
                flag.flag,
                dest=flag.key,
                type=flag.type,
                choices=flag.choices,
                default=None,
                metavar=flag.metavar or (None if flag.choices else _metavar(flag.flag)),
                help=flag.help,
            )


def _metavar(flag: str) -> str:
    """``--time-limit`` -> ``TIME_LIMIT``, as argparse names it by default."""
    return flag.lstrip("-").replace("-", "_").upper()
