"""A scenario's national plan solved region by region: the scenario and geometry adapter.

:func:`region_labels` gives each zone and site its region (province) from the prepared
GeoDataFrames; :func:`solve_scenario_regions` reads the scenario's ``[decompose]`` section,
picks the executor (in process, a local Dask cluster or a scheduler) and calls the
array-level :func:`chargeplan.solver.decompose.solve_decomposed`. :func:`check_region_sizes`
applies to every piece the memory check that each region's solve applies to itself, so that
``chargeplan validate`` accepts what ``chargeplan run`` can solve (issue 12).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from chargeplan.config.defaults import DEFAULT_CRS
from chargeplan.errors import InputError
from chargeplan.model.limits import ModelSize, ModelTooLargeError, check_model_size
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution
from chargeplan.solver.options import SolverOptions

if TYPE_CHECKING:
    import geopandas as gpd

    from chargeplan.config.scenario import Scenario

from chargeplan.solver.decompose import Executor, solve_decomposed

log = logging.getLogger(__name__)
__all__ = [
    "check_region_sizes",
    "region_labels",
    "region_problems",
    "solve_scenario_regions",
    "zone_centres",
]


def region_labels(
    zones: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    region_column: str,
    *,
    centres: gpd.GeoSeries | None = None,
    crs: str = DEFAULT_CRS,
) -> tuple[np.ndarray, np.ndarray]:
    """Region of every zone (its ``region_column``) and site (that of the zone it lies in).

    A site outside every zone polygon (or with point zones) takes the region of the nearest
    zone demand centre (``centres``, default a point inside each zone), measured in ``crs``.
    """
    import geopandas as gpd
    from scipy.spatial import cKDTree

    if region_column not in zones.columns:
        raise InputError(
            f"zones: no region column '{region_column}' (zones.region_column) to decompose by: "
            "set it, or use decompose.by = 'components'"
        )
    zone_region = zones[region_column].astype(str).to_numpy()
    points = gpd.GeoDataFrame(geometry=sites.geometry.values, crs=sites.crs).to_crs(zones.crs)
    polygons = gpd.GeoDataFrame(geometry=zones.geometry.values, crs=zones.crs)
    inside = gpd.sjoin(points, polygons, predicate="within", how="inner")
    inside = inside[~inside.index.duplicated(keep="first")]
    site_zone = np.full(len(sites), -1, np.int64)
    site_zone[inside.index.to_numpy()] = inside["index_right"].to_numpy()
    missing = np.flatnonzero(site_zone < 0)
    if missing.size:
        base = centres if centres is not None else zones.geometry.representative_point()
        zxy = np.column_stack([base.to_crs(crs).x.to_numpy(), base.to_crs(crs).y.to_numpy()])
        sp = sites.geometry.to_crs(crs)
        sxy = np.column_stack([sp.x.to_numpy(), sp.y.to_numpy()])[missing]
        site_zone[missing] = cKDTree(zxy).query(sxy)[1]
    return zone_region, zone_region[site_zone]


def zone_centres(
    zones: gpd.GeoDataFrame, *, centres: gpd.GeoSeries | None = None, crs: str = DEFAULT_CRS
) -> np.ndarray:
    """``(Z, 2)`` zone demand centres (``centres``, default a point inside each zone) in the
    projected ``crs``: what large components are bisected on (:mod:`chargeplan.solver.pieces`)."""
    base = centres if centres is not None else zones.geometry.representative_point()
    projected = base.to_crs(crs)
    return np.column_stack([projected.x.to_numpy(), projected.y.to_numpy()])


def solve_scenario_regions(
    scenario: Scenario,
    problem: FacilityProblem,
    zones: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    options: SolverOptions,
    *,
    centres: gpd.GeoSeries | None = None,
    executor: Executor | None = None,
) -> tuple[Solution, dict[str, Any]]:
    """Solve a scenario's problem as its ``[decompose]`` section says.

    Zones and sites are the prepared tables in problem order. The regions run on Dask
    (:mod:`chargeplan.solver.distributed`): ``decompose.scheduler`` or a LocalCluster of
    ``decompose.workers`` processes (default: one per core); one worker without a scheduler
    runs them in this process, and so does a daemonic process (a ``chargeplan batch`` job runs
    in one: :mod:`chargeplan.workflows.isolate`), which may not start worker processes.
    ``executor`` (any ``map``-like callable) replaces all that.

    Returns
    -------
    tuple[Solution, dict]
        The merged plan and the decomposition figures for the plan's summary.
    """
    from chargeplan.solver.distributed import dask_executor, default_workers

    config = scenario.decompose
    kwargs: dict[str, Any] = {
        **_split_labels(scenario, zones, sites, centres),
        "max_bundle_pairs": config.max_bundle_pairs,
        "price_steps": config.price_steps,
        "method": config.method,
        "target_steps": config.target_steps,
    }
    if config.method == "cut":
        kwargs["targets"] = config.targets
        kwargs["full_bound_steps"] = config.full_bound_steps
    if config.method == "lagrange":
        kwargs["zone_xy"] = zone_centres(zones, centres=centres, crs=scenario.reach.crs)
        kwargs["max_piece_pairs"] = config.max_piece_pairs
        kwargs["lagrange_steps"] = config.lagrange_steps
        kwargs["fixed_per_kwh"] = config.fixed_per_kwh
        kwargs["polish_pairs"] = config.polish_pairs
        kwargs["piece_max_nodes"] = config.piece_max_nodes or None  # 0: no work limit
    workers = config.workers or default_workers()
    if executor is None and config.scheduler is None and workers > 1 and _daemonic():
        log.info(
            "decompose: this process is daemonic (a batch job's): it cannot start a local Dask "
            "cluster of %d worker processes, so the regions run in this process",
            workers,
        )
        workers = 1
    where = (
        "a given executor"
        if executor is not None
        else f"Dask scheduler {config.scheduler}"
        if config.scheduler
        else "this process"
        if workers == 1
        else f"a local Dask cluster of {workers} workers"
    )
    log.info("decompose: by %s (%s), regions solved in %s", config.by, config.method, where)
    if executor is not None or (config.scheduler is None and workers == 1):
        solution, decomposition = solve_decomposed(problem, options, executor=executor, **kwargs)
    else:
        if config.scheduler is None:
            options = one_thread_per_worker(options)
        with dask_executor(config.scheduler, workers, config.security) as dask:
            solution, decomposition = solve_decomposed(problem, options, executor=dask, **kwargs)
    figures = {
        "decompose_by": config.by,
        "decompose_executor": where,
        **decomposition.summary(),
    }
    return solution, figures


def one_thread_per_worker(options: SolverOptions) -> SolverOptions:
    """``options`` for the pieces on chargeplan's local Dask cluster, whose worker processes
    have one thread each (:mod:`chargeplan.solver.distributed`): HiGHS with one thread, unless
    the scenario asks for a count (``[solver] threads``).

    Left to its default (``threads`` 0), HiGHS starts a scheduler as large as the machine in
    every worker, so two workers on two cores run four HiGHS threads whose idle ones spin. On
    pieces 10-59 of the national station plan (two workers, two cores) that cost 10 % more
    CPU and wall time than one thread each (405.5 against 367.4 s of the tasks' CPU; docs/
    stations.md, "One HiGHS thread per worker"). It also makes each piece's plan independent
    of the machine's core count: a piece runs one thread wherever it runs.

    Parameters
    ----------
    options
        The scenario's solver options.

    Returns
    -------
    SolverOptions
        ``options`` with ``threads = 1`` where it was ``None``; otherwise ``options``.
    """
    if options.threads is not None:
        return options
    return dataclasses.replace(options, threads=1)


def _daemonic() -> bool:
    """Whether this process is daemonic: multiprocessing refuses such a process children."""
    import multiprocessing  # here only: a LocalCluster would import it anyway

    return bool(multiprocessing.current_process().daemon)


def _split_labels(
    scenario: Scenario,
    zones: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    centres: gpd.GeoSeries | None,
) -> dict[str, np.ndarray | None]:
    """The region labels of the scenario's split: ``None`` for components, else by region."""
    config = scenario.decompose
    if config.by == "none":
        raise InputError(f"scenario {scenario.name}: decompose.by is 'none': nothing to split")
    if config.by != "region":
        return {"zone_region": None, "site_region": None}
    if not scenario.zones.region_column:
        raise InputError(
            f"scenario {scenario.name}: decompose.by = 'region' needs zones.region_column"
        )
    zone_region, site_region = region_labels(
        zones, sites, scenario.zones.region_column, centres=centres, crs=scenario.reach.crs
    )
    return {"zone_region": zone_region, "site_region": site_region}


