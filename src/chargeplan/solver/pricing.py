r"""The price of a national budget or site limit that couples the regions.

Each region solves :math:`\min\; cost_r + \lambda\, capex_r` (:func:`priced_problem`); the price
:math:`\lambda` is bracketed and bisected (:class:`PriceSearch`) so that the merged plan keeps
within the limit, and every price gives the Lagrangian lower bound
:math:`\sum_r \underline{z}_r(\lambda) - \lambda B`. See :mod:`chargeplan.solver.decompose`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from chargeplan.errors import InputError
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution, objective_value

if TYPE_CHECKING:
    pass


log = logging.getLogger(__name__)


def priced_problem(problem: FacilityProblem, price: float, resource: str) -> FacilityProblem:
    if price == 0:
        return problem
    if resource == "capex":
        scale = 1.0 + price
        return dataclasses.replace(
            problem,
            fixed_cost=problem.fixed_cost * scale,
            charger_cost=problem.charger_cost * scale,
            grid_upgrade_cost=problem.grid_upgrade_cost * scale,
            design_capex=None if problem.design_capex is None else problem.design_capex * scale,
        )
    return dataclasses.replace(problem, fixed_cost=problem.fixed_cost + price)


def resource_usage(problem: FacilityProblem, solution: Solution, resource: str) -> float:
    if resource == "capex":
        return objective_value(problem, solution)["capex"]
    return float(solution.open_site.sum())


class PriceSearch:
    """Bisection on the price of the coupling resource (capex or sites), keeping the cheapest
    plan within the limit and the best Lagrangian bound ``sum_r z_r(price) - price * limit``."""

    def __init__(
        self,
        problem: FacilityProblem,
        resource: str,
        limit: float,
        solve_at: Callable[[float], Solution],
        plain: Solution,
    ) -> None:
        self.problem, self.resource, self.limit = problem, resource, limit
        self.solve_at, self.plain = solve_at, plain
        self.steps: list[dict[str, float]] = []
        self.best: tuple[float, float, Solution] | None = None  # (cost, price, plan)
        self.dual = plain.bound

    def evaluate(self, price: float) -> float:
        """Plan at ``price``; record it; return its use of the resource."""
        priced = self.plain if price == 0 else self.solve_at(price)
        usage = resource_usage(self.problem, priced, self.resource)
        cost = objective_value(self.problem, priced)["total_cost"]
        self.dual = max(self.dual, priced.bound - price * self.limit)
        self.steps.append(
            {"price": price, "usage": usage, "limit": self.limit, "cost": cost, "dual": self.dual}
        )
        log.info(
            "decompose: price %.4g -> %s %.4g of %.4g, cost %.4g, best bound %.4g",
            price,
            self.resource,
            usage,
            self.limit,
            cost,
            self.dual,
        )
        if usage <= self.limit * (1 + 1e-9) and (self.best is None or cost < self.best[0]):
            self.best = (cost, price, priced)
        return usage

    def run(self, price_steps: int) -> tuple[float, float, Solution]:
        """Bracket the price, then bisect ``price_steps`` times; the best (cost, price, plan)."""
        limit = self.limit
        self.evaluate(0.0)
        low = 0.0
        high = 1.0 if self.resource == "capex" else float(np.mean(self.problem.fixed_cost) or 1.0)
        while self.evaluate(high) > limit * (1 + 1e-9):
            low, high = high, high * 4
            if high > 1e12:
                raise InputError(
                    f"no price brings the plan within {self.resource} limit {limit:g}: the "
                    "sites that must open exceed it"
                )
        for _ in range(price_steps):
            middle = (low + high) / 2
            usage = self.evaluate(middle)
            if usage > limit * (1 + 1e-9):
                low = middle
            else:
                high = middle
                if usage >= limit * (1 - 1e-3):
                    break
        assert self.best is not None
        return self.best
