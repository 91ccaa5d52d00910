r"""The facility-location model: which sites to open, how many chargers, who is served where.

The data live in a :class:`~chargeplan.model.problem.FacilityProblem` (numpy arrays, no
geometry). :func:`build_model` turns it into a labelled Pyomo model; this module is its table
of contents, in the manner of PyPSA's ``optimization`` package: :func:`add_period` calls one
``define_*`` function per variable block (:mod:`chargeplan.model.variables`) and one ``add_*``
function per constraint family (:mod:`chargeplan.model.constraints`), the objective's parts
are in :mod:`chargeplan.model.objective`, and each function carries its mathematics. The
whole formulation is written out in :func:`build_model` and in ``docs/model.md``.

Model building is vectorised: every variable block and constraint family is assembled as
numpy arrays (:class:`~chargeplan.model.sparse.SparseMILP`, :func:`build_milp`) and only then
turned into Pyomo components that keep those arrays (:mod:`chargeplan.model.components`): no
Python loop over zone-site pairs, no expression per row unless something asks for it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from chargeplan.model.constraints import (
    add_assignment,
    add_budget,
    add_charger_capacity,
    add_cover,
    add_coverage_targets,
    add_grid,
    add_grid_upgrade_open,
    add_min_chargers,
    add_open_for_chargers,
    add_pair_links,
    add_queue_capacity,
    add_queue_count,
    add_queue_partial,
    add_site_capacity,
    add_site_limit,
    add_stalls,
)
from chargeplan.model.design_constraints import (
    add_design_capacity,
    add_design_chargers,
    add_design_choice,
    add_design_grid,
)
from chargeplan.model.families import add_worst_cost
from chargeplan.model.feasibility import check_feasibility
from chargeplan.model.index import BLOCKS, ModelIndex, ModelOrigin, model_index
from chargeplan.model.links import integers_first
from chargeplan.model.objective import capex_vector, cost_vector, objective_of, unmet_vector
from chargeplan.model.problem import FacilityProblem, is_pure_covering
from chargeplan.model.solution import decode
from chargeplan.model.sparse import SparseMILP
from chargeplan.model.variables import (
    define_assignment_shares,
    define_chargers,
    define_grid_upgrades,
    define_shortfalls,
    define_site_openings,
    define_unmet_shares,
    define_variables,
)

if TYPE_CHECKING:  # Pyomo is imported when a Pyomo model is made (to_model), not before
    import pyomo.environ as pyo

__all__ = [
    "ModelIndex",
    "add_period",
    "build_milp",
    "build_model",
    "capex_vector",
    "cost_vector",
    "decode",
    "to_model",
    "unmet_vector",
]


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
    ``pattern``: see :func:`~chargeplan.model.index.model_index`.

    ``covering`` (only for :func:`~chargeplan.model.problem.is_pure_covering` problems): the
    assignment shares are projected out. With no pair costs and no capacity, zone i's type-k
    demand can be served in full exactly when a site in its reach is open, so ``assign`` and
    ``site_capacity`` become :math:`u_{ik} + \sum_{j \in P(i)} y_j \ge 1` (``cover``): the
    textbook maximal-covering rows, one per zone and type instead of one per pair. Same
    optimum, same ``y`` and ``u``; :func:`~chargeplan.model.solution.decode` serves each
    covered zone from its nearest open site.
    """
    ix = model_index(problem, pattern)
    if covering:
        if not is_pure_covering(problem):
            raise ValueError("the covering form needs a pure covering problem (is_pure_covering)")
        return _add_covering(lp, problem, ix, tag)
    define_variables(lp, problem, ix, tag)
    object.__setattr__(ix, "offsets", _offsets(lp, tag))
    add_assignment(lp, problem, ix, tag)
    if problem.designs:
        add_design_choice(lp, problem, ix, tag)
        add_design_chargers(lp, problem, ix, tag)
        add_design_capacity(lp, problem, ix, tag)
    elif problem.queue_levels is not None:
        add_queue_capacity(lp, problem, ix, tag)
        add_queue_count(lp, problem, ix, tag)
        add_queue_partial(lp, problem, ix, tag)
    elif problem.sizing:
        add_charger_capacity(lp, problem, ix, tag)
    if problem.sizing:
        add_open_for_chargers(lp, problem, ix, tag)
        add_min_chargers(lp, problem, ix, tag)
        add_stalls(lp, problem, ix, tag)
        if problem.designs:
            add_design_grid(lp, problem, ix, tag)
        else:
            add_grid(lp, problem, ix, tag)
        add_grid_upgrade_open(lp, problem, ix, tag)
    add_site_capacity(lp, problem, ix, tag)
    add_pair_links(lp, problem, ix, tag)
    add_coverage_targets(lp, problem, ix, tag)
    return ix


