"""The command line: run, validate, and one clear line with a non-zero exit on error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chargeplan.cli import main

from .conftest import SCENARIO, write_tiny_scenario


def test_run_writes_outputs(tiny_scenario: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["run", str(tiny_scenario), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sites_opened"] == 1 and summary["chargers"] == 57
    assert "tiny: optimal" in capsys.readouterr().out


def test_run_into_a_relative_folder(tiny_scenario: Path, tmp_path: Path, monkeypatch) -> None:
    """README's command gives ``--out runs/NAME``: a path relative to the working directory."""
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(tiny_scenario), "--out", "runs/tiny", "-q", "--no-map"]) == 0
    manifest = json.loads((tmp_path / "runs/tiny/manifest.json").read_text())
    assert "assignments.csv" in manifest["outputs"] and "sites.parquet" in manifest["outputs"]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["tiny"]


def test_run_overrides_target(tiny_scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        main(["run", str(tiny_scenario), "--out", str(out), "-q", "--target", "2000", "--no-map"])
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["premium_users"] == 2000
    assert not (out / "map.png").exists()


def test_validate_ok(tiny_scenario: Path, capsys) -> None:
    assert main(["validate", str(tiny_scenario), "-q"]) == 0
    assert "valid; 4 zones, 3 sites" in capsys.readouterr().out


def test_wrong_scenario_is_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    path = write_tiny_scenario(tmp_path, SCENARIO.replace("kwh_per_km = 0.2", "kwh_per_km = -1"))
    result = subprocess.run(
        [sys.executable, "-m", "chargeplan.cli", "run", str(path), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("chargeplan: error: ")
    assert "tiny.toml" in lines[-1] and "demand.kwh_per_km" in lines[-1]
    assert not (tmp_path / "o").exists()


def test_bad_zone_data_exit_code(tmp_path: Path) -> None:
    path = write_tiny_scenario(tmp_path)
    zones = (tmp_path / "zones.geojson").read_text().replace('"pop": 2000.0', '"pop": -5.0')
    (tmp_path / "zones.geojson").write_text(zones)
    result = subprocess.run(
        [sys.executable, "-m", "chargeplan.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert "zones.geojson" in result.stderr and "pop" in result.stderr


def test_decompose_flags_are_parsed_and_applied(
    tiny_scenario: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    argv = ["run", str(tiny_scenario), "--out", str(out), "-q", "--no-map", "--no-report"]
    assert main([*argv, "--decompose", "components", "--workers", "1"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["decompose_by"] == "components"
    assert summary["decompose_executor"] == "this process"
    assert summary["decompose_regions"] == 1 and summary["chargers"] == 57
    assert "1 regions solved apart (components)" in capsys.readouterr().out


def test_workers_must_be_a_positive_whole_number(tiny_scenario: Path, capsys) -> None:
    for bad in ("0", "two"):
        with pytest.raises(SystemExit) as info:
            main(["run", str(tiny_scenario), "--decompose", "region", "--workers", bad])
        assert info.value.code == 2
        assert "--workers" in capsys.readouterr().err


def test_workers_without_decomposition_is_one_clear_line(tiny_scenario: Path, capsys) -> None:
    code = main(["run", str(tiny_scenario), "-q", "--workers", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("chargeplan: error: --workers and --scheduler")
    assert "--decompose components" in err[0]


def test_bad_scheduler_address_is_a_scenario_error(tiny_scenario: Path, capsys) -> None:
    code = main(
        ["run", str(tiny_scenario), "-q", "--decompose", "region", "--scheduler", "localhost"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and len(err) == 1
    assert "decompose.scheduler" in err[0] and "tcp://host:port" in err[0]


def test_bad_decompose_key_in_the_scenario_file(tmp_path: Path, capsys) -> None:
    path = write_tiny_scenario(
        tmp_path, SCENARIO + '\n[decompose]\nby = "components"\nworker = 2\n'
    )
    code = main(["run", str(path), "-q", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and len(err) == 1
    assert (
        "tiny.toml" in err[0]
        and "unknown key 'decompose.worker' (did you mean 'workers'?)" in err[0]
    )
    path = write_tiny_scenario(tmp_path, SCENARIO + '\n[decompose]\nby = "province"\n')
    assert main(["validate", str(path), "-q"]) == 3
    assert "key 'decompose.by': Input should be 'none', 'components' or 'region'" in (
        capsys.readouterr().err
    )


def test_every_flag_sets_its_scenario_key() -> None:
    """One table maps the flags to scenario keys; unset flags change nothing."""
    from chargeplan.cli import _changes, _parser

    argv = ["run", "s.toml", "--target", "5", "--budget", "1e9", "--objective", "max_coverage"]
    argv += ["--time-limit", "9", "--gap", "0.01", "--threads", "2", "--decompose", "region"]
    argv += ["--workers", "3", "--scheduler", "tcp://10.0.0.5:8786"]
    assert _changes(_parser().parse_args(argv)) == {
        "users.target_premium_users": 5,
        "model.budget_cny": 1e9,
        "model.objective": "max_coverage",
        "solver.time_limit_s": 9.0,
        "solver.mip_rel_gap": 0.01,
        "solver.threads": 2,
        "decompose.by": "region",
        "decompose.workers": 3,
        "decompose.scheduler": "tcp://10.0.0.5:8786",
    }
    assert _changes(_parser().parse_args(["validate", "s.toml"])) == {}
    batch = _parser().parse_args(["batch", "s.toml", "--out", "o", "--gap", "0.05"])
    assert _changes(batch) == {"solver.mip_rel_gap": 0.05}


def test_validate_checks_what_run_would_plan(tiny_scenario: Path, capsys) -> None:
    """``validate`` takes run's flags: max coverage needs a budget or a site limit."""
    assert main(["validate", str(tiny_scenario), "-q", "--objective", "max_coverage"]) == 3
    assert "needs budget_cny or max_sites" in capsys.readouterr().err
    argv = ["validate", str(tiny_scenario), "-q", "--objective", "max_coverage", "--budget", "1e9"]
    assert main(argv) == 0
    assert "valid; 4 zones, 3 sites" in capsys.readouterr().out


def test_closing_words_of_a_station_plan_and_of_a_site_plan() -> None:
    """The run's last line: stations, counts with separators, the served share of the demand in
    reach, and a non-optimal status read as a gap against a bound (figures made up)."""
    from chargeplan.results.display import closing_words

    s = {
        "status": "iteration_limit",
        "gap": 0.04375,
        "sites_opened": 11526,
        "chargers": 312060,
        "capex_cny": 32.75e9,
        "coverage": 0.7346,
        "served_share_reachable": 0.7350,
        "zones_with_gaps": 173940,
        "decompose_regions": 279,
        "decompose_by": "components",
    }
    assert closing_words(s, True) == (
        "iteration_limit, gap 4.375 % against its bound; 11,526 stations, 312,060 chargers; "
        "capex CNY 32.75 bn; 73.5 % of peak demand served (73.5 % of the demand in reach); "
        "173,940 zones with gaps; 279 regions solved apart (components)"
    )
    site = {k: v for k, v in s.items() if not k.startswith("decompose")}
    site |= {"status": "optimal", "gap": 0.00176, "sites_opened": 224}
    assert closing_words(site, False) == (
        "optimal, gap 0.176 %; 224 sites, 312,060 chargers; capex CNY 32.75 bn; "
        "73.5 % of peak demand served; 173,940 zones with gaps"
    )
