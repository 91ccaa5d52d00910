"""Third-party networks through the Huff choice model (``[competition]``, docs/competition.md).

Shares are derived by hand on two zones and two stations; the pipeline is checked on the tiny
scenario of ``conftest.write_tiny_scenario`` (zones z1, z2, z3 with a candidate site at each
centre, 20 km apart; z4 out of reach).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

import chargeplan
from chargeplan.config.competition import CompetitionConfig
from chargeplan.errors import InputError, ScenarioError
from chargeplan.inputs.competition import (
    apply_choice_model,
    regional_pseudo_stations,
    third_party_share,
)
from tests.conftest import REPO, SCENARIO, write_tiny_scenario

from .target_instances import STANDARD as SERVICE_STANDARD

EXPONENTIAL = CompetitionConfig(decay_per_km=0.5, cutoff_km=4.0)
POWER = CompetitionConfig(decay="power", decay_power=2.0, min_distance_km=0.5, cutoff_km=4.0)

# --------------------------------------------------------------------------------------------
# the choice model by hand: 2 zones x 2 stations
# --------------------------------------------------------------------------------------------
# Station c1 (10 piles) is 1 km from zone 0 and 5 km from zone 1; c2 (4 piles) is 3 km from
# zone 0 and beyond the cutoff of zone 1. The array door takes the pairs it is given: (0, c1),
# (0, c2), (1, c1). Reference own station: 20 piles at 3 km from each zone.
PAIR_ZONE = np.array([0, 0, 1])
PAIR_KM = np.array([1.0, 3.0, 5.0])
PAIR_PILES = np.array([10.0, 4.0, 10.0])
OWN_KM = np.array([3.0, 3.0])


def test_huff_shares_by_hand_exponential() -> None:
    """f(d) = exp(-0.5 d). Zone 0: pull 10 e^-0.5 + 4 e^-1.5 = 6.06531 + 0.89252 = 6.95783,
    own 20 e^-1.5 = 4.46260, P = 6.95783 / 11.42043 = 0.60924. Zone 1: pull 10 e^-2.5 =
    0.82085, P = 0.82085 / 5.28345 = 0.15536."""
    share = third_party_share(PAIR_ZONE, PAIR_KM, PAIR_PILES, OWN_KM, 20.0, EXPONENTIAL)
    expected_0 = (10 * math.exp(-0.5) + 4 * math.exp(-1.5)) / (
        10 * math.exp(-0.5) + 24 * math.exp(-1.5)
    )
    expected_1 = 10 * math.exp(-2.5) / (10 * math.exp(-2.5) + 20 * math.exp(-1.5))
    np.testing.assert_allclose(share, [expected_0, expected_1], rtol=1e-12)
    np.testing.assert_allclose(share, [0.60924, 0.15536], atol=5e-6)


def test_huff_shares_by_hand_power() -> None:
    """f(d) = d^-2. Zone 0: pull 10/1 + 4/9 = 94/9, own 20/9, P = 94/114. Zone 1: pull
    10/25 = 0.4, P = 0.4 / (0.4 + 20/9) = 3.6/23.6."""
    share = third_party_share(PAIR_ZONE, PAIR_KM, PAIR_PILES, OWN_KM, 20.0, POWER)
    np.testing.assert_allclose(share, [94 / 114, 3.6 / 23.6], rtol=1e-12)


def test_a_zone_without_third_parties_keeps_everything() -> None:
    share = third_party_share(
        np.array([0]), np.array([1.0]), np.array([5.0]), np.ones(3), 1.0, POWER
    )
    assert share[1] == 0.0 and share[2] == 0.0 and share[0] > 0


def test_more_competitor_piles_never_raise_the_own_share() -> None:
    """On random instances, adding piles at any station (or a new station) never lowers any
    zone's third-party share, for both decays."""
    rng = np.random.default_rng(7)
    for config in (EXPONENTIAL, POWER):
        for _ in range(200):
            n = int(rng.integers(1, 30))
            zone = rng.integers(0, 5, n)
            km = rng.uniform(0, 4, n)
            piles = rng.integers(0, 20, n).astype(float)
            own_km = rng.uniform(0.5, 5, 5)
            before = third_party_share(zone, km, piles, own_km, 10.0, config)
            more = piles + rng.integers(0, 5, n) * (rng.random(n) < 0.5)
            after = third_party_share(zone, km, more, own_km, 10.0, config)
            assert (after >= before - 1e-15).all()
            extra = third_party_share(
                np.append(zone, rng.integers(0, 5)),
                np.append(km, rng.uniform(0, 4)),
                np.append(piles, 3.0),
                own_km,
                10.0,
                config,
            )
            assert (extra >= before - 1e-15).all()