def _add_covering(lp: SparseMILP, problem: FacilityProblem, ix: ModelIndex, tag: str) -> ModelIndex:
    """The covering form of :func:`add_period`: columns ``u`` and ``y``, rows ``cover``."""
    # the pairs and types that would get assignment shares: zone has demand, site not excluded
    pairs = (ix.x_pair, ix.x_type)
    empty = np.empty(0, np.int64)
    cover = dataclasses.replace(ix, x_pair=empty, x_type=empty, covering=True)
    define_assignment_shares(lp, problem, cover, tag)  # no columns: kept for the block layout
    define_unmet_shares(lp, problem, ix, tag)  # hard demand: u = 0 where a pair exists
    define_site_openings(lp, problem, cover, tag)
    define_chargers(lp, problem, cover, tag)
    define_grid_upgrades(lp, problem, cover, tag)
    if problem.target_names:
        define_shortfalls(lp, problem, cover, tag)
    object.__setattr__(cover, "offsets", _offsets(lp, tag))
    add_cover(lp, problem, cover, tag, pairs)
    add_coverage_targets(lp, problem, cover, tag)
    return cover


def _offsets(lp: SparseMILP, tag: str) -> dict[str, tuple[int, int]]:
    """The untagged block names of one period and their column ranges."""
    return {
        name[: len(name) - len(tag)]: pos
        for name, pos in lp.blocks.items()
        if name.endswith(tag) and name[: len(name) - len(tag)] in BLOCKS
    }


def build_milp(problem: FacilityProblem, covering: bool = False) -> tuple[SparseMILP, ModelIndex]:
    """Assemble the model of :func:`build_model` as sparse arrays (no Pyomo yet).

    ``covering``: use the covering form (:func:`add_period`; pure covering problems only).
    """
    check_feasibility(problem)
    lp = SparseMILP(integers_first=integers_first(problem))
    ix = add_period(lp, problem, covering=covering)
    if problem.budget is not None:
        capex, capex_constant = capex_vector(problem, ix)
        add_budget(lp, capex, capex_constant, problem.budget)
    if problem.max_sites is not None:
        add_site_limit(lp, ix, problem.max_sites)
    if problem.objective == "min_max_cost":  # p-center: one more column and its rows
        lp.objective, lp.objective_offset = add_worst_cost(lp, problem, ix), 0.0
    else:
        lp.objective, lp.objective_offset = objective_of(problem, ix)
    return lp, ix


def to_model(lp: SparseMILP, ix: ModelIndex, problem: FacilityProblem) -> pyo.ConcreteModel:
    """The Pyomo model of arrays from :func:`build_milp` (what :func:`build_model` returns).

    Raises
    ------
    chargeplan.model.components.InfeasibleRowError
        If a row has no variables and its bounds exclude 0.
    """
    from chargeplan.model.components import labelled_set

    model, _ = lp.to_pyomo()
    model.zones = labelled_set(np.asarray(problem.zone_ids).tolist())
    model.sites = labelled_set(np.asarray(problem.site_ids).tolist())
    model.types = labelled_set(list(problem.types))
    model.chargeplan = ModelOrigin(problem, ix)
    return model


