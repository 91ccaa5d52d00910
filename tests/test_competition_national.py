"""The national coarse third-party layer (``models/public-chargers-cn-2024.csv``) and the
national scenario on it (``models/china-2030-competition.toml``; ``docs/competition.md``).

The table's counts are checked against the published national figures they spread, the
Shenzhen row against the city's real 2022 list, the scenario's shares against the formula
``P = N / (N + own_preference x own_piles)`` (a prefecture's piles N and the brand's hubs at
its demand centre) and the property of issue 15: a competitor station added next to a
candidate never raises the demand that candidate can capture.
"""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

import chargeplan
from chargeplan.errors import InputError
from chargeplan.inputs.competition import (
    apply_choice_model,
    own_reference_km,
    regional_pseudo_stations,
)
from chargeplan.inputs.reach import demand_centres
from tests.conftest import REPO, SCENARIO, write_tiny_scenario

TABLE = REPO / "models" / "public-chargers-cn-2024.csv"
NATIONAL = REPO / "models" / "china-2030-competition.toml"
TYPES = ["dc_fast", "ac_destination"]
# 3.58 M public chargers (end 2024) x 1.535 M DC / 3.391 M public piles (Oct 2024): facts file
DC_2024 = round(3_580_000 * 1_535_000 / 3_391_000)


def _table() -> pd.DataFrame:
    return pd.read_csv(TABLE, dtype={"region": str})


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_public_chargers", REPO / "geodata" / "build_public_chargers.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_adds_up_to_the_published_national_counts() -> None:
    """Each type sums to its national figure (1,620,554 DC + 1,959,446 AC = 3.58 M); Hong
    Kong and Macao, outside the mainland count, have none; every row names its source; a
    prefecture's piles are its proxy share of the national count, to the whole pile."""
    table = _table()
    assert DC_2024 == 1_620_554
    assert len(table) == 369 and table["region"].is_unique
    assert table["piles_dc_fast"].sum() == DC_2024
    assert table["piles_ac_destination"].sum() == 3_580_000 - DC_2024
    outside = table[table["region"].isin(["810000", "820000"])]
    assert len(outside) == 2
    assert (outside[["piles_dc_fast", "piles_ac_destination"]] == 0).all().all()
    assert table["source"].str.len().gt(20).all()
    assert table["proxy_share"].sum() == pytest.approx(1.0, abs=1e-6)
    for column, total in (("piles_dc_fast", DC_2024), ("piles_ac_destination", 1_959_446)):
        exact = table["proxy_share"] * total
        assert (table[column] - exact).abs().max() < 1.01


def test_the_nev_sales_cities_keep_their_published_ratio() -> None:
    """Hangzhou, Shenzhen and Shanghai take their shares from CATARC's 2024 city NEV sales
    (307.5 k, 301.0 k, 297.4 k): their piles stand in that ratio."""
    table = _table().set_index("region")
    share = table["proxy_share"]
    assert table.loc["330100", "proxy"].startswith("city NEV sales 2024")
    assert share["330100"] / share["440300"] == pytest.approx(307.5 / 301.0, rel=1e-6)
    assert share["310100"] / share["440300"] == pytest.approx(297.4 / 301.0, rel=1e-6)


def test_the_generator_rebuilds_the_shipped_table(tmp_path: Path) -> None:
    out = tmp_path / "public-chargers.csv"
    _generator().build(REPO / "models" / "china-2030.toml", out)
    assert out.read_bytes() == TABLE.read_bytes()


def test_shenzhen_against_its_real_2022_stations() -> None:
    """The layer's Shenzhen (43,809 DC + 52,971 AC, 2024) against ST-EVCDP's 1,706 stations of
    June-July 2022 (2,693 fast + 20,179 slow = 22,872): 96,780 / 22,872 = 4.23; scaled to the
    national count of July 2022 (684,000 DC of 1,575,000, EVCIPA), 1.86."""
    check = _generator().shenzhen_check(
        _table(), REPO / "geodata" / "shenzhen" / "shenzhen_public_stations_2022.csv"
    )
    assert (check["layer_dc"], check["layer_ac"]) == (43_809, 52_971)
    assert (check["real_dc"], check["real_ac"]) == (2_693, 20_179)
    assert check["ratio_all"] == pytest.approx(96_780 / 22_872, rel=1e-12)
    scaled = 43_809 * 684_000 / DC_2024 + 52_971 * 891_000 / (3_580_000 - DC_2024)
    assert check["ratio_all_2022"] == pytest.approx(scaled / 22_872, rel=1e-12)
    assert round(check["ratio_all"], 2) == 4.23 and round(check["ratio_all_2022"], 2) == 1.86


