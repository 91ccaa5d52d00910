"""A plan's idle open sites closed exactly (:func:`chargeplan.solver.polish.close_idle_sites`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import chargeplan
from chargeplan.inputs.prepare import prepare
from chargeplan.inputs.problem import build_problem
from chargeplan.model.solution import objective_value
from chargeplan.solver.highs import solve
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.polish import close_idle_sites


def test_an_idle_open_site_is_closed_and_its_cost_taken_off(tiny_scenario: Path) -> None:
    """The tiny plan opens s2 alone (test_pipeline derives it: total 24,700 + 11,100 +
    370,000). The same plan with s1 also open, serving nothing, with 3 DC chargers, costs
    10,000 + 3 x 1,000 more; closing s1 gives the optimum back, and the gap is recomputed
    against the same bound. A required site serving nothing stays open."""
    scenario = chargeplan.load_scenario(tiny_scenario)
    problem = build_problem(scenario, prepare(scenario))
    best = solve(problem, SolverOptions(time_limit_s=60, mip_rel_gap=0.0))
    assert best.open_site.tolist() == [False, True, False]
    assert close_idle_sites(problem, best) is best  # nothing to close
    chargers = best.chargers.copy()
    chargers[0, 0] = 3
    padded = dataclasses.replace(
        best,
        open_site=np.array([True, True, False]),
        chargers=chargers,
        objective=best.objective + 13_000,
        bound=best.objective - 100.0,
        status="time_limit",
    )
    assert objective_value(problem, padded)["total_cost"] == pytest.approx(padded.objective)
    closed = close_idle_sites(problem, padded)
    assert closed.open_site.tolist() == [False, True, False]
    assert closed.chargers[0].tolist() == [0, 0]
    assert closed.objective == pytest.approx(best.objective)
    assert objective_value(problem, closed)["total_cost"] == pytest.approx(closed.objective)
    assert closed.gap == pytest.approx(100.0 / best.objective)
    required = dataclasses.replace(problem, required=np.array([True, False, False]))
    assert close_idle_sites(required, padded).open_site.tolist() == [True, True, False]
