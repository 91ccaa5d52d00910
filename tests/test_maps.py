"""The static maps (map.png, the zoomed city maps), their furniture, and the names on them.

A national plan is drawn on the standard map of China: the test builds one from the shipped
prefectures (every zone served but one, five built sites) without solving, since the drawing
reads only the plan's tables. Figures asserted are derived in each test's docstring.
"""

from __future__ import annotations

import colorsys
import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Circle
from pyproj import Transformer

import chargeplan
from chargeplan.errors import InputError
from chargeplan.outputs import fonts, map_furniture
from chargeplan.outputs.city_map import MAX_REACH_CIRCLES, find_zone, plot_city
from chargeplan.outputs.maps import (
    GAP_COLOURS,
    MIN_SITE_AREA,
    SITE_COLOUR,
    SITE_INK,
    plot_plan,
    site_marker_areas,
)
from chargeplan.outputs.names import bilingual, latin
from chargeplan.results.plan import Plan

from .conftest import write_tiny_scenario
from .system import need_cjk_font

REPO = Path(__file__).resolve().parents[1]
ALBERS = "ESRI:102025"


@pytest.fixture(scope="module")
def national() -> Plan:
    """The 369 shipped prefectures, all served but Lhasa (unreachable); five built sites."""
    zones = gpd.read_parquet(REPO / "geodata" / "china_prefectures.parquet").set_index(
        "zone_id", drop=False
    )
    zones["premium_users"] = zones["popu_2020"] / 100
    zones["share_served"] = 1.0
    zones["unserved_users"] = 0.0
    zones["gap_reason"] = ""
    lhasa = zones.index[zones["name"] == "拉萨市"][0]
    zones.loc[lhasa, ["share_served", "unserved_users", "gap_reason"]] = [0.0, 5e3, "unreachable"]
    sites = gpd.read_parquet(REPO / "geodata" / "china_candidate_sites.parquet").set_index(
        "site_id", drop=False
    )
    names = ["Shanghai", "Beijing", "Shenzhen", "Chengdu", "Harbin"]
    sites = sites[sites["name"].isin(names)].copy()
    sites["open"] = True
    sites["chargers"] = [100 * (i + 1) for i in range(len(sites))]
    summary = {"scenario": "national", "sites_opened": 5, "chargers": 1500, "capex_cny": 1e8}
    summary |= {"coverage": 0.99, "premium_users": float(zones["premium_users"].sum())}
    return Plan(sites=sites, zones=zones, assignments=pd.DataFrame(), summary=summary)


@pytest.fixture(scope="module")
def tiny_plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    path = write_tiny_scenario(tmp_path_factory.mktemp("tiny"))
    return chargeplan.plan_network(chargeplan.load_scenario(path))


def _hatched(fig: Figure) -> list:
    return [c for c in fig.axes[0].collections if c.get_hatch() == map_furniture.NO_DATA_HATCH]


def test_national_map_has_the_inset_and_taiwan_as_no_data(national: Plan) -> None:
    """One main axes with one inset (the South China Sea islands); Taiwan drawn hatched and in
    the legend as "no data"; the view holds Taiwan (121 E, 23.5 N) and the mainland."""
    fig = plot_plan(national, crs=ALBERS)
    assert len(fig.axes) == 1
    (inset,) = fig.axes[0].child_axes
    assert "South China Sea Islands" in [t.get_text() for t in inset.texts]
    assert len(inset.collections) == 1  # the dashes and coasts of the schematic
    hatched = _hatched(fig)
    assert len(hatched) == 1
    x, y = Transformer.from_crs("EPSG:4326", ALBERS, always_xy=True).transform(121.0, 23.5)
    assert any(path.contains_point((x, y)) for path in hatched[0].get_paths())
    (x0, x1), (y0, y1) = fig.axes[0].get_xlim(), fig.axes[0].get_ylim()
    assert x0 < x < x1 and y0 < y < y1
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(t.startswith("no data (Taiwan") for t in legend)


def test_city_plan_has_no_inset_nor_standard_map(tiny_plan: Plan) -> None:
    fig = plot_plan(tiny_plan, crs="EPSG:32651")
    assert fig.axes[0].child_axes == [] and _hatched(fig) == []


