"""The plan's station economics as files: ``economics.csv`` (one row per open station) and
``economics_regions.csv`` (summed per value of the first region column, e.g. province)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from chargeplan.outputs.files import write_csv
from chargeplan.results.plan import Plan

__all__ = ["write_economics"]

#: Station columns summed per region.
_SUMMED = (
    "chargers",
    "capex_cny",
    "energy_kwh_per_year",
    "revenue_cny_per_year",
    "construction_support_cny",
    "npv_cny",
    "npv_without_support_cny",
    "support_npv_cny",
    "viable_only_with_support",
)


def write_economics(plan: Plan, out: Path) -> dict[str, Path]:
    """Write ``economics.csv`` and ``economics_regions.csv`` if the plan has economics.

    Returns
    -------
    dict[str, pathlib.Path]
        What was written, by name (nothing for a plan without economics).
    """
    table = plan.economics
    if table is None:
        return {}
    stations = table.rename_axis("site_id").reset_index()
    write_csv(stations, out / "economics.csv", index=False)
    region = str(table.columns[0])
    grouped = table.groupby(region, sort=True)
    regions = grouped[[c for c in _SUMMED if c in table.columns]].sum()
    regions.insert(0, "stations", grouped.size())
    write_csv(pd.DataFrame(regions.reset_index()), out / "economics_regions.csv", index=False)
    return {
        "economics.csv": out / "economics.csv",
        "economics_regions.csv": out / "economics_regions.csv",
    }
