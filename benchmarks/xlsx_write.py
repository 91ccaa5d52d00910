"""What ``plan.xlsx`` costs next to the CSV files: seconds per table, as a ratio to the CSV.

Run::

    PYTHONPATH=src .venv/bin/python benchmarks/xlsx_write.py            # 20,000 rows
    PYTHONPATH=src .venv/bin/python benchmarks/xlsx_write.py --rows 100000

The table: ``--rows`` rows shaped like ``zones.csv`` of a national run (30 float columns, 3
text columns with Chinese names, 2 integer columns; seed 0). The reference is
:func:`chargeplan.outputs.files.write_csv` of the same table in the same process; the script
prints the median of ``--repeat`` runs of each and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from chargeplan.outputs.files import write_csv
from chargeplan.outputs.xlsx import write_xlsx


def table(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.gamma(2.0, 50.0, (rows, 30)), columns=[f"x{i}_kwh" for i in range(30)])
    frame.insert(0, "zone_id", [f"8831{i:08d}" for i in range(rows)])
    frame.insert(1, "city", rng.choice(["深圳市", "广州市", "北京市"], rows))
    frame.insert(2, "province", rng.choice(["广东省", "北京市"], rows))
    frame["serving_sites"] = rng.integers(0, 5, rows)
    frame["sites_in_reach"] = rng.integers(0, 20, rows)
    return frame


def median_seconds(write, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        write()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = table(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        csv_s = median_seconds(lambda: write_csv(frame, out / "t.csv", index=False), args.repeat)
        xlsx_s = median_seconds(lambda: write_xlsx({"t": frame}, out / "t.xlsx"), args.repeat)
        sizes = ((out / "t.csv").stat().st_size, (out / "t.xlsx").stat().st_size)
    print(f"{args.rows:,} rows x {frame.shape[1]} columns")
    print(f"write_csv  {csv_s:7.2f} s  {sizes[0] / 1e6:6.1f} MB")
    print(f"write_xlsx {xlsx_s:7.2f} s  {sizes[1] / 1e6:6.1f} MB")
    print(f"xlsx / csv: {xlsx_s / csv_s:.1f} x the time")


if __name__ == "__main__":
    main()
