"""City totals of premium users calibrated to published NEV sales, plate quotas as caps.

Given each zone's propensity weight ``w_i`` (:mod:`chargeplan.inputs.propensity`), the share of
the premium-user target ``T`` each zone gets:

- a **calibrated** city ``c`` (``[users.calibration.cities]``) gets ``s_c = sales_c / S``, its
  published NEV sales over the national figure ``S`` (``national_nev_sales``): the automaker's
  premium users are assumed to follow the NEV market's geography there; its zones split
  ``s_c`` by weight;
- the other zones share ``1 - sum_c s_c`` by weight;
- a city with a **plate quota** ``q_c`` (``[users.calibration.plate_quotas]``) gets at most
  ``q_c / S``: every premium buyer is assumed to need a new quota plate (replacement purchases
  by plate holders are not counted, so the cap is tight). A binding cap fixes the city at
  it and the excess goes to the uncapped, uncalibrated zones in proportion to their weight
  (repeated until no cap binds);
- with ``others_below_calibrated`` the calibrated cities head a published ranking (the CATARC
  2024 top three): every other city is capped at the smallest calibrated share, since it sold
  less;
- ``ranked`` cities follow them in that ranking, in order, without figures: the uncalibrated
  cities' propensity weights ``b`` are replaced by their least-squares fit under the published
  order, ``b_r1 >= b_r2 >= ... >= b_rk >= b_j`` for every other city ``j`` (isotonic
  regression on the chain of the ranked cities followed by the others by decreasing weight,
  by pooling adjacent violators: a run of cities out of order gets their mean weight, so the
  total is kept and the ranked cities end up level with, never below, the cities they must
  lead). Caps then apply as above; they may break the order (a quota that the published rank
  contradicts wins).

A city is a named city's zones, else the zones sharing an admin code (the fine cells of one
prefecture), else one zone.

:func:`whole_users` turns shares into whole users: the cities are rounded first by the
largest-remainder method, so each calibrated city gets ``T * s_c`` rounded up or down and the
total is ``T`` exactly; then each city's users are spread over its zones the same way.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import numpy as np
import pandas as pd

from chargeplan.config.users import CalibrationConfig
from chargeplan.errors import InputError
from chargeplan.inputs.finezones import grouped_largest_remainder

__all__ = [
    "city_groups",
    "city_shares",
    "largest_remainder",
    "match_city",
    "pool_adjacent_violators",
    "whole_users",
]


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers proportional to ``weights`` that add up to ``total`` exactly."""
    exact = total * weights / weights.sum()
    whole = np.floor(exact).astype(np.int64)
    short = int(total - whole.sum())
    if short > 0:
        # stable order: largest remainder first, ties by position
        order = np.lexsort((np.arange(len(exact)), -(exact - whole)))
        whole[order[:short]] += 1
    return whole


def match_city(
    city: str, names: pd.Series | None, codes: pd.Series | None, *, scenario_key: str
) -> np.ndarray:
    """The zones of a city named in the scenario, by zone name or 6-digit admin code.

    Raises
    ------
    InputError
        Naming the scenario key and the city, with the closest zone name, if none matches.
    """
    columns = [c for c in (names, codes) if c is not None]
    if not columns:
        raise InputError(
            f"scenario key '{scenario_key}' names city '{city}', but the zones have neither a "
            "name column (zones.name_column) nor an admin code (users.admin_code_column)"
        )
    found = [(c.astype(str).str.strip() == city.strip()).to_numpy(bool) for c in columns]
    mask = np.logical_or.reduce(found)
    known = [str(v) for c in columns for v in pd.unique(c.astype(str).str.strip())]
    if not mask.any():
        close = difflib.get_close_matches(city, known, n=1, cutoff=0.5)
        hint = f"; did you mean '{close[0]}'?" if close else ": give a zone name or admin code"
        raise InputError(f"scenario key '{scenario_key}': city '{city}' matches no zone{hint}")
    return mask


def city_groups(codes: pd.Series | None, named: Iterable[np.ndarray], size: int) -> np.ndarray:
    """``(Z,)`` city labels ``0..C-1``: zones sharing an admin code (fine cells of one
    prefecture) are one city, each zone without a code its own; the zones of each named city
    (``named``: masks from :func:`match_city`) become one city."""
    if codes is None:
        group = np.arange(size, dtype=np.int64)
    else:
        group = pd.factorize(codes.astype(str), sort=False)[0].astype(np.int64)
    for mask in named:
        group[mask] = group.max() + 1
    return pd.factorize(group, sort=False)[0].astype(np.int64)  # labels in zone order


