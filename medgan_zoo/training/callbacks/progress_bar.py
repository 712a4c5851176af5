"""The progress bar (terminal) and progress lines (train.log), with the run's expected length."""

from __future__ import annotations

import math

from ...progress import Progress
from ..callback import Callback, TrainControl, TrainState

TRAIN_LOG = "train.log"  # the progress lines, whatever the terminal shows
SLOW_RUN_SECONDS = 3600.0  # a CPU run estimated to take longer says so, with what to do instead
ESTIMATE_AFTER = 4  # steps measured (after the first, which warms up) before the estimate


class ProgressBar(Callback):
    """A bar on a terminal, plain lines elsewhere, the same lines in train.log (rank 0 only). On the
    CPU, a run the first few steps say will take over an hour says so, and what to do instead."""

    order = -60

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.warm: float | None = None  # the run's seconds after its first (warm-up) step

    def on_start(self, state: TrainState, control: TrainControl) -> None:
        c = state.config
        self.progress = Progress(c.steps, "training", done=state.start_step, enabled=c.progress and state.main,
                                 log=state.out / TRAIN_LOG if state.main else None)
        if state.length:
            self.progress.note(f"training {state.length}")
        if state.start_step:
            self.progress.note(f"resuming {state.out} at step {state.start_step} of {c.steps}")

    def on_step(self, state: TrainState, control: TrainControl) -> None:
        assert self.progress is not None
        self.progress.update(state.step)  # a Python counter: no host sync
        if state.device.type != "cuda":
            if state.step == state.start_step + 1:
                self.warm = state.seconds
            elif state.step == state.start_step + 1 + ESTIMATE_AFTER:
                self._warn_if_slow(state)
        if control.log and state.metrics.get("step") == state.step:
            self.progress.update(state.step, info(state.metrics))

    def _warn_if_slow(self, state: TrainState) -> None:
        assert self.progress is not None and self.warm is not None
        per_step = (state.seconds - self.warm) / ESTIMATE_AFTER
        left = per_step * (state.config.steps - state.step)
        if left >= SLOW_RUN_SECONDS:
            steps = state.config.steps - state.step
            self.progress.note(f"{per_step:.2g} s per step on the CPU: the {steps} steps left would take about "
                               f"{left / 3600:.1f} h; use a GPU, or a CPU-sized configuration "
                               "(`medgan-zoo train --help` shows some)")

    def on_end(self, state: TrainState, control: TrainControl) -> None:
        self.on_close(state, control)  # before the final grid and export, as the run's own time ends

    def on_close(self, state: TrainState, control: TrainControl) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress = None


def info(row: dict[str, float]) -> str:
    """``loss_d=0.69 loss_g=0.7 img/s=812``: a metrics row for the progress line."""
    shown = {k: v for k, v in row.items() if k not in ("step", "seconds")}
    return " ".join(f"{k.replace('images_per_second', 'img/s')}={v:.3g}" for k, v in shown.items() if math.isfinite(v))
