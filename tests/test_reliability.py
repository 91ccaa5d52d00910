"""Reliability: run manifest, all-or-nothing output folders, batch resume, determinism,
time limits, memory refusal, and validation of inputs handed to ``prepare`` directly."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import cKDTree

import chargeplan
from chargeplan.cli import main
from chargeplan.errors import ChargeplanError, InputError
from chargeplan.inputs.validate import InputWarning
from chargeplan.model.formulation import build_milp
from chargeplan.model.limits import (
    ModelTooLargeError,
    check_model_size,
    estimate_model_size,
)
from chargeplan.model.problem import FacilityProblem
from chargeplan.outputs.files import MANIFEST_NAME, atomic_dir, atomic_path, remove_stale_staging
from chargeplan.outputs.manifest import (
    inputs_digest,
    is_complete,
    read_manifest,
    sha256_file,
    verify,
)
from chargeplan.solver.highs import solve
from chargeplan.solver.options import SolverOptions
from chargeplan.workflows.batch import Job, run_batch

from .conftest import DEFAULT_SCENARIO, write_tiny_scenario
from .folders import folder_state

RUN = ["--quiet", "--no-map", "--no-report"]
PLAN_TABLES = (
    "sites.csv",
    "zones.csv",
    "gaps.csv",
    "assignments.csv",
    "sites.parquet",
    "zones.parquet",
    "gaps.parquet",
    "plan.gpkg",
)


def staging_left(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".") and p.is_dir()]


# ---------------------------------------------------------------------------------------------
# manifest
# ---------------------------------------------------------------------------------------------


def test_run_writes_a_manifest_that_hashes_inputs_and_outputs(
    tiny_scenario: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert main(["run", str(tiny_scenario), "--out", str(out), *RUN]) == 0
    manifest = read_manifest(out)
    folder = tiny_scenario.parent
    for role, name in (
        ("scenario", "tiny.toml"),
        ("charger_catalogue", "chargers.toml"),
        ("zones", "zones.geojson"),
        ("sites", "sites.geojson"),
    ):
        assert manifest["inputs"][role]["sha256"] == sha256_file(folder / name)
    assert manifest["scenario"]["users"]["target_premium_users"] == 1000
    assert manifest["solver"] == {
        "name": "highs",
        "time_limit_s": 60.0,
        "mip_rel_gap": 0.0,
        "threads": None,
        "reduce": True,
        "design_start": True,
        "design_max_nodes": 1000,
        "design_lagrange_steps": 300,
        "design_search_moves": 250,
        "design_lp_iterations": None,
        "design_lns_sites": 6,
        "design_lns_large_sites": 4,
        "design_lns_large_pairs": 10_000,
        "design_lns_nodes": 1,
        "design_lns_passes": 3,
        "design_lns_more_gap": 0.02,
        "design_lns_min_pairs": 1_500,
        "design_lns_replaces_search": True,
        "design_both_starts_max_pairs": 0,
        "mip_max_nodes": None,
        "design_cluster_sites": 0,
    }
    assert manifest["result"]["status"] == "optimal" and manifest["result"]["gap"] == 0
    assert {"prepare_s", "solve_s", "write_s", "total_s"} <= set(manifest["timings"])
    assert {"python", "chargeplan", "pyomo", "highspy", "geopandas", "shapely", "pandas"} <= set(
        manifest["versions"]
    )
    assert manifest["command"][:2] == ["chargeplan", "run"]
    assert set(PLAN_TABLES) <= set(manifest["outputs"])
    assert folder_state(out) == "complete"
    assert staging_left(tmp_path) == []

    (out / "sites.csv").write_text("tampered\n")
    assert verify(out) == [
        f"{out / 'sites.csv'}: changed since the run (sha256 differs from the manifest)"
    ]
    assert not is_complete(out)


def test_inputs_digest_follows_content_not_paths(tiny_scenario: Path, tmp_path: Path) -> None:
    scenario = chargeplan.load_scenario(tiny_scenario)
    solver = SolverOptions(time_limit_s=60, mip_rel_gap=0.0)
    digest = inputs_digest(scenario, solver=solver)
    moved = tmp_path / "moved"
    shutil.copytree(tiny_scenario.parent, moved)
    assert inputs_digest(chargeplan.load_scenario(moved / "tiny.toml"), solver=solver) == digest
    # where the solver log goes changes nothing; a solver option, an override or a file does
    logged = SolverOptions(time_limit_s=60, mip_rel_gap=0.0, log_to_stderr=True)
    assert inputs_digest(scenario, solver=logged) == digest
    assert inputs_digest(scenario, solver=SolverOptions(time_limit_s=61)) != digest
    changed = scenario.with_values({"users.target_premium_users": 999})
    assert inputs_digest(changed, solver=solver) != digest
    zones = gpd.read_file(moved / "zones.geojson")
    zones.loc[0, "pop"] = 1001.0
    zones.to_file(moved / "zones.geojson", driver="GeoJSON")
    assert inputs_digest(chargeplan.load_scenario(moved / "tiny.toml"), solver=solver) != digest


# ---------------------------------------------------------------------------------------------
# all-or-nothing output folders
# ---------------------------------------------------------------------------------------------


def test_failed_run_leaves_no_output_and_no_staging(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_dir(out) as stage:
        (stage / "sites.csv").write_text("a\n")
        raise RuntimeError("killed mid-way")
    assert not out.exists() and staging_left(tmp_path) == []


def test_rerun_replaces_previous_outputs_as_a_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with atomic_dir(out) as stage:
        (stage / "old.csv").write_text("old\n")
        (stage / MANIFEST_NAME).write_text(json.dumps({"outputs": {"old.csv": {}}}))
    with atomic_dir(out) as stage:
        (stage / "new.csv").write_text("new\n")
        assert (out / "old.csv").exists()  # the previous run stays until the new one is whole
    assert sorted(p.name for p in out.iterdir()) == ["new.csv"]
    assert staging_left(tmp_path) == []


def test_folder_with_other_files_keeps_them_and_gets_the_manifest_last(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    (out / MANIFEST_NAME).write_text('{"outputs": {}}')  # a stale manifest must not survive
    with atomic_dir(out) as stage:
        (stage / "sites.csv").write_text("a\n")
        (stage / MANIFEST_NAME).write_text("{}\n")
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "notes.txt", "sites.csv"]
    assert (out / MANIFEST_NAME).read_text() == "{}\n"


def test_stale_staging_of_a_dead_process_is_removed(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    pid = int(dead.stdout)
    stale = tmp_path / f".out.partial-{pid}-abcd1234"
    stale.mkdir()
    mine = tmp_path / f".out.partial-{os.getpid()}-abcd1234"
    mine.mkdir()
    assert remove_stale_staging(tmp_path) == [stale]
    assert mine.exists()
    # a temporary file of atomic_path (a batch table being written when the run was killed)
    with atomic_path(tmp_path / "batch.csv") as tmp:
        tmp.write_text("half")
        mine_file = tmp.with_name(tmp.name.replace(f"-{os.getpid()}-", f"-{pid}-"))
        tmp.rename(mine_file)
        tmp.write_text("whole")
    assert (tmp_path / "batch.csv").read_text() == "whole"
    keep = tmp_path / "batch.partial-1.csv"  # not ours: no process id after 'partial-'
    keep.write_text("user file")
    assert remove_stale_staging(tmp_path) == [mine_file]
    assert not mine_file.exists() and keep.exists() and mine.exists()


def test_output_folder_that_is_a_file_is_one_clear_error(
    tiny_scenario: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    out.write_text("not a folder")
    assert main(["run", str(tiny_scenario), "--out", str(out), *RUN]) == 6  # output error
    assert "is a file, not a folder" in capsys.readouterr().err
    assert staging_left(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# batch and resume (in process; the real kill is in test_kill_resume.py)
# ---------------------------------------------------------------------------------------------


def test_batch_resumes_reruns_changed_inputs_and_records_failures(
    tiny_scenario: Path, tmp_path: Path
) -> None:
    base = chargeplan.load_scenario(tiny_scenario)
    jobs = [
        Job("t1000", base),
        ("t2000", base.with_values({"users.target_premium_users": 2000})),
    ]
    calls: list[str] = []

    def recording_map(function, tasks):  # a stand-in for a parallel executor
        tasks = list(tasks)
        calls.extend(task.name for task in tasks)
        return map(function, tasks)

    out = tmp_path / "batch"
    first = run_batch(jobs, out, executor=recording_map, quiet=True, map_png=False, report=False)
    assert first["status"].tolist() == ["done", "done"] and calls == ["t1000", "t2000"]
    assert [folder_state(out / name) for name in ("t1000", "t2000")] == ["complete"] * 2

    # a rerun skips both; a changed file reruns only the job it feeds; a broken job fails alone
    calls.clear()
    again = run_batch(jobs, out, executor=recording_map, quiet=True, map_png=False, report=False)
    assert again["status"].tolist() == ["skipped", "skipped"] and calls == []
    assert again["plan_status"].tolist() == ["optimal", "optimal"]
    other = write_tiny_scenario(tmp_path / "other")
    broken = chargeplan.load_scenario(other)
    (other.parent / "sites.geojson").write_text("{ not json")
    jobs2 = [*jobs, Job("broken", broken)]
    result = run_batch(jobs2, out, executor=recording_map, quiet=True, map_png=False, report=False)
    assert result["status"].tolist() == ["skipped", "skipped", "failed"]
    assert result.loc[2, "exit_code"] == 4 and "sites.geojson" in result.loc[2, "error"]
    assert folder_state(out / "broken") == "absent"
    on_disk = pd.read_csv(out / "batch.csv")
    assert on_disk["status"].tolist() == ["skipped", "skipped", "failed"]
    assert run_batch(jobs, out, resume=False, quiet=True, map_png=False, report=False)[
        "status"
    ].tolist() == ["done", "done"]


def test_batch_rejects_clashing_or_unsafe_names(tiny_scenario: Path, tmp_path: Path) -> None:
    base = chargeplan.load_scenario(tiny_scenario)
    with pytest.raises(ChargeplanError, match="would write the same folder"):
        run_batch([Job("a", base), Job("a", base)], tmp_path / "b", quiet=True)
    with pytest.raises(ChargeplanError, match="cannot be a folder name"):
        run_batch([Job("../escape", base)], tmp_path / "b", quiet=True)


def test_batch_cli_grid_of_variants(tiny_scenario: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "batch"
    argv = ["batch", str(tiny_scenario), "--out", str(out), *RUN]
    argv += [
        "--set",
        "users.target_premium_users=1000,2000",
        "--set",
        "model.unmet_penalty_cny_per_kwh=4000",
    ]
    assert main(argv) == 0
    names = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert names == [
        "tiny--target_premium_users=1000--unmet_penalty_cny_per_kwh=4000",
        "tiny--target_premium_users=2000--unmet_penalty_cny_per_kwh=4000",
    ]
    manifest = read_manifest(out / names[1])
    assert manifest["scenario"]["users"]["target_premium_users"] == 2000
    assert "2 done, 0 skipped" in capsys.readouterr().out
    assert main([*argv[:-4], "--set", "users.nope=1"]) == 3
    assert main([*argv[:-4], "--set", "no-equals-sign"]) == 2


# ---------------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------------


def _assert_same_bytes(a: Path, b: Path, names: tuple[str, ...]) -> None:
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), f"{name} differs"


def test_same_inputs_give_byte_identical_plan_tables(tiny_scenario: Path, tmp_path: Path) -> None:
    """CSV, GeoParquet and GeoPackage bytes are equal (GeoPackage with a fixed timestamp,
    :data:`chargeplan.outputs.write.GPKG_TIMESTAMP`); every other file too, but the manifest
    (test_hostile.py)."""
    for run in ("a", "b"):
        assert main(["run", str(tiny_scenario), "--out", str(tmp_path / run), *RUN]) == 0
    _assert_same_bytes(tmp_path / "a", tmp_path / "b", PLAN_TABLES)
    a, b = read_manifest(tmp_path / "a"), read_manifest(tmp_path / "b")
    assert a["inputs_sha256"] == b["inputs_sha256"]


@pytest.mark.slow
def test_default_scenario_plan_tables_are_byte_identical(tmp_path: Path) -> None:
    for run in ("a", "b"):
        assert main(["run", str(DEFAULT_SCENARIO), "--out", str(tmp_path / run), *RUN]) == 0
    _assert_same_bytes(tmp_path / "a", tmp_path / "b", PLAN_TABLES)


# ---------------------------------------------------------------------------------------------
# solver trouble: time limit, memory
# ---------------------------------------------------------------------------------------------


def random_problem(zones: int, sites: int, radius: float, seed: int) -> FacilityProblem:
    """Random two-type charging instance on a 1000 x 1000 square, pairs within ``radius``."""
    rng = np.random.default_rng(seed)
    zxy, sxy = rng.uniform(0, 1000, (zones, 2)), rng.uniform(0, 1000, (sites, 2))
    near = cKDTree(sxy).query_ball_point(zxy, r=radius)
    pair_zone = np.repeat(np.arange(zones), [len(n) for n in near])
    pair_site = np.concatenate([np.asarray(n, dtype=np.int64) for n in near])
    dist = np.linalg.norm(zxy[pair_zone] - sxy[pair_site], axis=1)
    demand = rng.gamma(2.0, 25.0, (zones, 2))
    return FacilityProblem(
        zone_ids=np.array([f"z{i}" for i in range(zones)], dtype=object),
        site_ids=np.array([f"s{j}" for j in range(sites)], dtype=object),
        types=("dc", "ac"),
        demand=demand,
        pair_zone=pair_zone,
        pair_site=pair_site,
        pair_cost=0.5 * dist[:, None] * demand[pair_zone],
        distance_km=dist,
        fixed_cost=rng.uniform(5e4, 2e5, sites),
        site_capacity=np.full(sites, np.inf),
        charger_capacity=np.array([50.0, 10.0]),
        charger_cost=np.tile([1000.0, 100.0], (sites, 1)),
        max_chargers=np.tile([60.0, 300.0], (sites, 1)),
        unmet_penalty=np.array([5000.0, 5000.0]),
    )


def test_solves_with_other_thread_counts_in_one_process() -> None:
    """HiGHS keeps one thread scheduler per process: a solve with threads=1 after one with the
    default count stopped "without any plan" until chargeplan reset it. In a fresh process."""
    code = """