# --------------------------------------------------------------------------------------------
# the GeoDataFrame door
# --------------------------------------------------------------------------------------------
CRS = "EPSG:32651"


def _zones_and_stations() -> tuple[gpd.GeoDataFrame, gpd.GeoSeries, gpd.GeoDataFrame]:
    """Zone centres at (0, 0) and (10 km, 0); c1 (10 DC piles) at (1 km, 0), c2 (4 DC piles) at
    (0, 3 km), an own station at (0, 1 km) that is not a third party."""
    centres = gpd.GeoSeries([Point(0, 0), Point(10_000, 0)], crs=CRS, index=["a", "b"])
    zones = gpd.GeoDataFrame(
        {"peak_kwh_dc_fast": [100.0, 50.0], "peak_kwh": [100.0, 50.0]},
        geometry=centres.buffer(100).values,
        crs=CRS,
        index=["a", "b"],
    )
    stations = gpd.GeoDataFrame(
        {"station_id": ["c1", "c2", "own"], "own": [False, False, True]},
        geometry=[Point(1_000, 0), Point(0, 3_000), Point(0, 1_000)],
        crs=CRS,
    )
    stations["ports_dc_fast"] = [10, 4, 50]
    return zones, centres, stations


def test_choice_model_on_geodataframes_matches_the_hand_values() -> None:
    """Zone a: c1 at 1 km and c2 at 3 km, P = 0.60924 (as by hand; the own station does not
    count); zone b: c1 at 9 km beyond the 4 km cutoff, P = 0. With target 0.3, zone a keeps
    min(0.39076, 0.3) = 0.3 of 100 kWh, zone b min(1, 0.3)."""
    zones, centres, stations = _zones_and_stations()
    config = EXPONENTIAL.model_copy(update={"own_piles": {"dc_fast": 20.0}})
    out = apply_choice_model(zones, centres, stations, ["dc_fast"], config, own_km=OWN_KM, crs=CRS)
    np.testing.assert_allclose(out["third_party_share_dc_fast"], [0.60924, 0.0], atol=5e-6)
    np.testing.assert_allclose(out["peak_kwh_dc_fast"], [39.076, 50.0], atol=5e-4)
    assert out["competitor_stations_near"].tolist() == [2, 0]
    capped = apply_choice_model(
        zones,
        centres,
        stations,
        ["dc_fast"],
        config.model_copy(update={"target_own_share": 0.3}),
        own_km=OWN_KM,
        crs=CRS,
    )
    np.testing.assert_allclose(capped["peak_kwh_dc_fast"], [30.0, 15.0])
    np.testing.assert_allclose(capped["captured_kwh_dc_fast"], [70.0, 35.0])
    np.testing.assert_allclose(capped["peak_kwh"], [30.0, 15.0])


def test_choice_model_matches_a_loop_over_every_zone_and_station() -> None:
    """Random points: the STRtree and bincount version equals the formula summed station by
    station (cutoff included), for both decays."""
    rng = np.random.default_rng(3)
    zone_xy = rng.uniform(0, 12_000, (6, 2))
    station_xy = rng.uniform(0, 12_000, (8, 2))
    piles = rng.integers(0, 15, 8)
    centres = gpd.GeoSeries([Point(*p) for p in zone_xy], crs=CRS)
    zones = gpd.GeoDataFrame(
        {"peak_kwh_dc_fast": np.full(6, 10.0)}, geometry=centres.values, crs=CRS
    )
    stations = gpd.GeoDataFrame(
        {"own": np.zeros(8, bool), "ports_dc_fast": piles},
        geometry=[Point(*p) for p in station_xy],
        crs=CRS,
    )
    own_km = rng.uniform(1, 5, 6)
    for config in (EXPONENTIAL, POWER):
        config = config.model_copy(update={"own_piles": {"dc_fast": 6.0}})
        out = apply_choice_model(
            zones, centres, stations, ["dc_fast"], config, own_km=own_km, crs=CRS
        )
        for i in range(6):
            pull = 0.0
            for c in range(8):
                d = float(np.hypot(*(zone_xy[i] - station_xy[c]))) / 1000
                if d <= config.cutoff_km:
                    f = math.exp(-0.5 * d) if config.decay == "exponential" else max(d, 0.5) ** -2.0
                    pull += piles[c] * f
            f_own = (
                math.exp(-0.5 * own_km[i])
                if config.decay == "exponential"
                else max(own_km[i], 0.5) ** -2.0
            )
            expected = pull / (pull + 6.0 * f_own)
            assert out["third_party_share_dc_fast"].iloc[i] == pytest.approx(expected, rel=1e-12)


