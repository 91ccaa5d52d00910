"""Premium users by city: calibration to published NEV sales, plate quotas as caps, proxies for
zones without census figures, and county-level propensity, on tables small enough to derive
every number by hand (in each test's docstring)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from chargeplan.config.users import UsersConfig
from chargeplan.errors import InputError
from chargeplan.inputs.calibration import pool_adjacent_violators, whole_users
from chargeplan.inputs.demand import DemandWarning, allocate_premium_users

NATIONAL = {"national_nev_sales": 10_000, "national_source": "hand-made national total"}


def zones(names: list[str], pop: list[float], car: list[float], **columns) -> gpd.GeoDataFrame:
    """One zone per name; the propensity is ``pop * car`` unless a test says otherwise."""
    frame = gpd.GeoDataFrame(
        {"name": names, "pop": pop, "car": car, **columns},
        geometry=[Point(i, 0) for i in range(len(names))],
        crs="EPSG:4326",
        index=[f"z{i}" for i in range(len(names))],
    )
    return frame


def users(target: int = 1000, **calibration) -> UsersConfig:
    data: dict = {"target_premium_users": target, "propensity": {"car": 1.0}}
    if calibration:
        data["calibration"] = {**NATIONAL, **calibration}
    return UsersConfig.model_validate(data)


def sales(**figures: int) -> dict:
    return {city: {"nev_sales": n, "source": "hand-made"} for city, n in figures.items()}


def quotas(**plates: int) -> dict:
    return {city: {"nev_plates_per_year": n, "source": "hand-made"} for city, n in plates.items()}


def allocate(table: gpd.GeoDataFrame, config: UsersConfig) -> list[int]:
    out = allocate_premium_users(table, config, population_column="pop", name_column="name")
    assert out["premium_users"].sum() == config.target_premium_users
    return out["premium_users"].tolist()


def test_calibrated_cities_get_their_sales_share_and_the_rest_goes_by_propensity() -> None:
    """Target 1,000 users, national sales 10,000. A sold 1,234 -> 123.4 users; B 2,000 -> 200.
    The rest, 676.6, goes to C (weight 100 x 0.5 = 50) and D (100 x 0.3 = 30) by 5:3:
    422.875 and 253.725. Largest remainder over 123.4, 200, 422.875, 253.725: floors 123 + 200
    + 422 + 253 = 998, the two missing users go to C (.875) and D (.725): 123, 200, 423, 254.
    A's and B's own propensity (huge for A) plays no part."""
    table = zones(["A", "B", "C", "D"], [1000, 10, 100, 100], [0.9, 0.1, 0.5, 0.3])
    assert allocate(table, users(cities=sales(A=1234, B=2000))) == [123, 200, 423, 254]


def test_a_city_of_several_zones_is_rounded_as_a_city_first() -> None:
    """A is two zones (weights 100 x 0.1 = 10 and 100 x 0.3 = 30). Its 123.4 users round to
    123 as a city, then split 1:3: 30.75 and 92.25 -> floors 30 + 92 = 122, the missing user
    to the larger remainder (.75): 31 and 92. C takes the other 877."""
    table = zones(["A", "A", "C"], [100, 100, 100], [0.1, 0.3, 0.5])
    assert allocate(table, users(cities=sales(A=1234))) == [31, 92, 877]


def test_a_plate_quota_caps_a_city_and_the_excess_goes_to_the_others() -> None:
    """Weights B 40, C 30, D 10, E 20 (of 100): by propensity 400, 300, 100, 200. B's quota of
    1,000 plates (of 10,000 national) caps it at 10 % = 100 users; its excess of 300 goes to
    C, D, E in proportion 30:10:20: 450, 150, 300. C's quota of 4,000 caps it at 400 in this
    second round; its excess of 50 goes to D and E 1:2: 166.67 and 333.33 -> 167 and 333."""
    table = zones(["B", "C", "D", "E"], [40, 30, 10, 20], [1, 1, 1, 1])
    assert allocate(table, users(plate_quotas=quotas(B=1000))) == [100, 450, 150, 300]
    assert allocate(table, users(plate_quotas=quotas(B=1000, C=4000))) == [100, 400, 167, 333]


def test_a_cap_that_does_not_bind_changes_nothing() -> None:
    """E's quota of 5,000 allows 500 users; by propensity it has 200: unchanged."""
    table = zones(["B", "C", "D", "E"], [40, 30, 10, 20], [1, 1, 1, 1])
    assert allocate(table, users(plate_quotas=quotas(E=5000))) == [400, 300, 100, 200]


