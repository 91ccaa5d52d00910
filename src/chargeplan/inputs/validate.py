"""Validation of zones, candidate sites and cost tables before any solve.

Every problem a user can fix raises :class:`chargeplan.errors.InputError` with a one-line
message that names the source (file path or label), the offending rows (1-based row number in
table order plus the id value) or column, what is wrong and what to do. At most
:data:`MAX_LISTED` offending rows are listed, followed by ``"and N more"``.

Problems that chargeplan can repair itself (invalid polygons) or that merely look suspicious
(sites far from every zone) emit an :class:`InputWarning` instead.

Row numbers count data rows from 1 in table order; for a CSV file with a header line, row ``n``
is on line ``n + 1``.

All checks are vectorised (numpy, pandas, shapely 2); Python loops only format messages.
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import LambertAzimuthalEqualAreaConversion

from chargeplan.errors import InputError

__all__ = [
    "MAX_LISTED",
    "MAX_RADIUS_KM",
    "InputWarning",
    "check_radius_km",
    "check_sites_within_zones",
    "validate_cost_table",
    "validate_sites",
    "validate_zones",
]

#: How many offending rows, ids or values a message lists before ``"and N more"``.
MAX_LISTED = 5

#: A radius in kilometres above this is almost surely given in metres.
MAX_RADIUS_KM = 2_000.0

# shapely.get_type_id codes
_POINT, _POLYGON, _MULTIPOLYGON = 0, 3, 6
_ZONE_TYPES = (_POINT, _POLYGON, _MULTIPOLYGON)
_SITE_TYPES = (_POINT,)
_COST_COLUMNS = ("zone_id", "site_id", "cost")
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


class InputWarning(UserWarning):
    """An input problem that chargeplan repaired, or that deserves a second look."""


# --------------------------------------------------------------------------------------------
# message helpers
# --------------------------------------------------------------------------------------------


def _where(kind: str, source: str) -> str:
    """Return the message prefix, e.g. ``"zones (geodata/x.gpkg)"`` or ``"zones"``."""
    text = str(source).strip()
    if not text or text == kind or text.startswith(f"{kind} ") or text.startswith(f"{kind}:"):
        return text or kind
    return f"{kind} ({text})"


def _show(value: object) -> str:
    """Format one id or value for a message."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return "<missing>"
    if isinstance(value, str):
        # repr keeps blanks visible and control characters (a stray vertical tab) on one line
        if value == "" or value != value.strip() or "," in value or not value.isprintable():
            return repr(value)
        return value
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _listing(
    items: Sequence[object],
    total: int | None = None,
    limit: int = MAX_LISTED,
    fmt: Callable[[object], str] = _show,
) -> str:
    """Join up to ``limit`` formatted items, then ``"and N more"`` for the rest of ``total``."""
    total = len(items) if total is None else total
    shown = ", ".join(fmt(item) for item in list(items)[:limit])
    more = total - min(limit, len(items))
    return f"{shown} and {more} more" if more > 0 else shown


def _quoted(names: Sequence[object], limit: int = 10) -> str:
    return _listing([f"'{_printable(name)}'" for name in names], limit=limit)


