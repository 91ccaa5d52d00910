"""CSV text of a table, column by column: the bytes ``DataFrame.to_csv(index=False)`` writes.

pandas formats a float column with numpy (``astype(str)``: about 3 us a value on the shared
machine) and then hands every row to Python's ``csv`` writer; a national ``zones.csv`` (391,185
rows, 35 float columns) took 53 s. Here each column becomes its text once:

- ``float64``: Python's ``repr`` (the shortest text that reads back as the same number, the
  text numpy writes too), computed once per distinct bit pattern (``np.unique`` over the
  values' bits, so ``-0.0`` keeps its sign) and spread back with the inverse index; missing
  values are empty;
- integers: ``str`` of the Python integer; booleans ``True`` / ``False``;
- text: the value, missing ones empty, and a value holding a comma, a quote or a line break
  quoted as the ``csv`` writer quotes it (by that writer);

and the rows are joined in one ``str.join`` over an array of fields and separators, in blocks
of :data:`BLOCK_ROWS` rows. Tables with other column types (dates, categories, float32) or
fewer than two columns return ``None``: the caller writes them with pandas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import numpy as np
import pandas as pd
from pandas.api import types

__all__ = ["BLOCK_ROWS", "csv_blocks", "field_text"]

#: Rows joined at a time (bounds the memory of the field array: about 60 MB for 55 columns).
BLOCK_ROWS = 65_536
_SPECIAL = (",", '"', "\n", "\r")


def field_text(value: str) -> str:
    """One text field as Python's ``csv`` writer writes it (quoted when it must be)."""
    if not any(c in value for c in _SPECIAL):
        return value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([value, ""])
    return buffer.getvalue()[:-2]  # the field, without the empty one and the line end


def _floats(values: np.ndarray) -> np.ndarray:
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    distinct, inverse = np.unique(bits, return_inverse=True)
    text = np.array(list(map(float.__repr__, distinct.view(np.float64).tolist())), dtype=object)
    out = text[inverse.reshape(-1)]
    out[np.isnan(values)] = ""
    return out


def _texts(values: np.ndarray) -> np.ndarray:
    """Text fields: missing ones empty, others as ``str``, quoted where the csv writer would."""
    strings = ["" if v is None else v if v.__class__ is str else str(v) for v in values]
    joined = "\x00".join(strings)
    if any(c in joined for c in _SPECIAL):  # rare: quote field by field
        strings = [field_text(v) for v in strings]
    out = np.empty(len(strings), dtype=object)
    out[:] = strings
    return out


def _column_text(column: pd.Series) -> np.ndarray | None:
    """The column's fields, or ``None`` for a type left to pandas."""
    dtype = column.dtype
    if dtype == np.float64:
        return _floats(column.to_numpy())
    if dtype == np.bool_:
        return np.where(column.to_numpy(), "True", "False").astype(object)
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return np.array(list(map(str, column.to_numpy().tolist())), dtype=object)
    if isinstance(dtype, pd.CategoricalDtype):
        return None
    if types.is_object_dtype(dtype) or types.is_string_dtype(dtype):
        values = column.to_numpy(dtype=object, copy=True)
        values[pd.isna(values)] = None
        return _texts(values)
    return None


def csv_blocks(frame: pd.DataFrame) -> Iterator[str] | None:
    """The CSV text of ``frame`` (header and rows, no index), in blocks; ``None`` if a column's
    type is left to pandas (see the module's notes).

    Joined, the blocks are ``frame.to_csv(index=False)``.
    """
    if frame.shape[1] < 2 or not frame.columns.is_unique:
        return None
    columns = [_column_text(frame.iloc[:, i]) for i in range(frame.shape[1])]
    if any(c is None for c in columns):
        return None
    header = ",".join(field_text(str(name)) for name in frame.columns) + "\n"
    return _join(header, [c for c in columns if c is not None], len(frame))


def _join(header: str, columns: list[np.ndarray], rows: int) -> Iterator[str]:
    yield header
    width = 2 * len(columns)
    for start in range(0, rows, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, rows)
        fields = np.empty((stop - start, width), dtype=object)
        for i, column in enumerate(columns):
            fields[:, 2 * i] = column[start:stop]
        fields[:, 1:-1:2] = ","
        fields[:, -1] = "\n"
        yield "".join(fields.ravel().tolist())
