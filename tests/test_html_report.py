"""report.html is one self-contained file with the key figures, and a real browser renders it.

Figures of the tiny plan (tests/test_pipeline.py): 1 site (s2) of 3, 57 chargers, capex
CNY 24,700, 92.6 % of peak demand served; z4 (74 users) is unreachable and gets the proposed
site new-1.

Names come from input files and may hold markup: with hostile zone, region, site and scenario
names, report.html and map.html hold only their escaped forms, so nothing in them runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from shapely.geometry import box

import chargeplan
from chargeplan.cli import main
from chargeplan.outputs import fonts
from chargeplan.outputs.html import largest_cities, render_report
from chargeplan.outputs.interactive import write_interactive_map
from chargeplan.outputs.write import write_plan
from chargeplan.results.gaps import GapSettings, analyse_gaps

from .conftest import REPO, SCENARIO, write_tiny_scenario
from .system import need, need_cjk_font

KEY_FIGURES = ("CNY 24.7 k", "92.6 %", "57", "new-1", "unreachable", "1,000")

#: Names that run code if a page writes them as HTML.
IMG = '"><img src=x onerror=alert(1)>'
SCRIPT = "<script>alert(1)</script>"
ESCAPED = ("&lt;img src=x onerror=alert(1)&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[chargeplan.Plan, chargeplan.Scenario]:
    scenario = chargeplan.load_scenario(write_tiny_scenario(tmp_path_factory.mktemp("tiny")))
    return chargeplan.plan_network(scenario), scenario


@pytest.fixture(scope="module")
def run_folder(tiny, tmp_path_factory: pytest.TempPathFactory) -> Path:
    plan, scenario = tiny
    out = tmp_path_factory.mktemp("run") / "out"
    write_plan(plan, out, scenario=scenario)
    return out


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny plan's run folder, every name in its inputs a piece of markup.

    Zone z4 (unreachable: in the gap tables, the proposal and the region chart) is named IMG
    in region IMG; the built site s2 is named SCRIPT with id ``<b>s2</b>``; the scenario is
    named SCRIPT, described as IMG; charger type names stay plain (the catalogue's keys).
    """
    folder = tmp_path_factory.mktemp("hostile")
    scenario = SCENARIO.replace(
        'name = "tiny"', f"name = {json.dumps(SCRIPT)}\ndescription = {json.dumps(IMG)}"
    )
    path = write_tiny_scenario(folder, scenario)
    zones = gpd.read_file(folder / "zones.geojson")
    zones["name"] = [SCRIPT, "z&2", "z3", IMG]
    zones["region"] = [SCRIPT, SCRIPT, IMG, IMG]
    zones.to_file(folder / "zones.geojson", driver="GeoJSON")
    sites = gpd.read_file(folder / "sites.geojson")
    sites["site_id"] = ["s1", "<b>s2</b>", "s3"]
    sites["name"] = [IMG, SCRIPT, "th'ree"]
    sites.to_file(folder / "sites.geojson", driver="GeoJSON")
    scenario = chargeplan.load_scenario(path)
    plan = chargeplan.plan_network(scenario)
    assert plan.summary["chargers"] == 57  # the same plan, under other names
    out = folder / "out"
    write_plan(plan, out, scenario=scenario)
    return out


def _external_references(page: str) -> list[str]:
    """Anything a browser would fetch: scripts, stylesheets, fonts, non-data sources, URLs.

    An ``@font-face`` is allowed when its only source is a ``data:`` URI (the embedded CJK
    subset): that ``url(...)`` is checked by the ``url(`` rule below like any other.
    """
    found = re.findall(r"<script|<link|@import|<iframe|<object|<embed", page, re.I)
    found += [s for s in re.findall(r'\ssrc="([^"]*)"', page) if not s.startswith("data:")]
    found += re.findall(r"url\(\s*(?!['\"]?data:)[^)]*\)", page)
    found += re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page, re.I)
    return found


