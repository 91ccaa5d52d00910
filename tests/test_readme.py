"""README stays true: its two set-up commands (CI runs the README's test command) and the
figures of "The default plan", which must be what planning ``models/china-2030.toml`` gives.

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

import pytest

import chargeplan
from chargeplan.inputs.demand import DemandWarning

from .conftest import DEFAULT_SCENARIO

REPO = Path(__file__).resolve().parents[1]

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
    assert "chargeplan run models/china-2030.toml" in run
    assert "pytest" in test
    assert (REPO / "models" / "china-2030.toml").is_file()


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert _quick_start()[1] in ci


# --------------------------------------------------------------------------------------------
# "The default plan"
# --------------------------------------------------------------------------------------------


def readme_figures() -> dict[str, str]:
    """Every figure of the README's "The default plan" section, as printed, by group name."""
    text = (REPO / "README.md").read_text()
    section = text.split("\n## The default plan\n", 1)[1].split("\n## ", 1)[0]
    intro = re.search(INTRO, section)
    assert intro, "the intro no longer names the zones and candidate sites"
    figures = dict(intro.groupdict())
    rows = re.findall(r"^\| (.+?) \| (.+) \|$", section, flags=re.MULTILINE)
    labels = [label for label, _ in rows if label.strip()]
    assert labels == list(ROWS), "the table's rows changed: check the new ones here too"
    for label, value in rows:
        if label.strip():
            match = re.fullmatch(ROWS[label], value)
            assert match, f"README row {label!r} no longer reads like {ROWS[label]!r}: {value!r}"
            figures.update(match.groupdict())
    return figures


def printed(value: float, like: str) -> str:
    """``value`` printed as the README prints ``like``: as many decimals, thousands commas."""
    decimals = len(like.split(".", 1)[1]) if "." in like else 0
    return f"{value:,.{decimals}f}"


def test_readme_default_plan_section_parses() -> None:
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


def test_readme_default_plan_figures_are_reproduced(default_plan: chargeplan.Plan) -> None:
    """Every figure of the README's default plan, from the plan the code makes."""
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
