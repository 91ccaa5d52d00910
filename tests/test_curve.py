"""Target and budget curves on the tiny scenario, derived by hand.

Each premium user brings 1 peak kWh, half DC (50 kWh per charger, CNY 1,000) and half AC
(10 kWh per charger, CNY 100); only s2 opens (CNY 10,000) and z4 stays out of reach
(tests/test_pipeline.py).

- Target 1,000: users 185, 371, 370, 74; s2 serves 926 kWh with 10 DC + 47 AC chargers:
  capex 24,700; 74 users unserved.
- Target 500: users 500 x (500, 1000, 1000, 200) / 2700 = 92.6, 185.2, 185.2, 37.0 ->
  largest remainder 93, 185, 185, 37. s2 serves 463 kWh: 231.5 DC -> 5 chargers,
  231.5 AC -> 24 chargers; a second site saves at most 20 km x 185 kWh x CNY 1 = 3,700 of
  access, less than its 10,000: capex 10,000 + 5,000 + 2,400 = 17,400; 37 users unserved.
- From 500 to 1,000 users: 7,300 more capex for 500 more users, CNY 14.6 per user, i.e.
  CNY 14.6 M per extra million users; 57 - 29 = 28 more chargers: 56,000 per million users.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import chargeplan
from chargeplan.cli import main
from chargeplan.errors import ScenarioError
from chargeplan.outputs.curve_chart import plot_curve, write_curve
from chargeplan.workflows.curve import budget_curve, parse_amounts, target_curve


def test_parse_amounts() -> None:
    assert parse_amounts("2M, 5M,1.5bn, 500k,2e6, 3B") == [2e6, 5e6, 1.5e9, 5e5, 2e6, 3e9]
    for bad in ("two million", "-1", "5 apples", " , "):
        with pytest.raises(ScenarioError):
            parse_amounts(bad)


def test_target_curve_by_hand(tiny_scenario: Path) -> None:
    scenario = chargeplan.load_scenario(tiny_scenario)
    curve = target_curve(scenario, [1000, 500])
    assert curve["target_premium_users"].tolist() == [500, 1000]  # sorted
    assert curve["premium_users"].tolist() == [500, 1000]
    assert curve["status"].tolist() == ["optimal", "optimal"]
    assert curve["capex_cny"].tolist() == pytest.approx([17_400, 24_700])
    assert curve["chargers"].tolist() == [29, 57]
    assert curve["chargers_dc_fast"].tolist() == [5, 10]
    assert curve["chargers_ac_destination"].tolist() == [24, 47]
    assert curve["sites_opened"].tolist() == [1, 1]
    assert curve["unserved_users"].tolist() == pytest.approx([37, 74])
    assert curve["users_served"].tolist() == pytest.approx([463, 926])
    assert curve["coverage"].tolist() == pytest.approx([463 / 500, 926 / 1000])
    assert curve["capex_cny_per_user"].tolist() == pytest.approx([34.8, 24.7])
    assert pd.isna(curve.loc[0, "capex_cny_per_extra_million_users"])
    assert curve.loc[1, "capex_cny_per_extra_million_users"] == pytest.approx(14.6e6)
    assert curve.loc[1, "chargers_per_extra_million_users"] == pytest.approx(56_000)


def test_budget_curve_by_hand(tiny_scenario: Path) -> None:
    """Budget 12,000 buys s2 and 20 AC chargers: 200 kWh, 200 users served (1 kWh each).
    Budget 30,000 serves all 926 reachable kWh at the least capex, 24,700. Each extra
    billion yuan between them: (926 - 200) / 18,000 x 1e9 users."""
    scenario = chargeplan.load_scenario(tiny_scenario)
    curve = budget_curve(scenario, [30_000, 12_000])
    assert curve["budget_cny"].tolist() == [12_000, 30_000]
    # the second (least-cost) stage may give up 1e-9 of the total demand (solve.py's slack)
    assert curve["users_served"].tolist() == pytest.approx([200, 926], abs=2e-6)
    assert curve["capex_cny"].tolist() == pytest.approx([12_000, 24_700])
    assert curve.loc[1, "users_served_per_extra_bn_cny"] == pytest.approx(726 / 18_000 * 1e9)
    assert curve.loc[1, "coverage_per_extra_bn_cny"] == pytest.approx(0.726 / 18_000 * 1e9)


def test_curve_files_and_command(tiny_scenario: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "curve"
    assert main(["curve", str(tiny_scenario), "--targets", "500,1k", "--out", str(out), "-q"]) == 0
    assert "tiny: 2 plans" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["curve.csv", "curve.png", "manifest.json"]
    curve = pd.read_csv(out / "curve.csv")
    assert curve["capex_cny"].tolist() == pytest.approx([17_400, 24_700])
    assert curve["capex_cny_per_extra_million_users"].iloc[1] == pytest.approx(14.6e6)
    assert (out / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the same table charts again, and write_curve reports what it wrote
    fig = plot_curve(curve)
    assert len(fig.axes) == 5  # four panels and the coverage panel's twin axis
    assert set(write_curve(curve, tmp_path / "again")) == {"curve.csv", "curve.png"}


def test_curve_command_rejects_a_bad_list(tiny_scenario: Path, capsys) -> None:
    assert main(["curve", str(tiny_scenario), "--targets", "lots", "-q"]) == 3
    assert "chargeplan: error: 'lots' is not an amount" in capsys.readouterr().err
