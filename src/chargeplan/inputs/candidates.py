"""Extra candidate files (car parks, malls, service areas, partner sites) merged into the sites.

:func:`merge_extra_sites` reads each file of ``sites.extra``
(:class:`~chargeplan.config.sites.ExtraSitesConfig`), validates it like the main candidate
file (:func:`~chargeplan.inputs.validate.validate_sites`: every message names the file, the
row and the column), prefixes its ids with its source (``car_parks:p1``), fills its missing
attributes from its own table in the scenario, and appends it to the main sites. What neither
the file nor its table gives (say ``grid_kw`` of a car-park file) is left missing and filled
later from the ``[sites]`` defaults by ``prepare._site_parameters``, for every file alike.

Added columns: ``candidate_file`` (the file each site comes from) and ``kind`` (the file's
``kind`` column, else its table's ``kind``, else its prefix; the main file's sites keep their
own ``kind`` or get ``"candidate"``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from chargeplan.config.sites import ExtraSitesConfig, SitesConfig
from chargeplan.errors import InputError
from chargeplan.inputs.checks import (
    as_float,
    check_values,
    locate_rows,
    plural,
    require_columns,
    source_label,
)
from chargeplan.inputs.geodata import ids_as_text, read_layer
from chargeplan.inputs.validate import validate_sites

log = logging.getLogger(__name__)

#: Per-site numeric attributes an extra file may carry (besides ``<prefix><type>`` columns).
SITE_ATTRIBUTES = ("fixed_cost_cny", "max_stalls", "grid_kw", "grid_upgrade_kw")
_TYPE_PREFIXES = ("capex_cny_", "max_", "min_", "existing_")
_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}


def merge_extra_sites(
    sites: gpd.GeoDataFrame,
    config: SitesConfig,
    charger_types: Sequence[str],
    *,
    source: str,
) -> gpd.GeoDataFrame:
    """The main candidate sites with every extra candidate file of the scenario appended.

    Parameters
    ----------
    sites
        The validated main sites (index = id, ``config.id_column`` holds the ids).
    config
        The scenario's ``[sites]`` section; ``config.extra`` lists the files.
    charger_types
        The scenario's charger types (whose ``max_<type>`` every site needs).
    source
        The main sites' file or label, for messages.

    Returns
    -------
    geopandas.GeoDataFrame
        All sites, index = id, in the main file's CRS, with ``candidate_file`` and ``kind``.

    Raises
    ------
    chargeplan.errors.InputError
        Naming the file, row and column: unreadable file, missing lon/lat or id column, bad
        geometry or coordinates, a non-numeric or negative attribute, a ``max_<type>`` that
        neither the file, its table nor ``sites.max_chargers`` gives, an id that is not unique
        once prefixed.
    """
    if not config.extra:
        return sites
    main = sites.copy()
    main["candidate_file"] = Path(source).name
    if "kind" not in main.columns:
        main["kind"] = "candidate"
    main["kind"] = main["kind"].fillna("candidate")
    parts = [main]
    for extra in config.extra:
        part = read_extra_sites(extra, config, charger_types)
        parts.append(part.to_crs(main.crs))
    merged = pd.concat(parts)
    merged = gpd.GeoDataFrame(merged, geometry=main.geometry.name, crs=main.crs)
    _check_unique(merged, config.id_column, source)
    log.info(
        "candidate sites: %d from %s and %s from %d extra file(s)",
        len(main),
        Path(source).name,
        f"{len(merged) - len(main):,}",
        len(config.extra),
    )
    return merged


def read_extra_sites(
    extra: ExtraSitesConfig, config: SitesConfig, charger_types: Sequence[str]
) -> gpd.GeoDataFrame:
    """One extra candidate file, validated, ids prefixed, attributes filled from its table.

    The ids end up in ``config.id_column`` (the main file's id column) and the names in
    ``config.name_column``, so that every site reads alike downstream.
    """
    path = extra.file
    where = source_label("sites", str(path))
    frame = _read(extra, where)
    frame = ids_as_text(frame, extra.id_column, where)
    frame = validate_sites(frame, source=str(path), id_column=extra.id_column)
    ids = (extra.id_column,)
    for column in _numeric_columns(frame, charger_types):
        values = as_float(frame, column, where, ids)
        check_values(frame, where, column, values, ids, allow_nan=True, nonnegative=True)
        frame[column] = values
    fill = {
        "fixed_cost_cny": extra.fixed_cost_cny,
        "max_stalls": extra.max_stalls,
        "grid_kw": extra.grid_kw,
        **{f"max_{t}": extra.max_chargers.get(t) for t in charger_types},
    }
    for column, value in fill.items():
        if value is None:
            continue
        if column not in frame.columns:
            frame[column] = float(value)
        frame[column] = frame[column].fillna(float(value))
    _check_max_given(frame, config, charger_types, where, ids)
    kind = extra.kind or extra.id_prefix
    frame["kind"] = frame["kind"].fillna(kind) if "kind" in frame.columns else kind
    frame["candidate_file"] = path.name
    out_ids = extra.id_prefix + ":" + frame[extra.id_column].astype(str)
    if extra.id_column != config.id_column:
        frame = frame.drop(columns=[extra.id_column])
    if config.name_column and extra.name_column and extra.name_column in frame.columns:
        frame = frame.rename(columns={extra.name_column: config.name_column})
    frame[config.id_column] = out_ids.to_numpy()
    return frame.set_index(config.id_column, drop=False).rename_axis(None)


def _read(extra: ExtraSitesConfig, where: str) -> gpd.GeoDataFrame:
    """A vector file as it is, or a CSV file's lon/lat columns as points (WGS84)."""
    path = extra.file
    if path.suffix.lower() not in _CSV_SUFFIXES:
        return read_layer(path)
    try:
        table = pd.read_csv(path, sep=None, engine="python", dtype={extra.id_column: str})
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "empty"
        raise InputError(f"{where}: cannot be read as a CSV table ({reason})") from None
    require_columns(table, where, [extra.lon_column, extra.lat_column])
    ids = (extra.id_column,) if extra.id_column in table.columns else ()
    xy = []
    for column in (extra.lon_column, extra.lat_column):
        values = as_float(table, column, where, ids)
        check_values(table, where, column, values, ids, allow_nan=False, nonnegative=False)
        xy.append(values)
    return gpd.GeoDataFrame(
        table.drop(columns=[extra.lon_column, extra.lat_column]),
        geometry=gpd.points_from_xy(*xy),
        crs="EPSG:4326",
    )


def _numeric_columns(frame: pd.DataFrame, charger_types: Sequence[str]) -> list[str]:
    """The per-site attribute columns of ``frame`` that must hold numbers >= 0."""
    names = [*SITE_ATTRIBUTES, *(p + t for p in _TYPE_PREFIXES for t in charger_types)]
    return [c for c in names if c in frame.columns]


def _check_max_given(
    frame: pd.DataFrame,
    config: SitesConfig,
    charger_types: Sequence[str],
    where: str,
    ids: tuple[str, ...],
) -> None:
    """Raise for a site whose ``max_<type>`` neither the file, its table nor the scenario
    gives: it would be missing once merged."""
    for name in charger_types:
        column = f"max_{name}"
        if name in config.max_chargers:
            continue
        if column not in frame.columns:
            raise InputError(
                f"{where}: no column '{column}', and neither this file's entry in sites.extra "
                f"nor the scenario sets max_chargers.{name}: give one of them"
            )
        missing = np.isnan(frame[column].to_numpy(float))
        if missing.any():
            raise InputError(
                f"{where}: column '{column}' has {plural(int(missing.sum()), 'missing value')} "
                f"({locate_rows(frame, missing, ids)}) and neither this file's entry in "
                f"sites.extra nor the scenario sets max_chargers.{name}: fill them in or set "
                "that default"
            )


def _check_unique(merged: pd.DataFrame, id_column: str, source: str) -> None:
    """Raise naming the files whose ids collide once prefixed."""
    dup = merged[id_column].duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    files = sorted(set(merged.loc[dup, "candidate_file"].astype(str)))
    raise InputError(
        f"sites ({source}): ids {merged.loc[dup, id_column].drop_duplicates().tolist()[:5]} "
        f"occur more than once across the candidate files {files}: give the extra files "
        "other prefixes (sites.extra prefix = ...) or rename those sites"
    )
