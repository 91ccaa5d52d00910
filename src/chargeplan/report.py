"""Writing a plan to files: GeoParquet, GeoPackage, CSV, JSON, maps and an HTML report.

Every file is written to a temporary name in the output folder and then renamed over the
final name (:func:`atomic_path`), so a run killed mid-write never leaves a half-written file:
each output is either the complete new version or absent (or the previous complete one).
A whole run goes one step further (:func:`atomic_dir`): its files are written into a hidden
staging folder that is renamed onto the output folder at the end, so a killed run leaves all
of its outputs or none.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from chargeplan.errors import ChargeplanError
from chargeplan.plan import Plan

if TYPE_CHECKING:
    from chargeplan.scenario import Scenario


log = logging.getLogger(__name__)


@contextlib.contextmanager
def atomic_path(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it onto ``final`` if the block succeeds.

    The temporary file, ``.<name>.partial-<pid>-<random><suffix>``, keeps ``final``'s suffix
    (writers pick the format from it) and names its process, so that one left by a killed run
    is removed by :func:`remove_stale_staging`.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{final.name}.partial-{os.getpid()}-", suffix=final.suffix, dir=final.parent
    )
    os.close(handle)
    tmp = Path(name)
    tmp.unlink()  # writers such as GeoPackage refuse to overwrite an empty file
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


#: The file whose presence marks a complete run folder (see :mod:`chargeplan.manifest`).
MANIFEST_NAME = "manifest.json"

# staging folders ``.<name>.partial-<pid>-<hex>`` and temporary files
# ``.<name>.partial-<pid>-<random><suffix>`` (see :func:`atomic_path`)
_STAGING = re.compile(
    r"^\.(?P<name>.+?)\.(?:partial|old)-(?P<pid>\d+)-(?:[0-9a-f]+$|[0-9a-z_]+\.[0-9A-Za-z]+$)"
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_staging(parent: str | Path, name: str | None = None) -> list[Path]:
    """Remove staging folders and temporary files left in ``parent`` by killed runs.

    Only those whose process is gone are removed.

    Parameters
    ----------
    parent
        The folder that holds run folders (an ``--out`` folder's parent, or a batch folder).
    name
        Only those of this run folder (default: all).

    Returns
    -------
    list[pathlib.Path]
        The folders and files removed.
    """
    parent = Path(parent)
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for entry in parent.iterdir():
        match = _STAGING.match(entry.name)
        if not match or (name is not None and match["name"] != name):
            continue
        if int(match["pid"]) != os.getpid() and not _alive(int(match["pid"])):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _listed_outputs(folder: Path) -> set[str]:
    """Top-level names a previous run's manifest lists in ``folder``."""
    try:
        outputs = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))["outputs"]
        return {str(name).split("/")[0] for name in outputs}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _publish(staging: Path, final: Path) -> None:
    """Make ``staging``'s content the content of ``final`` (see :func:`atomic_dir`)."""
    if not final.exists():
        os.rename(staging, final)
        return
    if not final.is_dir():
        raise ChargeplanError(f"{final} is a file, not a folder: choose another output folder")
    entries = {entry.name for entry in final.iterdir()}
    new = {entry.name for entry in staging.iterdir()}
    if not entries:
        os.rename(staging, final)  # POSIX rename replaces an empty folder atomically
    elif entries <= new | _listed_outputs(final) | {MANIFEST_NAME}:
        # only a previous run's outputs: swap the folders; in between, `final` is absent
        old = final.with_name(f".{final.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
        os.rename(final, old)
        os.rename(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        # the folder holds other files too: keep them, and make the manifest last in
        (final / MANIFEST_NAME).unlink(missing_ok=True)
        for entry in sorted(new - {MANIFEST_NAME}):
            target = final / entry
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(staging / entry, target)
        if MANIFEST_NAME in new:
            os.replace(staging / MANIFEST_NAME, final / MANIFEST_NAME)


@contextlib.contextmanager
def atomic_dir(final: str | Path) -> Iterator[Path]:
    """Yield an empty staging folder beside ``final``; publish it as ``final`` on success.

    Write every file of a run into the yielded folder (a hidden sibling
    ``.<name>.partial-<pid>-<random>``); when the block ends without error the folder is
    renamed onto ``final``, so a run killed at any point leaves under ``final`` either all of
    its outputs or none (or the previous run's complete ones). On error or interrupt the
    staging folder is removed; after a hard kill it stays hidden and the next run into the same
    parent removes it (:func:`remove_stale_staging`).

    A ``final`` that holds only a previous run's outputs (the files its manifest lists or that
    the new run writes) is replaced as a whole. One that also holds other files is kept: the new
    files are moved into it one by one, its old ``manifest.json`` removed first and the new one
    moved in last, so there the manifest marks a complete run.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(final.parent, final.name)
    staging = final.with_name(f".{final.name}.partial-{os.getpid()}-{secrets.token_hex(4)}")
    staging.mkdir()  # unlike tempfile.mkdtemp, keeps the umask's permissions
    try:
        yield staging
        _publish(staging, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


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


#: GeoPackage stamps each layer with the time it was written (``gpkg_contents.last_change``);
#: this fixed stamp keeps ``plan.gpkg`` byte-identical across runs of the same inputs (the run's
#: real time is in the manifest).
GPKG_TIMESTAMP = "2000-01-01T00:00:00.000Z"


@contextlib.contextmanager
def _fixed_gpkg_timestamp() -> Iterator[None]:
    import pyogrio

    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def _for_files(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Plain column types that every format takes (object columns become text)."""
    out = frame.reset_index(drop=True)
    for column in out.columns:
        if column != out.geometry.name and out[column].dtype == object:
            out[column] = out[column].astype(str)
    return out


def write_plan(
    plan: Plan,
    out_dir: str | Path,
    *,
    map_png: bool = True,
    report: bool = True,
    scenario: Scenario | None = None,
) -> dict[str, Path]:
    """Write the plan's tables, layers, summary, maps and report into ``out_dir``.

    Files: ``sites``, ``zones``, ``gaps`` (with distances to the nearest open and candidate
    site, :func:`chargeplan.gaps.zone_gaps`), ``regions`` (totals per region) and
    ``proposed_sites`` (new candidate sites for the zones out of reach), each as ``.parquet``
    (GeoParquet) and ``.csv`` and as a layer of ``plan.gpkg``; ``assignments.csv``;
    ``summary.json``, ``summary.csv``; ``map.png`` (``map_png``); ``map.html`` (interactive)
    and ``report.html`` (self-contained) unless ``report`` is false.

    Parameters
    ----------
    plan
        The plan.
    out_dir
        Output folder (created if missing).
    map_png
        Write the static map ``map.png``.
    report
        Write ``map.html`` and ``report.html``.
    scenario
        The plan's scenario: distances, regions and proposals are measured as its reach and
        zones say (default: :class:`chargeplan.gaps.GapSettings`), and the report lists its
        assumptions.

    Returns
    -------
    dict[str, pathlib.Path]
        What was written, by name.
    """
    from chargeplan.gaps import GapSettings, analyse_gaps

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    settings = GapSettings.from_scenario(scenario) if scenario is not None else GapSettings()
    # A rollout's tables hold every year (with a ``year`` column); gaps, maps and the report
    # describe its final network.
    final = plan.final()
    analysis = analyse_gaps(final, settings)
    layers = {
        "sites": plan.sites,
        "zones": plan.zones,
        "gaps": analysis.zones,
        "regions": analysis.regions.reset_index(),
        "proposed_sites": analysis.proposed_sites.reset_index(),
    }
    written: dict[str, Path] = {}
    for name, layer in layers.items():
        frame = _for_files(layer)
        with atomic_path(out / f"{name}.parquet") as tmp:
            frame.to_parquet(tmp, index=False)
        written[f"{name}.parquet"] = out / f"{name}.parquet"
        with atomic_path(out / f"{name}.csv") as tmp:
            frame.drop(columns=frame.geometry.name).to_csv(tmp, index=False)
        written[f"{name}.csv"] = out / f"{name}.csv"
    with atomic_path(out / "plan.gpkg") as tmp, _fixed_gpkg_timestamp():
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
    if plan.years is not None:
        from chargeplan.charts import plot_rollout

        with atomic_path(out / "years.csv") as tmp:
            plan.years.to_csv(tmp, index=False)
        written["years.csv"] = out / "years.csv"
        with atomic_path(out / "rollout.png") as tmp:
            plot_rollout(plan.years, tmp, title=str(plan.summary.get("scenario", "")))
        written["rollout.png"] = out / "rollout.png"
    if map_png:
        from chargeplan.maps import plot_plan

        with atomic_path(out / "map.png") as tmp:
            plot_plan(final, tmp, proposed_sites=analysis.proposed_sites, crs=settings.crs)
        written["map.png"] = out / "map.png"
    if report:
        from chargeplan import interactive
        from chargeplan.html_report import write_report

        if len(final.zones) <= interactive.MAX_ZONES:
            with atomic_path(out / "map.html") as tmp:
                interactive.write_interactive_map(final, tmp, analysis)
            written["map.html"] = out / "map.html"
        else:
            log.info(
                "map.html skipped: %d zones are more than a browser map draws (at most %d); "
                "open plan.gpkg in QGIS",
                len(final.zones),
                interactive.MAX_ZONES,
            )
        with atomic_path(out / "report.html") as tmp:
            write_report(
                final,
                tmp,
                scenario=scenario,
                analysis=analysis,
                map_png=written["map.png"].read_bytes() if map_png else None,
                files=dict(written),
            )
        written["report.html"] = out / "report.html"
    return written
