"""The ``[users]`` section: how the premium-user target is spread over zones.

``users_i ~ pop_i * prod(ind^exp)`` from the zones' own indicators, or from the county table
(``county_indicators``); ``proxies`` name the zone whose per-person propensity a zone without
census figures takes; ``[users.calibration]`` pins cities' shares to their published NEV sales
and caps cities with a plate quota (see :mod:`chargeplan.inputs.calibration`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from chargeplan.config.validation import Frozen

__all__ = ["CalibrationConfig", "CityNevSales", "PlateQuota", "UsersConfig"]

_Source = Annotated[str, Field(min_length=3)]


class CityNevSales(Frozen):
    """A city's published NEV sales in one year, with the source of the figure."""

    nev_sales: Annotated[int, Field(gt=0)]
    source: _Source


class PlateQuota(Frozen):
    """A city's yearly quota of new NEV licence plates, with its source.

    Turned into a cap on the city's share of premium users: ``nev_plates_per_year /
    national_nev_sales`` (every premium buyer is assumed to need a new quota plate).
    """

    nev_plates_per_year: Annotated[int, Field(gt=0)]
    source: _Source


class CalibrationConfig(Frozen):
    """City totals calibrated to published NEV sales, and plate quotas as caps.

    A calibrated city gets ``target * nev_sales / national_nev_sales`` premium users; the other
    zones share the rest by propensity; a city with a plate quota gets at most ``target *
    nev_plates_per_year / national_nev_sales``, the excess going to the uncapped, uncalibrated
    zones in proportion to their users. ``others_below_calibrated``: the calibrated cities head
    a published ranking, so no other city gets a larger share than the smallest of them (a
    cap like a quota's). ``ranked``: cities that follow the calibrated ones in the published
    ranking, in its order, without figures: their shares keep that order and stay above every
    other city's (the propensity shares projected onto the order, see
    :func:`chargeplan.inputs.calibration.city_shares`). Cities are named by zone name or admin
    code.
    """

    national_nev_sales: Annotated[int, Field(gt=0)]
    national_source: _Source
    cities: dict[str, CityNevSales] = Field(default_factory=dict)
    plate_quotas: dict[str, PlateQuota] = Field(default_factory=dict)
    others_below_calibrated: bool = False
    ranked: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _sales_within_national(self) -> CalibrationConfig:
        both = sorted(set(self.ranked) & set(self.cities))
        if both:
            raise ValueError(f"cities {both} are both calibrated and ranked: keep one")
        total = sum(city.nev_sales for city in self.cities.values())
        if total >= self.national_nev_sales:
            raise ValueError(
                f"the cities' NEV sales add up to {total:,}, not less than national_nev_sales "
                f"({self.national_nev_sales:,}): nothing would be left for the other zones"
            )
        big = [
            k
            for k, q in self.plate_quotas.items()
            if q.nev_plates_per_year > self.national_nev_sales
        ]
        if big:
            raise ValueError(f"plate_quotas {big} exceed national_nev_sales")
        return self


class UsersConfig(Frozen):
    """How the premium-user target is spread over zones.

    Attributes
    ----------
    target_premium_users
        Premium users in all zones together.
    propensity
        Indicator -> exponent of the per-person propensity ``prod_c ind_c ** e_c``.
    missing_indicators
        What a zone without an indicator (and without a proxy) gets: the median over the zones
        (``fill_median``) or no users (``drop``), with a warning either way.
    county_indicators
        The census county table (one row per province, prefecture and county, keyed by 6-digit
        admin ``code``, with ``yb_pop_2020``, ``urban_share`` and the indicators): a zone's
        propensity is then summed over its counties, urban and rural people apart.
    admin_code_column
        The zones' 6-digit admin code (fine cells inherit their prefecture's).
    urban_population_column
        The zones' urban population (``None``: urban and rural people weigh the same).
    proxies
        Zone (name or code) -> zone whose per-person propensity it takes (Hong Kong and Macao:
        the census covers neither).
    calibration
        Published city NEV sales and plate quotas (``None``: propensity alone).
    """

    target_premium_users: Annotated[int, Field(gt=0)]
    propensity: dict[str, float] = Field(default_factory=dict)
    missing_indicators: Literal["fill_median", "drop"] = "fill_median"
    county_indicators: Path | None = None
    admin_code_column: str = "city_code"
    urban_population_column: str | None = "popu_urban_2020"
    proxies: dict[str, str] = Field(default_factory=dict)
    calibration: CalibrationConfig | None = None
