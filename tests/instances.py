"""Small facility-location instances shared by several test modules, as plain data.

Two families, each with its reference optimum derived in :mod:`tests.bruteforce`:

- ``INSTANCE_A``, ``INSTANCE_B``, ``INSTANCE_C`` (:class:`Instance`): 5 zones, 3-4 sites, 1-2
  charger types, with charger sizing (``q_k`` peak kWh per charger, ``M_jk`` chargers at most)
  and some finite site capacities; small enough to enumerate every charger design.
  :func:`to_problem` is their :class:`~chargeplan.model.problem.FacilityProblem`.
- The three-cluster instance (``CLUSTER_*``, :func:`cluster_problem`): three groups of zones
  and sites that share no pair, plus one zone with no site in reach; uncapacitated sites,
  unmet demand at :data:`CLUSTER_PENALTY` per unit, so the optimum is found by enumerating
  the 2^6 sets of open sites (:func:`tests.bruteforce.brute_clusters`).

The data are generic, non-round numbers (one or two decimals, drawn at random once and written
out), so exact ties between designs would be coincidences; the brute-force references check
that the runner-up is worse by a clear margin before a test compares designs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chargeplan.model.problem import FacilityProblem
from chargeplan.solver.options import SolverOptions

#: Exact solves (no MIP gap), compared with the brute-force references.
EXACT = SolverOptions(time_limit_s=30, mip_rel_gap=0)
#: Absolute tolerance on shares and demand units (solver feasibility tolerance is ~1e-7).
TOL = 1e-6
N = np.nan


# --------------------------------------------------------------------------------------------
# sized instances A, B, C
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    """Tiny facility-location data. ``cost[i, j, k]`` is NaN where zone i cannot reach site j.

    ``q is None`` means no charger sizing (the classic CFLP).
    """

    demand: np.ndarray  # (Z, K)
    cost: np.ndarray  # (Z, S, K): cost of serving ALL of zone i's type-k demand from site j
    fixed: np.ndarray  # (S,)
    capacity: np.ndarray  # (S,), inf: no site limit
    penalty: np.ndarray  # (K,) per unit of unmet demand
    q: np.ndarray | None = None  # (K,) demand one charger serves
    charger_cost: np.ndarray | None = None  # (S, K)
    max_chargers: np.ndarray | None = None  # (S, K)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.cost.shape


def _a(rows) -> np.ndarray:
    return np.array(rows, dtype=float)


# Five zones, three sites, two charger types (slow AC and DC fast, say). Site 2 has a finite
# site capacity; zone 3 reaches only site 2 and zone 1 only sites 1-2. At the optimum all
# three sites open and some demand stays unmet.
# 432 charger designs.
INSTANCE_A = Instance(
    demand=_a([[38.5, 12.3], [34.0, 10.2], [22.9, 9.8], [29.1, 34.5], [19.9, 38.5]]),
    cost=_a(
        [
            [[81.46, 12.84], [60.32, 24.07], [81.61, 28.95]],
            [[N, N], [20.62, 23.4], [27.11, 22.21]],
            [[22.3, 23.85], [32.96, 9.89], [21.1, 16.0]],
            [[N, N], [N, N], [64.42, 55.92]],
            [[17.44, 24.21], [11.96, 32.63], [22.73, 66.53]],
        ]
    ),
    fixed=_a([75.7, 52.0, 71.7]),
    capacity=_a([np.inf, np.inf, 63.0]),
    penalty=_a([4.21, 3.81]),
    q=_a([32.6, 23.5]),
    charger_cost=_a([[17.7, 10.8], [13.3, 13.7], [8.7, 10.7]]),
    max_chargers=np.array([[2, 1], [2, 1], [3, 2]]),
)

# Site 2 can host no charger at all (M = 0 for both types), so it must stay closed although
# zones 1, 2 and 4 reach it; zone 4 is then left with site 1 alone, which has a finite site
# capacity. Site 0 takes at most one type-0 charger. The optimum opens sites 0 and 1.
# 96 charger designs.
INSTANCE_B = Instance(
    demand=_a([[13.8, 38.1], [11.6, 11.3], [17.2, 13.1], [28.5, 9.0], [36.4, 35.0]]),
    cost=_a(
        [
            [[4.23, 56.82], [7.38, 33.05], [N, N]],
            [[15.43, 26.45], [10.08, 8.06], [20.59, 26.92]],
            [[40.08, 29.3], [7.6, 30.93], [29.73, 29.05]],
            [[34.14, 7.04], [58.27, 15.8], [N, N]],
            [[N, N], [12.54, 83.31], [21.74, 56.71]],
        ]
    ),
    fixed=_a([53.3, 76.1, 72.0]),
    capacity=_a([np.inf, 48.0, np.inf]),
    penalty=_a([4.73, 4.24]),
    q=_a([27.3, 23.7]),
    charger_cost=_a([[10.1, 18.9], [17.5, 7.4], [11.7, 16.7]]),
    max_chargers=np.array([[1, 3], [2, 3], [0, 0]]),
)

# Five zones, four sites, one charger type; two sites with finite capacity. The optimum opens
# two of the four sites and serves all demand. 108 charger designs.
INSTANCE_C = Instance(
    demand=_a([[29.3], [27.5], [9.5], [9.0], [27.9]]),
    cost=_a(
        [
            [[N], [21.8], [N], [54.98]],
            [[36.73], [33.37], [29.37], [12.11]],
            [[12.35], [9.15], [N], [N]],
            [[16.24], [15.07], [17.41], [3.06]],
            [[N], [41.64], [60.63], [66.01]],
        ]
    ),
    fixed=_a([71.0, 74.6, 46.8, 27.7]),
    capacity=_a([np.inf, 61.0, 37.0, np.inf]),
    penalty=_a([3.76]),
    q=_a([21.9]),
    charger_cost=_a([[9.4], [11.5], [19.1], [14.1]]),
    max_chargers=np.array([[2], [2], [2], [3]]),
)

SIZING = {"A": INSTANCE_A, "B": INSTANCE_B, "C": INSTANCE_C}


def to_problem(inst: Instance, **kwargs) -> FacilityProblem:
    """The instance as a FacilityProblem (pairs zone-major, as ``np.nonzero`` lists them)."""
    z, s, k = inst.shape
    pair_zone, pair_site = np.nonzero(~np.isnan(inst.cost[:, :, 0]))
    sizing = inst.q is not None
    fields = {
        "zone_ids": np.array([f"z{i}" for i in range(z)], dtype=object),
        "site_ids": np.array([f"s{j}" for j in range(s)], dtype=object),
        "types": ("ac", "dc")[:k] if k <= 2 else tuple(f"t{t}" for t in range(k)),
        "demand": inst.demand,
        "pair_zone": pair_zone,
        "pair_site": pair_site,
        "pair_cost": inst.cost[pair_zone, pair_site, :],
        "fixed_cost": inst.fixed,
        "site_capacity": inst.capacity,
        "charger_capacity": inst.q,
        "charger_cost": inst.charger_cost if sizing else np.zeros((s, k)),
        "max_chargers": inst.max_chargers if sizing else np.zeros((s, k)),
        "unmet_penalty": inst.penalty,
    }
    fields.update(kwargs)
    return FacilityProblem(**fields)


# --------------------------------------------------------------------------------------------
# three independent clusters (decomposition)
# --------------------------------------------------------------------------------------------

#: Unmet demand costs this much per unit.
CLUSTER_PENALTY = 100.0

CLUSTER_ZONES = pd.DataFrame(
    {
        "zone_id": ["a1", "a2", "a3", "b1", "b2", "c1", "lonely"],
        "demand": [10.0, 7.0, 12.0, 9.0, 11.0, 5.0, 4.0],
    }
)
CLUSTER_SITES = pd.DataFrame(
    {
        "site_id": ["A1", "A2", "B1", "B2", "B3", "C1"],
        "fixed_cost": [130.0, 95.0, 160.0, 70.0, 110.0, 240.0],
    }
)
#: Cost of serving all of a zone's demand over the pair (OR-Library convention). Zones a*, b*
#: and c1 reach only the sites of their own letter; "lonely" reaches none.
CLUSTER_COSTS = pd.DataFrame(
    [
        ("a1", "A1", 21.0),
        ("a1", "A2", 63.5),
        ("a2", "A1", 40.2),
        ("a2", "A2", 17.3),
        ("a3", "A1", 88.1),
        ("a3", "A2", 30.7),
        ("b1", "B1", 12.4),
        ("b1", "B2", 99.0),
        ("b2", "B2", 41.6),
        ("b2", "B3", 15.9),
        ("c1", "C1", 33.3),
    ],
    columns=["zone_id", "site_id", "cost"],
)


def cluster_problem(**changes: object) -> FacilityProblem:
    """The three-cluster instance as a FacilityProblem, with ``changes`` to its fields."""
    problem = FacilityProblem.from_cost_table(
        CLUSTER_ZONES, CLUSTER_SITES, CLUSTER_COSTS, unmet_penalty=CLUSTER_PENALTY
    )
    return dataclasses.replace(problem, **changes)