def test_largest_sites_are_labelled_by_name(national: Plan) -> None:
    """All five built sites are among the 8 labelled; the labels are their names."""
    fig = plot_plan(national, crs=ALBERS)
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert {"Shanghai", "Beijing", "Shenzhen", "Chengdu", "Harbin"} <= labels


def test_scale_bar_has_a_round_length_near_a_fifth_of_the_width() -> None:
    """A 3,000 km wide map: a fifth is 600 km, the round length below it 500 km."""
    assert [map_furniture.nice_length(v) for v in (600, 1999, 0.3, 5000)] == [500, 1000, 0.2, 5000]
    ax = Figure().subplots()
    ax.set_xlim(0, 3_000_000)
    ax.set_ylim(0, 2_000_000)
    assert map_furniture.draw_scale_bar(ax) == 500
    assert "500 km" in [t.get_text() for t in ax.texts]


def test_north_arrow_leans_towards_the_central_meridian() -> None:
    """Asia North Albers has its central meridian at 95 E: meridians converge northward, so
    west of it (the arrow at the map's left edge, about 75 E) north leans right (positive), on
    the central meridian it points straight up."""
    to_map = Transformer.from_crs("EPSG:4326", ALBERS, always_xy=True)
    ax = Figure().subplots()
    left, top = to_map.transform(75.0, 45.0)
    ax.set_xlim(left, left + 4e6)
    ax.set_ylim(top - 3e6, top)
    assert map_furniture.draw_north_arrow(ax, ALBERS) > 1.0
    ax = Figure().subplots()
    centre, _ = to_map.transform(95.0, 40.0)
    width = 4e6 / 0.9  # the arrow sits at 5 % of the width: put that on 95 E
    ax.set_xlim(centre - 0.05 * width, centre + 0.95 * width)
    ax.set_ylim(top - 3e6, top)
    assert map_furniture.draw_north_arrow(ax, ALBERS) == pytest.approx(0.0, abs=0.5)


def test_built_sites_blue_differs_from_every_gap_colour() -> None:
    """Built sites are #0072B2 (hue 202 degrees). The old "not built" sky blue #56B4E9 had the
    same hue, only lighter: it read as a built site. Every gap colour now lies at least 30
    degrees of hue away (not built, #009E73: 164 degrees)."""

    def hue(colour: str) -> float:
        r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return 360 * colorsys.rgb_to_hsv(r, g, b)[0]

    def apart(a: float, b: float) -> float:
        return min(abs(a - b), 360 - abs(a - b))

    assert hue(SITE_COLOUR) == pytest.approx(201.6, abs=0.1)
    assert apart(hue("#56B4E9"), hue(SITE_COLOUR)) < 1  # why the old colour had to go
    assert {r: apart(hue(c), hue(SITE_COLOUR)) > 30 for r, c in GAP_COLOURS.items()} == {
        r: True for r in GAP_COLOURS
    }


def test_city_map_draws_the_reach_standard_around_each_station(national: Plan) -> None:
    """Shanghai's map (80 km reach) shows the built site in view with one dashed circle of
    80 km radius; the city is found by its Latin name, its Chinese name or its id."""
    shanghai = find_zone(national.zones, "Shanghai", "name")
    assert find_zone(national.zones, "上海市", "name") == shanghai == "310100"
    assert find_zone(national.zones, "310100", "name") == shanghai
    fig = plot_city(national, "Shanghai", radius_km=80)
    circles = [p for p in fig.axes[0].patches if isinstance(p, Circle)]
    assert [c.get_radius() for c in circles] == [80_000.0]
    assert fig.texts[0].get_text().startswith("Shanghai: 1 station in view")


def test_unknown_city_is_a_clear_error(national: Plan) -> None:
    with pytest.raises(InputError, match=r"no zone is called 'Atlantis'.*e\.g\. 北京市"):
        find_zone(national.zones, "Atlantis", "name")


