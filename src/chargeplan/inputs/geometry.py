"""Geometry and CRS checks of zones and sites, and the far-site warning.

:func:`check_geometries` refuses null, empty, wrongly typed or non-finite geometries;
:func:`check_crs` a missing CRS and, for a geographic CRS, coordinates outside lon/lat or that
look like swapped axes; :func:`repair_polygons` repairs invalid polygons with
``shapely.make_valid`` and says so; :func:`check_sites_within_zones` warns about sites far from
every zone. Messages follow :mod:`chargeplan.inputs.checks`. All checks are vectorised
(shapely 2); Python loops only format messages.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import LambertAzimuthalEqualAreaConversion

from chargeplan.errors import InputError
from chargeplan.inputs.checks import InputWarning, locate_rows, plural, source_label

__all__ = [
    "SITE_TYPES",
    "ZONE_TYPES",
    "check_crs",
    "check_geometries",
    "check_sites_within_zones",
    "geometry_column",
    "repair_polygons",
]

# shapely.get_type_id codes
_POINT, _POLYGON, _MULTIPOLYGON = 0, 3, 6
#: Geometry types (shapely type ids) allowed for zones and for sites.
ZONE_TYPES = (_POINT, _POLYGON, _MULTIPOLYGON)
SITE_TYPES = (_POINT,)
_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def geometry_column(frame: object, where: str) -> str:
    """Return the name of the active geometry column, or raise with a hint."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            f"{where}: expected a GeoDataFrame, got {type(frame).__name__}: "
            "read the file with geopandas.read_file(...)"
        )
    name = (
        getattr(frame, "_geometry_column_name", None)
        if isinstance(frame, gpd.GeoDataFrame)
        else None
    )
    if name is not None and name in frame.columns:
        if not isinstance(frame[name].dtype, gpd.array.GeometryDtype):
            raise InputError(
                f"{where}: geometry column '{name}' holds {frame[name].dtype} values, not "
                f"geometries: convert it, e.g. gdf = gdf.set_geometry("
                f"gpd.GeoSeries.from_wkt(gdf['{name}']))"
            )
        return str(name)
    geo_columns = [c for c in frame.columns if isinstance(frame[c].dtype, gpd.array.GeometryDtype)]
    if geo_columns:
        hint = f"set it with gdf = gdf.set_geometry('{geo_columns[0]}')"
    else:
        xy = [c for c in ("lon", "lat", "longitude", "latitude", "x", "y") if c in frame.columns]
        if len(xy) >= 2:
            hint = (
                f"build points, e.g. gpd.GeoDataFrame(df, geometry=gpd.points_from_xy("
                f"df['{xy[0]}'], df['{xy[1]}']), crs='EPSG:4326')"
            )
        else:
            hint = "read the file with geopandas.read_file(...) or build it with gpd.GeoDataFrame"
    raise InputError(f"{where}: has no geometry column: {hint}")


def check_geometries(
    frame: pd.DataFrame,
    where: str,
    geoms: np.ndarray,
    *,
    allowed_types: tuple[int, ...],
    type_hint: str,
    id_columns: Sequence[str],
) -> np.ndarray:
    """Raise for null or empty geometries, types not in ``allowed_types`` (the message ends
    with ``type_hint``) and missing or infinite coordinates; return the shapely type ids."""
    null = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if null.any():
        raise InputError(
            f"{where}: {plural(int(null.sum()), 'row has', 'rows have')} a null or empty "
            f"geometry ({locate_rows(frame, null, id_columns)}): fix the geometry or drop "
            "those rows"
        )
    types = shapely.get_type_id(geoms)
    wrong = ~np.isin(types, allowed_types)
    if wrong.any():
        names = sorted({_TYPE_NAMES.get(int(t), "unknown") for t in np.unique(types[wrong])})
        raise InputError(
            f"{where}: {plural(int(wrong.sum()), 'geometry', 'geometries')} of type "
            f"{', '.join(names)} ({locate_rows(frame, wrong, id_columns)}): {type_hint}"
        )
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    bad_coord = ~np.isfinite(coords).all(axis=1)
    if bad_coord.any():
        rows = np.zeros(len(frame), dtype=bool)
        rows[owner[bad_coord]] = True
        raise InputError(
            f"{where}: {plural(int(rows.sum()), 'geometry', 'geometries')} with missing or "
            f"infinite coordinates ({locate_rows(frame, rows, id_columns)}): fix the coordinates "
            "or drop those rows"
        )
    return types


