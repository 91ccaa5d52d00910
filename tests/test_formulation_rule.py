"""The ``pair_links = "auto"`` rule (:mod:`chargeplan.model.links`, issue 13 item 1).

A facility-location model (no charger sizing, ``min_cost``: CFLP/UFLP) gets the strong rows
``x_ijk <= y_j`` at any size; a model with charger sizing gets them only up to
:data:`~chargeplan.model.problem.STRONG_LINK_LIMIT` assignment variables. ``"always"`` and
``"never"`` override the rule. The OR-Library optima do not depend on the formulation, and the
same problem solved twice gives the identical plan.

A facility-location model reaches HiGHS with its integer columns first
(:func:`~chargeplan.model.links.integers_first`), as a CFLP is written by hand: HiGHS then
searches exactly as on the hand-written model (the same simplex iterations and nodes).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from chargeplan.model.formulation import build_milp
from chargeplan.model.limits import estimate_model_size
from chargeplan.model.links import integers_first, wants_strong_links
from chargeplan.model.problem import STRONG_LINK_LIMIT, FacilityProblem
from chargeplan.solver.cuts import LazyLinks, add_lazy_links, violated_links
from chargeplan.solver.highs import solve, time_limit_advice
from chargeplan.solver.options import SolverOptions
from tests.orlib import CAPOPT, instance_path, read_cap, to_problem

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


@pytest.mark.parametrize("pair_links", ["auto", "always", "never", "lazy"])
@pytest.mark.parametrize("name", ["cap41", "cap71", "cap131"])
def test_orlib_optimum_with_every_formulation(name: str, pair_links: str) -> None:
    """The published CFLP optimum (tests/data/orlib/capopt.csv) whatever the formulation."""
    problem = dataclasses.replace(to_problem(read_cap(instance_path(name))), pair_links=pair_links)
    solution = solve(problem, EXACT)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(float(CAPOPT.loc[name, "optimum"]), rel=1e-6)
    expected = {"never": "weak", "lazy": "lazy"}.get(pair_links, "strong")
    assert solution.formulation.startswith(expected)


@pytest.mark.parametrize("pair_links", ["auto", "lazy"])
def test_two_runs_give_the_identical_plan(pair_links: str) -> None:
    problem = dataclasses.replace(
        to_problem(read_cap(instance_path("cap41"))), pair_links=pair_links
    )
    first, second = solve(problem, EXACT), solve(problem, EXACT)
    assert first.formulation == second.formulation
    assert first.objective == second.objective
    np.testing.assert_array_equal(first.open_site, second.open_site)
    np.testing.assert_array_equal(first.served, second.served)


def _two_by_two(pair_links: str) -> FacilityProblem:
    """Zones a, b (demand 1 each), sites S, T (fixed cost 10 each) both reach both zones; a-S
    and b-T cost 0, a-T and b-S cost 100. Optimum: open both, 20 (one site alone: 10 + 100)."""
    zones = pd.DataFrame({"zone_id": ["a", "b"], "demand": [1.0, 1.0]})
    sites = pd.DataFrame({"site_id": ["S", "T"], "fixed_cost": [10.0, 10.0]})
    costs = pd.DataFrame(
        {
            "zone_id": ["a", "a", "b", "b"],
            "site_id": ["S", "T", "S", "T"],
            "cost": [0.0, 100.0, 100.0, 0.0],
        }
    )
    return FacilityProblem.from_cost_table(zones, sites, costs, pair_links=pair_links)


def test_uflp_strong_rows_tighten_the_lp_bound() -> None:
    """Why the rule: on the 2-zone, 2-site UFLP the aggregated rows let y be fractional.

    The aggregated row of an uncapacitated site uses the demand in its reach, 2:
    x_aS + x_bS <= 2 y_S, so the LP serves a from S and b from T at y_S = y_T = 1/2: bound 10.
    With x_aS <= y_S and x_bT <= y_T it needs y_S = y_T = 1: bound 20, the optimum.
    """
    bounds = {}
    for links in ("never", "always"):
        lp, _ = build_milp(_two_by_two(links))
        highs = lp.to_highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("solve_relaxation", True)
        highs.run()
        bounds[links] = highs.getInfo().objective_function_value + lp.objective_offset
    assert bounds["never"] == pytest.approx(10.0)
    assert bounds["always"] == pytest.approx(20.0)
    assert solve(_two_by_two("auto"), EXACT).objective == pytest.approx(20.0)


def test_violated_links_are_those_above_the_tolerance() -> None:
    values = np.array([0.5, 1.0, 0.0, 0.5 + 1e-7, 0.3])  # columns 0..4
    x_cols, y_cols = np.array([1, 2, 3, 4]), np.array([0, 0, 0, 0])
    # x - y: 0.5 (violated), -0.5, 1e-7 (within 1e-6), -0.2
    assert violated_links(values, x_cols, y_cols).tolist() == [0]
    assert violated_links(values, x_cols, y_cols, epsilon=1e-8).tolist() == [0, 2]


def test_cut_loop_adds_exactly_the_violated_links() -> None:
    """On the 2 x 2 UFLP the weak LP is x_aS = x_bT = 1, y_S = y_T = 1/2 (the only optimum,
    value 10): the links (a, S) and (b, T) are violated by 1/2, (a, T) and (b, S) hold
    (x = 0). Round 1 adds exactly those two rows; round 2's LP has y_S = y_T = 1 (value 20)
    and violates none."""
    lp, ix = build_milp(_two_by_two("lazy"))
    problem = _two_by_two("lazy")
    assert not ix.strong_links and "pair_link" not in lp.families
    highs = lp.to_highs()
    highs.setOptionValue("output_flag", False)
    rows_before = highs.getNumRow()
    x_cols = ix.cols("x")
    y_cols = ix.column_of_site("y", 2)[problem.pair_site[ix.x_pair]]
    done = add_lazy_links(highs, x_cols, y_cols)
    assert done == LazyLinks(rows=2, rounds=2, converged=True)
    assert highs.getNumRow() == rows_before + 2
    model = highs.getLp()
    a = model.a_matrix_
    matrix = sparse.csc_matrix(
        (a.value_, a.index_, a.start_), shape=(model.num_row_, model.num_col_)
    ).tocsr()
    new = matrix[rows_before:]
    added = {
        tuple(sorted(zip(new[r].indices.tolist(), new[r].data.tolist(), strict=True)))
        for r in range(new.shape[0])
    }
    assert np.asarray(model.row_upper_)[rows_before:].tolist() == [0.0, 0.0]
    zone, site = problem.pair_zone[ix.x_pair], problem.pair_site[ix.x_pair]
    violated = np.flatnonzero(zone == site)  # a-S (0, 0) and b-T (1, 1)
    assert len(violated) == 2
    expect = {((int(x_cols[p]), 1.0), (int(y_cols[p]), -1.0)) for p in violated}
    assert added == {tuple(sorted(e)) for e in expect}
    highs.run()  # the MIP with the two rows
    assert highs.getInfo().objective_function_value + lp.objective_offset == pytest.approx(20.0)


def test_lazy_solve_reports_its_rows_and_rounds() -> None:
    solution = solve(_two_by_two("lazy"), EXACT)
    assert solution.objective == pytest.approx(20.0)
    assert solution.formulation == "lazy links: 2 of 4 rows x_ijk <= y_j added in 2 LP rounds"


def test_lazy_on_the_pyomo_path_is_the_aggregated_form() -> None:
    """The Pyomo path (here: a model of ``build_model`` solved by ``solve_model``) cannot run
    the loop: it builds ``"lazy"`` as ``"never"`` and still finds the optimum, 20."""
    import chargeplan

    options = SolverOptions(mip_rel_gap=0, time_limit_s=120, threads=1)
    solution = chargeplan.solve_model(chargeplan.build_model(_two_by_two("lazy")), options)
    assert solution.objective == pytest.approx(20.0)
    assert solution.formulation == "weak links: x_ijk <= y_j left out of 4 assignment variables"


def test_lazy_with_the_log_on_stderr_runs_the_loop() -> None:
    """HiGHS's log on standard error (``-v``) keeps the array path: the same loop and rows."""
    options = dataclasses.replace(EXACT, log_to_stderr=True)
    solution = solve(_two_by_two("lazy"), options)
    assert solution.objective == pytest.approx(20.0)
    assert solution.formulation == "lazy links: 2 of 4 rows x_ijk <= y_j added in 2 LP rounds"


