"""``chargeplan batch`` shows each job's stage lines as they come, prefixed with its name
(``chargeplan.workflows.batch_progress``); ``--quiet`` shows nothing."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from chargeplan.workflows.batch_progress import PrefixedLines, stage_lines

from .conftest import REPO

STAGES = ("read inputs", "demand", "reach", "build model", "solve", "results", "write outputs")


def test_every_line_gets_the_prefix_once() -> None:
    out = io.StringIO()
    lines = PrefixedLines(out, "[a] ")
    lines.write("read inputs: 0.5 s\nde")
    lines.write("mand: 1.0 s")
    lines.write("\n")
    lines.write("\n")
    assert out.getvalue() == "[a] read inputs: 0.5 s\n[a] demand: 1.0 s\n\n"


def test_stage_lines_shows_steps_prefixed_or_nothing() -> None:
    from chargeplan import progress

    out = io.StringIO()
    with stage_lines("job-1", True, out):
        progress.step("solve")
    assert out.getvalue().startswith("[job-1] solve: ")
    quiet = io.StringIO()
    with stage_lines("job-1", False, quiet):
        progress.step("solve")
    assert quiet.getvalue() == ""


def batch(scenario: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "chargeplan", "batch", str(scenario), "--out", str(out)]
    command += ["--set", "users.target_premium_users=1k,2k", "--no-map", "--no-report", *extra]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)


def test_batch_of_two_jobs_prints_both_jobs_stages_prefixed(
    tiny_scenario: Path, tmp_path: Path
) -> None:
    """Two tiny jobs (targets 1k and 2k) in child processes: each job's seven stages appear on
    the parent's standard error, in order, each line prefixed ``[<job name>] ``."""
    done = batch(tiny_scenario, tmp_path / "b")
    assert done.returncode == 0, done.stderr
    names = pd.read_csv(tmp_path / "b" / "batch.csv")["name"].tolist()
    assert len(names) == 2
    for name in names:
        prefix = f"[{name}] "
        mine = [line[len(prefix) :] for line in done.stderr.splitlines() if line.startswith(prefix)]
        assert [line.split(":")[0] for line in mine] == list(STAGES), done.stderr


def test_quiet_batch_prints_nothing(tiny_scenario: Path, tmp_path: Path) -> None:
    done = batch(tiny_scenario, tmp_path / "q", "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
