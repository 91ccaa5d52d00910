"""The charger catalogue: one TOML table per charger type, validated into :class:`ChargerType`,
and a menu of station designs (``[designs.<name>]`` tables), validated into
:class:`StationDesign`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from chargeplan.config.files import read_toml
from chargeplan.config.validation import Frozen, NonNegativeFloat, PositiveFloat, validate
from chargeplan.errors import ScenarioError

__all__ = ["ChargerType", "StationDesign", "load_catalogue", "load_designs"]

#: The catalogue's table of station designs (every other table is a charger type).
DESIGNS_TABLE = "designs"


class ChargerType(Frozen):
    """One kind of charger: what it costs, what a session looks like, how hard it can run.

    A session delivers ``session_kwh`` and occupies the charger for ``session_minutes`` (plug-in
    and turnover included), so a continuously occupied charger delivers
    ``session_kwh * 60 / session_minutes`` kWh per hour. The linear sizing rule lets a charger
    run at ``max_utilisation`` of that in the peak hour; the queueing rule sizes by Erlang C.
    """

    power_kw: PositiveFloat
    capex_cny: NonNegativeFloat
    session_kwh: PositiveFloat
    session_minutes: PositiveFloat
    max_utilisation: Annotated[float, Field(gt=0, le=1)]
    opex_cny_per_year: NonNegativeFloat = 0.0
    description: str = ""

    @model_validator(mode="after")
    def _session_fits_power(self) -> ChargerType:
        if self.session_kwh > self.power_kw * self.session_minutes / 60 * (1 + 1e-9):
            raise ValueError(
                f"session_kwh {self.session_kwh:g} cannot be delivered at {self.power_kw:g} kW "
                f"in {self.session_minutes:g} minutes: lengthen the session or lower its kWh"
            )
        return self

    @property
    def session_hours(self) -> float:
        """Mean time a session occupies the charger, in hours."""
        return self.session_minutes / 60.0

    @property
    def kwh_per_busy_hour(self) -> float:
        """Energy a continuously occupied charger delivers in an hour."""
        return self.session_kwh / self.session_hours

    @property
    def peak_kwh_per_charger(self) -> float:
        """Linear rule: energy one charger delivers in the peak hour at ``max_utilisation``."""
        return self.kwh_per_busy_hour * self.max_utilisation


class StationDesign(Frozen):
    """One station design of the menu: stalls by charger type, grid connection, civil works.

    Its capex is computed (:meth:`capex_cny`): the stalls at their charger type's
    ``capex_cny``, plus ``grid_connection_cny`` (transformer and connection) and
    ``civil_works_cny``.
    """

    stalls: dict[str, Annotated[int, Field(ge=0, le=500)]]
    grid_kva: PositiveFloat
    grid_connection_cny: NonNegativeFloat
    civil_works_cny: NonNegativeFloat
    description: str = ""

    @model_validator(mode="after")
    def _has_stalls(self) -> StationDesign:
        if sum(self.stalls.values()) == 0:
            raise ValueError("a design needs at least one stall (stalls = { dc_fast = 4 })")
        return self

    def capex_cny(self, chargers: dict[str, ChargerType]) -> float:
        """Capex of one station of this design: stalls x charger capex + grid + civil works."""
        stalls = sum(n * chargers[t].capex_cny for t, n in self.stalls.items())
        return stalls + self.grid_connection_cny + self.civil_works_cny


def load_designs(path: str | Path, chargers: dict[str, ChargerType]) -> dict[str, StationDesign]:
    """Read and validate the station designs of a charger catalogue (none: ``{}``)."""
    path = Path(path)
    raw = read_toml(path, "charger catalogue").get(DESIGNS_TABLE, {})
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: '{DESIGNS_TABLE}' must hold tables like [designs.dc4]")
    designs = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise ScenarioError(f"{path}: design '{name}' must be a table [designs.{name}]")
        design = validate(StationDesign, table, label=f"{path} [designs.{name}]")
        unknown = sorted(set(design.stalls) - set(chargers))
        if unknown:
            raise ScenarioError(
                f"{path} [designs.{name}]: stalls name charger types {unknown} that the "
                f"catalogue does not define; it has {sorted(chargers)}"
            )
        designs[name] = design
    return designs


def load_catalogue(path: str | Path) -> dict[str, ChargerType]:
    """Read and validate a charger catalogue (one TOML table per charger type; the
    ``[designs]`` table is read by :func:`load_designs`)."""
    path = Path(path)
    raw = read_toml(path, "charger catalogue")
    raw = {name: table for name, table in raw.items() if name != DESIGNS_TABLE}
    if not raw:
        raise ScenarioError(f"{path}: the charger catalogue defines no charger type")
    catalogue = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise ScenarioError(f"{path}: '{name}' must be a table like [{name}] with power_kw...")
        catalogue[name] = validate(ChargerType, table, label=f"{path} [{name}]")
    return catalogue
