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

:func:`candidate_sites_from_cells` makes candidate sites at the same scale: the centres of each
zone's most populous cells, plus any supplied sites (which stand for the cell they lie in).
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from chargeplan.config.defaults import DEFAULT_CRS
from chargeplan.errors import InputError

__all__ = [
    "CORE_DENSITY_PER_KM2",
    "KERNEL_CUTOFF",
    "candidate_sites_from_cells",
    "fine_zones",
    "grouped_largest_remainder",
]

#: Centre density of a place's exponential kernel, people per km2: a dense Chinese city core
#: (Shanghai's and Beijing's inner districts hold 20-25 k/km2, most city centres 10-15 k/km2).
CORE_DENSITY_PER_KM2 = 15_000.0
#: A place's kernel is cut at this many scales (5 h: 96 % of a 2-D exponential's mass).
KERNEL_CUTOFF = 5.0

#: Columns of the parent that describe the parent itself and are not copied to its cells.
_PARENT_ONLY = ("centre_lon", "centre_lat", "centre_from_places", "area_km2", "urban_share")


def grouped_largest_remainder(exact: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Whole numbers close to ``exact`` whose sum per group is the rounded sum of the group.

    Parameters
    ----------
    exact
        Nonnegative real amounts, one per item.
    groups
        Group label of each item (integers ``0..G-1``).

    Returns
    -------
    numpy.ndarray
        ``int64`` amounts: the floors, plus one for the items with the largest remainders of
        each group (ties by position) until the group's total is reached.
    """
    exact = np.asarray(exact, dtype=float)
    groups = np.asarray(groups, dtype=np.int64)
    n_groups = int(groups.max()) + 1 if groups.size else 0
    whole = np.floor(exact).astype(np.int64)
    target = np.rint(np.bincount(groups, weights=exact, minlength=n_groups)).astype(np.int64)
    short = target - np.bincount(groups, weights=whole, minlength=n_groups).astype(np.int64)
    order = np.lexsort((np.arange(exact.size), -(exact - whole), groups))
    # rank of each item within its group, in the order of decreasing remainder
    start = np.concatenate([[0], np.cumsum(np.bincount(groups, minlength=n_groups))[:-1]])
    rank = np.arange(exact.size) - start[groups[order]]
    whole[order[rank < short[groups[order]]]] += 1
    return whole


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
    for column in (id_column, population_column):
        if column not in zones.columns:
            raise InputError(f"zones: missing column '{column}' needed to split them into cells")
    if place_population_column not in places.columns:
        raise InputError(f"places: missing column '{place_population_column}' (population)")
    zones = zones.to_crs("EPSG:4326").reset_index(drop=True)
    pop = zones[population_column].to_numpy(float)
    if not np.all(np.isfinite(pop)) or np.any(pop < 0):
        raise InputError(f"zones: column '{population_column}' has missing or negative values")
    # whole people: the urban part is rounded first and the rural part is the rest, so the two
    # cell sums add up to the zone's total exactly
    pop = np.rint(pop)
    urban = np.rint(_urban_population(zones, urban_column, pop))

    cells, owner = _cells_of(zones, resolution)
    # zones holding no cell centre get the finer cell at their demand centre
    empty = np.setdiff1d(np.arange(len(zones)), owner)
    if (
        centre_lon_column
        and centre_lat_column
        and {centre_lon_column, centre_lat_column} <= set(zones.columns)
    ):
        centre_xy = zones[[centre_lon_column, centre_lat_column]].to_numpy(float)
    else:
        rep = zones.geometry.representative_point()
        centre_xy = np.column_stack([rep.x, rep.y])
    extra = _finer_cells(centre_xy[empty], resolution, taken=cells)
    cells = np.concatenate([cells, extra])
    owner = np.concatenate([owner, empty])
    order = np.lexsort((cells, owner))
    cells, owner = cells[order], owner[order]
    labels = [h3.int_to_str(int(c)) for c in cells]

    latlng = np.array([h3.cell_to_latlng(c) for c in labels], dtype=float)
    area = np.fromiter((h3.cell_area(c, "km^2") for c in labels), float, len(labels))

    # rural: by area share
    zone_area = np.bincount(owner, weights=area, minlength=len(zones))
    rural_exact = (pop - urban)[owner] * area / zone_area[owner]

    # urban: exponential kernels around the places of each cell's own zone
    to_metric = gpd.GeoSeries(gpd.points_from_xy(latlng[:, 1], latlng[:, 0]), crs="EPSG:4326")
    cell_xy = np.column_stack(shapely.get_coordinates(to_metric.to_crs(crs).values).T)
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
    place_pop = np.clip(places[place_population_column].to_numpy(float), 1.0, None)
    place_xy = shapely.get_coordinates(joined.geometry.values)
    # zones without places: a pseudo-place of their urban population at their demand centre
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
    # each place carries its POP_MAX share of its zone's urban population
    place_mass = (
        urban[place_zone]
        * place_pop
        / np.bincount(place_zone, weights=place_pop, minlength=len(zones))[place_zone]
    )
    edge_km = h3.average_hexagon_edge_length(resolution, "km")
    scale_km = np.maximum(np.sqrt(place_mass / (2 * np.pi * core_density_per_km2)), edge_km)

    tree = cKDTree(cell_xy)
    near = tree.query_ball_point(place_xy, r=KERNEL_CUTOFF * scale_km * 1000.0)
    counts = np.fromiter((len(n) for n in near), np.int64, len(near))
    pair_place = np.repeat(np.arange(len(near)), counts)
    pair_cell = np.concatenate([np.asarray(n, np.int64) for n in near]) if counts.sum() else []
    pair_cell = np.asarray(pair_cell, np.int64)
    same = owner[pair_cell] == place_zone[pair_place]
    pair_place, pair_cell = pair_place[same], pair_cell[same]
    r_km = np.linalg.norm(cell_xy[pair_cell] - place_xy[pair_place], axis=1) / 1000.0
    h = scale_km[pair_place]
    density = place_mass[pair_place] / (2 * np.pi * h**2) * np.exp(-r_km / h)
    weight = np.bincount(pair_cell, weights=density * area[pair_cell], minlength=len(cells))
    zone_weight = np.bincount(owner, weights=weight, minlength=len(zones))
    # a zone whose places reach none of its cell centres: its urban population goes by area
    no_kernel = zone_weight[owner] <= 0
    weight = np.where(no_kernel, area, weight)
    zone_weight = np.bincount(owner, weights=weight, minlength=len(zones))
    urban_exact = urban[owner] * weight / zone_weight[owner]

    urban_cell = grouped_largest_remainder(urban_exact, owner)
    rural_cell = grouped_largest_remainder(rural_exact, owner)
    total = urban_cell + rural_cell

    keep = total > 0 if drop_empty else np.ones(len(total), bool)
    lon_column = centre_lon_column or "centre_lon"
    lat_column = centre_lat_column or "centre_lat"
    parent_only = {*_PARENT_ONLY, lon_column, lat_column, "parent_id"}
    parent = zones.drop(columns=[c for c in parent_only if c in zones.columns])
    parent = pd.DataFrame(parent.drop(columns=parent.geometry.name))
    out = parent.iloc[owner[keep]].reset_index(drop=True)
    out = out.rename(columns={id_column: "parent_id"})
    labels = [label for label, kept in zip(labels, keep, strict=True) if kept]
    out.insert(0, id_column, labels)
    out[population_column] = total[keep]
    out[urban_column] = urban_cell[keep]
    out["rural_population"] = rural_cell[keep]
    out["urban_share"] = np.divide(
        urban_cell[keep], total[keep], out=np.zeros(int(keep.sum())), where=total[keep] > 0
    ).round(6)
    out["area_km2"] = area[keep]
    out[lon_column] = latlng[keep, 1].round(6)
    out[lat_column] = latlng[keep, 0].round(6)
    out["h3_resolution"] = np.array([h3.get_resolution(c) for c in labels], np.int64)
    return gpd.GeoDataFrame(out, geometry=_cell_polygons(labels), crs="EPSG:4326")


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
        if id_column not in supplied.columns:
            raise InputError(f"supplied sites: missing id column '{id_column}'")
        given = supplied.to_crs("EPSG:4326").copy()
        resolution = int(h3.get_resolution(cell_ids[0])) if len(cell_ids) else 0
        given["cell"] = [
            h3.latlng_to_cell(lat, lon, resolution)
            for lon, lat in zip(given.geometry.x, given.geometry.y, strict=True)
        ]
        given["source"] = "supplied"
        taken = np.isin(cell_ids, given["cell"].to_numpy())
        frames.append(given)
    pop = cells[population_column].to_numpy(float)
    parent = pd.factorize(cells["parent_id"])[0]
    order = np.lexsort((cell_ids, -pop, parent))
    eligible = order[(~taken & (pop >= min_population) & (pop > 0))[order]]
    # rank of each eligible cell within its zone, most populous first
    group = parent[eligible]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    rank = np.arange(len(eligible)) - np.repeat(starts, np.diff(np.r_[starts, len(eligible)]))
    pick = np.sort(eligible[rank < sites_per_zone])
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
