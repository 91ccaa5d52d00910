"""An output folder made safe before any work is done: checked, probed and locked.

:func:`output_folder` is entered before a run prepares or solves anything, so that a folder
that cannot take the outputs fails in one line at once, not after a long solve:

- the path is resolved (``.``, ``./``, ``''`` and symlinks included): a symlinked folder is
  published through the link, into its target, and the link itself is never replaced;
- a folder that holds one of the run's inputs (scenario, catalogue, zones, sites, stations,
  cost table), or the current working directory, is refused: publishing swaps or fills the
  folder and would overwrite or move them. A new folder *inside* an input folder is fine
  (``--out models/run1``): only that new folder is written;
- a folder that is neither empty nor a previous chargeplan run (no ``manifest.json``) is
  refused unless ``force`` (:func:`chargeplan.outputs.files.publish_refusal`);
- a probe file is created, written and removed where the run will write (the folder's parent,
  which receives the staging folder, and the folder itself if it exists): a read-only folder,
  a full disk or a path below a file fail here;
- the folder is locked (:func:`lock_folder`) so that a second run into it stops at once.

Every refusal is an :class:`~chargeplan.errors.OutputError` (exit code 6) naming the folder and
the fix.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from chargeplan.errors import OutputError
from chargeplan.outputs.files import os_error_line, publish_refusal

__all__ = ["check_output_folder", "lock_folder", "output_folder", "safe_folder_name"]

# letters and digits of any script (CJK too), and a few safe punctuation marks
_UNSAFE = re.compile(r"[^\w.=+,@%-]+")
_MAX_NAME_BYTES = 200  # file systems allow 255 bytes; leave room for '.<name>.partial-...'


def safe_folder_name(text: str, default: str = "run") -> str:
    """A scenario or job name as one safe folder name: no separator, no ``..``, not hidden.

    Letters and digits of every script are kept (``上海-2030`` stays), runs of anything else
    (``/``, ``\\``, spaces, control characters) become one ``_``, runs of dots one dot, and
    leading dots are dropped; an empty result becomes ``default``.
    """
    name = unicodedata.normalize("NFC", text)
    name = _UNSAFE.sub("_", name)
    name = re.sub(r"\.{2,}", ".", name).lstrip(".") or default
    while len(name.encode()) > _MAX_NAME_BYTES:
        name = name[:-1]
    return name


def _resolve(folder: str | Path) -> Path:
    text = str(folder)
    if not text.strip():
        return Path.cwd()
    return Path(os.path.realpath(text))


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _probe(where: Path, name: str, shown: Path) -> None:
    """Create, write and remove a small file in ``where``: can the run write there?"""
    probe = where / f".{name}.probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        handle = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(handle, b"\0" * 65536)
        finally:
            os.close(handle)
            probe.unlink(missing_ok=True)
    except OSError as error:
        raise OutputError(os_error_line(error, shown)) from None


def _check_inputs(final: Path, inputs: Iterable[str | Path], shown: Path) -> None:
    cwd = Path.cwd().resolve()
    if cwd == final or final in cwd.parents:
        raise OutputError(
            f"output folder {shown} is the current folder or holds it: choose a new folder, "
            "e.g. --out runs/NAME"
        )
    for path in inputs:
        resolved = Path(os.path.realpath(path))
        if resolved == final or final in resolved.parents:
            raise OutputError(
                f"output folder {shown} holds the run's input {path}: outputs never go beside "
                "their inputs; choose a new folder, e.g. --out runs/NAME"
            )


def check_output_folder(
    folder: str | Path, *, inputs: Iterable[str | Path] = (), force: bool = False
) -> Path:
    """Check that ``folder`` can take a run's outputs (see the module docstring).

    Returns
    -------
    pathlib.Path
        The folder resolved: absolute, symlinks followed.

    Raises
    ------
    OutputError
        Naming the folder and the fix.
    """
    shown = Path(folder) if str(folder).strip() else Path(".")
    final = _resolve(folder)
    _check_inputs(final, inputs, shown)
    ancestor = _existing_ancestor(final.parent)
    if not ancestor.is_dir():
        raise OutputError(
            f"output folder {shown} lies below {ancestor}, which is a file: choose another "
            "folder with --out"
        )
    refusal = publish_refusal(final, force=force)
    if refusal:
        raise OutputError(f"output folder {shown} {refusal}")
    _probe(ancestor, final.name, shown)
    if final.is_dir():
        _probe(final, final.name, shown)
    return final


@contextlib.contextmanager
def lock_folder(final: Path, shown: Path | None = None) -> Iterator[Path]:
    """Hold an advisory lock on the output folder ``final`` while the block runs.

    The lock is ``.<name>.lock`` beside the folder (the folder itself is swapped when a run
    publishes), held with ``fcntl.flock`` and holding the owner's process id. The kernel
    releases it when its process ends, however it ends, so a lock file left by a killed run is
    stale: the next run takes it over. The file is removed when the block ends.

    Raises
    ------
    OutputError
        If another process holds the lock.
    """
    shown = shown or final
    path = final.parent / f".{final.name}.lock"
    while True:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(handle, 32).decode(errors="replace").strip() or "unknown"
            os.close(handle)
            raise OutputError(
                f"output folder {shown} is in use by another chargeplan run (process {owner}, "
                f"lock {path}): wait for it to finish or choose another folder with --out"
            ) from None
        # the previous holder may have removed the file between our open and our lock
        if os.path.exists(path) and os.stat(path).st_ino == os.fstat(handle).st_ino:
            break
        os.close(handle)
    try:
        os.ftruncate(handle, 0)
        os.write(handle, f"{os.getpid()}\n".encode())
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(handle)


@contextlib.contextmanager
def output_folder(
    folder: str | Path, *, inputs: Iterable[str | Path] = (), force: bool = False
) -> Iterator[Path]:
    """Check, probe and lock ``folder`` for the block (see the module docstring).

    Yields the resolved folder: write it with :func:`chargeplan.outputs.files.atomic_dir`.
    """
    shown = Path(folder) if str(folder).strip() else Path(".")
    final = check_output_folder(folder, inputs=inputs, force=force)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(os_error_line(error, shown)) from None
    with lock_folder(final, shown):
        yield final
