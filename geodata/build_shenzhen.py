"""Build the Shenzhen city layers from the shared ST-EVCDP copy and the 2020 census.

Run from the repository root (the shared data folder sits beside it)::

    python geodata/build_shenzhen.py --source ../shared/data/china

Writes into ``geodata/shenzhen/`` (GeoParquet, EPSG:4326):

- ``shenzhen_zones.parquet``: the study's 491 traffic-analysis zones as demand zones, with
  ``zone_id`` (``TAZID`` as text), ``area_km2``, ``road_km``, ``activity_km``,
  ``popu_2020`` (whole people) and the city's census indicators;
- ``shenzhen_stations.parquet``: the public charging stations of 2022 as candidate sites, one
  row per location, with the third-party piles standing there (``piles_fast``,
  ``piles_slow``, ``piles``), the stations merged at that location and the zone it lies in.

and copies ``shenzhen_public_stations_2022.csv`` (the station list as published, read by the
scenario's ``[existing]`` section as the third-party network) and ``LICENSE_ST-EVCDP.txt``.

Population. Shenzhen's 2020 census population (prefecture ``city_code`` 440300 in
``china_prefectures_census2020.geojson``: 17,560,061) is spread over the zones in proportion to
an activity proxy, by the largest-remainder method, so the zones add up to the census figure to
the person. District totals (``china_county_indicators_census2020.csv``, codes 4403xx) cannot be
used: no district polygons are shipped and the zones carry no district code, so no zone can be
placed in a district. The proxy is the zone's road length (``LENG_ROAD``, km): where people
live and work, roads are dense. 180 zones list no road length (0) although they measure
0.4-59 km2 and lie all over the outer districts: the study's road layer does not cover them,
so their road length is imputed as ``area_km2 x`` the aggregate road density of the zones that
have one (sum of road km / sum of km2). ``area_km2`` is measured on the polygon (CGCS2000 /
3-degree Gauss-Kruger CM 114E, EPSG:4547), not taken from ``AREA``: ``AREA`` is 0 for two
zones whose polygons measure 4.4 and 3.1 km2, and agrees with the polygons within 3 % elsewhere.
A zone with neither area nor road length would get no people (there is none in this copy; the
build reports them).

Indicators. Every zone carries the city's census indicators (``car_hh_share``,
``bachelor_plus_share``, ``elevator_hh_share``, ...): with no zone placed in a district, the
city row is the finest that applies. The demand model (premium-user propensity from
indicators) thus spreads users in proportion to population inside the city.

Stations. 1,706 stations; 62 list 0 piles (kept as candidate locations: a listed station is a
place where a station can be; they add no third-party piles); 109 share their coordinates with
another station (merged into one location: a station is one location, its piles add up); 61
lie outside every zone (kept: reach is measured from zone centres, so a site just outside the
zones still serves them; ``zone_id`` is empty and ``outside_km`` says how far out).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from chargeplan.inputs.calibration import largest_remainder

HERE = Path(__file__).resolve().parent
OUT = HERE / "shenzhen"
CITY_CODE = 440300
METRIC_CRS = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E: Shenzhen lies on it
INDICATORS = (
    "car_hh_share",
    "elevator_hh_share",
    "bachelor_plus_share",
    "tertiary_share",
    "housing_m2_per_cap",
    "urban_share",
    "household_2020",
)


def build_zones(source: Path) -> tuple[gpd.GeoDataFrame, dict[str, object]]:
    """The traffic zones with census population spread by road length; and what was done."""
    raw = gpd.read_file(source / "shenzhen" / "shenzhen_traffic_zones.geojson").to_crs(4326)
    city = gpd.read_file(source / "china_prefectures_census2020.geojson")
    city = city[city["city_code"].astype("int64") == CITY_CODE].iloc[0]
    area_km2 = raw.geometry.to_crs(METRIC_CRS).area.to_numpy() / 1e6
    road_km = raw["LENG_ROAD"].to_numpy(float)
    has_road = road_km > 0
    density = road_km[has_road].sum() / area_km2[has_road].sum()
    activity = np.where(has_road, road_km, area_km2 * density)
    population = np.zeros(len(raw), np.int64)
    population[activity > 0] = largest_remainder(activity[activity > 0], int(city["popu_2020"]))
    zones = gpd.GeoDataFrame(
        {
            "zone_id": raw["TAZID"].astype("int64").astype(str),
            "name": "TAZ " + raw["TAZID"].astype("int64").astype(str),
            "taz_zone": raw["ZONE"].astype("int64"),
            "area_km2_reported": raw["AREA"].astype(float),
            "area_km2": area_km2.round(4),
            "road_km": road_km,
            "road_imputed": ~has_road,
            "activity_km": activity.round(4),
            "popu_2020": population,
            "city_code": str(CITY_CODE),
            "indicator_source": f"census 2020, city {CITY_CODE}",
        },
        geometry=raw.geometry.values,
        crs="EPSG:4326",
    )
    for column in INDICATORS:
        zones[column] = float(city[column])
    report = {
        "zones": len(zones),
        "census population": int(city["popu_2020"]),
        "zones without road length (imputed)": int((~has_road).sum()),
        "zones whose AREA is 0 (measured instead)": int((raw["AREA"] == 0).sum()),
        "zones with no people": int((population == 0).sum()),
        "road density used (km per km2)": round(float(density), 4),
    }
    return zones.sort_values("zone_id", key=lambda s: s.astype(int)).reset_index(drop=True), report


def build_stations(
    source: Path, zones: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, dict[str, object]]:
    """One candidate site per station location, with the third-party piles there."""
    table = pd.read_csv(source / "shenzhen" / "shenzhen_public_stations_2022.csv")
    table = table.sort_values("station_id", kind="stable")
    location = table[["longitude", "latitude"]].round(7).astype(str).agg(",".join, axis=1)
    grouped = table.groupby(location, sort=False)
    sites = pd.DataFrame(
        {
            "site_id": "sz-" + grouped["station_id"].min().astype(str).str.zfill(4),
            "name": "station " + grouped["station_id"].min().astype(str),
            "station_ids": grouped["station_id"].agg(lambda s: ";".join(map(str, sorted(s)))),
            "stations": grouped.size(),
            "piles_fast": grouped["fast"].sum(),
            "piles_slow": grouped["slow"].sum(),
            "piles": grouped["count"].sum(),
            "lon": grouped["longitude"].first(),
            "lat": grouped["latitude"].first(),
        }
    ).reset_index(drop=True)
    points = gpd.GeoDataFrame(
        sites, geometry=gpd.points_from_xy(sites["lon"], sites["lat"]), crs="EPSG:4326"
    )
    inside = gpd.sjoin(points, zones[["zone_id", "geometry"]], how="left", predicate="within")
    inside = inside[~inside.index.duplicated(keep="first")]
    points["zone_id"] = inside["zone_id"].fillna("").to_numpy()
    metric = zones.geometry.to_crs(METRIC_CRS)
    distance = points.geometry.to_crs(METRIC_CRS).apply(lambda p: metric.distance(p).min())
    points["outside_km"] = np.where(points["zone_id"] == "", distance / 1000.0, 0.0).round(3)
    points = points.sort_values("site_id").reset_index(drop=True)
    report = {
        "stations": len(table),
        "stations listing 0 piles": int((table["count"] == 0).sum()),
        "stations sharing a location (merged)": len(table) - len(points),
        "candidate locations": len(points),
        "locations outside every zone": int((points["zone_id"] == "").sum()),
        "farthest outside (km)": float(points["outside_km"].max()),
        "fast piles": int(table["fast"].sum()),
        "slow piles": int(table["slow"].sum()),
        "median piles per station": float(table["count"].median()),
    }
    return points, report


def build(source: Path, out: Path = OUT) -> dict[str, object]:
    """Read the shared sources, write the Shenzhen layers, return the build report."""
    out.mkdir(parents=True, exist_ok=True)
    zones, zone_report = build_zones(source)
    stations, station_report = build_stations(source, zones)
    zones.to_parquet(out / "shenzhen_zones.parquet", index=False)
    stations.to_parquet(out / "shenzhen_stations.parquet", index=False)
    for name in ("shenzhen_public_stations_2022.csv", "LICENSE_ST-EVCDP.txt"):
        shutil.copyfile(source / "shenzhen" / name, out / name)
    return {**zone_report, **station_report}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=HERE.parent.parent / "shared/data/china")
    args = parser.parse_args()
    for key, value in build(args.source).items():
        print(f"{key}: {value}")
