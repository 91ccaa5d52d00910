"""The cheap exact screens of :mod:`chargeplan.solver.reduce` skip no reduction that applies.

- ``dominated_sites`` first rules out, zone by zone, the sites no other site can dominate
  (``_may_be_dominated``), then compares the sites left pair by pair. On small random
  instances full of ties (integer unit costs 1-3, fixed costs from three values, twins of
  sites, some sites excluded, required, capacitated or kept) its drops equal those of the
  pairwise test alone (``screen=False``) and those of the module docstring's definition
  enumerated over every ordered pair of sites in plain Python.
- ``merge_zones`` returns at once when every zone's hash differs; its groups equal those of
  the definition (same sites, same unit costs, same demand pattern and target group),
  enumerated over every zone.

- The screens run without sorts (docs/scale.md, "The fixed cost"): ``merge_zones`` first asks
  ``_cheapest_differ`` (every two zones differ in their least rounded unit cost); on random
  instances with continuous costs, with and without copies of zones, the groups still equal
  the definition's, the screen fires on some and never where the definition merges, and it
  fires on the OR-Library files as UFLP. ``_may_be_dominated`` (one ``np.minimum.at`` and one
  ``np.bincount`` per type) rules out the sites the sorted screen before it ruled out (its
  code, kept here as the reference).

Demands are powers of two and unit costs integers, so ``c / d`` gives the unit cost back
exactly and the enumeration can compare costs with ``==``; a pair costs its unit cost where
the zone has no demand of the type (a cost that must not count).
"""

from __future__ import annotations

import numpy as np
import pytest

from chargeplan.model.problem import FacilityProblem
from chargeplan.solver.reduce import (
    _cheapest_differ,
    _may_be_dominated,
    dominated_sites,
    merge_zones,
)
from tests.orlib import instance_path, read_cap, to_problem

SEEDS = range(300)


def _instance(seed: int) -> tuple[FacilityProblem, np.ndarray | None]:
    """A random small problem with ties, and a random ``keep`` mask (or ``None``)."""
    rng = np.random.default_rng(seed)
    z, s0, k = int(rng.integers(2, 8)), int(rng.integers(1, 5)), int(rng.integers(1, 3))
    unit = np.where(rng.random((z, s0, k)) < 0.7, rng.integers(1, 4, (z, s0, k)), -1)
    reach = rng.random((z, s0)) < 0.7
    # twins: a subset of a site's zones at costs as high or higher, or equal (mutual)
    twin = np.where(rng.random((z, s0, 1)) < 0.8, unit + rng.integers(0, 2, (z, s0, k)), -1)
    reach = np.hstack([reach, reach & (rng.random((z, s0)) < 0.8)])
    unit = np.concatenate([unit, twin], axis=1)
    if rng.random() < 0.5:  # copies of zones (mergeable)
        copies = rng.integers(0, z, int(rng.integers(1, 3)))
        unit, reach = np.vstack([unit, unit[copies]]), np.vstack([reach, reach[copies]])
        z = unit.shape[0]
    s = unit.shape[1]
    demand = rng.choice([0.0, 1.0, 2.0, 4.0, 8.0], (z, k), p=[0.2, 0.2, 0.2, 0.2, 0.2])
    pair_zone, pair_site = np.nonzero(reach)
    pair_unit = np.maximum(unit[pair_zone, pair_site], 0).astype(float)
    capacity = np.where(rng.random(s) < 0.2, 5.0, np.inf)
    problem = FacilityProblem(
        zone_ids=np.arange(z),
        site_ids=np.arange(s),
        types=tuple(f"t{t}" for t in range(k)),
        demand=demand,
        pair_zone=pair_zone,
        pair_site=pair_site,
        pair_cost=pair_unit * np.where(demand > 0, demand, 1.0)[pair_zone],  # > 0 w/o demand
        fixed_cost=rng.choice([5.0, 7.0, 9.0], s),
        site_capacity=capacity,
        charger_capacity=None,
        charger_cost=np.full((s, k), 13.0),
        max_chargers=np.full((s, k), 3.0),
        unmet_penalty=np.full(k, 50.0),
        required=rng.random(s) < 0.1,
        excluded=rng.random(s) < 0.1,
        target_group=rng.integers(-1, 1, z) if rng.random() < 0.3 else np.full(z, -1),
        target_share=np.array([0.5]),
        target_price=np.array([100.0]),
        target_names=("urban",),
    )
    keep = rng.random(s) < 0.15 if rng.random() < 0.3 else None
    return problem, keep