def pool_adjacent_violators(values: np.ndarray) -> np.ndarray:
    """The non-increasing sequence closest to ``values`` in least squares: each run that
    breaks the order is replaced by its mean, so the sum is kept."""
    means: list[float] = []
    sizes: list[int] = []
    for value in np.asarray(values, float):
        means.append(float(value))
        sizes.append(1)
        while len(means) > 1 and means[-2] < means[-1]:
            mean, size = means.pop(), sizes.pop()
            means[-1] = (means[-1] * sizes[-1] + mean * size) / (sizes[-1] + size)
            sizes[-1] += size
    return np.repeat(means, sizes)


def _in_published_order(
    group_weight: np.ndarray, calibrated: np.ndarray, ranked: list[int]
) -> np.ndarray:
    """City weights with the ranked cities (group labels, in published order) ahead of every
    other uncalibrated city: the least-squares fit to that order."""
    first = np.asarray(ranked, np.int64)
    others = np.flatnonzero(~calibrated & ~np.isin(np.arange(len(group_weight)), first))
    chain = np.concatenate([first, others[np.argsort(-group_weight[others], kind="stable")]])
    out = group_weight.copy()
    out[chain] = pool_adjacent_violators(group_weight[chain])
    return out


def city_shares(
    weight: np.ndarray,
    calibration: CalibrationConfig,
    group: np.ndarray,
    cities: dict[str, np.ndarray],
    quotas: dict[str, np.ndarray],
    ranked: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Each zone's exact share of the premium users (see the module docstring).

    Parameters
    ----------
    weight
        ``(Z,)`` propensity weights, >= 0.
    calibration
        The scenario's ``[users.calibration]``.
    group
        ``(Z,)`` city labels from :func:`city_groups` (each named city one label).
    cities, quotas, ranked
        City name -> ``(Z,)`` mask of its zones, for the calibrated cities, the cities with
        a plate quota and the ranked cities in published order (from :func:`match_city`).

    Returns
    -------
    numpy.ndarray
        ``(Z,)`` shares adding up to 1.
    """
    national = calibration.national_nev_sales
    n_groups = int(group.max()) + 1
    limit = np.full(n_groups, np.inf)
    target = np.full(n_groups, np.nan)
    for name, mask in quotas.items():
        limit[group[mask]] = calibration.plate_quotas[name].nev_plates_per_year / national
    for name, mask in cities.items():
        target[group[mask]] = calibration.cities[name].nev_sales / national
    calibrated = np.isfinite(target)
    if calibration.others_below_calibrated and calibrated.any():
        limit[~calibrated] = np.minimum(limit[~calibrated], target[calibrated].min())
    target = np.minimum(target, limit)
    fixed = calibrated.copy()
    group_weight = np.bincount(group, weights=weight, minlength=n_groups)
    within = np.divide(weight, group_weight[group], out=np.zeros(len(weight)), where=weight > 0)
    if ranked:
        order = [int(group[mask][0]) for mask in ranked.values()]
        group_weight = _in_published_order(group_weight, calibrated, order)
    while True:
        free = ~fixed
        if group_weight[free].sum() <= 0:
            raise InputError(
                "users.calibration: the calibrated and capped cities leave premium users that "
                "no other zone can take (every other city is capped or has no propensity): "
                "raise a cap or give fewer cities"
            )
        rest = 1.0 - np.nansum(np.where(fixed, target, 0.0))
        city = np.where(fixed, target, rest * group_weight / group_weight[free].sum())
        over = free & (city > limit)
        if not over.any():
            return city[group] * within
        target[over] = limit[over]
        fixed |= over


def whole_users(share: np.ndarray, unit: Iterable[int] | np.ndarray, target: int) -> np.ndarray:
    """Whole users per zone from exact shares: units (cities) first, then their zones.

    Both levels use the largest-remainder method, so a unit gets ``target * sum(share)``
    rounded down or up, and the zones of all units add up to ``target`` exactly.
    """
    share = np.asarray(share, float)
    codes, group = np.unique(np.asarray(unit), return_inverse=True)
    unit_share = np.bincount(group, weights=share, minlength=len(codes))
    unit_users = largest_remainder(unit_share, target)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(unit_share > 0, unit_users / unit_share, 0.0)
    return grouped_largest_remainder(share * scale[group], group)
