r"""Pieces of a Lagrangian decomposition: zones partitioned, sites copied where pieces meet.

The reach graph's connected components are independent models (:mod:`chargeplan.solver.split`);
a component with at most ``max_pairs`` live pairs stays whole. A larger one has its *zones*
partitioned: first by region label (province), then each group by **recursive coordinate
bisection** on the zone centres (split at the pair-weighted median of the longer axis, ties by
position, so the split is a function of the data alone) until every group holds at most
``max_pairs`` pairs. A piece keeps *every* pair of its zones and every site they reach: a site
reached from several pieces is **copied** into each (no pair is cut). How the copies share the
site's cost, and why the pieces then bound the full model from below, is in
:mod:`chargeplan.solver.lagrange`.

:func:`project_simplex` projects each site's copy weights onto the simplex
:math:`\{w \ge 0, \sum_r w_{rj} = 1\}` (Held, Wolfe & Crowder 1974 / Duchi et al. 2008, sorted
form), vectorised over all sites at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chargeplan.errors import InputError
from chargeplan.model.problem import FacilityProblem
from chargeplan.solver.split import Region, bundle, split_components

__all__ = ["Pieces", "bisect_zones", "make_pieces", "project_simplex"]


@dataclass(frozen=True)
class Pieces:
    """A partition of the zones into pieces, with the sites each piece reaches.

    Attributes
    ----------
    regions
        The pieces (zones disjoint; sites may repeat across pieces: copies); whole components
        (bundled) first, then the pieces of split components.
    split
        ``(R,)`` bool: whether a piece holds a site copied into another piece.
    copy_piece, copy_site, copy_slot
        ``(C,)`` one entry per copy of a shared site: its piece, its national site position
        and its position in that piece's site list; sorted by site, then piece.
    """

    regions: list[Region]
    split: np.ndarray
    copy_piece: np.ndarray
    copy_site: np.ndarray
    copy_slot: np.ndarray

    @property
    def shared_sites(self) -> int:
        """Sites held by more than one piece."""
        return len(np.unique(self.copy_site))


def bisect_zones(
    zones: np.ndarray, weight: np.ndarray, xy: np.ndarray, max_weight: float
) -> list[np.ndarray]:
    """Recursive coordinate bisection of ``zones`` until each group weighs at most ``max_weight``.

    Parameters
    ----------
    zones
        Positions of the zones to split.
    weight
        Weight of each of them (its live pairs).
    xy
        ``(len(zones), 2)`` zone centres (any planar unit).
    max_weight
        Largest weight of a group; a single zone heavier than it stays alone.

    Returns
    -------
    list[np.ndarray]
        Groups of zone positions, each sorted; in a fixed order (depth first, low side first).
    """
    out: list[np.ndarray] = []
    stack = [np.arange(len(zones))]
    while stack:
        part = stack.pop()
        if weight[part].sum() <= max_weight or len(part) == 1:
            out.append(np.sort(zones[part]))
            continue
        span = xy[part].max(axis=0) - xy[part].min(axis=0)
        axis = int(np.argmax(span))
        order = part[np.lexsort((zones[part], xy[part, axis]))]
        cumulative = np.cumsum(weight[order])
        cut = int(np.searchsorted(cumulative, cumulative[-1] / 2)) + 1
        cut = min(max(cut, 1), len(order) - 1)
        stack.extend([order[cut:], order[:cut]])
    return out


def _zone_groups(
    problem: FacilityProblem,
    region: Region,
    pair_count: np.ndarray,
    zone_region: np.ndarray | None,
    zone_xy: np.ndarray | None,
    max_pairs: int,
) -> list[np.ndarray]:
    """Zones of one large component, grouped by region label and then bisected."""
    zones = region.zones
    if zone_region is None:
        labelled = [zones]
    else:
        labels = np.asarray(zone_region)[zones]
        _, code = np.unique(labels, return_inverse=True)
        labelled = [zones[code == c] for c in range(code.max() + 1)]
    xy = np.column_stack([zones, np.zeros(len(zones))]).astype(float)
    groups: list[np.ndarray] = []
    for members in labelled:
        here = xy[np.searchsorted(zones, members)] if zone_xy is None else zone_xy[members]
        groups.extend(bisect_zones(members, pair_count[members], here, max_pairs))
    return groups


def _piece(
    problem: FacilityProblem, zones: np.ndarray, live: np.ndarray, components: int
) -> Region:
    """A piece: the given zones, all their live pairs and every site those reach."""
    in_piece = np.zeros(len(problem.zone_ids), bool)
    in_piece[zones] = True
    pairs = np.flatnonzero(live & in_piece[problem.pair_zone])
    sites = np.unique(problem.pair_site[pairs])
    return Region(zones=zones, sites=sites, pairs=pairs, components=components)


def make_pieces(
    problem: FacilityProblem,
    *,
    max_pairs: int,
    max_bundle_pairs: int,
    zone_region: np.ndarray | None = None,
    zone_xy: np.ndarray | None = None,
) -> Pieces:
    """Whole components (bundled) and the pieces of the components with more than
    ``max_pairs`` live pairs (module docstring).

    Parameters
    ----------
    problem
        The national instance.
    max_pairs
        Largest component kept whole; the size the pieces of larger ones are cut to.
    max_bundle_pairs
        Whole components are packed into tasks of this size (:func:`bundle`).
    zone_region
        ``(Z,)`` region labels: a large component is first split along them (optional).
    zone_xy
        ``(Z, 2)`` zone centres for the bisection (optional: without them zones are bisected
        in position order).
    """
    if max_pairs < 1:
        raise InputError(f"decompose.max_piece_pairs must be at least 1, not {max_pairs}")
    live = problem.live_pairs
    pair_count = np.bincount(problem.pair_zone[live], minlength=len(problem.zone_ids))
    components = split_components(problem)
    whole = [r for r in components if len(r.pairs) <= max_pairs]
    regions = bundle(whole, max_bundle_pairs)
    split_from = len(regions)
    for component in components:
        if len(component.pairs) <= max_pairs:
            continue
        groups = _zone_groups(problem, component, pair_count, zone_region, zone_xy, max_pairs)
        for position, zones in enumerate(groups):
            # a component split into pieces is counted once, on its first piece
            regions.append(_piece(problem, zones, live, components=int(position == 0)))
    piece_of = np.concatenate([np.full(len(r.sites), i) for i, r in enumerate(regions)])
    site_of = np.concatenate([r.sites for r in regions]) if regions else np.empty(0, np.int64)
    slot_of = np.concatenate([np.arange(len(r.sites)) for r in regions]) if regions else site_of
    counts = np.bincount(site_of, minlength=len(problem.site_ids))
    shared = counts[site_of] > 1
    order = np.lexsort((piece_of[shared], site_of[shared]))
    split = np.zeros(len(regions), bool)
    split[piece_of[shared]] = True
    assert not split[:split_from].any()
    return Pieces(
        regions=regions,
        split=split,
        copy_piece=piece_of[shared][order],
        copy_site=site_of[shared][order],
        copy_slot=slot_of[shared][order],
    )


def project_simplex(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    r"""Euclidean projection of ``values`` onto the simplex of each group.

    For each group g: :math:`\arg\min_w \|w - v_g\|^2` s.t. :math:`w \ge 0, \sum w = 1`, i.e.
    :math:`w = \max(v - \theta, 0)` with :math:`\theta` from the sorted values.

    Parameters
    ----------
    values
        ``(C,)`` values.
    group
        ``(C,)`` group labels, sorted (entries of a group are contiguous).
    """
    if values.size == 0:
        return values.copy()
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    size = np.diff(np.r_[starts, len(values)])
    member = np.repeat(np.arange(len(starts)), size)
    order = np.lexsort((-values, member))
    ranked = values[order]
    total = np.cumsum(ranked)
    before = np.r_[0.0, total[starts[1:] - 1]] if len(starts) > 1 else np.zeros(1)
    cumulative = total - before[member]
    rank = np.arange(len(values)) - starts[member] + 1
    candidate = ranked - (cumulative - 1.0) / rank
    rho = np.maximum.reduceat(np.where(candidate > 0, rank, 0), starts)
    theta = (cumulative[starts + rho - 1] - 1.0) / rho
    return np.maximum(values - theta[member], 0.0)
