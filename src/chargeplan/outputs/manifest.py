"""The run manifest: what went in, what came out, and how, beside a run's outputs.

``manifest.json`` records

- ``inputs``: the sha256 and size of every input file (scenario, charger catalogue, zones,
  sites, cost table) and ``inputs_sha256``, one digest over those hashes, the scenario and the
  solver and output options (see :func:`inputs_digest`): two runs with the same digest plan the
  same thing;
- ``scenario``: the scenario as resolved JSON (after ``--set`` or ``with_values`` changes);
- ``solver``: the HiGHS options; ``result``: status, objective, bound and gap;
- ``timings``: seconds per stage; ``versions``: Python and the packages that shape the plan;
- ``outputs``: every output file, relative to the folder, with its sha256 and size.

The manifest is written atomically and last, inside the run's staging folder
(:func:`chargeplan.outputs.files.atomic_dir`), so its presence marks a complete run: a folder whose
manifest is present and whose listed files hash as recorded (:func:`verify`) is complete;
``chargeplan batch`` skips such a folder when its ``inputs_sha256`` matches (resume).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import math
import platform
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chargeplan.config.scenario import Scenario
from chargeplan.outputs.files import MANIFEST_NAME, atomic_path

__all__ = [
    "FORMAT",
    "MANIFEST_NAME",
    "build_manifest",
    "input_files",
    "inputs_digest",
    "is_complete",
    "package_versions",
    "read_manifest",
    "sha256_file",
    "verify",
    "write_manifest",
]

#: Version of the manifest layout; bump it when keys change meaning.
FORMAT = 1

#: Packages whose versions can change a plan or its files.
PACKAGES = (
    "chargeplan",
    "pyomo",
    "highspy",
    "geopandas",
    "shapely",
    "pandas",
    "numpy",
    "scipy",
    "pyarrow",
    "pyogrio",
    "pyproj",
)


def sha256_file(path: str | Path, *, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


def _path_keys(data: Any, prefix: str = "") -> dict[str, Path]:
    """Every ``Path`` value in a nested dump, by dotted key."""
    found: dict[str, Path] = {}
    if isinstance(data, Mapping):
        for key, value in data.items():
            found.update(_path_keys(value, f"{prefix}{key}."))
    elif isinstance(data, Path):
        found[prefix.rstrip(".")] = data
    return found


def input_files(scenario: Scenario) -> dict[str, Path]:
    """The files a scenario reads, by role.

    Roles: ``scenario``, ``charger_catalogue``, ``zones``, ``sites``, ``cost_table``, and any
    other file key of the scenario by its dotted name (e.g. ``existing.stations``).
    """
    roles = {
        "source": "scenario",
        "zones.file": "zones",
        "sites.file": "sites",
        "reach.cost_table": "cost_table",
    }
    return {
        roles.get(key, key): path
        for key, path in _path_keys(scenario.model_dump()).items()
        if path is not None
    }


def _hash_inputs(scenario: Scenario) -> dict[str, dict[str, Any]]:
    out = {}
    for role, path in input_files(scenario).items():
        if path.is_file():
            out[role] = {
                "path": str(path),
                "sha256": sha256_file(path),
                "bytes": path.stat().st_size,
            }
    return out


def _plain(value: Any) -> Any:
    """JSON-ready: dataclasses and mappings to dicts, paths to text, non-finite floats to None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _scenario_without_paths(scenario: Scenario) -> dict[str, Any]:
    data = scenario.model_dump(mode="json")
    for dotted in _path_keys(scenario.model_dump()):
        *parents, leaf = dotted.split(".")
        node = data
        for key in parents:
            node = node[key]
        node.pop(leaf, None)
    return data


def _solver_options(solver: Any) -> dict[str, Any]:
    options = _plain(solver) if solver is not None else {}
    options.pop("log_to_stderr", None)  # where the log goes changes no plan
    options.pop("log_file", None)
    return options


