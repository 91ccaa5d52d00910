r"""Fine-grained demand zones: prefectures split into H3 cells, population spread inside them.

:func:`fine_zones` turns coarse zones (the 369 census prefectures of the default region) into
H3 hexagons at a chosen resolution (res 6: about 36 km\ :sup:`2`, 3.7 km edge; res 5: about
250 km\ :sup:`2`) and spreads each prefecture's census population over its cells:

- **Urban population** ``U_p`` (``popu_urban_2020``; else ``urban_share * pop``; else, for Hong
  Kong and Macao, all of it) follows the prefecture's cities. Each Natural Earth place ``q``
  in the prefecture carries a 2-D exponential density
  ``rho_q(r) = P_q / (2 pi h_q^2) * exp(-r / h_q)`` (it integrates to its population ``P_q``
  = ``POP_MAX``) with scale ``h_q = max(sqrt(P_q / (2 pi rho_0)), e)``: the scale at which the
  place's centre density is ``rho_0`` = :data:`CORE_DENSITY_PER_KM2` (15,000 people per km2, a
  dense Chinese city core), floored at the cell edge ``e`` so that a small town does not fall
  between cell centres. Shanghai (22 M) gets ``h`` = 15 km (half its people within 26 km), a
  city of 1 M 3.3 km. A cell's weight is ``sum_q rho_q(d_cq) * area_c`` over the places of
  its own prefecture within ``KERNEL_CUTOFF * h_q`` (5 h: 96 % of the mass); a prefecture with
  no place gets one pseudo-place of its urban population at its demand centre. ``U_p`` is split
  over the prefecture's cells in proportion to these weights.
- **Rural population** ``pop_p - U_p`` is spread by cell area.

Both parts are rounded to whole people per prefecture by the largest-remainder method, so every
prefecture's urban, rural and total population are preserved exactly. Every other column of the
parent (the census indicators, ``province``) is copied to its cells, so
:mod:`chargeplan.inputs.demand` works unchanged; ``centre_lon``/``centre_lat`` are the cell centres.

A cell belongs to the prefecture that contains its centre (``h3`` polygon-to-cells in centre
mode; where simplified polygons overlap, the first prefecture in file order keeps the cell).
A prefecture too small to contain any cell centre (Macao at res 6) gets the one cell two
resolutions finer that holds its demand centre, so no population is lost.

Limits: the kernel knows city sizes, not their shapes (no coastlines, rivers or terrain, no
night lights or land use); rural population is uniform within a prefecture (the western
prefectures' deserts and plateaus get as many rural people per km2 as their valleys); the
indicators are the prefecture's, not the cell's. Good enough to place stations within a city
region at 5-10 km; not a substitute for a gridded population product (WorldPop, GHS-POP) when
one with a suitable licence is available.

:func:`~chargeplan.inputs.cellsites.candidate_sites_from_cells` makes candidate sites at the
same scale: the centres of each zone's most populous cells, plus any supplied sites (which stand
for the cell they lie in).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from chargeplan.config.defaults import DEFAULT_CRS
from chargeplan.errors import InputError
from chargeplan.inputs.cellpeople import (
    CORE_DENSITY_PER_KM2,
    SpreadOptions,
    cell_geometry,
    check_spread_inputs,
    grouped_largest_remainder,
    people_columns,
)

__all__ = [
    "CORE_DENSITY_PER_KM2",
    "KERNEL_CUTOFF",
    "ExactCells",
    "SpreadOptions",
    "exact_cells",
    "fine_zones",
    "grouped_largest_remainder",
]

#: A place's kernel is cut at this many scales (5 h: 96 % of a 2-D exponential's mass).
KERNEL_CUTOFF = 5.0

#: Columns of the parent that describe the parent itself and are not copied to its cells.
_PARENT_ONLY = ("centre_lon", "centre_lat", "centre_from_places", "area_km2", "urban_share")


def _cells_of(zones: gpd.GeoDataFrame, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """H3 cells (as int) whose centres lie in each zone, and the zone position of each."""
    cells, owner = [], []
    for position, geometry in enumerate(zones.geometry.values):
        found = h3.geo_to_cells(geometry, resolution) if not geometry.is_empty else []
        cells.append(np.fromiter((h3.str_to_int(c) for c in found), np.uint64, len(found)))
        owner.append(np.full(len(found), position, np.int64))
    cells_all = np.concatenate(cells)
    owner_all = np.concatenate(owner)
    # overlapping simplified polygons: the first zone in file order keeps a shared cell
    order = np.lexsort((owner_all, cells_all))
    keep = np.ones(order.size, bool)
    keep[1:] = cells_all[order][1:] != cells_all[order][:-1]
    return cells_all[order][keep], owner_all[order][keep]


def _finer_cells(lonlat: np.ndarray, resolution: int, taken: np.ndarray) -> np.ndarray:
    """One cell per point, two resolutions finer (finer still where two points share one)."""
    out = np.zeros(len(lonlat), np.uint64)
    used = set(taken.tolist())
    for i, (lon, lat) in enumerate(lonlat):
        for finer in range(min(resolution + 2, 15), 16):
            cell = h3.str_to_int(h3.latlng_to_cell(lat, lon, finer))
            if cell not in used:
                break
        else:
            raise InputError(f"two zones share their demand centre ({lon:.6f}, {lat:.6f}): fix one")
        used.add(cell)
        out[i] = cell
    return out


def _cell_polygons(cells: list[str]) -> np.ndarray:
    """Shapely polygons (lon/lat) of H3 cells, grouped by vertex count to vectorise."""
    boundaries = [h3.cell_to_boundary(c) for c in cells]
    sizes = np.fromiter((len(b) for b in boundaries), np.int64, len(boundaries))
    out = np.empty(len(cells), dtype=object)
    for size in np.unique(sizes):
        pick = np.flatnonzero(sizes == size)
        latlng = np.array([boundaries[i] for i in pick], dtype=float)  # (n, size, 2) lat, lng
        out[pick] = shapely.polygons(latlng[:, :, ::-1])
    return out


def _urban_population(zones: gpd.GeoDataFrame, urban_column: str, pop: np.ndarray) -> np.ndarray:
    urban = (
        zones[urban_column].to_numpy(float) if urban_column in zones else np.full(len(pop), np.nan)
    )
    share = zones["urban_share"].to_numpy(float) if "urban_share" in zones else urban * np.nan
    urban = np.where(np.isfinite(urban), urban, share * pop)
    urban = np.where(np.isfinite(urban), urban, pop)  # no figure at all: all urban (HK, Macao)
    return np.clip(urban, 0.0, pop)


def fine_zones(
    zones: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    *,
    resolution: int = 6,
    id_column: str = "zone_id",
    population_column: str = "popu_2020",
    urban_column: str = "popu_urban_2020",
    place_population_column: str = "pop_max",
    centre_lon_column: str | None = "centre_lon",
    centre_lat_column: str | None = "centre_lat",
    crs: str = DEFAULT_CRS,
    core_density_per_km2: float = CORE_DENSITY_PER_KM2,
    drop_empty: bool = False,
) -> gpd.GeoDataFrame:
    """Split zones into H3 cells and spread their population: urban around places, rural by area.

    Parameters
    ----------
    zones
        Coarse zones (polygons) with ``id_column``, ``population_column`` and, optionally,
        ``urban_column`` and ``urban_share``; any CRS.
    places
        Points of cities and towns with their population (``place_population_column``, e.g.
        Natural Earth's ``POP_MAX``; the default candidate-site file carries it as
        ``pop_max``).
    resolution
        H3 resolution (0-15); 6 gives about 36 km2 per cell, 5 about 250 km2.
    id_column, population_column, urban_column, place_population_column
        Column names.
    centre_lon_column, centre_lat_column
        The zones' demand centres (WGS84), where a zone without places gets its pseudo-place;
        missing columns (or ``None``): a point inside the polygon. The cells' centres are
        written to the same columns (``centre_lon``/``centre_lat`` if ``None``).
    crs
        Metric CRS in which kernel distances are measured.
    core_density_per_km2
        Centre density ``rho_0`` of the place kernels (see the module docstring).
    drop_empty
        Leave out the cells that get no people (totals are unchanged).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell, EPSG:4326 polygons: ``id_column`` (the H3 index as text),
        ``parent_id`` (the zone's id), ``name`` (the zone's), ``population_column`` and
        ``urban_column`` (whole people; per zone they add up exactly to the zone's population
        rounded to whole people and to its urban part), ``rural_population``,
        ``urban_share`` (the cell's), ``area_km2``, the cell centre, ``h3_resolution`` and
        every other column of the zone. Sorted by zone (in input order) then cell.

    Raises
    ------
    InputError
        For a resolution out of range, a missing column, or missing or negative population.
    """
    if not 0 <= resolution <= 13:
        raise InputError(f"H3 resolution {resolution} is out of range: give 0 (coarsest) to 13")
    spread = SpreadOptions(
        population_column,
        urban_column,
        place_population_column,
        centre_lon_column,
        centre_lat_column,
        crs,
        core_density_per_km2,
    )
    zones = check_spread_inputs(zones, places, id_column, spread)
    base = exact_cells(zones, places, resolution=resolution, **asdict(spread))
    columns = people_columns(base.urban, base.rural, base.owner, base.area, base.latlng, spread)
    return _cell_table(
        zones, base.labels, base.owner, columns, spread, id_column=id_column, drop_empty=drop_empty
    )


@dataclass(frozen=True)
class ExactCells:
    """Zones' cells at one resolution with their exact (unrounded) urban and rural people.

    Attributes
    ----------
    cells
        H3 indexes as ``uint64``, sorted by zone (input order) then cell.
    labels
        The same as text.
    owner
        Zone position of each cell.
    latlng
        ``(C, 2)`` cell centres, lat then lng.
    area
        Cell areas, km2.
    urban, rural
        Exact people per cell; per zone they add up to the zone's whole urban and rural people.
    """

    cells: np.ndarray
    labels: list[str]
    owner: np.ndarray
    latlng: np.ndarray
    area: np.ndarray
    urban: np.ndarray
    rural: np.ndarray


def exact_cells(
    zones: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    *,
    resolution: int,
    population_column: str,
    urban_column: str,
    place_population_column: str,
    centre_lon_column: str | None,
    centre_lat_column: str | None,
    crs: str,
    core_density_per_km2: float,
) -> ExactCells:
    """The cells of ``zones`` (EPSG:4326, index ``0..Z-1``) and their people before rounding:
    urban ``U_p * w_c / sum w`` (kernel weights), rural ``R_p * a_c / A_p`` (area); see the
    module docstring and :func:`fine_zones` for the parameters."""
    pop, urban = _whole_population(zones, population_column, urban_column)
    centre_xy = _centres(zones, centre_lon_column, centre_lat_column)
    cells, owner = _zone_cells(zones, resolution, centre_xy)
    labels, latlng, area = cell_geometry(cells)
    zone_area = np.bincount(owner, weights=area, minlength=len(zones))
    weight = place_kernel_weights(
        zones,
        places,
        place_population_column,
        urban=urban,
        centre_xy=centre_xy,
        cell_latlng=latlng,
        owner=owner,
        area=area,
        crs=crs,
        edge_km=h3.average_hexagon_edge_length(resolution, "km"),
        core_density_per_km2=core_density_per_km2,
    )
    # a zone whose places reach none of its cell centres: its urban population goes by area
    no_kernel = np.bincount(owner, weights=weight, minlength=len(zones))[owner] <= 0
    weight = np.where(no_kernel, area, weight)
    zone_weight = np.bincount(owner, weights=weight, minlength=len(zones))
    return ExactCells(
        cells=cells,
        labels=labels,
        owner=owner,
        latlng=latlng,
        area=area,
        urban=urban[owner] * weight / zone_weight[owner],
        rural=(pop - urban)[owner] * area / zone_area[owner],
    )


def _cell_table(
    zones: gpd.GeoDataFrame,
    labels: list[str],
    owner: np.ndarray,
    columns: Mapping[str, np.ndarray],
    spread: SpreadOptions,
    *,
    id_column: str,
    drop_empty: bool,
) -> gpd.GeoDataFrame:
    """The cells as polygons (with ``drop_empty``, those with people): their H3 id, their
    zone's columns (the zone's id as ``parent_id``; not its centre lon/lat columns) and
    ``columns``, one value per cell, then ``h3_resolution``."""
    total = columns[spread.population_column]
    keep = total > 0 if drop_empty else np.ones(len(total), bool)
    parent_only = {*_PARENT_ONLY, *spread.centre, "parent_id"}
    parent = zones.drop(columns=[c for c in parent_only if c in zones.columns])
    out = pd.DataFrame(parent.drop(columns=parent.geometry.name)).iloc[owner[keep]]
    out = out.reset_index(drop=True).rename(columns={id_column: "parent_id"})
    labels = [label for label, kept in zip(labels, keep, strict=True) if kept]
    out.insert(0, id_column, labels)
    for name, values in columns.items():
        out[name] = values[keep]
    out["h3_resolution"] = np.array([h3.get_resolution(c) for c in labels], np.int64)
    return gpd.GeoDataFrame(out, geometry=_cell_polygons(labels), crs="EPSG:4326")


def _whole_population(
    zones: gpd.GeoDataFrame, population_column: str, urban_column: str
) -> tuple[np.ndarray, np.ndarray]:
    """Each zone's population and its urban part, in whole people.

    The urban part is rounded first and the rural part is the rest, so the two cell sums add
    up to the zone's total exactly.
    """
    pop = zones[population_column].to_numpy(float)
    if not np.all(np.isfinite(pop)) or np.any(pop < 0):
        raise InputError(f"zones: column '{population_column}' has missing or negative values")
    pop = np.rint(pop)
    return pop, np.rint(_urban_population(zones, urban_column, pop))


def place_kernel_weights(
    zones: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    place_population_column: str,
    *,
    urban: np.ndarray,
    centre_xy: np.ndarray,
    cell_latlng: np.ndarray,
    owner: np.ndarray,
    area: np.ndarray,
    crs: str,
    edge_km: float,
    core_density_per_km2: float,
) -> np.ndarray:
    """Each cell's ``sum_q rho_q(d_cq) * area_c`` over its zone's places (0 where none reaches):
    the places carry the zones' whole ``urban`` people, each kernel's scale is
    ``h_q = max(sqrt(U_q / (2 pi rho_0)), edge_km)``; distances in the metric ``crs``."""
    place_zone, place_xy, place_mass = _places(
        zones, places, place_population_column, urban, centre_xy, crs
    )
    scale_km = np.maximum(np.sqrt(place_mass / (2 * np.pi * core_density_per_km2)), edge_km)
    to_metric = gpd.GeoSeries(
        gpd.points_from_xy(cell_latlng[:, 1], cell_latlng[:, 0]), crs="EPSG:4326"
    )
    cell_xy = shapely.get_coordinates(to_metric.to_crs(crs).values)
    return _kernel_weights(cell_xy, owner, area, place_zone, place_xy, place_mass, scale_km)


def _centres(zones: gpd.GeoDataFrame, lon_column: str | None, lat_column: str | None) -> np.ndarray:
    """``(Z, 2)`` lon/lat of the zones' demand centres: the given columns, else a point inside."""
    if lon_column and lat_column and {lon_column, lat_column} <= set(zones.columns):
        return zones[[lon_column, lat_column]].to_numpy(float)
    rep = zones.geometry.representative_point()
    return np.column_stack([rep.x, rep.y])


