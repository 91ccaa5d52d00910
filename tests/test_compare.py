"""Two plans compared (``chargeplan.compare``, ``chargeplan compare RUN_A RUN_B``), a run's
report written again without solving (``chargeplan report RUN_DIR``), and a plan in a
notebook (``Plan._repr_html_``, ``Plan.explore``)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

import chargeplan
from chargeplan.cli import main
from chargeplan.outputs.manifest import is_complete, read_manifest, verify
from chargeplan.outputs.runs import read_run
from chargeplan.results.plan import Plan


def _plan(chargers: dict[str, tuple[int, int]], served: list[float]) -> Plan:
    """Four candidate sites s1..s4 with (dc, ac) chargers where open, capex CNY 100 per
    charger, and three zones in provinces P, P, Q with 10 kWh of demand each."""
    ids = ["s1", "s2", "s3", "s4"]
    dc = [chargers.get(i, (0, 0))[0] for i in ids]
    ac = [chargers.get(i, (0, 0))[1] for i in ids]
    sites = gpd.GeoDataFrame(
        {
            "open": [i in chargers for i in ids],
            "chargers_dc_fast": dc,
            "chargers_ac_destination": ac,
            "chargers": [d + a for d, a in zip(dc, ac, strict=True)],
            "capex_cny": [100.0 * (d + a) for d, a in zip(dc, ac, strict=True)],
        },
        index=ids,
        geometry=[Point(float(x), 0.0) for x in range(4)],
        crs="EPSG:4326",
    )
    zones = gpd.GeoDataFrame(
        {"province": ["P", "P", "Q"], "demand_kwh": [10.0] * 3, "served_kwh": served},
        index=["z1", "z2", "z3"],
        geometry=[box(x, 0, x + 1, 1) for x in range(3)],
        crs="EPSG:4326",
    )
    return Plan(sites=sites, zones=zones, assignments=pd.DataFrame(), summary={})


def test_compare_says_which_sites_changed_and_by_how_much() -> None:
    """A opens s1 (2 DC, 1 AC), s2 (3, 0), s3 (1, 0); B opens s1 (2, 1), s2 (5, 0), s4 (0, 4).
    So s1 is the same, s2 changed (+2 DC), s3 removed (-1 DC), s4 added (+4 AC); A has
    3 sites, 6 DC + 1 AC = 7 chargers, capex 700; B 3 sites, 7 DC + 5 AC = 12, capex 1,200.
    Served: A 5, 10, 0 kWh of 10 each (P 15/20 = 75 %, Q 0 %); B 10, 10, 5 (P 100 %, Q 50 %):
    P +25 and Q +50 percentage points; in all 15/30 = 50 % -> 25/30."""
    a = _plan({"s1": (2, 1), "s2": (3, 0), "s3": (1, 0)}, [5.0, 10.0, 0.0])
    b = _plan({"s1": (2, 1), "s2": (5, 0), "s4": (0, 4)}, [10.0, 10.0, 5.0])
    comparison = chargeplan.compare(a, b)
    sites = comparison.sites
    assert list(sites.index) == ["s4", "s3", "s2", "s1"]  # added, removed, changed, same
    assert list(sites["change"]) == ["added", "removed", "changed", "same"]
    assert list(sites["chargers_dc_fast_delta"]) == [0, -1, 2, 0]
    assert list(sites["chargers_ac_destination_delta"]) == [4, 0, 0, 0]
    assert list(sites["chargers_dc_fast_a"]) == [0, 1, 3, 2]
    assert sites.geometry.x.tolist() == [3.0, 2.0, 1.0, 0.0]  # where each site is
    assert comparison.counts() == {"added": 1, "removed": 1, "changed": 1, "same": 1}
    totals = comparison.totals
    assert totals.loc["sites_opened"].tolist() == [3, 3, 0]
    assert totals.loc["chargers_dc_fast"].tolist() == [6, 7, 1]
    assert totals.loc["chargers_ac_destination"].tolist() == [1, 5, 4]
    assert totals.loc["chargers"].tolist() == [7, 12, 5]
    assert totals.loc["capex_cny"].tolist() == [700, 1200, 500]
    assert totals.loc["share_served"].tolist() == pytest.approx([0.5, 25 / 30, 25 / 30 - 0.5])
    regions = comparison.regions
    assert regions.index.name == "province"
    assert regions["share_served_a"].tolist() == pytest.approx([0.75, 0.0])
    assert regions["change_pp"].tolist() == pytest.approx([25.0, 50.0])
    assert "1 added" in comparison._repr_html_()


def test_a_plan_compared_with_itself_has_no_change() -> None:
    a = _plan({"s1": (2, 1)}, [1.0, 2.0, 3.0])
    comparison = chargeplan.compare(a, a, by=None)
    assert comparison.counts() == {"added": 0, "removed": 0, "changed": 0, "same": 1}
    assert (comparison.totals["change"] == 0).all()
    assert (comparison.regions["change_pp"] == 0).all()  # "province" found by itself


def test_plan_shows_a_summary_in_a_notebook_and_explores_on_a_map() -> None:
    a = _plan({"s1": (2, 1), "s2": (3, 0)}, [5.0, 10.0, 0.0])
    a = Plan(
        sites=a.sites,
        zones=a.zones.assign(share_served=[0.5, 1.0, 0.0], gap_reason=["x", "", "y"]),
        assignments=a.assignments,
        summary={
            "scenario": "<b>x</b>",
            "status": "optimal",
            "sites_opened": 2,
            "chargers": 6,
            "chargers_dc_fast": 5,
            "capex_cny": 6e9,
            "coverage": 0.5,
        },
    )
    html = a._repr_html_()
    assert "<tr><th style='text-align:left'>sites opened</th><td>2</td></tr>" in html
    assert "<td>6.00</td>" in html and "<td>50.0%</td>" in html  # capex in bn, coverage
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html  # names are escaped
    assert "sites opened=2" in repr(a)
    m = a.explore()
    assert type(m).__name__ == "Map"
    page = m.get_root().render()
    assert "open sites" in page and "zones" in page


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The tiny scenario at 1,000 and 3,000 premium users, run into two folders."""
    from .conftest import write_tiny_scenario

    root = tmp_path_factory.mktemp("compare")
    scenario = write_tiny_scenario(root / "tiny")
    runs = []
    for target in ("1k", "3k"):
        out = root / f"run-{target}"
        argv = ["run", str(scenario), "--out", str(out), "--quiet", "--target", target]
        assert main([*argv, "--no-report"] if target == "1k" else argv) == 0
        runs.append(out)
    return runs[0], runs[1]


