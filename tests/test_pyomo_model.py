"""The labelled Pyomo model and its extension hook, against answers derived in the tests.

Two small instances, written out below:

- ``UFL``: facility location without charger sizing, uncapacitated sites, per-unit pair costs.
  For a set of open sites the cost is closed-form: fixed costs plus, for each zone, its
  demand times the cheapest open site in reach or the unmet penalty, whichever is less. The
  tests enumerate every set of open sites (2^6 = 64).
- ``SIZED``: one charger type, ``q = 10`` demand per charger, at most 3 chargers per site,
  sites in two provinces. A design is the charger count of every site (4^4 = 256 designs);
  each leaves a small LP in the shares (``scipy.optimize.linprog``) solved here, plus fixed
  costs of the sites with chargers and the charger costs.

Each extension is written the Pyomo way, over ``model.y[site]``, ``model.n[site, type]``,
``model.u[zone, type]``; the optimum found by ``chargeplan.solve(..., extend=...)`` must equal
the enumerated optimum under the same extra constraint, and the plan must obey it.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from scipy.optimize import linprog

import chargeplan
from chargeplan.model.formulation import build_model
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import objective_value, read_solution
from chargeplan.solver.extend import extend_model
from chargeplan.solver.highs import solve, solve_model
from chargeplan.solver.interface import (
    SparseHighs,
    UntestedPyomoError,
    check_pyomo_version,
)
from chargeplan.solver.options import SolverOptions

EXACT = SolverOptions(time_limit_s=30, mip_rel_gap=0)
REL = 1e-7

# --------------------------------------------------------------------------------------------
# instances
# --------------------------------------------------------------------------------------------

#: zone -> demand; (zone, site) -> cost per unit of demand. Z6 has Z1's reach and unit costs
#: (zone merging takes them together); S6 reaches only Z1 and Z6, dearer than S1 in every
#: respect (dominated: site dropping removes it).
UFL_ZONES = {"Z1": 10.0, "Z2": 8.0, "Z3": 12.0, "Z4": 6.0, "Z5": 9.0, "Z6": 7.0}
UFL_FIXED = {"S1": 14.0, "S2": 11.0, "S3": 16.0, "S4": 9.0, "S5": 13.0, "S6": 20.0}
UFL_UNIT = {
    ("Z1", "S1"): 1.0,
    ("Z1", "S2"): 2.5,
    ("Z1", "S6"): 1.4,
    ("Z2", "S1"): 1.5,
    ("Z2", "S3"): 0.4,
    ("Z3", "S2"): 0.9,
    ("Z3", "S4"): 0.8,
    ("Z4", "S3"): 0.9,
    ("Z4", "S5"): 0.3,
    ("Z5", "S4"): 1.3,
    ("Z5", "S5"): 0.7,
    ("Z6", "S1"): 1.0,
    ("Z6", "S2"): 2.5,
    ("Z6", "S6"): 1.4,
}
UFL_PENALTY = 4.0


def ufl(objective: str = "min_cost", unit: dict | None = None, **kwargs) -> FacilityProblem:
    unit = UFL_UNIT if unit is None else unit
    return FacilityProblem.from_cost_table(
        pd.DataFrame({"zone_id": list(UFL_ZONES), "demand": list(UFL_ZONES.values())}),
        pd.DataFrame({"site_id": list(UFL_FIXED), "fixed_cost": list(UFL_FIXED.values())}),
        pd.DataFrame(
            [(z, s, c) for (z, s), c in unit.items()], columns=["zone_id", "site_id", "cost"]
        ),
        cost_basis="per_unit",
        unmet_penalty=UFL_PENALTY,
        objective=objective,
        **kwargs,
    )


def ufl_cost(open_sites: set[str], unit: dict, served: set[str] = frozenset()) -> float:
    """Closed-form cost of a set of open sites; ``served`` zones may not go unmet (inf)."""
    cost = sum(UFL_FIXED[s] for s in open_sites)
    for zone, demand in UFL_ZONES.items():
        reach = [c for (z, s), c in unit.items() if z == zone and s in open_sites]
        best = min(reach, default=np.inf)
        if zone in served:
            cost += demand * best
        else:
            cost += demand * min(best, UFL_PENALTY)
    return cost


def ufl_optimum(unit: dict = UFL_UNIT, allowed=lambda sites: True, served=frozenset()):
    """The least closed-form cost over every set of open sites that ``allowed`` accepts."""
    best, argbest = np.inf, None
    for r in range(len(UFL_FIXED) + 1):
        for chosen in itertools.combinations(UFL_FIXED, r):
            if allowed(set(chosen)):
                cost = ufl_cost(set(chosen), unit, served)
                if cost < best:
                    best, argbest = cost, set(chosen)
    return best, argbest


SIZED_SITES = {"GD1": 15.0, "GD2": 12.0, "HN1": 18.0, "HN2": 10.0}
PROVINCE = {"GD1": "GD", "GD2": "GD", "HN1": "HN", "HN2": "HN"}
SIZED_ZONES = {"A": 14.0, "B": 9.0, "C": 11.0, "D": 7.0, "E": 13.0}
SIZED_UNIT = {
    ("A", "GD1"): 0.5,
    ("A", "HN1"): 2.0,
    ("B", "GD1"): 0.8,
    ("B", "GD2"): 0.6,
    ("C", "GD2"): 0.4,
    ("C", "HN2"): 1.5,
    ("D", "HN1"): 0.7,
    ("D", "HN2"): 0.9,
    ("E", "GD2"): 1.0,
    ("E", "HN2"): 1.6,
}
Q, MOST, PRICE, PENALTY = 10.0, 3, 20.0, 9.0


def sized(existing: dict | None = None) -> FacilityProblem:
    zones, sites = list(SIZED_ZONES), list(SIZED_SITES)
    pair_zone = np.array([zones.index(z) for z, _ in SIZED_UNIT])
    pair_site = np.array([sites.index(s) for _, s in SIZED_UNIT])
    demand = np.array(list(SIZED_ZONES.values()))
    existing_chargers = np.zeros((len(sites), 1))
    for site, count in (existing or {}).items():
        existing_chargers[sites.index(site), 0] = count
    return FacilityProblem(
        zone_ids=np.array(zones, dtype=object),
        site_ids=np.array(sites, dtype=object),
        types=("dc_fast",),
        demand=demand[:, None],
        pair_zone=pair_zone,
        pair_site=pair_site,
        pair_cost=(np.array(list(SIZED_UNIT.values())) * demand[pair_zone])[:, None],
        fixed_cost=np.array(list(SIZED_SITES.values())),
        site_capacity=np.full(len(sites), np.inf),
        charger_capacity=np.array([Q]),
        charger_cost=np.full((len(sites), 1), PRICE),
        max_chargers=np.full((len(sites), 1), float(MOST)),
        unmet_penalty=np.array([PENALTY]),
        existing_chargers=existing_chargers,
    )


def design_cost(problem: FacilityProblem, chargers: np.ndarray) -> float:
    """Cost of a charger design: fixed and charger costs plus the LP of the best shares."""
    p, z = len(problem.pair_zone), len(problem.zone_ids)
    d = problem.demand[:, 0]
    cost = np.concatenate([problem.pair_cost[:, 0], PENALTY * d])
    a_eq = np.zeros((z, p + z))
    a_eq[problem.pair_zone, np.arange(p)] = 1.0
    a_eq[np.arange(z), p + np.arange(z)] = 1.0
    a_ub = np.zeros((len(chargers), p + z))
    a_ub[problem.pair_site, np.arange(p)] = d[problem.pair_zone]
    lp = linprog(cost, A_ub=a_ub, b_ub=Q * chargers, A_eq=a_eq, b_eq=np.ones(z), bounds=(0, 1))
    assert lp.status == 0
    new = chargers - problem.existing_chargers[:, 0]
    return lp.fun + problem.fixed_cost @ (chargers > 0) + PRICE * new.sum()


@pytest.fixture(scope="module")
def sized_designs() -> dict[tuple[int, ...], float]:
    problem = sized()
    return {
        n: design_cost(problem, np.array(n, float))
        for n in itertools.product(range(MOST + 1), repeat=len(SIZED_SITES))
    }


def cap_dc_in_gd(model: pyo.ConcreteModel, problem: FacilityProblem) -> None:
    """At most 2 DC chargers in Guangdong, over the chargers the model has there."""
    gd = [(site, "dc_fast") for site in model.sites if PROVINCE[site] == "GD"]
    model.gd_dc_cap = pyo.Constraint(expr=sum(model.n[i] for i in gd if i in model.n) <= 2)


# --------------------------------------------------------------------------------------------
# the labelled model
# --------------------------------------------------------------------------------------------


def test_variables_and_rows_are_indexed_by_ids() -> None:
    model = build_model(sized())
    assert list(model.sites) == list(SIZED_SITES) and list(model.types) == ["dc_fast"]
    assert model.y["GD1"].name == "y[GD1]"
    assert model.n["HN2", "dc_fast"].ub == MOST
    assert model.x["A", "GD1", "dc_fast"].bounds == (0, 1)
    assert ("A", "GD2", "dc_fast") not in model.x  # no such pair
    assert len(model.x) == len(SIZED_UNIT) and len(model.y) == len(SIZED_SITES)
    # rows carry the labels of what they constrain: capacity of GD1 = zones A and B
    body = model.capacity["GD1", "dc_fast"].body
    terms = {v.name: c for c, v in zip(body.linear_coefs, body.linear_vars, strict=True)}
    assert terms == {"x[A,GD1,dc_fast]": 14.0, "x[B,GD1,dc_fast]": 9.0, "n[GD1,dc_fast]": -Q}
    assert model.assign["C", "dc_fast"].equality


def test_ids_must_be_distinct() -> None:
    problem = sized()
    twice = dataclasses.replace(problem, site_ids=np.array(["GD1", "GD2", "GD1", "HN2"], object))
    with pytest.raises(chargeplan.InputError, match="labels occur twice"):
        build_model(twice)


def test_objective_includes_its_constant() -> None:
    """Existing chargers are sunk: 2 at HN2 make the constant -2 * 20; the objective's value
    at the solved plan is the plan's cost recomputed from its decisions."""
    problem = sized(existing={"HN2": 2})
    model = build_model(problem)
    assert model.obj.constant == -2 * PRICE
    assert not hasattr(model, "objective_offset")
    solution = solve_model(model, EXACT)
    total = objective_value(problem, solution)["total_cost"]
    assert pyo.value(model.obj) == pytest.approx(total, rel=REL)
    assert solution.objective == pytest.approx(total, rel=REL)
    assert solve(problem, EXACT).objective == solution.objective


