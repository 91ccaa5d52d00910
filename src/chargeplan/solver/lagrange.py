r"""One national plan with a certified lower bound of the *full* model: Lagrangian decomposition.

Notation as in ``docs/model.md``; the derivation, with the proof, is ``docs/decomposition.md``.
The zones are partitioned into pieces :math:`r = 1..R` (:mod:`chargeplan.solver.pieces`); piece
r keeps every pair of its zones :math:`I_r` and every site they reach, :math:`J_r`. A site
reached from several pieces is *copied* into each (Guignard & Kim 1987, variable splitting):
copy r of site j has its own decisions :math:`(y^r_j, n^r_{jk}, g^r_j, z^r_{jd})` and the full
capacity, and pays the share :math:`w_{rj}` of site j's capex, with

.. math:: w_{rj} \ge 0, \qquad \sum_{r: j \in J_r} w_{rj} = 1 .

Piece r solves :math:`z_r(w) = \min \sum_{i \in I_r} (\text{access} + \text{unmet penalty}) +
\sum_{j \in J_r} w_{rj}\, \text{capex}_j(y^r, n^r, g^r, z^r)` over the full model's rows
restricted to its zones and copies. **Bound**: any plan of the full model, copied into every
piece (each copy takes the site's decisions, each piece its zones' shares), is feasible in
every piece (a copy carries the full capacity and only part of the load) and costs
:math:`\sum_r` (its piece cost) :math:`=` its full cost, because the shares of each site sum to
1. So :math:`\sum_r z_r(w) \le OPT` for every :math:`w`, and with HiGHS's valid bound
:math:`\underline{z}_r(w) \le z_r(w)` of each piece,

.. math:: L(w) = \sum_r \underline{z}_r(w) + \text{penalty of zones in no piece} \le OPT .

At a shared site without existing chargers the charger (design) capex is first replaced by its
lower bound per kWh served, paid on the pairs (:mod:`chargeplan.solver.shares`): copies carry
the full capacity, so only a price on the load sees that the site's chargers must carry the
load of every piece; the re-priced model's optimum is at most :math:`OPT`, so the bound stays
valid. :math:`L` is concave in :math:`w`; a copy's full-price shared capex
:math:`\text{capex}_j(\cdot^r)` is a supergradient coordinate, projected onto
:math:`\sum_r \Delta w_{rj} = 0`. ``steps`` projected supergradient steps with
Polyak's step :math:`t = \theta (UB - L) / \|g\|^2` (Held, Wolfe & Crowder 1974; Fisher
1981), :math:`\theta` halved when :math:`L` does not improve, move :math:`w` towards
agreement; the best :math:`L` is reported.

**Plan** (upper bound): each shared site gets one *owner*, the piece whose copy serves the most
demand at it (else the piece whose zones reach it with the most demand; ties: the first
piece); every piece is re-solved with only the pairs to the sites it owns, at full price. The
pieces then share nothing, so the merged plan is feasible for the full model and its cost an
upper bound (Beasley 1993: a Lagrangian heuristic). Pieces that share no site (whole
components) are solved once and are exact. The plan is then polished on the candidate sites,
large components in windows (:mod:`chargeplan.solver.windows`).

**Coverage targets** (:mod:`chargeplan.solver.coverage`): each national target row is dualised
with a multiplier :math:`0 \le \mu_g \le \sigma_g`; every piece prices its unmet demand of
group g at :math:`\mu_g` more, and :math:`L(w, \mu) = \sum_r \underline{z}_r(w, \mu) +
\text{penalty} - \sum_g \mu_g (1 - \tau_g) D_g \le OPT`. :math:`\mu` is bisected on the sign of
the pieces' national shortfall (the supergradient of :math:`L` in :math:`\mu`) from
:math:`[0, \sigma]`; the plan is built at the smallest :math:`\mu` tried whose pieces meet the
targets, and if the owner plan falls short, again at higher :math:`\mu` (a repair), the cheapest
plan at full cost (shortfall cost included) being returned.

**Determinism**: pieces, weights and owners are functions of the data; each piece is solved to
the MIP gap with *no* time limit (the scenario's ``time_limit_s`` does not apply: a wall-clock
limit would let the machine's load decide the plan) but with an optional *work* limit,
``max_nodes`` branch-and-bound nodes (HiGHS ``mip_max_nodes``): a piece that stops there returns
its plan and HiGHS's valid bound, after the same work on every machine, so the bound stays a
bound and the plan stays the same; results are merged in piece order. The same inputs and
thread count give the same plan.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from chargeplan.errors import InputError
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution
from chargeplan.model.targets import group_demand, shortfall, target_groups
from chargeplan.solver.coverage import next_multipliers, signed_shortfall
from chargeplan.solver.options import SolverOptions
from chargeplan.solver.pieces import make_pieces, project_simplex
from chargeplan.solver.piecesolve import (
    Executor,
    PieceSearch,
    centred,
    normalised,
    reach_demand,
)
from chargeplan.solver.windows import polish as polish_plan

__all__ = ["LagrangeRun", "solve_lagrange"]

log = logging.getLogger(__name__)

#: Repairs of a plan that falls short of a target: re-planned at multipliers halfway to sigma.
REPAIRS = 2


@dataclass(frozen=True)
class LagrangeRun:
    """How a Lagrangian decomposition went.

    Attributes
    ----------
    pieces, split_pieces
        Pieces solved (tasks), and those holding a copied site.
    components, largest_pairs
        Independent components of the reach graph the tasks hold; pairs of the largest task.
    shared_sites, copies
        Sites held by more than one piece, and their copies.
    steps
        One dict per weight vector tried: ``bound`` (:math:`L(w)`), ``theta``, ``disagreement``
        (:math:`\\|g\\|`, CNY).
    bound, plan_cost
        Best lower bound of the full model and the cost of the plan returned.
    work_limited
        Pieces (positions in ``pieces``) whose solve stopped at the work limit
        (``max_nodes``) in any round: their plan is feasible, their bound HiGHS's valid bound.
    work_limit_gap
        Sum over the pieces stopped at the work limit, at the best weights, of their own gap
        (plan minus bound, CNY): the part of ``plan_cost - bound`` the limit leaves open there.
    multipliers, target_steps
        Coverage targets: the multipliers :math:`\\mu_g` the plan was priced at, and one dict per
        multiplier vector tried in the bisection (``bound``, ``shortfall`` of the pieces' plans,
        summed over the groups, and ``mu`` summed over the groups).
    """

    pieces: int
    split_pieces: int
    components: int
    largest_pairs: int
    shared_sites: int
    copies: int
    steps: tuple[dict[str, float], ...]
    bound: float
    plan_cost: float
    work_limited: tuple[int, ...] = ()
    work_limit_gap: float = 0.0
    multipliers: tuple[float, ...] = ()
    target_steps: tuple[dict[str, float], ...] = ()


def _plan(
    search: PieceSearch,
    solutions: list[Solution],
    reach: np.ndarray,
    polish_pairs: int,
    zone_xy: np.ndarray | None,
) -> Solution:
    """The owner plan of ``solutions``, polished on the sites any piece opened."""
    _, load = search.copy_figures(solutions)
    plan = search.plan(solutions, load + 1e-9 * reach)
    if polish_pairs <= 0 or not search.pieces.split.any():
        return plan
    candidates = plan.open_site.copy()
    for region, solution in zip(search.pieces.regions, solutions, strict=True):
        candidates[region.sites[solution.open_site]] = True
    return polish_plan(search, plan, candidates, polish_pairs, zone_xy)


def _tolerance(problem: FacilityProblem) -> np.ndarray:
    """``(G,)`` shortfall counted as none: 1e-7 of each group's demand in reach."""
    return 1e-7 * np.maximum(group_demand(problem), 1.0)


