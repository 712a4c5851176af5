"""How a training run stops early: each error says where the last good checkpoint is."""

from __future__ import annotations

from ..errors import MedganZooError


class DivergenceError(MedganZooError):
    """Losses became NaN/inf or exploded; the last good checkpoint is kept."""


class TrainingInterrupted(MedganZooError):
    """Ctrl-C during training; a checkpoint was written and the run can be resumed."""


class CallbackError(MedganZooError):
    """A user's or a plugin's callback raised; training stopped and the last checkpoint is intact."""
