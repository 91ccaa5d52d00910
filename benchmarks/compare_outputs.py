"""Do two run folders hold the same outputs? File by file, as data.

Run::

    PYTHONPATH=src .venv/bin/python benchmarks/compare_outputs.py /tmp/outputs/reference \
        /tmp/outputs/current

(the folders ``benchmarks/write_outputs.py --keep`` leaves). Each file of either folder is
compared: CSV, JSON, QML and other text byte for byte; ``.parquet`` and the layers of
``plan.gpkg`` as tables (columns, dtypes, values; geometries as WKB) with their styles table;
``plan.xlsx`` cell by cell and then byte for byte; ``report.html`` as text with its embedded
PNG images left out (they are drawings, compared by eye), and the count of images; PNGs by
size only. The manifest differs by its times and the hashes of the files that differ. Prints
one line per file and exits 1 if any data file differs.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

_IMAGE = re.compile(rb"data:image/png;base64,[A-Za-z0-9+/=]+")


def _tables(path: Path) -> dict[str, pd.DataFrame]:
    import geopandas as gpd
    import pyogrio

    if path.suffix == ".parquet":
        frame = gpd.read_parquet(path) if b"geo" in _parquet_meta(path) else pd.read_parquet(path)
        return {"": frame}
    layers = {name: gpd.read_file(path, layer=name) for name, _ in pyogrio.list_layers(path)}
    import sqlite3

    with sqlite3.connect(path) as db:
        layers["layer_styles"] = pd.read_sql("select * from layer_styles", db)
        layers["gpkg_contents"] = pd.read_sql("select * from gpkg_contents", db)
    return layers


def _parquet_meta(path: Path) -> bytes:
    import pyarrow.parquet as pq

    return b"".join((pq.read_schema(path).metadata or {}).keys())


def _same_tables(a: Path, b: Path) -> str | None:
    left, right = _tables(a), _tables(b)
    if left.keys() != right.keys():
        return f"layers {sorted(left)} != {sorted(right)}"
    for name in left:
        frame, other = (_plain(tables[name]) for tables in (left, right))
        try:
            pd.testing.assert_frame_equal(frame, other, check_exact=True)
        except AssertionError as error:
            return f"layer {name!r}: {str(error).splitlines()[0:4]}"
    return None


def _plain(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its geometry as WKB bytes (compared exactly)."""
    import geopandas as gpd

    if not isinstance(table, gpd.GeoDataFrame):
        return table
    plain = pd.DataFrame(table.drop(columns=table.geometry.name))
    plain[table.geometry.name] = table.geometry.to_wkb().to_numpy()
    return plain


def _same_xlsx(a: Path, b: Path) -> str | None:
    from openpyxl import load_workbook

    left, right = load_workbook(a, read_only=True), load_workbook(b, read_only=True)
    if left.sheetnames != right.sheetnames:
        return f"sheets {left.sheetnames} != {right.sheetnames}"
    for name in left.sheetnames:
        rows = list(left[name].iter_rows(values_only=True))
        if rows != list(right[name].iter_rows(values_only=True)):
            return f"sheet {name!r} differs"
    return None if a.read_bytes() == b.read_bytes() else "same cells, different bytes"


def compare(a: Path, b: Path) -> str | None:
    """Why file ``a`` and file ``b`` differ as outputs, or ``None``."""
    if a.suffix in (".parquet", ".gpkg"):
        return _same_tables(a, b)
    if a.suffix == ".xlsx":
        return _same_xlsx(a, b)
    if a.suffix == ".png":
        return None
    left, right = a.read_bytes(), b.read_bytes()
    if a.suffix == ".html":
        images = (len(_IMAGE.findall(left)), len(_IMAGE.findall(right)))
        left, right = _IMAGE.sub(b"IMAGE", left), _IMAGE.sub(b"IMAGE", right)
        if images[0] != images[1]:
            return f"{images[0]} images != {images[1]}"
    if left != right:
        at = next(i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y)
        at = min(at, len(left), len(right))
        return f"bytes differ at {at}: {left[at - 40 : at + 40]!r} / {right[at - 40 : at + 40]!r}"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path)
    parser.add_argument("current", type=Path)
    args = parser.parse_args()
    names = sorted(
        {p.name for p in args.reference.iterdir()} | {p.name for p in args.current.iterdir()}
    )
    failed = False
    for name in names:
        a, b = args.reference / name, args.current / name
        if not a.exists() or not b.exists():
            print(f"{name:<28} only in {'current' if b.exists() else 'reference'}")
            failed = True
            continue
        why = None if name == "manifest.json" else compare(a, b)
        same = "same bytes" if a.read_bytes() == b.read_bytes() else "same"
        print(f"{name:<28} {same if why is None else 'DIFFERS: ' + why}")
        failed |= why is not None and a.suffix != ".png"
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
