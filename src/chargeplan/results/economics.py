r"""Station economics: what each open station of a plan earns and costs over its life, with and
without state support (issue 15 items 1-2). Reported, not optimised: the plan is unchanged.

For an open station :math:`j` with :math:`n_{jk}` chargers of type :math:`k` (power
:math:`P_k`) serving :math:`x_{jk}` kWh of brand demand in the design hour:

- Energy. Daily brand energy :math:`x_{jk} / \phi` with :math:`\phi` the demand's
  ``peak_hour_share`` (the share of a day's energy in the design hour, the same share the
  demand model used to go from a day to the design hour); non-brand cars add a share
  :math:`s` of the station's energy (``interoperability_share``), so the annual energy is
  :math:`A_j = 365 \sum_k x_{jk} / (\phi (1 - s))`.
- Revenue. The daily load profile :math:`\pi_h` (hours 0-23) spreads the energy over the
  tariff's time-of-use bands :math:`b` (hours :math:`H_b`, weight :math:`w_b = \sum_{h\in H_b}
  \pi_h`); per kWh the station earns the service fee plus the electricity margin,
  :math:`r_j = \sum_b w_b (f_b + p_b - c_b)`, and drivers pay :math:`g_j = \sum_b w_b (f_b +
  p_b)`. Revenue :math:`R_j = r_j A_j` a year.
- Operating cost per year: payment fees :math:`\varphi g_j A_j`; maintenance :math:`\sum_k
  m_k n_{jk}`; lease :math:`L_s + L_c \sum_k n_{jk}`; demand charge :math:`12 \, d \,
  \mathrm{kVA}_j` (``design_kva`` of its station design, else ``kva_per_kw`` times its kW).
- State support (rows of the support table matching the station's region, the most specific
  region per kind): construction support at opening, :math:`\min(\text{cap}, \sum \text{per
  kW} \cdot \text{kW} + \sum \text{share} \cdot \text{charger capex})`; operation support each
  year, :math:`\min(\text{cap}, \text{per kWh} \cdot A_j + \text{per kW-year} \cdot
  \text{kW})`; demand charges waived in exempt years; a share of the lease waived (rent
  support). A rule counts in the calendar years it is valid (construction: the first year).
- Cash flows :math:`CF_0 = -\text{capex}_j + \text{construction support}`, :math:`CF_t =
  R_j - \text{opex}_{jt} + \text{operation support}_{jt}` for :math:`t = 1..T`;
  :math:`\mathrm{NPV}_j = \sum_{t=0}^{T} CF_t / (1+\rho)^t`. Payback: the first :math:`t`
  where the cumulative cash flow turns non-negative, interpolated within the year
  (:math:`t - 1 + (-\sum_{u<t} CF_u) / CF_t`); the discounted payback does the same with
  discounted cash flows; NaN when it does not pay back within the lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from chargeplan.config.catalogue import ChargerType
from chargeplan.config.economics import EconomicsConfig
from chargeplan.errors import InputError
from chargeplan.inputs.npv_terms import DAYS_PER_YEAR, MONTHS_PER_YEAR, tariff_per_kwh
from chargeplan.inputs.support import SUPPORT_COLUMN, match_levels, most_specific

__all__ = ["StationEconomics", "payback_years", "station_economics"]


@dataclass(frozen=True)
class StationEconomics:
    """The economics of a plan's open stations.

    Attributes
    ----------
    stations
        One row per open station (index: the plan's site index): energy, revenue, opex,
        capex, support, NPV and payback with and without support.
    cashflows, cashflows_without_support
        ``(stations, lifetime + 1)`` cash flows in CNY, year 0 (capex) first.
    discount_rate
        The rate the NPVs are discounted at.
    """

    stations: pd.DataFrame
    cashflows: np.ndarray
    cashflows_without_support: np.ndarray
    discount_rate: float

    def summary(self) -> dict[str, float | int | None]:
        """Network figures: NPV and payback of all stations together, with and without support."""
        with_, without = self.cashflows.sum(axis=0), self.cashflows_without_support.sum(axis=0)
        payback = payback_years(with_[None, :])[0]
        payback_without = payback_years(without[None, :])[0]
        table = self.stations
        return {
            "npv_cny": float(npv(with_[None, :], self.discount_rate)[0]),
            "npv_without_support_cny": float(npv(without[None, :], self.discount_rate)[0]),
            "payback_years": None if np.isnan(payback) else float(payback),
            "payback_without_support_years": (
                None if np.isnan(payback_without) else float(payback_without)
            ),
            "revenue_cny_per_year": float(table["revenue_cny_per_year"].sum()),
            "energy_kwh_per_year": float(table["energy_kwh_per_year"].sum()),
            "support_cny_npv": float(table["support_npv_cny"].sum()),
            "stations_npv_positive": int((table["npv_cny"] >= 0).sum()),
            "stations_viable_only_with_support": int(table["viable_only_with_support"].sum()),
        }

    def by(self, column: str) -> pd.DataFrame:
        """NPVs, revenue, capex and support summed per value of a station column (a city)."""
        numbers = [
            "capex_cny",
            "energy_kwh_per_year",
            "revenue_cny_per_year",
            "npv_cny",
            "npv_without_support_cny",
            "support_npv_cny",
            "viable_only_with_support",
        ]
        grouped = self.stations.groupby(column, sort=True)[numbers].sum()
        grouped.insert(0, "stations", self.stations.groupby(column, sort=True).size())
        return grouped


def npv(cashflows: np.ndarray, rate: float) -> np.ndarray:
    """Net present value of each row of ``(n, T + 1)`` cash flows, year 0 first."""
    factors = (1.0 + rate) ** -np.arange(cashflows.shape[1])
    return cashflows @ factors


def payback_years(cashflows: np.ndarray) -> np.ndarray:
    """Years until each row's cumulative cash flow turns non-negative, interpolated within the
    year (``t - 1 + (-cumulative_{t-1}) / CF_t``); 0 if year 0 already is; NaN if never.

    Examples
    --------
    >>> payback_years(np.array([[-100.0, 40.0, 40.0, 40.0]]))  # 2 + 20 / 40
    array([2.5])
    """
    cumulative = np.cumsum(cashflows, axis=1)
    reached = cumulative >= 0
    first = np.where(reached.any(axis=1), reached.argmax(axis=1), -1)
    out = np.full(len(cashflows), np.nan)
    out[first == 0] = 0.0
    rows = np.flatnonzero(first > 0)
    t = first[rows]
    before = cumulative[rows, t - 1]
    out[rows] = t - 1 + (-before) / cashflows[rows, t]
    return out


@dataclass(frozen=True)
class _Station:
    """What the cash flows need of each open station, as ``(S,)`` or ``(S, K)`` arrays."""

    chargers: np.ndarray  # (S, K)
    new: np.ndarray  # (S, K) chargers built by the plan (existing ones get no construction support)
    power_kw: np.ndarray  # (K,)
    charger_capex: np.ndarray  # (K,)
    energy_kwh: np.ndarray  # (S,) a year, non-brand included
    kva: np.ndarray  # (S,)
    capex: np.ndarray  # (S,)


def _support(
    station: _Station, levels: np.ndarray, support: pd.DataFrame, config: EconomicsConfig
) -> dict[str, np.ndarray]:
    """Support per station: ``construction`` (S,), and ``operation``, ``exempt``, ``rent``
    as ``(S, T)`` over the years of operation."""
    years = np.asarray(config.years, dtype=float)
    valid = (support["valid_from"].to_numpy()[:, None] <= years) & (
        years <= support["valid_to"].to_numpy()[:, None]
    )  # (R, T)
    power = station.power_kw
    in_range = (support["min_power_kw"].to_numpy() <= power[:, None]) & (
        power[:, None] <= support["max_power_kw"].to_numpy()
    )  # (K, R)
    kw = station.chargers @ (power[:, None] * in_range)  # (S, R)
    built = station.new @ (power[:, None] * in_range)  # (S, R) kW of new chargers
    capex = station.new @ (station.charger_capex[:, None] * in_range)  # (S, R)
    kind, value = support["kind"].to_numpy(), support["value"].to_numpy()

    def rows(name: str) -> np.ndarray:
        return most_specific(levels, kind == name) * value  # (S, R) values that apply

    def cap(name: str, years_valid: np.ndarray) -> np.ndarray:
        caps = np.where(rows(name)[:, :, None] > 0, rows(name)[:, :, None], np.inf)
        return np.where(years_valid[None, :, :], caps, np.inf).min(axis=1)  # (S, T)

    first = valid[:, :1]
    construction = (rows("construction_per_kw") * built) @ first + (
        rows("construction_share") * capex
    ) @ first
    construction = np.minimum(construction, cap("construction_cap_per_station_cny", first))
    operation = (rows("operation_per_kwh") * station.energy_kwh[:, None]) @ valid + (
        rows("operation_per_kw_year") * kw
    ) @ valid
    operation = np.minimum(operation, cap("operation_cap_per_station_year_cny", valid))
    return {
        "construction": construction[:, 0],
        "operation": operation,
        "exempt": np.minimum((rows("demand_charge_exempt") > 0) @ valid, 1.0),
        "rent": np.minimum(rows("rent_support") @ valid, 1.0),
    }


def _open_stations(
    sites: pd.DataFrame,
    chargers: dict[str, ChargerType],
    config: EconomicsConfig,
    peak_hour_share: float,
) -> tuple[pd.DataFrame, _Station]:
    """The open sites and their arrays (chargers, energy, kVA, capex)."""
    missing = [c for c in config.region_columns if c not in sites.columns]
    if missing:
        raise InputError(
            f"economics: the sites have no columns {missing} (economics.region_columns): name "
            f"the sites' region columns there; they have {[str(c) for c in sites.columns]}"
        )
    open_sites = sites[sites["open"].astype(bool)]
    types = [k for k in chargers if f"chargers_{k}" in open_sites.columns]
    n = open_sites[[f"chargers_{k}" for k in types]].to_numpy(dtype=float)
    power = np.array([chargers[k].power_kw for k in types])
    design_hour = open_sites[[f"served_kwh_{k}" for k in types]].to_numpy(dtype=float).sum(axis=1)
    energy = DAYS_PER_YEAR * design_hour / peak_hour_share / (1.0 - config.interoperability_share)
    kva = config.kva_per_kw * (n @ power)
    if "design_kva" in open_sites.columns:
        design_kva = open_sites["design_kva"].to_numpy(dtype=float)
        kva = np.where(design_kva > 0, design_kva, kva)
    existing = [f"existing_chargers_{k}" for k in types]
    new = n
    if all(c in open_sites.columns for c in existing):
        new = np.maximum(n - open_sites[existing].to_numpy(dtype=float), 0.0)
    station = _Station(
        chargers=n,
        new=new,
        power_kw=power,
        charger_capex=np.array([chargers[k].capex_cny for k in types]),
        energy_kwh=energy,
        kva=kva,
        capex=open_sites["capex_cny"].to_numpy(dtype=float) + _support_in_capex(open_sites, types),
    )
    maintenance = np.array([config.maintenance_cny_per_stall_year[k] for k in types])
    return open_sites.assign(_maintenance=n @ maintenance), station


def _support_in_capex(sites: pd.DataFrame, types: list[str]) -> np.ndarray:
    """Construction support the plan's capex is already net of (``economics.support_in_capex``:
    :func:`chargeplan.inputs.support.net_capex`), per site: new chargers x support per charger.
    Added back, so that ``capex_cny`` here is the gross capex and the support is counted once."""
    out = np.zeros(len(sites))
    for k in types:
        if f"{SUPPORT_COLUMN}{k}" not in sites.columns:
            continue
        new = sites[f"chargers_{k}"].to_numpy(float)
        if f"existing_chargers_{k}" in sites.columns:
            new = new - sites[f"existing_chargers_{k}"].to_numpy(float)
        out += np.maximum(new, 0.0) * sites[f"{SUPPORT_COLUMN}{k}"].to_numpy(float)
    return out


def station_economics(
    sites: pd.DataFrame,
    chargers: dict[str, ChargerType],
    config: EconomicsConfig,
    tariffs: pd.DataFrame,
    support: pd.DataFrame | None,
    *,
    peak_hour_share: float,
) -> StationEconomics:
    """NPV and payback of every open station, with and without state support.

    Parameters
    ----------
    sites
        The plan's sites (:attr:`chargeplan.results.plan.Plan.sites`): ``open``,
        ``chargers_<type>``, ``served_kwh_<type>`` (design hour), ``capex_cny``, optional
        ``design_kva``, and the ``config.region_columns``.
    chargers
        The charger catalogue (power, capex by type).
    config
        The scenario's ``[economics]``.
    tariffs, support
        From :func:`chargeplan.inputs.economics_tables.read_tariffs` and ``read_support``
        (``None``: no support).
    peak_hour_share
        The demand's share of a day's energy in the design hour.

    Returns
    -------
    StationEconomics
    """
    table, station = _open_stations(sites, chargers, config, peak_hour_share)
    margin, gross = tariff_per_kwh(table, tariffs, config)
    years = config.lifetime_years
    revenue = margin * station.energy_kwh
    lease = config.lease_cny_per_station_year + config.lease_cny_per_stall_year * (
        station.chargers.sum(axis=1)
    )
    demand_charge = MONTHS_PER_YEAR * config.demand_charge_cny_per_kva_month * station.kva
    running = revenue - config.payment_fee_share * gross * station.energy_kwh
    running = running - table["_maintenance"].to_numpy()
    if support is None or support.empty:
        aid = {
            "construction": np.zeros(len(table)),
            **{k: np.zeros((len(table), years)) for k in ("operation", "exempt", "rent")},
        }
    else:
        levels = match_levels(table, config.region_columns, support["region"])
        aid = _support(station, levels, support, config)
    without = np.empty((len(table), years + 1))
    without[:, 0] = -station.capex
    without[:, 1:] = (running - lease - demand_charge)[:, None]
    with_ = without.copy()
    with_[:, 0] += aid["construction"]
    with_[:, 1:] += (
        aid["operation"] + aid["rent"] * lease[:, None] + aid["exempt"] * demand_charge[:, None]
    )
    rate = config.discount_rate
    out = table.drop(columns="_maintenance")[list(config.region_columns)].copy()
    out["chargers"] = station.chargers.sum(axis=1).astype(int)
    out["kw"] = station.chargers @ station.power_kw
    out["kva"] = station.kva
    out["energy_kwh_per_year"] = station.energy_kwh
    out["revenue_per_kwh_cny"] = margin
    out["revenue_cny_per_year"] = revenue
    out["opex_cny_first_year"] = revenue - with_[:, 1] + aid["operation"][:, 0]
    out["capex_cny"] = station.capex
    out["construction_support_cny"] = aid["construction"]
    out["operation_support_cny_first_year"] = aid["operation"][:, 0]
    out["npv_cny"] = npv(with_, rate)
    out["npv_without_support_cny"] = npv(without, rate)
    out["support_npv_cny"] = out["npv_cny"] - out["npv_without_support_cny"]
    out["payback_years"] = payback_years(with_)
    out["discounted_payback_years"] = payback_years(with_ * (1.0 + rate) ** -np.arange(years + 1))
    out["payback_without_support_years"] = payback_years(without)
    out["viable_only_with_support"] = (out["npv_cny"] >= 0) & (out["npv_without_support_cny"] < 0)
    return StationEconomics(out, with_, without, rate)
