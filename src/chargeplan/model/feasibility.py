"""Checks that an instance's hard limits can hold together, before any model is built."""

from __future__ import annotations

import numpy as np

from chargeplan.errors import InputError
from chargeplan.model.problem import FacilityProblem


def check_feasibility(problem: FacilityProblem) -> None:
    """Refuse, before any solve, hard limits that contradict each other; name the inputs.

    Raises
    ------
    InputError
        For a site both required and excluded (or excluded while holding chargers), existing or
        minimum chargers above a site's charger, stall or grid limit, more must-open sites than
        ``max_sites``, or must-open capex above the budget.
    """
    ids = problem.site_ids

    def named(mask: np.ndarray) -> str:
        shown = [str(v) for v in ids[mask][:5]]
        more = int(mask.sum()) - len(shown)
        return ", ".join(shown) + (f" and {more} more" if more > 0 else "")

    mandatory = problem.must_open
    clash = mandatory & problem.excluded
    if clash.any():
        raise InputError(
            f"sites {named(clash)} are excluded but required or holding existing chargers: "
            "drop them from the exclusions or from the requirements"
        )
    floor = np.maximum(problem.existing_chargers, problem.min_chargers)
    over = (floor > problem.max_chargers).any(axis=1)
    if over.any():
        raise InputError(
            f"sites {named(over)}: existing or minimum chargers exceed the site's max_<type>: "
            "raise max_<type> or lower min_<type>"
        )
    stalls = floor.sum(axis=1) > problem.max_stalls
    if stalls.any():
        raise InputError(
            f"sites {named(stalls)}: existing or minimum chargers exceed max_stalls: "
            "raise max_stalls or lower min_<type>"
        )
    power = floor @ problem.charger_power_kw
    grid = power > problem.grid_kw + problem.grid_upgrade_kw
    grid_forced = grid & mandatory
    if grid_forced.any():
        j = np.flatnonzero(grid_forced)[0]
        raise InputError(
            f"sites {named(grid_forced)}: the chargers they must hold need "
            f"{power[j]:,.0f} kW but grid_kw + grid_upgrade_kw is "
            f"{problem.grid_kw[j] + problem.grid_upgrade_kw[j]:,.0f} kW (site {ids[j]}): "
            "raise grid_kw or grid_upgrade_kw, lower min_<type>, or drop the requirement"
        )
    if problem.max_sites is not None and mandatory.sum() > problem.max_sites:
        raise InputError(
            f"{int(mandatory.sum())} sites must open (required or with existing chargers: "
            f"{named(mandatory)}) but max_sites is {problem.max_sites}: raise max_sites or drop "
            "requirements"
        )
    if problem.budget is not None:
        # What must be spent whatever the plan: fixed costs of must-open sites, their minimum
        # chargers beyond the existing ones, and grid upgrades those minimums force.
        new_floor = np.maximum(problem.min_chargers - problem.existing_chargers, 0)
        upgrade = mandatory & (power > problem.grid_kw)
        # with station designs the floor is bought as a design, whose capex is not per charger
        floor_cost = 0.0 if problem.designs else (problem.charger_cost * new_floor).sum(axis=1)
        per_site = (
            mandatory * (problem.fixed_cost + floor_cost) + upgrade * problem.grid_upgrade_cost
        )
        need = float(per_site.sum())
        if need > problem.budget * (1 + 1e-9):
            raise InputError(
                f"the sites that must open ({named(per_site > 0)}) alone cost CNY {need:,.0f} "
                f"(fixed costs, minimum chargers, forced grid upgrades) but the budget is CNY "
                f"{problem.budget:,.0f}: raise model.budget_cny or drop requirements"
            )
