r"""The coefficients of the NPV objective (:class:`chargeplan.model.npv.NpvTerms`) from the
scenario's ``[economics]``, its tariff and support tables, for every candidate site.

The same quantities as the reported station economics (:mod:`chargeplan.results.economics`,
``docs/economics.md``): revenue per kWh by time of use (:func:`tariff_per_kwh`), the year's
energy per design-hour kWh :math:`\kappa = 365 / (\phi (1 - s))`, opex per station and per
charger, support rules matched by region and valid by calendar year, discounted at
:math:`\delta_t = (1 + \rho)^{-t}`, :math:`t = 1..T`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from chargeplan.config.catalogue import ChargerType
from chargeplan.config.economics import EconomicsConfig
from chargeplan.inputs.support import (
    construction_support_per_charger,
    match_levels,
    most_specific,
)
from chargeplan.model.npv import ConstructionSupport, NpvTerms

__all__ = [
    "DAYS_PER_YEAR",
    "MONTHS_PER_YEAR",
    "construction_support",
    "npv_terms",
    "tariff_per_kwh",
]

DAYS_PER_YEAR = 365
MONTHS_PER_YEAR = 12


def tariff_per_kwh(
    sites: pd.DataFrame, tariffs: pd.DataFrame, config: EconomicsConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Per site: what the station earns per kWh (service fee + electricity margin) and what
    drivers pay per kWh (service fee + electricity), weighted by the load profile's hours."""
    profile = np.asarray(config.load_profile)
    weight = np.stack(tariffs["hours"].to_list()) @ profile  # (bands,) share of the day's kWh
    margin = (
        weight
        * (
            tariffs["service_fee_cny_per_kwh"]
            + tariffs["energy_price_cny_per_kwh"]
            - tariffs["energy_cost_cny_per_kwh"]
        ).to_numpy()
    )
    gross = weight * (tariffs["service_fee_cny_per_kwh"] + tariffs["energy_price_cny_per_kwh"])
    applies = most_specific(
        match_levels(sites, config.region_columns, tariffs["region"]),
        np.ones(len(tariffs), dtype=bool),
    )
    return applies @ margin, applies @ gross.to_numpy()


