"""The ``[economics]`` section: what a station earns and costs over its life, and the state
support it gets.

Every figure is a scenario input; the default scenario (``models/china-2030.toml``) gives each
value with its source, and ``docs/economics.md`` states the formulas
(:mod:`chargeplan.results.economics` computes them). The economics are reported for every plan;
they decide it with ``model.objective = "max_npv"`` (:mod:`chargeplan.model.npv`) or, for
construction support only, with ``support_in_capex``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from chargeplan.config.validation import Frozen, NonNegativeFloat, PositiveFloat, Share

__all__ = ["HOURS_PER_DAY", "EconomicsConfig"]

#: Length of the daily load profile.
HOURS_PER_DAY = 24


class EconomicsConfig(Frozen):
    """Station economics: revenue by time of use, operating cost, lifetime, state support.

    Attributes
    ----------
    tariffs
        CSV of time-of-use tariffs, one row per region and band
        (:func:`chargeplan.inputs.economics_tables.read_tariffs`).
    support
        CSV of state-support rules, one row per rule, versioned
        (:func:`chargeplan.inputs.economics_tables.read_support`); ``None``: no support.
    support_version
        The version of the support table to apply (default: its latest).
    region_columns
        Site columns matched against the tables' ``region``, from the broadest to the most
        specific (province, then city): a table row for a city overrides one for its province,
        which overrides the national row (``region = "*"``).
    load_profile
        Shares of a day's charging energy in each hour 0-23 (they add up to 1): how the daily
        energy falls into the tariff's time-of-use bands.
    interoperability_share
        Share of a station's energy charged by other brands' cars (non-brand users); it adds
        ``brand kWh x s / (1 - s)`` of energy on top of the plan's served demand.
    lifetime_years, discount_rate, first_year
        Years of operation, the discount rate of the NPV, and the calendar year of the first
        year of operation (which support rules are valid in which year).
    maintenance_cny_per_stall_year
        Maintenance per charger and year, by charger type.
    lease_cny_per_station_year, lease_cny_per_stall_year
        Land or parking lease per open station and per charger (bay) and year.
    payment_fee_share
        Payment fees as a share of what drivers pay (service fee plus electricity).
    demand_charge_cny_per_kva_month
        Capacity (demand) charge per kVA of grid connection and month, where not exempt.
    kva_per_kw
        Grid connection kVA per kW of chargers, for stations without a design's ``grid_kva``.
    support_in_capex
        ``True``: the least-cost objective sees each charger's capex net of its construction
        support (:func:`chargeplan.inputs.support.net_capex`; station caps and designs through
        :func:`chargeplan.model.npv.construction_extension`), so support can change the plan.
        Default ``False``: the economics are reported, not optimised. (``max_npv`` counts all
        support itself.)
    """

    tariffs: Path
    support: Path | None = None
    support_version: str | None = None
    region_columns: tuple[str, ...] = ("province", "name")
    load_profile: tuple[float, ...]
    interoperability_share: Annotated[float, Field(ge=0, lt=1)]
    lifetime_years: Annotated[int, Field(ge=1, le=50)]
    discount_rate: Annotated[float, Field(ge=0, lt=1)]
    first_year: Annotated[int, Field(ge=1900, le=2200)]
    maintenance_cny_per_stall_year: dict[str, NonNegativeFloat]
    lease_cny_per_station_year: NonNegativeFloat
    lease_cny_per_stall_year: NonNegativeFloat
    payment_fee_share: Share
    demand_charge_cny_per_kva_month: NonNegativeFloat
    kva_per_kw: PositiveFloat
    support_in_capex: bool = False

    @field_validator("load_profile")
    @classmethod
    def _a_day_of_shares(cls, profile: tuple[float, ...]) -> tuple[float, ...]:
        if len(profile) != HOURS_PER_DAY:
            raise ValueError(f"give {HOURS_PER_DAY} hourly shares (hours 0-23), not {len(profile)}")
        if min(profile) < 0:
            raise ValueError("hourly shares cannot be negative")
        total = sum(profile)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"hourly shares must add up to 1 (they add up to {total:g})")
        return profile

    @model_validator(mode="after")
    def _support_to_apply(self) -> EconomicsConfig:
        if self.support_in_capex and self.support is None:
            raise ValueError("support_in_capex needs a support table: set economics.support")
        return self

    @property
    def years(self) -> range:
        """Calendar years of operation."""
        return range(self.first_year, self.first_year + self.lifetime_years)
