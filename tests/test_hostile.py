"""Hostile output folders and names (issue 14): nothing a planner owns is lost, nothing a file
contains runs, nothing is half-written.

Each test names the break of issue 14 it keeps fixed; each failed before the fix. The tiny
scenario (conftest) keeps every run to a second or two.
"""

from __future__ import annotations

import csv
import fcntl
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chargeplan.outputs.files as files
import chargeplan.workflows.curve as curve_workflow
from chargeplan.cli import main
from chargeplan.outputs.files import MANIFEST_NAME, atomic_dir
from chargeplan.outputs.manifest import read_manifest, sha256_file

from .conftest import SCENARIO, write_tiny_scenario
from .folders import folder_state

RUN = ["--quiet", "--no-map", "--no-report"]
OUTPUT_ERROR = 6
CLI = [sys.executable, "-m", "chargeplan.cli"]
TARGET = "users.target_premium_users"


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chargeplan: error: "), err
    assert len(lines[0]) < 400, lines[0]
    return lines[0]


def _parquet_scenario(folder: Path) -> Path:
    """The tiny scenario with its zones and sites as ``zones.parquet`` and ``sites.parquet``:
    input files named like the plan's outputs."""
    scenario = write_tiny_scenario(folder)
    for name in ("zones", "sites"):
        gpd.read_file(folder / f"{name}.geojson").to_parquet(folder / f"{name}.parquet")
        (folder / f"{name}.geojson").unlink()
    text = scenario.read_text().replace(".geojson", ".parquet")
    scenario.write_text(text)
    return scenario


# ---------------------------------------------------------------------------------------------
# break 1: an output folder that holds the run's inputs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["scenario folder", "its parent"])
def test_out_holding_the_inputs_is_refused_and_they_stay(
    tmp_path: Path, capsys, where: str
) -> None:
    """Reproduced by ``chargeplan run tiny/tiny.toml --out tiny`` (zones and sites as
    ``zones.parquet``, ``sites.parquet``): exit 0 and both inputs replaced by the plan's."""
    scenario = _parquet_scenario(tmp_path / "tiny")
    out = scenario.parent if where == "scenario folder" else tmp_path
    before = _hashes(scenario.parent)
    assert main(["run", str(scenario), "--out", str(out), *RUN]) == OUTPUT_ERROR
    line = _one_error_line(capsys.readouterr().err)
    assert "holds the run's input" in line and str(out) in line
    assert _hashes(scenario.parent) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny"]


def test_out_inside_the_input_folder_is_a_new_folder_and_fine(tmp_path: Path) -> None:
    scenario = _parquet_scenario(tmp_path / "tiny")
    before = _hashes(scenario.parent)
    out = scenario.parent / "run1"
    assert main(["run", str(scenario), "--out", str(out), *RUN]) == 0
    assert folder_state(out) == "complete"
    after = {k: v for k, v in _hashes(scenario.parent).items() if not k.startswith("run1/")}
    assert after == before


# ---------------------------------------------------------------------------------------------
# break 4: formula injection into CSV files
# ---------------------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def _formula_scenario(folder: Path) -> Path:
    scenario = write_tiny_scenario(folder, SCENARIO.replace('name = "tiny"', 'name = "=tiny"'))
    sites = gpd.read_file(folder / "sites.geojson")
    sites["name"] = FORMULAS[:3]
    sites.to_file(folder / "sites.geojson", driver="GeoJSON")
    zones = gpd.read_file(folder / "zones.geojson")
    zones["region"] = [FORMULAS[3], FORMULAS[3], FORMULAS[4], FORMULAS[5]]
    zones.to_file(folder / "zones.geojson", driver="GeoJSON")
    return scenario


def _formula_cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    number = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
    return [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not number.match(c)]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path: Path) -> None:
    """Reproduced by ``chargeplan run`` on sites named ``=HYPERLINK(...)``, regions ``@SUM(A1)``
    and a scenario ``=tiny``: the names were written raw into every CSV."""
    scenario = _formula_scenario(tmp_path / "tiny")
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    written = sorted(out.glob("*.csv"))
    assert len(written) >= 7
    for path in written:
        assert _formula_cells(path) == [], path.name
    sites = pd.read_csv(out / "sites.csv")
    assert sites["name"].tolist() == ["'" + f for f in FORMULAS[:3]]
    summary = pd.read_csv(out / "summary.csv").set_index("key")["value"]
    assert summary["scenario"] == "'=tiny"
    assert float(summary["capex_cny"]) == 24_700  # numbers stay numbers
    # parquet and GeoPackage keep the raw names
    assert gpd.read_parquet(out / "sites.parquet")["name"].tolist() == FORMULAS[:3]
    assert set(gpd.read_file(out / "plan.gpkg", layer="zones")["region"]) == set(FORMULAS[3:])


