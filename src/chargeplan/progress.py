"""Progress of a run: its stages with their elapsed time, and the solver's incumbent and bound.

The stages of a run announce themselves with :func:`step` (``step("solve")`` ends the stage
before it and starts this one) and the solver reports its best plan so far with
:func:`solver_update`. Both do nothing unless a display is active: :func:`show` activates one
for the duration of a ``with`` block::

    from chargeplan import progress
    with progress.show("auto"):           # rich on a terminal, plain lines else
        plan = chargeplan.plan_network(scenario)

:func:`chargeplan.plan_network` shows its progress by itself in a notebook
(:func:`in_notebook_default`).

Displays:

- ``"rich"``: a live line with a spinner, the current stage and its elapsed time (and, while
  HiGHS runs, its incumbent, bound and gap), with one line per finished stage above it;
- ``"plain"``: one line per finished stage (``solve: 25.8 s``), and a solver line every
  :data:`PLAIN_SOLVER_EVERY_S` seconds at most (none in a stage shorter than that), for logs,
  pipes and notebooks (no control characters; in a Jupyter notebook on standard output, so
  that the lines appear in the cell's output as they come);
- ``"off"``: nothing.

This module sits at the bottom of the import floors (any stage may announce a step) and imports
rich only when a rich display is shown, so ``import chargeplan`` stays light.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Literal

__all__ = [
    "PLAIN_SOLVER_EVERY_S",
    "Display",
    "LogHandler",
    "Mode",
    "active",
    "count",
    "count_text",
    "duration_text",
    "finish",
    "in_notebook",
    "in_notebook_default",
    "show",
    "solver_update",
    "step",
]

#: Seconds between two solver lines of a plain display (the live display redraws 4 times a s).
PLAIN_SOLVER_EVERY_S = 10.0

Mode = Literal["auto", "rich", "plain", "off"]


@dataclass
class Display:
    """What a display shows: the finished stages, the current one and the solver's figures.

    ``lines`` collects every plain line written (also for a rich display: what it printed
    above the live line), so that tests and notebooks can read what was shown.
    """

    mode: Literal["rich", "plain", "off"]
    stream: IO[str]
    stage: str | None = None
    started: float = 0.0
    solver: dict[str, float] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    last_plain: float = float("-inf")
    live: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def status(self) -> str:
        """The current stage, its elapsed time and the solver's figures if it reported any."""
        if self.stage is None:
            return ""
        text = f"{self.stage} {self.elapsed():.1f} s"
        return text + solver_text(self.solver) if self.solver else text

    def emit(self, line: str) -> None:
        """Print a line above the live display (rich) or as it is (plain)."""
        self.lines.append(line)
        if self.mode == "off":
            return
        if self.live is not None:
            self.live.console.print(line, highlight=False, markup=False)
        else:
            print(line, file=self.stream, flush=True)

    def end_stage(self) -> None:
        if self.stage is not None:
            self.emit(f"{self.stage}: {self.elapsed():.1f} s{solver_text(self.solver)}")
        self.stage = None
        self.solver = {}


def solver_text(figures: dict[str, float]) -> str:
    """``"; incumbent 16.11 bn, bound 16.09 bn, gap 0.17 %"`` (empty without an incumbent)."""
    incumbent = figures.get("incumbent")
    if incumbent is None or not _finite(incumbent):
        return ""
    text = f"; incumbent {_amount(incumbent)}"
    bound = figures.get("bound")
    if bound is not None and _finite(bound):
        text += f", bound {_amount(bound)}"
    gap = figures.get("gap")
    if gap is not None and _finite(gap):
        text += f", gap {100 * gap:.2f} %"
    return text


def _finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")


def _amount(value: float) -> str:
    """An objective in CNY, short: ``16.11 bn``, ``250.3 M``, ``1,200``."""
    if abs(value) >= 1e9:
        return f"{value / 1e9:,.2f} bn"
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.1f} M"
    return f"{value:,.0f}"


_stack: list[Display] = []


def active() -> Display | None:
    """The display in use, if any (the innermost :func:`show`)."""
    return _stack[-1] if _stack else None


def step(name: str) -> None:
    """End the current stage (with its elapsed time) and start ``name``; no-op without a display.

    Parameters
    ----------
    name
        The stage in the planner's words, e.g. ``"read inputs"``, ``"solve"``.
    """
    display = active()
    if display is None:
        return
    with display.lock:
        display.end_stage()
        display.stage = name
        display.started = display.last_plain = time.perf_counter()


def finish() -> None:
    """End the current stage and stop a live line, before the results are printed (so the
    last line on the terminal is theirs); no-op without a display."""
    display = active()
    if display is None:
        return
    with display.lock:
        display.end_stage()
        if display.live is not None:
            display.live.stop()
            display.live = None


def solver_update(incumbent: float, bound: float, gap: float) -> None:
    """The solver's best plan so far (objective, CNY), its best bound and their relative gap.

    Called from HiGHS's callbacks; a plain display prints it at most every
    :data:`PLAIN_SOLVER_EVERY_S` seconds, a rich one shows it on its live line.
    """
    display = active()
    if display is None:
        return
    with display.lock:
        display.solver = {"incumbent": incumbent, "bound": bound, "gap": gap}
        now = time.perf_counter()
        if display.mode == "plain" and now - display.last_plain >= PLAIN_SOLVER_EVERY_S:
            display.last_plain = now
            display.emit(f"  {display.status()}")


