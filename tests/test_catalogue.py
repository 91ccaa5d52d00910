"""The 2025-2030 charger catalogue: session length derived from charger power and the fleet's
acceptance, design-hour capacity per charger, and design capex, each checked by hand."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from chargeplan.config.catalogue import (
    Fleet,
    derive_session_minutes,
    load_catalogue,
    load_designs,
    load_fleet,
)
from chargeplan.errors import ScenarioError

from . import conftest

CATALOGUE_2030 = conftest.REPO / "models" / "chargers-cn-2030.toml"


def test_session_minutes_by_hand() -> None:
    # Half the cars accept 300 kW, half 90 kW. On 480 kW: 30 kWh take 30/300 h = 6 min or
    # 30/90 h = 20 min; mean 13 min + 5 min handling = 18. On 60 kW both are held to 60 kW:
    # 30 min + 5 = 35 (the 2025 catalogue's DC session).
    fleet = Fleet.model_validate(
        {
            "classes": {
                "fast": {"share": 0.5, "acceptance_kw": 300},
                "slow": {"share": 0.5, "acceptance_kw": 90},
            }
        }
    )
    assert derive_session_minutes(480, 30, 5, fleet) == pytest.approx(18.0)
    assert derive_session_minutes(60, 30, 5, fleet) == pytest.approx(35.0)
    # 200 kW: 30/200 h = 9 min for the fast half, 20 for the slow: 5 + 14.5
    assert derive_session_minutes(200, 30, 5, fleet) == pytest.approx(19.5)


def test_2030_catalogue_capacity_per_charger_by_hand() -> None:
    # Fleet: 50 % at 300 kW, 30 % at 180 kW, 20 % at 90 kW; 30 kWh sessions, 5 min handling.
    # 480 kW: 60 x 30 x (0.5/300 + 0.3/180 + 0.2/90) = 1800 x 0.0055556 = 10 min -> 15 min;
    # a busy hour delivers 30 x 60 / 15 = 120 kWh, at 80 % utilisation 96 kWh.
    # 160 kW: 1800 x (0.8/160 + 0.2/90) = 1800 x 0.0072222 = 13 min -> 18 min; 100 kWh; 80 kWh.
    chargers = load_catalogue(CATALOGUE_2030)
    assert list(chargers) == ["ultra_fast", "dc_fast", "ac_destination"]
    ultra, dc, ac = chargers["ultra_fast"], chargers["dc_fast"], chargers["ac_destination"]
    assert ultra.power_kw == 480 and 120 <= dc.power_kw <= 180
    assert ultra.session_minutes == pytest.approx(15.0)
    assert ultra.kwh_per_busy_hour == pytest.approx(120.0)
    assert ultra.peak_kwh_per_charger == pytest.approx(96.0)
    assert dc.session_minutes == pytest.approx(18.0)
    assert dc.peak_kwh_per_charger == pytest.approx(80.0)
    assert ac.session_minutes == 180  # AC sessions are set by the stay, given directly
    fleet = load_fleet(CATALOGUE_2030)
    assert fleet is not None and sum(c.share for c in fleet.classes.values()) == pytest.approx(1)


def test_2030_designs_capex_by_hand() -> None:
    # uf2_dc2_ac4: 2 x 280 k + 2 x 75 k + 4 x 6 k + grid 417 k + civil 100 k = 1,251 k.
    # uf12_dc4_ac8: 12 x 280 k + 4 x 75 k + 8 x 6 k + 1,685 k + 320 k = 5,713 k.
    chargers = load_catalogue(CATALOGUE_2030)
    designs = load_designs(CATALOGUE_2030, chargers)
    assert [d.stalls["ultra_fast"] for d in designs.values()] == [2, 4, 8, 12]
    assert designs["uf2_dc2_ac4"].capex_cny(chargers) == pytest.approx(1_251_000)
    assert designs["uf12_dc4_ac8"].capex_cny(chargers) == pytest.approx(5_713_000)
    # kVA covers 1.07 kVA/kW x 0.7 diversity of the nameplate kW (rounded up to standard sizes)
    for design in designs.values():
        kw = sum(n * chargers[t].power_kw for t, n in design.stalls.items())
        assert design.grid_kva >= 1.07 * 0.7 * kw


def test_the_2025_catalogue_is_unchanged() -> None:
    chargers = load_catalogue(conftest.REPO / "models" / "chargers-cn-2025.toml")
    assert chargers["dc_fast"].session_minutes == 35
    assert chargers["dc_fast"].handling_minutes is None
    assert load_fleet(conftest.REPO / "models" / "chargers-cn-2025.toml") is None


def test_derived_sessions_need_a_fleet(tmp_path: Path) -> None:
    path = tmp_path / "chargers.toml"
    charger = """
        [dc]
        power_kw = 100
        capex_cny = 1
        session_kwh = 20
        handling_minutes = 5
        max_utilisation = 0.8
    """
    path.write_text(textwrap.dedent(charger))
    with pytest.raises(ScenarioError, match=r"\[dc\]: handling_minutes .* no \[fleet.classes"):
        load_catalogue(path)
    fleet = """
        [fleet.classes.a]
        share = 0.6
        acceptance_kw = 50
    """
    path.write_text(textwrap.dedent(charger + fleet))
    with pytest.raises(ScenarioError, match=r"add up to 1 \(they add up to 0.6\)"):
        load_catalogue(path)
    path.write_text(textwrap.dedent(charger + fleet.replace("0.6", "1.0")))
    # 20 kWh at min(100, 50) = 50 kW: 24 min + 5 = 29 min
    assert load_catalogue(path)["dc"].session_minutes == pytest.approx(29.0)
