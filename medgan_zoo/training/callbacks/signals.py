"""Ctrl-C (and SIGTERM under torchrun) stop training cleanly, with a checkpoint to resume from."""

from __future__ import annotations

import signal
import threading
from typing import Any

from ..callback import Callback, TrainControl, TrainState
from ..errors import TrainingInterrupted


class StopOnSignal(Callback):
    """The first Ctrl-C lets the current step finish, then stops with a checkpoint; a second one
    interrupts at once. Under torchrun, SIGTERM (sent by torchrun's agent to the other ranks as soon
    as one dies, often before their next collective would tell them) stops at once."""

    order = -100

    def __init__(self) -> None:
        self.signals = _DeferredInterrupt()

    def on_start(self, state: TrainState, control: TrainControl) -> None:
        self.signals.terminate = state.world > 1
        self.signals.__enter__()

    def on_step(self, state: TrainState, control: TrainControl) -> None:
        if self.signals.requested:
            control.request_stop(self.interrupted(state))

    @staticmethod
    def interrupted(state: TrainState) -> TrainingInterrupted:
        return TrainingInterrupted(f"interrupted after step {state.step}; checkpoint at step {state.step} in "
                                   f"{state.out / 'checkpoints'}; continue with the same command plus --resume")

    def on_failure(self, state: TrainState, control: TrainControl) -> None:
        if not isinstance(state.error, KeyboardInterrupt):  # raised inside a step: a second Ctrl-C
            return
        if not state.last_checkpoint:
            state.error = TrainingInterrupted(f"interrupted during step {state.step}, before any checkpoint")
        else:
            state.error = TrainingInterrupted(
                f"interrupted during step {state.step}; checkpoint at step {state.last_checkpoint} in "
                f"{state.out / 'checkpoints'}; continue with the same command plus --resume")

    def on_end(self, state: TrainState, control: TrainControl) -> None:
        self.signals.__exit__(None, None, None)  # Ctrl-C during the final grid and export acts at once

    def on_close(self, state: TrainState, control: TrainControl) -> None:
        self.signals.__exit__(None, None, None)


class _DeferredInterrupt:
    """Within the block, the first Ctrl-C only sets ``requested`` so the current step can finish
    (its state stays consistent for a checkpoint); a second one interrupts at once.

    ``terminate``: SIGTERM raises :class:`Terminated` at once."""

    def __init__(self, terminate: bool = False) -> None:
        self.requested = False
        self.terminate = terminate
        self._previous: dict[int, Any] = {}

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    @staticmethod
    def _terminated(signum, frame) -> None:
        raise Terminated("SIGTERM: torchrun stops every rank when one fails or is stopped")

    def __enter__(self) -> _DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous[signal.SIGINT] = signal.signal(signal.SIGINT, self._handle)
            if self.terminate:
                self._previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._terminated)
        return self

    def __exit__(self, *exc) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()


class Terminated(Exception):
    """SIGTERM under torchrun (see :class:`_DeferredInterrupt`)."""
