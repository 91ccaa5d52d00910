"""Candidate sites at the scale of fine zones: the centres of each zone's most populous H3
cells (:func:`~chargeplan.inputs.finezones.fine_zones`), plus any supplied sites, which stand
for the cell they lie in."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import h3
import numpy as np
import pandas as pd

from chargeplan.errors import InputError

__all__ = ["candidate_sites_from_cells"]


def candidate_sites_from_cells(
    cells: gpd.GeoDataFrame,
    *,
    sites_per_zone: int,
    min_population: float = 0.0,
    supplied: gpd.GeoDataFrame | None = None,
    id_column: str = "site_id",
    cell_id_column: str = "zone_id",
    population_column: str = "popu_2020",
    people_per_charger: Mapping[str, float] | None = None,
    max_chargers_floor: Mapping[str, int] | None = None,
) -> gpd.GeoDataFrame:
    """Candidate sites at the centres of each zone's most populous cells, plus supplied sites.

    Every parent zone (``parent_id``) offers its ``sites_per_zone`` most populous cells with at
    least ``min_population`` people (ties by cell id), so that each prefecture, not only the
    largest cities, gets sites; cells that already hold a supplied site are skipped (the
    supplied site stands for them). Charger limits follow the default data's rule
    (``geodata/build_default_region.py``) applied to the cell's population: for each type
    ``t`` of ``people_per_charger``, ``max_t = max(floor(pop / people_per_charger[t]),
    max_chargers_floor[t])``; fixed costs and charger capex come from the scenario.

    Parameters
    ----------
    cells
        Output of :func:`fine_zones`: ``cell_id_column``, ``parent_id``, population and the
        cell centre (``centre_lon``/``centre_lat``, else the polygon's centroid).
    sites_per_zone
        Most sites generated per parent zone.
    min_population
        Fewest people a cell needs to become a site.
    supplied
        Sites to add as they are (points with ``id_column``); they keep their columns, and
        the generated sites leave the ones they lack missing (and the reverse).
    id_column, cell_id_column, population_column
        Column names: the sites' id, the cells' id and the cells' population.
    people_per_charger, max_chargers_floor
        The charger-limit rule, by charger type.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points: ``id_column`` (``c<H3 index>`` for generated sites), ``name`` (the
        zone's), ``cell`` (the H3 cell), ``parent_id``, ``province`` (if the cells have it),
        ``pop_max`` (the cell's population), ``max_<type>``, ``source`` (``"cell"`` or
        ``"supplied"``); supplied sites first.
    """
    if sites_per_zone < 0:
        raise InputError(f"sites_per_zone must be >= 0 (got {sites_per_zone})")
    people_per_charger = dict(people_per_charger or {})
    floors = dict(max_chargers_floor or {})
    for column in (cell_id_column, "parent_id", population_column):
        if column not in cells.columns:
            raise InputError(f"cells: missing column '{column}' (make them with fine_zones)")
    cell_ids = cells[cell_id_column].astype(str).to_numpy()
    frames = []
    taken = np.zeros(len(cells), bool)
    if supplied is not None and len(supplied):
        given = _supplied_sites(supplied, cell_ids, id_column)
        taken = np.isin(cell_ids, given["cell"].to_numpy())
        frames.append(given)
    pop = cells[population_column].to_numpy(float)
    eligible = ~taken & (pop >= min_population) & (pop > 0)
    pick = _most_populous(
        pd.factorize(cells["parent_id"])[0], pop, cell_ids, eligible, sites_per_zone
    )
    chosen = cells.iloc[pick]
    if {"centre_lon", "centre_lat"} <= set(chosen.columns):
        points = gpd.points_from_xy(chosen["centre_lon"], chosen["centre_lat"], crs="EPSG:4326")
    else:
        points = chosen.geometry.to_crs("EPSG:4326").centroid.values
    columns: dict[str, object] = {
        id_column: np.char.add("c", cell_ids[pick].astype(str)),
        "name": chosen["name"].astype(str).to_numpy() if "name" in chosen else "",
        "cell": cell_ids[pick],
        "parent_id": chosen["parent_id"].to_numpy(),
    }
    if "province" in chosen:
        columns["province"] = chosen["province"].to_numpy()
    columns["pop_max"] = pop[pick].astype(np.int64)
    for kind, people in people_per_charger.items():
        columns[f"max_{kind}"] = np.maximum(
            np.floor(pop[pick] / people), floors.get(kind, 0)
        ).astype(np.int64)
    columns["source"] = "cell"
    frames.append(gpd.GeoDataFrame(columns, geometry=points, crs="EPSG:4326"))
    out = pd.concat(frames, ignore_index=True)
    duplicated = out[id_column].duplicated()
    if duplicated.any():
        raise InputError(
            f"candidate sites: supplied site ids {out[id_column][duplicated].head(5).tolist()} "
            "clash with generated cell sites (c<H3 index>): rename them"
        )
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def _supplied_sites(
    supplied: gpd.GeoDataFrame, cell_ids: np.ndarray, id_column: str
) -> gpd.GeoDataFrame:
    """The supplied sites in lon/lat, with the H3 ``cell`` each lies in (at the cells'
    resolution) and ``source = "supplied"``."""
    if id_column not in supplied.columns:
        raise InputError(f"supplied sites: missing id column '{id_column}'")
    given = supplied.to_crs("EPSG:4326").copy()
    resolution = int(h3.get_resolution(cell_ids[0])) if len(cell_ids) else 0
    given["cell"] = [
        h3.latlng_to_cell(lat, lon, resolution)
        for lon, lat in zip(given.geometry.x, given.geometry.y, strict=True)
    ]
    given["source"] = "supplied"
    return given


def _most_populous(
    parent: np.ndarray, pop: np.ndarray, cell_ids: np.ndarray, eligible: np.ndarray, n: int
) -> np.ndarray:
    """Positions (sorted) of each zone's ``n`` most populous eligible cells, ties by cell id;
    ``parent`` numbers each cell's zone."""
    order = np.lexsort((cell_ids, -pop, parent))
    chosen = order[eligible[order]]
    # rank of each eligible cell within its zone, most populous first
    group = parent[chosen]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    rank = np.arange(len(chosen)) - np.repeat(starts, np.diff(np.r_[starts, len(chosen)]))
    return np.sort(chosen[rank < n])