def test_compare_command_prints_json_agreeing_with_the_runs(
    two_runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = two_runs
    png = tmp_path / "changes.png"
    assert main(["compare", str(a), str(b), "--json", "--map", str(png)]) == 0
    data = json.loads(capsys.readouterr().out)
    summary_a = json.loads((a / "summary.json").read_text())
    summary_b = json.loads((b / "summary.json").read_text())
    assert data["totals"]["chargers"]["a"] == summary_a["chargers"]
    assert data["totals"]["chargers"]["b"] == summary_b["chargers"]
    assert data["totals"]["capex_cny"]["change"] == pytest.approx(
        summary_b["capex_cny"] - summary_a["capex_cny"]
    )
    assert data["totals"]["share_served"]["a"] == pytest.approx(summary_a["coverage"])
    assert set(data["regions"]) == {"a", "b"}  # the tiny scenario's zones.region_column
    assert sum(data["sites"].values()) == len(
        set(read_run(a).sites.query("open").index) | set(read_run(b).sites.query("open").index)
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_command_prints_a_table(
    two_runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = two_runs
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"A: {a}\nB: {b}\nsites: ")
    assert "capex, CNY M" in out and "peak demand served by region" in out


def test_compare_names_a_folder_that_is_no_run(
    two_runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", str(two_runs[0]), str(tmp_path)]) == 6
    assert "manifest.json" in capsys.readouterr().err


def test_report_command_writes_the_pages_again_without_solving(
    two_runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The 1k run was written with --no-report; ``report`` adds report.html and map.html, and
    the folder stays a complete run (every listed file hash-equal)."""
    run = two_runs[0]
    before = read_manifest(run)
    assert before is not None and "report.html" not in before["outputs"]
    sites = (run / "sites.parquet").read_bytes()
    assert main(["report", str(run)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"Report: {run / 'report.html'}"
    assert "<html" in (run / "report.html").read_text().lower()
    after = read_manifest(run)
    assert after is not None and "report.html" in after["outputs"]
    assert verify(run) == [] and is_complete(run, before["inputs_sha256"])
    assert (run / "sites.parquet").read_bytes() == sites  # the plan untouched
    assert not list(run.glob(".rerender-*"))


def test_report_command_shows_its_progress_unless_quiet(
    two_runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """``report`` names its stages on stderr (reading the run, writing the outputs: over a
    minute for the national run); ``--quiet`` silences them and leaves the results on stdout."""
    run = two_runs[1]
    assert main(["report", str(run)]) == 0
    shown = capsys.readouterr()
    stages = [line.split(":")[0] for line in shown.err.splitlines()]
    assert stages == ["read run", "write outputs"]
    assert main(["report", str(run), "--quiet"]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == "" and quiet.out == shown.out
