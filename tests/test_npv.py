"""The NPV objective (``model.objective = "max_npv"``, issue 15 items 1-3) and state support in
the cost model: optima derived by hand or by brute force on small instances, the model's NPV
against the reported station economics, and support that never raises the least cost.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import chargeplan
from chargeplan.errors import ScenarioError
from chargeplan.inputs.economics_tables import read_support, read_tariffs
from chargeplan.model.npv import (
    ConstructionSupport,
    NpvTerms,
    construction_extension,
    npv_of_decisions,
    npv_problem,
)
from chargeplan.model.problem import FacilityProblem
from chargeplan.results.economics import station_economics
from chargeplan.solver.highs import solve
from chargeplan.solver.options import SolverOptions

from . import conftest
from .economics_instance import FULL, economics_section

EXACT = SolverOptions(time_limit_s=30, mip_rel_gap=0.0, threads=1)


def two_sites(**changes: object) -> FacilityProblem:
    """One zone with 10 design-hour kWh of one type; sites A and B reach it; a charger serves
    5 kWh (2 chargers serve it all); A costs 20,000 to open and 4,000 a charger, B 18,000 and
    4,000. Unmet price 1 per kWh (the service standard, nearly free here)."""
    values: dict[str, object] = {
        "zone_ids": np.array(["Z"], object),
        "site_ids": np.array(["A", "B"], object),
        "types": ("dc",),
        "demand": np.array([[10.0]]),
        "pair_zone": np.array([0, 0]),
        "pair_site": np.array([0, 1]),
        "pair_cost": np.array([[50.0], [80.0]]),  # access cost: not the operator's, dropped
        "fixed_cost": np.array([20_000.0, 18_000.0]),
        "site_capacity": np.full(2, np.inf),
        "charger_capacity": np.array([5.0]),
        "charger_cost": np.array([[4_000.0], [4_000.0]]),
        "max_chargers": np.array([[4.0], [4.0]]),
        "unmet_penalty": np.array([1.0]),
    }
    return FacilityProblem(**{**values, **changes})  # type: ignore[arg-type]


def terms(revenue: list[float], **changes: object) -> NpvTerms:
    """Station lease 5,000 and 1,000 a charger (present values), no support, lifetime 2."""
    values: dict[str, object] = {
        "revenue_per_kwh": np.array(revenue, float),
        "station_cost": np.array([5_000.0, 5_000.0]),
        "charger_cost": np.array([[1_000.0], [1_000.0]]),
        "design_cost": None,
        "construction": ConstructionSupport(np.zeros((2, 1)), np.full(2, np.inf)),
        "operation_per_kwh": np.zeros((2, 2)),
        "operation_per_charger": np.zeros((2, 1, 2)),
        "operation_cap": np.full((2, 2), np.inf),
        "discount": np.array([1 / 1.1, 1 / 1.1**2]),
    }
    return NpvTerms(**{**values, **changes})  # type: ignore[arg-type]


def solve_npv(problem: FacilityProblem, npv_terms: NpvTerms) -> tuple[object, float]:
    npv = npv_problem(problem, npv_terms)
    solution = solve(npv.problem, EXACT, extend=npv.extension)
    return solution, npv.offset


def test_most_npv_of_two_sites_by_hand() -> None:
    """A earns e_A = 5,000 per design-hour kWh, B e_B = 4,800 (present values).

    Serving all 10 kWh needs 2 chargers. From A: 50,000 - 20,000 - 2 x 4,000 - 5,000 - 2 x
    1,000 = 15,000. From B (opening 18,500): 48,000 - 18,500 - 8,000 - 5,000 - 2,000 = 14,500.
    One charger at A (5 kWh): 25,000 - 20,000 - 4,000 - 5,000 - 1,000 = -5,000; both sites:
    two openings, worse. Nothing: -10 x 1 (unmet price). The optimum: A with 2 chargers, NPV
    15,000. The least-cost plan that must serve (unmet price 10,000 per kWh; access cost 50 at
    A, 80 at B) opens B instead: 18,500 + 8,000 + 80 < 20,000 + 8,000 + 50.
    """
    problem = two_sites(fixed_cost=np.array([20_000.0, 18_500.0]))
    npv_terms = terms([5_000.0, 4_800.0])
    solution, offset = solve_npv(problem, npv_terms)
    assert solution.open_site.tolist() == [True, False]  # type: ignore[attr-defined]
    assert solution.chargers.tolist() == [[2], [0]]  # type: ignore[attr-defined]
    assert npv_of_decisions(problem, npv_terms, solution) == pytest.approx(15_000)  # type: ignore[arg-type]
    # the solver's objective is -NPV + penalties (0: all served) + offset (5,000 x 10)
    assert offset == pytest.approx(50_000)
    assert solution.objective == pytest.approx(-15_000 + offset)  # type: ignore[attr-defined]
    least_cost = solve(dataclasses.replace(problem, unmet_penalty=np.array([10_000.0])), EXACT)
    assert least_cost.open_site.tolist() == [False, True]


def test_no_revenue_builds_only_what_the_standard_requires() -> None:
    """Revenue 0 (an own-network share of 0): with a nearly free unmet price nothing is built;
    with a coverage target (half of the group's demand, 10,000 per kWh short) the cheapest plan
    that meets it, by brute force over the site and its chargers (cost f_j + 5,000 lease + 5,000
    per charger, penalties 10,000 per kWh short of 5 kWh and 1 per unmet kWh):
    B with 1 charger, 18,000 + 5,000 + 5,000 = 28,000, serving 5 kWh, exactly the target."""
    problem = two_sites()
    solution, _ = solve_npv(problem, terms([0.0, 0.0]))
    assert not solution.open_site.any()  # type: ignore[attr-defined]
    targeted = two_sites(
        target_group=np.array([0]),
        target_names=("urban",),
        target_share=np.array([0.5]),
        target_price=np.array([10_000.0]),
    )
    npv_terms = terms([0.0, 0.0])
    solution, offset = solve_npv(targeted, npv_terms)
    plans = [(0.0, 0.0)]  # (cost, served) of building nothing
    for site, count in itertools.product(range(2), range(1, 5)):
        cost = targeted.fixed_cost[site] + 5_000 + count * (4_000 + 1_000)
        plans.append((cost, min(5.0 * count, 10.0)))
    best_cost, best_served = min(
        plans, key=lambda p: p[0] + 10_000 * max(0.0, 5.0 - p[1]) + (10.0 - p[1])
    )
    assert (best_cost, best_served) == (28_000, 5.0)
    assert npv_of_decisions(targeted, npv_terms, solution) == pytest.approx(-best_cost)  # type: ignore[arg-type]
    served = 10.0 * (1 - solution.unmet[0, 0])  # type: ignore[attr-defined]
    assert served == pytest.approx(5.0)  # not a kWh beyond the standard
    assert solution.objective == pytest.approx(best_cost + 5.0 + offset)  # type: ignore[attr-defined]


def test_caps_are_carried_exactly_by_variables() -> None:
    """A and B earn 5,000 per kWh. Construction support at A: 3,000 per charger capped at
    4,000 a station (2 chargers: min(6,000, 4,000) = 4,000). Operation support at B: 600 per
    charger and year, capped at 1,000 a year: 2 chargers earn min(1,200, 1,000) = 1,000 a
    year, 1,000 / 1.1 + 1,000 / 1.21 = 1,735.54 in present value.
    NPV at A: 15,000 + 4,000 = 19,000; at B: 50,000 - 18,000 - 8,000 - 7,000 + 1,735.54 =
    18,735.54. A wins; with A's cap at 2,000: 17,000, B wins."""
    construction = ConstructionSupport(np.array([[3_000.0], [0.0]]), np.array([4_000.0, np.inf]))
    operation = {
        "operation_per_charger": np.array([[[0.0, 0.0]], [[600.0, 600.0]]]),
        "operation_cap": np.array([[np.inf, np.inf], [1_000.0, 1_000.0]]),
    }
    npv_terms = terms([5_000.0, 5_000.0], construction=construction, **operation)
    problem = two_sites()
    solution, offset = solve_npv(problem, npv_terms)
    assert solution.open_site.tolist() == [True, False]  # type: ignore[attr-defined]
    assert npv_of_decisions(problem, npv_terms, solution) == pytest.approx(19_000)  # type: ignore[arg-type]
    assert solution.objective == pytest.approx(-19_000 + offset)  # type: ignore[attr-defined]
    lower = ConstructionSupport(construction.per_charger, np.array([2_000.0, np.inf]))
    npv_terms = terms([5_000.0, 5_000.0], construction=lower, **operation)
    solution, offset = solve_npv(problem, npv_terms)
    assert solution.open_site.tolist() == [False, True]  # type: ignore[attr-defined]
    expected = 18_000 + 1_000 / 1.1 + 1_000 / 1.1**2 - 1_000
    assert npv_of_decisions(problem, npv_terms, solution) == pytest.approx(expected)  # type: ignore[arg-type]
    assert solution.objective == pytest.approx(-expected + offset)  # type: ignore[attr-defined]


def test_more_support_never_raises_the_least_cost_objective_with_caps_and_designs() -> None:
    """Seeded loop: random two-site instances, with and without a design menu; construction
    support per charger and its cap each scaled up in steps. Support only lowers costs (a cap
    only limits a discount), so the least cost never rises; it falls from none to some."""
    rng = np.random.default_rng(15)
    for case in range(6):
        designs = case % 2 == 1
        extra: dict[str, object] = {}
        if designs:
            extra = {
                "design_names": ("two", "four"),
                "design_stalls": np.array([[2.0], [4.0]]),
                "design_kva": np.array([200.0, 400.0]),
                "design_capex": np.array([9_000.0, 16_000.0]),
            }
        problem = two_sites(
            demand=np.array([[float(rng.integers(4, 20))]]),
            fixed_cost=rng.uniform(5_000, 20_000, 2),
            unmet_penalty=np.array([10_000.0]),  # all demand is served
            **extra,
        )
        per_charger = rng.uniform(500, 4_000, (2, 1))
        cap = rng.uniform(1_000, 8_000, 2)
        objectives = []
        for scale in (0.0, 0.5, 1.0, 2.0):
            support = ConstructionSupport(
                per_charger * scale, np.where([True, False], cap * (1 + scale), np.inf)
            )
            direct = np.where(support.capped[:, None] | designs, 0.0, support.per_charger)
            netted = FacilityProblem(
                **{
                    **problem.__dict__,
                    "charger_cost": np.maximum(problem.charger_cost - direct, 0.0),
                }
            )
            carried = ConstructionSupport(support.per_charger - direct, support.cap)
            hook = construction_extension(problem.site_ids, carried)
            objectives.append(solve(netted, EXACT, extend=hook).objective)
        assert all(b <= a + 1e-6 for a, b in itertools.pairwise(objectives)), objectives
        assert objectives[-1] < objectives[0]


TARIFF = """\
region,band,hours,energy_cost_cny_per_kwh,energy_price_cny_per_kwh,service_fee_cny_per_kwh,source
*,peak,10-15;18-21,1.0,1.0,0.9,test
*,other,21-10;15-18,0.4,0.5,0.8,test
two,all,0-24,0.6,0.6,{fee_two},test
"""
SUPPORT = """\
version,region,kind,value,min_power_kw,max_power_kw,valid_from,valid_to,source
v1,*,demand_charge_exempt,1,,,2023,2031,national exemption in the first two years
v1,one,construction_per_kw,20,,,2020,,one's construction support
v1,one,construction_cap_per_station_cny,1500,,,2020,,one's cap
v1,two,operation_per_kwh,0.05,,,2020,,two's operation support
v1,two,operation_per_kw_year,5,,,2020,,two's per kW
v1,two,operation_cap_per_station_year_cny,2500,,,2020,2034,two's cap until 2034
v1,three,rent_support,0.5,,,2020,,three's rent
"""
#: The tests' economics (every cost present, so every term is checked).
VALUES = {**FULL, "demand_charge_cny_per_kva_month": "5"}
PROFILE = ", ".join(["0.04"] * 20 + ["0.05"] * 4)


def npv_scenario(folder: Path, model: str = 'objective = "max_npv"', fee_two: float = 0.5) -> Path:
    """The tiny scenario with ``[economics]``, the tables above (site two's service fee
    ``fee_two``) and ``model`` added to its ``[model]``."""
    scenario = conftest.SCENARIO.replace("[model]\n", f"[model]\n{model}\n")
    path = conftest.write_tiny_scenario(folder, scenario + economics_section(PROFILE, **VALUES))
    tariff = TARIFF.format(fee_two=fee_two)
    (folder / "tariffs.csv").write_text(tariff, encoding="utf-8")
    (folder / "support.csv").write_text(SUPPORT, encoding="utf-8")
    return path


@pytest.mark.parametrize(("fee_two", "opened"), [(0.5, ["s1", "s3"]), (1.2, ["s2"])])
def test_max_npv_plan_reports_the_npv_it_maximised(
    tmp_path: Path, fee_two: float, opened: list[str]
) -> None:
    """The tiny scenario with every kind of support (a construction cap at site one, capped
    operation support at two, rent support at three, a two-year exemption) and a tariff of its
    own at two: the NPV the station economics report after the solve equals the one the model
    maximised, read off the decisions and off the solver's objective. With two's fee at 0.5 the
    plan opens one (its construction support capped: 1,500 < 20 x its kW) and three (rent
    support); at 1.2 two alone (its operation support capped at 2,500 a year)."""
    path = npv_scenario(tmp_path, fee_two=fee_two)
    scenario = chargeplan.load_scenario(path)
    plan = chargeplan.plan_network(scenario)
    assert sorted(plan.sites.index[plan.sites["open"]]) == opened
    table = plan.economics
    assert table is not None
    if "s1" in opened:
        assert table.loc["s1", "construction_support_cny"] == pytest.approx(1_500)
    if "s2" in opened:
        assert table.loc["s2", "operation_support_cny_first_year"] == pytest.approx(2_500)
    summary = plan.summary
    assert summary["objective"] == "max_npv"
    assert summary["sites_opened"] >= 1
    assert summary["npv_model_cny"] == pytest.approx(summary["npv_cny"], rel=1e-9)
    assert summary["npv_objective_cny"] == pytest.approx(summary["npv_cny"], rel=1e-6)
    assert table["npv_cny"].sum() == pytest.approx(summary["npv_cny"])
    # the economics computed from scratch on the plan's sites agree
    tariffs, support = (
        read_tariffs(tmp_path / "tariffs.csv"),
        read_support(tmp_path / "support.csv"),
    )
    assert scenario.economics is not None
    again = station_economics(
        plan.sites, scenario.chargers, scenario.economics, tariffs, support, peak_hour_share=0.1
    )
    assert again.summary()["npv_cny"] == pytest.approx(summary["npv_cny"])
    least_cost = chargeplan.plan_network(
        chargeplan.load_scenario(npv_scenario(tmp_path / "lc", "", fee_two))
    )
    assert summary["npv_cny"] >= least_cost.summary["npv_cny"] - 1e-6


def test_max_coverage_plan_gets_its_economics(tmp_path: Path) -> None:
    """Coverage within a budget: the plan's economics (NPV, payback) are reported as for a
    least-cost plan, the station economics of its open sites."""
    path = npv_scenario(tmp_path, 'objective = "max_coverage"\nbudget_cny = 15_000')
    scenario = chargeplan.load_scenario(path)
    plan = chargeplan.plan_network(scenario)
    assert plan.summary["capex_cny"] <= 15_000 + 1e-6
    assert plan.summary["coverage"] < 1.0  # the budget binds
    table = plan.economics
    assert table is not None
    assert sorted(table.index) == sorted(plan.sites.index[plan.sites["open"]])
    tariffs, support = (
        read_tariffs(tmp_path / "tariffs.csv"),
        read_support(tmp_path / "support.csv"),
    )
    assert scenario.economics is not None
    again = station_economics(
        plan.sites, scenario.chargers, scenario.economics, tariffs, support, peak_hour_share=0.1
    ).summary()
    assert plan.summary["npv_cny"] == pytest.approx(again["npv_cny"])
    assert plan.summary["payback_years"] == again["payback_years"]
    assert "npv_without_support_cny" in plan.summary


def test_max_npv_scenario_errors(tmp_path: Path) -> None:
    path = npv_scenario(tmp_path, 'objective = "max_npv"\nbudget_cny = 15_000')
    with pytest.raises(ScenarioError, match="max_npv' takes no budget_cny"):
        chargeplan.load_scenario(path)
    plain = conftest.SCENARIO.replace("[model]\n", '[model]\nobjective = "max_npv"\n')
    path = conftest.write_tiny_scenario(tmp_path / "plain", plain)
    with pytest.raises(ScenarioError, match=r"needs an \[economics\] section"):
        chargeplan.load_scenario(path)


def test_station_construction_support_counts_new_chargers_only(tmp_path: Path) -> None:
    """Two existing chargers of 100 kW at a station that now has 3: support of 20 per kW on
    the one new charger, 2,000."""
    (tmp_path / "tariffs.csv").write_text(TARIFF.format(fee_two=0.5), encoding="utf-8")
    (tmp_path / "support.csv").write_text(
        SUPPORT.splitlines()[0] + "\nv1,*,construction_per_kw,20,,,2020,,t\n", encoding="utf-8"
    )
    scenario = chargeplan.load_scenario(npv_scenario(tmp_path / "s"))
    sites = pd.DataFrame(
        {
            "open": [True],
            "name": ["one"],
            "chargers_dc_fast": [3],
            "existing_chargers_dc_fast": [2],
            "served_kwh_dc_fast": [10.0],
            "capex_cny": [1_000.0],
        },
        index=["s1"],
    )
    assert scenario.economics is not None
    result = station_economics(
        sites,
        {"dc_fast": scenario.chargers["dc_fast"]},
        scenario.economics,
        read_tariffs(tmp_path / "tariffs.csv"),
        read_support(tmp_path / "support.csv"),
        peak_hour_share=0.1,
    )
    assert result.stations.loc["s1", "construction_support_cny"] == pytest.approx(2_000)


def test_most_npv_with_station_designs_by_hand() -> None:
    """Designs "two" (2 stalls, capex 9,000, demand charge 1,000 in present value) and "four"
    (4 stalls, 16,000, 2,000); revenue 5,000 per kWh at A, 4,800 at B; construction support 500
    per new charger at A (a design's capex is the same everywhere, so the support goes by
    variables). 10 kWh need 2 stalls (5 kWh each).
    A with "two": 50,000 - 20,000 - 9,000 + 2 x 500 - 5,000 - 2 x 1,000 - 1,000 = 14,000.
    B with "two": 48,000 - 18,000 - 9,000 - 5,000 - 2,000 - 1,000 = 13,000.
    "four" anywhere: 7,000 more capex for nothing served. The optimum: A with "two", 14,000."""
    problem = two_sites(
        design_names=("two", "four"),
        design_stalls=np.array([[2.0], [4.0]]),
        design_kva=np.array([200.0, 400.0]),
        design_capex=np.array([9_000.0, 16_000.0]),
    )
    npv_terms = terms(
        [5_000.0, 4_800.0],
        design_cost=np.array([[1_000.0, 2_000.0], [1_000.0, 2_000.0]]),
        construction=ConstructionSupport(np.array([[500.0], [0.0]]), np.full(2, np.inf)),
    )
    solution, offset = solve_npv(problem, npv_terms)
    assert solution.open_site.tolist() == [True, False]  # type: ignore[attr-defined]
    assert solution.chargers.tolist() == [[2], [0]]  # type: ignore[attr-defined]
    assert npv_of_decisions(problem, npv_terms, solution) == pytest.approx(14_000)  # type: ignore[arg-type]
    assert solution.objective == pytest.approx(-14_000 + offset)  # type: ignore[attr-defined]


def test_capped_construction_support_in_the_least_cost_objective(tmp_path: Path) -> None:
    """``support_in_capex`` with CNY 5 per kW everywhere, capped at CNY 1,000 a station at site
    two. The plan opens two and three (the support makes three's chargers cheaper). Two's capex
    stays gross (a cap is no lower capex) and the objective carries min(1,000, 5 x its kW) =
    1,000 by a variable: objective = the plan's cost (two gross, three net of 5 per kW) - 1,000;
    the economics report 1,000 at two and 5 per kW at three."""
    path = npv_scenario(tmp_path, "", fee_two=0.5)
    text = path.read_text(encoding="utf-8") + "support_in_capex = true\n"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "support.csv").write_text(
        SUPPORT.splitlines()[0]
        + "\nv1,*,construction_per_kw,5,,,2020,,t\n"
        + "v1,two,construction_cap_per_station_cny,1000,,,2020,,t\n",
        encoding="utf-8",
    )
    plan = chargeplan.plan_network(chargeplan.load_scenario(path))
    assert sorted(plan.sites.index[plan.sites["open"]]) == ["s2", "s3"]
    kw = plan.sites["chargers_dc_fast"] * 100 + plan.sites["chargers_ac_destination"] * 10
    assert 5 * kw["s2"] > 1_000  # the cap binds
    gross = (
        10_000
        + plan.sites.loc["s2", "chargers_dc_fast"] * 1_000
        + (plan.sites.loc["s2", "chargers_ac_destination"] * 100)
    )
    assert plan.sites.loc["s2", "capex_cny"] == pytest.approx(gross)
    summary = plan.summary
    assert summary["objective_value"] == pytest.approx(summary["total_cost_cny"] - 1_000)
    table = plan.economics
    assert table is not None
    assert table.loc["s2", "construction_support_cny"] == pytest.approx(1_000)
    assert table.loc["s2", "capex_cny"] == pytest.approx(gross)
    assert table.loc["s3", "construction_support_cny"] == pytest.approx(5 * kw["s3"])


