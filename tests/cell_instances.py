"""Square zones and point places near Hangzhou for the cell tests (``tests/test_finezones.py``,
``tests/test_national_layer.py``), as plain data.

Drawn in UTM 51N (EPSG:32651) from the origin (:data:`X0`, :data:`Y0`), in kilometres, and
handed over in lon/lat (EPSG:4326).
"""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import Point, box

X0, Y0 = 200_000.0, 3_350_000.0  # metres in EPSG:32651 (UTM 51N), near 30.2 N 120 E


def square_zones(
    squares: list[tuple[float, float, float]],
    population: list[float],
    urban: list[float],
    **columns: object,
) -> gpd.GeoDataFrame:
    """Square zones ``(x km, y km, side km)`` from the origin, ids ``p0, p1, ...``, named
    ``prefecture i``, all in province ``a``, with their population, urban population and any
    further ``columns``."""
    geoms = [
        box(X0 + x * 1e3, Y0 + y * 1e3, X0 + (x + side) * 1e3, Y0 + (y + side) * 1e3)
        for x, y, side in squares
    ]
    return gpd.GeoDataFrame(
        {
            "zone_id": [f"p{i}" for i in range(len(geoms))],
            "name": [f"prefecture {i}" for i in range(len(geoms))],
            "province": ["a"] * len(geoms),
            "popu_2020": population,
            "popu_urban_2020": urban,
            **columns,
        },
        geometry=geoms,
        crs="EPSG:32651",
    ).to_crs("EPSG:4326")


def places_at(points_km: list[tuple[float, float]], pop: list[float]) -> gpd.GeoDataFrame:
    """Places at ``(x km, y km)`` from the origin with their population (``pop_max``)."""
    return gpd.GeoDataFrame(
        {"pop_max": pop},
        geometry=[Point(X0 + x * 1e3, Y0 + y * 1e3) for x, y in points_km],
        crs="EPSG:32651",
    ).to_crs("EPSG:4326")