def test_same_model_gives_highs_the_same_columns() -> None:
    """Two builds hand HiGHS the same columns in the same order (a deterministic search)."""

    def handed_over() -> list[str]:
        solver = SparseHighs()
        solver.set_instance(build_model(ufl()))
        return [v.name for v in solver._columns]

    first = handed_over()
    assert first == handed_over()
    # a facility-location model: its y first (chargeplan.model.links.integers_first), then x
    blocks = [name.split("[")[0] for name in first]
    opened = blocks.count("y")
    assert opened > 0 and set(blocks[:opened]) == {"y"}
    assert blocks[opened] == "x"


# --------------------------------------------------------------------------------------------
# extensions, against enumeration
# --------------------------------------------------------------------------------------------


def test_at_most_two_sites() -> None:
    """Unconstrained the optimum opens three sites; the user's row allows two."""
    free, free_sites = ufl_optimum()
    assert len(free_sites) == 3
    best, _ = ufl_optimum(allowed=lambda sites: len(sites) <= 2)
    assert best > free + 1.0

    def at_most_two(model: pyo.ConcreteModel, problem: FacilityProblem) -> None:
        model.at_most_two = pyo.Constraint(expr=pyo.quicksum(model.y.values()) <= 2)

    problem = ufl()
    solution = solve(problem, EXACT, extend=at_most_two)
    assert solution.objective == pytest.approx(best, rel=REL)
    assert solution.open_site.sum() <= 2
    assert objective_value(problem, solution)["total_cost"] == pytest.approx(best, rel=REL)
    assert solve(problem, EXACT).objective == pytest.approx(free, rel=REL)


