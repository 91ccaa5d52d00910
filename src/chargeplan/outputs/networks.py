"""``networks.csv``: the plan's network next to the published figures of real ones.

Written when the scenario names them (``[realism] networks``, :mod:`chargeplan.config.realism`);
the figures and their formulas are :mod:`chargeplan.results.networks`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from chargeplan.outputs.files import write_csv

if TYPE_CHECKING:
    from chargeplan.config.scenario import Scenario

__all__ = ["write_networks"]


def write_networks(
    stations: pd.DataFrame | None, users: float | None, scenario: Scenario | None, out: Path
) -> dict[str, Path]:
    """Write ``networks.csv`` if the scenario names real networks and the plan has stations.

    Parameters
    ----------
    stations
        The final network's stations (one year of a rollout).
    users
        The premium users of the plan's zones.
    scenario
        The plan's scenario (``[realism] networks`` and the chargers' power).
    out
        Output folder.

    Returns
    -------
    dict[str, pathlib.Path]
        What was written, by name (nothing without networks or stations).
    """
    if stations is None or scenario is None or scenario.realism.networks is None:
        return {}
    from chargeplan.results.networks import compare_networks, network_profile, read_networks

    power = {name: charger.power_kw for name, charger in scenario.chargers.items()}
    profile = network_profile(stations, power, users)
    table = compare_networks(profile, read_networks(scenario.realism.networks))
    write_csv(table, out / "networks.csv", index=False)
    return {"networks.csv": out / "networks.csv"}
