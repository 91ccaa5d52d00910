"""What :func:`~chargeplan.inputs.finezones.fine_zones` and
:func:`~chargeplan.inputs.multires.multires_cells` share: the spreading options, the checks of
their inputs, the rounding of cells' people to whole people and the cells' geometry."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import h3
import numpy as np

from chargeplan.config.defaults import DEFAULT_CRS
from chargeplan.errors import InputError

__all__ = [
    "CORE_DENSITY_PER_KM2",
    "SpreadOptions",
    "cell_geometry",
    "check_spread_inputs",
    "grouped_largest_remainder",
    "people_columns",
]

#: Centre density of a place's exponential kernel, people per km2: a dense Chinese city core
#: (Shanghai's and Beijing's inner districts hold 20-25 k/km2, most city centres 10-15 k/km2).
CORE_DENSITY_PER_KM2 = 15_000.0


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


@dataclass(frozen=True)
class SpreadOptions:
    """How zones' people are spread over their cells: the columns read and the kernel settings
    (:func:`exact_cells`' keywords beside the resolution; each as for :func:`fine_zones`)."""

    population_column: str = "popu_2020"
    urban_column: str = "popu_urban_2020"
    place_population_column: str = "pop_max"
    centre_lon_column: str | None = "centre_lon"
    centre_lat_column: str | None = "centre_lat"
    crs: str = DEFAULT_CRS
    core_density_per_km2: float = CORE_DENSITY_PER_KM2

    @property
    def centre(self) -> tuple[str, str]:
        """The columns the cells' centres are written to (lon, lat)."""
        return self.centre_lon_column or "centre_lon", self.centre_lat_column or "centre_lat"


def check_spread_inputs(
    zones: gpd.GeoDataFrame, places: gpd.GeoDataFrame, id_column: str, spread: SpreadOptions
) -> gpd.GeoDataFrame:
    """The zones in EPSG:4326 indexed ``0..Z-1``, once both tables are seen to have the columns
    the spreading reads (:class:`~chargeplan.errors.InputError` naming the missing one)."""
    for column in (id_column, spread.population_column):
        if column not in zones.columns:
            raise InputError(f"zones: missing column '{column}' needed to split them into cells")
    if spread.place_population_column not in places.columns:
        raise InputError(f"places: missing column '{spread.place_population_column}' (population)")
    return zones.to_crs("EPSG:4326").reset_index(drop=True)


def people_columns(
    urban: np.ndarray,
    rural: np.ndarray,
    owner: np.ndarray,
    area: np.ndarray,
    latlng: np.ndarray,
    spread: SpreadOptions,
) -> dict[str, np.ndarray]:
    """The cells' people columns from their exact urban and rural people: each part rounded to
    whole people by largest remainder within the zone (``owner``), so that the zone's totals
    hold exactly; then ``urban_share``, ``area_km2`` and the centre (lon, lat)."""
    urban_cell = grouped_largest_remainder(urban, owner)
    rural_cell = grouped_largest_remainder(rural, owner)
    total = urban_cell + rural_cell
    lon_column, lat_column = spread.centre
    return {
        spread.population_column: total,
        spread.urban_column: urban_cell,
        "rural_population": rural_cell,
        "urban_share": np.divide(
            urban_cell, total, out=np.zeros(len(total)), where=total > 0
        ).round(6),
        "area_km2": area,
        lon_column: latlng[:, 1].round(6),
        lat_column: latlng[:, 0].round(6),
    }


def cell_geometry(cells: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """H3 cells (as int): their labels, ``(C, 2)`` centres (lat, lng) and areas (km2)."""
    labels = [h3.int_to_str(int(c)) for c in cells]
    latlng = np.array([h3.cell_to_latlng(c) for c in labels], dtype=float).reshape(-1, 2)
    area = np.fromiter((h3.cell_area(c, "km^2") for c in labels), float, len(labels))
    return labels, latlng, area
