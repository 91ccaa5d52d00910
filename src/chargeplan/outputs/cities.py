"""Cities of a plan: its zones grouped by name.

A city-level plan has one zone per city; a station layer's city is many cells of one name.
The report's coverage table, its choice of city maps and a city map's served share all count
a city as the zones of its name (the zone's id where there is no name column).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def city_names(zones: pd.DataFrame, name_column: str | None) -> np.ndarray:
    """Each zone's city: its ``name_column`` as text, else its id (every zone its own city)."""
    if name_column and name_column in zones:
        return zones[name_column].astype(str).to_numpy()
    return zones.index.astype(str).to_numpy()


def city_table(
    zones: pd.DataFrame, name_column: str | None, region_column: str | None = None
) -> pd.DataFrame:
    """One row per city, in the order of its first zone: ``premium_users``, ``served_share``,
    ``region`` (its first zone's) and ``reason``.

    ``served_share`` is the city's served over its demand kWh (``served_kwh``,
    ``demand_kwh``), else its zones' ``share_served`` weighted by their users; ``reason`` the
    gap reason that leaves the most of its users unserved ("" when all is served). The zones
    need ``premium_users``, ``share_served`` and ``gap_reason``.
    """
    users = zones["premium_users"].to_numpy(float)
    share = zones["share_served"].fillna(1.0).to_numpy(float)
    unserved = (
        zones["unserved_users"].to_numpy(float)
        if "unserved_users" in zones
        else users * (1 - share)
    )
    frame = pd.DataFrame(
        {
            "city": city_names(zones, name_column),
            "region": city_names(zones, region_column),
            "premium_users": users,
            "served_users": users * share,
            "reason": zones["gap_reason"].fillna("").astype(str).to_numpy(),
            "unserved": unserved,
        }
    )
    kwh = {"served_kwh", "demand_kwh"} <= set(zones.columns)
    frame["served_kwh"] = zones["served_kwh"].to_numpy(float) if kwh else 0.0
    frame["demand_kwh"] = zones["demand_kwh"].to_numpy(float) if kwh else 0.0
    cities = frame.groupby("city", sort=False).agg(
        region=("region", "first"),
        premium_users=("premium_users", "sum"),
        served_users=("served_users", "sum"),
        served_kwh=("served_kwh", "sum"),
        demand_kwh=("demand_kwh", "sum"),
    )
    by_users = cities["served_users"] / cities["premium_users"].clip(lower=1e-12)
    by_kwh = cities["served_kwh"] / cities["demand_kwh"].where(cities["demand_kwh"] > 0)
    cities["served_share"] = by_kwh.fillna(by_users)
    gaps = frame[frame["reason"] != ""].groupby(["city", "reason"], sort=False)["unserved"].sum()
    main = gaps.groupby(level="city", sort=False).idxmax().map(lambda key: key[1])
    cities["reason"] = main.reindex(cities.index).fillna("")
    cities.loc[cities["served_share"] >= 1.0, "reason"] = ""
    return cities[["premium_users", "served_share", "region", "reason"]]
