"""From the solver's decisions to the plan a planner reads: sites, zones, gaps and a summary.

:func:`make_plan` joins a :class:`~chargeplan.model.solution.Solution` back onto the zones and sites
GeoDataFrames. Every figure is recomputed from the decisions (not read off the solver's
objective), so the reported parts add up to the reported totals.

Gap reasons for a zone with unmet demand:

- ``unreachable``: no candidate site within reach; only new candidate sites can serve it.
- ``capacity_limited``: a site in reach is open but at its charger limit for the type left
  unmet.
- ``budget_limited``: the budget or the site limit binds; more money would serve it.
- ``not_built``: a site is in reach but serving the zone costs more than its unmet penalty
  (too little demand to justify opening or extending a site).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from chargeplan.model.designs import charger_capex, design_of
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.queueing import erlang_c
from chargeplan.model.solution import Solution, objective_value
from chargeplan.model.targets import coverage_summary
from chargeplan.results.served import zones_reachable_served_share

if TYPE_CHECKING:
    from chargeplan.results.stations import StationSettings

#: Demand shares below this count as fully served (solver tolerance).
SHARE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Plan:
    """A charging-network plan.

    Attributes
    ----------
    sites
        Every candidate site: ``open``, ``chargers_<type>``, ``chargers``, capex parts,
        ``served_kwh_<type>``, ``utilisation_<type>`` (peak-hour served / capacity).
    zones
        Every zone: ``premium_users``, ``demand_kwh``, ``served_kwh``, ``unmet_kwh``,
        ``share_served``, ``unserved_users``, ``mean_distance_km`` (demand-weighted, to the
        serving sites), ``serving_sites``, ``sites_in_reach``, ``gap_reason``.
    assignments
        One row per (zone, site, type) with served demand.
    summary
        Headline figures (costs, chargers, coverage, solver outcome).
    years
        Multi-year rollouts only: one row per year (sites opened, chargers added by type,
        cumulative network, coverage, unmet demand, spend); ``sites``, ``zones`` and
        ``assignments`` then hold every year's rows with a ``year`` column.
    economics
        With a scenario's ``[economics]``: one row per open station, its energy, revenue,
        costs, NPV and payback with and without state support
        (:func:`chargeplan.results.economics.station_economics`).
    stations
        One row per open site as a planner builds it
        (:func:`chargeplan.results.stations.station_table`): location, design, chargers and kW
        by type, grid kVA, design-hour load and P(wait), daily kWh, capex in parts; ``None``
        when the plan was made without station settings (``make_plan(stations=...)``).
    """

    sites: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    assignments: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    years: pd.DataFrame | None = None
    economics: pd.DataFrame | None = None
    stations: gpd.GeoDataFrame | None = None

    def final(self) -> Plan:
        """The plan of the last year of a rollout (the plan itself for a single year)."""
        if self.years is None:
            return self
        year = int(self.years["year"].max())
        names = ["sites", "zones", "assignments"]
        if self.stations is not None and "year" in self.stations.columns:
            names.append("stations")
        pick = {name: getattr(self, name)[getattr(self, name)["year"] == year] for name in names}
        return Plan(**pick, summary={**self.summary, **self.years.iloc[-1].to_dict()})

    @property
    def gaps(self) -> gpd.GeoDataFrame:
        """Zones with unmet demand, largest first."""
        gaps = self.zones[self.zones["gap_reason"] != ""]
        return gaps.sort_values("unmet_kwh", ascending=False)

    def headline(self) -> list[tuple[str, str]]:
        """The plan's headline figures as ``(label, text)`` rows (what a notebook shows)."""
        from chargeplan.results.display import headline

        return headline(self)

    def _repr_html_(self) -> str:
        from chargeplan.results.display import plan_html

        return plan_html(self)

    def __repr__(self) -> str:
        return "Plan(" + ", ".join(f"{k.strip()}={v}" for k, v in self.headline()) + ")"

    def explore(self, **kwargs: Any) -> Any:
        """An interactive map (folium, through :meth:`geopandas.GeoDataFrame.explore`): zones
        shaded by the share of their demand served, open sites sized by their chargers;
        ``kwargs`` go to the zones' ``explore`` (e.g. ``tiles="CartoDB positron"``).
        :func:`chargeplan.results.display.explore`."""
        from chargeplan.results.display import explore

        return explore(self, **kwargs)


