"""Which zone-site pairs are within reach: sparse, never a dense zone x site matrix.

Two ways in:

- :func:`pairs_within_radius`: straight-line distance between each zone's demand centre and
  each site, in a metric CRS, for the pairs within the service radius, found with shapely's
  STRtree (``dwithin`` query), so memory and time grow with the number of pairs, not zones x
  sites.
- :func:`pairs_from_cost_table`: a table ``zone_id, site_id, cost`` as a routing engine exports
  (travel time, road distance, or any cost per unit of demand); only the listed pairs exist.

A service standard (``[reach.standard]``, ``docs/service.md``) gives each zone its own reach by
settlement type: :func:`pairs_within_zone_radius` (straight line: one STRtree query at the
largest radius, then a numpy filter against each zone's own radius) and
:func:`pairs_from_travel_times` (a ``zone_id, site_id, minutes`` table filtered against each
zone's own limit in minutes).

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
from chargeplan.config.scenario import ReachConfig
from chargeplan.config.service import SETTLEMENT_TYPES
from chargeplan.errors import InputError
from chargeplan.inputs.checks import as_float, check_values, require_columns, source_label
from chargeplan.inputs.cost_table import validate_cost_table
from chargeplan.model.pairs import pairs_from_cost_table

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
    zp, sp = _metric(zone_points, site_points, crs)
    tree = shapely.STRtree(sp.values)
    zone_pos, site_pos = tree.query(zp.values, predicate="dwithin", distance=radius_km * 1000.0)
    distance_km = shapely.distance(zp.values[zone_pos], sp.values[site_pos]) / 1000.0
    zone_ids = zone_points.index if zone_ids is None else zone_ids
    site_ids = site_points.index if site_ids is None else site_ids
    return _pair_table(zone_pos, site_pos, distance_km, zone_ids, site_ids)


def _metric(
    zone_points: gpd.GeoSeries, site_points: gpd.GeoSeries, crs: str
) -> tuple[gpd.GeoSeries, gpd.GeoSeries]:
    """Zone and site points in ``crs``, which must be projected (metric)."""
    zp, sp = zone_points.to_crs(crs), site_points.to_crs(crs)
    if not zp.crs.is_projected:
        raise InputError(f"reach.crs {crs!r} is not a projected (metric) CRS: pick one in metres")
    return zp, sp


def _pair_table(
    zone_pos: np.ndarray,
    site_pos: np.ndarray,
    distance_km: np.ndarray,
    zone_ids: pd.Index | np.ndarray,
    site_ids: pd.Index | np.ndarray,
) -> pd.DataFrame:
    """The pairs as a :data:`PAIR_COLUMNS` table sorted by zone then site (cost = distance)."""
    order = np.lexsort((site_pos, zone_pos))
    zone_pos, site_pos, distance_km = zone_pos[order], site_pos[order], distance_km[order]
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


def pairs_within_zone_radius(
    zone_points: gpd.GeoSeries,
    site_points: gpd.GeoSeries,
    radius_km: np.ndarray,
    *,
    crs: str = DEFAULT_CRS,
    zone_ids: pd.Index | None = None,
    site_ids: pd.Index | None = None,
) -> pd.DataFrame:
    r"""All zone-site pairs within each zone's own radius (straight line).

    .. math:: P = \{(i, j) : \lVert p_i - q_j \rVert \le r_i\}

    One STRtree query at :math:`\max_i r_i`, then the pairs beyond their zone's :math:`r_i`
    are dropped (vectorised; distances compared in metres, as the query measures them).

    Parameters
    ----------
    zone_points, site_points
        Points with a CRS (projected to ``crs``).
    radius_km
        ``(Z,)`` each zone's radius in km (finite, > 0).
    crs, zone_ids, site_ids
        As in :func:`pairs_within_radius`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PAIR_COLUMNS`, sorted by zone then site.
    """
    radius_m = np.asarray(radius_km, float) * 1000.0
    if radius_m.shape != (len(zone_points),):
        raise InputError(
            f"radius_km: one radius per zone ({len(zone_points)}), got {radius_m.shape}"
        )
    if not np.all(np.isfinite(radius_m) & (radius_m > 0)):
        raise InputError("radius_km: every zone's radius must be a finite number of km > 0")
    zp, sp = _metric(zone_points, site_points, crs)
    largest = float(radius_m.max()) if radius_m.size else 0.0
    tree = shapely.STRtree(sp.values)
    zone_pos, site_pos = tree.query(zp.values, predicate="dwithin", distance=largest)
    distance_m = shapely.distance(zp.values[zone_pos], sp.values[site_pos])
    keep = distance_m <= radius_m[zone_pos]
    zone_pos, site_pos, distance_km = zone_pos[keep], site_pos[keep], distance_m[keep] / 1000.0
    zone_ids = zone_points.index if zone_ids is None else zone_ids
    site_ids = site_points.index if site_ids is None else site_ids
    return _pair_table(zone_pos, site_pos, distance_km, zone_ids, site_ids)


def pairs_from_travel_times(
    table: pd.DataFrame,
    zone_ids: pd.Index,
    site_ids: pd.Index,
    max_minutes: np.ndarray,
    *,
    source: str = "travel-time table",
) -> pd.DataFrame:
    """The pairs of a ``zone_id, site_id, minutes`` table within each zone's limit.

    Parameters
    ----------
    table
        One row per pair a router found (OSMnx, pandana, OSRM: ``docs/service.md``);
        ``distance_km`` is kept if present.
    zone_ids, site_ids
        The zones' and sites' ids, in model order.
    max_minutes
        ``(Z,)`` each zone's limit in minutes (its settlement type's standard).
    source
        The file, for messages.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PAIR_COLUMNS` with ``cost`` = minutes (``reach.detour_cost_cny_per_kwh_km``
        then prices minutes), sorted by zone then site.

    Raises
    ------
    InputError
        Naming the file, rows and column for a missing column, a missing, negative or
        non-numeric time, an unknown id or a repeated pair.
    """
    where = source_label("travel-time table", source)
    require_columns(table, where, ["zone_id", "site_id", "minutes"])
    minutes = as_float(table, "minutes", where, ("zone_id", "site_id"))
    check_values(
        table, where, "minutes", minutes, ("zone_id", "site_id"), allow_nan=False, nonnegative=True
    )
    checked = validate_cost_table(
        table.assign(cost=minutes), source=source, zone_ids=zone_ids, site_ids=site_ids
    )
    pairs = pairs_from_cost_table(checked, zone_ids, site_ids, source=source)
    limit = np.asarray(max_minutes, float)[pairs["zone"].to_numpy()]
    return pairs[pairs["cost"].to_numpy() <= limit].reset_index(drop=True)


def pairs_within_standard(
    reach: ReachConfig,
    zones: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    centres: gpd.GeoSeries,
) -> pd.DataFrame:
    """The pairs within each zone's service standard (``reach.standard``): straight line in km
    from the zones' demand ``centres``, or the ``reach.travel_time_table`` in minutes.

    ``zones`` must carry ``settlement`` (:func:`chargeplan.inputs.settlement.
    classify_settlement`).
    """
    standard = reach.standard
    if standard is None:
        raise InputError("pairs_within_standard needs reach.standard")
    limit = zones["settlement"].map({t: standard.reach(t) for t in SETTLEMENT_TYPES})
    path = reach.travel_time_table
    if path is None:
        return pairs_within_zone_radius(
            centres,
            sites.geometry,
            limit.to_numpy(float),
            crs=reach.crs,
            zone_ids=zones.index,
            site_ids=sites.index,
        )
    try:
        table = read_cost_table(path)
    except (ValueError, OSError) as error:  # parser, encoding and Arrow errors included
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "empty"
        raise InputError(
            f"{path}: cannot be read as a table ({reason}): save it as CSV with the header "
            "zone_id,site_id,minutes, or as Parquet"
        ) from None
    return pairs_from_travel_times(
        table, zones.index, sites.index, limit.to_numpy(float), source=str(path)
    )
