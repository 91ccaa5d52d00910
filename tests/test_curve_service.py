"""The curve over service standards (``chargeplan curve --service-standards``) on the tiny
scenario, derived by hand.

The tiny scenario (tests/conftest.py) with free detours (``detour_cost_cny_per_kwh_km = 0``)
and the hand-checkable economics of tests/economics_instance.py. Zones z1, z2, z3 are 10 km
squares 20 km apart with a candidate site at each centre (s1, s2, s3); z4 lies 200 km from s3
(220 km from s2, 240 km from s1). Each user brings 1 peak kWh, half DC (50 kWh per charger,
CNY 1,000, 100 kW) and half AC (10 kWh per charger, CNY 100, 10 kW); a site costs CNY 10,000.
Users 185, 371, 370, 74.

- Reach 5 km: each zone reaches only its own site, so all three open: z1 2 DC + 10 AC
  (92.5 kWh each), z2 4 + 19 (185.5), z3 4 + 19 (185): capex 30,000 + 10 x 1,000 + 48 x 100 =
  44,800 for 926 kWh (92.6 %); 1,480 kW.
- Reach 30 km: s2 reaches all three (the only site that does): 10 DC + 47 AC, capex 24,700
  for the same 926 kWh; 1,470 kW. A wider reach, the same demand served, less capex.
- Reach 210 km: only s3 reaches z4 (200 km), and s3 alone serves all 1,000 kWh: 10 DC + 50 AC,
  capex 25,000, 1,500 kW (two sites cost at least 20,000 + 15,000).
- Each extra point of coverage from 30 to 210 km: (25,000 - 24,700) / (100 - 92.6) = CNY 40.5.

NPV (CNY 1.2 a kWh, 3,650 kWh a year per design-hour kWh, support CNY 10 per kW, a: the
10-year annuity factor at 10 %): -capex + 10 kW + 4,380 x served kWh x a.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import chargeplan
from chargeplan.cli import main
from chargeplan.errors import ScenarioError
from chargeplan.outputs.curve_chart import plot_curve
from chargeplan.workflows.curve import PointStore, run_curve, service_curve
from chargeplan.workflows.standards import parse_standards, scaled_reach

from . import conftest
from .economics_instance import ANNUITY, economics_scenario

FREE_DETOURS = conftest.SCENARIO.replace(
    "detour_cost_cny_per_kwh_km = 1.0", "detour_cost_cny_per_kwh_km = 0.0"
)
STANDARD = """
[reach.standard]
urban_km = 3
suburban_km = 10
rural_km = 25
"""


def npv(capex: float, kw: float, served_kwh: float) -> float:
    return -capex + 10 * kw + 4_380 * served_kwh * ANNUITY


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> chargeplan.Scenario:
    return economics_scenario(tmp_path_factory.mktemp("service"), FREE_DETOURS)


def test_service_curve_by_hand(scenario) -> None:
    curve = service_curve(scenario, [210, 5, 30])
    assert curve["curve"].unique().tolist() == ["service"]
    assert curve["urban_reach_km"].tolist() == [5, 30, 210]  # sorted
    assert curve["rural_reach_km"].tolist() == [5, 30, 210]  # one radius: every zone's
    assert curve["status"].tolist() == ["optimal"] * 3
    assert curve["capex_cny"].tolist() == pytest.approx([44_800, 24_700, 25_000])
    assert curve["sites_opened"].tolist() == [3, 1, 1]
    assert curve["chargers"].tolist() == [58, 57, 60]
    assert curve["coverage"].tolist() == pytest.approx([0.926, 0.926, 1.0])
    assert curve["npv_cny"].tolist() == pytest.approx(
        [npv(44_800, 1_480, 926), npv(24_700, 1_470, 926), npv(25_000, 1_500, 1_000)]
    )
    assert curve["npv_without_support_cny"].tolist() == pytest.approx(
        [npv(44_800, 0, 926), npv(24_700, 0, 926), npv(25_000, 0, 1_000)]
    )
    step = curve["capex_cny_per_extra_coverage_point"]
    assert step.isna().tolist() == [True, True, False]  # no change in coverage: no figure
    assert step.iloc[2] == pytest.approx(300 / 7.4)
    assert curve["npv_cny_per_extra_coverage_point"].iloc[2] == pytest.approx(
        (npv(25_000, 1_500, 1_000) - npv(24_700, 1_470, 926)) / 7.4
    )
    assert len(plot_curve(curve).axes) == 4  # NPV, capex, coverage, marginal cost


def test_scaled_reach_keeps_the_ratios_of_the_standard(tmp_path: Path) -> None:
    path = conftest.write_tiny_scenario(tmp_path, conftest.SCENARIO + STANDARD)
    scenario = chargeplan.load_scenario(path)
    changed = scenario.with_values(scaled_reach(scenario, 6))
    standard = changed.reach.standard
    assert standard is not None
    assert (standard.urban_km, standard.suburban_km, standard.rural_km) == (6, 20, 50)
    assert changed.name == "tiny urban=6km"
    plain = chargeplan.load_scenario(conftest.write_tiny_scenario(tmp_path / "plain"))
    assert scaled_reach(plain, 12)["reach.service_radius_km"] == 12


def test_a_cost_table_has_no_standard_to_vary(tiny_scenario: Path) -> None:
    scenario = chargeplan.load_scenario(tiny_scenario)
    changed = scenario.model_copy(
        update={"reach": scenario.reach.model_copy(update={"cost_table": Path("costs.csv")})}
    )
    with pytest.raises(ScenarioError, match=r"reach\.cost_table lists its own pairs"):
        scaled_reach(changed, 3)


def test_service_curve_command_files_and_resume(scenario, tmp_path: Path, capsys) -> None:
    """Two points solved before (as a killed run leaves them) are reused: only 210 km is
    solved; a rerun of the finished curve solves nothing."""
    out = tmp_path / "curve"
    store = PointStore(out.parent / f".{out.name}.points")
    service_curve(scenario, [5, 30], store=store)
    result = run_curve(scenario, out, standards=[5, 30, 210])
    assert set(result.manifest["timings"]["point_solve_s"]) == {"210"}
    assert not store.folder.exists()  # removed once the curve is published
    curve = pd.read_csv(out / "curve.csv")
    assert curve["capex_cny"].tolist() == pytest.approx([44_800, 24_700, 25_000])
    assert sorted(p.name for p in out.iterdir()) == ["curve.csv", "curve.png", "manifest.json"]
    assert (out / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    argv = ["curve", str(scenario.source), "--service-standards", "5,30,210", "--out", str(out)]
    assert main([*argv, "-q"]) == 0
    assert "3 plans (complete from an earlier run)" in capsys.readouterr().out


def test_service_standards_are_positive_numbers(tiny_scenario: Path, capsys) -> None:
    assert parse_standards("2, 3,5,2.5") == [2, 3, 5, 2.5]
    for bad in ("2km", "-1", "0", "nan", " , "):
        with pytest.raises(ScenarioError):
            parse_standards(bad)
    assert main(["curve", str(tiny_scenario), "--service-standards", "3km", "-q"]) == 3
    assert "'3km' is not a service standard" in capsys.readouterr().err
