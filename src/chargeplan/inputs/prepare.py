"""Input preparation: read (or take) zones, sites and stations, compute demand and reach.

:func:`prepare` returns :class:`Inputs`: demand zones with premium users and peak-hour demand
by charger type, candidate sites with their per-type limits and costs filled from the
scenario, and the sparse table of zone-site pairs within reach. Each step is a function of its
own module (:mod:`~chargeplan.inputs.geodata`, :mod:`~chargeplan.inputs.demand`,
:mod:`~chargeplan.inputs.reach`, :mod:`~chargeplan.inputs.stations`,
:mod:`~chargeplan.inputs.finezones`, :mod:`~chargeplan.inputs.cellsites`).
"""

from __future__ import annotations

import difflib
import logging
import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from chargeplan import progress
from chargeplan.config.scenario import Scenario
from chargeplan.errors import InputError
from chargeplan.inputs.candidates import merge_extra_sites
from chargeplan.inputs.cellsites import candidate_sites_from_cells
from chargeplan.inputs.checks import as_float, check_values, locate_rows, plural, source_label
from chargeplan.inputs.competition import compete
from chargeplan.inputs.cost_table import validate_cost_table
from chargeplan.inputs.demand import (
    allocate_premium_users,
    fill_median,
    peak_demand,
    zone_labels,
)
from chargeplan.inputs.finezones import fine_zones
from chargeplan.inputs.geodata import ids_as_text, read_layer, read_sites, read_zones
from chargeplan.inputs.geometry import check_sites_within_zones
from chargeplan.inputs.reach import (
    demand_centres,
    pairs_within_radius,
    pairs_within_standard,
    read_cost_table,
)
from chargeplan.inputs.settlement import classify_settlement
from chargeplan.inputs.stationlayer import station_layer
from chargeplan.inputs.stations import attach_own_stations, competitor_capture, read_stations
from chargeplan.inputs.validate import validate_sites, validate_zones
from chargeplan.model.pairs import pairs_from_cost_table

log = logging.getLogger(__name__)

#: Per-site columns by charger type, ``<prefix><type>``: finite numbers >= 0 once the scenario's
#: defaults are filled in.
_TYPE_COLUMN_PREFIXES = ("capex_cny_", "max_", "min_", "existing_")


@dataclass(frozen=True)
class Inputs:
    """Everything the model needs, as tables.

    Attributes
    ----------
    zones
        Demand zones with ``premium_users`` and ``peak_kwh_<type>`` (index = zone id).
    sites
        Candidate sites with ``fixed_cost_cny``, ``max_<type>`` and ``capex_cny_<type>``
        (index = site id).
    pairs
        Reachable zone-site pairs (see :mod:`chargeplan.inputs.reach`).
    """

    zones: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    pairs: pd.DataFrame


def prepare(
    scenario: Scenario,
    *,
    zones: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
) -> Inputs:
    """Read (or take) zones and sites, compute demand and the reachable pairs.

    Parameters
    ----------
    scenario
        A validated scenario.
    zones, sites
        Use these GeoDataFrames instead of the scenario's files (they are validated the same
        way; the id columns must be as the scenario says).

    Returns
    -------
    Inputs
        Data warnings the scenario acknowledges (``[warnings] acknowledge``) are not shown.
    """
    with scenario.warnings.hidden():
        return _prepare(scenario, zones, sites)


