"""Progress of long tasks, in a terminal and in a log file alike.

In a terminal: a rich bar with the count, the elapsed time and an estimate of the rest, redrawn by
time (not per call). Without one (a file, CI): plain lines, no escape codes, at most one every
``interval`` seconds plus the first and the last. ``update`` is cheap: callers can call it every
step without a host synchronisation; the estimate comes from the rate since the first call.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import IO, Any

PLAIN_INTERVAL = 15.0
# Where stages started inside a larger task write their lines (the task's log), and whether they
# show at all: a U-Net trained by a metric inside ``evaluate`` reports to evaluation.log.
_LOG: ContextVar[Path | None] = ContextVar("medgan_zoo_progress_log", default=None)
_SHOWN: ContextVar[bool] = ContextVar("medgan_zoo_progress_shown", default=True)


@contextlib.contextmanager
def stage_context(log: Path | None = None, shown: bool = True) -> Iterator[None]:
    """Inside: every :class:`Progress` and :func:`say` without a log of its own also writes to
    ``log``, and none shows when ``shown`` is False (a caller that asked for no progress)."""
    tokens = (_LOG.set(log if log is not None else _LOG.get()), _SHOWN.set(shown and _SHOWN.get()))
    try:
        yield
    finally:
        _LOG.reset(tokens[0])
        _SHOWN.reset(tokens[1])


def _duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def say(message: str, *, enabled: bool = True, stream: IO[str] | None = None, log: Path | None = None) -> None:
    """One line to stderr (and the log file) outside any bar: a warning before long work starts."""
    if not enabled or not _SHOWN.get():
        return
    print(message, file=stream if stream is not None else sys.stderr, flush=True)
    log = log if log is not None else _LOG.get()
    if log is not None:
        with log.open("a") as handle:
            handle.write(message + "\n")


class Progress:
    """``with Progress(total, "training") as p: p.update(done, info="loss_d=0.7")``."""

    def __init__(self, total: int, label: str, *, done: int = 0, enabled: bool = True,
                 stream: IO[str] | None = None, log: Path | None = None, interval: float = PLAIN_INTERVAL,
                 clock: Callable[[], float] = time.monotonic, terminal: bool | None = None):
        self.total, self.label, self.done, self.info = max(total, 1), label, done, ""
        self.enabled, self.interval, self.clock = enabled and _SHOWN.get(), interval, clock
        enabled = self.enabled
        self.stream = stream if stream is not None else sys.stderr
        self.log = log if log is not None else _LOG.get()
        self.first_done, self.started = done, clock()
        self._last_line = -float("inf")
        self._last_text = ""
        self._bar: Any = None
        interactive = terminal if terminal is not None else bool(getattr(self.stream, "isatty", lambda: False)())
        if enabled and interactive:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(TextColumn(f"[bold]{label}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("<"), TimeRemainingColumn(),
                                 TextColumn("{task.fields[info]}"), console=Console(file=self.stream),
                                 refresh_per_second=2)
            self._task = self._bar.add_task(label, total=self.total, completed=done, info="")
            self._bar.start()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def remaining(self) -> float | None:
        """Seconds left at the rate since the first call (None before any progress)."""
        moved = self.done - self.first_done
        if moved <= 0:
            return None
        return (self.clock() - self.started) / moved * (self.total - self.done)

    def line(self) -> str:
        """``label 120/2000 (6%) 0:01:12 elapsed, ~0:18:00 left  info``: fits 80 columns before info."""
        left = self.remaining()
        estimate = "estimating" if left is None else f"~{_duration(left)} left"
        text = (f"{self.label} {self.done}/{self.total} ({100 * self.done // self.total}%) "
                f"{_duration(self.clock() - self.started)} elapsed, {estimate}")
        return f"{text}  {self.info}" if self.info else text

    def update(self, done: int, info: str | None = None) -> None:
        self.done = min(done, self.total)
        if info is not None:
            self.info = info
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, info=self.info)
        now = self.clock()
        if self._bar is None and (now - self._last_line >= self.interval or self.done >= self.total):
            self._last_line = now
            self._write(self.line())
        elif self.log is not None and now - self._last_line >= self.interval:
            self._last_line = now
            self._append_log(self.line())

    def note(self, message: str) -> None:
        """A line of its own (a stage, a warning about the expected duration)."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.console.print(message, highlight=False, markup=False)
            self._append_log(message)
        else:
            self._write(message)

    def _write(self, text: str) -> None:
        self._last_text = text
        print(text, file=self.stream, flush=True)
        self._append_log(text)

    def _append_log(self, text: str) -> None:
        if self.log is not None:
            with self.log.open("a") as handle:
                handle.write(text + "\n")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            self._append_log(self.line())
        elif self.enabled and self.done < self.total and self.line() != self._last_text:
            self._write(self.line())
