"""M/M/c (Erlang C) queueing maths for sizing the chargers at one site for the peak hour.

A site with ``c`` identical chargers is modelled as an M/M/c queue: sessions arrive as a
Poisson stream of rate :math:`\\lambda` (sessions per hour), occupy a charger for an
exponentially distributed time with mean :math:`s = 1/\\mu` hours, and wait in one shared
queue when every charger is busy. The offered load is :math:`a = \\lambda / \\mu = \\lambda s`
Erlangs and the utilisation :math:`\\rho = a / c`. The queue is stable only for :math:`a < c`.

Units used throughout
---------------------
* arrival rates: sessions per hour;
* service (session) times and the result of :func:`mean_wait`: hours;
* :class:`ServiceLevel` mean-wait targets: minutes.

Numerics
--------
Erlang B is computed by the recursion

.. math:: B(0, a) = 1, \\qquad B(k, a) = \\frac{a B(k-1, a)}{k + a B(k-1, a)},

whose terms stay in :math:`[0, 1]`, so it neither overflows nor loses accuracy for thousands
of servers and thousands of Erlangs (no factorials or powers are formed). Erlang C is derived
from it as

.. math:: C(c, a) = \\frac{c B(c, a)}{c - a (1 - B(c, a))} \\quad (a < c),
          \\qquad C(c, a) = 1 \\quad (a \\ge c).
"""

from __future__ import annotations

import math
import operator
from numbers import Real

import numpy as np
import numpy.typing as npt

__all__ = ["erlang_b", "erlang_c", "erlang_c_table", "mean_wait"]

MINUTES_PER_HOUR = 60.0


# --------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------


def check_servers(servers: int, name: str = "servers") -> int:
    """``servers`` as an ``int`` >= 0, or a ``ValueError`` naming ``name``."""
    if isinstance(servers, bool):
        raise ValueError(f"{name} must be a non-negative integer, got {servers!r}")
    try:
        value = operator.index(servers)
    except TypeError:
        raise ValueError(f"{name} must be a non-negative integer, got {servers!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value}")
    return value


