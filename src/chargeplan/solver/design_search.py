r"""A local search over the stations of a design plan, each move priced exactly by an LP.

The design start (:mod:`chargeplan.solver.designstart`) rounds the LP relaxation to a plan;
on a city piece it stays 1-2 % above the best plan HiGHS finds in minutes
(``docs/stations.md``, "Local search over designs"). This module improves such a plan by
**moves on its stations**, each one evaluated exactly: the plan's sites and designs
(:math:`y`, :math:`z`) fixed, the rest of the model (assignment :math:`x`, unmet :math:`u`,
chargers :math:`n = E + s z`) is an LP whose optimum :math:`V(y, z)` is the cost of the best
plan with those stations. A move changes :math:`(y, z)` at one or two sites:

* **change** one site's option: close an open station, give it another design (down or up
  the menu), or open a closed candidate with any design of its menu;
* **swap**: close an open station and open a candidate sharing a zone with it, with any
  design.

**Which moves are tried.** With :math:`(y, z)` fixed by column bounds, the reduced cost
:math:`r_c` of a fixed column is a subgradient of :math:`V` in that column's value, and
:math:`V` is convex in the bounds jointly, so for a move changing columns by
:math:`\Delta_c`

.. math:: V(\text{after}) \;\ge\; V(\text{now}) + \sum_c r_c \Delta_c .

A move whose right-hand side is not below :math:`V(\text{now})` cannot improve the plan and
is never tried. The others are tried by kind (:data:`KINDS`: closing, resizing, opening,
swapping), then in increasing estimate, site and design (a fixed order); of the moves of one
kind on the same sites only the one of least estimate, until a round finds nothing, then all.

**How a move is priced.** On the models :mod:`chargeplan.solver.design_local` knows (the
national pieces), each move is priced by a small LP on the zones in reach of its sites, the
rest of the assignment kept: the cost of a feasible plan (:class:`~chargeplan.solver.
design_local.LocalPlan`). Every move that lowers the plan's cost by more than
:data:`MIN_SAVING` (relative) is kept, a move on a site changed earlier in the round skipped;
the round ends with the piece's whole LP solved with the new designs (its optimum is at most
the local plan's cost), whose reduced costs rank the next round (:func:`_local_rounds`, at
most :data:`SEARCH_ROUNDS` rounds). On other models each move is priced on the piece's whole
LP, warm-started, and the first improving one kept (:func:`_whole_lp_moves`).

The search stops when a round keeps nothing, or after ``max_trials`` LPs that price a move:
a count, not a clock, so the plan depends only on the model and the thread count. The plan
returned is the optimum of the model's LP with :math:`y` and :math:`z` fixed to 0/1: a
feasible plan of the MILP, with its exact cost, never dearer than the plan it started from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem
from chargeplan.solver.design_local import LocalPlan, local_applies
from chargeplan.solver.design_lp import Relaxation

__all__ = ["MIN_SAVING", "SEARCH_TRIALS", "SearchResult", "design_search", "plan_options"]

#: A move is kept only if it lowers the plan's cost by more than this share (no cycling on
#: the LP's rounding noise).
MIN_SAVING = 1e-7
#: Default most LPs (tried moves) per search (``SolverOptions.design_search_moves``).
SEARCH_TRIALS = 250
#: The kinds of moves, in the order a round tries them.
KINDS = ("close", "resize", "open", "swap")
#: Most rounds of local moves, each ended by one LP of the whole piece.
SEARCH_ROUNDS = 6
#: Option codes of a site: closed, or open without a design (its existing chargers only).
CLOSED, BARE = -2, -1


@dataclass(frozen=True)
class SearchResult:
    """The plan after the local search.

    Attributes
    ----------
    values
        Column values of the plan (model order).
    objective
        Its cost (constant included).
    option
        ``(S,)`` each site's option: :data:`CLOSED`, :data:`BARE` or a position in ``z``.
    moves
        Moves kept.
    trials
        LPs solved to price moves (kept or not).
    """

    values: np.ndarray
    objective: float
    option: np.ndarray
    moves: int
    trials: int


def plan_options(problem: FacilityProblem, ix: ModelIndex, values: np.ndarray) -> np.ndarray:
    """``(S,)``: each site's option in the plan ``values`` (:data:`CLOSED`, :data:`BARE` or the
    position in ``z`` of its design); sites without a ``y`` column are closed."""
    option = np.full(len(problem.site_ids), CLOSED)
    option[ix.y_site[values[ix.cols("y")] > 0.5]] = BARE
    chosen = np.flatnonzero(values[ix.cols("z")] > 0.5)
    option[ix.z_site[chosen]] = chosen
    return option


def design_search(
    problem: FacilityProblem,
    ix: ModelIndex,
    relax: Relaxation,
    values: np.ndarray,
    max_trials: int = SEARCH_TRIALS,
) -> SearchResult | None:
    """Improve the plan ``values`` by single-site changes and swaps (module docstring).

    Parameters
    ----------
    problem, ix
        The instance and its model's index.
    relax
        The model's LP in HiGHS (:class:`~chargeplan.solver.design_lp.Relaxation`); its
        bounds are changed.
    values
        A plan: ``y`` and ``z`` 0/1 (the start's).
    max_trials
        Most LPs that price a move.

    Returns
    -------
    SearchResult or None
        ``None`` if the plan's own LP is not optimal.
    """
    option = plan_options(problem, ix, values)
    required = _required(problem, ix, relax)
    _fix_options(ix, relax, option, np.arange(len(option)))
    solved = relax.solve()
    if solved is None:
        return None
    values, cost = solved
    neighbours = _neighbours(problem)
    search = _local_rounds if local_applies(problem, relax.lp, ix) else _whole_lp_moves
    found = search(problem, ix, relax, (option, values, cost), required, neighbours, max_trials)
    _fix_options(ix, relax, found.option, np.arange(len(option)))
    return found


def _local_rounds(
    problem: FacilityProblem,
    ix: ModelIndex,
    relax: Relaxation,
    plan: tuple[np.ndarray, np.ndarray, float],
    required: np.ndarray,
    neighbours: sp.csr_matrix,
    max_trials: int,
) -> SearchResult:
    """Rounds of moves priced on the zones they touch (:class:`~chargeplan.solver.
    design_local.LocalPlan`): each round ranks the moves by the piece LP's reduced costs, keeps
    every improving one in that order (a move whose sites an earlier one changed is skipped),
    then solves the piece's LP with the new designs (cheaper still, or equal) for the next
    round's reduced costs; at most :data:`SEARCH_ROUNDS` rounds or ``max_trials`` local LPs."""
    option, values, cost = plan
    moves = trials = 0
    least = True  # one option per site and kind; all of them once that finds nothing
    for _ in range(SEARCH_ROUNDS):
        local = LocalPlan(problem, relax.lp, ix, option, values, cost)
        sites, choices = _ranked_moves(
            problem, ix, relax, option, required, neighbours, cost, least
        )
        changed = np.zeros(len(option), bool)
        for n in range(len(sites)):
            if trials >= max_trials:
                break
            touched = sites[n][sites[n] >= 0]
            if changed[touched].any():
                continue
            priced = local.price(touched, choices[n][sites[n] >= 0])
            trials += 1
            if priced is not None and priced[0] < local.cost - MIN_SAVING * abs(local.cost):
                local.keep(priced)
                changed[touched] = True
                moves += 1
        if not changed.any() and not least:
            break
        least = bool(changed.any())
        if not changed.any():
            continue
        _fix_options(ix, relax, local.option, np.flatnonzero(changed))
        solved = relax.solve()
        if solved is None or solved[1] >= cost:  # never: the local plan is a plan of that LP
            break
        option, (values, cost) = local.option, solved
        if trials >= max_trials:
            break
    return SearchResult(values, cost, option, moves, trials)


def _whole_lp_moves(
    problem: FacilityProblem,
    ix: ModelIndex,
    relax: Relaxation,
    plan: tuple[np.ndarray, np.ndarray, float],
    required: np.ndarray,
    neighbours: sp.csr_matrix,
    max_trials: int,
) -> SearchResult:
    """Moves priced on the piece's whole LP, warm-started (models :class:`~chargeplan.solver.
    design_local.LocalPlan` does not price): the first improving move in the ranked order is
    kept, then the moves are ranked again; at most ``max_trials`` LPs."""
    option, values, cost = plan
    moves = trials = 0
    while trials < max_trials:
        sites, choices = _ranked_moves(problem, ix, relax, option, required, neighbours, cost)
        kept = None
        for n in range(len(sites)):
            if trials >= max_trials:
                break
            trial = option.copy()
            touched = sites[n][sites[n] >= 0]
            trial[touched] = choices[n][sites[n] >= 0]
            _fix_options(ix, relax, trial, touched)
            value = relax.value()
            trials += 1
            if value is not None and value < cost - MIN_SAVING * abs(cost):
                kept = trial, value
                break
            _fix_options(ix, relax, option, touched)  # back to the plan
        if kept is None:
            break
        option, cost = kept
        values = relax.values()
        moves += 1
    return SearchResult(values, cost, option, moves, trials)


def _required(problem: FacilityProblem, ix: ModelIndex, relax: Relaxation) -> np.ndarray:
    """``(S,)``: sites that must stay open (``y`` at least 0.5 by the model's bounds, or
    existing chargers)."""
    lower, _, _ = relax.lp.bounds()
    required = np.zeros(len(problem.site_ids), bool)
    required[ix.y_site[lower[ix.cols("y")] >= 0.5]] = True
    required[problem.existing_chargers.sum(axis=1) > 0] = True  # closing breaks a row
    return required


def _fix_options(ix: ModelIndex, relax: Relaxation, option: np.ndarray, sites: np.ndarray) -> None:
    """Fix ``y`` and ``z`` of ``sites`` to their ``option``."""
    has_y = np.zeros(len(option), bool)
    has_y[ix.y_site] = True
    y_cols = ix.column_of_site("y", len(option))
    at = sites[has_y[sites]]
    opened = option[at] != CLOSED
    relax.fix(y_cols[at[opened]], 1.0)
    relax.fix(y_cols[at[~opened]], 0.0)
    mine = np.flatnonzero(np.isin(ix.z_site, sites))
    on = option[ix.z_site[mine]] == mine
    relax.fix(ix.cols("z")[mine[on]], 1.0)
    relax.fix(ix.cols("z")[mine[~on]], 0.0)


def _neighbours(problem: FacilityProblem) -> sp.csr_matrix:
    """``(S, S)`` boolean: the sites sharing a zone in reach (a site with itself included)."""
    n_zones, n_sites = len(problem.zone_ids), len(problem.site_ids)
    ones = np.ones(len(problem.pair_zone))
    reach = sp.csr_matrix((ones, (problem.pair_zone, problem.pair_site)), (n_zones, n_sites))
    return (reach.T @ reach).tocsr()


def _ranked_moves(
    problem: FacilityProblem,
    ix: ModelIndex,
    relax: Relaxation,
    option: np.ndarray,
    required: np.ndarray,
    neighbours: sp.csr_matrix,
    cost: float,
    least: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    r"""The moves at the plan ``option`` whose estimate :math:`V + \sum_c r_c \Delta_c` (module
    docstring) is below the plan's ``cost`` :math:`V` by more than :data:`MIN_SAVING`, in the
    order they are tried (:func:`_in_order`).

    Returns ``(M, 2)`` sites (``-1``: none) and options of each move.
    """
    below = -MIN_SAVING * abs(cost)
    n_sites = len(option)
    holds = required | (problem.existing_chargers.sum(axis=1) > 0)
    reduced = relax.reduced_costs()
    r_y = np.zeros(n_sites)
    r_y[ix.y_site] = reduced[ix.cols("y")]
    r_z = reduced[ix.cols("z")]
    has_y = np.zeros(n_sites, bool)
    has_y[ix.y_site] = True
    # each site's options: closed, bare, every z column of the site
    site = np.concatenate([ix.y_site, ix.y_site, ix.z_site])
    ny = len(ix.y_site)
    choice = np.concatenate([np.full(ny, CLOSED), np.full(ny, BARE), np.arange(len(ix.z_site))])
    now = option[site]
    step = _option_cost(r_y, r_z, site, choice) - _option_cost(r_y, r_z, site, now)
    keep = (choice != now) & ~(required[site] & (choice == CLOSED))
    keep &= (choice != BARE) | holds[site]  # no design and no charger: serves nothing
    site, choice, step = site[keep], choice[keep], step[keep]
    alone = step < below
    # swaps: an open station closed (not required), a closed neighbour opened with any design
    close_step = r_y * -1.0 - np.where(option >= 0, r_z[np.maximum(option, 0)], 0.0)
    closable = (option != CLOSED) & ~required & has_y
    opens = np.flatnonzero((option[site] == CLOSED) & (choice >= 0))
    pair = neighbours[site[opens]].tocoo()  # (open move, a neighbour of its site)
    move, other = opens[pair.row], pair.col
    ok = closable[other]
    move, other = move[ok], other[ok]
    swap = close_step[other] + step[move]
    move, other, swap = move[swap < below], other[swap < below], swap[swap < below]
    single = site[alone]
    sites = np.concatenate(
        [np.column_stack([single, np.full(single.size, -1)]), np.column_stack([other, site[move]])]
    )
    choices = np.concatenate(
        [
            np.column_stack([choice[alone], np.full(single.size, CLOSED)]),
            np.column_stack([np.full(move.size, CLOSED), choice[move]]),
        ]
    )
    estimate = np.concatenate([step[alone], swap])
    return _in_order(sites, choices, estimate, option, least)


def _in_order(
    sites: np.ndarray,
    choices: np.ndarray,
    estimate: np.ndarray,
    option: np.ndarray,
    least: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The moves to try, in order: by kind (:data:`KINDS`: closing, another design, opening,
    swap), then increasing estimate, site and option; with ``least``, of the moves on the same
    sites and of the same kind only the one of least estimate (one design per opened site)."""
    if not sites.size:
        return sites, choices
    single = sites[:, 1] < 0
    kind = np.where(
        single,
        np.where(
            choices[:, 0] == CLOSED,
            KINDS.index("close"),
            np.where(option[sites[:, 0]] == CLOSED, KINDS.index("open"), KINDS.index("resize")),
        ),
        KINDS.index("swap"),
    )
    order = np.lexsort((choices[:, 1], choices[:, 0], estimate, sites[:, 1], sites[:, 0], kind))
    key = np.column_stack([kind, sites])[order]
    first = np.r_[True, (key[1:] != key[:-1]).any(axis=1)]
    chosen = order[first] if least else order
    ranked = chosen[
        np.lexsort(
            (
                choices[chosen, 1],
                choices[chosen, 0],
                sites[chosen, 1],
                sites[chosen, 0],
                estimate[chosen],
                kind[chosen],
            )
        )
    ]
    return sites[ranked], choices[ranked]


def _option_cost(
    r_y: np.ndarray, r_z: np.ndarray, site: np.ndarray, choice: np.ndarray
) -> np.ndarray:
    """The reduced costs summed over the columns set to 1 by each ``(site, choice)``."""
    return np.where(choice != CLOSED, r_y[site], 0.0) + np.where(
        choice >= 0, r_z[np.maximum(choice, 0)], 0.0
    )
