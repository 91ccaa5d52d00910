"""CSV text of a table, column by column: the bytes ``DataFrame.to_csv(index=False)`` writes.

pandas formats a float column with numpy (``astype(str)``: about 3 us a value on the shared
machine) and then hands every row to Python's ``csv`` writer: a national ``zones.csv``
(391,185 rows, 35 float columns) took 53 s. Here each column becomes an Arrow text column once,
with no Python object per cell:

- ``float64``: Python's ``repr`` (the shortest text that reads back as the same number; the
  text numpy, hence pandas, writes too), computed once per distinct bit pattern (``np.unique``
  over the values' bits, so ``-0.0`` keeps its sign) and spread back by Arrow's ``take``;
  missing values are empty;
- integers: Arrow's cast to text (the decimal digits ``str`` writes); booleans ``True`` /
  ``False``;
- text: the value, missing ones empty; the rare value holding a comma, a quote or a line break
  is quoted by Python's ``csv`` writer itself (:func:`field_text`);

and the rows are joined by Arrow (``binary_join_element_wise``: each row's fields with commas,
in C++). Tables with other column types (dates, categories, float32, nullable integers) or
fewer than two columns give ``None``: the caller writes them with pandas.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["csv_bytes", "field_text"]

_SPECIAL = (",", '"', "\n", "\r")
_SPECIAL_RE = '[,"\\n\\r]'


def field_text(value: str) -> str:
    """One text field as Python's ``csv`` writer writes it (quoted when it must be)."""
    if not any(c in value for c in _SPECIAL):
        return value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([value, ""])
    return buffer.getvalue()[:-2]  # the field, without the empty one and the line end


def _floats(values: np.ndarray) -> Any:
    import pyarrow as pa

    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    distinct, inverse = np.unique(bits, return_inverse=True)
    texts = list(map(float.__repr__, distinct.view(np.float64).tolist()))
    text = pa.array(texts, type=pa.large_string()).take(pa.array(inverse.reshape(-1)))
    missing = np.isnan(values)
    return _blank(text, missing) if missing.any() else text


def _blank(text: Any, where: np.ndarray) -> Any:
    """``text`` with the cells at ``where`` empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.if_else(pa.array(where), pa.scalar("", pa.large_string()), text)


def _texts(column: pd.Series) -> Any:
    """Text fields: missing ones empty, others as ``str``, quoted where the csv writer would."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.array(column, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not only text: str() of each
        values = column.to_numpy(dtype=object)
        missing = pd.isna(values)
        strings = ["" if m else str(v) for v, m in zip(values.tolist(), missing, strict=True)]
        text = pa.array(strings, type=pa.large_string())
    if isinstance(text, pa.ChunkedArray):  # a column put together by pd.concat
        text = text.combine_chunks()
    text = text.fill_null("")
    special = pc.match_substring_regex(text, _SPECIAL_RE).to_numpy(zero_copy_only=False)
    if special.any():  # rare: quote those fields with the csv writer
        strings = text.to_pylist()
        for i in np.flatnonzero(special).tolist():
            strings[i] = field_text(strings[i])
        text = pa.array(strings, type=pa.large_string())
    return text


def _column_text(column: pd.Series) -> Any:
    """The column's fields as an Arrow text array, or ``None`` for a type left to pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = column.dtype
    if dtype == np.float64:
        return _floats(column.to_numpy())
    if dtype == np.bool_:
        flags = pa.array(column.to_numpy())
        return pc.if_else(flags, pa.scalar("True", pa.large_string()), "False")
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return pa.array(column.to_numpy()).cast(pa.large_string())
    if isinstance(dtype, pd.CategoricalDtype):
        return None
    if pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype):
        return _texts(column)
    return None


def csv_bytes(frame: pd.DataFrame) -> list[Any] | None:
    """The CSV text of ``frame`` (header and rows, no index) as UTF-8 pieces (bytes-like);
    ``None`` if a column's type is left to pandas (see the module's notes).

    Joined, the pieces are ``frame.to_csv(index=False).encode()``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if frame.shape[1] < 2 or not frame.columns.is_unique:
        return None
    fields = [_column_text(frame.iloc[:, i]) for i in range(frame.shape[1])]
    header = ",".join(field_text(str(name)) for name in frame.columns) + "\n"
    if any(f is None for f in fields):
        return None
    if not len(frame):
        return [header.encode()]
    text = pa.large_string()
    empty, newline = pa.scalar("", text), pa.scalar("\n", text)
    fields[-1] = pc.binary_join_element_wise(fields[-1], empty, newline)  # the line end
    rows = pc.binary_join_element_wise(*fields, pa.scalar(",", text))
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)
    body = rows.buffers()[2][int(offsets[rows.offset]) : int(offsets[rows.offset + len(rows)])]
    return [header.encode(), body]
