r"""The plan's network against real ones: stations, stalls per station, users per DC stall.

Issue 12's realism test: a plan of stations should look like a charging network, or differ
from the real ones for a reason the scenario states. :func:`network_profile` measures a plan's
stations (the rows of :func:`chargeplan.results.stations.station_table`) by the figures the
facts file gives for real networks; :func:`~chargeplan.config.realism.read_networks` reads
those published figures (``models/networks-cn.csv``: one row per network and figure, each
with its source; the scenario checks the file when it is loaded, before any solve), and
:func:`compare_networks` sets them side by side.

With :math:`S` the stations, :math:`n_s` the stalls (chargers) of station :math:`s`,
:math:`n^{DC}_s` its DC stalls and :math:`U` the premium users of the plan's zones:

.. math::

    \text{stalls\_per\_station} = \frac{1}{|S|}\sum_s n_s, \qquad
    \text{dc\_stalls\_per\_dc\_station} = \frac{\sum_s n^{DC}_s}{|\{s : n^{DC}_s > 0\}|},

    \text{dc\_share\_of\_stalls} = \frac{\sum_s n^{DC}_s}{\sum_s n_s}, \qquad
    \text{users\_per\_dc\_stall} = \frac{U}{\sum_s n^{DC}_s}, \qquad
    \text{users\_per\_stall} = \frac{U}{\sum_s n_s}.

A charger type is **DC** when its power exceeds :data:`AC_MAX_KW` (43.5 kW: the most a
three-phase AC connector carries under GB/T 20234.2, 63 A at 400 V), AC otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from chargeplan.config.realism import FIGURES, read_networks

__all__ = [
    "AC_MAX_KW",
    "FIGURES",
    "compare_networks",
    "dc_types",
    "network_profile",
    "read_networks",
]

#: The largest AC charging power (kW) under GB/T 20234.2 (63 A, three-phase 400 V); faster is DC.
AC_MAX_KW = 43.5


def dc_types(power_kw: Mapping[str, float]) -> list[str]:
    """The charger types that are DC: power above :data:`AC_MAX_KW`.

    Parameters
    ----------
    power_kw
        Each charger type's power in kW.

    Returns
    -------
    list of str
        The DC types, in the order given.
    """
    return [name for name, kw in power_kw.items() if kw > AC_MAX_KW]


def network_profile(
    stations: pd.DataFrame, power_kw: Mapping[str, float], users: float | None
) -> dict[str, float]:
    """The figures of :data:`FIGURES` for a plan's stations.

    Parameters
    ----------
    stations
        One row per station with a ``chargers_<type>`` column per charger type
        (:func:`chargeplan.results.stations.station_table`; a rollout's table must be cut to one
        year first).
    power_kw
        Each charger type's power in kW (which types are DC, :func:`dc_types`).
    users
        The premium users the stations are for (the plan's zones), or ``None``.

    Returns
    -------
    dict
        ``figure -> value``; ratios over nothing (no stations, no DC stalls) are NaN.
    """
    types = [t for t in power_kw if f"chargers_{t}" in stations.columns]
    counts = stations[[f"chargers_{t}" for t in types]].to_numpy(float)
    is_dc = np.isin(types, dc_types(power_kw))
    stalls = counts.sum(axis=1)
    dc = counts[:, is_dc].sum(axis=1)
    n, total, total_dc = len(stations), float(stalls.sum()), float(dc.sum())
    users_value = float(users) if users is not None else np.nan
    return {
        "stations": float(n),
        "stalls": total,
        "stalls_per_station": total / n if n else np.nan,
        "stalls_per_station_median": float(np.median(stalls)) if n else np.nan,
        "dc_stalls_per_dc_station": total_dc / int((dc > 0).sum()) if (dc > 0).any() else np.nan,
        "largest_station_stalls": float(stalls.max()) if n else np.nan,
        "dc_share_of_stalls": total_dc / total if total else np.nan,
        "users_per_stall": users_value / total if total else np.nan,
        "users_per_dc_stall": users_value / total_dc if total_dc else np.nan,
    }


def compare_networks(profile: Mapping[str, float], networks: pd.DataFrame) -> pd.DataFrame:
    """The plan's figures next to each published figure of the same name.

    Parameters
    ----------
    profile
        :func:`network_profile` of a plan.
    networks
        :func:`~chargeplan.config.realism.read_networks`.

    Returns
    -------
    pandas.DataFrame
        One row per published figure: ``figure``, ``meaning``, ``plan``, ``network``,
        ``published``, ``plan_over_published``, ``as_of``, ``source``.
    """
    plan = networks["figure"].map(lambda f: profile.get(f, np.nan)).astype(float)
    published = networks["value"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(published != 0, plan.to_numpy() / published, np.nan)
    return pd.DataFrame(
        {
            "figure": networks["figure"].to_numpy(),
            "meaning": networks["figure"].map(FIGURES).to_numpy(),
            "plan": plan.to_numpy(),
            "network": networks["network"].to_numpy(),
            "published": published,
            "plan_over_published": ratio,
            "as_of": networks["as_of"].to_numpy(),
            "source": networks["source"].to_numpy(),
        }
    )
