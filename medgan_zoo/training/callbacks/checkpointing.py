"""Checkpoints (written atomically, rank 0) and the exported model folder at the end; the
``on_checkpoint`` function a search scores runs with."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import torch

from ..callback import Callback, TrainControl, TrainState
from ..checkpoint import CHECKPOINT, save_checkpoint
from ..config import RUN_CONFIG


class Checkpointing(Callback):
    """train.json at the start; ``checkpoints/last.safetensors`` at every checkpoint (networks,
    optimisers, the training RNG, the step); the loadable model folder (config.json,
    model.safetensors, README.md, samples.png) at the end. The engine resumes from the checkpoint."""

    order = -40

    def __init__(self, rng: torch.Generator) -> None:
        self.rng = rng

    def on_start(self, state: TrainState, control: TrainControl) -> None:
        if state.main:
            (state.out / RUN_CONFIG).write_text(state.config.model_dump_json(indent=2))

    def on_checkpoint(self, state: TrainState, control: TrainControl) -> None:
        if state.main:
            save_checkpoint(state.out / "checkpoints" / CHECKPOINT, state.gan, state.step, self.rng,
                            {"train": json.loads(state.config.model_dump_json()), "seconds": state.seconds,
                             "resumed_from": state.resumed_from,
                             "gan_config": json.loads(state.gan.config.model_dump_json())})
        state.last_checkpoint = state.step

    def on_end(self, state: TrainState, control: TrainControl) -> None:
        if state.main:
            export(state)


def images_per_second(state: TrainState) -> float:
    """Every step's images over the whole run's time (without the earlier time of a 0.1.0
    checkpoint, the rate of this part)."""
    images = state.images_per_step * state.step if state.earlier_seconds else state.images
    return images / max(state.seconds, 1e-9)


def export(state: TrainState) -> None:
    from ...model import GanModel
    from ...model_info import info_for

    training: dict[str, Any] = {
        "steps": state.step, "batch_size": state.gan.config.batch_size, "seed": state.config.seed,
        "seconds": round(state.seconds, 1), "images_per_second": round(images_per_second(state), 1),
        "device": str(state.device), "train_config": shareable(json.loads(state.config.model_dump_json()))}
    if state.length:
        training["length"] = state.length
    if state.resumed_from:
        training["resumed_from"] = state.resumed_from
    values = state.dataset.info.get("label_values")
    if values is not None and list(values) != list(range(len(values))):
        training["label_values"] = list(values)  # the files' mask values behind labels 0..K-1
    info = info_for(state.config.gan, state.gan, state.dataset, training)
    GanModel(state.gan, info, state.device).save_pretrained(state.out, grid_options=state.grid_options)


def shareable(config: dict[str, Any]) -> dict[str, Any]:
    """The training settings without the machine's paths (a model folder is made to be shared):
    the data root and any path-like data-set field keep only their file or folder name."""
    from pathlib import PurePath

    def name(value: Any) -> Any:
        return PurePath(str(value)).name if value not in (None, "") else value

    out = dict(config)
    out["data_root"] = name(out.get("data_root"))
    dataset = dict(out.get("dataset_config") or {})
    for key in list(dataset):
        if key == "data_root" or key.endswith(("_csv", "_file", "_root", "_path")):
            dataset[key] = name(dataset[key])
    out["dataset_config"] = dataset
    return out


class CheckpointHook(Callback):
    """``on_checkpoint(step, model)`` after every checkpoint but the last: a search scores the run
    so far there, and an exception it raises (a pruned trial) stops the run as it is, checkpoint
    kept. The scoring cannot shift what training draws next, nor leave a network's mode changed."""

    order = -30

    def __init__(self, function: Callable[[int, Any], None]) -> None:
        self.function = function

    def on_checkpoint(self, state: TrainState, control: TrainControl) -> None:
        if state.step >= state.config.steps or control.stop or state.model is None:
            return
        gan = state.gan
        networks = [m for m in (gan.generator, gan.discriminator, gan.generator_ema) if m is not None]
        modes = [m.training for m in networks]
        cpu_rng = torch.random.get_rng_state()
        try:
            self.function(state.step, state.model())
        finally:
            torch.random.set_rng_state(cpu_rng)
            for m, mode in zip(networks, modes, strict=True):
                m.train(mode)
            gan.to(state.device)
