r"""The tables a planner acts on: one row per station built, and a roll-up per city.

:func:`station_table` turns a plan's open sites into stations: where (lon/lat, prefecture,
province), what (design, chargers and kW by type, existing and new, grid kVA), how busy at the
design hour and what it costs. :func:`city_table` sums stations and zones per city
(prefecture in the default data). Both take plain GeoDataFrames (a plan's ``sites`` and
``zones``) and a :class:`StationSettings`, so a notebook can rebuild them for any plan.

The queue of each charger type at a station is one M/M/c queue of exactly its :math:`n_k`
chargers (a station is one queue per type, :mod:`chargeplan.model.designs`). With
:math:`E_k` the design-hour energy served by type k (kWh), :math:`e_k` the energy of one session
(kWh) and :math:`s_k` its duration (hours):

.. math:: \lambda_k = E_k / e_k,\qquad a_k = \lambda_k s_k,\qquad
          \rho_k = a_k / n_k,\qquad P_k(\text{wait}) = C(n_k, a_k),

with :math:`C` Erlang C (:func:`chargeplan.model.erlang.erlang_c`; 1 when :math:`a_k \ge n_k`).
A station's daily energy is its design-hour energy over the scenario's share of a day's public
energy drawn in the busiest hour, ``demand.peak_hour_share`` (:math:`h`):
:math:`E^{day} = \sum_k E_k / h`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from chargeplan.model.erlang import erlang_c

if TYPE_CHECKING:
    from chargeplan.config.scenario import Scenario

__all__ = ["ChargerFigures", "StationSettings", "city_table", "station_table"]

#: The ``design`` of a station built without a design menu (chargers sized one by one).
CUSTOM = "custom"
#: The ``design`` of a station that only keeps the chargers it already had.
EXISTING = "existing"


@dataclass(frozen=True)
class ChargerFigures:
    """What the station table needs of one charger type (from the charger catalogue)."""

    power_kw: float
    session_kwh: float
    session_hours: float
    capex_cny: float


@dataclass(frozen=True)
class DesignCosts:
    """A station design's grid connection and capex parts (from the catalogue's ``[designs]``)."""

    grid_kva: float
    grid_connection_cny: float
    civil_works_cny: float


@dataclass(frozen=True)
class StationSettings:
    """How to read a plan's sites as stations; :meth:`from_scenario` takes it from a scenario.

    Attributes
    ----------
    chargers
        Figures of each charger type, by type name.
    designs
        Grid kVA and capex parts of each station design, by design name.
    peak_hour_share
        Share of a day's public charging energy drawn in the design hour
        (``demand.peak_hour_share``); ``None``: ``daily_served_kwh`` is left empty.
    site_id_column, site_name_column
        Site columns copied as ``site_id`` and ``name``.
    city_column, region_column
        Zone columns giving a station's ``city`` (prefecture) and ``province``: each station
        takes those of the zone it lies in (the nearest zone if it lies in none).
    """

    chargers: Mapping[str, ChargerFigures]
    designs: Mapping[str, DesignCosts] = field(default_factory=dict)
    peak_hour_share: float | None = None
    site_id_column: str = "site_id"
    site_name_column: str | None = "name"
    city_column: str | None = "city"
    region_column: str | None = "province"

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> StationSettings:
        """The settings a scenario's catalogue, demand and zone columns give (the city: the
        zones' name column; see :func:`city_source`)."""
        return cls(
            chargers={
                name: ChargerFigures(
                    power_kw=c.power_kw,
                    session_kwh=c.session_kwh,
                    session_hours=c.session_hours,
                    capex_cny=c.capex_cny,
                )
                for name, c in scenario.chargers.items()
                if name in scenario.charger_types
            },
            designs={
                name: DesignCosts(d.grid_kva, d.grid_connection_cny, d.civil_works_cny)
                for name, d in scenario.designs.items()
            },
            peak_hour_share=scenario.demand.peak_hour_share,
            site_id_column=scenario.sites.id_column,
            site_name_column=scenario.sites.name_column or None,
            city_column=scenario.zones.name_column or None,
            region_column=scenario.zones.region_column or None,
        )


