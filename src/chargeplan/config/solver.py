"""How HiGHS is run, defined once: the scenario's ``[solver]`` section and the solver's options.

:class:`SolverConfig` holds what a scenario file may set (time limit, gap, threads); the
scenario validates its ``[solver]`` table into it. :class:`SolverOptions` is the same with the
switches that belong to a run rather than to a scenario (where the log goes, whether the
problem is reduced first); the solver (:mod:`chargeplan.solver`) takes it, and
:meth:`SolverOptions.from_config` makes one from a scenario's section. Both are plain frozen
dataclasses, so ``dataclasses.replace`` works on them; pydantic checks the constraints of the
field types when it validates a scenario.

This module does not import pydantic: the solver imports it on the array path
(``FacilityProblem.from_cost_matrix`` and :func:`chargeplan.solve`), which validates no scenario,
and pydantic costs that path a third of a second at a cold start (issue 13, item 5). The
constraints are written as :func:`_pydantic` annotations that become pydantic's own ``Field``
and validators when a scenario first validates a ``[solver]`` table, so the messages are
pydantic's.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

__all__ = ["MAX_THREADS", "SolverConfig", "SolverOptions"]

#: Most threads a solve may ask HiGHS for. HiGHS starts one OS thread per requested thread at
#: its first solve and aborts the whole process (``std::terminate``: SIGABRT, exit 134, no
#: message) when the operating system refuses one; tens of thousands take minutes to start
#: before that. Its branch and bound gains nothing beyond the cores, and 256 is more than the
#: largest servers have, so a larger value is a mistake (``--threads 100000``) and refused.
MAX_THREADS = 256


@dataclass(frozen=True)
class _PydanticRule:
    """A pydantic annotation (``Field(gt=0)``, ``BeforeValidator(f)``) made on first use.

    Pydantic reads it when it builds a schema that holds the field (the scenario model, once):
    it then imports pydantic, makes the annotation ``kind(*args, **kwargs)`` and applies it
    exactly as if it had been written in the field's ``Annotated``.
    """

    kind: Literal["Field", "BeforeValidator", "AfterValidator"]
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]  # a tuple, not a dict: annotations must be hashable

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        import pydantic

        made = getattr(pydantic, self.kind)(*self.args, **dict(self.kwargs))
        if self.kind == "Field":  # constraints: pydantic applies them to the inner schema
            return handler(Annotated[source, made])
        return made.__get_pydantic_core_schema__(source, handler)


def _pydantic(
    kind: Literal["Field", "BeforeValidator", "AfterValidator"], *args: Any, **kwargs: Any
) -> _PydanticRule:
    """``_pydantic("Field", gt=0)`` stands for pydantic's ``Field(gt=0)`` in an ``Annotated``."""
    return _PydanticRule(kind, args, tuple(sorted(kwargs.items())))


def _number(kind: type) -> _PydanticRule:
    """Refuse text and booleans where ``kind`` is expected (as the scenario tables do)."""

    def check(value: Any) -> Any:
        from chargeplan.config.validation import check_numbers  # imports pydantic

        check_numbers(value, kind)
        return value

    return _pydantic("BeforeValidator", check)


def _threads_highs_can_start(threads: int) -> int:
    if threads > MAX_THREADS:
        raise ValueError(
            f"{threads} threads: HiGHS aborts the whole process when the system cannot start "
            f"them all; give at most {MAX_THREADS} (this machine has {os.cpu_count()} cores), "
            "or leave it out for HiGHS's default"
        )
    return threads