def _prepare(
    scenario: Scenario, zones: gpd.GeoDataFrame | None, sites: gpd.GeoDataFrame | None
) -> Inputs:
    """:func:`prepare`, its acknowledged warnings hidden."""
    progress.step("read inputs")
    zones, zone_source = _zones(scenario, zones)
    sites, site_source = _sites(scenario, sites)
    if scenario.fine_zones is not None:
        zones, sites = _fine_inputs(scenario, zones, sites)
        zone_source = f"{zone_source} (H3 cells)"
        site_source = f"{site_source} and cell-centre sites"
    check_sites_within_zones(
        sites,
        zones,
        source=site_source,
        tolerance_m=max(50_000.0, 1000.0 * scenario.reach.service_radius_km),
        id_column=scenario.sites.id_column,
    )
    _check_type_names(sites, scenario, site_source)
    where = source_label("sites", site_source)
    ids = (scenario.sites.id_column,)
    finite = ["fixed_cost_cny", *(p + t for p in _TYPE_COLUMN_PREFIXES for t in scenario.chargers)]
    for column in [c for c in finite if c in sites.columns]:
        as_float(sites, column, where, ids)  # text is an error, not a default

    progress.step("demand")
    if "premium_users" not in zones.columns or not _has_station_layer(scenario):
        zones = allocate_premium_users(
            zones,
            scenario.users,
            population_column=scenario.zones.population_column,
            source=zone_source,
            name_column=scenario.zones.name_column,
        )
    zones = peak_demand(
        zones, scenario.demand, source=zone_source, name_column=scenario.zones.name_column
    )
    if scenario.reach.standard is not None:
        zones = classify_settlement(
            zones,
            population_column=scenario.zones.population_column,
            crs=scenario.reach.crs,
            standard=scenario.reach.standard,
            source=source_label("zones", zone_source),
            id_columns=(scenario.zones.id_column,),
        )
    _check_max_columns(sites, scenario, where)
    sites = _site_parameters(sites, scenario, source=site_source)
    centres = demand_centres(
        zones,
        lon_column=scenario.zones.centre_lon_column,
        lat_column=scenario.zones.centre_lat_column,
    )
    zones, sites = _existing_stations(scenario, zones, centres, sites)
    for column in [c for c in finite if c in sites.columns]:
        values = as_float(sites, column, where, ids)
        check_values(sites, where, column, values, ids, allow_nan=False, nonnegative=True)
    progress.step("reach")
    pairs = _pairs(scenario, zones, sites, centres)
    log.info(
        "inputs: %d zones, %d candidate sites, %d pairs within reach; %s premium users, "
        "%.0f peak-hour kWh of public demand",
        len(zones),
        len(sites),
        len(pairs),
        f"{int(zones['premium_users'].sum()):,}",
        zones["peak_kwh"].sum(),
    )
    return Inputs(zones=zones, sites=sites, pairs=pairs)


def _zones(scenario: Scenario, zones: gpd.GeoDataFrame | None) -> tuple[gpd.GeoDataFrame, str]:
    """The scenario's zones read from file, or the given ones validated the same way; and
    their source for messages."""
    zc = scenario.zones
    columns = (zc.population_column, *scenario.users.propensity)
    if zones is None:
        zones = read_zones(
            zc.file,
            id_column=zc.id_column,
            required_columns=columns,
            nonnegative_columns=(zc.population_column,),
        )
        return zones, str(zc.file)
    source = "zones (GeoDataFrame)"
    zones = validate_zones(
        ids_as_text(zones, zc.id_column, source),
        source=source,
        id_column=zc.id_column,
        required_columns=columns,
        nonnegative_columns=(zc.population_column,),
    )
    return zones.set_index(zc.id_column, drop=False).rename_axis(None), source


def _sites(scenario: Scenario, sites: gpd.GeoDataFrame | None) -> tuple[gpd.GeoDataFrame, str]:
    """The scenario's candidate sites read from file, or the given ones validated the same
    way, with the extra candidate files merged in; and their source for messages."""
    sc = scenario.sites
    if sites is None:
        sites, source = read_sites(sc.file, id_column=sc.id_column), str(sc.file)
    else:
        source = "sites (GeoDataFrame)"
        sites = validate_sites(
            ids_as_text(sites, sc.id_column, source), source=source, id_column=sc.id_column
        )
        sites = sites.set_index(sc.id_column, drop=False).rename_axis(None)
    if sc.extra:
        sites = merge_extra_sites(sites, sc, scenario.charger_types, source=source)
        source = f"{source} and {len(sc.extra)} extra candidate file(s)"
    return sites, source


