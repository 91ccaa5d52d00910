"""Specification of the M/M/c (Erlang C) charger-sizing maths in ``chargeplan.model.queueing``.

Reference values are derived inside the tests, independently of the module: the textbook
closed forms are evaluated exactly with integers / :class:`fractions.Fraction`.

Formula source: the M/M/c results (Erlang B, Erlang C, W_q = C / (c mu - lambda)) as given in
Gross, Shortle, Thompson & Harris, *Fundamentals of Queueing Theory* (4th ed., Wiley 2008),
chapter 2 "Simple Markovian queueing models", and Kleinrock, *Queueing Systems, Vol. 1* (1975),
section 3.5 (M/M/m). The worked numbers below are done by hand from those formulas.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chargeplan.model.queueing import (
    ServiceLevel,
    capacity_levels,
    chargers_needed,
    erlang_b,
    erlang_c,
    erlang_c_table,
    linear_chargers_needed,
    max_arrival_rate,
    mean_wait,
)

# --------------------------------------------------------------------------------------------
# independent references
# --------------------------------------------------------------------------------------------


def direct_erlang_b(c: int, a: Fraction) -> Fraction:
    """B(c, a) = (a^c / c!) / sum_{k=0}^{c} a^k / k!, exactly."""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[c] / sum(terms)


def direct_erlang_c(c: int, a: Fraction) -> Fraction:
    """Textbook M/M/c P(wait), exactly (requires a < c).

    P(wait) = (a^c/c! * c/(c-a)) / (sum_{k<c} a^k/k! + a^c/c! * c/(c-a)).
    """
    assert a < c
    tail = a**c / math.factorial(c) * Fraction(c) / (c - a)
    return tail / (sum(a**k / math.factorial(k) for k in range(c)) + tail)


def direct_erlang_c_integer_load(c: int, a: int) -> Fraction:
    """Same formula for integer a, with every term multiplied by c! so all sums are integers.

    c!/k! * a^k for k = 0..c is built up exactly as term_{k+1} = term_k * a / (k + 1).
    """
    assert 0 <= a < c
    terms = [math.factorial(c)]
    for k in range(c):
        terms.append(terms[-1] * a // (k + 1))
    tail = Fraction(terms[c] * c, c - a)
    return tail / (sum(terms[:c]) + tail)


def level_holds(level: ServiceLevel, c: int, lam: float, s: float) -> bool:
    """The service level evaluated from erlang_c / mean_wait (not ServiceLevel.is_met)."""
    if lam * s >= c:
        return False
    ok = True
    if level.max_wait_probability is not None:
        ok &= erlang_c(c, lam * s) <= level.max_wait_probability
    if level.max_mean_wait_min is not None:
        ok &= mean_wait(c, lam, s) * 60.0 <= level.max_mean_wait_min
    return ok


# --------------------------------------------------------------------------------------------
# Erlang B / C against the textbook formulas
# --------------------------------------------------------------------------------------------

CASES = [
    (1, 0.5),
    (2, 1.0),
    (2, 1.9),
    (3, 2.0),
    (4, 2.0),
    (5, 4.9),
    (7, 0.01),
    (10, 7.3),
    (25, 20.0),
    (40, 39.5),
    (60, 12.25),
]


@pytest.mark.parametrize(("c", "a"), CASES)
def test_erlang_c_matches_direct_textbook_formula(c: int, a: float) -> None:
    expected = float(direct_erlang_c(c, Fraction(a)))
    assert erlang_c(c, a) == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("c", "a"), [*CASES, (3, 5.0), (8, 8.0)])
def test_erlang_b_matches_direct_formula(c: int, a: float) -> None:
    expected = float(direct_erlang_b(c, Fraction(a)))
    assert erlang_b(c, a) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_erlang_c_edge_cases() -> None:
    # Overloaded or critically loaded: every arrival waits.
    assert erlang_c(3, 3.0) == 1.0
    assert erlang_c(3, 7.5) == 1.0
    # No servers: anyone who arrives waits; if nobody arrives nobody waits.
    assert erlang_c(0, 0.2) == 1.0
    assert erlang_c(0, 0.0) == 0.0
    assert erlang_c(5, 0.0) == 0.0
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(4, 0.0) == 0.0


def test_erlang_b_published_table_value() -> None:
    # Standard Erlang B traffic tables (1 % grade of service): 10 circuits carry 4.46 Erlangs.
    assert erlang_b(10, 4.46) == pytest.approx(0.01, abs=2e-4)
    # and the exact formula agrees with the module to full precision there
    assert erlang_b(10, 4.46) == pytest.approx(float(direct_erlang_b(10, Fraction(4.46))), 1e-12)


def test_two_servers_one_erlang_waits_one_third() -> None:
    # M/M/2 with a = 1: P(wait) = (1/2 * 2/1) / (1 + 1 + 1) = 1/3.
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, rel=1e-14)
    # With lambda = 2/h and 30-minute sessions (mu = 2/h): W_q = (1/3) / (2*2 - 2) = 1/6 h.
    assert mean_wait(2, 2.0, 0.5) == pytest.approx(1 / 6, rel=1e-14)
    assert mean_wait(2, 2.0, 0.5) * 60 == pytest.approx(10.0, rel=1e-14)


def test_single_server_reduces_to_mm1() -> None:
    # M/M/1: P(wait) = rho, W_q = rho / (mu - lambda).
    lam, s = 3.0, 0.25  # mu = 4/h, rho = 0.75
    assert erlang_c(1, lam * s) == pytest.approx(0.75, rel=1e-14)
    assert mean_wait(1, lam, s) == pytest.approx(0.75 / (4.0 - 3.0), rel=1e-14)
    for rho in (0.01, 0.3, 0.5, 0.99):
        assert erlang_c(1, rho) == pytest.approx(rho, rel=1e-14)


def test_mean_wait_edge_cases() -> None:
    assert mean_wait(2, 4.0, 0.5) == math.inf  # a = 2 = c: unstable
    assert mean_wait(2, 9.0, 0.5) == math.inf
    assert mean_wait(0, 1.0, 0.5) == math.inf
    assert mean_wait(0, 0.0, 0.5) == 0.0
    assert mean_wait(3, 0.0, 0.5) == 0.0


def test_erlang_c_table_matches_pointwise_and_is_nonincreasing() -> None:
    for a in (0.0, 0.7, 3.0, 17.5, 120.0):
        table = erlang_c_table(150, a)
        assert table.shape == (151,)
        pointwise = np.array([erlang_c(c, a) for c in range(151)])
        np.testing.assert_allclose(table, pointwise, rtol=1e-14, atol=0.0)
        assert np.all(np.diff(table) <= 0.0)
    assert erlang_c_table(0, 1.0).tolist() == [1.0]
    assert erlang_c_table(0, 0.0).tolist() == [0.0]


def test_large_system_is_stable_and_accurate() -> None:
    # c = 1500 chargers, a = 1400 Erlangs: a^c / c! alone overflows a float by ~1e4000.
    expected = float(direct_erlang_c_integer_load(1500, 1400))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            p = erlang_c(1500, 1400.0)
            table = erlang_c_table(2000, 1400.0)
            b = erlang_b(2000, 1999.0)
            w = mean_wait(1500, 1400.0 / 0.5, 0.5)
            tight = erlang_c(2000, 1999.999)
            small = erlang_c(2000, 1.0)  # B underflows to 0 -> C = 0, no NaN
    assert math.isfinite(p) and 0.0 <= p <= 1.0
    assert p == pytest.approx(expected, rel=1e-12)
    assert np.all(np.isfinite(table)) and np.all((table >= 0.0) & (table <= 1.0))
    assert table[1500] == p
    assert 0.0 < b < 1.0 and math.isfinite(w) and w > 0.0
    assert 0.99 < tight <= 1.0
    assert small == 0.0


# --------------------------------------------------------------------------------------------
# service levels
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "at least one criterion"),
        ({"max_wait_probability": 0.0}, "max_wait_probability"),
        ({"max_wait_probability": -0.1}, "max_wait_probability"),
        ({"max_wait_probability": 1.5}, "max_wait_probability"),
        ({"max_wait_probability": math.nan}, "max_wait_probability"),
        ({"max_mean_wait_min": 0.0}, "max_mean_wait_min"),
        ({"max_mean_wait_min": -5.0}, "max_mean_wait_min"),
        ({"max_mean_wait_min": math.inf}, "max_mean_wait_min"),
        ({"max_wait_probability": 0.2, "max_mean_wait_min": 0.0}, "max_mean_wait_min"),
    ],
)
def test_service_level_validation(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ServiceLevel(**kwargs)


def test_service_level_valid_and_frozen() -> None:
    ServiceLevel(max_wait_probability=1.0)
    ServiceLevel(max_mean_wait_min=0.5)
    level = ServiceLevel(max_wait_probability=0.2, max_mean_wait_min=5.0)
    with pytest.raises(AttributeError):
        level.max_wait_probability = 0.5  # type: ignore[misc]


def test_is_met_requires_every_criterion() -> None:
    # c = 3, lambda = 4/h, s = 0.5 h: a = 2, P(wait) = 4/9, W_q = (4/9)/(6 - 4) h = 13.33 min.
    assert ServiceLevel(max_wait_probability=0.45).is_met(3, 4.0, 0.5)
    assert not ServiceLevel(max_wait_probability=0.44).is_met(3, 4.0, 0.5)
    assert ServiceLevel(max_mean_wait_min=13.34).is_met(3, 4.0, 0.5)
    assert not ServiceLevel(max_mean_wait_min=13.33).is_met(3, 4.0, 0.5)
    both = ServiceLevel(max_wait_probability=0.45, max_mean_wait_min=13.33)
    assert not both.is_met(3, 4.0, 0.5)
    assert not ServiceLevel(max_wait_probability=1.0).is_met(2, 4.0, 0.5)  # unstable
    assert ServiceLevel(max_wait_probability=0.01).is_met(0, 0.0, 0.5)


# --------------------------------------------------------------------------------------------
# max_arrival_rate
# --------------------------------------------------------------------------------------------


def test_max_arrival_rate_closed_forms() -> None:
    s = 0.5  # mu = 2/h
    # M/M/1, P(wait) = rho <= p  =>  lambda* = p * mu.
    assert max_arrival_rate(1, s, ServiceLevel(max_wait_probability=0.8)) == pytest.approx(
        1.6, rel=1e-9
    )
    # M/M/1, W_q = lambda / (mu (mu - lambda)) <= w  =>  lambda* = w mu^2 / (1 + w mu).
    w = 6.0 / 60.0  # 6 minutes in hours
    assert max_arrival_rate(1, s, ServiceLevel(max_mean_wait_min=6.0)) == pytest.approx(
        w * 4.0 / (1.0 + w * 2.0), rel=1e-9
    )
    # M/M/2: P(wait) = a^2 / (2 + a) <= p  =>  a* = (p + sqrt(p^2 + 8p)) / 2.
    p = 0.3
    a_star = (p + math.sqrt(p * p + 8 * p)) / 2
    assert erlang_c(2, a_star) == pytest.approx(p, rel=1e-12)  # the closed form itself
    assert max_arrival_rate(2, s, ServiceLevel(max_wait_probability=p)) == pytest.approx(
        a_star / s, rel=1e-9
    )
    # P(wait) <= 1 only asks for stability: lambda* -> c mu from below.
    rate = max_arrival_rate(4, s, ServiceLevel(max_wait_probability=1.0))
    assert rate < 8.0
    assert rate == pytest.approx(8.0, rel=1e-9)


LEVELS = [
    ServiceLevel(max_wait_probability=0.2),
    ServiceLevel(max_wait_probability=0.8),
    ServiceLevel(max_mean_wait_min=2.0),
    ServiceLevel(max_mean_wait_min=30.0),
    ServiceLevel(max_wait_probability=0.5, max_mean_wait_min=3.0),
    ServiceLevel(max_wait_probability=0.05, max_mean_wait_min=60.0),
]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(("c", "s"), [(1, 0.5), (2, 1.0), (5, 0.75), (12, 0.4), (80, 2.0)])
def test_max_arrival_rate_is_the_boundary(level: ServiceLevel, c: int, s: float) -> None:
    rate = max_arrival_rate(c, s, level)
    assert 0.0 < rate < c / s
    assert level_holds(level, c, rate, s)
    assert level.is_met(c, rate, s)
    assert not level_holds(level, c, rate * 1.0001, s)
    assert not level.is_met(c, rate * 1.0001, s)


def test_max_arrival_rate_zero_servers_and_monotone() -> None:
    level = ServiceLevel(max_wait_probability=0.2, max_mean_wait_min=5.0)
    assert max_arrival_rate(0, 0.5, level) == 0.0
    rates = [max_arrival_rate(c, 0.5, level) for c in range(40)]
    assert all(r1 < r2 for r1, r2 in itertools.pairwise(rates))


# --------------------------------------------------------------------------------------------
# capacity_levels and chargers_needed
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
def test_capacity_levels_step_function(level: ServiceLevel) -> None:
    s = 0.75
    levels = capacity_levels(60, s, level)
    assert levels.shape == (61,)
    assert levels[0] == 0.0
    assert np.all(np.diff(levels) > 0.0)
    assert np.all(levels[1:] < np.arange(1, 61) / s)  # always strictly stable
    for c in (1, 2, 3, 10, 33, 60):
        assert levels[c] == pytest.approx(max_arrival_rate(c, s, level), rel=1e-12)
    for c in range(1, 61):
        # just below level c, c chargers suffice and c - 1 do not; just above, c do not.
        assert chargers_needed(levels[c] * 0.999999, s, level) == c
        assert chargers_needed(levels[c] * 1.0001, s, level) > c


def test_capacity_levels_500_is_fast() -> None:
    level = ServiceLevel(max_wait_probability=0.2, max_mean_wait_min=5.0)
    start = time.perf_counter()
    levels = capacity_levels(500, 0.5, level)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0
    assert levels.shape == (501,) and np.all(np.diff(levels) > 0.0)
    assert levels[500] == pytest.approx(max_arrival_rate(500, 0.5, level), rel=1e-12)
    assert capacity_levels(0, 0.5, level).tolist() == [0.0]


def test_chargers_needed_basics() -> None:
    level = ServiceLevel(max_wait_probability=0.2)
    assert chargers_needed(0.0, 0.5, level) == 0
    # a = 2 Erlangs: P(wait) = 4/9 with 3 chargers, 4/23 with 4 (see the comparison below).
    assert chargers_needed(4.0, 0.5, level) == 4
    assert not level.is_met(3, 4.0, 0.5) and level.is_met(4, 4.0, 0.5)
    # Only stability asked: the smallest c > a.
    assert chargers_needed(4.0, 0.5, ServiceLevel(max_wait_probability=1.0)) == 3
    assert chargers_needed(4.2, 0.5, ServiceLevel(max_wait_probability=1.0)) == 3
    with pytest.raises(ValueError, match="max_servers=3"):
        chargers_needed(4.0, 0.5, level, max_servers=3)
    with pytest.raises(ValueError, match="max_servers=1"):
        chargers_needed(40.0, 0.5, level, max_servers=1)
    # large site: 1400 Erlangs
    big = chargers_needed(2800.0, 0.5, level)
    assert 1400 < big < 1500
    assert level.is_met(big, 2800.0, 0.5) and not level.is_met(big - 1, 2800.0, 0.5)


def test_erlang_rule_needs_more_chargers_than_linear_rule_at_a_small_site() -> None:
    # 4 arrivals/h, 30-minute sessions: a = lambda * s = 2 Erlangs.
    lam, s = 4.0, 0.5
    # Linear rule at 80 % utilisation: ceil(2 / 0.8) = ceil(2.5) = 3 chargers.
    assert linear_chargers_needed(lam, s, 0.8) == 3
    # With 3 chargers (rho = 2/3): P(wait) = (8/6 * 3/1) / (1 + 2 + 2 + 4) = 4/9 = 44 %,
    # W_q = (4/9) / (3*2 - 4) h = 2/9 h = 13.3 min.
    assert float(direct_erlang_c(3, Fraction(2))) == pytest.approx(4 / 9, rel=1e-15)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-12)
    assert mean_wait(3, lam, s) * 60 == pytest.approx(40 / 3, rel=1e-12)
    # With 4 chargers: P(wait) = (16/24 * 4/2) / (1 + 2 + 2 + 4/3 + 4/3) = 4/23 = 17 %,
    # W_q = (4/23) / (8 - 4) h = 1/23 h = 2.6 min.
    assert erlang_c(4, 2.0) == pytest.approx(4 / 23, rel=1e-12)
    assert mean_wait(4, lam, s) * 60 == pytest.approx(60 / 23, rel=1e-12)
    # So "at most 20 % wait" or "mean wait at most 5 min" needs 4 chargers, not 3.
    assert chargers_needed(lam, s, ServiceLevel(max_wait_probability=0.2)) == 4
    assert chargers_needed(lam, s, ServiceLevel(max_mean_wait_min=5.0)) == 4
    # At a large site the two rules come together: 160 Erlangs at 80 % -> 200 chargers,
    # and Erlang C with a 20 % wait probability needs fewer than that.
    assert linear_chargers_needed(320.0, s, 0.8) == 200
    assert chargers_needed(320.0, s, ServiceLevel(max_wait_probability=0.2)) < 200


def test_linear_chargers_needed_rounding_and_validation() -> None:
    assert linear_chargers_needed(0.0, 0.5, 0.8) == 0
    assert linear_chargers_needed(2.4, 1.0, 0.8) == 3  # 2.4 / 0.8 is 2.9999999999999996
    assert linear_chargers_needed(2.1, 1.0, 0.7) == 3  # 2.1 / 0.7 is 3.0000000000000004
    assert linear_chargers_needed(3.01, 1.0, 1.0) == 4
    with pytest.raises(ValueError, match="max_utilisation"):
        linear_chargers_needed(1.0, 1.0, 1.5)
    with pytest.raises(ValueError, match="max_utilisation"):
        linear_chargers_needed(1.0, 1.0, 0.0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: erlang_b(-1, 1.0),
        lambda: erlang_b(2.5, 1.0),  # type: ignore[arg-type]
        lambda: erlang_c(True, 1.0),  # type: ignore[arg-type]
        lambda: erlang_c(2, -1.0),
        lambda: erlang_c(2, math.nan),
        lambda: erlang_c_table(-1, 1.0),
        lambda: mean_wait(2, 1.0, 0.0),
        lambda: mean_wait(2, math.inf, 1.0),
        lambda: max_arrival_rate(2, -0.5, ServiceLevel(max_wait_probability=0.5)),
        lambda: capacity_levels(10, 0.0, ServiceLevel(max_wait_probability=0.5)),
        lambda: chargers_needed(-1.0, 0.5, ServiceLevel(max_wait_probability=0.5)),
    ],
)
def test_invalid_arguments_raise_value_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

probabilities = st.one_of(st.none(), st.floats(0.01, 1.0))
wait_minutes = st.one_of(st.none(), st.floats(0.1, 120.0))
shrink = st.floats(0.05, 1.0)


@settings(max_examples=150, deadline=None)
@given(
    lam=st.floats(0.0, 400.0),
    s=st.floats(0.1, 4.0),
    p=probabilities,
    w=wait_minutes,
    p_factor=shrink,
    w_factor=shrink,
    add_p=st.booleans(),
    add_w=st.booleans(),
)
def test_tightening_the_service_level_never_reduces_chargers(
    lam: float,
    s: float,
    p: float | None,
    w: float | None,
    p_factor: float,
    w_factor: float,
    add_p: bool,
    add_w: bool,
) -> None:
    if p is None and w is None:
        p = 0.5
    loose = ServiceLevel(max_wait_probability=p, max_mean_wait_min=w)
    # Tighten: shrink each given bound, and possibly add a criterion that was absent.
    tight_p = p * p_factor if p is not None else (0.5 if add_p else None)
    tight_w = w * w_factor if w is not None else (10.0 if add_w else None)
    tight = ServiceLevel(max_wait_probability=tight_p, max_mean_wait_min=tight_w)
    n_loose = chargers_needed(lam, s, loose)
    n_tight = chargers_needed(lam, s, tight)
    assert n_tight >= n_loose
    assert n_loose >= (1 if lam > 0 else 0) and n_loose > lam * s - 1e-9
    assert loose.is_met(n_loose, lam, s)


@settings(max_examples=40, deadline=None)
@given(s=st.floats(0.1, 4.0), p=probabilities, w=wait_minutes, fraction=st.floats(0.0, 0.999))
def test_capacity_levels_property(
    s: float, p: float | None, w: float | None, fraction: float
) -> None:
    if p is None and w is None:
        w = 5.0
    level = ServiceLevel(max_wait_probability=p, max_mean_wait_min=w)
    levels = capacity_levels(25, s, level)
    assert levels[0] == 0.0
    assert np.all(np.diff(levels) >= 0.0)
    for c in range(26):
        assert chargers_needed(levels[c] * 0.999999, s, level) <= c
        # any rate between two levels needs exactly the upper level's charger count
        if c >= 1:
            rate = levels[c - 1] + fraction * (levels[c] - levels[c - 1])
            if rate > levels[c - 1] * (1 + 1e-9):
                assert chargers_needed(rate, s, level) == c