def count(done: int, total: int, share: float | None = None, work: str = "the work") -> None:
    """``done`` of ``total`` parts of the current stage finished (e.g. a decomposition's
    pieces), ``share`` the part of the stage's work they hold (e.g. their pairs' share of all
    pairs; ``work`` names it): shown on the stage's line by :func:`count_text`; a plain
    display prints it at most every :data:`PLAIN_SOLVER_EVERY_S` seconds and at the last part.
    """
    display = active()
    if display is None or display.stage is None:
        return
    with display.lock:
        name = display.stage.split(" (")[0]
        text = count_text(done, total, share, display.elapsed(), work)
        display.stage = f"{name} ({text})"
        now = time.perf_counter()
        last = done == total
        if display.mode == "plain" and (last or now - display.last_plain >= PLAIN_SOLVER_EVERY_S):
            display.last_plain = now
            display.emit(f"  {display.status()}")


def count_text(
    done: int,
    total: int,
    share: float | None = None,
    elapsed: float = 0.0,
    work: str = "the work",
) -> str:
    """What a stage's line says of its parts: ``"12 of 279"``, with ``share`` (the part of the
    ``work`` done, 0-1) ``"12 of 279; 45.2 % of the work; about 1 min 25 s left"``.

    The time left is the elapsed time scaled by the work still to do,
    :math:`t (1 - s) / s`: it assumes the rest goes as fast per unit of work as what is done
    (no estimate before any work is done, none once all of it is).

    >>> count_text(12, 279)
    '12 of 279'
    >>> count_text(12, 279, 0.25, 30.0)
    '12 of 279; 25.0 % of the work; about 1 min 30 s left'
    >>> count_text(279, 279, 1.0, 412.0)
    '279 of 279; 100.0 % of the work'
    """
    text = f"{done:,} of {total:,}"
    if share is None:
        return text
    share = min(max(share, 0.0), 1.0)
    text += f"; {100 * share:.1f} % of {work}"
    if 0.0 < share < 1.0 and done < total:
        text += f"; about {duration_text(elapsed * (1.0 - share) / share)} left"
    return text


def duration_text(seconds: float) -> str:
    """``"45 s"``, ``"1 min 30 s"``, ``"1 h 05 min"`` (rounded to the second, then minute).

    >>> duration_text(44.6), duration_text(90.2), duration_text(3_900)
    ('45 s', '1 min 30 s', '1 h 05 min')
    """
    whole = round(max(seconds, 0.0))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    minutes = round(whole / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


class LogHandler(logging.Handler):
    """Log records (and warnings, through :func:`logging.captureWarnings`) as lines on standard
    error, printed above a rich display's live line when one is shown, so neither garbles
    the other."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            display = active()
            if display is not None and display.live is not None:
                display.live.console.print(line, markup=False, highlight=False)
            else:
                print(line, file=sys.stderr, flush=True)
        except Exception:
            self.handleError(record)


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (IPython's ``ZMQInteractiveShell``)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _resolve(mode: Mode, stream: IO[str]) -> Literal["rich", "plain", "off"]:
    if mode != "auto":
        return mode
    isatty = getattr(stream, "isatty", None)
    return "rich" if not in_notebook() and isatty is not None and isatty() else "plain"


@contextlib.contextmanager
def in_notebook_default() -> Iterator[None]:
    """Show progress (plain lines on standard output) in a notebook, unless a display is
    active already; elsewhere do nothing (a script or the command line chooses its own)."""
    if active() is None and in_notebook():
        with show("plain", sys.stdout):
            yield
    else:
        yield


@contextlib.contextmanager
def show(mode: Mode = "auto", stream: IO[str] | None = None) -> Iterator[Display]:
    """Show the progress of what runs inside the ``with`` block.

    Parameters
    ----------
    mode
        ``"auto"`` (rich on a terminal or in a notebook, plain otherwise), ``"rich"``,
        ``"plain"`` or ``"off"``.
    stream
        Where to write (default: standard error; standard output in a notebook).

    Yields
    ------
    Display
        The display; ``display.lines`` holds every line it printed.
    """
    if stream is None:
        stream = sys.stdout if in_notebook() else sys.stderr
    display = Display(_resolve(mode, stream), stream)
    if display.mode == "rich":
        _start_live(display)
    _stack.append(display)
    try:
        yield display
        with display.lock:
            display.end_stage()
    finally:
        _stack.remove(display)
        if display.live is not None:
            display.live.stop()


def _start_live(display: Display) -> Any:
    """A rich ``Live`` line redrawn 4 times a second from :meth:`Display.status`."""
    from rich.console import Console
    from rich.live import Live
    from rich.spinner import Spinner

    spinner = Spinner("dots")

    def render() -> Any:
        spinner.update(text=display.status())
        return spinner

    console = Console(file=display.stream)
    live = Live(
        get_renderable=render,
        console=console,
        refresh_per_second=4,
        transient=True,
        redirect_stdout=False,  # results on stdout stay on stdout
        redirect_stderr=False,
    )
    display.live = live
    live.start()
    return live