def test_chinese_names_read_in_pinyin() -> None:
    assert [latin(n) for n in ("杭州市", "重庆市", "广东省", "阿拉善盟", "Shenzhen")] == [
        "Hangzhou",
        "Chongqing",
        "Guangdong",
        "Alashan League",
        "Shenzhen",
    ]
    assert bilingual("香港特别行政区") == "Hong Kong SAR 香港特别行政区"
    # the peoples in an autonomous prefecture's name are left out of its Latin form
    assert latin("恩施土家族苗族自治州") == "Enshi Autonomous Prefecture"
    assert latin("克孜勒苏柯尔克孜自治州") == "Kezileisu Autonomous Prefecture"
    assert bilingual("<script>") == "<script>"  # not Chinese: unchanged (escaped later)


def test_font_subset_holds_exactly_the_pages_chinese_characters() -> None:
    """'杭州 abc 杭' has two distinct CJK characters: the subset maps exactly those (and no
    Latin letter, which the reader's own font draws)."""
    from fontTools.ttLib import TTFont

    assert fonts.cjk_characters("杭州 abc 杭") == "州杭"
    assert fonts.embedded_font("no Chinese here") is None
    need_cjk_font()
    font = fonts.embedded_font("杭州 abc 杭")
    assert font is not None and font.woff2[:4] == b"wOF2"
    cmap = TTFont(io.BytesIO(font.woff2)).getBestCmap()
    assert sorted(chr(c) for c in cmap) == ["州", "杭"]
    assert font.woff2 == fonts.embedded_font("杭州 abc 杭").woff2  # the same bytes every run
    assert font.css.startswith('@font-face {font-family: "chargeplan CJK";')