def test_dc_cap_in_one_province(sized_designs: dict) -> None:
    """At most 2 DC chargers at Guangdong's sites: the optimum over the designs that obey it."""
    free = min(sized_designs.values())
    gd = [i for i, site in enumerate(SIZED_SITES) if PROVINCE[site] == "GD"]
    capped = min(cost for n, cost in sized_designs.items() if sum(n[i] for i in gd) <= 2)
    assert capped > free + 1.0  # the cap binds
    problem = sized()
    solution = solve(problem, EXACT, extend=cap_dc_in_gd)
    assert solution.objective == pytest.approx(capped, rel=REL)
    assert solution.chargers[gd].sum() <= 2
    design = tuple(int(c) for c in solution.chargers[:, 0])
    assert sized_designs[design] == pytest.approx(capped, rel=REL)
    assert solve(problem, EXACT).objective == pytest.approx(free, rel=REL)


def test_extended_model_solved_by_pyomo_appsi_highs(sized_designs: dict) -> None:
    """Pyomo's own HiGHS interface, one expression per row, finds the same optimum, and
    read_solution decodes its plan."""
    model = build_model(sized())
    cap_dc_in_gd(model, model.chargeplan.problem)
    ours = solve_model(model, EXACT)
    other = build_model(sized())
    cap_dc_in_gd(other, other.chargeplan.problem)
    appsi = pyo.SolverFactory("appsi_highs")
    appsi.config.mip_gap = 0.0
    result = appsi.solve(other)
    assert result.solver.termination_condition == pyo.TerminationCondition.optimal
    assert pyo.value(other.obj) == pytest.approx(ours.objective, rel=REL)
    plan = read_solution(other)
    assert plan.objective == pytest.approx(ours.objective, rel=REL)
    design = tuple(int(c) for c in plan.chargers[:, 0])
    assert sized_designs[design] == pytest.approx(ours.objective, rel=REL)


