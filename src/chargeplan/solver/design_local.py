r"""A design plan priced move by move on the zones a move touches: small LPs, not the piece's.

:mod:`chargeplan.solver.design_search` changes the design (or the opening) of one or two
sites at a time. Re-solving the whole piece's LP for every such move costs 0.3-0.5 s on a
city piece of 100,000 assignment columns (measured; ``docs/stations.md``, "Local search over
designs"); the move only touches the zones in reach of its sites. :class:`LocalPlan` keeps the
plan's assignment :math:`x, u` and each site's load, and prices a move exactly as a **feasible
plan**: with :math:`T` the touched sites, :math:`Z_T` the zones in reach of them and
:math:`S_T` the sites in reach of those zones, the assignment of every zone outside
:math:`Z_T` is kept, and the LP

.. math::

    \min \sum_{i \in Z_T} \Big( \sum_{j, k} c_{ijk} x_{ijk} + \sum_k c^u_{ik} u_{ik} \Big)
    \quad \text{s.t.} \quad \sum_j x_{ijk} + u_{ik} = 1 \;(i \in Z_T),
    \qquad \sum_{i \in Z_T} d_{ik} x_{ijk} \le Q_{jk}(o_j) - L^{out}_{jk} \;(j \in S_T)

re-assigns the zones of :math:`Z_T` (:math:`Q_{jk}(o_j)` the capacity row's right-hand side
with site j's option :math:`o_j`, :math:`L^{out}_{jk}` the load of the zones outside
:math:`Z_T`, which does not change; a touched site serves no zone outside :math:`Z_T`). The
move's cost is the plan's minus the old assignment of :math:`Z_T` plus this LP's optimum plus
the change of the sites' fixed costs (:math:`c^y, c^z` and the chargers
:math:`c^n (E + s_d)`): the cost of a feasible plan, so never below the piece's LP with the
new designs, and a kept move never makes the plan dearer.

It applies to the model as :func:`~chargeplan.model.formulation.build_milp` builds it for a
station-design piece (rows ``assign``, ``design_choice``, ``design_chargers``, ``capacity``,
``open_for_chargers``, ``pair_link``; no grid upgrade, queue-level or target columns; no finite
site capacity): :func:`local_applies`. Otherwise the search prices each move on the whole LP.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chargeplan.model.design_constraints import usable_capacity
from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.rows import CsrRows
from chargeplan.model.sparse import SparseMILP, pass_arrays
from chargeplan.solver.design_lp import quiet_highs

__all__ = ["Grouped", "LocalPlan", "local_applies"]

_ROWS = frozenset(
    {"assign", "design_choice", "design_chargers", "capacity", "open_for_chargers", "pair_link"}
)
CLOSED, BARE = -2, -1


def local_applies(problem: FacilityProblem, lp: SparseMILP, ix: ModelIndex) -> bool:
    """Whether :class:`LocalPlan` prices this model's moves exactly (module docstring)."""
    families = {name.split("[")[0] for name in lp.families}
    extra = any(ix.offsets.get(b, (0, 0))[1] for b in ("m", "b", "g", "s"))
    return (
        lp.objective is not None
        and families <= _ROWS
        and not extra
        and bool(np.all(np.isinf(problem.site_capacity)))
    )


