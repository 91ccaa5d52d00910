"""The ``[sites]`` section: the candidate-site file, its defaults, and extra candidate files.

A scenario names one main candidate file (``sites.file``) and may merge more in
(``sites.extra``): car parks, malls, fuel and expressway service areas, partner sites. Each
extra file is either a path or a table with its own id column, id prefix and defaults for its
attributes::

    [sites]
    file = "stations.parquet"
    fixed_cost_cny = 600_000
    extra = ["car_parks.parquet"]

    [[sites.extra]]
    file = "service_areas.csv"   # CSV with lon/lat columns
    prefix = "sa"
    kind = "expressway service area"
    fixed_cost_cny = 1_200_000
    max_stalls = 16
    max_chargers = { dc_fast = 16 }

(TOML allows one spelling per key: either a list of paths or ``[[sites.extra]]`` tables; a
list may also mix both as inline tables.) :mod:`chargeplan.inputs.candidates` reads and merges
them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from chargeplan.config.validation import Frozen, NonNegativeFloat, PositiveFloat

__all__ = ["ExtraSitesConfig", "SitesConfig"]


class ExtraSitesConfig(Frozen):
    """One extra candidate file merged into the scenario's sites.

    ``prefix`` (default: the file's stem) makes its ids unique: site ``p1`` of
    ``car_parks.csv`` becomes ``car_parks:p1``. The attributes given here (``kind``,
    ``fixed_cost_cny``, ``max_chargers``, ``max_stalls``, ``grid_kw``) fill the file's missing
    values; what neither gives comes from the ``[sites]`` defaults. A CSV file holds points as
    ``lon_column``/``lat_column`` in WGS84; any vector file (GeoParquet, GeoPackage, GeoJSON)
    holds them as geometries.
    """

    file: Path
    id_column: str = "site_id"
    name_column: str | None = "name"
    prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]+$")] | None = None
    lon_column: str = "lon"
    lat_column: str = "lat"
    kind: str | None = None
    fixed_cost_cny: NonNegativeFloat | None = None
    max_chargers: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    max_stalls: Annotated[int, Field(ge=0)] | None = None
    grid_kw: PositiveFloat | None = None

    @property
    def id_prefix(self) -> str:
        """The prefix put before this file's ids (``prefix`` or the file's stem)."""
        return self.prefix or self.file.stem


class SitesConfig(Frozen):
    """Where the candidate sites come from, with defaults for columns the file lacks.

    Per-site columns override these defaults: ``fixed_cost_cny``, ``capex_cny_<type>``,
    ``max_<type>``, ``min_<type>``, ``existing_<type>``, ``max_stalls``, ``grid_kw``,
    ``grid_upgrade_kw``, ``grid_upgrade_cost_cny``, ``required`` and ``excluded``. ``extra``
    lists more candidate files merged in (:class:`ExtraSitesConfig`).
    """

    file: Path
    id_column: str = "site_id"
    name_column: str | None = "name"
    fixed_cost_cny: NonNegativeFloat
    max_chargers: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    max_stalls: Annotated[int, Field(ge=0)] | None = None
    grid_kw: PositiveFloat | None = None
    grid_upgrade_kw: NonNegativeFloat = 0.0
    grid_upgrade_cost_cny: NonNegativeFloat = 0.0
    required: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    extra: tuple[ExtraSitesConfig, ...] = ()

    @field_validator("extra", mode="before")
    @classmethod
    def _paths_as_tables(cls, value: Any) -> Any:
        """A bare path stands for a table with only ``file``."""
        if isinstance(value, str | Path):
            value = [value]
        if isinstance(value, list | tuple):
            return [{"file": v} if isinstance(v, str | Path) else v for v in value]
        return value

    @model_validator(mode="after")
    def _required_not_excluded(self) -> SitesConfig:
        both = sorted(set(self.required) & set(self.excluded))
        if both:
            raise ValueError(f"sites {both} are both required and excluded: keep one")
        return self

    @model_validator(mode="after")
    def _prefixes_unique(self) -> SitesConfig:
        prefixes = [e.id_prefix for e in self.extra]
        twice = sorted({p for p in prefixes if prefixes.count(p) > 1})
        if twice:
            raise ValueError(
                f"extra candidate files share the id prefix {twice}: give each its own "
                "'prefix' (the default is the file's name without extension)"
            )
        return self