# --------------------------------------------------------------------------------------------
# the national scenario
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def national() -> tuple[chargeplan.Scenario, gpd.GeoDataFrame]:
    scenario = chargeplan.load_scenario(NATIONAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zones = chargeplan.prepare(scenario).zones
    return scenario, zones


def test_national_shares_follow_the_formula(
    national: tuple[chargeplan.Scenario, gpd.GeoDataFrame],
) -> None:
    """No prefecture sees another's piles within the 10 km cutoff and the brand's hubs stand
    at the demand centre (own_reference_km = 0), so P_ik = N_ik / (N_ik + 60 own_piles_k) with
    N_ik the table's piles: Shenzhen 43,809 / (43,809 + 60 x 1,730) = 0.2968 DC and 52,971 /
    (52,971 + 60 x 596) = 0.5970 AC, the shares the station-scale Shenzhen model gives on its
    real stations (0.2968, 0.5968). Nationally third parties take 14.4 % of the DC and 33.2 %
    of the AC demand."""
    scenario, zones = national
    assert scenario.competition is not None
    own = {t: 60 * scenario.competition.own_piles[t] for t in TYPES}
    assert own == {"dc_fast": 60 * 1730, "ac_destination": 60 * 596}
    assert zones["competitor_stations_near"].max() == 1
    piles = _table().set_index("region")
    n = piles.loc[zones["city_code"].astype(str)]
    for t in TYPES:
        expected = n[f"piles_{t}"].to_numpy(float) / (n[f"piles_{t}"].to_numpy(float) + own[t])
        np.testing.assert_allclose(zones[f"third_party_share_{t}"], expected, rtol=1e-12)
    shenzhen = zones[zones["city_code"] == 440300].iloc[0]
    assert shenzhen["third_party_share_dc_fast"] == pytest.approx(43_809 / 147_609, rel=1e-12)
    assert shenzhen["third_party_share_dc_fast"] == pytest.approx(0.2968, abs=5e-4)
    assert shenzhen["third_party_share_ac_destination"] == pytest.approx(0.5968, abs=5e-4)
    for t, share in (("dc_fast", 0.1444), ("ac_destination", 0.3317)):
        captured = zones[f"captured_kwh_{t}"].sum()
        assert captured / (captured + zones[f"peak_kwh_{t}"].sum()) == pytest.approx(
            share, abs=5e-5
        )


def test_target_own_share_caps_the_national_demand(
    national: tuple[chargeplan.Scenario, gpd.GeoDataFrame],
) -> None:
    """With target_own_share = 0.8 each prefecture keeps min(1 - P_ik, 0.8) of its demand:
    the big cities (P_dc ~ 0.3) keep 1 - P as before, the others 0.8."""
    scenario, zones = national
    capped_scenario = scenario.with_values({"competition.target_own_share": 0.8})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        capped = chargeplan.prepare(capped_scenario).zones
    for t in TYPES:
        demand = zones[f"peak_kwh_{t}"] + zones[f"captured_kwh_{t}"]
        kept = np.minimum(1 - zones[f"third_party_share_{t}"], 0.8) * demand
        np.testing.assert_allclose(capped[f"peak_kwh_{t}"], kept, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(
            capped[f"peak_kwh_{t}"] + capped[f"captured_kwh_{t}"], demand, rtol=1e-12
        )
    big = zones["third_party_share_dc_fast"] > 0.2
    assert big.sum() > 0 and (~big).sum() > 0
    np.testing.assert_allclose(
        capped.loc[big, "peak_kwh_dc_fast"], zones.loc[big, "peak_kwh_dc_fast"], rtol=1e-12
    )


def test_a_competitor_next_to_a_candidate_never_raises_its_capturable_demand(
    national: tuple[chargeplan.Scenario, gpd.GeoDataFrame],
) -> None:
    """Issue 15's property on the national layer: 40 seeded draws of a candidate city hub and
    a station of 1-60 DC and 0-60 AC piles put 200 m from it. No prefecture's demand left to
    the brand rises, so neither does the demand the candidate can capture (its zones within
    the 80 km reach); where the station is within 10 km of a prefecture's centre, that
    prefecture's DC demand left to the brand falls."""
    scenario, zones = national
    config = scenario.competition
    assert config is not None
    demand = zones.copy()
    for t in TYPES:
        demand[f"peak_kwh_{t}"] = zones[f"peak_kwh_{t}"] + zones[f"captured_kwh_{t}"]
    centres = demand_centres(demand, lon_column="centre_lon", lat_column="centre_lat")
    layer = regional_pseudo_stations(
        TABLE, demand, centres, TYPES, population_column="popu_2020", region_column="city_code"
    )
    own_km = own_reference_km(scenario, demand)
    crs = scenario.reach.crs
    before = apply_choice_model(demand, centres, layer, TYPES, config, own_km=own_km, crs=crs)
    sites = gpd.read_parquet(REPO / "geodata" / "china_candidate_sites.parquet").to_crs(crs)
    zone_xy = centres.to_crs(crs)
    rng = np.random.default_rng(15)
    fell = 0
    for site in rng.choice(len(sites), 40, replace=False):
        spot = sites.geometry.iloc[site]
        station = gpd.GeoDataFrame(
            {"station_id": ["new"], "own": [False]},
            geometry=[Point(spot.x + 200.0, spot.y)],
            crs=crs,
        ).to_crs("EPSG:4326")
        station["ports_dc_fast"] = float(rng.integers(1, 61))
        station["ports_ac_destination"] = float(rng.integers(0, 61))
        after = apply_choice_model(
            demand, centres, pd.concat([layer, station]), TYPES, config, own_km=own_km, crs=crs
        )
        assert (after["peak_kwh"] <= before["peak_kwh"] * (1 + 1e-12)).all()
        in_reach = (zone_xy.distance(spot) <= 1000 * scenario.reach.service_radius_km).to_numpy()
        assert after["peak_kwh"][in_reach].sum() <= before["peak_kwh"][in_reach].sum() * (1 + 1e-12)
        near = (zone_xy.distance(Point(spot.x + 200.0, spot.y)) <= 10_000).to_numpy()
        served = before["peak_kwh_dc_fast"].to_numpy() > 0
        assert (
            after["peak_kwh_dc_fast"][near & served] < before["peak_kwh_dc_fast"][near & served]
        ).all()
        fell += int((near & served).sum())
    assert fell > 0  # some draws do land next to a prefecture's centre


# --------------------------------------------------------------------------------------------
# the two keys on the tiny scenario
# --------------------------------------------------------------------------------------------

COMPETITION = """
[competition]
decay_per_km = 0.5
cutoff_km = 5
own_piles = { dc_fast = 4, ac_destination = 4 }
own_preference = 1
region_chargers = "by_zone.csv"
region_chargers_column = "zone_id"
"""


def _tiny_zones(folder: Path, text: str, table: str) -> gpd.GeoDataFrame:
    from chargeplan.inputs.prepare import prepare

    path = write_tiny_scenario(folder, SCENARIO + text)
    (folder / "by_zone.csv").write_text(table)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prepare(chargeplan.load_scenario(path)).zones


def test_rows_by_another_column_and_the_own_station_at_the_centre(tmp_path: Path) -> None:
    """Piles by zone id (region_chargers_column): z1 12 DC, z3 4 DC; the row of a zone not in
    the scenario (z9, as on a slice of a national table) is skipped. With the own station at
    the reach (30 km), z1's P = 12 / (12 + 4 e^-15); with own_reference_km = 0 it stands at
    the centre too: P = 12 / (12 + 4) = 0.75, z3 4 / 8 = 0.5, z2 none."""
    table = "region,piles_dc_fast,piles_ac_destination,source\nz1,12,0,x\nz3,4,0,x\nz9,7,7,x\n"
    far = _tiny_zones(tmp_path / "a", COMPETITION, table)
    np.testing.assert_allclose(
        far["third_party_share_dc_fast"],
        [12 / (12 + 4 * math.exp(-15)), 0, 4 / (4 + 4 * math.exp(-15)), 0],
        rtol=1e-12,
    )
    near = _tiny_zones(tmp_path / "b", COMPETITION + "own_reference_km = 0\n", table)
    np.testing.assert_allclose(near["third_party_share_dc_fast"], [0.75, 0, 0.5, 0], rtol=1e-12)
    assert (near["third_party_share_ac_destination"] == 0).all()


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            "region,piles_dc_fast,piles_ac_destination\nz1,1,1\nz2,2,2\nz1,3,3\n",
            r"by_zone\.csv: line 4: region 'z1' appears twice",
        ),
        (
            "region,piles_dc_fast,piles_ac_destination\nx1,1,1\nx2,2,2\n",
            r"by_zone\.csv: line 2: region 'x1' matches no zone's 'zone_id'",
        ),
    ],
)
def test_bad_tables_name_the_line(tmp_path: Path, table: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        _tiny_zones(tmp_path, COMPETITION, table)


def test_a_missing_region_column_names_the_key(tmp_path: Path) -> None:
    text = COMPETITION.replace('"zone_id"', '"city_code"')
    with pytest.raises(InputError, match=r"no column 'city_code'.*region_chargers_column"):
        _tiny_zones(tmp_path, text, "region,piles_dc_fast,piles_ac_destination\nz1,1,1\n")
