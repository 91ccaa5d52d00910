"""Which variables the model has, and how its columns map back to zones, sites and types.

:func:`model_index` decides, from the problem's arrays alone, which variables exist (only pairs
and types with demand get an assignment share, only sites something can use get an opening
variable, ...); :class:`ModelIndex` keeps that decision and the column range of each block once
the columns are added, so that a solution vector can be decoded
(:func:`chargeplan.model.solution.decode`) and each column's labels computed
(:func:`block_labels`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chargeplan.model.links import wants_strong_links
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.sparse import Labels
from chargeplan.model.targets import target_groups

__all__ = ["BLOCKS", "ModelIndex", "ModelOrigin", "block_labels", "model_index"]

#: The column blocks of one period, in column order.
BLOCKS = ("x", "u", "y", "n", "m", "b", "g", "z", "s")


@dataclass(frozen=True)
class ModelIndex:
    """How the model's columns map back to zones, sites, pairs and types.

    Blocks of columns, in order: ``x`` (assignment shares, one per pair and type with demand),
    ``u`` (unmet shares), ``y`` (open sites), ``n`` (chargers, one per sizing entry = site and
    type), ``m`` (full queues per entry), ``b`` (partial-queue levels), ``g`` (grid upgrades),
    ``z`` (station designs: one per site and design that fits there), ``s`` (shortfalls of
    coverage targets, one per group in ``s_group``: :mod:`chargeplan.model.targets`).
    ``covering``: the covering form (:func:`chargeplan.model.formulation.add_period`; no ``x``
    columns).
    """

    offsets: dict[str, tuple[int, int]]
    x_pair: np.ndarray
    x_type: np.ndarray
    u_zone: np.ndarray
    u_type: np.ndarray
    y_site: np.ndarray
    n_site: np.ndarray
    n_type: np.ndarray
    b_entry: np.ndarray
    b_level: np.ndarray
    g_site: np.ndarray
    strong_links: bool
    covering: bool = False
    z_site: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    z_design: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    s_group: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    def cols(self, block: str) -> np.ndarray:
        """Column positions of a block."""
        start, size = self.offsets[block]
        return start + np.arange(size)

    def span(self, block: str) -> slice:
        """Column positions of a block as a slice (to index a column vector without an array
        of positions)."""
        start, size = self.offsets[block]
        return slice(start, start + size)

    @property
    def formulation(self) -> str:
        """The formulation as built, in words (reported with every plan and time limit)."""
        if self.covering:
            return "covering form (no assignment variables; pure covering)"
        n = len(self.x_pair)
        if self.strong_links:
            return f"strong links x_ijk <= y_j on all {n:,} assignment variables"
        return f"weak links: x_ijk <= y_j left out of {n:,} assignment variables"

    @property
    def sizes(self) -> tuple[int, int, int, int]:
        """Numbers of x, u, y and n variables."""
        return len(self.x_pair), len(self.u_zone), len(self.y_site), len(self.n_site)

    def column_of_site(self, block: str, n_sites: int) -> np.ndarray:
        """``(S,)``: the column of each site's ``y`` or ``g`` variable (``-1``: none)."""
        sites = self.y_site if block == "y" else self.g_site
        out = np.full(n_sites, -1)
        out[sites] = self.cols(block)
        return out

    def entry_of_x(self, problem: FacilityProblem) -> np.ndarray:
        """``(len(x),)``: the sizing entry (``n`` position) of each assignment share's site and
        type, ``-1`` where the site has no charger of that type (always ``0`` without sizing).
        """
        if not problem.sizing:
            return np.zeros(len(self.x_pair), np.int64)
        entry_of = np.full((len(problem.site_ids), len(problem.types)), -1)
        entry_of[self.n_site, self.n_type] = np.arange(len(self.n_site))
        return entry_of[problem.pair_site[self.x_pair], self.x_type]

    def sites_and_zones(self, problem: FacilityProblem, n_cols: int) -> np.ndarray:
        """``(2, n_cols)``: the site and the zone each column belongs to (``-1``: none).

        ``x`` columns have both, ``u`` a zone, the others a site.
        """
        out = np.full((2, n_cols), -1)
        pair = self.x_pair
        for block, site, zone in (
            ("x", problem.pair_site[pair], problem.pair_zone[pair]),
            ("u", None, self.u_zone),
            ("y", self.y_site, None),
            ("n", self.n_site, None),
            ("m", self.n_site, None),
            ("b", self.n_site[self.b_entry], None),
            ("g", self.g_site, None),
            ("z", self.z_site, None),
        ):
            if block not in self.offsets:
                continue
            cols = self.cols(block)
            if site is not None and len(cols):
                out[0, cols] = site
            if zone is not None and len(cols):
                out[1, cols] = zone
        return out


