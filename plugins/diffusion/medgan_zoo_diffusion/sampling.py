"""The denoising chain and loss shared by the diffusion models, on MONAI's schedulers."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from monai.networks.schedulers import DDIMScheduler, DDPMScheduler
from torch import Tensor

from medgan_zoo.sampling import sample_seed

from .config import DdpmConfig

#: Index mixed with a sample's own seed for its DDPM step noise (its initial noise z comes from the
#: seed itself, StyleGAN2's layer noise from index 1).
STEP_NOISE_STREAM = 2

#: The denoiser as the chain calls it: (x_t, timesteps) -> the network's prediction.
Denoiser = Callable[[Tensor, Tensor], Tensor]


def scheduler(config: DdpmConfig, kind: str = "ddpm") -> DDPMScheduler | DDIMScheduler:
    """MONAI's scheduler for the config's schedule and prediction (clipping x0 to [-1, 1])."""
    cls = DDIMScheduler if kind == "ddim" else DDPMScheduler
    return cls(num_train_timesteps=config.num_train_timesteps, schedule=config.schedule,
               prediction_type=config.prediction, clip_sample=True)


def sampling_plan(config: DdpmConfig, sampler: str | None, sampling_steps: int | None) -> tuple[str, int]:
    """The sampler and number of steps asked for (defaults: the config's), checked."""
    kind = sampler or config.sampler
    if kind not in ("ddpm", "ddim"):
        raise ValueError(f"sampler must be 'ddpm' or 'ddim', got {kind!r}")
    steps = config.sampling_steps if sampling_steps is None else sampling_steps
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= config.num_train_timesteps:
        raise ValueError(f"sampling_steps must be an integer from 1 to {config.num_train_timesteps}, got {steps!r}")
    return kind, steps


@torch.no_grad()
def denoise(config: DdpmConfig, net: Denoiser, x: Tensor, seeds: Tensor | None, sampler: str | None = None,
            sampling_steps: int | None = None) -> Tensor:
    """Run the chain from x_T = ``x`` with ``sampler`` ('ddpm' or 'ddim') over ``sampling_steps``
    steps; DDPM draws each sample's step noise from a generator seeded by its own seed."""
    kind, steps = sampling_plan(config, sampler, sampling_steps)
    full = kind == "ddpm" and steps == config.num_train_timesteps
    # DDPM over every timestep is MONAI's DDPMScheduler; strided DDPM is DDIM's step with eta 1
    # (the ancestral sampler of the strided chain): DDPMScheduler.step always goes from t to t - 1
    schedule = scheduler(config, "ddpm" if full else "ddim")
    schedule.set_timesteps(steps, device=x.device)
    if not full:  # from T - 1 down by MONAI's DDIM stride (its step goes to t - T // steps; set_timesteps'
        stride = config.num_train_timesteps // steps  # linspace does not), the last step to the predicted x0
        schedule.timesteps = torch.arange(config.num_train_timesteps - 1, -1, -stride, device=x.device)[:steps]
    noise = None
    if kind == "ddpm":
        if seeds is None:
            raise ValueError("DDPM sampling draws each sample's step noise from its seed: pass seeds")
        noise = [torch.Generator(device=x.device).manual_seed(sample_seed(int(s), STEP_NOISE_STREAM))
                 for s in seeds.tolist()]
    extra = {} if full else {"eta": 0.0 if noise is None else 1.0}
    timesteps = schedule.timesteps.tolist()  # Python ints: no host sync in MONAI's indexing
    for k, t in enumerate(timesteps):
        out = net(x, torch.full((len(x),), t, device=x.device, dtype=torch.long)).to(x.dtype)
        last = 1 if k == len(timesteps) - 1 and not full else 0  # the predicted x0, not x at t - stride
        if noise is None:
            x = schedule.step(out, t, x, **extra)[last]  # DDIM, eta 0: no noise
        else:  # MONAI draws a whole batch's noise from one generator: one call per sample instead
            x = torch.cat([schedule.step(out[i:i + 1], t, x[i:i + 1], generator=g, **extra)[last]
                           for i, g in enumerate(noise)])
    return x.clamp(-1, 1)


def denoising_loss(config: DdpmConfig, schedule: DDPMScheduler, net: Denoiser, x0: Tensor, noise: Tensor,
                   timesteps: Tensor) -> Tensor:
    """MSE between the network's prediction for x_t and its target (the noise, or v), as MONAI's
    tutorials compute it."""
    noisy = schedule.add_noise(original_samples=x0, noise=noise, timesteps=timesteps)
    prediction = net(noisy, timesteps)
    target = noise if config.prediction == "epsilon" else schedule.get_velocity(x0, noise, timesteps)
    return F.mse_loss(prediction.float(), target.float())


def adam(parameters, config: DdpmConfig, cuda: bool) -> torch.optim.Adam:
    return torch.optim.Adam(parameters, lr=config.lr, betas=config.betas, **({"fused": True} if cuda else {}))
