"""Scenario and charger-catalogue files, validated into frozen objects.

A scenario is a TOML file (see ``models/china-2030.toml``); the charger catalogue it names is
another TOML file, one table per charger type. Units are in the key names (``power_kw``,
``capex_cny``, ``radius_km``). Relative paths are resolved against the scenario file's folder.

Any problem (missing file, TOML syntax, unknown key, wrong type, impossible value) raises
:class:`~chargeplan.errors.ScenarioError` naming the file and the key, before anything is solved.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from chargeplan.config.catalogue import ChargerType, StationDesign, load_catalogue, load_designs
from chargeplan.config.competition import CompetitionConfig
from chargeplan.config.defaults import DEFAULT_CRS, MAX_RADIUS_KM, MAX_UNMET_PENALTY_CNY_PER_KWH
from chargeplan.config.economics import EconomicsConfig
from chargeplan.config.files import read_scenario_file
from chargeplan.config.naming import changes_label
from chargeplan.config.notices import WarningsConfig
from chargeplan.config.realism import RealismConfig
from chargeplan.config.scale import DecomposeConfig, FineZonesConfig
from chargeplan.config.service import CoverageTargets, ServiceStandard
from chargeplan.config.sites import ExtraSitesConfig, SitesConfig
from chargeplan.config.solver import SolverConfig
from chargeplan.config.users import CalibrationConfig, UsersConfig
from chargeplan.config.validation import Frozen, NonNegativeFloat, PositiveFloat, Share, validate
from chargeplan.errors import ScenarioError

__all__ = [
    "CalibrationConfig",
    "ChargerType",
    "CompetitionConfig",
    "CoverageTargets",
    "DecomposeConfig",
    "DemandConfig",
    "EconomicsConfig",
    "ExistingConfig",
    "ExtraSitesConfig",
    "FineZonesConfig",
    "ModelConfig",
    "ReachConfig",
    "RolloutConfig",
    "Scenario",
    "ServiceStandard",
    "SitesConfig",
    "SizingConfig",
    "SolverConfig",
    "UsersConfig",
    "WarningsConfig",
    "ZonesConfig",
    "load_catalogue",
    "load_scenario",
]


class ZonesConfig(Frozen):
    """Where the demand zones come from and which columns mean what."""

    file: Path
    id_column: str = "zone_id"
    name_column: str | None = "name"
    population_column: str = "popu_2020"
    region_column: str | None = "province"
    centre_lon_column: str | None = "centre_lon"
    centre_lat_column: str | None = "centre_lat"


class SizingConfig(Frozen):
    """How many chargers a site needs for the demand it serves.

    ``rule = "queue"``: the smallest count whose M/M/c (Erlang C) queue meets the service level
    at the peak hour, with at most ``chargers_per_queue[type]`` chargers sharing one queue (a
    larger site is several such stations). ``rule = "linear"``: each charger serves
    ``peak_kwh_per_charger`` of the catalogue.

    ``designs``: names of station designs from the catalogue's ``[designs]`` menu. Given,
    each site gets at most one of them on top of its existing chargers, sized by the rule
    for exactly that station (one queue per type); default ``[]``: chargers are sized freely.
    """

    rule: Literal["queue", "linear"] = "queue"
    designs: tuple[str, ...] = ()
    max_wait_probability: Annotated[float, Field(gt=0, le=1)] | None = 0.2
    max_mean_wait_min: PositiveFloat | None = None
    chargers_per_queue: dict[str, Annotated[int, Field(ge=1, le=500)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_criterion(self) -> SizingConfig:
        if (
            self.rule == "queue"
            and self.max_wait_probability is None
            and (self.max_mean_wait_min is None)
        ):
            raise ValueError("the queue rule needs max_wait_probability or max_mean_wait_min")
        return self


class ExistingConfig(Frozen):
    """Stations that already exist: the brand's own (kept) and competitors' (capture demand).

    Station lists are CSV files with lon/lat and port counts per charger type, such as the US
    AFDC export; ``own_networks`` names the values of ``network_column`` that are the brand's.
    ``network_column = ""``: the list has no network column and every station is a
    competitor's (third-party), as in a city's public-station register.
    """

    stations: Path | None = None
    lon_column: str = "Longitude"
    lat_column: str = "Latitude"
    network_column: str = "EV Network"
    id_column: str = "ID"
    port_columns: dict[str, str] = Field(default_factory=dict)
    own_networks: tuple[str, ...] = ()
    own_match_km: NonNegativeFloat = 1.0
    competitor_capture_share: Share = 0.0
    competitor_radius_km: PositiveFloat = 5.0


class DemandConfig(Frozen):
    """From premium users to peak-hour public charging demand by charger type."""

    km_per_user_day: PositiveFloat
    kwh_per_km: PositiveFloat
    apartment_share_column: str | None = "elevator_hh_share"
    home_charging_access_house: Share
    home_charging_access_apartment: Share
    public_share_with_home_charging: Share
    public_share_without_home_charging: Share
    peak_hour_share: Annotated[float, Field(gt=0, le=1)]
    charger_mix: dict[str, Share]

    @field_validator("charger_mix")
    @classmethod
    def _mix_sums_to_one(cls, mix: dict[str, float]) -> dict[str, float]:
        if not mix:
            raise ValueError("give at least one charger type with its share of public kWh")
        total = sum(mix.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"shares must add up to 1 (they add up to {total:g})")
        return mix


class ReachConfig(Frozen):
    """Which zone-site pairs are within reach, and what serving a zone from a site costs."""

    service_radius_km: PositiveFloat = 100.0
    crs: str = DEFAULT_CRS
    cost_table: Path | None = None
    detour_cost_cny_per_kwh_km: NonNegativeFloat = 0.0
    #: ``[reach.standard]``: reach by settlement type instead of one radius (``docs/service.md``)
    standard: ServiceStandard | None = None
    #: ``[reach.targets]``: coverage targets by settlement type (needs ``[reach.standard]``)
    targets: CoverageTargets | None = None
    #: ``zone_id, site_id, minutes``: reach by travel time (needs the standard in minutes)
    travel_time_table: Path | None = None

    @field_validator("service_radius_km")
    @classmethod
    def _radius_in_km(cls, value: float) -> float:
        if value > MAX_RADIUS_KM:
            raise ValueError(f"{value:g} km looks like metres: give kilometres")
        return value

    @model_validator(mode="after")
    def _standard_fits(self) -> ReachConfig:
        standard = self.standard
        if self.targets is not None and standard is None:
            raise ValueError(
                "[reach.targets] needs [reach.standard] (the reach of each settlement type): "
                "add it, e.g. urban_km = 3, suburban_km = 10, rural_km = 25"
            )
        if standard is not None and self.cost_table is not None:
            raise ValueError(
                "reach.cost_table lists its own pairs, so [reach.standard] cannot apply: drop "
                "one, or give travel times as reach.travel_time_table (zone_id, site_id, minutes)"
            )
        minutes = standard is not None and standard.minutes
        if self.travel_time_table is not None and not minutes:
            raise ValueError(
                "reach.travel_time_table needs the standard in minutes: set urban_minutes, "
                "suburban_minutes and rural_minutes in [reach.standard]"
            )
        if minutes and self.travel_time_table is None:
            raise ValueError(
                "[reach.standard] gives minutes but no reach.travel_time_table: give the table "
                "(zone_id, site_id, minutes; docs/service.md) or the standard in km"
            )
        return self


class ModelConfig(Frozen):
    """The optimisation: objective (``max_npv``: docs/economics.md), unmet-demand price, limits."""

    objective: Literal["min_cost", "max_coverage", "max_npv"] = "min_cost"
    unmet_penalty_cny_per_kwh: PositiveFloat
    budget_cny: PositiveFloat | None = None
    max_sites: Annotated[int, Field(ge=0)] | None = None
    pair_links: Literal["auto", "always", "never", "lazy"] = "auto"
    #: Serve each zone's demand of a type from one site only (binary assignment: the
    #: single-source CFLP, chargeplan.model.families). Default false: demand may split between
    #: sites in reach, the model's original rule, which the published plans use.
    single_source: bool = False

    @field_validator("unmet_penalty_cny_per_kwh")
    @classmethod
    def _penalty_the_solver_can_weigh(cls, value: float) -> float:
        if value > MAX_UNMET_PENALTY_CNY_PER_KWH:
            raise ValueError(
                f"{value:g} CNY/kWh is beyond what HiGHS can weigh against the capex in double "
                f"precision: give at most {MAX_UNMET_PENALTY_CNY_PER_KWH:g} (already enough to "
                "serve every reachable kWh)"
            )
        return value

    @model_validator(mode="after")
    def _coverage_needs_a_limit(self) -> ModelConfig:
        if self.objective == "max_coverage" and self.budget_cny is None and self.max_sites is None:
            raise ValueError("objective 'max_coverage' needs budget_cny or max_sites")
        if self.objective == "max_npv" and self.budget_cny is not None:
            raise ValueError(
                "objective 'max_npv' takes no budget_cny (the NPV counts opex, a budget capex): "
                "drop budget_cny, or use max_coverage for coverage within a budget"
            )
        return self


class RolloutConfig(Frozen):
    """Multi-year rollout: premium-user targets by year, annual budgets, discounting, opex."""

    targets: dict[int, Annotated[int, Field(gt=0)]]
    annual_budget_cny: PositiveFloat | dict[int, PositiveFloat] | None = None
    discount_rate: Annotated[float, Field(ge=0, lt=1)] = 0.0
    site_opex_cny_per_year: NonNegativeFloat = 0.0

    @field_validator("targets")
    @classmethod
    def _years(cls, targets: dict[int, int]) -> dict[int, int]:
        if not targets:
            raise ValueError("give at least one year, e.g. targets = { 2030 = 20_000_000 }")
        bad = [y for y in targets if not 1900 <= y <= 2200]
        if bad:
            raise ValueError(f"years {bad} are not calendar years")
        return dict(sorted(targets.items()))

    @model_validator(mode="after")
    def _budget_years(self) -> RolloutConfig:
        if isinstance(self.annual_budget_cny, dict):
            unknown = sorted(set(self.annual_budget_cny) - set(self.targets))
            if unknown:
                raise ValueError(f"annual_budget_cny names years {unknown} without a target")
        return self

    def budget(self, year: int) -> float | None:
        """The capex budget of a year (``None``: no limit)."""
        if isinstance(self.annual_budget_cny, dict):
            return self.annual_budget_cny.get(year)
        return self.annual_budget_cny


class Scenario(Frozen):
    """A validated planning scenario. Build it with :func:`load_scenario`.

    A scenario file may start with ``extends = "other.toml"``: it is read on top of that file
    (tables merge key by key, values replace), so variants only state what differs.
    """

    name: str
    description: str = ""
    source: Path | None = None
    charger_catalogue: Path
    chargers: dict[str, ChargerType]
    designs: dict[str, StationDesign] = Field(default_factory=dict)
    zones: ZonesConfig
    sites: SitesConfig
    users: UsersConfig
    demand: DemandConfig
    reach: ReachConfig = ReachConfig()
    sizing: SizingConfig = SizingConfig()
    existing: ExistingConfig = ExistingConfig()
    competition: CompetitionConfig | None = None
    model: ModelConfig
    solver: SolverConfig = SolverConfig()
    rollout: RolloutConfig | None = None
    fine_zones: FineZonesConfig | None = None
    decompose: DecomposeConfig = DecomposeConfig()
    economics: EconomicsConfig | None = None
    warnings: WarningsConfig = WarningsConfig()
    realism: RealismConfig = RealismConfig()

    @model_validator(mode="after")
    def _types_known(self) -> Scenario:
        known = set(self.chargers)
        named: tuple[tuple[str, Mapping[str, object]], ...] = (
            ("demand.charger_mix", self.demand.charger_mix),
            ("sites.max_chargers", self.sites.max_chargers),
            *(
                (f"sites.extra ({e.file.name}).max_chargers", e.max_chargers)
                for e in self.sites.extra
            ),
            ("sizing.chargers_per_queue", self.sizing.chargers_per_queue),
            ("existing.port_columns", self.existing.port_columns),
            ("competition.own_piles", self.competition.own_piles if self.competition else {}),
            (
                "fine_zones.people_per_charger",
                self.fine_zones.people_per_charger if self.fine_zones else {},
            ),
            (
                "economics.maintenance_cny_per_stall_year",
                self.economics.maintenance_cny_per_stall_year if self.economics else {},
            ),
            (
                "fine_zones.max_chargers_floor",
                self.fine_zones.max_chargers_floor if self.fine_zones else {},
            ),
        )
        for key, names in named:
            unknown = sorted(set(names) - known)
            if unknown:
                raise ValueError(
                    f"{key} names charger types {unknown} that the catalogue "
                    f"({self.charger_catalogue.name}) does not define; it has {sorted(known)}"
                )
        return self

    @model_validator(mode="after")
    def _maintenance_for_every_type(self) -> Scenario:
        if self.economics is None:
            return self
        given = self.economics.maintenance_cny_per_stall_year
        missing = [k for k in self.chargers if k not in given]
        if missing:
            raise ValueError(
                f"economics.maintenance_cny_per_stall_year gives no figure for charger types "
                f"{missing}: add them (e.g. {missing[0]} = 2_700)"
            )
        return self

    @model_validator(mode="after")
    def _competition_complete(self) -> Scenario:
        if self.competition is not None:
            self.competition.check(list(self.chargers), self.existing.competitor_capture_share)
        return self

    @model_validator(mode="after")
    def _designs_known(self) -> Scenario:
        unknown = sorted(set(self.sizing.designs) - set(self.designs))
        if unknown:
            raise ValueError(
                f"sizing.designs names designs {unknown} that the catalogue "
                f"({self.charger_catalogue.name}) does not define; it has {sorted(self.designs)}"
            )
        if self.sizing.designs and self.rollout is not None:
            raise ValueError("sizing.designs is not supported with a [rollout] yet: drop one")
        return self

    @model_validator(mode="after")
    def _shortfall_price_weighable(self) -> Scenario:
        targets = self.reach.targets
        if targets is None:
            return self
        price = targets.shortfall_price_factor * self.model.unmet_penalty_cny_per_kwh
        if price > MAX_UNMET_PENALTY_CNY_PER_KWH:
            raise ValueError(
                f"reach.targets.shortfall_price_factor x model.unmet_penalty_cny_per_kwh = "
                f"{price:g} CNY/kWh is beyond what HiGHS can weigh: lower the factor so that the "
                f"product is at most {MAX_UNMET_PENALTY_CNY_PER_KWH:g}"
            )
        return self

    @model_validator(mode="after")
    def _rollout_min_cost(self) -> Scenario:
        if self.rollout is not None and self.model.objective != "min_cost":
            raise ValueError("a [rollout] scenario needs model.objective = 'min_cost'")
        if self.model.objective == "max_npv" and self.economics is None:
            raise ValueError("model.objective = 'max_npv' needs an [economics] section")
        return self

    @model_validator(mode="after")
    def _decompose_fits(self) -> Scenario:
        by = self.decompose.by
        if by == "none":
            return self
        if by == "region" and not self.zones.region_column:
            raise ValueError(
                "decompose.by = 'region' needs zones.region_column (the zones' region, e.g. "
                "province): set it, or use decompose.by = 'components'"
            )
        if self.model.objective != "min_cost":
            raise ValueError(
                f"decompose.by = '{by}' supports model.objective = 'min_cost' only (with or "
                "without a budget): set decompose.by = 'none' for max_coverage and max_npv"
            )
        if self.model.budget_cny is not None and self.model.max_sites is not None:
            raise ValueError(
                f"decompose.by = '{by}' can price a budget or a site limit, not both: drop "
                "model.budget_cny or model.max_sites, or set decompose.by = 'none'"
            )
        if self.rollout is not None:
            raise ValueError(
                "a [rollout] is planned as one model: set decompose.by = 'none' (or drop "
                "the [decompose] section)"
            )
        return self

    @property
    def charger_types(self) -> list[str]:
        """Charger types that carry demand, in catalogue order."""
        return [k for k in self.chargers if self.demand.charger_mix.get(k, 0) > 0]

    def with_values(
        self, changes: Mapping[str, Any], *, where: str = "changed in code"
    ) -> Scenario:
        """Return a validated copy with dotted keys changed (``where``: how they were changed,
        for the error message, e.g. ``"set on the command line"``).

        The copy's name says what changed (:func:`changes_label`): ``china-2030`` with a
        target of 10 M becomes ``china-2030 target=10M``; solver and decomposition settings,
        which change how a plan is found rather than what is asked, and a ``name`` given among
        the changes, leave it as it is.

        Examples
        --------
        >>> s2 = scenario.with_values({"users.target_premium_users": 10_000_000,
        ...                            "model.budget_cny": 5e9})
        >>> s2.name
        'china-2030 target=10M budget=5bn'
        """
        data = self.model_dump()
        label = changes_label(self, changes)
        if label and "name" not in changes:
            data["name"] = f"{self.name} {label}"
        for dotted, value in changes.items():
            node = data
            *parents, leaf = dotted.split(".")
            for part in parents:
                if not isinstance(node.get(part), dict):
                    raise ScenarioError(f"scenario {self.name}: no section '{part}' in '{dotted}'")
                node = node[part]
            node[leaf] = value
        return validate(Scenario, data, label=f"scenario {self.name} ({where})")


def load_scenario(path: str | Path) -> Scenario:
    """Read, resolve and validate a scenario file and the charger catalogue it names.

    Parameters
    ----------
    path
        A scenario TOML file, e.g. ``models/china-2030.toml``.

    Returns
    -------
    Scenario
        Frozen and validated; file paths inside are absolute.

    Raises
    ------
    ScenarioError
        Naming the file and the key, for any missing, unknown or impossible value.
    """
    path = Path(path).resolve()
    data = read_scenario_file(path)
    if "charger_catalogue" not in data:
        raise ScenarioError(f"{path}: missing key 'charger_catalogue' (path to a catalogue TOML)")
    data["chargers"] = load_catalogue(data["charger_catalogue"])
    data["designs"] = load_designs(data["charger_catalogue"], data["chargers"])
    data["source"] = path
    data.setdefault("name", path.stem)
    scenario = validate(Scenario, data, label=str(path))
    for label, file in (("zones.file", scenario.zones.file), ("sites.file", scenario.sites.file)):
        if not file.is_file():
            raise ScenarioError(f"{path}: key '{label}': file not found: {file}")
    for label, optional in (
        ("reach.cost_table", scenario.reach.cost_table),
        ("reach.travel_time_table", scenario.reach.travel_time_table),
        ("existing.stations", scenario.existing.stations),
        ("fine_zones.places_file", scenario.fine_zones and scenario.fine_zones.places_file),
        ("users.county_indicators", scenario.users.county_indicators),
        ("decompose.tls_ca_file", scenario.decompose.tls_ca_file),
        ("decompose.tls_cert", scenario.decompose.tls_cert),
        ("decompose.tls_key", scenario.decompose.tls_key),
        ("economics.tariffs", scenario.economics and scenario.economics.tariffs),
        ("economics.support", scenario.economics and scenario.economics.support),
    ):
        if optional is not None and not optional.is_file():
            raise ScenarioError(f"{path}: key '{label}': file not found: {optional}")
    for number, extra in enumerate(scenario.sites.extra, start=1):
        if not extra.file.is_file():
            raise ScenarioError(
                f"{path}: key 'sites.extra' (entry {number}): file not found: {extra.file}"
            )
    return scenario
