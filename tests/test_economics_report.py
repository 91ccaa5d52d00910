"""Economics per city (``economics_cities.csv``) and in report.html, on the tiny plan with
economics whose figures are derived by hand.

The tiny plan (tests/test_pipeline.py): s2 (in zone z2) opens with 10 DC chargers of 100 kW and
47 AC chargers of 10 kW (1,470 kW), capex CNY 24,700, and serves z1, z2 and z3 (185 + 371 +
370 = 926 kWh in the design hour); z4 (74 kWh) is out of reach. Here zones z1 and z2 are city
"A" (region a), z3 and z4 city "B" (region b).

Economics: one flat tariff earning CNY 1.2 per kWh (service fee 1.0 + price 0.8 - cost 0.6), no
operating cost, no non-brand users, 10 years at 10 %, construction support CNY 10 per kW
anywhere. With the peak-hour share 0.1, a design-hour kWh is 365 / 0.1 = 3,650 kWh a year:

- s2: 926 x 3,650 = 3,379,900 kWh a year, revenue 4,055,880 a year; support 14,700;
  NPV = -24,700 + 14,700 + 4,055,880 x a(10 %, 10) (a: the annuity factor), without support
  -24,700 + 4,055,880 x a; payback 10,000 / 4,055,880 years, without 24,700 / 4,055,880.
- City A's users: 556 kWh served in the design hour, 2,029,400 kWh a year, all by the own
  network; city B's: 444 kWh of public demand (1,620,600 a year), 370 served (1,350,500),
  74 unserved (270,100): own-network share 370 / 444.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

import chargeplan
import chargeplan.cli
from chargeplan.outputs import formatting
from chargeplan.outputs.economics import city_economics
from chargeplan.outputs.html import render_report
from chargeplan.outputs.report_economics import energy, payback
from chargeplan.outputs.write import write_plan

from . import conftest
from .economics_instance import ANNUITY, REVENUE, economics_scenario


@pytest.fixture(scope="module")
def planned(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[chargeplan.Plan, chargeplan.Scenario]:
    scenario = economics_scenario(tmp_path_factory.mktemp("econ"))
    return chargeplan.plan_network(scenario), scenario


def test_the_network_figures_by_hand(planned) -> None:
    plan, _ = planned
    s = plan.summary
    assert s["capex_cny"] == pytest.approx(24_700)
    assert s["npv_cny"] == pytest.approx(-10_000 + REVENUE * ANNUITY)
    assert s["npv_without_support_cny"] == pytest.approx(-24_700 + REVENUE * ANNUITY)
    assert s["payback_years"] == pytest.approx(10_000 / REVENUE)
    assert s["payback_without_support_years"] == pytest.approx(24_700 / REVENUE)


def test_city_table_by_hand(planned) -> None:
    plan, scenario = planned
    cities = city_economics(plan, scenario)
    assert cities is not None
    assert cities["city"].tolist() == ["A", "B"]  # highest NPV first: B has no station
    a, b = (cities.iloc[i] for i in range(2))
    assert (a["province"], a["stations"], a["chargers"]) == ("a", 1, 57)
    assert a["capex_cny"] == pytest.approx(24_700)
    assert a["construction_support_cny"] == pytest.approx(14_700)
    assert a["npv_cny"] == pytest.approx(-10_000 + REVENUE * ANNUITY)
    assert a["npv_without_support_cny"] == pytest.approx(-24_700 + REVENUE * ANNUITY)
    assert a["support_npv_cny"] == pytest.approx(14_700)
    assert a["payback_years"] == pytest.approx(10_000 / REVENUE)
    assert a["payback_without_support_years"] == pytest.approx(24_700 / REVENUE)
    assert a["station_energy_kwh_per_year"] == pytest.approx(926 * 3650)
    assert a["public_demand_kwh_per_year"] == pytest.approx(556 * 3650)
    assert a["own_network_kwh_per_year"] == pytest.approx(556 * 3650)
    assert a["own_network_share"] == pytest.approx(1.0)
    assert (b["province"], b["stations"], b["npv_cny"]) == ("b", 0, 0.0)
    assert pd.isna(b["payback_years"])  # no station, no cash flow
    assert b["public_demand_kwh_per_year"] == pytest.approx(444 * 3650)
    assert b["own_network_kwh_per_year"] == pytest.approx(370 * 3650)
    assert b["unserved_kwh_per_year"] == pytest.approx(74 * 3650)
    assert b["third_party_kwh_per_year"] == 0.0
    assert b["own_network_share"] == pytest.approx(370 / 444)
    assert b["competitor_share"] == 0.0
    # the cities add up to the network
    assert cities["npv_cny"].sum() == pytest.approx(plan.summary["npv_cny"])


def test_economics_cities_csv(planned, tmp_path: Path) -> None:
    plan, scenario = planned
    written = write_plan(plan, tmp_path / "out", scenario=scenario, map_png=False, report=False)
    table = pd.read_csv(written["economics_cities.csv"], encoding="utf-8-sig")
    assert table["city"].tolist() == ["A", "B"]
    assert table["npv_cny"].iloc[0] == pytest.approx(-10_000 + REVENUE * ANNUITY)
    assert table.columns[:2].tolist() == ["city", "province"]
    # every column is documented in docs/outputs.md
    docs = (conftest.REPO / "docs" / "outputs.md").read_text(encoding="utf-8")
    section = docs[docs.index("## `economics_cities.csv`") :]
    documented = set(re.findall(r"`([a-z_]+)`", section[: section.index("\n## ", 5)]))
    assert set(table.columns) <= documented, set(table.columns) - documented


def _text_of(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', page)
    assert match, element_id
    return html.unescape(match.group(1))


def test_report_economics_figures_are_the_summarys(planned) -> None:
    """The section's figures are summary.json's, formatted: NPV CNY 24.9 M with support
    (-10,000 + 4,055,880 x 6.1446, the by-hand value above), support worth CNY 14.7 k, payback
    0.0 years (10,000 / 4,055,880)."""
    plan, scenario = planned
    page = render_report(plan, scenario=scenario, date=dt.date(2030, 1, 2))
    s = plan.summary
    expected = {
        "ec-npv": formatting.cny(s["npv_cny"]),
        "ec-npv-without": formatting.cny(s["npv_without_support_cny"]),
        "ec-support": formatting.cny(s["npv_cny"] - s["npv_without_support_cny"]),
        "ec-payback": f"{s['payback_years']:,.1f} years",
        "ec-payback-without": f"{s['payback_without_support_years']:,.1f} years",
        "ec-npv-positive": "1",
        "ec-viable-only": "0",
    }
    assert {k: _text_of(page, k) for k in expected} == expected
    npv = -10_000 + REVENUE * ANNUITY
    assert expected["ec-npv"] == f"CNY {npv / 1e6:,.1f} M" == "CNY 24.9 M"
    assert expected["ec-support"] == "CNY 14.7 k"
    summary = page[page.index('id="executive-summary"') : page.index('id="map"')]
    assert f"net present value of <strong>{expected['ec-npv']}</strong>" in summary
    section = page[page.index('id="economics"') : page.index('id="gaps"')]
    assert '<td>A</td><td class="n">1</td><td class="n">CNY 24.7 k</td>' in section  # cities
    assert section.count("<tr>") == 2  # one city with a station; no supported-only station
    assert "None: every station with a non-negative NPV" in section
    assert 'src="data:image/png;base64,' in section


def test_no_economics_no_section(tiny_scenario: Path) -> None:
    scenario = chargeplan.load_scenario(tiny_scenario)
    page = render_report(chargeplan.plan_network(scenario), scenario=scenario)
    assert 'id="economics"' not in page and 'id="gaps"' in page


def test_payback_and_energy_text() -> None:
    assert payback(2.345) == "2.3 years"
    assert payback(None) == payback(float("nan")) == "not within the lifetime"
    assert (energy(28_049.52e6), energy(609.49e6), energy(926)) == (
        "28.05 TWh",
        "609.49 GWh",
        "926 kWh",
    )


def test_a_rerendered_report_keeps_the_economics(planned, tmp_path: Path) -> None:
    """``chargeplan report RUN`` (rerender) reads economics.csv back: the same section."""
    from chargeplan.outputs.runs import read_run, rerender

    plan, scenario = planned
    out = tmp_path / "run"
    assert chargeplan.cli.main(["run", str(scenario.source), "--out", str(out), "-q"]) == 0
    first = (out / "report.html").read_text(encoding="utf-8")
    again = read_run(out)
    assert again.economics is not None
    assert again.economics["npv_cny"].tolist() == pytest.approx(plan.economics["npv_cny"].tolist())
    rerender(out)
    page = (out / "report.html").read_text(encoding="utf-8")

    def section(text: str) -> str:
        return text[text.index('id="economics"') : text.index('id="gaps"')]

    assert section(page) == section(first)


def test_a_run_with_numeric_ids_rerenders(tmp_path: Path) -> None:
    """Zone ids such as the default scenario's 110100 read back from assignments.csv as the
    zones are indexed (text), so ``chargeplan report RUN`` re-renders such a run."""
    from chargeplan.outputs.runs import read_run, rerender

    path = conftest.write_tiny_scenario(tmp_path / "numeric")
    zones = gpd.read_file(tmp_path / "numeric" / "zones.geojson")
    zones["zone_id"] = [110100, 120100, 130100, 130200]
    zones.to_file(tmp_path / "numeric" / "zones.geojson", driver="GeoJSON")
    out = tmp_path / "run"
    assert chargeplan.cli.main(["run", str(path), "--out", str(out), "-q"]) == 0
    plan = read_run(out)
    assert set(plan.assignments["zone_id"]) <= set(plan.zones.index)
    assert [p.name for p in rerender(out)] == ["map.png", "map.html", "report.html"]


def test_stations_viable_only_with_support_are_told_apart_by_id() -> None:
    """Three stations viable only with support (CNY 300, 200, 100 k of it, listed in that
    order): a station layer's c1 and c2 are named after their city, so the id names them; a
    hub named otherwise keeps its name with its id. Without a station table (a run read back)
    the sites' names stand in for the cities, so every station is named by its id."""
    from chargeplan.outputs.report_economics import _supported
    from chargeplan.results.plan import Plan

    economics = pd.DataFrame(
        {
            "viable_only_with_support": [True, True, True],
            "support_npv_cny": [200e3, 300e3, 100e3],
            "npv_cny": [1e3, 2e3, 3e3],
            "npv_without_support_cny": [-199e3, -298e3, -97e3],
        },
        index=["c2", "c1", "h1"],
    )
    sites = pd.DataFrame({"name": ["南京市", "南京市", "Airport hub"]}, index=["c1", "c2", "h1"])
    stations = pd.DataFrame(
        {"name": ["南京市", "南京市", "Airport hub"], "city": ["南京市", "南京市", "南京市"]},
        index=["c1", "c2", "h1"],
    )
    empty = pd.DataFrame()
    plan = Plan(sites=sites, zones=empty, assignments=empty, summary={}, economics=economics)
    rows = [list(r[:2]) for r in _supported(dataclasses.replace(plan, stations=stations)).rows]
    city = "Nanjing 南京市"
    assert rows == [["c1", city], ["c2", city], ["Airport hub (h1)", city]]
    rows = [list(r[:2]) for r in _supported(plan).rows]
    assert rows == [["c1", city], ["c2", city], ["h1", "Airport hub"]]
