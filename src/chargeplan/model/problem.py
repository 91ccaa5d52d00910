"""The facility-location instance as arrays: :class:`FacilityProblem`.

It knows no scenario, file or geometry: the inputs stage builds it from GeoDataFrames
(:func:`chargeplan.inputs.problem.build_problem`) and :meth:`FacilityProblem.from_cost_table`
builds the classic capacitated facility-location problem from plain tables. The formulation
that turns it into a MILP is :mod:`chargeplan.model.formulation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from chargeplan.errors import InputError

if TYPE_CHECKING:  # pandas is imported by from_cost_table only (the array path needs none)
    import pandas as pd

Objective = Literal["min_cost", "max_coverage", "min_max_cost"]

#: Default of the optional array fields of :class:`FacilityProblem`: ``None`` given (or left
#: out) is replaced in ``__post_init__`` by the documented default, so every instance holds an
#: array (typed ``Any`` so that the fields can be typed as the arrays they always are).
FILLED: Any = None

#: Most assignment variables of a model with charger sizing that ``pair_links="auto"`` gives
#: the strong rows ``x_ijk <= y_j`` (:mod:`chargeplan.model.links`); above, they cost more.
STRONG_LINK_LIMIT = 50_000


#: The fields of :class:`FacilityProblem` that run along the sites (what a subset of the sites
#: keeps: :mod:`chargeplan.solver.decompose`, :mod:`chargeplan.solver.reduce`).
SITE_FIELDS = (
    "site_ids",
    "fixed_cost",
    "site_capacity",
    "charger_cost",
    "max_chargers",
    "min_chargers",
    "existing_chargers",
    "max_stalls",
    "grid_kw",
    "grid_upgrade_kw",
    "grid_upgrade_cost",
    "required",
    "excluded",
    "design_capex_share",
)


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
        ``"min_cost"``, ``"max_coverage"`` or ``"min_max_cost"`` (the p-center objective: the
        largest per-unit pair cost of any served zone, :mod:`chargeplan.model.families`).
    budget
        Capex limit ``B`` on fixed plus charger costs (``None``: none).
    max_sites
        Most sites ``N`` to open (``None``: no limit).
    pair_links
        Strong rows ``x_ijk <= y_j``: ``"auto"`` (:mod:`chargeplan.model.links`), ``"always"``,
        ``"never"``, ``"lazy"`` (the violated ones, in rounds: :mod:`chargeplan.solver.cuts`).
    queue_levels
        Queue-aware sizing: per type k an array ``L_k`` of length ``S_k + 1`` with the demand
        one queue of ``c`` chargers serves at the service level (``c = 0..S_k``; from
        :func:`chargeplan.model.queueing.capacity_levels`). A site's type-k chargers form full
        queues of ``S_k`` plus one partial queue. ``None``: the linear rule with
        ``charger_capacity``.
    min_chargers, existing_chargers
        ``(S, K)``: fewest chargers an open site gets; chargers already installed (kept, no
        new capex, counted in capacity; such a site is open).
    max_stalls
        ``(S,)`` most chargers of all types at a site (``inf``: none).
    charger_power_kw
        ``(K,)`` power of each charger type, for grid limits.
    grid_kw, grid_upgrade_kw, grid_upgrade_cost
        ``(S,)`` grid connection (``inf``: none), the extra kW an upgrade adds, and its cost.
    required, excluded
        ``(S,)`` bool: sites that must be open / must stay closed.
    session_kwh, session_hours
        ``(K,)`` mean energy and duration of a charging session, for reporting peak arrivals
        and queue figures (optional).
    design_names, design_stalls, design_kva, design_capex
        Station designs (``None``: off; needs charger sizing): names ``(D,)``, stalls
        ``s_dk`` ``(D, K)`` (distinct, nonzero rows), grid connection ``V_d`` in kVA ``(D,)``
        and capex ``F_d`` ``(D,)``. A site then gets at most one design on top of its
        existing chargers (:mod:`chargeplan.model.designs`); with the queueing rule
        ``queue_levels[k]`` must reach ``max_j E_jk + max_d s_dk`` (one station = one queue).
    design_capex_share
        ``(S,)`` share :math:`w_j` of a design's capex that site j pays (default 1): a piece of a
        Lagrangian decomposition pays a share of a site it shares with other pieces
        (:mod:`chargeplan.solver.lagrange`); its fixed, charger and upgrade costs are scaled
        directly.
    hard_demand
        Demand with at least one pair must be served in full (``u_ik = 0``); only zones with
        no usable pair are left unmet. An instance whose capacity cannot serve it all is then
        infeasible (the classic CFLP).
    single_source
        Each zone's demand of a type is served by one site only (binary ``x_ijk``: the
        single-source CFLP and the capacitated p-median; :mod:`chargeplan.model.families`).
    target_group, target_names, target_share, target_price
        Coverage targets by group (settlement type; :mod:`chargeplan.model.targets`): each
        zone's group ``(Z,)`` (``-1``: none), the groups' names ``(G,)``, the share
        :math:`\\tau_g` of each group's demand in reach to serve ``(G,)`` (0: no target, the
        group is reported only) and the price :math:`\\sigma_g` per unit of demand short of it
        ``(G,)`` (:func:`chargeplan.model.constraints.add_coverage_targets`). Default: none.
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
    pair_links: Literal["auto", "always", "never", "lazy"] = "auto"
    queue_levels: tuple[np.ndarray, ...] | None = None
    min_chargers: np.ndarray = FILLED
    existing_chargers: np.ndarray = FILLED
    max_stalls: np.ndarray = FILLED
    charger_power_kw: np.ndarray = FILLED
    grid_kw: np.ndarray = FILLED
    grid_upgrade_kw: np.ndarray = FILLED
    grid_upgrade_cost: np.ndarray = FILLED
    required: np.ndarray = FILLED
    excluded: np.ndarray = FILLED
    design_capex_share: np.ndarray = FILLED
    hard_demand: bool = False
    session_kwh: np.ndarray | None = None
    session_hours: np.ndarray | None = None
    design_names: tuple[str, ...] | None = None
    design_stalls: np.ndarray | None = None
    design_kva: np.ndarray | None = None
    design_capex: np.ndarray | None = None
    single_source: bool = False
    target_group: np.ndarray = FILLED
    target_names: tuple[str, ...] = ()
    target_share: np.ndarray = FILLED
    target_price: np.ndarray = FILLED

    def __post_init__(self) -> None:
        z, s, k, p = len(self.zone_ids), len(self.site_ids), len(self.types), len(self.pair_zone)
        defaults = {
            "min_chargers": np.zeros((s, k)),
            "existing_chargers": np.zeros((s, k)),
            "max_stalls": np.full(s, np.inf),
            "charger_power_kw": np.zeros(k),
            "grid_kw": np.full(s, np.inf),
            "grid_upgrade_kw": np.zeros(s),
            "grid_upgrade_cost": np.zeros(s),
            "required": np.zeros(s, bool),
            "excluded": np.zeros(s, bool),
            "target_group": np.full(z, -1, np.int64),
            "target_share": np.zeros(len(self.target_names)),
            "target_price": np.zeros(len(self.target_names)),
            "design_capex_share": np.ones(s),
        }
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        if self.queue_levels is not None:
            if len(self.queue_levels) != k:
                raise InputError(f"FacilityProblem.queue_levels needs one array per type ({k})")
            for levels in self.queue_levels:
                if len(levels) < 2 or levels[0] != 0 or np.any(np.diff(levels) < 0):
                    raise InputError(
                        "FacilityProblem.queue_levels: each array starts at 0 for 0 chargers, "
                        "is nondecreasing and has at least 2 entries"
                    )
        shapes = {
            "demand": (self.demand.shape, (z, k)),
            "pair_site": (self.pair_site.shape, (p,)),
            "pair_cost": (self.pair_cost.shape, (p, k)),
            "fixed_cost": (self.fixed_cost.shape, (s,)),
            "site_capacity": (self.site_capacity.shape, (s,)),
            "charger_cost": (self.charger_cost.shape, (s, k)),
            "max_chargers": (self.max_chargers.shape, (s, k)),
            "unmet_penalty": (self.unmet_penalty.shape, (k,)),
            "min_chargers": (self.min_chargers.shape, (s, k)),
            "existing_chargers": (self.existing_chargers.shape, (s, k)),
            "max_stalls": (self.max_stalls.shape, (s,)),
            "charger_power_kw": (self.charger_power_kw.shape, (k,)),
            "grid_kw": (self.grid_kw.shape, (s,)),
            "grid_upgrade_kw": (self.grid_upgrade_kw.shape, (s,)),
            "grid_upgrade_cost": (self.grid_upgrade_cost.shape, (s,)),
            "required": (self.required.shape, (s,)),
            "excluded": (self.excluded.shape, (s,)),
            "design_capex_share": (self.design_capex_share.shape, (s,)),
        }
        if self.charger_capacity is not None:
            shapes["charger_capacity"] = (self.charger_capacity.shape, (k,))
        for name, (got, want) in shapes.items():
            if got != want:
                raise InputError(f"FacilityProblem.{name} has shape {got}, expected {want}")
        for name in (
            "demand",
            "pair_cost",
            "fixed_cost",
            "charger_cost",
            "unmet_penalty",
            "min_chargers",
            "existing_chargers",
            "charger_power_kw",
            "grid_upgrade_kw",
            "grid_upgrade_cost",
            "design_capex_share",
        ):
            values = getattr(self, name)
            if not np.all(np.isfinite(values)) or np.any(values < 0):
                raise InputError(f"FacilityProblem.{name} must be finite and >= 0")
        if self.design_stalls is not None:
            _check_designs(self)
        _check_targets(self)
        if p and (self.pair_zone.max() >= z or self.pair_site.max() >= s):
            raise InputError("FacilityProblem: pair positions out of range")
        if self.distance_km.size == 0:
            object.__setattr__(self, "distance_km", np.full(p, np.nan))

    @property
    def sizing(self) -> bool:
        """Whether chargers are sized (integer counts per site and type)."""
        return self.charger_capacity is not None or self.queue_levels is not None

    @property
    def designs(self) -> bool:
        """Whether sites get a station design from a menu (:mod:`chargeplan.model.designs`)."""
        return self.design_stalls is not None

    @property
    def has_existing(self) -> np.ndarray:
        """``(S,)`` bool: sites that already hold chargers (they are open)."""
        return self.existing_chargers.sum(axis=1) > 0

    @property
    def must_open(self) -> np.ndarray:
        """``(S,)`` bool: required sites and sites with existing chargers."""
        return self.required | self.has_existing

    @property
    def live_pairs(self) -> np.ndarray:
        """``(P,)`` bool: pairs that carry a variable (zone with demand, site not excluded)."""
        has = np.asarray((self.demand > 0).any(axis=1))  # zone by zone, then per pair
        return has[self.pair_zone] & ~self.excluded[self.pair_site]

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
        pair_links: Literal["auto", "always", "never", "lazy"] = "auto",
        single_source: bool = False,
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
            Penalty per unit of unmet demand. Default (``None``): demand with a pair must be
            served in full (``hard_demand``), as in the classic problem; zones with no pair
            at all are left unmet at a penalty above every per-unit pair cost. With
            ``objective="max_coverage"`` no penalty is needed (nor used by the coverage stage):
            demand may stay unmet, at a penalty of 0 unless one is given.
        objective, budget, max_sites, pair_links, single_source
            As in :class:`FacilityProblem`.
        """
        import pandas as pd

        from chargeplan.model.pairs import pairs_from_cost_table

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
        hard = unmet_penalty is None and objective != "max_coverage"
        if unmet_penalty is None and not hard:
            unmet_penalty = 0.0  # maximal covering: the coverage stage weighs unmet demand itself
        if hard:
            # Classic CFLP: all reachable demand must be served (u = 0 where a pair exists);
            # the penalty only prices zones with no pair at all.
            pair_demand = demand[pairs["zone"].to_numpy(), 0]
            per_unit = cost[pair_demand > 0] / pair_demand[pair_demand > 0]
            unmet_penalty = 1.0 + (per_unit.max() if per_unit.size else 0.0)
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
            unmet_penalty=np.array([unmet_penalty], dtype=float),
            objective=objective,
            budget=budget,
            max_sites=max_sites,
            pair_links=pair_links,
            hard_demand=hard,
            single_source=single_source,
        )

    @classmethod
    def from_cost_matrix(
        cls,
        demand: np.ndarray,
        fixed_cost: np.ndarray,
        cost: np.ndarray,
        *,
        capacity: np.ndarray | None = None,
        objective: Objective = "min_cost",
        budget: float | None = None,
        max_sites: int | None = None,
        single_source: bool = False,
    ) -> FacilityProblem:
        """:meth:`from_cost_table` from arrays (spopt's ``from_cost_matrix``; no pandas).

        ``demand`` ``(Z,)``, ``fixed_cost`` ``(S,)``, ``cost`` ``(Z, S)`` the cost of serving
        all of zone i's demand from site j (``inf`` or NaN: not allowed), ``capacity`` ``(S,)``
        (default uncapacitated). Ids are positions. Demand with a pair must be served
        (``hard_demand``; zones with no finite cost stay unmet at a penalty above every
        per-unit cost), except with ``objective="max_coverage"``, where demand may stay unmet at
        no penalty.
        """

        demand = np.asarray(demand, dtype=float)
        cost = np.asarray(cost, dtype=float)
        fixed = np.asarray(fixed_cost, dtype=float)
        z, s = len(demand), len(fixed)
        if cost.shape != (z, s):
            raise InputError(f"cost has shape {cost.shape}, expected (zones, sites) = {(z, s)}")
        allowed = ~np.isnan(cost) & ~np.isinf(cost)
        pair_zone, pair_site = np.nonzero(allowed)
        pair_cost = cost[allowed]
        hard = objective != "max_coverage"
        penalty = 0.0
        if hard:
            with np.errstate(divide="ignore", invalid="ignore"):
                per_unit = pair_cost / demand[pair_zone]
            per_unit = per_unit[demand[pair_zone] > 0]
            penalty = 1.0 + (float(per_unit.max()) if per_unit.size else 0.0)
        return cls(
            zone_ids=np.arange(z),
            site_ids=np.arange(s),
            types=("demand",),
            demand=demand[:, None],
            pair_zone=pair_zone,
            pair_site=pair_site,
            pair_cost=pair_cost[:, None],
            fixed_cost=fixed,
            site_capacity=np.full(s, np.inf) if capacity is None else np.asarray(capacity, float),
            charger_capacity=None,
            charger_cost=np.zeros((s, 1)),
            max_chargers=np.zeros((s, 1)),
            unmet_penalty=np.array([penalty]),
            objective=objective,
            budget=budget,
            max_sites=max_sites,
            hard_demand=hard,
            single_source=single_source,
        )


