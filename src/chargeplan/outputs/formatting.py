"""Numbers as a planner reads them: ``467 k users``, ``CNY 7.18 bn``, ``97.4 %``."""

from __future__ import annotations

import math


def count(value: float | None) -> str:
    """A count with a magnitude suffix: ``312``, ``4.3 k``, ``467 k``, ``20.0 M``.

    Examples
    --------
    >>> count(312.4), count(4_321), count(466_812), count(20_000_000)
    ('312', '4.3 k', '467 k', '20.0 M')
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:,.1f} M"
    if size >= 1e4:
        return f"{value / 1e3:,.0f} k"
    if size >= 1e3:
        return f"{value / 1e3:,.1f} k"
    return f"{value:,.0f}"


def cny(value: float | None) -> str:
    """An amount of money: ``CNY 7.18 bn``, ``CNY 657 M``, ``CNY 3.00 M``, ``CNY 24.7 k``.

    Examples
    --------
    >>> cny(13.06e9), cny(657e6), cny(24.7e6), cny(3e6), cny(24_700), cny(950)
    ('CNY 13.06 bn', 'CNY 657 M', 'CNY 24.7 M', 'CNY 3.00 M', 'CNY 24.7 k', 'CNY 950')
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    size = abs(value)
    if size >= 1e9:
        return f"CNY {value / 1e9:,.2f} bn"
    if size >= 1e6:  # three significant figures: CNY 657 M, 24.7 M, 3.00 M
        digits = 2 - min(int(math.log10(size / 1e6)), 2)
        return f"CNY {value / 1e6:,.{digits}f} M"
    if size >= 1e4:
        return f"CNY {value / 1e3:,.1f} k"
    return f"CNY {value:,.0f}"


def share(value: float | None, digits: int = 1) -> str:
    """A share as a percentage: ``97.4 %``."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{100 * value:.{digits}f} %"


def kwh(value: float | None) -> str:
    """Energy: ``5.58 GWh``, ``144.6 MWh``, ``926 kWh``."""
    if value is None or not math.isfinite(value):
        return "n/a"
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:,.2f} GWh"
    if size >= 1e3:
        return f"{value / 1e3:,.1f} MWh"
    return f"{value:,.0f} kWh"


def scale(maximum: float) -> tuple[float, str]:
    """A divisor and its word for an axis whose values reach ``maximum``.

    Examples
    --------
    >>> scale(13.06e9), scale(24_700), scale(57)
    ((1000000000.0, 'billion'), (1000.0, 'thousand'), (1.0, ''))
    """
    for divisor, word in ((1e9, "billion"), (1e6, "million"), (1e3, "thousand")):
        if abs(maximum) >= divisor:
            return divisor, word
    return 1.0, ""


def money_scale(maximum: float) -> tuple[float, str]:
    """Like :func:`scale`, for yuan: ``(1e9, 'CNY bn')``, ``(1e3, 'CNY k')``, ``(1, 'CNY')``."""
    divisor, word = scale(maximum)
    return divisor, {"billion": "CNY bn", "million": "CNY M", "thousand": "CNY k"}.get(word, "CNY")
