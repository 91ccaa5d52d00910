"""The random instance of the benchmarks ``decomposition_bound.py`` and ``build_overhead.py``
(a helper module, not a benchmark): imported by those scripts, which run with
``benchmarks/`` on ``sys.path``.

Zones and candidate sites uniformly at random on a square of ``side_km``; every pair within
``radius_km``; one charger type (``dc``: 50 kWh per charger in the peak hour, CNY 1,000 each);
demand Gamma(2, 25) kWh per zone; fixed costs CNY 5,000-20,000; no site capacity. Access costs
``access_cny_per_kwh_km`` per kWh and km; the scripts choose the charger limit and the
unmet-demand penalty.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from chargeplan.model.problem import FacilityProblem


def random_square(
    zones: int,
    sites: int,
    *,
    side_km: float,
    radius_km: float,
    access_cny_per_kwh_km: float,
    max_chargers: float,
    unmet_cny_per_kwh: float,
    seed: int = 0,
) -> tuple[FacilityProblem, np.ndarray]:
    """The instance (module docstring) and its ``(zones, 2)`` zone coordinates (km)."""
    rng = np.random.default_rng(seed)
    zone_xy = rng.uniform(0, side_km, (zones, 2))
    site_xy = rng.uniform(0, side_km, (sites, 2))
    near = cKDTree(site_xy).query_ball_point(zone_xy, r=radius_km)
    pair_zone = np.repeat(np.arange(zones), [len(n) for n in near])
    pair_site = np.concatenate([np.asarray(n, dtype=np.int64) for n in near])
    distance = np.linalg.norm(zone_xy[pair_zone] - site_xy[pair_site], axis=1)
    demand = rng.gamma(2.0, 25.0, (zones, 1))
    problem = FacilityProblem(
        zone_ids=np.arange(zones),
        site_ids=np.arange(sites),
        types=("dc",),
        demand=demand,
        pair_zone=pair_zone,
        pair_site=pair_site,
        pair_cost=access_cny_per_kwh_km * distance[:, None] * demand[pair_zone],
        distance_km=distance,
        fixed_cost=rng.uniform(5e3, 2e4, sites),
        site_capacity=np.full(sites, np.inf),
        charger_capacity=np.array([50.0]),
        charger_cost=np.full((sites, 1), 1000.0),
        max_chargers=np.full((sites, 1), max_chargers),
        unmet_penalty=np.array([unmet_cny_per_kwh]),
    )
    return problem, zone_xy
