"""Cold start (issue 13, item 5): the array path loads only what it needs.

``import chargeplan``, ``FacilityProblem.from_cost_matrix`` and ``chargeplan.solve`` in a fresh
process must not import pydantic (scenario validation), Pyomo (the modelling layer the array path
bypasses), SciPy, psutil, pandas or numpy.ma (which ``np.unique`` without index arrays imports);
``benchmarks/cold_start.py`` times the same path against raw highspy. The scenario path still
validates the ``[solver]`` table with pydantic's messages.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import chargeplan
from chargeplan.errors import ScenarioError

HEAVY = ("pydantic", "pydantic_core", "pyomo", "scipy", "psutil", "pandas")

SOLVE = (
    "import numpy as np, sys, chargeplan\n"
    "d = np.array([3.0, 4.0, 5.0]); c = np.array([[1.0, 9.0], [2.0, 2.0], [9.0, 1.0]])\n"
    "p = chargeplan.FacilityProblem.from_cost_matrix(d, np.array([5.0, 6.0]), c,\n"
    "    capacity=np.array([8.0, 9.0]))\n"
    "s = chargeplan.solve(p, chargeplan.SolverOptions(mip_rel_gap=0.0, threads=1))\n"
    "loaded = {{m.split('.')[0] for m in sys.modules}} & set({heavy!r})\n"
    "loaded |= {{'numpy.ma'}} & set(sys.modules)\n"
    "print(s.objective, ','.join(sorted(loaded)))"
)


def test_a_small_solve_through_the_public_api_loads_no_heavy_module():
    """A fresh process solving a 3-zone, 2-site CFLP loads none of :data:`HEAVY` nor numpy.ma.

    By hand: demand 12 exceeds either capacity (8, 9), so both sites open (5 + 6); zone 1 goes
    to site 1 (cost 1), zone 3 to site 2 (cost 1), zone 2 costs 2 at either: 11 + 4 = 15.
    """
    done = subprocess.run(
        [sys.executable, "-c", SOLVE.format(heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    objective, *loaded = done.stdout.split()
    assert float(objective) == 15.0
    assert loaded == []  # an empty join prints nothing after the objective


def test_the_solver_table_is_still_validated_with_pydantic_messages(tiny_scenario):
    """The constraints of ``[solver]`` hold although :mod:`chargeplan.config.solver` no longer
    imports pydantic: each bad value is refused with pydantic's message, under its key."""
    scenario = chargeplan.load_scenario(tiny_scenario)
    bad = {
        ("time_limit_s", 0): "greater than 0",
        ("mip_rel_gap", 1.0): "less than 1",
        ("threads", 0): "greater than or equal to 1",
        ("threads", 100_000): "at most 256",
        ("time_limit_s", "60"): "expected a number, got text",
        ("mip_rel_gap", float("inf")): "finite number",
        ("threads", True): "expected a number, got a boolean",
    }
    for (key, value), message in bad.items():
        with pytest.raises(ScenarioError, match=message) as caught:
            scenario.with_values({f"solver.{key}": value})
        assert f"solver.{key}" in str(caught.value)
    good = scenario.with_values({"solver.threads": 2, "solver.mip_rel_gap": 0.0})
    assert (good.solver.threads, good.solver.mip_rel_gap) == (2, 0.0)


def test_solver_options_take_the_scenario_section(tiny_scenario):
    """``SolverOptions.from_config`` copies the section's three settings and adds the switches."""
    scenario = chargeplan.load_scenario(tiny_scenario).with_values({"solver.threads": 3})
    options = chargeplan.SolverOptions.from_config(scenario.solver, log_to_stderr=True)
    assert (options.time_limit_s, options.mip_rel_gap, options.threads) == (
        scenario.solver.time_limit_s,
        scenario.solver.mip_rel_gap,
        3,
    )
    assert options.log_to_stderr and options.reduce and options.log_file is None