def _gap_reasons(problem: FacilityProblem, solution: Solution, unmet_kwh: np.ndarray) -> np.ndarray:
    z = len(problem.zone_ids)
    in_reach = np.bincount(problem.pair_zone, minlength=z)
    reason = np.full(z, "", dtype=object)
    has_gap = unmet_kwh.sum(axis=1) > SHARE_TOLERANCE * np.maximum(problem.demand.sum(axis=1), 1)
    reason[has_gap] = "not_built"
    if problem.budget is not None or problem.max_sites is not None:
        reason[has_gap] = "budget_limited"
    if problem.sizing:
        at_limit = solution.chargers >= problem.max_chargers
        if problem.design_stalls is not None:  # a station of the menu's largest stalls is full
            added = solution.chargers - problem.existing_chargers
            at_limit |= added >= problem.design_stalls.max(axis=0)
        full = solution.open_site[:, None] & at_limit
    else:
        capacity = problem.site_capacity
        load = np.bincount(
            problem.pair_site,
            weights=(solution.served * problem.demand[problem.pair_zone]).sum(axis=1),
            minlength=len(problem.site_ids),
        )
        full_site = solution.open_site & np.isfinite(capacity) & (load >= capacity * (1 - 1e-6))
        full = np.repeat(full_site[:, None], len(problem.types), axis=1)
    unmet_type = unmet_kwh > SHARE_TOLERANCE
    pair_full = full[problem.pair_site] & unmet_type[problem.pair_zone]
    capacity_limited = np.bincount(problem.pair_zone, weights=pair_full.any(axis=1), minlength=z)
    reason[has_gap & (capacity_limited > 0)] = "capacity_limited"
    reason[has_gap & (in_reach == 0)] = "unreachable"
    return reason


def queue_metrics(
    problem: FacilityProblem, solution: Solution, site_kwh: np.ndarray, k: int
) -> dict[str, np.ndarray]:
    """Peak-hour queue figures per site for charger type ``k``.

    Returns ``peak_arrivals`` (sessions per hour), ``utilisation`` (share of charger-hours
    busy), ``p_wait`` (probability an arriving driver waits) and ``mean_wait_min``. With the
    queueing rule a site's chargers are full queues of ``S_k`` plus one partial queue, and
    arrivals split in proportion to each queue's capacity at the service level; the figures
    are arrival-weighted over the queues. With the linear rule the site is one queue.
    """
    s = len(problem.site_ids)
    n = solution.chargers[:, k].astype(np.int64)
    out = {
        name: np.zeros(s) for name in ("peak_arrivals", "utilisation", "p_wait", "mean_wait_min")
    }
    if problem.session_kwh is None or problem.session_hours is None:
        capacity = n * (
            problem.charger_capacity[k] if problem.charger_capacity is not None else 0.0
        )
        out["utilisation"] = np.divide(
            site_kwh[:, k], capacity, out=np.zeros(s), where=capacity > 0
        )
        return out
    hours = float(problem.session_hours[k])
    arrivals = site_kwh[:, k] / float(problem.session_kwh[k])
    out["peak_arrivals"] = arrivals
    out["utilisation"] = np.divide(arrivals * hours, n, out=np.zeros(s), where=n > 0)
    levels = None if problem.queue_levels is None else problem.queue_levels[k]
    for j in np.flatnonzero((n > 0) & (arrivals > 0)):
        if levels is None:
            queues = [(int(n[j]), 1, 1.0)]
        else:
            size = len(levels) - 1
            full, part = divmod(int(n[j]), size)
            queues = [(size, full, float(levels[size])), (part, 1, float(levels[part]))]
            queues = [q for q in queues if q[0] > 0 and q[1] > 0]
        total = sum(count * cap for _, count, cap in queues)
        p_wait = wait = 0.0
        for servers, count, cap in queues:
            share = cap / total if total > 0 else 1.0 / len(queues)
            rate = arrivals[j] * share  # arrivals per queue of this kind
            load = rate * hours
            p = erlang_c(servers, load)
            w = p * hours / (servers - load) * 60.0 if load < servers else np.inf
            p_wait += count * share * p
            wait += count * share * w
        out["p_wait"][j] = p_wait
        out["mean_wait_min"][j] = wait
    return out


