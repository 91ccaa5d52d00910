r"""The design start's plan (:class:`DesignStart`) and its steps 6 and 7
(:mod:`chargeplan.solver.designstart`): a start's plan improved by the local search
(:mod:`chargeplan.solver.design_search`) or by the exact windows
(:mod:`chargeplan.solver.design_lns`), each kept only where it makes the plan cheaper.

Both only ever keep cheaper plans, so the plan returned is never dearer than the start's; both
are fixed sequences of LPs and node-limited MIPs, so it depends on the model only.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem
from chargeplan.solver.design_lns import WindowSearch, design_lns
from chargeplan.solver.design_lp import Relaxation
from chargeplan.solver.design_search import design_search

__all__ = ["DesignStart", "improved", "stamped"]


@dataclass(frozen=True)
class DesignStart:
    """A feasible plan of a station-design model and the bound found on the way.

    Attributes
    ----------
    values
        Column values of the plan, in the model's column order (:class:`SparseMILP`).
    objective
        Its cost (the model's objective, constant included): an upper bound of the optimum.
    lp_bound
        The LP relaxation's value: a lower bound of the optimum.
    rounds
        Rounding rounds (step 2).
    lps
        LPs solved in all (each round, sizing and improving step is one or two).
    seconds
        Wall time of all the LPs and of the Lagrangian bound.
    lagrange_bound
        The Lagrangian bound (:mod:`chargeplan.solver.design_bound`), ``-inf`` where it does
        not apply or was not computed.
    cluster_bound
        The bound over clusters of sites at the Lagrangian bound's multipliers
        (:mod:`chargeplan.solver.design_clusters`), ``-inf`` where not computed.
    from_lagrange
        Whether the plan is the Lagrangian heuristic's (step 5), not the rounded LP's.
    unsearched
        The cost before the local search (step 6; ``nan``: no search).
    moves, trials
        Moves the local search kept, and LPs it solved to price moves.
    unwindowed
        The cost before the exact windows (step 7; ``nan``: no windows).
    windows, windows_kept
        Window MIPs solved, and those whose plan was kept.
    retries
        LPs solved again from scratch because their first solve was not optimal.
    starts
        Plans steps 6 and 7 ran from: 2 with step 8 (``from_lagrange`` then says which one
        the kept plan came from), else 1.
    """

    values: np.ndarray
    objective: float
    lp_bound: float
    rounds: int
    lps: int
    seconds: float
    lagrange_bound: float = -np.inf
    from_lagrange: bool = False
    cluster_bound: float = -np.inf
    unsearched: float = np.nan
    moves: int = 0
    trials: int = 0
    retries: int = 0
    unwindowed: float = np.nan
    windows: int = 0
    windows_kept: int = 0
    starts: int = 1

    @property
    def bound(self) -> float:
        """The best of the lower bounds: ``max(lp_bound, lagrange_bound, cluster_bound)``."""
        return max(self.lp_bound, self.lagrange_bound, self.cluster_bound)

    @property
    def gap(self) -> float:
        """``(objective - bound) / objective``: how far the start is from its bound."""
        return (self.objective - self.bound) / max(abs(self.objective), 1e-9)


def stamped(plan: DesignStart, relax: Relaxation, start: float, **changes: Any) -> DesignStart:
    """``plan`` with ``changes``, and the LPs and retries of ``relax`` and the wall time since
    ``start`` (``time.perf_counter``) so far."""
    return dataclasses.replace(
        plan,
        **changes,
        lps=relax.lps,
        retries=relax.retries,
        seconds=time.perf_counter() - start,
    )


def improved(
    problem: FacilityProblem,
    ix: ModelIndex,
    relax: Relaxation,
    begun: DesignStart,
    search_trials: int,
    lns: WindowSearch | None,
    start: float,
) -> DesignStart:
    """Steps 6 and 7 from the plan ``begun``: the local search, or the windows in its place
    (or after it) on models the windows apply to."""
    if lns is None or not lns.applies(problem, begun.gap):
        return _searched(problem, ix, relax, begun, search_trials, start)
    trials = 0 if lns.replaces_search else search_trials
    searched = _searched(problem, ix, relax, begun, trials, start)
    return _windowed(problem, ix, relax, searched, lns, start)


def _windowed(
    problem: FacilityProblem,
    ix: ModelIndex,
    relax: Relaxation,
    searched: DesignStart,
    lns: WindowSearch,
    start: float,
) -> DesignStart:
    """Step 7: the exact windows of :mod:`chargeplan.solver.design_lns` from the searched
    plan, kept if cheaper (they never are dearer: only cheaper windows are kept)."""
    sites = lns.sites_for(problem)
    found = design_lns(
        problem,
        ix,
        relax,
        searched.values,
        sites,
        lns.max_nodes,
        lns.passes,
        bound=searched.bound,
        more_gap=lns.more_gap,
    )
    if found is None:
        return searched
    kept = found.kept if found.objective < searched.objective else 0
    record = {"unwindowed": searched.objective, "windows": found.windows, "windows_kept": kept}
    return _cheaper(searched, found.values, found.objective, relax, start, **record)


def _searched(
    problem: FacilityProblem,
    ix: ModelIndex,
    relax: Relaxation,
    begun: DesignStart,
    trials: int,
    start: float,
) -> DesignStart:
    """Step 6: the local search of :mod:`chargeplan.solver.design_search` from the plan, kept
    if it is cheaper (it never is dearer: only improving moves are kept)."""
    found = design_search(problem, ix, relax, begun.values, trials) if trials > 0 else None
    if found is None:
        return stamped(begun, relax, start, unsearched=np.nan, moves=0, trials=0)
    record = {"unsearched": begun.objective, "moves": found.moves, "trials": found.trials}
    return _cheaper(begun, found.values, found.objective, relax, start, **record)


def _cheaper(
    plan: DesignStart,
    values: np.ndarray,
    objective: float,
    relax: Relaxation,
    start: float,
    **record: Any,
) -> DesignStart:
    """``plan`` replaced by ``values`` where they cost less (``objective``), ``record``
    noted and :func:`stamped`."""
    if objective < plan.objective:
        return stamped(plan, relax, start, values=values, objective=objective, **record)
    return stamped(plan, relax, start, **record)
