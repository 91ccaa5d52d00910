"""What a plan stopped by its time limit was solved with, and what to try next.

The advice every solve path logs when HiGHS's clock, not its gap, ended the search
(:func:`time_limit_advice`): the formulation in words, the settings that change it, and that a
node limit makes the plan the same on every machine.
"""

from __future__ import annotations

from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem
from chargeplan.solver.options import SolverOptions

__all__ = ["time_limit_advice"]


def time_limit_advice(
    problem: FacilityProblem,
    ix: ModelIndex,
    options: SolverOptions,
    gap: float,
    formulation: str | None = None,
    *,
    covering: bool = False,
    coverage: tuple[float, float] | None = None,
) -> str:
    """What a plan stopped by the time limit was solved with, and what to try next.

    Without the strong rows ``x_ijk <= y_j`` (``pair_links = "auto"`` leaves them out of a
    model with charger sizing above :data:`~chargeplan.model.problem.STRONG_LINK_LIMIT`
    assignment variables: :func:`chargeplan.model.links.wants_strong_links`) the LP bound is
    weak and HiGHS may need far longer to close the gap; with them each LP is larger;
    ``"lazy"`` (:mod:`chargeplan.solver.cuts`) adds only those the LP relaxation violates.
    ``formulation``: the solution's own words for it (the cut loop's count of rows), else
    ``ix.formulation``. ``covering``: solved in the covering form (MCLP), which has no
    assignment links, whatever ``ix`` of the problem as given says. ``coverage``: a
    ``max_coverage`` plan's covered demand and the most its bound allows, whose gap the
    message adds (``gap`` is of the unmet demand HiGHS minimises, 100 % when its bound is 0).
    """
    tries = []
    links = problem.pair_links
    covering = covering or ix.covering
    if not ix.strong_links and not covering:
        tries.append(
            "model.pair_links = 'always' (the strong rows often close the gap of capacitated "
            "instances sooner, at larger LPs)"
        )
    if ix.strong_links and not covering and links != "always":
        tries.append("model.pair_links = 'never' (smaller LPs, a weaker bound)")
    if not covering and links != "lazy":
        tries.append(
            "model.pair_links = 'lazy' (only the strong rows the LP relaxation violates, "
            "added in rounds: the bound of the strong rows with smaller LPs)"
        )
    tries.append(f"a higher solver.time_limit_s (now {options.time_limit_s:g} s)")
    tries.append(f"a looser solver.mip_rel_gap (now {options.mip_rel_gap:g})")
    if problem.objective == "min_cost" and problem.budget is None and problem.max_sites is None:
        tries.append("decompose.by = 'components' (exact) to solve independent parts apart")
    clock = (
        " The clock decided this plan: another machine, or this one under another load, may "
        "return another; solver.mip_max_nodes (a count of nodes, the same work everywhere) "
        "with a time limit far above it gives the same plan on every run."
        if options.mip_max_nodes is None
        else ""
    )
    covered = ""
    if coverage is not None:
        done, most = coverage
        share = (most - done) / most if most > 0 else 0.0
        covered = (
            f" on the unmet demand it minimises (covered {done:,.6g}, at most {most:,.6g}: "
            f"{100 * share:.2f} % of the coverage)"
        )
    return (
        f"HiGHS stopped at its time limit with a gap of {100 * gap:.2f} %{covered}; formulation: "
        f"{formulation or ix.formulation}"
        + ("" if covering else f" (model.pair_links = '{links}')")
        + ". To try: "
        + "; ".join(tries)
        + "."
        + clock
    )