import pandas as pd
from chargeplan import FacilityProblem
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.highs import solve
zones = pd.DataFrame({"zone_id": ["z1", "z2", "z3"], "demand": 1.0})
sites = pd.DataFrame({"site_id": ["a", "b"], "fixed_cost": 5.0})
costs = pd.DataFrame({
    "zone_id": ["z1", "z1", "z2", "z2", "z3", "z3"],
    "site_id": ["a", "b"] * 3,
    "cost": [1.0, 4.0, 3.0, 1.0, 2.0, 2.0],
})
problem = FacilityProblem.from_cost_table(zones, sites, costs)
print(*(solve(problem, SolverOptions(threads=t)).objective for t in (None, 1, 2, None)))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    # one site serves all at 5 + (1 + 3 + 2) = 11 or 5 + (4 + 1 + 2) = 12; both: 10 + 4 = 14
    assert [float(v) for v in result.stdout.split()] == [11.0] * 4


def test_time_limit_returns_the_best_plan_with_its_gap() -> None:
    """200 zones, 50 sites: HiGHS needs about 27 s (one thread) to prove the optimum, so at
    0.5 s it stops with a plan and a gap of a few per cent (7.4 % on one thread).

    Threads are left at HiGHS's default: HiGHS fixes its thread pool at the first solve of a
    process, and a later solve asking for another count fails (reported to the lead)."""
    problem = random_problem(200, 50, 150, seed=1)
    solution = solve(problem, SolverOptions(time_limit_s=0.5, mip_rel_gap=0.0))
    assert solution.status == "time_limit"
    assert np.isfinite(solution.gap) and 0 < solution.gap < 1
    assert solution.bound <= solution.objective
    # the plan is whole: every zone's demand is served or unmet, chargers carry what is served
    served = np.zeros_like(problem.demand)
    np.add.at(served, problem.pair_zone, solution.served)
    np.testing.assert_allclose(served + solution.unmet, 1.0, atol=1e-6)
    load = np.zeros((len(problem.site_ids), 2))
    np.add.at(load, problem.pair_site, solution.served * problem.demand[problem.pair_zone])
    assert (load <= solution.chargers * problem.charger_capacity + 1e-6).all()


