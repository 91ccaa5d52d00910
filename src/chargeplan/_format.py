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
    """An amount of money: ``CNY 7.18 bn``, ``CNY 24.7 k``, ``CNY 3.00 M``."""
    if value is None or not math.isfinite(value):
        return "n/a"
    size = abs(value)
    if size >= 1e9:
        return f"CNY {value / 1e9:,.2f} bn"
    if size >= 1e6:
        return f"CNY {value / 1e6:,.2f} M"
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
