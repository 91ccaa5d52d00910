r"""Which formulation of "served only by an open site" a model gets (``pair_links``).

Two ways to say that zone i is served from site j only when j is open:

- aggregated (always in the model): :math:`\sum_{i, k} d_{ik} x_{ijk} \le C_j y_j`
  (``site_capacity``; an uncapacitated site gets the demand in its reach as :math:`C_j`);
- strong (``pair_link``): :math:`x_{ijk} \le y_j` for every assignment variable.

Both give the same integer plans. The strong rows make the LP bound much tighter (the
aggregated row alone lets :math:`y_j = \text{load}_j / C_j`, a fraction of a site's fixed
cost) at the price of one row per assignment variable.

``pair_links = "auto"`` (:func:`wants_strong_links`) adds them

- always to a facility-location model (no charger sizing, ``objective = "min_cost"``: the
  CFLP/UFLP form). Measured with ``benchmarks/formulation_rule.py`` (docs/scale.md, "Strong or
  aggregated links"): without them a 1,000 x 100 capacitated instance (100,000 assignment
  variables) stopped at 400 s with a gap of 6 % where the strong formulation proves the optimum
  in 94-160 s; they win or tie on the OR-Library instances and the looser 500 x 50 ones (on the
  tightest generated family, capc-like, the aggregated rows alone were faster);
- to any other model (charger sizing: the ``n`` columns carry the capacity) only up to
  :data:`~chargeplan.model.problem.STRONG_LINK_LIMIT` assignment variables, as before.

Column order (:func:`integers_first`). HiGHS's search depends on the order of the columns it
is given (ties in pricing, branching and cut selection are broken by position). A
facility-location model is handed to HiGHS with its integer columns first (``y`` then ``x``,
as a CFLP is written by hand and as ``benchmarks/formulation_rule.py`` builds it for raw
HiGHS): HiGHS then takes the very search of raw HiGHS on the same rows (the same nodes and
simplex iterations), so chargeplan's time over raw's is its own fixed cost (docs/scale.md,
"Column order"). Which order is faster on average is not settled (neither wins on every
seed). Models with charger sizing keep the order of first appearance in the rows (``x``
first): the default plan's figures are pinned to it (tests/test_readme.py).
"""

from __future__ import annotations

from chargeplan.model.problem import STRONG_LINK_LIMIT, FacilityProblem

__all__ = ["integers_first", "wants_strong_links"]


def wants_strong_links(problem: FacilityProblem, n_assign: int) -> bool:
    """Whether the model of ``problem`` with ``n_assign`` assignment variables gets the strong
    rows ``x_ijk <= y_j`` (module docstring: the ``"auto"`` rule).

    Parameters
    ----------
    problem
        The instance; its ``pair_links`` is ``"auto"``, ``"always"`` or ``"never"``.
    n_assign
        Number of assignment variables ``x_ijk`` in the model.

    Returns
    -------
    bool
    """
    if problem.pair_links != "auto":
        return problem.pair_links == "always"
    facility_location = not problem.sizing and problem.objective == "min_cost"
    return facility_location or n_assign <= STRONG_LINK_LIMIT


def integers_first(problem: FacilityProblem) -> bool:
    """Whether HiGHS gets the model's integer columns first (module docstring, "Column order").

    True for a facility-location model (no charger sizing, ``objective = "min_cost"``: the
    class that ``"auto"`` gives the strong rows at any size), false otherwise.

    Parameters
    ----------
    problem
        The instance.

    Returns
    -------
    bool
    """
    return not problem.sizing and problem.objective == "min_cost"
