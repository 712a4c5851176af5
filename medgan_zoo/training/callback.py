"""The training loop's events and the callback contract (docs/training.md).

The loop (:mod:`.engine`) trains one step at a time and fires events; everything else a run does
(checkpoints, divergence checks, sample grids, metrics, progress, signals, rank agreement) is a
callback. A callback implements any of ``on_start``, ``on_step``, ``on_checkpoint``, ``on_end``,
``on_failure`` and ``on_close``, each called as ``on_EVENT(state, control)``: it reads
:class:`TrainState` and asks for actions through :class:`TrainControl`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CallbackError

if TYPE_CHECKING:
    import torch

    from ..data.slices import SliceDataset
    from ..gans.base import GAN
    from ..model import GanModel
    from .config import TrainConfig

#: Every event, in the order a run can fire them: ``start`` once; ``step`` after every optimiser
#: step; ``checkpoint`` when one is due (after ``step``); then ``end`` (finished, or stopped on
#: request) or ``failure`` (an exception), and ``close`` always, last.
EVENTS: tuple[str, ...] = ("start", "step", "checkpoint", "end", "failure", "close")


class Callback:
    """Base class of a training callback: override the events you need (all are no-ops here).

    ``order`` places it among the others at every event (lower first; stable). The built-in ones
    run at negative orders, so a callback at the default 0 sees this step's metrics row and, at
    ``checkpoint`` and ``end``, the checkpoint file and exported model already written."""

    order: int = 0

    def on_start(self, state: TrainState, control: TrainControl) -> None:
        """Before the first step (of this process: after a resume, ``state.step`` is the step resumed at)."""

    def on_step(self, state: TrainState, control: TrainControl) -> None:
        """After every optimiser step; ``state.logs`` holds its losses."""

    def on_checkpoint(self, state: TrainState, control: TrainControl) -> None:
        """A checkpoint is due at ``state.step`` (on schedule, at the last step, or requested)."""

    def on_end(self, state: TrainState, control: TrainControl) -> None:
        """Training finished (or stopped by :meth:`TrainControl.request_stop` without an error)."""

    def on_failure(self, state: TrainState, control: TrainControl) -> None:
        """``state.error`` stopped training; a callback may replace it with a clearer error."""

    def on_close(self, state: TrainState, control: TrainControl) -> None:
        """Always last, after ``end`` or ``failure``: release what ``on_start`` took."""


@dataclass
class TrainControl:
    """What callbacks ask the loop to do after this step. The schedule sets ``log``, ``check`` and
    ``checkpoint`` before ``on_step``; a callback may set ``checkpoint`` (a checkpoint after this
    step, finite-checked first) or call :meth:`request_stop`. ``log`` and ``check`` are read by the
    built-in callbacks, which run before one at the default order."""

    log: bool = False
    check: bool = False
    checkpoint: bool = False
    stop: bool = False
    stop_error: BaseException | None = None

    def schedule(self, step: int, config: TrainConfig) -> None:
        """This step's due actions from the run's settings."""
        last = step == config.steps
        self.log = step % config.log_every == 0 or last
        self.checkpoint = step % config.checkpoint_every == 0 or last
        self.check = step % config.check_every == 0 or self.log or self.checkpoint

    def request_stop(self, error: BaseException | None = None) -> None:
        """Stop after this step, with a checkpoint. With ``error`` the run then raises it (an
        interrupted run); without, it ends normally and exports the model at this step."""
        self.stop = self.checkpoint = self.check = True
        if error is not None and self.stop_error is None:
            self.stop_error = error


@dataclass
class TrainState:
    """What the loop knows, for callbacks to read. ``logs`` are this step's losses as device tensors
    (reading one waits for the device: do it only when ``control.log``); ``metrics`` the last row
    of metrics.csv (after a resume, the last one kept); ``last_checkpoint`` the step of the newest
    checkpoint (0: none yet); ``length`` says where ``config.steps`` came from."""

    config: TrainConfig
    out: Path
    gan: GAN
    dataset: SliceDataset
    device: torch.device
    start_step: int = 0
    step: int = 0
    logs: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    last_checkpoint: int = 0
    rank: int = 0
    world: int = 1
    images: int = 0
    images_per_step: int = 0
    earlier_seconds: float = 0.0
    resumed_from: list[int] = field(default_factory=list)
    grid_options: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None
    began: float = field(default_factory=time.perf_counter)
    model: Callable[[], GanModel] | None = None
    length: str = ""  # how many steps the run trains and where that number comes from

    @property
    def main(self) -> bool:
        """This process writes the run folder (the only one, or rank 0)."""
        return self.rank == 0

    finished: float | None = None

    @property
    def seconds(self) -> float:
        """Training time of the whole run so far, resumed parts included (after the last step: up
        to it, so that ``end`` and the result report one number)."""
        if self.finished is not None:
            return self.finished
        return self.earlier_seconds + time.perf_counter() - self.began

    def where_checkpoint(self) -> str:
        """Where the last good checkpoint is, for error messages."""
        if not self.last_checkpoint:
            return "no checkpoint was written yet"
        return f"the checkpoint at step {self.last_checkpoint} in {self.out / 'checkpoints'} is intact"


def check_callbacks(callbacks: Sequence[object]) -> None:
    """Refuse an object that implements no event (a class passed instead of an instance, say)."""
    for callback in callbacks:
        if not any(callable(getattr(callback, f"on_{event}", None)) for event in EVENTS) or isinstance(callback, type):
            raise TypeError(f"{callback!r} is not a training callback: it has none of "
                            + ", ".join(f"on_{e}" for e in EVENTS) + " (pass an instance)")


def callback_name(callback: object) -> str:
    return getattr(callback, "label", None) or type(callback).__name__


class Callbacks:
    """The run's callbacks in order; :meth:`fire` calls one event on each of them.

    An exception from a callback in ``guarded`` (users' and plugins') stops training as a
    :class:`CallbackError` naming it; the built-in callbacks' own errors pass through as they are."""

    def __init__(self, builtin: Sequence[object], guarded: Sequence[object] = ()) -> None:
        check_callbacks(guarded)
        ordered = sorted([*builtin, *guarded], key=lambda c: getattr(c, "order", 0))
        self.guarded = {id(c) for c in guarded}
        self._handlers: dict[str, list[tuple[object, Callable[..., None]]]] = {
            event: [(c, getattr(c, f"on_{event}")) for c in ordered if callable(getattr(c, f"on_{event}", None))]
            for event in EVENTS
        }

    def fire(self, event: str, state: TrainState, control: TrainControl) -> None:
        for callback, handler in self._handlers[event]:
            try:
                handler(state, control)
            except CallbackError:
                raise
            except Exception as exc:
                if id(callback) not in self.guarded:
                    raise
                raise CallbackError(
                    f"callback {callback_name(callback)} raised in on_{event} at step {state.step}: "
                    f"{type(exc).__name__}: {exc}; training stopped, {state.where_checkpoint()} "
                    "(fix the callback and run the same command with --resume)") from exc

    def fire_all(self, event: str, state: TrainState, control: TrainControl) -> list[str]:
        """``failure`` and ``close``: every callback runs even if one raises; their errors are returned."""
        problems = []
        for callback, handler in self._handlers[event]:
            try:
                handler(state, control)
            except Exception as exc:  # noqa: BLE001 - the run's own error matters more
                problems.append(f"callback {callback_name(callback)} raised in on_{event}: {type(exc).__name__}: {exc}")
        return problems
