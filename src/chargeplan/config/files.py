"""Reading scenario and catalogue files: TOML, paths resolved, ``extends`` merged.

Relative paths in a scenario are resolved against the folder of the file that names them. A
scenario file may start with ``extends = "other.toml"``: it is read on top of that file (tables
merge key by key, values replace), so variants only state what differs.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from chargeplan.errors import ScenarioError

__all__ = ["read_scenario_file", "read_toml"]

#: (section, key) of the scenario keys that hold file paths.
_PATH_KEYS = (
    ("zones", "file"),
    ("sites", "file"),
    ("reach", "cost_table"),
    ("reach", "travel_time_table"),
    ("existing", "stations"),
    ("competition", "region_chargers"),
    ("fine_zones", "places_file"),
    ("users", "county_indicators"),
    ("decompose", "tls_ca_file"),
    ("decompose", "tls_cert"),
    ("decompose", "tls_key"),
    ("economics", "tariffs"),
    ("economics", "support"),
    ("realism", "networks"),
)


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """Read a TOML file, or raise a :class:`ScenarioError` naming ``what`` and the file.

    TOML is UTF-8; a UTF-8 byte-order mark (as some Windows editors write) is skipped. A file in
    another encoding (UTF-16, Latin-1, GBK) or a binary file is refused in one line that names
    the encoding it looks like and the byte that is not UTF-8.
    """
    if not path.is_file():
        raise ScenarioError(f"{what} file not found: {path}")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ScenarioError(f"{what} file {path}: cannot be read: {error.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            f"{path}: not a UTF-8 text file ({_encoding_of(data)}; byte 0x{data[error.start]:02x} "
            f"at offset {error.start}): save the {what} file as UTF-8"
        ) from None
    if "\x00" in text:
        raise ScenarioError(
            f"{path}: holds NUL bytes, so it is not a TOML text file (binary, or UTF-16/32): "
            f"save the {what} file as UTF-8 text"
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {error}") from None


def _encoding_of(data: bytes) -> str:
    """What a file that is not UTF-8 most likely is, for the message."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 (it starts with a UTF-16 byte-order mark)"
    if b"\x00" in data[:4096]:
        return "binary, or UTF-16/32 without a byte-order mark"
    return "looks like Latin-1, GBK or another legacy 8-bit encoding"


def read_scenario_file(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario file with its paths resolved, merged onto the file it ``extends``.

    Parameters
    ----------
    path
        An absolute path to the scenario file.
    seen
        The files that extend this one, to refuse a loop.

    Returns
    -------
    dict
        The merged tables, without ``extends``; ``name`` defaults to a variant's file stem.
    """
    if path in seen:
        raise ScenarioError(
            f"{path}: 'extends' loops back to itself ({' -> '.join(map(str, seen))})"
        )
    data = read_toml(path, "scenario")
    base = path.parent
    if "charger_catalogue" in data:
        catalogue = data["charger_catalogue"]
        if not isinstance(catalogue, str) or not catalogue.strip():
            raise ScenarioError(
                f"{path}: key 'charger_catalogue' must be the path of a catalogue TOML file, "
                f'e.g. "chargers-cn-2025.toml" (got {catalogue!r})'
            )
        data["charger_catalogue"] = _resolve(base, catalogue)
    for section, key in _PATH_KEYS:
        if isinstance(data.get(section), dict) and key in data[section]:
            data[section] = {**data[section], key: _resolve(base, data[section][key])}
    if isinstance(data.get("sites"), dict) and "extra" in data["sites"]:
        data["sites"] = {**data["sites"], "extra": _resolve_extra(base, data["sites"]["extra"])}
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError(f"{path}: key 'extends' must be a path to another scenario file")
    parent_path = _resolve(base, parent)
    if not parent_path.is_file():
        raise ScenarioError(f"{path}: key 'extends': file not found: {parent_path}")
    merged = _merge(read_scenario_file(parent_path, (*seen, path)), data)
    if "name" not in data:
        merged["name"] = path.stem
    return merged


def scenario_chain(path: Path) -> list[Path]:
    """A scenario file and the files it ``extends``, the first ancestor first (the order they
    are merged in). Only ``extends`` is read; a broken chain ends where it breaks (reading the
    scenario reports it)."""
    chain: list[Path] = []
    current: Path | None = Path(path)
    while current is not None and current.is_file() and current not in chain:
        chain.append(current)
        parent = read_toml(current, "scenario").get("extends")
        current = _resolve(current.parent, parent) if isinstance(parent, str) and parent else None
    return chain[::-1]


def _resolve(base: Path, value: Any) -> Any:
    """A non-empty text as a path, relative to ``base`` unless absolute; anything else as is."""
    if isinstance(value, str) and value:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (base / path).resolve()
    return value


def _resolve_extra(base: Path, extra: Any) -> Any:
    """``sites.extra``: a path, or a list of paths and tables with a ``file``, resolved."""
    if not isinstance(extra, list):
        return _resolve(base, extra)
    return [
        {**item, "file": _resolve(base, item["file"])}
        if isinstance(item, dict) and "file" in item
        else _resolve(base, item)
        for item in extra
    ]


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into ``base`` (tables merge, values replace)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
