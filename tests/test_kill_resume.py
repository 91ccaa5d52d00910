"""A real process, a real signal: killed runs leave complete folders or none, and resume.

``chargeplan batch`` runs six variants of the tiny scenario in a subprocess. It is killed with
SIGKILL (no cleanup possible) as soon as the first variant's manifest appears, restarted and
killed again at a random moment of a later variant, then restarted to the end. After every
kill, each variant's folder is either complete (manifest present, every listed file
hash-equal, nothing else) or absent; every restart skips exactly the complete ones. A
``chargeplan run`` sent SIGTERM while it writes exits 143 and leaves no output at all.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from .conftest import write_tiny_scenario
from .folders import folder_state

TARGETS = (1000, 1100, 1200, 1300, 1400, 1500)
NAMES = [f"tiny--target_premium_users={t}" for t in TARGETS]


def _batch_command(scenario: Path, out: Path) -> list[str]:
    values = ",".join(str(t) for t in TARGETS)
    return [
        sys.executable,
        "-m",
        "chargeplan.cli",
        "batch",
        str(scenario),
        "--out",
        str(out),
        "--set",
        f"users.target_premium_users={values}",
        "--no-map",
        "--no-report",
        "--quiet",
    ]


def _complete(out: Path) -> set[str]:
    return {name for name in NAMES if (out / name / "manifest.json").exists()}


def _kill_after(command: list[str], out: Path, *, new_than: set[str], delay_s: float) -> None:
    """Start ``command``, wait for a manifest not in ``new_than``, wait ``delay_s``, SIGKILL."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while not (_complete(out) - new_than):
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "no variant finished within 120 s"
            time.sleep(0.01)
        time.sleep(delay_s)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL, "the batch ended before it was killed"


def _states(out: Path) -> dict[str, str]:
    return {name: folder_state(out / name) for name in NAMES}


def _restart(command: list[str], out: Path, before: dict[str, str]) -> pd.DataFrame:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    table = pd.read_csv(out / "batch.csv").set_index("name")
    expected = {
        name: "skipped" if state == "complete" else "done" for name, state in before.items()
    }
    assert table["status"].to_dict() == expected
    return table


def test_killed_batch_leaves_whole_folders_and_resumes(tmp_path: Path) -> None:
    scenario = write_tiny_scenario(tmp_path / "tiny")
    out = tmp_path / "batch"
    command = _batch_command(scenario, out)

    _kill_after(command, out, new_than=set(), delay_s=0.0)
    first = _states(out)
    assert 1 <= list(first.values()).count("complete") < len(NAMES), first

    # restart, and kill again at a random moment (prepare, solve, write or publish) of a later
    # variant; print the moment so that a failure can be replayed
    delay = random.uniform(0.0, 0.6)  # a variant takes about 0.3-1 s: land inside the next ones
    print(f"second kill {delay:.3f} s after a new manifest")
    _kill_after(command, out, new_than=_complete(out), delay_s=delay)
    second = _states(out)
    assert {n for n, s in first.items() if s == "complete"} < {
        n for n, s in second.items() if s == "complete"
    }

    table = _restart(command, out, second)
    assert set(_states(out).values()) == {"complete"}
    assert (table["plan_status"] == "optimal").all()
    hidden = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert hidden == [], "staging folders of the killed runs were not cleaned up"


def test_sigterm_during_a_run_exits_143_and_leaves_nothing(tmp_path: Path) -> None:
    scenario = write_tiny_scenario(tmp_path / "tiny")
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "chargeplan.cli", "run", str(scenario), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    for line in process.stderr:  # the plan is made ("results" done): now it writes the files
        seen.append(line)
        if line.startswith("results: "):
            break
    process.send_signal(signal.SIGTERM)
    rest = process.stderr.read()
    process.wait(timeout=60)
    process.stderr.close()
    assert process.returncode == 143, "".join(seen) + rest
    assert rest.strip().splitlines()[-1] == "chargeplan: terminated"
    assert "Traceback" not in rest
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny"], "staging left behind"
