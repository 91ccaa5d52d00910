"""The economics' data tables: time-of-use tariffs and state-support rules, read and checked.

Both are CSV files with one row per rule and a ``source`` per row (``models/tariffs-cn.csv``,
``models/state-support-cn.csv``). Every problem raises :class:`~chargeplan.errors.InputError`
naming the file, the row and the column, before anything is computed. Text from the files is
data only: it is never evaluated (CSV written from it is neutralised by
:func:`chargeplan.outputs.files.write_csv`).

Tariffs: ``region, band, hours, energy_cost_cny_per_kwh, energy_price_cny_per_kwh,
service_fee_cny_per_kwh, source``. ``hours`` lists half-open hour ranges ``start-end`` joined by
``;`` (``23-7`` wraps past midnight); a region's bands cover each hour of the day exactly once;
``region = "*"`` is the national default and must be there.

Support: ``version, region, kind, value, min_power_kw, max_power_kw, valid_from, valid_to,
source``; ``kind`` is one of :data:`SUPPORT_KINDS`; blank power limits and years mean no
limit. One file may hold several versions of the rules; a scenario picks one
(``economics.support_version``, default the latest).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from chargeplan.errors import InputError
from chargeplan.inputs.checks import (
    as_float,
    check_values,
    locate_rows,
    missing_or_blank,
    require_columns,
)

__all__ = ["NATIONAL", "SUPPORT_KINDS", "parse_hours", "read_support", "read_tariffs"]

#: The region of the rows that apply everywhere.
NATIONAL = "*"

#: Kinds of support rule, with the unit of ``value``.
SUPPORT_KINDS = {
    "construction_per_kw": "CNY per kW of chargers built (in the row's power range)",
    "construction_share": "share of the chargers' capex (in the row's power range)",
    "construction_cap_per_station_cny": "cap on a station's construction support, CNY",
    "operation_per_kwh": "CNY per kWh charged",
    "operation_per_kw_year": "CNY per kW of chargers (in the row's power range) and year",
    "operation_cap_per_station_year_cny": "cap on a station's operation support, CNY a year",
    "demand_charge_exempt": "1: no demand (capacity) charge in the valid years",
    "rent_support": "share of the lease waived",
}
_SHARE_KINDS = ("construction_share", "demand_charge_exempt", "rent_support")

_TARIFF_NUMBERS = (
    "energy_cost_cny_per_kwh",
    "energy_price_cny_per_kwh",
    "service_fee_cny_per_kwh",
)
_TARIFF_COLUMNS = ("region", "band", "hours", *_TARIFF_NUMBERS, "source")
_SUPPORT_COLUMNS = (
    "version",
    "region",
    "kind",
    "value",
    "min_power_kw",
    "max_power_kw",
    "valid_from",
    "valid_to",
    "source",
)


def parse_hours(text: str) -> np.ndarray:
    """The hours 0-23 a band covers, as a ``(24,)`` count of how often each is named.

    ``"10-15;18-21"`` covers 10-14 and 18-20; ``"23-7"`` covers 23 and 0-6. Raises
    ``ValueError`` for anything else.
    """
    counts = np.zeros(24, dtype=np.int64)
    for part in str(text).split(";"):
        bounds = part.strip().split("-")
        if len(bounds) != 2 or not all(b.strip().isdigit() for b in bounds):
            raise ValueError(f"'{part.strip()}' is not a range like 10-15")
        start, end = (int(b) for b in bounds)
        if not (0 <= start <= 23 and 0 <= end <= 24) or start == end:
            raise ValueError(f"'{part.strip()}' is not a range of hours 0-24 like 10-15")
        hours = np.arange(start, end) if start < end else np.r_[np.arange(start, 24), 0:end]
        counts[hours] += 1
    return counts


def _read_csv(path: Path, kind: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV as text (numbers are checked column by column) with its columns checked."""
    if not path.is_file():
        raise InputError(f"{kind} ({path}): file not found: check economics.{kind} in the scenario")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    require_columns(frame, f"{kind} ({path})", columns)
    blank = missing_or_blank(frame["source"]) | missing_or_blank(frame["region"])
    if blank.any():
        raise InputError(
            f"{kind} ({path}): {locate_rows(frame, blank)} lack a region or a source: every "
            "rule needs both (region '*' for the whole country)"
        )
    return frame


