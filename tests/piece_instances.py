"""Small instances for the Lagrangian decomposition tests (``tests/test_decompose_bound.py``,
``tests/test_distributed.py``), as plain data.

- :func:`grid_problem`: 36 zones and 12 sites at random on a 30 km square, pairs within 9 km,
  one charger type: a single component, cut into pieces of <= 40 pairs in the tests.
- :func:`wide_problem`: 80 zones and 24 sites on a 40 km square, pieces that need branching.
- :func:`design_row`: 3 zones and 3 sites in a row (zone i reaches sites i-1, i, i+1), two
  charger types, a 3-design menu, the linear or the queueing rule (the data of
  ``tests/test_designs.py``'s instance, whose optimum that module checks by brute force).
"""

from __future__ import annotations

import numpy as np

from chargeplan.model.problem import FacilityProblem
from chargeplan.model.queueing import ServiceLevel, capacity_levels


def grid_problem(seed: int = 3) -> tuple[FacilityProblem, np.ndarray]:
    """The grid instance (module docstring) and its zone coordinates (km)."""
    rng = np.random.default_rng(seed)
    zone_xy, site_xy = rng.uniform(0, 30, (36, 2)), rng.uniform(0, 30, (12, 2))
    distance = np.linalg.norm(zone_xy[:, None] - site_xy[None], axis=2)
    pair_zone, pair_site = np.nonzero(distance <= 9.0)
    demand = np.round(rng.uniform(5, 40, (36, 1)), 1)
    problem = FacilityProblem(
        zone_ids=np.arange(36),
        site_ids=np.arange(12),
        types=("dc",),
        demand=demand,
        pair_zone=pair_zone,
        pair_site=pair_site,
        pair_cost=distance[pair_zone, pair_site][:, None] * demand[pair_zone],
        fixed_cost=np.round(rng.uniform(200, 600, 12)),
        site_capacity=np.full(12, np.inf),
        charger_capacity=np.array([50.0]),
        charger_cost=np.full((12, 1), 80.0),
        max_chargers=np.full((12, 1), 3.0),
        unmet_penalty=np.array([30.0]),
    )
    return problem, zone_xy


def wide_problem(seed: int = 1) -> tuple[FacilityProblem, np.ndarray]:
    """80 zones and 24 sites at random on a 40 km square, pairs within 9 km, otherwise as
    :func:`grid_problem` (256 pairs at seed 1): cut into two pieces of <= 150 pairs, both
    pieces need more than one branch-and-bound node to close at gap 0, so a work limit of one
    node bites."""
    rng = np.random.default_rng(seed)
    zone_xy, site_xy = rng.uniform(0, 40, (80, 2)), rng.uniform(0, 40, (24, 2))
    distance = np.linalg.norm(zone_xy[:, None] - site_xy[None], axis=2)
    pair_zone, pair_site = np.nonzero(distance <= 9.0)
    demand = np.round(rng.uniform(5, 40, (80, 1)), 1)
    problem = FacilityProblem(
        zone_ids=np.arange(80),
        site_ids=np.arange(24),
        types=("dc",),
        demand=demand,
        pair_zone=pair_zone,
        pair_site=pair_site,
        pair_cost=distance[pair_zone, pair_site][:, None] * demand[pair_zone],
        fixed_cost=np.round(rng.uniform(200, 600, 24)),
        site_capacity=np.full(24, np.inf),
        charger_capacity=np.array([50.0]),
        charger_cost=np.full((24, 1), 80.0),
        max_chargers=np.full((24, 1), 3.0),
        unmet_penalty=np.array([30.0]),
    )
    return problem, zone_xy


#: The design instance's queueing rule and charging sessions (dc, ac).
P_WAIT = 0.2
SESSION_KWH = np.array([30.0, 15.0])
SESSION_HOURS = np.array([0.5, 2.0])


def design_row(rule: str, k: int = 2, **changes) -> FacilityProblem:
    """The design instance (module docstring); ``rule``: ``"linear"`` or ``"queue"``; ``k``:
    the first 1 or 2 charger types; ``changes``: fields of :class:`FacilityProblem` to replace
    (the queue levels then reach the largest design plus the existing chargers)."""
    stalls = np.array([[2, 1], [4, 2], [6, 4]], float)[:, :k]
    pairs = [(i, j) for i in range(3) for j in range(3) if abs(i - j) <= 1]
    demand = np.array([[50.0, 10.0], [120.0, 20.0], [70.0, 6.0]])[:, :k]
    zone = np.array([i for i, _ in pairs])
    site = np.array([j for _, j in pairs])
    per_km = np.array([[0.0, 3.0, 9.0], [4.0, 0.0, 2.0], [8.0, 1.0, 0.0]])
    fields = {
        "zone_ids": np.array(["a", "b", "c"], object),
        "site_ids": np.array(["s1", "s2", "s3"], object),
        "types": ("dc", "ac")[:k],
        "demand": demand,
        "pair_zone": zone,
        "pair_site": site,
        "pair_cost": per_km[zone, site][:, None] * demand[zone],
        "fixed_cost": np.array([300.0, 500.0, 250.0]),
        "site_capacity": np.full(3, np.inf),
        "charger_capacity": np.array([25.0, 6.0])[:k] if rule == "linear" else None,
        "charger_cost": np.full((3, k), 100.0),
        "max_chargers": np.full((3, k), 20.0),
        "unmet_penalty": np.full(k, 40.0),
        "design_names": ("small", "medium", "large"),
        "design_stalls": stalls,
        "design_kva": np.array([250.0, 500.0, 800.0]),
        "design_capex": np.array([900.0, 1500.0, 2000.0]),
        "session_kwh": SESSION_KWH[:k],
        "session_hours": SESSION_HOURS[:k],
    }
    fields.update(changes)
    if rule == "queue":
        largest = fields["design_stalls"].max(axis=0) + np.max(
            fields.get("existing_chargers", np.zeros((3, k))), axis=0
        )
        fields["queue_levels"] = tuple(
            capacity_levels(int(largest[t]), SESSION_HOURS[t], ServiceLevel(P_WAIT))
            * SESSION_KWH[t]
            for t in range(k)
        )
    return FacilityProblem(**fields)
