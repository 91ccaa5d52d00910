"""The assumptions appendix of ``report.html``: grouped, each value with its unit and source.

The scenario's values (as validated, defaults included) are grouped as a planner reads them:
premium users, demand, chargers, stations, reach, the model's prices, and apart from them the
settings of the computation (solver limits, decomposition), which are not assumptions about the
market. File paths and column names are left out (the run's manifest lists the files); empty
optional tables are left out. A value's unit comes from its name (``_cny``, ``_km``, ``_kw``:
the scenario's naming rule); its source is the comment written above it in the scenario file or
the charger catalogue (the rule that every default carries its source), else "chargeplan
default" (documented in ``config/scenario.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chargeplan.config.files import scenario_chain
from chargeplan.outputs.names import bilingual

if TYPE_CHECKING:
    from chargeplan.config.scenario import Scenario

#: The groups of the appendix: title and the scenario sections in it.
GROUPS = (
    ("Premium users", ("users",)),
    ("Demand", ("demand",)),
    ("Chargers", ("chargers",)),
    ("Stations and their sizing", ("sites", "designs", "sizing", "existing")),
    ("Reach", ("reach",)),
    ("Prices in the model", ("model",)),
    ("Roll-out", ("rollout",)),
    ("Station economics", ("economics",)),
    ("Settings of the computation (not market assumptions)", ("solver", "decompose", "fine_zones")),
)

#: Units by the end of a key's name, first match wins (the scenario names units this way).
UNITS = (
    ("kva_per_kw", "kVA per kW"),
    ("_cny", "CNY"),
    ("kwh_per_km", "kWh per km"),
    ("km_per_user_day", "km per user and day"),
    ("_kwh", "kWh"),
    ("_kva", "kVA"),
    ("_kw", "kW"),
    ("_km", "km"),
    ("_minutes", "min"),
    ("_min", "min"),
    ("_s", "s"),
    ("_share", "share"),
    ("_rate", "share"),
    ("share_", "share"),
    ("home_charging_access_", "share"),
    ("public_share_", "share"),
    ("charger_mix", "share"),
    ("_utilisation", "share"),
    ("_probability", "share"),
    ("_users", "users"),
    ("_sales", "vehicles"),
    ("_gap", "share"),
)

#: Tables shown as one row (a mix of shares, a menu of counts), not one row a key.
ONE_ROW = frozenset(
    {"propensity", "proxies", "charger_mix", "chargers_per_queue", "stalls", "max_chargers"}
)

#: Keys that are not assumptions: inputs' plumbing (files, columns) and free text.
_SKIP = re.compile(
    r"(^|\.)(file|stations|description|source|cost_table|county_indicators|pair_links)$"
    r"|_columns?$|_source$|\.tls_"
)


@dataclass(frozen=True)
class Assumption:
    """One row of the appendix: what it is, its value with unit, and where it comes from."""

    name: str
    value: str
    unit: str
    source: str


@dataclass(frozen=True)
class AssumptionGroup:
    """A titled group of assumptions."""

    title: str
    rows: tuple[Assumption, ...]


#: Endings dropped from a name once the unit column says them (``fixed_cost_cny``: fixed cost).
_UNIT_ENDINGS = re.compile(r"(?<!_per)_(cny(_per_[a-z_]+)?|kwh|kw|kva|km|s)$")


#: How units read inside a "CNY per ..." unit.
_UNIT_WORDS = {"kwh": "kWh", "kva": "kVA", "kw": "kW"}


def unit_of(key: str) -> str:
    """The unit a key's name gives (``fixed_cost_cny`` -> ``CNY``,
    ``lease_cny_per_station_year`` -> ``CNY per station year``), or ``""``; a key of a table
    (``maintenance_cny_per_stall_year.dc_fast``) takes its table's unit."""
    for part in reversed(key.split(".")):
        unit = _unit_of_name(part)
        if unit:
            return unit
    return ""


def _unit_of_name(name: str) -> str:
    per = re.search(r"_cny_per_([a-z_]+)$", name)
    if per:
        return "CNY per " + " ".join(_UNIT_WORDS.get(w, w) for w in per.group(1).split("_"))
    for ending, unit in UNITS:
        if name.endswith(ending) or (ending.endswith("_") and name.startswith(ending)):
            return unit
    return ""


def _value(value: Any, unit: str, key: str = "") -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and key.endswith("year"):
        return str(value)  # a calendar year: 2030, not 2,030
    if isinstance(value, int | float) and unit == "share" and 0 <= value <= 1:
        return f"{100 * value:,.4g} %"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, Mapping) and len(value) == 1:
        return _value(next(iter(value.values())), unit_of(next(iter(value))))
    if isinstance(value, Mapping):
        return "; ".join(
            f"{bilingual(str(k)).replace('_', ' ')}: {_value(v, unit)}" for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return ", ".join(bilingual(str(v)) for v in value)
    return bilingual(str(value))


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, Mapping | list | tuple) and not value)