def test_regional_counts_are_spread_by_population(tmp_path: Path) -> None:
    """Region a (z1 1,000 people, z2 2,000) has 30 DC piles: 10 and 20; region b (z3 1,000,
    z4 500) 15: 10 and 5. AC from the '*' row: 90 over 4,500 people."""
    folder = tmp_path / "tiny"
    write_tiny_scenario(folder)
    zones = gpd.read_file(folder / "zones.geojson").set_index("zone_id")
    table = tmp_path / "regions.csv"
    table.write_text("region,piles_dc_fast,piles_ac_destination\na,30,0\nb,15,0\n*,0,90\n")
    layer = regional_pseudo_stations(
        table,
        zones,
        zones.representative_point(),
        ["dc_fast", "ac_destination"],
        population_column="pop",
        region_column="region",
    )
    assert layer["ports_dc_fast"].tolist() == pytest.approx([10, 20, 10, 5])
    assert layer["ports_ac_destination"].tolist() == pytest.approx([20, 40, 20, 10])
    assert (~layer["own"]).all()
    table.write_text("region,piles_dc_fast,piles_ac_destination\na,30,=1+1\n")
    with pytest.raises(InputError, match=r"line 2, column 'piles_ac_destination'.*>= 0"):
        regional_pseudo_stations(
            table,
            zones,
            zones.representative_point(),
            ["dc_fast", "ac_destination"],
            population_column="pop",
            region_column="region",
        )
    table.write_text("region,piles_dc_fast,piles_ac_destination\nc,30,0\n")
    with pytest.raises(InputError, match=r"regions\.csv: line 2: region 'c' matches no zone"):
        regional_pseudo_stations(
            table,
            zones,
            zones.representative_point(),
            ["dc_fast", "ac_destination"],
            population_column="pop",
            region_column="region",
        )


# --------------------------------------------------------------------------------------------
# the pipeline on the tiny scenario
# --------------------------------------------------------------------------------------------
EXISTING = """
[existing]
stations = "stations.csv"
lon_column = "lon"
lat_column = "lat"
id_column = "id"
network_column = ""
port_columns = { dc_fast = "fast", ac_destination = "slow" }
"""

COMPETITION = """
[competition]
decay_per_km = 0.5
cutoff_km = 5
own_piles = { dc_fast = 4, ac_destination = 4 }
own_preference = 1
"""


def _plan(
    folder: Path, text: str, stations: list[tuple[float, float, int, int]]
) -> chargeplan.Plan:
    """Plan the tiny scenario with third-party stations at (x, y) metres (EPSG:32651)."""
    path = write_tiny_scenario(folder, SCENARIO + text)
    points = gpd.GeoSeries([Point(x, y) for x, y, _, _ in stations], crs=CRS).to_crs(4326)
    pd.DataFrame(
        {
            "id": [f"c{n}" for n in range(len(stations))],
            "lon": points.x,
            "lat": points.y,
            "fast": [s[2] for s in stations],
            "slow": [s[3] for s in stations],
        }
    ).to_csv(folder / "stations.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return chargeplan.plan_network(chargeplan.load_scenario(path))


X0, Y0 = 350_000.0, 3_450_000.0  # the tiny scenario's origin; site s2 at (X0 + 25 km, Y0 + 5 km)
FAR = (X0 + 400_000, Y0, 1, 1)  # a station out of everyone's cutoff


def test_a_competitor_next_to_a_candidate_never_raises_its_served_demand(tmp_path: Path) -> None:
    """A station with 20 DC and 20 AC piles 200 m from site s2 takes part of zone z2's demand
    (its own share falls below 1), so s2 serves less, never more; without it the plan serves
    every reachable zone in full."""
    without = _plan(tmp_path / "a", EXISTING + COMPETITION, [FAR])
    near = (X0 + 25_200, Y0 + 5_000, 20, 20)
    with_rival = _plan(tmp_path / "b", EXISTING + COMPETITION, [FAR, near])
    served_before = without.sites.loc["s2", "served_kwh"]
    served_after = with_rival.sites.loc["s2", "served_kwh"]
    assert served_before > 0
    assert served_after < served_before
    assert without.summary["competitor_share"] == 0.0
    assert with_rival.summary["competitor_share"] > 0.0
    assert with_rival.summary["own_network_share"] < without.summary["own_network_share"]
    # more piles at the same station: the own share does not rise
    bigger = _plan(tmp_path / "c", EXISTING + COMPETITION, [FAR, (*near[:2], 40, 40)])
    assert bigger.sites.loc["s2", "served_kwh"] <= served_after + 1e-6
    assert bigger.summary["own_network_share"] <= with_rival.summary["own_network_share"]


STANDARD = SERVICE_STANDARD + "[reach.targets]\nurban = 0.9\n"


def test_target_own_share_zero_builds_nothing_beyond_the_standard(tmp_path: Path) -> None:
    """With target_own_share = 0 the network is sized for no demand: the urban 90 % target
    counts no demand either, so no site opens and no charger is built; the plan carries 0 % of
    the users' public energy, third parties all of it."""
    text = STANDARD + EXISTING + COMPETITION + "target_own_share = 0\n"
    plan = _plan(tmp_path, text, [FAR])
    assert plan.summary["sites_opened"] == 0 and plan.summary["chargers"] == 0
    assert plan.summary["own_network_share"] == 0.0
    assert plan.summary["competitor_share"] == pytest.approx(1.0)
    assert plan.summary["public_demand_kwh"] > 0
    half = _plan(
        tmp_path / "half", text.replace("target_own_share = 0", "target_own_share = 0.5"), [FAR]
    )
    # no third party within reach: every zone keeps min(1, 0.5), third parties take the rest
    assert half.summary["competitor_share"] == pytest.approx(0.5)
    assert 0 < half.summary["own_network_share"] <= 0.5 + 1e-9
    assert half.summary["chargers"] > 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            COMPETITION.replace("decay_per_km = 0.5", "decay_per_km = -1"),
            r"competition\.decay_per_km",
        ),
        (COMPETITION + "target_own_share = 1.5\n", r"competition\.target_own_share"),
        (COMPETITION + 'decay = "linear"\n', r"competition\.decay"),
        (
            COMPETITION.replace(", ac_destination = 4", ""),
            r"competition\.own_piles.*\['ac_destination'\].*add them",
        ),
        (
            EXISTING + "competitor_capture_share = 0.3\n" + COMPETITION,
            r"competitor_capture_share and \[competition\].*remove",
        ),
    ],
)
def test_bad_competition_values_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write_tiny_scenario(tmp_path, SCENARIO + text)
    with pytest.raises(ScenarioError, match=expected) as error:
        chargeplan.load_scenario(path)
    assert str(path) in str(error.value)


