"""``plan.xlsx``: every table of a run in one workbook, as a planner opens it in Excel.

One sheet per table (tables of more than :data:`MAX_ROWS` rows are left out and listed on a
``notes`` sheet), the header row frozen, units in the column names (they are the files'
names, :mod:`chargeplan.outputs.columns`), columns as wide as their content. Numbers stay
numbers; text is always written as a text cell (``t="s"``), so a name such as
``=HYPERLINK(...)`` taken from an input file is shown, never run as a formula. Missing and
infinite values are left empty. The workbook is written atomically like every output.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chargeplan.outputs.files import atomic_path

__all__ = ["MAX_ROWS", "write_xlsx"]

log = logging.getLogger(__name__)

#: Tables longer than this are left out of the workbook (listed on its ``notes`` sheet; their
#: CSV holds them): openpyxl wrote about 19,000 cells a second on the shared 2-core machine,
#: 9 times slower than the CSV (``benchmarks/xlsx_write.py``: 20,000 rows x 35 columns in
#: 36 s), so the 284,000 fine zones of a national run would take minutes; a planner opens such
#: a table in QGIS or pandas anyway.
MAX_ROWS = 20_000
#: Column widths, in characters, from the header and the first rows' content.
MIN_WIDTH, MAX_WIDTH, WIDTH_SAMPLE = 8, 50, 200
#: Excel's limit on a sheet's name.
MAX_SHEET_NAME = 31


def _cell_value(value: Any) -> Any:
    """A value openpyxl writes as a number, boolean, text or empty cell."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def _column_values(values: pd.Series) -> list[Any]:
    """A column as the Python values of its cells (vectorised for numbers)."""
    from pandas.api import types

    if types.is_bool_dtype(values.dtype) or types.is_integer_dtype(values.dtype):
        if not values.isna().any():
            return values.astype(object).map(_cell_value).tolist()
    if types.is_float_dtype(values.dtype):
        numbers = values.to_numpy(float)
        finite = np.isfinite(numbers)
        return [float(v) if ok else None for v, ok in zip(numbers.tolist(), finite, strict=True)]
    return [_cell_value(v) for v in values.tolist()]


def _width(header: str, values: list[Any]) -> float:
    sample = [f"{v:,.2f}" if isinstance(v, float) else str(v) for v in values[:WIDTH_SAMPLE]]
    longest = max([len(header), *map(len, sample)])
    return float(min(max(longest + 2, MIN_WIDTH), MAX_WIDTH))


def _write_sheet(book: Any, name: str, frame: pd.DataFrame, *, fast: bool = True) -> str:
    """Add the sheet ``name`` (header row, frozen; column widths) to ``book``; return the XML
    of its data rows for :func:`_splice_rows` (``fast``), or append them through openpyxl."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    columns = [_column_values(frame[column]) for column in frame.columns]
    rows = rows_xml(columns, len(frame)) if fast else ""  # refused text: before the sheet
    sheet = book.create_sheet(title=name[:MAX_SHEET_NAME])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def text(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=None)
        cell.value = value
        cell.data_type = "s"  # never a formula, whatever its first character
        return cell

    for position, (column, values) in enumerate(zip(frame.columns, columns, strict=True), 1):
        width = _width(str(column), values)
        sheet.column_dimensions[get_column_letter(position)].width = width
    header = []
    for column in frame.columns:
        cell = text(str(column))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    if fast:
        return rows
    for row in zip(*columns, strict=True):
        sheet.append([text(v) if isinstance(v, str) else v for v in row])
    return ""


def rows_xml(columns: list[list[Any]], rows: int) -> str:
    """The ``<row>`` elements of a sheet's data (rows 2, 3, ...) as openpyxl's write-only
    sheet writes them, from each column's cell values (:func:`_cell_value`).

    openpyxl spends about 40 us a cell in its XML writer (et_xmlfile); the same text made
    here takes well under 1 us. A number is ``<c r="B2" t="n"><v>%.16g</v></c>``, a boolean
    ``t="b"`` with 1 or 0, text an inline string (``t="inlineStr"``: shown, never run as a
    formula) cut at Excel's 32,767 characters, with ``&``, ``<`` and ``>`` escaped and
    ``xml:space="preserve"`` when it starts or ends with spaces; a missing value no cell.
    Text with characters XML cannot hold raises openpyxl's ``IllegalCharacterError``.
    """
    from openpyxl.utils import get_column_letter

    cells = [_column_xml(get_column_letter(i), values) for i, values in enumerate(columns, start=1)]
    numbers = [str(r) for r in range(2, rows + 2)]
    return "".join(
        f'<row r="{r}">' + "".join(row).replace("\0", r) + "</row>"
        for r, row in zip(numbers, zip(*cells, strict=True) if cells else [()] * rows, strict=True)
    )


def _column_xml(letter: str, values: list[Any]) -> list[str]:
    """Each cell's XML, its row number left as ``\\0`` (filled in by :func:`rows_xml`)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils.exceptions import IllegalCharacterError

    ref = f'<c r="{letter}\0"'

    def text(value: Any) -> str:
        text = str(value)[:32767]
        if ILLEGAL_CHARACTERS_RE.search(text):
            raise IllegalCharacterError(f"{text} cannot be used in worksheets.")
        if not text:
            return f'{ref} t="inlineStr" />'
        space = ' xml:space="preserve"' if text.strip() and text != text.strip() else ""
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f'{ref} t="inlineStr"><is><t{space}>{escaped}</t></is></c>'

    return [
        ""
        if v is None
        else f'{ref} t="b"><v>{int(v)}</v></c>'
        if v is True or v is False
        else f'{ref} t="n"><v>{v:.16g}</v></c>'
        if isinstance(v, (int, float))
        else text(v)
        for v in values
    ]