def test_report_is_self_contained_with_the_key_figures(tiny) -> None:
    plan, scenario = tiny
    page = render_report(plan, scenario=scenario)
    assert page.startswith("<!DOCTYPE html>")
    assert _external_references(page) == []
    images = re.findall(r'<img[^>]* src="data:image/png;base64,', page)
    assert len(images) == 2  # the map and the cost chart (a city plan: no zoomed city maps)
    for figure in KEY_FIGURES:
        assert figure in page, figure
    # the assumptions appendix: values with their units, e.g. the target and the service radius
    assert '<td>target premium users</td><td class="n">1,000</td><td>users</td>' in page
    assert '<td>service radius</td><td class="n">30</td><td>km</td>' in page
    assert "optimal" in page


def test_run_folder_holds_report_maps_and_gap_tables(run_folder: Path) -> None:
    names = {p.name for p in run_folder.iterdir()}
    assert {"report.html", "map.html", "map.png", "regions.csv", "proposed_sites.csv"} <= names
    page = (run_folder / "report.html").read_text(encoding="utf-8")
    assert _external_references(page) == []
    assert 'href="map.html"' in page and 'href="gaps.csv"' in page
    gaps = pd.read_csv(run_folder / "gaps.csv")
    assert gaps["zone_id"].tolist() == ["z4"]
    assert gaps.loc[0, "nearest_open_site"] == "s2"
    assert gaps.loc[0, "nearest_open_site_km"] == pytest.approx(220, abs=0.05)
    assert gaps.loc[0, "proposed_site"] == "new-1"
    regions = pd.read_csv(run_folder / "regions.csv")
    assert regions["region"].tolist() == ["b", "a"]
    assert regions["unserved_users"].round().tolist() == [74, 0]
    new = pd.read_csv(run_folder / "proposed_sites.csv")
    assert new[["proposed_site", "zone_ids", "unserved_users"]].values.tolist() == [
        ["new-1", "z4", 74.0]
    ]


def test_interactive_map_has_layers_and_popups(run_folder: Path) -> None:
    page = (run_folder / "map.html").read_text(encoding="utf-8")
    for layer in ("zones, by premium users", "coverage gaps, by reason", "built sites", "proposed"):
        assert layer in page, layer
    assert len(re.findall(r"bindPopup", page)) >= 4  # one popup binding per layer
    assert '"zone": "z4"' in page and '"gap_reason": "unreachable"' in page
    assert '"site_id": "s2"' in page and '"chargers": 57' in page


def test_interactive_map_is_reproducible(tiny, tmp_path: Path) -> None:
    """folium names elements at random; the writer renumbers them, so the file is stable."""
    plan, scenario = tiny
    analysis = analyse_gaps(plan, GapSettings.from_scenario(scenario))
    first = write_interactive_map(plan, tmp_path / "a.html", analysis).read_bytes()
    second = write_interactive_map(plan, tmp_path / "b.html", analysis).read_bytes()
    assert first == second


def test_hostile_names_are_escaped_in_the_report(hostile_run: Path) -> None:
    page = (hostile_run / "report.html").read_text(encoding="utf-8")
    assert _external_references(page) == []  # no <script>, no fetched source
    for raw in ("<img src=x", "<b>s2", SCRIPT, "onerror=alert(1)>"):
        assert raw not in page, raw
    for escaped in ESCAPED:
        assert escaped in page, escaped
    # every place a name shows: title, description, gap and site tables, the region chart
    assert "<title>chargeplan: &lt;script&gt;alert(1)&lt;/script&gt;</title>" in page
    assert "<td>&#34;&gt;&lt;img src=x onerror=alert(1)&gt;</td>" in page  # zone z4, region
    assert f"<td>{ESCAPED[1]}</td><td>{ESCAPED[1]}</td>" in page  # site s2 in its region