def _unusable(problem: FacilityProblem) -> np.ndarray:
    """Sites excluded or with no live pair, unless required."""
    used = np.zeros(len(problem.site_ids), bool)
    used[problem.pair_site[problem.live_pairs]] = True
    return (problem.excluded | ~used) & ~problem.must_open


def _by_definition(problem: FacilityProblem, keep: np.ndarray | None) -> np.ndarray:
    """The module docstring's dominated sites, every ordered pair of sites enumerated."""
    s = len(problem.site_ids)
    live = problem.live_pairs
    drop = _unusable(problem)
    keep = np.zeros(s, bool) if keep is None else keep
    drop &= ~keep
    free = np.isinf(problem.site_capacity) & ~keep
    candidate = free & ~problem.must_open & ~drop
    dominator = free & ~drop
    costs = [
        {
            int(problem.pair_zone[p]): problem.pair_cost[p]
            for p in np.flatnonzero(live & (problem.pair_site == j))
        }
        for j in range(s)
    ]

    def dominates(a: int, b: int) -> bool:  # a dominates b
        if a == b or not (candidate[b] and dominator[a]):
            return False
        if problem.fixed_cost[a] > problem.fixed_cost[b]:
            return False
        for zone, mine in costs[b].items():
            if zone not in costs[a]:
                return False
            has = problem.demand[zone] > 0
            if np.any((costs[a][zone] > mine) & has):
                return False
        return True

    beaten = drop.copy()
    if problem.sizing or not live.any():
        return beaten
    for b in range(s):
        for a in range(s):
            if dominates(a, b) and (not dominates(b, a) or a < b):
                beaten[b] = True
    return beaten


@pytest.mark.parametrize("seed", SEEDS)
def test_screened_dominance_drops_what_the_pairwise_test_drops(seed: int) -> None:
    problem, keep = _instance(seed)
    screened = dominated_sites(problem, keep)
    np.testing.assert_array_equal(screened, dominated_sites(problem, keep, screen=False))
    np.testing.assert_array_equal(screened, _by_definition(problem, keep))


def test_the_random_instances_exercise_the_screen() -> None:
    """Over the seeds, sites are dropped as dominated, and the screen rules out sites that
    would otherwise go to the pairwise test (so the comparison above is not vacuous)."""
    dominated = ruled_out = 0
    for seed in SEEDS:
        problem, keep = _instance(seed)
        unusable = _unusable(problem)
        dominated += int((dominated_sites(problem, keep) & ~unusable).sum())
        live = problem.live_pairs
        free = np.isinf(problem.site_capacity) & ~unusable
        may = _may_be_dominated(
            problem, problem.pair_zone[live], problem.pair_site[live], problem.pair_cost[live], free
        )
        ruled_out += int((~may & free & ~problem.must_open).sum())
    assert dominated > 50 and ruled_out > 50


def _groups_by_definition(problem: FacilityProblem) -> np.ndarray:
    """Zones with the same (site, unit costs) pairs, demand pattern and target group share a
    group; groups numbered in the order of their first zone."""
    keys: dict = {}
    group = np.empty(len(problem.zone_ids), np.int64)
    for zone in range(len(problem.zone_ids)):
        mine = np.flatnonzero(problem.pair_zone == zone)
        d = problem.demand[zone]
        with np.errstate(divide="ignore", invalid="ignore"):
            unit = [tuple(np.where(d > 0, problem.pair_cost[p] / d, 0.0)) for p in mine]
        pairs = sorted(zip(problem.pair_site[mine].tolist(), unit, strict=True))
        key = (tuple(pairs), tuple(d > 0), int(problem.target_group[zone]))
        group[zone] = keys.setdefault(key, len(keys))
    return group


@pytest.mark.parametrize("seed", SEEDS)
def test_merge_groups_match_the_definition(seed: int) -> None:
    problem, _ = _instance(seed)
    np.testing.assert_array_equal(merge_zones(problem), _groups_by_definition(problem))


def test_the_random_instances_merge_and_do_not_merge() -> None:
    """Some instances have zones to merge, others none (the early return)."""
    merged = [len(set(merge_zones(_instance(seed)[0]).tolist())) for seed in SEEDS]
    sizes = [len(_instance(seed)[0].zone_ids) for seed in SEEDS]
    fewer = sum(m < n for m, n in zip(merged, sizes, strict=True))
    assert 30 < fewer < len(SEEDS) - 30