@dataclass(frozen=True)
class SolverConfig:
    """HiGHS settings a scenario can fix (its ``[solver]`` section).

    Attributes
    ----------
    time_limit_s
        Wall-clock limit of a solve, seconds (> 0); HiGHS then returns its best plan so far.
    mip_rel_gap
        Relative MIP gap at which HiGHS stops, in [0, 1): ``1e-3`` stops within 0.1 % of the
        best bound.
    threads
        Threads HiGHS may use (1 to :data:`MAX_THREADS`); ``None``: HiGHS's default.
    design_max_nodes
        Station-design models: HiGHS's branch-and-bound node limit after the design start
        (:class:`SolverOptions`; ``0``: the start is the plan).
    mip_max_nodes
        Deterministic work limit: HiGHS stops its branch and bound after this many nodes
        (``mip_max_nodes``) with its best plan and its valid bound (status
        ``"iteration_limit"``); ``None``: no limit. Unlike a time limit it stops after the same
        work on every machine, so a scenario that sets it (with ``time_limit_s`` far above
        what the solve needs, a safety net) gets the same plan on an idle machine and a
        loaded one (``decompose.piece_max_nodes`` sets it for the pieces of a Lagrangian
        decomposition).
    design_lns_passes
        Passes of windows over a piece, each along other borders. On the 279 national pieces
        one at a time, three passes (the later two only where the plan is above
        ``design_lns_more_gap``) take the gap from 2.38 to 1.95 % (46.264 to 46.065 bn) for
        about 80 % more CPU, hence the default of 3 (``docs/stations.md``, "A second pass
        where the plan stays far from its bound"). On the national run of session 14, one pass
        took 11 min 35 s and three 20 min 30 s (gap 2.38 and 1.96 %): a scenario wanting the
        faster plan sets 1.
    design_lns_more_gap
        Passes of windows after the first only while the piece's plan is more than this
        (relative) above its bound (0: every pass runs). On the 279 national pieces with two
        passes, 0.02 left the second pass out on 89 pieces (their gap after one pass 2 % or
        less) and gave nearly the same plans (gap 2.082 % instead of 2.078 %) for 7 % less of
        the second pass's CPU; 0.05 half its CPU for 2.194 % (``docs/stations.md``, "A second
        pass where the plan stays far from its bound"). 0.02 is the default: the passes aim
        at the pieces still above 2 %.
    """

    # unknown keys in a scenario's [solver] table are an error, as in every other table; so
    # are inf and nan (an infinite time limit is no limit: leave the key out for the default)
    # (pydantic's ConfigDict is a TypedDict: a plain dict is one, without importing pydantic)
    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid", "allow_inf_nan": False}

    time_limit_s: Annotated[float, _pydantic("Field", gt=0), _number(float)] = 600.0
    mip_rel_gap: Annotated[float, _pydantic("Field", ge=0, lt=1), _number(float)] = 1e-3
    threads: (
        Annotated[
            int,
            _pydantic("Field", ge=1),
            _number(int),
            _pydantic("AfterValidator", _threads_highs_can_start),
        ]
        | None
    ) = None
    design_max_nodes: Annotated[int, _pydantic("Field", ge=0), _number(int)] = 1_000
    mip_max_nodes: Annotated[int, _pydantic("Field", ge=1), _number(int)] | None = None
    design_lns_passes: Annotated[int, _pydantic("Field", ge=0), _number(int)] = 3
    design_lns_more_gap: Annotated[float, _pydantic("Field", ge=0), _number(float)] = 0.02


