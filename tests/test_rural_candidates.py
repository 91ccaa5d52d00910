"""Coarser rural candidates (``fine_zones.rural_candidate_h3_resolution``): one candidate per
populated resolution-4 parent and prefecture, at its most populous rural cell, then more
wherever a rural cell has none within the rural reach.

A constructed grid of rural H3 cells (every resolution-5 cell of a disc of resolution-4
parents around 34.5 N 113.5 E, Henan's latitude) with made-up populations; distances measured
in the test by pyproj (brute force over every cell and candidate).
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pytest

from chargeplan.inputs.cellsites import station_sites_from_cells

CRS = "EPSG:32649"  # UTM 49N, metres


def _rural_grid() -> gpd.GeoDataFrame:
    """The res-5 children of 19 res-4 cells (a centre and two rings), rural; one res-6 cell
    (a border cell left unmerged) too; prefecture ``p0`` west of 113.5 E, ``p1`` east; people
    ``1 + (index mod 97)``, 0 for every tenth cell."""
    centre = h3.latlng_to_cell(34.5, 113.5, 4)
    parents = sorted(h3.grid_disk(centre, 2))
    ids = [c for p in parents for c in sorted(h3.cell_to_children(p, 5))]
    ids.append(sorted(h3.cell_to_children(h3.cell_to_children(parents[0], 5)[0], 6))[0])
    ids = sorted(set(ids) - {h3.cell_to_parent(ids[-1], 5)})  # the res-6 cell stands alone
    latlng = np.array([h3.cell_to_latlng(c) for c in ids])
    people = np.array([1 + h3.str_to_int(c) % 97 for c in ids], float)
    people[::10] = 0.0
    return gpd.GeoDataFrame(
        {
            "zone_id": ids,
            "parent_id": np.where(latlng[:, 1] < 113.5, "p0", "p1"),
            "popu_2020": people,
            "settlement": "rural",
            "centre_lon": latlng[:, 1],
            "centre_lat": latlng[:, 0],
        },
        geometry=gpd.points_from_xy(latlng[:, 1], latlng[:, 0]),
        crs="EPSG:4326",
    )


def _metres(points: gpd.GeoSeries) -> np.ndarray:
    metric = points.to_crs(CRS)
    return np.column_stack([metric.x, metric.y])


def _sites(cells: gpd.GeoDataFrame, **options: object) -> gpd.GeoDataFrame:
    return station_sites_from_cells(
        cells,
        public_daily_kwh=cells["popu_2020"].to_numpy(float),
        min_daily_kwh=390.0,
        crs=CRS,
        **options,
    )


def test_one_rural_candidate_per_parent_and_prefecture_at_its_most_populous_cell() -> None:
    cells = _rural_grid()
    sites = _sites(cells, rural_resolution=4)
    people = cells.set_index("zone_id")["popu_2020"]
    populated = cells[cells["popu_2020"] > 0]
    key = [
        (h3.cell_to_parent(c, 4), p)
        for c, p in zip(populated["zone_id"], populated["parent_id"], strict=True)
    ]
    groups: dict[tuple[str, str], list[str]] = {}
    for (parent, prefecture), cell in zip(key, populated["zone_id"], strict=True):
        groups.setdefault((parent, prefecture), []).append(cell)
    # by hand: the most populous cell of each group, ties by the smaller H3 index
    expected = sorted(
        min(members, key=lambda c: (-people[c], h3.str_to_int(c))) for members in groups.values()
    )
    assert sorted(sites["cell"]) == expected
    assert len(sites) < len(populated) / 4  # 7 children per parent, two prefectures at most


@pytest.mark.parametrize("rural_km", [25.0, 12.0])
def test_every_populated_rural_cell_has_a_candidate_within_the_rural_reach(
    rural_km: float,
) -> None:
    cells = _rural_grid()
    coarse = _sites(cells, rural_resolution=4)
    sites = _sites(cells, rural_resolution=4, rural_km=rural_km)
    populated = cells[cells["popu_2020"] > 0]
    cell_xy, site_xy = _metres(populated.geometry), _metres(sites.geometry)
    distance = np.hypot(*(cell_xy[:, None, :] - site_xy[None, :, :]).transpose(2, 0, 1))
    assert (distance.min(axis=1) <= rural_km * 1000.0).all()
    # the coarse picks stay; the check adds only what it must (the res-4 centres are ~39 km
    # apart: at 25 km the picks at the most populous child leave some cells beyond reach
    # only where the pick lies on the far side of its parent)
    assert set(coarse["cell"]) <= set(sites["cell"])
    coarse_distance = np.hypot(
        *(cell_xy[:, None, :] - _metres(coarse.geometry)[None, :, :]).transpose(2, 0, 1)
    )
    uncovered = (coarse_distance.min(axis=1) > rural_km * 1000.0).sum()
    assert len(sites) - len(coarse) <= uncovered
    if rural_km >= 25.0:  # at 12 km (res-5 centres ~16 km apart) nearly every cell needs one
        assert len(sites) < len(populated) / 2


def test_without_the_key_every_populated_rural_cell_is_a_candidate() -> None:
    cells = _rural_grid()
    sites = _sites(cells)
    assert sorted(sites["cell"]) == sorted(cells.loc[cells["popu_2020"] > 0, "zone_id"])


def test_a_rural_candidate_resolution_finer_than_the_rural_cells_is_refused() -> None:
    from pydantic import ValidationError

    from chargeplan.config.scale import FineZonesConfig

    base = {"places_file": "places.gpkg", "urban_h3_resolution": 8, "rural_h3_resolution": 5}
    assert (
        FineZonesConfig(**base, rural_candidate_h3_resolution=4).rural_candidate_h3_resolution == 4
    )
    with pytest.raises(ValidationError, match="rural_candidate_h3_resolution = 6 must be at or"):
        FineZonesConfig(**base, rural_candidate_h3_resolution=6)
