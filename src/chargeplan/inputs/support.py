"""State-support rules matched to sites, and construction support taken off the chargers' capex.

A site matches a support (or tariff) row whose ``region`` is ``*`` (national) or equals one of
the site's ``region_columns`` (broadest first, e.g. province then city); per kind, only the rows
of the most specific matching region count (:func:`most_specific`).

With ``economics.support_in_capex = true`` the least-cost objective sees each charger's capex
net of its construction support (:func:`net_capex`):

.. math::  c'_{jk} = \\max(0, c_{jk} - \\sum_r v^{kW}_r P_k [k \\in r] - \\sum_r v^{share}_r
   c_{jk} [k \\in r])

over the ``construction_per_kw`` and ``construction_share`` rules :math:`r` valid in the first
year of operation that apply to site :math:`j` and whose power range holds :math:`P_k`. Sites
with a station cap (``construction_cap_per_station_cny``) and plans with station designs keep
their capex: the objective carries their support by a variable
(:func:`chargeplan.model.npv.construction_extension`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from chargeplan.config.catalogue import ChargerType

__all__ = [
    "SUPPORT_COLUMN",
    "construction_support_per_charger",
    "match_levels",
    "most_specific",
    "net_capex",
]

#: Per-site column prefix of the construction support per charger taken off the capex.
SUPPORT_COLUMN = "construction_support_cny_per_charger_"


def match_levels(sites: pd.DataFrame, columns: Sequence[str], regions: pd.Series) -> np.ndarray:
    """``(S, R)``: how specifically each table row's region matches each site: 0 for the
    national row ``*``, ``i + 1`` for a match on ``columns[i]``, -1 for no match."""
    values = regions.astype(str).to_numpy()
    levels = np.where(values == "*", 0, -1)[None, :].repeat(len(sites), axis=0)
    for i, column in enumerate(columns):
        site_values = sites[column].astype(str).to_numpy()
        levels = np.where(site_values[:, None] == values[None, :], i + 1, levels)
    return levels


def most_specific(levels: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``(S, R)`` mask: the rows of ``rows`` (a ``(R,)`` mask) matching each site at the most
    specific level any of them matches it."""
    sub = np.where(rows[None, :], levels, -1)
    best = sub.max(axis=1, initial=-1)
    return (sub == best[:, None]) & (sub >= 0)


def construction_support_per_charger(
    sites: pd.DataFrame,
    chargers: dict[str, ChargerType],
    support: pd.DataFrame,
    *,
    region_columns: Sequence[str],
    year: int,
) -> np.ndarray:
    """``(S, K)`` construction support per charger of each type (catalogue order) at each site,
    from the ``construction_per_kw`` and ``construction_share`` rules valid in ``year``; never
    more than the charger's capex (``capex_cny_<type>`` of the site, else the catalogue's)."""
    types = list(chargers)
    power = np.array([chargers[k].power_kw for k in types])
    capex = np.column_stack(
        [
            sites[f"capex_cny_{k}"].to_numpy(float)
            if f"capex_cny_{k}" in sites.columns
            else np.full(len(sites), chargers[k].capex_cny)
            for k in types
        ]
    ).reshape(len(sites), len(types))
    valid = (support["valid_from"].to_numpy() <= year) & (year <= support["valid_to"].to_numpy())
    in_range = (support["min_power_kw"].to_numpy() <= power[:, None]) & (
        power[:, None] <= support["max_power_kw"].to_numpy()
    )  # (K, R)
    levels = match_levels(sites, region_columns, support["region"])
    kind, value = support["kind"].to_numpy(), support["value"].to_numpy() * valid

    def rates(name: str) -> np.ndarray:  # (S, K): the rule values that apply to each type
        return (most_specific(levels, kind == name) * value) @ in_range.T

    per_charger = rates("construction_per_kw") * power + rates("construction_share") * capex
    return np.minimum(per_charger, capex)


def net_capex(
    sites: pd.DataFrame,
    chargers: dict[str, ChargerType],
    support: pd.DataFrame,
    *,
    region_columns: Sequence[str],
    year: int,
    where: np.ndarray | None = None,
) -> pd.DataFrame:
    """The sites with ``capex_cny_<type>`` net of construction support, and the support per
    charger in ``construction_support_cny_per_charger_<type>`` (to add it back for reports).

    ``where`` ``(S,)`` bool: only these sites (default all); the others keep their capex and
    get 0 in the support column (sites with a station cap, whose support the objective carries
    by a variable: :func:`chargeplan.model.npv.construction_extension`)."""
    per_charger = construction_support_per_charger(
        sites, chargers, support, region_columns=region_columns, year=year
    )
    if where is not None:
        per_charger = per_charger * np.asarray(where, bool)[:, None]
    out = sites.copy()
    for k, name in enumerate(chargers):
        gross = (
            out[f"capex_cny_{name}"].to_numpy(float)
            if f"capex_cny_{name}" in out.columns
            else np.full(len(out), chargers[name].capex_cny)
        )
        out[f"capex_cny_{name}"] = gross - per_charger[:, k]
        out[f"{SUPPORT_COLUMN}{name}"] = per_charger[:, k]
    return out