def test_other_cities_stay_below_the_smallest_calibrated_one() -> None:
    """A sold 4,000 of 10,000: 400 users. B (weight 80) would get 600 x 80/100 = 480 by
    propensity, more than A although it is not in the published top: with
    others_below_calibrated it is capped at A's 400 and C and D (10 each) share the other 200.
    Were every other city capped, no zone could take the rest: an error."""
    table = zones(["A", "B", "C", "D"], [10, 80, 10, 10], [1, 1, 1, 1])
    assert allocate(table, users(cities=sales(A=4000))) == [400, 480, 60, 60]
    config = users(cities=sales(A=4000), others_below_calibrated=True)
    assert allocate(table, config) == [400, 400, 100, 100]
    config = users(cities=sales(A=1000), others_below_calibrated=True)
    with pytest.raises(InputError, match="every other city is capped"):
        allocate(table, config)


def test_ranked_cities_keep_the_published_order_above_the_others() -> None:
    """A sold 4,000 of 10,000: 400 users. The ranking goes on with B then C, without figures.
    By propensity the rest, 600, goes 10:30:15:5 to B, C, D, E: 100, 300, 150, 50, but B must
    lead C: the least-squares fit to B >= C >= (D, E by weight) pools B and C at their mean
    weight 20, and D (15) and E (5) stay below: 600 x 20/60 = 200, 200, then 150 and 50.
    With D at 35 and E at 6 the pool takes D in too (mean 25): 600 x 25/81 = 185.19 each and
    E 600 x 6/81 = 44.44; the missing user goes to E's larger remainder: 185, 185, 185, 45."""
    table = zones(["A", "B", "C", "D", "E"], [10, 10, 30, 15, 5], [1, 1, 1, 1, 1])
    config = users(cities=sales(A=4000), ranked=["B", "C"])
    assert allocate(table, users(cities=sales(A=4000))) == [400, 100, 300, 150, 50]
    assert allocate(table, config) == [400, 200, 200, 150, 50]
    table["pop"] = [10, 10, 30, 35, 6]
    assert allocate(table, config) == [400, 185, 185, 185, 45]


def test_pool_adjacent_violators_keeps_the_sum() -> None:
    """[1, 3, 2, 5, 0] -> (1, 3) pool to 2, then (2, 2, 2) stay, 5 joins: (1 + 3 + 2 + 5) / 4
    = 2.75 for the first four, then 0."""
    fitted = pool_adjacent_violators(np.array([1.0, 3.0, 2.0, 5.0, 0.0]))
    assert fitted.tolist() == [2.75, 2.75, 2.75, 2.75, 0.0]


def test_hong_kong_and_macao_take_their_proxies_propensity_with_a_warning() -> None:
    """Hong Kong (700 people, no indicators) takes Shenzhen's car share 0.5: weight 350;
    Macao (100 people) Zhuhai's 0.2: 20. Shenzhen 1,000 x 0.5 = 500, Zhuhai 650 x 0.2 = 130:
    total 1,000, so users equal the weights. No median fill (it would have given Hong Kong
    700 x 0.35 = 245)."""
    table = zones(
        ["深圳市", "香港特别行政区", "珠海市", "澳门特别行政区"],
        [1000, 700, 650, 100],
        [0.5, np.nan, 0.2, np.nan],
    )
    config = users().model_copy(
        update={"proxies": {"香港特别行政区": "深圳市", "澳门特别行政区": "珠海市"}}
    )
    with pytest.warns(DemandWarning) as record:
        assert allocate(table, config) == [500, 350, 130, 20]
    said = [str(w.message) for w in record]
    assert any("'香港特别行政区'" in m and "per person of '深圳市'" in m for m in said)
    assert any("'澳门特别行政区'" in m and "per person of '珠海市'" in m for m in said)
    assert not any("median" in m for m in said)