@dataclass(frozen=True)
class _Flows:
    """The served demand of a solution, summed three ways (kWh at the design hour)."""

    pair_kwh: np.ndarray  # (P, K) over each pair
    zone_kwh: np.ndarray  # (Z, K) served in each zone
    unmet_kwh: np.ndarray  # (Z, K) left unmet in each zone
    site_kwh: np.ndarray  # (S, K) served from each site

    @classmethod
    def of(cls, problem: FacilityProblem, solution: Solution) -> _Flows:
        demand = problem.demand
        pair_kwh = solution.served * demand[problem.pair_zone]
        zone_kwh = np.zeros_like(demand)
        np.add.at(zone_kwh, problem.pair_zone, pair_kwh)
        site_kwh = np.zeros((len(problem.site_ids), len(problem.types)))
        np.add.at(site_kwh, problem.pair_site, pair_kwh)
        return cls(pair_kwh, zone_kwh, demand * solution.unmet, site_kwh)


def make_plan(
    problem: FacilityProblem,
    solution: Solution,
    zones: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    extra_summary: dict[str, Any] | None = None,
    stations: StationSettings | None = None,
) -> Plan:
    """Join the decisions back onto the zones and sites.

    Parameters
    ----------
    problem, solution
        The instance and its solution.
    zones, sites
        GeoDataFrames in the order of ``problem.zone_ids`` and ``problem.site_ids``; zones may
        carry ``premium_users``.
    extra_summary
        Added to the summary (scenario name, timings, ...).
    stations
        With them the plan holds its :attr:`Plan.stations` table
        (:meth:`chargeplan.results.stations.StationSettings.from_scenario`).

    Returns
    -------
    Plan
    """
    flows = _Flows.of(problem, solution)
    out_sites, linear_chargers = _site_table(problem, solution, sites, flows)
    out_zones = _zone_table(problem, solution, zones, flows)
    summary = _summary(problem, solution, out_zones, linear_chargers)
    summary.update(extra_summary or {})
    station_rows = None
    if stations is not None:
        from chargeplan.results.stations import station_table

        station_rows = station_table(out_sites, stations, out_zones)
    return Plan(
        sites=out_sites,
        zones=out_zones,
        assignments=_assignments(problem, solution, flows),
        summary=summary,
        stations=station_rows,
    )


def _linear_rule_chargers(problem: FacilityProblem, site_kwh: np.ndarray, k: int) -> np.ndarray:
    """Chargers of type k the linear rule would hold: its need, or the chargers already there."""
    assert problem.charger_capacity is not None
    return np.maximum(
        np.ceil(site_kwh[:, k] / problem.charger_capacity[k] - 1e-9),
        problem.existing_chargers[:, k],
    ).astype(np.int64)


