"""Demand of a rollout year: the prepared zones rescaled to that year's premium-user target.

Zones, sites and pairs are prepared once, for the largest target. Each year's premium users are
the same shares of that year's target (``premium_share``: by propensity, calibrated cities by
their NEV sales, plate quotas as caps), in whole users (largest remainder, city totals first,
:func:`~chargeplan.inputs.calibration.whole_users`), and each
zone's peak demand of type k is ``users * peak_kwh_per_user * mix_k * kept_share_k``: demand is
linear in users, so whole users of each year give it exactly.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from chargeplan.config.scenario import Scenario
from chargeplan.inputs.calibration import whole_users


def demand_per_user(scenario: Scenario, zones: gpd.GeoDataFrame) -> np.ndarray:
    """``(Z, K)`` peak kWh per premium user of each charger type.

    The zone's per-user peak kWh times the charger mix, times the share competitors leave
    (``kept_share_<type>``, when existing third-party stations capture some of it).
    """
    types = scenario.charger_types
    per_user = zones["peak_kwh_per_user"].to_numpy(float)[:, None] * np.array(
        [scenario.demand.charger_mix[t] for t in types]
    )
    for k, t in enumerate(types):
        if f"kept_share_{t}" in zones.columns:
            per_user[:, k] *= zones[f"kept_share_{t}"].to_numpy(float)
    return per_user


def year_zones(
    scenario: Scenario, zones: gpd.GeoDataFrame, target_users: int
) -> tuple[np.ndarray, gpd.GeoDataFrame]:
    """Demand and zone table of a year whose premium-user target is ``target_users``.

    Returns
    -------
    tuple[numpy.ndarray, geopandas.GeoDataFrame]
        ``(Z, K)`` peak demand by charger type, and the zones with that year's
        ``premium_users``, daily and public kWh, ``peak_kwh_<type>``, ``captured_kwh_<type>``
        (when competitors capture some) and ``peak_kwh``.
    """
    types = scenario.charger_types
    users = whole_users(
        zones["premium_share"].to_numpy(float), zones["premium_unit"].to_numpy(), target_users
    )
    demand = users[:, None] * demand_per_user(scenario, zones)
    frame = zones.copy()
    frame["premium_users"] = users
    frame["daily_kwh"] = users * scenario.demand.km_per_user_day * scenario.demand.kwh_per_km
    frame["public_daily_kwh"] = frame["daily_kwh"] * frame["public_share"]
    for k, t in enumerate(types):
        frame[f"peak_kwh_{t}"] = demand[:, k]
        if f"captured_kwh_{t}" in zones.columns:
            mix = users * zones["peak_kwh_per_user"].to_numpy(float)
            frame[f"captured_kwh_{t}"] = mix * scenario.demand.charger_mix[t] - demand[:, k]
    frame["peak_kwh"] = demand.sum(axis=1)
    return demand, frame