def _search_targets(
    search: PieceSearch, weights: np.ndarray, steps: int
) -> tuple[np.ndarray | None, list[tuple[float, list[Solution]]], list[dict[str, float]]]:
    """Bisection of the target multipliers (module docstring): the multipliers to plan at,
    every (bound, pieces' plans) evaluated, and one record per multiplier vector."""
    problem = search.problem
    if not target_groups(problem).size:
        return None, [], []
    tolerance = _tolerance(problem)
    evaluated: list[tuple[float, list[Solution]]] = []
    history: list[dict[str, float]] = []

    def short_at(mu: np.ndarray) -> np.ndarray:
        search.set_mu(mu)
        solutions = search.at(weights)
        bound = search.bound(solutions)
        short = signed_shortfall(problem, search.unmet(solutions))
        evaluated.append((bound, solutions))
        history.append(
            {"mu": float(mu.sum()), "bound": bound, "shortfall": float(np.maximum(short, 0).sum())}
        )
        log.info("lagrange: target prices %s: bound %.6g, shortfall %s", mu, bound, short)
        return short

    low = np.zeros(len(problem.target_names))
    high = np.where(short_at(low) > tolerance, problem.target_price, 0.0)
    for _ in range(steps if np.any(high > 0) else 0):
        middle = (low + high) / 2
        low, high = next_multipliers(low, high, middle, short_at(middle), tolerance)
    return high, evaluated, history


