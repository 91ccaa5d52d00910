"""A batch job's progress, on standard error, each line prefixed with the job's name.

``chargeplan batch`` runs each job in a child process (:mod:`chargeplan.workflows.isolate`),
which has no progress display of its own, so its stage lines (``read inputs: 0.5 s``,
``solve: 12.1 s``) used to be lost until the job ended. :func:`stage_lines` shows them as plain
lines (:func:`chargeplan.progress.show`) on the child's standard error, the parent's, with
the job's name in front::

    [target=10M] read inputs: 0.5 s
    [target=20M] read inputs: 0.6 s

``--quiet`` (``run_batch(quiet=True)``) shows nothing, as before.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import IO, Protocol, TypeVar, cast

from chargeplan import progress

__all__ = ["PrefixedLines", "stage_lines", "with_stage_lines"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)
T = TypeVar("T")


class PrefixedLines:
    """A text stream that writes ``prefix`` at the start of every line to ``stream``."""

    def __init__(self, stream: IO[str], prefix: str) -> None:
        self.stream = stream
        self.prefix = prefix
        self._at_line_start = True

    def write(self, text: str) -> int:
        parts = text.split("\n")
        out = []
        for i, part in enumerate(parts):
            if part and self._at_line_start:
                out.append(self.prefix)
            out.append(part)
            if i < len(parts) - 1:
                out.append("\n")
                self._at_line_start = True
            elif part:
                self._at_line_start = False
        self.stream.write("".join(out))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False


@contextlib.contextmanager
def stage_lines(name: str, shown: bool, stream: IO[str] | None = None) -> Iterator[None]:
    """Show the stages run inside as plain lines prefixed ``[name] `` (``shown``), on
    ``stream`` (default: standard error); nothing if not ``shown``."""
    if not shown:
        yield
        return
    lines = PrefixedLines(stream or sys.stderr, f"[{name}] ")
    with progress.show("plain", cast(IO[str], lines)):
        yield


def with_stage_lines(job: tuple[Callable[[N], T], N, bool]) -> T:
    """``func(task)`` for ``job = (func, task, shown)``, its stages shown as
    :func:`stage_lines` shows them: what a batch's child process runs
    (:func:`chargeplan.workflows.batch.run_task_isolated`; a module-level function, so that it
    pickles)."""
    func, task, shown = job
    with stage_lines(task.name, shown):
        return func(task)
