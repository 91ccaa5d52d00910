"""The design start on every solve path (``chargeplan.solver.modelstart``, issue 12).

The tiny station-design instances of ``tests/test_designstart.py`` (4 zones on a line, 3
sites, 3 designs: 4^3 = 64 choices, each leaving an assignment LP) are solved by every path
that reaches HiGHS: the array path, the array path with HiGHS's log on standard error (``-v``),
:func:`chargeplan.solve_model` (the Pyomo path), an ``extend=`` hook, and ``max_coverage``
with a budget. Each must find the optimum found by enumeration; ``-v`` must not change a plan.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest

import chargeplan
from chargeplan.model.designs import design_of
from chargeplan.model.formulation import build_milp
from chargeplan.model.problem import FacilityProblem
from chargeplan.solver.modelstart import model_design_start

from .design_instances import (
    EXACT,
    assignment_cost,
    enumerate_plans,
    least_unmet,
    line_instance,
)

PLAN_FIELDS = ("open_site", "chargers", "served", "unmet")


def least_cost(p: FacilityProblem, allowed=lambda chosen: True) -> float:
    """min capex + access + unmet penalty over the allowed choices."""
    return min(capex + assignment_cost(p, cap) for capex, _, cap in enumerate_plans(p, allowed))


def same_plan(a, b) -> None:
    for name in PLAN_FIELDS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@pytest.mark.parametrize("seed", range(4))
def test_verbose_gives_the_same_plan(seed: int, capfd: pytest.CaptureFixture[str]) -> None:
    """``log_to_stderr`` (``-v``) streams HiGHS's log and changes nothing: the same plan, the
    brute-force optimum, the design start in the formulation."""
    p = line_instance(seed)
    quiet = chargeplan.solve(p, EXACT)
    assert capfd.readouterr().err == ""
    loud = chargeplan.solve(p, dataclasses.replace(EXACT, log_to_stderr=True))
    err = capfd.readouterr().err
    same_plan(quiet, loud)
    assert quiet.objective == loud.objective == pytest.approx(least_cost(p), rel=1e-7)
    assert "design start" in loud.formulation and "no design start" not in loud.formulation
    assert "design start" in quiet.formulation
    # HiGHS's own log on standard error, unless the start was the plan (no HiGHS run then)
    assert "Solving report" in err or "0.00 % above the LP bound" in loud.formulation


@pytest.mark.parametrize("seed", range(4))
def test_pyomo_path_starts_and_finds_the_optimum(seed: int) -> None:
    """``solve_model(build_model(p))``: the design start on the Pyomo model, the same optimum
    and the same start as the array path (the same HiGHS model, the same LPs)."""
    p = line_instance(seed)
    best = least_cost(p)
    model = chargeplan.build_model(p)
    solution = chargeplan.solve_model(model, EXACT)
    assert solution.objective == pytest.approx(best, rel=1e-7)
    assert "design start: LP rounded" in solution.formulation
    direct = chargeplan.solve(p, dataclasses.replace(EXACT, reduce=False))
    assert direct.formulation == solution.formulation  # the same rounds, LPs and start gap
    assert direct.objective == pytest.approx(solution.objective, rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_extension_rows_hold_in_the_start(seed: int) -> None:
    """An ``extend=`` hook closing the site that the optimum uses most: the start is computed
    on the extended model (its LPs hold the row), and the plan is the optimum of the choices
    with that site closed, found by enumeration."""
    p = line_instance(seed)
    plans = enumerate_plans(p)
    best = min(plans, key=lambda plan: plan[0] + assignment_cost(p, plan[2]))
    closed = int(np.argmax(np.array(best[1])))  # a site the unrestricted optimum builds at

    def close_site(model, problem) -> None:
        import pyomo.environ as pyo

        model.closed = pyo.Constraint(expr=model.y[problem.site_ids[closed]] <= 0)

    assert best[1][closed] >= 0  # the instances' optimum builds at some site: one to close
    expected = least_cost(p, lambda chosen: chosen[closed] < 0)
    solution = chargeplan.solve(p, EXACT, extend=close_site)
    assert solution.objective == pytest.approx(expected, rel=1e-7)
    assert not solution.open_site[closed]
    assert "design start: LP rounded" in solution.formulation
    assert design_of(p, solution.chargers)[closed] == -1


def test_extension_with_integers_says_why_it_has_no_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An extension that adds a binary variable: the rounding fixes only ``y`` and ``z``, so
    the start does not apply; the formulation and a warning say so, the optimum is found."""
    p = line_instance(1)

    def with_binary(model, problem) -> None:
        import pyomo.environ as pyo

        model.w = pyo.Var(domain=pyo.Binary)
        model.w_link = pyo.Constraint(expr=model.w <= model.y[problem.site_ids[0]])

    with caplog.at_level(logging.WARNING, logger="chargeplan.solver.modelstart"):
        solution = chargeplan.solve(p, EXACT, extend=with_binary)
    assert "no design start: the extension adds integer variables" in solution.formulation
    assert any("no design start" in r.getMessage() for r in caplog.records)
    assert solution.objective == pytest.approx(least_cost(p), rel=1e-7)