def read_tariffs(path: str | Path) -> pd.DataFrame:
    """Read and check a time-of-use tariff table.

    Returns
    -------
    pandas.DataFrame
        One row per region and band: the file's columns, numbers as floats, and ``hours`` as a
        ``(24,)`` 0/1 array per row.
    """
    path = Path(path)
    where = f"tariffs ({path})"
    frame = _read_csv(path, "tariffs", _TARIFF_COLUMNS)
    for column in _TARIFF_NUMBERS:
        values = as_float(frame, column, where, ("region", "band"))
        check_values(
            frame, where, column, values, ("region", "band"), allow_nan=False, nonnegative=True
        )
        frame[column] = values
    hours = []
    for row, text in enumerate(frame["hours"], start=1):
        try:
            hours.append(parse_hours(text))
        except ValueError as error:
            raise InputError(
                f"{where}: row {row}, column 'hours': {error}: write half-open hour ranges "
                "joined by ';', e.g. 10-15;18-21 (23-7 wraps past midnight)"
            ) from None
    frame["hours"] = hours
    for region, rows in frame.groupby("region", sort=True):
        cover = np.sum(np.stack(rows["hours"].to_list()), axis=0)
        wrong = np.flatnonzero(cover != 1)
        if len(wrong):
            raise InputError(
                f"{where}: region '{region}': hours {wrong.tolist()} are covered "
                f"{cover[wrong].tolist()} times by its bands: each hour 0-23 needs exactly one band"
            )
    if NATIONAL not in set(frame["region"]):
        raise InputError(
            f"{where}: no national rows (region '{NATIONAL}'): add them, they price every site "
            "that no regional row matches"
        )
    return frame


def read_support(path: str | Path, version: str | None = None) -> pd.DataFrame:
    """Read and check a state-support table and keep the rows of one version.

    Parameters
    ----------
    path
        The CSV file.
    version
        The version to keep (default: the latest, as the versions sort as text, e.g.
        ``2026-11``).

    Returns
    -------
    pandas.DataFrame
        The version's rows; ``value`` as float, power limits as floats (blank: 0 and inf),
        years as floats (blank: -inf and inf).
    """
    path = Path(path)
    where = f"support ({path})"
    frame = _read_csv(path, "support", _SUPPORT_COLUMNS)
    versions = sorted(frame["version"].dropna().unique())
    chosen = version if version is not None else (versions[-1] if versions else None)
    if chosen not in versions:
        raise InputError(
            f"{where}: no rows of version {chosen!r}; the file has versions {versions}: "
            "set economics.support_version to one of them"
        )
    frame = frame[frame["version"] == chosen].reset_index(drop=True)
    unknown = ~frame["kind"].isin(list(SUPPORT_KINDS)).to_numpy()
    if unknown.any():
        raise InputError(
            f"{where}: column 'kind' has unknown kinds {sorted(set(frame['kind'][unknown]))} "
            f"({locate_rows(frame, unknown, ('region',))}): use one of {list(SUPPORT_KINDS)}"
        )
    ids = ("region", "kind")
    value = as_float(frame, "value", where, ids)
    check_values(frame, where, "value", value, ids, allow_nan=False, nonnegative=True)
    share = frame["kind"].isin(_SHARE_KINDS).to_numpy() & (value > 1)
    if share.any():
        raise InputError(
            f"{where}: column 'value' holds shares above 1 ({locate_rows(frame, share, ids)}): "
            f"kinds {list(_SHARE_KINDS)} take a share from 0 to 1"
        )
    frame["value"] = value
    for column, blank in (
        ("min_power_kw", 0.0),
        ("max_power_kw", np.inf),
        ("valid_from", -np.inf),
        ("valid_to", np.inf),
    ):
        numbers = as_float(frame, column, where, ids)
        check_values(
            frame,
            where,
            column,
            np.nan_to_num(numbers, nan=0.0),
            ids,
            allow_nan=False,
            nonnegative=True,
        )
        frame[column] = np.where(np.isnan(numbers), blank, numbers)
    for low, high in (("min_power_kw", "max_power_kw"), ("valid_from", "valid_to")):
        bad = (frame[low] > frame[high]).to_numpy()
        if bad.any():
            raise InputError(
                f"{where}: column '{low}' is above '{high}' ({locate_rows(frame, bad, ids)}): "
                "swap them or leave one blank"
            )
    return frame
