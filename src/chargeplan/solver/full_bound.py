"""A region cut's plan with the full model's bound in place of the cut model's, and the
figures that say which bound a plan's gap is against (the call site of
:mod:`chargeplan.solver.cut_bound` in :mod:`chargeplan.solver.decompose`)."""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import numpy as np

from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution
from chargeplan.solver.cut_bound import Executor, cut_bound
from chargeplan.solver.split import Region

__all__ = ["with_full_bound"]

log = logging.getLogger(__name__)


def with_full_bound(
    problem: FacilityProblem,
    regions: list[Region],
    plan: Solution,
    *,
    cut_pairs: int,
    steps: int,
    mip_rel_gap: float,
    executor: Executor | None = None,
    target_multipliers: np.ndarray | None = None,
) -> tuple[Solution, dict[str, Any]]:
    """``plan`` (made on the cut ``regions``) with the full model's bound in place of the cut
    model's, and the figures for the summary (keys ``decompose_``...): which model the bound
    is of (``"full model"``: no pair was cut, or :func:`cut_bound` applies; else ``"cut
    model"``), the cut model's bound, the full bound's first value, steps and seconds."""
    figures: dict[str, Any] = {
        "decompose_bound_of": "full model" if cut_pairs == 0 else "cut model",
        "decompose_cut_model_bound": plan.bound,
    }
    if cut_pairs == 0 or steps <= 0 or not _may_apply(problem):
        return plan, figures
    start = time.perf_counter()
    found = cut_bound(
        problem,
        regions,
        plan,
        steps=steps,
        executor=executor,
        target_multipliers=target_multipliers,
    )
    if found is None:
        return plan, figures
    gap = max(plan.objective - found.bound, 0.0) / max(abs(plan.objective), 1e-9)
    status = plan.status if gap <= mip_rel_gap * (1 + 1e-6) else "feasible"
    log.info(
        "full model's bound over the cut: %.6g (first %.6g, %d steps, %d pairs of which %d "
        "cross pairs); the cut model's %.6g",
        found.bound,
        found.first,
        found.steps,
        found.pairs,
        found.cross_pairs,
        plan.bound,
    )
    figures.update(
        {
            "decompose_bound_of": "full model",
            "decompose_full_bound_first": found.first,
            "decompose_full_bound_steps": found.steps,
            "decompose_full_bound_pairs": found.pairs,
            "decompose_full_bound_cross_pairs": found.cross_pairs,
            "decompose_full_bound_seconds": time.perf_counter() - start,
            "decompose_full_bound_target_multipliers": " ".join(
                f"{m:.6g}" for m in found.target_multipliers
            ),
        }
    )
    solved = dataclasses.replace(plan, bound=found.bound, gap=gap, status=status)
    return solved, figures


def _may_apply(problem: FacilityProblem) -> bool:
    """Whether the design Lagrangian may cover the model (checked in full on each group's
    model: :func:`~chargeplan.solver.design_bound.lagrangian_applies`)."""
    return bool(
        problem.designs
        and problem.objective == "min_cost"
        and problem.budget is None
        and problem.max_sites is None
    )
