"""README stays true: its two set-up commands (CI runs the README's test command), the figures
of "A fast scenario: the city-level plan", which must be what planning
``models/china-2030.toml`` gives, and those of "The default plan", the national station plan
of the first command (``models/china-2030-stations.toml``: minutes of solving, so that check
is slow, ``CHARGEPLAN_SLOW=1``; its table is the one place the README gives those figures).

The figures are parsed out of README.md, so that the README and the code cannot drift apart
silently: a change of the model, the data or the scenario that moves a printed figure fails
here until the README says what the code does. Each figure is compared at the precision the
README prints it (``5.58 GWh`` matches 5.5773 GWh, not 5.5851).

The plan-dependent figures (sites, chargers, capex, coverage, gap zones) are compared exactly
although HiGHS stops within a 0.2 % MIP gap: which of the plans within that gap it returns is
deterministic for the same model (the ``default_plan`` fixture's docstring; the slow test at
the end re-plans with one thread). Only the run time and memory of the README's first
paragraph depend on the machine and are not checked.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import chargeplan
from chargeplan.inputs.demand import DemandWarning

from .conftest import DEFAULT_SCENARIO

REPO = Path(__file__).resolve().parents[1]
STATION_SCENARIO = REPO / "models" / "china-2030-stations.toml"

#: Each row of the README's default-plan table: its label and the pattern of its value, with
#: one named group per figure.
ROWS = {
    "premium users": r"(?P<users>[\d,]+)",
    "peak-hour public demand": r"(?P<gwh>[\d.]+) GWh",
    "sites opened": r"(?P<opened>[\d,]+) of (?P<candidates>[\d,]+)",
    "chargers": (
        r"(?P<chargers>[\d,]+) \((?P<dc>[\d,]+) DC fast (?P<dc_kw>\d+) kW, "
        r"(?P<ac>[\d,]+) AC destination (?P<ac_kw>\d+) kW\), sized by peak-hour queueing "
        r"\(Erlang C, at most (?P<wait>\d+) % of drivers wait\); "
        r"the linear utilisation rule would give (?P<linear>[\d,]+)"
    ),
    "capex": (
        r"CNY (?P<capex>[\d.]+) bn \((?P<sites>[\d.]+) bn sites, (?P<kit>[\d.]+) bn chargers\)"
    ),
    "premium users per charger": r"(?P<per_charger>[\d,]+)",
    "peak demand served": r"(?P<served>[\d.]+) %",
    "zones with gaps": (
        r"(?P<gaps>\d+): (?P<unreachable>\d+) unreachable \((?P<unreachable_k>[\d.]+) k users\), "
        r"(?P<capacity>\d+) capacity-limited \((?P<capacity_k>[\d.]+) k\), "
        r"(?P<not_built>\d+) `not_built` \((?P<not_built_k>[\d.]+) k users in all: [^)]+\)"
    ),
    "solver": r"HiGHS, optimal within (?P<gap>[\d.]+) %",
}
INTRO = r"\((?P<zones>\d+) census prefectures, (?P<hubs>\d+) candidate city hubs\)"


def _quick_start() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_starts_with_two_commands() -> None:
    commands = _quick_start()
    assert len(commands) == 2
    run, test = commands
    assert run.endswith(
        "chargeplan run models/china-2030-stations.toml --out runs/china-2030-stations"
    )
    assert "pytest" in test
    assert STATION_SCENARIO.is_file() and DEFAULT_SCENARIO.is_file()
    # the fast scenario keeps its own command
    assert "chargeplan run models/china-2030.toml --out runs/china-2030\n" in _section(
        "A fast scenario: the city-level plan"
    )


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert _quick_start()[1] in ci


# --------------------------------------------------------------------------------------------
# "A fast scenario: the city-level plan"
# --------------------------------------------------------------------------------------------


def _section(title: str) -> str:
    """The text of the README's ``## title`` section, up to the next one."""
    text = (REPO / "README.md").read_text()
    assert f"\n## {title}\n" in text, f"README has no section {title!r}"
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _table(section: str, rows: dict[str, str]) -> dict[str, str]:
    """The figures of the section's two-column table, each row read by its pattern."""
    found = re.findall(r"^\| (.+?) \| (.+) \|$", section, flags=re.MULTILINE)
    labels = [label for label, _ in found if label.strip()]
    assert labels == list(rows), "the table's rows changed: check the new ones here too"
    figures: dict[str, str] = {}
    for label, value in found:
        if label.strip():
            match = re.fullmatch(rows[label], value)
            assert match, f"README row {label!r} no longer reads like {rows[label]!r}: {value!r}"
            figures.update(match.groupdict())
    return figures


def readme_figures() -> dict[str, str]:
    """Every figure of the README's city-level plan, as printed, by group name."""
    section = _section("A fast scenario: the city-level plan")
    intro = re.search(INTRO, section)
    assert intro, "the intro no longer names the zones and candidate sites"
    return {**intro.groupdict(), **_table(section, ROWS)}