class LocalPlan:
    """A plan's options, assignment and loads, with moves priced on the zones they touch.

    Parameters
    ----------
    problem, lp, ix
        The instance and its model (:func:`local_applies` holds).
    option
        ``(S,)`` each site's option (``design_search.plan_options``).
    values, cost
        The plan's column values and cost (its LP with ``y`` and ``z`` fixed, solved).
    """

    def __init__(
        self,
        problem: FacilityProblem,
        lp: SparseMILP,
        ix: ModelIndex,
        option: np.ndarray,
        values: np.ndarray,
        cost: float,
    ):
        assert lp.objective is not None
        self.problem, self.ix, self.option, self.cost = problem, ix, option.copy(), cost
        objective = lp.objective
        x_col, u_col = ix.cols("x"), ix.cols("u")
        self.x_cost, self.u_cost = objective[x_col], objective[u_col]
        self.x, self.u = values[x_col].copy(), values[u_col].copy()
        lower, upper, _ = lp.bounds()
        self.u_lower, self.u_upper = lower[u_col], upper[u_col]
        self.x_weight = problem.demand[problem.pair_zone[ix.x_pair], ix.x_type]
        self.x_zone, self.x_site = problem.pair_zone[ix.x_pair], problem.pair_site[ix.x_pair]
        n_zones, n_sites, k = len(problem.zone_ids), len(problem.site_ids), len(problem.types)
        self.x_of_zone = Grouped(self.x_zone, n_zones)
        self.u_of_zone = Grouped(ix.u_zone, n_zones)
        self.zones_of_site = Grouped(problem.pair_site, n_sites, problem.pair_zone)
        self.load = np.zeros((n_sites, k))
        np.add.at(self.load, (self.x_site, ix.x_type), self.x_weight * self.x)
        self.base, self.design_capacity = usable_capacity(problem)
        self.fixed = _fixed_costs(problem, ix, objective)
        self.trials = 0
        self.highs: Any = None  # one HiGHS for every local LP, made at the first

    def capacity(self, sites: np.ndarray, options: np.ndarray) -> np.ndarray:
        """``(len(sites), K)``: the capacity rows' right-hand sides with these options."""
        cap = np.where((options == CLOSED)[:, None], 0.0, self.base[sites])
        designed = options >= 0
        chosen = self.ix.z_design[options[designed]]
        cap[designed] = self.design_capacity[sites[designed], chosen]
        return cap

    def fixed_cost(self, sites: np.ndarray, options: np.ndarray) -> float:
        """The sites' fixed costs (:math:`c^y`, :math:`c^z`, chargers) with these options."""
        bare, y_cost, z_cost = self.fixed
        cost = np.where(options != CLOSED, y_cost[sites] + bare[sites], 0.0)
        return float(np.sum(cost + np.where(options >= 0, z_cost[np.maximum(options, 0)], 0.0)))

    def price(self, sites: np.ndarray, asked: np.ndarray) -> tuple[float, tuple] | None:
        """The plan's cost with ``sites`` given the options ``asked`` (module docstring) and
        the local assignment that achieves it; ``None`` if the local LP has no solution."""
        self.trials += 1
        n_types, ix = self.load.shape[1], self.ix
        zones = np.unique(self.zones_of_site.gather(sites))
        xs, us = self.x_of_zone.gather(zones), self.u_of_zone.gather(zones)
        # capacity rows: every (site, type) the zones' x reach, less the load kept outside
        local_sites, x_site = np.unique(self.x_site[xs], return_inverse=True)
        inside = np.zeros((local_sites.size, n_types))
        np.add.at(inside, (x_site, ix.x_type[xs]), self.x_weight[xs] * self.x[xs])
        options = self.option[local_sites].copy()
        options[np.searchsorted(local_sites, sites)] = asked
        room = self.capacity(local_sites, options) - (self.load[local_sites] - inside)
        cap_key = x_site * n_types + ix.x_type[xs]
        used, cap_row = np.unique(cap_key, return_inverse=True)
        # demand rows: one per (zone, type) with an unmet column
        eq_key = np.concatenate([self.x_zone[xs], ix.u_zone[us]]) * n_types + np.concatenate(
            [ix.x_type[xs], ix.u_type[us]]
        )
        eq_used, eq_row = np.unique(eq_key, return_inverse=True)
        n_x, n_cols, n_eq = xs.size, xs.size + us.size, eq_used.size
        # the demand rows, then the capacity rows (numpy triplets: no SciPy matrix per move)
        matrix = CsrRows.from_triplets(
            np.concatenate([eq_row, n_eq + cap_row]),
            np.concatenate([np.arange(n_cols), np.arange(n_x)]),
            np.concatenate([np.ones(n_cols), self.x_weight[xs]]),
            (n_eq + used.size, n_cols),
        )
        b_ub = np.maximum(room.ravel()[used], 0.0)
        return self._solved(sites, asked, xs, us, matrix, n_eq, b_ub)

    def _solved(
        self,
        sites: np.ndarray,
        asked: np.ndarray,
        xs: np.ndarray,
        us: np.ndarray,
        matrix: CsrRows,
        n_eq: int,
        b_ub: np.ndarray,
    ) -> tuple[float, tuple] | None:
        """Solve the local LP in HiGHS (one ``passModel``, no time limit); the move's cost."""
        import highspy

        if self.highs is None:
            # No "threads" option: HiGHS's scheduler is global to the process, and an LP
            # asking for another thread count than the piece's own HiGHS fails (status
            # error: every move would be refused). A simplex LP runs on one thread anyway.
            self.highs = quiet_highs()
            # No presolve: on these LPs of a few hundred columns it costs more than it saves
            # (750 local LPs of three national pieces: 3.80 s of HiGHS CPU with it, 2.36 s
            # without; the same optimal solutions; docs/stations.md, "Where the time goes").
            self.highs.setOptionValue("presolve", "off")
        n_cols = xs.size + us.size
        pass_arrays(
            self.highs,
            np.concatenate([np.zeros(xs.size), self.u_lower[us]]),
            np.concatenate([np.ones(xs.size), self.u_upper[us]]),
            np.zeros(n_cols, bool),
            np.concatenate([self.x_cost[xs], self.u_cost[us]]),
            matrix,
            np.concatenate([np.ones(n_eq), np.full(b_ub.size, -np.inf)]),
            np.concatenate([np.ones(n_eq), b_ub]),
        )
        self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        value = float(self.highs.getInfo().objective_function_value)
        solution = np.asarray(self.highs.getSolution().col_value, dtype=float)
        old = self.x_cost[xs] @ self.x[xs] + self.u_cost[us] @ self.u[us]
        fixed = self.fixed_cost(sites, asked) - self.fixed_cost(sites, self.option[sites])
        new = self.cost - float(old) + value + fixed
        return new, (sites, asked.copy(), xs, us, solution)

    def keep(self, priced: tuple[float, tuple]) -> None:
        """Make a priced move the plan."""
        cost, (sites, options, xs, us, solution) = priced
        where = (self.x_site[xs], self.ix.x_type[xs])
        np.add.at(self.load, where, -self.x_weight[xs] * self.x[xs])
        self.x[xs], self.u[us] = solution[: xs.size], solution[xs.size :]
        np.add.at(self.load, where, self.x_weight[xs] * self.x[xs])
        self.option[sites] = options
        self.cost = cost