def _continuous(seed: int):
    """``_instance(seed)`` with continuous random unit costs (ties only between copies)."""
    import dataclasses

    problem, keep = _instance(seed)
    rng = np.random.default_rng(10_000 + seed)
    z, k = problem.demand.shape
    unit = rng.uniform(1.0, 9.0, (z, len(problem.site_ids), k))
    copies = rng.integers(0, z, 2) if seed % 2 else np.empty(0, np.int64)
    for i, c in enumerate(copies):  # zone i's unit costs and demand are those of zone c
        unit[i] = unit[c]
    demand = problem.demand.copy()
    demand[: len(copies)] = demand[copies]
    reach = np.zeros((z, len(problem.site_ids)), bool)
    reach[problem.pair_zone, problem.pair_site] = True
    reach[: len(copies)] = reach[copies]
    pair_zone, pair_site = np.nonzero(reach)
    pair_cost = unit[pair_zone, pair_site] * np.where(demand > 0, demand, 1.0)[pair_zone]
    return dataclasses.replace(
        problem,
        demand=demand,
        pair_zone=pair_zone,
        pair_site=pair_site,
        pair_cost=pair_cost,
        distance_km=np.full(pair_zone.size, np.nan),
    ), keep


def test_the_merge_screen_fires_only_where_no_zones_are_alike() -> None:
    fired = merged = 0
    for seed in SEEDS:
        problem, _ = _continuous(seed)
        definition = _groups_by_definition(problem)
        np.testing.assert_array_equal(merge_zones(problem), definition)
        alike = len(set(definition.tolist())) < len(problem.zone_ids)
        screen = _cheapest_differ(problem, None)
        assert not (screen and alike), seed
        fired += screen
        merged += alike
    assert fired > 30 and merged > 30  # both cases are exercised


@pytest.mark.parametrize("name", ["cap41", "cap71", "cap131"])
def test_the_screens_rule_everything_out_on_the_orlibrary_files_as_uflp(name: str) -> None:
    problem = to_problem(read_cap(instance_path(name)), capacity="inf")
    assert _cheapest_differ(problem, None)
    live = problem.live_pairs
    may = _may_be_dominated(
        problem,
        problem.pair_zone[live],
        problem.pair_site[live],
        problem.pair_cost[live],
        np.ones(len(problem.site_ids), bool),
    )
    assert not may.any()


def _sorted_screen(problem, zone, site, cost, dominator) -> np.ndarray:
    """The screen before: per type one ``lexsort`` of the dominator pairs, the cheapest and
    second cheapest pair of each zone."""
    s, z = len(problem.site_ids), len(problem.zone_ids)
    theirs = np.flatnonzero(dominator[site])
    fails = np.zeros(zone.size, bool)
    for k in range(cost.shape[1]):
        order = theirs[np.lexsort((cost[theirs, k], zone[theirs]))]
        at = zone[order]
        head = np.ones(order.size, bool)
        head[1:] = at[1:] != at[:-1]
        first = np.flatnonzero(head)
        best, best_site, second = np.full(z, np.inf), np.full(z, -1), np.full(z, np.inf)
        best[at[first]] = cost[order[first], k]
        best_site[at[first]] = site[order[first]]
        runner = first + 1
        has_runner = runner < order.size
        has_runner[has_runner] = at[runner[has_runner]] == at[first[has_runner]]
        second[at[first[has_runner]]] = cost[order[runner[has_runner]], k]
        other = np.where(best_site[zone] == site, second[zone], best[zone])
        fails |= (problem.demand[zone, k] > 0) & (other > cost[:, k])
    may = np.ones(s, bool)
    may[site[fails]] = False
    return may


@pytest.mark.parametrize("seed", SEEDS)
def test_the_dominance_screen_rules_out_what_the_sorted_one_did(seed: int) -> None:
    problem, _ = _instance(seed) if seed % 2 else _continuous(seed)
    rng = np.random.default_rng(seed)
    dominator = rng.random(len(problem.site_ids)) < 0.8
    live = problem.live_pairs
    args = (problem.pair_zone[live], problem.pair_site[live], problem.pair_cost[live], dominator)
    mine, before = _may_be_dominated(problem, *args), _sorted_screen(problem, *args)
    # the sorted screen also ruled out sites that may not dominate (never candidates)
    np.testing.assert_array_equal(mine | ~dominator, before | ~dominator)
