"""Shared fixtures: a tiny scenario on disk, the default scenario's plan (solved once per
session), and the opt-in switch for slow tests.

Shared data and checks that are not fixtures live in helper modules next to this file
(``instances.py``, ``bruteforce.py``, ``folders.py``, ``solver_values.py``); test modules
import from those, never from one another (``test_suite_layout.py``).
"""

from __future__ import annotations

import os
import textwrap
import warnings
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

import chargeplan
from chargeplan.inputs.demand import DemandWarning

# pytest rewrites the asserts of test modules and conftest only: the helpers' asserts too, so
# that their failures show the values compared.
pytest.register_assert_rewrite(
    "tests.bruteforce", "tests.folders", "tests.instances", "tests.solver_values"
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIO = REPO / "models" / "china-2030.toml"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked slow unless CHARGEPLAN_SLOW=1."""
    if os.environ.get("CHARGEPLAN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with CHARGEPLAN_SLOW=1 pytest -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


CATALOGUE = """
[dc_fast]
power_kw = 100
capex_cny = 1000
session_kwh = 25
session_minutes = 15
max_utilisation = 0.5

[ac_destination]
power_kw = 10
capex_cny = 100
session_kwh = 10
session_minutes = 60
max_utilisation = 1.0
"""

SCENARIO = """
name = "tiny"
charger_catalogue = "chargers.toml"

[zones]
file = "zones.geojson"
id_column = "zone_id"
population_column = "pop"
region_column = "region"
centre_lon_column = ""
centre_lat_column = ""

[sites]
file = "sites.geojson"
id_column = "site_id"
fixed_cost_cny = 10000

[sites.max_chargers]
dc_fast = 50
ac_destination = 100

[users]
target_premium_users = 1000
[users.propensity]
car = 1.0

[demand]
km_per_user_day = 50
kwh_per_km = 0.2
apartment_share_column = "apartments"
home_charging_access_house = 1.0
home_charging_access_apartment = 0.0
public_share_with_home_charging = 0.0
public_share_without_home_charging = 1.0
peak_hour_share = 0.1

[demand.charger_mix]
dc_fast = 0.5
ac_destination = 0.5

[reach]
service_radius_km = 30
crs = "EPSG:32651"
detour_cost_cny_per_kwh_km = 1.0

[sizing]
rule = "linear"

[model]
unmet_penalty_cny_per_kwh = 5000

[solver]
time_limit_s = 60
mip_rel_gap = 0.0
"""


def write_tiny_scenario(folder: Path, scenario: str = SCENARIO) -> Path:
    """Four square zones near Shanghai (UTM 51N), three candidate sites, two charger types.

    Zone ``z4`` lies 200 km away from every site, so it is unreachable.
    """
    folder.mkdir(parents=True, exist_ok=True)
    x0, y0 = 350_000.0, 3_450_000.0  # metres in EPSG:32651
    squares = [box(x0 + dx, y0, x0 + dx + 10_000, y0 + 10_000) for dx in (0, 20_000, 40_000)]
    squares.append(box(x0 + 240_000, y0, x0 + 250_000, y0 + 10_000))
    zones = gpd.GeoDataFrame(
        {
            "zone_id": ["z1", "z2", "z3", "z4"],
            "pop": [1000.0, 2000.0, 1000.0, 500.0],
            "car": [0.5, 0.5, 1.0, 0.4],
            "apartments": [1.0, 1.0, 1.0, 1.0],
            "region": ["a", "a", "b", "b"],
        },
        geometry=squares,
        crs="EPSG:32651",
    ).to_crs("EPSG:4326")
    sites = gpd.GeoDataFrame(
        {"site_id": ["s1", "s2", "s3"], "name": ["one", "two", "three"]},
        geometry=[
            Point(x0 + 5_000, y0 + 5_000),
            Point(x0 + 25_000, y0 + 5_000),
            Point(x0 + 45_000, y0 + 5_000),
        ],
        crs="EPSG:32651",
    ).to_crs("EPSG:4326")
    zones.to_file(folder / "zones.geojson", driver="GeoJSON")
    sites.to_file(folder / "sites.geojson", driver="GeoJSON")
    (folder / "chargers.toml").write_text(textwrap.dedent(CATALOGUE))
    path = folder / "tiny.toml"
    path.write_text(textwrap.dedent(scenario))
    return path


@pytest.fixture
def tiny_scenario(tmp_path: Path) -> Path:
    """Path to the tiny scenario file (see :func:`write_tiny_scenario`)."""
    return write_tiny_scenario(tmp_path / "tiny")


@pytest.fixture(scope="session")
def default_plan() -> chargeplan.Plan:
    """The default scenario (``models/china-2030.toml``) planned in this process, once per
    session (about 30 s): test_pipeline checks its invariants, test_readme its README figures.

    With the scenario's solver options (0.2 % MIP gap, HiGHS's default threads): HiGHS is
    deterministic, so the same inputs give the same plan (checked with 1, 2 and the default
    number of threads: the same objective to the last digit).
    """
    scenario = chargeplan.load_scenario(DEFAULT_SCENARIO)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DemandWarning)  # three zones lack indicators: filled
        return chargeplan.plan_network(scenario)


@pytest.fixture
def step_five_as_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    """Step 5 of the design start without the roundings of the averaged openings, for the
    modules that check the later steps (windows, local search) from the dearer plans their
    tables were measured on: with the roundings, step 5 alone reaches the optimum on several
    of those seeds (tests/test_designstart.py). Used with ``pytest.mark.usefixtures``."""
    import chargeplan.solver.designstart as ds

    monkeypatch.setattr(ds, "AVERAGED_ROUNDINGS", ())
