"""Settings for national scale: fine zones (H3 cells) and decomposition into regions on Dask.

The scenario's ``[fine_zones]`` and ``[decompose]`` sections; :mod:`chargeplan.config.scenario`
puts them into the :class:`~chargeplan.config.scenario.Scenario`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from chargeplan.config.validation import Frozen, NonNegativeFloat, PositiveFloat


class FineZonesConfig(Frozen):
    """Split the zones into H3 cells and make candidate sites at cell centres.

    See :mod:`chargeplan.inputs.finezones`: each zone's population is spread over the H3 cells whose
    centres it holds (urban population by exponential kernels around the populated places of
    ``places_file``, rural population by area), keeping every zone's total exactly. Each zone
    also offers its ``cell_sites_per_zone`` most populous cells (with at least
    ``cell_site_min_population`` people) as candidate sites, with ``max_<type> =
    max(cell population / people_per_charger[type], max_chargers_floor[type])``; the scenario's
    own sites stay candidates too (``keep_scenario_sites``) and stand for the cell they lie in.
    ``drop_empty_cells`` leaves out the cells without people.

    **Several resolutions** (:mod:`chargeplan.inputs.multires`; ``urban_h3_resolution`` set):
    each base cell (``h3_resolution``) whose density reaches ``urban_density_per_km2`` is split
    into cells of ``urban_h3_resolution``, one below ``suburban_density_per_km2`` is merged into
    its parent at ``rural_h3_resolution`` (where the parent is all rural, in one zone); cells
    carry ``density_per_km2`` and ``settlement``. Defaults: the Degree of Urbanisation's
    thresholds (UN Statistical Commission 2020: 1,500 people per km2 for an urban centre's
    cells, 300 for an urban cluster's). ``cell_sites = "demand"`` (needs several resolutions
    and station designs) makes the candidate stations
    (:func:`~chargeplan.inputs.cellsites.station_sites_from_cells`): every urban cell whose
    own public demand (or with ``candidate_h3_resolution``, whose cluster's: the urban cells
    sharing a parent at that resolution, one candidate per cluster) fills the smallest
    station design at ``kwh_per_stall_day`` per stall
    (default 48.7 kWh, the national public pile's average in June 2024: EVCIPA's 4.56 TWh over
    the month's piles, in /work/shared/data/facts/CHINA-EV-FACTS.md), and every suburban or
    rural cell with at least ``coarse_site_min_population`` people. ``cell_sites =
    "catchment"`` does the same, then adds candidates for the urban cells with people and no
    candidate within ``catchment_km`` (default: the urban reach, ``reach.standard.urban_km``
    or else ``reach.service_radius_km``), in rounds, at the uncovered cells whose catchment
    (the uncovered demand within that reach) is largest, while it reaches
    ``catchment_min_daily_kwh`` (default: the demand rule's threshold, the smallest design at
    ``kwh_per_stall_day``: a station that can live on the demand it brings into reach;
    :mod:`chargeplan.inputs.catchment`, docs/stations.md). ``rural_candidate_h3_resolution``
    (at or coarser than the rural cells; default ``None``: one candidate per populated rural
    cell) gives the rural cells one candidate per populated parent at that resolution and
    prefecture, at its most populous cell, then one more wherever a populated rural cell has
    none within the rural reach (``reach.standard.rural_km``, else
    ``reach.service_radius_km``), so the rural standard is kept with far fewer pairs
    (docs/stations.md, "With the service standard"). ``regions`` keeps only the
    cells (and candidates) of the listed regions (``zones.region_column`` values or zone
    names) after the national demand is computed: a slice of the national plan.
    """

    h3_resolution: Annotated[int, Field(ge=0, le=13)] = 6
    places_file: Path
    place_population_column: str = "pop_max"
    urban_population_column: str | None = "popu_urban_2020"
    core_density_per_km2: PositiveFloat = 15_000.0
    drop_empty_cells: bool = True
    cell_sites_per_zone: Annotated[int, Field(ge=0)] = 30
    cell_site_min_population: NonNegativeFloat = 0.0
    keep_scenario_sites: bool = True
    people_per_charger: dict[str, PositiveFloat] = Field(default_factory=dict)
    max_chargers_floor: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    urban_h3_resolution: Annotated[int, Field(ge=0, le=13)] | None = None
    rural_h3_resolution: Annotated[int, Field(ge=0, le=13)] | None = None
    urban_density_per_km2: PositiveFloat = 1_500.0
    suburban_density_per_km2: PositiveFloat = 300.0
    cell_sites: Literal["most_populous", "demand", "catchment"] = "most_populous"
    kwh_per_stall_day: PositiveFloat = 48.7
    coarse_site_min_population: NonNegativeFloat = 1.0
    candidate_h3_resolution: Annotated[int, Field(ge=0, le=13)] | None = None
    # None: one candidate per populated rural cell (the rule before coarser rural candidates)
    rural_candidate_h3_resolution: Annotated[int, Field(ge=0, le=13)] | None = None
    # None: the urban reach (reach.standard.urban_km, else reach.service_radius_km)
    catchment_km: PositiveFloat | None = None
    # None: the demand rule's threshold (smallest design x kwh_per_stall_day)
    catchment_min_daily_kwh: NonNegativeFloat | None = None
    regions: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _resolutions_in_order(self) -> FineZonesConfig:
        base = self.h3_resolution
        fine = self.urban_h3_resolution
        coarse = base if self.rural_h3_resolution is None else self.rural_h3_resolution
        by_demand = self.cell_sites in ("demand", "catchment")
        if fine is None and (self.rural_h3_resolution is not None or by_demand):
            given = "rural_h3_resolution" if self.rural_h3_resolution is not None else "cell_sites"
            raise ValueError(
                f"fine_zones.{given} needs fine_zones.urban_h3_resolution (the resolution of "
                f"urban cells, >= h3_resolution = {base}): set it, e.g. 8"
            )
        if fine is not None and fine < base:
            raise ValueError(
                f"fine_zones.urban_h3_resolution = {fine} is coarser than fine_zones."
                f"h3_resolution = {base}: give {base} to 13 (8: cells of 0.74 km2)"
            )
        if coarse > base:
            raise ValueError(
                f"fine_zones.rural_h3_resolution = {coarse} is finer than fine_zones."
                f"h3_resolution = {base}: give 0 to {base} (5: cells of 250 km2)"
            )
        cluster = self.candidate_h3_resolution
        if cluster is not None and (fine is None or not base <= cluster <= fine):
            raise ValueError(
                f"fine_zones.candidate_h3_resolution = {cluster} must lie between fine_zones."
                f"h3_resolution ({base}) and fine_zones.urban_h3_resolution ({fine}): e.g. 7"
            )
        rural = self.rural_candidate_h3_resolution
        if rural is not None and (fine is None or rural > coarse):
            raise ValueError(
                f"fine_zones.rural_candidate_h3_resolution = {rural} must be at or coarser than "
                f"the rural cells (fine_zones.rural_h3_resolution = {coarse}) and needs "
                "fine_zones.urban_h3_resolution: e.g. 4 (one candidate per 1,770 km2)"
            )
        if self.suburban_density_per_km2 >= self.urban_density_per_km2:
            raise ValueError(
                f"fine_zones.suburban_density_per_km2 = {self.suburban_density_per_km2:g} must "
                f"be below fine_zones.urban_density_per_km2 = {self.urban_density_per_km2:g}"
            )
        return self

    @model_validator(mode="after")
    def _floors_have_a_rule(self) -> FineZonesConfig:
        lone = sorted(set(self.max_chargers_floor) - set(self.people_per_charger))
        if lone:
            raise ValueError(
                f"max_chargers_floor names charger types {lone} without people_per_charger: "
                "give both, or neither (then sites.max_chargers applies)"
            )
        return self


class DecomposeConfig(Frozen):
    """Solve the plan as independent pieces (see :mod:`chargeplan.solver.decompose`), on Dask.

    ``by = "components"`` splits the model into the connected components of the reach graph
    (exact); ``"region"`` first cuts the pairs across ``zones.region_column`` borders (an upper
    bound: zones lose the sites across the border). ``workers`` worker processes of a local Dask
    cluster (``None``: one per core; 1 without a scheduler: in this process) or an existing
    cluster at ``scheduler`` (``tcp://host:8786``). With a budget or site limit the regions are
    coupled by a price found in ``price_steps`` bisection steps.

    ``method = "lagrange"`` (:mod:`chargeplan.solver.lagrange`) cuts no pair: a component with
    more than ``max_piece_pairs`` pairs is split into pieces (by ``zones.region_column`` with
    ``by = "region"``, then by coordinate bisection), a site reached from several pieces is
    copied into each with a share of its cost, ``lagrange_steps`` supergradient steps adjust the
    shares, and the plan's bound is a valid bound of the full model. Pieces are solved to the
    MIP gap without a time limit, so the plan does not depend on timing. Defaults: 20,000 pairs,
    the task size of ``max_bundle_pairs`` (a piece must close to the MIP gap: there is no clock to
    stop it; ``benchmarks/decomposition_bound.py`` measures the bound against the piece size) and
    3 steps (each step is one more solve of the split pieces; docs/decomposition.md).
    ``fixed_per_kwh`` (0-1) is the part of a shared site's fixed cost its pieces pay per kWh
    served rather than by shares (default 1: on the benchmark of docs/decomposition.md the
    bound's gap was 1.9 % with 1, 2.9 % with 0.5 and 5.2 % with 0). ``polish_pairs``: the
    largest part of the plan re-solved on the candidate sites (``None``: ``4 *
    max_piece_pairs``; 0: no polish; a part is one model solved without a time limit).
    ``piece_max_nodes``: the deterministic work limit of every piece and polish part, in
    branch-and-bound nodes (HiGHS ``mip_max_nodes``; 0: none). A piece that reaches it returns
    its plan and HiGHS's valid bound, after the same work on every machine; the summary's
    ``decompose_work_limited_pieces`` counts them. Default 1,000: on the benchmark of
    docs/decomposition.md HiGHS closes every piece of at most 1,500 pairs to a 1 % gap within
    17 nodes (most at the root), so the limit stops only a piece some 60 times harder than
    those; it does not bound the work of the root node (LP, cuts, heuristics).
    ``target_steps``: with coverage targets (``[reach.targets]``), bisection steps on the
    price of each national target row (each one more solve of every piece; default 6: the price
    within 1/64 of the shortfall price; docs/decomposition.md).
    ``"cut"`` (default): the rule above. With coverage targets, ``targets = "region"``
    (default) states each target row within each task (stricter than the national row, and the
    bound is one of that stricter model); ``"national"`` prices the national rows by multipliers
    that only rise, on a ladder of ``target_steps`` rungs, re-solving only the tasks still short,
    and the bound is one of the model with the national rows
    (:mod:`chargeplan.solver.national_targets`). ``full_bound_steps``: with ``"cut"``, pairs
    cut by the region rule and a station-design model, the plan's bound is the full model's
    (the design Lagrangian over every pair, the cut's cross pairs included, by the cut's site
    groups: :mod:`chargeplan.solver.cut_bound`) after that many subgradient steps, instead of
    the cut model's; 0 keeps the cut model's bound (the summary's ``decompose_bound_of`` says
    which).

    A ``tcp://`` scheduler is unauthenticated and unencrypted: anyone who can reach its port can
    run code on the cluster. On a shared network use ``tls://host:port`` with ``tls_ca_file``
    (the cluster's certificate authority), ``tls_cert`` and ``tls_key`` (this client's
    certificate and key, PEM files): they are given to :class:`distributed.Security` with
    encryption required.
    """

    by: Literal["none", "components", "region"] = "none"
    method: Literal["cut", "lagrange"] = "cut"
    max_piece_pairs: Annotated[int, Field(ge=1)] = 20_000
    lagrange_steps: Annotated[int, Field(ge=0, le=50)] = 3
    fixed_per_kwh: Annotated[float, Field(ge=0, le=1)] = 1.0
    polish_pairs: Annotated[int, Field(ge=0)] | None = None
    # 1,000 nodes: ~60x the most a 1,500-pair benchmark piece needed (docs/decomposition.md)
    piece_max_nodes: Annotated[int, Field(ge=0)] = 1_000
    # 6 halvings of [0, sigma]: the multiplier within 1/64 of the shortfall price (docs)
    target_steps: Annotated[int, Field(ge=0, le=40)] = 6
    # "region": each task meets each target (the rule before national rows were priced)
    targets: Literal["region", "national"] = "region"
    # 100 steps: measured on Henan (docs/stations.md, "With the service standard")
    full_bound_steps: Annotated[int, Field(ge=0, le=10_000)] = 100
    # None: one worker per core this process may use (distributed.default_workers), so that
    # `chargeplan run` uses the machine without --workers
    workers: Annotated[int, Field(ge=1, le=1024)] | None = None
    scheduler: str | None = None
    max_bundle_pairs: Annotated[int, Field(ge=1)] = 20_000
    price_steps: Annotated[int, Field(ge=0, le=60)] = 8
    tls_ca_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @field_validator("scheduler")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return scheduler_address(value)

    @model_validator(mode="after")
    def _tls_complete(self) -> DecomposeConfig:
        files = {
            "tls_ca_file": self.tls_ca_file,
            "tls_cert": self.tls_cert,
            "tls_key": self.tls_key,
        }
        given = sorted(key for key, file in files.items() if file is not None)
        tls = self.scheduler is not None and self.scheduler.startswith("tls://")
        if given and not tls:
            raise ValueError(
                f"{', '.join(given)} secure a tls:// scheduler: give scheduler = "
                "'tls://host:port' (or drop them)"
            )
        if tls and len(given) < len(files):
            raise ValueError(
                "a tls:// scheduler needs tls_ca_file, tls_cert and tls_key (PEM files of the "
                f"cluster's certificate authority and this client's certificate and key); "
                f"missing {sorted(set(files) - set(given))}"
            )
        return self

    @property
    def security(self) -> dict[str, str] | None:
        """The options of :class:`distributed.Security` for the scheduler (``None``: tcp)."""
        if self.tls_ca_file is None or self.tls_cert is None or self.tls_key is None:
            return None
        return {
            "tls_ca_file": str(self.tls_ca_file),
            "tls_client_cert": str(self.tls_cert),
            "tls_client_key": str(self.tls_key),
        }


def scheduler_address(text: str) -> str:
    """A Dask scheduler address checked (``tcp://`` or ``tls://``, a host, a port 1-65535);
    ``host:port`` alone means ``tcp://host:port``. Raises ``ValueError`` saying what is wrong."""
    address = text.strip()
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    example = "e.g. tcp://10.0.0.5:8786 (or tls://... with the tls_* keys)"
    if scheme.lower() not in ("tcp", "tls"):
        raise ValueError(
            f"scheduler {text!r}: scheme '{scheme}://' is not one chargeplan connects with: give "
            f"tcp://host:port or tls://host:port, {example}"
        )
    match = re.fullmatch(
        r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?):(\d{1,5})", rest
    )
    if match is None or not 1 <= int(match.group(2)) <= 65535:
        raise ValueError(
            f"scheduler {text!r}: expected tcp://host:port or tls://host:port (a host and a "
            f"port 1-65535), {example}"
        )
    return f"{scheme.lower()}://{rest}"
