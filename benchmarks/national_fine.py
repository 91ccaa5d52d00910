"""The fine national plan end to end: wall time, peak memory and the plan's headline figures.

Runs ``chargeplan run models/china-2030-fine.toml --out runs/china-2030-fine`` (H3 cells,
cell-centre candidate sites, regions solved on a local Dask cluster) as a child process and
samples the resident memory of it and all its descendants (the Dask scheduler and worker
processes) every 0.2 s with psutil: the peak of that sum is the memory the plan needs. Also
reported: ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``, the largest single process (what
``/usr/bin/time -v`` calls "Maximum resident set size"). Run by hand from the repository root::

    .venv/bin/python benchmarks/national_fine.py            # extra arguments go to chargeplan
    .venv/bin/python benchmarks/national_fine.py --workers 1 --out runs/fine-1worker

Not part of the tests: it takes several minutes.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "models" / "china-2030-fine.toml"
SAMPLE_S = 0.2


def _tree_rss(process: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants (0 for those already gone)."""
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def main(extra: list[str]) -> int:
    out = REPO / "runs" / "china-2030-fine"
    if "--out" in extra:
        out = Path(extra[extra.index("--out") + 1])
    else:
        extra = [*extra, "--out", str(out)]
    command = [str(Path(sys.executable).with_name("chargeplan")), "run", str(SCENARIO), *extra]
    print("$", " ".join(command), flush=True)
    start = time.perf_counter()
    child = psutil.Popen(command, cwd=REPO)
    peak = 0
    while child.poll() is None:
        peak = max(peak, _tree_rss(child))
        time.sleep(SAMPLE_S)
    seconds = time.perf_counter() - start
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB on Linux
    print(f"exit code {child.returncode}; wall time {seconds:.0f} s ({seconds / 60:.1f} min)")
    print(
        f"peak memory: {peak / 2**30:.2f} GiB summed over the run's processes (sampled every "
        f"{SAMPLE_S} s); largest single process {largest / 2**30:.2f} GiB"
    )
    summary_path = out / "summary.json"
    if child.returncode == 0 and summary_path.is_file():
        s = json.loads(summary_path.read_text())
        largest = s["decompose_largest_region_pairs"]
        print(
            f"zones (cells) {s['zones']:,}; candidate sites {s['candidate_sites']:,}; pairs "
            f"{s['pairs']:,}; regions {s['decompose_regions']} holding "
            f"{s['decompose_components']} components (largest {largest:,} pairs); cut pairs "
            f"{s['decompose_cut_pairs']:,}"
        )
        print(
            f"status {s['status']}, gap {100 * s['gap']:.2f} %; sites {s['sites_opened']:,}; "
            f"chargers {s['chargers']:,}; capex CNY {s['capex_cny'] / 1e9:.2f} bn; coverage "
            f"{100 * s['coverage']:.1f} %; total cost CNY {s['objective_value'] / 1e9:.2f} bn"
        )
    return child.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