def test_curve_and_batch_tables_are_neutralised(tmp_path: Path) -> None:
    scenario = _formula_scenario(tmp_path / "tiny")
    assert (
        main(["curve", str(scenario), "--targets", "1k", "--out", str(tmp_path / "c"), "-q"]) == 0
    )
    assert _formula_cells(tmp_path / "c" / "curve.csv") == []
    assert main(["batch", str(scenario), "--out", str(tmp_path / "b"), *RUN]) == 0
    assert _formula_cells(tmp_path / "b" / "batch.csv") == []
    assert pd.read_csv(tmp_path / "b" / "batch.csv")["name"].tolist() == ["'=tiny"]


@given(st.text(max_size=30))
def test_neutralised_cells_never_start_a_formula(text: str) -> None:
    cell = files.neutralise_cell(text)
    assert cell == text or cell == "'" + text
    if cell != text:
        assert text[:1] in files.FORMULA_STARTS
    elif text[:1] in files.FORMULA_STARTS:
        float(text)  # only a plain number such as -3.5 is kept as it is


# ---------------------------------------------------------------------------------------------
# break 5: folders that cannot take the outputs fail before the solve, in one line
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("out", [".", "", "./", "notes.txt/plan"])
def test_unusable_out_is_one_line_before_solving(
    tiny_scenario: Path, tmp_path: Path, monkeypatch, capsys, out: str
) -> None:
    """Reproduced by ``chargeplan run tiny.toml --out .`` (also ``''``, ``./``, a path below a
    file): a traceback and exit 1 after the whole solve."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine\n")
    monkeypatch.chdir(work)
    monkeypatch.setattr("chargeplan.workflows.batch.prepare", _must_not_run)
    assert main(["run", str(tiny_scenario), "--out", out, *RUN]) == OUTPUT_ERROR
    line = _one_error_line(capsys.readouterr().err)
    assert "output folder" in line and "--out" in line
    assert sorted(p.name for p in work.iterdir()) == ["notes.txt"]


def _must_not_run(*args, **kwargs):
    raise AssertionError("the run prepared its inputs before checking its output folder")


@pytest.mark.skipif(
    os.access("/sys", os.W_OK) and os.getuid() != 0,
    reason="this test needs a folder no one may write to, and uses /sys (read-only sysfs, even "
    "for root); here /sys accepts writes from this user, so it cannot stand in for one",
)
def test_read_only_out_is_one_line_before_solving(tiny_scenario: Path, capsys) -> None:
    """Reproduced by ``chargeplan run tiny.toml --out /sys/plan`` (a read-only folder, even for
    root): a traceback after the solve; ``batch`` printed a 5,735-character "line"."""
    for command in ("run", "batch"):
        assert main([command, str(tiny_scenario), "--out", "/sys/plan", *RUN]) == OUTPUT_ERROR
        line = _one_error_line(capsys.readouterr().err)
        assert "/sys" in line and "--out" in line


def _no_file_bytes() -> None:  # in the child: every byte written to a file fails (EFBIG)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def test_full_disk_is_one_line_before_solving(tiny_scenario: Path, tmp_path: Path) -> None:
    """A disk that takes no more bytes (simulated with a file-size limit of 0): one line, the
    output-error code, and nothing left behind."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "chargeplan.cli", "run", str(tiny_scenario), "--out", str(out)]
    done = subprocess.run(
        command, capture_output=True, text=True, preexec_fn=_no_file_bytes, timeout=120
    )
    assert done.returncode == OUTPUT_ERROR, done.stderr
    assert "Traceback" not in done.stderr and " plan: " not in done.stderr  # before solving
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(f"chargeplan: error: cannot write output folder {out}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny"]


def test_os_errors_while_writing_become_one_line(
    tiny_scenario: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "out" / "sites.csv"))

    monkeypatch.setattr("chargeplan.workflows.batch.write_plan", full)
    assert main(["run", str(tiny_scenario), "--out", str(tmp_path / "out"), *RUN]) == OUTPUT_ERROR
    line = _one_error_line(capsys.readouterr().err)
    assert "no space left on device" in line and "free some space" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny"]


