"""Small instances with coverage targets, shared by the target tests
(tests/test_lagrange_targets.py, tests/test_national_targets.py)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

import chargeplan
from chargeplan import FacilityProblem, Plan

STANDARD = """
[reach.standard]
urban_km = 3
suburban_km = 3
rural_km = 3
urban_min_per_km2 = 15
suburban_min_per_km2 = 5
"""


def whole_and_split(tmp_path: Path, settings: dict[str, str]) -> tuple[Plan, Plan]:
    """The :func:`full_urban_target` scenario planned whole and decomposed with ``settings``
    (one worker), warnings silenced."""
    from tests.conftest import SCENARIO, write_tiny_scenario

    scenario = chargeplan.load_scenario(write_tiny_scenario(tmp_path, full_urban_target(SCENARIO)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = chargeplan.plan_network(scenario)
        split = chargeplan.plan_network(scenario.with_values({**settings, "decompose.workers": 1}))
    return whole, split


def full_urban_target(scenario: str) -> str:
    """``scenario`` with :data:`STANDARD`, unmet demand at 10 CNY per kWh (no station pays by
    itself) and an urban target of 100 % priced at 10,000 per kWh short."""
    text = (scenario + STANDARD).replace(
        "unmet_penalty_cny_per_kwh = 5000", "unmet_penalty_cny_per_kwh = 10"
    )
    return text + "[reach.targets]\nurban = 1.0\nshortfall_price_factor = 1000\n"


def three_zones(share: float) -> FacilityProblem:
    """Z1, Z2 urban, Z3 rural, 10 kWh each; site A (fixed 100) reaches Z1 and Z3, site B
    (fixed 300) reaches Z2 (two components: pieces share no site); no access cost; unmet
    demand 12 per kWh; urban target ``share`` priced at 120 per kWh short
    (tests/test_service_standard.py's instance)."""
    return FacilityProblem(
        zone_ids=np.array(["Z1", "Z2", "Z3"], dtype=object),
        site_ids=np.array(["A", "B"], dtype=object),
        types=("dc",),
        demand=np.array([[10.0], [10.0], [10.0]]),
        pair_zone=np.array([0, 2, 1]),
        pair_site=np.array([0, 0, 1]),
        pair_cost=np.zeros((3, 1)),
        fixed_cost=np.array([100.0, 300.0]),
        site_capacity=np.full(2, np.inf),
        charger_capacity=None,
        charger_cost=np.zeros((2, 1)),
        max_chargers=np.zeros((2, 1)),
        unmet_penalty=np.array([12.0]),
        target_group=np.array([0, 0, 1]),
        target_names=("urban", "rural"),
        target_share=np.array([share, 0.0]),
        target_price=np.array([120.0, 120.0]),
    )


def line_problem(
    zone_x: np.ndarray,
    site_x: np.ndarray,
    reach_km: float,
    demand: np.ndarray,
    fixed_cost: np.ndarray,
    group: np.ndarray,
    share: tuple[float, float],
    price: tuple[float, float],
) -> FacilityProblem:
    """Zones and sites on a line, pairs within ``reach_km``, access 0.5 per kWh and km, unmet
    8 per kWh, uncapacitated, one charger type; target groups urban (0) and rural (1) with
    their shares and prices per kWh short."""
    distance = np.abs(zone_x[:, None] - site_x[None])
    pair_zone, pair_site = np.nonzero(distance <= reach_km)
    n, m = len(zone_x), len(site_x)
    return FacilityProblem(
        zone_ids=np.arange(n),
        site_ids=np.arange(m),
        types=("dc",),
        demand=demand,
        pair_zone=pair_zone,
        pair_site=pair_site,
        pair_cost=0.5 * distance[pair_zone, pair_site][:, None] * demand[pair_zone],
        fixed_cost=fixed_cost,
        site_capacity=np.full(m, np.inf),
        charger_capacity=None,
        charger_cost=np.zeros((m, 1)),
        max_chargers=np.zeros((m, 1)),
        unmet_penalty=np.array([8.0]),
        target_group=group.astype(np.int64),
        target_names=("urban", "rural"),
        target_share=np.array(share),
        target_price=np.array(price),
    )


def row_instance(seed: int) -> FacilityProblem:
    """8 zones on a 40 km line (urban where x < 20, rural otherwise), 6 sites, pairs within
    12 km, access 0.5 per kWh and km (at most 6 per kWh, below the unmet price of 8), fixed
    costs 60-160, uncapacitated; urban target 95 % at 80 per kWh short."""
    rng = np.random.default_rng(seed)
    zone_x, site_x = np.sort(rng.uniform(0, 40, 8)), np.sort(rng.uniform(0, 40, 6))
    demand = np.round(rng.uniform(2, 12, (8, 1)), 1)
    fixed = np.round(rng.uniform(60, 160, 6))
    return line_problem(zone_x, site_x, 12.0, demand, fixed, zone_x >= 20, (0.95, 0.0), (80.0, 0.0))
