"""Fixed-seed sample grids every ``sample_every`` steps and at the end (samples/step_NNNNNNN.png)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..callback import Callback, TrainControl, TrainState


class SampleGrids(Callback):
    """16 pairs from the same latents each time (rank 0 only), so grids show training progress."""

    order = -50

    def on_step(self, state: TrainState, control: TrainControl) -> None:
        if state.step % state.config.sample_every == 0 and state.main:
            write_grid(state, state.step)

    def on_end(self, state: TrainState, control: TrainControl) -> None:
        if state.main:
            write_grid(state, state.step)


def write_grid(state: TrainState, step: int) -> Path:
    from ...data.preview import save_grid
    from ...sampling import Samples, latents, sample_seeds

    gan, config, device = state.gan, state.config, state.device
    G = gan.sampling_generator()
    was_training = G.training
    G.eval()
    options: dict[str, Any] = {k: v.to(device) for k, v in state.grid_options.items()}
    count = len(next(iter(options.values()))) if options else 16
    if gan.takes_sample_seeds:
        options["seeds"] = sample_seeds(config.seed, 0, count)
    with torch.no_grad():
        z = latents(config.seed, 0, count, gan.latent_dim).to(device)
        from ...handover import calling, check_generated
        from ...registry import get_registry

        label = get_registry().gans[config.gan].label
        output = calling(label, "generate", gan.generate, z, generator=G, **options)
        check_generated(output, label, count, gan.output_channels, config.resolution)
        images, masks = gan.to_pairs(output)
    G.train(was_training)
    path = state.out / "samples" / f"step_{step:07d}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    classes = "classes" in state.grid_options
    save_grid(Samples(images.cpu(), masks.cpu(), config.seed).grid(16, 4), path,
              f"{config.gan}, step {step}: fixed-seed samples, each beside its mask"
              + (f"; classes {', '.join(state.dataset.group_names)} in turn" if classes else ""),
              state.dataset.label_map)
    return path
