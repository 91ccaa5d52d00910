"""Seconds to write a plan's outputs (``write_plan`` and the manifest), per file, old and new.

Run::

    # once: plan the national station layer and keep the plan (about 8 minutes of 2 cores)
    PYTHONPATH=src nice .venv/bin/python benchmarks/write_outputs.py --make-plan /tmp/plan.pkl \
        --scenario models/china-2030-stations.toml
    # then, as often as needed: write it with this tree's code and with a reference commit's
    PYTHONPATH=src nice .venv/bin/python benchmarks/write_outputs.py --plan /tmp/plan.pkl \
        --reference 884db8e --keep /tmp/outputs

The plan is pickled with its scenario, so the writing stage is measured without re-solving.
Each code version (``--reference``: a git commit, whose ``src`` is extracted with ``git
archive``; and this tree's ``src``) writes the same plan in a fresh Python process, in the
order reference, current, ``--repeat`` times; the script prints, per file, the seconds until it
appeared in the folder (files are renamed into place when complete, so a watcher thread sees
each one the moment it is written), the total and the ratio of the medians. With ``--keep`` the
folders of the last repeat are kept (``DIR/reference``, ``DIR/current``) for
``benchmarks/compare_outputs.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The child: write the pickled plan into a folder with ``write_plan`` and the manifest, as
#: ``chargeplan run`` does, and print each file's appearance time (a watcher thread polls the
#: folder every 20 ms) as JSON.
CHILD = r"""
import json, os, pickle, sys, threading, time
from pathlib import Path

plan_file, folder = sys.argv[1], Path(sys.argv[2])
with open(plan_file, "rb") as handle:
    plan, scenario = pickle.load(handle)
from chargeplan.outputs.manifest import build_manifest, write_manifest
from chargeplan.outputs.write import write_plan
import chargeplan.outputs.maps, chargeplan.outputs.html  # imports are not writing

seen, done = {}, threading.Event()
start = time.perf_counter()

def watch():
    while not done.is_set():
        now = time.perf_counter() - start
        for name in os.listdir(folder):
            if not name.startswith(".") and name not in seen:
                seen[name] = now
        time.sleep(0.02)

folder.mkdir(parents=True)
watcher = threading.Thread(target=watch, daemon=True)
watcher.start()
written = write_plan(plan, folder, map_png=True, report=True, scenario=scenario)
plan_s = time.perf_counter() - start
manifest = build_manifest(scenario, folder, written, summary=plan.summary, options={})
write_manifest(manifest, folder)
total = time.perf_counter() - start
done.set()
watcher.join()
for name in os.listdir(folder):
    seen.setdefault(name, total)
print(json.dumps({"files": seen, "write_plan_s": plan_s, "total_s": total}))
"""


def make_plan(scenario_file: str, out: Path, workers: int) -> None:
    """Plan ``scenario_file`` (prepare and solve, as ``chargeplan run`` does) and pickle
    ``(plan, scenario)`` into ``out``."""
    import pickle

    from chargeplan.config.scenario import load_scenario
    from chargeplan.inputs.prepare import prepare
    from chargeplan.workflows.network import plan_network
    from chargeplan.workflows.options import solver_options

    scenario = load_scenario(scenario_file)
    if scenario.decompose.by != "none":
        scenario = scenario.with_values({"decompose.workers": workers}, where="benchmark")
    plan = plan_network(scenario, inputs=prepare(scenario), solver=solver_options(scenario))
    with out.open("wb") as handle:
        pickle.dump((plan, scenario), handle, protocol=5)


def reference_src(commit: str, into: Path) -> Path:
    """``src`` of ``commit``, extracted into ``into``."""
    archive = into / "src.tar"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "-o", str(archive), commit, "src"], check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def write_once(src: Path, plan: Path, folder: Path) -> dict:
    """One child process writing ``plan`` into ``folder`` with the code in ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(plan), str(folder)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def per_file(files: dict[str, float]) -> dict[str, float]:
    """Seconds each file took: the time since the one before it appeared."""
    order = sorted(files.items(), key=lambda item: item[1])
    out, previous = {}, 0.0
    for name, at in order:
        out[name] = at - previous
        previous = at
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, help="pickled (plan, scenario)")
    parser.add_argument("--make-plan", type=Path, help="plan --scenario and pickle it here")
    parser.add_argument("--scenario", default="models/china-2030-stations.toml")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--reference", help="git commit whose code writes the reference run")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the last repeat's folders here")
    args = parser.parse_args()
    if args.make_plan:
        start = time.perf_counter()
        make_plan(args.scenario, args.make_plan, args.workers)
        print(f"planned and pickled in {time.perf_counter() - start:.0f} s: {args.make_plan}")
        return
    if args.plan is None:
        parser.error("give --plan (or --make-plan)")
    with tempfile.TemporaryDirectory() as scratch:
        versions = {"current": ROOT / "src"}
        if args.reference:
            versions = {"reference": reference_src(args.reference, Path(scratch))} | versions
        runs: dict[str, list[dict]] = {name: [] for name in versions}
        for repeat in range(args.repeat):
            for name, src in versions.items():
                base = args.keep if args.keep and repeat == args.repeat - 1 else Path(scratch)
                folder = base / (name if base == args.keep else f"{name}-{repeat}")
                if folder.exists():
                    raise SystemExit(f"{folder} exists: remove it or give another --keep")
                runs[name].append(write_once(src, args.plan, folder))
    last = {name: per_file(r[-1]["files"]) for name, r in runs.items()}
    names = sorted({f for files in last.values() for f in files}, key=lambda f: f.lower())
    print(f"{'file':<28}" + "".join(f"{name:>12}" for name in last))
    for file in names:
        print(f"{file:<28}" + "".join(f"{last[n].get(file, float('nan')):>12.1f}" for n in last))
    medians = {name: statistics.median(r["total_s"] for r in rs) for name, rs in runs.items()}
    print(f"{'total (median s)':<28}" + "".join(f"{medians[n]:>12.1f}" for n in last))
    if "reference" in medians:
        print(f"ratio reference / current: {medians['reference'] / medians['current']:.1f}")
    print("load:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