def write_xlsx(
    tables: dict[str, pd.DataFrame],
    path: str | Path,
    *,
    max_rows: int = MAX_ROWS,
    fast: bool = True,
) -> Path:
    """Write ``tables`` as the sheets of one workbook, atomically.

    Parameters
    ----------
    tables
        Sheet name -> table (a geometry column is left out: the coordinates are in ``lon``
        and ``lat``); one longer than ``max_rows`` rows is only listed on a ``notes``
        sheet.
    path
        The ``.xlsx`` file.
    max_rows
        Longest table written as a sheet.
    fast
        Write the data rows' XML directly (:func:`rows_xml`) into the sheets openpyxl wrote
        with their header; ``False``: every cell through openpyxl (the same bytes, about 40
        times slower; kept as the reference the fast path is tested against).

    Returns
    -------
    pathlib.Path
    """
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    rows: list[str] = []
    left_out = []
    for name, table in tables.items():
        frame = pd.DataFrame(table)
        if len(frame) > max_rows:
            left_out.append((name, len(frame), f"{name}.csv"))
            continue
        geometry = [c for c in frame.columns if str(frame[c].dtype) == "geometry"]
        rows.append(_write_sheet(book, name, frame.drop(columns=geometry), fast=fast))
    if left_out:
        names = [name for name, *_ in left_out]
        log.info("%s leaves out %s: more than %d rows", Path(path).name, names, max_rows)
        notes = pd.DataFrame(left_out, columns=["left_out_table", "rows", "find_it_in"])
        rows.append(_write_sheet(book, "notes", notes, fast=fast))
    with atomic_path(path) as tmp:
        book.save(tmp)
        _finish(tmp, rows)
    return Path(path)


#: The workbook's creation time and every zip entry's time: runs of the same inputs give the
#: same bytes (the run's real time is in the manifest).
FIXED_TIME = (2000, 1, 1, 0, 0, 0)
_CORE = "docProps/core.xml"


def _finish(path: Path, rows: list[str]) -> None:
    """Rewrite the workbook with :data:`FIXED_TIME` as its created, modified and entry times
    (openpyxl stamps the current time on each), and the ``k``-th sheet's data ``rows[k]``
    after its header row (openpyxl names the sheets' files in the order they were made)."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    stamp = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z".format(*FIXED_TIME).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            sheet = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", name)
            if sheet and rows[int(sheet[1]) - 1]:
                data = data.replace(
                    b"</sheetData>", rows[int(sheet[1]) - 1].encode() + b"</sheetData>", 1
                )
            if name == _CORE:
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, data
                )
            archive.writestr(
                zipfile.ZipInfo(name, date_time=FIXED_TIME), data, zipfile.ZIP_DEFLATED
            )