def _unescape_json(text: str) -> str:
    """The text with JSON's \\uXXXX escapes decoded, as the browser reads the GeoJSON data."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def test_hostile_names_are_escaped_in_the_map(hostile_run: Path) -> None:
    """folium writes popup and tooltip fields into the page as HTML; the layers hold escaped
    text, so a popup shows a hostile name and runs nothing."""
    page = _unescape_json((hostile_run / "map.html").read_text(encoding="utf-8"))
    for raw in ("<img", "<b>s2", SCRIPT, "onerror=alert(1)>"):
        assert raw not in page, raw
    for escaped in ESCAPED:
        assert escaped in page, escaped
    assert '"site_id": "&lt;b&gt;s2&lt;/b&gt;"' in page
    assert '"nearest_site": "&lt;b&gt;s2&lt;/b&gt;"' in page
    assert '"zone": "z&amp;2"' in page
    assert "<b>&lt;script&gt;alert(1)&lt;/script&gt;: 1 sites" in page  # the legend's title


def test_no_report_flag(tiny_scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["run", str(tiny_scenario), "--out", str(out), "-q", "--no-report"]) == 0
    names = {p.name for p in out.iterdir()}
    assert "map.png" in names and "gaps.csv" in names
    assert "report.html" not in names and "map.html" not in names
    assert json.loads((out / "summary.json").read_text())["chargers"] == 57


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    need(found is not None, "chromium", "apt-get install chromium")
    assert found is not None
    return found


def _chromium_run(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_report_renders_in_headless_chromium(run_folder: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    url = (run_folder / "report.html").resolve().as_uri()
    shot = tmp_path / "report.png"
    result = _chromium_run(
        chromium, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,3000", url
    )
    assert shot.is_file(), result.stderr[-2000:]
    image = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert image.shape[:2] == (3000, 1280)
    # not blank: a good share of the page is drawn, in many colours
    drawn = (image < 235).any(axis=2)
    assert drawn.mean() > 0.03
    colours = (image[..., 0] // 16) * 256 + (image[..., 1] // 16) * 16 + image[..., 2] // 16
    assert np.count_nonzero(np.bincount(colours.ravel(), minlength=4096)) > 50
    # the map image rendered: the built site's disc (#0072B2 at 60 % over the pale base zone)
    disc = np.array([97, 165, 204])
    assert (np.abs(image - disc).max(axis=2) < 14).sum() > 200

    result = _chromium_run(chromium, tmp_path / "profile", "--dump-dom", url)
    assert result.returncode == 0, result.stderr[-2000:]
    text = re.sub(r"<[^>]+>", " ", result.stdout)
    for figure in KEY_FIGURES:
        assert figure in text, figure


def test_hostile_names_stay_text_in_headless_chromium(hostile_run: Path, tmp_path: Path) -> None:
    """The browser's own reading of the page: the names are text, no element came of them."""
    chromium = _chromium()
    url = (hostile_run / "report.html").resolve().as_uri()
    result = _chromium_run(chromium, tmp_path / "profile", "--dump-dom", url)
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    elements = re.findall(r"<[a-z][^>]*>", dom)  # serialised text holds &lt;, never <
    assert [e for e in elements if re.match(r"<(?:script|b)\b", e) or "onerror" in e] == []
    assert all(s.startswith("data:image/png") for s in re.findall(r'<img src="([^"]*)"', dom))
    text = html.unescape(re.sub(r"<[^>]+>", " ", dom))
    assert IMG in text and SCRIPT in text


def test_numbers_read_as_a_planner_writes_them() -> None:
    from chargeplan.outputs import formatting

    assert [formatting.count(v) for v in (312.4, 4_321, 466_812, 20e6)] == [
        "312",
        "4.3 k",
        "467 k",
        "20.0 M",
    ]
    assert [formatting.cny(v) for v in (13.06e9, 657e6, 3e6, 24_700, 950)] == [
        "CNY 13.06 bn",
        "CNY 657 M",
        "CNY 3.00 M",
        "CNY 24.7 k",
        "CNY 950",
    ]
    assert (formatting.share(0.9261), formatting.kwh(5.58e6), formatting.kwh(74)) == (
        "92.6 %",
        "5.58 GWh",
        "74 kWh",
    )
    assert formatting.money_scale(24_700) == (1e3, "CNY k")


