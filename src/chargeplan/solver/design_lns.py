r"""Exact sub-MIPs over windows of a design plan: a large-neighbourhood search after the moves.

The local search (:mod:`chargeplan.solver.design_search`) changes one or two stations at a
time; on a city piece HiGHS's branch and bound still finds plans several % cheaper, but the
whole piece is too large for it. This module re-optimises the plan **window by window**, each
window exactly (a MIP of the strong formulation solved by HiGHS from the current plan).

**A window.** A seed site and the sites nearest to it in the reach graph, grown greedily: the
site sharing the most zones in reach with the window so far joins next (ties: the lower
position), up to ``sites`` sites :math:`W` (sites with a ``y`` column only). With :math:`Z_W`
the zones in reach of :math:`W` and :math:`S_W` every site in reach of :math:`Z_W`, the
assignment of every zone outside :math:`Z_W` is kept, every site of :math:`S_W \setminus W`
keeps its option :math:`o_j` (its capacity less the load :math:`L^{out}_{jk}` it carries for
zones outside :math:`Z_W` is *reserved*), and the window's MIP chooses the sites of :math:`W`
(open :math:`y_j`, design :math:`z_{jd}`) and re-assigns :math:`Z_W`:

.. math::

    \min \sum_{j \in W} \Big( (c^y_j + c^E_j) y_j + \sum_d c^z_{jd} z_{jd} \Big)
        + \sum_{i \in Z_W} \Big( \sum_{j, k} c_{ijk} x_{ijk} + \sum_k c^u_{ik} u_{ik} \Big)

    \text{s.t.}\quad \sum_j x_{ijk} + u_{ik} = 1 \quad (i \in Z_W, k),
    \qquad \sum_d z_{jd} \le y_j \quad (j \in W),

    \sum_{i \in Z_W} d_{ik} x_{ijk} \le Q_{j0k} \Big( y_j - \sum_d z_{jd} \Big)
        + \sum_d Q_{jdk} z_{jd} \quad (j \in W),
    \qquad \sum_{i \in Z_W} d_{ik} x_{ijk} \le Q_{jk}(o_j) - L^{out}_{jk}
        \quad (j \in S_W \setminus W),

    x_{ijk} \le y_j \quad (j \in W) \quad \text{(the strong rows)},
    \qquad y_j, z_{jd} \in \{0, 1\},

with :math:`c^E_j` the existing chargers' cost, :math:`c^z_{jd}` a design's capex and its
stalls' cost, :math:`Q_{j0k}` the capacity of the existing chargers alone and :math:`Q_{jdk}`
the design's (:func:`~chargeplan.model.design_constraints.usable_capacity`; exactly one of
closed, bare, design d holds, so the capacity row is exact), :math:`y_j` fixed to 1 at required
sites and sites holding chargers. It is the piece's model restricted to the window: the
pricing of :class:`~chargeplan.solver.design_local.LocalPlan` with the options of :math:`W`
free. HiGHS solves it from the current plan (a feasible solution of it) with at most
``max_nodes`` branch-and-bound nodes and no time limit; its best plan replaces the window's
when the whole plan then costs less by more than
:data:`~chargeplan.solver.design_search.MIN_SAVING` (relative).

**The order.** Pass :math:`p` cuts the eligible sites into disjoint windows, a later pass
along other borders (:mod:`chargeplan.solver.design_lns_windows`). The windows are solved in
that order, each on the plan as it stands after the previous ones. A pass after the first runs
only while the plan is more than ``more_gap`` (relative) above the piece's bound: a piece whose
plan the first pass brought near its bound spends no more CPU there.

**The plan** is then the piece's whole LP with the new :math:`y` and :math:`z` fixed (the
search's own ending): its optimum is at most the windows' plan's cost, and its values are
decoded as the start's. The result never costs more than the plan it started from. Everything
is a fixed sequence of LPs and node-limited MIPs: the plan depends on the model only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from chargeplan.config.solver import SolverOptions
from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.sparse import pass_arrays
from chargeplan.solver.design_lns_windows import pass_windows, windows
from chargeplan.solver.design_local import LocalPlan, local_applies
from chargeplan.solver.design_lp import Relaxation, quiet_highs
from chargeplan.solver.design_search import (
    BARE,
    CLOSED,
    MIN_SAVING,
    _fix_options,
    _required,
    plan_options,
)

__all__ = [
    "LNS_LARGE_PAIRS",
    "LNS_LARGE_SITES",
    "LNS_MIN_GAP",
    "LNS_MIN_PAIRS",
    "LNS_MORE_GAP",
    "LNS_NODES",
    "LNS_PASSES",
    "LNS_REPLACES_SEARCH",
    "LNS_SITES",
    "LnsResult",
    "WindowSearch",
    "design_lns",
    "windows",
]

# The defaults, measured on the national pieces (docs/stations.md, "Exact windows"), and
# repeated in SolverOptions (config cannot import the solver; a test keeps them equal):
#: Sites per window (``SolverOptions.design_lns_sites``) on pieces of fewer than
#: :data:`LNS_LARGE_PAIRS` pairs: on 33 national city pieces of 1,500-10,000 pairs, 6 sites
#: made the plans 0.94 % cheaper than 4 for 11 % more CPU (docs/stations.md, "Wider windows").
LNS_SITES = 6
#: Sites per window on pieces of at least ``LNS_LARGE_PAIRS`` pairs (``design_lns_large_*``):
#: there 6 sites saved only 0.47 % more than 4, for 29 % more CPU (same section).
LNS_LARGE_SITES, LNS_LARGE_PAIRS = 4, 10_000
#: Branch-and-bound nodes per window MIP (``SolverOptions.design_lns_nodes``): the root's
#: cuts and RINS find the plans, 10 nodes gave the same within 0.03 % for 15 % more CPU.
LNS_NODES = 1
#: Passes over a piece, each cutting it into disjoint windows along other borders: on the 279
#: national pieces, three passes (the later two only above ``LNS_MORE_GAP``) take the gap from
#: 2.38 to 1.95 % for about 80 % more CPU (docs/stations.md, "A second pass ...").
LNS_PASSES = 3
#: Passes after the first only while the plan is more than this (relative) above its bound
#: (``SolverOptions.design_lns_more_gap``; 0: every pass runs): the pieces the first pass
#: leaves within 2 % are the small, cheap ones, so the gap target is what the passes aim at.
LNS_MORE_GAP = 0.02
#: Least pairs of a piece searched by windows (``SolverOptions.design_lns_min_pairs``): without
#: the local search, the windows gave plans as cheap as the search's or cheaper for less CPU
#: on national pieces of 1,974-2,976 pairs (docs/stations.md, "Where the gap lives"); 1,500
#: covers every national city component, smaller models keep the local search.
LNS_MIN_PAIRS = 1_500
#: Least relative gap of the plan (after the rounding and the Lagrangian heuristic) to its bound
#: for the windows: a plan proven within 0.1 % is left as it is (national pieces bundling
#: thousands of one-site reach components have gaps of 0: the relaxation is exact there).
LNS_MIN_GAP = 1e-3
#: Whether the windows replace the local search (``SolverOptions.design_lns_replaces_search``):
#: on a piece the windows search, the plan goes from step 5 straight to the windows. On 10
#: national pieces of 2,865-2,976 pairs the windows alone gave CNY 779.1 M for 19 s of CPU, the
#: search alone (the default before) 787.6 M for 25 s, both 771.8 M for 35 s.
LNS_REPLACES_SEARCH = True
#: HiGHS's root reduced-cost heuristic (a sub-MIP over the columns of small reduced cost) in
#: the windows' MIPs: off, the 122 windows of national pieces 30, 60, 110 and 175 took 5.6-6.5
#: s of CPU instead of 9.5-9.9 s, and in sequence the same or cheaper plans (docs/stations.md,
#: "Where the gap lives").
ROOT_REDUCED_COST = False


@dataclass(frozen=True)
class WindowSearch:
    """How the windows search a plan (:func:`design_lns`).

    Attributes
    ----------
    sites
        Sites per window (0: no window search).
    max_nodes
        Branch-and-bound nodes of each window's MIP.
    min_pairs
        Only models of at least this many zone-site pairs are searched.
    passes
        Passes over the model.
    replaces_search
        Whether a model the windows search skips the local search (step 6 of the design
        start) and goes from its rounded or Lagrangian plan straight to the windows.
    large_sites, large_pairs
        Sites per window on models of at least ``large_pairs`` zone-site pairs (0: ``sites``).
    more_gap
        Passes after the first only while the plan is more than this (relative) above the
        model's bound.
    """

    sites: int = LNS_SITES
    max_nodes: int = LNS_NODES
    min_pairs: int = LNS_MIN_PAIRS
    passes: int = LNS_PASSES
    replaces_search: bool = LNS_REPLACES_SEARCH
    large_sites: int = LNS_LARGE_SITES
    large_pairs: int = LNS_LARGE_PAIRS
    more_gap: float = LNS_MORE_GAP

    @classmethod
    def from_options(cls, options: SolverOptions) -> WindowSearch:
        """The windows ``options`` ask for (``design_lns_*``)."""
        return cls(
            options.design_lns_sites,
            options.design_lns_nodes,
            options.design_lns_min_pairs,
            options.design_lns_passes,
            replaces_search=options.design_lns_replaces_search,
            large_sites=options.design_lns_large_sites,
            large_pairs=options.design_lns_large_pairs,
            more_gap=options.design_lns_more_gap,
        )

    def sites_for(self, problem: FacilityProblem) -> int:
        """Sites per window on ``problem``: ``large_sites`` on a large model, else ``sites``."""
        large = self.large_sites > 0 and len(problem.pair_zone) >= self.large_pairs
        return self.large_sites if large else self.sites

    def applies(self, problem: FacilityProblem, gap: float = np.inf) -> bool:
        """Whether ``problem`` is searched: windows asked for, enough pairs, and its plan's
        relative ``gap`` to its bound above :data:`LNS_MIN_GAP`."""
        enough = len(problem.pair_zone) >= self.min_pairs and gap > LNS_MIN_GAP
        return self.sites > 0 and self.passes > 0 and enough


@dataclass(frozen=True)
class LnsResult:
    """The plan after the windows.

    Attributes
    ----------
    values
        Column values of the plan (model order).
    objective
        Its cost (constant included).
    windows
        Window MIPs solved.
    kept
        Windows whose plan was kept.
    """

    values: np.ndarray
    objective: float
    windows: int
    kept: int


def design_lns(
    problem: FacilityProblem,
    ix: ModelIndex,
    relax: Relaxation,
    values: np.ndarray,
    sites: int = LNS_SITES,
    max_nodes: int = LNS_NODES,
    passes: int = LNS_PASSES,
    bound: float = -np.inf,
    more_gap: float = LNS_MORE_GAP,
    watch: Callable[[int, np.ndarray, bool, LocalPlan], None] | None = None,
) -> LnsResult | None:
    """Improve the plan ``values`` window by window, each window an exact MIP (module docstring).

    Parameters
    ----------
    problem, ix
        The instance and its model's index.
    relax
        The model's LP in HiGHS (:class:`~chargeplan.solver.design_lp.Relaxation`); its bounds
        are changed (left at the returned plan's ``y`` and ``z``).
    values
        A plan: ``y`` and ``z`` 0/1.
    sites
        Sites per window.
    max_nodes
        Branch-and-bound nodes of each window's MIP (HiGHS's ``mip_max_nodes``).
    passes
        Most passes over the piece.
    bound, more_gap
        A lower bound of the model's optimum: a pass after the first runs only while the plan
        costs more than ``bound + more_gap * |cost|``.
    watch
        Called after each window with the pass, the window's sites, whether its plan was kept
        and the plan as it stands (:class:`~chargeplan.solver.design_local.LocalPlan`, not to
        be changed): a hook for measurements (``benchmarks/window_passes.py``), no effect on
        the plan.

    Returns
    -------
    LnsResult or None
        ``None`` if the model is not one :class:`~chargeplan.solver.design_local.LocalPlan`
        prices or the plan's own LP is not optimal.
    """
    if not local_applies(problem, relax.lp, ix) or sites < 1 or passes < 1:
        return None
    option = plan_options(problem, ix, values)
    everywhere = np.arange(len(option))
    _fix_options(ix, relax, option, everywhere)
    solved = relax.solve()
    if solved is None:
        return None
    values, cost = solved
    local = LocalPlan(problem, relax.lp, ix, option, values, cost)
    window = WindowMIP(local, relax, _required(problem, ix, relax))
    tried = kept = 0
    for done, found in enumerate(pass_windows(problem, ix, sites, passes)):
        if done and local.cost - bound <= more_gap * abs(local.cost):
            break  # near enough to the bound: no more passes
        for members in found:
            priced = window.solve(members, max_nodes)
            tried += 1
            cheaper = False
            if priced is not None and priced[0] < local.cost - MIN_SAVING * abs(local.cost):
                local.keep(priced)
                kept, cheaper = kept + 1, True
            if watch is not None:
                watch(done, members, cheaper, local)
    if not kept:
        return LnsResult(values, cost, tried, 0)
    _fix_options(ix, relax, local.option, everywhere)
    better = relax.solve()
    if better is None or better[1] >= cost:  # never: the windows' plan is a plan of that LP
        _fix_options(ix, relax, option, everywhere)
        return LnsResult(values, cost, tried, 0)
    return LnsResult(better[0], better[1], tried, kept)


class WindowMIP:
    """The windows' MIPs (module docstring) on a :class:`LocalPlan`, solved in one HiGHS.

    Parameters
    ----------
    local
        The plan (its options, assignment and loads); :meth:`solve` does not change it.
    relax
        The piece's LP (for the model's bounds of ``y`` and ``z``).
    required
        ``(S,)`` sites that stay open.
    """

    def __init__(self, local: LocalPlan, relax: Relaxation, required: np.ndarray):
        self.local, self.ix = local, local.ix
        lower, upper, _ = relax.lp.bounds()
        n_sites = len(required)
        self.y_lower, self.y_upper = np.zeros(n_sites), np.zeros(n_sites)
        self.y_lower[self.ix.y_site] = lower[self.ix.cols("y")]
        self.y_upper[self.ix.y_site] = upper[self.ix.cols("y")]
        self.y_lower[required] = 1.0
        self.z_lower, self.z_upper = lower[self.ix.cols("z")], upper[self.ix.cols("z")]
        self.z_of_site = _by_site(self.ix.z_site, n_sites)
        self.highs: Any = None

    def solve(self, sites: np.ndarray, max_nodes: int) -> tuple[float, tuple] | None:
        """The whole plan's cost with the window ``sites`` re-optimised and the move for
        :meth:`LocalPlan.keep`; ``None`` if HiGHS has no plan (it always has the start)."""
        local, ix = self.local, self.ix
        n_types = local.load.shape[1]
        zones = np.unique(local.zones_of_site.gather(sites))
        if not zones.size:  # sites in reach of no zone: nothing to re-assign
            return None
        xs, us = local.x_of_zone.gather(zones), local.u_of_zone.gather(zones)
        zs = np.concatenate([self.z_of_site[s] for s in sites.tolist()])
        free = np.zeros(len(local.option), bool)
        free[sites] = True
        local_sites, x_site = np.unique(local.x_site[xs], return_inverse=True)
        inside = np.zeros((local_sites.size, n_types))
        np.add.at(inside, (x_site, ix.x_type[xs]), local.x_weight[xs] * local.x[xs])
        room = local.capacity(local_sites, local.option[local_sites])
        room = np.maximum(room - (local.load[local_sites] - inside), 0.0)
        model = _model(self, sites, zones, xs, us, zs, x_site, local_sites, free, room)
        start = np.concatenate(
            [
                local.x[xs],
                local.u[us],
                (local.option[sites] != CLOSED).astype(float),
                (local.option[ix.z_site[zs]] == zs).astype(float),
            ]
        )
        solution = self._run(model, start, max_nodes)
        if solution is None:
            return None
        value, columns = solution
        n_xu, n_w = xs.size + us.size, sites.size
        opened = columns[n_xu : n_xu + n_w] > 0.5
        chosen = columns[n_xu + n_w :] > 0.5
        options = np.where(opened, BARE, CLOSED)
        options[np.searchsorted(sites, ix.z_site[zs[chosen]])] = zs[chosen]
        old = local.x_cost[xs] @ local.x[xs] + local.u_cost[us] @ local.u[us]
        old += local.fixed_cost(sites, local.option[sites])
        return local.cost - float(old) + value, (sites, options, xs, us, columns[:n_xu])

    def _run(
        self, model: tuple, start: np.ndarray, max_nodes: int
    ) -> tuple[float, np.ndarray] | None:
        """Solve the MIP from ``start`` with a node limit; its value and columns."""
        import highspy

        if self.highs is None:
            # no "threads" option: HiGHS's scheduler is global to the process (design_local)
            self.highs = quiet_highs()
            self.highs.setOptionValue("time_limit", float("inf"))
            self.highs.setOptionValue("mip_rel_gap", 1e-6)
            # a restart repeats the root's cut loop: on city windows it doubled the time for
            # the same plans (docs/stations.md, "Exact windows")
            self.highs.setOptionValue("mip_allow_restart", False)
            # the start is feasible and the window small: no feasibility jump, no RENS, no
            # symmetry detection (a quarter of the time, the same plans; docs/stations.md)
            for name in ("mip_heuristic_run_feasibility_jump", "mip_heuristic_run_rens"):
                self.highs.setOptionValue(name, False)
            self.highs.setOptionValue("mip_detect_symmetry", False)
            self.highs.setOptionValue("mip_heuristic_run_root_reduced_cost", ROOT_REDUCED_COST)
        self.highs.setOptionValue("mip_max_nodes", int(max_nodes))
        pass_arrays(self.highs, *model)
        given = highspy.HighsSolution()
        given.col_value = start.tolist()
        self.highs.setSolution(given)
        self.highs.run()
        info = self.highs.getInfo()
        if info.primal_solution_status != 2:  # kSolutionStatusFeasible
            return None
        columns = np.asarray(self.highs.getSolution().col_value, dtype=float)
        return float(info.objective_function_value), columns


def _model(
    mip: WindowMIP,
    sites: np.ndarray,
    zones: np.ndarray,
    xs: np.ndarray,
    us: np.ndarray,
    zs: np.ndarray,
    x_site: np.ndarray,
    local_sites: np.ndarray,
    free: np.ndarray,
    room: np.ndarray,
) -> tuple:
    """The window's MIP as :func:`~chargeplan.model.sparse.pass_arrays` takes it: columns
    ``x`` (``xs``), ``u`` (``us``), ``y`` (``sites``), ``z`` (``zs``); rows demand, capacity,
    design choice and the strong links (module docstring)."""
    local, ix = mip.local, mip.ix
    n_types = local.load.shape[1]
    n_x, n_u, n_w, n_z = xs.size, us.size, sites.size, zs.size
    n_cols = n_x + n_u + n_w + n_z
    y_at = n_x + n_u + np.searchsorted(sites, local_sites)  # y column of a free local site
    z_at = n_x + n_u + n_w + np.arange(n_z)
    w_of_z = np.searchsorted(sites, ix.z_site[zs])
    # demand rows: sum_j x_ijk + u_ik = 1
    eq_key = np.concatenate([local.x_zone[xs], ix.u_zone[us]]) * n_types + np.concatenate(
        [ix.x_type[xs], ix.u_type[us]]
    )
    _, eq_row = np.unique(eq_key, return_inverse=True)
    a_eq = sp.csr_matrix(
        (np.ones(n_x + n_u), (eq_row, np.arange(n_x + n_u))), (eq_row.max() + 1, n_cols)
    )
    # capacity rows, one per (site, type) the x reach: fixed sites against their room, free
    # sites against Q_0 (y - sum z) + sum_d Q_d z
    key = x_site * n_types + ix.x_type[xs]
    used, cap_row = np.unique(key, return_inverse=True)
    row_site, row_type = used // n_types, used % n_types
    row_free = free[local_sites[row_site]]
    base = local.base[local_sites[row_site], row_type]
    y_rows = np.flatnonzero(row_free)
    rows = [cap_row, y_rows]
    cols = [np.arange(n_x), y_at[row_site[y_rows]]]
    vals = [local.x_weight[xs], -base[y_rows]]
    # z entries: each z column of a free site in every capacity row of that site
    row_of = np.full((len(local.option), n_types), -1)
    row_of[local_sites[row_site], row_type] = np.arange(used.size)
    z_rows = row_of[ix.z_site[zs]]  # (n_z, K)
    design = local.design_capacity[ix.z_site[zs], ix.z_design[zs]]  # (n_z, K)
    at = z_rows >= 0
    zi, ki = np.nonzero(at)
    rows.append(z_rows[zi, ki])
    cols.append(z_at[zi])
    vals.append(local.base[ix.z_site[zs[zi]], ki] - design[zi, ki])
    a_cap = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), (used.size, n_cols)
    )
    cap_hi = np.where(row_free, 0.0, room[row_site, row_type])
    # design choice: sum_d z_jd - y_j <= 0; strong links: x_ijk - y_j <= 0 (j free)
    linked = np.flatnonzero(free[local.x_site[xs]])
    n_link = linked.size
    a_rest = sp.csr_matrix(
        (
            np.concatenate([np.ones(n_z), -np.ones(n_w), np.ones(n_link), -np.ones(n_link)]),
            (
                np.concatenate(
                    [w_of_z, np.arange(n_w), n_w + np.arange(n_link), n_w + np.arange(n_link)]
                ),
                np.concatenate([z_at, n_x + n_u + np.arange(n_w), linked, y_at[x_site[linked]]]),
            ),
        ),
        (n_w + n_link, n_cols),
    )
    bare, y_cost, z_cost = local.fixed
    closed_fixed = ~free[local.x_site[xs]] & (local.option[local.x_site[xs]] == CLOSED)
    lower = np.concatenate([np.zeros(n_x), local.u_lower[us], mip.y_lower[sites], mip.z_lower[zs]])
    upper = np.concatenate(
        [np.where(closed_fixed, 0.0, 1.0), local.u_upper[us], mip.y_upper[sites], mip.z_upper[zs]]
    )
    integer = np.r_[np.zeros(n_x + n_u, bool), np.ones(n_w + n_z, bool)]
    cost = np.concatenate(
        [local.x_cost[xs], local.u_cost[us], y_cost[sites] + bare[sites], z_cost[zs]]
    )
    n_eq = a_eq.shape[0]
    matrix = sp.vstack([a_eq, a_cap, a_rest], format="csr")
    row_lo = np.concatenate([np.ones(n_eq), np.full(used.size + n_w + n_link, -np.inf)])
    row_hi = np.concatenate([np.ones(n_eq), cap_hi, np.zeros(n_w + n_link)])
    return lower, upper, integer, cost, matrix, row_lo, row_hi


def _by_site(keys: np.ndarray, n: int) -> list[np.ndarray]:
    """For each of ``n`` sites, the positions whose key it is."""
    by_key = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[by_key], np.arange(n + 1))
    return [by_key[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]