def _repaired(
    search: PieceSearch,
    plan: Solution,
    mu: np.ndarray,
    weights: np.ndarray,
    make_plan: Callable[[list[Solution]], Solution],
) -> tuple[Solution, np.ndarray, list[float]]:
    """A plan that falls short of a target re-planned at multipliers halfway to sigma (at most
    :data:`REPAIRS` times); the cheapest plan, its multipliers and the bounds evaluated."""
    problem = search.problem
    sigma, bounds = problem.target_price, []
    best, best_mu = plan, mu
    for _ in range(REPAIRS):
        short = shortfall(problem, plan.unmet) > _tolerance(problem)
        if not short.any() or np.all(mu[short] >= sigma[short]):
            break
        mu = np.where(short, (mu + sigma) / 2, mu)
        search.set_mu(mu)
        solutions = search.at(weights)
        bounds.append(search.bound(solutions))
        plan = make_plan(solutions)
        log.info("lagrange: repair at target prices %s: plan %.6g", mu, plan.objective)
        if plan.objective < best.objective:
            best, best_mu = plan, mu
    return best, best_mu, bounds


def _piece_options(options: SolverOptions, max_nodes: int | None) -> SolverOptions:
    """The options every piece is solved with: no time limit (logged if one was given), the
    work limit ``max_nodes``, no HiGHS log on standard error."""
    if max_nodes is not None and max_nodes < 1:
        raise InputError(
            f"decompose.piece_max_nodes = {max_nodes}: HiGHS returns no plan without a node; "
            "give at least 1, or 0 in the scenario for no work limit"
        )
    if math.isfinite(options.time_limit_s):
        log.info(
            "decompose.method = 'lagrange' solves every piece to mip_rel_gap %.4g without the "
            "time limit (%.0f s): a wall-clock limit would decide the plan; make the pieces "
            "smaller (decompose.max_piece_pairs) or limit their work "
            "(decompose.piece_max_nodes) to make it faster",
            options.mip_rel_gap,
            options.time_limit_s,
        )
    return dataclasses.replace(
        options, time_limit_s=math.inf, log_to_stderr=False, mip_max_nodes=max_nodes
    )


def _supergradient(
    search: PieceSearch,
    weights: np.ndarray,
    make_plan: Callable[[list[Solution]], Solution],
    steps: int,
    theta: float,
) -> tuple[Solution, float, list[Solution], list[dict[str, float]]]:
    """Pieces at the first shares, their plan, then ``steps`` projected supergradient steps on
    the shares (module docstring); the plan (the cheaper of those at the first and the best
    shares), the best bound, the pieces' plans there and one record per step."""
    pieces = search.pieces
    solutions = first = search.at(weights)
    bound = search.bound(solutions)
    capex, _ = search.copy_figures(solutions)
    plan = make_plan(solutions)
    history = [{"bound": bound, "theta": theta, "disagreement": 0.0}]
    best_bound, best_solutions = bound, solutions
    for _ in range(steps if pieces.split.any() else 0):
        gradient = centred(capex, pieces.copy_site)
        norm = float(gradient @ gradient)
        history[-1]["disagreement"] = math.sqrt(norm)
        if norm == 0 or plan.objective <= best_bound:
            break
        step = theta * (plan.objective - bound) / norm
        weights = project_simplex(weights + step * gradient, pieces.copy_site)
        solutions = search.at(weights)
        bound = search.bound(solutions)
        capex, _ = search.copy_figures(solutions)
        history.append({"bound": bound, "theta": theta, "disagreement": 0.0})
        log.info("lagrange: bound %.6g (best %.6g), plan %.6g", bound, best_bound, plan.objective)
        if bound > best_bound:
            best_bound, best_solutions = bound, solutions
        else:
            theta /= 2
    if best_solutions is not first:
        other = make_plan(best_solutions)
        plan = other if other.objective < plan.objective else plan
    return plan, best_bound, best_solutions, history


