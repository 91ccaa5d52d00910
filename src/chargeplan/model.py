r"""The facility-location model: which sites to open, how many chargers, who is served where.

The data live in a :class:`FacilityProblem` (numpy arrays, no geometry), built from the
pipeline's GeoDataFrames by :func:`chargeplan.pipeline.build_problem` or directly from a cost
table by :meth:`FacilityProblem.from_cost_table` (the classic capacitated facility-location
problem). :func:`build_model` turns it into a Pyomo model; the formulation is written in its
docstring and in ``docs/model.md``.

Model building is vectorised: every constraint family is assembled as one scipy sparse matrix
with numpy index arithmetic; Pyomo then receives each row as a ready-made ``LinearExpression``
(no operator overloading, no Python loop over zone-site pairs outside model construction).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from chargeplan.errors import InputError

Objective = Literal["min_cost", "max_coverage"]

#: Add the strong linking rows ``x_ijk <= y_j`` when the model has at most this many
#: assignment variables (``pair_links="auto"``); above it they cost more LP time than they save.
STRONG_LINK_LIMIT = 50_000


@dataclass(frozen=True)
class FacilityProblem:
    """A facility-location instance as arrays.

    Attributes
    ----------
    zone_ids, site_ids
        Labels, shapes ``(Z,)`` and ``(S,)``.
    types
        Demand classes / charger types, length ``K``.
    demand
        ``(Z, K)`` demand ``d_ik`` (peak-hour kWh for charging networks).
    pair_zone, pair_site
        ``(P,)`` positions of the reachable zone-site pairs.
    pair_cost
        ``(P, K)`` cost ``c_ijk`` of serving *all* of zone i's type-k demand from site j.
    distance_km
        ``(P,)`` distances, reported only (may be NaN).
    fixed_cost
        ``(S,)`` cost ``f_j`` of opening site j.
    site_capacity
        ``(S,)`` total demand ``C_j`` site j can serve (``inf``: no such limit).
    charger_capacity
        ``(K,)`` demand ``q_k`` one type-k charger serves, or ``None`` for no charger sizing
        (then site capacity alone limits service: the classic CFLP).
    charger_cost
        ``(S, K)`` cost ``p_jk`` per charger.
    max_chargers
        ``(S, K)`` most chargers ``M_jk`` of each type at a site.
    unmet_penalty
        ``(K,)`` penalty ``pi_k`` per unit of unmet demand.
    objective
        ``"min_cost"`` or ``"max_coverage"``.
    budget
        Capex limit ``B`` on fixed plus charger costs (``None``: none).
    max_sites
        Most sites ``N`` to open (``None``: no limit).
    pair_links
        ``"auto"``, ``"always"`` or ``"never"``: whether to add the strong rows
        ``x_ijk <= y_j``.
    """

    zone_ids: np.ndarray
    site_ids: np.ndarray
    types: tuple[str, ...]
    demand: np.ndarray
    pair_zone: np.ndarray
    pair_site: np.ndarray
    pair_cost: np.ndarray
    fixed_cost: np.ndarray
    site_capacity: np.ndarray
    charger_capacity: np.ndarray | None
    charger_cost: np.ndarray
    max_chargers: np.ndarray
    unmet_penalty: np.ndarray
    distance_km: np.ndarray = field(default_factory=lambda: np.empty(0))
    objective: Objective = "min_cost"
    budget: float | None = None
    max_sites: int | None = None
    pair_links: Literal["auto", "always", "never"] = "auto"

    def __post_init__(self) -> None:
        z, s, k, p = len(self.zone_ids), len(self.site_ids), len(self.types), len(self.pair_zone)
        shapes = {
            "demand": (self.demand.shape, (z, k)),
            "pair_site": (self.pair_site.shape, (p,)),
            "pair_cost": (self.pair_cost.shape, (p, k)),
            "fixed_cost": (self.fixed_cost.shape, (s,)),
            "site_capacity": (self.site_capacity.shape, (s,)),
            "charger_cost": (self.charger_cost.shape, (s, k)),
            "max_chargers": (self.max_chargers.shape, (s, k)),
            "unmet_penalty": (self.unmet_penalty.shape, (k,)),
        }
        if self.charger_capacity is not None:
            shapes["charger_capacity"] = (self.charger_capacity.shape, (k,))
        for name, (got, want) in shapes.items():
            if got != want:
                raise InputError(f"FacilityProblem.{name} has shape {got}, expected {want}")
        for name in ("demand", "pair_cost", "fixed_cost", "charger_cost", "unmet_penalty"):
            values = getattr(self, name)
            if not np.all(np.isfinite(values)) or np.any(values < 0):
                raise InputError(f"FacilityProblem.{name} must be finite and >= 0")
        if p and (self.pair_zone.max() >= z or self.pair_site.max() >= s):
            raise InputError("FacilityProblem: pair positions out of range")
        if self.distance_km.size == 0:
            object.__setattr__(self, "distance_km", np.full(p, np.nan))

    @property
    def sizing(self) -> bool:
        """Whether chargers are sized (integer counts per site and type)."""
        return self.charger_capacity is not None

    @classmethod
    def from_cost_table(
        cls,
        zones: pd.DataFrame,
        sites: pd.DataFrame,
        costs: pd.DataFrame,
        *,
        cost_basis: Literal["total", "per_unit"] = "total",
        unmet_penalty: float | None = None,
        objective: Objective = "min_cost",
        budget: float | None = None,
        max_sites: int | None = None,
        pair_links: Literal["auto", "always", "never"] = "auto",
    ) -> FacilityProblem:
        """The classic capacitated facility-location problem from tables.

        Parameters
        ----------
        zones
            ``zone_id, demand``.
        sites
            ``site_id, fixed_cost`` and optionally ``capacity`` (missing or ``inf``:
            uncapacitated).
        costs
            ``zone_id, site_id, cost``; only listed pairs are allowed.
        cost_basis
            ``"total"``: ``cost`` is for serving all of the zone's demand (OR-Library's
            convention); ``"per_unit"``: per unit of demand.
        unmet_penalty
            Penalty per unit of unmet demand. Default: larger than any way of serving it
            (every zone's highest pair cost per unit plus the largest fixed cost per unit of
            the smallest demand, times ten), so demand goes unmet only where no pair exists.
        objective, budget, max_sites, pair_links
            As in :class:`FacilityProblem`.
        """
        from chargeplan.reach import pairs_from_cost_table

        zone_ids = zones["zone_id"].to_numpy()
        site_ids = sites["site_id"].to_numpy()
        pairs = pairs_from_cost_table(costs, pd.Index(zone_ids), pd.Index(site_ids))
        demand = zones["demand"].to_numpy(dtype=float)[:, None]
        cost = pairs["cost"].to_numpy(dtype=float)
        if cost_basis == "per_unit":
            cost = cost * demand[pairs["zone"].to_numpy(), 0]
        capacity = (
            sites["capacity"].to_numpy(dtype=float)
            if "capacity" in sites.columns
            else np.full(len(sites), np.inf)
        )
        fixed = sites["fixed_cost"].to_numpy(dtype=float)
        if unmet_penalty is None:
            positive = demand[demand > 0]
            smallest = positive.min() if positive.size else 1.0
            per_unit = cost / np.maximum(demand[pairs["zone"].to_numpy(), 0], 1e-12)
            unmet_penalty = 10.0 * (
                (per_unit.max() if per_unit.size else 0.0) + fixed.max() / smallest + 1.0
            )
        return cls(
            zone_ids=zone_ids,
            site_ids=site_ids,
            types=("demand",),
            demand=demand,
            pair_zone=pairs["zone"].to_numpy(),
            pair_site=pairs["site"].to_numpy(),
            pair_cost=cost[:, None],
            distance_km=pairs["distance_km"].to_numpy(dtype=float),
            fixed_cost=fixed,
            site_capacity=capacity,
            charger_capacity=None,
            charger_cost=np.zeros((len(sites), 1)),
            max_chargers=np.zeros((len(sites), 1)),
            unmet_penalty=np.array([float(unmet_penalty)]),
            objective=objective,
            budget=budget,
            max_sites=max_sites,
            pair_links=pair_links,
        )


@dataclass(frozen=True)
class ModelIndex:
    """How the model's flat variable vectors map back to zones, sites, pairs and types.

    Columns are ordered ``[x (assignments), u (unmet), y (open), n (chargers)]``.
    """

    x_pair: np.ndarray
    x_type: np.ndarray
    u_zone: np.ndarray
    u_type: np.ndarray
    y_site: np.ndarray
    n_site: np.ndarray
    n_type: np.ndarray
    strong_links: bool

    @property
    def sizes(self) -> tuple[int, int, int, int]:
        """Numbers of x, u, y and n variables."""
        return len(self.x_pair), len(self.u_zone), len(self.y_site), len(self.n_site)


def _index(problem: FacilityProblem) -> ModelIndex:
    k = len(problem.types)
    d_pairs = problem.demand[problem.pair_zone]  # (P, K)
    x_pair, x_type = np.nonzero(d_pairs > 0)
    u_zone, u_type = np.nonzero(problem.demand > 0)
    # Only sites that can serve some demand get variables; the others stay closed.
    useful = np.zeros(len(problem.site_ids), bool)
    useful[problem.pair_site[x_pair]] = True
    y_site = np.flatnonzero(useful)
    if problem.sizing:
        served_types = np.zeros((len(problem.site_ids), k), bool)
        served_types[problem.pair_site[x_pair], x_type] = True
        served_types &= problem.max_chargers > 0
        n_site, n_type = np.nonzero(served_types)
    else:
        n_site = n_type = np.empty(0, np.int64)
    if problem.pair_links == "auto":
        strong = len(x_pair) <= STRONG_LINK_LIMIT
    else:
        strong = problem.pair_links == "always"
    return ModelIndex(x_pair, x_type, u_zone, u_type, y_site, n_site, n_type, strong)


def _rows(
    model: pyo.ConcreteModel,
    name: str,
    matrix: sp.csr_matrix,
    lower: np.ndarray | float | None,
    upper: np.ndarray | float | None,
    columns: list,
) -> None:
    """Add one constraint family ``lower <= matrix @ columns <= upper`` row by row."""
    matrix = sp.csr_matrix(matrix)
    matrix.eliminate_zeros()
    rows = matrix.shape[0]
    lo = np.broadcast_to(np.nan if lower is None else lower, (rows,)).astype(float)
    hi = np.broadcast_to(np.nan if upper is None else upper, (rows,)).astype(float)
    data, indices, indptr = matrix.data.tolist(), matrix.indices.tolist(), matrix.indptr.tolist()

    def rule(_m: pyo.ConcreteModel, r: int):
        start, end = indptr[r], indptr[r + 1]
        expr = LinearExpression(
            [MonomialTermExpression((data[t], columns[indices[t]])) for t in range(start, end)]
        )
        return (None if np.isnan(lo[r]) else lo[r], expr, None if np.isnan(hi[r]) else hi[r])

    setattr(model, name, pyo.Constraint(range(rows), rule=rule))


def _linear(coefficients: np.ndarray, columns: list) -> LinearExpression:
    nz = np.flatnonzero(coefficients)
    return LinearExpression(
        [MonomialTermExpression((float(coefficients[c]), columns[c])) for c in nz]
    )


def cost_vector(problem: FacilityProblem, index: ModelIndex) -> np.ndarray:
    """Objective coefficients of the full cost ``capex + access + unmet penalty``."""
    return np.concatenate(
        [
            problem.pair_cost[index.x_pair, index.x_type],
            problem.unmet_penalty[index.u_type] * problem.demand[index.u_zone, index.u_type],
            problem.fixed_cost[index.y_site],
            problem.charger_cost[index.n_site, index.n_type],
        ]
    )


def capex_vector(problem: FacilityProblem, index: ModelIndex) -> np.ndarray:
    """Coefficients of capex (fixed site costs plus chargers) over all columns."""
    nx, nu, _, _ = index.sizes
    return np.concatenate(
        [
            np.zeros(nx + nu),
            problem.fixed_cost[index.y_site],
            problem.charger_cost[index.n_site, index.n_type],
        ]
    )


def unmet_vector(problem: FacilityProblem, index: ModelIndex) -> np.ndarray:
    """Coefficients of unmet demand (in demand units) over all columns."""
    nx, _nu, ny, nn = index.sizes
    return np.concatenate(
        [np.zeros(nx), problem.demand[index.u_zone, index.u_type], np.zeros(ny + nn)]
    )


def build_model(problem: FacilityProblem) -> tuple[pyo.ConcreteModel, ModelIndex]:
    r"""Build the Pyomo facility-location model.

    Sets: zones :math:`i \in I`, sites :math:`j \in J`, types :math:`k \in K`, reachable pairs
    :math:`(i, j) \in P`, with :math:`P(i)` the sites in reach of zone i and :math:`P(j)` the
    zones in reach of site j.

    Data: demand :math:`d_{ik}`, pair cost :math:`c_{ijk}` (serving all of zone i's type-k
    demand from j), fixed cost :math:`f_j`, site capacity :math:`C_j`, charger capacity
    :math:`q_k`, charger cost :math:`p_{jk}`, charger limit :math:`M_{jk}`, unmet penalty
    :math:`\pi_k`, budget :math:`B`, site limit :math:`N`.

    Variables: :math:`y_j \in \{0,1\}` open site; :math:`n_{jk} \in \mathbb{Z}_{\ge 0}`
    chargers; :math:`x_{ijk} \in [0,1]` share of zone i's type-k demand served by site j;
    :math:`u_{ik} \in [0,1]` unmet share.

    .. math::

        \min\; & \sum_j f_j y_j + \sum_{jk} p_{jk} n_{jk} + \sum_{(i,j) \in P,k} c_{ijk}
                 x_{ijk} + \sum_{ik} \pi_k d_{ik} u_{ik}  && \text{(min\_cost)} \\
        \min\; & \sum_{ik} d_{ik} u_{ik} && \text{(max\_coverage)} \\
        \text{s.t.}\; & \sum_{j \in P(i)} x_{ijk} + u_{ik} = 1 && \forall i,k: d_{ik}>0 \\
        & \sum_{i \in P(j)} d_{ik} x_{ijk} \le q_k n_{jk} && \forall j,k \text{ (sizing)} \\
        & n_{jk} \le M_{jk} y_j && \forall j,k \text{ (sizing)} \\
        & \sum_{i \in P(j),k} d_{ik} x_{ijk} \le C_j y_j && \forall j: C_j < \infty
              \text{ or no sizing} \\
        & x_{ijk} \le y_j && \forall (i,j) \in P, k \text{ (strong links, optional)} \\
        & \sum_j f_j y_j + \sum_{jk} p_{jk} n_{jk} \le B && \text{(if a budget is given)} \\
        & \sum_j y_j \le N && \text{(if a site limit is given)}

    Without sizing and with infinite :math:`C_j`, :math:`C_j` is replaced by the demand in
    reach of j, which keeps the model exact (uncapacitated facility location). With no sizing,
    finite capacities and a cost table this is exactly the classic capacitated
    facility-location problem (OR-Library ``cap``). Rows are only generated for pairs and types
    with positive demand; sites with no such pair are closed without a variable.

    Parameters
    ----------
    problem
        The instance.

    Returns
    -------
    tuple[pyomo.environ.ConcreteModel, ModelIndex]
        The model (objective ``obj``) and the map from its flat variables back to the data.
    """
    ix = _index(problem)
    nx, nu, ny, nn = ix.sizes
    n_cols = nx + nu + ny + nn
    m = pyo.ConcreteModel(name="chargeplan")
    m.x = pyo.Var(range(nx), bounds=(0, 1))
    m.u = pyo.Var(range(nu), bounds=(0, 1))
    m.y = pyo.Var(range(ny), domain=pyo.Binary)
    n_upper = problem.max_chargers[ix.n_site, ix.n_type]
    m.n = pyo.Var(
        range(nn), domain=pyo.NonNegativeIntegers, bounds=lambda _m, t: (0, float(n_upper[t]))
    )
    columns = [*m.x.values(), *m.u.values(), *m.y.values(), *m.n.values()]
    x_cols = np.arange(nx)
    u_cols = nx + np.arange(nu)
    y_col_of_site = np.full(len(problem.site_ids), -1)
    y_col_of_site[ix.y_site] = nx + nu + np.arange(ny)
    zone_k = len(problem.types)

    # Assignment: sum_j x_ijk + u_ik = 1 for each (i,k) with demand.
    row_of_zone_type = np.full(len(problem.zone_ids) * zone_k, -1)
    row_of_zone_type[ix.u_zone * zone_k + ix.u_type] = np.arange(nu)
    x_zone = problem.pair_zone[ix.x_pair]
    x_site = problem.pair_site[ix.x_pair]
    x_demand = problem.demand[x_zone, ix.x_type]
    assign = sp.csr_matrix(
        (
            np.ones(nx + nu),
            (
                np.concatenate([row_of_zone_type[x_zone * zone_k + ix.x_type], np.arange(nu)]),
                np.concatenate([x_cols, u_cols]),
            ),
        ),
        shape=(nu, n_cols),
    )
    _rows(m, "assign", assign, 1.0, 1.0, columns)

    if problem.sizing:
        # Chargers: sum_i d_ik x_ijk - q_k n_jk <= 0, and n_jk - M_jk y_j <= 0.
        row_of_site_type = np.full(len(problem.site_ids) * zone_k, -1)
        row_of_site_type[ix.n_site * zone_k + ix.n_type] = np.arange(nn)
        x_rows = row_of_site_type[x_site * zone_k + ix.x_type]
        blocked = x_rows < 0  # site cannot host this type: the x must stay 0
        n_cols_pos = nx + nu + ny + np.arange(nn)
        chargers = sp.csr_matrix(
            (
                np.concatenate([x_demand[~blocked], -problem.charger_capacity[ix.n_type]]),
                (
                    np.concatenate([x_rows[~blocked], np.arange(nn)]),
                    np.concatenate([x_cols[~blocked], n_cols_pos]),
                ),
            ),
            shape=(nn, n_cols),
        )
        _rows(m, "chargers", chargers, None, 0.0, columns)
        link = sp.csr_matrix(
            (
                np.concatenate([np.ones(nn), -n_upper]),
                (np.tile(np.arange(nn), 2), np.concatenate([n_cols_pos, y_col_of_site[ix.n_site]])),
            ),
            shape=(nn, n_cols),
        )
        _rows(m, "open_for_chargers", link, None, 0.0, columns)
        for t in np.flatnonzero(blocked):
            m.x[int(t)].fix(0)

    capacity = problem.site_capacity[ix.y_site].astype(float)
    reach_demand = np.bincount(x_site, weights=x_demand, minlength=len(problem.site_ids))
    if problem.sizing:
        cap_sites = np.flatnonzero(np.isfinite(capacity))
    else:
        capacity = np.where(np.isfinite(capacity), capacity, reach_demand[ix.y_site])
        cap_sites = np.arange(ny)
    if cap_sites.size:
        row_of_site = np.full(len(problem.site_ids), -1)
        row_of_site[ix.y_site[cap_sites]] = np.arange(cap_sites.size)
        x_rows = row_of_site[x_site]
        keep = x_rows >= 0
        site_cap = sp.csr_matrix(
            (
                np.concatenate([x_demand[keep], -capacity[cap_sites]]),
                (
                    np.concatenate([x_rows[keep], np.arange(cap_sites.size)]),
                    np.concatenate([x_cols[keep], nx + nu + cap_sites]),
                ),
            ),
            shape=(cap_sites.size, n_cols),
        )
        _rows(m, "site_capacity", site_cap, None, 0.0, columns)

    if ix.strong_links and nx:
        strong = sp.csr_matrix(
            (
                np.concatenate([np.ones(nx), -np.ones(nx)]),
                (np.tile(np.arange(nx), 2), np.concatenate([x_cols, y_col_of_site[x_site]])),
            ),
            shape=(nx, n_cols),
        )
        _rows(m, "pair_link", strong, None, 0.0, columns)

    capex = capex_vector(problem, ix)
    if problem.budget is not None:
        m.budget = pyo.Constraint(expr=_linear(capex, columns) <= problem.budget)
    if problem.max_sites is not None:
        m.max_sites = pyo.Constraint(expr=sum(m.y.values()) <= problem.max_sites)

    weights = (
        cost_vector(problem, ix) if problem.objective == "min_cost" else unmet_vector(problem, ix)
    )
    m.objective_scale = objective_scale(weights)
    m.obj = pyo.Objective(expr=_linear(weights / m.objective_scale, columns), sense=pyo.minimize)
    m.columns = columns  # flat column order, for solution extraction
    return m, ix


def objective_scale(weights: np.ndarray) -> float:
    """A power of ten that brings the largest objective coefficient near 1e3.

    HiGHS warns about, and is slower on, costs in the billions (CNY per peak kWh x demand);
    dividing the objective by a power of ten changes no decision and is exact in binary
    floating point up to the rounding of each coefficient.
    """
    largest = float(np.abs(weights).max()) if weights.size else 0.0
    if largest <= 1e4:
        return 1.0
    return float(10.0 ** np.floor(np.log10(largest) - 3))
