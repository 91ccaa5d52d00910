"""Exact clean-up of a plan that HiGHS returned before proving it optimal.

A plan stopped at a time limit can keep sites open that serve nobody: HiGHS's rounding
heuristics at the root node set a site's opening variable to 1 and nothing forces it back. On
the Shenzhen scenario (``docs/shenzhen.md``) 72 of 342 open stations were such, at CNY 57.6 M of
fixed cost. :func:`close_idle_sites` closes them: every constraint still holds (nothing flows
through them, and closing only lowers capex and the number of sites), so the result is a plan
of the same model that costs less by exactly what those sites cost, with the gap to HiGHS's
bound recomputed. An optimal plan has no such site to close.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from chargeplan.model.designs import charger_capex
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution

log = logging.getLogger(__name__)


def close_idle_sites(problem: FacilityProblem, solution: Solution) -> Solution:
    """Close the open sites that serve no demand and must not stay open.

    A site is closed when it is open, serves nothing over any pair and type, is neither
    required nor holding existing chargers, and has no minimum charger count. Its new chargers
    and grid upgrade go with it.

    Parameters
    ----------
    problem
        The problem the plan solves.
    solution
        A plan of it (``min_cost`` objective; others are returned unchanged).

    Returns
    -------
    Solution
        The same plan with those sites closed, its objective lowered by their fixed, charger
        and upgrade costs and its gap recomputed against the same bound; ``solution`` itself
        if there is nothing to close.
    """
    if problem.objective != "min_cost" or not solution.open_site.any():
        return solution
    served = np.zeros(len(problem.site_ids))
    np.add.at(served, problem.pair_site, solution.served.sum(axis=1))
    idle = (
        solution.open_site
        & (served <= 1e-9)
        & ~problem.must_open
        & (problem.min_chargers.sum(axis=1) == 0)
    )
    if not idle.any():
        return solution
    chargers = solution.chargers.copy()
    saved = (
        float(problem.fixed_cost[idle].sum())
        + float(charger_capex(problem, chargers)[idle].sum())
        + float(problem.grid_upgrade_cost[idle] @ solution.grid_upgrade[idle])
    )
    chargers[idle] = problem.existing_chargers[idle]
    objective = solution.objective - saved
    log.info(
        "closed %d open sites that serve nothing (saves %.4g); the plan was %s",
        int(idle.sum()),
        saved,
        solution.status,
    )
    return dataclasses.replace(
        solution,
        open_site=solution.open_site & ~idle,
        chargers=chargers,
        grid_upgrade=solution.grid_upgrade & ~idle,
        objective=objective,
        gap=abs(objective - solution.bound) / max(abs(objective), 1e-9),
    )