def build_model(problem: FacilityProblem, *, covering: bool = False) -> pyo.ConcreteModel:
    r"""Build the Pyomo facility-location model, labelled by zone, site and charger type.

    Sets: zones :math:`i \in I` (``model.zones``), sites :math:`j \in J` (``model.sites``),
    types :math:`k \in K` (``model.types``), reachable pairs :math:`(i, j) \in P`, with
    :math:`P(i)` the sites in reach of zone i and :math:`P(j)` the zones in reach of site j.

    Data: demand :math:`d_{ik}`, pair cost :math:`c_{ijk}` (serving all of zone i's type-k
    demand from j), fixed cost :math:`f_j`, site capacity :math:`C_j`, charger capacity
    :math:`q_k` (linear rule) or queue levels :math:`L_k(c)` for :math:`c = 0..S_k` (queueing
    rule), charger cost :math:`p_{jk}`, charger limits :math:`M_{jk}` and
    :math:`\underline{n}_{jk}`, existing chargers :math:`E_{jk}`, stall limit :math:`T_j`,
    charger power :math:`P_k`, grid :math:`G_j`, upgrade :math:`U_j` at cost :math:`a_j`,
    unmet penalty :math:`\pi_k`, budget :math:`B`, site limit :math:`N`.

    Variables (Pyomo component and index in brackets; only the entries that can matter exist,
    :mod:`chargeplan.model.variables`): :math:`x_{ijk} \in [0,1]` share of zone i's type-k
    demand served by site j (``x[zone, site, type]``); :math:`u_{ik} \in [0,1]` unmet share
    (``u[zone, type]``); :math:`y_j \in \{0,1\}` open site (``y[site]``; fixed to 1 if required
    or holding chargers, absent if excluded); :math:`n_{jk} \in \mathbb{Z}, E_{jk} \le n_{jk}
    \le M_{jk}` chargers (``n[site, type]``); queueing rule: :math:`m_{jk} \in
    \mathbb{Z}_{\ge 0}` full queues (``m[site, type]``) and :math:`b_{jkr} \in \{0,1\}` a
    partial queue of r chargers, :math:`r = 1..S_k-1` (``b[site, type, r]``); :math:`g_j \in
    \{0,1\}` grid upgrade (``g[site]``).

    .. math::

        \min\; & \sum_j f_j y_j + \sum_{jk} p_{jk} (n_{jk} - E_{jk}) + \sum_j a_j g_j
                 + \sum_{(i,j) \in P,k} c_{ijk} x_{ijk} + \sum_{ik} \pi_k d_{ik} u_{ik}
                 + \sum_g \sigma_g s_g
                 && \text{(min\_cost)} \\
        \min\; & \sum_{ik} d_{ik} u_{ik} && \text{(max\_coverage)} \\
        \min\; & W,\quad W \ge \sum_{j \in P(i)} (c_{ijk} / d_{ik})\, x_{ijk}\;\forall i,k
                 && \text{(min\_max\_cost: p-center, worst\_cost)} \\
        \text{s.t.}\; & \sum_{j \in P(i)} x_{ijk} + u_{ik} = 1 && \forall i,k: d_{ik}>0
              && \text{(assign)} \\
        & \sum_{i \in P(j)} d_{ik} x_{ijk} \le q_k n_{jk} && \text{(capacity, linear rule)} \\
        & \sum_{i \in P(j)} d_{ik} x_{ijk} \le L_k(S_k) m_{jk} + \sum_r L_k(r) b_{jkr}
          && \text{(capacity, queueing rule)} \\
        & n_{jk} = S_k m_{jk} + \sum_r r\, b_{jkr},\quad \sum_r b_{jkr} \le y_j
          && \text{(queue\_count, queue\_partial)} \\
        & n_{jk} \le M_{jk} y_j,\quad \underline{n}_{jk} y_j \le n_{jk}
          && \text{(open\_for\_chargers, min\_chargers)} \\
        & \sum_k n_{jk} \le T_j y_j && \text{(stalls)} \\
        & \sum_k P_k n_{jk} \le G_j + U_j g_j,\quad g_j \le y_j
          && \text{(grid, grid\_upgrade\_open)} \\
        & \sum_{i \in P(j),k} d_{ik} x_{ijk} \le C_j y_j \quad \forall j: C_j < \infty
              \text{ or no sizing} && \text{(site\_capacity)} \\
        & x_{ijk} \le y_j && \text{(pair\_link, optional)} \\
        & \sum_{(i,k) \in R_g} d_{ik} u_{ik} - s_g \le (1 - \tau_g) D_g
          && \text{(coverage\_target, optional)} \\
        & \sum_j f_j y_j + \sum_{jk} p_{jk} (n_{jk} - E_{jk}) + \sum_j a_j g_j \le B,
          \quad \sum_j y_j \le N && \text{(budget, max\_sites)}

    Single source (:attr:`FacilityProblem.single_source`): :math:`x_{ijk} \in \{0, 1\}`. The
    classic families (p-median, p-center, set covering, maximal covering) are this model with
    parts switched off: :mod:`chargeplan.model.families`.
    With coverage targets (settlement groups g with share :math:`\tau_g`, demand in reach
    :math:`D_g` over the zone-type demands :math:`R_g`, shortfall :math:`s_g \ge 0` at price
    :math:`\sigma_g`; :mod:`chargeplan.model.targets`) the ``coverage_target`` rows and the
    shortfall term are added; without them neither exists.

    With a design menu (:attr:`FacilityProblem.designs`) the capacity, queue and grid rows
    are replaced by those of station designs (:mod:`chargeplan.model.design_constraints`,
    ``docs/model.md``, "Station designs"), and the charger capex by the designs' capex.

    The queueing rule is exact: :math:`L_k` is convex (queues have economies of scale), so
    with at most :math:`S_k` chargers per queue the most demand :math:`n` chargers serve is
    with full queues and one partial queue (a majorisation argument), which is what
    :math:`(m, b)` encode; each pair of :math:`(n, \text{capacity})` is reached exactly.
    Without sizing and with infinite :math:`C_j`, :math:`C_j` is the demand in reach of j
    (uncapacitated facility location, exact). With no sizing, finite capacities and a cost
    table this is the classic capacitated facility-location problem.

    The objective ``model.obj`` includes its constant (:math:`-\sum_{jk} p_{jk} E_{jk}`), so
    ``pyo.value(model.obj)`` is the plan's cost. Constraint rows are labelled like the
    variables they belong to: ``model.assign["Z3", "dc_fast"]``,
    ``model.capacity["SH-01", "dc_fast"]``, ``model.site_capacity["SH-01"]``.

    Parameters
    ----------
    problem
        The instance. Zone and site ids must be distinct (they name the variables).
    covering
        Build the covering form (:func:`add_period`; pure covering problems only).

    Returns
    -------
    pyomo.environ.ConcreteModel
        The model; ``model.columns`` lists its variables in column order and
        ``model.chargeplan`` (:class:`~chargeplan.model.index.ModelOrigin`) what it was built
        from. Extend it the Pyomo way and solve it with :func:`chargeplan.solve_model` (or any
        Pyomo solver, then :func:`chargeplan.read_solution`).
    """
    lp, ix = build_milp(problem, covering=covering)
    return to_model(lp, ix, problem)
