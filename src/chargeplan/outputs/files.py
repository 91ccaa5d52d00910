"""The crash-safe file layer: every output is complete or absent.

:func:`atomic_path` writes one file under a temporary name and renames it over the final
name; :func:`atomic_dir` stages a whole run folder and renames it into place at the end, so a
killed run leaves all of its outputs or none; :func:`remove_stale_staging` clears what a killed
process left behind.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import json
import math
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from chargeplan.errors import OutputError


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

# staging folders ``.<name>.partial-<pid>-<hex>``, a previous run set aside while publishing
# ``.<name>.old-<pid>-<hex>``, probe files ``.<name>.probe-<pid>-<hex>`` and temporary files
# ``.<name>.partial-<pid>-<random><suffix>`` (see :func:`atomic_path`)
_STAGING = re.compile(
    r"^\.(?P<name>.+?)\.(?P<kind>partial|old|probe)-(?P<pid>\d+)-"
    r"(?:[0-9a-f]+$|[0-9a-z_]+\.[0-9A-Za-z]+$)"
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

    Only those whose process is gone are touched. A previous run set aside by a run killed
    while publishing (``.<name>.old-...``, see :func:`atomic_dir`) is renamed back to
    ``<name>`` if that folder is missing, so the last good plan is never lost; it is removed
    only when ``<name>`` exists (the new run was published).

    Parameters
    ----------
    parent
        The folder that holds run folders (an ``--out`` folder's parent, or a batch folder).
    name
        Only those of this run folder (default: all).

    Returns
    -------
    list[pathlib.Path]
        The folders and files removed (restored ones are not listed).
    """
    parent = Path(parent)
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for entry in sorted(parent.iterdir()):
        match = _STAGING.match(entry.name)
        if not match or (name is not None and match["name"] != name):
            continue
        if int(match["pid"]) == os.getpid() or _alive(int(match["pid"])):
            continue
        current = parent / match["name"]
        if match["kind"] == "old" and entry.is_dir() and not os.path.lexists(current):
            os.rename(entry, current)
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def _listed_outputs(folder: Path) -> set[str] | None:
    """Top-level names a previous run's manifest lists in ``folder``; ``None`` if the folder
    holds no chargeplan manifest (a JSON object with an ``outputs`` table)."""
    try:
        outputs = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))["outputs"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(outputs, dict):
        return None
    return {str(name).split("/")[0] for name in outputs}


def publish_refusal(final: Path, *, force: bool = False) -> str | None:
    """Why ``final`` cannot receive a run's outputs, or ``None`` if it can.

    A missing or empty folder, or a previous chargeplan run (its ``manifest.json`` lists its
    outputs), can;
    a file cannot; a folder holding anything else (a user's own ``summary.csv``) only with
    ``force``, and then its other files are kept.
    """
    if not final.exists():
        return None
    if not final.is_dir():
        return "is a file, not a folder: choose another output folder"
    if force or _listed_outputs(final) is not None:
        return None
    entries = sorted(entry.name for entry in final.iterdir())
    if not entries:
        return None
    shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
    return (
        f"holds files that are not a chargeplan run ({shown}; no chargeplan {MANIFEST_NAME}): "
        "choose a "
        "new or empty folder, or pass --force to write the outputs beside them (files named "
        "like outputs are then replaced)"
    )


def _swap(staging: Path, final: Path) -> None:
    """Replace the folder ``final`` by ``staging``: two renames, undone if the second fails.

    Between them ``final`` is absent and the previous run is ``.<name>.old-<pid>-<hex>``; if
    the process is killed there, the next run restores it (:func:`remove_stale_staging`).
    """
    old = final.with_name(f".{final.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
    os.rename(final, old)
    try:
        os.rename(staging, final)
    except BaseException:
        if not final.exists():
            os.rename(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _publish(staging: Path, final: Path, *, force: bool = False) -> None:
    """Make ``staging``'s content the content of ``final`` (see :func:`atomic_dir`)."""
    refusal = publish_refusal(final, force=force)
    if refusal:
        raise OutputError(f"output folder {final} {refusal}")
    if not final.exists():
        os.rename(staging, final)
        return
    entries = {entry.name for entry in final.iterdir()}
    new = {entry.name for entry in staging.iterdir()}
    if not entries:
        os.rename(staging, final)  # POSIX rename replaces an empty folder atomically
    elif (listed := _listed_outputs(final)) is not None and entries <= new | listed | {
        MANIFEST_NAME
    }:
        _swap(staging, final)  # only a previous run's outputs
    else:
        # the folder holds other files too: keep them, and make the manifest last in
        for entry in sorted(new - {MANIFEST_NAME}):
            if (final / entry).is_dir() and not (final / entry).is_symlink():
                raise OutputError(
                    f"output folder {final} holds a folder {entry} where the run writes a "
                    "file: move it away or choose another folder with --out"
                )
        (final / MANIFEST_NAME).unlink(missing_ok=True)
        for entry in sorted(new - {MANIFEST_NAME}):
            os.replace(staging / entry, final / entry)
        if MANIFEST_NAME in new:
            os.replace(staging / MANIFEST_NAME, final / MANIFEST_NAME)


@contextlib.contextmanager
def atomic_dir(final: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Yield an empty staging folder beside ``final``; publish it as ``final`` on success.

    Write every file of a run into the yielded folder (a hidden sibling
    ``.<name>.partial-<pid>-<random>``); when the block ends without error the folder is
    renamed onto ``final``, so a run killed at any point leaves under ``final`` either all of
    its outputs or none (or the previous run's complete ones). On error or interrupt the
    staging folder is removed; after a hard kill it stays hidden and the next run into the same
    parent removes it (:func:`remove_stale_staging`). A symlinked ``final`` is published
    through the link, into its target; the link stays.

    A ``final`` that holds only a previous run's outputs (its manifest and the files it lists or
    that the new run writes) is replaced as a whole. One that also holds other files is kept:
    the new files are moved into it one by one, its old ``manifest.json`` removed first and the
    new one moved in last, so there the manifest marks a complete run. A non-empty folder that
    is no chargeplan run (no manifest) is refused unless ``force``
    (:func:`publish_refusal`). Operating-system errors (a full disk, a read-only folder) become
    one-line :class:`~chargeplan.errors.OutputError` s.
    """
    shown = Path(final)
    final = Path(os.path.realpath(final))
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(final.parent, final.name)
        staging = final.with_name(f".{final.name}.partial-{os.getpid()}-{secrets.token_hex(4)}")
        staging.mkdir()  # unlike tempfile.mkdtemp, keeps the umask's permissions
    except OSError as error:
        raise OutputError(os_error_line(error, shown)) from None
    try:
        yield staging
        _publish(staging, final, force=force)
    except OSError as error:
        raise OutputError(os_error_line(error, shown)) from error
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def os_error_line(error: OSError, folder: Path) -> str:
    """One line for an operating-system error met while writing into ``folder``."""
    reason = (error.strerror or type(error).__name__).lower()
    where = f" ({error.filename})" if error.filename else ""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "free some space or choose a folder on another disk with --out"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "make it writable or choose another folder with --out"
    elif error.errno in (errno.ENOTDIR, errno.EEXIST):
        fix = "a part of the path is a file: choose another folder with --out"
    else:
        fix = "choose another folder with --out"
    return f"cannot write output folder {folder}: {reason}{where}: {fix}"


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


#: UTF-8 with a byte-order mark: without it Excel reads a CSV in the computer's legacy code
#: page and shows Chinese names as mojibake; pandas and Python's ``utf-8-sig`` skip it.
CSV_ENCODING = "utf-8-sig"

#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def neutralise_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, prefixed with ``'``.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    apostrophe (OWASP's rule); numbers, and text that is a plain number such as ``-3.5``, are
    kept as they are.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.match(value):
        return "'" + value
    return value


def neutralised(values: Any) -> Any:
    """``values`` (a pandas Series) with :func:`neutralise_cell` applied to each cell; the
    same object if no cell changes.

    The cells that may change (text starting with one of :data:`FORMULA_STARTS`) are found by
    Arrow over the whole column when it holds only text; a column of mixed values is looked at
    cell by cell.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        cells = [neutralise_cell(v) for v in values.tolist()]
    else:
        starts = "^[" + re.escape("".join(FORMULA_STARTS)) + "]"
        hits = pc.match_substring_regex(text, starts).fill_null(False).to_numpy(False)
        if not hits.any():
            return values
        cells = values.tolist()
        for i in np.flatnonzero(hits).tolist():  # formula-like cells only
            cells[i] = neutralise_cell(cells[i])
    import pandas as pd

    return pd.Series(cells, index=values.index, dtype=object, name=values.name)


def write_csv(frame: Any, path: str | Path, **to_csv: Any) -> Path:
    """Write a pandas frame as CSV, atomically, with formula-like text neutralised.

    Every text cell and column name goes through :func:`neutralise_cell`; numeric columns are
    written as they are. Parquet and GeoPackage files keep the raw values. The file starts with
    a UTF-8 byte-order mark (:data:`CSV_ENCODING`) unless ``encoding`` is given. Without other
    options than ``index=False`` the text is made column by column
    (:func:`chargeplan.outputs.csvtext.csv_bytes`: the bytes pandas writes, several times
    faster); else pandas writes it.
    """
    from pandas.api import types

    from chargeplan.outputs.csvtext import csv_bytes

    safe = frame.rename(columns=neutralise_cell)
    for column in safe.columns:
        dtype = safe[column].dtype
        if not (types.is_numeric_dtype(dtype) or types.is_datetime64_any_dtype(dtype)):
            safe[column] = neutralised(safe[column])
    to_csv.setdefault("encoding", CSV_ENCODING)
    plain = to_csv == {"index": False, "encoding": CSV_ENCODING}
    pieces = csv_bytes(safe) if plain else None
    with atomic_path(path) as tmp:
        if pieces is None:
            safe.to_csv(tmp, **to_csv)
        else:
            with tmp.open("wb") as handle:
                handle.write(codecs.BOM_UTF8)
                for piece in pieces:
                    handle.write(piece)
    return Path(path)