def printed(value: float, like: str) -> str:
    """``value`` printed as the README prints ``like``: as many decimals, thousands commas."""
    decimals = len(like.split(".", 1)[1]) if "." in like else 0
    return f"{value:,.{decimals}f}"


def test_readme_city_plan_section_parses() -> None:
    """The table reads as this module expects (no solve: fails fast on a reworded README)."""
    figures = readme_figures()
    assert figures["users"] == "20,000,000" and figures["gap"] == "0.2"


@pytest.mark.parametrize(
    ("value", "like", "same"),
    [
        (5.577262, "5.58", True),
        (5.5851, "5.58", False),
        (401_642, "401,642", True),
        (401_643, "401,642", False),
        (49.7956, "50", True),
        (3.477725, "3.5", True),
        (3.449, "3.5", False),
    ],
)
def test_figures_are_compared_at_the_printed_precision(value: float, like: str, same: bool):
    assert (printed(value, like) == like) is same


def test_readme_city_plan_figures_are_reproduced(default_plan: chargeplan.Plan) -> None:
    """Every figure of the README's city-level plan, from the plan the code makes."""
    figures = readme_figures()
    scenario = chargeplan.load_scenario(DEFAULT_SCENARIO)
    s, zones = default_plan.summary, default_plan.zones
    unserved_k = zones.groupby("gap_reason")["unserved_users"].sum() / 1e3
    types = scenario.charger_types
    assert s["grid_upgrade_cost_cny"] == 0  # capex = sites + chargers, as the README splits it
    actual = {
        "zones": s["zones"],
        "hubs": s["candidate_sites"],
        "users": s["premium_users"],
        "gwh": s["demand_kwh"] / 1e6,
        "opened": s["sites_opened"],
        "candidates": s["candidate_sites"],
        "chargers": s["chargers"],
        "dc": s["chargers_dc_fast"],
        "dc_kw": scenario.chargers["dc_fast"].power_kw,
        "ac": s["chargers_ac_destination"],
        "ac_kw": scenario.chargers["ac_destination"].power_kw,
        "wait": 100 * scenario.sizing.max_wait_probability,
        "linear": sum(s[f"chargers_linear_rule_{t}"] for t in types),
        "capex": s["capex_cny"] / 1e9,
        "sites": s["fixed_cost_cny"] / 1e9,
        "kit": s["charger_cost_cny"] / 1e9,
        "per_charger": s["premium_users_per_charger"],
        "served": 100 * s["coverage"],
        "gaps": s["zones_with_gaps"],
        "unreachable": s["gap_zones_unreachable"],
        "unreachable_k": unserved_k["unreachable"],
        "capacity": s["gap_zones_capacity_limited"],
        "capacity_k": unserved_k["capacity_limited"],
        "not_built": s["gap_zones_not_built"],
        "not_built_k": unserved_k["not_built"],
        "gap": 100 * scenario.solver.mip_rel_gap,
    }
    assert set(actual) == set(figures)
    wrong = {
        name: (figures[name], printed(value, figures[name]))
        for name, value in actual.items()
        if printed(value, figures[name]) != figures[name]
    }
    assert wrong == {}, "README figure: (printed, reproduced)"
    # the words around the figures
    assert scenario.sizing.rule == "queue" and set(types) == {"dc_fast", "ac_destination"}
    assert s["status"] == "optimal" and s["gap"] <= scenario.solver.mip_rel_gap
    assert s["gap_zones_budget_limited"] == 0  # the three reasons listed are all there are
    assert s["zones_with_gaps"] == (
        s["gap_zones_unreachable"] + s["gap_zones_capacity_limited"] + s["gap_zones_not_built"]
    )


