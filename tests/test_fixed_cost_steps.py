"""The cheaper steps around HiGHS's own solve (docs/scale.md, "The fixed cost") change nothing.

- ``appearance_order`` sorts the columns by first appearance without a sort; it gives the
  order of the definition (``np.unique`` with ``return_index``, as before) on random matrices
  with repeated, unused and objective-only columns, with and without integer columns first.
- ``merge_zones``'s screen (``_cheapest_differ``) returns at once only where no two zones are
  alike: on random instances with continuous costs, with and without copies of zones, the
  groups equal those of the definition, and the screen fires on some and never where the
  definition merges; it fires on the OR-Library files as UFLP.
- ``_may_be_dominated`` (one ``np.minimum.at`` and one ``np.bincount`` per type) rules out the
  sites that the sorted screen before ruled out (its code, kept here as the reference).
- The array path looks for infeasible empty rows once in the stacked rows and still names the
  family; ``reporting`` given the cost vector sets the scale it read back from HiGHS before;
  ``available_memory`` reads the figure of ``/proc/meminfo``'s text.
- HiGHS prints its banner once a process, so ``quiet_highs`` silences only the first
  ``Highs``: in a fresh process nothing reaches descriptor 1, from ``quiet_highs`` nor from a
  plain ``highspy.Highs()`` after it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chargeplan
from chargeplan.errors import SolveError
from chargeplan.model.formulation import build_milp
from chargeplan.model.limits import available_memory
from chargeplan.model.rows import CsrRows
from chargeplan.model.sparse import BINARY, SparseMILP, appearance_order
from chargeplan.solver import scaling
from chargeplan.solver.design_lp import _option
from chargeplan.solver.direct import _load
from chargeplan.solver.reduce import _cheapest_differ, _may_be_dominated, merge_zones
from tests.orlib import instance_path, read_cap, to_problem
from tests.test_reduce_screens import _groups_by_definition, _instance

SEEDS = range(200)


def _order_by_definition(matrix, cost: np.ndarray, integer: np.ndarray | None) -> np.ndarray:
    """``appearance_order`` as it was: ``np.unique`` of the entries' columns, sorted by the
    first position, then the objective's other columns; integer columns first (stable)."""
    cols, first = np.unique(matrix.indices, return_index=True)
    in_rows = cols[np.argsort(first, kind="stable")]
    used = np.zeros(len(cost), bool)
    used[in_rows] = True
    order = np.concatenate([in_rows, np.flatnonzero((cost != 0) & ~used)]).astype(np.int64)
    if integer is not None:
        order = order[np.argsort(~np.asarray(integer, bool)[order], kind="stable")]
    return order


@pytest.mark.parametrize("seed", SEEDS)
def test_appearance_order_is_that_of_the_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_rows, n_cols = int(rng.integers(0, 8)), int(rng.integers(1, 12))
    dense = np.where(rng.random((n_rows, n_cols)) < 0.3, 1.0, 0.0)
    dense[:, rng.random(n_cols) < 0.3] = 0.0  # unused columns
    rows, cols = np.nonzero(dense)
    matrix = CsrRows.from_triplets(rows, cols, dense[rows, cols], (n_rows, n_cols))
    cost = np.where(rng.random(n_cols) < 0.5, rng.integers(-2, 3, n_cols), 0).astype(float)
    integer = rng.random(n_cols) < 0.4
    for mask in (None, integer):
        got = appearance_order(matrix, cost, mask)
        np.testing.assert_array_equal(got, _order_by_definition(matrix, cost, mask))
        assert got.dtype == np.int64


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


def test_an_empty_infeasible_row_is_named_by_its_family() -> None:
    lp = SparseMILP()
    lp.add_columns("y", 2, 0.0, 1.0, BINARY)
    lp.add_rows("fine", 2, np.array([0]), np.array([0]), np.ones(1), -1.0, 1.0)  # row 1 empty
    lp.add_rows("limit", 2, np.array([0]), np.array([1]), np.ones(1), 1.0, None)
    lp.objective = np.ones(2)
    with pytest.raises(SolveError, match=r"infeasible as built \(limit\)"):
        _load(lp)
    lp.families["limit"][1][1] = 0.0  # 0 <= empty row: feasible
    highs, order = _load(lp)
    assert highs.getNumRow() == 4 and order.tolist() == [0, 1]


def test_the_scale_from_the_costs_is_the_scale_read_back(monkeypatch) -> None:
    problem = to_problem(read_cap(instance_path("cap131")))
    lp, _ = build_milp(problem)
    monkeypatch.setattr(scaling, "SCALE_ABOVE", scaling.MAX_SCALED_COST)  # k = -1 here
    scales = []
    for costs in (None, lp.objective):
        highs, _ = _load(lp)
        with scaling.reporting(highs, 0.0, costs):
            scales.append(_option(highs, "user_objective_scale"))
    assert scales == [-1, -1]


def test_available_memory_is_the_meminfo_figure() -> None:
    if not os.path.exists("/proc/meminfo"):
        pytest.skip("no /proc/meminfo")
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        line = next(line for line in meminfo if line.startswith("MemAvailable:"))
    figure = int(line.split()[1]) * 1024
    assert abs(available_memory() - figure) < 0.05 * figure  # moments apart


def test_the_banner_is_silenced_once_and_never_printed_again() -> None:
    code = (
        "import highspy\n"
        "from chargeplan.solver.design_lp import quiet_highs\n"
        "quiet_highs(); quiet_highs(); highspy.Highs(); print('done')\n"
    )
    source = str(Path(chargeplan.__file__).resolve().parents[1])  # this checkout's src
    env = {**os.environ, "PYTHONPATH": source}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    assert out.stdout == "done\n"