# ---------------------------------------------------------------------------------------------
# break 6: scenario names decide where outputs go
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("../../escape", "_._escape"),
        ("{tmp}/abs", "{slug}_abs"),  # an absolute path (inside the test's folder)
        ("上海 2030", "上海_2030"),
        ("..", "run"),
    ],
)
def test_scenario_name_becomes_a_safe_folder_name(
    tmp_path: Path, monkeypatch, name: str, folder: str
) -> None:
    """Reproduced by ``chargeplan run`` (no ``--out``) on a scenario named ``../../escape``:
    its outputs went two folders above ``runs/``."""
    name = name.format(tmp=tmp_path)
    folder = folder.format(slug=str(tmp_path).replace("/", "_"))
    scenario = write_tiny_scenario(
        tmp_path / "a" / "b" / "tiny", SCENARIO.replace('name = "tiny"', f'name = "{name}"')
    )
    work = tmp_path / "a" / "b"
    monkeypatch.chdir(work)
    assert main(["run", str(scenario), *RUN]) == 0
    assert [p.name for p in (work / "runs").iterdir()] == [folder]
    assert folder_state(work / "runs" / folder) == "complete"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_dir() and p.name != "tiny") == sorted(
        ["a", "b", "runs", folder]
    )


@given(st.text(max_size=40))
def test_safe_folder_names_stay_one_folder_below(text: str) -> None:
    from chargeplan.outputs.folder import safe_folder_name

    name = safe_folder_name(text)
    assert name and not name.startswith(".") and "/" not in name and "\\" not in name
    assert ".." not in name and "\0" not in name and len(name.encode()) <= 200
    base = Path("/runs")
    assert (base / name).parent == base


# ---------------------------------------------------------------------------------------------
# break 9: curve publishes one folder, resumes, leaves no temporary files
# ---------------------------------------------------------------------------------------------


def test_interrupted_curve_leaves_nothing_half_and_resumes(
    tiny_scenario: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """Reproduced by ``chargeplan curve tiny.toml --targets 500,800,1k`` interrupted at the
    second point: a rerun solved every point again."""
    real = curve_workflow.plan_network
    solved: list[int] = []

    def counting(scenario, **kwargs):
        solved.append(scenario.users.target_premium_users)
        if len(solved) == 2 and interrupt:
            raise KeyboardInterrupt
        return real(scenario, **kwargs)

    monkeypatch.setattr(curve_workflow, "plan_network", counting)
    out = tmp_path / "curve"
    argv = ["curve", str(tiny_scenario), "--targets", "500,800,1k", "--out", str(out), "-q"]
    interrupt = True
    assert main(argv) == 130
    assert not out.exists()
    interrupt, solved[:] = False, []
    assert main(argv) == 0
    assert solved == [800, 1000]  # 500 was done before the interrupt
    assert folder_state(out) == "complete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve", "tiny"]  # nothing hidden
    solved[:] = []
    assert main(argv) == 0 and solved == []
    assert "complete from an earlier run" in capsys.readouterr().out
    # a resumed curve is the curve a single run makes, byte for byte
    fresh = tmp_path / "fresh"
    assert main([*argv[:-3], "--out", str(fresh), "-q"]) == 0
    for name in ("curve.csv", "curve.png"):
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name


def test_curve_chart_failure_leaves_no_csv_alone(
    tiny_scenario: Path, tmp_path: Path, monkeypatch
) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("chart failed")

    monkeypatch.setattr("chargeplan.outputs.curve_chart.plot_curve", broken)
    out = tmp_path / "curve"
    with pytest.raises(RuntimeError):
        main(["curve", str(tiny_scenario), "--targets", "1k", "--out", str(out), "-q"])
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [".curve.points"]


def test_killed_curve_resumes_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    scenario = write_tiny_scenario(tmp_path / "tiny")
    out = tmp_path / "curve"
    command = [sys.executable, "-m", "chargeplan.cli", "curve", str(scenario), "--out", str(out)]
    command += ["--targets", "400,500,600,700,800,900,1k"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    points = tmp_path / ".curve.points"
    deadline = time.monotonic() + 120
    try:
        while not list(points.glob("*.json")):
            assert process.poll() is None and time.monotonic() < deadline, "no point kept"
            time.sleep(0.01)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "done in an earlier run" in done.stderr
    assert folder_state(out) == "complete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve", "tiny"]


# ---------------------------------------------------------------------------------------------
# break 10: a symlinked output folder
# ---------------------------------------------------------------------------------------------


