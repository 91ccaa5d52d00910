"""Coverage gaps of a plan: where demand stays unserved, why, and where new sites would help.

Every function takes a :class:`~chargeplan.results.plan.Plan` (or a table made from one) and
returns a GeoDataFrame in the plan's CRS, so the steps chain in a notebook:

- :func:`zone_gaps`: the zones with unmet demand, with the distance from each zone's demand
  centre to the nearest *open* site and to the nearest *candidate* site (an STRtree nearest
  query in a metric CRS, no zone x site matrix);
- :func:`region_gaps`: totals per region (province in the default data): users, demand,
  unserved users and gap zones by reason, sites and chargers built;
- :func:`propose_sites`: new candidate sites for the ``unreachable`` zones, which no existing
  candidate can serve. Zones are grouped by :func:`cover_points` so that every zone lies within
  the service radius of its group's proposed site, placed at the group's demand-weighted centre;
- :func:`analyse_gaps`: all three at once, as a :class:`GapAnalysis`.

Distances are straight lines between demand centres and sites, measured in the scenario's
``reach.crs`` exactly as :mod:`chargeplan.inputs.reach` measures reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from chargeplan.config.defaults import DEFAULT_CRS
from chargeplan.inputs.reach import demand_centres
from chargeplan.results.plan import Plan
from chargeplan.results.shapes import region_shapes, zone_regions
from chargeplan.results.shapes import site_regions as _regions_of

if TYPE_CHECKING:
    from chargeplan.config.scenario import Scenario

#: Gap reasons in the order reports list them.
GAP_REASONS = ("unreachable", "capacity_limited", "budget_limited", "not_built")


@dataclass(frozen=True)
class GapSettings:
    """Where to measure and how to label gaps; :meth:`from_scenario` takes them from a scenario.

    The defaults are the scenario defaults (:class:`~chargeplan.config.scenario.ReachConfig`,
    :class:`~chargeplan.config.scenario.ZonesConfig`); columns that a table lacks are ignored.

    Attributes
    ----------
    crs
        Metric CRS to measure distances in (the scenario's ``reach.crs``).
    radius_km
        Service radius: a proposed site must be within it of every zone it is meant to serve
        (also when the scenario's reach comes from a cost table).
    region_column
        Zone column to total by (``zones.region_column``; None: one region ``"all"``).
    name_column, site_name_column
        Zone and site name columns, for labels.
    centre_lon_column, centre_lat_column
        Zone demand-centre columns (WGS84); without them a point inside each zone is used.
    min_site_kwh
        Propose a new site only where it would serve at least this much unmet peak-hour
        demand. From a scenario: the site's fixed cost over the unmet-demand penalty
        (``sites.fixed_cost_cny / model.unmet_penalty_cny_per_kwh``), below which the model
        itself would rather leave the demand unmet than open a site.
    """

    crs: str = DEFAULT_CRS
    radius_km: float = 100.0
    region_column: str | None = "province"
    name_column: str | None = "name"
    site_name_column: str | None = "name"
    centre_lon_column: str | None = "centre_lon"
    centre_lat_column: str | None = "centre_lat"
    min_site_kwh: float = 0.0

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> GapSettings:
        """Settings that measure and label exactly as the scenario's reach and zones do."""
        return cls(
            crs=scenario.reach.crs,
            radius_km=scenario.reach.service_radius_km,
            region_column=scenario.zones.region_column or None,
            name_column=scenario.zones.name_column or None,
            site_name_column=scenario.sites.name_column or None,
            centre_lon_column=scenario.zones.centre_lon_column or None,
            centre_lat_column=scenario.zones.centre_lat_column or None,
            min_site_kwh=scenario.sites.fixed_cost_cny / scenario.model.unmet_penalty_cny_per_kwh,
        )


@dataclass(frozen=True)
class GapAnalysis:
    """The gaps of one plan.

    Attributes
    ----------
    zones
        :func:`zone_gaps` plus ``proposed_site`` (the proposal that would serve an
        unreachable zone, else empty).
    regions
        :func:`region_gaps`.
    proposed_sites
        :func:`propose_sites`.
    settings
        How they were measured.
    built_regions
        Each built site's region (:func:`site_regions` with ``built``), or None.
    """

    zones: gpd.GeoDataFrame
    regions: gpd.GeoDataFrame
    proposed_sites: gpd.GeoDataFrame
    settings: GapSettings
    built_regions: pd.Series | None = None


def _column(frame: pd.DataFrame, column: str | None, default: pd.Series) -> pd.Series:
    if column and column in frame.columns:
        return frame[column]
    return default


def _centres(zones: gpd.GeoDataFrame, settings: GapSettings) -> gpd.GeoSeries:
    """Zone demand centres in the metric CRS."""
    centres = demand_centres(
        zones, lon_column=settings.centre_lon_column, lat_column=settings.centre_lat_column
    )
    return centres.to_crs(settings.crs)


def _nearest(points: gpd.GeoSeries, targets: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """Label of and distance (km) to the nearest target of each point; None/NaN if no target."""
    label = np.full(len(points), None, dtype=object)
    km = np.full(len(points), np.nan)
    if len(targets) and len(points):
        tree = shapely.STRtree(targets.to_numpy())
        (src, dst), dist = tree.query_nearest(
            points.to_numpy(), return_distance=True, all_matches=False
        )
        label[src] = targets.index.to_numpy(dtype=object)[dst]
        km[src] = dist / 1000.0
    return label, km


def zone_distances(plan: Plan, settings: GapSettings | None = None) -> gpd.GeoDataFrame:
    """Every zone with its distance to the nearest open site and the nearest candidate site.

    Parameters
    ----------
    plan
        A plan (:func:`chargeplan.plan_network`).
    settings
        CRS and demand-centre columns (default :class:`GapSettings`).

    Returns
    -------
    geopandas.GeoDataFrame
        ``plan.zones`` plus ``nearest_open_site``, ``nearest_open_site_km``,
        ``nearest_candidate_site`` and ``nearest_candidate_site_km`` (from the demand centre).
    """
    settings = settings or GapSettings()
    centres = _centres(plan.zones, settings)
    sites = plan.sites.geometry.to_crs(settings.crs)
    out = plan.zones.copy()
    label, km = _nearest(centres, sites[plan.sites["open"].to_numpy(bool)])
    out["nearest_open_site"] = label
    out["nearest_open_site_km"] = km
    label, km = _nearest(centres, sites)
    out["nearest_candidate_site"] = label
    out["nearest_candidate_site_km"] = km
    return out


def zone_gaps(plan: Plan, settings: GapSettings | None = None) -> gpd.GeoDataFrame:
    """The zones with unmet demand, largest first, with distances to the nearest sites.

    Parameters
    ----------
    plan
        A plan.
    settings
        CRS and demand-centre columns (default :class:`GapSettings`).

    Returns
    -------
    geopandas.GeoDataFrame
        The rows of ``plan.gaps`` (every zone column: ``gap_reason``, ``unserved_users``,
        ``unmet_kwh``, ``sites_in_reach``, ...) plus the columns of :func:`zone_distances`.
        Under the radius rule an ``unreachable`` zone's nearest candidate site lies beyond the
        service radius.
    """
    zones = zone_distances(plan, settings)
    gaps = zones[zones["gap_reason"] != ""]
    return gaps.sort_values("unmet_kwh", ascending=False, kind="stable")


def site_regions(
    plan: Plan, settings: GapSettings | None = None, *, built: bool = False
) -> pd.Series:
    """The region of every candidate site (every built one with ``built``: the same regions,
    without searching for the others), :func:`chargeplan.results.shapes.site_regions`."""
    settings = settings or GapSettings()
    sites = plan.sites[plan.sites["open"].to_numpy(bool)] if built else plan.sites
    return _regions_of(plan.zones, sites, settings.region_column, settings.crs)


def region_gaps(
    plan: Plan,
    settings: GapSettings | None = None,
    *,
    shapes: bool = True,
    built_regions: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """Totals per region: users, demand, what stays unserved and why, and what is built.

    Parameters
    ----------
    plan
        A plan.
    settings
        ``region_column`` names the zones' region (default ``province``; a plan without it
        totals into one region ``"all"``). Built sites count in the region of the zone they lie
        in (the nearest zone for sites just off a coast).
    shapes
        Give each region its shape (:func:`chargeplan.results.shapes.region_shapes`); without,
        the geometry is empty (:func:`~chargeplan.results.shapes.with_region_shapes` adds it).
    built_regions
        The built sites' regions if already known (:func:`site_regions` with ``built``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per region (index: region), most unserved users first: ``zones``,
        ``premium_users``, ``demand_kwh``, ``served_kwh``, ``unmet_kwh``, ``share_served``,
        ``unserved_users``, ``zones_with_gaps``, ``gap_zones_<reason>`` and
        ``unserved_users_<reason>`` for each reason in :data:`GAP_REASONS`, ``sites_opened``,
        ``chargers``, ``capex_cny``; geometry: the union of the region's zones.
    """
    settings = settings or GapSettings()
    zones = plan.zones
    region = zone_regions(zones, settings.region_column)
    users = _column(zones, "premium_users", pd.Series(0.0, index=zones.index)).astype(float)
    unserved = _column(zones, "unserved_users", pd.Series(0.0, index=zones.index)).astype(float)
    reason = zones["gap_reason"]
    table = pd.DataFrame(
        {
            "region": region,
            "zones": 1,
            "premium_users": users,
            "demand_kwh": zones["demand_kwh"],
            "served_kwh": zones["served_kwh"],
            "unmet_kwh": zones["unmet_kwh"],
            "unserved_users": unserved,
            "zones_with_gaps": (reason != "").astype(int),
            **{f"gap_zones_{r}": (reason == r).astype(int) for r in GAP_REASONS},
            **{f"unserved_users_{r}": unserved.where(reason == r, 0.0) for r in GAP_REASONS},
        }
    )
    totals = table.groupby("region", sort=False).sum()

    sites = plan.sites[plan.sites["open"].to_numpy(bool)]
    if built_regions is None:
        built_regions = site_regions(plan, settings, built=True)
    built = (
        pd.DataFrame(
            {
                "region": built_regions.reindex(sites.index).to_numpy(),
                "sites_opened": 1,
                "chargers": sites["chargers"].to_numpy(),
                "capex_cny": sites["capex_cny"].to_numpy(float),
            }
        )
        .groupby("region")
        .sum()
    )
    totals = totals.join(built, how="left")
    totals[["sites_opened", "chargers"]] = totals[["sites_opened", "chargers"]].fillna(0)
    totals[["sites_opened", "chargers"]] = totals[["sites_opened", "chargers"]].astype(np.int64)
    totals["capex_cny"] = totals["capex_cny"].astype(float).fillna(0.0)
    demand = totals["demand_kwh"].to_numpy(float)
    totals["share_served"] = np.divide(
        totals["served_kwh"].to_numpy(float), demand, out=np.ones(len(totals)), where=demand > 0
    )
    geometry = (
        region_shapes(zones, settings.region_column).reindex(totals.index).values
        if shapes
        else gpd.GeoSeries([None] * len(totals), crs=zones.crs).values
    )
    out = gpd.GeoDataFrame(totals, geometry=geometry, crs=zones.crs)
    out.index.name = "region"
    return out.sort_values(["unserved_users", "unmet_kwh"], ascending=False, kind="stable")


#: Above this many points, :func:`cover_points` also splits groups by squares of 2 radii.
LARGE_COVER = 5_000


def cover_points(
    xy: np.ndarray, weight: np.ndarray, radius: float
) -> tuple[np.ndarray, np.ndarray]:
    """Group points so that each group's weighted centre lies within ``radius`` of all of it.

    Rounds of: link points closer than ``radius`` (STRtree ``dwithin``), take the connected
    components as groups, place each group's centre at its weighted mean and keep the members
    within ``radius`` of it; a group whose centre reaches none of its members is centred on its
    heaviest member instead. Members left out start the next round. Every round settles at
    least one point per group, so the rounds end.

    Parameters
    ----------
    xy
        ``(n, 2)`` coordinates in a metric CRS.
    weight
        ``(n,)`` non-negative weights (unmet demand); a group of zero weights uses the mean.
    radius
        Largest distance from a centre to a member, in the units of ``xy``.

    Returns
    -------
    labels : numpy.ndarray
        ``(n,)`` group of each point, ``0 .. m-1``.
    centres : numpy.ndarray
        ``(m, 2)`` centre of each group; ``|xy[i] - centres[labels[i]]| <= radius``.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    weight = np.maximum(np.asarray(weight, dtype=float), 0.0)
    labels = np.full(len(xy), -1, dtype=np.int64)
    centres: list[np.ndarray] = []
    remaining = np.arange(len(xy))
    tolerance = radius * (1 + 1e-9)
    while remaining.size:
        here = xy[remaining]
        points = shapely.points(here)
        a, b = shapely.STRtree(points).query(points, predicate="dwithin", distance=radius)
        m = len(remaining)
        graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(m, m))
        count, group = connected_components(graph, directed=False)
        if m > LARGE_COVER:
            # A group also stays within one square of side 2 * radius: a long chain of linked
            # points (tens of thousands of contiguous unreachable H3 cells) would otherwise
            # settle only the points near its centre each round and need thousands of rounds.
            square = np.floor((here - here.min(axis=0)) / (2 * radius)).astype(np.int64)
            _, group = np.unique(np.column_stack([group, square]), axis=0, return_inverse=True)
            group = group.ravel()
            count = int(group.max()) + 1
        w = weight[remaining]
        w = np.where(np.bincount(group, w, count)[group] > 0, w, 1.0)
        total = np.bincount(group, w, count)
        centre = (
            np.column_stack(
                [
                    np.bincount(group, w * here[:, 0], count),
                    np.bincount(group, w * here[:, 1], count),
                ]
            )
            / total[:, None]
        )
        covered = np.hypot(*(here - centre[group]).T) <= tolerance
        empty = np.bincount(group, covered, count) == 0
        if empty.any():
            order = np.lexsort((-w, group))
            first = order[np.r_[True, group[order][1:] != group[order][:-1]]]
            centre[empty] = here[first[empty]]
            covered = np.hypot(*(here - centre[group]).T) <= tolerance
        labels[remaining[covered]] = len(centres) + group[covered]
        centres.extend(centre)
        remaining = remaining[~covered]
    # number groups 0..m-1 in order of first appearance of the kept centres
    used, labels = np.unique(labels, return_inverse=True)
    return labels, np.asarray(centres, dtype=float).reshape(-1, 2)[used]


def propose_sites(gaps: gpd.GeoDataFrame, settings: GapSettings | None = None) -> gpd.GeoDataFrame:
    """New candidate sites that would bring the ``unreachable`` zones within reach.

    Parameters
    ----------
    gaps
        Zones with ``gap_reason``, ``unmet_kwh`` (and ``unserved_users``), e.g.
        :func:`zone_gaps` or ``plan.gaps``.
    settings
        CRS, service radius and columns (default :class:`GapSettings`).

    Returns
    -------
    geopandas.GeoDataFrame
        One point per proposed site (index ``new-1``, ``new-2``, ... by unmet demand, largest
        first; groups below ``settings.min_site_kwh`` are left out), at the
        unmet-demand-weighted centre of the zones it would serve, each within
        ``radius_km`` of it: ``zones``, ``zone_ids``, ``zone_names`` (largest first),
        ``region`` (of its largest zone), ``unserved_users``, ``unmet_kwh``,
        ``max_distance_km``, ``lon``, ``lat`` (WGS84). CRS: the zones'.
    """
    return _propose(gaps, settings or GapSettings())[0]


def _propose(gaps: gpd.GeoDataFrame, settings: GapSettings) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Proposed sites, and the proposal serving each unreachable zone (index: zone)."""
    zones = gaps[(gaps["gap_reason"] == "unreachable") & (gaps["unmet_kwh"] > 0)]
    if zones.empty:
        empty = gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in _PROPOSAL_COLUMNS},
            geometry=gpd.GeoSeries([], crs=gaps.crs),
            crs=gaps.crs,
        ).rename_axis("proposed_site")
        empty["lon"] = pd.Series(dtype=float)
        empty["lat"] = pd.Series(dtype=float)
        return empty, pd.Series(dtype=object)
    centres = _centres(zones, settings)
    xy = shapely.get_coordinates(centres.to_numpy())
    unmet = zones["unmet_kwh"].to_numpy(float)
    labels, spots = cover_points(xy, unmet, settings.radius_km * 1000.0)
    ids = pd.Series(zones.index.astype(str), index=zones.index)
    everywhere = pd.Series("all", index=zones.index)
    members = pd.DataFrame(
        {
            "group": labels,
            "zone_id": ids.to_numpy(),
            "zone_name": _column(zones, settings.name_column, ids).astype(str).to_numpy(),
            "region": _column(zones, settings.region_column, everywhere).astype(str).to_numpy(),
            "unserved_users": _column(
                zones, "unserved_users", pd.Series(np.nan, index=zones.index)
            ).to_numpy(float),
            "unmet_kwh": unmet,
            "distance_km": np.hypot(*(xy - spots[labels]).T) / 1000.0,
        }
    ).sort_values(["group", "unmet_kwh"], ascending=[True, False], kind="stable")
    grouped = members.groupby("group", sort=True)
    table = pd.DataFrame(
        {
            "zones": grouped.size(),
            "zone_ids": grouped["zone_id"].agg(", ".join),
            "zone_names": grouped["zone_name"].agg(", ".join),
            "region": grouped["region"].first(),
            "unserved_users": grouped["unserved_users"].sum(),
            "unmet_kwh": grouped["unmet_kwh"].sum(),
            "max_distance_km": grouped["distance_km"].max().round(3),
        }
    )
    table = table[table["unmet_kwh"] >= settings.min_site_kwh]
    rank = np.argsort(-table["unmet_kwh"].to_numpy(), kind="stable")
    names = np.empty(len(table), dtype=object)
    names[rank] = [f"new-{i + 1}" for i in range(len(table))]
    points = gpd.GeoSeries(shapely.points(spots[table.index]), crs=settings.crs).to_crs(gaps.crs)
    out = gpd.GeoDataFrame(table.to_numpy(), columns=table.columns, geometry=points.values)
    out = out.astype({"zones": np.int64, **{c: float for c in _PROPOSAL_COLUMNS[4:]}})
    out = out.set_crs(gaps.crs).set_axis(pd.Index(names, name="proposed_site")).iloc[rank]
    lonlat = out.geometry.to_crs("EPSG:4326")
    out.insert(len(_PROPOSAL_COLUMNS), "lon", lonlat.x.round(6))
    out.insert(len(_PROPOSAL_COLUMNS) + 1, "lat", lonlat.y.round(6))
    serving = pd.Series(names, index=table.index).reindex(labels).fillna("")
    return out, pd.Series(serving.to_numpy(), index=zones.index)


_PROPOSAL_COLUMNS = (
    "zones",
    "zone_ids",
    "zone_names",
    "region",
    "unserved_users",
    "unmet_kwh",
    "max_distance_km",
)


def analyse_gaps(
    plan: Plan, settings: GapSettings | None = None, *, shapes: bool = True
) -> GapAnalysis:
    """Zone gaps, region totals and proposed new sites of a plan, in one call.

    Parameters
    ----------
    plan
        A plan.
    settings
        See :class:`GapSettings` (use :meth:`GapSettings.from_scenario` for a scenario's plan).
    shapes
        Give the regions their shapes (see :func:`region_gaps`).

    Returns
    -------
    GapAnalysis
    """
    settings = settings or GapSettings()
    zones = zone_gaps(plan, settings)
    proposed, serving = _propose(zones, settings)
    zones = zones.assign(proposed_site=serving.reindex(zones.index).fillna("").to_numpy())
    built = site_regions(plan, settings, built=True)
    return GapAnalysis(
        zones=zones,
        regions=region_gaps(plan, settings, shapes=shapes, built_regions=built),
        proposed_sites=proposed,
        settings=settings,
        built_regions=built,
    )
