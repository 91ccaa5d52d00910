"""Zone-site pairs from a table of costs (as a routing engine exports them)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from chargeplan.errors import InputError


def pairs_from_cost_table(
    table: pd.DataFrame,
    zone_ids: pd.Index,
    site_ids: pd.Index,
    *,
    source: str = "cost table",
    max_cost: float | None = None,
) -> pd.DataFrame:
    """Pairs from a supplied table of costs ``zone_id, site_id, cost``.

    Parameters
    ----------
    table
        One row per reachable pair; ``cost`` is per unit of demand (or, for the classic
        capacitated facility-location problem, for all of the zone's demand: see
        :func:`chargeplan.model.formulation.problem_from_arrays`). A ``distance_km`` column is kept
        if present, else it is left missing.
    zone_ids, site_ids
        The ids of the zones and sites, in the order used by the model.
    source
        Label for error messages (usually the file path).
    max_cost
        Drop pairs costlier than this (for example a travel-time limit).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PAIR_COLUMNS`, sorted by zone then site.
    """
    missing = {"zone_id", "site_id", "cost"} - set(table.columns)
    if missing:
        raise InputError(
            f"{source}: missing column(s) {sorted(missing)}; it has {list(table.columns)}: "
            "give zone_id, site_id, cost"
        )
    zone_lookup = pd.Series(np.arange(len(zone_ids)), index=pd.Index(zone_ids).astype(str))
    site_lookup = pd.Series(np.arange(len(site_ids)), index=pd.Index(site_ids).astype(str))
    zone_key = table["zone_id"].astype(str)
    site_key = table["site_id"].astype(str)
    unknown_zones = sorted(set(zone_key) - set(zone_lookup.index))
    unknown_sites = sorted(set(site_key) - set(site_lookup.index))
    if unknown_zones or unknown_sites:
        raise InputError(
            f"{source}: unknown zone_id {unknown_zones[:5]} / site_id {unknown_sites[:5]}: "
            "ids must match the zones' and sites' id columns"
        )
    cost = pd.to_numeric(table["cost"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(cost) | (cost < 0)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise InputError(f"{source}: column 'cost' has missing or negative values (rows {rows})")
    if pd.DataFrame({"z": zone_key, "s": site_key}).duplicated().any():
        raise InputError(f"{source}: duplicate (zone_id, site_id) pairs: keep one row per pair")
    zone_pos = zone_lookup.loc[zone_key].to_numpy()
    site_pos = site_lookup.loc[site_key].to_numpy()
    if "distance_km" in table.columns:
        distance = table["distance_km"].to_numpy(dtype=float)
    else:
        distance = np.full(len(table), np.nan)
    keep = np.ones(len(table), bool) if max_cost is None else cost <= max_cost
    order = np.lexsort((site_pos[keep], zone_pos[keep]))
    return pd.DataFrame(
        {
            "zone": zone_pos[keep][order].astype(np.int64),
            "site": site_pos[keep][order].astype(np.int64),
            "zone_id": np.asarray(zone_ids)[zone_pos[keep][order]],
            "site_id": np.asarray(site_ids)[site_pos[keep][order]],
            "distance_km": distance[keep][order],
            "cost": cost[keep][order],
        }
    )