def region_problems(
    scenario: Scenario,
    problem: FacilityProblem,
    zones: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    centres: gpd.GeoSeries | None = None,
) -> list[FacilityProblem]:
    """The pieces a decomposed run solves one at a time, split as :func:`solve_scenario_regions`
    splits them, each a problem of its own (at price 0; a budget's price changes costs, not
    sizes).

    ``decompose.method = "cut"``: the regions (or components) bundled up to
    ``decompose.max_bundle_pairs`` pairs. ``"lagrange"``: the pieces of
    :func:`chargeplan.solver.pieces.make_pieces` (whole components bundled, larger ones cut into
    pieces of ``decompose.max_piece_pairs`` pairs); its polish step re-solves parts of at most
    ``decompose.polish_pairs`` pairs restricted to the sites the pieces opened, which depend on
    the plan and are not among these.
    """
    from chargeplan.solver.pieces import make_pieces
    from chargeplan.solver.split import bundle, split_components, subproblem

    config = scenario.decompose
    labels = _split_labels(scenario, zones, sites, centres)
    if config.method == "lagrange":
        regions = make_pieces(
            problem,
            max_pairs=config.max_piece_pairs,
            max_bundle_pairs=config.max_bundle_pairs,
            zone_region=labels["zone_region"],
            zone_xy=zone_centres(zones, centres=centres, crs=scenario.reach.crs),
        ).regions
    else:
        regions = bundle(split_components(problem, **labels), config.max_bundle_pairs)
    return [subproblem(problem, region) for region in regions]


