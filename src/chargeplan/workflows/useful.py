"""Whether a plan is worth publishing: one that serves none of a positive demand is not.

A MILP stopped by its time limit may hold only the trivial plan (no site, every kWh unmet: it
is always feasible), and a plan whose numbers are out of scale (a target of 1e15 users) can come
back "optimal" with nothing built. Written as a run's outputs, such a plan would replace a good
plan in the same folder with exit 0. :func:`check_useful_plan` refuses it with an
:class:`~chargeplan.errors.EmptyPlanError` (exit 7) saying why it is empty, before anything is
written, unless the caller allows it (``--allow-empty-plan``).
"""

from __future__ import annotations

from typing import Any

from chargeplan.config.scenario import Scenario
from chargeplan.errors import EmptyPlanError

__all__ = ["check_useful_plan"]

#: Coverage below this is none: the unmet demand is the whole demand up to rounding.
_NONE_SERVED = 1e-9


def check_useful_plan(summary: dict[str, Any], scenario: Scenario) -> None:
    """Raise :class:`EmptyPlanError` if the plan of ``summary`` serves none of its demand.

    A plan without demand (no zone with users) is not empty; a plan that serves any kWh is
    useful, however little (its gaps say why the rest is not served).
    """
    demand = summary.get("demand_kwh")
    coverage = summary.get("coverage")
    if demand is None or coverage is None or demand <= 0 or coverage >= _NONE_SERVED:
        return
    status = summary.get("status", "unknown")
    if status != "optimal":
        why = (
            f"HiGHS stopped ({status}) before it found a plan that serves anyone: raise "
            f"solver.time_limit_s (now {scenario.solver.time_limit_s:g} s)"
        )
    else:
        why = (
            "serving nothing came out cheapest: check the target "
            f"({scenario.users.target_premium_users:,.0f}), budget, site limits, reach and "
            f"model.unmet_penalty_cny_per_kwh ({scenario.model.unmet_penalty_cny_per_kwh:g})"
        )
    raise EmptyPlanError(
        f"scenario {scenario.name}: the plan serves none of the {demand:,.0f} kWh of peak-hour "
        f"demand ({summary.get('sites_opened', 0)} sites, {status}); {why}. Nothing written, "
        "the output folder kept; --allow-empty-plan writes it"
    )
