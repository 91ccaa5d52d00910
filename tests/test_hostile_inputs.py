"""Hostile scenario values, files and solver settings (issue 14, breaks 3, 7, 8, 12 and 15):
every mistake is one line naming the file and the key, before anything is solved; a crash of
native code costs one batch job, not the batch; a useless plan is an error, not a result.

Each test names the break of issue 14 it keeps fixed; each failed before the fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chargeplan.cli import main

from .conftest import SCENARIO, write_tiny_scenario

RUN = ["--quiet", "--no-map", "--no-report"]
SCENARIO_ERROR = 3


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chargeplan: error: "), err
    assert len(lines[0]) < 400, lines[0]
    return lines[0]


def _validate(scenario: Path, capsys, *flags: str) -> tuple[int, str]:
    code = main(["validate", str(scenario), "--quiet", *flags])
    return code, capsys.readouterr().err


def _tiny(tmp_path: Path, old: str, new: str) -> Path:
    assert old in SCENARIO
    return write_tiny_scenario(tmp_path / "tiny", SCENARIO.replace(old, new))


# ---------------------------------------------------------------------------------------------
# break 8: scenario files that are not UTF-8 text
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "named"),
    [
        ("latin-1", "Latin-1"),
        ("utf-16", "UTF-16"),
        ("binary", "binary"),
    ],
)
def test_a_scenario_not_in_utf8_is_one_line_naming_the_encoding(
    tiny_scenario: Path, capsys, encoding: str, named: str
) -> None:
    text = tiny_scenario.read_text().replace('name = "tiny"', 'name = "Zürich"')
    if encoding == "binary":
        tiny_scenario.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    else:
        tiny_scenario.write_bytes(text.encode(encoding))
    code, err = _validate(tiny_scenario, capsys)
    line = _one_error_line(err)
    assert code == SCENARIO_ERROR
    assert str(tiny_scenario) in line and named in line and "UTF-8" in line


def test_a_catalogue_not_in_utf8_is_named(tiny_scenario: Path, capsys) -> None:
    catalogue = tiny_scenario.parent / "chargers.toml"
    catalogue.write_bytes(("# Ladesäulen\n" + catalogue.read_text()).encode("latin-1"))
    code, err = _validate(tiny_scenario, capsys)
    line = _one_error_line(err)
    assert code == SCENARIO_ERROR and str(catalogue) in line and "charger catalogue" in line


def test_a_utf8_byte_order_mark_is_accepted(tiny_scenario: Path, capsys) -> None:
    tiny_scenario.write_bytes(b"\xef\xbb\xbf" + tiny_scenario.read_bytes())
    code, err = _validate(tiny_scenario, capsys)
    assert code == 0, err


@pytest.mark.parametrize("value", ["42", "[1, 2]", "{ file = 'x.toml' }", "''", "true"])
def test_a_catalogue_key_that_is_not_a_path_is_one_line(tmp_path: Path, capsys, value: str) -> None:
    scenario = _tiny(
        tmp_path, 'charger_catalogue = "chargers.toml"', f"charger_catalogue = {value}"
    )
    code, err = _validate(scenario, capsys)
    line = _one_error_line(err)
    assert code == SCENARIO_ERROR and "'charger_catalogue'" in line and str(scenario) in line
