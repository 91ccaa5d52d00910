"""Sizing the chargers of one site for the design hour from the M/M/c queue (:mod:`.erlang`).

:class:`ServiceLevel` states what drivers may expect (the probability of waiting, a mean wait
in minutes); :func:`max_arrival_rate` is the most sessions per hour ``c`` chargers serve at that
level, :func:`capacity_levels` the same for ``c = 0..S`` at once (the queue levels ``L_k(c)``
of the model's queueing rule), and :func:`chargers_needed` the fewest chargers for a demand;
:func:`linear_chargers_needed` is the linear (utilisation) rule for comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
import numpy.typing as npt

from chargeplan.model.erlang import (
    MINUTES_PER_HOUR,
    check_real,
    check_servers,
    erlang_b,
    erlang_c,
    erlang_c_from_b,
    erlang_c_table,
    mean_wait,
)

#: Relative tolerance of the bisection in :func:`max_arrival_rate` and :func:`capacity_levels`.
RATE_RTOL = 1e-10
#: Safety cap on bisection steps (about 40 are needed in practice).
_MAX_BISECTION_STEPS = 200

__all__ = [
    "ServiceLevel",
    "capacity_levels",
    "chargers_needed",
    "erlang_b",
    "erlang_c",
    "erlang_c_table",
    "linear_chargers_needed",
    "max_arrival_rate",
    "mean_wait",
]


# --------------------------------------------------------------------------------------------
# service levels
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceLevel:
    """Peak-hour service target for a site; every criterion given must hold.

    Parameters
    ----------
    max_wait_probability : float or None
        Upper bound on :math:`P(\\text{wait}) = C(c, a)`, in :math:`(0, 1]`.
    max_mean_wait_min : float or None
        Upper bound on the mean queueing time :math:`W_q`, in minutes (> 0, finite).

    At least one criterion must be given. Whatever the criteria, the queue must also be
    stable (:math:`\\lambda < c \\mu`), so ``ServiceLevel(max_wait_probability=1.0)`` just
    means "stable".

    Raises
    ------
    ValueError
        If neither criterion is given or a value is out of range.
    """

    max_wait_probability: float | None = None
    max_mean_wait_min: float | None = None

    def __post_init__(self) -> None:
        p, w = self.max_wait_probability, self.max_mean_wait_min
        if p is None and w is None:
            raise ValueError(
                "ServiceLevel needs at least one criterion: give max_wait_probability "
                "(in (0, 1]), max_mean_wait_min (minutes > 0) or both"
            )
        if p is not None:
            if isinstance(p, bool) or not isinstance(p, Real) or not 0.0 < float(p) <= 1.0:
                raise ValueError(
                    f"ServiceLevel.max_wait_probability must be a probability in (0, 1], got {p!r}"
                )
        if w is not None:
            if (
                isinstance(w, bool)
                or not isinstance(w, Real)
                or not math.isfinite(float(w))
                or float(w) <= 0.0
            ):
                raise ValueError(
                    "ServiceLevel.max_mean_wait_min must be a finite number of minutes > 0, "
                    f"got {w!r}"
                )

    def is_met(self, servers: int, arrival_rate_per_h: float, service_time_h: float) -> bool:
        """Whether ``servers`` chargers meet this level at the given peak load.

        Parameters
        ----------
        servers : int
            Number of chargers :math:`c \\ge 0`.
        arrival_rate_per_h : float
            Peak arrival rate :math:`\\lambda \\ge 0` (sessions per hour).
        service_time_h : float
            Mean session length :math:`s > 0` (hours).

        Returns
        -------
        bool
            ``True`` iff nothing arrives, or :math:`\\lambda s < c` and every given criterion
            holds: :math:`C(c, \\lambda s) \\le p_{max}` and :math:`60 W_q \\le w_{max}`.
        """
        c = check_servers(servers)
        lam = check_real(arrival_rate_per_h, "arrival_rate_per_h", positive=False)
        s = check_real(service_time_h, "service_time_h", positive=True)
        if lam == 0.0:
            return True
        a = lam * s
        if a >= c:
            return False
        return self._met_stable(c, a, s, erlang_b(c, a))

    def _met_stable(self, c: int, a: float, s: float, blocking: float) -> bool:
        """Criteria check for a stable queue (``0 < a < c``) given ``B(c, a)``."""
        p_wait = erlang_c_from_b(c, a, blocking)
        if self.max_wait_probability is not None and p_wait > self.max_wait_probability:
            return False
        if self.max_mean_wait_min is not None:
            wait_min = p_wait * s / (c - a) * MINUTES_PER_HOUR
            if wait_min > self.max_mean_wait_min:
                return False
        return True


# --------------------------------------------------------------------------------------------
# sizing
# --------------------------------------------------------------------------------------------


def max_arrival_rate(servers: int, service_time_h: float, level: ServiceLevel) -> float:
    """Largest peak arrival rate that ``servers`` chargers serve within ``level``.

    Both :math:`P(\\text{wait}) = C(c, \\lambda s)` and :math:`W_q` increase with
    :math:`\\lambda`, so the feasible rates form an interval :math:`[0, \\lambda^*]` inside
    :math:`[0, c \\mu)`. :math:`\\lambda^*` is found by bisection, keeping a feasible lower
    end and an infeasible upper end (initially :math:`c \\mu`, unstable), until
    :math:`hi - lo \\le 10^{-10} \\cdot hi`. The feasible lower end is returned, so the level
    holds at the returned rate.

    Parameters
    ----------
    servers : int
        Number of chargers :math:`c \\ge 0`.
    service_time_h : float
        Mean session length :math:`s > 0` (hours).
    level : ServiceLevel
        Service target.

    Returns
    -------
    float
        :math:`\\lambda^*` in sessions per hour; ``0.0`` for ``servers == 0``. Non-decreasing
        in ``servers``.
    """
    c = check_servers(servers)
    s = check_real(service_time_h, "service_time_h", positive=True)
    if c == 0:
        return 0.0
    lo, hi = 0.0, c / s
    for _ in range(_MAX_BISECTION_STEPS):
        if hi - lo <= RATE_RTOL * hi:
            break
        mid = 0.5 * (lo + hi)
        a = mid * s
        if a < c and level._met_stable(c, a, s, erlang_b(c, a)):
            lo = mid
        else:
            hi = mid
    return lo


def capacity_levels(
    max_servers: int, service_time_h: float, level: ServiceLevel
) -> npt.NDArray[np.float64]:
    """:func:`max_arrival_rate` for every charger count ``c = 0, 1, ..., max_servers``.

    Entry ``c`` is the peak arrival rate (sessions per hour) that ``c`` chargers serve while
    meeting ``level`` -- the exact step-function capacity of a site that installs ``c``
    chargers. All ``max_servers`` bisections run simultaneously as numpy arrays: each step
    evaluates the Erlang B recursion for every ``c`` at its own trial rate (vectorised over
    ``c``), and each bracket is frozen once it meets the same tolerance as
    :func:`max_arrival_rate`, whose results it reproduces.

    Parameters
    ----------
    max_servers : int
        Largest charger count :math:`\\ge 0`.
    service_time_h : float
        Mean session length :math:`s > 0` (hours).
    level : ServiceLevel
        Service target.

    Returns
    -------
    numpy.ndarray
        Non-decreasing float array of length ``max_servers + 1`` with ``levels[0] == 0``.
    """
    n = check_servers(max_servers, "max_servers")
    s = check_real(service_time_h, "service_time_h", positive=True)
    levels = np.zeros(n + 1, dtype=np.float64)
    if n == 0:
        return levels
    c = np.arange(1, n + 1, dtype=np.float64)
    lo = np.zeros(n, dtype=np.float64)
    hi = c / s
    p_max = level.max_wait_probability
    w_max = level.max_mean_wait_min
    for _ in range(_MAX_BISECTION_STEPS):
        active = hi - lo > RATE_RTOL * hi
        if not active.any():
            break
        mid = 0.5 * (lo + hi)
        a = mid * s
        # Erlang B recursion for all c at once: after step k, entry c-1 holds B(c, a_c)
        # for c <= k, and entries c > k keep iterating.
        blocking = np.ones(n, dtype=np.float64)
        for k in range(1, n + 1):
            ab = a[k - 1 :] * blocking[k - 1 :]
            blocking[k - 1 :] = ab / (k + ab)
        ok = a < c
        cs, as_, bs = c[ok], a[ok], blocking[ok]
        p_wait = cs * bs / (cs - as_ * (1.0 - bs))
        good = np.ones(p_wait.shape, dtype=bool)
        if p_max is not None:
            good &= p_wait <= p_max
        if w_max is not None:
            good &= p_wait * s / (cs - as_) * MINUTES_PER_HOUR <= w_max
        ok[ok] = good
        lo = np.where(active & ok, mid, lo)
        hi = np.where(active & ~ok, mid, hi)
    levels[1:] = lo
    return levels


def chargers_needed(
    arrival_rate_per_h: float,
    service_time_h: float,
    level: ServiceLevel,
    max_servers: int = 10_000,
) -> int:
    """Smallest number of chargers that meets ``level`` at a peak arrival rate.

    Scans :math:`c = 1, 2, \\ldots` with the Erlang B recursion carried along (one pass,
    :math:`O(c)` work) and returns the first stable :math:`c > a` that meets every criterion.

    Parameters
    ----------
    arrival_rate_per_h : float
        Peak arrival rate :math:`\\lambda \\ge 0` (sessions per hour).
    service_time_h : float
        Mean session length :math:`s > 0` (hours).
    level : ServiceLevel
        Service target.
    max_servers : int, default 10_000
        Largest charger count considered.

    Returns
    -------
    int
        The smallest :math:`c` with ``level.is_met(c, arrival_rate_per_h, service_time_h)``;
        ``0`` if the arrival rate is 0. Equivalently the smallest ``c`` with
        ``max_arrival_rate(c, ...) >= arrival_rate_per_h`` (up to the bisection tolerance).

    Raises
    ------
    ValueError
        If no ``c <= max_servers`` meets the level, or on invalid arguments.
    """
    lam = check_real(arrival_rate_per_h, "arrival_rate_per_h", positive=False)
    s = check_real(service_time_h, "service_time_h", positive=True)
    n = check_servers(max_servers, "max_servers")
    if lam == 0.0:
        return 0
    a = lam * s
    if a < n:
        blocking = 1.0
        for c in range(1, n + 1):
            ab = a * blocking
            blocking = ab / (c + ab)
            if a < c and level._met_stable(c, a, s, blocking):
                return c
    raise ValueError(
        f"no charger count up to max_servers={n} meets {level} at {lam:g} arrivals/h with "
        f"{s:g} h sessions (offered load {a:g} Erlangs); raise max_servers or relax the "
        "service level"
    )


def linear_chargers_needed(
    arrival_rate_per_h: float, service_time_h: float, max_utilisation: float
) -> int:
    """Chargers needed by the simple utilisation rule (no queueing effects).

    .. math:: c = \\left\\lceil \\frac{\\lambda}{\\mu \\, u_{max}} \\right\\rceil
                = \\left\\lceil \\frac{\\lambda s}{u_{max}} \\right\\rceil

    The quotient is shrunk by a relative :math:`10^{-12}` before rounding up so that
    floating-point noise on an exact integer (e.g. ``2.0000000000000004``) does not add a
    charger.

    Parameters
    ----------
    arrival_rate_per_h : float
        Peak arrival rate :math:`\\lambda \\ge 0` (sessions per hour).
    service_time_h : float
        Mean session length :math:`s > 0` (hours).
    max_utilisation : float
        Target utilisation :math:`u_{max} \\in (0, 1]`.

    Returns
    -------
    int
        Number of chargers (``0`` when nothing arrives).
    """
    lam = check_real(arrival_rate_per_h, "arrival_rate_per_h", positive=False)
    s = check_real(service_time_h, "service_time_h", positive=True)
    u = check_real(max_utilisation, "max_utilisation", positive=True)
    if u > 1.0:
        raise ValueError(f"max_utilisation must be in (0, 1], got {u}")
    return math.ceil(lam * s / u * (1.0 - 1e-12))
