"""``chargeplan compare RUN_A RUN_B`` and ``chargeplan report RUN_DIR``: finished runs
inspected without solving (a helper of :mod:`chargeplan.cli`).

``compare`` prints what changed from run A to run B (sites added, removed and resized, chargers
by type, capex, the share of peak demand served, and by province), as a table or, with
``--json``, as one JSON object for scripts; ``--map FILE.png`` draws the changed sites.
``report`` writes a run's ``map.png``, ``map.html`` and ``report.html`` again from its saved
plan (after an upgrade of chargeplan, say).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chargeplan import progress
from chargeplan.cli_flags import add_quiet

if TYPE_CHECKING:
    import pandas as pd

    from chargeplan.results.compare import Comparison

__all__ = ["add_compare", "add_report", "compare_command", "comparison_json", "report_command"]


def add_compare(sub: argparse._SubParsersAction) -> None:
    """The ``compare`` sub-command."""
    compare = sub.add_parser(
        "compare", help="what changed between two finished runs (sites, chargers, capex, coverage)"
    )
    compare.add_argument("run_a", type=Path, help="the run to compare with (A)")
    compare.add_argument("run_b", type=Path, help="the run compared (B); changes are B - A")
    compare.add_argument("--json", action="store_true", help="print one JSON object")
    compare.add_argument(
        "--map", type=Path, default=None, metavar="FILE.png", help="draw the changed sites"
    )
    compare.add_argument(
        "--sites", type=int, default=10, metavar="N", help="list at most N changed sites"
    )


def add_report(sub: argparse._SubParsersAction) -> None:
    """The ``report`` sub-command."""
    report = sub.add_parser(
        "report", help="write a run's report.html and maps again from its saved plan (no solve)"
    )
    report.add_argument("run", type=Path, help="a run folder")
    add_quiet(report)


def comparison_json(comparison: Comparison, a: Path, b: Path) -> dict[str, Any]:
    """The comparison as plain JSON data (NaN as ``null``)."""

    def plain(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value.item() if hasattr(value, "item") else value

    totals = {
        key: {col: plain(row[col]) for col in ("a", "b", "change")}
        for key, row in comparison.totals.iterrows()
    }
    sites = comparison.sites.drop(columns=comparison.sites.geometry.name)
    changed = sites[sites["change"] != "same"]
    return {
        "run_a": str(a),
        "run_b": str(b),
        "sites": comparison.counts(),
        "totals": totals,
        "regions": {
            str(region): {k: plain(v) for k, v in row.items()}
            for region, row in comparison.regions.iterrows()
        },
        "changed_sites": {
            str(site): {k: plain(v) for k, v in row.items()} for site, row in changed.iterrows()
        },
    }


def _table(comparison: Comparison, most_sites: int) -> list[str]:
    """The comparison as text lines."""
    lines = [
        "sites: " + ", ".join(f"{n} {change}" for change, n in comparison.counts().items()),
        f"{'':26}{'A':>16}{'B':>16}{'B - A':>16}",
    ]
    for key, row in comparison.totals.iterrows():
        if key == "share_served":
            label = "peak demand served, %"
            cells = [f"{100 * row[c]:>16.2f}" for c in ("a", "b")]
            cells.append(f"{100 * row['change']:>+13.2f} pp")
        elif key == "capex_cny":
            label = "capex, CNY M"
            cells = [f"{row[c] / 1e6:>16,.1f}" for c in ("a", "b")]
            cells.append(f"{row['change'] / 1e6:>+16,.1f}")
        else:
            label = str(key).replace("_", " ")
            cells = [f"{row[c]:>16,.0f}" for c in ("a", "b")] + [f"{row['change']:>+16,.0f}"]
        lines.append(f"{label:26}" + "".join(cells))
    lines += _region_lines(comparison.regions)
    changed = comparison.sites[comparison.sites["change"] != "same"]
    deltas = [c for c in changed.columns if c.endswith("_delta")]
    for site, row in changed.head(most_sites).iterrows():
        what = ", ".join(f"{c.removesuffix('_delta')} {row[c]:+,.0f}" for c in deltas if row[c])
        name = f" ({row['name']})" if "name" in changed.columns and row["name"] else ""
        lines.append(f"  {row['change']:8} {site}{name}: {what}")
    if len(changed) > most_sites:
        lines.append(f"  ... and {len(changed) - most_sites} more changed sites (--sites N)")
    return lines


def _region_lines(regions: pd.DataFrame) -> list[str]:
    """The regions whose served share changed by 0.005 percentage points or more, largest
    change first (at most ten)."""
    if not len(regions):
        return []
    moved = regions[regions["change_pp"].abs() >= 0.005]
    if not len(moved):
        return [f"peak demand served by {regions.index.name}: no change"]
    moved = moved.reindex(moved["change_pp"].abs().sort_values(ascending=False).index)
    lines = [f"peak demand served by {regions.index.name}, largest changes:"]
    for region, row in moved.head(10).iterrows():
        lines.append(
            f"  {region}: {100 * row['share_served_a']:.2f} % -> "
            f"{100 * row['share_served_b']:.2f} % ({row['change_pp']:+.2f} pp)"
        )
    return lines


def compare_command(args: argparse.Namespace) -> int:
    """``chargeplan compare``."""
    from chargeplan.outputs.runs import read_run, region_column
    from chargeplan.results.compare import compare

    a, b = read_run(args.run_a), read_run(args.run_b)
    by = region_column(args.run_b)
    comparison = compare(a, b, by=by if by in a.zones and by in b.zones else None)
    if args.map is not None:
        from chargeplan.outputs.compare_map import plot_changes

        title = f"{args.run_a.name} -> {args.run_b.name}: sites by change"
        plot_changes(comparison, b.zones, args.map, title=title)
    if args.json:
        print(json.dumps(comparison_json(comparison, args.run_a, args.run_b), ensure_ascii=False))
    else:
        print(f"A: {args.run_a}\nB: {args.run_b}")
        print("\n".join(_table(comparison, args.sites)))
        if args.map is not None:
            print(f"Map: {args.map}")
    return 0


def report_command(args: argparse.Namespace) -> int:
    """``chargeplan report``."""
    from chargeplan.outputs.runs import rerender

    written = rerender(args.run)
    progress.finish()
    print(f"{args.run}: {', '.join(p.name for p in written)} written again")
    print(f"Report: {args.run / 'report.html'}")
    return 0