@pytest.mark.slow
def test_default_plan_is_the_same_with_one_thread(default_plan: chargeplan.Plan) -> None:
    """The premise of comparing plan-dependent figures exactly: HiGHS returns the same plan
    within the gap whatever the thread count (another 30 s solve)."""
    scenario = chargeplan.load_scenario(DEFAULT_SCENARIO).with_values({"solver.threads": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DemandWarning)
        again = chargeplan.plan_network(scenario)
    assert again.summary["objective_value"] == default_plan.summary["objective_value"]
    assert (again.sites["chargers"] == default_plan.sites["chargers"]).all()


# --------------------------------------------------------------------------------------------
# "The default plan": the national station plan
# --------------------------------------------------------------------------------------------

#: Each row of the README's station-plan table and the pattern of its value (``time``: the
#: machine's, read but not checked).
STATION_ROWS = {
    "cells, candidate stations, pairs in reach": (
        r"(?P<cells>[\d,]+); (?P<candidates>[\d,]+); (?P<pairs>[\d,]+)"
    ),
    "pieces": (
        r"(?P<components>[\d,]+) reach components in (?P<pieces>[\d,]+) pieces, the largest "
        r"(?P<largest>[\d,]+) pairs"
    ),
    "stations": r"(?P<stations>[\d,]+): (?P<designs>(`\w+` [\d,]+)(, `\w+` [\d,]+)*)",
    "chargers": (r"(?P<chargers>[\d,]+) \((?P<dc>[\d,]+) DC fast, (?P<ac>[\d,]+) AC destination\)"),
    "capex": (
        r"CNY (?P<capex>[\d.]+) bn \((?P<sites>[\d.]+) bn sites, (?P<kit>[\d.]+) bn chargers, "
        r"grid and civil works\)"
    ),
    "served of the reachable demand": (
        r"(?P<served>[\d.]+) %: urban (?P<urban>[\d.]+) %, suburban (?P<suburban>[\d.]+) %, "
        r"rural (?P<rural>[\d.]+) %"
    ),
    "objective, bound, gap": (
        r"CNY (?P<objective>[\d.]+) bn, (?P<bound>[\d.]+) bn, (?P<gap>[\d.]+) %"
    ),
    "time": r"(?P<time>.+)",
}


def station_figures() -> tuple[dict[str, str], dict[str, str]]:
    """The README's station-plan figures as printed, by group name, and its stations by
    design (name: count as printed)."""
    figures = _table(_section("The default plan"), STATION_ROWS)
    designs = dict(
        (name, count)
        for name, count in re.findall(r"`(\w+)` (\d+(?:,\d{3})*)", figures.pop("designs"))
    )
    figures.pop("time")
    return figures, designs


def test_readme_station_plan_section_parses() -> None:
    """The table reads as the slow test expects (no solve)."""
    figures, designs = station_figures()
    assert len(designs) >= 2 and all(name.startswith("dc") for name in designs)
    counts = [int(count.replace(",", "")) for count in designs.values()]
    assert sum(counts) == int(figures["stations"].replace(",", ""))  # every station has one
    assert counts == sorted(counts, reverse=True)  # most built first


def station_plan_figures(
    summary: dict[str, Any], zones: pd.DataFrame, menu: tuple[str, ...]
) -> tuple[dict[str, float], dict[str, int]]:
    """The figures of the README's station table from a plan's summary and zone table
    (``sites_in_reach``, ``settlement``, ``demand_kwh``, ``served_kwh``), by group name, and
    its stations by design of the ``menu`` (those built)."""
    s = summary
    in_reach = zones[zones["sites_in_reach"] > 0]
    by_type = in_reach.groupby("settlement")[["served_kwh", "demand_kwh"]].sum()
    served = 100 * by_type["served_kwh"] / by_type["demand_kwh"]
    figures = {
        "cells": s["zones"],
        "candidates": s["candidate_sites"],
        "pairs": s["pairs"],
        "components": s["decompose_components"],
        "pieces": s["decompose_regions"],
        "largest": s["decompose_largest_region_pairs"],
        "stations": s["sites_opened"],
        "chargers": s["chargers"],
        "dc": s["chargers_dc_fast"],
        "ac": s["chargers_ac_destination"],
        "capex": s["capex_cny"] / 1e9,
        "sites": s["fixed_cost_cny"] / 1e9,
        "kit": s["charger_cost_cny"] / 1e9,
        "served": 100 * s["served_share_reachable"],
        "urban": served["urban"],
        "suburban": served["suburban"],
        "rural": served["rural"],
        "objective": s["objective_value"] / 1e9,
        "bound": s["bound"] / 1e9,
        "gap": 100 * s["gap"],
    }
    built = {name: int(s.get(f"stations_{name}", 0)) for name in menu}
    return figures, {name: count for name, count in built.items() if count}


@pytest.mark.slow
def test_readme_station_plan_figures_are_reproduced() -> None:
    """Every figure of the README's default plan, from planning the station scenario again
    (minutes: its pieces on one Dask worker per core, as ``chargeplan run`` solves them)."""
    figures, designs = station_figures()
    scenario = chargeplan.load_scenario(STATION_SCENARIO)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DemandWarning)
        plan = chargeplan.plan_network(scenario)
    s = plan.summary
    actual, built = station_plan_figures(s, plan.zones, scenario.sizing.designs)
    assert set(actual) == set(figures)
    wrong = {
        name: (figures[name], printed(value, figures[name]))
        for name, value in actual.items()
        if printed(value, figures[name]) != figures[name]
    }
    assert wrong == {}, "README figure: (printed, reproduced)"
    assert {name: f"{count:,}" for name, count in built.items()} == designs
    # the words around the figures: capex = sites + chargers (grid and civil works in the
    # chargers' part), every cell of a settlement type, no pair cut (the bound is the full
    # model's)
    assert s["grid_upgrade_cost_cny"] == 0
    assert set(plan.zones["settlement"]) == {"urban", "suburban", "rural"}
    assert s["decompose_cut_pairs"] == 0