DESIGNS = """
[designs.d10]
description = "10 DC, 20 AC"
stalls = { dc_fast = 10, ac_destination = 20 }
grid_kva = 1_300
grid_connection_cny = 20_000
civil_works_cny = 5_000

[designs.d30]
description = "30 DC, 60 AC"
stalls = { dc_fast = 30, ac_destination = 60 }
grid_kva = 3_800
grid_connection_cny = 50_000
civil_works_cny = 10_000
"""


@pytest.mark.parametrize("fee_two", [0.5, 1.2])
def test_max_npv_with_station_designs_reports_the_npv_it_maximised(
    tmp_path: Path, fee_two: float
) -> None:
    """As above with a design menu: a design's demand charge on its grid kVA and the
    construction support of its stalls (capped at one) are in the objective by the extension;
    the NPV of the decisions, the solver's objective and the reported economics agree."""
    path = npv_scenario(tmp_path, fee_two=fee_two)
    text = path.read_text(encoding="utf-8").replace(
        '[sizing]\nrule = "linear"\n', '[sizing]\nrule = "linear"\ndesigns = ["d10", "d30"]\n'
    )
    path.write_text(text, encoding="utf-8")
    catalogue = tmp_path / "chargers.toml"
    catalogue.write_text(catalogue.read_text(encoding="utf-8") + DESIGNS, encoding="utf-8")
    plan = chargeplan.plan_network(chargeplan.load_scenario(path))
    summary = plan.summary
    assert summary["objective"] == "max_npv"
    opened = plan.sites[plan.sites["open"]]
    assert len(opened) >= 1 and (opened["design_kva"] > 0).all()
    assert summary["npv_model_cny"] == pytest.approx(summary["npv_cny"], rel=1e-9)
    assert summary["npv_objective_cny"] == pytest.approx(summary["npv_cny"], rel=1e-6)
