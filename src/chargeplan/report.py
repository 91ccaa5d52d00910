"""Writing a plan to files: GeoParquet, GeoPackage, CSV, JSON and a static PNG map.

Every file is written to a temporary name in the output folder and then renamed over the
final name (:func:`atomic_path`), so a run killed mid-write never leaves a half-written file:
each output is either the complete new version or absent (or the previous complete one).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from chargeplan.plan import Plan


@contextlib.contextmanager
def atomic_path(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it onto ``final`` if the block succeeds.

    The temporary file keeps ``final``'s suffix (writers pick the format from it).
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{final.stem}-", suffix=final.suffix, dir=final.parent)
    os.close(handle)
    tmp = Path(name)
    tmp.unlink()  # writers such as GeoPackage refuse to overwrite an empty file
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(data: dict[str, Any], path: str | Path) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(
            json.dumps(
                {k: _clean(v) for k, v in data.items()},
                indent=2,
                default=_json_default,
                ensure_ascii=False,
            )
            + "\n",
            encoding="utf-8",
        )
    return Path(path)


def _for_files(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Plain column types that every format takes (object columns become text)."""
    out = frame.reset_index(drop=True)
    for column in out.columns:
        if column != out.geometry.name and out[column].dtype == object:
            out[column] = out[column].astype(str)
    return out


def write_plan(plan: Plan, out_dir: str | Path, *, map_png: bool = True) -> dict[str, Path]:
    """Write the plan's tables, layers, summary and map into ``out_dir``.

    Files: ``sites.parquet``, ``zones.parquet``, ``gaps.parquet`` (GeoParquet);
    ``plan.gpkg`` (layers ``sites``, ``zones``, ``gaps``); ``sites.csv``, ``zones.csv``,
    ``gaps.csv``, ``assignments.csv``; ``summary.json``, ``summary.csv``; ``map.png``.

    Returns
    -------
    dict[str, pathlib.Path]
        What was written, by name.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    layers = {"sites": plan.sites, "zones": plan.zones, "gaps": plan.gaps}
    written: dict[str, Path] = {}
    for name, layer in layers.items():
        frame = _for_files(layer)
        with atomic_path(out / f"{name}.parquet") as tmp:
            frame.to_parquet(tmp, index=False)
        written[f"{name}.parquet"] = out / f"{name}.parquet"
        with atomic_path(out / f"{name}.csv") as tmp:
            frame.drop(columns=frame.geometry.name).to_csv(tmp, index=False)
        written[f"{name}.csv"] = out / f"{name}.csv"
    with atomic_path(out / "plan.gpkg") as tmp:
        for name, layer in layers.items():
            _for_files(layer).to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    written["plan.gpkg"] = out / "plan.gpkg"
    with atomic_path(out / "assignments.csv") as tmp:
        plan.assignments.to_csv(tmp, index=False)
    written["assignments.csv"] = out / "assignments.csv"
    written["summary.json"] = write_json(plan.summary, out / "summary.json")
    with atomic_path(out / "summary.csv") as tmp:
        pd.DataFrame(
            {"key": list(plan.summary), "value": [_clean(v) for v in plan.summary.values()]}
        ).to_csv(tmp, index=False)
    written["summary.csv"] = out / "summary.csv"
    if map_png:
        from chargeplan.maps import plot_plan

        with atomic_path(out / "map.png") as tmp:
            plot_plan(plan, tmp)
        written["map.png"] = out / "map.png"
    return written
