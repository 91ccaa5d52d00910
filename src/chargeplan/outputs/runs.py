"""A finished run folder read back: its plan, its scenario, and its pages re-rendered.

:func:`read_run` turns the files a run wrote (``sites.parquet``, ``zones.parquet``,
``assignments.csv``, ``summary.json`` and ``manifest.json``) back into a
:class:`~chargeplan.results.plan.Plan`, so that two runs can be compared
(:func:`chargeplan.results.compare.compare`) and a run's report rendered again
(:func:`rerender`) without solving anything.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from chargeplan import progress
from chargeplan.errors import OutputError
from chargeplan.outputs.columns import from_files
from chargeplan.outputs.files import MANIFEST_NAME
from chargeplan.outputs.manifest import read_manifest, sha256_file, write_manifest
from chargeplan.results.plan import Plan

if TYPE_CHECKING:
    from chargeplan.config.scenario import Scenario

__all__ = [
    "PAGES",
    "check_same_scenario",
    "read_run",
    "region_column",
    "rerender",
    "run_scenario_of",
]

log = logging.getLogger(__name__)

#: The files :func:`rerender` writes again.
PAGES = ("map.png", "map.html", "report.html")


def _need(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise OutputError(
            f"{folder}: no {name}: not a complete chargeplan run folder (run "
            f"'chargeplan run SCENARIO --out {folder}' first)"
        )
    return path


def read_run(folder: str | Path) -> Plan:
    """The plan a run folder holds.

    Parameters
    ----------
    folder
        A folder written by ``chargeplan run`` (or a batch job's sub-folder).

    Returns
    -------
    Plan
        ``sites`` and ``zones`` indexed by their id columns (as the scenario in the manifest
        names them), ``assignments``, ``summary`` and (with ``economics.csv``) ``economics``
        as written.

    Raises
    ------
    OutputError
        If a file is missing, naming it.
    """
    folder = Path(folder)
    manifest = read_manifest(folder) if (folder / MANIFEST_NAME).is_file() else None
    if manifest is None:
        _need(folder, MANIFEST_NAME)
    assert manifest is not None
    scenario = manifest.get("scenario", {})
    sites = from_files(gpd.read_parquet(_need(folder, "sites.parquet")))
    zones = from_files(gpd.read_parquet(_need(folder, "zones.parquet")))
    sites = _indexed(sites, scenario.get("sites", {}).get("id_column"))
    zones = _indexed(zones, scenario.get("zones", {}).get("id_column"))
    # ids as text, as the sites and zones are indexed (numeric ids such as 110100 included)
    ids = {"zone_id": str, "site_id": str}
    assignments = from_files(pd.read_csv(_need(folder, "assignments.csv"), dtype=ids))
    summary = json.loads(_need(folder, "summary.json").read_text(encoding="utf-8"))
    years = pd.read_csv(folder / "years.csv") if (folder / "years.csv").is_file() else None
    economics = None
    if (folder / "economics.csv").is_file():  # with [economics]: one row per open station
        economics = pd.read_csv(folder / "economics.csv", dtype={"site_id": str})
        economics = economics.set_index("site_id").rename_axis(None)
    return Plan(
        sites=sites,
        zones=zones,
        assignments=assignments,
        summary=summary,
        years=years,
        economics=economics,
    )


def _indexed(frame: gpd.GeoDataFrame, column: str | None) -> gpd.GeoDataFrame:
    column = column if column in frame.columns else frame.columns[0]
    return frame.set_index(frame[column].astype(str), drop=False).rename_axis(None)


def check_same_scenario(folder: str | Path, scenario: Scenario, *, force: bool = False) -> None:
    """Refuse to replace the run of another scenario file unless ``force``.

    A folder holding a run (``manifest.json``) of the same scenario file is replaced by a
    rerun as before, whatever was changed on the command line (a new target, say); one holding
    the run of another scenario file is an :class:`~chargeplan.errors.OutputError` naming
    both, checked before anything is solved.
    """
    folder = Path(folder)
    if force or scenario.source is None or not (folder / MANIFEST_NAME).is_file():
        return
    try:
        manifest = read_manifest(folder) or {}
    except Exception:  # an unreadable manifest: the folder checks (outputs.folder) decide
        return
    recorded = (manifest.get("inputs") or {}).get("scenario", {}).get("path")
    if recorded is not None and Path(recorded) != Path(scenario.source):
        raise OutputError(
            f"{folder} holds the run of {recorded} (scenario '{manifest.get('scenario_name')}'),"
            f" not of {scenario.source}: pass --force to replace it, or give another --out"
        )


def region_column(folder: str | Path) -> str | None:
    """The zones' region column of a run's scenario (``zones.region_column``), if it has one."""
    manifest = read_manifest(folder) or {}
    column = (manifest.get("scenario") or {}).get("zones", {}).get("region_column")
    return str(column) if column else None


def run_scenario_of(folder: str | Path) -> Scenario | None:
    """The scenario recorded in a run's manifest, validated again (``None`` if it no longer
    validates, e.g. its input files moved; a report then leaves out the assumptions)."""
    from chargeplan.config.scenario import Scenario
    from chargeplan.config.validation import validate

    manifest = read_manifest(folder) or {}
    data: dict[str, Any] = dict(manifest.get("scenario") or {})
    try:
        return validate(Scenario, data, label=f"{folder}/manifest.json")
    except Exception as error:  # the report still renders, without the assumptions
        log.info("%s: scenario not read back (%s)", folder, error)
        return None


def rerender(folder: str | Path) -> list[Path]:
    """Write a run's ``map.png``, ``map.html`` and ``report.html`` again from its saved plan.

    Nothing is solved: the plan is :func:`read_run`; the pages are written with the current
    code (a newer report template, say) into a temporary folder and moved over the old ones,
    and the manifest's hashes of them updated, so the folder stays a complete run.

    Returns
    -------
    list[pathlib.Path]
        The files written.
    """
    from chargeplan.outputs.write import write_plan

    folder = Path(folder)
    progress.step("read run")
    plan = read_run(folder)
    scenario = run_scenario_of(folder)
    manifest = read_manifest(folder)
    assert manifest is not None
    progress.step("write outputs")
    with tempfile.TemporaryDirectory(prefix=".rerender-", dir=folder) as tmp:
        written = write_plan(plan, tmp, map_png=True, report=True, scenario=scenario)
        done = []
        for name in PAGES:
            if name in written:
                shutil.move(written[name], folder / name)
                manifest["outputs"][name] = {
                    "sha256": sha256_file(folder / name),
                    "bytes": (folder / name).stat().st_size,
                }
                done.append(folder / name)
    write_manifest(manifest, folder)
    return done
