r"""Costs scaled for HiGHS, and HiGHS's progress reported: one place for both solve paths.

Both the Pyomo path (:class:`chargeplan.solver.interface.ReportingHighs`) and the array path
(:mod:`chargeplan.solver.direct`) hand HiGHS the same model; :func:`reporting` sets the same
objective scale on either and forwards HiGHS's incumbent, bound and gap to
:func:`chargeplan.progress.solver_update`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from chargeplan import progress

__all__ = [
    "MAX_SCALED_COST",
    "MIN_SCALED_COST",
    "SCALE_ABOVE",
    "objective_scale",
    "reporting",
]

#: Largest objective coefficient HiGHS is handed, in absolute value: HiGHS warns of
#: "excessively large costs" above 1e6 (and that the model is "badly scaled": their ratio to its
#: dual feasibility tolerance, 1e-7); chargeplan's costs are CNY, up to some 1e9 per unit of
#: unmet demand in the default scenario.
MAX_SCALED_COST = 1e6
#: Smallest non-zero objective coefficient, in absolute value, the scaling may leave: HiGHS warns
#: of "excessively small costs" below 1e-4.
MIN_SCALED_COST = 1e-4
#: Largest objective coefficient, in absolute value, HiGHS is handed as it is (``k = 0``), though
#: HiGHS 1.16 warns above 1e6 ("excessively large costs ... consider setting the
#: user_objective_scale option to -1"): the warning is advice, and a double carries some 16
#: digits, so a cost of 1e7 rounds by about 1e-9, a hundredth of HiGHS's dual feasibility
#: tolerance (1e-7). Scaling such a model changes HiGHS's search, not its optimum (the OR-Library
#: files, costs up to 1.4e6: 2^-1 took 1.15-1.23x raw HiGHS's CPU time, the same nodes and
#: iterations, docs/scale.md "The fixed cost per solve"). Above it the costs are brought under
#: :data:`MAX_SCALED_COST`: the default scenario (2.67e9 CNY) keeps ``k = -12``.
SCALE_ABOVE = 1e7


def objective_scale(costs: np.ndarray) -> int:
    r"""The exponent ``k`` of HiGHS's ``user_objective_scale`` (costs multiplied by ``2**k``).

    Mathematics: with :math:`c_{max} = \max_j |c_j|` and :math:`c_{min}` the smallest
    non-zero :math:`|c_j|`, :math:`k = 0` when :math:`c_{max} \le` :data:`SCALE_ABOVE`
    (:math:`10^7`: HiGHS is handed the costs as they are); above it the smallest
    :math:`k \le 0` with
    :math:`2^k c_{max} \le` :data:`MAX_SCALED_COST`, i.e.
    :math:`k = -\lceil \log_2 (c_{max} / 10^6) \rceil`, but no smaller than
    :math:`\lceil \log_2 (10^{-4} / c_{min}) \rceil`, so that :math:`2^k c_{min} \ge`
    :data:`MIN_SCALED_COST`: costs spanning more than ten orders of magnitude keep their
    large-cost warning rather than gain a small-cost one. A power of two scales every
    coefficient exactly (no rounding); HiGHS reports the objective, bound and solution unscaled
    (in CNY), and the relative MIP gap is the same at every scale; only the search path may
    differ, within the gap. The default scenario's costs, 214 to 2.67e9 CNY, get ``k = -12``.
    """
    top = float(np.abs(costs).max(initial=0.0))  # nan and inf: on to the filter below
    if top <= max(SCALE_ABOVE, MAX_SCALED_COST):  # (then the largest finite one is too)
        return 0
    finite = np.abs(costs[np.isfinite(costs)])
    finite = finite[finite > 0]
    largest = float(finite.max()) if finite.size else 0.0
    if largest <= max(SCALE_ABOVE, MAX_SCALED_COST):
        return 0
    k = -math.ceil(math.log2(largest / MAX_SCALED_COST))
    floor = math.ceil(math.log2(MIN_SCALED_COST / float(finite.min())))
    return min(0, max(k, floor))


@contextlib.contextmanager
def reporting(highs: Any, constant: float, costs: np.ndarray | None = None) -> Iterator[None]:
    """Scale ``highs``'s costs (:func:`objective_scale`) and report its progress while inside.

    ``costs``: the model's objective vector as the caller built it (its non-zero entries those
    ``highs`` holds: columns left out of HiGHS's model have none), which spares reading the
    model back from HiGHS (``getLp``, a copy of every array); default: read back.
    ``constant`` is the objective's constant, added to the figures HiGHS reports (HiGHS's
    improving-solution and MIP log callbacks: a few dozen calls per solve). With no progress
    display active when the solve starts (:func:`chargeplan.progress.active`: a library call,
    a test, a benchmark) no callback is subscribed: they would report to nobody, and HiGHS
    then calls no Python during its search (the plan is the same either way).
    """
    if costs is None:
        costs = np.asarray(highs.getLp().col_cost_, dtype=float)
    scale = objective_scale(costs)
    highs.setOptionValue("user_objective_scale", scale)
    if progress.active() is None:
        yield
        return
    unscale = 2.0**-scale

    def report(event: Any) -> None:  # HiGHS's figures are of the scaled objective
        data = event.data_out
        progress.solver_update(
            float(data.mip_primal_bound) * unscale + constant,
            float(data.mip_dual_bound) * unscale + constant,
            float(data.mip_gap),
        )

    callbacks = (highs.cbMipImprovingSolution, highs.cbMipLogging)
    for callback in callbacks:
        callback.subscribe(report)
    try:
        yield
    finally:
        for callback in callbacks:
            callback.unsubscribe(report)
