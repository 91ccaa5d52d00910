"""Every plan says which formulation HiGHS was given, and a time-limited one says what to try.

Issue 13 (item 1): with ``pair_links = "auto"`` the strong rows ``x_ijk <= y_j`` are left out
above :data:`~chargeplan.model.problem.STRONG_LINK_LIMIT` assignment variables, and a plan that
stops at its time limit must name the formulation and the setting that may fix it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from chargeplan.model.formulation import build_milp
from chargeplan.model.problem import STRONG_LINK_LIMIT, FacilityProblem
from chargeplan.solver.highs import solve, time_limit_advice
from chargeplan.solver.options import SolverOptions

EXACT = SolverOptions(mip_rel_gap=0, reduce=False)


def _cflp(pair_links: str = "auto") -> FacilityProblem:
    """Three customers, two warehouses, every pair allowed: 3 x 2 = 6 assignment variables."""
    zones = pd.DataFrame({"zone_id": ["a", "b", "c"], "demand": [10.0, 20.0, 30.0]})
    sites = pd.DataFrame({"site_id": ["S", "T"], "fixed_cost": [100.0, 120.0]})
    costs = pd.DataFrame(
        {
            "zone_id": ["a", "a", "b", "b", "c", "c"],
            "site_id": ["S", "T", "S", "T", "S", "T"],
            "cost": [10.0, 50.0, 20.0, 40.0, 90.0, 30.0],
        }
    )
    return FacilityProblem.from_cost_table(zones, sites, costs, pair_links=pair_links)


@pytest.mark.parametrize(
    ("pair_links", "expected"),
    [
        ("auto", "strong links x_ijk <= y_j on all 6 assignment variables"),
        ("always", "strong links x_ijk <= y_j on all 6 assignment variables"),
        ("never", "weak links: x_ijk <= y_j left out of 6 assignment variables"),
    ],
)
def test_the_plan_names_its_formulation(pair_links: str, expected: str) -> None:
    solution = solve(_cflp(pair_links), EXACT)
    assert solution.formulation == expected
    # Same optimum either way (costs are for all of a zone's demand, uncapacitated): S alone
    # 100 + 10 + 20 + 90 = 220; T alone 120 + 50 + 40 + 30 = 240; both 220 + 10 + 20 + 30 = 280.
    assert solution.objective == pytest.approx(220.0)
    assert solution.open_site.tolist() == [True, False]


def test_auto_leaves_the_strong_rows_out_above_the_limit() -> None:
    """The rule itself: the same problem counted as if it had one variable past the limit."""
    problem = _cflp("auto")
    _, ix = build_milp(problem)
    assert ix.strong_links
    big = dataclasses.replace(
        ix, x_pair=np.zeros(STRONG_LINK_LIMIT + 1, np.int64), strong_links=False
    )
    assert big.formulation.startswith("weak links")


def test_time_limit_advice_names_the_formulation_and_the_fix() -> None:
    problem = _cflp("never")
    _, ix = build_milp(problem)
    options = SolverOptions(time_limit_s=300, mip_rel_gap=1e-3)
    text = time_limit_advice(problem, ix, options, gap=0.0125)
    assert "gap of 1.25 %" in text
    assert "weak links" in text and "model.pair_links = 'never'" in text
    assert "model.pair_links = 'always'" in text
    assert "solver.time_limit_s (now 300 s)" in text
    assert "decompose.by = 'components'" in text


def test_time_limit_advice_with_the_strong_rows_offers_the_smaller_lps() -> None:
    problem = _cflp("auto")
    _, ix = build_milp(problem)
    text = time_limit_advice(problem, ix, SolverOptions(), gap=0.02)
    assert "strong links" in text and "model.pair_links = 'never'" in text
    assert "'always'" not in text


def test_time_limit_advice_says_the_clock_decided_and_offers_the_node_limit() -> None:
    problem = _cflp("never")
    _, ix = build_milp(problem)
    text = time_limit_advice(problem, ix, SolverOptions(time_limit_s=300), gap=0.01)
    assert "The clock decided this plan" in text and "solver.mip_max_nodes" in text
    limited = SolverOptions(time_limit_s=300, mip_max_nodes=500)
    assert "clock decided" not in time_limit_advice(problem, ix, limited, gap=0.01)


def test_time_limit_advice_of_the_covering_form_offers_no_pair_links() -> None:
    """An MCLP stopped by its clock is solved in the covering form, which has no assignment
    links: the advice names that form and offers no ``pair_links`` setting (it did, from the
    index of the problem as given: "weak links ... try 'always'")."""
    problem = _cflp("never")
    _, ix = build_milp(problem)
    words = "covering form (MCLP: exchange start)"
    text = time_limit_advice(problem, ix, SolverOptions(), 0.0469, words, covering=True)
    assert f"formulation: {words}. To try: a higher solver.time_limit_s" in text
    assert "pair_links" not in text and "weak links" not in text


def test_time_limit_advice_of_an_mclp_gives_the_gap_of_its_coverage() -> None:
    """The 20,000 x 2,000 grid's radius 12, p 30 stopped with 129,454 covered and a bound of 0
    unmet (all 129,765 coverable): 100 % of the unmet demand HiGHS minimises, but (129,765 -
    129,454) / 129,765 = 0.24 % of the coverage; the message gives both."""
    problem = _cflp("never")
    _, ix = build_milp(problem)
    text = time_limit_advice(
        problem,
        ix,
        SolverOptions(),
        1.0,
        "covering form",
        covering=True,
        coverage=(129_454.0, 129_765.0),
    )
    assert text.startswith(
        "HiGHS stopped at its time limit with a gap of 100.00 % on the unmet demand it "
        "minimises (covered 129,454, at most 129,765: 0.24 % of the coverage); "
    )
