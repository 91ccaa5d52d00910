"""Small maximal-covering instances and their brute-force optimum, shared by the MCLP tests
(``test_covering``, ``test_mclp_scale``)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from chargeplan.model.problem import FacilityProblem


def random_mclp(seed: int, zones: int = 12, sites: int = 9, radius: float = 3.5):
    """Zones and sites uniform on a 10 x 10 square, weights 1..9, reach: distance <= radius."""
    rng = np.random.default_rng(seed)
    zone_xy, site_xy = rng.uniform(0, 10, (zones, 2)), rng.uniform(0, 10, (sites, 2))
    weight = rng.integers(1, 10, zones).astype(float)
    reach = np.linalg.norm(zone_xy[:, None] - site_xy[None], axis=2) <= radius
    return reach, weight


def mclp_problem(reach: np.ndarray, weight: np.ndarray, p: int, **site_columns) -> FacilityProblem:
    """The MCLP as the benchmark poses it: zero costs, unmet penalty 1, at most p sites."""
    zone, site = np.nonzero(reach)
    sites = pd.DataFrame({"site_id": np.arange(reach.shape[1]), "fixed_cost": 0.0, **site_columns})
    return FacilityProblem.from_cost_table(
        pd.DataFrame({"zone_id": np.arange(reach.shape[0]), "demand": weight}),
        sites,
        pd.DataFrame({"zone_id": zone, "site_id": site, "cost": 0.0}),
        objective="max_coverage",
        max_sites=p,
        unmet_penalty=1.0,
    )


def brute_best(reach: np.ndarray, weight: np.ndarray, p: int) -> float:
    """Most weight covered by any set of exactly p sites (at most p covers no more)."""
    return max(
        weight[reach[:, list(s)].any(axis=1)].sum()
        for s in itertools.combinations(range(reach.shape[1]), p)
    )
