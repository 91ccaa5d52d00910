"""Per-person premium-user propensity of each zone, urban and rural people apart.

A person's propensity is ``p = prod_c ind_c ** e_c`` over the scenario's indicators
(``users.propensity``, e.g. car-owning households x bachelor's degrees). With the census county
table (``users.county_indicators``) a prefecture's propensity is summed over its counties
instead of taken from its averages: affluent districts have both more cars and more graduates,
so ``sum_k pop_k p_k`` is larger than ``pop * p(mean ind)`` where they concentrate. Each
county's people are split into urban (``u_k = urban_share_k * pop_k``) and rural, and

    p_urban = sum_k u_k p_k / sum_k u_k,    p_rural = sum_k r_k p_k / sum_k r_k,   r_k = pop_k - u_k

so that ``U * p_urban + R * p_rural`` equals ``sum_k pop_k p_k`` up to the zone's own census
figures (U, R: the zone's urban and rural people). The county table has no geometry, so a fine
H3 cell cannot be matched to its county: it takes its prefecture's ``p_urban`` for its urban
people and ``p_rural`` for its rural ones (:mod:`chargeplan.inputs.finezones` splits them).
Within one county urban people count as rich as rural ones: the urban/rural contrast is
understated.

Zones the table does not cover (Hong Kong and Macao: the census covers neither) get NaN here;
:func:`chargeplan.inputs.demand.allocate_premium_users` gives them the propensity of the zone
the scenario names for them (``users.proxies``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from chargeplan.errors import InputError

__all__ = ["county_propensity", "per_person", "read_county_indicators"]


def read_county_indicators(path: Path, columns: list[str]) -> pd.DataFrame:
    """The county table with 6-digit text ``code``, ``yb_pop_2020``, ``urban_share`` and
    ``columns``; raises :class:`InputError` naming the file for anything missing."""
    try:
        table = pd.read_csv(path, dtype={"code": str})
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot be read as CSV ({error})") from None
    need = ["code", "yb_pop_2020", "urban_share", *columns]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {missing} (users.county_indicators); it has "
            f"{list(table.columns)[:12]}"
        )
    table["code"] = table["code"].astype(str).str.strip().str.zfill(6)
    bad = ~table["code"].str.fullmatch(r"\d{6}")
    if bad.any():
        raise InputError(f"{path}: codes {table['code'][bad][:5].tolist()} are not 6 digits")
    return table


def per_person(table: pd.DataFrame, exponents: dict[str, float]) -> np.ndarray:
    """``prod_c ind_c ** e_c`` per row; NaN where an indicator is missing or negative."""
    p = np.ones(len(table))
    for column, exponent in exponents.items():
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(float)
        values = np.where(values >= 0, values, np.nan)
        term = np.power(values, exponent, where=values > 0, out=np.zeros_like(values))
        p = np.where(np.isfinite(values), p * term, np.nan)
    return p


def _parent_zone(codes: pd.Series, zone_codes: pd.Index) -> pd.Series:
    """The zone each county row belongs to ("" for none): the zone with its first 4 digits,
    else its province's zone if the province has only one (Chongqing's counties, 5002xx, go to
    the zone 500100)."""
    parent = codes.str[:4] + "00"
    sole = pd.Series(zone_codes, index=zone_codes.str[:2])
    sole = sole[~sole.index.duplicated(keep=False)]
    fallback = codes.str[:2].map(sole).fillna("")
    return parent.where(parent.isin(zone_codes), fallback)


def county_propensity(
    codes: pd.Series, table: pd.DataFrame, exponents: dict[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-person urban and rural propensity of each zone from the county table.

    Parameters
    ----------
    codes
        Each zone's 6-digit admin code (repeats allowed: fine cells share their prefecture's).
    table
        From :func:`read_county_indicators`.
    exponents
        Indicator -> exponent (``users.propensity``).

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        ``p_urban`` and ``p_rural`` per zone (see the module docstring): from the counties of a
        prefecture; from its own row for a county-level zone or a prefecture without counties
        (Dongguan); NaN where the table has nothing (Hong Kong, Macao) or its figures are
        missing.
    """
    zone_codes = pd.Index(pd.unique(codes.astype(str)))
    pop = table["yb_pop_2020"].to_numpy(float)
    urban = np.clip(table["urban_share"].to_numpy(float), 0.0, 1.0) * pop
    rows = pd.DataFrame(
        {"p": per_person(table, exponents), "u": urban, "r": pop - urban}, index=table.index
    )
    is_county = (table["code"].str[4:] != "00") & ~table["code"].isin(zone_codes)
    rows["zone"] = np.where(is_county, _parent_zone(table["code"], zone_codes), "")
    rows = rows[is_county & np.isfinite(rows["p"]) & np.isfinite(rows["u"]) & (rows["zone"] != "")]
    sums = (rows[["u", "r"]].mul(rows["p"], axis=0)).groupby(rows["zone"]).sum()
    weights = rows[["u", "r"]].groupby(rows["zone"]).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / weights
    # a zone without rural (or urban) people: one figure for both
    mean["r"] = mean["r"].fillna(mean["u"])
    mean["u"] = mean["u"].fillna(mean["r"])
    own = pd.Series(per_person(table, exponents), index=table["code"].to_numpy())
    own = own[~own.index.duplicated()]
    text = codes.astype(str)
    p_urban = text.map(mean["u"]).fillna(text.map(own)).to_numpy(float, copy=True)
    p_rural = text.map(mean["r"]).fillna(text.map(own)).to_numpy(float, copy=True)
    return p_urban, p_rural
