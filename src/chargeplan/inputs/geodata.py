"""Reading demand zones and candidate sites from files (GeoParquet, GeoPackage, GeoJSON, ...).

Files are read with pyogrio (or pyarrow for GeoParquet), ids are kept as text, and the result is
validated (:mod:`chargeplan.inputs.validate`) before anything else sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd

from chargeplan.errors import InputError
from chargeplan.inputs.validate import validate_sites, validate_zones


def read_layer(path: str | Path) -> gpd.GeoDataFrame:
    """Read a vector file: ``.parquet`` as GeoParquet, anything else through pyogrio."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"file not found: {path}")
    try:
        if path.suffix.lower() in {".parquet", ".geoparquet", ".pq"}:
            return gpd.read_parquet(path)
        return gpd.read_file(path, engine="pyogrio")
    except Exception as error:
        raise InputError(f"{path}: cannot be read as a vector layer ({error})") from None


def ids_as_text(frame: gpd.GeoDataFrame, column: str, source: str) -> gpd.GeoDataFrame:
    """A copy with ``column`` as text (whole floats as integers: ``110100.0`` -> ``"110100"``;
    missing ids stay missing), or raise naming ``source`` if the column is missing."""
    if column not in frame.columns:
        raise InputError(
            f"{source}: id column '{column}' not found; columns are {list(frame.columns)}: "
            "set the scenario's id_column"
        )
    out = frame.copy()
    ids = out[column]
    if ids.dtype.kind == "f" and ids.notna().all() and (ids % 1 == 0).all():
        ids = ids.astype("int64")
    out[column] = ids.astype(str).where(ids.notna(), None)
    return out


def _read_checked(
    path: str | Path,
    validate: Callable[..., gpd.GeoDataFrame],
    *,
    id_column: str,
    required_columns: tuple[str, ...],
    nonnegative_columns: tuple[str, ...],
) -> gpd.GeoDataFrame:
    """Read a layer, ids as text, check it with ``validate``; index = id."""
    source = str(path)
    frame = validate(
        ids_as_text(read_layer(path), id_column, source),
        source=source,
        id_column=id_column,
        required_columns=required_columns,
        nonnegative_columns=nonnegative_columns,
    )
    return frame.set_index(id_column, drop=False).rename_axis(None)


def read_zones(
    path: str | Path,
    *,
    id_column: str,
    required_columns: tuple[str, ...] = (),
    nonnegative_columns: tuple[str, ...] = (),
) -> gpd.GeoDataFrame:
    """Read and validate demand zones (polygons or points), ids as text, index = id."""
    return _read_checked(
        path,
        validate_zones,
        id_column=id_column,
        required_columns=required_columns,
        nonnegative_columns=nonnegative_columns,
    )


def read_sites(
    path: str | Path,
    *,
    id_column: str,
    required_columns: tuple[str, ...] = (),
    nonnegative_columns: tuple[str, ...] = (),
) -> gpd.GeoDataFrame:
    """Read and validate candidate sites (points), ids as text, index = id."""
    return _read_checked(
        path,
        validate_sites,
        id_column=id_column,
        required_columns=required_columns,
        nonnegative_columns=nonnegative_columns,
    )
