"""What the array path does around HiGHS's own solve, made cheaper, changes nothing HiGHS does.

- The load (:func:`chargeplan.model.sparse.pass_arrays`, highspy's pointer form of
  ``passModel``) gives HiGHS the very model that filling a ``highspy.HighsLp`` attribute by
  attribute gave it, so the search and the plan cannot differ.
- A HiGHS log to a new file is written by HiGHS itself; a second solve appends its log whole;
  a file that cannot be opened is skipped.
- Progress callbacks are subscribed only when a display is shown, and then still report.

The reference load below is the one :func:`pass_arrays` used before (a ``HighsLp`` filled field
by field, then ``changeColsIntegrality``); both are read back with ``getLp`` and compared array
by array, on the OR-Library files cap41 (capacitated and as UFLP) and cap131 and on a model
with charger sizing (integer charger columns).
"""

from __future__ import annotations

import dataclasses

import highspy
import numpy as np
import pytest

from chargeplan import progress
from chargeplan.model.formulation import build_milp
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.sparse import CONTINUOUS, appearance_order, pass_arrays, renumber_columns
from chargeplan.solver import scaling
from chargeplan.solver.highs import solve
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.scaling import objective_scale
from tests.instances import INSTANCE_A
from tests.instances import to_problem as sized_problem
from tests.orlib import instance_path, read_cap, to_problem

LP_FIELDS = ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_")
MATRIX_FIELDS = ("start_", "index_", "value_")


def _arrays(problem: FacilityProblem) -> tuple:
    """The model's arrays as :func:`chargeplan.solver.direct._load` hands them over."""
    lp, _ = build_milp(problem)
    matrix, row_lo, row_hi = lp.row_arrays()
    lower, upper, kind = lp.bounds()
    order = appearance_order(matrix, lp.objective, lp.integer_mask(kind))
    return (
        lower[order],
        upper[order],
        kind[order] != CONTINUOUS,
        lp.objective[order],
        renumber_columns(matrix, order, lp.n_cols),
        row_lo,
        row_hi,
    )


def _field_by_field(lower, upper, integer, cost, matrix, row_lo, row_hi, maximize=False):
    """The reference: a ``HighsLp`` filled attribute by attribute, integrality changed after."""
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(lower), matrix.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
    lp.row_lower_, lp.row_upper_ = row_lo, row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    lp.a_matrix_.start_, lp.a_matrix_.index_ = matrix.indptr, matrix.indices
    lp.a_matrix_.value_ = matrix.data
    if maximize:
        lp.sense_ = highspy.ObjSense.kMaximize
    highs.passModel(lp)
    columns = np.flatnonzero(integer).astype(np.int32)
    if columns.size:
        highs.changeColsIntegrality(columns.size, columns, np.ones(columns.size, np.uint8))
    return highs


def _problems() -> dict[str, FacilityProblem]:
    cap41, cap131 = read_cap(instance_path("cap41")), read_cap(instance_path("cap131"))
    return {
        "cap41": to_problem(cap41),
        "cap41-u": to_problem(cap41, capacity="inf"),
        "cap131": to_problem(cap131),
        "sized A": sized_problem(INSTANCE_A),
    }


@pytest.mark.parametrize("name", ["cap41", "cap41-u", "cap131", "sized A"])
@pytest.mark.parametrize("maximize", [False, True])
def test_pointer_load_is_the_field_by_field_load(name: str, maximize: bool) -> None:
    arrays = _arrays(_problems()[name])
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    pass_arrays(highs, *arrays, maximize=maximize)
    mine, theirs = highs.getLp(), _field_by_field(*arrays, maximize=maximize).getLp()
    assert (mine.num_col_, mine.num_row_) == (theirs.num_col_, theirs.num_row_)
    assert mine.sense_ == theirs.sense_
    for field in LP_FIELDS:
        np.testing.assert_array_equal(getattr(mine, field), getattr(theirs, field), err_msg=field)
    assert mine.a_matrix_.format_ == theirs.a_matrix_.format_
    for field in MATRIX_FIELDS:
        mat, ref = getattr(mine.a_matrix_, field), getattr(theirs.a_matrix_, field)
        np.testing.assert_array_equal(mat, ref, err_msg=field)
    kinds = np.asarray([int(k) for k in mine.integrality_])
    reference = np.zeros(mine.num_col_, int)
    reference[[i for i, k in enumerate(theirs.integrality_) if int(k) == 1]] = 1
    np.testing.assert_array_equal(kinds, reference)
    assert kinds.sum() == arrays[2].sum() > 0  # the model has integer columns to compare