def _check_type_names(sites: gpd.GeoDataFrame, scenario: Scenario, source: str) -> None:
    """Raise for a per-site column named after a charger type the catalogue lacks: it is
    almost surely misspelt."""
    for column in map(str, sites.columns):
        prefix = next((p for p in _TYPE_COLUMN_PREFIXES if column.startswith(p)), "")
        kind = column[len(prefix) :] if prefix else ""
        close = difflib.get_close_matches(kind, list(scenario.chargers), n=1, cutoff=0.75)
        if kind and kind not in scenario.chargers and close:
            raise InputError(
                f"{source}: column '{column}' names charger type '{kind}', which the "
                f"catalogue ({scenario.charger_catalogue.name}) does not define: rename it "
                f"'{prefix}{close[0]}'"
            )


def _check_max_columns(sites: gpd.GeoDataFrame, scenario: Scenario, where: str) -> None:
    """Raise for a missing ``max_<type>`` value that no scenario default would fill."""
    ids = (scenario.sites.id_column,)
    for name in scenario.charger_types:
        column = f"max_{name}"
        if column in sites.columns and name not in scenario.sites.max_chargers:
            missing = np.isnan(as_float(sites, column, where, ids))
            if missing.any():
                raise InputError(
                    f"{where}: column '{column}' has "
                    f"{plural(int(missing.sum()), 'missing value')} "
                    f"({locate_rows(sites, missing, ids)}) and the scenario "
                    f"sets no sites.max_chargers.{name}: fill them in or set that default"
                )


def _pairs(
    scenario: Scenario,
    zones: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    centres: gpd.GeoSeries,
) -> pd.DataFrame:
    """The reachable pairs: those of the scenario's cost table, else those within the radius
    (each zone's own, with a service standard)."""
    if scenario.reach.standard is not None:
        return pairs_within_standard(scenario.reach, zones, sites, centres)
    if scenario.reach.cost_table is None:
        return pairs_within_radius(
            centres,
            sites.geometry,
            scenario.reach.service_radius_km,
            crs=scenario.reach.crs,
            zone_ids=zones.index,
            site_ids=sites.index,
        )
    source = str(scenario.reach.cost_table)
    try:
        table = read_cost_table(scenario.reach.cost_table)
    except (ValueError, OSError) as error:  # parser, encoding and Arrow errors included
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "empty"
        raise InputError(
            f"{source}: cannot be read as a table ({reason}): save it as CSV with the "
            "header zone_id,site_id,cost, or as Parquet"
        ) from None
    table = validate_cost_table(table, source=source, zone_ids=zones.index, site_ids=sites.index)
    return pairs_from_cost_table(table, zones.index, sites.index, source=source)


