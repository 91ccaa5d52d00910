"""The growth benchmark's table and fit (``benchmarks/station_growth.py``) on made-up rows.

Only the pure functions: no scenario is prepared and nothing is solved. The rows follow exact
power laws chosen by hand, so the fit must give back their coefficients and exponents:

- pairs = 0.5 (cells x candidates)^0.5: cells x candidates 4e8, 1.6e9, 6.4e9 give pairs
  10,000, 20,000, 40,000;
- wall = 0.01 pairs^1.5: 10,000 -> 10,000 s, 20,000 -> 28,284.27 s, 40,000 -> 80,000 s;
- peak memory = 0.2 pairs^0.25 GiB: 2.0, 2.378, 2.828 GiB.

At 1 M cells x 100 k candidates (1e11) the pairs are 0.5 x 1e11^0.5 = 158,113.9; the wall is
0.01 x 158,113.9^1.5 = 628,716.5 s and the memory 0.2 x 158,113.9^0.25 = 3.988 GiB.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "station_growth.py"
spec = importlib.util.spec_from_file_location("station_growth", PATH)
assert spec is not None and spec.loader is not None
growth = importlib.util.module_from_spec(spec)
sys.modules["station_growth"] = growth  # dataclasses look their module up
spec.loader.exec_module(growth)


def _row(budget: float, cells: int, candidates: int) -> dict:
    pairs = 0.5 * math.sqrt(cells * candidates)
    return {
        "budget": budget,
        "cells": cells,
        "candidates": candidates,
        "pairs": pairs,
        "wall_s": 0.01 * pairs**1.5,
        "solve_s": 0.005 * pairs**1.2,
        "peak_gib": 0.2 * pairs**0.25,
        "solve_cpu_s": 2 * 0.005 * pairs**1.2,
        "highs_s": 0.005 * pairs**1.2,
    }


ROWS = [_row(0.5, 20_000, 20_000), _row(1, 40_000, 40_000), _row(2, 80_000, 80_000)]


def test_rows_are_the_docstrings() -> None:
    assert [r["pairs"] for r in ROWS] == pytest.approx([10_000, 20_000, 40_000])
    assert ROWS[1]["wall_s"] == pytest.approx(28_284.27, abs=0.01)


def test_power_law_gives_back_coefficient_and_exponent() -> None:
    a, b = growth.power_law([1, 2, 4, 8], [3, 3 * 2**1.5, 3 * 4**1.5, 3 * 8**1.5])
    assert (a, b) == (pytest.approx(3), pytest.approx(1.5))
    # least squares on logs, by hand: log y = 0, 1, 1 at log x = 0, 1, 2 (means 1 and 2/3):
    # slope = ((-1)(-2/3) + 0 (1/3) + 1 (1/3)) / ((-1)^2 + 0 + 1^2) = 0.5,
    # intercept = 2/3 - 0.5 x 1 = 1/6, so a = e^(1/6)
    a, b = growth.power_law([1, math.e, math.e**2], [1, math.e, math.e])
    assert b == pytest.approx(0.5) and a == pytest.approx(math.exp(1 / 6))


def test_power_law_refuses_what_it_cannot_fit() -> None:
    with pytest.raises(ValueError, match="two distinct"):
        growth.power_law([5, 5], [1, 2])
    with pytest.raises(ValueError, match="positive"):
        growth.power_law([1, 2], [0, 2])


def test_fit_extrapolates_to_the_target() -> None:
    fit = growth.growth_fit(ROWS)
    assert fit["pairs_c"] == pytest.approx(0.5) and fit["pairs_e"] == pytest.approx(0.5)
    assert fit["target_pairs"] == pytest.approx(158_113.88, abs=0.01)
    assert fit["wall_s_a"] == pytest.approx(0.01) and fit["wall_s_b"] == pytest.approx(1.5)
    assert fit["target_wall_s"] == pytest.approx(628_716.5, abs=0.5)
    assert fit["peak_gib_b"] == pytest.approx(0.25)
    assert fit["target_peak_gib"] == pytest.approx(3.988, abs=1e-3)
    assert fit["solve_s_b"] == pytest.approx(1.2)


def test_ratios_to_the_first_run() -> None:
    """Pairs double per budget, so the solve grows 2^1.2 = 2.297 and 4^1.2 = 5.278 times, the
    memory 2^0.25 = 1.189 and 4^0.25 = 1.414 times; CPU is twice HiGHS's seconds."""
    out = growth.ratios(ROWS)
    assert [r["x_pairs"] for r in out] == pytest.approx([1, 2, 4])
    assert [r["x_solve"] for r in out] == pytest.approx([1, 2.2974, 5.2780], abs=1e-4)
    assert [r["x_peak"] for r in out] == pytest.approx([1, 1.1892, 1.4142], abs=1e-4)
    assert [r["cpu_over_highs"] for r in out] == pytest.approx([2, 2, 2])
    assert math.isnan(growth.ratios([ROWS[0] | {"highs_s": 0}])[0]["cpu_over_highs"])


