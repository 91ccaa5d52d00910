"""Writing a plan to files: GeoParquet, GeoPackage, CSV, Excel, JSON, maps and an HTML report.

Column names are renamed once for every file (:mod:`chargeplan.outputs.columns`: units in the
names, provinces in one script); ``docs/outputs.md`` lists every file and column.

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
    from chargeplan.results.gaps import GapAnalysis, GapSettings

from chargeplan.outputs.columns import for_files
from chargeplan.outputs.economics import write_economics
from chargeplan.outputs.files import atomic_path, json_safe, write_csv, write_json
from chargeplan.outputs.networks import write_networks
from chargeplan.outputs.xlsx import write_xlsx

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


def _for_files(frame: gpd.GeoDataFrame, province_columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    """The files' column names (:func:`chargeplan.outputs.columns.for_files`) and plain column
    types that every format takes (object columns become text); points get ``lon``, ``lat``."""
    from chargeplan.results.stations import lon_lat

    out = for_files(frame.reset_index(drop=True), province_columns)
    for column in out.columns:
        if column != out.geometry.name and out[column].dtype == object:
            out[column] = out[column].astype(str)
    if len(out) and (out.geometry.geom_type == "Point").all() and "lon" not in out.columns:
        lon, lat = lon_lat(out)
        at = 1 + max(
            (out.columns.get_loc(c) for c in ("site_id", "name") if c in out.columns), default=-1
        )
        out.insert(at, "lon", lon)
        out.insert(at + 1, "lat", lat)
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

    Files (every column and its unit: ``docs/outputs.md``): ``sites``, ``stations`` (the open
    sites as a planner builds them, :func:`chargeplan.results.stations.station_table`),
    ``zones``, ``assignment_lines`` (zone centre to serving site), ``gaps`` (with distances to
    the nearest open and candidate site, :func:`chargeplan.results.gaps.zone_gaps`),
    ``regions`` (totals per region) and ``proposed_sites`` (new candidate sites for the zones
    out of reach), each as ``.parquet`` (GeoParquet) and ``.csv`` and as a layer of
    ``plan.gpkg`` (with its QGIS style, :mod:`chargeplan.outputs.qgis`); ``cities.csv``
    (:func:`chargeplan.results.stations.city_table`); ``assignments.csv``; ``summary.json``,
    ``summary.csv``; ``plan.xlsx`` (every table, one sheet each); ``map.png`` (``map_png``);
    ``map.html`` (interactive) and ``report.html`` (self-contained) unless ``report`` is false.
    Column names carry their units (:mod:`chargeplan.outputs.columns`); CSV files start with a
    UTF-8 byte-order mark so that Excel reads Chinese names. Without a ``scenario`` a plan that
    holds no ``stations`` table gets no ``stations`` or ``cities`` files.

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
        zones say (default: :class:`chargeplan.results.gaps.GapSettings`), stations read with
        its catalogue, and the report lists its assumptions.

    Returns
    -------
    dict[str, pathlib.Path]
        What was written, by name.
    """
    from concurrent.futures import ThreadPoolExecutor

    from chargeplan.results.gaps import GapSettings, analyse_gaps
    from chargeplan.results.shapes import region_shapes, with_region_shapes

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = without_timings(plan)
    settings = GapSettings.from_scenario(scenario) if scenario is not None else GapSettings()
    region = (settings.region_column,) if settings.region_column else ()
    # A rollout's tables hold every year (with a ``year`` column); gaps, maps and the report
    # describe its final network.
    final = plan.final()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="regions") as pool:
        # the regions' shapes are GEOS unions, which run without Python's lock: a second
        # thread draws them while this one writes the tables, the workbook and the map
        shapes = pool.submit(region_shapes, final.zones, settings.region_column)
        analysis = analyse_gaps(final, settings, shapes=False)
        stations, last, cities = _station_tables(plan, final, scenario)
        layers = {
            "sites": plan.sites,
            **({"stations": stations} if stations is not None else {}),
            "zones": plan.zones,
            "assignment_lines": _lines(final, settings),
            "gaps": analysis.zones,
            "regions": analysis.regions.reset_index(),
            "proposed_sites": analysis.proposed_sites.reset_index(),
        }
        files = {name: _for_files(layer, region) for name, layer in layers.items()}
        tables = {
            **({"cities": for_files(cities, region)} if cities is not None else {}),
            "assignments": for_files(plan.assignments),
        }
        written = _write_tables(plan, tables, out)
        written["plan.xlsx"] = write_xlsx(_sheets(plan, files, tables), out / "plan.xlsx")
        written |= write_economics(plan, out, scenario)
        written |= write_networks(last, final.summary.get("premium_users"), scenario, out)
        if map_png:
            written |= _write_map(final, analysis, out, settings.crs)
        regions = with_region_shapes(analysis.regions, shapes.result())
    analysis = dataclasses.replace(analysis, regions=regions)
    files["regions"] = _for_files(regions.reset_index(), region)
    written |= _write_layers(files, out)
    if report:
        written |= _write_pages(final, analysis, out, scenario=scenario, written=written)
    return written