@pytest.mark.parametrize("links", ["auto", "never"])
def test_size_estimate_matches_the_built_model(links: str) -> None:
    problem = random_problem(300, 60, 120, seed=2)
    problem = FacilityProblem(**{**problem.__dict__, "pair_links": links})
    estimate = estimate_model_size(problem)
    lp, _ = build_milp(problem)
    matrix, _, _ = lp.matrix()
    nonzeros = matrix.nnz + int(np.count_nonzero(lp.objective))
    assert estimate.variables == lp.n_cols
    assert estimate.rows == matrix.shape[0]
    assert nonzeros <= estimate.nonzeros <= 1.05 * nonzeros


def test_size_estimate_matches_the_built_model_with_queue_sizing(tiny_scenario: Path) -> None:
    scenario = chargeplan.load_scenario(tiny_scenario).with_values({"sizing.rule": "queue"})
    problem = chargeplan.build_problem(scenario, chargeplan.prepare(scenario))
    estimate = estimate_model_size(problem)
    lp, _ = build_milp(problem)
    matrix, _, _ = lp.matrix()
    nonzeros = matrix.nnz + int(np.count_nonzero(lp.objective))
    assert (estimate.variables, estimate.rows) == (lp.n_cols, matrix.shape[0])
    assert nonzeros <= estimate.nonzeros <= 1.1 * nonzeros