def _site_table(
    problem: FacilityProblem, solution: Solution, sites: gpd.GeoDataFrame, flows: _Flows
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Sites with their decisions, costs, served kWh and queue figures; and the ``(S, K)``
    chargers the linear rule would give (zeros unless it applies)."""
    out = sites.copy()
    out["open"] = solution.open_site
    out["fixed_cost_cny"] = problem.fixed_cost * solution.open_site
    new_chargers = np.maximum(solution.chargers - problem.existing_chargers, 0)
    linear_chargers = np.zeros_like(solution.chargers)
    for k, name in enumerate(problem.types):
        out[f"chargers_{name}"] = solution.chargers[:, k]
        out[f"served_kwh_{name}"] = flows.site_kwh[:, k]
        if problem.existing_chargers.any():
            out[f"existing_chargers_{name}"] = problem.existing_chargers[:, k]
            out[f"new_chargers_{name}"] = new_chargers[:, k]
        if problem.sizing:
            for column, values in queue_metrics(problem, solution, flows.site_kwh, k).items():
                out[f"{column}_{name}"] = values
            if problem.charger_capacity is not None:
                linear_chargers[:, k] = _linear_rule_chargers(problem, flows.site_kwh, k)
    out["chargers"] = solution.chargers.sum(axis=1)
    if problem.designs:
        _add_designs(problem, solution, out)
    out["charger_cost_cny"] = charger_capex(problem, solution.chargers)
    out["grid_upgrade"] = solution.grid_upgrade
    out["grid_upgrade_cost_cny"] = problem.grid_upgrade_cost * solution.grid_upgrade
    out["capex_cny"] = (
        out["fixed_cost_cny"] + out["charger_cost_cny"] + out["grid_upgrade_cost_cny"]
    )
    out["served_kwh"] = flows.site_kwh.sum(axis=1)
    return out, linear_chargers


def _add_designs(problem: FacilityProblem, solution: Solution, out: gpd.GeoDataFrame) -> None:
    """Each site's station design: its name (``""``: none), stalls by type, kVA and capex.

    The design-hour utilisation and P(wait) of the station are the ``utilisation_<type>`` and
    ``p_wait_<type>`` columns: with designs every type's chargers form one queue.
    """
    assert problem.design_names is not None and problem.design_stalls is not None
    assert problem.design_kva is not None and problem.design_capex is not None
    design = design_of(problem, solution.chargers)
    has = design >= 0
    at = np.maximum(design, 0)
    out["design"] = np.where(has, np.asarray(problem.design_names, dtype=object)[at], "")
    for k, name in enumerate(problem.types):
        out[f"design_stalls_{name}"] = np.where(has, problem.design_stalls[at, k], 0).astype(int)
    out["design_kva"] = np.where(has, problem.design_kva[at], 0.0)
    out["design_capex_cny"] = np.where(has, problem.design_capex[at], 0.0)


def _zone_table(
    problem: FacilityProblem, solution: Solution, zones: gpd.GeoDataFrame, flows: _Flows
) -> gpd.GeoDataFrame:
    """Zones with served and unmet kWh, share served, unserved users, distance, gap reason."""
    z = len(problem.zone_ids)
    total_pair_kwh = flows.pair_kwh.sum(axis=1)
    dist = np.nan_to_num(problem.distance_km)
    weighted = np.bincount(problem.pair_zone, weights=total_pair_kwh * dist, minlength=z)
    out = zones.copy()
    out["demand_kwh"] = problem.demand.sum(axis=1)
    for k, name in enumerate(problem.types):
        out[f"served_kwh_{name}"] = flows.zone_kwh[:, k]
        out[f"unmet_kwh_{name}"] = flows.unmet_kwh[:, k]
    out["served_kwh"] = flows.zone_kwh.sum(axis=1)
    out["unmet_kwh"] = flows.unmet_kwh.sum(axis=1)
    total = out["demand_kwh"].to_numpy()
    served = out["served_kwh"].to_numpy()
    out["share_served"] = np.divide(served, total, out=np.ones(z), where=total > 0)
    if "premium_users" in out.columns:
        out["unserved_users"] = out["premium_users"] * (1 - out["share_served"])
    out["mean_distance_km"] = np.divide(weighted, served, out=np.full(z, np.nan), where=served > 0)
    serving = np.bincount(problem.pair_zone, weights=total_pair_kwh > 1e-9, minlength=z)
    out["serving_sites"] = serving.astype(np.int64)
    out["sites_in_reach"] = np.bincount(problem.pair_zone, minlength=z).astype(np.int64)
    out["gap_reason"] = pd.Series(
        _gap_reasons(problem, solution, flows.unmet_kwh), index=out.index, dtype=str
    )
    return out


def _assignments(problem: FacilityProblem, solution: Solution, flows: _Flows) -> pd.DataFrame:
    """One row per pair and charger type that serves demand."""
    p_idx, k_idx = np.nonzero(flows.pair_kwh > 1e-9)
    return pd.DataFrame(
        {
            "zone_id": problem.zone_ids[problem.pair_zone[p_idx]],
            "site_id": problem.site_ids[problem.pair_site[p_idx]],
            "charger_type": np.asarray(problem.types, dtype=object)[k_idx],
            "served_kwh": flows.pair_kwh[p_idx, k_idx],
            "share": solution.served[p_idx, k_idx],
            "distance_km": problem.distance_km[p_idx],
        }
    )


def _summary(
    problem: FacilityProblem,
    solution: Solution,
    zones: gpd.GeoDataFrame,
    linear_chargers: np.ndarray,
) -> dict[str, Any]:
    """The plan's headline figures: solver outcome, sites, chargers, costs, coverage, gaps."""
    costs = objective_value(problem, solution)
    n_chargers = int(solution.chargers.sum())
    total_demand = float(problem.demand.sum())
    reasons = zones["gap_reason"]
    summary: dict[str, Any] = {
        "objective": problem.objective,
        "status": solution.status,
        "objective_value": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "build_seconds": solution.build_seconds,
        "solve_seconds": solution.solve_seconds,
        "formulation": solution.formulation,
        "zones": len(problem.zone_ids),
        "candidate_sites": len(problem.site_ids),
        "pairs": len(problem.pair_zone),
        "sites_opened": int(solution.open_site.sum()),
        "chargers": n_chargers,
        **{
            f"chargers_{name}": int(solution.chargers[:, k].sum())
            for k, name in enumerate(problem.types)
        },
        **{
            f"{key}_cny" if key.endswith(("cost", "capex", "penalty")) else key: value
            for key, value in costs.items()
        },
        "demand_kwh": total_demand,
        "coverage": costs["served_demand"] / total_demand if total_demand > 0 else 1.0,
        "served_share_reachable": zones_reachable_served_share(zones),  # issue 12's figure
        "zones_with_gaps": int((reasons != "").sum()),
        **{
            f"gap_zones_{r}": int((reasons == r).sum())
            for r in ("unreachable", "capacity_limited", "budget_limited", "not_built")
        },
    }
    if "premium_users" in zones:
        users = float(zones["premium_users"].sum())
        summary["premium_users"] = round(users)
        summary["unserved_users"] = float(zones["unserved_users"].sum())
        summary["premium_users_per_charger"] = users / n_chargers if n_chargers else None
    zone_users = zones["premium_users"].to_numpy(float) if "premium_users" in zones else None
    summary.update(coverage_summary(problem, solution.unmet, zone_users))  # by settlement type
    captured = [f"captured_kwh_{t}" for t in problem.types if f"captured_kwh_{t}" in zones]
    if captured:  # third parties take part of the public demand (docs/competition.md)
        third = float(zones[captured].to_numpy(float).sum())
        public = total_demand + third
        summary["public_demand_kwh"] = public
        summary["own_network_share"] = costs["served_demand"] / public if public > 0 else 0.0
        summary["competitor_share"] = third / public if public > 0 else 0.0
    if problem.sizing:
        summary.update(_sizing_summary(problem, solution, linear_chargers))
    if problem.budget is not None:
        summary["budget_cny"] = problem.budget
    if problem.max_sites is not None:
        summary["max_sites"] = problem.max_sites
    return summary


def _sizing_summary(
    problem: FacilityProblem, solution: Solution, linear_chargers: np.ndarray
) -> dict[str, Any]:
    """Sizing figures: rule, grid upgrades, new and kept chargers, what the linear rule gives."""
    new_chargers = np.maximum(solution.chargers - problem.existing_chargers, 0)
    out: dict[str, Any] = {
        "sizing_rule": "queue" if problem.queue_levels is not None else "linear",
        "grid_upgrades": int(solution.grid_upgrade.sum()),
        "new_chargers": int(new_chargers.sum()),
        "existing_chargers_kept": int(problem.existing_chargers.sum()),
    }
    if problem.charger_capacity is not None:
        for k, name in enumerate(problem.types):
            out[f"chargers_linear_rule_{name}"] = int(linear_chargers[:, k].sum())
        if problem.queue_levels is not None:
            out["chargers_added_by_queueing"] = int(solution.chargers.sum()) - int(
                linear_chargers.sum()
            )
    if problem.design_names is not None:
        design = design_of(problem, solution.chargers)[solution.open_site]
        for d, name in enumerate(problem.design_names):
            out[f"stations_{name}"] = int((design == d).sum())
    return out
