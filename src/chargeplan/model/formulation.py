r"""The facility-location model: which sites to open, how many chargers, who is served where.

The data live in a :class:`FacilityProblem` (numpy arrays, no geometry), built from the
pipeline's GeoDataFrames by :func:`chargeplan.inputs.problem.build_problem` or directly from a cost
table by :meth:`FacilityProblem.from_cost_table` (the classic capacitated facility-location
problem). :func:`build_model` turns it into a Pyomo model; the formulation is written in its
docstring and in ``docs/model.md``.

Model building is vectorised: every constraint family is assembled as one scipy sparse matrix
with numpy index arithmetic (:mod:`chargeplan.model.sparse`); Pyomo then receives each row as a
ready-made ``LinearExpression`` (no operator overloading, no Python loop over zone-site pairs).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from chargeplan.model.feasibility import check_feasibility
from chargeplan.model.problem import (
    STRONG_LINK_LIMIT,
    FacilityProblem,
    is_pure_covering,
)
from chargeplan.model.sparse import BINARY, INTEGER, SparseMILP

_BLOCKS = ("x", "u", "y", "n", "m", "b", "g")


@dataclass(frozen=True)
class ModelIndex:
    """How the model's columns map back to zones, sites, pairs and types.

    Blocks of columns, in order: ``x`` (assignment shares, one per pair and type with demand),
    ``u`` (unmet shares), ``y`` (open sites), ``n`` (chargers, one per sizing entry = site and
    type), ``m`` (full queues per entry), ``b`` (partial-queue levels), ``g`` (grid upgrades).
    ``covering``: the covering form of :func:`add_period` (no ``x`` columns).
    """

    offsets: dict[str, tuple[int, int]]
    x_pair: np.ndarray
    x_type: np.ndarray
    u_zone: np.ndarray
    u_type: np.ndarray
    y_site: np.ndarray
    n_site: np.ndarray
    n_type: np.ndarray
    b_entry: np.ndarray
    b_level: np.ndarray
    g_site: np.ndarray
    strong_links: bool
    covering: bool = False

    def cols(self, block: str) -> np.ndarray:
        """Column positions of a block."""
        start, size = self.offsets[block]
        return start + np.arange(size)

    @property
    def sizes(self) -> tuple[int, int, int, int]:
        """Numbers of x, u, y and n variables."""
        return len(self.x_pair), len(self.u_zone), len(self.y_site), len(self.n_site)


def _index(
    problem: FacilityProblem, pattern: np.ndarray | None = None
) -> tuple[ModelIndex, dict[str, np.ndarray]]:
    """Decide which variables exist; return the index and per-column data for the builder.

    ``pattern`` (``(Z, K)``, default the problem's demand): which zone-type demands get
    variables; periods of a rollout share one pattern so their variables line up.
    """
    k = len(problem.types)
    s = len(problem.site_ids)
    demand = problem.demand if pattern is None else pattern
    d_pairs = demand[problem.pair_zone]  # (P, K)
    live = (d_pairs > 0) & ~problem.excluded[problem.pair_site][:, None]
    x_pair, x_type = np.nonzero(live)
    u_zone, u_type = np.nonzero(demand > 0)
    useful = problem.must_open.copy()
    useful[problem.pair_site[x_pair]] = True
    useful &= ~problem.excluded
    y_site = np.flatnonzero(useful)
    if problem.sizing:
        entry = np.zeros((s, k), bool)
        entry[problem.pair_site[x_pair], x_type] = True
        entry &= problem.max_chargers > 0
        entry |= (problem.existing_chargers > 0) | (problem.min_chargers > 0)
        entry &= useful[:, None]
        n_site, n_type = np.nonzero(entry)
    else:
        n_site = n_type = np.empty(0, np.int64)
    if problem.queue_levels is not None:
        size = np.array([len(levels) - 1 for levels in problem.queue_levels])
        top = np.minimum(size[n_type] - 1, problem.max_chargers[n_site, n_type]).astype(np.int64)
        b_entry = np.repeat(np.arange(len(n_site)), np.maximum(top, 0))
        b_level = (
            np.concatenate([np.arange(1, t + 1) for t in top])
            if len(top)
            else np.empty(0, np.int64)
        )
        b_level = b_level.astype(np.int64)
    else:
        b_entry = b_level = np.empty(0, np.int64)
    upgradeable = np.isfinite(problem.grid_kw) & (problem.grid_upgrade_kw > 0) & useful
    g_site = np.flatnonzero(upgradeable) if problem.sizing else np.empty(0, np.int64)
    if problem.pair_links == "auto":
        strong = len(x_pair) <= STRONG_LINK_LIMIT
    else:
        strong = problem.pair_links == "always"
    ix = ModelIndex(
        offsets={},
        x_pair=x_pair,
        x_type=x_type,
        u_zone=u_zone,
        u_type=u_type,
        y_site=y_site,
        n_site=n_site,
        n_type=n_type,
        b_entry=b_entry,
        b_level=b_level,
        g_site=g_site,
        strong_links=strong,
    )
    return ix, {}


def add_period(
    lp: SparseMILP,
    problem: FacilityProblem,
    tag: str = "",
    pattern: np.ndarray | None = None,
    covering: bool = False,
) -> ModelIndex:
    r"""Add one period's columns and rows (all but budget, site limit and objective) to ``lp``.

    Block and row names get ``tag`` appended, so several periods (multi-year rollout) can share
    one model; the returned index maps the untagged block names to this period's columns.
    ``pattern``: see :func:`_index`.

    ``covering`` (only for :func:`is_pure_covering` problems): the assignment shares are
    projected out. With no pair costs and no capacity, zone i's type-k demand can be served in
    full exactly when a site in its reach is open, so ``assign`` and ``site_capacity`` become
    :math:`u_{ik} + \sum_{j \in P(i)} y_j \ge 1` (``cover``): the textbook maximal-covering
    rows, one per zone and type instead of one per pair. Same optimum, same ``y`` and ``u``;
    :func:`decode` serves each covered zone from its nearest open site.
    """
    ix, _ = _index(problem, pattern)
    if covering:
        if not is_pure_covering(problem):
            raise ValueError("the covering form needs a pure covering problem (is_pure_covering)")
        return _add_covering(lp, problem, ix, tag)
    k = len(problem.types)
    s = len(problem.site_ids)
    nx, nu, ny, nn = ix.sizes

    # --- columns -------------------------------------------------------------------------
    x_zone = problem.pair_zone[ix.x_pair]
    x_site = problem.pair_site[ix.x_pair]
    x_demand = problem.demand[x_zone, ix.x_type]
    entry_of = np.full((s, k), -1)
    entry_of[ix.n_site, ix.n_type] = np.arange(nn)
    x_entry = entry_of[x_site, ix.x_type] if problem.sizing else np.zeros(nx, np.int64)
    x_upper = np.where(problem.sizing & (x_entry < 0), 0.0, 1.0)  # site cannot host the type
    x_cols = lp.add_columns(f"x{tag}", nx, 0.0, x_upper)
    if problem.hard_demand:
        reachable = np.zeros((len(problem.zone_ids), k), bool)
        reachable[x_zone[x_upper > 0], ix.x_type[x_upper > 0]] = True
        u_upper = np.where(reachable[ix.u_zone, ix.u_type], 0.0, 1.0)
    else:
        u_upper = 1.0
    u_cols = lp.add_columns(f"u{tag}", nu, 0.0, u_upper)
    y_lower = problem.must_open[ix.y_site].astype(float)
    y_cols = lp.add_columns(f"y{tag}", ny, y_lower, 1.0, BINARY)
    y_col_of_site = np.full(s, -1)
    y_col_of_site[ix.y_site] = y_cols
    n_max = problem.max_chargers[ix.n_site, ix.n_type]
    n_min = problem.existing_chargers[ix.n_site, ix.n_type]
    n_cols = lp.add_columns(f"n{tag}", nn, n_min, n_max, INTEGER)
    queue = problem.queue_levels is not None
    if queue:
        q_size = np.array([len(levels) - 1 for levels in problem.queue_levels])[ix.n_type]
        m_cols = lp.add_columns(f"m{tag}", nn, 0.0, np.floor(n_max / q_size), INTEGER)
        b_cols = lp.add_columns(f"b{tag}", len(ix.b_entry), 0.0, 1.0, BINARY)
    g_cols = lp.add_columns(f"g{tag}", len(ix.g_site), 0.0, 1.0, BINARY)
    object.__setattr__(ix, "offsets", _offsets(lp, tag))

    # --- assignment: sum_j x_ijk + u_ik = 1 ------------------------------------------------
    row_of_zone_type = np.full(len(problem.zone_ids) * k, -1)
    row_of_zone_type[ix.u_zone * k + ix.u_type] = np.arange(nu)
    lp.add_rows(
        f"assign{tag}",
        nu,
        np.concatenate([row_of_zone_type[x_zone * k + ix.x_type], np.arange(nu)]),
        np.concatenate([x_cols, u_cols]),
        np.ones(nx + nu),
        1.0,
        1.0,
    )

    if problem.sizing:
        hosted = x_entry >= 0
        if queue:
            # sum_i d x - L[S] m - sum_r L[r] b_r <= 0 ; n - S m - sum_r r b_r = 0 ;
            # sum_r b_r - y <= 0
            top = np.array([levels[-1] for levels in problem.queue_levels])[ix.n_type]
            b_capacity = (
                np.array(
                    [
                        problem.queue_levels[t][r]
                        for t, r in zip(ix.n_type[ix.b_entry], ix.b_level, strict=True)
                    ]
                )
                if len(ix.b_entry)
                else np.empty(0)
            )
            lp.add_rows(
                f"capacity{tag}",
                nn,
                np.concatenate([x_entry[hosted], np.arange(nn), ix.b_entry]),
                np.concatenate([x_cols[hosted], m_cols, b_cols]),
                np.concatenate([x_demand[hosted], -top, -b_capacity]),
                None,
                0.0,
            )
            lp.add_rows(
                f"queue_count{tag}",
                nn,
                np.concatenate([np.arange(nn), np.arange(nn), ix.b_entry]),
                np.concatenate([n_cols, m_cols, b_cols]),
                np.concatenate([np.ones(nn), -q_size, -ix.b_level.astype(float)]),
                0.0,
                0.0,
            )
            lp.add_rows(
                f"queue_partial{tag}",
                nn,
                np.concatenate([ix.b_entry, np.arange(nn)]),
                np.concatenate([b_cols, y_col_of_site[ix.n_site]]),
                np.concatenate([np.ones(len(ix.b_entry)), -np.ones(nn)]),
                None,
                0.0,
            )
        else:
            # sum_i d_ik x_ijk - q_k n_jk <= 0
            lp.add_rows(
                f"capacity{tag}",
                nn,
                np.concatenate([x_entry[hosted], np.arange(nn)]),
                np.concatenate([x_cols[hosted], n_cols]),
                np.concatenate([x_demand[hosted], -problem.charger_capacity[ix.n_type]]),
                None,
                0.0,
            )
        # n_jk - M_jk y_j <= 0 ; min_jk y_j - n_jk <= 0
        lp.add_rows(
            f"open_for_chargers{tag}",
            nn,
            np.tile(np.arange(nn), 2),
            np.concatenate([n_cols, y_col_of_site[ix.n_site]]),
            np.concatenate([np.ones(nn), -n_max]),
            None,
            0.0,
        )
        n_least = problem.min_chargers[ix.n_site, ix.n_type]
        least = np.flatnonzero(n_least > 0)
        lp.add_rows(
            f"min_chargers{tag}",
            len(least),
            np.tile(np.arange(len(least)), 2),
            np.concatenate([y_col_of_site[ix.n_site[least]], n_cols[least]]),
            np.concatenate([n_least[least], -np.ones(len(least))]),
            None,
            0.0,
        )
        # sum_k n_jk - stalls_j y_j <= 0
        stall_sites = np.flatnonzero(np.isfinite(problem.max_stalls[ix.y_site]))
        if stall_sites.size:
            row_of_site = np.full(s, -1)
            row_of_site[ix.y_site[stall_sites]] = np.arange(stall_sites.size)
            rows = row_of_site[ix.n_site]
            keep = rows >= 0
            lp.add_rows(
                f"stalls{tag}",
                stall_sites.size,
                np.concatenate([rows[keep], np.arange(stall_sites.size)]),
                np.concatenate([n_cols[keep], y_cols[stall_sites]]),
                np.concatenate(
                    [np.ones(int(keep.sum())), -problem.max_stalls[ix.y_site[stall_sites]]]
                ),
                None,
                0.0,
            )
        # sum_k P_k n_jk - U_j g_j <= G_j ; g_j - y_j <= 0
        grid_sites = ix.y_site[np.isfinite(problem.grid_kw[ix.y_site])]
        if grid_sites.size:
            row_of_site = np.full(s, -1)
            row_of_site[grid_sites] = np.arange(grid_sites.size)
            rows = row_of_site[ix.n_site]
            keep = rows >= 0
            g_rows = row_of_site[ix.g_site]
            lp.add_rows(
                f"grid{tag}",
                grid_sites.size,
                np.concatenate([rows[keep], g_rows]),
                np.concatenate([n_cols[keep], g_cols]),
                np.concatenate(
                    [problem.charger_power_kw[ix.n_type[keep]], -problem.grid_upgrade_kw[ix.g_site]]
                ),
                None,
                problem.grid_kw[grid_sites],
            )
            lp.add_rows(
                f"grid_upgrade_open{tag}",
                len(ix.g_site),
                np.tile(np.arange(len(ix.g_site)), 2),
                np.concatenate([g_cols, y_col_of_site[ix.g_site]]),
                np.concatenate([np.ones(len(ix.g_site)), -np.ones(len(ix.g_site))]),
                None,
                0.0,
            )

    # --- site capacity (classic CFLP, or finite C_j) ---------------------------------------
    capacity = problem.site_capacity[ix.y_site].astype(float)
    if problem.sizing:
        cap_sites = np.flatnonzero(np.isfinite(capacity))
    else:
        reach_demand = np.bincount(x_site, weights=x_demand, minlength=s)
        capacity = np.where(np.isfinite(capacity), capacity, reach_demand[ix.y_site])
        cap_sites = np.arange(ny)
    if cap_sites.size:
        row_of_site = np.full(s, -1)
        row_of_site[ix.y_site[cap_sites]] = np.arange(cap_sites.size)
        rows = row_of_site[x_site]
        keep = rows >= 0
        lp.add_rows(
            f"site_capacity{tag}",
            cap_sites.size,
            np.concatenate([rows[keep], np.arange(cap_sites.size)]),
            np.concatenate([x_cols[keep], y_cols[cap_sites]]),
            np.concatenate([x_demand[keep], -capacity[cap_sites]]),
            None,
            0.0,
        )

    # --- strong links x_ijk <= y_j ---------------------------------------------------------
    if ix.strong_links and nx:
        lp.add_rows(
            f"pair_link{tag}",
            nx,
            np.tile(np.arange(nx), 2),
            np.concatenate([x_cols, y_col_of_site[x_site]]),
            np.concatenate([np.ones(nx), -np.ones(nx)]),
            None,
            0.0,
        )
    return ix


def _add_covering(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> ModelIndex:
    """The covering form of :func:`add_period`: columns ``u`` and ``y``, rows ``cover``."""
    k = len(problem.types)
    nu, ny = len(ix.u_zone), len(ix.y_site)
    # the pairs and types that would get assignment shares: zone has demand, site not excluded
    zone_type = problem.pair_zone[ix.x_pair] * k + ix.x_type
    site = problem.pair_site[ix.x_pair]
    row_of_zone_type = np.full(len(problem.zone_ids) * k, -1)
    row_of_zone_type[ix.u_zone * k + ix.u_type] = np.arange(nu)
    u_upper = 1.0
    if problem.hard_demand:  # demand with a site in reach must be covered
        reachable = np.zeros(len(problem.zone_ids) * k, bool)
        reachable[zone_type] = True
        u_upper = np.where(reachable[ix.u_zone * k + ix.u_type], 0.0, 1.0)
    empty = np.empty(0, np.int64)
    ix = dataclasses.replace(ix, x_pair=empty, x_type=empty, covering=True)
    lp.add_columns(f"x{tag}", 0, 0.0, 1.0)
    u_cols = lp.add_columns(f"u{tag}", nu, 0.0, u_upper)
    y_cols = lp.add_columns(f"y{tag}", ny, problem.must_open[ix.y_site].astype(float), 1.0, BINARY)
    lp.add_columns(f"n{tag}", 0, 0.0, 0.0, INTEGER)
    lp.add_columns(f"g{tag}", 0, 0.0, 1.0, BINARY)
    object.__setattr__(ix, "offsets", _offsets(lp, tag))
    y_col_of_site = np.full(len(problem.site_ids), -1)
    y_col_of_site[ix.y_site] = y_cols
    # u_ik + sum_{j in P(i)} y_j >= 1
    lp.add_rows(
        f"cover{tag}",
        nu,
        np.concatenate([np.arange(nu), row_of_zone_type[zone_type]]),
        np.concatenate([u_cols, y_col_of_site[site]]),
        np.ones(nu + site.size),
        1.0,
        None,
    )
    return ix


def _offsets(lp: SparseMILP, tag: str) -> dict[str, tuple[int, int]]:
    """The untagged block names of one period and their column ranges."""
    return {
        name[: len(name) - len(tag)]: pos
        for name, pos in lp.blocks.items()
        if name.endswith(tag) and name[: len(name) - len(tag)] in _BLOCKS
    }


def build_milp(problem: FacilityProblem, covering: bool = False) -> tuple[SparseMILP, ModelIndex]:
    """Assemble the model of :func:`build_model` as sparse arrays (no Pyomo yet).

    ``covering``: use the covering form (:func:`add_period`; pure covering problems only).
    """
    check_feasibility(problem)
    lp = SparseMILP()
    ix = add_period(lp, problem, covering=covering)
    ny = len(ix.y_site)
    y_cols = ix.cols("y")
    capex, capex_offset = capex_vector(problem, ix)
    if problem.budget is not None:
        used = np.flatnonzero(capex)
        lp.add_rows(
            "budget",
            1,
            np.zeros(len(used), np.int64),
            used,
            capex[used],
            None,
            problem.budget - capex_offset,
        )
    if problem.max_sites is not None:
        lp.add_rows(
            "max_sites",
            1,
            np.zeros(ny, np.int64),
            y_cols,
            np.ones(ny),
            None,
            float(problem.max_sites),
        )

    if problem.objective == "min_cost":
        lp.objective, lp.objective_offset = cost_vector(problem, ix)
    else:
        lp.objective, lp.objective_offset = unmet_vector(problem, ix), 0.0
    return lp, ix


def cost_vector(
    problem: FacilityProblem, ix: ModelIndex, n_cols: int | None = None
) -> tuple[np.ndarray, float]:
    """Coefficients and constant of the full cost ``capex + access + unmet penalty``."""
    weights, offset = capex_vector(problem, ix, n_cols)
    weights[ix.cols("x")] = problem.pair_cost[ix.x_pair, ix.x_type]
    weights[ix.cols("u")] = problem.unmet_penalty[ix.u_type] * problem.demand[ix.u_zone, ix.u_type]
    return weights, offset


def capex_vector(
    problem: FacilityProblem, ix: ModelIndex, n_cols: int | None = None
) -> tuple[np.ndarray, float]:
    """Coefficients and constant of capex: fixed costs, new chargers and grid upgrades.

    Existing chargers carry no capex: their cost is subtracted as a constant. ``n_cols``: the
    model's total number of columns (default: the end of this period's last block).
    """
    weights = np.zeros(n_cols or _end(ix))
    weights[ix.cols("y")] = problem.fixed_cost[ix.y_site]
    price = problem.charger_cost[ix.n_site, ix.n_type]
    weights[ix.cols("n")] = price
    weights[ix.cols("g")] = problem.grid_upgrade_cost[ix.g_site]
    offset = -float(price @ problem.existing_chargers[ix.n_site, ix.n_type])
    return weights, offset


def _end(ix: ModelIndex) -> int:
    return max(start + size for start, size in ix.offsets.values())


def unmet_vector(problem: FacilityProblem, ix: ModelIndex, n_cols: int | None = None) -> np.ndarray:
    """Coefficients of unmet demand (in demand units)."""
    weights = np.zeros(n_cols or _end(ix))
    weights[ix.cols("u")] = problem.demand[ix.u_zone, ix.u_type]
    return weights


def decode(problem: FacilityProblem, ix: ModelIndex, values: np.ndarray) -> dict[str, np.ndarray]:
    """Turn a column vector back into decisions: open sites, chargers, shares, upgrades."""
    k = len(problem.types)
    s = len(problem.site_ids)
    open_site = np.zeros(s, bool)
    open_site[ix.y_site] = values[ix.cols("y")] > 0.5
    chargers = np.zeros((s, k), np.int64)
    chargers[ix.n_site, ix.n_type] = np.rint(values[ix.cols("n")]).astype(np.int64)
    served = np.zeros((len(problem.pair_zone), k))
    served[ix.x_pair, ix.x_type] = np.clip(values[ix.cols("x")], 0.0, 1.0)
    unmet = np.zeros((len(problem.zone_ids), k))
    unmet[ix.u_zone, ix.u_type] = np.clip(values[ix.cols("u")], 0.0, 1.0)
    upgrade = np.zeros(s, bool)
    upgrade[ix.g_site] = values[ix.cols("g")] > 0.5
    if ix.covering:
        served = _nearest_open(problem, open_site, 1.0 - unmet)
    # Shares below the solver's feasibility tolerance are noise: clean them for reporting.
    served[served < 1e-9] = 0.0
    unmet[unmet < 1e-9] = 0.0
    return {
        "open_site": open_site,
        "chargers": chargers,
        "served": served,
        "unmet": unmet,
        "grid_upgrade": upgrade,
    }


def _nearest_open(problem: FacilityProblem, open_site: np.ndarray, share: np.ndarray) -> np.ndarray:
    """``(P, K)``: each zone's covered ``share`` served by its nearest open site in reach.

    For the covering form, where any open site in reach serves equally well (ties and unknown
    distances: the first pair).
    """
    k = len(problem.types)
    usable = (problem.demand[problem.pair_zone] > 0) & ~problem.excluded[problem.pair_site][:, None]
    usable &= open_site[problem.pair_site][:, None]
    pair, kind = np.nonzero(usable)
    zone = problem.pair_zone[pair]
    distance = np.nan_to_num(problem.distance_km[pair], nan=np.inf)
    order = np.lexsort((pair, distance, zone * k + kind))
    _, first = np.unique((zone * k + kind)[order], return_index=True)
    best = order[first]
    served = np.zeros((len(problem.pair_zone), k))
    served[pair[best], kind[best]] = share[zone[best], kind[best]]
    return served


def build_model(problem: FacilityProblem) -> tuple[pyo.ConcreteModel, ModelIndex]:
    r"""Build the Pyomo facility-location model.

    Sets: zones :math:`i \in I`, sites :math:`j \in J`, types :math:`k \in K`, reachable pairs
    :math:`(i, j) \in P`, with :math:`P(i)` the sites in reach of zone i and :math:`P(j)` the
    zones in reach of site j.

    Data: demand :math:`d_{ik}`, pair cost :math:`c_{ijk}` (serving all of zone i's type-k
    demand from j), fixed cost :math:`f_j`, site capacity :math:`C_j`, charger capacity
    :math:`q_k` (linear rule) or queue levels :math:`L_k(c)` for :math:`c = 0..S_k` (queueing
    rule), charger cost :math:`p_{jk}`, charger limits :math:`M_{jk}` and
    :math:`\underline{n}_{jk}`, existing chargers :math:`E_{jk}`, stall limit :math:`T_j`,
    charger power :math:`P_k`, grid :math:`G_j`, upgrade :math:`U_j` at cost :math:`a_j`,
    unmet penalty :math:`\pi_k`, budget :math:`B`, site limit :math:`N`.

    Variables: :math:`y_j \in \{0,1\}` open site (fixed to 1 if required or holding
    chargers, absent if excluded); :math:`n_{jk} \in \mathbb{Z}, E_{jk} \le n_{jk} \le M_{jk}`
    chargers; :math:`x_{ijk} \in [0,1]` share of zone i's type-k demand served by site j;
    :math:`u_{ik} \in [0,1]` unmet share; queueing rule: :math:`m_{jk} \in \mathbb{Z}_{\ge 0}`
    full queues and :math:`b_{jkr} \in \{0,1\}` a partial queue of r chargers,
    :math:`r = 1..S_k-1`; :math:`g_j \in \{0,1\}` grid upgrade.

    .. math::

        \min\; & \sum_j f_j y_j + \sum_{jk} p_{jk} (n_{jk} - E_{jk}) + \sum_j a_j g_j
                 + \sum_{(i,j) \in P,k} c_{ijk} x_{ijk} + \sum_{ik} \pi_k d_{ik} u_{ik}
                 && \text{(min\_cost)} \\
        \min\; & \sum_{ik} d_{ik} u_{ik} && \text{(max\_coverage)} \\
        \text{s.t.}\; & \sum_{j \in P(i)} x_{ijk} + u_{ik} = 1 && \forall i,k: d_{ik}>0 \\
        & \sum_{i \in P(j)} d_{ik} x_{ijk} \le q_k n_{jk} && \text{(linear rule)} \\
        & \sum_{i \in P(j)} d_{ik} x_{ijk} \le L_k(S_k) m_{jk} + \sum_r L_k(r) b_{jkr},\;
          n_{jk} = S_k m_{jk} + \sum_r r\, b_{jkr},\; \sum_r b_{jkr} \le y_j
          && \text{(queueing rule)} \\
        & \underline{n}_{jk} y_j \le n_{jk} \le M_{jk} y_j,\quad \sum_k n_{jk} \le T_j y_j \\
        & \sum_k P_k n_{jk} \le G_j + U_j g_j,\quad g_j \le y_j \\
        & \sum_{i \in P(j),k} d_{ik} x_{ijk} \le C_j y_j && \forall j: C_j < \infty
              \text{ or no sizing} \\
        & x_{ijk} \le y_j && \text{(strong links, optional)} \\
        & \sum_j f_j y_j + \sum_{jk} p_{jk} (n_{jk} - E_{jk}) + \sum_j a_j g_j \le B,
          \quad \sum_j y_j \le N

    The queueing rule is exact: :math:`L_k` is convex (queues have economies of scale), so
    with at most :math:`S_k` chargers per queue the most demand :math:`n` chargers serve is
    with full queues and one partial queue (a majorisation argument), which is what
    :math:`(m, b)` encode; each pair of :math:`(n, \text{capacity})` is reached exactly.
    Without sizing and with infinite :math:`C_j`, :math:`C_j` is the demand in reach of j
    (uncapacitated facility location, exact). With no sizing, finite capacities and a cost
    table this is the classic capacitated facility-location problem.

    Parameters
    ----------
    problem
        The instance.

    Returns
    -------
    tuple[pyomo.environ.ConcreteModel, ModelIndex]
        The model (objective ``obj``) and the map from its columns back to the data.
    """
    lp, ix = build_milp(problem)
    model, _ = lp.to_pyomo()
    return model, ix
