"""``chargeplan validate`` and ``chargeplan batch`` on a decomposed scenario (issues 12 and 13).

The tiny scenario (``tests/conftest.py``) split by region with ``decompose.max_bundle_pairs = 1``
(so that no two regions are bundled into one task) has two pieces, derived by hand from its map:
region ``a`` (zones z1, z2; sites s1, s2; the 4 pairs z1-s1, z1-s2, z2-s1, z2-s2) and region
``b`` (zone z3 with site s3, 1 pair; z4 reaches no site). The whole model has the 7 pairs of
the 30 km reach (those 5 and the 2 that cross the border, z2-s3 and z3-s2).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import chargeplan
from chargeplan.cli import main
from chargeplan.model.limits import LIMIT_VARIABLE, estimate_model_size
from chargeplan.workflows.regions import region_problems

SPLIT = ("--set", "decompose.by=region", "--set", "decompose.max_bundle_pairs=1")


def _sizes(path: Path) -> tuple[float, float]:
    """Estimated bytes of the whole model and of its larger piece (region a)."""
    scenario = chargeplan.load_scenario(path).with_values(
        {"decompose.by": "region", "decompose.max_bundle_pairs": 1}
    )
    inputs = chargeplan.prepare(scenario)
    problem = chargeplan.build_problem(scenario, inputs)
    pieces = region_problems(scenario, problem, inputs.zones, inputs.sites)
    # by hand (module docstring): 2 pieces of 4 and 1 pairs, x per pair and charger type (2)
    assert [len(piece.pair_zone) for piece in pieces] == [4, 1]
    assert [estimate_model_size(p).assignment_variables for p in pieces] == [8, 2]
    assert estimate_model_size(problem).assignment_variables == 14
    return estimate_model_size(problem).bytes, estimate_model_size(pieces[0]).bytes


def test_validate_checks_each_piece_of_a_decomposed_scenario(
    tiny_scenario: Path, capsys, monkeypatch
) -> None:
    """With the memory cap between the larger piece's estimate and the whole model's,
    ``validate`` refuses the undecomposed scenario but accepts the decomposed one, as ``run``
    (which checks each piece when it solves it) would; below the larger piece it refuses that."""
    whole, largest = _sizes(tiny_scenario)
    assert largest < whole
    monkeypatch.setenv(LIMIT_VARIABLE, str((whole + largest) / 2))

    assert main(["validate", str(tiny_scenario), "--quiet"]) != 0
    err = capsys.readouterr().err
    assert "model too large for memory" in err and LIMIT_VARIABLE in err

    assert main(["validate", str(tiny_scenario), "--quiet", *SPLIT]) == 0
    out = capsys.readouterr().out
    assert "decompose.by = 'region': 2 pieces, the largest" in out
    assert f"{largest / 1e6:,.0f} MB" in out

    monkeypatch.setenv(LIMIT_VARIABLE, str(largest - 1))
    assert main(["validate", str(tiny_scenario), "--quiet", *SPLIT]) != 0
    err = capsys.readouterr().err
    assert "piece 1 of 2 (2 zones, 2 sites)" in err and "decompose.max_bundle_pairs" in err


def test_validate_checks_the_lagrangian_pieces(tiny_scenario: Path, capsys, monkeypatch) -> None:
    """``decompose.method = "lagrange"`` cuts no pair: the one component of 7 pairs exceeds
    ``max_piece_pairs = 5`` and is cut along the regions into the pieces z1, z2 (their 5 pairs,
    sites s1, s2, s3) and z3 (its 2 pairs, sites s2, s3), derived by hand; ``validate`` checks
    those, not the whole model."""
    values = {
        "decompose.by": "region",
        "decompose.method": "lagrange",
        "decompose.max_piece_pairs": 5,
    }
    scenario = chargeplan.load_scenario(tiny_scenario).with_values(values)
    inputs = chargeplan.prepare(scenario)
    problem = chargeplan.build_problem(scenario, inputs)
    pieces = region_problems(scenario, problem, inputs.zones, inputs.sites)
    assert [list(piece.zone_ids) for piece in pieces] == [["z1", "z2"], ["z3"]]
    assert [list(piece.site_ids) for piece in pieces] == [["s1", "s2", "s3"], ["s2", "s3"]]
    assert [estimate_model_size(p).assignment_variables for p in pieces] == [10, 4]
    whole, largest = estimate_model_size(problem).bytes, estimate_model_size(pieces[0]).bytes
    monkeypatch.setenv(LIMIT_VARIABLE, str((whole + largest) / 2))
    flags = [f"--set={key}={value}" for key, value in values.items()]
    assert main(["validate", str(tiny_scenario), "--quiet", *flags]) == 0
    assert "'region': 2 pieces, the largest" in capsys.readouterr().out


def test_batch_runs_a_decomposed_job_without_a_local_cluster(tiny_scenario: Path) -> None:
    """A batch job runs in a daemonic child process, which cannot start the LocalCluster of
    worker processes that ``decompose.workers = 2`` asks for ("daemonic processes are not
    allowed to have children"): its regions run in the job's process instead, with the plan
    of an in-process decomposed run."""
    out = tiny_scenario.parent / "batch"
    argv = ["batch", str(tiny_scenario), "--out", str(out), "--no-map", "--no-report", *SPLIT]
    assert main([*argv, "--set", "decompose.workers=2", "--quiet"]) == 0
    table = pd.read_csv(out / "batch.csv")
    assert list(table["status"]) == ["done"]
    summary = json.loads((Path(table["folder"].iloc[0]) / "summary.json").read_text())
    assert summary["decompose_executor"] == "this process"
    # by hand (module docstring): 2 regions, the 2 border pairs cut, z4 unreachable
    assert summary["decompose_regions"] == 2
    assert summary["decompose_cut_pairs"] == 2
    assert summary["decompose_unreachable_zones"] == 1

    in_process = chargeplan.plan_network(
        chargeplan.load_scenario(tiny_scenario).with_values(
            {"decompose.by": "region", "decompose.max_bundle_pairs": 1, "decompose.workers": 1}
        )
    )
    for key in ("status", "sites_opened", "chargers"):
        assert summary[key] == in_process.summary[key]
    assert summary["objective_value"] == pytest.approx(in_process.summary["objective_value"])