class Grouped:
    """Items grouped by key: the positions (or ``items``) whose key is each of ``n`` keys, in
    their given order; ``grouped[k]`` one group, :meth:`gather` several at once.

    Parameters
    ----------
    keys
        ``(P,)`` each position's key, ``0 <= key < n``.
    n
        How many keys.
    items
        ``(P,)`` what to return for each position (default: the positions).
    """

    def __init__(self, keys: np.ndarray, n: int, items: np.ndarray | None = None):
        by_key = np.argsort(keys, kind="stable")
        self.bounds = np.searchsorted(keys[by_key], np.arange(n + 1))
        self.values = by_key if items is None else items[by_key]

    def __getitem__(self, key: int) -> np.ndarray:
        """The group of ``key``."""
        return self.values[self.bounds[key] : self.bounds[key + 1]]

    def gather(self, keys: np.ndarray) -> np.ndarray:
        """The groups of ``keys`` one after the other (as concatenating ``self[k]`` for each
        of them, in their order), by one index array: no Python loop over the keys."""
        start, end = self.bounds[keys], self.bounds[np.asarray(keys) + 1]
        size = end - start
        shift = np.repeat(start - np.cumsum(size) + size, size)
        return self.values[shift + np.arange(int(size.sum()))]


def _fixed_costs(
    problem: FacilityProblem, ix: ModelIndex, objective: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per site: the existing chargers' cost and ``c^y``; per ``z`` column: ``c^z`` plus its
    stalls' cost (:math:`n_{jk} = E_{jk} + s_{dk}` priced at :math:`c^n_{jk}`)."""
    n_sites, k = len(problem.site_ids), len(problem.types)
    n_cost = np.zeros((n_sites, k))
    n_cost[ix.n_site, ix.n_type] = objective[ix.cols("n")]
    bare = (n_cost * problem.existing_chargers).sum(axis=1)
    y_cost = np.zeros(n_sites)
    y_cost[ix.y_site] = objective[ix.cols("y")]
    assert problem.design_stalls is not None
    stalls = problem.design_stalls[ix.z_design]
    z_cost = objective[ix.cols("z")] + (n_cost[ix.z_site] * stalls).sum(axis=1)
    return bare, y_cost, z_cost