def _sheets(
    plan: Plan, files: dict[str, gpd.GeoDataFrame], tables: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """The sheets of ``plan.xlsx``, in :data:`SHEETS` order."""
    sheets = {"summary": _summary_table(plan.summary), **files, **tables}
    if plan.years is not None:
        sheets["years"] = plan.years
    if plan.economics is not None:
        sheets["economics"] = plan.economics.rename_axis("site_id").reset_index()
    return _sheet_order(sheets)


def _write_map(final: Plan, analysis: GapAnalysis, out: Path, crs: str) -> dict[str, Path]:
    from chargeplan.outputs.maps import plot_plan

    with atomic_path(out / "map.png") as tmp:
        plot_plan(final, tmp, proposed_sites=analysis.proposed_sites, crs=crs)
    return {"map.png": out / "map.png"}


#: Sheets of ``plan.xlsx`` in the order a planner reads them (others follow).
SHEETS = (
    "summary",
    "stations",
    "cities",
    "economics",
    "regions",
    "gaps",
    "proposed_sites",
    "sites",
    "zones",
)


def _sheet_order(sheets: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    first = {name: sheets[name] for name in SHEETS if name in sheets}
    return first | {name: sheet for name, sheet in sheets.items() if name not in first}


def _station_tables(
    plan: Plan, final: Plan, scenario: Scenario | None
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None, pd.DataFrame | None]:
    """The plan's stations (all years of a rollout), its final network's stations and their
    city roll-up."""
    from chargeplan.results.stations import StationSettings, city_table, station_table

    if scenario is None and plan.stations is None:
        return None, None, None
    settings = (
        StationSettings.from_scenario(scenario)
        if scenario is not None
        else StationSettings(chargers={})
    )
    stations = plan.stations
    if stations is None:
        stations = station_table(plan.sites, settings, final.zones)
    last = final.stations if final.stations is not None else stations
    if "year" in last.columns and plan.years is not None:
        last = last[last["year"] == plan.years["year"].max()]
    return stations, last, city_table(last, final.zones, settings)


def _lines(final: Plan, settings: GapSettings) -> gpd.GeoDataFrame:
    from chargeplan.results.stations import assignment_lines

    return assignment_lines(
        final.assignments,
        final.zones,
        final.sites,
        lon_column=settings.centre_lon_column,
        lat_column=settings.centre_lat_column,
    )


def _summary_table(summary: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame({"key": list(summary), "value": [json_safe(v) for v in summary.values()]})


def without_timings(plan: Plan) -> Plan:
    """The plan with :data:`TIMING_KEYS` left out of its summary (and of its years')."""
    summary = {k: v for k, v in plan.summary.items() if k not in TIMING_KEYS}
    years = plan.years
    if years is not None:
        years = years.drop(columns=[k for k in TIMING_KEYS if k in years.columns])
    return dataclasses.replace(plan, summary=summary, years=years)


def _write_layers(layers: dict[str, gpd.GeoDataFrame], out: Path) -> dict[str, Path]:
    """Each layer as ``<name>.parquet`` and ``<name>.csv``, and all of them in ``plan.gpkg``
    with their QGIS styles (:mod:`chargeplan.outputs.qgis`).

    ``plan.gpkg`` is written by a second thread while this one writes the Parquet and CSV
    files: GDAL writes the GeoPackage from Arrow batches without holding Python's lock, so the
    two overlap; each file has one writer, so the files do not depend on the timing.
    """
    from concurrent.futures import ThreadPoolExecutor

    written: dict[str, Path] = {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gpkg") as pool:
        gpkg = pool.submit(_write_gpkg, layers, out / "plan.gpkg")
        for name, frame in layers.items():
            with atomic_path(out / f"{name}.parquet") as tmp:
                frame.to_parquet(tmp, index=False)
            written[f"{name}.parquet"] = out / f"{name}.parquet"
            write_csv(
                pd.DataFrame(frame.drop(columns=frame.geometry.name)),
                out / f"{name}.csv",
                index=False,
            )
            written[f"{name}.csv"] = out / f"{name}.csv"
        written["plan.gpkg"] = gpkg.result()
    return written


def _write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path) -> Path:
    """All ``layers`` in one GeoPackage with their QGIS styles, written through Arrow
    (``use_arrow``: whole columns handed to GDAL, about twice as fast as feature by feature;
    the same tables)."""
    from chargeplan.outputs.qgis import STYLES, write_layer_styles

    with atomic_path(path) as tmp, _fixed_gpkg_timestamp():
        for name, frame in layers.items():
            frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", use_arrow=True)
        write_layer_styles(tmp, STYLES, stamp=GPKG_TIMESTAMP)
    return path


def _write_tables(plan: Plan, tables: dict[str, pd.DataFrame], out: Path) -> dict[str, Path]:
    """``tables`` as CSV (``cities``, ``assignments``), ``summary.json`` and ``.csv``; a
    rollout's ``years.csv`` and chart."""
    written: dict[str, Path] = {}
    for name, table in tables.items():
        written[f"{name}.csv"] = write_csv(table, out / f"{name}.csv", index=False)
    written["summary.json"] = write_json(plan.summary, out / "summary.json")
    written["summary.csv"] = write_csv(
        _summary_table(plan.summary), out / "summary.csv", index=False
    )
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
