"""Which zone-site pairs are within reach: sparse, never a dense zone x site matrix.

Two ways in:

- :func:`pairs_within_radius`: straight-line distance between each zone's demand centre and
  each site, in a metric CRS, for the pairs within the service radius, found with shapely's
  STRtree (``dwithin`` query), so memory and time grow with the number of pairs, not zones x
  sites.
- :func:`pairs_from_cost_table`: a table ``zone_id, site_id, cost`` as a routing engine exports
  (travel time, road distance, or any cost per unit of demand); only the listed pairs exist.

Both return a DataFrame with one row per pair: ``zone``, ``site`` (positions in the zones and
sites frames), ``zone_id``, ``site_id``, ``distance_km`` and ``cost`` (cost per unit of demand
before any rate is applied; equal to ``distance_km`` for the radius rule).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from chargeplan.config.defaults import DEFAULT_CRS
from chargeplan.errors import InputError

PAIR_COLUMNS = ["zone", "site", "zone_id", "site_id", "distance_km", "cost"]


def demand_centres(
    zones: gpd.GeoDataFrame,
    *,
    lon_column: str | None = None,
    lat_column: str | None = None,
) -> gpd.GeoSeries:
    """Each zone's demand centre: given lon/lat columns (WGS84), else a point on the zone.

    Points stay as they are; polygons give their representative point (always inside).
    """
    if lon_column and lat_column and {lon_column, lat_column} <= set(zones.columns):
        points = gpd.points_from_xy(zones[lon_column], zones[lat_column], crs="EPSG:4326")
        return gpd.GeoSeries(points, index=zones.index).to_crs(zones.crs)
    geoms = zones.geometry
    is_point = geoms.geom_type == "Point"
    return gpd.GeoSeries(
        np.where(is_point, geoms.values, geoms.representative_point().values),
        index=zones.index,
        crs=zones.crs,
    )


def pairs_within_radius(
    zone_points: gpd.GeoSeries,
    site_points: gpd.GeoSeries,
    radius_km: float,
    *,
    crs: str = DEFAULT_CRS,
    zone_ids: pd.Index | None = None,
    site_ids: pd.Index | None = None,
) -> pd.DataFrame:
    """All zone-site pairs whose straight-line distance is at most ``radius_km``.

    Parameters
    ----------
    zone_points, site_points
        Points with a CRS (any; they are projected to ``crs``).
    radius_km
        Service radius in kilometres.
    crs
        A metric (projected) CRS to measure in; the default,
        :data:`~chargeplan.config.defaults.DEFAULT_CRS`, suits all of China.
    zone_ids, site_ids
        Labels for the output (default: the series' indexes).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PAIR_COLUMNS`, sorted by zone then site.
    """
    zp = zone_points.to_crs(crs)
    sp = site_points.to_crs(crs)
    if not zp.crs.is_projected:
        raise InputError(f"reach.crs {crs!r} is not a projected (metric) CRS: pick one in metres")
    tree = shapely.STRtree(sp.values)
    zone_pos, site_pos = tree.query(zp.values, predicate="dwithin", distance=radius_km * 1000.0)
    distance_km = shapely.distance(zp.values[zone_pos], sp.values[site_pos]) / 1000.0
    order = np.lexsort((site_pos, zone_pos))
    zone_pos, site_pos, distance_km = zone_pos[order], site_pos[order], distance_km[order]
    zone_ids = zone_points.index if zone_ids is None else zone_ids
    site_ids = site_points.index if site_ids is None else site_ids
    return pd.DataFrame(
        {
            "zone": zone_pos.astype(np.int64),
            "site": site_pos.astype(np.int64),
            "zone_id": np.asarray(zone_ids)[zone_pos],
            "site_id": np.asarray(site_ids)[site_pos],
            "distance_km": distance_km,
            "cost": distance_km,
        }
    )


def read_cost_table(path: str | Path) -> pd.DataFrame:
    """Read a ``zone_id, site_id, cost`` table from CSV or Parquet, ids as text."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"cost table not found: {path}")
    if path.suffix.lower() in {".parquet", ".pq"}:
        table = pd.read_parquet(path)
    else:
        table = pd.read_csv(path, dtype={"zone_id": str, "site_id": str})
    return table
