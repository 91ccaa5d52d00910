"""The national candidate and demand layer at station scale, from a scenario's ``[fine_zones]``.

:func:`station_layer` is what :func:`~chargeplan.inputs.prepare.prepare` runs when
``fine_zones.urban_h3_resolution`` is set: multi-resolution cells
(:func:`~chargeplan.inputs.multires.multires_cells`), their premium users and demand (the
scenario's own demand stage, on the cells of the whole country, so that a slice keeps its share
of the national target), candidate stations (by demand, with or without the catchment rule,
:func:`~chargeplan.inputs.cellsites.station_sites_from_cells`, or each zone's most populous
cells), and the slice ``fine_zones.regions`` if one is asked for.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import geopandas as gpd
import numpy as np

from chargeplan.config.catalogue import StationDesign
from chargeplan.config.scenario import Scenario
from chargeplan.errors import InputError
from chargeplan.inputs.cellpeople import SpreadOptions
from chargeplan.inputs.cellsites import candidate_sites_from_cells, station_sites_from_cells
from chargeplan.inputs.demand import allocate_premium_users, peak_demand
from chargeplan.inputs.multires import multires_cells

__all__ = [
    "min_station_daily_kwh",
    "most_populous_sites",
    "rural_reach_km",
    "smallest_design",
    "spread_options",
    "station_layer",
    "urban_reach_km",
]


def smallest_design(designs: dict[str, StationDesign], rule: str = "demand") -> tuple[str, int]:
    """The design with the fewest stalls (ties by name) and its stall count; ``rule`` names
    the ``fine_zones.cell_sites`` value that needs it in the error."""
    if not designs:
        raise InputError(
            f"fine_zones.cell_sites = '{rule}' needs station designs (the catalogue's "
            "[designs] and sizing.designs): add them, or use cell_sites = 'most_populous'"
        )
    name = min(designs, key=lambda n: (sum(designs[n].stalls.values()), n))
    return name, int(sum(designs[name].stalls.values()))


def min_station_daily_kwh(stalls: int, kwh_per_stall_day: float) -> float:
    """Daily public demand that keeps a station of ``stalls`` stalls at ``kwh_per_stall_day``
    per stall: ``stalls * kwh_per_stall_day`` (6 stalls at 48.7 kWh: 292.2 kWh a day)."""
    return float(stalls) * float(kwh_per_stall_day)


def station_layer(
    scenario: Scenario, zones: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, places: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Cells (with ``premium_users`` and demand) and candidate sites of the scenario.

    Parameters
    ----------
    scenario
        A scenario with ``fine_zones.urban_h3_resolution`` set.
    zones, sites
        The scenario's zones (indicators filled) and sites (extra files merged in).
    places
        The populated places of ``fine_zones.places_file``.

    Returns
    -------
    cells, candidates
        Indexed by their ids; the cells already carry the demand stage's columns.
    """
    config, zc, sc = scenario.fine_zones, scenario.zones, scenario.sites
    assert config is not None and config.urban_h3_resolution is not None
    cells = multires_cells(
        zones,
        places,
        resolution=config.h3_resolution,
        id_column=zc.id_column,
        drop_empty=config.drop_empty_cells,
        urban_resolution=config.urban_h3_resolution,
        rural_resolution=(
            config.h3_resolution
            if config.rural_h3_resolution is None
            else config.rural_h3_resolution
        ),
        urban_density_per_km2=config.urban_density_per_km2,
        suburban_density_per_km2=config.suburban_density_per_km2,
        **asdict(spread_options(scenario)),
    )
    cells = cells.set_index(zc.id_column, drop=False).rename_axis(None)
    source = f"{zc.file} (H3 cells)"
    cells = allocate_premium_users(
        cells,
        scenario.users,
        population_column=zc.population_column,
        source=source,
        name_column=zc.name_column,
    )
    cells = peak_demand(cells, scenario.demand, source=source)
    if config.cell_sites in ("demand", "catchment"):
        menu = {n: scenario.designs[n] for n in scenario.sizing.designs} or scenario.designs
        _, stalls = smallest_design(menu, config.cell_sites)
        candidates = station_sites_from_cells(
            cells,
            public_daily_kwh=cells["public_daily_kwh"].to_numpy(float),
            min_daily_kwh=min_station_daily_kwh(stalls, config.kwh_per_stall_day),
            coarse_min_population=config.coarse_site_min_population,
            cluster_resolution=config.candidate_h3_resolution,
            catchment_km=urban_reach_km(scenario) if config.cell_sites == "catchment" else None,
            catchment_min_daily_kwh=config.catchment_min_daily_kwh,
            rural_resolution=config.rural_candidate_h3_resolution,
            rural_km=rural_reach_km(scenario),
            crs=scenario.reach.crs,
            **_cell_site_options(scenario, sites),
        )
    else:
        candidates = most_populous_sites(scenario, cells, sites)
    candidates = candidates.set_index(sc.id_column, drop=False).rename_axis(None)
    if config.regions:
        cells, candidates = _slice(cells, candidates, config.regions, zc.region_column)
    return cells, candidates


