"""The scenario's ``[realism]`` section: the real networks a plan is compared with.

::

    [realism]
    # Published figures of real charging networks, one per row with its source.
    networks = "networks-cn.csv"

With it, a run writes ``networks.csv``: the plan's stations, stalls per station, DC share and
users per DC stall next to each published figure (:mod:`chargeplan.results.networks`,
``docs/networks.md``). The file is read and checked when the scenario is loaded
(:func:`read_networks`), so a bad row is reported before any solve, not after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import field_validator

from chargeplan.config.validation import Frozen
from chargeplan.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FIGURES", "RealismConfig", "read_networks"]

#: The figures a plan's profile gives, with their meaning (the ``figure`` column of the table).
FIGURES: dict[str, str] = {
    "stations": "stations built or kept",
    "stalls": "stalls (chargers) at them",
    "stalls_per_station": "mean stalls per station",
    "stalls_per_station_median": "median stalls per station",
    "dc_stalls_per_dc_station": "mean DC stalls per station with DC",
    "largest_station_stalls": "stalls of the largest station",
    "dc_share_of_stalls": "DC stalls over all stalls",
    "users_per_stall": "premium users (cars) per stall",
    "users_per_dc_stall": "premium users (cars) per DC stall",
}

_COLUMNS = ("network", "figure", "value", "as_of", "source")


def read_networks(path: str | Path) -> pd.DataFrame:
    """Read the published figures of real networks (``models/networks-cn.csv``).

    Parameters
    ----------
    path
        A CSV with the columns ``network, figure, value, as_of, source``; ``figure`` one of
        :data:`FIGURES`, ``value`` a number, ``source`` not blank.

    Returns
    -------
    pandas.DataFrame
        The rows, ``value`` as float.

    Raises
    ------
    InputError
        Naming the file, the row and the column of the first problem.
    """
    import numpy as np
    import pandas as pd

    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: cannot read the networks table: {exc}") from exc
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; the table needs {', '.join(_COLUMNS)}"
        )
    value = pd.to_numeric(table["value"], errors="coerce")
    checks = (
        (~table["figure"].isin(list(FIGURES)), "figure", f"use one of {', '.join(FIGURES)}"),
        (value.isna(), "value", "give a number"),
        (table["source"].str.strip() == "", "source", "give the figure's source"),
    )
    for bad, column, fix in checks:
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{path}, row {row + 2}, column {column!r}: {table[column].iloc[row]!r}: {fix}"
            )
    return table.assign(value=value.astype(float))


class RealismConfig(Frozen):
    """Real networks to compare the plan with.

    Attributes
    ----------
    networks
        CSV of published figures, ``network, figure, value, as_of, source``
        (:func:`read_networks`, checked when the scenario is loaded); ``None``: no comparison.
    """

    networks: Path | None = None

    @field_validator("networks")
    @classmethod
    def _readable(cls, path: Path | None) -> Path | None:
        if path is None:
            return None
        if not path.is_file():
            raise ValueError(f"file not found: {path} (the real networks' figures, a CSV)")
        try:
            read_networks(path)
        except InputError as error:
            raise ValueError(str(error)) from None
        return path
