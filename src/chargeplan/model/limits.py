"""How much memory a model will take, and refusing one that cannot fit, before building it.

The model's size follows from the problem's arrays alone (:func:`estimate_model_size`):
variables ``x`` (one per reachable pair and charger type with demand), ``u``, ``y``, ``n`` and
the queue and grid columns; rows and nonzeros of every constraint family of
:func:`chargeplan.model.formulation.build_milp`, plus the objective (within 3 % of the built model
on the instances below). The peak memory of building and solving it is then estimated as

    bytes = BYTES_PER_NONZERO * nonzeros + BYTES_PER_ROW * rows + BYTES_FIXED

It covers the sparse arrays, the Pyomo model (Python objects per variable, row and term), the
hand-off to HiGHS and HiGHS's own copy with presolve and factorisation. Measured with
``benchmarks/model_memory.py``: nine random two-type charging instances from 10 k to 1.1 M
nonzeros, with and without the strong pair links, each in a fresh process; peak resident memory
(``resource.getrusage``) minus the resident memory before the build (``psutil``) over a 3 s
HiGHS solve; fitted by nonnegative least squares on the relative error (Linux x86-64, Python
3.11, Pyomo 6.10, HiGHS 1.16). Measured peaks: 37 MB at 10 k nonzeros, 497 MB at 370 k,
812 MB at 681 k, 984 MB at 1.1 M; the formula is within 25 % of each (21 % under at 117 k,
24 % over at 1.1 M). A separate per-variable term fits to zero: every variable has two or
more nonzeros, so its cost is inside the per-nonzero one. Python's share alone (``tracemalloc``
over the Pyomo build) is about 270 B per nonzero plus 290 B per row. The branch-and-bound tree
of a long solve grows beyond the measured 3 s, hence the headroom :data:`MEMORY_SHARE`.

:func:`check_model_size` compares the estimate with the memory available now
(``psutil.virtual_memory().available``) times :data:`MEMORY_SHARE`, or with an explicit limit:
``max_bytes=...`` or the environment variable ``CHARGEPLAN_MAX_MODEL_BYTES`` (e.g. ``8e9``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from chargeplan.errors import SolveError
from chargeplan.model.links import wants_strong_links
from chargeplan.model.problem import FacilityProblem

__all__ = [
    "BYTES_FIXED",
    "BYTES_PER_NONZERO",
    "BYTES_PER_ROW",
    "MEMORY_SHARE",
    "ModelSize",
    "ModelTooLargeError",
    "available_memory",
    "check_model_size",
    "estimate_model_size",
]

#: Measured peak bytes per matrix or objective nonzero (see the module docstring).
BYTES_PER_NONZERO = 1_000.0
#: Measured peak bytes per constraint row.
BYTES_PER_ROW = 1_600.0
#: Measured fixed part: the solver interface and HiGHS's workspace on a tiny model.
BYTES_FIXED = 30e6
#: Share of the available memory a model may take by default; the rest is headroom for the
#: branch-and-bound tree, the plan's tables and the rest of the system.
MEMORY_SHARE = 0.6
#: Environment variable that sets the limit in bytes instead of the available memory.
LIMIT_VARIABLE = "CHARGEPLAN_MAX_MODEL_BYTES"


class ModelTooLargeError(SolveError):
    """The model would not fit in memory; it was refused before it was built."""


@dataclass(frozen=True)
class ModelSize:
    """Estimated size of a model.

    Attributes
    ----------
    variables, rows, nonzeros
        Columns, constraint rows and nonzeros (matrix plus objective).
    assignment_variables
        The ``x`` columns (pairs x types with demand), which dominate large models.
    bytes
        Estimated peak memory of building and solving it.
    """

    variables: int
    rows: int
    nonzeros: int
    assignment_variables: int

    @property
    def bytes(self) -> int:
        """Estimated peak memory in bytes."""
        return int(BYTES_PER_NONZERO * self.nonzeros + BYTES_PER_ROW * self.rows + BYTES_FIXED)


def estimate_model_size(problem: FacilityProblem) -> ModelSize:
    """Count the model's variables, rows and nonzeros from the problem's arrays.

    An upper estimate of :func:`chargeplan.model.formulation.build_milp` (excluded sites are
    counted as candidates) that needs no more memory than a few arrays the length of the pairs.

    Parameters
    ----------
    problem
        The instance.

    Returns
    -------
    ModelSize
    """
    k = len(problem.types)
    has = problem.demand > 0  # (Z, K)
    per_zone = has.sum(axis=1)  # types with demand: the x of each pair of the zone
    per_pair = per_zone[problem.pair_zone]
    nx = int(per_pair.sum())
    nu = int(per_zone.sum())
    if problem.sizing:  # (site, type) entries with demand in reach
        pair, kind = np.nonzero(has[problem.pair_zone])
        served = np.zeros((len(problem.site_ids), k), bool)
        served[problem.pair_site[pair], kind] = True
        reached = served.any(axis=1)
    else:  # sites with a pair to a zone with demand: no (P, K) array needed
        reached = np.zeros(len(problem.site_ids), bool)
        reached[problem.pair_site[per_pair > 0]] = True
    sites = reached | problem.must_open
    ny = int(sites.sum())
    variables, rows, nonzeros = nx + nu + ny, nu, 2 * (nx + nu) + ny  # assign rows + objective
    if problem.sizing:
        entries = served & (problem.max_chargers > 0)
        if problem.design_stalls is not None:  # as model_index: any type the site allows
            entries |= sites[:, None] & (problem.max_chargers > 0)
        entries |= (problem.existing_chargers > 0) | (problem.min_chargers > 0)
        entries &= sites[:, None]
        nn = int(entries.sum())
        variables += nn
        rows += 2 * nn  # capacity, open_for_chargers
        nonzeros += nx + 4 * nn
        if problem.design_stalls is not None:  # z per site and fitting design
            total = problem.existing_chargers[:, None, :] + problem.design_stalls[None, :, :]
            fits = (total <= problem.max_chargers[:, None, :]).all(axis=2) & sites[:, None]
            nz = int(fits.sum())
            variables += nz
            rows += nn + ny  # design_chargers, design_choice
            nonzeros += nz * (2 + 2 * k) + nn + ny
        elif problem.queue_levels is not None:
            size = np.array([len(levels) - 1 for levels in problem.queue_levels])
            top = np.minimum(size[None, :] - 1, problem.max_chargers)
            nb = int(np.where(entries, np.maximum(top, 0), 0).sum())
            variables += nn + nb
            rows += 2 * nn  # queue_count, queue_partial
            nonzeros += 3 * nb + 4 * nn
        for limit in (problem.max_stalls, problem.grid_kw):  # one row per limited site
            limited = int((sites & np.isfinite(limit)).sum())
            rows += limited
            nonzeros += limited + nn
        rows += int((problem.min_chargers > 0).sum())
        nonzeros += 2 * int((problem.min_chargers > 0).sum())
    else:
        rows += ny  # site capacity
        nonzeros += nx + ny
    strong = wants_strong_links(problem, nx)
    if strong:
        rows += nx
        nonzeros += 2 * nx
    if problem.budget is not None:
        rows += 1
        nonzeros += variables - nx - nu
    if problem.max_sites is not None:
        rows += 1
        nonzeros += ny
    return ModelSize(variables=variables, rows=rows, nonzeros=nonzeros, assignment_variables=nx)


def available_memory() -> int:
    """Bytes of memory available to a new allocation now (``MemAvailable`` on Linux).

    On Linux the line is read from ``/proc/meminfo`` here, as psutil would read it: importing
    psutil (and the modules it loads) would cost every cold solve about 20 ms (issue 13). The
    file is read as bytes in one ``os.read`` (its first lines hold the figure), without a text
    stream: 20 instead of 48 microseconds, paid on every solve (docs/scale.md, "The fixed
    cost").
    """
    try:
        descriptor = os.open("/proc/meminfo", os.O_RDONLY)
        try:
            text = os.read(descriptor, 4096)
        finally:
            os.close(descriptor)
        start = text.index(b"\nMemAvailable:") + 14  # "MemAvailable:  123456 kB"
        return int(text[start : text.index(b"\n", start)].split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass  # not Linux, or a kernel older than 3.14: psutil knows how to estimate it
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover - psutil is a dependency
        pages = os.sysconf("SC_AVPHYS_PAGES")
        return int(pages * os.sysconf("SC_PAGE_SIZE"))


def _limit(max_bytes: float | None) -> tuple[float, str]:
    if max_bytes is not None:
        return float(max_bytes), "the limit given"
    text = os.environ.get(LIMIT_VARIABLE, "").strip()
    if text:
        try:
            value = float(text)
        except ValueError:
            raise SolveError(
                f"environment variable {LIMIT_VARIABLE}={text!r} is not a number of bytes: "
                "set it like 8e9, or unset it"
            ) from None
        if not math.isfinite(value) or value <= 0:
            raise SolveError(f"{LIMIT_VARIABLE}={text!r} must be a positive number of bytes")
        return value, f"{LIMIT_VARIABLE}"
    available = available_memory()
    return MEMORY_SHARE * available, (
        f"{100 * MEMORY_SHARE:.0f} % of the {_human(available)} available"
    )


def _human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover


def check_model_size(problem: FacilityProblem, *, max_bytes: float | None = None) -> ModelSize:
    """Refuse a model that would not fit in memory, before anything is built.

    Parameters
    ----------
    problem
        The instance.
    max_bytes
        Largest estimate allowed. Default: :data:`LIMIT_VARIABLE` from the environment if set,
        else :data:`MEMORY_SHARE` of the memory available now.

    Returns
    -------
    ModelSize
        The estimate, when it fits.

    Raises
    ------
    ModelTooLargeError
        A :class:`~chargeplan.errors.SolveError` naming the estimate, its parts, the limit and
        what to do: decompose (plan regions separately) or shrink the reach.
    """
    size = estimate_model_size(problem)
    limit, what = _limit(max_bytes)
    if size.bytes > limit:
        raise ModelTooLargeError(
            f"model too large for memory: about {_human(size.bytes)} estimated "
            f"({size.variables:,} variables of which {size.assignment_variables:,} zone-site "
            f"assignments, {size.rows:,} rows, {size.nonzeros:,} nonzeros) but the limit is "
            f"{_human(limit)} ({what}): decompose it (plan regions separately, e.g. one "
            "scenario per province with `chargeplan batch`), shrink reach.service_radius_km "
            "(fewer zone-site pairs), or use coarser zones or fewer candidate sites"
        )
    return size