def lon_lat(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude and latitude of each row (a point inside it if it is not a point)."""
    if len(frame) == 0:
        return np.zeros(0), np.zeros(0)
    geometry = frame.geometry
    if not (geometry.geom_type == "Point").all():
        geometry = geometry.representative_point()
    points = geometry.to_crs("EPSG:4326") if frame.crs is not None else geometry
    return points.x.to_numpy(float), points.y.to_numpy(float)


def city_source(zones: pd.DataFrame, settings: StationSettings) -> str | None:
    """The zone column that names a zone's city: ``city`` where the zones have one (the
    default prefecture data; fine zones keep their prefecture there), else
    ``settings.city_column``."""
    return "city" if "city" in zones.columns else settings.city_column


def _zone_of(sites: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> np.ndarray:
    """Position in ``zones`` of the zone each site lies in (else the nearest one); -1: none."""
    out = np.full(len(sites), -1)
    if len(zones) == 0 or len(sites) == 0:
        return out
    geometry = sites.geometry
    if sites.crs is not None and zones.crs is not None:
        geometry = geometry.to_crs(zones.crs)
    points = geometry.to_numpy()
    polygons = zones.geometry.to_numpy()
    import shapely

    tree = shapely.STRtree(polygons)
    site, zone = tree.query(points, predicate="within")
    first = pd.Series(zone).groupby(site).min()  # a point on a shared border: the first zone
    out[first.index.to_numpy()] = first.to_numpy()
    missing = np.flatnonzero(out < 0)
    if len(missing):
        _, nearest = tree.query_nearest(points[missing], all_matches=False)
        out[missing] = nearest
    return out


def _place(
    sites: gpd.GeoDataFrame, zones: gpd.GeoDataFrame | None, settings: StationSettings
) -> pd.DataFrame:
    """``city`` and ``province`` of each site, from the zone it lies in (``"all"`` when the
    zones name no city, as in :func:`city_table`; the site's own region column when the zones
    have none)."""
    place = pd.DataFrame(index=sites.index)
    at = _zone_of(sites, zones) if zones is not None else np.full(len(sites), -1)
    city = city_source(zones, settings) if zones is not None else None
    known = at >= 0
    for out, column, default in (("city", city, "all"), ("province", settings.region_column, "")):
        values = np.full(len(sites), default, dtype=object)
        if out == "province" and column and column in sites.columns:  # the site's own
            values = sites[column].fillna("").astype(str).to_numpy(dtype=object)
        if zones is not None and column and column in zones.columns:
            values[known] = zones[column].fillna("").astype(str).to_numpy(dtype=object)[at[known]]
        place[out] = values
    return place


def _design_parts(
    stations: gpd.GeoDataFrame, settings: StationSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``design`` name, ``grid_kva`` and (grid connection, civil works) capex of each station."""
    n = len(stations)
    if "design" not in stations.columns:
        return np.full(n, CUSTOM, dtype=object), np.full(n, np.nan), np.zeros((n, 2))
    names = stations["design"].fillna("").astype(str).to_numpy(dtype=object)
    kva = np.full(n, np.nan)
    parts = np.zeros((n, 2))
    for name, costs in settings.designs.items():
        at = names == name
        kva[at] = costs.grid_kva
        parts[at] = (costs.grid_connection_cny, costs.civil_works_cny)
    if "design_kva" in stations.columns:  # the plan's own figure when the settings lack it
        kva = np.where(np.isnan(kva), stations["design_kva"].to_numpy(float), kva)
        kva[names == ""] = np.nan
    names[names == ""] = EXISTING
    return names, kva, parts


def _queue(stations: gpd.GeoDataFrame, name: str, figures: ChargerFigures) -> dict[str, np.ndarray]:
    """Design-hour arrivals, utilisation, P(wait) and mean wait of one charger type."""
    n = stations[f"chargers_{name}"].to_numpy(np.int64)
    arrivals = stations[f"served_kwh_{name}"].to_numpy(float) / figures.session_kwh
    load = arrivals * figures.session_hours
    busy = n > 0
    p_wait = np.zeros(len(n))
    wait = np.zeros(len(n))
    for j in np.flatnonzero(busy & (load > 0)):  # one Erlang C per station, not per pair
        p_wait[j] = erlang_c(int(n[j]), float(load[j]))
        stable = load[j] < n[j]
        wait[j] = p_wait[j] * figures.session_hours / (n[j] - load[j]) * 60 if stable else np.inf
    return {
        f"peak_sessions_{name}": arrivals,
        f"utilisation_{name}": np.divide(load, n, out=np.zeros(len(n)), where=busy),
        f"p_wait_{name}": p_wait,
        f"mean_wait_min_{name}": wait,
    }


