"""The bound over clusters of sites (``chargeplan.solver.design_clusters``).

On the tiny design instances (4 zones on a line, 3 sites, a 3-design menu), solved by
enumeration (every site closed or with one design, an assignment LP each): the cluster bound
is never above that optimum whatever the multipliers, never below the site-level Lagrangian
bound at the same multipliers, and equal to the optimum when one cluster holds every site.
The clustering is checked by hand on a chain of four sites.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from chargeplan.model.formulation import build_milp
from chargeplan.solver.design_bound import lagrangian_bound, lagrangian_value
from chargeplan.solver.design_clusters import cluster_bound, site_clusters
from chargeplan.solver.design_hull import disjunctive_bound
from chargeplan.solver.designstart import design_start
from chargeplan.solver.direct import load_arrays
from chargeplan.solver.highs import solve
from chargeplan.solver.options import SolverOptions

from .design_instances import brute_force, line_instance, lp_relaxation, one_site

TOL = 1e-6


@pytest.mark.parametrize("seed", range(6))
def test_cluster_bound_between_site_bound_and_optimum(seed: int) -> None:
    """At the LP's duals, at the subgradient's best multipliers and at random ones: the
    site-level L <= the bound over clusters of 1 and 2 sites <= the enumerated optimum."""
    p = dataclasses.replace(line_instance(seed), pair_links="never")
    best, _ = brute_force(p)
    _, duals = lp_relaxation(p)
    lp, ix = build_milp(p)
    relaxed = lagrangian_bound(p, lp, ix, target=best, multipliers=duals)
    assert relaxed is not None
    rng = np.random.default_rng(seed)
    trials = [duals, relaxed.multipliers] + [
        duals + rng.normal(0.0, 200.0, duals.size) for _ in range(3)
    ]
    for lam in trials:
        site = lagrangian_value(p, lp, ix, lam)
        for size in (1, 2):
            found = cluster_bound(p, lp, ix, lam, size=size, max_nodes=None, gap=0.0)
            assert found is not None
            assert found.site_bound == pytest.approx(site, rel=1e-9)
            assert site - TOL * abs(site) <= found.bound <= best * (1 + TOL)


@pytest.mark.parametrize("seed", range(6))
def test_one_cluster_of_every_site_is_the_optimum(seed: int) -> None:
    """Three sites in one cluster: no row is dualised, the cluster's MIP is the model, so the
    bound is the enumerated optimum whatever the multipliers (here 0, far from any good ones);
    with the weak links (the model as the national pieces build it) too."""
    for links in ("auto", "never"):
        p = dataclasses.replace(line_instance(seed), pair_links=links)
        best, _ = brute_force(p)
        lp, ix = build_milp(p)
        lam = np.zeros(len(ix.u_zone))
        found = cluster_bound(p, lp, ix, lam, size=3, max_nodes=None, gap=0.0)
        assert found is not None
        assert (found.clusters, found.shared_rows) == (1, 0)
        assert found.bound == pytest.approx(best, rel=1e-7)
        assert found.site_bound < best - 1.0  # L(0) is far below: the MIP closed the gap


def test_node_limit_keeps_the_bound_valid() -> None:
    """Stopped at one node, HiGHS's dual bound is still a lower bound and the site-level
    pieces still a floor."""
    p = dataclasses.replace(line_instance(2), pair_links="never")
    best, _ = brute_force(p)
    _, duals = lp_relaxation(p)
    lp, ix = build_milp(p)
    found = cluster_bound(p, lp, ix, duals, size=3, max_nodes=1)
    assert found is not None
    assert found.site_bound - TOL <= found.bound <= best * (1 + TOL)


def test_one_site_by_hand() -> None:
    """One zone (demand 150, unmet price 40 per unit), one site with one design of usable
    capacity 100 at capex 1,000: the optimum is the station serving 100 and 50 unmet,
    1,000 + 50 x 40 = 3,000 (``test_design_bound``). The single cluster's MIP is the model,
    so at lambda = 0, where the site-level L is 0 (nothing is worth serving), the bound is
    still 3,000."""
    p = one_site(150.0)
    best, _ = brute_force(p)
    lp, ix = build_milp(p)
    found = cluster_bound(p, lp, ix, np.zeros(1), size=1, max_nodes=None, gap=0.0)
    assert found is not None
    assert best == pytest.approx(3000.0)
    assert found.bound == pytest.approx(3000.0, rel=1e-9)
    assert found.site_bound == pytest.approx(0.0, abs=1e-9)


def test_clusters_by_hand_on_a_chain() -> None:
    """Four sites on a chain: rows shared by sites 0-1 (demand 10), 1-2 (1) and 2-3 (5).
    Size 1: every site alone. Size 2: the heaviest edge 0-1 first, then 2-3 (1-2 is blocked:
    both ends are matched). Size 3: the same pairs (a pair of pairs would make 4). Size 4:
    the two pairs joined at the next level by their edge of weight 1."""
    item_row = np.array([0, 0, 1, 1, 2, 2])
    item_site = np.array([0, 1, 1, 2, 2, 3])
    demand = np.array([10.0, 1.0, 5.0])
    assert site_clusters(item_row, item_site, demand, 4, 1).tolist() == [0, 1, 2, 3]
    assert site_clusters(item_row, item_site, demand, 4, 2).tolist() == [0, 0, 1, 1]
    assert site_clusters(item_row, item_site, demand, 4, 3).tolist() == [0, 0, 1, 1]
    assert site_clusters(item_row, item_site, demand, 4, 4).tolist() == [0, 0, 0, 0]
    # a site reaching nothing stays alone
    assert site_clusters(item_row, item_site, demand, 5, 4).tolist() == [0, 0, 0, 0, 1]


def test_same_bound_twice() -> None:
    p = dataclasses.replace(line_instance(0), pair_links="never")
    _, duals = lp_relaxation(p)
    lp, ix = build_milp(p)
    first = cluster_bound(p, lp, ix, duals, size=2)
    again = cluster_bound(p, lp, ix, duals, size=2)
    assert first == again


@pytest.mark.parametrize("seed", [0, 2])
def test_design_start_takes_the_cluster_bound(seed: int) -> None:
    """With ``cluster_sites`` = 3 the start's bound is the one-cluster MIP: the optimum (to
    HiGHS's 1e-4 gap at the cluster's node limit) -- above the site-level bound."""
    p = dataclasses.replace(line_instance(seed), pair_links="never")
    best, _ = brute_force(p)
    lp, ix = build_milp(p)
    plain = design_start(p, lp, ix, *load_arrays(lp), threads=1)
    lp, ix = build_milp(p)
    clustered = design_start(p, lp, ix, *load_arrays(lp), threads=1, cluster_sites=3)
    assert plain is not None and clustered is not None
    assert clustered.objective == plain.objective
    assert plain.bound < best * (1 - 1e-3)
    assert best * (1 - 2e-4) <= clustered.bound <= best * (1 + TOL)
    assert clustered.cluster_bound == clustered.bound


@pytest.mark.parametrize("seed", [0, 3])
def test_lp_of_one_cluster_is_the_disjunctive_lp(seed: int) -> None:
    """``max_nodes = 0`` solves only the clusters' LPs; with one cluster of every site and
    every row kept that LP is the disjunctive LP of ``design_hull`` (capacities capped at the
    sites' demand, which cuts off no point of it), whatever the multipliers, and between the
    site-level L and the MIP's bound."""
    p = dataclasses.replace(line_instance(seed), pair_links="never")
    lp, ix = build_milp(p)
    hull = disjunctive_bound(p, lp, ix)
    assert hull is not None
    lam = np.zeros(len(ix.u_zone))
    relaxed = cluster_bound(p, lp, ix, lam, size=3, max_nodes=0)
    exact = cluster_bound(p, lp, ix, lam, size=3, max_nodes=None, gap=0.0)
    assert relaxed is not None and exact is not None
    assert relaxed.bound == pytest.approx(hull.lp_value, rel=1e-7)
    assert relaxed.site_bound <= relaxed.bound <= exact.bound + TOL * abs(exact.bound)


def test_solver_option_reaches_the_bound() -> None:
    """``SolverOptions.design_cluster_sites`` on the direct path: with the start as the plan
    (``design_max_nodes = 0``) the reported bound is the one-cluster MIP's, the optimum; the
    plan itself does not change."""
    p = dataclasses.replace(line_instance(2), pair_links="never")
    best, _ = brute_force(p)
    plain = solve(p, SolverOptions(mip_rel_gap=0.0, threads=1, design_max_nodes=0))
    options = SolverOptions(mip_rel_gap=0.0, threads=1, design_max_nodes=0, design_cluster_sites=3)
    clustered = solve(p, options)
    assert clustered.objective == plain.objective
    assert plain.bound < best * (1 - 1e-3)
    assert best * (1 - 2e-4) <= clustered.bound <= best * (1 + TOL)
