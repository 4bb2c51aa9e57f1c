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
import time
from dataclasses import dataclass
from typing import TextIO

__all__ = [
    "ProgressSnapshot",
    "NullProgress",
    "PlainProgress",
    "RichProgress",
    "make_progress",
    "PROGRESS_MODES",
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


def make_progress(mode: str = "auto"):
    """A reporter: ``rich`` on a terminal (``auto``), ``plain`` log lines, or ``quiet``."""
    if mode not in PROGRESS_MODES:
        from solvers.errors import DiscoveryError

        raise DiscoveryError(f"Unknown progress mode {mode!r}; use one of {PROGRESS_MODES}")
    if mode == "quiet":
        return NullProgress()
    if mode == "rich" or (mode == "auto" and sys.stderr.isatty()):
        return RichProgress()
    return PlainProgress()