def _fine_inputs(
    scenario: Scenario, zones: gpd.GeoDataFrame, sites: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Zones split into H3 cells and candidate sites at cell centres (``[fine_zones]``)."""
    config, zc, sc = scenario.fine_zones, scenario.zones, scenario.sites
    assert config is not None
    start = time.perf_counter()
    zones = _fill_indicators(scenario, zones)
    places = read_layer(config.places_file)
    if config.place_population_column not in places.columns:
        raise InputError(
            f"{config.places_file}: no column '{config.place_population_column}' with the "
            "places' population: set fine_zones.place_population_column to one of "
            f"{[str(c) for c in places.columns if c != places.geometry.name][:12]}"
        )
    if places.crs is None:
        raise InputError(f"{config.places_file}: has no CRS: save it with one (EPSG:4326)")
    if _has_station_layer(scenario):  # several resolutions, demand computed nationally
        cells, candidates = station_layer(scenario, zones, sites, places)
        _log_cells(len(zones), cells, candidates, start)
        return cells, candidates
    cells = fine_zones(
        zones,
        places,
        resolution=config.h3_resolution,
        id_column=zc.id_column,
        population_column=zc.population_column,
        urban_column=config.urban_population_column or "",
        place_population_column=config.place_population_column,
        centre_lon_column=zc.centre_lon_column or None,
        centre_lat_column=zc.centre_lat_column or None,
        crs=scenario.reach.crs,
        core_density_per_km2=config.core_density_per_km2,
        drop_empty=config.drop_empty_cells,
    )
    cells = cells.set_index(zc.id_column, drop=False).rename_axis(None)
    candidates = candidate_sites_from_cells(
        cells,
        sites_per_zone=config.cell_sites_per_zone,
        min_population=config.cell_site_min_population,
        supplied=sites if config.keep_scenario_sites else None,
        id_column=sc.id_column,
        cell_id_column=zc.id_column,
        population_column=zc.population_column,
        people_per_charger=config.people_per_charger,
        max_chargers_floor=config.max_chargers_floor,
    )
    candidates = candidates.set_index(sc.id_column, drop=False).rename_axis(None)
    _log_cells(len(zones), cells, candidates, start)
    return cells, candidates


def _has_station_layer(scenario: Scenario) -> bool:
    """Whether ``[fine_zones]`` asks for several resolutions (the station layer)."""
    return scenario.fine_zones is not None and scenario.fine_zones.urban_h3_resolution is not None


def _log_cells(
    n_zones: int, cells: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, start: float
) -> None:
    resolutions = sorted(set(cells["h3_resolution"].tolist()))
    log.info(
        "fine zones: %d zones -> %s H3 cells at resolution %s; %s candidate sites (%s at cell "
        "centres) (%.1f s)",
        n_zones,
        f"{len(cells):,}",
        "/".join(map(str, resolutions)),
        f"{len(candidates):,}",
        f"{int((candidates['source'] == 'cell').sum()):,}",
        time.perf_counter() - start,
    )


def _fill_indicators(scenario: Scenario, zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill missing indicators with their median over the zones, before splitting into cells.

    The demand stage fills them the same way (:func:`~chargeplan.inputs.demand.fill_median`);
    done here, the median is over the zones (prefectures), not over cells, most of which lie in
    the sparse west. A column no zone has a value for is left to the demand stage.
    """
    # zones with a proxy (Hong Kong, Macao) take its propensity in the demand stage instead
    fill = scenario.users.missing_indicators == "fill_median" and not scenario.users.proxies
    columns = [*scenario.users.propensity] if fill else []
    if scenario.demand.apartment_share_column:
        columns.append(scenario.demand.apartment_share_column)
    out = zones.copy()
    for column in [c for c in dict.fromkeys(columns) if c in out.columns]:
        values = pd.to_numeric(out[column], errors="coerce").to_numpy(float)
        gaps = ~np.isfinite(values)
        if gaps.any() and not gaps.all():
            out[column] = fill_median(
                values,
                source=str(scenario.zones.file),
                column=column,
                index=zone_labels(out, scenario.zones.name_column),
                note=" before the zones were split into cells",
                stacklevel=3,
            )
    return out


def _existing_stations(
    scenario: Scenario,
    zones: gpd.GeoDataFrame,
    centres: gpd.GeoSeries,
    sites: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Attach the brand's own stations to sites and let competitors capture demand."""
    config = scenario.existing
    if config.stations is None:
        return compete(scenario, zones, centres, None), sites
    types = scenario.charger_types
    stations = read_stations(config.stations, config, types)
    sites = attach_own_stations(
        sites,
        stations,
        types,
        match_km=config.own_match_km,
        crs=scenario.reach.crs,
        id_column=scenario.sites.id_column,
    )
    sites = _site_parameters(sites, scenario, source=str(config.stations))
    if scenario.competition is not None:
        zones = compete(scenario, zones, centres, stations)
    else:
        zones = competitor_capture(
            zones,
            centres,
            stations,
            types,
            share=config.competitor_capture_share,
            radius_km=config.competitor_radius_km,
            crs=scenario.reach.crs,
        )
    log.info(
        "existing stations: %d own (%d chargers kept), %d competitors capturing %.0f peak kWh",
        int(stations["own"].sum()),
        int(sites[[f"existing_{t}" for t in types]].to_numpy().sum()),
        int((~stations["own"]).sum()),
        float(zones[[f"captured_kwh_{t}" for t in types]].to_numpy().sum()),
    )
    return zones, sites


_FLAG_TRUE = {"1", "true", "yes", "y", "t"}


def _flags(
    sites: gpd.GeoDataFrame, column: str, listed: tuple[str, ...], source: str
) -> np.ndarray:
    """A boolean site flag from a column (true/false/1/0) and/or a list of ids."""
    flag = np.zeros(len(sites), bool)
    if column in sites.columns:
        values = sites[column]
        if values.dtype == bool:
            flag |= values.fillna(False).to_numpy(bool)
        elif pd.api.types.is_numeric_dtype(values):
            flag |= values.fillna(0).to_numpy(float) != 0
        else:
            flag |= values.astype(str).str.strip().str.lower().isin(_FLAG_TRUE).to_numpy()
    unknown = sorted(set(listed) - set(sites.index.astype(str)))
    if unknown:
        raise InputError(
            f"sites.{column} names unknown site ids {unknown[:5]}; ids must match {source}"
        )
    flag |= sites.index.astype(str).isin(listed)
    return flag


def _site_parameters(
    sites: gpd.GeoDataFrame, scenario: Scenario, *, source: str
) -> gpd.GeoDataFrame:
    """Fill per-site costs, limits, existing chargers and flags from file or scenario."""
    out = sites.copy()
    sc = scenario.sites
    defaults: dict[str, float] = {
        "fixed_cost_cny": sc.fixed_cost_cny,
        "max_stalls": np.inf if sc.max_stalls is None else float(sc.max_stalls),
        "grid_kw": np.inf if sc.grid_kw is None else sc.grid_kw,
        "grid_upgrade_kw": sc.grid_upgrade_kw,
        "grid_upgrade_cost_cny": sc.grid_upgrade_cost_cny,
    }
    for name, charger in scenario.chargers.items():
        defaults[f"capex_cny_{name}"] = charger.capex_cny
        defaults[f"min_{name}"] = 0.0
        defaults[f"existing_{name}"] = 0.0
        if name in scenario.sites.max_chargers:
            defaults[f"max_{name}"] = scenario.sites.max_chargers[name]
    for name in scenario.charger_types:
        column = f"max_{name}"
        if column not in out.columns and column not in defaults:
            raise InputError(
                f"{source}: no column '{column}' and no scenario default "
                f"sites.max_chargers.{name}: give one of them"
            )
    for column, value in defaults.items():
        if column not in out.columns:
            out[column] = value  # from the scenario or catalogue: validated there, >= 0
        values = pd.to_numeric(out[column], errors="coerce")
        missing = values.isna()
        if missing.any():
            values = values.where(~missing, value)
        if (values < 0).any():
            bad = out.index[values < 0][:5].tolist()
            raise InputError(f"{source}: column '{column}' is negative for sites {bad}: fix it")
        out[column] = values.astype(float)
    types = list(scenario.chargers)
    existing = out[[f"existing_{t}" for t in types]].to_numpy(float)
    # Where the brand already has chargers the site's fixed cost is sunk, and the site may
    # always hold at least what it has.
    out.loc[existing.sum(axis=1) > 0, "fixed_cost_cny"] = 0.0
    for k, t in enumerate(types):
        if f"max_{t}" in out.columns:
            limit = pd.to_numeric(out[f"max_{t}"], errors="coerce").to_numpy(float)
            out[f"max_{t}"] = np.where(
                np.isnan(limit), existing[:, k], np.maximum(limit, existing[:, k])
            )
    out["required"] = _flags(out, "required", sc.required, source)
    out["excluded"] = _flags(out, "excluded", sc.excluded, source)
    return out
