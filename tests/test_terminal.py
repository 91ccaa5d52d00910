"""What ``chargeplan run`` shows on the terminal, and what it keeps in files: the progress of its
stages on stderr, HiGHS's log in ``solver.log`` (on stderr only with ``-v``), data warnings
named and acknowledgeable, the objective scaled for HiGHS, amounts such as ``20M`` on the
command line, and a variant's name saying what changed."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import chargeplan
from chargeplan import progress
from chargeplan.cli import main
from chargeplan.cli_variants import amount, set_values
from chargeplan.config.notices import WarningsConfig
from chargeplan.errors import ScenarioError
from chargeplan.inputs.demand import DemandWarning, named_zones, zone_labels
from chargeplan.outputs.manifest import read_manifest, verify
from chargeplan.solver import scaling
from chargeplan.solver.scaling import MAX_SCALED_COST, objective_scale

from .conftest import REPO, write_tiny_scenario

STAGES = ("read inputs", "demand", "reach", "build model", "solve", "results", "write outputs")

# ---------------------------------------------------------------------------------------------
# the objective scaled for HiGHS
# ---------------------------------------------------------------------------------------------


def test_objective_scale_leaves_costs_to_1e7_and_brings_larger_ones_under_1e6() -> None:
    """Up to SCALE_ABOVE = 1e7 the costs go to HiGHS as they are (k = 0: the OR-Library files,
    costs up to 1.54e6); above it k is the smallest power of two that brings them under 1e6.
    The default scenario's largest cost, 2,671,727,543.66 CNY: 2.67e9 / 1e6 = 2671.7, and
    2**11 = 2048 < 2671.7 <= 4096 = 2**12, so k = -12 (HiGHS's own advice in its log)."""
    assert MAX_SCALED_COST == 1e6
    assert scaling.SCALE_ABOVE == 1e7
    assert objective_scale(np.array([214.38, 2_671_727_543.66])) == -12
    assert objective_scale(np.array([1.0, 1e6])) == 0
    assert objective_scale(np.array([1e6 + 1])) == 0  # was -1 before SCALE_ABOVE
    assert objective_scale(np.array([546.4, 1_538_949.0])) == 0  # cap131's range
    assert objective_scale(np.array([1e7])) == 0  # at the limit: left as it is
    assert objective_scale(np.array([1e7 + 1])) == -4  # 2**3 < 10.000001 <= 2**4
    assert objective_scale(np.array([-4e7, 0.0])) == -6  # by absolute value: 40 <= 2**6
    assert objective_scale(np.array([])) == 0
    assert objective_scale(np.array([np.inf, 10.0])) == 0  # infinite costs are not costs
    # 0.1 to 9e11: 9e11 / 1e6 = 9e5 asks for k = -20 (2**19 < 9e5 <= 2**20), but 0.1 * 2**-10
    # would fall below 1e-4 (1e-4 / 0.1 = 1e-3, 2**-10 < 1e-3 <= 2**-9): k = -9
    assert objective_scale(np.array([0.1, 0.0, 9e11])) == -9
    for cost in (3.7e6, 8.5e6):
        assert objective_scale(np.array([cost])) == 0
    for cost in (1.2e7, 2.5e8, 9.9e11):
        k = objective_scale(np.array([cost]))
        assert cost * 2.0**k <= 1e6 < cost * 2.0 ** (k + 1)


def test_a_scaled_solve_reports_costs_in_cny_and_leaves_no_scaling_warning(
    tmp_path: Path,
) -> None:
    """Unmet demand priced at CNY 1e6 per kWh: the tiny instance's costs then span 0.1 to
    1.8e8 (HiGHS: "excessively large costs"); scaled by 2**-8 they span 4e-4 to 7e5. The
    objective is reported in CNY (the same at both scales to 1e-9), and the log of the scaled
    solve has no warning."""
    path = write_tiny_scenario(tmp_path / "tiny")
    scenario = chargeplan.load_scenario(path).with_values({"model.unmet_penalty_cny_per_kwh": 1e6})
    problem = chargeplan.build_problem(scenario, chargeplan.prepare(scenario))
    logs = {}
    objectives = {}
    for name, limit in (("cny", math.inf), ("scaled", MAX_SCALED_COST)):
        logs[name] = tmp_path / f"{name}.log"
        options = chargeplan.SolverOptions(mip_rel_gap=0.0, log_file=str(logs[name]))
        saved = scaling.MAX_SCALED_COST
        scaling.MAX_SCALED_COST = limit
        try:
            objectives[name] = chargeplan.solve(problem, options).objective
        finally:
            scaling.MAX_SCALED_COST = saved
    assert objectives["scaled"] == pytest.approx(objectives["cny"], rel=1e-9)
    assert "user_objective_scale option value of -8" in logs["scaled"].read_text()
    assert "WARNING" not in logs["scaled"].read_text()
    assert "WARNING" in logs["cny"].read_text()  # what the scaling removes


# ---------------------------------------------------------------------------------------------
# the progress display
# ---------------------------------------------------------------------------------------------


def test_plain_progress_prints_each_stage_once_with_its_time() -> None:
    """A solve shorter than :data:`PLAIN_SOLVER_EVERY_S` (10 s) prints no solver line of its
    own: its figures come with the stage's end, the latest ones."""
    with progress.show("plain", stream=_Sink()) as display:
        progress.step("read inputs")
        progress.step("solve")
        progress.solver_update(16_112_475_578.0, 16_085_470_635.8, 0.001676)
        progress.solver_update(16_100_000_000.0, 16_085_470_635.8, 0.0009)
    lines = display.lines
    assert len(lines) == 2 and re.fullmatch(r"read inputs: \d+\.\d s", lines[0])
    assert re.fullmatch(
        r"solve: \d+\.\d s; incumbent 16\.10 bn, bound 16\.09 bn, gap 0\.09 %", lines[1]
    )
    assert display.stream.text == "".join(line + "\n" for line in lines)


def test_plain_progress_prints_the_solver_figures_every_so_often(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(progress, "PLAIN_SOLVER_EVERY_S", 0.0)  # every update
    with progress.show("plain", stream=_Sink()) as display:
        progress.step("solve")
        progress.solver_update(16_112_475_578.0, 16_085_470_635.8, 0.001676)
        progress.solver_update(16_100_000_000.0, 16_085_470_635.8, 0.0009)
    assert [line.split(";")[1:] for line in display.lines] == [
        [" incumbent 16.11 bn, bound 16.09 bn, gap 0.17 %"],
        [" incumbent 16.10 bn, bound 16.09 bn, gap 0.09 %"],
        [" incumbent 16.10 bn, bound 16.09 bn, gap 0.09 %"],
    ]
    assert display.lines[0].startswith("  solve ") and display.lines[2].startswith("solve: ")


def test_plain_progress_counts_the_parts_of_a_stage() -> None:
    """A decomposed solve counts its regions on the stage's line: printed at the last part
    (and every :data:`PLAIN_SOLVER_EVERY_S` seconds before), the stage ends with the count."""
    with progress.show("plain", stream=_Sink()) as display:
        progress.step("solve regions")
        progress.count(1, 3)  # within 10 s of the stage's start: not printed
        progress.count(2, 3)
        progress.count(3, 3)  # the last part: always printed
        progress.step("results")
    assert [re.sub(r"\d+\.\d s", "T", line) for line in display.lines] == [
        "  solve regions (3 of 3) T",
        "solve regions (3 of 3): T",
        "results: T",
    ]


def test_progress_without_a_display_does_nothing() -> None:
    assert progress.active() is None
    progress.step("solve")  # no display: nothing to do, no error
    progress.solver_update(1.0, 1.0, 0.0)
    progress.count(1, 2)
    with progress.show("off", stream=_Sink()) as display:
        progress.step("solve")
    assert display.stream.text == "" and display.lines == ["solve: " + display.lines[0][7:]]


def test_solver_text_leaves_out_what_highs_does_not_know_yet() -> None:
    assert progress.solver_text({}) == ""
    assert progress.solver_text({"incumbent": math.inf, "bound": 1.0, "gap": 1.0}) == ""
    assert progress.solver_text({"incumbent": 2.5e8, "bound": -math.inf, "gap": math.inf}) == (
        "; incumbent 250.0 M"
    )
    assert progress.solver_text({"incumbent": 1200.0, "bound": 1000.0, "gap": 1 / 6}) == (
        "; incumbent 1,200, bound 1,000, gap 16.67 %"
    )


class _Sink:
    """A text stream that is not a terminal and keeps what was written."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def test_run_shows_stages_not_the_solver_log_and_ends_with_the_report(
    tiny_scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["run", str(tiny_scenario), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    shown = [line.split(":")[0] for line in captured.err.splitlines()]
    assert shown == list(STAGES)  # stderr is not a terminal: plain lines, one per stage
    assert "HiGHS" not in captured.err
    assert captured.out.splitlines()[-1] == f"Report: {out / 'report.html'}"
    log = (out / "solver.log").read_text()
    assert "MIP has" in log and "Solving report" in log  # (HiGHS's banner: once a process)
    manifest = read_manifest(out)
    assert manifest is not None and "solver.log" in manifest["outputs"] and verify(out) == []
    assert "log_file" not in manifest["solver"]  # where the log went changes no plan


def test_verbose_shows_the_solver_log_and_quiet_shows_nothing(
    tiny_scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(tiny_scenario), "--out", str(tmp_path / "v"), "-v"]) == 0
    err = capsys.readouterr().err
    assert "Coefficient ranges" in err and "solve: " in err
    assert main(["run", str(tiny_scenario), "--out", str(tmp_path / "q"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert "Solving report" in (tmp_path / "q" / "solver.log").read_text()


def test_python_dash_m_chargeplan_is_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "chargeplan", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    for command in ("run", "compare", "report", "batch", "curve", "validate"):
        assert command in done.stdout


# ---------------------------------------------------------------------------------------------
# data warnings: named, acknowledgeable
# ---------------------------------------------------------------------------------------------


def test_warnings_name_zones_by_name_and_id() -> None:
    zones = pd.DataFrame({"name": list("abcdefg")}, index=[f"z{i}" for i in range(7)])
    labels = zone_labels(zones, "name")
    assert list(labels[:2]) == ["a (z0)", "b (z1)"]
    assert named_zones(labels, np.array([1, 0, 1, 0, 0, 0, 0], bool)) == "a (z0), c (z2)"
    assert named_zones(labels, np.ones(7, bool)) == (
        "a (z0), b (z1), c (z2), d (z3), e (z4) and 2 more"
    )
    assert list(zone_labels(zones, None)[:2]) == ["z0", "z1"]  # no name column: ids
    assert list(zone_labels(zones, "missing")[:1]) == ["z0"]


def test_acknowledged_warnings_are_hidden_and_others_shown() -> None:
    config = WarningsConfig(acknowledge=["as users.proxies says", "(三沙市 (460300))"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with config.hidden():
            warnings.warn(
                "zones: 'HK' takes Shenzhen's, as users.proxies says", DemandWarning, stacklevel=1
            )
            warnings.warn(
                "'car' missing for 1 zone(s) (三沙市 (460300)); median", DemandWarning, stacklevel=1
            )
            warnings.warn(
                "'car' missing for 1 zone(s) (other (1)); median", DemandWarning, stacklevel=1
            )
    assert [str(w.message) for w in caught] == ["'car' missing for 1 zone(s) (other (1)); median"]


def test_the_warnings_section_is_checked_like_every_other(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    path = write_tiny_scenario(folder)
    text = path.read_text()
    path.write_text(text + '\n[warnings]\nacknowledge = ["median"]\n')
    assert chargeplan.load_scenario(path).warnings.acknowledge == ["median"]
    path.write_text(text + '\n[warnings]\nacknowlege = ["median"]\n')
    with pytest.raises(ScenarioError, match="acknowlege"):
        chargeplan.load_scenario(path)


def test_the_default_scenario_prepares_without_warnings() -> None:
    """Its four known data gaps (Hong Kong, Macao and Sansha) are acknowledged in
    models/china-2030.toml; with the section removed, each shows, with zone names."""
    scenario = chargeplan.load_scenario(REPO / "models" / "china-2030.toml")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chargeplan.prepare(scenario)
    assert [str(w.message) for w in caught] == []
    bare = scenario.with_values({"warnings.acknowledge": []})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chargeplan.prepare(bare)
    said = [str(w.message) for w in caught]
    assert len(said) == 4
    assert any("'car_hh_share' missing for 1 zone(s) (三沙市 (460300))" in m for m in said)


# ---------------------------------------------------------------------------------------------
# amounts and names on the command line
# ---------------------------------------------------------------------------------------------


def test_amounts_are_read_as_curve_reads_them() -> None:
    assert amount("20M") == 20_000_000 and isinstance(amount("20M"), int)
    assert amount("4bn") == 4_000_000_000 and amount("4B") == 4_000_000_000
    assert amount("2.5k") == 2500 and amount("1.5") == 1.5 and amount("2e7") == 20_000_000
    assert amount("20 M") == 20_000_000
    assert amount("twenty") is None and amount("20X") is None
    assert set_values("20M,4bn,1e7,abc") == [20_000_000, 4_000_000_000, 1e7, "abc"]


def test_run_takes_set_and_amounts(tiny_scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = ["run", str(tiny_scenario), "--out", str(out), "--quiet"]
    assert main([*argv, "--set", "users.target_premium_users=2k", "--budget", "1M"]) == 0
    manifest = read_manifest(out)
    assert manifest is not None
    assert manifest["scenario"]["users"]["target_premium_users"] == 2000
    assert manifest["scenario"]["model"]["budget_cny"] == 1_000_000
    assert manifest["scenario"]["name"] == "tiny budget=1M target=2k"  # flags, then --set
    assert main([*argv, "--set", "users.target_premium_users=1k,2k"]) == 2  # batch's job
    with pytest.raises(SystemExit):
        main([*argv, "--target", "lots"])


def test_with_values_names_the_variant_by_what_it_asks(tiny_scenario: Path) -> None:
    scenario = chargeplan.load_scenario(tiny_scenario)
    assert scenario.with_values({"users.target_premium_users": 10_000_000}).name == (
        "tiny target=10M"
    )
    assert scenario.with_values({"model.budget_cny": 4e9, "sizing.rule": "queue"}).name == (
        "tiny budget=4bn rule=queue"
    )
    assert scenario.with_values({"solver.threads": 1}).name == "tiny"  # how, not what
    assert scenario.with_values({"users.target_premium_users": 1000}).name == "tiny"  # unchanged
    named = scenario.with_values({"users.target_premium_users": 5, "name": "mine"})
    assert named.name == "mine"
    twice = scenario.with_values({"users.target_premium_users": 2000})
    assert twice.with_values({"model.budget_cny": 5e5}).name == "tiny target=2k budget=500k"
    assert scenario.with_values({"users.target_premium_users": 10**15}).name == "tiny target=1e+15"
    assert json.dumps(twice.name)  # plain text


def test_run_does_not_replace_another_scenarios_run_without_force(
    tiny_scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tiny_scenario.with_name("other.toml")
    other.write_text(tiny_scenario.read_text())
    out = tmp_path / "run"
    argv = ["--out", str(out), "--quiet", "--no-report", "--no-map"]
    assert main(["run", str(tiny_scenario), *argv]) == 0
    assert main(["run", str(tiny_scenario), *argv, "--target", "2k"]) == 0  # same file: rerun
    assert main(["run", str(other), *argv]) == 6  # another file: refused before solving
    assert f"holds the run of {tiny_scenario}" in capsys.readouterr().err
    assert read_manifest(out)["scenario_name"] == "tiny target=2k"  # type: ignore[index]
    assert main(["run", str(other), *argv, "--force"]) == 0
    assert read_manifest(out)["inputs"]["scenario"]["path"] == str(other)  # type: ignore[index]
