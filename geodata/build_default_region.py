"""Build chargeplan's default region (mainland China, Hong Kong, Macao) from the shared sources.

Run from the repository root (the shared data folder sits beside it)::

    python geodata/build_default_region.py --source ../shared/data/china

Writes, next to this script:

- ``china_prefectures.parquet``: the 369 prefecture-level units of the 2020 census as demand
  zones (GeoParquet, EPSG:4326, polygons). Adds ``zone_id`` (the 6-digit admin code as text),
  ``name`` and ``centre_lon``/``centre_lat``: the zone's demand centre, the population-weighted
  mean of the Natural Earth places inside it (its cities), or the polygon's representative point
  where it holds none. Distances to candidate sites are measured from this centre.
- ``china_candidate_sites.parquet``: the 400 Natural Earth populated places as candidate sites
  (GeoParquet, EPSG:4326, points) with ``site_id``, ``name``, ``province``, ``pop_max`` and the
  per-site limits ``max_dc_fast`` and ``max_ac_destination`` derived from ``pop_max`` (below).

Site limits. A candidate site stands for a city's charging hub cluster (several stations on
leased land at malls, offices and transport hubs), so its room for chargers grows with the city:
``max_dc_fast = clip(pop_max / 1,000, 20, 20,000)`` and ``max_ac_destination =
clip(pop_max / 200, 50, 100,000)``. The ratios assume a premium network may claim at most about
one DC fast stall per 1,000 residents and one AC destination charger per 200 residents of the
city's agglomeration: China had about 1 public charger per 400 residents at the end of 2024,
all networks together (China Charging Alliance EVCIPA: 3.58 M public chargers for 1.41 bn
people), and a 20-million-user premium network in 2030 may claim about as many again in the
cities; the floors let a small town host a minimal hub. Change them here and rebuild, or give
the columns yourself.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def build(source: Path, out: Path = HERE) -> tuple[Path, Path]:
    """Read the shared sources, derive the default zones and sites, write GeoParquet files."""
    zones = gpd.read_file(source / "china_prefectures_census2020.geojson").to_crs("EPSG:4326")
    places = gpd.read_file(source / "ne_10m_populated_places_china.geojson").to_crs("EPSG:4326")

    zones.insert(0, "zone_id", zones["city_code"].astype("int64").astype(str))
    zones.insert(1, "name", zones["city"])
    # Demand centre: population-weighted mean of the places inside the zone.
    joined = gpd.sjoin(
        places[["POP_MAX", "geometry"]],
        zones[["zone_id", "geometry"]],
        predicate="within",
        how="inner",
    )
    w = joined["POP_MAX"].clip(lower=1).to_numpy(float)
    grouped = (
        pd.DataFrame(
            {
                "zone_id": joined["zone_id"].to_numpy(),
                "w": w,
                "wx": w * joined.geometry.x.to_numpy(),
                "wy": w * joined.geometry.y.to_numpy(),
            }
        )
        .groupby("zone_id")[["w", "wx", "wy"]]
        .sum()
    )
    rep = zones.geometry.representative_point()
    centre_lon = pd.Series(rep.x.to_numpy(), index=zones["zone_id"])
    centre_lat = pd.Series(rep.y.to_numpy(), index=zones["zone_id"])
    centre_lon.loc[grouped.index] = grouped["wx"] / grouped["w"]
    centre_lat.loc[grouped.index] = grouped["wy"] / grouped["w"]
    zones["centre_lon"] = centre_lon.to_numpy().round(5)
    zones["centre_lat"] = centre_lat.to_numpy().round(5)
    zones["centre_from_places"] = zones["zone_id"].isin(grouped.index)

    sites = gpd.GeoDataFrame(
        {
            "site_id": "",
            "name": places["NAMEASCII"],
            "name_zh": places["NAME_ZH"],
            "province": places["ADM1NAME"],
            "pop_max": places["POP_MAX"].astype("int64"),
        },
        geometry=places.geometry,
        crs=places.crs,
    )
    # Stable ids: Natural Earth has no unique key here (GEONAMEID is -1 for 62 places).
    sites = sites.sort_values(["province", "name", "pop_max"], kind="stable").reset_index(drop=True)
    sites["site_id"] = [f"s{i:04d}" for i in range(1, len(sites) + 1)]
    sites["max_dc_fast"] = np.clip(np.floor(sites["pop_max"] / 1_000), 20, 20_000).astype("int64")
    sites["max_ac_destination"] = np.clip(np.floor(sites["pop_max"] / 200), 50, 100_000).astype(
        "int64"
    )

    zone_path, site_path = out / "china_prefectures.parquet", out / "china_candidate_sites.parquet"
    zones.to_parquet(zone_path, index=False)
    sites.to_parquet(site_path, index=False)
    return zone_path, site_path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=HERE.parent.parent / "shared/data/china")
    args = parser.parse_args()
    for path in build(args.source):
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