def inputs_digest(
    scenario: Scenario,
    *,
    solver: Any = None,
    options: Mapping[str, Any] | None = None,
    file_hashes: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """One sha256 over everything that decides a run's outputs.

    Parameters
    ----------
    scenario
        The resolved scenario. Its file paths are left out; the files enter by content, so a
        moved but unchanged input keeps the digest.
    solver
        Solver options (a :class:`chargeplan.solver.options.SolverOptions` or a mapping); where the
        solver log goes is ignored.
    options
        Output options, e.g. ``{"map_png": True}``.
    file_hashes
        Hashes already computed by :func:`build_manifest` (default: hash the files now).

    Returns
    -------
    str
        Hex sha256 of the canonical JSON of the above.
    """
    hashes = _hash_inputs(scenario) if file_hashes is None else file_hashes
    payload = {
        "format": FORMAT,
        "scenario": _scenario_without_paths(scenario),
        "files": {role: entry["sha256"] for role, entry in sorted(hashes.items())},
        "solver": _solver_options(solver),
        "options": _plain(dict(options or {})),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of Python and of :data:`PACKAGES` (``"not installed"`` when missing)."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def build_manifest(
    scenario: Scenario,
    out_dir: str | Path,
    outputs: Mapping[str, str | Path],
    *,
    summary: Mapping[str, Any],
    solver: Any = None,
    options: Mapping[str, Any] | None = None,
    timings: Mapping[str, float] | None = None,
    command: list[str] | None = None,
) -> dict[str, Any]:
    """Assemble the manifest of a run whose files are already written.

    Parameters
    ----------
    scenario
        The resolved scenario that was planned.
    out_dir
        The folder the outputs are in now (the staging folder during a run); output names in
        the manifest are relative to it.
    outputs
        The written files (e.g. :func:`chargeplan.outputs.write.write_plan`'s result).
    summary
        The plan's summary: ``status``, ``objective_value``, ``bound``, ``gap`` are kept.
    solver, options
        As in :func:`inputs_digest`.
    timings
        Seconds per stage, e.g. ``{"prepare": 1.2, "solve": 8.0, "write": 0.9}``.
    command
        The command line, if run from one.

    Returns
    -------
    dict
        JSON-ready; write it with :func:`write_manifest`.
    """
    out_dir = Path(out_dir)
    hashes = _hash_inputs(scenario)
    files = {}
    for path in sorted({Path(p) for p in outputs.values()}):
        # written paths are absolute, relative to the working directory (so inside out_dir),
        # or relative to out_dir
        full = path if path.is_absolute() or path.is_relative_to(out_dir) else out_dir / path
        name = full.relative_to(out_dir).as_posix()
        files[name] = {"sha256": sha256_file(full), "bytes": full.stat().st_size}
    result_keys = ("status", "objective_value", "bound", "gap", "build_seconds", "solve_seconds")
    return _plain(
        {
            "format": FORMAT,
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command,
            "scenario_name": scenario.name,
            "inputs_sha256": inputs_digest(
                scenario, solver=solver, options=options, file_hashes=hashes
            ),
            "inputs": hashes,
            "scenario": scenario.model_dump(mode="json"),
            "solver": {"name": "highs", **_solver_options(solver)},
            "options": dict(options or {}),
            "result": {key: summary.get(key) for key in result_keys},
            "timings": dict(timings or {}),
            "versions": package_versions(),
            "platform": {
                "system": platform.system(),
                "machine": platform.machine(),
                "python_implementation": sys.implementation.name,
            },
            "outputs": files,
        }
    )


def write_manifest(manifest: Mapping[str, Any], out_dir: str | Path) -> Path:
    """Write ``manifest.json`` into ``out_dir`` atomically; call it after every other file."""
    path = Path(out_dir) / MANIFEST_NAME
    with atomic_path(path) as tmp:
        tmp.write_text(
            json.dumps(_plain(manifest), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return path


def read_manifest(out_dir: str | Path) -> dict[str, Any] | None:
    """The manifest in ``out_dir``, or ``None`` if there is none or it cannot be read."""
    path = Path(out_dir) / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def verify(out_dir: str | Path, manifest: Mapping[str, Any] | None = None) -> list[str]:
    """Check that a run folder is complete: every listed output present and hash-equal.

    Returns
    -------
    list[str]
        The problems found, one line each; empty when the folder is complete.
    """
    out_dir = Path(out_dir)
    manifest = read_manifest(out_dir) if manifest is None else manifest
    if manifest is None:
        return [f"{out_dir}: no readable {MANIFEST_NAME}: the run did not finish"]
    outputs = manifest.get("outputs")
    if not isinstance(outputs, Mapping) or not outputs:
        return [f"{out_dir / MANIFEST_NAME}: lists no outputs"]
    problems = []
    for name, entry in outputs.items():
        path = out_dir / name
        if not path.is_file():
            problems.append(f"{path}: listed in the manifest but missing")
        elif sha256_file(path) != entry.get("sha256"):
            problems.append(f"{path}: changed since the run (sha256 differs from the manifest)")
    return problems


def is_complete(out_dir: str | Path, inputs_sha256: str | None = None) -> bool:
    """Whether ``out_dir`` holds a complete run (of these inputs, if ``inputs_sha256`` given)."""
    manifest = read_manifest(out_dir)
    if manifest is None:
        return False
    if inputs_sha256 is not None and manifest.get("inputs_sha256") != inputs_sha256:
        return False
    return not verify(out_dir, manifest)