def test_lp_file_with_labels_round_trips(tmp_path: Path) -> None:
    """Written with symbolic labels, read back by HiGHS, solved: the same objective, constant
    included (existing chargers), and the columns named after the sites."""
    problem = sized(existing={"HN2": 1})
    model = build_model(problem)
    cap_dc_in_gd(model, problem)
    expected = solve_model(model, EXACT).objective
    path = tmp_path / "plan.lp"
    model.write(str(path), io_options={"symbolic_solver_labels": True})
    text = path.read_text()
    assert "n(GD1_dc_fast)" in text and "y(HN2)" in text and "gd_dc_cap" in text
    assert "capacity(GD2_dc_fast)" in text and "assign(A_dc_fast)" in text
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", 0.0)
    assert highs.readModel(str(path)) == highspy.HighsStatus.kOk
    highs.run()
    assert highs.getInfo().objective_function_value == pytest.approx(expected, rel=REL)
    names = set(highs.getLp().col_names_)
    assert {"y(GD1)", "n(HN1_dc_fast)", "x(A_GD1_dc_fast)", "u(E_dc_fast)"} <= names


def test_objective_term_added_the_pyomo_way() -> None:
    """+5 per open site S4 is the problem with S4's fixed cost raised by 5. Added with ``+=``,
    the term is kept apart from the cost vector, which still goes to HiGHS as an array."""

    def dearer_s4(model: pyo.ConcreteModel, problem: FacilityProblem) -> None:
        model.obj.expr += 5.0 * model.y["S4"]

    problem = ufl()
    fixed = problem.fixed_cost.copy()
    fixed[list(UFL_FIXED).index("S4")] += 5.0
    expected = solve(dataclasses.replace(problem, fixed_cost=fixed), EXACT).objective
    assert solve(problem, EXACT, extend=dearer_s4).objective == pytest.approx(expected, rel=REL)
    model = build_model(problem)
    dearer_s4(model, problem)
    assert model.obj.weights is not None and str(model.obj.extra) == "5.0*y[S4]"
    assert solve_model(model, EXACT).objective == pytest.approx(expected, rel=REL)


