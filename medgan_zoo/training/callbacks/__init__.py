"""The built-in training callbacks, one concern each; :func:`builtin_callbacks` lists a run's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..callback import Callback
from ..config import TrainConfig
from .agreement import RankAgreement, WeightAgreement
from .checkpointing import CheckpointHook, Checkpointing
from .divergence import DivergenceCheck
from .grids import SampleGrids
from .metrics_log import MetricsCsv, TensorBoardLog
from .progress_bar import ProgressBar
from .signals import StopOnSignal


def builtin_callbacks(config: TrainConfig, rng: torch.Generator,
                      on_checkpoint: Callable[[int, Any], None] | None = None) -> list[Callback]:
    """What every run does, in order: signals, rank agreement, divergence check, weight agreement,
    metrics.csv (TensorBoard), progress, sample grids, checkpoints and export, and a search's hook."""
    callbacks: list[Callback] = [StopOnSignal(), RankAgreement(), DivergenceCheck(), WeightAgreement(), MetricsCsv()]
    if config.tensorboard:
        callbacks.append(TensorBoardLog())
    callbacks += [ProgressBar(), SampleGrids(), Checkpointing(rng)]
    if on_checkpoint is not None:
        callbacks.append(CheckpointHook(on_checkpoint))
    return callbacks


__all__ = ["CheckpointHook", "Checkpointing", "DivergenceCheck", "MetricsCsv", "ProgressBar", "RankAgreement",
           "SampleGrids", "StopOnSignal", "TensorBoardLog", "WeightAgreement", "builtin_callbacks"]
