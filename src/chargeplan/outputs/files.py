"""The crash-safe file layer: every output is complete or absent.

:func:`atomic_path` writes one file under a temporary name and renames it over the final
name; :func:`atomic_dir` stages a whole run folder and renames it into place at the end, so a
killed run leaves all of its outputs or none; :func:`remove_stale_staging` clears what a killed
process left behind.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from chargeplan.errors import ChargeplanError

if TYPE_CHECKING:
    pass


@contextlib.contextmanager
def atomic_path(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it onto ``final`` if the block succeeds.

    The temporary file, ``.<name>.partial-<pid>-<random><suffix>``, keeps ``final``'s suffix
    (writers pick the format from it) and names its process, so that one left by a killed run
    is removed by :func:`remove_stale_staging`.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{final.name}.partial-{os.getpid()}-", suffix=final.suffix, dir=final.parent
    )
    os.close(handle)
    tmp = Path(name)
    tmp.unlink()  # writers such as GeoPackage refuse to overwrite an empty file
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


#: The file whose presence marks a complete run folder (see :mod:`chargeplan.outputs.manifest`).
MANIFEST_NAME = "manifest.json"

# staging folders ``.<name>.partial-<pid>-<hex>`` and temporary files
# ``.<name>.partial-<pid>-<random><suffix>`` (see :func:`atomic_path`)
_STAGING = re.compile(
    r"^\.(?P<name>.+?)\.(?:partial|old)-(?P<pid>\d+)-(?:[0-9a-f]+$|[0-9a-z_]+\.[0-9A-Za-z]+$)"
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_staging(parent: str | Path, name: str | None = None) -> list[Path]:
    """Remove staging folders and temporary files left in ``parent`` by killed runs.

    Only those whose process is gone are removed.

    Parameters
    ----------
    parent
        The folder that holds run folders (an ``--out`` folder's parent, or a batch folder).
    name
        Only those of this run folder (default: all).

    Returns
    -------
    list[pathlib.Path]
        The folders and files removed.
    """
    parent = Path(parent)
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for entry in parent.iterdir():
        match = _STAGING.match(entry.name)
        if not match or (name is not None and match["name"] != name):
            continue
        if int(match["pid"]) != os.getpid() and not _alive(int(match["pid"])):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _listed_outputs(folder: Path) -> set[str]:
    """Top-level names a previous run's manifest lists in ``folder``."""
    try:
        outputs = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))["outputs"]
        return {str(name).split("/")[0] for name in outputs}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _publish(staging: Path, final: Path) -> None:
    """Make ``staging``'s content the content of ``final`` (see :func:`atomic_dir`)."""
    if not final.exists():
        os.rename(staging, final)
        return
    if not final.is_dir():
        raise ChargeplanError(f"{final} is a file, not a folder: choose another output folder")
    entries = {entry.name for entry in final.iterdir()}
    new = {entry.name for entry in staging.iterdir()}
    if not entries:
        os.rename(staging, final)  # POSIX rename replaces an empty folder atomically
    elif entries <= new | _listed_outputs(final) | {MANIFEST_NAME}:
        # only a previous run's outputs: swap the folders; in between, `final` is absent
        old = final.with_name(f".{final.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
        os.rename(final, old)
        os.rename(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        # the folder holds other files too: keep them, and make the manifest last in
        (final / MANIFEST_NAME).unlink(missing_ok=True)
        for entry in sorted(new - {MANIFEST_NAME}):
            target = final / entry
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(staging / entry, target)
        if MANIFEST_NAME in new:
            os.replace(staging / MANIFEST_NAME, final / MANIFEST_NAME)


@contextlib.contextmanager
def atomic_dir(final: str | Path) -> Iterator[Path]:
    """Yield an empty staging folder beside ``final``; publish it as ``final`` on success.

    Write every file of a run into the yielded folder (a hidden sibling
    ``.<name>.partial-<pid>-<random>``); when the block ends without error the folder is
    renamed onto ``final``, so a run killed at any point leaves under ``final`` either all of
    its outputs or none (or the previous run's complete ones). On error or interrupt the
    staging folder is removed; after a hard kill it stays hidden and the next run into the same
    parent removes it (:func:`remove_stale_staging`).

    A ``final`` that holds only a previous run's outputs (the files its manifest lists or that
    the new run writes) is replaced as a whole. One that also holds other files is kept: the new
    files are moved into it one by one, its old ``manifest.json`` removed first and the new one
    moved in last, so there the manifest marks a complete run.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(final.parent, final.name)
    staging = final.with_name(f".{final.name}.partial-{os.getpid()}-{secrets.token_hex(4)}")
    staging.mkdir()  # unlike tempfile.mkdtemp, keeps the umask's permissions
    try:
        yield staging
        _publish(staging, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(data: dict[str, Any], path: str | Path) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(
            json.dumps(
                {k: json_safe(v) for k, v in data.items()},
                indent=2,
                default=_json_default,
                ensure_ascii=False,
            )
            + "\n",
            encoding="utf-8",
        )
    return Path(path)