def test_a_calibration_city_that_matches_no_zone_is_named_with_a_suggestion() -> None:
    table = zones(["Hangzhou", "Shenzhen"], [10, 10], [1, 1])
    with pytest.raises(InputError) as error:
        allocate(table, users(cities=sales(Hangzhuo=1000)))
    message = str(error.value)
    assert "users.calibration.cities" in message
    assert "'Hangzhuo'" in message and "did you mean 'Hangzhou'" in message


def test_sales_above_the_national_total_are_refused() -> None:
    with pytest.raises(ValueError, match="national_nev_sales"):
        users(cities=sales(A=6000, B=4000))


def test_county_propensity_counts_urban_and_rural_people_apart(tmp_path: Path) -> None:
    """Prefecture 110100 has two counties: 110101 (100 people, all urban, car 0.6) and 110102
    (300 people, half urban, car 0.2). Per urban person (100 x 0.6 + 150 x 0.2) / 250 = 0.36,
    per rural person 150 x 0.2 / 150 = 0.2; the zone (400 people, 250 urban) weighs
    250 x 0.36 + 150 x 0.2 = 120, the counties' sum 100 x 0.6 + 300 x 0.2. Zone 120100 has no
    counties: its own row, car 0.25, x 320 people = 80. Users 1,000 x 120/200 and x 80/200:
    600 and 400. Two fine cells of 110100 (100 urban people; 150 rural people) weigh
    100 x 0.36 = 36 and 150 x 0.2 = 30."""
    (tmp_path / "counties.csv").write_text(
        "code,yb_pop_2020,car_hh_share,urban_share\n"
        "110100,400,0.3,0.625\n110101,100,0.6,1.0\n110102,300,0.2,0.5\n120100,320,0.25,0.5\n"
    )
    config = users().model_copy(
        update={
            "county_indicators": tmp_path / "counties.csv",
            "propensity": {"car_hh_share": 1.0},
            "urban_population_column": "urban",
        }
    )
    table = zones(["P", "Q"], [400, 320], [0.3, 0.25], urban=[250, 160], city_code=[110100, 120100])
    table["car_hh_share"] = table["car"]
    out = allocate_premium_users(table, config, population_column="pop", name_column="name")
    assert out["propensity_urban_pp"].tolist() == pytest.approx([0.36, 0.25])
    assert out["propensity_rural_pp"].tolist() == pytest.approx([0.2, 0.25])
    assert out["propensity"].tolist() == pytest.approx([120, 80])
    assert out["premium_users"].tolist() == [600, 400]
    cells = zones(["P", "P"], [100, 150], [0.3, 0.3], urban=[100, 0], city_code=[110100] * 2)
    cells["car_hh_share"] = cells["car"]
    out = allocate_premium_users(cells, config, population_column="pop", name_column="name")
    assert out["propensity"].tolist() == pytest.approx([36, 30])


def test_a_rollout_year_keeps_the_calibrated_shares() -> None:
    """The shares of the first test at a target of 100: A 12.34, B 20, C 42.2875, D 25.3725 ->
    floors 12 + 20 + 42 + 25 = 99, the missing user to D (.3725 > .34 > .2875): 12, 20, 42, 26."""
    share = np.array([0.1234, 0.2, 0.422875, 0.253725])
    assert whole_users(share, np.arange(4), 100).tolist() == [12, 20, 42, 26]