def test_objective_rewritten_the_pyomo_way() -> None:
    """Twice the cost, constant included (one existing charger): Pyomo's path, same plan."""
    problem = sized(existing={"HN2": 1})
    model = build_model(problem)
    model.obj.expr = 2 * model.obj.expr
    assert model.obj.weights is None
    once = solve(problem, EXACT)
    twice = solve_model(model, EXACT)
    assert twice.objective == pytest.approx(2 * once.objective, rel=REL)
    np.testing.assert_array_equal(twice.chargers, once.chargers)


# --------------------------------------------------------------------------------------------
# extensions and the exact reductions
# --------------------------------------------------------------------------------------------


def test_footprint_names_the_sites_and_zones_touched() -> None:
    def rows(model: pyo.ConcreteModel, problem: FacilityProblem) -> None:
        model.one = pyo.Constraint(expr=model.y["S2"] + model.u["Z3", "demand"] <= 1)
        model.assign["Z5", "demand"].deactivate()
        model.x["Z4", "S5", "demand"].setub(0.5)

    model = build_model(ufl())
    footprint = extend_model(model, rows)
    sites = {s for s, on in zip(UFL_FIXED, footprint.sites, strict=True) if on}
    zones = {z for z, on in zip(UFL_ZONES, footprint.zones, strict=True) if on}
    assert sites == {"S2", "S4", "S5"}  # S4 and S5: the deactivated row's shares of Z5
    assert zones == {"Z3", "Z4", "Z5"}
    assert footprint.assignment and not footprint.objective


def test_constraint_on_a_zone_keeps_it_out_of_zone_merging() -> None:
    """Z1 and Z6 share reach and unit costs, so the reductions merge them. Serving costs 5 per
    unit from S1, above the penalty of 4: both stay unmet at the optimum. The user requires Z1
    served; merged, that requirement would serve Z6 too. Z1 must stay a zone of its own."""
    unit = {**UFL_UNIT, ("Z1", "S1"): 5.0, ("Z6", "S1"): 5.0}
    del unit["Z1", "S2"], unit["Z6", "S2"], unit["Z1", "S6"], unit["Z6", "S6"]
    best, sites = ufl_optimum(unit, served={"Z1"})
    assert "S1" in sites

    def serve_z1(model: pyo.ConcreteModel, problem: FacilityProblem) -> None:
        model.serve_z1 = pyo.Constraint(expr=model.u["Z1", "demand"] == 0)

    problem = ufl(unit=unit)
    solution = solve(problem, EXACT, extend=serve_z1)
    assert solution.objective == pytest.approx(best, rel=REL)
    zones = list(UFL_ZONES)
    assert solution.unmet[zones.index("Z1"), 0] == 0.0
    assert solution.unmet[zones.index("Z6"), 0] == pytest.approx(1.0)


def test_constraint_on_a_dominated_site_keeps_it() -> None:
    """S6 is dominated by S1 (same zones, dearer), so the reductions drop it; the user
    requires it open."""
    best, sites = ufl_optimum(allowed=lambda sites: "S6" in sites)
    assert "S6" in sites

    def open_s6(model: pyo.ConcreteModel, problem: FacilityProblem) -> None:
        model.y["S6"].fix(1)

    solution = solve(ufl(), EXACT, extend=open_s6)
    assert solution.objective == pytest.approx(best, rel=REL)
    assert solution.open_site[list(UFL_FIXED).index("S6")]


