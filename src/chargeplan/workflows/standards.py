"""A service standard as a number: the urban reach, every other reach scaled with it (the
points of ``chargeplan curve --service-standards``,
:func:`chargeplan.workflows.curve.service_curve`).

The service standard of a scenario is its reach (``docs/service.md``): with
``[reach.standard]`` the distance (or travel time) within which each settlement type's users
must have a station, else the one ``reach.service_radius_km`` of every zone. A curve over
service standards varies it by one number, the urban reach, and keeps the ratios between the
types: a standard of 3 / 10 / 25 km (urban / suburban / rural) at urban 2 km is 2 / 6.67 /
16.67 km. The demand and the coverage targets (``[reach.targets]``) stay as they are.
"""

from __future__ import annotations

import math
from typing import Any

from chargeplan.config.scenario import Scenario
from chargeplan.config.service import SETTLEMENT_TYPES
from chargeplan.errors import ScenarioError

__all__ = ["parse_standards", "reach_unit", "scaled_reach"]


def scaled_reach(scenario: Scenario, urban: float) -> dict[str, Any]:
    """The scenario changes that set a service standard: the urban reach ``urban`` (km, or
    minutes for a travel-time standard) and every other reach scaled by the same factor.

    With ``[reach.standard]`` the suburban and rural reach keep their ratio to the urban one
    (the default 3 / 10 / 25 km at ``urban = 2`` becomes 2 / 6.67 / 16.67 km); the settlement
    types and any ``[reach.targets]`` stay as they are. Without it every zone has the one reach
    ``reach.service_radius_km``, which becomes ``urban``.

    Raises
    ------
    ScenarioError
        For a scenario whose pairs come from ``reach.cost_table`` (no reach to scale).
    """
    reach = scenario.reach
    if reach.cost_table is not None:
        raise ScenarioError(
            f"scenario {scenario.name}: reach.cost_table lists its own pairs, so there is no "
            "service standard to vary: give [reach.standard] or reach.service_radius_km instead"
        )
    standard = reach.standard
    if standard is None:
        return {
            "reach.service_radius_km": float(urban),
            "name": f"{scenario.name} reach={urban:g}km",
        }
    name = f"{scenario.name} urban={urban:g}{'min' if standard.minutes else 'km'}"
    factor = float(urban) / standard.reach("urban")
    unit = reach_unit(scenario)
    scaled = {f"{t}_{unit}": standard.reach(t) * factor for t in SETTLEMENT_TYPES}
    return {"reach.standard": {**standard.model_dump(), **scaled}, "name": name}


def reach_unit(scenario: Scenario) -> str:
    """``minutes`` for a travel-time standard, else ``km``."""
    standard = scenario.reach.standard
    return "minutes" if standard is not None and standard.minutes else "km"


def parse_standards(text: str) -> list[float]:
    """Read ``--service-standards``: a comma-separated list of urban reaches, ``"2, 3, 5"``.

    Raises
    ------
    ScenarioError
        For anything that is not a positive number, naming it and the unit.
    """
    values = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            value = float(item)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise ScenarioError(
                f"'{item}' is not a service standard: give the urban reach as a positive number "
                "of km (minutes for a travel-time standard), e.g. --service-standards 2,3,5"
            )
        values.append(value)
    if not values:
        raise ScenarioError(f"no service standards in '{text}': give a list such as 2,3,5")
    return values
