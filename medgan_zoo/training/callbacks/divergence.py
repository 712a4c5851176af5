"""Stop when losses become NaN/inf or explode; checkpoints are written only after a passing check,
so the last one is always good."""

from __future__ import annotations

import torch

from ..callback import Callback, TrainControl, TrainState
from ..checkpoint import CHECKPOINT
from ..errors import DivergenceError


class DivergenceCheck(Callback):
    """Reads the losses back (a host sync) only when ``control.check`` is set."""

    order = -90

    def __init__(self) -> None:
        self.checked = 0

    def on_step(self, state: TrainState, control: TrainControl) -> None:
        if control.check:
            self.check(state)

    def on_checkpoint(self, state: TrainState, control: TrainControl) -> None:
        if self.checked != state.step:  # a checkpoint asked for after this step's checks
            self.check(state)

    def check(self, state: TrainState) -> None:
        self.checked = state.step
        logs = state.logs
        if not logs:
            return
        values = torch.stack([v.float().reshape(()) for v in logs.values()])
        healthy = bool(torch.isfinite(values).all()) and float(values.abs().max()) <= state.config.divergence_threshold
        if state.world > 1:
            from ..ranks import any_rank

            healthy = not any_rank(not healthy, state.device)  # one rank diverging stops every rank
        if healthy:
            return
        report = ", ".join(f"{k}={float(v):.4g}" for k, v in logs.items())
        where = (f"the last good checkpoint is step {state.last_checkpoint} in "
                 f"{state.out / 'checkpoints' / CHECKPOINT}" if state.last_checkpoint
                 else "no checkpoint was written yet")
        raise DivergenceError(f"training diverged at step {state.step} ({report}); {where}. Try a lower learning "
                              "rate, spectral normalisation on D, or another loss")