def _flatten(data: Mapping[str, Any], prefix: str) -> Iterable[tuple[str, Any, str]]:
    """Dotted keys, values and own sources of a section's nested tables.

    A table of plain values (a charger mix, proxies) stays one row; a table with a ``source``
    (a calibrated city) is one row with that source; ``x_source`` is the source of ``x_*``.
    """
    for name, value in data.items():
        key = str(name)  # a rollout's targets are keyed by year (int)
        if isinstance(value, Mapping) and "source" in value:
            rest = {k: v for k, v in value.items() if k not in ("source", "description")}
            yield f"{prefix}{key}", rest, str(value["source"])
        elif isinstance(value, Mapping) and key not in ONE_ROW:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            stem = key.split("_", 1)[0]
            own = data.get(f"{stem}_source") if not key.endswith("_source") else None
            yield f"{prefix}{key}", value, str(own) if own else ""


def toml_comments(path: Path | None, prefix: str = "") -> dict[str, str]:
    """The comment block written above each key (and table) of a TOML file, by dotted key.

    A blank line ends a block; a comment at the end of a key's line is added to it; keys on the
    lines right below a key share its block. Tables are
    keyed by their name (``users.calibration``), keys by ``table.key``; ``prefix`` goes before
    each (``chargers.`` for a charger catalogue).
    """
    comments: dict[str, str] = {}
    if path is None or not Path(path).is_file():
        return comments
    table, block, last = "", [], ""
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#"):
            block.append(line.lstrip("#").strip())
            last = ""
            continue
        if not line:
            block, last = [], ""
            continue
        header = re.match(r"^\[\[?\s*([^\]]+?)\s*\]\]?", line)
        if header:
            table = header.group(1).replace('"', "")
            comments[prefix + table] = " ".join(block)
            block = []
            continue
        key = re.match(r'^("[^"]+"|[A-Za-z0-9_-]+)\s*=', line)
        if key:
            inline = re.search(r"\s#\s*(.*)$", line)
            # keys right below one another share the comment above the first
            text = " ".join(block + ([inline.group(1)] if inline else [])) or last
            name = key.group(1).strip('"')
            comments[prefix + (f"{table}.{name}" if table else name)] = text
            last = text
        block = []
    return comments


def _source(key: str, comments: Mapping[str, str]) -> str:
    """The comment above ``key``, else above its table (or a parent's); for a key the files
    leave out, the default's documentation."""
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        text = comments.get(".".join(parts[:end]))
        if text:
            return text
    below = [text for name, text in comments.items() if name.startswith(f"{key}.") and text]
    if below:  # a table's comment written under its header, above its first key
        return below[0]
    if key in comments:
        return "set in the scenario files, without a comment"
    return "chargeplan default (documented in config/scenario.py)"


def assumptions(scenario: Scenario | None) -> list[AssumptionGroup]:
    """The scenario's assumptions in :data:`GROUPS`, each with its unit and source.

    Parameters
    ----------
    scenario
        The validated scenario (None: no appendix).

    Returns
    -------
    list of AssumptionGroup
        Only groups with at least one value.
    """
    if scenario is None:
        return []
    data = scenario.model_dump()
    comments: dict[str, str] = {}
    for path in scenario_chain(scenario.source) if scenario.source else []:
        comments |= toml_comments(path)  # a variant's own comment (or none) over its parent's
    comments |= toml_comments(scenario.charger_catalogue, prefix="chargers.")
    comments |= {  # the catalogue's menu of designs, keyed as the scenario's "designs.<name>"
        k: v
        for k, v in toml_comments(scenario.charger_catalogue, prefix="").items()
        if k.startswith("designs.")
    }
    if not data["sizing"].get("designs"):
        data["designs"] = None  # the catalogue's menu, unused unless the sizing picks from it
    if not data["existing"].get("stations"):
        data["existing"] = None  # no existing network given: its settings do not apply
    groups = []
    for title, sections in GROUPS:
        rows = []
        for section in sections:
            if _empty(data.get(section)):
                continue
            for key, value, own in _flatten({section: data[section]}, ""):
                if _SKIP.search(key) or _empty(value) or isinstance(value, Path):
                    continue
                unit = unit_of(key)
                name = [_UNIT_ENDINGS.sub("", part) for part in key.split(".")[1:]]
                rows.append(
                    Assumption(
                        name=", ".join(bilingual(part.replace("_", " ")) for part in name),
                        value=_value(value, unit, key),
                        unit="" if unit == "share" else unit,
                        source=own or _source(key, comments),
                    )
                )
        if rows:
            groups.append(AssumptionGroup(title, tuple(rows)))
    return groups
