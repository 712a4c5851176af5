"""Resuming a run folder: refuse what would change the computation, restore the last checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ..errors import MedganZooError
from .checkpoint import CHECKPOINT, read_checkpoint, restore_checkpoint
from .config import RESUMABLE_CHANGES, RUN_CONFIG, TrainConfig


def check_resume(config: TrainConfig, out: Path, resume: bool) -> dict[str, Any] | None:
    """Without ``resume``, refuse a folder that holds a run; with it, refuse settings that differ
    from the run's own in a way that changes what it computes. Returns the run's train.json."""
    run_file = out / RUN_CONFIG
    checkpoint = out / "checkpoints" / CHECKPOINT
    if not resume:
        if checkpoint.exists():
            raise MedganZooError(f"{out} already holds a run (checkpoints/{CHECKPOINT}); "
                                 "pass --resume to continue it or choose another --out")
        return None
    if not checkpoint.exists() or not run_file.exists():
        raise MedganZooError(f"nothing to resume in {out}: no checkpoints/{CHECKPOINT}")
    before = TrainConfig.model_validate_json(run_file.read_text()).model_dump(mode="json")
    now = config.model_dump(mode="json")  # as recorded: a tuple given in Python reads back as a list
    changed = [k for k in TrainConfig.model_fields if k not in RESUMABLE_CHANGES and before[k] != now[k]]
    if changed:
        started = ", ".join(f"{k}={before[k]!r}" for k in changed)
        raise MedganZooError(f"cannot resume {out} with a different {', '.join(changed)} "
                             f"(the run was started with {started})")
    return json.loads(run_file.read_text())


def restore(out: Path, gan, rng: torch.Generator) -> tuple[int, float, list[int]]:
    """Networks, optimisers and the training RNG from the last checkpoint; returns its step, the
    training seconds before it (absent from 0.1.0 checkpoints: 0) and the steps resumed at so far."""
    checkpoint = out / "checkpoints" / CHECKPOINT
    tensors, meta = read_checkpoint(checkpoint)
    start = restore_checkpoint(tensors, meta, gan, rng, checkpoint)
    return start, float(meta.get("seconds", 0.0)), [*meta.get("resumed_from", []), start]