def test_symlinked_out_is_published_through_the_link(tiny_scenario: Path, tmp_path: Path) -> None:
    """Reproduced by ``ln -s /data/plans runs/plan; chargeplan run tiny.toml --out runs/plan``
    (twice): the link was replaced by a real folder."""
    target = tmp_path / "data" / "plan"
    assert main(["run", str(tiny_scenario), "--out", str(target), *RUN]) == 0
    link = tmp_path / "plan"
    link.symlink_to(target, target_is_directory=True)
    first = read_manifest(target)["created_utc"]
    assert main(["run", str(tiny_scenario), "--out", str(link), *RUN, "--target", "900"]) == 0
    assert link.is_symlink() and link.resolve() == target
    assert folder_state(target) == "complete"
    assert read_manifest(target)["scenario"]["users"]["target_premium_users"] == 900
    assert first  # the first run was there, and is replaced through the link
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "plan", "tiny"]


# ---------------------------------------------------------------------------------------------
# break 11: a kill between the two renames of publishing
# ---------------------------------------------------------------------------------------------


def _previous_run(out: Path) -> dict[str, str]:
    with atomic_dir(out) as stage:
        (stage / "sites.csv").write_text("previous\n")
        (stage / MANIFEST_NAME).write_text('{"outputs": {"sites.csv": {}}}\n')
    return _hashes(out)


def test_failure_between_the_renames_puts_the_previous_plan_back(
    tmp_path: Path, monkeypatch
) -> None:
    out = tmp_path / "out"
    previous = _previous_run(out)
    real = os.rename
    calls: list[str] = []

    def second_rename_interrupted(src, dst):
        calls.append(str(src))
        if len(calls) == 2 and Path(dst) == out:
            raise KeyboardInterrupt  # a signal between the two renames
        return real(src, dst)

    monkeypatch.setattr(files.os, "rename", second_rename_interrupted)
    with pytest.raises(KeyboardInterrupt), atomic_dir(out) as stage:
        (stage / "sites.csv").write_text("new\n")
        (stage / MANIFEST_NAME).write_text('{"outputs": {"sites.csv": {}}}\n')
    assert _hashes(out) == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_killed_between_the_renames_the_next_run_restores_the_plan(tmp_path: Path) -> None:
    """Reproduced by SIGKILL between ``rename(out, .out.old-*)`` and ``rename(staging, out)``:
    only ``.out.old-*`` was left, and the next run deleted it, even when that run failed."""
    out = tmp_path / "out"
    previous = _previous_run(out)
    pid = _dead_pid()
    out.rename(tmp_path / f".out.old-{pid}-abcd1234")  # the state a SIGKILL leaves
    (tmp_path / f".out.partial-{pid}-0123abcd").mkdir()
    with pytest.raises(RuntimeError), atomic_dir(out):
        assert _hashes(out) == previous  # restored before the new run does anything
        raise RuntimeError("the next run fails too")
    assert _hashes(out) == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# ---------------------------------------------------------------------------------------------
# break 13: two runs into one folder
# ---------------------------------------------------------------------------------------------

