"""Top cities by premium users, before and after the county-level propensity and the calibration
to city NEV sales, against the published 2024 NEV-sales ranking.

Run: ``python benchmarks/demand_ranking.py [models/china-2030.toml]`` (a few seconds: no solve).
Prints the Markdown tables of docs/demand.md. "Before" is the same scenario with the
prefecture averages alone (no ``users.county_indicators``, no ``users.proxies``, no
``[users.calibration]``: Hong Kong and Macao median-filled), as chargeplan 0.1 allocated users;
"with quota" adds Beijing's plate quota (``models/china-2030-beijing-quota.toml``).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd

import chargeplan
from chargeplan.inputs.demand import allocate_premium_users

#: The CATARC ranking of 2024 city NEV sales (zhenguoke.com/read/-dy-article-JNVJ9N3V05563I3C
#: .html, in ../shared/data/facts/CHINA-EV-FACTS.md): admin code -> (rank, sales in k or None).
PUBLISHED = {
    "330100": (1, 307.5),  # Hangzhou
    "440300": (2, 301.0),  # Shenzhen
    "310100": (3, 297.4),  # Shanghai
    "110100": (4, None),  # Beijing
    "440100": (5, None),  # Guangzhou
    "410100": (6, None),  # Zhengzhou
    "500100": (7, None),  # Chongqing
    "610100": (8, None),  # Xi'an
    "120100": (9, None),  # Tianjin
}
NAMED = ["440300", "440100", "110100", "330100", "310100"]


def users_by_zone(scenario: chargeplan.Scenario) -> pd.Series:
    """Premium users per zone (admin code) under the scenario's ``[users]``."""
    zc = scenario.zones
    zones = gpd.read_parquet(zc.file).set_index(zc.id_column, drop=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = allocate_premium_users(
            zones, scenario.users, population_column=zc.population_column, name_column="name"
        )
    return out["premium_users"]


def english_names(scenario: chargeplan.Scenario) -> pd.Series:
    """Each zone's largest Natural Earth place (English name), from the candidate-site file."""
    zones = gpd.read_parquet(scenario.zones.file)
    places = gpd.read_parquet(scenario.sites.file).to_crs(zones.crs)
    joined = places.sjoin(zones[["zone_id", "geometry"]], predicate="within")
    biggest = joined.sort_values("pop_max", ascending=False).drop_duplicates("zone_id")
    return biggest.set_index("zone_id")["name"]


def main(path: str = "models/china-2030.toml") -> None:
    """Print the top-20 table and the before/after ranks of the named cities."""
    scenario = chargeplan.load_scenario(path)
    plain = {"users.county_indicators": None, "users.proxies": {}, "users.calibration": None}
    quota_file = Path(path).with_name("china-2030-beijing-quota.toml")
    runs = {
        "after": users_by_zone(scenario),
        "before": users_by_zone(scenario.with_values(plain)),
        "quota": users_by_zone(chargeplan.load_scenario(quota_file)),
    }
    table = pd.DataFrame(runs)
    for name in runs:
        table[f"rank_{name}"] = table[name].rank(ascending=False, method="min").astype(int)
    zones = gpd.read_parquet(scenario.zones.file).set_index("zone_id")
    table["city"] = english_names(scenario).reindex(table.index).fillna(zones["name"])
    table["name_zh"] = zones["name"]
    table["published"] = [PUBLISHED.get(code, (None, None)) for code in table.index]
    top = table.sort_values(["rank_after", "rank_before"]).head(20)
    header = "rank | city | premium users | share | rank before | users before | 2024 NEV rank"
    print(f"| {header} |\n|---:|---|---:|---:|---:|---:|---|")
    for _, row in top.iterrows():
        rank, sales = row["published"]
        published = "" if rank is None else f"{rank}" + ("" if sales is None else f" ({sales} k)")
        print(
            f"| {row['rank_after']} | {row['city']} ({row['name_zh']}) | {row['after']:,} | "
            f"{100 * row['after'] / scenario.users.target_premium_users:.2f} % | "
            f"{row['rank_before']} | {row['before']:,} | {published} |"
        )
    print("\n| city | 2024 NEV sales rank | rank before | rank after | rank with Beijing's quota |")
    print("|---|---:|---:|---:|---:|")
    for code in NAMED:
        row = table.loc[code]
        print(
            f"| {row['city']} | {PUBLISHED[code][0]} | {row['rank_before']} "
            f"({row['before']:,}) | {row['rank_after']} ({row['after']:,}) | "
            f"{row['rank_quota']} ({row['quota']:,}) |"
        )
    published = [code for code in PUBLISHED if code in table.index]
    print(
        "\npublished top 9 in the top 20: before "
        f"{int((table.loc[published, 'rank_before'] <= 20).sum())}, after "
        f"{int((table.loc[published, 'rank_after'] <= 20).sum())}"
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
