"""The full model's bound over a region cut (``chargeplan.solver.cut_bound``).

The line instance of ``tests/design_instances.py`` (zones a-d at x = 0, 1, 2, 3; sites at 0.5,
1.5, 2.5; every zone reaches the sites within 1.5) is cut into a west region (zones a, b;
sites 0.5 and 1.5) and an east one (zones c, d; site 2.5): the cut keeps 6 of its 10 pairs and
drops the 4 cross pairs (b, 2.5), (c, 0.5), (c, 1.5), (d, 1.5). The full model's optimum and the
cut model's are found by enumeration (every site closed or with one design, an assignment LP
each; with a target row, HiGHS with no gap).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from chargeplan.model.formulation import build_milp
from chargeplan.solver.cut_bound import cut_bound, full_model, full_value, site_groups
from chargeplan.solver.decompose import solve_decomposed
from chargeplan.solver.design_bound import lagrangian_value
from chargeplan.solver.highs import solve
from chargeplan.solver.split import split_components, subproblem

from .design_instances import EXACT, brute_force, line_instance

ZONE_REGION = np.array(["west", "west", "east", "east"])
SITE_REGION = np.array(["west", "west", "east"])


def _instance(seed: int):
    return dataclasses.replace(line_instance(seed), pair_links="never")


def _cut(p):
    """The cut model: the full one without the cross pairs."""
    keep = ZONE_REGION[p.pair_zone] == SITE_REGION[p.pair_site]
    return dataclasses.replace(
        p,
        pair_zone=p.pair_zone[keep],
        pair_site=p.pair_site[keep],
        pair_cost=p.pair_cost[keep],
        distance_km=p.distance_km[keep],
    )


def _regions(p):
    return split_components(p, zone_region=ZONE_REGION, site_region=SITE_REGION)


def _random_multipliers(p, rng: np.random.Generator) -> np.ndarray:
    """One multiplier per row of the full model (zones x types with demand, row-major),
    anywhere from below 0 to above the unmet price."""
    zone, kind = np.nonzero(p.demand > 0)
    price = p.unmet_penalty[kind] * p.demand[zone, kind]
    return rng.uniform(-0.2, 1.3, zone.size) * price


def test_the_cut_drops_four_cross_pairs_and_the_groups_keep_them() -> None:
    p = _instance(0)
    regions = _regions(p)
    assert len(p.pair_zone) == 10 and sum(len(r.pairs) for r in regions) == 6
    groups = site_groups(p, regions)
    # every site in one group, every live pair in the group of its site
    assert sorted(np.concatenate([g.sites for g in groups]).tolist()) == [0, 1, 2]
    assert sorted(np.concatenate([g.pairs for g in groups]).tolist()) == list(range(10))
    for g in groups:
        assert np.isin(p.pair_site[g.pairs], g.sites).all()


@pytest.mark.parametrize("seed", range(4))
def test_full_value_is_the_site_lagrangian_of_the_uncut_model(seed: int) -> None:
    p = _instance(seed)
    full = full_model(p, _regions(p))
    assert full is not None
    lp, ix = build_milp(p)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        lam = _random_multipliers(p, rng)
        assert full_value(full, lam) == pytest.approx(lagrangian_value(p, lp, ix, lam), rel=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_full_bound_never_above_the_full_optimum(seed: int) -> None:
    p = _instance(seed)
    best, _ = brute_force(p)
    cut_best, _ = brute_force(_cut(p))
    assert best <= cut_best * (1 + 1e-9)  # the cut only removes pairs
    full = full_model(p, _regions(p))
    assert full is not None
    rng = np.random.default_rng(100 + seed)
    for _ in range(10):
        assert full_value(full, _random_multipliers(p, rng)) <= best * (1 + 1e-9)
    plan, _ = solve_decomposed(p, EXACT, zone_region=ZONE_REGION, site_region=SITE_REGION)
    assert plan.objective == pytest.approx(cut_best, rel=1e-6)
    result = cut_bound(p, _regions(p), plan, steps=200)
    assert result is not None
    assert result.first <= result.bound <= best * (1 + 1e-9)
    assert result.pairs == 10 and result.cross_pairs == 4 and result.groups == 2


def test_the_cut_models_bound_is_not_one_of_the_full_model_but_the_full_bound_is() -> None:
    # a seed where the cross pairs make the full model strictly cheaper than the cut one
    full = [brute_force(_instance(s))[0] for s in range(12)]
    seeds = [s for s in range(12) if full[s] < brute_force(_cut(_instance(s)))[0] - 1]
    assert seeds, "no instance where the cut costs more"
    p = _instance(seeds[0])
    best, _ = brute_force(p)
    plan, _ = solve_decomposed(p, EXACT, zone_region=ZONE_REGION, site_region=SITE_REGION)
    assert plan.bound > best  # the cut model's bound (its optimum here) is above the full optimum
    result = cut_bound(p, _regions(p), plan, steps=200)
    assert result is not None and result.bound <= best * (1 + 1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_without_a_cut_the_full_value_is_the_sum_of_the_pieces_lagrangians(seed: int) -> None:
    # two independent halves (no zone reaches across x = 1.5): the components are the groups,
    # and L of the whole is the sum of each piece's own L at the same multipliers
    half = _cut(_instance(seed))
    regions = split_components(half)
    assert len(regions) == 2
    full = full_model(half, regions)
    assert full is not None
    lam = _random_multipliers(half, np.random.default_rng(seed))
    zone, kind = np.nonzero(half.demand > 0)
    total = 0.0
    for region in regions:
        part = subproblem(half, region)
        lp, ix = build_milp(part)
        rows = np.flatnonzero(np.isin(zone, region.zones))
        order = np.lexsort((kind[rows], zone[rows]))
        total += lagrangian_value(part, lp, ix, lam[rows][order])
    assert full_value(full, lam) == pytest.approx(total, rel=1e-12)


def _targeted(p, share: float, price: float):
    """``p`` with one national target row over every zone: serve ``share`` of the demand in
    reach, each unit short priced ``price``."""
    return dataclasses.replace(
        p,
        target_names=("all",),
        target_group=np.zeros(len(p.zone_ids), np.int64),
        target_share=np.array([share]),
        target_price=np.array([price]),
    )


@pytest.mark.parametrize(("seed", "share"), [(0, 0.9), (1, 0.97), (2, 1.0), (3, 0.95)])
def test_with_a_target_row_the_bound_stays_below_the_optimum(seed: int, share: float) -> None:
    p = _targeted(_instance(seed), share, 200.0)
    optimum = solve(p, EXACT)
    best = optimum.objective
    assert optimum.gap <= 1e-9
    full = full_model(p, _regions(p))
    assert full is not None
    rng = np.random.default_rng(seed)
    for _ in range(10):
        mu = rng.uniform(0.0, 200.0, 1)
        assert full_value(full, _random_multipliers(p, rng), mu) <= best * (1 + 1e-9)
    plan, _ = solve_decomposed(
        p, EXACT, zone_region=ZONE_REGION, site_region=SITE_REGION, targets="national"
    )
    result = cut_bound(p, _regions(p), plan, steps=200, target_multipliers=np.array([50.0]))
    assert result is not None
    assert result.bound <= best * (1 + 1e-9)
    assert 0.0 <= result.target_multipliers[0] <= 200.0


@pytest.mark.parametrize("steps", [0, 200])
def test_the_decomposed_plan_reports_the_full_models_bound(steps: int) -> None:
    p = _instance(0)
    best, _ = brute_force(p)
    cut_best, _ = brute_force(_cut(p))
    plan, info = solve_decomposed(
        p, EXACT, zone_region=ZONE_REGION, site_region=SITE_REGION, full_bound_steps=steps
    )
    figures = info.summary()
    assert plan.objective == pytest.approx(cut_best, rel=1e-6)  # the plan stays the cut's
    assert figures["decompose_cut_model_bound"] == pytest.approx(cut_best, rel=1e-6)
    if steps:
        assert figures["decompose_bound_of"] == "full model"
        assert plan.bound <= best * (1 + 1e-9)
        assert plan.gap == pytest.approx((plan.objective - plan.bound) / plan.objective)
        assert figures["decompose_full_bound_cross_pairs"] == 4
    else:  # the cut model's bound, above the full optimum here, and said to be the cut's
        assert figures["decompose_bound_of"] == "cut model"
        assert plan.bound == pytest.approx(cut_best, rel=1e-6) and plan.bound > best
