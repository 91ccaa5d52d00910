"""Hostile scenario values, files and solver settings (issue 14, breaks 3, 7, 8, 12 and 15):
every mistake is one line naming the file and the key, before anything is solved; a crash of
native code costs one batch job, not the batch; a useless plan is an error, not a result.

Each test names the break of issue 14 it keeps fixed; each failed before the fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chargeplan.cli import main
from chargeplan.workflows.batch import run_task

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


# ---------------------------------------------------------------------------------------------
# break 12: values refused at validation, naming the key and the cause
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("km_per_user_day = 50", "km_per_user_day = inf", "demand.km_per_user_day"),
        ("peak_hour_share = 0.1", "peak_hour_share = nan", "demand.peak_hour_share"),
        ("car = 1.0", "car = inf", "users.propensity.car"),
        ("car = 1.0", "car = -inf", "users.propensity.car"),
        ("fixed_cost_cny = 10000", "fixed_cost_cny = inf", "sites.fixed_cost_cny"),
        ("dc_fast = 50", "dc_fast = inf", "sites.max_chargers.dc_fast"),
        ("time_limit_s = 60", "time_limit_s = inf", "solver.time_limit_s"),
        ("service_radius_km = 30", "service_radius_km = nan", "reach.service_radius_km"),
    ],
)
def test_non_finite_scenario_values_are_refused_naming_the_key(
    tmp_path: Path, capsys, old: str, new: str, key: str
) -> None:
    code, err = _validate(_tiny(tmp_path, old, new), capsys)
    line = _one_error_line(err)
    assert code == SCENARIO_ERROR and f"'{key}'" in line and "finite" in line


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_non_finite_catalogue_values_are_refused_naming_the_file(
    tiny_scenario: Path, capsys, value: str
) -> None:
    catalogue = tiny_scenario.parent / "chargers.toml"
    catalogue.write_text(catalogue.read_text().replace("capex_cny = 1000", f"capex_cny = {value}"))
    code, err = _validate(tiny_scenario, capsys)
    line = _one_error_line(err)
    assert code == SCENARIO_ERROR and str(catalogue) in line and "capex_cny" in line
    assert "sites" not in line


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("target_premium_users = 1000", 'target_premium_users = "1000"', "target_premium_users"),
        ("target_premium_users = 1000", "target_premium_users = true", "target_premium_users"),
        ("km_per_user_day = 50", 'km_per_user_day = "50"', "demand.km_per_user_day"),
        ("car = 1.0", 'car = "1.0"', "users.propensity': entry 'car'"),
        ("time_limit_s = 60", 'time_limit_s = "60"', "solver.time_limit_s"),
        ("time_limit_s = 60", 'time_limit_s = 60\nthreads = "4"', "solver.threads"),
    ],
)
def test_numbers_written_as_text_are_refused(
    tmp_path: Path, capsys, old: str, new: str, key: str
) -> None:
    code, err = _validate(_tiny(tmp_path, old, new), capsys)
    line = _one_error_line(err)
    assert code == SCENARIO_ERROR and key in line and "expected a number" in line


def test_a_number_as_text_in_the_catalogue_is_refused(tiny_scenario: Path, capsys) -> None:
    catalogue = tiny_scenario.parent / "chargers.toml"
    catalogue.write_text(catalogue.read_text().replace("power_kw = 100", 'power_kw = "100"'))
    code, err = _validate(tiny_scenario, capsys)
    line = _one_error_line(err)
    assert code == SCENARIO_ERROR and "power_kw" in line and "expected a number" in line


def test_a_penalty_beyond_what_highs_can_weigh_is_refused_with_the_reason(
    tmp_path: Path, capsys
) -> None:
    scenario = _tiny(
        tmp_path, "unmet_penalty_cny_per_kwh = 5000", "unmet_penalty_cny_per_kwh = 1e300"
    )
    code, err = _validate(scenario, capsys)
    line = _one_error_line(err)
    assert code == SCENARIO_ERROR and "model.unmet_penalty_cny_per_kwh" in line
    assert "1e+12" in line and "time limit" not in line


def test_the_largest_penalty_allowed_still_solves(tmp_path: Path, capsys) -> None:
    scenario = _tiny(
        tmp_path, "unmet_penalty_cny_per_kwh = 5000", "unmet_penalty_cny_per_kwh = 1e12"
    )
    assert main(["run", str(scenario), "--out", str(tmp_path / "out"), *RUN]) == 0
    assert "0 sites" not in capsys.readouterr().out


def test_zero_population_is_named_as_such(tiny_scenario: Path, capsys) -> None:
    import geopandas as gpd

    zones_file = tiny_scenario.parent / "zones.geojson"
    zones = gpd.read_file(zones_file)
    zones["pop"] = 0.0
    zones.to_file(zones_file, driver="GeoJSON")
    code, err = _validate(tiny_scenario, capsys)
    line = _one_error_line(err)
    assert code == 4 and "'pop'" in line and "population" in line and "propensity" not in line


# ---------------------------------------------------------------------------------------------
# break 3 (validation): a thread count HiGHS cannot start
# ---------------------------------------------------------------------------------------------


def test_too_many_threads_on_the_command_line_is_refused_by_validate(
    tiny_scenario: Path, capsys
) -> None:
    code, err = _validate(tiny_scenario, capsys, "--threads", "100000")
    line = _one_error_line(err)
    assert code == SCENARIO_ERROR and "solver.threads" in line and "at most 256" in line


def test_too_many_threads_in_the_scenario_is_refused(tmp_path: Path, capsys) -> None:
    scenario = _tiny(tmp_path, "time_limit_s = 60", "time_limit_s = 60\nthreads = 100000")
    code, err = _validate(scenario, capsys)
    line = _one_error_line(err)
    assert code == SCENARIO_ERROR and "solver.threads" in line and str(scenario) in line


def test_a_thread_count_within_the_bound_is_accepted(tiny_scenario: Path, capsys) -> None:
    code, err = _validate(tiny_scenario, capsys, "--threads", "256")
    assert code == 0, err


# ---------------------------------------------------------------------------------------------
# break 15: Dask scheduler addresses, and TLS for a shared cluster
# ---------------------------------------------------------------------------------------------

DECOMPOSED = ["--decompose", "components"]


@pytest.mark.parametrize(
    "address",
    [
        "http://10.0.0.5:8786",
        "ucx://10.0.0.5:8786",
        "inproc://x:1",
        "tcp://",
        "tcp://:8786",
        "tcp://host:0",
        "tcp://host:99999",
        "tcp://host",
        "tcp://ho st:8786",
        "tls://host:8786",  # TLS without its certificate files
    ],
)
def test_a_bad_scheduler_address_is_one_line(tiny_scenario: Path, capsys, address: str) -> None:
    code, err = _validate(tiny_scenario, capsys, *DECOMPOSED, "--scheduler", address)
    line = _one_error_line(err)
    assert code == SCENARIO_ERROR and "'decompose" in line and "scheduler" in line


@pytest.mark.parametrize("address", ["http://10.0.0.5:8786", "ucx://10.0.0.5:8786"])
def test_run_with_a_bad_scheduler_scheme_stops_before_solving(
    tiny_scenario: Path, tmp_path: Path, capsys, address: str
) -> None:
    out = tmp_path / "out"
    code = main(["run", str(tiny_scenario), "--out", str(out), *RUN, *DECOMPOSED,
                 "--scheduler", address])  # fmt: skip
    line = _one_error_line(capsys.readouterr().err)
    assert code == SCENARIO_ERROR and address.split(":")[0] in line and not out.exists()


def test_good_scheduler_addresses_are_kept() -> None:
    from chargeplan.config.scale import scheduler_address

    assert scheduler_address("10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    assert scheduler_address(" TCP://node-1.example.org:8786 ") == "tcp://node-1.example.org:8786"
    assert scheduler_address("tls://[::1]:8786") == "tls://[::1]:8786"


def _tls_scenario(tmp_path: Path) -> Path:
    scenario = write_tiny_scenario(tmp_path / "tiny")
    for name in ("ca.pem", "client.pem", "client.key"):
        (scenario.parent / name).write_text("-----BEGIN CERTIFICATE-----\n")
    with scenario.open("a") as handle:
        handle.write(
            '\n[decompose]\nby = "components"\nscheduler = "tls://10.0.0.5:8786"\n'
            'tls_ca_file = "ca.pem"\ntls_cert = "client.pem"\ntls_key = "client.key"\n'
        )
    return scenario


def test_tls_options_reach_the_dask_client(tmp_path: Path, monkeypatch) -> None:
    """The scenario's certificate files, resolved against its folder, are what the Dask
    ``Client`` is given (as a ``distributed.Security`` requiring encryption); no cluster runs:
    the fake client refuses the connection after recording its arguments."""
    import distributed

    from chargeplan.config.scenario import load_scenario
    from chargeplan.errors import ChargeplanError
    from chargeplan.solver.distributed import dask_executor

    scenario = load_scenario(_tls_scenario(tmp_path))
    seen: dict[str, object] = {}

    def fake_client(address: str, **kwargs: object) -> None:
        seen.update(kwargs, address=address)
        raise OSError("refused by the test")

    monkeypatch.setattr(distributed, "Client", fake_client)
    config = scenario.decompose
    with (
        pytest.raises(ChargeplanError, match="cannot reach the Dask scheduler"),
        dask_executor(config.scheduler, 2, config.security),
    ):
        pass
    security = seen["security"]
    assert seen["address"] == "tls://10.0.0.5:8786"
    assert isinstance(security, distributed.Security)
    assert security.tls_ca_file == str(tmp_path / "tiny" / "ca.pem")
    assert security.tls_client_cert == str(tmp_path / "tiny" / "client.pem")
    assert security.tls_client_key == str(tmp_path / "tiny" / "client.key")
    assert security.require_encryption


def test_tls_files_without_a_tls_scheduler_are_refused(tmp_path: Path, capsys) -> None:
    scenario = _tls_scenario(tmp_path)
    scenario.write_text(scenario.read_text().replace("tls://", "tcp://"))
    code, err = _validate(scenario, capsys)
    line = _one_error_line(err)
    assert code == SCENARIO_ERROR and "tls_ca_file" in line and "tls://" in line


def test_a_missing_tls_file_is_named(tmp_path: Path, capsys) -> None:
    scenario = _tls_scenario(tmp_path)
    (scenario.parent / "client.key").unlink()
    code, err = _validate(scenario, capsys)
    line = _one_error_line(err)
    assert code == SCENARIO_ERROR and "decompose.tls_key" in line and "not found" in line


# ---------------------------------------------------------------------------------------------
# break 3 (isolation): a crash of native code in one batch job
# ---------------------------------------------------------------------------------------------


def _crash_in_native_code(task):  # in the batch job's process: SIGABRT, as HiGHS aborted
    import os

    if "=2000" in task.name:
        os.abort()
    return run_task(task)


def test_a_job_that_crashes_is_recorded_and_the_batch_goes_on(
    tiny_scenario: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """Reproduced by ``chargeplan batch tiny.toml --set solver.threads=1,100000,2 --out b``:
    HiGHS aborted (SIGABRT) in the second job and took the batch with it (exit 134, no line, no
    third job), and every rerun died at the same job. The crash is real here (``os.abort`` in
    the job's process, where HiGHS aborted)."""
    import pandas as pd

    monkeypatch.setattr("chargeplan.workflows.batch.run_task", _crash_in_native_code)
    out = tmp_path / "batch"
    command = ["batch", str(tiny_scenario), "--set", "users.target_premium_users=1000,2000,3000",
               "--out", str(out), *RUN]  # fmt: skip
    assert main(command) == 128 + 6
    line = _one_error_line(capsys.readouterr().err)
    assert "1 of 3 batch jobs failed" in line and "SIGABRT" in line
    table = pd.read_csv(out / "batch.csv").set_index("name")
    assert list(table["status"]) == ["done", "failed", "done"]
    crashed = table.loc["tiny--target_premium_users=2000"]
    assert crashed["exit_code"] == 134 and "SIGABRT" in crashed["error"]
    assert not (out / "tiny--target_premium_users=2000").exists()
    # a rerun skips the complete jobs and records the crash again, the batch still whole
    assert main(command) == 134
    capsys.readouterr()
    table = pd.read_csv(out / "batch.csv").set_index("name")
    assert list(table["status"]) == ["skipped", "failed", "skipped"]
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def _raise_in_child(value: int) -> int:
    from chargeplan.errors import SolveError

    raise SolveError(f"no plan for {value}")


def _exit_in_child(value: int) -> int:
    import os

    os._exit(value)


def test_a_child_returns_its_result_or_its_error_or_how_it_died() -> None:
    from chargeplan.errors import SolveError
    from chargeplan.workflows.isolate import ChildDied, call_in_child

    assert call_in_child(abs, -3) == 3
    with pytest.raises(SolveError, match="no plan for 7"):
        call_in_child(_raise_in_child, 7)
    with pytest.raises(ChildDied, match="exited with status 9") as died:
        call_in_child(_exit_in_child, 9)
    assert died.value.exit_code == 9 and died.value.signal is None


# ---------------------------------------------------------------------------------------------
# break 7: a plan that serves nothing is an error, and never replaces a good plan
# ---------------------------------------------------------------------------------------------

EMPTY_PLAN = 7
HUGE_TARGET = ["--target", str(10**15)]


def test_a_plan_that_serves_nothing_is_an_error_and_keeps_the_previous_plan(
    tiny_scenario: Path, tmp_path: Path, capsys
) -> None:
    """Reproduced by ``chargeplan run tiny.toml --target 1000000000000000 --out plan`` over a
    good plan: an "optimal" plan of 0 sites, exit 0, the good plan replaced."""
    from chargeplan.outputs.manifest import sha256_file

    out = tmp_path / "plan"
    assert main(["run", str(tiny_scenario), "--out", str(out), *RUN]) == 0
    before = {p.name: sha256_file(p) for p in out.iterdir()}
    capsys.readouterr()
    assert main(["run", str(tiny_scenario), "--out", str(out), *RUN, *HUGE_TARGET]) == EMPTY_PLAN
    line = _one_error_line(capsys.readouterr().err)
    assert "serves none" in line and "--allow-empty-plan" in line
    assert {p.name: sha256_file(p) for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan", "tiny"]  # no staging left


def test_an_empty_plan_is_written_when_asked_for(
    tiny_scenario: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "plan"
    command = ["run", str(tiny_scenario), "--out", str(out), *RUN, *HUGE_TARGET]
    assert main([*command, "--allow-empty-plan"]) == 0
    assert "0 sites" in capsys.readouterr().out and (out / "manifest.json").is_file()


def test_an_empty_plan_fails_its_batch_job_only(
    tiny_scenario: Path, tmp_path: Path, capsys
) -> None:
    import pandas as pd

    out = tmp_path / "batch"
    command = ["batch", str(tiny_scenario), "--set", f"users.target_premium_users=1000,{10**15}",
               "--out", str(out), *RUN]  # fmt: skip
    assert main(command) == EMPTY_PLAN
    table = pd.read_csv(out / "batch.csv")
    assert list(table["status"]) == ["done", "failed"] and list(table["exit_code"]) == [0, 7]


def test_a_time_limited_empty_plan_says_to_raise_the_time_limit(tiny_scenario: Path) -> None:
    """``chargeplan run ... --time-limit 1`` on a large scenario: HiGHS stopped with only the
    trivial plan (every kWh unmet), published with exit 0. The tiny scenario solves at once, so
    the plan's summary stands for it."""
    from chargeplan.config.scenario import load_scenario
    from chargeplan.errors import EmptyPlanError
    from chargeplan.workflows.useful import check_useful_plan

    scenario = load_scenario(tiny_scenario).with_values({"solver.time_limit_s": 1})
    stopped = {"status": "time_limit", "demand_kwh": 500.0, "coverage": 0.0, "sites_opened": 0}
    with pytest.raises(EmptyPlanError, match=r"stopped \(time_limit\).*time_limit_s \(now 1 s\)"):
        check_useful_plan(stopped, scenario)
    check_useful_plan({**stopped, "coverage": 0.01}, scenario)  # serves someone: a plan
    check_useful_plan({**stopped, "demand_kwh": 0.0}, scenario)  # nothing to serve: a plan


# ---------------------------------------------------------------------------------------------
# properties: any text, any bytes
# ---------------------------------------------------------------------------------------------


@given(st.text(max_size=40))
def test_any_scheduler_text_is_an_address_or_a_value_error(text: str) -> None:
    from chargeplan.config.scale import scheduler_address

    try:
        address = scheduler_address(text)
    except ValueError as error:
        assert "scheduler" in str(error) and "\n" not in str(error)
    else:
        scheme, _, rest = address.partition("://")
        assert scheme in ("tcp", "tls") and 1 <= int(rest.rsplit(":", 1)[1]) <= 65535


@settings(max_examples=60)
@given(st.binary(max_size=200))
def test_any_bytes_are_a_table_or_one_scenario_error(data: bytes) -> None:
    import tempfile

    from chargeplan.config.files import read_toml
    from chargeplan.errors import ScenarioError

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenario.toml"
        path.write_bytes(data)
        try:
            assert isinstance(read_toml(path, "scenario"), dict)
        except ScenarioError as error:
            assert str(error).startswith(str(path)) and len(str(error).splitlines()) <= 1


def test_the_node_limit_is_a_scenario_key_checked_before_the_solve(tmp_path: Path, capsys) -> None:
    """``[solver] mip_max_nodes``: the work limit that lets a scenario's plan not depend on the
    clock (``models/china-2030.toml``) reaches the solver's options; 0 is refused by name."""
    from chargeplan.config.scenario import load_scenario
    from chargeplan.workflows.options import solver_options

    limited = _tiny(tmp_path / "a", "time_limit_s = 60", "time_limit_s = 60\nmip_max_nodes = 25")
    assert solver_options(load_scenario(limited)).mip_max_nodes == 25
    zero = _tiny(tmp_path / "b", "time_limit_s = 60", "time_limit_s = 60\nmip_max_nodes = 0")
    code, err = _validate(zero, capsys)
    line = _one_error_line(err)
    assert code == SCENARIO_ERROR and "solver.mip_max_nodes" in line