def check_region_sizes(
    scenario: Scenario,
    problem: FacilityProblem,
    zones: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    centres: gpd.GeoSeries | None = None,
    max_bytes: float | None = None,
) -> tuple[int, ModelSize]:
    """Refuse a decomposed scenario one of whose pieces would not fit in memory.

    A decomposed run never builds the whole model: each piece of :func:`region_problems` is
    checked by :func:`chargeplan.model.limits.check_model_size` when its solve starts (on the
    piece after the exact reductions, which only shrink it). The same check on every piece
    before any solve is what ``chargeplan validate`` does for such a scenario.

    Returns
    -------
    tuple[int, ModelSize]
        The number of pieces and the estimate of the largest (in bytes).

    Raises
    ------
    ModelTooLargeError
        Naming the piece that does not fit (zones, sites), its estimate and the limit.
    """
    pieces = region_problems(scenario, problem, zones, sites, centres=centres)
    largest: ModelSize | None = None
    for number, piece in enumerate(pieces, start=1):
        try:
            size = check_model_size(piece, max_bytes=max_bytes)
        except ModelTooLargeError as error:
            raise ModelTooLargeError(
                f"decompose.by = '{scenario.decompose.by}': piece {number} of {len(pieces)} "
                f"({len(piece.zone_ids):,} zones, {len(piece.site_ids):,} sites) is solved as "
                f"one model and does not fit: {error} (a piece that bundles several "
                f"components shrinks with a lower decompose.max_bundle_pairs, now "
                f"{scenario.decompose.max_bundle_pairs:,})"
            ) from None
        if largest is None or size.bytes > largest.bytes:
            largest = size
    if largest is None:  # no pair at all: one empty model, as an undecomposed check says
        largest = check_model_size(problem, max_bytes=max_bytes)
    return len(pieces), largest