def _caps(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``(S, T)``: the smallest cap that applies in each year (``values`` ``(S, R)``, 0: no
    cap row; ``valid`` ``(R, T)``); ``inf`` where none does."""
    caps = np.where(values[:, :, None] > 0, values[:, :, None], np.inf)
    return np.where(valid[None, :, :], caps, np.inf).min(axis=1, initial=np.inf)


def _support_rates(
    sites: pd.DataFrame,
    power_kw: np.ndarray,
    support: pd.DataFrame | None,
    config: EconomicsConfig,
) -> dict[str, np.ndarray]:
    """Per site and year of operation: ``exempt``, ``rent``, ``per_kwh`` and ``cap`` ``(S,
    T)``, ``per_kw`` ``(S, K, T)`` per charger; ``construction_cap`` ``(S,)`` (first year)."""
    s, k, t = len(sites), len(power_kw), config.lifetime_years
    if support is None or support.empty:
        zeros = np.zeros((s, t))
        return {
            "exempt": zeros,
            "rent": zeros,
            "per_kwh": zeros,
            "cap": np.full((s, t), np.inf),
            "per_kw": np.zeros((s, k, t)),
            "construction_cap": np.full(s, np.inf),
        }
    years = np.asarray(config.years, dtype=float)
    valid = (support["valid_from"].to_numpy()[:, None] <= years) & (
        years <= support["valid_to"].to_numpy()[:, None]
    )  # (R, T)
    in_range = (support["min_power_kw"].to_numpy() <= power_kw[:, None]) & (
        power_kw[:, None] <= support["max_power_kw"].to_numpy()
    )  # (K, R)
    levels = match_levels(sites, config.region_columns, support["region"])
    kind, value = support["kind"].to_numpy(), support["value"].to_numpy()

    def rows(name: str) -> np.ndarray:
        return most_specific(levels, kind == name) * value  # (S, R)

    per_kw = np.einsum("sr,kr,rt->skt", rows("operation_per_kw_year"), in_range, valid)
    return {
        "exempt": np.minimum((rows("demand_charge_exempt") > 0) @ valid, 1.0),
        "rent": np.minimum(rows("rent_support") @ valid, 1.0),
        "per_kwh": rows("operation_per_kwh") @ valid,
        "cap": _caps(rows("operation_cap_per_station_year_cny"), valid),
        "per_kw": per_kw * power_kw[None, :, None],
        "construction_cap": _caps(rows("construction_cap_per_station_cny"), valid[:, :1])[:, 0],
    }


def construction_support(
    sites: pd.DataFrame,
    chargers: dict[str, ChargerType],
    support: pd.DataFrame,
    *,
    region_columns: Sequence[str],
    year: int,
) -> ConstructionSupport:
    """Construction support per new charger ``(S, K)`` (types in ``chargers``' order;
    :func:`~chargeplan.inputs.support.construction_support_per_charger`) and each station's
    cap ``(S,)`` (``inf``: none), from the rules valid in ``year``."""
    per_charger = construction_support_per_charger(
        sites, chargers, support, region_columns=region_columns, year=year
    )
    years = np.array([float(year)])
    valid = (support["valid_from"].to_numpy()[:, None] <= years) & (
        years <= support["valid_to"].to_numpy()[:, None]
    )
    levels = match_levels(sites, region_columns, support["region"])
    kind = support["kind"].to_numpy()
    caps = (
        most_specific(levels, kind == "construction_cap_per_station_cny")
        * support["value"].to_numpy()
    )
    return ConstructionSupport(per_charger, _caps(np.asarray(caps), valid)[:, 0])


def npv_terms(
    sites: pd.DataFrame,
    chargers: dict[str, ChargerType],
    config: EconomicsConfig,
    tariffs: pd.DataFrame,
    support: pd.DataFrame | None,
    *,
    peak_hour_share: float,
    design_kva: np.ndarray | None = None,
) -> NpvTerms:
    """The NPV's coefficients for every site (formulas: :mod:`chargeplan.model.npv`).

    Parameters
    ----------
    sites
        The candidate sites (the problem's order), with the ``config.region_columns`` and
        optional ``capex_cny_<type>`` (gross of support).
    chargers
        The problem's charger types, in its order.
    config, tariffs, support
        The scenario's ``[economics]`` and its checked tables (``support``: ``None``: none).
    peak_hour_share
        The demand's share of a day's energy in the design hour.
    design_kva
        ``(D,)`` the station designs' grid kVA (``None``: no designs).
    """
    types = list(chargers)
    power = np.array([chargers[k].power_kw for k in types], dtype=float)
    discount = (1.0 + config.discount_rate) ** -np.arange(1.0, config.lifetime_years + 1)
    kappa = DAYS_PER_YEAR / peak_hour_share / (1.0 - config.interoperability_share)
    margin, gross = tariff_per_kwh(sites, tariffs, config)
    rates = _support_rates(sites, power, support, config)
    lease = 1.0 - rates["rent"]  # (S, T) share of the lease paid
    charged = (1.0 - rates["exempt"]) @ discount  # (S,) PV of a year's demand charge per kVA
    maintenance = np.array([config.maintenance_cny_per_stall_year[k] for k in types])
    per_charger = (
        maintenance[None, :] * discount.sum()
        + config.lease_cny_per_stall_year * (lease @ discount)[:, None]
        - rates["per_kw"] @ discount
    )
    if design_kva is None:
        dc = MONTHS_PER_YEAR * config.demand_charge_cny_per_kva_month * config.kva_per_kw
        per_charger = per_charger + dc * power[None, :] * charged[:, None]
    extended = (np.isfinite(rates["cap"]).any(axis=1) | (per_charger < 0).any(axis=1)) & (
        (rates["per_kwh"] > 0).any(axis=1) | (rates["per_kw"] > 0).any(axis=(1, 2))
    )  # operation support carried by variables (module docstring of chargeplan.model.npv)
    keep = ~extended
    per_charger = per_charger + np.where(keep[:, None], 0.0, rates["per_kw"] @ discount)
    revenue = kappa * (
        (margin - config.payment_fee_share * gross) * discount.sum()
        + np.where(keep, rates["per_kwh"] @ discount, 0.0)
    )
    construction = (
        construction_support(
            sites, chargers, support, region_columns=config.region_columns, year=config.first_year
        )
        if support is not None and not support.empty
        else ConstructionSupport(np.zeros((len(sites), len(types))), np.full(len(sites), np.inf))
    )
    return NpvTerms(
        revenue_per_kwh=revenue,
        station_cost=config.lease_cny_per_station_year * (lease @ discount),
        charger_cost=per_charger,
        design_cost=(
            None
            if design_kva is None
            else MONTHS_PER_YEAR
            * config.demand_charge_cny_per_kva_month
            * charged[:, None]
            * np.asarray(design_kva, float)[None, :]
        ),
        construction=construction,
        operation_per_kwh=kappa * rates["per_kwh"] * extended[:, None],
        operation_per_charger=rates["per_kw"] * extended[:, None, None],
        operation_cap=rates["cap"],
        discount=discount,
    )
