"""Scenario files: the default loads; mistakes give one clear error naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

import chargeplan
from chargeplan.errors import ScenarioError

from .conftest import DEFAULT_SCENARIO, SCENARIO, write_tiny_scenario


def test_default_scenario_loads() -> None:
    scenario = chargeplan.load_scenario(DEFAULT_SCENARIO)
    assert scenario.users.target_premium_users == 20_000_000
    assert scenario.charger_types == ["dc_fast", "ac_destination"]
    # 30 kWh per 35-minute session, 80 % busy at the peak: 30 x 60/35 x 0.8 = 41.14 kWh
    assert scenario.chargers["dc_fast"].peak_kwh_per_charger == pytest.approx(30 * 60 / 35 * 0.8)
    assert scenario.zones.file.is_file() and scenario.sites.file.is_file()


def test_with_values_revalidates() -> None:
    scenario = chargeplan.load_scenario(DEFAULT_SCENARIO)
    changed = scenario.with_values({"users.target_premium_users": 5_000_000})
    assert changed.users.target_premium_users == 5_000_000
    assert scenario.users.target_premium_users == 20_000_000  # frozen original
    with pytest.raises(ScenarioError, match="target_premium_users"):
        scenario.with_values({"users.target_premium_users": -1})


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "km_per_user_day = 50",
            "km_per_user_dya = 50",
            r"unknown key 'demand.km_per_user_dya' "
            r"\(did you mean 'km_per_user_day'\?\)",
        ),
        ("kwh_per_km = 0.2", "kwh_per_km = -0.2", r"demand.kwh_per_km.*greater than 0"),
        ("kwh_per_km = 0.2", 'kwh_per_km = "lots"', r"demand.kwh_per_km.*expected a number"),
        ("dc_fast = 0.5\nac", "dc_fast = 0.7\nac", r"demand.charger_mix.*add up to 1"),
        ("service_radius_km = 30", "service_radius_km = 30000", r"looks like metres"),
        ("target_premium_users = 1000", "", r"missing key 'users.target_premium_users'"),
        (
            'charger_catalogue = "chargers.toml"',
            'charger_catalogue = "nope.toml"',
            r"charger catalogue file not found.*nope.toml",
        ),
        ('file = "zones.geojson"', 'file = "missing.geojson"', r"zones.file.*not found"),
        (
            "unmet_penalty_cny_per_kwh = 5000",
            'unmet_penalty_cny_per_kwh = 5000\nobjective = "max_coverage"',
            r"max_coverage.*needs budget_cny or max_sites",
        ),
        (
            "[demand.charger_mix]\ndc_fast = 0.5\nac_destination = 0.5",
            "[demand.charger_mix]\ndc_fast = 0.5\nhpc = 0.5",
            r"charger types \['hpc'\]",
        ),
        ('name = "tiny"', 'name = "tiny', r"not valid TOML"),
    ],
)
def test_bad_scenario_names_file_and_key(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in SCENARIO
    path = write_tiny_scenario(tmp_path, SCENARIO.replace(old, new, 1))
    with pytest.raises(ScenarioError, match=expected) as info:
        chargeplan.load_scenario(path)
    assert "tiny.toml" in str(info.value) or "nope.toml" in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_catalogue_names_type_and_key(tmp_path: Path) -> None:
    path = write_tiny_scenario(tmp_path)
    (tmp_path / "chargers.toml").write_text(
        "[dc_fast]\npower_kw = 100\ncapex_cny = 1000\nsession_kwh = 25\nsession_minutes = 15\n"
        "max_utilisation = 1.5\n"
    )
    with pytest.raises(ScenarioError, match=r"chargers.toml \[dc_fast\].*max_utilisation"):
        chargeplan.load_scenario(path)