def is_pure_covering(problem: FacilityProblem) -> bool:
    """Whether only *whether* a zone has an open site in reach matters, not which one.

    True without charger sizing, with every site uncapacitated and every pair cost zero (the
    maximal covering location problem, or covering with a penalty for what is left out). The
    model can then use the covering form (:func:`add_period`): no assignment variables.
    """
    return (
        not problem.sizing
        and problem.objective != "min_max_cost"  # its rows read the assignment shares
        and bool(np.all(np.isinf(problem.site_capacity)))
        and not np.any(problem.pair_cost)
    )


def _check_targets(problem: FacilityProblem) -> None:
    """Check the coverage-target arrays (called by ``FacilityProblem.__post_init__``)."""
    z, g = len(problem.zone_ids), len(problem.target_names)
    for name, got, want in (
        ("target_group", problem.target_group.shape, (z,)),
        ("target_share", problem.target_share.shape, (g,)),
        ("target_price", problem.target_price.shape, (g,)),
    ):
        if got != want:
            raise InputError(f"FacilityProblem.{name} has shape {got}, expected {want}")
    if z and (problem.target_group.min() < -1 or problem.target_group.max() >= g):
        raise InputError("FacilityProblem.target_group: groups are -1 (none) or 0 .. G-1")
    share, price = problem.target_share, problem.target_price
    if not np.all((share >= 0) & (share <= 1)):
        raise InputError("FacilityProblem.target_share: shares between 0 and 1")
    if not np.all(np.isfinite(price)) or np.any(price < 0):
        raise InputError("FacilityProblem.target_price must be finite and >= 0")


