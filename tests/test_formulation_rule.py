"""The ``pair_links = "auto"`` rule (:mod:`chargeplan.model.links`, issue 13 item 1).

A facility-location model (no charger sizing, ``min_cost``: CFLP/UFLP) gets the strong rows
``x_ijk <= y_j`` at any size; a model with charger sizing gets them only up to
:data:`~chargeplan.model.problem.STRONG_LINK_LIMIT` assignment variables. ``"always"`` and
``"never"`` override the rule. The OR-Library optima do not depend on the formulation, and the
same problem solved twice gives the identical plan.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from chargeplan.model.formulation import build_milp
from chargeplan.model.limits import estimate_model_size
from chargeplan.model.links import wants_strong_links
from chargeplan.model.problem import STRONG_LINK_LIMIT, FacilityProblem
from chargeplan.solver.highs import solve
from chargeplan.solver.options import SolverOptions
from tests.test_orlib import CAPOPT, instance_path, read_cap, to_problem

EXACT = SolverOptions(mip_rel_gap=0, time_limit_s=120, threads=1)

# 251 zones x 200 sites = 50,200 pairs: just above the limit, cheap to build
ZONES, SITES = 251, 200


def _square(sizing: bool, pair_links: str = "auto") -> FacilityProblem:
    """Every zone paired with every site; one charger type when ``sizing``."""
    pair_zone, pair_site = np.divmod(np.arange(ZONES * SITES), SITES)
    cost = 1.0 + (pair_zone + pair_site) % 7
    return FacilityProblem(
        zone_ids=np.arange(ZONES),
        site_ids=np.arange(SITES),
        types=np.array(["dc"]),
        demand=np.full((ZONES, 1), 10.0),
        pair_zone=pair_zone,
        pair_site=pair_site,
        pair_cost=cost[:, None],
        fixed_cost=np.full(SITES, 100.0),
        site_capacity=np.full(SITES, 500.0),
        charger_capacity=np.array([50.0]) if sizing else None,
        charger_cost=np.full((SITES, 1), 10.0),
        max_chargers=np.full((SITES, 1), 20.0),
        unmet_penalty=np.array([1000.0]),
        pair_links=pair_links,  # type: ignore[arg-type]
    )


def test_the_square_is_just_above_the_limit() -> None:
    assert STRONG_LINK_LIMIT < ZONES * SITES < STRONG_LINK_LIMIT + 1000


@pytest.mark.parametrize(
    ("sizing", "pair_links", "strong"),
    [
        (False, "auto", True),  # facility location: strong at any size
        (True, "auto", False),  # charger sizing above the limit: aggregated rows only
        (False, "never", False),
        (True, "always", True),
    ],
)
def test_rule_above_the_limit(sizing: bool, pair_links: str, strong: bool) -> None:
    problem = _square(sizing, pair_links)
    assert wants_strong_links(problem, ZONES * SITES) is strong
    lp, ix = build_milp(problem)
    assert ix.strong_links is strong
    assert len(ix.x_pair) == ZONES * SITES
    # one pair_link row per assignment variable, or none
    rows = lp.families["pair_link"][1].size if "pair_link" in lp.families else 0
    assert rows == (ZONES * SITES if strong else 0)
    # the size estimate (checked before building) follows the same rule
    weak = dataclasses.replace(problem, pair_links="never")
    extra = estimate_model_size(problem).rows - estimate_model_size(weak).rows
    assert extra == (ZONES * SITES if strong else 0)


def test_rule_below_the_limit_keeps_the_strong_rows_with_sizing() -> None:
    problem = _square(True)
    assert wants_strong_links(problem, STRONG_LINK_LIMIT)
    assert not wants_strong_links(problem, STRONG_LINK_LIMIT + 1)


def test_max_coverage_keeps_the_size_limit() -> None:
    """The rule covers min_cost facility location only: MCLP keeps the old limit."""
    problem = _square(False)
    coverage = dataclasses.replace(problem, objective="max_coverage")
    assert not wants_strong_links(coverage, STRONG_LINK_LIMIT + 1)
    assert wants_strong_links(coverage, STRONG_LINK_LIMIT)


@pytest.mark.parametrize("pair_links", ["auto", "always", "never"])
@pytest.mark.parametrize("name", ["cap41", "cap71", "cap131"])
def test_orlib_optimum_with_every_formulation(name: str, pair_links: str) -> None:
    """The published CFLP optimum (tests/data/orlib/capopt.csv) whatever the formulation."""
    problem = dataclasses.replace(to_problem(read_cap(instance_path(name))), pair_links=pair_links)
    solution = solve(problem, EXACT)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(float(CAPOPT.loc[name, "optimum"]), rel=1e-6)
    assert solution.formulation.startswith("weak" if pair_links == "never" else "strong")


def test_two_runs_give_the_identical_plan() -> None:
    problem = to_problem(read_cap(instance_path("cap41")))
    first, second = solve(problem, EXACT), solve(problem, EXACT)
    assert first.objective == second.objective
    np.testing.assert_array_equal(first.open_site, second.open_site)
    np.testing.assert_array_equal(first.served, second.served)


def test_uflp_strong_rows_tighten_the_lp_bound() -> None:
    """Why the rule: on a 2-zone, 2-site UFLP the aggregated rows let y be fractional.

    Zones a, b (demand 1 each), sites S, T (fixed cost 10 each) both reach both zones; a-S and
    b-T cost 0, a-T and b-S cost 100. Optimum: open both, 20 (one site alone: 10 + 100).
    The aggregated row of an uncapacitated site uses the demand in its reach, 2:
    x_aS + x_bS <= 2 y_S, so the LP serves a from S and b from T at y_S = y_T = 1/2: bound 10.
    With x_aS <= y_S and x_bT <= y_T it needs y_S = y_T = 1: bound 20, the optimum.
    """
    zones = pd.DataFrame({"zone_id": ["a", "b"], "demand": [1.0, 1.0]})
    sites = pd.DataFrame({"site_id": ["S", "T"], "fixed_cost": [10.0, 10.0]})
    costs = pd.DataFrame(
        {
            "zone_id": ["a", "a", "b", "b"],
            "site_id": ["S", "T", "S", "T"],
            "cost": [0.0, 100.0, 100.0, 0.0],
        }
    )
    bounds = {}
    for links in ("never", "always"):
        problem = FacilityProblem.from_cost_table(zones, sites, costs, pair_links=links)
        lp, _ = build_milp(problem)
        highs = lp.to_highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("solve_relaxation", True)
        highs.run()
        bounds[links] = highs.getInfo().objective_function_value + lp.objective_offset
    assert bounds["never"] == pytest.approx(10.0)
    assert bounds["always"] == pytest.approx(20.0)
    auto = FacilityProblem.from_cost_table(zones, sites, costs)
    assert solve(auto, EXACT).objective == pytest.approx(20.0)