def test_chinese_site_labels_draw_with_the_cjk_font() -> None:
    """A site named in Chinese is labelled with the CJK font: no ``Glyph ... missing from
    font(s) DejaVu Sans`` warning when the figure is drawn (the city maps of the national
    report printed one per character); Latin labels keep the default font."""
    import warnings

    from chargeplan.outputs.maps import label_sites

    need_cjk_font()
    sites = gpd.GeoDataFrame(
        {"chargers": [4, 2], "name": ["克拉玛依市站", "Karamay West"]},
        geometry=gpd.points_from_xy([0.0, 1.0], [0.0, 1.0]),
    )
    fig = Figure()
    ax = fig.add_subplot()
    label_sites(ax, sites, "name", 2)
    assert [t.get_fontfamily() for t in ax.texts] == [
        ["sans-serif", fonts.FACE],
        ["sans-serif"],
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(io.BytesIO(), format="png")


def test_a_few_sites_keep_their_discs() -> None:
    """Five sites of 100-500 chargers: 8 + 400 sqrt(c / 500) each (8 + 400 = 408 for the
    largest, 8 + 400 sqrt(0.2) = 186.9 for the smallest), 1,483 points^2 in all, far below the
    ink: nothing scaled."""
    area, scale = site_marker_areas(np.array([100.0, 200.0, 300.0, 400.0, 500.0]))
    assert scale == 1.0
    assert area[-1] == pytest.approx(408.0) and area[0] == pytest.approx(8 + 400 * 0.2**0.5)


def test_thousands_of_stations_become_dots_within_the_ink() -> None:
    """20,000 stations of 8-44 chargers: unscaled they would cover 20,000 x 200-408 points^2,
    far above the ink; scaled by one factor their sum is the ink (no dot reaches the floor
    here), the order by chargers is kept, and the largest dot is 408 x the factor."""
    chargers = np.tile(np.arange(8.0, 45.0), 541)[:20_000]
    area, scale = site_marker_areas(chargers)
    assert scale < 0.02
    assert area.sum() == pytest.approx(SITE_INK)
    assert area.min() >= MIN_SITE_AREA
    assert area.max() == pytest.approx(408.0 * scale)
    order = np.argsort(chargers, kind="stable")
    assert np.all(np.diff(area[order]) >= 0)


def test_the_national_map_of_many_stations_draws_dots(national: Plan) -> None:
    """The five test sites copied to 5,000 (the same places): their discs on the map are the
    scaled areas (at most the ink in all), drawn without the white rim, and the legend says
    so."""
    many = national.sites.loc[national.sites.index.repeat(1_000)].copy()
    many.index = pd.RangeIndex(len(many))
    plan = Plan(
        sites=many, zones=national.zones, assignments=pd.DataFrame(), summary=national.summary
    )
    fig = plot_plan(plan, crs=ALBERS)
    discs = [c for c in fig.axes[0].collections if len(c.get_offsets()) == len(many)]
    assert len(discs) == 1
    assert discs[0].get_sizes().sum() <= SITE_INK * (1 + 1e-9)
    assert all(w == 0.0 for w in discs[0].get_linewidths())
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(t.startswith("built site") and "dots" in t for t in legend)


def test_city_map_view_and_many_stations_reach_as_one_area(national: Plan) -> None:
    """Shanghai's one hub copied 50 times (more than MAX_REACH_CIRCLES = 40 in view): no circle
    each, one dashed outline of the area within 80 km of them (the same place, so a disc's
    edge), and the legend says so; view_km = 400 widens the view to at least 800 km a side."""
    assert MAX_REACH_CIRCLES == 40
    many = national.sites.loc[national.sites.index.repeat(50)].copy()
    many.index = pd.RangeIndex(len(many))
    plan = Plan(
        sites=many, zones=national.zones, assignments=pd.DataFrame(), summary=national.summary
    )
    fig = plot_city(plan, "Shanghai", radius_km=80, view_km=400)
    ax = fig.axes[0]
    assert not [p for p in ax.patches if isinstance(p, Circle)]
    assert fig.texts[0].get_text().startswith("Shanghai: 50 stations in view")
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x1 - x0 >= 800_000 and y1 - y0 >= 800_000
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("edge of the area within it" in t for t in legend)
    # the outline: a closed ring of points 80 km from the hub (to the buffer's 32 segments)
    dashed = [c for c in ax.collections if c.get_linestyle()[0][1] is not None]
    (ring,) = [seg for c in dashed for seg in c.get_segments()]
    crs = plan.zones.loc[["310100"]].estimate_utm_crs()
    hub = many[many["name"] == "Shanghai"].to_crs(crs)
    x, y = hub.geometry.x.iloc[0], hub.geometry.y.iloc[0]
    radius = np.hypot(ring[:, 0] - x, ring[:, 1] - y)
    assert radius.max() == pytest.approx(80_000, rel=1e-6)
    assert radius.min() > 80_000 * np.cos(np.pi / 128) - 1


def test_city_map_title_gives_the_city_served_share_from_its_zones(national: Plan) -> None:
    """With served and demand kWh, the title's share is the city's (its zones by name: 25 of
    100 kWh), not the focus zone's ``share_served`` (1.0 here)."""
    zones = national.zones.copy()
    zones["demand_kwh"], zones["served_kwh"] = 10.0, 10.0
    shanghai = zones["name"] == "上海市"
    zones.loc[shanghai, ["demand_kwh", "served_kwh"]] = [100.0, 25.0]
    plan = Plan(
        sites=national.sites, zones=zones, assignments=pd.DataFrame(), summary=national.summary
    )
    title = plot_city(plan, "Shanghai", radius_km=80).texts[0].get_text()
    assert title.endswith("25.0 % of the city's peak demand served")


def test_a_station_layer_map_labels_its_cities_not_stations(national: Plan) -> None:
    """Sites named after their cities (ten stations of 10 chargers in 北京市, at two places,
    and two of 36 in 拉萨市, the largest stations): with repeated names the labels are the
    cities by their chargers (Beijing's 100 before Lhasa's 72), in Latin script, each once, at
    the chargers-weighted centre of its stations (Beijing's two places, equally weighted)."""
    base = national.sites
    two = base[base["name"].isin(["Beijing", "Shanghai"])]
    beijing = two.loc[two.index.repeat(5)].copy()
    beijing["name"], beijing["chargers"] = "北京市", 10
    lhasa = base.iloc[[0, 0]].copy()
    lhasa["name"], lhasa["chargers"] = "拉萨市", 36
    sites = pd.concat([beijing, lhasa])
    sites.index = pd.RangeIndex(len(sites))
    plan = Plan(
        sites=sites, zones=national.zones, assignments=pd.DataFrame(), summary=national.summary
    )
    fig = plot_plan(plan, crs=ALBERS)
    labels = [t for t in fig.axes[0].texts if t.get_text() in ("Beijing", "Lasa", "Lhasa")]
    assert [t.get_text() for t in labels][:1] == ["Beijing"] and len(labels) == 2
    points = two.to_crs(ALBERS).geometry
    assert labels[0].xy == pytest.approx((points.x.mean(), points.y.mean()))