# --------------------------------------------------------------------------------------------
# Shenzhen: the real stations as the third-party network
# --------------------------------------------------------------------------------------------


def test_shenzhen_third_parties_take_the_documented_shares() -> None:
    """models/shenzhen-2030.toml's comment: 29.7 % of the DC and 59.7 % of the AC peak demand
    (35.7 % of all) goes to the 1,706 real public stations."""
    from chargeplan.inputs.prepare import prepare

    scenario = chargeplan.load_scenario(REPO / "models" / "shenzhen-2030.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zones = prepare(scenario).zones
    shares = {}
    for t in ("dc_fast", "ac_destination"):
        captured = zones[f"captured_kwh_{t}"].sum()
        shares[t] = captured / (captured + zones[f"peak_kwh_{t}"].sum())
    assert shares["dc_fast"] == pytest.approx(0.297, abs=5e-4)
    assert shares["ac_destination"] == pytest.approx(0.597, abs=5e-4)
    # every zone has a third-party station within 10 km; 18 of them none with DC piles
    assert (zones["competitor_stations_near"] > 0).all()
    assert int((zones["third_party_share_dc_fast"] == 0).sum()) == 18
    assert zones["third_party_share_dc_fast"].max() == pytest.approx(0.7005, abs=1e-4)


def test_the_regional_layer_through_the_scenario(tmp_path: Path) -> None:
    """``competition.region_chargers`` without a station list: each zone's pseudo-station
    stands at its own demand centre (d = 0), its neighbours' 20 km away (beyond the 5 km
    cutoff). Zone z1 (10 DC piles of region a's 30) against the reference own station (4 piles
    at the 3 km standard): P = 10 / (10 + 4 e^-1.5); z4 (5 piles) P = 5 / (5 + 4 e^-1.5)."""
    from chargeplan.inputs.prepare import prepare

    text = STANDARD + COMPETITION + 'region_chargers = "regions.csv"\n'
    path = write_tiny_scenario(tmp_path, SCENARIO + text)
    (tmp_path / "regions.csv").write_text(
        "region,piles_dc_fast,piles_ac_destination\na,30,0\nb,15,0\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zones = prepare(chargeplan.load_scenario(path)).zones
    own = 4 * math.exp(-1.5)
    expected = [10 / (10 + own), 20 / (20 + own), 10 / (10 + own), 5 / (5 + own)]
    np.testing.assert_allclose(zones["third_party_share_dc_fast"], expected, rtol=1e-9)
    assert (zones["third_party_share_ac_destination"] == 0).all()
