"""Candidate sites at the scale of fine zones: the centres of each zone's most populous H3
cells (:func:`~chargeplan.inputs.finezones.fine_zones`), or of a multi-resolution layer's cells
chosen by demand (with the catchment rule of :mod:`chargeplan.inputs.catchment`), plus any
supplied sites, which stand for the cell they lie in."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import geopandas as gpd
import h3
import numpy as np
import pandas as pd

from chargeplan.config.defaults import DEFAULT_CRS
from chargeplan.errors import InputError
from chargeplan.inputs.h3bits import cell_parents, cell_resolutions

__all__ = ["candidate_sites_from_cells", "cell_of_points", "station_sites_from_cells"]

log = logging.getLogger(__name__)


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
    given, taken = _supplied_sites(supplied, cell_ids, id_column)
    frames = [] if given is None else [given]
    pop = cells[population_column].to_numpy(float)
    eligible = ~taken & (pop >= min_population) & (pop > 0)
    pick = _most_populous(
        pd.factorize(cells["parent_id"])[0], pop, cell_ids, eligible, sites_per_zone
    )
    frames.append(
        _cell_site_table(
            cells,
            pick,
            pop,
            cell_ids,
            id_column=id_column,
            people_per_charger=people_per_charger,
            floors=floors,
        )
    )
    return _join_sites(frames, id_column)


def station_sites_from_cells(
    cells: gpd.GeoDataFrame,
    *,
    public_daily_kwh: np.ndarray,
    min_daily_kwh: float,
    coarse_min_population: float = 1.0,
    cluster_resolution: int | None = None,
    catchment_km: float | None = None,
    catchment_min_daily_kwh: float | None = None,
    rural_resolution: int | None = None,
    rural_km: float | None = None,
    crs: str = DEFAULT_CRS,
    supplied: gpd.GeoDataFrame | None = None,
    id_column: str = "site_id",
    cell_id_column: str = "zone_id",
    population_column: str = "popu_2020",
    people_per_charger: Mapping[str, float] | None = None,
    max_chargers_floor: Mapping[str, int] | None = None,
) -> gpd.GeoDataFrame:
    """Candidate stations of a multi-resolution layer: urban cells with enough demand for a
    station, one per populated coarse cell, plus supplied sites.

    A candidate stands at the centre of

    - every **urban** (fine) cell ``c`` whose own public charging demand fills the smallest
      station: ``public_daily_kwh[c] >= min_daily_kwh``
      (:func:`~chargeplan.inputs.stationlayer.min_station_daily_kwh`); with
      ``cluster_resolution`` coarser than the urban cells, the rule applies to clusters
      instead: the urban cells that share a parent at ``cluster_resolution`` (7 cells of res
      8 for res 7, 5.2 km2) pool their demand, and a cluster that fills the station gets one
      candidate, at its most demanded cell (ties by H3 index);
    - every **suburban or rural** (coarse) cell with at least ``coarse_min_population``
      people, whatever its demand, so that the countryside keeps a candidate within its cell;
      with ``rural_resolution`` (coarser than the rural cells), the **rural** cells instead
      get one candidate per populated parent at ``rural_resolution`` and prefecture
      (``parent_id``), at its most populous cell (ties by H3 index), and then, with
      ``rural_km``, every populated rural cell still without a candidate within ``rural_km``
      gets one by the catchment rounds at threshold 0 (so none is left without one within
      its reach; :func:`_rural_picks`);
    - with ``catchment_km``, then, the **catchment rule**
      (:func:`~chargeplan.inputs.catchment.catchment_picks`): urban cells with people and no
      candidate within ``catchment_km`` get candidates, in rounds, at the uncovered cells whose
      catchment (the uncovered demand within ``catchment_km``) is largest, as long as it
      reaches ``catchment_min_daily_kwh`` (default ``min_daily_kwh``);

    except the cells that hold a supplied site (it stands for them). Charger limits follow
    :func:`candidate_sites_from_cells`' rule.

    Parameters
    ----------
    cells
        Output of :func:`~chargeplan.inputs.multires.multires_cells` (needs ``settlement``).
    public_daily_kwh
        Each cell's public charging demand, kWh a day (``peak_demand``'s ``public_daily_kwh``).
    min_daily_kwh
        Demand an urban cell needs to become a candidate.
    coarse_min_population
        People a suburban or rural cell needs to become a candidate.
    cluster_resolution
        Resolution of the clusters of urban cells (``None``: each urban cell alone).
    catchment_km
        The urban reach the catchment rule fills (``None``: no catchment rule).
    catchment_min_daily_kwh
        Catchment demand an added candidate needs (``None``: ``min_daily_kwh``).
    rural_resolution
        H3 resolution of the groups of rural cells that share one candidate (``None``: one
        candidate per populated rural cell).
    rural_km
        With ``rural_resolution``: the rural reach every populated rural cell gets a candidate
        within (``None``: no such check).
    crs
        Metric CRS the catchment rule measures distances in (the reach's).
    supplied, id_column, cell_id_column, population_column, people_per_charger,
    max_chargers_floor
        As for :func:`candidate_sites_from_cells`.

    Returns
    -------
    geopandas.GeoDataFrame
        :func:`candidate_sites_from_cells`' columns plus ``settlement``, ``h3_resolution``,
        ``lon`` and ``lat`` (of the cell centre; for supplied sites, of the site); supplied
        sites first, then cells in the order of ``cells``.
    """
    for column in (cell_id_column, "parent_id", population_column, "settlement"):
        if column not in cells.columns:
            raise InputError(f"cells: missing column '{column}' (make them with multires_cells)")
    demand = np.asarray(public_daily_kwh, float)
    if demand.shape != (len(cells),):
        raise InputError(f"public_daily_kwh has {demand.size} values for {len(cells)} cells")
    if not np.isfinite(min_daily_kwh) or min_daily_kwh < 0:
        raise InputError(f"min_daily_kwh must be a finite number >= 0 (got {min_daily_kwh})")
    cell_ids = cells[cell_id_column].astype(str).to_numpy()
    frames = []
    given, taken = _supplied_sites(supplied, cell_ids, id_column)
    if given is not None:
        by_cell = cells.set_index(cell_id_column)
        given["settlement"] = given["cell"].map(by_cell["settlement"]).fillna("").to_numpy()
        for column in ("parent_id", "h3_resolution"):  # the prefecture of the site's cell
            if column in by_cell:
                from_cell = given["cell"].map(by_cell[column])
                given[column] = (
                    from_cell.where(given[column].isna(), given[column])
                    if column in given
                    else from_cell
                )
        given["lon"], given["lat"] = given.geometry.x.round(6), given.geometry.y.round(6)
        frames.append(given)
    pop = cells[population_column].to_numpy(float)
    urban = cells["settlement"].to_numpy() == "urban"
    chosen = ~urban & ~taken & (pop >= coarse_min_population)
    rural = (cells["settlement"].to_numpy() == "rural") & chosen
    if rural_resolution is not None:
        chosen &= ~rural
        chosen[_rural_groups(cell_ids, rural, pop, cells["parent_id"], rural_resolution)] = True
    chosen[_urban_picks(cell_ids, urban, demand, taken, min_daily_kwh, cluster_resolution)] = True
    if catchment_km is not None:
        threshold = min_daily_kwh if catchment_min_daily_kwh is None else catchment_min_daily_kwh
        targets = urban & ~taken & (pop > 0)
        chosen[
            _catchment_step(
                cells,
                cell_ids,
                chosen & (pop > 0),
                given,
                demand,
                targets,
                crs,
                catchment_km,
                threshold,
            )
        ] = True
    if rural_resolution is not None and rural_km is not None:
        chosen[
            _catchment_step(
                cells,
                cell_ids,
                chosen & (pop > 0),
                given,
                demand,
                rural,
                crs,
                rural_km,
                0.0,
                "rural",
            )
        ] = True
    sites = _cell_site_table(
        cells,
        np.flatnonzero(chosen & (pop > 0)),
        pop,
        cell_ids,
        id_column=id_column,
        people_per_charger=dict(people_per_charger or {}),
        floors=dict(max_chargers_floor or {}),
        extra={"settlement": "settlement", "h3_resolution": "h3_resolution"}
        if "h3_resolution" in cells
        else {"settlement": "settlement"},
    )
    sites["lon"], sites["lat"] = sites.geometry.x.round(6), sites.geometry.y.round(6)
    frames.append(sites)
    return _join_sites(frames, id_column)


def _catchment_step(
    cells: gpd.GeoDataFrame,
    cell_ids: np.ndarray,
    chosen: np.ndarray,
    given: gpd.GeoDataFrame | None,
    demand: np.ndarray,
    targets: np.ndarray,
    crs: str,
    catchment_km: float,
    min_daily_kwh: float,
    kind: str = "urban",
) -> np.ndarray:
    """Positions of the cells the catchment rule adds, with the chosen cells and the supplied
    sites as the candidates already placed; logs what it adds and leaves out (of the ``kind``
    of cells ``targets`` holds)."""
    from chargeplan.inputs.catchment import catchment_picks

    if not np.isfinite(catchment_km) or catchment_km <= 0:
        raise InputError(f"catchment_km must be a number > 0 (got {catchment_km})")
    centres = gpd.GeoSeries(_cell_centres(cells), crs="EPSG:4326").to_crs(crs)
    if not centres.crs.is_projected:
        raise InputError(f"reach.crs {crs!r} is not a projected (metric) CRS: pick one in metres")
    cell_xy = np.column_stack([centres.x.to_numpy(), centres.y.to_numpy()])
    site_xy = cell_xy[chosen]
    if given is not None:
        placed = given.geometry.to_crs(crs)
        site_xy = np.vstack([site_xy, np.column_stack([placed.x, placed.y])])
    picks = catchment_picks(
        cell_xy,
        demand,
        targets,
        site_xy,
        radius_m=catchment_km * 1000.0,
        min_daily_kwh=min_daily_kwh,
        order_key=np.array([int(c, 16) for c in cell_ids], np.uint64),  # the H3 index
    )
    total = demand.sum() or 1.0
    log.info(
        "catchment rule: %d %s cells without a candidate within %g km (%.2f %% of the "
        "demand); %d candidates added in %d rounds; %d cells left out (%.3f %%: less than %g kWh "
        "a day within %g km)",
        picks.uncovered.size,
        kind,
        catchment_km,
        100 * demand[picks.uncovered].sum() / total,
        picks.added.size,
        picks.rounds,
        picks.left_out.size,
        100 * demand[picks.left_out].sum() / total,
        min_daily_kwh,
        catchment_km,
    )
    return picks.added


def _rural_groups(
    cell_ids: np.ndarray,
    rural: np.ndarray,
    pop: np.ndarray,
    prefecture: pd.Series,
    resolution: int,
) -> np.ndarray:
    """Positions of the rural cells that become candidates with a coarser rural rule: in each
    group of the ``rural`` cells sharing a parent at ``resolution`` and a prefecture, the most
    populous cell (ties by H3 index). A cell at or coarser than ``resolution`` is its own
    group."""
    where = np.flatnonzero(rural)
    if not where.size:
        return where
    ints = np.array([h3.str_to_int(c) for c in cell_ids[where]], np.uint64)
    cell_resolution = cell_resolutions(ints)
    parent = ints.copy()
    for level in np.unique(cell_resolution[cell_resolution > resolution]):
        at = cell_resolution == level
        parent[at] = cell_parents(ints[at], int(level), resolution)
    _, group = np.unique(
        np.column_stack([parent, pd.factorize(prefecture.to_numpy()[where])[0].astype(np.uint64)]),
        axis=0,
        return_inverse=True,
    )
    group = np.ravel(group)
    order = np.lexsort((ints, -pop[where], group))
    return where[order[np.r_[True, group[order][1:] != group[order][:-1]]]]


def _join_sites(frames: list[gpd.GeoDataFrame], id_column: str) -> gpd.GeoDataFrame:
    """Supplied and generated sites in one table, once no generated id repeats a supplied one."""
    out = pd.concat(frames, ignore_index=True)
    duplicated = out[id_column].duplicated()
    if duplicated.any():
        raise InputError(
            f"candidate sites: supplied site ids {out[id_column][duplicated].head(5).tolist()} "
            "clash with generated cell sites (c<H3 index>): rename them"
        )
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def _urban_picks(
    cell_ids: np.ndarray,
    urban: np.ndarray,
    demand: np.ndarray,
    taken: np.ndarray,
    min_daily_kwh: float,
    cluster_resolution: int | None,
) -> np.ndarray:
    """Positions of the urban cells that become candidates (see
    :func:`station_sites_from_cells`): each cluster's most demanded cell where the cluster's
    demand reaches ``min_daily_kwh`` and no supplied site lies in it."""
    where = np.flatnonzero(urban)
    if not where.size:
        return where
    ints = np.array([h3.str_to_int(c) for c in cell_ids[where]], np.uint64)
    resolution = cell_resolutions(ints)
    if (resolution != resolution[0]).any():
        raise InputError("urban cells of several resolutions: make them with multires_cells")
    fine = int(resolution[0])
    if cluster_resolution is None or cluster_resolution >= fine:
        return where[(demand[where] >= min_daily_kwh) & ~taken[where]]
    parent = cell_parents(ints, fine, cluster_resolution)
    _, group = np.unique(parent, return_inverse=True)
    pooled = np.bincount(group, weights=demand[where])
    blocked = np.bincount(group, weights=taken[where].astype(float)) > 0
    order = np.lexsort((ints, -demand[where], group))
    first = order[np.r_[True, group[order][1:] != group[order][:-1]]]  # top cell per cluster
    return where[first[(pooled[group[first]] >= min_daily_kwh) & ~blocked[group[first]]]]


def _cell_site_table(
    cells: gpd.GeoDataFrame,
    pick: np.ndarray,
    pop: np.ndarray,
    cell_ids: np.ndarray,
    *,
    id_column: str,
    people_per_charger: Mapping[str, float],
    floors: Mapping[str, int],
    extra: Mapping[str, str] = {},
) -> gpd.GeoDataFrame:
    """Sites at the centres of the cells at positions ``pick``: id ``c<H3 index>``, zone
    name, cell, ``parent_id``, ``province`` (if given), the ``extra`` columns of the cells
    (``{site column: cell column}``), ``pop_max``, ``max_<type>`` and ``source = "cell"``."""
    chosen = cells.iloc[pick]
    points = _cell_centres(chosen)
    columns: dict[str, object] = {
        id_column: np.char.add("c", cell_ids[pick].astype(str)),
        "name": chosen["name"].astype(str).to_numpy() if "name" in chosen else "",
        "cell": cell_ids[pick],
        "parent_id": chosen["parent_id"].to_numpy(),
    }
    if "province" in chosen:
        columns["province"] = chosen["province"].to_numpy()
    for site_column, cell_column in extra.items():
        columns[site_column] = chosen[cell_column].to_numpy()
    columns["pop_max"] = pop[pick].astype(np.int64)
    for kind, people in people_per_charger.items():
        columns[f"max_{kind}"] = np.maximum(
            np.floor(pop[pick] / people), floors.get(kind, 0)
        ).astype(np.int64)
    columns["source"] = "cell"
    return gpd.GeoDataFrame(columns, geometry=points, crs="EPSG:4326")


def _cell_centres(cells: gpd.GeoDataFrame) -> np.ndarray:
    """The cells' centres as EPSG:4326 points: ``centre_lon``/``centre_lat`` if given, else
    the polygons' centroids."""
    if {"centre_lon", "centre_lat"} <= set(cells.columns):
        return np.asarray(
            gpd.points_from_xy(cells["centre_lon"], cells["centre_lat"], crs="EPSG:4326")
        )
    return np.asarray(cells.geometry.to_crs("EPSG:4326").centroid.values)


def _supplied_sites(
    supplied: gpd.GeoDataFrame | None, cell_ids: np.ndarray, id_column: str
) -> tuple[gpd.GeoDataFrame | None, np.ndarray]:
    """The supplied sites in lon/lat, with the H3 ``cell`` each lies in (at the cells'
    resolution) and ``source = "supplied"`` (``None`` if there are none), and which of the
    cells ``cell_ids`` hold one (they get no generated site)."""
    if supplied is None or not len(supplied):
        return None, np.zeros(len(cell_ids), bool)
    if id_column not in supplied.columns:
        raise InputError(f"supplied sites: missing id column '{id_column}'")
    given = supplied.to_crs("EPSG:4326").copy()
    given["cell"] = cell_of_points(given.geometry.x, given.geometry.y, cell_ids)
    given["source"] = "supplied"
    return given, pd.Index(cell_ids).isin(given["cell"].to_numpy())


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


def cell_of_points(lon: pd.Series, lat: pd.Series, cell_ids: np.ndarray) -> list[str]:
    """The H3 cell of ``cell_ids`` (any mix of resolutions) holding each point, finest first;
    where none of them holds it, the point's cell at the finest resolution (a cell of no zone).
    One h3 call per point and resolution: h3's API takes one point at a time."""
    if not len(cell_ids):
        return [h3.latlng_to_cell(y, x, 0) for x, y in zip(lon, lat, strict=True)]
    known = set(cell_ids.tolist())
    # an H3 index in hex is "8" then its resolution as one hex digit
    resolutions = sorted(
        {int(ch, 16) for ch in np.unique(np.asarray(cell_ids, str).astype("U2"))}, reverse=True
    )
    resolutions = [r - 0x80 for r in resolutions]
    out = []
    for x, y in zip(lon, lat, strict=True):
        found = [h3.latlng_to_cell(y, x, r) for r in resolutions]
        out.append(next((c for c in found if c in known), found[0]))
    return out
