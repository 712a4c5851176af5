"""The progress bar (terminal) and progress lines (train.log), with the run's expected length."""

from __future__ import annotations

import math

from ...progress import Progress
from ..callback import Callback, TrainControl, TrainState

TRAIN_LOG = "train.log"  # the progress lines, whatever the terminal shows
SLOW_STEP_SECONDS = 3.0


class ProgressBar(Callback):
    """A bar on a terminal, plain lines elsewhere, the same lines in train.log (rank 0 only). A
    first step of several seconds on the CPU says what the whole run will take."""

    order = -60

    def __init__(self) -> None:
        self.progress: Progress | None = None

    def on_start(self, state: TrainState, control: TrainControl) -> None:
        c = state.config
        self.progress = Progress(c.steps, "training", done=state.start_step, enabled=c.progress and state.main,
                                 log=state.out / TRAIN_LOG if state.main else None)
        if state.start_step:
            self.progress.note(f"resuming {state.out} at step {state.start_step} of {c.steps}")

    def on_step(self, state: TrainState, control: TrainControl) -> None:
        assert self.progress is not None
        self.progress.update(state.step)  # a Python counter: no host sync
        if state.step == state.start_step + 1 and state.device.type != "cuda":
            self._warn_if_slow(state)
        if control.log and state.metrics.get("step") == state.step:
            self.progress.update(state.step, info(state.metrics))

    def _warn_if_slow(self, state: TrainState) -> None:
        assert self.progress is not None
        first_step = state.seconds - state.earlier_seconds
        steps = state.config.steps - state.start_step
        if first_step >= SLOW_STEP_SECONDS:
            self.progress.note(f"the first step took {first_step:.0f} s on the CPU: {steps} steps would take about "
                               f"{first_step * steps / 3600:.1f} h; use a GPU, or a CPU-sized configuration "
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
