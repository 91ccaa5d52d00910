r"""Maximal covering (MCLP) with a site limit, solved as arrays from an exchange-improved start.

The problem (:func:`mclp_applies`: pure covering, ``max_coverage``, a site limit ``p``, no
budget, no coverage targets, every plan of equal coverage equally cheap): zones
:math:`i \in Z` with weight :math:`w_i` (demand summed over types), sites :math:`j \in S`,
:math:`N(i)` the sites that reach zone i,

.. math::

    \max \sum_i w_i z_i \quad \text{s.t.} \quad z_i \le \sum_{j \in N(i)} y_j,
    \quad \sum_j y_j \le p, \quad y \in \{0, 1\}^S, \quad 0 \le z \le 1

(chargeplan's covering form, :func:`chargeplan.model.formulation.add_period`, with
:math:`u_i = 1 - z_i`: minimise :math:`\sum_i w_i u_i`). :func:`solve_mclp` solves exactly
this model with HiGHS through ``highspy``, MIP gap as asked. What it changes against the general
path, measured (``benchmarks/against_spopt.py --mclp-ablation``, ``docs/scale.md``, "Against
spopt"):

- **no Pyomo model**: the arrays of :func:`~chargeplan.model.formulation.build_milp` go to HiGHS
  as they are (:mod:`chargeplan.solver.direct`'s loader), which is most of the saving where the
  LP relaxation is integral (radius 8, p 20: 0.40 against 1.48 CPU seconds);
- **the start** (:func:`swap_search`): the greedy plan
  (:func:`~chargeplan.solver.reduce.greedy_cover`) improved by exchanges, one open site for
  one closed site, best exchange first, until none covers more. With :math:`c_i` the number of
  open sites reaching i, closing j and opening k changes the coverage by

  .. math::

      \Delta_{kj} = \underbrace{\sum_{i: c_i = 0} a_{ik} w_i}_{\text{gain}_k}
      - \underbrace{\sum_{i: c_i = 1} a_{ij} w_i}_{\text{loss}_j}
      + \sum_{i: c_i = 1} a_{ik} a_{ij} w_i,

  all pairs (k closed, j open) at once as one sparse product :math:`A^T \mathrm{diag}(w
  [c = 1]) A_{:, \text{open}}`; deterministic (ties to the lowest positions);
- **HiGHS's search** (:data:`HIGHS_OPTIONS`): no presolve, pseudo-costs without strong
  branching, none of HiGHS's primal heuristics, a cut pool of 500 rows. On the hard points of
  the grid (``benchmarks/against_spopt.py --grid``; CPU seconds of :func:`solve_mclp` on the
  reduced problem, one thread, a loaded machine, single runs) this took radius 10, p 20 from
  5.2-5.7 to 1.5-2.1, radius 10, p 30 from 23-26 to 5.2-5.7, radius 12, p 20 from 21.6 to
  6.3-6.4; over the whole 2,000 x 400 grid spopt + CBC then took a median 15.2 times and at
  least 3.1 times chargeplan's CPU seconds in one run, and 2.6 times at radius 10, p 30 in a
  rerun; with the two choices below a median 31.9 times and at least 3.2 times, 5.8 times
  where CBC proved its optimum (``docs/scale.md``, the grid of branch ``mclp3``).
  The HiGHS logs say why: at radius 10, p 30 the sub-MIP heuristics (RENS at the root) took
  19 of 49 seconds and strong branching 15 more, while the plan they found is no better than
  the search finds by itself; presolve removes nothing from the reduced covering form.

- **the root LP by the interior point method** (``mip_lp_solver = "ipm"`` in
  :data:`HIGHS_OPTIONS`; HiGHS crosses over to a basis, and every later LP is dual simplex
  from it): the covering LP is highly degenerate; on the 20,000 x 2,000 instance at radius 6,
  p 10 the solve took 105 CPU seconds with the dual simplex root (where four sampled stacks
  were) and 9.1 with the interior point root (the LP alone: 8.1 CPU seconds, 21 iterations);
  at 2,000 x 400 mostly faster (radius 10, p 30: 4.7 against 5.6 CPU seconds);
- **one HiGHS thread** (:data:`THREADS`) unless the options name a count: on 2 cores HiGHS
  otherwise runs 2 search workers, whose search is no shorter; one thread took the CPU seconds
  of radius 10, p 30 from 8.6-9.4 to 5.6-6.0, of radius 10, p 40 from 21.0 to 17.3 and of
  radius 12, p 30 from 71.0 to 38.7, the easy points unchanged (``docs/scale.md``, the grid of
  branch ``mclp3``).

The reductions run before (:func:`chargeplan.solver.reduce.reduce_problem`, exact: zones with
one covering set merged with their weights summed, dominated sites dropped, which keeps the
optimum under a site limit, since exchanging a dominated site for its dominator keeps the
count and covers at least as much). What was measured and left out (``docs/scale.md``):
:func:`kick_search` (iterated exchanges) brings the start within 0.5 % of the optimum and
shortens the longest solves (radius 10, p 40: 31 against 18 CPU seconds), but costs 0.3-0.8
CPU seconds on every instance, more than the whole solve of the easy ones, so it is an option
(``start="kicks"``), not the default; a Lagrangian relaxation of the coverage rows fixes 10 of
378 sites at radius 10, p 30 even with the optimum as the incumbent
(``benchmarks/against_spopt.py --mclp-lagrange``).

Every choice keeps the plan deterministic: no wall-clock limit decides it (the time limit
only stops a solve, as everywhere).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from chargeplan import progress
from chargeplan.model.formulation import build_milp
from chargeplan.model.objective import access_and_capex
from chargeplan.model.problem import FacilityProblem, is_pure_covering
from chargeplan.model.solution import Solution, decode, stage_outcome

if TYPE_CHECKING:
    import scipy.sparse as sp

    from chargeplan.solver.options import SolverOptions

__all__ = [
    "HIGHS_OPTIONS",
    "coverage",
    "kick_search",
    "mclp_applies",
    "reach_matrix",
    "solve_mclp",
    "start_plan",
    "swap_search",
]

HIGHS_OPTIONS: dict[str, Any] = {
    "presolve": "off",
    "mip_pscost_minreliable": 0,
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_pool_soft_limit": 500,
    "mip_lp_solver": "ipm",
}
"""HiGHS options for MCLP (module docstring; measured: ``benchmarks/against_spopt.py
--mclp-ablation`` and ``--grid``): no presolve (it removes nothing from the reduced covering
form, yet its probing costs), pseudo-costs without strong branching, none of HiGHS's primal
heuristics (their sub-MIPs took half the time on the hard points; the start is given) and a
cut pool of 500 rows (HiGHS's default 10,000 keeps thousands of cuts in the node LPs), and the
root LP by the interior point method (HiGHS then crosses over to a basis and every later LP is
simplex): the covering LP is highly degenerate; at 20,000 x 2,000, radius 6, p 10 the solve
took 105 CPU seconds with the dual simplex root and 9.1 with this one (module docstring)."""

THREADS = 1
"""HiGHS's threads for MCLP when the options name none (HiGHS's default on 2 cores is 2 search
workers). Measured (CPU seconds of :func:`solve_mclp` on the reduced problem, one run each,
``docs/scale.md``): the same on the easy points of ``benchmarks/against_spopt.py --grid``
(radius 8, p 30: 0.37 and 0.38), less on the hard ones (radius 10, p 30: 5.6 against 8.6-9.4;
radius 12, p 20: 6.2 against 6.9-7.4). A count given in the options is kept."""

KICKS = 300
"""Most kicks of :func:`kick_search` with ``start="kicks"`` (measured: ``docs/scale.md``)."""
PATIENCE = 60
"""Kicks in a row without a better plan after which :func:`kick_search` stops."""


def mclp_applies(problem: FacilityProblem, options: SolverOptions) -> bool:
    """Whether :func:`solve_mclp` solves ``problem``: pure covering ``max_coverage`` with a site
    limit, no budget and no coverage targets, where every plan covering as much costs the same
    (no capex, no access cost: the second, cost stage has nothing to choose); a HiGHS log on
    standard error (``-v``) is streamed by :mod:`chargeplan.solver.direct` and changes nothing."""
    if not (
        is_pure_covering(problem)
        and problem.objective == "max_coverage"
        and problem.max_sites is not None
        and problem.budget is None
        and not problem.target_names
        and len(problem.site_ids) > 0
    ):
        return False
    return not bool(np.any(problem.fixed_cost)) and not bool(np.any(problem.pair_cost))


def reach_matrix(problem: FacilityProblem) -> sp.csc_matrix:
    """``(Z, S)`` 0/1: :math:`a_{ij} = 1` when site j reaches zone i (live pairs, sites not
    excluded)."""
    import scipy.sparse as sp

    live = problem.live_pairs & ~problem.excluded[problem.pair_site]
    zone, site = problem.pair_zone[live], problem.pair_site[live]
    shape = (len(problem.zone_ids), len(problem.site_ids))
    reach = sp.csc_matrix((np.ones(zone.size), (zone, site)), shape=shape)
    reach.data[:] = 1.0  # duplicate pairs (one per type) count once
    return reach


def coverage(reach: sp.spmatrix, weight: np.ndarray, open_site: np.ndarray) -> float:
    """:math:`\\sum_i w_i [\\exists j \\in N(i): y_j = 1]`: the weight ``open_site`` covers."""
    return float(weight[(reach @ open_site.astype(float)) > 0].sum())


def swap_search(
    reach: sp.spmatrix,
    weight: np.ndarray,
    start: np.ndarray,
    fixed: np.ndarray | None = None,
    max_rounds: int = 10_000,
) -> np.ndarray:
    """``(S,)`` bool: ``start`` improved by best one-for-one exchanges (module docstring).

    Parameters
    ----------
    reach
        ``(Z, S)`` 0/1 reach (:func:`reach_matrix`).
    weight
        ``(Z,)`` zone weights.
    start
        ``(S,)`` bool, the open sites to start from.
    fixed
        ``(S,)`` bool: sites whose state no exchange changes (required or excluded sites).
    max_rounds
        Exchanges at most (each strictly improves, so the search ends anyway).

    Returns
    -------
    numpy.ndarray
        A plan with as many open sites, covering at least as much; no single exchange of an
        open and a closed site (neither fixed) covers more.
    """
    import scipy.sparse as sp

    a = sp.csc_matrix(reach)
    at = a.T.tocsr()
    chosen = np.asarray(start, bool).copy()
    movable = np.ones(chosen.size, bool) if fixed is None else ~np.asarray(fixed, bool)
    for _ in range(max_rounds):
        count = a @ chosen.astype(float)
        gain = at @ (weight * (count == 0))
        single = weight * (count == 1)
        leave = np.flatnonzero(chosen & movable)
        if leave.size == 0:
            break
        both = (at @ sp.diags(single) @ a[:, leave]).toarray()  # (S, open): sum a_ik a_ij w_i
        delta = gain[:, None] - (at @ single)[leave][None, :] + both
        delta[chosen | ~movable, :] = -np.inf
        k, j = np.unravel_index(int(np.argmax(delta)), delta.shape)
        if not delta[k, j] > 1e-9 * max(float(weight.sum()), 1.0):
            break
        chosen[leave[j]], chosen[k] = False, True
    return chosen


def kick_search(
    reach: sp.spmatrix,
    weight: np.ndarray,
    start: np.ndarray,
    fixed: np.ndarray | None = None,
    kicks: int = KICKS,
    patience: int = PATIENCE,
    seed: int = 0,
) -> np.ndarray:
    """``(S,)`` bool: iterated exchanges: :func:`swap_search` from kicked plans.

    From the plan at hand (first ``start`` after :func:`swap_search`), a kick closes 3 open
    sites and opens 3 closed ones (drawn by a generator seeded with ``seed``: the same plan on
    every run), :func:`swap_search` ends in a local optimum, and that plan becomes the one at
    hand if it covers at least as much. The search stops after ``kicks`` kicks or after
    ``patience`` kicks in a row that found no better plan. One exchange at a time stops 2-4 %
    short of the optimum on the hard points of ``benchmarks/against_spopt.py --grid`` (radius
    10, p 30: 11,224 against 11,618); 200 kicks bring it within 0.5 % (11,562), which shortens
    the longest solves but costs more than the easy ones take (module docstring).

    Parameters
    ----------
    reach, weight, start, fixed
        As :func:`swap_search`.
    kicks, patience, seed
        Most kicks, kicks without improvement before stopping, the generator's seed.

    Returns
    -------
    numpy.ndarray
        The best plan found: as many open sites as ``start``, covering at least as much, with
        the ``fixed`` sites as in ``start``.
    """
    rng = np.random.default_rng(seed)
    movable = np.ones(len(start), bool) if fixed is None else ~np.asarray(fixed, bool)
    best = swap_search(reach, weight, start, fixed)
    best_value = coverage(reach, weight, best)
    here, here_value, stale = best, best_value, 0
    for _ in range(kicks):
        shut, closed = np.flatnonzero(here & movable), np.flatnonzero(~here & movable)
        size = min(3, shut.size, closed.size)
        if size == 0 or stale >= patience:
            break
        kicked = here.copy()
        kicked[rng.choice(shut, size, replace=False)] = False
        kicked[rng.choice(closed, size, replace=False)] = True
        plan = swap_search(reach, weight, kicked, fixed)
        value = coverage(reach, weight, plan)
        stale = 0 if value > best_value + 1e-9 * max(best_value, 1.0) else stale + 1
        if value >= here_value:
            here, here_value = plan, value
        if value > best_value:
            best, best_value = plan, value
    return best


def start_plan(problem: FacilityProblem, swap: bool = True, kicks: int = 0) -> np.ndarray:
    """``(S,)`` bool: the greedy plan improved by :func:`swap_search` (``swap=False``: the
    greedy plan alone), then by :func:`kick_search` with ``kicks`` kicks at most (0: none);
    required sites stay open, excluded ones closed."""
    from chargeplan.solver.reduce import greedy_cover

    greedy = greedy_cover(problem)
    assert greedy is not None  # mclp_applies: pure covering with a site limit
    if not swap:
        return greedy
    fixed = problem.must_open | problem.excluded
    reach, weight = reach_matrix(problem), problem.demand.sum(axis=1)
    if kicks > 0:
        return kick_search(reach, weight, greedy, fixed, kicks=kicks)
    return swap_search(reach, weight, greedy, fixed)


def solve_mclp(
    problem: FacilityProblem,
    options: SolverOptions,
    *,
    start: Literal["swap", "kicks", "greedy", "none"] = "swap",
    highs_options: Mapping[str, Any] | None = None,
) -> Solution | None:
    """Solve an MCLP (:func:`mclp_applies`) with HiGHS; ``None`` for a model with no rows or
    columns (the general path handles those).

    Parameters
    ----------
    problem
        The instance (:func:`mclp_applies`).
    options
        Time limit, MIP gap, threads, HiGHS log file.
    start, highs_options
        The starting plan (``"swap"``: :func:`start_plan`, :func:`swap_search` from the
        greedy plan; ``"kicks"``: :func:`kick_search` from it; ``"greedy"``: the greedy plan
        alone; ``"none"``) and HiGHS's options (default :data:`HIGHS_OPTIONS`); the defaults
        are the measured choices, the others are there to measure them
        (``benchmarks/against_spopt.py --mclp-ablation``).

    Raises
    ------
    SolveError
        As :func:`chargeplan.solver.direct.solve_direct`.
    """
    from chargeplan.solver.direct import _load, read_values

    progress.step("build model")
    begin = time.perf_counter()
    lp, ix = build_milp(problem, covering=True)
    if lp.n_cols == 0 or not lp.families or np.any(access_and_capex(problem, ix)[0]):
        return None
    highs, order = _load(lp)
    if start != "none":
        plan = start_plan(problem, swap=start != "greedy", kicks=KICKS * (start == "kicks"))
        values = np.zeros(lp.n_cols)
        values[ix.cols("y")] = plan[ix.y_site]
        covered = (reach_matrix(problem) @ plan.astype(float)) > 0
        values[ix.cols("u")] = ~covered[ix.u_zone]
        _set_start(highs, values[order])
    for name, value in (HIGHS_OPTIONS if highs_options is None else highs_options).items():
        highs.setOptionValue(name, value)
    build_seconds = time.perf_counter() - begin
    begin = time.perf_counter()
    stage = _run_threads(highs, options, lp.objective_offset)
    stage["seconds"] = time.perf_counter() - begin
    decisions: dict[str, Any] = decode(problem, ix, read_values(lp, highs, order))
    return Solution(
        **decisions,
        **stage_outcome(stage, build_seconds),
        stages=(stage,),
        formulation=f"covering form (MCLP: {start} start)",
    )


def _run_threads(highs: Any, options: SolverOptions, offset: float) -> dict:
    """:func:`chargeplan.solver.direct._run` with :data:`THREADS` threads unless ``options``
    name a count; HiGHS's scheduler is global, so it is reset afterwards for the next solve of
    the process to start its own (as without this path)."""
    import highspy

    from chargeplan.solver.direct import _run

    if options.threads is not None:
        return _run(highs, options, offset)
    try:
        return _run(highs, dataclasses.replace(options, threads=THREADS), offset)
    finally:
        highspy.Highs.resetGlobalScheduler(True)


def _set_start(highs: Any, values: np.ndarray) -> None:
    """Give HiGHS a feasible starting plan (its columns' values, in its order)."""
    import highspy

    solution = highspy.HighsSolution()
    solution.col_value = values.tolist()
    highs.setSolution(solution)