def urban_reach_km(scenario: Scenario) -> float:
    """The reach the catchment rule fills: ``fine_zones.catchment_km`` if given, else the
    urban reach of ``[reach.standard]`` (``urban_km``), else ``reach.service_radius_km``."""
    config, reach = scenario.fine_zones, scenario.reach
    if config is not None and config.catchment_km is not None:
        return float(config.catchment_km)
    if reach.standard is not None:
        return float(reach.standard.urban_km)
    return float(reach.service_radius_km)


def rural_reach_km(scenario: Scenario) -> float:
    """The reach every rural cell keeps a candidate within under
    ``fine_zones.rural_candidate_h3_resolution``: ``reach.standard.rural_km``, else
    ``reach.service_radius_km``."""
    reach = scenario.reach
    if reach.standard is not None:
        return float(reach.standard.rural_km)
    return float(reach.service_radius_km)


def spread_options(scenario: Scenario) -> SpreadOptions:
    """How :func:`~chargeplan.inputs.finezones.fine_zones` and
    :func:`~chargeplan.inputs.multires.multires_cells` spread the scenario's zones over cells:
    its zone columns, ``[fine_zones]``' kernel settings and ``reach.crs``."""
    config, zc = scenario.fine_zones, scenario.zones
    assert config is not None
    return SpreadOptions(
        population_column=zc.population_column,
        urban_column=config.urban_population_column or "",
        place_population_column=config.place_population_column,
        centre_lon_column=zc.centre_lon_column or None,
        centre_lat_column=zc.centre_lat_column or None,
        crs=scenario.reach.crs,
        core_density_per_km2=config.core_density_per_km2,
    )


def most_populous_sites(
    scenario: Scenario, cells: gpd.GeoDataFrame, sites: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Candidate sites at each zone's most populous cells
    (:func:`~chargeplan.inputs.cellsites.candidate_sites_from_cells`) with the scenario's
    ``[fine_zones]`` settings; ``sites`` are kept if ``fine_zones.keep_scenario_sites``."""
    config = scenario.fine_zones
    assert config is not None
    return candidate_sites_from_cells(
        cells,
        sites_per_zone=config.cell_sites_per_zone,
        min_population=config.cell_site_min_population,
        **_cell_site_options(scenario, sites),
    )


def _cell_site_options(scenario: Scenario, sites: gpd.GeoDataFrame) -> dict[str, Any]:
    """The keywords both cell-site rules take from the scenario (ids, columns, charger limits)."""
    config, zc = scenario.fine_zones, scenario.zones
    assert config is not None
    return {
        "supplied": sites if config.keep_scenario_sites else None,
        "id_column": scenario.sites.id_column,
        "cell_id_column": zc.id_column,
        "population_column": zc.population_column,
        "people_per_charger": config.people_per_charger,
        "max_chargers_floor": config.max_chargers_floor,
    }


def _slice(
    cells: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    regions: tuple[str, ...],
    region_column: str | None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The cells whose region (``region_column``) or zone name is listed, and the candidates
    in them; raises naming ``fine_zones.regions`` if a listed value matches nothing."""
    columns = [c for c in (region_column, "name") if c and c in cells.columns]
    match = {c: cells[c].astype(str).isin(regions).to_numpy() for c in columns}
    keep = np.logical_or.reduce(list(match.values())) if match else np.zeros(len(cells), bool)
    found = set().union(*(set(cells.loc[m, c].astype(str)) for c, m in match.items()))
    unknown = sorted(set(regions) - found)
    if unknown:
        raise InputError(
            f"fine_zones.regions names {unknown}, which match no zone's "
            f"{' or '.join(repr(c) for c in columns) or 'region or name'}: use values of "
            "those columns (e.g. a province or prefecture name)"
        )
    cells = cells[keep]
    return cells, candidates[candidates["cell"].isin(cells.index)]