@dataclass(frozen=True)
class SolverOptions(SolverConfig):
    """HiGHS options of one run: the :class:`SolverConfig` settings, and two switches.

    Attributes
    ----------
    time_limit_s, mip_rel_gap, threads, mip_max_nodes
        As in :class:`SolverConfig`.
    design_lns_passes, design_lns_more_gap
        As in :class:`SolverConfig` (a scenario's ``[solver]`` sets them).
    log_to_stderr
        Show HiGHS's log on standard error.
    log_file
        Append HiGHS's log to this file (``chargeplan run`` writes it to ``solver.log`` in the
        run folder); ``None``: no file.
    reduce
        Solve an exactly reduced problem (:mod:`chargeplan.solver.reduce`: the covering form
        and a greedy start for pure covering) and expand its plan; ``False`` builds the problem
        as given.
    design_start
        Start a station-design model from its LP relaxation rounded to a plan
        (:mod:`chargeplan.solver.designstart`); ``False``: HiGHS alone, as before.
    design_max_nodes
        With ``design_start``: HiGHS's branch-and-bound node limit after the start (a
        deterministic limit; the time limit still applies on top of it). ``0``: no branch and
        bound, the start is the plan (status ``"iteration_limit"`` when it is not within
        ``mip_rel_gap`` of its bound), so no clock can decide it.
    design_lagrange_steps
        With ``design_start``: subgradient steps of the Lagrangian bound and heuristic
        (:mod:`chargeplan.solver.design_bound`; 0: LP bound only). 300 measured on the Shanghai
        slice (``docs/stations.md``, "A Lagrangian bound").
    design_search_moves
        With ``design_start``: most LPs of the local search that improves the start's plan
        (:mod:`chargeplan.solver.design_search`: each prices one move on its stations; a count,
        no clock; 0: no search). Measured on the national pieces (``docs/stations.md``, "Local
        search over designs").
    design_lp_iterations
        With ``design_start``: simplex iterations of each LP's first solve (``None``: no
        limit); an LP not optimal after it (or for any other reason) is solved again from
        scratch without it (:mod:`chargeplan.solver.design_lp`), so a plan never waits for a
        warm start that wanders.
    design_cluster_sites
        With ``design_start`` and the Lagrangian bound: most sites per cluster of the bound
        over clusters of sites (:mod:`chargeplan.solver.design_clusters`: a small MIP per
        cluster at the Lagrangian bound's multipliers, to a node limit); 0 (default): not
        computed. Off by default: on the 12 largest national pieces (K = 8) it raised their
        bound by 0.11 % for 301 s of CPU, three times the Lagrangian steps' CPU
        (``docs/stations.md``, "A bound over clusters of sites").
    design_lns_sites
        With ``design_start``: sites per window of the exact windows that improve the searched
        plan (:mod:`chargeplan.solver.design_lns`: each window's sites re-chosen by a MIP of
        the strong formulation, the rest of the plan kept; 0: no windows). Measured on the
        national pieces (``docs/stations.md``, "Exact windows (large-neighbourhood search)"
        and "Wider windows on the mid-size pieces").
    design_lns_large_sites, design_lns_large_pairs
        Sites per window on pieces of at least ``design_lns_large_pairs`` zone-site pairs (0:
        ``design_lns_sites`` there too): on the national city pieces, windows of 6 sites saved
        0.94 % against 4 for 11 % more CPU on pieces of 1,500-10,000 pairs, but 0.47 % for 29 %
        more on pieces of 11,000-30,000 pairs, hence 6 below 10,000 pairs and 4 above.
    design_lns_nodes
        Branch-and-bound nodes of each window's MIP (a count, no clock).
    design_lns_min_pairs
        Only station-design models (pieces) of at least this many zone-site pairs get the
        windows, and only where the plan before them is more than 0.1 % above its bound
        (``design_lns.LNS_MIN_GAP``). 1,500: every national city component (1,507 pairs and
        more); on pieces of 1,974-2,976 pairs the windows without the local search gave
        plans as cheap as the search's for 55-76 % of its CPU (``docs/stations.md``, "Where
        the gap lives").
    design_lns_replaces_search
        Whether a piece the windows search skips the local search (``design_search_moves``
        then applies to the other pieces only): on 10 national pieces of 2,865-2,976 pairs,
        windows alone CNY 779.1 M for 19 s of CPU, the search alone 787.6 M for 25 s, both
        771.8 M for 35 s (measured as above).
    design_both_starts_max_pairs
        With ``design_start``: on station-design models (pieces) of at most this many
        zone-site pairs, the local search or the windows run from both the rounded LP's plan
        and the Lagrangian heuristic's, and the cheaper result is kept
        (:mod:`chargeplan.solver.designstart`, step 8); 0: from the cheaper start only.
        Measured on the national city pieces (``docs/stations.md``, "Two starts on the small
        city pieces").
    mip_max_nodes
        As in :class:`SolverConfig`.
    """

    log_to_stderr: bool = False
    reduce: bool = True
    log_file: str | None = None
    design_start: bool = True
    design_lagrange_steps: int = 300
    design_search_moves: int = 250
    design_lp_iterations: int | None = None
    design_lns_sites: int = 6
    design_lns_large_sites: int = 4
    design_lns_large_pairs: int = 10_000
    design_lns_nodes: int = 1
    design_lns_min_pairs: int = 1_500
    design_lns_replaces_search: bool = True
    design_both_starts_max_pairs: int = 0
    design_cluster_sites: int = 0

    @classmethod
    def from_config(cls, config: SolverConfig, **switches: Any) -> SolverOptions:
        """The options of a scenario's ``[solver]`` section, with ``switches`` (e.g.
        ``log_to_stderr=True``) for the fields a scenario does not set."""
        settings = {f.name: getattr(config, f.name) for f in dataclasses.fields(SolverConfig)}
        return cls(**settings, **switches)
