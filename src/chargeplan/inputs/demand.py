"""From zones with population and indicators to premium users and peak charging demand.

Two steps, each a plain function that returns a new GeoDataFrame with added columns:

1. :func:`allocate_premium_users`: ``users_i = T * w_i / sum(w)`` with propensity
   ``w_i = pop_i * prod_c ind_ic ** e_c`` (``e_c`` from the scenario), rounded to whole users by
   the largest-remainder method so that they add up to the target ``T`` exactly.
2. :func:`peak_demand`: daily kWh ``users_i * km * kwh_per_km``; the public share depends on
   home-charging access ``h_i = a_house * (1 - apt_i) + a_apt * apt_i``:
   ``public_i = h_i * s_home + (1 - h_i) * s_nohome``; the peak hour carries ``peak_hour_share``
   of it, split by charger type with ``charger_mix``: ``peak_kwh_<type>``.
"""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from chargeplan.config.scenario import DemandConfig, UsersConfig
from chargeplan.errors import InputError

log = logging.getLogger(__name__)


class DemandWarning(UserWarning):
    """Demand was computed with filled or dropped inputs."""


def fill_median(
    values: np.ndarray,
    *,
    source: str,
    column: str,
    index: pd.Index | None = None,
    note: str = "",
    stacklevel: int = 1,
) -> np.ndarray:
    """Missing (non-finite) values replaced by the median of the others, with a warning.

    The one place that fills missing census indicators (``users.missing_indicators =
    "fill_median"``) and apartment shares.

    Parameters
    ----------
    values
        One value per zone, as floats.
    source, column
        The zones' file and the column, named in the warning.
    index
        The zones' index; the warning names the first five zones filled (if given).
    note
        Appended to the warning, e.g. when the fill happens.
    stacklevel
        Where the warning points, counted from the caller (1: the caller's line).

    Returns
    -------
    numpy.ndarray
        ``values`` itself if none is missing, else a filled copy.

    Warns
    -----
    DemandWarning
        Naming the column, how many zones were filled and with what.
    """
    gaps = ~np.isfinite(values)
    if not gaps.any():
        return values
    fill = float(np.nanmedian(values))
    zones = "" if index is None else f" (index {index[gaps][:5].tolist()})"
    warnings.warn(
        f"{source}: '{column}' missing for {int(gaps.sum())} zone(s){zones}; "
        f"filled with the median {fill:.4g}{note}",
        DemandWarning,
        stacklevel=stacklevel + 1,
    )
    return np.where(gaps, fill, values)


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


def allocate_premium_users(
    zones: gpd.GeoDataFrame,
    users: UsersConfig,
    *,
    population_column: str,
    source: str = "zones",
) -> gpd.GeoDataFrame:
    """Spread the premium-user target over zones by a propensity weight.

    Parameters
    ----------
    zones
        Demand zones with ``population_column`` and every indicator named in
        ``users.propensity``.
    users
        Target, propensity exponents and what to do with missing indicators
        (``fill_median``: fill with the median over zones and warn; ``drop``: give those
        zones no users and warn).
    population_column
        Column with each zone's population.
    source
        Label of the zones' file, for error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``propensity`` (the weight) and ``premium_users`` (integers summing to the
        target).
    """
    missing_cols = [c for c in [population_column, *users.propensity] if c not in zones.columns]
    if missing_cols:
        raise InputError(
            f"{source}: missing column(s) {missing_cols} needed for the premium-user allocation; "
            f"fix the file or the scenario's users.propensity / zones.population_column"
        )
    out = zones.copy()
    population = out[population_column].to_numpy(dtype=float)
    bad = ~np.isfinite(population) | (population < 0)
    if bad.any():
        raise InputError(
            f"{source}: column '{population_column}' has {int(bad.sum())} missing or negative "
            f"values (rows {np.flatnonzero(bad)[:5].tolist()}): fix the population figures"
        )
    weight = population.copy()
    for column, exponent in users.propensity.items():
        values = out[column].to_numpy(dtype=float)
        if users.missing_indicators == "fill_median":
            values = fill_median(
                values, source=source, column=column, index=out.index, stacklevel=2
            )
        elif not np.isfinite(values).all():
            gaps = ~np.isfinite(values)
            names = out.index[gaps][:5].tolist()
            warnings.warn(
                f"{source}: '{column}' missing for {int(gaps.sum())} zone(s) (index {names}); "
                "they get no premium users (users.missing_indicators = 'drop')",
                DemandWarning,
                stacklevel=2,
            )
            values = np.where(gaps, 0.0, values)
        if (values < 0).any():
            raise InputError(f"{source}: column '{column}' has negative values: fix them")
        weight = weight * np.power(values, exponent, where=values > 0, out=np.zeros_like(values))
    if weight.sum() <= 0:
        raise InputError(f"{source}: every zone has zero premium-user propensity")
    out["propensity"] = weight
    out["premium_users"] = largest_remainder(weight, users.target_premium_users)
    return out


def peak_demand(
    zones: gpd.GeoDataFrame, demand: DemandConfig, *, source: str = "zones"
) -> gpd.GeoDataFrame:
    """Turn premium users into peak-hour public charging demand by charger type.

    Parameters
    ----------
    zones
        Output of :func:`allocate_premium_users` (needs ``premium_users``) with the
        apartment-share column if the scenario names one.
    demand
        Driving, home-charging, peak-hour and charger-mix assumptions.
    source
        Label of the zones' file, for error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``daily_kwh``, ``home_charging_access``, ``public_share``,
        ``public_daily_kwh``, ``peak_kwh``, one ``peak_kwh_<type>`` per charger type, and
        ``peak_kwh_per_user`` (what one more premium user adds: demand is linear in users).
    """
    out = zones.copy()
    users = out["premium_users"].to_numpy(dtype=float)
    if demand.apartment_share_column is None:
        apartments = np.zeros(len(out))
    else:
        if demand.apartment_share_column not in out.columns:
            raise InputError(
                f"{source}: missing column '{demand.apartment_share_column}' "
                "(demand.apartment_share_column); set it to a column or remove the key"
            )
        apartments = fill_median(
            out[demand.apartment_share_column].to_numpy(dtype=float),
            source=source,
            column=demand.apartment_share_column,
            stacklevel=2,
        )
        apartments = np.clip(apartments, 0.0, 1.0)
    access = (
        demand.home_charging_access_house * (1 - apartments)
        + demand.home_charging_access_apartment * apartments
    )
    public_share = (
        access * demand.public_share_with_home_charging
        + (1 - access) * demand.public_share_without_home_charging
    )
    out["peak_kwh_per_user"] = (
        demand.km_per_user_day * demand.kwh_per_km * public_share * demand.peak_hour_share
    )
    out["daily_kwh"] = users * demand.km_per_user_day * demand.kwh_per_km
    out["home_charging_access"] = access
    out["public_share"] = public_share
    out["public_daily_kwh"] = out["daily_kwh"] * public_share
    out["peak_kwh"] = out["public_daily_kwh"] * demand.peak_hour_share
    for charger_type, share in demand.charger_mix.items():
        out[f"peak_kwh_{charger_type}"] = out["peak_kwh"] * share
    return out
