"""Validation of zones and candidate sites before any solve.

:func:`validate_zones` and :func:`validate_sites` check a GeoDataFrame step by step (ids,
columns, geometries, CRS, values) and return a validated copy; the cost table's check is
:func:`~chargeplan.inputs.cost_table.validate_cost_table` and the far-site warning
:func:`~chargeplan.inputs.geometry.check_sites_within_zones` (both importable from here too).

Every problem a user can fix raises :class:`chargeplan.errors.InputError` with a one-line
message that names the source (file path or label), the offending rows (1-based row number in
table order plus the id value) or column, what is wrong and what to do
(:mod:`chargeplan.inputs.checks`). Problems that chargeplan can repair itself (invalid polygons)
or that merely look suspicious (sites far from every zone) emit an :class:`InputWarning`
instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from chargeplan.errors import InputError
from chargeplan.inputs.checks import (
    MAX_LISTED,
    InputWarning,
    as_float,
    check_columns_unique,
    check_values,
    did_you_mean,
    listing,
    locate_rows,
    missing_or_blank,
    plural,
    quoted,
    require_columns,
    source_label,
)
from chargeplan.inputs.cost_table import validate_cost_table
from chargeplan.inputs.geometry import (
    SITE_TYPES,
    ZONE_TYPES,
    check_crs,
    check_geometries,
    check_sites_within_zones,
    geometry_column,
    repair_polygons,
)

__all__ = [
    "MAX_LISTED",
    "InputWarning",
    "check_sites_within_zones",
    "validate_cost_table",
    "validate_sites",
    "validate_zones",
]


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
        allowed_types=ZONE_TYPES,
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
        allowed_types=SITE_TYPES,
        type_hint=(
            "sites must be points: convert them, e.g. "
            "gdf.geometry = gdf.geometry.representative_point()"
        ),
    )


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
    """The checks of :func:`validate_zones` and :func:`validate_sites`, in order."""
    where = source_label(kind, source)
    geometry_name = geometry_column(frame, where)
    check_columns_unique(frame, where)
    if len(frame) == 0:
        raise InputError(f"{where}: has no rows: check the file path, layer and filters")
    _check_ids(frame, where, id_column, geometry_name)
    id_columns = (id_column,)
    require_columns(
        frame,
        where,
        [*required_columns, *nonnegative_columns],
        geometry_name=geometry_name,
    )
    geoms = np.asarray(frame[geometry_name].array, dtype=object)
    types = check_geometries(
        frame, where, geoms, allowed_types=allowed_types, type_hint=type_hint, id_columns=id_columns
    )
    check_crs(frame, where, shapely.bounds(geoms), id_columns)
    out = _checked_values(frame, where, geometry_name, nonnegative_columns, id_columns)
    # the warning points at the caller of validate_zones / validate_sites
    return repair_polygons(
        frame, out, where, geoms, types, id_columns, geometry_name=geometry_name, stacklevel=3
    )


def _check_ids(frame: pd.DataFrame, where: str, id_column: str, geometry_name: str) -> None:
    """Raise if the id column is missing, or has missing or duplicate ids."""
    if id_column not in frame.columns:
        index_note = (
            " (it is the index: call .reset_index() first)"
            if id_column in (frame.index.names or [])
            else ""
        )
        existing = [c for c in frame.columns if c != geometry_name]
        raise InputError(
            f"{where}: id column '{id_column}' is missing{index_note}"
            f"{did_you_mean([id_column], existing)}; it has columns "
            f"{quoted(existing) or 'none'}: set the scenario's id column to one of them"
        )
    ids = frame[id_column]
    no_id = missing_or_blank(ids)
    if no_id.any():
        raise InputError(
            f"{where}: id column '{id_column}' has {plural(int(no_id.sum()), 'missing id')} "
            f"({locate_rows(frame, no_id)}): give every row a unique id or drop those rows"
        )
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        dup_values = ids[dup].drop_duplicates()
        raise InputError(
            f"{where}: id column '{id_column}' has duplicate ids "
            f"{listing(dup_values.head(MAX_LISTED).tolist(), len(dup_values))} "
            f"({locate_rows(frame, dup)}): make the ids unique or drop the duplicate rows"
        )


def _checked_values(
    frame: gpd.GeoDataFrame,
    where: str,
    geometry_name: str,
    nonnegative_columns: Sequence[str],
    id_columns: Sequence[str],
) -> gpd.GeoDataFrame:
    """A copy with ``nonnegative_columns`` checked (finite, >= 0; text turned into numbers)
    and every other numeric column checked for infinite values."""
    out = frame.copy()
    nonnegative = list(dict.fromkeys(nonnegative_columns))
    for column in nonnegative:
        values = as_float(frame, column, where, id_columns)
        check_values(frame, where, column, values, id_columns, allow_nan=False, nonnegative=True)
        if not pd.api.types.is_numeric_dtype(frame[column].dtype):
            out[column] = values
    for column in frame.columns:
        if column == geometry_name or column in nonnegative:
            continue
        if getattr(frame[column].dtype, "kind", None) in ("i", "u", "f"):
            values = frame[column].to_numpy(dtype="float64", na_value=np.nan)
            check_values(
                frame, where, str(column), values, id_columns, allow_nan=True, nonnegative=False
            )
    return out