def _printable(name: object) -> str:
    """The name with control characters escaped, so that a message stays on one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(name))


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def _locate(frame: pd.DataFrame, mask: np.ndarray, id_columns: Sequence[str] = ()) -> str:
    """Describe the rows selected by a boolean ``mask``: ``"rows 4, 9; ids 110100, 110105"``.

    Only the first :data:`MAX_LISTED` rows are looked up, so this is cheap for large tables.
    """
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    total = len(positions)
    head = positions[:MAX_LISTED]
    text = f"{'row' if total == 1 else 'rows'} {_listing([int(p) + 1 for p in head], total)}"
    usable = [c for c in id_columns if c in frame.columns]
    if usable and len(usable) == len(id_columns):
        if len(usable) == 1:
            ids = frame[usable[0]].iloc[head].tolist()
            text += f"; {'id' if total == 1 else 'ids'} {_listing(ids, total)}"
        else:
            values = [frame[c].iloc[head].tolist() for c in usable]
            pairs = [
                "(" + ", ".join(_show(v) for v in row) + ")" for row in zip(*values, strict=True)
            ]
            text += f"; {'pair' if total == 1 else 'pairs'} {_listing(pairs, total, fmt=str)}"
    return text


def _did_you_mean(missing: Sequence[str], existing: Sequence[object]) -> str:
    names = [str(c) for c in existing]
    hints = []
    for name in missing:
        close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
        if close:
            hints.append(f"'{close[0]}' for '{name}'")
    return f" (did you mean {', '.join(hints)}?)" if hints else ""


# --------------------------------------------------------------------------------------------
# column helpers
# --------------------------------------------------------------------------------------------


def _check_columns_unique(frame: pd.DataFrame, where: str) -> None:
    duplicated = frame.columns[frame.columns.duplicated()].unique().tolist()
    if duplicated:
        raise InputError(
            f"{where}: column names {_quoted(duplicated)} appear more than once: "
            "rename or drop the duplicate columns"
        )


def _require_columns(
    frame: pd.DataFrame, where: str, columns: Sequence[str], *, geometry_name: str | None = None
) -> None:
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if not missing:
        return
    existing = [c for c in frame.columns if c != geometry_name]
    noun = "column" if len(missing) == 1 else "columns"
    raise InputError(
        f"{where}: missing {noun} {_quoted(missing)}{_did_you_mean(missing, existing)}; "
        f"it has columns {_quoted(existing) or 'none'}: rename the {noun} in the data or "
        "point the scenario at the right one"
    )


def _as_float(
    frame: pd.DataFrame, column: str, where: str, id_columns: Sequence[str]
) -> np.ndarray:
    """Return ``frame[column]`` as float64 (missing -> NaN), or raise if it is not numeric."""
    series = frame[column]
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        raise InputError(
            f"{where}: column '{column}' holds dates/times ({dtype}), not numbers: "
            "point the scenario at the right column"
        )
    if _is_real(dtype):
        numeric = series
    else:
        numeric = pd.to_numeric(series, errors="coerce")
        if not _is_real(numeric.dtype):
            raise InputError(
                f"{where}: column '{column}' holds {numeric.dtype} values, not real numbers: "
                "make the column hold plain numbers"
            )
        bad = (numeric.isna() & series.notna()).to_numpy()
        if bad.any():
            examples = series[bad].drop_duplicates().head(MAX_LISTED).tolist()
            raise InputError(
                f"{where}: column '{column}' is not numeric: "
                f"{_plural(int(bad.sum()), 'value')} are not numbers "
                f"({_locate(frame, bad, id_columns)}; e.g. "
                f"{', '.join(repr(v) for v in examples)}): "
                "make the column hold plain numbers (no units or thousands separators)"
            )
    return numeric.to_numpy(dtype="float64", na_value=np.nan)


def _is_real(dtype: object) -> bool:
    """Bool, integer or float dtype, numpy or pandas nullable."""
    return getattr(dtype, "kind", None) in ("b", "i", "u", "f")


def _check_values(
    frame: pd.DataFrame,
    where: str,
    column: str,
    values: np.ndarray,
    id_columns: Sequence[str],
    *,
    allow_nan: bool,
    nonnegative: bool,
) -> None:
    """Raise for NaN (unless allowed), +-inf and (if requested) negative values."""
    nan = np.isnan(values)
    if not allow_nan and nan.any():
        raise InputError(
            f"{where}: column '{column}' has {_plural(int(nan.sum()), 'missing value')} "
            f"({_locate(frame, nan, id_columns)}): fill them in or drop those rows"
        )
    inf = np.isinf(values)
    if inf.any():
        raise InputError(
            f"{where}: column '{column}' has {_plural(int(inf.sum()), 'infinite value')} "
            f"({_locate(frame, inf, id_columns)}): replace them with finite numbers"
        )
    if nonnegative:
        negative = values < 0  # NaN compares False
        if negative.any():
            raise InputError(
                f"{where}: column '{column}' has {_plural(int(negative.sum()), 'negative value')} "
                f"({_locate(frame, negative, id_columns)}): fix or drop them"
            )


def _blank(series: pd.Series) -> np.ndarray:
    """Missing values, plus empty or whitespace-only strings."""
    missing = series.isna().to_numpy()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        text = series.astype("string").str.strip()
        missing = missing | text.eq("").fillna(False).to_numpy(dtype=bool)
    return missing


# --------------------------------------------------------------------------------------------
# geometry helpers
# --------------------------------------------------------------------------------------------


def _geometry_name(frame: object, where: str) -> str:
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
            f"({_locate(frame, rows, id_columns)}): put longitude in x and latitude in y, e.g. "
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
            f"{where}: {_plural(int(outside.sum()), 'geometry', 'geometries')} outside "
            f"lon [-180, 180] / lat [-90, 90] although the CRS {crs_name} is geographic "
            f"({_locate(frame, outside, id_columns)}): {hint}"
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


def _validate_geoframe(
    frame: gpd.GeoDataFrame,
    *,
    kind: str,
    source: str,
    id_column: str,
    required_columns: Sequence[str],
    nonnegative_columns: Sequence[str],
    allowed_types: tuple[int, ...],
    type_hint: str,
) -> gpd.GeoDataFrame:
    where = _where(kind, source)
    geometry_name = _geometry_name(frame, where)
    _check_columns_unique(frame, where)
    if len(frame) == 0:
        raise InputError(f"{where}: has no rows: check the file path, layer and filters")

    # ids
    if id_column not in frame.columns:
        index_note = (
            " (it is the index: call .reset_index() first)"
            if id_column in (frame.index.names or [])
            else ""
        )
        existing = [c for c in frame.columns if c != geometry_name]
        raise InputError(
            f"{where}: id column '{id_column}' is missing{index_note}"
            f"{_did_you_mean([id_column], existing)}; it has columns "
            f"{_quoted(existing) or 'none'}: set the scenario's id column to one of them"
        )
    ids = frame[id_column]
    no_id = _blank(ids)
    if no_id.any():
        raise InputError(
            f"{where}: id column '{id_column}' has {_plural(int(no_id.sum()), 'missing id')} "
            f"({_locate(frame, no_id)}): give every row a unique id or drop those rows"
        )
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        dup_values = ids[dup].drop_duplicates()
        raise InputError(
            f"{where}: id column '{id_column}' has duplicate ids "
            f"{_listing(dup_values.head(MAX_LISTED).tolist(), len(dup_values))} "
            f"({_locate(frame, dup)}): make the ids unique or drop the duplicate rows"
        )
    id_columns = (id_column,)

    # columns
    _require_columns(
        frame,
        where,
        [*required_columns, *nonnegative_columns],
        geometry_name=geometry_name,
    )

    # geometries
    geoms = np.asarray(frame[geometry_name].array, dtype=object)
    null = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if null.any():
        raise InputError(
            f"{where}: {_plural(int(null.sum()), 'row has', 'rows have')} a null or empty "
            f"geometry ({_locate(frame, null, id_columns)}): fix the geometry or drop those rows"
        )
    types = shapely.get_type_id(geoms)
    wrong = ~np.isin(types, allowed_types)
    if wrong.any():
        names = sorted({_TYPE_NAMES.get(int(t), "unknown") for t in np.unique(types[wrong])})
        raise InputError(
            f"{where}: {_plural(int(wrong.sum()), 'geometry', 'geometries')} of type "
            f"{', '.join(names)} ({_locate(frame, wrong, id_columns)}): {type_hint}"
        )
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    bad_coord = ~np.isfinite(coords).all(axis=1)
    if bad_coord.any():
        rows = np.zeros(len(frame), dtype=bool)
        rows[owner[bad_coord]] = True
        raise InputError(
            f"{where}: {_plural(int(rows.sum()), 'geometry', 'geometries')} with missing or "
            f"infinite coordinates ({_locate(frame, rows, id_columns)}): fix the coordinates "
            "or drop those rows"
        )
    bounds = shapely.bounds(geoms)

    # CRS
    crs = frame.crs
    if crs is None:
        raise InputError(
            f"{where}: has no CRS{_lonlat_hint(bounds)}: set it, e.g. "
            'gdf = gdf.set_crs("EPSG:4326"), or for a file add the .prj sidecar / '
            "save it with its CRS"
        )
    if crs.is_geographic:
        _check_lonlat(frame, where, bounds, crs, id_columns)

    # values
    out = frame.copy()
    nonnegative = list(dict.fromkeys(nonnegative_columns))
    for column in nonnegative:
        values = _as_float(frame, column, where, id_columns)
        _check_values(frame, where, column, values, id_columns, allow_nan=False, nonnegative=True)
        if not pd.api.types.is_numeric_dtype(frame[column].dtype):
            out[column] = values
    for column in frame.columns:
        if column == geometry_name or column in nonnegative:
            continue
        if getattr(frame[column].dtype, "kind", None) in ("i", "u", "f"):
            values = frame[column].to_numpy(dtype="float64", na_value=np.nan)
            _check_values(
                frame, where, str(column), values, id_columns, allow_nan=True, nonnegative=False
            )

    # repair invalid polygons
    polygonal = np.isin(types, (_POLYGON, _MULTIPOLYGON))
    invalid = polygonal & ~shapely.is_valid(geoms)
    if invalid.any():
        reason = shapely.is_valid_reason(geoms[invalid][0])
        repaired = _keep_polygonal(_make_valid(geoms[invalid]))
        collapsed = np.zeros(len(frame), dtype=bool)
        collapsed[np.flatnonzero(invalid)[shapely.is_empty(repaired)]] = True
        if collapsed.any():
            raise InputError(
                f"{where}: {_plural(int(collapsed.sum()), 'invalid polygon')} with no area left "
                f"after repair ({_locate(frame, collapsed, id_columns)}; e.g. {reason}): "
                "fix the geometry or drop those rows"
            )
        fixed = geoms.copy()
        fixed[invalid] = repaired
        out[geometry_name] = gpd.GeoSeries(fixed, index=frame.index, crs=crs)
        warnings.warn(
            f"{where}: repaired {_plural(int(invalid.sum()), 'invalid polygon')} with "
            f"shapely.make_valid ({_locate(frame, invalid, id_columns)}; e.g. {reason}): "
            "check the result, or fix the source data to silence this warning",
            InputWarning,
            stacklevel=3,
        )
    return out


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


def validate_zones(
    zones: gpd.GeoDataFrame,
    *,
    source: str,
    id_column: str,
    required_columns: Sequence[str] = (),
    nonnegative_columns: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Check demand zones and return a validated (possibly repaired) copy.

    Parameters
    ----------
    zones
        Demand zones: Polygon/MultiPolygon or Point geometries, one row per zone.
    source
        File path or label (e.g. ``"zones"``) used to prefix every message.
    id_column
        Column holding the zone ids; they must be present and unique.
    required_columns
        Columns that must exist (any values, NaN allowed).
    nonnegative_columns
        Columns that must exist and hold finite numbers ``>= 0`` (no NaN). Columns holding
        numbers as text (e.g. ``"1200"``) are converted to float in the returned copy.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with the same index, columns and CRS. Invalid polygons are repaired with
        ``shapely.make_valid`` (keeping only polygonal parts) and reported with an
        :class:`InputWarning`. The input is never modified.

    Raises
    ------
    chargeplan.errors.InputError
        If the frame has no geometry column or no rows; the id column is missing or has
        missing/duplicate ids; a required column is missing; a geometry is null, empty, not a
        (Multi)Polygon/Point or has non-finite coordinates; the CRS is missing; a geographic
        CRS has coordinates outside lon [-180, 180] / lat [-90, 90] or that look like swapped
        lon/lat; a ``nonnegative_columns`` value is missing, infinite or negative; any other
        numeric column holds an infinite value; an invalid polygon has no area left after
        repair.

    Warns
    -----
    InputWarning
        When invalid polygons were repaired.

    Notes
    -----
    The swapped lon/lat heuristic fires when every ``|x| <= 90`` while at least 20 % of the
    rows have ``90 < |y| <= 180``, or when the bounds look like China with the axes swapped
    (x within [15, 55] and y within [70, 140]). Data genuinely in that part of the Arctic
    (e.g. Svalbard) must be projected to a metric CRS before validation.
    """
    return _validate_geoframe(
        zones,
        kind="zones",
        source=source,
        id_column=id_column,
        required_columns=required_columns,
        nonnegative_columns=nonnegative_columns,
        allowed_types=_ZONE_TYPES,
        type_hint="zones must be Polygon, MultiPolygon or Point geometries: fix or drop them",
    )