HOLD = """
import fcntl, os, sys, time
handle = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(handle, fcntl.LOCK_EX)
os.write(handle, str(os.getpid()).encode())
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_run_into_a_locked_folder_stops_at_once(
    tiny_scenario: Path, tmp_path: Path, capsys
) -> None:
    """Reproduced by two ``chargeplan run tiny.toml --out out`` at once: both exit 0."""
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path / ".out.lock")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["run", str(tiny_scenario), "--out", str(out), *RUN]) == OUTPUT_ERROR
        line = _one_error_line(capsys.readouterr().err)
        assert f"in use by another chargeplan run (process {holder.pid}" in line
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    # the lock died with its process: the file is stale and taken over, then removed
    assert main(["run", str(tiny_scenario), "--out", str(out), *RUN]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tiny"]


def test_a_second_batch_into_a_running_batch_folder_stops(tmp_path: Path, capsys) -> None:
    """Reproduced by two ``chargeplan batch`` into one folder at once: both exit 0 and
    ``batch.csv`` lists only the last batch's jobs."""
    scenario = write_tiny_scenario(tmp_path / "tiny")
    out = tmp_path / "batch"
    values = ",".join(str(t) for t in range(1000, 1600, 100))
    first = subprocess.Popen(
        [*CLI, "batch", str(scenario), "--out", str(out), "--set", f"{TARGET}={values}", *RUN],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (out / "batch.csv").exists():
        assert first.poll() is None and time.monotonic() < deadline, first.stderr.read()
        time.sleep(0.01)
    code = main(["batch", str(scenario), "--out", str(out), *RUN])
    stderr = first.communicate(timeout=300)[1]
    assert first.returncode == 0, stderr
    assert code == OUTPUT_ERROR
    assert "in use by another chargeplan run" in _one_error_line(capsys.readouterr().err)
    assert len(pd.read_csv(out / "batch.csv")) == 6


def test_batch_csv_lists_the_runs_of_earlier_batches_still_there(
    tiny_scenario: Path, tmp_path: Path
) -> None:
    """Reproduced by ``chargeplan batch tiny.toml --out b`` then ``chargeplan batch tiny.toml
    --set users.target_premium_users=900 --out b``: ``batch.csv`` listed only the second."""
    out = tmp_path / "b"
    assert main(["batch", str(tiny_scenario), "--out", str(out), *RUN]) == 0
    assert (
        main(["batch", str(tiny_scenario), "--out", str(out), "--set", f"{TARGET}=900", *RUN]) == 0
    )
    table = pd.read_csv(out / "batch.csv")
    assert table["name"].tolist() == ["tiny--target_premium_users=900", "tiny"]
    assert table["status"].tolist() == ["done", "done"]


# ---------------------------------------------------------------------------------------------
# break 14: a user's own files in the output folder
# ---------------------------------------------------------------------------------------------


def test_a_folder_of_someone_elses_files_is_refused_unless_forced(
    tiny_scenario: Path, tmp_path: Path, capsys
) -> None:
    """Reproduced by ``chargeplan run tiny.toml --out mine`` with the user's own
    ``summary.csv`` and ``map.png`` in ``mine``: replaced without notice."""
    mine = tmp_path / "mine"
    mine.mkdir()
    for name in ("summary.csv", "map.png"):
        (mine / name).write_text(f"the user's {name}\n")
    before = _hashes(mine)
    assert main(["run", str(tiny_scenario), "--out", str(mine), *RUN]) == OUTPUT_ERROR
    line = _one_error_line(capsys.readouterr().err)
    assert "not a chargeplan run" in line and "--force" in line
    assert _hashes(mine) == before
    # --force writes beside them: the outputs replace their namesakes, nothing else goes
    assert main(["run", str(tiny_scenario), "--out", str(mine), *RUN, "--force"]) == 0
    assert (mine / "map.png").read_text() == "the user's map.png\n"
    assert (mine / "summary.csv").read_text() != "the user's summary.csv\n"
    assert read_manifest(mine) is not None


def test_a_manifest_that_is_not_chargeplans_does_not_make_a_run_folder(
    tiny_scenario: Path, tmp_path: Path, capsys
) -> None:
    mine = tmp_path / "app"
    mine.mkdir()
    (mine / MANIFEST_NAME).write_text('{"name": "my web app", "icons": []}\n')
    (mine / "summary.csv").write_text("the user's summary\n")
    before = _hashes(mine)
    assert main(["run", str(tiny_scenario), "--out", str(mine), *RUN]) == OUTPUT_ERROR
    assert "not a chargeplan run" in _one_error_line(capsys.readouterr().err)
    assert _hashes(mine) == before


# ---------------------------------------------------------------------------------------------
# break 16: reruns of the same inputs give the same bytes, except the manifest
# ---------------------------------------------------------------------------------------------


def test_reruns_are_byte_identical_except_the_manifest(tiny_scenario: Path, tmp_path: Path) -> None:
    """Reproduced by two ``chargeplan run tiny.toml`` into two folders: ``summary.json`` and
    ``summary.csv`` differed (solve timings). ``solver.log`` is HiGHS's log, with its timings,
    as the manifest's ``timings`` are: both may differ."""
    for run in ("a", "b"):
        assert main(["run", str(tiny_scenario), "--out", str(tmp_path / run), "--quiet"]) == 0
    a, b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert set(a) == set(b) and {"map.png", "report.html", "summary.json", "solver.log"} <= set(a)
    differ = [name for name in a if a[name] != b[name]]
    assert differ in ([MANIFEST_NAME], [MANIFEST_NAME, "solver.log"])
    assert "solve_s" in read_manifest(tmp_path / "a")["timings"]


def test_fcntl_is_what_locks(tmp_path: Path) -> None:
    """The lock is an advisory ``flock`` that other tools can see (documented behaviour)."""
    from chargeplan.outputs.folder import lock_folder

    with lock_folder(tmp_path / "out") as path:
        assert path.read_text().strip() == str(os.getpid())
        handle = os.open(path, os.O_RDWR)
        with pytest.raises(BlockingIOError):
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(handle)
    assert not path.exists()
