"""Generic checks of input tables and the wording of their messages.

Every problem a user can fix raises :class:`chargeplan.errors.InputError` with a one-line
message that names the source (file path or label), the offending rows (1-based row number in
table order plus the id value) or column, what is wrong and what to do. At most
:data:`MAX_LISTED` offending rows are listed, followed by ``"and N more"``. Row numbers count
data rows from 1 in table order; for a CSV file with a header line, row ``n`` is on line
``n + 1``.

This module holds the pieces every table check shares: message prefixes and listings
(:func:`source_label`, :func:`listing`, :func:`locate_rows`, :func:`plural`), column checks
(:func:`require_columns`, :func:`check_columns_unique`) and value checks (:func:`as_float`,
:func:`check_values`, :func:`missing_or_blank`). All are vectorised (numpy, pandas); Python
loops only format messages.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from chargeplan.errors import InputError

__all__ = [
    "MAX_LISTED",
    "InputWarning",
    "as_float",
    "check_columns_unique",
    "check_values",
    "did_you_mean",
    "listing",
    "locate_rows",
    "missing_or_blank",
    "plural",
    "quoted",
    "require_columns",
    "source_label",
]

#: How many offending rows, ids or values a message lists before ``"and N more"``.
MAX_LISTED = 5


class InputWarning(UserWarning):
    """An input problem that chargeplan repaired, or that deserves a second look."""


# --------------------------------------------------------------------------------------------
# messages
# --------------------------------------------------------------------------------------------


def source_label(kind: str, source: str) -> str:
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


def listing(
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


def quoted(names: Sequence[object], limit: int = 10) -> str:
    """Column names in quotes, control characters escaped, up to ``limit`` of them."""
    return listing([f"'{_printable(name)}'" for name in names], limit=limit)


def _printable(name: object) -> str:
    """The name with control characters escaped, so that a message stays on one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(name))


def plural(n: int, word: str, many: str | None = None) -> str:
    """``"1 row"``, ``"2 rows"``; ``many`` for an irregular plural (``"geometries"``)."""
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


def locate_rows(frame: pd.DataFrame, mask: np.ndarray, id_columns: Sequence[str] = ()) -> str:
    """Describe the rows selected by a boolean ``mask``: ``"rows 4, 9; ids 110100, 110105"``.

    Only the first :data:`MAX_LISTED` rows are looked up, so this is cheap for large tables.
    """
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    total = len(positions)
    head = positions[:MAX_LISTED]
    text = f"{'row' if total == 1 else 'rows'} {listing([int(p) + 1 for p in head], total)}"
    usable = [c for c in id_columns if c in frame.columns]
    if usable and len(usable) == len(id_columns):
        if len(usable) == 1:
            ids = frame[usable[0]].iloc[head].tolist()
            text += f"; {'id' if total == 1 else 'ids'} {listing(ids, total)}"
        else:
            values = [frame[c].iloc[head].tolist() for c in usable]
            pairs = [
                "(" + ", ".join(_show(v) for v in row) + ")" for row in zip(*values, strict=True)
            ]
            text += f"; {'pair' if total == 1 else 'pairs'} {listing(pairs, total, fmt=str)}"
    return text


def did_you_mean(missing: Sequence[str], existing: Sequence[object]) -> str:
    """A hint naming the existing column closest to each missing one, or ``""``."""
    names = [str(c) for c in existing]
    hints = []
    for name in missing:
        close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
        if close:
            hints.append(f"'{close[0]}' for '{name}'")
    return f" (did you mean {', '.join(hints)}?)" if hints else ""


# --------------------------------------------------------------------------------------------
# columns and values
# --------------------------------------------------------------------------------------------


def check_columns_unique(frame: pd.DataFrame, where: str) -> None:
    """Raise if a column name appears more than once."""
    duplicated = frame.columns[frame.columns.duplicated()].unique().tolist()
    if duplicated:
        raise InputError(
            f"{where}: column names {quoted(duplicated)} appear more than once: "
            "rename or drop the duplicate columns"
        )


def require_columns(
    frame: pd.DataFrame, where: str, columns: Sequence[str], *, geometry_name: str | None = None
) -> None:
    """Raise naming the missing ``columns``, the closest existing ones and all existing ones."""
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if not missing:
        return
    existing = [c for c in frame.columns if c != geometry_name]
    noun = "column" if len(missing) == 1 else "columns"
    raise InputError(
        f"{where}: missing {noun} {quoted(missing)}{did_you_mean(missing, existing)}; "
        f"it has columns {quoted(existing) or 'none'}: rename the {noun} in the data or "
        "point the scenario at the right one"
    )


def as_float(frame: pd.DataFrame, column: str, where: str, id_columns: Sequence[str]) -> np.ndarray:
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
                f"{plural(int(bad.sum()), 'value')} are not numbers "
                f"({locate_rows(frame, bad, id_columns)}; e.g. "
                f"{', '.join(repr(v) for v in examples)}): "
                "make the column hold plain numbers (no units or thousands separators)"
            )
    return numeric.to_numpy(dtype="float64", na_value=np.nan)


def _is_real(dtype: object) -> bool:
    """Bool, integer or float dtype, numpy or pandas nullable."""
    return getattr(dtype, "kind", None) in ("b", "i", "u", "f")


def check_values(
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
            f"{where}: column '{column}' has {plural(int(nan.sum()), 'missing value')} "
            f"({locate_rows(frame, nan, id_columns)}): fill them in or drop those rows"
        )
    inf = np.isinf(values)
    if inf.any():
        raise InputError(
            f"{where}: column '{column}' has {plural(int(inf.sum()), 'infinite value')} "
            f"({locate_rows(frame, inf, id_columns)}): replace them with finite numbers"
        )
    if nonnegative:
        negative = values < 0  # NaN compares False
        if negative.any():
            raise InputError(
                f"{where}: column '{column}' has {plural(int(negative.sum()), 'negative value')} "
                f"({locate_rows(frame, negative, id_columns)}): fix or drop them"
            )


def missing_or_blank(series: pd.Series) -> np.ndarray:
    """Missing values, plus empty or whitespace-only strings."""
    missing = series.isna().to_numpy()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        text = series.astype("string").str.strip()
        missing = missing | text.eq("").fillna(False).to_numpy(dtype=bool)
    return missing