def check_crs(
    frame: gpd.GeoDataFrame, where: str, bounds: np.ndarray, id_columns: Sequence[str]
) -> None:
    """Raise if the frame has no CRS (guessing one from ``bounds``, the geometries' bounds)
    or if its geographic coordinates are out of range or look like swapped lon/lat."""
    crs = frame.crs
    if crs is None:
        raise InputError(
            f"{where}: has no CRS{_lonlat_hint(bounds)}: set it, e.g. "
            'gdf = gdf.set_crs("EPSG:4326"), or for a file add the .prj sidecar / '
            "save it with its CRS"
        )
    if crs.is_geographic:
        _check_lonlat(frame, where, bounds, crs, id_columns)


def repair_polygons(
    frame: gpd.GeoDataFrame,
    out: gpd.GeoDataFrame,
    where: str,
    geoms: np.ndarray,
    types: np.ndarray,
    id_columns: Sequence[str],
    *,
    geometry_name: str,
    stacklevel: int = 2,
) -> gpd.GeoDataFrame:
    """Repair the invalid polygons among ``geoms`` (``frame``'s geometries) in ``out``, with an
    :class:`InputWarning` ``stacklevel`` frames above the caller; raise if one has no area left.
    """
    polygonal = np.isin(types, (_POLYGON, _MULTIPOLYGON))
    invalid = polygonal & ~shapely.is_valid(geoms)
    if not invalid.any():
        return out
    reason = shapely.is_valid_reason(geoms[invalid][0])
    repaired = _keep_polygonal(_make_valid(geoms[invalid]))
    collapsed = np.zeros(len(frame), dtype=bool)
    collapsed[np.flatnonzero(invalid)[shapely.is_empty(repaired)]] = True
    if collapsed.any():
        raise InputError(
            f"{where}: {plural(int(collapsed.sum()), 'invalid polygon')} with no area left "
            f"after repair ({locate_rows(frame, collapsed, id_columns)}; e.g. {reason}): "
            "fix the geometry or drop those rows"
        )
    fixed = geoms.copy()
    fixed[invalid] = repaired
    out[geometry_name] = gpd.GeoSeries(fixed, index=frame.index, crs=frame.crs)
    warnings.warn(
        f"{where}: repaired {plural(int(invalid.sum()), 'invalid polygon')} with "
        f"shapely.make_valid ({locate_rows(frame, invalid, id_columns)}; e.g. {reason}): "
        "check the result, or fix the source data to silence this warning",
        InputWarning,
        stacklevel=stacklevel + 1,
    )
    return out


def _lonlat_hint(bounds: np.ndarray) -> str:
    """A guess at the CRS from the coordinates, used when the CRS is missing."""
    finite = bounds[np.isfinite(bounds).all(axis=1)]
    if len(finite) == 0:
        return ""
    minx, miny = finite[:, 0].min(), finite[:, 1].min()
    maxx, maxy = finite[:, 2].max(), finite[:, 3].max()
    if -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90:
        return " (the coordinates look like lon/lat, so probably EPSG:4326)"
    return " (the coordinates look projected, so use the CRS they were made in)"