def _check_designs(problem: FacilityProblem) -> None:
    """Check the design arrays of a problem (called by ``FacilityProblem.__post_init__``)."""
    stalls = problem.design_stalls
    assert stalls is not None
    k = len(problem.types)
    if problem.design_names is None or problem.design_kva is None or problem.design_capex is None:
        raise InputError("FacilityProblem: designs need design_names, design_kva, design_capex")
    d = len(problem.design_names)
    for name, got, want in (
        ("design_stalls", stalls.shape, (d, k)),
        ("design_kva", problem.design_kva.shape, (d,)),
        ("design_capex", problem.design_capex.shape, (d,)),
    ):
        if got != want:
            raise InputError(f"FacilityProblem.{name} has shape {got}, expected {want}")
    if d == 0 or not problem.sizing:
        raise InputError("FacilityProblem: a design menu needs designs and charger sizing")
    for name in ("design_stalls", "design_kva", "design_capex"):
        values = getattr(problem, name)
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise InputError(f"FacilityProblem.{name} must be finite and >= 0")
    if np.any(stalls != np.rint(stalls)) or np.any(stalls.sum(axis=1) == 0):
        raise InputError("FacilityProblem.design_stalls: whole stalls, at least one per design")
    if len(np.unique(stalls, axis=0)) != d:
        raise InputError("FacilityProblem.design_stalls: two designs have the same stalls")
    if problem.queue_levels is not None:
        largest = problem.existing_chargers.max(axis=0) + stalls.max(axis=0)
        for t, levels in enumerate(problem.queue_levels):
            if len(levels) - 1 < largest[t]:
                raise InputError(
                    f"FacilityProblem.queue_levels[{t}] stops at {len(levels) - 1} chargers; "
                    f"the largest station has {int(largest[t])} (existing plus design)"
                )