def _zone_cells(
    zones: gpd.GeoDataFrame, resolution: int, centre_xy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every zone's cells (as int) and the zone position of each, sorted by zone then cell.

    A zone holding no cell centre gets the finer cell at its demand centre (``centre_xy``).
    """
    cells, owner = _cells_of(zones, resolution)
    empty = np.setdiff1d(np.arange(len(zones)), owner)
    extra = _finer_cells(centre_xy[empty], resolution, taken=cells)
    cells = np.concatenate([cells, extra])
    owner = np.concatenate([owner, empty])
    order = np.lexsort((cells, owner))
    return cells[order], owner[order]


def _places(
    zones: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    population_column: str,
    urban: np.ndarray,
    centre_xy: np.ndarray,
    crs: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The places of the kernels: zone position, metric x/y and urban population carried.

    Each place belongs to the nearest zone and carries its population's share of its zone's
    urban population; a zone without places gets a pseudo-place at its demand centre.
    """
    places = places.to_crs("EPSG:4326").reset_index(drop=True)
    joined = gpd.sjoin_nearest(
        gpd.GeoDataFrame(geometry=places.geometry.values, crs="EPSG:4326").to_crs(crs),
        zones[["geometry"]].to_crs(crs),
        how="left",
    )
    # a place equidistant from two zones (on a shared border): the first zone keeps it
    joined = joined.sort_values("index_right", kind="stable")
    joined = joined[~joined.index.duplicated(keep="first")].sort_index()
    place_zone = joined["index_right"].to_numpy(np.int64)
    place_pop = np.clip(places[population_column].to_numpy(float), 1.0, None)
    place_xy = shapely.get_coordinates(joined.geometry.values)
    lonely = np.setdiff1d(np.arange(len(zones)), place_zone)
    lonely_xy = shapely.get_coordinates(
        gpd.GeoSeries(
            gpd.points_from_xy(centre_xy[lonely, 0], centre_xy[lonely, 1]), crs="EPSG:4326"
        )
        .to_crs(crs)
        .values
    )
    place_zone = np.concatenate([place_zone, lonely])
    place_pop = np.concatenate([place_pop, np.ones(len(lonely))])
    place_xy = np.concatenate([place_xy, lonely_xy]) if len(lonely) else place_xy
    zone_pop = np.bincount(place_zone, weights=place_pop, minlength=len(zones))
    return place_zone, place_xy, urban[place_zone] * place_pop / zone_pop[place_zone]


def _kernel_weights(
    cell_xy: np.ndarray,
    owner: np.ndarray,
    area: np.ndarray,
    place_zone: np.ndarray,
    place_xy: np.ndarray,
    place_mass: np.ndarray,
    scale_km: np.ndarray,
) -> np.ndarray:
    """Each cell's ``sum_q rho_q(d_cq) * area_c`` over the places of its own zone within
    :data:`KERNEL_CUTOFF` scales (coordinates in metres)."""
    tree = cKDTree(cell_xy)
    near = tree.query_ball_point(place_xy, r=KERNEL_CUTOFF * scale_km * 1000.0)
    counts = np.fromiter((len(n) for n in near), np.int64, len(near))
    pair_place = np.repeat(np.arange(len(near)), counts)
    pair_cell = (
        np.concatenate([np.asarray(n, np.int64) for n in near])
        if counts.sum()
        else np.zeros(0, np.int64)
    )
    same = owner[pair_cell] == place_zone[pair_place]
    pair_place, pair_cell = pair_place[same], pair_cell[same]
    r_km = np.linalg.norm(cell_xy[pair_cell] - place_xy[pair_place], axis=1) / 1000.0
    h = scale_km[pair_place]
    density = place_mass[pair_place] / (2 * np.pi * h**2) * np.exp(-r_km / h)
    return np.bincount(pair_cell, weights=density * area[pair_cell], minlength=len(cell_xy))