# --- column order: integer columns first in a facility-location model -----------------------


def test_integers_first_rule() -> None:
    """Facility location (no sizing, min_cost): integer columns first; sizing or MCLP: not."""
    assert integers_first(_square(False))
    assert not integers_first(_square(True))
    assert not integers_first(dataclasses.replace(_square(False), objective="max_coverage"))


def test_highs_gets_the_sites_first_in_a_cflp() -> None:
    """cap41 (16 sites, 50 customers): HiGHS's first 16 columns are the y of the 16 sites, in
    site order; then the x, customer by customer (the order of raw HiGHS in
    benchmarks/formulation_rule.py). With charger sizing the x come first, as before."""
    lp, ix = build_milp(to_problem(read_cap(instance_path("cap41"))))
    order = lp.highs_order()
    assert order[:16].tolist() == ix.column_of_site("y", 16).tolist()
    x_first = order[16 : 16 + 16]  # customer 0's shares, then customer 1's ...
    assert x_first.tolist() == ix.cols("x")[:16].tolist()
    sized, _ = build_milp(_square(True, "never"))
    _, _, kind = sized.bounds()
    assert kind[sized.highs_order()[0]] == 0  # continuous: an x


def _cflp(seed: int, n: int = 40, m: int = 8) -> dict[str, np.ndarray]:
    """A small capacitated instance (capacities 1.5x the demand, as capc-like)."""
    rng = np.random.default_rng(seed)
    customers, sites = rng.uniform(0, 1000, (n, 2)), rng.uniform(0, 1000, (m, 2))
    demand = rng.integers(1, 101, n).astype(float)
    distance = np.linalg.norm(customers[:, None] - sites[None], axis=2)
    return {
        "cost": demand[:, None] * distance / 10,
        "demand": demand,
        "fixed": rng.uniform(7_500, 17_500, m).round(),
        "capacity": np.full(m, np.ceil(1.5 * demand.sum() / m)),
    }