def test_markdown_table() -> None:
    rows = [
        {"budget": 0.25, "pairs": 380_839, "gap": 0.01234},
        {"budget": 2.0, "pairs": 1_460_025, "gap": None},
    ]
    columns = (("budget", "budget", "budget"), ("pairs", "pairs", ","), ("gap", "gap", ".2%"))
    assert growth.markdown_table(rows, columns).splitlines() == [
        "| budget | pairs | gap |",
        "|---|---|---|",
        "| 1/4 | 380,839 | 1.23% |",
        "| 2 | 1,460,025 | - |",
    ]


def test_stage_seconds_reads_the_last_stage_line() -> None:
    lines = [
        "read inputs: 3.0 s",
        "results: 1.5 s",
        "solve: 20.2 s; incumbent 1.53 bn, bound 1.52 bn, gap 0.41 %",
        "results: 2.25 s",
    ]
    assert growth.stage_seconds(lines, "results") == 2.25
    assert growth.stage_seconds(lines, "solve") == 20.2
    assert growth.stage_seconds(lines, "write outputs") is None


def test_report_prints_the_fit_of_the_rows(capsys: pytest.CaptureFixture[str]) -> None:
    """The report of ``ROWS``: wall exponent 1.5, 158,114 pairs and 628,717 s (rounded) at
    the target; the rows read back from a run's printed output (JSON lines among others), by
    budget."""
    text = "\n".join(["prepare ...", *(json.dumps(r) for r in reversed(ROWS)), "| table |"])
    rows = growth.read_rows(text)
    assert [r["budget"] for r in rows] == [0.5, 1, 2]
    growth.print_report(rows)
    out = capsys.readouterr().out
    assert "wall = 0.01 pairs^1.500" in out and "peak memory = 0.2 pairs^0.250 GiB" in out
    assert "158,114 pairs, wall 628,717 s" in out and "peak memory 3.99 GiB" in out
    assert "| 1/2 | 1.00 | 1.00 | 1.00 | 1.00 | 2.00 |" in out


def test_set_values_are_read_as_toml() -> None:
    """``--set`` items: a table in braces, a string, a number; an item without ``=`` or with a
    value TOML cannot read is refused naming the item."""
    changes = growth.parse_sets(
        [
            'reach.standard={settlement_column="settlement"}',
            'decompose.targets="national"',
            "decompose.target_steps=3",
        ]
    )
    assert changes == {
        "reach.standard": {"settlement_column": "settlement"},
        "decompose.targets": "national",
        "decompose.target_steps": 3,
    }
    with pytest.raises(ValueError, match="KEY=VALUE"):
        growth.parse_sets(["decompose.workers"])
    with pytest.raises(ValueError, match="not TOML"):
        growth.parse_sets(["decompose.targets=national"])


def test_served_by_settlement_counts_only_the_cells_in_reach() -> None:
    """Urban: 8 of 10 kWh served in reach (the unreachable cell's 5 kWh left out): 0.8; rural:
    1 of 4: 0.25; suburban: no cell, so nothing to serve: 1.0."""
    import pandas as pd

    zones = pd.DataFrame(
        {
            "settlement": ["urban", "urban", "urban", "rural"],
            "demand_kwh": [6.0, 4.0, 5.0, 4.0],
            "served_kwh": [6.0, 2.0, 0.0, 1.0],
            "sites_in_reach": [2, 1, 0, 3],
        }
    )
    assert growth.served_by_settlement(zones) == pytest.approx(
        {"served_urban": 0.8, "served_suburban": 1.0, "served_rural": 0.25}
    )
    assert growth.served_by_settlement(zones.drop(columns="settlement")) == {}
