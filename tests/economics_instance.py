"""The tiny scenario (tests/conftest.py) with station economics whose figures are derived by hand
(tests/test_economics_report.py's docstring): one flat tariff earning CNY 1.2 per kWh, no
operating cost, no non-brand users, 10 years at 10 %, construction support CNY 10 per kW; zones
z1 and z2 in city "A", z3 and z4 in city "B"."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

import chargeplan

from . import conftest


def economics_section(profile: str, **values: str) -> str:
    """A tiny scenario's ``[economics]`` section: the tables and region column every economics
    test shares, the hourly ``profile``, then ``values`` (key = TOML text), in order."""
    keys = {
        "tariffs": '"tariffs.csv"',
        "support": '"support.csv"',
        "region_columns": '["name"]',
        "load_profile": f"[{profile}]",
        **values,
    }
    return "\n[economics]\n" + "".join(f"{key} = {value}\n" for key, value in keys.items())


#: Economics with every cost present, so that every term is checked (test_economics, test_npv).
FULL = {
    "interoperability_share": "0.25",
    "lifetime_years": "10",
    "discount_rate": "0.08",
    "first_year": "2030",
    "maintenance_cny_per_stall_year": "{ dc_fast = 100, ac_destination = 10 }",
    "lease_cny_per_station_year": "1_000",
    "lease_cny_per_stall_year": "100",
    "payment_fee_share": "0.006",
    "demand_charge_cny_per_kva_month": "25",
    "kva_per_kw": "1.07",
}

#: The hand-derivable economics of this module's docstring.
HAND = {
    "interoperability_share": "0.0",
    "lifetime_years": "10",
    "discount_rate": "0.1",
    "first_year": "2030",
    "maintenance_cny_per_stall_year": "{ dc_fast = 0, ac_destination = 0 }",
    "lease_cny_per_station_year": "0",
    "lease_cny_per_stall_year": "0",
    "payment_fee_share": "0.0",
    "demand_charge_cny_per_kva_month": "0",
    "kva_per_kw": "1.0",
}
PROFILE = ", ".join(["0.0416666666666667"] * 23 + [str(1 - 23 * 0.0416666666666667)])
TARIFF = """\
region,band,hours,energy_cost_cny_per_kwh,energy_price_cny_per_kwh,service_fee_cny_per_kwh,source
*,all,0-24,0.6,0.8,1.0,test
"""
SUPPORT = """\
version,region,kind,value,min_power_kw,max_power_kw,valid_from,valid_to,source
v1,*,construction_per_kw,10,,,2020,,test: CNY 10 per kW anywhere
"""

ANNUITY = sum(1.1**-t for t in range(1, 11))
REVENUE = 926 * 3650 * 1.2


def economics_scenario(folder: Path, base: str = conftest.SCENARIO) -> chargeplan.Scenario:
    """The tiny scenario (or ``base``) with the economics above and cities A (z1, z2) and B
    (z3, z4)."""
    path = conftest.write_tiny_scenario(folder, base + economics_section(PROFILE, **HAND))
    zones = gpd.read_file(folder / "zones.geojson")
    zones["city"] = ["A", "A", "B", "B"]
    zones.to_file(folder / "zones.geojson", driver="GeoJSON")
    (folder / "tariffs.csv").write_text(TARIFF, encoding="utf-8")
    (folder / "support.csv").write_text(SUPPORT, encoding="utf-8")
    return chargeplan.load_scenario(path)