EXACT = SolverOptions(mip_rel_gap=0.0, threads=1)
CAP41_OPTIMUM = 1_040_444.375  # tests/data/orlib/capopt.csv


def test_a_log_to_a_new_file_then_appended_and_an_unwritable_one_skipped(tmp_path) -> None:
    problem = to_problem(read_cap(instance_path("cap41")))
    log = tmp_path / "highs.log"
    first = solve(problem, dataclasses.replace(EXACT, log_file=str(log)))
    once = log.read_text()
    assert "MIP has 866 rows" in once and once.count("Solving report") == 1
    second = solve(problem, dataclasses.replace(EXACT, log_file=str(log)))
    twice = log.read_text()  # the second log after the first (timings aside, the same lines)
    assert twice.startswith(once) and twice.count("Solving report") == 2
    assert len(twice.splitlines()) == 2 * len(once.splitlines())
    missing = tmp_path / "no such folder" / "highs.log"
    third = solve(problem, dataclasses.replace(EXACT, log_file=str(missing)))
    assert not missing.exists()
    for solution in (first, second, third):
        assert solution.objective == pytest.approx(CAP41_OPTIMUM, abs=1e-6)


class _Sink:
    """A text stream that is not a terminal and keeps what was written."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_progress_reaches_a_display_and_the_plan_is_the_same_without() -> None:
    problem = to_problem(read_cap(instance_path("cap41")))
    quiet = solve(problem, EXACT)
    with progress.show("plain", stream=_Sink()) as display:
        shown = solve(problem, EXACT)
        figures = dict(display.solver)
    assert figures["incumbent"] == pytest.approx(CAP41_OPTIMUM, abs=1e-6)
    np.testing.assert_array_equal(quiet.open_site, shown.open_site)
    np.testing.assert_array_equal(quiet.served, shown.served)
    assert quiet.objective == shown.objective == pytest.approx(CAP41_OPTIMUM, abs=1e-6)


@pytest.mark.parametrize(
    ("name", "capacity", "optimum", "largest"),
    [
        ("cap41", "given", 1_040_444.375, 1_426_776.0),  # tests/data/orlib/capopt.csv
        ("cap71", "given", 932_615.750, 1_426_776.0),
        ("cap131", "given", 793_439.562, 1_538_949.0),
        ("cap71", "inf", 932_615.750, 1_426_776.0),  # uncapopt.csv
    ],
)
def test_orlib_costs_go_to_highs_unscaled_and_the_plan_is_that_of_the_old_scale(
    name: str, capacity: str, optimum: float, largest: float, monkeypatch
) -> None:
    """The OR-Library files' costs reach 1.43e6 and 1.54e6 (the cost of serving a customer's
    whole demand from a far warehouse): above 1e6, so the rule before SCALE_ABOVE scaled them
    by 2**-1 (1.54e6 / 2 <= 1e6); at or below 1e7 they now go to HiGHS as they are. Both
    scales give the published optimum and the same open warehouses."""
    problem = to_problem(read_cap(instance_path(name)), capacity)
    lp, _ = build_milp(problem)
    assert np.abs(lp.objective).max() == largest
    assert objective_scale(lp.objective) == 0
    unscaled = solve(problem, EXACT)
    monkeypatch.setattr(scaling, "SCALE_ABOVE", scaling.MAX_SCALED_COST)  # the rule before
    assert objective_scale(lp.objective) == -1
    scaled = solve(problem, EXACT)
    assert unscaled.objective == pytest.approx(optimum, abs=1e-3)  # published to 3 decimals
    assert scaled.objective == pytest.approx(optimum, abs=1e-3)
    assert unscaled.status == scaled.status == "optimal"
    np.testing.assert_array_equal(unscaled.open_site, scaled.open_site)