def solve_lagrange(
    problem: FacilityProblem,
    options: SolverOptions | None = None,
    *,
    executor: Executor | None = None,
    zone_region: np.ndarray | None = None,
    zone_xy: np.ndarray | None = None,
    max_piece_pairs: int = 20_000,
    max_bundle_pairs: int = 20_000,
    steps: int = 3,
    theta: float = 0.25,
    polish: bool = True,
    polish_pairs: int | None = None,
    fixed_per_kwh: float = 1.0,
    max_nodes: int | None = None,
    target_steps: int = 6,
) -> tuple[Solution, LagrangeRun]:
    r"""Plan and lower bound of the full model by Lagrangian decomposition (module docstring).

    Parameters
    ----------
    problem
        The national instance (``min_cost``, no budget or site limit: price those first,
        :func:`chargeplan.solver.decompose.solve_decomposed`), with or without coverage
        targets.
    options
        Gap and threads of every piece; its time limit is ignored (determinism).
    executor
        ``map``-like callable (default :func:`map`); e.g. a Dask executor.
    zone_region, zone_xy
        ``(Z,)`` region labels and ``(Z, 2)`` zone centres for cutting large components
        (:func:`chargeplan.solver.pieces.make_pieces`).
    max_piece_pairs, max_bundle_pairs
        Largest component kept whole (and piece size); size of bundles of whole components.
    steps
        Supergradient steps on the copy weights after the first solve (0: demand shares only).
    theta
        First Polyak step factor (halved when the bound does not improve).
    polish, polish_pairs
        Re-solve the plan on the sites any piece opened (module docstring), in independent
        parts of at most ``polish_pairs`` pairs (default ``4 * max_piece_pairs``).
    fixed_per_kwh
        Part of a shared site's fixed cost paid per kWh served at its lower-bound rate
        (:func:`chargeplan.solver.shares.fixed_rate`) instead of shared by the copies.
    max_nodes
        Deterministic work limit of every piece and polish part: HiGHS's branch and bound stops
        after this many nodes (``mip_max_nodes``) with its plan and its valid bound, so the
        bound stays valid and the plan the same on every machine (``None``: none; pieces
        then run until they close to ``options.mip_rel_gap``).
    target_steps
        Coverage targets: bisection steps on the multipliers :math:`\mu_g` (each one more solve
        of every piece; module docstring).

    Returns
    -------
    tuple[Solution, LagrangeRun]
        The plan (``objective`` its full cost, ``bound`` the best :math:`L(w)`, ``gap``
        between them, ``status`` ``"optimal"`` within ``options.mip_rel_gap`` else
        ``"feasible"``) and how the search went.
    """
    options = options or SolverOptions()
    piece_options = _piece_options(options, max_nodes)
    polish_pairs = 4 * max_piece_pairs if polish_pairs is None else polish_pairs
    pieces = make_pieces(
        problem,
        max_pairs=max_piece_pairs,
        max_bundle_pairs=max_bundle_pairs,
        zone_region=zone_region,
        zone_xy=zone_xy,
    )
    search = PieceSearch(problem, pieces, piece_options, executor or map, fixed_per_kwh)
    reach = reach_demand(problem, pieces)
    weights = normalised(reach, pieces.copy_site)

    def make_plan(solutions: list[Solution]) -> Solution:
        return _plan(search, solutions, reach, polish_pairs if polish else 0, zone_xy)

    mu, evaluated, target_history = _search_targets(search, weights, target_steps)
    search.set_mu(mu)
    plan, best_bound, best_solutions, history = _supergradient(
        search, weights, make_plan, steps, theta
    )
    limit_gap = search.work_limit_gap(best_solutions)
    repair_bounds: list[float] = []
    if mu is not None:
        plan, mu, repair_bounds = _repaired(search, plan, mu, weights, make_plan)
    best_bound = max([best_bound, *repair_bounds, *(b for b, _ in evaluated)])
    gap = max(plan.objective - best_bound, 0.0) / max(abs(plan.objective), 1e-9)
    status = "optimal" if gap <= options.mip_rel_gap * (1 + 1e-6) + 1e-9 else "feasible"
    solution = dataclasses.replace(plan, bound=best_bound, gap=gap, status=status)
    run = LagrangeRun(
        pieces=len(pieces.regions),
        split_pieces=int(pieces.split.sum()),
        components=sum(r.components for r in pieces.regions),
        largest_pairs=max((len(r.pairs) for r in pieces.regions), default=0),
        shared_sites=pieces.shared_sites,
        copies=len(pieces.copy_site),
        steps=tuple(history),
        bound=best_bound,
        plan_cost=plan.objective,
        work_limited=tuple(sorted(search.limited)),
        work_limit_gap=limit_gap,
        multipliers=() if mu is None else tuple(float(m) for m in mu),
        target_steps=tuple(target_history),
    )
    return solution, run
