"""The plan against real networks (chargeplan.results.networks, outputs/networks.py): figures
derived by hand on three stations, the published table read and checked, networks.csv written."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from chargeplan.errors import InputError
from chargeplan.results.networks import (
    AC_MAX_KW,
    FIGURES,
    compare_networks,
    dc_types,
    network_profile,
    read_networks,
)

ROOT = Path(__file__).resolve().parents[1]
POWER = {"dc_fast": 160.0, "ac_destination": 7.0}


def _stations() -> pd.DataFrame:
    # (DC, AC) stalls: (4, 4), (8, 0), (0, 6).
    return pd.DataFrame({"chargers_dc_fast": [4, 8, 0], "chargers_ac_destination": [4, 0, 6]})


def test_profile_by_hand() -> None:
    """22 stalls at 3 stations (8, 8, 6): mean 22/3, median 8, largest 8; 12 DC stalls at the
    2 stations with DC: 6 each; DC share 12/22; 1,000 users: 1000/22 per stall, 1000/12 per DC."""
    p = network_profile(_stations(), POWER, 1000.0)
    assert p["stations"] == 3
    assert p["stalls"] == 22
    assert p["stalls_per_station"] == pytest.approx(22 / 3)
    assert p["stalls_per_station_median"] == 8
    assert p["dc_stalls_per_dc_station"] == 6
    assert p["largest_station_stalls"] == 8
    assert p["dc_share_of_stalls"] == pytest.approx(12 / 22)
    assert p["users_per_stall"] == pytest.approx(1000 / 22)
    assert p["users_per_dc_stall"] == pytest.approx(1000 / 12)
    assert set(p) == set(FIGURES)


def test_profile_of_nothing_is_nan_not_an_error() -> None:
    p = network_profile(_stations().iloc[:0], POWER, None)
    assert p["stations"] == 0 and p["stalls"] == 0
    assert all(math.isnan(p[f]) for f in FIGURES if f not in ("stations", "stalls"))
    ac_only = network_profile(_stations().iloc[[2]], POWER, 10.0)
    assert math.isnan(ac_only["users_per_dc_stall"]) and ac_only["dc_share_of_stalls"] == 0


def test_dc_is_above_the_largest_ac_power() -> None:
    assert dc_types({"ac43": AC_MAX_KW, "dc50": 50.0, "ac7": 7.0, "dc480": 480.0}) == [
        "dc50",
        "dc480",
    ]


def test_shipped_table_reads_and_has_a_source_per_row() -> None:
    table = read_networks(ROOT / "models" / "networks-cn.csv")
    assert len(table) >= 10
    assert table["source"].str.len().min() > 20
    tesla = table[(table["network"] == "Tesla China") & (table["figure"] == "stalls")]
    assert tesla["value"].tolist() == [11622.0]


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("x,stalls_per_bay,3,2024,src", "figure", "use one of"),
        ("x,stalls,many,2024,src", "value", "give a number"),
        ("x,stalls,3,2024,  ", "source", "give the figure's source"),
    ],
)
def test_bad_rows_are_named(tmp_path: Path, row: str, column: str, message: str) -> None:
    path = tmp_path / "n.csv"
    path.write_text("network,figure,value,as_of,source\nok,stations,1,2024,src\n" + row + "\n")
    with pytest.raises(InputError, match=rf"n\.csv, row 3, column '{column}'.*{message}"):
        read_networks(path)


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text("network,figure,value\nx,stalls,1\n")
    with pytest.raises(InputError, match=r"missing column.*as_of, source"):
        read_networks(path)


def test_compare_sets_plan_next_to_published() -> None:
    published = pd.DataFrame(
        {
            "network": ["A", "B"],
            "figure": ["stalls_per_station", "users_per_dc_stall"],
            "value": [5.5, 0.0],
            "as_of": ["2024", "2024"],
            "source": ["s", "s"],
        }
    )
    out = compare_networks({"stalls_per_station": 11.0, "users_per_dc_stall": 3.0}, published)
    assert out["plan"].tolist() == [11.0, 3.0]
    assert out["plan_over_published"].iloc[0] == 2.0
    assert math.isnan(out["plan_over_published"].iloc[1])
    assert out["meaning"].iloc[0] == FIGURES["stalls_per_station"]


def test_a_run_writes_networks_csv_from_its_stations(tiny_scenario: Path, tmp_path: Path) -> None:
    """The tiny scenario with ``[realism]``: networks.csv's plan figures are those of its own
    stations.csv and summary (users)."""
    import json

    from chargeplan.cli import main

    (tiny_scenario.parent / "networks.csv").write_text(
        "network,figure,value,as_of,source\nN,stalls_per_station,4,2024,a source\n"
        "N,users_per_stall,10,2024,a source\n"
    )
    text = tiny_scenario.read_text() + '\n[realism]\nnetworks = "networks.csv"\n'
    tiny_scenario.write_text(text)
    out = tmp_path / "o"
    assert main(["run", str(tiny_scenario), "--out", str(out), "--quiet", "--no-map"]) == 0
    table = pd.read_csv(out / "networks.csv", encoding="utf-8-sig")
    stations = pd.read_csv(out / "stations.csv", encoding="utf-8-sig")
    users = json.loads((out / "summary.json").read_text())["premium_users"]
    stalls = stations["chargers"].sum()
    assert table["plan"].tolist() == pytest.approx([stalls / len(stations), users / stalls])


def test_a_missing_networks_file_is_refused_with_the_key(tiny_scenario: Path) -> None:
    import chargeplan
    from chargeplan.errors import ScenarioError

    tiny_scenario.write_text(tiny_scenario.read_text() + '\n[realism]\nnetworks = "nope.csv"\n')
    with pytest.raises(ScenarioError, match=r"realism.*networks.*file not found.*nope\.csv"):
        chargeplan.load_scenario(tiny_scenario)


def test_a_bad_networks_row_is_refused_when_the_scenario_loads(tiny_scenario: Path) -> None:
    """Before any solve: the scenario names the key, the file, the row and the column."""
    import chargeplan
    from chargeplan.errors import ScenarioError

    (tiny_scenario.parent / "bad.csv").write_text(
        "network,figure,value,as_of,source\nN,stalls,lots,2024,a source\n"
    )
    tiny_scenario.write_text(tiny_scenario.read_text() + '\n[realism]\nnetworks = "bad.csv"\n')
    with pytest.raises(ScenarioError, match=r"realism.*bad\.csv, row 2, column 'value'"):
        chargeplan.load_scenario(tiny_scenario)
