"""The shapes of a plan's regions: the union of each region's zones.

The slow part of :func:`chargeplan.results.gaps.region_gaps` (the 391,185 cells of a national
plan: about 20 s of GEOS union, which runs without Python's lock), so a caller may draw them in
a thread of its own while it does other work, and add them with :func:`with_region_shapes`.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

__all__ = ["region_shapes", "with_region_shapes", "zone_regions"]


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
