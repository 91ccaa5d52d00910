"""From zones with population and indicators to premium users and peak charging demand.

Two steps, each a plain function that returns a new GeoDataFrame with added columns:

1. :func:`allocate_premium_users`: ``users_i = T * w_i / sum(w)`` with propensity
   ``w_i = pop_i * prod_c ind_ic ** e_c`` (``e_c`` from the scenario), or with the census
   county table ``w_i = U_i p_urban,i + R_i p_rural,i`` summed over the zone's counties
   (:mod:`~chargeplan.inputs.propensity`); zones without census figures take a proxy's;
   calibrated cities get their share of published NEV sales, plate quotas cap cities
   (:mod:`~chargeplan.inputs.calibration`); rounded to whole users by the largest-remainder
   method, cities first, so that they add up to the target ``T`` exactly (``docs/demand.md``).
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
from chargeplan.inputs.calibration import (
    city_groups,
    city_shares,
    largest_remainder,
    match_city,
    whole_users,
)
from chargeplan.inputs.propensity import county_propensity, per_person, read_county_indicators

log = logging.getLogger(__name__)

__all__ = [
    "DemandWarning",
    "allocate_premium_users",
    "fill_median",
    "largest_remainder",
    "peak_demand",
]


class DemandWarning(UserWarning):
    """Demand was computed with filled or dropped inputs."""


def zone_labels(zones: pd.DataFrame, name_column: str | None) -> pd.Index:
    """How a warning names each zone: ``"三沙市 (460300)"`` with a name column, else its id."""
    ids = zones.index.astype(str)
    if not name_column or name_column not in zones.columns:
        return pd.Index(ids)
    names = zones[name_column].astype(str).to_numpy()
    return pd.Index([f"{n} ({i})" for n, i in zip(names, ids, strict=True)])


def named_zones(labels: pd.Index, mask: np.ndarray, most: int = 5) -> str:
    """The first ``most`` labels of ``mask``, comma-separated, ``and N more`` after them."""
    chosen = [str(label) for label in labels[mask]]
    more = f" and {len(chosen) - most} more" if len(chosen) > most else ""
    return ", ".join(chosen[:most]) + more


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
    zones = "" if index is None else f" ({named_zones(index, gaps)})"
    warnings.warn(
        f"{source}: '{column}' missing for {int(gaps.sum())} zone(s){zones}; "
        f"filled with the median {fill:.4g}{note}",
        DemandWarning,
        stacklevel=stacklevel + 1,
    )
    return np.where(gaps, fill, values)


def allocate_premium_users(
    zones: gpd.GeoDataFrame,
    users: UsersConfig,
    *,
    population_column: str,
    source: str = "zones",
    name_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Spread the premium-user target over zones by propensity, calibrated to city NEV sales.

    Parameters
    ----------
    zones
        Demand zones (or fine cells) with ``population_column``, every indicator named in
        ``users.propensity`` and, with a county table, ``users.admin_code_column`` and
        ``users.urban_population_column``.
    users
        Target, propensity exponents, the county table, proxies for zones without census
        figures (Hong Kong, Macao), what to do with other missing indicators (``fill_median``:
        the median over zones; ``drop``: no users; a warning either way) and the calibration.
    population_column
        Column with each zone's population.
    source
        Label of the zones' file, for error messages.
    name_column
        The zones' names, for the cities named in ``users.proxies`` and ``users.calibration``
        (they may also be named by admin code).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``propensity_urban_pp`` and ``propensity_rural_pp`` (per person),
        ``propensity`` (the zone's weight ``U * p_urban + R * p_rural``), ``premium_share``
        (its exact share of the target), ``premium_unit`` (its city, the unit rounded first:
        a named city's zones, else the zones of one admin code, else the zone) and
        ``premium_users`` (integers summing to the target).
    """
    missing_cols = [c for c in [population_column, *users.propensity] if c not in zones.columns]
    if users.county_indicators is not None:
        missing_cols += [c for c in [users.admin_code_column] if c not in zones.columns]
    if missing_cols:
        raise InputError(
            f"{source}: missing column(s) {missing_cols} needed for the premium-user allocation; "
            f"fix the file or the scenario's users.propensity / users.admin_code_column / "
            "zones.population_column"
        )
    out = zones.copy()
    population = out[population_column].to_numpy(dtype=float)
    bad = ~np.isfinite(population) | (population < 0)
    if bad.any():
        raise InputError(
            f"{source}: column '{population_column}' has {int(bad.sum())} missing or negative "
            f"values (rows {np.flatnonzero(bad)[:5].tolist()}): fix the population figures"
        )
    if population.sum() <= 0:
        raise InputError(
            f"{source}: column '{population_column}' (zones.population_column) is zero in "
            "every zone: no one to plan for; check the column the scenario names"
        )
    names = out[name_column] if name_column and name_column in out.columns else None
    codes = _admin_codes(out, users)
    p_urban, p_rural = _person_propensity(out, users, names, codes, source)
    urban = _urban_people(out, users, population)
    weight = np.where(
        p_urban == p_rural, population * p_rural, p_urban * urban + p_rural * (population - urban)
    )
    if weight.sum() <= 0:
        raise InputError(
            f"{source}: every zone has zero premium-user propensity (the product of the "
            f"indicators {sorted(users.propensity)} of users.propensity): check those columns"
        )
    share, unit = _shares(weight, users, names, codes)
    out["propensity_urban_pp"] = p_urban
    out["propensity_rural_pp"] = p_rural
    out["propensity"] = weight
    out["premium_share"] = share
    out["premium_unit"] = unit
    out["premium_users"] = whole_users(share, unit, users.target_premium_users)
    return out