def test_extension_that_differs_on_the_reduced_problem_is_solved_unreduced(caplog) -> None:
    """An extension computed from the problem's size (at most 6 - 4 = 2 sites) adds another
    row to the reduced problem, which has a zone fewer (Z1 and Z6 merged): chargeplan sees
    that the two extensions differ and solves the problem as given."""

    def sites_by_size(model: pyo.ConcreteModel, problem: FacilityProblem) -> None:
        limit = len(problem.zone_ids) - 4
        model.limit = pyo.Constraint(expr=pyo.quicksum(model.y.values()) <= limit)

    best, _ = ufl_optimum(allowed=lambda sites: len(sites) <= 2)
    with caplog.at_level("INFO", logger="chargeplan.solver.highs"):
        solution = solve(ufl(), EXACT, extend=sites_by_size)
    assert "the extension differs on the reduced problem" in caplog.text
    assert solution.objective == pytest.approx(best, rel=REL)
    assert solution.open_site.sum() <= 2


def test_maximal_covering_with_a_regional_limit_keeps_both_stages() -> None:
    """Pure covering (zero pair costs, two sites): the user allows one of S1, S2, S6. First the
    least unmet demand, then the least fixed cost among the plans that reach it."""
    unit = {pair: 0.0 for pair in UFL_UNIT}
    region = {"S1", "S2", "S6"}

    def allowed(sites: set) -> bool:
        return len(sites) <= 2 and len(sites & region) <= 1

    def unmet(sites: set) -> float:
        return sum(d for z, d in UFL_ZONES.items() if not any((z, s) in unit for s in sites))

    plans = [set(c) for r in range(3) for c in itertools.combinations(UFL_FIXED, r)]
    least = min(unmet(s) for s in plans if allowed(s))
    cheapest = min(sum(UFL_FIXED[j] for j in s) for s in plans if allowed(s) and unmet(s) == least)

    def one_in_region(model: pyo.ConcreteModel, problem: FacilityProblem) -> None:
        model.region = pyo.Constraint(expr=sum(model.y[s] for s in sorted(region)) <= 1)

    problem = ufl("max_coverage", unit=unit, max_sites=2)
    solution = solve(problem, EXACT, extend=one_in_region)
    assert solution.objective == pytest.approx(least, rel=REL)
    assert len(solution.stages) == 2
    opened = {s for s, on in zip(UFL_FIXED, solution.open_site, strict=True) if on}
    assert allowed(opened)
    assert sum(UFL_FIXED[s] for s in opened) == pytest.approx(cheapest, rel=REL)


def test_changed_objective_solves_max_coverage_once() -> None:
    def prefer_s4(model: pyo.ConcreteModel, problem: FacilityProblem) -> None:
        model.obj.expr -= 0.5 * model.y["S4"]

    problem = ufl("max_coverage", unit={p: 0.0 for p in UFL_UNIT}, max_sites=1)
    solution = solve(problem, EXACT, extend=prefer_s4)
    assert len(solution.stages) == 1


def test_public_names() -> None:
    """The extension hook and the model round trip need no private name."""
    for name in ("build_model", "solve", "solve_model", "read_solution"):
        assert callable(getattr(chargeplan, name))
    model = chargeplan.build_model(ufl())
    model.at_most_one = pyo.Constraint(expr=sum(model.y[s] for s in model.y_index) <= 1)
    solution = chargeplan.solve_model(model, EXACT)
    best, _ = ufl_optimum(allowed=lambda sites: len(sites) <= 1)
    assert solution.objective == pytest.approx(best, rel=REL)
    assert chargeplan.read_solution(model).open_site.sum() == 1


# --------------------------------------------------------------------------------------------
# the Pyomo versions the interface is tested with
# --------------------------------------------------------------------------------------------


def test_untested_pyomo_is_refused_unless_allowed(monkeypatch) -> None:
    check_pyomo_version()  # the installed one is tested
    check_pyomo_version((6, 9, 2))
    check_pyomo_version((6, 10, 9))
    for untested in ((6, 9, 1), (6, 11, 0)):
        with pytest.raises(UntestedPyomoError, match=r"tested with Pyomo 6\.9\.2 to 6\.10"):
            check_pyomo_version(untested)
    monkeypatch.setenv("CHARGEPLAN_UNTESTED_PYOMO", "1")
    with pytest.warns(RuntimeWarning, match=r"found Pyomo 7\.0\.0"):
        check_pyomo_version((7, 0, 0))
