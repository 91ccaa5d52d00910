r"""The share of the reachable demand a plan serves: issue 12's service figure.

Issue 12's target for a national station plan reads "at least 95 % of the design-hour demand
of cells that have a candidate within their reach standard is served". With :math:`P(i)` the
candidate sites within zone :math:`i`'s reach (the pairs of the problem: every pair lies within
the zone's service standard, :mod:`chargeplan.inputs.reach`), :math:`d_{ik}` the zone's
design-hour demand of charger type :math:`k` and :math:`u_{ik}` its unmet share, the figure is

.. math::

    s = \frac{\sum_{i:\,|P(i)| > 0} \sum_k d_{ik} (1 - u_{ik})}
             {\sum_{i:\,|P(i)| > 0} \sum_k d_{ik}}

over the zones with at least one candidate in reach, whatever the candidate (a zone whose only
candidate cannot hold one of its charger types still counts that type's demand). Zones with
no candidate in reach (``gap_reason = "unreachable"``) are left out of both sums: no plan of
these candidates can serve them; the plan's ``coverage`` counts them. With no demand in reach
the share is 1 (nothing to serve, as ``coverage`` of a plan without demand).

It differs from the per-settlement ``standard_<group>_served_share`` of
:mod:`chargeplan.model.targets` only where a type cannot be hosted by any site in reach: those
figures count demand by (zone, type) and only where a site can hold the type.
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd

__all__ = ["reachable_served_share", "zones_reachable_served_share"]


class Plan(Protocol):
    """What :func:`reachable_served_share` reads of a :class:`chargeplan.results.plan.Plan`
    (named here, not imported: ``plan.py`` calls this module)."""

    @property
    def zones(self) -> pd.DataFrame: ...
    def final(self) -> Plan: ...


def zones_reachable_served_share(zones: pd.DataFrame) -> float:
    """The share :math:`s` (module docstring) of a plan's zone table.

    Parameters
    ----------
    zones
        One row per zone with ``demand_kwh``, ``served_kwh`` (design-hour kWh) and
        ``sites_in_reach`` (candidate sites within the zone's reach), as
        :attr:`chargeplan.results.plan.Plan.zones` holds them.

    Returns
    -------
    float
        Served over demand of the zones with ``sites_in_reach > 0``; 1.0 if they have none.
    """
    in_reach = zones["sites_in_reach"].to_numpy() > 0
    demand = float(zones["demand_kwh"].to_numpy(float)[in_reach].sum())
    served = float(zones["served_kwh"].to_numpy(float)[in_reach].sum())
    return served / demand if demand > 0 else 1.0


def reachable_served_share(plan: Plan) -> float:
    """The share of the design-hour demand of the zones with a candidate in reach that the
    plan serves (issue 12's ">= 95 %" figure; the module docstring gives its definition).

    Parameters
    ----------
    plan
        A plan (:func:`chargeplan.plan_network`); for a rollout, its last year.

    Returns
    -------
    float
        The share, in [0, 1]; the summary holds it as ``served_share_reachable``.
    """
    return zones_reachable_served_share(plan.final().zones)
