"""OR-Library capacitated facility-location instances (``cap*`` files) read as
:class:`~chargeplan.model.problem.FacilityProblem`: shared by ``tests/test_orlib.py`` and
``tests/test_formulation_rule.py`` (a test module imports no test module:
``tests/test_suite_layout.py``). File format and sources: ``tests/test_orlib.py`` and
``tests/data/orlib/SOURCES.md``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from chargeplan.model.problem import FacilityProblem

DATA = Path(__file__).parent / "data" / "orlib"
CAPOPT = pd.read_csv(DATA / "capopt.csv").set_index("instance")
UNCAPOPT = pd.read_csv(DATA / "uncapopt.csv").set_index("instance")


@dataclass(frozen=True)
class CapInstance:
    capacity: np.ndarray  # (m,)
    fixed: np.ndarray  # (m,)
    demand: np.ndarray  # (n,)
    cost: np.ndarray  # (n, m): cost of serving all of customer j's demand from warehouse i


def read_cap(path: Path) -> CapInstance:
    """Parse an OR-Library ``cap`` file from its whitespace-separated tokens."""
    tokens = path.read_text().split()
    m, n = int(tokens[0]), int(tokens[1])
    assert len(tokens) == 2 + 2 * m + n * (1 + m), f"{path.name}: unexpected number of values"
    head = np.array(tokens[2 : 2 + 2 * m], dtype=float).reshape(m, 2)
    body = np.array(tokens[2 + 2 * m :], dtype=float).reshape(n, 1 + m)
    return CapInstance(capacity=head[:, 0], fixed=head[:, 1], demand=body[:, 0], cost=body[:, 1:])


def instance_path(name: str) -> Path:
    return DATA / CAPOPT.loc[name, "file"]


def to_problem(inst: CapInstance, capacity: str = "given") -> FacilityProblem:
    """``capacity``: ``"given"``, ``"inf"`` (column of inf) or ``"omit"`` (no column)."""
    n, m = inst.cost.shape
    zones = pd.DataFrame({"zone_id": [f"c{j}" for j in range(n)], "demand": inst.demand})
    sites = pd.DataFrame({"site_id": [f"w{i}" for i in range(m)], "fixed_cost": inst.fixed})
    if capacity == "given":
        sites["capacity"] = inst.capacity
    elif capacity == "inf":
        sites["capacity"] = np.inf
    customer, warehouse = np.divmod(np.arange(n * m), m)
    costs = pd.DataFrame(
        {
            "zone_id": zones["zone_id"].to_numpy()[customer],
            "site_id": sites["site_id"].to_numpy()[warehouse],
            "cost": inst.cost.ravel(),
        }
    )
    return FacilityProblem.from_cost_table(zones, sites, costs, cost_basis="total")