BUDGETED = [(2, 2500.0), (4, 2500.0), (4, 5000.0), (1, 5000.0)]


@pytest.mark.parametrize(("seed", "budget"), BUDGETED)
def test_max_coverage_start_holds_the_budget(seed: int, budget: float) -> None:
    """``max_coverage`` within a budget: the start is a plan of the model, the budget row
    included (every row's activity within its bounds, capex <= budget), between the LP
    bound and the enumerated optimum, and the solve finds that optimum (least unmet demand
    over the affordable choices)."""
    p = dataclasses.replace(line_instance(seed), objective="max_coverage", budget=budget)
    affordable = [plan for plan in enumerate_plans(p) if plan[0] <= budget + 1e-9]
    best = min(least_unmet(p, cap) for _, _, cap in affordable)
    begun, words, _ = model_design_start(chargeplan.build_model(p), EXACT)
    assert begun is not None, words
    lp, ix = build_milp(p)
    matrix, row_lo, row_hi = lp.matrix()
    activity = matrix @ begun.values
    assert np.all(activity >= row_lo - 1e-6) and np.all(activity <= row_hi + 1e-6)
    y, z = begun.values[ix.cols("y")], begun.values[ix.cols("z")]
    capex = p.fixed_cost[ix.y_site] @ y + p.design_capex[ix.z_design] @ z
    assert capex <= budget + 1e-6
    assert begun.lp_bound <= best + 1e-6 <= begun.objective + 2e-6
    solution = chargeplan.solve(p, EXACT)
    assert solution.objective == pytest.approx(best, rel=1e-7, abs=1e-5)
    assert "design start: LP rounded" in solution.formulation


def test_max_coverage_without_a_start_says_why(caplog: pytest.LogCaptureFixture) -> None:
    """A budget (1,500) the rounded LP breaks: no start, a warning, still the optimum."""
    p = dataclasses.replace(line_instance(3), objective="max_coverage", budget=1500.0)
    affordable = [plan for plan in enumerate_plans(p) if plan[0] <= 1500.0 + 1e-9]
    best = min(least_unmet(p, cap) for _, _, cap in affordable)
    with caplog.at_level(logging.WARNING, logger="chargeplan.solver.modelstart"):
        solution = chargeplan.solve(p, EXACT)
    assert "no design start: an LP of the rounding was not optimal" in solution.formulation
    assert any("no design start" in r.getMessage() for r in caplog.records)
    assert solution.objective == pytest.approx(best, rel=1e-7)


def test_cli_run_with_and_without_v_writes_the_same_plan(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``chargeplan run`` of the tiny design scenario (``tests/test_designs.py``), with ``-v``
    and with ``--quiet``: the same sites, zones and stations files, and HiGHS's log on
    standard error only with ``-v`` (when HiGHS runs after the start)."""
    from chargeplan.cli import main

    from .design_instances import write_design_scenario

    path = write_design_scenario(tmp_path / "tiny")
    flags = ["--no-map", "--no-report"]
    assert main(["run", str(path), "--out", str(tmp_path / "q"), "--quiet", *flags]) == 0
    assert capsys.readouterr().err == ""
    assert main(["run", str(path), "--out", str(tmp_path / "v"), "-v", *flags]) == 0
    assert "design start" in capsys.readouterr().err
    for name in ("sites.csv", "zones.csv", "stations.csv"):
        quiet, loud = (tmp_path / "q" / name).read_bytes(), (tmp_path / "v" / name).read_bytes()
        assert quiet == loud, name


def test_lazy_links_say_why_they_have_no_start(caplog: pytest.LogCaptureFixture) -> None:
    """``pair_links = "lazy"`` on the array path: the cut loop runs instead of the start (the
    rounding needs every link row); the formulation and a warning say so, the optimum holds."""
    p = dataclasses.replace(line_instance(2), pair_links="lazy")
    with caplog.at_level(logging.WARNING, logger="chargeplan.solver.direct"):
        solution = chargeplan.solve(p, EXACT)
    assert solution.formulation.endswith("; no design start: model.pair_links = 'lazy'")
    assert any("no design start" in r.getMessage() for r in caplog.records)
    assert solution.objective == pytest.approx(least_cost(p), rel=1e-7)