def _hand_written(inst: dict[str, np.ndarray]):
    """The strong CFLP written by hand: columns y then x (row-major), rows assign, capacity,
    links, as ``raw_highs`` in benchmarks/formulation_rule.py."""
    import highspy

    cost, demand, capacity = inst["cost"], inst["demand"], inst["capacity"]
    n, m = cost.shape
    customer, site = np.divmod(np.arange(n * m), m)
    x = m + np.arange(n * m)
    rows = np.concatenate([customer, n + site, n + np.arange(m), n + m + x - m, n + m + x - m])
    cols = np.concatenate([x, x, np.arange(m), x, site])
    vals = np.concatenate(
        [np.ones(n * m), demand[customer], -capacity, np.ones(n * m), -np.ones(n * m)]
    )
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(n + m + n * m, m + n * m))
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    highs.addVars(m + n * m, np.zeros(m + n * m), np.ones(m + n * m))
    highs.changeColsCost(
        m + n * m,
        np.arange(m + n * m, dtype=np.int32),
        np.concatenate([inst["fixed"], cost.ravel()]),
    )
    lower = np.concatenate([np.ones(n), np.full(m + n * m, -inf)])
    upper = np.concatenate([np.ones(n), np.zeros(m + n * m)])
    highs.addRows(
        len(lower),
        lower,
        upper,
        matrix.nnz,
        matrix.indptr[:-1].astype(np.int32),
        matrix.indices.astype(np.int32),
        matrix.data,
    )
    highs.changeColsIntegrality(m, np.arange(m, dtype=np.int32), np.ones(m, np.uint8))
    return highs


def _search(highs) -> tuple[float, int, int]:
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.run()
    info = highs.getInfo()
    return info.objective_function_value, info.mip_node_count, info.simplex_iteration_count


def test_chargeplan_model_takes_the_search_of_the_hand_written_one() -> None:
    """Why the order: HiGHS on chargeplan's model (which also holds one unmet-demand column per
    zone, fixed at 0: presolve removes them) finds the optimum with the very nodes and simplex
    iterations it needs on the hand-written model (HiGHS 1.16: 3 nodes, 639 iterations). With
    the x columns first, as before :func:`integers_first`, it took 7 nodes and 697 iterations
    on this instance: the order alone changes HiGHS's search."""
    seed = 0
    inst = _cflp(seed)
    n, m = inst["cost"].shape
    zones = pd.DataFrame({"zone_id": [f"c{j}" for j in range(n)], "demand": inst["demand"]})
    sites = pd.DataFrame(
        {
            "site_id": [f"w{i}" for i in range(m)],
            "fixed_cost": inst["fixed"],
            "capacity": inst["capacity"],
        }
    )
    customer, site = np.divmod(np.arange(n * m), m)
    costs = pd.DataFrame(
        {
            "zone_id": zones["zone_id"].to_numpy()[customer],
            "site_id": sites["site_id"].to_numpy()[site],
            "cost": inst["cost"].ravel(),
        }
    )
    problem = FacilityProblem.from_cost_table(zones, sites, costs, cost_basis="total")
    lp, _ = build_milp(problem)
    ours = _search(lp.to_highs(pyomo_order=True))
    theirs = _search(_hand_written(inst))
    assert ours[0] + lp.objective_offset == pytest.approx(theirs[0], rel=1e-9)
    assert ours[1:] == theirs[1:]
    assert solve(problem, EXACT).objective == pytest.approx(theirs[0], rel=1e-9)


def test_time_limit_advice_offers_the_cut_loop() -> None:
    """A time limit names the formulation used and offers the other settings: the cut loop to
    a model with all strong rows; to a lazy model, its own count of rows and the full rows."""
    problem = to_problem(read_cap(instance_path("cap41")))
    _, ix = build_milp(problem)
    text = time_limit_advice(problem, ix, EXACT, gap=0.01)
    assert "formulation: strong links x_ijk <= y_j on all 800" in text
    assert "model.pair_links = 'lazy'" in text and "model.pair_links = 'never'" in text
    lazy = dataclasses.replace(problem, pair_links="lazy")
    _, lazy_ix = build_milp(lazy)
    words = "lazy links: 30 of 800 rows x_ijk <= y_j added in 4 LP rounds"
    text = time_limit_advice(lazy, lazy_ix, EXACT, gap=0.01, formulation=words)
    assert f"formulation: {words} (model.pair_links = 'lazy')" in text
    assert "model.pair_links = 'always'" in text and "'lazy' (only" not in text
