r"""Multi-resolution demand cells: fine H3 cells in cities, coarse ones in the countryside.

:func:`multires_cells` starts from :func:`~chargeplan.inputs.finezones.fine_zones`' allocation at
a base resolution ``b`` (res 6, 36 km2): every prefecture ``p``'s urban people ``U_p`` spread
over its base cells by the place kernels, its rural people ``R_p`` by area, exact (not yet
rounded). Each base cell ``c`` then gets a settlement type from its density
``d_c = (u_c + r_c) / a_c`` (people per km2):

- **urban** if ``d_c >= D_u`` (``urban_density_per_km2``; 1,500, the "urban centre" grid-cell
  density of the Degree of Urbanisation, UN Statistical Commission 2020): split into its
  ``7^(f-b)`` children at the fine resolution ``f`` (res 8: 0.74 km2; res 7: 5.2 km2). Its
  urban people go to the children by the place kernels evaluated at the children's centres
  (scale floored at the fine cell's edge), ``u_k = u_c w_k / sum_{k' in c} w_{k'}``, its rural
  people by area, ``r_k = r_c a_k / sum_{k' in c} a_{k'}`` (by area also where no kernel
  reaches the children);
- **suburban** if ``D_s <= d_c < D_u`` (``suburban_density_per_km2``; 300, the Degree of
  Urbanisation's "urban cluster" density): kept at the base resolution;
- **rural** below ``D_s``: merged into its parent at the coarse resolution ``g`` (res 5:
  250 km2) where all ``7^(b-g)`` children of that parent are rural base cells of the same
  prefecture (a parent straddling a border, a town or a coast stays at the base resolution);
  the parent carries the sum of its children's people and areas.

Splitting and merging move people only within a base cell or a parent, so every prefecture's
exact urban and rural people are unchanged; both are then rounded per prefecture by the largest
remainder (:func:`~chargeplan.inputs.finezones.grouped_largest_remainder`), so its urban, rural
and total population are kept exactly in whole people. A cell's ``settlement`` is its base
cell's type (the 36 km2 neighbourhood it lies in, which chose its resolution), its
``density_per_km2`` its own people over its own area.

H3 children extend slightly beyond their parent's outline (the hierarchy is logical, not
geometric), so a fine cell at the edge of a city may overlap a neighbouring base cell by a few
percent of its area; people are never counted twice (each is allocated to exactly one cell).
Parents and children are computed on the 64-bit index (:mod:`chargeplan.inputs.h3bits`); the
loops left are h3's per-cell calls (centre, area, outline), which h3's API forces.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import geopandas as gpd
import h3
import numpy as np

from chargeplan.config.defaults import DEFAULT_CRS
from chargeplan.errors import InputError
from chargeplan.inputs.cellpeople import (
    CORE_DENSITY_PER_KM2,
    SpreadOptions,
    cell_geometry,
    check_spread_inputs,
    people_columns,
)
from chargeplan.inputs.finezones import (
    ExactCells,
    _cell_table,
    _centres,
    _whole_population,
    exact_cells,
    place_kernel_weights,
)
from chargeplan.inputs.h3bits import cell_children, cell_parents

__all__ = [
    "RURAL",
    "SUBURBAN",
    "SUBURBAN_DENSITY_PER_KM2",
    "URBAN",
    "URBAN_DENSITY_PER_KM2",
    "multires_cells",
    "settlement_of",
]

#: Degree of Urbanisation (UN Statistical Commission, March 2020; Eurostat/GHSL): a 1 km2 grid
#: cell of an "urban centre" holds at least 1,500 people per km2, of an "urban cluster" 300.
URBAN_DENSITY_PER_KM2 = 1_500.0
SUBURBAN_DENSITY_PER_KM2 = 300.0
URBAN, SUBURBAN, RURAL = "urban", "suburban", "rural"
_TYPES = np.array([RURAL, SUBURBAN, URBAN])


def settlement_of(density: np.ndarray, urban_density: float, suburban_density: float) -> np.ndarray:
    """Settlement code per density: 2 urban (``>= urban_density``), 1 suburban
    (``>= suburban_density``), 0 rural."""
    density = np.asarray(density, float)
    return (density >= suburban_density).astype(np.int64) + (density >= urban_density)


def multires_cells(
    zones: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    *,
    resolution: int = 6,
    urban_resolution: int = 8,
    rural_resolution: int = 5,
    urban_density_per_km2: float = URBAN_DENSITY_PER_KM2,
    suburban_density_per_km2: float = SUBURBAN_DENSITY_PER_KM2,
    id_column: str = "zone_id",
    population_column: str = "popu_2020",
    urban_column: str = "popu_urban_2020",
    place_population_column: str = "pop_max",
    centre_lon_column: str | None = "centre_lon",
    centre_lat_column: str | None = "centre_lat",
    crs: str = DEFAULT_CRS,
    core_density_per_km2: float = CORE_DENSITY_PER_KM2,
    drop_empty: bool = True,
) -> gpd.GeoDataFrame:
    """Split zones into H3 cells whose resolution follows the density (see the module docstring).

    Parameters
    ----------
    zones, places
        As for :func:`~chargeplan.inputs.finezones.fine_zones`.
    resolution
        Base resolution ``b``: the cells that are classified, and the suburban cells.
    urban_resolution
        Fine resolution ``f >= b`` of urban cells (at most 13).
    rural_resolution
        Coarse resolution ``g <= b`` of rural cells.
    urban_density_per_km2, suburban_density_per_km2
        The thresholds ``D_u > D_s`` on the base cell's density.
    id_column, population_column, urban_column, place_population_column, centre_lon_column,
    centre_lat_column, crs, core_density_per_km2, drop_empty
        As for :func:`~chargeplan.inputs.finezones.fine_zones`.

    Returns
    -------
    geopandas.GeoDataFrame
        :func:`~chargeplan.inputs.finezones.fine_zones`' columns (``h3_resolution`` now varies)
        plus ``density_per_km2`` and ``settlement`` (``urban``/``suburban``/``rural``). Sorted
        by zone (input order) then H3 index.

    Raises
    ------
    InputError
        For resolutions out of order, thresholds out of order, and the errors of
        :func:`~chargeplan.inputs.finezones.fine_zones`.
    """
    if not 0 <= rural_resolution <= resolution <= urban_resolution <= 13:
        raise InputError(
            f"H3 resolutions must satisfy 0 <= rural ({rural_resolution}) <= base "
            f"({resolution}) <= urban ({urban_resolution}) <= 13: fix the one out of order"
        )
    if not 0 < suburban_density_per_km2 < urban_density_per_km2:
        raise InputError(
            f"density thresholds must satisfy 0 < suburban ({suburban_density_per_km2:g}) < "
            f"urban ({urban_density_per_km2:g}) people per km2"
        )
    kernel = SpreadOptions(
        population_column,
        urban_column,
        place_population_column,
        centre_lon_column,
        centre_lat_column,
        crs,
        core_density_per_km2,
    )
    zones = check_spread_inputs(zones, places, id_column, kernel)
    base = exact_cells(zones, places, resolution=resolution, **asdict(kernel))
    kind = settlement_of(
        (base.urban + base.rural) / base.area, urban_density_per_km2, suburban_density_per_km2
    )
    fine = _refine(zones, places, base, kind == 2, resolution, urban_resolution, kernel)
    keep = _Cells.take(base, kind, kind == 1)
    coarse = _coarsen(base, kind, resolution, rural_resolution)
    cells = _Cells.concat([fine, keep, coarse])
    columns = people_columns(
        cells.urban, cells.rural, cells.owner, cells.area, cells.latlng, kernel
    )
    columns["density_per_km2"] = (columns[population_column] / cells.area).round(3)
    columns["settlement"] = _TYPES[cells.kind]
    labels = [h3.int_to_str(int(c)) for c in cells.cells]
    return _cell_table(
        zones, labels, cells.owner, columns, kernel, id_column=id_column, drop_empty=drop_empty
    )


@dataclass(frozen=True)
class _Cells:
    """Cells of mixed resolutions as parallel arrays (``concat`` sorts by zone then index):
    H3 index, zone position, centre (lat, lng), area, exact urban and rural people, settlement
    code."""

    cells: np.ndarray
    owner: np.ndarray
    latlng: np.ndarray
    area: np.ndarray
    urban: np.ndarray
    rural: np.ndarray
    kind: np.ndarray

    @classmethod
    def take(cls, base: ExactCells, kind: np.ndarray, pick: np.ndarray) -> _Cells:
        return cls(
            base.cells[pick],
            base.owner[pick],
            base.latlng[pick],
            base.area[pick],
            base.urban[pick],
            base.rural[pick],
            kind[pick],
        )

    @classmethod
    def concat(cls, parts: list[_Cells]) -> _Cells:
        joined = [
            np.concatenate([getattr(p, name) for p in parts])
            for name in ("cells", "owner", "latlng", "area", "urban", "rural", "kind")
        ]
        order = np.lexsort((joined[0], joined[1]))
        return cls(*(array[order] for array in joined))


def _refine(
    zones: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    base: ExactCells,
    urban: np.ndarray,
    resolution: int,
    urban_resolution: int,
    kernel: SpreadOptions,
) -> _Cells:
    """The urban base cells split into their children, each base cell's people shared among
    them: urban by the place kernels at the children's centres, rural (and urban where no
    kernel reaches) by area."""
    parents = np.flatnonzero(urban)
    children, parent = cell_children(base.cells[parents], resolution, urban_resolution)
    parent = parents[parent]  # position in base
    _, latlng, area = cell_geometry(children)
    owner = base.owner[parent]
    _, whole = _whole_population(zones, kernel.population_column, kernel.urban_column)
    weight = place_kernel_weights(
        zones,
        places,
        kernel.place_population_column,
        urban=whole,
        centre_xy=_centres(zones, kernel.centre_lon_column, kernel.centre_lat_column),
        cell_latlng=latlng,
        owner=owner,
        area=area,
        crs=kernel.crs,
        edge_km=h3.average_hexagon_edge_length(urban_resolution, "km"),
        core_density_per_km2=kernel.core_density_per_km2,
    )
    n_base = len(base.cells)
    sibling_weight = np.bincount(parent, weights=weight, minlength=n_base)[parent]
    sibling_area = np.bincount(parent, weights=area, minlength=n_base)[parent]
    by_area = area / sibling_area
    share = np.where(
        sibling_weight > 0, weight / np.where(sibling_weight > 0, sibling_weight, 1), by_area
    )
    return _Cells(
        children,
        owner,
        latlng,
        area,
        base.urban[parent] * share,
        base.rural[parent] * by_area,
        np.full(children.size, 2),
    )


def _coarsen(base: ExactCells, kind: np.ndarray, resolution: int, rural_resolution: int) -> _Cells:
    """Rural base cells merged into their parent at ``rural_resolution`` where all the
    parent's children are rural cells of one zone; the other rural cells as they are."""
    rural = np.flatnonzero(kind == 0)
    if rural_resolution == resolution:
        return _Cells.take(base, kind, kind == 0)
    parent = cell_parents(base.cells[rural], resolution, rural_resolution)
    unique, group, count = np.unique(parent, return_inverse=True, return_counts=True)
    owners_min = np.full(unique.size, np.iinfo(np.int64).max)
    owners_max = np.full(unique.size, -1)
    np.minimum.at(owners_min, group, base.owner[rural])
    np.maximum.at(owners_max, group, base.owner[rural])
    full = (count == 7 ** (resolution - rural_resolution)) & (owners_min == owners_max)
    merged = full[group]
    stays = np.zeros(len(base.cells), bool)
    stays[rural[~merged]] = True
    stay = _Cells.take(base, kind, stays)
    sums = {
        name: np.bincount(
            group[merged], weights=getattr(base, name)[rural[merged]], minlength=unique.size
        )[full]
        for name in ("area", "urban", "rural")
    }
    _, latlng, _ = cell_geometry(unique[full])
    coarse = _Cells(
        unique[full],
        owners_min[full],
        latlng,
        sums["area"],
        sums["urban"],
        sums["rural"],
        np.zeros(int(full.sum()), np.int64),
    )
    return _Cells.concat([stay, coarse])
