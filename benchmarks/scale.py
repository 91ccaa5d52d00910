"""Issue 6's three scale figures in one run: (a) the fine national plan, (b) chargeplan against
raw highspy, (c) chargeplan against PySAL spopt. Each part is its own script (its docstring
says what it measures and how); this one runs them in turn and prints their reports.

Run by hand from the repository root (about 15 minutes on 2 cores; (c) needs the ``bench``
extra: ``pip install -e ".[bench]"``)::

    .venv/bin/python benchmarks/scale.py
    .venv/bin/python benchmarks/scale.py --skip-fine     # (b) and (c) only, about 4 minutes

Targets (docs/scale.md, docs/fine.md): (a) >= 100,000 cells and >= 10,000 sites end to end in
under 10 minutes and 8 GiB; (b) build + solve at most 1.5x raw highspy's; (c) at least 10x
faster than spopt with CBC, equal covered demand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = (
    ("(a) fine national plan", ["national_fine.py", "--quiet", "--out", "runs/fine-bench"]),
    ("(b) against raw highspy", ["build_overhead.py", "--skip-rules"]),
    ("(c) against spopt", ["against_spopt.py"]),
)


def main(argv: list[str]) -> int:
    """Run the parts in turn; return the first non-zero exit status, else 0."""
    status = 0
    for title, (script, *args) in PARTS:
        if "--skip-fine" in argv and script == "national_fine.py":
            continue
        print(f"\n=== {title}: {script} {' '.join(args)}", flush=True)
        code = subprocess.run([sys.executable, str(HERE / script), *args], check=False).returncode
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
