"""The service standard: reach by settlement type (``[reach.standard]``) and coverage targets
(``[reach.targets]``), with the source of every default.

A zone is *urban*, *suburban* or *rural* by its population density (the Degree of
Urbanisation's grid thresholds) or by a column the user names; it reaches the candidate sites
within its type's distance (straight line) or travel time (a ``zone_id, site_id, minutes``
table). See ``docs/service.md``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ValidationInfo, field_validator, model_validator

from chargeplan.config.defaults import MAX_RADIUS_KM
from chargeplan.config.validation import Frozen, PositiveFloat

__all__ = ["SETTLEMENT_TYPES", "CoverageTargets", "ServiceStandard", "Settlement"]

Settlement = Literal["urban", "suburban", "rural"]

#: The settlement types, densest first.
SETTLEMENT_TYPES: tuple[Settlement, ...] = ("urban", "suburban", "rural")


class ServiceStandard(Frozen):
    """``[reach.standard]``: how far (or how long) each settlement type may be from a station.

    Attributes
    ----------
    urban_km, suburban_km, rural_km
        Straight-line reach of each type. Defaults: urban 3 km from NIO's published standard
        for its premium network, "> 90 % of users in Shanghai/Shenzhen within 3 km" of a
        station (CHINA-EV-FACTS.md, brand networks); suburban 10 km and rural 25 km are the
        planning values of issue 12 (no published standard; 25 km is well within the 43 km
        that 90 % of Chinese drivers cover a day, CHINA-EV-FACTS.md, daily driving).
    urban_minutes, suburban_minutes, rural_minutes
        With ``reach.travel_time_table``: the reach of each type in minutes of travel (no
        default: a travel-time standard is the user's choice).
    urban_min_per_km2, suburban_min_per_km2
        Density thresholds, people per km2 of the zone (or H3 cell): urban from 1,500,
        suburban from 300, rural below. Source: the Degree of Urbanisation (UN Statistical
        Commission, 51st session, 2020, "A recommendation on the method to delineate cities,
        urban and rural areas for international statistical comparisons"; Eurostat/ILO/OECD/
        UN-Habitat/World Bank): urban centre cells >= 1,500 inhabitants per km2, urban cluster
        cells >= 300. Applied here to each zone's own density (no contiguity or minimum
        population rule), so a dense zone is urban even when small.
    settlement_column
        A zones column holding ``urban``, ``suburban`` or ``rural`` per zone, used instead of
        the density rule.
    """

    urban_km: float = 3.0
    suburban_km: float = 10.0
    rural_km: float = 25.0
    urban_minutes: float | None = None
    suburban_minutes: float | None = None
    rural_minutes: float | None = None
    urban_min_per_km2: PositiveFloat = 1500.0
    suburban_min_per_km2: PositiveFloat = 300.0
    settlement_column: str | None = None

    @field_validator(
        "urban_km", "suburban_km", "rural_km", "urban_minutes", "suburban_minutes", "rural_minutes"
    )
    @classmethod
    def _positive_reach(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and value <= 0:
            unit = "km" if str(info.field_name).endswith("_km") else "minutes"
            raise ValueError(
                f"{value:g} {unit} is no reach: give a number > 0 (e.g. urban_km = 3, "
                "suburban_km = 10, rural_km = 25), or leave the key out for the default"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ServiceStandard:
        for name in ("urban_km", "suburban_km", "rural_km"):
            value = getattr(self, name)
            if value > MAX_RADIUS_KM:
                raise ValueError(f"{name} = {value:g} looks like metres: give kilometres")
        if self.suburban_min_per_km2 >= self.urban_min_per_km2:
            raise ValueError(
                f"suburban_min_per_km2 ({self.suburban_min_per_km2:g}) must be below "
                f"urban_min_per_km2 ({self.urban_min_per_km2:g}): the Degree of Urbanisation "
                "uses 300 and 1500"
            )
        given = [getattr(self, f"{t}_minutes") is not None for t in SETTLEMENT_TYPES]
        if any(given) and not all(given):
            raise ValueError(
                "give urban_minutes, suburban_minutes and rural_minutes together (a travel-time "
                "standard needs all three)"
            )
        return self

    @property
    def minutes(self) -> bool:
        """Whether the standard is in minutes (a travel-time table) rather than kilometres."""
        return self.urban_minutes is not None

    def reach(self, settlement: Settlement) -> float:
        """The reach of a settlement type: minutes if the standard has them, else km."""
        suffix = "minutes" if self.minutes else "km"
        value: float = getattr(self, f"{settlement}_{suffix}")
        return value


class CoverageTargets(Frozen):
    """``[reach.targets]``: the share of each settlement type's demand in reach to serve within
    its standard, as constraints priced against a shortfall.

    Attributes
    ----------
    urban, suburban, rural
        Shares between 0 and 1 (leave one out: no target for that type). The demand counted is
        the peak-hour demand of the type's zones that have at least one candidate site within
        their standard (demand with none cannot be served by any plan; it is a gap).
    shortfall_price_factor
        Each kWh short of a target costs this many times the unmet-demand price
        (``model.unmet_penalty_cny_per_kwh``) on top of that kWh's own unmet price. Default 10:
        the target then binds wherever serving a kWh within it costs less than 11 times the
        unmet price (so a standard is worth far more than a plain unserved kWh), while a
        target the budget, the site limit or capacity make unreachable leaves a reported
        shortfall instead of an infeasible model. Priced, not infinite, so that HiGHS can
        weigh it in double precision.
    """

    urban: float | None = None
    suburban: float | None = None
    rural: float | None = None
    shortfall_price_factor: PositiveFloat = 10.0

    @model_validator(mode="before")
    @classmethod
    def _known_types(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(cls.model_fields))
            if unknown:
                raise ValueError(
                    f"unknown settlement type {', '.join(map(repr, unknown))}: targets are "
                    "given per type as urban, suburban or rural (plus shortfall_price_factor), "
                    "e.g. urban = 0.9"
                )
        return data

    @field_validator("urban", "suburban", "rural")
    @classmethod
    def _share(cls, value: float | None) -> float | None:
        if value is not None and not 0.0 <= value <= 1.0:
            raise ValueError(
                f"{value:g} is not a share: give a number between 0 and 1 (0.9 = 90 % of the "
                "type's demand in reach), or leave the key out for no target"
            )
        return value

    def shares(self) -> dict[Settlement, float]:
        """Each settlement type's target share (0: none)."""
        return {t: float(getattr(self, t) or 0.0) for t in SETTLEMENT_TYPES}
