"""Validation of a zone-to-site cost table (``zone_id, site_id, cost``) before any solve.

Messages follow :mod:`chargeplan.inputs.checks`. Ids are matched to the zones' and sites' ids,
as text when their dtypes differ (``110100`` == ``"110100"``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chargeplan.errors import InputError
from chargeplan.inputs.checks import (
    MAX_LISTED,
    as_float,
    check_columns_unique,
    check_values,
    listing,
    locate_rows,
    missing_or_blank,
    plural,
    require_columns,
    source_label,
)

__all__ = ["validate_cost_table"]

_COST_COLUMNS = ("zone_id", "site_id", "cost")
_PAIR = ("zone_id", "site_id")


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
    where = source_label("cost table", source)
    if not isinstance(table, pd.DataFrame):
        raise InputError(
            f"{where}: expected a table (DataFrame), got {type(table).__name__}: "
            "read it with pandas.read_csv(...)"
        )
    check_columns_unique(table, where)
    require_columns(table, where, _COST_COLUMNS)
    if len(table) == 0:
        raise InputError(f"{where}: has no rows: check the file, or compute the costs first")
    for column in ("zone_id", "site_id"):
        blank = missing_or_blank(table[column])
        if blank.any():
            raise InputError(
                f"{where}: column '{column}' has {plural(int(blank.sum()), 'missing id')} "
                f"({locate_rows(table, blank)}): fill them in or drop those rows"
            )
    cost = as_float(table, "cost", where, _PAIR)
    check_values(table, where, "cost", cost, _PAIR, allow_nan=False, nonnegative=True)

    out = table.copy()
    if not pd.api.types.is_numeric_dtype(table["cost"].dtype):
        out["cost"] = cost
    for column, known, kind in (
        ("zone_id", pd.Index(zone_ids), "zones"),
        ("site_id", pd.Index(site_ids), "sites"),
    ):
        out[column] = _known_ids(table, column, known, kind, where)
    dup = out.duplicated(list(_PAIR), keep=False).to_numpy()
    if dup.any():
        raise InputError(
            f"{where}: {plural(int(dup.sum()), 'row repeats', 'rows repeat')} a "
            f"(zone_id, site_id) pair ({locate_rows(table, dup, _PAIR)}): keep one row per pair"
        )
    return out


def _known_ids(
    table: pd.DataFrame, column: str, known: pd.Index, kind: str, where: str
) -> pd.Series:
    """``table[column]`` as ids of ``known.dtype``, or raise naming the unknown ids."""
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
            f"e.g. {listing(known[:3].tolist(), len(known), limit=3)}" if len(known) else "none"
        )
        raise InputError(
            f"{where}: {plural(int(unknown.sum()), 'row has', 'rows have')} a {column} "
            f"not in the {kind}: {listing(values.head(MAX_LISTED).tolist(), len(values))} "
            f"({locate_rows(table, unknown, _PAIR)}): ids must match the {kind}' id column "
            f"({example}{note}); fix the ids or drop those rows"
        )
    return mapped
