r"""A plan to start from for station-design models: the LP relaxation rounded up, site by site.

HiGHS's own heuristics find poor plans for a city of station designs (the Shanghai slice:
about 10 % of the demand served after 300 s although every unmet kW costs CNY 20,000;
``docs/stations.md``, "Solving a slice"). The LP relaxation spreads each site's station over
a fraction :math:`z_{jd} = \text{load}_j / Q_{jd}` of a design at every site, so no site is
near 1 and rounding it directly opens far too many stations. :func:`design_start` instead
**dives**, each step an LP of the same model with some bounds fixed:

1. Solve the LP relaxation (value :math:`\underline{v}`, a valid lower bound of the MILP).
2. Round up: among the undecided sites with :math:`y_j \ge \theta` (:data:`OPEN_AT`), take
   them in decreasing :math:`y_j` and skip any that shares a zone with one taken in this
   round (two neighbours would split the same demand); fix the taken ones open
   (:math:`y_j = 1`) with the design their LP holds most of (:math:`z_{jd} = 1`). Re-solve:
   a fixed station's capacity is paid for, so the LP moves the demand around it onto it and
   its neighbours' :math:`y` fall. Repeat until no undecided site has :math:`y_j \ge \theta`
   (at most :data:`MAX_ROUNDS` rounds), then close the undecided sites (:math:`y_j = 0`).
3. Size: with :math:`y` fixed and the designs free, the LP gives each open site its load;
   every open site gets the cheapest design whose capacity carries its load of every type
   (:math:`Q_{jdk} \ge \sum_i d_{ik} x_{ijk}\ \forall k`; the largest if none does; no
   design if the existing chargers carry it); a site with no load is closed unless required.
   With :math:`y` and :math:`z` fixed the rest is an LP (the assignment :math:`x, u`; the
   chargers :math:`n` follow from :math:`z`), whose optimum is a feasible plan of the MILP.
4. Improve: the open stations (not required) that use less than :data:`DROP_BELOW` of their
   design's capacity, least used first and none sharing a zone with one taken before, are
   closed together and step 3 is repeated; the result is kept only if it costs less (at most
   :data:`IMPROVE_ROUNDS` times).
5. Bound and Lagrangian heuristic (Beasley 1993): from the first LP's duals of the demand rows,
   :func:`~chargeplan.solver.design_bound.lagrangian_bound` (subgradient steps with the plan's
   cost as Polyak's target) gives a second lower bound :math:`\underline{v}_L`. Candidate
   plans from it: the sites its best site pieces open, and the sites its pieces open at
   least half of the time over the steps (:data:`AVERAGED_ROUNDINGS`: averages over every
   step and over the late ones, which tend to the relaxation's primal solution; Sherali &
   Choi 1996; models of at most :data:`AVERAGED_MAX_PAIRS` pairs); each is sized and
   improved as in steps 3 and 4, and the cheapest replaces the rounded plan if it costs less.
6. Local search (:mod:`chargeplan.solver.design_search`): moves on the plan's stations
   (close, resize, open, swap), each priced exactly as a feasible plan, the improving ones
   kept, a fixed number of LPs at most; the plan is never dearer than step 5's.
7. Exact windows (:mod:`chargeplan.solver.design_lns`, on models of at least
   ``WindowSearch.min_pairs`` pairs whose plan is more than ``LNS_MIN_GAP`` above its bound):
   the plan re-optimised window by window, each window's sites chosen by a node-limited MIP
   of the strong formulation, the rest of the plan kept; never dearer than step 6's. With
   ``WindowSearch.replaces_search`` (the default) such a model skips step 6: the windows
   start from step 5's plan.
8. Both starts (models of at most ``both_starts_max_pairs`` pairs): steps 6 and 7 run from the
   rounded LP's plan and from the Lagrangian heuristic's plan, and the cheaper result is kept
   (the first on a tie), so the plan is never dearer than step 7's from the cheaper start. The
   cheaper start does not make the cheaper plan: on 77 of 169 national city pieces the dearer
   start ended in the cheaper plan, by up to 4.7 %; off by default
   (``SolverOptions.design_both_starts_max_pairs``; ``docs/stations.md``, "Two starts on the
   small city pieces").

Every step is a simplex solve without a time limit (step 5 a fixed number of subgradient
steps, step 6 a fixed number of LPs at most, step 7 MIPs with a node limit), so the plan
depends only on the model and the thread count, never on timing. Its cost :math:`\bar v` is
an upper bound and :math:`\max(\underline v, \underline{v}_L)` a lower bound of the optimum:
the start's own gap is :math:`(\bar v - \max(\underline v, \underline{v}_L)) / \bar v`.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from typing import Any

import numpy as np

from chargeplan.model.designs import station_capacity
from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.sparse import SparseMILP
from chargeplan.solver.design_bound import STEPS, LagrangeBound, lagrangian_bound
from chargeplan.solver.design_clusters import CLUSTER_ABOVE, cluster_bound
from chargeplan.solver.design_improve import DesignStart, improved, stamped
from chargeplan.solver.design_lns import WindowSearch
from chargeplan.solver.design_lp import Relaxation
from chargeplan.solver.design_search import SEARCH_TRIALS

__all__ = [
    "AVERAGED_MAX_PAIRS",
    "AVERAGED_ROUNDINGS",
    "DROP_BELOW",
    "IMPROVE_ROUNDS",
    "MAX_ROUNDS",
    "OPEN_AT",
    "DesignStart",
    "design_start",
]

#: :math:`\theta`: an undecided site whose LP :math:`y_j` reaches it is opened in a round.
#: Measured on the Shanghai slice (docs/stations.md): 0.1 gave the cheapest start of 0.03,
#: 0.1, 0.2 and 0.5 (lower opens many half-used stations, higher closes needed ones).
OPEN_AT = 0.1
#: Most rounding rounds (Shanghai needs 6-8; each is one warm-started LP).
MAX_ROUNDS = 30
#: Most close-and-resize rounds of step 4.
IMPROVE_ROUNDS = 3
#: Step 4 tries to close the stations that use less than this share of their capacity.
DROP_BELOW = 0.5
#: Step 5's roundings of the averaged openings of the Lagrangian pieces
#: (:class:`~chargeplan.solver.design_bound.LagrangeBound`): (the late steps' average rather
#: than every step's, the share from which a site opens). Measured on national city pieces
#: (docs/stations.md, "Averaged openings"): no one rounding is best on every piece.
AVERAGED_ROUNDINGS = ((True, 0.5), (False, 0.5))
#: Most zone-site pairs of a model whose averaged openings are rounded: on national pieces of
#: 14,749-55,579 pairs they gave plans 28-46 % dearer than the rounded LP's (300 steps do not
#: bring the averages near the relaxation's solution there), and cost LPs.
AVERAGED_MAX_PAIRS = 10_000


def design_start(
    problem: FacilityProblem,
    lp: SparseMILP,
    ix: ModelIndex,
    highs: Any,
    order: np.ndarray,
    threads: int | None = None,
    lagrange_steps: int = STEPS,
    search_trials: int = SEARCH_TRIALS,
    iteration_limit: int | None = None,
    cluster_sites: int = 0,
    lns: WindowSearch | None = None,
    both_starts_max_pairs: int = 0,
) -> DesignStart | None:
    """Round the LP relaxation of a station-design model to a plan (module docstring).

    Parameters
    ----------
    problem
        The instance; it has a design menu (``problem.designs``).
    lp, ix
        Its model as arrays (:func:`~chargeplan.model.formulation.build_milp`).
    highs, order
        A ``highspy.Highs`` holding that model with columns in ``order``
        (:func:`chargeplan.solver.direct.load_arrays`); its bounds and options are changed:
        pass a copy that is not solved afterwards.
    threads
        Threads for HiGHS (``None``: its default).
    lagrange_steps
        Subgradient steps of the Lagrangian bound and heuristic (step 5; 0: skip them).
    search_trials
        Most LPs of the local search (step 6; 0: no search).
    iteration_limit
        Simplex iterations of each LP's first solve (``None``: no limit); an LP stopped by it
        is solved again from scratch without it.
    cluster_sites
        With the Lagrangian bound: most sites per cluster of the bound over clusters of sites
        (:mod:`chargeplan.solver.design_clusters`; 0: not computed).
    lns
        The exact windows of step 7 (``None``: none).
    both_starts_max_pairs
        Step 8 on models of at most this many zone-site pairs (0: never): steps 6 and 7 from
        both the rounded and the Lagrangian plan, the cheaper result kept.

    Returns
    -------
    DesignStart or None
        ``None`` when an LP on the way is not optimal (e.g. a rounded design breaks a grid
        row): the caller solves without a start.
    """
    start = time.perf_counter()
    relax = Relaxation(lp, highs, order, threads, iteration_limit)
    first = relax.solve()
    if first is None:
        return None
    values, lp_bound = first
    duals = relax.demand_duals()
    n_sites = len(problem.site_ids)
    lower, _, _ = lp.bounds()
    y_col = ix.cols("y")
    forced = np.zeros(n_sites, bool)
    forced[ix.y_site[lower[y_col] >= 0.5]] = True
    state = np.where(forced, 1, 0)  # 0 undecided, 1 open, -1 closed
    state[np.setdiff1d(np.arange(n_sites), ix.y_site)] = -1
    zones_of = _zones_by_site(problem)
    rounds = 0
    for _ in range(MAX_ROUNDS):
        taken = _round_up(problem, ix, values, state, zones_of, forced)
        if not taken.size:
            break
        state[taken] = 1
        relax.fix(y_col[np.isin(ix.y_site, taken)], 1.0)
        relax.fix(ix.cols("z")[_held_design(ix, values, taken)], 1.0)
        solved = relax.solve()
        if solved is None:
            return None
        values, rounds = solved[0], rounds + 1
    state[state == 0] = -1  # closed by the first LP of step 3
    plan = _size_and_improve(problem, ix, relax, state, forced, zones_of)
    if plan is None:
        return None
    values, objective = plan
    found = (values, objective, lp_bound, rounds)
    if lagrange_steps <= 0:
        begun, other = DesignStart(*found, relax.lps, time.perf_counter() - start), None
    else:
        steps = (lagrange_steps, cluster_sites)
        begun, other = _with_lagrange(problem, lp, ix, relax, found, duals, steps, start)
    improved_once = improved(problem, ix, relax, begun, search_trials, lns, start)
    if other is None or len(problem.pair_zone) > both_starts_max_pairs:
        return improved_once
    if np.array_equal(other[0], begun.values):  # the same plan twice: nothing to start again
        return improved_once
    second = dataclasses.replace(
        begun, values=other[0], objective=other[1], from_lagrange=not begun.from_lagrange
    )
    again = improved(problem, ix, relax, second, search_trials, lns, start)
    chosen = again if again.objective < improved_once.objective else improved_once
    return stamped(chosen, relax, start, starts=2)


def _with_lagrange(
    problem: FacilityProblem,
    lp: SparseMILP,
    ix: ModelIndex,
    relax: Relaxation,
    plan: tuple[np.ndarray, float, float, int],
    duals: np.ndarray,
    steps: tuple[int, int],
    start: float,
) -> tuple[DesignStart, tuple[np.ndarray, float] | None]:
    """Step 5: the Lagrangian bound from the LP's duals, with the plan's cost as Polyak's
    target, and the Lagrangian heuristic: the sites open in the relaxation's best site pieces,
    sized as in step 3 (and improved as in step 4); its plan replaces the rounded LP's if it
    costs less. ``steps``: subgradient steps and sites per cluster (0: no bound over
    clusters, :mod:`chargeplan.solver.design_clusters`, taken at the best multipliers).
    Also returns the plan not taken (values, cost) for step 8, ``None`` if there is none."""
    values, objective, lp_bound, rounds = plan
    relaxed = lagrangian_bound(problem, lp, ix, objective, duals, steps[0])
    if relaxed is None:
        return DesignStart(*plan, relax.lps, time.perf_counter() - start), None
    lower, _, _ = lp.bounds()
    forced = np.zeros(len(problem.site_ids), bool)
    forced[ix.y_site[lower[ix.cols("y")] >= 0.5]] = True
    better = _lagrangian_plan(problem, ix, relax, relaxed, forced)
    swap = better is not None and better[1] < objective
    other = None if better is None else ((values, objective) if swap else better)
    if better is not None and swap:
        values, objective = better
    clustered = -np.inf
    if steps[1] > 0 and (objective - relaxed.bound) > CLUSTER_ABOVE * abs(objective):
        found = cluster_bound(problem, lp, ix, relaxed.multipliers, steps[1])
        clustered = -np.inf if found is None else found.bound
    seconds = time.perf_counter() - start
    begun = DesignStart(
        values, objective, lp_bound, rounds, relax.lps, seconds, relaxed.bound, swap, clustered
    )
    return begun, other


def _lagrangian_plan(
    problem: FacilityProblem,
    ix: ModelIndex,
    relax: Relaxation,
    relaxed: LagrangeBound,
    forced: np.ndarray,
) -> tuple[np.ndarray, float] | None:
    """Step 5's plan from the relaxation: the cheapest of the sites open at the best bound and
    of the roundings of the averaged openings (:data:`AVERAGED_ROUNDINGS`), each sized and
    improved as in steps 3 and 4; ``None`` if none of them is a plan."""
    zones_of = _zones_by_site(problem)
    opened = [relaxed.design >= -1]
    roundings = AVERAGED_ROUNDINGS if len(problem.pair_zone) <= AVERAGED_MAX_PAIRS else ()
    for late, share in roundings:
        opened.append((relaxed.opened_late if late else relaxed.opened) >= share)
    best = None
    for sites in opened:
        state = np.where(sites | forced, 1, -1)
        plan = _size_and_improve(problem, ix, relax, state, forced, zones_of)
        if plan is not None and (best is None or plan[1] < best[1]):
            best = plan
    return best


def _zones_by_site(problem: FacilityProblem) -> list[np.ndarray]:
    """The zones in reach of each site (one array per site)."""
    by_site = np.argsort(problem.pair_site, kind="stable")
    bounds = np.searchsorted(problem.pair_site[by_site], np.arange(len(problem.site_ids) + 1))
    zones = problem.pair_zone[by_site]
    return [zones[a:b] for a, b in itertools.pairwise(bounds.tolist())]


def _round_up(
    problem: FacilityProblem,
    ix: ModelIndex,
    values: np.ndarray,
    state: np.ndarray,
    zones_of: list[np.ndarray],
    forced: np.ndarray,
) -> np.ndarray:
    """Step 2's sites of one round: undecided, :math:`y_j \\ge \\theta`, in decreasing
    :math:`y_j` (ties by position), none sharing a zone with one taken before it."""
    y = np.zeros(len(problem.site_ids))
    y[ix.y_site] = values[ix.cols("y")]
    candidates = np.flatnonzero((state == 0) & (y >= OPEN_AT) & ~forced)
    candidates = candidates[np.argsort(-y[candidates], kind="stable")]
    busy = np.zeros(len(problem.zone_ids), bool)
    taken = []
    for site in candidates.tolist():  # a loop over sites, not pairs
        zones = zones_of[site]
        if not busy[zones].any():
            taken.append(site)
            busy[zones] = True
    return np.asarray(taken, dtype=np.int64)


def _held_design(ix: ModelIndex, values: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """Positions in ``z`` of the design each of ``sites`` holds most of in the LP (ties: the
    first in the menu)."""
    z = values[ix.cols("z")]
    mine = np.flatnonzero(np.isin(ix.z_site, sites))
    order = mine[np.lexsort((ix.z_design[mine], -z[mine], ix.z_site[mine]))]
    first = np.r_[True, ix.z_site[order][1:] != ix.z_site[order][:-1]]
    return order[first]


def _loads(problem: FacilityProblem, ix: ModelIndex, values: np.ndarray) -> np.ndarray:
    """``(S, K)``: the demand each site serves in the plan ``values``."""
    load = np.zeros((len(problem.site_ids), len(problem.types)))
    served = problem.demand[problem.pair_zone[ix.x_pair], ix.x_type] * values[ix.cols("x")]
    np.add.at(load, (problem.pair_site[ix.x_pair], ix.x_type), served)
    return load


def _cheapest_designs(problem: FacilityProblem, ix: ModelIndex, load: np.ndarray) -> np.ndarray:
    """``(S,)``: the position in ``z`` of the cheapest design of each site that carries its
    load of every type, else its largest design; ``-1`` where the existing chargers carry it
    or the site has no design."""
    assert problem.design_capex is not None
    base, design = station_capacity(problem)
    slack = 1e-6 * (1.0 + load)
    carries = (design[ix.z_site, ix.z_design] >= load[ix.z_site] - slack[ix.z_site]).all(axis=1)
    capex = problem.design_capex[ix.z_design]
    # per site: carrying designs first, then by capex (a non-carrying fallback: the largest)
    key = np.where(carries, capex, -capex + 2.0 * capex.max(initial=0.0) + 1.0)
    order = np.lexsort((ix.z_design, key, ix.z_site))
    first = np.r_[True, ix.z_site[order][1:] != ix.z_site[order][:-1]]
    chosen = np.full(len(problem.site_ids), -1)
    chosen[ix.z_site[order[first]]] = order[first]
    enough = (base >= load - 1e-6 * (1.0 + load)).all(axis=1)
    chosen[enough] = -1
    return chosen


def _size_and_improve(
    problem: FacilityProblem,
    ix: ModelIndex,
    relax: Relaxation,
    state: np.ndarray,
    forced: np.ndarray,
    zones_of: list[np.ndarray],
) -> tuple[np.ndarray, float] | None:
    """Steps 3 and 4: the plan of the open sites, then batches of little-used stations closed
    while that makes the plan cheaper; the plan and its cost."""
    best = _sized_plan(problem, ix, relax, state, forced)
    if best is None:
        return None
    for _ in range(IMPROVE_ROUNDS):
        values, cost, design = best
        dropped = _little_used(problem, ix, values, state, forced, design, zones_of)
        if not dropped.size:
            break
        trial = state.copy()
        trial[dropped] = -1
        again = _sized_plan(problem, ix, relax, trial, forced)
        if again is None or again[1] >= cost:
            break
        best, state = again, trial
    return best[0], best[1]


def _sized_plan(
    problem: FacilityProblem,
    ix: ModelIndex,
    relax: Relaxation,
    state: np.ndarray,
    forced: np.ndarray,
) -> tuple[np.ndarray, float, np.ndarray] | None:
    """Step 3 for the open sites of ``state``: the LP with ``y`` fixed and designs free gives
    each site's load, each gets the cheapest design carrying it, and the LP with designs fixed
    the plan. Its values, cost and designs (positions in ``z``, ``-1``: none)."""
    y_open = state[ix.y_site] == 1
    relax.fix(ix.cols("y")[y_open], 1.0)
    relax.fix(ix.cols("y")[~y_open], 0.0)
    z_open = state[ix.z_site] == 1
    relax.free(ix.cols("z")[z_open])
    relax.fix(ix.cols("z")[~z_open], 0.0)
    solved = relax.solve()
    if solved is None:
        return None
    load = _loads(problem, ix, solved[0])
    state[(state == 1) & ~forced & (load.sum(axis=1) <= 1e-9)] = -1
    design = np.where(state == 1, _cheapest_designs(problem, ix, load), -1)
    _fix_plan(ix, relax, state, design)
    solved = relax.solve()
    if solved is None:
        return None
    return solved[0], solved[1], design


def _little_used(
    problem: FacilityProblem,
    ix: ModelIndex,
    values: np.ndarray,
    state: np.ndarray,
    forced: np.ndarray,
    design: np.ndarray,
    zones_of: list[np.ndarray],
) -> np.ndarray:
    """Step 4's batch: open stations (not required) that carry less than :data:`DROP_BELOW`
    of their design's capacity, least used first, none sharing a zone with one before it."""
    _, capacity = station_capacity(problem)
    load = _loads(problem, ix, values).sum(axis=1)
    held = np.zeros(len(problem.site_ids))
    has = design >= 0
    held[has] = capacity[ix.z_site[design[has]], ix.z_design[design[has]]].sum(axis=1)
    use = np.where(held > 0, load / np.maximum(held, 1e-12), 1.0)
    candidates = np.flatnonzero((state == 1) & ~forced & has & (use < DROP_BELOW))
    candidates = candidates[np.argsort(use[candidates], kind="stable")]
    busy = np.zeros(len(problem.zone_ids), bool)
    taken = []
    for site in candidates.tolist():  # a loop over sites, not pairs
        if not busy[zones_of[site]].any():
            taken.append(site)
            busy[zones_of[site]] = True
    return np.asarray(taken, dtype=np.int64)


def _fix_plan(ix: ModelIndex, relax: Relaxation, state: np.ndarray, design: np.ndarray) -> None:
    """Fix ``y`` by ``state`` and ``z`` to ``design`` at open sites (0 elsewhere)."""
    y_open = state[ix.y_site] == 1
    relax.fix(ix.cols("y")[y_open], 1.0)
    relax.fix(ix.cols("y")[~y_open], 0.0)
    on = np.zeros(len(ix.z_site), bool)
    chosen = design[state == 1]
    on[chosen[chosen >= 0]] = True
    relax.fix(ix.cols("z")[on], 1.0)
    relax.fix(ix.cols("z")[~on], 0.0)
