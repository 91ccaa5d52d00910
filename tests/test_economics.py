"""Station economics (issue 15 items 1-2): NPV, payback, load profile, interoperability and
state support, checked against arithmetic written out in each test.

The one-station instance: a site "C" in province "P" with 2 chargers of 100 kW (catalogue
capex CNY 50 k each) serving 20 kWh in the design hour; the station's capex is CNY 400 k.
With the demand's peak-hour share 0.1 it serves 20 / 0.1 = 200 kWh a day, 73,000 kWh a year.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import chargeplan
from chargeplan.config.catalogue import ChargerType
from chargeplan.config.economics import EconomicsConfig
from chargeplan.errors import InputError, ScenarioError
from chargeplan.inputs.economics_tables import parse_hours, read_support, read_tariffs
from chargeplan.inputs.support import construction_support_per_charger, net_capex
from chargeplan.outputs.write import write_plan
from chargeplan.results.economics import payback_years, station_economics

from . import conftest
from .economics_instance import FULL, economics_section

DC = ChargerType(
    power_kw=100, capex_cny=50_000, session_kwh=25, session_minutes=20, max_utilisation=0.8
)
FLAT = [1 / 24] * 24
TARIFF = """\
region,band,hours,energy_cost_cny_per_kwh,energy_price_cny_per_kwh,service_fee_cny_per_kwh,source
*,all,0-24,0.6,0.8,1.0,test
"""
SUPPORT_HEADER = "version,region,kind,value,min_power_kw,max_power_kw,valid_from,valid_to,source\n"


def annuity(rate: float, years: int) -> float:
    """Present value of 1 a year for ``years`` years: sum_{t=1..T} (1 + r)^-t."""
    return sum((1 + rate) ** -t for t in range(1, years + 1))


def config(**changes: object) -> EconomicsConfig:
    """Lifetime 10 years from 2030 at 10 %; maintenance 1,000 per charger, lease 5,600 a
    station; no payment fee, no demand charge, no non-brand users (unless changed)."""
    values: dict[str, object] = {
        "tariffs": Path("unused.csv"),
        "region_columns": ("province", "name"),
        "load_profile": FLAT,
        "interoperability_share": 0.0,
        "lifetime_years": 10,
        "discount_rate": 0.1,
        "first_year": 2030,
        "maintenance_cny_per_stall_year": {"dc": 1_000},
        "lease_cny_per_station_year": 5_600,
        "lease_cny_per_stall_year": 0,
        "payment_fee_share": 0.0,
        "demand_charge_cny_per_kva_month": 0.0,
        "kva_per_kw": 1.0,
    }
    return EconomicsConfig(**{**values, **changes})


def one_station(**columns: object) -> pd.DataFrame:
    sites = {
        "open": [True, False],
        "province": ["P", "P"],
        "name": ["C", "D"],
        "chargers_dc": [2, 0],
        "served_kwh_dc": [20.0, 0.0],
        "capex_cny": [400_000.0, 0.0],
    }
    return pd.DataFrame({**sites, **columns}, index=["s1", "s2"])


def tables(tmp_path: Path, support_rows: str = "", tariff: str = TARIFF) -> tuple:
    (tmp_path / "tariffs.csv").write_text(tariff, encoding="utf-8")
    (tmp_path / "support.csv").write_text(SUPPORT_HEADER + support_rows, encoding="utf-8")
    support = read_support(tmp_path / "support.csv") if support_rows else None
    return read_tariffs(tmp_path / "tariffs.csv"), support


def run(tmp_path: Path, support_rows: str = "", sites: pd.DataFrame | None = None, **changes):
    tariffs, support = tables(tmp_path, support_rows)
    return station_economics(
        one_station() if sites is None else sites,
        {"dc": DC},
        config(**changes),
        tariffs,
        support,
        peak_hour_share=0.1,
    )


def test_npv_and_payback_of_one_station_by_hand(tmp_path: Path) -> None:
    # Revenue per kWh: service fee 1.0 + electricity margin 0.8 - 0.6 = 1.2; a year: 73,000 x
    # 1.2 = 87,600. Opex: 2 x 1,000 maintenance + 5,600 lease = 7,600. Net 80,000 a year.
    # NPV = -400,000 + 80,000 x annuity(10 %, 10 years) = -400,000 + 80,000 x 6.144567 = 91,565.
    # Simple payback: 400,000 / 80,000 = 5.0 years. Discounted: after 7 years 80,000 x
    # annuity(7) = 389,473.5 is back; year 8 adds 80,000 / 1.1^8 = 37,320.6: 7 + 10,526.5 /
    # 37,320.6 = 7.282 years.
    result = run(tmp_path)
    row = result.stations.loc["s1"]
    assert list(result.stations.index) == ["s1"]  # the closed site has no economics
    assert row["energy_kwh_per_year"] == pytest.approx(73_000)
    assert row["revenue_cny_per_year"] == pytest.approx(87_600)
    assert row["opex_cny_first_year"] == pytest.approx(7_600)
    assert row["npv_cny"] == pytest.approx(-400_000 + 80_000 * annuity(0.1, 10))
    assert row["npv_cny"] == pytest.approx(91_565.37, abs=0.01)
    assert row["payback_years"] == pytest.approx(5.0)
    back = 80_000 * annuity(0.1, 7)
    assert row["discounted_payback_years"] == pytest.approx(
        7 + (400_000 - back) / (80_000 / 1.1**8)
    )
    assert row["discounted_payback_years"] == pytest.approx(7.282, abs=1e-3)
    summary = result.summary()
    assert summary["npv_cny"] == pytest.approx(row["npv_cny"])
    assert summary["payback_years"] == pytest.approx(5.0)


def test_payback_interpolates_and_is_nan_when_never_reached() -> None:
    flows = np.array([[-100.0, 40, 40, 40], [-100.0, 10, 10, 10], [0.0, 1, 1, 1]])
    got = payback_years(flows)
    assert got[0] == pytest.approx(2.5)  # after 2 years -20 is left, the third year brings 40
    assert math.isnan(got[1])
    assert got[2] == 0.0


def test_payment_fees_and_demand_charge_by_hand(tmp_path: Path) -> None:
    # Payment fee 1 % of what drivers pay (1.0 + 0.8 = 1.8 per kWh): 0.01 x 1.8 x 73,000 =
    # 1,314. Demand charge 10 per kVA-month x 200 kVA (2 x 100 kW x 1 kVA/kW) x 12 = 24,000.
    result = run(tmp_path, payment_fee_share=0.01, demand_charge_cny_per_kva_month=10)
    row = result.stations.loc["s1"]
    assert row["kva"] == pytest.approx(200)
    assert row["opex_cny_first_year"] == pytest.approx(7_600 + 1_314 + 24_000)
    net = 87_600 - 7_600 - 1_314 - 24_000
    assert row["npv_cny"] == pytest.approx(-400_000 + net * annuity(0.1, 10))


def test_load_profile_weights_the_time_of_use_bands(tmp_path: Path) -> None:
    # Valley 0-8 (margin 0.5 + 0 = 0.5 per kWh), day 8-24 (1.0 + 0.3 = 1.3). A profile with
    # a quarter of the energy in hours 0-7: 0.25 x 0.5 + 0.75 x 1.3 = 1.1 per kWh.
    tariff = (
        "region,band,hours,energy_cost_cny_per_kwh,energy_price_cny_per_kwh,"
        "service_fee_cny_per_kwh,source\n"
        "*,valley,0-8,0.3,0.3,0.5,t\n*,day,8-24,0.7,1.0,1.0,t\n"
    )
    profile = [0.25 / 8] * 8 + [0.75 / 16] * 16
    tariffs, _ = tables(tmp_path, tariff=tariff)
    result = station_economics(
        one_station(), {"dc": DC}, config(load_profile=profile), tariffs, None, peak_hour_share=0.1
    )
    row = result.stations.loc["s1"]
    assert row["revenue_per_kwh_cny"] == pytest.approx(1.1)
    assert row["revenue_cny_per_year"] == pytest.approx(1.1 * 73_000)
    # daily energy = design-hour kWh / peak-hour share: 40 kWh at a 0.2 share is 200 kWh a day
    half = station_economics(
        one_station(served_kwh_dc=[40.0, 0.0]),
        {"dc": DC},
        config(load_profile=profile),
        tariffs,
        None,
        peak_hour_share=0.2,
    )
    assert half.stations.loc["s1", "energy_kwh_per_year"] == pytest.approx(73_000)


def test_interoperability_adds_non_brand_energy(tmp_path: Path) -> None:
    # Non-brand users charge 20 % of the station's energy: 73,000 / 0.8 = 91,250 kWh; the extra
    # 18,250 kWh earn 1.2 each: 21,900 a year more, worth 21,900 x annuity(10 %, 10) in NPV.
    base = run(tmp_path).stations.loc["s1"]
    shared = run(tmp_path, interoperability_share=0.2).stations.loc["s1"]
    assert shared["energy_kwh_per_year"] == pytest.approx(91_250)
    assert shared["revenue_cny_per_year"] - base["revenue_cny_per_year"] == pytest.approx(21_900)
    assert shared["npv_cny"] - base["npv_cny"] == pytest.approx(21_900 * annuity(0.1, 10))


SUPPORT = (
    "v1,C,construction_per_kw,300,,,2020,,city rule\n"
    "v1,*,construction_per_kw,100,,,2020,,national rule (the city's overrides it)\n"
    "v1,C,construction_cap_per_station_cny,50000,,,,,cap\n"
    "v1,P,operation_per_kwh,0.1,,,2020,,province rule\n"
    "v1,P,operation_cap_per_station_year_cny,5000,,,,,cap\n"
    "v1,*,demand_charge_exempt,1,,,2023,2032,exempt until 2032\n"
)


def test_support_with_caps_and_exemption_by_hand(tmp_path: Path) -> None:
    # Construction: 200 kW x 300 (the city's rule, not the national 100) = 60,000, capped at
    # 50,000. Operation: 0.1 x 73,000 = 7,300 a year, capped at 5,000. Demand charge 10 per
    # kVA-month x 200 kVA x 12 = 24,000 a year, waived in 2030-2032 (3 of the 10 years).
    result = run(tmp_path, SUPPORT, demand_charge_cny_per_kva_month=10)
    row = result.stations.loc["s1"]
    assert row["construction_support_cny"] == pytest.approx(50_000)
    assert row["operation_support_cny_first_year"] == pytest.approx(5_000)
    worth = 50_000 + 5_000 * annuity(0.1, 10) + 24_000 * annuity(0.1, 3)
    assert row["support_npv_cny"] == pytest.approx(worth)
    assert row["npv_cny"] - row["npv_without_support_cny"] == pytest.approx(worth)
    without = -400_000 + (87_600 - 7_600 - 24_000) * annuity(0.1, 10)
    assert row["npv_without_support_cny"] == pytest.approx(without)
    # 56,000 a year without support: NPV < 0; with the support worth ~138 k: NPV > 0
    assert without < 0 < row["npv_cny"]
    assert bool(row["viable_only_with_support"])
    assert result.summary()["stations_viable_only_with_support"] == 1


def test_support_only_in_its_years_and_power_range(tmp_path: Path) -> None:
    # A rule valid until 2029 does not count from 2030; a rule for chargers of 350 kW and more
    # skips 100 kW chargers; one for up to 150 kW takes them: 200 kW x 80 = 16,000.
    rows = (
        "v1,*,operation_per_kwh,0.5,,,2010,2029,expired\n"
        "v1,*,construction_per_kw,500,350,,2020,,ultra-fast only\n"
        "v1,C,construction_per_kw,80,,150,2020,,up to 150 kW\n"
    )
    row = run(tmp_path, rows).stations.loc["s1"]
    assert row["operation_support_cny_first_year"] == 0.0
    assert row["construction_support_cny"] == pytest.approx(16_000)


def test_more_support_never_lowers_npv(tmp_path: Path) -> None:
    # NPV with support is non-decreasing in every rule's value (caps left out: they only clip).
    rng = np.random.default_rng(7)
    previous = -np.inf
    for scale in (0.0, 0.5, 1.0, 2.0, 4.0):
        rows = (
            f"v1,*,construction_per_kw,{100 * scale},,,2020,,c\n"
            f"v1,*,operation_per_kwh,{0.05 * scale},,,2020,,o\n"
            f"v1,*,operation_per_kw_year,{20 * scale},,,2020,,k\n"
            f"v1,*,rent_support,{min(0.2 * scale, 1.0)},,,2020,,r\n"
        )
        served = rng.uniform(5, 40)
        npv = run(tmp_path, rows, one_station(served_kwh_dc=[served, 0.0]))
        value = (
            npv.stations.loc["s1", "npv_cny"] - npv.stations.loc["s1", "npv_without_support_cny"]
        )
        assert value >= previous - 1e-6
        previous = value


def test_bad_tables_are_named_with_row_and_column(tmp_path: Path) -> None:
    bad_hours = TARIFF.replace("0-24", "0-20")
    with pytest.raises(InputError, match=r"hours \[20, 21, 22, 23\] are covered \[0, 0, 0, 0\]"):
        tables(tmp_path, tariff=bad_hours)
    with pytest.raises(InputError, match="row 1, column 'hours'"):
        tables(tmp_path, tariff=TARIFF.replace("0-24", "noon"))
    with pytest.raises(InputError, match=r"unknown kinds \['per_car'\].*row 1"):
        tables(tmp_path, "v1,*,per_car,5,,,,,x\n")
    with pytest.raises(InputError, match="shares above 1"):
        tables(tmp_path, "v1,*,rent_support,1.5,,,,,x\n")
    with pytest.raises(InputError, match="lack a region or a source"):
        tables(tmp_path, "v1,*,rent_support,0.5,,,,,\n")
    (tmp_path / "s.csv").write_text(SUPPORT_HEADER + "v1,*,rent_support,0.5,,,,,x\n")
    with pytest.raises(InputError, match=r"no rows of version 'v9'.*\['v1'\]"):
        read_support(tmp_path / "s.csv", "v9")


def test_support_table_keeps_one_version(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text(
        SUPPORT_HEADER + "2025-01,*,rent_support,0.5,,,,,old\n2026-11,*,rent_support,0.2,,,,,new\n"
    )
    assert read_support(tmp_path / "s.csv")["value"].tolist() == [0.2]  # the latest
    assert read_support(tmp_path / "s.csv", "2025-01")["value"].tolist() == [0.5]


def test_parse_hours_wraps_past_midnight() -> None:
    assert np.flatnonzero(parse_hours("23-7")).tolist() == [0, 1, 2, 3, 4, 5, 6, 23]
    assert parse_hours("10-15;18-21").sum() == 8


def test_shipped_tables_read_and_cover_the_day() -> None:
    tariffs = read_tariffs(conftest.REPO / "models" / "tariffs-cn.csv")
    for _, rows in tariffs.groupby("region"):
        assert np.stack(rows["hours"].to_list()).sum(axis=0).tolist() == [1] * 24
    support = read_support(conftest.REPO / "models" / "state-support-cn.csv")
    assert support["source"].str.len().min() > 20  # every rule says where it comes from


#: The tests' economics (every cost present, so every term is checked).
VALUES = FULL


def test_scenario_plan_reports_economics_without_changing_the_plan(tmp_path: Path) -> None:
    plain = conftest.write_tiny_scenario(tmp_path / "plain")
    folder = tmp_path / "econ"
    path = conftest.write_tiny_scenario(
        folder, conftest.SCENARIO + economics_section(FLAT_PROFILE, **VALUES)
    )
    tables(folder, "v1,one,construction_per_kw,200,,,2020,,site one's city\n")
    base = chargeplan.plan_network(chargeplan.load_scenario(plain))
    plan = chargeplan.plan_network(chargeplan.load_scenario(path))
    assert plan.summary["objective_value"] == pytest.approx(base.summary["objective_value"])
    assert base.economics is None and "npv_cny" not in base.summary
    table = plan.economics
    assert table is not None
    assert sorted(table.index) == sorted(plan.sites.index[plan.sites["open"]])
    assert plan.summary["npv_cny"] == pytest.approx(table["npv_cny"].sum())
    kw = plan.sites["chargers_dc_fast"] * 100 + plan.sites["chargers_ac_destination"] * 10
    construction = 200 * kw.get("s1", 0) if "s1" in table.index else 0.0
    assert table["construction_support_cny"].sum() == pytest.approx(construction)
    written = write_plan(plan, tmp_path / "out", map_png=False, report=False)
    economics_csv = pd.read_csv(written["economics.csv"])
    assert economics_csv["site_id"].tolist() == list(table.index)


FLAT_PROFILE = ", ".join(["0.0416666666666667"] * 23 + [str(1 - 23 * 0.0416666666666667)])


def test_economics_scenario_errors(tmp_path: Path) -> None:
    tables(tmp_path)
    uneven = economics_section(", ".join(["0.05"] * 24), **VALUES)
    path = conftest.write_tiny_scenario(tmp_path, conftest.SCENARIO + uneven)
    with pytest.raises(ScenarioError, match=r"add up to 1 \(they add up to 1.2\)"):
        chargeplan.load_scenario(path)
    no_ac = economics_section(FLAT_PROFILE, **VALUES).replace(", ac_destination = 10", "")
    path = conftest.write_tiny_scenario(tmp_path, conftest.SCENARIO + no_ac)
    with pytest.raises(ScenarioError, match=r"no figure for charger types \['ac_destination'\]"):
        chargeplan.load_scenario(path)


def test_missing_region_column_is_an_error_before_the_solve(tmp_path: Path) -> None:
    scenario = conftest.SCENARIO + economics_section(FLAT_PROFILE, **VALUES).replace(
        '["name"]', '["city"]'
    )
    path = conftest.write_tiny_scenario(tmp_path, scenario)
    tables(tmp_path)
    with pytest.raises(InputError, match=r"no columns \['city'\].*economics.region_columns"):
        chargeplan.plan_network(chargeplan.load_scenario(path))


def test_the_default_scenario_profile_peaks_at_the_design_hour_share() -> None:
    # The design hour is the profile's busiest hour: its share is the demand's peak-hour share.
    scenario = chargeplan.load_scenario(conftest.DEFAULT_SCENARIO)
    economics = scenario.economics
    assert economics is not None
    assert max(economics.load_profile) == pytest.approx(scenario.demand.peak_hour_share)
    assert int(np.argmax(economics.load_profile)) == 12  # noon, the largest of three peaks


def test_roll_up_per_city_and_network_payback(tmp_path: Path) -> None:
    # Two open stations in province P: s1 as above (net 80,000 a year on 400,000), s2 with
    # 2 chargers and half the demand (36,500 kWh: revenue 43,800, opex 7,600, net 36,200) on
    # 400,000 capex.
    # Network: -800,000 then 116,200 a year: payback 800,000 / 116,200 = 6.885 years.
    sites = one_station(
        open=[True, True],
        chargers_dc=[2, 2],
        served_kwh_dc=[20.0, 10.0],
        capex_cny=[400_000.0, 400_000.0],
    )
    result = run(tmp_path, sites=sites)
    assert result.stations.loc["s2", "revenue_cny_per_year"] == pytest.approx(43_800)
    per_city = result.by("name")
    assert per_city.loc["D", "npv_cny"] == pytest.approx(-400_000 + 36_200 * annuity(0.1, 10))
    per_province = result.by("province")
    assert per_province.loc["P", "stations"] == 2
    assert per_province.loc["P", "npv_cny"] == pytest.approx(result.stations["npv_cny"].sum())
    assert result.summary()["payback_years"] == pytest.approx(800_000 / 116_200)


def test_more_construction_support_never_raises_the_least_cost_objective(tmp_path: Path) -> None:
    # economics.support_in_capex: each charger's capex is net of CNY v per kW (dc_fast: 100 kW
    # at CNY 1,000, so v = 10 makes it free; ac_destination: 10 kW at CNY 100, free at v = 10).
    # Lowering cost coefficients of a minimisation never raises its optimum (gap 0 here).
    scenario = (
        conftest.SCENARIO + economics_section(FLAT_PROFILE, **VALUES) + "support_in_capex = true\n"
    )
    path = conftest.write_tiny_scenario(tmp_path, scenario)
    objectives = []
    for per_kw in (0.0, 2.0, 5.0, 10.0):
        tables(tmp_path, f"v1,*,construction_per_kw,{per_kw},,,2020,,test\n")
        plan = chargeplan.plan_network(chargeplan.load_scenario(path))
        objectives.append(plan.summary["objective_value"])
        table = plan.economics
        assert table is not None
        # the reported capex is gross: the support taken off in the objective is added back
        # and counted once, as construction support
        kw = plan.sites.loc[table.index, "chargers_dc_fast"] * 100 + (
            plan.sites.loc[table.index, "chargers_ac_destination"] * 10
        )
        assert table["construction_support_cny"].to_numpy() == pytest.approx(per_kw * kw)
        assert table["capex_cny"].to_numpy() == pytest.approx(
            (plan.sites.loc[table.index, "capex_cny"] + per_kw * kw).to_numpy()
        )
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(objectives))
    assert objectives[-1] < objectives[0]  # free chargers: only sites and access cost remain
    base = chargeplan.plan_network(
        chargeplan.load_scenario(conftest.write_tiny_scenario(tmp_path / "b"))
    )
    assert objectives[0] == pytest.approx(base.summary["objective_value"])


def test_construction_support_per_charger_by_hand(tmp_path: Path) -> None:
    # Types: ultra 480 kW (capex 280,000), ac 7 kW (6,000). Site s1 in city C (province P),
    # s2 in city D (province P). Rules: C: 150 per kW for >= 350 kW and 50 per kW for <= 22 kW;
    # P: 30 % of capex; national: 1,000 per kW. Per kind the most specific region counts: C's
    # per-kW rates replace the national one at s1; the share (another kind) adds to them.
    # s1 ultra: 150 x 480 + 0.3 x 280,000 = 72,000 + 84,000 = 156,000; s1 ac: 50 x 7 + 0.3 x
    # 6,000 = 2,150. s2 (no city rule, national per kW): ultra 1,000 x 480 = 480,000 capped
    # at the capex 280,000 (the share adds more still); ac 7,000 + 1,800 capped at 6,000.
    chargers = {
        "ultra": ChargerType(
            power_kw=480, capex_cny=280_000, session_kwh=30, session_minutes=15, max_utilisation=0.8
        ),
        "ac": ChargerType(
            power_kw=7, capex_cny=6_000, session_kwh=15, session_minutes=180, max_utilisation=0.9
        ),
    }
    rows = (
        "v1,C,construction_per_kw,150,350,,2020,,c\n"
        "v1,C,construction_per_kw,50,,22,2020,,c\n"
        "v1,P,construction_share,0.3,,,2020,,p\n"
        "v1,*,construction_per_kw,1000,,,2020,,n\n"
    )
    _, support = tables(tmp_path, rows)
    sites = one_station()
    got = construction_support_per_charger(
        sites, chargers, support, region_columns=("province", "name"), year=2030
    )
    assert got.ravel().tolist() == pytest.approx([156_000, 2_150, 280_000, 6_000])
    net = net_capex(sites, chargers, support, region_columns=("province", "name"), year=2030)
    assert net["capex_cny_ultra"].tolist() == pytest.approx([124_000, 0])
    assert net["construction_support_cny_per_charger_ac"].tolist() == pytest.approx([2_150, 6_000])


def test_validate_checks_the_economics_tables(tmp_path: Path, capsys) -> None:
    from chargeplan.cli import main

    path = conftest.write_tiny_scenario(
        tmp_path, conftest.SCENARIO + economics_section(FLAT_PROFILE, **VALUES)
    )
    tables(tmp_path, "v1,*,rent_support,0.5,,,,,x\n")
    assert main(["validate", str(path), "-q"]) == 0
    (tmp_path / "tariffs.csv").write_text(TARIFF.replace("0-24", "0-20"), encoding="utf-8")
    assert main(["validate", str(path), "-q"]) != 0
    assert "tariffs.csv): region '*': hours [20, 21, 22, 23]" in capsys.readouterr().err