def _admin_codes(zones: gpd.GeoDataFrame, users: UsersConfig) -> pd.Series | None:
    """The zones' 6-digit admin codes as text (``None`` if the zones have none)."""
    if users.admin_code_column not in zones.columns:
        return None
    raw = zones[users.admin_code_column]
    if pd.api.types.is_float_dtype(raw):
        raw = raw.round().astype("Int64")
    return raw.astype(str).str.strip().str.zfill(6)


def _urban_people(
    zones: gpd.GeoDataFrame, users: UsersConfig, population: np.ndarray
) -> np.ndarray:
    """Each zone's urban people (all of them where the figure is missing: Hong Kong, Macao)."""
    column = users.urban_population_column
    if not column or column not in zones.columns:
        return population
    urban = pd.to_numeric(zones[column], errors="coerce").to_numpy(float)
    return np.clip(np.where(np.isfinite(urban), urban, population), 0.0, population)


def _person_propensity(
    zones: gpd.GeoDataFrame,
    users: UsersConfig,
    names: pd.Series | None,
    codes: pd.Series | None,
    source: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-person urban and rural propensity: counties, then proxies, then the zone's own
    indicators (filled or dropped as ``users.missing_indicators`` says)."""
    p_urban = np.full(len(zones), np.nan)
    p_rural = np.full(len(zones), np.nan)
    if users.county_indicators is not None and codes is not None:
        table = read_county_indicators(users.county_indicators, [*users.propensity])
        p_urban, p_rural = county_propensity(codes, table, dict(users.propensity))
    for city, proxy in users.proxies.items():
        mask = match_city(city, names, codes, scenario_key="users.proxies")
        like = match_city(proxy, names, codes, scenario_key=f"users.proxies.{city}")
        own = per_person(zones[like], dict(users.propensity))
        figures = [
            float(np.nanmean(np.where(np.isfinite(p_urban[like]), p_urban[like], own))),
            float(np.nanmean(np.where(np.isfinite(p_rural[like]), p_rural[like], own))),
        ]
        if not np.all(np.isfinite(figures)):
            raise InputError(f"scenario key 'users.proxies.{city}': '{proxy}' has no figures")
        had = (
            "overrides its census indicators"
            if np.isfinite(p_urban[mask]).all()
            else ("has no census indicators")
        )
        p_urban[mask], p_rural[mask] = figures
        warnings.warn(
            f"{source}: '{city}' ({int(mask.sum())} zone(s)) {had}; it takes the propensity "
            f"per person of '{proxy}' ({figures[0]:.4g} urban, {figures[1]:.4g} rural), as "
            "users.proxies says",
            DemandWarning,
            stacklevel=3,
        )
    need = ~(np.isfinite(p_urban) & np.isfinite(p_rural))
    if need.any():
        labels = zone_labels(zones, names.name if names is not None else None)
        own = _own_propensity(zones, users, need, source, labels)
        p_urban = np.where(need, own, p_urban)
        p_rural = np.where(need, own, p_rural)
    return p_urban, p_rural


def _own_propensity(
    zones: gpd.GeoDataFrame, users: UsersConfig, need: np.ndarray, source: str, labels: pd.Index
) -> np.ndarray:
    """``prod_c ind_c ** e_c`` from the zones' own columns, for the zones of ``need``; the
    missing values among them filled with the median over all zones or dropped
    (``users.missing_indicators``), with a warning that names them and says which."""
    weight = np.ones(len(zones))
    for column, exponent in users.propensity.items():
        values = zones[column].to_numpy(dtype=float)
        gaps = ~np.isfinite(values) & need
        if gaps.any():
            if users.missing_indicators == "fill_median":
                fill = float(np.nanmedian(values)) if np.isfinite(values).any() else 0.0
                done = f"filled with the median {fill:.4g}"
            else:
                fill, done = 0.0, "they get no premium users (users.missing_indicators = 'drop')"
            warnings.warn(
                f"{source}: '{column}' missing for {int(gaps.sum())} zone(s) "
                f"({named_zones(labels, gaps)}) and no county figure or proxy; {done}",
                DemandWarning,
                stacklevel=4,
            )
            values = np.where(gaps, fill, values)
        if (values[need] < 0).any():
            raise InputError(f"{source}: column '{column}' has negative values: fix them")
        weight = weight * np.power(values, exponent, where=values > 0, out=np.zeros_like(values))
    return weight


def _shares(
    weight: np.ndarray, users: UsersConfig, names: pd.Series | None, codes: pd.Series | None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact shares and cities (rounding units): calibrated and capped, or by propensity."""
    calibration = users.calibration
    if calibration is None:
        return weight / weight.sum(), city_groups(codes, [], len(weight))
    key = "users.calibration"
    cities = {
        c: match_city(c, names, codes, scenario_key=f"{key}.cities") for c in calibration.cities
    }
    quotas = {
        c: match_city(c, names, codes, scenario_key=f"{key}.plate_quotas")
        for c in calibration.plate_quotas
    }
    ranked = {
        c: match_city(c, names, codes, scenario_key=f"{key}.ranked") for c in calibration.ranked
    }
    named = [*quotas.values(), *ranked.values(), *cities.values()]
    group = city_groups(codes, named, len(weight))
    return city_shares(weight, calibration, group, cities, quotas, ranked), group


def peak_demand(
    zones: gpd.GeoDataFrame,
    demand: DemandConfig,
    *,
    source: str = "zones",
    name_column: str | None = None,
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
    name_column
        The zones' name column: a warning names the zones it concerns by it (and their id).

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
            index=zone_labels(out, name_column),
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