def test_too_many_zones_for_a_browser_map_skip_map_html(tiny, tmp_path: Path, monkeypatch) -> None:
    """Above interactive.MAX_ZONES zones map.html is left out and the report does not link it."""
    from chargeplan.outputs import interactive

    plan, scenario = tiny
    monkeypatch.setattr(interactive, "MAX_ZONES", len(plan.zones) - 1)
    written = write_plan(plan, tmp_path / "out", scenario=scenario)
    assert "map.html" not in written and not (tmp_path / "out" / "map.html").exists()
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "map.html" not in page and "report.html" in written
    monkeypatch.setattr(interactive, "MAX_ZONES", len(plan.zones))
    assert "map.html" in write_plan(plan, tmp_path / "again", scenario=scenario)


# --- report.html as a management document (issue 16 item 1) ----------------------------------

#: Chinese names for the tiny scenario's zones, regions and sites, with their pinyin.
CHINESE_ZONES = ["杭州市", "深圳市", "上海市", "西安市"]
CHINESE_REGIONS = ["浙江省", "浙江省", "广东省", "广东省"]


@pytest.fixture(scope="module")
def chinese(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[chargeplan.Plan, chargeplan.Scenario]:
    """The tiny plan with Chinese zone and region names (the same plan: 1 site, 57 chargers)."""
    folder = tmp_path_factory.mktemp("chinese")
    scenario = SCENARIO.replace(
        'population_column = "pop"', 'population_column = "pop"\nname_column = "name"'
    )
    path = write_tiny_scenario(folder, scenario)
    zones = gpd.read_file(folder / "zones.geojson")
    zones["name"] = CHINESE_ZONES
    zones["region"] = CHINESE_REGIONS
    zones.to_file(folder / "zones.geojson", driver="GeoJSON")
    scenario = chargeplan.load_scenario(path)
    plan = chargeplan.plan_network(scenario)
    assert plan.summary["chargers"] == 57
    return plan, scenario


def _text_of(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', page)
    assert match, element_id
    return html.unescape(match.group(1))


def test_report_is_dated_and_its_summary_figures_are_the_plans(tiny) -> None:
    """The executive summary's figures are the plan summary's, formatted: by hand for the tiny
    plan, 1,000 users, 1 station, 57 chargers, CNY 24.7 k (10,000 fixed + 57 chargers), 92.6 %
    served, 74 users (z4, unreachable) out of reach."""
    from chargeplan.outputs import formatting

    plan, scenario = tiny
    page = render_report(plan, scenario=scenario, date=dt.date(2030, 1, 2))
    assert '<time datetime="2030-01-02" id="report-date">2030-01-02</time>' in page
    s = plan.summary
    expected = {
        "es-users": formatting.count(s["premium_users"]),
        "es-stations": f"{s['sites_opened']:,}",
        "es-chargers": f"{s['chargers']:,}",
        "es-capex": formatting.cny(s["capex_cny"]),
        "es-coverage": formatting.share(s["coverage"]),
        "es-unserved": formatting.count(s["unserved_users"]),
    }
    assert {k: _text_of(page, k) for k in expected} == expected
    assert list(expected.values()) == ["1.0 k", "1", "57", "CNY 24.7 k", "92.6 %", "74"]
    summary = page[page.index('id="executive-summary"') : page.index('id="map"')]
    assert "unreachable</strong>: 74 users in 1 zones" in summary
    assert "A <i>station</i> is one charging" in summary  # the terms, said once
    assert "<i>region</i>" in summary and "<code>region</code>" in summary


def test_report_date_follows_source_date_epoch(tiny, monkeypatch) -> None:
    """Without a date, SOURCE_DATE_EPOCH dates the report (reproducible builds)."""
    plan, scenario = tiny
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(86_400 * 365))  # 1971-01-01
    page = render_report(plan, scenario=scenario)
    assert '<meta name="date" content="1971-01-01">' in page


def test_assumptions_appendix_groups_values_with_units_and_sources(tiny) -> None:
    from chargeplan.outputs.report_appendix import assumptions

    _, scenario = tiny
    groups = {g.title: {r.name: r for r in g.rows} for g in assumptions(scenario)}
    assert list(groups) == [
        "Premium users",
        "Demand",
        "Chargers",
        "Stations and their sizing",
        "Reach",
        "Prices in the model",
        "Settings of the computation (not market assumptions)",
    ]
    fixed = groups["Stations and their sizing"]["fixed cost"]
    assert (fixed.value, fixed.unit) == ("10,000", "CNY")
    assert groups["Demand"]["peak hour share"].value == "10 %"
    assert (groups["Demand"]["kwh per km"].value, groups["Demand"]["kwh per km"].unit) == (
        "0.2",
        "kWh per km",
    )
    assert groups["Chargers"]["dc fast, capex"].value == "1,000"
    assert groups["Chargers"]["dc fast, capex"].unit == "CNY"
    penalty = groups["Prices in the model"]["unmet penalty"]
    assert (penalty.value, penalty.unit) == ("5,000", "CNY per kWh")
    # solver limits are settings, not market assumptions; no file paths, no column names
    assert "time limit" in groups["Settings of the computation (not market assumptions)"]
    names = [name for rows in groups.values() for name in rows]
    assert not any("column" in n or n == "file" for n in names), names
    values = [r.value for rows in groups.values() for r in rows.values()]
    assert not any(re.search(r"\de[+-]\d", v) for v in values), values  # no 3e+06


def test_rollout_targets_keyed_by_year_are_assumptions() -> None:
    """A rollout's targets are a table keyed by year (ints in the validated scenario): one row
    a year, in users, with the file's comment as source; the discount rate is a share."""
    from chargeplan.outputs.report_appendix import assumptions

    scenario = chargeplan.load_scenario(REPO / "models" / "china-rollout-2026-2030.toml")
    (rollout,) = [g for g in assumptions(scenario) if g.title == "Roll-out"]
    rows = {r.name: r for r in rollout.rows}
    assert rows["targets, 2026"].value == "1,000,000"
    assert rows["targets, 2030"].value == "20,000,000"
    assert rows["discount rate"].value == "6 %"
    assert rows["annual budget"].unit == "CNY"


def test_assumption_sources_are_the_comments_above_each_value(tmp_path: Path) -> None:
    from chargeplan.outputs.report_appendix import toml_comments

    path = tmp_path / "s.toml"
    path.write_text(
        "# the scenario\nname = 'x'\n\n[sites]\n# grid and works: CNY 3 M\n"
        "fixed_cost_cny = 3\nother = 1\n\nlast = 2  # inline source\n[demand.mix]\n# mix source\n"
        "dc = 0.5\n",
        encoding="utf-8",
    )
    assert toml_comments(path) == {
        "name": "the scenario",
        "sites": "",
        "sites.fixed_cost_cny": "grid and works: CNY 3 M",
        "sites.other": "grid and works: CNY 3 M",  # the key right below shares it
        "sites.last": "inline source",
        "demand.mix": "",
        "demand.mix.dc": "mix source",
    }


def test_chinese_names_carry_their_pinyin_and_the_font_is_embedded(chinese) -> None:
    plan, scenario = chinese
    page = render_report(plan, scenario=scenario)
    assert _external_references(page) == []
    # z4 (西安市, unreachable) in the gap tables, its region in the region chart
    assert "<td>Xi&#39;an 西安市</td><td>Guangdong 广东省</td>" in page
    assert "Hangzhou 杭州市" in page  # the coverage-by-city chart lists every zone
    faces = re.findall(r'@font-face \{font-family: "chargeplan CJK";[^}]*\}', page)
    need_cjk_font()
    assert len(faces) == 1 and 'src: url("data:font/woff2;base64,' in faces[0]
    font = fonts.embedded_font(page)
    assert font is not None
    assert set("杭州深圳上海西安广东浙江省市") <= set(font.characters)
    assert font.css in page


def _fontless_config(folder: Path) -> Path:
    """A fontconfig file whose only fonts are DejaVu's (Latin): no CJK font at all."""
    fonts_dir = folder / "fonts"
    fonts_dir.mkdir(parents=True)
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        source = Path("/usr/share/fonts/truetype/dejavu") / name
        need(
            source.is_file(),
            "DejaVu Sans (the font-less browser's Latin font)",
            "apt-get install fonts-dejavu-core",
        )
        shutil.copy(source, fonts_dir / name)
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{fonts_dir}</dir><cachedir>{folder / 'cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    return config


def _glyphs(chromium: str, page: Path, css: str, family: str, env: dict[str, str]) -> np.ndarray:
    """Screenshot of four Chinese characters in ``family`` (``page``), as a dark-pixel mask."""
    folder = page.parent
    page.write_text(
        f'<!DOCTYPE html><meta charset="utf-8"><style>{css} body {{margin:0;background:#fff}}'
        f"p {{font: 64px {family}; margin: 10px}}</style><p>杭州西安</p>",
        encoding="utf-8",
    )
    shot = page.with_suffix(".png")
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={folder / 'profile'}", f"--screenshot={shot}",
         "--window-size=600,300", page.as_uri()],
        capture_output=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    assert shot.is_file()
    return np.asarray(Image.open(shot).convert("L")) < 128


def test_chinese_renders_with_the_embedded_font_in_a_fontless_browser(
    chinese, tmp_path: Path
) -> None:
    """In a browser with no CJK font, the report's embedded subset draws the same glyphs as the
    installed Noto Sans CJK SC, and without it the browser draws boxes (or nothing) instead."""
    chromium = _chromium()
    need_cjk_font()
    plan, scenario = chinese
    page = render_report(plan, scenario=scenario)
    face = re.search(r'@font-face \{font-family: "chargeplan CJK";[^}]*\}', page)
    assert face is not None
    fontless = {**os.environ, "FONTCONFIG_FILE": str(_fontless_config(tmp_path))}
    embedded = _glyphs(chromium, tmp_path / "a.html", face.group(0), '"chargeplan CJK"', fontless)
    boxes = _glyphs(chromium, tmp_path / "b.html", "", '"Noto Sans CJK SC", sans-serif', fontless)
    installed = _glyphs(chromium, tmp_path / "c.html", "", '"Noto Sans CJK SC"', dict(os.environ))
    assert installed.sum() > 2_000  # the reference: real glyphs, many dark pixels
    assert (embedded != installed).mean() < 0.01  # the same glyphs as the installed font
    assert (boxes != installed).mean() > 0.02  # without the subset: not those glyphs


def test_report_prints_on_a4(run_folder: Path, tmp_path: Path) -> None:
    """Chromium prints the report on A4 pages: 595 x 842 points (210 x 297 mm), and the two
    appendices and the map each start a page, so there are at least four."""
    page = (run_folder / "report.html").read_text(encoding="utf-8")
    assert "@page {size: A4;" in page
    chromium = _chromium()
    pdf = tmp_path / "report.pdf"
    result = _chromium_run(
        chromium,
        tmp_path / "profile",
        f"--print-to-pdf={pdf}",
        "--no-pdf-header-footer",
        (run_folder / "report.html").resolve().as_uri(),
    )
    assert pdf.is_file(), result.stderr[-2000:]
    data = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert len(boxes) >= 4
    assert {(round(float(w)), round(float(h))) for w, h in boxes} == {(595, 842)}


# --- map.html offline (issue 16 item 2) --------------------------------------------------------


def test_map_html_carries_leaflet_and_fetches_nothing_to_draw(run_folder: Path) -> None:
    page = (run_folder / "map.html").read_text(encoding="utf-8")
    tags = re.findall(r"<script[^>]*>|<link[^>]*>", page)
    assert [t for t in tags if "src=" in t or "href=" in t] == []  # no CDN script or sheet
    assert "Leaflet 1.9.4, a JS library for interactive maps" in page  # inline, licence kept
    assert "BSD-2-Clause" in page and ".leaflet-container" in page
    # the only URL to fetch is the optional background layer, off when the page opens
    tiles = re.findall(r"var (tile_layer_\w+) = L\.tileLayer", page)
    assert len(tiles) == 1 and f"{tiles[0]}.addTo(" not in page


def test_map_html_draws_offline_in_headless_chromium(run_folder: Path, tmp_path: Path) -> None:
    """With every connection refused (a proxy on a closed port), the page still draws: the
    built site's disc (#0072B2 at 65 % over the map's grey background) is on the screen."""
    chromium = _chromium()
    shot = tmp_path / "map.png"
    result = _chromium_run(
        chromium,
        tmp_path / "profile",
        "--proxy-server=127.0.0.1:9",
        "--virtual-time-budget=5000",
        f"--screenshot={shot}",
        "--window-size=900,700",
        (run_folder / "map.html").resolve().as_uri(),
    )
    assert shot.is_file(), result.stderr[-2000:]
    image = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    blue = np.array([0x00, 0x72, 0xB2])
    near_blue = (np.abs(image - blue).max(axis=2) < 60) & (image[..., 2] > 150)
    assert near_blue.sum() > 100


def test_coverage_by_city_lists_zones_by_users_with_their_share_served(tiny) -> None:
    """Tiny users by hand: weights pop x car = 500, 1,000, 1,000, 200 (z1..z4) of 2,700, times
    1,000 users: 185.19, 370.37, 370.37, 74.07, in whole users by largest remainder 185, 371
    (the tie of z2 and z3 goes to the first), 370, 74. Only z4 (unreachable) is unserved (92.6 %
    = 1 - 74/1,000 of the demand, which follows the users), so its bar is empty and vermillion.
    """
    from chargeplan.outputs.report_summary import city_coverage

    plan, _ = tiny
    rows = city_coverage(plan, None, "region")
    assert [(r.city, r.premium_users, r.served.value, r.reason) for r in rows] == [
        ("z2", "371", "100.0 %", "served"),
        ("z3", "370", "100.0 %", "served"),
        ("z1", "185", "100.0 %", "served"),
        ("z4", "74", "0.0 %", "unreachable"),
    ]
    assert (rows[3].served.width_pct, rows[3].served.colour) == ("0.00", "#D55E00")
    assert [r.region for r in rows] == ["a", "b", "a", "b"]


def test_coverage_by_city_takes_a_city_s_zones_together(tiny) -> None:
    """The tiny zones named as two cities, A (z1, z2) and B (z3, z4): A has 185 + 371 = 556
    users, all served; B 370 + 74 = 444, of which z4's 74 are unreachable. The demand follows
    the users, so B's served share is 370 / 444 = 83.3 % and its reason "unreachable". One row
    per city, the most users first (a station layer's city is many cells)."""
    from chargeplan.outputs.report_summary import city_coverage

    plan, _ = tiny
    zones = plan.zones.copy()
    zones["city"] = ["A", "A", "B", "B"]
    named = type(plan)(
        sites=plan.sites, zones=zones, assignments=plan.assignments, summary=plan.summary
    )
    rows = city_coverage(named, "city", "region")
    assert [(r.city, r.premium_users, r.served.value, r.reason) for r in rows] == [
        ("A", "556", "100.0 %", "served"),
        ("B", "444", "83.3 %", "unreachable"),
    ]
    assert rows[1].served.colour == "#D55E00"


def test_capex_and_stations_by_province(tiny) -> None:
    """The one built site (s2, capex CNY 24.7 k) lies in region a: a's bars are full, b's
    empty."""
    from chargeplan.outputs.report_summary import province_bars

    plan, scenario = tiny
    rows = province_bars(analyse_gaps(plan, GapSettings.from_scenario(scenario)))
    assert [(r.region, r.capex.value, r.capex.width_pct, r.stations.value) for r in rows] == [
        ("a", "CNY 24.7 k", "100.00", "1"),
        ("b", "CNY 0", "0.00", "0"),
    ]


def test_city_maps_centre_on_the_cities_with_most_users_not_the_largest_cells() -> None:
    """City A: three 1 x 1 cells of 100 users (300, the most), one of them 0.5 x 0.5 (density
    400, the densest); city B: one 10 x 10 cell of 250 users (the largest zone); city C: 200.
    By zone the maps would show B first; by city they show A's densest cell, then B's only
    cell. Without names every zone is its own city: B's cell, then C's."""
    zones = gpd.GeoDataFrame(
        {
            "name": ["A", "A", "A", "B", "C"],
            "premium_users": [100.0, 100.0, 100.0, 250.0, 200.0],
        },
        geometry=[
            box(0, 0, 1, 1),
            box(2, 0, 2.5, 0.5),
            box(3, 0, 4, 1),
            box(0, 5, 10, 15),
            box(20, 0, 21, 1),
        ],
        index=["a1", "a2", "a3", "b1", "c1"],
    )
    assert largest_cities(zones, "name", 2) == ["a2", "b1"]
    assert largest_cities(zones, None, 2) == ["b1", "c1"]
    assert largest_cities(zones, "name", 5) == ["a2", "b1", "c1"]


def test_proposals_name_each_zone_name_once_with_its_count() -> None:
    """A proposal reaching 40 cells of Lingao County and one of Haikou lists two names: the
    county with "(40 zones)", in the order of first place; a single name keeps no count."""
    from chargeplan.outputs.report_tables import _bilingual_list

    names = ", ".join(["临高县"] * 20 + ["海口市"] + ["临高县"] * 20)
    assert _bilingual_list(names) == "Lingao County 临高县 (40 zones), Haikou 海口市"
    assert _bilingual_list("Shanghai") == "Shanghai"


def test_names_that_repeat_in_a_table_get_their_id() -> None:
    """Two cells of Macao and one of Hong Kong: the two Macao rows are told apart by their
    ids, the Hong Kong row keeps its name alone."""
    from chargeplan.outputs.report_tables import _told_apart

    names = pd.Series(["Macao SAR", "Hong Kong SAR", "Macao SAR"], index=["c1", "c2", "c3"])
    assert _told_apart(names).tolist() == ["Macao SAR (c1)", "Hong Kong SAR", "Macao SAR (c3)"]


def test_assumptions_take_their_sources_from_every_file_a_scenario_extends() -> None:
    """china-2030-stations.toml extends china-2030-fine.toml, which extends china-2030.toml:
    the daily kilometres are commented two files up, the designs' grid in the catalogue (its
    "designs.<name>" keys were looked up as "designs.designs.<name>", so every design read
    "chargeplan default"), the DC power in the catalogue too."""
    from chargeplan.config.files import scenario_chain
    from chargeplan.outputs.report_appendix import assumptions

    path = REPO / "models" / "china-2030-stations.toml"
    assert [p.name for p in scenario_chain(path)] == [
        "china-2030.toml",
        "china-2030-fine.toml",
        "china-2030-stations.toml",
    ]
    rows = {
        (g.title, r.name): r.source
        for g in assumptions(chargeplan.load_scenario(path))
        for r in g.rows
    }
    assert "China EV big-data platform" in rows[("Demand", "km per user day")]
    assert rows[("Stations and their sizing", "dc8 ac8, grid")].startswith("The facts' county")
    assert "CHINA-EV-FACTS.md" in rows[("Chargers", "dc fast, power")]


def test_site_sizes_chart_has_a_bar_per_design_size_or_a_log_histogram(tiny) -> None:
    """Four open sites of 8, 8, 20 and 36 chargers (three sizes, as a menu of designs): bars
    "8", "20", "36" of 2, 1 and 1 sites on a linear axis. Twenty sites of 1-20 chargers (20
    sizes, above SIZE_BARS = 12): the histogram on a log axis, as before."""
    from chargeplan.outputs.html import SIZE_BARS, _cost_chart

    plan, _ = tiny
    assert SIZE_BARS == 12

    def chart(chargers: list[float]):
        sites = plan.sites.iloc[[0] * len(chargers)].copy()
        sites.index = pd.RangeIndex(len(chargers))
        sites["open"], sites["chargers"] = True, chargers
        return _cost_chart(dataclasses.replace(plan, sites=sites)).axes[1]

    bars = chart([8.0, 8.0, 20.0, 36.0])
    assert [t.get_text() for t in bars.get_xticklabels()] == ["8", "20", "36"]
    assert [p.get_height() for p in bars.patches] == [2, 1, 1]
    assert bars.get_xscale() == "linear"
    assert chart([float(c) for c in range(1, 21)]).get_xscale() == "log"
