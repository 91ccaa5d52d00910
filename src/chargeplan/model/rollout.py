r"""The multi-year rollout model: one facility-location period per year, linked in time.

:class:`RolloutProblem` holds one :class:`~chargeplan.model.problem.FacilityProblem` per year
(same sites and pairs); :func:`build_rollout` stacks their periods (:func:`~chargeplan.model.
formulation.add_period`) and links them: a site open in year t stays open, chargers never
decrease, and each year's capex is its additions, discounted. The solve, with its year-by-year
start, is :mod:`chargeplan.solver.rollout`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from chargeplan.errors import InputError
from chargeplan.model.constraints import add_site_limit
from chargeplan.model.feasibility import check_feasibility
from chargeplan.model.formulation import add_period
from chargeplan.model.index import ModelIndex
from chargeplan.model.objective import capex_vector, cost_vector
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.sparse import SparseMILP


@dataclass(frozen=True)
class RolloutProblem:
    """A multi-year instance: one :class:`FacilityProblem` per year, same sites and pairs.

    Attributes
    ----------
    years
        Calendar years, increasing.
    periods
        One problem per year; their ``budget`` is that year's capex budget (``None``: none).
    discount_rate
        Yearly rate :math:`\\rho` for discounting costs to the first year.
    site_opex
        ``(S,)`` operating cost per open site and year.
    charger_opex
        ``(K,)`` operating cost per charger and year.
    """

    years: tuple[int, ...]
    periods: tuple[FacilityProblem, ...]
    discount_rate: float = 0.0
    site_opex: np.ndarray | None = None
    charger_opex: np.ndarray | None = None

    def __post_init__(self) -> None:
        if len(self.years) != len(self.periods) or not self.periods:
            raise InputError("rollout: give one problem per year, at least one year")
        if any(b <= a for a, b in zip(self.years, self.years[1:], strict=False)):
            raise InputError(f"rollout: years must increase, got {list(self.years)}")
        first = self.periods[0]
        for year, p in zip(self.years, self.periods, strict=True):
            if (
                not np.array_equal(p.site_ids, first.site_ids)
                or not np.array_equal(p.pair_zone, first.pair_zone)
                or not np.array_equal(p.pair_site, first.pair_site)
                or p.types != first.types
            ):
                raise InputError(f"rollout: year {year} has other sites, pairs or types")
            if p.objective != "min_cost":
                raise InputError("rollout: only the min_cost objective is supported")
            if p.designs:
                raise InputError("rollout: station designs are not supported in a rollout yet")
            for name in ("fixed_cost", "charger_cost", "grid_upgrade_cost", "existing_chargers"):
                if not np.array_equal(getattr(p, name), getattr(first, name)):
                    raise InputError(
                        f"rollout: year {year} has another {name} than year {self.years[0]}: "
                        "prices and existing chargers must be the same in every year"
                    )
        s, k = len(first.site_ids), len(first.types)
        if self.site_opex is None:
            object.__setattr__(self, "site_opex", np.zeros(s))
        if self.charger_opex is None:
            object.__setattr__(self, "charger_opex", np.zeros(k))

    @property
    def discount(self) -> np.ndarray:
        """Discount factor of each year relative to the first."""
        years = np.asarray(self.years, float)
        return (1.0 + self.discount_rate) ** -(years - years[0])


def build_rollout(problem: RolloutProblem) -> tuple[SparseMILP, list[ModelIndex]]:
    """Assemble the multi-year model as sparse arrays: periods, links, budgets, objective.

    Each year's blocks and families carry the year as a suffix and the period's labels, so
    the Pyomo model (:meth:`~chargeplan.model.sparse.SparseMILP.to_pyomo`) reads
    ``model.y_2027["SH-01"]``, ``model.n_2030["SH-01", "dc_fast"]``,
    ``model.keep_n_2028["SH-01", "dc_fast"]``; the objective ``obj`` includes the discounted
    existing chargers' constant.
    """
    # Required sites open in the first year and are paid from its budget only.
    check_feasibility(problem.periods[0])
    for p in problem.periods[1:]:
        check_feasibility(replace(p, budget=None))
    pattern = np.max(np.stack([p.demand for p in problem.periods]), axis=0)
    lp = SparseMILP()
    index = [
        add_period(lp, p, tag=f"_{year}", pattern=pattern)
        for year, p in zip(problem.years, problem.periods, strict=True)
    ]
    n_cols = lp.n_cols
    delta = problem.discount
    nxt = np.append(delta[1:], 0.0)
    objective = np.zeros(n_cols)
    offset = 0.0
    site_opex, charger_opex = problem.site_opex, problem.charger_opex
    assert site_opex is not None and charger_opex is not None  # filled in __post_init__
    for t, (p, ix) in enumerate(zip(problem.periods, index, strict=True)):
        year_cost, _ = cost_vector(p, ix, n_cols)
        capex, _ = capex_vector(p, ix, n_cols)
        running = year_cost - capex  # access and unmet penalty of this year
        objective += delta[t] * running + (delta[t] - nxt[t]) * capex
        objective[ix.cols("y")] += delta[t] * site_opex[ix.y_site]
        objective[ix.cols("n")] += delta[t] * charger_opex[ix.n_type]
        if t == 0:
            existing = p.existing_chargers[ix.n_site, ix.n_type]
            offset -= delta[0] * float(p.charger_cost[ix.n_site, ix.n_type] @ existing)
        if t > 0:
            before = index[t - 1]
            for block in ("y", "n", "g"):
                now, then = ix.cols(block), before.cols(block)
                rows = np.arange(len(now))
                lp.add_rows(
                    f"keep_{block}_{problem.years[t]}",
                    len(now),
                    np.tile(rows, 2),
                    np.concatenate([now, then]),
                    np.concatenate([np.ones(len(now)), -np.ones(len(now))]),
                    0.0,
                    None,
                    labels=f"{block}_{problem.years[t]}",
                )
        if p.budget is not None:
            used = np.flatnonzero(capex)
            values = capex[used]
            rhs = p.budget
            if t > 0:
                prev_capex, _ = capex_vector(problem.periods[t - 1], index[t - 1], n_cols)
                prev = np.flatnonzero(prev_capex)
                used = np.concatenate([used, prev])
                values = np.concatenate([values, -prev_capex[prev]])
            else:
                existing = p.existing_chargers[ix.n_site, ix.n_type]
                rhs += float(p.charger_cost[ix.n_site, ix.n_type] @ existing)
            lp.add_rows(
                f"budget_{problem.years[t]}",
                1,
                np.zeros(len(used), np.int64),
                used,
                values,
                None,
                rhs,
            )
        if p.max_sites is not None:
            add_site_limit(lp, ix, p.max_sites, name=f"max_sites_{problem.years[t]}")
    lp.objective, lp.objective_offset = objective, offset
    return lp, index
