r"""The charger catalogue: one TOML table per charger type, validated into :class:`ChargerType`,
a menu of station designs (``[designs.<name>]`` tables), validated into :class:`StationDesign`,
and optionally the fleet the chargers serve (``[fleet.classes.<name>]``, :class:`Fleet`), from
which a charger type's session length is derived (:func:`derive_session_minutes`).

Session length from charger power and the cars' acceptance
-----------------------------------------------------------
A charger type that gives ``handling_minutes`` instead of ``session_minutes`` has its session
length derived from the fleet. A car of class :math:`m` (share :math:`w_m` of the fleet's
sessions) draws on average :math:`a_m` kW over a session (its acceptance curve averaged over
the session's state-of-charge window), so on a charger of :math:`P` kW it charges at
:math:`\min(P, a_m)` and a session of :math:`E` kWh occupies the charger

.. math::  T = h + 60 \sum_m w_m \, E / \min(P, a_m) \quad \text{minutes},

with :math:`h` the handling time (park, plug in, pay, leave). The mean is taken over session
*times*, not powers: the slow cars hold a charger longest and set its throughput. A busy
charger then delivers :math:`60 E / T` kWh an hour and, at ``max_utilisation`` :math:`u`, the
linear rule's design-hour capacity per charger is :math:`q = 60 E u / T`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from chargeplan.config.files import read_toml
from chargeplan.config.validation import Frozen, NonNegativeFloat, PositiveFloat, Share, validate
from chargeplan.errors import ScenarioError

__all__ = [
    "ChargerType",
    "Fleet",
    "FleetClass",
    "StationDesign",
    "derive_session_minutes",
    "load_catalogue",
    "load_designs",
    "load_fleet",
]

#: The catalogue's table of station designs (every other table is a charger type).
DESIGNS_TABLE = "designs"
#: The catalogue's table of the fleet's car classes (not a charger type either).
FLEET_TABLE = "fleet"


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
    handling_minutes: NonNegativeFloat | None = None
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


class FleetClass(Frozen):
    """One class of car in the fleet: its share of sessions and its mean acceptance in kW
    (the acceptance curve averaged over a session's state-of-charge window)."""

    share: Share
    acceptance_kw: PositiveFloat
    description: str = ""


class Fleet(Frozen):
    """The cars that charge, by class (``[fleet.classes.<name>]``); shares add up to 1."""

    classes: dict[str, FleetClass]

    @model_validator(mode="after")
    def _shares_add_up(self) -> Fleet:
        if not self.classes:
            raise ValueError("give at least one car class, e.g. [fleet.classes.v800]")
        total = sum(c.share for c in self.classes.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"the classes' shares must add up to 1 (they add up to {total:g})")
        return self


def derive_session_minutes(
    power_kw: float, session_kwh: float, handling_minutes: float, fleet: Fleet
) -> float:
    """Minutes a session occupies a charger of ``power_kw``: handling plus charging time.

    ``T = h + 60 sum_m w_m E / min(P, a_m)`` (module docstring): each car class
    charges at the lower of the charger's power and its own mean acceptance.

    Examples
    --------
    A 480 kW charger, 30 kWh sessions, 5 minutes' handling, half the cars accepting 300 kW and
    half 90 kW: 5 + 60 x 30 x (0.5/300 + 0.5/90) = 5 + 3 + 10 = 18 minutes.
    """
    hours_per_kwh = sum(c.share / min(power_kw, c.acceptance_kw) for c in fleet.classes.values())
    return handling_minutes + 60.0 * session_kwh * hours_per_kwh


def load_fleet(path: str | Path) -> Fleet | None:
    """Read and validate a catalogue's ``[fleet]`` table (none: ``None``)."""
    path = Path(path)
    raw = read_toml(path, "charger catalogue").get(FLEET_TABLE)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: '{FLEET_TABLE}' must be a table with [fleet.classes.<name>]")
    return validate(Fleet, raw, label=f"{path} [{FLEET_TABLE}]")


def _with_session_minutes(
    path: Path, name: str, table: dict[str, object], fleet: Fleet | None
) -> dict[str, object]:
    """The charger table with ``session_minutes`` derived from the fleet where it gives
    ``handling_minutes`` instead (:func:`derive_session_minutes`)."""
    if "session_minutes" in table or "handling_minutes" not in table:
        return table
    if fleet is None:
        raise ScenarioError(
            f"{path} [{name}]: handling_minutes derives the session length from the fleet, but "
            "the catalogue has no [fleet.classes.<name>] tables: add them or give session_minutes"
        )
    numbers = {k: table.get(k) for k in ("power_kw", "session_kwh", "handling_minutes")}
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers.values()):
        return table  # left to the validation, which names the key
    power, kwh, handling = (float(v) for v in numbers.values())  # type: ignore[arg-type]
    if power <= 0 or kwh <= 0 or handling < 0:
        return table
    return {**table, "session_minutes": derive_session_minutes(power, kwh, handling, fleet)}


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
    ``[designs]`` table is read by :func:`load_designs`, ``[fleet]`` by :func:`load_fleet`).

    A charger type with ``handling_minutes`` and no ``session_minutes`` gets its session length
    from the fleet (:func:`derive_session_minutes`)."""
    path = Path(path)
    raw = read_toml(path, "charger catalogue")
    raw = {name: table for name, table in raw.items() if name not in (DESIGNS_TABLE, FLEET_TABLE)}
    if not raw:
        raise ScenarioError(f"{path}: the charger catalogue defines no charger type")
    fleet = load_fleet(path)
    catalogue = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise ScenarioError(f"{path}: '{name}' must be a table like [{name}] with power_kw...")
        table = _with_session_minutes(path, name, table, fleet)
        catalogue[name] = validate(ChargerType, table, label=f"{path} [{name}]")
    return catalogue
