"""Existing charging stations: the brand's own network and its competitors'.

A station list is a CSV with one row per station: lon/lat, a network name and port counts per
charger type (the US DOE AFDC export is the model: ``EV DC Fast Count``, ``EV Level2 EVSE
Num``, ``EV Network``). :func:`read_stations` reads it into points; then

- :func:`attach_own_stations` turns the brand's stations into existing chargers at candidate
  sites: each own station joins the nearest candidate within ``own_match_km``, or becomes a new
  site of its own; such sites are open, their chargers kept at no new capex and their fixed
  cost sunk (zero);
- :func:`competitor_capture` removes from each zone the share of its demand that competitors
  capture: ``competitor_capture_share`` of zone i's type-k demand when at least one competitor
  station with type-k ports lies within ``competitor_radius_km`` of its demand centre (the
  simple rule; a scenario with ``[competition]`` uses the Huff choice model of
  :mod:`chargeplan.inputs.competition` instead).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from chargeplan.config.scenario import ExistingConfig
from chargeplan.errors import InputError

#: AFDC port columns for chargeplan's default charger types.
AFDC_PORTS = {"dc_fast": "EV DC Fast Count", "ac_destination": "EV Level2 EVSE Num"}


def read_stations(path: str | Path, config: ExistingConfig, types: list[str]) -> gpd.GeoDataFrame:
    """Read a station list into points with ``station_id``, ``network``, ``own`` and
    ``ports_<type>`` (missing counts are 0).

    Parameters
    ----------
    path
        CSV file.
    config
        Column names, port-column mapping (default: AFDC's for ``dc_fast`` and
        ``ac_destination``) and the brand's own network names.
    types
        Charger types of the scenario.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, low_memory=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot be read as a CSV station list ({error})") from None
    ports = {t: c for t, c in (config.port_columns or AFDC_PORTS).items() if t in types}
    needed = [config.lon_column, config.lat_column, config.id_column]
    if config.network_column:
        needed.append(config.network_column)
    missing = [c for c in needed + list(ports.values()) if c not in table.columns]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {missing}; set existing.lon_column / lat_column / "
            "network_column / id_column / port_columns to the file's names"
        )
    lon = pd.to_numeric(table[config.lon_column], errors="coerce")
    lat = pd.to_numeric(table[config.lat_column], errors="coerce")
    bad = lon.isna() | lat.isna() | (lon.abs() > 180) | (lat.abs() > 90)
    if bad.any():
        rows = (np.flatnonzero(bad.to_numpy())[:5] + 2).tolist()
        raise InputError(f"{path}: missing or impossible lon/lat in lines {rows}: fix or drop")
    out = gpd.GeoDataFrame(
        {
            "station_id": table[config.id_column].astype(str).to_numpy(),
            "network": (
                table[config.network_column].fillna("").astype(str).to_numpy()
                if config.network_column
                else np.full(len(table), "")
            ),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    out["own"] = out["network"].isin(config.own_networks) & bool(config.network_column)
    for charger_type, column in ports.items():
        counts = pd.to_numeric(table[column], errors="coerce").fillna(0.0).to_numpy()
        if (counts < 0).any():
            raise InputError(f"{path}: column '{column}' has negative port counts")
        out[f"ports_{charger_type}"] = counts.astype(np.int64)
    for charger_type in types:
        if f"ports_{charger_type}" not in out:
            out[f"ports_{charger_type}"] = 0
    return out


def attach_own_stations(
    sites: gpd.GeoDataFrame,
    stations: gpd.GeoDataFrame,
    types: list[str],
    *,
    match_km: float,
    crs: str,
    id_column: str,
) -> gpd.GeoDataFrame:
    """Add the brand's own stations to the sites as existing chargers.

    Own stations within ``match_km`` of a candidate join the nearest one (their ports add up);
    the others become new sites ``own-<station_id>`` with no costs or limits of their own:
    ``prepare._site_parameters`` then gives them the scenario's, makes the fixed cost of every
    site holding chargers sunk (0) and raises its ``max_<type>`` to at least what it holds.
    """
    own = stations[stations["own"]]
    out = sites.copy()
    for t in types:
        if f"existing_{t}" not in out.columns:
            out[f"existing_{t}"] = 0.0
    if own.empty:
        return out
    site_pts = out.geometry.to_crs(crs).values
    own_pts = own.geometry.to_crs(crs).values
    tree = shapely.STRtree(site_pts)
    own_pos, site_pos = tree.query_nearest(
        own_pts, max_distance=match_km * 1000.0, all_matches=False
    )
    matched = np.zeros(len(own), bool)
    matched[own_pos] = True
    for t in types:
        add = np.zeros(len(out))
        np.add.at(add, site_pos, own[f"ports_{t}"].to_numpy(float)[own_pos])
        out[f"existing_{t}"] = out[f"existing_{t}"].to_numpy(float) + add
    new = own[~matched]
    if len(new):
        extra = gpd.GeoDataFrame(
            {id_column: "own-" + new["station_id"].to_numpy(dtype=str)},
            geometry=new.geometry.to_crs(out.crs).values,
            crs=out.crs,
        )
        extra["name"] = new["network"].to_numpy()
        for t in types:
            extra[f"existing_{t}"] = new[f"ports_{t}"].to_numpy(float)
        extra.index = extra[id_column].to_numpy()
        out = pd.concat([out, extra])
    return out


def competitor_capture(
    zones: gpd.GeoDataFrame,
    centres: gpd.GeoSeries,
    stations: gpd.GeoDataFrame,
    types: list[str],
    *,
    share: float,
    radius_km: float,
    crs: str,
) -> gpd.GeoDataFrame:
    """Remove the demand competitors capture; add ``captured_kwh_<type>``,
    ``kept_share_<type>`` and ``competitor_stations_near``.

    Zone i loses ``share`` of its type-k peak demand when a competitor station with type-k
    ports lies within ``radius_km`` of its demand centre.
    """
    out = zones.copy()
    rivals = stations[~stations["own"]]
    zone_pts = centres.to_crs(crs).values
    counts = np.zeros(len(out), np.int64)
    for t in types:
        column = f"peak_kwh_{t}"
        present = rivals[rivals[f"ports_{t}"] > 0]
        near = np.zeros(len(out), bool)
        if len(present) and share > 0:
            tree = shapely.STRtree(present.geometry.to_crs(crs).values)
            zone_pos, _ = tree.query(zone_pts, predicate="dwithin", distance=radius_km * 1000.0)
            near[np.unique(zone_pos)] = True
            counts += np.bincount(zone_pos, minlength=len(out))
        captured = np.where(near, share * out[column].to_numpy(float), 0.0)
        out[f"captured_kwh_{t}"] = captured
        out[f"kept_share_{t}"] = np.where(near, 1.0 - share, 1.0)
        out[column] = out[column].to_numpy(float) - captured
    out["competitor_stations_near"] = counts
    out["peak_kwh"] = out[[f"peak_kwh_{t}" for t in types]].sum(axis=1)
    return out
