"""Column names as the files show them: the unit in the name, the same name in every table.

The Python API keeps the names it has always had (``Plan.sites["served_kwh"]``); the writing
stage renames once, here, so that every file (CSV, Parquet, GeoPackage, ``plan.xlsx``) agrees:
a site's, a zone's, a city's and an assignment's design-hour energy served is
``peak_served_kwh`` everywhere, the design-hour demand ``peak_demand_kwh``.
``docs/outputs.md`` lists every file and column with its unit and meaning.
"""

from __future__ import annotations

import pandas as pd

from chargeplan.outputs.provinces import harmonise_provinces

__all__ = ["RENAMED", "file_name", "for_files", "from_files", "plan_name"]

#: Plan column (or the ``<name>_<type>`` family it starts) -> its name in the files.
RENAMED: dict[str, str] = {
    "served_kwh": "peak_served_kwh",  # kWh served in the design (peak) hour
    "demand_kwh": "peak_demand_kwh",  # kWh asked for in the design hour
    "peak_kwh": "peak_demand_kwh",  # the zones' demand as computed from their users
    "unmet_kwh": "peak_unmet_kwh",  # kWh of it left unserved
    "peak_arrivals": "peak_sessions",  # sessions per design hour
    "share_served": "coverage",  # share of the design-hour demand served
    "design_kva": "grid_kva",  # the station design's grid connection
    "daily_kwh": "daily_driving_kwh",  # what a zone's premium users drive on a day, in kWh
    "public_daily_kwh": "daily_public_kwh",  # the part of it charged in public
}

#: Columns that hold province names: written in Chinese, with ``<column>_pinyin`` beside them.
PROVINCE_COLUMNS = ("province", "region")


def file_name(column: str) -> str:
    """The name ``column`` of a plan table has in the files (:data:`RENAMED`)."""
    if column in RENAMED:
        return RENAMED[column]
    for old, new in RENAMED.items():
        if column.startswith(old + "_"):
            return new + column[len(old) :]
    return column


def for_files(frame: pd.DataFrame, province_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """``frame`` with its columns renamed by :func:`file_name` and its provinces harmonised.

    Parameters
    ----------
    frame
        A plan table (the geometry column is kept as it is).
    province_columns
        More columns that hold provinces (the scenario's ``zones.region_column``).
    """
    renamed = frame.rename(columns=file_name)
    # a zone's ``peak_kwh`` (its demand, from its users) and the plan's ``demand_kwh`` (the
    # same demand, as the plan saw it) share a name: the plan's, added last, is kept
    renamed = renamed.loc[:, ~renamed.columns.duplicated(keep="last")]
    return harmonise_provinces(renamed, tuple(dict.fromkeys(PROVINCE_COLUMNS + province_columns)))


#: File name -> plan column: the inverse of :data:`RENAMED` (``peak_demand_kwh`` reads back as
#: the plan's ``demand_kwh``, the name :func:`for_files` keeps when both are present).
_PLAN_NAMES = {new: old for old, new in RENAMED.items() if old != "peak_kwh"}


def plan_name(column: str) -> str:
    """The plan's name of a file column (the inverse of :func:`file_name`)."""
    if column in _PLAN_NAMES:
        return _PLAN_NAMES[column]
    for new, old in _PLAN_NAMES.items():
        if column.startswith(new + "_"):
            return old + column[len(new) :]
    return column


def from_files(frame: pd.DataFrame) -> pd.DataFrame:
    """A table read back from a run folder, with the plan's column names (:func:`plan_name`)."""
    return frame.rename(columns=plan_name)
