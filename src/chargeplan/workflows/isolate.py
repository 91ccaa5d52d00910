"""Run a function in a child process, so that a crash of native code costs that call only.

HiGHS is C++: an abort inside it (``std::terminate``, a failed allocation, a segmentation fault)
ends the whole Python process with a signal and no exception, taking with it everything the
process was doing. :func:`call_in_child` runs one call in a child process started by a
*forkserver* (a fork of a clean process that has chargeplan imported: fast, and safe where a
plain fork of a process running solver threads is not) and returns its result; if the child dies
without one, it raises :class:`ChildDied` naming the signal or exit status, and the caller goes
on. ``chargeplan batch`` runs each job this way (:func:`chargeplan.workflows.batch.run_batch`).

The child logs to standard error at the parent's level and with its warning filters. It dies
with its parent: a watchdog thread kills it when the parent's end of a pipe closes (the parent
killed, even by SIGKILL), so no orphan goes on writing into a folder a rerun uses. SIGTERM in
the child unwinds it (its staging folder is removed) rather than stopping it dead.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # multiprocessing is imported when a child starts: importing it makes Pyomo
    # create a semaphore at once, which a run without /dev/shm or file space cannot
    from multiprocessing.connection import Connection

__all__ = ["ChildDied", "call_in_child"]

T = TypeVar("T")
A = TypeVar("A")

#: Modules the forkserver imports once, so that each child starts in a fraction of a second.
_PRELOAD = ["chargeplan.workflows.batch"]

#: Loggers whose levels the child takes from the parent (the CLI quietens the libraries').
_LOGGERS = ("chargeplan", "pyogrio", "distributed")


class ChildDied(Exception):
    """The child process ended without a result: killed by a signal, or exited early."""

    def __init__(self, exitcode: int | None) -> None:
        self.signal = -exitcode if exitcode is not None and exitcode < 0 else None
        if self.signal is not None:
            name = _signal_name(self.signal)
            #: The shell's convention for a process killed by a signal: 128 + its number.
            self.exit_code = 128 + self.signal
            message = (
                f"its process was killed by {name} (signal {self.signal}, exit code "
                f"{self.exit_code}): a crash in native code such as HiGHS, or killed from outside"
            )
        else:
            self.exit_code = exitcode if exitcode else 1
            message = f"its process exited with status {self.exit_code} before returning a result"
        super().__init__(message)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def call_in_child(func: Callable[[A], T], arg: A) -> T:
    """``func(arg)`` in a child process; its result, or :class:`ChildDied`.

    ``func`` must be a module-level function and ``arg`` and the result picklable. An exception
    that ``func`` raises in the child is raised here (pickled back). ``KeyboardInterrupt`` or
    any other exit here while the child runs terminates the child first.
    """
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    result_reader, result_writer = context.Pipe(duplex=False)
    lifeline_reader, lifeline_writer = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_main,
        args=(func, arg, result_writer, lifeline_reader, _parent_logging()),
        daemon=True,
    )
    child.start()
    result_writer.close()
    lifeline_reader.close()
    try:
        try:
            outcome = result_reader.recv()
        except EOFError:
            outcome = None
        child.join()
    finally:
        if child.is_alive():
            child.terminate()
            child.join(10)
            if child.is_alive():
                child.kill()
                child.join()
        result_reader.close()
        lifeline_writer.close()
    if outcome is None:
        raise ChildDied(child.exitcode)
    ok, value = outcome
    if not ok:
        raise value
    return value


def _parent_logging() -> dict[str, Any]:
    return {
        "level": logging.getLogger().getEffectiveLevel(),
        "levels": {name: logging.getLogger(name).level for name in _LOGGERS},
        "filters": list(warnings.filters),
    }


def _child_main(
    func: Callable[[Any], Any],
    arg: Any,
    result_writer: Connection,
    lifeline_reader: Connection,
    setup: dict[str, Any],
) -> None:
    """The child: watch the parent, set up logging, call, send ``(ok, result or error)``."""
    threading.Thread(target=_die_with_parent, args=(lifeline_reader,), daemon=True).start()
    signal.signal(signal.SIGTERM, _unwind)
    logging.basicConfig(
        level=setup["level"],
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for name, level in setup["levels"].items():
        logging.getLogger(name).setLevel(level)
    warnings.filters[:] = setup["filters"]  # type: ignore[index]
    try:
        outcome: tuple[bool, Any] = (True, func(arg))
    except Exception as error:
        outcome = (False, error)
    try:
        result_writer.send(outcome)
    except Exception as error:  # an exception that does not pickle: send its text
        result_writer.send((False, RuntimeError(f"{type(error).__name__}: {error}")))
    result_writer.close()


def _die_with_parent(lifeline: Connection) -> None:
    try:
        lifeline.recv()
    except (EOFError, OSError):
        pass
    os.kill(os.getpid(), signal.SIGKILL)


def _unwind(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)