def _check_lonlat(
    frame: pd.DataFrame, where: str, bounds: np.ndarray, crs: CRS, id_columns: Sequence[str]
) -> None:
    """Range and swapped-axis checks for coordinates in a geographic CRS."""
    minx, miny, maxx, maxy = bounds.T
    outside = (minx < -180) | (maxx > 180) | (miny < -90) | (maxy > 90)
    abs_x = np.maximum(np.abs(minx), np.abs(maxx))
    abs_y = np.maximum(np.abs(miny), np.abs(maxy))
    y_beyond = abs_y > 90
    # (a) every x fits a latitude, y values fit longitudes and many of them cannot be latitudes
    many = int(y_beyond.sum()) >= max(1, math.ceil(0.2 * len(bounds)))
    looks_swapped = bool(np.all(abs_x <= 90) and np.all(abs_y <= 180) and many)
    # (b) the bounds of China with the axes swapped (lat 15..55 as x, lon 70..140 as y)
    china_swapped = bool(
        minx.min() >= 15 and maxx.max() <= 55 and miny.min() >= 70 and maxy.max() <= 140
    )
    crs_name = crs.to_string()
    if looks_swapped or china_swapped:
        rows = outside if outside.any() else np.ones(len(bounds), dtype=bool)
        arctic = (
            "; if the data really lie in the Arctic (e.g. Svalbard), project them to a metric "
            "CRS before validation"
            if not outside.any()
            else ""
        )
        raise InputError(
            f"{where}: looks like swapped lon/lat: x spans "
            f"{minx.min():.6g}..{maxx.max():.6g} (fits latitudes) and y spans "
            f"{miny.min():.6g}..{maxy.max():.6g} (fits longitudes) in {crs_name} "
            f"({locate_rows(frame, rows, id_columns)}): put longitude in x and latitude in y, e.g. "
            f"gdf.geometry = shapely.transform(gdf.geometry, lambda c: c[:, ::-1]){arctic}"
        )
    if outside.any():
        if max(np.abs(bounds).max(), 0) > 1_000:
            hint = (
                "the coordinates look projected (metres?), so the CRS is wrong: set the one "
                "they were made in with gdf.set_crs(..., allow_override=True)"
            )
        else:
            hint = "fix those coordinates or drop the rows"
        raise InputError(
            f"{where}: {plural(int(outside.sum()), 'geometry', 'geometries')} outside "
            f"lon [-180, 180] / lat [-90, 90] although the CRS {crs_name} is geographic "
            f"({locate_rows(frame, outside, id_columns)}): {hint}"
        )


def _keep_polygonal(geoms: np.ndarray) -> np.ndarray:
    """Drop non-polygonal parts (lines, points) from repaired geometries, vectorised."""
    types = shapely.get_type_id(geoms)
    ok = np.isin(types, (_POLYGON, _MULTIPOLYGON)) | shapely.is_empty(geoms)
    if ok.all():
        return geoms
    mixed = geoms[~ok]
    parts, owner = shapely.get_parts(mixed, return_index=True)
    singles, sub = shapely.get_parts(parts, return_index=True)  # explode nested multi-parts
    owner = owner[sub]
    keep = shapely.get_type_id(singles) == _POLYGON
    out = np.array([shapely.from_wkt("MULTIPOLYGON EMPTY")] * len(mixed), dtype=object)
    if keep.any():
        out = shapely.multipolygons(singles[keep], indices=owner[keep], out=out)
    result = geoms.copy()
    result[~ok] = out
    return result


def _make_valid(geoms: np.ndarray) -> np.ndarray:
    """Repair polygons: holes cut from shells, collapsed parts dropped (shapely >= 2.1).

    Older shapely falls back to the default "linework" method; callers keep only the
    polygonal parts of the result either way.
    """
    try:
        return shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    except (TypeError, ValueError, shapely.errors.UnsupportedGEOSVersionError):
        return shapely.make_valid(geoms)


def _metric_crs(crs: CRS, bounds: np.ndarray, where: str) -> CRS:
    """A CRS with metric-ish units for distance checks.

    A projected CRS is used as is. For a geographic CRS, a Lambert azimuthal equal-area
    projection on the same datum, centred on the data's lon/lat bounds, is built; its
    distance error stays within a few per cent up to ~2,000 km from the centre, which is
    enough for a tolerance check over a whole country (a UTM zone is not). Data crossing the
    antimeridian get a poor centre.
    """
    if crs.is_projected:
        return crs
    geodetic = crs.geodetic_crs
    if geodetic is None:
        raise InputError(
            f"{where}: CRS {crs.to_string()} is neither geographic nor projected: reproject "
            "the data, e.g. gdf.to_crs('EPSG:4326')"
        )
    if len(geodetic.axis_info) > 2:
        geodetic = geodetic.to_2d()
    minx, miny, maxx, maxy = bounds
    conversion = LambertAzimuthalEqualAreaConversion(
        latitude_natural_origin=float(np.clip((miny + maxy) / 2, -90, 90)),
        longitude_natural_origin=float(np.clip((minx + maxx) / 2, -180, 180)),
    )
    return ProjectedCRS(conversion=conversion, geodetic_crs=geodetic)