def validate_sites(
    sites: gpd.GeoDataFrame,
    *,
    source: str,
    id_column: str,
    required_columns: Sequence[str] = (),
    nonnegative_columns: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Check candidate sites and return a validated copy.

    Parameters
    ----------
    sites
        Candidate sites: Point geometries, one row per site.
    source
        File path or label (e.g. ``"sites"``) used to prefix every message.
    id_column
        Column holding the site ids; they must be present and unique.
    required_columns
        Columns that must exist (any values, NaN allowed).
    nonnegative_columns
        Columns (costs, capacities) that must exist and hold finite numbers ``>= 0``.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with the same index, columns and CRS; the input is never modified.

    Raises
    ------
    chargeplan.errors.InputError
        For the same problems as :func:`validate_zones`, and when a geometry is not a Point
        (the message suggests ``.representative_point()``).
    """
    return _validate_geoframe(
        sites,
        kind="sites",
        source=source,
        id_column=id_column,
        required_columns=required_columns,
        nonnegative_columns=nonnegative_columns,
        allowed_types=_SITE_TYPES,
        type_hint=(
            "sites must be points: convert them, e.g. "
            "gdf.geometry = gdf.geometry.representative_point()"
        ),
    )


def _id_text(values: pd.Series | pd.Index) -> pd.Series:
    """Ids as text for comparing ids of different dtypes (``110100`` == ``"110100"``)."""
    series = pd.Series(values, copy=False).reset_index(drop=True)
    if pd.api.types.is_float_dtype(series.dtype):
        numbers = series.to_numpy(dtype="float64", na_value=np.nan)
        finite = numbers[np.isfinite(numbers)]
        if np.array_equal(finite, np.round(finite)):
            series = series.astype("Int64")
    return series.astype("string")


def _match_ids(column: pd.Series, known: pd.Index) -> tuple[pd.Series, np.ndarray, bool]:
    """Map ``column`` onto ``known`` ids; return (ids as ``known.dtype``, unknown mask, as_text)."""
    if column.dtype == known.dtype:
        found = column.isin(known).to_numpy()
        return column, ~found, False
    keys = _id_text(column)
    lookup = pd.Series(np.asarray(known, dtype=object), index=pd.Index(_id_text(known)))
    lookup = lookup[~lookup.index.duplicated()]
    found = keys.isin(lookup.index).to_numpy()
    if not found.all():
        return column, ~found, True
    mapped = lookup.reindex(keys).to_numpy()
    return pd.Series(mapped, index=column.index, name=column.name).astype(known.dtype), ~found, True


def validate_cost_table(
    table: pd.DataFrame,
    *,
    source: str,
    zone_ids: pd.Index,
    site_ids: pd.Index,
) -> pd.DataFrame:
    """Check a zone-to-site cost table and return a copy with ids in the zones'/sites' dtype.

    Parameters
    ----------
    table
        One row per (zone, site) pair with columns ``zone_id``, ``site_id`` and ``cost``.
    source
        File path or label (e.g. ``"costs"``) used to prefix every message.
    zone_ids, site_ids
        The validated ids of the zones and sites. When the table's id dtype differs (e.g.
        integer ids in the table, string ids in the zones), ids are compared as text.

    Returns
    -------
    pandas.DataFrame
        A copy with the same index; ``zone_id``/``site_id`` cast to the dtypes of
        ``zone_ids``/``site_ids``; ``cost`` converted to float if it was held as text.

    Raises
    ------
    chargeplan.errors.InputError
        If a column is missing (naming the missing and existing ones), the table is empty, an
        id is missing or unknown (naming the unknown ids), a cost is not a number, missing,
        infinite or negative, or a (zone_id, site_id) pair appears more than once.
    """
    where = _where("cost table", source)
    if not isinstance(table, pd.DataFrame):
        raise InputError(
            f"{where}: expected a table (DataFrame), got {type(table).__name__}: "
            "read it with pandas.read_csv(...)"
        )
    _check_columns_unique(table, where)
    _require_columns(table, where, _COST_COLUMNS)
    if len(table) == 0:
        raise InputError(f"{where}: has no rows: check the file, or compute the costs first")
    for column in ("zone_id", "site_id"):
        blank = _blank(table[column])
        if blank.any():
            raise InputError(
                f"{where}: column '{column}' has {_plural(int(blank.sum()), 'missing id')} "
                f"({_locate(table, blank)}): fill them in or drop those rows"
            )
    pair = ("zone_id", "site_id")
    cost = _as_float(table, "cost", where, pair)
    _check_values(table, where, "cost", cost, pair, allow_nan=False, nonnegative=True)

    out = table.copy()
    if not pd.api.types.is_numeric_dtype(table["cost"].dtype):
        out["cost"] = cost
    for column, known, kind in (
        ("zone_id", pd.Index(zone_ids), "zones"),
        ("site_id", pd.Index(site_ids), "sites"),
    ):
        mapped, unknown, as_text = _match_ids(table[column], known)
        if unknown.any():
            values = table[column][unknown].drop_duplicates()
            note = (
                f", compared as text because '{column}' here is {table[column].dtype} and "
                f"the {kind}' ids are {known.dtype}"
                if as_text
                else ""
            )
            example = (
                f"e.g. {_listing(known[:3].tolist(), len(known), limit=3)}"
                if len(known)
                else "none"
            )
            raise InputError(
                f"{where}: {_plural(int(unknown.sum()), 'row has', 'rows have')} a {column} "
                f"not in the {kind}: {_listing(values.head(MAX_LISTED).tolist(), len(values))} "
                f"({_locate(table, unknown, pair)}): ids must match the {kind}' id column "
                f"({example}{note}); fix the ids or drop those rows"
            )
        out[column] = mapped
    dup = out.duplicated(list(pair), keep=False).to_numpy()
    if dup.any():
        raise InputError(
            f"{where}: {_plural(int(dup.sum()), 'row repeats', 'rows repeat')} a "
            f"(zone_id, site_id) pair ({_locate(table, dup, pair)}): keep one row per pair"
        )
    return out


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
    where = _where("sites", source)
    if isinstance(tolerance_m, bool) or not (
        isinstance(tolerance_m, (int, float, np.integer, np.floating))
        and math.isfinite(tolerance_m)
        and tolerance_m > 0
    ):
        raise InputError(
            f"{where}: tolerance_m must be a positive number of metres, got {tolerance_m!r}"
        )
    for frame, label in ((sites, where), (zones, "zones")):
        _geometry_name(frame, label)
        if frame.crs is None:
            raise InputError(f'{label}: has no CRS: set it, e.g. gdf = gdf.set_crs("EPSG:4326")')
    zone_geoms = zones.geometry
    site_geoms = sites.geometry.to_crs(zones.crs) if sites.crs != zones.crs else sites.geometry
    zone_ok = ~(zone_geoms.isna() | zone_geoms.is_empty).to_numpy()
    site_ok = ~(site_geoms.isna() | site_geoms.is_empty).to_numpy()
    if not zone_ok.any() or not site_ok.any():
        return
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
    if not far.any():
        return
    if id_column is not None and id_column in sites.columns:
        located = _locate(sites, far, (id_column,))
    else:
        labelled = pd.DataFrame({"_id": sites.index}, index=sites.index)
        located = _locate(labelled, far, ("_id",))
    warnings.warn(
        f"{where}: {_plural(int(far.sum()), 'site lies', 'sites lie')} more than "
        f"{tolerance_m / 1000:g} km from every zone ({located}): check their coordinates and "
        "CRS (swapped lon/lat? another region?) or drop them",
        InputWarning,
        stacklevel=2,
    )


def check_radius_km(value: float, *, key: str, source: str) -> float:
    """Check a radius given in kilometres and return it as float.

    Parameters
    ----------
    value
        The radius in kilometres.
    key
        Name of the setting (e.g. ``"coverage_radius_km"``), used in the message.
    source
        File path or label of the scenario, used to prefix the message.

    Returns
    -------
    float
        ``value`` as a float.

    Raises
    ------
    chargeplan.errors.InputError
        If the value is not a finite number, is ``<= 0``, or is above :data:`MAX_RADIUS_KM`
        (2,000 km), which almost surely means it was given in metres.
    """
    where = str(source).strip() or "scenario"
    try:
        if isinstance(value, (bool, np.bool_)):
            raise TypeError
        radius = float(value)
    except (TypeError, ValueError):
        raise InputError(
            f"{where}: {key} = {value!r} is not a number: give the radius in kilometres, "
            f"e.g. {key}: 5"
        ) from None
    if not math.isfinite(radius):
        raise InputError(
            f"{where}: {key} = {value!r} is not finite: give kilometres, e.g. {key}: 5"
        )
    if radius <= 0:
        raise InputError(
            f"{where}: {key} = {value!r} must be positive: give kilometres, e.g. {key}: 5"
        )
    if radius > MAX_RADIUS_KM:
        raise InputError(
            f"{where}: {key} = {value!r} km looks like metres; give kilometres "
            f"(e.g. {key}: {radius / 1000:g})"
        )
    return radius