def station_table(
    sites: gpd.GeoDataFrame,
    settings: StationSettings,
    zones: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """One row per open site: the station a planner builds or keeps.

    Parameters
    ----------
    sites
        A plan's ``sites`` (:attr:`chargeplan.results.plan.Plan.sites`).
    settings
        Charger, design and demand figures (:meth:`StationSettings.from_scenario`).
    zones
        The plan's zones, to give each station its ``city`` and ``province``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns (units in the names): ``site_id``, ``name``, ``lon``, ``lat``, ``city``,
        ``province``, ``design`` (:data:`CUSTOM` without a design menu, :data:`EXISTING` for a
        station that only keeps its chargers); for each type t ``chargers_t``,
        ``existing_chargers_t``, ``new_chargers_t``, ``kw_t``; ``chargers``, ``kw``,
        ``grid_kva`` (the design's; empty without one); ``peak_served_kwh_t``,
        ``peak_sessions_t`` (per hour), ``utilisation_t``, ``p_wait_t``, ``mean_wait_min_t``;
        ``peak_served_kwh``, ``daily_served_kwh``; ``capex_site_cny`` (the site's fixed cost),
        ``capex_chargers_cny``,
        ``capex_grid_cny`` (the design's grid connection plus any grid upgrade),
        ``capex_civil_cny`` (the design's civil works), ``capex_cny`` (their sum, as on the
        site). A rollout's sites give one row per year and station, with ``year``.
    """
    built = sites[sites["open"].to_numpy(bool)]
    types = [t for t in settings.chargers if f"chargers_{t}" in built.columns]
    lon, lat = lon_lat(built)
    names = (
        built[settings.site_name_column]
        if settings.site_name_column and settings.site_name_column in built.columns
        else pd.Series("", index=built.index)
    )
    site_ids = (
        built[settings.site_id_column]
        if settings.site_id_column in built.columns
        else pd.Series(built.index, index=built.index)
    )
    columns: dict[str, object] = {
        **({"year": built["year"].to_numpy()} if "year" in built.columns else {}),
        "site_id": site_ids.astype(str).to_numpy(),
        "name": names.fillna("").astype(str).to_numpy(),
        "lon": lon,
        "lat": lat,
        **_place(built, zones, settings).to_dict("series"),
    }
    design, grid_kva, design_parts = _design_parts(built, settings)
    columns["design"] = design
    kw = np.zeros(len(built))
    for t in types:
        chargers = built[f"chargers_{t}"].to_numpy(np.int64)
        existing = _or_zero(built, f"existing_chargers_{t}")
        columns[f"chargers_{t}"] = chargers
        columns[f"existing_chargers_{t}"] = existing.astype(np.int64)
        columns[f"new_chargers_{t}"] = np.maximum(chargers - existing, 0).astype(np.int64)
        power = chargers * settings.chargers[t].power_kw
        columns[f"kw_{t}"] = power
        kw += power
    columns["chargers"] = built["chargers"].to_numpy(np.int64)
    columns["kw"] = kw
    columns["grid_kva"] = grid_kva
    peak = np.zeros(len(built))
    for t in types:
        served = built[f"served_kwh_{t}"].to_numpy(float)
        columns[f"peak_served_kwh_{t}"] = served
        peak += served
        columns.update(_queue(built, t, settings.chargers[t]))
    columns["peak_served_kwh"] = peak
    share = settings.peak_hour_share
    columns["daily_served_kwh"] = peak / share if share else np.full(len(built), np.nan)
    columns.update(_capex(built, design_parts))
    out = gpd.GeoDataFrame(columns, geometry=built.geometry.to_numpy(), crs=built.crs)
    out.index = built.index
    return out


def _or_zero(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy(float) if column in frame.columns else np.zeros(len(frame))


def _capex(built: gpd.GeoDataFrame, design_parts: np.ndarray) -> dict[str, np.ndarray]:
    """The site's capex in parts that add up to its ``capex_cny``.

    ``charger_cost_cny`` is the design's whole capex with a design menu: its grid connection
    and civil works are moved to their own columns, the stalls stay in ``capex_chargers_cny``.
    """
    grid, civil = design_parts[:, 0], design_parts[:, 1]
    chargers = built["charger_cost_cny"].to_numpy(float) - grid - civil
    return {
        "capex_site_cny": built["fixed_cost_cny"].to_numpy(float),
        "capex_chargers_cny": chargers,
        "capex_grid_cny": grid + _or_zero(built, "grid_upgrade_cost_cny"),
        "capex_civil_cny": civil,
        "capex_cny": built["capex_cny"].to_numpy(float),
    }


def city_table(
    stations: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, settings: StationSettings
) -> pd.DataFrame:
    """Stations and demand summed per city (prefecture in the default data).

    Parameters
    ----------
    stations
        :func:`station_table` (one year's: pass a rollout's final plan).
    zones
        The plan's zones (``premium_users``, ``demand_kwh``, ``served_kwh``, ``unserved_users``).
    settings
        Gives the zones' city and province columns.

    Returns
    -------
    pandas.DataFrame
        One row per city, most premium users first: ``city``, ``province``, ``stations``,
        ``chargers_t`` and ``kw_t`` by type, ``chargers``, ``kw``, ``capex_cny``,
        ``premium_users``, ``served_users`` (users times the share of their demand served),
        ``peak_demand_kwh``, ``peak_served_kwh``, ``coverage`` (served over demand; 1 where
        there is no demand). Cities with stations but no zone of their own keep their stations.
    """
    zone_city = _zone_column(zones, city_source(zones, settings), "all")
    zone_province = _zone_column(zones, settings.region_column, "")
    users = _or_zero(zones, "premium_users")
    unserved = _or_zero(zones, "unserved_users")
    demand = pd.DataFrame(
        {
            "city": zone_city,
            "province": zone_province,
            "premium_users": users,
            "served_users": users - unserved,
            "peak_demand_kwh": zones["demand_kwh"].to_numpy(float),
            "peak_served_kwh": zones["served_kwh"].to_numpy(float),
        }
    )
    by_city = demand.groupby(["city", "province"], sort=False).sum()
    types = [c[len("kw_") :] for c in stations.columns if c.startswith("kw_")]
    sums = [f"chargers_{t}" for t in types] + [f"kw_{t}" for t in types]
    built = pd.DataFrame(stations[["city", "province", *sums, "chargers", "kw", "capex_cny"]])
    built.insert(2, "stations", 1)
    built_by_city = built.groupby(["city", "province"], sort=False).sum()
    table = built_by_city.join(by_city, how="outer").fillna(0.0)
    counts = ["stations", "chargers", *(f"chargers_{t}" for t in types)]
    table[counts] = table[counts].astype(np.int64)
    need = table["peak_demand_kwh"].to_numpy(float)
    table["coverage"] = np.divide(
        table["peak_served_kwh"].to_numpy(float), need, out=np.ones(len(table)), where=need > 0
    )
    table = table.reset_index()
    order = table.sort_values(["premium_users", "peak_demand_kwh", "city"], ascending=False)
    return order.reset_index(drop=True)


def _zone_column(zones: pd.DataFrame, column: str | None, default: str) -> np.ndarray:
    if column and column in zones.columns:
        return zones[column].fillna("").astype(str).to_numpy(dtype=object)
    return np.full(len(zones), default, dtype=object)


def assignment_lines(
    assignments: pd.DataFrame,
    zones: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    lon_column: str | None = None,
    lat_column: str | None = None,
) -> gpd.GeoDataFrame:
    """One line per zone and the site that serves it: from the zone's demand centre to the site.

    Parameters
    ----------
    assignments
        A plan's ``assignments`` (one row per zone, site and charger type).
    zones, sites
        The plan's zones and sites (indexed by the ids the assignments use).
    lon_column, lat_column
        Zone demand-centre columns (WGS84); without them a point inside each zone.

    Returns
    -------
    geopandas.GeoDataFrame
        ``zone_id``, ``site_id``, ``served_kwh_t`` by type and ``served_kwh`` (design hour),
        ``distance_km``; a line in the zones' CRS.
    """
    import shapely

    from chargeplan.inputs.reach import demand_centres

    keys = [k for k in ("year", "zone_id", "site_id") if k in assignments.columns]
    if len(assignments) == 0:
        empty = pd.DataFrame(columns=[*keys, "served_kwh", "distance_km"])
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=zones.crs))
    wide = assignments.pivot_table(
        index=keys, columns="charger_type", values="served_kwh", aggfunc="sum", fill_value=0.0
    )
    wide.columns = [f"served_kwh_{t}" for t in wide.columns]
    wide["served_kwh"] = wide.sum(axis=1)
    wide["distance_km"] = assignments.groupby(keys)["distance_km"].first()
    table = wide.reset_index()
    centres = demand_centres(zones, lon_column=lon_column, lat_column=lat_column)
    ends = sites.geometry.to_crs(zones.crs) if sites.crs != zones.crs else sites.geometry
    start = centres.loc[table["zone_id"]].to_numpy()
    end = ends.loc[table["site_id"]].to_numpy()
    coords = np.stack(
        [shapely.get_coordinates(start), shapely.get_coordinates(end)], axis=1
    ).reshape(len(table), 2, 2)
    return gpd.GeoDataFrame(table, geometry=shapely.linestrings(coords), crs=zones.crs)
