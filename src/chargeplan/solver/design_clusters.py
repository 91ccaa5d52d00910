r"""A lower bound of a station-design model from a Lagrangian decomposition by clusters of sites.

:mod:`chargeplan.solver.design_bound` dualises *every* demand row, which separates the model
by site; its best value is the disjunctive LP (:mod:`chargeplan.solver.design_hull`), in which
each site's options are convexified on their own. What it loses is the integrality of the
stations *jointly*: a cell half served by two half-built neighbours costs the relaxation half
of each station. Here the sites are **partitioned into clusters** :math:`C_1, \dots, C_m`
(:func:`site_clusters`) and only the demand rows of cells reached from several clusters are
dualised (Geoffrion 1974, "Lagrangean relaxation for integer programming"; the rows kept
inside a cluster make it a Lagrangian decomposition in the sense of Guignard & Kim 1987,
"Lagrangean decomposition: a model yielding stronger Lagrangean bounds").

**Model** (the relaxation's own arrays, :class:`~chargeplan.solver.design_bound._Pieces`):
pairs :math:`t` (a zone-site pair and a charger type, of demand row :math:`r(t)`, site
:math:`j(t)`, weight :math:`a_t = d_{r} \bar x_t`, cost :math:`c_t`, share
:math:`\bar x_t`), options :math:`o \in O_j` of each site (fixed cost :math:`F_o`, capacity
:math:`Q_{ok}`), demand rows :math:`r` (unmet price :math:`c^u_r`, bounds
:math:`[l_r, h_r]`). A demand row is **kept** in cluster :math:`C` if all its pairs' sites lie
in :math:`C`, else it is **shared** (set :math:`S`) and dualised with :math:`\lambda_r`:

.. math::

    L_{\mathcal C}(\lambda) = c_0 + \sum_{r \in S} \Big(\lambda_r + \min_{u_r \in [l_r, h_r]}
    (c^u_r - \lambda_r) u_r \Big) + \sum_{C} v_C(\lambda),

where :math:`v_C(\lambda)` is the optimum of the cluster's **station-design MIP**, written
disjunctively (Balas 1979; as the LP of :mod:`chargeplan.solver.design_hull`, one copy
:math:`t_{to}` of each pair's share per option of its site) so that its LP relaxation is at
least the sites' Lagrangian pieces:

.. math::

    v_C(\lambda) = \min\; & \sum_{o} F_o w_o + \sum_{t, o} \hat c_t\, t_{to}
        + \sum_{r \text{ kept in } C} c^u_r u_r \\
    \text{s.t.}\; & \sum_{o \in O_j} w_o = 1 \quad (j \in C), \qquad
        \sum_{t \in r} \sum_o \bar x_t\, t_{to} + u_r = 1 \quad (r \text{ kept in } C), \\
    & \sum_{t \in (j, k)} a_t\, t_{to} \le \hat Q_{ok} w_o, \qquad 0 \le t_{to} \le w_o,
      \qquad w_o \in \{0, 1\}, \quad u_r \in [l_r, h_r],

with :math:`\hat c_t = c_t - \lambda_{r(t)} \bar x_t` for the pairs of shared rows (:math:`c_t`
for kept ones) and :math:`\hat Q_{ok} = \min(Q_{ok}, \sum_{t \in (j,k)} a_t)` (a site never
carries more than its pairs' demand: an infinite capacity becomes finite). With :math:`w`
integral, :math:`x_t = \sum_o t_{to}` is the pair's share in the one option chosen.

**Validity.** For any plan of the model, the dualised rows hold, so their term
:math:`\sum_{r \in S} \lambda_r (1 - \sum_t \bar x_t x_t - u_r)` is 0, and the rest separates by
cluster: :math:`L_{\mathcal C}(\lambda)` is a lower bound of the optimum **for every**
:math:`\lambda`. HiGHS solves each cluster's MIP to a deterministic node limit
(``mip_max_nodes``, never a clock) and its **dual bound** :math:`\underline v_C \le v_C` is
what is summed, so the bound is valid however HiGHS stops. Dualising the kept rows too gives
the site-level :math:`L(\lambda)` (a relaxation of the cluster's MIP), so each cluster's term
is taken as :math:`\max(\underline v_C, \sum_{j \in C} L_j(\lambda) + \sum_{r \text{ kept}}
(\lambda_r + \min_u (c^u_r - \lambda_r) u_r))`: :math:`L_{\mathcal C}(\lambda) \ge L(\lambda)`
at the same multipliers. With one cluster holding every site and no node limit it is the
relaxation's integer optimum (the model's, where it drops nothing). Rows without pairs stay
dualised (their term is exact at :math:`\lambda_r = c^u_r`).

**Where it is evaluated.** At the site-level relaxation's best multipliers
(:func:`~chargeplan.solver.design_bound.lagrangian_bound`): their kept rows no longer matter,
and the shared rows' prices are those the site pieces settled on. No subgradient steps over
:math:`L_{\mathcal C}` (each would solve every cluster's MIP again). Measured on national
pieces (``docs/stations.md``, "A bound over clusters of sites"): with clusters of 4-16 sites
it is 0.00-0.28 % above :math:`L` for 2-16 times the CPU of the 300 subgradient steps, most of
it already in the clusters' LPs (``max_nodes = 0``): in a city 30-80 % of the demand rows
reach sites of several clusters, and the clusters' MIPs are nearly integral at their LP
optimum. Hence off in the solver by default (``SolverOptions.design_cluster_sites = 0``).

**Clusters** (:func:`site_clusters`): the sites are joined by heavy-edge matching (as in the
coarsening of multilevel graph partitioning, Karypis & Kumar 1998): the weight of two sites is
the demand of the rows both reach, each level matches every cluster with its heaviest
neighbour whose joint size stays within ``size`` sites, heaviest edges first, until no match
is left; ties broken by position, so the clusters depend only on the model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.sparse import SparseMILP
from chargeplan.solver.design_bound import _evaluate, _Pieces, _pieces, lagrangian_applies
from chargeplan.solver.design_hull import _hull_arrays
from chargeplan.solver.design_lp import colwise_lp, quiet_highs

__all__ = [
    "CLUSTER_ABOVE",
    "CLUSTER_NODES",
    "CLUSTER_SITES",
    "ClusterBound",
    "cluster_bound",
    "site_clusters",
]

#: Sites per cluster at most, where the caller gives none (the middle of the sizes measured on
#: the national pieces: docs/stations.md, "A bound over clusters of sites").
CLUSTER_SITES = 8
#: HiGHS's branch-and-bound node limit per cluster MIP (a work limit: no clock decides it).
CLUSTER_NODES = 50
#: The design start computes the bound only where the plan is further than this share above
#: the site-level Lagrangian bound (a piece already within it gains nothing worth the MIPs).
CLUSTER_ABOVE = 0.02
#: HiGHS's relative gap per cluster MIP (its dual bound is what counts).
CLUSTER_GAP = 1e-4
#: HiGHS's options for the cluster MIPs: only the dual bound counts, so no primal heuristics,
#: and no symmetry detection or restarts (the same bound in half the CPU: docs/stations.md,
#: "A bound over clusters of sites").
MIP_OPTIONS: dict[str, object] = {
    "mip_heuristic_effort": 0.0,
    "mip_detect_symmetry": False,
    "mip_allow_restart": False,
}


@dataclass(frozen=True)
class ClusterBound:
    """The bound over clusters of sites at given multipliers.

    Attributes
    ----------
    bound
        :math:`L_{\\mathcal C}(\\lambda)` (module docstring): a lower bound of the optimum.
    site_bound
        The site-level :math:`L(\\lambda)` at the same multipliers (never above ``bound``).
    clusters
        Clusters with at least one site.
    shared_rows
        Demand rows dualised (reached from several clusters, or from none).
    raised
        Clusters whose MIP's dual bound was above their sites' Lagrangian pieces.
    nodes
        Branch-and-bound nodes of all the cluster MIPs.
    """

    bound: float
    site_bound: float
    clusters: int
    shared_rows: int
    raised: int
    nodes: int


def site_clusters(
    item_row: np.ndarray,
    item_site: np.ndarray,
    row_demand: np.ndarray,
    n_sites: int,
    size: int,
) -> np.ndarray:
    """Partition the sites into clusters of at most ``size`` by heavy-edge matching.

    Parameters
    ----------
    item_row, item_site
        Each pair's demand row and site.
    row_demand
        Each demand row's demand (the weight of the rows two sites share).
    n_sites
        Number of sites.
    size
        Most sites per cluster (1: every site alone).

    Returns
    -------
    numpy.ndarray
        ``(n_sites,)`` cluster number of each site, ``0 .. m-1``.
    """
    import scipy.sparse as sp

    label = np.arange(n_sites)
    if size <= 1 or n_sites == 0:
        return label
    n_rows = row_demand.size
    reach = sp.csr_matrix((np.ones(item_row.size), (item_row, item_site)), shape=(n_rows, n_sites))
    reach.data[:] = 1.0  # a site reaches a row once, whatever its types
    weight = (reach.T @ sp.diags(np.asarray(row_demand, float)) @ reach).tocsr()
    while True:
        count = int(label.max()) + 1
        member = sp.csr_matrix((np.ones(n_sites), (np.arange(n_sites), label)), (n_sites, count))
        joint = sp.triu(member.T @ weight @ member, k=1).tocoo()
        sizes = np.bincount(label, minlength=count)
        fits = (sizes[joint.row] + sizes[joint.col] <= size) & (joint.data > 0)
        a, b, w = joint.row[fits], joint.col[fits], joint.data[fits]
        order = np.lexsort((b, a, -w))
        merged = _match(a[order], b[order], count)
        if (merged == np.arange(count)).all():
            return label
        _, label = np.unique(merged[label], return_inverse=True)


def _match(a: np.ndarray, b: np.ndarray, count: int) -> np.ndarray:
    """Greedy matching over the edges ``(a, b)`` in the order given: each cluster joins at
    most one other; returns the cluster each one merges into (itself if unmatched)."""
    into = np.arange(count)
    taken = np.zeros(count, bool)
    for i, j in zip(a.tolist(), b.tolist(), strict=True):  # a loop over clusters' edges
        if not taken[i] and not taken[j]:
            taken[i] = taken[j] = True
            into[j] = i
    return into


def cluster_bound(
    problem: FacilityProblem,
    lp: SparseMILP,
    ix: ModelIndex,
    multipliers: np.ndarray,
    size: int = CLUSTER_SITES,
    max_nodes: int | None = CLUSTER_NODES,
    gap: float = CLUSTER_GAP,
) -> ClusterBound | None:
    r""":math:`L_{\mathcal C}(\lambda)` over clusters of at most ``size`` sites (module
    docstring).

    Parameters
    ----------
    problem, lp, ix
        The model (:func:`~chargeplan.model.formulation.build_milp`).
    multipliers
        :math:`\lambda`, one per demand row in ``u`` column order (e.g.
        :attr:`~chargeplan.solver.design_bound.LagrangeBound.multipliers`).
    size
        Most sites per cluster.
    max_nodes
        HiGHS's node limit per cluster MIP (``None``: none; 0: only its LP relaxation, the
        cluster's disjunctive LP with its rows kept, e.g. to measure what the integrality of
        ``w`` adds).
    gap
        HiGHS's relative gap per cluster MIP.

    Returns
    -------
    ClusterBound or None
        ``None`` where the Lagrangian relaxation does not cover the model
        (:func:`~chargeplan.solver.design_bound.lagrangian_applies`).
    """
    if not lagrangian_applies(problem, lp):
        return None
    p = _pieces(problem, lp, ix)
    lam = np.asarray(multipliers, float)
    point = _evaluate(p, lam)
    k = max(p.n_types, 1)
    item_site = p.item_group // k
    n_sites = p.n_groups // k
    cluster = site_clusters(p.item_row, item_site, p.u_demand, n_sites, size)
    # per site: its Lagrangian piece L_j (chosen option's cost and its pairs' reduced costs)
    value = p.item_cost - lam[p.item_row] * p.item_upper
    piece = np.bincount(point.option_site, weights=point.option_cost, minlength=n_sites)
    piece += np.bincount(
        item_site[point.item],
        weights=value[point.item] * point.x / p.item_upper[point.item],
        minlength=n_sites,
    )
    # rows kept in one cluster: every pair's site in the same cluster
    n_rows = lam.size
    first = np.full(n_rows, -1)
    first[p.item_row] = cluster[item_site]  # one of the row's pairs' clusters, any
    kept = np.zeros(n_rows, bool)
    kept[p.item_row] = True
    kept[p.item_row[cluster[item_site] != first[p.item_row]]] = False
    reduced = p.u_cost - lam
    unmet = np.where(reduced < 0.0, p.u_upper, p.u_lower)
    row_term = lam + reduced * unmet
    row_cluster = np.where(kept, first, -1)
    count = int(cluster.max()) + 1 if n_sites else 0
    lower = np.bincount(cluster, weights=piece, minlength=count)
    lower += np.bincount(row_cluster[kept], weights=row_term[kept], minlength=count)
    site_bound = p.offset + row_term.sum() + piece.sum()
    mips = _ClusterMips(p, lam, cluster, kept, row_cluster)
    raised = nodes = 0
    for c in range(count):  # one small MIP per cluster
        found, used = mips.dual_bound(c, max_nodes, gap)
        nodes += used
        if found > lower[c]:
            lower[c], raised = found, raised + 1
    bound = p.offset + row_term[~kept].sum() + lower.sum()
    return ClusterBound(float(bound), float(site_bound), count, int((~kept).sum()), raised, nodes)


class _ClusterMips:
    """The cluster MIPs of the module docstring, built from the relaxation's arrays with the
    pairs and options sorted by cluster (one slice per cluster, no search over all pairs)."""

    def __init__(
        self,
        p: _Pieces,
        lam: np.ndarray,
        cluster: np.ndarray,
        kept: np.ndarray,
        row_cluster: np.ndarray,
    ):
        k = max(p.n_types, 1)
        self.p, self.k = p, k
        item_site = p.item_group // k
        shared = ~kept[p.item_row]
        self.cost = p.item_cost - np.where(shared, lam[p.item_row] * p.item_upper, 0.0)
        # a group's total weight caps every option's capacity of that type
        total = np.bincount(p.item_group, weights=p.item_weight, minlength=p.n_groups)
        groups = p.option_site[:, None] * k + np.arange(k)[None, :]
        self.capacity = np.minimum(p.option_capacity, total[groups])
        self.item_by = _slices(cluster[item_site], np.argsort(cluster[item_site], kind="stable"))
        opt_cluster = cluster[p.option_site]
        self.option_by = _slices(opt_cluster, np.argsort(opt_cluster, kind="stable"))
        rows = np.flatnonzero(kept)
        self.row_by = _slices(row_cluster[rows], rows[np.argsort(row_cluster[rows], kind="stable")])

    def dual_bound(self, c: int, max_nodes: int | None, gap: float) -> tuple[float, int]:
        """Cluster ``c``'s MIP solved by HiGHS to the node limit: its dual bound (``-inf``
        if HiGHS gives none) and the nodes it used."""
        import highspy

        items, options, rows = self.item_by(c), self.option_by(c), self.row_by(c)
        if not options.size:
            return -np.inf, 0
        cost, lower, upper, matrix, row_lower, row_upper = self._arrays(items, options, rows)
        highs = quiet_highs()  # never "threads": HiGHS's scheduler is global in the process
        highs.setOptionValue("mip_rel_gap", gap)
        highs.setOptionValue("time_limit", float("inf"))  # the bound may not depend on timing
        if max_nodes == 0:
            highs.setOptionValue("solve_relaxation", True)
        elif max_nodes is not None:
            highs.setOptionValue("mip_max_nodes", int(max_nodes))
        for name, setting in MIP_OPTIONS.items():
            highs.setOptionValue(name, setting)
        model = colwise_lp(cost, lower, upper, matrix, row_lower, row_upper)
        integer, continuous = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
        model.integrality_ = [integer] * options.size + [continuous] * (cost.size - options.size)
        highs.passModel(model)
        highs.run()
        info = highs.getInfo()
        status = highs.getModelStatus()
        usable = status in (highspy.HighsModelStatus.kOptimal, _node_limit(highspy))
        found = float(info.mip_dual_bound) if usable else -np.inf
        if max_nodes == 0:  # the LP relaxation: its optimum
            found = float(info.objective_function_value) if usable else -np.inf
        nodes = max(int(info.mip_node_count), 0)  # -1 for an LP
        return (found if np.isfinite(found) else -np.inf), nodes

    def _arrays(self, items: np.ndarray, options: np.ndarray, rows: np.ndarray) -> tuple:
        r"""One cluster's MIP as the disjunctive LP of its sites
        (:func:`~chargeplan.solver.design_hull._hull_arrays`, columns ``w``, ``t``, ``u``) with
        ``w`` binary: its own pairs (priced), options (capacities capped) and demand rows, a
        shared row's ``u`` free below and costless, so that its row only says
        :math:`\sum_t \bar x_t x_t \ge 0`."""
        p = self.p
        local, item_row = np.unique(p.item_row[items], return_inverse=True)
        shared = ~np.isin(local, rows)
        sub = dataclasses.replace(
            p,
            item_row=item_row,
            item_group=p.item_group[items],
            item_weight=p.item_weight[items],
            item_cost=self.cost[items],
            item_upper=p.item_upper[items],
            u_cost=np.where(shared, 0.0, p.u_cost[local]),
            u_lower=np.where(shared, -np.inf, p.u_lower[local]),
            u_upper=np.where(shared, 1.0, p.u_upper[local]),
            u_demand=p.u_demand[local],
            u_type=p.u_type[local],
            option_site=p.option_site[options],
            option_design=p.option_design[options],
            option_cost=p.option_cost[options],
            option_capacity=self.capacity[options],
            offset=0.0,
        )
        return _hull_arrays(sub)


def _slices(key: np.ndarray, order: np.ndarray):
    """``order`` (positions sorted by ``key``) cut by key: a function of the key's value."""
    sorted_key = np.sort(key, kind="stable")

    def of(c: int) -> np.ndarray:
        a, b = np.searchsorted(sorted_key, [c, c + 1])
        return order[a:b]

    return of


def _node_limit(highspy):
    """HiGHS's status when it stops at ``mip_max_nodes`` (kSolutionLimit in HiGHS 1.x)."""
    return getattr(highspy.HighsModelStatus, "kSolutionLimit", None)
