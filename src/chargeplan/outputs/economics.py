r"""The plan's station economics as files: ``economics.csv`` (one row per open station),
``economics_regions.csv`` (summed per value of the first region column, e.g. province) and
``economics_cities.csv`` (per city: :func:`city_economics`).

Per city (prefecture in the default data) two sides are put together:

- **the stations built in the city** (the city of the zone a station lies in,
  :func:`chargeplan.results.stations.station_table`): their capex, support, NPV with and
  without support, summed; the city's payback is that of its stations' summed cash flows
  (:func:`chargeplan.results.economics.payback_years`), so the cities' NPVs add up to the
  network's ``npv_cny`` and a city's payback is read like the network's;
- **the public charging energy of the brand's users who live in the city** (its zones), a
  year: :math:`E = 365 \, e / \phi` for a design-hour energy :math:`e` and the demand's
  ``peak_hour_share`` :math:`\phi` (the day-to-design-hour rule of the demand model and of
  the station economics): served by the own network (``served_kwh``), left to third parties
  (``captured_kwh_<type>``, with ``[competition]``; ``docs/competition.md``) and unserved.
  ``own_network_share`` and ``competitor_share`` are shares of that public energy, as in the
  summary.

The two sides differ where a station serves users of a neighbouring city; the station side also
counts non-brand users' energy (``interoperability_share``), the user side only the brand's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from chargeplan.config.scenario import Scenario
from chargeplan.outputs.columns import for_files
from chargeplan.outputs.files import write_csv
from chargeplan.results.economics import DAYS_PER_YEAR, StationEconomics, payback_years
from chargeplan.results.plan import Plan

__all__ = ["city_economics", "station_cashflows", "write_economics"]

#: Station columns summed per region.
_SUMMED = (
    "chargers",
    "capex_cny",
    "energy_kwh_per_year",
    "revenue_cny_per_year",
    "construction_support_cny",
    "npv_cny",
    "npv_without_support_cny",
    "support_npv_cny",
    "viable_only_with_support",
)

#: Station columns summed per city (``economics_cities.csv``), in the file's order.
_CITY_SUMS = (
    "chargers",
    "capex_cny",
    "construction_support_cny",
    "operation_support_cny_first_year",
    "support_npv_cny",
    "npv_cny",
    "npv_without_support_cny",
    "energy_kwh_per_year",
    "revenue_cny_per_year",
)


def write_economics(plan: Plan, out: Path, scenario: Scenario | None = None) -> dict[str, Path]:
    """Write ``economics.csv``, ``economics_regions.csv`` and (with the plan's ``scenario``)
    ``economics_cities.csv`` if the plan has economics.

    Returns
    -------
    dict[str, pathlib.Path]
        What was written, by name (nothing for a plan without economics).
    """
    table = plan.economics
    if table is None:
        return {}
    stations = table.rename_axis("site_id").reset_index()
    write_csv(stations, out / "economics.csv", index=False)
    region = str(table.columns[0])
    grouped = table.groupby(region, sort=True)
    regions = grouped[[c for c in _SUMMED if c in table.columns]].sum()
    regions.insert(0, "stations", grouped.size())
    write_csv(pd.DataFrame(regions.reset_index()), out / "economics_regions.csv", index=False)
    written = {
        "economics.csv": out / "economics.csv",
        "economics_regions.csv": out / "economics_regions.csv",
    }
    cities = city_economics(plan, scenario) if scenario is not None else None
    if cities is not None:
        written["economics_cities.csv"] = write_csv(
            for_files(cities), out / "economics_cities.csv", index=False
        )
    return written


def station_cashflows(plan: Plan, scenario: Scenario) -> StationEconomics | None:
    """The plan's station economics with their yearly cash flows, computed again from its sites
    exactly as the run did (:func:`chargeplan.results.economics.station_economics`, the same
    tables and settings); ``None`` without ``[economics]`` or a plan without economics."""
    from chargeplan.inputs.economics_tables import read_support, read_tariffs
    from chargeplan.results.economics import station_economics

    config = scenario.economics
    if config is None or plan.economics is None:
        return None
    support = (
        None if config.support is None else read_support(config.support, config.support_version)
    )
    return station_economics(
        plan.sites,
        scenario.chargers,
        config,
        read_tariffs(config.tariffs),
        support,
        peak_hour_share=scenario.demand.peak_hour_share,
    )


def _station_places(plan: Plan, scenario: Scenario, index: pd.Index) -> pd.DataFrame:
    """``city`` and ``province`` of each open station (index: the plan's site index)."""
    stations = plan.stations
    if stations is None:
        from chargeplan.results.stations import StationSettings, station_table

        stations = station_table(plan.sites, StationSettings.from_scenario(scenario), plan.zones)
    return pd.DataFrame(stations[["city", "province"]]).reindex(index).fillna("")


def _zone_energy(plan: Plan, scenario: Scenario) -> pd.DataFrame:
    """Per (city, province): the brand users' public energy a year, by who serves it."""
    from chargeplan.results.stations import StationSettings, city_source

    zones = plan.zones
    settings = StationSettings.from_scenario(scenario)
    per_year = DAYS_PER_YEAR / scenario.demand.peak_hour_share

    def text(column: str | None, default: str) -> np.ndarray:
        if column and column in zones.columns:
            return zones[column].fillna("").astype(str).to_numpy(dtype=object)
        return np.full(len(zones), default, dtype=object)

    captured = [c for c in zones.columns if str(c).startswith("captured_kwh_")]
    served = zones["served_kwh"].to_numpy(float)
    demand = zones["demand_kwh"].to_numpy(float)
    third = zones[captured].to_numpy(float).sum(axis=1) if captured else np.zeros(len(zones))
    frame = pd.DataFrame(
        {
            "city": text(city_source(zones, settings), "all"),
            "province": text(settings.region_column, ""),
            "public_demand_kwh_per_year": (demand + third) * per_year,
            "own_network_kwh_per_year": served * per_year,
            "third_party_kwh_per_year": third * per_year,
            "unserved_kwh_per_year": (demand - served) * per_year,
        }
    )
    return frame.groupby(["city", "province"], sort=False).sum()


def city_economics(
    plan: Plan, scenario: Scenario, economics: StationEconomics | None = None
) -> pd.DataFrame | None:
    """NPV, payback, support and energy per city, with and without state support.

    Parameters
    ----------
    plan
        A plan made with ``scenario`` (its ``economics`` table, sites, zones and stations).
    scenario
        Its scenario (the ``[economics]`` tables, the zones' city column).
    economics
        The plan's :func:`station_cashflows`, if the caller has them already (computed here
        otherwise).

    Returns
    -------
    pandas.DataFrame or None
        One row per city with stations or users, highest NPV first (units in the names):
        ``city``, ``province``, ``stations``, the sums of :data:`_CITY_SUMS` (the stations'
        ``energy_kwh_per_year`` as ``station_energy_kwh_per_year``), ``payback_years``
        and ``payback_without_support_years`` (of the city's summed cash flows; empty if they
        do not pay back within the lifetime), ``stations_viable_only_with_support``,
        ``public_demand_kwh_per_year``, ``own_network_kwh_per_year``,
        ``third_party_kwh_per_year``, ``unserved_kwh_per_year``, ``own_network_share`` and
        ``competitor_share``. ``None`` for a plan without economics.
    """
    if plan.years is not None:  # a rollout: its economics are not computed
        return None
    economics = economics if economics is not None else station_cashflows(plan, scenario)
    if economics is None:  # no [economics]
        return None
    table = economics.stations
    places = _station_places(plan, scenario, table.index)
    keys = pd.MultiIndex.from_frame(places[["city", "province"]])
    codes, uniques = pd.factorize(keys)
    sums = np.zeros((len(uniques), economics.cashflows.shape[1]))
    sums_without = np.zeros_like(sums)
    np.add.at(sums, codes, economics.cashflows)  # each city's stations' cash flows, summed
    np.add.at(sums_without, codes, economics.cashflows_without_support)
    built = pd.DataFrame(table[list(_CITY_SUMS)].to_numpy(float), columns=list(_CITY_SUMS))
    built.insert(0, "stations", 1)
    built["stations_viable_only_with_support"] = table["viable_only_with_support"].to_numpy(int)
    by_city = built.groupby(codes).sum()
    by_city.index = pd.MultiIndex.from_tuples(list(uniques), names=["city", "province"])
    by_city["payback_years"] = payback_years(sums)
    by_city["payback_without_support_years"] = payback_years(sums_without)
    by_city = by_city.rename(columns={"energy_kwh_per_year": "station_energy_kwh_per_year"})
    cities = by_city.join(_zone_energy(plan, scenario), how="outer")
    counts = ["stations", "stations_viable_only_with_support"]
    cities[counts] = cities[counts].fillna(0).astype(np.int64)
    paybacks = ["payback_years", "payback_without_support_years"]
    sums_columns = [c for c in cities.columns if c not in (*counts, *paybacks)]
    cities[sums_columns] = cities[sums_columns].fillna(0.0)
    public = cities["public_demand_kwh_per_year"].to_numpy(float)
    for share, part in (
        ("own_network_share", "own_network_kwh_per_year"),
        ("competitor_share", "third_party_kwh_per_year"),
    ):
        cities[share] = np.divide(
            cities[part].to_numpy(float), public, out=np.zeros(len(cities)), where=public > 0
        )
    cities = cities.reset_index()
    return cities.sort_values(["npv_cny", "city"], ascending=[False, True]).reset_index(drop=True)
