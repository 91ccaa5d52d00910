"""Station designs: optima checked against every design assignment, queues checked by hand.

Each tiny instance (3 zones, 2-3 sites, a 2-3 design menu) is solved by chargeplan and by
enumeration: every site gets no design or one of the menu (4^3 = 64 assignments at most); the
assignment left over is a small LP solved here with :func:`scipy.optimize.linprog`. A station of
design d at site j serves at most ``Q_jdk`` of type k: ``q_k (E_jk + s_dk)`` (linear rule) or,
with the queueing rule, the most kWh ``E_jk + s_dk`` chargers as ONE M/M/c queue serve with
P(wait) <= p (computed here with a plain Erlang C and bisection, not with chargeplan's).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linprog

import chargeplan
from chargeplan.errors import InputError, ScenarioError
from chargeplan.model.designs import design_of
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.queueing import ServiceLevel, capacity_levels
from chargeplan.model.solution import objective_value

from .design_instances import write_design_scenario
from .piece_instances import P_WAIT, SESSION_HOURS, SESSION_KWH, design_row


def erlang_c(c: int, a: float) -> float:
    """P(wait) of an M/M/c queue with offered load ``a`` erlangs (textbook formula)."""
    if a >= c:
        return 1.0
    terms = sum(a**n / math.factorial(n) for n in range(c))
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (terms + top)


def queue_kwh(c: int, t: int) -> float:
    """Most kWh per hour ``c`` chargers of type t serve as one queue with P(wait) <= P_WAIT."""
    if c == 0:
        return 0.0
    lo, hi = 0.0, float(c)  # load in erlangs
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if erlang_c(c, mid) <= P_WAIT else (lo, mid)
    return lo / SESSION_HOURS[t] * SESSION_KWH[t]


def make(rule: str, k: int = 1, **changes) -> FacilityProblem:
    """3 zones, 3 sites in a row; zone i reaches sites i-1, i, i+1; a 3-design menu
    (``tests/piece_instances.py``'s :func:`design_row`, one charger type unless ``k`` = 2)."""
    return design_row(rule, k, **changes)


def station_kwh(p: FacilityProblem, rule: str, j: int, d: int) -> np.ndarray:
    """``(K,)`` what site j serves with design d (``-1``: none) on top of its chargers."""
    chargers = p.existing_chargers[j] + (p.design_stalls[d] if d >= 0 else 0.0)
    if rule == "linear":
        return p.charger_capacity * chargers
    return np.array([queue_kwh(int(c), t) for t, c in enumerate(chargers)])


def assignment_cost(p: FacilityProblem, capacity: np.ndarray, is_open: np.ndarray) -> float:
    """The LP once the designs are fixed: min access + unmet penalty within capacities."""
    z, s, k = len(p.zone_ids), len(p.site_ids), len(p.types)
    xs = [(q, t) for q in range(len(p.pair_zone)) for t in range(k)]
    nx = len(xs)
    cost = np.concatenate(
        [[p.pair_cost[q, t] for q, t in xs], (p.unmet_penalty * p.demand).ravel()]
    )
    a_eq = np.zeros((z * k, nx + z * k))
    a_ub = np.zeros((s * k, nx + z * k))
    for c, (q, t) in enumerate(xs):
        a_eq[p.pair_zone[q] * k + t, c] = 1.0
        a_ub[p.pair_site[q] * k + t, c] = p.demand[p.pair_zone[q], t]
    a_eq[np.arange(z * k), nx + np.arange(z * k)] = 1.0
    bounds = [(0.0, 1.0 if is_open[p.pair_site[q]] else 0.0) for q, _ in xs]
    bounds += [(0.0, 1.0)] * (z * k)
    res = linprog(
        cost, A_ub=a_ub, b_ub=capacity.ravel(), A_eq=a_eq, b_eq=np.ones(z * k), bounds=bounds
    )
    assert res.status == 0
    return float(res.fun)


def brute_force(p: FacilityProblem, rule: str, budget: float | None = None):
    """Best (cost, designs) over every assignment of no design or one design to each site."""
    s, menu = len(p.site_ids), len(p.design_names)
    scored = []
    for choice in itertools.product(range(-1, menu), repeat=s):
        chosen = np.array(choice)
        fits = [
            d < 0
            or (
                np.all(p.existing_chargers[j] + p.design_stalls[d] <= p.max_chargers[j])
                and p.design_kva[d] + p.existing_chargers[j] @ p.charger_power_kw <= p.grid_kw[j]
            )
            for j, d in enumerate(chosen)
        ]
        if not all(fits):
            continue
        is_open = (chosen >= 0) | p.has_existing
        capex = p.fixed_cost @ is_open + sum(p.design_capex[d] for d in chosen if d >= 0)
        if budget is not None and capex > budget:
            continue
        capacity = np.array([station_kwh(p, rule, j, d) for j, d in enumerate(chosen)])
        scored.append((capex + assignment_cost(p, capacity, is_open), tuple(choice)))
    scored.sort()
    best, runner_up = scored[0], scored[1]
    assert runner_up[0] - best[0] > 1e-4 * abs(best[0]), "no unique optimum: change the data"
    return best


def check_against_brute_force(p: FacilityProblem, rule: str, budget: float | None = None):
    best_cost, best_designs = brute_force(p, rule, budget)
    solution = chargeplan.solve(p)
    designs = design_of(p, solution.chargers)
    assert solution.objective == pytest.approx(best_cost, rel=1e-6)
    assert objective_value(p, solution)["total_cost"] == pytest.approx(best_cost, rel=1e-6)
    assert tuple(designs) == best_designs
    check_stations(p, rule, solution)
    return designs


def check_stations(p: FacilityProblem, rule: str, solution) -> None:
    """No station above the largest design; each serves within its design's queue capacity."""
    designs = design_of(p, solution.chargers)
    added = solution.chargers - p.existing_chargers
    assert np.all(added <= p.design_stalls.max(axis=0))
    assert np.all((designs >= 0) | (added == 0).all(axis=1))  # a design or nothing new
    served = np.zeros((len(p.site_ids), len(p.types)))
    np.add.at(served, p.pair_site, solution.served * p.demand[p.pair_zone])
    for j, d in enumerate(designs):
        assert np.all(served[j] <= station_kwh(p, rule, j, d) * (1 + 1e-6) + 1e-6)


@pytest.mark.parametrize("rule", ["linear", "queue"])
@pytest.mark.parametrize("k", [1, 2])
def test_designs_match_brute_force(rule: str, k: int) -> None:
    check_against_brute_force(make(rule, k), rule)


@pytest.mark.parametrize("rule", ["linear", "queue"])
def test_cheap_large_design_wins(rule: str) -> None:
    """With the large design nearly as cheap as the medium, the large one is built."""
    p = make(rule, 1, design_capex=np.array([900.0, 1500.0, 1550.0]))
    designs = check_against_brute_force(p, rule)
    assert 2 in designs


@pytest.mark.parametrize("rule", ["linear", "queue"])
def test_existing_chargers_extended(rule: str) -> None:
    """Site s2 holds 3 chargers: it is open, and a design adds its stalls to the same queue."""
    existing = np.array([[0.0], [3.0], [0.0]])
    p = make(rule, 1, existing_chargers=existing)
    designs = check_against_brute_force(p, rule)
    solution = chargeplan.solve(p)
    assert solution.open_site[1]
    if designs[1] >= 0:
        assert solution.chargers[1, 0] == 3 + p.design_stalls[designs[1], 0]
    else:
        assert solution.chargers[1, 0] == 3


@pytest.mark.parametrize("rule", ["linear", "queue"])
def test_grid_limit_rules_out_designs(rule: str) -> None:
    """Site s2's 600 kW grid takes the small and medium designs (250, 500 kVA), not the large."""
    p = make(
        rule,
        1,
        grid_kw=np.array([np.inf, 600.0, np.inf]),
        charger_power_kw=np.array([120.0]),
        design_capex=np.array([900.0, 1500.0, 1550.0]),
    )
    designs = check_against_brute_force(p, rule)
    assert designs[1] != 2
    if rule == "queue":  # the limit binds: without it s2 takes the large design
        free = make(rule, 1, design_capex=np.array([900.0, 1500.0, 1550.0]))
        assert design_of(free, chargeplan.solve(free).chargers)[1] == 2


@pytest.mark.parametrize("rule", ["linear", "queue"])
def test_budget_with_designs(rule: str) -> None:
    """A budget of 3,000 (the linear optimum spends 4,050 on two stations) allows one."""
    budget = 3000.0
    p = make(rule, 1, budget=budget)
    check_against_brute_force(p, rule, budget)
    assert objective_value(p, chargeplan.solve(p))["capex"] <= budget + 1e-6


def test_design_capacity_is_one_queue() -> None:
    """The queue levels of a design plan are those of one queue of exactly its stalls."""
    p = make("queue", 1)
    for c in range(1, 7):
        assert p.queue_levels[0][c] == pytest.approx(queue_kwh(c, 0), rel=1e-6)


def test_designs_need_distinct_stalls_and_long_enough_levels() -> None:
    with pytest.raises(InputError, match="same stalls"):
        make("linear", 1, design_stalls=np.array([[2.0], [2.0], [6.0]]))
    short = (capacity_levels(4, 0.5, ServiceLevel(P_WAIT)) * 30.0,)
    with pytest.raises(InputError, match="largest station"):
        make("linear", 1, charger_capacity=None, queue_levels=short)


def test_plan_network_with_designs(tmp_path: Path) -> None:
    """The tiny scenario with a 2-design menu, end to end: every open site has a design."""
    scenario = chargeplan.load_scenario(write_design_scenario(tmp_path / "tiny"))
    capex = {name: d.capex_cny(scenario.chargers) for name, d in scenario.designs.items()}
    # stalls x catalogue capex (1000 per DC, 100 per AC in the tiny catalogue) + grid + civil
    assert capex == {"d2": 2 * 1000 + 2 * 100 + 70_000, "d4": 4 * 1000 + 4 * 100 + 120_000}
    plan = chargeplan.plan_network(scenario)
    built = plan.sites[plan.sites["open"]]
    assert len(built) > 0
    assert set(built["design"]) <= {"d2", "d4"}
    for _, site in built.iterrows():
        design = scenario.designs[site["design"]]
        assert site["design_capex_cny"] == capex[site["design"]]
        assert site["design_kva"] == design.grid_kva
        for t in ("dc_fast", "ac_destination"):
            assert site[f"chargers_{t}"] == design.stalls[t]
            assert site[f"p_wait_{t}"] <= 0.2 + 1e-6
    assert sum(plan.summary[f"stations_{n}"] for n in capex) == len(built)
    # 1,000 peak kWh against about 200 per d4 station: all three sites hold the largest design,
    # and the zones they reach are left short because those stations are full; z4 is out of reach
    assert list(built["design"]) == ["d4", "d4", "d4"]
    assert plan.summary["gap_zones_capacity_limited"] == 3
    assert plan.summary["gap_zones_unreachable"] == 1
    assert plan.summary["capex_cny"] == pytest.approx(
        built["fixed_cost_cny"].sum() + built["design_capex_cny"].sum()
    )


def test_unknown_design_is_refused(tmp_path: Path) -> None:
    path = write_design_scenario(tmp_path / "tiny")
    path.write_text(path.read_text().replace('"d2", "d4"', '"d2", "d9"'))
    with pytest.raises(ScenarioError, match="d9"):
        chargeplan.load_scenario(path)


def test_catalogue_menu_capex_is_computed() -> None:
    """The shipped menu: capex = stalls x charger capex + grid connection + civil works."""
    from chargeplan.config.catalogue import load_catalogue, load_designs

    path = Path(__file__).parents[1] / "models" / "chargers-cn-2025.toml"
    chargers = load_catalogue(path)
    designs = load_designs(path, chargers)
    assert list(designs) == [
        "dc2_ac4",
        "dc4_ac4",
        "dc8_ac8",
        "dc12_ac8",
        "dc16_ac8",
        "dc20_ac8",
        "dc24_ac8",
        "dc4_ac16",
        "dc8_ac24",
        "dc12_ac24",
    ]
    dc4 = designs["dc4_ac4"]
    assert dc4.grid_kva == 630 and dc4.grid_connection_cny == 200_000
    assert dc4.capex_cny(chargers) == 4 * 90_000 + 4 * 6_000 + 200_000 + 80_000


def test_destination_heavy_designs_follow_the_per_unit_sources() -> None:
    """The AC-heavy designs: kVA = 1.07 per kW of all stalls (120 kW DC, 7 kW AC) rounded up to
    standard transformers (800; 2 x 630; 2 x 1,000 kVA), CNY 317 per kVA (630 kVA: CNY 200 k),
    civil works CNY 40 k + 10 k per DC stall, stalls at the charger types' capex."""
    from chargeplan.config.catalogue import load_catalogue, load_designs

    path = Path(__file__).parents[1] / "models" / "chargers-cn-2025.toml"
    chargers = load_catalogue(path)
    designs = load_designs(path, chargers)
    for name, dc, ac, kva, grid in (
        ("dc4_ac16", 4, 16, 800, 254_000),
        ("dc8_ac24", 8, 24, 1_260, 400_000),
        ("dc12_ac24", 12, 24, 2_000, 634_000),
    ):
        design = designs[name]
        assert dict(design.stalls) == {"dc_fast": dc, "ac_destination": ac}
        assert design.grid_kva == kva >= 1.07 * (120 * dc + 7 * ac)
        assert design.grid_connection_cny == pytest.approx(200_000 * kva / 630, abs=1_000)
        assert design.civil_works_cny == 40_000 + 10_000 * dc
        assert design.capex_cny(chargers) == dc * 90_000 + ac * 6_000 + grid + 40_000 + 10_000 * dc


def test_hub_designs_follow_the_per_unit_sources() -> None:
    """The hubs (16-24 DC stalls) are costed like the smaller designs: kVA = 1.07 per kW of
    stalls (the facts' 8 x 120 kW station on 630 + 400 kVA) rounded up to two equal standard
    transformers, CNY 317 per kVA (the facts' CNY 200 k for 630 kVA), civil works CNY 40 k +
    10 k per DC stall (assumption), stalls at the charger types' capex."""
    from chargeplan.config.catalogue import load_catalogue, load_designs

    path = Path(__file__).parents[1] / "models" / "chargers-cn-2025.toml"
    chargers = load_catalogue(path)
    designs = load_designs(path, chargers)
    ratings = (630, 800, 1_000, 1_250, 1_600, 2_000, 2_500)
    for name, dc in (("dc16_ac8", 16), ("dc20_ac8", 20), ("dc24_ac8", 24)):
        design = designs[name]
        assert design.stalls == {"dc_fast": dc, "ac_destination": 8}
        kw = dc * chargers["dc_fast"].power_kw + 8 * chargers["ac_destination"].power_kw
        kva = 2 * min(r for r in ratings if 2 * r >= 1.07 * kw)
        assert design.grid_kva == kva
        assert design.grid_connection_cny == round(200_000 * kva / 630, -3)  # CNY 317/kVA
        assert design.civil_works_cny == 40_000 + 10_000 * dc
        assert design.capex_cny(chargers) == (
            dc * 90_000 + 8 * 6_000 + design.grid_connection_cny + design.civil_works_cny
        )
    assert designs["dc20_ac8"].capex_cny(chargers) == 1_848_000 + 1_016_000 + 240_000


@pytest.mark.parametrize("rule", ["linear", "queue"])
def test_decomposed_design_plan_is_the_whole_plan(rule: str) -> None:
    """Each zone reaching only its own site: three regions, solved apart, give the optimum."""
    import dataclasses

    from chargeplan.solver.decompose import solve_decomposed

    from .instances import EXACT

    p = make(rule, 2)
    own = p.pair_zone == p.pair_site
    p = dataclasses.replace(
        p,
        pair_zone=p.pair_zone[own],
        pair_site=p.pair_site[own],
        pair_cost=p.pair_cost[own],
        distance_km=p.distance_km[own],
    )
    best_cost, best_designs = brute_force(p, rule)
    split, info = solve_decomposed(p, EXACT, max_bundle_pairs=1)
    assert info.regions == 3
    assert split.objective == pytest.approx(best_cost, rel=1e-6)
    assert tuple(design_of(p, split.chargers)) == best_designs


@pytest.mark.parametrize("k", [1, 2])
def test_size_estimate_of_a_design_model(k: int) -> None:
    """The memory guard counts the design model's columns and rows exactly."""
    from chargeplan.model.formulation import build_milp
    from chargeplan.model.limits import estimate_model_size

    p = make("queue", k, grid_kw=np.array([np.inf, 600.0, np.inf]), budget=5000.0)
    estimate = estimate_model_size(p)
    lp, _ = build_milp(p)
    matrix, _, _ = lp.matrix()
    nonzeros = matrix.nnz + int(np.count_nonzero(lp.objective))
    assert estimate.variables == lp.n_cols
    assert estimate.rows == matrix.shape[0]
    assert nonzeros <= estimate.nonzeros <= 1.5 * nonzeros
