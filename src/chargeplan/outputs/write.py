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
import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from chargeplan.results.plan import Plan

if TYPE_CHECKING:
    from chargeplan.config.scenario import Scenario
    from chargeplan.results.gaps import GapAnalysis

from chargeplan.outputs.economics import write_economics
from chargeplan.outputs.files import atomic_path, json_safe, write_csv, write_json

log = logging.getLogger(__name__)


#: Summary figures that measure the run, not the plan: kept out of every output file so that
#: runs of the same inputs give the same bytes; the manifest records them (``timings``).
TIMING_KEYS = ("build_seconds", "solve_seconds", "total_seconds")

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
    site, :func:`chargeplan.results.gaps.zone_gaps`), ``regions`` (totals per region) and
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
        zones say (default: :class:`chargeplan.results.gaps.GapSettings`), and the report lists its
        assumptions.

    Returns
    -------
    dict[str, pathlib.Path]
        What was written, by name.
    """
    from chargeplan.results.gaps import GapSettings, analyse_gaps

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = without_timings(plan)
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
    written = _write_layers(layers, out)
    written |= _write_tables(plan, out)
    written |= write_economics(plan, out)
    if map_png:
        from chargeplan.outputs.maps import plot_plan

        with atomic_path(out / "map.png") as tmp:
            plot_plan(final, tmp, proposed_sites=analysis.proposed_sites, crs=settings.crs)
        written["map.png"] = out / "map.png"
    if report:
        written |= _write_pages(final, analysis, out, scenario=scenario, written=written)
    return written


def without_timings(plan: Plan) -> Plan:
    """The plan with :data:`TIMING_KEYS` left out of its summary (and of its years')."""
    summary = {k: v for k, v in plan.summary.items() if k not in TIMING_KEYS}
    years = plan.years
    if years is not None:
        years = years.drop(columns=[k for k in TIMING_KEYS if k in years.columns])
    return dataclasses.replace(plan, summary=summary, years=years)


def _write_layers(layers: dict[str, gpd.GeoDataFrame], out: Path) -> dict[str, Path]:
    """Each layer as ``<name>.parquet`` and ``<name>.csv``, and all of them in ``plan.gpkg``."""
    written: dict[str, Path] = {}
    for name, layer in layers.items():
        frame = _for_files(layer)
        with atomic_path(out / f"{name}.parquet") as tmp:
            frame.to_parquet(tmp, index=False)
        written[f"{name}.parquet"] = out / f"{name}.parquet"
        write_csv(
            pd.DataFrame(frame.drop(columns=frame.geometry.name)), out / f"{name}.csv", index=False
        )
        written[f"{name}.csv"] = out / f"{name}.csv"
    with atomic_path(out / "plan.gpkg") as tmp, _fixed_gpkg_timestamp():
        for name, layer in layers.items():
            _for_files(layer).to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    written["plan.gpkg"] = out / "plan.gpkg"
    return written


def _write_tables(plan: Plan, out: Path) -> dict[str, Path]:
    """``assignments.csv``, ``summary.json`` and ``.csv``; a rollout's ``years.csv`` and chart."""
    written: dict[str, Path] = {}
    write_csv(plan.assignments, out / "assignments.csv", index=False)
    written["assignments.csv"] = out / "assignments.csv"
    written["summary.json"] = write_json(plan.summary, out / "summary.json")
    write_csv(
        pd.DataFrame(
            {"key": list(plan.summary), "value": [json_safe(v) for v in plan.summary.values()]}
        ),
        out / "summary.csv",
        index=False,
    )
    written["summary.csv"] = out / "summary.csv"
    if plan.years is not None:
        from chargeplan.outputs.charts import plot_rollout

        write_csv(plan.years, out / "years.csv", index=False)
        written["years.csv"] = out / "years.csv"
        with atomic_path(out / "rollout.png") as tmp:
            plot_rollout(plan.years, tmp, title=str(plan.summary.get("scenario", "")))
        written["rollout.png"] = out / "rollout.png"
    return written


def _write_pages(
    final: Plan,
    analysis: GapAnalysis,
    out: Path,
    *,
    scenario: Scenario | None,
    written: dict[str, Path],
) -> dict[str, Path]:
    """``map.html`` (unless the plan has too many zones for a browser) and ``report.html``,
    which embeds ``map.png`` if it is among the ``written`` files and links them all."""
    from chargeplan.outputs import interactive
    from chargeplan.outputs.html import write_report

    pages: dict[str, Path] = {}
    if len(final.zones) <= interactive.MAX_ZONES:
        with atomic_path(out / "map.html") as tmp:
            interactive.write_interactive_map(final, tmp, analysis)
        pages["map.html"] = out / "map.html"
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
            map_png=written["map.png"].read_bytes() if "map.png" in written else None,
            files={**written, **pages},
        )
    pages["report.html"] = out / "report.html"
    return pages
