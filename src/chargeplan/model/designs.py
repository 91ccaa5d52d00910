r"""Station designs: a site gets one design from a menu, on top of the chargers it holds.

A design d has :math:`s_{dk}` stalls of each charger type k, a grid connection of
:math:`V_d` kVA and a capex :math:`F_d` (stalls, transformer and connection, civil works;
computed in :mod:`chargeplan.config.catalogue`). A site j that holds :math:`E_{jk}` chargers
keeps them; a design extends them, so the station has :math:`E_{jk} + s_{dk}` chargers of type
k, one queue per type (one station = one queue: Erlang C is exact). Its design-hour capacity is

.. math:: Q_{jdk} = L_k(E_{jk} + s_{dk}) \text{ (queueing rule)},\qquad
          Q_{jdk} = q_k (E_{jk} + s_{dk}) \text{ (linear rule)},

and :math:`Q_{j0k}` (:math:`d = 0`: no design) the capacity of the existing chargers alone.
The functions here compute these numbers and read a plan's designs back from its chargers
(the stall rows of a menu are distinct, so the chargers added at a site name its design).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from chargeplan.model.problem import FacilityProblem

__all__ = ["charger_capex", "design_of", "station_capacity"]


def station_capacity(problem: FacilityProblem) -> tuple[np.ndarray, np.ndarray]:
    r"""``(S, K)`` :math:`Q_{j0k}` and ``(S, D, K)`` :math:`Q_{jdk}`: design-hour capacity of
    the existing chargers alone and of each design on top of them (module docstring)."""
    assert problem.design_stalls is not None
    existing = problem.existing_chargers.astype(np.int64)
    total = existing[:, None, :] + problem.design_stalls.astype(np.int64)[None, :, :]
    if problem.queue_levels is None:
        assert problem.charger_capacity is not None
        return existing * problem.charger_capacity, total * problem.charger_capacity
    base = np.column_stack([lv[existing[:, t]] for t, lv in enumerate(problem.queue_levels)])
    design = np.stack([lv[total[:, :, t]] for t, lv in enumerate(problem.queue_levels)], axis=2)
    return base.astype(float), design.astype(float)


def design_of(problem: FacilityProblem, chargers: np.ndarray) -> np.ndarray:
    """``(S,)``: the design each site holds (its position in the menu), ``-1`` for none.

    Read from the chargers added to the existing ones; ``-1`` also where the added chargers
    match no design (a plan that is not a design plan).
    """
    out = np.full(len(problem.site_ids), -1)
    if problem.design_stalls is None:
        return out
    added = np.asarray(chargers) - problem.existing_chargers
    match = (added[:, None, :] == problem.design_stalls[None, :, :]).all(axis=2)
    has = match.any(axis=1)
    out[has] = match.argmax(axis=1)[has]
    return out


def charger_capex(problem: FacilityProblem, chargers: np.ndarray) -> np.ndarray:
    r"""``(S,)``: capex of what a plan builds at each site, fixed cost and upgrades aside.

    :math:`F_d` of the site's design with designs, else :math:`\sum_k p_{jk}(n_{jk} - E_{jk})`.
    """
    if problem.design_capex is None:
        new = np.maximum(np.asarray(chargers) - problem.existing_chargers, 0)
        return (problem.charger_cost * new).sum(axis=1)
    design = design_of(problem, chargers)
    capex = problem.design_capex[np.maximum(design, 0)] * problem.design_capex_share
    return np.where(design >= 0, capex, 0.0)
