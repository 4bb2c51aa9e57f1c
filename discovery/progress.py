"""Progress reports of a run: a rich progress bar on a terminal, log lines otherwise.

All reporters share one interface: ``start(title, total)``, ``update(snapshot)``,
``log(message)``, ``close()``. They write to stderr, so stdout stays free for
``--json`` output.

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> p = PlainProgress(stream=out, every=0)
>>> p.start("toy", total=4)
>>> p.update(ProgressSnapshot(done=2, total=4, found=3, verified=1, seconds=2.0))
>>> print(out.getvalue().strip())
[toy] started (4 tasks)
[toy] 2/4 tasks (50%), 3 candidates, 1 verified, 1.0 tasks/s, ETA 2s
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

__all__ = [
    "ProgressSnapshot",
    "NullProgress",
    "PlainProgress",
    "RichProgress",
    "make_progress",
    "PROGRESS_MODES",
    "CommandProgress",
    "command_progress",
]

PROGRESS_MODES = ("auto", "rich", "plain", "quiet")


@dataclass(frozen=True)
class ProgressSnapshot:
    """Counters of a run at one moment."""

    done: int = 0
    total: int | None = None
    skipped: int = 0
    found: int = 0
    new: int = 0
    verified: int = 0
    failed: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Tasks per second (finished in this session)."""
        return self.done / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left, when the total is known."""
        if self.total is None or self.rate <= 0:
            return None
        return max(self.total - self.done - self.skipped, 0) / self.rate


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class NullProgress:
    """Reports nothing (``--quiet``)."""

    def start(self, title: str, total: int | None = None) -> None:
        pass

    def update(self, snap: ProgressSnapshot, force: bool = False) -> None:
        pass

    def log(self, message: str) -> None:
        pass

    def close(self) -> None:
        pass


class PlainProgress(NullProgress):
    """One log line on stderr at most every ``every`` seconds (batch jobs, pipes)."""

    def __init__(self, stream: TextIO | None = None, every: float = 10.0):
        self.stream = stream
        self.every = every
        self.title = ""
        self._last = float("-inf")

    def _write(self, text: str) -> None:
        stream = self.stream or sys.stderr
        stream.write(f"[{self.title}] {text}\n")
        stream.flush()

    def start(self, title: str, total: int | None = None) -> None:
        self.title = title
        self._write(f"started ({total} tasks)" if total is not None else "started")

    def update(self, snap: ProgressSnapshot, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.every:
            return
        self._last = now
        if snap.total is not None:
            pct = 100 * (snap.done + snap.skipped) / snap.total if snap.total else 100
            text = f"{snap.done + snap.skipped}/{snap.total} tasks ({pct:.0f}%)"
        else:
            text = f"{snap.done + snap.skipped} tasks"
        text += f", {snap.found} candidates, {snap.verified} verified, {snap.rate:.1f} tasks/s"
        if snap.skipped:
            text += f", {snap.skipped} already done"
        if snap.failed:
            text += f", {snap.failed} failed"
        if snap.eta is not None:
            text += f", ETA {_duration(snap.eta)}"
        self._write(text)

    def log(self, message: str) -> None:
        self._write(message)


class RichProgress(NullProgress):
    """A rich progress bar on stderr: tasks done/total, candidates, verified, rate, ETA."""

    def __init__(self) -> None:
        from rich.console import Console

        self._console = Console(stderr=True)
        self._progress = None
        self._task = None

    def start(self, title: str, total: int | None = None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.close()
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[found]} found, {task.fields[verified]} verified"),
            TextColumn("{task.fields[rate]:.1f} tasks/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self._console,
            transient=False,
        )
        self._progress.start()
        from rich.markup import escape

        self._task = self._progress.add_task(
            escape(title), total=total, found=0, verified=0, rate=0.0
        )

    def update(self, snap: ProgressSnapshot, force: bool = False) -> None:
        if self._progress is not None:
            self._progress.update(
                self._task,
                completed=snap.done + snap.skipped,
                found=snap.found,
                verified=snap.verified,
                rate=snap.rate,
            )

    def log(self, message: str) -> None:
        if self._progress is not None:
            self._progress.console.log(message, markup=False)
        else:
            self._console.log(message, markup=False)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _resolve_mode(mode: str, stream: TextIO | None = None) -> str:
    """``"rich"``, ``"plain"`` or ``"quiet"``: ``auto`` is rich when ``stream`` (default
    stderr) is a terminal, plain log lines otherwise."""
    if mode not in PROGRESS_MODES:
        from solvers.errors import DiscoveryError

        raise DiscoveryError(f"Unknown progress mode {mode!r}; use one of {PROGRESS_MODES}")
    if mode != "auto":
        return mode
    stream = stream if stream is not None else sys.stderr
    try:
        return "rich" if stream.isatty() else "plain"
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return "plain"


def make_progress(mode: str = "auto"):
    """A reporter: ``rich`` on a terminal (``auto``), ``plain`` log lines, or ``quiet``."""
    resolved = _resolve_mode(mode)
    if resolved == "quiet":
        return NullProgress()
    if resolved == "rich":
        return RichProgress()
    return PlainProgress()


# ---------------------------------------------------------------------------------------------
# Progress of one long command (verify, baseline, packing lp, ...)

#: Seconds before a command's progress appears at all (short runs stay silent).
COMMAND_PROGRESS_DELAY = 1.5
#: Plain mode: at most one progress line per this many seconds (stage changes excepted).
COMMAND_PROGRESS_EVERY = 10.0


def _count(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.3g}"


class CommandProgress:
    """Progress of one long command, on stderr: a rich spinner/bar on a terminal, plain lines
    otherwise, nothing when ``mode="quiet"``.

    It is also the ``progress`` callback the ``solvers`` functions accept; they call it as
    ``progress(stage, done=None, total=None, detail=None)``: ``stage`` names a step of the
    computation (a new stage starts when the text changes), ``done``/``total`` count the work
    of the stage when known (then a bar and an ETA are shown), ``detail`` says what is being
    done right now (shown on the bar and in periodic lines, never a line of its own).

    Nothing is shown during the first ``delay`` seconds. In plain mode each stage gives one
    line, and within a stage at most one line every ``every`` seconds (a line repeating the
    stage and the elapsed time even when the solver is silent, so a log shows the command is
    alive); the last line says how long the command took. The rich display disappears when
    the command ends (the result is printed after it).
    """

    def __init__(self, title: str, *, mode: str = "auto", stream: TextIO | None = None,
                 total: float | None = None, delay: float | None = None,
                 every: float | None = None):
        self.title = title
        self.stream = stream if stream is not None else sys.stderr
        self.mode = _resolve_mode(mode, self.stream)
        self.delay = COMMAND_PROGRESS_DELAY if delay is None else float(delay)
        self.every = COMMAND_PROGRESS_EVERY if every is None else float(every)
        self.stage_text = ""
        self.detail: str | None = None
        self.done: float | None = None
        self.total = total
        self._t0 = time.monotonic()
        self._stage_t0 = self._t0
        self._first: tuple[float, float] | None = None  # (time, done) of the stage's first count
        self._latest: tuple[float, float] | None = None  # (time, done) of its latest change
        self._last_line = float("-inf")
        self._shown = False
        self._closed = False
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._rich = None
        self._task = None

    # -- the callback protocol -------------------------------------------------------------
    def __call__(self, stage: str | None = None, done: float | None = None,
                 total: float | None = None, detail: str | None = None) -> None:
        if stage is not None and stage != self.stage_text:
            self.stage(stage, total=total, detail=detail, done=done)
        else:
            self.advance(done, total, detail=detail)

    def prefixed(self, prefix: str):
        """A callback that puts ``prefix`` before every stage it reports."""
        def callback(stage: str | None = None, done: float | None = None,
                     total: float | None = None, detail: str | None = None) -> None:
            self(f"{prefix}{stage}" if stage is not None else None, done, total, detail)

        return callback

    def nested(self, stage: str, done: float | None = None, total: float | None = None,
               prefix: str = ""):
        """Start ``stage`` (e.g. item ``done`` of ``total`` of a table) and return a callback
        for the solver doing that item: its stages and details become this stage's detail
        (after ``prefix``), and the counts stay those of the items."""
        self(stage, done, total, detail=prefix.rstrip(": ") or None)

        def callback(inner: str | None = None, done: float | None = None,
                     total: float | None = None, detail: str | None = None) -> None:
            parts = [p for p in (inner, detail) if p]
            if total and done is not None:
                parts.append(f"{_count(done)}/{_count(total)}")
            if parts:
                self.advance(detail=prefix + ": ".join(parts[:2]) + "".join(
                    f" ({p})" for p in parts[2:]))

        return callback

    def stage(self, text: str, *, total: float | None = None, detail: str | None = None,
              done: float | None = None) -> None:
        """Start a new stage (its counts start afresh; ``total`` when it is known)."""
        if self.mode == "quiet":
            return
        with self._lock:
            now = time.monotonic()
            self.stage_text, self.detail = str(text), detail
            self.done, self.total = done, total
            self._stage_t0 = now
            self._first = self._latest = (now, float(done)) if done is not None else None
            if self._shown:
                self._render(new_stage=True)
            else:
                self._maybe_show()

    def advance(self, done: float | None = None, total: float | None = None,
                detail: str | None = None) -> None:
        """Report ``done`` units of the current stage (out of ``total``, when given)."""
        if self.mode == "quiet":
            return
        with self._lock:
            now = time.monotonic()
            if total is not None:
                self.total = total
            if detail is not None:
                self.detail = detail
            if done is not None:
                if self._first is None:
                    self._first = (now, float(done))
                if done != self.done:
                    self._latest = (now, float(done))
                self.done = done
            if self._shown:
                self._render(new_stage=False)
            else:
                self._maybe_show()

    def log(self, message: str) -> None:
        """A message line (shown at once, whatever the delay; above the rich bar)."""
        if self.mode == "quiet":
            return
        with self._lock:
            if self._rich is not None:
                self._rich.console.print(message, markup=False, highlight=False)
            else:
                self._write(message)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> CommandProgress:
        """Start the timer thread (shows the display after ``delay``; plain heartbeats)."""
        if self.mode != "quiet" and self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="command-progress",
                                            daemon=True)
            self._thread.start()
        return self

    def close(self, failed: bool = False) -> None:
        """Stop the display; in plain mode, a last line with the time taken (if any shown)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._wake.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            if self._rich is not None:
                self._rich.stop()
                self._rich = None
            elif self._shown and self.mode == "plain":
                took = _duration(time.monotonic() - self._t0)
                self._write(f"{'stopped' if failed else 'done'} after {took}")

    def _watch(self) -> None:
        if self._wake.wait(max(self.delay - (time.monotonic() - self._t0), 0.0)):
            return
        with self._lock:
            if self._closed:
                return
            self._maybe_show()
        while not self._wake.wait(max(self.every / 2, 0.05)):
            with self._lock:
                if self._closed:
                    return
                if self.mode == "plain" and time.monotonic() - self._last_line >= self.every:
                    self._render(new_stage=False)

    # -- output ------------------------------------------------------------------------------
    def _maybe_show(self) -> None:
        if self._shown or self._closed or time.monotonic() - self._t0 < self.delay:
            return
        self._shown = True
        if self.mode == "rich":
            self._start_rich()
            self._render(new_stage=True)
            self._rich.start()  # drawn from the first frame with the current stage
        elif self.stage_text:
            self._render(new_stage=True)

    def _counts(self) -> str:
        """``"3/10 (30%), ETA 5s"`` for the current stage, ``""`` without counts."""
        if self.done is None:
            return ""
        if self.total:
            pct = 100.0 * self.done / self.total
            text = f"{_count(self.done)}/{_count(self.total)} ({pct:.0f}%)"
        else:
            text = _count(self.done)
        eta = self._eta()
        return text + (f", ETA {_duration(eta)}" if eta is not None else "")

    def _eta(self) -> float | None:
        """Seconds left in the stage, at the stage's mean rate so far (None if unknown)."""
        if not self.total or self._first is None or self._latest is None:
            return None
        (t1, d1), (t2, d2) = self._first, self._latest
        if t2 <= t1 or d2 <= d1:
            return None
        left = max(self.total - d2, 0) / ((d2 - d1) / (t2 - t1))
        return max(left - (time.monotonic() - t2), 0.0)

    def _render(self, new_stage: bool) -> None:
        if self._rich is not None:
            from rich.markup import escape

            desc = escape(self.stage_text + (f": {self.detail}" if self.detail else ""))
            self._rich.update(self._task, description=desc, counts=self._counts(),
                              total=self.total if self.done is not None else None,
                              completed=self.done or 0)
            return
        if self.mode != "plain" or not self.stage_text:
            return
        now = time.monotonic()
        if not new_stage and now - self._last_line < self.every:
            return
        info = ", ".join(p for p in (self._counts(), self.detail) if p)
        text = self.stage_text + (f": {info}" if info else "")
        if not new_stage:
            text += f" ({_duration(now - self._stage_t0)} in this stage)"
        self._write(text)

    def _write(self, text: str) -> None:
        elapsed = _duration(time.monotonic() - self._t0)
        self.stream.write(f"[{self.title} {elapsed}] {text}\n")
        self.stream.flush()
        self._last_line = time.monotonic()

    def _start_rich(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, TextColumn
        from rich.table import Column
        from rich.text import Text

        t0 = self._t0

        class Elapsed(ProgressColumn):  # since the command started, not since the display did
            def render(self, task) -> Text:
                return Text(_duration(time.monotonic() - t0), style="progress.elapsed")

        console = Console(file=self.stream, stderr=self.stream is sys.stderr)
        fixed = Column(no_wrap=True)
        self._rich = Progress(
            SpinnerColumn(),
            TextColumn(self.title, style="bold", markup=False, table_column=fixed),
            # the stage and detail take the room left and are cut short, never the rest
            TextColumn("{task.description}",
                       table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis")),
            BarColumn(bar_width=20),
            TextColumn("{task.fields[counts]}", markup=False, table_column=Column(no_wrap=True)),
            Elapsed(table_column=Column(no_wrap=True)),
            console=console,
            transient=True,
            expand=True,
            # never swap sys.stdout/sys.stderr (from this thread): stdout stays the result's
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task = self._rich.add_task("", total=None, counts="")


@contextmanager
def command_progress(title: str, *, enabled: bool = True, total: float | None = None,
                     mode: str = "auto", stream: TextIO | None = None,
                     delay: float | None = None,
                     every: float | None = None) -> Iterator[CommandProgress]:
    """Progress of a long command on stderr; ``enabled=False`` (``--json``) shows nothing.

    Yields a :class:`CommandProgress`: call ``stage(text)`` / ``advance(done, total)`` on it,
    or pass it as the ``progress`` callback of a ``solvers`` function. ``mode`` is decided as
    for :func:`make_progress` (``auto``: rich on a terminal, plain lines otherwise). Nothing is
    shown during the first ``delay`` seconds (default :data:`COMMAND_PROGRESS_DELAY`); plain
    lines come at most every ``every`` seconds (:data:`COMMAND_PROGRESS_EVERY`), plus one per
    stage.

    Examples
    --------
    >>> import io, re
    >>> out = io.StringIO()
    >>> with command_progress("demo", mode="plain", stream=out, delay=0) as progress:
    ...     progress.stage("planning")
    ...     progress("computing", done=1, total=4)
    >>> print(re.sub(r" \\d+s\\]", "]", out.getvalue().strip()))
    [demo] planning
    [demo] computing: 1/4 (25%)
    [demo] done after 0s
    >>> quiet = io.StringIO()
    >>> with command_progress("demo", enabled=False, stream=quiet, delay=0) as progress:
    ...     progress("computing", done=1, total=4)
    >>> quiet.getvalue()
    ''
    """
    reporter = CommandProgress(title, mode=mode if enabled else "quiet", stream=stream,
                               total=total, delay=delay, every=every)
    reporter.start()
    failed = True
    try:
        yield reporter
        failed = False
    finally:
        reporter.close(failed=failed)
