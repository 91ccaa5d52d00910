"""The cheaper steps around HiGHS's own solve (docs/scale.md, "The fixed cost") change nothing.

- ``appearance_order`` sorts the columns by first appearance without a sort; it gives the
  order of the definition (``np.unique`` with ``return_index``, as before) on random matrices
  with repeated, unused and objective-only columns, with and without integer columns first.
- The reductions' screens without sorts: ``tests/test_reduce_screens.py``.
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
from tests.orlib import instance_path, read_cap, to_problem

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
        pytest.skip("no /proc/meminfo (not Linux): the figure compared is Linux's")
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


@pytest.mark.parametrize("seed", range(100))
def test_rows_from_triplets_are_scipys(seed: int) -> None:
    """Duplicates add up, zeros (given or summed) go, rows come sorted or not: the arrays of
    SciPy's ``csr_matrix`` after ``sum_duplicates`` and ``eliminate_zeros``."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    n_rows, n_cols, n = int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(0, 30))
    rows, cols = rng.integers(0, n_rows, n), rng.integers(0, n_cols, n)
    values = rng.choice([-1.0, 0.0, 1.0, 2.0], n)
    if seed % 3 == 0:  # sorted and distinct, as most row blocks come
        keys = np.unique(rows * n_cols + cols)
        rows, cols, values = keys // n_cols, keys % n_cols, rng.choice([1.0, 2.0], keys.size)
    mine = CsrRows.from_triplets(rows, cols, values, (n_rows, n_cols))
    theirs = sp.csr_matrix((values, (rows, cols)), shape=(n_rows, n_cols))
    theirs.sum_duplicates()
    theirs.eliminate_zeros()
    np.testing.assert_array_equal(mine.indptr, theirs.indptr)
    np.testing.assert_array_equal(mine.indices, theirs.indices)
    np.testing.assert_array_equal(mine.data, theirs.data)
    assert mine.indices.dtype == mine.indptr.dtype == np.int32