def test_model_too_large_is_refused_before_building(monkeypatch) -> None:
    problem = random_problem(300, 60, 120, seed=2)
    with pytest.raises(ModelTooLargeError) as info:
        check_model_size(problem, max_bytes=1e6)
    message = str(info.value)
    for part in (
        "model too large for memory",
        "MB estimated",
        "nonzeros",
        "limit is 1.0 MB",
        "decompose",
        "service_radius_km",
    ):
        assert part in message
    assert check_model_size(problem).bytes < 1e9  # fits in the memory of the test machine

    def never(*_a, **_k):
        raise AssertionError("the model was built")

    # the package exports the function solve, which hides the module of that name
    monkeypatch.setattr(importlib.import_module("chargeplan.solver.highs"), "build_milp", never)
    monkeypatch.setattr("chargeplan.model.limits.available_memory", lambda: 10_000_000)
    with pytest.raises(ModelTooLargeError, match=r"60 % of the 10.0 MB available"):
        solve(problem)


def test_model_too_large_via_cli_is_exit_5_one_line(
    tiny_scenario: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("CHARGEPLAN_MAX_MODEL_BYTES", "1e6")
    out = tmp_path / "out"
    assert main(["run", str(tiny_scenario), "--out", str(out), *RUN]) == 5
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("chargeplan: error: model too large for memory")
    assert "CHARGEPLAN_MAX_MODEL_BYTES" in err[-1]
    assert not out.exists() and staging_left(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# prepare(): GeoDataFrames handed in directly, cost tables, sites and charger columns
# ---------------------------------------------------------------------------------------------


def _frames(tiny_scenario: Path) -> tuple[chargeplan.Scenario, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    folder = tiny_scenario.parent
    return (
        chargeplan.load_scenario(tiny_scenario),
        gpd.read_file(folder / "zones.geojson"),
        gpd.read_file(folder / "sites.geojson"),
    )


def test_prepare_validates_geodataframes_handed_in(tiny_scenario: Path) -> None:
    scenario, zones, sites = _frames(tiny_scenario)
    bad = zones.copy()
    bad.loc[2, "pop"] = np.nan
    with pytest.raises(InputError, match=r"zones \(GeoDataFrame\): column 'pop' has 1 missing"):
        chargeplan.prepare(scenario, zones=bad, sites=sites)
    dup = sites.copy()
    dup.loc[1, "site_id"] = "s1"
    with pytest.raises(InputError, match=r"sites \(GeoDataFrame\).*duplicate ids s1"):
        chargeplan.prepare(scenario, zones=zones, sites=dup)
    with pytest.raises(InputError, match="has no CRS"):
        chargeplan.prepare(scenario, zones=zones.set_crs(None, allow_override=True), sites=sites)


def test_prepare_repairs_a_bow_tie_zone_with_a_warning(tiny_scenario: Path) -> None:
    scenario, zones, sites = _frames(tiny_scenario)
    x0, y0, x1, y1 = zones.geometry.iloc[0].bounds
    bow_tie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    zones.loc[0, "geometry"] = bow_tie
    with pytest.warns(InputWarning, match="repaired 1 invalid polygon"):
        inputs = chargeplan.prepare(scenario, zones=zones, sites=sites)
    assert inputs.zones.geometry.is_valid.all()


def test_prepare_warns_about_sites_far_from_every_zone(tiny_scenario: Path) -> None:
    scenario, zones, sites = _frames(tiny_scenario)
    far = sites.copy()
    far.loc[2, "geometry"] = shapely.Point(100.0, 30.0)  # 2,000 km west of the zones
    with pytest.warns(InputWarning, match=r"1 site lies more than 50 km from every zone.*s3"):
        chargeplan.prepare(scenario, zones=zones, sites=far)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        chargeplan.prepare(scenario, zones=zones, sites=sites)


def test_prepare_checks_site_columns(tiny_scenario: Path) -> None:
    scenario, zones, sites = _frames(tiny_scenario)
    with pytest.raises(InputError, match=r"column 'max_dc_fsat'.*rename it 'max_dc_fast'"):
        chargeplan.prepare(scenario, zones=zones, sites=sites.assign(max_dc_fsat=5))
    with pytest.raises(InputError, match=r"column 'capex_cny_dc_fast' has 1 infinite value.*s2"):
        chargeplan.prepare(
            scenario, zones=zones, sites=sites.assign(capex_cny_dc_fast=[1.0, np.inf, 1.0])
        )
    no_default = scenario.with_values({"sites.max_chargers": {"ac_destination": 100}})
    with pytest.raises(
        InputError, match=r"column 'max_dc_fast' has 1 missing value \(row 3; id s3\)"
    ):
        chargeplan.prepare(no_default, zones=zones, sites=sites.assign(max_dc_fast=[5, 5, None]))


def test_prepare_validates_the_cost_table(tiny_scenario: Path) -> None:
    folder = tiny_scenario.parent
    costs = folder / "costs.csv"
    costs.write_text("zone_id,site_id,cost\nz1,s1,1\nz2,s9,2\n")
    scenario = chargeplan.load_scenario(tiny_scenario).with_values({"reach.cost_table": costs})
    with pytest.raises(InputError, match=r"costs.csv.*site_id not in the sites: s9 \(row 2"):
        chargeplan.prepare(scenario)
    costs.write_text("zone_id,site_id,cost\nz1,s1,1\nz2,s2,2\n")
    assert len(chargeplan.prepare(scenario).pairs) == 2


def test_required_site_over_its_grid_limit_is_explained_not_a_traceback(
    tiny_scenario: Path, tmp_path: Path, capsys
) -> None:
    """Site s1 must open with 2 DC chargers (2 x 100 kW) on a 50 kW grid connection: no plan
    can exist, and the message names the site, both numbers and the inputs to change."""
    text = tiny_scenario.read_text().replace(
        "fixed_cost_cny = 10000\n", 'fixed_cost_cny = 10000\ngrid_kw = 50\nrequired = ["s1"]\n'
    )
    tiny_scenario.write_text(text)
    sites = gpd.read_file(tiny_scenario.parent / "sites.geojson")
    sites["min_dc_fast"] = [2, 0, 0]
    sites.to_file(tiny_scenario.parent / "sites.geojson", driver="GeoJSON")
    out = tmp_path / "out"
    code = main(["run", str(tiny_scenario), "--out", str(out), *RUN])
    err = capsys.readouterr().err.strip().splitlines()
    assert code in (4, 5) and len(err) == 1 and "Traceback" not in err[0]
    for part in ("chargeplan: error: ", "s1", "200 kW", "50 kW", "grid_kw"):
        assert part in err[0]
    assert not out.exists()