def check_real(value: float, name: str, *, positive: bool) -> float:
    """``value`` as a finite ``float`` (> 0 if ``positive``, else >= 0), or a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number}")
    if positive and number <= 0.0:
        raise ValueError(f"{name} must be > 0, got {number}")
    if not positive and number < 0.0:
        raise ValueError(f"{name} must be >= 0, got {number}")
    return number


# --------------------------------------------------------------------------------------------
# Erlang B / Erlang C
# --------------------------------------------------------------------------------------------


def erlang_c_from_b(servers: int, offered_load: float, blocking: float) -> float:
    """Erlang C from Erlang B for ``servers > offered_load`` (no checks)."""
    return servers * blocking / (servers - offered_load * (1.0 - blocking))


def erlang_b(servers: int, offered_load: float) -> float:
    """Erlang B blocking probability of an M/M/c/c loss system.

    .. math:: B(c, a) = \\frac{a^c / c!}{\\sum_{k=0}^{c} a^k / k!},

    evaluated by the numerically stable recursion :math:`B(0, a) = 1`,
    :math:`B(k, a) = a B(k-1, a) / (k + a B(k-1, a))`.

    Parameters
    ----------
    servers : int
        Number of servers :math:`c \\ge 0`.
    offered_load : float
        Offered load :math:`a = \\lambda / \\mu \\ge 0` in Erlangs.

    Returns
    -------
    float
        :math:`B(c, a) \\in [0, 1]`; ``1.0`` for ``servers == 0``.

    Raises
    ------
    ValueError
        If ``servers`` is not a non-negative integer or ``offered_load`` is negative or not
        finite.
    """
    c = check_servers(servers)
    a = check_real(offered_load, "offered_load", positive=False)
    blocking = 1.0
    for k in range(1, c + 1):
        ab = a * blocking
        blocking = ab / (k + ab)
    return blocking


def erlang_c(servers: int, offered_load: float) -> float:
    """Erlang C: probability that an arrival to an M/M/c queue has to wait.

    .. math::
        C(c, a) = \\frac{\\frac{a^c}{c!} \\frac{c}{c - a}}
                       {\\sum_{k=0}^{c-1} \\frac{a^k}{k!} + \\frac{a^c}{c!} \\frac{c}{c - a}}
                = \\frac{c B(c, a)}{c - a (1 - B(c, a))}, \\qquad a < c,

    and :math:`C(c, a) = 1` for :math:`a \\ge c` (unstable: every arrival eventually waits).

    Parameters
    ----------
    servers : int
        Number of servers :math:`c \\ge 0`.
    offered_load : float
        Offered load :math:`a = \\lambda / \\mu \\ge 0` in Erlangs.

    Returns
    -------
    float
        :math:`C(c, a) \\in [0, 1]`. With no servers it is ``1.0`` if ``offered_load > 0``
        and ``0.0`` otherwise (nobody arrives, so nobody waits).

    Raises
    ------
    ValueError
        On invalid arguments (see :func:`erlang_b`).
    """
    c = check_servers(servers)
    a = check_real(offered_load, "offered_load", positive=False)
    if c == 0:
        return 1.0 if a > 0.0 else 0.0
    if a >= c:
        return 1.0
    return erlang_c_from_b(c, a, erlang_b(c, a))


def erlang_c_table(max_servers: int, offered_load: float) -> npt.NDArray[np.float64]:
    """Erlang C for every server count ``c = 0, 1, ..., max_servers`` in one pass.

    One run of the Erlang B recursion gives :math:`B(c, a)` for all ``c``; the conversion
    :math:`C = c B / (c - a (1 - B))` (for :math:`a < c`, else 1) is vectorised.

    Parameters
    ----------
    max_servers : int
        Largest server count :math:`\\ge 0`.
    offered_load : float
        Offered load :math:`a \\ge 0` in Erlangs.

    Returns
    -------
    numpy.ndarray
        Float array of length ``max_servers + 1`` whose entry ``c`` equals
        ``erlang_c(c, offered_load)``; it is non-increasing in ``c``.
    """
    n = check_servers(max_servers, "max_servers")
    a = check_real(offered_load, "offered_load", positive=False)
    blocking = np.empty(n + 1, dtype=np.float64)
    b = 1.0
    blocking[0] = b
    for k in range(1, n + 1):
        ab = a * b
        b = ab / (k + ab)
        blocking[k] = b
    servers = np.arange(n + 1, dtype=np.float64)
    table = np.ones(n + 1, dtype=np.float64)
    stable = servers > a  # excludes c = 0
    cs, bs = servers[stable], blocking[stable]
    table[stable] = cs * bs / (cs - a * (1.0 - bs))
    if a == 0.0:
        table[0] = 0.0  # no servers, but nobody arrives either
    return table


def mean_wait(servers: int, arrival_rate_per_h: float, service_time_h: float) -> float:
    """Mean time an arrival spends waiting in the queue (before charging), in hours.

    .. math::
        W_q = \\frac{C(c, a)}{c \\mu - \\lambda} = \\frac{C(c, a)\\, s}{c - a},
        \\qquad \\mu = 1/s, \\; a = \\lambda s,

    and :math:`W_q = \\infty` when the queue is unstable (:math:`a \\ge c`).

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
    float
        :math:`W_q` in hours; ``0.0`` if nothing arrives, ``math.inf`` if unstable.
    """
    c = check_servers(servers)
    lam = check_real(arrival_rate_per_h, "arrival_rate_per_h", positive=False)
    s = check_real(service_time_h, "service_time_h", positive=True)
    if lam == 0.0:
        return 0.0
    a = lam * s
    if a >= c:
        return math.inf
    return erlang_c(c, a) * s / (c - a)
