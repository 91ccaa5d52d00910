"""Reference optima by enumeration, for instances small enough to try every design.

Nothing here touches chargeplan: every design is enumerated in plain Python and, where a design
leaves an assignment to choose, the linear program left over is written out here and solved
with :func:`scipy.optimize.linprog`.

- Sized instances (:class:`tests.instances.Instance`): a design is the charger counts
  ``n_jk = 0..M_jk`` (a site is open when it has a charger; an open site without chargers
  serves no one and costs ``f_j >= 0``, so nothing is lost) or, without sizing, the set of open
  sites. Fixing it leaves :class:`AssignmentLP`:

      min  sum c_ijk x_ijk + sum pi_k d_ik u_ik
      s.t. sum_j x_ijk + u_ik = 1;  sum_i d_ik x_ijk <= q_k n_jk;  sum_ik d_ik x_ijk <= C_j y_j;
           0 <= x_ijk <= y_j;  0 <= u_ik <= 1

  :func:`brute_min_cost` adds the design's capex ``sum f_j y_j + sum p_jk n_jk`` and takes the
  best; :func:`brute_max_coverage` first minimises unmet demand, then capex + access cost.
- The three-cluster instance (uncapacitated sites): for a set of open sites each zone takes the
  cheaper of its best open pair and the penalty, no LP needed (:func:`brute_clusters`).

:func:`unique_best` refuses a reference whose runner-up is within :data:`UNIQUE_MARGIN`, so
that comparing chargeplan's design with the reference's is meaningful.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from .instances import (
    CLUSTER_COSTS,
    CLUSTER_PENALTY,
    CLUSTER_SITES,
    CLUSTER_ZONES,
    SIZING,
    Instance,
)

#: The brute-force optimum must beat the next design by this relative margin.
UNIQUE_MARGIN = 1e-4


class AssignmentLP:
    """The LP left once a design (open sites, charger counts) is fixed.

    Columns: ``x[i, j, k]`` for every reachable pair and type with demand, then ``u[i, k]``
    for every zone and type with demand. Only the right-hand sides and the bounds depend on
    the design, so the matrices are built once.
    """

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        z, s, k = inst.shape
        d = inst.demand
        self.xs = [
            (i, j, t)
            for i in range(z)
            for j in range(s)
            for t in range(k)
            if not np.isnan(inst.cost[i, j, t]) and d[i, t] > 0
        ]
        self.us = [(i, t) for i in range(z) for t in range(k) if d[i, t] > 0]
        nx, nu = len(self.xs), len(self.us)
        self.nx, self.nu = nx, nu
        row_of = {key: r for r, key in enumerate(self.us)}
        a_eq = np.zeros((nu, nx + nu))
        for c, (i, _j, t) in enumerate(self.xs):
            a_eq[row_of[i, t], c] = 1.0
        a_eq[np.arange(nu), nx + np.arange(nu)] = 1.0
        self.a_eq = a_eq
        rows, self.kinds = [], []
        if inst.q is not None:  # sum_i d_ik x_ijk <= q_k n_jk
            for j, t in itertools.product(range(s), range(k)):
                row = np.zeros(nx + nu)
                for c, (i, jj, tt) in enumerate(self.xs):
                    if (jj, tt) == (j, t):
                        row[c] = d[i, t]
                rows.append(row)
                self.kinds.append(("chargers", j, t))
        for j in range(s):  # sum_ik d_ik x_ijk <= C_j y_j
            if np.isfinite(inst.capacity[j]):
                row = np.zeros(nx + nu)
                for c, (i, jj, t) in enumerate(self.xs):
                    if jj == j:
                        row[c] = d[i, t]
                rows.append(row)
                self.kinds.append(("site", j, None))
        unmet = np.zeros(nx + nu)  # sum_ik d_ik u_ik <= cap (coverage floor, lexicographic)
        unmet[nx:] = [d[i, t] for i, t in self.us]
        rows.append(unmet)
        self.kinds.append(("unmet", None, None))
        self.a_ub = np.array(rows)
        self.c_access = np.concatenate([[inst.cost[i, j, t] for i, j, t in self.xs], np.zeros(nu)])
        self.c_unmet = unmet
        self.c_penalty = unmet * np.concatenate(
            [np.zeros(nx), [inst.penalty[t] for _, t in self.us]]
        )

    def solve(
        self,
        open_site: np.ndarray,
        chargers: np.ndarray,
        objective: str,
        *,
        unmet_cap: float = np.inf,
        allow_unmet: bool = True,
    ) -> float | None:
        """Optimal LP value for the design, or ``None`` if infeasible.

        ``objective``: ``"cost"`` (access + penalty), ``"access"`` or ``"unmet"`` (demand).
        """
        inst = self.inst
        rhs = []
        for kind, j, t in self.kinds:
            if kind == "chargers":
                rhs.append(inst.q[t] * chargers[j, t])
            elif kind == "site":
                rhs.append(inst.capacity[j] * open_site[j])
            else:
                rhs.append(unmet_cap if np.isfinite(unmet_cap) else 1e30)
        upper = np.concatenate(
            [
                [1.0 if open_site[j] else 0.0 for _, j, _ in self.xs],
                np.full(self.nu, 1.0 if allow_unmet else 0.0),
            ]
        )
        c = {
            "cost": self.c_access + self.c_penalty,
            "access": self.c_access,
            "unmet": self.c_unmet,
        }[objective]
        res = linprog(
            c,
            A_ub=self.a_ub,
            b_ub=np.array(rhs),
            A_eq=self.a_eq,
            b_eq=np.ones(self.nu),
            bounds=np.column_stack([np.zeros_like(upper), upper]),
            method="highs",
        )
        if res.status == 2:
            return None
        assert res.status == 0, res.message
        return float(res.fun)


@dataclass(frozen=True)
class Design:
    open_site: np.ndarray
    chargers: np.ndarray
    capex: float
    min_cost: float | None = None  # capex + best access + penalty (min_cost objective)
    min_unmet: float | None = None  # least unmet demand this design allows


def designs(inst: Instance):
    """Every design: charger counts 0..M_jk with sizing, every subset of sites without."""
    s, k = len(inst.fixed), inst.demand.shape[1]
    if inst.q is None:
        for bits in itertools.product((False, True), repeat=s):
            open_site = np.array(bits)
            yield open_site, np.zeros((s, k), np.int64), float(inst.fixed @ open_site)
        return
    for flat in itertools.product(*(range(int(m) + 1) for m in inst.max_chargers.ravel())):
        chargers = np.array(flat, np.int64).reshape(inst.max_chargers.shape)
        open_site = chargers.sum(axis=1) > 0
        capex = float(inst.fixed @ open_site + (inst.charger_cost * chargers).sum())
        yield open_site, chargers, capex


@functools.cache
def design_table(name: str) -> list[Design]:
    """All designs of a sizing instance with their min-cost value and least unmet demand."""
    inst = SIZING[name]
    lp = AssignmentLP(inst)
    return [
        Design(y, n, capex, capex + lp.solve(y, n, "cost"), lp.solve(y, n, "unmet"))
        for y, n, capex in designs(inst)
    ]


def allowed(design: Design, budget: float | None, max_sites: int | None) -> bool:
    if budget is not None:
        # A design within rounding distance of the budget would make the reference ambiguous.
        assert abs(design.capex - budget) > 1e-3, "choose a budget away from every design's capex"
        if design.capex > budget:
            return False
    return max_sites is None or int(design.open_site.sum()) <= max_sites


def unique_best(scored: list[tuple[float, Design]]) -> tuple[float, Design]:
    """The best (value, design), after checking that no other design comes close."""
    scored = sorted(scored, key=lambda pair: pair[0])
    best_value, best = scored[0]
    if len(scored) > 1:
        margin = (scored[1][0] - best_value) / max(abs(best_value), 1.0)
        assert margin > UNIQUE_MARGIN, f"optimum not unique: runner-up within {margin:.2e}"
    return best_value, best


def brute_min_cost(name: str, budget=None, max_sites=None) -> tuple[float, Design]:
    return unique_best(
        [(d.min_cost, d) for d in design_table(name) if allowed(d, budget, max_sites)]
    )


def brute_max_coverage(name: str, budget=None, max_sites=None) -> tuple[float, float, Design]:
    """(least unmet demand, least capex + access at that coverage, the design)."""
    inst = SIZING[name]
    feasible = [d for d in design_table(name) if allowed(d, budget, max_sites)]
    least_unmet = min(d.min_unmet for d in feasible)
    lp = AssignmentLP(inst)
    level = least_unmet + 1e-7
    second_stage = [
        (d.capex + lp.solve(d.open_site, d.chargers, "access", unmet_cap=level), d)
        for d in feasible
        if d.min_unmet <= level
    ]
    cost, design = unique_best(second_stage)
    return least_unmet, cost, design


def brute_clusters(
    pairs: pd.DataFrame = CLUSTER_COSTS, *, budget: float = np.inf, max_sites: int = 99
) -> tuple[float, frozenset[str]]:
    """Least cost of the three-cluster instance over every set of open sites (within the
    budget and site limit), and that set; ``pairs`` may leave some of its pairs out."""
    fixed = dict(zip(CLUSTER_SITES.site_id, CLUSTER_SITES.fixed_cost, strict=True))
    demand = dict(zip(CLUSTER_ZONES.zone_id, CLUSTER_ZONES.demand, strict=True))
    best = (np.inf, frozenset())
    for size in range(min(len(CLUSTER_SITES), max_sites) + 1):
        for chosen in itertools.combinations(CLUSTER_SITES.site_id, size):
            capex = sum(fixed[s] for s in chosen)
            if capex > budget:
                continue
            cost = capex
            for zone, d in demand.items():
                options = pairs[(pairs.zone_id == zone) & pairs.site_id.isin(chosen)].cost
                cost += min([CLUSTER_PENALTY * d, *options])
            best = min(best, (cost, frozenset(chosen)), key=lambda b: b[0])
    return best