def model_index(problem: FacilityProblem, pattern: np.ndarray | None = None) -> ModelIndex:
    """Decide which variables exist (the column ranges are filled in when they are added).

    ``pattern`` (``(Z, K)``, default the problem's demand): which zone-type demands get
    variables; periods of a rollout share one pattern so their variables line up.
    """
    k = len(problem.types)
    s = len(problem.site_ids)
    demand = problem.demand if pattern is None else pattern
    d_pairs = demand[problem.pair_zone]  # (P, K)
    live = (d_pairs > 0) & ~problem.excluded[problem.pair_site][:, None]
    x_pair, x_type = np.nonzero(live)
    u_zone, u_type = np.nonzero(demand > 0)
    useful = problem.must_open.copy()
    useful[problem.pair_site[x_pair]] = True
    useful &= ~problem.excluded
    y_site = np.flatnonzero(useful)
    if problem.sizing:
        entry = np.zeros((s, k), bool)
        entry[problem.pair_site[x_pair], x_type] = True
        entry &= problem.max_chargers > 0
        if problem.designs:  # a design may place stalls of any type the site allows
            entry |= problem.max_chargers > 0
        entry |= (problem.existing_chargers > 0) | (problem.min_chargers > 0)
        entry &= useful[:, None]
        n_site, n_type = np.nonzero(entry)
    else:
        n_site = n_type = np.empty(0, np.int64)
    z_site, z_design = _design_entries(problem, useful)
    if problem.queue_levels is not None and not problem.designs:
        size = np.array([len(levels) - 1 for levels in problem.queue_levels])
        top = np.minimum(size[n_type] - 1, problem.max_chargers[n_site, n_type]).astype(np.int64)
        b_entry = np.repeat(np.arange(len(n_site)), np.maximum(top, 0))
        b_level = (
            np.concatenate([np.arange(1, t + 1) for t in top])
            if len(top)
            else np.empty(0, np.int64)
        )
        b_level = b_level.astype(np.int64)
    else:
        b_entry = b_level = np.empty(0, np.int64)
    g_site = np.empty(0, np.int64)
    if problem.sizing:  # grid upgrades of sites that can take one
        upgradeable = np.isfinite(problem.grid_kw) & (problem.grid_upgrade_kw > 0) & useful
        g_site = np.flatnonzero(upgradeable)
    strong = wants_strong_links(problem, len(x_pair))
    return ModelIndex(
        offsets={},
        x_pair=x_pair,
        x_type=x_type,
        u_zone=u_zone,
        u_type=u_type,
        y_site=y_site,
        n_site=n_site,
        n_type=n_type,
        b_entry=b_entry,
        b_level=b_level,
        g_site=g_site,
        strong_links=strong,
        z_site=z_site,
        z_design=z_design,
        s_group=target_groups(problem),
    )


def _design_entries(problem: FacilityProblem, useful: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Sites and designs of the ``z`` columns: usable sites, designs whose stalls fit on top of
    the existing chargers within the site's charger limits (:math:`E_{jk} + s_{dk} \le M_{jk}`).
    """
    if problem.design_stalls is None:
        empty = np.empty(0, np.int64)
        return empty, empty
    total = problem.existing_chargers[:, None, :] + problem.design_stalls[None, :, :]
    fits = (total <= problem.max_chargers[:, None, :]).all(axis=2) & useful[:, None]
    z_site, z_design = np.nonzero(fits)
    return z_site, z_design


def block_labels(problem: FacilityProblem, ix: ModelIndex, block: str) -> Labels:
    """The labels of a block's variables, one array per dimension.

    ``x``: ``(zone, site, type)``; ``u``: ``(zone, type)``; ``y``, ``g``: ``site``; ``n``,
    ``m``: ``(site, type)``; ``b``: ``(site, type, r)`` with ``r`` the chargers of the partial
    queue; ``z``: ``(site, design)``; ``s``: ``group``. Ids and types as the problem holds them.
    """
    zones, sites = np.asarray(problem.zone_ids), np.asarray(problem.site_ids)
    types = np.asarray(problem.types, dtype=object)
    if block == "x":
        pair = ix.x_pair
        return (zones[problem.pair_zone[pair]], sites[problem.pair_site[pair]], types[ix.x_type])
    if block == "u":
        return zones[ix.u_zone], types[ix.u_type]
    if block in ("y", "g"):
        return (sites[ix.y_site if block == "y" else ix.g_site],)
    if block in ("n", "m"):
        return sites[ix.n_site], types[ix.n_type]
    if block == "z":
        assert problem.design_names is not None
        return sites[ix.z_site], np.asarray(problem.design_names, dtype=object)[ix.z_design]
    if block == "s":
        return (np.asarray(problem.target_names, dtype=object)[ix.s_group],)
    if block == "b":
        entry = ix.b_entry
        return sites[ix.n_site[entry]], types[ix.n_type[entry]], ix.b_level
    raise ValueError(f"unknown block {block!r}; blocks are {BLOCKS}")


@dataclass(frozen=True)
class ModelOrigin:
    """What a Pyomo model of :func:`chargeplan.model.formulation.build_model` was built from.

    Kept on the model as ``model.chargeplan``, so that a solved model (extended or not) can
    be read back into a plan (:func:`chargeplan.model.solution.read_solution`).

    Attributes
    ----------
    problem
        The instance.
    index
        Its :class:`ModelIndex` (the model's columns are ``model.columns``, in order).
    """

    problem: FacilityProblem
    index: ModelIndex
