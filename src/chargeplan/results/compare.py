"""What changed between two plans: sites added, removed or resized, chargers, capex, coverage.

:func:`compare` takes two :class:`~chargeplan.results.plan.Plan` s (of the same candidate
sites, e.g. two targets of one scenario) and returns a :class:`Comparison`:

- ``sites``: a GeoDataFrame of every site open in either plan (with its ``name`` if the
  sites have one), with ``change`` one of
  ``"added"`` (open in B only), ``"removed"`` (open in A only), ``"changed"`` (open in both,
  another charger count of some type) or ``"same"``, and ``chargers_<type>_a``, ``_b`` and
  ``_delta`` for each charger type;
- ``totals``: one row per headline figure (sites, chargers by type, capex in CNY, share of
  demand served) with its value in A, in B and B - A;
- ``regions``: per region (``by``, default the zones' ``province`` column if both plans have
  it) the served share of peak demand in A and B and its change, in percentage points.

Every figure is recomputed from the plans' tables (sites' ``open``, ``chargers_<type>``,
``capex_cny``; zones' ``served_kwh`` and ``demand_kwh``), so ``totals`` agrees with ``sites``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from chargeplan.results.plan import Plan

__all__ = ["CHANGES", "Comparison", "compare"]

#: The ``change`` of a site, in the order maps and tables list them.
CHANGES = ("added", "removed", "changed", "same")


@dataclass(frozen=True)
class Comparison:
    """Two plans side by side (see the module docstring for the columns)."""

    sites: gpd.GeoDataFrame
    totals: pd.DataFrame
    regions: pd.DataFrame

    def counts(self) -> dict[str, int]:
        """Sites per ``change``: ``{"added": 3, "removed": 1, "changed": 2, "same": 40}``."""
        counts = self.sites["change"].value_counts()
        return {change: int(counts.get(change, 0)) for change in CHANGES}

    def _repr_html_(self) -> str:
        return (
            "<b>Sites</b> "
            + ", ".join(f"{n} {c}" for c, n in self.counts().items())
            + self.totals.to_html(float_format=lambda v: f"{v:,.4g}")
        )


def charger_types(sites: pd.DataFrame) -> list[str]:
    """Charger types of a plan's sites table: the ``<type>`` of its ``chargers_<type>``."""
    return [c.removeprefix("chargers_") for c in sites.columns if c.startswith("chargers_")]


def compare(a: Plan, b: Plan, *, by: str | None = None) -> Comparison:
    """Compare plan ``b`` with plan ``a`` (B - A).

    Parameters
    ----------
    a, b
        Two plans; rollouts are compared by their final year (:meth:`Plan.final`). Sites are
        matched by their index (the site id).
    by
        The zones' column to total coverage by (default ``"province"`` if both have it;
        ``None`` and no such column: ``regions`` is empty).

    Returns
    -------
    Comparison
    """
    a, b = a.final(), b.final()
    types = [t for t in charger_types(a.sites) if t in set(charger_types(b.sites))]
    sites = _site_changes(a.sites, b.sites, types)
    totals = pd.DataFrame(
        {"a": _totals(a, types), "b": _totals(b, types)},
    )
    totals["change"] = totals["b"] - totals["a"]
    if by is None and "province" in a.zones.columns and "province" in b.zones.columns:
        by = "province"
    regions = _region_coverage(a.zones, b.zones, by) if by else pd.DataFrame()
    return Comparison(sites=sites, totals=totals, regions=regions)


def _open_sites(sites: gpd.GeoDataFrame, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(sites.loc[sites["open"].astype(bool), columns])


def _site_changes(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, types: list[str]) -> gpd.GeoDataFrame:
    """Every site open in ``a`` or ``b``: its chargers of each type in both and ``change``."""
    columns = [f"chargers_{t}" for t in types]
    left = _open_sites(a, columns)
    right = _open_sites(b, columns)
    both = left.add_suffix("_a").join(right.add_suffix("_b"), how="outer").fillna(0)
    in_a = both.index.isin(left.index)
    in_b = both.index.isin(right.index)
    delta = np.zeros(len(both), dtype=bool)
    for column in columns:
        both[f"{column}_delta"] = both[f"{column}_b"] - both[f"{column}_a"]
        delta |= both[f"{column}_delta"].to_numpy() != 0
    both["change"] = np.select(
        [in_b & ~in_a, in_a & ~in_b, delta], ["added", "removed", "changed"], "same"
    )
    if "name" in b.columns:  # the site's name, for people (ids are for the computer)
        only_a = a.loc[~a.index.isin(b.index), "name"] if "name" in a.columns else None
        names = pd.concat([b["name"], only_a]) if only_a is not None else b["name"]
        both.insert(0, "name", names.reindex(both.index).fillna("").astype(str).to_numpy())
    geometry = pd.concat([b.geometry, a.geometry[~a.index.isin(b.index)]])
    out = gpd.GeoDataFrame(both, geometry=geometry.reindex(both.index).to_numpy(), crs=a.crs)
    order = out["change"].map({c: i for i, c in enumerate(CHANGES)})
    return out.iloc[np.lexsort([out.index.astype(str), order.to_numpy()])]


def _totals(plan: Plan, types: list[str]) -> pd.Series:
    """Headline figures recomputed from the plan's tables."""
    sites, zones = plan.sites, plan.zones
    built = sites["open"].astype(bool)
    figures: dict[str, float] = {"sites_opened": float(built.sum())}
    for t in types:
        figures[f"chargers_{t}"] = float(sites.loc[built, f"chargers_{t}"].sum())
    figures["chargers"] = sum(figures[f"chargers_{t}"] for t in types)
    figures["capex_cny"] = float(sites.loc[built, "capex_cny"].sum())
    demand = float(zones["demand_kwh"].sum())
    figures["share_served"] = float(zones["served_kwh"].sum()) / demand if demand > 0 else 0.0
    return pd.Series(figures)


def _region_coverage(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, by: str) -> pd.DataFrame:
    """Served share of peak demand by region in A and B; the change in percentage points."""

    def shares(zones: gpd.GeoDataFrame) -> pd.Series:
        grouped = pd.DataFrame(zones[[by, "served_kwh", "demand_kwh"]]).groupby(by, sort=True)
        totals = grouped.sum()
        return totals["served_kwh"] / totals["demand_kwh"].where(totals["demand_kwh"] > 0)

    out = pd.DataFrame({"share_served_a": shares(a), "share_served_b": shares(b)})
    out["change_pp"] = 100 * (out["share_served_b"] - out["share_served_a"])
    return out.rename_axis(by)
