"""The shapes of a plan's regions: the union of each region's zones.

The slow part of :func:`chargeplan.results.gaps.region_gaps` (the 391,185 cells of a national
plan: about 20 s of GEOS union, which runs without Python's lock), so a caller may draw them in
a thread of its own while it does other work, and add them with :func:`with_region_shapes`.
A site's region is that of the zone it lies in (:func:`site_regions`).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

__all__ = ["region_shapes", "site_regions", "with_region_shapes", "zone_regions"]


def zone_regions(zones: pd.DataFrame, region_column: str | None) -> pd.Series:
    """Each zone's region: its ``region_column`` (missing: ``"unknown"``), or ``"all"``
    without that column; named ``region``."""
    if region_column and region_column in zones.columns:
        region = zones[region_column]
    else:
        region = pd.Series("all", index=zones.index)
    return region.fillna("unknown").astype(str).rename("region")


def region_shapes(zones: gpd.GeoDataFrame, region_column: str | None) -> gpd.GeoSeries:
    """The union of each region's zones (index: region, :func:`zone_regions`)."""
    region = zone_regions(zones, region_column)
    shapes = gpd.GeoDataFrame({"region": region}, geometry=zones.geometry.values, crs=zones.crs)
    return shapes.dissolve(by="region").geometry


def with_region_shapes(regions: gpd.GeoDataFrame, shapes: gpd.GeoSeries) -> gpd.GeoDataFrame:
    """``regions`` (:func:`chargeplan.results.gaps.region_gaps` without shapes) with each
    region's shape from ``shapes`` (:func:`region_shapes`)."""
    out = regions.copy()
    out[out.geometry.name] = gpd.GeoSeries(
        shapes.reindex(out.index).values, index=out.index, crs=regions.crs
    )
    return out


def site_regions(
    zones: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, region_column: str | None, crs: str
) -> pd.Series:
    """The region of each of ``sites``: that of the zone it lies in (or the nearest zone, in
    ``crs``).

    Each site's nearest zone is found on its own (the first of equally near zones in the
    zones' order), so a site's region does not depend on the other sites asked about.

    Returns
    -------
    pandas.Series
        Index: site ids; values: region labels (:func:`zone_regions`).
    """
    region = zone_regions(zones, region_column)
    out = pd.Series("unknown", index=sites.index, dtype=object)
    if len(sites) and len(zones):
        tree = shapely.STRtree(zones.geometry.to_crs(crs).to_numpy())
        src, dst = tree.query_nearest(sites.geometry.to_crs(crs).to_numpy(), all_matches=False)
        out.iloc[src] = region.to_numpy()[dst]
    return out