def check_sites_within_zones(
    sites: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    source: str,
    tolerance_m: float = 50_000,
    id_column: str | None = None,
) -> None:
    """Warn about candidate sites farther than ``tolerance_m`` from every zone.

    Parameters
    ----------
    sites, zones
        Validated sites and zones (both with a CRS; sites are reprojected to the zones' CRS).
    source
        File path or label of the sites, used to prefix the message.
    tolerance_m
        Distance in metres; sites farther than this from every zone geometry are reported.
    id_column
        Column of ``sites`` holding the ids named in the warning; the index when ``None``.

    Raises
    ------
    chargeplan.errors.InputError
        If either frame has no CRS, or ``tolerance_m`` is not a positive finite number.

    Warns
    -----
    InputWarning
        Naming the far sites (rows and ids).

    Notes
    -----
    Distances are measured in the zones' CRS when it is projected (its unit is converted
    from metres, e.g. US feet). For a geographic CRS, both frames are projected to a Lambert
    azimuthal equal-area CRS on the same datum centred on the data (``pyproj`` ``ProjectedCRS``
    with ``LambertAzimuthalEqualAreaConversion``); ``estimate_utm_crs`` would distort a whole
    country. Nearest zones are found with ``shapely.STRtree.query_nearest(max_distance=...)``.
    """
    where = source_label("sites", source)
    if isinstance(tolerance_m, bool) or not (
        isinstance(tolerance_m, (int, float, np.integer, np.floating))
        and math.isfinite(tolerance_m)
        and tolerance_m > 0
    ):
        raise InputError(
            f"{where}: tolerance_m must be a positive number of metres, got {tolerance_m!r}"
        )
    for frame, label in ((sites, where), (zones, "zones")):
        geometry_column(frame, label)
        if frame.crs is None:
            raise InputError(f'{label}: has no CRS: set it, e.g. gdf = gdf.set_crs("EPSG:4326")')
    far = _far_sites(sites, zones, tolerance_m, where)
    if not far.any():
        return
    if id_column is not None and id_column in sites.columns:
        located = locate_rows(sites, far, (id_column,))
    else:
        labelled = pd.DataFrame({"_id": sites.index}, index=sites.index)
        located = locate_rows(labelled, far, ("_id",))
    warnings.warn(
        f"{where}: {plural(int(far.sum()), 'site lies', 'sites lie')} more than "
        f"{tolerance_m / 1000:g} km from every zone ({located}): check their coordinates and "
        "CRS (swapped lon/lat? another region?) or drop them",
        InputWarning,
        stacklevel=2,
    )


def _far_sites(
    sites: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, tolerance_m: float, where: str
) -> np.ndarray:
    """Mask of the sites farther than ``tolerance_m`` from every zone (see
    :func:`check_sites_within_zones` for how distances are measured)."""
    zone_geoms = zones.geometry
    site_geoms = sites.geometry.to_crs(zones.crs) if sites.crs != zones.crs else sites.geometry
    zone_ok = ~(zone_geoms.isna() | zone_geoms.is_empty).to_numpy()
    site_ok = ~(site_geoms.isna() | site_geoms.is_empty).to_numpy()
    if not zone_ok.any() or not site_ok.any():
        return np.zeros(len(sites), dtype=bool)
    both = np.vstack(
        [
            shapely.bounds(np.asarray(zone_geoms.array, dtype=object)[zone_ok]),
            shapely.bounds(np.asarray(site_geoms.array, dtype=object)[site_ok]),
        ]
    )
    total = np.array([both[:, 0].min(), both[:, 1].min(), both[:, 2].max(), both[:, 3].max()])
    metric = _metric_crs(zones.crs, total, where)
    metres_per_unit = metric.axis_info[0].unit_conversion_factor if metric.axis_info else 1.0
    tolerance = tolerance_m / (metres_per_unit or 1.0)
    zone_m = np.asarray(zone_geoms[zone_ok].to_crs(metric).array, dtype=object)
    site_m = np.asarray(site_geoms.to_crs(metric).array, dtype=object)
    tree = shapely.STRtree(zone_m)
    near_sites = tree.query_nearest(site_m, max_distance=tolerance, all_matches=False)[0]
    far = site_ok.copy()
    far[near_sites] = False
    return far
